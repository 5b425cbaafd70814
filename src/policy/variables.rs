//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`,
//! the escapes `${*}`, `${?}`, `${$}`) in `Resource` and condition values,
//! resolved from the request context at evaluation time.
//!
//! IAM User Guide, "IAM policy elements: Variables and tags": variables exist
//! only with `"Version": "2012-10-17"`; with `2008-10-17` or no `Version` the
//! text `${aws:username}` is literal. A variable whose key is not in the
//! request and has no default has no value ("Policy variables with no
//! value"): it equals nothing and is like nothing, so the `Resource` entry or
//! condition value holding it matches no request value. What that does to
//! the statement (a negated operator then holds) is the caller's to decide.

use crate::policy::context::{ContextValue, RequestContext};

use super::wildcard::{Token, push_literal, tokenize};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text as written (its `*` and `?` are wildcards where the element
    /// supports them).
    Text(String),
    /// A character from an escape (`${*}` → `*`): always literal.
    Escaped(char),
    Var {
        /// The key as written.
        key: String,
        default: Option<String>,
    },
}

/// A string from the policy that may hold variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    raw: String,
    /// Empty when the string has no variable or escape: `raw` is all.
    pieces: Vec<Piece>,
    /// The literal text before the first wildcard or variable: a value that
    /// does not start with it cannot match, whatever the variables hold.
    literal_prefix: String,
}

/// The value of a template for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution<T> {
    Value(T),
    /// A variable's key is unknown to the tool (the key as written).
    Unknown(String),
    /// A variable's key is absent and has no default (the key as written):
    /// the value is "effectively null" and matches nothing.
    Missing(String),
}

impl Template {
    /// `variables`: whether the policy's `Version` supports variables.
    pub(crate) fn parse(raw: &str, variables: bool) -> Self {
        let pieces = if variables && raw.contains("${") {
            split(raw)
        } else {
            Vec::new()
        };
        let mut literal_prefix = String::new();
        for piece in &pieces {
            match piece {
                Piece::Text(text) => match text.find(['*', '?']) {
                    Some(cut) => {
                        literal_prefix.push_str(&text[..cut]);
                        break;
                    }
                    None => literal_prefix.push_str(text),
                },
                Piece::Escaped(ch) => literal_prefix.push(*ch),
                Piece::Var { .. } => break,
            }
        }
        Self {
            raw: raw.to_string(),
            pieces,
            literal_prefix,
        }
    }

    /// The literal text every match starts with (empty for a template
    /// without variables, whose compiled pattern is used instead).
    pub(crate) fn literal_prefix(&self) -> &str {
        &self.literal_prefix
    }

    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }

    /// True when the template needs the request to be resolved.
    pub(crate) fn is_dynamic(&self) -> bool {
        self.pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Var { .. }))
    }

    /// The text when nothing needs resolving (escapes applied).
    /// Borrowed when the text has no escape: conditions compare it for
    /// every request value.
    pub(crate) fn static_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        if self.is_dynamic() {
            return None;
        }
        if self.pieces.is_empty() {
            return Some(std::borrow::Cow::Borrowed(&self.raw));
        }
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Escaped(ch) => out.push(*ch),
                Piece::Var { .. } => return None,
            }
        }
        Some(std::borrow::Cow::Owned(out))
    }

    /// Wildcard tokens when nothing needs resolving.
    pub(crate) fn static_tokens(&self) -> Option<Vec<Token>> {
        match self.resolve_tokens(&RequestContext::new()) {
            Resolution::Value(tokens) if !self.is_dynamic() => Some(tokens),
            _ => None,
        }
    }

    /// The text with every variable replaced.
    pub(crate) fn resolve_text(&self, context: &RequestContext) -> Resolution<String> {
        if self.pieces.is_empty() {
            return Resolution::Value(self.raw.clone());
        }
        let mut out = String::with_capacity(self.raw.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Escaped(ch) => out.push(*ch),
                Piece::Var { key, default } => match lookup(context, key, default) {
                    Resolution::Value(value) => out.push_str(value),
                    Resolution::Unknown(key) => return Resolution::Unknown(key),
                    Resolution::Missing(key) => return Resolution::Missing(key),
                },
            }
        }
        Resolution::Value(out)
    }

    /// Wildcard tokens with every variable replaced by literal text (a `*` in
    /// a substituted value is not a wildcard).
    pub(crate) fn resolve_tokens(&self, context: &RequestContext) -> Resolution<Vec<Token>> {
        let mut tokens = Vec::new();
        if self.pieces.is_empty() {
            tokenize(&self.raw, &mut tokens);
            return Resolution::Value(tokens);
        }
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => tokenize(text, &mut tokens),
                Piece::Escaped(ch) => push_literal(&mut tokens, ch.encode_utf8(&mut [0; 4])),
                Piece::Var { key, default } => match lookup(context, key, default) {
                    Resolution::Value(value) => push_literal(&mut tokens, value),
                    Resolution::Unknown(key) => return Resolution::Unknown(key),
                    Resolution::Missing(key) => return Resolution::Missing(key),
                },
            }
        }
        Resolution::Value(tokens)
    }
}

