//! The resource side of S3 and STS actions: the `bucket-policy` and
//! `trust-policy` links, and whether AWS needs an allow from them (IAM User
//! Guide, "Cross-account policy evaluation logic"; S3 User Guide, "Bucket
//! policies").

use crate::diagnosis::{LinkId, LinkResult, LinkStatus};
use crate::policy::logic::{and, not};
use crate::policy::{Effect, Tri};
use crate::snapshot::{Field, PolicyDoc};

use super::super::{Target, proposal};
use super::evaluation::{
    DIRECT, Docs, Judged, UNCAPPED, deny_finding, grants_as, near_misses, status_of, unread,
};
use super::identity::{Exemptions, GuardRails};
use super::{ActionFacts, ResourceSide};

/// Judges the bucket policy (or the trust policy for `sts:AssumeRole`) and
/// what its grant exempts the principal's own policies from.
pub(super) fn judge(
    facts: &ActionFacts<'_, '_>,
    target: &Target,
    rails: &GuardRails,
) -> ResourceSide {
    let setup = facts.setup;
    let request = facts.resource_side_request();
    let (link, owner_help, docs) = match target {
        Target::Role => {
            let role_info = setup.role.as_ref().and_then(|role| setup.info_of(role));
            let help = if facts.words() {
                format!(
                    "read the role with credentials of account {} (`--profile`), or add its `trust_policy` to the snapshot",
                    facts.resource_account
                )
            } else {
                String::new()
            };
            let docs = match role_info.map(|info| (&info.trust_policy, &info.trust_policy_error)) {
                None => Docs::Unknown(format!(
                    "the role `{}` is not in the snapshot; {help}",
                    facts.resource
                )),
                Some((Field::Unknown, error)) => {
                    Docs::Unknown(unread("the trust policy", error, &help))
                }
                Some((Field::None, _)) => Docs::Known(Vec::new()),
                Some((Field::Some(doc), _)) => Docs::Known(vec![doc]),
            };
            (LinkId::TrustPolicy, help, docs)
        }
        _ => {
            let bucket = setup.bucket;
            let help = if facts.words() {
                format!(
                    "read the bucket policy with credentials of account {} (`--profile`), or add `policy` to the snapshot's bucket",
                    bucket.account
                )
            } else {
                String::new()
            };
            let docs = match &bucket.policy {
                Field::Unknown => {
                    Docs::Unknown(unread("the bucket policy", &bucket.policy_error, &help))
                }
                Field::None => Docs::Known(Vec::new()),
                Field::Some(doc) => Docs::Known(vec![doc]),
            };
            (LinkId::BucketPolicy, help, docs)
        }
    };
    let resource_policy = Judged::of(docs, &request);
    let cross = facts.cross_account();
    let same = if cross { Tri::No } else { Tri::Yes };
    let (session, session_open) = super::identity::session_exemption(same, &resource_policy);
    let exemptions = Exemptions {
        identity: and(same, grants_as(&resource_policy, &DIRECT)),
        boundary: and(same, grants_as(&resource_policy, &UNCAPPED)),
        session,
        session_open,
    };
    let identity_allows = if rails.is_root {
        Tri::Yes
    } else {
        rails.identity.allows()
    };
    // A trust policy is always needed to assume a role; a bucket policy is
    // needed across accounts, or within the account when no identity policy
    // allows.
    let needed = match link {
        LinkId::TrustPolicy => Tri::Yes,
        _ if cross => Tri::Yes,
        _ => not(identity_allows),
    };
    let result = resource_link(
        facts,
        link,
        &resource_policy,
        needed,
        &facts.resource_account,
        &owner_help,
    );
    let granted_by = if facts.words() {
        format!(
            "the {} names `{}` itself within its account",
            link.title(),
            facts.actor_arn()
        )
    } else {
        String::new()
    };
    ResourceSide {
        link: Some(result),
        exemptions,
        granted_by,
    }
}

