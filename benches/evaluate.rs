//! Statement evaluations per second for realistic documents: a 20-statement
//! bucket policy with conditions, a KMS key policy and five identity
//! policies, evaluated for one caller and request (target: at least
//! 2,000,000 statement evaluations per second on one core).

// A benchmark aborts on a broken fixture; that is what a panic is for here.
#![allow(clippy::panic)]

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use kms_s3_doctor::policy::context::RequestContext;
use kms_s3_doctor::policy::{Caller, Evaluation, Policy, Request};
use serde_json::{Value, json};

const BUCKET: &str = "arn:aws:s3:::account-a-bucket";

fn bucket_policy() -> Policy {
    let mut statements: Vec<Value> = vec![
        json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
               "Resource": [BUCKET, format!("{BUCKET}/*")],
               "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        json!({"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
               "Resource": format!("{BUCKET}/*"),
               "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}),
        json!({"Sid": "DenyOutsideOrg", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
               "Resource": format!("{BUCKET}/*"),
               "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"},
                             "Bool": {"aws:PrincipalIsAWSService": "false"}}}),
        json!({"Sid": "AllowVpce", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/etl"},
               "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [BUCKET, format!("{BUCKET}/*")],
               "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-5e6f7a8b"]}}}),
        json!({"Sid": "AllowOffice", "Effect": "Allow", "Principal": {"AWS": "222222222222"},
               "Action": "s3:GetObject", "Resource": format!("{BUCKET}/reports/*"),
               "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}}),
    ];
    for index in 0..15 {
        statements.push(json!({
            "Sid": format!("Team{index}"),
            "Effect": "Allow",
            "Principal": {"AWS": [format!("arn:aws:iam::3333333333{:02}:root", index), "arn:aws:iam::222222222222:user/dilip"]},
            "Action": ["s3:GetObject", "s3:PutObject", "s3:List*"],
            "Resource": [format!("{BUCKET}/team-{index}/${{aws:username}}/*"), format!("{BUCKET}/shared/*")],
            "Condition": {
                "StringLike": {"s3:prefix": ["team-*/", "shared/*"]},
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                "ForAnyValue:StringEquals": {"aws:PrincipalTag/team": ["data", format!("t{index}")]}
            }
        }));
    }
    Policy::parse_value(
        "bucket policy",
        &json!({"Version": "2012-10-17", "Statement": statements}),
    )
    .unwrap_or_else(|error| panic!("{error}"))
}

fn key_policy() -> Policy {
    let text = r#"{
      "Version": "2012-10-17",
      "Id": "key-consolepolicy-3",
      "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111111111111:role/KMSAdmins"},
         "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
         "Resource": "*"},
        {"Sid": "Allow use of the key", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::111111111111:role/app"]},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}},
        {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111111111111:role/app"},
         "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
      ]
    }"#;
    Policy::parse_text("key policy", text).unwrap_or_else(|error| panic!("{error}"))
}

fn identity_policies() -> Vec<Policy> {
    (0..5)
        .map(|index| {
            let document = json!({
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                     "Resource": [BUCKET, format!("{BUCKET}/*")]},
                    {"Sid": "Keys", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                     "Resource": "arn:aws:kms:*:111111111111:key/*",
                     "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
                    {"Sid": "NoDelete", "Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*", "kms:*"],
                     "Resource": "*"},
                    {"Sid": format!("Other{index}"), "Effect": "Allow", "Action": "dynamodb:*",
                     "Resource": format!("arn:aws:dynamodb:eu-west-1:222222222222:table/t{index}")}
                ]
            });
            Policy::parse_value(&format!("identity policy {index}"), &document)
                .unwrap_or_else(|error| panic!("{error}"))
        })
        .collect()
}

fn context() -> RequestContext {
    let mut context = RequestContext::new();
    context.set("aws:SecureTransport", "true");
    context.set("aws:CurrentTime", "2026-11-22T10:00:00Z");
    context.set("aws:username", "dilip");
    context.set("aws:PrincipalOrgID", "o-abc123");
    context.set("aws:PrincipalIsAWSService", "false");
    context.set_values("aws:PrincipalTag/team", vec!["data".into()]);
    context.set("kms:ViaService", "s3.eu-west-1.amazonaws.com");
    context.set_unknown("aws:SourceIp");
    context.set_unknown("aws:SourceVpce");
    context
}

fn caller() -> Caller {
    Caller {
        account: "222222222222".into(),
        principal_arn: "arn:aws:iam::222222222222:user/dilip".into(),
        session_arn: None,
        is_role_session: false,
        service: None,
        has_permissions_boundary: false,
    }
}

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let bucket = bucket_policy();
    let key = key_policy();
    let identities = identity_policies();
    let context = context();
    let caller = caller();
    let object = format!("{BUCKET}/team-3/dilip/data.csv");
    let key_arn = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    let s3_request = Request {
        action: "s3:GetObject",
        resource: &object,
        caller: &caller,
        context: &context,
    };
    let kms_request = Request {
        action: "kms:Decrypt",
        resource: key_arn,
        caller: &caller,
        context: &context,
    };

    let mut group = c.benchmark_group("statements");
    let count = |policies: &[&Policy]| -> u64 {
        policies
            .iter()
            .map(|policy| policy.statements().len() as u64)
            .sum()
    };

    group.throughput(Throughput::Elements(count(&[&bucket])));
    group.bench_function("bucket policy, 20 statements", |b| {
        b.iter(|| black_box(bucket.evaluate(black_box(&s3_request))))
    });

    group.throughput(Throughput::Elements(count(&[&key])));
    group.bench_function("key policy", |b| {
        b.iter(|| black_box(key.evaluate(black_box(&kms_request))))
    });

    let identity_refs: Vec<&Policy> = identities.iter().collect();
    group.throughput(Throughput::Elements(count(&identity_refs)));
    group.bench_function("five identity policies", |b| {
        b.iter(|| black_box(Evaluation::of(identities.iter(), black_box(&s3_request)).decide()))
    });

    // One full decision: every document for the S3 action and the KMS action.
    let mut all: Vec<&Policy> = vec![&bucket, &key];
    all.extend(identities.iter());
    group.throughput(Throughput::Elements(2 * count(&all)));
    group.bench_function("decision, all documents, s3 + kms", |b| {
        b.iter(|| {
            let s3 = Evaluation::of(all.iter().copied(), black_box(&s3_request)).decide();
            let kms = Evaluation::of(all.iter().copied(), black_box(&kms_request)).decide();
            black_box((s3, kms))
        })
    });
    group.finish();

    let text = serde_json::to_string(&bucket.to_value()).unwrap_or_default();
    c.bench_function("parse bucket policy", |b| {
        b.iter(|| black_box(Policy::parse_text("bucket policy", black_box(&text))))
    });
}

fn main() {
    if cpu_time::wanted() {
        let mut criterion = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        bench(&mut criterion);
        criterion.final_summary();
    } else {
        let mut criterion = Criterion::default().configure_from_args();
        bench(&mut criterion);
        criterion.final_summary();
    }
}
