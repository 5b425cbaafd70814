//! `kms-s3-doctor test` end to end on the real binary, offline: the README's
//! example file over the walkthrough snapshot (table, JSON, Markdown,
//! JUnit validated against a JUnit XSD), exit codes, one-line errors with
//! line and column, GitHub annotations, completions and the man page, and
//! that every flag the CI recipes and `action.yml` pass exists.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    command.env_remove("NO_COLOR").env_remove("GITHUB_ACTIONS");
    command
}

fn run_in(directory: &Path, args: &[&str]) -> Output {
    binary()
        .current_dir(directory)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The README's command, from the repository root.
fn example(extra: &[&str]) -> Output {
    let mut args = vec![
        "test",
        "fixtures/access-tests.toml",
        "--snapshot",
        "fixtures/walkthrough.json",
    ];
    args.extend_from_slice(extra);
    run_in(&root(), &args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Writes `text` as an access-test file in a scratch directory and runs it
/// over the walkthrough snapshot.
fn with_file(text: &str, extra: &[&str]) -> Output {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("tests.toml");
    std::fs::write(&path, text).unwrap();
    let snapshot = root().join("fixtures/walkthrough.json");
    let mut args = vec![
        "test",
        path.to_str().unwrap(),
        "--snapshot",
        snapshot.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(directory.path(), &args)
}

#[test]
fn the_example_file_has_mixed_results_and_exits_1() {
    let output = example(&["--color", "never"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!("access_tests_text", stdout(&output));
}

#[test]
fn the_json_report_embeds_every_check_report() {
    let output = example(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["format"], "kms-s3-doctor/test-report@1");
    assert_eq!(report["outcome"], "unmet");
    assert_eq!(
        report["summary"],
        serde_json::json!({"tests": 6, "met": 4, "unmet": 1, "inconclusive": 1})
    );
    let tests = report["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 6);
    for test in tests {
        assert_eq!(test["report"]["format"], "kms-s3-doctor/report@1");
    }
    let unmet = &tests[3];
    assert_eq!(unmet["name"], "partner reads and writes the daily report");
    assert_eq!(unmet["outcome"], "unmet");
    assert_eq!(unmet["report"]["verdict"], "denied");
    assert_eq!(unmet["line"], 28);
    // The JSON reads back through the library's own types.
    let typed: kms_s3_doctor::report::TestReportV1 =
        serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(typed.summary.unmet, 1);
}

#[test]
fn the_markdown_report_is_a_table_with_the_failures_expanded() {
    let output = example(&["--format", "markdown"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("# kms-s3-doctor access tests: expectations unmet"));
    assert!(text.contains("| ✗ | partner reads and writes the daily report | allowed | denied | key-policy (kms:Decrypt) in account 111111111111 |"), "{text}");
    assert_eq!(text.matches("<details>").count(), 2, "{text}");
    assert!(text.contains("## What to change"), "{text}");
}

/// Validates `xml` against `tests/data/junit-10.xsd` with the `xmlschema`
/// Python package. Outside CI a missing validator skips the check (with a
/// note); in CI (`CI=true`, where `.ci/run` installs it) it fails.
fn validate_junit(xml: &str) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("report.xml");
    std::fs::write(&path, xml).unwrap();
    let schema = root().join("tests/data/junit-10.xsd");
    let script = "import sys, xmlschema\nxmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .arg(&path)
        .output();
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) if !in_ci && stderr(&output).contains("No module named 'xmlschema'") => {
            eprintln!("note: python package `xmlschema` missing; JUnit schema check skipped");
        }
        Ok(output) => panic!(
            "JUnit output does not validate:\n{}\n{xml}",
            stderr(&output)
        ),
        Err(error) if !in_ci => eprintln!("note: no python3 ({error}); JUnit schema check skipped"),
        Err(error) => panic!("python3 is needed to validate JUnit output: {error}"),
    }
}

#[test]
fn the_junit_report_validates_against_the_junit_schema() {
    let output = example(&["--format", "junit"]);
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout(&output);
    assert!(xml.contains(r#"<testsuites name="kms-s3-doctor" tests="6" failures="1" errors="1">"#));
    assert_eq!(xml.matches("<testcase ").count(), 6);
    let failure = start_tag(&xml, "failure");
    assert!(failure.contains(r#" type="unmet""#), "{failure}");
    assert!(
        failure.contains(r#" message="expected allowed: get is denied; put is denied; first broken link: key-policy (kms:Decrypt)"#),
        "{failure}"
    );
    let error = start_tag(&xml, "error");
    assert!(error.contains(r#" type="inconclusive""#), "{error}");
    assert!(
        error.contains(r#" message="expected allowed: list is inconclusive; first unknown link: identity-policy (s3:ListBucket)"#),
        "{error}"
    );
    assert!(xml.contains("fix (account 111111111111 admin): add to key-policy"));
    validate_junit(&xml);
    // Markup, control characters, an escape sequence, a noncharacter and a
    // CDATA end in a test name stay valid XML, the markup escaped and each
    // character XML forbids replaced.
    let odd = with_file(
        "bucket = \"account-a-bucket\"\n[[test]]\nname = \"<a & \\\"b\\\"> \\u0001 \\u001b[31m \\uFFFE ]]> 'q'\"\nprincipal = \"arn:aws:iam::222222222222:user/dilip\"\nops = [\"get\"]\nexpect = \"allowed\"\n",
        &["--format", "junit"],
    );
    assert_eq!(odd.status.code(), Some(1), "{}", stderr(&odd));
    let odd = stdout(&odd);
    let testcase = start_tag(&odd, "testcase");
    assert!(
        testcase.contains(
            " name=\"&lt;a &amp; &quot;b&quot;&gt; \u{fffd} \u{fffd}[31m \u{fffd} ]]&gt; &apos;q&apos;\""
        ),
        "{testcase}"
    );
    validate_junit(&odd);
}

/// The first start tag of `element` in `xml`, from `<` to `>`: attribute
/// order is the XML writer's, so tests look for attributes within it.
fn start_tag<'a>(xml: &'a str, element: &str) -> &'a str {
    let start = xml
        .find(&format!("<{element} "))
        .unwrap_or_else(|| panic!("no <{element}> in\n{xml}"));
    let end = start + xml[start..].find('>').unwrap();
    &xml[start..=end]
}

#[test]
fn the_invalid_schema_check_can_fail() {
    // The validator really validates: a testcase without its required
    // `name` is refused (skipped outside CI when the validator is missing).
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bad.xml");
    std::fs::write(
        &path,
        r#"<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>"#,
    )
    .unwrap();
    let script = "import sys, xmlschema\nxmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(root().join("tests/data/junit-10.xsd"))
        .arg(&path)
        .output();
    if let Ok(output) = output
        && !stderr(&output).contains("No module named")
    {
        assert!(!output.status.success(), "a nameless testcase validated");
    }
}

#[test]
fn every_expectation_met_exits_0_and_inconclusive_only_exits_3() {
    let met = with_file(
        "bucket = \"account-a-bucket\"\n[[test]]\nname = \"dilip lists\"\nprincipal = \"arn:aws:iam::222222222222:user/dilip\"\nops = [\"list\"]\nexpect = \"allowed\"\n",
        &["--color", "never"],
    );
    assert_eq!(met.status.code(), Some(0), "{}", stdout(&met));
    assert!(stdout(&met).ends_with("1 expectation: 1 met, 0 unmet, 0 inconclusive\n"));
    let unknown = with_file(
        "bucket = \"account-a-bucket\"\n[[test]]\nname = \"erin lists\"\nprincipal = \"arn:aws:iam::222222222222:user/erin\"\nops = [\"list\"]\nexpect = \"allowed\"\n",
        &["--color", "never"],
    );
    assert_eq!(unknown.status.code(), Some(3), "{}", stdout(&unknown));
}

#[test]
fn a_bad_file_exits_2_with_line_and_column() {
    let output = with_file(
        "bucket = \"account-a-bucket\"\n\n[[test]]\nname = \"x\"\nexpect = \"allowed\"\nbroken_lnk = \"key-policy\"\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("error: `")
            && message.contains("line 6, column 1: unknown field `broken_lnk`"),
        "{message}"
    );
    assert!(stdout(&output).is_empty());
    // A bucket the snapshot lacks is bad input at the test's line.
    let elsewhere = with_file(
        "[[test]]\nname = \"x\"\nbucket = \"nope\"\nprincipal = \"arn:aws:iam::222222222222:user/dilip\"\nexpect = \"allowed\"\n",
        &[],
    );
    assert_eq!(elsewhere.status.code(), Some(2));
    assert!(
        stderr(&elsewhere).contains("line 1: test `x`: bucket `nope`"),
        "{}",
        stderr(&elsewhere)
    );
    let missing = run_in(
        &root(),
        &[
            "test",
            "no-such-file.toml",
            "--snapshot",
            "fixtures/walkthrough.json",
        ],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read `no-such-file.toml`"));
}

#[test]
fn github_actions_gets_error_annotations_on_stderr() {
    let output = binary()
        .current_dir(root())
        .env("GITHUB_ACTIONS", "true")
        .args([
            "test",
            "fixtures/access-tests.toml",
            "--snapshot",
            "fixtures/walkthrough.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // stdout stays the report alone.
    serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap();
    let annotations: Vec<String> = stderr(&output)
        .lines()
        .filter(|line| line.starts_with("::error "))
        .map(str::to_string)
        .collect();
    assert_eq!(annotations.len(), 2, "{annotations:?}");
    assert!(
        annotations[0].starts_with(
            "::error file=fixtures/access-tests.toml,line=28,title=partner reads and writes the daily report (unmet)::expected allowed: get is denied"
        ),
        "{}",
        annotations[0]
    );
    assert!(annotations[1].contains("line=41"), "{}", annotations[1]);
    // Not under GitHub Actions: no annotation.
    assert!(!stderr(&example(&["--format", "json"])).contains("::error"));
}

#[test]
fn completions_and_the_man_page_come_from_the_cli_definitions() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = run_in(&root(), &["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        assert!(stdout(&output).contains("save-snapshot"), "{shell}");
    }
    let bad = run_in(&root(), &["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    let man = run_in(&root(), &["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(
        page.starts_with(".ie") || page.contains(".TH kms-s3-doctor"),
        "{page}"
    );
    assert!(page.contains("test"));
}

/// The `kms-s3-doctor …` invocations of a document: every line from one that
/// runs the tool to the end of its shell continuation.
fn invocations(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(command) = current.as_mut() {
            command.push(' ');
            command.push_str(trimmed.trim_end_matches('\\'));
        } else if let Some(start) = trimmed.find("kms-s3-doctor ") {
            let tail = &trimmed[start..];
            // Prose that names the tool, not a command line.
            if tail.starts_with("kms-s3-doctor test") || tail.starts_with("kms-s3-doctor check") {
                current = Some(tail.trim_end_matches('\\').to_string());
            }
        }
        if current.is_some() && !trimmed.ends_with('\\') {
            found.extend(current.take());
        }
    }
    found
}

/// The `--flags` of a command line.
fn flags(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .map(|word| word.trim_matches(['"', '`', '\'']))
        .filter(|word| word.starts_with("--"))
        .map(|word| word.split('=').next().unwrap_or(word).to_string())
        .collect()
}

#[test]
fn every_flag_in_action_yml_and_the_ci_recipes_exists() {
    let mut checked = 0;
    for document in ["action.yml", "docs/ci.md", "docs/access-tests.md"] {
        let text = std::fs::read_to_string(root().join(document)).unwrap();
        let commands = invocations(&text);
        assert!(
            !commands.is_empty(),
            "{document} runs no kms-s3-doctor command"
        );
        for command in commands {
            let subcommand = if command.starts_with("kms-s3-doctor check") {
                "check"
            } else {
                "test"
            };
            let help = stdout(&run_in(&root(), &[subcommand, "--help"]));
            for flag in flags(&command) {
                let name = flag.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
                assert!(
                    help.contains(&format!("{name} ")) || help.contains(&format!("{name}\n")),
                    "{document}: `{subcommand}` has no flag `{name}` (in `{command}`)"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "only {checked} flags found");
}

#[test]
fn the_flag_check_can_fail() {
    let help = stdout(&run_in(&root(), &["test", "--help"]));
    assert!(!help.contains("--no-such-flag "));
    assert_eq!(
        flags("kms-s3-doctor test x.toml --format=junit \"--profile\""),
        vec!["--format".to_string(), "--profile".to_string()]
    );
    assert_eq!(
        invocations("run: |\n  kms-s3-doctor test a.toml \\\n    --format junit > out.xml\n"),
        vec!["kms-s3-doctor test a.toml  --format junit > out.xml".to_string()]
    );
}

#[test]
fn a_test_name_cannot_put_escape_sequences_on_the_terminal() {
    // TOML's `\u001b` puts a raw ESC into the name; the text and Markdown
    // reports must show it, not send it.
    let file = "bucket = \"account-a-bucket\"\n\n[[test]]\nname = \"evil \\u001b[2J name\"\nprincipal = \"arn:aws:iam::222222222222:user/dilip\"\nobject = \"reports/data.csv\"\nops = [\"get\"]\nexpect = \"allowed\"\n";
    for format in ["text", "markdown"] {
        let output = with_file(file, &["--format", format, "--color", "never"]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(!text.contains('\u{1b}'), "{format}: {text}");
        assert!(text.contains("evil"), "{format}: {text}");
    }
}

/// Bad input to `test --format junit` still writes a JUnit file
/// CI can read: one error test case with the reason, beside the one-line
/// message on stderr and exit 2.
#[test]
fn bad_input_still_writes_a_valid_junit_file_with_one_error() {
    let output = with_file(
        "bucket = \"b\"\n[[test]]\nname = \"x\"\n",
        &["--format", "junit"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).trim_end().lines().count(), 1);
    let xml = stdout(&output);
    assert!(xml.contains(r#"errors="1""#), "{xml}");
    assert!(xml.contains(r#"type="bad-input""#), "{xml}");
    assert!(xml.contains("missing field `expect`"), "{xml}");
    validate_junit(&xml);
}

/// The Markdown report of many unmet expectations stays bounded:
/// the whole table, the first ten expanded, the rest pointed to the JSON.
#[test]
fn the_markdown_report_of_many_unmet_expectations_is_bounded() {
    let mut text = String::from("bucket = \"account-a-bucket\"\n");
    for index in 0..12 {
        text.push_str(&format!(
            "[[test]]\nname = \"dilip {index}\"\nexpect = \"allowed\"\nprincipal = \"arn:aws:iam::222222222222:user/dilip\"\nops = [\"get\"]\n"
        ));
    }
    let output = with_file(&text, &["--format", "markdown"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let markdown = stdout(&output);
    assert_eq!(markdown.matches("<details>").count(), 10, "{markdown}");
    assert_eq!(markdown.matches("| dilip ").count(), 12, "{markdown}");
    assert!(
        markdown.contains("2 more not met, not expanded here")
            && markdown.contains("--format json"),
        "{markdown}"
    );
}
