//! A link unknown only through context keys whose every possible value
//! gives it the same result is decided, and its reason says "denied
//! whatever `KEY` is" (or "allowed whatever"); a link whose result changes
//! with the key's value stays unknown. Expected results follow the IAM User
//! Guide: "Policy evaluation logic" (an explicit deny wins; without an
//! allow the request is implicitly denied) and "IAM JSON policy elements:
//! Condition operators" (`Bool` is false on an absent key, `...IfExists`
//! true; `aws:MultiFactorAuthPresent` is a Boolean key, "AWS global
//! condition context keys").

use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::{ActionResult, LinkStatus, Operation, Verdict};
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::{Value, json};

const USER: &str = "arn:aws:iam::111111111111:user/ann";

/// A same-account bucket (SSE-S3, so `head` needs only `s3:GetObject`)
/// with `bucket_policy`, and ann with one inline policy of `statements`.
pub(crate) fn snapshot(statements: Value, bucket_policy: Value) -> Value {
    snapshot_for(USER, statements, bucket_policy)
}

/// [`snapshot`] with the caller `user` (in account 111111111111 or
/// 222222222222).
pub(crate) fn snapshot_for(user: &str, statements: Value, bucket_policy: Value) -> Value {
    json!({
        "format": "kms-s3-doctor/snapshot@1",
        "captured_at": "2026-11-22T10:00:00Z",
        "accounts": {
            "111111111111": {"org_id": null, "scps": null, "rcps": null},
            "222222222222": {"org_id": null, "scps": null, "rcps": null}
        },
        "buckets": [{
            "name": "bucket-a", "account": "111111111111", "region": "eu-west-1",
            "policy": bucket_policy,
            "encryption": {"algorithm": "AES256"},
            "ownership": "BucketOwnerEnforced",
            "objects": []
        }],
        "keys": [],
        "principals": [{
            "arn": user, "id": "AIDAANN", "tags": {},
            "policies": [{"name": "p", "kind": "inline", "document": {
                "Version": "2012-10-17", "Statement": statements
            }}],
            "permissions_boundary": null, "trust_policy": null, "session_policies": null
        }]
    })
}

pub(crate) fn request(user: &str, context: &[(&str, &str)]) -> CheckRequest {
    CheckRequest {
        access_point: None,
        via_service: None,
        unknown_context: Vec::new(),
        bucket: "bucket-a".into(),
        object: Some("data.csv".into()),
        principal: user.into(),
        via_role: None,
        external_id: None,
        operations: vec![Operation::parse("head").unwrap()],
        context: context
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        now: chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .to_utc(),
    }
}

pub(crate) fn get_object(snapshot: &Value, context: &[(&str, &str)]) -> ActionResult {
    get_object_as(USER, snapshot, context)
}

pub(crate) fn get_object_as(
    user: &str,
    snapshot: &Value,
    context: &[(&str, &str)],
) -> ActionResult {
    let snapshot = Snapshot::parse("s", &snapshot.to_string()).unwrap();
    let judgement = chain::judge(&snapshot, &request(user, context)).unwrap();
    judgement.diagnosis.operations[0]
        .actions
        .iter()
        .find(|action| action.action == "s3:GetObject")
        .unwrap()
        .clone()
}

fn identity(action: &ActionResult) -> &kms_s3_doctor::diagnosis::LinkResult {
    action
        .links
        .iter()
        .find(|link| link.link.as_str() == "identity-policy")
        .unwrap()
}

