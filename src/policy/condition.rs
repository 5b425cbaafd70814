//! The `Condition` element: operators, the `IfExists` suffix, the
//! `ForAllValues:`/`ForAnyValue:` qualifiers, and their three-valued
//! evaluation against a request context.
//!
//! Rules taken from the IAM User Guide:
//! - "IAM JSON policy elements: Condition operators": a key absent from the
//!   request makes a condition false, except negated operators
//!   (`StringNotEquals`, `ArnNotLike`, ...) which are then true; `...IfExists`
//!   is true on an absent key; `Null` tests presence. Variables are allowed
//!   only with string, ARN and Bool operators (the variables page lists Bool
//!   among the operators that do not take them, the operators page says it
//!   does: we follow the operators page).
//! - "Creating a condition with multiple keys or values": several values of
//!   one key are ORed, several keys and operators are ANDed; `ForAllValues`
//!   is true when every request value matches some policy value (so true on
//!   an empty or absent key), `ForAnyValue` when at least one does (false on
//!   an empty or absent key).
//! - "IAM JSON policy elements: Condition": key names are case-insensitive.
//! - "IAM policy elements: Variables and tags", "Policy variables with no
//!   value": a value whose variable has no value is "effectively null. There
//!   is no equal or like value", so it matches no request value; a positive
//!   operator then does not match and "Inverted condition operators like
//!   `StringNotEquals` or `StringNotLike` do match against a null value".
//!   `...IfExists` is about the condition's own key only.

use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use ipnet::IpNet;

use crate::policy::context::{ContextValue, RequestContext};

use super::Tri;
use super::logic::{and, not, or};
use super::variables::{Resolution, Template};
use super::wildcard::Glob;

mod worlds;
pub(crate) use worlds::representatives;

/// The comparison of an operator, without negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Order),
    Date(Order),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Order {
    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Order::Eq => ordering == Equal,
            Order::Lt => ordering == Less,
            Order::Le => ordering != Greater,
            Order::Gt => ordering == Greater,
            Order::Ge => ordering != Less,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// A parsed operator name such as `ForAnyValue:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    compare: Compare,
    negated: bool,
    if_exists: bool,
    qualifier: Qualifier,
}

/// Every base operator of the reference, with its comparison and negation.
const OPERATORS: &[(&str, Compare, bool)] = &[
    ("StringEquals", Compare::StringEquals, false),
    ("StringNotEquals", Compare::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        Compare::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Compare::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", Compare::StringLike, false),
    ("StringNotLike", Compare::StringLike, true),
    ("NumericEquals", Compare::Numeric(Order::Eq), false),
    ("NumericNotEquals", Compare::Numeric(Order::Eq), true),
    ("NumericLessThan", Compare::Numeric(Order::Lt), false),
    ("NumericLessThanEquals", Compare::Numeric(Order::Le), false),
    ("NumericGreaterThan", Compare::Numeric(Order::Gt), false),
    (
        "NumericGreaterThanEquals",
        Compare::Numeric(Order::Ge),
        false,
    ),
    ("DateEquals", Compare::Date(Order::Eq), false),
    ("DateNotEquals", Compare::Date(Order::Eq), true),
    ("DateLessThan", Compare::Date(Order::Lt), false),
    ("DateLessThanEquals", Compare::Date(Order::Le), false),
    ("DateGreaterThan", Compare::Date(Order::Gt), false),
    ("DateGreaterThanEquals", Compare::Date(Order::Ge), false),
    ("Bool", Compare::Bool, false),
    ("BinaryEquals", Compare::Binary, false),
    ("IpAddress", Compare::Ip, false),
    ("NotIpAddress", Compare::Ip, true),
    ("ArnEquals", Compare::Arn, false),
    ("ArnLike", Compare::Arn, false),
    ("ArnNotEquals", Compare::Arn, true),
    ("ArnNotLike", Compare::Arn, true),
    ("Null", Compare::Null, false),
];

impl Operator {
    /// None for a name that is not in the reference.
    fn parse(name: &str) -> Option<Self> {
        let (qualifier, rest) = if let Some(rest) = strip_prefix_ci(name, "ForAllValues:") {
            (Qualifier::ForAllValues, rest)
        } else if let Some(rest) = strip_prefix_ci(name, "ForAnyValue:") {
            (Qualifier::ForAnyValue, rest)
        } else {
            (Qualifier::None, name)
        };
        let (base, if_exists) = match strip_suffix_ci(rest, "IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let &(_, compare, negated) = OPERATORS
            .iter()
            .find(|(known, _, _)| known.eq_ignore_ascii_case(base))?;
        // "You can add IfExists to the end of any condition operator name
        // except the Null condition".
        if compare == Compare::Null && if_exists {
            return None;
        }
        Some(Self {
            compare,
            negated,
            if_exists,
            qualifier,
        })
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn strip_suffix_ci<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..cut])
}

/// One policy value, prepared for its operator at parse time.
#[derive(Debug, Clone)]
enum Operand {
    /// String and Bool operators (may hold variables).
    Text(Template),
    /// `StringLike`: compiled once unless it holds variables. Boxed, as
    /// the ARN one: the common operands stay small.
    Like(Box<(Template, Option<Glob>)>),
    /// ARN operators: six segments matched separately.
    Arn(Box<(Template, Option<ArnPattern>)>),
    /// None when the policy value is not a number, date, CIDR or base64: it
    /// then matches nothing.
    Number(Option<f64>),
    Date(Option<i128>),
    Ip(Option<IpNet>),
    Binary(Option<Vec<u8>>),
    /// `Null`: true means "the key must be absent".
    Null(Option<bool>),
}

/// One operator applied to one key with its values.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    operator: Operator,
    /// Operator name as written (for serialisation).
    operator_name: String,
    /// Key as written.
    key: String,
    /// Values as written (JSON scalars), for serialisation: one compact
    /// JSON array text rather than a tree per value, as a large document
    /// holds conditions by the hundred thousand.
    raw_values: Box<str>,
    operands: Vec<Operand>,
}

