//! Tests of snapshot validation: every enumerated field exact, no duplicate
//! entries or keys, and the messages for a BOM and a mistyped `format`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};

use super::*;

const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn base() -> Value {
    json!({
        "format": SNAPSHOT_FORMAT,
        "accounts": {"111111111111": {"scps": null, "rcps": null}},
        "buckets": [{
            "name": "b",
            "account": "111111111111",
            "region": "eu-west-1",
            "encryption": {"algorithm": "aws:kms", "key": KEY},
            "ownership": "BucketOwnerEnforced",
            "objects": [{
                "key": "k",
                "owner": "111111111111",
                "encryption": {"algorithm": "aws:kms", "key": KEY},
                "acl": [{"grantee": "111111111111", "permission": "FULL_CONTROL"}]
            }]
        }],
        "keys": [{
            "arn": KEY,
            "manager": "CUSTOMER",
            "state": "Enabled",
            "grants": [{"grantee": "arn:aws:iam::111111111111:role/r", "operations": ["Decrypt"]}]
        }],
        "principals": [{"arn": "arn:aws:iam::111111111111:user/u"}]
    })
}

fn parse(value: &Value) -> Result<Snapshot, SnapshotError> {
    Snapshot::parse("s.json", &serde_json::to_string_pretty(value).unwrap())
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    *value.pointer_mut(pointer).unwrap() = new;
}

#[test]
fn the_base_snapshot_is_valid() {
    parse(&base()).unwrap();
}

#[test]
fn enumerations_are_exact() {
    let cases: &[(&str, Value)] = &[
        ("/buckets/0/encryption/algorithm", json!("AWS:KMS")),
        ("/buckets/0/encryption/algorithm", json!("aws:kms ")),
        ("/buckets/0/encryption/algorithm", json!("kms")),
        ("/buckets/0/encryption/algorithm", json!("SSE-KMS")),
        ("/buckets/0/encryption/algorithm", json!("aws:kms:DSSE")),
        ("/buckets/0/encryption/algorithm", json!("")),
        ("/buckets/0/encryption/algorithm", json!(["aws:kms"])),
        ("/buckets/0/objects/0/encryption/algorithm", json!("aes256")),
        ("/buckets/0/ownership", json!("bucketownerenforced")),
        (
            "/buckets/0/objects/0/acl/0/permission",
            json!("FullControl"),
        ),
        ("/keys/0/manager", json!("aws")),
        ("/keys/0/manager", json!("Customer")),
        ("/keys/0/state", json!("enabled")),
        ("/keys/0/state", json!("Enabled ")),
        ("/keys/0/grants/0/operations/0", json!("decrypt")),
        ("/keys/0/grants/0/operations/0", json!("kms:Decrypt")),
    ];
    for (pointer, bad) in cases {
        let mut value = base();
        set(&mut value, pointer, bad.clone());
        let error = parse(&value).expect_err(&format!("{pointer} = {bad}"));
        assert_eq!(&error.field, pointer, "{error}");
        assert!(error.line.is_some(), "{error}");
    }
    let mut value = base();
    set(
        &mut value,
        "/principals/0",
        json!({"arn": "arn:aws:iam::111111111111:user/u", "policies": [{"name": "p", "kind": "Inline", "document": {}}]}),
    );
    assert!(parse(&value).is_err());
}

#[test]
fn every_value_aws_spells_is_accepted() {
    for algorithm in ALGORITHMS {
        let mut value = base();
        set(
            &mut value,
            "/buckets/0/encryption/algorithm",
            json!(algorithm),
        );
        parse(&value).unwrap();
    }
    for state in KEY_STATES {
        let mut value = base();
        set(&mut value, "/keys/0/state", json!(state));
        parse(&value).unwrap();
    }
    let mut value = base();
    set(
        &mut value,
        "/keys/0/grants/0/operations",
        json!(GRANT_OPERATIONS),
    );
    parse(&value).unwrap();
}

