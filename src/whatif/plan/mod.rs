//! The Terraform plan reader: turns the JSON of `terraform show -json
//! PLANFILE` (Terraform and OpenTofu write the same format) into an
//! [`Overlay`], the partial snapshot of the documents the plan will leave
//! behind, each named by its resource address.
//!
//! The format is HashiCorp's "JSON Output Format" (internals/json-format):
//! `resource_changes[]` holds every managed resource and every data source
//! read at apply time, with `change.actions`, `before`, `after` and
//! `after_unknown`; data sources read while planning sit in
//! `prior_state.values`; `configuration` keeps each argument's expression
//! and the resources it references. A major `format_version` other than 1 is
//! refused, as the format's own rules ask.
//!
//! A value the plan does not know (`after_unknown`) is resolved from the
//! plan where the plan itself says what it will be (a bucket policy's
//! `bucket` that references `aws_s3_bucket.b.id` is that bucket's name; a
//! `data.aws_iam_policy_document`'s `json` is built from its statements);
//! otherwise the documents that need it are unknown, naming the address.
//! Which resource writes which snapshot field is in [`apply`].

mod apply;
mod document;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::snapshot::Snapshot;
use crate::whatif::overlay::Overlay;

/// Why a plan file was refused: one line naming the file, the resource
/// address when there is one, and the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plan `{file}`: {message}")]
pub struct PlanError {
    pub file: String,
    pub message: String,
}

/// What a planned change does to a resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Created, updated, replaced, read, or left as is: `after` is what
    /// will be.
    Keep,
    /// Destroyed (or forgotten): `before` is what goes.
    Delete,
}

/// One resource instance of the plan.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    /// `module.m.aws_kms_key.k[0]`.
    pub address: String,
    /// The address without instance keys, as `configuration` names it.
    pub config_address: String,
    /// `module.m.` or empty.
    pub module: String,
    pub data: bool,
    pub kind: String,
    pub action: Action,
    pub created: bool,
    pub before: Value,
    pub after: Value,
    pub after_unknown: Value,
}

/// A value as the plan knows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Known(Value),
    /// Unknown until apply; the address of the resource that decides it.
    Unknown(String),
    /// Not set (null or absent).
    Absent,
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Known(Value::String(text)) => Some(text),
            _ => None,
        }
    }
}

/// The plan, indexed for resolution.
pub(crate) struct Plan {
    pub file: String,
    pub instances: Vec<Instance>,
    /// `configuration` expressions by config address.
    expressions: BTreeMap<String, Value>,
    /// The account the plan runs in, from `data.aws_caller_identity`.
    pub account: Option<String>,
}

/// Reads a plan and returns the overlay it stands for. `base` is the
/// snapshot it will be laid over: lists the plan changes only in part
/// (a principal's policies, a key's grants) start from it.
pub fn read(file: &str, text: &str, base: &Snapshot) -> Result<Overlay, PlanError> {
    let fail = |message: String| PlanError {
        file: file.to_string(),
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|error| {
        fail(format!(
            "not JSON: {error} (give the output of `terraform show -json PLANFILE`)"
        ))
    })?;
    let plan = Plan::parse(file, &value).map_err(fail)?;
    apply::overlay(&plan, base).map_err(fail)
}

