//! Metamorphic properties of the judge, over every acceptance scenario:
//! removing an `Allow` statement, adding a `Deny` that matches everything,
//! disabling a key, or making any field of the snapshot unknown can never
//! turn a `denied` or `inconclusive` verdict into `allowed` (IAM User Guide,
//! "Policy evaluation logic": an explicit deny wins, and without an allow the
//! request is implicitly denied). Nor can adding a point AWS's documentation
//! leaves open: such a result is unknown, never allowed.
//! The safety net against a wrong "allowed".

use kms_s3_doctor::diagnosis::Verdict;
use kms_s3_doctor::snapshot::Snapshot;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::scenario::{judgeable, verdict};

/// JSON pointers of every policy document of a snapshot value.
fn documents(snapshot: &Value) -> Vec<String> {
    let parsed = Snapshot::parse("s", &snapshot.to_string()).unwrap();
    parsed
        .documents()
        .into_iter()
        .filter_map(|(id, _)| parsed.pointer_of(&id))
        .collect()
}

/// The document at `pointer` as an object (decoding a JSON string).
fn document_object(snapshot: &Value, pointer: &str) -> Option<Value> {
    match snapshot.pointer(pointer)? {
        object @ Value::Object(_) => Some(object.clone()),
        Value::String(text) => {
            let decoded = percent_encoding::percent_decode_str(text.trim())
                .decode_utf8()
                .ok()?
                .into_owned();
            let value: Value = serde_json::from_str(&decoded).ok()?;
            match value {
                Value::String(inner) => serde_json::from_str(&inner).ok(),
                other => Some(other),
            }
        }
        _ => None,
    }
}

fn statements_of(document: &mut Value) -> Option<&mut Vec<Value>> {
    let statement = document.get_mut("Statement")?;
    if statement.is_object() {
        *statement = Value::Array(vec![statement.clone()]);
    }
    statement.as_array_mut()
}

/// Removes the `pick`-th `Allow` statement of the snapshot, if any.
fn remove_allow(snapshot: &Value, pick: usize) -> Option<Value> {
    let mut allows = Vec::new();
    for pointer in documents(snapshot) {
        let mut document = document_object(snapshot, &pointer)?;
        let count = statements_of(&mut document)?.len();
        for index in 0..count {
            let statement = &statements_of(&mut document)?[index];
            // Removing a bucket policy's grant to anyone can make the policy
            // non-public, which lifts RestrictPublicBuckets from every
            // cross-account grant it blocked (S3 API Reference,
            // "PublicAccessBlockConfiguration"): not a weakening there.
            let public_grant = pointer.starts_with("/buckets")
                && (statement.get("NotPrincipal").is_some()
                    || statement["Principal"] == "*"
                    || statement["Principal"]["AWS"] == "*");
            if statement["Effect"] == "Allow" && !public_grant {
                allows.push((pointer.clone(), index));
            }
        }
    }
    let (pointer, index) = allows.get(pick % allows.len().max(1))?.clone();
    let mut document = document_object(snapshot, &pointer)?;
    statements_of(&mut document)?.remove(index);
    let mut out = snapshot.clone();
    *out.pointer_mut(&pointer)? = document;
    Some(out)
}

/// Adds a statement denying everything to the `pick`-th document.
fn add_deny(snapshot: &Value, pick: usize) -> Option<Value> {
    let pointers = documents(snapshot);
    let pointer = pointers.get(pick % pointers.len().max(1))?;
    let mut document = document_object(snapshot, pointer)?;
    let resource_policy = pointer.starts_with("/buckets") || pointer.starts_with("/keys");
    let trust = pointer.ends_with("trust_policy");
    let deny = if resource_policy || trust {
        json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"})
    } else {
        json!({"Effect": "Deny", "Action": "*", "Resource": "*"})
    };
    statements_of(&mut document)?.push(deny);
    let mut out = snapshot.clone();
    *out.pointer_mut(pointer)? = document;
    Some(out)
}

fn disable_key(snapshot: &Value, pick: usize, state: &str) -> Option<Value> {
    let mut out = snapshot.clone();
    let keys = out.get_mut("keys")?.as_array_mut()?;
    if keys.is_empty() {
        return None;
    }
    let count = keys.len();
    keys[pick % count]["state"] = json!(state);
    Some(out)
}

