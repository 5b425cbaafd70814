//! `snapshot`: read the chain from AWS and save it, without judging, to
//! replay it later with `check --snapshot`; or lay the principals of
//! `aws iam get-account-authorization-details` output over a snapshot.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use kms_s3_doctor::pipeline;

use super::args::{
    AssumeArgs, AwsArgs, DEFAULT_MAX_SNAPSHOT_MIB, Selection, SessionPolicyArgs, aws,
    parse_snapshot_path, selection,
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
    /// Read every user and role of each account a profile is of
    /// (GetAccountAuthorizationDetails), not only the principal judged.
    #[arg(long, conflicts_with = "snapshot")]
    pub all_principals: bool,
    /// Read every bucket the accounts of `--profile` and
    /// `--principal-profile` own, with its keys, in place of `--bucket`:
    /// what `can-access` reads live for `--principal`.
    #[arg(long, conflicts_with_all = ["snapshot", "bucket", "object", "access_point"], requires = "principal")]
    pub all_buckets: bool,
    /// Lay `--gaad` files over this snapshot instead of reading AWS.
    #[arg(
        long,
        value_name = "BASE",
        requires = "gaad",
        conflicts_with = "bucket"
    )]
    pub snapshot: Option<PathBuf>,
    /// `aws iam get-account-authorization-details` output: the users, groups,
    /// roles and managed policies of the `--account` given with it replace
    /// that account's principals in `--snapshot`. Repeatable, in pairs with
    /// `--account`, laid in order.
    #[arg(long, value_name = "FILE", requires = "snapshot")]
    pub gaad: Vec<PathBuf>,
    /// The account the `--gaad` file in the same position describes.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Vec<String>,
    /// Refuse a `--snapshot` or `--gaad` file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    pub max_snapshot_size: u64,
}

/// An AWS account id: twelve digits.
fn parse_account(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(format!("`{text}` is not an AWS account id (12 digits)"))
    }
}

pub fn run(args: SnapshotArgs) -> Result<ExitCode, Failure> {
    use super::snapshot_sweep::{SnapshotCommand, is_sweep, merge, sweep};
    if let Some(SnapshotCommand::Merge(merge_args)) = args.command {
        return merge(merge_args);
    }
    if let Some(base) = args.snapshot {
        if args.gaad.len() != args.account.len() {
            return Err(Failure::bad_input(format!(
                "each --gaad FILE needs its --account ID: {} --gaad and {} --account given",
                args.gaad.len(),
                args.account.len()
            )));
        }
        pipeline::import_gaad(&pipeline::GaadImport {
            base,
            files: args.gaad.into_iter().zip(args.account).collect(),
            output: save_snapshot(args.save_snapshot)?,
            limit: args.max_snapshot_size.saturating_mul(1 << 20),
        })?;
        return Ok(ExitCode::Allowed);
    }
    if !args.account.is_empty() {
        return Err(Failure::bad_input(
            "--account goes with --gaad FILE and --snapshot BASE",
        ));
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
    if args.selection.bucket.is_none() && !args.all_buckets {
        return Err(Failure::bad_input(
            "the following required argument was not provided: --bucket <NAME>",
        ));
    }
    let warnings = pipeline::capture(&pipeline::Capture {
        aws: aws(&args.aws, std::io::stderr().is_terminal()),
        selection: selection(&args.selection),
        assumptions: args.assume.assume,
        session_policy: args.session_policy.session_policy,
        save_snapshot: save_snapshot(args.save_snapshot)?,
        all_principals: args.all_principals,
        every_bucket: args.all_buckets,
    })?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
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
