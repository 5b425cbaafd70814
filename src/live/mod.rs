//! Live mode: reads every document of the chain from AWS into the same
//! [`Snapshot`] the offline path loads, so one judge reads both.
//!
//! Reads are read-only (`Get*`, `List*`, `Describe*`, `Head*`,
//! `GetCallerIdentity`, enforced by a guard on every client) and
//! concurrent: every independent read is in flight at once, and a dependent
//! read (a key after the encryption config names it, a policy version after
//! its policy) starts the moment its input arrives. A document that cannot
//! be read is not an error: its field stays unknown with the reason and the
//! profile or permission that would read it. Only "nothing can be read at
//! all" is a [`GatherError`].

mod aws;
mod call_log;
mod every_bucket;
mod gaad;
mod gates;
mod iam;
mod join;
mod kms;
pub(crate) mod limits;
mod org;
pub(crate) mod progress;
mod rates;
mod replication;
mod s3;
pub mod sweep;
mod toolbox;

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::policy::arn::{Principal, PrincipalKind};
use crate::snapshot::{
    AccountInfo, KeyInfo, NamedPolicy, PolicyDoc, PolicyKind, PrincipalInfo, Snapshot,
};

pub use aws::{CREDENTIAL_OPERATIONS, READ_OPERATIONS, ReadOperation, is_read_operation};
use aws::{Failure, Identity, ReadOnlyGuard, Reader, classify};
pub use call_log::TARGET as CALL_LOG_TARGET;
use join::Memo;
use limits::Limits;
pub use limits::{DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_CONCURRENCY, LiveLimits, Summary};
use progress::{PhaseKind, Progress};
pub use rates::{PUBLISHED_RATES, rate_operation};
pub use toolbox::{ToolboxError, ToolboxRequest, fetch_authorization_details};

/// What to read.
#[derive(Debug, Clone)]
pub struct GatherRequest {
    pub bucket: String,
    pub object: Option<String>,
    /// ARN or account id as given by `--principal`; `None`: the caller
    /// (`sts:GetCallerIdentity` with `principal_profile`, else `profile`).
    pub principal: Option<String>,
    /// `--via-role`: its trust policy, identity policies and boundary too.
    pub via_role: Option<String>,
    /// `--access-point`: the access point read when it is given by ARN.
    pub access_point: Option<String>,
    /// Keys named by `--context s3:x-amz-server-side-encryption-aws-kms-key-id`.
    pub extra_key_ids: Vec<String>,
    pub profile: Option<String>,
    pub principal_profile: Option<String>,
    /// `--org-profile`: management accounts or delegated administrators of
    /// organizations, whose SCPs and RCPs are read with them.
    pub org_profiles: Vec<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// For everything together.
    pub timeout: Duration,
    /// Progress bars on stderr while reading.
    pub progress: bool,
    /// `--quiet`: no progress and no closing summary on stderr.
    pub quiet: bool,
    /// Attempts per read and requests in flight.
    pub limits: LiveLimits,
}

/// More to read in the same gathering as a [`GatherRequest`], for
/// `kms-s3-doctor test`: every principal, `via_role` role and object of an
/// access-test file's expectations on one bucket. Each document is still
/// read once however many expectations name it (users are deduplicated
/// here, roles, managed policies, keys and accounts by the gathering's memos).
#[derive(Debug, Clone, Default)]
pub struct Also {
    pub principals: Vec<String>,
    pub via_roles: Vec<String>,
    pub objects: Vec<String>,
    /// `snapshot --all-principals`: every user and role of every account a
    /// profile is of, read with GetAccountAuthorizationDetails.
    pub all_principals: bool,
    /// `can-access`: every bucket the accounts of `profile` and
    /// `principal_profile` own, in place of `bucket`.
    pub every_bucket: bool,
}

/// What was read.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub snapshot: Snapshot,
    /// The principal as judged: `--principal` as given, else the caller's
    /// ARN (a session ARN kept as such).
    pub principal: String,
    /// What was asked for and could not be read, for a line on stderr
    /// (`--all-principals` in an account whose principals cannot be listed).
    pub warnings: Vec<String>,
    /// What the reading cost: requests, retries, throttling, failures.
    pub summary: Summary,
}

