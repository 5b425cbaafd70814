//! `snapshot merge` and directory snapshots through the real binary: the
//! union of parts, a conflict refused naming both files, inputs never
//! overwritten, a directory judged exactly as the file it splits, and the
//! sweep's flags refused where they make no sense.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn walkthrough() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/walkthrough.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn part(accounts: Value, buckets: Value, keys: Value, principals: Value) -> Value {
    json!({
        "format": "kms-s3-doctor/snapshot@1",
        "accounts": accounts,
        "buckets": buckets,
        "keys": keys,
        "principals": principals,
    })
}

/// The walkthrough split as an organization sweep writes it: the
/// organization's facts apart, each account's own things in its file.
fn split_walkthrough(dir: &Path) {
    let whole = walkthrough();
    let principals = whole["principals"].as_array().unwrap();
    let of = |account: &str| -> Value {
        Value::Array(
            principals
                .iter()
                .filter(|principal| principal["arn"].as_str().unwrap().contains(account))
                .cloned()
                .collect(),
        )
    };
    write(
        &dir.join("organization.json"),
        &part(whole["accounts"].clone(), json!([]), json!([]), json!([])),
    );
    write(
        &dir.join("111111111111.json"),
        &part(
            json!({}),
            whole["buckets"].clone(),
            whole["keys"].clone(),
            of("111111111111"),
        ),
    );
    write(
        &dir.join("222222222222.json"),
        &part(json!({}), json!([]), json!([]), of("222222222222")),
    );
}

/// A report without the positions of its evidence: a directory snapshot
/// is the merge of several files and points at none of them.
fn without_positions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| key != "snapshot_position");
            map.values_mut().for_each(without_positions);
        }
        Value::Array(items) => items.iter_mut().for_each(without_positions),
        _ => {}
    }
}

#[test]
fn a_directory_snapshot_judges_as_the_file_it_splits() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("org");
    std::fs::create_dir(&parts).unwrap();
    split_walkthrough(&parts);
    let whole = dir.path().join("whole.json");
    write(&whole, &walkthrough());
    // IAM User Guide, "Cross-account policy evaluation logic": dilip's own
    // policy and the bucket and key policies decide, wherever the files are.
    for principal in [
        "arn:aws:iam::222222222222:user/dilip",
        "arn:aws:iam::111111111111:user/ann",
    ] {
        let judge = |snapshot: &Path| {
            let output = run(&[
                "check",
                "--snapshot",
                snapshot.to_str().unwrap(),
                "--bucket",
                "account-a-bucket",
                "--principal",
                principal,
                "--format",
                "json",
            ]);
            let mut report: Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
            without_positions(&mut report);
            (output.status.code(), report)
        };
        assert_eq!(judge(&parts), judge(&whole), "{principal}");
    }
}

#[test]
fn merge_joins_the_parts_and_equals_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("org");
    std::fs::create_dir(&parts).unwrap();
    split_walkthrough(&parts);
    let merged = dir.path().join("merged.json");
    let output = run(&[
        "snapshot",
        "merge",
        parts.join("organization.json").to_str().unwrap(),
        parts.join("111111111111.json").to_str().unwrap(),
        parts.join("222222222222.json").to_str().unwrap(),
        "--output",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    let whole = walkthrough();
    for field in ["accounts", "buckets", "keys", "principals"] {
        assert_eq!(merged[field], whole[field], "{field}");
    }
    // A directory is an input like a file, and gives the same merge.
    let again = dir.path().join("again.json");
    let output = run(&[
        "snapshot",
        "merge",
        parts.to_str().unwrap(),
        "--output",
        again.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    assert_eq!(again, merged);
}

#[test]
fn a_conflict_is_bad_input_naming_both_files_and_the_entity() {
    let dir = tempfile::tempdir().unwrap();
    let whole = walkthrough();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    write(&a, &whole);
    let mut other = whole.clone();
    // Two files that disagree on who owns the bucket.
    other["buckets"][0]["account"] = json!("333333333333");
    write(&b, &other);
    let out = dir.path().join("out.json");
    let output = run(&[
        "snapshot",
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for needle in [
        "a.json",
        "b.json",
        "bucket `account-a-bucket`",
        "field `account`",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(!out.exists());
}

#[test]
fn merge_never_overwrites_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    write(&a, &walkthrough());
    let before = std::fs::read_to_string(&a).unwrap();
    let output = run(&[
        "snapshot",
        "merge",
        a.to_str().unwrap(),
        "--output",
        a.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&a).unwrap(), before);
    // Nor into a directory it reads: the next load would take it for a part.
    let parts = dir.path().join("org");
    std::fs::create_dir(&parts).unwrap();
    split_walkthrough(&parts);
    let inside = parts.join("merged.json");
    let output = run(&[
        "snapshot",
        "merge",
        parts.to_str().unwrap(),
        "--output",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!inside.exists());
}

#[test]
fn a_bad_part_is_bad_input_naming_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("org");
    std::fs::create_dir(&parts).unwrap();
    split_walkthrough(&parts);
    std::fs::write(
        parts.join("333333333333.json"),
        "{\"format\": \"kms-s3-doctor/snapshot@1\", \"buckets\": 3}",
    )
    .unwrap();
    let output = run(&[
        "check",
        "--snapshot",
        parts.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::111111111111:user/ann",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("333333333333.json"));
}

#[test]
fn sweep_flags_are_checked_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let out = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--org-profile", "p", "--shard", "0/3"], "0/3"),
        (vec!["--org-profile", "p", "--shard", "4/3"], "4/3"),
        (vec!["--org-profile", "p", "--shard", "1-3"], "1-3"),
        (vec!["--org-profile", "p", "--accounts", "12345"], "12345"),
        (
            vec![
                "--org-profile",
                "p",
                "--member-role",
                "arn:aws:iam::1:role/x",
            ],
            "role name",
        ),
        (vec!["--bucket", "b", "--shard", "1/3"], "--shard"),
        (vec!["--bucket", "b", "--resume"], "--resume"),
        (
            vec!["--org-profile", "p", "--org-profile", "q"],
            "exactly one --org-profile",
        ),
        (
            vec!["--org-profile", "p", "--member-role", "r", "--bucket", "b"],
            "--bucket",
        ),
    ] {
        let mut full = vec!["snapshot"];
        full.extend(args.iter().copied());
        full.extend(["--output", out]);
        let output = run(&full);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
