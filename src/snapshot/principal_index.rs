//! The snapshot's principals indexed by account and name, built once per
//! snapshot state so that finding a principal's entry does not scan and
//! re-parse every principal ARN on each question. Whenever the snapshot's
//! documents are re-identified (after an overlay, a plan, a session policy or
//! a fix is laid over it) the index is kept only if the principals' ARNs are
//! still those it was built from; a lookup that finds the snapshot changed
//! since then, or finds nothing, is answered by a scan.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::policy::arn::{Principal, PrincipalKind};

use super::{PrincipalInfo, Snapshot};

/// Where each principal entry is, by what a lookup matches it on. Every map
/// keeps the first entry (in the snapshot's order) with its key, as a scan
/// in that order would find.
#[derive(Debug, Default)]
pub(crate) struct PrincipalIndex {
    /// Each entry's ARN when the index was built: a lookup's hit is
    /// trusted only while the entry still carries it.
    arns: Vec<String>,
    /// The first entry with each ARN, exactly as written.
    by_exact_arn: HashMap<String, usize>,
    users_by_arn: HashMap<String, usize>,
    users_by_name: HashMap<(String, String), usize>,
    roles_by_name: HashMap<(String, String), usize>,
    roots: HashMap<String, usize>,
}

impl PrincipalIndex {
    fn build(principals: &[PrincipalInfo]) -> Self {
        let mut index = Self {
            arns: principals.iter().map(|info| info.arn.clone()).collect(),
            ..Self::default()
        };
        for (at, info) in principals.iter().enumerate() {
            index.by_exact_arn.entry(info.arn.clone()).or_insert(at);
            let Ok(candidate) = Principal::parse(&info.arn) else {
                continue;
            };
            let account = candidate.account;
            match candidate.kind {
                PrincipalKind::User { name, arn } => {
                    index.users_by_arn.entry(arn).or_insert(at);
                    index.users_by_name.entry((account, name)).or_insert(at);
                }
                PrincipalKind::AssumedRole { role_name, .. } => {
                    index
                        .roles_by_name
                        .entry((account, role_name))
                        .or_insert(at);
                }
                PrincipalKind::Root => {
                    index.roots.entry(account).or_insert(at);
                }
                _ => {}
            }
        }
        index
    }

    /// The position of `principal`'s entry: users by ARN (path included) or
    /// by name within the account, role sessions by their role's name within
    /// the account, the root by its account.
    fn position(&self, principal: &Principal) -> Option<usize> {
        let account = principal.account.clone();
        match &principal.kind {
            PrincipalKind::User { name, arn } => {
                let by_arn = self
                    .users_by_arn
                    .get(arn)
                    .copied()
                    // The ARN alone does not say the account matched.
                    .filter(|&at| self.account_of(at) == Some(principal.account.as_str()));
                let by_name = self.users_by_name.get(&(account, name.clone())).copied();
                by_arn.into_iter().chain(by_name).min()
            }
            PrincipalKind::AssumedRole { role_name, .. } => self
                .roles_by_name
                .get(&(account, role_name.clone()))
                .copied(),
            PrincipalKind::Root => self.roots.get(&account).copied(),
            _ => None,
        }
    }

    fn account_of(&self, at: usize) -> Option<&str> {
        // `arn:PARTITION:iam::ACCOUNT:...`: the fifth field.
        self.arns.get(at)?.split(':').nth(4)
    }
}

/// A snapshot's principal index, built on first use. Copying a snapshot
/// shares the built index; it never takes part in comparing snapshots.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrincipalIndexCache(OnceLock<Arc<PrincipalIndex>>);

impl PartialEq for PrincipalIndexCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// What an indexed lookup says.
pub(crate) enum Lookup<'s> {
    Found(&'s PrincipalInfo),
    Absent,
    /// The index no longer describes the snapshot (it was changed without
    /// being re-identified): the caller scans instead.
    Stale,
}

impl Snapshot {
    /// Drops the principal index unless the principals' ARNs are those it
    /// was built from (the index depends on nothing else): a re-check's copy
    /// of a snapshot that changes only policies keeps its original's index.
    /// The next lookup rebuilds a dropped index.
    pub(crate) fn refresh_principal_index(&mut self) {
        let unchanged = self.principal_index.0.get().is_some_and(|index| {
            index.arns.len() == self.principals.len()
                && index
                    .arns
                    .iter()
                    .zip(&self.principals)
                    .all(|(arn, info)| *arn == info.arn)
        });
        if !unchanged {
            self.principal_index = PrincipalIndexCache::default();
        }
    }

    /// The first entry whose ARN is `arn` exactly, as a scan in order finds
    /// it; through the index while it describes the snapshot.
    pub(crate) fn principal_by_arn(&self, arn: &str) -> Option<&PrincipalInfo> {
        let index = self
            .principal_index
            .0
            .get_or_init(|| Arc::new(PrincipalIndex::build(&self.principals)));
        if index.arns.len() == self.principals.len()
            && let Some(&at) = index.by_exact_arn.get(arn)
            && let Some(info) = self.principals.get(at)
            && info.arn == index.arns[at]
        {
            return Some(info);
        }
        // A miss, or an index that no longer describes the snapshot: an
        // entry renamed in place since it was built would be missed.
        self.principals.iter().find(|info| info.arn == arn)
    }

    /// The entry for an IAM `principal` through the index.
    pub(crate) fn indexed_principal(&self, principal: &Principal) -> Lookup<'_> {
        let index = self
            .principal_index
            .0
            .get_or_init(|| Arc::new(PrincipalIndex::build(&self.principals)));
        if index.arns.len() != self.principals.len() {
            return Lookup::Stale;
        }
        match index.position(principal) {
            None => Lookup::Absent,
            Some(at) => match self.principals.get(at) {
                Some(info) if info.arn == index.arns[at] => Lookup::Found(info),
                _ => Lookup::Stale,
            },
        }
    }
}
