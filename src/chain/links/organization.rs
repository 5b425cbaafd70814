//! The `scp` and `rcp` links: the organization's policies at every level
//! from the root to the account (AWS Organizations User Guide, "SCP
//! evaluation", "RCP evaluation"). SCPs are judged in the caller's account,
//! RCPs in the resource's account; every level must allow.

use crate::diagnosis::{LinkId, LinkResult, LinkStatus};
use crate::policy::{Decision, Evaluation, Policy, StatementHit, Tri};
use crate::snapshot::{Field, NamedPolicy, OrgLevel};

use super::super::keys::ResolvedKey;
use super::super::{assume, principal, proposal};
use super::evaluation::{
    absent_variable_evidence, context_help, evidence_of, explain_deny, undecided_conditions,
    unknown_keys_of,
};
use super::{ActionFacts, fail, pass, unknown};

/// The account whose organization policies apply, and their kind's name.
fn account_of<'f>(facts: &'f ActionFacts<'_, '_>, link: LinkId) -> (&'f str, &'static str) {
    match link {
        LinkId::Scp => (facts.actor.account.as_str(), "SCP"),
        _ => (facts.resource_account.as_str(), "RCP"),
    }
}

/// Whether AWS consults the SCPs (or RCPs) for this request at all.
pub(super) fn applies(
    facts: &ActionFacts<'_, '_>,
    link: LinkId,
    key: Option<&ResolvedKey<'_>>,
) -> bool {
    let (account, _) = account_of(facts, link);
    if link == LinkId::Scp && principal::is_service_linked_role(facts.actor_arn()) {
        return false;
    }
    if link == LinkId::Rcp && key.is_some_and(ResolvedKey::is_aws_managed) {
        // KMS Developer Guide, "Resource control policies in AWS KMS": RCPs
        // do not apply to AWS managed keys.
        return false;
    }
    let Some(info) = facts.setup.snapshot.accounts.get(account) else {
        // Not known: judged, and unknown.
        return true;
    };
    if let Field::Some(management) = &info.management_account
        && management == account
    {
        // SCPs and RCPs do not apply to the management account.
        return false;
    }
    let levels = match link {
        LinkId::Scp => &info.scps,
        _ => &info.rcps,
    };
    // None: the account is in no organization (or none of this kind apply).
    !matches!(levels, Field::None)
}

