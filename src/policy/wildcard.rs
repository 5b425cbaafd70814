//! Wildcard patterns (`*` any run of characters, `?` one character) compiled
//! once, with the ARN-aware flavour IAM uses for `Resource`.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Literal text (a `*` or `?` here is literal, as from `${*}`).
    Lit(String),
    /// `*`. `colons: false` means the star cannot run past a `:`: IAM's rule
    /// for a `*` that is not the last character of one of an ARN's first five
    /// segments (IAM User Guide, "IAM JSON policy elements: Resource").
    Star { colons: bool },
    /// `?`: exactly one character.
    One,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    kind: Kind,
    /// ASCII case-insensitive (actions). The pattern's literals are then
    /// kept in lower case, so that only the text is folded while matching.
    fold: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `*`.
    All,
    Exact(String),
    /// `literal*`.
    Prefix(String),
    /// Anything else; `restricted` when some star cannot cross a colon.
    General {
        tokens: Vec<Token>,
        restricted: bool,
    },
}

/// Splits pattern text into tokens: every `*` and `?` is a wildcard.
pub(crate) fn tokenize(text: &str, tokens: &mut Vec<Token>) {
    let mut rest = text;
    while let Some(at) = rest.find(['*', '?']) {
        push_literal(tokens, &rest[..at]);
        tokens.push(if rest.as_bytes()[at] == b'*' {
            Token::Star { colons: true }
        } else {
            Token::One
        });
        // Both wildcards are one byte: the rest starts on a character.
        rest = &rest[at + 1..];
    }
    push_literal(tokens, rest);
}

/// Appends literal text, merging it with a preceding literal.
pub(crate) fn push_literal(tokens: &mut Vec<Token>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Token::Lit(previous)) = tokens.last_mut() {
        previous.push_str(text);
    } else {
        tokens.push(Token::Lit(text.to_string()));
    }
}

impl Glob {
    /// A plain pattern: `*` runs across everything.
    pub(crate) fn new(pattern: &str, fold: bool) -> Self {
        let mut tokens = Vec::new();
        tokenize(pattern, &mut tokens);
        Self::from_tokens(tokens, fold)
    }

    /// A `Resource` pattern: a `*` in one of the first five ARN segments that
    /// is not that segment's last character stays within the segment; any
    /// other `*` may run across `:` and `/` (IAM User Guide, "IAM JSON policy
    /// elements: Resource": "If the * wildcard is the last character of a
    /// resource ARN segment, it can expand to match beyond the colon
    /// boundaries").
    pub(crate) fn resource(tokens: Vec<Token>) -> Self {
        let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
        let mut colons_seen = 0usize;
        for (index, token) in tokens.iter().enumerate() {
            match token {
                Token::Lit(text) => {
                    push_literal(&mut out, text);
                    colons_seen += text.matches(':').count();
                }
                Token::One => out.push(Token::One),
                Token::Star { .. } => {
                    let last_of_segment = match tokens.get(index + 1) {
                        None => true,
                        Some(Token::Lit(next)) => next.starts_with(':'),
                        Some(Token::Star { .. }) => true,
                        Some(Token::One) => false,
                    };
                    let colons = colons_seen >= 5 || last_of_segment;
                    out.push(Token::Star { colons });
                }
            }
        }
        Self::from_tokens(out, false)
    }

    /// Builds the matcher, merging runs of stars and picking a fast path.
    pub(crate) fn from_tokens(tokens: Vec<Token>, fold: bool) -> Self {
        let mut merged: Vec<Token> = Vec::with_capacity(tokens.len());
        for mut token in tokens {
            if let (Token::Lit(text), true) = (&mut token, fold) {
                text.make_ascii_lowercase();
            }
            match (merged.last_mut(), token) {
                (Some(Token::Star { colons: a }), Token::Star { colons: b }) => *a = *a || b,
                (Some(Token::Lit(previous)), Token::Lit(text)) => previous.push_str(&text),
                (_, Token::Lit(text)) if text.is_empty() => {}
                (_, token) => merged.push(token),
            }
        }
        let kind = match merged.as_slice() {
            [] => Kind::Exact(String::new()),
            [Token::Star { colons: true }] => Kind::All,
            [Token::Lit(text)] => Kind::Exact(text.clone()),
            [Token::Lit(text), Token::Star { colons: true }] => Kind::Prefix(text.clone()),
            _ => {
                let restricted = merged
                    .iter()
                    .any(|token| matches!(token, Token::Star { colons: false }));
                Kind::General {
                    tokens: merged,
                    restricted,
                }
            }
        };
        Self { kind, fold }
    }

