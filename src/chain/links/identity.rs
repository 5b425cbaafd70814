//! The principal's own documents: the `identity-policy`,
//! `permissions-boundary` and `session-policy` links, and which of them a
//! resource-side grant exempts (IAM User Guide, "Policy evaluation logic",
//! "Evaluating effective permissions with boundaries", "Session policies").

use crate::diagnosis::{Evidence, LinkId, LinkResult, LinkStatus};
use crate::policy::arn::PrincipalKind;
use crate::policy::logic::{and, not};
use crate::policy::{Effect, Policy, PrincipalMatch, Tri};
use crate::snapshot::Field;

use super::super::{assume, proposal};
use super::ActionFacts;
use super::evaluation::{
    Docs, Judged, SESSION_UNCAPPED, closest_statement, deny_finding, grants_as, status_of, unread,
};

pub(super) struct GuardRails {
    pub(super) identity: Judged,
    pub(super) boundary: Option<Judged>,
    pub(super) session: Option<Judged>,
    /// The account root user: allowed everything in its account without an
    /// identity policy.
    pub(super) is_root: bool,
}

pub(super) fn guard_rails(facts: &ActionFacts<'_, '_>) -> GuardRails {
    let request = facts.request();
    let info = facts.actor_info;
    let who = facts.actor_arn();
    // Only an unread document says how to read it.
    let profile_help = || principal_help(facts);
    let is_root = matches!(facts.actor.kind, PrincipalKind::Root);
    let identity_docs = match info.map(|info| (&info.policies, &info.policies_error)) {
        // The root user has no IAM policies to read: it is allowed what its
        // account can do.
        None if is_root => Docs::Known(Vec::new()),
        None => Docs::Unknown(format!(
            "`{who}` is not in the snapshot; {}",
            profile_help()
        )),
        Some((Field::Unknown, error)) => Docs::Unknown(unread(
            &format!("the identity policies of `{who}`"),
            error,
            &profile_help(),
        )),
        Some((Field::None, _)) => Docs::Known(Vec::new()),
        Some((Field::Some(policies), _)) => {
            Docs::Known(policies.iter().map(|named| &named.document).collect())
        }
    };
    let boundary =
        match info.map(|info| (&info.permissions_boundary, &info.permissions_boundary_error)) {
            None => None,
            Some((Field::None, _)) => None,
            Some((Field::Unknown, error)) => Some(Judged::of(
                Docs::Unknown(unread(
                    &format!("the permissions boundary of `{who}`"),
                    error,
                    &profile_help(),
                )),
                &request,
            )),
            Some((Field::Some(named), _)) => {
                Some(Judged::of(Docs::Known(vec![&named.document]), &request))
            }
        };
    // A role session's (or federated user's) session policies are a link
    // when known, and an unknown one when they could not be read: AWS never
    // shows them, and a session policy can only take permissions away, so
    // leaving the link out could turn a denial into "allowed". A role named
    // by its ARN (and the --via-role session) is judged as a session started
    // without one, which the snapshot records as `null`.
    let is_session = match &facts.actor.kind {
        PrincipalKind::AssumedRole { session_arn, .. } => session_arn.is_some(),
        PrincipalKind::FederatedUser { .. } => true,
        _ => false,
    };
    let session = match info.map(|info| (&info.session_policies, &info.session_policies_error)) {
        Some((Field::Some(docs), _)) if !docs.is_empty() => Some(Judged::of(
            Docs::Known(docs.iter().collect()),
            &request,
        )),
        Some((Field::Unknown, error)) if is_session || error.is_some() => Some(Judged::of(
            Docs::Unknown(format!(
                "{}; if the session was started without one (the usual case: the console, IAM Identity Center, a profile's role_arn), pass --assume session-policy=none; otherwise give it with --session-policy FILE",
                error
                    .clone()
                    .unwrap_or_else(|| "the snapshot does not record them".to_string())
            )),
            &request,
        )),
        None if is_session => Some(Judged::of(
            Docs::Unknown(
                "the session is not in the snapshot; pass --assume session-policy=none if it was started without a session policy, or give it with --session-policy FILE".to_string(),
            ),
            &request,
        )),
        _ => None,
    };
    GuardRails {
        identity: Judged::of(identity_docs, &request),
        boundary,
        session,
        is_root,
    }
}

fn principal_help(facts: &ActionFacts<'_, '_>) -> String {
    format!(
        "read them with credentials of account {} (`--principal-profile`), or add them to the snapshot's `principals`",
        facts.actor.account
    )
}

/// Which exemptions a resource-policy (or key-policy) grant gives, by how it
/// named the principal (IAM User Guide, "Evaluating effective
/// permissions with boundaries" and "Session policies").
pub(super) struct Exemptions {
    pub(super) identity: Tri,
    pub(super) boundary: Tri,
    pub(super) session: Tri,
    /// The session exemption rests only on a grant to `"*"`, whose reach
    /// past a session policy AWS does not document (see [`session_exemption`]).
    pub(super) session_open: bool,
}

/// Whether a same-account resource-side grant exempts a session from its
/// session policies, and whether that rests on an open reading. IAM User
/// Guide, "Policies and permissions in AWS Identity and Access Management",
/// "Session policies": a resource-based policy naming "the ARN of the user
/// or role" is limited by the session policy; one naming "the ARN of the
/// session" is "not limited by the session policy". A grant to `"*"` names
/// neither, and the page says nothing of it: unknown, never exempt.
pub(super) fn session_exemption(same: Tri, grants: &Judged) -> (Tri, bool) {
    let named = and(same, grants_as(grants, &SESSION_UNCAPPED));
    let wildcard = and(same, grants_as(grants, &[PrincipalMatch::Wildcard]));
    let open = named != Tri::Yes && wildcard != Tri::No;
    (if open { Tri::Unknown } else { named }, open)
}

