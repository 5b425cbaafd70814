//! Reading a pasted CloudTrail record (alone, in `{"Records": [...]}`, as an
//! EventBridge event or as `aws cloudtrail lookup-events` output): the
//! record is the request itself, so `explain` names what it proves and
//! hands it to `check --event`, which judges it ([`crate::event`] reads it
//! the same way for both).

use serde_json::Value;

use super::MessageKind;
use super::parse::{Direction, Parsed, Transfer};
use crate::diagnosis::Operation;

/// What the pasted record says beyond [`Parsed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedRecord {
    /// The whole pasted JSON, for `check --event`.
    pub json: String,
    /// How many distinct S3 requests it holds.
    pub requests: usize,
    /// The record's `errorCode` and `errorMessage`, when it failed.
    pub error_message: Option<String>,
}

/// The record in `text` (a shell prompt may come before the JSON).
pub(super) fn parse(text: &str) -> Option<Parsed> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let json = text.get(start..=end)?;
    let value: Value = serde_json::from_str(json).ok()?;
    let looks_like_trail = ["eventSource", "Records", "Events", "detail-type"]
        .iter()
        .any(|key| value.get(key).is_some());
    if !looks_like_trail {
        return None;
    }
    let requests = crate::event::read("the pasted record", json).ok()?;
    let first = requests.first()?;
    let record = first_record(&value)?;
    let field = |name: &str| {
        record
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    let operation = first.operations.first().copied();
    let api_operation = match field("eventSource").as_deref() {
        Some("s3.amazonaws.com") => field("eventName"),
        // S3's call to KMS stands for the S3 request it served.
        _ => operation.map(|operation| {
            match operation {
                Operation::Put => "PutObject",
                _ => "GetObject",
            }
            .to_string()
        }),
    };
    let direction = match operation {
        Some(Operation::Put | Operation::Multipart) => Direction::Upload,
        Some(Operation::Copy) => Direction::Copy,
        _ => Direction::Download,
    };
    Some(Parsed {
        kind: MessageKind::CloudTrailRecord,
        error_code: field("errorCode"),
        principal: first.principal.clone(),
        api_operation,
        request_id: field("requestID"),
        transfer: first.bucket.clone().map(|bucket| Transfer {
            direction,
            bucket,
            key: first.object.clone(),
        }),
        record: Some(PastedRecord {
            json: json.to_string(),
            requests: requests.len(),
            error_message: field("errorMessage"),
        }),
        ..Parsed::default()
    })
}

/// The first S3 or KMS record of any envelope.
fn first_record(value: &Value) -> Option<Value> {
    let candidates: Vec<Value> =
        if let Some(records) = value.get("Records").and_then(Value::as_array) {
            records.clone()
        } else if let Some(events) = value.get("Events").and_then(Value::as_array) {
            events
                .iter()
                .filter_map(|event| event.get("CloudTrailEvent")?.as_str())
                .filter_map(|text| serde_json::from_str(text).ok())
                .collect()
        } else if let Some(detail) = value.get("detail") {
            vec![detail.clone()]
        } else {
            vec![value.clone()]
        };
    candidates.into_iter().find(|record| {
        matches!(
            record.get("eventSource").and_then(Value::as_str),
            Some("s3.amazonaws.com" | "kms.amazonaws.com")
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{MessageKind, explain};

    const RECORD: &str = include_str!("../../fixtures/events/trail-file-get-from-internet.json");

    #[test]
    fn a_pasted_record_names_its_request_and_the_check_event_command() {
        let got = explain(&format!("$ cat record.json\n{RECORD}"));
        assert_eq!(got.kind, MessageKind::CloudTrailRecord);
        assert_eq!(got.bucket.as_deref(), Some("account-a-bucket"));
        assert_eq!(got.object.as_deref(), Some("reports/data.csv"));
        assert_eq!(got.api_operation.as_deref(), Some("GetObject"));
        assert_eq!(got.error_code.as_deref(), Some("AccessDenied"));
        assert!(got.record.is_some());
        let command = got.command.unwrap();
        assert!(command.contains("check --event"), "{command}");
    }

    #[test]
    fn json_that_is_no_record_is_not_taken_for_one() {
        let got = explain("{\"message\": \"Access Denied\"}");
        assert_ne!(got.kind, MessageKind::CloudTrailRecord);
    }
}
