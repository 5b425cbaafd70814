//! `explain`: map an AccessDenied message to the link it points at; a
//! pasted CloudTrail record, given a snapshot or AWS flags, is judged as
//! `check --event` judges it.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, FromArgMatches, ValueEnum};

use kms_s3_doctor::explain;
use kms_s3_doctor::report;

use super::args::{AwsArgs, Color, Format};
use super::check::CheckArgs;
use super::exit::{ExitCode, Failure, explain_exit_code, finish_output};

pub fn run(
    message: &str,
    format: Format,
    color: Color,
    snapshot: Option<PathBuf>,
    aws: AwsArgs,
) -> Result<ExitCode, Failure> {
    let message = match message {
        "-" => explain::read_message(&mut std::io::stdin().lock())
            .map_err(|error| Failure::bad_input(error.to_string()))?,
        text => text.to_string(),
    };
    let explanation = explain::explain(&message);
    let live = aws.profile.is_some() || aws.endpoint_url.is_some();
    if let Some(record) = &explanation.record
        && (snapshot.is_some() || live)
    {
        let mut check = check_args(format, color)?;
        check.snapshot = snapshot;
        check.aws = aws;
        return super::check_event::run_records(check, "the pasted record", &record.json);
    }
    if snapshot.is_some() || live {
        eprintln!(
            "note: a snapshot or AWS flags judge a pasted CloudTrail record; this message is not one, so it is explained alone"
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        Format::Json => writeln!(out, "{}", report::render_explanation_json(&explanation)),
        Format::Markdown => report::render_explanation_markdown(&explanation, &mut out),
        Format::Text => report::render_explanation_text(&explanation, &mut out, color.resolve()),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(explain_exit_code(explanation.recognised))
}

/// `check`'s arguments with its own defaults, as if `check` had been
/// given only the format and colour: the record supplies the rest.
fn check_args(format: Format, color: Color) -> Result<CheckArgs, Failure> {
    let command = CheckArgs::augment_args(clap::Command::new("check"));
    let format = format
        .to_possible_value()
        .map(|value| value.get_name().to_string());
    let color = color
        .to_possible_value()
        .map(|value| value.get_name().to_string());
    let mut argv = vec!["check".to_string()];
    if let Some(format) = format {
        argv.extend(["--format".to_string(), format]);
    }
    if let Some(color) = color {
        argv.extend(["--color".to_string(), color]);
    }
    let matches = command
        .try_get_matches_from(argv)
        .map_err(|error| Failure::bad_input(super::usage_error_line(&error)))?;
    CheckArgs::from_arg_matches(&matches)
        .map_err(|error| Failure::bad_input(super::usage_error_line(&error)))
}
