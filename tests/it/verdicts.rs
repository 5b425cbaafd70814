//! The verdict-only judge (`chain::verdicts`) decides exactly what the full
//! judge (`chain::judge`) decides: the same verdict per operation and per
//! action, the same link statuses, the same first broken link, and the same
//! refusals. Asked over every scenario of the corpus (with every principal
//! of its snapshot, and every row who-can would list, for every operation)
//! and over seeded generated organizations. A verdict-only judge that
//! skipped a step deciding a status would give a wrong "allowed" to
//! who-can, can-access, diff and `test`; this is the net under it.

use kms_s3_doctor::chain::{self, CheckRequest, Verdicts};
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::reverse::{self, WhoCanRequest};
use kms_s3_doctor::snapshot::Snapshot;
use kms_s3_doctor::synthetic::{self, Shape};

use crate::support::scenario::judgeable;

/// Every operation but replication, which needs a replication rule and a
/// role as the principal: asked only where a scenario asks it.
const OPERATIONS: [Operation; 6] = [
    Operation::List,
    Operation::Head,
    Operation::Get,
    Operation::Put,
    Operation::Multipart,
    Operation::Copy,
];

/// Whether the two judges agree on `request`; the difference when not.
fn disagreement(snapshot: &Snapshot, request: &CheckRequest) -> Option<String> {
    let full = chain::judge(snapshot, request).map(|judgement| Verdicts::of(&judgement.diagnosis));
    let only = chain::verdicts(snapshot, request);
    (full != only).then(|| {
        format!(
            "principal {} via {:?} on {} {:?} ops {:?}:\n  full:         {full:?}\n  verdict only: {only:?}",
            request.principal,
            request.via_role,
            request.bucket,
            request.object,
            request.operations
        )
    })
}

/// The principals worth asking about in `snapshot`: its entries, and the
/// rows who-can lists for the request's bucket (account roots, service
/// principals, `*`).
fn principals_of(snapshot: &Snapshot, request: &CheckRequest) -> Vec<String> {
    let mut principals: Vec<String> = snapshot
        .principals
        .iter()
        .map(|info| info.arn.clone())
        .collect();
    let asked = WhoCanRequest {
        bucket: request.bucket.clone(),
        object: request.object.clone(),
        access_point: request.access_point.clone(),
        operations: request.operations.clone(),
        now: request.now,
        context: request.context.clone(),
    };
    principals.extend(reverse::rows(snapshot, &asked).unwrap_or_default());
    principals.sort();
    principals.dedup();
    principals
}

#[test]
fn the_verdict_only_judge_agrees_with_the_full_judge_on_every_scenario() {
    let mut problems = Vec::new();
    let mut asked = 0;
    for scenario in judgeable() {
        let snapshot = Snapshot::parse("s", &scenario.snapshot.to_string()).unwrap();
        let mut requests = vec![scenario.request.clone()];
        let mut every_operation = OPERATIONS.to_vec();
        every_operation.extend(
            scenario
                .request
                .operations
                .iter()
                .filter(|operation| !OPERATIONS.contains(operation)),
        );
        requests.push(CheckRequest {
            operations: every_operation.clone(),
            ..scenario.request.clone()
        });
        for principal in principals_of(&snapshot, &scenario.request) {
            requests.push(CheckRequest {
                principal,
                via_role: None,
                external_id: None,
                operations: every_operation.clone(),
                ..scenario.request.clone()
            });
        }
        for request in &requests {
            asked += 1;
            if let Some(problem) = disagreement(&snapshot, request) {
                problems.push(format!("{}: {problem}", scenario.name));
            }
        }
    }
    assert_all_agree(asked, &problems);
}

#[test]
fn the_verdict_only_judge_agrees_with_the_full_judge_on_generated_organizations() {
    let mut problems = Vec::new();
    let mut asked = 0;
    for seed in [1, 7, 26, 2026] {
        let snapshot = synthetic::organization(Shape {
            seed,
            principals: 80,
            accounts: 3,
        })
        .unwrap();
        for object in [Some(synthetic::OBJECT.to_string()), None] {
            let template = CheckRequest {
                access_point: None,
                bucket: synthetic::BUCKET.to_string(),
                object,
                principal: String::new(),
                via_role: None,
                external_id: None,
                operations: OPERATIONS.to_vec(),
                context: Vec::new(),
                via_service: None,
                unknown_context: Vec::new(),
                now: chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
                    .unwrap()
                    .to_utc(),
            };
            for principal in principals_of(&snapshot, &template) {
                asked += 1;
                let request = CheckRequest {
                    principal,
                    ..template.clone()
                };
                if let Some(problem) = disagreement(&snapshot, &request) {
                    problems.push(format!("seed {seed}: {problem}"));
                }
            }
        }
    }
    assert_all_agree(asked, &problems);
}

