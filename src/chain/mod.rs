//! The chain judge: expands `--op` operations into the AWS actions they need,
//! finds the documents of every link in a [`Snapshot`], and judges each link
//! as AWS's evaluation logic does. Pure: a snapshot and a request in, a
//! [`Diagnosis`] out.

pub mod assume;
mod context;
pub(crate) mod proposal;

/// The table of condition keys the judge knows and where each value comes from.
pub use context::{ContextKey, KEYS as CONDITION_KEYS, Origin};

mod directory;
mod encryption_context;
mod keys;
mod kms_hop;
mod links;
pub(crate) mod principal;
mod replication;
mod suggest;
mod verdicts;

pub(crate) use context::Shared;
pub use verdicts::{ActionVerdict, OperationVerdict, Verdicts, verdicts};

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::diagnosis::{ActionResult, Diagnosis, LinkResult, Operation, OperationResult, Verdict};
use crate::policy::arn::{ArnError, Principal, PrincipalKind};
use crate::policy::context::RequestContext;
use crate::snapshot::{
    AccessPointInfo, BucketInfo, Encryption, Field, ObjectInfo, PrincipalInfo, Snapshot,
};

/// Object key checked when `--object` is not given.
pub const PLACEHOLDER_OBJECT: &str = "kms-s3-doctor-probe";

/// What `check` asks about.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// `--access-point`: the ARN or alias of the access point the request
    /// goes through.
    pub access_point: Option<String>,
    pub bucket: String,
    pub object: Option<String>,
    /// ARN (or account id) of the principal; the caller's identity in live mode.
    pub principal: String,
    pub via_role: Option<String>,
    pub external_id: Option<String>,
    pub operations: Vec<Operation>,
    /// `--context KEY=VALUE` pairs, in order.
    pub context: Vec<(String, String)>,
    /// `aws:CurrentTime` unless `--context` overrides it.
    pub now: DateTime<Utc>,
    /// `--via-service`: the service principal (`athena.amazonaws.com`)
    /// that makes the S3 request with the caller's credentials.
    pub via_service: Option<String>,
    /// Keys the request's own evidence leaves open (a CloudTrail record
    /// silent on TLS): unknown, whatever the tool would otherwise assume.
    /// A `--context` value for the key still settles it.
    pub unknown_context: Vec<String>,
}

/// Why a request could not be judged at all (bad input: exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JudgeError {
    #[error("--principal: {0}")]
    Principal(ArnError),
    #[error("--via-role: {0}")]
    ViaRole(ArnError),
    #[error("--via-role `{0}` is not a role ARN")]
    ViaRoleNotRole(String),
    /// A service principal, an unsigned caller or an origin access
    /// identity assumes no role with the caller's flags.
    #[error(
        "--via-role: `{0}` is not an IAM principal, so the tool cannot judge it assuming a role; give the role session as --principal instead"
    )]
    ViaRoleFromOutside(String),
    /// The bucket, and `; did you mean ...?` when a close name is there.
    #[error("bucket `{0}` is not in the snapshot{1}")]
    BucketNotInSnapshot(String, String),
    #[error("--op: no operation given")]
    NoOperation,
    #[error(
        "--op replicate: `{0}` is a directory bucket, and S3 Replication does not support directory buckets"
    )]
    ReplicateDirectoryBucket(String),
    /// The access point, and `; did you mean ...?` when a close one is there.
    #[error("--access-point: access point `{0}` is not in the snapshot (by ARN or alias){1}")]
    AccessPointNotInSnapshot(String, String),
    #[error(
        "--access-point: access point `{access_point}` serves bucket `{serves}`, not `{bucket}`"
    )]
    AccessPointOtherBucket {
        access_point: String,
        serves: String,
        bucket: String,
    },
    /// Partitions are separate: a principal of one never reaches a resource
    /// of another.
    #[error(
        "`{principal}` is in partition `{partition}` but the snapshot's resources are in `{snapshot}`; partitions are separate"
    )]
    OtherPartition {
        principal: String,
        partition: String,
        snapshot: String,
    },
}

