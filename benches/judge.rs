//! Judging the whole chain of the README's walkthrough snapshot: four
//! operations, eight actions, every link. Loading (parsing every policy) is
//! measured apart from judging.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;

fn walkthrough() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.json");
    std::fs::read_to_string(path).unwrap_or_default()
}

fn bench_judge(c: &mut Criterion) {
    let text = walkthrough();
    let Ok(snapshot) = Snapshot::parse("walkthrough.json", &text) else {
        return;
    };
    let request = CheckRequest {
        access_point: None,
        bucket: "account-a-bucket".to_string(),
        object: Some("reports/data.csv".to_string()),
        principal: "arn:aws:iam::222222222222:user/dilip".to_string(),
        via_role: None,
        external_id: None,
        operations: Operation::DEFAULT.to_vec(),
        context: Vec::new(),
        via_service: None,
        unknown_context: Vec::new(),
        now: chrono::Utc::now(),
    };
    c.bench_function("load walkthrough snapshot", |b| {
        b.iter(|| Snapshot::parse("walkthrough.json", black_box(&text)))
    });
    c.bench_function("judge walkthrough, 4 operations", |b| {
        b.iter(|| pipeline::judge_and_fix(black_box(&snapshot), black_box(&request)))
    });
}

criterion_group!(benches, bench_judge);
criterion_main!(benches);
