#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::diagnosis::{LinkResult, OperationResult};

fn context(pairs: Value) -> BTreeMap<String, Value> {
    pairs
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

const OBJECT: &str = "arn:aws:s3:::account-a-bucket/reports/data.csv";
const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// A denied GetObject as "GetRequestAuthorizationDetails - IAM Toolbox"
/// shapes it: the shared request context, one evaluation per action and
/// resource, the matched policies by URI and the policies' types.
fn denied_get() -> AuthorizationDetails {
    AuthorizationDetails {
        authorization_id: "a1b2c3".to_string(),
        request_context: context(json!({
            "aws:PrincipalArn": "arn:aws:iam::222222222222:role/team/etl",
            "aws:userid": "AROAEXAMPLEID:run-7",
            "aws:SourceVpce": "vpce-0abc",
            "aws:CurrentTime": "2026-12-07T13:00:00Z",
            "aws:ResourceAccount": "111111111111",
            "aws:CalledVia": ["athena.amazonaws.com", "glue.amazonaws.com"],
            "aws:SecureTransport": true,
        })),
        evaluations: vec![AwsEvaluation {
            action: "s3:GetObject".to_string(),
            resource: OBJECT.to_string(),
            context: context(json!({"s3:TlsVersion": 1.3})),
            effect: "EXPLICIT_DENY".to_string(),
            matched: vec![MatchedPolicy {
                uri: "arn:aws:s3:::account-a-bucket".to_string(),
                statements: vec![MatchedStatement {
                    sid: Some("DenyOutsideVpce".to_string()),
                    effect: "DENY".to_string(),
                }],
            }],
        }],
        policies: vec![EvaluatedPolicy {
            kind: Some("RESOURCE_BASED_POLICY".to_string()),
            inline: Some(true),
            uri: Some("arn:aws:s3:::account-a-bucket".to_string()),
            attached_to: vec!["arn:aws:s3:::account-a-bucket".to_string()],
        }],
    }
}

#[test]
fn the_documented_id_pattern_is_enforced() {
    assert!(check_authorization_id("a1b2c3").is_ok());
    for bad in ["", "A1B2", "a1-b2", "a1 b2", "é1"] {
        assert!(check_authorization_id(bad).is_err(), "{bad}");
    }
    assert!(check_authorization_id(&"a".repeat(257)).is_err());
}

#[test]
fn the_request_comes_from_awss_context_and_evaluations() {
    let named = request_of(&denied_get()).unwrap();
    let request = &named.request;
    // IAM User Guide, "AWS global condition context keys": a role
    // session's aws:PrincipalArn is the role, aws:userid ROLE-ID:SESSION.
    assert_eq!(
        request.principal.as_deref(),
        Some("arn:aws:sts::222222222222:assumed-role/etl/run-7")
    );
    assert_eq!(request.bucket.as_deref(), Some("account-a-bucket"));
    assert_eq!(request.object.as_deref(), Some("reports/data.csv"));
    assert_eq!(request.operations, vec![Operation::Get]);
    assert_eq!(
        request.context.get("aws:SourceVpce").map(String::as_str),
        Some("vpce-0abc")
    );
    assert_eq!(
        request
            .context
            .get("aws:SecureTransport")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        request.context.get("s3:TlsVersion").map(String::as_str),
        Some("1.3")
    );
    // The S3 resource's own keys are not laid over the KMS half.
    assert!(!request.context.contains_key("aws:ResourceAccount"));
    assert_eq!(
        request.time.map(|time| time.to_rfc3339()),
        Some("2026-12-07T13:00:00+00:00".to_string())
    );
    assert_eq!(
        request.context.get("aws:CalledVia").map(String::as_str),
        Some("athena.amazonaws.com")
    );
    assert_eq!(
        named.more_values,
        vec![(
            "aws:CalledVia".to_string(),
            "glue.amazonaws.com".to_string()
        )]
    );
    assert!(
        request
            .notes
            .iter()
            .any(|note| note.contains("separate request"))
    );
    assert!(request.source.contains("a1b2c3"));
}

#[test]
fn a_kms_evaluation_names_the_object_through_its_encryption_context() {
    let mut details = denied_get();
    details.evaluations = vec![AwsEvaluation {
        action: "kms:Decrypt".to_string(),
        resource: KEY.to_string(),
        context: context(json!({"kms:EncryptionContext:aws:s3:arn": OBJECT})),
        effect: "IMPLICIT_DENY".to_string(),
        matched: Vec::new(),
    }];
    let request = request_of(&details).unwrap().request;
    assert_eq!(request.bucket.as_deref(), Some("account-a-bucket"));
    assert_eq!(request.object.as_deref(), Some("reports/data.csv"));
    assert_eq!(request.operations, vec![Operation::Get]);
    assert!(
        !request
            .notes
            .iter()
            .any(|note| note.contains("separate request"))
    );
    assert!(!request.context.keys().any(|key| key.starts_with("kms:")));
}

#[test]
fn details_of_another_service_name_no_request() {
    let mut details = denied_get();
    details.evaluations[0].action = "iam:CreateInstanceProfile".to_string();
    details.evaluations[0].resource =
        "arn:aws:iam::123456789012:instance-profile/my-instance-profile".to_string();
    let error = request_of(&details).unwrap_err();
    assert!(error.0.contains("iam:CreateInstanceProfile"), "{}", error.0);
}

#[test]
fn a_value_aws_could_not_send_leaves_its_key_unknown() {
    let mut details = denied_get();
    details
        .request_context
        .insert("aws:SourceIp".to_string(), json!("not-an-address"));
    details.request_context.insert(
        "aws:MultiFactorAuthPresent".to_string(),
        json!({"nested": 1}),
    );
    let request = request_of(&details).unwrap().request;
    assert!(!request.context.contains_key("aws:SourceIp"));
    assert!(request.unknown.contains(&"aws:SourceIp".to_string()));
    assert!(
        request
            .unknown
            .contains(&"aws:MultiFactorAuthPresent".to_string())
    );
}

#[test]
fn no_principal_arn_leaves_the_principal_to_the_flags() {
    let mut details = denied_get();
    details.request_context.remove("aws:PrincipalArn");
    let request = request_of(&details).unwrap().request;
    assert_eq!(request.principal, None);
    assert!(request.missing_principal.is_some());
}

fn link(id: LinkId, status: LinkStatus) -> LinkResult {
    LinkResult {
        link: id,
        status,
        reason: String::new(),
        evidence: Vec::new(),
        fix: None,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
        assumed: None,
        layers: None,
    }
}

fn action(name: &str, resource: &str, links: Vec<LinkResult>) -> ActionResult {
    ActionResult {
        action: name.to_string(),
        resource: resource.to_string(),
        verdict: ActionResult::verdict_of(&links),
        links,
    }
}

fn diagnosis(actions: Vec<ActionResult>) -> Diagnosis {
    let verdict = actions
        .iter()
        .map(|action| action.verdict)
        .max()
        .unwrap_or(Verdict::Allowed);
    Diagnosis {
        principal: "arn:aws:sts::222222222222:assumed-role/etl/run-7".to_string(),
        via_role: None,
        bucket: "account-a-bucket".to_string(),
        object: "reports/data.csv".to_string(),
        object_is_placeholder: false,
        verdict,
        operations: vec![OperationResult {
            operation: Operation::Get,
            verdict,
            actions,
        }],
        notes: Vec::new(),
        changes: Vec::new(),
        recheck: None,
        assumptions: Vec::new(),
    }
}

#[test]
fn an_explicit_deny_at_the_same_link_agrees() {
    let judged = diagnosis(vec![
        action(
            "s3:GetObject",
            OBJECT,
            vec![
                link(LinkId::IdentityPolicy, LinkStatus::Pass),
                link(LinkId::BucketPolicy, LinkStatus::Fail),
            ],
        ),
        action(
            "kms:Decrypt",
            KEY,
            vec![link(LinkId::KeyPolicy, LinkStatus::Pass)],
        ),
    ]);
    let compared = compare(&denied_get(), &judged);
    assert_eq!(compared.actions.len(), 1);
    let get = &compared.actions[0];
    assert_eq!(get.agreement, Agreement::Agree);
    assert_eq!(get.matched[0].link, Some(LinkId::BucketPolicy));
    assert_eq!(get.tool.as_ref().unwrap().link, Some(LinkId::BucketPolicy));
    // S3's call to KMS is a separate request: the tool's side only.
    assert_eq!(compared.not_covered.len(), 1);
    assert_eq!(compared.not_covered[0].action, "kms:Decrypt");
    assert!(compared.not_covered_note.is_some());
}

#[test]
fn a_deny_at_another_link_differs() {
    let judged = diagnosis(vec![action(
        "s3:GetObject",
        OBJECT,
        vec![link(LinkId::IdentityPolicy, LinkStatus::Fail)],
    )]);
    let compared = compare(&denied_get(), &judged);
    assert_eq!(compared.actions[0].agreement, Agreement::Differ);
    assert!(
        compared.actions[0]
            .note
            .as_deref()
            .unwrap()
            .contains("different links")
    );
}

/// A VPC endpoint policy is not a link the tool judges: AWS's deny there
/// and the tool's "allowed" differ, and the note says why.
#[test]
fn a_deny_by_a_vpc_endpoint_policy_differs_from_an_allow() {
    let mut details = denied_get();
    details.evaluations[0].matched[0].uri = "vpce-0abc-policy".to_string();
    details.policies.push(EvaluatedPolicy {
        kind: Some("VPC_ENDPOINT_POLICY".to_string()),
        inline: Some(true),
        uri: Some("vpce-0abc-policy".to_string()),
        attached_to: vec![],
    });
    let judged = diagnosis(vec![action(
        "s3:GetObject",
        OBJECT,
        vec![link(LinkId::BucketPolicy, LinkStatus::Pass)],
    )]);
    let compared = compare(&details, &judged);
    let get = &compared.actions[0];
    assert_eq!(get.agreement, Agreement::Differ);
    assert_eq!(get.matched[0].link, None);
    assert!(get.note.as_deref().unwrap().contains("VPC endpoint"));
}

#[test]
fn an_inconclusive_tool_never_agrees_and_an_allow_agrees_with_an_allow() {
    let unknown = diagnosis(vec![action(
        "s3:GetObject",
        OBJECT,
        vec![link(LinkId::Scp, LinkStatus::Unknown)],
    )]);
    let compared = compare(&denied_get(), &unknown);
    assert_eq!(compared.actions[0].agreement, Agreement::Differ);
    assert_eq!(
        compared.actions[0].tool.as_ref().unwrap().link,
        Some(LinkId::Scp)
    );

    let mut allowed_details = denied_get();
    allowed_details.evaluations[0].effect = "ALLOW".to_string();
    let allowed = diagnosis(vec![action(
        "s3:GetObject",
        OBJECT,
        vec![link(LinkId::BucketPolicy, LinkStatus::Pass)],
    )]);
    assert_eq!(
        compare(&allowed_details, &allowed).actions[0].agreement,
        Agreement::Agree
    );
}

#[test]
fn an_action_the_tool_did_not_judge_differs() {
    let mut details = denied_get();
    details.evaluations[0].action = "s3:PutObjectAcl".to_string();
    let judged = diagnosis(vec![action(
        "s3:GetObject",
        OBJECT,
        vec![link(LinkId::BucketPolicy, LinkStatus::Pass)],
    )]);
    let compared = compare(&details, &judged);
    assert!(compared.actions[0].tool.is_none());
    assert_eq!(compared.actions[0].agreement, Agreement::Differ);
}
