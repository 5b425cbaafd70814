#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::chain::keys;
use crate::chain::{CheckRequest, KeyChoice};
use crate::diagnosis::Operation;
use crate::policy::arn::Principal;
use crate::policy::context::ContextValue;
use crate::snapshot::Snapshot;

const WALKTHROUGH: &str = include_str!("../../../fixtures/walkthrough.json");
const KEY_ARN: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ANN: &str = "arn:aws:iam::111111111111:user/ann";

#[derive(Clone, Copy)]
enum On {
    Bucket,
    Object,
    Put,
    Key,
    Role,
}

struct Case<'a> {
    edit: &'a dyn Fn(&mut Value),
    principal: &'a str,
    object: Option<&'a str>,
    context: &'a [(&'a str, &'a str)],
    via_service: Option<&'a str>,
}

impl Default for Case<'_> {
    fn default() -> Self {
        Self {
            edit: &|_| {},
            principal: ANN,
            object: Some("reports/data.csv"),
            context: &[],
            via_service: None,
        }
    }
}

/// The context of one action on the walkthrough snapshot, edited.
fn context_of(case: &Case<'_>, on: On) -> Arc<RequestContext> {
    let mut value: Value = serde_json::from_str(WALKTHROUGH).unwrap();
    (case.edit)(&mut value);
    let snapshot = Snapshot::parse("walkthrough.json", &value.to_string()).unwrap();
    let request = CheckRequest {
        access_point: None,
        bucket: "account-a-bucket".to_string(),
        object: case.object.map(str::to_string),
        principal: case.principal.to_string(),
        via_role: None,
        external_id: None,
        operations: vec![Operation::Get],
        context: case
            .context
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        via_service: case.via_service.map(str::to_string),
        unknown_context: Vec::new(),
        now: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
    };
    let bucket = &snapshot.buckets[0];
    let object_key = case.object.unwrap_or(super::super::PLACEHOLDER_OBJECT);
    let setup = Setup {
        snapshot: &snapshot,
        bucket,
        object_key: object_key.to_string(),
        object: bucket
            .objects
            .iter()
            .find(|object| object.key == object_key),
        source: Principal::parse(case.principal).unwrap(),
        role: None,
        request: &request,
        contexts: &Shared::default(),
        source_info: super::super::principal::find_info(
            &snapshot,
            &Principal::parse(case.principal).unwrap(),
        ),
        role_info: None,
        access_point: None,
        detail: super::super::Detail::Full,
        documents: std::cell::OnceCell::new(),
    };
    let key = keys::resolve(&setup, &KeyChoice::Named(KEY_ARN.to_string()));
    let ec_arn = setup.bucket_arn();
    let resource = match on {
        On::Bucket => ContextResource::Bucket,
        On::Object => ContextResource::Object { put: false },
        On::Put => ContextResource::Object { put: true },
        On::Key => ContextResource::Key(KmsCall {
            encryption_context_arn: &ec_arn,
            key: &key,
            extra_context: &[],
        }),
        On::Role => ContextResource::Role(None),
    };
    let actor = &setup.source;
    build(
        &setup,
        &ActionContext {
            actor,
            actor_info: super::super::principal::find_info(&snapshot, actor),
            actor_arn: case.principal,
            resource_account: "111111111111",
            resource,
        },
    )
}

fn present(value: &str) -> ContextValue {
    ContextValue::Present(vec![value.to_string()])
}

fn bucket_field(name: &'static str, field: Value) -> impl Fn(&mut Value) {
    move |value: &mut Value| {
        value["buckets"][0][name] = field.clone();
    }
}

#[test]
fn requested_region_follows_the_service_called() {
    let case = Case::default();
    assert_eq!(
        context_of(&case, On::Object).get("aws:RequestedRegion"),
        &present("eu-west-1")
    );
    assert_eq!(
        context_of(&case, On::Key).get("aws:RequestedRegion"),
        &present("eu-west-1")
    );
    assert_eq!(
        context_of(&case, On::Role).get("aws:RequestedRegion"),
        &present("us-east-1")
    );
}

