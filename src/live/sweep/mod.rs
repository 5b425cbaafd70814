//! The organization sweep (`snapshot --org-profile P --member-role NAME`):
//! lists the organization's accounts with the management (or delegated
//! administrator) profile, reads every account's organization, SCPs and
//! RCPs with it, then reads each member account through its member role —
//! principals, buckets, keys and access points — and writes each account's
//! file the moment it is finished, so an interrupted sweep resumes where it
//! stopped. An account that cannot be read is written too, as unreadable:
//! the judge then says `unknown` about it, never nothing.
//!
//! `accounts.rs` lists the accounts and reads their organization;
//! `member.rs` reads one member account; this file runs the phases and
//! writes the directory.

mod accounts;
mod directory;
mod member;

pub(in crate::live) use member::unread_bucket;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::aws::{Identity, ReadOnlyGuard, Reader};
use super::limits::Limits;
use super::progress::Progress;
use super::{Also, GatherError, GatherRequest, LiveLimits, Summary, join};
use crate::snapshot::directory::{
    Manifest, ManifestEntry, ORGANIZATION, STATUS_READ, STATUS_UNREADABLE, account_file,
    write_atomically,
};
use crate::snapshot::lazy::FileIndex;
use crate::snapshot::shard::Shard;
use crate::snapshot::{AccountInfo, Snapshot};

/// Member accounts read at once. Each account's reads are themselves
/// concurrent (every bucket's documents at once, a few buckets at a time),
/// and IAM, S3's configuration calls and Organizations have per-account
/// quotas AWS does not publish: eight accounts keep a laptop's connection
/// pool busy without piling requests on any one account.
pub const ACCOUNTS_IN_FLIGHT: usize = 8;

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepRequest {
    pub org_profile: String,
    pub member_role: String,
    pub external_id: Option<String>,
    pub role_session_name: String,
    /// Only these accounts (empty: all).
    pub accounts: Vec<String>,
    /// Where keys and access points are read (empty: the profile's region).
    pub regions: Vec<String>,
    pub shard: Option<Shard>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// For each AWS call (and its retries).
    pub timeout: Duration,
    pub progress: bool,
    /// No progress and no closing summary on stderr.
    pub quiet: bool,
    /// Attempts per read and requests in flight per account, region and
    /// service.
    pub limits: LiveLimits,
    /// The directory snapshot written.
    pub dir: PathBuf,
    /// What an earlier run finished (`--resume`).
    pub manifest: Manifest,
    /// Stop once this many accounts are written, as an interruption would.
    pub stop_after: Option<usize>,
}

/// What a sweep did.
#[derive(Debug, Clone, Default)]
pub struct Swept {
    pub organization: Option<String>,
    pub accounts: usize,
    pub read: usize,
    pub skipped: usize,
    pub unreadable: Vec<(String, String)>,
    /// Requests, retries, throttling and failures.
    pub summary: Summary,
    pub stopped: bool,
}

/// Runs the sweep. Builds its own runtime.
pub fn sweep(request: &SweepRequest) -> Result<Swept, GatherError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| GatherError::Runtime(error.to_string()))?;
    runtime.block_on(async {
        let guard = ReadOnlyGuard::default();
        let limits = Limits::new(request.limits.clone());
        limits.tally.start();
        let progress = if request.progress && !request.quiet {
            Progress::start(
                "sweeping the organization".to_string(),
                guard.sent.clone(),
                limits.tally.clone(),
            )
        } else {
            Progress::hidden()
        };
        let result = run(request, guard, &limits, &progress).await;
        progress.finish().await;
        let mut swept = result?;
        swept.summary = limits.tally.summary();
        Ok(swept)
    })
}

/// What every account's reads share.
struct Shared<'r> {
    request: &'r SweepRequest,
    /// A one-bucket gathering's request, which the bucket and key readers
    /// take: the sweep's region, endpoint and timeout, no bucket yet.
    template: GatherRequest,
    also: Also,
    endpoint: String,
    org_reader: Reader,
    org_identity: Identity,
    limits: &'r Limits,
    progress: &'r Progress,
}

