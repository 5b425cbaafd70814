//! The JSON report, `kms-s3-doctor/report@1`: frozen serde
//! types of its own, apart from the engine's [`Diagnosis`], so that the wire
//! format changes only on purpose.
//!
//! Every field is documented for users in `docs/report-format.md`. Beyond
//! the first version's fields: `via_role` (when set), `object_placeholder`,
//! `summary`, `expect`/`expect_met` (with `--expect`), `notes`; per
//! operation `summary`; per link `unknown_keys` and `help` (when non-empty);
//! per evidence `line` and `role`. `fix` is left out when no change can mend the link; `sid` and
//! `line` when there is none; `note` of a fix when it has none.
//! A fix also carries its `target`, and a change of `changes` the whole
//! `document_after`, the change indexes it holds (`with_changes`), the
//! `command` that installs it, its `file` and a `warning`; `recheck` is the
//! verdict after every change is applied to a copy of the snapshot.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diagnosis::{
    ActionResult, AssumptionUse, Diagnosis, Evidence, EvidenceRole, Fix, FixChange, FixTarget,
    LinkResult, LinkStatus, OperationResult, Recheck, Remaining, Verdict,
};

/// The `format` value of this report version.
pub const REPORT_FORMAT: &str = "kms-s3-doctor/report@1";

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportV1 {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    pub principal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_role: Option<String>,
    pub bucket: String,
    pub object: String,
    /// True when `object` is the placeholder key, not a real object.
    #[serde(default)]
    pub object_placeholder: bool,
    pub verdict: VerdictV1,
    /// The verdict line: every operation's verdict with its first broken
    /// link or what it is waiting for (`denied — get denied (key-policy for
    /// kms:Decrypt, account 111111111111) · list allowed`).
    #[serde(default)]
    pub summary: String,
    /// `--expect`: the verdict the caller expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<VerdictV1>,
    /// `--expect`: whether the verdict is the expected one (an inconclusive
    /// verdict meets no expectation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_met: Option<bool>,
    /// Every `--assume` of the run, used or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<AssumptionV1>,
    pub operations: Vec<OperationV1>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Every distinct change that mends a failing link, each once (links
    /// point here with `change`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FixV1>,
    /// The verdict after every change is applied to a copy of the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recheck: Option<RecheckV1>,
    /// `check --event`: the request as the record and the flags named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestV1>,
    /// `check --authorization-id`: AWS's evaluation beside the tool's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_evaluation: Option<super::aws_evaluation::AwsEvaluationV1>,
}

/// The request judged, as a CloudTrail record (and the flags beside it)
/// named it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestV1 {
    /// The record: file, position, service, API call and event id.
    pub source: String,
    pub principal: String,
    pub bucket: String,
    /// `null`: neither the record nor `--object` names an object.
    pub object: Option<String>,
    pub operations: Vec<String>,
    /// The request-context values the record proves, with `--context` laid
    /// over them.
    pub context: BTreeMap<String, String>,
    /// Where each value came from, by field (`principal`, `bucket`,
    /// `object`, `operations`, and each context key): `record:FIELD` (the
    /// record's field, such as `record:userIdentity.arn`), `flag:--NAME`,
    /// `default` (the tool's own), or `unknown` (a context key the record
    /// leaves open, absent from `context`).
    #[serde(default)]
    pub provenance: BTreeMap<String, String>,
}

/// Several requests of one file, each with its report, in the file's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestsV1 {
    pub requests: Vec<ReportV1>,
    /// The worst verdict of them.
    pub verdict: VerdictV1,
}

/// Which document a fix changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetV1 {
    /// The document kind: a link id.
    pub kind: String,
    /// Key ARN, bucket name, role or user ARN, managed policy ARN, SCP or
    /// RCP name.
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub account: String,
}

/// The re-check: the verdict after the changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecheckV1 {
    /// Indexes in `changes` of the changes applied.
    pub applied: Vec<usize>,
    /// Indexes of the changes that are not documents and were not applied.
    pub not_applied: Vec<usize>,
    pub verdict: VerdictV1,
    pub operations: Vec<RecheckOperationV1>,
    /// Links still failing or unknown after the changes.
    pub remaining: Vec<RemainingV1>,
    /// With alternatives: the re-check with each alternative in place of
    /// the change it stands for (additive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative: Option<Box<RecheckV1>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecheckOperationV1 {
    pub operation: String,
    pub verdict: VerdictV1,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemainingV1 {
    pub operation: String,
    pub action: String,
    pub link: String,
    pub status: StatusV1,
    pub reason: String,
    /// The change of this report the link was to be mended by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_index: Option<usize>,
}

