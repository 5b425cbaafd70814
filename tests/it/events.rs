//! `check --event`: the real binary over the CloudTrail records of
//! `fixtures/events/`, judged against the S3 User Guide's VPC-endpoint-only
//! bucket policy ("Controlling access from VPC endpoints with bucket
//! policies": every request not through vpce-1a2b3c4d is denied). The
//! records take the shapes of the CloudTrail User Guide ("CloudTrail record
//! contents", "CloudTrail userIdentity element"), the S3 User Guide
//! ("Logging Amazon S3 API calls using AWS CloudTrail") and the KMS
//! Developer Guide ("Decrypt" CloudTrail entries); the envelopes those of
//! EventBridge ("AWS API Call via CloudTrail") and `aws cloudtrail
//! lookup-events`.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const SNAPSHOT: &str = "fixtures/events/vpce-only-bucket.snapshot.json";

fn check(event: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "check",
            "--snapshot",
            SNAPSHOT,
            "--format",
            "json",
            "--event",
        ])
        .arg(format!("fixtures/events/{event}"))
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not a JSON report ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn context_through_endpoint() -> Value {
    json!({
        "aws:CurrentTime": "2026-11-22T10:15:00Z",
        "aws:RequestedRegion": "eu-west-1",
        "aws:SecureTransport": "true",
        "aws:SourceVpce": "vpce-1a2b3c4d",
        "aws:VpceAccount": "111111111111",
        "aws:VpcSourceIp": "10.0.1.25",
        "s3:TlsVersion": "1.3",
        "s3:authType": "REST-HEADER"
    })
}

#[test]
fn every_envelope_of_the_endpoint_record_is_the_same_allowed_get() {
    for (file, _form) in [
        ("record-get-through-endpoint.json", "a record alone"),
        ("eventbridge-get-through-endpoint.json", "EventBridge"),
        ("lookup-events-get-through-endpoint.json", "lookup-events"),
    ] {
        let output = check(file, &[]);
        assert_eq!(output.status.code(), Some(0), "{file}");
        let report = report(&output);
        assert_eq!(report["verdict"], "allowed", "{file}");
        let request = &report["request"];
        assert_eq!(
            request["principal"], "arn:aws:iam::111111111111:user/ann",
            "{file}"
        );
        assert_eq!(request["bucket"], "account-a-bucket");
        assert_eq!(request["object"], "reports/data.csv");
        assert_eq!(request["operations"], json!(["get"]));
        // Through the endpoint: aws:SourceVpce and the private address as
        // aws:VpcSourceIp, and no aws:SourceIp.
        assert_eq!(request["context"], context_through_endpoint(), "{file}");
        let source = request["source"].as_str().unwrap_or_default();
        assert!(
            source.contains(file) && source.contains("GetObject"),
            "{source}"
        );
    }
}