/// Judges one of the principal's links; `None` for a boundary or session
/// policy the principal does not have.
pub(super) fn link(
    facts: &ActionFacts<'_, '_>,
    link: LinkId,
    rails: &GuardRails,
    exemptions: &Exemptions,
    granted_by: &str,
) -> Option<LinkResult> {
    let (judged, exempt, implicit_allow) = match link {
        LinkId::IdentityPolicy => (&rails.identity, exemptions.identity, rails.is_root),
        LinkId::PermissionsBoundary => (rails.boundary.as_ref()?, exemptions.boundary, false),
        LinkId::SessionPolicy => (rails.session.as_ref()?, exemptions.session, false),
        _ => return None,
    };
    if link == LinkId::SessionPolicy
        && exemptions.session_open
        && judged.unread.is_none()
        && judged.denies() != Tri::Yes
        && judged.allows() != Tri::Yes
    {
        // The session policy does not allow the action; only a grant to
        // `"*"` could lift it, and how far such a grant reaches is open.
        return Some(super::unknown(
            link,
            format!(
                "the session policy of `{}` does not allow {}; the resource-side policy grants it only through `\"Principal\": \"*\"`, and whether a grant to `\"*\"` is limited by a session policy is open: AWS documents a grant naming the user or role ARN (limited) and one naming the session ARN (not limited), not a wildcard (IAM User Guide, \"Policies and permissions in AWS Identity and Access Management\", \"Session policies\")",
                facts.caller.session_arn.as_deref().unwrap_or(facts.actor_arn()),
                facts.action,
            ),
            Some("name the session ARN in the resource policy, or allow the action in the session policy".to_string()),
        ));
    }
    if link == LinkId::SessionPolicy && judged.unread.is_some() {
        // Only an unread session policy can be assumed away.
        let subject = facts
            .caller
            .session_arn
            .clone()
            .unwrap_or_else(|| facts.actor_arn().to_string());
        if let Some(assumed) = assume::stand_in(
            &facts.setup.snapshot.assumptions,
            LinkId::SessionPolicy,
            &subject,
            "AWS does not show the session policies a session was started with",
        ) {
            return Some(assumed);
        }
    }
    Some(principal_link(
        facts,
        link,
        judged,
        not(exempt),
        implicit_allow,
        granted_by,
    ))
}

/// A principal-policy link (identity, boundary, session) judged against
/// whether it is needed.
fn principal_link(
    facts: &ActionFacts<'_, '_>,
    link: LinkId,
    judged: &Judged,
    needed: Tri,
    implicit_allow: bool,
    not_needed_because: &str,
) -> LinkResult {
    let denies = judged.denies();
    let allows = if implicit_allow {
        Tri::Yes
    } else {
        judged.allows()
    };
    let status = status_of(denies, allows, needed);
    if !facts.words() && status != LinkStatus::Unknown {
        return super::status_only(link, status);
    }
    let who = facts.actor_arn();
    let action = facts.action;
    let resource = &facts.resource;
    let what = link.title();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut fix = None;
    let mut help = None;
    let reason = match status {
        LinkStatus::Fail if denies == Tri::Yes => {
            let denying = judged.applying(Effect::Deny);
            evidence.extend(denying.iter().map(|hit| judged.evidence_of(hit)));
            let first = denying.first().copied();
            let finding = first.map(|hit| {
                deny_finding(
                    link,
                    &facts.actor.account,
                    hit,
                    link_policies(facts, link)
                        .get(hit.document as usize)
                        .copied(),
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
            format!(
                "{} explicitly denies {action} on {resource}{clause}",
                first.map(|hit| &*hit.label).unwrap_or(what)
            )
        }
        LinkStatus::Fail => {
            fix = Some(proposal::allow_in_principal_policy(
                link,
                &facts.actor.account,
                action,
                resource,
            ));
            let note = closest_statement(&link_policies(facts, link), &facts.request());
            format!("no statement of the {what} of `{who}` allows {action} on {resource}{note}")
        }
        LinkStatus::Pass if allows == Tri::Yes && implicit_allow => {
            format!(
                "the root user of account {} is allowed every action of its account",
                facts.actor.account
            )
        }
        LinkStatus::Pass if allows == Tri::Yes => {
            evidence.extend(judged.allow_evidence());
            format!("the {what} of `{who}` allows {action}")
        }
        LinkStatus::Pass => format!("not needed: {not_needed_because}"),
        LinkStatus::Unknown => {
            return judged
                .unknown_finding(
                    &format!("the {what} of `{who}`"),
                    action,
                    "the link is needed only if another link's unknown result goes one way; resolve that one first",
                )
                .into_link(link);
        }
    };
    judged.decided(link, status, reason, evidence, fix, help)
}

/// The documents of one of the principal's own links, as read, in the
/// order they were judged (so that a hit's `document` indexes them).
fn link_policies<'s>(facts: &ActionFacts<'_, 's>, link: LinkId) -> Vec<&'s Policy> {
    let Some(info) = facts.actor_info else {
        return Vec::new();
    };
    match link {
        LinkId::IdentityPolicy => info
            .policies
            .known()
            .map(|policies| {
                policies
                    .iter()
                    .map(|named| &*named.document.policy)
                    .collect()
            })
            .unwrap_or_default(),
        LinkId::PermissionsBoundary => info
            .permissions_boundary
            .known()
            .map(|named| vec![&*named.document.policy])
            .unwrap_or_default(),
        LinkId::SessionPolicy => info
            .session_policies
            .known()
            .map(|docs| docs.iter().map(|doc| &*doc.policy).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