/// One action an operation needs, before its links are judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedAction {
    pub action: &'static str,
    pub target: Target,
}

/// What an action is authorized against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `s3:ListBucket` on the bucket.
    Bucket,
    /// An object-level S3 action on this key.
    Object(String),
    /// A KMS action on the key S3 uses.
    Key(KeyUse),
    /// `sts:AssumeRole` on the `--via-role` role.
    Role,
    /// A replication action on the destination side, judged against the
    /// destination bucket and the replica key in their own account.
    Replica(Box<replication::ReplicaTarget>),
    /// `s3express:CreateSession` on a directory bucket: a `ReadWrite`
    /// session when `write`, else `ReadOnly`.
    Session { write: bool },
}

/// Which key a KMS action uses and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyUse {
    pub choice: KeyChoice,
    /// Where the reference comes from.
    pub source: KeySource,
    /// Whether S3 Bucket Keys are on (changes the encryption context).
    pub bucket_key: bool,
    /// The object whose data key this is (encryption context without bucket keys).
    pub object: String,
}

/// The key as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyChoice {
    /// Named by ARN, key id, alias name or alias ARN.
    Named(String),
    /// SSE-KMS with no key named: the AWS managed key `aws/s3`.
    AwsManagedS3,
    /// The encryption in force could not be read.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// The object's own encryption (read from HeadObject or the snapshot).
    Object,
    /// The bucket's default encryption.
    BucketDefault,
    /// `s3:x-amz-server-side-encryption-aws-kms-key-id` given with `--context`.
    RequestHeader,
    /// The replica key of the source bucket's replication rule.
    ReplicationRule,
}

/// What the judge knows about the request before it judges any link.
pub(crate) struct Setup<'s> {
    pub snapshot: &'s Snapshot,
    pub bucket: &'s BucketInfo,
    pub object_key: String,
    pub object: Option<&'s ObjectInfo>,
    /// `--principal`.
    pub source: Principal,
    /// The role session the S3/KMS calls are made as, with `--via-role`.
    pub role: Option<Principal>,
    pub request: &'s CheckRequest,
    /// The contexts built so far, for actions that need the same one.
    pub contexts: &'s context::Shared,
    /// The snapshot's entries for `source` and `role`, found once.
    pub source_info: Option<&'s PrincipalInfo>,
    pub role_info: Option<&'s PrincipalInfo>,
    /// The access point the S3 request goes through (`--access-point`).
    pub access_point: Option<&'s AccessPointInfo>,
    /// How much of each link the caller reads.
    pub detail: Detail,
    /// Every policy document of the snapshot, in its order, gathered once
    /// per request for the actions whose unknown links are decided over
    /// every value a condition can take ([`links`]' worlds).
    pub documents: std::cell::OnceCell<Vec<&'s crate::snapshot::PolicyDoc>>,
}

/// How much of a judgement its caller reads. One evaluation serves both:
/// the links decide their status the same way and only skip the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Every link's status, reason, evidence and proposed change.
    Full,
    /// Every link's status, and the keys an unknown link hangs on (deciding
    /// an unknown link over every value of those keys reads them): what a
    /// verdict and its first broken link are made of. Reasons, evidence and
    /// proposed changes are left empty.
    Verdict,
}