/// Every report of `run` in the formats that show a met expectation as its
/// row (text, Markdown, JUnit, GitHub annotations), one after the other.
fn row_reports(run: &kms_s3_doctor::access_tests::TestRun) -> String {
    use kms_s3_doctor::report;
    let mut out: Vec<u8> = Vec::new();
    report::render_test_text(run, &mut out, false).unwrap();
    report::render_test_text(run, &mut out, true).unwrap();
    report::render_test_markdown(run, &mut out).unwrap();
    report::render_test_junit(run, &mut out).unwrap();
    report::render_test_annotations(run, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A file whose expectations are met, unmet and inconclusive, allowed and
/// denied, with and without `broken_link`, over every principal of
/// `principals`.
fn mixed_file(bucket: &str, object: &str, principals: &[String]) -> String {
    const OPS: [&str; 4] = [
        "[\"list\"]",
        "[\"get\", \"put\"]",
        "[\"list\", \"get\", \"put\", \"multipart\"]",
        "[\"head\", \"copy\"]",
    ];
    const LINKS: [&str; 3] = ["", "identity-policy", "key-policy"];
    let mut text = format!("bucket = \"{bucket}\"\nobject = \"{object}\"\n");
    for (index, principal) in principals.iter().enumerate() {
        for (at, ops) in OPS.iter().enumerate() {
            for expect in ["allowed", "denied"] {
                let link = LINKS[(index + at) % LINKS.len()];
                text.push_str(&format!(
                    "\n[[test]]\nname = \"{principal} ops {at} {expect}\"\nprincipal = \"{principal}\"\nops = {ops}\nexpect = \"{expect}\"\n"
                ));
                if expect == "denied" && !link.is_empty() {
                    text.push_str(&format!("broken_link = \"{link}\"\n"));
                }
            }
        }
    }
    text
}

#[test]
fn test_reports_of_rows_are_the_same_whether_met_rows_are_judged_in_full_or_verdict_only() {
    use kms_s3_doctor::access_tests::{self, Outcome, Shown};
    use kms_s3_doctor::pipeline;
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
        .unwrap()
        .to_utc();
    let walkthrough = Snapshot::parse(
        "walkthrough.json",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/walkthrough.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let organization = synthetic::organization(Shape {
        seed: 26,
        principals: 30,
        accounts: 3,
    })
    .unwrap();
    let principals_of = |snapshot: &Snapshot| -> Vec<String> {
        snapshot
            .principals
            .iter()
            .map(|info| info.arn.clone())
            .collect()
    };
    let cases = [
        (
            &walkthrough,
            mixed_file(
                "account-a-bucket",
                "reports/data.csv",
                &principals_of(&walkthrough),
            ),
        ),
        (
            &organization,
            mixed_file(
                synthetic::BUCKET,
                synthetic::OBJECT,
                &principals_of(&organization),
            ),
        ),
    ];
    for (snapshot, text) in cases {
        let file = access_tests::parse("mixed.toml", &text).unwrap();
        let every = pipeline::run_tests_shown(&file, snapshot, None, now, Shown::Every).unwrap();
        let rows = pipeline::run_tests_shown(&file, snapshot, None, now, Shown::Rows).unwrap();
        // The file must exercise both paths: rows judged verdict-only, and
        // every outcome.
        let quick = rows
            .results
            .iter()
            .filter(|result| result.diagnosis.is_none())
            .count();
        assert!(quick > 0, "no expectation was judged verdict-only");
        for outcome in [Outcome::Met, Outcome::Unmet] {
            assert!(every.count(outcome) > 0, "no {outcome:?} expectation");
        }
        assert_eq!(row_reports(&every), row_reports(&rows));
        for (full, quick) in every.results.iter().zip(&rows.results) {
            assert_eq!(full.outcome, quick.outcome, "{}", full.expectation.name);
            assert_eq!(full.verdicts, quick.verdicts, "{}", full.expectation.name);
        }
    }
}

/// More than 500 requests were asked, and both judges agreed on each.
fn assert_all_agree(asked: usize, problems: &[String]) {
    assert!(asked > 500, "only {asked} requests asked");
    assert!(
        problems.is_empty(),
        "{} of {asked} requests judged differently:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
