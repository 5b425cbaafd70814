//! Reading the S3 console's permission banners ("Insufficient permissions
//! to list objects", "You don't have permissions to list buckets", and the
//! same banners for other actions, which name the action the console's
//! call needed: "After you or your AWS administrator have updated your
//! permissions to allow the s3:ListBucket action, refresh the page").
//! The console makes the same API calls as any other client, with the
//! signed-in principal's credentials; the banner names neither the
//! principal nor the policy that refused.

use super::MessageKind;
use super::parse::Parsed;

/// The banner's action and what it was for, when `text` is a banner.
pub(super) fn parse(text: &str, lower: &str) -> Option<Parsed> {
    let banner = lower.contains("insufficient permissions")
        || lower.contains("you don't have permissions to")
        || lower.contains("you don't have permission to")
        || lower.contains("you do not have permission to");
    // CloudTrail's "Insufficient permissions to access S3 bucket" is a
    // service's message, read elsewhere.
    if !banner || lower.contains("insufficient permissions to access s3 bucket") {
        return None;
    }
    let named = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '"' | '\'' | '`'))
        .map(|word| word.trim_end_matches(['.', ':']))
        .find(|word| (word.starts_with("s3:") || word.starts_with("kms:")) && word.len() > 4)
        .map(str::to_string);
    let (action, operation) = match named.as_deref() {
        Some(action) => (Some(action.to_string()), operation_of(action)),
        None if lower.contains("list objects") => {
            (Some("s3:ListBucket".to_string()), Some("ListObjectsV2"))
        }
        None if lower.contains("list buckets") => (Some("s3:ListAllMyBuckets".to_string()), None),
        None if lower.contains("download") || lower.contains("get object") => {
            (Some("s3:GetObject".to_string()), Some("GetObject"))
        }
        None if lower.contains("upload") || lower.contains("put object") => {
            (Some("s3:PutObject".to_string()), Some("PutObject"))
        }
        None => (None, None),
    };
    Some(Parsed {
        kind: MessageKind::ConsoleBanner,
        action,
        api_operation: operation.map(str::to_string),
        ..Parsed::default()
    })
}

fn operation_of(action: &str) -> Option<&'static str> {
    Some(match action.to_ascii_lowercase().as_str() {
        "s3:listbucket" => "ListObjectsV2",
        "s3:getobject" => "GetObject",
        "s3:putobject" => "PutObject",
        "kms:decrypt" => "GetObject",
        "kms:generatedatakey" => "PutObject",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{MessageKind, explain};
    use crate::diagnosis::LinkId;

    #[test]
    fn the_list_objects_banner_is_s3_list_bucket() {
        let got = explain(
            "Insufficient permissions to list objects\nAfter you or your AWS administrator have updated your permissions to allow the s3:ListBucket action, refresh the page. Learn more about Identity and access management in Amazon S3",
        );
        assert_eq!(got.kind, MessageKind::ConsoleBanner);
        assert_eq!(got.action.as_deref(), Some("s3:ListBucket"));
        assert_eq!(got.printed_by.as_deref(), Some("the S3 console"));
        assert_eq!(got.suspects.first(), Some(&LinkId::IdentityPolicy));
        assert!(got.command.unwrap().contains("--op list"));
    }

    #[test]
    fn the_list_buckets_banner_is_identity_side_only() {
        let got = explain("You don't have permissions to list buckets");
        assert_eq!(got.action.as_deref(), Some("s3:ListAllMyBuckets"));
        assert_eq!(got.link, Some(LinkId::IdentityPolicy));
    }

    #[test]
    fn cloudtrail_s_insufficient_permissions_is_not_a_banner() {
        let got = explain("Insufficient permissions to access S3 bucket trail-logs or KMS key");
        assert_eq!(got.kind, MessageKind::CloudTrailDelivery);
    }
}
