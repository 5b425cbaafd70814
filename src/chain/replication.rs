//! Live replication as a judged operation: which rule of the source
//! bucket's replication configuration S3 applies to the object, and the
//! actions S3 performs with the replication role for it, on the source side
//! and on the destination side (S3 User Guide, "Setting up permissions for
//! live replication", "Replicating encrypted objects", "Changing the
//! replica owner"). The destination side is judged against the destination
//! bucket and the replica key in their own account
//! (`links::replication::judge_destination`).

use crate::snapshot::{Field, ReplicationRule};

use super::{KeyChoice, KeySource, KeyUse, PlannedAction, Setup, Target};

/// What a destination-side action is authorized against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaTarget {
    /// The destination bucket's name.
    pub bucket: String,
    /// The rule's `destination_account`, for a destination bucket the
    /// snapshot does not hold.
    pub account: Option<String>,
    /// The replica object or the replica key, inside the destination.
    pub target: Target,
}

/// Which rule S3 applies to the object.
pub(crate) enum RuleChoice<'s> {
    /// The configuration was not read.
    Unknown(String),
    /// The bucket has no replication configuration.
    NoConfiguration,
    /// No enabled rule selects the object; the reason says why.
    NoRule(String),
    /// Whether an enabled rule selects the object hangs on what is not known.
    Undecided(String),
    /// The rule S3 applies for each destination: every enabled rule that
    /// selects the object replicates it to its own destination (S3 User
    /// Guide, "Replicating objects within and across Regions": one object
    /// can be replicated to several destinations). Never empty.
    Rules(Vec<&'s ReplicationRule>),
    /// Several enabled rules select the object for one destination and
    /// differ in what the judge reads: S3 applies the one of highest
    /// `Priority`, which the snapshot does not hold.
    Ambiguous(String),
}

/// The rule S3 applies to the request's object. S3 User Guide, "Setting up
/// live replication overview": a rule selects the objects its filter's key
/// prefix names (an empty filter, every object), and only an enabled rule
/// replicates.
pub(crate) fn rule_for<'s>(setup: &Setup<'s>) -> RuleChoice<'s> {
    let bucket = setup.bucket;
    let config = match &bucket.replication {
        Field::Unknown => {
            return RuleChoice::Unknown(match &bucket.replication_error {
                Some(error) => format!("the replication configuration could not be read: {error}"),
                None => "the replication configuration was not read".to_string(),
            });
        }
        Field::None => return RuleChoice::NoConfiguration,
        Field::Some(config) => config,
    };
    let key = setup.object_key.as_str();
    let mut selecting = Vec::new();
    let mut undecided = Vec::new();
    for rule in config.rules.iter().filter(|rule| rule.enabled()) {
        match &rule.prefix {
            Field::None => selecting.push(rule),
            Field::Some(prefix) if prefix.is_empty() => selecting.push(rule),
            // Without --object the key is a placeholder: a prefix says
            // nothing about the object the user means.
            Field::Some(_) if setup.request.object.is_none() => undecided.push(rule),
            Field::Some(prefix) if key.starts_with(prefix.as_str()) => selecting.push(rule),
            Field::Some(_) => {}
            Field::Unknown => undecided.push(rule),
        }
    }
    if !selecting.is_empty() {
        let mut chosen: Vec<&ReplicationRule> = Vec::new();
        for rule in selecting {
            match chosen
                .iter()
                .find(|known| known.destination_bucket == rule.destination_bucket)
            {
                None => chosen.push(rule),
                Some(known) if same_effect(known, rule) => {}
                Some(_) => {
                    return RuleChoice::Ambiguous(format!(
                        "several enabled rules select the object for `{}` and differ (SSE-KMS selection, replica key, owner override or account); S3 applies the one of highest priority, which is not read",
                        rule.destination_bucket
                    ));
                }
            }
        }
        return RuleChoice::Rules(chosen);
    }
    let name = |rule: &ReplicationRule| match &rule.id {
        Some(id) => format!("`{id}`"),
        None => "without an id".to_string(),
    };
    if let Some(rule) = undecided.first() {
        let why = match rule.prefix {
            Field::Unknown => "its filter is not known (a tag filter, say)".to_string(),
            _ => "no --object was given, so which objects its prefix selects is not known"
                .to_string(),
        };
        return RuleChoice::Undecided(format!(
            "whether enabled rule {} selects the object is not known: {why}",
            name(rule)
        ));
    }
    let enabled = config.rules.iter().filter(|rule| rule.enabled()).count();
    RuleChoice::NoRule(match enabled {
        0 => "every rule of the configuration is Disabled".to_string(),
        _ => format!("no enabled rule's prefix selects `{key}`"),
    })
}

/// Whether two rules for one destination replicate the object the same
/// way, as far as the judge reads them.
fn same_effect(one: &ReplicationRule, other: &ReplicationRule) -> bool {
    one.sse_kms_encrypted_objects == other.sse_kms_encrypted_objects
        && one.replica_kms_key == other.replica_kms_key
        && one.owner_override == other.owner_override
        && one.destination_account == other.destination_account
}

