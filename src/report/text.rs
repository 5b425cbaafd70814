//! The text report: what the on-call engineer reads at 3 a.m. One block per
//! operation with the chain path of every action, the reason, evidence and
//! fix under each broken link, the statements that allowed the rest, and a
//! one-line verdict at the end.

use std::io::{self, Write};

use colored::Color;

use super::{
    alternative_headline, alternative_lead, assumptions_text, change_numbers, evidence_location,
    evidence_note, fix_action, fix_owner, link_mark, pretty_statement, recheck_headline,
    remaining_text, role_words, status_mark, summary, target_text, unknown_keys_text, verdict_mark,
    widens_text,
};
use crate::diagnosis::{
    ActionResult, Diagnosis, EvidenceRole, Fix, LinkResult, LinkStatus, OperationResult, Verdict,
};

/// ANSI styling, or none at all.
struct Paint {
    color: bool,
}

impl Paint {
    fn fg(&self, color: Color, text: &str) -> String {
        if self.color {
            format!("\x1b[{}m{text}\x1b[0m", color.to_fg_str())
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn dim(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn status(&self, status: LinkStatus, text: &str) -> String {
        match status {
            LinkStatus::Pass => self.fg(Color::Green, text),
            LinkStatus::Fail => self.fg(Color::Red, text),
            LinkStatus::Unknown => self.fg(Color::Yellow, text),
        }
    }

    fn verdict(&self, verdict: Verdict, text: &str) -> String {
        match verdict {
            Verdict::Allowed => self.fg(Color::Green, text),
            Verdict::Denied => self.fg(Color::Red, text),
            Verdict::Inconclusive => self.fg(Color::Yellow, text),
        }
    }
}

pub(super) fn render(diagnosis: &Diagnosis, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = Paint { color };
    writeln!(out, "{}  {}", paint.dim("principal"), diagnosis.principal)?;
    if let Some(role) = &diagnosis.via_role {
        writeln!(out, "{}   {role}", paint.dim("via role"))?;
    }
    let placeholder = if diagnosis.object_is_placeholder {
        "  (placeholder, see notes)"
    } else {
        ""
    };
    writeln!(
        out,
        "{}     s3://{}/{}{placeholder}",
        paint.dim("object"),
        diagnosis.bucket,
        diagnosis.object
    )?;
    if let Some(assumptions) = assumptions_text(diagnosis) {
        writeln!(out, "{}   {assumptions}", paint.dim("assuming"))?;
    }

    for operation in &diagnosis.operations {
        writeln!(out)?;
        render_operation(operation, out, &paint)?;
    }

    if !diagnosis.changes.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.bold("what to change"))?;
        for (index, change) in diagnosis.changes.iter().enumerate() {
            let lead = format!("  {}. {}", index + 1, alternative_lead(diagnosis, index));
            render_fix(change, &lead, "     ", out, &paint)?;
            render_plan(index, change, "     ", out, &paint)?;
        }
    }
    if let Some(recheck) = &diagnosis.recheck {
        writeln!(out)?;
        writeln!(out, "{}", paint.bold("re-check"))?;
        writeln!(
            out,
            "  {}",
            paint.verdict(recheck.verdict, &recheck_headline(recheck))
        )?;
        for remaining in &recheck.remaining {
            writeln!(out, "    still {}", remaining_text(diagnosis, remaining))?;
        }
        if let Some(alternative) = &recheck.alternative {
            writeln!(
                out,
                "  {}",
                paint.verdict(alternative.verdict, &alternative_headline(alternative))
            )?;
            for remaining in &alternative.remaining {
                writeln!(out, "    still {}", remaining_text(diagnosis, remaining))?;
            }
        }
    }

    writeln!(out)?;
    let line = summary(diagnosis);
    let (word, rest) = line.split_at(diagnosis.verdict.as_str().len());
    writeln!(
        out,
        "{} {}{rest}",
        paint.bold("verdict:"),
        paint.verdict(diagnosis.verdict, &paint.bold(word))
    )?;
    for note in &diagnosis.notes {
        writeln!(out, "{} {note}", paint.dim("note:"))?;
    }
    Ok(())
}

fn render_operation(
    operation: &OperationResult,
    out: &mut dyn Write,
    paint: &Paint,
) -> io::Result<()> {
    let header = format!(
        "{} {}",
        verdict_mark(operation.verdict),
        operation.operation
    );
    writeln!(
        out,
        "{}  {}",
        paint.bold(&paint.verdict(operation.verdict, &header)),
        paint.verdict(operation.verdict, operation.verdict.as_str())
    )?;
    // Allowed operations show only their paths; the others also show what
    // allowed each passing link, so that a reader sees the whole picture.
    let detailed = operation.verdict != Verdict::Allowed;
    for action in &operation.actions {
        render_action(action, out, paint, detailed)?;
    }
    Ok(())
}

fn render_action(
    action: &ActionResult,
    out: &mut dyn Write,
    paint: &Paint,
    detailed: bool,
) -> io::Result<()> {
    writeln!(out, "  {}  {}", paint.bold(&action.action), action.resource)?;
    let mut path = String::from("caller");
    for link in &action.links {
        path.push_str(" → ");
        path.push_str(&paint.status(
            link.status,
            &format!("{} {}", link.link.title(), link_mark(link)),
        ));
    }
    if action.links.is_empty() {
        path.push_str(" → (no link applies)");
    }
    writeln!(out, "    {path}")?;
    for link in &action.links {
        match link.status {
            // What was assumed is said every time it is used.
            LinkStatus::Pass if link.assumed.is_some() => writeln!(
                out,
                "    {} {}: {}",
                paint.fg(Color::Cyan, link_mark(link)),
                paint.bold(link.link.title()),
                link.reason_text()
            )?,
            LinkStatus::Pass if detailed => render_pass(link, out, paint)?,
            LinkStatus::Pass => {}
            LinkStatus::Fail | LinkStatus::Unknown => render_broken(link, out, paint)?,
        }
    }
    Ok(())
}

/// One line: the statement that allowed a passing link, if the judge named
/// one.
fn render_pass(link: &LinkResult, out: &mut dyn Write, paint: &Paint) -> io::Result<()> {
    let allows: Vec<_> = link
        .evidence
        .iter()
        .filter(|evidence| evidence.role == EvidenceRole::Allows)
        .collect();
    let Some(first) = allows.first() else {
        return Ok(());
    };
    let more = match allows.len() {
        1 => String::new(),
        2 => " (and 1 more)".to_string(),
        n => format!(" (and {} more)", n - 1),
    };
    writeln!(
        out,
        "    {} {}: allowed by {}{more}{}",
        paint.status(LinkStatus::Pass, status_mark(LinkStatus::Pass)),
        link.link.title(),
        evidence_location(first),
        evidence_note(first)
    )?;
    // A statement kept from applying by a variable with no value is shown
    // even on a passing link: it is usually meant to apply.
    for evidence in link
        .evidence
        .iter()
        .filter(|evidence| evidence.role != EvidenceRole::Allows && evidence.note.is_some())
    {
        render_evidence(evidence, out)?;
    }
    Ok(())
}

/// One cited statement: its role, where it is, and its note.
fn render_evidence(evidence: &crate::diagnosis::Evidence, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "        {} {}{}",
        role_words(evidence.role),
        evidence_location(evidence),
        evidence_note(evidence)
    )
}

