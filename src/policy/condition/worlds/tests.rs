#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn condition(operator: &str, key: &str, values: &[&str]) -> Condition {
    Condition::new(
        operator,
        key,
        values
            .iter()
            .map(|value| {
                (
                    value.to_string(),
                    serde_json::Value::String(value.to_string()),
                )
            })
            .collect(),
        true,
    )
    .unwrap()
}

fn texts(values: &[ContextValue]) -> Vec<String> {
    values
        .iter()
        .map(|value| match value {
            ContextValue::Present(values) => values.join("|"),
            ContextValue::Absent => "<absent>".to_string(),
            ContextValue::Unknown => "<unknown>".to_string(),
        })
        .collect()
}

/// Whether some representative meets exactly the conditions `value` meets:
/// the property that makes the representatives exact.
fn represented(conditions: &[Condition], representatives: &[ContextValue], value: &str) -> bool {
    let outcome = |value: &ContextValue| -> Vec<crate::policy::Tri> {
        let mut context = crate::policy::context::RequestContext::new();
        match value {
            ContextValue::Present(values) => {
                context.set_values(conditions[0].key.clone(), values.clone())
            }
            _ => context.set_absent(conditions[0].key.clone()),
        }
        conditions
            .iter()
            .map(|condition| condition.evaluate(&context, &mut Vec::new(), &mut Vec::new()))
            .collect()
    };
    let wanted = outcome(&ContextValue::Present(vec![value.to_string()]));
    representatives
        .iter()
        .any(|representative| outcome(representative) == wanted)
}

#[test]
fn a_boolean_key_has_three_worlds() {
    // aws:MultiFactorAuthPresent is a Boolean key (IAM User Guide, "AWS
    // global condition context keys"): true, false, or not in the request.
    let deny = condition("BoolIfExists", "aws:MultiFactorAuthPresent", &["false"]);
    let values = representatives("aws:MultiFactorAuthPresent", [&deny]).unwrap();
    assert_eq!(texts(&values), ["<absent>", "true", "false"]);
}

#[test]
fn string_patterns_get_one_value_per_combination_they_can_meet() {
    let conditions = [
        condition("StringLike", "aws:PrincipalTag/team", &["data-*", "*-ops"]),
        condition("StringEquals", "aws:PrincipalTag/team", &["data-ops"]),
        condition(
            "StringNotEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            &["Admin"],
        ),
    ];
    let values = representatives("aws:PrincipalTag/team", conditions.iter()).unwrap();
    for probe in [
        "",
        "data-",
        "data-ops",
        "data-x-ops",
        "x-ops",
        "admin",
        "ADMIN",
        "aDmIn",
        "data-OPS",
        "zzz",
        "\u{212A}",
        "-ops",
        "data-ops-ops",
    ] {
        assert!(
            represented(&conditions, &values, probe),
            "{probe} has no representative in {:?}",
            texts(&values)
        );
    }
    assert_eq!(values[0], ContextValue::Absent);
}

#[test]
fn numbers_dates_and_addresses_fall_between_their_constants() {
    let numbers = [condition(
        "NumericLessThan",
        "aws:MultiFactorAuthAge",
        &["3600", "60"],
    )];
    let values = representatives("aws:MultiFactorAuthAge", numbers.iter()).unwrap();
    for probe in ["-5", "0", "60", "61", "3599.5", "3600", "99999"] {
        assert!(represented(&numbers, &values, probe), "{probe}");
    }
    let dates = [condition(
        "DateGreaterThan",
        "aws:TokenIssueTime",
        &["2026-01-01T00:00:00Z"],
    )];
    let values = representatives("aws:TokenIssueTime", dates.iter()).unwrap();
    for probe in [
        "2025-12-31T23:59:59Z",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:01Z",
    ] {
        assert!(represented(&dates, &values, probe), "{probe}");
    }
    let addresses = [
        condition("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"]),
        condition(
            "IpAddress",
            "aws:SourceIp",
            &["203.0.113.128/25", "2001:db8::/32"],
        ),
    ];
    let values = representatives("aws:SourceIp", addresses.iter()).unwrap();
    for probe in [
        "203.0.113.1",
        "203.0.113.200",
        "203.0.114.0",
        "10.0.0.1",
        "2001:db8::1",
        "2001:db9::",
        "::1",
        "255.255.255.255",
    ] {
        assert!(represented(&addresses, &values, probe), "{probe}");
    }
}

