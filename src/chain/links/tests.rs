#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use serde_json::Value;

use crate::chain::{CheckRequest, judge_once as judge};
use crate::diagnosis::{LinkId, LinkStatus, Operation};
use crate::snapshot::Snapshot;

/// Runs `check` as a scenario file describes it, on its snapshot.
fn run_scenario(text: &str) -> crate::diagnosis::Diagnosis {
    let scenario: Value = serde_json::from_str(text).unwrap();
    let snapshot = Snapshot::parse("scenario", &scenario["snapshot"].to_string()).unwrap();
    let args: Vec<String> = scenario["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap().to_string())
        .collect();
    let value = |flag: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .map(|index| args[index + 1].clone())
    };
    let context = args
        .iter()
        .enumerate()
        .filter(|(_, arg)| *arg == "--context")
        .map(|(index, _)| {
            let (key, value) = args[index + 1].split_once('=').unwrap();
            (key.to_string(), value.to_string())
        })
        .collect();
    let operations = value("--op")
        .unwrap()
        .split(',')
        .map(|op| match op {
            "get" => Operation::Get,
            "put" => Operation::Put,
            "list" => Operation::List,
            other => panic!("op {other}"),
        })
        .collect();
    let request = CheckRequest {
        access_point: None,
        bucket: value("--bucket").unwrap(),
        object: value("--object"),
        principal: value("--principal").unwrap(),
        via_role: None,
        external_id: None,
        operations,
        context,
        via_service: None,
        unknown_context: Vec::new(),
        now: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
    };
    judge(&snapshot, &request).unwrap()
}

#[test]
fn a_key_policy_requiring_a_vpc_endpoint_is_explained() {
    let diagnosis = run_scenario(include_str!(
        "../../../fixtures/scenarios/kms-key-policy-vpce-deny-breaks-sse-kms-through-s3.json"
    ));
    let link = diagnosis
        .operations
        .iter()
        .flat_map(|operation| &operation.actions)
        .filter(|action| action.action == "kms:Decrypt")
        .flat_map(|action| &action.links)
        .find(|link| link.link == LinkId::KeyPolicy)
        .unwrap();
    assert_eq!(link.status, LinkStatus::Fail);
    assert!(
        link.reason.contains("forward access session"),
        "{}",
        link.reason
    );
    assert!(
        link.help
            .as_deref()
            .is_some_and(|help| help.contains("aws:ViaAWSService")),
        "{:?}",
        link.help
    );
}

fn scp_status(text: &str, action: &str) -> LinkStatus {
    link_of(&run_scenario(text), action, LinkId::Scp).status
}

#[test]
fn a_region_lock_scp_judges_by_the_bucket_region() {
    let inside =
        include_str!("../../../fixtures/scenarios/region-lock-scp-bucket-in-allowed-region.json");
    let outside = include_str!(
        "../../../fixtures/scenarios/region-lock-scp-bucket-outside-allowed-regions.json"
    );
    let unread =
        include_str!("../../../fixtures/scenarios/region-lock-scp-bucket-region-not-read.json");
    assert_eq!(scp_status(inside, "s3:GetObject"), LinkStatus::Pass);
    assert_eq!(scp_status(outside, "s3:GetObject"), LinkStatus::Fail);
    assert_eq!(scp_status(unread, "s3:GetObject"), LinkStatus::Unknown);
}

fn link_of<'d>(
    diagnosis: &'d crate::diagnosis::Diagnosis,
    action: &str,
    link: LinkId,
) -> &'d crate::diagnosis::LinkResult {
    diagnosis
        .operations
        .iter()
        .flat_map(|operation| &operation.actions)
        .filter(|candidate| candidate.action == action)
        .flat_map(|candidate| &candidate.links)
        .find(|candidate| candidate.link == link)
        .unwrap()
}

#[test]
fn statements_kept_out_by_a_variable_with_no_value_stay_in_the_evidence() {
    // IAM User Guide, "Policy variables with no value": ann has no
    // `Project` tag, so the ABAC allow cannot match; the report names the
    // statement and the missing key instead of dropping it.
    let diagnosis = run_scenario(include_str!(
        "../../../fixtures/scenarios/abac-principal-without-the-tag.json"
    ));
    let link = link_of(&diagnosis, "kms:Decrypt", LinkId::IdentityPolicy);
    assert_eq!(link.status, LinkStatus::Fail);
    assert!(
        link.reason
            .contains("while `${aws:PrincipalTag/Project}` has no value"),
        "{}",
        link.reason
    );
    let evidence = link
        .evidence
        .iter()
        .find(|evidence| evidence.sid.as_deref() == Some("UseAccountAKey"))
        .unwrap();
    assert_eq!(evidence.role, crate::diagnosis::EvidenceRole::Context);
    assert_eq!(
        evidence.note.as_deref(),
        Some(
            "does not apply: its condition `StringEquals` `aws:ResourceTag/Project` compares with `${aws:PrincipalTag/Project}`, and the request has no `aws:PrincipalTag/Project`"
        )
    );
    // In a `Resource` it matches nothing; the statement stays in the
    // evidence with why.
    let diagnosis = run_scenario(include_str!(
        "../../../fixtures/scenarios/policy-variable-no-value-resource-matches-nothing.json"
    ));
    let link = link_of(&diagnosis, "s3:GetObject", LinkId::IdentityPolicy);
    assert_eq!(link.status, LinkStatus::Fail);
    assert!(
        link.evidence.iter().any(|evidence| evidence.sid.as_deref() == Some("TeamFolder")
            && evidence.note.as_deref()
                == Some(
                    "does not apply: its `Resource` uses `${aws:PrincipalTag/team}`, and the request has no `aws:PrincipalTag/team`"
                )),
        "{:?}",
        link.evidence
    );
    // A negated operator matches the missing value: the Deny applies.
    let diagnosis = run_scenario(include_str!(
        "../../../fixtures/scenarios/policy-variable-no-value-negated-deny-applies.json"
    ));
    let link = link_of(&diagnosis, "s3:GetObject", LinkId::BucketPolicy);
    assert_eq!(link.status, LinkStatus::Fail);
    assert!(
        link.reason.contains("no `aws:PrincipalTag/Team`"),
        "{}",
        link.reason
    );
    let evidence = &link.evidence[0];
    assert_eq!(evidence.role, crate::diagnosis::EvidenceRole::Denies);
    assert!(
        evidence
            .note
            .as_deref()
            .is_some_and(|note| note.starts_with("applies: ")),
        "{:?}",
        evidence.note
    );
}
