//! The principal keys of callers that are no IAM identity of a customer
//! account: an AWS service calling as its own service principal, an
//! unsigned (anonymous) request, and a legacy CloudFront origin access
//! identity. What AWS documents is set; what it leaves open is unknown.

use crate::policy::arn::{ArnParts, Principal, PrincipalKind};
use crate::policy::context::RequestContext;
use crate::snapshot::Field;

use super::super::Setup;

/// The principal keys AWS derives from a caller's IAM identity, which a
/// caller outside IAM either lacks or carries in a form the tool cannot
/// know.
const IDENTITY_KEYS: [&str; 7] = [
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalTagKeys",
    "aws:PrincipalType",
    "aws:userid",
];

/// Sets the principal's keys for a caller outside IAM.
pub(super) fn set_principal(setup: &Setup<'_>, actor: &Principal, context: &mut RequestContext) {
    // IAM User Guide, "aws:username": present only for IAM users.
    context.set_absent("aws:username");
    match &actor.kind {
        PrincipalKind::Service { name } => {
            // IAM User Guide, "AWS global condition context keys":
            // aws:PrincipalIsAWSService is true and aws:PrincipalServiceName
            // names the service when a service principal makes the call
            // itself. Which of the IAM principal keys such a call carries,
            // and with what value, the page does not settle: unknown.
            for key in IDENTITY_KEYS {
                context.set_unknown(key);
            }
            context.set_unknown_prefix("aws:PrincipalTag/");
            context.set("aws:PrincipalIsAWSService", "true");
            context.set("aws:PrincipalServiceName", name.as_str());
            context.set_unknown("aws:PrincipalServiceNamesList");
            set_source(setup, context);
        }
        PrincipalKind::Anonymous => {
            // IAM User Guide, "AWS global condition context keys": the
            // principal keys are "included in the request context for all
            // signed requests. Anonymous requests do not include this key";
            // aws:PrincipalType is `Anonymous` and aws:userid `anonymous`.
            for key in IDENTITY_KEYS {
                context.set_absent(key);
            }
            context.set_absent_prefix("aws:PrincipalTag/");
            context.set("aws:PrincipalType", "Anonymous");
            context.set("aws:userid", "anonymous");
            context.set_absent("aws:PrincipalIsAWSService");
            // An unsigned request has no signature version or auth type.
            context.set_unknown("s3:signatureversion");
            context.set_unknown("s3:authType");
        }
        _ => {
            // A CloudFront origin access identity is a CloudFront-owned
            // IAM user: how its principal keys read is not documented.
            for key in IDENTITY_KEYS {
                context.set_unknown(key);
            }
            context.set_unknown_prefix("aws:PrincipalTag/");
            context.set_unknown("aws:PrincipalIsAWSService");
        }
    }
}

/// The resource a service acts for (IAM User Guide, "aws:SourceArn",
/// "aws:SourceAccount", "aws:SourceOrgID"; "The confused deputy problem"):
/// only `--context` can give it, and the account follows from a source ARN
/// that names one. The source's organization follows from the snapshot's
/// account entry when the account is known.
fn set_source(setup: &Setup<'_>, context: &mut RequestContext) {
    for key in [
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
    ] {
        context.set_unknown(key);
    }
    let account = setup
        .context_value("aws:SourceAccount")
        .map(str::to_string)
        .or_else(|| source_account(setup.context_value("aws:SourceArn")?));
    let Some(account) = account else {
        return;
    };
    context.set("aws:SourceAccount", account.as_str());
    let info = setup.snapshot.accounts.get(&account);
    match info.map(|info| (&info.org_id, &info.org_path)) {
        Some((_, Field::Some(path))) => {
            context.set(
                "aws:SourceOrgID",
                crate::policy::org_path::organization_of(path),
            );
            context.set_values("aws:SourceOrgPaths", vec![path.to_string()]);
        }
        Some((Field::Some(org), _)) => context.set("aws:SourceOrgID", org.as_str()),
        // Outside any organization: the keys are not in the request.
        Some((Field::None, _)) => {
            context.set_absent("aws:SourceOrgID");
            context.set_absent("aws:SourceOrgPaths");
        }
        _ => {}
    }
}

/// The account an `aws:SourceArn` names; `None` for an ARN without one
/// (an S3 bucket's) or a text that is no ARN.
fn source_account(source_arn: &str) -> Option<String> {
    let arn = ArnParts::parse(source_arn).ok()?;
    crate::policy::arn::is_account_id(arn.account).then(|| arn.account.to_string())
}

/// The encryption context a delivery service adds to the data keys of
/// what it writes, beyond `aws:s3:arn`: CloudTrail adds
/// `aws:cloudtrail:arn`, the trail's ARN (AWS CloudTrail User Guide, "How
/// AWS CloudTrail uses AWS KMS"; "Configure AWS KMS key policies for
/// CloudTrail"). The trail is the request's `aws:SourceArn`: unknown
/// without it.
pub(crate) fn service_context(
    actor: &Principal,
    setup: &Setup<'_>,
) -> Vec<(String, Option<String>)> {
    match actor.service_name() {
        Some("cloudtrail.amazonaws.com") => vec![(
            "aws:cloudtrail:arn".to_string(),
            setup.context_value("aws:SourceArn").map(str::to_string),
        )],
        _ => Vec::new(),
    }
}

/// The canned ACL a log-delivery service sends with every object it writes:
/// AWS's own bucket policies for these services allow `s3:PutObject` only
/// under `"s3:x-amz-acl": "bucket-owner-full-control"`, and grant no
/// `s3:PutObjectAcl` (AWS CloudTrail User Guide, "Amazon S3 bucket policy for
/// CloudTrail"; Amazon VPC User Guide, "Flow logs: publish to Amazon S3";
/// AWS Config Developer Guide, "Permissions for the Amazon S3 bucket").
pub(crate) fn delivery_acl(actor: &Principal) -> Option<&'static str> {
    match actor.service_name()? {
        "cloudtrail.amazonaws.com" | "delivery.logs.amazonaws.com" | "config.amazonaws.com" => {
            Some("bucket-owner-full-control")
        }
        _ => None,
    }
}
