//! The one way from a request to a finished diagnosis. `check`, `test` and
//! `snapshot` run these stages, each once and in this order, and stop where
//! they have what they need:
//!
//! 1. **source**: read a snapshot file, or gather one from AWS;
//! 2. **assumptions**: record `--assume` and `--session-policy` in it;
//! 3. **save**: write it to `--save-snapshot` as read (`snapshot` stops
//!    here);
//! 4. **layers**: lay the `--plan` and `--overlay` files over it, in order;
//! 5. **judge**: [`chain::judge`] decides every verdict, link and change (a
//!    caller that needs only verdicts stops here);
//! 6. **fixes**: [`fixes`] names each change's target document and command,
//!    and judges again with the changes applied;
//! 7. **positions**: evidence points at its statement in the snapshot file;
//! 8. **provenance**: a link judged from a layer's document names the layer.
//!
//! The inputs are plain library types (the command line is parsed
//! elsewhere); rendering is the caller's.

mod files;
mod gaad;
pub mod input;
pub mod lazy;
mod merge;
mod sweep;
pub use gaad::{GaadImport, import_gaad};
pub use merge::{MergeSummary, merge_snapshots};
pub use sweep::{Sweep, SweepOutcome, sweep};
pub mod rates;
pub mod reverse;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::access_tests::{self, AccessTestError, Shown, TestFile, TestRun};
use crate::chain::{self, CheckRequest, JudgeError, assume};
use crate::diagnosis::{Diagnosis, Operation};
use crate::fixes;
use crate::snapshot::{Assumption, PolicyDoc, Snapshot};
use crate::whatif::overlay::{self, Overlay, Provenance};

/// Why the pipeline stopped, with the one line to say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bad input: a file that cannot be read or used, a request the judge
    /// refuses.
    #[error("{0}")]
    BadInput(String),
    /// Nothing could be gathered (credentials, endpoint, bucket).
    #[error("{0}")]
    Gather(String),
}

/// Where the snapshot comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A snapshot file, refused when larger than `limit` bytes.
    File { path: PathBuf, limit: u64 },
    /// AWS, read live.
    Aws(Aws),
}

/// How to read AWS.
#[derive(Debug, Clone)]
pub struct Aws {
    /// For the bucket and key account.
    pub profile: Option<String>,
    /// For the principal's account, when it differs.
    pub principal_profile: Option<String>,
    /// One per organization whose SCPs and RCPs are read.
    pub org_profiles: Vec<String>,
    pub region: Option<String>,
    /// Every AWS call goes there (a local emulator).
    pub endpoint_url: Option<String>,
    pub timeout: Duration,
    /// Say on stderr what is being read.
    pub progress: bool,
    /// Nothing on stderr while reading: no progress, no closing summary.
    pub quiet: bool,
    /// Attempts per read, the first included.
    pub max_attempts: u32,
    /// Requests in flight per account, region and service.
    pub max_concurrency: usize,
    /// `--rate OPERATION=N`: requests per second per account and region
    /// for an operation (`kms:ListGrants`), in command-line order.
    pub rates: Vec<(String, u32)>,
}

/// What is asked about.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub bucket: String,
    pub object: Option<String>,
    /// `None`: the caller (live) or the snapshot's recorded caller.
    pub principal: Option<String>,
    pub via_role: Option<String>,
    pub external_id: Option<String>,
    /// `--context KEY=VALUE` pairs, in order.
    pub context: Vec<(String, String)>,
    /// `--via-service`: the service making the request with the
    /// principal's credentials.
    pub via_service: Option<String>,
    /// `--access-point`: ARN or alias.
    pub access_point: Option<String>,
    /// Keys the request's evidence leaves unknown (see
    /// [`CheckRequest::unknown_context`]).
    pub unknown_context: Vec<String>,
}

/// One what-if layer: a `--plan` or `--overlay` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    Plan(PathBuf),
    Overlay(PathBuf),
}

