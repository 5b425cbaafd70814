//! The whole document after the changes: every change to the same target
//! merged into what the snapshot holds. A statement to add extends an
//! existing one that differs from it only in its actions (the minimal
//! change); otherwise it is appended with a `Sid` of its own. Removals go by
//! the statement index the judge reported.

use serde_json::{Value, json};

use crate::diagnosis::{Diagnosis, FixChange, FixTarget, LinkId};
use crate::snapshot::{Field, PolicyDoc, Snapshot};

/// The key two changes share a document by.
pub(super) type TargetKey = (
    LinkId,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(super) fn key_of(target: &FixTarget) -> TargetKey {
    (
        target.kind,
        target.resource.clone(),
        target.principal.clone(),
        target.policy_name.clone(),
        target.group.clone(),
    )
}

/// Whether a change is a statement change that a document can hold.
pub(super) fn is_statement_change(change: FixChange) -> bool {
    matches!(
        change,
        FixChange::AddStatement | FixChange::RemoveStatement | FixChange::EditStatement
    )
}

/// One merged document: the change that lays it (the first of those it
/// holds) and, for each of its statements, the index of the statement of the
/// document the snapshot holds that it is unchanged from, so that the
/// re-check parses only what the changes wrote.
pub(super) struct Merged {
    pub(super) first: usize,
    pub(super) kept: Vec<Option<usize>>,
}

/// Sets `document_after` and `with_changes` on every statement change whose
/// document the snapshot holds.
pub(super) fn documents(snapshot: &Snapshot, diagnosis: &mut Diagnosis) -> Vec<Merged> {
    let mut merged = Vec::new();
    let mut groups: Vec<(TargetKey, Vec<usize>)> = Vec::new();
    for (index, change) in diagnosis.changes.iter().enumerate() {
        let Some(target) = &change.target else {
            continue;
        };
        // A removal or an edit needs the statement's index; an addition, the
        // statement.
        let usable = match change.change {
            FixChange::AddStatement => change.statement.is_some(),
            _ => target.statement.is_some(),
        };
        if !is_statement_change(change.change) || !usable {
            continue;
        }
        let key = key_of(target);
        match groups.iter_mut().find(|(have, _)| *have == key) {
            Some((_, members)) => members.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    for (_, members) in groups {
        let Some(target) = diagnosis.changes[members[0]].target.clone() else {
            continue;
        };
        let Some(mut document) = base_document(snapshot, &target) else {
            continue;
        };
        let count = document
            .get("Statement")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut kept: Vec<Option<usize>> = (0..count).map(Some).collect();
        let mut removals = Vec::new();
        let mut replacements: Vec<(usize, Value)> = Vec::new();
        for &index in &members {
            let change = &diagnosis.changes[index];
            match (change.change, &change.statement, &change.target) {
                (FixChange::AddStatement, Some(statement), _) => {
                    match add(&mut document, statement).map(|at| kept.get_mut(at)) {
                        Some(Some(extended)) => *extended = None,
                        Some(None) => kept.push(None),
                        None => {}
                    }
                }
                // An edit that carries the statement as edited (a Deny with
                // an exception added) replaces it in place: the guard stays.
                (FixChange::EditStatement, Some(statement), Some(target)) if change.replaces => {
                    if let Some(at) = target.statement {
                        replacements.push((at, statement.clone()));
                    }
                }
                (_, _, Some(target)) if target.statement.is_some() => {
                    removals.extend(target.statement);
                }
                _ => {}
            }
        }
        removals.sort_unstable();
        removals.dedup();
        if let Some(statements) = document.get_mut("Statement").and_then(Value::as_array_mut) {
            for (at, statement) in replacements {
                if let (Some(slot), Some(kept)) = (statements.get_mut(at), kept.get_mut(at))
                    && !removals.contains(&at)
                {
                    *slot = statement;
                    *kept = None;
                }
            }
            // Additions only extend statements in place or append, so the
            // judge's indexes still name the statements to remove.
            for at in removals.into_iter().rev() {
                // `kept` has one entry per statement.
                if at < statements.len() {
                    statements.remove(at);
                    kept.remove(at);
                }
            }
        }
        let changed = changed_positions(&kept, count);
        merged.push(Merged {
            first: members[0],
            kept,
        });
        if let Some((&last, others)) = members.split_last() {
            for &index in others {
                diagnosis.changes[index].document_after = Some(document.clone());
                diagnosis.changes[index].with_changes = members.clone();
                diagnosis.changes[index].changed_statements = Some(changed.clone());
            }
            diagnosis.changes[last].document_after = Some(document);
            diagnosis.changes[last].with_changes = members;
            diagnosis.changes[last].changed_statements = Some(changed);
        }
    }
    merged
}

/// The positions in the merged document of what differs from the `count`
/// statements as read, from `kept` (each merged statement's original, `None`
/// for one a change wrote): every written statement, and the statements on
/// either side of one removed.
fn changed_positions(kept: &[Option<usize>], count: usize) -> Vec<usize> {
    let mut changed = Vec::new();
    let mut next = 0;
    for (at, original) in kept.iter().enumerate() {
        match *original {
            // A statement extended or replaced stands where its original
            // stood; one appended comes after every original.
            None => {
                changed.push(at);
                next += 1;
            }
            Some(original) => {
                if original != next {
                    changed.extend(at.checked_sub(1));
                    changed.push(at);
                }
                next = original + 1;
            }
        }
    }
    if next != count {
        changed.extend(kept.len().checked_sub(1));
    }
    changed.sort_unstable();
    changed.dedup();
    changed
}

fn empty_document() -> Value {
    json!({"Version": "2012-10-17", "Statement": []})
}

fn value_of(doc: &PolicyDoc) -> Value {
    // The document as its owner wrote it where it can be read back as JSON,
    // so the change shows only what it changes; the parsed policy's
    // canonical form otherwise (a URL-encoded text, say).
    let mut value = match doc.raw_value() {
        raw @ Value::Object(_) => raw,
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(parsed @ Value::Object(_)) => parsed,
            _ => doc.policy.to_value(),
        },
        _ => doc.policy.to_value(),
    };
    // One statement written as an object becomes a list, so that statements
    // can be added beside it.
    if let Some(map) = value.as_object_mut() {
        match map.remove("Statement") {
            Some(Value::Array(list)) => map.insert("Statement".into(), Value::Array(list)),
            Some(single) => map.insert("Statement".into(), json!([single])),
            None => map.insert("Statement".into(), json!([])),
        };
    }
    value
}

/// The document a change is merged into: one the snapshot holds, or an
/// empty one.
pub(super) enum Base<'s> {
    Doc(&'s PolicyDoc),
    Empty,
}

fn known_or_empty(field: &Field<PolicyDoc>) -> Option<Base<'_>> {
    match field {
        Field::Some(doc) => Some(Base::Doc(doc)),
        Field::None => Some(Base::Empty),
        // Never merge into a document the tool did not read: the result
        // would drop what it holds.
        Field::Unknown => None,
    }
}

/// The document a target names, as the snapshot holds it.
pub(super) fn base_document(snapshot: &Snapshot, target: &FixTarget) -> Option<Value> {
    base_of(snapshot, target).map(|base| match base {
        Base::Doc(doc) => value_of(doc),
        Base::Empty => empty_document(),
    })
}

/// Where the document a target names is, without writing it out.
pub(super) fn base_of<'s>(snapshot: &'s Snapshot, target: &FixTarget) -> Option<Base<'s>> {
    match target.kind {
        LinkId::BucketPolicy => {
            let bucket = snapshot
                .buckets
                .iter()
                .find(|bucket| bucket.name == target.resource)?;
            known_or_empty(&bucket.policy)
        }
        LinkId::KeyPolicy => {
            let key = snapshot
                .keys
                .iter()
                .find(|key| key.arn == target.resource)?;
            known_or_empty(&key.policy)
        }
        LinkId::AccessPointPolicy => {
            let point = snapshot
                .access_points
                .iter()
                .find(|point| point.arn == target.resource)?;
            known_or_empty(&point.policy)
        }
        LinkId::TrustPolicy => {
            let info = principal_info(snapshot, &target.resource)?;
            known_or_empty(&info.trust_policy)
        }
        LinkId::IdentityPolicy => {
            let info = principal_info(snapshot, target.principal.as_deref()?)?;
            let policies = info.policies.known();
            let wanted = match (&target.group, &target.policy_name) {
                (Some(group), Some(name)) => format!("{group}/{name}"),
                (None, Some(name)) => name.clone(),
                _ => target.resource.clone(),
            };
            let existing = policies
                .into_iter()
                .flatten()
                .find(|named| named.name == wanted);
            match existing {
                Some(named) => Some(Base::Doc(&named.document)),
                // A new inline policy for the statements the principal lacks.
                None if target.statement.is_none() && info.policies.known().is_some() => {
                    Some(Base::Empty)
                }
                None => None,
            }
        }
        LinkId::PermissionsBoundary => {
            let info = principal_info(snapshot, target.principal.as_deref()?)?;
            let named = info.permissions_boundary.known()?;
            Some(Base::Doc(&named.document))
        }
        LinkId::SessionPolicy | LinkId::Scp | LinkId::Rcp => {
            Some(Base::Doc(snapshot.get(target.doc.as_deref()?)?))
        }
        LinkId::ObjectOwnership
        | LinkId::BlockPublicAccess
        | LinkId::BucketEncryption
        | LinkId::KeyState
        | LinkId::ReplicationConfiguration
        | LinkId::Versioning
        | LinkId::ServiceSupport
        | LinkId::Authentication => None,
    }
}

