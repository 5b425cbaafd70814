//! The judge's answer: per operation, per required action, the status of
//! every link of the chain with its reason, evidence and fix. Plain data, no
//! rendering (see `crate::report` for the text, Markdown and JSON forms).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::snapshot::DocRef;

/// Verdict of an action, an operation or a whole report. Ordered from best
/// to worst, so the worst of several is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allowed,
    Inconclusive,
    Denied,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Denied => "denied",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The links of the chain, in the order a request meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkId {
    Scp,
    Rcp,
    TrustPolicy,
    IdentityPolicy,
    PermissionsBoundary,
    SessionPolicy,
    AccessPointPolicy,
    BucketPolicy,
    BlockPublicAccess,
    ObjectOwnership,
    BucketEncryption,
    KeyPolicy,
    KeyState,
    ReplicationConfiguration,
    Versioning,
    ServiceSupport,
    Authentication,
}

impl LinkId {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkId::Scp => "scp",
            LinkId::Rcp => "rcp",
            LinkId::TrustPolicy => "trust-policy",
            LinkId::IdentityPolicy => "identity-policy",
            LinkId::PermissionsBoundary => "permissions-boundary",
            LinkId::SessionPolicy => "session-policy",
            LinkId::AccessPointPolicy => "access-point-policy",
            LinkId::BucketPolicy => "bucket-policy",
            LinkId::BlockPublicAccess => "block-public-access",
            LinkId::ObjectOwnership => "object-ownership",
            LinkId::BucketEncryption => "bucket-encryption",
            LinkId::KeyPolicy => "key-policy",
            LinkId::KeyState => "key-state",
            LinkId::ReplicationConfiguration => "replication-configuration",
            LinkId::Versioning => "versioning",
            LinkId::ServiceSupport => "service-support",
            LinkId::Authentication => "authentication",
        }
    }

    /// A short human name for the chain path in the text report.
    pub fn title(self) -> &'static str {
        match self {
            LinkId::Scp => "SCPs",
            LinkId::Rcp => "RCPs",
            LinkId::TrustPolicy => "trust policy",
            LinkId::IdentityPolicy => "identity policy",
            LinkId::PermissionsBoundary => "permissions boundary",
            LinkId::SessionPolicy => "session policy",
            LinkId::AccessPointPolicy => "access point policy",
            LinkId::BucketPolicy => "bucket policy",
            LinkId::BlockPublicAccess => "Block Public Access",
            LinkId::ObjectOwnership => "object ownership",
            LinkId::BucketEncryption => "bucket encryption",
            LinkId::KeyPolicy => "key policy",
            LinkId::KeyState => "key state",
            LinkId::ReplicationConfiguration => "replication configuration",
            LinkId::Versioning => "versioning",
            LinkId::ServiceSupport => "service support",
            LinkId::Authentication => "authentication",
        }
    }

    pub const ALL: [LinkId; 17] = [
        LinkId::Scp,
        LinkId::Rcp,
        LinkId::TrustPolicy,
        LinkId::IdentityPolicy,
        LinkId::PermissionsBoundary,
        LinkId::SessionPolicy,
        LinkId::AccessPointPolicy,
        LinkId::BucketPolicy,
        LinkId::BlockPublicAccess,
        LinkId::ObjectOwnership,
        LinkId::BucketEncryption,
        LinkId::KeyPolicy,
        LinkId::KeyState,
        LinkId::ReplicationConfiguration,
        LinkId::Versioning,
        LinkId::ServiceSupport,
        LinkId::Authentication,
    ];
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStatus {
    Pass,
    Fail,
    Unknown,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Pass => "pass",
            LinkStatus::Fail => "fail",
            LinkStatus::Unknown => "unknown",
        }
    }
}

/// What a piece of evidence did to the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceRole {
    /// A statement that allows the action.
    Allows,
    /// A statement that explicitly denies it.
    Denies,
    /// A statement whose effect hangs on an unknown context key.
    MayApply,
    /// A statement or fact that explains a failure without being an allow or
    /// deny (a grant whose constraints are not met, say).
    Context,
}

/// A statement (or other fact) that decided a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Label of the document (`bucket policy of `b``, `key policy of `arn``):
    /// the rendering of `doc`.
    pub document: String,
    /// Which document of the snapshot the statement is in; `None` for a
    /// fact that is not a policy statement (a grant, say).
    #[serde(skip)]
    pub doc: Option<Arc<DocRef>>,
    /// Index within the document's `Statement` list.
    pub statement: Option<usize>,
    pub sid: Option<String>,
    /// 1-based line of the statement in the document as `jq .` prints it
    /// (what `aws ... get-*-policy | jq` shows, whatever form AWS returned).
    pub line: Option<usize>,
    pub role: EvidenceRole,
    /// Where the statement is in the snapshot file the user gave, when it is
    /// there as a JSON object. Filled after judging, only for cited
    /// statements.
    pub file_position: Option<FilePosition>,
    /// Why the statement did or did not apply when the role alone does not
    /// say it (a policy variable with no value, say).
    pub note: Option<String>,
}

