//! The KMS resources of a plan: `aws_kms_key` (policy, and state from
//! `is_enabled`), `aws_kms_key_policy`, `aws_kms_alias` and `aws_kms_grant`,
//! written to `keys[]`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Builder, Doc, until_apply};
use crate::snapshot::{Field, GrantConstraints, GrantInfo, KeyInfo};
use crate::whatif::overlay::Target;
use crate::whatif::plan::{Action, Instance, Val, path};

impl Builder<'_> {
    fn key_entry(&mut self, arn: &str) -> &mut KeyInfo {
        if let Some(index) = self.out.keys.iter().position(|k| k.arn == arn) {
            return &mut self.out.keys[index];
        }
        self.out.keys.push(KeyInfo::unread(arn));
        let last = self.out.keys.len() - 1;
        &mut self.out.keys[last]
    }

    /// A key ARN from a key id, key ARN, alias name or alias ARN, as the
    /// plan or the snapshot knows it.
    fn key_arn(&self, reference: &str) -> Option<String> {
        if reference.starts_with("arn:") && reference.contains(":key/") {
            return Some(reference.to_string());
        }
        let alias = reference
            .split_once(":alias/")
            .map(|(_, name)| format!("alias/{name}"))
            .or_else(|| {
                reference
                    .starts_with("alias/")
                    .then(|| reference.to_string())
            });
        let keys = self.out.keys.iter().chain(self.base.keys.iter());
        if let Some(alias) = alias {
            return keys
                .into_iter()
                .find(|k| k.aliases.contains(&alias))
                .map(|k| k.arn.clone());
        }
        let suffix = format!(":key/{reference}");
        if let Some(key) = keys.into_iter().find(|k| k.arn.ends_with(&suffix)) {
            return Some(key.arn.clone());
        }
        self.plan
            .of_kind("aws_kms_key")
            .find(|k| self.plan.get(k, &path(&["key_id"])).as_str() == Some(reference))
            .and_then(|k| {
                self.plan
                    .get(k, &path(&["arn"]))
                    .as_str()
                    .map(str::to_string)
            })
    }

    /// A key argument (`key_id`, `target_key_id`) as a key ARN, or why not.
    fn key_of(&self, instance: &Instance, attribute: &str) -> Result<String, String> {
        match self.get(instance, &[attribute]) {
            Val::Known(Value::String(reference)) => self.key_arn(&reference).ok_or_else(|| {
                format!(
                    "`{}` names key `{reference}`, which is neither in the plan nor in the snapshot",
                    instance.address
                )
            }),
            Val::Unknown(address) => Err(format!(
                "the key of `{}` is {}",
                instance.address,
                until_apply(&address)
            )),
            _ => Err(format!("`{}` names no key", instance.address)),
        }
    }

    fn base_key(&self, arn: &str) -> Option<&KeyInfo> {
        self.base.keys.iter().find(|k| k.arn == arn)
    }

    pub(super) fn keys(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for instance in plan.of_kind("aws_kms_key").filter(|i| !i.data) {
            // Replaced (destroyed, then created anew): the old key goes
            // whatever the new one's ARN turns out to be.
            if instance.created
                && let Some(old) = instance.before.get("arn").and_then(Value::as_str)
                && self.plan.get(instance, &path(&["arn"])).as_str() != Some(old)
            {
                let old = old.to_string();
                self.key_entry(&old).state = Field::Some("PendingDeletion".to_string());
                self.source(Target::KeyState(old), &instance.address, false);
            }
            let arn = match self.get(instance, &["arn"]) {
                Val::Known(Value::String(arn)) => arn,
                _ => {
                    self.notes.push(format!(
                        "`{}` creates a key whose ARN is unknown until apply; links that use it are unknown",
                        instance.address
                    ));
                    continue;
                }
            };
            let address = instance.address.clone();
            if instance.action == Action::Delete {
                // Destroying a KMS key schedules its deletion; KMS refuses
                // every cryptographic operation from then on (KMS Developer
                // Guide, "Deleting AWS KMS keys").
                let key = self.key_entry(&arn);
                key.state = Field::Some("PendingDeletion".to_string());
                self.source(Target::KeyState(arn), &address, false);
                continue;
            }
            let state = match self.get(instance, &["is_enabled"]) {
                Val::Known(Value::Bool(false)) => Ok("Disabled"),
                Val::Known(_) | Val::Absent => Ok("Enabled"),
                Val::Unknown(by) => Err(until_apply(&by)),
            };
            let policy = self.doc(instance, "policy")?;
            let created = instance.created;
            let base_grants = self
                .base_key(&arn)
                .map(|k| (k.grants.clone(), k.grants_error.clone()));
            let key = self.key_entry(&arn);
            key.manager = Some("CUSTOMER".to_string());
            let state_unknown = state.is_err();
            match state {
                Ok(state) => key.state = Field::Some(state.to_string()),
                Err(error) => key.state_error = Some(error),
            }
            let policy_unknown = !matches!(policy, Doc::Known(_));
            match policy {
                Doc::Known(doc) => key.policy = Field::Some(doc),
                Doc::Unknown(error) => key.policy_error = Some(error),
                // AWS then gives the key its default key policy, which the
                // plan does not show.
                Doc::Absent => {
                    key.policy_error = Some(format!(
                        "`{address}` sets no `policy`, and the default key policy AWS gives is not in the plan"
                    ))
                }
            }
            if created {
                key.grants = Field::Some(Vec::new());
                key.aliases = Vec::new();
                self.aliases_given.insert(arn.clone());
            } else if let Some((grants, error)) = base_grants {
                key.grants = grants;
                key.grants_error = error;
            }
            self.source(Target::KeyState(arn.clone()), &address, state_unknown);
            self.source(Target::KeyPolicy(arn), &address, policy_unknown);
        }
        Ok(())
    }

    pub(super) fn key_policies(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for instance in plan.of_kind("aws_kms_key_policy") {
            let arn = match self.key_of(instance, "key_id") {
                Ok(arn) => arn,
                Err(why) => {
                    self.notes
                        .push(format!("{why}; its key policy is not judged"));
                    continue;
                }
            };
            let policy = if instance.action == Action::Delete {
                Doc::Unknown(format!(
                    "`{}` is destroyed, and the key policy it leaves is not in the plan",
                    instance.address
                ))
            } else {
                self.doc(instance, "policy")?
            };
            let unknown = !matches!(policy, Doc::Known(_));
            let key = self.key_entry(&arn);
            match policy {
                Doc::Known(doc) => {
                    key.policy = Field::Some(doc);
                    key.policy_error = None;
                }
                Doc::Unknown(error) => {
                    key.policy = Field::Unknown;
                    key.policy_error = Some(error);
                }
                Doc::Absent => {
                    key.policy = Field::Unknown;
                    key.policy_error = Some(format!("`{}` sets no policy", instance.address));
                }
            }
            self.source(Target::KeyPolicy(arn), &instance.address, unknown);
        }
        Ok(())
    }

    /// The aliases of a key as the overlay will leave them, starting from
    /// the snapshot's.
    fn aliases_of(&mut self, arn: &str) -> &mut Vec<String> {
        if !self.aliases_given.contains(arn) {
            let base = self
                .base_key(arn)
                .map(|k| k.aliases.clone())
                .unwrap_or_default();
            self.key_entry(arn).aliases = base;
            self.aliases_given.insert(arn.to_string());
        }
        &mut self.key_entry(arn).aliases
    }

    pub(super) fn aliases(&mut self) {
        let plan = self.plan;
        for instance in plan.of_kind("aws_kms_alias") {
            let Some(name) = self.text(instance, &["name"]) else {
                self.notes.push(format!(
                    "the alias name of `{}` is unknown until apply",
                    instance.address
                ));
                continue;
            };
            // The alias leaves whatever key it named before.
            let holders: Vec<String> = self
                .base
                .keys
                .iter()
                .filter(|k| k.aliases.contains(&name))
                .map(|k| k.arn.clone())
                .collect();
            for arn in holders {
                self.aliases_of(&arn).retain(|alias| alias != &name);
                self.source(Target::KeyAliases(arn), &instance.address, false);
            }
            if instance.action == Action::Delete {
                continue;
            }
            match self.key_of(instance, "target_key_id") {
                Ok(arn) => {
                    let aliases = self.aliases_of(&arn);
                    if !aliases.contains(&name) {
                        aliases.push(name);
                    }
                    self.source(Target::KeyAliases(arn), &instance.address, false);
                }
                Err(why) => self
                    .notes
                    .push(format!("{why}; `{name}` names no key this tool knows")),
            }
        }
    }

    pub(super) fn grants(&mut self) {
        let plan = self.plan;
        for instance in plan.of_kind("aws_kms_grant") {
            let address = instance.address.clone();
            let arn = match self.key_of(instance, "key_id") {
                Ok(arn) => arn,
                Err(why) => {
                    self.notes.push(format!("{why}; the grant is not judged"));
                    continue;
                }
            };
            let grant = self.grant(instance);
            let base = self
                .base_key(&arn)
                .map(|k| (k.grants.clone(), k.grants_error.clone()));
            let key = self.key_entry(&arn);
            if key.grants.is_unknown() && key.grants_error.is_none() {
                match base {
                    Some((grants, error)) => {
                        key.grants = grants;
                        key.grants_error = error;
                    }
                    None => key.grants_error = Some("the key's other grants are not known".into()),
                }
            }
            let unknown = grant.is_err();
            match (&mut key.grants, grant) {
                (Field::Unknown, _) => {}
                (_, Err(error)) => {
                    key.grants = Field::Unknown;
                    key.grants_error = Some(error);
                }
                (grants, Ok(grant)) => {
                    let mut list = match std::mem::take(grants) {
                        Field::Some(list) => list,
                        _ => Vec::new(),
                    };
                    list.retain(|g| !same_grant(g, &grant));
                    if instance.action != Action::Delete {
                        list.push(grant);
                    }
                    *grants = Field::Some(list);
                }
            }
            self.source(Target::KeyGrants(arn), &address, unknown);
        }
    }

    fn grant(&self, instance: &Instance) -> Result<GrantInfo, String> {
        let text = |parts: &[&str]| match self.get(instance, parts) {
            Val::Known(Value::String(text)) => Ok(Some(text)),
            Val::Unknown(by) => Err(until_apply(&by)),
            _ => Ok(None),
        };
        let grantee = text(&["grantee_principal"])?
            .ok_or_else(|| format!("`{}` names no grantee", instance.address))?;
        let operations = match self.get(instance, &["operations"]) {
            Val::Known(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Val::Unknown(by) => return Err(until_apply(&by)),
            _ => Vec::new(),
        };
        let map = |parts: &[&str]| -> Result<Option<BTreeMap<String, String>>, String> {
            match self.get(instance, parts) {
                Val::Known(Value::Object(map)) => Ok(Some(
                    map.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .collect(),
                )),
                Val::Unknown(by) => Err(until_apply(&by)),
                _ => Ok(None),
            }
        };
        let constraints = match self.get(instance, &["constraints"]) {
            Val::Known(Value::Array(items)) if !items.is_empty() => Some(GrantConstraints {
                encryption_context_subset: map(&["constraints", "0", "encryption_context_subset"])?,
                encryption_context_equals: map(&["constraints", "0", "encryption_context_equals"])?,
                source_arn: None,
            }),
            Val::Unknown(by) => return Err(until_apply(&by)),
            _ => None,
        };
        // A grant created by this plan is younger than KMS's consistency
        // window only if it is applied just before the request; its
        // creation time is not in the plan.
        let retiring_principal = text(&["retiring_principal"]).ok().flatten();
        let service = crate::policy::arn::is_service_principal(&grantee);
        Ok(GrantInfo {
            grantee_service_principal: service.then(|| grantee.clone()),
            grantee: if service { String::new() } else { grantee },
            retiring_principal,
            created_at: None,
            operations,
            constraints,
            name: text(&["name"]).ok().flatten(),
            grant_id: text(&["grant_id"]).ok().flatten(),
        })
    }
}

fn same_grant(a: &GrantInfo, b: &GrantInfo) -> bool {
    match (&a.grant_id, &b.grant_id) {
        (Some(x), Some(y)) => x == y,
        _ => a.name.is_some() && a.name == b.name && a.grantee == b.grantee,
    }
}
