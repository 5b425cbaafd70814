//! The `key-state` link: the key exists, is enabled, and (for an AWS managed
//! key) is used from its own account (KMS Developer Guide, "Key states of
//! AWS KMS keys", "AWS managed keys").

use crate::diagnosis::{Fix, LinkId, LinkResult, LinkStatus};
use crate::snapshot::Field;

use super::super::keys::{Reference, ResolvedKey};
use super::super::proposal;
use super::{ActionFacts, key_policy, result};

pub(super) fn link(facts: &ActionFacts<'_, '_>, key: &ResolvedKey<'_>) -> LinkResult {
    // Only a key that could not be read says how to read it.
    let key_help = || key_policy::key_help(key);
    let make = |status, reason: String, fix: Option<Fix>, help| LinkResult {
        fix: fix.map(Box::new),
        help,
        ..result(LinkId::KeyState, status, reason)
    };
    let cross = facts.cross_account();
    if key.is_aws_managed() && cross {
        let from = if facts.actor.is_iam() {
            format!("account {}", facts.actor.account)
        } else {
            // Its key policy cannot be edited to name the caller.
            format!("`{}`, which is of no account", facts.actor_arn())
        };
        return make(
            LinkStatus::Fail,
            format!(
                "`{}` is an AWS managed key of account {}, which cannot be used from {from}",
                key.configured, key.account
            ),
            Some(proposal::aws_managed_key(
                &key.account,
                &facts.setup.bucket.name,
            )),
            None,
        );
    }
    if key.reference == Reference::Unknown {
        return make(
            LinkStatus::Unknown,
            "the encryption that applies could not be read, so the key is not known".to_string(),
            None,
            Some(format!(
                "read the bucket's default encryption (s3:GetEncryptionConfiguration) and the object (s3:GetObject for HeadObject) with credentials of account {}",
                facts.setup.bucket.account
            )),
        );
    }
    let Some(info) = key.info else {
        if key.reference == Reference::AwsManagedDefault {
            // S3 creates `aws/s3` on first use; it is always enabled.
            return make(
                LinkStatus::Pass,
                format!(
                    "the AWS managed key aws/s3 of account {} is always enabled",
                    key.account
                ),
                None,
                None,
            );
        }
        return make(
            LinkStatus::Unknown,
            format!("key `{}` is not in the snapshot", key.configured),
            None,
            Some(key_help()),
        );
    };
    match &info.state {
        Field::Unknown => make(
            LinkStatus::Unknown,
            match &info.state_error {
                Some(error) => format!("the state of `{}` could not be read: {error}", info.arn),
                None => format!("the state of `{}` is not known", info.arn),
            },
            None,
            Some(key_help()),
        ),
        Field::None => make(
            LinkStatus::Fail,
            format!("key `{}` does not exist", key.configured),
            Some(proposal::missing_key(&key.account, &key.configured)),
            None,
        ),
        Field::Some(state) if state == "Enabled" && !facts.words() => {
            super::status_only(LinkId::KeyState, LinkStatus::Pass)
        }
        Field::Some(state) if state == "Enabled" => make(
            LinkStatus::Pass,
            format!("`{}` is Enabled", info.arn),
            None,
            None,
        ),
        Field::Some(state) => make(
            LinkStatus::Fail,
            format!(
                "`{}` is {state}, and KMS refuses cryptographic operations on a key that is not Enabled",
                info.arn
            ),
            Some(proposal::key_not_enabled(&key.account, &info.arn, state)),
            None,
        ),
    }
}

/// A key the request names (`x-amz-server-side-encryption-aws-kms-key-id`)
/// must be in the bucket's region, as the bucket default must (S3 User
/// Guide, "Specifying server-side encryption with AWS KMS (SSE-KMS)"; a
/// multi-Region key counts as a single-Region key). `None` when it is, or
/// when the request names it by id or alias (looked up in the bucket's
/// region); unknown when the bucket's region is not known.
pub(super) fn request_key_region(
    facts: &ActionFacts<'_, '_>,
    key: &ResolvedKey<'_>,
) -> Option<LinkResult> {
    let key_region = super::super::kms_hop::region_of_key_arn(&key.configured)?;
    let make = |status, reason: String| result(LinkId::KeyState, status, reason);
    match facts.setup.bucket.region.as_deref() {
        Some(bucket_region) if bucket_region == key_region => None,
        Some(bucket_region) => Some(LinkResult {
            fix: Some(Box::new(proposal::request_key_in_region(
                &facts.actor.account,
                bucket_region,
                &key.configured,
            ))),
            ..make(
                LinkStatus::Fail,
                format!(
                    "the request names `{}`, in {key_region}, but the bucket is in {bucket_region}: S3 uses a KMS key only in the bucket's own region (a multi-Region key's replica there is a key of its own)",
                    key.configured
                ),
            )
        }),
        None => Some(make(
            LinkStatus::Unknown,
            format!(
                "the request names `{}`, in {key_region}, and the bucket's region is not known: S3 uses a KMS key only in the bucket's own region",
                key.configured
            ),
        )),
    }
}
