//! The reports of `kms-s3-doctor test` for people: a text table (one row per
//! expectation, then every expectation that was not met expanded as
//! `check`'s text report), the same as Markdown for a CI job summary or a
//! pull-request comment, and GitHub Actions `::error` annotations. The
//! expanded reports are `check`'s own renderers, not a copy of them.

use std::io::{self, Write};

use super::escape::markdown_cell;
use super::{first_broken, fix_action, fix_owner};
use crate::access_tests::{Outcome, TestResult, TestRun};
use crate::diagnosis::{Diagnosis, LinkStatus};

/// `✓`, `✗` or `?`.
pub(crate) fn outcome_mark(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Met => "✓",
        Outcome::Unmet => "✗",
        Outcome::Inconclusive => "?",
    }
}

/// `key-policy (kms:Decrypt) in account 111111111111`, or `—` when every
/// link passed. An unknown link is named as such.
pub(crate) fn first_broken_text(diagnosis: &Diagnosis) -> String {
    match first_broken(diagnosis) {
        Some((action, link)) => {
            let mut text = format!("{} ({})", link.link, action.action);
            if link.status == LinkStatus::Unknown {
                text.push_str(" unknown");
            }
            if let Some(words) = link
                .fix
                .as_ref()
                .and_then(|fix| super::account_words(&fix.account))
            {
                text.push_str(&format!(" in {words}"));
            }
            text
        }
        None => NO_BROKEN_LINK.to_string(),
    }
}

/// The first-broken-link cell of an expectation whose links all passed.
const NO_BROKEN_LINK: &str = "—";

/// A row's first broken link: a result judged verdict-only has every
/// operation allowed, so none.
fn row_broken_text(result: &TestResult) -> String {
    match &result.diagnosis {
        Some(diagnosis) => first_broken_text(diagnosis),
        None => NO_BROKEN_LINK.to_string(),
    }
}

/// The one-line failure message of an expectation that was not met: why,
/// the first broken link and who must change what.
pub(crate) fn failure_message(result: &TestResult) -> String {
    let mut message = format!(
        "expected {}: {}",
        result.expectation.expect.as_str(),
        result.reason
    );
    if let Some((action, link)) = result.diagnosis.as_ref().and_then(first_broken) {
        let state = if link.status == LinkStatus::Fail {
            "broken"
        } else {
            "unknown"
        };
        message.push_str(&format!(
            "; first {state} link: {} ({}): {}",
            link.link,
            action.action,
            link.reason_text()
        ));
        if let Some(fix) = &link.fix {
            message.push_str(&format!("; fix ({}): {}", fix_owner(fix), fix_action(fix)));
        } else if let Some(help) = link.help_text().filter(|help| !help.is_empty()) {
            message.push_str(&format!("; {help}"));
        }
    }
    message
}

fn summary_line(run: &TestRun) -> String {
    let total = run.results.len();
    let plural = if total == 1 { "" } else { "s" };
    format!(
        "{total} expectation{plural}: {} met, {} unmet, {} inconclusive",
        run.count(Outcome::Met),
        run.count(Outcome::Unmet),
        run.count(Outcome::Inconclusive)
    )
}