#[test]
fn the_same_get_from_the_internet_is_denied_by_the_bucket_policy() {
    let output = check("trail-file-get-from-internet.json", &[]);
    assert_eq!(output.status.code(), Some(1));
    let report = report(&output);
    assert_eq!(report["verdict"], "denied");
    assert_eq!(
        report["request"]["context"]["aws:SourceIp"],
        "198.51.100.24"
    );
    assert!(report["request"]["context"].get("aws:SourceVpce").is_none());
    let summary = report["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("bucket-policy"), "{summary}");
}

#[test]
fn context_given_beside_the_record_overrides_it() {
    let output = check(
        "record-get-through-endpoint.json",
        &["--context", "aws:SourceVpce=vpce-other", "--op", "list,get"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report = report(&output);
    assert_eq!(report["request"]["context"]["aws:SourceVpce"], "vpce-other");
    assert_eq!(report["request"]["operations"], json!(["list", "get"]));
    assert_eq!(report["verdict"], "denied");
}

#[test]
fn a_kms_decrypt_s3_made_is_judged_as_the_get_and_the_network_stays_unknown() {
    // The KMS record is of S3's own call: it proves the caller, the object
    // and the time, not the network the caller came from, so the bucket
    // policy's endpoint condition cannot be settled.
    let output = check("kms-decrypt-s3-made.json", &[]);
    assert_eq!(output.status.code(), Some(3));
    let report = report(&output);
    assert_eq!(report["verdict"], "inconclusive");
    let request = &report["request"];
    assert_eq!(request["operations"], json!(["get"]));
    assert_eq!(request["object"], "reports/data.csv");
    assert!(request["context"].get("aws:SourceIp").is_none());
    let summary = report["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("aws:SourceVpce"), "{summary}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("S3's call to KMS"), "{notes}");
}

#[test]
fn an_aws_account_identity_needs_principal() {
    let output = check("cross-account-aws-account.json", &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AWSAccount") && stderr.contains("--principal"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    let output = check(
        "cross-account-aws-account.json",
        &["--principal", "arn:aws:iam::222222222222:user/dilip"],
    );
    assert_eq!(output.status.code(), Some(0));
    let report = report(&output);
    assert_eq!(
        report["request"]["principal"],
        "arn:aws:iam::222222222222:user/dilip"
    );
    assert_eq!(report["request"]["operations"], json!(["put"]));
    assert_eq!(
        report["request"]["context"]["s3:x-amz-server-side-encryption"],
        "aws:kms"
    );
}

#[test]
fn a_record_of_another_service_and_malformed_json_are_bad_input() {
    let output = check("not-s3.json", &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ec2.amazonaws.com"), "{stderr}");
    let output = check("malformed.json", &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not JSON") && stderr.contains("line 2"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn several_records_judge_each_request_once_and_exit_with_the_worst() {
    let output = check("trail-file-several.json", &[]);
    assert_eq!(output.status.code(), Some(1));
    let report = report(&output);
    assert_eq!(report["verdict"], "denied");
    let requests = report["requests"].as_array().cloned().unwrap_or_default();
    // The EC2 record is skipped, the retry of the first GetObject counted once.
    assert_eq!(requests.len(), 2, "{report:#}");
    assert_eq!(requests[0]["verdict"], "allowed");
    assert_eq!(requests[0]["request"]["operations"], json!(["get"]));
    assert_eq!(requests[1]["verdict"], "denied");
    assert_eq!(requests[1]["request"]["operations"], json!(["put"]));
}

#[test]
fn standard_input_and_the_text_report_name_the_record() {
    let text = std::fs::read(format!(
        "{}/fixtures/events/record-get-through-endpoint.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "check",
            "--snapshot",
            SNAPSHOT,
            "--color",
            "never",
            "--event",
            "-",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&text)
        .expect("written");
    let output = child.wait_with_output().expect("the binary ends");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("request from `standard input` record 1 (S3 GetObject"),
        "{stdout}"
    );
}

#[test]
fn check_without_bucket_or_event_is_bad_input() {
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(["check", "--snapshot", SNAPSHOT])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--bucket"));
}

#[test]
fn the_report_format_names_the_request_fields() {
    let doc = std::fs::read_to_string(format!(
        "{}/docs/report-format.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the report format");
    let one = report(&check("record-get-through-endpoint.json", &[]));
    let several = report(&check("trail-file-several.json", &[]));
    let mut fields: Vec<String> = one["request"]
        .as_object()
        .map(|request| request.keys().cloned().collect())
        .unwrap_or_default();
    fields.push("request".to_string());
    fields.extend(
        several
            .as_object()
            .into_iter()
            .flat_map(|top| top.keys().cloned()),
    );
    assert!(fields.len() > 3, "{fields:?}");
    for field in fields {
        assert!(
            doc.contains(&format!("`{field}`")),
            "not in docs/report-format.md: {field}"
        );
    }
}

/// An assumed-role session's presigned GetObject, against the snapshot of
/// the scenario where the session's credentials expired at 10:00 (IAM User
/// Guide, "Temporary security credentials": a URL signed with temporary
/// credentials stops working when they expire). The record's `eventTime`
/// decides: at 14:30 the authentication link fails, at 09:45 it passes.
#[test]
fn the_record_time_decides_a_presigned_url_of_an_assumed_role_session() {
    let run = |event: &str| {
        Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
            .args([
                "check",
                "--snapshot",
                "fixtures/events/session-credentials.snapshot.json",
                "--format",
                "json",
                "--event",
            ])
            .arg(format!("fixtures/events/{event}"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("the binary runs")
    };
    let late = run("presigned-get-after-session-expired.json");
    assert_eq!(late.status.code(), Some(1));
    let late = report(&late);
    assert_eq!(
        late["request"]["principal"],
        "arn:aws:sts::111111111111:assumed-role/etl/nightly"
    );
    assert_eq!(
        late["request"]["context"]["s3:authType"],
        "REST-QUERY-STRING"
    );
    assert_eq!(
        late["request"]["context"]["aws:CurrentTime"],
        "2026-11-22T14:30:00Z"
    );
    let summary = late["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("authentication"), "{summary}");
    let early = run("presigned-get-within-session.json");
    assert_eq!(early.status.code(), Some(0));
    assert_eq!(report(&early)["verdict"], "allowed");
}

/// A record silent on TLS proves neither HTTPS nor HTTP: against a bucket
/// policy that denies `aws:SecureTransport` false (S3 User Guide, "Security
/// best practices for Amazon S3": enforce encryption of data in transit),
/// the same GET is allowed with `tlsDetails` and inconclusive without,
/// never allowed on the tool's default.
#[test]
fn a_record_without_tls_details_leaves_the_transport_unknown() {
    let scenario: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/scenarios/bucket-policy-deny-insecure-transport-over-http.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut record: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/events/record-get-through-endpoint.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    std::fs::write(&snapshot, scenario["snapshot"].to_string()).unwrap();
    let verdict_of = |record: &Value| {
        let event = dir.path().join("event.json");
        std::fs::write(&event, record.to_string()).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
            .args(["check", "--format", "json", "--snapshot"])
            .arg(&snapshot)
            .arg("--event")
            .arg(&event)
            .args([
                "--principal",
                "arn:aws:iam::222222222222:user/dilip",
                "--bucket",
                "account-a-bucket",
                "--object",
                "reports/data.csv",
            ])
            .output()
            .expect("the binary runs");
        report(&output)
    };
    let with_tls = verdict_of(&record);
    assert_eq!(with_tls["verdict"], "allowed", "{with_tls:#}");
    record.as_object_mut().unwrap().remove("tlsDetails");
    let without = verdict_of(&record);
    assert_eq!(without["verdict"], "inconclusive", "{without:#}");
    assert!(
        without["request"]["context"]
            .get("aws:SecureTransport")
            .is_none()
    );
}
