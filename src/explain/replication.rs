//! Replication failures as people paste them: an object whose replication
//! status is `FAILED` (`aws s3api head-object`'s `"ReplicationStatus":
//! "FAILED"` or the `x-amz-replication-status` header), and the S3 event
//! notification `s3:Replication:OperationFailedReplication` with its
//! `failureReason`, alone, in `{"Records": [...]}`, in an SNS or SQS
//! envelope, or as a logged dict. Each documented reason is mapped to the
//! link of `check --op replicate` it points at.
//!
//! The reasons and their meanings are the S3 User Guide's "Amazon S3
//! replication failure reasons"; the event's shape is "Receiving replication
//! failure events with Amazon S3 Event Notifications" and "Event message
//! structure"; the status is "Getting replication status information".

use super::MessageKind;
use super::meaning::Meaning;
use super::parse::Parsed;
use crate::diagnosis::LinkId;
use crate::report::shell_word;

/// What a replication failure names besides the source object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Replication {
    /// The source bucket (the event's `s3.bucket.name`, or `--bucket` of a
    /// pasted `aws s3api head-object` command).
    pub source_bucket: Option<String>,
    /// The object key, URL-decoded.
    pub key: Option<String>,
    /// The destination bucket's ARN (`replicationEventData.destinationBucket`).
    pub destination: Option<String>,
    pub rule_id: Option<String>,
    /// The object's KMS key (`SSEKMSKeyId` of `head-object`).
    pub object_key_id: Option<String>,
}

/// The replication failure `text` (one normalised line) shows, if any.
pub(super) fn parse(text: &str) -> Option<Parsed> {
    if let Some(value) = json_in(text) {
        if let Some(record) = failure_record(&value, 0) {
            return Some(event(&record));
        }
        if let Some(found) = failed_status_json(&value, text) {
            return Some(found);
        }
    }
    let lower = text.to_ascii_lowercase();
    // A record logged as a Python dict or cut short is not JSON: its
    // `failureReason` is still there to read.
    if lower.contains("operationfailedreplication") {
        let field = |name: &str| text_field(text, name);
        // `name` and `key` are words of other fields too: read them in the
        // `bucket` and `object` they belong to.
        let within = |parent: &str, name: &str| {
            [format!("\"{parent}\""), format!("'{parent}'")]
                .iter()
                .find_map(|marker| text_field(&text[text.find(marker.as_str())?..], name))
        };
        let replication = Replication {
            source_bucket: within("bucket", "name"),
            key: within("object", "key").map(|key| url_decoded(&key)),
            destination: field("destinationBucket"),
            rule_id: field("replicationRuleId"),
            ..Replication::default()
        };
        return Some(event_parsed(field("failureReason"), replication));
    }
    if header_failed(&lower) || text_field(text, "ReplicationStatus").is_some_and(is_failed) {
        return Some(status_parsed(command_target(text), None));
    }
    None
}

/// The JSON value in `text`: all of it, or from its first `{` to its last
/// `}` (a prompt or a log prefix before it).
fn json_in(text: &str) -> Option<serde_json::Value> {
    let trimmed = text.trim();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed) {
        return Some(value);
    }
    let start = trimmed.find('{')?;
    let end = trimmed.rfind('}')?;
    (start < end)
        .then(|| serde_json::from_str(&trimmed[start..=end]).ok())
        .flatten()
}

/// "Event message structure": `eventName` carries no `s3:` prefix; an
/// event arrives in `Records`, or inside an SNS notification's `Message` or
/// an SQS message's `body` as a JSON string.
fn failure_record(value: &serde_json::Value, depth: usize) -> Option<serde_json::Value> {
    if depth > 8 {
        return None;
    }
    match value {
        serde_json::Value::Array(items) => items
            .iter()
            .find_map(|item| failure_record(item, depth + 1)),
        serde_json::Value::Object(object) => {
            let name = object.get("eventName").and_then(serde_json::Value::as_str);
            if name.is_some_and(|name| {
                name.trim_start_matches("s3:") == "Replication:OperationFailedReplication"
            }) {
                return Some(value.clone());
            }
            for key in ["Records", "records"] {
                if let Some(found) = object
                    .get(key)
                    .and_then(|records| failure_record(records, depth + 1))
                {
                    return Some(found);
                }
            }
            ["Message", "body", "Body"].iter().find_map(|key| {
                let inner = object.get(*key)?.as_str()?;
                let inner = serde_json::from_str(inner).ok()?;
                failure_record(&inner, depth + 1)
            })
        }
        _ => None,
    }
}

