//! The stages that turn a request into a finished diagnosis, in order:
//!
//! 1. **judge**: [`chain::judge`] decides every verdict, link and change;
//! 2. **fixes**: [`fixes`](crate::fixes) names each change's target
//!    document and command, and judges again with the changes applied.
//!
//! A caller that needs only verdicts stops after the judge.

use chrono::{DateTime, Utc};

use crate::access_tests::{self, AccessTestError, TestFile, TestRun};
use crate::chain::{self, CheckRequest, JudgeError};
use crate::diagnosis::Diagnosis;
use crate::fixes;
use crate::snapshot::Snapshot;

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
    access_tests::run(file, caller, now, |request| {
        judge_and_fix(snapshot, request)
    })
}
