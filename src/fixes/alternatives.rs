//! Changes that are alternatives, not steps. In one account, S3 allows a
//! request that the identity policy or the bucket policy allows (IAM User
//! Guide, "Policy evaluation for requests within a single account": if
//! either the identity-based or the resource-based policy allows the
//! request and the other doesn't, it is still allowed), so when both
//! links fail for want of a statement the judge proposes one change for
//! each: either mends the link. The bucket policy's change is marked as the
//! alternative to the identity policy's, which stays first (it grants only
//! the caller's own principal, through its own policies) and is the one the
//! re-check applies and `apply.sh` installs.

use crate::diagnosis::{Diagnosis, FixChange, LinkId, LinkStatus};

/// Sets `alternative_to` on each bucket-policy change that is the other way
/// to mend what an identity-policy change mends. Only whole documents are
/// alternatives: a pairing is dropped when either document also holds a
/// change that is not part of a pair.
pub(super) fn mark(diagnosis: &mut Diagnosis) {
    let count = diagnosis.changes.len();
    // For each change, the identity change it stands beside; `None` at the
    // first conflict (the same bucket change beside two identity changes).
    let mut pairs: Vec<Option<Option<usize>>> = vec![None; count];
    for operation in &diagnosis.operations {
        for action in &operation.actions {
            let failing = |kind: LinkId| {
                action
                    .links
                    .iter()
                    .find(|link| link.link == kind && link.status == LinkStatus::Fail)
                    .and_then(|link| link.change)
                    .filter(|&index| {
                        diagnosis
                            .changes
                            .get(index)
                            .is_some_and(|change| change.change == FixChange::AddStatement)
                    })
            };
            let bucket_change = failing(LinkId::BucketPolicy);
            let identity_change = failing(LinkId::IdentityPolicy);
            if let Some(bucket) = bucket_change {
                let paired = identity_change.filter(|&identity| {
                    diagnosis.changes[identity].account == diagnosis.changes[bucket].account
                });
                pairs[bucket] = match (pairs[bucket], paired) {
                    (None, Some(identity)) => Some(Some(identity)),
                    (Some(Some(have)), Some(identity)) if have == identity => Some(Some(have)),
                    _ => Some(None),
                };
            }
        }
    }
    let mut alternative_to: Vec<Option<usize>> = pairs.into_iter().map(Option::flatten).collect();
    // Documents are installed whole: every change of the alternative's
    // document must be an alternative, and every change of the document it
    // stands for must be one that has an alternative.
    loop {
        let replaced: Vec<usize> = alternative_to.iter().flatten().copied().collect();
        let mut dropped = false;
        for index in 0..count {
            let Some(identity) = alternative_to[index] else {
                continue;
            };
            let own = &diagnosis.changes[index].with_changes;
            let other = &diagnosis.changes[identity].with_changes;
            let whole = own.iter().all(|&member| alternative_to[member].is_some())
                && other.iter().all(|&member| replaced.contains(&member));
            if !whole {
                alternative_to[index] = None;
                dropped = true;
            }
        }
        if !dropped {
            break;
        }
    }
    for (change, alternative) in diagnosis.changes.iter_mut().zip(alternative_to) {
        change.alternative_to = alternative;
    }
}
