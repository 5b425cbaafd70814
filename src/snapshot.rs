//! The snapshot: every document of the chain as read from AWS (or written by
//! hand), in the `kms-s3-doctor/snapshot@1` format (docs/snapshot-format.md). It is the seam
//! between gathering and judging: live mode fills one, `--snapshot` loads one,
//! and one judge reads it. Loading validates everything up front (ARNs,
//! policies), so a snapshot is never half-evaluated.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::policy::Policy;
use crate::policy::arn::{Arn, Principal, is_account_id};
use crate::policy::positions::JsonPositions;

mod assumption;
mod docref;
pub use assumption::{AssumeError, Assumption};
pub use docref::{DocRef, OrgLevel};

pub const SNAPSHOT_FORMAT: &str = "kms-s3-doctor/snapshot@1";

/// A field that may be missing (not read: unknown), `null` (read: there is
/// none) or present.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field<T> {
    #[default]
    Unknown,
    None,
    Some(T),
}

impl<T> Field<T> {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Unknown => Field::Unknown,
            Field::None => Field::None,
            Field::Some(value) => Field::Some(value),
        }
    }

    /// The value when read and present.
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Some(value) => Some(value),
            _ => None,
        }
    }

    /// The value when read and present, to change it.
    pub fn known_mut(&mut self) -> Option<&mut T> {
        match self {
            Field::Some(value) => Some(value),
            _ => None,
        }
    }

    pub fn from_option(value: Option<T>) -> Self {
        match value {
            Some(value) => Field::Some(value),
            None => Field::None,
        }
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Skipped by `skip_serializing_if`; a bare `Unknown` reaching here is
            // written as null only inside collections, which never hold fields.
            Field::Unknown | Field::None => serializer.serialize_none(),
            Field::Some(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Field::from_option(Option::<T>::deserialize(deserializer)?))
    }
}

/// A policy document: its JSON exactly as read (an object, a JSON string or
/// a URL-encoded string), and its parsed form. Both are shared, not copied,
/// when a snapshot is cloned: a re-check lays changes over a copy of a
/// snapshot that may hold tens of megabytes of policies.
#[derive(Debug, Clone)]
pub struct PolicyDoc {
    /// Written back unchanged by `--save-snapshot`.
    raw: Arc<RawValue>,
    pub policy: Arc<Policy>,
    /// Which document of the snapshot this is, set by
    /// [`Snapshot::identify_documents`]; `None` until then.
    id: Option<Arc<DocRef>>,
    /// The JSON pointer this document was read at in the snapshot file, so
    /// that evidence can point into that file. `None` for a document that
    /// did not come from one (read live, laid by a plan or overlay, or
    /// changed by a fix).
    source_pointer: Option<Arc<str>>,
    /// The plan or overlay that wrote this document (`plan `p.json``),
    /// named beside its label.
    layer: Option<Arc<str>>,
}

impl PolicyDoc {
    /// Parses a document read from AWS (JSON or URL-encoded JSON text).
    pub fn from_text(label: &str, text: &str) -> Result<Self, crate::policy::PolicyError> {
        let policy = Policy::parse_text(label, text)?;
        Ok(Self {
            raw: raw_json(&text)?,
            policy: Arc::new(policy),
            id: None,
            source_pointer: None,
            layer: None,
        })
    }

    /// Parses a document given as a JSON value (an object, or a string
    /// holding the text).
    pub fn from_value(
        label: &str,
        value: &serde_json::Value,
    ) -> Result<Self, crate::policy::PolicyError> {
        let policy = Policy::parse_value(label, value)?;
        Ok(Self {
            raw: raw_json(value)?,
            policy: Arc::new(policy),
            id: None,
            source_pointer: None,
            layer: None,
        })
    }

    /// [`PolicyDoc::from_value`] for a document made from `base` by adding,
    /// extending or removing statements; `kept[i]` names the statement of
    /// `base` that statement `i` is unchanged from, which is not parsed again.
    pub(crate) fn from_value_keeping(
        label: &str,
        value: &serde_json::Value,
        base: &Policy,
        kept: &[Option<usize>],
    ) -> Result<Self, crate::policy::PolicyError> {
        let policy = Policy::parse_value_keeping(label, value, base, kept)?;
        Ok(Self {
            raw: raw_json(value)?,
            policy: Arc::new(policy),
            id: None,
            source_pointer: None,
            layer: None,
        })
    }

