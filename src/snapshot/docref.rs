//! Document identity: which policy document of a snapshot a piece of
//! evidence, a link or a fix speaks of. A [`DocRef`] names the document by
//! its place (the bucket, the key, the principal and the policy's position,
//! the account and the organization level), so that the judge, the fixes
//! and the renderers find it with [`Snapshot::get`] instead of matching
//! prose. The label a report prints is a rendering of it
//! ([`Snapshot::label_of`]).

use crate::policy::positions::escape_pointer_segment as segment;

use super::{Field, NamedPolicy, PolicyDoc, PolicyKind, PrincipalInfo, Snapshot};

/// One policy document of a snapshot, by its place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocRef {
    /// Policy `index` of level `level` (root first) of the account's SCPs.
    Scp {
        account: String,
        level: usize,
        index: usize,
    },
    /// As [`DocRef::Scp`], for the account's RCPs.
    Rcp {
        account: String,
        level: usize,
        index: usize,
    },
    BucketPolicy {
        bucket: String,
    },
    /// The key policy of the key with this ARN.
    KeyPolicy {
        key: String,
    },
    /// Entry `index` of the principal's `policies` (inline, managed, and
    /// its groups').
    IdentityPolicy {
        principal: String,
        index: usize,
    },
    PermissionsBoundary {
        principal: String,
    },
    TrustPolicy {
        role: String,
    },
    /// Entry `index` of the principal's `session_policies`.
    SessionPolicy {
        principal: String,
        index: usize,
    },
    /// The policy of the access point with this ARN.
    AccessPointPolicy {
        access_point: String,
    },
}

impl DocRef {
    /// The organization policy at `level` and `index` of `account`: an SCP
    /// when `scp`, else an RCP.
    pub fn organization(scp: bool, account: &str, level: usize, index: usize) -> Self {
        let account = account.to_string();
        if scp {
            DocRef::Scp {
                account,
                level,
                index,
            }
        } else {
            DocRef::Rcp {
                account,
                level,
                index,
            }
        }
    }
}

impl Snapshot {
    /// The document `doc` names, when the snapshot holds it.
    pub fn get(&self, doc: &DocRef) -> Option<&PolicyDoc> {
        match doc {
            DocRef::Scp {
                account,
                level,
                index,
            } => Some(
                &self
                    .organization_policy(true, account, *level, *index)?
                    .document,
            ),
            DocRef::Rcp {
                account,
                level,
                index,
            } => Some(
                &self
                    .organization_policy(false, account, *level, *index)?
                    .document,
            ),
            DocRef::BucketPolicy { bucket } => self
                .buckets
                .iter()
                .find(|info| info.name == *bucket)?
                .policy
                .known(),
            DocRef::KeyPolicy { key } => self
                .keys
                .iter()
                .find(|info| info.arn == *key)?
                .policy
                .known(),
            DocRef::IdentityPolicy { principal, index } => Some(
                &self
                    .principal_entry(principal)?
                    .policies
                    .known()?
                    .get(*index)?
                    .document,
            ),
            DocRef::PermissionsBoundary { principal } => Some(
                &self
                    .principal_entry(principal)?
                    .permissions_boundary
                    .known()?
                    .document,
            ),
            DocRef::TrustPolicy { role } => self.principal_entry(role)?.trust_policy.known(),
            DocRef::SessionPolicy { principal, index } => self
                .principal_entry(principal)?
                .session_policies
                .known()?
                .get(*index),
            DocRef::AccessPointPolicy { access_point } => self
                .access_points
                .iter()
                .find(|info| info.arn == *access_point)?
                .policy
                .known(),
        }
    }

