//! Line and column of JSON values, keyed by JSON pointer: serde_json keeps no
//! spans, so errors and evidence about a value are placed by parsing the text
//! a second time with `jsonc-parser` (comments and trailing commas refused).

use std::collections::HashMap;

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Start positions of every value of one JSON text.
#[derive(Debug, Clone, Default)]
pub struct JsonPositions {
    /// JSON pointer (unescaped segments joined with `/`, escaped as RFC 6901)
    /// to the value's start position.
    starts: HashMap<String, Position>,
}

impl JsonPositions {
    /// None when the text is not valid JSON (or nests deeper than
    /// [`MAX_DEPTH`] levels, which serde_json refuses anyway).
    pub fn new(text: &str) -> Option<Self> {
        if nesting_depth(text) > MAX_DEPTH {
            // The parser recurses per level: refuse before the stack does.
            return None;
        }
        let strict = ParseOptions {
            allow_comments: false,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
        };
        let parsed = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict).ok()?;
        let root = parsed.value?;
        let lines = LineIndex::new(text);
        let mut starts = HashMap::new();
        let mut pointer = String::new();
        walk(&root, &mut pointer, &lines, &mut starts);
        Some(Self { starts })
    }

    /// Start position of the value at a JSON pointer (`""` = root,
    /// `/Statement/2/Action/0`); pointer escapes `~0` and `~1` are honoured.
    pub fn locate(&self, pointer: &str) -> Option<Position> {
        self.starts.get(pointer).copied()
    }
}

/// Deepest nesting indexed; serde_json's own limit is 128.
pub const MAX_DEPTH: usize = 512;

/// The deepest nesting of arrays and objects, ignoring brackets in strings.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Escapes one pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape_pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn walk(
    value: &Value<'_>,
    pointer: &mut String,
    lines: &LineIndex<'_>,
    starts: &mut HashMap<String, Position>,
) {
    // Duplicate keys: the last one wins, as in serde_json, so later values
    // overwrite earlier ones.
    starts.insert(pointer.clone(), lines.position(value.start()));
    let base = pointer.len();
    match value {
        Value::Object(object) => {
            for property in &object.properties {
                let name = match &property.name {
                    ObjectPropName::String(lit) => lit.value.as_ref(),
                    ObjectPropName::Word(lit) => lit.value,
                };
                pointer.push('/');
                pointer.push_str(&escape_pointer_segment(name));
                walk(&property.value, pointer, lines, starts);
                pointer.truncate(base);
            }
        }
        Value::Array(array) => {
            for (index, element) in array.elements.iter().enumerate() {
                pointer.push('/');
                pointer.push_str(&index.to_string());
                walk(element, pointer, lines, starts);
                pointer.truncate(base);
            }
        }
        _ => {}
    }
}

/// Byte offset to line/column.
struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// Whether each line is ASCII: its columns are then byte offsets, which
    /// keeps one-line documents from costing a scan per value.
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(offset, _)| offset + 1),
        );
        let ascii = line_starts
            .iter()
            .enumerate()
            .map(|(line, start)| {
                let end = line_starts.get(line + 1).copied().unwrap_or(text.len());
                text.as_bytes()
                    .get(*start..end)
                    .is_some_and(<[u8]>::is_ascii)
            })
            .collect();
        Self {
            text,
            line_starts,
            ascii,
        }
    }

    fn position(&self, offset: usize) -> Position {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let column = if self.ascii.get(line).copied().unwrap_or(false) {
            offset.saturating_sub(start)
        } else {
            self.text
                .get(start..offset)
                .map(|prefix| prefix.chars().count())
                .unwrap_or(0)
        };
        Position {
            line: line + 1,
            column: column + 1,
        }
    }
}

