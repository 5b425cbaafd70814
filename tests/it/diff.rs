//! `diff` is the set of per-principal `check` differences: over pairs of
//! states made from the walkthrough (a key-policy change only KMS sees, a
//! bucket-policy deploy that revokes, a deploy that adds a role, a plan),
//! every (principal, bucket, object, operation) whose verdict the full
//! pipeline (judge and fixes) gives differently on the two sides, computed
//! here principal by principal, is exactly what `diff` lists; and the
//! command's exit code follows `--fail-on`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::reverse::diff::{DiffRequest, diff};
use kms_s3_doctor::reverse::{WhoCanRequest, rows};
use kms_s3_doctor::snapshot::Snapshot;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &str) -> Snapshot {
    let path = root().join(path);
    Snapshot::parse(
        &path.display().to_string(),
        &std::fs::read_to_string(&path).unwrap(),
    )
    .unwrap()
}

type Key = (String, String, Option<String>, Operation, Verdict, Verdict);

/// The oracle: every principal either side's who-can would list, judged by
/// `check`'s pipeline on both sides, for the bucket's placeholder and each
/// object either side knows.
fn check_differences(old: &Snapshot, new: &Snapshot) -> BTreeSet<Key> {
    let now = Utc::now();
    let mut out = BTreeSet::new();
    let buckets: BTreeSet<String> = old
        .buckets
        .iter()
        .chain(&new.buckets)
        .map(|bucket| bucket.name.clone())
        .collect();
    for bucket in buckets {
        let objects: BTreeSet<String> = old
            .buckets
            .iter()
            .chain(&new.buckets)
            .filter(|found| found.name == bucket)
            .flat_map(|found| found.objects.iter().map(|object| object.key.clone()))
            .collect();
        for object in std::iter::once(None).chain(objects.into_iter().map(Some)) {
            let asked = WhoCanRequest {
                bucket: bucket.clone(),
                object: object.clone(),
                access_point: None,
                operations: Operation::DEFAULT.to_vec(),
                now,
                context: Vec::new(),
            };
            let mut principals = BTreeSet::new();
            for side in [old, new] {
                if side.buckets.iter().any(|found| found.name == bucket) {
                    principals.extend(rows(side, &asked).unwrap());
                }
            }
            for principal in principals {
                let request = CheckRequest {
                    access_point: None,
                    bucket: bucket.clone(),
                    object: object.clone(),
                    principal: principal.clone(),
                    via_role: None,
                    external_id: None,
                    operations: Operation::DEFAULT.to_vec(),
                    context: Vec::new(),
                    now,
                    via_service: None,
                    unknown_context: Vec::new(),
                };
                let verdicts = |side: &Snapshot| -> Vec<Verdict> {
                    match pipeline::judge_and_fix(side, &request) {
                        Ok(diagnosis) => diagnosis
                            .operations
                            .iter()
                            .map(|operation| operation.verdict)
                            .collect(),
                        // No such bucket on that side: nobody reaches it.
                        Err(_) => vec![Verdict::Denied; Operation::DEFAULT.len()],
                    }
                };
                let (before, after) = (verdicts(old), verdicts(new));
                for (index, operation) in Operation::DEFAULT.iter().enumerate() {
                    if before[index] != after[index] {
                        out.insert((
                            principal.clone(),
                            bucket.clone(),
                            object.clone(),
                            *operation,
                            before[index],
                            after[index],
                        ));
                    }
                }
            }
        }
    }
    out
}

fn diff_set(old: &Snapshot, new: &Snapshot) -> BTreeSet<Key> {
    let request = DiffRequest {
        buckets: Vec::new(),
        operations: Operation::DEFAULT.to_vec(),
        now: Utc::now(),
        context: Vec::new(),
    };
    diff(old, new, &request)
        .unwrap()
        .into_iter()
        .map(|change| {
            (
                change.principal,
                change.bucket,
                change.object,
                change.operation,
                change.before,
                change.after,
            )
        })
        .collect()
}

const WALKTHROUGH: &str = "fixtures/walkthrough.json";
const KEY_GRANT: &str = "fixtures/diff/key-policy-grants-account-b.json";
const REVOKE: &str = "fixtures/diff/bucket-policy-revokes-account-b-objects.json";
const NEW_ROLE: &str = "fixtures/diff/new-role-etl.json";
const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

#[test]
fn diff_is_the_set_of_per_principal_check_differences() {
    for (old, new) in [
        (WALKTHROUGH, KEY_GRANT),
        (KEY_GRANT, WALKTHROUGH),
        (KEY_GRANT, REVOKE),
        (WALKTHROUGH, NEW_ROLE),
        (NEW_ROLE, REVOKE),
        (WALKTHROUGH, WALKTHROUGH),
    ] {
        let (old_snapshot, new_snapshot) = (load(old), load(new));
        let expected = check_differences(&old_snapshot, &new_snapshot);
        assert_eq!(
            diff_set(&old_snapshot, &new_snapshot),
            expected,
            "{old} -> {new}"
        );
    }
}

