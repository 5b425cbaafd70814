//! Tests of policy parsing (AWS's example policies, rejected inputs with
//! their positions) and of statement evaluation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::*;
use crate::policy::context::RequestContext;
use crate::policy::positions::{JsonPositions, position_of_offset};
use crate::policy::{
    AbsentVariable, Caller, Decision, Evaluation, PolicyError, PrincipalMatch, Request,
    StatementHit, Tri, VariableElement,
};

fn parse(text: &str) -> Policy {
    Policy::parse_text("test policy", text).unwrap()
}

fn parse_error(text: &str) -> PolicyError {
    Policy::parse_text("test policy", text).unwrap_err()
}

/// The 1-based position of the first occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap();
    let position = position_of_offset(text, offset);
    (position.line, position.column)
}

fn user(arn: &str) -> Caller {
    Caller {
        account: arn.split(':').nth(4).unwrap().to_string(),
        principal_arn: arn.to_string(),
        session_arn: None,
        is_role_session: false,
        service: None,
        has_permissions_boundary: false,
    }
}

fn role_session(role_arn: &str, session_arn: Option<&str>) -> Caller {
    Caller {
        is_role_session: true,
        session_arn: session_arn.map(str::to_string),
        ..user(role_arn)
    }
}

fn hits(
    policy: &Policy,
    action: &str,
    resource: &str,
    caller: &Caller,
    context: &RequestContext,
) -> Vec<StatementHit> {
    policy.evaluate(&Request {
        action,
        resource,
        caller,
        context,
    })
}

fn decide(
    policy: &Policy,
    action: &str,
    resource: &str,
    caller: &Caller,
    context: &RequestContext,
) -> Decision {
    Evaluation {
        hits: hits(policy, action, resource, caller, context),
    }
    .decide()
}

// --- AWS example policies --------------------------------------------------

/// Amazon S3 User Guide, "Example 2: Bucket owner granting cross-account
/// bucket permissions", step 1.3 and step 3 (explicit deny).
const WALKTHROUGH_BUCKET_POLICY: &str = r#"{
   "Version": "2012-10-17",
   "Statement": [
      {
         "Sid": "Example permissions",
         "Effect": "Allow",
         "Principal": {
            "AWS": "arn:aws:iam::222222222222:root"
         },
         "Action": [
            "s3:GetLifecycleConfiguration",
            "s3:ListBucket"
         ],
         "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket"
         ]
      },
      {
         "Sid": "Deny permission",
         "Effect": "Deny",
         "Principal": {
            "AWS": "arn:aws:iam::222222222222:root"
         },
         "Action": [
            "s3:ListBucket"
         ],
         "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket"
         ]
      }
   ]
}"#;

/// The same walkthrough, step 2.3: the user policy in account B.
const WALKTHROUGH_USER_POLICY: &str = r#"{
   "Version": "2012-10-17",
   "Statement": [
      {
         "Sid": "Example",
         "Effect": "Allow",
         "Action": [
            "s3:ListBucket"
         ],
         "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket"
         ]
      }
   ]
}"#;

/// AWS KMS Developer Guide, "Default key policy" as the console writes it.
const KMS_DEFAULT_KEY_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Id": "key-consolepolicy-3",
  "Statement": [
    {
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "Allow access for Key Administrators",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/KMSAdmins"},
      "Action": [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
        "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
        "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Allow use of the key",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/EncryptionApp"},
      "Action": [
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
        "kms:DescribeKey"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Allow attachment of persistent resources",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/EncryptionApp"},
      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      "Resource": "*",
      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    }
  ]
}"#;

/// Amazon S3 User Guide, "Requiring server-side encryption with AWS KMS
/// keys": the bucket policy that denies uploads without SSE-KMS, plus the
/// usual TLS-only statement.
const SSE_KMS_BUCKET_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Id": "PutObjectPolicy",
  "Statement": [
    {
      "Sid": "DenyIncorrectEncryptionHeader",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
      "Condition": {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
      }
    },
    {
      "Sid": "DenyWrongKey",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
      "Condition": {
        "StringNotEqualsIfExists": {
          "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        }
      }
    },
    {
      "Sid": "DenyInsecureTransport",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*"],
      "Condition": {"Bool": {"aws:SecureTransport": false}}
    },
    {
      "Sid": "AllowAccountB",
      "Effect": "Allow",
      "Principal": {"AWS": ["222222222222"]},
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
    }
  ]
}"#;

#[test]
fn aws_example_policies_parse() {
    for (text, statements) in [
        (WALKTHROUGH_BUCKET_POLICY, 2),
        (WALKTHROUGH_USER_POLICY, 1),
        (KMS_DEFAULT_KEY_POLICY, 4),
        (SSE_KMS_BUCKET_POLICY, 4),
    ] {
        let policy = parse(text);
        assert_eq!(policy.statements().len(), statements);
        assert_eq!(policy.version(), Some(Version::V2012_10_17));
    }
    let key_policy = parse(KMS_DEFAULT_KEY_POLICY);
    assert_eq!(key_policy.id(), Some("key-consolepolicy-3"));
    let third = &key_policy.statements()[2];
    assert_eq!(third.sid(), Some("Allow use of the key"));
    assert_eq!(third.index(), 2);
    assert_eq!(third.path(), "/Statement/2");
    assert_eq!(
        third.line(),
        Some(jq_line(KMS_DEFAULT_KEY_POLICY, "\"Sid\": \"Allow use of the key\"") - 1)
    );
    assert_eq!(third.effect(), Effect::Allow);
    assert!(third.has_principal());
}

