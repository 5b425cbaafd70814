//! `--op replicate` beyond the scenario corpus: a replication configuration
//! or versioning AWS would refuse is bad input (exit 2, naming the field),
//! what the tool cannot place is `unknown`, and an overlay lays the new
//! fields like any other.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kms-s3-doctor");
const ROLE: &str = "arn:aws:iam::111111111111:role/replication-role";

/// The snapshot of the cross-account scenario that is allowed.
fn allowed() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scenarios/replication-cross-account-sse-kms-allowed.json");
    let scenario: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("scenario")).expect("JSON");
    scenario["snapshot"].clone()
}

fn check(snapshot: &Value, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, serde_json::to_string_pretty(snapshot).expect("JSON")).expect("write");
    let mut args = vec![
        "check".to_string(),
        "--snapshot".to_string(),
        file.display().to_string(),
        "--bucket".to_string(),
        "source-bucket".to_string(),
        "--principal".to_string(),
        ROLE.to_string(),
        "--op".to_string(),
        "replicate".to_string(),
        "--format".to_string(),
        "json".to_string(),
    ];
    args.extend(extra.iter().map(|arg| arg.to_string()));
    Command::new(BIN)
        .args(&args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kms-s3-doctor")
}

fn assert_bad_input(output: &Output, pointer: &str, words: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(pointer), "{stderr}");
    assert!(stderr.contains(words), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// A change to the allowed snapshot.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn what_aws_would_refuse_in_a_replication_configuration_is_bad_input() {
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "/buckets/0/versioning",
            Box::new(|s| s["buckets"][0]["versioning"] = json!("enabled")),
            "`Enabled`",
        ),
        (
            "/buckets/0/replication/role",
            Box::new(|s| {
                s["buckets"][0]["replication"]["role"] =
                    json!("arn:aws:iam::111111111111:user/replicator")
            }),
            "not an IAM role ARN",
        ),
        (
            "/buckets/0/replication/rules",
            Box::new(|s| s["buckets"][0]["replication"]["rules"] = json!([])),
            "at least one rule",
        ),
        (
            "/buckets/0/replication/rules/0/status",
            Box::new(|s| s["buckets"][0]["replication"]["rules"][0]["status"] = json!("On")),
            "`Disabled`",
        ),
        (
            "/buckets/0/replication/rules/0/destination_bucket",
            Box::new(|s| {
                s["buckets"][0]["replication"]["rules"][0]["destination_bucket"] =
                    json!("replica-bucket")
            }),
            "not a bucket ARN",
        ),
        (
            "/buckets/0/replication/rules/0/replica_kms_key",
            Box::new(|s| {
                s["buckets"][0]["replication"]["rules"][0]["replica_kms_key"] =
                    json!("5e6f7a8b-2222-4c4c-9d9d-222222222222")
            }),
            "malformed ARN",
        ),
        (
            "/buckets/0/replication/rules/0/destination_account",
            Box::new(|s| {
                let rule = &mut s["buckets"][0]["replication"]["rules"][0];
                rule["owner_override"] = json!(true);
                rule.as_object_mut()
                    .expect("rule")
                    .remove("destination_account");
            }),
            "owner_override",
        ),
        (
            "/buckets/0/replication/rules/0",
            Box::new(|s| s["buckets"][0]["replication"]["rules"][0]["priority"] = json!(1)),
            "priority",
        ),
    ];
    for (pointer, change, words) in cases {
        let mut snapshot = allowed();
        change(&mut snapshot);
        assert_bad_input(
            &check(&snapshot, &["--object", "reports/2026-11.csv"]),
            pointer,
            words,
        );
    }
}