impl<'s> Setup<'s> {
    /// The snapshot's entry for `principal`; looked up once for the
    /// request's own two principals.
    pub fn info_of(&self, principal: &Principal) -> Option<&'s PrincipalInfo> {
        if std::ptr::eq(principal, &self.source) {
            return self.source_info;
        }
        if self
            .role
            .as_ref()
            .is_some_and(|role| std::ptr::eq(principal, role))
        {
            return self.role_info;
        }
        principal::find_info(self.snapshot, principal)
    }

    /// The principal that makes the S3 and KMS calls.
    pub fn actor(&self) -> &Principal {
        self.role.as_ref().unwrap_or(&self.source)
    }

    /// Every policy document of the snapshot, in its order.
    pub fn documents(&self) -> &[&'s crate::snapshot::PolicyDoc] {
        self.documents.get_or_init(|| self.snapshot.policy_docs())
    }

    pub fn context_value(&self, key: &str) -> Option<&str> {
        self.request
            .context
            .iter()
            .rev()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    }

    fn context_has_prefix(&self, prefix: &str) -> bool {
        // `get` rather than slicing: a key is user input and may cut a
        // multi-byte character at the prefix's length.
        self.request.context.iter().any(|(name, _)| {
            name.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        })
    }

    /// The request sets an ACL (so `s3:PutObjectAcl` is needed too). A
    /// log-delivery service's own `bucket-owner-full-control` does not:
    /// AWS's documented bucket policies for those services grant
    /// `s3:PutObject` under that ACL and no `s3:PutObjectAcl` (see
    /// `context::delivery_acl`).
    fn sets_acl(&self) -> bool {
        let acl = self.context_value("s3:x-amz-acl");
        let delivery = context::delivery_acl(&self.source);
        let own_acl = delivery.is_some() && acl.is_none_or(|acl| Some(acl) == delivery);
        (acl.is_some() && !own_acl) || self.context_has_prefix("s3:x-amz-grant-")
    }

    pub fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket.name)
    }

    pub fn object_arn(&self, key: &str) -> String {
        format!("arn:aws:s3:::{}/{}", self.bucket.name, key)
    }

    /// A directory bucket's ARN, `arn:aws:s3express:REGION:ACCOUNT:bucket/NAME`
    /// (S3 User Guide, "Authorizing Regional endpoint API operations with
    /// IAM" for directory buckets); the snapshot's validation makes sure a
    /// directory bucket has its region.
    pub fn directory_bucket_arn(&self) -> String {
        let partition = self.source.partition.as_str();
        let region = self.bucket.region.as_deref().unwrap_or_default();
        format!(
            "arn:{partition}:s3express:{region}:{}:bucket/{}",
            self.bucket.account, self.bucket.name
        )
    }
}

/// What the judge decides about a request: every verdict, link, reason and
/// the change each failing link needs, but not yet each change's target
/// document, command and re-check, which the fixes complete from it.
pub struct Judgement {
    pub diagnosis: Diagnosis,
    /// The request contexts the judgement built. A context reads no policy
    /// document, so the fixes' re-check, which replaces only documents,
    /// reuses them rather than building them again.
    pub(crate) contexts: Shared,
}

impl Judgement {
    /// The request context of each action judged, keyed by the resource it
    /// was built for (`bucket`, `object`, `object-put`, `role`, or a KMS
    /// key's ARN): what the policies were evaluated against.
    pub fn request_contexts(&self) -> Vec<(String, Arc<RequestContext>)> {
        self.contexts.built()
    }
}

/// Judges every requested operation against the snapshot.
pub fn judge(snapshot: &Snapshot, request: &CheckRequest) -> Result<Judgement, JudgeError> {
    let contexts = context::Shared::default();
    let diagnosis = judge_with(snapshot, request, &contexts)?;
    Ok(Judgement {
        diagnosis,
        contexts,
    })
}

/// The judgement's diagnosis alone.
#[cfg(test)]
pub(crate) fn judge_once(
    snapshot: &Snapshot,
    request: &CheckRequest,
) -> Result<Diagnosis, JudgeError> {
    judge(snapshot, request).map(|judgement| judgement.diagnosis)
}