fn statement(effect: &str, operator: &str, key: &str, value: &str) -> Value {
    json!({
        "Effect": effect, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket-a/*",
        "Condition": {operator: {key: value}}
    })
}

const MFA: &str = "aws:MultiFactorAuthPresent";

#[test]
fn an_allow_the_mfa_guard_always_removes_is_denied_whatever_mfa_is() {
    // Deny when MFA is false or absent (`BoolIfExists`); the only allow is
    // for sessions without MFA. Absent or false: the deny applies; true:
    // nothing allows. Denied in every world.
    let snapshot = snapshot(
        json!([
            statement("Deny", "BoolIfExists", MFA, "false"),
            statement("Allow", "Bool", MFA, "false"),
        ]),
        Value::Null,
    );
    let action = get_object(&snapshot, &[]);
    let link = identity(&action);
    assert_eq!(link.status, LinkStatus::Fail, "{}", link.reason);
    assert!(
        link.reason
            .starts_with("denied whatever `aws:MultiFactorAuthPresent` is"),
        "{}",
        link.reason
    );
    assert!(link.unknown_keys.is_empty());
    assert_eq!(action.verdict, Verdict::Denied);
}

#[test]
fn allows_that_cover_every_mfa_value_between_them_are_allowed_whatever_mfa_is() {
    // One statement for MFA sessions, one for the rest (false or absent).
    let snapshot = snapshot(
        json!([
            statement("Allow", "Bool", MFA, "true"),
            statement("Allow", "BoolIfExists", MFA, "false"),
        ]),
        Value::Null,
    );
    let action = get_object(&snapshot, &[]);
    let link = identity(&action);
    assert_eq!(link.status, LinkStatus::Pass, "{}", link.reason);
    assert!(
        link.reason
            .starts_with("allowed whatever `aws:MultiFactorAuthPresent` is"),
        "{}",
        link.reason
    );
    assert_eq!(action.verdict, Verdict::Allowed);
}

#[test]
fn a_guard_that_mfa_can_meet_stays_unknown() {
    // Deny without MFA, allow with it: true allows, absent and false deny.
    let snapshot = snapshot(
        json!([
            statement("Deny", "BoolIfExists", MFA, "false"),
            statement("Allow", "Bool", MFA, "true"),
        ]),
        Value::Null,
    );
    let action = get_object(&snapshot, &[]);
    assert_eq!(identity(&action).status, LinkStatus::Unknown);
    assert_eq!(action.verdict, Verdict::Inconclusive);
}

#[test]
fn one_key_takes_one_value_in_every_document_of_a_request() {
    // Same account: the bucket policy names ann herself from 10.0.0.0/8,
    // which is enough without her identity policy (IAM User Guide,
    // "Policy evaluation logic", resource-based policies); her identity
    // policy allows from everywhere else. One request has one address, so
    // one of the two grants it whatever the address is. Only a world that
    // gives `aws:SourceIp` the same value in both documents sees it.
    let snapshot = snapshot(
        json!([statement(
            "Allow",
            "NotIpAddress",
            "aws:SourceIp",
            "10.0.0.0/8"
        )]),
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": USER},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket-a/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
        }]}),
    );
    let action = get_object(&snapshot, &[]);
    assert_eq!(action.verdict, Verdict::Allowed, "{action:#?}");
    assert!(
        identity(&action)
            .reason
            .starts_with("allowed whatever `aws:SourceIp` is"),
        "{}",
        identity(&action).reason
    );
}

#[test]
fn keys_the_worlds_cannot_cover_exactly_stay_unknown() {
    // A policy variable on the key: its value is compared with more than
    // the policies' constants.
    let with_variable = snapshot(
        json!([
            statement("Deny", "BoolIfExists", MFA, "false"),
            statement("Allow", "Bool", MFA, "false"),
            {"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::bucket-a/${aws:MultiFactorAuthPresent}"}
        ]),
        Value::Null,
    );
    assert_eq!(
        identity(&get_object(&with_variable, &[])).status,
        LinkStatus::Unknown
    );
    // An ARN operator: not partitioned.
    let arn = snapshot(
        json!([
            statement("Deny", "ArnNotLike", "aws:SourceArn", "arn:aws:s3:::x"),
            statement("Allow", "ArnLike", "aws:SourceArn", "arn:aws:s3:::x"),
            statement("Allow", "ArnNotLike", "aws:SourceArn", "arn:aws:s3:::x"),
        ]),
        Value::Null,
    );
    let action = get_object(&arn, &[]);
    assert_ne!(action.verdict, Verdict::Allowed);
}

#[test]
fn a_known_value_is_judged_as_before() {
    let snapshot = snapshot(
        json!([
            statement("Deny", "BoolIfExists", MFA, "false"),
            statement("Allow", "Bool", MFA, "true"),
        ]),
        Value::Null,
    );
    assert_eq!(
        get_object(&snapshot, &[(MFA, "true")]).verdict,
        Verdict::Allowed
    );
    assert_eq!(
        get_object(&snapshot, &[(MFA, "false")]).verdict,
        Verdict::Denied
    );
}

#[test]
fn a_link_unknown_through_another_links_answer_is_decided_too() {
    // The identity policy denies (the request comes through a VPC
    // endpoint, so it has no `aws:SourceIp`, and `NotIpAddress` holds on an
    // absent key), and its only allow can never apply (an age both at least
    // and below 60). Whether the bucket policy is needed hangs on that
    // allow through `aws:MultiFactorAuthAge`, a key no unknown link names:
    // the bucket policy gives no allow and is needed whatever the age is.
    let snapshot = snapshot(
        json!([
            statement("Deny", "NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket-a/*",
             "Condition": {
                "NumericGreaterThanEquals": {"aws:MultiFactorAuthAge": "60"},
                "NumericLessThan": {"aws:MultiFactorAuthAge": "60"}
             }}
        ]),
        Value::Null,
    );
    let action = get_object(&snapshot, &[("aws:SourceVpce", "vpce-1")]);
    let bucket = action
        .links
        .iter()
        .find(|link| link.link.as_str() == "bucket-policy")
        .unwrap();
    assert_eq!(bucket.status, LinkStatus::Fail, "{}", bucket.reason);
    assert!(
        bucket
            .reason
            .starts_with("denied whatever `aws:MultiFactorAuthAge` is"),
        "{}",
        bucket.reason
    );
}
