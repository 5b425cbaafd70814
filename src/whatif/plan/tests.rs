use serde_json::{Value, json};

use super::*;
use crate::snapshot::{Field, PolicyKind};
use crate::whatif::overlay::{self, Target};

const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";
const ROLE: &str = "arn:aws:iam::111111111111:role/ops/partner";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The walkthrough, plus a role with a managed policy and SCPs on both
/// accounts, so every resource type has something to change.
fn base() -> Snapshot {
    let mut value: Value = serde_json::from_str(&fixture("walkthrough.json")).unwrap();
    let allow_all = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    value["principals"].as_array_mut().unwrap().push(json!({
        "arn": ROLE,
        "policies": [{"name": "arn:aws:iam::111111111111:policy/reader", "kind": "managed", "document": allow_all}],
        "permissions_boundary": null,
        "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "sts:AssumeRole"}]}
    }));
    value["accounts"]["111111111111"]["scps"] = json!([[{"name": "FullAWSAccess", "document": allow_all}], [{"name": "FullAWSAccess", "document": allow_all}]]);
    Snapshot::parse("base.json", &value.to_string()).unwrap()
}

fn text(value: Value) -> Value {
    Value::String(value.to_string())
}

fn policy(statement: Value) -> Value {
    text(json!({"Version": "2012-10-17", "Statement": [statement]}))
}

fn change(address: &str, actions: &[&str], before: Value, after: Value, unknown: Value) -> Value {
    let (data, rest) = match address.strip_prefix("data.") {
        Some(rest) => (true, rest),
        None => (false, address),
    };
    let kind = rest.split('.').next().unwrap();
    json!({
        "address": address, "mode": if data { "data" } else { "managed" }, "type": kind,
        "name": rest.split('.').nth(1).unwrap(),
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}
    })
}

fn plan_of(changes: Vec<Value>, configuration: Value) -> String {
    json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": configuration}}
    })
    .to_string()
}

fn read_over(base: &Snapshot, changes: Vec<Value>, configuration: Value) -> (Snapshot, Overlay) {
    let overlay = read("plan.json", &plan_of(changes, configuration), base).unwrap();
    let mut laid = base.clone();
    overlay::lay_all(&mut laid, std::slice::from_ref(&overlay));
    (laid, overlay)
}

fn has_source(overlay: &Overlay, target: Target, address: &str, unknown: bool) -> bool {
    overlay.sources.iter().any(|s| {
        s.target == target
            && s.address.as_deref() == Some(address)
            && s.until_apply.is_some() == unknown
    })
}

