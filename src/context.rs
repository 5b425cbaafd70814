//! The request context AWS builds for one authorization: condition keys and
//! their values, with AWS's distinction between a key that is absent from the
//! request and one this tool cannot know.

use std::collections::BTreeMap;

/// What is known about one condition key of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// The request carries the key with these values (one or more).
    Present(Vec<String>),
    /// The request does not carry the key (the client did not send the header,
    /// the principal has no such tag, ...). Conditions treat it as AWS treats
    /// a missing key.
    Absent,
    /// The key may or may not be in the request and the tool cannot tell
    /// (`aws:SourceIp` of a caller it never saw, say). A result that depends
    /// on it is `unknown`.
    Unknown,
}

/// Condition keys of one request. Key names are case-insensitive, as in IAM;
/// values keep their case. A key never set takes the value of the longest
/// prefix declared for it, else the context's default: [`ContextValue::Absent`]
/// for [`RequestContext::new`], [`ContextValue::Unknown`] for
/// [`RequestContext::unknown_by_default`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// Lower-cased key name to (key as first written, value).
    entries: BTreeMap<String, (String, ContextValue)>,
    /// Lower-cased key prefixes whose keys are all unknown unless set
    /// (`aws:principaltag/` when the principal's tags could not be read).
    unknown_prefixes: Vec<String>,
    /// Lower-cased key prefixes whose keys are all absent unless set
    /// (request headers the client did not send, tags of a resource read
    /// with none of that name).
    absent_prefixes: Vec<String>,
    /// Keys never set and under no prefix are unknown rather than absent.
    unknown_default: bool,
}

impl RequestContext {
    /// A context whose keys never set are absent.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context whose keys never set are unknown: what a judge that does
    /// not see the request itself must assume.
    pub fn unknown_by_default() -> Self {
        Self {
            unknown_default: true,
            ..Self::default()
        }
    }

    /// Sets `key` to a single value, replacing what was there.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.set_values(key, vec![value.into()]);
    }

    /// Sets `key` to several values (a multi-valued key), replacing what was there.
    pub fn set_values(&mut self, key: &str, values: Vec<String>) {
        self.entries.insert(
            key.to_ascii_lowercase(),
            (key.to_string(), ContextValue::Present(values)),
        );
    }

    /// Adds a value to `key`, making it multi-valued when it already had one.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        let slot = self
            .entries
            .entry(key.to_ascii_lowercase())
            .or_insert_with(|| (key.to_string(), ContextValue::Present(Vec::new())));
        match &mut slot.1 {
            ContextValue::Present(values) => values.push(value.into()),
            other => *other = ContextValue::Present(vec![value.into()]),
        }
    }

    /// Marks `key` as one the tool cannot know.
    pub fn set_unknown(&mut self, key: &str) {
        self.entries.insert(
            key.to_ascii_lowercase(),
            (key.to_string(), ContextValue::Unknown),
        );
    }

    /// Marks every key starting with `prefix` and not set explicitly as
    /// unknown.
    pub fn set_unknown_prefix(&mut self, prefix: &str) {
        self.unknown_prefixes.push(prefix.to_ascii_lowercase());
    }

    /// Marks every key starting with `prefix` and not set explicitly as
    /// absent.
    pub fn set_absent_prefix(&mut self, prefix: &str) {
        self.absent_prefixes.push(prefix.to_ascii_lowercase());
    }

    /// Marks `key` as known not to be in the request.
    pub fn set_absent(&mut self, key: &str) {
        self.entries.insert(
            key.to_ascii_lowercase(),
            (key.to_string(), ContextValue::Absent),
        );
    }

    /// Removes whatever was said about `key` (it takes its prefix's or the
    /// context's default again).
    pub fn remove(&mut self, key: &str) {
        self.entries.remove(&key.to_ascii_lowercase());
    }

    /// The value of `key`, looked up case-insensitively.
    pub fn get(&self, key: &str) -> &ContextValue {
        const ABSENT: ContextValue = ContextValue::Absent;
        const UNKNOWN: ContextValue = ContextValue::Unknown;
        let lowered = key.to_ascii_lowercase();
        if let Some((_, value)) = self.entries.get(&lowered) {
            return value;
        }
        let longest = |prefixes: &[String]| {
            prefixes
                .iter()
                .filter(|prefix| lowered.starts_with(prefix.as_str()))
                .map(String::len)
                .max()
        };
        match (
            longest(&self.unknown_prefixes),
            longest(&self.absent_prefixes),
        ) {
            (Some(unknown), Some(absent)) if absent > unknown => &ABSENT,
            (Some(_), _) => &UNKNOWN,
            (None, Some(_)) => &ABSENT,
            (None, None) if self.unknown_default => &UNKNOWN,
            (None, None) => &ABSENT,
        }
    }

    /// Whether `key` was set explicitly (to a value, absent or unknown).
    pub fn is_set(&self, key: &str) -> bool {
        self.entries.contains_key(&key.to_ascii_lowercase())
    }

    /// Every key that was set, with its name as first written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries
            .values()
            .map(|(name, value)| (name.as_str(), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_values_are_not() {
        let mut context = RequestContext::new();
        context.set("aws:PrincipalTag/Team", "Data");
        assert_eq!(
            context.get("AWS:principaltag/team"),
            &ContextValue::Present(vec!["Data".to_string()])
        );
        assert_eq!(context.get("aws:SourceIp"), &ContextValue::Absent);
    }

    #[test]
    fn an_unknown_prefix_covers_keys_not_set() {
        let mut context = RequestContext::new();
        context.set_unknown_prefix("aws:PrincipalTag/");
        context.set("aws:PrincipalTag/team", "data");
        assert_eq!(context.get("aws:principaltag/cost"), &ContextValue::Unknown);
        assert_eq!(
            context.get("aws:PrincipalTag/team"),
            &ContextValue::Present(vec!["data".to_string()])
        );
        assert_eq!(context.get("aws:username"), &ContextValue::Absent);
    }

    #[test]
    fn an_unknown_default_yields_to_absent_prefixes_and_set_keys() {
        let mut context = RequestContext::unknown_by_default();
        context.set_absent_prefix("s3:x-amz-");
        context.set_unknown_prefix("kms:EncryptionContext:");
        context.set_absent_prefix("kms:EncryptionContext:aws:");
        context.set("aws:username", "ann");
        assert_eq!(context.get("aws:SourceIp"), &ContextValue::Unknown);
        assert_eq!(context.get("s3:x-amz-acl"), &ContextValue::Absent);
        assert_eq!(
            context.get("kms:EncryptionContext:aws:other"),
            &ContextValue::Absent
        );
        assert_eq!(
            context.get("kms:EncryptionContext:team"),
            &ContextValue::Unknown
        );
        assert!(context.is_set("AWS:USERNAME"));
    }

    #[test]
    fn push_makes_a_multi_valued_key() {
        let mut context = RequestContext::new();
        context.push("s3:x-amz-grant-read", "id=1");
        context.push("S3:x-amz-grant-read", "id=2");
        assert_eq!(
            context.get("s3:x-amz-grant-read"),
            &ContextValue::Present(vec!["id=1".to_string(), "id=2".to_string()])
        );
    }

    #[test]
    fn unknown_is_kept_apart_from_absent() {
        let mut context = RequestContext::new();
        context.set_unknown("aws:SourceVpce");
        assert_eq!(context.get("aws:sourcevpce"), &ContextValue::Unknown);
        context.remove("aws:SourceVpce");
        assert_eq!(context.get("aws:sourcevpce"), &ContextValue::Absent);
    }
}
