//! `diff`: what changed between two states of the same accounts (two
//! snapshots, or a snapshot and the same with a plan laid over it). Over
//! the rows `who-can` lists in either state, for each bucket asked (its
//! placeholder object and every object either state knows in it), every
//! (principal, bucket, object, operation) whose verdict differs, with the
//! link that decided it before and after. Each side's verdict is exactly
//! what `check --principal P` gives over that side.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::chain::{self, JudgeError};
use crate::diagnosis::{LinkId, Operation, Verdict};
use crate::snapshot::Snapshot;

use super::who_can::{Row, WhoCanRequest, check_request, who_can};

/// What `diff` asks.
#[derive(Debug, Clone)]
pub struct DiffRequest {
    /// The buckets to compare; empty: every bucket of either state.
    pub buckets: Vec<String>,
    pub operations: Vec<Operation>,
    pub now: DateTime<Utc>,
    pub context: Vec<(String, String)>,
}

/// One verdict that changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub bucket: String,
    /// `None`: the bucket's placeholder object, as `check` without
    /// `--object`.
    pub object: Option<String>,
    pub principal: String,
    pub operation: Operation,
    pub before: Verdict,
    pub after: Verdict,
    /// The link that decided the verdict before (`None` when allowed, or
    /// when the bucket was not there).
    pub before_link: Option<LinkId>,
    pub after_link: Option<LinkId>,
    /// The state the bucket is missing from, when one is: nobody could
    /// reach it there.
    pub absent_from: Option<State>,
}

/// One of the two states compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Old,
    New,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Old => "old",
            State::New => "new",
        }
    }
}

impl Change {
    /// More access than before: allowed where it was not, or no longer
    /// denied for certain (an inconclusive verdict may be an allowed one,
    /// so a gate on gains counts it).
    pub fn gained(&self) -> bool {
        self.after < self.before
    }

    /// Less access than before.
    pub fn lost(&self) -> bool {
        self.after > self.before
    }
}

/// Every changed verdict between `old` and `new`, sorted by bucket,
/// object, principal and operation. A bucket asked for that neither state
/// holds is bad input, as for `check`.
pub fn diff(
    old: &Snapshot,
    new: &Snapshot,
    request: &DiffRequest,
) -> Result<Vec<Change>, JudgeError> {
    if request.operations.is_empty() {
        return Err(JudgeError::NoOperation);
    }
    let names: BTreeSet<&str> = old
        .buckets
        .iter()
        .chain(&new.buckets)
        .map(|bucket| bucket.name.as_str())
        .collect();
    let buckets: Vec<String> = if request.buckets.is_empty() {
        names.iter().map(|name| name.to_string()).collect()
    } else {
        for bucket in &request.buckets {
            if !names.contains(bucket.as_str()) {
                return Err(JudgeError::BucketNotInSnapshot(
                    bucket.clone(),
                    " (in neither snapshot)".to_string(),
                ));
            }
        }
        request.buckets.clone()
    };
    let mut changes = Vec::new();
    for bucket in &buckets {
        let objects: BTreeSet<&str> = [old, new]
            .iter()
            .flat_map(|snapshot| {
                snapshot
                    .buckets
                    .iter()
                    .filter(|found| found.name == *bucket)
            })
            .flat_map(|found| found.objects.iter().map(|object| object.key.as_str()))
            .collect();
        let targets = std::iter::once(None).chain(objects.into_iter().map(Some));
        for object in targets {
            let asked = WhoCanRequest {
                bucket: bucket.clone(),
                object: object.map(str::to_string),
                access_point: None,
                operations: request.operations.clone(),
                now: request.now,
                context: request.context.clone(),
            };
            let before = side(old, &asked)?;
            let after = side(new, &asked)?;
            changes.extend(compare(old, new, &asked, before, after)?);
        }
    }
    changes.sort();
    Ok(changes)
}

/// One state's rows for a request, by principal; `None` when the bucket
/// is not in that state.
type Side = Option<BTreeMap<String, Row>>;

/// Per operation: its verdict and the link that decided it.
type Verdicts = Vec<(Operation, Verdict, Option<LinkId>)>;

fn side(snapshot: &Snapshot, request: &WhoCanRequest) -> Result<Side, JudgeError> {
    if !snapshot
        .buckets
        .iter()
        .any(|bucket| bucket.name == request.bucket)
    {
        return Ok(None);
    }
    let rows = who_can(snapshot, request)?;
    Ok(Some(
        rows.into_iter()
            .map(|row| (row.principal.clone(), row))
            .collect(),
    ))
}

/// Verdicts and links per operation of `principal` over a side: from its
/// row, or judged as `check` would judge it when the side did not list it
/// (a principal that one state has and the other has not).
fn verdicts_of(
    snapshot: &Snapshot,
    side: &Side,
    request: &WhoCanRequest,
    principal: &str,
) -> Result<Option<Verdicts>, JudgeError> {
    let Some(rows) = side else { return Ok(None) };
    if let Some(row) = rows.get(principal) {
        return Ok(Some(
            row.verdicts
                .iter()
                .zip(&row.links)
                .map(|((operation, verdict), (_, link))| (*operation, *verdict, *link))
                .collect(),
        ));
    }
    let judged = chain::verdicts(snapshot, &check_request(request, principal))?;
    Ok(Some(
        judged
            .operations
            .iter()
            .map(|operation| {
                (
                    operation.operation,
                    operation.verdict,
                    operation.first_broken,
                )
            })
            .collect(),
    ))
}

fn compare(
    old: &Snapshot,
    new: &Snapshot,
    request: &WhoCanRequest,
    before: Side,
    after: Side,
) -> Result<Vec<Change>, JudgeError> {
    let principals: BTreeSet<String> = before
        .iter()
        .chain(after.iter())
        .flat_map(|rows| rows.keys().cloned())
        .collect();
    let mut changes = Vec::new();
    for principal in principals {
        let was = verdicts_of(old, &before, request, &principal)?;
        let is = verdicts_of(new, &after, request, &principal)?;
        for operation in &request.operations {
            let find = |side: &Option<Verdicts>| {
                side.as_ref().map(|list| {
                    list.iter()
                        .find(|(found, _, _)| found == operation)
                        .map(|(_, verdict, link)| (*verdict, *link))
                        .unwrap_or((Verdict::Denied, None))
                })
            };
            // A bucket that is not there serves nobody: S3 answers
            // NoSuchBucket whatever the policies.
            let (before_verdict, before_link) = find(&was).unwrap_or((Verdict::Denied, None));
            let (after_verdict, after_link) = find(&is).unwrap_or((Verdict::Denied, None));
            if before_verdict == after_verdict {
                continue;
            }
            let absent_from = match (&was, &is) {
                (None, _) => Some(State::Old),
                (_, None) => Some(State::New),
                _ => None,
            };
            changes.push(Change {
                bucket: request.bucket.clone(),
                object: request.object.clone(),
                principal: principal.clone(),
                operation: *operation,
                before: before_verdict,
                after: after_verdict,
                before_link,
                after_link,
                absent_from,
            });
        }
    }
    Ok(changes)
}