fn statement_sids(field: &Field<crate::snapshot::PolicyDoc>) -> Vec<String> {
    let doc = field.known().expect("a known document");
    let raw = doc.raw_value();
    raw.as_str()
        .map(|t| serde_json::from_str::<Value>(t).unwrap())
        .unwrap_or(raw)["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn refuses_what_is_not_a_plan() {
    let base = base();
    for bad in [
        "{",
        "{}",
        r#"{"format_version": "2.0", "resource_changes": []}"#,
        r#"{"format_version": "1.0", "values": {}}"#,
    ] {
        let error = read("p.json", bad, &base).unwrap_err().to_string();
        assert!(error.starts_with("plan `p.json`: "), "{error}");
    }
    let bad_policy = change(
        "aws_s3_bucket_policy.b",
        &["update"],
        Value::Null,
        json!({"bucket": "account-a-bucket", "policy": policy(json!({"Effect": "Perhaps", "Action": "s3:*", "Resource": "*"}))}),
        json!({}),
    );
    let error = read("p.json", &plan_of(vec![bad_policy], json!([])), &base)
        .unwrap_err()
        .to_string();
    assert!(error.contains("`aws_s3_bucket_policy.b`"), "{error}");
}

#[test]
fn bucket_policy_created_resolved_and_deleted() {
    let base = base();
    // `bucket` unknown in the plan, but it references the bucket resource,
    // whose name is known: resolved from the plan.
    let bucket = change(
        "aws_s3_bucket.a",
        &["no-op"],
        json!({"bucket": "account-a-bucket"}),
        json!({"bucket": "account-a-bucket"}),
        json!({}),
    );
    let new_policy = change(
        "aws_s3_bucket_policy.a",
        &["update"],
        Value::Null,
        json!({"policy": policy(json!({"Sid": "New", "Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::account-a-bucket/*"}))}),
        json!({"bucket": true}),
    );
    let configuration = json!([{"address": "aws_s3_bucket_policy.a", "expressions": {"bucket": {"references": ["aws_s3_bucket.a.id", "aws_s3_bucket.a"]}}}]);
    let (laid, overlay) = read_over(&base, vec![bucket, new_policy], configuration);
    assert_eq!(statement_sids(&laid.buckets[0].policy), vec!["New"]);
    assert!(has_source(
        &overlay,
        Target::BucketPolicy("account-a-bucket".into()),
        "aws_s3_bucket_policy.a",
        false
    ));

    let deleted = change(
        "aws_s3_bucket_policy.a",
        &["delete"],
        json!({"bucket": "account-a-bucket", "policy": "{}"}),
        Value::Null,
        json!({}),
    );
    let (laid, _) = read_over(&base, vec![deleted], json!([]));
    assert_eq!(laid.buckets[0].policy, Field::None);
}

#[test]
fn encryption_and_ownership() {
    let base = base();
    let sse = change(
        "aws_s3_bucket_server_side_encryption_configuration.a",
        &["update"],
        Value::Null,
        json!({"bucket": "account-a-bucket", "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": "alias/s3-account-a-bucket"}], "bucket_key_enabled": false}]}),
        json!({}),
    );
    let ownership = change(
        "aws_s3_bucket_ownership_controls.a",
        &["update"],
        Value::Null,
        json!({"bucket": "account-a-bucket", "rule": [{"object_ownership": "ObjectWriter"}]}),
        json!({}),
    );
    let (laid, overlay) = read_over(&base, vec![sse, ownership], json!([]));
    let encryption = laid.buckets[0].encryption.known().unwrap();
    assert_eq!(encryption.key.as_deref(), Some("alias/s3-account-a-bucket"));
    assert_eq!(encryption.bucket_key, Some(false));
    assert_eq!(
        laid.buckets[0].ownership,
        Field::Some("ObjectWriter".into())
    );
    assert!(has_source(
        &overlay,
        Target::Ownership("account-a-bucket".into()),
        "aws_s3_bucket_ownership_controls.a",
        false
    ));

    // Deleting the configuration leaves S3's default, SSE-S3.
    let deleted = change(
        "aws_s3_bucket_server_side_encryption_configuration.a",
        &["delete"],
        json!({"bucket": "account-a-bucket"}),
        Value::Null,
        json!({}),
    );
    let (laid, _) = read_over(&base, vec![deleted], json!([]));
    assert_eq!(
        laid.buckets[0].encryption.known().unwrap().algorithm,
        "AES256"
    );
}

#[test]
fn a_new_key_leaves_the_bucket_encryption_unknown_naming_it() {
    let base = base();
    let text = fixture("plans/walkthrough-new-key.json");
    let overlay = read("new-key.json", &text, &base).unwrap();
    let mut laid = base.clone();
    overlay::lay_all(&mut laid, std::slice::from_ref(&overlay));
    assert!(laid.buckets[0].encryption.is_unknown());
    let error = laid.buckets[0].encryption_error.clone().unwrap();
    assert!(error.contains("`aws_kms_key.reports_v2`"), "{error}");
    let source = overlay
        .sources
        .iter()
        .find(|s| s.target == Target::BucketEncryption("account-a-bucket".into()))
        .unwrap();
    assert_eq!(
        source.until_apply.as_deref(),
        Some("aws_kms_key.reports_v2")
    );
    assert!(
        overlay
            .notes
            .iter()
            .any(|n| n.contains("`aws_kms_key.reports_v2`"))
    );
}

#[test]
fn key_policy_state_and_deletion() {
    let base = base();
    let text = fixture("plans/walkthrough-remove-account-b.json");
    let overlay = read("remove.json", &text, &base).unwrap();
    let mut laid = base.clone();
    overlay::lay_all(&mut laid, std::slice::from_ref(&overlay));
    assert_eq!(
        statement_sids(&laid.keys[0].policy),
        vec!["Enable IAM User Permissions"]
    );
    assert!(has_source(
        &overlay,
        Target::KeyPolicy(KEY.into()),
        "aws_kms_key.reports",
        false
    ));
    // Grants and aliases were not touched.
    assert_eq!(laid.keys[0].grants, base.keys[0].grants);
    assert_eq!(laid.keys[0].aliases, base.keys[0].aliases);

    let disabled = change(
        "aws_kms_key.reports",
        &["update"],
        Value::Null,
        json!({"arn": KEY, "key_id": KEY_ID, "is_enabled": false, "policy": policy(json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}))}),
        json!({}),
    );
    let (laid, _) = read_over(&base, vec![disabled], json!([]));
    assert_eq!(laid.keys[0].state, Field::Some("Disabled".into()));

    let deleted = change(
        "aws_kms_key.reports",
        &["delete"],
        json!({"arn": KEY, "key_id": KEY_ID, "is_enabled": true}),
        Value::Null,
        json!({}),
    );
    let (laid, _) = read_over(&base, vec![deleted], json!([]));
    assert_eq!(laid.keys[0].state, Field::Some("PendingDeletion".into()));
}

