//! Why one statement did or did not apply to a request, element by element:
//! the action list, the resource, the principal, each condition with the
//! values the policy lists and the value the request has. The chain quotes
//! it so that a reader learns which element decided a link, not just that
//! "a condition does not hold".

use crate::policy::context::ContextValue;

use super::super::{Request, Tri};
use super::Statement;

/// The element of a statement that keeps it from applying to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// `Action` does not list the action, or `NotAction` lists it.
    Action {
        negated: bool,
        patterns: Vec<String>,
    },
    /// `Resource` does not cover the resource, or `NotResource` does.
    Resource {
        negated: bool,
        patterns: Vec<String>,
    },
    /// `Principal` does not name the caller, or `NotPrincipal` does.
    Principal { negated: bool },
    /// A condition that does not hold.
    Condition(ConditionCheck),
}

/// One condition of a statement, judged for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionCheck {
    /// The operator as written (`StringNotEquals`, `ForAnyValue:StringLike`).
    pub operator: String,
    /// The key as written (`aws:SourceVpce`).
    pub key: String,
    /// The values the policy lists, as text.
    pub values: Vec<String>,
    /// What the request carries for the key.
    pub request: ContextValue,
    /// Whether the condition holds for the request.
    pub holds: Tri,
    /// Policy variables in its values whose keys the request does not carry
    /// (as written) and that decided `holds`: such a value equals nothing.
    pub absent_variables: Vec<String>,
}

impl Statement {
    /// Whether any string of the statement's `Condition` block (an
    /// operator, a key or a value) is one of `names`, ignoring ASCII case.
    pub fn condition_names_any(&self, names: &[&str]) -> bool {
        fn names_any(value: &serde_json::Value, names: &[&str]) -> bool {
            match value {
                serde_json::Value::String(text) => {
                    names.iter().any(|name| name.eq_ignore_ascii_case(text))
                }
                serde_json::Value::Array(values) => {
                    values.iter().any(|value| names_any(value, names))
                }
                serde_json::Value::Object(map) => map.iter().any(|(key, value)| {
                    names.iter().any(|name| name.eq_ignore_ascii_case(key))
                        || names_any(value, names)
                }),
                _ => false,
            }
        }
        self.conditions.iter().any(|condition| {
            [condition.operator_name(), condition.key()]
                .iter()
                .any(|text| names.iter().any(|name| name.eq_ignore_ascii_case(text)))
                || condition
                    .raw_values()
                    .iter()
                    .any(|value| names_any(value, names))
        })
    }

    /// The first element, in the order AWS's evaluation reads them (action,
    /// resource, principal, then each condition), that keeps the statement
    /// from applying; `None` when it applies or may apply.
    pub fn first_mismatch(&self, request: &Request<'_>) -> Option<Mismatch> {
        if self.match_action(
            request.action.to_ascii_lowercase().as_bytes(),
            &mut Vec::new(),
        ) == Tri::No
        {
            return Some(Mismatch::Action {
                negated: self.action.negated,
                patterns: self
                    .action
                    .patterns
                    .iter()
                    .map(|(raw, _)| raw.clone())
                    .collect(),
            });
        }
        let mut unknown = Vec::new();
        if self.match_resource(request, &mut unknown, &mut Vec::new()) == Tri::No
            && let Some(resources) = &self.resource
        {
            return Some(Mismatch::Resource {
                negated: resources.negated,
                patterns: resources
                    .patterns
                    .iter()
                    .map(|pattern| pattern.template.raw().to_string())
                    .collect(),
            });
        }
        if let (Tri::No, _) = self.match_principal(request, &mut unknown) {
            return Some(Mismatch::Principal {
                negated: self
                    .principal
                    .as_ref()
                    .is_some_and(|element| element.negated),
            });
        }
        self.condition_checks(request)
            .into_iter()
            .find(|check| check.holds == Tri::No)
            .map(Mismatch::Condition)
    }

