//! The Organizations resources of a plan: `aws_organizations_policy` and
//! its attachments, written to `accounts[].scps` / `rcps`.

use serde_json::Value;

use super::{Builder, Doc};
use crate::policy::arn::is_account_id;
use crate::snapshot::{Field, NamedPolicy};
use crate::whatif::overlay::Target;
use crate::whatif::plan::{Action, Val, path};

impl Builder<'_> {
    pub(super) fn organization_policies(&mut self) -> Result<(), String> {
        let plan = self.plan;
        // Content changes of policies already attached somewhere.
        for instance in plan.of_kind("aws_organizations_policy") {
            let Some(kind) = org_kind(self.text(instance, &["type"]).as_deref()) else {
                continue;
            };
            if instance.created || instance.action == Action::Delete {
                continue;
            }
            let Some(name) = self.text(instance, &["name"]) else {
                continue;
            };
            let document = self.doc(instance, "content")?;
            let accounts: Vec<String> = self.base.accounts.keys().cloned().collect();
            for account in accounts {
                let address = instance.address.clone();
                self.change_levels(&account, kind, &address, |levels| {
                    let mut touched = false;
                    for named in levels.iter_mut().flatten() {
                        if named.name == name {
                            touched = true;
                            match &document {
                                Doc::Known(doc) => named.document = doc.clone(),
                                _ => {
                                    return Err(format!("the content of `{address}` is not known"));
                                }
                            }
                        }
                    }
                    Ok(touched)
                });
            }
        }
        for instance in plan.of_kind("aws_organizations_policy_attachment") {
            let Some(policy) = plan
                .referenced_instance(instance, &path(&["policy_id"]))
                .or_else(|| {
                    let id = self.text(instance, &["policy_id"])?;
                    plan.of_kind("aws_organizations_policy")
                        .find(|p| plan.get(p, &path(&["id"])).as_str() == Some(id.as_str()))
                })
            else {
                self.notes.push(format!(
                    "the policy of `{}` is not in the plan; it is not judged",
                    instance.address
                ));
                continue;
            };
            let Some(kind) = org_kind(self.text(policy, &["type"]).as_deref()) else {
                continue;
            };
            let name = self
                .text(policy, &["name"])
                .unwrap_or_else(|| policy.address.clone());
            let document = self.doc(policy, "content")?;
            let address = instance.address.clone();
            let target = match self.get(instance, &["target_id"]) {
                Val::Known(Value::String(target)) => Some(target),
                _ => None,
            };
            let accounts: Vec<String> = self.base.accounts.keys().cloned().collect();
            for account in accounts {
                let deleting = instance.action == Action::Delete;
                match &target {
                    Some(target) if target == &account => {
                        self.change_levels(&account, kind, &address, |levels| {
                            let Some(own) = levels.last_mut() else {
                                return Err("the account's own level is not known".to_string());
                            };
                            own.retain(|named| named.name != name);
                            if !deleting {
                                match &document {
                                    Doc::Known(doc) => own.push(NamedPolicy {
                                        name: name.clone(),
                                        kind: None,
                                        document: doc.clone(),
                                    }),
                                    _ => {
                                        return Err(format!(
                                            "the content of `{}` is not known",
                                            policy.address
                                        ));
                                    }
                                }
                            }
                            Ok(true)
                        });
                    }
                    Some(target) if is_account_id(target) => {}
                    // An OU or the root: which accounts sit under it is not in
                    // the snapshot.
                    _ => {
                        let what = target
                            .clone()
                            .unwrap_or_else(|| "a target unknown until apply".into());
                        self.change_levels(&account, kind, &address, |_| {
                            Err(format!(
                                "`{address}` attaches or detaches `{name}` at `{what}`, and whether this account is under it is not known"
                            ))
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Edits one account's SCP or RCP levels; `edit` says whether it touched
    /// them, or why they become unknown.
    fn change_levels(
        &mut self,
        account: &str,
        kind: OrgKind,
        address: &str,
        edit: impl FnOnce(&mut Vec<Vec<NamedPolicy>>) -> Result<bool, String>,
    ) {
        let base = self.base.accounts.get(account).cloned().unwrap_or_default();
        let entry = self.out.accounts.entry(account.to_string()).or_default();
        let (field, error, base_field, base_error) = match kind {
            OrgKind::Scp => (
                &mut entry.scps,
                &mut entry.scps_error,
                base.scps,
                base.scps_error,
            ),
            OrgKind::Rcp => (
                &mut entry.rcps,
                &mut entry.rcps_error,
                base.rcps,
                base.rcps_error,
            ),
        };
        if field.is_unknown() && error.is_none() {
            *field = base_field;
            *error = base_error;
        }
        let touched = match field {
            Field::Some(levels) => match edit(levels) {
                Ok(touched) => touched,
                Err(why) => {
                    *field = Field::Unknown;
                    *error = Some(why);
                    true
                }
            },
            _ => false,
        };
        let unknown = field.is_unknown();
        if touched {
            let target = match kind {
                OrgKind::Scp => Target::Scps(account.to_string()),
                OrgKind::Rcp => Target::Rcps(account.to_string()),
            };
            self.source(target, address, unknown);
        } else if !self.sources.iter().any(|s| match (&s.target, kind) {
            (Target::Scps(a), OrgKind::Scp) | (Target::Rcps(a), OrgKind::Rcp) => a == account,
            _ => false,
        }) {
            // Untouched: leave the account as read.
            let entry = self.out.accounts.get_mut(account);
            if let Some(entry) = entry {
                match kind {
                    OrgKind::Scp => {
                        entry.scps = Field::Unknown;
                        entry.scps_error = None;
                    }
                    OrgKind::Rcp => {
                        entry.rcps = Field::Unknown;
                        entry.rcps_error = None;
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum OrgKind {
    Scp,
    Rcp,
}

fn org_kind(kind: Option<&str>) -> Option<OrgKind> {
    match kind {
        // `type` defaults to SERVICE_CONTROL_POLICY.
        Some("SERVICE_CONTROL_POLICY") | None => Some(OrgKind::Scp),
        Some("RESOURCE_CONTROL_POLICY") => Some(OrgKind::Rcp),
        _ => None,
    }
}