/// A position in the snapshot file: its name, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilePosition {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// What kind of change a fix asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixChange {
    AddStatement,
    RemoveStatement,
    EditStatement,
    /// Nothing to change in a document: the caller makes the request so
    /// that it meets the guard's condition (`flags` says how).
    Request,
    #[default]
    Other,
}

/// Who must change what to mend a failing link.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fix {
    /// The account whose admin makes the change.
    pub account: String,
    pub change: FixChange,
    /// Which document: a link id (`key-policy`, `bucket-policy`, ...).
    pub document: String,
    /// The statement to add, or the one to remove or edit.
    pub statement: Option<serde_json::Value>,
    /// For `other` (and as extra help for the rest).
    pub note: Option<String>,
    /// The document the change is made to, once resolved against the
    /// snapshot (see `crate::fixes`).
    pub target: Option<Box<FixTarget>>,
    /// The whole document after every change to the same target.
    pub document_after: Option<serde_json::Value>,
    /// Indexes in [`Diagnosis::changes`] of the changes `document_after`
    /// holds (this one included).
    pub with_changes: Vec<usize>,
    /// The AWS CLI command that installs `document_after`, reading it from
    /// `file`.
    pub command: Option<String>,
    /// The file name `command` reads and `--write-fixes` writes.
    pub file: Option<String>,
    /// What to watch out for when running `command`.
    pub warning: Option<String>,
    /// The layers (`--plan`, `--overlay`) the changed document comes from,
    /// one entry per set of them: the change is made there.
    pub edit_layers: Vec<String>,
    /// For a `request` change: the `check` flags that make the request meet
    /// the guard (`--context aws:SecureTransport=true`, `--external-id x`),
    /// which the re-check applies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// What `document_after` gets around compared with the document as read
    /// (condition keys, or the Deny statements it drops): a change that
    /// widens a guard (see `crate::fixes::guard`). Empty for most changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub widens: Vec<String>,
    /// For an `edit-statement` change: `statement` is the statement as
    /// edited, to be put in place of the one the target names (an exception
    /// added to a Deny). Otherwise an edit's statement is the one as read,
    /// which the document after the change no longer holds.
    #[serde(skip)]
    pub replaces: bool,
    /// The change this one is an alternative to (either is enough; the
    /// first is the least privilege and the one `apply.sh` installs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternative_to: Option<usize>,
    /// When a `--plan` resource writes the changed document: the edit to
    /// make there instead of `command`, which the next `terraform apply`
    /// would undo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terraform: Option<Box<TerraformEdit>>,
    /// Where `document_after` differs from the document as read: the
    /// positions of the statements the changes wrote, and of those beside a
    /// statement they removed. `None` when not known; the text and Markdown
    /// reports then show a long document whole.
    #[serde(skip)]
    pub changed_statements: Option<Vec<usize>>,
}

/// A change made in the Terraform configuration that writes the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TerraformEdit {
    /// The resource that writes the document (`aws_s3_bucket_policy.data`).
    pub address: String,
    /// Its argument that holds the document (`policy`,
    /// `assume_role_policy`).
    pub attribute: String,
    /// The `aws_iam_policy_document` data source the argument reads, when
    /// it reads one: the edit is made there.
    pub data_source: Option<String>,
    /// The plan file that named the resource.
    pub plan: String,
    /// The HCL to put in place: the argument as `jsonencode({...})`, or the
    /// data source's block, holding the whole document after the change.
    pub hcl: String,
}

impl Fix {
    /// The note as reports print it: the judge's, then what the change
    /// widens, then where to edit a document that a layer wrote.
    pub fn note_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        let mut note: Option<std::borrow::Cow<'_, str>> = self.note.as_deref().map(Into::into);
        if !self.widens.is_empty() {
            // Said where the change is explained, not only flagged: the
            // reader must know what the change lets through.
            let said = format!(
                "this change widens a guard ({}): it lets requests past what the document as read keeps out; apply it only if the guard itself is wrong",
                self.widens.join(", ")
            );
            note = Some(match note {
                Some(existing) => format!("{existing}; {said}").into(),
                None => said.into(),
            });
        }
        for origins in &self.edit_layers {
            let text = format!("edit {origins} (the document comes from there)");
            note = Some(match note {
                Some(existing) => format!("{existing}; {text}").into(),
                None => text.into(),
            });
        }
        note
    }
}

