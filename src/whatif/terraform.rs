//! Fixes in the tool that owns the document. When a `--plan` resource writes
//! the document a change edits, an AWS CLI command would be undone by the
//! next `terraform apply`: the change is given instead as the HCL to put in
//! that resource (its argument as `jsonencode({...})`), or in the
//! `aws_iam_policy_document` data source the argument reads (its `data`
//! block with `statement` blocks). Either holds the whole document after
//! the change, as the AWS CLI file does; comments above it say which
//! statements the change adds, removes or edits.
//!
//! Strings are written as the Terraform language reads them ("Strings and
//! Templates", Terraform language documentation): `\\`, `"` and control
//! characters escaped, and the template openers `${` and `%{` doubled
//! (`$${aws:username}` stays the IAM policy variable `${aws:username}`).

use serde_json::Value;

use crate::diagnosis::{Diagnosis, Fix, FixChange, FixTarget, LinkId, TerraformEdit};
use crate::snapshot::DocRef;
use crate::whatif::overlay::{Provenance, Target, same_principal};

/// The resource argument a plan writes a document with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBy {
    /// The resource holding the argument (`aws_iam_policy.reader`).
    pub address: String,
    /// The argument (`policy`, `assume_role_policy`).
    pub attribute: String,
    /// The `data.aws_iam_policy_document` the argument reads, if it does.
    pub data_source: Option<String>,
    /// The plan file.
    pub plan: String,
    /// For an SCP or RCP: the policy's name, which the snapshot's levels
    /// name it by.
    pub policy_name: Option<String>,
}

/// Gives every change whose document a plan resource writes its
/// Terraform edit, and withdraws its AWS CLI command, which the next
/// `terraform apply` would undo. A change to a document no plan resource
/// holds keeps its command.
pub(super) fn attach(diagnosis: &mut Diagnosis, provenance: &Provenance) {
    let mut edits: Vec<Option<TerraformEdit>> = Vec::new();
    for change in &diagnosis.changes {
        let edit = match (&change.target, &change.document_after) {
            (Some(target), Some(document)) => written_by(provenance, target)
                .map(|written| edit_for(written, document, &diagnosis.changes, change)),
            _ => None,
        };
        edits.push(edit);
    }
    for (change, edit) in diagnosis.changes.iter_mut().zip(edits) {
        if let Some(edit) = edit {
            change.command = None;
            change.warning = change
                .warning
                .take()
                .and_then(|warning| terraform_warning(&warning));
            change.terraform = Some(Box::new(edit));
        }
    }
}

