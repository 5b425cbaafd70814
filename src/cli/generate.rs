//! `completions SHELL` and `man`: documents generated from the clap
//! definitions themselves, so they never disagree with the parser.

use std::io::Write;

use clap::CommandFactory;

use super::Cli;
use super::exit::{ExitCode, Failure, finish_output};

/// A shell completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "kms-s3-doctor", &mut out);
    finish_output(out.flush())?;
    Ok(ExitCode::Allowed)
}

/// The manual page (roff) on stdout.
pub fn man() -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    let written = clap_mangen::Man::new(Cli::command()).render(&mut out);
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(ExitCode::Allowed)
}
