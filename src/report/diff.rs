//! `diff`'s reports: the frozen JSON document `kms-s3-doctor/diff@1` (its
//! serde types apart from the engine's), a list for a terminal and
//! Markdown for a pull-request comment.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::can_access::code_span;
use super::escape::escape_control;
use crate::diagnosis::{LinkId, Verdict};
use crate::reverse::diff::Change;

pub const DIFF_FORMAT: &str = "kms-s3-doctor/diff@1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffV1 {
    pub format: String,
    pub changes: Vec<ChangeV1>,
    /// How many changes give more access, and how many less.
    pub gained: usize,
    pub lost: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeV1 {
    pub principal: String,
    pub bucket: String,
    /// `null`: the bucket's placeholder object.
    pub object: Option<String>,
    pub operation: String,
    pub before: String,
    pub after: String,
    /// The link that decided the verdict before: `null` when allowed.
    pub before_link: Option<String>,
    pub after_link: Option<String>,
    /// `gained` (more access) or `lost`.
    pub direction: String,
    /// `old` or `new`: the state the bucket is not in (nobody reaches a
    /// bucket that is not there); absent when it is in both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_absent_from: Option<String>,
}

fn direction(change: &Change) -> &'static str {
    if change.gained() { "gained" } else { "lost" }
}

pub fn render_json(changes: &[Change]) -> String {
    let document = DiffV1 {
        format: DIFF_FORMAT.to_string(),
        changes: changes
            .iter()
            .map(|change| ChangeV1 {
                principal: change.principal.clone(),
                bucket: change.bucket.clone(),
                object: change.object.clone(),
                operation: change.operation.as_str().to_string(),
                before: change.before.as_str().to_string(),
                after: change.after.as_str().to_string(),
                before_link: change.before_link.map(|link| link.as_str().to_string()),
                after_link: change.after_link.map(|link| link.as_str().to_string()),
                direction: direction(change).to_string(),
                bucket_absent_from: change.absent_from.map(|state| state.as_str().to_string()),
            })
            .collect(),
        gained: changes.iter().filter(|change| change.gained()).count(),
        lost: changes.iter().filter(|change| change.lost()).count(),
    };
    serde_json::to_string_pretty(&document).unwrap_or_else(|error| {
        serde_json::json!({ "format": DIFF_FORMAT, "error": error.to_string() }).to_string()
    })
}

fn verdict_text(verdict: Verdict, link: Option<LinkId>) -> String {
    match link {
        Some(link) => format!("{verdict} ({link})"),
        None => verdict.to_string(),
    }
}

fn summary(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no verdict changed".to_string();
    }
    format!(
        "{} verdict(s) changed: {} gained, {} lost",
        changes.len(),
        changes.iter().filter(|change| change.gained()).count(),
        changes.iter().filter(|change| change.lost()).count()
    )
}

/// One line per change: `+` for access gained, `-` for access lost.
pub fn render_text(changes: &[Change], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "diff: {}", summary(changes))?;
    if !changes.is_empty() {
        writeln!(out)?;
    }
    for change in changes {
        let sign = if change.gained() { '+' } else { '-' };
        let object = match &change.object {
            Some(key) => format!("/{}", escape_control(key)),
            None => String::new(),
        };
        write!(
            out,
            "{sign} {} {} on {}{object}: {} -> {}",
            escape_control(&change.principal),
            change.operation,
            escape_control(&change.bucket),
            verdict_text(change.before, change.before_link),
            verdict_text(change.after, change.after_link)
        )?;
        match change.absent_from {
            Some(state) => writeln!(out, " (the bucket is not in the {} state)", state.as_str())?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}

/// Markdown for a pull-request comment: the summary, then the gains and
/// the losses each in a table.
pub fn render_markdown(changes: &[Change], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## kms-s3-doctor diff")?;
    writeln!(out)?;
    let gained: Vec<&Change> = changes.iter().filter(|change| change.gained()).collect();
    let lost: Vec<&Change> = changes.iter().filter(|change| change.lost()).collect();
    if changes.is_empty() {
        writeln!(out, "✅ No verdict changed.")?;
        return Ok(());
    }
    writeln!(out, "**{}**", summary(changes))?;
    for (title, list) in [("⚠️ Access gained", gained), ("Access lost", lost)] {
        if list.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "### {title}")?;
        writeln!(out)?;
        writeln!(
            out,
            "| principal | bucket | object | operation | before | after |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for change in list {
            let object = match &change.object {
                Some(key) => code_span(key),
                None => "(bucket)".to_string(),
            };
            let mut after = verdict_text(change.after, change.after_link);
            if let Some(state) = change.absent_from {
                after.push_str(&format!(
                    "; the bucket is not in the {} state",
                    state.as_str()
                ));
            }
            writeln!(
                out,
                "| {} | {} | {object} | {} | {} | {} |",
                code_span(&change.principal),
                code_span(&change.bucket),
                change.operation,
                verdict_text(change.before, change.before_link),
                after
            )?;
        }
    }
    Ok(())
}
