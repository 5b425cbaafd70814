//! One member account of a sweep, read through its member role: the role
//! assumed (the management account itself is read with the organization's
//! profile), then at once its principals, its buckets (`ListBuckets`, then
//! each bucket with the same readers as a single chain: policy, encryption,
//! ownership, tags, versioning, replication, Block Public Access; and its
//! directory buckets in every `--regions` region, `directory.rs`), its keys
//! in every `--regions` region (`ListKeys`, then each key's policy, grants,
//! state, aliases and tags), its access points and its account-level Block
//! Public Access settings. Whatever cannot be listed is recorded on the
//! account (`*_error`), whatever cannot be read on its entry.

use tokio::sync::Semaphore;

use super::super::aws::{Failure, Identity, Reader, classify};
use super::super::join;
use super::super::progress::PhaseKind;
use super::super::{Ctx, GatherRequest, ReadErr, gates, kms, s3};
use super::{Shared, now, unreadable_account};
use crate::snapshot::{AccessPointInfo, AccountInfo, BucketInfo, Field, KeyInfo, Snapshot};

/// Buckets of one account read at once (each bucket's documents are read
/// at once too: about ten requests per bucket).
const BUCKETS_IN_FLIGHT: usize = 4;
/// Keys of one account read at once (five requests each).
const KEYS_IN_FLIGHT: usize = 8;

/// Reads `account`; the second value says why nothing of it could be read
/// (then the part records the account as unreadable). Never fails: a sweep
/// goes on past an account it cannot read.
pub(super) async fn read(shared: &Shared<'_>, account: &str) -> (Snapshot, Option<String>) {
    let mut part = Snapshot::new(Some(now()));
    let reader = match member_reader(shared, account).await {
        Ok(reader) => reader,
        Err(why) => {
            part.accounts
                .insert(account.to_string(), unreadable_account(&why));
            return (part, Some(why));
        }
    };
    let identity = Identity {
        account: account.to_string(),
        arn: reader.label.clone(),
        partition: shared.org_identity.partition.clone(),
    };
    let ctx = ctx_with(shared, reader.sibling(identity.clone()), &shared.template);
    let region = reader.region();
    let regions: Vec<String> = if shared.request.regions.is_empty() {
        vec![region.clone()]
    } else {
        shared.request.regions.clone()
    };
    let (principals, (buckets, directory), keys, points, account_gates) = tokio::join!(
        principals(&ctx, &reader, account),
        async {
            tokio::join!(
                buckets(shared, &reader, &identity),
                super::directory::directory_buckets(shared, &reader, &identity, &regions),
            )
        },
        keys(&ctx, account, &regions, &identity.partition),
        access_points(&ctx, &reader, account, &regions),
        gates::account_public_access_block(&ctx, &reader, account, &region),
    );
    let mut info = AccountInfo::default();
    match principals {
        Ok(list) => part.principals = list,
        Err(why) => info.principals_error = Some(why),
    }
    let (directory_list, directory_errors) = directory;
    let mut bucket_errors = Vec::new();
    match buckets {
        Ok(list) => part.buckets = list,
        Err(why) => bucket_errors.push(why),
    }
    part.buckets.extend(directory_list);
    part.buckets.sort_by(|a, b| a.name.cmp(&b.name));
    bucket_errors.extend(directory_errors);
    info.buckets_error = joined(bucket_errors);
    let (key_list, key_errors) = keys;
    part.keys = key_list;
    info.keys_error = joined(key_errors);
    let (point_list, point_errors) = points;
    part.access_points = point_list;
    info.access_points_error = joined(point_errors);
    match account_gates {
        Ok((settings, error)) => {
            info.public_access_block = settings;
            info.public_access_block_error = error;
        }
        Err(fatal) => info.public_access_block_error = Some(fatal.to_string()),
    }
    part.accounts.insert(account.to_string(), info);
    part.identify_documents();
    (part, None)
}

fn joined(errors: Vec<String>) -> Option<String> {
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// A gathering context reading with `reader` for `request`.
pub(super) fn ctx_with<'r>(
    shared: &'r Shared<'_>,
    reader: Reader,
    request: &'r GatherRequest,
) -> Ctx<'r> {
    Ctx::of_resource(
        request,
        &shared.also,
        shared.endpoint.clone(),
        reader,
        shared.progress,
    )
}