/// Why nothing could be gathered (exit 4). One line, lowercase, never a
/// credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatherError {
    #[error("no usable aws credentials for {who}: {reason}")]
    NoCredentials { who: String, reason: String },
    #[error("cannot reach {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("bucket `{0}` does not exist")]
    BucketNotFound(String),
    #[error(
        "bucket `{bucket}` is owned by {owner}, not by account {account} of {profile}: --profile must be a profile of the bucket's account"
    )]
    WrongBucketOwner {
        bucket: String,
        profile: String,
        account: String,
        owner: String,
    },
    #[error("timed out reading from aws: {0}")]
    Timeout(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(String),
    /// An organization sweep cannot start (its accounts cannot be listed).
    #[error("{0}")]
    Sweep(String),
    /// `can-access`: no account's buckets could be listed.
    #[error("no bucket could be listed: {0}")]
    Unlisted(String),
}

/// A read that did not produce its document.
#[derive(Debug, Clone)]
pub(crate) enum ReadErr {
    /// Stop everything.
    Fatal(GatherError),
    /// This document is unknown, for this reason.
    Unreadable(String),
}

impl From<GatherError> for ReadErr {
    fn from(error: GatherError) -> Self {
        ReadErr::Fatal(error)
    }
}

/// Shared state of one gathering: the readers and the reads several
/// branches need.
pub(crate) struct Ctx<'r> {
    pub request: &'r GatherRequest,
    pub also: &'r Also,
    /// Where requests go, for messages.
    pub endpoint: String,
    pub resource: Reader,
    pub principal_reader: Option<Reader>,
    /// `--org-profile` readers, used for Organizations reads only.
    pub org_readers: Vec<Reader>,
    pub managed: Memo<Result<String, ReadErr>>,
    pub keys: Memo<Result<Option<KeyInfo>, GatherError>>,
    pub roles: Memo<Result<PrincipalInfo, GatherError>>,
    pub accounts: Memo<Result<AccountInfo, GatherError>>,
    pub org_views: Memo<Result<Option<org::OrgView>, ReadErr>>,
    pub org_roots: Memo<Result<Vec<aws_sdk_organizations::types::PolicyType>, ReadErr>>,
    pub org_policies: Memo<Result<String, ReadErr>>,
    /// The phases' progress bars (no-ops when nothing is drawn).
    pub progress: &'r Progress,
}

impl<'r> Ctx<'r> {
    /// A context reading one account's resources with `resource`, with no
    /// principal or organization readers and memos of its own.
    pub(crate) fn of_resource(
        request: &'r GatherRequest,
        also: &'r Also,
        endpoint: String,
        resource: Reader,
        progress: &'r Progress,
    ) -> Self {
        Ctx {
            request,
            also,
            endpoint,
            resource,
            principal_reader: None,
            org_readers: Vec::new(),
            managed: Memo::default(),
            keys: Memo::default(),
            roles: Memo::default(),
            accounts: Memo::default(),
            org_views: Memo::default(),
            org_roots: Memo::default(),
            org_policies: Memo::default(),
            progress,
        }
    }

    /// `--object` and the [`Also`] objects, each once, in order.
    pub(crate) fn objects(&self) -> Vec<&str> {
        let mut objects: Vec<&str> = Vec::new();
        for key in self.request.object.iter().chain(&self.also.objects) {
            if !objects.contains(&key.as_str()) {
                objects.push(key);
            }
        }
        objects
    }

    /// Every profile with its identity (resource first).
    pub(crate) async fn readers(&self) -> Result<Vec<(&Reader, Identity)>, GatherError> {
        let resource = self.resource.identity(&self.endpoint);
        let principal = async {
            match &self.principal_reader {
                Some(reader) => reader
                    .identity(&self.endpoint)
                    .await
                    .map(|id| Some((reader, id))),
                None => Ok(None),
            }
        };
        let (resource, principal) = tokio::try_join!(resource, principal)?;
        let mut readers = vec![(&self.resource, resource)];
        readers.extend(principal);
        Ok(readers)
    }

    /// The profile whose credentials are of `account` (the principal
    /// profile first), if any.
    pub(crate) async fn reader_for(&self, account: &str) -> Result<Option<&Reader>, GatherError> {
        let readers = self.readers().await?;
        Ok(readers
            .iter()
            .rev()
            .find(|(_, identity)| identity.account == account)
            .map(|(reader, _)| *reader))
    }

    /// The text of an unreadable document's `*_error`.
    pub(crate) fn unreadable(
        &self,
        reader: &Reader,
        permission: &str,
        failure: Failure,
    ) -> ReadErr {
        let who = &reader.label;
        ReadErr::Unreadable(match failure {
            Failure::Fatal(fatal) => return ReadErr::Fatal(fatal),
            Failure::Denied(code) => format!("{permission} denied for {who} ({code})"),
            Failure::NotFound(code) => format!("{permission} found nothing with {who} ({code})"),
            Failure::Failed(code) => format!("{permission} failed for {who} ({code})"),
        })
    }