/// Everything `check` judges.
#[derive(Debug, Clone)]
pub struct Check {
    pub source: Source,
    pub selection: Selection,
    pub operations: Vec<Operation>,
    pub assumptions: Vec<Assumption>,
    /// A JSON policy document: the session policy of the session judged.
    pub session_policy: Option<PathBuf>,
    pub save_snapshot: Option<PathBuf>,
    /// In the order given: a later one wins.
    pub layers: Vec<Layer>,
    /// `aws:CurrentTime`; `None`: the moment of judging, after gathering.
    pub now: Option<DateTime<Utc>>,
}

/// A finished `check`.
pub struct Checked {
    pub diagnosis: Diagnosis,
    /// A failed save does not stop the judging: the caller says it after
    /// the report, which it must not swallow.
    pub save_failure: Option<Error>,
    /// What the diagnosis was judged from.
    pub judged_from: JudgedFrom,
}

/// The snapshot and the file text a diagnosis was judged from, handed
/// back so that a process about to end can leave them to the system
/// (`std::mem::forget`): freeing a large snapshot's millions of
/// allocations one by one costs a tenth of a second.
pub struct JudgedFrom {
    _snapshot: Snapshot,
    _file: Option<SourceFile>,
}

/// Everything `test` judges.
#[derive(Debug, Clone)]
pub struct Test {
    pub file: TestFile,
    pub source: Source,
    pub assumptions: Vec<Assumption>,
    pub save_snapshot: Option<PathBuf>,
    pub layers: Vec<Layer>,
    pub now: Option<DateTime<Utc>>,
    /// What the report shows of each expectation.
    pub shown: Shown,
}

/// Everything `snapshot` captures.
#[derive(Debug, Clone)]
pub struct Capture {
    pub aws: Aws,
    pub selection: Selection,
    pub assumptions: Vec<Assumption>,
    pub session_policy: Option<PathBuf>,
    pub save_snapshot: PathBuf,
    /// `--all-principals`: every user and role of each account a profile
    /// is of, not only the principal judged.
    pub all_principals: bool,
    /// `--all-buckets`: every bucket the profiles' accounts own, as
    /// `can-access` reads them, in place of the selection's bucket.
    pub every_bucket: bool,
}

/// A snapshot file's name and text, in which evidence is located.
type SourceFile = (String, String);

/// `check`: every stage.
pub fn check(input: &Check) -> Result<Checked, Error> {
    let (mut snapshot, principal, file) = match &input.source {
        Source::File { path, limit } => {
            let partial = if input.layers.is_empty() && path.is_dir() {
                lazy::check(path, *limit, &input.selection, &input.operations)?
            } else {
                None
            };
            let (snapshot, text) = match partial {
                Some(partial) => (partial.snapshot, String::new()),
                None => files::load_snapshot(path, *limit)?,
            };
            let principal = input
                .selection
                .principal
                .clone()
                .or_else(|| snapshot.caller.clone())
                .ok_or_else(|| {
                    Error::BadInput(
                        "--principal is required with --snapshot (the snapshot records no caller)"
                            .to_string(),
                    )
                })?;
            (
                snapshot,
                principal,
                Some((path.display().to_string(), text)),
            )
        }
        Source::Aws(aws) => {
            let (snapshot, principal) = gather(&input.selection, aws)?;
            (snapshot, principal, None)
        }
    };
    record_assumptions(
        &mut snapshot,
        &principal,
        input.selection.via_role.as_deref(),
        &input.assumptions,
        input.session_policy.as_ref(),
    )?;
    let save_failure = match &input.save_snapshot {
        Some(path) => files::write_snapshot(path, &snapshot).err(),
        None => None,
    };
    let selection = &input.selection;
    let request = CheckRequest {
        access_point: selection.access_point.clone(),
        bucket: selection.bucket.clone(),
        object: selection.object.clone(),
        principal,
        via_role: selection.via_role.clone(),
        external_id: selection.external_id.clone(),
        operations: input.operations.clone(),
        context: selection.context.clone(),
        via_service: selection.via_service.clone(),
        unknown_context: selection.unknown_context.clone(),
        now: input.now.unwrap_or_else(Utc::now),
    };
    let provenance = lay_layers(&mut snapshot, &input.layers)?;
    let mut diagnosis =
        judge_and_fix(&snapshot, &request).map_err(|error| Error::BadInput(error.to_string()))?;
    if let Some((name, text)) = &file {
        // A document a layer wrote is not in that file: it has no position.
        snapshot.locate_evidence(name, text, &mut diagnosis);
    }
    overlay::annotate(&mut diagnosis, &provenance);
    Ok(Checked {
        diagnosis,
        save_failure,
        judged_from: JudgedFrom {
            _snapshot: snapshot,
            _file: file,
        },
    })
}

