//! Live reads for replication: the source bucket's versioning and
//! replication configuration (read with the bucket's other documents), then
//! each destination bucket (location, policy, default encryption, ownership,
//! versioning) and each replica key, read with the profile of the account
//! that owns it when one was given (`--profile`, `--principal-profile`).

use aws_sdk_s3::types::ReplicationRule as SdkRule;

use super::aws::{Failure, classify};
use super::{Ctx, GatherError, ReadErr, join, kms};
use crate::snapshot::{BucketInfo, Field, KeyInfo, PolicyDoc, ReplicationConfig, ReplicationRule};

/// A field read, or why not.
type Read<T> = (Field<T>, Option<String>);

/// `s3:GetBucketVersioning` of a bucket; `failed` turns a failure into the
/// field's error (or a fatal error) given the error code that means "there
/// is none".
pub(crate) async fn versioning(
    ctx: &Ctx<'_>,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    failed: &impl Fn(&str, Failure, &str) -> Result<Read<()>, GatherError>,
) -> Result<Read<String>, GatherError> {
    match s3.get_bucket_versioning().bucket(bucket).send().await {
        // S3 API Reference, "GetBucketVersioning": a bucket whose
        // versioning was never enabled returns no status.
        Ok(output) => Ok((
            Field::from_option(output.status().map(|status| status.as_str().to_string())),
            None,
        )),
        Err(error) => failed(
            "s3:GetBucketVersioning",
            classify(&error, &ctx.endpoint),
            "",
        )
        .map(retype),
    }
}

/// `s3:GetReplicationConfiguration` of a bucket (`GetBucketReplication`),
/// `failed` as for [`versioning`].
pub(crate) async fn replication(
    ctx: &Ctx<'_>,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    failed: &impl Fn(&str, Failure, &str) -> Result<Read<()>, GatherError>,
) -> Result<Read<ReplicationConfig>, GatherError> {
    match s3.get_bucket_replication().bucket(bucket).send().await {
        Ok(output) => Ok((
            Field::from_option(output.replication_configuration().map(|config| {
                ReplicationConfig {
                    role: config.role().to_string(),
                    rules: config.rules().iter().map(rule).collect(),
                }
            })),
            None,
        )),
        Err(error) => failed(
            "s3:GetReplicationConfiguration",
            classify(&error, &ctx.endpoint),
            "ReplicationConfigurationNotFoundError",
        )
        .map(retype),
    }
}

/// A field's "none" or "unknown" as a field of another type.
fn retype<T>((field, error): (Field<()>, Option<String>)) -> Read<T> {
    match field {
        Field::None => (Field::None, error),
        _ => (Field::Unknown, error),
    }
}

/// One rule as the snapshot holds it. The rule's prefix: its filter's (also
/// inside `And`), else the legacy `Prefix`; a filter on tags makes which
/// objects it selects unknown.
fn rule(rule: &SdkRule) -> ReplicationRule {
    let prefix = match rule.filter() {
        Some(filter) => {
            let tagged =
                filter.tag().is_some() || filter.and().is_some_and(|and| !and.tags().is_empty());
            match filter
                .prefix()
                .or_else(|| filter.and().and_then(|and| and.prefix()))
            {
                _ if tagged => Field::Unknown,
                Some(prefix) => Field::Some(prefix.to_string()),
                None => Field::None,
            }
        }
        // A configuration of the first version has a rule-level `Prefix`
        // instead of a filter; S3 still returns it as written.
        #[allow(deprecated)]
        None => Field::from_option(rule.prefix().map(str::to_string)),
    };
    let destination = rule.destination();
    ReplicationRule {
        id: rule.id().map(str::to_string),
        status: rule.status().as_str().to_string(),
        prefix,
        sse_kms_encrypted_objects: rule
            .source_selection_criteria()
            .and_then(|criteria| criteria.sse_kms_encrypted_objects())
            .is_some_and(|objects| objects.status().as_str() == "Enabled"),
        destination_bucket: destination
            .map(|destination| destination.bucket().to_string())
            .unwrap_or_default(),
        destination_account: destination
            .and_then(|destination| destination.account())
            .map(str::to_string),
        replica_kms_key: destination
            .and_then(|destination| destination.encryption_configuration())
            .and_then(|encryption| encryption.replica_kms_key_id())
            .map(str::to_string),
        owner_override: destination
            .and_then(|destination| destination.access_control_translation())
            .is_some_and(|translation| translation.owner().as_str() == "Destination"),
    }
}