/// The member role's credentials as a reader; the management account (which
/// has no member role) with the organization's own profile.
async fn member_reader(shared: &Shared<'_>, account: &str) -> Result<Reader, String> {
    if account == shared.org_identity.account {
        return Ok(shared.org_reader.sibling(shared.org_identity.clone()));
    }
    let request = shared.request;
    let role = format!(
        "arn:{}:iam::{account}:role/{}",
        shared.org_identity.partition, request.member_role
    );
    let mut assume = shared
        .org_reader
        .sts
        .assume_role()
        .role_arn(&role)
        .role_session_name(&request.role_session_name);
    if let Some(external_id) = &request.external_id {
        assume = assume.external_id(external_id);
    }
    let output = assume.send().await.map_err(|error| {
        let code = match classify(&error, &shared.endpoint) {
            Failure::Fatal(fatal) => fatal.to_string(),
            Failure::Denied(code) | Failure::NotFound(code) | Failure::Failed(code) => code,
        };
        format!(
            "{} could not assume `{role}` (sts:AssumeRole: {code})",
            shared.org_reader.label
        )
    })?;
    let Some(credentials) = output.credentials() else {
        return Err(format!(
            "sts:AssumeRole of `{role}` returned no credentials"
        ));
    };
    let credentials = aws_sdk_sts::config::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        std::time::SystemTime::try_from(*credentials.expiration()).ok(),
        "kms-s3-doctor member role",
    );
    let session = output
        .assumed_role_user()
        .map(|user| user.arn().to_string())
        .unwrap_or_else(|| role.clone());
    let identity = Identity {
        account: account.to_string(),
        arn: session,
        partition: shared.org_identity.partition.clone(),
    };
    Ok(shared
        .org_reader
        .with_credentials(format!("member role `{role}`"), credentials, identity))
}

/// The account's principals, users and roles with every document the judge
/// reads, from one paged `GetAccountAuthorizationDetails`.
async fn principals(
    ctx: &Ctx<'_>,
    reader: &Reader,
    account: &str,
) -> Result<Vec<crate::snapshot::PrincipalInfo>, String> {
    let phase = ctx.progress.phase(PhaseKind::Principals);
    let read = super::super::gaad::read_account_principals(ctx, reader, account).await;
    if let Ok(principals) = &read {
        phase.add(principals.len() as u64);
        for _ in principals {
            phase.done();
        }
    }
    read.map_err(|error| match error {
        ReadErr::Fatal(fatal) => fatal.to_string(),
        ReadErr::Unreadable(why) => why,
    })
}

/// Every bucket the account owns, each read whole.
async fn buckets(
    shared: &Shared<'_>,
    reader: &Reader,
    identity: &Identity,
) -> Result<Vec<BucketInfo>, String> {
    let list = reader
        .s3(&reader.region())
        .list_buckets()
        // Paginated: S3 refuses unpaginated ListBuckets for accounts whose
        // bucket quota is above 10,000 (S3 API Reference, "ListBuckets").
        .max_buckets(1000)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|error| {
            failure_text(
                reader,
                "s3:ListAllMyBuckets (ListBuckets)",
                classify(&error, &shared.endpoint),
            )
        })?;
    let mut names: Vec<String> = list
        .iter()
        .flat_map(|page| page.buckets())
        .filter_map(|bucket| bucket.name().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    let phase = shared.progress.phase(PhaseKind::Buckets);
    phase.add(names.len() as u64);
    let slots = Semaphore::new(BUCKETS_IN_FLIGHT);
    let read = join::join_all(names.iter().map(|name| {
        let (slots, phase) = (&slots, &phase);
        async move {
            let _permit = slots.acquire().await.ok();
            let read = bucket(shared, reader, identity, name).await;
            phase.done();
            read
        }
    }))
    .await;
    Ok(read)
}

/// One bucket, with the single chain's readers; a bucket that vanished or
/// could not be reached is kept, every field unknown with why.
async fn bucket(
    shared: &Shared<'_>,
    reader: &Reader,
    identity: &Identity,
    name: &str,
) -> BucketInfo {
    let request = GatherRequest {
        bucket: name.to_string(),
        ..shared.template.clone()
    };
    let ctx = ctx_with(shared, reader.sibling(identity.clone()), &request);
    match s3::read_bucket(&ctx).await {
        Ok(read) => {
            let mut info = read.info;
            info.account = identity.account.clone();
            s3::name_owners(&mut info);
            info
        }
        Err(fatal) => unread_bucket(name, &identity.account, &fatal.to_string()),
    }
}