#[test]
fn walkthrough_explicit_deny_wins() {
    let policy = parse(WALKTHROUGH_BUCKET_POLICY);
    let dave = user("arn:aws:iam::222222222222:user/Dave");
    let context = RequestContext::new();
    let bucket = "arn:aws:s3:::amzn-s3-demo-bucket";
    assert_eq!(
        decide(&policy, "s3:ListBucket", bucket, &dave, &context),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(
            &policy,
            "s3:GetLifecycleConfiguration",
            bucket,
            &dave,
            &context
        ),
        Decision::Allow
    );
    let found = hits(
        &policy,
        "s3:GetLifecycleConfiguration",
        bucket,
        &dave,
        &context,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].principal_match, Some(PrincipalMatch::Account));
    assert_eq!(found[0].sid.as_deref(), Some("Example permissions"));
    assert_eq!(
        found[0].line,
        Some(
            jq_line(
                WALKTHROUGH_BUCKET_POLICY,
                "\"Sid\": \"Example permissions\""
            ) - 1
        )
    );
    assert_eq!(&*found[0].label, "test policy");
    assert_eq!(found[0].document, 0);
    // Another account is not named.
    let other = user("arn:aws:iam::333333333333:user/Eve");
    assert_eq!(
        decide(
            &policy,
            "s3:GetLifecycleConfiguration",
            bucket,
            &other,
            &context
        ),
        Decision::ImplicitDeny
    );
    // The identity policy has no principal: it applies to its owner.
    let identity = parse(WALKTHROUGH_USER_POLICY);
    let found = hits(&identity, "s3:ListBucket", bucket, &dave, &context);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].principal_match, None);
    assert_eq!(found[0].applies, Tri::Yes);
}

#[test]
fn kms_default_key_policy() {
    let policy = parse(KMS_DEFAULT_KEY_POLICY);
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let context = RequestContext::new();
    let app = role_session("arn:aws:iam::111122223333:role/EncryptionApp", None);
    let found = hits(&policy, "kms:Decrypt", key, &app, &context);
    let kinds: Vec<_> = found
        .iter()
        .map(|hit| (hit.statement, hit.principal_match))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (0, Some(PrincipalMatch::Account)),
            (2, Some(PrincipalMatch::Role))
        ]
    );
    // kms:GenerateDataKey* covers GenerateDataKeyWithoutPlaintext; actions are
    // case-insensitive.
    assert_eq!(
        hits(
            &policy,
            "KMS:generatedatakeywithoutplaintext",
            key,
            &app,
            &context
        )
        .len(),
        2
    );
    // The grant statement hangs on kms:GrantIsForAWSResource (absent: no).
    assert_eq!(
        hits(&policy, "kms:CreateGrant", key, &app, &context).len(),
        1
    );
    let mut for_aws = RequestContext::new();
    for_aws.set("kms:GrantIsForAWSResource", "true");
    assert_eq!(
        hits(&policy, "kms:CreateGrant", key, &app, &for_aws).len(),
        2
    );
    // Another account's user is named by nothing.
    let outsider = user("arn:aws:iam::222222222222:user/dilip");
    assert!(hits(&policy, "kms:Decrypt", key, &outsider, &context).is_empty());
}

#[test]
fn sse_kms_bucket_policy_and_absent_headers() {
    let policy = parse(SSE_KMS_BUCKET_POLICY);
    let object = "arn:aws:s3:::amzn-s3-demo-bucket/reports/data.csv";
    let caller = user("arn:aws:iam::222222222222:user/dilip");
    let mut context = RequestContext::new();
    context.set("aws:SecureTransport", "true");
    // IAM User Guide, "Condition operators": StringNotEquals on a key absent
    // from the request is true, so a PutObject without the encryption header
    // is denied even when the bucket's default encryption is SSE-KMS.
    assert_eq!(
        decide(&policy, "s3:PutObject", object, &caller, &context),
        Decision::ExplicitDeny
    );
    context.set("s3:x-amz-server-side-encryption", "aws:kms");
    // "If you are using an "Effect": "Deny" element with a negated condition
    // operator like StringNotEqualsIfExists, the request is still denied even
    // if the tag is missing" (IAM User Guide, "Condition operators",
    // IfExists): without the key id header the upload is denied.
    assert_eq!(
        decide(&policy, "s3:PutObject", object, &caller, &context),
        Decision::ExplicitDeny
    );
    context.set(
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "arn:aws:kms:us-east-1:111122223333:key/other",
    );
    assert_eq!(
        decide(&policy, "s3:PutObject", object, &caller, &context),
        Decision::ExplicitDeny
    );
    context.set(
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    );
    assert_eq!(
        decide(&policy, "s3:PutObject", object, &caller, &context),
        Decision::Allow
    );
    // Reads are not touched by the PutObject denies; without TLS they are.
    assert_eq!(
        decide(&policy, "s3:GetObject", object, &caller, &context),
        Decision::Allow
    );
    context.set("aws:SecureTransport", "false");
    assert_eq!(
        decide(&policy, "s3:GetObject", object, &caller, &context),
        Decision::ExplicitDeny
    );
    // Unknown transport: the deny may apply, the allow holds: unknown.
    context.set_unknown("aws:SecureTransport");
    let found = hits(&policy, "s3:GetObject", object, &caller, &context);
    let deny = found.iter().find(|hit| hit.effect == Effect::Deny).unwrap();
    assert_eq!(deny.applies, Tri::Unknown);
    assert_eq!(deny.unknown_keys, vec!["aws:SecureTransport".to_string()]);
    assert_eq!(Evaluation { hits: found }.decide(), Decision::Unknown);
}

