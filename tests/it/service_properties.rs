//! Metamorphic properties of the judge for callers that are no IAM
//! identity (service principals, `anonymous`, CloudFront origin access
//! identities), over every acceptance scenario with such a caller. Such a
//! caller has no identity policies, so the resource's policies decide
//! alone (IAM User Guide, "Policy evaluation logic"; "AWS JSON policy
//! elements: Principal", AWS service principals):
//! - a `Deny` naming the service in the bucket policy denies every
//!   operation (each needs an S3 action on the bucket);
//! - forgetting a request-context value the caller's request carried
//!   (`aws:SourceArn`, `aws:SourceAccount`, ...) leaves the result
//!   unknown, never better: the tool cannot know it otherwise;
//! - a grant created closer to the request (within KMS's consistency
//!   window) can only make the verdict worse;
//! - removing a statement that names the service, or a grant to it, can
//!   only make the verdict worse.

use std::sync::OnceLock;

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Verdict;
use kms_s3_doctor::policy::arn::Principal;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::scenario::{Scenario, judgeable, verdict};

/// The scenarios whose caller is no IAM identity.
fn scenarios() -> &'static [&'static Scenario] {
    static OUTSIDE: OnceLock<Vec<&'static Scenario>> = OnceLock::new();
    OUTSIDE.get_or_init(|| {
        let out: Vec<&Scenario> = judgeable()
            .iter()
            .filter(|scenario| {
                Principal::parse_caller(&scenario.request.principal)
                    .is_ok_and(|principal| !principal.is_iam())
            })
            .collect();
        assert!(
            out.len() >= 10,
            "only {} scenarios with a caller outside IAM",
            out.len()
        );
        out
    })
}

fn statements(document: &mut Value) -> Option<&mut Vec<Value>> {
    let statement = document.get_mut("Statement")?;
    if statement.is_object() {
        *statement = Value::Array(vec![statement.clone()]);
    }
    statement.as_array_mut()
}

/// The service principal's name, or the caller as policies name it.
fn named(request: &CheckRequest) -> Value {
    let caller = &request.principal;
    if caller.ends_with(".amazonaws.com") || caller.ends_with(".amazonaws.com.cn") {
        json!({"Service": caller})
    } else if caller == "anonymous" {
        json!("*")
    } else {
        json!({"AWS": caller})
    }
}

/// Adds a Deny of everything for the caller to the bucket policy.
fn deny_in_bucket_policy(scenario: &Scenario) -> Option<Value> {
    let mut out = scenario.snapshot.clone();
    let bucket = out["buckets"]
        .as_array_mut()?
        .iter_mut()
        .find(|bucket| bucket["name"] == scenario.request.bucket.as_str())?;
    let policy = bucket.get_mut("policy")?;
    if policy.is_null() {
        *policy = json!({"Version": "2012-10-17", "Statement": []});
    }
    statements(policy)?.push(json!({
        "Effect": "Deny",
        "Principal": named(&scenario.request),
        "Action": "*",
        "Resource": "*",
    }));
    Some(out)
}

/// Removes the `pick`-th statement or grant that names the caller.
fn remove_naming(scenario: &Scenario, pick: usize) -> Option<Value> {
    let caller = &scenario.request.principal;
    let mut out = scenario.snapshot.clone();
    let mut places: Vec<(String, usize)> = Vec::new();
    for (kind, list) in [("buckets", "policy"), ("keys", "policy")] {
        for (index, entry) in out[kind].as_array()?.iter().enumerate() {
            let mut document = entry[list].clone();
            let Some(statements) = statements(&mut document) else {
                continue;
            };
            for (number, statement) in statements.iter().enumerate() {
                if statement["Effect"] == "Allow"
                    && statement["Principal"].to_string().contains(caller.as_str())
                {
                    places.push((format!("/{kind}/{index}/{list}"), number));
                }
            }
        }
    }
    for (index, key) in out["keys"].as_array()?.iter().enumerate() {
        for (number, grant) in key["grants"].as_array().into_iter().flatten().enumerate() {
            if grant["grantee_service_principal"] == caller.as_str() {
                places.push((format!("/keys/{index}/grants"), number));
            }
        }
    }
    let (pointer, number) = places.get(pick % places.len().max(1))?.clone();
    let target = out.pointer_mut(&pointer)?;
    let list = if pointer.ends_with("/grants") {
        target.as_array_mut()?
    } else {
        statements(target)?
    };
    list.remove(number);
    Some(out)
}

