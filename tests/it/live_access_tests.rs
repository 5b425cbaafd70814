//! `kms-s3-doctor test` live, end to end: the real binary against
//! `moto_server` through the logging proxy (the harness of `live_e2e.rs`),
//! with a file of ten expectations over two principals (ann in the bucket's
//! account 111111111111, dilip in 222222222222). Checks each outcome, that
//! the saved snapshot replays to the same report offline, and the AWS
//! request count: it must not grow with the number of expectations, only
//! with the number of principals.

use crate::support::live::{Moto, Proxy, World, moto_available, strings};
use serde_json::Value;

const ANN: &str = "arn:aws:iam::111111111111:user/ann";
const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

/// One `[[test]]`.
fn test(name: &str, principal: &str, ops: &[&str], expect: &str) -> String {
    let ops: Vec<String> = ops.iter().map(|op| format!("\"{op}\"")).collect();
    format!(
        "\n[[test]]\nname = \"{name}\"\nprincipal = \"{principal}\"\nops = [{}]\nexpect = \"{expect}\"\n",
        ops.join(", ")
    )
}

const HEADER: &str = "bucket = \"account-a-bucket\"\nobject = \"reports/data.csv\"\n";

/// Ten expectations over ann and dilip; ann's key grant and dilip's
/// cross-account grants are in place (`moto_setup.py`), so every one is met
/// except the last, which wrongly expects dilip to be denied.
fn ten_tests() -> (String, Vec<&'static str>) {
    let mut text = HEADER.to_string();
    let mut outcomes = Vec::new();
    for (name, principal, ops, expect, outcome) in [
        ("ann lists", ANN, &["list"][..], "allowed", "met"),
        ("ann heads", ANN, &["head"][..], "allowed", "met"),
        ("ann gets", ANN, &["get"][..], "allowed", "met"),
        ("ann puts", ANN, &["put", "multipart"][..], "allowed", "met"),
        ("ann copies", ANN, &["copy"][..], "allowed", "met"),
        ("dilip lists", DILIP, &["list"][..], "allowed", "met"),
        ("dilip gets", DILIP, &["get"][..], "allowed", "met"),
        ("dilip puts", DILIP, &["put"][..], "allowed", "met"),
        (
            "dilip uploads in parts",
            DILIP,
            &["multipart"][..],
            "allowed",
            "met",
        ),
        ("dilip cannot put", DILIP, &["put"][..], "denied", "unmet"),
    ] {
        text.push_str(&test(name, principal, ops, expect));
        outcomes.push(outcome);
    }
    (text, outcomes)
}

/// Runs `test FILE` live through the proxy; returns the exit code, the JSON
/// report and the number of AWS requests sent.
fn run_live(
    world: &World,
    proxy: &Proxy,
    name: &str,
    text: &str,
    save: Option<&str>,
) -> (i32, Value, usize) {
    let path = world.path(name);
    std::fs::write(&path, text).unwrap();
    let mut args = strings(&["test", path.to_str().unwrap(), "--format", "json"]);
    args.extend(strings(&[
        "--endpoint-url",
        &proxy.url(),
        "--profile",
        "a",
        "--principal-profile",
        "b",
    ]));
    if let Some(save) = save {
        args.push("--save-snapshot".to_string());
        args.push(world.path(save).display().to_string());
    }
    proxy.clear();
    let output = world.run(&args);
    let requests = proxy.requests().len();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{name}: not JSON ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report, requests)
}

#[test]
fn one_gathering_judges_every_expectation_and_requests_grow_with_principals_only() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let proxy = Proxy::start(moto.port, &world.path("requests.log"), 0);

    let (text, outcomes) = ten_tests();
    let (code, report, ten) = run_live(&world, &proxy, "ten.toml", &text, Some("ten.json"));
    assert_eq!(code, 1, "{report:#}");
    let tests = report["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 10);
    for (test, outcome) in tests.iter().zip(&outcomes) {
        assert_eq!(test["outcome"], *outcome, "{}: {test:#}", test["name"]);
    }
    assert_eq!(tests[9]["reason"], "put is allowed");

    // Offline from what was read: the identical report.
    let offline = world.run(&strings(&[
        "test",
        world.path("ten.toml").to_str().unwrap(),
        "--format",
        "json",
        "--snapshot",
        world.path("ten.json").to_str().unwrap(),
    ]));
    assert_eq!(offline.status.code(), Some(1));
    let offline: Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(offline, report, "the offline replay differs from live");

    // The same two principals and object with two expectations: the same
    // requests, so the count does not grow with expectations.
    let two = format!(
        "{HEADER}{}{}",
        test("ann", ANN, &["list"], "allowed"),
        test("dilip", DILIP, &["list"], "allowed")
    );
    let (code, _, two_count) = run_live(&world, &proxy, "two.toml", &two, None);
    assert_eq!(code, 0);
    // One principal: fewer requests, so the count grows with principals.
    let one = format!("{HEADER}{}", test("ann", ANN, &["list"], "allowed"));
    let (code, _, one_count) = run_live(&world, &proxy, "one.toml", &one, None);
    assert_eq!(code, 0);
    eprintln!(
        "AWS requests: 10 expectations over 2 principals {ten}, 2 over 2 {two_count}, 1 over 1 {one_count}"
    );
    assert!(ten > 0, "the proxy saw no request");
    assert_eq!(
        ten, two_count,
        "10 expectations sent {ten} requests, 2 over the same principals {two_count}"
    );
    assert!(
        one_count < two_count,
        "one principal {one_count} requests, two {two_count}"
    );
    // And far fewer than one `check` per expectation would send.
    proxy.clear();
    let check = world.run(&strings(&[
        "check",
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
        "--principal",
        DILIP,
        "--format",
        "json",
        "--endpoint-url",
        &proxy.url(),
        "--profile",
        "a",
        "--principal-profile",
        "b",
    ]));
    assert_eq!(check.status.code(), Some(0));
    let per_check = proxy.requests().len();
    assert!(
        ten < 10 * per_check / 2,
        "the file sent {ten} requests; ten checks would send about {}",
        10 * per_check
    );
}
