//! The Markdown report: the text report's content as a document to paste
//! into a ticket, with a table per operation and fixes in `json` blocks.

use std::io::{self, Write};

use super::escape::markdown_cell;
use super::{
    alternative_headline, alternative_lead, assumptions_text, change_numbers, evidence_location,
    evidence_note, evidence_position, fix_action, fix_owner, link_mark, pretty_statement,
    recheck_headline, remaining_text, role_words, status_mark, summary, target_text,
    unknown_keys_text, verdict_mark, widens_text,
};
use crate::diagnosis::{
    ActionResult, Diagnosis, EvidenceRole, Fix, LinkResult, LinkStatus, OperationResult,
};

pub(super) fn render(diagnosis: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# kms-s3-doctor: {}", diagnosis.verdict)?;
    writeln!(out)?;
    writeln!(out, "- principal: `{}`", diagnosis.principal)?;
    if let Some(role) = &diagnosis.via_role {
        writeln!(out, "- via role: `{role}`")?;
    }
    writeln!(out, "- bucket: `{}`", diagnosis.bucket)?;
    let placeholder = if diagnosis.object_is_placeholder {
        " (placeholder, see notes)"
    } else {
        ""
    };
    writeln!(out, "- object: `{}`{placeholder}", diagnosis.object)?;
    if let Some(assumptions) = assumptions_text(diagnosis) {
        writeln!(out, "- assumed (`--assume`): {assumptions}")?;
    }
    let line = summary(diagnosis);
    let rest = line
        .strip_prefix(diagnosis.verdict.as_str())
        .unwrap_or(line.as_str());
    writeln!(out, "- verdict: **{}**{rest}", diagnosis.verdict)?;

    for operation in &diagnosis.operations {
        writeln!(out)?;
        render_operation(operation, out)?;
    }

    if !diagnosis.changes.is_empty() {
        writeln!(out)?;
        writeln!(out, "## What to change")?;
        writeln!(out)?;
        for (index, change) in diagnosis.changes.iter().enumerate() {
            write!(out, "{}. {}", index + 1, alternative_lead(diagnosis, index))?;
            render_fix(change, out)?;
            render_plan(index, change, out)?;
        }
    }

    if let Some(recheck) = &diagnosis.recheck {
        writeln!(out)?;
        writeln!(out, "## Re-check")?;
        writeln!(out)?;
        writeln!(out, "**{}**", recheck_headline(recheck))?;
        if !recheck.remaining.is_empty() {
            writeln!(out)?;
            for remaining in &recheck.remaining {
                writeln!(out, "- still {}", remaining_text(diagnosis, remaining))?;
            }
        }
        if let Some(alternative) = &recheck.alternative {
            writeln!(out)?;
            writeln!(out, "**{}**", alternative_headline(alternative))?;
            if !alternative.remaining.is_empty() {
                writeln!(out)?;
                for remaining in &alternative.remaining {
                    writeln!(out, "- still {}", remaining_text(diagnosis, remaining))?;
                }
            }
        }
    }

    if !diagnosis.notes.is_empty() {
        writeln!(out)?;
        writeln!(out, "## Notes")?;
        writeln!(out)?;
        for note in &diagnosis.notes {
            writeln!(out, "- {note}")?;
        }
    }
    render_access_path(diagnosis, out)
}

/// The path of the request as a Mermaid diagram, which GitHub draws:
/// principal, the role it assumes, the bucket and the KMS key, each step
/// marked by its verdict and the link that broke it.
fn render_access_path(diagnosis: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
    let paths = crate::reverse::graph::AccessPath::from_diagnosis(diagnosis);
    writeln!(out)?;
    writeln!(out, "## Access path")?;
    writeln!(out)?;
    writeln!(out, "```mermaid")?;
    write!(out, "{}", crate::reverse::graph::mermaid(&paths))?;
    writeln!(out, "```")
}

fn render_operation(operation: &OperationResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## {} `{}`: {}",
        verdict_mark(operation.verdict),
        operation.operation,
        operation.verdict
    )?;
    writeln!(out)?;
    writeln!(out, "| action | link | status | reason |")?;
    writeln!(out, "|---|---|---|---|")?;
    for action in &operation.actions {
        let name = format!("`{}` on `{}`", action.action, action.resource);
        if action.links.is_empty() {
            writeln!(out, "| {} | | | no link applies |", markdown_cell(&name))?;
        }
        for (index, link) in action.links.iter().enumerate() {
            // The action is named on its first row only.
            let name = if index == 0 {
                markdown_cell(&name)
            } else {
                String::new()
            };
            let status = if link.assumed.is_some() {
                "assumed"
            } else {
                link.status.as_str()
            };
            writeln!(
                out,
                "| {name} | {} | {} {status} | {} |",
                link.link,
                link_mark(link),
                markdown_cell(&reason_cell(link))
            )?;
        }
    }

    let broken: Vec<(&ActionResult, &LinkResult)> = operation
        .actions
        .iter()
        .flat_map(|action| action.links.iter().map(move |link| (action, link)))
        .filter(|(_, link)| link.status != LinkStatus::Pass)
        .collect();
    for (action, link) in broken {
        writeln!(out)?;
        render_broken(action, link, out)?;
    }
    Ok(())
}

