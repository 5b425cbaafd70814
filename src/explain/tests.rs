//! Table-driven tests over the message forms AWS documents, and snapshots of
//! the rendered explanation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::report::shell_word;

const USER: &str = "arn:aws:iam::222222222222:user/dilip";
const SESSION: &str = "arn:aws:sts::222222222222:assumed-role/etl/i-0abc123";
const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

struct Case {
    name: &'static str,
    /// Where the form is documented.
    source: &'static str,
    message: String,
    kind: MessageKind,
    principal: Option<&'static str>,
    action: Option<&'static str>,
    resource: Option<&'static str>,
    policy_type: Option<PolicyType>,
    deny: Option<DenyKind>,
    link: Option<LinkId>,
    first_suspect: Option<LinkId>,
    account: Option<&'static str>,
    command: Option<&'static str>,
}

impl Default for Case {
    fn default() -> Self {
        Self {
            name: "",
            source: "",
            message: String::new(),
            kind: MessageKind::NotAuthorized,
            principal: None,
            action: None,
            resource: None,
            policy_type: None,
            deny: None,
            link: None,
            first_suspect: None,
            account: None,
            command: None,
        }
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "identity-based implicit, S3 object, quoted resource",
            source: "IAM User Guide, Troubleshoot access denied error messages",
            message: format!("User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/reports/data.csv\" because no identity-based policy allows the s3:GetObject action"),
            principal: Some(USER),
            action: Some("s3:GetObject"),
            resource: Some("arn:aws:s3:::account-a-bucket/reports/data.csv"),
            policy_type: Some(PolicyType::IdentityBased),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::IdentityPolicy),
            account: Some("222222222222"),
            command: Some("kms-s3-doctor check --bucket account-a-bucket --object reports/data.csv --principal arn:aws:iam::222222222222:user/dilip --op get"),
            ..Case::default()
        },
        Case {
            name: "identity-based explicit, with policy ARN and authorization link",
            source: "IAM User Guide, Troubleshoot access denied error messages with authorization ID",
            message: "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/my-instance-profile with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e".to_string(),
            principal: Some("arn:aws:iam::123456789012:user/janedoe"),
            action: Some("iam:CreateInstanceProfile"),
            resource: Some("arn:aws:iam::123456789012:instance-profile/my-instance-profile"),
            policy_type: Some(PolicyType::IdentityBased),
            deny: Some(DenyKind::Explicit),
            link: Some(LinkId::IdentityPolicy),
            account: Some("123456789012"),
            ..Case::default()
        },
        Case {
            name: "resource-based explicit, S3 access point, CLI prefix",
            source: "IAM User Guide, Access denied error message examples (explicit deny in a resource-based policy)",
            message: format!("An error occurred (AccessDenied) when calling the ListObjectsV2 operation: User: {SESSION} is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:us-east-1:111111111111:accesspoint/my-ap\" with an explicit deny in a resource-based policy"),
            principal: Some(SESSION),
            action: Some("s3:ListBucket"),
            resource: Some("arn:aws:s3:us-east-1:111111111111:accesspoint/my-ap"),
            policy_type: Some(PolicyType::ResourceBased),
            deny: Some(DenyKind::Explicit),
            link: Some(LinkId::BucketPolicy),
            account: Some("111111111111"),
            command: Some("kms-s3-doctor check --bucket BUCKET --principal arn:aws:sts::222222222222:assumed-role/etl/i-0abc123 --op list --assume session-policy=none"),
            ..Case::default()
        },
        Case {
            name: "resource-based implicit, S3 bucket",
            source: "IAM User Guide, Access denied error message examples (implicit deny, resource-based policy)",
            message: format!("User: {USER} is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::account-a-bucket/in/x.csv\" because no resource-based policy allows the s3:PutObject action"),
            principal: Some(USER),
            action: Some("s3:PutObject"),
            resource: Some("arn:aws:s3:::account-a-bucket/in/x.csv"),
            policy_type: Some(PolicyType::ResourceBased),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::BucketPolicy),
            command: Some("kms-s3-doctor check --bucket account-a-bucket --object in/x.csv --principal arn:aws:iam::222222222222:user/dilip --op put"),
            ..Case::default()
        },
        Case {
            name: "KMS resource-based implicit",
            source: "KMS Developer Guide, Troubleshooting key access (AccessDeniedException)",
            message: format!("An error occurred (AccessDeniedException) when calling the Decrypt operation: User: {SESSION} is not authorized to perform: kms:Decrypt on resource: {KEY} because no resource-based policy allows the kms:Decrypt action"),
            principal: Some(SESSION),
            action: Some("kms:Decrypt"),
            resource: Some(KEY),
            policy_type: Some(PolicyType::ResourceBased),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::KeyPolicy),
            account: Some("111111111111"),
            command: Some("kms-s3-doctor check --bucket BUCKET --principal arn:aws:sts::222222222222:assumed-role/etl/i-0abc123 --op get --assume session-policy=none"),
            ..Case::default()
        },
        Case {
            name: "KMS older form without colons or policy type",
            source: "KMS AccessDeniedException, form before the 2021 policy-type messages",
            message: format!("AccessDeniedException: User: {USER} is not authorized to perform kms:Decrypt on resource {KEY}"),
            principal: Some(USER),
            action: Some("kms:Decrypt"),
            resource: Some(KEY),
            first_suspect: Some(LinkId::KeyPolicy),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "KMS GenerateDataKey in a JSON error body",
            source: "KMS API reference, GenerateDataKey errors (AccessDeniedException)",
            message: format!("{{\"__type\":\"AccessDeniedException\",\"message\":\"User: {USER} is not authorized to perform: kms:GenerateDataKey on resource: {KEY} because no identity-based policy allows the kms:GenerateDataKey action\"}}"),
            principal: Some(USER),
            action: Some("kms:GenerateDataKey"),
            resource: Some(KEY),
            policy_type: Some(PolicyType::IdentityBased),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::IdentityPolicy),
            account: Some("222222222222"),
            ..Case::default()
        },
        Case {
            name: "SCP explicit with policy ARN, wrapped over lines",
            source: "AWS Security Blog, Enhanced access denied error messages with policy ARNs",
            message: "User: arn:aws:iam::123456789012:user/Matt is not authorized\nto perform: iam:ListRoles on resource: arn:aws:iam::123456789012:role/*\nwith an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd".to_string(),
            principal: Some("arn:aws:iam::123456789012:user/Matt"),
            action: Some("iam:ListRoles"),
            resource: Some("arn:aws:iam::123456789012:role/*"),
            policy_type: Some(PolicyType::ServiceControlPolicy),
            deny: Some(DenyKind::Explicit),
            link: Some(LinkId::Scp),
            account: Some("123456789012"),
            ..Case::default()
        },
        Case {
            name: "SCP implicit",
            source: "IAM User Guide, Access denied error message examples (service control policy)",
            message: format!("User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no service control policy allows the s3:GetObject action"),
            principal: Some(USER),
            action: Some("s3:GetObject"),
            resource: Some("arn:aws:s3:::account-a-bucket/k"),
            policy_type: Some(PolicyType::ServiceControlPolicy),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::Scp),
            account: Some("222222222222"),
            ..Case::default()
        },
        Case {
            name: "RCP explicit on a key",
            source: "IAM User Guide, Access denied error message examples (resource control policy)",
            message: format!("User: {USER} is not authorized to perform: kms:Decrypt on resource: {KEY} with an explicit deny in a resource control policy"),
            principal: Some(USER),
            action: Some("kms:Decrypt"),
            resource: Some(KEY),
            policy_type: Some(PolicyType::ResourceControlPolicy),
            deny: Some(DenyKind::Explicit),
            link: Some(LinkId::Rcp),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "permissions boundary implicit",
            source: "IAM User Guide, Access denied error message examples (permissions boundary)",
            message: format!("User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no permissions boundary allows the s3:GetObject action"),
            principal: Some(USER),
            action: Some("s3:GetObject"),
            resource: Some("arn:aws:s3:::account-a-bucket/k"),
            policy_type: Some(PolicyType::PermissionsBoundary),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::PermissionsBoundary),
            account: Some("222222222222"),
            ..Case::default()
        },
        Case {
            name: "session policy implicit",
            source: "IAM User Guide, Access denied error message examples (session policy)",
            message: format!("User: {SESSION} is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no session policy allows the s3:PutObject action"),
            principal: Some(SESSION),
            action: Some("s3:PutObject"),
            resource: Some("arn:aws:s3:::account-a-bucket/k"),
            policy_type: Some(PolicyType::SessionPolicy),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::SessionPolicy),
            account: Some("222222222222"),
            // The session policy is blamed: the check needs it given.
            command: Some("kms-s3-doctor check --bucket account-a-bucket --object k --principal arn:aws:sts::222222222222:assumed-role/etl/i-0abc123 --op put --session-policy FILE"),
            ..Case::default()
        },
        Case {
            name: "VPC endpoint policy implicit",
            source: "IAM User Guide, Access denied error message examples (VPC endpoint policy)",
            message: format!("User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no VPC endpoint policy allows the s3:GetObject action"),
            principal: Some(USER),
            action: Some("s3:GetObject"),
            resource: Some("arn:aws:s3:::account-a-bucket/k"),
            policy_type: Some(PolicyType::VpcEndpointPolicy),
            deny: Some(DenyKind::Implicit),
            ..Case::default()
        },
        Case {
            name: "AssumeRole without a policy type",
            source: "STS AssumeRole AccessDenied",
            message: format!("An error occurred (AccessDenied) when calling the AssumeRole operation: User: {USER} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/reader"),
            principal: Some(USER),
            action: Some("sts:AssumeRole"),
            resource: Some("arn:aws:iam::111111111111:role/reader"),
            first_suspect: Some(LinkId::TrustPolicy),
            command: Some("kms-s3-doctor check --bucket BUCKET --principal arn:aws:iam::222222222222:user/dilip --via-role arn:aws:iam::111111111111:role/reader"),
            ..Case::default()
        },
        Case {
            name: "AssumeRole refused by the trust policy",
            source: "IAM User Guide, Access denied error message examples (resource-based policy)",
            message: format!("User: {USER} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/reader because no resource-based policy allows the sts:AssumeRole action"),
            principal: Some(USER),
            action: Some("sts:AssumeRole"),
            resource: Some("arn:aws:iam::111111111111:role/reader"),
            policy_type: Some(PolicyType::ResourceBased),
            deny: Some(DenyKind::Implicit),
            link: Some(LinkId::TrustPolicy),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "S3 bare Access Denied from the CLI",
            source: "S3 API reference, error responses (AccessDenied)",
            message: "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied".to_string(),
            kind: MessageKind::BareAccessDenied,
            first_suspect: Some(LinkId::BucketPolicy),
            command: Some("kms-s3-doctor check --bucket BUCKET --op get"),
            ..Case::default()
        },
        Case {
            name: "S3 bare Access Denied as XML",
            source: "S3 API reference, error responses (REST error body)",
            message: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>ABC</RequestId></Error>".to_string(),
            kind: MessageKind::BareAccessDenied,
            first_suspect: Some(LinkId::BucketPolicy),
            ..Case::default()
        },
        Case {
            name: "KMS ciphertext refers to an unusable key",
            source: "KMS API reference, Decrypt errors (AccessDeniedException / InvalidCiphertextException)",
            message: "An error occurred (AccessDeniedException) when calling the Decrypt operation: The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.".to_string(),
            kind: MessageKind::CiphertextKeyUnavailable,
            action: Some("kms:Decrypt"),
            first_suspect: Some(LinkId::KeyPolicy),
            ..Case::default()
        },
        Case {
            name: "KMS key disabled",
            source: "KMS API reference, DisabledException",
            message: format!("An error occurred (DisabledException) when calling the Decrypt operation: {KEY} is disabled."),
            kind: MessageKind::KeyDisabled,
            resource: Some(KEY),
            link: Some(LinkId::KeyState),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "KMS key pending deletion",
            source: "KMS API reference, KMSInvalidStateException",
            message: format!("An error occurred (KMSInvalidStateException) when calling the GenerateDataKey operation: {KEY} is pending deletion."),
            kind: MessageKind::KeyPendingDeletion,
            resource: Some(KEY),
            link: Some(LinkId::KeyState),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "KMS key not found",
            source: "KMS API reference, NotFoundException",
            message: format!("An error occurred (NotFoundException) when calling the GenerateDataKey operation: Key '{KEY}' does not exist"),
            kind: MessageKind::KeyNotFound,
            resource: Some(KEY),
            link: Some(LinkId::KeyState),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "KMS alias not found across accounts",
            source: "KMS API reference, NotFoundException",
            message: "An error occurred (NotFoundException) when calling the GenerateDataKey operation: Alias arn:aws:kms:eu-west-1:222222222222:alias/s3-key is not found.".to_string(),
            kind: MessageKind::AliasNotFound,
            resource: Some("arn:aws:kms:eu-west-1:222222222222:alias/s3-key"),
            link: Some(LinkId::BucketEncryption),
            account: Some("222222222222"),
            ..Case::default()
        },
        Case {
            name: "aws s3 cp: HEAD before the download, 403 without a body",
            source: "S3 API reference, HeadObject (HEAD errors carry no body; 403 for a missing object without s3:ListBucket)",
            message: "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden".to_string(),
            kind: MessageKind::HeadForbidden,
            first_suspect: Some(LinkId::BucketPolicy),
            command: Some("kms-s3-doctor check --bucket BUCKET --op head,get"),
            ..Case::default()
        },
        Case {
            name: "aws s3 cp: download failed on HEAD, bucket and key from the URL",
            source: "AWS CLI s3 transfer output",
            message: "download failed: s3://account-a-bucket/reports/data.csv to reports/data.csv An error occurred (403) when calling the HeadObject operation: Forbidden".to_string(),
            kind: MessageKind::HeadForbidden,
            first_suspect: Some(LinkId::BucketPolicy),
            command: Some("kms-s3-doctor check --bucket account-a-bucket --object reports/data.csv --op head,get"),
            ..Case::default()
        },
        Case {
            name: "aws s3 cp: download failed on GET with a key holding a space",
            source: "AWS CLI s3 transfer output, S3 error responses (AccessDenied)",
            message: "download failed: s3://account-a-bucket/q 3/data.csv to q 3/data.csv An error occurred (AccessDenied) when calling the GetObject operation: Access Denied".to_string(),
            kind: MessageKind::BareAccessDenied,
            first_suspect: Some(LinkId::BucketPolicy),
            command: Some("kms-s3-doctor check --bucket account-a-bucket --object 'q 3/data.csv' --op get"),
            ..Case::default()
        },
        Case {
            name: "aws s3 cp: upload failed, S3 relays KMS's not-found for aws/s3",
            source: "AWS CLI s3 transfer output; S3 relays KMS errors as KMS.<code>",
            message: "upload failed: ./config to s3://my-bucket/in/hi.txt An error occurred (KMS.NotFoundException) when calling the PutObject operation: Invalid keyId aws/s3".to_string(),
            kind: MessageKind::AliasNotFound,
            resource: Some("aws/s3"),
            link: Some(LinkId::BucketEncryption),
            command: Some("kms-s3-doctor check --bucket my-bucket --object in/hi.txt --op put"),
            ..Case::default()
        },
        Case {
            name: "S3 relays KMS.DisabledException on GetObject",
            source: "KMS API reference, DisabledException, relayed by S3",
            message: format!("An error occurred (KMS.DisabledException) when calling the GetObject operation: {KEY} is disabled."),
            kind: MessageKind::KeyDisabled,
            resource: Some(KEY),
            link: Some(LinkId::KeyState),
            account: Some("111111111111"),
            command: Some("kms-s3-doctor check --bucket BUCKET --op get"),
            ..Case::default()
        },
        Case {
            name: "S3 relays KMS.KMSInvalidStateException on PutObject",
            source: "KMS API reference, KMSInvalidStateException, relayed by S3",
            message: format!("An error occurred (KMS.KMSInvalidStateException) when calling the PutObject operation: {KEY} is pending deletion."),
            kind: MessageKind::KeyPendingDeletion,
            resource: Some(KEY),
            link: Some(LinkId::KeyState),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "S3 relays KMS.NotFoundException for a key ARN",
            source: "KMS API reference, NotFoundException, relayed by S3",
            message: format!("An error occurred (KMS.NotFoundException) when calling the PutObject operation: Key '{KEY}' does not exist"),
            kind: MessageKind::KeyNotFound,
            resource: Some(KEY),
            link: Some(LinkId::KeyState),
            account: Some("111111111111"),
            ..Case::default()
        },
        Case {
            name: "S3 GetObject: the ciphertext refers to an unusable key",
            source: "S3 relays KMS Decrypt's AccessDeniedException as AccessDenied",
            message: "An error occurred (AccessDenied) when calling the GetObject operation: The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.".to_string(),
            kind: MessageKind::CiphertextKeyUnavailable,
            action: Some("kms:Decrypt"),
            first_suspect: Some(LinkId::KeyPolicy),
            command: Some("kms-s3-doctor check --bucket BUCKET --op get"),
            ..Case::default()
        },
        Case {
            name: "a bare HeadBucket 403",
            source: "S3 API reference, HeadBucket (needs s3:ListBucket)",
            message: "An error occurred (403) when calling the HeadBucket operation: Forbidden".to_string(),
            kind: MessageKind::HeadForbidden,
            first_suspect: Some(LinkId::BucketPolicy),
            command: Some("kms-s3-doctor check --bucket BUCKET --op list"),
            ..Case::default()
        },
        Case {
            name: "not an AccessDenied message",
            source: "S3 NoSuchBucket",
            message: "An error occurred (NoSuchBucket) when calling the GetObject operation: The specified bucket does not exist".to_string(),
            kind: MessageKind::Unrecognised,
            ..Case::default()
        },
        Case {
            name: "free text",
            source: "-",
            message: "it does not work".to_string(),
            kind: MessageKind::Unrecognised,
            ..Case::default()
        },
    ]
}