/// The judgement alone, keeping the contexts it builds in `contexts`.
fn judge_with(
    snapshot: &Snapshot,
    request: &CheckRequest,
    contexts: &context::Shared,
) -> Result<Diagnosis, JudgeError> {
    let setup = prepare(snapshot, request, contexts, Detail::Full)?;
    let bucket = setup.bucket;
    let mut notes = Vec::new();
    if request.object.is_none() {
        notes.push(format!(
            "no --object given: object-level actions were checked for the placeholder key `{PLACEHOLDER_OBJECT}` at the bucket's root; policies scoped to a prefix can judge the real object differently, and fixes are scoped to all of the bucket's objects (`--object` narrows them)"
        ));
    }
    if let Some(why) = &bucket.account_error {
        notes.push(why.clone());
    }
    if let Some(role) = &setup.role {
        notes.push(format!(
            "S3 and KMS actions are judged for a session of `{}` assumed by `{}`",
            role.principal_arn(),
            request.principal
        ));
    }
    notes.extend(links::caller_note(&setup.source));
    notes.extend(encryption_context::assumed_note(&setup));
    if let Some(service) = &request.via_service {
        notes.push(format!(
            "the S3 requests are made by `{service}` with the caller's credentials (a forward access session): aws:ViaAWSService is true, and the caller's own VPC keys do not reach S3"
        ));
    }
    notes.extend(typo_notes(&setup));

    let mut operations = judge_operations(&setup, None);
    let verdict = verdict_of(&operations);
    if request.object.is_none() {
        proposal::scope_to_bucket(
            &mut operations,
            &setup.object_arn(PLACEHOLDER_OBJECT),
            &setup.object_arn("*"),
        );
        for (placeholder, objects) in replication::placeholder_scopes(&setup) {
            proposal::scope_to_bucket(&mut operations, &placeholder, &objects);
        }
    }
    let assumptions = assume::uses(&setup.snapshot.assumptions, &operations);
    for unused in assumptions.iter().filter(|used| !used.used) {
        notes.push(format!(
            "--assume {} was not used: every document it could stand in for was read, or no link needed it",
            unused.assumption
        ));
    }
    Ok(Diagnosis {
        principal: request.principal.clone(),
        via_role: request.via_role.clone(),
        bucket: bucket.name.clone(),
        object: setup.object_key.clone(),
        object_is_placeholder: request.object.is_none(),
        verdict,
        operations,
        notes,
        // The fixes stage gathers the links' proposals into changes.
        changes: Vec::new(),
        assumptions,
        recheck: None,
    })
}

/// Checks the request against the snapshot and finds what every link needs.
fn prepare<'s>(
    snapshot: &'s Snapshot,
    request: &'s CheckRequest,
    contexts: &'s context::Shared,
    detail: Detail,
) -> Result<Setup<'s>, JudgeError> {
    if request.operations.is_empty() {
        return Err(JudgeError::NoOperation);
    }
    let source = Principal::parse_caller(&request.principal).map_err(JudgeError::Principal)?;
    if !source.is_iam() && request.via_role.is_some() {
        return Err(JudgeError::ViaRoleFromOutside(request.principal.clone()));
    }
    let role = match &request.via_role {
        Some(text) => {
            let role = Principal::parse(text).map_err(JudgeError::ViaRole)?;
            if !matches!(role.kind, PrincipalKind::AssumedRole { .. }) {
                return Err(JudgeError::ViaRoleNotRole(text.clone()));
            }
            Some(role)
        }
        None => None,
    };
    for (text, principal) in [(&request.principal, &source)]
        .into_iter()
        .chain(request.via_role.iter().zip(role.as_ref()))
    {
        if let Some(partition) = snapshot.partition()
            && principal.partition != partition
        {
            return Err(JudgeError::OtherPartition {
                principal: text.clone(),
                partition: principal.partition.clone(),
                snapshot: partition.to_string(),
            });
        }
    }
    let bucket = snapshot
        .buckets
        .iter()
        .find(|bucket| bucket.name == request.bucket)
        .ok_or_else(|| {
            JudgeError::BucketNotInSnapshot(
                request.bucket.clone(),
                suggest::did_you_mean(
                    &request.bucket,
                    snapshot.buckets.iter().map(|bucket| bucket.name.as_str()),
                ),
            )
        })?;
    // S3 User Guide, "Differences for directory buckets": S3 Replication is
    // not supported for directory buckets, so there is nothing to judge.
    if bucket.is_directory() && request.operations.contains(&Operation::Replicate) {
        return Err(JudgeError::ReplicateDirectoryBucket(bucket.name.clone()));
    }
    let object_key = request
        .object
        .clone()
        .unwrap_or_else(|| PLACEHOLDER_OBJECT.to_string());
    let object = bucket
        .objects
        .iter()
        .find(|object| object.key == object_key);
    let source_info = principal::find_info(snapshot, &source);
    let role_info = role
        .as_ref()
        .and_then(|role| principal::find_info(snapshot, role));
    let access_point = match &request.access_point {
        Some(wanted) => Some(find_access_point(snapshot, wanted, &bucket.name)?),
        None => None,
    };
    let setup = Setup {
        snapshot,
        bucket,
        object_key,
        object,
        source,
        role,
        request,
        contexts,
        source_info,
        role_info,
        access_point,
        detail,
        documents: std::cell::OnceCell::new(),
    };
    Ok(setup)
}

