//! The `bucket-encryption` link: whether the bucket's default encryption
//! names a key S3 can use for this writer (S3 User Guide, "Setting default
//! server-side encryption behavior": only a full key ARN works across
//! accounts; "Specifying server-side encryption with AWS KMS (SSE-KMS)": the
//! key must be in the bucket's region).

use crate::diagnosis::{Fix, LinkId, LinkResult, LinkStatus};
use crate::snapshot::Field;

use super::super::keys::{Reference, ResolvedKey};
use super::super::{kms_hop, proposal};
use super::{ActionFacts, result};

pub(super) fn link(facts: &ActionFacts<'_, '_>, key: &ResolvedKey<'_>) -> LinkResult {
    let make = |status, reason: String, fix: Option<Fix>| LinkResult {
        fix: fix.map(Box::new),
        ..result(LinkId::BucketEncryption, status, reason)
    };
    let bucket = facts.setup.bucket;
    if key.reference == Reference::Unknown {
        return LinkResult {
            help: Some(format!(
                "read it with credentials of account {} (s3:GetEncryptionConfiguration), or add `encryption` to the snapshot's bucket",
                bucket.account
            )),
            ..make(
                LinkStatus::Unknown,
                match &bucket.encryption_error {
                    Some(error) => {
                        format!("the bucket's default encryption could not be read: {error}")
                    }
                    None => "the bucket's default encryption is not known".to_string(),
                },
                None,
            )
        };
    }
    if let Some(result) = directory_rule(facts, key) {
        return result;
    }
    let writer_account = &facts.actor.account;
    // A caller of no customer account (a delivery service) writes with the
    // key S3 resolves in the bucket owner's account.
    if facts.actor.is_iam()
        && writer_account != &bucket.account
        && !key.reference.works_cross_account()
    {
        let key_arn = key.info.map(|info| info.arn.clone());
        return make(
            LinkStatus::Fail,
            format!(
                "the bucket's default encryption names the key as `{}`, which S3 resolves in the writer's account {writer_account}; only a full key ARN works across accounts",
                key.configured
            ),
            Some(proposal::bucket_default_key_arn(
                &bucket.account,
                &bucket.name,
                key_arn.as_deref(),
                &key.configured,
            )),
        );
    }
    if let Some(result) = region_rule(facts, key) {
        return result;
    }
    if key.info.is_some_and(|info| info.state == Field::None) {
        return make(
            LinkStatus::Fail,
            format!(
                "the bucket's default encryption names `{}`, which does not exist",
                key.configured
            ),
            Some(proposal::bucket_default_key_arn(
                &bucket.account,
                &bucket.name,
                None,
                &key.configured,
            )),
        );
    }
    let usable_by = if facts.actor.is_iam() {
        format!("account {writer_account}")
    } else {
        format!(
            "a caller of no account (S3 resolves it in the bucket owner's account {})",
            bucket.account
        )
    };
    make(
        LinkStatus::Pass,
        format!(
            "the bucket's default encryption names `{}`, usable by {usable_by}",
            key.configured
        ),
        None,
    )
}

/// S3 User Guide, "Specifying server-side encryption with AWS KMS
/// (SSE-KMS)": the KMS key must be in the same Region as the bucket. S3
/// treats a multi-Region key as a single-Region key (S3 User Guide,
/// "Using dual-layer server-side encryption with AWS KMS keys (DSSE-KMS)"
/// and "Protecting data with server-side encryption using AWS KMS keys
/// (SSE-KMS)": "Amazon S3 currently treats multi-Region keys as though they
/// were single-Region keys"), so a default key naming a primary in another
/// region fails even where a replica exists; the replica in the bucket's
/// region is the key to name, and it is judged by its own key policy.
/// `None` when the rule holds; unknown when either region is not known
/// while the key is named by an ARN with a region.
fn region_rule(facts: &ActionFacts<'_, '_>, key: &ResolvedKey<'_>) -> Option<LinkResult> {
    let bucket = facts.setup.bucket;
    // An alias name or a key id is looked up in the bucket's own region;
    // only an ARN can name another.
    let key_region = kms_hop::region_of_key_arn(&key.configured)?;
    let Some(bucket_region) = bucket.region.as_deref() else {
        return Some(LinkResult {
            help: Some(format!(
                "read the bucket's region with credentials of account {} (s3:GetBucketLocation), or add `region` to the snapshot's bucket",
                bucket.account
            )),
            ..result(
                LinkId::BucketEncryption,
                LinkStatus::Unknown,
                format!(
                    "the bucket's default key `{}` is in {key_region}, and the bucket's region is not known: S3 uses a default key only in the bucket's own region",
                    key.configured
                ),
            )
        });
    };
    if key_region == bucket_region {
        return None;
    }
    let key_arn = key
        .info
        .map_or(key.resource.as_str(), |info| info.arn.as_str());
    let replica = kms_hop::replica_in(
        key_arn,
        bucket_region,
        facts
            .setup
            .snapshot
            .keys
            .iter()
            .map(|info| info.arn.as_str()),
    );
    let multi_region = match replica {
        Some(replica) => format!(
            "; the multi-Region key's replica in {bucket_region} is `{replica}`, used under its own key policy"
        ),
        None if kms_hop::is_multi_region(key_arn) => format!(
            "; S3 treats a multi-Region key as a single-Region key, so it needs the replica in {bucket_region} (none is in the snapshot)"
        ),
        None => String::new(),
    };
    let fix = match replica {
        Some(replica) => proposal::bucket_default_key_arn(
            &bucket.account,
            &bucket.name,
            Some(replica),
            &key.configured,
        ),
        None => proposal::bucket_default_key_in_region(
            &bucket.account,
            &bucket.name,
            bucket_region,
            &key.configured,
        ),
    };
    Some(LinkResult {
        fix: Some(Box::new(fix)),
        ..result(
            LinkId::BucketEncryption,
            LinkStatus::Fail,
            format!(
                "the bucket's default key `{}` is in {key_region} but the bucket is in {bucket_region}: S3 uses a default key only in the bucket's own region{multi_region}",
                key.configured
            ),
        )
    })
}

/// A directory bucket's default key: only a customer managed key named by
/// key id or key ARN; neither an alias nor the AWS managed key `aws/s3`
/// (S3 User Guide, "Using server-side encryption with AWS KMS keys
/// (SSE-KMS) in directory buckets", "AWS KMS keys").
fn directory_rule(facts: &ActionFacts<'_, '_>, key: &ResolvedKey<'_>) -> Option<LinkResult> {
    let bucket = facts.setup.bucket;
    if !bucket.is_directory() {
        return None;
    }
    let why = match key.reference {
        Reference::AliasName | Reference::AliasArn => {
            "an alias, which directory buckets do not support: name the key by key id or key ARN"
        }
        Reference::AwsManagedDefault => {
            "no key, so the AWS managed key `aws/s3`, which directory buckets do not support: name a customer managed key"
        }
        Reference::KeyArn | Reference::KeyId | Reference::Unknown => return None,
    };
    let key_arn = key.info.map(|info| info.arn.clone());
    Some(LinkResult {
        fix: Some(Box::new(proposal::bucket_default_key_arn(
            &bucket.account,
            &bucket.name,
            key_arn.as_deref(),
            &key.configured,
        ))),
        ..result(
            LinkId::BucketEncryption,
            LinkStatus::Fail,
            format!(
                "the directory bucket's default encryption names `{}`: {why}",
                key.configured
            ),
        )
    })
}