#[test]
fn key_policy_resource_alias_and_grant() {
    let base = base();
    let key_policy = change(
        "aws_kms_key_policy.reports",
        &["update"],
        Value::Null,
        json!({"key_id": KEY_ID, "policy": policy(json!({"Sid": "Only", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}))}),
        json!({}),
    );
    let alias = change(
        "aws_kms_alias.reports",
        &["create"],
        Value::Null,
        json!({"name": "alias/reports", "target_key_id": KEY}),
        json!({"arn": true}),
    );
    let grant = change(
        "aws_kms_grant.dilip",
        &["create"],
        Value::Null,
        json!({"key_id": KEY_ID, "grantee_principal": DILIP, "operations": ["Decrypt", "GenerateDataKey"], "name": "dilip",
               "constraints": [{"encryption_context_equals": {"aws:s3:arn": "arn:aws:s3:::account-a-bucket"}, "encryption_context_subset": null}]}),
        json!({"grant_id": true, "grant_token": true}),
    );
    let (laid, overlay) = read_over(&base, vec![key_policy, alias, grant], json!([]));
    assert_eq!(statement_sids(&laid.keys[0].policy), vec!["Only"]);
    assert_eq!(
        laid.keys[0].aliases,
        vec![
            "alias/s3-account-a-bucket".to_string(),
            "alias/reports".to_string()
        ]
    );
    let grants = laid.keys[0].grants.known().unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].operations, vec!["Decrypt", "GenerateDataKey"]);
    assert!(
        grants[0]
            .constraints
            .as_ref()
            .unwrap()
            .encryption_context_equals
            .is_some()
    );
    assert!(has_source(
        &overlay,
        Target::KeyGrants(KEY.into()),
        "aws_kms_grant.dilip",
        false
    ));
    assert!(has_source(
        &overlay,
        Target::KeyAliases(KEY.into()),
        "aws_kms_alias.reports",
        false
    ));

    // The alias deleted: it leaves the key.
    let gone = change(
        "aws_kms_alias.old",
        &["delete"],
        json!({"name": "alias/s3-account-a-bucket", "target_key_id": KEY}),
        Value::Null,
        json!({}),
    );
    let (laid, _) = read_over(&base, vec![gone], json!([]));
    assert!(laid.keys[0].aliases.is_empty());
}