/// Which document a fix changes: enough to find it without guessing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixTarget {
    /// The document kind: a link id.
    pub kind: LinkId,
    /// The document changed, where it is one the snapshot holds and the
    /// change needs it found exactly (a statement removed or edited, a
    /// session policy, an SCP or RCP).
    #[serde(skip)]
    pub doc: Option<Arc<DocRef>>,
    /// The resource holding the document: key ARN, bucket name, role or user
    /// ARN, managed policy ARN, SCP or RCP name.
    pub resource: String,
    /// The principal whose policy it is (identity policies, boundaries,
    /// session policies).
    pub principal: Option<String>,
    /// The inline policy's name (for a group's inline policy, without the
    /// group).
    pub policy_name: Option<String>,
    /// The group holding a group policy.
    pub group: Option<String>,
    /// For SCPs and RCPs: where the policy is attached.
    pub attached_to: Option<String>,
    /// For removals and edits: the statement's index in the document.
    pub statement: Option<usize>,
    pub sid: Option<String>,
    /// The account whose admin applies the change.
    pub account: String,
}

/// The verdict after every statement change is applied to a copy of the
/// snapshot and the request is judged again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recheck {
    /// Indexes in [`Diagnosis::changes`] of the changes applied.
    pub applied: Vec<usize>,
    /// Indexes of the changes that are not statements and were not applied.
    pub not_applied: Vec<usize>,
    pub verdict: Verdict,
    /// Each operation's verdict after the changes.
    pub operations: Vec<(Operation, Verdict)>,
    /// The links that still fail or are unknown after the changes.
    pub remaining: Vec<Remaining>,
    /// When some changes have alternatives (`Fix::alternative_to`): the
    /// re-check with each alternative in place of the change it stands
    /// for. The re-check itself leaves the alternatives out.
    pub alternative: Option<Box<Recheck>>,
}

/// A link that is still not `pass` after the re-check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remaining {
    pub operation: Operation,
    pub action: String,
    pub link: LinkId,
    pub status: LinkStatus,
    pub reason: String,
    /// The change of the first report this link was to be mended by.
    pub change: Option<usize>,
}

/// The judgement of one link for one action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkResult {
    pub link: LinkId,
    pub status: LinkStatus,
    /// One sentence, lowercase start, no trailing period.
    pub reason: String,
    pub evidence: Vec<Evidence>,
    pub fix: Option<Box<Fix>>,
    /// Context keys an unknown result hangs on.
    pub unknown_keys: Vec<String>,
    /// For unknown links: how to supply what is missing.
    pub help: Option<String>,
    /// Index of this link's fix in [`Diagnosis::changes`].
    pub change: Option<usize>,
    /// Set when the link passes only because the user assumed it
    /// (`--assume`): what was assumed, as a sentence.
    pub assumed: Option<String>,
    /// The plans or overlays that set what this link read; `None` when
    /// nothing was laid over what was read.
    pub layers: Option<Box<Layers>>,
}

/// Which layers (`--plan`, `--overlay`) a link's documents came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Layers {
    /// `plan `p.json``, `overlay `o.json``: named after the reason.
    pub origins: Vec<String>,
    /// Plan resources whose value is unknown until apply, each with its
    /// origin (`` `aws_kms_key.k` (for plan `p.json`) ``): an unknown link
    /// says to judge again after `terraform apply`.
    pub pending_apply: Vec<String>,
}

impl LinkResult {
    /// The reason as reports print it: the judge's, and the layers that set
    /// what it read.
    pub fn reason_text(&self) -> std::borrow::Cow<'_, str> {
        match self.layers.as_deref() {
            Some(layers) if !layers.origins.is_empty() => {
                format!("{}; as set by {}", self.reason, layers.origins.join(", ")).into()
            }
            _ => self.reason.as_str().into(),
        }
    }

    /// How to resolve an unknown link, as reports print it: a value a plan
    /// leaves unknown until apply comes first.
    pub fn help_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        let pending = self
            .layers
            .as_deref()
            .map(|layers| layers.pending_apply.as_slice())
            .filter(|pending| self.status == LinkStatus::Unknown && !pending.is_empty());
        match (pending, self.help.as_deref()) {
            (None, help) => help.map(Into::into),
            (Some(pending), help) => {
                let text = format!(
                    "{} is unknown until the plan is applied; judge again after `terraform apply`, or give the value with --overlay",
                    pending.join(", ")
                );
                Some(match help {
                    Some(help) => format!("{text}; {help}").into(),
                    None => text.into(),
                })
            }
        }
    }
}