#[test]
fn duplicate_entries_are_refused() {
    let mut value = base();
    let bucket = value["buckets"][0].clone();
    value["buckets"].as_array_mut().unwrap().push(bucket);
    assert_eq!(parse(&value).unwrap_err().field, "/buckets/1/name");

    let mut value = base();
    let key = value["keys"][0].clone();
    value["keys"].as_array_mut().unwrap().push(key);
    assert_eq!(parse(&value).unwrap_err().field, "/keys/1/arn");

    let mut value = base();
    let principal = value["principals"][0].clone();
    value["principals"].as_array_mut().unwrap().push(principal);
    assert_eq!(parse(&value).unwrap_err().field, "/principals/1/arn");

    let mut value = base();
    let object = value["buckets"][0]["objects"][0].clone();
    value["buckets"][0]["objects"]
        .as_array_mut()
        .unwrap()
        .push(object);
    assert_eq!(parse(&value).unwrap_err().field, "/buckets/0/objects/1/key");
}

#[test]
fn duplicate_json_keys_are_refused_with_their_line() {
    let text = format!(
        "{{\"format\": \"{SNAPSHOT_FORMAT}\",\n\"accounts\": {{\"111111111111\": {{}},\n\"111111111111\": {{\"scps\": null}}}}}}"
    );
    let error = Snapshot::parse("s.json", &text).unwrap_err();
    assert!(
        error.message.contains("duplicate key `111111111111`"),
        "{error}"
    );
    assert_eq!(error.line, Some(3));

    // Inside a policy given as an object: "Effect" twice is not "last wins".
    let mut value = base();
    value["buckets"][0]["policy"] = json!({});
    let text = serde_json::to_string_pretty(&value).unwrap().replace(
        "\"policy\": {}",
        "\"policy\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Deny\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}",
    );
    let error = Snapshot::parse("s.json", &text).unwrap_err();
    assert!(error.message.contains("duplicate key `Effect`"), "{error}");

    // Inside a policy given as a string.
    let mut value = base();
    value["buckets"][0]["policy"] = json!(
        "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Deny\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}"
    );
    let error = parse(&value).unwrap_err();
    assert!(error.message.contains("duplicate key `Effect`"), "{error}");
}

#[test]
fn malformed_condition_values_are_refused_with_their_position() {
    for (operator, good, bad) in [
        ("IpAddress", "10.0.0.0/8", "203.0.113.0/33"),
        ("NotIpAddress", "10.0.0.0/8", "not-a-cidr"),
        ("DateGreaterThan", "2026-01-01", "not-a-date"),
        ("NumericLessThan", "10", "many"),
    ] {
        let mut value = base();
        value["buckets"][0]["policy"] = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                "Condition": {operator: {"aws:SourceIp": [good, bad]}}
            }]
        });
        let text = serde_json::to_string_pretty(&value).unwrap();
        let error = Snapshot::parse("s.json", &text).unwrap_err();
        assert_eq!(
            error.field,
            format!("/buckets/0/policy/Statement/0/Condition/{operator}/aws:SourceIp/1"),
            "{error}"
        );
        let line = text.lines().position(|line| line.contains(bad)).unwrap() + 1;
        assert_eq!(error.line, Some(line), "{error}");
    }
}

#[test]
fn a_bom_and_a_mistyped_format_say_so() {
    let text = format!("\u{feff}{}", serde_json::to_string(&base()).unwrap());
    let error = Snapshot::parse("s.json", &text).unwrap_err();
    assert!(error.message.contains("byte order mark"), "{error}");

    let mut value = base();
    value["format"] = json!(1);
    let error = parse(&value).unwrap_err();
    assert!(error.message.contains("`format` is a number"), "{error}");
}

#[test]
fn only_a_parsed_format_makes_a_file_a_snapshot() {
    assert!(is_snapshot_text(&serde_json::to_string(&base()).unwrap()));
    let runbook =
        format!("# Runbook\n\nSave with `--save-snapshot`; the format is `{SNAPSHOT_FORMAT}`.\n");
    assert!(!is_snapshot_text(&runbook));
    assert!(!is_snapshot_text(&format!(
        "{{\"note\": \"{SNAPSHOT_FORMAT}\"}}"
    )));
    assert!(!is_snapshot_text("{\"format\": \"something/else@1\"}"));
    assert!(!is_snapshot_text(""));
}

