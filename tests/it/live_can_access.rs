//! `can-access` read live from a local AWS endpoint (moto, three accounts
//! as `moto_can_access_setup.py` builds them): every bucket the two
//! profiles' accounts own is judged for user pat of account P, exactly as
//! `can-access` judges the snapshot `snapshot --all-buckets` writes with
//! the same profiles, with the verdicts AWS's documented rules give, and
//! with nothing but reads sent.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::live::{Guard, Moto, Proxy, World, moto_available, strings};
use serde_json::Value;

const PAT: &str = "arn:aws:iam::111111111111:user/pat";

/// Every request the proxy saw is a read: S3 `GET`/`HEAD`, or an operation
/// of the tool's read-only list.
fn is_read(line: &str) -> bool {
    let operation = line.split('\t').next().unwrap_or_default();
    let mut parts = operation.split_whitespace();
    let service = parts.next().unwrap_or_default();
    let name = parts.next().unwrap_or_default();
    if service == "s3" {
        return matches!(name, "GET" | "HEAD");
    }
    kms_s3_doctor::live::is_read_operation(name)
}

/// `(verdict, link)` of `operation` on `bucket`'s own row.
fn cell<'a>(report: &'a Value, bucket: &str, operation: &str) -> (&'a str, Option<&'a str>) {
    let row = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["bucket"] == bucket && row["object"].is_null())
        .unwrap_or_else(|| panic!("no row for bucket `{bucket}`: {report}"));
    (
        row["verdicts"][operation].as_str().unwrap(),
        row["links"][operation].as_str(),
    )
}