/// Every destination bucket of `source`'s replication rules that is not
/// `source` itself, and every replica key. A destination with no
/// `Account` in its rule is taken to be of the source's account.
pub(crate) async fn read_destinations(
    ctx: &Ctx<'_>,
    source: &BucketInfo,
    partition: &str,
) -> Result<(Vec<BucketInfo>, Vec<KeyInfo>), GatherError> {
    let Field::Some(config) = &source.replication else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut destinations: Vec<(String, String, bool)> = Vec::new();
    for rule in &config.rules {
        let name = rule.destination_bucket_name().to_string();
        let named = rule.destination_account.is_some();
        let account = rule
            .destination_account
            .clone()
            .unwrap_or_else(|| source.account.clone());
        if name != source.name && !destinations.iter().any(|(known, ..)| *known == name) {
            destinations.push((name, account, named));
        }
    }
    let buckets = join::try_join_all(
        destinations
            .iter()
            .map(|(name, account, named)| read_destination(ctx, name, account, *named)),
    )
    .await?;
    let region_of = |name: &str| {
        buckets
            .iter()
            .find(|bucket| bucket.name == name)
            .and_then(|bucket| bucket.region.clone())
    };
    let keys = join::try_join_all(config.rules.iter().filter_map(|rule| {
        let key = rule.replica_kms_key.as_deref()?;
        let account = rule
            .destination_account
            .clone()
            .unwrap_or_else(|| source.account.clone());
        let region = region_of(rule.destination_bucket_name())
            .or_else(|| source.region.clone())
            .unwrap_or_default();
        Some(async move { kms::read_key(ctx, key, &region, &account, partition).await })
    }))
    .await?;
    let accounts: Vec<&str> = destinations
        .iter()
        .map(|(_, account, _)| account.as_str())
        .filter(|account| *account != source.account)
        .collect();
    join::try_join_all(
        accounts
            .into_iter()
            .map(|account| super::org::account_info(ctx, account)),
    )
    .await?;
    Ok((buckets, keys.into_iter().flatten().collect()))
}

