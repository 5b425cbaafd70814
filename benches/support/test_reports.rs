//! `test` over one snapshot, judged for the two kinds of report: every
//! expectation's whole report (`--format json`), and a row per expectation
//! with the unmet ones in full (text, Markdown, JUnit).

use criterion::BenchmarkGroup;
use criterion::measurement::Measurement;
use std::hint::black_box;

use kms_s3_doctor::access_tests::{Shown, TestFile};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;

/// One bench per kind of report, named by `name` from the report's name.
pub fn both_reports<M: Measurement>(
    group: &mut BenchmarkGroup<'_, M>,
    name: impl Fn(&str) -> String,
    file: &TestFile,
    snapshot: &Snapshot,
    now: chrono::DateTime<chrono::Utc>,
) {
    for (report, shown) in [("json", Shown::Every), ("text", Shown::Rows)] {
        group.bench_function(name(report), |b| {
            b.iter(|| {
                pipeline::run_tests_shown(black_box(file), black_box(snapshot), None, now, shown)
            })
        });
    }
}
