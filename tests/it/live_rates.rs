//! Per-operation request rates (`--rate OPERATION=N`), seen from the wire:
//! a sweep of one account holding a dozen keys, through the fault-injecting
//! proxy (which records when each operation's requests arrive), with
//! `kms:ListGrants` held to a low rate. AWS KMS counts each operation's
//! quota on its own, per account and Region (AWS KMS Developer Guide,
//! "Request quotas": "Each request quota is calculated independently"), so
//! the `ListGrants` requests must be spread out while `DescribeKey`,
//! `GetKeyPolicy`, `ListAliases` and `ListResourceTags` go on meanwhile.
//!
//! Nothing here bounds how long anything takes: a loaded machine only
//! slows requests down, which spreads them further. The assertions are
//! on counts within windows measured from the arrivals themselves, with a
//! request of slack for the proxy's own scheduling.

use std::process::Output;
use std::time::Instant;

use crate::support::fault_proxy::{FaultProxy, Faults};
use crate::support::live::{BIN, Moto, World, moto_available};

const KEYS: usize = 12;
const RATE: f64 = 2.0;

fn sweep(world: &World, proxy: &FaultProxy, extra: &[&str]) -> Output {
    let out = world.path("swept");
    let mut command = world.command();
    command.args([
        "snapshot",
        "--org-profile",
        "org",
        "--member-role",
        "OrganizationAccountAccessRole",
        "--accounts",
        world.setup["account"].as_str().expect("account"),
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &proxy.url(),
        "--output",
        out.to_str().unwrap(),
    ]);
    command.args(extra);
    command.output().expect("cannot run kms-s3-doctor")
}

fn sorted(times: Option<&Vec<Instant>>) -> Vec<Instant> {
    let mut times = times.cloned().unwrap_or_default();
    times.sort();
    times
}

#[test]
fn a_rate_holds_its_operation_and_no_other() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_rate_setup.py");
    let proxy = FaultProxy::start(moto.port, Faults::default());
    let output = sweep(&world, &proxy, &["--rate", "kms:ListGrants=2"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let counts = proxy.counts();
    let grants = sorted(counts.arrivals.get("kms:ListGrants"));
    assert!(
        grants.len() >= KEYS,
        "{} ListGrants requests for {KEYS} keys: {:?}",
        grants.len(),
        counts.arrivals.keys().collect::<Vec<_>>()
    );

    // No window holds more than the one request a bucket starts with plus
    // the rate times the window's length (and one more for the proxy).
    for (first, start) in grants.iter().enumerate() {
        for (last, end) in grants.iter().enumerate().skip(first + 1) {
            let count = (last - first + 1) as f64;
            let window = end.duration_since(*start).as_secs_f64();
            assert!(
                count <= 2.0 + RATE * window,
                "{count} ListGrants requests arrived within {window:.3} s at {RATE} per second"
            );
        }
    }
    // Which spreads them over at least (n - 2) / rate seconds; unpaced,
    // eight keys read at once send theirs within milliseconds.
    let span = grants[grants.len() - 1]
        .duration_since(grants[0])
        .as_secs_f64();
    let least = (grants.len() as f64 - 2.0) / RATE;
    assert!(
        span >= least,
        "{} ListGrants requests within {span:.3} s",
        grants.len()
    );

    // The other per-key operations are not held back: the first eight
    // keys' (read at once) are all in before ListGrants' fifth request,
    // which the rate holds back two seconds or more after its first. Held
    // to the same rate, at most five of them could be.
    let fifth = grants[4];
    let mut others = Vec::new();
    for operation in [
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:ListAliases",
        "kms:ListResourceTags",
    ] {
        let times = sorted(counts.arrivals.get(operation));
        assert!(times.len() >= KEYS, "{operation}: {}", times.len());
        others.extend(times);
    }
    let before = others.iter().filter(|time| **time < fifth).count();
    eprintln!(
        "ListGrants: {} requests over {span:.2} s; {before} other KMS requests before its fifth",
        grants.len()
    );
    assert!(
        before >= 8 * 4,
        "only {before} other KMS requests arrived before ListGrants' fifth"
    );
}

#[test]
fn a_bad_rate_is_refused_naming_the_flag() {
    for (rate, says) in [
        ("kms:Decrypt=5", "not an operation kms-s3-doctor sends"),
        ("kms:ListGrants=0", "above 0"),
        ("kms:ListGrants=-1", "above 0"),
        ("kms:ListGrants=fast", "not a whole number"),
        (
            "s3:ListAccessPoints=5",
            "did you mean s3control:ListAccessPoints",
        ),
        ("kms:ListGrants", "OPERATION=N"),
    ] {
        let output = std::process::Command::new(BIN)
            .args([
                "snapshot",
                "--bucket",
                "b",
                "--output",
                "/nonexistent/never-written.json",
                "--rate",
                rate,
            ])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{rate}: {stderr}");
        assert!(stderr.contains("--rate"), "{rate}: {stderr}");
        assert!(stderr.contains(says), "{rate}: {stderr}");
    }
}
