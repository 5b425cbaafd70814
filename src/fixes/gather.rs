//! The first step of completing the judge's proposals: one list of
//! distinct changes. The same change needed by several actions appears once,
//! and statements to add that differ only in their actions are merged into
//! one; each failing link records its change's place in the list.

use serde_json::{Value, json};

use crate::chain::proposal::sid_for;
use crate::diagnosis::{Diagnosis, Fix, FixChange, OperationResult};

/// Gives every failing link's fix its place in one list of distinct changes
/// (see [`crate::diagnosis::Diagnosis::changes`]), recording the place in
/// the link.
pub(crate) fn merge_changes(operations: &mut [OperationResult]) -> Vec<Fix> {
    // Most requests need one or two changes: a list grown from one stays
    // small, where one of four fixes is past the allocator's fast sizes.
    let mut changes: Vec<Fix> = Vec::with_capacity(1);
    for operation in operations.iter_mut() {
        for action in &mut operation.actions {
            for link in &mut action.links {
                let Some(fix) = &link.fix else {
                    continue;
                };
                let index = match changes.iter().position(|change| absorbs(change, fix)) {
                    Some(index) => {
                        // Only statements to add are merged by their actions;
                        // a Deny to remove or edit is the statement as read,
                        // whose Sid must stay its own.
                        if fix.change == FixChange::AddStatement {
                            add_actions(&mut changes[index], fix);
                        }
                        index
                    }
                    None => {
                        changes.push(Fix::clone(fix));
                        changes.len() - 1
                    }
                };
                link.change = Some(index);
            }
        }
    }
    changes
}

/// One change per statement to remove or edit: the same denying statement
/// found by several actions (an SCP denying Get and Put) was proposed once
/// per action, with notes naming each action; once targets are known, the
/// later ones are folded into the first and their links point at it.
pub(crate) fn merge_same_targets(diagnosis: &mut Diagnosis) {
    let mut kept: Vec<Fix> = Vec::with_capacity(diagnosis.changes.len());
    let mut place: Vec<usize> = Vec::with_capacity(diagnosis.changes.len());
    for change in diagnosis.changes.drain(..) {
        let removal = matches!(
            change.change,
            FixChange::RemoveStatement | FixChange::EditStatement
        );
        let same = kept.iter().position(|have| {
            removal
                && have.change == change.change
                && have.account == change.account
                && have.target.is_some()
                && have.target == change.target
        });
        match same {
            Some(index) => place.push(index),
            None => {
                place.push(kept.len());
                kept.push(change);
            }
        }
    }
    diagnosis.changes = kept;
    for operation in &mut diagnosis.operations {
        for action in &mut operation.actions {
            for link in &mut action.links {
                if let Some(index) = link.change {
                    link.change = place.get(index).copied();
                }
            }
        }
    }
}

/// Whether two statements are the same but for the parts that merging may
/// change (`Sid` and `Action`), compared in place.
fn same_shape(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let kept = |map: &'_ serde_json::Map<String, Value>| {
        map.iter()
            .filter(|(key, _)| !matches!(key.as_str(), "Sid" | "Action"))
            .count()
    };
    kept(a) == kept(b)
        && a.iter()
            .filter(|(key, _)| !matches!(key.as_str(), "Sid" | "Action"))
            .all(|(key, value)| b.get(key) == Some(value))
}

/// Whether `fix` is already covered by `change`, once actions are merged.
fn absorbs(change: &Fix, fix: &Fix) -> bool {
    if change.account != fix.account
        || change.document != fix.document
        || change.change != fix.change
    {
        return false;
    }
    match (&change.statement, &fix.statement, change.change) {
        (Some(have), Some(want), FixChange::AddStatement) => same_shape(have, want),
        _ => {
            change.statement == fix.statement
                && change.note == fix.note
                && change.flags == fix.flags
        }
    }
}

fn actions_of(statement: &Value) -> Vec<String> {
    match statement.get("Action") {
        Some(Value::Array(actions)) => actions
            .iter()
            .filter_map(|action| action.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(action)) => vec![action.clone()],
        _ => Vec::new(),
    }
}

fn add_actions(change: &mut Fix, fix: &Fix) {
    let (Some(have), Some(want)) = (change.statement.as_mut(), fix.statement.as_ref()) else {
        return;
    };
    let mut actions = actions_of(have);
    for action in actions_of(want) {
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    if let Some(map) = have.as_object_mut() {
        let names: Vec<&str> = actions.iter().map(String::as_str).collect();
        map.insert("Sid".to_string(), Value::String(sid_for(&names)));
        map.insert("Action".to_string(), json!(actions));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::proposal::{Scope, allow_in_principal_policy, allow_in_resource_policy};
    use crate::diagnosis::LinkId;
    use crate::diagnosis::test_support::{failing, operation};

    #[test]
    fn statements_differing_only_in_actions_merge_into_one() {
        let principal = "arn:aws:iam::222222222222:user/dilip";
        let decrypt = allow_in_resource_policy(
            LinkId::KeyPolicy,
            "111111111111",
            principal,
            "kms:Decrypt",
            "*",
            Scope::ThroughS3 {
                region: "eu-west-1",
            },
        );
        let generate = allow_in_resource_policy(
            LinkId::KeyPolicy,
            "111111111111",
            principal,
            "kms:GenerateDataKey",
            "*",
            Scope::ThroughS3 {
                region: "eu-west-1",
            },
        );
        let other_principal = allow_in_resource_policy(
            LinkId::KeyPolicy,
            "111111111111",
            "arn:aws:iam::222222222222:user/ann",
            "kms:Decrypt",
            "*",
            Scope::ThroughS3 {
                region: "eu-west-1",
            },
        );
        let mut operations = vec![
            operation(vec![failing(decrypt.clone())]),
            operation(vec![
                failing(generate),
                failing(decrypt),
                failing(other_principal),
            ]),
        ];
        let changes = merge_changes(&mut operations);
        assert_eq!(changes.len(), 2);
        let merged = changes[0].statement.as_ref().unwrap();
        assert_eq!(
            merged["Action"],
            json!(["kms:Decrypt", "kms:GenerateDataKey"])
        );
        assert_eq!(merged["Sid"], "AllowKmsDecryptGenerateDataKey");
        let indexes: Vec<Option<usize>> = operations
            .iter()
            .flat_map(|operation| &operation.actions[0].links)
            .map(|link| link.change)
            .collect();
        assert_eq!(indexes, vec![Some(0), Some(0), Some(0), Some(1)]);
    }

    #[test]
    fn a_fix_to_another_account_or_document_stays_apart() {
        let identity = allow_in_principal_policy(
            LinkId::IdentityPolicy,
            "222222222222",
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111111111111:key/k",
        );
        let boundary = allow_in_principal_policy(
            LinkId::PermissionsBoundary,
            "222222222222",
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111111111111:key/k",
        );
        let mut operations = vec![operation(vec![failing(identity), failing(boundary)])];
        assert_eq!(merge_changes(&mut operations).len(), 2);
    }
}