// --- rejected input ---------------------------------------------------------

/// The inline policy for the account-B user of the cross-account walkthrough
/// (Amazon S3 User Guide, "Example walkthroughs: Managing access"), as people
/// paste it with two typos: `"s3:GetObject""` and a trailing comma after the
/// bucket ARN. The first error in the text is the one reported.
const ANN_POLICY: &str = r#"{
   "Version": "2012-10-17",
   "Statement": [
      {
         "Sid": "Example",
         "Effect": "Allow",
         "Action": [
            "s3:ListBucket",
            "s3:GetObject""
         ],
         "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket",
         ]
      }
   ]
}"#;

#[test]
fn ann_policy_is_rejected_at_its_first_error() {
    let error = parse_error(ANN_POLICY);
    // The stray quote after "s3:GetObject" comes first in the text.
    let (line, column) = position_of(ANN_POLICY, "\"\n         ],");
    assert_eq!(
        (error.line, error.column),
        (Some(line), Some(column)),
        "{error}"
    );
    assert_eq!(line, 9);
    assert!(error.message.starts_with("invalid JSON"), "{error}");
    assert_eq!(error.document, "test policy");

    // With the quote fixed, the trailing comma is the first error; it is
    // reported where the comma is, not at the bracket after it.
    let fixed = ANN_POLICY.replace("\"s3:GetObject\"\"", "\"s3:GetObject\"");
    let error = parse_error(&fixed);
    let (line, column) = position_of(&fixed, ",\n         ]\n      }");
    assert_eq!(
        (error.line, error.column),
        (Some(line), Some(column)),
        "{error}"
    );
    assert_eq!(line, 12);
    assert!(error.message.contains("trailing comma"), "{error}");

    // Resource before Action: the trailing comma comes first.
    let reordered = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket",],
  "Action": ["s3:ListBucket", "s3:GetObject""]}]}"#;
    let error = parse_error(reordered);
    assert_eq!((error.line, error.column), (Some(2), Some(50)), "{error}");
    assert!(error.message.contains("trailing comma"), "{error}");
}

#[test]
fn semantic_errors_name_the_path_and_position() {
    // (document, path, message fragment)
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "NotAction": "s3:PutObject", "Resource": "*"}]}"#,
            "/Statement/0/NotAction",
            "both `Action` and `NotAction`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}}"#,
            "/Statement/Effect",
            "unknown `Effect` `allow`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
             {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqual": {"aws:username": "x"}}}]}"#,
            "/Statement/1/Condition/StringEqual",
            "unknown condition operator `StringEqual`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::1111:root"]}, "Action": "s3:GetObject", "Resource": "*"}]}"#,
            "/Statement/0/Principal/AWS/1",
            "malformed ARN `arn:aws:iam::1111:root`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b", "s3://bucket/key"]}]}"#,
            "/Statement/0/Resource/1",
            "malformed ARN `s3://bucket/key`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "GetObject"], "Resource": "*"}]}"#,
            "/Statement/0/Action/1",
            "no service prefix",
        ),
        (
            r#"{"Version": "2012-10-18", "Statement": []}"#,
            "/Version",
            "unknown `Version`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Actions": "s3:*", "Resource": "*"}]}"#,
            "/Statement/0/Actions",
            "unknown statement element `Actions`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}"#,
            "/Statement/0",
            "no `Action`",
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]}"#,
            "/Statement/0",
            "no `Effect`",
        ),
        (r#"{"Version": "2012-10-17"}"#, "", "no `Statement`"),
        (
            r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"StringEquals": {"a/b": {"x": 1}}}}]}"#,
            "/Statement/0/Condition/StringEquals/a~1b",
            "condition value",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Principal": {"AWS": "*"}, "NotPrincipal": {"AWS": "*"}}]}"#,
            "/Statement/0/NotPrincipal",
            "both `Principal` and `NotPrincipal`",
        ),
    ];
    for (text, path, fragment) in cases {
        let error = parse_error(text);
        assert_eq!(error.path, *path, "{error}");
        assert!(error.message.contains(fragment), "{error}");
        assert!(error.line.is_some() && error.column.is_some(), "{error}");
        // Messages are lowercase and end without a period.
        assert!(!error.message.ends_with('.'), "{error}");
        assert!(
            error.message.starts_with(|c: char| !c.is_uppercase()),
            "{error}"
        );
    }
}

