//! The organization sweep against moto: an organization of a dozen member
//! accounts (`moto_org_setup.py`) read whole, compared with what the setup
//! created; only reads sent (the logging proxy's record); three shards
//! merged equal the whole; an interrupted sweep resumed equals the whole;
//! `check` over the swept directory judges principals of several accounts.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::fault_proxy::{FaultProxy, Faults};
use crate::support::live::{Moto, Proxy, World, moto_available};

const MEMBERS: usize = 12;

/// Where the sweep sends its requests: the logging proxy or the faulty one.
trait Endpoint {
    fn url(&self) -> String;
}

impl Endpoint for Proxy {
    fn url(&self) -> String {
        Proxy::url(self)
    }
}

impl Endpoint for FaultProxy {
    fn url(&self) -> String {
        FaultProxy::url(self)
    }
}

fn sweep(
    world: &World,
    proxy: &dyn Endpoint,
    out: &Path,
    extra: &[&str],
    stop_after: Option<usize>,
) -> Output {
    let mut command = world.command();
    command.args([
        "snapshot",
        "--org-profile",
        "org",
        "--member-role",
        "OrganizationAccountAccessRole",
        "--regions",
        "eu-west-1,us-east-1",
        "--endpoint-url",
        &proxy.url(),
        "--output",
        out.to_str().unwrap(),
    ]);
    command.args(extra);
    if let Some(count) = stop_after {
        command.env("KMS_S3_DOCTOR_SWEEP_STOP_AFTER", count.to_string());
    }
    command.output().expect("cannot run kms-s3-doctor")
}

