//! Acceptance corpus: runs the real binary over every `fixtures/scenarios/*.json`
//! and reports every mismatch (exit code, verdicts, failing and unknown links)
//! across all scenarios at once.
//!
//! The report types below are this test's own reading of docs/report-format.md; they do
//! not come from the crate, so a drift in the crate's JSON shows up here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// How long one run of the binary may take before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(60);

/// An (operation, action, link) triple.
type Triple = (String, String, String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    source: serde_json::Value,
    args: Vec<String>,
    expect: Expect,
    #[serde(default)]
    snapshot: Option<serde_json::Value>,
    #[serde(default)]
    snapshot_text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    exit_code: i32,
    #[serde(default)]
    verdict: Option<String>,
    #[serde(default)]
    operations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    failing: Option<Vec<Triple>>,
    #[serde(default)]
    unknown: Option<Vec<Triple>>,
}

/// The report format, only the fields this test compares.
#[derive(Debug, Deserialize)]
struct Report {
    format: String,
    verdict: String,
    operations: Vec<ReportOperation>,
}

#[derive(Debug, Deserialize)]
struct ReportOperation {
    operation: String,
    verdict: String,
    actions: Vec<ReportAction>,
}

#[derive(Debug, Deserialize)]
struct ReportAction {
    action: String,
    verdict: String,
    links: Vec<ReportLink>,
}

#[derive(Debug, Deserialize)]
struct ReportLink {
    link: String,
    status: String,
}

struct RunOutput {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios")
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = scenario_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read corpus directory {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

fn run_binary(args: &[String]) -> Result<RunOutput, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the binary: {e}"))?;
    // Drain both pipes on their own threads so a large report cannot block
    // the child while we wait for it.
    let mut stdout_pipe = child.stdout.take().expect("piped stdout");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let stdout_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut buf);
        buf
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the binary did not finish within {TIMEOUT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("cannot wait for the binary: {e}")),
        }
    };
    let stdout =
        String::from_utf8_lossy(&stdout_reader.join().expect("stdout reader")).into_owned();
    let stderr =
        String::from_utf8_lossy(&stderr_reader.join().expect("stderr reader")).into_owned();
    Ok(RunOutput {
        code: status.code(),
        stdout,
        stderr,
    })
}

fn to_set(triples: &[Triple]) -> BTreeSet<Triple> {
    triples.iter().cloned().collect()
}

fn show(triple: &Triple) -> String {
    format!("({}, {}, {})", triple.0, triple.1, triple.2)
}

fn rank(verdict: &str) -> u8 {
    match verdict {
        "denied" => 2,
        "inconclusive" => 1,
        _ => 0,
    }
}

fn verdict_of(failing: bool, unknown: bool) -> &'static str {
    if failing {
        "denied"
    } else if unknown {
        "inconclusive"
    } else {
        "allowed"
    }
}

/// Checks that a scenario's own expectations agree with the verdict rules
/// and exit codes of docs/guide.md, so a typo in a fixture is not blamed on the judge.
fn lint_scenario(scenario: &Scenario, problems: &mut Vec<String>) {
    if scenario.description.trim().is_empty() {
        problems.push("fixture: empty description".to_owned());
    }
    if scenario.source.is_null() {
        problems.push("fixture: no source".to_owned());
    }
    match (&scenario.snapshot, &scenario.snapshot_text) {
        (Some(_), Some(_)) => {
            problems.push("fixture: both snapshot and snapshot_text given".to_owned());
        }
        (None, None) => problems.push("fixture: neither snapshot nor snapshot_text".to_owned()),
        _ => {}
    }
    let expect = &scenario.expect;
    if expect.exit_code == 2 || expect.exit_code == 4 {
        return;
    }
    let (Some(verdict), Some(operations), Some(failing), Some(unknown)) = (
        &expect.verdict,
        &expect.operations,
        &expect.failing,
        &expect.unknown,
    ) else {
        problems.push(
            "fixture: exit code 0/1/3 needs verdict, operations, failing and unknown".to_owned(),
        );
        return;
    };
    for triple in failing.iter().chain(unknown) {
        if !operations.contains_key(&triple.0) {
            problems.push(format!(
                "fixture: {} names an operation missing from `operations`",
                show(triple)
            ));
        }
    }
    let mut worst = "allowed";
    for (op, op_verdict) in operations {
        let op_failing = failing.iter().any(|t| &t.0 == op);
        let op_unknown = unknown.iter().any(|t| &t.0 == op);
        let derived = verdict_of(op_failing, op_unknown);
        if derived != op_verdict {
            problems.push(format!(
                "fixture: operation `{op}` expected `{op_verdict}` but its triples make it `{derived}`"
            ));
        }
        if rank(op_verdict) > rank(worst) {
            worst = op_verdict;
        }
    }
    if worst != verdict {
        problems.push(format!(
            "fixture: verdict `{verdict}` but the worst operation is `{worst}`"
        ));
    }
    if !scenario.args.iter().any(|a| a == "--expect") {
        let code = match verdict.as_str() {
            "allowed" => 0,
            "denied" => 1,
            _ => 3,
        };
        if code != expect.exit_code {
            problems.push(format!(
                "fixture: verdict `{verdict}` implies exit code {code}, not {}",
                expect.exit_code
            ));
        }
    }
}