async fn run(
    request: &SweepRequest,
    guard: ReadOnlyGuard,
    limits: &std::sync::Arc<Limits>,
    progress: &Progress,
) -> Result<Swept, GatherError> {
    let org_reader = Reader::load(
        Some(&request.org_profile),
        request.region.as_deref(),
        request.endpoint_url.as_deref(),
        request.timeout,
        guard,
        limits,
        None,
    )
    .await;
    let endpoint = request
        .endpoint_url
        .as_ref()
        .map_or_else(|| "the aws endpoints".to_string(), |url| format!("`{url}`"));
    let org_identity = org_reader.identity(&endpoint).await?;
    let template = GatherRequest {
        bucket: String::new(),
        object: None,
        principal: None,
        via_role: None,
        access_point: None,
        extra_key_ids: Vec::new(),
        profile: Some(request.org_profile.clone()),
        principal_profile: None,
        org_profiles: vec![request.org_profile.clone()],
        region: request.region.clone(),
        endpoint_url: request.endpoint_url.clone(),
        timeout: request.timeout,
        progress: false,
        quiet: true,
        limits: request.limits.clone(),
    };
    let shared = Shared {
        request,
        template,
        also: Also::default(),
        endpoint,
        org_reader,
        org_identity,
        limits,
        progress,
    };
    let listed = accounts::list(&shared).await?;
    let chosen = accounts::choose(&listed.accounts, request)?;
    let (organization, infos) = accounts::organization(&shared, &chosen).await?;
    let mut org_part = Snapshot::new(Some(now()));
    org_part.accounts = infos;
    let org_index = write_part(request, ORGANIZATION, &org_part)?;

    let finished: BTreeSet<&str> = request.manifest.finished().collect();
    let todo: Vec<&String> = chosen
        .iter()
        .filter(|account| !finished.contains(account.as_str()))
        .collect();
    let mut manifest = request.manifest.clone();
    manifest.index.insert(ORGANIZATION.to_string(), org_index);
    manifest.organization = organization.clone().or(manifest.organization);
    manifest.shard = request.shard.map(|shard| shard.to_string());
    manifest.write(&request.dir).map_err(GatherError::Sweep)?;
    let manifest = Mutex::new(manifest);
    let slots = Semaphore::new(ACCOUNTS_IN_FLIGHT);
    let written = AtomicUsize::new(0);
    let unreadable = Mutex::new(Vec::new());
    let total = todo.len();
    let results = join::join_all(todo.iter().map(|account| async {
        let _permit = slots.acquire().await.ok();
        if request
            .stop_after
            .is_some_and(|limit| written.load(Ordering::SeqCst) >= limit)
        {
            return Ok(());
        }
        let (part, failure) = member::read(&shared, account).await;
        let index = write_part(request, &account_file(account), &part)?;
        let tally = &shared.limits.tally;
        let status = match &failure {
            Some(why) => {
                lock(&unreadable).push(((*account).clone(), why.clone()));
                tally.accounts_failed.fetch_add(1, Ordering::Relaxed);
                STATUS_UNREADABLE
            }
            None => {
                tally.accounts_read.fetch_add(1, Ordering::Relaxed);
                STATUS_READ
            }
        };
        {
            let mut manifest = lock(&manifest);
            manifest.accounts.insert(
                (*account).clone(),
                ManifestEntry {
                    status: status.to_string(),
                    file: account_file(account),
                    finished_at: now(),
                },
            );
            manifest.index.insert(account_file(account), index);
            manifest.write(&request.dir).map_err(GatherError::Sweep)?;
        }
        written.fetch_add(1, Ordering::SeqCst);
        Ok::<(), GatherError>(())
    }))
    .await;
    for result in results {
        result?;
    }
    let read = written.load(Ordering::SeqCst);
    let mut unreadable = unreadable
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    unreadable.sort();
    Ok(Swept {
        organization,
        accounts: chosen.len(),
        read,
        skipped: chosen.len() - todo.len(),
        unreadable,
        summary: Summary::default(),
        stopped: read < total,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another account's task panicked; what it
    // guards is written whole or not at all.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Writes one part of the directory snapshot, whole or not at all, and
/// says what it holds for the manifest's index.
fn write_part(
    request: &SweepRequest,
    name: &str,
    part: &Snapshot,
) -> Result<FileIndex, GatherError> {
    let path = request.dir.join(name);
    write_atomically(&path, &(part.to_json() + "\n")).map_err(GatherError::Sweep)?;
    FileIndex::of_file(part, &path).map_err(GatherError::Sweep)
}

/// An account of which nothing of its own could be read, for `why`.
fn unreadable_account(why: &str) -> AccountInfo {
    AccountInfo {
        principals_error: Some(why.to_string()),
        buckets_error: Some(why.to_string()),
        keys_error: Some(why.to_string()),
        access_points_error: Some(why.to_string()),
        public_access_block_error: Some(why.to_string()),
        ..AccountInfo::default()
    }
}
