//! `explain`: map an AccessDenied message to the link it points at.

use std::io::Write;

use kms_s3_doctor::explain;
use kms_s3_doctor::report;

use super::args::{Color, Format};
use super::exit::{ExitCode, Failure, explain_exit_code, finish_output};

pub fn run(message: &str, format: Format, color: Color) -> Result<ExitCode, Failure> {
    let message = match message {
        "-" => explain::read_message(&mut std::io::stdin().lock())
            .map_err(|error| Failure::bad_input(error.to_string()))?,
        text => text.to_string(),
    };
    let explanation = explain::explain(&message);
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