#[test]
fn a_bucket_region_not_read_is_unknown_and_kms_falls_back_to_the_key_arn() {
    let edit = |value: &mut Value| {
        value["buckets"][0]
            .as_object_mut()
            .unwrap()
            .remove("region");
    };
    let case = Case {
        edit: &edit,
        ..Case::default()
    };
    let s3 = context_of(&case, On::Object);
    assert_eq!(s3.get("aws:RequestedRegion"), &ContextValue::Unknown);
    let kms = context_of(&case, On::Key);
    assert_eq!(kms.get("aws:RequestedRegion"), &present("eu-west-1"));
    assert_eq!(
        kms.get("kms:ViaService"),
        &present("s3.eu-west-1.amazonaws.com")
    );
}

#[test]
fn the_kms_call_s3_makes_never_carries_vpc_keys() {
    let case = Case {
        context: &[
            ("aws:SourceVpce", "vpce-1a2b3c4d"),
            ("aws:SourceVpc", "vpc-111bbb22"),
        ],
        ..Case::default()
    };
    let s3 = context_of(&case, On::Object);
    assert_eq!(s3.get("aws:SourceVpce"), &present("vpce-1a2b3c4d"));
    let kms = context_of(&case, On::Key);
    for key in VPC_KEYS {
        assert_eq!(kms.get(key), &ContextValue::Absent, "{key}");
    }
    assert_eq!(kms.get("aws:ViaAWSService"), &present("true"));
    assert_eq!(kms.get("aws:PrincipalIsAWSService"), &present("false"));
    // Through an endpoint the S3 request had no source IP, nor has the KMS one.
    assert_eq!(kms.get("aws:SourceIp"), &ContextValue::Absent);
}

#[test]
fn the_kms_call_keeps_the_callers_source_ip() {
    let case = Case {
        context: &[("aws:SourceIp", "203.0.113.7")],
        ..Case::default()
    };
    let kms = context_of(&case, On::Key);
    assert_eq!(kms.get("aws:SourceIp"), &present("203.0.113.7"));
}

#[test]
fn network_keys_settle_each_other() {
    let vpce = Case {
        context: &[("aws:SourceVpce", "vpce-1a2b3c4d")],
        ..Case::default()
    };
    let context = context_of(&vpce, On::Object);
    assert_eq!(context.get("aws:SourceIp"), &ContextValue::Absent);
    assert_eq!(context.get("aws:SourceVpc"), &ContextValue::Unknown);

    let public = Case {
        context: &[("aws:SourceIp", "203.0.113.7")],
        ..Case::default()
    };
    let context = context_of(&public, On::Object);
    for key in VPC_KEYS {
        assert_eq!(context.get(key), &ContextValue::Absent, "{key}");
    }

    let private = Case {
        context: &[("aws:SourceIp", "10.0.0.7")],
        ..Case::default()
    };
    let context = context_of(&private, On::Object);
    assert_eq!(context.get("aws:SourceVpce"), &ContextValue::Unknown);

    let nothing = context_of(&Case::default(), On::Bucket);
    for key in [
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpcSourceIp",
    ] {
        assert_eq!(nothing.get(key), &ContextValue::Unknown, "{key}");
    }
}

#[test]
fn keys_not_derived_are_unknown_headers_and_documented_absences_are_absent() {
    let context = context_of(&Case::default(), On::Object);
    assert_eq!(context.get("aws:SomeFutureKey"), &ContextValue::Unknown);
    assert_eq!(
        context.get("aws:MultiFactorAuthPresent"),
        &ContextValue::Unknown
    );
    assert_eq!(context.get("s3:x-amz-acl"), &ContextValue::Absent);
    assert_eq!(context.get("s3:prefix"), &ContextValue::Absent);
    assert_eq!(context.get("aws:RequestTag/team"), &ContextValue::Absent);
    assert_eq!(context.get("aws:SourceArn"), &ContextValue::Absent);
    assert_eq!(
        context.get("aws:PrincipalServiceName"),
        &ContextValue::Absent
    );
    assert_eq!(context.get("kms:ViaService"), &ContextValue::Absent);
    let kms = context_of(&Case::default(), On::Key);
    // S3 is not a service that sets aws:CalledVia.
    assert_eq!(kms.get("aws:CalledVia"), &ContextValue::Absent);
    assert_eq!(kms.get("aws:CalledViaFirst"), &ContextValue::Absent);
    assert_eq!(kms.get("aws:SourceAccount"), &ContextValue::Absent);
    assert_eq!(kms.get("s3:x-amz-acl"), &ContextValue::Absent);
    assert_eq!(kms.get("kms:EncryptionContext:team"), &ContextValue::Absent);
}

