//! Near-valid snapshots, built from the fuzzer's bytes by a structured
//! generator (`arbitrary`'s `Unstructured`), through the whole loader and
//! the judge and the human renderers: nothing may panic, a loaded snapshot
//! must judge, and a report must never carry a raw control character.
//! Every choice is drawn from pools of valid values mixed with the sloppy
//! ones users write (enumerations misspelt, malformed CIDRs and dates, other
//! partitions, duplicate entries), so most inputs get deep into the judge.

#![no_main]

use arbitrary::{Result, Unstructured};
use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report;
use kms_s3_doctor::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::222222222222:user/dilip",
    "arn:aws:iam::111111111111:role/app/etl",
    "arn:aws:sts::111111111111:assumed-role/etl/s1",
    "arn:aws-cn:iam::222222222222:user/dilip",
    "222222222222",
    "*",
    "arn:aws:iam::222222222222:root",
    "arn:aws:iam:eu-west-1:222222222222:root",
];
const ACTIONS: &[&str] = &[
    "s3:GetObject", "s3:PutObject", "s3:*", "*", "kms:Decrypt", "kms:GenerateDataKey",
    "kms:*", "s3:ListBucket", "sts:AssumeRole", "S3:getobject",
];
const RESOURCES: &[&str] = &[
    "*", "arn:aws:s3:::b/*", "arn:aws:s3:::b", KEY, "arn:aws:s3:::b/${aws:username}/*",
];
const CONDITIONS: &[(&str, &str, &str)] = &[
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
    ("IpAddress", "aws:SourceIp", "203.0.113.0/33"),
    ("NotIpAddress", "aws:SourceIp", "not-a-cidr"),
    ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),
    ("DateGreaterThan", "aws:CurrentTime", "tomorrow"),
    ("NumericLessThan", "s3:max-keys", "10"),
    ("NumericLessThan", "s3:max-keys", "ten"),
    ("StringEquals", "kms:ViaService", "s3.eu-west-1.amazonaws.com"),
    ("Bool", "aws:SecureTransport", "false"),
    ("StringEquals", "aws:PrincipalOrgID", "o-abc"),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"),
    ("Null", "s3:x-amz-acl", "true"),
];
const ALGORITHMS: &[&str] = &["aws:kms", "aws:kms:dsse", "AES256", "AWS:KMS", "kms", ""];
const STATES: &[&str] = &["Enabled", "Disabled", "PendingDeletion", "enabled"];
const OWNERSHIPS: &[&str] = &["BucketOwnerEnforced", "ObjectWriter", "bucketownerenforced"];

