//! Which planned resource writes which snapshot field, following the AWS
//! provider's documented arguments:
//!
//! | resource | field |
//! |---|---|
//! | `aws_s3_bucket_policy` | `buckets[].policy` (destroyed: `null`) |
//! | `aws_s3_bucket_server_side_encryption_configuration` | `buckets[].encryption` (destroyed: SSE-S3, the default S3 falls back to) |
//! | `aws_s3_bucket_ownership_controls` | `buckets[].ownership` (destroyed: `null`) |
//! | `aws_kms_key` | `keys[]`: `policy`, `state` from `is_enabled` (destroyed: `PendingDeletion`) |
//! | `aws_kms_key_policy` | `keys[].policy` |
//! | `aws_kms_alias` | `keys[].aliases` |
//! | `aws_kms_grant` | `keys[].grants` |
//! | `aws_iam_user`, `aws_iam_role` | `principals[]`: `permissions_boundary`, `trust_policy` (destroyed: no documents) |
//! | `aws_iam_user_policy`, `aws_iam_role_policy`, `aws_iam_group_policy` | inline policies |
//! | `aws_iam_policy` | the document of every attachment of that ARN |
//! | `aws_iam_{user,role,group}_policy_attachment`, `aws_iam_policy_attachment` | managed policies |
//! | `aws_organizations_policy` (+ `_attachment`) | `accounts[].scps` / `rcps` |
//!
//! Lists the plan changes in part (a principal's policies, a key's grants
//! and aliases, an account's SCPs) start from the snapshot the overlay is
//! laid over; when that list is unknown there, it stays unknown.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Action, Instance, Plan, Val, path};
use crate::policy::arn::is_account_id;
use crate::snapshot::{
    BucketInfo, Encryption, Field, GrantConstraints, GrantInfo, KeyInfo, NamedPolicy, PolicyDoc,
    PolicyKind, PrincipalInfo, Snapshot,
};
use crate::whatif::overlay::{OriginKind, Overlay, Source, Target, empty_partial};

/// A document as the plan leaves it.
enum Doc {
    Known(PolicyDoc),
    /// Unknown until apply: why, naming the address.
    Unknown(String),
    Absent,
}

struct Builder<'a> {
    plan: &'a Plan,
    base: &'a Snapshot,
    out: Snapshot,
    sources: Vec<Source>,
    notes: Vec<String>,
    aliases_given: BTreeSet<String>,
}

pub(super) fn overlay(plan: &Plan, base: &Snapshot) -> Result<Overlay, String> {
    let mut builder = Builder {
        plan,
        base,
        out: empty_partial(),
        sources: Vec::new(),
        notes: Vec::new(),
        aliases_given: BTreeSet::new(),
    };
    builder.keys()?;
    builder.key_policies()?;
    builder.aliases();
    builder.grants();
    builder.buckets()?;
    builder.principals()?;
    builder.inline_policies()?;
    builder.managed_policies()?;
    builder.attachments()?;
    builder.organization_policies()?;
    builder.settle_pending();
    // The partial snapshot goes through the snapshot's own validation, so a
    // plan can never smuggle in what a snapshot file could not.
    let text = builder.out.to_json();
    let snapshot = Snapshot::parse(&format!("overlay from plan `{}`", plan.file), &text)
        .map_err(|error| error.to_string())?;
    Ok(Overlay {
        kind: OriginKind::Plan,
        file: plan.file.clone(),
        snapshot,
        aliases_given: builder.aliases_given,
        sources: builder.sources,
        notes: builder.notes,
    })
}

fn until_apply(address: &str) -> String {
    format!("unknown until `{address}` is applied")
}

/// The address an [`until_apply`] text names.
fn pending_in(error: &str) -> Option<String> {
    let start = error.find("unknown until `")? + "unknown until `".len();
    let length = error[start..].find('`')?;
    Some(error[start..start + length].to_string())
}