#[test]
fn inline_policies_of_users_roles_and_groups() {
    let base = base();
    // A jsonencode(...) document is a JSON string in the plan.
    let user_policy = change(
        "aws_iam_user_policy.dilip",
        &["update"],
        Value::Null,
        json!({"user": "dilip", "name": "access-s3-account-a-bucket", "policy": policy(json!({"Sid": "Narrower", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::account-a-bucket"}))}),
        json!({}),
    );
    let role_policy = change(
        "aws_iam_role_policy.partner",
        &["create"],
        Value::Null,
        json!({"role": "partner", "name": "extra", "policy": policy(json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}))}),
        json!({"id": true}),
    );
    let group_policy = change(
        "aws_iam_group_policy.data",
        &["create"],
        Value::Null,
        json!({"group": "data", "name": "team", "policy": policy(json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))}),
        json!({"id": true}),
    );
    let (laid, overlay) = read_over(
        &base,
        vec![user_policy, role_policy, group_policy.clone()],
        json!([]),
    );
    let dilip = laid.principals.iter().find(|p| p.arn == DILIP).unwrap();
    // Group membership is not in the plan: dilip's policies are unknown.
    assert!(dilip.policies.is_unknown());
    assert!(
        dilip
            .policies_error
            .as_deref()
            .unwrap()
            .contains("group `data`")
    );
    let role = laid.principals.iter().find(|p| p.arn == ROLE).unwrap();
    let names: Vec<&str> = role
        .policies
        .known()
        .unwrap()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        vec!["arn:aws:iam::111111111111:policy/reader", "extra"]
    );
    assert!(has_source(
        &overlay,
        Target::Policies(ROLE.into()),
        "aws_iam_role_policy.partner",
        false
    ));

    // With the membership in the plan, the group's policy lands on dilip.
    let membership = change(
        "aws_iam_group_membership.data",
        &["create"],
        Value::Null,
        json!({"group": "data", "users": ["dilip"], "name": "data"}),
        json!({}),
    );
    let (laid, _) = read_over(&base, vec![group_policy, membership], json!([]));
    let dilip = laid.principals.iter().find(|p| p.arn == DILIP).unwrap();
    let policies = dilip.policies.known().unwrap();
    assert!(
        policies
            .iter()
            .any(|p| p.name == "data/team" && p.kind == Some(PolicyKind::GroupInline))
    );
    // ann is in the snapshot and not in the exclusive member list.
    let ann = laid
        .principals
        .iter()
        .find(|p| p.arn.ends_with("user/ann"))
        .unwrap();
    assert_eq!(ann.policies.known().unwrap().len(), 1);
}

#[test]
fn managed_policies_and_attachments() {
    let base = base();
    let created = change(
        "aws_iam_policy.kms",
        &["create"],
        Value::Null,
        json!({"name": "kms", "path": "/", "policy": policy(json!({"Sid": "Kms", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}))}),
        json!({"arn": true, "id": true, "policy_id": true}),
    );
    let attach = change(
        "aws_iam_user_policy_attachment.dilip",
        &["create"],
        Value::Null,
        json!({"user": "dilip"}),
        json!({"policy_arn": true, "id": true}),
    );
    let detach = change(
        "aws_iam_role_policy_attachment.reader",
        &["delete"],
        json!({"role": "partner", "policy_arn": "arn:aws:iam::111111111111:policy/reader"}),
        Value::Null,
        json!({}),
    );
    let configuration = json!([{"address": "aws_iam_user_policy_attachment.dilip", "expressions": {"policy_arn": {"references": ["aws_iam_policy.kms.arn", "aws_iam_policy.kms"]}}}]);
    let (laid, overlay) = read_over(&base, vec![created, attach, detach], configuration);
    let dilip = laid.principals.iter().find(|p| p.arn == DILIP).unwrap();
    let attached = dilip
        .policies
        .known()
        .unwrap()
        .iter()
        .find(|p| p.kind == Some(PolicyKind::Managed))
        .unwrap();
    // The ARN is unknown until apply: the policy is named by its address.
    assert_eq!(attached.name, "aws_iam_policy.kms");
    let role = laid.principals.iter().find(|p| p.arn == ROLE).unwrap();
    assert_eq!(role.policies.known().unwrap().len(), 0);
    assert!(has_source(
        &overlay,
        Target::Policies(ROLE.into()),
        "aws_iam_role_policy_attachment.reader",
        false
    ));

    // An existing managed policy's new version reaches every holder.
    let updated = change(
        "aws_iam_policy.reader",
        &["update"],
        Value::Null,
        json!({"arn": "arn:aws:iam::111111111111:policy/reader", "name": "reader", "policy": policy(json!({"Sid": "Less", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}))}),
        json!({}),
    );
    let exclusive = change(
        "aws_iam_policy_attachment.reader",
        &["update"],
        Value::Null,
        json!({"name": "reader", "users": ["ann"], "roles": [], "groups": [], "policy_arn": "arn:aws:iam::111111111111:policy/reader"}),
        json!({}),
    );
    let group = change(
        "aws_iam_group_policy_attachment.data",
        &["create"],
        Value::Null,
        json!({"group": "data", "policy_arn": "arn:aws:iam::111111111111:policy/reader"}),
        json!({"id": true}),
    );
    let (laid, _) = read_over(&base, vec![updated, exclusive], json!([]));
    let role = laid.principals.iter().find(|p| p.arn == ROLE).unwrap();
    let doc = &role.policies.known().unwrap()[0].document;
    assert!(doc.raw().contains("Less"));
    let ann = laid
        .principals
        .iter()
        .find(|p| p.arn.ends_with("user/ann"))
        .unwrap();
    assert!(
        ann.policies
            .known()
            .unwrap()
            .iter()
            .any(|p| p.name.ends_with("policy/reader"))
    );
    // The group attachment with no membership in the plan: unknown.
    let (laid, _) = read_over(&base, vec![group], json!([]));
    let dilip = laid.principals.iter().find(|p| p.arn == DILIP).unwrap();
    assert!(dilip.policies.is_unknown());
}

#[test]
fn roles_users_trust_and_boundaries() {
    let base = base();
    let role = change(
        "aws_iam_role.partner",
        &["update"],
        Value::Null,
        json!({"name": "partner", "path": "/ops/", "arn": ROLE,
               "assume_role_policy": policy(json!({"Sid": "Trust", "Effect": "Allow", "Principal": {"AWS": DILIP}, "Action": "sts:AssumeRole"})),
               "permissions_boundary": "arn:aws:iam::111111111111:policy/reader", "inline_policy": [], "managed_policy_arns": []}),
        json!({}),
    );
    let user = change(
        "aws_iam_user.dilip",
        &["update"],
        Value::Null,
        json!({"name": "dilip", "arn": DILIP, "permissions_boundary": "arn:aws:iam::aws:policy/Unknown"}),
        json!({}),
    );
    let (laid, overlay) = read_over(&base, vec![role, user], json!([]));
    let role = laid.principals.iter().find(|p| p.arn == ROLE).unwrap();
    assert_eq!(statement_sids(&role.trust_policy), vec!["Trust"]);
    assert_eq!(
        role.permissions_boundary.known().unwrap().name,
        "arn:aws:iam::111111111111:policy/reader"
    );
    // The policies were not touched.
    assert_eq!(role.policies.known().unwrap().len(), 1);
    let dilip = laid.principals.iter().find(|p| p.arn == DILIP).unwrap();
    // A boundary whose document is neither planned nor read is unknown.
    assert!(dilip.permissions_boundary.is_unknown());
    assert!(has_source(
        &overlay,
        Target::TrustPolicy(ROLE.into()),
        "aws_iam_role.partner",
        false
    ));
    // Unknown, but not waiting for an apply: the document is simply not here.
    assert!(has_source(
        &overlay,
        Target::Boundary(DILIP.into()),
        "aws_iam_user.dilip",
        false
    ));

    let deleted = change(
        "aws_iam_role.partner",
        &["delete"],
        json!({"name": "partner", "arn": ROLE}),
        Value::Null,
        json!({}),
    );
    let (laid, _) = read_over(&base, vec![deleted], json!([]));
    let role = laid.principals.iter().find(|p| p.arn == ROLE).unwrap();
    assert_eq!(role.trust_policy, Field::None);
    assert_eq!(role.policies, Field::Some(Vec::new()));
}

#[test]
fn policy_documents_from_data_sources() {
    let base = base();
    // Read while planning: its `json` sits in the prior state.
    let mut plan: Value = serde_json::from_str(&plan_of(
        vec![change(
            "aws_s3_bucket_policy.a",
            &["update"],
            Value::Null,
            json!({"bucket": "account-a-bucket"}),
            json!({"policy": true}),
        )],
        json!([{"address": "aws_s3_bucket_policy.a", "expressions": {"policy": {"references": ["data.aws_iam_policy_document.a.json", "data.aws_iam_policy_document.a"]}}}]),
    ))
    .unwrap();
    plan["prior_state"] = json!({"values": {"root_module": {"resources": [{
        "address": "data.aws_iam_policy_document.a", "mode": "data", "type": "aws_iam_policy_document", "name": "a",
        "values": {"json": policy(json!({"Sid": "FromData", "Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::account-a-bucket/*"}))}
    }]}}});
    let overlay = read("p.json", &plan.to_string(), &base).unwrap();
    assert_eq!(
        statement_sids(&overlay.snapshot.buckets[0].policy),
        vec!["FromData"]
    );

    // Read at apply (a statement names something being created): built
    // from its statements where they are known.
    let data = change(
        "data.aws_iam_policy_document.k",
        &["read"],
        Value::Null,
        json!({"statement": [{"sid": "Built", "effect": "Allow", "actions": ["kms:Decrypt"], "resources": ["*"],
            "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::222222222222:root"]}],
            "condition": [{"test": "StringEquals", "variable": "kms:ViaService", "values": ["s3.eu-west-1.amazonaws.com"]}],
            "not_actions": null, "not_principals": [], "not_resources": null}],
            "source_policy_documents": null, "override_policy_documents": null, "version": null, "policy_id": null}),
        json!({"json": true, "id": true, "minified_json": true}),
    );
    let key = change(
        "aws_kms_key_policy.k",
        &["update"],
        Value::Null,
        json!({"key_id": KEY}),
        json!({"policy": true}),
    );
    let configuration = json!([{"address": "aws_kms_key_policy.k", "expressions": {"policy": {"references": ["data.aws_iam_policy_document.k.json", "data.aws_iam_policy_document.k"]}}}]);
    let (laid, _) = read_over(
        &base,
        vec![data.clone(), key.clone()],
        configuration.clone(),
    );
    assert_eq!(statement_sids(&laid.keys[0].policy), vec!["Built"]);
    let built = laid.keys[0]
        .policy
        .known()
        .unwrap()
        .raw_value()
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        built.contains(
            "\"Condition\":{\"StringEquals\":{\"kms:ViaService\":[\"s3.eu-west-1.amazonaws.com\"]}}"
        ),
        "{built}"
    );

    // A statement still unknown leaves the document unknown, naming it.
    let mut partly = data;
    partly["change"]["after_unknown"]["statement"] = json!([{"resources": true}]);
    let (laid, overlay) = read_over(&base, vec![partly, key], configuration);
    assert!(laid.keys[0].policy.is_unknown());
    assert!(
        laid.keys[0]
            .policy_error
            .as_deref()
            .unwrap()
            .contains("data.aws_iam_policy_document.k")
    );
    assert!(has_source(
        &overlay,
        Target::KeyPolicy(KEY.into()),
        "aws_kms_key_policy.k",
        true
    ));
}

