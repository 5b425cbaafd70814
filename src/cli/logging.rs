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
    // The SDK's events that print resolved credentials whole: their
    // `Debug` hides the secret but shows the access key id, and a log
    // pasted into a ticket must carry no part of a credential. Held at a
    // level below the one that prints them, whatever `RUST_LOG` asks.
    for held_back in [
        "aws_smithy_runtime::client::orchestrator::auth=debug",
        "aws_config::profile::credentials=warn",
    ] {
        let directive: Directive = held_back
            .parse()
            .map_err(|error| format!("the log filter `{held_back}`: {error}"))?;
        filter = filter.add_directive(directive);
    }
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
