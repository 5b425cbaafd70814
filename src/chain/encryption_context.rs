//! When the judge assumes an object's encryption context: S3 always adds
//! `aws:s3:arn`, but a writer may add more (CloudTrail adds
//! `aws:cloudtrail:arn`), and HeadObject does not return the context. When
//! the snapshot does not record it (`objects[].encryption.context`) and a
//! key policy or grant tests other encryption-context keys, the report says
//! the read was judged with `aws:s3:arn` alone.

use crate::snapshot::{Field, KeyInfo};

use super::{KeyChoice, Setup};

/// Whether a condition key is an encryption-context key other than
/// `aws:s3:arn`, which the judge always knows.
fn tests_other_context(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "kms:encryptioncontextkeys"
        || key
            .strip_prefix("kms:encryptioncontext:")
            .is_some_and(|name| name != "aws:s3:arn")
}

fn key_tests_other_context(info: &KeyInfo) -> bool {
    let in_policy = info.policy.known().is_some_and(|doc| {
        doc.policy.statements().iter().any(|statement| {
            let value = statement.to_value();
            value
                .get("Condition")
                .and_then(serde_json::Value::as_object)
                .is_some_and(|operators| {
                    operators.values().any(|keys| {
                        keys.as_object()
                            .is_some_and(|keys| keys.keys().any(|key| tests_other_context(key)))
                    })
                })
        })
    });
    let in_grants = info.grants.known().is_some_and(|grants| {
        grants.iter().any(|grant| {
            grant.constraints.as_ref().is_some_and(|constraints| {
                [
                    &constraints.encryption_context_subset,
                    &constraints.encryption_context_equals,
                ]
                .into_iter()
                .flatten()
                .any(|pairs| pairs.keys().any(|key| key != "aws:s3:arn"))
            })
        })
    });
    in_policy || in_grants
}

/// The note, when the object read is encrypted with a key whose policy or
/// grants test encryption-context keys the snapshot does not record.
pub(crate) fn assumed_note(setup: &Setup<'_>) -> Option<String> {
    let object = setup.object?;
    let Field::Some(encryption) = &object.encryption else {
        return None;
    };
    if !encryption.uses_kms() || encryption.context.is_some() {
        return None;
    }
    let configured = encryption.key.as_deref()?;
    let resolved = super::keys::resolve(setup, &KeyChoice::Named(configured.to_string()));
    let tests_other = resolved.info.is_some_and(key_tests_other_context);
    tests_other.then(|| {
        format!(
            "the encryption context of `{}` is not recorded, so the KMS call that reads it was judged with `aws:s3:arn` alone; the key's policy or grants test other encryption-context keys, which a writer such as CloudTrail adds: HeadObject does not return the context, so give it as `objects[].encryption.context` in the snapshot",
            object.key
        )
    })
}
