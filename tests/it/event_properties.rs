//! Properties of reading CloudTrail records: any text and any value in any
//! field of a record is read without panicking, and a request read from a
//! record reads the same from every envelope and from the record repeated.

use kms_s3_doctor::event;
use proptest::prelude::*;
use serde_json::{Value, json};

/// A JSON value of the kinds a hostile or truncated record holds.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|number| json!(number)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!("s3.amazonaws.com")),
        Just(json!("kms.amazonaws.com")),
        Just(json!("GetObject")),
        Just(json!("Decrypt")),
        Just(json!("AssumedRole")),
        Just(json!("AWSAccount")),
        Just(json!("10.0.1.25")),
        Just(json!("arn:aws:s3:::b/k")),
        Just(json!("arn:aws:s3:::b")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z:]{1,10}", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A documented S3 GetObject record (S3 User Guide, "Logging Amazon S3 API
/// calls using AWS CloudTrail").
fn record() -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/Alice", "accountId": "111122223333"},
        "eventTime": "2026-03-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "requestParameters": {"bucketName": "reports", "key": "q1/summary.csv"},
        "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::reports/q1/summary.csv"}],
        "eventID": "E1"
    })
}

const FIELDS: &[&str] = &[
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "vpcEndpointId",
    "tlsDetails",
    "requestParameters",
    "resources",
    "eventID",
];

proptest! {
    #[test]
    fn any_text_is_read_or_refused_without_panicking(text in ".{0,200}") {
        let _ = event::read("fuzz.json", &text);
    }

    #[test]
    fn any_value_in_any_field_is_read_or_refused(
        field in prop::sample::select(FIELDS),
        value in any_value(),
    ) {
        let mut record = record();
        record[field] = value;
        let text = record.to_string();
        if let Ok(requests) = event::read("fuzz.json", &text) {
            for request in &requests {
                // Every request read names exactly one operation.
                prop_assert_eq!(request.operations.len(), 1);
            }
            // The same record in a trail file, twice (a retry), is the same
            // one request.
            let twice = json!({"Records": [record.clone(), record]}).to_string();
            let again = event::read("fuzz.json", &twice).map_err(|error| {
                TestCaseError::fail(error.0)
            })?;
            prop_assert_eq!(again.len(), 1);
            prop_assert_eq!(&again[0].context, &requests[0].context);
        }
    }
}
