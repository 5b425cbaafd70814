//! The `who-can` report: a table of every principal with its verdict per
//! operation, for people (text, Markdown with a diagram of the paths), for
//! scripts (the frozen JSON `kms-s3-doctor/who-can@1`, CSV) and for
//! Graphviz (`dot`). Renderers only format what the rows hold.

use std::collections::BTreeMap;
use std::io::{self, Write};

use colored::Color;
use serde::Serialize;

use super::escape::{escape_control, markdown_cell};
use crate::diagnosis::{LinkId, Verdict};
use crate::reverse::graph::{self, AccessPath};
use crate::reverse::{Row, WhoCanRequest};

/// The `format` of the who-can JSON document.
pub const WHO_CAN_FORMAT: &str = "kms-s3-doctor/who-can@1";

/// The who-can JSON document. Fields are only ever added.
#[derive(Debug, Serialize)]
pub struct WhoCanV1 {
    /// Always [`WHO_CAN_FORMAT`].
    pub format: String,
    pub bucket: String,
    /// None when no `--object` was given (a placeholder key was judged).
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_point: Option<String>,
    pub operations: Vec<String>,
    pub principals: Vec<WhoCanRowV1>,
}

/// One principal of [`WhoCanV1`].
#[derive(Debug, Serialize)]
pub struct WhoCanRowV1 {
    /// What `check --principal` is given for the same answer.
    pub principal: String,
    /// Operation → `allowed`, `inconclusive` or `denied`.
    pub verdicts: BTreeMap<String, Verdict>,
    /// Operation → the link that failed (denied), was unknown
    /// (inconclusive), or null (allowed).
    pub links: BTreeMap<String, Option<LinkId>>,
    /// None for a service principal and for `"*"`.
    pub account: Option<String>,
    /// `user`, `group-member`, `role`, `session`, `root`, `service` or
    /// `anyone`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A "via ROLE" row's roles, in order from the principal; absent on
    /// every other row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
}

/// The JSON document's model of `rows`.
pub fn who_can_v1(rows: &[Row], request: &WhoCanRequest) -> WhoCanV1 {
    WhoCanV1 {
        format: WHO_CAN_FORMAT.to_string(),
        bucket: request.bucket.clone(),
        object: request.object.clone(),
        access_point: request.access_point.clone(),
        operations: request
            .operations
            .iter()
            .map(|operation| operation.as_str().to_string())
            .collect(),
        principals: rows
            .iter()
            .map(|row| WhoCanRowV1 {
                principal: row.principal.clone(),
                verdicts: row
                    .verdicts
                    .iter()
                    .map(|(operation, verdict)| (operation.as_str().to_string(), *verdict))
                    .collect(),
                links: row
                    .links
                    .iter()
                    .map(|(operation, link)| (operation.as_str().to_string(), *link))
                    .collect(),
                account: row.account.clone(),
                kind: row.kind.as_str(),
                note: row.note.clone(),
                via: row.via.clone(),
            })
            .collect(),
    }
}

/// The who-can JSON document, pretty-printed.
pub fn render_who_can_json(rows: &[Row], request: &WhoCanRequest) -> String {
    // Plain data of strings and maps: serialising cannot fail.
    serde_json::to_string_pretty(&who_can_v1(rows, request)).unwrap_or_else(|_| "{}".to_string())
}

/// What a row stands for in the listing: the most it may do. A principal
/// allowed to read but not to write is listed among the allowed, its
/// denied operation shown beside it, so that no allowed access hides in
/// the denied group.
pub fn standing(row: &Row) -> Verdict {
    row.verdicts
        .iter()
        .map(|(_, verdict)| *verdict)
        .min()
        .unwrap_or(Verdict::Allowed)
}

