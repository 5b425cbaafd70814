//! `kms-s3-doctor test` at scale: parsing a file of 1,000 expectations and
//! judging 1,000 and 10,000 of them over the README's walkthrough snapshot
//! (targets: under 100 ms and under 1 s), for the JSON report (every
//! expectation in full) and for the others (a row per expectation, the
//! unmet ones in full). The expectations cycle through three principals,
//! every operation set and both expectations, so no two in a row are alike.

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/test_reports.rs"]
mod test_reports;

use criterion::Criterion;
use criterion::measurement::Measurement;
use std::hint::black_box;

use kms_s3_doctor::access_tests;
use kms_s3_doctor::snapshot::Snapshot;

const PRINCIPALS: [&str; 3] = [
    "arn:aws:iam::111111111111:user/ann",
    "arn:aws:iam::222222222222:user/dilip",
    "arn:aws:iam::222222222222:user/erin",
];
const OPS: [&str; 4] = [
    "[\"list\"]",
    "[\"get\", \"put\"]",
    "[\"list\", \"get\", \"put\", \"multipart\"]",
    "[\"head\", \"copy\"]",
];

fn file_of(count: usize) -> String {
    let mut text = String::from("bucket = \"account-a-bucket\"\nobject = \"reports/data.csv\"\n");
    for index in 0..count {
        let expect = if index % 2 == 0 { "allowed" } else { "denied" };
        text.push_str(&format!(
            "\n[[test]]\nname = \"expectation {index}\"\nprincipal = \"{}\"\nops = {}\nexpect = \"{expect}\"\n",
            PRINCIPALS[index % PRINCIPALS.len()],
            OPS[index % OPS.len()],
        ));
    }
    text
}

fn bench_access_tests<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.json");
    let Ok(snapshot) = Snapshot::parse(
        "walkthrough.json",
        &std::fs::read_to_string(path).unwrap_or_default(),
    ) else {
        return;
    };
    let text = file_of(1_000);
    let now = chrono::Utc::now();
    let mut group = c.benchmark_group("access tests");
    group.sample_size(10);
    group.bench_function("parse 1,000 expectations", |b| {
        b.iter(|| access_tests::parse("bench.toml", black_box(&text)))
    });
    for count in [1_000, 10_000] {
        let Ok(file) = access_tests::parse("bench.toml", &file_of(count)) else {
            return;
        };
        test_reports::both_reports(
            &mut group,
            |report| format!("judge {count} expectations over one snapshot, {report} report"),
            &file,
            &snapshot,
            now,
        );
    }
    group.finish();
}

fn main() {
    if cpu_time::wanted() {
        let mut criterion = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        bench_access_tests(&mut criterion);
        criterion.final_summary();
    } else {
        let mut criterion = Criterion::default().configure_from_args();
        bench_access_tests(&mut criterion);
        criterion.final_summary();
    }
}