    /// Awaits one request (or a paginator's `try_collect`) whose failure
    /// only makes its document unknown, worded as [`Ctx::unreadable`] with
    /// `permission`.
    pub(crate) async fn read<T, E>(
        &self,
        reader: &Reader,
        permission: &str,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, ReadErr>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        request
            .await
            .map_err(|error| self.unreadable(reader, permission, classify(&error, &self.endpoint)))
    }
}

/// A policy's text read from AWS as a [`NamedPolicy`]; `label` names it in
/// the document and in the error when it does not parse.
pub(crate) fn parse_policy(
    label: String,
    text: &str,
    name: &str,
    kind: Option<PolicyKind>,
) -> Result<NamedPolicy, ReadErr> {
    PolicyDoc::from_text(&label, text)
        .map(|document| NamedPolicy {
            name: name.to_string(),
            kind,
            document,
        })
        .map_err(|error| {
            ReadErr::Unreadable(format!("{label} read from AWS does not parse: {error}"))
        })
}

/// The documents of listed policies (IAM inline or managed, SCPs, RCPs),
/// all read at once: `fetch` reads one's text, `describe` gives its label
/// and name. The first unreadable one makes the whole list unknown.
pub(crate) async fn policy_docs<T>(
    listed: &[T],
    fetch: impl AsyncFn(&T) -> Result<String, ReadErr>,
    describe: impl Fn(&T) -> (String, String),
    kind: Option<PolicyKind>,
) -> Result<Vec<NamedPolicy>, ReadErr> {
    let (fetch, describe) = (&fetch, &describe);
    join::try_join_all(listed.iter().map(|item| async move {
        let text = fetch(item).await?;
        let (label, name) = describe(item);
        parse_policy(label, &text, &name, kind)
    }))
    .await
}

/// Reads everything `request` needs. Builds its own runtime.
pub fn gather(request: &GatherRequest) -> Result<Gathered, GatherError> {
    gather_also(request, &Also::default())
}

/// Reads everything `request` and `also` need in one gathering.
pub fn gather_also(request: &GatherRequest, also: &Also) -> Result<Gathered, GatherError> {
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
            let what = if also.every_bucket {
                "every bucket of the profiles' accounts".to_string()
            } else {
                format!("`{}`", request.bucket)
            };
            Progress::start(
                format!("reading {what} and its chain from AWS"),
                guard.sent.clone(),
                limits.tally.clone(),
            )
        } else {
            Progress::hidden()
        };
        let result = tokio::time::timeout(
            request.timeout,
            run(request, also, guard, &limits, &progress),
        )
        .await;
        progress.finish().await;
        let summary = limits.tally.summary();
        let result = match result {
            Ok(result) => result,
            Err(_) => Err(GatherError::Timeout(format!(
                "nothing finished within {}s (--timeout)",
                request.timeout.as_secs_f64()
            ))),
        };
        let mut gathered = result?;
        gathered.summary = summary;
        if !request.quiet && (summary.eventful() || std::io::stderr().is_terminal()) {
            eprintln!("{summary}");
        }
        Ok(gathered)
    })
}