#[test]
fn resource_tags_come_from_the_bucket_and_the_key() {
    let tagged = bucket_field("tags", json!({"data-class": "internal"}));
    let case = Case {
        edit: &tagged,
        ..Case::default()
    };
    let context = context_of(&case, On::Object);
    // Bucket tags count only with ABAC enabled on the bucket, not recorded.
    assert_eq!(
        context.get("aws:ResourceTag/data-class"),
        &ContextValue::Unknown
    );
    assert_eq!(context.get("aws:ResourceTag/other"), &ContextValue::Absent);
    // Not read: unknown.
    let context = context_of(&Case::default(), On::Object);
    assert_eq!(
        context.get("aws:ResourceTag/data-class"),
        &ContextValue::Unknown
    );
    // null: none.
    let untagged = bucket_field("tags", Value::Null);
    let case = Case {
        edit: &untagged,
        ..Case::default()
    };
    assert_eq!(
        context_of(&case, On::Object).get("aws:ResourceTag/data-class"),
        &ContextValue::Absent
    );

    let key_tags = |value: &mut Value| {
        value["keys"][0]["tags"] = json!({"team": "data"});
    };
    let case = Case {
        edit: &key_tags,
        ..Case::default()
    };
    let kms = context_of(&case, On::Key);
    assert_eq!(kms.get("aws:ResourceTag/team"), &present("data"));
    assert_eq!(
        kms.get("kms:ResourceAliases"),
        &present("alias/s3-account-a-bucket")
    );
}

#[test]
fn existing_object_tags_come_from_the_object_read() {
    let tagged = |value: &mut Value| {
        value["buckets"][0]["objects"][0]["tags"] = json!({"classification": "public"});
    };
    let case = Case {
        edit: &tagged,
        ..Case::default()
    };
    assert_eq!(
        context_of(&case, On::Object).get("s3:ExistingObjectTag/classification"),
        &present("public")
    );
    assert_eq!(
        context_of(&case, On::Put).get("s3:ExistingObjectTag/classification"),
        &ContextValue::Absent
    );
    assert_eq!(
        context_of(&case, On::Bucket).get("s3:ExistingObjectTag/classification"),
        &ContextValue::Absent
    );
    let placeholder = Case {
        edit: &tagged,
        object: None,
        ..Case::default()
    };
    assert_eq!(
        context_of(&placeholder, On::Object).get("s3:ExistingObjectTag/classification"),
        &ContextValue::Unknown
    );
}

#[test]
fn org_paths_are_absent_outside_an_organization_and_unknown_inside() {
    let outside = context_of(&Case::default(), On::Object);
    assert_eq!(outside.get("aws:PrincipalOrgPaths"), &ContextValue::Absent);
    assert_eq!(outside.get("aws:ResourceOrgPaths"), &ContextValue::Absent);
    let in_org = |value: &mut Value| {
        value["accounts"]["111111111111"]["org_id"] = json!("o-abc123");
    };
    let case = Case {
        edit: &in_org,
        ..Case::default()
    };
    let inside = context_of(&case, On::Object);
    assert_eq!(inside.get("aws:ResourceOrgID"), &present("o-abc123"));
    assert_eq!(inside.get("aws:ResourceOrgPaths"), &ContextValue::Unknown);
    assert_eq!(inside.get("aws:PrincipalOrgPaths"), &ContextValue::Unknown);
}

#[test]
fn org_paths_come_from_the_accounts_org_path() {
    // IAM User Guide, aws:PrincipalOrgPaths: the path down to the account's
    // parent OU, one value of a multivalued key.
    const PATH: &str = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/";
    let with_path = |value: &mut Value| {
        value["accounts"]["111111111111"]["org_id"] = json!("o-a1b2c3d4e5");
        value["accounts"]["111111111111"]["org_path"] = json!(PATH);
    };
    let case = Case {
        edit: &with_path,
        ..Case::default()
    };
    for on in [On::Object, On::Key] {
        let context = context_of(&case, on);
        let path = ContextValue::Present(vec![PATH.to_string()]);
        assert_eq!(context.get("aws:ResourceOrgPaths"), &path);
        // ann is of the same account.
        assert_eq!(context.get("aws:PrincipalOrgPaths"), &path);
    }
    // The path alone gives the organization id too.
    let path_only = |value: &mut Value| {
        value["accounts"]["111111111111"]
            .as_object_mut()
            .unwrap()
            .remove("org_id");
        value["accounts"]["111111111111"]["org_path"] = json!(PATH);
    };
    let case = Case {
        edit: &path_only,
        ..Case::default()
    };
    assert_eq!(
        context_of(&case, On::Object).get("aws:PrincipalOrgID"),
        &present("o-a1b2c3d4e5")
    );
}

