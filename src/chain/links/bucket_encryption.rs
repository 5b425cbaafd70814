//! The `bucket-encryption` link: whether the bucket's default encryption
//! names a key S3 can use for this writer (S3 User Guide, "Setting default
//! server-side encryption behavior": only a full key ARN works across
//! accounts).

use crate::diagnosis::{Fix, LinkId, LinkResult, LinkStatus};
use crate::snapshot::Field;

use super::super::keys::{Reference, ResolvedKey};
use super::super::proposal;
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
    let writer_account = &facts.actor.account;
    if writer_account != &bucket.account && !key.reference.works_cross_account() {
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
    make(
        LinkStatus::Pass,
        format!(
            "the bucket's default encryption names `{}`, usable by account {writer_account}",
            key.configured
        ),
        None,
    )
}
