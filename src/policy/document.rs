//! A policy document: parsing (JSON, JSON-in-a-string, URL-encoded JSON),
//! validation with located errors, canonical serialisation, and evaluation
//! of its statements for one request.

use std::sync::Arc;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::policy::arn::ArnParts;
use crate::policy::positions::{JsonPositions, escape_pointer_segment, position_of_offset};

use super::condition::{Condition, ConditionError};
use super::logic::{and, not, or};
use super::principal::Principals;
use super::variables::{Resolution, Template};
use super::wildcard::{Glob, with_lowered};
use super::{
    AbsentVariable, Caller, Effect, PolicyError, PrincipalMatch, Request, StatementHit, Tri,
    VariableElement,
};

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

    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// True when the statement has `Principal` or `NotPrincipal`.
    pub fn has_principal(&self) -> bool {
        self.principal.is_some()
    }

    /// How this statement's `Principal` names `caller`, whatever its action,
    /// resource and conditions: the chain uses it to point at a statement
    /// that names the caller but not the action it needs. `None` for
    /// `NotPrincipal`, no `Principal`, or a principal that is not the caller.
    pub fn names_principal(&self, caller: &Caller) -> Option<PrincipalMatch> {
        let element = self.principal.as_ref().filter(|element| !element.negated)?;
        match element.principals.matches(caller) {
            (Tri::Yes, kind, _) => kind,
            _ => None,
        }
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

    /// Whether the statement applies to the request: `None` when it does
    /// not. A statement kept from applying only by policy variables with no
    /// value is returned with [`Tri::No`] and those variables, so that the
    /// report can say why it did not apply.
    /// `action` is the request's action in ASCII lower case.
    fn evaluate(
        &self,
        label: &Arc<str>,
        position: usize,
        request: &Request<'_>,
        action: &[u8],
    ) -> Option<StatementHit> {
        // Cheapest first; a `No` anywhere settles it, unless a variable with
        // no value caused it: then the other elements are still judged, to
        // tell "does not apply because of the variable" from "does not
        // apply anyway".
        let action = self.match_action(action);
        if action == Tri::No {
            return None;
        }
        let mut unknown: Vec<String> = Vec::new();
        // With whether each kept the statement from applying (a positive
        // element it spoiled) or made a negated element hold.
        let mut absent: Vec<(AbsentVariable, bool)> = Vec::new();
        let mut spoiled = false;
        let mut missing = Vec::new();
        let resource = self.match_resource(request, &mut unknown, &mut missing);
        if resource == Tri::No {
            if missing.is_empty() {
                return None;
            }
            spoiled = true;
        }
        let element = match &self.resource {
            Some(resources) if resources.negated => VariableElement::NotResource,
            _ => VariableElement::Resource,
        };
        note_absent(&mut absent, &mut missing, &element, resource == Tri::No);
        let (principal, principal_match) = self.match_principal(request, &mut unknown);
        if principal == Tri::No {
            return None;
        }
        let mut applies = and(and(action, resource), principal);
        for condition in &self.conditions {
            let mut keys = Vec::new();
            let result = condition.evaluate(request.context, &mut keys, &mut missing);
            if result == Tri::No {
                if missing.is_empty() {
                    return None;
                }
                spoiled = true;
            }
            if !missing.is_empty() {
                let element = VariableElement::Condition {
                    operator: condition.operator_name().to_string(),
                    key: condition.key().to_string(),
                };
                note_absent(&mut absent, &mut missing, &element, result == Tri::No);
            }
            if result == Tri::Unknown {
                unknown.append(&mut keys);
            }
            applies = and(applies, result);
        }
        if applies != Tri::Unknown {
            unknown.clear();
        } else {
            let mut seen = std::collections::HashSet::new();
            unknown.retain(|key| seen.insert(key.to_ascii_lowercase()));
        }
        // A statement that does not apply owes it to the variables that
        // spoiled its elements, not to those that made another hold.
        let absent = absent
            .into_iter()
            .filter(|(_, spoils)| *spoils || !spoiled)
            .map(|(variable, _)| variable)
            .collect();
        Some(StatementHit {
            label: Arc::clone(label),
            document: position,
            statement: self.index,
            sid: self.sid.clone(),
            effect: self.effect,
            applies,
            principal_match,
            unknown_keys: unknown,
            absent_variables: absent,
            line: self.line,
        })
    }

    /// `action` is in ASCII lower case, as action patterns keep theirs.
    fn match_action(&self, action: &[u8]) -> Tri {
        let any = self
            .action
            .patterns
            .iter()
            .any(|(_, glob)| glob.is_match_lowered(action));
        if any != self.action.negated {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    /// Variables with no value are pushed to `missing` when they decided
    /// the result: a pattern holding one matches no resource ("Policy
    /// variables with no value"), so it can only spoil a `Resource` or leave
    /// a `NotResource` excluding nothing.
    fn match_resource(
        &self,
        request: &Request<'_>,
        unknown: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) -> Tri {
        // Trust policies have no `Resource`: the role they are attached to.
        let Some(resources) = &self.resource else {
            return Tri::Yes;
        };
        let mut result = Tri::No;
        let mut nulls = Vec::new();
        for pattern in &resources.patterns {
            let matched = match &pattern.glob {
                Some(glob) => {
                    if glob.is_match(request.resource) {
                        Tri::Yes
                    } else {
                        Tri::No
                    }
                }
                // Resolving variables allocates; most patterns are ruled out
                // by their literal start first.
                None if !request
                    .resource
                    .starts_with(pattern.template.literal_prefix()) =>
                {
                    Tri::No
                }
                None => match pattern.template.resolve_tokens(request.context) {
                    Resolution::Value(tokens) => {
                        if Glob::resource(tokens).is_match(request.resource) {
                            Tri::Yes
                        } else {
                            Tri::No
                        }
                    }
                    Resolution::Unknown(key) => {
                        unknown.push(key);
                        Tri::Unknown
                    }
                    Resolution::Missing(key) => {
                        nulls.push(key);
                        Tri::No
                    }
                },
            };
            result = or(result, matched);
            if result == Tri::Yes {
                break;
            }
        }
        if result == Tri::No {
            missing.append(&mut nulls);
        }
        if resources.negated {
            not(result)
        } else {
            result
        }
    }

    fn match_principal(
        &self,
        request: &Request<'_>,
        unknown: &mut Vec<String>,
    ) -> (Tri, Option<PrincipalMatch>) {
        let Some(element) = &self.principal else {
            // Identity policies have no principal: they apply to their owner.
            return (Tri::Yes, None);
        };
        if element.negated {
            // IAM User Guide ("NotPrincipal"): a Deny with
            // NotPrincipal always applies to a principal with a permissions
            // boundary, whatever the list says.
            if self.effect == Effect::Deny && request.caller.has_permissions_boundary {
                return (Tri::Yes, Some(PrincipalMatch::NotPrincipal));
            }
            let (applies, session) = element.principals.not_principal_applies(request.caller);
            if let Some(session) = session {
                unknown.push(session);
            }
            let kind = (applies != Tri::No).then_some(PrincipalMatch::NotPrincipal);
            return (applies, kind);
        }
        let (matched, kind, session) = element.principals.matches(request.caller);
        if let Some(session) = session {
            unknown.push(session);
        }
        (matched, kind)
    }
}

/// Moves the variables with no value of one element into `absent`, once each.
fn note_absent(
    absent: &mut Vec<(AbsentVariable, bool)>,
    missing: &mut Vec<String>,
    element: &VariableElement,
    spoils: bool,
) {
    for key in missing.drain(..) {
        let seen = absent.iter().any(|(variable, _)| {
            &variable.element == element && variable.key.eq_ignore_ascii_case(&key)
        });
        if !seen {
            let element = element.clone();
            absent.push((AbsentVariable { element, key }, spoils));
        }
    }
}

/// Builds [`PolicyError`]s located in the document's text. The position
/// index is built only when an error is reported: a valid document never
/// pays for it (a 100,000-statement snapshot would hold millions of entries).
struct Locator<'a> {
    label: &'a str,
    source: Source<'a>,
}

/// The text errors are located in.
enum Source<'a> {
    /// The document's own text.
    Text(&'a str),
    /// A document given as a JSON value: its pretty-printed form.
    Pretty(&'a Value),
}

impl Locator<'_> {
    fn error(&self, path: &str, message: impl Into<String>) -> PolicyError {
        let position = match &self.source {
            Source::Text(text) => JsonPositions::new(text).and_then(|index| index.locate(path)),
            Source::Pretty(value) => serde_json::to_string_pretty(value)
                .ok()
                .and_then(|text| JsonPositions::new(&text))
                .and_then(|index| index.locate(path)),
        };
        PolicyError {
            document: self.label.to_string(),
            path: path.to_string(),
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
            message: message.into(),
        }
    }
}

/// How many lines `value` takes when pretty-printed with two-space indents,
/// as `jq .` and serde_json print it: the line of any statement follows
/// without printing the document (strings never hold a raw newline).
fn pretty_lines(value: &Value) -> usize {
    match value {
        Value::Array(items) if !items.is_empty() => {
            2 + items.iter().map(pretty_lines).sum::<usize>()
        }
        Value::Object(map) if !map.is_empty() => 2 + map.values().map(pretty_lines).sum::<usize>(),
        _ => 1,
    }
}

/// How deep a document may wrap itself in JSON strings.
const MAX_WRAPPING: usize = 3;

impl Policy {
    /// Parses policy text: JSON, a JSON string holding JSON, or URL-encoded
    /// JSON (IAM's form, recognised by a leading `%`).
    pub fn parse_text(label: &str, text: &str) -> Result<Self, PolicyError> {
        Self::parse_text_at(label, text, 0)
    }

    fn parse_text_at(label: &str, text: &str, depth: usize) -> Result<Self, PolicyError> {
        let plain_error = |message: String| PolicyError {
            document: label.to_string(),
            path: String::new(),
            line: None,
            column: None,
            message,
        };
        if depth > MAX_WRAPPING {
            return Err(plain_error(
                "the document is wrapped in too many JSON strings".into(),
            ));
        }
        let trimmed = text.trim();
        if trimmed.starts_with('%') {
            let decoded = percent_decode_str(trimmed).decode_utf8().map_err(|_| {
                plain_error("the URL-encoded document does not decode to UTF-8".into())
            })?;
            return Self::parse_text_at(label, &decoded, depth + 1);
        }
        // Syntax and duplicate keys are checked over the whole text first,
        // without a tree, so that their positions are exact.
        crate::policy::strict_json::check(text)
            .map_err(|error| syntax_error(label, text, &error))?;
        Self::parse_json_at(label, text, depth)
    }

    /// Parses a document given as JSON text already known to be valid JSON
    /// with unique keys: an object, or a string holding the document's text.
    /// Statements are read one at a time, never as one tree.
    pub fn parse_json(label: &str, text: &str) -> Result<Self, PolicyError> {
        Self::parse_json_at(label, text, 0)
    }

    fn parse_json_at(label: &str, text: &str, depth: usize) -> Result<Self, PolicyError> {
        let locator = Locator {
            label,
            source: Source::Text(text),
        };
        // JSON whitespace only: the text is valid JSON.
        if text.trim_start().starts_with('{') {
            return Self::build_from_text(&locator, text);
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::String(inner)) => Self::parse_text_at(label, &inner, depth + 1),
            Ok(other) => Err(PolicyError {
                document: label.to_string(),
                path: String::new(),
                line: None,
                column: None,
                message: format!(
                    "a policy document is a JSON object, not {}",
                    kind_of(&other)
                ),
            }),
            Err(error) => Err(syntax_error(label, text, &error)),
        }
    }

    /// Parses a document given as a JSON value: an object, or a string
    /// holding the text ([`Policy::parse_text`]). Positions of an object's
    /// errors refer to its pretty-printed form.
    pub fn parse_value(label: &str, value: &Value) -> Result<Self, PolicyError> {
        match value {
            Value::String(text) => Self::parse_text(label, text),
            Value::Object(_) => {
                let locator = Locator {
                    label,
                    source: Source::Pretty(value),
                };
                Self::build(&locator, value, None)
            }
            other => Err(PolicyError {
                document: label.to_string(),
                path: String::new(),
                line: None,
                column: None,
                message: format!("a policy document is a JSON object, not {}", kind_of(other)),
            }),
        }
    }

    /// [`Policy::parse_value`] for an object made from `base` by adding,
    /// extending or removing statements: statement `i` of `value` for which
    /// `kept[i]` names a statement of `base` is that statement's JSON
    /// unchanged, so it is taken from `base` rather than parsed again. The
    /// result is the one `parse_value` gives.
    pub(crate) fn parse_value_keeping(
        label: &str,
        value: &Value,
        base: &Policy,
        kept: &[Option<usize>],
    ) -> Result<Self, PolicyError> {
        let locator = Locator {
            label,
            source: Source::Pretty(value),
        };
        Self::build(&locator, value, Some((base, kept)))
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn set_label(&mut self, label: impl Into<String>) {
        self.label = Arc::from(label.into());
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

    /// The statements that apply (or may apply) to `request`.
    pub fn evaluate(&self, request: &Request<'_>) -> Vec<StatementHit> {
        let mut hits = Vec::new();
        with_lowered(request.action, |action| {
            self.evaluate_into(request, action, 0, &mut hits)
        });
        hits
    }

    /// [`Policy::evaluate`] with the request's action already in ASCII lower
    /// case, adding the hits to `hits`: for a caller that evaluates several
    /// documents, this one at `position` among them.
    pub(crate) fn evaluate_into(
        &self,
        request: &Request<'_>,
        action: &[u8],
        position: usize,
        hits: &mut Vec<StatementHit>,
    ) {
        hits.extend(
            self.statements
                .iter()
                .filter_map(|statement| statement.evaluate(&self.label, position, request, action)),
        );
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

    fn build(
        locator: &Locator<'_>,
        value: &Value,
        reuse: Option<(&Policy, &[Option<usize>])>,
    ) -> Result<Self, PolicyError> {
        let Value::Object(document) = value else {
            return Err(locator.error("", "a policy document is a JSON object"));
        };
        let header = Header::read(
            locator,
            document
                .iter()
                .map(|(key, value)| (key.as_str(), (key != "Statement").then_some(value))),
        )?;
        let mut reader = StatementReader::new(locator, &header);
        // A statement is read the same way only under the same version
        // (variables or not).
        let reuse = reuse.filter(|(base, _)| base.version == header.version);
        let kept = |index: usize| {
            let (base, kept) = reuse?;
            base.statements.get((*kept.get(index)?)?)
        };
        match document.get("Statement") {
            Some(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    match kept(index) {
                        Some(statement) => reader.keep(index, statement, item),
                        None => reader.read(index, item)?,
                    }
                }
            }
            Some(other) => reader.read_single(other)?,
            None => return Err(locator.error("", "the document has no `Statement`")),
        }
        Ok(reader.finish(header))
    }

    /// [`Policy::build`] over the document's text: the same checks and the
    /// same result, with the statements read one at a time.
    fn build_from_text(locator: &Locator<'_>, text: &str) -> Result<Self, PolicyError> {
        let json_error = |error: serde_json::Error| syntax_error(locator.label, text, &error);
        let elements = stream::elements(text).map_err(json_error)?;
        let mut values = Vec::with_capacity(elements.len());
        for (key, raw) in &elements {
            values.push(if key == "Statement" {
                None
            } else {
                Some(serde_json::from_str::<Value>(raw.get()).map_err(json_error)?)
            });
        }
        let header = Header::read(
            locator,
            elements
                .iter()
                .zip(&values)
                .map(|((key, _), value)| (key.as_str(), value.as_ref())),
        )?;
        let mut reader = StatementReader::new(locator, &header);
        let statement = elements
            .iter()
            .find(|(key, _)| key == "Statement")
            .map(|(_, raw)| raw.get());
        match statement {
            Some(items) if items.starts_with('[') => {
                let items = stream::items(items).map_err(json_error)?;
                let variables = reader.variables;
                let parsed = stream::map_in_order(&items, |index, item_text| {
                    let path = item_path(index);
                    let item = stream::strict_value(item_text).map_err(|error| {
                        locator.error(&path, strip_position(&error.to_string()))
                    })?;
                    let mut statement = parse_statement(locator, index, path, &item, variables)?;
                    statement.offset = Some(stream::offset_in(text, item_text));
                    // How many lines it takes, until `adopt` makes it the
                    // line it starts on: one vector, not two, of a large
                    // document's statements.
                    statement.line = Some(pretty_lines(&item));
                    Ok(statement)
                })?;
                reader.adopt(parsed);
            }
            Some(single_text) => {
                let single = serde_json::from_str::<Value>(single_text).map_err(json_error)?;
                reader.read_single(&single)?;
                if let Some(statement) = reader.statements.last_mut() {
                    statement.offset = Some(stream::offset_in(text, single_text));
                }
            }
            None => return Err(locator.error("", "the document has no `Statement`")),
        }
        Ok(reader.finish(header))
    }
}

/// What a document says besides its statements, checked in the order AWS's
/// errors come: unknown elements, `Version`, `Id`.
struct Header {
    version: Option<Version>,
    id: Option<String>,
    /// Line of `Statement`'s value when the document is pretty-printed.
    statement_line: usize,
}

impl Header {
    /// `elements` are the document's elements in order; `Statement`'s value
    /// is not needed (None).
    fn read<'v>(
        locator: &Locator<'_>,
        elements: impl Iterator<Item = (&'v str, Option<&'v Value>)> + Clone,
    ) -> Result<Self, PolicyError> {
        for (key, _) in elements.clone() {
            if !matches!(key, "Version" | "Id" | "Statement") {
                return Err(locator.error(
                    &format!("/{}", escape_pointer_segment(key)),
                    format!(
                        "unknown policy element `{key}`: expected `Version`, `Id` or `Statement`"
                    ),
                ));
            }
        }
        let element = |name: &str| {
            elements
                .clone()
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value)
        };
        let version = match element("Version") {
            None => None,
            Some(Value::String(text)) if text == "2012-10-17" => Some(Version::V2012_10_17),
            Some(Value::String(text)) if text == "2008-10-17" => Some(Version::V2008_10_17),
            Some(other) => {
                return Err(locator.error(
                    "/Version",
                    format!(
                        "unknown `Version` {}: expected `2012-10-17` or `2008-10-17`",
                        shown(other)
                    ),
                ));
            }
        };
        let id = match element("Id") {
            None => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) => {
                return Err(
                    locator.error("/Id", format!("`Id` is a string, not {}", kind_of(other)))
                );
            }
        };
        let statement_line = 2 + elements
            .take_while(|(key, _)| *key != "Statement")
            .map(|(_, value)| value.map_or(1, pretty_lines))
            .sum::<usize>();
        Ok(Self {
            version,
            id,
            statement_line,
        })
    }
}

