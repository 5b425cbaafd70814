//! The `access-point-policy` link: a request made through an S3 access
//! point must be permitted by the access point as well as by the bucket (S3
//! User Guide, "Configuring IAM policies for using access points": "both
//! the access point and the underlying bucket must permit the request";
//! permissions an access point policy grants are effective only if the
//! bucket also allows the same access, by delegating to the access point's
//! account with `s3:DataAccessPointAccount` or by granting it itself).
//!
//! The access point policy is judged like a bucket policy against the
//! access point's ARN forms; the access point's network origin is part of
//! this link: a `VPC` access point refuses every request that does not come
//! from its VPC (S3 User Guide, "Creating access points restricted to a
//! virtual private cloud").

use std::sync::Arc;

use crate::diagnosis::{Fix, LinkId, LinkResult, LinkStatus};
use crate::policy::context::RequestContext;
use crate::policy::logic::{and, not};
use crate::policy::{Effect, Tri};
use crate::snapshot::{AccessPointInfo, Field};

use super::super::{Target, proposal};
use super::evaluation::{
    DIRECT, Docs, Judged, UNCAPPED, grants_as, near_misses, status_of, unread,
};
use super::identity::{Exemptions, GuardRails};
use super::{ActionFacts, fail, unknown};

/// The condition keys S3 sets for a request through an access point (S3
/// User Guide, "Configuring IAM policies for using access points",
/// condition keys): the access point's ARN, its owner's account and its
/// network origin. What S3 passes on to KMS for such a request is not
/// documented, so in the KMS call these keys are unknown, never absent.
const ACCESS_POINT_KEYS: [&str; 3] = [
    "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
    "s3:AccessPointNetworkOrigin",
];

/// `context` with the access point's keys set for an S3 action, or unknown
/// for the KMS call S3 makes.
pub(super) fn with_context(
    context: &Arc<RequestContext>,
    point: &AccessPointInfo,
    target: &Target,
) -> Arc<RequestContext> {
    let mut context = RequestContext::clone(context);
    match target {
        Target::Bucket | Target::Object(_) => {
            context.set(ACCESS_POINT_KEYS[0], point.arn.clone());
            context.set(ACCESS_POINT_KEYS[1], point.account.clone());
            match &point.network_origin {
                Some(origin) => context.set(ACCESS_POINT_KEYS[2], origin.clone()),
                None => context.set_unknown(ACCESS_POINT_KEYS[2]),
            }
        }
        // What S3 passes on in its own calls, and whether a directory
        // bucket's session or a replica carries these keys, is not documented.
        Target::Key(_) | Target::Session { .. } | Target::Replica(_) => {
            for key in ACCESS_POINT_KEYS {
                context.set_unknown(key);
            }
        }
        Target::Role => {}
    }
    Arc::new(context)
}