    /// The document `doc` names, to replace it (a fix's re-check).
    pub fn get_mut(&mut self, doc: &DocRef) -> Option<&mut PolicyDoc> {
        fn principal<'s>(snapshot: &'s mut Snapshot, arn: &str) -> Option<&'s mut PrincipalInfo> {
            snapshot.principals.iter_mut().find(|info| info.arn == arn)
        }
        match doc {
            DocRef::Scp { .. } | DocRef::Rcp { .. } | DocRef::IdentityPolicy { .. } => {
                Some(&mut self.named_policy_mut(doc)?.document)
            }
            DocRef::PermissionsBoundary { principal: arn } => Some(
                &mut principal(self, arn)?
                    .permissions_boundary
                    .known_mut()?
                    .document,
            ),
            DocRef::BucketPolicy { bucket } => self
                .buckets
                .iter_mut()
                .find(|info| info.name == *bucket)?
                .policy
                .known_mut(),
            DocRef::KeyPolicy { key } => self
                .keys
                .iter_mut()
                .find(|info| info.arn == *key)?
                .policy
                .known_mut(),
            DocRef::TrustPolicy { role } => principal(self, role)?.trust_policy.known_mut(),
            DocRef::SessionPolicy {
                principal: arn,
                index,
            } => principal(self, arn)?
                .session_policies
                .known_mut()?
                .get_mut(*index),
            DocRef::AccessPointPolicy { access_point } => self
                .access_points
                .iter_mut()
                .find(|info| info.arn == *access_point)?
                .policy
                .known_mut(),
        }
    }

    /// The named policy (SCP, RCP or identity policy) `doc` names, with its
    /// name and kind.
    pub fn named_policy(&self, doc: &DocRef) -> Option<&NamedPolicy> {
        match doc {
            DocRef::Scp {
                account,
                level,
                index,
            } => self.organization_policy(true, account, *level, *index),
            DocRef::Rcp {
                account,
                level,
                index,
            } => self.organization_policy(false, account, *level, *index),
            DocRef::IdentityPolicy { principal, index } => self
                .principal_entry(principal)?
                .policies
                .known()?
                .get(*index),
            DocRef::PermissionsBoundary { principal } => self
                .principal_entry(principal)?
                .permissions_boundary
                .known(),
            _ => None,
        }
    }

    fn named_policy_mut(&mut self, doc: &DocRef) -> Option<&mut NamedPolicy> {
        match doc {
            DocRef::Scp {
                account,
                level,
                index,
            }
            | DocRef::Rcp {
                account,
                level,
                index,
            } => {
                let info = self.accounts.get_mut(account)?;
                let levels = match doc {
                    DocRef::Scp { .. } => &mut info.scps,
                    _ => &mut info.rcps,
                };
                levels.known_mut()?.get_mut(*level)?.get_mut(*index)
            }
            DocRef::IdentityPolicy { principal, index } => self
                .principals
                .iter_mut()
                .find(|info| info.arn == *principal)?
                .policies
                .known_mut()?
                .get_mut(*index),
            _ => None,
        }
    }

    /// The number of organization levels of the account an SCP or RCP
    /// reference names (root first, the account last).
    pub fn organization_levels(&self, doc: &DocRef) -> Option<usize> {
        let (info, scp) = match doc {
            DocRef::Scp { account, .. } => (self.accounts.get(account)?, true),
            DocRef::Rcp { account, .. } => (self.accounts.get(account)?, false),
            _ => return None,
        };
        let levels = if scp { &info.scps } else { &info.rcps };
        levels.known().map(Vec::len)
    }

    /// The SCP (`scp`) or RCP at `level` and `index` of `account`.
    pub fn organization_policy(
        &self,
        scp: bool,
        account: &str,
        level: usize,
        index: usize,
    ) -> Option<&NamedPolicy> {
        let info = self.accounts.get(account)?;
        let levels = if scp { &info.scps } else { &info.rcps };
        levels.known()?.get(level)?.get(index)
    }

    /// The principal entry whose ARN is exactly `arn`.
    fn principal_entry(&self, arn: &str) -> Option<&PrincipalInfo> {
        self.principal_by_arn(arn)
    }

    /// Every policy document of the snapshot, with its identity, in the
    /// snapshot's order.
    pub fn documents(&self) -> Vec<(DocRef, &PolicyDoc)> {
        let mut out = Vec::new();
        for (account, info) in &self.accounts {
            for (scp, levels) in [(true, &info.scps), (false, &info.rcps)] {
                if let Field::Some(levels) = levels {
                    for (level, policies) in levels.iter().enumerate() {
                        for (index, named) in policies.iter().enumerate() {
                            out.push((
                                DocRef::organization(scp, account, level, index),
                                &named.document,
                            ));
                        }
                    }
                }
            }
        }
        for bucket in &self.buckets {
            if let Field::Some(doc) = &bucket.policy {
                let bucket = bucket.name.clone();
                out.push((DocRef::BucketPolicy { bucket }, doc));
            }
        }
        for key in &self.keys {
            if let Field::Some(doc) = &key.policy {
                out.push((
                    DocRef::KeyPolicy {
                        key: key.arn.clone(),
                    },
                    doc,
                ));
            }
        }
        for info in &self.principals {
            let principal = || info.arn.clone();
            if let Field::Some(policies) = &info.policies {
                for (index, named) in policies.iter().enumerate() {
                    let doc = DocRef::IdentityPolicy {
                        principal: principal(),
                        index,
                    };
                    out.push((doc, &named.document));
                }
            }
            if let Field::Some(named) = &info.permissions_boundary {
                let doc = DocRef::PermissionsBoundary {
                    principal: principal(),
                };
                out.push((doc, &named.document));
            }
            if let Field::Some(doc) = &info.trust_policy {
                out.push((DocRef::TrustPolicy { role: principal() }, doc));
            }
            if let Field::Some(docs) = &info.session_policies {
                for (index, doc) in docs.iter().enumerate() {
                    let id = DocRef::SessionPolicy {
                        principal: principal(),
                        index,
                    };
                    out.push((id, doc));
                }
            }
        }
        for info in &self.access_points {
            if let Field::Some(doc) = &info.policy {
                let access_point = info.arn.clone();
                out.push((DocRef::AccessPointPolicy { access_point }, doc));
            }
        }
        out
    }

    /// The documents of [`Snapshot::documents`], in its order, without
    /// naming each: for a question over every document of a snapshot of
    /// thousands of principals, naming them cost more than reading them.
    pub(crate) fn policy_docs(&self) -> Vec<&PolicyDoc> {
        let mut out = Vec::new();
        for info in self.accounts.values() {
            for levels in [&info.scps, &info.rcps] {
                if let Field::Some(levels) = levels {
                    out.extend(levels.iter().flatten().map(|named| &named.document));
                }
            }
        }
        out.extend(
            self.buckets
                .iter()
                .filter_map(|bucket| bucket.policy.known()),
        );
        out.extend(self.keys.iter().filter_map(|key| key.policy.known()));
        for info in &self.principals {
            if let Field::Some(policies) = &info.policies {
                out.extend(policies.iter().map(|named| &named.document));
            }
            if let Field::Some(named) = &info.permissions_boundary {
                out.push(&named.document);
            }
            if let Field::Some(doc) = &info.trust_policy {
                out.push(doc);
            }
            if let Field::Some(docs) = &info.session_policies {
                out.extend(docs.iter());
            }
        }
        out.extend(
            self.access_points
                .iter()
                .filter_map(|info| info.policy.known()),
        );
        out
    }

    /// Where the document `doc` names is in the snapshot's JSON: its
    /// pointer (`/buckets/0/policy`).
    pub fn pointer_of(&self, doc: &DocRef) -> Option<String> {
        let principal_at = |arn: &str| self.principals.iter().position(|info| info.arn == arn);
        Some(match doc {
            DocRef::Scp {
                account,
                level,
                index,
            } => format!(
                "/accounts/{}/scps/{level}/{index}/document",
                segment(account)
            ),
            DocRef::Rcp {
                account,
                level,
                index,
            } => format!(
                "/accounts/{}/rcps/{level}/{index}/document",
                segment(account)
            ),
            DocRef::BucketPolicy { bucket } => {
                let at = self.buckets.iter().position(|info| info.name == *bucket)?;
                format!("/buckets/{at}/policy")
            }
            DocRef::KeyPolicy { key } => {
                let at = self.keys.iter().position(|info| info.arn == *key)?;
                format!("/keys/{at}/policy")
            }
            DocRef::IdentityPolicy { principal, index } => {
                format!(
                    "/principals/{}/policies/{index}/document",
                    principal_at(principal)?
                )
            }
            DocRef::PermissionsBoundary { principal } => format!(
                "/principals/{}/permissions_boundary/document",
                principal_at(principal)?
            ),
            DocRef::TrustPolicy { role } => {
                format!("/principals/{}/trust_policy", principal_at(role)?)
            }
            DocRef::SessionPolicy { principal, index } => format!(
                "/principals/{}/session_policies/{index}",
                principal_at(principal)?
            ),
            DocRef::AccessPointPolicy { access_point } => {
                let at = self
                    .access_points
                    .iter()
                    .position(|info| info.arn == *access_point)?;
                format!("/access_points/{at}/policy")
            }
        })
    }

    /// The label reports print for the document `doc` names: what AWS calls
    /// it and whose it is (`inline policy `p` of `arn``).
    pub fn label_of(&self, doc: &DocRef) -> Option<String> {
        Some(match doc {
            DocRef::Scp {
                account,
                level,
                index,
            } => {
                let named = self.organization_policy(true, account, *level, *index)?;
                organization_label(true, account, &named.name)
            }
            DocRef::Rcp {
                account,
                level,
                index,
            } => {
                let named = self.organization_policy(false, account, *level, *index)?;
                organization_label(false, account, &named.name)
            }
            DocRef::BucketPolicy { bucket } => format!("bucket policy of `{bucket}`"),
            DocRef::KeyPolicy { key } => format!("key policy of `{key}`"),
            DocRef::IdentityPolicy { principal, index } => {
                let named = self
                    .principal_entry(principal)?
                    .policies
                    .known()?
                    .get(*index)?;
                identity_label(named, principal)
            }
            DocRef::PermissionsBoundary { principal } => {
                let named = self
                    .principal_entry(principal)?
                    .permissions_boundary
                    .known()?;
                format!("permissions boundary `{}` of `{principal}`", named.name)
            }
            DocRef::TrustPolicy { role } => format!("trust policy of `{role}`"),
            DocRef::SessionPolicy { principal, index } => {
                format!("session policy {index} of `{principal}`")
            }
            DocRef::AccessPointPolicy { access_point } => {
                format!("access point policy of `{access_point}`")
            }
        })
    }
}

