//! The IAM resources of a plan: users and roles (boundary, trust policy),
//! their inline and managed policies, groups' policies through their
//! members, and the attachments, written to `principals[]`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Builder, Doc, until_apply};
use crate::snapshot::{Field, NamedPolicy, PolicyDoc, PolicyKind, PrincipalInfo};
use crate::whatif::overlay::Target;
use crate::whatif::plan::{Action, Instance, Val, path};

impl Builder<'_> {
    /// The ARN of a user or role named in the plan: its own `arn`, the
    /// snapshot's principal of that name, or one built from the plan's
    /// account.
    fn principal_arn(&self, kind: &str, name: &str) -> Option<String> {
        let resource = if kind == "user" {
            "aws_iam_user"
        } else {
            "aws_iam_role"
        };
        let planned = self
            .plan
            .of_kind(resource)
            .find(|i| self.plan.get(i, &path(&["name"])).as_str() == Some(name));
        if let Some(arn) = planned.and_then(|i| {
            self.plan
                .get(i, &path(&["arn"]))
                .as_str()
                .map(str::to_string)
        }) {
            return Some(arn);
        }
        let tail = format!("/{name}");
        let in_base = self.base.principals.iter().find(|p| {
            p.arn.starts_with("arn:")
                && p.arn.contains(&format!(":{kind}/"))
                && p.arn.ends_with(&tail)
        });
        if let Some(principal) = in_base {
            return Some(principal.arn.clone());
        }
        let planned = planned?;
        let account = self.plan.account.as_ref()?;
        let path = self
            .plan
            .get(planned, &path(&["path"]))
            .as_str()
            .unwrap_or("/")
            .to_string();
        Some(format!("arn:aws:iam::{account}:{kind}{path}{name}"))
    }

    /// The overlay's entry for a principal: one the snapshot has, or one the
    /// plan creates (`created`). Any other is left out with a note, since
    /// the plan shows only part of its documents.
    fn principal_entry(&mut self, arn: &str, created: bool) -> Option<&mut PrincipalInfo> {
        if !self.out.principals.iter().any(|p| p.arn == arn) {
            let base = self.base.principals.iter().find(|p| p.arn == arn);
            let mut entry = PrincipalInfo::unread(arn);
            match base {
                Some(base) => {
                    entry.policies = base.policies.clone();
                    entry.policies_error = base.policies_error.clone();
                }
                None if created => {
                    entry.tags = Field::Some(BTreeMap::new());
                    entry.policies = Field::Some(Vec::new());
                    entry.permissions_boundary = Field::None;
                    entry.trust_policy = Field::None;
                    entry.session_policies = Field::None;
                }
                None => return None,
            }
            self.out.principals.push(entry);
        }
        self.out.principals.iter_mut().find(|p| p.arn == arn)
    }

    fn created_principal(&self, kind: &str, name: &str) -> bool {
        let resource = if kind == "user" {
            "aws_iam_user"
        } else {
            "aws_iam_role"
        };
        self.plan
            .of_kind(resource)
            .any(|i| i.created && self.plan.get(i, &path(&["name"])).as_str() == Some(name))
    }

    /// A managed policy's document by ARN: planned by `aws_iam_policy`, or
    /// read into the snapshot (attached somewhere or as a boundary).
    fn managed_doc(&self, arn: &str) -> Option<PolicyDoc> {
        for instance in self.plan.of_kind("aws_iam_policy") {
            if self.plan.get(instance, &path(&["arn"])).as_str() == Some(arn)
                && let Ok(Doc::Known(doc)) = self.doc(instance, "policy")
            {
                return Some(doc);
            }
        }
        self.base.principals.iter().find_map(|p| {
            let attached = p.policies.known().into_iter().flatten();
            let boundary = p.permissions_boundary.known();
            attached
                .chain(boundary)
                .find(|named| named.name == arn)
                .map(|named| named.document.clone())
        })
    }

    /// The managed policy a `policy_arn`-like argument names: its name (the
    /// ARN, or the address while the ARN is unknown) and document.
    fn managed_of(
        &self,
        instance: &Instance,
        attribute: &str,
    ) -> Result<(String, PolicyDoc), String> {
        match self.get(instance, &[attribute]) {
            Val::Known(Value::String(arn)) => self
                .managed_doc(&arn)
                .map(|doc| (arn.clone(), doc))
                .ok_or_else(|| {
                    format!(
                        "the document of `{arn}` (`{}`) is neither in the plan nor in the snapshot",
                        instance.address
                    )
                }),
            Val::Unknown(by) => {
                let target = self.plan.referenced_instance(instance, &path(&[attribute]));
                match target {
                    Some(policy) if policy.kind == "aws_iam_policy" => {
                        match self.doc(policy, "policy")? {
                            Doc::Known(doc) => Ok((policy.address.clone(), doc)),
                            Doc::Unknown(error) => Err(error),
                            Doc::Absent => Err(format!("`{}` has no policy", policy.address)),
                        }
                    }
                    _ => Err(until_apply(&by)),
                }
            }
            _ => Err(format!("`{}` names no policy", instance.address)),
        }
    }

    pub(super) fn principals(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for (resource, kind) in [("aws_iam_user", "user"), ("aws_iam_role", "role")] {
            for instance in plan.of_kind(resource).filter(|i| !i.data) {
                let Some(name) = self.text(instance, &["name"]) else {
                    self.notes.push(format!(
                        "the name of `{}` is unknown until apply; it is not judged",
                        instance.address
                    ));
                    continue;
                };
                let Some(arn) = self.principal_arn(kind, &name) else {
                    self.notes.push(format!(
                        "the ARN of `{}` is unknown until apply (no `data.aws_caller_identity` in the plan, and not in the snapshot)",
                        instance.address
                    ));
                    continue;
                };
                let address = instance.address.clone();
                if instance.action == Action::Delete {
                    // A deleted principal has no documents left to allow.
                    if let Some(entry) = self.principal_entry(&arn, true) {
                        entry.policies = Field::Some(Vec::new());
                        entry.policies_error = None;
                        entry.permissions_boundary = Field::None;
                        entry.trust_policy = Field::None;
                    }
                    self.source(Target::Policies(arn.clone()), &address, false);
                    continue;
                }
                let boundary = match self.get(instance, &["permissions_boundary"]) {
                    Val::Absent => Ok(None),
                    Val::Known(Value::String(text)) if text.is_empty() => Ok(None),
                    _ => self.managed_of(instance, "permissions_boundary").map(Some),
                };
                let trust = if kind == "role" {
                    Some(self.doc(instance, "assume_role_policy")?)
                } else {
                    None
                };
                // Deprecated exclusive arguments: when set they replace the
                // role's whole policy list, which this reader does not build.
                let exclusive = ["inline_policy", "managed_policy_arns"].iter().any(|arg| {
                    match self.get(instance, &[arg]) {
                        Val::Known(Value::Array(items)) => items
                            .iter()
                            .any(|item| item.get("policy").is_some() || item.is_string()),
                        // Unknown and not in the configuration: computed
                        // by the provider, not set.
                        Val::Unknown(_) => self.plan.configured(instance, arg),
                        _ => false,
                    }
                });
                let tags = match self.get(instance, &["tags_all"]) {
                    Val::Known(Value::Object(map)) => Some(
                        map.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                            .collect::<BTreeMap<_, _>>(),
                    ),
                    _ => None,
                };
                let created = instance.created;
                let Some(entry) = self.principal_entry(&arn, created) else {
                    continue;
                };
                let boundary_unknown = boundary.is_err();
                match boundary {
                    Ok(None) => entry.permissions_boundary = Field::None,
                    Ok(Some((name, document))) => {
                        entry.permissions_boundary = Field::Some(NamedPolicy {
                            name,
                            kind: None,
                            document,
                        })
                    }
                    Err(error) => {
                        entry.permissions_boundary = Field::Unknown;
                        entry.permissions_boundary_error = Some(error);
                    }
                }
                if let Some(tags) = tags {
                    entry.tags = Field::Some(tags);
                }
                if exclusive {
                    entry.policies = Field::Unknown;
                    entry.policies_error = Some(format!(
                        "`{address}` sets `inline_policy` or `managed_policy_arns`, which this tool does not read from a plan"
                    ));
                }
                if let Some(trust) = trust {
                    let trust_unknown = !matches!(trust, Doc::Known(_));
                    match trust {
                        Doc::Known(doc) => entry.trust_policy = Field::Some(doc),
                        Doc::Absent => entry.trust_policy = Field::None,
                        Doc::Unknown(error) => {
                            entry.trust_policy = Field::Unknown;
                            entry.trust_policy_error = Some(error);
                        }
                    }
                    self.source(Target::TrustPolicy(arn.clone()), &address, trust_unknown);
                }
                self.source(Target::Boundary(arn.clone()), &address, boundary_unknown);
                if exclusive {
                    self.source(Target::Policies(arn), &address, false);
                }
            }
        }
        Ok(())
    }

    /// Changes one principal's policy list: drops `name` and, unless
    /// `added` is `None`, puts the new policy in its place.
    fn change_policy(
        &mut self,
        arn: &str,
        created: bool,
        name: &str,
        added: Result<Option<NamedPolicy>, String>,
        address: &str,
    ) {
        let Some(entry) = self.principal_entry(arn, created) else {
            self.notes.push(format!(
                "`{address}` changes `{arn}`, which is not in the snapshot; it is not judged"
            ));
            return;
        };
        let unknown = added.is_err();
        match (&mut entry.policies, added) {
            (Field::Unknown, _) => {}
            (_, Err(error)) => {
                entry.policies = Field::Unknown;
                entry.policies_error = Some(error);
            }
            (policies, Ok(added)) => {
                let mut list = match std::mem::take(policies) {
                    Field::Some(list) => list,
                    _ => Vec::new(),
                };
                list.retain(|named| named.name != name);
                list.extend(added);
                *policies = Field::Some(list);
            }
        }
        self.source(Target::Policies(arn.to_string()), address, unknown);
        if let Some(last) = self.sources.last_mut() {
            last.policy = Some(name.to_string());
        }
    }

    pub(super) fn inline_policies(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for (resource, kind) in [
            ("aws_iam_user_policy", "user"),
            ("aws_iam_role_policy", "role"),
        ] {
            for instance in plan.of_kind(resource) {
                let holder = self.text(instance, &[kind]);
                let name = self.text(instance, &["name"]);
                let (Some(holder), Some(name)) = (holder, name) else {
                    self.notes.push(format!(
                        "the holder or name of `{}` is unknown until apply; it is not judged",
                        instance.address
                    ));
                    continue;
                };
                let Some(arn) = self.principal_arn(kind, &holder) else {
                    self.notes.push(format!(
                        "`{}` changes {kind} `{holder}`, whose ARN is not known; it is not judged",
                        instance.address
                    ));
                    continue;
                };
                let added = self.inline(instance, &name, PolicyKind::Inline)?;
                let created = self.created_principal(kind, &holder);
                self.change_policy(&arn, created, &name, added, &instance.address);
            }
        }
        for instance in plan.of_kind("aws_iam_group_policy") {
            let group = self.text(instance, &["group"]);
            let name = self.text(instance, &["name"]);
            let (Some(group), Some(name)) = (group, name) else {
                self.notes.push(format!(
                    "the group or name of `{}` is unknown until apply; it is not judged",
                    instance.address
                ));
                continue;
            };
            let qualified = format!("{group}/{name}");
            let added = self.inline(instance, &qualified, PolicyKind::GroupInline)?;
            self.change_group(&group, &qualified, added, &instance.address);
        }
        Ok(())
    }

    fn inline(
        &self,
        instance: &Instance,
        name: &str,
        kind: PolicyKind,
    ) -> Result<Result<Option<NamedPolicy>, String>, String> {
        if instance.action == Action::Delete {
            return Ok(Ok(None));
        }
        Ok(match self.doc(instance, "policy")? {
            Doc::Known(document) => Ok(Some(NamedPolicy {
                name: name.to_string(),
                kind: Some(kind),
                document,
            })),
            Doc::Unknown(error) => Err(error),
            Doc::Absent => Err(format!("`{}` has no policy", instance.address)),
        })
    }

    /// Who is in a group, as far as the plan says: `Some` when an exclusive
    /// `aws_iam_group_membership` lists the users.
    fn members(&self, group: &str) -> (Option<BTreeSet<String>>, BTreeSet<String>) {
        let mut exclusive = None;
        for instance in self.plan.of_kind("aws_iam_group_membership") {
            if instance.action != Action::Delete
                && self.text(instance, &["group"]).as_deref() == Some(group)
                && let Val::Known(Value::Array(users)) = self.get(instance, &["users"])
            {
                exclusive = Some(
                    users
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                );
            }
        }
        // A group the plan creates has only the members the plan gives it.
        let created = self
            .plan
            .of_kind("aws_iam_group")
            .any(|i| i.created && self.text(i, &["name"]).as_deref() == Some(group));
        if created && exclusive.is_none() {
            exclusive = Some(BTreeSet::new());
        }
        let mut known = BTreeSet::new();
        for instance in self.plan.of_kind("aws_iam_user_group_membership") {
            if instance.action != Action::Delete
                && let Val::Known(Value::Array(groups)) = self.get(instance, &["groups"])
                && groups.iter().any(|g| g.as_str() == Some(group))
                && let Some(user) = self.text(instance, &["user"])
            {
                known.insert(user);
            }
        }
        (exclusive, known)
    }

    /// A group's policy changes every member: members the plan names get
    /// the change; users the snapshot has whose membership is not known
    /// become unknown.
    fn change_group(
        &mut self,
        group: &str,
        name: &str,
        added: Result<Option<NamedPolicy>, String>,
        address: &str,
    ) {
        let (exclusive, known) = self.members(group);
        let users: Vec<String> = self
            .base
            .principals
            .iter()
            .filter(|p| p.arn.contains(":user/"))
            .map(|p| p.arn.clone())
            .collect();
        for arn in users {
            let user = arn.rsplit('/').next().unwrap_or_default().to_string();
            let member = known.contains(&user)
                || exclusive
                    .as_ref()
                    .is_some_and(|members| members.contains(&user));
            let not_member = exclusive
                .as_ref()
                .is_some_and(|members| !members.contains(&user))
                && !known.contains(&user);
            if member {
                self.change_policy(&arn, false, name, added.clone(), address);
            } else if !not_member {
                self.change_policy(
                    &arn,
                    false,
                    name,
                    Err(format!(
                        "`{address}` changes the policies of group `{group}`, and whether `{arn}` is a member is not in the plan"
                    )),
                    address,
                );
            }
        }
    }

    pub(super) fn managed_policies(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for instance in plan.of_kind("aws_iam_policy").filter(|i| !i.created) {
            let Some(arn) = self.text(instance, &["arn"]) else {
                continue;
            };
            let document = if instance.action == Action::Delete {
                continue;
            } else {
                self.doc(instance, "policy")?
            };
            let holders: Vec<String> = self
                .base
                .principals
                .iter()
                .filter(|p| {
                    p.policies
                        .known()
                        .is_some_and(|list| list.iter().any(|named| named.name == arn))
                })
                .map(|p| p.arn.clone())
                .collect();
            for holder in holders {
                let kind = self
                    .base
                    .principals
                    .iter()
                    .find(|p| p.arn == holder)
                    .and_then(|p| p.policies.known())
                    .and_then(|list| list.iter().find(|named| named.name == arn))
                    .and_then(|named| named.kind);
                let added = match &document {
                    Doc::Known(document) => Ok(Some(NamedPolicy {
                        name: arn.clone(),
                        kind,
                        document: document.clone(),
                    })),
                    Doc::Unknown(error) => Err(error.clone()),
                    Doc::Absent => Err(format!("`{}` has no policy", instance.address)),
                };
                self.change_policy(&holder, false, &arn, added, &instance.address);
            }
        }
        Ok(())
    }

    pub(super) fn attachments(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for (resource, kind) in [
            ("aws_iam_user_policy_attachment", "user"),
            ("aws_iam_role_policy_attachment", "role"),
            ("aws_iam_group_policy_attachment", "group"),
        ] {
            for instance in plan.of_kind(resource) {
                let Some(holder) = self.text(instance, &[kind]) else {
                    self.notes.push(format!(
                        "the {kind} of `{}` is unknown until apply; it is not judged",
                        instance.address
                    ));
                    continue;
                };
                self.attach(instance, kind, &holder)?;
            }
        }
        for instance in plan.of_kind("aws_iam_policy_attachment") {
            for kind in ["user", "role", "group"] {
                let list = format!("{kind}s");
                match self.get(instance, &[&list]) {
                    Val::Known(Value::Array(holders)) => {
                        for holder in holders.iter().filter_map(Value::as_str) {
                            self.attach(instance, kind, holder)?;
                        }
                    }
                    Val::Unknown(by) => self.notes.push(format!(
                        "the {list} of `{}` are {}; they are not judged",
                        instance.address,
                        until_apply(&by)
                    )),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn attach(&mut self, instance: &Instance, kind: &str, holder: &str) -> Result<(), String> {
        let managed = self.managed_of(instance, "policy_arn");
        let name = match (&managed, self.text(instance, &["policy_arn"])) {
            (Ok((name, _)), _) => name.clone(),
            (Err(_), Some(arn)) => arn,
            (Err(_), None) => instance.address.clone(),
        };
        let policy_kind = if kind == "group" {
            PolicyKind::GroupManaged
        } else {
            PolicyKind::Managed
        };
        let added = if instance.action == Action::Delete {
            Ok(None)
        } else {
            managed.map(|(name, document)| {
                Some(NamedPolicy {
                    name,
                    kind: Some(policy_kind),
                    document,
                })
            })
        };
        if kind == "group" {
            self.change_group(holder, &name, added, &instance.address);
            return Ok(());
        }
        let Some(arn) = self.principal_arn(kind, holder) else {
            self.notes.push(format!(
                "`{}` changes {kind} `{holder}`, whose ARN is not known; it is not judged",
                instance.address
            ));
            return Ok(());
        };
        let created = self.created_principal(kind, holder);
        self.change_policy(&arn, created, &name, added, &instance.address);
        Ok(())
    }
}
