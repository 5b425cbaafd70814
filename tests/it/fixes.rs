//! The fixes, proven over the whole corpus: for every denied scenario of
//! `fixtures/scenarios` and every principal of `fixtures/walkthrough.json`,
//! the changes the report proposes, applied to the snapshot, must mend the
//! links they were made for, make no operation worse, grant with no `*`
//! where a specific value works, and grant nothing new to any other
//! principal of the snapshot. Every problem across the corpus is reported at
//! once.

use std::path::PathBuf;

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::{Diagnosis, FixChange, LinkId, LinkStatus, Operation, Verdict};
use kms_s3_doctor::fixes::apply;
use kms_s3_doctor::pipeline::judge_and_fix as judge;
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::Value;

use crate::support::scenario::request_of;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

struct Case {
    name: String,
    snapshot: Snapshot,
    request: CheckRequest,
}

fn scenario_cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    for path in paths {
        let scenario: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let text = match (&scenario["snapshot"], &scenario["snapshot_text"]) {
            (Value::Object(_), _) => scenario["snapshot"].to_string(),
            (_, Value::String(text)) => text.clone(),
            _ => continue,
        };
        // Bad input never reaches the judge.
        let Ok(snapshot) = Snapshot::parse("scenario", &text) else {
            continue;
        };
        let args: Vec<String> = serde_json::from_value(scenario["args"].clone()).unwrap();
        let Some(request) = request_of(&args) else {
            continue;
        };
        cases.push(Case {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            snapshot,
            request,
        });
    }
    cases
}

fn walkthrough_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("walkthrough.json")).unwrap();
    let snapshot = Snapshot::parse("walkthrough.json", &text).unwrap();
    let mut cases = Vec::new();
    for principal in &snapshot.principals {
        for object in [None, Some("reports/data.csv")] {
            cases.push(Case {
                name: format!("walkthrough {} {object:?}", principal.arn),
                snapshot: snapshot.clone(),
                request: CheckRequest {
                    access_point: None,
                    bucket: "account-a-bucket".to_string(),
                    object: object.map(str::to_string),
                    principal: principal.arn.clone(),
                    via_role: None,
                    external_id: None,
                    operations: vec![
                        Operation::List,
                        Operation::Get,
                        Operation::Put,
                        Operation::Multipart,
                        Operation::Copy,
                    ],
                    context: Vec::new(),
                    via_service: None,
                    unknown_context: Vec::new(),
                    now: chrono::Utc::now(),
                },
            });
        }
    }
    cases
}

fn is_statement(change: FixChange) -> bool {
    matches!(
        change,
        FixChange::AddStatement | FixChange::RemoveStatement | FixChange::EditStatement
    )
}

/// The checks of one denied diagnosis; problems are pushed, not panicked.
fn check_recheck(name: &str, diagnosis: &Diagnosis, problems: &mut Vec<String>) {
    let Some(recheck) = &diagnosis.recheck else {
        problems.push(format!("{name}: denied, with no re-check"));
        return;
    };
    for (index, change) in diagnosis.changes.iter().enumerate() {
        if is_statement(change.change) && change.statement.is_some() {
            if change.target.is_none() || change.document_after.is_none() {
                problems.push(format!(
                    "{name}: statement change {} has no target or document",
                    index + 1
                ));
            }
            // An alternative is re-checked in place of the change it
            // stands for.
            let applied = match change.alternative_to {
                Some(_) => recheck
                    .alternative
                    .as_ref()
                    .is_some_and(|alternative| alternative.applied.contains(&index)),
                None => recheck.applied.contains(&index),
            };
            if !applied {
                problems.push(format!(
                    "{name}: statement change {} was not applied",
                    index + 1
                ));
            }
        }
    }
    let alternative = recheck.alternative.iter().flat_map(|alt| &alt.remaining);
    for remaining in recheck.remaining.iter().chain(alternative) {
        let Some(index) = remaining.change else {
            continue;
        };
        if is_statement(diagnosis.changes[index].change) && remaining.status == LinkStatus::Fail {
            problems.push(format!(
                "{name}: change {} leaves {} {} {} failing: {}",
                index + 1,
                remaining.operation,
                remaining.action,
                remaining.link,
                remaining.reason
            ));
        }
    }
    for (operation, after) in &recheck.operations {
        let before = diagnosis
            .operations
            .iter()
            .find(|result| result.operation == *operation)
            .map(|result| result.verdict);
        if before.is_some_and(|before| *after > before) {
            problems.push(format!(
                "{name}: the changes make {operation} worse ({before:?} -> {after})"
            ));
        }
    }
}