    /// Every condition of the statement with how it fares for the request.
    pub fn condition_checks(&self, request: &Request<'_>) -> Vec<ConditionCheck> {
        self.conditions
            .iter()
            .map(|condition| {
                let mut absent_variables = Vec::new();
                let holds = condition.evaluate(
                    request.context.resolve(),
                    &mut Vec::new(),
                    &mut absent_variables,
                );
                ConditionCheck {
                    operator: condition.operator_name().to_string(),
                    key: condition.key().to_string(),
                    values: condition
                        .raw_values()
                        .iter()
                        .map(|value| match value {
                            serde_json::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        })
                        .collect(),
                    request: request.context.resolve().get(condition.key()).clone(),
                    holds,
                    absent_variables,
                }
            })
            .collect()
    }
}

impl Mismatch {
    /// Why the statement does not apply, as a clause that follows "the
    /// statement ...": `does not list kms:Decrypt in its Action (kms:Encrypt,
    /// kms:DescribeKey)`.
    pub fn describe(&self, action: &str, resource: &str) -> String {
        match self {
            Mismatch::Action {
                negated: false,
                patterns,
            } => format!(
                "does not list {action} in its `Action` ({})",
                patterns.join(", ")
            ),
            Mismatch::Action {
                negated: true,
                patterns,
            } => format!(
                "excludes {action} with its `NotAction` ({})",
                patterns.join(", ")
            ),
            Mismatch::Resource {
                negated: false,
                patterns,
            } => format!(
                "does not cover `{resource}` with its `Resource` ({})",
                patterns.join(", ")
            ),
            Mismatch::Resource {
                negated: true,
                patterns,
            } => format!(
                "excludes `{resource}` with its `NotResource` ({})",
                patterns.join(", ")
            ),
            Mismatch::Principal { negated: false } => {
                "does not name the caller in its `Principal`".to_string()
            }
            Mismatch::Principal { negated: true } => {
                "exempts the caller with its `NotPrincipal`".to_string()
            }
            Mismatch::Condition(check) => {
                format!("has a condition that does not hold: {}", check.describe())
            }
        }
    }
}