/// Why a condition could not be built; the caller adds the JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConditionError {
    UnknownOperator,
    /// The value at this index is not of the operator's type (a CIDR that
    /// is not one, a date or number that does not parse): IAM refuses to
    /// store such a policy (`MalformedPolicy`), so it is bad input, never a
    /// condition that silently matches nothing.
    MalformedValue {
        index: usize,
        expected: &'static str,
    },
}

impl Condition {
    /// Builds one condition. `values` are the JSON scalars given for the key;
    /// `variables` says whether the policy version supports variables.
    pub(crate) fn new(
        operator_name: &str,
        key: &str,
        values: Vec<(String, serde_json::Value)>,
        variables: bool,
    ) -> Result<Self, ConditionError> {
        let operator = Operator::parse(operator_name).ok_or(ConditionError::UnknownOperator)?;
        let mut operands = Vec::with_capacity(values.len());
        let mut raw_values = Vec::with_capacity(values.len());
        for (index, (text, raw)) in values.into_iter().enumerate() {
            let operand = operand(operator.compare, &text, variables);
            if let Some(expected) = malformed(&operand) {
                return Err(ConditionError::MalformedValue { index, expected });
            }
            operands.push(operand);
            raw_values.push(raw);
        }
        Ok(Self {
            operator,
            operator_name: operator_name.to_string(),
            key: key.to_string(),
            raw_values: serde_json::Value::Array(raw_values)
                .to_string()
                .into_boxed_str(),
            operands,
        })
    }

    pub(crate) fn operator_name(&self) -> &str {
        &self.operator_name
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The values as written.
    pub(crate) fn raw_values(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.raw_values).unwrap_or_default()
    }

    /// Evaluates the condition. Unknown keys (the condition's key or a
    /// variable's) are pushed to `unknown` when the result is
    /// [`Tri::Unknown`]. Variables with no value (the keys as written) are
    /// pushed to `missing` when they decided the result: a positive operator
    /// that does not hold, or a negated one that holds.
    pub(crate) fn evaluate(
        &self,
        context: &RequestContext,
        unknown: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) -> Tri {
        let op = self.operator;
        let values = match context.get(&self.key) {
            ContextValue::Unknown => {
                unknown.push(self.key.clone());
                return Tri::Unknown;
            }
            ContextValue::Present(values) if !values.is_empty() => values,
            // Absent, or present with no value: an empty set.
            _ => return self.when_absent(),
        };
        if op.compare == Compare::Null {
            // The key exists: `Null: true` is false, `Null: false` is true.
            return or_all(self.operands.iter().map(|operand| match operand {
                Operand::Null(Some(wants_absent)) => tri(!wants_absent),
                _ => Tri::No,
            }));
        }
        if op.qualifier == Qualifier::None && (values.len() > 1 || is_multivalued_key(&self.key)) {
            // IAM User Guide, "Single-valued vs. multivalued context keys":
            // "Multivalued context keys require a condition set operator."
            // What a single-valued operator does with one is not given (any
            // value, every value, or no match are all readings), so a
            // result resting on it is unknown, never a match. A key absent
            // from the request is left to the documented absent-key rule.
            unknown.push(format!(
                "{}`{}` on the multivalued key `{}` without `ForAnyValue:` or `ForAllValues:`, which AWS does not define: \"multivalued context keys require a condition set operator\" (IAM User Guide, \"Single-valued vs. multivalued context keys\")",
                crate::policy::OPEN_READING,
                self.operator_name(),
                self.key
            ));
            return Tri::Unknown;
        }
        let mut keys = Vec::new();
        let mut nulls = Vec::new();
        let mut result = match op.qualifier {
            Qualifier::ForAllValues => Tri::Yes,
            Qualifier::None | Qualifier::ForAnyValue => Tri::No,
        };
        for value in values {
            // Does this request value match any policy value?
            let mut hit = Tri::No;
            for operand in &self.operands {
                hit = or(
                    hit,
                    self.compare(operand, value, context, &mut keys, &mut nulls),
                );
                if hit == Tri::Yes {
                    break;
                }
            }
            match op.qualifier {
                // Without a qualifier a negated operator is the negation of
                // "some value matches"; applied below.
                Qualifier::None => result = or(result, hit),
                Qualifier::ForAnyValue => {
                    result = or(result, if op.negated { not(hit) } else { hit })
                }
                Qualifier::ForAllValues => {
                    result = and(result, if op.negated { not(hit) } else { hit })
                }
            }
        }
        if op.qualifier == Qualifier::None && op.negated {
            result = not(result);
        }
        match result {
            Tri::Unknown => unknown.append(&mut keys),
            Tri::No if !op.negated => missing.append(&mut nulls),
            Tri::Yes if op.negated => missing.append(&mut nulls),
            _ => {}
        }
        result
    }