#[test]
fn a_snapshot_mixing_partitions_is_refused() {
    let mut value = base();
    set(
        &mut value,
        "/principals/0/arn",
        json!("arn:aws-cn:iam::111111111111:user/u"),
    );
    let error = parse(&value).unwrap_err();
    assert_eq!(error.field, "/principals/0/arn", "{error}");
    assert_eq!(parse(&base()).unwrap().partition(), Some("aws"));
}

#[test]
fn org_paths_are_checked_with_their_position() {
    // IAM User Guide, aws:PrincipalOrgPaths; AWS Organizations API
    // Reference, the id shapes of `Organization`, `Root` and `Parent`.
    let account = |value: &mut Value, org_id: Value, org_path: Value| {
        value["accounts"]["111111111111"]["org_id"] = org_id;
        value["accounts"]["111111111111"]["org_path"] = org_path;
    };
    let mut value = base();
    account(
        &mut value,
        json!("o-a1b2c3d4e5"),
        json!("o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"),
    );
    assert!(parse(&value).is_ok());
    for (path, org_id, words) in [
        (
            json!("o-a1b2c3d4e5/r-ab12"),
            json!("o-a1b2c3d4e5"),
            "does not end with `/`",
        ),
        (
            json!("o-a1b2c3d4e5/ou-ab12-11111111/"),
            json!("o-a1b2c3d4e5"),
            "is not a root id",
        ),
        (
            json!("o-a1b2c3d4e5/r-ab12/111111111111/"),
            json!("o-a1b2c3d4e5"),
            "is not an OU id",
        ),
        (
            json!("o-zzzzzzzzzz/r-ab12/"),
            json!("o-a1b2c3d4e5"),
            "but `org_id` is `o-a1b2c3d4e5`",
        ),
        (
            json!("o-a1b2c3d4e5/r-ab12/"),
            Value::Null,
            "but `org_id` is `null`",
        ),
        (Value::Null, json!("o-a1b2c3d4e5"), "`org_path` is `null`"),
    ] {
        let mut value = base();
        account(&mut value, org_id, path.clone());
        let error = parse(&value).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("/accounts/111111111111/org_path"), "{text}");
        assert!(text.contains(words), "{path}: {text}");
        assert!(text.contains("line "), "{text}");
    }
}

/// Two organization levels holding a policy of the same name (AWS attaches
/// `FullAWSAccess` at every level by default) have the same label but are
/// two documents: each is found by its own identity, at its own place in
/// the file. Matching by label used to send the second level's evidence to
/// the first level's lines.
#[test]
fn documents_of_the_same_name_at_two_levels_are_told_apart() {
    let mut value = base();
    let full = json!({"name": "FullAWSAccess", "document": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    }});
    set(
        &mut value,
        "/accounts/111111111111/scps",
        json!([[full.clone()], [full]]),
    );
    let text = serde_json::to_string_pretty(&value).unwrap();
    let snapshot = Snapshot::parse("s.json", &text).unwrap();
    let levels: Vec<(DocRef, &PolicyDoc)> = snapshot
        .documents()
        .into_iter()
        .filter(|(id, _)| matches!(id, DocRef::Scp { .. }))
        .collect();
    assert_eq!(levels.len(), 2);
    let (first, second) = (&levels[0], &levels[1]);
    assert_ne!(first.0, second.0);
    assert_eq!(snapshot.label_of(&first.0), snapshot.label_of(&second.0));
    for (id, doc) in &levels {
        assert_eq!(doc.id(), Some(id));
        assert!(std::ptr::eq(snapshot.get(id).unwrap(), *doc));
        assert_eq!(doc.source_pointer(), snapshot.pointer_of(id).as_deref());
    }
    assert_eq!(
        second.1.source_pointer(),
        Some("/accounts/111111111111/scps/1/0/document")
    );
}

