//! Reading a policy document: JSON, a JSON string holding JSON, or
//! URL-encoded JSON, validated element by element with errors located in
//! the document's text.

use std::sync::Arc;

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::policy::arn::ArnParts;
use crate::policy::condition::{Condition, ConditionError};
use crate::policy::positions::{JsonPositions, escape_pointer_segment, position_of_offset};
use crate::policy::principal::Principals;
use crate::policy::variables::Template;
use crate::policy::wildcard::Glob;
use crate::policy::{Effect, PolicyError};

use super::stream;
use super::{Actions, Policy, PrincipalElement, ResourcePattern, Resources, Statement, Version};

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
            derived: Default::default(),
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