/// `test`: every stage, once for the whole file, then the judge, the fixes,
/// the positions and the provenance per expectation.
pub fn test(input: &Test) -> Result<TestRun, Error> {
    let (mut snapshot, caller, file) = match &input.source {
        Source::File { path, limit } => {
            let partial = if input.layers.is_empty() && path.is_dir() {
                lazy::test(path, *limit, &input.file)?
            } else {
                None
            };
            let (snapshot, text) = match partial {
                Some(partial) => (partial.snapshot, String::new()),
                None => files::load_snapshot(path, *limit)?,
            };
            let caller = snapshot.caller.clone();
            (snapshot, caller, Some((path.display().to_string(), text)))
        }
        Source::Aws(aws) => {
            let (mut snapshot, caller) = gather_tests(&input.file, aws)?;
            snapshot.assume(&input.assumptions);
            if let Some(path) = &input.save_snapshot {
                files::write_snapshot(path, &snapshot)?;
            }
            (snapshot, caller, None)
        }
    };
    // Assumptions stand in for what could not be read; a value the plan
    // leaves unknown until apply is not that, so the plan comes after.
    snapshot.assume(&input.assumptions);
    let provenance = lay_layers(&mut snapshot, &input.layers)?;
    let now = input.now.unwrap_or_else(Utc::now);
    let mut run = run_tests_shown(&input.file, &snapshot, caller.as_deref(), now, input.shown)
        .map_err(|error| Error::BadInput(error.to_string()))?;
    for diagnosis in run
        .results
        .iter_mut()
        .filter_map(|result| result.diagnosis.as_mut())
    {
        if let Some((name, text)) = &file {
            // Evidence points into the snapshot file the user has, as for `check`.
            snapshot.locate_evidence(name, text, diagnosis);
        }
        overlay::annotate(diagnosis, &provenance);
    }
    Ok(run)
}

/// `snapshot`: the source, the assumptions and the save. Returns what was
/// asked for and could not be read, one line each.
pub fn capture(input: &Capture) -> Result<Vec<String>, Error> {
    let (mut snapshot, principal, warnings) = gather_everyone(
        &input.selection,
        &input.aws,
        &Everyone {
            all_principals: input.all_principals,
            every_bucket: input.every_bucket,
        },
    )?;
    record_assumptions(
        &mut snapshot,
        &principal,
        input.selection.via_role.as_deref(),
        &input.assumptions,
        input.session_policy.as_ref(),
    )?;
    files::write_snapshot(&input.save_snapshot, &snapshot)?;
    Ok(warnings)
}

/// The judge, then the fixes: the diagnosis of `request` over `snapshot`
/// with every change complete and re-checked.
pub fn judge_and_fix(snapshot: &Snapshot, request: &CheckRequest) -> Result<Diagnosis, JudgeError> {
    let judgement = chain::judge(snapshot, request)?;
    Ok(fixes::complete(snapshot, request, judgement))
}