#[test]
fn what_cannot_be_partitioned_exactly_gives_nothing() {
    // A multivalued key, a set operator, a variable, an ARN operator, two
    // families on one key: the key stays unknown.
    let refused: [(&str, Condition); 5] = [
        (
            "aws:CalledVia",
            condition("StringEquals", "aws:CalledVia", &["athena.amazonaws.com"]),
        ),
        (
            "aws:PrincipalTag/team",
            condition(
                "ForAnyValue:StringEquals",
                "aws:PrincipalTag/team",
                &["data"],
            ),
        ),
        (
            "aws:PrincipalTag/team",
            condition(
                "StringEquals",
                "aws:PrincipalTag/team",
                &["${aws:username}"],
            ),
        ),
        (
            "aws:SourceArn",
            condition("ArnLike", "aws:SourceArn", &["arn:aws:s3:::b"]),
        ),
        (
            "aws:SourceIp",
            condition("StringLike", "aws:SourceIp", &["10.*"]),
        ),
    ];
    for (key, refused) in &refused {
        assert_eq!(representatives(key, [refused]), None, "{key}");
    }
    let mixed = [
        condition("StringEquals", "aws:PrincipalTag/n", &["1"]),
        condition("NumericLessThan", "aws:PrincipalTag/n", &["2"]),
    ];
    assert_eq!(representatives("aws:PrincipalTag/n", mixed.iter()), None);
    // No condition on the key: nothing says which values matter.
    assert_eq!(representatives("aws:SourceVpce", [&refused[0].1]), None);
}

#[test]
fn null_alone_tells_only_presence() {
    let null = condition("Null", "aws:SourceVpce", &["true"]);
    let values = representatives("aws:SourceVpce", [&null]).unwrap();
    assert_eq!(values.len(), 2);
}

mod exact {
    //! The representatives are exact: any value meets exactly the
    //! conditions some representative meets.
    use super::*;
    use proptest::prelude::*;

    fn text_condition() -> impl Strategy<Value = Condition> {
        let operator = prop::sample::select(vec![
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCaseIfExists",
            "Bool",
        ]);
        let pattern = prop::collection::vec(
            prop::sample::select(vec!['a', 'b', 'A', 'k', '*', '?', '-']),
            0..5,
        )
        .prop_map(|chars| chars.into_iter().collect::<String>());
        (operator, prop::collection::vec(pattern, 1..3)).prop_map(|(operator, values)| {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            condition(operator, "aws:PrincipalTag/team", &values)
        })
    }

    fn probe() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                'a', 'b', 'A', 'B', 'k', 'K', '\u{212A}', '*', '?', '-', 'z', 'é',
            ]),
            0..7,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn every_text_value_has_a_representative(
            conditions in prop::collection::vec(text_condition(), 1..4),
            probes in prop::collection::vec(probe(), 8),
        ) {
            let values = representatives("aws:PrincipalTag/team", conditions.iter()).unwrap();
            for probe in &probes {
                prop_assert!(represented(&conditions, &values, probe), "{probe:?} in {:?}", texts(&values));
            }
        }

        #[test]
        fn every_number_and_address_has_a_representative(
            constants in prop::collection::vec(-50i32..50, 1..4),
            probes in prop::collection::vec(-60.0f64..60.0, 8),
            blocks in prop::collection::vec((0u8..4, 0u8..4, 24u8..33), 1..4),
            addresses in prop::collection::vec((0u8..5, 0u8..5, 0u8..255), 8),
        ) {
            let texts: Vec<String> = constants.iter().map(i32::to_string).collect();
            let operators = ["NumericLessThan", "NumericEquals", "NumericGreaterThanEqualsIfExists"];
            let numbers: Vec<Condition> = texts
                .iter()
                .enumerate()
                .map(|(at, text)| condition(operators[at % 3], "aws:PrincipalTag/n", &[text.as_str()]))
                .collect();
            let values = representatives("aws:PrincipalTag/n", numbers.iter()).unwrap();
            for probe in &probes {
                let probe = probe.to_string();
                prop_assert!(represented(&numbers, &values, &probe), "{probe}");
            }
            prop_assert!(represented(&numbers, &values, "not a number"));
            let cidrs: Vec<String> = blocks
                .iter()
                .map(|(b, c, bits)| format!("10.{b}.{c}.0/{bits}"))
                .collect();
            let ips: Vec<Condition> = cidrs
                .iter()
                .enumerate()
                .map(|(at, cidr)| {
                    condition(["IpAddress", "NotIpAddress"][at % 2], "aws:SourceIp", &[cidr.as_str()])
                })
                .collect();
            let values = representatives("aws:SourceIp", ips.iter()).unwrap();
            for (b, c, d) in &addresses {
                let probe = format!("10.{b}.{c}.{d}");
                prop_assert!(represented(&ips, &values, &probe), "{probe}");
            }
        }
    }
}
