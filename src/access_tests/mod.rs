//! Access tests as code (`kms-s3-doctor test FILE`): a TOML file of
//! expectations ("this principal can get and put here", "that one is denied,
//! by the key policy"), each turned into the same [`CheckRequest`] `check`
//! builds and judged as `check` judges it (the caller supplies the judge:
//! [`crate::pipeline::run_tests`]) over one shared snapshot.
//! This module owns the file format ([`file`]), the mapping from an
//! expectation to requests, and whether each expectation was met; the
//! renderers live in `crate::report`.

mod file;
#[cfg(feature = "live")]
pub mod live;

use chrono::{DateTime, Utc};

use crate::chain::{CheckRequest, Verdicts};
use crate::diagnosis::{Diagnosis, LinkId, LinkStatus, Operation, Verdict};

pub use file::{parse, parse_with_events};

/// What a test expects of every operation it lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Allowed,
    Denied,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Allowed => "allowed",
            Expect::Denied => "denied",
        }
    }
}

/// One `[[test]]`, with the file's defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub name: String,
    /// 1-based line of its `[[test]]` header.
    pub line: usize,
    /// `None`: the caller (live) or the snapshot's recorded caller.
    pub principal: Option<String>,
    pub bucket: String,
    pub object: Option<String>,
    pub via_role: Option<String>,
    pub external_id: Option<String>,
    /// `via_service`: as `--via-service`.
    pub via_service: Option<String>,
    pub operations: Vec<Operation>,
    pub context: Vec<(String, String)>,
    pub expect: Expect,
    pub broken_link: Option<LinkId>,
    /// `event`: the record the request came from (its label), when the
    /// test names one.
    pub event: Option<String>,
    /// The record's `eventTime`: the request is judged at that time.
    pub time: Option<DateTime<Utc>>,
    /// Context keys the record leaves open (unknown, not defaulted).
    pub unknown_context: Vec<String>,
}

impl Expectation {
    /// The request `check` would judge for this test.
    pub fn request(&self, principal: String, now: DateTime<Utc>) -> CheckRequest {
        CheckRequest {
            access_point: None,
            bucket: self.bucket.clone(),
            object: self.object.clone(),
            principal,
            via_role: self.via_role.clone(),
            external_id: self.external_id.clone(),
            operations: self.operations.clone(),
            context: self.context.clone(),
            via_service: self.via_service.clone(),
            unknown_context: self.unknown_context.clone(),
            now: self.time.unwrap_or(now),
        }
    }
}

/// A parsed access-test file.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFile {
    /// The path as given, for messages and reports.
    pub name: String,
    pub tests: Vec<Expectation>,
}

/// A file that cannot be used (exit 2), at its line and column when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", location(file, *line, *column))]
pub struct AccessTestError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

fn location(file: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("`{file}` line {line}, column {column}"),
        (Some(line), None) => format!("`{file}` line {line}"),
        _ => format!("`{file}`"),
    }
}

/// Whether an expectation held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Met,
    /// Some operation's verdict hangs on something unknown, and none
    /// contradicts the expectation.
    Inconclusive,
    Unmet,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Unmet => "unmet",
        }
    }
}

/// One expectation, its verdicts, its full diagnosis where the report shows
/// it, and whether it held.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub expectation: Expectation,
    /// Per operation, the verdict and the first broken link.
    pub verdicts: Verdicts,
    /// `check`'s whole diagnosis. For a run asked for [`Shown::Rows`], a
    /// met expectation has only what its row shows: `None` when every
    /// operation is allowed, else the judge's diagnosis with its proposed
    /// changes not completed (no targets, commands or re-check).
    pub diagnosis: Option<Diagnosis>,
    pub outcome: Outcome,
    /// One sentence saying why (the operations that broke it), empty when met.
    pub reason: String,
}

/// Every expectation of a file, judged.
#[derive(Debug, Clone)]
pub struct TestRun {
    pub file: String,
    pub results: Vec<TestResult>,
}