#[test]
fn scps_and_rcps_with_attachments() {
    let base = base();
    let scp = change(
        "aws_organizations_policy.deny_kms",
        &["create"],
        Value::Null,
        json!({"name": "deny-kms", "type": "SERVICE_CONTROL_POLICY", "content": policy(json!({"Effect": "Deny", "Action": "kms:*", "Resource": "*"}))}),
        json!({"id": true, "arn": true}),
    );
    let attach = change(
        "aws_organizations_policy_attachment.a",
        &["create"],
        Value::Null,
        json!({"target_id": "111111111111"}),
        json!({"policy_id": true, "id": true}),
    );
    let configuration = json!([{"address": "aws_organizations_policy_attachment.a", "expressions": {"policy_id": {"references": ["aws_organizations_policy.deny_kms.id", "aws_organizations_policy.deny_kms"]}}}]);
    let (laid, overlay) = read_over(&base, vec![scp.clone(), attach], configuration.clone());
    let levels = laid.accounts["111111111111"].scps.known().unwrap();
    let names: Vec<&str> = levels
        .last()
        .unwrap()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, vec!["FullAWSAccess", "deny-kms"]);
    assert!(has_source(
        &overlay,
        Target::Scps("111111111111".into()),
        "aws_organizations_policy_attachment.a",
        false
    ));
    // Account 222222222222's SCPs (`null`: none) were left as read.
    assert_eq!(laid.accounts["222222222222"].scps, Field::None);

    // At an OU: which accounts are under it is not known.
    let at_ou = change(
        "aws_organizations_policy_attachment.a",
        &["create"],
        Value::Null,
        json!({"target_id": "ou-ab12-cdef3456"}),
        json!({"policy_id": true, "id": true}),
    );
    let (laid, _) = read_over(&base, vec![scp, at_ou], configuration);
    assert!(laid.accounts["111111111111"].scps.is_unknown());

    // An RCP's content changed in place.
    let rcp_base = {
        let mut value: Value = serde_json::from_str(&base.to_json()).unwrap();
        value["accounts"]["111111111111"]["rcps"] =
            json!([[{"name": "guard", "document": {"Version": "2012-10-17", "Statement": []}}]]);
        Snapshot::parse("b.json", &value.to_string()).unwrap()
    };
    let rcp = change(
        "aws_organizations_policy.guard",
        &["update"],
        Value::Null,
        json!({"name": "guard", "type": "RESOURCE_CONTROL_POLICY", "id": "p-1", "content": policy(json!({"Sid": "Guard", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}))}),
        json!({}),
    );
    let (laid, _) = read_over(&rcp_base, vec![rcp], json!([]));
    let levels = laid.accounts["111111111111"].rcps.known().unwrap();
    assert!(levels[0][0].document.raw().to_string().contains("Guard"));
}

