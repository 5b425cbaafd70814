//! Peak memory of a snapshot with 10,000 principals in ten accounts (the
//! walkthrough's with 10,000 more users and roles): loaded, then one denied
//! `check` (with the re-check of its fixes), one allowed, and `test` with
//! 1,000 expectations. Criterion measures time, not memory: this prints the
//! process's peak resident size (`VmHWM`) at each step, and
//! `/usr/bin/time -v` on the binary says the same from outside.

use kms_s3_doctor::access_tests;
use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::{Value, json};

const EXTRA_PRINCIPALS: usize = 10_000;

fn extra_principal(index: usize) -> Value {
    let account = format!("{:012}", 444_444_444_000usize + index % 10);
    let arn = if index.is_multiple_of(2) {
        format!("arn:aws:iam::{account}:user/team-{}/u{index}", index % 7)
    } else {
        format!("arn:aws:iam::{account}:role/service/r{index}")
    };
    json!({
        "arn": arn,
        "tags": {"team": format!("team-{}", index % 7)},
        "policies": [{"name": "shared-read", "kind": "managed", "document": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::account-a-bucket/*"}]}}],
        "permissions_boundary": null,
        "session_policies": null
    })
}

fn many_principals() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let Ok(mut snapshot) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    let mut principals: Vec<Value> = (0..EXTRA_PRINCIPALS).map(extra_principal).collect();
    if let Some(Value::Array(known)) = snapshot.get_mut("principals") {
        principals.append(known);
        *known = principals;
    }
    snapshot.to_string()
}

fn request(principal: &str) -> CheckRequest {
    CheckRequest {
        access_point: None,
        bucket: "account-a-bucket".to_string(),
        object: Some("reports/data.csv".to_string()),
        principal: principal.to_string(),
        via_role: None,
        external_id: None,
        operations: Operation::DEFAULT.to_vec(),
        context: Vec::new(),
        via_service: None,
        unknown_context: Vec::new(),
        now: chrono::Utc::now(),
    }
}

fn tests_file(count: usize) -> String {
    const PRINCIPALS: [&str; 3] = [
        "arn:aws:iam::111111111111:user/ann",
        "arn:aws:iam::222222222222:user/dilip",
        "arn:aws:iam::444444444003:role/service/r3",
    ];
    let mut text = String::from("bucket = \"account-a-bucket\"\nobject = \"reports/data.csv\"\n");
    for index in 0..count {
        let expect = if index.is_multiple_of(2) {
            "allowed"
        } else {
            "denied"
        };
        text.push_str(&format!(
            "\n[[test]]\nname = \"expectation {index}\"\nprincipal = \"{}\"\nops = [\"get\"]\nexpect = \"{expect}\"\n",
            PRINCIPALS[index % PRINCIPALS.len()],
        ));
    }
    text
}

/// The process's peak resident size so far, as Linux reports it.
fn peak() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "not known".to_string())
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names other benches
    // skips this one.
    if std::env::args()
        .skip(1)
        .any(|arg| !arg.starts_with('-') && !"memory".contains(arg.as_str()))
    {
        return;
    }
    let text = many_principals();
    println!("snapshot text: {} bytes; peak {}", text.len(), peak());
    let Ok(snapshot) = Snapshot::parse("many.json", &text) else {
        println!("the generated snapshot does not load");
        return;
    };
    println!(
        "loaded {} principals; peak {}",
        snapshot.principals.len(),
        peak()
    );
    for principal in [
        "arn:aws:iam::111111111111:user/ann",
        "arn:aws:iam::222222222222:user/dilip",
    ] {
        let verdict = pipeline::judge_and_fix(&snapshot, &request(principal))
            .map(|diagnosis| diagnosis.verdict.as_str());
        println!("check {principal}: {verdict:?}; peak {}", peak());
    }
    let now = chrono::Utc::now();
    if let Ok(file) = access_tests::parse("bench.toml", &tests_file(1_000))
        && let Ok(run) = pipeline::run_tests(&file, &snapshot, None, now)
    {
        println!("test, {} expectations; peak {}", run.results.len(), peak());
    }
}