    // Inlined: every statement's actions are matched against every action
    // judged, and most patterns are an exact name or a prefix.
    #[inline]
    pub(crate) fn is_match(&self, text: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Exact(literal) => eq(literal.as_bytes(), text.as_bytes(), self.fold),
            Kind::Prefix(literal) => {
                text.len() >= literal.len()
                    && eq(
                        literal.as_bytes(),
                        &text.as_bytes()[..literal.len()],
                        self.fold,
                    )
            }
            Kind::General { tokens, restricted } => {
                match_general(tokens, *restricted, text, self.fold)
            }
        }
    }

    /// [`Glob::is_match`] for a folding pattern and a text already in ASCII
    /// lower case: literals are then compared byte for byte.
    #[inline]
    pub(crate) fn is_match_lowered(&self, lowered: &[u8]) -> bool {
        debug_assert!(
            self.fold,
            "only a folding pattern's literals are lower case"
        );
        match &self.kind {
            Kind::All => true,
            Kind::Exact(literal) => literal.as_bytes() == lowered,
            Kind::Prefix(literal) => lowered.starts_with(literal.as_bytes()),
            // Lowering keeps UTF-8 valid, so this borrows; were it ever not,
            // the pattern is still matched rather than taken as a miss.
            Kind::General { tokens, restricted } => match_general(
                tokens,
                *restricted,
                &String::from_utf8_lossy(lowered),
                false,
            ),
        }
    }
}

/// Calls `with` on `text` in ASCII lower case, copied on the stack when it
/// is short (an action name), so that a policy's patterns can be matched
/// against it without folding every byte again for every pattern. Lowering
/// ASCII letters keeps UTF-8 valid.
pub(crate) fn with_lowered<R>(text: &str, with: impl FnOnce(&[u8]) -> R) -> R {
    let mut buffer = [0u8; 64];
    match buffer.get_mut(..text.len()) {
        Some(bytes) => {
            bytes.copy_from_slice(text.as_bytes());
            bytes.make_ascii_lowercase();
            with(bytes)
        }
        None => with(text.to_ascii_lowercase().as_bytes()),
    }
}

#[inline(never)]
fn match_general(tokens: &[Token], restricted: bool, text: &str, fold: bool) -> bool {
    if restricted {
        match_positions(tokens, text, fold)
    } else {
        match_backtracking(tokens, text, fold)
    }
}

/// `pattern` (lower case when folding) equals `text` of the same length.
#[inline]
fn eq(pattern: &[u8], text: &[u8], fold: bool) -> bool {
    if fold {
        pattern.len() == text.len()
            && pattern
                .iter()
                .zip(text)
                .all(|(pattern, text)| *pattern == text.to_ascii_lowercase())
    } else {
        pattern == text
    }
}

/// Width in bytes of the UTF-8 character starting with `lead`.
fn char_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn literal_at(literal: &[u8], text: &[u8], at: usize, fold: bool) -> bool {
    text.len() >= at + literal.len() && eq(literal, &text[at..at + literal.len()], fold)
}

/// The classic linear-ish glob walk: on a mismatch, let the last star eat
/// one more character. Correct when every star may match anything.
fn match_backtracking(tokens: &[Token], text: &str, fold: bool) -> bool {
    let bytes = text.as_bytes();
    let (mut token, mut at) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    loop {
        if let Some(current) = tokens.get(token) {
            let advanced = match current {
                Token::Star { .. } => {
                    resume = Some((token + 1, at));
                    token += 1;
                    continue;
                }
                Token::One => {
                    if at < bytes.len() {
                        at += char_width(bytes[at]);
                        true
                    } else {
                        false
                    }
                }
                Token::Lit(literal) => {
                    if literal_at(literal.as_bytes(), bytes, at, fold) {
                        at += literal.len();
                        true
                    } else {
                        false
                    }
                }
            };
            if advanced {
                token += 1;
                continue;
            }
        } else if at == bytes.len() {
            return true;
        }
        match resume {
            Some((after_star, start)) if start < bytes.len() => {
                let next = start + char_width(bytes[start]);
                resume = Some((after_star, next));
                token = after_star;
                at = next;
            }
            _ => return false,
        }
    }
}

