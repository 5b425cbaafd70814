//! `--assume` and `--session-policy` offline, through the real binary: an
//! assumption passes only a link whose document was not read, says so in
//! every format, never overrides a document that was read, and bad values
//! are bad input. Session policies that were not read are an unknown link,
//! never silently none.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn scenario(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scenarios")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

/// Writes the scenario's snapshot (changed by `edit`) and returns its path
/// and the scenario's arguments.
fn snapshot_of(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> (PathBuf, Vec<String>) {
    let mut scenario = scenario(name);
    let mut snapshot = scenario["snapshot"].take();
    edit(&mut snapshot);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, snapshot.to_string()).expect("write snapshot");
    let args = scenario["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|arg| arg.as_str().expect("arg").to_string())
        .collect();
    (path, args)
}

fn check(snapshot: &Path, args: &[String], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .arg("check")
        .arg("--snapshot")
        .arg(snapshot)
        .args(args)
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kms-s3-doctor")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Every `(action, link, status, assumed)` of the report.
fn links(report: &Value) -> Vec<(String, String, String, bool)> {
    let mut out = Vec::new();
    for operation in report["operations"].as_array().unwrap() {
        for action in operation["actions"].as_array().unwrap() {
            for link in action["links"].as_array().unwrap() {
                out.push((
                    action["action"].as_str().unwrap().to_string(),
                    link["link"].as_str().unwrap().to_string(),
                    link["status"].as_str().unwrap().to_string(),
                    link["assumed"].is_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn unread_scps_pass_only_when_assumed_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let (path, args) = snapshot_of(dir.path(), "scp-unreadable", |_| {});
    let without = check(&path, &args, &["--format", "json"]);
    assert_eq!(without.status.code(), Some(3));

    let with = check(&path, &args, &["--format", "json", "--assume", "scp=allow"]);
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let report = json(&with);
    let scp: Vec<_> = links(&report)
        .into_iter()
        .filter(|(_, link, _, _)| link == "scp")
        .collect();
    assert!(!scp.is_empty());
    assert!(
        scp.iter()
            .all(|(_, _, status, assumed)| status == "pass" && *assumed),
        "{scp:?}"
    );
    assert_eq!(report["assumptions"][0]["assume"], "scp=allow");
    assert_eq!(report["assumptions"][0]["used"], true);

    let text = check(&path, &args, &["--assume", "scp=allow"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("SCPs ≈"), "{text}");
    assert!(
        text.contains("verdict: allowed, assuming the SCPs of account 222222222222 allow"),
        "{text}"
    );
    let markdown = check(
        &path,
        &args,
        &["--assume", "scp=allow", "--format", "markdown"],
    );
    let markdown = String::from_utf8_lossy(&markdown.stdout);
    assert!(markdown.contains("| scp | ≈ assumed |"), "{markdown}");
}

#[test]
fn an_assumption_never_overrides_a_policy_that_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let (path, args) = snapshot_of(dir.path(), "r2-scp-deny-kms-applies-to-s3-kms-call", |_| {});
    let output = check(
        &path,
        &args,
        &["--format", "json", "--assume", "scp=allow,rcp=allow"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert!(
        links(&report).contains(&(
            "kms:Decrypt".to_string(),
            "scp".to_string(),
            "fail".to_string(),
            false
        )),
        "{report}"
    );
    for assumption in report["assumptions"].as_array().unwrap() {
        assert_eq!(assumption["used"], false, "{assumption}");
    }
}

#[test]
fn unread_session_policies_are_unknown_until_assumed_or_given() {
    let dir = tempfile::tempdir().unwrap();
    let name = "r2-principal-session-arn-named-session-policy-lacks-s3";
    let (path, args) = snapshot_of(dir.path(), name, |snapshot| {
        let principal = &mut snapshot["principals"][0];
        let principal = principal.as_object_mut().unwrap();
        principal.remove("session_policies");
        principal.insert(
            "session_policies_error".to_string(),
            Value::String("session policies passed to AssumeRole cannot be read from AWS".into()),
        );
    });
    let unknown = check(&path, &args, &["--format", "json"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(
        links(&json(&unknown))
            .iter()
            .any(|(_, link, status, _)| link == "session-policy" && status == "unknown")
    );

    let assumed = check(
        &path,
        &args,
        &["--format", "json", "--assume", "session-policy=none"],
    );
    assert_eq!(assumed.status.code(), Some(0));
    let report = json(&assumed);
    assert!(
        links(&report)
            .iter()
            .any(|(_, link, status, assumed)| link == "session-policy"
                && status == "pass"
                && *assumed)
    );

    // The real session policy denies what the bucket policy grants.
    let policy = dir.path().join("session.json");
    std::fs::write(
        &policy,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}"#,
    )
    .unwrap();
    let given = check(
        &path,
        &args,
        &[
            "--format",
            "json",
            "--session-policy",
            policy.to_str().unwrap(),
            "--assume",
            "session-policy=none",
        ],
    );
    assert_eq!(given.status.code(), Some(1));
    let report = json(&given);
    assert!(
        links(&report)
            .iter()
            .any(|(_, link, status, _)| link == "session-policy" && status == "fail")
    );
    assert_eq!(report["assumptions"][0]["used"], false);
}

#[test]
fn bad_assumptions_and_session_policies_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (path, args) = snapshot_of(dir.path(), "scp-unreadable", |_| {});
    for bad in ["scp=deny", "key-policy=allow", "scp"] {
        let output = check(&path, &args, &["--assume", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--assume"), "{stderr}");
    }

    // A user has no session policies.
    let policy = dir.path().join("session.json");
    std::fs::write(&policy, r#"{"Version": "2012-10-17", "Statement": []}"#).unwrap();
    let output = check(
        &path,
        &args,
        &["--session-policy", policy.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not a role or federated-user session")
    );

    // A session policy AWS would refuse, with its position.
    std::fs::write(
        &policy,
        "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Maybe\"}]}",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(["check", "--snapshot"])
        .arg(&path)
        .args([
            "--bucket",
            "account-a-bucket",
            "--principal",
            "arn:aws:sts::222222222222:assumed-role/etl/s1",
            "--session-policy",
        ])
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--session-policy") && stderr.contains("line 2"),
        "{stderr}"
    );

    // An assumption a snapshot records must be one the tool knows.
    let (path, args) = snapshot_of(dir.path(), "scp-unreadable", |snapshot| {
        snapshot["assumptions"] = serde_json::json!(["scp=deny"]);
    });
    let output = check(&path, &args, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/assumptions/0"));
}

#[test]
fn a_snapshot_that_records_an_assumption_replays_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, args) = snapshot_of(dir.path(), "scp-unreadable", |snapshot| {
        snapshot["assumptions"] = serde_json::json!(["scp=allow"]);
    });
    let replay = check(&path, &args, &["--format", "json"]);
    assert_eq!(replay.status.code(), Some(0));
    let given = snapshot_of(dir.path(), "scp-unreadable", |_| {}).0;
    let flagged = check(
        &given,
        &args,
        &["--format", "json", "--assume", "scp=allow"],
    );
    assert_eq!(json(&replay), json(&flagged));
}