impl TestRun {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.results
            .iter()
            .filter(|result| result.outcome == outcome)
            .count()
    }

    /// The worst outcome: unmet over inconclusive over met.
    pub fn outcome(&self) -> Outcome {
        self.results
            .iter()
            .map(|result| result.outcome)
            .max()
            .unwrap_or(Outcome::Met)
    }
}

/// How much of each expectation the report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Every expectation's whole report (the JSON report).
    Every,
    /// A row per expectation (its verdict and first broken link), and the
    /// whole report of those not met (text, Markdown, JUnit). A met
    /// expectation with every operation allowed has nothing more to show,
    /// so it is judged verdict-only.
    Rows,
}

/// How a run judges a request: in full, and, for a report of rows, in the
/// steps a full judgement is made of, so that a row needing less stops
/// early.
pub trait Judge {
    type Error: std::fmt::Display;
    /// The judge's answer before its proposed changes are completed.
    type Judged;
    /// The verdicts alone; `None` when this judge has no cheaper way to
    /// them than [`Judge::judge`].
    fn verdicts(&mut self, request: &CheckRequest) -> Option<Result<Verdicts, Self::Error>>;
    fn judge(&mut self, request: &CheckRequest) -> Result<Self::Judged, Self::Error>;
    fn diagnosis(judged: &Self::Judged) -> &Diagnosis;
    /// The judge's diagnosis as it is, changes not completed.
    fn into_diagnosis(judged: Self::Judged) -> Diagnosis;
    /// `check`'s whole diagnosis: every change completed and re-checked.
    fn complete(&mut self, request: &CheckRequest, judged: Self::Judged) -> Diagnosis;
}

/// A judge that gives the whole diagnosis in one step.
struct Whole<F>(F);

impl<E: std::fmt::Display, F: FnMut(&CheckRequest) -> Result<Diagnosis, E>> Judge for Whole<F> {
    type Error = E;
    type Judged = Diagnosis;

    fn verdicts(&mut self, _: &CheckRequest) -> Option<Result<Verdicts, E>> {
        None
    }

    fn judge(&mut self, request: &CheckRequest) -> Result<Diagnosis, E> {
        (self.0)(request)
    }

    fn diagnosis(judged: &Diagnosis) -> &Diagnosis {
        judged
    }

    fn into_diagnosis(judged: Diagnosis) -> Diagnosis {
        judged
    }

    fn complete(&mut self, _: &CheckRequest, judged: Diagnosis) -> Diagnosis {
        judged
    }
}

/// Judges every expectation's request with `judge`. `caller` is the
/// principal of tests that name none. A test the judge refuses (its bucket
/// is not in the snapshot, say) makes the whole run bad input, at the
/// test's line.
pub fn run<E: std::fmt::Display>(
    file: &TestFile,
    caller: Option<&str>,
    now: DateTime<Utc>,
    judge: impl FnMut(&CheckRequest) -> Result<Diagnosis, E>,
) -> Result<TestRun, AccessTestError> {
    run_shown(file, caller, now, Shown::Every, Whole(judge))
}

