//! Properties of the policy engine: an applicable explicit deny always wins,
//! order never matters, the wildcard matcher agrees with a regex oracle, and
//! the canonical form is stable.

use kms_s3_doctor::policy::context::RequestContext;
use kms_s3_doctor::policy::{Caller, Decision, Evaluation, Policy, Request, Tri};
use proptest::prelude::*;
use serde_json::{Value, json};

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "*",
    "kms:Decrypt",
    "kms:*",
    "s3:PutObject",
    "S3:getobject",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b/${aws:username}",
    "arn:aws:kms:*:111122223333:key/*",
];
const REQUEST_ACTIONS: &[&str] = &["s3:GetObject", "s3:PutObject", "kms:Decrypt"];
const REQUEST_RESOURCES: &[&str] = &[
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/ann",
    "arn:aws:kms:eu-west-1:111122223333:key/1",
];

fn principal() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!("*"))),
        Just(Some(json!({"AWS": "111122223333"}))),
        Just(Some(json!({"AWS": ["arn:aws:iam::111122223333:user/ann"]}))),
        Just(Some(json!({"AWS": "222222222222"}))),
    ]
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!({"StringEquals": {"k": "v"}}))),
        Just(Some(json!({"StringNotEquals": {"k": ["v", "w"]}}))),
        Just(Some(json!({"StringLikeIfExists": {"k": "v*"}}))),
        Just(Some(json!({"Bool": {"aws:SecureTransport": true}}))),
        Just(Some(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))),
        Just(Some(
            json!({"ForAllValues:StringEquals": {"k": ["v", "w"]}})
        )),
        Just(Some(
            json!({"Null": {"k": "false"}, "NumericLessThan": {"s3:max-keys": 10}})
        )),
    ]
}

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(ACTIONS), 1..3),
        prop::collection::vec(prop::sample::select(RESOURCES), 1..3),
        principal(),
        condition(),
    )
        .prop_map(
            |(allow, not_action, actions, resources, principal, condition)| {
                let mut statement = json!({
                    "Effect": if allow { "Allow" } else { "Deny" },
                    "Resource": resources,
                });
                statement[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                if let Some(principal) = principal {
                    statement["Principal"] = principal;
                }
                if let Some(condition) = condition {
                    statement["Condition"] = condition;
                }
                statement
            },
        )
}

fn documents() -> impl Strategy<Value = Vec<Vec<Value>>> {
    prop::collection::vec(prop::collection::vec(statement(), 0..6), 1..4)
}

fn context() -> impl Strategy<Value = RequestContext> {
    (0..3u8, 0..3u8, any::<bool>(), any::<bool>()).prop_map(|(k, ip, tls, user)| {
        let mut context = RequestContext::new();
        match k {
            0 => {}
            1 => context.set("k", "v"),
            _ => context.set_values("k", vec!["v".into(), "x".into()]),
        }
        match ip {
            0 => context.set_unknown("aws:SourceIp"),
            1 => context.set("aws:SourceIp", "10.1.2.3"),
            _ => context.set("aws:SourceIp", "192.0.2.1"),
        }
        context.set("aws:SecureTransport", tls.to_string());
        if user {
            context.set("aws:username", "ann");
        }
        context.set("s3:max-keys", "5");
        context
    })
}

fn caller() -> Caller {
    Caller {
        account: "111122223333".into(),
        principal_arn: "arn:aws:iam::111122223333:user/ann".into(),
        session_arn: None,
        is_role_session: false,
        service: None,
        has_permissions_boundary: false,
    }
}

fn policy(label: &str, statements: &[Value]) -> Policy {
    Policy::parse_value(
        label,
        &json!({"Version": "2012-10-17", "Statement": statements}),
    )
    .unwrap()
}

fn decision(
    policies: &[Policy],
    action: &str,
    resource: &str,
    context: &RequestContext,
) -> Decision {
    let caller = caller();
    Evaluation::of(
        policies,
        &Request {
            action,
            resource,
            caller: &caller,
            context,
        },
    )
    .decide()
}

/// Translates a wildcard pattern into an anchored regex: `*` any run of
/// characters, `?` exactly one.
fn oracle(pattern: &str) -> regex::Regex {
    let mut source = String::from("(?s)^");
    for ch in pattern.chars() {
        match ch {
            '*' => source.push_str(".*"),
            '?' => source.push('.'),
            other => source.push_str(&regex::escape(&other.to_string())),
        }
    }
    source.push('$');
    regex::Regex::new(&source).unwrap()
}

