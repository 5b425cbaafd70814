//! The request context AWS builds for one authorization: condition keys and
//! their values, with AWS's distinction between a key that is absent from the
//! request and one this tool cannot know.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A condition key's name as written: borrowed when it is one of the names
/// the tool writes itself (the key table's, a service's own), owned when it
/// is built or given. The judge writes a few dozen keys per request, and a
/// copy of each name was a good part of what building a context cost.
pub type KeyName = Cow<'static, str>;

/// Where an evaluation reads the request context from: one built already,
/// or one built the first time a condition or policy variable reads it.
pub trait ContextSource: std::fmt::Debug {
    fn resolve(&self) -> &RequestContext;
}

impl ContextSource for RequestContext {
    fn resolve(&self) -> &RequestContext {
        self
    }
}

impl ContextSource for Arc<RequestContext> {
    fn resolve(&self) -> &RequestContext {
        self
    }
}

/// What makes a [`LazyContext`]'s context.
type BuildContext<'a> = Box<dyn FnOnce() -> Arc<RequestContext> + 'a>;

/// A request context built when first read. Most statements a request
/// meets are settled by their action, resource or principal, and an action
/// none of whose matching statements has a condition or a policy variable
/// never needs its context; building it is most of what such an action
/// would cost.
pub struct LazyContext<'a> {
    built: OnceCell<Arc<RequestContext>>,
    build: Cell<Option<BuildContext<'a>>>,
}

impl<'a> LazyContext<'a> {
    /// A context `build` makes when it is first read.
    pub fn new(build: impl FnOnce() -> Arc<RequestContext> + 'a) -> Self {
        Self {
            built: OnceCell::new(),
            build: Cell::new(Some(Box::new(build))),
        }
    }

    /// A context built already.
    pub fn built(context: Arc<RequestContext>) -> Self {
        Self {
            built: OnceCell::from(context),
            build: Cell::new(None),
        }
    }

    /// The context, built now if it was not.
    pub fn get(&self) -> &Arc<RequestContext> {
        self.built.get_or_init(|| match self.build.take() {
            Some(build) => build(),
            // Only `built` leaves no builder, and it fills the cell; a
            // context that knows nothing is the safe answer all the same.
            None => Arc::new(RequestContext::unknown_by_default()),
        })
    }
}

impl ContextSource for LazyContext<'_> {
    fn resolve(&self) -> &RequestContext {
        self.get()
    }
}

impl std::fmt::Debug for LazyContext<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.built.get() {
            Some(context) => context.fmt(formatter),
            None => formatter.write_str("LazyContext(not built)"),
        }
    }
}

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
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The keys written here, in the order first written.
    entries: Vec<Entry>,
    /// Each entry's [`folded`] name and place in `entries`, ordered by the
    /// former: a lookup needs neither a lower-cased copy of the name nor a
    /// string comparison per key passed over, and a write moves two words
    /// per key after it rather than whole entries.
    index: Vec<(u64, usize)>,
    /// Key prefixes whose keys are all unknown unless set
    /// (`aws:PrincipalTag/` when the principal's tags could not be read).
    unknown_prefixes: Vec<KeyName>,
    /// Key prefixes whose keys are all absent unless set (request headers
    /// the client did not send, tags of a resource read with none of that
    /// name).
    absent_prefixes: Vec<KeyName>,
    /// Keys never set and under no prefix are unknown rather than absent.
    unknown_default: bool,
    /// The context this one was laid over, if any.
    below: Option<Arc<RequestContext>>,
    /// The services whose keys the request can carry, when declared
    /// ([`RequestContext::scope_to_services`]).
    scope: Option<ServiceScope>,
}

/// How many keys a layer has room for when its first key is written.
const LAYER_KEYS: usize = 24;

/// One key written in one layer.
#[derive(Debug, Clone)]
struct Entry {
    /// The key as last written.
    name: KeyName,
    slot: Slot,
}