/// [`run`] for a report that shows `shown`. With [`Shown::Rows`], an
/// expectation of `allowed` is judged verdict-only first, and one met with
/// every operation allowed stops there (no diagnosis); any other met
/// expectation keeps the judge's diagnosis without completing its changes
/// (its row reads its first broken link only); one not met gets `check`'s
/// whole diagnosis.
pub fn run_shown<J: Judge>(
    file: &TestFile,
    caller: Option<&str>,
    now: DateTime<Utc>,
    shown: Shown,
    mut judge: J,
) -> Result<TestRun, AccessTestError> {
    let mut results = Vec::with_capacity(file.tests.len());
    for expectation in &file.tests {
        let at_test = |message: String| AccessTestError {
            file: file.name.clone(),
            line: Some(expectation.line),
            column: None,
            message: format!("test `{}`: {message}", expectation.name),
        };
        let principal = expectation
            .principal
            .clone()
            .or_else(|| caller.map(str::to_string))
            .ok_or_else(|| {
                at_test(
                    "no `principal`, and the snapshot records no caller to use instead".to_string(),
                )
            })?;
        let request = expectation.request(principal, now);
        // Only an expectation of `allowed` can be met with every operation
        // allowed; any other would be judged twice.
        let quick = match (shown, expectation.expect) {
            (Shown::Rows, Expect::Allowed) => judge
                .verdicts(&request)
                .transpose()
                .map_err(|error| at_test(error.to_string()))?,
            _ => None,
        };
        if let Some(verdicts) = quick {
            let (outcome, reason) = judge_verdicts(expectation, &verdicts);
            if outcome == Outcome::Met && verdicts.verdict == Verdict::Allowed {
                results.push(TestResult {
                    expectation: expectation.clone(),
                    verdicts,
                    diagnosis: None,
                    outcome,
                    reason,
                });
                continue;
            }
        }
        let judged = judge
            .judge(&request)
            .map_err(|error| at_test(error.to_string()))?;
        let verdicts = Verdicts::of(J::diagnosis(&judged));
        let (outcome, reason) = judge_verdicts(expectation, &verdicts);
        let diagnosis = match (shown, outcome) {
            (Shown::Rows, Outcome::Met) => J::into_diagnosis(judged),
            _ => judge.complete(&request, judged),
        };
        results.push(TestResult {
            expectation: expectation.clone(),
            verdicts,
            diagnosis: Some(diagnosis),
            outcome,
            reason,
        });
    }
    Ok(TestRun {
        file: file.name.clone(),
        results,
    })
}

/// Whether `diagnosis` meets `expectation`, operation by operation.
///
/// Each listed operation must have the expected verdict: `denied` with two
/// operations where one is allowed is unmet, because a test that says
/// "cannot" must not pass while one of the operations it names goes
/// through. With `broken_link`, every denied operation must have that link
/// failing; if that link is unknown there, the test is inconclusive.
pub fn judge_expectation(expectation: &Expectation, diagnosis: &Diagnosis) -> (Outcome, String) {
    judge_verdicts(expectation, &Verdicts::of(diagnosis))
}

/// [`judge_expectation`] from the verdicts alone, which is all it reads.
pub fn judge_verdicts(expectation: &Expectation, verdicts: &Verdicts) -> (Outcome, String) {
    let mut unmet: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for operation in &verdicts.operations {
        let name = operation.operation.as_str();
        match (expectation.expect, operation.verdict) {
            (_, Verdict::Inconclusive) => unknown.push(format!("{name} is inconclusive")),
            (Expect::Allowed, Verdict::Allowed) => {}
            (Expect::Allowed, Verdict::Denied) => unmet.push(format!("{name} is denied")),
            (Expect::Denied, Verdict::Allowed) => unmet.push(format!("{name} is allowed")),
            (Expect::Denied, Verdict::Denied) => {
                let Some(wanted) = expectation.broken_link else {
                    continue;
                };
                let statuses: Vec<(LinkId, LinkStatus)> = operation
                    .actions
                    .iter()
                    .flat_map(|action| action.links.iter().copied())
                    .collect();
                let has = |status: LinkStatus| statuses.contains(&(wanted, status));
                if has(LinkStatus::Fail) {
                    continue;
                }
                let failing: Vec<&str> = {
                    let mut ids: Vec<&str> = statuses
                        .iter()
                        .filter(|(_, status)| *status == LinkStatus::Fail)
                        .map(|(id, _)| id.as_str())
                        .collect();
                    ids.dedup();
                    ids
                };
                let by = failing.join(", ");
                if has(LinkStatus::Unknown) {
                    unknown.push(format!(
                        "{name} is denied by {by}; whether {wanted} denies it too is unknown"
                    ));
                } else {
                    unmet.push(format!("{name} is denied by {by}, not by {wanted}"));
                }
            }
        }
    }
    if !unmet.is_empty() {
        (Outcome::Unmet, unmet.join("; "))
    } else if !unknown.is_empty() {
        (Outcome::Inconclusive, unknown.join("; "))
    } else {
        (Outcome::Met, String::new())
    }
}

#[cfg(test)]
mod tests;
