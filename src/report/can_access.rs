//! `can-access`'s reports: the frozen JSON document
//! `kms-s3-doctor/can-access@1` (its serde types apart from the engine's),
//! a table for a terminal, CSV for a spreadsheet and Markdown for a ticket.
//! Bucket names and object keys are escaped for each reader.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::escape::{escape_control, markdown_cell};
use crate::diagnosis::{LinkId, Operation, Verdict};
use crate::reverse::can_access::{CanAccess, Resource};

pub const CAN_ACCESS_FORMAT: &str = "kms-s3-doctor/can-access@1";

/// The JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanAccessV1 {
    pub format: String,
    pub principal: String,
    pub operations: Vec<String>,
    pub resources: Vec<ResourceV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceV1 {
    pub bucket: String,
    /// `null`: the bucket itself (a placeholder key at its root, as
    /// `check` without `--object`).
    pub object: Option<String>,
    /// Operation → `allowed`, `inconclusive` or `denied`.
    pub verdicts: BTreeMap<String, String>,
    /// Operation → `null` when allowed, the failing link when denied, the
    /// unknown link when inconclusive.
    pub links: BTreeMap<String, Option<String>>,
}

impl CanAccessV1 {
    pub fn of(answer: &CanAccess, resources: &[&Resource]) -> Self {
        CanAccessV1 {
            format: CAN_ACCESS_FORMAT.to_string(),
            principal: answer.principal.clone(),
            operations: answer
                .operations
                .iter()
                .map(|op| op.as_str().to_string())
                .collect(),
            resources: resources
                .iter()
                .map(|resource| ResourceV1 {
                    bucket: resource.bucket.clone(),
                    object: resource.object.clone(),
                    verdicts: resource
                        .verdicts
                        .iter()
                        .map(|(op, verdict)| {
                            (op.as_str().to_string(), verdict.as_str().to_string())
                        })
                        .collect(),
                    links: resource
                        .links
                        .iter()
                        .map(|(op, link)| {
                            (
                                op.as_str().to_string(),
                                link.map(|link| link.as_str().to_string()),
                            )
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The rows `--only` keeps: those with an operation of that verdict.
pub fn kept(answer: &CanAccess, only: Option<Verdict>) -> Vec<&Resource> {
    answer
        .resources
        .iter()
        .filter(|resource| only.is_none_or(|verdict| resource.has(verdict)))
        .collect()
}

pub fn render_json(answer: &CanAccess, only: Option<Verdict>) -> String {
    let document = CanAccessV1::of(answer, &kept(answer, only));
    serde_json::to_string_pretty(&document).unwrap_or_else(|error| {
        serde_json::json!({ "format": CAN_ACCESS_FORMAT, "error": error.to_string() }).to_string()
    })
}

/// An operation's cell: its verdict, and the link that decided it.
fn cell(verdict: Verdict, link: Option<LinkId>) -> String {
    match link {
        Some(link) => format!("{verdict} ({link})"),
        None => verdict.to_string(),
    }
}

fn object_text(resource: &Resource) -> String {
    match &resource.object {
        Some(key) => key.clone(),
        None => "(bucket)".to_string(),
    }
}

/// The text table: one row per resource, one column per operation,
/// allowed first; then the counts.
pub fn render_text(
    answer: &CanAccess,
    only: Option<Verdict>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rows = kept(answer, only);
    writeln!(out, "can-access: {}", escape_control(&answer.principal))?;
    let names: Vec<&str> = answer.operations.iter().map(|op| op.as_str()).collect();
    writeln!(out, "operations: {}", names.join(", "))?;
    writeln!(out)?;
    let mut table: Vec<Vec<String>> = vec![
        ["bucket", "object"]
            .iter()
            .map(|head| head.to_string())
            .chain(names.iter().map(|name| name.to_string()))
            .collect(),
    ];
    for resource in &rows {
        let mut row = vec![
            escape_control(&resource.bucket).into_owned(),
            escape_control(&object_text(resource)).into_owned(),
        ];
        for (op, verdict) in &resource.verdicts {
            row.push(cell(*verdict, link_of(resource, *op)));
        }
        table.push(row);
    }
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            table
                .iter()
                .filter_map(|row| row.get(column))
                .map(|text| text.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let mut line = String::new();
        for (column, text) in row.iter().enumerate() {
            if column + 1 == row.len() {
                line.push_str(text);
            } else {
                let pad = widths[column].saturating_sub(text.chars().count());
                line.push_str(text);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)?;
    writeln!(out, "{}", counts(answer, &rows))?;
    Ok(())
}

fn link_of(resource: &Resource, op: Operation) -> Option<LinkId> {
    resource
        .links
        .iter()
        .find(|(found, _)| *found == op)
        .and_then(|(_, link)| *link)
}

/// `N resources: A allowed, I inconclusive, D denied` per operation
/// verdict, with what `--only` left out.
fn counts(answer: &CanAccess, rows: &[&Resource]) -> String {
    let mut tally = [0usize; 3];
    for resource in rows {
        for (_, verdict) in &resource.verdicts {
            tally[*verdict as usize] += 1;
        }
    }
    let mut line = format!(
        "{} resource(s); operations: {} allowed, {} inconclusive, {} denied",
        rows.len(),
        tally[Verdict::Allowed as usize],
        tally[Verdict::Inconclusive as usize],
        tally[Verdict::Denied as usize]
    );
    let hidden = answer.resources.len() - rows.len();
    if hidden > 0 {
        line.push_str(&format!(" ({hidden} more left out by --only)"));
    }
    line
}

/// CSV, one line per (resource, operation):
/// `principal,bucket,object,operation,verdict,link`. A field that a
/// spreadsheet would read as a formula (`=`, `+`, `-`, `@` first) is
/// prefixed with `'`, as OWASP's CSV injection advice says.
pub fn render_csv(
    answer: &CanAccess,
    only: Option<Verdict>,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "principal,bucket,object,operation,verdict,link")?;
    for resource in kept(answer, only) {
        for (op, verdict) in &resource.verdicts {
            let link = link_of(resource, *op).map(LinkId::as_str).unwrap_or("");
            writeln!(
                out,
                "{},{},{},{},{},{}",
                csv_field(&answer.principal),
                csv_field(&resource.bucket),
                csv_field(resource.object.as_deref().unwrap_or("")),
                op,
                verdict,
                link
            )?;
        }
    }
    Ok(())
}

/// One CSV field (RFC 4180 quoting), made inert for spreadsheets.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Markdown: a heading, the table and the counts.
pub fn render_markdown(
    answer: &CanAccess,
    only: Option<Verdict>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rows = kept(answer, only);
    writeln!(
        out,
        "# kms-s3-doctor can-access: {}",
        code_span(&answer.principal)
    )?;
    writeln!(out)?;
    write!(out, "| bucket | object |")?;
    for op in &answer.operations {
        write!(out, " {op} |")?;
    }
    writeln!(out)?;
    write!(out, "|---|---|")?;
    for _ in &answer.operations {
        write!(out, "---|")?;
    }
    writeln!(out)?;
    for resource in &rows {
        let object = match &resource.object {
            Some(key) => code_span(key),
            None => "(bucket)".to_string(),
        };
        write!(out, "| {} | {object} |", code_span(&resource.bucket))?;
        for (op, verdict) in &resource.verdicts {
            let mark = match verdict {
                Verdict::Allowed => "✅",
                Verdict::Inconclusive => "❔",
                Verdict::Denied => "❌",
            };
            write!(out, " {mark} {} |", cell(*verdict, link_of(resource, *op)))?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    writeln!(out, "{}", counts(answer, &rows))?;
    Ok(())
}

/// `text` as a Markdown code span fit for a table cell: control
/// characters escaped, pipes escaped, and a fence longer than any run of
/// backticks inside, so that no name can end the span and write Markdown
/// or HTML of its own.
pub fn code_span(text: &str) -> String {
    let text = markdown_cell(&escape_control(text));
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{text}{fence}")
    } else {
        format!("{fence} {text} {fence}")
    }
}
