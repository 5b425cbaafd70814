//! `check --authorization-id ID` (and `explain --fetch`): AWS's own record
//! of the denied request (IAM Access Troubleshooter) becomes the request to
//! judge, with the flags beside it laid over it as with `--event`, and the
//! report shows AWS's evaluation beside the tool's (`aws_evaluation`). When
//! the record cannot be had, one line says why and the flags alone are
//! judged, if they name a bucket.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use kms_s3_doctor::diagnosis::Diagnosis;
use kms_s3_doctor::event::authorization::{self, AuthorizationDetails, Comparison};
use kms_s3_doctor::explain::authorization_id;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report::{self, RequestV1};

use super::args::{AwsArgs, Color, Format, source};
use super::check::{CheckArgs, Expect, write_fixes};
use super::check_event::resolve;
use super::exit::{ExitCode, Failure, exit_code, finish_output};

pub fn run(mut args: CheckArgs) -> Result<ExitCode, Failure> {
    let Some(id) = args.authorization_id.take() else {
        return Err(Failure::bad_input("--authorization-id: no ID given"));
    };
    authorization::check_authorization_id(&id).map_err(Failure::bad_input)?;
    match fetch(&args, &id) {
        Ok(details) => judge(args, &details),
        Err((code, line)) => fall_back(args, code, line),
    }
}

/// AWS's details, or the failure's exit code and line.
#[cfg(feature = "live")]
fn fetch(args: &CheckArgs, id: &str) -> Result<AuthorizationDetails, (ExitCode, String)> {
    use kms_s3_doctor::live::{ToolboxError, ToolboxRequest, fetch_authorization_details};
    fetch_authorization_details(&ToolboxRequest {
        authorization_id: id.to_string(),
        profile: args
            .aws
            .principal_profile
            .clone()
            .or_else(|| args.aws.profile.clone()),
        region: args.aws.region.clone(),
        endpoint_url: args.aws.endpoint_url.clone(),
        timeout: std::time::Duration::from_secs(args.aws.timeout),
    })
    .map_err(|error| {
        let code = match error {
            ToolboxError::Refused { .. } => ExitCode::BadInput,
            _ => ExitCode::GatherFailed,
        };
        (code, error.to_string())
    })
}

#[cfg(not(feature = "live"))]
fn fetch(_args: &CheckArgs, _id: &str) -> Result<AuthorizationDetails, (ExitCode, String)> {
    Err((
        ExitCode::GatherFailed,
        "this build has no live mode (feature `live`): AWS's authorization details cannot be read"
            .to_string(),
    ))
}

/// Without AWS's record, the flags alone, when they name a bucket;
/// otherwise the failure ends the run.
fn fall_back(mut args: CheckArgs, code: ExitCode, line: String) -> Result<ExitCode, Failure> {
    if code == ExitCode::BadInput || args.selection.bucket.is_none() {
        return Err(Failure {
            code,
            message: format!(
                "{line}; to judge from the AccessDenied message instead, give --bucket (and --principal, --object, --op), or run `kms-s3-doctor explain`"
            ),
        });
    }
    eprintln!("warning: {line}; judging from the flags alone");
    if args.snapshot.is_some() {
        // The AWS flags were for the authorization details only.
        args.aws.profile = None;
        args.aws.principal_profile = None;
        args.aws.org_profile.clear();
        args.aws.region = None;
        args.aws.endpoint_url = None;
    }
    super::check::run(args)
}

/// `explain --fetch`: with an authorization ID in the message, AWS's record
/// judged as `check --authorization-id` judges it; without one, or when the
/// record cannot be had, one line says why and the message is explained.
pub fn explain_fetch(
    message: &str,
    format: Format,
    color: Color,
    snapshot: Option<PathBuf>,
    aws: AwsArgs,
) -> Result<ExitCode, Failure> {
    let message = match message {
        "-" => kms_s3_doctor::explain::read_message(&mut std::io::stdin().lock())
            .map_err(|error| Failure::bad_input(error.to_string()))?,
        text => text.to_string(),
    };
    let explain_instead = |line: String, snapshot: Option<PathBuf>, aws: AwsArgs| {
        eprintln!("warning: {line}; explaining the message alone");
        super::explain::run(&message, format, color, snapshot, aws)
    };
    let Some(found) = authorization_id::find(&message) else {
        return explain_instead(
            "the message carries no authorization ID (AWS adds one only for services Access Troubleshooter supports, and not to every denial)".to_string(),
            snapshot,
            aws,
        );
    };
    if let Err(problem) = authorization::check_authorization_id(&found.id) {
        return explain_instead(problem, snapshot, aws);
    }
    let mut args = default_check_args()?;
    args.aws = aws.clone();
    // AWS keeps the details in the region of the denial, which the
    // console link names.
    if args.aws.region.is_none() {
        args.aws.region = found.region.clone();
    }
    args.snapshot = snapshot.clone();
    args.format = format;
    args.color = color;
    match fetch(&args, &found.id) {
        Ok(details) => judge(args, &details),
        Err((_, line)) => explain_instead(line, snapshot, aws),
    }
}

