//! The `key-policy` link of the KMS actions S3 makes for the caller: the key
//! policy together with the key's grants (KMS Developer Guide, "Key
//! policies", "Grants in AWS KMS", "Allowing users in other accounts to use a
//! KMS key").

use crate::diagnosis::{Evidence, EvidenceRole, LinkId, LinkResult, LinkStatus};
use crate::policy::logic::{and, or};
use crate::policy::{Effect, PrincipalMatch, Statement, Tri};
use crate::snapshot::{Field, GrantInfo, PolicyDoc};

use super::super::keys::{Reference, ResolvedKey};
use super::super::{context, proposal};
use super::evaluation::{
    DIRECT, Docs, Judged, UNCAPPED, deny_finding, grants_as, near_misses, status_of, unread,
};
use super::identity::Exemptions;
use super::{ActionFacts, ResourceSide, result};

/// How to supply a key the snapshot does not describe.
pub(super) fn key_help(key: &ResolvedKey<'_>) -> String {
    format!(
        "read the key with credentials of account {} (`--profile`), or add it to the snapshot's `keys`",
        key.account
    )
}

/// Judges the key policy with the key's grants, and what they exempt the
/// principal's own policies from.
pub(super) fn judge(facts: &ActionFacts<'_, '_>, key: &ResolvedKey<'_>) -> ResourceSide {
    let request = facts.request();
    let key_help = if facts.words() {
        key_help(key)
    } else {
        String::new()
    };
    let key_policy_docs = match key.info {
        _ if key.reference == Reference::Unknown => Docs::Unknown(
            "the encryption that applies could not be read, so the key is not known".to_string(),
        ),
        None => Docs::Unknown(format!(
            "key `{}` is not in the snapshot; {key_help}",
            key.configured
        )),
        Some(info) => match &info.policy {
            Field::Unknown => {
                Docs::Unknown(unread("the key policy", &info.policy_error, &key_help))
            }
            Field::None => Docs::Known(Vec::new()),
            Field::Some(doc) => Docs::Known(vec![doc]),
        },
    };
    let key_policy = Judged::of(key_policy_docs, &request);
    let grants = super::grants::judge(facts, key.info);
    let grants_cover = grants.covers;
    let covering_grant = grants.covering;
    let cross = facts.cross_account();
    let same = if cross { Tri::No } else { Tri::Yes };
    // A grant to the principal itself allows the action by itself (KMS
    // Developer Guide, "Grants in AWS KMS"); a key policy naming the principal is enough only within the
    // key's account (KMS Developer Guide, "Allowing users in other accounts
    // to use a KMS key").
    let (session, session_open) = super::identity::session_exemption(same, &key_policy);
    let exemptions = Exemptions {
        identity: or(grants_cover, and(same, grants_as(&key_policy, &DIRECT))),
        boundary: and(same, grants_as(&key_policy, &UNCAPPED)),
        session,
        session_open,
    };
    let result = key_policy_link(
        facts,
        key,
        &key_policy,
        grants_cover,
        covering_grant,
        grants.open.as_deref(),
        &key_help,
    );
    let granted_by = match covering_grant {
        _ if !facts.words() => String::new(),
        Some(grant) => format!(
            "a grant{} on the key gives `{}` {} directly",
            grant
                .name
                .as_deref()
                .map(|name| format!(" `{name}`"))
                .unwrap_or_default(),
            facts.actor_arn(),
            facts.action
        ),
        None => format!(
            "the key policy names `{}` within the key's account",
            facts.actor_arn()
        ),
    };
    ResourceSide {
        link: Some(result),
        exemptions,
        granted_by,
    }
}

