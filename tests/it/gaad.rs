//! GAAD import (`snapshot --snapshot BASE --gaad FILE --account ID`): the
//! two `fixtures/gaad/` files laid over `base-snapshot.json` judge exactly
//! like the hand-written `expected-snapshot.json`, for every principal and
//! operation, and each principal gets the verdict AWS's rules give; bad
//! input is exit 2 with one line naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::pipeline;

const BUCKET: &str = "account-a-bucket";
const OBJECT: &str = "reports/data.csv";
const OPS: [Operation; 3] = [Operation::List, Operation::Get, Operation::Put];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/gaad")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Both accounts' files laid over the base, as a user would run it.
fn import(directory: &Path) -> PathBuf {
    let output = directory.join("imported.json");
    let base = fixture("base-snapshot.json");
    let first = fixture("111111111111.json");
    let second = fixture("222222222222.json");
    let result = run(&[
        "snapshot",
        "--snapshot",
        base.to_str().unwrap(),
        "--gaad",
        first.to_str().unwrap(),
        "--account",
        "111111111111",
        "--gaad",
        second.to_str().unwrap(),
        "--account",
        "222222222222",
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    output
}

/// What a judgement says, without its wording: per operation the verdict,
/// and per action its verdict and each link's status.
type Summary = BTreeMap<String, (Verdict, Vec<(String, Verdict, Vec<String>)>)>;

/// `check` of one principal over a snapshot file, every operation.
fn check(snapshot: &Path, principal: &str) -> Summary {
    let checked = pipeline::check(&pipeline::Check {
        source: pipeline::Source::File {
            path: snapshot.to_path_buf(),
            limit: 1 << 30,
        },
        selection: pipeline::Selection {
            bucket: BUCKET.to_string(),
            object: Some(OBJECT.to_string()),
            principal: Some(principal.to_string()),
            ..Default::default()
        },
        operations: OPS.to_vec(),
        assumptions: Vec::new(),
        session_policy: None,
        save_snapshot: None,
        layers: Vec::new(),
        now: None,
    })
    .unwrap_or_else(|error| panic!("{principal}: {error}"));
    checked
        .diagnosis
        .operations
        .iter()
        .map(|operation| {
            let actions = operation
                .actions
                .iter()
                .map(|action| {
                    let links = action
                        .links
                        .iter()
                        .map(|link| format!("{:?} {:?}", link.link, link.status))
                        .collect();
                    (action.action.clone(), action.verdict, links)
                })
                .collect();
            (
                operation.operation.as_str().to_string(),
                (operation.verdict, actions),
            )
        })
        .collect()
}

/// Every principal entry of a snapshot file, judged one by one. The
/// who-can query answers the same question for all of them at once: once
/// it exists, comparing its rows is this function's body.
fn judge_everyone(snapshot: &Path) -> BTreeMap<String, Summary> {
    let text = std::fs::read_to_string(snapshot).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["arn"].as_str().unwrap().to_string())
        .map(|arn| {
            let summary = check(snapshot, &arn);
            (arn, summary)
        })
        .collect()
}

#[test]
fn the_import_judges_like_the_hand_written_snapshot() {
    let directory = tempfile::tempdir().unwrap();
    let imported = import(directory.path());
    let expected = judge_everyone(&fixture("expected-snapshot.json"));
    let got = judge_everyone(&imported);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the same principals; the base's departed user of account 222222222222 is replaced"
    );
    for (arn, summary) in &expected {
        assert_eq!(&got[arn], summary, "{arn}");
    }
}

