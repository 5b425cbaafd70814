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
//!
//! Here is the builder the services share (reading a planned value, a
//! document argument, where a field waits for an apply); each service's
//! resources are in its own file: `s3`, `kms`, `iam`, `organizations`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Action, Instance, Plan, Val, path};
use crate::snapshot::{PolicyDoc, Snapshot};
use crate::whatif::overlay::{OriginKind, Overlay, Source, Target, empty_partial};
use crate::whatif::terraform::WrittenBy;

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
        let written = self.written(&target, address);
        self.sources.push(Source {
            target,
            address: Some(address.to_string()),
            until_apply: unknown.then(|| address.to_string()),
            policy: None,
            written,
        });
    }

    /// The resource argument that holds the document `target` names, as
    /// `address` leaves it: the resource itself for a policy resource, the
    /// `aws_iam_policy` an attachment or a boundary names when the plan
    /// manages it. A destroyed resource holds nothing to edit.
    fn written(&self, target: &Target, address: &str) -> Option<WrittenBy> {
        let plan = self.plan;
        let instance = plan
            .instances
            .iter()
            .find(|i| i.address == address && !i.data)?;
        if instance.action == Action::Delete {
            return None;
        }
        let policy_named_by = |argument: &str| -> Option<&Instance> {
            let named = plan
                .referenced_instance(instance, &path(&[argument]))
                .filter(|policy| policy.kind == "aws_iam_policy")
                .or_else(|| {
                    let arn = self.text(instance, &[argument])?;
                    plan.of_kind("aws_iam_policy")
                        .find(|policy| self.text(policy, &["arn"]).as_deref() == Some(arn.as_str()))
                })?;
            (named.action != Action::Delete).then_some(named)
        };
        let (holder, attribute) = match (target, instance.kind.as_str()) {
            (Target::BucketPolicy(_), "aws_s3_bucket_policy")
            | (Target::KeyPolicy(_), "aws_kms_key" | "aws_kms_key_policy")
            | (
                Target::Policies(_),
                "aws_iam_user_policy"
                | "aws_iam_role_policy"
                | "aws_iam_group_policy"
                | "aws_iam_policy",
            ) => (instance, "policy"),
            (Target::TrustPolicy(_), "aws_iam_role") => (instance, "assume_role_policy"),
            (
                Target::Policies(_),
                "aws_iam_user_policy_attachment"
                | "aws_iam_role_policy_attachment"
                | "aws_iam_group_policy_attachment"
                | "aws_iam_policy_attachment",
            ) => (policy_named_by("policy_arn")?, "policy"),
            (Target::Boundary(_), "aws_iam_user" | "aws_iam_role") => {
                (policy_named_by("permissions_boundary")?, "policy")
            }
            (Target::Scps(_) | Target::Rcps(_), "aws_organizations_policy") => {
                (instance, "content")
            }
            (Target::Scps(_) | Target::Rcps(_), "aws_organizations_policy_attachment") => {
                let policy = plan
                    .referenced_instance(instance, &path(&["policy_id"]))
                    .filter(|policy| policy.kind == "aws_organizations_policy")
                    .or_else(|| {
                        let id = self.text(instance, &["policy_id"])?;
                        plan.of_kind("aws_organizations_policy")
                            .find(|p| self.text(p, &["id"]).as_deref() == Some(id.as_str()))
                    })?;
                (policy, "content")
            }
            _ => return None,
        };
        if holder.action == Action::Delete {
            return None;
        }
        let policy_name = match target {
            Target::Scps(_) | Target::Rcps(_) => Some(self.text(holder, &["name"])?),
            _ => None,
        };
        // `policy = data.aws_iam_policy_document.x.json`: the statements
        // are written in the data source.
        let data_source = plan
            .references(holder, &path(&[attribute]))
            .iter()
            .filter_map(|reference| plan.referenced(holder, reference))
            .find(|(source, read)| {
                source.data
                    && source.kind == "aws_iam_policy_document"
                    && matches!(read.as_str(), "json" | "minified_json")
            })
            .map(|(source, _)| source.address.clone());
        Some(WrittenBy {
            address: holder.address.clone(),
            attribute: attribute.to_string(),
            data_source,
            plan: plan.file.clone(),
            policy_name,
        })
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
}

mod iam;
mod kms;
mod organizations;
mod s3;