/// The rows in listing order: allowed, inconclusive, denied; within each,
/// by account (service principals and `"*"` last), then as the row set
/// orders them.
pub fn listing_order(rows: &[Row]) -> Vec<&Row> {
    let mut ordered: Vec<(usize, &Row)> = rows.iter().enumerate().collect();
    ordered.sort_by(|(a_at, a), (b_at, b)| {
        (standing(a), a.account.is_none(), &a.account, a_at).cmp(&(
            standing(b),
            b.account.is_none(),
            &b.account,
            b_at,
        ))
    });
    ordered.into_iter().map(|(_, row)| row).collect()
}

/// `get allowed`, `put denied (key-policy)`.
fn cell(verdict: Verdict, link: Option<LinkId>) -> String {
    match link {
        Some(link) if verdict != Verdict::Allowed => format!("{verdict} ({link})"),
        _ => verdict.to_string(),
    }
}

fn link_of(row: &Row, index: usize) -> Option<LinkId> {
    row.links.get(index).and_then(|(_, link)| *link)
}

fn paint(color: bool, verdict: Verdict, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    let code = match verdict {
        Verdict::Allowed => Color::Green,
        Verdict::Inconclusive => Color::Yellow,
        Verdict::Denied => Color::Red,
    };
    format!("\x1b[{}m{text}\x1b[0m", code.to_fg_str())
}

