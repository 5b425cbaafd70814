//! JSON text read strictly: a duplicate key in any object is an error, not
//! "the last one wins". serde_json keeps the last value silently, so an
//! object with `"Effect"` twice would be judged by whichever came second;
//! IAM documents no rule for duplicate keys, so the tool refuses them rather
//! than guess.

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses JSON text into a [`Value`], refusing duplicate object keys. The
/// error carries serde_json's line and column (those of the duplicate).
pub fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict::deserialize(&mut deserializer)?.0;
    deserializer.end()?;
    Ok(value)
}

/// Checks JSON text (syntax and unique keys) without building its tree:
/// a large snapshot is then deserialised once, straight into its types.
pub fn check(text: &str) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Checked::deserialize(&mut deserializer)?;
    deserializer.end()
}

/// A JSON value whose objects had unique keys, kept as nothing.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckVisitor).map(|()| Checked)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        // Policy objects have a handful of keys: comparing them in a list
        // beats hashing each one; a large object gets a set.
        let mut keys: Vec<Key<'de>> = Vec::new();
        let mut many = std::collections::HashSet::new();
        while let Some(key) = access.next_key::<Key<'de>>()? {
            let repeated = if keys.len() < SMALL_OBJECT {
                let seen = keys.contains(&key);
                keys.push(key.clone());
                seen
            } else {
                if many.is_empty() {
                    many.extend(keys.iter().cloned());
                }
                !many.insert(key.clone())
            };
            if repeated {
                return Err(duplicate(&key.0));
            }
            access.next_value::<Checked>()?;
        }
        Ok(())
    }
}

/// Up to how many keys an object's keys are compared in a list.
const SMALL_OBJECT: usize = 16;

/// An object key, borrowed from the text unless it holds an escape.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Borrowed(key)))
    }

    fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Owned(key.to_string())))
    }

    fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Owned(key)))
    }
}

pub(crate) fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format!(
        "duplicate key `{key}` in one object (ambiguous: the tool does not guess which one counts)"
    ))
}

/// A [`Value`] whose objects had unique keys: deserialise one where a
/// value is read from a larger text piece by piece.
pub(crate) struct Strict(pub(crate) Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Strict::deserialize(deserializer).map(|strict| strict.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(duplicate(&key));
            }
            let Strict(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_position() {
        let error = from_str("{\"Effect\": \"Deny\",\n \"Effect\": \"Allow\"}").unwrap_err();
        assert!(
            error.to_string().contains("duplicate key `Effect`"),
            "{error}"
        );
        assert_eq!(error.line(), 2);
        let nested = from_str("[{\"a\": {\"b\": 1, \"b\": 1}}]").unwrap_err();
        assert!(nested.to_string().contains("`b`"), "{nested}");
    }

    #[test]
    fn check_agrees_with_from_str() {
        for text in [
            "{\"a\": 1, \"a\": 2}",
            "[{\"a\": {\"b\": 1, \"c\": [1, {\"b\": 2, \"b\": 3}]}}]",
            "{\"a\": 1, \"b\": {\"a\": 2}}",
            "{\"a\\u0062\": 1, \"ab\": 2}",
            "{} x",
            "",
        ] {
            assert_eq!(check(text).is_ok(), from_str(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn a_duplicate_is_found_in_objects_of_any_size() {
        for size in [2, SMALL_OBJECT, SMALL_OBJECT + 1, 40] {
            let keys: Vec<String> = (0..size).map(|n| format!("\"k{n}\": {n}")).collect();
            let unique = format!("{{{}}}", keys.join(", "));
            assert!(check(&unique).is_ok(), "{unique}");
            // The last key repeats the first: found after the switch to a set.
            let repeated = format!("{{{}, \"k0\": 0}}", keys.join(", "));
            assert!(check(&repeated).is_err(), "{repeated}");
        }
    }

    #[test]
    fn unique_keys_read_as_serde_json_reads_them() {
        let text =
            r#"{"a": [1, -2, 2.5, true, null, "x"], "b": {"c": {}}, "d": 18446744073709551615}"#;
        assert_eq!(
            from_str(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert!(from_str("{} x").is_err());
        assert!(from_str(&"[".repeat(1000)).is_err());
    }
}
