//! who-can equals check on generated organizations: for a few seeds, a
//! 500-principal, 3-account snapshot (shared managed policies, group
//! members, boundaries, account-root grants, a KMS grant, SCPs, a role
//! session), every row's verdict and first broken link per operation are
//! those of `check --principal` for the same request.

use chrono::DateTime;
use kms_s3_doctor::diagnosis::{LinkStatus, Operation, Verdict};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::reverse::{self, RowKind, WhoCanRequest};
use kms_s3_doctor::synthetic::{self, Shape};

fn request(operations: Vec<Operation>, object: Option<&str>) -> WhoCanRequest {
    WhoCanRequest {
        bucket: synthetic::BUCKET.to_string(),
        object: object.map(str::to_string),
        access_point: None,
        operations,
        now: DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .to_utc(),
        context: Vec::new(),
    }
}

/// How many (row, operation) pairs were allowed, inconclusive, denied.
fn agrees_with_check(seed: u64, question: &WhoCanRequest) -> [usize; 3] {
    let snapshot = synthetic::organization(Shape {
        seed,
        principals: 500,
        accounts: 3,
    })
    .unwrap();
    let rows = reverse::who_can(&snapshot, question).unwrap();
    // Every principal entry, three roots, the session and the service.
    assert!(rows.len() > 500 + 3, "seed {seed}: {} rows", rows.len());
    assert!(
        rows.iter().any(|row| row.kind == RowKind::Session),
        "seed {seed}"
    );
    assert!(
        rows.iter().any(|row| row.kind == RowKind::GroupMember),
        "seed {seed}"
    );
    let mut standings = [0; 3];
    for row in &rows {
        let diagnosis =
            pipeline::judge_and_fix(&snapshot, &reverse::check_request(question, &row.principal))
                .unwrap();
        for ((operation, verdict), (_, link)) in row.verdicts.iter().zip(&row.links) {
            let judged = diagnosis
                .operations
                .iter()
                .find(|judged| judged.operation == *operation)
                .unwrap();
            assert_eq!(
                *verdict, judged.verdict,
                "seed {seed}, {} {operation}",
                row.principal
            );
            let wanted = match judged.verdict {
                Verdict::Allowed => None,
                Verdict::Denied => Some(LinkStatus::Fail),
                Verdict::Inconclusive => Some(LinkStatus::Unknown),
            };
            let expected = wanted.and_then(|wanted| {
                judged
                    .actions
                    .iter()
                    .flat_map(|action| &action.links)
                    .find(|link| link.status == wanted)
                    .map(|link| link.link)
            });
            assert_eq!(
                *link, expected,
                "seed {seed}, {} {operation}",
                row.principal
            );
        }
        for (_, verdict) in &row.verdicts {
            standings[*verdict as usize] += 1;
        }
    }
    standings
}

#[test]
fn generated_organizations_judge_as_check_does() {
    let mut seen = [0; 3];
    for seed in [1, 42, 2026] {
        let question = request(
            vec![Operation::Get, Operation::Put],
            Some(synthetic::OBJECT),
        );
        let standings = agrees_with_check(seed, &question);
        for (total, count) in seen.iter_mut().zip(standings) {
            *total += count;
        }
    }
    // The generator is realistic enough to give every verdict.
    assert!(seen.iter().all(|count| *count > 0), "{seen:?}");
}

#[test]
fn a_generated_organization_without_an_object_judges_as_check_does() {
    let question = request(Operation::DEFAULT.to_vec(), None);
    agrees_with_check(9, &question);
}

#[test]
fn the_generator_is_deterministic() {
    let shape = Shape {
        seed: 5,
        principals: 50,
        accounts: 4,
    };
    assert_eq!(
        synthetic::organization_json(shape),
        synthetic::organization_json(shape)
    );
    assert_ne!(
        synthetic::organization_json(shape),
        synthetic::organization_json(Shape { seed: 6, ..shape })
    );
}
