//! `check`: judge the chain for one principal and one bucket, write the
//! fixes for review when asked, and print the report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report;

use super::args::{
    AssumeArgs, AwsArgs, Color, DEFAULT_MAX_SNAPSHOT_MIB, Format, LayerArgs, Selection,
    SessionPolicyArgs, parse_snapshot_path, selection, source,
};
use super::exit::{ExitCode, Failure, exit_code, finish_output};

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Operations: list, head, get, put, multipart, copy, replicate
    /// (comma-separated; default list,get,put,multipart, or the operation
    /// the `--event` record logged).
    #[arg(long, value_name = "OPS")]
    pub op: Option<String>,
    /// Judge the request a CloudTrail record logged (`-`: standard input):
    /// a record alone, a trail's `{"Records": [...]}` file, an EventBridge
    /// "AWS API Call via CloudTrail" event or `aws cloudtrail lookup-events`
    /// output. `--principal`, `--bucket`, `--object`, `--op` and `--context`
    /// beside it fill what the record lacks or override it.
    #[arg(long, value_name = "FILE")]
    pub event: Option<PathBuf>,
    /// Judge the request AWS denied with this authorization ID (from the
    /// AccessDenied message): IAM Access Troubleshooter's record of it gives
    /// the principal, bucket, object, operation and request context, and the
    /// report lays AWS's evaluation beside the tool's. Read with
    /// `--principal-profile`, else `--profile` (also beside `--snapshot`);
    /// flags beside it fill or override the record, as with `--event`.
    #[arg(long, value_name = "ID", conflicts_with = "event")]
    pub authorization_id: Option<String>,
    /// Judge this snapshot offline instead of reading AWS. The AWS flags
    /// go with it only beside `--authorization-id`, to read AWS's record.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
    #[command(flatten)]
    pub session_policy: SessionPolicyArgs,
    /// Also write what was read to this snapshot file, to replay it with `--snapshot`.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot", value_parser = parse_snapshot_path)]
    pub save_snapshot: Option<PathBuf>,
    /// Refuse a `--snapshot` file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    pub max_snapshot_size: u64,
    #[command(flatten)]
    pub layers: LayerArgs,
    /// Report format (`--output` is accepted too, as in the AWS CLI).
    #[arg(long, visible_alias = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 0 when the verdict is this one, 1 when it is not; a mismatch is also said on stderr.
    #[arg(long, value_enum)]
    pub expect: Option<Expect>,
    /// Colour the text report: `auto` only on a terminal; `NO_COLOR` turns it off.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Write each change's whole document and an apply.sh that installs them
    /// into this directory, for review (nothing is sent to AWS). With
    /// --plan, the edits to documents the plan writes go to fixes.tf.txt
    /// instead, as the next terraform apply would undo an AWS CLI change.
    #[arg(long, value_name = "DIR")]
    pub write_fixes: Option<PathBuf>,
    /// With --write-fixes: overwrite files already in the directory.
    #[arg(long, requires = "write_fixes")]
    pub force: bool,
    /// With --write-fixes: also put in apply.sh the changes that widen a
    /// guard (drop a Deny or a condition key, or allow around one), which it
    /// otherwise leaves out.
    #[arg(long, requires = "write_fixes")]
    pub include_widening: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Expect {
    /// Every operation is allowed.
    Allowed,
    /// At least one operation is denied.
    Denied,
}

impl Expect {
    pub fn verdict(self) -> Verdict {
        match self {
            Expect::Allowed => Verdict::Allowed,
            Expect::Denied => Verdict::Denied,
        }
    }
}

/// `--write-fixes DIR`: the fixes of `diagnosis` written for a person to
/// review, and a line on stderr saying where.
pub(super) fn write_fixes(
    dir: &std::path::Path,
    diagnosis: &kms_s3_doctor::diagnosis::Diagnosis,
    options: kms_s3_doctor::fixes::WriteOptions,
) -> Result<(), Failure> {
    let written = kms_s3_doctor::fixes::write_fixes(dir, diagnosis, options)
        .map_err(|error| Failure::bad_input(format!("--write-fixes: {error}")))?;
    eprintln!(
        "wrote {} file(s) to `{}`: review them, then run {} yourself",
        written.len(),
        dir.display(),
        kms_s3_doctor::fixes::SCRIPT
    );
    Ok(())
}