/// The command's warning as it applies to the Terraform edit: what AWS
/// does with the document stays; what only the AWS CLI command needs goes
/// (the AWS provider manages an `aws_iam_policy`'s versions itself).
fn terraform_warning(warning: &str) -> Option<String> {
    let parts: Vec<String> = warning
        .split("; ")
        .filter(|part| !part.starts_with("a managed policy keeps at most five versions"))
        .map(|part| {
            part.replace(
                "put-key-policy replaces the whole key policy",
                "the argument replaces the whole key policy",
            )
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The plan resource that holds the change's target document, if one does.
fn written_by<'p>(provenance: &'p Provenance, target: &FixTarget) -> Option<&'p WrittenBy> {
    match target.kind {
        LinkId::BucketPolicy => provenance.written_by(
            |t, _, _| matches!(t, Target::BucketPolicy(name) if *name == target.resource),
        ),
        LinkId::KeyPolicy => provenance
            .written_by(|t, _, _| matches!(t, Target::KeyPolicy(arn) if *arn == target.resource)),
        LinkId::TrustPolicy => provenance.written_by(|t, _, _| {
            matches!(t, Target::TrustPolicy(arn) if same_principal(arn, &target.resource))
        }),
        LinkId::PermissionsBoundary => {
            let principal = target.principal.as_deref()?;
            provenance.written_by(
                |t, _, _| matches!(t, Target::Boundary(arn) if same_principal(arn, principal)),
            )
        }
        LinkId::IdentityPolicy => {
            let principal = target.principal.as_deref()?;
            // How the snapshot names the policy in the principal's list.
            let name = match (&target.group, &target.policy_name) {
                (Some(group), Some(name)) => format!("{group}/{name}"),
                (None, Some(name)) => name.clone(),
                _ => target.resource.clone(),
            };
            provenance.written_by(|t, policy, _| {
                matches!(t, Target::Policies(arn) if same_principal(arn, principal))
                    && policy.is_none_or(|policy| policy == name)
            })
        }
        LinkId::Scp | LinkId::Rcp => {
            let account = match target.doc.as_deref()? {
                DocRef::Scp { account, .. } | DocRef::Rcp { account, .. } => account,
                _ => return None,
            };
            // The last write of this account's levels that is not another
            // policy's: an overlay's (which names no policy) shadows the plan.
            provenance.written_by(|t, _, written| {
                let levels = match (target.kind, t) {
                    (LinkId::Scp, Target::Scps(a)) | (LinkId::Rcp, Target::Rcps(a)) => a,
                    _ => return false,
                };
                levels == account
                    && written.is_none_or(|w| w.policy_name.as_deref() == Some(&target.resource))
            })
        }
        // The rest are not documents.
        _ => None,
    }
}

fn edit_for(written: &WrittenBy, document: &Value, changes: &[Fix], change: &Fix) -> TerraformEdit {
    let mut hcl = String::new();
    let place = match &written.data_source {
        Some(data) => format!(
            "in `{}` (read by `{}` as `{}`)",
            data, written.address, written.attribute
        ),
        None => format!("in `{}`, argument `{}`", written.address, written.attribute),
    };
    hcl.push_str(&comment(&format!(
        "kms-s3-doctor: {place}, from plan `{}`: the whole document after the change",
        written.plan
    )));
    for index in &change.with_changes {
        if let Some(each) = changes.get(*index) {
            hcl.push_str(&comment(&format!(
                "change {}: {}",
                index + 1,
                what_changes(each)
            )));
        }
    }
    hcl.push_str(&comment(
        "values are as the plan resolved them: keep the references and variables your configuration uses",
    ));
    if [
        &written.address,
        written.data_source.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|address| address.ends_with(']'))
    {
        hcl.push_str(&comment(
            "the block has several instances (count or for_each): this is the document of this one",
        ));
    }
    let body = match &written.data_source {
        Some(data) => policy_document_block(data, document),
        None => None,
    };
    match body {
        Some(block) => hcl.push_str(&block),
        None => {
            if written.data_source.is_some() {
                hcl.push_str(&comment(
                    "the document has parts a statement block cannot hold: set the argument itself",
                ));
            }
            hcl.push_str(&format!(
                "{} = jsonencode({})\n",
                written.attribute,
                value(document, 0)
            ));
        }
    }
    TerraformEdit {
        address: written.address.clone(),
        attribute: written.attribute.clone(),
        data_source: written.data_source.clone(),
        plan: written.plan.clone(),
        hcl,
    }
}

/// One line saying what one change does to the document.
fn what_changes(change: &Fix) -> String {
    let sid = change
        .statement
        .as_ref()
        .and_then(|statement| statement.get("Sid"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| change.target.as_ref().and_then(|target| target.sid.clone()));
    let sid = sid.map(|sid| format!(" `{sid}`")).unwrap_or_default();
    let at = change
        .target
        .as_ref()
        .and_then(|target| target.statement)
        .map(|index| format!(" (statement {index} as read)"))
        .unwrap_or_default();
    let widens = if change.widens.is_empty() {
        String::new()
    } else {
        format!(
            "; it widens a guard ({}): apply it only if the guard itself is wrong",
            change.widens.join(", ")
        )
    };
    let what = match change.change {
        FixChange::AddStatement => format!("adds the statement{sid}"),
        FixChange::RemoveStatement => format!("removes the statement{sid}{at}"),
        FixChange::EditStatement => format!("edits the statement{sid}{at}"),
        FixChange::Request | FixChange::Other => "changes the document".to_string(),
    };
    format!("{what}{widens}")
}

/// Characters an editor or terminal acts on rather than shows: controls,
/// and the bidirectional overrides and isolates that reorder a line.
fn hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A comment line; nothing in it can end the line early or reorder it.
fn comment(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if hostile(c) { ' ' } else { c })
        .collect();
    format!("# {clean}\n")
}

/// A quoted Terraform string.
pub(crate) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            // Control characters, and the ones that reorder what an editor
            // shows, as escapes: the snippet reads the same wherever shown.
            c if hostile(c) => {
                let code = u32::from(c);
                if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An object key: bare when it is an identifier, quoted otherwise (a
/// condition key such as `aws:SourceArn`).
fn key(text: &str) -> String {
    let mut chars = text.chars();
    let identifier = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(text, "true" | "false" | "null");
    if identifier {
        text.to_string()
    } else {
        string(text)
    }
}

/// A JSON value as a Terraform expression that `jsonencode` turns back
/// into the same JSON.
fn value(json: &Value, depth: usize) -> String {
    let indent = "  ".repeat(depth + 1);
    let close = "  ".repeat(depth);
    match json {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string(text),
        Value::Array(items) if items.is_empty() => "[]".to_string(),
        Value::Array(items)
            if items
                .iter()
                .all(|item| !item.is_object() && !item.is_array()) =>
        {
            let parts: Vec<String> = items.iter().map(|item| value(item, depth)).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Array(items) => {
            let mut out = String::from("[\n");
            for item in items {
                out.push_str(&format!("{indent}{},\n", value(item, depth + 1)));
            }
            out.push_str(&format!("{close}]"));
            out
        }
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let mut out = String::from("{\n");
            for (name, item) in map {
                out.push_str(&format!(
                    "{indent}{} = {}\n",
                    key(name),
                    value(item, depth + 1)
                ));
            }
            out.push_str(&format!("{close}}}"));
            out
        }
    }
}

/// A list of strings from a policy element that is a string or a list of
/// them; `None` for anything else.
fn strings(element: &Value) -> Option<Vec<String>> {
    match element {
        Value::String(text) => Some(vec![text.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

/// Condition values as the data source takes them: strings. "Grammar of
/// the IAM JSON policy language": values are enclosed in quotation marks,
/// which are optional for numeric and Boolean values, so `true` and
/// `"true"` are the same value.
fn condition_values(element: &Value) -> Option<Vec<String>> {
    let scalar = |item: &Value| match item {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    match element {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Some(vec![scalar(other)?]),
    }
}

fn list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|item| string(item)).collect();
    format!("[{}]", parts.join(", "))
}

/// The `data "aws_iam_policy_document"` block that renders `document`,
/// following the AWS provider's documented mapping of `statement`
/// arguments to policy elements (`sid`, `effect`, `actions`,
/// `not_actions`, `resources`, `not_resources`, `principals`,
/// `not_principals`, `condition`); `None` when the document holds
/// something the block cannot say.
fn policy_document_block(address: &str, document: &Value) -> Option<String> {
    let object = document.as_object()?;
    let name = data_source_name(address)?;
    let mut out = format!("data \"aws_iam_policy_document\" {} {{\n", string(&name));
    for (field, item) in object {
        match field.as_str() {
            "Version" => out.push_str(&format!("  version = {}\n", string(item.as_str()?))),
            "Id" => out.push_str(&format!("  policy_id = {}\n", string(item.as_str()?))),
            "Statement" => {}
            _ => return None,
        }
    }
    let statements = match object.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        None => Vec::new(),
        Some(_) => return None,
    };
    for statement in &statements {
        out.push('\n');
        out.push_str(&statement_block(statement)?);
    }
    out.push_str("}\n");
    Some(out)
}

fn statement_block(statement: &Value) -> Option<String> {
    let object = statement.as_object()?;
    let mut out = String::from("  statement {\n");
    let mut blocks = String::new();
    for (field, item) in object {
        match field.as_str() {
            "Sid" => out.push_str(&format!("    sid = {}\n", string(item.as_str()?))),
            "Effect" => out.push_str(&format!("    effect = {}\n", string(item.as_str()?))),
            "Action" | "NotAction" | "Resource" | "NotResource" => {
                let argument = match field.as_str() {
                    "Action" => "actions",
                    "NotAction" => "not_actions",
                    "Resource" => "resources",
                    _ => "not_resources",
                };
                out.push_str(&format!("    {argument} = {}\n", list(&strings(item)?)));
            }
            "Principal" | "NotPrincipal" => {
                let block = if field == "Principal" {
                    "principals"
                } else {
                    "not_principals"
                };
                match item {
                    // `type = "*"` with `identifiers = ["*"]` is the
                    // provider's spelling of `"Principal": "*"`.
                    Value::String(star) if star == "*" => blocks.push_str(&format!(
                        "\n    {block} {{\n      type = \"*\"\n      identifiers = [\"*\"]\n    }}\n"
                    )),
                    Value::Object(kinds) => {
                        for (kind, identifiers) in kinds {
                            blocks.push_str(&format!(
                                "\n    {block} {{\n      type = {}\n      identifiers = {}\n    }}\n",
                                string(kind),
                                list(&strings(identifiers)?)
                            ));
                        }
                    }
                    _ => return None,
                }
            }
            "Condition" => {
                for (operator, keys) in item.as_object()? {
                    for (variable, values) in keys.as_object()? {
                        blocks.push_str(&format!(
                            "\n    condition {{\n      test = {}\n      variable = {}\n      values = {}\n    }}\n",
                            string(operator),
                            string(variable),
                            list(&condition_values(values)?)
                        ));
                    }
                }
            }
            _ => return None,
        }
    }
    out.push_str(&blocks);
    out.push_str("  }\n");
    Some(out)
}

/// `module.m.data.aws_iam_policy_document.bucket["x"]` → `bucket`.
fn data_source_name(address: &str) -> Option<String> {
    let (_, rest) = address.rsplit_once("data.aws_iam_policy_document.")?;
    let name = rest.split('[').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests;
