//! The links of a replication of their own: `replication-configuration`
//! (does a rule of the source bucket replicate this object, as this role,
//! with SSE-KMS objects selected) and `versioning` (on the source and on the
//! destination), and the destination side of replication judged in the
//! destination's own account.

use crate::diagnosis::{ActionResult, Fix, FixChange, LinkId, LinkResult};
use crate::policy::arn::ArnParts;
use crate::policy::context::RequestContext;
use crate::policy::{Caller, Decision, Evaluation, Request};
use crate::snapshot::{BucketInfo, Field, ReplicationRule};

use super::super::context::Shared;
use super::super::replication::{ReplicaTarget, RuleChoice, rule_for};
use super::super::{PlannedAction, Setup, read_encryption};
use super::{ActionFacts, fail, pass, unknown};

/// The replication links an action carries: the configuration and the
/// source's versioning with the source read S3 makes for replication, the
/// destination's versioning with the write of the replica.
pub(super) fn links(facts: &ActionFacts<'_, '_>) -> Vec<LinkResult> {
    match facts.action {
        "s3:GetObjectVersionForReplication" => vec![
            configuration(facts),
            versioning(facts.setup.bucket, "source"),
        ],
        "s3:ReplicateObject" => vec![versioning(facts.setup.bucket, "destination")],
        // Only replication asks for kms:Encrypt, on the replica key, with
        // the destination in the bucket's place.
        "kms:Encrypt" if facts.setup.bucket.encryption == Field::Unknown => {
            vec![bucket_key_not_known(facts.setup.bucket)]
        }
        _ => Vec::new(),
    }
}

/// Judges a destination-side action as the same action on the destination
/// bucket (or with the replica key) would be judged, with the destination
/// in place of the source bucket. A destination the snapshot does not hold
/// is judged with its documents unknown, in the account the rule names.
pub(super) fn judge_destination(
    setup: &Setup<'_>,
    action: &'static str,
    replica: &ReplicaTarget,
) -> ActionResult {
    let held = setup
        .snapshot
        .buckets
        .iter()
        .find(|bucket| bucket.name == replica.bucket);
    let not_read = |what: &str| {
        format!(
            "the destination bucket `{}` is not in the snapshot, so its {what} is not known",
            replica.bucket
        )
    };
    let stand_in;
    let bucket = match (held, &replica.account) {
        (Some(bucket), _) => bucket,
        (None, Some(account)) => {
            stand_in = BucketInfo {
                // S3 Replication has no directory bucket destinations.
                bucket_type: None,
                name: replica.bucket.clone(),
                account: account.clone(),
                account_error: None,
                region: None,
                policy: Field::Unknown,
                policy_error: Some(not_read("policy")),
                encryption: Field::Unknown,
                encryption_error: Some(not_read("default encryption")),
                ownership: Field::Unknown,
                ownership_error: Some(not_read("object ownership")),
                tags: Field::Unknown,
                tags_error: Some(not_read("tags")),
                versioning: Field::Unknown,
                versioning_error: Some(not_read("versioning")),
                public_access_block: Field::Unknown,
                public_access_block_error: Some(not_read("Block Public Access settings")),
                replication: Field::Unknown,
                replication_error: None,
                objects: Vec::new(),
            };
            &stand_in
        }
        (None, None) => {
            // Without its account, not even which account's policies apply
            // is known.
            let reason = format!(
                "the destination bucket `{}` is not in the snapshot and the rule names no destination account: its owner, and so every policy that applies, is not known",
                replica.bucket
            );
            let links = vec![unknown(
                LinkId::BucketPolicy,
                reason,
                Some("read the destination bucket with a profile of its account (`--principal-profile` or `--profile`), or add it to the snapshot's buckets".to_string()),
            )];
            return ActionResult {
                action: action.to_string(),
                resource: format!("arn:aws:s3:::{}/{}", replica.bucket, setup.object_key),
                verdict: ActionResult::verdict_of(&links),
                links,
            };
        }
    };
    // The contexts of the source side describe the source bucket (its
    // region and tags): the destination builds its own.
    let contexts = Shared::default();
    let destination = Setup {
        snapshot: setup.snapshot,
        bucket,
        object_key: setup.object_key.clone(),
        // The replica is written, not read: nothing is known of it.
        object: None,
        source: setup.source.clone(),
        role: setup.role.clone(),
        request: setup.request,
        contexts: &contexts,
        // Replication writes to the destination bucket itself.
        access_point: None,
        source_info: setup.source_info,
        role_info: setup.role_info,
        detail: setup.detail,
        documents: std::cell::OnceCell::new(),
    };
    super::judge_action(
        &destination,
        &PlannedAction {
            action,
            target: replica.target.clone(),
        },
    )
}