impl ConditionCheck {
    /// `StringNotEquals aws:SourceVpce [vpce-0abc], and the request's
    /// aws:SourceVpce is vpce-999`.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "`{}` `{}` [{}], and {}",
            self.operator,
            self.key,
            self.values.join(", "),
            self.request_words()
        );
        // A value with a variable of no value equals nothing (IAM User
        // Guide, "Policy variables with no value"): the reader must learn
        // that, not hunt for a mismatched value.
        for key in &self.absent_variables {
            out.push_str(&format!(
                ", while `${{{key}}}` has no value as the request has no `{key}`"
            ));
        }
        out
    }

    /// `the request's aws:SourceVpce is vpce-999`, `the request has no
    /// aws:SourceVpce`, `the request's aws:SourceVpce is not known`.
    pub fn request_words(&self) -> String {
        match &self.request {
            ContextValue::Present(values) if values.len() == 1 => {
                format!("the request's {} is {}", self.key, values[0])
            }
            ContextValue::Present(values) if !values.is_empty() => {
                format!("the request's {} is [{}]", self.key, values.join(", "))
            }
            ContextValue::Present(_) | ContextValue::Absent => {
                format!("the request has no {}", self.key)
            }
            ContextValue::Unknown => format!("the request's {} is not known", self.key),
        }
    }

    /// What a request must carry for this condition to stop holding: the
    /// way to get past a `Deny` that hangs on it without touching the
    /// policy. `None` when there is no simple way to say it. A negated
    /// operator's values are a NOR (IAM User Guide, "Conditions with
    /// multiple context keys or values"), so it stops holding when the
    /// request carries one of them.
    pub fn how_to_escape(&self) -> Option<String> {
        let operator = self.operator.to_ascii_lowercase();
        let base = operator
            .rsplit(':')
            .next()
            .unwrap_or(&operator)
            .trim_end_matches("ifexists");
        let listed = self.values.join(", ");
        let one_of = if self.values.len() == 1 {
            listed.clone()
        } else {
            format!("one of {listed}")
        };
        if operator.contains(':') {
            // Set operators over multi-valued keys: no one-line answer.
            return None;
        }
        Some(match base {
            "null" => match self.values.first().map(String::as_str) {
                Some("true") => format!("send the request with {}", self.key),
                Some("false") => format!("send the request without {}", self.key),
                _ => return None,
            },
            // The network guards people meet most, in their own words.
            _ if base.contains("not") && self.key.eq_ignore_ascii_case("aws:SourceVpce") => {
                format!("send the request through VPC endpoint {one_of}")
            }
            _ if base.contains("not") && self.key.eq_ignore_ascii_case("aws:SourceVpc") => {
                format!("send the request from VPC {one_of}")
            }
            "bool"
                if self.key.eq_ignore_ascii_case("aws:SecureTransport")
                    && self
                        .values
                        .first()
                        .is_some_and(|value| value.eq_ignore_ascii_case("false")) =>
            {
                "send the request over HTTPS".to_string()
            }
            "bool" => match self.values.first().map(String::as_str) {
                Some(value) if value.eq_ignore_ascii_case("true") => {
                    format!("make the request with {} false", self.key)
                }
                Some(value) if value.eq_ignore_ascii_case("false") => {
                    format!("make the request with {} true", self.key)
                }
                _ => return None,
            },
            // Orderings: the request's value must fall on the other side.
            _ if base.ends_with("lessthan") => {
                format!("make the request with {} at least {listed}", self.key)
            }
            _ if base.ends_with("lessthanequals") => {
                format!("make the request with {} greater than {listed}", self.key)
            }
            _ if base.ends_with("greaterthan") => {
                format!("make the request with {} at most {listed}", self.key)
            }
            _ if base.ends_with("greaterthanequals") => {
                format!("make the request with {} less than {listed}", self.key)
            }
            "notipaddress" => format!("send the request from {one_of}"),
            "ipaddress" => format!("send the request from outside {listed}"),
            _ if base.contains("not") => {
                format!("make the request with {} {one_of}", self.key)
            }
            _ => format!("make the request with {} other than {listed}", self.key),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::policy::context::RequestContext;
    use crate::policy::{Caller, Policy};

    fn caller() -> Caller {
        Caller {
            account: "222222222222".to_string(),
            principal_arn: "arn:aws:iam::222222222222:user/dilip".to_string(),
            session_arn: None,
            is_role_session: false,
            service: None,
            has_permissions_boundary: false,
        }
    }

    fn policy() -> Policy {
        Policy::parse_text(
            "bucket policy",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                 "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/public/*"},
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}}},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                 "Action": "s3:GetObject", "Resource": "*"}
            ]}"#,
        )
        .unwrap()
    }

    fn mismatch(
        statement: usize,
        action: &str,
        resource: &str,
        context: &RequestContext,
    ) -> Option<Mismatch> {
        let caller = caller();
        let request = Request {
            action,
            resource,
            caller: &caller,
            context,
        };
        policy().statements()[statement].first_mismatch(&request)
    }

    #[test]
    fn each_element_that_fails_is_named_with_its_values() {
        let mut context = RequestContext::new();
        let object = "arn:aws:s3:::b/reports/x.csv";
        let action = mismatch(0, "kms:Decrypt", "*", &context).unwrap();
        assert_eq!(
            action.describe("kms:Decrypt", "*"),
            "does not list kms:Decrypt in its `Action` (kms:Encrypt, kms:DescribeKey)"
        );
        let resource = mismatch(1, "s3:GetObject", object, &context).unwrap();
        assert_eq!(
            resource.describe("s3:GetObject", object),
            "does not cover `arn:aws:s3:::b/reports/x.csv` with its `Resource` (arn:aws:s3:::b/public/*)"
        );
        assert_eq!(
            mismatch(3, "s3:GetObject", object, &context),
            Some(Mismatch::Principal { negated: false })
        );
        // Inside the endpoint the Deny's condition does not hold.
        context.set("aws:SourceVpce", "vpce-0abc");
        let condition = mismatch(2, "s3:GetObject", object, &context).unwrap();
        assert_eq!(
            condition.describe("s3:GetObject", object),
            "has a condition that does not hold: `StringNotEquals` `aws:SourceVpce` [vpce-0abc], and the request's aws:SourceVpce is vpce-0abc"
        );
        // Outside it, the Deny applies: no mismatch.
        context.set("aws:SourceVpce", "vpce-999");
        assert_eq!(mismatch(2, "s3:GetObject", object, &context), None);
    }

    #[test]
    fn common_guards_are_said_in_their_own_words() {
        let check = |operator: &str, key: &str, values: &[&str]| ConditionCheck {
            operator: operator.to_string(),
            key: key.to_string(),
            values: values.iter().map(|value| value.to_string()).collect(),
            request: ContextValue::Unknown,
            holds: Tri::Yes,
            absent_variables: Vec::new(),
        };
        assert_eq!(
            check("Bool", "aws:SecureTransport", &["false"])
                .how_to_escape()
                .as_deref(),
            Some("send the request over HTTPS")
        );
        assert_eq!(
            check("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"])
                .how_to_escape()
                .as_deref(),
            Some("send the request from 203.0.113.0/24")
        );
        assert_eq!(
            check("StringNotEquals", "aws:SourceVpc", &["vpc-1", "vpc-2"])
                .how_to_escape()
                .as_deref(),
            Some("send the request from VPC one of vpc-1, vpc-2")
        );
        assert_eq!(
            check("ForAnyValue:StringEquals", "aws:TagKeys", &["x"]).how_to_escape(),
            None
        );
        assert_eq!(
            check("NumericLessThan", "s3:TlsVersion", &["1.2"])
                .how_to_escape()
                .as_deref(),
            Some("make the request with s3:TlsVersion at least 1.2")
        );
        assert_eq!(
            check(
                "DateGreaterThanIfExists",
                "aws:CurrentTime",
                &["2026-01-01T00:00:00Z"]
            )
            .how_to_escape()
            .as_deref(),
            Some("make the request with aws:CurrentTime at most 2026-01-01T00:00:00Z")
        );
    }

    #[test]
    fn a_holding_deny_condition_says_how_to_escape_it() {
        let mut context = RequestContext::new();
        context.set("aws:SourceVpce", "vpce-999");
        let caller = caller();
        let request = Request {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/x",
            caller: &caller,
            context: &context,
        };
        let checks = policy().statements()[2].condition_checks(&request);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].holds, Tri::Yes);
        assert_eq!(
            checks[0].request_words(),
            "the request's aws:SourceVpce is vpce-999"
        );
        assert_eq!(
            checks[0].how_to_escape().as_deref(),
            Some("send the request through VPC endpoint vpce-0abc")
        );
        let mut absent = RequestContext::new();
        absent.set_absent("aws:SourceVpce");
        let request = Request {
            context: &absent,
            ..request
        };
        let checks = policy().statements()[2].condition_checks(&request);
        assert_eq!(
            checks[0].request_words(),
            "the request has no aws:SourceVpce"
        );
    }

    #[test]
    fn condition_names_any_reads_operators_keys_and_values_ignoring_case() {
        let policy = Policy::parse_text(
            "key policy",
            r#"{"Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                 "Condition": {"StringNotEquals": {"AWS:SOURCEVPCE": "vpce-0abc"}}},
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:CalledVia": ["x", "aws:SourceVpc"]}}},
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:SourceVpcEndpointName": "${aws:SourceVpc}"}}},
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
            ]}"#,
        )
        .unwrap();
        let names = ["aws:SourceVpc", "aws:SourceVpce"];
        let found: Vec<bool> = policy
            .statements()
            .iter()
            .map(|statement| statement.condition_names_any(&names))
            .collect();
        assert_eq!(found, [true, true, false, false]);
    }
}