#[test]
fn the_username_key_is_only_for_users() {
    let case = Case {
        principal: "arn:aws:iam::111111111111:root",
        ..Case::default()
    };
    assert_eq!(
        context_of(&case, On::Object).get("aws:username"),
        &ContextValue::Absent
    );
}

/// docs/guide.md's table of condition keys, as (key, source, from) rows.
fn guide_rows() -> Vec<(String, String, String)> {
    let guide = include_str!("../../../docs/guide.md");
    let start = guide
        .find("<!-- condition-keys:start -->")
        .expect("docs/guide.md has the condition-key table markers");
    let end = guide
        .find("<!-- condition-keys:end -->")
        .expect("docs/guide.md has the condition-key table end marker");
    guide[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2..].join(" | "),
            )
        })
        .collect()
}

#[test]
fn the_guide_lists_every_key_as_the_code_does() {
    let expected: Vec<(String, String, String)> = KEYS
        .iter()
        .map(|row| {
            (
                row.key.to_string(),
                row.source.as_str().to_string(),
                row.from.to_string(),
            )
        })
        .collect();
    assert_eq!(
        guide_rows(),
        expected,
        "docs/guide.md's condition-key table differs from chain::context::KEYS; regenerate it with `cargo test --lib print_condition_key_table -- --ignored --nocapture`"
    );
}

/// Prints the guide's table from the code's.
#[test]
#[ignore = "prints docs/guide.md's condition-key table"]
fn print_condition_key_table() {
    println!("| Key | Source | From |");
    println!("|---|---|---|");
    for row in KEYS {
        println!("| `{}` | {} | {} |", row.key, row.source.as_str(), row.from);
    }
}

#[test]
fn a_key_of_another_service_is_absent_not_unknown() {
    // aws-samples data-perimeter-policy-examples, resource_perimeter_scp:
    // `ec2:Owner` beside `aws:ResourceOrgID` under StringNotEqualsIfExists.
    // Service Authorization Reference ("Actions, resources, and condition
    // keys for Amazon S3" / "... for AWS Key Management Service" / "... for
    // AWS Security Token Service"): a request carries the global keys and
    // the keys of its own service, never an `ec2:` key.
    let case = Case::default();
    for on in [On::Bucket, On::Object, On::Put, On::Key, On::Role] {
        let context = context_of(&case, on);
        assert_eq!(context.get("ec2:Owner"), &ContextValue::Absent);
        assert_eq!(context.get("EC2:ResourceTag/x"), &ContextValue::Absent);
        // Global keys and the request's own service keep the table's rule.
        assert_eq!(context.get("aws:SomeFutureKey"), &ContextValue::Unknown);
        // Lambda Developer Guide, "Using source function ARN to control
        // function access behavior": on every request made with a
        // function's credentials, whatever the service.
        assert_eq!(
            context.get("lambda:SourceFunctionArn"),
            &ContextValue::Unknown
        );
    }
    assert_eq!(
        context_of(&case, On::Object).get("s3:SomeFutureKey"),
        &ContextValue::Unknown
    );
    assert_eq!(
        context_of(&case, On::Key).get("kms:SomeFutureKey"),
        &ContextValue::Unknown
    );
    assert_eq!(
        context_of(&case, On::Role).get("s3:x-amz-acl"),
        &ContextValue::Absent
    );
}