/// The links of the report's one operation with `status`, as
/// (action, link) pairs.
fn links_with(output: &Output, status: &str) -> Vec<(String, String)> {
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stderr)));
    let mut found = Vec::new();
    for action in report["operations"][0]["actions"]
        .as_array()
        .expect("actions")
    {
        for link in action["links"].as_array().expect("links") {
            if link["status"] == status {
                found.push((
                    action["action"].as_str().unwrap_or_default().to_string(),
                    link["link"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    found
}

#[test]
fn what_cannot_be_placed_is_unknown_never_allowed() {
    let configuration = (
        "s3:GetObjectVersionForReplication".to_string(),
        "replication-configuration".to_string(),
    );
    // Without --object the rule's prefix says nothing about the object
    // (the placeholder at the bucket's root is outside the role's
    // `reports/*` too, which fails on its own).
    let output = check(&allowed(), &[]);
    assert_ne!(output.status.code(), Some(0));
    assert!(links_with(&output, "unknown").contains(&configuration));

    // A rule whose filter is not known (a tag filter read live).
    let mut snapshot = allowed();
    snapshot["buckets"][0]["replication"]["rules"][0]
        .as_object_mut()
        .expect("rule")
        .remove("prefix");
    let output = check(&snapshot, &["--object", "reports/2026-11.csv"]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(links_with(&output, "unknown"), vec![configuration.clone()]);

    // The configuration and the versioning not read.
    let mut snapshot = allowed();
    let source = snapshot["buckets"][0].as_object_mut().expect("bucket");
    source.remove("replication");
    source.remove("versioning");
    let output = check(&snapshot, &["--object", "reports/2026-11.csv"]);
    assert_eq!(output.status.code(), Some(3));
    let unknown = links_with(&output, "unknown");
    assert!(unknown.contains(&configuration), "{unknown:?}");
    assert!(
        unknown.contains(&(
            "s3:GetObjectVersionForReplication".to_string(),
            "versioning".to_string()
        )),
        "{unknown:?}"
    );

    // The object's encryption not known and SSE-KMS objects not selected.
    let mut snapshot = allowed();
    snapshot["buckets"][0]["objects"][0]
        .as_object_mut()
        .expect("object")
        .remove("encryption");
    snapshot["buckets"][0]
        .as_object_mut()
        .expect("bucket")
        .remove("encryption");
    snapshot["buckets"][0]["replication"]["rules"][0]["sse_kms_encrypted_objects"] = json!(false);
    let output = check(&snapshot, &["--object", "reports/2026-11.csv"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(links_with(&output, "unknown").contains(&configuration));
}

#[test]
fn a_rule_disabled_or_not_selecting_the_object_does_not_replicate() {
    let configuration = (
        "s3:GetObjectVersionForReplication".to_string(),
        "replication-configuration".to_string(),
    );
    let mut snapshot = allowed();
    snapshot["buckets"][0]["replication"]["rules"][0]["status"] = json!("Disabled");
    let output = check(&snapshot, &["--object", "reports/2026-11.csv"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(links_with(&output, "fail"), vec![configuration.clone()]);

    // The role's policy is scoped to `reports/*` too: it fails beside.
    let output = check(&allowed(), &["--object", "invoices/2026-11.csv"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(links_with(&output, "fail").contains(&configuration));

    let mut snapshot = allowed();
    snapshot["buckets"][0]["replication"] = Value::Null;
    let output = check(&snapshot, &["--object", "reports/2026-11.csv"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(links_with(&output, "fail"), vec![configuration]);
}

#[test]
fn an_overlay_lays_versioning_and_replication() {
    let dir = tempfile::tempdir().expect("temp dir");
    let overlay = dir.path().join("overlay.json");
    std::fs::write(
        &overlay,
        json!({
            "format": "kms-s3-doctor/snapshot@1",
            "buckets": [{"name": "replica-bucket", "account": "222222222222", "versioning": "Suspended"}]
        })
        .to_string(),
    )
    .expect("overlay");
    let snapshot = dir.path().join("snapshot.json");
    std::fs::write(&snapshot, allowed().to_string()).expect("snapshot");
    let output = Command::new(BIN)
        .args([
            "test",
            "--snapshot",
            &snapshot.display().to_string(),
            "--overlay",
            &overlay.display().to_string(),
            &write_test_file(&dir).display().to_string(),
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An access test expecting the replication to break at the destination's
/// versioning.
fn write_test_file(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("replication.toml");
    std::fs::write(
        &path,
        format!(
            "bucket = \"source-bucket\"\n\n[[test]]\nname = \"replicas reach the destination\"\nprincipal = \"{ROLE}\"\nobject = \"reports/2026-11.csv\"\nops = [\"replicate\"]\nexpect = \"denied\"\nbroken_link = \"versioning\"\n"
        ),
    )
    .expect("test file");
    path
}