/// One destination bucket, with its account's profile when one was given
/// (else the resource profile, which another account's bucket usually
/// refuses: its documents are then unknown, with the reason). `named`: the
/// rule names the account (else it is taken to be the source's).
async fn read_destination(
    ctx: &Ctx<'_>,
    name: &str,
    account: &str,
    named: bool,
) -> Result<BucketInfo, GatherError> {
    let own = ctx.reader_for(account).await?;
    let reader = own.unwrap_or(&ctx.resource);
    let region = match reader
        .s3(&reader.region())
        .get_bucket_location()
        .bucket(name)
        .send()
        .await
    {
        Ok(output) => Some(
            output
                .location_constraint()
                .map(|constraint| constraint.as_str().to_string())
                .filter(|region| !region.is_empty())
                .map(|region| match region.as_str() {
                    "EU" => "eu-west-1".to_string(),
                    _ => region,
                })
                .unwrap_or_else(|| "us-east-1".to_string()),
        ),
        Err(error) => match classify(&error, &ctx.endpoint) {
            Failure::Fatal(fatal) => return Err(fatal),
            _ => None,
        },
    };
    let s3 = reader.s3(region.as_deref().unwrap_or(&reader.region()));
    let failed = |permission: &str, failure: Failure, none_code: &str| match failure {
        Failure::NotFound(code) if code == none_code => Ok((Field::None, None)),
        Failure::NotFound(code) if code == "NoSuchBucket" => Ok((
            Field::Unknown,
            Some(format!(
                "the destination bucket `{name}` does not exist ({permission}: {code})"
            )),
        )),
        other => match ctx.unreadable(reader, permission, other) {
            ReadErr::Fatal(fatal) => Err(fatal),
            ReadErr::Unreadable(why) => Ok((Field::Unknown, Some(why))),
        },
    };
    let policy = async {
        match s3.get_bucket_policy().bucket(name).send().await {
            Ok(output) => {
                let text = output.policy().unwrap_or_default();
                Ok(
                    match PolicyDoc::from_text(&format!("bucket policy of `{name}`"), text) {
                        Ok(doc) => (Field::Some(doc), None),
                        Err(error) => (
                            Field::Unknown,
                            Some(format!(
                                "the bucket policy read from AWS does not parse: {error}"
                            )),
                        ),
                    },
                )
            }
            Err(error) => failed(
                "s3:GetBucketPolicy",
                classify(&error, &ctx.endpoint),
                "NoSuchBucketPolicy",
            )
            .map(retype),
        }
    };
    let encryption = async {
        match s3.get_bucket_encryption().bucket(name).send().await {
            Ok(output) => Ok((super::s3::default_encryption(&output), None)),
            Err(error) => failed(
                "s3:GetEncryptionConfiguration",
                classify(&error, &ctx.endpoint),
                "ServerSideEncryptionConfigurationNotFoundError",
            )
            .map(retype),
        }
    };
    let ownership = async {
        match s3.get_bucket_ownership_controls().bucket(name).send().await {
            Ok(output) => Ok((super::s3::ownership(&output), None)),
            Err(error) => failed(
                "s3:GetBucketOwnershipControls",
                classify(&error, &ctx.endpoint),
                "OwnershipControlsNotFoundError",
            )
            .map(retype),
        }
    };
    let (policy, encryption, ownership, versioning) = tokio::try_join!(
        policy,
        encryption,
        ownership,
        versioning(ctx, &s3, name, &failed)
    )?;
    let unread = |what: &str| {
        Some(format!(
            "not read for a replication destination: its {what}"
        ))
    };
    Ok(BucketInfo {
        // S3 Replication has no directory bucket destinations.
        bucket_type: None,
        public_access_block: Field::Unknown,
        public_access_block_error: unread("Block Public Access settings"),
        name: name.to_string(),
        account: account.to_string(),
        account_error: match (named, own.is_some()) {
            (true, true) => None,
            (true, false) => Some(format!(
                "taken from the replication rule; no profile given is of account {account}"
            )),
            (false, _) => Some(format!(
                "the replication rule names no destination account: taken to be the source bucket's, {account}"
            )),
        },
        region,
        policy: policy.0,
        policy_error: policy.1,
        encryption: encryption.0,
        encryption_error: encryption.1,
        ownership: ownership.0,
        ownership_error: ownership.1,
        tags: Field::Unknown,
        tags_error: unread("tags"),
        versioning: versioning.0,
        versioning_error: versioning.1,
        replication: Field::Unknown,
        replication_error: unread("replication configuration"),
        objects: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::{
        AccessControlTranslation, Destination, EncryptionConfiguration, OwnerOverride,
        ReplicationRule as SdkRule, ReplicationRuleAndOperator, ReplicationRuleFilter,
        ReplicationRuleStatus, SourceSelectionCriteria, SseKmsEncryptedObjects,
        SseKmsEncryptedObjectsStatus, Tag,
    };

    use super::rule;
    use crate::snapshot::Field;

    fn destination() -> Destination {
        Destination::builder()
            .bucket("arn:aws:s3:::replica")
            .build()
            .expect("destination")
    }

    fn with_filter(filter: Option<ReplicationRuleFilter>) -> SdkRule {
        SdkRule::builder()
            .status(ReplicationRuleStatus::Enabled)
            .set_filter(filter)
            .destination(destination())
            .build()
            .expect("rule")
    }

    #[test]
    fn a_rule_s_prefix_comes_from_its_filter_and_a_tag_filter_is_unknown() {
        let prefix = |filter| rule(&with_filter(filter)).prefix;
        let tag = || Tag::builder().key("k").value("v").build().expect("tag");
        assert_eq!(prefix(None), Field::None);
        assert_eq!(
            prefix(Some(ReplicationRuleFilter::builder().build())),
            Field::None
        );
        assert_eq!(
            prefix(Some(
                ReplicationRuleFilter::builder().prefix("tax/").build()
            )),
            Field::Some("tax/".to_string())
        );
        assert_eq!(
            prefix(Some(
                ReplicationRuleFilter::builder()
                    .and(ReplicationRuleAndOperator::builder().prefix("tax/").build())
                    .build()
            )),
            Field::Some("tax/".to_string())
        );
        assert_eq!(
            prefix(Some(ReplicationRuleFilter::builder().tag(tag()).build())),
            Field::Unknown
        );
        assert_eq!(
            prefix(Some(
                ReplicationRuleFilter::builder()
                    .and(
                        ReplicationRuleAndOperator::builder()
                            .prefix("tax/")
                            .tags(tag())
                            .build()
                    )
                    .build()
            )),
            Field::Unknown
        );
    }

    #[test]
    fn sse_kms_selection_replica_key_and_owner_override_are_read() {
        let plain = rule(&with_filter(None));
        assert!(!plain.sse_kms_encrypted_objects && !plain.owner_override);
        assert_eq!(plain.replica_kms_key, None);
        let full = SdkRule::builder()
            .id("r")
            .status(ReplicationRuleStatus::Disabled)
            .source_selection_criteria(
                SourceSelectionCriteria::builder()
                    .sse_kms_encrypted_objects(
                        SseKmsEncryptedObjects::builder()
                            .status(SseKmsEncryptedObjectsStatus::Enabled)
                            .build()
                            .expect("criteria"),
                    )
                    .build(),
            )
            .destination(
                Destination::builder()
                    .bucket("arn:aws:s3:::replica")
                    .account("222222222222")
                    .encryption_configuration(
                        EncryptionConfiguration::builder()
                            .replica_kms_key_id("arn:aws:kms:eu-central-1:222222222222:key/k")
                            .build(),
                    )
                    .access_control_translation(
                        AccessControlTranslation::builder()
                            .owner(OwnerOverride::Destination)
                            .build()
                            .expect("translation"),
                    )
                    .build()
                    .expect("destination"),
            )
            .build()
            .expect("rule");
        let read = rule(&full);
        assert_eq!(read.id.as_deref(), Some("r"));
        assert_eq!(read.status, "Disabled");
        assert!(read.sse_kms_encrypted_objects && read.owner_override);
        assert_eq!(read.destination_account.as_deref(), Some("222222222222"));
        assert_eq!(
            read.replica_kms_key.as_deref(),
            Some("arn:aws:kms:eu-central-1:222222222222:key/k")
        );
    }
}