async fn run(
    request: &GatherRequest,
    also: &Also,
    guard: ReadOnlyGuard,
    limits: &std::sync::Arc<Limits>,
    progress: &Progress,
) -> Result<Gathered, GatherError> {
    let load = |profile: Option<String>| {
        let guard = guard.clone();
        async move {
            Reader::load(
                profile.as_deref(),
                request.region.as_deref(),
                request.endpoint_url.as_deref(),
                request.timeout,
                guard,
                limits,
                None,
            )
            .await
        }
    };
    let (resource, principal_reader) = tokio::join!(load(request.profile.clone()), async {
        match &request.principal_profile {
            Some(profile) => Some(load(Some(profile.clone())).await),
            None => None,
        }
    });
    let org_readers = join::join_all(
        request
            .org_profiles
            .iter()
            .map(|profile| load(Some(profile.clone()))),
    )
    .await;
    let endpoint = request
        .endpoint_url
        .as_ref()
        .map_or_else(|| "the aws endpoints".to_string(), |url| format!("`{url}`"));
    let ctx = Ctx {
        principal_reader,
        org_readers,
        ..Ctx::of_resource(request, also, endpoint, resource, progress)
    };
    let ctx = &ctx;
    // DescribeOrganization needs nothing: start it with everything else so
    // the organization reads are one round trip further along when the
    // accounts are known. An --org-profile without usable credentials stops
    // the run as any other profile's would.
    let org_views = async {
        let readers = std::iter::once(&ctx.resource)
            .chain(ctx.principal_reader.as_ref())
            .chain(&ctx.org_readers);
        let identities = join::try_join_all(
            ctx.org_readers
                .iter()
                .map(|reader| reader.identity(&ctx.endpoint)),
        );
        let views = join::join_all(readers.map(|reader| org::view(ctx, reader)));
        let (identities, _) = tokio::join!(identities, views);
        identities.map(|_| ())
    };
    if ctx.also.every_bucket {
        let (estate, (principal, mut principals), (), (everyone, mut warnings)) = tokio::try_join!(
            every_bucket::every_bucket_branch(ctx),
            principal_branch(ctx),
            org_views,
            all_principals_branch(ctx)
        )?;
        for info in everyone {
            if !principals.iter().any(|known| known.arn == info.arn) {
                principals.push(info);
            }
        }
        warnings.extend(estate.warnings);
        let mut snapshot = Snapshot::new(Some(
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ));
        for (account, info) in ctx.accounts.finished() {
            snapshot.accounts.insert(account, info?);
        }
        for (account, (settings, error), unlisted) in estate.accounts {
            let info = snapshot.accounts.entry(account).or_default();
            (info.public_access_block, info.public_access_block_error) = (settings, error);
            info.buckets_error = unlisted;
        }
        snapshot.buckets = estate.buckets;
        snapshot.keys = estate.keys;
        snapshot.principals = principals;
        snapshot.identify_documents();
        return Ok(Gathered {
            snapshot,
            principal,
            warnings,
            summary: Summary::default(),
        });
    }
    let ((bucket, destinations, keys, account_gates), (principal, mut principals), (), everyone) =
        tokio::try_join!(
            bucket_branch(ctx),
            principal_branch(ctx),
            org_views,
            all_principals_branch(ctx)
        )?;
    let (everyone, warnings) = everyone;
    for info in everyone {
        // The entry read for the judged principal itself wins: a session's
        // entry marks its session policies unknown.
        if !principals.iter().any(|known| known.arn == info.arn) {
            principals.push(info);
        }
    }

    let mut snapshot = Snapshot::new(Some(
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    ));
    for (account, info) in ctx.accounts.finished() {
        snapshot.accounts.insert(account, info?);
    }
    if let Some(arn) = &ctx.request.access_point
        && let Some(point) =
            gates::read_access_point(ctx, arn, &bucket.name, &bucket.account).await?
    {
        snapshot.access_points.push(point);
    }
    let owner = snapshot.accounts.entry(bucket.account.clone()).or_default();
    (owner.public_access_block, owner.public_access_block_error) = account_gates;
    snapshot.buckets.push(bucket);
    snapshot.buckets.extend(destinations);
    snapshot.keys = keys;
    snapshot.principals = principals;
    snapshot.identify_documents();
    Ok(Gathered {
        snapshot,
        principal,
        warnings,
        summary: Summary::default(),
    })
}

/// With `--all-principals`: the users and roles of each account a profile
/// is of (each account once), and a warning for each account whose
/// principals could not be listed.
async fn all_principals_branch(
    ctx: &Ctx<'_>,
) -> Result<(Vec<PrincipalInfo>, Vec<String>), GatherError> {
    if !ctx.also.all_principals {
        return Ok((Vec::new(), Vec::new()));
    }
    let readers: Vec<&Reader> = std::iter::once(&ctx.resource)
        .chain(ctx.principal_reader.as_ref())
        .chain(&ctx.org_readers)
        .collect();
    let identities =
        join::try_join_all(readers.iter().map(|reader| reader.identity(&ctx.endpoint))).await?;
    let mut accounts: Vec<(&Reader, String)> = Vec::new();
    for (reader, identity) in readers.into_iter().zip(identities) {
        if !accounts.iter().any(|(_, known)| *known == identity.account) {
            accounts.push((reader, identity.account));
        }
    }
    let read = join::join_all(accounts.iter().map(|(reader, account)| async move {
        gaad::read_account_principals(ctx, reader, account).await
    }))
    .await;
    let mut principals = Vec::new();
    let mut warnings = Vec::new();
    for ((_, account), result) in accounts.iter().zip(read) {
        match result {
            Ok(read) => principals.extend(read),
            Err(ReadErr::Fatal(fatal)) => return Err(fatal),
            Err(ReadErr::Unreadable(why)) => warnings.push(format!(
                "the principals of account {account} were not listed ({why}); only those named are in the snapshot"
            )),
        }
    }
    Ok((principals, warnings))
}

