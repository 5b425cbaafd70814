//! `snapshot` for a whole organization: the sweep's flags
//! (`--member-role`, `--accounts`, `--regions`, `--shard`, `--resume`) and
//! `snapshot merge A B ... --output F`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::shard::Shard;

use super::args::{DEFAULT_MAX_SNAPSHOT_MIB, parse_snapshot_path};
use super::exit::{ExitCode, Failure};
use super::snapshot::SnapshotArgs;

/// The role AWS Organizations creates, trusting the management account, in
/// every account it creates (AWS Organizations API Reference,
/// "CreateAccount", `RoleName`: "If you don't specify this parameter, the
/// role name defaults to OrganizationAccountAccessRole"). Invited accounts
/// have it only if someone created it.
pub const DEFAULT_MEMBER_ROLE: &str = "OrganizationAccountAccessRole";
const DEFAULT_SESSION_NAME: &str = "kms-s3-doctor-sweep";

/// Environment variable that stops a sweep after N accounts, as an
/// interruption would: for tests of `--resume` only.
const STOP_AFTER: &str = "KMS_S3_DOCTOR_SWEEP_STOP_AFTER";

/// The organization sweep's flags.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Read every account of the `--org-profile`'s organization through the
    /// role of this name in it (default when `--org-profile` is given
    /// without `--bucket`: `OrganizationAccountAccessRole`); `--output` is
    /// then a directory snapshot, or one file if it ends in `.json`.
    #[arg(long, value_name = "NAME", value_parser = parse_role_name)]
    pub member_role: Option<String>,
    /// The session name of the member role's sessions (CloudTrail shows it).
    #[arg(long, value_name = "S")]
    pub role_session_name: Option<String>,
    /// Sweep only these accounts of the organization (comma-separated).
    #[arg(long, value_name = "ID,...", value_delimiter = ',', value_parser = parse_account)]
    pub accounts: Vec<String>,
    /// Regions whose keys and access points are read (comma-separated;
    /// default: the profile's region). Buckets are listed in every region.
    #[arg(long, value_name = "R,...", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Read shard K of N: the accounts whose id modulo N is K-1.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Continue an interrupted sweep into the same `--output`, skipping the
    /// accounts its manifest says are finished.
    #[arg(long)]
    pub resume: bool,
}

impl SweepArgs {
    fn sweep_only_flag(&self) -> Option<&'static str> {
        [
            (self.role_session_name.is_some(), "--role-session-name"),
            (!self.accounts.is_empty(), "--accounts"),
            (!self.regions.is_empty(), "--regions"),
            (self.shard.is_some(), "--shard"),
            (self.resume, "--resume"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

fn parse_role_name(text: &str) -> Result<String, String> {
    // A role name (IAM User Guide, "IAM object quotas": up to 64 of
    // `[\w+=,.@-]`); a path or ARN is not what `--member-role` takes.
    let valid = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{text}` is not a role name (up to 64 letters, digits and _+=,.@-; give the name, not the ARN)"
        ))
    }
}

fn parse_account(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(format!("`{text}` is not a 12-digit account id"))
    }
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    text.parse()
}

/// `snapshot`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Join snapshots (files, or directories an organization sweep wrote)
    /// into one file.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The snapshots to join: files, or directory snapshots.
    #[arg(required = true, value_name = "SNAPSHOT")]
    pub inputs: Vec<PathBuf>,
    /// The file to write; never one of the inputs.
    #[arg(long, value_name = "FILE", value_parser = parse_snapshot_path)]
    pub output: PathBuf,
    /// Refuse an input file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    pub max_snapshot_size: u64,
}

pub fn merge(args: MergeArgs) -> Result<ExitCode, Failure> {
    let summary = pipeline::merge_snapshots(
        &args.inputs,
        &args.output,
        args.max_snapshot_size.saturating_mul(1 << 20),
    )?;
    eprintln!(
        "merged {} files into `{}`: {} accounts, {} principals, {} buckets, {} keys",
        summary.files,
        args.output.display(),
        summary.accounts,
        summary.principals,
        summary.buckets,
        summary.keys
    );
    Ok(ExitCode::Allowed)
}

/// Whether `args` ask for a sweep: `--member-role`, or `--org-profile`
/// without `--bucket`. A sweep-only flag outside a sweep is bad input.
pub fn is_sweep(args: &SnapshotArgs) -> Result<bool, Failure> {
    let sweep = args.sweep.member_role.is_some()
        || (args.selection.bucket.is_none()
            && !args.all_buckets
            && !args.aws.org_profile.is_empty());
    if !sweep && let Some(flag) = args.sweep.sweep_only_flag() {
        return Err(Failure::bad_input(format!(
            "{flag} is for an organization sweep: give --org-profile P (and --member-role NAME)"
        )));
    }
    Ok(sweep)
}

pub fn sweep(args: SnapshotArgs, output: PathBuf) -> Result<ExitCode, Failure> {
    let [org_profile] = args.aws.org_profile.as_slice() else {
        return Err(Failure::bad_input(
            "an organization sweep needs exactly one --org-profile (the management account's or a delegated administrator's)",
        ));
    };
    for (given, flag) in [
        (args.selection.bucket.is_some(), "--bucket"),
        (args.selection.object.is_some(), "--object"),
        (args.selection.principal.is_some(), "--principal"),
        (args.selection.via_role.is_some(), "--via-role"),
        (args.selection.access_point.is_some(), "--access-point"),
        (args.aws.profile.is_some(), "--profile"),
        (args.aws.principal_profile.is_some(), "--principal-profile"),
        (!args.assume.assume.is_empty(), "--assume"),
        (
            args.session_policy.session_policy.is_some(),
            "--session-policy",
        ),
    ] {
        if given {
            return Err(Failure::bad_input(format!(
                "{flag} is for one chain; an organization sweep reads every bucket of every account"
            )));
        }
    }
    let stop_after = std::env::var(STOP_AFTER)
        .ok()
        .and_then(|value| value.parse().ok());
    let progress = std::io::stderr().is_terminal();
    let mut aws = super::args::aws(&args.aws, progress);
    aws.org_profiles = vec![org_profile.clone()];
    let outcome = pipeline::sweep(&pipeline::Sweep {
        aws,
        member_role: args
            .sweep
            .member_role
            .unwrap_or_else(|| DEFAULT_MEMBER_ROLE.to_string()),
        external_id: args.selection.external_id,
        role_session_name: args
            .sweep
            .role_session_name
            .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string()),
        accounts: args.sweep.accounts,
        regions: args.sweep.regions,
        shard: args.sweep.shard,
        resume: args.sweep.resume,
        output,
        stop_after,
    })?;
    eprintln!(
        "swept {} of {} accounts{}{} ({} finished before), {} requests, into `{}`",
        outcome.read,
        outcome.accounts,
        outcome
            .organization
            .as_deref()
            .map(|id| format!(" of {id}"))
            .unwrap_or_default(),
        if outcome.unreadable.is_empty() {
            String::new()
        } else {
            format!(", {} unreadable", outcome.unreadable.len())
        },
        outcome.skipped,
        outcome.requests,
        outcome.output.display()
    );
    if !outcome.summary.is_empty() {
        eprintln!("{}", outcome.summary);
    }
    for (account, why) in &outcome.unreadable {
        eprintln!("  unreadable: {account}: {why}");
    }
    if outcome.stopped {
        return Err(Failure {
            code: ExitCode::GatherFailed,
            message: format!(
                "the sweep stopped before every account was read; continue it with --resume --output {}",
                outcome.output.display()
            ),
        });
    }
    Ok(ExitCode::Allowed)
}