impl Builder<'_> {
    /// Names `address` as the origin of `target`; `unknown`: the plan
    /// leaves the field unknown ([`Builder::settle_pending`] finds which
    /// resource's apply decides it).
    fn source(&mut self, target: Target, address: &str, unknown: bool) {
        self.sources.push(Source {
            target,
            address: Some(address.to_string()),
            until_apply: unknown.then(|| address.to_string()),
            policy: None,
        });
    }

    /// For every field left unknown: the resource whose apply decides it,
    /// as its error names it; a field unknown for another reason (a
    /// document neither planned nor read) is not waiting for an apply.
    fn settle_pending(&mut self) {
        let out = &self.out;
        for source in &mut self.sources {
            if source.until_apply.is_none() {
                continue;
            }
            let error = match &source.target {
                Target::BucketPolicy(name)
                | Target::BucketEncryption(name)
                | Target::Ownership(name) => {
                    out.buckets
                        .iter()
                        .find(|b| &b.name == name)
                        .and_then(|b| match source.target {
                            Target::BucketPolicy(_) => b.policy_error.clone(),
                            Target::BucketEncryption(_) => b.encryption_error.clone(),
                            _ => b.ownership_error.clone(),
                        })
                }
                Target::KeyPolicy(arn) | Target::KeyGrants(arn) | Target::KeyState(arn) => out
                    .keys
                    .iter()
                    .find(|k| &k.arn == arn)
                    .and_then(|k| match source.target {
                        Target::KeyPolicy(_) => k.policy_error.clone(),
                        Target::KeyGrants(_) => k.grants_error.clone(),
                        _ => k.state_error.clone(),
                    }),
                Target::Policies(arn) | Target::Boundary(arn) | Target::TrustPolicy(arn) => {
                    out.principals.iter().find(|p| &p.arn == arn).and_then(|p| {
                        match source.target {
                            Target::Policies(_) => p.policies_error.clone(),
                            Target::Boundary(_) => p.permissions_boundary_error.clone(),
                            _ => p.trust_policy_error.clone(),
                        }
                    })
                }
                Target::Scps(account) | Target::Rcps(account) => {
                    out.accounts.get(account).and_then(|a| match source.target {
                        Target::Scps(_) => a.scps_error.clone(),
                        _ => a.rcps_error.clone(),
                    })
                }
                Target::KeyAliases(_) => None,
            };
            source.until_apply = error.as_deref().and_then(pending_in);
        }
    }

    fn get(&self, instance: &Instance, parts: &[&str]) -> Val {
        if instance.action == Action::Delete {
            return match super::walk(&instance.before, &path(parts)) {
                None | Some(Value::Null) => Val::Absent,
                Some(value) => Val::Known(value.clone()),
            };
        }
        self.plan.get(instance, &path(parts))
    }

    fn text(&self, instance: &Instance, parts: &[&str]) -> Option<String> {
        self.get(instance, parts).as_str().map(str::to_string)
    }

    /// A policy argument as a document; a document AWS would refuse is an
    /// error naming the address.
    fn doc(&self, instance: &Instance, attribute: &str) -> Result<Doc, String> {
        match self.get(instance, &[attribute]) {
            Val::Known(Value::String(text)) if text.trim().is_empty() => Ok(Doc::Absent),
            Val::Known(Value::String(text)) => {
                let label = format!("`{attribute}` of `{}`", instance.address);
                PolicyDoc::from_text(&label, &text)
                    .map(Doc::Known)
                    .map_err(|error| format!("`{}`: {error}", instance.address))
            }
            Val::Known(other) => Err(format!(
                "`{}`: `{attribute}` is not a JSON text but {other}",
                instance.address
            )),
            Val::Unknown(address) => Ok(Doc::Unknown(until_apply(&address))),
            Val::Absent => Ok(Doc::Absent),
        }
    }

    // -- keys ---------------------------------------------------------------

    fn key_entry(&mut self, arn: &str) -> &mut KeyInfo {
        if let Some(index) = self.out.keys.iter().position(|k| k.arn == arn) {
            return &mut self.out.keys[index];
        }
        self.out.keys.push(KeyInfo {
            arn: arn.to_string(),
            aliases: Vec::new(),
            aliases_error: None,
            tags: Field::Unknown,
            tags_error: None,
            manager: None,
            state: Field::Unknown,
            state_error: None,
            policy: Field::Unknown,
            policy_error: None,
            grants: Field::Unknown,
            grants_error: None,
        });
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

    fn keys(&mut self) -> Result<(), String> {
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

    fn key_policies(&mut self) -> Result<(), String> {
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

    fn aliases(&mut self) {
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

    fn grants(&mut self) {
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
            }),
            Val::Unknown(by) => return Err(until_apply(&by)),
            _ => None,
        };
        Ok(GrantInfo {
            grantee,
            operations,
            constraints,
            name: text(&["name"]).ok().flatten(),
            grant_id: text(&["grant_id"]).ok().flatten(),
        })
    }

    // -- buckets ------------------------------------------------------------

    /// The overlay's entry for a bucket the snapshot has; a bucket it lacks
    /// has no known account, and the note says it was left out.
    fn bucket_entry(&mut self, instance: &Instance) -> Option<(String, &mut BucketInfo)> {
        let name = match self.get(instance, &["bucket"]) {
            Val::Known(Value::String(name)) => name,
            _ => {
                self.notes.push(format!(
                    "the bucket of `{}` is unknown until apply; it is not judged",
                    instance.address
                ));
                return None;
            }
        };
        if !self.out.buckets.iter().any(|b| b.name == name) {
            let Some(base) = self.base.buckets.iter().find(|b| b.name == name) else {
                self.notes.push(format!(
                    "bucket `{name}` of `{}` is not in the snapshot; it is not judged",
                    instance.address
                ));
                return None;
            };
            self.out.buckets.push(BucketInfo {
                name: name.clone(),
                account: base.account.clone(),
                account_error: None,
                tags: Field::Unknown,
                tags_error: None,
                region: None,
                policy: Field::Unknown,
                policy_error: None,
                encryption: Field::Unknown,
                encryption_error: None,
                ownership: Field::Unknown,
                ownership_error: None,
                objects: Vec::new(),
            });
        }
        let bucket = self.out.buckets.iter_mut().find(|b| b.name == name)?;
        Some((name, bucket))
    }

    fn buckets(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for instance in plan.of_kind("aws_s3_bucket_policy") {
            let policy = if instance.action == Action::Delete {
                Doc::Absent
            } else {
                self.doc(instance, "policy")?
            };
            let Some((name, bucket)) = self.bucket_entry(instance) else {
                continue;
            };
            let unknown = matches!(policy, Doc::Unknown(_));
            match policy {
                Doc::Known(doc) => {
                    bucket.policy = Field::Some(doc);
                    bucket.policy_error = None;
                }
                Doc::Absent => {
                    bucket.policy = Field::None;
                    bucket.policy_error = None;
                }
                Doc::Unknown(error) => {
                    bucket.policy = Field::Unknown;
                    bucket.policy_error = Some(error);
                }
            }
            self.source(Target::BucketPolicy(name), &instance.address, unknown);
        }
        for instance in plan.of_kind("aws_s3_bucket_server_side_encryption_configuration") {
            let encryption = self.encryption(instance);
            let Some((name, bucket)) = self.bucket_entry(instance) else {
                continue;
            };
            let unknown = encryption.is_err();
            match encryption {
                Ok(encryption) => {
                    bucket.encryption = Field::Some(encryption);
                    bucket.encryption_error = None;
                }
                Err(error) => {
                    bucket.encryption = Field::Unknown;
                    bucket.encryption_error = Some(error);
                }
            }
            self.source(Target::BucketEncryption(name), &instance.address, unknown);
        }
        for instance in plan.of_kind("aws_s3_bucket_ownership_controls") {
            let ownership = if instance.action == Action::Delete {
                Ok(None)
            } else {
                match self.get(instance, &["rule", "0", "object_ownership"]) {
                    Val::Known(Value::String(value)) => Ok(Some(value)),
                    Val::Unknown(by) => Err(until_apply(&by)),
                    _ => Ok(None),
                }
            };
            let Some((name, bucket)) = self.bucket_entry(instance) else {
                continue;
            };
            let unknown = ownership.is_err();
            match ownership {
                Ok(value) => {
                    bucket.ownership = Field::from_option(value);
                    bucket.ownership_error = None;
                }
                Err(error) => {
                    bucket.ownership = Field::Unknown;
                    bucket.ownership_error = Some(error);
                }
            }
            self.source(Target::Ownership(name), &instance.address, unknown);
        }
        Ok(())
    }

    fn encryption(&self, instance: &Instance) -> Result<Encryption, String> {
        if instance.action == Action::Delete {
            // Deleting the configuration makes S3 fall back to SSE-S3
            // (S3 API Reference, DeleteBucketEncryption).
            return Ok(Encryption {
                algorithm: "AES256".to_string(),
                key: None,
                bucket_key: None,
            });
        }
        let rule = ["rule", "0", "apply_server_side_encryption_by_default", "0"];
        let at = |field: &str| {
            let mut parts = rule.to_vec();
            parts.push(field);
            self.get(instance, &parts)
        };
        let algorithm = match at("sse_algorithm") {
            Val::Known(Value::String(algorithm)) => algorithm,
            Val::Unknown(by) => return Err(until_apply(&by)),
            _ => return Err(format!("`{}` sets no `sse_algorithm`", instance.address)),
        };
        let key = match at("kms_master_key_id") {
            Val::Known(Value::String(key)) if !key.is_empty() => Some(key),
            Val::Unknown(by) => {
                return Err(format!(
                    "its key (`kms_master_key_id` of `{}`) is {}",
                    instance.address,
                    until_apply(&by)
                ));
            }
            _ => None,
        };
        let bucket_key = match self.get(instance, &["rule", "0", "bucket_key_enabled"]) {
            Val::Known(Value::Bool(enabled)) => Some(enabled),
            Val::Unknown(by) => return Err(until_apply(&by)),
            _ => None,
        };
        Ok(Encryption {
            algorithm,
            key,
            bucket_key,
        })
    }

    // -- principals ---------------------------------------------------------

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

    fn principals(&mut self) -> Result<(), String> {
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

    fn inline_policies(&mut self) -> Result<(), String> {
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

    fn managed_policies(&mut self) -> Result<(), String> {
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

    fn attachments(&mut self) -> Result<(), String> {
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

    // -- organizations ------------------------------------------------------

    fn organization_policies(&mut self) -> Result<(), String> {
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

fn same_grant(a: &GrantInfo, b: &GrantInfo) -> bool {
    match (&a.grant_id, &b.grant_id) {
        (Some(x), Some(y)) => x == y,
        _ => a.name.is_some() && a.name == b.name && a.grantee == b.grantee,
    }
}
