//! Proof before display: every change's whole document is laid over a copy
//! of the snapshot, the same request is judged again, and the report says
//! what that found. Changes that are not documents (enable a key, change a
//! setting, re-encrypt objects) cannot be laid over a snapshot; the links
//! they mend show up as still failing, with their change named.

use crate::chain::principal::find_info;
use crate::chain::{CheckRequest, PlannedAction, Shared, Target, rejudge};
use crate::diagnosis::{Diagnosis, FixChange, LinkStatus, Recheck, Remaining};
use crate::diagnosis::{FixTarget, LinkId};
use crate::fixes::merge::{Base, Merged, base_of, principal_info};
use crate::policy::arn::Principal;
use crate::snapshot::{DocRef, Field, NamedPolicy, PolicyDoc, PolicyKind, PrincipalInfo, Snapshot};

/// A copy of `snapshot` with every change's `document_after` installed, and
/// the indexes of the changes that made it in.
pub fn apply(snapshot: &Snapshot, diagnosis: &Diagnosis) -> (Snapshot, Vec<usize>) {
    apply_merged(snapshot, diagnosis, &[], &[], None)
}

/// [`apply`], parsing of each merged document only the statements that
/// `merged` does not say are unchanged from the snapshot's. With `request`,
/// the copy keeps only the principal entries a re-check of that request
/// reads or changes (see [`principals_read`]).
fn apply_merged(
    snapshot: &Snapshot,
    diagnosis: &Diagnosis,
    merged: &[Merged],
    skip: &[usize],
    request: Option<&CheckRequest>,
) -> (Snapshot, Vec<usize>) {
    let mut patched = match request {
        Some(request) => {
            snapshot.copy_keeping_principals(&principals_read(snapshot, request, diagnosis))
        }
        None => snapshot.clone(),
    };
    let mut applied = Vec::new();
    for (index, change) in diagnosis.changes.iter().enumerate() {
        if skip.contains(&index) {
            continue;
        }
        let (Some(target), Some(document)) = (&change.target, &change.document_after) else {
            continue;
        };
        // Changes to one document share one merged document: it is laid
        // once, by the first of them.
        if let Some(&first) = change.with_changes.first()
            && first < index
        {
            if applied.contains(&first) {
                applied.push(index);
            }
            continue;
        }
        // Checked against the original: the target must still be found.
        let Some(base) = base_of(snapshot, target) else {
            continue;
        };
        let kept = merged
            .iter()
            .find(|merged| merged.first == index)
            .map(|merged| merged.kept.as_slice());
        let parsed = match (base, kept) {
            (Base::Doc(base), Some(kept)) => {
                PolicyDoc::from_value_keeping("document", document, &base.policy, kept)
            }
            _ => PolicyDoc::from_value("document", document),
        };
        let Ok(doc) = parsed else {
            continue;
        };
        if install(&mut patched, target, doc) {
            applied.push(index);
        }
    }
    patched.identify_documents();
    (patched, applied)
}

fn install(snapshot: &mut Snapshot, target: &FixTarget, doc: PolicyDoc) -> bool {
    match target.kind {
        LinkId::AccessPointPolicy => {
            let Some(point) = snapshot
                .access_points
                .iter_mut()
                .find(|point| point.arn == target.resource)
            else {
                return false;
            };
            point.policy = Field::Some(doc);
        }
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
        LinkId::SessionPolicy | LinkId::Scp | LinkId::Rcp => {
            let Some(slot) = target.doc.as_deref().and_then(|id| snapshot.get_mut(id)) else {
                return false;
            };
            *slot = doc;
        }
        LinkId::ObjectOwnership
        | LinkId::BlockPublicAccess
        | LinkId::BucketEncryption
        | LinkId::KeyState
        | LinkId::ReplicationConfiguration
        | LinkId::Versioning
        | LinkId::ServiceSupport
        | LinkId::Authentication => return false,
    }
    true
}