/// A snapshot (file or directory) merged into one value, without the
/// times it was read at.
fn merged(world: &World, snapshot: &Path, name: &str) -> Value {
    let out = world.path(name);
    let output = world
        .command()
        .args([
            "snapshot",
            "merge",
            snapshot.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("captured_at");
    value
}

fn ok(output: &Output, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn strings(value: &Value, field: &str) -> BTreeSet<String> {
    value[field]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_sweep_reads_the_whole_organization_shards_and_resumes() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_org_setup.py");
    let proxy = Proxy::start(moto.port, &world.path("requests.log"), 0);
    let setup = &world.setup;

    let whole_dir = world.path("whole");
    let started = std::time::Instant::now();
    ok(
        &sweep(&world, &proxy, &whole_dir, &[], None),
        "the whole sweep",
    );
    eprintln!(
        "sweep of {} accounts: {:.1}s, {} requests",
        MEMBERS + 1,
        started.elapsed().as_secs_f64(),
        proxy.requests().len()
    );
    let whole = merged(&world, &whole_dir, "whole.json");

    // Only reads: every request is a read the guard allows, or the member
    // role's AssumeRole.
    let mut problems = Vec::new();
    for (operation, _, _) in proxy.requests() {
        let mut parts = operation.split_whitespace();
        let service = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        let read = match service {
            // Directory buckets' Regional endpoint is signed for `s3express`.
            "s3" | "s3express" => matches!(name, "GET" | "HEAD"),
            "sts" if name == "AssumeRole" => true,
            _ => kms_s3_doctor::live::is_read_operation(name),
        };
        if !read {
            problems.push(format!("not a read: {operation}"));
        }
    }

    // What the setup created is all in the snapshot.
    let accounts = setup["accounts"].as_object().unwrap();
    assert_eq!(accounts.len(), MEMBERS + 1);
    let swept_accounts: BTreeSet<&String> = whole["accounts"].as_object().unwrap().keys().collect();
    let created: BTreeSet<&String> = accounts.keys().collect();
    if swept_accounts != created {
        problems.push(format!(
            "accounts: swept {swept_accounts:?}, created {created:?}"
        ));
    }
    let listed = |field: &str, id: &str| -> BTreeSet<String> {
        whole[field]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .filter_map(|item| item[id].as_str().map(str::to_string))
            .collect()
    };
    let swept_buckets = listed("buckets", "name");
    let swept_keys = listed("keys", "arn");
    let swept_points = listed("access_points", "arn");
    let swept_principals = listed("principals", "arn");
    for (account, made) in accounts {
        let info = &whole["accounts"][account];
        for (field, swept) in [
            ("buckets", &swept_buckets),
            ("keys", &swept_keys),
            ("access_points", &swept_points),
        ] {
            let missing: Vec<String> = strings(made, field).difference(swept).cloned().collect();
            // moto's server answers S3 Control's ListAccessPoints as an S3
            // request: the access points are then recorded as unknown.
            let recorded = field == "access_points" && info["access_points_error"].is_string();
            if !missing.is_empty() && !recorded {
                problems.push(format!(
                    "{account}: {field} not swept: {missing:?} ({info})"
                ));
            }
        }
        let missing: Vec<String> = strings(made, "principals")
            .difference(&swept_principals)
            .cloned()
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{account}: principals not swept: {missing:?} ({info})"
            ));
        }
        // AWS Organizations User Guide, "Service control policies": the
        // SCP attached to the OU is one level of each account in it.
        let in_ou = made["in_ou"].as_bool().unwrap_or(false);
        let scp_levels = info["scps"].as_array().map(Vec::len);
        if in_ou && scp_levels != Some(3) {
            problems.push(format!(
                "{account}: in the OU, SCP levels {scp_levels:?}: {info}"
            ));
        }
        if info["org_id"] != setup["org_id"] {
            problems.push(format!(
                "{account}: org_id {} not {}",
                info["org_id"], setup["org_id"]
            ));
        }
    }
    // Every key's grants were read, the grant to the role included.
    let granted = whole["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| {
            key["grants"]
                .as_array()
                .is_some_and(|grants| !grants.is_empty())
        })
        .count();
    if granted != MEMBERS {
        problems.push(format!("{granted} keys with grants, expected {MEMBERS}"));
    }

    // Three shards, merged, are the whole.
    let shard_dirs: Vec<_> = (1..=3)
        .map(|index| world.path(&format!("shard-{index}")))
        .collect();
    for (index, dir) in shard_dirs.iter().enumerate() {
        let shard = format!("{}/3", index + 1);
        ok(
            &sweep(&world, &proxy, dir, &["--shard", &shard], None),
            &shard,
        );
    }
    let joined = world.path("joined.json");
    let mut merge = world.command();
    merge.args(["snapshot", "merge"]);
    merge.args(shard_dirs.iter().map(|dir| dir.to_str().unwrap()));
    merge.args(["--output", joined.to_str().unwrap()]);
    ok(&merge.output().unwrap(), "merging the shards");
    let mut joined: Value =
        serde_json::from_str(&std::fs::read_to_string(&joined).unwrap()).unwrap();
    joined.as_object_mut().unwrap().remove("captured_at");
    if joined != whole {
        problems.push("the merged shards differ from the whole sweep".to_string());
    }

    // Interrupted after five accounts, then resumed: the whole.
    let resumed_dir = world.path("resumed");
    let first = sweep(&world, &proxy, &resumed_dir, &[], Some(5));
    assert_eq!(
        first.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(resumed_dir.join("manifest.json")).unwrap())
            .unwrap();
    let finished = manifest["accounts"].as_object().unwrap().len();
    assert!(
        (5..=MEMBERS).contains(&finished),
        "{finished} accounts finished before the stop"
    );
    // Without --resume the partial directory is refused, untouched.
    let refused = sweep(&world, &proxy, &resumed_dir, &[], None);
    assert_eq!(refused.status.code(), Some(2));
    proxy.clear();
    ok(
        &sweep(&world, &proxy, &resumed_dir, &["--resume"], None),
        "the resumed sweep",
    );
    let assumed = proxy
        .requests()
        .iter()
        .filter(|(operation, _, _)| operation.ends_with("AssumeRole"))
        .count();
    // The management account needs no member role.
    if assumed > MEMBERS + 1 - finished {
        problems.push(format!(
            "the resumed sweep assumed {assumed} roles; {finished} accounts were finished"
        ));
    }
    if merged(&world, &resumed_dir, "resumed.json") != whole {
        problems.push("the resumed sweep differs from the whole sweep".to_string());
    }

    // A fifth of every service's requests answered with its throttling
    // error: the SDK's retries absorb them and the content is the same.
    let faults = FaultProxy::start(
        moto.port,
        Faults {
            seed: 27,
            fraction: 0.2,
            always: Vec::new(),
        },
    );
    let throttled_dir = world.path("throttled");
    let started = std::time::Instant::now();
    let output = sweep(&world, &faults, &throttled_dir, &[], None);
    ok(&output, "the throttled sweep");
    let counts = faults.counts();
    eprintln!(
        "throttled sweep: {:.1}s, {} of {} requests throttled: {}",
        started.elapsed().as_secs_f64(),
        counts.total_throttled(),
        counts.total_seen(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    if counts.total_throttled() == 0 {
        problems.push("the fault proxy throttled nothing".to_string());
    }
    // The closing summary counts the retries the throttling caused: a
    // sweep that hid them would leave the user blind to a quota problem.
    let stderr = String::from_utf8_lossy(&output.stderr);
    if counts.total_throttled() > 0 && !stderr.lines().any(|line| line.contains(" retried, ")) {
        problems.push(format!(
            "{} requests were throttled but the sweep's summary says nothing: {stderr}",
            counts.total_throttled()
        ));
    }
    if merged(&world, &throttled_dir, "throttled.json") != whole {
        problems.push("the throttled sweep differs from the whole sweep".to_string());
    }

    // One file instead of a directory.
    let file = world.path("org.json");
    ok(
        &sweep(&world, &proxy, &file, &["--shard", "1/1"], None),
        "the sweep into a file",
    );
    if merged(&world, &file, "file-again.json") != whole {
        problems.push("the sweep into one file differs from the directory".to_string());
    }
    assert!(!world.path("org.json.parts").exists());

    // The swept directory is a snapshot for `check`, for principals of
    // several accounts. In its own account a role reads its bucket through
    // its identity policy and the key's grant (IAM User Guide, "Policy
    // evaluation logic"; AWS KMS Developer Guide, "Grants in AWS KMS");
    // from another account the bucket policy and key policy, which name no
    // other account, deny (IAM User Guide, "Cross-account policy
    // evaluation logic").
    let members: Vec<(&String, &Value)> = accounts
        .iter()
        .filter(|(account, _)| *account != setup["management"].as_str().unwrap())
        .collect();
    let check = |bucket: &str, principal: &str| {
        world
            .command()
            .args([
                "check",
                "--snapshot",
                whole_dir.to_str().unwrap(),
                "--bucket",
                bucket,
            ])
            .args(["--principal", principal, "--op", "get"])
            .output()
            .unwrap()
            .status
            .code()
    };
    for (account, made) in members.iter().take(3) {
        let bucket = strings(made, "buckets").into_iter().next().unwrap();
        for principal in strings(made, "principals") {
            let code = check(&bucket, &principal);
            if code != Some(0) {
                problems.push(format!(
                    "check {principal} on {bucket} ({account}): exit {code:?}, expected allowed"
                ));
            }
        }
    }
    let (_, first) = members[0];
    let (_, second) = members[1];
    let bucket = strings(first, "buckets").into_iter().next().unwrap();
    for principal in strings(second, "principals") {
        let code = check(&bucket, &principal);
        if code != Some(1) {
            problems.push(format!(
                "check {principal} on another account's {bucket}: exit {code:?}, expected denied"
            ));
        }
    }

    // who-can over the swept directory lists principals of several accounts,
    // each with the verdict `check` gives it.
    let output = world
        .command()
        .args([
            "who-can",
            "--snapshot",
            whole_dir.to_str().unwrap(),
            "--bucket",
            &bucket,
            "--op",
            "get",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    ok(&output, "who-can over the swept directory");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = report["principals"].as_array().unwrap();
    let row_accounts: BTreeSet<&str> = rows
        .iter()
        .filter_map(|row| row["principal"].as_str()?.split(':').nth(4))
        .filter(|account| !account.is_empty())
        .collect();
    if row_accounts.len() < 2 {
        problems.push(format!(
            "who-can lists principals of {row_accounts:?} only, expected several accounts"
        ));
    }
    for row in rows {
        let principal = row["principal"].as_str().unwrap();
        if !principal.starts_with("arn:") {
            continue;
        }
        let expected = match check(&bucket, principal) {
            Some(0) => "allowed",
            Some(1) => "denied",
            Some(3) => "inconclusive",
            other => {
                problems.push(format!("check {principal}: exit {other:?}"));
                continue;
            }
        };
        if row["verdicts"]["get"] != expected {
            problems.push(format!(
                "who-can says {} for {principal}, check says {expected}",
                row["verdicts"]["get"]
            ));
        }
    }
    lazy_equals_merged(&world, &whole_dir, &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// who-can over the swept directory (which loads only the accounts each
/// bucket's policies can let in) prints, for every bucket, what it prints
/// over the directory merged into one file.
fn lazy_equals_merged(world: &World, dir: &Path, problems: &mut Vec<String>) {
    let file = world.path("lazy-merged.json");
    let output = world
        .command()
        .args(["snapshot", "merge", dir.to_str().unwrap(), "--output"])
        .arg(&file)
        .output()
        .unwrap();
    ok(&output, "snapshot merge of the swept directory");
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mut partial = 0;
    for bucket in merged["buckets"].as_array().unwrap() {
        let bucket = bucket["name"].as_str().unwrap();
        for only in ["allowed", "inconclusive"] {
            let who_can = |snapshot: &Path| {
                let output = world
                    .command()
                    .args(["who-can", "--debug", "--snapshot"])
                    .arg(snapshot)
                    .args(["--bucket", bucket, "--only", only, "--format", "json"])
                    .output()
                    .unwrap();
                ok(&output, "who-can");
                output
            };
            let lazy = who_can(dir);
            if String::from_utf8_lossy(&lazy.stderr).contains("loaded ") {
                partial += 1;
            }
            if lazy.stdout != who_can(&file).stdout {
                problems.push(format!(
                    "who-can --bucket {bucket} --only {only}: the swept directory and its merge differ"
                ));
            }
        }
    }
    // The setup's buckets let in their own account, or one more.
    if partial == 0 {
        problems.push("no who-can over the swept directory loaded only part of it".to_string());
    }
}
