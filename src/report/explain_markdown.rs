//! `explain` as Markdown for a ticket: a heading with the meaning, a table
//! of what the message gave, the link, who must look, the next steps as a
//! list and the command in a `sh` block. Values from the message go into
//! code spans, so nothing in them is read as Markdown.

use std::io::{self, Write};

use crate::explain::Explanation;

pub(super) fn render(explanation: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    if !explanation.recognised {
        writeln!(out, "## kms-s3-doctor explain: {}", explanation.summary)?;
        writeln!(out)?;
        for step in &explanation.next_steps {
            writeln!(out, "- {step}")?;
        }
        return Ok(());
    }
    writeln!(out, "## kms-s3-doctor explain")?;
    writeln!(out)?;
    writeln!(out, "**{}**", explanation.summary)?;
    let fields = super::explain_fields(explanation);
    if !fields.is_empty() {
        writeln!(out)?;
        writeln!(out, "| | |")?;
        writeln!(out, "|---|---|")?;
        for (label, value) in fields {
            writeln!(out, "| {label} | {} |", code_span(&value))?;
        }
    }
    writeln!(out)?;
    match explanation.link {
        Some(link) => writeln!(out, "- link: `{}` ({})", link.as_str(), link.title())?,
        None if !explanation.suspects.is_empty() => {
            let suspects: Vec<String> = explanation
                .suspects
                .iter()
                .map(|link| format!("`{}`", link.as_str()))
                .collect();
            writeln!(
                out,
                "- link: not named by the message; suspects: {}",
                suspects.join(", ")
            )?
        }
        None => writeln!(out, "- link: outside the chain kms-s3-doctor judges")?,
    }
    if let Some(owner) = &explanation.owner {
        writeln!(out, "- who: {owner}")?;
    }
    if !explanation.next_steps.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Next")?;
        writeln!(out)?;
        for step in &explanation.next_steps {
            writeln!(out, "- {step}")?;
        }
    }
    if let Some(command) = &explanation.command {
        writeln!(out)?;
        writeln!(out, "### Run")?;
        writeln!(out)?;
        writeln!(out, "```sh")?;
        writeln!(out, "{command}")?;
        writeln!(out, "```")?;
    }
    Ok(())
}

/// A code span that holds any text: a fence longer than any run of
/// backticks inside, padded when the text starts or ends with one; a pipe
/// is escaped so that it cannot end the table cell.
fn code_span(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", text.replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::code_span;

    #[test]
    fn code_spans_hold_backticks_and_pipes() {
        assert_eq!(code_span("a"), "`a`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
        assert_eq!(code_span("a|b"), "`a\\|b`");
    }
}
