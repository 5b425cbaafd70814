//! The snapshot: every document of the chain as read from AWS (or written by
//! hand), in the `kms-s3-doctor/snapshot@1` format (docs/snapshot-format.md). It is the seam
//! between gathering and judging: live mode fills one, `--snapshot` loads one,
//! and one judge reads it. Loading validates everything up front (ARNs,
//! policies), so a snapshot is never half-evaluated.
//!
//! This file holds the model; `parse.rs` reads and validates a file,
//! `docref.rs` names each policy document by its place (`DocRef`),
//! `documents.rs` walks the documents (identity, labels, positions in the
//! file), `assumption.rs` holds what `--assume` stands in for.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::policy::Policy;

pub mod admit;
mod assumption;
mod credentials;
pub mod directory;
mod docref;
mod documents;
pub mod gaad;
mod gates;
mod grant_fields;
pub mod lazy;
pub mod merge;
mod parse;
mod partial_copy;
mod principal_index;
mod replication;
pub mod shard;
pub use assumption::{AssumeError, Assumption};
pub use credentials::SessionCredentials;
pub(crate) use credentials::parse_time;
pub use docref::{DocRef, OrgLevel};
pub use gates::{
    AccessPointInfo, NETWORK_ORIGINS, PublicAccessBlock, PublicAccessSetting, setting_of,
};
pub(crate) use parse::check_principal_element;
pub use parse::{ACL_PERMISSIONS, ALGORITHMS, GRANT_OPERATIONS, KEY_STATES, MANAGERS, OWNERSHIPS};
pub(crate) use principal_index::Lookup;
pub use replication::{
    RULE_STATUSES, ReplicationConfig, ReplicationRule, VERSIONING_STATUSES, bucket_name_of,
};

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
pub(super) const POLICY_ERROR_MARK: char = '\u{1f}';

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
    /// The account's Block Public Access settings (S3 Control).
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub public_access_block: Field<PublicAccessBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block_error: Option<String>,
    /// Why an organization sweep could not read (all of) this account's
    /// principals, buckets, keys or access points: what is missing of the
    /// account is unknown, not absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principals_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_points_error: Option<String>,
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
    /// An object's whole encryption context when its writer added to
    /// `aws:s3:arn` (CloudTrail adds `aws:cloudtrail:arn`); missing when not
    /// known, and then only `aws:s3:arn` is assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<BTreeMap<String, String>>,
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
    /// `Enabled` or `Suspended`; `null` when versioning was never enabled.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub versioning: Field<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning_error: Option<String>,
    /// The live replication configuration; `null` when there is none.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub replication: Field<ReplicationConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_error: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub objects: Vec<ObjectInfo>,
    /// `general-purpose` (also when missing) or `directory` (S3 Express
    /// One Zone).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub bucket_type: Option<String>,
    /// The bucket's own Block Public Access settings.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub public_access_block: Field<PublicAccessBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block_error: Option<String>,
}

impl BucketInfo {
    /// A directory bucket (S3 Express One Zone): `s3express` actions, ARNs
    /// and encryption context.
    pub fn is_directory(&self) -> bool {
        self.bucket_type.as_deref() == Some(BUCKET_TYPE_DIRECTORY)
    }
}

/// `buckets[].type` of a directory bucket.
pub const BUCKET_TYPE_DIRECTORY: &str = "directory";

/// Constraints of a KMS grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
    /// The `aws:SourceArn` a grant to a service principal is limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantInfo {
    /// Grantee principal ARN (or account root); empty when the grantee is a
    /// service principal (`grantee_service_principal`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub grantee: String,
    /// A service principal the grant is to (`cloudfront.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee_service_principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    /// When the grant was created (ISO 8601): a grant younger than KMS's
    /// eventual-consistency window may not be in effect yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
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
    /// S3 access points a request may go through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_points: Vec<AccessPointInfo>,
    /// Assumptions (`--assume`) the capture was judged with, so that a
    /// replay judges the same way. An extension of the original format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<Assumption>,
    /// Session credentials' lifetimes by session ARN: missing when not
    /// known, `null` or `{}` when none were recorded.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub credentials: Field<BTreeMap<String, SessionCredentials>>,
    /// Principals by account and name, built on first lookup.
    #[serde(skip)]
    principal_index: principal_index::PrincipalIndexCache,
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
            access_points: Vec::new(),
            assumptions: Vec::new(),
            credentials: Field::Unknown,
            principal_index: Default::default(),
        }
    }

    /// Adds assumptions, each once, in a stable order.
    pub fn assume(&mut self, assumptions: &[Assumption]) {
        self.assumptions.extend_from_slice(assumptions);
        self.assumptions.sort();
        self.assumptions.dedup();
    }

    /// The snapshot as pretty JSON text.
    pub fn to_json(&self) -> String {
        // Serialising plain data to a String cannot fail; fall back to an
        // empty object rather than panic.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// The access point named by its ARN or its alias.
    pub fn access_point(&self, arn_or_alias: &str) -> Option<&AccessPointInfo> {
        self.access_points
            .iter()
            .find(|point| point.arn == arn_or_alias || point.alias.as_deref() == Some(arn_or_alias))
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

/// A list read as `null` has nothing in it.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