/// S3 User Guide, "Requirements and considerations for replication": "Both
/// source and destination buckets must have versioning enabled." A bucket
/// whose versioning is suspended, or was never enabled, breaks replication.
/// The replica key was judged as if the destination used no S3 Bucket Key
/// (context the object's ARN, no kms:Decrypt): with one, S3 also needs
/// kms:Decrypt and the context is the destination bucket's ARN (S3 User
/// Guide, "Replicating encrypted objects"), and which holds is not known.
fn bucket_key_not_known(destination: &BucketInfo) -> LinkResult {
    unknown(
        LinkId::ReplicationConfiguration,
        format!(
            "whether the destination bucket `{}` uses S3 Bucket Keys is not known (its default encryption was not read): the replica key was judged for replicas without one; with one, S3 also needs kms:Decrypt on it and the encryption context is the destination bucket's ARN",
            destination.name
        ),
        Some(format!(
            "add the destination's `encryption` to the snapshot, or read it with a profile of account {}",
            destination.account
        )),
    )
}

fn versioning(bucket: &BucketInfo, side: &str) -> LinkResult {
    let name = &bucket.name;
    match &bucket.versioning {
        Field::Some(status) if status == "Enabled" => pass(
            LinkId::Versioning,
            format!("versioning is Enabled on the {side} bucket `{name}`"),
        ),
        Field::Some(status) => fail(
            LinkId::Versioning,
            format!(
                "versioning is {status} on the {side} bucket `{name}`: replication needs versioning enabled on both the source and the destination (S3 User Guide, \"Requirements and considerations for replication\")"
            ),
            Some(enable_versioning(bucket)),
        ),
        Field::None => fail(
            LinkId::Versioning,
            format!(
                "versioning was never enabled on the {side} bucket `{name}`: replication needs versioning enabled on both the source and the destination (S3 User Guide, \"Requirements and considerations for replication\")"
            ),
            Some(enable_versioning(bucket)),
        ),
        Field::Unknown => unknown(
            LinkId::Versioning,
            match &bucket.versioning_error {
                Some(error) => format!(
                    "the versioning of the {side} bucket `{name}` could not be read: {error}"
                ),
                None => format!("the versioning of the {side} bucket `{name}` was not read"),
            },
            Some(format!(
                "read it (s3:GetBucketVersioning) with a profile of account {}, or add `versioning` to the snapshot's bucket",
                bucket.account
            )),
        ),
    }
}

fn enable_versioning(bucket: &BucketInfo) -> Fix {
    Fix {
        account: bucket.account.clone(),
        change: FixChange::Other,
        document: LinkId::Versioning.as_str().to_string(),
        statement: None,
        note: Some(format!(
            "enable versioning on `{0}`: `aws s3api put-bucket-versioning --bucket {0} --versioning-configuration Status=Enabled`",
            bucket.name
        )),
        ..Default::default()
    }
}

