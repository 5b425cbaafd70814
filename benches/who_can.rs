//! who-can over a generated organization of 10,000 principals in 10
//! accounts, one object, `get,put`: loading the snapshot text alone, and
//! loading plus judging every row (end to end, as the command does after
//! reading the file). The target: end to end under 1 s on 2 cores and
//! under 3× the load alone.

#[path = "support/allocator.rs"]
mod allocator;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::reverse::{self, WhoCanRequest};
use kms_s3_doctor::snapshot::Snapshot;
use kms_s3_doctor::synthetic::{self, Shape};

fn bench_who_can(c: &mut Criterion) {
    let text = synthetic::organization_json(Shape {
        seed: 2026,
        principals: 10_000,
        accounts: 10,
    });
    let request = WhoCanRequest {
        bucket: synthetic::BUCKET.to_string(),
        object: Some(synthetic::OBJECT.to_string()),
        access_point: None,
        operations: vec![Operation::Get, Operation::Put],
        now: chrono::Utc::now(),
        context: Vec::new(),
    };
    let mut group = c.benchmark_group("who-can, 10,000 principals in 10 accounts");
    group.sample_size(10);
    group.bench_function("load alone", |b| {
        b.iter(|| Snapshot::parse("org.json", black_box(&text)))
    });
    group.bench_function("load and judge every row, get,put", |b| {
        b.iter(|| {
            let Ok(snapshot) = Snapshot::parse("org.json", black_box(&text)) else {
                return 0;
            };
            let rows = reverse::who_can(&snapshot, &request).map(|rows| rows.len());
            // Freed outside the measured work, as the command leaves it to
            // the system at exit.
            std::mem::forget(snapshot);
            rows.unwrap_or(0)
        })
    });
    if let Ok(snapshot) = Snapshot::parse("org.json", &text) {
        group.bench_function("judge every row alone, get,put", |b| {
            b.iter(|| reverse::who_can(black_box(&snapshot), &request).map(|rows| rows.len()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_who_can);
criterion_main!(benches);
