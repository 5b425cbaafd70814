//! The `authentication` link: whether the credentials that signed a
//! presigned URL can still be valid when the URL is used. S3 User Guide,
//! "Download and upload objects with presigned URLs" ("Who can create a
//! presigned URL"): a URL signed with an IAM user's access keys is valid
//! for up to seven days; one signed with temporary credentials (a role
//! session, a federated user) expires when the credentials do, even if the
//! URL asks for a later expiration.

use chrono::{DateTime, Utc};

use crate::diagnosis::{LinkId, LinkResult, LinkStatus};
use crate::policy::arn::PrincipalKind;
use crate::snapshot::Field;

use super::super::proposal;
use super::{ActionFacts, result};

/// `s3:authType` of a presigned URL (S3 API Reference, "Amazon S3 Signature
/// Version 4 Authentication Specific Policy Keys" and "Authenticating
/// Requests: Using Query Parameters").
pub(crate) const PRESIGNED: &str = "REST-QUERY-STRING";

/// The longest a Signature Version 4 presigned URL is valid, in
/// milliseconds: `X-Amz-Expires` is at most 604800 seconds (S3 API
/// Reference, "Authenticating Requests: Using Query Parameters").
const LONGEST_SIGNATURE_MS: f64 = 604_800_000.0;

/// The request is made with a presigned URL: `--context
/// s3:authType=REST-QUERY-STRING`.
pub(super) fn applies(facts: &ActionFacts<'_, '_>) -> bool {
    facts.setup.context_value("s3:authType") == Some(PRESIGNED)
}

pub(super) fn link(facts: &ActionFacts<'_, '_>) -> LinkResult {
    let setup = facts.setup;
    let make = |status, reason: String| result(LinkId::Authentication, status, reason);
    if let Some(age) = setup
        .context_value("s3:signatureAge")
        .and_then(|age| age.trim().parse::<f64>().ok())
        && age > LONGEST_SIGNATURE_MS
    {
        return LinkResult {
            fix: Some(Box::new(proposal::presign_again(&facts.actor.account))),
            ..make(
                LinkStatus::Fail,
                format!(
                    "the URL's signature is {age} ms old: a Signature Version 4 presigned URL is valid for at most seven days (604800000 ms)"
                ),
            )
        };
    }
    let session = match &facts.actor.kind {
        PrincipalKind::User { .. } | PrincipalKind::Root => {
            return make(
                LinkStatus::Pass,
                "signed with long-term access keys, which do not expire; the URL's own expiration (at most seven days) is the signer's choice: give `s3:signatureAge` to judge it".to_string(),
            );
        }
        PrincipalKind::AssumedRole {
            session_arn: Some(session),
            ..
        } => session.clone(),
        // A presigned URL carries an IAM identity's signature; a service
        // principal, an unsigned caller or an origin access identity signs
        // none the snapshot can hold credentials for.
        PrincipalKind::Service { .. }
        | PrincipalKind::Anonymous
        | PrincipalKind::CloudFrontOai { .. } => {
            return make(
                LinkStatus::Unknown,
                "the request is said to be a presigned URL, but its caller is no IAM identity whose credentials could have signed it".to_string(),
            );
        }
        PrincipalKind::AssumedRole { role_arn, .. } => {
            return LinkResult {
                help: Some(
                    "give the session's ARN (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`) as --principal and its `credentials` in the snapshot".to_string(),
                ),
                ..make(
                    LinkStatus::Unknown,
                    format!(
                        "the URL was signed by a session of `{role_arn}` that is not named, so when its credentials expire is not known"
                    ),
                )
            };
        }
        PrincipalKind::FederatedUser { .. } => facts.actor_arn().to_string(),
    };
    let entry = match &setup.snapshot.credentials {
        Field::Some(credentials) => credentials.get(&session),
        Field::None | Field::Unknown => None,
    };
    let Some((issued, expires)) = entry.and_then(|entry| entry.times()) else {
        return LinkResult {
            help: Some(format!(
                "add `\"credentials\": {{\"{session}\": {{\"issued_at\": ..., \"expires_at\": ...}}}}` to the snapshot (the session's `Expiration` from STS)"
            )),
            ..make(
                LinkStatus::Unknown,
                format!(
                    "the URL was signed with temporary credentials of `{session}`, and when they expire is not known"
                ),
            )
        };
    };
    let Some(now) = request_time(facts) else {
        return make(
            LinkStatus::Unknown,
            "the request's time (`aws:CurrentTime`) is not known".to_string(),
        );
    };
    let stamp = |time: DateTime<Utc>| time.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    if now > expires {
        return LinkResult {
            fix: Some(Box::new(proposal::presign_again(&facts.actor.account))),
            ..make(
                LinkStatus::Fail,
                format!(
                    "the URL was signed with temporary credentials of `{session}`, which expired at {}; the request is at {}: a presigned URL stops working when the credentials that signed it expire, whatever expiration the URL asks for",
                    stamp(expires),
                    stamp(now)
                ),
            )
        };
    }
    if now < issued {
        return make(
            LinkStatus::Fail,
            format!(
                "the request is at {}, before the credentials of `{session}` were issued ({}): no URL signed with them existed yet",
                stamp(now),
                stamp(issued)
            ),
        );
    }
    make(
        LinkStatus::Pass,
        format!(
            "the credentials of `{session}` are valid at {} (issued {}, expire {})",
            stamp(now),
            stamp(issued),
            stamp(expires)
        ),
    )
}

/// `aws:CurrentTime` as the request context has it: `--context` wins over
/// the time the check runs.
fn request_time(facts: &ActionFacts<'_, '_>) -> Option<DateTime<Utc>> {
    match facts.setup.context_value("aws:CurrentTime") {
        Some(text) => crate::snapshot::parse_time(text),
        None => Some(facts.setup.request.now),
    }
}