#[test]
fn semantic_error_positions_point_at_the_value() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Permit\",\n      \"Action\": \"s3:*\"\n    }\n  ]\n}";
    let error = parse_error(text);
    assert_eq!((error.line, error.column), (Some(5), Some(17)));
    assert_eq!(
        error.to_string(),
        "policy `test policy`: /Statement/0/Effect: unknown `Effect` `Permit`: expected `Allow` or `Deny` (line 5, column 17)"
    );
}

#[test]
fn object_inputs_are_located_in_their_pretty_form() {
    let value =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*"}]});
    let error = Policy::parse_value("bucket policy", &value).unwrap_err();
    assert_eq!(error.path, "/Statement/0/Effect");
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    let (line, column) = position_of(&pretty, "\"Maybe\"");
    assert_eq!((error.line, error.column), (Some(line), Some(column)));
}

#[test]
fn the_three_input_forms_give_the_same_policy() {
    let object: Value = serde_json::from_str(WALKTHROUGH_USER_POLICY).unwrap();
    let as_string = Value::String(WALKTHROUGH_USER_POLICY.to_string());
    let encoded: String = percent_encoding::utf8_percent_encode(
        WALKTHROUGH_USER_POLICY,
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    assert!(encoded.starts_with('%'));
    let expected = parse(WALKTHROUGH_USER_POLICY).to_value();
    assert_eq!(
        Policy::parse_value("p", &object).unwrap().to_value(),
        expected
    );
    assert_eq!(
        Policy::parse_value("p", &as_string).unwrap().to_value(),
        expected
    );
    assert_eq!(
        Policy::parse_text("p", &encoded).unwrap().to_value(),
        expected
    );
    // A JSON string holding the document, as text.
    let quoted = serde_json::to_string(&as_string).unwrap();
    assert_eq!(
        Policy::parse_text("p", &quoted).unwrap().to_value(),
        expected
    );
    assert!(Policy::parse_value("p", &json!([1])).is_err());
    assert!(Policy::parse_text("p", "42").is_err());
    assert!(Policy::parse_text("p", "%ZZ").is_err());
}

#[test]
fn canonical_form_round_trips() {
    for text in [
        WALKTHROUGH_BUCKET_POLICY,
        KMS_DEFAULT_KEY_POLICY,
        SSE_KMS_BUCKET_POLICY,
    ] {
        let first = parse(text).to_value();
        let second = Policy::parse_value("again", &first).unwrap().to_value();
        assert_eq!(first, second);
    }
    let single = parse(
        r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"NumericLessThan": {"s3:max-keys": 10}}}}"#,
    );
    assert_eq!(
        single.to_value(),
        json!({"Statement": {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"], "Condition": {"NumericLessThan": {"s3:max-keys": [10]}}}})
    );
    assert_eq!(single.statements()[0].path(), "/Statement");
}

// --- evaluation ---------------------------------------------------------------

fn one_statement(statement: Value) -> Policy {
    Policy::parse_value(
        "p",
        &json!({"Version": "2012-10-17", "Statement": [statement]}),
    )
    .unwrap()
}

fn applies(
    policy: &Policy,
    action: &str,
    resource: &str,
    caller: &Caller,
    context: &RequestContext,
) -> Tri {
    match hits(policy, action, resource, caller, context).as_slice() {
        [] => Tri::No,
        [hit] => hit.applies,
        more => panic!("{} hits", more.len()),
    }
}

#[test]
fn actions_and_resources() {
    let caller = user("arn:aws:iam::111122223333:user/ann");
    let context = RequestContext::new();
    // (statement, action, resource, expected)
    let cases: Vec<(Value, &str, &str, Tri)> = vec![
        (
            json!({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Tri::Yes,
        ),
        (
            json!({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}),
            "s3:PutObject",
            "arn:aws:s3:::b/k",
            Tri::No,
        ),
        (
            json!({"Effect": "Allow", "Action": "S3:GETOBJECT", "Resource": "*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Tri::Yes,
        ),
        (
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:1:key/k",
            Tri::Yes,
        ),
        // the service prefix is part of the match
        (
            json!({"Effect": "Allow", "Action": "kms:Get*", "Resource": "*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Tri::No,
        ),
        (
            json!({"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Tri::Yes,
        ),
        (
            json!({"Effect": "Allow", "NotAction": ["s3:Delete*", "s3:Get*"], "Resource": "*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Tri::No,
        ),
        // resources are case-sensitive
        (
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::B/*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Tri::No,
        ),
        (
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Tri::No,
        ),
        (
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]}),
            "s3:GetObject",
            "arn:aws:s3:::b/x/y",
            Tri::Yes,
        ),
        (
            json!({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/secret/*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/x",
            Tri::Yes,
        ),
        (
            json!({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/secret/*"}),
            "s3:GetObject",
            "arn:aws:s3:::b/secret/x",
            Tri::No,
        ),
        // no Resource (trust policies): any resource
        (
            json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "111122223333"}}),
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/r",
            Tri::Yes,
        ),
    ];
    for (statement, action, resource, expected) in cases {
        let policy = one_statement(statement.clone());
        assert_eq!(
            applies(&policy, action, resource, &caller, &context),
            expected,
            "{statement} {action} {resource}"
        );
    }
}

#[test]
fn variables_in_resources() {
    let caller = user("arn:aws:iam::111122223333:user/ann");
    let policy = one_statement(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/home/${aws:username}/*"}),
    );
    let mut context = RequestContext::new();
    context.set("aws:username", "ann");
    assert_eq!(
        applies(
            &policy,
            "s3:GetObject",
            "arn:aws:s3:::b/home/ann/x",
            &caller,
            &context
        ),
        Tri::Yes
    );
    assert_eq!(
        applies(
            &policy,
            "s3:GetObject",
            "arn:aws:s3:::b/home/bob/x",
            &caller,
            &context
        ),
        Tri::No
    );
    // A substituted value is literal: `*` in it is no wildcard.
    context.set("aws:username", "*");
    assert_eq!(
        applies(
            &policy,
            "s3:GetObject",
            "arn:aws:s3:::b/home/ann/x",
            &caller,
            &context
        ),
        Tri::No
    );
    // Unknown: the statement may apply, naming the key.
    context.set_unknown("aws:username");
    let found = hits(
        &policy,
        "s3:GetObject",
        "arn:aws:s3:::b/home/ann/x",
        &caller,
        &context,
    );
    assert_eq!(found[0].applies, Tri::Unknown);
    assert_eq!(found[0].unknown_keys, vec!["aws:username".to_string()]);
    // Absent without default: the entry "will not match any resource" (IAM
    // User Guide, "Policy variables with no value"), and the statement is
    // reported as not applying, with the variable that kept it out.
    context.remove("aws:username");
    let found = hits(
        &policy,
        "s3:GetObject",
        "arn:aws:s3:::b/home/ann/x",
        &caller,
        &context,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].applies, Tri::No);
    assert_eq!(
        found[0].absent_variables,
        vec![AbsentVariable {
            element: VariableElement::Resource,
            key: "aws:username".into()
        }]
    );
    // A statement that would not apply anyway is not reported.
    assert!(
        hits(
            &policy,
            "s3:GetObject",
            "arn:aws:s3:::other/home/ann/x",
            &caller,
            &context
        )
        .is_empty()
    );
    assert!(
        hits(
            &policy,
            "kms:Decrypt",
            "arn:aws:s3:::b/home/ann/x",
            &caller,
            &context
        )
        .is_empty()
    );
    // With a default.
    let defaulted = one_statement(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/home/${aws:username, 'anonymous'}/*"}),
    );
    assert_eq!(
        applies(
            &defaulted,
            "s3:GetObject",
            "arn:aws:s3:::b/home/anonymous/x",
            &caller,
            &context
        ),
        Tri::Yes
    );
    // Escapes make wildcards literal.
    let escaped = one_statement(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${*}"}),
    );
    assert_eq!(
        applies(
            &escaped,
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            &caller,
            &context
        ),
        Tri::Yes
    );
    assert_eq!(
        applies(
            &escaped,
            "s3:GetObject",
            "arn:aws:s3:::b/x",
            &caller,
            &context
        ),
        Tri::No
    );
    // 2008-10-17 and no Version: variables are literal text.
    for version in [Some("2008-10-17"), None] {
        let mut document = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}"}]});
        if let Some(version) = version {
            document["Version"] = json!(version);
        }
        let policy = Policy::parse_value("p", &document).unwrap();
        let mut context = RequestContext::new();
        context.set("aws:username", "ann");
        assert_eq!(
            applies(
                &policy,
                "s3:GetObject",
                "arn:aws:s3:::b/${aws:username}",
                &caller,
                &context
            ),
            Tri::Yes
        );
        assert_eq!(
            applies(
                &policy,
                "s3:GetObject",
                "arn:aws:s3:::b/ann",
                &caller,
                &context
            ),
            Tri::No
        );
    }
}

#[test]
fn conditions_are_anded_and_unknowns_named() {
    let caller = user("arn:aws:iam::111122223333:user/ann");
    let policy = one_statement(json!({
        "Effect": "Deny", "Action": "s3:*", "Resource": "*",
        "Condition": {
            "NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]},
            "StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d", "aws:PrincipalAccount": "111122223333"}
        }
    }));
    let mut context = RequestContext::new();
    context.set_unknown("aws:SourceIp");
    context.set_unknown("aws:SourceVpce");
    context.set("aws:PrincipalAccount", "111122223333");
    // A false condition settles it even when others are unknown.
    assert_eq!(
        applies(&policy, "s3:GetObject", "arn:aws:s3:::b", &caller, &context),
        Tri::No
    );
    context.set("aws:PrincipalAccount", "999999999999");
    let found = hits(&policy, "s3:GetObject", "arn:aws:s3:::b", &caller, &context);
    assert_eq!(found[0].applies, Tri::Unknown);
    assert_eq!(
        found[0].unknown_keys,
        vec!["aws:SourceIp".to_string(), "aws:SourceVpce".to_string()]
    );
    context.set("aws:SourceIp", "198.51.100.1");
    context.set("aws:SourceVpce", "vpce-other");
    let found = hits(&policy, "s3:GetObject", "arn:aws:s3:::b", &caller, &context);
    assert_eq!(found[0].applies, Tri::Yes);
    assert!(found[0].unknown_keys.is_empty());
}

#[test]
fn principals_in_statements() {
    let context = RequestContext::new();
    let policy = one_statement(json!({
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Principal": {"AWS": "arn:aws:sts::222222222222:assumed-role/etl/build-7"}
    }));
    let unnamed = role_session("arn:aws:iam::222222222222:role/etl", None);
    let found = hits(
        &policy,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        &unnamed,
        &context,
    );
    assert_eq!(found[0].applies, Tri::Unknown);
    assert_eq!(found[0].principal_match, Some(PrincipalMatch::Session));
    assert_eq!(
        found[0].unknown_keys,
        vec!["arn:aws:sts::222222222222:assumed-role/etl/build-7".to_string()]
    );
    let named = role_session(
        "arn:aws:iam::222222222222:role/etl",
        Some("arn:aws:sts::222222222222:assumed-role/etl/build-7"),
    );
    let found = hits(
        &policy,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        &named,
        &context,
    );
    assert_eq!(
        (found[0].applies, found[0].principal_match),
        (Tri::Yes, Some(PrincipalMatch::Session))
    );
}

#[test]
fn not_principal_deny_and_permissions_boundaries() {
    // IAM User Guide, "NotPrincipal": the account must be listed too, and a
    // Deny with NotPrincipal always applies to a principal with a boundary.
    let policy = one_statement(json!({
        "Effect": "Deny", "Action": "s3:*", "Resource": "*",
        "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]}
    }));
    let context = RequestContext::new();
    let bob = user("arn:aws:iam::444455556666:user/Bob");
    assert_eq!(
        applies(&policy, "s3:GetObject", "arn:aws:s3:::b", &bob, &context),
        Tri::No
    );
    let alice = user("arn:aws:iam::444455556666:user/Alice");
    let found = hits(&policy, "s3:GetObject", "arn:aws:s3:::b", &alice, &context);
    assert_eq!(
        (found[0].applies, found[0].principal_match),
        (Tri::Yes, Some(PrincipalMatch::NotPrincipal))
    );
    let bounded_bob = Caller {
        has_permissions_boundary: true,
        ..bob
    };
    assert_eq!(
        applies(
            &policy,
            "s3:GetObject",
            "arn:aws:s3:::b",
            &bounded_bob,
            &context
        ),
        Tri::Yes
    );
}

#[test]
fn not_principal_allow_is_never_a_grant() {
    // IAM User Guide, "AWS JSON policy elements: NotPrincipal": "Using it
    // with "Effect":"Allow" is not supported"; the page once said it allows
    // every principal but those listed, anonymous callers included. The
    // reading is open: unknown for a caller not listed, nothing for one
    // listed (with its account, as the page asks), and a boundary changes
    // nothing (its rule is for Deny).
    let policy = one_statement(json!({
        "Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]}
    }));
    let context = RequestContext::new();
    let alice = user("arn:aws:iam::444455556666:user/Alice");
    let found = hits(&policy, "s3:GetObject", "arn:aws:s3:::b", &alice, &context);
    assert_eq!(
        (found[0].applies, found[0].principal_match),
        (Tri::Unknown, Some(PrincipalMatch::NotPrincipal))
    );
    assert!(crate::policy::open_reading(&found[0].unknown_keys[0]).is_some());
    assert_eq!(
        decide(&policy, "s3:GetObject", "arn:aws:s3:::b", &alice, &context),
        Decision::Unknown
    );
    let bob = user("arn:aws:iam::444455556666:user/Bob");
    assert_eq!(
        applies(&policy, "s3:GetObject", "arn:aws:s3:::b", &bob, &context),
        Tri::No
    );
    let bounded_bob = Caller {
        has_permissions_boundary: true,
        ..bob
    };
    assert_eq!(
        applies(
            &policy,
            "s3:GetObject",
            "arn:aws:s3:::b",
            &bounded_bob,
            &context
        ),
        Tri::No
    );
}

#[test]
fn wildcard_service_prefixes_are_an_open_reading() {
    // IAM User Guide, "Grammar of the IAM JSON policy language" (notes on
    // `action_string`): "a service namespace, a colon, and the name of an
    // action. Action names can include wildcards"; "IAM JSON policy
    // elements: Action" shows wildcards in the action name only. A wildcard
    // in the prefix has no documented meaning: a match resting on it is
    // unknown, a pattern that cannot match even as a glob matches nothing.
    let context = RequestContext::new();
    let alice = user("arn:aws:iam::444455556666:user/Alice");
    for pattern in ["*:*", "*:GetObject", "s*:GetObject", "?3:Get*"] {
        for effect in ["Allow", "Deny"] {
            let policy = one_statement(json!({
                "Effect": effect, "Action": pattern, "Resource": "*", "Principal": "*"
            }));
            let found = hits(
                &policy,
                "s3:GetObject",
                "arn:aws:s3:::b/k",
                &alice,
                &context,
            );
            assert_eq!(found[0].applies, Tri::Unknown, "{effect} {pattern}");
            let point = crate::policy::open_reading(&found[0].unknown_keys[0]).unwrap();
            assert!(point.contains(pattern), "{point}");
            if effect == "Allow" {
                assert_eq!(
                    decide(
                        &policy,
                        "s3:GetObject",
                        "arn:aws:s3:::b/k",
                        &alice,
                        &context
                    ),
                    Decision::Unknown
                );
            }
        }
    }
    let other = one_statement(json!({
        "Effect": "Allow", "Action": "*:PutObject", "Resource": "*", "Principal": "*"
    }));
    assert!(hits(&other, "s3:GetObject", "arn:aws:s3:::b/k", &alice, &context).is_empty());
    // A documented pattern beside it still decides.
    let both = one_statement(json!({
        "Effect": "Allow", "Action": ["*:GetObject", "s3:Get*"], "Resource": "*", "Principal": "*"
    }));
    assert_eq!(
        applies(&both, "s3:GetObject", "arn:aws:s3:::b/k", &alice, &context),
        Tri::Yes
    );
    // NotAction: unknown where the pattern may match, applies where it cannot.
    let not_action = one_statement(json!({
        "Effect": "Allow", "NotAction": "*:GetObject", "Resource": "*", "Principal": "*"
    }));
    assert_eq!(
        applies(
            &not_action,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            &alice,
            &context
        ),
        Tri::Unknown
    );
    assert_eq!(
        applies(
            &not_action,
            "s3:PutObject",
            "arn:aws:s3:::b/k",
            &alice,
            &context
        ),
        Tri::Yes
    );
}

#[test]
fn statements_carry_their_evidence() {
    let policy = parse(SSE_KMS_BUCKET_POLICY);
    let caller = user("arn:aws:iam::222222222222:user/dilip");
    let mut context = RequestContext::new();
    context.set("aws:SecureTransport", "true");
    let found = hits(
        &policy,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/k",
        &caller,
        &context,
    );
    assert_eq!(found.len(), 1);
    let hit = &found[0];
    assert_eq!(hit.statement, 3);
    assert_eq!(hit.sid.as_deref(), Some("AllowAccountB"));
    // The line as `jq .` prints the document: the statement's `{` precedes
    // its first key, `Sid`.
    assert_eq!(
        hit.line,
        Some(jq_line(SSE_KMS_BUCKET_POLICY, "\"Sid\": \"AllowAccountB\"") - 1)
    );
}

/// The 1-based line of `needle` in the document as `jq .` prints it.
fn jq_line(text: &str, needle: &str) -> usize {
    let value: Value = serde_json::from_str(text).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    pretty
        .lines()
        .position(|line| line.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn statement_lines_are_those_jq_prints_whatever_the_input_form() {
    let pretty = parse(SSE_KMS_BUCKET_POLICY);
    let value: Value = serde_json::from_str(SSE_KMS_BUCKET_POLICY).unwrap();
    let one_line = parse(&value.to_string());
    let encoded: String = percent_encoding::utf8_percent_encode(
        &value.to_string(),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let from_iam = parse(&encoded);
    let object = Policy::parse_value("test policy", &value).unwrap();
    let lines = |policy: &Policy| -> Vec<Option<usize>> {
        policy.statements().iter().map(Statement::line).collect()
    };
    assert_eq!(lines(&pretty), lines(&one_line));
    assert_eq!(lines(&pretty), lines(&from_iam));
    assert_eq!(lines(&pretty), lines(&object));
    // Each is the line of the statement's `{` in the pretty form.
    let printed = serde_json::to_string_pretty(&value).unwrap();
    for (index, line) in lines(&pretty).into_iter().enumerate() {
        let pointer = format!("/Statement/{index}");
        let at = JsonPositions::new(&printed)
            .unwrap()
            .locate(&pointer)
            .unwrap();
        assert_eq!(line, Some(at.line), "{pointer}");
    }
    // A lone statement object.
    let single = parse(r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#);
    assert_eq!(single.statements()[0].line(), Some(2));
}

#[test]
fn variables_with_no_value_as_aws_judges_them() {
    // IAM User Guide, "IAM policy elements: Variables and tags", "Policy
    // variables with no value".
    let caller = user("arn:aws:iam::111122223333:user/ann");
    let object = "arn:aws:s3:::amzn-s3-demo-bucket/x";
    let mut context = RequestContext::new();
    context.set("s3:ExistingObjectTag/Team", "blue");
    // The page's example: "Access is explicitly denied when
    // aws:principaltag/Team is not set", as a negated operator matches a
    // null value.
    let deny = one_statement(json!({
        "Effect": "Deny", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition": {"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}
    }));
    let found = hits(&deny, "s3:GetObject", object, &caller, &context);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].applies, Tri::Yes);
    assert_eq!(
        found[0].absent_variables,
        vec![AbsentVariable {
            element: VariableElement::Condition {
                operator: "StringNotEquals".into(),
                key: "s3:ExistingObjectTag/Team".into()
            },
            key: "aws:PrincipalTag/Team".into()
        }]
    );
    assert_eq!(
        decide(&deny, "s3:GetObject", object, &caller, &context),
        Decision::ExplicitDeny
    );
    // With the tag set to the object's, it does not apply; to another, it
    // does, and owes nothing to a missing value.
    context.set("aws:PrincipalTag/Team", "blue");
    assert!(hits(&deny, "s3:GetObject", object, &caller, &context).is_empty());
    context.set("aws:PrincipalTag/Team", "red");
    let found = hits(&deny, "s3:GetObject", object, &caller, &context);
    assert_eq!(found[0].applies, Tri::Yes);
    assert!(found[0].absent_variables.is_empty());
    // An unknown tag leaves the statement unknown, naming the key.
    context.set_unknown("aws:PrincipalTag/Team");
    let found = hits(&deny, "s3:GetObject", object, &caller, &context);
    assert_eq!(found[0].applies, Tri::Unknown);
    assert_eq!(
        found[0].unknown_keys,
        vec!["aws:PrincipalTag/Team".to_string()]
    );
    context.remove("aws:PrincipalTag/Team");

    // A positive operator does not match: the Allow is reported as not
    // applying, naming the condition.
    let allow = one_statement(json!({
        "Sid": "SameTeam", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}
    }));
    let found = hits(&allow, "s3:GetObject", object, &caller, &context);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].applies, Tri::No);
    assert_eq!(found[0].absent_variables.len(), 1);
    assert_eq!(
        decide(&allow, "s3:GetObject", object, &caller, &context),
        Decision::ImplicitDeny
    );
    // ...but not when another condition rules it out anyway.
    let tls = one_statement(json!({
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {
            "StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"},
            "Bool": {"aws:SecureTransport": "true"}
        }
    }));
    context.set("aws:SecureTransport", "false");
    assert!(hits(&tls, "s3:GetObject", object, &caller, &context).is_empty());
    // A default stands in: the statement applies.
    let defaulted = one_statement(json!({
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team, 'blue'}"}}
    }));
    assert_eq!(
        applies(&defaulted, "s3:GetObject", object, &caller, &context),
        Tri::Yes
    );

    // In a `Resource` list, the entry with no value matches nothing but the
    // others still can.
    let listed = one_statement(json!({
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/Team}/*", "arn:aws:s3:::amzn-s3-demo-bucket/*"]
    }));
    let found = hits(&listed, "s3:GetObject", object, &caller, &context);
    assert_eq!(found[0].applies, Tri::Yes);
    assert!(found[0].absent_variables.is_empty());
    // In `NotResource` it excludes nothing: a Deny then covers everything.
    let not_resource = one_statement(json!({
        "Effect": "Deny", "Action": "s3:GetObject",
        "NotResource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/Team}/*"
    }));
    let found = hits(&not_resource, "s3:GetObject", object, &caller, &context);
    assert_eq!(found[0].applies, Tri::Yes);
    assert_eq!(
        found[0].absent_variables,
        vec![AbsentVariable {
            element: VariableElement::NotResource,
            key: "aws:PrincipalTag/Team".into()
        }]
    );
}

/// A document large enough to be read in parallel (over a thousand
/// statements), with a multi-line statement in the middle so that lines do
/// not follow from indexes alone.
fn large_document(statements: usize) -> Value {
    let items: Vec<Value> = (0..statements)
        .map(|index| {
            json!({
                "Sid": format!("S{index}"),
                "Effect": if index % 7 == 0 { "Deny" } else { "Allow" },
                "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", 100_000_000_000usize + index)},
                "Action": ["s3:GetObject", "kms:Decrypt"],
                "Resource": format!("arn:aws:s3:::bucket/p{index}/*"),
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": format!("t{index}")}}
            })
        })
        .collect();
    json!({"Version": "2012-10-17", "Id": "large", "Statement": items})
}

#[test]
fn text_read_in_parallel_gives_the_policy_the_json_value_gives() {
    let value = large_document(3000);
    let from_value = Policy::parse_value("doc", &value).unwrap();
    for text in [
        value.to_string(),
        serde_json::to_string_pretty(&value).unwrap(),
    ] {
        let from_text = Policy::parse_text("doc", &text).unwrap();
        assert_eq!(from_text.to_value(), from_value.to_value());
        assert_eq!(from_text.statements().len(), 3000);
        for (read, expected) in from_text.statements().iter().zip(from_value.statements()) {
            assert_eq!(read.index(), expected.index());
            assert_eq!(read.path(), expected.path());
            assert_eq!(read.line(), expected.line(), "{}", read.path());
            // The offset is where the statement's text starts.
            let offset = read.offset().unwrap();
            let sid = format!("\"S{}\"", read.index());
            assert!(text[offset..].starts_with('{'), "{}", read.path());
            assert!(text[offset..].find(&sid) < text[offset..].find('}'));
        }
    }
}

#[test]
fn the_first_bad_statement_of_a_large_document_is_reported() {
    let mut value = large_document(3000);
    // Two bad statements, one in each half the threads read: the first one
    // in document order is the one reported.
    value["Statement"][2500]["Effect"] = json!("Maybe");
    value["Statement"][1200]["Condition"] = json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}});
    let error = Policy::parse_text("doc", &value.to_string()).unwrap_err();
    assert_eq!(
        error.path,
        "/Statement/1200/Condition/IpAddress/aws:SourceIp"
    );
    value["Statement"][1200]["Condition"] = json!({});
    value["Statement"][2500]["Effect"] = json!("Allow");
    let duplicate = value.to_string().replacen(
        "\"Sid\":\"S1700\"",
        "\"Sid\":\"S1700\",\"Sid\":\"again\"",
        1,
    );
    // Read without the whole-text check first (as inside a snapshot), the
    // duplicate is still refused, at its statement.
    let error = Policy::parse_json("doc", &duplicate).unwrap_err();
    assert!(error.message.contains("duplicate key `Sid`"), "{error:?}");
    assert_eq!(error.path, "/Statement/1700");
}
