//! Deciding over worlds never disagrees with a concrete request: when a
//! link says "denied whatever `K` is" (or "allowed whatever"), judging the
//! same request with any concrete value of `K` (and of the other unknown
//! keys) gives that link the same status, and an `allowed` verdict stays
//! `allowed`. Policies are generated over four keys the tool cannot know
//! (IAM User Guide, "AWS global condition context keys": Boolean
//! `aws:MultiFactorAuthPresent`, numeric `aws:MultiFactorAuthAge`, IP
//! address `aws:SourceIp`, string `aws:SourceVpce`) with the operators of
//! "IAM JSON policy elements: Condition operators", `...IfExists` and
//! `Null` included, for a caller in the bucket's account or in another
//! ("Cross-account policy evaluation logic").

use proptest::prelude::*;
use serde_json::{Value, json};

use super::worlds::{get_object_as, snapshot_for};
use kms_s3_doctor::diagnosis::{LinkStatus, Verdict};

/// The caller: in the bucket's account, or (cross-account, where both the
/// identity and the bucket policy must allow) in another.
const USERS: [&str; 2] = [
    "arn:aws:iam::111111111111:user/ann",
    "arn:aws:iam::222222222222:user/bob",
];

fn condition() -> impl Strategy<Value = Option<Value>> {
    let bool_operator = prop::sample::select(vec!["Bool", "BoolIfExists"]);
    let number_operator = prop::sample::select(vec![
        "NumericLessThan",
        "NumericGreaterThanEquals",
        "NumericEqualsIfExists",
        "NumericNotEquals",
    ]);
    let ip_operator =
        prop::sample::select(vec!["IpAddress", "NotIpAddress", "NotIpAddressIfExists"]);
    let text_operator = prop::sample::select(vec![
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLikeIfExists",
        "StringEqualsIgnoreCase",
    ]);
    prop_oneof![
        Just(None),
        (bool_operator, prop::sample::select(vec!["true", "false"]))
            .prop_map(|(op, value)| Some(json!({op: {"aws:MultiFactorAuthPresent": value}}))),
        (number_operator, prop::sample::select(vec!["60", "3600"]))
            .prop_map(|(op, value)| Some(json!({op: {"aws:MultiFactorAuthAge": value}}))),
        (
            ip_operator,
            prop::sample::select(vec![
                "10.0.0.0/8",
                "10.1.0.0/16",
                "203.0.113.0/24",
                "2001:db8::/32"
            ])
        )
            .prop_map(|(op, value)| Some(json!({op: {"aws:SourceIp": value}}))),
        (
            text_operator,
            prop::sample::select(vec!["vpce-1", "vpce-*", "*-2", "VPCE-1"])
        )
            .prop_map(|(op, value)| Some(json!({op: {"aws:SourceVpce": value}}))),
        (
            prop::sample::select(vec!["aws:MultiFactorAuthPresent", "aws:SourceVpce"]),
            any::<bool>()
        )
            .prop_map(|(key, null)| Some(json!({"Null": {key: (null.to_string())}}))),
    ]
}

fn statement(principal: Option<&'static str>) -> impl Strategy<Value = Value> {
    (any::<bool>(), condition(), condition()).prop_map(move |(allow, first, second)| {
        let mut statement = json!({
            "Effect": if allow { "Allow" } else { "Deny" },
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bucket-a/*",
        });
        if let Some(principal) = principal {
            statement["Principal"] = json!({"AWS": principal});
        }
        let mut conditions = serde_json::Map::new();
        for block in [first, second].into_iter().flatten() {
            for (operator, keys) in block.as_object().unwrap() {
                let entry = conditions
                    .entry(operator.clone())
                    .or_insert_with(|| json!({}));
                for (key, value) in keys.as_object().unwrap() {
                    entry[key] = value.clone();
                }
            }
        }
        if !conditions.is_empty() {
            statement["Condition"] = Value::Object(conditions);
        }
        statement
    })
}

/// A caller and its snapshot.
fn policies() -> impl Strategy<Value = (&'static str, Value)> {
    prop::sample::select(USERS.to_vec()).prop_flat_map(|user| {
        // Same account, a grant to the caller itself; across accounts, to
        // the caller's account, and the identity policy must allow too.
        let principal = if user == USERS[0] {
            user
        } else {
            "arn:aws:iam::222222222222:root"
        };
        (
            prop::collection::vec(statement(None), 1..4),
            prop::collection::vec(statement(Some(principal)), 0..3),
        )
            .prop_map(move |(identity, bucket)| {
                let bucket_policy = if bucket.is_empty() {
                    Value::Null
                } else {
                    json!({"Version": "2012-10-17", "Statement": bucket})
                };
                (
                    user,
                    snapshot_for(user, Value::Array(identity), bucket_policy),
                )
            })
    })
}

/// Concrete values for the four keys; `None` leaves a key unknown.
fn concrete() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    (
        prop::option::of(prop::sample::select(vec!["true", "false"])),
        prop::option::of(prop::sample::select(vec![
            "0", "59.5", "60", "61", "3600", "99999",
        ])),
        prop::option::of(prop::sample::select(vec![
            "10.0.0.1",
            "10.1.2.3",
            "203.0.113.9",
            "8.8.8.8",
            "2001:db8::1",
            "::1",
        ])),
        prop::option::of(prop::sample::select(vec![
            "vpce-1", "vpce-2", "VPCE-1", "x-2", "other",
        ])),
    )
        .prop_map(|(mfa, age, ip, vpce)| {
            let mut context = Vec::new();
            context.extend(mfa.map(|value| ("aws:MultiFactorAuthPresent", value)));
            context.extend(age.map(|value| ("aws:MultiFactorAuthAge", value)));
            context.extend(ip.map(|value| ("aws:SourceIp", value)));
            context.extend(vpce.map(|value| ("aws:SourceVpce", value)));
            context
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_decision_over_worlds_holds_for_every_concrete_request(
        (user, snapshot) in policies(),
        contexts in prop::collection::vec(concrete(), 4),
    ) {
        let unknown = get_object_as(user, &snapshot, &[]);
        for context in &contexts {
            let known = get_object_as(user, &snapshot, context);
            for link in unknown.links.iter().filter(|link| link.reason.contains(" whatever `")) {
                let concrete = known.links.iter().find(|other| other.link == link.link);
                // A request another link already denies is decided: its
                // other links are not judged over worlds and may stay
                // unknown, which contradicts no decision.
                if known.verdict == Verdict::Denied
                    && concrete.is_some_and(|other| other.status == LinkStatus::Unknown)
                {
                    continue;
                }
                prop_assert_eq!(
                    concrete.map(|other| other.status),
                    Some(link.status),
                    "{}: {} (with {:?}: {:?})",
                    link.link.as_str(),
                    link.reason,
                    context,
                    concrete.map(|other| other.reason.clone())
                );
            }
            if unknown.verdict == Verdict::Allowed {
                prop_assert_eq!(known.verdict, Verdict::Allowed, "with {:?}", context);
            }
            if unknown.verdict == Verdict::Denied {
                prop_assert_eq!(known.verdict, Verdict::Denied, "with {:?}", context);
            }
        }
        // Decided links hang on nothing.
        for link in &unknown.links {
            if link.status != LinkStatus::Unknown {
                prop_assert!(link.unknown_keys.is_empty(), "{}", link.reason);
            }
        }
    }
}