/// One AWS action an operation needs, with its links.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionResult {
    /// `s3:GetObject`, `kms:Decrypt`, `sts:AssumeRole`, ...
    pub action: String,
    /// The resource ARN the action is authorized against.
    pub resource: String,
    pub verdict: Verdict,
    pub links: Vec<LinkResult>,
}

impl ActionResult {
    /// `denied` if any link fails, else `inconclusive` if any is unknown,
    /// else `allowed`.
    pub fn verdict_of(links: &[LinkResult]) -> Verdict {
        links
            .iter()
            .map(|link| match link.status {
                LinkStatus::Pass => Verdict::Allowed,
                LinkStatus::Unknown => Verdict::Inconclusive,
                LinkStatus::Fail => Verdict::Denied,
            })
            .max()
            .unwrap_or(Verdict::Allowed)
    }
}

/// The operations `--op` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    List,
    Head,
    Get,
    Put,
    Multipart,
    Copy,
    /// Live replication of the object to the destination of the source
    /// bucket's replication rule, `--principal` being the replication role.
    Replicate,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::List => "list",
            Operation::Head => "head",
            Operation::Get => "get",
            Operation::Put => "put",
            Operation::Multipart => "multipart",
            Operation::Copy => "copy",
            Operation::Replicate => "replicate",
        }
    }

    /// Parses one name of `--op`, case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "list" | "listbucket" => Operation::List,
            "head" | "headobject" => Operation::Head,
            "get" | "getobject" => Operation::Get,
            "put" | "putobject" => Operation::Put,
            "multipart" => Operation::Multipart,
            "copy" | "copyobject" => Operation::Copy,
            "replicate" => Operation::Replicate,
            _ => return None,
        })
    }

    pub const DEFAULT: [Operation; 4] = [
        Operation::List,
        Operation::Get,
        Operation::Put,
        Operation::Multipart,
    ];
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationResult {
    pub operation: Operation,
    pub verdict: Verdict,
    pub actions: Vec<ActionResult>,
}

/// The whole answer for one `check`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// The principal judged (ARN as given or resolved).
    pub principal: String,
    /// With `--via-role`: the role whose session makes the S3/KMS calls.
    pub via_role: Option<String>,
    pub bucket: String,
    /// The object key checked (the placeholder when none was given).
    pub object: String,
    /// True when `object` is the placeholder `kms-s3-doctor-probe`.
    pub object_is_placeholder: bool,
    pub verdict: Verdict,
    pub operations: Vec<OperationResult>,
    /// Things the reader should know (placeholder object, assumptions made).
    pub notes: Vec<String>,
    /// Every distinct change that mends a failing link, each once: the same
    /// fix needed by several actions appears once, and statements to add
    /// that differ only in their actions are merged into one.
    pub changes: Vec<Fix>,
    /// What judging again after the changes found; `None` when there is no
    /// change to apply.
    pub recheck: Option<Recheck>,
    /// Every assumption asked for (`--assume`, or recorded in the snapshot),
    /// used or not.
    pub assumptions: Vec<AssumptionUse>,
}

/// One assumption of the request and what the judge did with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssumptionUse {
    /// As written: `scp=allow`.
    pub assumption: String,
    /// Whether some link passed only because of it.
    pub used: bool,
    /// What it was taken to say, once each: `the SCPs of account
    /// 222222222222 allow`.
    pub statements: Vec<String>,
}

/// Hand-built diagnoses for the tests of the stages that read them.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A failing `key-policy` link proposing `fix`.
    pub(crate) fn failing(fix: Fix) -> LinkResult {
        LinkResult {
            link: LinkId::KeyPolicy,
            status: LinkStatus::Fail,
            reason: String::new(),
            evidence: Vec::new(),
            fix: Some(Box::new(fix)),
            unknown_keys: Vec::new(),
            help: None,
            change: None,
            assumed: None,
            layers: None,
        }
    }

    /// A denied `get` whose one action has `links`.
    pub(crate) fn operation(links: Vec<LinkResult>) -> OperationResult {
        OperationResult {
            operation: Operation::Get,
            verdict: Verdict::Denied,
            actions: vec![ActionResult {
                action: "kms:Decrypt".into(),
                resource: "*".into(),
                verdict: Verdict::Denied,
                links,
            }],
        }
    }
}