    /// The document as read, as JSON text.
    pub fn raw(&self) -> &str {
        self.raw.get()
    }

    /// The document as read, as a JSON value (parsed anew on each call).
    pub fn raw_value(&self) -> serde_json::Value {
        serde_json::from_str(self.raw.get()).unwrap_or(serde_json::Value::Null)
    }

    /// True when the document was given as a JSON object rather than text.
    pub fn is_object(&self) -> bool {
        self.raw.get().starts_with('{')
    }

    /// Which document of the snapshot this is; `None` for a document not
    /// (yet) placed in a snapshot.
    pub fn id(&self) -> Option<&DocRef> {
        self.id.as_deref()
    }

    /// [`PolicyDoc::id`], shared rather than copied (evidence holds it).
    pub fn shared_id(&self) -> Option<Arc<DocRef>> {
        self.id.clone()
    }

    /// The JSON pointer the document was read at in the snapshot file.
    pub fn source_pointer(&self) -> Option<&str> {
        self.source_pointer.as_deref()
    }

    /// Records the plan or overlay that wrote this document.
    pub fn set_layer(&mut self, layer: &str) {
        self.layer = Some(Arc::from(layer));
    }

    /// Places the document at `id`, labelled `label` (and its layer).
    fn identify(&mut self, id: DocRef, label: String) {
        if self.id.as_deref() != Some(&id) {
            self.id = Some(Arc::new(id));
        }
        let label = match &self.layer {
            Some(layer) => format!("{label} (from {layer})"),
            None => label,
        };
        // A copy of a snapshot shares its policies: relabelling one with the
        // label it has would copy it for nothing.
        if self.policy.label() != label {
            Arc::make_mut(&mut self.policy).set_label(label);
        }
    }
}

/// `value` as JSON text. Serialising a string or a JSON value cannot fail;
/// should it, the error says so rather than a document being lost.
fn raw_json<T: Serialize + ?Sized>(value: &T) -> Result<Arc<RawValue>, crate::policy::PolicyError> {
    serde_json::value::to_raw_value(value)
        .map(Arc::from)
        .map_err(|error| crate::policy::PolicyError {
            document: String::new(),
            path: String::new(),
            line: None,
            column: None,
            message: format!("the document cannot be written as JSON: {error}"),
        })
}

impl PartialEq for PolicyDoc {
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
    }
}

impl Serialize for PolicyDoc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

/// Separates a policy error's JSON pointer from its message inside a serde
/// error, which carries only text (see [`Snapshot::parse`]).
const POLICY_ERROR_MARK: char = '\u{1f}';

impl<'de> Deserialize<'de> for PolicyDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        // The identity and label are set by `Snapshot::identify_documents` once the
        // document's place in the snapshot is known. The text is valid JSON
        // (the deserializer read it) with unique keys (the snapshot's text
        // was checked whole before it was deserialised).
        match Policy::parse_json("document", raw.get()) {
            Ok(policy) => Ok(Self {
                raw: Arc::from(raw),
                policy: Arc::new(policy),
                id: None,
                source_pointer: None,
                layer: None,
            }),
            Err(error) => Err(serde::de::Error::custom(format!(
                "{}{POLICY_ERROR_MARK}{}",
                error.path, error.message
            ))),
        }
    }
}

/// A policy with the name it is attached under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedPolicy {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PolicyKind>,
    pub document: PolicyDoc,
}

/// Where an identity policy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    Inline,
    Managed,
    GroupInline,
    GroupManaged,
}

