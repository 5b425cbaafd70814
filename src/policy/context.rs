//! The request context AWS builds for one authorization: condition keys and
//! their values, with AWS's distinction between a key that is absent from the
//! request and one this tool cannot know.

use std::collections::BTreeMap;
use std::sync::Arc;

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
///
/// A context may sit on a shared one ([`RequestContext::on`]): what the
/// shared one says counts as written before anything written here. The
/// judge builds what every action of a request has in common once and lays
/// each action's own keys over it, rather than writing every key again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// Lower-cased key name to (key as first written, value).
    entries: BTreeMap<String, (String, Slot)>,
    /// Lower-cased key prefixes whose keys are all unknown unless set
    /// (`aws:principaltag/` when the principal's tags could not be read).
    unknown_prefixes: Vec<String>,
    /// Lower-cased key prefixes whose keys are all absent unless set
    /// (request headers the client did not send, tags of a resource read
    /// with none of that name).
    absent_prefixes: Vec<String>,
    /// Keys never set and under no prefix are unknown rather than absent.
    unknown_default: bool,
    /// The context this one was laid over, if any.
    below: Option<Arc<RequestContext>>,
    /// The services whose keys the request can carry, when declared
    /// ([`RequestContext::scope_to_services`]).
    scope: Option<ServiceScope>,
}

/// Which service-specific keys (`svc:...`, not `aws:`) a request can carry
/// at all: those of the services it is made to, and a few keys AWS
/// documents on every request made with some credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceScope {
    /// Lower-cased service prefixes (`s3`, `kms`, `sts`).
    services: Vec<String>,
    /// Lower-cased keys of other services that any request may carry.
    carried: Vec<String>,
}

impl ServiceScope {
    /// Whether `lowered` is a key of a service the request is not made to,
    /// and not one of the keys carried on any request.
    fn excludes(&self, lowered: &str) -> bool {
        let Some((service, _)) = lowered.split_once(':') else {
            return false;
        };
        service != "aws"
            && !self.services.iter().any(|own| own == service)
            && !self.carried.iter().any(|key| key == lowered)
    }
}