    /// The result when the key is absent (IAM User Guide, "Condition
    /// operators" and "Creating a condition with multiple keys or values").
    fn when_absent(&self) -> Tri {
        let op = self.operator;
        if op.compare == Compare::Null {
            return or_all(self.operands.iter().map(|operand| match operand {
                Operand::Null(Some(wants_absent)) => tri(*wants_absent),
                _ => Tri::No,
            }));
        }
        if op.if_exists {
            return Tri::Yes;
        }
        match op.qualifier {
            // The empty set: every one of no values matches.
            Qualifier::ForAllValues => Tri::Yes,
            Qualifier::ForAnyValue => Tri::No,
            Qualifier::None => tri(op.negated),
        }
    }

    /// Does `value` (from the request) match `operand` under the positive
    /// form of the operator?
    fn compare(
        &self,
        operand: &Operand,
        value: &str,
        context: &RequestContext,
        unknown: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) -> Tri {
        // `Err`: the value is settled without comparing (unknown, or a
        // variable with no value, which equals and is like nothing).
        let mut resolved = |template: &Template| match template.resolve_text(context) {
            Resolution::Value(text) => Ok(text),
            Resolution::Unknown(key) => {
                unknown.push(key);
                Err(Tri::Unknown)
            }
            Resolution::Missing(key) => {
                missing.push(key);
                Err(Tri::No)
            }
        };
        match operand {
            Operand::Text(template) => {
                let policy = match template.static_text() {
                    Some(text) => text,
                    None => match resolved(template) {
                        Ok(text) => std::borrow::Cow::Owned(text),
                        Err(settled) => return settled,
                    },
                };
                tri(match self.operator.compare {
                    Compare::StringEqualsIgnoreCase => eq_ignore_case(&policy, value),
                    Compare::Bool => policy.eq_ignore_ascii_case(value),
                    _ => policy == value,
                })
            }
            Operand::Like(like) => match &like.1 {
                Some(glob) => tri(glob.is_match(value)),
                None => match like.0.resolve_tokens(context) {
                    Resolution::Value(tokens) => {
                        tri(Glob::from_tokens(tokens, false).is_match(value))
                    }
                    Resolution::Unknown(key) => {
                        unknown.push(key);
                        Tri::Unknown
                    }
                    Resolution::Missing(key) => {
                        missing.push(key);
                        Tri::No
                    }
                },
            },
            Operand::Arn(arn) => match &arn.1 {
                Some(pattern) => tri(pattern.is_match(value)),
                None => match resolved(&arn.0) {
                    Ok(text) => tri(ArnPattern::new(&text).is_match(value)),
                    Err(settled) => settled,
                },
            },
            Operand::Number(policy) => {
                let request = parse_number(value);
                tri(match (policy, request, self.operator.compare) {
                    (Some(policy), Some(request), Compare::Numeric(order)) => request
                        .partial_cmp(policy)
                        .is_some_and(|ordering| order.holds(ordering)),
                    _ => false,
                })
            }
            Operand::Date(policy) => {
                tri(match (policy, parse_date(value), self.operator.compare) {
                    (Some(policy), Some(request), Compare::Date(order)) => {
                        order.holds(request.cmp(policy))
                    }
                    _ => false,
                })
            }
            Operand::Ip(policy) => tri(match (policy, parse_ip(value)) {
                (Some(net), Some(address)) => net.contains(&address),
                _ => false,
            }),
            Operand::Binary(policy) => {
                let request = base64::engine::general_purpose::STANDARD
                    .decode(value.trim())
                    .unwrap_or_else(|_| value.as_bytes().to_vec());
                tri(policy.as_deref() == Some(request.as_slice()))
            }
            Operand::Null(_) => Tri::No,
        }
    }
}

