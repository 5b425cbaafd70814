//! `event = "PATH"` in access-test files: a test whose request is a
//! CloudTrail record (read relative to the test file), judged as `check
//! --event` judges it, with the test's own fields over the record's. The
//! records and the VPC-endpoint-only bucket are those of `tests/it/events.rs`
//! (S3 User Guide, "Controlling access from VPC endpoints with bucket
//! policies": a request not through vpce-1a2b3c4d is denied by the bucket
//! policy).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/events")
            .join(name),
    )
    .expect("the fixture")
}

/// A folder with `tests/access.toml` (holding `toml`) and its records under
/// `tests/records/`, and the snapshot beside it.
fn project(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let records = dir.path().join("tests/records");
    std::fs::create_dir_all(&records).expect("folders");
    for name in [
        "record-get-through-endpoint.json",
        "trail-file-get-from-internet.json",
        "trail-file-several.json",
        "cross-account-aws-account.json",
    ] {
        std::fs::write(records.join(name), fixture(name)).expect("written");
    }
    std::fs::write(
        dir.path().join("snapshot.json"),
        fixture("vpce-only-bucket.snapshot.json"),
    )
    .expect("written");
    std::fs::write(dir.path().join("tests/access.toml"), toml).expect("written");
    dir
}

fn run(dir: &Path, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "test",
            "tests/access.toml",
            "--snapshot",
            "snapshot.json",
            "--format",
            format,
        ])
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn records_are_the_requests_of_their_tests() {
    let dir = project(
        r#"
[[test]]
name = "ann reads through the endpoint"
event = "records/record-get-through-endpoint.json"
expect = "allowed"

[[test]]
name = "ann's read from the internet"
event = "records/trail-file-get-from-internet.json"
expect = "denied"
broken_link = "bucket-policy"

[[test]]
name = "the same read, given through the endpoint"
event = "records/trail-file-get-from-internet.json"
context = ["aws:SourceVpce=vpce-1a2b3c4d"]
expect = "allowed"

[[test]]
name = "dilip's cross-account put"
event = "records/cross-account-aws-account.json"
principal = "arn:aws:iam::222222222222:user/dilip"
expect = "allowed"
"#,
    );
    let output = run(dir.path(), "json");
    let report = json(&output);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    let tests = report["tests"].as_array().cloned().unwrap_or_default();
    assert_eq!(tests.len(), 4);
    assert!(
        tests.iter().all(|test| test["outcome"] == "met"),
        "{report:#}"
    );
    // The record's operation (put) and principal (given) were used.
    assert_eq!(
        tests[3]["report"]["operations"][0]["operation"], "put",
        "{report:#}"
    );
}

#[test]
fn a_file_of_several_requests_gives_one_expectation_each() {
    let dir = project(
        r#"
[[test]]
name = "ann's morning"
event = "records/trail-file-several.json"
expect = "allowed"
"#,
    );
    let output = run(dir.path(), "json");
    let report = json(&output);
    // The GetObject through the endpoint is allowed; the PutObject from the
    // internet is not: the file's expectation is unmet for that one.
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    let names: Vec<&str> = report["tests"]
        .as_array()
        .map(|tests| {
            tests
                .iter()
                .filter_map(|test| test["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["ann's morning #1", "ann's morning #2"]);
    assert_eq!(report["tests"][0]["outcome"], "met");
    assert_eq!(report["tests"][1]["outcome"], "unmet");
}

#[test]
fn a_bad_record_is_bad_input_at_the_test_s_line() {
    for (event, needle) in [
        ("records/missing.json", "cannot read"),
        ("records/cross-account-aws-account.json", "give `principal`"),
    ] {
        let dir = project(&format!(
            "bucket = \"account-a-bucket\"\n\n[[test]]\nname = \"the entry\"\nevent = \"{event}\"\nexpect = \"allowed\"\n"
        ));
        let output = run(dir.path(), "text");
        assert_eq!(output.status.code(), Some(2), "{event}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("tests/access.toml")
                && stderr.contains("line 5")
                && stderr.contains("the entry")
                && stderr.contains(needle),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}