/// Organization facts of one account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountInfo {
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub org_id: Field<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id_error: Option<String>,
    /// The account's path in its organization as `aws:PrincipalOrgPaths`
    /// and `aws:ResourceOrgPaths` hold it (`o-…/r-…/ou-…/`, see
    /// [`crate::org_path`]); `null` outside an organization.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub org_path: Field<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_path_error: Option<String>,
    /// The organization's management account: SCPs and RCPs do not apply
    /// to it.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub management_account: Field<String>,
    /// One inner list per level, root first, account last.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub scps: Field<Vec<Vec<NamedPolicy>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scps_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub rcps: Field<Vec<Vec<NamedPolicy>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcps_error: Option<String>,
}

/// Server-side encryption as configured or applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// `aws:kms`, `aws:kms:dsse` or `AES256`.
    pub algorithm: String,
    /// Key ARN, key id, alias name or alias ARN, exactly as configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_key: Option<bool>,
}

impl Encryption {
    /// SSE-KMS or DSSE-KMS: S3 calls KMS for this encryption.
    pub fn uses_kms(&self) -> bool {
        matches!(self.algorithm.as_str(), "aws:kms" | "aws:kms:dsse")
    }
}

/// One ACL grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclGrant {
    /// Account id, canonical user id or group URI.
    pub grantee: String,
    /// `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP` or `FULL_CONTROL`.
    pub permission: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectInfo {
    pub key: String,
    /// Owning account id (or canonical id).
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub owner: Field<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub encryption: Field<Encryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub acl: Field<Vec<AclGrant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl_error: Option<String>,
    /// Tags: missing when not read (unknown), `null` or `{}` when it has none.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub tags: Field<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketInfo {
    pub name: String,
    /// The owning account.
    pub account: String,
    /// Why the owning account is not confirmed (an extension of the
    /// original format): it was taken from the profile that read the
    /// bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_error: Option<String>,
    /// Missing when not read: the judge then treats the region, and every
    /// condition on it, as unknown (never as a default region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub policy: Field<PolicyDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub encryption: Field<Encryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_error: Option<String>,
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub ownership: Field<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_error: Option<String>,
    /// Tags: missing when not read (unknown), `null` or `{}` when it has none.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub tags: Field<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_error: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub objects: Vec<ObjectInfo>,
}

