//! The `kms-s3-doctor check ...` command an explanation suggests, filled
//! with what the message gave (bucket and key from the resource ARN or the
//! CLI's `s3://` URL, the principal, the operations), quoted for a POSIX
//! shell.

use super::parse::{Direction, Parsed};
use crate::policy::arn::Arn;
use crate::report::shell_word;

/// The bucket and object key a message is about: an S3 resource ARN
/// (`arn:aws:s3:::bucket/key`, any partition), else the AWS CLI's URL. A key
/// with a wildcard is a policy pattern, not an object.
pub(super) fn s3_target(parsed: &Parsed) -> (Option<String>, Option<String>) {
    // A replication failure's resource may be the destination: the check
    // is for the source object.
    if let Some(replication) = &parsed.replication {
        return (replication.source_bucket.clone(), replication.key.clone());
    }
    let from_arn = parsed
        .resource
        .as_deref()
        .and_then(|resource| Arn::parse(resource).ok())
        .filter(|arn| arn.service == "s3" && arn.region.is_empty() && arn.account.is_empty())
        .map(|arn| match arn.resource.split_once('/') {
            Some((bucket, key)) if !key.is_empty() && !key.contains('*') => {
                (bucket.to_string(), Some(key.to_string()))
            }
            Some((bucket, _)) => (bucket.to_string(), None),
            None => (arn.resource.clone(), None),
        })
        .filter(|(bucket, _)| !bucket.is_empty());
    match (from_arn, &parsed.transfer) {
        (Some((bucket, key)), _) => (Some(bucket), key),
        (None, Some(transfer)) => (Some(transfer.bucket.clone()), transfer.key.clone()),
        (None, None) => (None, None),
    }
}

/// The check operations for the API operation that failed, else the
/// action, else the CLI transfer's direction. `aws s3 cp` sends HeadObject
/// before GetObject, so a download that failed on HEAD checks both: the KMS
/// half of the download has not been tried yet.
pub(super) fn check_ops(parsed: &Parsed) -> Option<&'static str> {
    let from_api = parsed.api_operation.as_deref().and_then(|api| {
        Some(match api {
            "GetObject" => "get",
            "HeadObject" if parsed.from_cli_transfer => "head,get",
            "HeadObject" => "head",
            "PutObject" => "put",
            "ListObjects" | "ListObjectsV2" | "ListObjectVersions" | "HeadBucket" => "list",
            "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => "multipart",
            "CopyObject" | "UploadPartCopy" => "copy",
            _ => return None,
        })
    });
    let from_action = || {
        Some(
            match parsed.action.as_deref()?.to_ascii_lowercase().as_str() {
                "s3:getobject" | "kms:decrypt" | "s3:getobjectversion" => "get",
                "s3:putobject" | "s3:putobjectacl" => "put",
                "s3:listbucket" | "s3:listbucketversions" => "list",
                "kms:generatedatakey" => "put",
                _ => return None,
            },
        )
    };
    let from_transfer = || {
        Some(match parsed.transfer.as_ref()?.direction {
            Direction::Download => "head,get",
            Direction::Upload => "put,multipart",
            Direction::Copy => "copy",
        })
    };
    from_api.or_else(from_action).or_else(from_transfer)
}

/// `kms-s3-doctor check ...` prefilled with what the message gave; `BUCKET`
/// where it names no bucket.
pub(super) fn check_command(parsed: &Parsed, bucket: Option<&str>, object: Option<&str>) -> String {
    let mut words = vec!["kms-s3-doctor".to_string(), "check".to_string()];
    words.push("--bucket".to_string());
    words.push(bucket.map_or_else(|| "BUCKET".to_string(), shell_word));
    if let Some(object) = object {
        words.push("--object".to_string());
        words.push(shell_word(object));
    }
    if let Some(principal) = parsed.principal.as_deref().filter(|principal| {
        principal.starts_with("arn:") || crate::policy::arn::is_service_principal(principal)
    }) {
        words.push("--principal".to_string());
        words.push(shell_word(principal));
    }
    let assume_role = parsed
        .action
        .as_deref()
        .is_some_and(|action| action.eq_ignore_ascii_case("sts:AssumeRole"));
    if let Some(role) = parsed
        .resource
        .as_deref()
        .filter(|role| assume_role && role.starts_with("arn:"))
    {
        words.push("--via-role".to_string());
        words.push(shell_word(role));
    }
    if let Some(ops) = check_ops(parsed) {
        words.push("--op".to_string());
        words.push(ops.to_string());
    }
    // A service acts for a resource the message does not name: the check
    // needs it to judge the policies' `aws:SourceArn` conditions.
    let source = match parsed.kind {
        super::MessageKind::CloudFrontOacKms => Some("DISTRIBUTION_ARN"),
        super::MessageKind::CloudTrailDelivery => Some("TRAIL_ARN"),
        _ => None,
    };
    if let Some(placeholder) = source {
        words.push("--context".to_string());
        words.push(format!("aws:SourceArn={placeholder}"));
    }
    // A session's policies are never readable from AWS: without a word on
    // them the check is inconclusive. A message that blames one needs it
    // given; any other was most likely started without one (the console,
    // IAM Identity Center, a profile's role_arn).
    let session = parsed
        .principal
        .as_deref()
        .is_some_and(|principal| principal.contains(":assumed-role/"));
    if session {
        if parsed.policy_type == Some(super::PolicyType::SessionPolicy) {
            words.push("--session-policy".to_string());
            words.push("FILE".to_string());
        } else {
            words.push("--assume".to_string());
            words.push("session-policy=none".to_string());
        }
    }
    words.join(" ")
}