pub(super) fn render_text(run: &TestRun, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = |outcome: Outcome, text: &str| -> String {
        if !color {
            return text.to_string();
        }
        let code = match outcome {
            Outcome::Met => "32",
            Outcome::Unmet => "31",
            Outcome::Inconclusive => "33",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    };
    let rows: Vec<[String; 4]> = run
        .results
        .iter()
        .map(|result| {
            [
                result.expectation.name.clone(),
                result.expectation.expect.as_str().to_string(),
                result.verdicts.verdict.as_str().to_string(),
                row_broken_text(result),
            ]
        })
        .collect();
    let header = ["expectation", "expected", "got", "first broken link"];
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .chain([header[column].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let pad = |text: &str, width: usize| {
        let fill = width.saturating_sub(text.chars().count());
        format!("{text}{}", " ".repeat(fill))
    };
    writeln!(out, "access tests  {}", run.file)?;
    writeln!(out)?;
    writeln!(
        out,
        "  {}  {}  {}  {}",
        pad(header[0], widths[0]),
        pad(header[1], widths[1]),
        pad(header[2], widths[2]),
        header[3]
    )?;
    for (result, row) in run.results.iter().zip(&rows) {
        writeln!(
            out,
            "{} {}  {}  {}  {}",
            paint(result.outcome, outcome_mark(result.outcome)),
            pad(&row[0], widths[0]),
            pad(&row[1], widths[1]),
            pad(&row[2], widths[2]),
            row[3]
        )?;
    }
    for result in run
        .results
        .iter()
        .filter(|result| result.outcome != Outcome::Met)
    {
        writeln!(out)?;
        let title = format!(
            "{} {} (line {}): {} — {}",
            outcome_mark(result.outcome),
            result.expectation.name,
            result.expectation.line,
            result.outcome.as_str(),
            result.reason
        );
        writeln!(out, "{}", paint(result.outcome, &format!("── {title}")))?;
        if let Some(diagnosis) = &result.diagnosis {
            super::render_text(diagnosis, out, color)?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(run))
}

pub(super) fn render_markdown(run: &TestRun, out: &mut dyn Write) -> io::Result<()> {
    let heading = match run.outcome() {
        Outcome::Met => "every expectation met",
        Outcome::Unmet => "expectations unmet",
        Outcome::Inconclusive => "some expectations inconclusive",
    };
    writeln!(out, "# kms-s3-doctor access tests: {heading}")?;
    writeln!(out)?;
    writeln!(
        out,
        "`{}` — {}",
        markdown_cell(&run.file),
        summary_line(run)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| | expectation | expected | got | first broken link |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for result in &run.results {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            outcome_mark(result.outcome),
            markdown_cell(&result.expectation.name),
            result.expectation.expect.as_str(),
            result.verdicts.verdict.as_str(),
            markdown_cell(&row_broken_text(result))
        )?;
    }
    let not_met: Vec<_> = run
        .results
        .iter()
        .filter(|result| result.outcome != Outcome::Met)
        .collect();
    for result in not_met.iter().take(MARKDOWN_EXPANDED) {
        writeln!(out)?;
        writeln!(out, "<details>")?;
        writeln!(
            out,
            "<summary>{} {} (line {}): {}</summary>",
            outcome_mark(result.outcome),
            html(&result.expectation.name),
            result.expectation.line,
            html(&result.reason)
        )?;
        writeln!(out)?;
        if let Some(diagnosis) = &result.diagnosis {
            super::render_markdown(diagnosis, out)?;
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    if not_met.len() > MARKDOWN_EXPANDED {
        writeln!(out)?;
        writeln!(
            out,
            "{} more not met, not expanded here (the table above lists them): every report is in `kms-s3-doctor test --format json`.",
            not_met.len() - MARKDOWN_EXPANDED
        )?;
    }
    Ok(())
}

/// How many unmet expectations the Markdown report expands. Each is a
/// whole `check` report; a file with hundreds unmet would pass the size a
/// job summary or pull-request comment takes (GitHub's runner refuses a step
/// summary over 1024 KiB: "$GITHUB_STEP_SUMMARY upload aborted"), so the
/// rest are left to the JSON report.
pub(super) const MARKDOWN_EXPANDED: usize = 10;

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One `::error` workflow command per expectation not met, pointing at its
/// `[[test]]` line (GitHub Docs, "Workflow commands for GitHub Actions":
/// `%`, CR and LF escaped in the message, and `:` and `,` too in properties).
pub(super) fn render_annotations(run: &TestRun, out: &mut dyn Write) -> io::Result<()> {
    fn data(text: &str) -> String {
        text.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn property(text: &str) -> String {
        data(text).replace(':', "%3A").replace(',', "%2C")
    }
    for result in run
        .results
        .iter()
        .filter(|result| result.outcome != Outcome::Met)
    {
        writeln!(
            out,
            "::error file={},line={},title={}::{}",
            property(&run.file),
            result.expectation.line,
            property(&format!(
                "{} ({})",
                result.expectation.name,
                result.outcome.as_str()
            )),
            data(&failure_message(result))
        )?;
    }
    Ok(())
}