impl Plan {
    fn parse(file: &str, value: &Value) -> Result<Self, String> {
        let Some(version) = value.get("format_version").and_then(Value::as_str) else {
            return Err(
                "no `format_version`: this is not the output of `terraform show -json PLANFILE`"
                    .to_string(),
            );
        };
        if version.split('.').next() != Some("1") {
            return Err(format!(
                "`format_version` {version} is not supported (expected 1.x)"
            ));
        }
        if value.get("resource_changes").is_none() && value.get("planned_values").is_none() {
            return Err(
                "no `resource_changes`: this is a state, not a plan (give `terraform show -json PLANFILE`)"
                    .to_string(),
            );
        }
        let mut instances = Vec::new();
        if let Some(changes) = value.get("resource_changes").and_then(Value::as_array) {
            for (index, change) in changes.iter().enumerate() {
                instances.push(
                    Self::instance(change).ok_or_else(|| {
                        format!("/resource_changes/{index}: not a resource change")
                    })?,
                );
            }
        }
        // Data sources read while planning are not changes: their values
        // are in the prior state.
        if let Some(root) = value.pointer("/prior_state/values/root_module") {
            let mut modules = vec![root];
            while let Some(module) = modules.pop() {
                if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
                    modules.extend(children.iter());
                }
                for resource in module
                    .get("resources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if resource.get("mode").and_then(Value::as_str) != Some("data") {
                        continue;
                    }
                    let Some(address) = resource.get("address").and_then(Value::as_str) else {
                        continue;
                    };
                    if instances.iter().any(|i| i.address == address) {
                        continue;
                    }
                    let kind = resource
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let values = resource.get("values").cloned().unwrap_or(Value::Null);
                    instances.push(Instance {
                        address: address.to_string(),
                        config_address: strip_keys(address),
                        module: module_of(address),
                        data: true,
                        kind: kind.to_string(),
                        action: Action::Keep,
                        created: false,
                        before: values.clone(),
                        after: values,
                        after_unknown: Value::Null,
                    });
                }
            }
        }
        let mut expressions = BTreeMap::new();
        if let Some(root) = value.pointer("/configuration/root_module") {
            collect_expressions(root, "", &mut expressions);
        }
        let account = instances
            .iter()
            .filter(|i| i.data && i.kind == "aws_caller_identity")
            .find_map(|i| i.after.get("account_id").and_then(Value::as_str))
            .map(str::to_string);
        Ok(Self {
            file: file.to_string(),
            instances,
            expressions,
            account,
        })
    }

    fn instance(change: &Value) -> Option<Instance> {
        let address = change.get("address")?.as_str()?.to_string();
        let kind = change.get("type")?.as_str()?.to_string();
        let data = change.get("mode").and_then(Value::as_str) == Some("data");
        let body = change.get("change")?;
        let actions: Vec<&str> = body
            .get("actions")?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // ["delete", "create"] and ["create", "delete"] replace: what counts
        // is the resource after. "forget" leaves the object in AWS.
        let action = if actions == ["delete"] {
            Action::Delete
        } else {
            Action::Keep
        };
        let created = actions.contains(&"create");
        let forgotten = actions == ["forget"];
        let before = body.get("before").cloned().unwrap_or(Value::Null);
        let (after, after_unknown) = if forgotten {
            (before.clone(), Value::Null)
        } else {
            (
                body.get("after").cloned().unwrap_or(Value::Null),
                body.get("after_unknown").cloned().unwrap_or(Value::Null),
            )
        };
        Some(Instance {
            config_address: strip_keys(&address),
            module: module_of(&address),
            address,
            data,
            kind,
            action,
            created,
            before,
            after,
            after_unknown,
        })
    }

    /// The value at `path` (attribute names and list indexes) of an
    /// instance as the plan leaves it, resolving unknown values from the
    /// plan where it can.
    pub fn get(&self, instance: &Instance, path: &[Seg]) -> Val {
        self.get_depth(instance, path, 0)
    }

    fn get_depth(&self, instance: &Instance, path: &[Seg], depth: usize) -> Val {
        if unknown_at(&instance.after_unknown, path) {
            return self
                .resolve(instance, path, depth)
                .unwrap_or_else(|| Val::Unknown(instance.address.clone()));
        }
        match walk(&instance.after, path) {
            None | Some(Value::Null) => Val::Absent,
            Some(value) => Val::Known(value.clone()),
        }
    }

    /// An unknown argument from what the configuration says it references.
    fn resolve(&self, instance: &Instance, path: &[Seg], depth: usize) -> Option<Val> {
        if depth > 8 {
            return None;
        }
        let references = self.references(instance, path);
        let reference = references.first()?;
        let (target, attribute) = self.referenced(instance, reference)?;
        Some(self.derive(target, &attribute, depth + 1))
    }

    /// The configured references of an argument (`["aws_kms_key.k.arn",
    /// "aws_kms_key.k"]`), most specific first.
    pub fn references(&self, instance: &Instance, path: &[Seg]) -> Vec<String> {
        let Some(expressions) = self.expressions.get(&instance.config_address) else {
            return Vec::new();
        };
        // Blocks are lists of objects in `configuration`; instance indexes
        // of a block line up with them.
        let Some(expression) = walk(expressions, path) else {
            return Vec::new();
        };
        let mut references: Vec<String> = expression
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        references.sort_by_key(|r| std::cmp::Reverse(r.matches('.').count()));
        references
    }

    /// The instance a reference names and the attribute it reads.
    pub fn referenced(&self, from: &Instance, reference: &str) -> Option<(&Instance, String)> {
        let (data, rest) = match reference.strip_prefix("data.") {
            Some(rest) => (true, rest),
            None => (false, reference),
        };
        let mut parts = rest.splitn(3, '.');
        let kind = parts.next()?;
        let name = parts.next()?;
        let attribute = parts.next().unwrap_or("id");
        let attribute = attribute.split(['.', '[']).next().unwrap_or("id");
        let name_plain = name.split('[').next().unwrap_or(name);
        let config = format!(
            "{}{}{kind}.{name_plain}",
            from.module,
            if data { "data." } else { "" }
        );
        let mut matches = self
            .instances
            .iter()
            .filter(|i| i.config_address == config && i.data == data);
        let found = if name.contains('[') {
            let address = format!(
                "{}{}{kind}.{name}",
                from.module,
                if data { "data." } else { "" }
            );
            self.instances.iter().find(|i| i.address == address)
        } else {
            let first = matches.next();
            // A reference to a resource with several instances says nothing
            // about which one.
            if matches.next().is_some() {
                None
            } else {
                first
            }
        };
        found.map(|instance| (instance, attribute.to_string()))
    }

    /// An attribute of a referenced instance, computed from the plan where
    /// the provider's rules make it so.
    fn derive(&self, target: &Instance, attribute: &str, depth: usize) -> Val {
        let direct = self.get_depth(target, &[Seg::Key(attribute.to_string())], depth);
        if let Val::Known(_) = direct {
            return direct;
        }
        let known = |name: &str| {
            self.get_depth(target, &[Seg::Key(name.to_string())], depth)
                .as_str()
                .map(str::to_string)
        };
        let derived = match (target.kind.as_str(), attribute) {
            // aws_s3_bucket: `id` is the bucket name.
            ("aws_s3_bucket", "id" | "bucket") => known("bucket"),
            ("aws_s3_bucket", "arn") => known("bucket").map(|b| format!("arn:aws:s3:::{b}")),
            ("aws_iam_user" | "aws_iam_role" | "aws_iam_group", "id" | "name") => known("name"),
            ("aws_iam_user" | "aws_iam_role" | "aws_iam_policy", "arn") => {
                let kind = match target.kind.as_str() {
                    "aws_iam_user" => "user",
                    "aws_iam_role" => "role",
                    _ => "policy",
                };
                match (&self.account, known("name")) {
                    (Some(account), Some(name)) => {
                        let path = known("path").unwrap_or_else(|| "/".to_string());
                        Some(format!("arn:aws:iam::{account}:{kind}{path}{name}"))
                    }
                    _ => None,
                }
            }
            ("aws_iam_policy", "id") => self
                .derive(target, "arn", depth)
                .as_str()
                .map(str::to_string),
            ("aws_iam_policy_document", "json" | "minified_json") if target.data => {
                document::render(self, target)
            }
            _ => None,
        };
        match (derived, direct) {
            (Some(text), _) => Val::Known(Value::String(text)),
            (None, Val::Absent) => Val::Absent,
            (None, _) => Val::Unknown(target.address.clone()),
        }
    }

    /// Whether the configuration sets an argument at all.
    pub fn configured(&self, instance: &Instance, attribute: &str) -> bool {
        self.expressions
            .get(&instance.config_address)
            .is_some_and(|expressions| expressions.get(attribute).is_some())
    }

    /// The instance an argument references, when it references exactly
    /// one resource (`policy_arn = aws_iam_policy.p.arn`).
    pub fn referenced_instance(&self, instance: &Instance, path: &[Seg]) -> Option<&Instance> {
        let references = self.references(instance, path);
        references
            .iter()
            .find_map(|reference| self.referenced(instance, reference))
            .map(|(target, _)| target)
    }

    /// The managed resources of a type (data sources only feed values).
    pub fn of_kind<'p>(&'p self, kind: &'p str) -> impl Iterator<Item = &'p Instance> + 'p {
        self.instances
            .iter()
            .filter(move |i| i.kind == kind && !i.data)
    }
}