/// No `*` where a specific value works: in a key policy `Resource` is the
/// key itself and AWS writes it `*` (KMS Developer Guide, "Key policies in
/// AWS KMS"); everywhere else principal, action and resource are exact.
fn check_least_privilege(name: &str, diagnosis: &Diagnosis, problems: &mut Vec<String>) {
    for (index, change) in diagnosis.changes.iter().enumerate() {
        if change.change != FixChange::AddStatement {
            continue;
        }
        let Some(statement) = &change.statement else {
            continue;
        };
        let strings = |value: &Value| -> Vec<String> {
            match value {
                Value::String(text) => vec![text.clone()],
                Value::Array(list) => list
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect(),
                Value::Object(map) => map
                    .values()
                    .flat_map(|value| match value {
                        Value::String(text) => vec![text.clone()],
                        Value::Array(list) => list
                            .iter()
                            .filter_map(|item| item.as_str().map(str::to_string))
                            .collect(),
                        _ => Vec::new(),
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let principal = strings(statement.get("Principal").unwrap_or(&Value::Null));
        let actions = strings(statement.get("Action").unwrap_or(&Value::Null));
        let resources = strings(statement.get("Resource").unwrap_or(&Value::Null));
        let key_policy = change.document == LinkId::KeyPolicy.as_str();
        let bad = principal.iter().any(|p| p.contains('*'))
            || actions.is_empty()
            || actions.iter().any(|a| a.contains('*'))
            || statement.get("NotAction").is_some()
            || statement.get("NotResource").is_some()
            || resources
                .iter()
                .any(|r| r.contains('*') && !(key_policy && r == "*") && !r.ends_with("/*"));
        if bad {
            problems.push(format!(
                "{name}: change {} grants a wildcard: {statement}",
                index + 1
            ));
        }
        // A bucket-wide `/*` only where no --object was given.
        if resources.iter().any(|r| r.ends_with("/*")) && !diagnosis.object_is_placeholder {
            problems.push(format!(
                "{name}: change {} is scoped to all objects though --object was given",
                index + 1
            ));
        }
    }
    for change in &diagnosis.changes {
        let text = serde_json::to_string(&change.statement).unwrap_or_default();
        if text.contains(kms_s3_doctor::chain::PLACEHOLDER_OBJECT) {
            problems.push(format!("{name}: a fix names the placeholder key: {text}"));
        }
    }
}

/// With only statements added, no other principal of the snapshot may be
/// allowed anything it was not allowed before.
fn check_no_one_else_gains(case: &Case, diagnosis: &Diagnosis, problems: &mut Vec<String>) {
    if diagnosis
        .changes
        .iter()
        .any(|change| is_statement(change.change) && change.change != FixChange::AddStatement)
    {
        return;
    }
    let (patched, applied) = apply(&case.snapshot, diagnosis);
    if applied.is_empty() {
        return;
    }
    // The principals the request itself is judged as (a session's role is
    // its own snapshot entry).
    let same = |a: &str, b: &str| {
        let role_of = |text: &str| {
            kms_s3_doctor::policy::arn::Principal::parse(text)
                .map(|principal| principal.principal_arn())
                .unwrap_or_else(|_| text.to_string())
        };
        role_of(a) == role_of(b)
    };
    let own = [
        Some(&case.request.principal),
        case.request.via_role.as_ref(),
    ];
    for other in &case.snapshot.principals {
        if own.iter().flatten().any(|arn| same(arn, &other.arn)) {
            continue;
        }
        let request = CheckRequest {
            principal: other.arn.clone(),
            via_role: None,
            external_id: None,
            ..case.request.clone()
        };
        let (Ok(before), Ok(after)) = (judge(&case.snapshot, &request), judge(&patched, &request))
        else {
            continue;
        };
        for (old, new) in before.operations.iter().zip(&after.operations) {
            for (old_action, new_action) in old.actions.iter().zip(&new.actions) {
                if new_action.verdict < old_action.verdict {
                    problems.push(format!(
                        "{}: the changes newly allow {} {} to `{}`",
                        case.name, old.operation, old_action.action, other.arn
                    ));
                }
            }
        }
    }
}

#[test]
fn every_fix_of_the_corpus_mends_its_link_and_nothing_else() {
    let mut problems = Vec::new();
    let mut denied = 0;
    let mut allowed_after = 0;
    for case in scenario_cases().into_iter().chain(walkthrough_cases()) {
        let Ok(diagnosis) = judge(&case.snapshot, &case.request) else {
            continue;
        };
        if diagnosis.verdict != Verdict::Denied {
            if diagnosis
                .changes
                .iter()
                .any(|change| is_statement(change.change))
            {
                problems.push(format!("{}: not denied, yet changes", case.name));
            }
            continue;
        }
        denied += 1;
        if diagnosis
            .recheck
            .as_ref()
            .is_some_and(|recheck| recheck.verdict == Verdict::Allowed)
        {
            allowed_after += 1;
        }
        check_recheck(&case.name, &diagnosis, &mut problems);
        check_least_privilege(&case.name, &diagnosis, &mut problems);
        check_no_one_else_gains(&case, &diagnosis, &mut problems);
    }
    eprintln!("{denied} denied cases, {allowed_after} allowed after their changes");
    assert!(
        denied >= 40,
        "only {denied} denied cases: is the corpus read?"
    );
    assert!(allowed_after > 0, "no case is allowed after its changes");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn walkthrough_report(format: &str) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "check",
            "--snapshot",
            fixtures().join("walkthrough.json").to_str().unwrap(),
            "--bucket",
            "account-a-bucket",
            "--principal",
            "arn:aws:iam::222222222222:user/dilip",
            "--object",
            "reports/data.csv",
            "--op",
            "get,put",
            "--format",
            format,
        ])
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn the_json_report_names_the_target_document_command_and_recheck() {
    let (code, text) = walkthrough_report("json");
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&text).unwrap();
    let key = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let change = &report["changes"][0];
    // The fields of the first version stay as they were.
    assert_eq!(change["document"], "key-policy");
    assert_eq!(change["change"], "add-statement");
    assert_eq!(change["target"]["kind"], "key-policy");
    assert_eq!(change["target"]["resource"], key);
    assert_eq!(change["target"]["account"], "111111111111");
    let statements = change["document_after"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 3, "the two statements kept, one added");
    assert_eq!(statements[2], change["statement"]);
    assert!(
        change["command"]
            .as_str()
            .unwrap()
            .starts_with(&format!("aws kms put-key-policy --key-id {key} --policy-name default --policy file://change-1-key-policy.json"))
    );
    assert_eq!(change["with_changes"], serde_json::json!([0]));
    // Each failing link's fix names the same target.
    let link = &report["operations"][0]["actions"][1]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["link"] == "key-policy")
        .unwrap()["fix"];
    assert_eq!(link["target"]["resource"], key);
    assert_eq!(report["recheck"]["verdict"], "allowed");
    assert_eq!(report["recheck"]["applied"], serde_json::json!([0]));
    assert_eq!(report["recheck"]["remaining"], serde_json::json!([]));
}

#[test]
fn the_markdown_report_shows_the_document_command_and_recheck() {
    let (code, text) = walkthrough_report("markdown");
    assert_eq!(code, Some(1));
    assert!(
        text.contains("target: key-policy of `arn:aws:kms:"),
        "{text}"
    );
    assert!(text.contains("whole document after change 1:"), "{text}");
    assert!(text.contains("```sh\naws kms put-key-policy"), "{text}");
    assert!(text.contains("## Re-check"), "{text}");
    assert!(text.contains("**after change 1: allowed**"), "{text}");
}

/// An SCP or RCP is changed by the organization's management
/// account (named when the snapshot knows it), never by the member account
/// it restricts; a policy AWS would refuse (no statement left) is never
/// proposed as a document, and one denying statement is one change however
/// many actions it denies.
#[test]
fn organization_policies_are_changed_by_the_management_account_once() {
    let mut problems = Vec::new();
    let mut seen = 0;
    for case in scenario_cases() {
        let Ok(diagnosis) = judge(&case.snapshot, &case.request) else {
            continue;
        };
        let managements: Vec<String> = case
            .snapshot
            .accounts
            .values()
            .filter_map(|info| info.management_account.known().cloned())
            .collect();
        for (index, change) in diagnosis.changes.iter().enumerate() {
            let Some(target) = &change.target else {
                continue;
            };
            // Statements to add share a document's target and are merged
            // into it; a statement to remove or edit is one change.
            let removal = matches!(
                change.change,
                FixChange::RemoveStatement | FixChange::EditStatement
            );
            for other in &diagnosis.changes[..index] {
                if removal && other.change == change.change && other.target == change.target {
                    problems.push(format!(
                        "{}: change {} repeats an earlier one",
                        case.name,
                        index + 1
                    ));
                }
            }
            if !matches!(target.kind, LinkId::Scp | LinkId::Rcp) {
                continue;
            }
            seen += 1;
            let expected = managements
                .first()
                .cloned()
                .unwrap_or_else(|| "the organization's management account".to_string());
            if change.account != expected || target.account != expected {
                problems.push(format!(
                    "{}: change {} is made by `{}`, not `{expected}`",
                    case.name,
                    index + 1,
                    change.account
                ));
            }
            let variable = if managements.is_empty() {
                "$PROFILE_MANAGEMENT_ACCOUNT".to_string()
            } else {
                format!("$PROFILE_{expected}")
            };
            if let Some(command) = &change.command
                && !command.contains(&variable)
            {
                problems.push(format!("{}: `{command}` lacks {variable}", case.name));
            }
            let empty = change
                .document_after
                .as_ref()
                .and_then(|document| document["Statement"].as_array())
                .is_some_and(Vec::is_empty);
            if empty {
                problems.push(format!(
                    "{}: change {} proposes a policy with no statement",
                    case.name,
                    index + 1
                ));
            }
        }
    }
    assert!(
        seen >= 5,
        "only {seen} organization changes: is the corpus read?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_emptied_scp_is_detached_by_the_management_account() {
    let case = scenario_cases()
        .into_iter()
        .find(|case| case.name == "scp-explicit-deny-put.json")
        .unwrap();
    let diagnosis = judge(&case.snapshot, &case.request).unwrap();
    let change = &diagnosis.changes[0];
    assert_eq!(change.account, "the organization's management account");
    assert!(change.document_after.is_none());
    assert_eq!(
        change.command.as_deref(),
        Some(
            "aws organizations detach-policy --policy-id '<the id of `DenyS3Writes`>' --target-id 222222222222 --profile \"$PROFILE_MANAGEMENT_ACCOUNT\""
        )
    );
    // The re-check judged the request without the SCP's Deny.
    assert_eq!(
        diagnosis.recheck.as_ref().unwrap().verdict,
        Verdict::Allowed
    );
}

/// In one account the identity policy or the bucket policy is
/// enough. The report offers them as either/or, re-checks each alone, and
/// `apply.sh` installs only the first, naming the other in a comment.
#[test]
fn same_account_identity_and_bucket_policy_are_alternatives() {
    let case = scenario_cases()
        .into_iter()
        .find(|case| case.name == "same-account-nothing-grants-s3.json")
        .unwrap();
    let diagnosis = judge(&case.snapshot, &case.request).unwrap();
    let alternatives: Vec<Option<usize>> = diagnosis
        .changes
        .iter()
        .map(|change| change.alternative_to)
        .collect();
    assert_eq!(alternatives, vec![None, Some(0), None, Some(2)]);
    let recheck = diagnosis.recheck.as_ref().unwrap();
    assert_eq!(recheck.applied, vec![0, 2]);
    assert_eq!(recheck.verdict, Verdict::Allowed);
    let alternative = recheck.alternative.as_ref().unwrap();
    assert_eq!(alternative.applied, vec![1, 3]);
    assert_eq!(alternative.verdict, Verdict::Allowed);

    let dir = tempfile::tempdir().unwrap();
    kms_s3_doctor::fixes::write_fixes(
        dir.path(),
        &diagnosis,
        kms_s3_doctor::fixes::WriteOptions::default(),
    )
    .unwrap();
    let script = std::fs::read_to_string(dir.path().join("apply.sh")).unwrap();
    let run: Vec<&str> = script
        .lines()
        .filter(|line| line.starts_with("aws "))
        .collect();
    assert_eq!(run.len(), 1, "{script}");
    assert!(run[0].contains("put-user-policy"), "{script}");
    assert!(
        script.contains("an alternative to change 1, not installed"),
        "{script}"
    );

    // Every alternative of the corpus is re-checked, and does as well.
    for case in scenario_cases() {
        let Ok(diagnosis) = judge(&case.snapshot, &case.request) else {
            continue;
        };
        if diagnosis.changes.iter().any(|c| c.alternative_to.is_some()) {
            let recheck = diagnosis.recheck.as_ref().unwrap();
            let alternative = recheck.alternative.as_ref().unwrap();
            assert_eq!(alternative.verdict, recheck.verdict, "{}", case.name);
        }
    }
}