/// A document laid over the snapshot (a plan or overlay) names its layer
/// beside its AWS name, and has no place in the snapshot file.
#[test]
fn a_layered_document_names_its_layer_and_has_no_file_position() {
    let mut snapshot = parse(&base()).unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": []});
    let mut doc = PolicyDoc::from_value("plan", &policy).unwrap();
    doc.set_layer("plan `p.json`");
    snapshot.buckets[0].policy = Field::Some(doc);
    snapshot.identify_documents();
    let id = DocRef::BucketPolicy {
        bucket: "b".to_string(),
    };
    let laid = snapshot.get(&id).unwrap();
    assert_eq!(
        laid.policy.label(),
        "bucket policy of `b` (from plan `p.json`)"
    );
    assert_eq!(laid.source_pointer(), None);
    assert_eq!(laid.id(), Some(&id));
}

#[test]
fn the_principal_element_is_checked_per_document_kind() {
    // IAM User Guide, "AWS JSON policy elements: Principal" ("You must use
    // the Principal element in resource-based policies"; not in
    // identity-based ones); "AWS JSON policy elements: NotPrincipal" (not
    // in a role trust policy); AWS Organizations User Guide, "SCP syntax"
    // and "RCP syntax" (an RCP's Principal is "*"). AWS refuses such
    // documents, so the snapshot is refused at the element.
    let allow = |principal: Option<(&str, Value)>| {
        let mut statement = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"});
        if let Some((name, value)) = principal {
            statement[name] = value;
        }
        json!({"Version": "2012-10-17", "Statement": [statement]})
    };
    let user = |policy: Value| json!([{"name": "p", "kind": "inline", "document": policy}]);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/buckets/0/policy",
            allow(None),
            "/buckets/0/policy/Statement/0",
        ),
        ("/keys/0/policy", allow(None), "/keys/0/policy/Statement/0"),
        (
            "/principals/0/policies",
            user(allow(Some(("Principal", json!("*"))))),
            "/principals/0/policies/0/document/Statement/0/Principal",
        ),
        (
            "/principals/0/permissions_boundary",
            json!({"name": "b", "kind": "managed", "document": allow(Some(("NotPrincipal", json!({"AWS": "111111111111"}))))}),
            "/principals/0/permissions_boundary/document/Statement/0/NotPrincipal",
        ),
        (
            "/accounts/111111111111/scps",
            json!([[{"name": "s", "document": allow(Some(("Principal", json!("*"))))}]]),
            "/accounts/111111111111/scps/0/0/document/Statement/0/Principal",
        ),
        (
            "/accounts/111111111111/rcps",
            json!([[{"name": "r", "document": allow(Some(("Principal", json!({"AWS": "*"}))))}]]),
            "/accounts/111111111111/rcps/0/0/document/Statement/0/Principal",
        ),
        (
            "/accounts/111111111111/rcps",
            json!([[{"name": "r", "document": allow(None)}]]),
            "/accounts/111111111111/rcps/0/0/document/Statement/0",
        ),
    ];
    for (at, document, field) in cases {
        let mut value = base();
        put(&mut value, at, document);
        let text = serde_json::to_string_pretty(&value).unwrap();
        let error = Snapshot::parse("s.json", &text).unwrap_err();
        assert_eq!(error.field, field, "{error}");
        assert!(error.line.is_some() && error.column.is_some(), "{error}");
    }
    // A role's trust policy: a principal required, NotPrincipal refused.
    let mut value = base();
    value["principals"] = json!([{
        "arn": "arn:aws:iam::111111111111:role/r",
        "trust_policy": allow(Some(("NotPrincipal", json!({"AWS": "111111111111"}))))
    }]);
    let error = parse(&value).unwrap_err();
    assert_eq!(
        error.field, "/principals/0/trust_policy/Statement/0/NotPrincipal",
        "{error}"
    );
    // What AWS accepts is accepted.
    let mut value = base();
    put(
        &mut value,
        "/buckets/0/policy",
        allow(Some(("Principal", json!({"AWS": "111111111111"})))),
    );
    put(
        &mut value,
        "/accounts/111111111111/rcps",
        json!([[{"name": "r", "document": allow(Some(("Principal", json!("*"))))}]]),
    );
    put(&mut value, "/principals/0/policies", user(allow(None)));
    parse(&value).unwrap();
}

/// Sets the field at `pointer`, adding it to its object when missing.
fn put(value: &mut Value, pointer: &str, new: Value) {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    value.pointer_mut(parent).unwrap()[name] = new;
}