fn pick<'a>(u: &mut Unstructured<'_>, pool: &[&'a str]) -> Result<&'a str> {
    Ok(*u.choose(pool)?)
}

fn statement(u: &mut Unstructured<'_>, resource_policy: bool) -> Result<Value> {
    let mut statement = serde_json::Map::new();
    if u.arbitrary()? {
        statement.insert("Sid".into(), json!(format!("s\u{1b}[31m{}", u.int_in_range(0..=9)?)));
    }
    let effect = if u.ratio(1, 3)? { "Deny" } else { "Allow" };
    statement.insert("Effect".into(), json!(effect));
    if resource_policy {
        let key = if u.ratio(1, 8)? { "NotPrincipal" } else { "Principal" };
        let principal = pick(u, PRINCIPALS)?;
        let value = if principal == "*" && u.arbitrary()? { json!("*") } else { json!({"AWS": principal}) };
        statement.insert(key.into(), value);
    }
    let action_key = if u.ratio(1, 8)? { "NotAction" } else { "Action" };
    statement.insert(action_key.into(), json!([pick(u, ACTIONS)?, pick(u, ACTIONS)?]));
    statement.insert("Resource".into(), json!(pick(u, RESOURCES)?));
    if u.arbitrary()? {
        let (operator, key, value) = *u.choose(CONDITIONS)?;
        statement.insert("Condition".into(), json!({operator: {key: value}}));
    }
    Ok(Value::Object(statement))
}

fn policy(u: &mut Unstructured<'_>, resource_policy: bool) -> Result<Value> {
    let count = u.int_in_range(0..=4)?;
    let statements = (0..count)
        .map(|_| statement(u, resource_policy))
        .collect::<Result<Vec<_>>>()?;
    let document = json!({"Version": "2012-10-17", "Statement": statements});
    // As IAM returns it (URL-encoded text), as text, or as an object.
    Ok(match u.int_in_range(0..=2)? {
        0 => json!(document.to_string()),
        1 => json!(percent_encode(&document.to_string())),
        _ => document,
    })
}

fn percent_encode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

/// A field that is known, none (`null`) or unknown (left out).
fn field(u: &mut Unstructured<'_>, map: &mut serde_json::Map<String, Value>, name: &str, value: Value) -> Result<()> {
    match u.int_in_range(0..=3)? {
        0 => {}
        1 => {
            map.insert(name.into(), Value::Null);
        }
        _ => {
            map.insert(name.into(), value);
        }
    }
    Ok(())
}

fn snapshot(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut bucket = serde_json::Map::new();
    bucket.insert("name".into(), json!("b"));
    bucket.insert("account".into(), json!("111111111111"));
    if u.arbitrary()? {
        bucket.insert("region".into(), json!("eu-west-1"));
    }
    let bucket_policy = policy(u, true)?;
    field(u, &mut bucket, "policy", bucket_policy)?;
    let algorithm = pick(u, ALGORITHMS)?;
    field(u, &mut bucket, "encryption", json!({"algorithm": algorithm, "key": KEY}))?;
    let ownership = pick(u, OWNERSHIPS)?;
    field(u, &mut bucket, "ownership", json!(ownership))?;
    bucket.insert(
        "objects".into(),
        json!([{"key": "k\u{1b}]0;x\u{7}", "owner": "111111111111", "encryption": {"algorithm": "aws:kms", "key": KEY}}]),
    );
    let mut key = serde_json::Map::new();
    key.insert("arn".into(), json!(KEY));
    key.insert("manager".into(), json!(if u.arbitrary()? { "CUSTOMER" } else { "AWS" }));
    let state = pick(u, STATES)?;
    field(u, &mut key, "state", json!(state))?;
    let key_policy = policy(u, true)?;
    field(u, &mut key, "policy", key_policy)?;
    field(
        u,
        &mut key,
        "grants",
        json!([{"grantee": "arn:aws:iam::222222222222:user/dilip", "operations": ["Decrypt"]}]),
    )?;
    let mut principal = serde_json::Map::new();
    principal.insert("arn".into(), json!("arn:aws:iam::222222222222:user/dilip"));
    let identity = policy(u, false)?;
    field(u, &mut principal, "policies", json!([{"name": "p", "kind": "inline", "document": identity}]))?;
    let boundary = policy(u, false)?;
    field(u, &mut principal, "permissions_boundary", json!({"name": "b", "document": boundary}))?;
    let mut buckets = vec![Value::Object(bucket)];
    if u.ratio(1, 16)? {
        buckets.push(buckets[0].clone());
    }
    let mut account = serde_json::Map::new();
    let scp = policy(u, false)?;
    field(u, &mut account, "scps", json!([[{"name": "s", "document": scp}]]))?;
    field(u, &mut account, "org_id", json!("o-abc"))?;
    Ok(json!({
        "format": "kms-s3-doctor/snapshot@1",
        "accounts": {"222222222222": account, "111111111111": {"scps": null, "rcps": null}},
        "buckets": buckets,
        "keys": [key],
        "principals": [principal],
    }))
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let value = snapshot(u)?;
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let Ok(loaded) = Snapshot::parse("fuzz.json", &text) else {
        return Ok(());
    };
    let operations = [Operation::Get, Operation::Put, Operation::List, Operation::Copy];
    let request = CheckRequest {
        access_point: None,
        bucket: "b".into(),
        object: Some("k\u{1b}]0;x\u{7}".into()),
        principal: pick(u, &PRINCIPALS[..5])?.to_string(),
        via_role: None,
        external_id: None,
        operations: vec![*u.choose(&operations)?],
        context: Vec::new(),
        via_service: None,
        unknown_context: Vec::new(),
        now: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
    };
    let Ok(mut diagnosis) = pipeline::judge_and_fix(&loaded, &request) else {
        return Ok(());
    };
    loaded.locate_evidence("fuzz.json", &text, &mut diagnosis);
    for markdown in [false, true] {
        let mut out = Vec::new();
        let written = if markdown {
            report::render_markdown(&diagnosis, &mut out)
        } else {
            report::render_text(&diagnosis, &mut out, false)
        };
        assert!(written.is_ok());
        let rendered = String::from_utf8_lossy(&out);
        assert!(
            !rendered.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached a report"
        );
    }
    let _ = report::render_json(&diagnosis);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
