//! Which document each change is made to: the link's document kind, the
//! resource holding it, the principal and inline policy name for identity
//! documents, the statement index and `Sid` for removals and edits, and the
//! account whose admin applies it. Found from the failing link, its evidence
//! and the snapshot.

use crate::chain::principal::find_info;
use crate::diagnosis::{
    ActionResult, Diagnosis, Evidence, EvidenceRole, Fix, FixChange, FixTarget, LinkId, LinkResult,
};
use crate::policy::arn::Principal;
use std::sync::Arc;

use crate::snapshot::{
    DocRef, NamedPolicy, OrgLevel, PolicyKind, PrincipalInfo, Snapshot, bucket_name_of,
};

/// The inline policy a principal gets for the statements it lacks: one name
/// per bucket, so that running the tool again after applying extends it
/// instead of adding a second.
pub(super) fn inline_policy_name(bucket: &str) -> String {
    format!("kms-s3-doctor-{bucket}")
}

/// Sets the target of every change and of every link's fix.
pub(super) fn resolve(snapshot: &Snapshot, diagnosis: &mut Diagnosis) {
    let mut targets: Vec<Option<FixTarget>> = vec![None; diagnosis.changes.len()];
    for operation in &diagnosis.operations {
        for action in &operation.actions {
            for link in &action.links {
                let Some(index) = link.change else {
                    continue;
                };
                let Some(change) = diagnosis.changes.get(index) else {
                    continue;
                };
                if targets[index].is_none() {
                    targets[index] = target_of(snapshot, diagnosis, change, action, link);
                }
            }
        }
    }
    for operation in &mut diagnosis.operations {
        for action in &mut operation.actions {
            for link in &mut action.links {
                if let (Some(index), Some(fix)) = (link.change, link.fix.as_mut()) {
                    fix.target = targets.get(index).cloned().flatten().map(Box::new);
                }
            }
        }
    }
    for (change, target) in diagnosis.changes.iter_mut().zip(targets) {
        change.target = target.map(Box::new);
    }
}

/// The principal whose own documents an action is judged by: the source
/// principal for the AssumeRole step, the role session for the rest.
fn actor<'s>(
    snapshot: &'s Snapshot,
    diagnosis: &Diagnosis,
    action: &ActionResult,
) -> Option<(String, Option<&'s PrincipalInfo>)> {
    let text = match (&diagnosis.via_role, action.action.as_str()) {
        (Some(role), action) if action != "sts:AssumeRole" => role,
        _ => &diagnosis.principal,
    };
    let principal = Principal::parse(text).ok()?;
    let info = find_info(snapshot, &principal);
    let arn = info
        .map(|info| info.arn.clone())
        .unwrap_or_else(|| principal.principal_arn());
    Some((arn, info))
}

/// The denying statement the fix removes or edits: its document, index
/// and Sid.
fn denying(link: &LinkResult) -> Option<&Evidence> {
    link.evidence
        .iter()
        .find(|evidence| evidence.role == EvidenceRole::Denies)
}

