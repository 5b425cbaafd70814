//! Many principals: the README's walkthrough snapshot with 5,000 more users
//! and roles spread over ten accounts, placed before the judged principals so
//! that finding a principal's documents cannot stop early. Measures one
//! check (allowed and denied) and `test` with 1,000 and 10,000 expectations.

#[path = "support/cpu_time.rs"]
mod cpu_time;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use std::hint::black_box;

use kms_s3_doctor::access_tests;
use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::{Value, json};

const EXTRA_PRINCIPALS: usize = 5_000;

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

/// The walkthrough snapshot with the extra principals first.
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

fn bench_principals<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let text = many_principals();
    let Ok(snapshot) = Snapshot::parse("many.json", &text) else {
        return;
    };
    let dilip = request("arn:aws:iam::222222222222:user/dilip");
    let ann = request("arn:aws:iam::111111111111:user/ann");
    let mut group = c.benchmark_group("5,000 principals");
    group.bench_function("check dilip, 4 operations", |b| {
        b.iter(|| pipeline::judge_and_fix(black_box(&snapshot), black_box(&dilip)))
    });
    group.bench_function("check ann, 4 operations", |b| {
        b.iter(|| pipeline::judge_and_fix(black_box(&snapshot), black_box(&ann)))
    });
    group.sample_size(10);
    let now = chrono::Utc::now();
    for count in [1_000, 10_000] {
        let Ok(file) = access_tests::parse("bench.toml", &tests_file(count)) else {
            return;
        };
        group.bench_function(format!("test, {count} expectations"), |b| {
            b.iter(|| pipeline::run_tests(black_box(&file), black_box(&snapshot), None, now))
        });
    }
    group.finish();
    // Five distinct actions for list, get, put and multipart: the judge
    // alone's throughput is per (principal, action).
    let mut alone = c.benchmark_group("5,000 principals, judge alone");
    alone.throughput(Throughput::Elements(5));
    for (name, request) in [("dilip", &dilip), ("ann", &ann)] {
        alone.bench_function(format!("{name}, 5 actions"), |b| {
            b.iter(|| chain::judge(black_box(&snapshot), black_box(request)).map(|j| j.diagnosis))
        });
    }
    alone.finish();
}

fn main() {
    if cpu_time::wanted() {
        let mut criterion = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        bench_principals(&mut criterion);
        criterion.final_summary();
    } else {
        let mut criterion = Criterion::default().configure_from_args();
        bench_principals(&mut criterion);
        criterion.final_summary();
    }
}
