//! The exit codes, once: every command's outcome and every failure become
//! one of the codes docs/guide.md documents, here and nowhere else.

use kms_s3_doctor::access_tests::Outcome;
use kms_s3_doctor::diagnosis::Verdict;
use kms_s3_doctor::pipeline;

use super::check::Expect;

/// Exit codes, as docs/guide.md documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every checked operation is allowed (with `--expect`: the verdict matched).
    Allowed = 0,
    /// At least one operation is denied (with `--expect`: it did not match).
    Denied = 1,
    /// Bad usage or bad input.
    BadInput = 2,
    /// Nothing denied for certain, but some link is unknown.
    Inconclusive = 3,
    /// Could not gather at all (credentials, endpoint, bucket).
    GatherFailed = 4,
}

/// A failure that ends the run with a one-line message.
#[derive(Debug)]
pub struct Failure {
    pub code: ExitCode,
    pub message: String,
}

impl Failure {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self {
            code: ExitCode::BadInput,
            message: message.into(),
        }
    }
}

impl From<pipeline::Error> for Failure {
    fn from(error: pipeline::Error) -> Self {
        let code = match error {
            pipeline::Error::BadInput(_) => ExitCode::BadInput,
            pipeline::Error::Gather(_) => ExitCode::GatherFailed,
        };
        Failure {
            code,
            message: error.to_string(),
        }
    }
}

/// The exit code of a verdict, with `--expect`. An
/// inconclusive verdict stays 3 with `--expect`: it neither matches nor
/// contradicts the expectation.
pub fn exit_code(verdict: Verdict, expect: Option<Expect>) -> ExitCode {
    match (verdict, expect) {
        (Verdict::Inconclusive, _) => ExitCode::Inconclusive,
        (Verdict::Allowed, None) | (Verdict::Allowed, Some(Expect::Allowed)) => ExitCode::Allowed,
        (Verdict::Denied, Some(Expect::Denied)) => ExitCode::Allowed,
        (Verdict::Denied, _) | (Verdict::Allowed, Some(Expect::Denied)) => ExitCode::Denied,
    }
}

/// The exit code of an access-test run: its worst outcome.
pub fn test_exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Met => ExitCode::Allowed,
        Outcome::Unmet => ExitCode::Denied,
        Outcome::Inconclusive => ExitCode::Inconclusive,
    }
}

/// The exit code of `explain`: a message it cannot read is bad input.
pub fn explain_exit_code(recognised: bool) -> ExitCode {
    if recognised {
        ExitCode::Allowed
    } else {
        ExitCode::BadInput
    }
}

/// A closed pipe (`| head`) is not an error for a report.
pub fn finish_output(result: std::io::Result<()>) -> Result<(), Failure> {
    match result {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Failure::bad_input(format!(
            "cannot write the report: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(exit_code(Verdict::Allowed, None), ExitCode::Allowed);
        assert_eq!(exit_code(Verdict::Denied, None), ExitCode::Denied);
        assert_eq!(
            exit_code(Verdict::Inconclusive, None),
            ExitCode::Inconclusive
        );
        assert_eq!(
            exit_code(Verdict::Denied, Some(Expect::Denied)),
            ExitCode::Allowed
        );
        assert_eq!(
            exit_code(Verdict::Allowed, Some(Expect::Denied)),
            ExitCode::Denied
        );
        assert_eq!(
            exit_code(Verdict::Denied, Some(Expect::Allowed)),
            ExitCode::Denied
        );
        assert_eq!(
            exit_code(Verdict::Inconclusive, Some(Expect::Allowed)),
            ExitCode::Inconclusive
        );
    }
}
