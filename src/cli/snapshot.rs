//! `snapshot`: read the chain from AWS and save it, without judging, to
//! replay it later with `check --snapshot`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use kms_s3_doctor::pipeline;

use super::args::{
    AssumeArgs, AwsArgs, Selection, SessionPolicyArgs, aws, parse_snapshot_path, selection,
};
use super::exit::{ExitCode, Failure};

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
    #[command(flatten)]
    pub session_policy: SessionPolicyArgs,
    /// The snapshot file to write (`--output FILE` is accepted too).
    #[arg(long = "save-snapshot", visible_alias = "output", value_name = "FILE", value_parser = parse_snapshot_path)]
    pub save_snapshot: PathBuf,
}

pub fn run(args: SnapshotArgs) -> Result<ExitCode, Failure> {
    if args.selection.bucket.is_none() {
        return Err(Failure::bad_input(
            "the following required argument was not provided: --bucket <NAME>",
        ));
    }
    pipeline::capture(&pipeline::Capture {
        aws: aws(&args.aws, std::io::stderr().is_terminal()),
        selection: selection(&args.selection),
        assumptions: args.assume.assume,
        session_policy: args.session_policy.session_policy,
        save_snapshot: args.save_snapshot,
    })?;
    Ok(ExitCode::Allowed)
}
