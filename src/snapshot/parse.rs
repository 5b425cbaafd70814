//! Reading and validating a snapshot file: syntax, `format`, the fields
//! serde checks, then what serde cannot (account ids, ARNs, partitions,
//! exact enumerations, unique entries, the `Principal` element each kind of
//! document must or must not have), each error with its field's pointer
//! and its line and column. A snapshot is never half-evaluated.

use serde::Deserialize;

use super::{
    AccountInfo, DocRef, Field, POLICY_ERROR_MARK, SNAPSHOT_FORMAT, Snapshot, SnapshotError,
};
use crate::policy::arn::{Arn, Principal, is_account_id};
use crate::policy::positions::JsonPositions;

impl Snapshot {
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
                        fail(field, plain_words(&strip_serde_position(&inner)), at)
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
        super::gates::validate_access_points(&self.access_points)?;
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
            if let Some(kind) = &bucket.bucket_type {
                exact(at("/type"), kind, BUCKET_TYPES)?;
            }
            // A directory bucket's name is `NAME--AZID--x-s3` and its ARN
            // holds its region (S3 User Guide, "Directory bucket naming
            // rules"): without the region neither the ARN policies name nor
            // the encryption context can be known.
            if bucket.is_directory() {
                if !bucket.name.ends_with("--x-s3") {
                    return Err((
                        at("/name"),
                        format!(
                            "`{}` is not a directory bucket name (`NAME--AZID--x-s3`)",
                            bucket.name
                        ),
                    ));
                }
                if bucket.region.is_none() {
                    return Err((
                        at("/region"),
                        "a directory bucket needs its `region`: its ARN holds it".to_string(),
                    ));
                }
                // Directory buckets support SSE-S3 and SSE-KMS only (S3 API
                // Reference, "CreateSession", `ServerSideEncryption`).
                if let Field::Some(encryption) = &bucket.encryption
                    && encryption.algorithm == "aws:kms:dsse"
                {
                    return Err((
                        at("/encryption/algorithm"),
                        "a directory bucket supports `AES256` and `aws:kms` only".to_string(),
                    ));
                }
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
            super::replication::validate(bucket)
                .map_err(|(field, message)| (at(&field), message))?;
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
                    super::grant_fields::check(entry, &at(&format!("/grants/{grant}")))?;
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
            Principal::parse_caller(caller)
                .map_err(|error| ("/caller".to_string(), error.to_string()))?;
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
        for (doc, policy_doc) in self.documents() {
            if let Err((path, message)) = check_principal_element(&doc, &policy_doc.policy) {
                let pointer = self.pointer_of(&doc).unwrap_or_default();
                // Inside a document given as text the file has no pointer.
                let field = if policy_doc.is_object() {
                    format!("{pointer}{path}")
                } else {
                    pointer
                };
                return Err((field, message));
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
        if let Field::Some(credentials) = &self.credentials {
            for (session, entry) in credentials {
                super::credentials::validate(session, entry)?;
            }
        }
        Ok(())
    }
}

/// Whether each statement's `Principal`/`NotPrincipal` is what AWS accepts in
/// a document of this kind; AWS refuses the document otherwise, so the tool
/// does too. Returns the offending element's pointer inside the document and
/// the message.
///
/// - IAM User Guide, "AWS JSON policy elements: Principal": "You must use the
///   Principal element in resource-based policies" (bucket policy, key
///   policy, trust policy) and cannot use it in identity-based policies
///   (identity policies, permissions boundaries, session policies).
/// - IAM User Guide, "AWS JSON policy elements: NotPrincipal": not in an
///   identity-based policy nor in a role trust policy; SCPs and RCPs do not
///   support it.
/// - AWS Organizations User Guide, "SCP syntax": an SCP has no `Principal`.
/// - AWS Organizations User Guide, "RCP syntax": an RCP statement's
///   `Principal` must be `"*"` (conditions narrow it).
pub(crate) fn check_principal_element(
    doc: &DocRef,
    policy: &crate::policy::Policy,
) -> Result<(), (String, String)> {
    for statement in policy.statements() {
        let at = |element: &str| {
            if policy.single_statement() {
                format!("/Statement/{element}")
            } else {
                format!("/Statement/{}/{element}", statement.index())
            }
        };
        let element = statement.principal_element();
        let fail = |element: &str, message: String| Err((at(element), message));
        match doc {
            DocRef::BucketPolicy { .. }
            | DocRef::AccessPointPolicy { .. }
            | DocRef::KeyPolicy { .. }
            | DocRef::TrustPolicy { .. } => match element {
                None => {
                    return Err((
                        at("").trim_end_matches('/').to_string(),
                        format!(
                            "a statement of a {} has no `Principal`: AWS requires one in a resource-based policy (IAM User Guide, \"AWS JSON policy elements: Principal\")",
                            kind_name(doc)
                        ),
                    ));
                }
                Some(("NotPrincipal", _)) if matches!(doc, DocRef::TrustPolicy { .. }) => {
                    return fail(
                            "NotPrincipal",
                            "a role trust policy cannot use `NotPrincipal` (IAM User Guide, \"AWS JSON policy elements: NotPrincipal\")".to_string(),
                        );
                }
                Some(_) => {}
            },
            DocRef::IdentityPolicy { .. }
            | DocRef::PermissionsBoundary { .. }
            | DocRef::SessionPolicy { .. }
            | DocRef::Scp { .. } => {
                if let Some((name, _)) = element {
                    let page = match doc {
                        DocRef::Scp { .. } => "AWS Organizations User Guide, \"SCP syntax\"",
                        _ => "IAM User Guide, \"AWS JSON policy elements: Principal\"",
                    };
                    return fail(
                        name,
                        format!(
                            "a {} cannot have `{name}`: it applies to the principals it is attached to ({page})",
                            kind_name(doc)
                        ),
                    );
                }
            }
            DocRef::Rcp { .. } => match element {
                Some(("Principal", serde_json::Value::String(star))) if star == "*" => {}
                Some((name, _)) => {
                    return fail(
                        name,
                        format!(
                            "an RCP statement's principal must be `\"Principal\": \"*\"`, not this `{name}` (AWS Organizations User Guide, \"RCP syntax\")"
                        ),
                    );
                }
                None => {
                    return Err((
                        at("").trim_end_matches('/').to_string(),
                        "an RCP statement has no `Principal`: it must be `\"Principal\": \"*\"` (AWS Organizations User Guide, \"RCP syntax\")".to_string(),
                    ));
                }
            },
        }
    }
    Ok(())
}

/// How an error names a document's kind.
fn kind_name(doc: &DocRef) -> &'static str {
    match doc {
        DocRef::BucketPolicy { .. } => "bucket policy",
        DocRef::AccessPointPolicy { .. } => "access point policy",
        DocRef::KeyPolicy { .. } => "key policy",
        DocRef::TrustPolicy { .. } => "role trust policy",
        DocRef::IdentityPolicy { .. } => "identity policy",
        DocRef::PermissionsBoundary { .. } => "permissions boundary",
        DocRef::SessionPolicy { .. } => "session policy",
        DocRef::Scp { .. } => "SCP",
        DocRef::Rcp { .. } => "RCP",
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

/// Encryption algorithms as S3 spells them (`ServerSideEncryption`).
/// `buckets[].type`.
pub const BUCKET_TYPES: &[&str] = &["general-purpose", "directory"];
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
pub(super) fn exact(
    pointer: String,
    value: &str,
    allowed: &[&str],
) -> Result<(), (String, String)> {
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
            crate::policy::org_path::validate(path).map_err(|message| (at.clone(), message))?;
            let organization = crate::policy::org_path::organization_of(path);
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

/// serde_json's message without its own " at line L column C" suffix (the
/// position is reported separately).
fn json_error_message(error: &serde_json::Error) -> String {
    strip_serde_position(&error.to_string())
}

/// serde's words for a value of the wrong type or an unknown name, in the
/// snapshot's own terms: what the field expects, then what it holds
/// (`expected a string, found the number 5`), JSON's names for kinds (a
/// list, an object) rather than Rust's (sequence, map, struct).
fn plain_words(message: &str) -> String {
    let kind = |text: &str| -> String {
        let text = text.trim();
        let (head, value) = match text.split_once(' ') {
            Some((head, value)) => (head, value.trim()),
            None => (text, ""),
        };
        match head {
            "integer" | "floating" => {
                let number = value.trim_start_matches("point ").trim_matches('`');
                format!("the number {number}")
            }
            "string" => format!("the string {value}"),
            "boolean" => format!("`{}`", value.trim_matches('`')),
            "sequence" | "a" if text.contains("sequence") => "a list".to_string(),
            "map" => "an object".to_string(),
            "unit" | "null" => "`null`".to_string(),
            _ => text.to_string(),
        }
    };
    let expected = |text: &str| -> String {
        let text = text.trim();
        if text.starts_with("struct ") || text == "a map" || text.starts_with("a map ") {
            "an object".to_string()
        } else if text == "a sequence" || text.starts_with("a sequence ") {
            "a list".to_string()
        } else if matches!(text, "u8" | "u16" | "u32" | "u64" | "usize") {
            "a whole number, 0 or more".to_string()
        } else if matches!(text, "i32" | "i64" | "f64") {
            "a number".to_string()
        } else if text == "a boolean" {
            "`true` or `false`".to_string()
        } else {
            text.to_string()
        }
    };
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, wanted)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {}", expected(wanted), kind(found));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ")
        && let Some((value, allowed)) = rest.split_once(", expected ")
    {
        return format!("{value} is not {allowed} (spelled exactly as AWS spells it)");
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("{field} is missing: it is required here");
    }
    message.to_string()
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
mod words {
    use super::plain_words;

    /// A snapshot error says what the field expects and what it
    /// holds, in JSON's terms, not serde's.
    #[test]
    fn type_errors_name_the_expected_form_in_json_terms() {
        assert_eq!(
            plain_words("invalid type: integer `5`, expected a string"),
            "expected a string, found the number 5"
        );
        assert_eq!(
            plain_words("invalid type: sequence, expected a string"),
            "expected a string, found a list"
        );
        assert_eq!(
            plain_words("invalid type: map, expected a sequence"),
            "expected a list, found an object"
        );
        assert_eq!(
            plain_words("invalid type: string \"x\", expected struct Bucket"),
            "expected an object, found the string \"x\""
        );
        assert_eq!(
            plain_words("missing field `name`"),
            "`name` is missing: it is required here"
        );
        assert_eq!(plain_words("something else"), "something else");
    }
}