/// Parses statements in document order, keeping track of each one's line
/// in the pretty-printed document.
struct StatementReader<'l, 'a> {
    locator: &'l Locator<'a>,
    variables: bool,
    next_line: usize,
    single_statement: bool,
    statements: Vec<Statement>,
}

impl<'l, 'a> StatementReader<'l, 'a> {
    fn new(locator: &'l Locator<'a>, header: &Header) -> Self {
        Self {
            locator,
            variables: header.version == Some(Version::V2012_10_17),
            // The array's `[` is on the `Statement` line.
            next_line: header.statement_line + 1,
            single_statement: false,
            statements: Vec::new(),
        }
    }

    /// Item `index` of a `Statement` array.
    fn read(&mut self, index: usize, item: &Value) -> Result<(), PolicyError> {
        let path = item_path(index);
        let statement = parse_statement(self.locator, index, path, item, self.variables)?;
        self.push(statement, pretty_lines(item));
        Ok(())
    }

    /// Item `index` of a `Statement` array, the same JSON as `statement` of
    /// another document.
    fn keep(&mut self, index: usize, statement: &Statement, item: &Value) {
        let statement = Statement {
            index,
            path: item_path(index).into_boxed_str(),
            offset: None,
            ..statement.clone()
        };
        self.push(statement, pretty_lines(item));
    }