fn resource_link(
    facts: &ActionFacts<'_, '_>,
    link: LinkId,
    judged: &Judged,
    needed: Tri,
    owner: &str,
    owner_help: &str,
) -> LinkResult {
    let denies = judged.denies();
    let allows = judged.allows();
    let status = status_of(denies, allows, needed);
    if !facts.words() && status != LinkStatus::Unknown {
        return super::status_only(link, status);
    }
    let action = facts.action;
    let who = facts.actor_arn();
    let what = link.title();
    let mut evidence = Vec::new();
    let mut fix = None;
    let mut help = None;
    let reason = match status {
        LinkStatus::Fail if denies == Tri::Yes => {
            let denying = judged.applying(Effect::Deny);
            evidence.extend(denying.iter().map(|hit| judged.evidence_of(hit)));
            let policy = resource_policy_of(facts, link).map(|doc| &*doc.policy);
            let sid = denying
                .first()
                .and_then(|hit| hit.sid.as_deref())
                .map(|sid| format!(" (statement `{sid}`)"))
                .unwrap_or_default();
            let finding = denying
                .first()
                .map(|hit| deny_finding(link, owner, hit, policy, &facts.resource_side_request()));
            let clause = match finding {
                Some(finding) => {
                    fix = Some(finding.fix);
                    help = finding.help;
                    finding.clause
                }
                None => String::new(),
            };
            format!("the {what} explicitly denies {action} to `{who}`{sid}{clause}")
        }
        LinkStatus::Fail if !facts.actor.is_iam() => {
            fix = Some(proposal::allow_outside_caller(
                link,
                owner,
                facts.actor,
                action,
                &facts.resource,
                facts.setup.context_value("aws:SourceArn"),
                super::super::context::delivery_acl(facts.actor),
            ));
            let near = near_misses(resource_policy_of(facts, link), &facts.request());
            evidence.extend(near.evidence);
            format!(
                "no statement of the {what} allows {action} to `{who}`, which has no identity policy of its own: only the {what} can allow it{}",
                near.note
            )
        }
        LinkStatus::Fail => {
            // A trust policy that names the caller but expects an external id
            // is met by passing it, never by a statement without the guard.
            let external_id = (link == LinkId::TrustPolicy)
                .then(|| {
                    super::evaluation::expected_external_id(
                        resource_policy_of(facts, link),
                        &facts.resource_side_request(),
                    )
                })
                .flatten();
            fix = Some(match external_id {
                Some(id) => proposal::request(
                    link,
                    owner,
                    &format!("pass the external id the trust policy expects, `{id}`"),
                    vec!["--external-id".to_string(), id],
                ),
                None => proposal::allow_in_resource_policy(
                    link,
                    owner,
                    who,
                    action,
                    &facts.resource_side,
                    if link == LinkId::TrustPolicy {
                        proposal::Scope::AssumeRole {
                            external_id: facts.setup.request.external_id.as_deref(),
                        }
                    } else {
                        proposal::Scope::None
                    },
                ),
            });
            // Failing without a deny means no allow applied at all (an allow
            // that may apply would have made the link unknown).
            let near = near_misses(
                resource_policy_of(facts, link),
                &facts.resource_side_request(),
            );
            let note = near.note;
            evidence.extend(near.evidence);
            let reason = if link == LinkId::TrustPolicy {
                format!(
                    "no statement of the trust policy lets `{who}` assume the role (with the request's conditions, such as sts:ExternalId)"
                )
            } else if facts.cross_account() {
                format!(
                    "no statement of the {what} allows {action} to `{who}` or its account {}, which a cross-account request needs",
                    facts.actor.account
                )
            } else {
                format!(
                    "no statement of the {what} allows {action} to `{who}`, and no identity policy allows it either"
                )
            };
            format!("{reason}{note}")
        }
        LinkStatus::Pass if allows == Tri::Yes => {
            evidence.extend(judged.allow_evidence());
            format!("the {what} allows {action} to `{who}`")
        }
        LinkStatus::Pass => {
            format!(
                "not needed within account {owner}: the identity policy allows {action} and the {what} denies nothing"
            )
        }
        LinkStatus::Unknown => {
            return judged
                .unknown_finding(&format!("the {what}"), action, owner_help)
                .into_link(link);
        }
    };
    judged.decided(link, status, reason, evidence, fix, help)
}

fn resource_policy_of<'s>(facts: &ActionFacts<'_, 's>, link: LinkId) -> Option<&'s PolicyDoc> {
    let setup = facts.setup;
    match link {
        LinkId::BucketPolicy => setup.bucket.policy.known(),
        LinkId::TrustPolicy => setup
            .role
            .as_ref()
            .and_then(|role| setup.info_of(role))
            .and_then(|info| info.trust_policy.known()),
        _ => None,
    }
}
