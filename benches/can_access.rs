//! can-access over 1,000 buckets for one principal: a generated
//! organization (shared managed policies, account-root grants, SCPs) whose
//! one bucket is copied under 1,000 names, each with its known object, so
//! 2,000 (bucket, object) requests of list,get,put,multipart. Measured:
//! judging alone over the loaded snapshot, and loading plus judging. The
//! target: under 1 s on 2 cores.

#[path = "support/allocator.rs"]
mod allocator;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::reverse::can_access::can_access;
use kms_s3_doctor::snapshot::Snapshot;
use kms_s3_doctor::synthetic::{self, Shape};

const BUCKETS: usize = 1_000;

/// The organization's snapshot with its bucket copied `BUCKETS` times, each
/// copy's policy naming its own ARN.
fn thousand_buckets() -> (String, String) {
    let mut value = synthetic::organization_value(Shape {
        seed: 2026,
        principals: 300,
        accounts: 3,
    });
    let principal = value["principals"][0]["arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let template = value["buckets"][0].to_string();
    let buckets: Vec<serde_json::Value> = (0..BUCKETS)
        .filter_map(|index| {
            let text = template.replace(
                synthetic::BUCKET,
                &format!("{}-{index:04}", synthetic::BUCKET),
            );
            serde_json::from_str(&text).ok()
        })
        .collect();
    value["buckets"] = serde_json::Value::Array(buckets);
    (value.to_string(), principal)
}

fn bench_can_access(c: &mut Criterion) {
    let (text, principal) = thousand_buckets();
    let template = CheckRequest {
        access_point: None,
        bucket: String::new(),
        object: None,
        principal,
        via_role: None,
        external_id: None,
        operations: Operation::DEFAULT.to_vec(),
        context: Vec::new(),
        now: chrono::Utc::now(),
        via_service: None,
        unknown_context: Vec::new(),
    };
    let snapshot = match Snapshot::parse("buckets.json", &text) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            eprintln!("the generated snapshot does not load: {error}");
            return;
        }
    };
    let mut group = c.benchmark_group("can-access, 1,000 buckets, one principal");
    group.sample_size(10);
    group.bench_function("judge every bucket and object", |b| {
        b.iter(|| {
            can_access(black_box(&snapshot), &template)
                .map(|answer| answer.resources.len())
                .unwrap_or(0)
        })
    });
    group.bench_function("load and judge", |b| {
        b.iter(|| {
            let Ok(snapshot) = Snapshot::parse("buckets.json", black_box(&text)) else {
                return 0;
            };
            let rows = can_access(&snapshot, &template)
                .map(|answer| answer.resources.len())
                .unwrap_or(0);
            std::mem::forget(snapshot);
            rows
        })
    });
    group.finish();
}

criterion_group!(benches, bench_can_access);
criterion_main!(benches);