/// `who-can` over the imported snapshot lists the same rows, with the same
/// verdicts and links, as over the hand-written one.
#[test]
fn the_import_gives_the_same_who_can_as_the_hand_written_snapshot() {
    let directory = tempfile::tempdir().unwrap();
    let imported = import(directory.path());
    let who_can = |snapshot: &Path| {
        let output = run(&[
            "who-can",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--bucket",
            BUCKET,
            "--op",
            "list,get,put",
            "--format",
            "json",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["principals"].clone()
    };
    let expected = who_can(&fixture("expected-snapshot.json"));
    assert!(
        expected.as_array().is_some_and(|rows| rows.len() >= 9),
        "{expected}"
    );
    assert_eq!(who_can(&imported), expected);
}

#[test]
fn each_principal_gets_the_verdicts_awss_rules_give() {
    use Verdict::{Allowed as A, Denied as D, Inconclusive as I};
    // (principal, list, get, put). Same account (111111111111): the key
    // policy delegates to IAM, so identity policies decide (IAM User Guide,
    // "Policy evaluation logic"); another account (222222222222): the
    // bucket policy and key policy must grant the account as well
    // ("Cross-account policy evaluation logic"). Only a managed policy's
    // default version applies ("Versioning for managed policies"); a permissions
    // boundary caps what identity policies allow ("Permissions boundaries
    // for IAM entities"); an explicit deny wins.
    let table = [
        ("arn:aws:iam::111111111111:user/alice", [A, A, D]),
        ("arn:aws:iam::111111111111:user/bob", [D, D, A]),
        // An AWS managed policy the file does not hold: unknown, never
        // allowed.
        (
            "arn:aws:iam::111111111111:user/contractors/carol",
            [I, I, I],
        ),
        // The boundary allows no KMS action.
        ("arn:aws:iam::111111111111:role/service/app-role", [A, D, D]),
        ("arn:aws:iam::222222222222:user/dave", [A, A, D]),
        ("arn:aws:iam::222222222222:user/erin", [A, A, A]),
        // An inline deny of kms:* beats the managed policy's allow; the
        // managed policy's non-default v1 (allow all) does not apply.
        ("arn:aws:iam::222222222222:user/frank", [D, D, D]),
        // The boundary allows kms:Decrypt but not kms:GenerateDataKey.
        ("arn:aws:iam::222222222222:role/etl-role", [A, A, D]),
        // Read-only: s3:Get* and kms:Get* do not cover kms:Decrypt.
        ("arn:aws:iam::222222222222:role/audit-role", [A, D, D]),
    ];
    let directory = tempfile::tempdir().unwrap();
    let imported = import(directory.path());
    for (principal, verdicts) in table {
        let summary = check(&imported, principal);
        for (operation, verdict) in OPS.iter().zip(verdicts) {
            assert_eq!(
                summary[operation.as_str()].0,
                verdict,
                "{principal} {}: {:?}",
                operation.as_str(),
                summary[operation.as_str()]
            );
        }
    }
}

#[test]
fn the_imported_entries_hold_what_the_files_say() {
    let directory = tempfile::tempdir().unwrap();
    let imported = import(directory.path());
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(imported).unwrap()).unwrap();
    let entry = |arn: &str| {
        value["principals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["arn"] == arn)
            .unwrap_or_else(|| panic!("no {arn}"))
            .clone()
    };
    let erin = entry("arn:aws:iam::222222222222:user/erin");
    let names: Vec<(&str, &str)> = erin["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|policy| {
            (
                policy["name"].as_str().unwrap(),
                policy["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("data-readers/read-account-a", "group-inline"),
            (
                "arn:aws:iam::222222222222:policy/WriterPolicy",
                "group-managed"
            )
        ]
    );
    // Roles carry no session policies: GAAD cannot know them.
    let role = entry("arn:aws:iam::222222222222:role/etl-role");
    assert!(role["session_policies"].is_null() && role.get("session_policies").is_some());
    assert_eq!(
        role["permissions_boundary"]["name"],
        "arn:aws:iam::222222222222:policy/EtlBoundary"
    );
    let carol = entry("arn:aws:iam::111111111111:user/contractors/carol");
    assert!(carol.get("policies").is_none(), "unknown, not empty");
    assert!(
        carol["policies_error"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    );
    assert_eq!(
        entry("arn:aws:iam::111111111111:user/alice")["tags"]["team"],
        "analytics"
    );
    // The base's buckets and keys are kept.
    assert_eq!(value["buckets"][0]["name"], BUCKET);
    assert_eq!(value["keys"].as_array().unwrap().len(), 1);
}

/// Runs an import that must be refused; returns its one line of stderr.
fn refused(args: &[&str]) -> String {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn bad_input_is_exit_2_naming_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let out = directory.path().join("out.json");
    let out = out.to_str().unwrap();
    let base = fixture("base-snapshot.json");
    let base = base.to_str().unwrap();
    let first = fixture("111111111111.json");
    let first = first.to_str().unwrap();
    let import = |gaad: &str, account: &str| {
        refused(&[
            "snapshot",
            "--snapshot",
            base,
            "--gaad",
            gaad,
            "--account",
            account,
            "--output",
            out,
        ])
    };

    // Not GAAD output: a snapshot given as one.
    let error = import(base, "111111111111");
    assert!(error.contains("base-snapshot.json"), "{error}");
    assert!(
        error.contains("not the output of get-account-authorization-details"),
        "{error}"
    );

    // Another account's file.
    let error = import(first, "222222222222");
    assert!(error.contains("111111111111.json"), "{error}");
    assert!(error.contains("not of account 222222222222"), "{error}");
    assert!(error.contains("line "), "{error}");

    // A document that does not parse, with its line.
    let broken = directory.path().join("broken.json");
    let text = std::fs::read_to_string(first).unwrap().replacen(
        "\"Effect\": \"Allow\"",
        "\"Effect\": \"Alow\"",
        1,
    );
    std::fs::write(&broken, text).unwrap();
    let error = import(broken.to_str().unwrap(), "111111111111");
    assert!(error.contains("broken.json"), "{error}");
    assert!(error.contains("does not parse"), "{error}");
    assert!(error.contains("line "), "{error}");

    // An ARN AWS never writes (an IAM ARN with a region): the result would
    // not load, so nothing is written.
    let regional = directory.path().join("regional.json");
    let text = std::fs::read_to_string(first).unwrap().replacen(
        "arn:aws:iam::111111111111:user/alice",
        "arn:aws:iam:eu-west-1:111111111111:user/alice",
        1,
    );
    std::fs::write(&regional, text).unwrap();
    let error = import(regional.to_str().unwrap(), "111111111111");
    assert!(
        error.contains("regional.json") && error.contains("do not make a valid snapshot"),
        "{error}"
    );

    // Not JSON at all.
    let garbage = directory.path().join("garbage.json");
    std::fs::write(&garbage, "UserDetailList:\n  - alice\n").unwrap();
    let error = import(garbage.to_str().unwrap(), "111111111111");
    assert!(
        error.contains("garbage.json") && error.contains("line 1"),
        "{error}"
    );

    // Pairs that do not pair, an account id that is none.
    let error = refused(&[
        "snapshot",
        "--snapshot",
        base,
        "--gaad",
        first,
        "--output",
        out,
    ]);
    assert!(error.contains("--account"), "{error}");
    let error = refused(&[
        "snapshot",
        "--snapshot",
        base,
        "--gaad",
        first,
        "--account",
        "1111",
        "--output",
        out,
    ]);
    assert!(error.contains("12 digits"), "{error}");
    assert!(!Path::new(out).exists(), "nothing is written on bad input");
}

#[test]
fn the_output_is_never_one_of_the_inputs() {
    let directory = tempfile::tempdir().unwrap();
    let base = directory.path().join("base.json");
    std::fs::copy(fixture("base-snapshot.json"), &base).unwrap();
    let before = std::fs::read_to_string(&base).unwrap();
    let first = fixture("111111111111.json");
    let error = refused(&[
        "snapshot",
        "--snapshot",
        base.to_str().unwrap(),
        "--gaad",
        first.to_str().unwrap(),
        "--account",
        "111111111111",
        "--output",
        base.to_str().unwrap(),
    ]);
    assert!(error.contains("one of the input files"), "{error}");
    assert_eq!(std::fs::read_to_string(&base).unwrap(), before);
}
