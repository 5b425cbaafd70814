//! Whether a bucket (or access point) policy is *public* as S3's Block
//! Public Access reads it. S3 API Reference, "PublicAccessBlockConfiguration"
//! (and S3 User Guide, "Blocking public access to your Amazon S3 storage",
//! "The meaning of public"): S3 considers a bucket policy public unless
//! every grant is limited to fixed values (no wildcard, no policy variable)
//! of a principal, or of one of a documented list of condition keys.
//!
//! Read from each statement's canonical form, so that the rule depends only
//! on what the document says, never on a request.

use serde_json::Value;

use super::logic::or;
use super::{Effect, Policy, Statement, Tri};

/// Condition keys whose fixed values make a statement that names any
/// principal non-public (S3 API Reference, "PublicAccessBlockConfiguration":
/// a fixed `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`,
/// `aws:SourceOwner`, `aws:SourceAccount`,
/// `s3:x-amz-server-side-encryption-aws-kms-key-id`, `aws:userid` outside the
/// pattern `AROLEID:*`, and a set of CIDRs in `aws:SourceIp`).
const LIMITING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
    "aws:sourceip",
];

/// Keys that pin who may call with a fixed value but that the API
/// Reference's list does not name. Whether S3 counts them is a reading the
/// tool will not choose: a statement limited only by them is of unknown
/// publicness, never non-public.
const UNLISTED_PINNING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Operators that limit a key to the values listed. A negated operator, an
/// `...IfExists` one (met when the key is absent) or a set operator does not.
const LIMITING_OPERATORS: &[&str] = &[
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
];

/// One Allow statement's publicness and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicStatement {
    pub index: usize,
    pub sid: Option<String>,
    /// `Yes`: public; `Unknown`: AWS's documentation leaves it open.
    pub public: Tri,
    pub why: String,
}

/// The policy's publicness: `Yes` when any Allow statement is public, `No`
/// when none is or may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publicness {
    pub public: Tri,
    /// The statements that are public or may be, in document order.
    pub statements: Vec<PublicStatement>,
}

/// Judges every Allow statement of `policy`.
pub fn publicness(policy: &Policy) -> Publicness {
    let mut public = Tri::No;
    let mut statements = Vec::new();
    for statement in policy.statements() {
        if statement.effect() != Effect::Allow {
            continue;
        }
        let (verdict, why) = statement_publicness(statement);
        public = or(public, verdict);
        if verdict != Tri::No {
            statements.push(PublicStatement {
                index: statement.index(),
                sid: statement.sid().map(str::to_string),
                public: verdict,
                why,
            });
        }
    }
    Publicness { public, statements }
}

fn statement_publicness(statement: &Statement) -> (Tri, String) {
    let value = statement.to_value();
    let Some((element, principal)) = statement.principal_element() else {
        // No principal: an identity-style statement grants no one through
        // a resource policy.
        return (Tri::No, String::new());
    };
    if element == "NotPrincipal" {
        return (
            Tri::Yes,
            "an Allow with `NotPrincipal` grants everyone not listed".to_string(),
        );
    }
    if !names_any_principal(&principal) {
        return (Tri::No, String::new());
    }
    let conditions = value.get("Condition").and_then(Value::as_object);
    let mut unlisted = None;
    for (operator, keys) in conditions.into_iter().flatten() {
        let operator = operator.to_ascii_lowercase();
        let Some(keys) = keys.as_object() else {
            continue;
        };
        for (key, values) in keys {
            let key = key.to_ascii_lowercase();
            let limiting_operator = LIMITING_OPERATORS.contains(&operator.as_str());
            if !limiting_operator || !all_fixed(values) {
                continue;
            }
            if LIMITING_KEYS.contains(&key.as_str()) {
                if key == "aws:sourceip" && (operator != "ipaddress" || any_open_range(values)) {
                    // A range as wide as the whole address space limits
                    // nothing; the documents do not say where "a set of
                    // CIDRs" stops, so such a range leaves it open.
                    unlisted.get_or_insert(key.clone());
                    continue;
                }
                return (Tri::No, String::new());
            }
            if UNLISTED_PINNING_KEYS.contains(&key.as_str()) {
                unlisted.get_or_insert(key);
            }
        }
    }
    if let Some(key) = unlisted {
        return (
            Tri::Unknown,
            format!(
                "it grants any principal limited by `{key}`, which AWS's list of fixed values that make a policy non-public does not name"
            ),
        );
    }
    if !grants_bad_action(&value) {
        return (
            Tri::Unknown,
            "it grants any principal only actions outside AWS's list of actions that expose data (s3:Get*, s3:List*, s3:Put*, s3:Delete*, s3:AbortMultipartUpload, s3:RestoreObject)".to_string(),
        );
    }
    (
        Tri::Yes,
        "it grants any principal (`*`) without a fixed-value condition on the caller's source (aws:SourceVpce, aws:SourceIp, aws:SourceAccount, ...)".to_string(),
    )
}