pub(super) fn parse_operations(text: &str) -> Result<Vec<Operation>, String> {
    let mut operations = Vec::new();
    for name in text.split(',').filter(|name| !name.trim().is_empty()) {
        let operation = Operation::parse(name).ok_or_else(|| {
            format!(
                "--op: unknown operation `{}` (expected list, head, get, put, multipart, copy or replicate)",
                name.trim()
            )
        })?;
        if !operations.contains(&operation) {
            operations.push(operation);
        }
    }
    if operations.is_empty() {
        return Err("--op: no operation given".to_string());
    }
    Ok(operations)
}

const DEFAULT_OPERATIONS: &str = "list,get,put,multipart";

/// `--snapshot` reads no AWS: an AWS flag beside it is a mistake, except
/// beside `--authorization-id`, which reads AWS's record with them.
fn snapshot_conflict(args: &CheckArgs) -> Option<&'static str> {
    args.snapshot.as_ref()?;
    let aws = &args.aws;
    [
        (aws.profile.is_some(), "--profile <P>"),
        (aws.principal_profile.is_some(), "--principal-profile <P>"),
        (!aws.org_profile.is_empty(), "--org-profile <P>"),
        (aws.region.is_some(), "--region <R>"),
        (aws.endpoint_url.is_some(), "--endpoint-url <URL>"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag))
}

pub fn run(args: CheckArgs) -> Result<ExitCode, Failure> {
    if args.authorization_id.is_some() {
        return super::check_authorization::run(args);
    }
    if let Some(flag) = snapshot_conflict(&args) {
        return Err(Failure::bad_input(format!(
            "the argument '--snapshot <FILE>' cannot be used with '{flag}' (except beside --authorization-id)"
        )));
    }
    if args.event.is_some() {
        return super::check_event::run(args);
    }
    if args.selection.bucket.is_none() {
        return Err(Failure::bad_input(
            "the following required argument was not provided: --bucket <NAME> (or --event FILE)",
        ));
    }
    let operations = parse_operations(args.op.as_deref().unwrap_or(DEFAULT_OPERATIONS))
        .map_err(Failure::bad_input)?;
    let progress = args.format == Format::Text && std::io::stderr().is_terminal();
    let write_options = kms_s3_doctor::fixes::WriteOptions {
        force: args.force,
        include_widening: args.include_widening,
    };
    let checked = pipeline::check(&pipeline::Check {
        source: source(args.snapshot, args.max_snapshot_size, &args.aws, progress),
        selection: selection(&args.selection),
        operations,
        assumptions: args.assume.assume,
        session_policy: args.session_policy.session_policy,
        save_snapshot: args.save_snapshot,
        layers: args.layers.order,
        now: None,
    })?;
    let diagnosis = checked.diagnosis;
    if let Some(dir) = &args.write_fixes {
        write_fixes(dir, &diagnosis, write_options)?;
    }
    let expected = args.expect.map(Expect::verdict);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Format::Text => report::render_text(&diagnosis, &mut out, args.color.resolve()),
        Format::Markdown => report::render_markdown(&diagnosis, &mut out),
        Format::Json => writeln!(
            out,
            "{}",
            report::render_json_expecting(&diagnosis, expected)
        ),
    };
    // The process ends soon: the system takes the memory back whole.
    std::mem::forget(checked.judged_from);
    finish_output(written.and_then(|()| out.flush()))?;
    // A script reads the exit code; the person reading its log reads this.
    if let Some(line) = expected.and_then(|expected| report::expect_mismatch(&diagnosis, expected))
    {
        eprintln!("{line}");
    }
    if let Some(failure) = checked.save_failure {
        return Err(failure.into());
    }
    Ok(exit_code(diagnosis.verdict, args.expect))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_case_insensitive_and_deduplicated() {
        assert_eq!(
            parse_operations("GET, put,get").ok(),
            Some(vec![Operation::Get, Operation::Put])
        );
        assert!(parse_operations("delete").is_err());
        assert!(parse_operations(",").is_err());
    }
}