proptest! {
    #[test]
    fn an_applicable_explicit_deny_always_wins(
        documents in documents(),
        context in context(),
        action in prop::sample::select(REQUEST_ACTIONS),
        resource in prop::sample::select(REQUEST_RESOURCES),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
    ) {
        let mut documents = documents;
        let target = which.index(documents.len());
        let position = at.index(documents[target].len() + 1);
        documents[target].insert(position, json!({"Effect": "Deny", "Action": action, "Resource": resource}));
        let policies: Vec<Policy> = documents.iter().enumerate()
            .map(|(index, statements)| policy(&format!("doc {index}"), statements))
            .collect();
        prop_assert_eq!(decision(&policies, action, resource, &context), Decision::ExplicitDeny);
    }

    #[test]
    fn statement_and_document_order_never_change_the_decision(
        documents in documents(),
        context in context(),
        action in prop::sample::select(REQUEST_ACTIONS),
        resource in prop::sample::select(REQUEST_RESOURCES),
        seed in any::<u64>(),
    ) {
        let policies: Vec<Policy> = documents.iter().enumerate()
            .map(|(index, statements)| policy(&format!("doc {index}"), statements))
            .collect();
        let expected = decision(&policies, action, resource, &context);
        // Reverse every document's statements and the document order, then
        // rotate by the seed: a permutation of both levels.
        let mut shuffled: Vec<Vec<Value>> = documents.iter().rev()
            .map(|statements| statements.iter().rev().cloned().collect())
            .collect();
        let len = shuffled.len();
        shuffled.rotate_left((seed as usize) % len);
        for statements in &mut shuffled {
            if !statements.is_empty() {
                let len = statements.len();
                statements.rotate_left((seed as usize / 7) % len);
            }
        }
        let reordered: Vec<Policy> = shuffled.iter().enumerate()
            .map(|(index, statements)| policy(&format!("doc {index}"), statements))
            .collect();
        prop_assert_eq!(decision(&reordered, action, resource, &context), expected);
        // Merging every statement into one document does not change it either.
        let merged: Vec<Value> = documents.concat();
        prop_assert_eq!(decision(&[policy("merged", &merged)], action, resource, &context), expected);
    }

    #[test]
    fn wildcards_agree_with_a_regex_oracle(
        pattern in "[ab:/*?é]{0,8}",
        text in "[ab:/é]{0,10}",
    ) {
        let expected = oracle(&pattern).is_match(&text);
        // As a StringLike condition (case-sensitive, `*` spans everything).
        let like = policy("like", &[json!({
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringLike": {"k": pattern}}
        })]);
        let mut context = RequestContext::new();
        context.set("k", text.clone());
        let caller = caller();
        let request = Request { action: "s3:GetObject", resource: "arn:aws:s3:::b", caller: &caller, context: &context };
        let hits = like.evaluate(&request);
        prop_assert_eq!(hits.first().map(|hit| hit.applies) == Some(Tri::Yes), expected);
        // An empty resource part or action name is rejected at parse time.
        if pattern.is_empty() {
            return Ok(());
        }
        // As a Resource in the resource part of an ARN, where `*` spans `/`
        // and `:` as well.
        let resource = policy("resource", &[json!({
            "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{pattern}")
        })]);
        let object = format!("arn:aws:s3:::{text}");
        let request = Request { action: "s3:GetObject", resource: &object, caller: &caller, context: &context };
        prop_assert_eq!(!resource.evaluate(&request).is_empty(), expected);
        // As an action (case-insensitive).
        let upper = text.to_uppercase();
        let action_policy = policy("action", &[json!({
            "Effect": "Allow", "Action": format!("s3:{pattern}"), "Resource": "*"
        })]);
        let action = format!("s3:{upper}");
        let request = Request { action: &action, resource: "arn:aws:s3:::b", caller: &caller, context: &context };
        let folded = oracle(&pattern.to_ascii_lowercase()).is_match(&upper.to_ascii_lowercase());
        prop_assert_eq!(!action_policy.evaluate(&request).is_empty(), folded);
    }

    #[test]
    fn parse_serialise_parse_is_stable(
        documents in documents(),
        single in any::<bool>(),
        context in context(),
        action in prop::sample::select(REQUEST_ACTIONS),
        resource in prop::sample::select(REQUEST_RESOURCES),
    ) {
        for statements in &documents {
            let document = match (single, statements.as_slice()) {
                (true, [only]) => json!({"Version": "2012-10-17", "Id": "x", "Statement": only}),
                _ => json!({"Version": "2012-10-17", "Statement": statements}),
            };
            let first = Policy::parse_value("p", &document).unwrap();
            let canonical = first.to_value();
            let second = Policy::parse_value("p", &canonical).unwrap();
            prop_assert_eq!(second.to_value(), canonical.clone());
            let text = serde_json::to_string(&canonical).unwrap();
            prop_assert_eq!(Policy::parse_text("p", &text).unwrap().to_value(), canonical);
            prop_assert_eq!(
                decision(&[first], action, resource, &context),
                decision(&[second], action, resource, &context)
            );
        }
    }
}