/// Marks a phase's item done when dropped (whichever way the read ends).
struct Done<'p>(&'p progress::Phase);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// The bucket, the destination buckets of its replication rules, and the
/// keys (the bucket's and objects', the replica keys, `extra_key_ids`).
type BucketBranch = (
    crate::snapshot::BucketInfo,
    Vec<crate::snapshot::BucketInfo>,
    Vec<KeyInfo>,
    AccountGates,
);

/// The bucket owner's account Block Public Access settings, as read.
type AccountGates = (
    crate::snapshot::Field<crate::snapshot::PublicAccessBlock>,
    Option<String>,
);

/// The bucket, then the keys its encryption and object name (plus
/// `extra_key_ids`), the destinations and replica keys of its replication
/// rules, the owner account's Block Public Access settings, and the
/// organizations of the accounts involved.
async fn bucket_branch(ctx: &Ctx<'_>) -> Result<BucketBranch, GatherError> {
    let buckets = ctx.progress.phase(PhaseKind::Buckets);
    buckets.add(1);
    let owned = async { Ok::<_, GatherError>(s3::owns_bucket(ctx, &ctx.resource).await) };
    let read = async {
        let read = s3::read_bucket(ctx).await;
        buckets.done();
        read
    };
    let (identity, read, owned) =
        tokio::try_join!(ctx.resource.identity(&ctx.endpoint), read, owned)?;
    let mut bucket = read.info;
    bucket.account = identity.account.clone();
    match owned {
        Ok(true) => {}
        Ok(false) => return Err(wrong_owner(ctx, &identity.account).await),
        Err(ReadErr::Fatal(fatal)) => return Err(fatal),
        Err(ReadErr::Unreadable(why)) => {
            bucket.account_error = Some(format!(
                "the bucket's owner could not be confirmed ({why}); it is taken to be account {} of {}",
                identity.account, ctx.resource.label
            ));
        }
    }
    s3::name_owners(&mut bucket);

    let references = key_references(&bucket, &ctx.request.extra_key_ids);
    let region = read.region;
    let account = identity.account.clone();
    let key_phase = ctx.progress.phase(PhaseKind::Keys);
    key_phase.add(references.len() as u64);
    let keys = join::try_join_all(references.iter().map(|reference| async {
        let key = kms::read_key(ctx, reference, &region, &account, &identity.partition).await;
        key_phase.done();
        key
    }));
    let account_gates = gates::account_public_access_block(ctx, &ctx.resource, &account, &region);
    let (keys, _, (destinations, replica_keys), account_gates) = tokio::try_join!(
        keys,
        org::account_info(ctx, &account),
        replication::read_destinations(ctx, &bucket, &identity.partition),
        account_gates
    )?;
    // Destination buckets and replica keys are read by the replication
    // reader; they count once read.
    for _ in &destinations {
        buckets.add(1);
        buckets.done();
    }
    for _ in &replica_keys {
        key_phase.add(1);
        key_phase.done();
    }
    let mut unique: Vec<KeyInfo> = Vec::new();
    for key in keys.into_iter().flatten().chain(replica_keys) {
        if !unique.iter().any(|known| known.arn == key.arn) {
            unique.push(key);
        }
    }
    // RCPs apply in the key's account too.
    let key_accounts: Vec<String> = unique
        .iter()
        .filter_map(|key| {
            crate::policy::arn::Arn::parse(&key.arn)
                .ok()
                .map(|arn| arn.account)
        })
        .filter(|key_account| key_account != &account)
        .collect();
    join::try_join_all(
        key_accounts
            .iter()
            .map(|key_account| org::account_info(ctx, key_account)),
    )
    .await?;
    Ok((bucket, destinations, unique, account_gates))
}