/// The access point `--access-point` names by ARN or alias, which must
/// serve the bucket the request names.
fn find_access_point<'s>(
    snapshot: &'s Snapshot,
    wanted: &str,
    bucket: &str,
) -> Result<&'s AccessPointInfo, JudgeError> {
    let found = snapshot.access_point(wanted).ok_or_else(|| {
        JudgeError::AccessPointNotInSnapshot(
            wanted.to_string(),
            suggest::did_you_mean(
                wanted,
                snapshot.access_points.iter().flat_map(|point| {
                    std::iter::once(point.arn.as_str()).chain(point.alias.as_deref())
                }),
            ),
        )
    })?;
    if found.bucket != bucket {
        return Err(JudgeError::AccessPointOtherBucket {
            access_point: wanted.to_string(),
            serves: found.bucket.clone(),
            bucket: bucket.to_string(),
        });
    }
    Ok(found)
}

/// The worst verdict of the operations.
fn verdict_of(operations: &[OperationResult]) -> Verdict {
    operations
        .iter()
        .map(|operation| operation.verdict)
        .max()
        .unwrap_or(Verdict::Allowed)
}

/// Judges the request's operations again over `snapshot` (a copy of the
/// one `before` was judged over, with some documents replaced), copying the
/// result of every action `changed` says reads none of the replaced
/// documents. A copied action holds only what the judge decides (verdicts,
/// links, statuses and reasons), without evidence or fixes.
/// `contexts` are those of the earlier judgement: a context reads no
/// document.
pub(crate) fn rejudge(
    snapshot: &Snapshot,
    request: &CheckRequest,
    before: &[OperationResult],
    changed: &dyn Fn(&PlannedAction) -> bool,
    contexts: &Shared,
) -> Result<(Verdict, Vec<OperationResult>), JudgeError> {
    let setup = prepare(snapshot, request, contexts, Detail::Full)?;
    let operations = judge_operations(&setup, Some((before, changed)));
    Ok((verdict_of(&operations), operations))
}

/// An earlier judgement, and which planned actions may judge differently now.
type Reuse<'a> = (&'a [OperationResult], &'a dyn Fn(&PlannedAction) -> bool);