#[test]
fn s3_headers_given_do_not_reach_the_kms_call() {
    // Service Authorization Reference, "Actions, resources, and condition
    // keys for AWS Key Management Service": kms:Decrypt and
    // kms:GenerateDataKey list no `s3:` key, so the headers of the S3
    // request are not in the KMS request S3 makes for the caller.
    let case = Case {
        context: &[
            ("s3:x-amz-server-side-encryption", "aws:kms"),
            ("s3:x-amz-server-side-encryption-aws-kms-key-id", KEY_ARN),
            ("ec2:Owner", "amazon"),
        ],
        ..Case::default()
    };
    let s3 = context_of(&case, On::Put);
    assert_eq!(
        s3.get("s3:x-amz-server-side-encryption"),
        &present("aws:kms")
    );
    let kms = context_of(&case, On::Key);
    assert_eq!(
        kms.get("s3:x-amz-server-side-encryption"),
        &ContextValue::Absent
    );
    assert_eq!(
        kms.get("s3:x-amz-server-side-encryption-aws-kms-key-id"),
        &ContextValue::Absent
    );
    // Nor what the tool derives for the S3 request.
    assert_eq!(kms.get("s3:signatureversion"), &ContextValue::Absent);
    // A key of another service given is not in the S3 request either.
    assert_eq!(s3.get("ec2:Owner"), &ContextValue::Absent);
    assert!(kms.iter().all(|(key, _)| !key.starts_with("s3:")));
}

#[test]
fn a_service_calling_for_the_caller_sets_called_via_only_when_documented() {
    let network = [
        ("aws:SourceVpce", "vpce-1a2b3c4d"),
        ("aws:SourceIp", "203.0.113.7"),
    ];
    let athena = Case {
        via_service: Some("athena.amazonaws.com"),
        context: &network,
        ..Case::default()
    };
    let context = context_of(&athena, On::Object);
    assert_eq!(
        context.get("aws:CalledVia"),
        &ContextValue::Present(vec!["athena.amazonaws.com".to_string()])
    );
    assert_eq!(
        context.get("aws:CalledViaFirst"),
        &present("athena.amazonaws.com")
    );
    assert_eq!(context.get("aws:ViaAWSService"), &present("true"));
    // The caller's endpoint does not reach the service's request; the
    // caller's address, given, is kept.
    assert_eq!(context.get("aws:SourceVpce"), &ContextValue::Absent);
    assert_eq!(context.get("aws:SourceIp"), &present("203.0.113.7"));
    // S3's own call to KMS on top: what the chain holds then is unknown.
    assert_eq!(
        context_of(&athena, On::Key).get("aws:CalledVia"),
        &ContextValue::Unknown
    );

    let glue = Case {
        via_service: Some("glue.amazonaws.com"),
        ..Case::default()
    };
    let context = context_of(&glue, On::Object);
    assert_eq!(context.get("aws:CalledVia"), &ContextValue::Unknown);
    assert_eq!(context.get("aws:ViaAWSService"), &present("true"));
    assert_eq!(context.get("aws:SourceIp"), &ContextValue::Unknown);

    let direct = context_of(&Case::default(), On::Object);
    assert_eq!(direct.get("aws:CalledVia"), &ContextValue::Absent);
    assert_eq!(direct.get("aws:ViaAWSService"), &present("false"));
    assert_eq!(
        context_of(&Case::default(), On::Key).get("aws:CalledVia"),
        &ContextValue::Absent
    );
}

#[test]
fn the_signature_age_is_absent_for_header_signing_and_unknown_for_a_presigned_url() {
    let header = context_of(&Case::default(), On::Object);
    assert_eq!(header.get("s3:authType"), &present("REST-HEADER"));
    assert_eq!(header.get("s3:signatureAge"), &ContextValue::Absent);
    let presigned = Case {
        context: &[("s3:authType", "REST-QUERY-STRING")],
        ..Case::default()
    };
    let context = context_of(&presigned, On::Object);
    assert_eq!(context.get("s3:authType"), &present("REST-QUERY-STRING"));
    assert_eq!(context.get("s3:signatureAge"), &ContextValue::Unknown);
}

#[test]
fn the_time_keys_are_the_requests_time_in_utc_to_the_second() {
    // IAM User Guide, "aws:CurrentTime" (ISO 8601) and "aws:EpochTime".
    let context = context_of(&Case::default(), On::Object);
    assert_eq!(
        context.get("aws:CurrentTime"),
        &present("2026-12-01T12:00:00Z")
    );
    assert_eq!(context.get("aws:EpochTime"), &present("1796126400"));
}
