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
    /// `check`'s whole diagnosis. `None` only when the run was asked for
    /// [`Shown::Rows`] and the expectation was met with every operation
    /// allowed: its row is its verdict alone.
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

/// The judges a run asks: verdict-only, and in full.
pub struct Judges<V, J> {
    pub verdicts: V,
    pub full: J,
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
    run_shown(
        file,
        caller,
        now,
        Shown::Every,
        Judges {
            verdicts: |_: &CheckRequest| -> Option<Result<Verdicts, E>> { None },
            full: judge,
        },
    )
}

/// [`run`] for a report that shows `shown`: with [`Shown::Rows`], each
/// request is judged verdict-only first (`judges.verdicts`; `None` when
/// there is no such judge), and in full only where the report shows more
/// than its row.
pub fn run_shown<E: std::fmt::Display>(
    file: &TestFile,
    caller: Option<&str>,
    now: DateTime<Utc>,
    shown: Shown,
    mut judges: Judges<
        impl FnMut(&CheckRequest) -> Option<Result<Verdicts, E>>,
        impl FnMut(&CheckRequest) -> Result<Diagnosis, E>,
    >,
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
        let quick = match shown {
            Shown::Every => None,
            Shown::Rows => (judges.verdicts)(&request)
                .transpose()
                .map_err(|error| at_test(error.to_string()))?,
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
        let diagnosis = (judges.full)(&request).map_err(|error| at_test(error.to_string()))?;
        let verdicts = Verdicts::of(&diagnosis);
        let (outcome, reason) = judge_verdicts(expectation, &verdicts);
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