/// Every expectation of an access-test file judged over `snapshot` as
/// [`judge_and_fix`] judges a `check`.
pub fn run_tests(
    file: &TestFile,
    snapshot: &Snapshot,
    caller: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TestRun, AccessTestError> {
    run_tests_shown(file, snapshot, caller, now, Shown::Every)
}

/// [`run_tests`] for a report that shows `shown`: a met expectation whose
/// row is all the report shows is judged verdict-only.
pub fn run_tests_shown(
    file: &TestFile,
    snapshot: &Snapshot,
    caller: Option<&str>,
    now: DateTime<Utc>,
    shown: Shown,
) -> Result<TestRun, AccessTestError> {
    access_tests::run_shown(file, caller, now, shown, SnapshotJudge { snapshot })
}

/// `check`'s judge over one snapshot, in the steps `test` can stop after.
struct SnapshotJudge<'s> {
    snapshot: &'s Snapshot,
}

impl access_tests::Judge for SnapshotJudge<'_> {
    type Error = JudgeError;
    type Judged = chain::Judgement;

    fn verdicts(&mut self, request: &CheckRequest) -> Option<Result<chain::Verdicts, JudgeError>> {
        Some(chain::verdicts(self.snapshot, request))
    }

    fn judge(&mut self, request: &CheckRequest) -> Result<chain::Judgement, JudgeError> {
        chain::judge(self.snapshot, request)
    }

    fn diagnosis(judged: &chain::Judgement) -> &Diagnosis {
        &judged.diagnosis
    }

    fn into_diagnosis(judged: chain::Judgement) -> Diagnosis {
        judged.diagnosis
    }

    fn complete(&mut self, request: &CheckRequest, judged: chain::Judgement) -> Diagnosis {
        fixes::complete(self.snapshot, request, judged)
    }
}

/// A snapshot file as the reverse questions judge it: read, with the
/// assumptions recorded and the `--plan` and `--overlay` layers laid over
/// it in order, as `check` would judge it.
pub fn layered_snapshot(
    path: &std::path::Path,
    limit: u64,
    assumptions: &[Assumption],
    layers: &[Layer],
) -> Result<Snapshot, Error> {
    let (mut snapshot, _text) = files::load_snapshot(path, limit)?;
    snapshot.assume(assumptions);
    lay_layers(&mut snapshot, layers)?;
    Ok(snapshot)
}

/// Records `--assume` and `--session-policy` in the snapshot, where the
/// judge reads them and a saved capture keeps them for its replay.
fn record_assumptions(
    snapshot: &mut Snapshot,
    principal: &str,
    via_role: Option<&str>,
    assumptions: &[Assumption],
    session_policy: Option<&PathBuf>,
) -> Result<(), Error> {
    snapshot.assume(assumptions);
    if let Some(path) = session_policy {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| {
            Error::BadInput(format!("cannot read session policy `{name}`: {error}"))
        })?;
        let policy = PolicyDoc::from_text(&format!("session policy `{name}`"), &text)
            .map_err(|error| Error::BadInput(format!("--session-policy: {error}")))?;
        assume::supply_session_policy(snapshot, principal, via_role, policy)
            .map_err(|error| Error::BadInput(error.to_string()))?;
    }
    Ok(())
}

/// Lays the `--plan` and `--overlay` files over `snapshot` in order: each
/// is read against what the ones before it left.
fn lay_layers(snapshot: &mut Snapshot, layers: &[Layer]) -> Result<Provenance, Error> {
    let mut overlays: Vec<Overlay> = Vec::new();
    for layer in layers {
        let (path, is_plan) = match layer {
            Layer::Plan(path) => (path, true),
            Layer::Overlay(path) => (path, false),
        };
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| {
            let what = if is_plan { "plan" } else { "overlay" };
            Error::BadInput(format!("cannot read {what} `{name}`: {error}"))
        })?;
        let next = if is_plan {
            crate::whatif::plan::read(&name, &text, snapshot)
                .map_err(|error| Error::BadInput(error.to_string()))?
        } else {
            overlay::parse_file(&name, &text, snapshot)
                .map_err(|error| Error::BadInput(error.to_string()))?
        };
        overlay::lay(snapshot, &next);
        overlays.push(next);
    }
    Ok(overlay::finish(snapshot, &overlays))
}

