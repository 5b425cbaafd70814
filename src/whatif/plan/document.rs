//! `data.aws_iam_policy_document` built from its `statement` blocks when
//! the plan leaves its `json` unknown (a statement names a resource being
//! created): the AWS provider's documented mapping of `sid`, `effect`,
//! `actions`, `not_actions`, `resources`, `not_resources`, `principals`,
//! `not_principals` and `condition` to IAM policy JSON. A document that
//! merges other documents (`source_policy_documents`,
//! `override_policy_documents`) or has any unknown part stays unknown.

use serde_json::{Map, Value, json};

use super::{Instance, Plan, Seg, Val, path};

/// The document's JSON text, or `None` when the plan does not know it.
pub(super) fn render(plan: &Plan, instance: &Instance) -> Option<String> {
    for merged in [
        "source_policy_documents",
        "override_policy_documents",
        "source_json",
        "override_json",
    ] {
        match plan.get(instance, &path(&[merged])) {
            Val::Absent => {}
            Val::Known(Value::Array(items)) if items.is_empty() => {}
            _ => return None,
        }
    }
    let statements = match plan.get(instance, &path(&["statement"])) {
        Val::Known(Value::Array(statements)) => statements,
        Val::Absent => Vec::new(),
        _ => return None,
    };
    let mut rendered = Vec::new();
    for (index, _) in statements.iter().enumerate() {
        rendered.push(statement(plan, instance, index)?);
    }
    let mut document = Map::new();
    let version = match plan.get(instance, &path(&["version"])) {
        Val::Known(Value::String(version)) => version,
        Val::Absent => "2012-10-17".to_string(),
        _ => return None,
    };
    document.insert("Version".into(), Value::String(version));
    match plan.get(instance, &path(&["policy_id"])) {
        Val::Known(Value::String(id)) => {
            document.insert("Id".into(), Value::String(id));
        }
        Val::Absent => {}
        _ => return None,
    }
    document.insert("Statement".into(), Value::Array(rendered));
    serde_json::to_string(&Value::Object(document)).ok()
}

fn statement(plan: &Plan, instance: &Instance, index: usize) -> Option<Value> {
    let at = |field: &str| -> Vec<Seg> {
        vec![
            Seg::Key("statement".into()),
            Seg::Index(index),
            Seg::Key(field.to_string()),
        ]
    };
    let known = |field: &str| -> Option<Option<Value>> {
        match plan.get(instance, &at(field)) {
            Val::Known(value) => Some(Some(value)),
            Val::Absent => Some(None),
            Val::Unknown(_) => None,
        }
    };
    let mut out = Map::new();
    if let Some(Value::String(sid)) = known("sid")?
        && !sid.is_empty()
    {
        out.insert("Sid".into(), Value::String(sid));
    }
    let effect = match known("effect")? {
        Some(Value::String(effect)) => effect,
        _ => "Allow".to_string(),
    };
    out.insert("Effect".into(), Value::String(effect));
    for (field, key) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        if let Some(Value::Array(items)) = known(field)?
            && !items.is_empty()
        {
            out.insert(key.into(), Value::Array(items));
        }
    }
    for (field, key) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        if let Some(Value::Array(blocks)) = known(field)?
            && !blocks.is_empty()
        {
            out.insert(key.into(), principals(&blocks)?);
        }
    }
    if let Some(Value::Array(blocks)) = known("condition")?
        && !blocks.is_empty()
    {
        let mut condition = Map::new();
        for block in &blocks {
            let test = block.get("test")?.as_str()?;
            let variable = block.get("variable")?.as_str()?;
            let values = block.get("values")?.as_array()?.clone();
            let operator = condition
                .entry(test.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            let operator = operator.as_object_mut()?;
            match operator.get_mut(variable) {
                Some(Value::Array(existing)) => existing.extend(values),
                _ => {
                    operator.insert(variable.to_string(), Value::Array(values));
                }
            }
        }
        out.insert("Condition".into(), Value::Object(condition));
    }
    Some(Value::Object(out))
}

/// `principals { type = "AWS" identifiers = [...] }` blocks as a
/// `Principal` element; `type = "*"` with `*` is the anonymous `"*"`.
fn principals(blocks: &[Value]) -> Option<Value> {
    let mut out = Map::new();
    for block in blocks {
        let kind = block.get("type")?.as_str()?;
        let identifiers = block.get("identifiers")?.as_array()?.clone();
        if kind == "*" {
            return Some(json!("*"));
        }
        match out.get_mut(kind) {
            Some(Value::Array(existing)) => existing.extend(identifiers),
            _ => {
                out.insert(kind.to_string(), Value::Array(identifiers));
            }
        }
    }
    Some(Value::Object(out))
}