/// The label of an SCP (`scp`) or RCP named `name` of `account`.
pub(super) fn organization_label(scp: bool, account: &str, name: &str) -> String {
    let kind = if scp { "SCP" } else { "RCP" };
    format!("{kind} `{name}` of account {account}")
}

/// The label of one of `principal`'s identity policies.
pub(super) fn identity_label(named: &NamedPolicy, principal: &str) -> String {
    let kind = match named.kind {
        Some(PolicyKind::Inline) => "inline policy",
        Some(PolicyKind::Managed) => "managed policy",
        Some(PolicyKind::GroupInline) => "group inline policy",
        Some(PolicyKind::GroupManaged) => "group managed policy",
        None => "policy",
    };
    format!("{kind} `{}` of `{principal}`", named.name)
}

/// Where an SCP or RCP is attached: at the organization's root, at an
/// organizational unit, or at the account itself (a snapshot lists the
/// levels root first, the account last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgLevel {
    Root,
    /// An organizational unit this many levels below the root.
    Unit(usize),
    Account,
}

impl OrgLevel {
    /// Level `level` of `count`.
    pub fn of(level: usize, count: usize) -> Self {
        if level == 0 {
            OrgLevel::Root
        } else if level + 1 == count {
            OrgLevel::Account
        } else {
            OrgLevel::Unit(level)
        }
    }

    /// The short name a link's reason uses (`root`, `OU 1`, `account`).
    pub fn short_name(self) -> String {
        match self {
            OrgLevel::Root => "root".to_string(),
            OrgLevel::Unit(level) => format!("OU {level}"),
            OrgLevel::Account => "account".to_string(),
        }
    }

    /// Where a policy of `account`'s organization at this level is
    /// attached, said in full for the admin who must change it.
    pub fn attachment(self, account: &str) -> String {
        match self {
            OrgLevel::Root => format!("the root of account {account}'s organization"),
            OrgLevel::Unit(level) => format!(
                "the organizational unit {level} level(s) below the root, above account {account}"
            ),
            OrgLevel::Account => format!("account {account}"),
        }
    }
}
