//! Where `--debug` and `RUST_LOG` send the log: `tracing` events written to
//! stderr, one line each, without colour codes. `--debug` turns on the
//! line per AWS call; `RUST_LOG` (the `tracing-subscriber` filter syntax,
//! `RUST_LOG=aws_smithy_runtime=debug`) chooses any other events, the AWS
//! SDK's included. With neither, nothing is set up and nothing extra is
//! printed. The report itself goes to stdout, unchanged.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;

/// The `tracing` target of the line per AWS call.
#[cfg(feature = "live")]
const CALLS: &str = kms_s3_doctor::live::CALL_LOG_TARGET;
#[cfg(not(feature = "live"))]
const CALLS: &str = "kms_s3_doctor::aws";

/// Sets up the log for `--debug` and `RUST_LOG`; a `RUST_LOG` that is not a
/// filter is bad input, named in one line.
pub fn init(debug: bool) -> Result<(), String> {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|spec| !spec.trim().is_empty());
    if !debug && from_env.is_none() {
        return Ok(());
    }
    let mut filter = match &from_env {
        Some(spec) => EnvFilter::builder()
            .parse(spec)
            .map_err(|error| format!("RUST_LOG `{spec}` is not a log filter: {error}"))?,
        None => EnvFilter::new("off"),
    };
    if debug {
        let calls: Directive = format!("{CALLS}=debug")
            .parse()
            .map_err(|error| format!("the --debug filter: {error}"))?;
        filter = filter.add_directive(calls);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| RedactedStderr)
        .with_ansi(false)
        .try_init()
        .map_err(|error| format!("cannot set up the log: {error}"))
}

/// Standard error with every AWS access key id masked. The SDK's own
/// events print the signing request and resolved identities, access key id
/// included, at several targets and levels; masking the one shape those ids
/// have catches them all, where holding back single targets would miss the
/// next SDK release's. The SDK itself redacts secret keys, signatures and
/// session tokens.
struct RedactedStderr;

/// Long-term (`AKIA`) and temporary (`ASIA`) access key ids.
fn access_key_id() -> Option<&'static regex::Regex> {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| regex::Regex::new(r"\b(AKIA|ASIA)[A-Z0-9]{12,124}\b").ok())
        .as_ref()
}

fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    match access_key_id() {
        Some(pattern) => pattern.replace_all(text, "${1}[redacted]"),
        // Unreachable with a constant pattern; withheld rather than risked.
        None => "[log line withheld]\n".into(),
    }
}

impl std::io::Write for RedactedStderr {
    // The formatter writes each event whole in one call, so an id is never
    // split between two writes.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(bytes);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn access_key_ids_are_masked_and_nothing_else() {
        assert_eq!(
            redact("Credential=AKIAIOSFODNN7EXAMPLE/20261207/eu-west-1/s3 ASIAXAMPLE1234567890X"),
            "Credential=AKIA[redacted]/20261207/eu-west-1/s3 ASIA[redacted]"
        );
        let plain = "s3 GetBucketPolicy region=eu-west-1 outcome=ok AKIA";
        assert_eq!(redact(plain), plain);
    }
}
