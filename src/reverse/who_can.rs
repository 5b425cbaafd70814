//! `who-can`: every row of [`super::rows`] judged for one request, with
//! the verdict and first broken link per operation that `check --principal`
//! gives. Only the verdict-only judge runs (no fixes, no positions, no
//! reasons or evidence); a row shown in detail is judged again through
//! [`detail`], as `check` does.
//! Principals are judged in parallel, one chunk per core.

use chrono::{DateTime, Utc};

use crate::chain::{CheckRequest, JudgeError};
use crate::diagnosis::{Diagnosis, LinkId, LinkStatus, Operation, OperationResult, Verdict};
use crate::snapshot::Snapshot;

use super::halves::Halves;
use super::rows::{RowKind, RowSource, sources};

/// What `who-can` asks about: the request of `check` without its principal.
#[derive(Debug, Clone)]
pub struct WhoCanRequest {
    pub bucket: String,
    pub object: Option<String>,
    /// `--access-point`: ARN or alias.
    pub access_point: Option<String>,
    pub operations: Vec<Operation>,
    /// `aws:CurrentTime` unless `context` sets it.
    pub now: DateTime<Utc>,
    /// `--context KEY=VALUE` pairs, in order.
    pub context: Vec<(String, String)>,
}

/// One principal's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// What `check --principal` is given for the same answer.
    pub principal: String,
    /// None for a service principal and for `"*"`.
    pub account: Option<String>,
    pub kind: RowKind,
    /// Per operation of the request, in its order.
    pub verdicts: Vec<(Operation, Verdict)>,
    /// Per operation: None when allowed, the first failing link when
    /// denied, the first unknown link when inconclusive.
    pub links: Vec<(Operation, Option<LinkId>)>,
    /// Why the row is there, or what it stands for, when it is not simply
    /// a principal entry of the snapshot.
    pub note: Option<String>,
    /// The roles a "via ROLE" row assumes, in order from the principal (the
    /// role it assumes first) to the role that reaches the bucket; empty
    /// for every other row.
    pub via: Vec<String>,
}

impl Row {
    /// The worst verdict over the operations.
    pub fn verdict(&self) -> Verdict {
        self.verdicts
            .iter()
            .map(|(_, verdict)| *verdict)
            .max()
            .unwrap_or(Verdict::Allowed)
    }
}

/// The `check` request for `principal` asking what `request` asks.
pub fn check_request(request: &WhoCanRequest, principal: &str) -> CheckRequest {
    CheckRequest {
        access_point: request.access_point.clone(),
        bucket: request.bucket.clone(),
        object: request.object.clone(),
        principal: principal.to_string(),
        via_role: None,
        external_id: None,
        operations: request.operations.clone(),
        context: request.context.clone(),
        now: request.now,
        via_service: None,
        unknown_context: Vec::new(),
    }
}

/// Every row judged. Fails only where `check` would fail for every
/// principal (bad input: an unknown bucket or access point, no operation).
pub fn who_can(snapshot: &Snapshot, request: &WhoCanRequest) -> Result<Vec<Row>, JudgeError> {
    if request.operations.is_empty() {
        return Err(JudgeError::NoOperation);
    }
    let sources = sources(snapshot, request)?;
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(sources.len().max(1));
    let chunk = sources.len().div_ceil(threads).max(1);
    let halves = Halves::new(snapshot);
    let halves = &halves;
    let judged: Vec<Result<Vec<Row>, JudgeError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = sources
            .chunks(chunk)
            .map(|part| scope.spawn(move || judge_rows(halves, request, part)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                // A judge that panicked is a bug; its rows are not made up.
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut rows = Vec::with_capacity(sources.len());
    for part in judged {
        rows.extend(part?);
    }
    Ok(rows)
}

fn judge_rows(
    halves: &Halves<'_>,
    request: &WhoCanRequest,
    sources: &[RowSource],
) -> Result<Vec<Row>, JudgeError> {
    let mut workspace = halves.workspace();
    sources
        .iter()
        .map(|source| judge_row(halves, &mut workspace, request, source))
        .collect()
}

fn judge_row(
    halves: &Halves<'_>,
    workspace: &mut Snapshot,
    request: &WhoCanRequest,
    source: &RowSource,
) -> Result<Row, JudgeError> {
    let verdicts = halves.verdicts(workspace, &check_request(request, &source.principal))?;
    Ok(Row {
        principal: source.principal.clone(),
        account: source.account.clone(),
        kind: source.kind,
        verdicts: verdicts
            .operations
            .iter()
            .map(|operation| (operation.operation, operation.verdict))
            .collect(),
        links: verdicts
            .operations
            .iter()
            .map(|operation| (operation.operation, operation.first_broken))
            .collect(),
        note: source.note.clone(),
        via: Vec::new(),
    })
}

/// The operation's first failing link in report order, else its first
/// unknown one: the link `check`'s report names for it.
pub fn first_broken(operation: &OperationResult) -> Option<LinkId> {
    [LinkStatus::Fail, LinkStatus::Unknown]
        .into_iter()
        .find_map(|wanted| {
            operation
                .actions
                .iter()
                .flat_map(|action| &action.links)
                .find(|link| link.status == wanted)
                .map(|link| link.link)
        })
}

/// One row in detail: exactly `check`'s diagnosis for `principal`, fixes
/// included.
pub fn detail(
    snapshot: &Snapshot,
    request: &WhoCanRequest,
    principal: &str,
) -> Result<Diagnosis, JudgeError> {
    crate::pipeline::judge_and_fix(snapshot, &check_request(request, principal))
}