/// Constraints of a KMS grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantInfo {
    /// Grantee principal ARN (or account root / service).
    pub grantee: String,
    /// KMS operation names without prefix (`Decrypt`, `GenerateDataKey`).
    pub operations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInfo {
    pub arn: String,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Why the aliases could not be read (they are then unknown, not none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases_error: Option<String>,
    /// `CUSTOMER` or `AWS`; missing when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// KMS `KeyState`; `null` means the key does not exist.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub state: Field<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub policy: Field<PolicyDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub grants: Field<Vec<GrantInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants_error: Option<String>,
    /// Tags: missing when not read (unknown), `null` or `{}` when it has none.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub tags: Field<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_error: Option<String>,
}

impl KeyInfo {
    /// An entry for the key `arn` of which nothing was read yet.
    pub fn unread(arn: &str) -> Self {
        Self {
            arn: arn.to_string(),
            aliases: Vec::new(),
            aliases_error: None,
            manager: None,
            state: Field::Unknown,
            state_error: None,
            policy: Field::Unknown,
            policy_error: None,
            grants: Field::Unknown,
            grants_error: None,
            tags: Field::Unknown,
            tags_error: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalInfo {
    /// User ARN, role ARN (with path) or account root ARN.
    pub arn: String,
    /// Unique id (`AIDA...`, `AROA...`), the base of `aws:userid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub tags: Field<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub policies: Field<Vec<NamedPolicy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub permissions_boundary: Field<NamedPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub trust_policy: Field<PolicyDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policy_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub session_policies: Field<Vec<PolicyDoc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_policies_error: Option<String>,
}

impl PrincipalInfo {
    /// An entry whose documents were not read at all.
    pub fn unread(arn: &str) -> Self {
        Self {
            arn: arn.to_string(),
            id: None,
            tags: Field::Unknown,
            tags_error: None,
            policies: Field::Unknown,
            policies_error: None,
            permissions_boundary: Field::Unknown,
            permissions_boundary_error: None,
            trust_policy: Field::Unknown,
            trust_policy_error: None,
            session_policies: Field::Unknown,
            session_policies_error: None,
        }
    }
}

/// Everything read about one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// The principal a live capture judged (the caller's identity when
    /// `--principal` was not given), so a replay without `--principal`
    /// judges the same identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountInfo>,
    #[serde(default)]
    pub buckets: Vec<BucketInfo>,
    #[serde(default)]
    pub keys: Vec<KeyInfo>,
    #[serde(default)]
    pub principals: Vec<PrincipalInfo>,
    /// Assumptions (`--assume`) the capture was judged with, so that a
    /// replay judges the same way. An extension of the original format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<Assumption>,
}

/// Why a snapshot was rejected. One line: the file, the field, the cause and
/// the position in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct SnapshotError {
    pub source_name: String,
    /// JSON pointer of the offending field (`/buckets/0/policy/Statement/1`).
    pub field: String,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl SnapshotError {
    fn render(&self) -> String {
        let mut out = format!("snapshot `{}`", self.source_name);
        if !self.field.is_empty() {
            out.push_str(&format!(": {}", self.field));
        }
        out.push_str(&format!(": {}", self.message));
        if let (Some(line), Some(column)) = (self.line, self.column) {
            out.push_str(&format!(" (line {line}, column {column})"));
        }
        out
    }
}

impl Snapshot {
    /// An empty snapshot of the current format.
    pub fn new(captured_at: Option<String>) -> Self {
        Self {
            format: SNAPSHOT_FORMAT.to_string(),
            captured_at,
            caller: None,
            accounts: BTreeMap::new(),
            buckets: Vec::new(),
            keys: Vec::new(),
            principals: Vec::new(),
            assumptions: Vec::new(),
        }
    }

    /// Adds assumptions, each once, in a stable order.
    pub fn assume(&mut self, assumptions: &[Assumption]) {
        self.assumptions.extend_from_slice(assumptions);
        self.assumptions.sort();
        self.assumptions.dedup();
    }

    /// Parses and validates a snapshot file's text. `source_name` names the
    /// file in errors.
    pub fn parse(source_name: &str, text: &str) -> Result<Self, SnapshotError> {
        let fail = |field: String, message: String, at: Option<(usize, usize)>| SnapshotError {
            source_name: source_name.to_string(),
            field,
            message,
            line: at.map(|(line, _)| line),
            column: at.map(|(_, column)| column),
        };
        if text.starts_with('\u{feff}') {
            return Err(fail(
                String::new(),
                "the file starts with a UTF-8 byte order mark (BOM); JSON has none: save it as UTF-8 without BOM".to_string(),
                Some((1, 1)),
            ));
        }
        // Syntax and duplicate keys first, without building a tree; then
        // `format` alone, so a file of another format says so before any of
        // its fields is judged; then the snapshot, deserialised once.
        crate::policy::strict_json::check(text).map_err(|error| {
            fail(
                String::new(),
                json_error_message(&error),
                Some((error.line(), error.column())),
            )
        })?;
        #[derive(Deserialize)]
        struct FormatOnly {
            format: Option<serde_json::Value>,
        }
        let format = serde_json::from_str::<FormatOnly>(text)
            .ok()
            .and_then(|only| only.format);
        // Positions are only needed for an error: index the text then, not
        // for every load (a large snapshot would pay for millions of them).
        let locate = |pointer: &str| {
            JsonPositions::new(text)
                .and_then(|index| index.locate(pointer))
                .map(|position| (position.line, position.column))
        };
        match format.as_ref().map(|format| (format, format.as_str())) {
            Some((_, Some(SNAPSHOT_FORMAT))) => {}
            Some((format, None)) => {
                return Err(fail(
                    "/format".to_string(),
                    format!(
                        "`format` is {}, expected the string `{SNAPSHOT_FORMAT}`",
                        json_kind(format)
                    ),
                    locate("/format"),
                ));
            }
            Some((_, Some(other))) => {
                return Err(fail(
                    "/format".to_string(),
                    format!("unknown format `{other}`, expected `{SNAPSHOT_FORMAT}`"),
                    locate("/format"),
                ));
            }
            None => {
                return Err(fail(
                    "/format".to_string(),
                    format!("missing `format`, expected `{SNAPSHOT_FORMAT}`"),
                    locate(""),
                ));
            }
        }
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let mut snapshot: Snapshot =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                let field = pointer_of(error.path());
                let inner = error.inner().to_string();
                match inner.split_once(POLICY_ERROR_MARK) {
                    Some((policy_path, message)) => {
                        let pointer = format!("{field}{policy_path}");
                        let at = locate(&pointer).or_else(|| locate(&field));
                        fail(pointer, message.to_string(), at)
                    }
                    None => {
                        let at = locate(&field);
                        fail(field, strip_serde_position(&inner), at)
                    }
                }
            })?;
        if let Err((field, message)) = snapshot.validate() {
            let at = locate(&field);
            return Err(fail(field, message, at));
        }
        snapshot.identify_documents();
        snapshot.note_source_pointers();
        Ok(snapshot)
    }

    /// The snapshot as pretty JSON text.
    pub fn to_json(&self) -> String {
        // Serialising plain data to a String cannot fail; fall back to an
        // empty object rather than panic.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Checks what serde cannot: ids and ARNs. Returns the field's pointer and
    /// the message.
    fn validate(&self) -> Result<(), (String, String)> {
        for (account, info) in &self.accounts {
            if !is_account_id(account) {
                return Err((
                    format!("/accounts/{account}"),
                    format!("`{account}` is not a 12-digit account id"),
                ));
            }
            validate_org_path(account, info)?;
        }
        let mut seen = std::collections::HashSet::new();
        for (index, bucket) in self.buckets.iter().enumerate() {
            let at = |field: &str| format!("/buckets/{index}{field}");
            unique(&mut seen, &bucket.name, at("/name"), "bucket")?;
            if !is_account_id(&bucket.account) {
                return Err((
                    at("/account"),
                    format!("`{}` is not a 12-digit account id", bucket.account),
                ));
            }
            if let Field::Some(encryption) = &bucket.encryption {
                exact(
                    at("/encryption/algorithm"),
                    &encryption.algorithm,
                    ALGORITHMS,
                )?;
            }
            if let Field::Some(ownership) = &bucket.ownership {
                exact(at("/ownership"), ownership, OWNERSHIPS)?;
            }
            let mut objects = std::collections::HashSet::new();
            for (number, object) in bucket.objects.iter().enumerate() {
                let at = |field: &str| format!("/buckets/{index}/objects/{number}{field}");
                unique(&mut objects, &object.key, at("/key"), "object")?;
                if let Field::Some(encryption) = &object.encryption {
                    exact(
                        at("/encryption/algorithm"),
                        &encryption.algorithm,
                        ALGORITHMS,
                    )?;
                }
                if let Field::Some(acl) = &object.acl {
                    for (grant, entry) in acl.iter().enumerate() {
                        exact(
                            at(&format!("/acl/{grant}/permission")),
                            &entry.permission,
                            ACL_PERMISSIONS,
                        )?;
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (index, key) in self.keys.iter().enumerate() {
            let at = |field: &str| format!("/keys/{index}{field}");
            unique(&mut seen, &key.arn, at("/arn"), "key")?;
            if let Some(manager) = &key.manager {
                exact(at("/manager"), manager, MANAGERS)?;
            }
            if let Field::Some(state) = &key.state {
                exact(at("/state"), state, KEY_STATES)?;
            }
            if let Field::Some(grants) = &key.grants {
                for (grant, entry) in grants.iter().enumerate() {
                    for (number, operation) in entry.operations.iter().enumerate() {
                        exact(
                            at(&format!("/grants/{grant}/operations/{number}")),
                            operation,
                            GRANT_OPERATIONS,
                        )?;
                    }
                }
            }
            let arn = Arn::parse(&key.arn)
                .map_err(|error| (format!("/keys/{index}/arn"), error.to_string()))?;
            if arn.service != "kms" || !arn.resource.starts_with("key/") {
                return Err((
                    format!("/keys/{index}/arn"),
                    format!("`{}` is not a KMS key ARN", key.arn),
                ));
            }
        }
        if let Some(caller) = &self.caller {
            Principal::parse(caller).map_err(|error| ("/caller".to_string(), error.to_string()))?;
        }
        if let Some(first) = self.partition() {
            let pointers = self
                .keys
                .iter()
                .enumerate()
                .map(|(index, _)| format!("/keys/{index}/arn"))
                .chain((0..self.principals.len()).map(|index| format!("/principals/{index}/arn")))
                .chain(self.caller.iter().map(|_| "/caller".to_string()));
            for (arn, pointer) in self.arns().zip(pointers) {
                if let Some(partition) = crate::policy::arn::partition_of(arn)
                    && partition != first
                {
                    return Err((
                        pointer,
                        format!(
                            "`{arn}` is in partition `{partition}` but the snapshot's other ARNs are in `{first}`; partitions are separate"
                        ),
                    ));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (index, principal) in self.principals.iter().enumerate() {
            unique(
                &mut seen,
                &principal.arn,
                format!("/principals/{index}/arn"),
                "principal",
            )?;
            Principal::parse(&principal.arn)
                .map_err(|error| (format!("/principals/{index}/arn"), error.to_string()))?;
        }
        Ok(())
    }

    /// The partition every ARN of the snapshot belongs to (keys, principals,
    /// caller); None when it names no ARN. [`Snapshot::parse`] refuses a
    /// snapshot that mixes partitions.
    pub fn partition(&self) -> Option<&str> {
        self.arns().find_map(crate::policy::arn::partition_of)
    }

    fn arns(&self) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .map(|key| key.arn.as_str())
            .chain(
                self.principals
                    .iter()
                    .map(|principal| principal.arn.as_str()),
            )
            .chain(self.caller.as_deref())
    }

    /// Points the evidence of a diagnosis into the snapshot file it was
    /// loaded from (`file` names it, `text` is its content): a cited
    /// statement of a document given there as a JSON object gets its line
    /// and column in the file. Only cited statements are located, each by a
    /// scan along its pointer; documents given as strings keep the line of
    /// their `jq`-printed form, and documents that did not come from the
    /// file (laid by a plan or overlay) have no position in it.
    pub fn locate_evidence(
        &self,
        file: &str,
        text: &str,
        diagnosis: &mut crate::diagnosis::Diagnosis,
    ) {
        // A statement cited by several links is located once.
        type Statement = (Arc<DocRef>, usize);
        let mut cache: std::collections::HashMap<Statement, Option<(usize, usize)>> =
            std::collections::HashMap::new();
        let evidence = diagnosis
            .operations
            .iter_mut()
            .flat_map(|operation| operation.actions.iter_mut())
            .flat_map(|action| action.links.iter_mut())
            .flat_map(|link| link.evidence.iter_mut());
        for evidence in evidence {
            let (Some(index), Some(id)) = (evidence.statement, &evidence.doc) else {
                continue;
            };
            let found = cache.entry((id.clone(), index)).or_insert_with(|| {
                let doc = self.get(id)?;
                let pointer = doc.source_pointer()?;
                if !doc.is_object() {
                    return None;
                }
                // The document's text is the file's, byte for byte: where
                // the statement starts in it was noted when it was read.
                let inner = doc.policy.statements().get(index)?.offset();
                let offset = match inner {
                    Some(inner) => crate::policy::positions::locate_pointer(text, pointer)? + inner,
                    None => {
                        let statement = if doc.policy.single_statement() {
                            format!("{pointer}/Statement")
                        } else {
                            format!("{pointer}/Statement/{index}")
                        };
                        crate::policy::positions::locate_pointer(text, &statement)?
                    }
                };
                let at = crate::policy::positions::position_at(text, offset);
                Some((at.line, at.column))
            });
            if let Some((line, column)) = *found {
                evidence.file_position = Some(crate::diagnosis::FilePosition {
                    file: file.to_string(),
                    line,
                    column,
                });
            }
        }
    }

    /// Gives every document its identity and the label reports and errors
    /// use (a rendering of the identity).
    pub fn identify_documents(&mut self) {
        self.walk_documents_mut(false, |id, label, _, doc| doc.identify(id, label));
    }

    /// Notes where each document is in the snapshot file being parsed.
    fn note_source_pointers(&mut self) {
        self.walk_documents_mut(true, |_, _, pointer, doc| {
            doc.source_pointer = pointer.map(Arc::from);
        });
    }

    /// Calls `visit` with every document, its identity, its label and (when
    /// `pointers`) its JSON pointer, in the order of [`Snapshot::documents`].
    fn walk_documents_mut(
        &mut self,
        pointers: bool,
        mut visit: impl FnMut(DocRef, String, Option<String>, &mut PolicyDoc),
    ) {
        use crate::policy::positions::escape_pointer_segment as segment;
        let pointer = |make: &dyn Fn() -> String| pointers.then(make);
        for (account, info) in &mut self.accounts {
            for (scp, kind, levels) in [
                (true, "scps", &mut info.scps),
                (false, "rcps", &mut info.rcps),
            ] {
                if let Field::Some(levels) = levels {
                    for (level, policies) in levels.iter_mut().enumerate() {
                        for (index, named) in policies.iter_mut().enumerate() {
                            let id = DocRef::organization(scp, account, level, index);
                            let label = docref::organization_label(scp, account, &named.name);
                            let at = pointer(&|| {
                                format!(
                                    "/accounts/{}/{kind}/{level}/{index}/document",
                                    segment(account)
                                )
                            });
                            visit(id, label, at, &mut named.document);
                        }
                    }
                }
            }
        }
        for (at, bucket) in self.buckets.iter_mut().enumerate() {
            if let Field::Some(doc) = &mut bucket.policy {
                let id = DocRef::BucketPolicy {
                    bucket: bucket.name.clone(),
                };
                let label = format!("bucket policy of `{}`", bucket.name);
                visit(id, label, pointer(&|| format!("/buckets/{at}/policy")), doc);
            }
        }
        for (at, key) in self.keys.iter_mut().enumerate() {
            if let Field::Some(doc) = &mut key.policy {
                let label = format!("key policy of `{}`", key.arn);
                let id = DocRef::KeyPolicy {
                    key: key.arn.clone(),
                };
                visit(id, label, pointer(&|| format!("/keys/{at}/policy")), doc);
            }
        }
        for (at, info) in self.principals.iter_mut().enumerate() {
            let arn = info.arn.clone();
            if let Field::Some(policies) = &mut info.policies {
                for (index, named) in policies.iter_mut().enumerate() {
                    let label = docref::identity_label(named, &arn);
                    let id = DocRef::IdentityPolicy {
                        principal: arn.clone(),
                        index,
                    };
                    let place = pointer(&|| format!("/principals/{at}/policies/{index}/document"));
                    visit(id, label, place, &mut named.document);
                }
            }
            if let Field::Some(named) = &mut info.permissions_boundary {
                let label = format!("permissions boundary `{}` of `{arn}`", named.name);
                let id = DocRef::PermissionsBoundary {
                    principal: arn.clone(),
                };
                let place = pointer(&|| format!("/principals/{at}/permissions_boundary/document"));
                visit(id, label, place, &mut named.document);
            }
            if let Field::Some(doc) = &mut info.trust_policy {
                let label = format!("trust policy of `{arn}`");
                let id = DocRef::TrustPolicy { role: arn.clone() };
                visit(
                    id,
                    label,
                    pointer(&|| format!("/principals/{at}/trust_policy")),
                    doc,
                );
            }
            if let Field::Some(docs) = &mut info.session_policies {
                for (index, doc) in docs.iter_mut().enumerate() {
                    let label = format!("session policy {index} of `{arn}`");
                    let id = DocRef::SessionPolicy {
                        principal: arn.clone(),
                        index,
                    };
                    let place = pointer(&|| format!("/principals/{at}/session_policies/{index}"));
                    visit(id, label, place, doc);
                }
            }
        }
    }
}

/// The name of a JSON value's type, for messages.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Whether a JSON text is a snapshot: its top-level `format` field names
/// this tool's snapshot format. Used before overwriting a file, so a
/// document that merely mentions the format name is never taken for one.
pub fn is_snapshot_text(text: &str) -> bool {
    #[derive(Deserialize)]
    struct FormatOnly {
        format: Option<serde_json::Value>,
    }
    serde_json::from_str::<FormatOnly>(text.strip_prefix('\u{feff}').unwrap_or(text))
        .ok()
        .and_then(|only| only.format)
        .and_then(|format| {
            format
                .as_str()
                .map(|name| name.starts_with("kms-s3-doctor/snapshot@"))
        })
        .unwrap_or(false)
}

/// Encryption algorithms as S3 spells them (`ServerSideEncryption`).
pub const ALGORITHMS: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];
/// S3 Object Ownership settings.
pub const OWNERSHIPS: &[&str] = &[
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];
/// KMS `KeyManager`.
pub const MANAGERS: &[&str] = &["AWS", "CUSTOMER"];
/// KMS `KeyState` (KMS API Reference, `KeyMetadata`).
pub const KEY_STATES: &[&str] = &[
    "Creating",
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "PendingReplicaDeletion",
    "Unavailable",
    "Updating",
];
/// S3 ACL grant permissions.
pub const ACL_PERMISSIONS: &[&str] = &["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"];
/// KMS `GrantOperation` (KMS API Reference, `CreateGrant`).
pub const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// An enumerated value must be spelled exactly as AWS spells it: a lenient
/// reading (`AWS:KMS` taken as "not SSE-KMS") drops links from the chain.
fn exact(pointer: String, value: &str, allowed: &[&str]) -> Result<(), (String, String)> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let expected: Vec<String> = allowed.iter().map(|name| format!("`{name}`")).collect();
    Err((
        pointer,
        format!(
            "`{value}` is not one of {} (spelled exactly as AWS spells it)",
            expected.join(", ")
        ),
    ))
}

/// An account's `org_path` must be a path AWS would build, in the
/// organization `org_id` names, and absent (`null`) only with `org_id`.
fn validate_org_path(account: &str, info: &AccountInfo) -> Result<(), (String, String)> {
    let at = format!(
        "/accounts/{}/org_path",
        crate::policy::positions::escape_pointer_segment(account)
    );
    match (&info.org_path, &info.org_id) {
        (Field::Some(path), org_id) => {
            crate::org_path::validate(path).map_err(|message| (at.clone(), message))?;
            let organization = crate::org_path::organization_of(path);
            match org_id {
                Field::Some(id) if id != organization => Err((
                    at,
                    format!("`{path}` is in organization `{organization}` but `org_id` is `{id}`"),
                )),
                Field::None => Err((
                    at,
                    format!("`{path}` is a path in an organization but `org_id` is `null`"),
                )),
                _ => Ok(()),
            }
        }
        (Field::None, Field::Some(id)) => Err((
            at,
            format!("`org_path` is `null` (no organization) but `org_id` is `{id}`"),
        )),
        _ => Ok(()),
    }
}

/// Refuses a second entry for the same name: which one would count is a guess.
fn unique<'a>(
    seen: &mut std::collections::HashSet<&'a str>,
    name: &'a str,
    pointer: String,
    what: &str,
) -> Result<(), (String, String)> {
    if !seen.insert(name) {
        return Err((
            pointer,
            format!("a second entry for {what} `{name}`; a snapshot holds one per {what}"),
        ));
    }
    Ok(())
}

/// A list read as `null` has nothing in it.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// serde_json's message without its own " at line L column C" suffix (the
/// position is reported separately).
fn json_error_message(error: &serde_json::Error) -> String {
    strip_serde_position(&error.to_string())
}

fn strip_serde_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// serde_path_to_error's path (`buckets[0].policy`) as a JSON pointer
/// (`/buckets/0/policy`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

#[cfg(test)]
mod tests;
