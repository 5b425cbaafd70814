//! Scale: a snapshot of 100,000 statements (about 40 MB, half in the bucket
//! policy, half in the key policy) loaded and judged. The target is under a
//! second and under 300 MB peak for load plus judge; peak memory is measured
//! on the command line with `/usr/bin/time -v` (criterion measures time).

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/cpu_time.rs"]
mod cpu_time;

use criterion::Criterion;
use criterion::measurement::Measurement;
use std::hint::black_box;

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::{Value, json};

const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const WHO: &str = "arn:aws:iam::222222222222:user/dilip";

fn statement(index: usize) -> Value {
    json!({
        "Sid": format!("S{index:06}"),
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{:012}:user/u{index}", 333_300_000_000usize + index)},
        "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": [format!("arn:aws:s3:::big-bucket/prefix-{index}/*")],
        "Condition": {
            "StringEquals": {"aws:PrincipalTag/team": format!("team-{index}")},
            "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}
        }
    })
}

/// The snapshot text: compact statements, one per line.
pub fn big_snapshot(statements: usize) -> String {
    let half = statements / 2;
    let mut bucket: Vec<Value> = (0..half - 1).map(statement).collect();
    bucket.push(
        json!({"Sid": "Reader", "Effect": "Allow", "Principal": {"AWS": WHO},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::big-bucket/*"}),
    );
    let mut key: Vec<Value> = (half..statements - 1).map(statement).collect();
    key.push(
        json!({"Sid": "KeyUser", "Effect": "Allow", "Principal": {"AWS": WHO},
        "Action": "kms:Decrypt", "Resource": "*"}),
    );
    let snapshot = json!({
        "format": "kms-s3-doctor/snapshot@1",
        "accounts": {"111111111111": {"scps": null, "rcps": null}, "222222222222": {"scps": null, "rcps": null}},
        "buckets": [{"name": "big-bucket", "account": "111111111111", "region": "eu-west-1",
            "policy": {"Version": "2012-10-17", "Statement": bucket},
            "encryption": {"algorithm": "aws:kms", "key": KEY}, "ownership": "BucketOwnerEnforced",
            "objects": [{"key": "data.csv", "owner": "111111111111", "encryption": {"algorithm": "aws:kms", "key": KEY}}]}],
        "keys": [{"arn": KEY, "manager": "CUSTOMER", "state": "Enabled",
            "policy": {"Version": "2012-10-17", "Statement": key}, "grants": []}],
        "principals": [{"arn": WHO, "tags": {}, "policies": [{"name": "p", "kind": "inline",
            "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": "*"}]}}],
            "permissions_boundary": null, "session_policies": null}]
    });
    serde_json::to_string(&snapshot)
        .unwrap_or_default()
        .replace("},{\"Sid\"", "},\n{\"Sid\"")
}

fn bench_scale<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let text = big_snapshot(100_000);
    let request = CheckRequest {
        access_point: None,
        bucket: "big-bucket".to_string(),
        object: Some("data.csv".to_string()),
        principal: WHO.to_string(),
        via_role: None,
        external_id: None,
        operations: vec![Operation::Get],
        context: Vec::new(),
        via_service: None,
        unknown_context: Vec::new(),
        now: chrono::Utc::now(),
    };
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.bench_function("load and judge 100,000 statements", |b| {
        b.iter(|| {
            let snapshot = Snapshot::parse("big.json", black_box(&text)).ok()?;
            let mut diagnosis = pipeline::judge_and_fix(&snapshot, &request).ok()?;
            snapshot.locate_evidence("big.json", &text, &mut diagnosis);
            Some(diagnosis.verdict)
        })
    });
    group.finish();
}

fn main() {
    if cpu_time::wanted() {
        let mut criterion = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        bench_scale(&mut criterion);
        criterion.final_summary();
    } else {
        let mut criterion = Criterion::default().configure_from_args();
        bench_scale(&mut criterion);
        criterion.final_summary();
    }
}
