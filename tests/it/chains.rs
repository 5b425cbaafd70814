//! Role chains of `who-can`: every "via ROLE" row is what
//! `check --principal P --via-role ROLE` gives (the full pipeline), over
//! every scenario of the corpus that has a role; the corpus's own
//! cross-account role scenario is found as a chain; and a deeper search
//! keeps every shorter chain.

use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::reverse::chains::via_rows;
use kms_s3_doctor::reverse::{RowKind, WhoCanRequest, check_request, who_can};
use kms_s3_doctor::snapshot::Snapshot;

use crate::support::scenario;

fn asked(request: &kms_s3_doctor::chain::CheckRequest) -> WhoCanRequest {
    WhoCanRequest {
        bucket: request.bucket.clone(),
        object: request.object.clone(),
        access_point: None,
        operations: request.operations.clone(),
        now: request.now,
        context: request.context.clone(),
    }
}

#[test]
fn every_via_row_is_what_check_via_role_gives() {
    let mut chains = 0;
    for scenario in scenario::judgeable() {
        let snapshot = Snapshot::parse("s", &scenario.snapshot.to_string()).unwrap();
        let request = asked(&scenario.request);
        let Ok(rows) = who_can(&snapshot, &request) else {
            continue;
        };
        if !rows.iter().any(|row| row.kind == RowKind::Role) {
            continue;
        }
        for via in via_rows(&snapshot, &request, &rows, 1).unwrap() {
            chains += 1;
            assert_eq!(via.via.len(), 1);
            let mut check = check_request(&request, &via.row.principal);
            check.via_role = Some(via.via[0].clone());
            let diagnosis = pipeline::judge_and_fix(&snapshot, &check).unwrap();
            let expected: Vec<_> = diagnosis
                .operations
                .iter()
                .map(|operation| (operation.operation, operation.verdict))
                .collect();
            assert_eq!(via.row.verdicts, expected, "{}: {:?}", scenario.name, via);
            // Listed only when it reaches the bucket for some operation.
            assert!(
                expected
                    .iter()
                    .any(|(_, verdict)| *verdict != Verdict::Denied),
                "{}",
                scenario.name
            );
            assert_eq!(
                via.row.note.as_deref(),
                Some(format!("via {}", via.via[0]).as_str())
            );
            // The row itself carries the chain as data, not only in its note.
            assert_eq!(via.row.via, via.via);
        }
    }
    assert!(chains > 0, "no scenario gave a chain");
}

/// The corpus's scenario of a cross-account role: dilip of account B
/// assumes `partner-reader` of account A, whose trust policy names him
/// (AWS IAM: "Providing access to an IAM user in another AWS account that
/// you own"), and reads through it; who-can lists dilip "via" the role
/// with the scenario's own expected verdicts.
#[test]
fn the_cross_account_role_scenario_is_a_chain() {
    let scenario = scenario::judgeable()
        .iter()
        .find(|scenario| scenario.name == "r2-via-role-cross-account-allowed.json")
        .unwrap();
    let snapshot = Snapshot::parse("s", &scenario.snapshot.to_string()).unwrap();
    let request = asked(&scenario.request);
    let rows = who_can(&snapshot, &request).unwrap();
    let chains = via_rows(&snapshot, &request, &rows, 1).unwrap();
    let dilip = chains
        .iter()
        .find(|via| via.row.principal == "arn:aws:iam::222222222222:user/dilip")
        .expect("dilip reaches the bucket through the role");
    assert_eq!(dilip.via, ["arn:aws:iam::111111111111:role/partner-reader"]);
    assert_eq!(
        dilip.row.verdicts,
        [
            (Operation::List, Verdict::Allowed),
            (Operation::Get, Verdict::Allowed),
            (Operation::Put, Verdict::Allowed)
        ]
    );
    // Depth 0 lists no chain; a deeper search keeps the one-hop chains.
    assert!(via_rows(&snapshot, &request, &rows, 0).unwrap().is_empty());
    let deeper = via_rows(&snapshot, &request, &rows, 3).unwrap();
    for via in &chains {
        assert!(deeper.contains(via), "{via:?}");
    }
    // Every row of a longer chain names its roles in order from the
    // principal, ending at a role that reaches the bucket itself.
    for via in &deeper {
        assert_eq!(via.row.via, via.via);
        let last = via.via.last().unwrap();
        assert!(rows.iter().any(|row| &row.principal == last), "{via:?}");
    }
}