/// Judges the link; `None` when [`applies`] says AWS does not consult it.
pub(super) fn link(facts: &ActionFacts<'_, '_>, link: LinkId) -> Option<LinkResult> {
    let (account, kind) = account_of(facts, link);
    let (field, assume_value) = match link {
        LinkId::Scp => ("scps", "scp=allow"),
        _ => ("rcps", "rcp=allow"),
    };
    let help = || {
        format!(
            "read them with --org-profile P, a profile of the organization's management account or of a delegated administrator for AWS Organizations; or add `accounts.{account}.{field}` to the snapshot; or, knowing they allow, pass --assume {assume_value}"
        )
    };
    // Only a document that was not read can be assumed (never one that was
    // read, nor one that hangs on a context key).
    let unread = |reason: String, help: String| {
        assume::stand_in(&facts.setup.snapshot.assumptions, link, account, &reason)
            .unwrap_or_else(|| unknown(link, reason, Some(help)))
    };
    let Some(info) = facts.setup.snapshot.accounts.get(account) else {
        return Some(unread(
            format!("the {kind}s of account {account} are not known"),
            help(),
        ));
    };
    let (levels, error) = match link {
        LinkId::Scp => (&info.scps, &info.scps_error),
        _ => (&info.rcps, &info.rcps_error),
    };
    let levels = match levels {
        Field::None => return None,
        Field::Unknown => {
            let reason = match error {
                Some(error) => {
                    format!("the {kind}s of account {account} could not be read: {error}")
                }
                None => format!("the {kind}s of account {account} are not known"),
            };
            return Some(unread(reason, help()));
        }
        Field::Some(levels) => levels,
    };
    let request = facts.request();
    let mut evidence = Vec::new();
    let mut unknown_keys = Vec::new();
    let mut failing: Option<(String, Option<&NamedPolicy>)> = None;
    let mut any_unknown = false;
    let mut deny_advice = None;
    let mut undecided: Vec<String> = Vec::new();
    for (level, policies) in levels.iter().enumerate() {
        let evaluation = Evaluation::of(
            policies.iter().map(|named| &*named.document.policy),
            &request,
        );
        let ids: Vec<_> = policies
            .iter()
            .map(|named| named.document.shared_id())
            .collect();
        let evidence_of = |hit: &StatementHit| evidence_of(hit, &ids);
        match evaluation.decide() {
            Decision::ExplicitDeny => {
                let hit = evaluation.denies().find(|hit| hit.applies == Tri::Yes);
                evidence.extend(hit.map(evidence_of));
                let named = hit.and_then(|hit| policies.get(hit.document as usize));
                let explanation = hit.and_then(|hit| {
                    explain_deny(named.map(|named| &*named.document.policy), hit, &request)
                });
                if failing.is_none() {
                    deny_advice = explanation
                        .as_ref()
                        .map(|explanation| explanation.advice.clone());
                }
                failing.get_or_insert((
                    format!(
                        "{} explicitly denies {} at level {} of account {account}'s organization{}",
                        hit.map(|hit| hit.label.clone()).unwrap_or_default(),
                        facts.action,
                        OrgLevel::of(level, levels.len()).short_name(),
                        explanation
                            .map(|explanation| explanation.clause)
                            .unwrap_or_default()
                    ),
                    named,
                ));
            }
            Decision::ImplicitDeny => {
                let names: Vec<&str> = policies.iter().map(|named| named.name.as_str()).collect();
                failing.get_or_insert((
                    format!(
                        "no {kind} at level {} of account {account}'s organization allows {} (attached: {})",
                        OrgLevel::of(level, levels.len()).short_name(),
                        facts.action,
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                    None,
                ));
            }
            Decision::Unknown => {
                any_unknown = true;
                let documents: Vec<&Policy> = policies
                    .iter()
                    .map(|named| &*named.document.policy)
                    .collect();
                undecided.extend(undecided_conditions(&documents, &evaluation, &request));
                unknown_keys.extend(unknown_keys_of(evaluation.hits.iter()));
                evidence.extend(
                    evaluation
                        .hits
                        .iter()
                        .filter(|hit| hit.applies == Tri::Unknown)
                        .map(evidence_of),
                );
            }
            Decision::Allow if !facts.words() => {}
            Decision::Allow => {
                evidence.extend(
                    evaluation
                        .allows()
                        .filter(|hit| hit.applies == Tri::Yes)
                        .take(1)
                        .map(evidence_of),
                );
            }
        }
        if facts.words() {
            evidence.extend(absent_variable_evidence(&evaluation.hits, &ids));
        }
    }
    let management = info.management_account.known().cloned();
    if let Some((reason, named)) = failing {
        if !facts.words() {
            // The evidence stays: which statements deny is part of the
            // decision read through an access point.
            return Some(LinkResult {
                evidence,
                ..super::status_only(link, LinkStatus::Fail)
            });
        }
        let fix = proposal::organization(link, account, management.as_deref(), facts.action, named);
        return Some(LinkResult {
            evidence,
            help: deny_advice,
            ..fail(link, reason, Some(fix))
        });
    }
    if any_unknown {
        let keys = unknown_keys.join(", ");
        let conditions = if undecided.is_empty() {
            String::new()
        } else {
            format!(" ({})", undecided.join("; "))
        };
        let reason = format!(
            "whether the {kind}s of account {account} allow {} hangs on {keys}{conditions}",
            facts.action
        );
        return Some(LinkResult {
            evidence,
            unknown_keys: unknown_keys.clone(),
            ..unknown(link, reason, Some(context_help(&unknown_keys)))
        });
    }
    if !facts.words() {
        return Some(super::status_only(link, LinkStatus::Pass));
    }
    let reason = format!(
        "every level of account {account}'s organization allows {}",
        facts.action
    );
    Some(LinkResult {
        evidence,
        ..pass(link, reason)
    })
}