fn string_at<'v>(value: &'v serde_json::Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))?
        .as_str()
        .filter(|text| !text.is_empty())
}

/// "Event message structure": the object key "is URL encoded" (a space is
/// `+`).
fn url_decoded(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map_or(spaced.clone(), |decoded| decoded.into_owned())
}

fn event(record: &serde_json::Value) -> Parsed {
    let replication = Replication {
        source_bucket: string_at(record, &["s3", "bucket", "name"]).map(str::to_string),
        key: string_at(record, &["s3", "object", "key"]).map(url_decoded),
        destination: string_at(record, &["replicationEventData", "destinationBucket"])
            .map(str::to_string),
        rule_id: string_at(record, &["replicationEventData", "replicationRuleId"])
            .map(str::to_string),
        object_key_id: None,
    };
    let reason = string_at(record, &["replicationEventData", "failureReason"]).map(str::to_string);
    event_parsed(reason, replication)
}

fn event_parsed(reason: Option<String>, replication: Replication) -> Parsed {
    let documented = reason.as_deref().and_then(documented);
    let resource = match documented.as_ref().map(|reason| reason.side) {
        Some(Side::Destination) => replication.destination.clone(),
        _ => match (&replication.source_bucket, &replication.key) {
            (Some(bucket), Some(key)) => Some(format!("arn:aws:s3:::{bucket}/{key}")),
            _ => None,
        },
    };
    Parsed {
        kind: MessageKind::ReplicationFailureEvent,
        error_code: reason,
        action: documented
            .as_ref()
            .and_then(|reason| reason.action)
            .map(str::to_string),
        resource,
        replication: Some(replication),
        ..Parsed::default()
    }
}

fn is_failed(status: String) -> bool {
    status.eq_ignore_ascii_case("FAILED")
}

/// `aws s3api head-object` prints `ReplicationStatus` beside the object's
/// encryption (`SSEKMSKeyId`).
fn failed_status_json(value: &serde_json::Value, text: &str) -> Option<Parsed> {
    let status = value.get("ReplicationStatus")?.as_str()?;
    is_failed(status.to_string()).then(|| {
        status_parsed(
            command_target(text),
            string_at(value, &["SSEKMSKeyId"]).map(str::to_string),
        )
    })
}

fn status_parsed(target: (Option<String>, Option<String>), key_id: Option<String>) -> Parsed {
    let (source_bucket, key) = target;
    Parsed {
        kind: MessageKind::ReplicationFailed,
        replication: Some(Replication {
            source_bucket,
            key,
            object_key_id: key_id,
            ..Replication::default()
        }),
        ..Parsed::default()
    }
}

/// `x-amz-replication-status: FAILED`, as `curl -I` or a debug log shows it.
fn header_failed(lower: &str) -> bool {
    let marker = "x-amz-replication-status";
    lower.match_indices(marker).any(|(at, _)| {
        let rest = lower[at + marker.len()..].trim_start_matches(['"', '\'']);
        let rest = rest
            .trim_start()
            .trim_start_matches([':', '='])
            .trim_start();
        rest.trim_start_matches(['"', '\'']).starts_with("failed")
    })
}