/// The reason, and for a passing link the statement that allowed it.
fn reason_cell(link: &LinkResult) -> String {
    let reason = link.reason_text();
    if link.status != LinkStatus::Pass {
        return reason.into_owned();
    }
    let reason = match link
        .evidence
        .iter()
        .find(|evidence| evidence.role == EvidenceRole::Allows)
    {
        Some(evidence) => match evidence_position(evidence) {
            position if position.is_empty() => reason.into_owned(),
            position => format!("{reason} ({position})"),
        },
        None => reason.into_owned(),
    };
    // A statement kept from applying by a variable with no value is shown
    // even on a passing link.
    let notes: Vec<String> = link
        .evidence
        .iter()
        .filter(|evidence| evidence.role != EvidenceRole::Allows && evidence.note.is_some())
        .map(|evidence| format!("{}{}", evidence_location(evidence), evidence_note(evidence)))
        .collect();
    if notes.is_empty() {
        reason
    } else {
        format!("{reason}; {}", notes.join("; "))
    }
}

fn render_broken(action: &ActionResult, link: &LinkResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### {} `{}`: {} {}",
        status_mark(link.status),
        action.action,
        link.link,
        link.status.as_str()
    )?;
    writeln!(out)?;
    writeln!(out, "{}", link.reason_text())?;
    writeln!(out)?;
    for evidence in &link.evidence {
        writeln!(
            out,
            "- {} {}{}",
            role_words(evidence.role),
            evidence_location(evidence),
            evidence_note(evidence)
        )?;
    }
    if !link.unknown_keys.is_empty() {
        writeln!(out, "- unknown context: {}", unknown_keys_text(link))?;
    }
    if let Some(help) = link.help_text().filter(|help| !help.is_empty()) {
        writeln!(out, "- help: {help}")?;
    }
    if let Some(fix) = &link.fix {
        match link.change {
            Some(index) => writeln!(
                out,
                "- **fix** ({}): {}, change {} under *What to change*",
                fix_owner(fix),
                fix_action(fix),
                index + 1
            )?,
            None => {
                write!(out, "- ")?;
                render_fix(fix, out)?;
            }
        }
    }
    Ok(())
}

/// Where the change goes, the whole document after it in a JSON block and
/// the command in a shell block.
fn render_plan(index: usize, fix: &Fix, out: &mut dyn Write) -> io::Result<()> {
    if let Some(target) = &fix.target {
        writeln!(out, "   target: {}", target_text(target))?;
    }
    if let Some(document) = &fix.document_after {
        let first = fix.with_changes.first().copied().unwrap_or(index);
        writeln!(out)?;
        if first == index {
            let (shown, left_out) = super::shorten::document_after(fix, document);
            let heading = if left_out == 0 {
                "whole document"
            } else {
                "document"
            };
            writeln!(
                out,
                "   {heading} after {}{}:",
                change_numbers(&fix.with_changes),
                super::text::left_out_text(left_out)
            )?;
            writeln!(out)?;
            writeln!(out, "```json")?;
            writeln!(out, "{shown}")?;
            writeln!(out, "```")?;
        } else {
            writeln!(out, "   whole document: the one of change {}", first + 1)?;
        }
    }
    if let Some(command) = &fix.command {
        writeln!(out)?;
        writeln!(out, "```sh")?;
        writeln!(out, "{command}")?;
        writeln!(out, "```")?;
    }
    if let Some(edit) = &fix.terraform {
        let first = fix.with_changes.first().copied().unwrap_or(index);
        writeln!(out)?;
        writeln!(
            out,
            "   terraform: {} (plan `{}` manages this document: the next `terraform apply` would undo an AWS CLI change){}",
            super::terraform_place(edit),
            edit.plan,
            if first == index { ":" } else { "" }
        )?;
        if first == index {
            writeln!(out)?;
            writeln!(out, "```hcl")?;
            write!(out, "{}", edit.hcl)?;
            writeln!(out, "```")?;
        } else {
            writeln!(out, "   the HCL of change {}", first + 1)?;
        }
    }
    if let Some(warning) = &fix.warning {
        writeln!(out)?;
        writeln!(out, "   warning: {warning}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// A fix in full: who, what, the statement in a JSON block, the note.
fn render_fix(fix: &Fix, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "**fix** ({}): {}{}{}",
        fix_owner(fix),
        fix_action(fix),
        widens_text(fix),
        if fix.statement.is_some() { ":" } else { "" }
    )?;
    if let Some(statement) = &fix.statement {
        writeln!(out)?;
        writeln!(out, "```json")?;
        writeln!(out, "{}", pretty_statement(statement))?;
        writeln!(out, "```")?;
        writeln!(out)?;
    }
    if let Some(note) = fix.note_text() {
        writeln!(out, "   note: {note}")?;
    }
    Ok(())
}