/// Whether the source bucket's replication configuration replicates this
/// object at all, as the role judged.
fn configuration(facts: &ActionFacts<'_, '_>) -> LinkResult {
    let setup = facts.setup;
    let bucket = setup.bucket;
    let link = LinkId::ReplicationConfiguration;
    let rules = match rule_for(setup) {
        RuleChoice::Unknown(reason) => {
            return unknown(
                link,
                format!("{reason} for `{}`", bucket.name),
                Some(format!(
                    "read it (s3:GetReplicationConfiguration) with a profile of account {}, or add `replication` to the snapshot's bucket",
                    bucket.account
                )),
            );
        }
        RuleChoice::NoConfiguration => {
            return fail(
                link,
                format!(
                    "`{}` has no replication configuration: nothing replicates its objects",
                    bucket.name
                ),
                Some(rule_change(
                    bucket,
                    "add a replication configuration naming the role and the destination (`aws s3api put-bucket-replication`)".to_string(),
                )),
            );
        }
        RuleChoice::NoRule(reason) => {
            return fail(
                link,
                format!(
                    "{reason} in the replication configuration of `{}`: S3 does not replicate the object (S3 User Guide, \"Setting up live replication overview\")",
                    bucket.name
                ),
                Some(rule_change(
                    bucket,
                    format!("enable a rule whose filter selects `{}`", setup.object_key),
                )),
            );
        }
        RuleChoice::Undecided(reason) => {
            return unknown(
                link,
                reason,
                Some("give --object, or the rule's `prefix` in the snapshot".to_string()),
            );
        }
        RuleChoice::Ambiguous(reason) => {
            return unknown(
                link,
                reason,
                Some("keep one rule per destination that selects the object, or judge with the snapshot's rules narrowed to the one of highest priority".to_string()),
            );
        }
        RuleChoice::Rules(rules) => rules,
    };
    let label_of = |rule: &ReplicationRule| match &rule.id {
        Some(id) => format!("rule `{id}`"),
        None => "the rule without an id".to_string(),
    };
    if let Some(config) = bucket.replication.known()
        && !same_role(&config.role, facts.actor_arn())
    {
        return fail(
            link,
            format!(
                "the replication configuration of `{}` names the role `{}`: S3 replicates as that role, not as `{}`",
                bucket.name,
                config.role,
                facts.actor_arn()
            ),
            Some(Fix {
                account: bucket.account.clone(),
                change: FixChange::Other,
                document: link.as_str().to_string(),
                statement: None,
                note: Some(format!(
                    "S3 uses the configuration's role: check that one (`--principal {}`), or name `{}` as the role of `{}`'s replication configuration (`aws s3api put-bucket-replication` with the whole configuration)",
                    config.role,
                    facts.actor_arn(),
                    bucket.name
                )),
                ..Default::default()
            }),
        );
    }
    if let Some(broken) = trust(facts) {
        return broken;
    }
    // Every rule that selects the object must replicate it: one that
    // cannot leaves the object's replication FAILED, whatever the others do.
    let mut undecided = None;
    for rule in &rules {
        let label = label_of(rule);
        for broken in [
            encryption_rule(setup, rule, &label),
            replica_key_region(setup, rule, &label),
        ]
        .into_iter()
        .flatten()
        {
            match broken.status {
                crate::diagnosis::LinkStatus::Fail => return broken,
                _ => undecided = undecided.or(Some(broken)),
            }
        }
    }
    if let Some(undecided) = undecided {
        return undecided;
    }
    let replicated: Vec<String> = rules
        .iter()
        .map(|rule| {
            let kms = match (&rule.replica_kms_key, rule.sse_kms_encrypted_objects) {
                (Some(key), true) => {
                    format!(" (SSE-KMS objects selected, replicas encrypted with `{key}`)")
                }
                _ => String::new(),
            };
            format!(
                "{} replicates it to `{}`{kms}",
                label_of(rule),
                rule.destination_bucket
            )
        })
        .collect();
    pass(
        link,
        format!(
            "in the replication configuration of `{}`, {} `{}`: {}",
            bucket.name,
            match rules.len() {
                1 => "one enabled rule selects".to_string(),
                n => format!("{n} enabled rules select"),
            },
            setup.object_key,
            replicated.join("; ")
        ),
    )
}

