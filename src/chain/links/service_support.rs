//! The `service-support` link: whether the caller, or the service making the
//! request, can use SSE-KMS this way at all, whatever the policies say. A
//! legacy CloudFront origin access identity cannot read SSE-KMS objects; an
//! unsigned request can neither read nor write one; ELB access logs and S3
//! server access logs are delivered only to buckets whose default
//! encryption is SSE-S3. The fix is never a policy statement: it is the
//! setting AWS documents instead (OAC; SSE-S3 for the log bucket; a signed
//! request).
//!
//! Also the note the report carries for every caller that is no IAM
//! identity: which links were left out, and why.

use crate::diagnosis::{Fix, FixChange, LinkId, LinkResult};
use crate::policy::arn::{Principal, PrincipalKind};

use super::super::{KeySource, Target};
use super::{ActionFacts, fail, pass};

/// S3 server access logs' service principal (S3 User Guide, "Enabling
/// Amazon S3 server access logging").
const S3_SERVER_ACCESS_LOGS: &str = "logging.s3.amazonaws.com";
/// Elastic Load Balancing's log-delivery principal in the Regions that use
/// one (Elastic Load Balancing User Guide, "Enable access logs for your
/// Application Load Balancer").
const ELB_ACCESS_LOGS: &str = "logdelivery.elasticloadbalancing.amazonaws.com";

/// Why a caller cannot use SSE-KMS for this action, with the AWS page
/// that says so and the real remedy; `None` when nothing the tool knows
/// stops it.
struct Unsupported {
    reason: String,
    remedy: String,
    /// Whose admin applies the remedy.
    account: String,
}

/// Whether the link applies: to the KMS action of a caller the tool knows
/// something about (an origin access identity, an unsigned caller, a
/// delivery service writing into a bucket's default encryption).
pub(super) fn applies(facts: &ActionFacts<'_, '_>, target: &Target) -> bool {
    matches!(target, Target::Key(_))
        && match &facts.actor.kind {
            PrincipalKind::Anonymous | PrincipalKind::CloudFrontOai { .. } => true,
            PrincipalKind::Service { name } => {
                matches!(name.as_str(), S3_SERVER_ACCESS_LOGS | ELB_ACCESS_LOGS)
            }
            _ => false,
        }
}

pub(super) fn link(facts: &ActionFacts<'_, '_>, target: &Target) -> Option<LinkResult> {
    if !applies(facts, target) {
        return None;
    }
    let Target::Key(key_use) = target else {
        return None;
    };
    let bucket = &facts.setup.bucket;
    let unsupported = match &facts.actor.kind {
        PrincipalKind::CloudFrontOai { arn } => Some(Unsupported {
            reason: format!(
                "`{arn}` is a legacy CloudFront origin access identity, which does not support objects encrypted with SSE-KMS (CloudFront Developer Guide, \"Restrict access to an Amazon S3 origin\": OAC supports SSE-KMS, OAI does not)"
            ),
            remedy: format!(
                "move the distribution's origin from the origin access identity to an origin access control (CloudFront Developer Guide, \"Migrating from origin access identity (OAI) to origin access control (OAC)\"), then allow `cloudfront.amazonaws.com` with an `aws:SourceArn` condition naming the distribution in the bucket policy of `{}` and in the key policy (kms:Decrypt)",
                bucket.name
            ),
            account: bucket.account.clone(),
        }),
        PrincipalKind::Anonymous => Some(Unsupported {
            reason: format!(
                "an unsigned (anonymous) request cannot use {}: S3 refuses every GET and PUT of an SSE-KMS object that is not signed with Signature Version 4 (S3 User Guide, \"Using server-side encryption with AWS KMS keys (SSE-KMS)\")",
                facts.action
            ),
            remedy: format!(
                "sign the request (an IAM principal with access, or a presigned URL), serve the objects through CloudFront with an origin access control, or store public objects in `{}` with SSE-S3 instead of SSE-KMS",
                bucket.name
            ),
            account: bucket.account.clone(),
        }),
        PrincipalKind::Service { name } if key_use.source == KeySource::BucketDefault => {
            let page = if name == S3_SERVER_ACCESS_LOGS {
                "S3 User Guide, \"Troubleshoot server access logging\": default bucket encryption on the target bucket must be SSE-S3; SSE-KMS is not supported for server access logging target buckets"
            } else {
                "Elastic Load Balancing User Guide, \"Enable access logs for your Application Load Balancer\": the only server-side encryption the log bucket may use is SSE-S3"
            };
            Some(Unsupported {
                reason: format!(
                    "`{name}` delivers logs only to a bucket whose default encryption is SSE-S3, and `{}` defaults to SSE-KMS ({page})",
                    bucket.name
                ),
                remedy: format!(
                    "set `{}`'s default encryption to SSE-S3 (`aws s3api put-bucket-encryption --bucket {} --server-side-encryption-configuration '{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"AES256\"}}}}]}}'`), or deliver the logs to another bucket that uses SSE-S3; no key policy statement makes this delivery work",
                    bucket.name, bucket.name
                ),
                account: bucket.account.clone(),
            })
        }
        PrincipalKind::Service { name } => {
            return Some(pass(
                LinkId::ServiceSupport,
                format!(
                    "`{name}` writes with the SSE-KMS key the request names, not the bucket's default encryption"
                ),
            ));
        }
        _ => None,
    };
    let unsupported = unsupported?;
    let fix = Fix {
        account: unsupported.account,
        change: FixChange::Other,
        document: LinkId::ServiceSupport.as_str().to_string(),
        statement: None,
        note: Some(unsupported.remedy),
        ..Default::default()
    };
    Some(fail(LinkId::ServiceSupport, unsupported.reason, Some(fix)))
}

/// What the report says about a caller that is no IAM identity: which
/// links it has and which it cannot have.
pub(crate) fn caller_note(caller: &Principal) -> Option<String> {
    let what = match &caller.kind {
        PrincipalKind::Service { name } => format!(
            "`{name}` is an AWS service principal calling for itself: it belongs to no customer account, so identity policies, permissions boundaries, session policies and SCPs cannot apply to it and are left out; the bucket policy and the key policy (or a grant) must allow it by name, and the resource account's RCPs still apply (AWS Organizations User Guide, \"Resource control policies (RCPs)\": only service-linked roles are exempt). aws:SourceArn, aws:SourceAccount and aws:SourceOrgID are what `--context` gives (aws:SourceAccount follows from an aws:SourceArn that names an account), unknown otherwise"
        ),
        PrincipalKind::Anonymous => "the request is unsigned (anonymous): it has no identity, so identity policies, permissions boundaries, session policies and SCPs cannot apply and are left out; only a bucket policy allowing `\"Principal\": \"*\"` can let it in, and no KMS key can be used by it".to_string(),
        PrincipalKind::CloudFrontOai { .. } => "the caller is a legacy CloudFront origin access identity, a CloudFront-owned identity of no customer account: identity policies, permissions boundaries, session policies and SCPs cannot apply and are left out; the bucket policy must allow it by name".to_string(),
        _ => return None,
    };
    Some(what)
}