/// The value after `name` in `"name": "value"`, `'name': 'value'` or
/// `name=value`: up to the next quote, comma, brace or space.
fn text_field(text: &str, name: &str) -> Option<String> {
    text.match_indices(name).find_map(|(at, _)| {
        // An event inside an SNS or SQS envelope has its quotes escaped.
        let rest = text[at + name.len()..].trim_start_matches(['"', '\'', '\\']);
        let rest = rest.trim_start().strip_prefix([':', '='])?.trim_start();
        let rest = rest.trim_start_matches(['"', '\'', '\\']);
        let end = rest
            .find(['"', '\'', '\\', ',', '}', ']', ' '])
            .unwrap_or(rest.len());
        let value = &rest[..end];
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// `--bucket B --key K` of a pasted `aws s3api head-object` command; a
/// quoted value may hold spaces.
fn command_target(text: &str) -> (Option<String>, Option<String>) {
    let after = |flag: &str| {
        let at = text.find(&format!(" {flag} "))? + flag.len() + 2;
        let rest = text[at..].trim_start();
        let value = match rest.chars().next()? {
            quote @ ('"' | '\'') => rest[1..].split(quote).next()?,
            _ => rest.split(' ').next()?,
        };
        (!value.is_empty() && !value.starts_with("--")).then(|| value.to_string())
    };
    (after("--bucket"), after("--key"))
}

// ---------------------------------------------------------------------------
// What each reason means.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Source,
    Destination,
    /// S3 assuming the role, before either side.
    Role,
}

/// One row of "Amazon S3 replication failure reasons".
struct Reason {
    side: Side,
    /// The permission AWS names for it.
    action: Option<&'static str>,
    link: Option<LinkId>,
    suspects: &'static [LinkId],
    /// What it means, after "S3 could not replicate the object: ".
    meaning: &'static str,
    /// What to check, most useful first.
    step: &'static str,
    /// "This error is specific to Batch Replication".
    batch_only: bool,
}

/// The destination-side write AWS blames on `s3:ReplicateObject` ("may be
/// missing"): the role's identity policy allows it, and across accounts the
/// destination's bucket policy does too (S3 User Guide, "Setting up
/// permissions for live replication"). AWS's list names no reason for a
/// replica key that refuses `kms:Encrypt`, so the key policy stays a
/// suspect.
const DESTINATION_WRITE: &[LinkId] = &[
    LinkId::BucketPolicy,
    LinkId::IdentityPolicy,
    LinkId::PermissionsBoundary,
    LinkId::Scp,
    LinkId::Rcp,
    LinkId::KeyPolicy,
];
const DESTINATION_WRITE_STEP: &str = "the role's identity policy must allow `s3:ReplicateObject` on the destination's objects (`arn:aws:s3:::DESTINATION/*`), and when the destination is in another account its bucket policy must allow it to the role too; the check below judges both, and `kms:Encrypt` on the replica key, in the destination's account";

const SOURCE_READ: &[LinkId] = &[
    LinkId::IdentityPolicy,
    LinkId::BucketPolicy,
    LinkId::ObjectOwnership,
    LinkId::PermissionsBoundary,
    LinkId::Scp,
    LinkId::Rcp,
    LinkId::KeyPolicy,
];
const SOURCE_READ_STEP: &str = "the role's identity policy must allow `s3:GetObjectVersionForReplication` and `s3:GetObjectVersionAcl` on the source's objects, and the source's bucket policy must not deny them; the check below judges them, and `kms:Decrypt` on the object's key";

/// Permissions kms-s3-doctor does not judge: the suspects a person reads
/// by hand.
const NOT_JUDGED: &[LinkId] = &[LinkId::IdentityPolicy, LinkId::BucketPolicy];

const fn reason(
    side: Side,
    action: Option<&'static str>,
    link: Option<LinkId>,
    suspects: &'static [LinkId],
    meaning: &'static str,
    step: &'static str,
) -> Reason {
    Reason {
        side,
        action,
        link,
        suspects,
        meaning,
        step,
        batch_only: false,
    }
}

const fn batch(side: Side, meaning: &'static str) -> Reason {
    Reason {
        side,
        action: None,
        link: None,
        suspects: &[],
        meaning,
        step: "S3 Batch Replication is not judged by kms-s3-doctor: read the job's manifest and its completion report",
        batch_only: true,
    }
}

/// S3 User Guide, "Amazon S3 replication failure reasons": every reason
/// the table lists, with the link it points at.
fn documented(reason_code: &str) -> Option<Reason> {
    use Side::{Destination, Role, Source};
    let write = |what: &'static str| {
        reason(
            Destination,
            Some("s3:ReplicateObject"),
            None,
            DESTINATION_WRITE,
            what,
            DESTINATION_WRITE_STEP,
        )
    };
    Some(match reason_code {
        "AssumeRoleNotPermitted" => reason(
            Role,
            Some("sts:AssumeRole"),
            Some(LinkId::ReplicationConfiguration),
            &[LinkId::ReplicationConfiguration],
            "S3 cannot assume the IAM role the replication configuration names: the role does not exist, or its trust policy does not let `s3.amazonaws.com` call `sts:AssumeRole`",
            "read the configuration's role (`aws s3api get-bucket-replication --bucket SOURCE`, `Role`) and its trust policy (`aws iam get-role --role-name NAME`, `AssumeRolePolicyDocument`): it needs an `Allow` of `sts:AssumeRole` for the service principal `s3.amazonaws.com`; the check below judges it under `replication-configuration`",
        ),
        "DstBucketNotFound" => reason(
            Destination,
            None,
            Some(LinkId::ReplicationConfiguration),
            &[LinkId::ReplicationConfiguration],
            "S3 cannot find the destination bucket the replication configuration names",
            "compare the rule's `Destination.Bucket` (`aws s3api get-bucket-replication --bucket SOURCE`) with the destination bucket: it may have been deleted, or the rule names another one",
        ),
        "DstBucketObjectLockConfigMissing" => reason(
            Destination,
            None,
            None,
            &[],
            "the source bucket has Object Lock enabled and the destination bucket, it seems, does not: replicating from a locked bucket needs Object Lock on the destination",
            "read the destination's Object Lock (`aws s3api get-object-lock-configuration --bucket DESTINATION`); kms-s3-doctor does not read Object Lock, so the check below cannot see this",
        ),
        "DstBucketUnversioned" => reason(
            Destination,
            None,
            Some(LinkId::Versioning),
            &[LinkId::Versioning],
            "versioning is not enabled on the destination bucket, which replication needs",
            "the destination's owner enables it: `aws s3api put-bucket-versioning --bucket DESTINATION --versioning-configuration Status=Enabled`",
        ),
        "DstDelObjNotPermitted" => reason(
            Destination,
            Some("s3:ReplicateDelete"),
            None,
            NOT_JUDGED,
            "S3 cannot replicate a delete to the destination bucket: the role may not be allowed `s3:ReplicateDelete` there",
            "allow `s3:ReplicateDelete` on `arn:aws:s3:::DESTINATION/*` to the role (its identity policy, and across accounts the destination's bucket policy); kms-s3-doctor does not judge `s3:ReplicateDelete`",
        ),
        "DstKmsKeyInvalidState" => reason(
            Destination,
            Some("kms:Encrypt"),
            Some(LinkId::KeyState),
            &[LinkId::KeyState],
            "the KMS key that encrypts the replicas (the rule's `ReplicaKmsKeyID`) is not in a usable state",
            "read its state with a profile of the destination's account (`aws kms describe-key --key-id REPLICA_KEY`, `KeyState`): it must be `Enabled`",
        ),
        "DstKmsKeyNotFound" => reason(
            Destination,
            Some("kms:Encrypt"),
            Some(LinkId::KeyState),
            &[LinkId::KeyState, LinkId::ReplicationConfiguration],
            "the KMS key the replication configuration names for the replicas does not exist",
            "read the rule's `Destination.EncryptionConfiguration.ReplicaKmsKeyID` (`aws s3api get-bucket-replication --bucket SOURCE`): it must be the ARN of an existing key in the destination bucket's Region",
        ),
        "DstMultipartCompleteNotPermitted" => write(
            "S3 cannot complete the multipart upload of the replica in the destination bucket: the role may not be allowed `s3:ReplicateObject` there",
        ),
        "DstMultipartInitNotPermitted" => write(
            "S3 cannot start the multipart upload of the replica in the destination bucket: the role may not be allowed `s3:ReplicateObject` there",
        ),
        "DstMultipartPartUploadNotPermitted" => write(
            "S3 cannot upload the replica's parts to the destination bucket: the role may not be allowed `s3:ReplicateObject` there",
        ),
        "DstPutAclNotPermitted" => write(
            "S3 cannot replicate the object's ACL to the destination bucket: the role may not be allowed `s3:ReplicateObject` there",
        ),
        "DstPutObjectNotPermitted" => write(
            "S3 cannot write the replica to the destination bucket: the role may not be allowed `s3:ReplicateObject` there",
        ),
        "DstPutTaggingNotPermitted" => write(
            "S3 cannot replicate the object's tags to the destination bucket: the role may not be allowed `s3:ReplicateObject` there",
        ),
        "DstPutLegalHoldNotPermitted" => reason(
            Destination,
            Some("s3:PutObjectLegalHold"),
            None,
            NOT_JUDGED,
            "S3 cannot put the Object Lock legal hold on the replica: the role may not be allowed `s3:PutObjectLegalHold` on the destination bucket",
            "allow `s3:PutObjectLegalHold` on `arn:aws:s3:::DESTINATION/*` to the role; kms-s3-doctor does not judge Object Lock permissions",
        ),
        "DstVersionNotFound" => reason(
            Destination,
            None,
            None,
            &[],
            "S3 cannot find, in the destination bucket, the object version whose metadata it must replicate",
            "list the object's versions in the destination (`aws s3api list-object-versions --bucket DESTINATION --prefix KEY`); kms-s3-doctor does not judge metadata replication",
        ),
        "SrcBucketNotFound" => reason(
            Source,
            None,
            None,
            &[],
            "S3 cannot find the source bucket",
            "check that the source bucket still exists (`aws s3api head-bucket --bucket SOURCE`)",
        ),
        "SrcBucketReplicationConfigMissing" => reason(
            Source,
            None,
            Some(LinkId::ReplicationConfiguration),
            &[LinkId::ReplicationConfiguration],
            "the source bucket has no replication configuration",
            "read it (`aws s3api get-bucket-replication --bucket SOURCE`); it may have been deleted after the object was written",
        ),
        "SrcGetAclNotPermitted" => reason(
            Source,
            Some("s3:GetObjectVersionAcl"),
            None,
            SOURCE_READ,
            "S3 cannot read the source object's ACL for replication: the role may not be allowed `s3:GetObjectVersionAcl` on it",
            SOURCE_READ_STEP,
        ),
        "SrcGetObjectNotPermitted" => reason(
            Source,
            Some("s3:GetObjectVersionForReplication"),
            None,
            SOURCE_READ,
            "S3 cannot read the source object for replication: the role may not be allowed `s3:GetObjectVersionForReplication` on it",
            SOURCE_READ_STEP,
        ),
        "SrcHeadObjectNotPermitted" => reason(
            Source,
            Some("s3:GetObjectVersionForReplication"),
            None,
            SOURCE_READ,
            "S3 cannot read the source object's metadata for replication: the role may not be allowed `s3:GetObjectVersionForReplication` on it",
            SOURCE_READ_STEP,
        ),
        "SrcGetTaggingNotPermitted" => reason(
            Source,
            Some("s3:GetObjectVersionTagging"),
            None,
            NOT_JUDGED,
            "S3 cannot read the source object's tags for replication: the role may not be allowed `s3:GetObjectVersionTagging` on it",
            "allow `s3:GetObjectVersionTagging` on the source's objects to the role; kms-s3-doctor does not judge `s3:GetObjectVersionTagging`",
        ),
        "SrcKmsKeyInvalidState" => reason(
            Source,
            Some("kms:Decrypt"),
            Some(LinkId::KeyState),
            &[LinkId::KeyState],
            "the KMS key of the source object is not in a usable state",
            "read the object's key (`aws s3api head-object --bucket SOURCE --key KEY`, `SSEKMSKeyId`) and its state (`aws kms describe-key`, `KeyState`): it must be `Enabled`",
        ),
        "SrcObjectNotEligible" => reason(
            Source,
            None,
            Some(LinkId::ReplicationConfiguration),
            &[LinkId::ReplicationConfiguration],
            "the object is not eligible for replication: the object or its tags do not match the replication configuration",
            "compare the rules' filters (`aws s3api get-bucket-replication --bucket SOURCE`) with the object's key and tags",
        ),
        "SrcVersionNotFound" => reason(
            Source,
            None,
            None,
            &[],
            "S3 cannot find, in the source bucket, the object version whose metadata it must replicate",
            "list the object's versions (`aws s3api list-object-versions --bucket SOURCE --prefix KEY`); kms-s3-doctor does not judge metadata replication",
        ),
        "DstBucketInvalidRegion" => batch(
            Destination,
            "the destination bucket is not in the Region the Batch Operations job names",
        ),
        "DstObjectHardDeleted" => batch(
            Destination,
            "S3 Batch Replication does not re-replicate an object deleted from the destination by its version id",
        ),
        "InitiateReplicationNotPermitted" => batch(
            Source,
            "the Batch Operations job may not be allowed `s3:InitiateReplication`",
        ),
        "SrcBucketInvalidRegion" => batch(
            Source,
            "the source bucket is not in the Region the Batch Operations job names",
        ),
        _ => return None,
    })
}

/// Every link `--op replicate` may fail on, likeliest first.
const ANY_REPLICATION_LINK: &[LinkId] = &[
    LinkId::ReplicationConfiguration,
    LinkId::Versioning,
    LinkId::IdentityPolicy,
    LinkId::BucketPolicy,
    LinkId::KeyPolicy,
    LinkId::KeyState,
];

fn destination_words(replication: &Replication) -> String {
    replication
        .destination
        .as_deref()
        .map(|destination| format!(" `{destination}`"))
        .unwrap_or_default()
}

/// The meaning of an `s3:Replication:OperationFailedReplication` event.
pub(super) fn event_meaning(parsed: &Parsed) -> Meaning {
    let replication = parsed.replication.clone().unwrap_or_default();
    let rule = replication
        .rule_id
        .as_deref()
        .map(|rule| format!(" (rule `{rule}`)"))
        .unwrap_or_default();
    let Some(code) = parsed.error_code.as_deref() else {
        return Meaning {
            suspects: ANY_REPLICATION_LINK.to_vec(),
            summary: format!(
                "S3 could not replicate the object{rule}, and the event names no `failureReason`"
            ),
            next_steps: vec![
                "run the check below: it judges every link of the replication".to_string(),
            ],
            ..Meaning::default()
        };
    };
    let Some(reason) = documented(code) else {
        return Meaning {
            suspects: ANY_REPLICATION_LINK.to_vec(),
            summary: format!(
                "S3 could not replicate the object{rule}: `{code}` is not a reason the S3 User Guide lists (\"Amazon S3 replication failure reasons\")"
            ),
            next_steps: vec![
                "run the check below: it judges every link of the replication".to_string(),
            ],
            ..Meaning::default()
        };
    };
    let owner = match reason.side {
        Side::Destination if reason.link == Some(LinkId::KeyState) => {
            "the replica key's owner (the destination's account)"
        }
        Side::Source if reason.link == Some(LinkId::KeyState) => "the owner of the object's key",
        Side::Destination => {
            "the destination bucket's owner (and the replication role's, for its identity policy)"
        }
        Side::Source => "the source bucket's owner",
        Side::Role => "the owner of the source bucket and of its replication role",
    };
    let destination = destination_words(&replication);
    let mut step = reason.step.replace(
        "DESTINATION",
        replication
            .destination
            .as_deref()
            .map(|arn| arn.trim_start_matches("arn:aws:s3:::"))
            .unwrap_or("DESTINATION"),
    );
    // Bucket names need no quoting; a key may.
    if let Some(source) = &replication.source_bucket {
        step = step.replace("--bucket SOURCE", &format!("--bucket {source}"));
    }
    if let Some(key) = &replication.key {
        let key = shell_word(key);
        step = step
            .replace("--key KEY", &format!("--key {key}"))
            .replace("--prefix KEY", &format!("--prefix {key}"));
    }
    let mut next_steps = vec![step];
    if !reason.batch_only {
        next_steps.push(format!(
            "once fixed, the object does not replicate by itself: upload it again, or replicate it with S3 Batch Replication (S3 User Guide, \"Getting replication status information\"){}",
            if destination.is_empty() {
                String::new()
            } else {
                format!("; the event is for destination{destination}")
            }
        ));
    }
    let summary = format!("replication of the object failed{rule}: {}", reason.meaning);
    Meaning {
        link: reason.link,
        suspects: reason.suspects.to_vec(),
        summary: if reason.batch_only {
            format!("{summary} (a reason of S3 Batch Replication only)")
        } else {
            summary
        },
        owner: Some(owner.to_string()),
        next_steps,
        ..Meaning::default()
    }
}

/// S3 User Guide, "Getting replication status information": a source
/// object's status is `FAILED` for issues such as missing permissions of
/// the replication role, KMS permissions or bucket permissions (a passing
/// outage leaves it `PENDING`), and a failed object is not replicated
/// again by itself.
pub(super) fn status_meaning(parsed: &Parsed, bucket: Option<&str>) -> Meaning {
    let replication = parsed.replication.clone().unwrap_or_default();
    let source = bucket.map_or_else(|| "SOURCE".to_string(), shell_word);
    let mut next_steps = vec![
        "run the check below: it judges the replication configuration, versioning on both sides, and the role's reads, writes and KMS calls".to_string(),
        format!(
            "the reason is in the `s3:Replication:OperationFailedReplication` event's `failureReason` (it needs S3 Replication metrics on the rule); paste that event into `kms-s3-doctor explain -`, and read the configuration with `aws s3api get-bucket-replication --bucket {source}`"
        ),
    ];
    if let Some(key_id) = &replication.object_key_id {
        next_steps.push(format!(
            "the object is encrypted with the KMS key `{key_id}`: S3 replicates it only when the rule selects SSE-KMS objects and names a replica key in the destination's Region, and the role may use both keys"
        ));
    }
    next_steps.push("once fixed, the object does not replicate by itself: upload it again, or replicate it with S3 Batch Replication".to_string());
    Meaning {
        suspects: ANY_REPLICATION_LINK.to_vec(),
        summary: "S3 tried to replicate this object and failed (`ReplicationStatus` `FAILED`): the replication role lacks a permission (S3, KMS or the buckets'), or the configuration or a destination is wrong; the object's status does not say which".to_string(),
        owner: Some("the source bucket's owner".to_string()),
        next_steps,
        ..Meaning::default()
    }
}

/// `kms-s3-doctor check --bucket SOURCE [--object KEY] --principal ROLE_ARN
/// --op replicate`: neither the status nor the event names the role.
pub(super) fn check_command(bucket: Option<&str>, object: Option<&str>) -> String {
    let mut words = vec![
        "kms-s3-doctor".to_string(),
        "check".to_string(),
        "--bucket".to_string(),
        bucket.map_or_else(|| "BUCKET".to_string(), shell_word),
    ];
    if let Some(object) = object {
        words.push("--object".to_string());
        words.push(shell_word(object));
    }
    words.extend(
        ["--principal", "ROLE_ARN", "--op", "replicate"]
            .iter()
            .map(|word| word.to_string()),
    );
    words.join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    proptest::proptest! {
        /// Whatever surrounds the markers this module looks for (a cut
        /// event, stray quotes, multi-byte text), reading it never panics
        /// and nothing pasted reaches the output as a control character.
        #[test]
        fn any_text_around_the_markers_is_read_without_panicking(
            before in "\\PC{0,40}",
            after in "\\PC{0,40}",
            marker in proptest::sample::select(vec![
                "\"failureReason\":",
                "'failureReason' = ",
                "OperationFailedReplication",
                "x-amz-replication-status:",
                "\"ReplicationStatus\": \"",
                " --bucket \"",
                " --key ",
                "{",
            ]),
        ) {
            let text = format!("{before}{marker}\u{1b}[2J{after} --bucket é\u{7}{after}");
            let got = super::super::explain(&text);
            let mut out = Vec::new();
            crate::report::render_explanation_text(&got, &mut out, false).unwrap();
            let rendered = String::from_utf8(out).unwrap();
            proptest::prop_assert!(!rendered.chars().any(|c| c.is_control() && c != '\n'));
        }
    }

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(url_decoded("red+flower.jpg"), "red flower.jpg");
        assert_eq!(url_decoded("a%2Fb%C3%A9"), "a/bé");
        // Not UTF-8 once decoded: kept as sent.
        assert_eq!(url_decoded("x%FF"), "x%FF");
    }

    #[test]
    fn fields_are_read_from_logged_dicts() {
        let text = "{'eventName': 'Replication:OperationFailedReplication', 'replicationEventData': {'failureReason': 'DstBucketUnversioned'}";
        assert_eq!(
            text_field(text, "failureReason").as_deref(),
            Some("DstBucketUnversioned")
        );
        assert!(header_failed("x-amz-replication-status: failed"));
        assert!(!header_failed("x-amz-replication-status: completed"));
    }
}