/// A hash of `key` that ignores ASCII case, as IAM compares key names, read
/// from its length and its first and last eight bytes only: keys are short,
/// and this is computed for every key written. Setting bit 5 of each byte
/// lower-cases the ASCII letters (and merges a few other pairs of bytes,
/// which equal names cannot tell apart). Equal names fold equally; names
/// that fold equally are still compared before they count as the same.
fn folded(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let word = |chunk: &[u8]| {
        let mut padded = [0u8; 8];
        padded[..chunk.len()].copy_from_slice(chunk);
        u64::from_le_bytes(padded) | 0x2020_2020_2020_2020
    };
    let head = word(&bytes[..bytes.len().min(8)]);
    let tail = word(&bytes[bytes.len().saturating_sub(8)..]);
    (head.rotate_left(29) ^ tail ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Whether `key` starts with `prefix`, ignoring ASCII case.
fn starts_with_folded(key: &str, prefix: &str) -> bool {
    key.len() >= prefix.len()
        && key.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Which service-specific keys (`svc:...`, not `aws:`) a request can carry
/// at all: those of the services it is made to, and a few keys AWS
/// documents on every request made with some credentials.
#[derive(Debug, Clone)]
struct ServiceScope {
    /// Service prefixes (`s3`, `kms`, `sts`).
    services: &'static [&'static str],
    /// Keys of other services that any request may carry.
    carried: &'static [&'static str],
}

impl ServiceScope {
    /// Whether `key` is a key of a service the request is not made to, and
    /// not one of the keys carried on any request.
    fn excludes(&self, key: &str) -> bool {
        let Some((service, _)) = key.split_once(':') else {
            return false;
        };
        !service.eq_ignore_ascii_case("aws")
            && !self
                .services
                .iter()
                .any(|own| own.eq_ignore_ascii_case(service))
            && !self
                .carried
                .iter()
                .any(|carried| carried.eq_ignore_ascii_case(key))
    }
}

/// What one layer says about a key.
#[derive(Debug, Clone)]
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
    pub fn scope_to_services(
        &mut self,
        services: &'static [&'static str],
        carried: &'static [&'static str],
    ) {
        self.scope = Some(ServiceScope { services, carried });
    }

    /// The scope declared here, else below.
    fn service_scope(&self) -> Option<&ServiceScope> {
        self.scope
            .as_ref()
            .or_else(|| self.below.as_deref()?.service_scope())
    }

    /// Sets `key` to a single value, replacing what was there.
    pub fn set(&mut self, key: impl Into<KeyName>, value: impl Into<String>) {
        self.set_values(key, vec![value.into()]);
    }

    /// Sets `key` to several values (a multi-valued key), replacing what was there.
    pub fn set_values(&mut self, key: impl Into<KeyName>, values: Vec<String>) {
        self.put(key.into(), ContextValue::Present(values));
    }

    /// Adds a value to `key`, making it multi-valued when it already had one.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        let folded = folded(key);
        let entry = match self.find(folded, key) {
            Ok(entry) => entry,
            Err(place) => {
                // What a context below says is copied up first, so that the
                // value is added to it as it would be in a single context.
                let inherited = self
                    .below
                    .as_deref()
                    .and_then(|below| below.entry(folded, key));
                let (name, value) = match inherited {
                    Some((name, value)) => (name.to_string(), value.clone()),
                    None => (key.to_string(), ContextValue::Present(Vec::new())),
                };
                self.insert(folded, place, KeyName::Owned(name), Slot::Value(value))
            }
        };
        let slot = &mut self.entries[entry].slot;
        match slot {
            Slot::Value(ContextValue::Present(values)) => values.push(value.into()),
            other => *other = Slot::Value(ContextValue::Present(vec![value.into()])),
        }
    }

    /// Marks `key` as one the tool cannot know.
    pub fn set_unknown(&mut self, key: impl Into<KeyName>) {
        self.put(key.into(), ContextValue::Unknown);
    }

    /// Marks every key starting with `prefix` and not set explicitly as
    /// unknown.
    pub fn set_unknown_prefix(&mut self, prefix: impl Into<KeyName>) {
        self.unknown_prefixes.push(prefix.into());
    }

    /// Marks every key starting with `prefix` and not set explicitly as
    /// absent.
    pub fn set_absent_prefix(&mut self, prefix: impl Into<KeyName>) {
        self.absent_prefixes.push(prefix.into());
    }

    /// Marks `key` as known not to be in the request.
    pub fn set_absent(&mut self, key: impl Into<KeyName>) {
        self.put(key.into(), ContextValue::Absent);
    }

    fn put(&mut self, name: KeyName, value: ContextValue) {
        self.write(name, Slot::Value(value));
    }

    fn write(&mut self, name: KeyName, slot: Slot) {
        let folded = folded(&name);
        match self.find(folded, &name) {
            Ok(entry) => self.entries[entry] = Entry { name, slot },
            Err(place) => {
                self.insert(folded, place, name, slot);
            }
        }
    }

    /// Adds an entry for a key not written here, at `place` in the index;
    /// returns where the entry is.
    fn insert(&mut self, folded: u64, place: usize, name: KeyName, slot: Slot) -> usize {
        if self.entries.capacity() == 0 {
            // A layer the judge builds holds a few dozen keys at most: one
            // allocation each for the entries and the index, not a series.
            self.entries.reserve(LAYER_KEYS);
            self.index.reserve(LAYER_KEYS);
        }
        let entry = self.entries.len();
        self.entries.push(Entry { name, slot });
        self.index.insert(place, (folded, entry));
        entry
    }

    /// Which entry holds `key`, else where in the index it would go.
    fn find(&self, folded: u64, key: &str) -> Result<usize, usize> {
        let mut place = self.index.partition_point(|&(hash, _)| hash < folded);
        while let Some(&(hash, entry)) = self.index.get(place) {
            if hash != folded {
                break;
            }
            if self.entries[entry].name.eq_ignore_ascii_case(key) {
                return Ok(entry);
            }
            place += 1;
        }
        Err(place)
    }

    /// Removes whatever was said about `key` (it takes its prefix's or the
    /// context's default again).
    pub fn remove(&mut self, key: &str) {
        let folded = folded(key);
        let below = self
            .below
            .as_deref()
            .is_some_and(|below| below.entry(folded, key).is_some());
        if below {
            self.write(KeyName::Owned(key.to_string()), Slot::Removed);
        } else if let Ok(entry) = self.find(folded, key) {
            self.entries.remove(entry);
            self.index.retain(|&(_, at)| at != entry);
            for (_, at) in &mut self.index {
                if *at > entry {
                    *at -= 1;
                }
            }
        }
    }

    /// The key as written and its value, when set here or below.
    fn entry(&self, folded: u64, key: &str) -> Option<(&str, &ContextValue)> {
        match self.find(folded, key) {
            Ok(entry) => match &self.entries[entry] {
                Entry {
                    name,
                    slot: Slot::Value(value),
                } => Some((name, value)),
                Entry {
                    slot: Slot::Removed,
                    ..
                } => None,
            },
            Err(_) => self.below.as_deref()?.entry(folded, key),
        }
    }

    /// The length of the longest prefix of `key` declared here or below.
    fn longest_prefix(&self, key: &str, unknown: bool) -> Option<usize> {
        let prefixes = match unknown {
            true => &self.unknown_prefixes,
            false => &self.absent_prefixes,
        };
        let here = prefixes
            .iter()
            .filter(|prefix| starts_with_folded(key, prefix))
            .map(|prefix| prefix.len())
            .max();
        let below = self
            .below
            .as_deref()
            .and_then(|below| below.longest_prefix(key, unknown));
        here.max(below)
    }

    /// The value of `key`, looked up case-insensitively.
    pub fn get(&self, key: &str) -> &ContextValue {
        const ABSENT: ContextValue = ContextValue::Absent;
        const UNKNOWN: ContextValue = ContextValue::Unknown;
        if self.is_foreign(key) {
            return &ABSENT;
        }
        if let Some((_, value)) = self.entry(folded(key), key) {
            return value;
        }
        match (
            self.longest_prefix(key, true),
            self.longest_prefix(key, false),
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
        self.entry(folded(key), key).is_some()
    }

    /// Whether `key` belongs to a service the request is not made to, and
    /// is therefore absent whatever was written for it.
    pub fn is_foreign(&self, key: &str) -> bool {
        self.service_scope()
            .is_some_and(|scope| scope.excludes(key))
    }

    /// Every key that was set, with its name as written, in the order of
    /// their lower-cased names.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        let mut layers = vec![self];
        while let Some(below) = layers.last().and_then(|layer| layer.below.as_deref()) {
            layers.push(below);
        }
        // Bottom first, so that what was written later replaces it.
        let mut merged: BTreeMap<String, Option<(&str, &ContextValue)>> = BTreeMap::new();
        for layer in layers.into_iter().rev() {
            for entry in &layer.entries {
                let value = match &entry.slot {
                    Slot::Value(value) => Some((entry.name.as_ref(), value)),
                    Slot::Removed => None,
                };
                merged.insert(entry.name.to_ascii_lowercase(), value);
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

    #[test]
    fn keys_alike_at_both_ends_stay_apart() {
        // Same length, same first and last eight bytes: they fold alike,
        // and must still be two keys.
        let mut context = RequestContext::new();
        context.set("aws:PrincipalTag/a-team-suffix", "one");
        context.set("AWS:PRINCIPALTAG/B-TEAM-SUFFIX", "two");
        assert_eq!(
            folded("aws:PrincipalTag/a-team-suffix"),
            folded("aws:PrincipalTag/b-team-suffix")
        );
        assert_eq!(
            context.get("aws:principaltag/a-team-suffix"),
            &ContextValue::Present(vec!["one".to_string()])
        );
        assert_eq!(
            context.get("aws:principaltag/b-team-suffix"),
            &ContextValue::Present(vec!["two".to_string()])
        );
        context.remove("aws:PrincipalTag/a-team-suffix");
        assert_eq!(
            context.get("aws:principaltag/a-team-suffix"),
            &ContextValue::Absent
        );
        assert_eq!(
            context.get("aws:principaltag/b-team-suffix"),
            &ContextValue::Present(vec!["two".to_string()])
        );
    }

    #[test]
    fn a_key_written_again_in_another_case_keeps_one_entry_and_the_new_name() {
        let mut context = RequestContext::new();
        context.set("aws:SourceIp", "10.0.0.1");
        context.set("AWS:SOURCEIP", "10.0.0.2");
        let keys: Vec<(&str, &ContextValue)> = context.iter().collect();
        assert_eq!(
            keys,
            vec![(
                "AWS:SOURCEIP",
                &ContextValue::Present(vec!["10.0.0.2".to_string()])
            )]
        );
    }

    #[test]
    fn a_lazy_context_is_built_once_and_only_when_read() {
        let builds = Cell::new(0);
        let lazy = LazyContext::new(|| {
            builds.set(builds.get() + 1);
            let mut context = RequestContext::new();
            context.set("aws:username", "ann");
            Arc::new(context)
        });
        assert_eq!(builds.get(), 0);
        let source: &dyn ContextSource = &lazy;
        assert_eq!(
            source.resolve().get("aws:username"),
            &ContextValue::Present(vec!["ann".to_string()])
        );
        assert!(source.resolve().is_set("AWS:USERNAME"));
        assert_eq!(builds.get(), 1);
    }
}
