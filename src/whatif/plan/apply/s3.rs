//! The S3 resources of a plan: `aws_s3_bucket_policy`,
//! `aws_s3_bucket_server_side_encryption_configuration` and
//! `aws_s3_bucket_ownership_controls`, written to `buckets[]`.

use serde_json::Value;

use super::{Builder, Doc, until_apply};
use crate::snapshot::{BucketInfo, Encryption, Field};
use crate::whatif::overlay::Target;
use crate::whatif::plan::{Action, Instance, Val};

impl Builder<'_> {
    /// The overlay's entry for a bucket the snapshot has; a bucket it lacks
    /// has no known account, and the note says it was left out.
    fn bucket_entry(&mut self, instance: &Instance) -> Option<(String, &mut BucketInfo)> {
        let name = match self.get(instance, &["bucket"]) {
            Val::Known(Value::String(name)) => name,
            _ => {
                self.notes.push(format!(
                    "the bucket of `{}` is unknown until apply; it is not judged",
                    instance.address
                ));
                return None;
            }
        };
        if !self.out.buckets.iter().any(|b| b.name == name) {
            let Some(base) = self.base.buckets.iter().find(|b| b.name == name) else {
                self.notes.push(format!(
                    "bucket `{name}` of `{}` is not in the snapshot; it is not judged",
                    instance.address
                ));
                return None;
            };
            self.out.buckets.push(BucketInfo {
                name: name.clone(),
                account: base.account.clone(),
                account_error: None,
                tags: Field::Unknown,
                tags_error: None,
                region: None,
                policy: Field::Unknown,
                policy_error: None,
                encryption: Field::Unknown,
                encryption_error: None,
                ownership: Field::Unknown,
                ownership_error: None,
                versioning: Field::Unknown,
                versioning_error: None,
                replication: Field::Unknown,
                replication_error: None,
                objects: Vec::new(),
                bucket_type: None,
                public_access_block: Field::Unknown,
                public_access_block_error: None,
            });
        }
        let bucket = self.out.buckets.iter_mut().find(|b| b.name == name)?;
        Some((name, bucket))
    }

    pub(super) fn buckets(&mut self) -> Result<(), String> {
        let plan = self.plan;
        for instance in plan.of_kind("aws_s3_bucket_policy") {
            let policy = if instance.action == Action::Delete {
                Doc::Absent
            } else {
                self.doc(instance, "policy")?
            };
            let Some((name, bucket)) = self.bucket_entry(instance) else {
                continue;
            };
            let unknown = matches!(policy, Doc::Unknown(_));
            match policy {
                Doc::Known(doc) => {
                    bucket.policy = Field::Some(doc);
                    bucket.policy_error = None;
                }
                Doc::Absent => {
                    bucket.policy = Field::None;
                    bucket.policy_error = None;
                }
                Doc::Unknown(error) => {
                    bucket.policy = Field::Unknown;
                    bucket.policy_error = Some(error);
                }
            }
            self.source(Target::BucketPolicy(name), &instance.address, unknown);
        }
        for instance in plan.of_kind("aws_s3_bucket_server_side_encryption_configuration") {
            let encryption = self.encryption(instance);
            let Some((name, bucket)) = self.bucket_entry(instance) else {
                continue;
            };
            let unknown = encryption.is_err();
            match encryption {
                Ok(encryption) => {
                    bucket.encryption = Field::Some(encryption);
                    bucket.encryption_error = None;
                }
                Err(error) => {
                    bucket.encryption = Field::Unknown;
                    bucket.encryption_error = Some(error);
                }
            }
            self.source(Target::BucketEncryption(name), &instance.address, unknown);
        }
        for instance in plan.of_kind("aws_s3_bucket_ownership_controls") {
            let ownership = if instance.action == Action::Delete {
                Ok(None)
            } else {
                match self.get(instance, &["rule", "0", "object_ownership"]) {
                    Val::Known(Value::String(value)) => Ok(Some(value)),
                    Val::Unknown(by) => Err(until_apply(&by)),
                    _ => Ok(None),
                }
            };
            let Some((name, bucket)) = self.bucket_entry(instance) else {
                continue;
            };
            let unknown = ownership.is_err();
            match ownership {
                Ok(value) => {
                    bucket.ownership = Field::from_option(value);
                    bucket.ownership_error = None;
                }
                Err(error) => {
                    bucket.ownership = Field::Unknown;
                    bucket.ownership_error = Some(error);
                }
            }
            self.source(Target::Ownership(name), &instance.address, unknown);
        }
        Ok(())
    }

    fn encryption(&self, instance: &Instance) -> Result<Encryption, String> {
        if instance.action == Action::Delete {
            // Deleting the configuration makes S3 fall back to SSE-S3
            // (S3 API Reference, DeleteBucketEncryption).
            return Ok(Encryption {
                algorithm: "AES256".to_string(),
                key: None,
                bucket_key: None,
                context: None,
            });
        }
        let rule = ["rule", "0", "apply_server_side_encryption_by_default", "0"];
        let at = |field: &str| {
            let mut parts = rule.to_vec();
            parts.push(field);
            self.get(instance, &parts)
        };
        let algorithm = match at("sse_algorithm") {
            Val::Known(Value::String(algorithm)) => algorithm,
            Val::Unknown(by) => return Err(until_apply(&by)),
            _ => return Err(format!("`{}` sets no `sse_algorithm`", instance.address)),
        };
        let key = match at("kms_master_key_id") {
            Val::Known(Value::String(key)) if !key.is_empty() => Some(key),
            Val::Unknown(by) => {
                return Err(format!(
                    "its key (`kms_master_key_id` of `{}`) is {}",
                    instance.address,
                    until_apply(&by)
                ));
            }
            _ => None,
        };
        let bucket_key = match self.get(instance, &["rule", "0", "bucket_key_enabled"]) {
            Val::Known(Value::Bool(enabled)) => Some(enabled),
            Val::Unknown(by) => return Err(until_apply(&by)),
            _ => None,
        };
        Ok(Encryption {
            algorithm,
            key,
            bucket_key,
            context: None,
        })
    }
}
