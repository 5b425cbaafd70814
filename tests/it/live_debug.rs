//! `--debug` and `RUST_LOG` on the real binary against moto: one stderr
//! line per AWS call naming the service and operation, the region, the
//! endpoint and the outcome, and never the secret access key or the session
//! token given in the environment; without either, nothing extra.

use crate::support::live::{Moto, Proxy, World, moto_available, strings};

const ANN: &str = "arn:aws:iam::111111111111:user/ann";
/// A session token as STS shapes them; moto does not check it.
const TOKEN: &str = "FwoGZXIvYXdzEBsaDKms3doctorSessionTokenNeverLogged";

/// `check` of ann over account a's bucket, with account a's keys and a
/// session token in the environment, through `endpoint`.
fn check(
    world: &World,
    endpoint: &str,
    extra: &[&str],
    rust_log: Option<&str>,
) -> (String, String) {
    let pair = &world.setup["credentials"]["a"];
    let mut command = world.command();
    command
        .env("AWS_ACCESS_KEY_ID", pair[0].as_str().unwrap())
        .env("AWS_SECRET_ACCESS_KEY", pair[1].as_str().unwrap())
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    let mut args = strings(&[
        "check",
        "--format",
        "json",
        "--endpoint-url",
        endpoint,
        "--region",
        "eu-west-1",
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
        "--principal",
        ANN,
    ]);
    args.extend(strings(extra));
    let output = command.args(&args).output().unwrap();
    assert!(
        output.status.code() != Some(4) && output.status.code() != Some(2),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn secrets(world: &World) -> Vec<String> {
    let mut secrets = world.secrets();
    secrets.push(TOKEN.to_string());
    secrets
}

#[test]
fn debug_logs_each_call_and_no_secret() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let proxy = Proxy::start(moto.port, &world.path("requests.log"), 0);
    let endpoint = proxy.url();

    // Default: the report only, nothing on stderr.
    let (quiet_report, quiet) = check(&world, &endpoint, &[], None);
    assert_eq!(quiet, "", "stderr without --debug");
    proxy.clear();

    let (report, stderr) = check(&world, &endpoint, &["--debug"], None);
    assert_eq!(report, quiet_report, "--debug changes the report");
    let calls: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("kms_s3_doctor::aws"))
        .collect();
    // One line per call: as many as requests reached the endpoint (none of
    // these calls is retried).
    assert_eq!(
        calls.len(),
        proxy.requests().len(),
        "lines:\n{stderr}\nrequests: {:?}",
        proxy.requests()
    );
    let line = calls
        .iter()
        .find(|line| line.contains("s3 GetBucketPolicy "))
        .unwrap_or_else(|| panic!("no GetBucketPolicy line:\n{stderr}"));
    assert!(line.contains("region=eu-west-1"), "{line}");
    assert!(line.contains(&format!("endpoint={endpoint} ")), "{line}");
    assert!(line.contains("outcome=ok"), "{line}");
    assert!(line.contains("duration_ms="), "{line}");
    assert!(
        calls
            .iter()
            .any(|line| line.contains("sts GetCallerIdentity ")),
        "{stderr}"
    );
    for line in &calls {
        assert!(line.contains(" outcome="), "{line}");
    }
    for secret in secrets(&world) {
        assert!(
            !stderr.contains(&secret),
            "a credential in stderr:\n{stderr}"
        );
    }
    for header in ["Authorization", "Signature=", "X-Amz-Security-Token"] {
        assert!(!stderr.contains(header), "`{header}` in stderr:\n{stderr}");
    }

    // RUST_LOG alone chooses the events; the call lines are among them.
    let (_, from_env) = check(&world, &endpoint, &[], Some("kms_s3_doctor::aws=debug"));
    assert!(from_env.contains("s3 GetBucketPolicy "), "{from_env}");

    // Everything the SDK logs at its most verbose: it redacts the secret
    // key, the signature and the session token itself; the access key ids
    // its trace events print are masked.
    let (_, trace) = check(&world, &endpoint, &["--debug"], Some("trace"));
    let key_id = world.setup["credentials"]["a"][0].as_str().unwrap();
    let secret = world.setup["credentials"]["a"][1].as_str().unwrap();
    for hidden in [key_id, secret, TOKEN] {
        assert!(
            !trace.contains(hidden),
            "a secret in the trace log: {:?}",
            trace
                .lines()
                .filter(|line| line.contains(hidden))
                .map(|line| line.chars().take(300).collect::<String>())
                .collect::<Vec<_>>()
        );
    }
    assert!(trace.contains("s3 GetBucketPolicy "));

    // A bad RUST_LOG is bad input in one line.
    let mut command = world.command();
    let output = command
        .env("RUST_LOG", "kms_s3_doctor=loud")
        .args(["check", "--snapshot", "/nonexistent.json", "--bucket", "b"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("RUST_LOG"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn snapshot_takes_debug_too() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let out = world.path("snapshot.json");
    let output = world
        .command()
        .env_remove("RUST_LOG")
        .args([
            "snapshot",
            "--debug",
            "--profile",
            "a",
            "--endpoint-url",
            &moto.url(),
            "--bucket",
            "account-a-bucket",
            "--principal",
            ANN,
            "--output",
            &out.display().to_string(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|line| line.contains("s3 GetBucketPolicy ")
                && line.contains(&format!("endpoint={} ", moto.url()))),
        "{stderr}"
    );
    for secret in world.secrets() {
        assert!(!stderr.contains(&secret), "a credential in stderr");
    }
}

#[test]
fn errors_name_the_status_and_code() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let endpoint = moto.url();
    // A bucket moto does not have: S3 answers 404 NoSuchBucket.
    let pair = &world.setup["credentials"]["a"];
    let output = world
        .command()
        .env("AWS_ACCESS_KEY_ID", pair[0].as_str().unwrap())
        .env("AWS_SECRET_ACCESS_KEY", pair[1].as_str().unwrap())
        .env_remove("RUST_LOG")
        .args([
            "check",
            "--debug",
            "--endpoint-url",
            &endpoint,
            "--region",
            "eu-west-1",
            "--bucket",
            "no-such-bucket-here",
            "--principal",
            ANN,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .any(|line| line.contains("s3 ") && line.contains("outcome=HTTP 404 NoSuchBucket")),
        "{stderr}"
    );
}
