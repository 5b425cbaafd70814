//! Arbitrary bytes into the policy parser and, when they parse, into the
//! evaluator: neither may panic, and the canonical form must parse again.

#![no_main]

use kms_s3_doctor::policy::context::RequestContext;
use kms_s3_doctor::policy::positions::JsonPositions;
use kms_s3_doctor::policy::{Caller, Evaluation, Policy, Request};
use libfuzzer_sys::fuzz_target;

/// Requests tried against every policy that parses.
const REQUESTS: &[(&str, &str)] = &[
    ("s3:GetObject", "arn:aws:s3:::bucket/key"),
    ("s3:ListBucket", "arn:aws:s3:::bucket"),
    ("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/1234"),
    ("sts:AssumeRole", "arn:aws:iam::111122223333:role/path/etl"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(positions) = JsonPositions::new(text) {
        let _ = positions.locate("/Statement/0/Action/0");
    }
    let Ok(policy) = Policy::parse_text("fuzz", text) else {
        return;
    };
    // The canonical form of a policy that parsed must parse again.
    let canonical = policy.to_value();
    let again = Policy::parse_value("fuzz", &canonical);
    assert!(again.is_ok(), "canonical form rejected: {again:?}");

    let mut context = RequestContext::new();
    context.set("aws:username", "ann");
    context.set("aws:SecureTransport", "true");
    context.set("aws:CurrentTime", "2026-01-01T00:00:00Z");
    context.set_values("aws:PrincipalTag/team", vec!["data".into(), "ops".into()]);
    context.set_unknown("aws:SourceIp");
    context.set_unknown("aws:SourceVpce");
    let callers = [
        Caller {
            account: "111122223333".into(),
            principal_arn: "arn:aws:iam::111122223333:role/path/etl".into(),
            session_arn: None,
            is_role_session: true,
            service: None,
            has_permissions_boundary: true,
        },
        Caller {
            account: "111122223333".into(),
            principal_arn: "arn:aws:iam::111122223333:user/ann".into(),
            session_arn: None,
            is_role_session: false,
            service: None,
            has_permissions_boundary: false,
        },
    ];
    for caller in &callers {
        for (action, resource) in REQUESTS {
            let request = Request {
                action,
                resource,
                caller,
                context: &context,
            };
            let _ = Evaluation::of([&policy], &request).decide();
        }
    }
});