/// One assumption asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssumptionV1 {
    /// As given: `scp=allow`, `rcp=allow`, `session-policy=none`.
    pub assume: String,
    /// Whether some link passed only because of it.
    pub used: bool,
    /// What it was taken to say (`the SCPs of account 222222222222 allow`),
    /// once each; empty when unused.
    #[serde(default)]
    pub statements: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictV1 {
    Allowed,
    Inconclusive,
    Denied,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationV1 {
    /// `list`, `head`, `get`, `put`, `multipart`, `copy`.
    pub operation: String,
    pub verdict: VerdictV1,
    /// This operation's part of the verdict line (`get denied (key-policy
    /// for kms:Decrypt, account 111111111111)`).
    #[serde(default)]
    pub summary: String,
    pub actions: Vec<ActionV1>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionV1 {
    pub action: String,
    pub resource: String,
    pub verdict: VerdictV1,
    pub links: Vec<LinkV1>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusV1 {
    Pass,
    Fail,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkV1 {
    /// A link id (`key-policy`, `bucket-policy`, ...).
    pub link: String,
    pub status: StatusV1,
    pub reason: String,
    pub evidence: Vec<EvidenceV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixV1>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Index of this link's fix in the report's `changes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_index: Option<usize>,
    /// The link passed only because of an `--assume`: what was assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleV1 {
    Allows,
    Denies,
    MayApply,
    Context,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceV1 {
    pub document: String,
    /// Index within the document's `Statement` list; `null` for evidence
    /// that is not a statement (a grant, the key's state).
    pub statement: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// 1-based line of the statement in the document as `jq .` prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub role: RoleV1,
    /// Where the statement is in the snapshot file given with `--snapshot`
    /// (when the document is a JSON object there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_position: Option<FilePositionV1>,
    /// Why the statement did or did not apply when its role does not say it
    /// (a policy variable with no value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePositionV1 {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeV1 {
    AddStatement,
    RemoveStatement,
    EditStatement,
    /// The caller changes the request (`flags`), not a document.
    Request,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixV1 {
    /// The account whose admin makes the change.
    pub account: String,
    pub change: ChangeV1,
    /// Which document, as a link id (`key-policy`, `bucket-policy`, ...).
    pub document: String,
    /// The statement to add, remove or edit; `null` for `other`.
    pub statement: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetV1>,
    /// The whole document after every change to the same target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_after: Option<serde_json::Value>,
    /// Indexes in `changes` of the changes `document_after` holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with_changes: Vec<usize>,
    /// The AWS CLI command that installs `document_after` from `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// For `request`: the `check` flags that make the request meet the guard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// What `document_after` gets around (condition keys, or Deny Sids):
    /// present only for a change that widens a guard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widens: Vec<String>,
    /// In `changes` only: the index of the change this one is an
    /// alternative to (either is enough; `apply.sh` installs that one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_to: Option<usize>,
    /// When a `--plan` resource writes the document: the edit to make
    /// there (then there is no `command`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform: Option<TerraformV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerraformV1 {
    /// The resource that writes the document.
    pub address: String,
    /// Its argument holding the document.
    pub attribute: String,
    /// The `aws_iam_policy_document` data source the argument reads.
    #[serde(default)]
    pub data_source: Option<String>,
    /// The plan file that named the resource.
    pub plan: String,
    /// The HCL holding the whole document after the change.
    pub hcl: String,
}

impl From<Verdict> for VerdictV1 {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Allowed => VerdictV1::Allowed,
            Verdict::Inconclusive => VerdictV1::Inconclusive,
            Verdict::Denied => VerdictV1::Denied,
        }
    }
}

impl From<LinkStatus> for StatusV1 {
    fn from(status: LinkStatus) -> Self {
        match status {
            LinkStatus::Pass => StatusV1::Pass,
            LinkStatus::Fail => StatusV1::Fail,
            LinkStatus::Unknown => StatusV1::Unknown,
        }
    }
}

impl From<EvidenceRole> for RoleV1 {
    fn from(role: EvidenceRole) -> Self {
        match role {
            EvidenceRole::Allows => RoleV1::Allows,
            EvidenceRole::Denies => RoleV1::Denies,
            EvidenceRole::MayApply => RoleV1::MayApply,
            EvidenceRole::Context => RoleV1::Context,
        }
    }
}

impl From<FixChange> for ChangeV1 {
    fn from(change: FixChange) -> Self {
        match change {
            FixChange::AddStatement => ChangeV1::AddStatement,
            FixChange::RemoveStatement => ChangeV1::RemoveStatement,
            FixChange::EditStatement => ChangeV1::EditStatement,
            FixChange::Request => ChangeV1::Request,
            FixChange::Other => ChangeV1::Other,
        }
    }
}

impl From<&Evidence> for EvidenceV1 {
    fn from(evidence: &Evidence) -> Self {
        Self {
            document: evidence.document.clone(),
            statement: evidence.statement,
            sid: evidence.sid.clone(),
            line: evidence.line,
            role: evidence.role.into(),
            snapshot_position: evidence.file_position.as_ref().map(|at| FilePositionV1 {
                file: at.file.clone(),
                line: at.line,
                column: at.column,
            }),
            note: evidence.note.clone(),
        }
    }
}

impl From<&Fix> for FixV1 {
    fn from(fix: &Fix) -> Self {
        Self {
            account: fix.account.clone(),
            change: fix.change.into(),
            document: fix.document.clone(),
            statement: fix.statement.clone(),
            note: fix.note_text().map(Cow::into_owned),
            target: fix.target.as_deref().map(TargetV1::from),
            document_after: fix.document_after.clone(),
            with_changes: fix.with_changes.clone(),
            command: fix.command.clone(),
            file: fix.file.clone(),
            warning: fix.warning.clone(),
            flags: fix.flags.clone(),
            widens: fix.widens.clone(),
            alternative_to: fix.alternative_to,
            terraform: fix.terraform.as_deref().map(|edit| TerraformV1 {
                address: edit.address.clone(),
                attribute: edit.attribute.clone(),
                data_source: edit.data_source.clone(),
                plan: edit.plan.clone(),
                hcl: edit.hcl.clone(),
            }),
        }
    }
}

impl From<&FixTarget> for TargetV1 {
    fn from(target: &FixTarget) -> Self {
        Self {
            kind: target.kind.as_str().to_string(),
            resource: target.resource.clone(),
            principal: target.principal.clone(),
            policy_name: target.policy_name.clone(),
            group: target.group.clone(),
            attached_to: target.attached_to.clone(),
            statement: target.statement,
            sid: target.sid.clone(),
            account: target.account.clone(),
        }
    }
}

impl From<&Remaining> for RemainingV1 {
    fn from(remaining: &Remaining) -> Self {
        Self {
            operation: remaining.operation.as_str().to_string(),
            action: remaining.action.clone(),
            link: remaining.link.as_str().to_string(),
            status: remaining.status.into(),
            reason: remaining.reason.clone(),
            change_index: remaining.change,
        }
    }
}

impl From<&Recheck> for RecheckV1 {
    fn from(recheck: &Recheck) -> Self {
        Self {
            applied: recheck.applied.clone(),
            not_applied: recheck.not_applied.clone(),
            verdict: recheck.verdict.into(),
            operations: recheck
                .operations
                .iter()
                .map(|(operation, verdict)| RecheckOperationV1 {
                    operation: operation.as_str().to_string(),
                    verdict: (*verdict).into(),
                })
                .collect(),
            remaining: recheck.remaining.iter().map(RemainingV1::from).collect(),
            alternative: recheck
                .alternative
                .as_deref()
                .map(|alternative| Box::new(RecheckV1::from(alternative))),
        }
    }
}

impl From<&LinkResult> for LinkV1 {
    fn from(link: &LinkResult) -> Self {
        Self {
            link: link.link.as_str().to_string(),
            status: link.status.into(),
            reason: link.reason_text().into_owned(),
            evidence: link.evidence.iter().map(EvidenceV1::from).collect(),
            fix: link.fix.as_deref().map(FixV1::from),
            unknown_keys: link.unknown_keys.clone(),
            help: link
                .help_text()
                .filter(|help| !help.is_empty())
                .map(Cow::into_owned),
            change_index: link.change,
            assumed: link.assumed.clone(),
        }
    }
}

impl From<&AssumptionUse> for AssumptionV1 {
    fn from(used: &AssumptionUse) -> Self {
        Self {
            assume: used.assumption.clone(),
            used: used.used,
            statements: used.statements.clone(),
        }
    }
}

impl From<&ActionResult> for ActionV1 {
    fn from(action: &ActionResult) -> Self {
        Self {
            action: action.action.clone(),
            resource: action.resource.clone(),
            verdict: action.verdict.into(),
            links: action.links.iter().map(LinkV1::from).collect(),
        }
    }
}

impl From<&OperationResult> for OperationV1 {
    fn from(operation: &OperationResult) -> Self {
        Self {
            operation: operation.operation.as_str().to_string(),
            verdict: operation.verdict.into(),
            summary: super::operation_summary(operation),
            actions: operation.actions.iter().map(ActionV1::from).collect(),
        }
    }
}

impl From<&Diagnosis> for ReportV1 {
    fn from(diagnosis: &Diagnosis) -> Self {
        Self {
            format: REPORT_FORMAT.to_string(),
            principal: diagnosis.principal.clone(),
            via_role: diagnosis.via_role.clone(),
            bucket: diagnosis.bucket.clone(),
            object: diagnosis.object.clone(),
            object_placeholder: diagnosis.object_is_placeholder,
            verdict: diagnosis.verdict.into(),
            summary: super::summary(diagnosis),
            expect: None,
            expect_met: None,
            assumptions: diagnosis
                .assumptions
                .iter()
                .map(AssumptionV1::from)
                .collect(),
            operations: diagnosis.operations.iter().map(OperationV1::from).collect(),
            notes: diagnosis.notes.clone(),
            changes: diagnosis.changes.iter().map(FixV1::from).collect(),
            recheck: diagnosis.recheck.as_ref().map(RecheckV1::from),
            request: None,
            aws_evaluation: None,
        }
    }
}

pub(super) fn render(diagnosis: &Diagnosis, expect: Option<Verdict>) -> String {
    pretty(&report(diagnosis, expect, None))
}

fn report(diagnosis: &Diagnosis, expect: Option<Verdict>, request: Option<RequestV1>) -> ReportV1 {
    let mut report = ReportV1::from(diagnosis);
    if let Some(expected) = expect {
        report.expect = Some(expected.into());
        report.expect_met = Some(expected == diagnosis.verdict);
    }
    report.request = request;
    report
}

/// One report with its `request` and `aws_evaluation`.
pub(super) fn render_evaluated(
    diagnosis: &Diagnosis,
    request: RequestV1,
    evaluation: super::aws_evaluation::AwsEvaluationV1,
    expect: Option<Verdict>,
) -> String {
    let mut report = report(diagnosis, expect, Some(request));
    report.aws_evaluation = Some(evaluation);
    pretty(&report)
}

/// One report with its `request`, or, for several, `{"requests", "verdict"}`.
pub(super) fn render_requests(
    judged: &[(&Diagnosis, RequestV1)],
    expect: Option<Verdict>,
) -> String {
    if let [(diagnosis, request)] = judged {
        return pretty(&report(diagnosis, expect, Some(request.clone())));
    }
    let worst = judged
        .iter()
        .map(|(diagnosis, _)| diagnosis.verdict)
        .max()
        .unwrap_or(Verdict::Inconclusive);
    pretty(&RequestsV1 {
        requests: judged
            .iter()
            .map(|(diagnosis, request)| report(diagnosis, expect, Some(request.clone())))
            .collect(),
        verdict: worst.into(),
    })
}

fn pretty(report: &impl Serialize) -> String {
    // Serialising plain structs of strings, numbers and `Value`s cannot
    // fail; the fallback keeps the signature infallible all the same.
    serde_json::to_string_pretty(report).unwrap_or_else(|error| {
        format!(
            "{{\"format\": \"{REPORT_FORMAT}\", \"error\": {}}}",
            serde_json::Value::String(error.to_string())
        )
    })
}