/// Keys whose "Value type" is multivalued in the IAM User Guide's "AWS
/// global condition context keys" (aws:CalledVia, aws:PrincipalOrgPaths,
/// aws:PrincipalServiceNamesList, aws:ResourceOrgPaths, aws:SourceOrgPaths,
/// aws:TagKeys) and `ArrayOfString` in the Service Authorization Reference's
/// "Actions, resources, and condition keys for AWS Key Management Service"
/// (kms:EncryptionContextKeys, kms:GrantOperations, kms:ResourceAliases; the
/// "Single-valued vs. multivalued context keys" page: multivalued keys there
/// "use an ArrayOf prefix"). Any other key is multivalued in a request that
/// gives it several values.
fn is_multivalued_key(key: &str) -> bool {
    const KEYS: [&str; 9] = [
        "aws:CalledVia",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceNamesList",
        "aws:ResourceOrgPaths",
        "aws:SourceOrgPaths",
        "aws:TagKeys",
        "kms:EncryptionContextKeys",
        "kms:GrantOperations",
        "kms:ResourceAliases",
    ];
    KEYS.iter().any(|known| known.eq_ignore_ascii_case(key))
}

fn tri(value: bool) -> Tri {
    if value { Tri::Yes } else { Tri::No }
}

fn or_all(values: impl Iterator<Item = Tri>) -> Tri {
    values.fold(Tri::No, or)
}

/// Unicode case-insensitive equality without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// What a typed operand should have been, when its text did not parse.
/// Binary and Null values keep their old reading: the issue of silently
/// skipped values concerns numbers, dates and addresses, and AWS documents
/// no refusal for the others.
fn malformed(operand: &Operand) -> Option<&'static str> {
    match operand {
        Operand::Number(None) => Some("a number (`10`, `2.5`)"),
        Operand::Date(None) => Some("a date (`2026-01-31T12:00:00Z`) or epoch seconds"),
        Operand::Ip(None) => {
            Some("an IP address or CIDR block (`203.0.113.0/24`, `2001:db8::/32`)")
        }
        _ => None,
    }
}

fn operand(compare: Compare, text: &str, variables: bool) -> Operand {
    // Variables only where the operator reference allows them.
    let template = |allowed: bool| Template::parse(text, variables && allowed);
    match compare {
        Compare::StringEquals | Compare::StringEqualsIgnoreCase | Compare::Bool => {
            Operand::Text(template(true))
        }
        Compare::StringLike => {
            let template = template(true);
            let glob = template
                .static_tokens()
                .map(|tokens| Glob::from_tokens(tokens, false));
            Operand::Like(Box::new((template, glob)))
        }
        Compare::Arn => {
            let template = template(true);
            let pattern = template.static_text().map(|text| ArnPattern::new(&text));
            Operand::Arn(Box::new((template, pattern)))
        }
        Compare::Numeric(_) => Operand::Number(parse_number(text)),
        Compare::Date(_) => Operand::Date(parse_date(text)),
        Compare::Ip => Operand::Ip(parse_cidr(text)),
        Compare::Binary => Operand::Binary(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok(),
        ),
        Compare::Null => Operand::Null(match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Some(true),
            t if t.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }),
    }
}

/// An ARN pattern for `ArnEquals`/`ArnLike`: "each of the six
/// colon-delimited components of the ARN is checked separately and each can
/// include multi-character match wildcards (*) or single-character match
/// wildcards (?)" (IAM User Guide, "Condition operators").
#[derive(Debug, Clone)]
pub(crate) enum ArnPattern {
    Segments(Vec<Glob>),
    /// A value that is not six segments (such as `*`): matched whole.
    Whole(Glob),
}

impl ArnPattern {
    pub(crate) fn new(text: &str) -> Self {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        if parts.len() == 6 {
            Self::Segments(parts.iter().map(|part| Glob::new(part, false)).collect())
        } else {
            Self::Whole(Glob::new(text, false))
        }
    }

    pub(crate) fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Whole(glob) => glob.is_match(value),
            Self::Segments(globs) => {
                let mut parts = value.splitn(6, ':');
                let mut count = 0;
                for glob in globs {
                    match parts.next() {
                        Some(part) if glob.is_match(part) => count += 1,
                        _ => return false,
                    }
                }
                count == 6
            }
        }
    }
}

/// Dates as W3C ISO 8601 profiles or epoch seconds, in nanoseconds since the
/// epoch (IAM User Guide, "Date condition operators").
pub(crate) fn parse_date(text: &str) -> Option<i128> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    // `YYYY` is the W3C year profile, not an epoch time.
    if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
        let date = NaiveDate::parse_from_str(&format!("{text}-01-01"), "%Y-%m-%d").ok()?;
        return date
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp_nanos_opt()
            .map(i128::from);
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
        && !text[1..].contains('-')
    {
        let seconds: f64 = text.parse().ok()?;
        if !seconds.is_finite() {
            return None;
        }
        return Some((seconds * 1e9) as i128);
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return parsed.timestamp_nanos_opt().map(i128::from);
    }
    // Minutes without seconds (`YYYY-MM-DDThh:mmTZD`).
    for format in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%dT%H:%M%:z"] {
        if let Ok(parsed) = DateTime::parse_from_str(text, format) {
            return parsed.timestamp_nanos_opt().map(i128::from);
        }
    }
    let utc = |naive: NaiveDateTime| naive.and_utc().timestamp_nanos_opt().map(i128::from);
    if let Some(stripped) = text.strip_suffix('Z') {
        for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(stripped, format) {
                return utc(naive);
            }
        }
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return utc(naive);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return utc(date.and_hms_opt(0, 0, 0)?);
    }
    if let Ok(date) = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d") {
        return utc(date.and_hms_opt(0, 0, 0)?);
    }
    None
}