fn dim(color: bool, text: &str) -> String {
    if color {
        format!("\x1b[2m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `s3://BUCKET/KEY`, the placeholder key when no object was named.
fn object_url(request: &WhoCanRequest) -> String {
    let object = request
        .object
        .as_deref()
        .unwrap_or(crate::chain::PLACEHOLDER_OBJECT);
    format!("s3://{}/{object}", request.bucket)
}

/// What the request reaches and how, in words beside the URL.
fn target_words(request: &WhoCanRequest) -> String {
    let mut text = String::new();
    if request.object.is_none() {
        text.push_str("  (placeholder key: no --object given)");
    }
    if let Some(point) = &request.access_point {
        text.push_str(&format!("  via access point {point}"));
    }
    text
}

fn target(request: &WhoCanRequest) -> String {
    format!("{}{}", object_url(request), target_words(request))
}

/// `3 allowed · 1 inconclusive · 4 denied (8 principals)`.
fn counts(rows: &[&Row]) -> String {
    let count = |wanted| rows.iter().filter(|row| standing(row) == wanted).count();
    format!(
        "{} allowed · {} inconclusive · {} denied ({} principals)",
        count(Verdict::Allowed),
        count(Verdict::Inconclusive),
        count(Verdict::Denied),
        rows.len()
    )
}

/// The text table: one section per standing, grouped by account, each with
/// its count; every operation's verdict and broken link beside the
/// principal.
pub fn render_who_can_text(
    rows: &[Row],
    request: &WhoCanRequest,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let ordered = listing_order(rows);
    let operations: Vec<&str> = request.operations.iter().map(|op| op.as_str()).collect();
    writeln!(
        out,
        "{} {}",
        dim(color, "who can"),
        escape_control(&target(request))
    )?;
    writeln!(
        out,
        "{} {}",
        dim(color, "operations"),
        operations.join(", ")
    )?;
    writeln!(out, "{}", counts(&ordered))?;
    let principals: Vec<String> = ordered
        .iter()
        .map(|row| escape_control(&row.principal).into_owned())
        .collect();
    let width = principals
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0);
    let mut section: Option<Verdict> = None;
    let mut group: Option<Option<&str>> = None;
    for (row, principal) in ordered.iter().zip(&principals) {
        let standing = standing(row);
        if section != Some(standing) {
            let in_section: Vec<&&Row> = ordered
                .iter()
                .filter(|other| self::standing(other) == standing)
                .collect();
            writeln!(out)?;
            writeln!(
                out,
                "{} ({})",
                paint(color, standing, standing.as_str()),
                in_section.len()
            )?;
            section = Some(standing);
            group = None;
        }
        let account = row.account.as_deref();
        if group != Some(account) {
            let in_group = ordered
                .iter()
                .filter(|other| {
                    self::standing(other) == standing && other.account.as_deref() == account
                })
                .count();
            let name = match account {
                Some(account) => format!("account {}", escape_control(account)),
                None => "services and anyone".to_string(),
            };
            writeln!(out, "  {} ({in_group})", dim(color, &name))?;
            group = Some(account);
        }
        let mut line = format!("    {principal:<width$}");
        for (index, (operation, verdict)) in row.verdicts.iter().enumerate() {
            let text = format!("{operation} {}", cell(*verdict, link_of(row, index)));
            line.push_str("  ");
            line.push_str(&paint(color, *verdict, &text));
        }
        line.push_str(&dim(color, &format!("  [{}]", row.kind.as_str())));
        writeln!(out, "{}", line.trim_end())?;
        if let Some(note) = &row.note {
            writeln!(
                out,
                "    {}",
                dim(color, &format!("↳ {}", escape_control(note)))
            )?;
        }
    }
    Ok(())
}

/// One CSV field, quoted when it holds a comma, quote or line break
/// (RFC 4180), control characters escaped as in the text report.
fn csv_field(text: &str) -> String {
    let text = escape_control(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// CSV with a header row: principal, account, kind, then a verdict and a
/// link column per operation, then the note, then the roles a "via ROLE"
/// row assumes (`;`-joined, in order from the principal; empty on other
/// rows). Rows in listing order.
pub fn render_who_can_csv(
    rows: &[Row],
    request: &WhoCanRequest,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut header = vec![
        "principal".to_string(),
        "account".to_string(),
        "kind".to_string(),
    ];
    for operation in &request.operations {
        header.push(operation.as_str().to_string());
        header.push(format!("{operation}_link"));
    }
    header.push("note".to_string());
    header.push("via".to_string());
    writeln!(out, "{}", header.join(","))?;
    for row in listing_order(rows) {
        let mut fields = vec![
            csv_field(&row.principal),
            csv_field(row.account.as_deref().unwrap_or("")),
            row.kind.as_str().to_string(),
        ];
        for (index, (_, verdict)) in row.verdicts.iter().enumerate() {
            fields.push(verdict.as_str().to_string());
            fields.push(
                link_of(row, index)
                    .map(LinkId::as_str)
                    .unwrap_or("")
                    .to_string(),
            );
        }
        fields.push(csv_field(row.note.as_deref().unwrap_or("")));
        fields.push(csv_field(&row.via.join(";")));
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

/// Markdown: a heading, the counts, a table in listing order, and the
/// diagram of the paths (Mermaid, which GitHub renders in a comment).
pub fn render_who_can_markdown(
    rows: &[Row],
    request: &WhoCanRequest,
    paths: &[AccessPath],
    out: &mut dyn Write,
) -> io::Result<()> {
    let ordered = listing_order(rows);
    writeln!(
        out,
        "## Who can reach `{}`{}",
        markdown_code(&object_url(request)),
        markdown_cell(&escape_control(&target_words(request)))
    )?;
    writeln!(out)?;
    writeln!(out, "{}", counts(&ordered))?;
    writeln!(out)?;
    let mut header = String::from("| principal | account | kind |");
    let mut rule = String::from("|---|---|---|");
    for operation in &request.operations {
        header.push_str(&format!(" {operation} |"));
        rule.push_str("---|");
    }
    header.push_str(" note |");
    rule.push_str("---|");
    writeln!(out, "{header}")?;
    writeln!(out, "{rule}")?;
    for row in &ordered {
        let mut line = format!(
            "| `{}` | {} | {} |",
            markdown_code(&row.principal),
            markdown_cell(&escape_control(row.account.as_deref().unwrap_or("—"))),
            row.kind.as_str()
        );
        for (index, (_, verdict)) in row.verdicts.iter().enumerate() {
            line.push_str(&format!(" {} |", cell(*verdict, link_of(row, index))));
        }
        line.push_str(&format!(
            " {} |",
            markdown_cell(&escape_control(row.note.as_deref().unwrap_or("")))
        ));
        writeln!(out, "{line}")?;
    }
    if paths.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "```mermaid")?;
    write!(out, "{}", graph::mermaid(paths))?;
    writeln!(out, "```")?;
    Ok(())
}

/// Text inside a Markdown code span: no backticks, pipes or line breaks.
fn markdown_code(text: &str) -> String {
    markdown_cell(&escape_control(text)).replace('`', "'")
}

/// `--format dot`: the same access paths as the Markdown's diagram, for
/// Graphviz.
pub fn render_who_can_dot(paths: &[AccessPath], out: &mut dyn Write) -> io::Result<()> {
    write!(out, "{}", graph::dot(paths))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Operation;
    use crate::reverse::RowKind;

    fn hostile_rows() -> (Vec<Row>, WhoCanRequest) {
        let row = Row {
            principal: "arn:aws:iam::111111111111:user/x\"] --> evil[\"pwn\n\u{1b}[31m|`<b>"
                .to_string(),
            account: Some("111111111111".to_string()),
            kind: RowKind::User,
            verdicts: vec![(Operation::Get, Verdict::Denied)],
            links: vec![(Operation::Get, Some(LinkId::KeyPolicy))],
            note: Some("a \"note\", with, commas\nand a line".to_string()),
            via: Vec::new(),
        };
        let request = WhoCanRequest {
            bucket: "b".to_string(),
            object: None,
            access_point: None,
            operations: vec![Operation::Get],
            now: chrono::Utc::now(),
            context: Vec::new(),
        };
        (vec![row], request)
    }

    #[test]
    fn via_rows_carry_their_roles_in_json_and_csv() {
        let (mut rows, request) = hostile_rows();
        let first = "arn:aws:iam::111111111111:role/first".to_string();
        let last = "arn:aws:iam::222222222222:role/last".to_string();
        let mut via = rows[0].clone();
        via.principal = "arn:aws:iam::111111111111:user/v".to_string();
        via.verdicts = vec![(Operation::Get, Verdict::Allowed)];
        via.links = vec![(Operation::Get, None)];
        via.note = Some(format!("via {first} then {last}"));
        via.via = vec![first.clone(), last.clone()];
        rows.push(via);

        let json: serde_json::Value =
            serde_json::from_str(&render_who_can_json(&rows, &request)).unwrap();
        let principals = json["principals"].as_array().unwrap();
        assert!(principals[0].get("via").is_none(), "{json}");
        assert_eq!(principals[1]["via"], serde_json::json!([first, last]));

        let mut csv = Vec::new();
        render_who_can_csv(&rows, &request, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("principal,account,kind,get,get_link,note,via")
        );
        // Listing order puts the allowed via row first.
        let via_line = lines.next().unwrap();
        assert!(
            via_line.ends_with(&format!(",{first};{last}")),
            "{via_line}"
        );
        assert!(lines.next().unwrap().ends_with(','), "{csv}");
    }

    #[test]
    fn csv_quotes_what_needs_it_and_text_shows_no_escape_codes() {
        let (rows, request) = hostile_rows();
        let mut csv = Vec::new();
        render_who_can_csv(&rows, &request, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.contains("\"a \"\"note\"\", with, commas\\u{a}and a line\""),
            "{csv}"
        );
        assert!(!csv.contains('\u{1b}'), "{csv}");
        let mut text = Vec::new();
        render_who_can_text(&rows, &request, &mut text, false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(!text.contains('\u{1b}'), "{text}");
        let mut markdown = Vec::new();
        render_who_can_markdown(&rows, &request, &[], &mut markdown).unwrap();
        let markdown = String::from_utf8(markdown).unwrap();
        let row = markdown
            .lines()
            .find(|line| line.starts_with("| `arn"))
            .unwrap();
        assert_eq!(row.matches(" | ").count(), 4, "{row}");
    }
}