/// Every optional field that may be made unknown by removing it.
fn removable_fields(value: &Value, pointer: &str, out: &mut Vec<String>) {
    const FIELDS: &[&str] = &[
        "org_id",
        "scps",
        "rcps",
        "policy",
        "encryption",
        "ownership",
        "owner",
        "acl",
        "state",
        "grants",
        "tags",
        "policies",
        "permissions_boundary",
        "trust_policy",
        "session_policies",
        "region",
        "manager",
    ];
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_pointer =
                    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                if FIELDS.contains(&key.as_str()) && !pointer.contains("/document") {
                    out.push(child_pointer.clone());
                }
                if !matches!(
                    key.as_str(),
                    "policy" | "document" | "trust_policy" | "session_policies"
                ) {
                    removable_fields(child, &child_pointer, out);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                removable_fields(item, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

fn make_unknown(snapshot: &Value, pick: usize) -> Option<Value> {
    let mut fields = Vec::new();
    removable_fields(snapshot, "", &mut fields);
    let pointer = fields.get(pick % fields.len().max(1))?;
    let (parent, key) = pointer.rsplit_once('/')?;
    let mut out = snapshot.clone();
    let key = key.replace("~1", "/").replace("~0", "~");
    out.pointer_mut(parent)?.as_object_mut()?.remove(&key)?;
    Some(out)
}

/// Adds `statement` to the `pick`-th document; resource-side documents (and
/// trust policies) get `principal` as the statement's `Principal` unless it
/// names its own.
fn add_statement(snapshot: &Value, pick: usize, statement: Value) -> Option<Value> {
    let pointers = documents(snapshot);
    let pointer = pointers.get(pick % pointers.len().max(1))?;
    let mut document = document_object(snapshot, pointer)?;
    let resource_side = pointer.starts_with("/buckets")
        || pointer.starts_with("/keys")
        || pointer.ends_with("trust_policy");
    let mut statement = statement;
    let object = statement.as_object_mut()?;
    if resource_side {
        if !object.contains_key("NotPrincipal") {
            object.entry("Principal").or_insert(json!("*"));
        }
    } else if object.contains_key("NotPrincipal") {
        // NotPrincipal is for resource-based policies only (IAM User Guide,
        // "AWS JSON policy elements: NotPrincipal"): nothing to add here.
        return None;
    }
    statements_of(&mut document)?.push(statement);
    let mut out = snapshot.clone();
    *out.pointer_mut(pointer)? = document;
    Some(out)
}

/// Each point AWS's documentation leaves open, added to
/// the snapshot so that nothing else changes for the caller:
/// - an `Allow` whose action has a wildcard service prefix (IAM User Guide,
///   "Grammar of the IAM JSON policy language", notes on `action_string`);
/// - an `Allow` with a multivalued key under an operator without
///   `ForAnyValue:`/`ForAllValues:` ("Single-valued vs. multivalued context
///   keys"); a positive operator, so an absent key grants nothing under the
///   documented absent-key rule either;
/// - a resource-side `Deny` with `NotPrincipal` listing the caller without
///   its account ("AWS JSON policy elements: NotPrincipal");
/// - a resource-side grant naming the caller's session or user ARN
///   rewritten to `"*"`: the same grant for the caller, but whether it is
///   limited by a session policy is no longer documented ("Policies and
///   permissions in AWS Identity and Access Management", "Session
///   policies").
fn add_open_reading(snapshot: &Value, caller: &str, pick: usize) -> Option<Value> {
    let which = pick % 4;
    let pick = pick / 4;
    match which {
        0 => {
            let action = ["*:*", "s*:GetObject", "*:Decrypt", "?3:*", "k*:*"][pick % 5];
            add_statement(
                snapshot,
                pick / 5,
                json!({"Effect": "Allow", "Action": action, "Resource": "*"}),
            )
        }
        1 => {
            let key = [
                "aws:TagKeys",
                "aws:PrincipalOrgPaths",
                "aws:ResourceOrgPaths",
                "kms:EncryptionContextKeys",
                "aws:CalledVia",
            ][pick % 5];
            let operator = ["StringLike", "StringEquals"][(pick / 5) % 2];
            let value = if operator == "StringLike" {
                "*"
            } else {
                "aws:s3:arn"
            };
            add_statement(
                snapshot,
                pick / 10,
                json!({"Effect": "Allow", "Action": "*", "Resource": "*",
                       "Condition": {operator: {key: value}}}),
            )
        }
        2 => {
            // A user, role or session ARN; the account is then not listed.
            if !caller.starts_with("arn:") || caller.ends_with(":root") {
                return None;
            }
            add_statement(
                snapshot,
                pick,
                json!({"Effect": "Deny", "NotPrincipal": {"AWS": caller},
                       "Action": "*", "Resource": "*"}),
            )
        }
        _ => widen_named_grant(snapshot, caller),
    }
}

/// Rewrites to `"*"` every resource-side `Allow` whose `Principal` names
/// exactly `caller` (a session or user ARN).
fn widen_named_grant(snapshot: &Value, caller: &str) -> Option<Value> {
    if !(caller.contains(":assumed-role/") || caller.contains(":user/")) {
        return None;
    }
    let mut out = snapshot.clone();
    let mut changed = false;
    for pointer in documents(snapshot) {
        if !(pointer.starts_with("/buckets") || pointer.starts_with("/keys")) {
            continue;
        }
        let mut document = document_object(snapshot, &pointer)?;
        let mut touched = false;
        for statement in statements_of(&mut document)? {
            let names = |value: &Value| match value {
                Value::String(text) => text == caller,
                Value::Array(items) => items.len() == 1 && items[0] == caller,
                _ => false,
            };
            if statement["Effect"] == "Allow"
                && statement
                    .get("Principal")
                    .and_then(|p| p.get("AWS"))
                    .is_some_and(names)
                && statement["Principal"]
                    .as_object()
                    .is_some_and(|p| p.len() == 1)
            {
                statement["Principal"] = json!("*");
                touched = true;
            }
        }
        if touched {
            *out.pointer_mut(&pointer)? = document;
            changed = true;
        }
    }
    changed.then_some(out)
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    RemoveAllow,
    AddDeny,
    DisableKey,
    MakeUnknown,
}

fn mutate(snapshot: &Value, mutation: Mutation, pick: usize) -> Option<Value> {
    match mutation {
        Mutation::RemoveAllow => remove_allow(snapshot, pick),
        Mutation::AddDeny => add_deny(snapshot, pick),
        Mutation::DisableKey => disable_key(
            snapshot,
            pick,
            ["Disabled", "PendingDeletion", "Unavailable"][pick % 3],
        ),
        Mutation::MakeUnknown => make_unknown(snapshot, pick),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_weakening_mutation_turns_a_verdict_into_allowed(
        scenario in 0usize..1000,
        mutation in prop_oneof![
            Just(Mutation::RemoveAllow),
            Just(Mutation::AddDeny),
            Just(Mutation::DisableKey),
            Just(Mutation::MakeUnknown),
        ],
        pick in 0usize..10_000,
    ) {
        let all = judgeable();
        let scenario = &all[scenario % all.len()];
        let Some(before) = verdict(&scenario.snapshot, &scenario.request) else {
            return Ok(());
        };
        let Some(mutated) = mutate(&scenario.snapshot, mutation, pick) else {
            return Ok(());
        };
        let Some(after) = verdict(&mutated, &scenario.request) else {
            return Ok(());
        };
        if before != Verdict::Allowed {
            prop_assert_ne!(
                after,
                Verdict::Allowed,
                "{}: {:?} (pick {}) turned {:?} into allowed",
                scenario.name, mutation, pick, before
            );
        }
    }
}

proptest! {
    // Modest: every scenario is judged twice per case.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Where AWS's documentation leaves the reading open
    /// the result is unknown, never allowed, so adding an open reading can
    /// never turn a denied or inconclusive verdict into allowed.
    #[test]
    fn no_open_reading_turns_a_verdict_into_allowed(
        scenario in 0usize..1000,
        pick in 0usize..10_000,
    ) {
        let all = judgeable();
        let scenario = &all[scenario % all.len()];
        let Some(before) = verdict(&scenario.snapshot, &scenario.request) else {
            return Ok(());
        };
        let Some(mutated) = add_open_reading(&scenario.snapshot, &scenario.request.principal, pick) else {
            return Ok(());
        };
        let Some(after) = verdict(&mutated, &scenario.request) else {
            return Ok(());
        };
        if before != Verdict::Allowed {
            prop_assert_ne!(
                after,
                Verdict::Allowed,
                "{}: open reading (pick {}) turned {:?} into allowed",
                scenario.name, pick, before
            );
        }
    }
}

/// The first picks of each kind of open reading on every scenario,
/// deterministically, besides the random walk above.
#[test]
fn every_scenario_survives_every_open_reading() {
    let mut checked = 0;
    for scenario in judgeable() {
        let Some(before) = verdict(&scenario.snapshot, &scenario.request) else {
            continue;
        };
        for pick in 0..8 {
            let Some(mutated) =
                add_open_reading(&scenario.snapshot, &scenario.request.principal, pick)
            else {
                continue;
            };
            let Some(after) = verdict(&mutated, &scenario.request) else {
                continue;
            };
            checked += 1;
            assert!(
                before == Verdict::Allowed || after != Verdict::Allowed,
                "{}: open reading (pick {pick}) turned {before:?} into allowed",
                scenario.name
            );
        }
    }
    assert!(checked > 200, "only {checked} open readings were judged");
}

/// Every mutation of every scenario once, deterministically, besides the
/// random walk above.
#[test]
fn every_scenario_survives_every_mutation() {
    let mut checked = 0;
    for scenario in judgeable() {
        let Some(before) = verdict(&scenario.snapshot, &scenario.request) else {
            continue;
        };
        for mutation in [
            Mutation::RemoveAllow,
            Mutation::AddDeny,
            Mutation::DisableKey,
            Mutation::MakeUnknown,
        ] {
            for pick in 0..4 {
                let Some(mutated) = mutate(&scenario.snapshot, mutation, pick) else {
                    continue;
                };
                let Some(after) = verdict(&mutated, &scenario.request) else {
                    continue;
                };
                checked += 1;
                assert!(
                    before == Verdict::Allowed || after != Verdict::Allowed,
                    "{}: {mutation:?} (pick {pick}) turned {before:?} into allowed",
                    scenario.name
                );
            }
        }
    }
    assert!(checked > 200, "only {checked} mutations were judged");
}
