//! The JSON report of `kms-s3-doctor test`, `kms-s3-doctor/test-report@1`:
//! frozen serde types of its own, as for `check`'s report, with every
//! expectation carrying its full `kms-s3-doctor/report@1` report.

use serde::{Deserialize, Serialize};

use super::json::ReportV1;
use crate::access_tests::{Outcome, TestRun};

/// The `format` value of this report version.
pub const TEST_REPORT_FORMAT: &str = "kms-s3-doctor/test-report@1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReportV1 {
    /// Always [`TEST_REPORT_FORMAT`].
    pub format: String,
    /// The access-test file as given.
    pub file: String,
    /// The worst outcome of all tests.
    pub outcome: OutcomeV1,
    pub summary: SummaryV1,
    pub tests: Vec<TestCaseV1>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeV1 {
    Met,
    Unmet,
    Inconclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryV1 {
    pub tests: usize,
    pub met: usize,
    pub unmet: usize,
    pub inconclusive: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCaseV1 {
    pub name: String,
    /// 1-based line of the test's `[[test]]` header.
    pub line: usize,
    /// `allowed` or `denied`.
    pub expect: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_link: Option<String>,
    pub outcome: OutcomeV1,
    /// Why the expectation was not met; empty when met.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The full `check` report of the expectation's request. A run made
    /// for this report judges every expectation in full, so it is always
    /// there; a run made for a report of rows only may lack it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportV1>,
    /// For a test with `event`: the record its request came from (`FILE
    /// record N (S3 GetObject, eventID ...)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

impl From<Outcome> for OutcomeV1 {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Met => OutcomeV1::Met,
            Outcome::Unmet => OutcomeV1::Unmet,
            Outcome::Inconclusive => OutcomeV1::Inconclusive,
        }
    }
}

impl From<&TestRun> for TestReportV1 {
    fn from(run: &TestRun) -> Self {
        Self {
            format: TEST_REPORT_FORMAT.to_string(),
            file: run.file.clone(),
            outcome: run.outcome().into(),
            summary: SummaryV1 {
                tests: run.results.len(),
                met: run.count(Outcome::Met),
                unmet: run.count(Outcome::Unmet),
                inconclusive: run.count(Outcome::Inconclusive),
            },
            tests: run
                .results
                .iter()
                .map(|result| TestCaseV1 {
                    name: result.expectation.name.clone(),
                    line: result.expectation.line,
                    expect: result.expectation.expect.as_str().to_string(),
                    broken_link: result
                        .expectation
                        .broken_link
                        .map(|link| link.as_str().to_string()),
                    outcome: result.outcome.into(),
                    reason: result.reason.clone(),
                    report: result.diagnosis.as_ref().map(ReportV1::from),
                    event: result.expectation.event.clone(),
                })
                .collect(),
        }
    }
}

pub(super) fn render(run: &TestRun) -> String {
    let report = TestReportV1::from(run);
    // Plain structs of strings, numbers and `Value`s always serialise.
    serde_json::to_string_pretty(&report).unwrap_or_else(|error| {
        format!(
            "{{\"format\": \"{TEST_REPORT_FORMAT}\", \"error\": {}}}",
            serde_json::Value::String(error.to_string())
        )
    })
}
