//! The access-test file: TOML read with spans, so that every mistake is
//! reported at its line and column, then checked field by field into
//! [`Expectation`]s with the file's defaults applied. Nothing here judges.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnosis::{LinkId, Operation};
use crate::policy::arn::{Principal, PrincipalKind};

use super::{AccessTestError, Expect, Expectation, TestFile};

/// The file as written. `deny_unknown_fields`: a misspelt field must not be
/// silently ignored (a test that checks less than it says is worse than none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    bucket: Option<Spanned<String>>,
    object: Option<Spanned<String>>,
    ops: Option<Spanned<Vec<Spanned<String>>>>,
    context: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    test: Vec<Spanned<RawTest>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: Spanned<String>,
    principal: Option<Spanned<String>>,
    bucket: Option<Spanned<String>>,
    object: Option<Spanned<String>>,
    ops: Option<Spanned<Vec<Spanned<String>>>>,
    via_role: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    via_service: Option<Spanned<String>>,
    context: Option<Vec<Spanned<String>>>,
    expect: Spanned<String>,
    broken_link: Option<Spanned<String>>,
    /// A CloudTrail record file, relative to the test file.
    event: Option<Spanned<String>>,
}

/// Reads an `event` file: its path as written in the test file, to the
/// name to show and its text, or why it cannot be read.
pub type EventReader<'r> = &'r dyn Fn(&str) -> Result<(String, String), String>;

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    // `get` rather than slicing: an offset from a parser error may fall
    // inside a multi-byte character.
    let before = (0..=offset)
        .rev()
        .find_map(|end| text.get(..end))
        .unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |tail| tail.chars().count() + 1);
    (line, column)
}

struct Source<'t> {
    name: &'t str,
    text: &'t str,
    /// Where each line after the first starts: every test asks for its
    /// line, and counting from the top each time made a file of n tests
    /// cost n² in its length.
    line_starts: Vec<usize>,
}

impl<'t> Source<'t> {
    fn new(name: &'t str, text: &'t str) -> Self {
        let line_starts = text
            .bytes()
            .enumerate()
            .filter(|&(_, byte)| byte == b'\n')
            .map(|(at, _)| at + 1)
            .collect();
        Source {
            name,
            text,
            line_starts,
        }
    }
}