#[test]
fn real_plans_are_read() {
    let base = base();
    for name in [
        "tfpv-iam_policy.json",
        "tfpv-identity_policies.json",
        "tfpv-multiple_policies.json",
        "tfpv-no_access_granted.json",
        "tfpv-role_inline_assume_policy.json",
        "tfpv-scp.json",
        "walkthrough-remove-account-b.json",
        "walkthrough-grant-account-b.json",
        "walkthrough-new-key.json",
    ] {
        let text = fixture(&format!("plans/{name}"));
        if let Err(error) = read(name, &text, &base) {
            panic!("{name}: {error}");
        }
    }
}

/// A base holding what the real plans name, so their changes land.
fn base_for_real_plans() -> Snapshot {
    Snapshot::parse(
        "real.json",
        &json!({
            "format": "kms-s3-doctor/snapshot@1",
            "accounts": {"123456789012": {"scps": [[{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]]}},
            "buckets": [{"name": "my-tf-test-bucket", "account": "123456789012", "policy": null}],
            "principals": [
                {"arn": "arn:aws:iam::123456789012:user/system/loadbalancer", "policies": []},
                {"arn": "arn:aws:iam::123456789012:role/test_role", "policies": [], "trust_policy": null}
            ]
        })
        .to_string(),
    )
    .unwrap()
}

fn policy_names(overlay: &Overlay, arn_end: &str) -> Vec<String> {
    let principal = overlay
        .snapshot
        .principals
        .iter()
        .find(|p| p.arn.ends_with(arn_end))
        .unwrap();
    principal
        .policies
        .known()
        .unwrap()
        .iter()
        .map(|p| p.name.clone())
        .collect()
}

#[test]
fn real_plan_bucket_policy_lands_on_the_bucket_it_references() {
    // awslabs/terraform-iam-policy-validator: the bucket policy's `bucket`
    // is unknown until apply, and references `aws_s3_bucket.example.id`.
    let base = base_for_real_plans();
    let text = fixture("plans/tfpv-multiple_policies.json");
    let overlay = read("tfpv-multiple_policies.json", &text, &base).unwrap();
    let bucket = &overlay.snapshot.buckets[0];
    assert_eq!(bucket.name, "my-tf-test-bucket");
    let raw = bucket.policy.known().unwrap().raw().to_string();
    assert!(raw.contains("123456789012"), "{raw}");
    assert_eq!(
        policy_names(&overlay, "user/system/loadbalancer"),
        vec!["test"]
    );
}

#[test]
fn real_plan_identity_policies_reach_users_roles_and_new_groups() {
    let base = base_for_real_plans();
    let text = fixture("plans/tfpv-identity_policies.json");
    let overlay = read("tfpv-identity_policies.json", &text, &base).unwrap();
    // The group `developers` is created with no member: its policy reaches
    // nobody, and the user's list stays known.
    assert_eq!(
        policy_names(&overlay, "user/system/loadbalancer"),
        vec!["test"]
    );
    // `role` of the role policy is unknown until apply, and references the
    // role, whose name the plan knows.
    assert_eq!(
        policy_names(&overlay, "role/test_role"),
        vec!["test_policy"]
    );
    let role = overlay
        .snapshot
        .principals
        .iter()
        .find(|p| p.arn.ends_with("role/test_role"))
        .unwrap();
    assert!(role.trust_policy.known().is_some());
}

#[test]
fn real_plan_an_unattached_scp_changes_nothing() {
    let base = base_for_real_plans();
    let text = fixture("plans/tfpv-scp.json");
    let overlay = read("tfpv-scp.json", &text, &base).unwrap();
    assert!(
        overlay
            .sources
            .iter()
            .all(|s| !matches!(s.target, Target::Scps(_)))
    );
    let mut laid = base.clone();
    overlay::lay_all(&mut laid, std::slice::from_ref(&overlay));
    assert_eq!(
        laid.accounts["123456789012"].scps,
        base.accounts["123456789012"].scps
    );
}

#[test]
fn a_replaced_key_takes_the_old_key_away() {
    let base = base();
    let replaced = change(
        "aws_kms_key.reports",
        &["delete", "create"],
        json!({"arn": KEY, "key_id": KEY_ID, "is_enabled": true}),
        json!({"is_enabled": true, "policy": policy(json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}))}),
        json!({"arn": true, "key_id": true, "id": true}),
    );
    let (laid, overlay) = read_over(&base, vec![replaced], json!([]));
    assert_eq!(laid.keys[0].state, Field::Some("PendingDeletion".into()));
    assert!(
        overlay
            .notes
            .iter()
            .any(|n| n.contains("ARN is unknown until apply"))
    );
}