fn target_of(
    snapshot: &Snapshot,
    diagnosis: &Diagnosis,
    fix: &Fix,
    action: &ActionResult,
    link: &LinkResult,
) -> Option<FixTarget> {
    // The caller's remedy changes no document.
    if fix.change == FixChange::Request {
        return None;
    }
    let removal = matches!(
        fix.change,
        FixChange::RemoveStatement | FixChange::EditStatement
    );
    let (denied, statement, sid) = match denying(link) {
        Some(evidence) if removal => (
            evidence.doc.as_ref(),
            evidence.statement,
            evidence.sid.clone(),
        ),
        _ => (None, None, None),
    };
    let mut target = FixTarget {
        kind: link.link,
        doc: denied.cloned(),
        resource: String::new(),
        principal: None,
        policy_name: None,
        group: None,
        attached_to: None,
        statement,
        sid,
        account: fix.account.clone(),
    };
    match link.link {
        LinkId::BlockPublicAccess | LinkId::BucketEncryption | LinkId::ServiceSupport => {
            target.resource = diagnosis.bucket.clone();
        }
        // The bucket the action is on: a replication's destination is
        // another bucket than the one checked.
        // The one replication-configuration change with a statement is the
        // trust statement the replication role lacks: it is made on the role.
        LinkId::ReplicationConfiguration if fix.statement.is_some() => {
            target.resource = actor(snapshot, diagnosis, action)?.0;
        }
        LinkId::BucketPolicy | LinkId::ReplicationConfiguration | LinkId::Versioning => {
            target.resource = bucket_name_of(&action.resource)
                .unwrap_or(&diagnosis.bucket)
                .to_string();
        }
        LinkId::ObjectOwnership => {
            target.resource = action.resource.clone();
        }
        LinkId::Authentication => {
            target.resource = diagnosis
                .via_role
                .clone()
                .unwrap_or_else(|| diagnosis.principal.clone());
        }
        LinkId::AccessPointPolicy => {
            // The request names `ACCESS_POINT_ARN/object/KEY`; the policy
            // is the access point's.
            let arn = action.resource.as_str();
            target.resource = arn
                .split_once("/object/")
                .map_or(arn, |(ap, _)| ap)
                .to_string();
        }
        LinkId::KeyPolicy | LinkId::KeyState | LinkId::TrustPolicy => {
            target.resource = action.resource.clone();
        }
        LinkId::IdentityPolicy | LinkId::PermissionsBoundary | LinkId::SessionPolicy => {
            let (arn, info) = actor(snapshot, diagnosis, action)?;
            target.principal = Some(arn.clone());
            match link.link {
                LinkId::IdentityPolicy => match denied {
                    Some(doc) => {
                        let named = snapshot.named_policy(doc)?;
                        identity_target(&mut target, named, &arn);
                    }
                    None => {
                        target.resource = arn;
                        target.policy_name = Some(inline_policy_name(&diagnosis.bucket));
                    }
                },
                LinkId::PermissionsBoundary => {
                    target.resource = info?.permissions_boundary.known()?.name.clone();
                }
                _ => {
                    // Which session policy: the denying one, else the first
                    // (session policies allow what any of them allows).
                    let index = match denied.map(|doc| &**doc) {
                        Some(DocRef::SessionPolicy { index, .. }) => *index,
                        _ => 0,
                    };
                    target.policy_name = Some(format!("session policy {index}"));
                    target.doc = Some(Arc::new(DocRef::SessionPolicy {
                        principal: arn.clone(),
                        index,
                    }));
                    target.resource = arn;
                }
            }
        }
        LinkId::Scp | LinkId::Rcp => {
            let doc = denied?;
            let (DocRef::Scp { account, level, .. } | DocRef::Rcp { account, level, .. }) = &**doc
            else {
                return None;
            };
            let count = snapshot.organization_levels(doc)?;
            target.resource = snapshot.named_policy(doc)?.name.clone();
            target.attached_to = Some(OrgLevel::of(*level, count).attachment(account));
        }
    }
    Some(target)
}

fn identity_target(target: &mut FixTarget, named: &NamedPolicy, principal_arn: &str) {
    match named.kind {
        Some(PolicyKind::GroupInline) => {
            let (group, name) = named
                .name
                .split_once('/')
                .unwrap_or(("", named.name.as_str()));
            target.group = Some(group.to_string());
            target.resource = group.to_string();
            target.policy_name = Some(name.to_string());
        }
        Some(PolicyKind::Managed | PolicyKind::GroupManaged) => {
            target.resource = named.name.clone();
        }
        // An inline policy, or one whose kind the snapshot does not say:
        // a name that is an ARN is a managed policy's.
        _ if named.name.starts_with("arn:") => target.resource = named.name.clone(),
        _ => {
            target.resource = principal_arn.to_string();
            target.policy_name = Some(named.name.clone());
        }
    }
}