    /// The next statement of the array, parsed, and the lines it takes.
    fn push(&mut self, mut statement: Statement, lines: usize) {
        statement.line = Some(self.next_line);
        self.next_line += lines;
        self.statements.push(statement);
    }

    /// All the statements of the array, parsed, each with the number of
    /// lines it takes in `line`.
    fn adopt(&mut self, mut statements: Vec<Statement>) {
        for statement in &mut statements {
            let lines = statement.line.unwrap_or(1);
            statement.line = Some(self.next_line);
            self.next_line += lines;
        }
        self.statements = statements;
    }

    /// `Statement` given as one value rather than an array.
    fn read_single(&mut self, value: &Value) -> Result<(), PolicyError> {
        if !value.is_object() {
            return Err(self.locator.error(
                "/Statement",
                format!(
                    "`Statement` is an object or an array of objects, not {}",
                    kind_of(value)
                ),
            ));
        }
        let path = "/Statement".to_string();
        let mut statement = parse_statement(self.locator, 0, path, value, self.variables)?;
        statement.line = Some(self.next_line - 1);
        self.single_statement = true;
        self.statements.push(statement);
        Ok(())
    }

    fn finish(self, header: Header) -> Policy {
        Policy {
            label: Arc::from(self.locator.label),
            version: header.version,
            id: header.id,
            single_statement: self.single_statement,
            statements: self.statements,
        }
    }
}