/// Judges every operation's actions. Operations share actions
/// (`s3:GetObject` for get and put's copy, say); an action's judgement
/// depends on nothing but the setup and the planned action, so each distinct
/// one is judged once. With `reuse`, an action the predicate calls unchanged
/// is copied from the earlier judgement at the same place.
fn judge_operations(setup: &Setup<'_>, reuse: Option<Reuse<'_>>) -> Vec<OperationResult> {
    let mut distinct: Vec<PlannedAction> = Vec::new();
    let mut results: Vec<Option<ActionResult>> = Vec::new();
    let mut uses: Vec<usize> = Vec::new();
    let mut plans: Vec<(Operation, Vec<usize>)> = Vec::new();
    for (position, &operation) in setup.request.operations.iter().enumerate() {
        let mut actions = Vec::new();
        if setup.role.is_some() {
            actions.push(PlannedAction {
                action: "sts:AssumeRole",
                target: Target::Role,
            });
        }
        actions.extend(plan(setup, operation));
        // The plan depends on nothing a re-check replaces, so the earlier
        // judgement has the same actions at the same places; checked all
        // the same, and judged afresh where it does not.
        let earlier = reuse.and_then(|(before, _)| {
            before.get(position).filter(|before| {
                before.operation == operation
                    && before.actions.len() == actions.len()
                    && before
                        .actions
                        .iter()
                        .zip(&actions)
                        .all(|(before, planned)| before.action == planned.action)
            })
        });
        let mut indexes = Vec::with_capacity(actions.len());
        for (place, planned) in actions.into_iter().enumerate() {
            let index = match distinct.iter().position(|seen| *seen == planned) {
                Some(index) => index,
                None => {
                    let copied = match (earlier, reuse) {
                        (Some(before), Some((_, changed))) if !changed(&planned) => {
                            before.actions.get(place).map(decisions_of)
                        }
                        _ => None,
                    };
                    distinct.push(planned);
                    results.push(copied);
                    uses.push(0);
                    distinct.len() - 1
                }
            };
            uses[index] += 1;
            indexes.push(index);
        }
        plans.push((operation, indexes));
    }
    for (planned, result) in distinct.iter().zip(results.iter_mut()) {
        if result.is_none() {
            *result = Some(links::judge_action(setup, planned));
        }
    }
    let mut operations = Vec::with_capacity(plans.len());
    for (operation, indexes) in plans {
        let mut actions = Vec::with_capacity(indexes.len());
        for index in indexes {
            uses[index] -= 1;
            // The last use takes the result; earlier ones copy it.
            let result = match uses[index] {
                0 => results[index].take(),
                _ => results[index].clone(),
            };
            actions.extend(result);
        }
        let verdict = actions
            .iter()
            .map(|action| action.verdict)
            .max()
            .unwrap_or(Verdict::Allowed);
        operations.push(OperationResult {
            operation,
            verdict,
            actions,
        });
    }
    operations
}

/// What a re-check reads of an action judged earlier: its verdict and its
/// links' decisions. Evidence and fixes are left behind: by the time of the
/// re-check the fixes hold whole merged documents, and copying them for
/// every unchanged action cost more than judging it.
fn decisions_of(action: &ActionResult) -> ActionResult {
    let links = action
        .links
        .iter()
        .map(|link| LinkResult {
            link: link.link,
            status: link.status,
            reason: link.reason.clone(),
            evidence: Vec::new(),
            fix: None,
            unknown_keys: link.unknown_keys.clone(),
            help: None,
            change: link.change,
            assumed: link.assumed.clone(),
            layers: None,
        })
        .collect();
    ActionResult {
        action: action.action.clone(),
        resource: action.resource.clone(),
        verdict: action.verdict,
        links,
    }
}