/// The keys the bucket's default encryption and its objects' encryption
/// name, then `extra`, each once.
fn key_references(bucket: &crate::snapshot::BucketInfo, extra: &[String]) -> Vec<String> {
    let mut references: Vec<String> = Vec::new();
    let mut add = |encryption: Option<&crate::snapshot::Encryption>| {
        if let Some(encryption) = encryption.filter(|encryption| encryption.uses_kms()) {
            // SSE-KMS with no key named is S3's AWS managed key.
            let reference = encryption
                .key
                .clone()
                .unwrap_or_else(|| "alias/aws/s3".to_string());
            if !references.contains(&reference) {
                references.push(reference);
            }
        }
    };
    add(bucket.encryption.known());
    for object in &bucket.objects {
        add(object.encryption.known());
    }
    for reference in extra {
        if !references.contains(reference) {
            references.push(reference.clone());
        }
    }
    references
}

/// The error for a `--profile` that is not of the bucket's account, naming
/// the owner when another profile given owns it. The documents of a bucket
/// can be read only by its own account (GetBucketPolicy, for one, answers
/// only the owner's account), so going on would judge the wrong account.
async fn wrong_owner(ctx: &Ctx<'_>, account: &str) -> GatherError {
    let others = ctx.principal_reader.iter().chain(&ctx.org_readers);
    let checks = join::join_all(others.map(|reader| async move {
        match s3::owns_bucket(ctx, reader).await {
            Ok(true) => reader
                .identity(&ctx.endpoint)
                .await
                .ok()
                .map(|identity| (reader.label.clone(), identity.account)),
            _ => None,
        }
    }))
    .await;
    GatherError::WrongBucketOwner {
        bucket: ctx.request.bucket.clone(),
        profile: ctx.resource.label.clone(),
        account: account.to_string(),
        owner: checks
            .into_iter()
            .flatten()
            .next()
            .map(|(label, owner)| format!("account {owner} ({label})"))
            .unwrap_or_else(|| "another account".to_string()),
    }
}

/// The principal (the caller when not given), its documents, the
/// `--via-role` role's, those of the [`Also`] principals and roles, and
/// their accounts' organizations.
async fn principal_branch(ctx: &Ctx<'_>) -> Result<(String, Vec<PrincipalInfo>), GatherError> {
    let principal_text = match &ctx.request.principal {
        Some(principal) => principal.clone(),
        None => {
            let reader = ctx.principal_reader.as_ref().unwrap_or(&ctx.resource);
            reader.identity(&ctx.endpoint).await?.arn
        }
    };
    // A malformed --principal or --via-role is the judge's to report (exit
    // 2); nothing is read for it here.
    let mut principals: Vec<Principal> = Vec::new();
    for text in std::iter::once(&principal_text).chain(&ctx.also.principals) {
        if let Ok(principal) = Principal::parse(text)
            && !principals.contains(&principal)
        {
            principals.push(principal);
        }
    }
    let mut roles: Vec<Principal> = Vec::new();
    for text in ctx.request.via_role.iter().chain(&ctx.also.via_roles) {
        if let Ok(role) = Principal::parse(text)
            && matches!(role.kind, PrincipalKind::AssumedRole { .. })
            && !roles.contains(&role)
        {
            roles.push(role);
        }
    }
    let phase = ctx.progress.phase(PhaseKind::Principals);
    phase.add((principals.len() + roles.len()) as u64);
    let phase = &phase;
    let principal_docs = join::try_join_all(principals.iter().map(|principal| async move {
        let read = iam::read_principal(ctx, principal).await;
        phase.done();
        read
    }));
    let role_docs = join::try_join_all(roles.iter().map(|role| async move {
        let _counted = Done(phase);
        match &role.kind {
            PrincipalKind::AssumedRole {
                role_name,
                role_arn,
                ..
            } => iam::read_role(ctx, &role.account, role_name, role_arn)
                .await
                .map(Some),
            _ => Ok(None),
        }
    }));
    let accounts = async {
        let mut accounts: Vec<&str> = Vec::new();
        for principal in principals.iter().chain(roles.iter()) {
            if !accounts.contains(&principal.account.as_str()) {
                accounts.push(&principal.account);
            }
        }
        join::try_join_all(
            accounts
                .into_iter()
                .map(|account| org::account_info(ctx, account)),
        )
        .await
    };
    let (principal_info, role_info, _) = tokio::try_join!(principal_docs, role_docs, accounts)?;
    let mut read: Vec<PrincipalInfo> = Vec::new();
    for info in principal_info.into_iter().chain(role_info).flatten() {
        match read.iter_mut().find(|known| known.arn == info.arn) {
            // The session's entry (session policies unknown) wins over the
            // plain role's.
            Some(_) => {}
            None => read.push(info),
        }
    }
    Ok((principal_text, read))
}