/// The reason, the deciding statements, and the fix or the help line.
fn render_broken(link: &LinkResult, out: &mut dyn Write, paint: &Paint) -> io::Result<()> {
    writeln!(
        out,
        "    {} {}: {}",
        paint.status(link.status, status_mark(link.status)),
        paint.bold(link.link.title()),
        link.reason_text()
    )?;
    for evidence in &link.evidence {
        render_evidence(evidence, out)?;
    }
    if !link.unknown_keys.is_empty() {
        writeln!(out, "        unknown context: {}", unknown_keys_text(link))?;
    }
    if let Some(fix) = &link.fix {
        let owner = fix_owner(fix);
        match link.change {
            // The statement itself is printed once, under "what to change".
            Some(index) => writeln!(
                out,
                "        {} ({owner}): {}, change {} below",
                paint.bold("fix"),
                fix_action(fix),
                index + 1
            )?,
            None => render_fix(fix, "        ", "        ", out, paint)?,
        }
    }
    if let Some(help) = link.help_text().filter(|help| !help.is_empty()) {
        writeln!(out, "        {} {help}", paint.bold("help:"))?;
    }
    Ok(())
}

/// Where the change goes, the whole document after it and the command that
/// installs it.
fn render_plan(
    index: usize,
    fix: &Fix,
    indent: &str,
    out: &mut dyn Write,
    paint: &Paint,
) -> io::Result<()> {
    if let Some(target) = &fix.target {
        writeln!(out, "{indent}target: {}", target_text(target))?;
    }
    if let Some(document) = &fix.document_after {
        let first = fix.with_changes.first().copied().unwrap_or(index);
        if first == index {
            let (shown, left_out) = super::shorten::document_after(fix, document);
            let heading = if left_out == 0 {
                "whole document"
            } else {
                "document"
            };
            writeln!(
                out,
                "{indent}{} after {}{}:",
                paint.bold(heading),
                change_numbers(&fix.with_changes),
                left_out_text(left_out)
            )?;
            for line in shown.lines() {
                writeln!(out, "{indent}  {line}")?;
            }
        } else {
            writeln!(
                out,
                "{indent}whole document: the one of change {}",
                first + 1
            )?;
        }
    }
    if let Some(command) = &fix.command {
        writeln!(out, "{indent}{} {command}", paint.bold("command:"))?;
    }
    if let Some(edit) = &fix.terraform {
        let first = fix.with_changes.first().copied().unwrap_or(index);
        writeln!(
            out,
            "{indent}{} {} (plan `{}` manages this document: the next `terraform apply` would undo an AWS CLI change)",
            paint.bold("terraform:"),
            super::terraform_place(edit),
            edit.plan
        )?;
        if first == index {
            for line in edit.hcl.lines() {
                // Blank lines between blocks stay blank.
                writeln!(out, "{}", format!("{indent}  {line}").trim_end())?;
            }
        } else {
            writeln!(out, "{indent}  the HCL of change {}", first + 1)?;
        }
    }
    if let Some(warning) = &fix.warning {
        writeln!(out, "{indent}warning: {warning}")?;
    }
    Ok(())
}

/// A fix in full: who, what, the statement, the note. `lead` starts the
/// first line, `indent` the others.
fn render_fix(
    fix: &Fix,
    lead: &str,
    indent: &str,
    out: &mut dyn Write,
    paint: &Paint,
) -> io::Result<()> {
    let owner = fix_owner(fix);
    match &fix.statement {
        Some(statement) => {
            writeln!(
                out,
                "{lead}{} ({owner}): {}{}:",
                paint.bold("fix"),
                fix_action(fix),
                widens_text(fix)
            )?;
            for line in pretty_statement(statement).lines() {
                writeln!(out, "{indent}  {line}")?;
            }
        }
        None => writeln!(
            out,
            "{lead}{} ({owner}): {}{}",
            paint.bold("fix"),
            fix_action(fix),
            widens_text(fix)
        )?,
    }
    if let Some(note) = fix.note_text() {
        writeln!(out, "{indent}note: {note}")?;
    }
    Ok(())
}

/// What a shortened document says of the statements it leaves out.
pub(super) fn left_out_text(left_out: usize) -> String {
    match left_out {
        0 => String::new(),
        _ => format!(
            " ({left_out} unchanged statements left out here; the JSON report and `--write-fixes` hold the whole document)"
        ),
    }
}