/// A serde message without the " at line L column C" it ends with.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message.to_string(),
    }
}

fn parse_statement(
    locator: &Locator<'_>,
    index: usize,
    path: String,
    value: &Value,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else {
        return Err(locator.error(
            &path,
            format!("a statement is a JSON object, not {}", kind_of(value)),
        ));
    };
    let at = |element: &str| format!("{path}/{element}");
    // One pass over the keys rather than a hashed lookup per element name.
    let mut elements = Elements::default();
    for (key, value) in map {
        let slot = match key.as_str() {
            "Sid" => &mut elements.sid,
            "Effect" => &mut elements.effect,
            "Principal" => &mut elements.principal,
            "NotPrincipal" => &mut elements.not_principal,
            "Action" => &mut elements.action,
            "NotAction" => &mut elements.not_action,
            "Resource" => &mut elements.resource,
            "NotResource" => &mut elements.not_resource,
            "Condition" => &mut elements.condition,
            _ => {
                return Err(locator.error(
                    &at(&escape_pointer_segment(key)),
                    format!("unknown statement element `{key}`"),
                ));
            }
        };
        *slot = Some(value);
    }
    let exclusive = |a: (&str, Option<&Value>), b: (&str, Option<&Value>)| {
        if a.1.is_some() && b.1.is_some() {
            return Err(locator.error(
                &at(b.0),
                format!("a statement cannot have both `{}` and `{}`", a.0, b.0),
            ));
        }
        Ok(())
    };
    exclusive(
        ("Action", elements.action),
        ("NotAction", elements.not_action),
    )?;
    exclusive(
        ("Resource", elements.resource),
        ("NotResource", elements.not_resource),
    )?;
    exclusive(
        ("Principal", elements.principal),
        ("NotPrincipal", elements.not_principal),
    )?;

    let sid = match elements.sid {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(other) => {
            return Err(locator.error(
                &at("Sid"),
                format!("`Sid` is a string, not {}", kind_of(other)),
            ));
        }
    };
    let effect = match elements.effect {
        Some(Value::String(text)) if text == "Allow" => Effect::Allow,
        Some(Value::String(text)) if text == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(locator.error(
                &at("Effect"),
                format!(
                    "unknown `Effect` {}: expected `Allow` or `Deny`",
                    shown(other)
                ),
            ));
        }
        None => return Err(locator.error(&path, "the statement has no `Effect`")),
    };

    let (action_name, action_value) = match (elements.action, elements.not_action) {
        (Some(value), _) => ("Action", value),
        (None, Some(value)) => ("NotAction", value),
        (None, None) => {
            return Err(locator.error(&path, "the statement has no `Action` or `NotAction`"));
        }
    };
    let mut patterns = Vec::new();
    let action_path = at(action_name);
    for (item, text) in string_list(locator, &action_path, action_value)? {
        if text != "*" {
            match text.split_once(':') {
                Some((service, name)) if !service.is_empty() && !name.is_empty() => {}
                _ => {
                    return Err(locator.error(
                        &item_pointer(&action_path, item),
                        format!("action `{text}` has no service prefix: expected `service:Action` or `*`"),
                    ));
                }
            }
        }
        patterns.push((text.to_string(), Glob::new(text, true)));
    }
    // Exact sizes: a large document holds these for every statement, and a
    // growing vector keeps room for four.
    patterns.shrink_to_fit();
    let action = Actions {
        negated: action_name == "NotAction",
        patterns,
    };

    let resource_element = match (elements.resource, elements.not_resource) {
        (Some(value), _) => Some(("Resource", value)),
        (None, Some(value)) => Some(("NotResource", value)),
        (None, None) => None,
    };
    let resource = match resource_element {
        None => None,
        Some((name, value)) => {
            let mut patterns = Vec::new();
            let resource_path = at(name);
            for (item, text) in string_list(locator, &resource_path, value)? {
                if text != "*" {
                    ArnParts::parse(text).map_err(|error| {
                        locator.error(&item_pointer(&resource_path, item), error.to_string())
                    })?;
                }
                let template = Template::parse(text, variables);
                let glob = template.static_tokens().map(Glob::resource);
                patterns.push(ResourcePattern { template, glob });
            }
            patterns.shrink_to_fit();
            Some(Resources {
                negated: name == "NotResource",
                patterns,
            })
        }
    };

    let principal = match (elements.principal, elements.not_principal) {
        (Some(value), _) => Some(("Principal", value)),
        (None, Some(value)) => Some(("NotPrincipal", value)),
        (None, None) => None,
    }
    .map(|(name, value)| {
        Principals::parse(value)
            .map(|principals| PrincipalElement {
                negated: name == "NotPrincipal",
                principals,
            })
            .map_err(|(suffix, message)| locator.error(&format!("{}{suffix}", at(name)), message))
    })
    .transpose()?;

    let conditions = match elements.condition {
        None => Vec::new(),
        Some(value) => parse_conditions(locator, &at("Condition"), value, variables)?,
    };

    Ok(Statement {
        index,
        path: path.into_boxed_str(),
        line: None,
        offset: None,
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

/// The JSON pointer of item `index` of a `Statement` array.
fn item_path(index: usize) -> String {
    format!("/Statement/{index}")
}

/// The elements of a statement, as found in its object.
#[derive(Default)]
struct Elements<'v> {
    sid: Option<&'v Value>,
    effect: Option<&'v Value>,
    principal: Option<&'v Value>,
    not_principal: Option<&'v Value>,
    action: Option<&'v Value>,
    not_action: Option<&'v Value>,
    resource: Option<&'v Value>,
    not_resource: Option<&'v Value>,
    condition: Option<&'v Value>,
}

fn parse_conditions(
    locator: &Locator<'_>,
    path: &str,
    value: &Value,
    variables: bool,
) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = value else {
        return Err(locator.error(
            path,
            format!("`Condition` is an object, not {}", kind_of(value)),
        ));
    };
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        // Pointers are written only for an error.
        let operator_path = || format!("{path}/{}", escape_pointer_segment(operator));
        let Value::Object(keys) = keys else {
            return Err(locator.error(
                &operator_path(),
                format!(
                    "the keys of `{operator}` are an object such as {{\"aws:SourceIp\": ...}}, not {}",
                    kind_of(keys)
                ),
            ));
        };
        for (key, values) in keys {
            let key_path = || format!("{}/{}", operator_path(), escape_pointer_segment(key));
            if key.trim().is_empty() {
                return Err(locator.error(&key_path(), "a condition key is empty"));
            }
            let scalars: Vec<(String, Value)> = match values {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        scalar(item)
                            .map(|text| (text, item.clone()))
                            .ok_or_else(|| {
                                locator.error(
                                    &format!("{}/{index}", key_path()),
                                    format!(
                                        "a condition value is a string, number or boolean, not {}",
                                        kind_of(item)
                                    ),
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
                single => match scalar(single) {
                    Some(text) => vec![(text, single.clone())],
                    None => {
                        return Err(locator.error(
                            &key_path(),
                            format!(
                                "a condition value is a string, number, boolean or an array of them, not {}",
                                kind_of(single)
                            ),
                        ));
                    }
                },
            };
            let single = !values.is_array();
            let condition =
                Condition::new(operator, key, scalars, variables).map_err(|error| match error {
                    ConditionError::UnknownOperator => locator.error(
                        &operator_path(),
                        format!("unknown condition operator `{operator}`"),
                    ),
                    ConditionError::MalformedValue { index, expected } => {
                        let (value_path, value) = if single {
                            (key_path(), values)
                        } else {
                            (
                                format!("{}/{index}", key_path()),
                                values.get(index).unwrap_or(values),
                            )
                        };
                        locator.error(
                            &value_path,
                            format!(
                                "{} is not {expected}, as `{operator}` needs (AWS refuses such a policy as MalformedPolicy)",
                                shown(value)
                            ),
                        )
                    }
                })?;
            conditions.push(condition);
        }
    }
    conditions.shrink_to_fit();
    Ok(conditions)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// A string or an array of strings, each with its index in the array (None
/// for a lone string): its JSON pointer is written only for an error, as a
/// large document holds millions of these.
fn string_list<'v>(
    locator: &Locator<'_>,
    path: &str,
    value: &'v Value,
) -> Result<Vec<(Option<usize>, &'v str)>, PolicyError> {
    match value {
        Value::String(text) => Ok(vec![(None, text.as_str())]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok((Some(index), text.as_str())),
                other => Err(locator.error(
                    &item_pointer(path, Some(index)),
                    format!("expected a string, found {}", kind_of(other)),
                )),
            })
            .collect(),
        other => Err(locator.error(
            path,
            format!(
                "expected a string or an array of strings, found {}",
                kind_of(other)
            ),
        )),
    }
}

/// The JSON pointer of an item [`string_list`] gave.
fn item_pointer(path: &str, index: Option<usize>) -> String {
    match index {
        Some(index) => format!("{path}/{index}"),
        None => path.to_string(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value for a message: strings in backticks, other kinds by name.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => format!("`{text}`"),
        other => kind_of(other).to_string(),
    }
}

/// A JSON syntax error with the position of its cause. serde_json reports a
/// trailing comma at the bracket that follows it; the comma itself is where
/// the text goes wrong, so that is the position given.
fn syntax_error(label: &str, text: &str, error: &serde_json::Error) -> PolicyError {
    let (mut line, mut column) = (error.line(), error.column());
    // serde_json appends " at line L column C"; the position is kept apart.
    let message = strip_position(&error.to_string());
    if message.starts_with("trailing comma")
        && let Some(offset) = byte_offset(text, line, column)
    {
        let before = &text.as_bytes()[..offset.min(text.len())];
        if let Some(comma) = before.iter().rposition(|byte| *byte == b',') {
            let position = position_of_offset(text, comma);
            line = position.line;
            column = position.column;
        }
    }
    PolicyError {
        document: label.to_string(),
        path: String::new(),
        line: (line > 0).then_some(line),
        column: (line > 0).then_some(column.max(1)),
        message: format!("invalid JSON: {message}"),
    }
}

/// Byte offset of serde_json's 1-based line and (byte) column.
fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0usize;
    for _ in 1..line {
        start += text.get(start..)?.find('\n')? + 1;
    }
    Some(start + column.saturating_sub(1))
}

mod explain;
mod stream;

pub use explain::{ConditionCheck, Mismatch};

#[cfg(test)]
mod tests;