fn lookup<'c>(
    context: &'c RequestContext,
    key: &str,
    default: &'c Option<String>,
) -> Resolution<&'c str> {
    match context.get(key) {
        // A multi-valued key used as a variable: its first value.
        ContextValue::Present(values) if !values.is_empty() => Resolution::Value(&values[0]),
        ContextValue::Unknown => Resolution::Unknown(key.to_string()),
        ContextValue::Present(_) | ContextValue::Absent => match default {
            Some(value) => Resolution::Value(value),
            None => Resolution::Missing(key.to_string()),
        },
    }
}

/// Splits text into literal runs, escapes and variables. A `${` without a
/// closing `}` is literal text.
fn split(raw: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        text.push_str(&rest[..start]);
        let inner = &after[..end];
        let piece = match inner {
            "*" => Piece::Escaped('*'),
            "?" => Piece::Escaped('?'),
            "$" => Piece::Escaped('$'),
            _ => parse_variable(inner),
        };
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(piece);
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// `key` or `key, 'default'` (IAM User Guide, "Specifying default values").
fn parse_variable(inner: &str) -> Piece {
    if let Some((key, default)) = inner.split_once(',') {
        let default = default.trim();
        if default.len() >= 2 && default.starts_with('\'') && default.ends_with('\'') {
            return Piece::Var {
                key: key.trim().to_string(),
                default: Some(default[1..default.len() - 1].to_string()),
            };
        }
    }
    Piece::Var {
        key: inner.trim().to_string(),
        default: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RequestContext {
        let mut context = RequestContext::new();
        context.set("aws:username", "ann");
        context.set("aws:PrincipalTag/team", "data");
        context.set_unknown("aws:SourceIp");
        context
    }

    #[test]
    fn variables_resolve_from_the_context() {
        let context = context();
        let cases: [(&str, Resolution<String>); 9] = [
            (
                "home/${aws:username}/",
                Resolution::Value("home/ann/".into()),
            ),
            ("${AWS:UserName}", Resolution::Value("ann".into())),
            (
                "${aws:PrincipalTag/team}-x",
                Resolution::Value("data-x".into()),
            ),
            (
                "${aws:userid, 'anonymous'}",
                Resolution::Value("anonymous".into()),
            ),
            (
                "${aws:username, 'anonymous'}",
                Resolution::Value("ann".into()),
            ),
            ("${aws:userid}", Resolution::Missing("aws:userid".into())),
            (
                "${aws:SourceIp}",
                Resolution::Unknown("aws:SourceIp".into()),
            ),
            ("a${*}b${?}c${$}", Resolution::Value("a*b?c$".into())),
            ("${unclosed", Resolution::Value("${unclosed".into())),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                Template::parse(raw, true).resolve_text(&context),
                expected,
                "{raw}"
            );
        }
    }

    #[test]
    fn variables_are_literal_without_the_2012_version() {
        // IAM User Guide, "IAM policy elements: Variables and tags": without
        // Version 2012-10-17 variables are treated as literal strings.
        let template = Template::parse("home/${aws:username}", false);
        assert!(!template.is_dynamic());
        assert_eq!(
            template.resolve_text(&context()),
            Resolution::Value("home/${aws:username}".into())
        );
    }

    #[test]
    fn literal_prefixes_stop_at_wildcards_and_variables() {
        let cases = [
            ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/"),
            ("arn:aws:s3:::b/*/${aws:username}", "arn:aws:s3:::b/"),
            ("a${*}b${aws:username}", "a*b"),
            ("${aws:username}", ""),
        ];
        for (raw, prefix) in cases {
            assert_eq!(Template::parse(raw, true).literal_prefix(), prefix, "{raw}");
        }
    }

    #[test]
    fn escaped_wildcards_stay_literal_in_tokens() {
        let template = Template::parse("a${*}*", true);
        assert_eq!(
            template.static_tokens(),
            Some(vec![Token::Lit("a*".into()), Token::Star { colons: true }])
        );
    }
}