/// The byte offset where the value at `pointer` starts in `text` (valid
/// JSON), found by walking only along the pointer and skipping every other
/// value unparsed: no index is built, so locating the few statements a
/// report cites in a 40 MB snapshot costs a scan, not a copy of its tree.
pub fn locate_pointer(text: &str, pointer: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    if pointer.is_empty() {
        return Some(at);
    }
    for raw in pointer.strip_prefix('/')?.split('/') {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match bytes.get(at)? {
            b'{' => {
                at = skip_whitespace(bytes, at + 1);
                loop {
                    if *bytes.get(at)? != b'"' {
                        return None;
                    }
                    let end = skip_string(bytes, at)?;
                    let key: String = serde_json::from_str(text.get(at..end)?).ok()?;
                    at = skip_whitespace(bytes, end);
                    if *bytes.get(at)? != b':' {
                        return None;
                    }
                    at = skip_whitespace(bytes, at + 1);
                    if key == segment {
                        break;
                    }
                    at = skip_whitespace(bytes, skip_value(bytes, at)?);
                    match bytes.get(at)? {
                        b',' => at = skip_whitespace(bytes, at + 1),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let index: usize = segment.parse().ok()?;
                at = skip_whitespace(bytes, at + 1);
                for _ in 0..index {
                    at = skip_whitespace(bytes, skip_value(bytes, at)?);
                    match bytes.get(at)? {
                        b',' => at = skip_whitespace(bytes, at + 1),
                        _ => return None,
                    }
                }
                if *bytes.get(at)? == b']' {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(at)
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The offset just past the string starting at `at` (its opening quote).
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    let mut index = at + 1;
    loop {
        match bytes.get(index)? {
            b'\\' => index += 2,
            b'"' => return Some(index + 1),
            _ => index += 1,
        }
    }
}

/// The offset just past the value starting at `at`.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut index = at;
            loop {
                match bytes.get(index)? {
                    b'"' => {
                        index = skip_string(bytes, index)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(index + 1);
                        }
                    }
                    _ => {}
                }
                index += 1;
            }
        }
        _ => {
            let mut index = at;
            while bytes
                .get(index)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                index += 1;
            }
            Some(index)
        }
    }
}

/// The position of a byte offset, counted directly (for one position in a
/// large text, cheaper than a [`LineIndex`]).
pub fn position_at(text: &str, offset: usize) -> Position {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let column = text
        .get(start..offset)
        .map_or(0, |prefix| prefix.chars().count())
        + 1;
    Position { line, column }
}

/// The position of a byte offset in `text` (used for errors found by other
/// parsers, which report offsets).
pub(crate) fn position_of_offset(text: &str, offset: usize) -> Position {
    LineIndex::new(text).position(offset)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const TEXT: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Action\": [\"s3:GetObject\", \"s3:PutObject\"]},\n    {\"a/b\": 1, \"c~d\": true}\n  ]\n}";

    #[test]
    fn locates_values_by_pointer() {
        let positions = JsonPositions::new(TEXT).unwrap();
        let cases = [
            ("", 1, 1),
            ("/Version", 2, 14),
            ("/Statement", 3, 16),
            ("/Statement/0", 4, 5),
            ("/Statement/0/Action", 4, 16),
            ("/Statement/0/Action/1", 4, 33),
            ("/Statement/1/a~1b", 5, 13),
            ("/Statement/1/c~0d", 5, 23),
        ];
        for (pointer, line, column) in cases {
            assert_eq!(
                positions.locate(pointer),
                Some(Position { line, column }),
                "{pointer}"
            );
        }
        assert_eq!(positions.locate("/Nope"), None);
        assert_eq!(positions.locate("/Statement/2"), None);
    }

    #[test]
    fn pointers_are_located_without_an_index() {
        let index = JsonPositions::new(TEXT).unwrap();
        for pointer in [
            "",
            "/Version",
            "/Statement",
            "/Statement/0",
            "/Statement/0/Action",
            "/Statement/0/Action/1",
            "/Statement/1/a~1b",
            "/Statement/1/c~0d",
        ] {
            let offset = locate_pointer(TEXT, pointer).unwrap();
            assert_eq!(
                Some(position_at(TEXT, offset)),
                index.locate(pointer),
                "{pointer}"
            );
        }
        for missing in ["/Nope", "/Statement/2", "/Version/0", "Statement"] {
            assert_eq!(locate_pointer(TEXT, missing), None, "{missing}");
        }
        let tricky = r#"{"a\"]}": ["x", {"}": 1}], "b": [true, null, -1.5e3, "\\"], "c": 2}"#;
        let index = JsonPositions::new(tricky).unwrap();
        for pointer in ["/b/3", "/c", "/a\"]}/1/}"] {
            let offset = locate_pointer(tricky, pointer).unwrap();
            assert_eq!(
                Some(position_at(tricky, offset)),
                index.locate(pointer),
                "{pointer}"
            );
        }
    }

    #[test]
    fn invalid_json_has_no_positions() {
        for text in [
            "{",
            "{\"a\": 1,}",
            "[1, 2,]",
            "// c\n{}",
            "{a: 1}",
            "",
            "{} {}",
        ] {
            assert!(JsonPositions::new(text).is_none(), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(JsonPositions::new(&deep).is_none());
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(JsonPositions::new(&fine).is_some());
        assert_eq!(nesting_depth(r#"{"a": "[[[[", "b": ["\"]"]}"#), 2);
    }

    #[test]
    fn columns_count_characters() {
        let positions = JsonPositions::new("{\"é\": \"ü\", \"x\": 1}").unwrap();
        assert_eq!(
            positions.locate("/x"),
            Some(Position {
                line: 1,
                column: 17
            })
        );
    }

    #[test]
    fn later_duplicate_keys_win() {
        let positions = JsonPositions::new("{\"a\": 1,\n \"a\": 2}").unwrap();
        assert_eq!(
            positions.locate("/a"),
            Some(Position { line: 2, column: 7 })
        );
    }
}