/// Judges the access point's policy and network origin, and narrows what
/// the bucket policy's grant exempts the caller's own policies from: within
/// one account a resource policy naming the caller stands in for an
/// identity policy only if both resource policies do.
pub(super) fn judge(
    facts: &ActionFacts<'_, '_>,
    point: &AccessPointInfo,
    rails: &GuardRails,
    exemptions: &mut Exemptions,
    bucket_side_denies: Tri,
) -> LinkResult {
    let link = LinkId::AccessPointPolicy;
    let request = facts.request();
    let owner_help = format!(
        "read the access point policy (s3:GetAccessPointPolicy) with credentials of account {}, or add `policy` to the snapshot's access point",
        point.account
    );
    let docs = match &point.policy {
        Field::Unknown => Docs::Unknown(unread(
            "the access point policy",
            &point.policy_error,
            &owner_help,
        )),
        Field::None => Docs::Known(Vec::new()),
        Field::Some(doc) => Docs::Known(vec![doc]),
    };
    let judged = Judged::of(docs, &request);
    let same = if facts.actor.account == point.account {
        Tri::Yes
    } else {
        Tri::No
    };
    exemptions.identity = and(exemptions.identity, and(same, grants_as(&judged, &DIRECT)));
    exemptions.boundary = and(
        exemptions.boundary,
        and(same, grants_as(&judged, &UNCAPPED)),
    );

    if let Some(refused) = network_origin(facts, point) {
        return refused;
    }
    // The caller's own policies (or SCPs, RCPs) deny the action on the
    // bucket's ARNs but not on the access point's: AWS does not say which
    // ARN they are matched against for a request through an access point,
    // so the deny may apply.
    if bucket_side_denies != Tri::No && rails.identity.denies() == Tri::No {
        return unknown(
            link,
            format!(
                "a policy of the caller's side (identity policy, boundary, session policy, SCP or RCP) {} {} on `{}`, the bucket's ARN, though not on the access point's; whether AWS matches it against the bucket's ARN for a request through an access point is not documented",
                if bucket_side_denies == Tri::Yes { "denies" } else { "may deny" },
                facts.action,
                facts.resource_side
            ),
            Some("scope the deny to the access point's ARN as well (or drop it) if it is meant to apply there, or read the documents it hangs on".to_string()),
        );
    }

    let identity_allows = if rails.is_root {
        Tri::Yes
    } else {
        rails.identity.allows()
    };
    // Needed across accounts; within the access point's account only when
    // no identity policy allows (as for a bucket policy).
    let needed = match same {
        Tri::No => Tri::Yes,
        _ => not(identity_allows),
    };
    let denies = judged.denies();
    let allows = judged.allows();
    let status = status_of(denies, allows, needed);
    let action = facts.action;
    let who = facts.actor_arn();
    let what = format!("access point policy of `{}`", point.name);
    match status {
        LinkStatus::Fail if denies == Tri::Yes => {
            let evidence = judged
                .applying(Effect::Deny)
                .iter()
                .map(|hit| judged.evidence_of(hit))
                .collect();
            let reason = format!("the {what} explicitly denies {action} to `{who}`");
            judged.decided(link, status, reason, evidence, None, None)
        }
        LinkStatus::Fail => {
            let fix = proposal::allow_in_resource_policy(
                link,
                &point.account,
                who,
                action,
                &facts.resource,
                proposal::Scope::None,
            );
            let near = near_misses(point.policy.known(), &request);
            let reason = if same == Tri::No {
                format!(
                    "no statement of the {what} allows {action} to `{who}` or its account {}, which a request through another account's access point needs",
                    facts.actor.account
                )
            } else {
                format!(
                    "no statement of the {what} allows {action} to `{who}`, and no identity policy allows it either"
                )
            };
            judged.decided(
                link,
                status,
                format!("{reason}{}", near.note),
                near.evidence,
                Some(fix),
                None,
            )
        }
        LinkStatus::Pass if allows == Tri::Yes => {
            let reason = format!("the {what} allows {action} to `{who}`");
            judged.decided(link, status, reason, judged.allow_evidence(), None, None)
        }
        LinkStatus::Pass => {
            let reason = format!(
                "not needed within account {}: the identity policy allows {action} and the {what} denies nothing",
                point.account
            );
            judged.decided(link, status, reason, Vec::new(), None, None)
        }
        LinkStatus::Unknown => judged
            .unknown_finding(&format!("the {what}"), action, &owner_help)
            .into_link(link),
    }
}

/// A `VPC` access point refuses a request from anywhere but its VPC; the
/// request's VPC is `aws:SourceVpc` as `--context` gives it, unknown when
/// not given. `None` when the origin lets the request through.
fn network_origin(facts: &ActionFacts<'_, '_>, point: &AccessPointInfo) -> Option<LinkResult> {
    let link = LinkId::AccessPointPolicy;
    let help = Some(format!(
        "say where the request comes from with `--context aws:SourceVpc=vpc-...`, or read the access point (s3control:GetAccessPoint) with credentials of account {}",
        point.account
    ));
    match point.network_origin.as_deref() {
        Some("Internet") => None,
        Some(_) => {
            let vpc = point.vpc_id.as_deref().unwrap_or_default();
            match facts.setup.context_value("aws:SourceVpc") {
                Some(source) if source == vpc => None,
                Some(source) => Some(fail(
                    link,
                    format!(
                        "access point `{}` accepts requests only from VPC `{vpc}` (network origin VPC), and this request comes from `{source}`",
                        point.name
                    ),
                    Some(Fix {
                        note: Some(format!(
                            "the access point's network origin is a guard the request can meet: send the request from VPC `{vpc}`, or through an access point whose network origin is Internet; nothing needs to change"
                        )),
                        ..proposal::request(
                            link,
                            &point.account,
                            "",
                            vec!["--context".to_string(), format!("aws:SourceVpc={vpc}")],
                        )
                    }),
                )),
                None => Some(unknown(
                    link,
                    format!(
                        "access point `{}` accepts requests only from VPC `{vpc}` (network origin VPC), and whether this request comes from it is not known",
                        point.name
                    ),
                    help,
                )),
            }
        }
        None => Some(unknown(
            link,
            format!(
                "the network origin of access point `{}` is not known: a VPC access point refuses requests from outside its VPC",
                point.name
            ),
            help,
        )),
    }
}