impl Source<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> AccessTestError {
        let (line, column) = line_column(self.text, span.start);
        AccessTestError {
            file: self.name.to_string(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        // Lines that start at or before the offset, plus the first.
        self.line_starts
            .partition_point(|&start| start <= span.start)
            + 1
    }
}

/// Parses and checks an access-test file. `name` is used in messages. A
/// test with `event` is refused: reading a record needs the file's place
/// ([`parse_with_events`]).
pub fn parse(name: &str, text: &str) -> Result<TestFile, AccessTestError> {
    parse_with_events(name, text, &|_| {
        Err(
            "records are read relative to the test file, which this caller did not give"
                .to_string(),
        )
    })
}

/// Parses and checks an access-test file whose tests may name a
/// CloudTrail record (`event = "PATH"`), read through `read_event`.
///
/// A test with `event` is judged as `check --event` judges the record: the
/// record gives the principal, bucket, object, operation, request context
/// and time, the test's own fields fill or override them, and the file's
/// defaults fill what neither gives. A record file with several distinct
/// S3 requests gives one expectation per request, named `NAME #1`,
/// `NAME #2`, ..., each with the test's expectation.
pub fn parse_with_events(
    name: &str,
    text: &str,
    read_event: EventReader<'_>,
) -> Result<TestFile, AccessTestError> {
    let source = Source::new(name, text);
    let raw: RawFile = toml::from_str(text).map_err(|error| {
        let message = error.message().trim().replace('\n', " ");
        match error.span() {
            Some(span) => source.error(span, message),
            None => AccessTestError {
                file: name.to_string(),
                line: None,
                column: None,
                message,
            },
        }
    })?;
    if raw.test.is_empty() {
        return Err(AccessTestError {
            file: name.to_string(),
            line: None,
            column: None,
            message: "no `[[test]]` table: the file expects nothing".to_string(),
        });
    }
    let default_ops = match &raw.ops {
        Some(ops) => Some(operations(&source, ops)?),
        None => None,
    };
    let default_context = match &raw.context {
        Some(context) => contexts(&source, context)?,
        None => Vec::new(),
    };
    let mut tests: Vec<Expectation> = Vec::new();
    for spanned in &raw.test {
        let span = spanned.span();
        let test = spanned.get_ref();
        let name_text = test.name.get_ref().trim();
        if name_text.is_empty() {
            return Err(source.error(test.name.span(), "`name` is empty"));
        }
        if let Some(other) = tests.iter().find(|other| other.name == name_text) {
            return Err(source.error(
                test.name.span(),
                format!(
                    "test name `{name_text}` is already used on line {}; each test needs its own name",
                    other.line
                ),
            ));
        }
        let records = match &test.event {
            Some(path) => {
                let at_event = |message: String| {
                    source.error(
                        path.span(),
                        format!(
                            "test `{name_text}`: `event` `{}`: {message}",
                            path.get_ref()
                        ),
                    )
                };
                let (event_name, event_text) = read_event(path.get_ref()).map_err(at_event)?;
                crate::event::read(&event_name, &event_text).map_err(|error| at_event(error.0))?
            }
            None => Vec::new(),
        };
        let record_bucket = records.iter().find_map(|request| request.bucket.clone());
        let bucket = match test.bucket.as_ref() {
            Some(bucket) => Some(bucket.clone()),
            None => match &record_bucket {
                Some(bucket) => Some(Spanned::new(
                    test.event.as_ref().map_or(span.clone(), Spanned::span),
                    bucket.clone(),
                )),
                None => raw.bucket.clone(),
            },
        }
        .ok_or_else(|| {
            source.error(
                span.clone(),
                format!("test `{name_text}` has no `bucket` and the file sets no default one"),
            )
        })?;
        let bucket = &bucket;
        if bucket.get_ref().trim().is_empty() {
            return Err(source.error(bucket.span(), "`bucket` is empty"));
        }
        crate::pipeline::input::plain_word(bucket.get_ref())
            .map_err(|error| source.error(bucket.span(), format!("`bucket`: {error}")))?;
        let object = test.object.as_ref().or(raw.object.as_ref());
        if let Some(object) = object.filter(|object| object.get_ref().is_empty()) {
            return Err(source.error(object.span(), "`object` is empty"));
        }
        if let Some(object) = object {
            crate::pipeline::input::object_key(object.get_ref())
                .map_err(|error| source.error(object.span(), format!("`object`: {error}")))?;
        }
        // The same checks as the command line's: a padded ARN is refused
        // with the value to give, never looked up (or fixed) as written.
        for (field, value, check) in [
            (
                "principal",
                &test.principal,
                crate::pipeline::input::principal_word as fn(&str) -> Result<(), String>,
            ),
            (
                "via_role",
                &test.via_role,
                crate::pipeline::input::plain_word,
            ),
            (
                "external_id",
                &test.external_id,
                crate::pipeline::input::unpadded,
            ),
            (
                "via_service",
                &test.via_service,
                crate::pipeline::input::service_principal,
            ),
        ] {
            if let Some(value) = value {
                check(value.get_ref())
                    .map_err(|error| source.error(value.span(), format!("`{field}`: {error}")))?;
            }
        }
        let ops = match &test.ops {
            Some(ops) => operations(&source, ops)?,
            None => default_ops
                .clone()
                .unwrap_or_else(|| Operation::DEFAULT.to_vec()),
        };
        let mut context = default_context.clone();
        if let Some(own) = &test.context {
            // The test's own values come after the defaults, so they win
            // (the judge reads the last value given for a key).
            context.extend(contexts(&source, own)?);
        }
        if let Some(principal) = &test.principal {
            Principal::parse_caller(principal.get_ref())
                .map_err(|error| source.error(principal.span(), format!("`principal`: {error}")))?;
        }
        if let Some(role) = &test.via_role {
            let parsed = Principal::parse(role.get_ref())
                .map_err(|error| source.error(role.span(), format!("`via_role`: {error}")))?;
            if !matches!(parsed.kind, PrincipalKind::AssumedRole { .. }) {
                return Err(source.error(
                    role.span(),
                    format!("`via_role` `{}` is not a role ARN", role.get_ref()),
                ));
            }
        }
        if let Some(external_id) = &test.external_id
            && test.via_role.is_none()
        {
            return Err(source.error(
                external_id.span(),
                "`external_id` is sent with `via_role`, which this test does not set",
            ));
        }
        let expect = match test.expect.get_ref().as_str() {
            "allowed" => Expect::Allowed,
            "denied" => Expect::Denied,
            other => {
                return Err(source.error(
                    test.expect.span(),
                    format!("`expect` is `{other}`; expected `allowed` or `denied`"),
                ));
            }
        };
        let broken_link = match &test.broken_link {
            Some(link) => {
                let id = LinkId::ALL
                    .into_iter()
                    .find(|id| id.as_str() == link.get_ref())
                    .ok_or_else(|| {
                        let names: Vec<&str> = LinkId::ALL.iter().map(|id| id.as_str()).collect();
                        source.error(
                            link.span(),
                            format!(
                                "`broken_link` `{}` is not a link (one of {})",
                                link.get_ref(),
                                names.join(", ")
                            ),
                        )
                    })?;
                if expect != Expect::Denied {
                    return Err(source.error(
                        link.span(),
                        "`broken_link` names the link that must deny; it needs `expect = \"denied\"`",
                    ));
                }
                Some(id)
            }
            None => None,
        };
        let expectation = Expectation {
            name: name_text.to_string(),
            line: source.line(&span),
            principal: test.principal.as_ref().map(|p| p.get_ref().clone()),
            bucket: bucket.get_ref().clone(),
            object: object.map(|object| object.get_ref().clone()),
            via_role: test.via_role.as_ref().map(|r| r.get_ref().clone()),
            external_id: test.external_id.as_ref().map(|e| e.get_ref().clone()),
            via_service: test.via_service.as_ref().map(|s| s.get_ref().clone()),
            operations: ops,
            context,
            expect,
            broken_link,
            event: None,
            time: None,
            unknown_context: Vec::new(),
        };
        if records.is_empty() {
            tests.push(expectation);
            continue;
        }
        let several = records.len() > 1;
        for (index, request) in records.iter().enumerate() {
            let mut from_record = expectation.clone();
            if several {
                from_record.name = format!("{name_text} #{}", index + 1);
            }
            if test.principal.is_none() {
                from_record.principal = match &request.principal {
                    Some(principal) => Some(principal.clone()),
                    None => {
                        let why = request
                            .missing_principal
                            .as_deref()
                            .unwrap_or("it names no principal");
                        return Err(source.error(
                            test.event.as_ref().map_or(span.clone(), Spanned::span),
                            format!(
                                "test `{name_text}`: {}: {why}: give `principal`",
                                request.source
                            ),
                        ));
                    }
                };
            }
            if test.bucket.is_none()
                && let Some(bucket) = &request.bucket
            {
                from_record.bucket = bucket.clone();
            }
            if test.object.is_none() && request.object.is_some() {
                from_record.object = request.object.clone();
            }
            if test.ops.is_none() {
                from_record.operations = request.operations.clone();
            }
            // The file's defaults, then the record, then the test's own
            // values: the judge reads the last value given for a key. The
            // record's time is the judging time, not a context value.
            let mut context = default_context.clone();
            context.extend(
                request
                    .context
                    .iter()
                    .filter(|(key, _)| key.as_str() != "aws:CurrentTime")
                    .map(|(key, value)| (key.clone(), value.clone())),
            );
            if let Some(own) = &test.context {
                context.extend(contexts(&source, own)?);
            }
            let given: Vec<&String> = context.iter().map(|(key, _)| key).collect();
            from_record.unknown_context = request
                .unknown
                .iter()
                .filter(|key| !given.iter().any(|given| given.eq_ignore_ascii_case(key)))
                .cloned()
                .collect();
            from_record.context = context;
            from_record.time = request.time;
            from_record.event = Some(request.source.clone());
            if let Some(other) = tests.iter().find(|other| other.name == from_record.name) {
                return Err(source.error(
                    test.name.span(),
                    format!(
                        "test name `{}` is already used on line {}; each test needs its own name",
                        from_record.name, other.line
                    ),
                ));
            }
            tests.push(from_record);
        }
    }
    Ok(TestFile {
        name: name.to_string(),
        tests,
    })
}

/// `ops = ["get", "put"]`, as `--op`: case-insensitive, duplicates dropped.
fn operations(
    source: &Source<'_>,
    ops: &Spanned<Vec<Spanned<String>>>,
) -> Result<Vec<Operation>, AccessTestError> {
    let mut out = Vec::new();
    for op in ops.get_ref() {
        let operation = Operation::parse(op.get_ref()).ok_or_else(|| {
            source.error(
                op.span(),
                format!(
                    "unknown operation `{}` (expected list, head, get, put, multipart, copy or replicate)",
                    op.get_ref()
                ),
            )
        })?;
        if !out.contains(&operation) {
            out.push(operation);
        }
    }
    if out.is_empty() {
        return Err(source.error(ops.span(), "`ops` is empty"));
    }
    Ok(out)
}

/// `context = ["aws:SourceIp=203.0.113.7"]`, as `--context`: split at the
/// first `=`.
fn contexts(
    source: &Source<'_>,
    values: &[Spanned<String>],
) -> Result<Vec<(String, String)>, AccessTestError> {
    values
        .iter()
        .map(|value| match value.get_ref().split_once('=') {
            Some((key, text)) if !key.trim().is_empty() => {
                let key = key.trim();
                // The same check as `--context`: a value AWS could never send
                // would otherwise match nothing and quietly change a verdict.
                crate::policy::context_values::validate(key, text)
                    .map_err(|error| source.error(value.span(), error.expected_form()))?;
                Ok((key.to_string(), text.to_string()))
            }
            _ => Err(source.error(
                value.span(),
                format!("context `{}` is not KEY=VALUE", value.get_ref()),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
bucket = "account-a-bucket"

[[test]]
name = "partner reads the daily report"
principal = "arn:aws:iam::222222222222:user/dilip"
object = "reports/data.csv"
ops = ["get", "put"]
expect = "allowed"

[[test]]
name = "partner cannot write without the key grant"
principal = "arn:aws:iam::222222222222:role/uploader"
via_role = "arn:aws:iam::111111111111:role/partner-writer"
external_id = "partner-7"
context = ["aws:SourceIp=203.0.113.7"]
ops = ["put"]
expect = "denied"
broken_link = "key-policy"
"#;

    fn error_of(text: &str) -> AccessTestError {
        parse("t.toml", text).expect_err("the file is refused")
    }

    #[test]
    fn the_documented_example_parses_with_its_defaults() {
        let file = parse("t.toml", EXAMPLE).unwrap();
        assert_eq!(file.tests.len(), 2);
        let first = &file.tests[0];
        assert_eq!(first.bucket, "account-a-bucket");
        assert_eq!(first.operations, vec![Operation::Get, Operation::Put]);
        assert_eq!(first.line, 4);
        let second = &file.tests[1];
        assert_eq!(second.expect, Expect::Denied);
        assert_eq!(second.broken_link, Some(LinkId::KeyPolicy));
        assert_eq!(second.external_id.as_deref(), Some("partner-7"));
        assert_eq!(
            second.context,
            vec![("aws:SourceIp".to_string(), "203.0.113.7".to_string())]
        );
        assert_eq!(second.object, None);
    }

    #[test]
    fn an_unknown_field_is_refused_at_its_line_and_column() {
        let text = "bucket = \"b\"\n[[test]]\nname = \"x\"\nexpect = \"allowed\"\n  princpal = \"arn:aws:iam::1:user/a\"\n";
        let error = error_of(text);
        assert_eq!((error.line, error.column), (Some(5), Some(3)), "{error}");
        assert!(
            error.message.contains("unknown field `princpal`"),
            "{error}"
        );
        let top = error_of(
            "bucket = \"b\"\nbukcet = \"c\"\n[[test]]\nname = \"x\"\nexpect = \"allowed\"\n",
        );
        assert_eq!(top.line, Some(2), "{top}");
    }

    #[test]
    fn bad_values_name_their_field_and_position() {
        let base = "bucket = \"b\"\n[[test]]\nname = \"x\"\n";
        let cases = [
            ("expect = \"maybe\"\n", 4, "`expect`"),
            (
                "expect = \"allowed\"\nops = [\"delete\"]\n",
                5,
                "unknown operation `delete`",
            ),
            ("expect = \"allowed\"\nops = []\n", 5, "`ops` is empty"),
            (
                "expect = \"allowed\"\ncontext = [\"aws:SourceIp\"]\n",
                5,
                "not KEY=VALUE",
            ),
            (
                "expect = \"allowed\"\ncontext = [\"aws:SourceIp=203.0.113.5:443\"]\n",
                5,
                "aws:SourceIp",
            ),
            (
                "expect = \"allowed\"\nbroken_link = \"key-policy\"\n",
                5,
                "needs `expect",
            ),
            (
                "expect = \"denied\"\nbroken_link = \"kms\"\n",
                5,
                "is not a link",
            ),
            (
                "expect = \"allowed\"\nprincipal = \"bob\"\n",
                5,
                "`principal`",
            ),
            (
                "expect = \"allowed\"\nvia_role = \"arn:aws:iam::111111111111:user/a\"\n",
                5,
                "not a role ARN",
            ),
            (
                "expect = \"allowed\"\nexternal_id = \"x\"\n",
                5,
                "`external_id`",
            ),
            (
                "expect = \"allowed\"\nexpect = \"denied\"\n",
                5,
                "duplicate",
            ),
        ];
        for (tail, line, needle) in cases {
            let error = error_of(&format!("{base}{tail}"));
            assert_eq!(error.line, Some(line), "{tail}: {error}");
            assert!(error.message.contains(needle), "{tail}: {error}");
        }
    }

    #[test]
    fn a_file_without_tests_or_buckets_or_with_twin_names_is_refused() {
        assert!(error_of("bucket = \"b\"\n").message.contains("[[test]]"));
        let no_bucket = error_of("[[test]]\nname = \"x\"\nexpect = \"allowed\"\n");
        assert!(no_bucket.message.contains("no `bucket`"), "{no_bucket}");
        assert_eq!(no_bucket.line, Some(1));
        let twins = error_of(
            "bucket = \"b\"\n[[test]]\nname = \"x\"\nexpect = \"allowed\"\n[[test]]\nname = \"x\"\nexpect = \"denied\"\n",
        );
        assert_eq!(twins.line, Some(6), "{twins}");
        assert!(twins.message.contains("line 2"), "{twins}");
        assert!(error_of("[[test]\n").line.is_some());
    }

    #[test]
    fn the_line_index_agrees_with_counting_from_the_top() {
        let text = "a\n\nbc\né\n\n";
        let source = Source::new("t.toml", text);
        for offset in 0..=text.len() {
            assert_eq!(
                source.line(&(offset..offset)),
                line_column(text, offset).0,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn defaults_apply_and_the_tests_own_values_win() {
        let file = parse(
            "t.toml",
            "bucket = \"b\"\nobject = \"o\"\nops = [\"get\"]\ncontext = [\"aws:SourceIp=1.1.1.1\"]\n[[test]]\nname = \"x\"\nexpect = \"allowed\"\n[[test]]\nname = \"y\"\nbucket = \"c\"\nops = [\"list\"]\ncontext = [\"aws:SourceIp=2.2.2.2\"]\nexpect = \"allowed\"\n",
        )
        .unwrap();
        assert_eq!(file.tests[0].bucket, "b");
        assert_eq!(file.tests[0].object.as_deref(), Some("o"));
        assert_eq!(file.tests[0].operations, vec![Operation::Get]);
        assert_eq!(file.tests[1].bucket, "c");
        assert_eq!(file.tests[1].operations, vec![Operation::List]);
        assert_eq!(
            file.tests[1].context.last(),
            Some(&("aws:SourceIp".to_string(), "2.2.2.2".to_string()))
        );
        let no_ops = parse(
            "t.toml",
            "bucket = \"b\"\n[[test]]\nname = \"x\"\nexpect = \"allowed\"\n",
        )
        .unwrap();
        assert_eq!(no_ops.tests[0].operations, Operation::DEFAULT.to_vec());
    }

    #[test]
    fn a_test_may_run_through_a_service_named_as_a_service_principal() {
        let file = parse(
            "t.toml",
            "bucket = \"b\"\n[[test]]\nname = \"athena\"\nvia_service = \"athena.amazonaws.com\"\nexpect = \"allowed\"\n",
        )
        .unwrap();
        assert_eq!(
            file.tests[0].via_service.as_deref(),
            Some("athena.amazonaws.com")
        );
        let error = error_of(
            "bucket = \"b\"\n[[test]]\nname = \"x\"\nvia_service = \"athena\"\nexpect = \"allowed\"\n",
        );
        assert!(error.to_string().contains("`via_service`"), "{error}");
        assert!(error.to_string().contains("NAME.amazonaws.com"), "{error}");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx", 1), (1, 1));
        assert_eq!(line_column("", 10), (1, 1));
    }
}
