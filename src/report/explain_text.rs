//! `explain` for a terminal: the verdict line, the facts the message gave,
//! then the link, who must look, what to check next and the command to run.

use std::io::{self, Write};

use colored::Color;

use crate::explain::{DenyKind, Explanation};

pub(super) fn render(
    explanation: &Explanation,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let paint = |color_of: Color, text: &str| {
        if color {
            format!("\x1b[{}m{text}\x1b[0m", color_of.to_fg_str())
        } else {
            text.to_string()
        }
    };
    let bold = |text: &str| {
        if color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };

    if !explanation.recognised {
        writeln!(out, "{} {}", paint(Color::Yellow, "?"), explanation.summary)?;
        for step in &explanation.next_steps {
            writeln!(out, "  {} {step}", bold("help:"))?;
        }
        return Ok(());
    }

    writeln!(
        out,
        "{} {}",
        paint(Color::Red, "✗"),
        bold(&explanation.summary)
    )?;
    for (label, value) in super::explain_fields(explanation) {
        writeln!(out, "  {label:<10} {value}")?;
    }
    writeln!(out)?;
    match explanation.link {
        Some(link) => writeln!(
            out,
            "{}      {} ({})",
            bold("link"),
            paint(Color::Red, link.as_str()),
            link.title()
        )?,
        None if !explanation.suspects.is_empty() => {
            let suspects: Vec<&str> = explanation
                .suspects
                .iter()
                .map(|link| link.as_str())
                .collect();
            writeln!(
                out,
                "{}      not named by the message; suspects: {}",
                bold("link"),
                paint(Color::Yellow, &suspects.join(", "))
            )?
        }
        None => writeln!(
            out,
            "{}      outside the chain kms-s3-doctor judges",
            bold("link")
        )?,
    }
    if let Some(owner) = &explanation.owner {
        writeln!(out, "{}       {owner}", bold("who"))?;
    }
    if !explanation.next_steps.is_empty() {
        writeln!(out, "{}", bold("next"))?;
        for step in &explanation.next_steps {
            writeln!(out, "  - {step}")?;
        }
    }
    if let Some(command) = &explanation.command {
        writeln!(out, "{}", bold("run"))?;
        writeln!(out, "  {command}")?;
    }
    Ok(())
}

/// `explicit deny` / `implicit deny (no allow)`.
pub(super) fn deny_words(deny: DenyKind) -> &'static str {
    match deny {
        DenyKind::Explicit => "explicit deny",
        DenyKind::Implicit => "implicit deny (no allow)",
    }
}