/// The actions replicating the object needs. Source side: the role reads
/// the configuration and lists the bucket (`s3:GetReplicationConfiguration`,
/// `s3:ListBucket` on the bucket), reads the object version and its ACL
/// (`s3:GetObjectVersionForReplication`, `s3:GetObjectVersionAcl`), and
/// decrypts an SSE-KMS object (`kms:Decrypt` on its key). Destination side:
/// `s3:ReplicateObject` (which also covers the object's tags), with owner
/// override `s3:ObjectOwnerOverrideToBucketOwner`, and for SSE-KMS
/// `kms:Encrypt` on the replica key, plus `kms:Decrypt` on it when the
/// destination uses S3 Bucket Keys (S3 User Guide, "Replicating encrypted
/// objects": "Amazon S3 Bucket Keys and replication").
///
/// Not planned: `s3:ReplicateDelete` (delete markers, not the object),
/// `s3:GetObjectVersionTagging` (without it S3 replicates the object without
/// its tags).
pub(super) fn plan(setup: &Setup<'_>) -> Vec<PlannedAction> {
    let object = || Target::Object(setup.object_key.clone());
    let action = |action: &'static str, target: Target| PlannedAction { action, target };
    let mut actions = vec![
        action("s3:GetReplicationConfiguration", Target::Bucket),
        action("s3:ListBucket", Target::Bucket),
        action("s3:GetObjectVersionForReplication", object()),
        action("s3:GetObjectVersionAcl", object()),
    ];
    let source_key = super::read_key(setup);
    if let Some(key) = &source_key {
        actions.push(action("kms:Decrypt", Target::Key(key.clone())));
    }
    let RuleChoice::Rules(rules) = rule_for(setup) else {
        return actions;
    };
    for rule in rules {
        let replica = |target: Target| {
            Target::Replica(Box::new(ReplicaTarget {
                bucket: rule.destination_bucket_name().to_string(),
                account: rule.destination_account.clone(),
                target,
            }))
        };
        actions.push(action("s3:ReplicateObject", replica(object())));
        if rule.owner_override {
            actions.push(action(
                "s3:ObjectOwnerOverrideToBucketOwner",
                replica(object()),
            ));
        }
        if let (Some(_), Some(replica_key)) = (&source_key, &rule.replica_kms_key) {
            // Not knowing whether the destination uses S3 Bucket Keys, the
            // replica key is judged without one and the kms:Encrypt carries
            // an unknown `replication-configuration` link saying so.
            let bucket_key = destination_bucket_key(setup, rule).unwrap_or(false);
            let key_use = KeyUse {
                choice: KeyChoice::Named(replica_key.clone()),
                source: KeySource::ReplicationRule,
                bucket_key,
                object: setup.object_key.clone(),
            };
            actions.push(action("kms:Encrypt", replica(Target::Key(key_use.clone()))));
            if bucket_key {
                actions.push(action("kms:Decrypt", replica(Target::Key(key_use))));
            }
        }
    }
    actions
}

/// Whether the destination bucket uses S3 Bucket Keys (its default
/// encryption's setting): the replica's encryption context is then the
/// destination bucket's ARN (S3 User Guide, "Replicating encrypted
/// objects"). DSSE-KMS never uses one (S3 User Guide, "Using dual-layer
/// server-side encryption with AWS KMS keys (DSSE-KMS)"). `None` when the
/// destination or its default encryption is not known.
fn destination_bucket_key(setup: &Setup<'_>, rule: &ReplicationRule) -> Option<bool> {
    let bucket = setup
        .snapshot
        .buckets
        .iter()
        .find(|bucket| bucket.name == rule.destination_bucket_name())?;
    match &bucket.encryption {
        Field::Some(encryption) if encryption.algorithm == super::kms_hop::DSSE_KMS => Some(false),
        Field::Some(encryption) => Some(encryption.bucket_key.unwrap_or(false)),
        // No default encryption: no Bucket Key setting either.
        Field::None => Some(false),
        Field::Unknown => None,
    }
}

/// For a request without `--object`: the destination's placeholder object
/// ARN and its bucket's objects, so that fixes scoped to the placeholder are
/// scoped to the destination's objects instead.
pub(super) fn placeholder_scopes(setup: &Setup<'_>) -> Vec<(String, String)> {
    if !setup
        .request
        .operations
        .contains(&crate::diagnosis::Operation::Replicate)
    {
        return Vec::new();
    }
    let Field::Some(config) = &setup.bucket.replication else {
        return Vec::new();
    };
    config
        .rules
        .iter()
        .map(|rule| {
            let bucket = rule.destination_bucket_name();
            (
                format!("arn:aws:s3:::{bucket}/{}", super::PLACEHOLDER_OBJECT),
                format!("arn:aws:s3:::{bucket}/*"),
            )
        })
        .collect()
}