/// S3 User Guide, "Setting up permissions for live replication": S3
/// replicates by assuming the role, whose trust policy must let the service
/// principal `s3.amazonaws.com` call `sts:AssumeRole`. What S3 puts in the
/// request context when it assumes the role is not read, so a condition of
/// the trust policy leaves the answer unknown. `None` when it allows.
fn trust(facts: &ActionFacts<'_, '_>) -> Option<LinkResult> {
    let link = LinkId::ReplicationConfiguration;
    let role = facts.actor_arn();
    let help = Some(format!(
        "read the role (iam:GetRole) with a profile of account {}, or add its `trust_policy` to the snapshot",
        facts.actor.account
    ));
    let doc = match facts
        .actor_info
        .map(|info| (&info.trust_policy, &info.trust_policy_error))
    {
        None => {
            return Some(unknown(
                link,
                format!(
                    "whether `{role}` trusts s3.amazonaws.com is not known: the role is not in the snapshot"
                ),
                help,
            ));
        }
        Some((Field::Some(doc), _)) => doc,
        Some((Field::None, _)) => {
            return Some(untrusted(role, facts, "has no trust policy"));
        }
        Some((Field::Unknown, error)) => {
            return Some(unknown(
                link,
                match error {
                    Some(error) => format!(
                        "whether `{role}` trusts s3.amazonaws.com is not known: its trust policy could not be read ({error})"
                    ),
                    None => format!(
                        "whether `{role}` trusts s3.amazonaws.com is not known: its trust policy was not read"
                    ),
                },
                help,
            ));
        }
    };
    let caller = Caller {
        account: String::new(),
        principal_arn: String::new(),
        session_arn: None,
        is_role_session: false,
        service: Some("s3.amazonaws.com".to_string()),
        has_permissions_boundary: false,
    };
    let context = RequestContext::unknown_by_default();
    let request = Request {
        action: "sts:AssumeRole",
        resource: role,
        caller: &caller,
        context: &context,
    };
    match Evaluation::of([&*doc.policy], &request).decide() {
        Decision::Allow => None,
        Decision::ExplicitDeny => Some(untrusted(
            role,
            facts,
            "denies s3.amazonaws.com sts:AssumeRole in its trust policy",
        )),
        Decision::ImplicitDeny => Some(untrusted(
            role,
            facts,
            "has no trust policy statement letting s3.amazonaws.com assume it",
        )),
        Decision::Unknown => Some(unknown(
            link,
            format!(
                "whether `{role}`'s trust policy lets s3.amazonaws.com assume it hangs on conditions whose values S3 sends when it assumes the role, which the tool does not know"
            ),
            None,
        )),
    }
}

fn untrusted(role: &str, facts: &ActionFacts<'_, '_>, what: &str) -> LinkResult {
    fail(
        LinkId::ReplicationConfiguration,
        format!(
            "`{role}` {what}: S3 cannot assume the replication role (S3 User Guide, \"Setting up permissions for live replication\")"
        ),
        Some(Fix {
            account: facts.actor.account.clone(),
            change: FixChange::Other,
            document: LinkId::ReplicationConfiguration.as_str().to_string(),
            statement: Some(serde_json::json!({
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
            })),
            note: Some(format!(
                "add this statement to the trust policy of `{role}` (`aws iam update-assume-role-policy`)"
            )),
            ..Default::default()
        }),
    )
}