/// "Did you mean" notes for a principal or key the request needs that is
/// not in the snapshot while a close name is: the links then say "not in
/// the snapshot", and this says which entry was probably meant.
fn typo_notes(setup: &Setup<'_>) -> Vec<String> {
    let snapshot = setup.snapshot;
    let mut notes = Vec::new();
    let mut principals = vec![&setup.source];
    principals.extend(setup.role.as_ref());
    for principal in principals {
        if matches!(principal.kind, PrincipalKind::Root)
            || !principal.is_iam()
            || principal::find_info(snapshot, principal).is_some()
        {
            continue;
        }
        let wanted = principal.principal_arn();
        if let Some(close) = suggest::closest(
            &wanted,
            snapshot.principals.iter().map(|info| info.arn.as_str()),
        ) {
            notes.push(format!(
                "`{wanted}` is not in the snapshot's principals; did you mean `{close}`?"
            ));
        }
    }
    let mut configured: Vec<&str> = Vec::new();
    let encryptions = [
        setup.bucket.encryption.known(),
        setup.object.and_then(|object| object.encryption.known()),
    ];
    configured.extend(
        encryptions
            .into_iter()
            .flatten()
            .filter_map(|encryption| encryption.key.as_deref()),
    );
    let header = setup.context_value("s3:x-amz-server-side-encryption-aws-kms-key-id");
    let names: Vec<&str> = snapshot
        .keys
        .iter()
        .flat_map(|info| {
            std::iter::once(info.arn.as_str()).chain(info.aliases.iter().map(String::as_str))
        })
        .collect();
    // The header's key is looked for where S3 resolves it: the writer's
    // account (`keys::resolve_in`).
    let resolved_keys = configured
        .into_iter()
        .map(|key| {
            (
                key,
                keys::resolve(setup, &KeyChoice::Named(key.to_string())),
            )
        })
        .chain(header.map(|key| {
            let choice = KeyChoice::Named(key.to_string());
            (
                key,
                keys::resolve_in(setup, &choice, &setup.actor().account),
            )
        }));
    for (key, resolved) in resolved_keys {
        if resolved.info.is_some() {
            continue;
        }
        let note = suggest::closest(key, names.iter().copied()).map(|close| {
            format!("key `{key}` is not in the snapshot's keys; did you mean `{close}`?")
        });
        if let Some(note) = note.filter(|note| !notes.contains(note)) {
            notes.push(note);
        }
    }
    notes
}

/// The actions an operation needs (docs/guide.md lists them per operation).
fn plan(setup: &Setup<'_>, operation: Operation) -> Vec<PlannedAction> {
    if setup.bucket.is_directory() {
        return directory::plan(setup, operation);
    }
    let object = || Target::Object(setup.object_key.clone());
    let s3 = |action: &'static str, target: Target| PlannedAction { action, target };
    let mut actions = Vec::new();
    match operation {
        Operation::List => actions.push(s3("s3:ListBucket", Target::Bucket)),
        Operation::Head => actions.push(s3("s3:GetObject", object())),
        Operation::Get => {
            actions.push(s3("s3:GetObject", object()));
            actions.extend(read_key(setup).map(|key| s3("kms:Decrypt", Target::Key(key))));
        }
        Operation::Put | Operation::Multipart => {
            actions.push(s3("s3:PutObject", object()));
            if setup.sets_acl() {
                actions.push(s3("s3:PutObjectAcl", object()));
            }
            if let Some(key) = write_key(setup) {
                actions.push(s3("kms:GenerateDataKey", Target::Key(key.clone())));
                if operation == Operation::Multipart {
                    actions.push(s3("kms:Decrypt", Target::Key(key)));
                }
            }
        }
        Operation::Replicate => actions.extend(replication::plan(setup)),
        Operation::Copy => {
            actions.push(s3("s3:GetObject", object()));
            actions.push(s3("s3:PutObject", object()));
            if setup.sets_acl() {
                actions.push(s3("s3:PutObjectAcl", object()));
            }
            actions.extend(read_key(setup).map(|key| s3("kms:Decrypt", Target::Key(key))));
            actions.extend(write_key(setup).map(|key| s3("kms:GenerateDataKey", Target::Key(key))));
        }
    }
    actions
}

