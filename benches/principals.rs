//! Many principals: the README's walkthrough snapshot with 5,000 more users
//! and roles spread over ten accounts, placed before the judged principals so
//! that finding a principal's documents cannot stop early. Measures one
//! check (allowed and denied), `test` with 1,000 and 10,000 expectations,
//! and the judge alone and verdict-only per (principal, action).

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/test_reports.rs"]
mod test_reports;

#[path = "support/many_principals.rs"]
mod many_principals;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use std::hint::black_box;

use kms_s3_doctor::access_tests;
use kms_s3_doctor::chain;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;

const EXTRA_PRINCIPALS: usize = 5_000;

fn bench_principals<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let text = many_principals::many_principals(EXTRA_PRINCIPALS);
    let Ok(snapshot) = Snapshot::parse("many.json", &text) else {
        return;
    };
    let dilip = many_principals::request("arn:aws:iam::222222222222:user/dilip");
    let ann = many_principals::request("arn:aws:iam::111111111111:user/ann");
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
        let Ok(file) = access_tests::parse("bench.toml", &many_principals::tests_file(count))
        else {
            return;
        };
        test_reports::both_reports(
            &mut group,
            |report| format!("test, {count} expectations, {report} report"),
            &file,
            &snapshot,
            now,
        );
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
    let mut verdicts = c.benchmark_group("5,000 principals, verdict only");
    verdicts.throughput(Throughput::Elements(5));
    for (name, request) in [("dilip", &dilip), ("ann", &ann)] {
        verdicts.bench_function(format!("{name}, 5 actions"), |b| {
            b.iter(|| chain::verdicts(black_box(&snapshot), black_box(request)))
        });
    }
    verdicts.finish();
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