/// Gathers what `check` and `snapshot` judge, with the caller's identity as
/// the principal unless one was named.
#[cfg(feature = "live")]
fn gather(selection: &Selection, aws: &Aws) -> Result<(Snapshot, String), Error> {
    let request = gather_request(selection, aws);
    let gathered =
        crate::live::gather(&request).map_err(|error| Error::Gather(error.to_string()))?;
    let mut snapshot = gathered.snapshot;
    snapshot.caller = Some(gathered.principal.clone());
    Ok((snapshot, gathered.principal))
}

#[cfg(not(feature = "live"))]
fn gather(_selection: &Selection, _aws: &Aws) -> Result<(Snapshot, String), Error> {
    Err(no_live_mode())
}

/// What [`gather_everyone`] reads beyond the selection's chain.
#[derive(Debug, Clone, Copy, Default)]
// Without live mode nothing is gathered, so nothing reads these.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub(crate) struct Everyone {
    /// Every principal of each profile's account.
    pub all_principals: bool,
    /// Every bucket of each bucket-side profile's account, in place of the
    /// selection's bucket.
    pub every_bucket: bool,
}

/// [`gather`], with what `everyone` adds, and the warnings of the reads
/// that failed.
#[cfg(feature = "live")]
fn gather_everyone(
    selection: &Selection,
    aws: &Aws,
    everyone: &Everyone,
) -> Result<(Snapshot, String, Vec<String>), Error> {
    let request = gather_request(selection, aws);
    let also = crate::live::Also {
        all_principals: everyone.all_principals,
        every_bucket: everyone.every_bucket,
        ..Default::default()
    };
    let gathered = crate::live::gather_also(&request, &also)
        .map_err(|error| Error::Gather(error.to_string()))?;
    let mut snapshot = gathered.snapshot;
    snapshot.caller = Some(gathered.principal.clone());
    Ok((snapshot, gathered.principal, gathered.warnings))
}

#[cfg(not(feature = "live"))]
fn gather_everyone(
    _selection: &Selection,
    _aws: &Aws,
    _everyone: &Everyone,
) -> Result<(Snapshot, String, Vec<String>), Error> {
    Err(no_live_mode())
}

/// One gathering for a whole access-test file.
#[cfg(feature = "live")]
fn gather_tests(file: &TestFile, aws: &Aws) -> Result<(Snapshot, Option<String>), Error> {
    let base = gather_request(&Selection::default(), aws);
    let gathered = access_tests::live::gather(file, &base)
        .map_err(|error| Error::Gather(error.to_string()))?;
    Ok((gathered.snapshot, gathered.caller))
}

#[cfg(not(feature = "live"))]
fn gather_tests(_file: &TestFile, _aws: &Aws) -> Result<(Snapshot, Option<String>), Error> {
    Err(no_live_mode())
}

#[cfg(not(feature = "live"))]
fn no_live_mode() -> Error {
    Error::Gather("this build has no live mode (feature `live`); use --snapshot".to_string())
}

/// What to read for `selection` with the AWS settings.
#[cfg(feature = "live")]
fn gather_request(selection: &Selection, aws: &Aws) -> crate::live::GatherRequest {
    let extra_key_ids = selection
        .context
        .iter()
        .filter(|(key, _)| {
            key.eq_ignore_ascii_case("s3:x-amz-server-side-encryption-aws-kms-key-id")
        })
        .map(|(_, value)| value.clone())
        .collect();
    crate::live::GatherRequest {
        bucket: selection.bucket.clone(),
        object: selection.object.clone(),
        principal: selection.principal.clone(),
        via_role: selection.via_role.clone(),
        access_point: selection.access_point.clone(),
        extra_key_ids,
        profile: aws.profile.clone(),
        principal_profile: aws.principal_profile.clone(),
        org_profiles: aws.org_profiles.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        timeout: aws.timeout,
        progress: aws.progress,
        quiet: aws.quiet,
        limits: crate::live::LiveLimits {
            max_attempts: aws.max_attempts,
            max_concurrency: aws.max_concurrency,
            rates: aws.rates.clone(),
        },
    }
}