/// The encryption that protects the object being read: the object's own when
/// known, else the bucket default. `Field::Unknown` when neither is known.
fn read_encryption<'s>(setup: &Setup<'s>) -> (Field<&'s Encryption>, KeySource) {
    if let Some(object) = setup.object {
        match &object.encryption {
            Field::Some(encryption) => return (Field::Some(encryption), KeySource::Object),
            Field::None => return (Field::None, KeySource::Object),
            Field::Unknown => {}
        }
    }
    (setup.bucket.encryption.as_ref(), KeySource::BucketDefault)
}

/// The key `kms:Decrypt` uses for a read; `None` when no KMS call is made.
pub(crate) fn read_key(setup: &Setup<'_>) -> Option<KeyUse> {
    let (encryption, source) = read_encryption(setup);
    key_use_of(setup, encryption, source)
}

/// The key `kms:GenerateDataKey` uses for a write: the request header's key,
/// else the bucket default (never the key of an object being overwritten).
pub(crate) fn write_key(setup: &Setup<'_>) -> Option<KeyUse> {
    let header_algorithm = setup.context_value("s3:x-amz-server-side-encryption");
    let header_key = setup.context_value("s3:x-amz-server-side-encryption-aws-kms-key-id");
    if let Some(algorithm) = header_algorithm
        && !matches!(algorithm, "aws:kms" | "aws:kms:dsse")
    {
        return None;
    }
    // The algorithm the object is written with: the request's, else the
    // bucket default's.
    let default_algorithm = setup
        .bucket
        .encryption
        .known()
        .map(|encryption| encryption.algorithm.as_str());
    let algorithm = header_algorithm.or(default_algorithm);
    let mut chosen = match header_key {
        Some(key) => KeyUse {
            choice: KeyChoice::Named(key.to_string()),
            source: KeySource::RequestHeader,
            bucket_key: default_bucket_key(setup),
            object: setup.object_key.clone(),
        },
        None => match key_use_of(
            setup,
            setup.bucket.encryption.as_ref(),
            KeySource::BucketDefault,
        ) {
            Some(chosen) => chosen,
            // SSE-KMS asked for in the request with no key named, on a
            // bucket whose default is not SSE-KMS: S3 uses `aws/s3`.
            None if header_algorithm.is_some() => KeyUse {
                choice: KeyChoice::AwsManagedS3,
                source: KeySource::BucketDefault,
                bucket_key: false,
                object: setup.object_key.clone(),
            },
            None => return None,
        },
    };
    // The request's own bucket-key header wins over the bucket default.
    if let Some(enabled) = setup.context_value("s3:x-amz-server-side-encryption-bucket-key-enabled")
    {
        chosen.bucket_key = enabled.eq_ignore_ascii_case("true");
    }
    chosen.bucket_key = kms_hop::bucket_key_applies(algorithm, chosen.bucket_key);
    Some(chosen)
}

fn default_bucket_key(setup: &Setup<'_>) -> bool {
    setup
        .bucket
        .encryption
        .known()
        .and_then(|encryption| encryption.bucket_key)
        .unwrap_or(false)
}

fn key_use_of(
    setup: &Setup<'_>,
    encryption: Field<&Encryption>,
    source: KeySource,
) -> Option<KeyUse> {
    match encryption {
        Field::Some(encryption) if encryption.uses_kms() => Some(KeyUse {
            choice: match &encryption.key {
                Some(key) => KeyChoice::Named(key.clone()),
                None => KeyChoice::AwsManagedS3,
            },
            source,
            bucket_key: kms_hop::bucket_key_applies(
                Some(&encryption.algorithm),
                encryption.bucket_key.unwrap_or(false),
            ),
            object: setup.object_key.clone(),
        }),
        // Not SSE-KMS, or no default encryption (S3 then applies SSE-S3).
        Field::Some(_) | Field::None => None,
        // Unknown encryption: judged as a KMS action whose key is unknown, so
        // the report says what to read rather than guessing no KMS call.
        Field::Unknown => Some(KeyUse {
            choice: KeyChoice::Unknown,
            source,
            bucket_key: false,
            object: setup.object_key.clone(),
        }),
    }
}
