//! The values one unknown condition key can take, reduced to one
//! representative per class of values the conditions on it can tell apart:
//! the request without the key, and one value for each combination of
//! conditions it meets. Judging a request once per representative is then
//! the same as judging it for every value the key could have.
//!
//! Only what can be partitioned exactly is: a key AWS documents as
//! multivalued, a condition set operator, a policy variable in a value, an
//! ARN or binary operator, or operators of two families on one key (a
//! string test beside an address test) give no representatives, and the
//! key stays unknown. Rules from the IAM User Guide, "IAM JSON policy
//! elements: Condition operators" (string, numeric, date, Boolean and IP
//! address operators, `...IfExists`, `Null`) and "Single-valued vs.
//! multivalued context keys".

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use crate::policy::context::ContextValue;
use crate::policy::context_values::{KeyType, key_type};
use crate::policy::wildcard::Token;

use super::{Compare, Condition, Operand, Qualifier, is_multivalued_key, parse_date, parse_ip};

/// Above this many classes of text values the key is left unknown.
const MAX_TEXT_STATES: usize = 4096;

/// The classes of values `key` can take for `conditions` (those on other
/// keys are ignored), absent first; `None` when they cannot be enumerated
/// exactly or no condition tests the key.
pub(crate) fn representatives<'c>(
    key: &str,
    conditions: impl IntoIterator<Item = &'c Condition>,
) -> Option<Vec<ContextValue>> {
    // "Multivalued context keys require a condition set operator": a key
    // that can carry several values has worlds of every subset, which one
    // value per class does not cover.
    if is_multivalued_key(key) {
        return None;
    }
    let conditions: Vec<&Condition> = conditions
        .into_iter()
        .filter(|condition| condition.key.eq_ignore_ascii_case(key))
        .collect();
    if conditions.is_empty()
        || conditions
            .iter()
            .any(|condition| condition.operator.qualifier != Qualifier::None)
    {
        return None;
    }
    let kind = key_type(key);
    let values = match kind {
        // A key of a closed set of values: each value is its own class.
        KeyType::Bool => vec!["true".to_string(), "false".to_string()],
        KeyType::OneOf(values) => values.iter().map(|value| value.to_string()).collect(),
        _ => open_values(kind, &conditions)?,
    };
    let mut out = vec![ContextValue::Absent];
    let mut seen = HashSet::new();
    for value in values {
        if seen.insert(value.clone()) {
            out.push(ContextValue::Present(vec![value]));
        }
    }
    Some(out)
}

/// The kind of comparison a key is tested with (`Null` tests only presence
/// and goes with any of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Text,
    Number,
    Date,
    Ip,
}

fn open_values(kind: KeyType, conditions: &[&Condition]) -> Option<Vec<String>> {
    let mut family = None;
    for condition in conditions {
        let this = match condition.operator.compare {
            Compare::StringEquals
            | Compare::StringEqualsIgnoreCase
            | Compare::StringLike
            | Compare::Bool => Family::Text,
            Compare::Numeric(_) => Family::Number,
            Compare::Date(_) => Family::Date,
            Compare::Ip => Family::Ip,
            Compare::Null => continue,
            Compare::Arn | Compare::Binary => return None,
        };
        if family.is_some_and(|seen| seen != this) {
            return None;
        }
        family = Some(this);
    }
    // A key of type string can hold text that is not a number, date or
    // address: such a value meets no numeric, date or address condition.
    let not_parsed = || "x".to_string();
    let Some(family) = family else {
        // Only `Null`: present or not is all that matters.
        return Some(vec![match kind {
            KeyType::Ip => "0.0.0.0".to_string(),
            KeyType::Number => "0".to_string(),
            KeyType::Date => "1970-01-01T00:00:00Z".to_string(),
            _ => not_parsed(),
        }]);
    };
    let mut values = match (family, kind) {
        (Family::Text, KeyType::String | KeyType::Arn) => return text_values(conditions),
        (Family::Number, KeyType::Number | KeyType::String) => number_values(conditions)?,
        (Family::Date, KeyType::Date | KeyType::String) => date_values(conditions)?,
        (Family::Ip, KeyType::Ip | KeyType::String) => ip_values(conditions)?,
        _ => return None,
    };
    if kind == KeyType::String {
        values.push(not_parsed());
    }
    Some(values)
}