/// The entries of `snapshot` that judging `request` again over a copy with
/// `diagnosis`'s changes reads or changes: the entries of the request's
/// principal and of its `--via-role` role (the judge reads no other entry:
/// every link looks its principals up through those two), and the holders
/// of the documents the changes replace, found as installing them finds
/// them. A snapshot of thousands of principals is then not copied whole for
/// each re-check.
fn principals_read<'s>(
    snapshot: &'s Snapshot,
    request: &CheckRequest,
    diagnosis: &Diagnosis,
) -> Vec<&'s PrincipalInfo> {
    let mut read = Vec::new();
    let judged = Principal::parse_caller(&request.principal)
        .ok()
        .into_iter()
        .chain(
            request
                .via_role
                .as_deref()
                .and_then(|role| Principal::parse(role).ok()),
        );
    for principal in judged {
        read.extend(find_info(snapshot, &principal));
    }
    for target in diagnosis
        .changes
        .iter()
        .filter_map(|change| change.target.as_ref())
    {
        let holder = match target.kind {
            LinkId::TrustPolicy => Some(target.resource.as_str()),
            _ => target.principal.as_deref(),
        };
        let in_doc = target.doc.as_deref().and_then(|doc| match doc {
            DocRef::IdentityPolicy { principal, .. }
            | DocRef::PermissionsBoundary { principal }
            | DocRef::SessionPolicy { principal, .. } => Some(principal.as_str()),
            DocRef::TrustPolicy { role } => Some(role.as_str()),
            _ => None,
        });
        for arn in holder.into_iter().chain(in_doc) {
            read.extend(principal_info(snapshot, arn));
            read.extend(snapshot.principal_by_arn(arn));
        }
    }
    read
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

/// Whether judging `planned` may read a document of kind `kind`, so that
/// replacing one can change its result. The resource side is the only
/// document that differs by action: a bucket policy is read for S3 actions,
/// a key policy (with its grants) for KMS actions, a trust policy for
/// `sts:AssumeRole`. Every other document (the principal's own policies,
/// boundary, session policies, SCPs, RCPs) may be read by any action.
fn reads(planned: &PlannedAction, kind: LinkId) -> bool {
    // A destination-side replication action reads the destination's
    // documents, whichever they are.
    if matches!(planned.target, Target::Replica(_)) {
        return true;
    }
    match kind {
        LinkId::BucketPolicy | LinkId::AccessPointPolicy => matches!(
            planned.target,
            Target::Bucket | Target::Object(_) | Target::Session { .. }
        ),
        LinkId::KeyPolicy => matches!(planned.target, Target::Key(_)),
        LinkId::TrustPolicy => matches!(planned.target, Target::Role),
        _ => true,
    }
}

/// Judges the request again over the changed snapshot and records what it
/// found in `diagnosis.recheck`.
/// `contexts` are the first judgement's, which hold for the changed
/// snapshot too: a context reads no document.
pub(super) fn run(
    snapshot: &Snapshot,
    request: &CheckRequest,
    diagnosis: &mut Diagnosis,
    contexts: &Shared,
    merged: &[Merged],
) {
    let shortcuts = Shortcuts { reads, prune: true };
    run_with(snapshot, request, diagnosis, shortcuts, contexts, merged);
}

/// The work a re-check leaves out because it cannot change its answer.
#[derive(Clone, Copy)]
struct Shortcuts {
    /// Which actions a replaced document of a kind can change: the others
    /// are copied from the first judgement.
    reads: fn(&PlannedAction, LinkId) -> bool,
    /// Copy only the principal entries the re-check reads or changes.
    prune: bool,
}

/// [`run`], leaving out what `shortcuts` says.
fn run_with(
    snapshot: &Snapshot,
    request: &CheckRequest,
    diagnosis: &mut Diagnosis,
    shortcuts: Shortcuts,
    contexts: &Shared,
    merged: &[Merged],
) {
    if diagnosis.changes.is_empty() {
        return;
    }
    // Alternatives are re-checked apart: the first of each pair with the
    // rest, then each alternative in place of the change it stands for.
    let alternatives: Vec<usize> = (0..diagnosis.changes.len())
        .filter(|&index| diagnosis.changes[index].alternative_to.is_some())
        .collect();
    let Some(mut recheck) = recheck_without(
        snapshot,
        request,
        diagnosis,
        shortcuts,
        contexts,
        merged,
        &alternatives,
    ) else {
        return;
    };
    if !alternatives.is_empty() {
        let replaced: Vec<usize> = diagnosis
            .changes
            .iter()
            .filter_map(|change| change.alternative_to)
            .collect();
        recheck.alternative = recheck_without(
            snapshot, request, diagnosis, shortcuts, contexts, merged, &replaced,
        )
        .map(Box::new);
    }
    diagnosis.recheck = Some(recheck);
}

