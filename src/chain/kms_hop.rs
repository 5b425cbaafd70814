//! The rules of S3's own call to KMS that no policy shows: when an S3 Bucket
//! Key applies (and so which ARN is the encryption context), and which
//! region a bucket's default key must be in, with multi-Region keys.

use crate::policy::arn::ArnParts;

/// DSSE-KMS, `aws:kms:dsse`.
pub(crate) const DSSE_KMS: &str = "aws:kms:dsse";

/// Whether S3 uses a Bucket Key for an encryption with `algorithm`, given
/// what the bucket's configuration or the request asks for. S3 User Guide,
/// "Using dual-layer server-side encryption with AWS KMS keys (DSSE-KMS)"
/// and "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys": S3 Bucket
/// Keys are not supported for DSSE-KMS, so each object's data key is
/// requested with the object's ARN as encryption context, whatever the
/// bucket's Bucket Key setting says.
pub(crate) fn bucket_key_applies(algorithm: Option<&str>, asked: bool) -> bool {
    asked && algorithm != Some(DSSE_KMS)
}

/// The region of a key ARN; `None` for an alias name, a key id, or an ARN
/// with no region.
pub(crate) fn region_of_key_arn(reference: &str) -> Option<&str> {
    ArnParts::parse(reference)
        .ok()
        .map(|arn| arn.region)
        .filter(|region| !region.is_empty())
}

/// The key id of a key ARN (`…:key/ID`).
fn key_id_of(arn: &str) -> Option<&str> {
    ArnParts::parse(arn)
        .ok()
        .and_then(|arn| arn.resource.strip_prefix("key/"))
}

/// A multi-Region key: its id starts with `mrk-` (KMS Developer Guide,
/// "Multi-Region keys in AWS KMS": "multi-Region keys have the same key ID
/// … The key ID … begins with mrk-").
pub(crate) fn is_multi_region(arn: &str) -> bool {
    key_id_of(arn).is_some_and(|id| id.starts_with("mrk-"))
}

/// The ARN of the multi-Region key related to `arn` in `region`, when the
/// snapshot's keys have one: same partition, account and key id (KMS
/// Developer Guide, "Multi-Region keys in AWS KMS": related multi-Region
/// keys share their key id, each in its own region, each with its own key
/// policy).
pub(crate) fn replica_in<'k>(
    arn: &str,
    region: &str,
    keys: impl IntoIterator<Item = &'k str>,
) -> Option<&'k str> {
    let wanted = ArnParts::parse(arn).ok()?;
    if !is_multi_region(arn) {
        return None;
    }
    keys.into_iter().find(|candidate| {
        ArnParts::parse(candidate).is_ok_and(|other| {
            other.partition == wanted.partition
                && other.account == wanted.account
                && other.region == region
                && other.resource == wanted.resource
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsse_never_uses_a_bucket_key() {
        assert!(!bucket_key_applies(Some(DSSE_KMS), true));
        assert!(bucket_key_applies(Some("aws:kms"), true));
        assert!(!bucket_key_applies(Some("aws:kms"), false));
        assert!(bucket_key_applies(None, true));
    }

    #[test]
    fn a_replica_is_the_same_mrk_id_in_the_wanted_region() {
        let primary = "arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd";
        let replica = "arn:aws:kms:eu-west-1:111111111111:key/mrk-1234abcd";
        let other_account = "arn:aws:kms:eu-west-1:222222222222:key/mrk-1234abcd";
        let keys = [other_account, primary, replica];
        assert_eq!(replica_in(primary, "eu-west-1", keys), Some(replica));
        assert_eq!(replica_in(primary, "ap-south-1", keys), None);
        let single = "arn:aws:kms:us-east-1:111111111111:key/1234abcd";
        assert_eq!(replica_in(single, "eu-west-1", [single]), None);
        assert_eq!(region_of_key_arn(primary), Some("us-east-1"));
        assert_eq!(region_of_key_arn("alias/x"), None);
    }
}