/// Cross-account use of a KMS key needs the key policy to allow the other
/// account (AWS KMS: "Allowing users in other accounts to use a KMS key").
/// The walkthrough's key policy gives account B no kms:Decrypt or
/// kms:GenerateDataKey; adding them changes only the KMS half, so get, put
/// and multipart are gained, from a key-policy denial, and list (no KMS
/// call) does not change.
#[test]
fn a_key_policy_grant_is_gained_from_the_key_policy_link() {
    let changes = diff(
        &load(WALKTHROUGH),
        &load(KEY_GRANT),
        &DiffRequest {
            buckets: vec!["account-a-bucket".into()],
            operations: Operation::DEFAULT.to_vec(),
            now: Utc::now(),
            context: Vec::new(),
        },
    )
    .unwrap();
    let dilip: Vec<_> = changes
        .iter()
        .filter(|change| change.principal == DILIP && change.object.is_none())
        .collect();
    let operations: Vec<Operation> = dilip.iter().map(|change| change.operation).collect();
    assert_eq!(
        operations,
        [Operation::Get, Operation::Put, Operation::Multipart]
    );
    for change in dilip {
        assert!(change.gained());
        assert_eq!(change.before, Verdict::Denied);
        assert_eq!(change.after, Verdict::Allowed);
        assert_eq!(
            change.before_link,
            Some(kms_s3_doctor::diagnosis::LinkId::KeyPolicy)
        );
        assert_eq!(change.after_link, None);
    }
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_exit_code_follows_fail_on() {
    // Gains only.
    let gains = ["diff", WALKTHROUGH, KEY_GRANT];
    assert_eq!(run(&gains).0, Some(1));
    assert_eq!(
        run(&[&gains[..], &["--fail-on", "lost"]].concat()).0,
        Some(0)
    );
    assert_eq!(
        run(&[&gains[..], &["--fail-on", "any"]].concat()).0,
        Some(1)
    );
    // Losses only.
    let losses = ["diff", KEY_GRANT, REVOKE];
    assert_eq!(run(&losses).0, Some(0));
    assert_eq!(
        run(&[&losses[..], &["--fail-on", "lost"]].concat()).0,
        Some(1)
    );
    // Nothing changed.
    assert_eq!(
        run(&["diff", WALKTHROUGH, WALKTHROUGH, "--fail-on", "any"]).0,
        Some(0)
    );
    // Bad input.
    let (code, _, err) = run(&["diff", WALKTHROUGH]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run(&["diff", WALKTHROUGH, KEY_GRANT, "--bucket", "nope"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`nope`"), "{err}");
    let (code, _, _) = run(&["diff", WALKTHROUGH, "fixtures/diff/missing.json"]);
    assert_eq!(code, Some(2));
}

/// `diff --plan PLAN SNAPSHOT` is `diff SNAPSHOT NEW` where NEW is what
/// `check --plan` judges: the same changes as diffing against the plan laid
/// by the pipeline.
#[test]
fn a_plan_is_diffed_against_the_snapshot_it_is_laid_over() {
    let plan = "fixtures/plans/walkthrough-grant-account-b.json";
    let (code, out, err) = run(&["diff", "--plan", plan, WALKTHROUGH, "--format", "json"]);
    assert_eq!(code, Some(1), "{err}");
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(document["format"], "kms-s3-doctor/diff@1");
    let old = load(WALKTHROUGH);
    let new = pipeline::layered_snapshot(
        &root().join(WALKTHROUGH),
        1 << 30,
        &[],
        &[pipeline::Layer::Plan(root().join(plan))],
    )
    .unwrap();
    let expected = check_differences(&old, &new);
    assert!(!expected.is_empty());
    let got: BTreeSet<Key> = document["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            let verdict = |name: &str| match change[name].as_str().unwrap() {
                "allowed" => Verdict::Allowed,
                "inconclusive" => Verdict::Inconclusive,
                _ => Verdict::Denied,
            };
            (
                change["principal"].as_str().unwrap().to_string(),
                change["bucket"].as_str().unwrap().to_string(),
                change["object"].as_str().map(str::to_string),
                Operation::parse(change["operation"].as_str().unwrap()).unwrap(),
                verdict("before"),
                verdict("after"),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let (code, markdown, _) = run(&["diff", "--plan", plan, WALKTHROUGH, "--format", "markdown"]);
    assert_eq!(code, Some(1));
    assert!(markdown.contains("### ⚠️ Access gained"), "{markdown}");
}

#[test]
fn hostile_names_cannot_write_markdown_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(KEY_GRANT)).unwrap()).unwrap();
    snapshot["buckets"][0]["objects"][0]["key"] =
        serde_json::Value::String("a|b`<img src=x>`\n# heading".into());
    let old = dir.path().join("old.json");
    std::fs::write(&old, snapshot.to_string()).unwrap();
    let mut revoked = snapshot.clone();
    revoked["buckets"][0]["policy"]["Statement"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    let new = dir.path().join("new.json");
    std::fs::write(&new, revoked.to_string()).unwrap();
    let (code, markdown, err) = run(&[
        "diff",
        path(&old),
        path(&new),
        "--format",
        "markdown",
        "--fail-on",
        "lost",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(!markdown.contains("\n# heading"), "{markdown}");
    for line in markdown.lines().filter(|line| line.starts_with("| `")) {
        // Six cells: the pipe in the key is escaped.
        assert_eq!(line.matches(" | ").count(), 5, "{line}");
    }
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}