fn key_policy_link(
    facts: &ActionFacts<'_, '_>,
    key: &ResolvedKey<'_>,
    key_policy: &Judged,
    grants_cover: Tri,
    covering_grant: Option<&GrantInfo>,
    grants_open: Option<&str>,
    key_help: &str,
) -> LinkResult {
    let denies = key_policy.denies();
    let allows = or(key_policy.allows(), grants_cover);
    let status = status_of(denies, allows, Tri::Yes);
    if !facts.words() && status != LinkStatus::Unknown {
        return super::status_only(LinkId::KeyPolicy, status);
    }
    let region = context::kms_region(facts.setup, key);
    let action = facts.action;
    let who = facts.actor_arn().to_string();
    let mut evidence = Vec::new();
    let mut unknown_keys = Vec::new();
    let mut help = None;
    let mut fix = None;
    let reason = match status {
        LinkStatus::Fail if denies == Tri::Yes => {
            evidence.extend(key_policy.absent_variable_evidence());
            let denying = key_policy.applying(Effect::Deny);
            evidence.extend(denying.iter().map(|hit| key_policy.evidence_of(hit)));
            let policy = key
                .info
                .and_then(|info| info.policy.known())
                .map(|doc| &*doc.policy);
            let finding = denying.first().map(|hit| {
                deny_finding(
                    LinkId::KeyPolicy,
                    &key.account,
                    hit,
                    policy,
                    &facts.request(),
                )
            });
            let clause = match finding {
                Some(finding) => {
                    fix = Some(finding.fix);
                    help = finding.help;
                    finding.clause
                }
                None => String::new(),
            };
            format!("the key policy explicitly denies {action} to `{who}`{clause}")
        }
        LinkStatus::Fail if !facts.actor.is_iam() => {
            fix = Some(proposal::allow_outside_caller(
                LinkId::KeyPolicy,
                &key.account,
                facts.actor,
                action,
                "*",
                facts.setup.context_value("aws:SourceArn"),
                None,
            ));
            let near = near_misses(
                key.info.and_then(|info| info.policy.known()),
                &facts.request(),
            );
            evidence.extend(near.evidence);
            format!(
                "no statement of the key policy allows `{who}` to use {action}, and no grant on the key covers it; a caller of no customer account is allowed only by a statement or grant naming it{}",
                near.note
            )
        }
        LinkStatus::Fail => {
            let directory_bucket_arn = facts.setup.directory_bucket_arn();
            let scope = match facts.setup.bucket.is_directory() {
                true => proposal::Scope::ThroughDirectoryBucket {
                    bucket_arn: &directory_bucket_arn,
                },
                false => proposal::Scope::ThroughS3 {
                    region: region.as_deref().unwrap_or("REGION"),
                },
            };
            fix = Some(proposal::allow_in_resource_policy(
                LinkId::KeyPolicy,
                &key.account,
                &who,
                action,
                "*",
                scope,
            ));
            let grant_note = match key.info.map(|info| &info.grants) {
                Some(Field::Some(grants)) if !grants.is_empty() => {
                    ", and no grant on the key covers it (grantee, operation and encryption-context constraints)"
                }
                _ => ", and no grant on the key covers it",
            };
            let near = near_misses(
                key.info.and_then(|info| info.policy.known()),
                &facts.request(),
            );
            let note = near.note;
            evidence.extend(near.evidence);
            evidence.extend(key_policy.absent_variable_evidence());
            format!(
                "no statement of the key policy allows `{who}` or account {} to use {action}{grant_note}{note}",
                facts.actor.account
            )
        }
        LinkStatus::Pass => {
            if key_policy.allows() == Tri::Yes {
                evidence.extend(key_policy.allow_evidence());
                let by_account = key_policy
                    .allows_with(|hit| hit.principal_match == Some(PrincipalMatch::Account))
                    == Tri::Yes
                    && grants_as(key_policy, &DIRECT) != Tri::Yes;
                if by_account {
                    format!(
                        "the key policy allows account {} to use {action}, which delegates to its IAM policies",
                        facts.actor.account
                    )
                } else {
                    format!("the key policy allows `{who}` to use {action}")
                }
            } else {
                let name = covering_grant
                    .and_then(|grant| grant.name.clone().or_else(|| grant.grant_id.clone()))
                    .unwrap_or_else(|| "a grant".to_string());
                evidence.push(Evidence {
                    document: format!("grants of `{}`", key.resource),
                    doc: None,
                    statement: None,
                    sid: Some(name.clone()),
                    line: None,
                    role: EvidenceRole::Allows,
                    file_position: None,
                    note: None,
                });
                format!("grant `{name}` allows `{who}` to use {action}")
            }
        }
        LinkStatus::Unknown => {
            if grants_cover == Tri::Unknown
                && key_policy.unread.is_none()
                && key_policy.allows() == Tri::No
            {
                evidence.extend(key_policy.absent_variable_evidence());
                match grants_open {
                    Some(open) => {
                        help = Some(
                            "give the request's source with --context aws:SourceArn=ARN when the grant is limited to one, or judge again with --context aws:CurrentTime=T once the grant is older than the window"
                                .to_string(),
                        );
                        format!("the key policy does not allow it; {open}")
                    }
                    None => {
                        help = Some(key_help.to_string());
                        "the key policy does not allow it and the key's grants could not be read"
                            .to_string()
                    }
                }
            } else {
                let finding = key_policy.unknown_finding(
                    &format!("the key policy of `{}`", key.configured),
                    action,
                    key_help,
                );
                evidence = finding.evidence;
                unknown_keys = finding.unknown_keys;
                help = finding.help;
                finding.reason
            }
        }
    };
    if status == LinkStatus::Pass {
        evidence.extend(key_policy.absent_variable_evidence());
    }
    let mut reason = reason;
    if status != LinkStatus::Pass
        && let Some((note, advice, statements)) =
            vpc_note(key.info.and_then(|info| info.policy.known()))
    {
        reason.push_str(&note);
        let fresh: Vec<Evidence> = statements
            .into_iter()
            .filter(|new| !evidence.iter().any(|seen| seen.statement == new.statement))
            .collect();
        evidence.extend(fresh);
        help = Some(match help {
            Some(help) => format!("{advice}; {help}"),
            None => advice,
        });
    }
    LinkResult {
        evidence,
        fix: fix.map(Box::new),
        unknown_keys,
        help,
        ..result(LinkId::KeyPolicy, status, reason)
    }
}