/// Set-of-positions walk, for patterns whose stars differ (some cannot cross
/// a colon). O(tokens × length); such patterns are rare.
fn match_positions(tokens: &[Token], text: &str, fold: bool) -> bool {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut current = vec![false; n + 1];
    current[0] = true;
    let mut next = vec![false; n + 1];
    for token in tokens {
        next.iter_mut().for_each(|slot| *slot = false);
        match token {
            Token::Lit(literal) => {
                for at in 0..=n {
                    if current[at] && literal_at(literal.as_bytes(), bytes, at, fold) {
                        next[at + literal.len()] = true;
                    }
                }
            }
            Token::One => {
                for at in 0..n {
                    if current[at] {
                        let end = (at + char_width(bytes[at])).min(n);
                        next[end] = true;
                    }
                }
            }
            Token::Star { colons } => {
                let mut reach = false;
                for at in 0..=n {
                    if current[at] {
                        reach = true;
                    }
                    if reach && text.is_char_boundary(at) {
                        next[at] = true;
                    }
                    if !colons && at < n && bytes[at] == b':' {
                        reach = false;
                    }
                }
            }
        }
        std::mem::swap(&mut current, &mut next);
    }
    current[n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_patterns() {
        // (pattern, text, fold, expected)
        let cases = [
            ("*", "", false, true),
            ("*", "anything:at/all", false, true),
            ("s3:Get*", "s3:GetObject", false, true),
            ("s3:Get*", "s3:getobject", false, false),
            ("s3:Get*", "s3:getobject", true, true),
            ("s3:*Object", "s3:GetObject", false, true),
            ("s3:*Object", "s3:GetObjectAcl", false, false),
            ("s3:?etObject", "s3:GetObject", false, true),
            ("s3:?etObject", "s3:etObject", false, false),
            ("a*b*c", "abc", false, true),
            ("a*b*c", "axxbyyc", false, true),
            ("a*b*c", "axxbyy", false, false),
            ("a?c", "aéc", false, true),
            ("a??c", "aéc", false, false),
            ("", "", false, true),
            ("", "x", false, false),
            ("abc", "ABC", true, true),
            ("abc", "ab", false, false),
            ("*a", "bbba", false, true),
            ("*a*", "bbb", false, false),
            ("**", "x", false, true),
        ];
        for (pattern, text, fold, expected) in cases {
            assert_eq!(
                Glob::new(pattern, fold).is_match(text),
                expected,
                "{pattern} vs {text} (fold {fold})"
            );
        }
    }

    fn resource(pattern: &str) -> Glob {
        let mut tokens = Vec::new();
        tokenize(pattern, &mut tokens);
        Glob::resource(tokens)
    }

    #[test]
    fn resource_patterns_follow_the_segment_rule() {
        // IAM User Guide, "IAM JSON policy elements: Resource": wildcards work
        // within segments; a `*` that ends a segment may run past colons; in
        // the resource part (after the fifth colon) `*` also spans `/` and `:`.
        let cases = [
            ("*", "arn:aws:s3:::bucket/key", true),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", true),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false),
            ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-2/x", true),
            ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", false),
            (
                "arn:aws:kms:*:111122223333:key/*",
                "arn:aws:kms:eu-west-1:111122223333:key/1",
                true,
            ),
            (
                "arn:aws:kms:*:111122223333:key/*",
                "arn:aws:kms:eu-west-1:999999999999:key/1",
                false,
            ),
            (
                "arn:aws:kms:us-*-1:111122223333:key/k",
                "arn:aws:kms:us-east-1:111122223333:key/k",
                true,
            ),
            // a mid-segment star cannot swallow a colon
            (
                "arn:aws:kms:us-*-1:111122223333:key/k",
                "arn:aws:kms:us-x:y-1:111122223333:key/k",
                false,
            ),
            // a star ending a segment can
            ("arn:aws:iam::*:role/x", "arn:aws:iam::1:2:role/x", true),
            ("arn:aws:s3:::?ucket", "arn:aws:s3:::bucket", true),
            ("arn:aws:*", "arn:aws:s3:::bucket", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                resource(pattern).is_match(text),
                expected,
                "{pattern} vs {text}"
            );
        }
    }

    #[test]
    fn lowered_matching_agrees_with_folded_matching() {
        let long = format!("s3:{}Object", "Get".repeat(30));
        let patterns = [
            "*",
            "s3:GetObject",
            "S3:get*",
            "s3:*Object",
            "s3:G?t*",
            "kms:*",
            "s3:*Ö*",
        ];
        let actions = [
            "s3:GetObject",
            "S3:GETOBJECT",
            "s3:PutObject",
            "s3:GetÖbject",
            long.as_str(),
        ];
        for pattern in patterns {
            let glob = Glob::new(pattern, true);
            for action in actions {
                assert_eq!(
                    with_lowered(action, |lowered| glob.is_match_lowered(lowered)),
                    glob.is_match(action),
                    "{pattern} vs {action}"
                );
            }
        }
    }

    #[test]
    fn escaped_wildcards_are_literal() {
        let glob = Glob::from_tokens(
            vec![Token::Lit("a*".into()), Token::Star { colons: true }],
            false,
        );
        assert!(glob.is_match("a*bc"));
        assert!(!glob.is_match("abc"));
    }
}