fn compare_triples(
    kind: &str,
    expected: &[Triple],
    actual: &BTreeSet<Triple>,
    out: &mut Vec<String>,
) {
    let expected = to_set(expected);
    for missing in expected.difference(actual) {
        out.push(format!(
            "{kind}: expected {} but it is not {kind}",
            show(missing)
        ));
    }
    for extra in actual.difference(&expected) {
        out.push(format!("{kind}: got {} which is not expected", show(extra)));
    }
}

fn check_scenario(path: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return vec![format!("fixture: cannot read: {e}")],
    };
    let scenario: Scenario = match serde_json::from_str(&text) {
        Ok(s) => s,
        Err(e) => return vec![format!("fixture: not a scenario: {e}")],
    };
    lint_scenario(&scenario, &mut problems);

    let dir = tempfile::tempdir().expect("temporary directory");
    let snapshot_path = dir.path().join("snapshot.json");
    let snapshot_text = match (&scenario.snapshot, &scenario.snapshot_text) {
        (_, Some(raw)) => raw.clone(),
        (Some(doc), None) => serde_json::to_string_pretty(doc).expect("serialise snapshot"),
        (None, None) => return problems,
    };
    std::fs::write(&snapshot_path, snapshot_text).expect("write snapshot");

    let mut args: Vec<String> = vec![
        "check".into(),
        "--snapshot".into(),
        snapshot_path.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(scenario.args.iter().cloned());

    let output = match run_binary(&args) {
        Ok(output) => output,
        Err(e) => {
            problems.push(e);
            return problems;
        }
    };
    let expect = &scenario.expect;
    let stderr_hint = || {
        let line = output.stderr.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            String::new()
        } else {
            format!(" (stderr: {line})")
        }
    };
    if output.code != Some(expect.exit_code) {
        problems.push(format!(
            "exit code: expected {}, got {}{}",
            expect.exit_code,
            output
                .code
                .map_or_else(|| "none (killed by a signal)".to_owned(), |c| c.to_string()),
            stderr_hint()
        ));
    }
    if expect.exit_code == 2 {
        if output.stderr.trim().is_empty() {
            problems.push("exit code 2 without a cause on stderr".to_owned());
        }
        return problems;
    }
    let Some(expected_verdict) = &expect.verdict else {
        return problems;
    };

    let report: Report = match serde_json::from_str(&output.stdout) {
        Ok(report) => report,
        Err(e) => {
            let head: String = output.stdout.chars().take(200).collect();
            problems.push(format!(
                "report: stdout is not a JSON report ({e}); stdout starts {head:?}{}",
                stderr_hint()
            ));
            return problems;
        }
    };
    if report.format != "kms-s3-doctor/report@1" {
        problems.push(format!("report: format is {:?}", report.format));
    }
    if &report.verdict != expected_verdict {
        problems.push(format!(
            "verdict: expected {expected_verdict}, got {}",
            report.verdict
        ));
    }

    let mut actual_ops = BTreeMap::new();
    let mut failing = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    for op in &report.operations {
        if actual_ops
            .insert(op.operation.clone(), op.verdict.clone())
            .is_some()
        {
            problems.push(format!("report: operation `{}` listed twice", op.operation));
        }
        for action in &op.actions {
            let mut worst = "allowed";
            for link in &action.links {
                let triple = (
                    op.operation.clone(),
                    action.action.clone(),
                    link.link.clone(),
                );
                match link.status.as_str() {
                    "fail" => {
                        failing.insert(triple);
                        worst = "denied";
                    }
                    "unknown" => {
                        unknown.insert(triple);
                        if worst == "allowed" {
                            worst = "inconclusive";
                        }
                    }
                    "pass" => {}
                    other => {
                        problems.push(format!("report: {} has status {other:?}", show(&triple)))
                    }
                }
            }
            if action.verdict != worst {
                problems.push(format!(
                    "report: action {} of `{}` says {} but its links make it {worst}",
                    action.action, op.operation, action.verdict
                ));
            }
        }
    }
    if let Some(expected_ops) = &expect.operations {
        for (op, verdict) in expected_ops {
            match actual_ops.get(op) {
                None => problems.push(format!("operation `{op}`: expected {verdict}, missing")),
                Some(actual) if actual != verdict => problems.push(format!(
                    "operation `{op}`: expected {verdict}, got {actual}"
                )),
                Some(_) => {}
            }
        }
        for op in actual_ops.keys() {
            if !expected_ops.contains_key(op) {
                problems.push(format!("operation `{op}`: reported but not expected"));
            }
        }
    }
    if let Some(expected) = &expect.failing {
        compare_triples("failing", expected, &failing, &mut problems);
    }
    if let Some(expected) = &expect.unknown {
        compare_triples("unknown", expected, &unknown, &mut problems);
    }
    problems
}

#[test]
fn every_scenario_matches_its_expectation() {
    let files = scenario_files();
    assert!(
        !files.is_empty(),
        "no scenarios found in {}",
        scenario_dir().display()
    );
    let mut report = String::new();
    let mut broken = 0usize;
    for path in &files {
        let problems = check_scenario(path);
        if problems.is_empty() {
            continue;
        }
        broken += 1;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let _ = writeln!(report, "\n{name}:");
        for problem in problems {
            let _ = writeln!(report, "  - {problem}");
        }
    }
    assert!(
        broken == 0,
        "{broken} of {} scenarios do not match:\n{report}",
        files.len()
    );
}