/// Which session policy a session-policy target names.
pub(super) fn session_index(target: &FixTarget) -> Option<usize> {
    match target.doc.as_deref()? {
        crate::snapshot::DocRef::SessionPolicy { index, .. } => Some(*index),
        _ => None,
    }
}

pub(super) fn principal_info<'s>(
    snapshot: &'s Snapshot,
    arn: &str,
) -> Option<&'s crate::snapshot::PrincipalInfo> {
    let principal = crate::policy::arn::Principal::parse(arn).ok()?;
    crate::chain::principal::find_info(snapshot, &principal)
}

/// Whether two statements are the same but for `Sid` and `Action` (both
/// must have `Action`), a single value being the same as a one-item list
/// and lists of resources and principals being compared as sets. Compared
/// in place: the statements of a document are compared with every
/// statement a fix adds.
fn same_but_actions(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return false;
    };
    if !a.contains_key("Action") || !b.contains_key("Action") {
        return false;
    }
    let compared = |key: &&String| !matches!(key.as_str(), "Sid" | "Action");
    if a.keys().filter(compared).count() != b.keys().filter(compared).count() {
        return false;
    }
    a.iter()
        .filter(|(key, _)| compared(key))
        .all(|(key, value)| {
            let Some(other) = b.get(key) else {
                return false;
            };
            match (key.as_str(), value, other) {
                ("Resource" | "NotResource", _, _) => same_list(value, other),
                ("Principal", Value::Object(value), Value::Object(other)) => {
                    value.len() == other.len()
                        && value.iter().all(|(kind, list)| {
                            other
                                .get(kind)
                                .is_some_and(|theirs| same_list(list, theirs))
                        })
                }
                _ => value == other,
            }
        })
}

