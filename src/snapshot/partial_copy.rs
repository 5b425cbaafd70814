//! A copy of a snapshot that keeps only some of its principals: what a
//! re-check of one request judges over. The judge reads the entries of the
//! request's own principals and nothing of the others, so copying thousands
//! of entries (and re-identifying their documents) for every re-check was
//! work with no effect on its answer.

use super::{PrincipalInfo, Snapshot};

impl Snapshot {
    /// A copy of the snapshot with only the principal entries `keep` names
    /// (by address, entries of this snapshot), in the snapshot's order, so
    /// that a lookup in the copy finds the first matching entry a lookup in
    /// the snapshot would find, whenever that entry is kept.
    pub(crate) fn copy_keeping_principals(&self, keep: &[&PrincipalInfo]) -> Snapshot {
        // Positions from addresses: looking each kept entry up among
        // thousands would cost what the copy saves.
        let base = self.principals.as_ptr() as usize;
        let size = std::mem::size_of::<PrincipalInfo>().max(1);
        let mut positions: Vec<usize> = keep
            .iter()
            .map(|kept| (*kept as *const PrincipalInfo as usize).wrapping_sub(base) / size)
            .filter(|&at| {
                self.principals
                    .get(at)
                    .is_some_and(|info| keep.iter().any(|kept| std::ptr::eq(*kept, info)))
            })
            .collect();
        positions.sort_unstable();
        positions.dedup();
        let principals = positions
            .into_iter()
            .filter_map(|at| self.principals.get(at).cloned())
            .collect();
        // Every field is named: a field added to the snapshot must be
        // decided here, not dropped from re-checks unseen.
        Snapshot {
            format: self.format.clone(),
            captured_at: self.captured_at.clone(),
            caller: self.caller.clone(),
            accounts: self.accounts.clone(),
            buckets: self.buckets.clone(),
            keys: self.keys.clone(),
            principals,
            access_points: self.access_points.clone(),
            assumptions: self.assumptions.clone(),
            credentials: self.credentials.clone(),
            principal_index: Default::default(),
        }
    }
}