/// The re-check with every change but those of `skip` applied.
fn recheck_without(
    snapshot: &Snapshot,
    request: &CheckRequest,
    diagnosis: &Diagnosis,
    shortcuts: Shortcuts,
    contexts: &Shared,
    merged: &[Merged],
    skip: &[usize],
) -> Option<Recheck> {
    let pruned_for = shortcuts.prune.then_some(request);
    let (patched, mut applied) = apply_merged(snapshot, diagnosis, merged, skip, pruned_for);
    // The caller's remedies are applied to the request, not the snapshot.
    let remedied = with_remedies(request, diagnosis, &mut applied);
    applied.sort_unstable();
    let not_applied: Vec<usize> = (0..diagnosis.changes.len())
        .filter(|index| !applied.contains(index) && !skip.contains(index))
        .collect();
    let kinds: Vec<LinkId> = applied
        .iter()
        .filter_map(|&index| diagnosis.changes.get(index))
        .filter_map(|change| change.target.as_ref())
        .map(|target| target.kind)
        .collect();
    let changed = |planned: &PlannedAction| {
        remedied.is_some() || kinds.iter().any(|&kind| (shortcuts.reads)(planned, kind))
    };
    // A request changed by a remedy builds its contexts afresh.
    let fresh = Shared::default();
    let (request, contexts) = match &remedied {
        Some(remedied) => (remedied, &fresh),
        None => (request, contexts),
    };
    // The request was judged once already: judging it again cannot fail on
    // input. Should it, no re-check is shown rather than a wrong one.
    let Ok((verdict, operations)) =
        rejudge(&patched, request, &diagnosis.operations, &changed, contexts)
    else {
        return None;
    };
    let mut remaining = Vec::new();
    for operation in &operations {
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
    Some(Recheck {
        applied,
        not_applied,
        verdict,
        operations: operations
            .iter()
            .map(|operation| (operation.operation, operation.verdict))
            .collect(),
        remaining,
        alternative: None,
    })
}

/// The request with every `request` change's flags applied (`--context
/// KEY=VALUE` replacing what the request said of the key, `--external-id`),
/// recording those changes as applied; `None` when there is none.
fn with_remedies(
    request: &CheckRequest,
    diagnosis: &Diagnosis,
    applied: &mut Vec<usize>,
) -> Option<CheckRequest> {
    let mut remedied: Option<CheckRequest> = None;
    for (index, change) in diagnosis.changes.iter().enumerate() {
        if change.change != FixChange::Request {
            continue;
        }
        let request = remedied.get_or_insert_with(|| request.clone());
        let mut flags = change.flags.iter();
        while let (Some(flag), Some(value)) = (flags.next(), flags.next()) {
            match flag.as_str() {
                "--context" => {
                    if let Some((key, value)) = value.split_once('=') {
                        request
                            .context
                            .retain(|(have, _)| !have.eq_ignore_ascii_case(key));
                        request.context.push((key.to_string(), value.to_string()));
                    }
                }
                "--external-id" => request.external_id = Some(value.clone()),
                _ => {}
            }
        }
        applied.push(index);
    }
    remedied
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::chain::judge_once;
    use crate::diagnosis::Operation;

    fn fixtures() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
    }

    /// Every request of the scenario corpus (with its flags as plain pairs)
    /// and every principal of the walkthrough.
    fn cases() -> Vec<(String, Snapshot, CheckRequest)> {
        let request = |bucket: &str, principal: &str| CheckRequest {
            access_point: None,
            bucket: bucket.to_string(),
            object: None,
            principal: principal.to_string(),
            via_role: None,
            external_id: None,
            operations: vec![
                Operation::List,
                Operation::Get,
                Operation::Put,
                Operation::Multipart,
                Operation::Copy,
            ],
            context: Vec::new(),
            via_service: None,
            unknown_context: Vec::new(),
            now: chrono::Utc::now(),
        };
        let mut cases = Vec::new();
        let text = std::fs::read_to_string(fixtures().join("walkthrough.json")).unwrap();
        let walkthrough = Snapshot::parse("walkthrough.json", &text).unwrap();
        for principal in &walkthrough.principals {
            for object in [None, Some("reports/data.csv")] {
                let mut request = request("account-a-bucket", &principal.arn);
                request.object = object.map(str::to_string);
                cases.push((principal.arn.clone(), walkthrough.clone(), request));
            }
        }
        let mut paths: Vec<_> = std::fs::read_dir(fixtures().join("scenarios"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let scenario: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let Some(snapshot) = scenario["snapshot"]
                .as_object()
                .and_then(|_| Snapshot::parse("scenario", &scenario["snapshot"].to_string()).ok())
            else {
                continue;
            };
            let args: Vec<String> = serde_json::from_value(scenario["args"].clone()).unwrap();
            let mut request = request("", "");
            let mut words = args.iter();
            let mut usable = true;
            while let (Some(flag), Some(value)) = (words.next(), words.next()) {
                let value = value.clone();
                match flag.as_str() {
                    "--bucket" => request.bucket = value,
                    "--object" => request.object = Some(value),
                    "--principal" => request.principal = value,
                    "--via-role" => request.via_role = Some(value),
                    "--external-id" => request.external_id = Some(value),
                    "--context" => match value.split_once('=') {
                        Some((key, value)) => {
                            request.context.push((key.to_string(), value.to_string()))
                        }
                        None => usable = false,
                    },
                    "--op" => match value.split(',').map(Operation::parse).collect() {
                        Some(operations) => request.operations = operations,
                        None => usable = false,
                    },
                    "--expect" => {}
                    _ => usable = false,
                }
            }
            if usable {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                cases.push((name, snapshot, request));
            }
        }
        cases
    }

    #[test]
    fn keeping_unchanged_statements_lays_the_documents_a_full_parse_lays() {
        let mut merged_documents = 0;
        for (name, snapshot, request) in cases() {
            let Ok(mut judged) = judge_once(&snapshot, &request) else {
                continue;
            };
            judged.changes = crate::fixes::gather::merge_changes(&mut judged.operations);
            crate::fixes::target::resolve(&snapshot, &mut judged);
            let merged = crate::fixes::merge::documents(&snapshot, &mut judged);
            merged_documents += merged
                .iter()
                .filter(|merged| merged.kept.iter().any(Option::is_some))
                .count();
            let (kept, kept_applied) = apply_merged(&snapshot, &judged, &merged, &[], None);
            let (parsed, parsed_applied) = apply(&snapshot, &judged);
            assert_eq!(kept_applied, parsed_applied, "{name}");
            // Debug shows every parsed field: statements, their positions,
            // conditions and principals.
            assert_eq!(format!("{kept:?}"), format!("{parsed:?}"), "{name}");
        }
        assert!(
            merged_documents > 20,
            "only {merged_documents} documents keep statements"
        );
    }

    #[test]
    fn copying_the_actions_a_change_cannot_reach_rechecks_as_judging_them_all() {
        let mut rechecked = 0;
        let mut mismatches = Vec::new();
        for (name, snapshot, request) in cases() {
            // As `check` judges: contexts kept from the first judgement,
            // actions no change reaches copied.
            let Ok(copied) = crate::pipeline::judge_and_fix(&snapshot, &request) else {
                continue;
            };
            // Every action judged afresh, every context built afresh.
            let mut judged = judge_once(&snapshot, &request).unwrap();
            judged.changes = crate::fixes::gather::merge_changes(&mut judged.operations);
            crate::fixes::target::resolve(&snapshot, &mut judged);
            crate::fixes::gather::merge_same_targets(&mut judged);
            let merged = crate::fixes::merge::documents(&snapshot, &mut judged);
            crate::fixes::alternatives::mark(&mut judged);
            run_with(
                &snapshot,
                &request,
                &mut judged,
                Shortcuts {
                    reads: |_, _| true,
                    prune: false,
                },
                &Shared::default(),
                &merged,
            );
            if copied.recheck.is_some() {
                rechecked += 1;
            }
            if copied.recheck != judged.recheck {
                mismatches.push(name);
            }
        }
        assert!(rechecked > 20, "only {rechecked} cases have a re-check");
        assert!(mismatches.is_empty(), "{mismatches:?}");
    }
}