/// A principal element that names anyone: `*`, or a wildcard or variable
/// in any of its values.
fn names_any_principal(principal: &Value) -> bool {
    match principal {
        Value::String(text) => !is_fixed(text),
        Value::Object(map) => map.values().any(|values| match values {
            Value::String(text) => !is_fixed(text),
            Value::Array(items) => items
                .iter()
                .any(|item| item.as_str().is_none_or(|text| !is_fixed(text))),
            _ => true,
        }),
        _ => true,
    }
}

fn is_fixed(text: &str) -> bool {
    !text.contains('*') && !text.contains('?') && !text.contains("${")
}

fn all_fixed(values: &Value) -> bool {
    let items: Vec<&Value> = match values {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    !items.is_empty() && items.iter().all(|item| item.as_str().is_some_and(is_fixed))
}

fn any_open_range(values: &Value) -> bool {
    let items: Vec<&Value> = match values {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    items
        .iter()
        .any(|item| item.as_str().is_some_and(|cidr| cidr.ends_with("/0")))
}

/// Whether the statement may grant one of the actions AWS calls "bad": those
/// that expose the data to public reads or writes.
fn grants_bad_action(statement: &Value) -> bool {
    if statement.get("NotAction").is_some() {
        return true;
    }
    let Some(actions) = statement.get("Action").and_then(Value::as_array) else {
        return true;
    };
    actions.iter().any(|action| {
        let Some(action) = action.as_str() else {
            return true;
        };
        let action = action.to_ascii_lowercase();
        let Some(name) = action.strip_prefix("s3:") else {
            return action == "*" || action.starts_with('*');
        };
        name.contains('*')
            || name.contains('?')
            || ["get", "list", "delete", "put"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
            || name == "abortmultipartupload"
            || name == "restoreobject"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(statement: Value) -> Tri {
        let policy = Policy::parse_value(
            "bucket policy",
            &json!({"Version": "2012-10-17", "Statement": [statement]}),
        )
        .unwrap();
        publicness(&policy).public
    }

    fn star(condition: Option<Value>) -> Value {
        let mut statement = json!({
            "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"
        });
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        statement
    }

    // S3 API Reference, "PublicAccessBlockConfiguration": the documented
    // list of fixed values that make a policy non-public.
    #[test]
    fn a_principal_wildcard_is_public_unless_a_listed_key_has_a_fixed_value() {
        assert_eq!(of(star(None)), Tri::Yes);
        assert_eq!(
            of(star(Some(
                json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
            ))),
            Tri::No
        );
        assert_eq!(
            of(star(Some(
                json!({"StringEquals": {"aws:SourceAccount": "111111111111"}})
            ))),
            Tri::No
        );
        assert_eq!(
            of(star(Some(
                json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
            ))),
            Tri::No
        );
        assert_eq!(
            of(star(Some(
                json!({"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::111111111111:distribution/*"}})
            ))),
            Tri::Yes
        );
        assert_eq!(
            of(star(Some(
                json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
            ))),
            Tri::Yes
        );
        assert_eq!(
            of(star(Some(
                json!({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
            ))),
            Tri::Yes
        );
        assert_eq!(
            of(star(Some(
                json!({"StringEquals": {"aws:SourceVpce": "${aws:username}"}})
            ))),
            Tri::Yes
        );
    }

    #[test]
    fn fixed_principals_are_not_public_and_not_principal_is() {
        let named = json!({
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"
        });
        assert_eq!(of(named), Tri::No);
        let any_aws = json!({
            "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"
        });
        assert_eq!(of(any_aws), Tri::Yes);
        let not_principal = json!({
            "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"
        });
        assert_eq!(of(not_principal), Tri::Yes);
        let deny = json!({
            "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"
        });
        assert_eq!(of(deny), Tri::No);
    }

    #[test]
    fn keys_the_list_does_not_name_and_open_ranges_leave_it_unknown() {
        assert_eq!(
            of(star(Some(
                json!({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
            ))),
            Tri::Unknown
        );
        assert_eq!(
            of(star(Some(
                json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})
            ))),
            Tri::Unknown
        );
    }
}