#[test]
fn only_the_planned_policy_is_labelled_with_its_address() {
    let base = base();
    let role_policy = change(
        "aws_iam_role_policy.partner",
        &["create"],
        Value::Null,
        json!({"role": "partner", "name": "extra", "policy": policy(json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}))}),
        json!({"id": true}),
    );
    let (laid, _) = read_over(&base, vec![role_policy], json!([]));
    let role = laid.principals.iter().find(|p| p.arn == ROLE).unwrap();
    let labels: Vec<&str> = role
        .policies
        .known()
        .unwrap()
        .iter()
        .map(|p| p.document.policy.label())
        .collect();
    assert!(!labels[0].contains("aws_iam_role_policy"), "{labels:?}");
    assert!(
        labels[1].ends_with("(from `aws_iam_role_policy.partner` in plan `plan.json`)"),
        "{labels:?}"
    );
}

#[test]
fn data_sources_only_feed_values() {
    let base = base();
    // `data.aws_s3_bucket_policy` reads the current policy: not a change.
    let read_policy = change(
        "data.aws_s3_bucket_policy.current",
        &["read"],
        Value::Null,
        json!({"bucket": "account-a-bucket", "policy": policy(json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}))}),
        json!({}),
    );
    let overlay = read("p.json", &plan_of(vec![read_policy], json!([])), &base).unwrap();
    assert!(overlay.snapshot.buckets.is_empty());
    assert!(overlay.sources.is_empty());
}