/// The grants' creation moved to `seconds` before the request.
fn grants_created(scenario: &Scenario, seconds: i64) -> Option<Value> {
    let mut out = scenario.snapshot.clone();
    let when = (scenario.request.now - chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut changed = false;
    for key in out["keys"].as_array_mut()? {
        for grant in key["grants"].as_array_mut().into_iter().flatten() {
            grant["created_at"] = json!(when);
            changed = true;
        }
    }
    changed.then_some(out)
}

/// `allowed` < `inconclusive` < `denied`.
fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Allowed => 0,
        Verdict::Inconclusive => 1,
        Verdict::Denied => 2,
    }
}

#[test]
fn a_deny_naming_the_caller_in_the_bucket_policy_denies_every_scenario() {
    for scenario in scenarios() {
        let mutated = deny_in_bucket_policy(scenario).unwrap();
        let after = verdict(&mutated, &scenario.request);
        assert_eq!(after, Some(Verdict::Denied), "{}", scenario.name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn forgetting_a_context_value_never_makes_a_verdict_better(
        scenario in 0usize..1000,
        pick in 0usize..100,
    ) {
        let all = scenarios();
        let scenario = &all[scenario % all.len()];
        if scenario.request.context.is_empty() {
            return Ok(());
        }
        let before = verdict(&scenario.snapshot, &scenario.request).unwrap();
        let mut forgetful = scenario.request.clone();
        forgetful.context.remove(pick % forgetful.context.len());
        let after = verdict(&scenario.snapshot, &forgetful).unwrap();
        prop_assert!(
            rank(after) >= rank(before) || after == Verdict::Inconclusive,
            "{}: forgetting context {} turned {:?} into {:?}",
            scenario.name, pick, before, after
        );
        if before != Verdict::Allowed {
            prop_assert_ne!(after, Verdict::Allowed, "{}", scenario.name);
        }
    }

    #[test]
    fn removing_what_names_the_caller_never_makes_a_verdict_better(
        scenario in 0usize..1000,
        pick in 0usize..100,
    ) {
        let all = scenarios();
        let scenario = &all[scenario % all.len()];
        let before = verdict(&scenario.snapshot, &scenario.request).unwrap();
        let Some(mutated) = remove_naming(scenario, pick) else {
            return Ok(());
        };
        let after = verdict(&mutated, &scenario.request).unwrap();
        prop_assert!(
            rank(after) >= rank(before),
            "{}: removing statement or grant {} turned {:?} into {:?}",
            scenario.name, pick, before, after
        );
    }

    #[test]
    fn a_younger_grant_never_makes_a_verdict_better(
        scenario in 0usize..1000,
        older in 300i64..10_000_000,
        younger in 0i64..300,
    ) {
        let all = scenarios();
        let scenario = &all[scenario % all.len()];
        let (Some(old), Some(young)) = (grants_created(scenario, older), grants_created(scenario, younger)) else {
            return Ok(());
        };
        let mut request = scenario.request.clone();
        request.context.retain(|(key, _)| !key.eq_ignore_ascii_case("aws:CurrentTime"));
        let before = verdict(&old, &request).unwrap();
        let after = verdict(&young, &request).unwrap();
        prop_assert!(
            rank(after) >= rank(before),
            "{}: a grant {}s old judged {:?}, {}s old {:?}",
            scenario.name, older, before, younger, after
        );
        prop_assert_ne!(after, Verdict::Allowed, "{}: a grant {}s old allowed", scenario.name, younger);
    }
}