/// A bucket that was listed but whose documents could not be read: every
/// field unknown, with why.
pub(in crate::live) fn unread_bucket(name: &str, account: &str, why: &str) -> BucketInfo {
    let why = Some(why.to_string());
    BucketInfo {
        name: name.to_string(),
        account: account.to_string(),
        account_error: None,
        region: None,
        policy: Field::Unknown,
        policy_error: why.clone(),
        encryption: Field::Unknown,
        encryption_error: why.clone(),
        ownership: Field::Unknown,
        ownership_error: why.clone(),
        tags: Field::Unknown,
        tags_error: why.clone(),
        versioning: Field::Unknown,
        versioning_error: why.clone(),
        replication: Field::Unknown,
        replication_error: why.clone(),
        objects: Vec::new(),
        bucket_type: None,
        public_access_block: Field::Unknown,
        public_access_block_error: why,
    }
}

/// Every key of the account in `regions`, and why a region's keys could
/// not be listed.
async fn keys(
    ctx: &Ctx<'_>,
    account: &str,
    regions: &[String],
    partition: &str,
) -> (Vec<KeyInfo>, Vec<String>) {
    let listed = join::join_all(regions.iter().map(|region| async move {
        let pages = ctx
            .resource
            .kms(region)
            .list_keys()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        match pages {
            Ok(keys) => Ok(keys
                .iter()
                .filter_map(|key| key.key_arn().map(|arn| (region.clone(), arn.to_string())))
                .collect::<Vec<_>>()),
            Err(error) => Err(format!(
                "{region}: {}",
                failure_text(
                    &ctx.resource,
                    "kms:ListKeys",
                    classify(&error, &ctx.endpoint)
                )
            )),
        }
    }))
    .await;
    let mut errors = Vec::new();
    let mut arns = Vec::new();
    for result in listed {
        match result {
            Ok(found) => arns.extend(found),
            Err(why) => errors.push(why),
        }
    }
    let slots = Semaphore::new(KEYS_IN_FLIGHT);
    let phase = ctx.progress.phase(PhaseKind::Keys);
    phase.add(arns.len() as u64);
    let read = join::join_all(arns.iter().map(|(region, arn)| {
        let (slots, phase) = (&slots, &phase);
        async move {
            let _permit = slots.acquire().await.ok();
            let read = kms::read_key(ctx, arn, region, account, partition).await;
            phase.done();
            (arn, read)
        }
    }))
    .await;
    let mut keys = Vec::new();
    for (arn, result) in read {
        match result {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => {}
            Err(fatal) => {
                let mut key = KeyInfo::unread(arn);
                key.state_error = Some(fatal.to_string());
                key.policy_error = Some(fatal.to_string());
                key.grants_error = Some(fatal.to_string());
                keys.push(key);
            }
        }
    }
    keys.sort_by(|a, b| a.arn.cmp(&b.arn));
    (keys, errors)
}

/// Every access point of the account in `regions` (S3 Control
/// `ListAccessPoints`), each read as `--access-point` reads one.
async fn access_points(
    ctx: &Ctx<'_>,
    reader: &Reader,
    account: &str,
    regions: &[String],
) -> (Vec<AccessPointInfo>, Vec<String>) {
    let mut points = Vec::new();
    let mut errors = Vec::new();
    for region in regions {
        let mut token: Option<String> = None;
        loop {
            let sent = reader
                .s3control(region)
                .list_access_points()
                .account_id(account)
                .set_next_token(token.clone())
                .send()
                .await;
            let output = match sent {
                Ok(output) => output,
                Err(error) => {
                    errors.push(format!(
                        "{region}: {}",
                        failure_text(
                            reader,
                            "s3:ListAccessPoints",
                            classify(&error, &ctx.endpoint)
                        )
                    ));
                    break;
                }
            };
            for point in output.access_point_list() {
                let Some(arn) = point.access_point_arn() else {
                    continue;
                };
                let bucket_account = point.bucket_account_id().unwrap_or(account);
                match gates::read_access_point(ctx, arn, point.bucket(), bucket_account).await {
                    Ok(Some(info)) => points.push(info),
                    Ok(None) => {}
                    Err(fatal) => errors.push(format!("{arn}: {fatal}")),
                }
            }
            token = output.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    points.sort_by(|a, b| a.arn.cmp(&b.arn));
    (points, errors)
}

/// A listing's failure as the `*_error` text.
pub(super) fn failure_text(reader: &Reader, permission: &str, failure: Failure) -> String {
    let who = &reader.label;
    match failure {
        Failure::Fatal(fatal) => format!("{permission} for {who}: {fatal}"),
        Failure::Denied(code) => format!("{permission} denied for {who} ({code})"),
        Failure::NotFound(code) => format!("{permission} found nothing with {who} ({code})"),
        Failure::Failed(code) => format!("{permission} failed for {who} ({code})"),
    }
}
