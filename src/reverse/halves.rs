//! The two halves of a who-can question. The bucket half (buckets, keys,
//! access points, the organization's policies) is the same for every row;
//! the principal half is one principal's own entry. Each row is judged
//! over a small snapshot made of the bucket half, the row's entry, and one
//! carrier entry holding every distinct document of the other principals.
//!
//! Why the carrier: where a link hangs on a context key the request cannot
//! know, the judge tries one value of each class that some document of the
//! snapshot tells apart, and leaves the link unknown when there are too
//! many. Those classes depend on every document of the snapshot, in order,
//! not only on the documents the row reads; the carrier keeps exactly the
//! same conditions in the same order (each distinct document once, where it
//! first appears), so every row gets the verdict `check` gives over the
//! whole snapshot, without each judgement reading ten thousand principals'
//! documents.

use std::collections::HashSet;

use crate::chain::{self, CheckRequest, JudgeError, Verdicts};
use crate::policy::arn::Principal;
use crate::snapshot::{Field, NamedPolicy, PolicyKind, PrincipalInfo, Snapshot};

/// The bucket half and the carrier, built once per question.
pub(crate) struct Halves<'s> {
    full: &'s Snapshot,
    /// Every part of `full` but its principals, and the carrier as the
    /// only principal.
    base: Snapshot,
}

impl<'s> Halves<'s> {
    pub(crate) fn new(full: &'s Snapshot) -> Self {
        let mut base = Snapshot::new(full.captured_at.clone());
        base.format = full.format.clone();
        base.caller = full.caller.clone();
        base.accounts = full.accounts.clone();
        base.buckets = full.buckets.clone();
        base.keys = full.keys.clone();
        base.access_points = full.access_points.clone();
        base.assumptions = full.assumptions.clone();
        base.credentials = full.credentials.clone();
        base.principals = vec![carrier(full)];
        Self { full, base }
    }

    /// A working copy for one thread: rows are judged in it one after the
    /// other, each with its own entry in place.
    pub(crate) fn workspace(&self) -> Snapshot {
        self.base.clone()
    }

    /// The verdicts of `request` as [`chain::verdicts`] gives them over
    /// the whole snapshot.
    pub(crate) fn verdicts(
        &self,
        workspace: &mut Snapshot,
        request: &CheckRequest,
    ) -> Result<Verdicts, JudgeError> {
        let Ok(principal) = Principal::parse_caller(&request.principal) else {
            // Refused as the whole snapshot refuses it.
            return chain::verdicts(self.full, request);
        };
        workspace.principals.truncate(1);
        workspace
            .principals
            .extend(chain::principal::find_info(self.full, &principal).cloned());
        workspace.refresh_principal_index();
        chain::verdicts(workspace, request)
    }
}

/// One entry holding every distinct document of the snapshot's principals
/// (identity policies, boundaries, trust and session policies), in the
/// order the snapshot lists them. Its ARN names no principal anyone can
/// ask about, and holds the snapshot's partition as its first field.
fn carrier(full: &Snapshot) -> PrincipalInfo {
    let partition = full.partition().unwrap_or("aws");
    let mut info = PrincipalInfo::unread(&format!(
        "arn:{partition}:iam::kms-s3-doctor:who-can-shared-documents"
    ));
    let mut seen: HashSet<&str> = HashSet::new();
    let mut documents: Vec<NamedPolicy> = Vec::new();
    for entry in &full.principals {
        let policies = entry.policies.known().into_iter().flatten();
        let boundary = entry.permissions_boundary.known();
        let named = policies.chain(boundary).map(|named| &named.document);
        let trust = entry.trust_policy.known();
        let sessions = entry.session_policies.known().into_iter().flatten();
        for doc in named.chain(trust).chain(sessions) {
            // Same text, same conditions: the classes need each once.
            if seen.insert(doc.raw()) {
                documents.push(NamedPolicy {
                    name: String::new(),
                    kind: Some(PolicyKind::Inline),
                    document: doc.clone(),
                });
            }
        }
    }
    info.policies = Field::Some(documents);
    info
}