/// Each distinct constant, a number between each two neighbours, one below
/// the least and one above the greatest: numeric operators compare, so a
/// value's class is where it falls among the constants.
fn number_values(conditions: &[&Condition]) -> Option<Vec<String>> {
    let mut constants: Vec<f64> = operands(conditions)
        .filter_map(|operand| match operand {
            Operand::Number(Some(number)) => Some(*number),
            _ => None,
        })
        .collect();
    constants.sort_by(f64::total_cmp);
    constants.dedup();
    let (Some(&least), Some(&greatest)) = (constants.first(), constants.last()) else {
        return Some(vec!["0".to_string()]);
    };
    let mut numbers = vec![
        least - (least.abs() + 1.0),
        greatest + (greatest.abs() + 1.0),
    ];
    for pair in constants.windows(2) {
        let between = pair[0] / 2.0 + pair[1] / 2.0;
        if between > pair[0] && between < pair[1] {
            numbers.push(between);
        }
    }
    numbers.extend(constants.iter().copied());
    numbers
        .into_iter()
        .map(|number| {
            let text = number.to_string();
            // Written so that it reads back as the same number, or not at all.
            (number.is_finite() && super::parse_number(&text) == Some(number)).then_some(text)
        })
        .collect()
}

/// Each constant and the instants just before and after it: dates compare
/// in whole nanoseconds here, so these fall in every interval the constants
/// leave.
fn date_values(conditions: &[&Condition]) -> Option<Vec<String>> {
    let mut constants: Vec<i128> = operands(conditions)
        .filter_map(|operand| match operand {
            Operand::Date(Some(date)) => Some(*date),
            _ => None,
        })
        .collect();
    constants.sort_unstable();
    constants.dedup();
    if constants.is_empty() {
        return Some(vec!["1970-01-01T00:00:00Z".to_string()]);
    }
    let mut instants: Vec<i128> = constants
        .iter()
        .flat_map(|&date| [date - 1, date, date + 1])
        .collect();
    instants.sort_unstable();
    instants.dedup();
    instants.into_iter().map(format_date).collect()
}

fn format_date(nanos: i128) -> Option<String> {
    let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let fraction = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
    let date = chrono::DateTime::from_timestamp(seconds, fraction)?;
    let text = date.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string();
    (parse_date(&text) == Some(nanos)).then_some(text)
}

/// The lowest address of each family and every address where a tested
/// block starts or ends: blocks are intervals of the address space, so
/// membership is the same from one such boundary to the next.
fn ip_values(conditions: &[&Condition]) -> Option<Vec<String>> {
    let mut addresses = vec![
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ];
    for operand in operands(conditions) {
        if let Operand::Ip(Some(net)) = operand {
            addresses.push(net.network());
            let after = match net.broadcast() {
                IpAddr::V4(last) => u32::from(last)
                    .checked_add(1)
                    .map(|next| IpAddr::V4(next.into())),
                IpAddr::V6(last) => u128::from(last)
                    .checked_add(1)
                    .map(|next| IpAddr::V6(next.into())),
            };
            addresses.extend(after);
        }
    }
    addresses.sort_unstable();
    addresses.dedup();
    addresses
        .into_iter()
        .map(|address| {
            let text = address.to_string();
            (parse_ip(&text) == Some(address)).then_some(text)
        })
        .collect()
}

fn operands<'c>(conditions: &'c [&'c Condition]) -> impl Iterator<Item = &'c Operand> {
    conditions
        .iter()
        .flat_map(|condition| condition.operands.iter())
}

/// How a text pattern compares characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// `StringEquals`, `StringLike`.
    Exact,
    /// `Bool`: ASCII case-insensitive.
    Ascii,
    /// `StringEqualsIgnoreCase`: both sides lower-cased, character by
    /// character.
    Lower,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    Char(char),
    One,
    Any,
}

struct Pattern {
    symbols: Vec<Symbol>,
    fold: Fold,
}

/// One value per combination of text patterns a value can meet, found by
/// walking every pattern at once over the characters that matter to them
/// (those in the patterns, their other case where case is ignored, and one
/// standing for all the others).
fn text_values(conditions: &[&Condition]) -> Option<Vec<String>> {
    let mut patterns = Vec::new();
    for condition in conditions {
        let fold = match condition.operator.compare {
            Compare::StringEquals | Compare::StringLike => Fold::Exact,
            Compare::Bool => Fold::Ascii,
            Compare::StringEqualsIgnoreCase => Fold::Lower,
            _ => continue,
        };
        for operand in &condition.operands {
            patterns.push(pattern_of(operand, fold)?);
        }
    }
    let alphabet = alphabet_of(&patterns)?;
    let start: Vec<Vec<bool>> = patterns
        .iter()
        .map(|pattern| {
            let mut state = vec![false; pattern.symbols.len() + 1];
            state[0] = true;
            close(pattern, &mut state);
            state
        })
        .collect();
    let mut seen: HashMap<Vec<Vec<bool>>, ()> = HashMap::new();
    let mut classes: HashMap<Vec<bool>, String> = HashMap::new();
    let mut order = Vec::new();
    let mut queue = VecDeque::new();
    seen.insert(start.clone(), ());
    queue.push_back((start, String::new()));
    while let Some((state, witness)) = queue.pop_front() {
        let accepts: Vec<bool> = state
            .iter()
            .map(|positions| positions[positions.len() - 1])
            .collect();
        if !classes.contains_key(&accepts) {
            classes.insert(accepts.clone(), witness.clone());
            order.push(accepts);
        }
        for &symbol in &alphabet {
            let next: Vec<Vec<bool>> = patterns
                .iter()
                .zip(&state)
                .map(|(pattern, positions)| step(pattern, positions, symbol))
                .collect();
            if seen.contains_key(&next) {
                continue;
            }
            if seen.len() >= MAX_TEXT_STATES {
                return None;
            }
            seen.insert(next.clone(), ());
            let mut longer = witness.clone();
            longer.push(symbol);
            queue.push_back((next, longer));
        }
    }
    Some(
        order
            .into_iter()
            .filter_map(|accepts| classes.remove(&accepts))
            .collect(),
    )
}

