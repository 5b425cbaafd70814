//! Peak memory of a snapshot with 10,000 principals in ten accounts (the
//! walkthrough's with 10,000 more users and roles): loaded, then one denied
//! `check` (with the re-check of its fixes), one allowed, and `test` with
//! 1,000 expectations. Criterion measures time, not memory: this prints the
//! process's peak resident size (`VmHWM`) at each step, and
//! `/usr/bin/time -v` on the binary says the same from outside.

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/many_principals.rs"]
mod many_principals;
#[path = "support/peak.rs"]
mod peak;

use kms_s3_doctor::access_tests;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;
use peak::peak;

const EXTRA_PRINCIPALS: usize = 10_000;

fn main() {
    // `cargo bench` passes `--bench`; a filter that names other benches
    // skips this one.
    if std::env::args()
        .skip(1)
        .any(|arg| !arg.starts_with('-') && !"memory".contains(arg.as_str()))
    {
        return;
    }
    let text = many_principals::many_principals(EXTRA_PRINCIPALS);
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
        let verdict = pipeline::judge_and_fix(&snapshot, &many_principals::request(principal))
            .map(|diagnosis| diagnosis.verdict.as_str());
        println!("check {principal}: {verdict:?}; peak {}", peak());
    }
    let now = chrono::Utc::now();
    if let Ok(file) = access_tests::parse("bench.toml", &many_principals::tests_file(1_000))
        && let Ok(run) = pipeline::run_tests(&file, &snapshot, None, now)
    {
        println!("test, {} expectations; peak {}", run.results.len(), peak());
    }
}