mod no_panic {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::{base, read};

    const TYPES: &[&str] = &[
        "aws_s3_bucket",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_ownership_controls",
        "aws_kms_key",
        "aws_kms_key_policy",
        "aws_kms_alias",
        "aws_kms_grant",
        "aws_iam_user",
        "aws_iam_role",
        "aws_iam_group",
        "aws_iam_user_policy",
        "aws_iam_role_policy",
        "aws_iam_group_policy",
        "aws_iam_policy",
        "aws_iam_user_policy_attachment",
        "aws_iam_role_policy_attachment",
        "aws_iam_group_policy_attachment",
        "aws_iam_policy_attachment",
        "aws_iam_group_membership",
        "aws_iam_user_group_membership",
        "aws_organizations_policy",
        "aws_organizations_policy_attachment",
        "aws_iam_policy_document",
    ];
    const KEYS: &[&str] = &[
        "arn",
        "bucket",
        "policy",
        "name",
        "user",
        "role",
        "group",
        "users",
        "roles",
        "groups",
        "policy_arn",
        "key_id",
        "target_key_id",
        "rule",
        "grantee_principal",
        "operations",
        "constraints",
        "is_enabled",
        "assume_role_policy",
        "permissions_boundary",
        "content",
        "type",
        "target_id",
        "policy_id",
        "statement",
        "json",
        "object_ownership",
        "apply_server_side_encryption_by_default",
        "sse_algorithm",
        "kms_master_key_id",
    ];

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            prop::sample::select(vec![
                "",
                "account-a-bucket",
                "dilip",
                "partner",
                "alias/s3-account-a-bucket",
                "111111111111",
                "ou-1",
                "aws:kms",
                "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
                "{",
                "aws_kms_key.k.arn",
                "SERVICE_CONTROL_POLICY",
            ])
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(
                    |pairs| {
                        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                    }
                ),
            ]
        })
    }

    fn resource_change() -> impl Strategy<Value = Value> {
        (
            prop::sample::select(TYPES),
            any::<bool>(),
            prop::sample::select(vec!["create", "update", "delete", "no-op", "read", "forget"]),
            value(),
            value(),
            value(),
        )
            .prop_map(|(kind, data, action, before, after, unknown)| {
                json!({
                    "address": format!("{}{kind}.x", if data { "data." } else { "" }),
                    "mode": if data { "data" } else { "managed" },
                    "type": kind,
                    "change": {"actions": [action], "before": before, "after": after, "after_unknown": unknown}
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any plan-shaped input is read or refused, never a panic.
        #[test]
        fn the_reader_never_panics(
            changes in prop::collection::vec(resource_change(), 0..6),
            expressions in value(),
        ) {
            let plan = json!({
                "format_version": "1.2",
                "resource_changes": changes,
                "configuration": {"root_module": {"resources": [{"address": "aws_kms_key_policy.x", "expressions": expressions}]}}
            });
            let _ = read("fuzz.json", &plan.to_string(), &base());
        }
    }
}
