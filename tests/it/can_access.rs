//! `can-access` gives, for every bucket and known object of a snapshot,
//! exactly what `check` gives for the same request: over every scenario of
//! the corpus, each row's verdicts equal the per-operation verdicts of the
//! full pipeline (judge and fixes) for that bucket and object. And the
//! command's reports, read back through this test's own reading of the
//! format.

use std::collections::BTreeMap;
use std::process::Command;

use kms_s3_doctor::diagnosis::{LinkStatus, Verdict};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::reverse::can_access::can_access;
use kms_s3_doctor::snapshot::Snapshot;
use serde::Deserialize;

use crate::support::scenario;

#[test]
fn every_row_is_what_check_gives_over_every_scenario() {
    let mut rows = 0;
    let mut mismatches = Vec::new();
    for scenario in scenario::judgeable() {
        let snapshot = Snapshot::parse("s", &scenario.snapshot.to_string()).unwrap();
        let answer = match can_access(&snapshot, &scenario.request) {
            Ok(answer) => answer,
            Err(error) => {
                // Refused whole only where check refuses some bucket too.
                let refused = snapshot.buckets.iter().any(|bucket| {
                    let mut request = scenario.request.clone();
                    request.bucket = bucket.name.clone();
                    request.object = None;
                    request.access_point = None;
                    pipeline::judge_and_fix(&snapshot, &request).is_err()
                });
                assert!(refused, "{}: can-access refused: {error}", scenario.name);
                continue;
            }
        };
        let expected_rows: usize = snapshot
            .buckets
            .iter()
            .map(|bucket| 1 + bucket.objects.len())
            .sum();
        assert_eq!(answer.resources.len(), expected_rows, "{}", scenario.name);
        for resource in &answer.resources {
            rows += 1;
            let mut request = scenario.request.clone();
            request.bucket = resource.bucket.clone();
            request.object = resource.object.clone();
            request.access_point = None;
            let diagnosis = pipeline::judge_and_fix(&snapshot, &request).unwrap();
            let check: Vec<_> = diagnosis
                .operations
                .iter()
                .map(|operation| (operation.operation, operation.verdict))
                .collect();
            if check != resource.verdicts {
                mismatches.push(format!(
                    "{} {} {:?}: can-access {:?}, check {:?}",
                    scenario.name, resource.bucket, resource.object, resource.verdicts, check
                ));
            }
            // The link named is one the check report shows for that
            // operation with the status that made its verdict.
            for (operation, link) in &resource.links {
                let result = diagnosis
                    .operations
                    .iter()
                    .find(|found| found.operation == *operation)
                    .unwrap();
                let status = match result.verdict {
                    Verdict::Allowed => {
                        assert!(link.is_none(), "{}", scenario.name);
                        continue;
                    }
                    Verdict::Inconclusive => LinkStatus::Unknown,
                    Verdict::Denied => LinkStatus::Fail,
                };
                let link = link.expect("a link for a verdict not allowed");
                assert!(
                    result
                        .actions
                        .iter()
                        .flat_map(|action| &action.links)
                        .any(|found| found.link == link && found.status == status),
                    "{}: {link} is not {status:?} in check's report",
                    scenario.name
                );
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(rows > 100, "only {rows} rows judged");
}

/// This test's own reading of `kms-s3-doctor/can-access@1`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: String,
    principal: String,
    operations: Vec<String>,
    resources: Vec<Row>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    bucket: String,
    object: Option<String>,
    verdicts: BTreeMap<String, String>,
    links: BTreeMap<String, Option<String>>,
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

/// The walkthrough: dilip of account B reads account A's bucket, whose
/// key policy does not name account B (AWS: "Allowing users in other
/// accounts to use a KMS key" needs both the key policy and the caller's
/// IAM policy), so get is denied at the key policy.
#[test]
fn the_json_report_answers_the_walkthrough() {
    let (code, out, err) = run(&[
        "can-access",
        "--snapshot",
        "fixtures/walkthrough.json",
        "--principal",
        DILIP,
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let document: Document = serde_json::from_str(&out).unwrap();
    assert_eq!(document.format, "kms-s3-doctor/can-access@1");
    assert_eq!(document.principal, DILIP);
    assert_eq!(document.operations, ["list", "get", "put", "multipart"]);
    let row = document
        .resources
        .iter()
        .find(|row| {
            row.bucket == "account-a-bucket" && row.object.as_deref() == Some("reports/data.csv")
        })
        .expect("the walkthrough's object is a row");
    // The same as `check` over the walkthrough (see its golden report).
    let check = run(&[
        "check",
        "--snapshot",
        "fixtures/walkthrough.json",
        "--principal",
        DILIP,
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&check.1).unwrap();
    for operation in report["operations"].as_array().unwrap() {
        let name = operation["operation"].as_str().unwrap();
        assert_eq!(
            row.verdicts[name],
            operation["verdict"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(row.links[name].is_none(), row.verdicts[name] == "allowed");
    }
}

#[test]
fn only_keeps_rows_with_that_verdict_and_csv_is_one_line_per_operation() {
    let base = [
        "can-access",
        "--snapshot",
        "fixtures/walkthrough.json",
        "--principal",
        DILIP,
    ];
    let (_, all, _) = run(&[&base[..], &["--format", "json"]].concat());
    let all: Document = serde_json::from_str(&all).unwrap();
    let (_, denied, _) = run(&[&base[..], &["--format", "json", "--only", "denied"]].concat());
    let denied: Document = serde_json::from_str(&denied).unwrap();
    let expected: Vec<_> = all
        .resources
        .iter()
        .filter(|row| row.verdicts.values().any(|verdict| verdict == "denied"))
        .map(|row| (&row.bucket, &row.object))
        .collect();
    let got: Vec<_> = denied
        .resources
        .iter()
        .map(|row| (&row.bucket, &row.object))
        .collect();
    assert_eq!(got, expected);
    let (code, csv, _) = run(&[&base[..], &["--format", "csv"]].concat());
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "principal,bucket,object,operation,verdict,link");
    assert_eq!(lines.len(), 1 + all.resources.len() * 4);
    let (code, text, _) = run(&base);
    assert_eq!(code, Some(0));
    assert!(
        text.starts_with(&format!("can-access: {DILIP}\n")),
        "{text}"
    );
}

#[test]
fn without_a_snapshot_it_reads_aws_and_a_bad_principal_is_exit_2() {
    // Without --snapshot, AWS is read: a profile the config files do not
    // define stops it (exit 4) before anything is sent.
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config"), "").unwrap();
    std::fs::write(home.path().join("credentials"), "").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "can-access",
            "--principal",
            DILIP,
            "--profile",
            "nope",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{err}");
    if cfg!(feature = "live") {
        assert!(err.contains("profile `nope`"), "{err}");
    } else {
        assert!(err.contains("no live mode"), "{err}");
    }
    let (code, _, err) = run(&[
        "can-access",
        "--snapshot",
        "fixtures/walkthrough.json",
        "--principal",
        "arn:aws:iam::nope",
    ]);
    assert_eq!(code, Some(2), "{err}");
}
