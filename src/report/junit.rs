//! JUnit XML for `kms-s3-doctor test`: one `<testcase>` per expectation, in
//! one `<testsuite>` named after the file. An unmet expectation is a
//! `<failure>` whose message is the first broken link and its fix; an
//! inconclusive one is an `<error>` (it is not a pass, and CI systems show
//! errors as loudly as failures). The body is `check`'s text report. The
//! shape follows the Jenkins xUnit plugin's `junit-10.xsd`, which GitLab and
//! most CI systems read (`tests/it/access_tests.rs` validates against it).
//!
//! The XML is written by `quick-junit`, the writer of cargo-nextest's
//! reports, which escapes markup and drops control characters. Two things
//! are done here: text is first made XML 1.0 characters (see
//! [`xml_text`]), and the `skipped` count the library writes on the
//! `<testsuites>` root is removed, since `junit-10.xsd` allows it only on
//! a `<testsuite>`.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::test_run::failure_message;
use crate::access_tests::{Outcome, TestRun};

/// Text as XML character data or attribute value. XML 1.0 allows no control
/// character but tab, LF and CR, nor U+FFFE and U+FFFF; those become U+FFFD,
/// so that the place of an unreadable character stays visible (the library
/// would drop a control character silently and keep U+FFFE, which makes the
/// file unreadable). A name from the test file may hold anything.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '\t' | '\n' | '\r' => character,
            control if (control as u32) < 0x20 => '\u{fffd}',
            '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            other => other,
        })
        .collect()
}

fn report(run: &TestRun) -> io::Result<Report> {
    let mut suite = TestSuite::new(xml_text(&run.file));
    suite
        .extra
        .insert("file".into(), xml_text(&run.file).into());
    for result in &run.results {
        let kind = match result.outcome {
            Outcome::Met => None,
            Outcome::Unmet => Some((NonSuccessKind::Failure, "unmet")),
            Outcome::Inconclusive => Some((NonSuccessKind::Error, "inconclusive")),
        };
        let status = match kind {
            None => TestCaseStatus::success(),
            Some((kind, ty)) => {
                let mut body = Vec::new();
                if let Some(diagnosis) = &result.diagnosis {
                    super::render_text(diagnosis, &mut body, false)?;
                }
                let mut status = TestCaseStatus::non_success(kind);
                status
                    .set_type(ty)
                    .set_message(xml_text(&failure_message(result)))
                    .set_description(xml_text(&String::from_utf8_lossy(&body)));
                status
            }
        };
        let mut case = TestCase::new(xml_text(&result.expectation.name), status);
        case.set_classname("kms-s3-doctor.access-tests");
        suite.add_test_case(case);
    }
    let mut report = Report::new("kms-s3-doctor");
    report.add_test_suite(suite);
    Ok(report)
}

/// Removes the `skipped` attribute from the `<testsuites>` start tag, which
/// `junit-10.xsd` does not allow there. Expectations are never skipped, so
/// nothing is lost; each `<testsuite>` keeps its own `skipped="0"`.
fn without_root_skipped(xml: String) -> String {
    let Some(start) = xml.find("<testsuites ") else {
        return xml;
    };
    let end = xml[start..].find('>').map_or(xml.len(), |end| start + end);
    let tag = xml[start..end].replacen(r#" skipped="0""#, "", 1);
    format!("{}{tag}{}", &xml[..start], &xml[end..])
}

/// A run that never got to its expectations (the file, the snapshot or AWS
/// failed): one `<testcase>` in `<error>`, so that a CI job that reads the
/// JUnit file shows the reason instead of failing on an empty or missing
/// file. `kind` is the error's `type` (`bad-input`, `gather-failed`).
pub(super) fn render_error(
    file: &str,
    kind: &str,
    message: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut suite = TestSuite::new(xml_text(file));
    suite.extra.insert("file".into(), xml_text(file).into());
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_type(kind)
        .set_message(xml_text(message))
        .set_description(xml_text(message));
    let mut case = TestCase::new(xml_text(file), status);
    case.set_classname("kms-s3-doctor.access-tests");
    suite.add_test_case(case);
    let mut report = Report::new("kms-s3-doctor");
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(io::Error::other)?;
    out.write_all(without_root_skipped(xml).as_bytes())
}

pub(super) fn render(run: &TestRun, out: &mut dyn Write) -> io::Result<()> {
    let xml = report(run)?.to_string().map_err(io::Error::other)?;
    out.write_all(without_root_skipped(xml).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::{without_root_skipped, xml_text};

    #[test]
    fn characters_xml_forbids_become_the_replacement_character() {
        assert_eq!(
            xml_text("a<b & \"c\" 'd'>\u{1}\u{1b}[31m\t\n\u{fffe}"),
            "a<b & \"c\" 'd'>\u{fffd}\u{fffd}[31m\t\n\u{fffd}"
        );
    }

    #[test]
    fn only_the_root_loses_its_skipped_count() {
        assert_eq!(
            without_root_skipped(
                r#"<?xml version="1.0"?><testsuites name="k" tests="1" skipped="0" failures="0"><testsuite name="f" tests="1" skipped="0">"#
                    .to_string()
            ),
            r#"<?xml version="1.0"?><testsuites name="k" tests="1" failures="0"><testsuite name="f" tests="1" skipped="0">"#
        );
    }
}