/// `check`'s arguments with every default, as the command line gives them.
fn default_check_args() -> Result<CheckArgs, Failure> {
    use clap::{Args, FromArgMatches};
    let command = CheckArgs::augment_args(clap::Command::new("check"));
    command
        .try_get_matches_from(["check"])
        .and_then(|matches| CheckArgs::from_arg_matches(&matches))
        .map_err(|error| Failure::bad_input(error.to_string()))
}

/// Judges the request AWS's details name, flags laid over it.
pub(super) fn judge(args: CheckArgs, details: &AuthorizationDetails) -> Result<ExitCode, Failure> {
    let named = authorization::request_of(details).map_err(|error| Failure::bad_input(error.0))?;
    let mut resolved = resolve(&args, &named.request)?;
    for (key, value) in &named.more_values {
        let given = args
            .selection
            .context
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(key));
        if !given {
            resolved
                .selection
                .context
                .push((key.clone(), value.clone()));
            if let Some(shown) = resolved.shown.context.get_mut(key) {
                shown.push_str(", ");
                shown.push_str(value);
            }
        }
    }
    let progress = args.format == Format::Text && std::io::stderr().is_terminal();
    // The snapshot comes from --snapshot, or from AWS with the same flags.
    let snapshot_source = source(
        args.snapshot.clone(),
        args.max_snapshot_size,
        &args.aws,
        progress,
    );
    let checked = pipeline::check(&pipeline::Check {
        source: snapshot_source,
        selection: resolved.selection,
        operations: resolved.operations,
        assumptions: args.assume.assume.clone(),
        session_policy: args.session_policy.session_policy.clone(),
        save_snapshot: args.save_snapshot.clone(),
        layers: args.layers.order.clone(),
        now: resolved.time,
    })?;
    if let Some(failure) = checked.save_failure {
        return Err(failure.into());
    }
    // The process ends soon: the system takes the memory back whole.
    std::mem::forget(checked.judged_from);
    let mut diagnosis = checked.diagnosis;
    diagnosis.notes.extend(resolved.notes);
    let comparison = authorization::compare(details, &diagnosis);
    diagnosis.notes.extend(comparison.warnings());
    doubt_what_aws_denied(&mut diagnosis, &comparison.denied_by_aws_allowed_by_tool());
    if let Some(dir) = &args.write_fixes {
        write_fixes(
            dir,
            &diagnosis,
            kms_s3_doctor::fixes::WriteOptions {
                force: args.force,
                include_widening: args.include_widening,
            },
        )?;
    }
    let expected = args.expect.map(Expect::verdict);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = render(
        &args,
        &diagnosis,
        &resolved.shown,
        &comparison,
        expected,
        &mut out,
    );
    finish_output(written.and_then(|()| out.flush()))?;
    if let Some(line) = expected.and_then(|expected| report::expect_mismatch(&diagnosis, expected))
    {
        eprintln!("{line}");
    }
    Ok(exit_code(diagnosis.verdict, args.expect))
}

/// An action AWS denied, where the documents the tool read allow it, is
/// inconclusive: the tool cannot see what denied it (a VPC endpoint policy,
/// a document changed since), and a wrong "allowed" is the one answer it
/// must never give.
fn doubt_what_aws_denied(diagnosis: &mut Diagnosis, denied_by_aws: &[&str]) {
    use kms_s3_doctor::diagnosis::Verdict;
    if denied_by_aws.is_empty() {
        return;
    }
    for operation in &mut diagnosis.operations {
        for action in &mut operation.actions {
            let named = denied_by_aws
                .iter()
                .any(|denied| denied.eq_ignore_ascii_case(&action.action));
            if named && action.verdict == Verdict::Allowed {
                action.verdict = Verdict::Inconclusive;
            }
        }
        if operation.verdict == Verdict::Allowed
            && operation
                .actions
                .iter()
                .any(|action| action.verdict == Verdict::Inconclusive)
        {
            operation.verdict = Verdict::Inconclusive;
        }
    }
    if diagnosis.verdict == Verdict::Allowed
        && diagnosis
            .operations
            .iter()
            .any(|operation| operation.verdict == Verdict::Inconclusive)
    {
        diagnosis.verdict = Verdict::Inconclusive;
    }
}

fn render(
    args: &CheckArgs,
    diagnosis: &Diagnosis,
    shown: &RequestV1,
    comparison: &Comparison,
    expected: Option<kms_s3_doctor::diagnosis::Verdict>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let line = report::escape_control(&shown.source);
    match args.format {
        Format::Json => writeln!(
            out,
            "{}",
            report::render_json_evaluated(diagnosis, shown.clone(), comparison, expected)
        ),
        Format::Text => {
            writeln!(out, "request from {line}")?;
            report::render_text(diagnosis, out, args.color.resolve())?;
            report::render_aws_evaluation_text(comparison, out)
        }
        Format::Markdown => {
            writeln!(out, "Request from {line}\n")?;
            report::render_markdown(diagnosis, out)?;
            report::render_aws_evaluation_markdown(comparison, out)
        }
    }
}
