//! The directory buckets (S3 Express One Zone) of a member account, which
//! `ListBuckets` does not list: `ListDirectoryBuckets` in each `--regions`
//! region (a Regional endpoint call, `s3express-control.REGION`), then each
//! bucket's policy and default encryption (`GetBucketPolicy`,
//! `GetBucketEncryption`, also Regional endpoint calls for a directory
//! bucket; S3 API Reference, "ListDirectoryBuckets", "GetBucketPolicy",
//! "GetBucketEncryption"). A region whose listing fails is named in the
//! account's `buckets_error`: never an empty list read as "no directory
//! buckets".

use super::super::aws::{Identity, Reader, classify};
use super::super::s3::{bucket_encryption, bucket_policy};
use super::super::{GatherRequest, join};
use super::Shared;
use super::member::{ctx_with, failure_text, unread_bucket};
use crate::snapshot::{BucketInfo, Field};

/// Every directory bucket the account owns in `regions`, and why a region's
/// could not be listed (`REGION: ...`).
pub(super) async fn directory_buckets(
    shared: &Shared<'_>,
    reader: &Reader,
    identity: &Identity,
    regions: &[String],
) -> (Vec<BucketInfo>, Vec<String>) {
    let listed = join::join_all(regions.iter().map(|region| async move {
        let pages = reader
            .s3_directory(region, false)
            .list_directory_buckets()
            .into_paginator()
            .send()
            .try_collect()
            .await;
        match pages {
            Ok(pages) => {
                let found: Vec<(String, String)> = pages
                    .iter()
                    .flat_map(|page| page.buckets())
                    .filter_map(|bucket| {
                        let name = bucket.name()?.to_string();
                        // The bucket's own region when AWS says it, else the
                        // region whose endpoint listed it.
                        let home = bucket.bucket_region().unwrap_or(region).to_string();
                        Some((name, home))
                    })
                    .collect();
                // Every directory bucket's name ends in `--x-s3` (S3 User
                // Guide, "Directory bucket naming rules"). An answer naming
                // another is no ListDirectoryBuckets answer (an emulator
                // answering a general purpose ListBuckets): the region's
                // directory buckets are then unknown, not those names.
                match found.iter().find(|(name, _)| !name.ends_with("--x-s3")) {
                    Some((name, _)) => Err(format!(
                        "{region}: s3express:ListAllMyDirectoryBuckets (ListDirectoryBuckets) for {} answered `{name}`, which is no directory bucket's name: the region's directory buckets are unknown",
                        reader.label
                    )),
                    None => Ok(found),
                }
            }
            Err(error) => Err(format!(
                "{region}: {}",
                failure_text(
                    reader,
                    "s3express:ListAllMyDirectoryBuckets (ListDirectoryBuckets)",
                    classify(&error, &shared.endpoint)
                )
            )),
        }
    }))
    .await;
    let mut errors = Vec::new();
    let mut found: Vec<(String, String)> = Vec::new();
    for result in listed {
        match result {
            Ok(buckets) => found.extend(buckets),
            Err(why) => errors.push(why),
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    let read = join::join_all(
        found
            .iter()
            .map(|(name, region)| directory_bucket(shared, reader, identity, name, region)),
    )
    .await;
    (read, errors)
}

/// One directory bucket: its policy and default encryption, read in its
/// region. The rest of the bucket record is not read here and stays
/// unknown, saying so, except what AWS documents for every directory
/// bucket.
async fn directory_bucket(
    shared: &Shared<'_>,
    reader: &Reader,
    identity: &Identity,
    name: &str,
    region: &str,
) -> BucketInfo {
    let request = GatherRequest {
        bucket: name.to_string(),
        ..shared.template.clone()
    };
    let ctx = ctx_with(shared, reader.sibling(identity.clone()), &request);
    let s3 = reader.s3_directory(region, true);
    let policy = bucket_policy(&ctx, reader, &s3, name, "s3express:GetBucketPolicy");
    let encryption = bucket_encryption(
        &ctx,
        reader,
        &s3,
        name,
        "s3express:GetEncryptionConfiguration",
    );
    let (policy, encryption) = tokio::join!(policy, encryption);
    let not_read = format!(
        "not read: the sweep reads only the policy and default encryption of directory bucket `{name}`"
    );
    let mut info = unread_bucket(name, &identity.account, &not_read);
    info.region = Some(region.to_string());
    info.bucket_type = Some(crate::snapshot::BUCKET_TYPE_DIRECTORY.to_string());
    match policy {
        Ok((field, error)) => (info.policy, info.policy_error) = (field, error),
        Err(fatal) => info.policy_error = Some(fatal.to_string()),
    }
    match encryption {
        Ok((field, error)) => (info.encryption, info.encryption_error) = (field, error),
        Err(fatal) => info.encryption_error = Some(fatal.to_string()),
    }
    // S3 Express One Zone supports no S3 Versioning (S3 User Guide, "Data
    // protection and encryption" for S3 Express One Zone): never enabled.
    info.versioning = Field::None;
    info.versioning_error = None;
    info
}