/// What one layer says about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Value(ContextValue),
    /// Removed here: whatever a context below said about the key no longer
    /// counts.
    Removed,
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

    /// A context laid over `below`: it says what `below` says (keys,
    /// prefixes and default) until something written here says otherwise,
    /// exactly as if everything of `below` had been written here first.
    pub fn on(below: Arc<RequestContext>) -> Self {
        Self {
            unknown_default: below.unknown_default,
            below: Some(below),
            ..Self::default()
        }
    }

    /// Declares the services the request is made to. A key of any other
    /// service (`ec2:Owner` in an S3 request, an `s3:` header in the KMS
    /// call S3 makes) is then absent, whatever was written for it: AWS puts
    /// in a request only the global keys and the keys the Service
    /// Authorization Reference lists for its action. `carried` names keys
    /// of other services that AWS documents on any request (credential
    /// keys such as `lambda:SourceFunctionArn`); those keep their values.
    pub fn scope_to_services(&mut self, services: &[&str], carried: &[&str]) {
        self.scope = Some(ServiceScope {
            services: services.iter().map(|s| s.to_ascii_lowercase()).collect(),
            carried: carried.iter().map(|s| s.to_ascii_lowercase()).collect(),
        });
    }

    /// The scope declared here, else below.
    fn service_scope(&self) -> Option<&ServiceScope> {
        self.scope
            .as_ref()
            .or_else(|| self.below.as_deref()?.service_scope())
    }

    /// Sets `key` to a single value, replacing what was there.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.set_values(key, vec![value.into()]);
    }

    /// Sets `key` to several values (a multi-valued key), replacing what was there.
    pub fn set_values(&mut self, key: &str, values: Vec<String>) {
        self.put(key, ContextValue::Present(values));
    }

    /// Adds a value to `key`, making it multi-valued when it already had one.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        let lowered = key.to_ascii_lowercase();
        if !self.entries.contains_key(&lowered) {
            // What a context below says is copied up first, so that the
            // value is added to it as it would be in a single context.
            let inherited = self
                .below
                .as_deref()
                .and_then(|below| below.entry(&lowered))
                .map(|(name, value)| (name.to_string(), Slot::Value(value.clone())));
            self.entries.insert(
                lowered.clone(),
                inherited.unwrap_or_else(|| {
                    (
                        key.to_string(),
                        Slot::Value(ContextValue::Present(Vec::new())),
                    )
                }),
            );
        }
        if let Some((_, slot)) = self.entries.get_mut(&lowered) {
            match slot {
                Slot::Value(ContextValue::Present(values)) => values.push(value.into()),
                other => *other = Slot::Value(ContextValue::Present(vec![value.into()])),
            }
        }
    }

    /// Marks `key` as one the tool cannot know.
    pub fn set_unknown(&mut self, key: &str) {
        self.put(key, ContextValue::Unknown);
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
        self.put(key, ContextValue::Absent);
    }

    fn put(&mut self, key: &str, value: ContextValue) {
        self.entries.insert(
            key.to_ascii_lowercase(),
            (key.to_string(), Slot::Value(value)),
        );
    }

    /// Removes whatever was said about `key` (it takes its prefix's or the
    /// context's default again).
    pub fn remove(&mut self, key: &str) {
        let lowered = key.to_ascii_lowercase();
        let below = self
            .below
            .as_deref()
            .is_some_and(|below| below.entry(&lowered).is_some());
        if below {
            self.entries
                .insert(lowered, (key.to_string(), Slot::Removed));
        } else {
            self.entries.remove(&lowered);
        }
    }

    /// The key as written and its value, when set here or below.
    fn entry(&self, lowered: &str) -> Option<(&str, &ContextValue)> {
        match self.entries.get(lowered) {
            Some((name, Slot::Value(value))) => Some((name.as_str(), value)),
            Some((_, Slot::Removed)) => None,
            None => self.below.as_deref()?.entry(lowered),
        }
    }

    /// The length of the longest prefix of `lowered` declared here or below.
    fn longest_prefix(&self, lowered: &str, unknown: bool) -> Option<usize> {
        let prefixes = match unknown {
            true => &self.unknown_prefixes,
            false => &self.absent_prefixes,
        };
        let here = prefixes
            .iter()
            .filter(|prefix| lowered.starts_with(prefix.as_str()))
            .map(String::len)
            .max();
        let below = self
            .below
            .as_deref()
            .and_then(|below| below.longest_prefix(lowered, unknown));
        here.max(below)
    }

    /// The value of `key`, looked up case-insensitively.
    pub fn get(&self, key: &str) -> &ContextValue {
        const ABSENT: ContextValue = ContextValue::Absent;
        const UNKNOWN: ContextValue = ContextValue::Unknown;
        let lowered = key.to_ascii_lowercase();
        if self
            .service_scope()
            .is_some_and(|scope| scope.excludes(&lowered))
        {
            return &ABSENT;
        }
        if let Some((_, value)) = self.entry(&lowered) {
            return value;
        }
        match (
            self.longest_prefix(&lowered, true),
            self.longest_prefix(&lowered, false),
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
        self.entry(&key.to_ascii_lowercase()).is_some()
    }

    /// Whether `key` belongs to a service the request is not made to, and
    /// is therefore absent whatever was written for it.
    pub fn is_foreign(&self, key: &str) -> bool {
        self.service_scope()
            .is_some_and(|scope| scope.excludes(&key.to_ascii_lowercase()))
    }

    /// Every key that was set, with its name as written, in the order of
    /// their lower-cased names.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        let mut layers = vec![self];
        while let Some(below) = layers.last().and_then(|layer| layer.below.as_deref()) {
            layers.push(below);
        }
        // Bottom first, so that what was written later replaces it.
        let mut merged: BTreeMap<&str, Option<(&str, &ContextValue)>> = BTreeMap::new();
        for layer in layers.into_iter().rev() {
            for (lowered, (name, slot)) in &layer.entries {
                let value = match slot {
                    Slot::Value(value) => Some((name.as_str(), value)),
                    Slot::Removed => None,
                };
                merged.insert(lowered.as_str(), value);
            }
        }
        merged
            .into_values()
            .flatten()
            .filter(|(name, _)| !self.is_foreign(name))
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
