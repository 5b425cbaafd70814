//! Fixes never weaken a guard without saying so. Every change of every
//! scenario whose document weakens a guard of the document as read carries
//! `widens`; and the four guards people meet most get the remedy that keeps
//! them: the caller passes the external id, sends over HTTPS, a VPC-endpoint
//! Deny gets AWS's documented exception, and a perimeter widened is declared
//! and left out of `apply.sh`.

use std::path::PathBuf;

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::{Diagnosis, FixChange, Verdict};
use kms_s3_doctor::fixes::{WriteOptions, document_as_read, weakened, write_fixes};
use kms_s3_doctor::pipeline::judge_and_fix;
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::{Value, json};

use crate::support::scenario::request_of;

fn scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios")
}

/// A scenario's snapshot and request, as `check` makes them from its args;
/// `None` for a scenario whose args are not a plain request.
fn load(path: &std::path::Path) -> Option<(Snapshot, CheckRequest)> {
    let scenario: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let snapshot = Snapshot::parse("snapshot.json", &scenario["snapshot"].to_string()).ok()?;
    let args: Vec<String> = serde_json::from_value(scenario["args"].clone()).ok()?;
    let request = request_of(&args)?;
    Some((snapshot, request))
}

fn judged(name: &str) -> (Snapshot, Diagnosis) {
    let (snapshot, request) =
        load(&scenarios().join(format!("{name}.json"))).expect("a plain scenario");
    let diagnosis = judge_and_fix(&snapshot, &request).expect("judged");
    (snapshot, diagnosis)
}

#[test]
fn no_scenario_weakens_a_guard_without_saying_so() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(scenarios())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let mut documents = 0;
    for path in &paths {
        let Some((snapshot, request)) = load(path) else {
            continue;
        };
        let Ok(diagnosis) = judge_and_fix(&snapshot, &request) else {
            continue;
        };
        for (index, change) in diagnosis.changes.iter().enumerate() {
            let (Some(target), Some(after)) = (&change.target, &change.document_after) else {
                continue;
            };
            let before = document_as_read(&snapshot, target).expect("the target is read");
            documents += 1;
            let weakens = weakened(&before, after);
            assert!(
                weakens.is_empty() || change.widens == weakens,
                "{}: change {} weakens {weakens:?} but declares {:?}",
                path.display(),
                index + 1,
                change.widens
            );
        }
    }
    assert!(documents > 50, "only {documents} documents checked");
}

#[test]
fn a_missing_external_id_is_passed_by_the_caller_not_dropped_from_the_trust_policy() {
    let (_, diagnosis) = judged("assume-role-external-id-missing");
    let trust: Vec<_> = diagnosis
        .changes
        .iter()
        .filter(|change| change.document == "trust-policy")
        .collect();
    assert_eq!(trust.len(), 1, "{trust:?}");
    assert_eq!(trust[0].change, FixChange::Request);
    assert_eq!(
        trust[0].flags,
        vec!["--external-id", "Unique ID Assigned by Example Corp"]
    );
    assert!(trust[0].document_after.is_none());
    let recheck = diagnosis.recheck.as_ref().expect("a re-check");
    assert_eq!(recheck.verdict, Verdict::Allowed);
    assert!(recheck.applied.contains(&0));
}

#[test]
fn plain_http_is_met_by_sending_over_https_with_the_tls_deny_intact() {
    let (_, diagnosis) = judged("bucket-policy-deny-insecure-transport-over-http");
    let first = &diagnosis.changes[0];
    assert_eq!(first.change, FixChange::Request);
    assert_eq!(first.flags, vec!["--context", "aws:SecureTransport=true"]);
    assert!(first.note.as_deref().unwrap().contains("over HTTPS"));
    for change in &diagnosis.changes {
        if let Some(after) = &change.document_after {
            let statements = after["Statement"].as_array().unwrap();
            assert!(
                statements
                    .iter()
                    .any(|statement| statement["Sid"] == "DenyInsecureTransport"
                        && statement["Effect"] == "Deny"),
                "{after}"
            );
        }
    }
    assert_eq!(
        diagnosis.recheck.as_ref().map(|recheck| recheck.verdict),
        Some(Verdict::Allowed)
    );
}

#[test]
fn a_vpc_endpoint_deny_breaking_s3s_call_to_kms_keeps_the_deny_with_the_documented_exception() {
    let (_, diagnosis) = judged("kms-key-policy-vpce-deny-breaks-sse-kms-through-s3");
    let change = &diagnosis.changes[0];
    assert_eq!(change.change, FixChange::EditStatement);
    assert!(change.widens.is_empty(), "{:?}", change.widens);
    assert!(
        change
            .note
            .as_deref()
            .unwrap()
            .contains("Using VPC endpoint conditions in policies")
    );
    let after = change.document_after.as_ref().expect("a document");
    let deny = after["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|statement| statement["Sid"] == "Restrict usage to my VPC endpoint")
        .expect("the Deny is kept");
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(
        deny["Condition"]["StringNotEquals"]["aws:sourceVpce"],
        json!(["vpce-1234abcd"])
    );
    assert_eq!(
        deny["Condition"]["BoolIfExists"]["aws:ViaAWSService"],
        "false"
    );
    assert_eq!(
        diagnosis.recheck.as_ref().map(|recheck| recheck.verdict),
        Some(Verdict::Allowed)
    );
}

#[test]
fn admitting_an_outsider_past_the_org_perimeter_is_declared_and_left_out_of_apply_sh() {
    let (_, diagnosis) = judged("bucket-policy-principal-org-id-other-org");
    let adds: Vec<_> = diagnosis
        .changes
        .iter()
        .filter(|change| change.change == FixChange::AddStatement)
        .collect();
    assert!(!adds.is_empty());
    for change in &adds {
        assert_eq!(change.widens, vec!["aws:PrincipalOrgID"]);
    }
    let link_fix = diagnosis
        .operations
        .iter()
        .flat_map(|operation| &operation.actions)
        .flat_map(|action| &action.links)
        .find_map(|link| link.fix.as_deref())
        .expect("a failing link");
    assert_eq!(link_fix.widens, vec!["aws:PrincipalOrgID"]);

    let dir = tempfile::tempdir().unwrap();
    write_fixes(dir.path(), &diagnosis, WriteOptions::default()).unwrap();
    let script = std::fs::read_to_string(dir.path().join("apply.sh")).unwrap();
    assert!(!script.contains("put-bucket-policy"), "{script}");
    assert!(
        script.contains("left out, as it widens a guard (aws:PrincipalOrgID)"),
        "{script}"
    );
    let dir = tempfile::tempdir().unwrap();
    let options = WriteOptions {
        force: false,
        include_widening: true,
    };
    write_fixes(dir.path(), &diagnosis, options).unwrap();
    let script = std::fs::read_to_string(dir.path().join("apply.sh")).unwrap();
    assert!(script.contains("put-bucket-policy"), "{script}");
}
