//! Reading the messages of incidents where an AWS service is the caller:
//! CloudFront answering 403 for an SSE-KMS object (an origin access
//! control whose `kms:Decrypt` the key policy refuses, or a legacy origin
//! access identity, which cannot use SSE-KMS at all), and CloudTrail
//! refusing or failing delivery with "Insufficient permissions to access S3
//! bucket or KMS key".

use super::MessageKind;
use super::parse::{Direction, Parsed, Transfer};

/// The message of a service caller's incident, when `text` is one.
pub(super) fn parse(text: &str, lower: &str, code: Option<&str>) -> Option<Parsed> {
    // CloudFront Developer Guide, "Restrict access to an Amazon S3 origin":
    // an origin access identity cannot use SSE-KMS; S3 relays KMS's refusal
    // of the identity, which belongs to no account, as
    // `KMS.UnrecognizedClientException`.
    if code.is_some_and(|code| code.eq_ignore_ascii_case("KMS.UnrecognizedClientException"))
        || lower.contains("kms.unrecognizedclientexception")
        || lower.contains("no account found for the given parameters")
    {
        return Some(Parsed {
            kind: MessageKind::CloudFrontOaiKms,
            action: Some("kms:Decrypt".to_string()),
            ..Parsed::default()
        });
    }
    // AWS CloudTrail API Reference, CreateTrail / UpdateTrail errors
    // (`InsufficientEncryptionPolicyException`,
    // `InsufficientS3BucketPolicyException`), and the trail's delivery
    // error: "Insufficient permissions to access S3 bucket B or KMS key K".
    if let Some(at) = lower.find("insufficient permissions to access s3 bucket") {
        let rest = &text[at + "insufficient permissions to access s3 bucket".len()..];
        let bucket = word_after(rest, "");
        let key = lower[at..]
            .find("kms key")
            .and_then(|position| word_after(&text[at + position + "kms key".len()..], ""))
            .filter(|key| !key.eq_ignore_ascii_case("or"));
        let bucket = bucket.filter(|bucket| !bucket.eq_ignore_ascii_case("or"));
        return Some(Parsed {
            kind: MessageKind::CloudTrailDelivery,
            principal: Some("cloudtrail.amazonaws.com".to_string()),
            action: Some("kms:GenerateDataKey".to_string()),
            resource: key,
            transfer: bucket.map(|bucket| Transfer {
                direction: Direction::Upload,
                bucket,
                key: None,
            }),
            ..Parsed::default()
        });
    }
    None
}

/// A session of CloudFront's own origin-access-control role: the principal
/// KMS names when it refuses an OAC's `kms:Decrypt`.
pub(super) fn is_origin_access_control_session(principal: &str) -> bool {
    principal.contains(":assumed-role/OriginAccessControlRole/")
        || principal.contains("EdgeCredentialsProxy")
}

/// The word after `prefix` in `text` (quotes and sentence punctuation
/// trimmed), if any.
fn word_after(text: &str, prefix: &str) -> Option<String> {
    let text = text.trim_start().strip_prefix(prefix)?.trim_start();
    let word = text.split_whitespace().next()?;
    let word = word
        .trim_matches(|c| c == '"' || c == '\'' || c == '`' || c == '.' || c == ',' || c == ':');
    (!word.is_empty()).then(|| word.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{MessageKind, explain};
    use crate::diagnosis::LinkId;

    #[test]
    fn cloudtrail_names_the_bucket_and_the_key() {
        // AWS CloudTrail API Reference, "CreateTrail" errors.
        let got = explain(
            "An error occurred (InsufficientEncryptionPolicyException) when calling the CreateTrail operation: Insufficient permissions to access S3 bucket trail-logs or KMS key arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab.",
        );
        assert_eq!(got.kind, MessageKind::CloudTrailDelivery);
        assert_eq!(got.bucket.as_deref(), Some("trail-logs"));
        assert_eq!(
            got.resource.as_deref(),
            Some("arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        );
        assert_eq!(got.suspects.first(), Some(&LinkId::BucketPolicy));
        assert_eq!(
            got.command.as_deref(),
            Some(
                "kms-s3-doctor check --bucket trail-logs --principal cloudtrail.amazonaws.com --op put --context aws:SourceArn=TRAIL_ARN"
            )
        );
    }

    #[test]
    fn cloudfront_origin_access_control_points_at_the_key_policy() {
        let got = explain(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::111111111111:assumed-role/OriginAccessControlRole/EdgeCredentialsProxy+EdgeHostAuthenticationClient-FRA56-P1 is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access</Message><RequestId>R</RequestId></Error>",
        );
        assert_eq!(got.kind, MessageKind::CloudFrontOacKms);
        assert_eq!(got.link, Some(LinkId::KeyPolicy));
        assert_eq!(got.principal.as_deref(), Some("cloudfront.amazonaws.com"));
        assert!(
            got.command
                .unwrap()
                .contains("--principal cloudfront.amazonaws.com")
        );
    }

    #[test]
    fn an_origin_access_identity_on_sse_kms_points_at_service_support() {
        let got = explain(
            "<Error><Code>KMS.UnrecognizedClientException</Code><Message>No account found for the given parameters</Message><RequestId>R</RequestId></Error>",
        );
        assert_eq!(got.kind, MessageKind::CloudFrontOaiKms);
        assert_eq!(got.link, Some(LinkId::ServiceSupport));
    }

    #[test]
    fn other_sessions_stay_what_they_are() {
        let got = explain(
            "User: arn:aws:sts::222222222222:assumed-role/etl/s is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:111111111111:key/k because no resource-based policy allows the kms:Decrypt action",
        );
        assert_eq!(got.kind, MessageKind::NotAuthorized);
    }
}
