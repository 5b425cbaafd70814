#![allow(clippy::unwrap_used)]

use super::*;

const ACCOUNT: &str = "222222222222";

fn parse(text: &str) -> Result<Vec<PrincipalInfo>, GaadError> {
    parse_file("gaad.json", text, ACCOUNT)
}

fn one(text: &str) -> PrincipalInfo {
    let mut principals = parse(text).unwrap();
    assert_eq!(principals.len(), 1);
    principals.remove(0)
}

const GET_ANYTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn policy_names(info: &PrincipalInfo) -> Vec<(String, Option<PolicyKind>)> {
    info.policies
        .known()
        .unwrap()
        .iter()
        .map(|policy| (policy.name.clone(), policy.kind))
        .collect()
}

#[test]
fn only_the_default_version_of_a_managed_policy_is_read() {
    // IAM User Guide, "Versioning for managed policies": only the default version
    // of a managed policy is in effect.
    let text = r#"{
        "UserDetailList": [{"Arn": "arn:aws:iam::222222222222:user/u", "UserId": "AIDAU",
            "AttachedManagedPolicies": [{"PolicyName": "P", "PolicyArn": "arn:aws:iam::222222222222:policy/P"}]}],
        "Policies": [{"Arn": "arn:aws:iam::222222222222:policy/P", "DefaultVersionId": "v2",
            "PolicyVersionList": [
                {"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}},
                {"VersionId": "v2", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [{"Sid": "Two", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}
            ]}]
    }"#;
    let info = one(text);
    let policies = info.policies.known().unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].kind, Some(PolicyKind::Managed));
    assert!(policies[0].document.raw().contains("\"Two\""));
    assert!(!policies[0].document.raw().contains("Deny"));
    assert_eq!(info.id.as_deref(), Some("AIDAU"));
    assert_eq!(info.trust_policy, Field::None);
    assert_eq!(info.session_policies, Field::None);
    assert_eq!(info.permissions_boundary, Field::None);
    assert_eq!(info.tags, Field::Some(BTreeMap::new()));
}

#[test]
fn url_encoded_and_plain_documents_parse_alike() {
    let encoded: String = GET_ANYTHING
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    let with = |document: String| {
        format!(
            r#"{{"UserDetailList": [{{"Arn": "arn:aws:iam::222222222222:user/u", "UserPolicyList": [{{"PolicyName": "p", "PolicyDocument": {document}}}]}}]}}"#
        )
    };
    let plain = one(&with(GET_ANYTHING.to_string()));
    let url = one(&with(format!("\"{encoded}\"")));
    let statements =
        |info: &PrincipalInfo| info.policies.known().unwrap()[0].document.policy.to_value();
    assert_eq!(statements(&plain), statements(&url));
    assert_eq!(
        policy_names(&url),
        vec![("p".to_string(), Some(PolicyKind::Inline))]
    );
}

#[test]
fn a_managed_policy_the_file_does_not_hold_makes_the_policies_unknown() {
    // Without AWSManagedPolicy in --filter, AWS managed policies are not
    // listed (IAM API Reference, "GetAccountAuthorizationDetails", Filter).
    let text = r#"{
        "UserDetailList": [{"Arn": "arn:aws:iam::222222222222:user/u",
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}],
            "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]}],
        "Policies": []
    }"#;
    let info = one(text);
    assert!(info.policies.is_unknown());
    let why = info.policies_error.unwrap();
    assert!(
        why.contains("arn:aws:iam::aws:policy/ReadOnlyAccess"),
        "{why}"
    );
    assert!(why.contains("AWSManagedPolicy"), "{why}");
    // No Policies list at all: the same.
    let text = r#"{"RoleDetailList": [{"Arn": "arn:aws:iam::222222222222:role/r",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
        "PermissionsBoundary": {"PermissionsBoundaryArn": "arn:aws:iam::222222222222:policy/B"}}]}"#;
    let info = one(text);
    assert!(info.permissions_boundary.is_unknown());
    assert!(info.permissions_boundary_error.is_some());
    assert_eq!(info.policies, Field::Some(Vec::new()));
    assert_eq!(
        info.session_policies,
        Field::None,
        "roles carry no session policies"
    );
    assert!(info.trust_policy.known().is_some());
}

