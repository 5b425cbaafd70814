//! `who-can` equals `check`: for every scenario of the corpus, every row
//! who-can lists is judged by `check`'s own path (the judge and the fixes,
//! read back through the JSON report), and each operation's verdict and
//! first broken link must agree. Then the command line: formats, `--only`,
//! exit codes and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report::{self, ReportV1, StatusV1};
use kms_s3_doctor::reverse::{self, RowKind, WhoCanRequest};
use kms_s3_doctor::snapshot::{Assumption, Snapshot};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scenario's question without its principal: what who-can asks.
struct Question {
    name: String,
    snapshot: Snapshot,
    request: WhoCanRequest,
}

/// Every scenario whose snapshot loads and whose bucket is named, as a
/// who-can question (the flags of one principal's request are dropped).
fn questions() -> Vec<Question> {
    let captured = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let args: Vec<String> = scenario["args"]
            .as_array()
            .map(|args| {
                args.iter()
                    .map(|arg| arg.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let Ok(mut snapshot) = Snapshot::parse("s", &scenario["snapshot"].to_string()) else {
            continue;
        };
        let mut request = WhoCanRequest {
            bucket: String::new(),
            object: None,
            access_point: None,
            operations: Operation::DEFAULT.to_vec(),
            now: captured,
            context: Vec::new(),
        };
        let mut words = args.iter();
        let mut usable = true;
        while let Some(flag) = words.next() {
            let Some(value) = words.next() else { break };
            match flag.as_str() {
                "--bucket" => request.bucket = value.clone(),
                "--object" => request.object = Some(value.clone()),
                "--access-point" => request.access_point = Some(value.clone()),
                "--op" => match value
                    .split(',')
                    .map(Operation::parse)
                    .collect::<Option<Vec<_>>>()
                {
                    Some(operations) => request.operations = operations,
                    None => usable = false,
                },
                "--context" => match value.split_once('=') {
                    Some((key, value)) => {
                        request.context.push((key.to_string(), value.to_string()))
                    }
                    None => usable = false,
                },
                "--assume" => match value
                    .split(',')
                    .map(str::parse::<Assumption>)
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(assumptions) => snapshot.assume(&assumptions),
                    Err(_) => usable = false,
                },
                _ => {}
            }
        }
        if !usable || request.bucket.is_empty() {
            continue;
        }
        out.push(Question {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            snapshot,
            request,
        });
    }
    assert!(out.len() > 200, "only {} scenarios", out.len());
    out
}

/// What `check --principal` says per operation: its verdict and, from its
/// JSON report, the first failing link of the operation, else its first
/// unknown one.
fn check_says(
    snapshot: &Snapshot,
    request: &CheckRequest,
) -> Vec<(String, Verdict, Option<String>)> {
    let diagnosis = pipeline::judge_and_fix(snapshot, request).unwrap();
    let report: ReportV1 = serde_json::from_str(&report::render_json(&diagnosis)).unwrap();
    report
        .operations
        .iter()
        .zip(&diagnosis.operations)
        .map(|(operation, judged)| {
            let link = [StatusV1::Fail, StatusV1::Unknown]
                .into_iter()
                .find_map(|wanted| {
                    operation
                        .actions
                        .iter()
                        .flat_map(|action| &action.links)
                        .find(|link| link.status == wanted)
                        .map(|link| link.link.clone())
                });
            (operation.operation.clone(), judged.verdict, link)
        })
        .collect()
}

#[test]
fn every_row_of_every_scenario_is_what_check_says() {
    let mut mismatches = Vec::new();
    let mut rows_seen = 0;
    let mut refused = 0;
    for question in questions() {
        let rows = match reverse::who_can(&question.snapshot, &question.request) {
            Ok(rows) => rows,
            Err(error) => {
                // Refused as a whole only where check refuses every
                // principal: the bucket's own root is refused the same way.
                let probe =
                    reverse::check_request(&question.request, "arn:aws:iam::123456789012:root");
                let check = pipeline::judge_and_fix(&question.snapshot, &probe);
                assert_eq!(check.err(), Some(error), "{}", question.name);
                refused += 1;
                continue;
            }
        };
        assert!(!rows.is_empty(), "{}: no row", question.name);
        let listed = reverse::rows(&question.snapshot, &question.request).unwrap();
        assert_eq!(
            listed,
            rows.iter()
                .map(|row| row.principal.clone())
                .collect::<Vec<_>>(),
            "{}",
            question.name
        );
        for row in &rows {
            rows_seen += 1;
            let request = reverse::check_request(&question.request, &row.principal);
            let expected = check_says(&question.snapshot, &request);
            let got: Vec<(String, Verdict, Option<String>)> = row
                .verdicts
                .iter()
                .zip(&row.links)
                .map(|((operation, verdict), (_, link))| {
                    (
                        operation.to_string(),
                        *verdict,
                        link.map(|link| link.to_string()),
                    )
                })
                .collect();
            if got != expected {
                mismatches.push(format!(
                    "{} / {}: who-can {got:?}, check {expected:?}",
                    question.name, row.principal
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(rows_seen > 800, "only {rows_seen} rows judged");
    assert!(refused < 20, "{refused} scenarios refused");
}

/// The rows who-can lists for the walkthrough: its two users, the
/// roots of the accounts it knows, and nothing it does not name.
#[test]
fn the_walkthrough_lists_its_users_and_account_roots() {
    let text = std::fs::read_to_string(root().join("fixtures/walkthrough.json")).unwrap();
    let snapshot = Snapshot::parse("walkthrough", &text).unwrap();
    let request = WhoCanRequest {
        bucket: "account-a-bucket".to_string(),
        object: Some("reports/data.csv".to_string()),
        access_point: None,
        operations: vec![Operation::Get, Operation::Put],
        now: Utc::now(),
        context: Vec::new(),
    };
    let rows = reverse::who_can(&snapshot, &request).unwrap();
    let kinds: Vec<(&str, RowKind)> = rows
        .iter()
        .map(|row| (row.principal.as_str(), row.kind))
        .collect();
    assert!(
        kinds.contains(&("arn:aws:iam::111111111111:user/ann", RowKind::User)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("arn:aws:iam::222222222222:user/dilip", RowKind::User)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("arn:aws:iam::111111111111:root", RowKind::Root)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("arn:aws:iam::222222222222:root", RowKind::Root)),
        "{kinds:?}"
    );
    // Rows come out in a fixed order, and again the same.
    assert_eq!(rows, reverse::who_can(&snapshot, &request).unwrap());
}

/// A session named by a key grant, a service principal named in a bucket
/// policy Allow (with its condition), `"*"` in a bucket policy Allow, and
/// an account whose principals were not read but that the bucket policy
/// grants to: each is a row, and the root row says what it stands for.
#[test]
fn sessions_services_anyone_and_unread_accounts_are_rows() {
    let snapshot = Snapshot::parse("s", &rows_snapshot().to_string()).unwrap();
    let request = WhoCanRequest {
        bucket: "b".to_string(),
        object: None,
        access_point: None,
        operations: vec![Operation::Get],
        now: Utc::now(),
        context: Vec::new(),
    };
    let rows = reverse::who_can(&snapshot, &request).unwrap();
    let find = |principal: &str| rows.iter().find(|row| row.principal == principal);
    let session = find("arn:aws:sts::222222222222:assumed-role/etl/nightly").expect("session row");
    assert_eq!(session.kind, RowKind::Session);
    let service = find("cloudtrail.amazonaws.com").expect("service row");
    assert_eq!(service.kind, RowKind::Service);
    assert!(
        service
            .note
            .as_deref()
            .unwrap()
            .contains("aws:SourceAccount"),
        "{service:?}"
    );
    let anyone = find("anonymous").expect("row for \"*\"");
    assert_eq!(anyone.kind, RowKind::Anyone);
    let unread = find("arn:aws:iam::333333333333:root").expect("root of a granted account");
    assert!(
        unread.note.as_deref().unwrap().contains("were not read"),
        "{unread:?}"
    );
    let read = find("arn:aws:iam::111111111111:root").expect("root of the owner");
    assert_eq!(read.note, None);
    // Services and "*" come after every account's rows.
    let last_account = rows.iter().rposition(|row| row.account.is_some()).unwrap();
    let first_outside = rows.iter().position(|row| row.account.is_none()).unwrap();
    assert!(last_account < first_outside);
}

fn rows_snapshot() -> Value {
    serde_json::json!({
        "format": "kms-s3-doctor/snapshot@1",
        "accounts": {"111111111111": {"org_id": null, "scps": null, "rcps": null}},
        "buckets": [{
            "name": "b", "account": "111111111111", "region": "eu-west-1",
            "policy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
                 "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
                {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/public/*"},
                {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "333333333333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
            ]},
            "encryption": {"algorithm": "aws:kms", "key": "arn:aws:kms:eu-west-1:111111111111:key/k1"},
            "ownership": "BucketOwnerEnforced"
        }],
        "keys": [{
            "arn": "arn:aws:kms:eu-west-1:111111111111:key/k1", "manager": "CUSTOMER", "state": "Enabled",
            "policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}
            ]},
            "grants": [{"grantee": "arn:aws:sts::222222222222:assumed-role/etl/nightly", "operations": ["Decrypt"]}]
        }],
        "principals": [{
            "arn": "arn:aws:iam::111111111111:user/ann", "policies": [], "permissions_boundary": null
        }]
    })
}

/// The generated 60-principal organization through who-can and check: the
/// same verdicts, whichever order the rows were judged in.
#[test]
fn a_generated_organization_agrees_with_check() {
    let snapshot = kms_s3_doctor::synthetic::organization(kms_s3_doctor::synthetic::Shape {
        seed: 7,
        principals: 60,
        accounts: 3,
    })
    .unwrap();
    let request = WhoCanRequest {
        bucket: kms_s3_doctor::synthetic::BUCKET.to_string(),
        object: Some(kms_s3_doctor::synthetic::OBJECT.to_string()),
        access_point: None,
        operations: vec![Operation::Get, Operation::Put],
        now: Utc::now(),
        context: Vec::new(),
    };
    let rows = reverse::who_can(&snapshot, &request).unwrap();
    assert!(rows.len() > 60);
    for row in &rows {
        let request = reverse::check_request(&request, &row.principal);
        let expected = check_says(&snapshot, &request);
        let got: Vec<Verdict> = row.verdicts.iter().map(|(_, verdict)| *verdict).collect();
        assert_eq!(
            got,
            expected.iter().map(|(_, v, _)| *v).collect::<Vec<_>>(),
            "{}",
            row.principal
        );
    }
}

// The command line.

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn walkthrough_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "who-can",
        "--snapshot",
        "walkthrough.json",
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn json_is_who_can_v1_and_equals_check_per_principal() {
    let dir = root().join("fixtures");
    let (code, stdout, stderr) = run(
        &dir,
        &walkthrough_args(&["--op", "get,put", "--format", "json"]),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let document: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(document["format"], "kms-s3-doctor/who-can@1");
    assert_eq!(document["bucket"], "account-a-bucket");
    assert_eq!(document["object"], "reports/data.csv");
    assert_eq!(document["operations"], serde_json::json!(["get", "put"]));
    let principals = document["principals"].as_array().unwrap();
    assert!(principals.len() >= 4);
    for row in principals {
        let principal = row["principal"].as_str().unwrap();
        let (code, check, stderr) = run(
            &dir,
            &[
                "check",
                "--snapshot",
                "walkthrough.json",
                "--bucket",
                "account-a-bucket",
                "--object",
                "reports/data.csv",
                "--op",
                "get,put",
                "--principal",
                principal,
                "--format",
                "json",
            ],
        );
        assert!(matches!(code, Some(0 | 1 | 3)), "{stderr}");
        let check: Value = serde_json::from_str(&check).unwrap();
        for operation in check["operations"].as_array().unwrap() {
            let name = operation["operation"].as_str().unwrap();
            assert_eq!(
                row["verdicts"][name], operation["verdict"],
                "{principal} {name}"
            );
            let expected = ["fail", "unknown"].iter().find_map(|wanted| {
                operation["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|action| action["links"].as_array().unwrap())
                    .find(|link| link["status"] == *wanted)
                    .map(|link| link["link"].clone())
            });
            assert_eq!(
                row["links"][name],
                expected.unwrap_or(Value::Null),
                "{principal} {name}"
            );
        }
    }
}

#[test]
fn text_csv_markdown_and_dot_render_every_row() {
    let dir = root().join("fixtures");
    let (code, text, stderr) = run(&dir, &walkthrough_args(&["--op", "get,put"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(text.contains("principals)"), "{text}");
    assert!(
        text.contains("arn:aws:iam::111111111111:user/ann"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "colour with NO_COLOR: {text}");
    let (code, csv, _) = run(
        &dir,
        &walkthrough_args(&["--op", "get,put", "--format", "csv"]),
    );
    assert_eq!(code, Some(0));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("principal,account,kind,get,get_link,put,put_link,note,via")
    );
    assert!(lines.all(|line| line.starts_with("arn:")
        || line.starts_with("anonymous")
        || line.contains(".amazonaws.com")));
    let (code, markdown, _) = run(&dir, &walkthrough_args(&["--format", "markdown"]));
    assert_eq!(code, Some(0));
    assert!(
        markdown.contains("| principal | account | kind |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("```mermaid\nflowchart LR\n"),
        "{markdown}"
    );
    let (code, dot, _) = run(&dir, &walkthrough_args(&["--format", "dot"]));
    assert_eq!(code, Some(0));
    assert!(dot.starts_with("digraph access {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

#[test]
fn only_keeps_the_rows_of_one_standing() {
    let dir = root().join("fixtures");
    let (_, all, _) = run(&dir, &walkthrough_args(&["--format", "json"]));
    let all: Value = serde_json::from_str(&all).unwrap();
    let mut total = 0;
    for only in ["allowed", "inconclusive", "denied"] {
        let (code, stdout, stderr) = run(
            &dir,
            &walkthrough_args(&["--format", "json", "--only", only]),
        );
        assert_eq!(code, Some(0), "{stderr}");
        let document: Value = serde_json::from_str(&stdout).unwrap();
        for row in document["principals"].as_array().unwrap() {
            let verdicts: Vec<&str> = row["verdicts"]
                .as_object()
                .unwrap()
                .values()
                .map(|verdict| verdict.as_str().unwrap())
                .collect();
            match only {
                "allowed" => assert!(verdicts.contains(&"allowed"), "{row}"),
                "inconclusive" => assert!(
                    !verdicts.contains(&"allowed") && verdicts.contains(&"inconclusive"),
                    "{row}"
                ),
                _ => assert!(verdicts.iter().all(|verdict| *verdict == "denied"), "{row}"),
            }
            total += 1;
        }
    }
    assert_eq!(total, all["principals"].as_array().unwrap().len());
}

#[test]
fn bad_input_is_exit_2_with_one_line() {
    let dir = root().join("fixtures");
    for (args, says) in [
        (
            vec![
                "who-can",
                "--snapshot",
                "walkthrough.json",
                "--bucket",
                "acount-a-bucket",
            ],
            "did you mean `account-a-bucket`",
        ),
        (
            walkthrough_args(&["--op", "delete"]),
            "unknown operation `delete`",
        ),
        (walkthrough_args(&["--only", "maybe"]), "maybe"),
        (
            walkthrough_args(&[
                "--access-point",
                "arn:aws:s3:eu-west-1:111111111111:accesspoint/nope",
            ]),
            "not in the snapshot",
        ),
        (
            vec!["who-can", "--snapshot", "missing.json", "--bucket", "b"],
            "missing.json",
        ),
        (
            vec![
                "who-can",
                "--snapshot",
                "walkthrough.json",
                "--bucket",
                "s3://account-a-bucket",
            ],
            "drop the `s3://` prefix",
        ),
    ] {
        let (code, stdout, stderr) = run(&dir, &args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// Golden reports of who-can: the walkthrough, a bucket open to `"*"`, a
/// trail bucket a service writes to, and a bucket a user of another
/// account reaches only through a role ("via ROLE" rows), in every format, compared byte for
/// byte with `tests/golden/who-can-*.snap` (accepted as the other golden
/// files are).
#[test]
fn who_can_reports_as_before() {
    let scratch = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, Vec<String>)> = vec![(
        "walkthrough".to_string(),
        [
            "--bucket",
            "account-a-bucket",
            "--object",
            "reports/data.csv",
            "--op",
            "get,put",
        ]
        .map(str::to_string)
        .to_vec(),
    )];
    for stem in [
        "bpa-restrict-public-buckets-off-public-grant-applies",
        "object-encryption-context-cloudtrail-log-read",
        "r2-via-role-cross-account-allowed",
    ] {
        let path = root().join(format!("fixtures/scenarios/{stem}.json"));
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let args: Vec<String> = scenario["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arg| arg.as_str().unwrap().to_string())
            .collect();
        let mut kept = Vec::new();
        let mut words = args.iter();
        while let (Some(flag), Some(value)) = (words.next(), words.next()) {
            if matches!(flag.as_str(), "--bucket" | "--object" | "--op") {
                kept.extend([flag.clone(), value.clone()]);
            }
        }
        std::fs::write(
            scratch.path().join(format!("{stem}.json")),
            scenario["snapshot"].to_string(),
        )
        .unwrap();
        cases.push((stem.to_string(), kept));
    }
    std::fs::copy(
        root().join("fixtures/walkthrough.json"),
        scratch.path().join("walkthrough.json"),
    )
    .unwrap();
    for (stem, flags) in cases {
        let mut out = String::new();
        for format in ["text", "json", "csv", "markdown", "dot"] {
            let file = format!("{stem}.json");
            let mut args = vec!["who-can", "--snapshot", file.as_str()];
            args.extend(flags.iter().map(String::as_str));
            args.extend(["--format", format]);
            let (code, stdout, stderr) = run(scratch.path(), &args);
            out.push_str(&format!(
                "$ kms-s3-doctor {}\nexit: {code:?}\n--- stdout\n{stdout}--- stderr\n{stderr}",
                args.join(" ")
            ));
        }
        insta::with_settings!({
            snapshot_path => root().join("tests/golden"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("who-can-{stem}"), out);
        });
    }
}
