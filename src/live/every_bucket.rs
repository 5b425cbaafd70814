//! Every bucket the bucket-side profiles' accounts own, read for
//! `can-access`: each distinct account among `--profile` and
//! `--principal-profile` lists its buckets (`ListBuckets` answers only the
//! caller's account's own buckets), then each bucket is read with the same
//! readers `check` uses for its one bucket (policy, encryption, ownership,
//! tags, versioning, replication, Block Public Access), its keys and
//! replication destinations with the gathering's shared memos, and each
//! account's own Block Public Access settings and organization once. No
//! objects are read unless `--object` names one: a bucket's row is judged
//! for a placeholder key at its root, as `check` judges it without
//! `--object`.

use tokio::sync::Semaphore;

use super::aws::{Identity, Reader, classify};
use super::join;
use super::progress::PhaseKind;
use super::{AccountGates, Ctx, GatherError, GatherRequest, ReadErr, gates, kms, org, replication};
use super::{key_references, s3};
use crate::snapshot::{BucketInfo, KeyInfo};

/// Buckets read at once. Each bucket's reads are themselves concurrent
/// (about eight requests), and every request also waits for its
/// (account, region, service) slot: a few buckets at a time keep the
/// connection pool busy without queueing hundreds of futures.
const BUCKETS_IN_FLIGHT: usize = 4;

/// What was read of every bucket-side account.
pub(super) struct Estate {
    /// Every listed bucket, and the destinations of their replication
    /// rules; a bucket whose reads failed is kept with its fields unknown.
    pub buckets: Vec<BucketInfo>,
    /// Every key a bucket's default encryption (or a replication rule, or
    /// `--object`) names, each once.
    pub keys: Vec<KeyInfo>,
    /// Each bucket-side account's Block Public Access settings, and why its
    /// buckets could not be listed when they could not.
    pub accounts: Vec<(String, AccountGates, Option<String>)>,
    /// One line for each account whose buckets could not be listed.
    pub warnings: Vec<String>,
}

/// Reads every bucket of every bucket-side account. Fails (exit 4) only as
/// `check`'s gathering fails (credentials, endpoint, timeout), or when no
/// account's buckets could be listed at all: an empty answer would then
/// read as "reaches nothing".
pub(super) async fn every_bucket_branch(ctx: &Ctx<'_>) -> Result<Estate, GatherError> {
    let mut accounts: Vec<(&Reader, Identity)> = Vec::new();
    for (reader, identity) in ctx.readers().await? {
        if !accounts
            .iter()
            .any(|(_, known)| known.account == identity.account)
        {
            accounts.push((reader, identity));
        }
    }
    let profile_accounts: Vec<&str> = accounts
        .iter()
        .map(|(_, identity)| identity.account.as_str())
        .collect();
    let profile_accounts = &profile_accounts;
    let phase = ctx.progress.phase(PhaseKind::Buckets);
    let slots = Semaphore::new(BUCKETS_IN_FLIGHT);
    let read = join::try_join_all(accounts.iter().map(|(reader, identity)| {
        let (slots, phase) = (&slots, &phase);
        async move {
            let region = reader.region();
            let listing = list(ctx, reader);
            let account_gates =
                gates::account_public_access_block(ctx, reader, &identity.account, &region);
            let (listing, account_gates, _) = tokio::try_join!(
                listing,
                account_gates,
                org::account_info(ctx, &identity.account)
            )?;
            let names = match listing {
                Ok(names) => names,
                Err(why) => return Ok((identity, account_gates, Err(why))),
            };
            phase.add(names.len() as u64);
            let buckets = join::try_join_all(names.iter().map(|name| async move {
                let _permit = slots.acquire().await.ok();
                let read = bucket(ctx, reader, identity, name, profile_accounts).await;
                phase.done();
                read
            }))
            .await?;
            Ok::<_, GatherError>((identity, account_gates, Ok(buckets)))
        }
    }))
    .await?;

    let mut estate = Estate {
        buckets: Vec::new(),
        keys: Vec::new(),
        accounts: Vec::new(),
        warnings: Vec::new(),
    };
    let mut listed_any = false;
    let mut unlisted: Vec<String> = Vec::new();
    for (identity, account_gates, buckets) in read {
        match buckets {
            Ok(buckets) => {
                listed_any = true;
                for (bucket, keys, destinations) in buckets {
                    estate.buckets.push(bucket);
                    for destination in destinations {
                        if !estate
                            .buckets
                            .iter()
                            .any(|known| known.name == destination.name)
                        {
                            estate.buckets.push(destination);
                        }
                    }
                    for key in keys {
                        if !estate.keys.iter().any(|known| known.arn == key.arn) {
                            estate.keys.push(key);
                        }
                    }
                }
                estate
                    .accounts
                    .push((identity.account.clone(), account_gates, None));
            }
            Err(why) => {
                unlisted.push(format!("account {}: {why}", identity.account));
                estate.warnings.push(format!(
                    "the buckets of account {} were not listed ({why}); none of them is in the snapshot",
                    identity.account
                ));
                estate
                    .accounts
                    .push((identity.account.clone(), account_gates, Some(why)));
            }
        }
    }
    if !listed_any {
        return Err(GatherError::Unlisted(unlisted.join("; ")));
    }
    // A destination bucket listed by its own account is read in full there;
    // keep that entry over the replication reader's.
    let mut unique: Vec<BucketInfo> = Vec::new();
    for bucket in estate.buckets {
        if !unique.iter().any(|known| known.name == bucket.name) {
            unique.push(bucket);
        }
    }
    unique.sort_by(|a, b| a.name.cmp(&b.name));
    estate.buckets = unique;
    estate.keys.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok(estate)
}