/// S3 User Guide, "Replicating encrypted objects": "By default, Amazon S3
/// doesn't replicate objects that are stored at rest using server-side
/// encryption with" KMS keys; a rule opts in with
/// `SourceSelectionCriteria.SseKmsEncryptedObjects` and names the key that
/// encrypts the replicas (`ReplicaKmsKeyID`).
fn encryption_rule(setup: &Setup<'_>, rule: &ReplicationRule, label: &str) -> Option<LinkResult> {
    let link = LinkId::ReplicationConfiguration;
    let bucket = setup.bucket;
    let page = "S3 User Guide, \"Replicating encrypted objects\"";
    let opt_in = |what: &str| {
        rule_change(
            bucket,
            format!(
                "in {label}, {what} (`aws s3api put-bucket-replication` with the whole configuration)"
            ),
        )
    };
    let (encryption, _) = read_encryption(setup);
    let kms = match encryption {
        Field::Some(encryption) => encryption.uses_kms(),
        Field::None => false,
        Field::Unknown => {
            return (!rule.sse_kms_encrypted_objects).then(|| {
                unknown(
                    link,
                    format!(
                        "the encryption of `{}` is not known, and {label} does not select SSE-KMS objects: if the object is SSE-KMS-encrypted S3 does not replicate it ({page})",
                        setup.object_key
                    ),
                    Some("give --object with an object the snapshot holds (its `encryption`), or read it live".to_string()),
                )
            });
        }
    };
    if !kms {
        return None;
    }
    if !rule.sse_kms_encrypted_objects {
        return Some(fail(
            link,
            format!(
                "`{}` is SSE-KMS-encrypted and {label} does not select SSE-KMS objects (SseKmsEncryptedObjects is not Enabled): by default S3 does not replicate them ({page})",
                setup.object_key
            ),
            Some(opt_in(
                "set `SourceSelectionCriteria.SseKmsEncryptedObjects.Status` to `Enabled` and `Destination.EncryptionConfiguration.ReplicaKmsKeyID` to the ARN of a customer managed key in the destination's Region",
            )),
        ));
    }
    if rule.replica_kms_key.is_none() {
        return Some(fail(
            link,
            format!(
                "{label} selects SSE-KMS objects but names no key for the replicas (`ReplicaKmsKeyID`): S3 needs the key that encrypts them ({page})"
            ),
            Some(opt_in(
                "set `Destination.EncryptionConfiguration.ReplicaKmsKeyID` to the ARN of a customer managed key in the destination's Region",
            )),
        ));
    }
    None
}

/// S3 User Guide, "Replicating encrypted objects": the replica key "must
/// have been created in the same AWS Region as the destination buckets", and
/// S3 does not check it when the configuration is put: replication fails.
fn replica_key_region(
    setup: &Setup<'_>,
    rule: &ReplicationRule,
    label: &str,
) -> Option<LinkResult> {
    let key = rule.replica_kms_key.as_deref()?;
    let key_region = ArnParts::parse(key).ok()?.region;
    let destination = setup
        .snapshot
        .buckets
        .iter()
        .find(|bucket| bucket.name == rule.destination_bucket_name())?;
    let bucket_region = destination.region.as_deref()?;
    if key_region.is_empty() || key_region == bucket_region {
        return None;
    }
    Some(fail(
        LinkId::ReplicationConfiguration,
        format!(
            "{label}'s replica key `{key}` is in {key_region} but the destination bucket `{}` is in {bucket_region}: the replica key must be in the destination's Region (S3 User Guide, \"Replicating encrypted objects\")",
            destination.name
        ),
        Some(rule_change(
            setup.bucket,
            format!(
                "in {label}, set `ReplicaKmsKeyID` to a key of {bucket_region} (`aws s3api put-bucket-replication` with the whole configuration)"
            ),
        )),
    ))
}

/// A change to the source bucket's replication configuration, made by its
/// owner.
fn rule_change(bucket: &BucketInfo, what: String) -> Fix {
    Fix {
        account: bucket.account.clone(),
        change: FixChange::Other,
        document: LinkId::ReplicationConfiguration.as_str().to_string(),
        statement: None,
        note: Some(format!("{what} on `{}`", bucket.name)),
        ..Default::default()
    }
}

/// Whether the configuration's role is the principal judged: the same ARN,
/// or the same role named without its path (a session ARN does not carry
/// the path).
fn same_role(configured: &str, actor: &str) -> bool {
    if configured == actor {
        return true;
    }
    let parts = |arn: &str| {
        ArnParts::parse(arn).ok().and_then(|parts| {
            let name = parts.resource.strip_prefix("role/")?;
            Some((
                parts.account.to_string(),
                name.rsplit('/').next()?.to_string(),
            ))
        })
    };
    matches!((parts(configured), parts(actor)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::same_role;

    #[test]
    fn a_role_is_the_same_with_or_without_its_path() {
        let configured = "arn:aws:iam::111111111111:role/service-role/replication";
        assert!(same_role(configured, configured));
        assert!(same_role(
            configured,
            "arn:aws:iam::111111111111:role/replication"
        ));
        assert!(!same_role(
            configured,
            "arn:aws:iam::222222222222:role/replication"
        ));
        assert!(!same_role(
            configured,
            "arn:aws:iam::111111111111:role/other"
        ));
    }
}