#[test]
fn message_forms() {
    let mut failures = Vec::new();
    for case in cases() {
        let got = explain(&case.message);
        let mut check = |what: &str, ok: bool, detail: String| {
            if !ok {
                failures.push(format!("{} ({}): {what}: {detail}", case.name, case.source));
            }
        };
        check("kind", got.kind == case.kind, format!("{:?}", got.kind));
        check(
            "recognised",
            got.recognised == (case.kind != MessageKind::Unrecognised),
            format!("{}", got.recognised),
        );
        check(
            "principal",
            got.principal.as_deref() == case.principal,
            format!("{:?}", got.principal),
        );
        check(
            "action",
            got.action.as_deref() == case.action,
            format!("{:?}", got.action),
        );
        check(
            "resource",
            got.resource.as_deref() == case.resource,
            format!("{:?}", got.resource),
        );
        check(
            "policy type",
            got.policy_type == case.policy_type,
            format!("{:?}", got.policy_type),
        );
        check("deny", got.deny == case.deny, format!("{:?}", got.deny));
        check("link", got.link == case.link, format!("{:?}", got.link));
        check(
            "first suspect",
            case.first_suspect.is_none() || got.suspects.first() == case.first_suspect.as_ref(),
            format!("{:?}", got.suspects),
        );
        check(
            "account",
            got.account.as_deref() == case.account,
            format!("{:?}", got.account),
        );
        if let Some(command) = case.command {
            check(
                "command",
                got.command.as_deref() == Some(command),
                format!("{:?}", got.command),
            );
        }
        check(
            "next steps",
            !got.next_steps.is_empty(),
            "no next step".to_string(),
        );
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn policy_arn_is_extracted() {
    let got = explain(&cases()[7].message);
    assert_eq!(
        got.policy_arn.as_deref(),
        Some(
            "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd"
        )
    );
    assert!(got.owner.unwrap().contains("987654321098"));
    let got = explain(&cases()[1].message);
    assert_eq!(
        got.policy_arn.as_deref(),
        Some("arn:aws:iam::123456789012:policy/ExampleDenyPolicy")
    );
}

#[test]
fn api_operation_picks_multipart() {
    let got = explain(&format!(
        "An error occurred (AccessDenied) when calling the UploadPart operation: User: {USER} is not authorized to perform: kms:Decrypt on resource: {KEY} because no resource-based policy allows the kms:Decrypt action"
    ));
    assert_eq!(got.api_operation.as_deref(), Some("UploadPart"));
    assert!(got.command.unwrap().ends_with("--op multipart"));
}

#[test]
fn commands_quote_what_the_shell_would_expand() {
    let got = explain(&format!(
        "User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/with space's.csv\" because no identity-based policy allows the s3:GetObject action"
    ));
    // The resource stops at the first space; nothing the shell expands
    // reaches the command unquoted.
    assert!(got.command.is_some());
    for word in ["a b'c", "role/*", "$(touch x)", "k\"`x`"] {
        let quoted = shell_word(word);
        assert_ne!(quoted, word, "{word} needs quoting");
        assert_eq!(shlex::split(&quoted), Some(vec![word.to_string()]));
    }
    assert_eq!(shell_word("arn:aws:s3:::b/k"), "arn:aws:s3:::b/k");
}

fn rendered(message: &str) -> String {
    let mut out = Vec::new();
    crate::report::render_explanation_text(&explain(message), &mut out, false).unwrap();
    String::from_utf8(out).unwrap()
}

fn markdown(message: &str) -> String {
    let mut out = Vec::new();
    crate::report::render_explanation_markdown(&explain(message), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn render_key_policy() {
    insta::assert_snapshot!(rendered(&cases()[4].message));
}

#[test]
fn render_bare_access_denied() {
    insta::assert_snapshot!(rendered(&cases()[15].message));
}

#[test]
fn render_unrecognised() {
    insta::assert_snapshot!(rendered("it does not work"));
}

#[test]
fn render_without_color_has_no_escape_codes() {
    for case in cases() {
        assert!(!rendered(&case.message).contains('\x1b'), "{}", case.name);
    }
}

#[test]
fn json_form() {
    let value: serde_json::Value = serde_json::from_str(&crate::report::render_explanation_json(
        &explain(&cases()[4].message),
    ))
    .unwrap();
    assert_eq!(value["format"], crate::report::EXPLAIN_FORMAT);
    assert_eq!(value["link"], "key-policy");
    assert_eq!(value["policy_type"], "resource-based");
    assert_eq!(value["deny"], "implicit");
    assert_eq!(value["account"], "111111111111");
    assert_eq!(value["recognised"], true);
}

#[test]
fn a_session_becomes_its_role_where_a_policy_must_name_it() {
    let got = explain(&format!(
        "User: {SESSION} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::account-a-bucket/k\" because no resource-based policy allows the s3:GetObject action"
    ));
    assert_eq!(
        got.role.as_deref(),
        Some("arn:aws:iam::222222222222:role/etl")
    );
    // The policy must name the role, not the session.
    assert!(
        got.next_steps[0].contains("to role `arn:aws:iam::222222222222:role/etl`"),
        "{:?}",
        got.next_steps
    );
    assert!(
        !got.next_steps[0].contains("i-0abc123"),
        "{:?}",
        got.next_steps
    );
    assert!(
        got.next_steps
            .iter()
            .any(|step| step.contains("aws iam get-role --role-name etl")),
        "{:?}",
        got.next_steps
    );
    // The check keeps the session: the tool judges it as a session of its role.
    assert!(got.command.unwrap().contains(SESSION));
    // A user is no session.
    let got = explain(&cases()[0].message);
    assert_eq!(got.role, None);
}

#[test]
fn control_characters_in_a_message_never_reach_the_output() {
    let message = format!(
        "User: {USER}\x1b]0;pwned\x07 is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\x1b[2J\" because no identity-based policy allows the s3:GetObject action"
    );
    for output in [
        rendered(&message),
        markdown(&message),
        crate::report::render_explanation_json(&explain(&message)),
    ] {
        assert!(!output.contains('\x1b'), "{output}");
        assert!(!output.contains('\x07'), "{output}");
    }
}

#[test]
fn render_head_forbidden() {
    insta::assert_snapshot!(rendered(
        "download failed: s3://account-a-bucket/reports/data.csv to reports/data.csv An error occurred (403) when calling the HeadObject operation: Forbidden"
    ));
}

#[test]
fn markdown_key_policy() {
    insta::assert_snapshot!(markdown(&cases()[4].message));
}

#[test]
fn markdown_unrecognised() {
    insta::assert_snapshot!(markdown("it does not work"));
}

/// The wire type is frozen: these are its fields, every one always present.
#[test]
fn json_fields_are_frozen() {
    let value: serde_json::Value = serde_json::from_str(&crate::report::render_explanation_json(
        &explain(&cases()[4].message),
    ))
    .unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "format",
            "recognised",
            "kind",
            "error_code",
            "principal",
            "role",
            "action",
            "resource",
            "bucket",
            "object",
            "api_operation",
            "policy_type",
            "deny",
            "policy_arn",
            "link",
            "suspects",
            "summary",
            "account",
            "owner",
            "next_steps",
            "command",
            "request_id",
            "printed_by",
            "decoded"
        ]
    );
    // It reads back through its own type, and an unrecognised text keeps
    // every field (as null or empty).
    let back: crate::report::ExplanationV1 = serde_json::from_value(value).unwrap();
    assert_eq!(back.kind, "not-authorized");
    assert_eq!(back.error_code.as_deref(), Some("AccessDeniedException"));
    let unknown: serde_json::Value = serde_json::from_str(&crate::report::render_explanation_json(
        &explain("it does not work"),
    ))
    .unwrap();
    assert_eq!(unknown.as_object().unwrap().len(), 24);
    assert_eq!(unknown["link"], serde_json::Value::Null);
    assert_eq!(unknown["recognised"], false);
}

#[test]
fn messages_are_read_with_a_limit() {
    let mut input: &[u8] =
        b"\xef\xbb\xbfAn error occurred (403) when calling the HeadObject operation: Forbidden\n";
    let text = read_message(&mut input).unwrap();
    assert!(text.starts_with("An error occurred"));
    assert_eq!(explain(&text).kind, MessageKind::HeadForbidden);

    let long = vec![b'a'; (MAX_MESSAGE_BYTES + 1) as usize];
    assert!(matches!(
        read_message(&mut long.as_slice()),
        Err(MessageError::TooLong { .. })
    ));
    assert!(matches!(
        read_message(&mut &b"  \n"[..]),
        Err(MessageError::Empty)
    ));
    assert!(matches!(
        read_message(&mut &b"\xff\xfe"[..]),
        Err(MessageError::NotText)
    ));
}

/// A replication failure event as S3 sends it: the record of "Receiving
/// replication failure events with Amazon S3 Event Notifications" (event
/// version 2.2, `replicationEventData`), with the bucket and object of
/// "Event message structure" (the key URL-encoded).
fn replication_failure_event(reason: &str) -> String {
    serde_json::json!({
        "Records": [{
            "eventVersion": "2.2",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2024-09-05T21:04:32.527Z",
            "eventName": "Replication:OperationFailedReplication",
            "userIdentity": {"principalId": "s3.amazonaws.com"},
            "requestParameters": {"sourceIPAddress": "s3.amazonaws.com"},
            "responseElements": {
                "x-amz-request-id": "123bf045-2b4b-4ca8-a211-c34ccd0ccf8c",
                "x-amz-id-2": "12VAWNDIHnwJsRhTccqQTeAPoXQmRt22KkewMV8G2XZihAuf9CLDdmkApgZzudaIe2KlLfDqGS0="
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "ReplicationEventName",
                "bucket": {
                    "name": "source-bucket",
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": "arn:aws:s3:::source-bucket"
                },
                "object": {
                    "key": "reports/q3+summary.csv",
                    "size": 520080,
                    "eTag": "e12345ca7e88a38428305d3ff7fcb99f",
                    "versionId": "0I0tJBVwBnZR5cIx2uD9tNTRA6OuQ8lD",
                    "sequencer": "0066DA1D2EE4E5A1A2"
                }
            },
            "replicationEventData": {
                "replicationRuleId": "to-dr",
                "destinationBucket": "arn:aws:s3:::dr-bucket",
                "s3Operation": "OBJECT_PUT",
                "requestTime": "2024-09-05T21:03:59.168Z",
                "failureReason": reason
            }
        }]
    })
    .to_string()
}

/// S3 User Guide, "Amazon S3 replication failure reasons": each reason
/// points at the link of `check --op replicate` that judges what it names,
/// or, where AWS says a permission "may be missing", at the links that may
/// refuse it.
#[test]
fn replication_failure_reasons_point_at_their_links() {
    use LinkId::*;
    // (reason, link, first suspect, action)
    type Expected = (
        &'static str,
        Option<LinkId>,
        Option<LinkId>,
        Option<&'static str>,
    );
    let cases: [Expected; 15] = [
        // S3 cannot assume the role: its trust policy, judged with the
        // configuration that names the role.
        (
            "AssumeRoleNotPermitted",
            Some(ReplicationConfiguration),
            Some(ReplicationConfiguration),
            Some("sts:AssumeRole"),
        ),
        (
            "DstBucketNotFound",
            Some(ReplicationConfiguration),
            Some(ReplicationConfiguration),
            None,
        ),
        (
            "DstBucketUnversioned",
            Some(Versioning),
            Some(Versioning),
            None,
        ),
        (
            "DstKmsKeyInvalidState",
            Some(KeyState),
            Some(KeyState),
            Some("kms:Encrypt"),
        ),
        (
            "DstKmsKeyNotFound",
            Some(KeyState),
            Some(KeyState),
            Some("kms:Encrypt"),
        ),
        // "The s3:ReplicateObject permission may be missing for the
        // destination bucket": the destination's bucket policy or the
        // role's identity policy.
        (
            "DstPutObjectNotPermitted",
            None,
            Some(BucketPolicy),
            Some("s3:ReplicateObject"),
        ),
        (
            "DstMultipartCompleteNotPermitted",
            None,
            Some(BucketPolicy),
            Some("s3:ReplicateObject"),
        ),
        (
            "DstMultipartInitNotPermitted",
            None,
            Some(BucketPolicy),
            Some("s3:ReplicateObject"),
        ),
        (
            "DstPutTaggingNotPermitted",
            None,
            Some(BucketPolicy),
            Some("s3:ReplicateObject"),
        ),
        (
            "SrcGetObjectNotPermitted",
            None,
            Some(IdentityPolicy),
            Some("s3:GetObjectVersionForReplication"),
        ),
        (
            "SrcHeadObjectNotPermitted",
            None,
            Some(IdentityPolicy),
            Some("s3:GetObjectVersionForReplication"),
        ),
        (
            "SrcGetAclNotPermitted",
            None,
            Some(IdentityPolicy),
            Some("s3:GetObjectVersionAcl"),
        ),
        (
            "SrcKmsKeyInvalidState",
            Some(KeyState),
            Some(KeyState),
            Some("kms:Decrypt"),
        ),
        (
            "SrcBucketReplicationConfigMissing",
            Some(ReplicationConfiguration),
            Some(ReplicationConfiguration),
            None,
        ),
        // Object Lock is not read: no link can say it.
        ("DstBucketObjectLockConfigMissing", None, None, None),
    ];
    let mut failures = Vec::new();
    for (reason, link, first_suspect, action) in cases {
        let got = explain(&replication_failure_event(reason));
        let wrong = got.kind != MessageKind::ReplicationFailureEvent
            || got.error_code.as_deref() != Some(reason)
            || got.link != link
            || got.suspects.first() != first_suspect.as_ref()
            || got.action.as_deref() != action
            || got.next_steps.is_empty();
        if wrong {
            failures.push(format!(
                "{reason}: {:?} {:?} link {:?} suspects {:?} action {:?}",
                got.kind, got.error_code, got.link, got.suspects, got.action
            ));
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn a_replication_failure_event_fills_the_check_with_the_source_object() {
    let got = explain(&replication_failure_event("DstPutObjectNotPermitted"));
    assert_eq!(got.kind.as_str(), "replication-failure-event");
    assert_eq!(got.bucket.as_deref(), Some("source-bucket"));
    // "Event message structure": the key is URL-encoded, `+` for a space.
    assert_eq!(got.object.as_deref(), Some("reports/q3 summary.csv"));
    // The write was refused on the destination.
    assert_eq!(got.resource.as_deref(), Some("arn:aws:s3:::dr-bucket"));
    assert!(got.summary.contains("`to-dr`"), "{}", got.summary);
    assert!(
        got.next_steps
            .iter()
            .any(|step| step.contains("arn:aws:s3:::dr-bucket/*")),
        "{:?}",
        got.next_steps
    );
    assert_eq!(
        got.command.as_deref(),
        Some(
            "kms-s3-doctor check --bucket source-bucket --object 'reports/q3 summary.csv' --principal ROLE_ARN --op replicate"
        )
    );
    // A source-side reason is about the source object.
    let got = explain(&replication_failure_event("SrcGetObjectNotPermitted"));
    assert_eq!(
        got.resource.as_deref(),
        Some("arn:aws:s3:::source-bucket/reports/q3 summary.csv")
    );
}

#[test]
fn replication_failure_events_are_read_in_every_envelope() {
    let event = replication_failure_event("DstBucketUnversioned");
    let record = serde_json::from_str::<serde_json::Value>(&event).unwrap()["Records"][0].clone();
    // Amazon SNS delivers the S3 event as a JSON string in `Message`, Amazon
    // SQS in `body`; a Lambda function may log the record alone, pretty
    // printed, or as a Python dict.
    let sns = serde_json::json!({"Type": "Notification", "Message": event}).to_string();
    let sqs = serde_json::json!({"Records": [{"messageId": "m", "body": event}]}).to_string();
    let pretty = serde_json::to_string_pretty(&record).unwrap();
    let python = "{'eventVersion': '2.2', 'eventName': 'Replication:OperationFailedReplication', 's3': {'s3SchemaVersion': '1.0', 'bucket': {'name': 'source-bucket', 'arn': 'arn:aws:s3:::source-bucket'}, 'object': {'key': 'reports/q3+summary.csv', 'size': 520080}}, 'replicationEventData': {'replicationRuleId': 'to-dr', 'destinationBucket': 'arn:aws:s3:::dr-bucket', 'failureReason': 'DstBucketUnversioned'}}".to_string();
    let logged = format!("2024-09-05T21:04:33Z INFO received {}", record);
    for text in [sns, sqs, pretty, python, logged] {
        let got = explain(&text);
        assert_eq!(got.kind, MessageKind::ReplicationFailureEvent, "{text}");
        assert_eq!(got.link, Some(LinkId::Versioning), "{text}");
        assert_eq!(got.bucket.as_deref(), Some("source-bucket"), "{text}");
        assert_eq!(
            got.object.as_deref(),
            Some("reports/q3 summary.csv"),
            "{text}"
        );
        assert!(
            got.next_steps[0].contains("--bucket dr-bucket "),
            "{:?}",
            got.next_steps
        );
    }
}

#[test]
fn an_unknown_or_missing_failure_reason_suspects_every_replication_link() {
    for text in [
        replication_failure_event("SomethingNew"),
        replication_failure_event("").replace(",\"failureReason\":\"\"", ""),
    ] {
        let got = explain(&text);
        assert!(got.recognised);
        assert_eq!(got.kind, MessageKind::ReplicationFailureEvent);
        assert_eq!(got.link, None);
        assert_eq!(
            got.suspects.first(),
            Some(&LinkId::ReplicationConfiguration)
        );
    }
    // A reason of S3 Batch Replication only is said to be one.
    let got = explain(&replication_failure_event("DstObjectHardDeleted"));
    assert_eq!(got.link, None);
    assert!(got.summary.contains("Batch Replication"), "{}", got.summary);
}

/// S3 User Guide, "Getting replication status information": a source
/// object's status is `PENDING`, `COMPLETED` or `FAILED`; only `FAILED` is
/// a failure, and it does not say why.
#[test]
fn a_failed_replication_status_is_recognised_in_the_cli_and_the_header() {
    let head_object = r#"$ aws s3api head-object --bucket source-bucket --key "reports/q3 summary.csv"
{
    "AcceptRanges": "bytes",
    "LastModified": "2024-09-05T21:03:59+00:00",
    "ContentLength": 520080,
    "ETag": "\"e12345ca7e88a38428305d3ff7fcb99f\"",
    "VersionId": "0I0tJBVwBnZR5cIx2uD9tNTRA6OuQ8lD",
    "ContentType": "text/csv",
    "ServerSideEncryption": "aws:kms",
    "Metadata": {},
    "SSEKMSKeyId": "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "BucketKeyEnabled": true,
    "ReplicationStatus": "FAILED"
}"#;
    let got = explain(head_object);
    assert_eq!(got.kind, MessageKind::ReplicationFailed);
    assert_eq!(got.kind.as_str(), "replication-failed");
    assert_eq!(got.link, None);
    assert_eq!(
        got.suspects.first(),
        Some(&LinkId::ReplicationConfiguration)
    );
    assert!(
        got.next_steps
            .iter()
            .any(|step| step.contains("1234abcd-12ab-34cd-56ef-1234567890ab")),
        "{:?}",
        got.next_steps
    );
    assert_eq!(
        got.command.as_deref(),
        Some(
            "kms-s3-doctor check --bucket source-bucket --object 'reports/q3 summary.csv' --principal ROLE_ARN --op replicate"
        )
    );

    let got = explain(
        "HTTP/1.1 200 OK\nx-amz-replication-status: FAILED\nx-amz-server-side-encryption: aws:kms",
    );
    assert_eq!(got.kind, MessageKind::ReplicationFailed);
    assert_eq!(
        got.command.as_deref(),
        Some("kms-s3-doctor check --bucket BUCKET --principal ROLE_ARN --op replicate")
    );
    assert!(
        got.next_steps
            .iter()
            .any(|step| step.contains("with the source bucket")),
        "{:?}",
        got.next_steps
    );

    for not_failed in [
        r#"{"ContentLength": 3, "ReplicationStatus": "COMPLETED"}"#,
        r#"{"ContentLength": 3, "ReplicationStatus": "PENDING"}"#,
        "x-amz-replication-status: REPLICA",
    ] {
        assert_eq!(
            explain(not_failed).kind,
            MessageKind::Unrecognised,
            "{not_failed}"
        );
    }
}

#[test]
fn render_replication_failure_event() {
    insta::assert_snapshot!(rendered(&replication_failure_event("DstKmsKeyNotFound")));
}