/// The names of the buckets `reader`'s account owns; `Err` says why they
/// could not be listed.
async fn list(ctx: &Ctx<'_>, reader: &Reader) -> Result<Result<Vec<String>, String>, GatherError> {
    let pages = reader
        .s3(&reader.region())
        .list_buckets()
        // Paginated: S3 refuses unpaginated ListBuckets for accounts whose
        // bucket quota is above 10,000 (S3 API Reference, "ListBuckets").
        .max_buckets(1000)
        .into_paginator()
        .send()
        .try_collect()
        .await;
    match pages {
        Ok(pages) => {
            let mut names: Vec<String> = pages
                .iter()
                .flat_map(|page| page.buckets())
                .filter_map(|bucket| bucket.name().map(str::to_string))
                .collect();
            names.sort();
            names.dedup();
            Ok(Ok(names))
        }
        Err(error) => match ctx.unreadable(
            reader,
            "s3:ListAllMyBuckets (ListBuckets)",
            classify(&error, &ctx.endpoint),
        ) {
            ReadErr::Fatal(fatal) => Err(fatal),
            ReadErr::Unreadable(why) => Ok(Err(why)),
        },
    }
}

/// One bucket as `check` reads its bucket, with the keys its default
/// encryption (and `--object`'s) names and the destinations of its
/// replication rules. A bucket deleted since it was listed is kept, every
/// field unknown with why: it was there a moment ago. `profile_accounts`:
/// the accounts a profile is of.
async fn bucket(
    ctx: &Ctx<'_>,
    reader: &Reader,
    identity: &Identity,
    name: &str,
    profile_accounts: &[&str],
) -> Result<(BucketInfo, Vec<KeyInfo>, Vec<BucketInfo>), GatherError> {
    let request = GatherRequest {
        bucket: name.to_string(),
        ..ctx.request.clone()
    };
    let own = one_bucket_ctx(ctx, reader.sibling(identity.clone()), &request);
    let read = match s3::read_bucket(&own).await {
        Ok(read) => read,
        Err(GatherError::BucketNotFound(_)) => {
            let why = format!("bucket `{name}` was listed, then no longer found (NoSuchBucket)");
            let info = super::sweep::unread_bucket(name, &identity.account, &why);
            return Ok((info, Vec::new(), Vec::new()));
        }
        Err(fatal) => return Err(fatal),
    };
    let mut info = read.info;
    info.account = identity.account.clone();
    s3::name_owners(&mut info);
    let references = key_references(&info, &ctx.request.extra_key_ids);
    let keys = join::try_join_all(references.iter().map(|reference| {
        // A key of an account no profile is of is read, as `check` reads
        // it, with the bucket owner's credentials (cross-account
        // DescribeKey and ListGrants work when its key policy lets the
        // owner in); any other key with its own account's profile, once
        // for every bucket naming it.
        let foreign = crate::policy::arn::Arn::parse(reference)
            .is_ok_and(|arn| !profile_accounts.contains(&arn.account.as_str()));
        kms::read_key(
            if foreign { &own } else { ctx },
            reference,
            &read.region,
            &identity.account,
            &identity.partition,
        )
    }));
    let (keys, (destinations, replica_keys)) = tokio::try_join!(
        keys,
        replication::read_destinations(ctx, &info, &identity.partition)
    )?;
    let mut keys: Vec<KeyInfo> = keys.into_iter().flatten().collect();
    keys.extend(replica_keys);
    // RCPs apply in the key's account too.
    let key_accounts: Vec<String> = keys
        .iter()
        .filter_map(|key| {
            crate::policy::arn::Arn::parse(&key.arn)
                .ok()
                .map(|arn| arn.account)
        })
        .filter(|account| account != &identity.account)
        .collect();
    join::try_join_all(
        key_accounts
            .iter()
            .map(|account| org::account_info(ctx, account)),
    )
    .await?;
    Ok((info, keys, destinations))
}

/// The context the one-bucket readers take: `request` names the bucket,
/// and `reader` is of the bucket's own account. Its memos are its own; the
/// reads several buckets share (keys, organizations) go through the
/// gathering's context instead.
fn one_bucket_ctx<'r>(ctx: &'r Ctx<'_>, reader: Reader, request: &'r GatherRequest) -> Ctx<'r> {
    Ctx::of_resource(
        request,
        ctx.also,
        ctx.endpoint.clone(),
        reader,
        ctx.progress,
    )
}
