//! Reading the output of `aws sts decode-authorization-message` (STS API
//! Reference, "DecodeAuthorizationMessage"; IAM User Guide, "Use
//! DecodeAuthorizationMessage with a CLI"): `{"DecodedMessage": "..."}`
//! whose string is the decoded JSON, or that JSON itself (`--query
//! DecodedMessage --output text`). The decoded message says whether the
//! request was allowed, whether an explicit deny refused it, the
//! statements that matched (`matchedStatements.items[]`, with `statementId`
//! and `effect`), and the request's context: principal, action, resource
//! and condition keys (`context.conditions.items[]` of `key` and
//! `values.items[].value`). It does not say which kind of policy each
//! statement belongs to.

use serde_json::Value;

use super::parse::Parsed;
use super::{DenyKind, MessageKind};

/// What a decoded authorization message says, beyond [`Parsed`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedAuthorization {
    pub allowed: Option<bool>,
    pub explicit_deny: Option<bool>,
    /// `(statementId, effect)` of every matched statement, in order.
    pub matched_statements: Vec<(String, String)>,
    /// The request's condition keys and their values.
    pub conditions: Vec<(String, Vec<String>)>,
}

/// The decoded message in `text` (whitespace collapsed; a shell prompt and
/// the command line may come before the JSON).
pub(super) fn parse(text: &str) -> Option<Parsed> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let outer: Value = serde_json::from_str(text.get(start..=end)?).ok()?;
    let decoded: Value = match outer.get("DecodedMessage") {
        Some(Value::String(inner)) => serde_json::from_str(inner).ok()?,
        Some(Value::Object(_)) => outer.get("DecodedMessage")?.clone(),
        _ => outer,
    };
    let context = decoded.get("context")?;
    if decoded.get("allowed").is_none() && decoded.get("explicitDeny").is_none() {
        return None;
    }
    let items = |value: Option<&Value>| -> Vec<Value> {
        value
            .and_then(|value| value.get("items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let string = |value: &Value, key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    let matched_statements = items(decoded.get("matchedStatements"))
        .iter()
        .map(|statement| {
            (
                string(statement, "statementId").unwrap_or_else(|| "(no Sid)".to_string()),
                string(statement, "effect").unwrap_or_default(),
            )
        })
        .collect();
    let conditions = items(context.get("conditions"))
        .iter()
        .filter_map(|condition| {
            let key = string(condition, "key")?;
            let values = items(condition.get("values"))
                .iter()
                .filter_map(|value| string(value, "value"))
                .collect();
            Some((key, values))
        })
        .collect();
    let principal = context
        .get("principal")
        .and_then(|principal| string(principal, "arn"));
    let resource = string(context, "resource");
    // The example AWS shows gives the action without its service prefix
    // (`RunInstances`): the resource ARN's service supplies it.
    let action = string(context, "action").map(|action| {
        if action.contains(':') {
            return action;
        }
        let service = resource
            .as_deref()
            .and_then(|arn| arn.split(':').nth(2))
            .filter(|service| !service.is_empty());
        match service {
            Some(service) => format!("{service}:{action}"),
            None => action,
        }
    });
    let allowed = decoded.get("allowed").and_then(Value::as_bool);
    let explicit_deny = decoded.get("explicitDeny").and_then(Value::as_bool);
    Some(Parsed {
        kind: MessageKind::DecodedAuthorization,
        principal,
        action,
        resource,
        deny: match (allowed, explicit_deny) {
            (Some(true), _) => None,
            (_, Some(true)) => Some(DenyKind::Explicit),
            (_, Some(false)) => Some(DenyKind::Implicit),
            _ => None,
        },
        decoded: Some(DecodedAuthorization {
            allowed,
            explicit_deny,
            matched_statements,
            conditions,
        }),
        ..Parsed::default()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{DenyKind, MessageKind, explain};
    use crate::diagnosis::LinkId;

    /// The shape of the IAM User Guide's example, for an S3 request through
    /// a VPC endpoint refused by a bucket policy's Deny.
    fn decoded(explicit: bool) -> String {
        let matched = if explicit {
            vec![serde_json::json!({
                "statementId": "Access-to-specific-VPCE-only",
                "effect": "DENY",
                "principals": {"items": [{"value": "*"}]},
                "principalGroups": {"items": []},
                "actions": {"items": [{"value": "s3:*"}]},
                "resources": {"items": [{"value": "arn:aws:s3:::account-a-bucket/*"}]},
                "conditions": {"items": []}
            })]
        } else {
            Vec::new()
        };
        let inner = serde_json::json!({
            "allowed": false,
            "explicitDeny": explicit,
            "matchedStatements": {"items": matched},
            "failures": {"items": []},
            "context": {
                "principal": {"id": "AROA123456789EXAMPLE:run-7", "arn": "arn:aws:sts::222222222222:assumed-role/etl/run-7"},
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::account-a-bucket/reports/data.csv",
                "conditions": {"items": [
                    {"key": "aws:SourceVpce", "values": {"items": [{"value": "vpce-0other"}]}},
                    {"key": "aws:SecureTransport", "values": {"items": [{"value": "true"}]}}
                ]}
            }
        });
        serde_json::json!({"DecodedMessage": inner.to_string()}).to_string()
    }

    #[test]
    fn an_explicit_deny_names_the_statement_and_the_request_context() {
        let got = explain(&format!(
            "$ aws sts decode-authorization-message --encoded-message EXAMPLE\n{}",
            decoded(true)
        ));
        assert_eq!(got.kind, MessageKind::DecodedAuthorization);
        assert_eq!(got.deny, Some(DenyKind::Explicit));
        assert_eq!(got.bucket.as_deref(), Some("account-a-bucket"));
        assert_eq!(got.object.as_deref(), Some("reports/data.csv"));
        assert_eq!(got.suspects.first(), Some(&LinkId::BucketPolicy));
        let steps = got.next_steps.join("\n");
        assert!(steps.contains("Access-to-specific-VPCE-only"), "{steps}");
        let command = got.command.unwrap();
        assert!(
            command.contains("--context 'aws:SourceVpce=vpce-0other'"),
            "{command}"
        );
    }

    #[test]
    fn no_allow_and_an_action_without_service_prefix() {
        let inner = serde_json::json!({
            "allowed": false, "explicitDeny": false,
            "matchedStatements": {"items": []}, "failures": {"items": []},
            "context": {"principal": {"arn": "arn:aws:iam::222222222222:user/dilip"},
                "action": "Decrypt",
                "resource": "arn:aws:kms:eu-west-1:111111111111:key/k",
                "conditions": {"items": []}}
        });
        let got = explain(&inner.to_string());
        assert_eq!(got.action.as_deref(), Some("kms:Decrypt"));
        assert_eq!(got.deny, Some(DenyKind::Implicit));
        assert_eq!(got.suspects.first(), Some(&LinkId::KeyPolicy));
    }
}