/// One step of a path into a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// `["rule", 0, "bucket_key_enabled"]` as a path.
pub(crate) fn path(parts: &[&str]) -> Vec<Seg> {
    parts
        .iter()
        .map(|part| match part.parse::<usize>() {
            Ok(index) => Seg::Index(index),
            Err(_) => Seg::Key((*part).to_string()),
        })
        .collect()
}

fn walk<'v>(value: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    let mut current = value;
    for seg in path {
        current = match seg {
            Seg::Key(key) => current.get(key)?,
            Seg::Index(index) => current.get(index)?,
        };
    }
    Some(current)
}

/// Whether `after_unknown` marks the value at `path` (or anything holding
/// it) unknown.
fn unknown_at(after_unknown: &Value, path: &[Seg]) -> bool {
    let mut current = after_unknown;
    for seg in path {
        if current == &Value::Bool(true) {
            return true;
        }
        let next = match seg {
            Seg::Key(key) => current.get(key),
            Seg::Index(index) => current.get(index),
        };
        match next {
            Some(next) => current = next,
            None => return false,
        }
    }
    current == &Value::Bool(true)
}

/// `module.a["x"].aws_s3_bucket.b[0]` without instance keys.
fn strip_keys(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut quoted = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The module part of an instance address (`module.a.module.b.`), with
/// instance keys stripped, as references inside that module are relative.
fn module_of(address: &str) -> String {
    let plain = strip_keys(address);
    let parts: Vec<&str> = plain.split('.').collect();
    let mut out = String::new();
    let mut index = 0;
    while index + 1 < parts.len() && parts[index] == "module" {
        out.push_str("module.");
        out.push_str(parts[index + 1]);
        out.push('.');
        index += 2;
    }
    out
}

fn collect_expressions(module: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    for resource in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(address), Some(expressions)) = (
            resource.get("address").and_then(Value::as_str),
            resource.get("expressions"),
        ) {
            out.insert(format!("{prefix}{address}"), expressions.clone());
        }
    }
    if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
        for (name, call) in calls {
            if let Some(inner) = call.get("module") {
                collect_expressions(inner, &format!("{prefix}module.{name}."), out);
            }
        }
    }
}