#[test]
fn group_members_get_their_groups_policies() {
    let text = r#"{
        "UserDetailList": [
            {"Arn": "arn:aws:iam::222222222222:user/in", "GroupList": ["g"],
             "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}]},
            {"Arn": "arn:aws:iam::222222222222:user/lost", "GroupList": ["gone"]}
        ],
        "GroupDetailList": [{"GroupName": "g", "Arn": "arn:aws:iam::222222222222:group/g",
            "GroupPolicyList": [{"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}],
            "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::222222222222:policy/M"}]}],
        "Policies": [{"Arn": "arn:aws:iam::222222222222:policy/M", "DefaultVersionId": "v1",
            "PolicyVersionList": [{"VersionId": "v1", "Document": {"Version": "2012-10-17", "Statement": []}}]}]
    }"#;
    let principals = parse(text).unwrap();
    assert_eq!(
        policy_names(&principals[0]),
        vec![
            ("own".to_string(), Some(PolicyKind::Inline)),
            ("g/own".to_string(), Some(PolicyKind::GroupInline)),
            (
                "arn:aws:iam::222222222222:policy/M".to_string(),
                Some(PolicyKind::GroupManaged)
            ),
        ],
        "the default version is found by DefaultVersionId when no version is marked"
    );
    assert!(principals[1].policies.is_unknown());
    assert!(
        principals[1]
            .policies_error
            .as_deref()
            .unwrap()
            .contains("`gone`")
    );
}

#[test]
fn bad_input_is_refused_with_its_place() {
    let error = parse("{\"Users\": []}").unwrap_err().to_string();
    assert!(
        error.starts_with("gaad `gaad.json`: not the output of get-account-authorization-details"),
        "{error}"
    );
    let error = parse("[1, 2]").unwrap_err().to_string();
    assert!(error.contains("not the output of"), "{error}");
    let error = parse("{\"UserDetailList\": [}").unwrap_err();
    assert_eq!(error.line, Some(1), "{error}");

    let other =
        "{\n  \"UserDetailList\": [\n    {\"Arn\": \"arn:aws:iam::333333333333:user/u\"}\n  ]\n}";
    let error = parse(other).unwrap_err();
    assert_eq!(error.pointer, "/UserDetailList/0/Arn");
    assert_eq!(error.line, Some(3));
    assert!(error.message.contains("333333333333"), "{error}");

    let bad = "{\n  \"UserDetailList\": [{\"Arn\": \"arn:aws:iam::222222222222:user/u\",\n    \"UserPolicyList\": [{\"PolicyName\": \"p\", \"PolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Perhaps\", \"Action\": \"*\", \"Resource\": \"*\"}]}}]}]\n}";
    let error = parse(bad).unwrap_err();
    assert!(
        error
            .pointer
            .starts_with("/UserDetailList/0/UserPolicyList/0/PolicyDocument"),
        "{error}"
    );
    assert_eq!(error.line, Some(3), "{error}");

    let truncated = r#"{"UserDetailList": [], "IsTruncated": true, "Marker": "m"}"#;
    let error = parse(truncated).unwrap_err().to_string();
    assert!(error.contains("one page of several"), "{error}");

    let twice = r#"{"UserDetailList": [{"Arn": "arn:aws:iam::222222222222:user/u"}, {"Arn": "arn:aws:iam::222222222222:user/u"}]}"#;
    let error = parse(twice).unwrap_err().to_string();
    assert!(error.contains("twice"), "{error}");
}

#[test]
fn laying_over_replaces_only_that_accounts_principals() {
    let mut snapshot = Snapshot::new(None);
    for arn in [
        "arn:aws:iam::222222222222:user/old",
        "arn:aws:iam::222222222222:root",
        "arn:aws:iam::111111111111:user/kept",
    ] {
        snapshot.principals.push(PrincipalInfo::unread(arn));
    }
    lay_over(
        &mut snapshot,
        ACCOUNT,
        vec![PrincipalInfo::unread("arn:aws:iam::222222222222:user/new")],
    );
    let arns: Vec<&str> = snapshot
        .principals
        .iter()
        .map(|principal| principal.arn.as_str())
        .collect();
    assert_eq!(
        arns,
        vec![
            "arn:aws:iam::222222222222:root",
            "arn:aws:iam::111111111111:user/kept",
            "arn:aws:iam::222222222222:user/new"
        ]
    );
}

#[test]
fn a_policy_that_disagrees_about_its_default_version_is_unknown() {
    let text = r#"{
        "UserDetailList": [{"Arn": "arn:aws:iam::222222222222:user/u",
            "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::222222222222:policy/P"}]}],
        "Policies": [{"Arn": "arn:aws:iam::222222222222:policy/P", "DefaultVersionId": "v1",
            "PolicyVersionList": [
                {"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Version": "2012-10-17", "Statement": []}},
                {"VersionId": "v2", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": []}}
            ]}]
    }"#;
    let info = one(text);
    assert!(info.policies.is_unknown());
    assert!(
        info.policies_error
            .as_deref()
            .unwrap()
            .contains("DefaultVersionId")
    );
}
