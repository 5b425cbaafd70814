//! A policy document: the parsed model ([`Policy`], [`Statement`]) and its
//! canonical serialisation. Reading one (JSON, JSON-in-a-string,
//! URL-encoded JSON, validation with located errors) is in `parse`, the
//! evaluation of its statements for one request in `evaluate`, and why a
//! statement did or did not apply in `explain`: the model is what they
//! share, so its fields stay private to this module and its parts.

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use super::Effect;
use super::condition::Condition;
use super::principal::Principals;
use super::public::Publicness;
use super::variables::Template;
use super::wildcard::Glob;

/// The policy language version (IAM User Guide, "IAM JSON policy elements:
/// Version").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17`: `${...}` is literal text.
    V2008_10_17,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        }
    }
}

/// One parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Shared with every hit of the document.
    label: Arc<str>,
    /// None when the document has no `Version` (variables are then literal).
    version: Option<Version>,
    id: Option<String>,
    /// True when `Statement` was one object rather than an array.
    single_statement: bool,
    statements: Vec<Statement>,
    /// What is worked out from the statements once, on first use, and read
    /// on every request after: a parsed document never changes.
    derived: Derived,
}

/// See [`Policy::publicness`].
#[derive(Clone, Default)]
struct Derived {
    publicness: OnceLock<Publicness>,
}

impl std::fmt::Debug for Derived {
    // Whether it was worked out yet says nothing about the document.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

/// One statement of a policy.
#[derive(Debug, Clone)]
pub struct Statement {
    index: usize,
    /// JSON pointer (`/Statement/2`, or `/Statement` for a lone object).
    path: Box<str>,
    line: Option<usize>,
    /// Byte offset of the statement in the JSON text of the document it was
    /// read from; None when it was read from a JSON value.
    offset: Option<usize>,
    sid: Option<String>,
    effect: Effect,
    action: Actions,
    resource: Option<Resources>,
    principal: Option<PrincipalElement>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct Actions {
    negated: bool,
    /// Whether the element was one string (kept for serialisation).
    patterns: Vec<(String, Glob)>,
}

#[derive(Debug, Clone)]
struct Resources {
    negated: bool,
    patterns: Vec<ResourcePattern>,
}

#[derive(Debug, Clone)]
struct ResourcePattern {
    template: Template,
    /// Compiled at parse time when the pattern has no variable.
    glob: Option<Glob>,
}

#[derive(Debug, Clone)]
struct PrincipalElement {
    negated: bool,
    principals: Principals,
}

impl Statement {
    /// Index within the document's `Statement` list (0 for a lone object).
    pub fn index(&self) -> usize {
        self.index
    }

    /// JSON pointer of the statement (`/Statement/2`, or `/Statement`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// 1-based line of the statement's start in the document as `jq .`
    /// prints it (two-space indents): the same line whether the document
    /// was read as one URL-encoded line from IAM or typed by hand.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// Byte offset of the statement in the document's JSON text, when the
    /// document was read from text.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The statement's conditions, one per operator and key.
    pub(crate) fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The statement's `Principal` or `NotPrincipal` element: its name and
    /// its value as written.
    pub fn principal_element(&self) -> Option<(&'static str, Value)> {
        self.principal.as_ref().map(|element| {
            let name = if element.negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            (name, element.principals.raw())
        })
    }

    /// True when the statement has `Principal` or `NotPrincipal`.
    pub fn has_principal(&self) -> bool {
        self.principal.is_some()
    }

    /// The statement in canonical form: lists as arrays, elements in a fixed
    /// order.
    pub fn to_value(&self) -> Value {
        let mut out = Map::new();
        if let Some(sid) = &self.sid {
            out.insert("Sid".into(), Value::String(sid.clone()));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        out.insert("Effect".into(), Value::String(effect.into()));
        if let Some(principal) = &self.principal {
            let name = if principal.negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            out.insert(name.into(), principal.principals.raw());
        }
        let action_name = if self.action.negated {
            "NotAction"
        } else {
            "Action"
        };
        out.insert(
            action_name.into(),
            Value::Array(
                self.action
                    .patterns
                    .iter()
                    .map(|(raw, _)| Value::String(raw.clone()))
                    .collect(),
            ),
        );
        if let Some(resource) = &self.resource {
            let name = if resource.negated {
                "NotResource"
            } else {
                "Resource"
            };
            out.insert(
                name.into(),
                Value::Array(
                    resource
                        .patterns
                        .iter()
                        .map(|pattern| Value::String(pattern.template.raw().to_string()))
                        .collect(),
                ),
            );
        }
        if !self.conditions.is_empty() {
            let mut block = Map::new();
            for condition in &self.conditions {
                let entry = block
                    .entry(condition.operator_name().to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(keys) = entry {
                    keys.insert(
                        condition.key().to_string(),
                        Value::Array(condition.raw_values().to_vec()),
                    );
                }
            }
            out.insert("Condition".into(), Value::Object(block));
        }
        Value::Object(out)
    }
}

impl Policy {
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn set_label(&mut self, label: impl Into<String>) {
        self.label = Arc::from(label.into());
    }

    /// [`super::public::publicness`] of this document, worked out once: the
    /// Block Public Access link asks it of the same bucket policy for every
    /// action of every request.
    pub(crate) fn publicness(&self) -> &Publicness {
        self.derived
            .publicness
            .get_or_init(|| super::public::publicness(self))
    }

    /// The document's `Version`, None when it has none.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The document's `Id`.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// True when `Statement` was one object rather than an array.
    pub fn single_statement(&self) -> bool {
        self.single_statement
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The document as a JSON value in canonical form (lists as arrays,
    /// elements in a fixed order); parsing it gives an equivalent policy.
    pub fn to_value(&self) -> Value {
        let mut out = Map::new();
        if let Some(version) = self.version {
            out.insert("Version".into(), Value::String(version.as_str().into()));
        }
        if let Some(id) = &self.id {
            out.insert("Id".into(), Value::String(id.clone()));
        }
        let statements: Vec<Value> = self.statements.iter().map(Statement::to_value).collect();
        let statement = match (self.single_statement, statements.as_slice()) {
            (true, [only]) => only.clone(),
            _ => Value::Array(statements),
        };
        out.insert("Statement".into(), statement);
        Value::Object(out)
    }
}

mod evaluate;
mod explain;
mod parse;
mod stream;

pub use explain::{ConditionCheck, Mismatch};

#[cfg(test)]
mod tests;
