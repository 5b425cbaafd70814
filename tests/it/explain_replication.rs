//! `explain` on a replication failure, end to end: S3's failure event piped
//! into `explain -` names a link, and the `check --op replicate` it suggests
//! (with the role filled in) fails at that same link on the scenario whose
//! snapshot has that fault.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kms-s3-doctor");

fn scenario(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scenarios")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("scenario")).expect("JSON")
}

fn explain_stdin(input: &str) -> Value {
    let mut child = Command::new(BIN)
        .args(["explain", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("output");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("explain JSON")
}

/// The record S3 sends (S3 User Guide, "Receiving replication failure
/// events with Amazon S3 Event Notifications"), for the scenarios' source
/// object, delivered through Amazon SNS.
fn failure_event(reason: &str) -> String {
    let event = json!({"Records": [{
        "eventVersion": "2.2",
        "eventSource": "aws:s3",
        "awsRegion": "eu-west-1",
        "eventTime": "2026-11-30T09:12:44.120Z",
        "eventName": "Replication:OperationFailedReplication",
        "userIdentity": {"principalId": "s3.amazonaws.com"},
        "requestParameters": {"sourceIPAddress": "s3.amazonaws.com"},
        "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "H"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "replication-failures",
            "bucket": {
                "name": "source-bucket",
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": "arn:aws:s3:::source-bucket"
            },
            "object": {"key": "reports/2026-11.csv", "size": 1024, "eTag": "e", "versionId": "v", "sequencer": "00"}
        },
        "replicationEventData": {
            "replicationRuleId": "to-replica",
            "destinationBucket": "arn:aws:s3:::replica-bucket",
            "s3Operation": "OBJECT_PUT",
            "requestTime": "2026-11-30T09:12:40.000Z",
            "failureReason": reason
        }
    }]});
    json!({"Type": "Notification", "Subject": "Amazon S3 Notification", "Message": event.to_string()})
        .to_string()
}

/// Runs the suggested command (its words split as a POSIX shell would)
/// with the role and the scenario's snapshot, and returns the links that
/// fail.
fn failing_links(command: &str, role: &str, snapshot: &Value) -> Vec<String> {
    let words = shlex::split(&command.replace("ROLE_ARN", role)).expect("shell words");
    assert_eq!(&words[..2], ["kms-s3-doctor", "check"], "{command}");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, snapshot.to_string()).expect("write");
    let output: Output = Command::new(BIN)
        .args(&words[1..])
        .args([
            "--snapshot",
            &file.display().to_string(),
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("run check");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "no report for {command}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut links = Vec::new();
    for operation in report["operations"].as_array().expect("operations") {
        for action in operation["actions"].as_array().expect("actions") {
            for link in action["links"].as_array().expect("links") {
                if link["status"] == "fail" {
                    links.push(link["link"].as_str().expect("link name").to_string());
                }
            }
        }
    }
    links
}

#[test]
fn the_check_explain_suggests_fails_at_the_link_the_failure_reason_names() {
    // S3 User Guide, "Amazon S3 replication failure reasons":
    // DstBucketUnversioned is the destination's versioning;
    // AssumeRoleNotPermitted is S3 unable to assume the configuration's
    // role, judged with the configuration.
    for (reason, name, link) in [
        (
            "DstBucketUnversioned",
            "replication-destination-versioning-suspended",
            "versioning",
        ),
        (
            "AssumeRoleNotPermitted",
            "replication-role-does-not-trust-s3",
            "replication-configuration",
        ),
    ] {
        let explained = explain_stdin(&failure_event(reason));
        assert_eq!(explained["kind"], "replication-failure-event");
        assert_eq!(explained["error_code"], reason);
        assert_eq!(explained["link"], link, "{reason}");
        let command = explained["command"].as_str().expect("a command");
        assert!(
            command.contains("--bucket source-bucket --object reports/2026-11.csv"),
            "{command}"
        );
        let scenario = scenario(name);
        let args = scenario["args"].as_array().expect("args");
        let role = args
            .iter()
            .position(|arg| arg == "--principal")
            .and_then(|at| args[at + 1].as_str())
            .expect("the scenario's role");
        let failing = failing_links(command, role, &scenario["snapshot"]);
        assert!(
            failing.iter().any(|failed| failed == link),
            "{reason}: explain names {link}, the check fails at {failing:?}"
        );
    }
}

#[test]
fn a_failed_status_from_head_object_is_explained_from_standard_input() {
    let pasted = "$ aws s3api head-object --bucket source-bucket --key reports/2026-11.csv\n{\n    \"ContentLength\": 1024,\n    \"ServerSideEncryption\": \"aws:kms\",\n    \"ReplicationStatus\": \"FAILED\"\n}\n";
    let explained = explain_stdin(pasted);
    assert_eq!(explained["kind"], "replication-failed");
    assert_eq!(explained["link"], Value::Null);
    assert_eq!(explained["suspects"][0], "replication-configuration");
    assert_eq!(
        explained["command"],
        "kms-s3-doctor check --bucket source-bucket --object reports/2026-11.csv --principal ROLE_ARN --op replicate"
    );
}
