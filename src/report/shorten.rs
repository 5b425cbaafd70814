//! A long document after a change, shortened for the text and Markdown
//! reports: the statements the change wrote (or that border one it
//! removed), a few unchanged ones around them, and one line for each run of
//! unchanged statements left out. A person reviews the change, not fifty
//! thousand statements they already have; the JSON report and the files
//! `--write-fixes` writes keep the whole document, which is what gets
//! installed.

use serde_json::Value;

use super::pretty_statement;
use crate::diagnosis::Fix;

/// Documents with at most this many statements are shown whole.
const WHOLE_UP_TO: usize = 20;
/// Unchanged statements shown on each side of a changed one.
const AROUND: usize = 2;

/// The document after `fix`'s change as shown to a person, and how many
/// statements were left out (0 when shown whole).
pub(crate) fn document_after(fix: &Fix, document: &Value) -> (String, usize) {
    let whole = || (pretty_statement(document), 0);
    let (Some(changed), Some(map), Some(statements)) = (
        fix.changed_statements.as_deref(),
        document.as_object(),
        document.get("Statement").and_then(Value::as_array),
    ) else {
        return whole();
    };
    if statements.len() <= WHOLE_UP_TO {
        return whole();
    }
    let mut shown = vec![false; statements.len()];
    for &at in changed {
        let from = at.saturating_sub(AROUND);
        let to = at
            .saturating_add(AROUND)
            .min(statements.len().saturating_sub(1));
        for slot in shown.iter_mut().take(to + 1).skip(from) {
            *slot = true;
        }
    }
    let left_out = shown.iter().filter(|shown| !**shown).count();
    if left_out == 0 {
        return whole();
    }
    // Laid out as `serde_json`'s pretty printer lays out the whole document,
    // so that a shortened document reads like the whole one.
    let mut members = Vec::with_capacity(map.len());
    for (name, value) in map {
        let name = pretty_statement(&Value::String(name.clone()));
        if name == "\"Statement\"" {
            let inside = shown_statements(statements, &shown);
            members.push(format!("  {name}: [\n{inside}\n  ]"));
        } else {
            members.push(format!(
                "  {name}: {}",
                indented(&pretty_statement(value), "  ")
            ));
        }
    }
    (format!("{{\n{}\n}}", members.join(",\n")), left_out)
}

/// The statements `shown` keeps, four spaces in and with the commas they
/// have in the whole document, and one line for each run of those it leaves
/// out.
fn shown_statements(statements: &[Value], shown: &[bool]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut run = 0;
    for (at, (statement, &keep)) in statements.iter().zip(shown).enumerate() {
        if !keep {
            run += 1;
            continue;
        }
        if run > 0 {
            lines.push(unchanged_line(run));
            run = 0;
        }
        let comma = if at + 1 < statements.len() { "," } else { "" };
        lines.push(format!(
            "    {}{comma}",
            indented(&pretty_statement(statement), "    ")
        ));
    }
    if run > 0 {
        lines.push(unchanged_line(run));
    }
    lines.join("\n")
}

fn unchanged_line(count: usize) -> String {
    let noun = if count == 1 {
        "statement"
    } else {
        "statements"
    };
    format!("    … {count} {noun} unchanged")
}

/// `text` with every line but the first indented by `indent`.
fn indented(text: &str, indent: &str) -> String {
    text.replace('\n', &format!("\n{indent}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(count: usize) -> Value {
        let statements: Vec<Value> = (0..count)
            .map(|index| json!({"Sid": format!("S{index}"), "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
            .collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn fix(changed: Option<Vec<usize>>) -> Fix {
        Fix {
            changed_statements: changed,
            ..Fix::default()
        }
    }

    #[test]
    fn a_long_document_shows_the_change_and_counts_what_it_leaves_out() {
        let document = document(1_000);
        let (shown, left_out) = document_after(&fix(Some(vec![500])), &document);
        assert_eq!(left_out, 995);
        assert!(shown.contains("… 498 statements unchanged"), "{shown}");
        assert!(shown.contains("… 497 statements unchanged"), "{shown}");
        for kept in ["S498", "S499", "S500", "S501", "S502"] {
            assert!(shown.contains(&format!("\"{kept}\"")), "{kept}: {shown}");
        }
        assert!(!shown.contains("\"S497\"") && !shown.contains("\"S503\""));
        assert!(shown.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n"));
        assert!(shown.ends_with("\n  ]\n}"));
    }

    #[test]
    fn a_short_document_or_one_without_changes_known_is_shown_whole() {
        for (count, changed) in [(20, Some(vec![0])), (1_000, None)] {
            let document = document(count);
            let (shown, left_out) = document_after(&fix(changed), &document);
            assert_eq!(left_out, 0);
            assert_eq!(shown, pretty_statement(&document));
        }
    }
}