/// A finite decimal number: Rust's float syntax also reads `inf` and `NaN`,
/// which are no numbers to IAM.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
}

/// A CIDR, or a bare address meaning `/32` (`/128` for IPv6).
pub(crate) fn parse_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}

pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<IpNet>().ok().map(|net| net.addr()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn malformed_typed_values_are_refused() {
        let cases: &[(&str, &str, usize)] = &[
            ("IpAddress", "203.0.113.0/33", 0),
            ("NotIpAddress", "not-a-cidr", 0),
            ("IpAddressIfExists", "", 0),
            ("DateLessThan", "tomorrow", 0),
            ("DateGreaterThan", "2026-13-01", 0),
            ("NumericLessThan", "ten", 0),
            ("NumericEquals", "inf", 0),
            ("ForAnyValue:NumericEquals", "NaN", 0),
        ];
        for (operator, value, index) in cases {
            let values = vec![
                (value.to_string(), serde_json::Value::from(*value)),
                ("1".to_string(), serde_json::Value::from("1")),
            ];
            let error = Condition::new(operator, "aws:SourceIp", values, true).err();
            assert!(
                matches!(error, Some(ConditionError::MalformedValue { index: i, .. }) if i == *index),
                "{operator} {value}: {error:?}"
            );
        }
        // A second bad value is found at its own index.
        let values = vec![
            (
                "10.0.0.0/8".to_string(),
                serde_json::Value::from("10.0.0.0/8"),
            ),
            (
                "10.0.0.0/99".to_string(),
                serde_json::Value::from("10.0.0.0/99"),
            ),
        ];
        assert!(matches!(
            Condition::new("IpAddress", "aws:SourceIp", values, true),
            Err(ConditionError::MalformedValue { index: 1, .. })
        ));
    }

    fn condition(operator: &str, key: &str, values: &[&str]) -> Condition {
        let values = values
            .iter()
            .map(|value| (value.to_string(), serde_json::Value::from(*value)))
            .collect();
        Condition::new(operator, key, values, true).unwrap()
    }

    fn eval(condition: &Condition, context: &RequestContext) -> Tri {
        condition.evaluate(context, &mut Vec::new(), &mut Vec::new())
    }

    fn with(key: &str, values: &[&str]) -> RequestContext {
        let mut context = RequestContext::new();
        context.set_values(
            key.to_string(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        context
    }

    #[test]
    fn every_operator_of_the_reference_parses() {
        for (name, _, _) in OPERATORS {
            assert!(Operator::parse(name).is_some(), "{name}");
            if *name != "Null" {
                let if_exists = format!("{name}IfExists");
                assert!(
                    Operator::parse(&if_exists).unwrap().if_exists,
                    "{if_exists}"
                );
            }
            for qualifier in ["ForAllValues:", "ForAnyValue:"] {
                assert!(Operator::parse(&format!("{qualifier}{name}")).is_some());
            }
        }
        for bad in [
            "StringEqual",
            "NullIfExists",
            "ForSomeValues:StringLike",
            "",
            "IfExists",
        ] {
            assert!(Operator::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn operators_on_present_single_values() {
        use Tri::*;
        // (operator, policy values, request value, expected)
        let cases: &[(&str, &[&str], &str, Tri)] = &[
            ("StringEquals", &["john"], "john", Yes),
            ("StringEquals", &["john"], "John", No),
            ("StringEquals", &["a", "john"], "john", Yes),
            ("StringNotEquals", &["john"], "john", No),
            ("StringNotEquals", &["john"], "bob", Yes),
            ("StringNotEquals", &["a", "b"], "b", No),
            ("StringEqualsIgnoreCase", &["JOHN"], "john", Yes),
            ("StringNotEqualsIgnoreCase", &["JOHN"], "john", No),
            ("StringLike", &["home/*"], "home/ann/x", Yes),
            ("StringLike", &["home/?"], "home/ab", No),
            ("StringLike", &["Home/*"], "home/x", No),
            ("StringNotLike", &["home/*"], "tmp/x", Yes),
            ("NumericEquals", &["10"], "10.0", Yes),
            ("NumericNotEquals", &["10"], "10", No),
            ("NumericLessThan", &["10"], "9", Yes),
            ("NumericLessThan", &["10"], "10", No),
            ("NumericLessThanEquals", &["10"], "10", Yes),
            ("NumericGreaterThan", &["10"], "11", Yes),
            ("NumericGreaterThanEquals", &["10"], "9", No),
            ("NumericEquals", &["10"], "ten", No),
            (
                "DateLessThan",
                &["2020-01-01T00:00:00Z"],
                "2019-12-31T23:59:59Z",
                Yes,
            ),
            (
                "DateLessThan",
                &["2020-01-01T00:00:00Z"],
                "2020-01-01T00:00:00Z",
                No,
            ),
            (
                "DateLessThanEquals",
                &["2020-01-01"],
                "2020-01-01T00:00:00Z",
                Yes,
            ),
            (
                "DateGreaterThan",
                &["1577836800"],
                "2020-01-01T00:00:01Z",
                Yes,
            ),
            (
                "DateEquals",
                &["2020-01-01T01:00:00+01:00"],
                "2020-01-01T00:00:00Z",
                Yes,
            ),
            ("DateNotEquals", &["2020-01-01T00:00:00Z"], "1577836800", No),
            (
                "DateGreaterThanEquals",
                &["2020-01-01T00:00Z"],
                "2020-01-01T00:00:00Z",
                Yes,
            ),
            ("Bool", &["true"], "true", Yes),
            ("Bool", &["false"], "true", No),
            ("Bool", &["TRUE"], "true", Yes),
            (
                "BinaryEquals",
                &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="],
                "QmluYXJ5VmFsdWVJbkJhc2U2NA==",
                Yes,
            ),
            (
                "BinaryEquals",
                &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="],
                "BinaryValueInBase64",
                Yes,
            ),
            (
                "BinaryEquals",
                &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="],
                "other",
                No,
            ),
            ("IpAddress", &["203.0.113.0/24"], "203.0.113.7", Yes),
            ("IpAddress", &["203.0.113.0/24"], "203.0.114.7", No),
            ("IpAddress", &["203.0.113.7"], "203.0.113.7", Yes),
            (
                "IpAddress",
                &["2001:DB8:1234:5678::/64"],
                "2001:db8:1234:5678::1",
                Yes,
            ),
            ("IpAddress", &["2001:DB8:1234:5678::/64"], "203.0.113.7", No),
            ("NotIpAddress", &["203.0.113.0/24"], "198.51.100.1", Yes),
            (
                "NotIpAddress",
                &["203.0.113.0/24", "198.51.100.0/24"],
                "198.51.100.1",
                No,
            ),
            (
                "ArnEquals",
                &["arn:aws:sns:us-east-1:111122223333:topic"],
                "arn:aws:sns:us-east-1:111122223333:topic",
                Yes,
            ),
            (
                "ArnLike",
                &["arn:aws:iam::*:role/etl"],
                "arn:aws:iam::111122223333:role/etl",
                Yes,
            ),
            (
                "ArnNotEquals",
                &["arn:aws:iam::*:role/etl"],
                "arn:aws:iam::111122223333:role/etl",
                No,
            ),
            (
                "ArnNotLike",
                &["arn:aws:iam::*:role/etl"],
                "arn:aws:iam::111122223333:role/x",
                Yes,
            ),
            // IAM User Guide, "Condition operators", ARN section: ArnLike
            // matches segment by segment, StringLike across them.
            (
                "ArnLike",
                &["arn:aws:someservice:*:111122223333:finance/*"],
                "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
                No,
            ),
            (
                "StringLike",
                &["arn:aws:someservice:*:111122223333:finance/*"],
                "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
                Yes,
            ),
            (
                "ArnLike",
                &["arn:aws:s3:::bucket/*"],
                "arn:aws:s3:::bucket/a:b",
                Yes,
            ),
            ("ArnLike", &["arn:aws:s3:::bucket/*"], "not-an-arn", No),
        ];
        for (operator, policy, request, expected) in cases {
            let condition = condition(operator, "k", policy);
            assert_eq!(
                eval(&condition, &with("k", &[request])),
                *expected,
                "{operator} {policy:?} vs {request}"
            );
        }
    }

    #[test]
    fn absent_keys() {
        use Tri::*;
        // IAM User Guide, "Condition operators": an absent key makes a
        // condition false, negated operators true; IfExists is true; Null
        // tests presence. "Condition keys with multiple values": ForAllValues
        // on an empty set is true, ForAnyValue false.
        let cases: &[(&str, &[&str], Tri)] = &[
            ("StringEquals", &["x"], No),
            ("StringNotEquals", &["x"], Yes),
            ("StringEqualsIgnoreCase", &["x"], No),
            ("StringNotEqualsIgnoreCase", &["x"], Yes),
            ("StringLike", &["*"], No),
            ("StringNotLike", &["x"], Yes),
            ("NumericEquals", &["1"], No),
            ("NumericNotEquals", &["1"], Yes),
            ("NumericLessThan", &["1"], No),
            ("DateLessThan", &["2020-01-01"], No),
            ("DateNotEquals", &["2020-01-01"], Yes),
            ("Bool", &["false"], No),
            ("BinaryEquals", &["QQ=="], No),
            ("IpAddress", &["0.0.0.0/0"], No),
            ("NotIpAddress", &["10.0.0.0/8"], Yes),
            ("ArnLike", &["*"], No),
            ("ArnNotLike", &["arn:aws:s3:::x"], Yes),
            ("ArnNotEquals", &["arn:aws:s3:::x"], Yes),
            ("StringEqualsIfExists", &["x"], Yes),
            ("StringNotEqualsIfExists", &["x"], Yes),
            ("NumericLessThanIfExists", &["1"], Yes),
            ("Null", &["true"], Yes),
            ("Null", &["false"], No),
            ("ForAllValues:StringEquals", &["x"], Yes),
            ("ForAllValues:StringNotEquals", &["x"], Yes),
            ("ForAnyValue:StringEquals", &["x"], No),
            ("ForAnyValue:StringNotEquals", &["x"], No),
            ("ForAnyValue:StringEqualsIfExists", &["x"], Yes),
        ];
        for (operator, policy, expected) in cases {
            let condition = condition(operator, "s3:x-amz-acl", policy);
            assert_eq!(
                eval(&condition, &RequestContext::new()),
                *expected,
                "{operator}"
            );
            // A key present with no value is an empty set too.
            assert_eq!(
                eval(&condition, &with("s3:x-amz-acl", &[])),
                *expected,
                "{operator} []"
            );
        }
    }

    #[test]
    fn null_on_present_keys() {
        let context = with("aws:TokenIssueTime", &["2020-01-01T00:00:00Z"]);
        assert_eq!(
            eval(
                &condition("Null", "aws:TokenIssueTime", &["true"]),
                &context
            ),
            Tri::No
        );
        assert_eq!(
            eval(
                &condition("Null", "aws:TokenIssueTime", &["false"]),
                &context
            ),
            Tri::Yes
        );
    }

    #[test]
    fn set_qualifiers_on_multi_valued_keys() {
        use Tri::*;
        // IAM User Guide, "Creating a condition with multiple keys or values":
        // the DynamoDB attributes example.
        let allowed = &["PostDateTime", "Message", "Tags"];
        let cases: &[(&str, &[&str], &[&str], Tri)] = &[
            (
                "ForAllValues:StringLike",
                allowed,
                &["PostDateTime", "Message"],
                Yes,
            ),
            (
                "ForAllValues:StringLike",
                allowed,
                &["PostDateTime", "UserName"],
                No,
            ),
            (
                "ForAnyValue:StringLike",
                &["ID", "PostDateTime"],
                &["UserName", "Message", "PostDateTime"],
                Yes,
            ),
            (
                "ForAnyValue:StringLike",
                &["ID", "PostDateTime"],
                &["UserName"],
                No,
            ),
            ("ForAnyValue:StringNotEquals", &["a"], &["a", "b"], Yes),
            ("ForAnyValue:StringNotEquals", &["a"], &["a"], No),
            ("ForAllValues:StringNotEquals", &["a"], &["b", "c"], Yes),
            ("ForAllValues:StringNotEquals", &["a"], &["a", "c"], No),
            // Without a qualifier the reading is open ("Single-valued vs.
            // multivalued context keys": "Multivalued context keys require a
            // condition set operator"): unknown, whichever values.
            ("StringEquals", &["a"], &["b", "a"], Unknown),
            ("StringNotEquals", &["a"], &["b", "a"], Unknown),
            ("StringNotEquals", &["a"], &["b", "c"], Unknown),
            ("StringLike", &["*"], &["b", "c"], Unknown),
        ];
        for (operator, policy, request, expected) in cases {
            let condition = condition(operator, "k", policy);
            assert_eq!(
                eval(&condition, &with("k", request)),
                *expected,
                "{operator} {policy:?} vs {request:?}"
            );
        }
    }

    #[test]
    fn multivalued_keys_without_a_set_operator_are_an_open_reading() {
        use Tri::*;
        // IAM User Guide, "Single-valued vs. multivalued context keys":
        // "Multivalued context keys require a condition set operator"; what a
        // single-valued operator does with one is not given. A documented
        // multivalued key is open with one value too; an absent key keeps the
        // absent-key rule ("Condition operators").
        for key in [
            "aws:TagKeys",
            "aws:PrincipalOrgPaths",
            "kms:EncryptionContextKeys",
        ] {
            for operator in ["StringEquals", "StringNotLike", "StringLikeIfExists"] {
                let condition = condition(operator, key, &["x"]);
                let mut unknown = Vec::new();
                let result = condition.evaluate(&with(key, &["x"]), &mut unknown, &mut Vec::new());
                assert_eq!(result, Unknown, "{operator} {key}");
                let point = crate::policy::open_reading(&unknown[0]).expect("an open reading");
                assert!(point.contains("Single-valued vs. multivalued context keys"));
                assert_eq!(
                    eval(&condition, &RequestContext::new()),
                    condition.when_absent(),
                    "{operator} {key} absent"
                );
            }
            let qualified = condition("ForAnyValue:StringEquals", key, &["x"]);
            assert_eq!(eval(&qualified, &with(key, &["x"])), Yes);
        }
        // A single-valued key given several values (a header sent twice).
        let grant = condition("StringEquals", "s3:x-amz-grant-read", &["id=1"]);
        assert_eq!(eval(&grant, &with("s3:x-amz-grant-read", &["id=1"])), Yes);
        assert_eq!(
            eval(&grant, &with("s3:x-amz-grant-read", &["id=1", "id=2"])),
            Unknown
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_values_are_not() {
        // IAM User Guide, "IAM JSON policy elements: Condition".
        let condition = condition("StringEquals", "AWS:PrincipalTag/Team", &["Data"]);
        assert_eq!(
            eval(&condition, &with("aws:principaltag/team", &["Data"])),
            Tri::Yes
        );
        assert_eq!(
            eval(&condition, &with("aws:principaltag/team", &["data"])),
            Tri::No
        );
    }

    #[test]
    fn unknown_keys_give_unknown_and_name_the_key() {
        let mut context = RequestContext::new();
        context.set_unknown("aws:SourceIp");
        for operator in [
            "IpAddress",
            "NotIpAddress",
            "NotIpAddressIfExists",
            "Null",
            "ForAllValues:IpAddress",
        ] {
            let condition = condition(operator, "aws:SourceIP", &["10.0.0.0/8"]);
            let mut unknown = Vec::new();
            assert_eq!(
                condition.evaluate(&context, &mut unknown, &mut Vec::new()),
                Tri::Unknown,
                "{operator}"
            );
            assert_eq!(unknown, vec!["aws:SourceIP".to_string()]);
        }
    }

    #[test]
    fn variables_in_values() {
        let mut context = with("s3:prefix", &["home/ann/"]);
        context.set("aws:username", "ann");
        let like = condition("StringLike", "s3:prefix", &["home/${aws:username}/*"]);
        assert_eq!(eval(&like, &context), Tri::Yes);
        // A variable whose key is unknown makes the value unknown...
        context.set_unknown("aws:username");
        let mut unknown = Vec::new();
        assert_eq!(
            like.evaluate(&context, &mut unknown, &mut Vec::new()),
            Tri::Unknown
        );
        assert_eq!(unknown, vec!["aws:username".to_string()]);
        // ...unless another value already matches.
        let either = condition(
            "StringLike",
            "s3:prefix",
            &["home/${aws:username}/*", "home/*"],
        );
        assert_eq!(eval(&either, &context), Tri::Yes);
        // A variable with no value is like nothing (IAM User Guide,
        // "Policy variables with no value"): the positive operator does not
        // hold, and names the variable as the reason...
        context.remove("aws:username");
        let mut missing = Vec::new();
        assert_eq!(
            like.evaluate(&context, &mut Vec::new(), &mut missing),
            Tri::No
        );
        assert_eq!(missing, vec!["aws:username".to_string()]);
        // ...another value still can...
        assert_eq!(eval(&either, &context), Tri::Yes);
        // ...and a negated operator holds against it, with or without a
        // qualifier: "Inverted condition operators like StringNotEquals or
        // StringNotLike do match against a null value".
        for operator in [
            "StringNotLike",
            "StringNotEquals",
            "ForAnyValue:StringNotEquals",
            "ForAllValues:StringNotLike",
            "StringNotEqualsIfExists",
            "ArnNotEquals",
        ] {
            let negated = condition(operator, "s3:prefix", &["${aws:username}"]);
            let mut missing = Vec::new();
            assert_eq!(
                negated.evaluate(&context, &mut Vec::new(), &mut missing),
                Tri::Yes,
                "{operator}"
            );
            assert_eq!(missing, vec!["aws:username".to_string()], "{operator}");
        }
        // A negated operator that fails on another value owes nothing to
        // the variable.
        let mut missing = Vec::new();
        let other = condition("StringNotLike", "s3:prefix", &["${aws:username}", "home/*"]);
        assert_eq!(
            other.evaluate(&context, &mut Vec::new(), &mut missing),
            Tri::No
        );
        assert!(missing.is_empty());
        // `...IfExists` concerns the condition's own key: present here, so
        // the comparison with no value still fails.
        let if_exists = condition("StringEqualsIfExists", "s3:prefix", &["${aws:username}"]);
        assert_eq!(eval(&if_exists, &context), Tri::No);
        // A default stands in for the missing value.
        let defaulted = condition("StringLike", "s3:prefix", &["${aws:username, 'home'}/*"]);
        assert_eq!(eval(&defaulted, &context), Tri::Yes);
        // Numeric operators take no variables: the text is literal, and
        // not a number.
        let value = "${aws:username}";
        let numeric = Condition::new(
            "NumericEquals",
            "s3:max-keys",
            vec![(value.to_string(), serde_json::Value::from(value))],
            true,
        );
        assert!(matches!(
            numeric,
            Err(ConditionError::MalformedValue { .. })
        ));
    }

    #[test]
    fn dates_in_every_w3c_profile() {
        let expected = parse_date("2020-01-01T00:00:00Z").unwrap();
        for text in [
            "2020-01-01T00:00:00Z",
            "2020-01-01",
            "2020-01",
            "2020",
            "1577836800",
            "2020-01-01T00:00Z",
            "2020-01-01T01:00+01:00",
            "2020-01-01T00:00:00.000Z",
        ] {
            assert_eq!(parse_date(text), Some(expected), "{text}");
        }
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date(""), None);
    }
}
