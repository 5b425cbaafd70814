//! A bucket's versioning state and live replication configuration as the
//! snapshot holds them, and their validation: what AWS itself would refuse
//! in a replication configuration is bad input here too.

use serde::{Deserialize, Serialize};

use super::{BucketInfo, Field};
use crate::policy::arn::{Arn, Principal, PrincipalKind, is_account_id};

/// S3 `GetBucketVersioning` statuses. A bucket whose versioning was never
/// enabled returns no status at all: the snapshot says `null`.
pub const VERSIONING_STATUSES: &[&str] = &["Enabled", "Suspended"];

/// A replication rule's `Status` (S3 API Reference, "ReplicationRule").
pub const RULE_STATUSES: &[&str] = &["Enabled", "Disabled"];

/// A source bucket's replication configuration (S3 API Reference,
/// "ReplicationConfiguration"): the role S3 assumes, and the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationConfig {
    /// The IAM role S3 assumes to replicate.
    pub role: String,
    pub rules: Vec<ReplicationRule>,
}

/// One rule of a replication configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// The key prefix the rule's filter selects; `null` selects every
    /// object, and missing means the filter is not known (a tag filter,
    /// say), so whether the rule selects an object is unknown.
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub prefix: Field<String>,
    /// `SourceSelectionCriteria.SseKmsEncryptedObjects` is `Enabled`.
    /// Missing means off, as it is in S3: "By default, Amazon S3 doesn't
    /// replicate objects that are stored at rest using server-side
    /// encryption with KMS keys" (S3 User Guide, "Replicating encrypted
    /// objects").
    #[serde(default)]
    pub sse_kms_encrypted_objects: bool,
    /// The destination bucket's ARN (`arn:aws:s3:::NAME`).
    pub destination_bucket: String,
    /// `Destination.Account`, the destination bucket owner's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_account: Option<String>,
    /// `Destination.EncryptionConfiguration.ReplicaKmsKeyID`: a key ARN or
    /// an alias ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_kms_key: Option<String>,
    /// `Destination.AccessControlTranslation.Owner` is `Destination`.
    #[serde(default)]
    pub owner_override: bool,
}

impl ReplicationRule {
    /// The destination bucket's name, from its ARN.
    pub fn destination_bucket_name(&self) -> &str {
        bucket_name_of(&self.destination_bucket).unwrap_or(&self.destination_bucket)
    }

    pub fn enabled(&self) -> bool {
        self.status == "Enabled"
    }
}

/// The bucket an S3 ARN names (`arn:aws:s3:::NAME` or `arn:aws:s3:::NAME/KEY`).
pub fn bucket_name_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("s3:::")?;
    let name = rest.split('/').next()?;
    (!name.is_empty()).then_some(name)
}

/// Checks a bucket's `versioning` and `replication`. Returns the field's
/// pointer under the bucket and the message.
pub(super) fn validate(bucket: &BucketInfo) -> Result<(), (String, String)> {
    if let Field::Some(status) = &bucket.versioning {
        super::parse::exact("/versioning".to_string(), status, VERSIONING_STATUSES)?;
    }
    let Field::Some(config) = &bucket.replication else {
        return Ok(());
    };
    let role_is_role = Principal::parse(&config.role)
        .map(|role| matches!(role.kind, PrincipalKind::AssumedRole { .. }))
        .map_err(|error| ("/replication/role".to_string(), error.to_string()))?;
    if !role_is_role || !config.role.contains(":role/") {
        return Err((
            "/replication/role".to_string(),
            format!(
                "`{}` is not an IAM role ARN: a replication configuration names the role S3 assumes (S3 API Reference, \"ReplicationConfiguration\")",
                config.role
            ),
        ));
    }
    if config.rules.is_empty() {
        return Err((
            "/replication/rules".to_string(),
            "a replication configuration has at least one rule (S3 API Reference, \"ReplicationConfiguration\")".to_string(),
        ));
    }
    for (index, rule) in config.rules.iter().enumerate() {
        let at = |field: &str| format!("/replication/rules/{index}{field}");
        super::parse::exact(at("/status"), &rule.status, RULE_STATUSES)?;
        if bucket_name_of(&rule.destination_bucket).is_none()
            || rule.destination_bucket.contains('/')
        {
            return Err((
                at("/destination_bucket"),
                format!(
                    "`{}` is not a bucket ARN (`arn:aws:s3:::NAME`)",
                    rule.destination_bucket
                ),
            ));
        }
        if let Some(account) = &rule.destination_account
            && !is_account_id(account)
        {
            return Err((
                at("/destination_account"),
                format!("`{account}` is not a 12-digit account id"),
            ));
        }
        if let Some(key) = &rule.replica_kms_key {
            // S3 API Reference, "EncryptionConfiguration": ReplicaKmsKeyID
            // is the key's ARN or an alias ARN.
            let arn =
                Arn::parse(key).map_err(|error| (at("/replica_kms_key"), error.to_string()))?;
            if arn.service != "kms"
                || !(arn.resource.starts_with("key/") || arn.resource.starts_with("alias/"))
            {
                return Err((
                    at("/replica_kms_key"),
                    format!("`{key}` is not a KMS key ARN or alias ARN"),
                ));
            }
        }
        if rule.owner_override && rule.destination_account.is_none() {
            // S3 User Guide, "Changing the replica owner": the owner
            // override needs the `Account` element beside
            // `AccessControlTranslation`; S3 refuses the configuration
            // without it.
            return Err((
                at("/destination_account"),
                "a rule with `owner_override` names the destination bucket owner's account in `destination_account` (S3 User Guide, \"Changing the replica owner\")".to_string(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_come_from_bucket_and_object_arns() {
        assert_eq!(bucket_name_of("arn:aws:s3:::dest"), Some("dest"));
        assert_eq!(bucket_name_of("arn:aws:s3:::dest/a/b"), Some("dest"));
        assert_eq!(bucket_name_of("arn:aws-cn:s3:::dest"), Some("dest"));
        assert_eq!(bucket_name_of("arn:aws:s3:::"), None);
        assert_eq!(bucket_name_of("arn:aws:kms:eu-west-1:1:key/k"), None);
        assert_eq!(bucket_name_of("dest"), None);
    }
}
