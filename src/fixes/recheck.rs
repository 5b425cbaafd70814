//! Proof before display: every change's whole document is laid over a copy
//! of the snapshot, the same request is judged again, and the report says
//! what that found. Changes that are not documents (enable a key, change a
//! setting, re-encrypt objects) cannot be laid over a snapshot; the links
//! they mend show up as still failing, with their change named.

use crate::chain::{CheckRequest, judge_once};
use crate::diagnosis::{Diagnosis, LinkStatus, Recheck, Remaining};
use crate::diagnosis::{FixTarget, LinkId};
use crate::fixes::merge::{base_document, organization_label, principal_info, session_index};
use crate::fixes::target::organization_policy;
use crate::snapshot::{Field, NamedPolicy, PolicyDoc, PolicyKind, Snapshot};

/// A copy of `snapshot` with every change's `document_after` installed, and
/// the indexes of the changes that made it in.
pub fn apply(snapshot: &Snapshot, diagnosis: &Diagnosis) -> (Snapshot, Vec<usize>) {
    let mut patched = snapshot.clone();
    let mut applied = Vec::new();
    for (index, change) in diagnosis.changes.iter().enumerate() {
        let (Some(target), Some(document)) = (&change.target, &change.document_after) else {
            continue;
        };
        // Checked against the original: the target must still be found.
        if base_document(snapshot, target).is_none() {
            continue;
        }
        let Ok(doc) = PolicyDoc::from_value("document", document) else {
            continue;
        };
        if install(&mut patched, target, doc) {
            applied.push(index);
        }
    }
    patched.label_documents();
    (patched, applied)
}

fn install(snapshot: &mut Snapshot, target: &FixTarget, doc: PolicyDoc) -> bool {
    match target.kind {
        LinkId::BucketPolicy => {
            let Some(bucket) = snapshot
                .buckets
                .iter_mut()
                .find(|bucket| bucket.name == target.resource)
            else {
                return false;
            };
            bucket.policy = Field::Some(doc);
        }
        LinkId::KeyPolicy => {
            let Some(key) = snapshot
                .keys
                .iter_mut()
                .find(|key| key.arn == target.resource)
            else {
                return false;
            };
            key.policy = Field::Some(doc);
        }
        LinkId::TrustPolicy => {
            let Some(info) = principal_mut(snapshot, &target.resource) else {
                return false;
            };
            info.trust_policy = Field::Some(doc);
        }
        LinkId::IdentityPolicy => {
            let Some(holder) = target.principal.clone() else {
                return false;
            };
            let (name, kind) = match (&target.group, &target.policy_name) {
                (Some(group), Some(name)) => (format!("{group}/{name}"), PolicyKind::GroupInline),
                (None, Some(name)) => (name.clone(), PolicyKind::Inline),
                _ => (target.resource.clone(), PolicyKind::Managed),
            };
            let Some(info) = principal_mut(snapshot, &holder) else {
                return false;
            };
            let Field::Some(policies) = &mut info.policies else {
                return false;
            };
            match policies.iter_mut().find(|named| named.name == name) {
                Some(named) => named.document = doc,
                None => policies.push(NamedPolicy {
                    name,
                    kind: Some(kind),
                    document: doc,
                }),
            }
        }
        LinkId::PermissionsBoundary => {
            let Some(holder) = target.principal.clone() else {
                return false;
            };
            let Some(info) = principal_mut(snapshot, &holder) else {
                return false;
            };
            let Field::Some(named) = &mut info.permissions_boundary else {
                return false;
            };
            named.document = doc;
        }
        LinkId::SessionPolicy => {
            let (Some(holder), Some(index)) = (target.principal.clone(), session_index(target))
            else {
                return false;
            };
            let Some(info) = principal_mut(snapshot, &holder) else {
                return false;
            };
            let Field::Some(docs) = &mut info.session_policies else {
                return false;
            };
            let Some(slot) = docs.get_mut(index) else {
                return false;
            };
            *slot = doc;
        }
        LinkId::Scp | LinkId::Rcp => {
            let Some(label) = organization_label(snapshot, target) else {
                return false;
            };
            let Some((account, (level, _), _)) = organization_policy(snapshot, target.kind, &label)
            else {
                return false;
            };
            let Some(info) = snapshot.accounts.get_mut(&account) else {
                return false;
            };
            let levels = match target.kind {
                LinkId::Scp => &mut info.scps,
                _ => &mut info.rcps,
            };
            let Field::Some(levels) = levels else {
                return false;
            };
            let Some(named) = levels.get_mut(level).and_then(|policies| {
                policies
                    .iter_mut()
                    .find(|named| named.name == target.resource)
            }) else {
                return false;
            };
            named.document = doc;
        }
        LinkId::ObjectOwnership | LinkId::BucketEncryption | LinkId::KeyState => return false,
    }
    true
}

fn principal_mut<'s>(
    snapshot: &'s mut Snapshot,
    arn: &str,
) -> Option<&'s mut crate::snapshot::PrincipalInfo> {
    let wanted = principal_info(snapshot, arn)?.arn.clone();
    snapshot
        .principals
        .iter_mut()
        .find(|info| info.arn == wanted)
}

/// Judges the request again over the changed snapshot and records what it
/// found in `diagnosis.recheck`.
pub(super) fn run(snapshot: &Snapshot, request: &CheckRequest, diagnosis: &mut Diagnosis) {
    if diagnosis.changes.is_empty() {
        return;
    }
    let (patched, applied) = apply(snapshot, diagnosis);
    let not_applied: Vec<usize> = (0..diagnosis.changes.len())
        .filter(|index| !applied.contains(index))
        .collect();
    // The request was judged once already: judging it again cannot fail on
    // input. Should it, no re-check is shown rather than a wrong one.
    let Ok(after) = judge_once(&patched, request) else {
        return;
    };
    let mut remaining = Vec::new();
    for operation in &after.operations {
        for action in &operation.actions {
            for link in &action.links {
                if link.status == LinkStatus::Pass {
                    continue;
                }
                let change = diagnosis
                    .operations
                    .iter()
                    .filter(|before| before.operation == operation.operation)
                    .flat_map(|before| &before.actions)
                    .filter(|before| before.action == action.action)
                    .flat_map(|before| &before.links)
                    .find(|before| before.link == link.link)
                    .and_then(|before| before.change);
                remaining.push(Remaining {
                    operation: operation.operation,
                    action: action.action.clone(),
                    link: link.link,
                    status: link.status,
                    reason: link.reason.clone(),
                    change,
                });
            }
        }
    }
    diagnosis.recheck = Some(Recheck {
        applied,
        not_applied,
        verdict: after.verdict,
        operations: after
            .operations
            .iter()
            .map(|operation| (operation.operation, operation.verdict))
            .collect(),
        remaining,
    });
}
