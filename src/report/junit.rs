//! JUnit XML for `kms-s3-doctor test`: one `<testcase>` per expectation, in
//! one `<testsuite>` named after the file. An unmet expectation is a
//! `<failure>` whose message is the first broken link and its fix; an
//! inconclusive one is an `<error>` (it is not a pass, and CI systems show
//! errors as loudly as failures). The body is `check`'s text report. The
//! shape follows the Jenkins xUnit plugin's `junit-10.xsd`, which GitLab and
//! most CI systems read (`tests/access_tests.rs` validates against it).

use std::io::{self, Write};

use super::test_run::failure_message;
use crate::access_tests::{Outcome, TestRun};

/// Text as XML character data or attribute value. XML 1.0 allows no control
/// character but tab, LF and CR, so the others become U+FFFD rather than an
/// unreadable file; a name from the test file may hold anything.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(character),
            control if control.is_control() && (control as u32) < 0x20 => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            other => out.push(other),
        }
    }
    out
}

pub(super) fn render(run: &TestRun, out: &mut dyn Write) -> io::Result<()> {
    let tests = run.results.len();
    let failures = run.count(Outcome::Unmet);
    let errors = run.count(Outcome::Inconclusive);
    let file = escape(&run.file);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="kms-s3-doctor" tests="{tests}" failures="{failures}" errors="{errors}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{file}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="0" file="{file}">"#
    )?;
    for result in &run.results {
        writeln!(
            out,
            r#"    <testcase name="{}" classname="kms-s3-doctor.access-tests">"#,
            escape(&result.expectation.name)
        )?;
        let element = match result.outcome {
            Outcome::Met => None,
            Outcome::Unmet => Some(("failure", "unmet")),
            Outcome::Inconclusive => Some(("error", "inconclusive")),
        };
        if let Some((element, kind)) = element {
            let mut body = Vec::new();
            super::render_text(&result.diagnosis, &mut body, false)?;
            writeln!(
                out,
                r#"      <{element} type="{kind}" message="{}">{}</{element}>"#,
                escape(&failure_message(result)),
                escape(&String::from_utf8_lossy(&body))
            )?;
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_and_forbidden_control_characters_are_escaped() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\t"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{fffd}\t"
        );
    }
}
