//! Reading a policy document from its text without building its tree: the
//! top-level elements are kept as slices of the text, and each statement
//! is read from its own slice and turned into its parsed form at once. A
//! document of 50,000 statements then never holds more than one statement's
//! JSON tree per thread, which is what bounds memory on large snapshots.

use std::fmt;

use serde::de::{Deserialize, Deserializer as _, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::policy::strict_json::{Strict, duplicate};

/// The elements of the JSON object `text`, in order, each as its text. A
/// key given twice is an error, as everywhere else in the tool.
pub(super) fn elements(text: &str) -> Result<Vec<(String, &RawValue)>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let elements = deserializer.deserialize_map(ElementsVisitor)?;
    deserializer.end()?;
    Ok(elements)
}

struct ElementsVisitor;

impl<'de> Visitor<'de> for ElementsVisitor {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut elements: Vec<(String, &'de RawValue)> = Vec::new();
        while let Some(key) = access.next_key::<String>()? {
            if elements.iter().any(|(seen, _)| *seen == key) {
                return Err(duplicate(&key));
            }
            let value = access.next_value::<&'de RawValue>()?;
            elements.push((key, value));
        }
        Ok(elements)
    }
}

/// The items of the JSON array `text`, each as its text.
pub(super) fn items(text: &str) -> Result<Vec<&RawValue>, serde_json::Error> {
    serde_json::from_str(text)
}

/// A JSON value read from `text`, refusing duplicate keys.
pub(super) fn strict_value(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let Strict(value) = Strict::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Where `inner`, a slice of `outer`, starts in it (0 if it is not one).
pub(super) fn offset_in(outer: &str, inner: &str) -> usize {
    let start = (inner.as_ptr() as usize).wrapping_sub(outer.as_ptr() as usize);
    if start <= outer.len() { start } else { 0 }
}

/// From how many items [`map_in_order`] shares the work between threads:
/// below it, starting threads costs more than it saves.
const PARALLEL_FROM: usize = 1024;

/// The machine's cores, asked once: the answer reads files under `/sys`
/// and `/proc` on Linux each time it is asked.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// `each` applied to every item, in order; the error of the first item
/// that fails. Large arrays are shared between the machine's cores: each
/// item is independent of the others, and a snapshot's largest documents
/// are where loading spends its time.
pub(super) fn map_in_order<T: Send, E: Send>(
    items: &[&RawValue],
    each: impl Fn(usize, &str) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    // The size first: asking the system for its cores costs more than
    // reading a small document, and most documents are small.
    if items.len() < PARALLEL_FROM || cores() < 2 {
        return items
            .iter()
            .enumerate()
            .map(|(index, item)| each(index, item.get()))
            .collect();
    }
    let size = items.len().div_ceil(cores());
    let parts: Vec<Result<Vec<T>, E>> = std::thread::scope(|scope| {
        let each = &each;
        let running: Vec<_> = items
            .chunks(size)
            .enumerate()
            .map(|(part, chunk)| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(offset, item)| each(part * size + offset, item.get()))
                        .collect::<Result<Vec<T>, E>>()
                })
            })
            .collect();
        running
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    // The first part's vector grows into the whole (a large one grows in
    // place), rather than all of them being copied into a new one.
    let mut parts = parts.into_iter();
    let mut all = match parts.next() {
        Some(first) => first?,
        None => Vec::new(),
    };
    all.reserve_exact(items.len() - all.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_keep_their_order_and_text() {
        let found = elements(r#"{"b": [1, 2], "a": {"x": "y"}}"#).unwrap();
        let found: Vec<(&str, &str)> = found
            .iter()
            .map(|(key, raw)| (key.as_str(), raw.get()))
            .collect();
        assert_eq!(found, [("b", "[1, 2]"), ("a", r#"{"x": "y"}"#)]);
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let error = elements(r#"{"Statement": [], "Statement": []}"#).unwrap_err();
        assert!(
            error.to_string().contains("duplicate key `Statement`"),
            "{error}"
        );
    }

    #[test]
    fn items_keep_their_order_and_the_first_failure_is_reported() {
        let text = format!(
            "[{}]",
            (0..5000)
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let items = items(&text).unwrap();
        let doubled = map_in_order(&items, |index, item| {
            let number: usize = item.parse().map_err(|_| index)?;
            Ok::<usize, usize>(number * 2)
        })
        .unwrap();
        assert_eq!(doubled, (0..5000).map(|n| n * 2).collect::<Vec<_>>());
        // Items 1500 and 4000 fail: the first one is reported, whichever
        // thread finished first.
        let failed = map_in_order(&items, |index, _| {
            if index == 1500 || index == 4000 {
                Err(index)
            } else {
                Ok(())
            }
        });
        assert_eq!(failed, Err(1500));
    }

    #[test]
    fn a_duplicate_key_inside_an_item_is_refused() {
        let error = strict_value(r#"{"Effect": "Allow", "Effect": "Deny"}"#).unwrap_err();
        assert!(
            error.to_string().contains("duplicate key `Effect`"),
            "{error}"
        );
    }
}
