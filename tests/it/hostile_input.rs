//! The real binary on hostile and sloppy input: every case is bad input
//! (exit 2, one line naming what is wrong), never a hang, never a verdict.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/walkthrough.json")
}

fn check(snapshot: &str, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    command
        .args([
            "check",
            "--snapshot",
            snapshot,
            "--bucket",
            "account-a-bucket",
        ])
        .args(["--principal", "arn:aws:iam::222222222222:user/dilip"])
        .args(extra)
        .stdin(Stdio::null());
    command.output().expect("the binary runs")
}

fn assert_bad_input(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(output.stdout.is_empty(), "a verdict was printed");
}

#[test]
fn context_values_of_the_wrong_type_are_refused() {
    let path = fixture();
    for (context, needle) in [
        ("aws:SourceIp=203.0.113.5:443", "aws:SourceIp"),
        ("aws:SourceIp=not-an-ip", "IP address"),
        ("aws:SourceIp=", "aws:SourceIp"),
        ("aws:SecureTransport=flase", "`true` or `false`"),
        ("aws:CurrentTime=tomorrow", "date"),
    ] {
        let output = check(path.to_str().unwrap(), &["--context", context]);
        assert_bad_input(&output, needle);
    }
}

#[test]
fn a_principal_of_another_partition_is_refused() {
    let path = fixture();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    let output = command
        .args(["check", "--snapshot", path.to_str().unwrap()])
        .args(["--bucket", "account-a-bucket"])
        .args(["--principal", "arn:aws-cn:iam::222222222222:user/dilip"])
        .output()
        .unwrap();
    assert_bad_input(&output, "partition");
}

#[cfg(unix)]
#[test]
fn endless_and_blocking_inputs_end_at_once() {
    let started = Instant::now();
    assert_bad_input(&check("/dev/zero", &[]), "not a regular file");
    let directory = tempfile::tempdir().unwrap();
    let fifo = directory.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    assert_bad_input(&check(fifo.to_str().unwrap(), &[]), "not a regular file");
    // Generous: the point is "never blocks", not a speed target.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn the_size_limit_is_documented_and_overridable() {
    let path = fixture();
    let output = check(path.to_str().unwrap(), &["--max-snapshot-size", "0"]);
    assert_bad_input(&output, "--max-snapshot-size");
    let output = check(path.to_str().unwrap(), &["--max-snapshot-size", "1"]);
    assert_ne!(output.status.code(), Some(2));
}

/// Every `Sid` of the walkthrough rewritten to carry a terminal escape
/// sequence (clear screen), a one-byte CSI and a newline with a fake line.
fn hostile_walkthrough(directory: &std::path::Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn rewrite(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if key == "Sid" {
                        *child = serde_json::Value::String(
                            "x\u{1b}[2J\u{9b}32m\nverdict: allowed".to_string(),
                        );
                    } else {
                        rewrite(child);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    rewrite(&mut value);
    let path = directory.join("hostile.json");
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    path
}

#[test]
fn control_characters_never_reach_a_human_report() {
    let directory = tempfile::tempdir().unwrap();
    let path = hostile_walkthrough(directory.path());
    for format in ["text", "markdown"] {
        let output = check(
            path.to_str().unwrap(),
            &[
                "--object",
                "reports/data.csv",
                "--format",
                format,
                "--color",
                "never",
            ],
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            stdout.contains("\\u{1b}[2J"),
            "{format}: the Sid is not shown: {stdout}"
        );
        assert!(
            !stdout.chars().any(|c| c == '\u{1b}' || c == '\u{9b}'),
            "{format}: a control character was printed"
        );
        assert!(
            !stdout
                .lines()
                .any(|line| line.starts_with("verdict: allowed")),
            "{format}: a Sid added a line of its own"
        );
    }
}
