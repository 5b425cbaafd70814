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
    /// The snapshot file to write (`--output FILE` is accepted too); for an
    /// organization sweep, a directory, or one file if it ends in `.json`.
    #[arg(long = "save-snapshot", visible_alias = "output", value_name = "FILE", value_parser = parse_snapshot_path, required = true)]
    pub save_snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub sweep: super::snapshot_sweep::SweepArgs,
    #[command(subcommand)]
    pub command: Option<super::snapshot_sweep::SnapshotCommand>,
}

pub fn run(args: SnapshotArgs) -> Result<ExitCode, Failure> {
    use super::snapshot_sweep::{SnapshotCommand, is_sweep, merge, sweep};
    if let Some(SnapshotCommand::Merge(merge_args)) = args.command {
        return merge(merge_args);
    }
    if is_sweep(&args)? {
        let output = save_snapshot(args.save_snapshot.clone())?;
        return sweep(args, output);
    }
    // `--external-id` is also the sweep's member-role ExternalId, so clap
    // lets it through alone; for one chain it goes with `--via-role`.
    if args.selection.external_id.is_some() && args.selection.via_role.is_none() {
        return Err(Failure::bad_input(
            "the following required arguments were not provided: --via-role <ROLE_ARN>",
        ));
    }
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
        save_snapshot: save_snapshot(args.save_snapshot)?,
    })?;
    Ok(ExitCode::Allowed)
}

/// `--save-snapshot`/`--output`, which clap requires unless a subcommand is
/// given.
fn save_snapshot(path: Option<PathBuf>) -> Result<PathBuf, Failure> {
    path.ok_or_else(|| {
        Failure::bad_input(
            "the following required argument was not provided: --save-snapshot <FILE>",
        )
    })
}