/// A string is a one-item list; lists hold the same items in any order.
fn same_list(a: &Value, b: &Value) -> bool {
    fn items(value: &Value) -> Vec<String> {
        let mut items: Vec<String> = match value {
            Value::Array(list) => list.iter().map(Value::to_string).collect(),
            single => vec![single.to_string()],
        };
        items.sort_unstable();
        items
    }
    match (a, b) {
        (Value::String(a), Value::String(b)) => a == b,
        _ => items(a) == items(b),
    }
}

fn actions(statement: &Value) -> Vec<Value> {
    match statement.get("Action") {
        Some(Value::Array(list)) => list.clone(),
        Some(single @ Value::String(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// Adds `statement`: extends an existing Allow that differs only in its
/// actions, else appends it with a `Sid` no other statement has. The index
/// of the statement extended or appended; `None` when the document has no
/// statement list.
fn add(document: &mut Value, statement: &Value) -> Option<usize> {
    let statements = document
        .get_mut("Statement")
        .and_then(Value::as_array_mut)?;
    let extendable = statements.iter_mut().enumerate().find(|(_, existing)| {
        existing.get("Effect").and_then(Value::as_str) == Some("Allow")
            && same_but_actions(existing, statement)
    });
    if let Some((at, existing)) = extendable {
        let mut list = actions(existing);
        for action in actions(statement) {
            if !list.contains(&action) {
                list.push(action);
            }
        }
        if let Some(map) = existing.as_object_mut() {
            map.insert("Action".into(), Value::Array(list));
        }
        return Some(at);
    }
    let mut statement = statement.clone();
    let sids: Vec<String> = statements
        .iter()
        .filter_map(|existing| existing.get("Sid").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    if let Some(map) = statement.as_object_mut()
        && let Some(sid) = map.get("Sid").and_then(Value::as_str).map(str::to_string)
        && sids.contains(&sid)
    {
        let unique = (2..)
            .map(|n| format!("{sid}{n}"))
            .find(|candidate| !sids.contains(candidate))
            .unwrap_or(sid);
        map.insert("Sid".into(), Value::String(unique));
    }
    statements.push(statement);
    Some(statements.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_changed_positions_are_the_written_statements_and_those_beside_a_removal() {
        // Statement 2 of 6 removed, statement 4 extended, one appended.
        let kept = [Some(0), Some(1), Some(3), None, Some(5), None];
        assert_eq!(changed_positions(&kept, 6), vec![1, 2, 3, 5]);
        // The last statement removed: the new last one borders it.
        assert_eq!(changed_positions(&[Some(0), Some(1)], 3), vec![1]);
        assert_eq!(
            changed_positions(&[Some(0), Some(1)], 2),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn an_allow_differing_only_in_actions_is_extended() {
        let mut document = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:user/d"},
             "Action": "kms:Encrypt", "Resource": "*"}
        ]});
        let at = add(
            &mut document,
            &json!({"Sid": "AllowKmsDecrypt", "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::2:user/d"]},
                    "Action": ["kms:Decrypt"], "Resource": "*"}),
        );
        assert_eq!(at, Some(0));
        let statements = document["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Sid"], "Use");
        assert_eq!(
            statements[0]["Action"],
            json!(["kms:Encrypt", "kms:Decrypt"])
        );
    }

    #[test]
    fn a_different_statement_is_appended_with_a_unique_sid() {
        let mut document = json!({"Statement": [
            {"Sid": "AllowKmsDecrypt", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:root"},
             "Action": "kms:Decrypt", "Resource": "*"}
        ]});
        let at = add(
            &mut document,
            &json!({"Sid": "AllowKmsDecrypt", "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::2:user/d"},
                    "Action": ["kms:Decrypt"], "Resource": "*"}),
        );
        assert_eq!(at, Some(1));
        let statements = document["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[1]["Sid"], "AllowKmsDecrypt2");
    }

    #[test]
    fn a_deny_is_never_extended() {
        let mut document = json!({"Statement": [
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::2:user/d"},
             "Action": "kms:Encrypt", "Resource": "*"}
        ]});
        add(
            &mut document,
            &json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:user/d"},
                    "Action": ["kms:Decrypt"], "Resource": "*"}),
        );
        assert_eq!(document["Statement"].as_array().unwrap().len(), 2);
    }
}
