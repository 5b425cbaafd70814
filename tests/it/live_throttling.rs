//! Live reading under throttling, through the fault-injecting proxy in
//! front of moto: the walkthrough's single-chain snapshot read with a fifth
//! of every service's requests throttled gives the same content as read
//! directly, for ten seeds, and the closing summary counts the retries; a
//! service that throttles every request leaves the documents it owns
//! unknown with the reason (and the verdict is never "allowed"), the rest
//! is still read. The AWS SDKs retry throttling errors with backoff (AWS
//! SDKs and Tools Reference Guide, "Retry behavior"); what cannot be read
//! stays unknown.
//!
//! Run with `--nocapture` to see the wall time and retry counts per run.

use std::time::Instant;

use serde_json::Value;

use crate::support::fault_proxy::{FaultProxy, Faults};
use crate::support::live::{Moto, World, moto_available, strings};

/// The walkthrough's single chain: the bucket, its object, a role session
/// through `--via-role`, a second key named by `--context`, and account A's
/// organization (S3, KMS, IAM, STS and Organizations all read).
fn snapshot_args(world: &World, endpoint: &str, out: &str, extra: &[&str]) -> Vec<String> {
    let role = world.setup["role"].as_str().expect("role ARN").to_string();
    let mut args = strings(&[
        "snapshot",
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
        "--principal",
        "arn:aws:sts::111111111111:assumed-role/partner-reader/build-7",
        "--via-role",
        &role,
        "--context",
        "s3:x-amz-server-side-encryption-aws-kms-key-id=alias/s3-nokeygrant-bucket",
        "--profile",
        "a",
        "--endpoint-url",
        endpoint,
        "--output",
        out,
    ]);
    args.extend(strings(extra));
    args
}

/// The snapshot's content without the time it was taken.
fn content(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).expect("snapshot written");
    let mut snapshot: Value = serde_json::from_str(&text).expect("snapshot JSON");
    if let Some(object) = snapshot.as_object_mut() {
        object.remove("captured_at");
    }
    snapshot
}