fn pattern_of(operand: &Operand, fold: Fold) -> Option<Pattern> {
    let symbols: Vec<Symbol> = match operand {
        Operand::Text(template) => {
            let text = template.static_text()?;
            match fold {
                Fold::Lower => text
                    .chars()
                    .flat_map(char::to_lowercase)
                    .map(Symbol::Char)
                    .collect(),
                _ => text.chars().map(Symbol::Char).collect(),
            }
        }
        Operand::Like(like) => {
            let mut symbols = Vec::new();
            for token in like.0.static_tokens()? {
                match token {
                    Token::Lit(text) => symbols.extend(text.chars().map(Symbol::Char)),
                    Token::Star { colons: true } => symbols.push(Symbol::Any),
                    Token::One => symbols.push(Symbol::One),
                    Token::Star { colons: false } => return None,
                }
            }
            symbols
        }
        _ => return None,
    };
    // Case folding beyond ASCII (one character lowering to several, or
    // several characters to one) is left unknown.
    if fold != Fold::Exact
        && symbols
            .iter()
            .any(|symbol| matches!(symbol, Symbol::Char(c) if !c.is_ascii()))
    {
        return None;
    }
    Some(Pattern { symbols, fold })
}

/// The characters whose lower case holds an ASCII character although they
/// are not ASCII themselves (the Kelvin sign, a dotted capital I).
fn folding_into_ascii() -> &'static [char] {
    static CHARS: OnceLock<Vec<char>> = OnceLock::new();
    CHARS.get_or_init(|| {
        (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii() && c.to_lowercase().any(|lower| lower.is_ascii()))
            .collect()
    })
}

fn alphabet_of(patterns: &[Pattern]) -> Option<Vec<char>> {
    let mut alphabet: Vec<char> = Vec::new();
    let add = |c: char, alphabet: &mut Vec<char>| {
        if !alphabet.contains(&c) {
            alphabet.push(c);
        }
    };
    for pattern in patterns {
        for symbol in &pattern.symbols {
            if let Symbol::Char(c) = *symbol {
                add(c, &mut alphabet);
                if pattern.fold != Fold::Exact {
                    add(c.to_ascii_lowercase(), &mut alphabet);
                    add(c.to_ascii_uppercase(), &mut alphabet);
                }
            }
        }
    }
    if patterns.iter().any(|pattern| pattern.fold == Fold::Lower) {
        for &c in folding_into_ascii() {
            add(c, &mut alphabet);
        }
    }
    // One character that no pattern names, in any case: every such
    // character meets the same patterns at the same places.
    let other = ('!'..='~').chain(['§', 'ж']).find(|c| {
        !alphabet.contains(c) && c.to_lowercase().all(|lower| !alphabet.contains(&lower))
    })?;
    alphabet.push(other);
    Some(alphabet)
}

/// `positions` after reading `input`.
fn step(pattern: &Pattern, positions: &[bool], input: char) -> Vec<bool> {
    let mut state = positions.to_vec();
    let lowered: Vec<char> = match pattern.fold {
        Fold::Lower => input.to_lowercase().collect(),
        _ => vec![input],
    };
    for c in lowered {
        let mut next = vec![false; state.len()];
        for (at, symbol) in pattern.symbols.iter().enumerate() {
            if !state[at] {
                continue;
            }
            match *symbol {
                Symbol::Char(wanted) => {
                    let meets = match pattern.fold {
                        Fold::Ascii => wanted.eq_ignore_ascii_case(&c),
                        Fold::Exact | Fold::Lower => wanted == c,
                    };
                    if meets {
                        next[at + 1] = true;
                    }
                }
                Symbol::One => next[at + 1] = true,
                Symbol::Any => next[at] = true,
            }
        }
        close(pattern, &mut next);
        state = next;
    }
    state
}

/// A `*` may match nothing: being before it is being after it too.
fn close(pattern: &Pattern, state: &mut [bool]) {
    for (at, symbol) in pattern.symbols.iter().enumerate() {
        if state[at] && *symbol == Symbol::Any {
            state[at + 1] = true;
        }
    }
}

#[cfg(test)]
mod tests;
