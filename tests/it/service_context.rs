//! The request context of callers that are no IAM identity, as conditions
//! see it (IAM User Guide, "AWS global condition context keys": the
//! principal keys are present only in signed requests, `aws:PrincipalType`
//! is `Anonymous` and `aws:userid` `anonymous` for an unsigned one;
//! `aws:PrincipalIsAWSService` and `aws:PrincipalServiceName` for a service
//! principal's own call; `aws:SourceArn` and `aws:SourceAccount` for the
//! resource a service acts for). Each case is one bucket-policy statement
//! allowing `s3:GetObject` to `"*"` under one condition, judged for one
//! caller: the verdict says whether the condition held (allowed), did not
//! (denied) or hangs on a key the tool cannot know (inconclusive). Block
//! Public Access is configured nowhere, so the condition alone decides.

use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::{Value, json};

fn snapshot(condition: Value) -> Snapshot {
    let document = json!({
        "format": "kms-s3-doctor/snapshot@1",
        "accounts": {
            "111111111111": {"org_id": "o-aaaaaaaaaa", "scps": null, "rcps": null, "public_access_block": null},
            "222222222222": {"org_id": null, "scps": null, "rcps": null},
            "333333333333": {"org_id": "o-cccccccccc", "scps": null, "rcps": null}
        },
        "buckets": [{
            "name": "b", "account": "111111111111", "region": "eu-west-1",
            "encryption": {"algorithm": "AES256"},
            "ownership": "BucketOwnerEnforced",
            "public_access_block": null,
            "policy": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*", "Condition": condition
            }]}
        }],
        "keys": [],
        "principals": []
    });
    Snapshot::parse("s", &document.to_string()).unwrap()
}

fn judge(caller: &str, context: &[(&str, &str)], condition: Value) -> Verdict {
    let request = CheckRequest {
        access_point: None,
        via_service: None,
        unknown_context: Vec::new(),
        bucket: "b".to_string(),
        object: Some("k".to_string()),
        principal: caller.to_string(),
        via_role: None,
        external_id: None,
        operations: vec![Operation::Get],
        context: context
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        now: chrono::Utc::now(),
    };
    chain::judge(&snapshot(condition), &request)
        .unwrap()
        .diagnosis
        .verdict
}

const CF: &str = "cloudfront.amazonaws.com";
const OAI: &str = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL";
const TRAIL_C: &str = "arn:aws:cloudtrail:eu-west-1:333333333333:trail/t";

/// (name, caller, `--context` pairs, condition, expected verdict).
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Value,
    Verdict,
);

#[test]
fn conditions_see_what_aws_documents_for_each_caller() {
    use Verdict::{Allowed, Denied, Inconclusive};
    let cases: Vec<Case> = vec![
        (
            "a service principal is an AWS service",
            CF,
            vec![],
            json!({"Bool": {"aws:PrincipalIsAWSService": "true"}}),
            Allowed,
        ),
        (
            "its name is aws:PrincipalServiceName",
            CF,
            vec![],
            json!({"StringEquals": {"aws:PrincipalServiceName": CF}}),
            Allowed,
        ),
        (
            "an IAM principal is not an AWS service",
            "arn:aws:iam::222222222222:root",
            vec![],
            json!({"Bool": {"aws:PrincipalIsAWSService": "true"}}),
            Denied,
        ),
        (
            "aws:SourceArn is unknown unless given",
            CF,
            vec![],
            json!({"StringEquals": {"aws:SourceArn": TRAIL_C}}),
            Inconclusive,
        ),
        (
            "aws:SourceAccount follows from aws:SourceArn",
            CF,
            vec![("aws:SourceArn", TRAIL_C)],
            json!({"StringEquals": {"aws:SourceAccount": "333333333333"}}),
            Allowed,
        ),
        (
            "a source ARN of another account is not this one",
            CF,
            vec![("aws:SourceArn", TRAIL_C)],
            json!({"StringEquals": {"aws:SourceAccount": "111111111111"}}),
            Denied,
        ),
        (
            "aws:SourceOrgID follows from the source account's organization",
            CF,
            vec![("aws:SourceArn", TRAIL_C)],
            json!({"StringEquals": {"aws:SourceOrgID": "o-cccccccccc"}}),
            Allowed,
        ),
        (
            "an S3 bucket's ARN names no account",
            "logging.s3.amazonaws.com",
            vec![("aws:SourceArn", "arn:aws:s3:::b")],
            json!({"StringEquals": {"aws:SourceAccount": "111111111111"}}),
            Inconclusive,
        ),
        (
            "a service's principal account is not known",
            CF,
            vec![],
            json!({"StringEquals": {"aws:PrincipalAccount": "111111111111"}}),
            Inconclusive,
        ),
        (
            "an unsigned request's principal type is Anonymous",
            "anonymous",
            vec![],
            json!({"StringEquals": {"aws:PrincipalType": "Anonymous"}}),
            Allowed,
        ),
        (
            "an unsigned request has no principal ARN",
            "anonymous",
            vec![],
            json!({"Null": {"aws:PrincipalArn": "true"}}),
            Allowed,
        ),
        (
            "an unsigned request is no AWS service either",
            "anonymous",
            vec![],
            json!({"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}),
            Allowed,
        ),
        (
            "an origin access identity's principal keys are not known",
            OAI,
            vec![],
            json!({"StringEquals": {"aws:PrincipalAccount": "111111111111"}}),
            Inconclusive,
        ),
    ];
    let mut failures = Vec::new();
    for (name, caller, context, condition, expected) in cases {
        let got = judge(caller, &context, condition);
        if got != expected {
            failures.push(format!("{name}: {got:?}, expected {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn callers_outside_iam_cannot_assume_a_role_and_bad_names_are_refused() {
    let mut request = CheckRequest {
        access_point: None,
        via_service: None,
        unknown_context: Vec::new(),
        bucket: "b".to_string(),
        object: None,
        principal: CF.to_string(),
        via_role: Some("arn:aws:iam::111111111111:role/r".to_string()),
        external_id: None,
        operations: vec![Operation::Get],
        context: Vec::new(),
        now: chrono::Utc::now(),
    };
    let snapshot = snapshot(json!({}));
    assert!(chain::judge(&snapshot, &request).is_err());
    request.via_role = None;
    request.principal = "CloudFront.amazonaws.com".to_string();
    assert!(chain::judge(&snapshot, &request).is_err());
}
