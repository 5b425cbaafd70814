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
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init()
        .map_err(|error| format!("cannot set up the log: {error}"))
}