#[test]
fn live_can_access_equals_can_access_over_the_snapshot_of_every_bucket() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_can_access_setup.py");
    let proxy = Proxy::start(moto.port, &world.path("requests.log"), 0);
    let url = proxy.url();
    // moto answers ListGrants on a key it does not hold with HTTP 500: two
    // attempts keep the test quick, and the key stays unknown either way.
    let aws = [
        "--profile",
        "r",
        "--principal-profile",
        "p",
        "--endpoint-url",
        url.as_str(),
        "--max-attempts",
        "2",
    ];

    let saved = world.path("saved.json");
    let mut live = strings(&["can-access", "--principal", PAT, "--format", "json"]);
    live.extend(strings(&aws));
    live.extend(["--save-snapshot".to_string(), saved.display().to_string()]);
    let output = world.run(&live);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let live: Value = serde_json::from_slice(&output.stdout).unwrap();

    let captured = world.path("every-bucket.json");
    let mut snapshot = strings(&["snapshot", "--all-buckets", "--principal", PAT, "--output"]);
    snapshot.push(captured.display().to_string());
    snapshot.extend(strings(&aws));
    let output = world.run(&snapshot);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // With every principal of both accounts too: the same answer for pat,
    // from a snapshot that also serves who-can over any of the buckets.
    let everyone = world.path("everyone.json");
    let mut snapshot = strings(&[
        "snapshot",
        "--all-buckets",
        "--all-principals",
        "--principal",
        PAT,
        "--output",
    ]);
    snapshot.push(everyone.display().to_string());
    snapshot.extend(strings(&aws));
    let output = world.run(&snapshot);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_str(&std::fs::read_to_string(&everyone).unwrap()).unwrap();
    let principals: Vec<&str> = read["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["arn"].as_str().unwrap())
        .collect();
    for arn in [
        PAT,
        "arn:aws:iam::111111111111:user/p-admin",
        "arn:aws:iam::222222222222:user/r-admin",
    ] {
        assert!(principals.contains(&arn), "{arn} not in {principals:?}");
    }

    for file in [&captured, &saved, &everyone] {
        let mut offline = strings(&["can-access", "--principal", PAT, "--format", "json"]);
        offline.extend(["--snapshot".to_string(), file.display().to_string()]);
        let output = world.run(&offline);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let offline: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(live, offline, "live and over `{}`", file.display());
    }

    // Every bucket of both accounts, and no other.
    let mut buckets: Vec<&str> = live["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["bucket"].as_str().unwrap())
        .collect();
    buckets.sort_unstable();
    assert_eq!(
        buckets,
        [
            "p-bucket-denies",
            "p-key-allows",
            "p-key-refuses",
            "r-foreign-key",
            "r-private",
            "r-shares"
        ]
    );

    let all = ["list", "get", "put", "multipart"];
    let objects = ["get", "put", "multipart"];
    // Same account, pat's own policy allows S3 and KMS, and the key policy
    // lets the account's IAM policies grant its use ("Default key policy",
    // AWS KMS Developer Guide: the statement naming the account root).
    for operation in all {
        assert_eq!(
            cell(&live, "p-key-allows", operation),
            ("allowed", None),
            "{operation}"
        );
    }
    // The key policy names neither pat nor P's root, so no IAM policy can
    // grant the key ("Key policies in AWS KMS": to use an IAM policy to
    // allow access to a KMS key, the key policy must allow it). Listing
    // needs no key.
    assert_eq!(cell(&live, "p-key-refuses", "list"), ("allowed", None));
    for operation in objects {
        assert_eq!(
            cell(&live, "p-key-refuses", operation),
            ("denied", Some("key-policy")),
            "{operation}"
        );
    }
    // An explicit Deny in the bucket policy overrides every Allow ("Policy
    // evaluation logic", IAM User Guide).
    for operation in all {
        assert_eq!(
            cell(&live, "p-bucket-denies", operation),
            ("denied", Some("bucket-policy")),
            "{operation}"
        );
    }
    // Across accounts, the bucket policy and the key policy of account R
    // must name account P, and pat's own policy must allow too
    // ("Cross-account policy evaluation logic", IAM User Guide; "Allowing
    // users in other accounts to use a KMS key", AWS KMS Developer Guide).
    for operation in all {
        assert_eq!(
            cell(&live, "r-shares", operation),
            ("allowed", None),
            "{operation}"
        );
    }
    // No bucket policy in R: nothing there names P, so the cross-account
    // request is refused whatever pat's own policy says.
    for operation in all {
        assert_eq!(
            cell(&live, "r-private", operation),
            ("denied", Some("bucket-policy")),
            "{operation}"
        );
    }
    // The key is in account F, which no profile is of: its policy and its
    // organization's RCPs cannot be read, so object operations are
    // unknown, never allowed. Listing needs no key.
    assert_eq!(cell(&live, "r-foreign-key", "list"), ("allowed", None));
    for operation in objects {
        assert_eq!(
            cell(&live, "r-foreign-key", operation).0,
            "inconclusive",
            "{operation}"
        );
    }

    // Read-only, provably: every request the tool sent, ListBuckets among
    // them, and never a credential in the log or the output.
    let log = std::fs::read_to_string(&proxy.log).unwrap_or_default();
    let sent: Vec<&str> = log.lines().collect();
    let writes: Vec<&&str> = sent.iter().filter(|line| !is_read(line)).collect();
    assert!(writes.is_empty(), "non-read requests: {writes:?}");
    assert!(
        sent.iter()
            .any(|line| line.starts_with("s3 GET max-buckets")),
        "no ListBuckets in the log: {sent:?}"
    );
    let report = live.to_string();
    for secret in world.secrets() {
        assert!(!log.contains(&secret), "a credential in the request log");
        assert!(!report.contains(&secret), "a credential in the report");
        assert!(!stderr.contains(&secret), "a credential on stderr");
    }
}

/// `deny_proxy.py` in front of moto, refusing the S3 requests `rules`
/// name; the guard that stops it, and its URL.
fn deny_proxy(upstream: u16, rules: &Value) -> (Guard, String) {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/deny_proxy.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(upstream.to_string())
        .arg(rules.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start deny_proxy.py");
    let stdout = child.stdout.take().expect("proxy stdout");
    let guard = Guard {
        child,
        what: "deny_proxy.py",
    };
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("deny_proxy.py did not print its port");
    let port: u16 = line.trim().parse().expect("proxy port");
    (guard, format!("http://127.0.0.1:{port}"))
}

fn can_access_through(world: &World, url: &str) -> std::process::Output {
    world.run(&strings(&[
        "can-access",
        "--principal",
        PAT,
        "--format",
        "json",
        "--profile",
        "r",
        "--principal-profile",
        "p",
        "--endpoint-url",
        url,
        "--max-attempts",
        "2",
    ]))
}

/// What cannot be read is unknown, never allowed and never dropped: a
/// bucket whose policy is refused is listed, its operations inconclusive;
/// an account whose buckets cannot be listed is said on stderr; and when
/// no account's buckets can be listed the reading stops (exit 4) rather
/// than answer "reaches nothing".
#[test]
fn unreadable_parts_are_unknown_and_unlisted_accounts_are_said() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_can_access_setup.py");
    let p_key = world.setup["credentials"]["p"][0]
        .as_str()
        .unwrap()
        .to_string();
    let (_guard, url) = deny_proxy(
        moto.port,
        &serde_json::json!([
            {"path": "^/r-shares/?\\?policy", "key": null},
            {"path": "^/\\?.*max-buckets", "key": p_key},
        ]),
    );
    let output = can_access_through(&world, &url);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: the buckets of account 111111111111 were not listed")
            && stderr.contains("s3:ListAllMyBuckets"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut buckets: Vec<&str> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["bucket"].as_str().unwrap())
        .collect();
    buckets.sort_unstable();
    assert_eq!(buckets, ["r-foreign-key", "r-private", "r-shares"]);
    // Across accounts the bucket policy must allow ("Cross-account policy
    // evaluation logic", IAM User Guide): unread, it leaves every
    // operation unknown.
    for operation in ["list", "get", "put", "multipart"] {
        assert_eq!(
            cell(&report, "r-shares", operation),
            ("inconclusive", Some("bucket-policy")),
            "{operation}"
        );
    }

    let (_all, url) = deny_proxy(
        moto.port,
        &serde_json::json!([{"path": "^/\\?.*max-buckets", "key": null}]),
    );
    let output = can_access_through(&world, &url);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no bucket could be listed"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_snapshot_and_aws_flags_are_refused_together() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "can-access",
            "--principal",
            PAT,
            "--snapshot",
            "fixtures/none.json",
            "--profile",
            "a",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--profile"), "{stderr}");
}

/// `snapshot --all-buckets` reads for one principal, in place of one
/// bucket: without `--principal`, or beside `--bucket`, it is bad input.
#[test]
fn all_buckets_needs_a_principal_and_no_bucket() {
    let scratch = tempfile::tempdir().unwrap();
    let snapshot = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
            .current_dir(scratch.path())
            .arg("snapshot")
            .args(args)
            .args(["--output", "never-written.json"])
            .output()
            .unwrap()
    };
    let output = snapshot(&["--all-buckets"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--principal"));
    let output = snapshot(&["--all-buckets", "--principal", PAT, "--bucket", "b"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--bucket"));
    assert!(!scratch.path().join("never-written.json").exists());
}
