//! The key's grants, as the `key-policy` link reads them: whether a grant
//! lets the caller itself perform the KMS action with this request's
//! encryption context (KMS Developer Guide, "Grants in AWS KMS", "Grant
//! constraints"), including grants to AWS service principals, and whether
//! a grant is too new to count on.

use chrono::{DateTime, Duration, Utc};

use crate::policy::Tri;
use crate::policy::context::ContextValue;
use crate::policy::logic::and;
use crate::snapshot::{Field, GrantInfo, KeyInfo};

use super::ActionFacts;

/// KMS API Reference, "CreateGrant": "there might be a brief delay, usually
/// less than five minutes, until the grant is available throughout KMS"
/// (eventual consistency). Only a grant token makes a newer grant usable at
/// once, and S3 never sends one for the caller.
const CONSISTENCY_WINDOW_MINUTES: i64 = 5;

/// What the grants say about the action.
pub(super) struct GrantsJudged<'s> {
    /// A grant covers the action: yes, no, or it hangs on something unknown.
    pub covers: Tri,
    /// The grant that covers it, when one does for certain.
    pub covering: Option<&'s GrantInfo>,
    /// Why the grants leave it open, when they do for a reason other than
    /// the grants not having been read.
    pub open: Option<String>,
}

/// KMS operation names for an action (`kms:Decrypt` → `Decrypt`).
fn grant_operation(action: &str) -> &str {
    action.strip_prefix("kms:").unwrap_or(action)
}

pub(super) fn judge<'s>(
    facts: &ActionFacts<'_, '_>,
    info: Option<&'s KeyInfo>,
) -> GrantsJudged<'s> {
    let grants = match info.map(|info| &info.grants) {
        None | Some(Field::Unknown) => {
            return GrantsJudged {
                covers: Tri::Unknown,
                covering: None,
                open: None,
            };
        }
        Some(Field::None) => &[][..],
        Some(Field::Some(grants)) => grants.as_slice(),
    };
    let mut open = None;
    let mut covers = Tri::No;
    for grant in grants {
        match covers_one(grant, facts) {
            Tri::Yes => match too_new(grant, request_time(facts)) {
                Some(age) => {
                    covers = Tri::Unknown;
                    open.get_or_insert(format!(
                        "grant `{}` covers it but was created {age} before the request, within KMS's eventual-consistency window (usually less than {CONSISTENCY_WINDOW_MINUTES} minutes, KMS API Reference, \"CreateGrant\"); only a grant token makes a new grant usable at once, and S3 sends none",
                        name_of(grant)
                    ));
                }
                None => {
                    return GrantsJudged {
                        covers: Tri::Yes,
                        covering: Some(grant),
                        open: None,
                    };
                }
            },
            Tri::Unknown => {
                covers = Tri::Unknown;
                open.get_or_insert(format!(
                    "grant `{}` covers it only if the request's aws:SourceArn or encryption context matches its constraints, which is not known",
                    name_of(grant)
                ));
            }
            Tri::No => {}
        }
    }
    GrantsJudged {
        covers,
        covering: None,
        open,
    }
}

fn name_of(grant: &GrantInfo) -> String {
    grant
        .name
        .clone()
        .or_else(|| grant.grant_id.clone())
        .unwrap_or_else(|| "(unnamed)".to_string())
}

/// The request's time: `aws:CurrentTime` as `--context` gives it, else
/// the time the request is judged at.
fn request_time(facts: &ActionFacts<'_, '_>) -> DateTime<Utc> {
    facts
        .setup
        .context_value("aws:CurrentTime")
        .and_then(|time| DateTime::parse_from_rfc3339(time).ok())
        .map_or(facts.setup.request.now, |time| time.with_timezone(&Utc))
}

/// How long before the request a grant was created, when that is within
/// the consistency window.
fn too_new(grant: &GrantInfo, now: DateTime<Utc>) -> Option<String> {
    let created = DateTime::parse_from_rfc3339(grant.created_at.as_deref()?).ok()?;
    let age = now.signed_duration_since(created.with_timezone(&Utc));
    (age < Duration::minutes(CONSISTENCY_WINDOW_MINUTES)).then(|| {
        if age < Duration::zero() {
            "after".to_string()
        } else {
            format!("{} seconds", age.num_seconds())
        }
    })
}

/// Whether one grant lets the caller itself perform the action with this
/// request's encryption context and source.
fn covers_one(grant: &GrantInfo, facts: &ActionFacts<'_, '_>) -> Tri {
    let grantee_is_actor = match &grant.grantee_service_principal {
        Some(service) => facts
            .caller
            .service
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(service)),
        None => {
            !grant.grantee.is_empty()
                && (grant.grantee == facts.caller.principal_arn
                    || facts.caller.session_arn.as_deref() == Some(grant.grantee.as_str()))
        }
    };
    let operation = grant_operation(facts.action);
    if !grantee_is_actor || !grant.operations.iter().any(|op| op == operation) {
        return Tri::No;
    }
    let Some(constraints) = &grant.constraints else {
        return Tri::Yes;
    };
    let context = facts.context.get();
    let pair = |key: &str, value: &str| match context.get(&format!("kms:EncryptionContext:{key}")) {
        ContextValue::Present(values) => tri(values.iter().any(|own| own == value)),
        ContextValue::Absent => Tri::No,
        ContextValue::Unknown => Tri::Unknown,
    };
    let mut met = Tri::Yes;
    if let Some(subset) = &constraints.encryption_context_subset {
        for (key, value) in subset {
            met = and(met, pair(key, value));
        }
    }
    if let Some(equals) = &constraints.encryption_context_equals {
        for (key, value) in equals {
            met = and(met, pair(key, value));
        }
        let same_keys = match context.get("kms:EncryptionContextKeys") {
            ContextValue::Present(keys) => {
                tri(keys.len() == equals.len() && keys.iter().all(|key| equals.contains_key(key)))
            }
            ContextValue::Absent => tri(equals.is_empty()),
            ContextValue::Unknown => Tri::Unknown,
        };
        met = and(met, same_keys);
    }
    if let Some(source_arn) = &constraints.source_arn {
        met = and(
            met,
            match context.get("aws:SourceArn") {
                ContextValue::Present(values) => tri(values.iter().any(|own| own == source_arn)),
                ContextValue::Absent => Tri::No,
                ContextValue::Unknown => Tri::Unknown,
            },
        );
    }
    met
}

fn tri(value: bool) -> Tri {
    if value { Tri::Yes } else { Tri::No }
}