/// Every `*_error` text of a snapshot, with where it is.
fn errors(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{at}/{key}");
                if key.ends_with("_error")
                    && let Some(text) = value.as_str()
                {
                    out.push(format!("{here}: {text}"));
                }
                errors(value, &here, out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                errors(item, &format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// `N` before `word` in the summary line (`... 12 retried ...`).
fn count_before(summary: &str, word: &str) -> Option<usize> {
    let words: Vec<&str> = summary.split_whitespace().collect();
    words
        .windows(2)
        .find(|pair| pair[1].trim_end_matches([',', ';']) == word)
        .and_then(|pair| pair[0].parse().ok())
}

#[test]
fn a_fifth_throttled_reads_the_same_snapshot() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let direct = world.path("direct.json");
    let started = Instant::now();
    let output = world.run(&snapshot_args(
        &world,
        &moto.url(),
        &direct.display().to_string(),
        &[],
    ));
    let direct_time = started.elapsed();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Nothing throttled, nothing retried: nothing to say off a terminal.
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let expected = content(&direct);
    let mut expected_errors = Vec::new();
    errors(&expected, "", &mut expected_errors);
    eprintln!("direct read: {:.2}s", direct_time.as_secs_f64());

    let mut problems = Vec::new();
    let mut total_retried = 0;
    for seed in 1..=10u64 {
        let proxy = FaultProxy::start(
            moto.port,
            Faults {
                seed,
                fraction: 0.2,
                always: Vec::new(),
            },
        );
        let out = world.path(&format!("throttled-{seed}.json"));
        let started = Instant::now();
        let output = world.run(&snapshot_args(
            &world,
            &proxy.url(),
            &out.display().to_string(),
            &[],
        ));
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let counts = proxy.counts();
        if output.status.code() != Some(0) {
            problems.push(format!("seed {seed}: exit {:?}: {stderr}", output.status));
            continue;
        }
        let got = content(&out);
        if got != expected {
            let mut got_errors = Vec::new();
            errors(&got, "", &mut got_errors);
            got_errors.retain(|error| !expected_errors.contains(error));
            problems.push(format!(
                "seed {seed}: the snapshot differs from the direct read; new unknowns: {got_errors:#?}"
            ));
        }
        // The summary counts what the proxy did: every throttled answer
        // the tool received was retried, and none was the last. A request
        // whose answer the tool stopped waiting for (a branch whose result
        // was no longer needed) is counted by the proxy alone, so the
        // summary may count fewer, never more.
        let summary = stderr.lines().find(|line| line.contains("retried"));
        let Some(summary) = summary else {
            problems.push(format!(
                "seed {seed}: no summary on stderr although {} requests were throttled: {stderr}",
                counts.total_throttled()
            ));
            continue;
        };
        let throttled = count_before(summary, "throttled");
        let retried = count_before(summary, "retried").unwrap_or_default();
        let failed = count_before(summary, "failed");
        let proxy_throttled = counts.total_throttled();
        if throttled.is_none_or(|counted| {
            counted > proxy_throttled || (proxy_throttled > 0 && counted == 0)
        }) || retried < throttled.unwrap_or_default()
            || failed != Some(0)
        {
            problems.push(format!(
                "seed {seed}: summary `{summary}` but the proxy throttled {} of {} requests",
                counts.total_throttled(),
                counts.total_seen()
            ));
        }
        total_retried += retried;
        eprintln!(
            "seed {seed}: {:.2}s, proxy saw {} requests and throttled {} ({:?}); {summary}",
            took.as_secs_f64(),
            counts.total_seen(),
            counts.total_throttled(),
            counts.throttled
        );
    }
    eprintln!("ten seeds: {total_retried} retries in all");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_service_that_always_throttles_leaves_only_its_documents_unknown() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let mut problems = Vec::new();

    // KMS refuses everything, with the default attempts and timeout: the
    // keys are unknown with the reason, the rest is read, and the reading
    // ends well within the default --timeout.
    let proxy = FaultProxy::start(
        moto.port,
        Faults {
            seed: 1,
            fraction: 0.0,
            always: vec!["kms"],
        },
    );
    let out = world.path("no-kms.json");
    let started = Instant::now();
    let output = world.run(&snapshot_args(
        &world,
        &proxy.url(),
        &out.display().to_string(),
        &[],
    ));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let snapshot = content(&out);
    let keys = snapshot["keys"].as_array().cloned().unwrap_or_default();
    if keys.is_empty() {
        problems.push(format!("KMS throttled: no key entry at all: {snapshot}"));
    }
    for key in &keys {
        let mut key_errors = Vec::new();
        errors(key, "", &mut key_errors);
        if key.get("policy").is_some_and(Value::is_string)
            || !key_errors
                .iter()
                .any(|error| error.contains("ThrottlingException"))
        {
            problems.push(format!("KMS throttled: key read or no reason: {key}"));
        }
    }
    if !snapshot["buckets"][0]["policy"].is_string()
        || snapshot["principals"].as_array().is_none_or(Vec::is_empty)
        || !snapshot["accounts"]["111111111111"]["scps"].is_array()
    {
        problems.push(format!(
            "KMS throttled: S3, IAM or Organizations documents not read: {snapshot}"
        ));
    }
    let summary = stderr.lines().find(|line| line.contains("retried"));
    let counts = proxy.counts();
    eprintln!(
        "KMS always throttled: {:.2}s, proxy throttled {} of {}; {}",
        took.as_secs_f64(),
        counts.total_throttled(),
        counts.total_seen(),
        summary.unwrap_or("no summary")
    );
    if summary.and_then(|line| count_before(line, "failed")) == Some(0) {
        problems.push(format!(
            "KMS throttled: the summary counts no failure: {stderr}"
        ));
    }
    // The judge, reading live through the same proxy, never says allowed.
    let check = world.run(&strings(&[
        "check",
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
        "--principal",
        "arn:aws:iam::111111111111:root",
        "--profile",
        "a",
        "--endpoint-url",
        &proxy.url(),
        "--max-attempts",
        "2",
        "--format",
        "json",
    ]));
    let report: Value = serde_json::from_slice(&check.stdout).unwrap_or_else(|error| {
        panic!(
            "check report is not JSON ({error}): {}",
            String::from_utf8_lossy(&check.stderr)
        )
    });
    if report["verdict"] == "allowed" || check.status.code() == Some(0) {
        problems.push(format!(
            "KMS throttled: check says {} (exit {:?})",
            report["verdict"],
            check.status.code()
        ));
    }
    drop(proxy);

    // Organizations refuses everything: the account's SCPs and RCPs are
    // unknown with the reason; the bucket, keys and principals are read.
    let proxy = FaultProxy::start(
        moto.port,
        Faults {
            seed: 1,
            fraction: 0.0,
            always: vec!["organizations"],
        },
    );
    let out = world.path("no-orgs.json");
    let started = Instant::now();
    let output = world.run(&snapshot_args(
        &world,
        &proxy.url(),
        &out.display().to_string(),
        &["--max-attempts", "3"],
    ));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let snapshot = content(&out);
    let account = &snapshot["accounts"]["111111111111"];
    for field in ["scps", "rcps"] {
        let reason = account[format!("{field}_error")]
            .as_str()
            .unwrap_or_default();
        if account[field].is_array() || !reason.contains("TooManyRequestsException") {
            problems.push(format!(
                "Organizations throttled: {field} read or no reason: {account}"
            ));
        }
    }
    if !snapshot["buckets"][0]["policy"].is_string()
        || snapshot["keys"]
            .as_array()
            .is_none_or(|keys| keys.iter().any(|key| !key["policy"].is_string()))
        || snapshot["principals"].as_array().is_none_or(Vec::is_empty)
    {
        problems.push(format!(
            "Organizations throttled: S3, KMS or IAM documents not read: {snapshot}"
        ));
    }
    eprintln!(
        "Organizations always throttled (3 attempts): {:.2}s; {}",
        took.as_secs_f64(),
        stderr
            .lines()
            .find(|line| line.contains("retried"))
            .unwrap_or("no summary")
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// `--max-concurrency 1`: never more than one request of a service (in
/// one signing region, for the one account read) at the proxy at once;
/// the default lets several through.
#[test]
fn requests_in_flight_are_bounded_per_service() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let mut most = Vec::new();
    for limit in ["1", "8"] {
        // 150 ms per answer, so concurrent reads overlap at the proxy.
        let proxy = FaultProxy::start_delayed(moto.port, Faults::default(), 150);
        let out = world.path(&format!("bounded-{limit}.json"));
        let output = world.run(&snapshot_args(
            &world,
            &proxy.url(),
            &out.display().to_string(),
            &["--max-concurrency", limit],
        ));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        most.push(proxy.counts().most_in_flight);
    }
    eprintln!(
        "most in flight with 1: {:?}; with 8: {:?}",
        most[0], most[1]
    );
    assert!(
        most[0].values().all(|&count| count == 1),
        "--max-concurrency 1: {:?}",
        most[0]
    );
    assert!(
        most[1].values().any(|&count| count > 1),
        "the default lets reads overlap: {:?}",
        most[1]
    );
}

/// The state before adaptive retry: three attempts, as the SDKs default to.
/// Not a pass/fail test (its outcome is chance); run it by name with
/// `--ignored --nocapture` to see how many of ten seeds lose a field.
#[test]
#[ignore = "a measurement: run by name with --ignored --nocapture"]
fn three_attempts_under_a_fifth_throttled() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let direct = world.path("direct.json");
    let output = world.run(&snapshot_args(
        &world,
        &moto.url(),
        &direct.display().to_string(),
        &[],
    ));
    assert_eq!(output.status.code(), Some(0));
    let expected = content(&direct);
    let (mut differ, mut fail) = (0, 0);
    for seed in 1..=10u64 {
        let proxy = FaultProxy::start(
            moto.port,
            Faults {
                seed,
                fraction: 0.2,
                always: Vec::new(),
            },
        );
        let out = world.path(&format!("three-{seed}.json"));
        let started = Instant::now();
        let output = world.run(&snapshot_args(
            &world,
            &proxy.url(),
            &out.display().to_string(),
            &["--max-attempts", "3"],
        ));
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let outcome = if output.status.code() != Some(0) {
            fail += 1;
            format!("failed: {}", stderr.trim())
        } else if content(&out) != expected {
            differ += 1;
            "some documents unknown".to_string()
        } else {
            "identical".to_string()
        };
        eprintln!(
            "seed {seed}: {:.2}s, {outcome}; {}",
            started.elapsed().as_secs_f64(),
            stderr
                .lines()
                .find(|line| line.contains("retried"))
                .unwrap_or("")
        );
    }
    eprintln!("three attempts: {differ} of 10 with unknown documents, {fail} failed outright");
}
