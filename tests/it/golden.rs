//! Golden reports: every report the binary writes for the fixtures — `check`
//! over every scenario, the walkthrough and its plans, `test` over the
//! access-test file, `explain` over the message forms it reads — in text,
//! JSON and Markdown, with its exit code and standard error, compared byte
//! for byte with the copies under `tests/golden/`.
//!
//! It guards moves inside the crate: a refactor that changes one byte of
//! one report fails here, with the file that changed. A deliberate change
//! of a report is accepted with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test it golden::`), and the diff of the
//! golden files is then reviewed like code.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FORMATS: [&str; 3] = ["text", "json", "markdown"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary in `dir` and returns exit code, stdout and stderr as one
/// text. Colour is off and the working directory fixed, so that file names
/// in positions are the relative names given.
fn run(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let text = format!(
        "$ kms-s3-doctor {}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    scrub_now(&text)
}

/// The request time defaults to the time of the run: a timestamp of today
/// or yesterday (a run across midnight) is written as `[now]`. Fixtures
/// date their own times far from today.
fn scrub_now(text: &str) -> String {
    let today = chrono::Utc::now().date_naive();
    let days = [today, today.pred_opt().unwrap_or(today)];
    let timestamp = regex::Regex::new(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?Z").unwrap();
    timestamp
        .replace_all(text, |found: &regex::Captures<'_>| {
            let recent = days
                .iter()
                .any(|day| day.format("%Y-%m-%d").to_string() == found[1]);
            if recent {
                "[now]".to_string()
            } else {
                found[0].to_string()
            }
        })
        .into_owned()
}

/// Compares `text` with the golden file `name` under `tests/golden/`.
fn golden(name: &str, text: String) {
    insta::with_settings!({
        snapshot_path => root().join("tests/golden"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Every scenario of the corpus, in every format: the snapshot is written
/// as `snapshot.json` in a scratch directory, so positions name that file.
#[test]
fn every_scenario_reports_as_before() {
    let dir = root().join("fixtures/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(files.len() > 200, "the corpus is there");
    for file in files {
        let scenario: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let text = match (&scenario["snapshot"], &scenario["snapshot_text"]) {
            (serde_json::Value::Null, serde_json::Value::String(text)) => text.clone(),
            (snapshot, _) => serde_json::to_string_pretty(snapshot).unwrap(),
        };
        std::fs::write(scratch.path().join("snapshot.json"), text).unwrap();
        let args: Vec<String> = scenario["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arg| arg.as_str().unwrap().to_string())
            .collect();
        let mut out = String::new();
        for format in FORMATS {
            let mut all = vec!["check", "--snapshot", "snapshot.json", "--format", format];
            all.extend(args.iter().map(String::as_str));
            out.push_str(&run(scratch.path(), &all));
        }
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        golden(&format!("scenario-{stem}"), out);
    }
}

/// The walkthrough of the README, alone and under each of its plans.
#[test]
fn the_walkthrough_and_its_plans_report_as_before() {
    let base = [
        "check",
        "--snapshot",
        "fixtures/walkthrough.json",
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--object",
        "reports/data.csv",
    ];
    let variants: [(&str, &[&str]); 5] = [
        ("walkthrough", &[]),
        (
            "walkthrough-all-ops",
            &["--op", "list,head,get,put,multipart,copy"],
        ),
        (
            "walkthrough-plan-remove",
            &["--plan", "fixtures/plans/walkthrough-remove-account-b.json"],
        ),
        (
            "walkthrough-plan-grant",
            &["--plan", "fixtures/plans/walkthrough-grant-account-b.json"],
        ),
        (
            "walkthrough-plan-new-key",
            &["--plan", "fixtures/plans/walkthrough-new-key.json"],
        ),
    ];
    for (name, extra) in variants {
        let mut out = String::new();
        for format in FORMATS {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            args.extend(["--format", format]);
            out.push_str(&run(&root(), &args));
        }
        golden(name, out);
    }
}

/// The access-test file over the walkthrough, in every report format but
/// JUnit (whose writer is a library's).
#[test]
fn the_access_tests_report_as_before() {
    let mut out = String::new();
    for format in FORMATS {
        out.push_str(&run(
            &root(),
            &[
                "test",
                "fixtures/access-tests.toml",
                "--snapshot",
                "fixtures/walkthrough.json",
                "--format",
                format,
            ],
        ));
    }
    golden("access-tests", out);
}

/// `explain` over one message of each form it reads, and one it does not.
#[test]
fn explanations_report_as_before() {
    const USER: &str = "arn:aws:iam::222222222222:user/dilip";
    const SESSION: &str = "arn:aws:sts::222222222222:assumed-role/etl/run-7";
    const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let messages = [
        format!(
            "User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/reports/data.csv\" because no identity-based policy allows the s3:GetObject action"
        ),
        format!(
            "An error occurred (AccessDenied) when calling the ListObjectsV2 operation: User: {SESSION} is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:::account-a-bucket\" with an explicit deny in a resource-based policy"
        ),
        format!(
            "An error occurred (AccessDeniedException) when calling the Decrypt operation: User: {SESSION} is not authorized to perform: kms:Decrypt on resource: {KEY} because no resource-based policy allows the kms:Decrypt action"
        ),
        format!(
            "AccessDeniedException: User: {USER} is not authorized to perform kms:Decrypt on resource {KEY}"
        ),
        format!(
            "User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no service control policy allows the s3:GetObject action"
        ),
        format!(
            "User: {USER} is not authorized to perform: kms:Decrypt on resource: {KEY} with an explicit deny in a resource control policy"
        ),
        format!(
            "User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no permissions boundary allows the s3:GetObject action"
        ),
        format!(
            "User: {SESSION} is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no session policy allows the s3:PutObject action"
        ),
        format!(
            "An error occurred (AccessDenied) when calling the AssumeRole operation: User: {USER} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/reader"
        ),
        "An error occurred (403) when calling the HeadObject operation: Forbidden".to_string(),
        "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>"
            .to_string(),
        "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"
            .to_string(),
        "something else entirely".to_string(),
    ];
    let mut out = String::new();
    for message in &messages {
        for format in FORMATS {
            out.push_str(&run(&root(), &["explain", message, "--format", format]));
        }
    }
    golden("explain", out);
}

/// `explain` over the pastes of `fixtures/messages/` (other tools' stack
/// traces, the S3 console's banner, decoded authorization messages, a
/// CloudTrail record), one golden file per paste.
#[test]
fn pasted_messages_explain_as_before() {
    let dir = root().join("fixtures/messages");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the pastes are there");
    for file in files {
        let message = std::fs::read_to_string(&file).unwrap();
        let mut out = String::new();
        for format in FORMATS {
            out.push_str(&run(&root(), &["explain", &message, "--format", format]));
        }
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        golden(&format!("explain-{stem}"), out);
    }
}

/// `check --event` over every record of `fixtures/events/` against the
/// snapshot its tests use, in text and JSON: the request each record
/// names, where each value came from, and the verdict.
#[test]
fn event_records_report_as_before() {
    let runs: [(&str, &str, &[&str]); 14] = [
        ("record-get-through-endpoint", "vpce-only-bucket", &[]),
        ("trail-file-get-from-internet", "vpce-only-bucket", &[]),
        ("trail-file-several", "vpce-only-bucket", &[]),
        ("kms-decrypt-s3-made", "vpce-only-bucket", &[]),
        ("cross-account-aws-account", "vpce-only-bucket", &[]),
        (
            "cross-account-aws-account",
            "vpce-only-bucket",
            &["--principal", "arn:aws:iam::222222222222:user/dilip"],
        ),
        ("not-s3", "vpce-only-bucket", &[]),
        ("malformed", "vpce-only-bucket", &[]),
        ("identity-root-get", "identity-types", &[]),
        ("identity-assumed-role-get", "identity-types", &[]),
        ("identity-federated-user-get", "identity-types", &[]),
        ("identity-center-get", "identity-types", &[]),
        ("identity-aws-service-put", "identity-types", &[]),
        ("source-ip-get-from-elsewhere", "source-ip", &[]),
    ];
    for (record, snapshot, extra) in runs {
        let mut out = String::new();
        for format in ["text", "json"] {
            let event = format!("fixtures/events/{record}.json");
            let snapshot = format!("fixtures/events/{snapshot}.snapshot.json");
            let mut args = vec![
                "check",
                "--snapshot",
                &snapshot,
                "--event",
                &event,
                "--format",
                format,
            ];
            args.extend_from_slice(extra);
            out.push_str(&run(&root(), &args));
        }
        let suffix = if extra.is_empty() {
            ""
        } else {
            "-with-principal"
        };
        golden(&format!("event-{record}{suffix}"), out);
    }
}