/// Why a key policy that tests the VPC keys breaks SSE-KMS through S3: the
/// KMS request S3 makes for the caller is a forward access session, which
/// carries none of them (IAM User Guide, "Forward access sessions"; KMS
/// Developer Guide, "Using VPC endpoint conditions in policies with AWS KMS
/// permissions"). `None` when no statement tests them.
fn vpc_note(doc: Option<&PolicyDoc>) -> Option<(String, String, Vec<Evidence>)> {
    let doc = doc?;
    let policy = &*doc.policy;
    let statements: Vec<&Statement> = policy
        .statements()
        .iter()
        .filter(|statement| statement.condition_names_any(&context::VPC_KEYS))
        .collect();
    let first = statements.first()?;
    let sid = first
        .sid()
        .map(|sid| format!(" (`{sid}`)"))
        .unwrap_or_default();
    let note = format!(
        "; statement {}{sid} tests aws:SourceVpc, aws:SourceVpce or aws:VpcSourceIp, which the KMS request S3 makes for the caller never carries (a forward access session keeps the caller's identity and source IP, not its VPC endpoint), so a key policy that requires a VPC endpoint breaks SSE-KMS through S3",
        first.index()
    );
    let advice = "exempt the calls AWS services make for the caller, as the KMS Developer Guide's \"Using VPC endpoint conditions in policies\" shows: allow them with `\"Bool\": {\"aws:ViaAWSService\": \"true\"}` (or `kms:ViaService`), and add `\"BoolIfExists\": {\"aws:ViaAWSService\": \"false\"}` to a deny on the VPC keys".to_string();
    let evidence = statements
        .iter()
        .map(|statement| Evidence {
            document: policy.label().to_string(),
            doc: doc.shared_id(),
            statement: Some(statement.index()),
            sid: statement.sid().map(str::to_string),
            line: statement.line(),
            role: EvidenceRole::Context,
            file_position: None,
            note: None,
        })
        .collect();
    Some((note, advice, evidence))
}
