//! AWS's own record of a denied request, as IAM Access Troubleshooter (IAM
//! Toolbox `GetRequestAuthorizationDetails`) returns it: the request context
//! AWS evaluated, its per-action evaluations (effect, matched policies and
//! statements) and the policies it read. Owns the pure model, the request
//! it names for the judge (principal, bucket, object, operations, context)
//! and the side-by-side comparison of AWS's evaluation with the tool's
//! verdict (`aws_evaluation` in the report). Pure: the live module fills
//! the model, the command line lays its flags over the request.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{EventError, EventRequest};
use crate::diagnosis::{ActionResult, Diagnosis, LinkId, LinkStatus, Operation, Verdict};
use crate::policy::context_values;
use crate::report::escape_control;

/// The documented form of an authorization ID: the API reference page
/// "GetRequestAuthorizationDetails - IAM Toolbox" gives the pattern
/// `[0123456789abcdefghijklmnopqrstuvwxyz]+`, and the page of
/// GetRequestAuthorizationPolicy a length of at most 256.
pub fn check_authorization_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("--authorization-id: the ID is empty".to_string());
    }
    if id.len() > 256 {
        return Err(format!(
            "--authorization-id: the ID is {} characters long; AWS's are at most 256",
            id.len()
        ));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_digit() || c.is_ascii_lowercase()))
    {
        return Err(format!(
            "--authorization-id: `{}` holds `{}`; an authorization ID is lowercase letters and digits only (copy it from the AccessDenied message)",
            escape_control(id),
            escape_control(&bad.to_string())
        ));
    }
    Ok(())
}

/// What `GetRequestAuthorizationDetails` returned, every page joined.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuthorizationDetails {
    pub authorization_id: String,
    /// The keys shared by every evaluation of the request.
    pub request_context: BTreeMap<String, Value>,
    pub evaluations: Vec<AwsEvaluation>,
    pub policies: Vec<EvaluatedPolicy>,
}

/// One action and resource pair as AWS evaluated it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AwsEvaluation {
    pub action: String,
    pub resource: String,
    /// Keys specific to this evaluation, laid over the request context.
    pub context: BTreeMap<String, Value>,
    /// `ALLOW`, `EXPLICIT_DENY`, `IMPLICIT_DENY`, or a value AWS added later.
    pub effect: String,
    /// Policies that matched; none for an implicit deny.
    pub matched: Vec<MatchedPolicy>,
}

/// A policy that matched in one evaluation, by its URI.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchedPolicy {
    /// The policy ARN of a managed policy, an opaque identifier otherwise.
    pub uri: String,
    pub statements: Vec<MatchedStatement>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchedStatement {
    pub sid: Option<String>,
    /// `ALLOW` or `DENY`.
    pub effect: String,
}

/// A policy AWS evaluated (the details' top-level `policies`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvaluatedPolicy {
    /// `IDENTITY_BASED_POLICY`, `PERMISSIONS_BOUNDARY`,
    /// `RESOURCE_BASED_POLICY`, `RESOURCE_CONTROL_POLICY`,
    /// `SERVICE_CONTROL_POLICY`, `SESSION_POLICY`, `VPC_ENDPOINT_POLICY`.
    pub kind: Option<String>,
    pub inline: Option<bool>,
    pub uri: Option<String>,
    /// ARNs of the entities it is attached to.
    pub attached_to: Vec<String>,
}

impl AuthorizationDetails {
    fn policy(&self, uri: &str) -> Option<&EvaluatedPolicy> {
        self.policies
            .iter()
            .find(|policy| policy.uri.as_deref() == Some(uri))
    }
}

/// The request AWS's details name, in the form `check --event` resolves
/// flags over, and the further values of multi-valued keys.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizedRequest {
    pub request: EventRequest,
    /// Second and later values of a multi-valued key (`aws:CalledVia`).
    pub more_values: Vec<(String, String)>,
}

/// Keys AWS evaluated for the S3 resource that the KMS half (S3's own,
/// separately authorized call) has its own values of: the judge derives them
/// per resource from the snapshot rather than carry the S3 request's over
/// (IAM User Guide, "AWS global condition context keys": `aws:ResourceAccount`,
/// `aws:ResourceOrgID`, `aws:ResourceOrgPaths`, `aws:ResourceTag/`).
fn per_resource(key: &str) -> bool {
    let lowered = key.to_ascii_lowercase();
    lowered.starts_with("aws:resource") || lowered.starts_with("kms:")
}

/// Keys that stand for the request time, which becomes the judging time.
fn is_time(key: &str) -> bool {
    key.eq_ignore_ascii_case("aws:CurrentTime") || key.eq_ignore_ascii_case("aws:EpochTime")
}

fn lookup<'a>(context: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a str> {
    context
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .and_then(|(_, value)| value.as_str())
}

/// The operation of an S3 action, or of S3's call to KMS for an object
/// (S3 User Guide, "Using server-side encryption with AWS KMS keys":
/// `kms:Decrypt` to read, `kms:GenerateDataKey` to write).
fn operation_of(action: &str) -> Option<Operation> {
    Some(match action.to_ascii_lowercase().as_str() {
        "s3:getobject" => Operation::Get,
        "s3:putobject" => Operation::Put,
        "s3:listbucket" => Operation::List,
        "s3:listbucketmultipartuploads"
        | "s3:listmultipartuploadparts"
        | "s3:abortmultipartupload" => Operation::Multipart,
        "kms:decrypt" => Operation::Get,
        "kms:generatedatakey" | "kms:generatedatakeywithoutplaintext" => Operation::Put,
        _ => return None,
    })
}

/// Bucket and key of an S3 ARN (`arn:PARTITION:s3:::bucket/key`).
fn s3_target(arn: &str) -> Option<(String, Option<String>)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("s3"), Some(""), Some(""), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if rest.is_empty() || rest.contains('*') {
        return None;
    }
    Some(match rest.split_once('/') {
        Some((bucket, key)) if !key.is_empty() => (bucket.to_string(), Some(key.to_string())),
        Some((bucket, _)) => (bucket.to_string(), None),
        None => (rest.to_string(), None),
    })
}

/// The principal the request context names. `aws:PrincipalArn` of a role
/// session is the role's ARN and `aws:userid` is `ROLE-ID:SESSION-NAME`
/// (IAM User Guide, "AWS global condition context keys"): together they
/// give the session ARN the tool judges.
fn principal_of(context: &BTreeMap<String, Value>) -> Option<String> {
    let arn = lookup(context, "aws:PrincipalArn")?;
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Some(arn.to_string());
    };
    let Some(role_path) = resource.strip_prefix("role/") else {
        return Some(arn.to_string());
    };
    // A session ARN carries the role's name without its path.
    let role = role_path.rsplit('/').next().unwrap_or(role_path);
    match lookup(context, "aws:userid").and_then(|id| id.split_once(':')) {
        Some((_, session)) if !session.is_empty() => Some(format!(
            "arn:{partition}:sts::{account}:assumed-role/{role}/{session}"
        )),
        _ => Some(arn.to_string()),
    }
}

/// The string forms of one context value: a scalar is one value, a list of
/// scalars several (a multi-valued key); anything else is no value AWS
/// documents for a condition key.
fn values_of(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) => Some(vec![text.clone()]),
        Value::Bool(flag) => Some(vec![flag.to_string()]),
        Value::Number(number) => Some(vec![number.to_string()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Some(text.clone()),
                Value::Bool(flag) => Some(flag.to_string()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
            .collect(),
        Value::Null | Value::Object(_) => None,
    }
}

/// The request AWS's details name, for the judge. Everything comes from
/// AWS's record: the principal from `aws:PrincipalArn` (and `aws:userid`
/// for a role session), bucket, object and operations from the evaluated
/// S3 actions and resources (or the `aws:s3:arn` encryption context of
/// S3's call to KMS), the request context from the shared keys and the S3
/// evaluations' own. What it lacks stays open for the flags.
pub fn request_of(details: &AuthorizationDetails) -> Result<AuthorizedRequest, EventError> {
    let id = &details.authorization_id;
    let source = format!("authorization ID `{id}` (AWS Access Troubleshooter)");
    let mut bucket: Option<String> = None;
    let mut object: Option<String> = None;
    let mut operations: Vec<Operation> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut s3_contexts: Vec<&BTreeMap<String, Value>> = Vec::new();
    let mut saw_kms = false;
    for evaluation in &details.evaluations {
        let Some(operation) = operation_of(&evaluation.action) else {
            continue;
        };
        let target = if evaluation.action.to_ascii_lowercase().starts_with("kms:") {
            saw_kms = true;
            lookup(&evaluation.context, "kms:EncryptionContext:aws:s3:arn")
                .or_else(|| lookup(&details.request_context, "kms:EncryptionContext:aws:s3:arn"))
                .and_then(s3_target)
        } else {
            s3_contexts.push(&evaluation.context);
            s3_target(&evaluation.resource)
        };
        let Some((named_bucket, named_object)) = target else {
            continue;
        };
        if bucket.is_none() {
            bucket = Some(named_bucket);
        }
        if object.is_none() {
            object = named_object;
        }
        if !operations.contains(&operation) {
            operations.push(operation);
        }
    }
    if operations.is_empty() {
        let actions: Vec<String> = details
            .evaluations
            .iter()
            .map(|evaluation| format!("`{}`", escape_control(&evaluation.action)))
            .collect();
        return Err(EventError(format!(
            "{source}: AWS evaluated {}, not an S3 request on a bucket or object nor S3's call to KMS for one: the tool judges only those",
            if actions.is_empty() {
                "no action".to_string()
            } else {
                actions.join(", ")
            }
        )));
    }
    if !saw_kms {
        notes.push(
            "AWS's details cover the S3 request only: S3's call to KMS for the object is authorized by AWS as a separate request, judged here from the documents read".to_string(),
        );
    }
    let mut context: BTreeMap<String, String> = BTreeMap::new();
    let mut more_values: Vec<(String, String)> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut time: Option<DateTime<Utc>> = None;
    let shared = details.request_context.iter();
    let own = s3_contexts.iter().flat_map(|context| context.iter());
    for (key, value) in shared.chain(own) {
        if per_resource(key) {
            continue;
        }
        if is_time(key) {
            if let Some(text) = value.as_str()
                && key.eq_ignore_ascii_case("aws:CurrentTime")
            {
                match DateTime::parse_from_rfc3339(text) {
                    Ok(parsed) => {
                        time = Some(parsed.with_timezone(&Utc));
                        context.insert("aws:CurrentTime".to_string(), text.to_string());
                    }
                    Err(_) => notes.push(format!(
                        "AWS's aws:CurrentTime `{}` is not a time the tool reads: the request time is unknown",
                        escape_control(text)
                    )),
                }
            }
            continue;
        }
        let values = values_of(value).filter(|values| {
            !values.is_empty()
                && values
                    .iter()
                    .all(|one| context_values::validate(key, one).is_ok())
        });
        let Some(values) = values else {
            notes.push(format!(
                "AWS's value of `{}` is not one the tool can read: the key is unknown",
                escape_control(key)
            ));
            unknown.push(key.clone());
            continue;
        };
        // A key of the S3 evaluation is laid over the shared one.
        more_values.retain(|(name, _)| !name.eq_ignore_ascii_case(key));
        context.retain(|name, _| !name.eq_ignore_ascii_case(key));
        let mut values = values.into_iter();
        if let Some(first) = values.next() {
            context.insert(key.clone(), first);
        }
        more_values.extend(values.map(|more| (key.clone(), more)));
    }
    let principal = principal_of(&details.request_context);
    // Every value here is AWS's record of the request: its request context,
    // and the action and resource each evaluation names.
    let mut provenance: BTreeMap<String, String> = context
        .keys()
        .map(|key| (key.clone(), format!("requestContext.{key}")))
        .collect();
    if principal.is_some() {
        provenance.insert(
            "principal".to_string(),
            "requestContext.aws:PrincipalArn".to_string(),
        );
    }
    if bucket.is_some() {
        provenance.insert("bucket".to_string(), "evaluations[].resource".to_string());
    }
    if object.is_some() {
        provenance.insert("object".to_string(), "evaluations[].resource".to_string());
    }
    provenance.insert("operations".to_string(), "evaluations[].action".to_string());
    Ok(AuthorizedRequest {
        request: EventRequest {
            source,
            missing_principal: principal
                .is_none()
                .then(|| "AWS's details name no principal (aws:PrincipalArn)".to_string()),
            principal,
            bucket,
            object,
            operations,
            context,
            time,
            notes,
            unknown,
            provenance,
        },
        more_values,
    })
}

/// Whether AWS's evaluation and the tool's answer agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    Agree,
    Differ,
}

impl Agreement {
    pub fn as_str(self) -> &'static str {
        match self {
            Agreement::Agree => "agree",
            Agreement::Differ => "differ",
        }
    }
}

/// One statement AWS matched, with the link of the tool's chain it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedView {
    pub policy: String,
    pub policy_type: Option<String>,
    pub sid: Option<String>,
    pub effect: String,
    /// `None`: a policy the tool does not judge (a VPC endpoint policy) or
    /// of a type AWS added later.
    pub link: Option<LinkId>,
}

/// The tool's answer for one action.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSide {
    pub action: String,
    pub resource: String,
    pub verdict: Verdict,
    /// The first failing link; for an inconclusive action the first
    /// unknown one; `None` when allowed.
    pub link: Option<LinkId>,
}

/// AWS's evaluation of one action beside the tool's.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionComparison {
    pub action: String,
    pub resource: String,
    pub aws_effect: String,
    pub matched: Vec<MatchedView>,
    /// `None`: the tool judged no such action for the operations checked.
    pub tool: Option<ToolSide>,
    pub agreement: Agreement,
    pub note: Option<String>,
}

/// The whole side-by-side view.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub authorization_id: String,
    pub actions: Vec<ActionComparison>,
    /// Actions the tool judged that AWS's details do not evaluate (S3's call
    /// to KMS, authorized as a separate request).
    pub not_covered: Vec<ToolSide>,
    pub not_covered_note: Option<String>,
}

impl Comparison {
    /// The actions AWS denied when the request was made that the documents
    /// the tool read allow. AWS's record outranks what the tool can see (a
    /// VPC endpoint policy, a document changed since): such an action is
    /// never reported allowed.
    pub fn denied_by_aws_allowed_by_tool(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter(|compared| {
                compared.aws_effect.ends_with("_DENY")
                    && compared
                        .tool
                        .as_ref()
                        .is_some_and(|tool| tool.verdict == Verdict::Allowed)
            })
            .map(|compared| compared.action.as_str())
            .collect()
    }

    /// A sentence for each action AWS denied that the tool allows: the
    /// report's verdict for it is inconclusive, never allowed.
    pub fn warnings(&self) -> Vec<String> {
        self.actions
            .iter()
            .filter(|compared| {
                compared.aws_effect.ends_with("_DENY")
                    && compared
                        .tool
                        .as_ref()
                        .is_some_and(|tool| tool.verdict == Verdict::Allowed)
            })
            .map(|compared| {
                format!(
                    "AWS denied {} when the request was made (authorization ID `{}`), where the documents the tool read allow it: the verdict is inconclusive, not allowed; see AWS's evaluation",
                    escape_control(&compared.action),
                    escape_control(&self.authorization_id)
                )
            })
            .collect()
    }
}

/// The link a matched policy belongs to: its type, and for a resource-based
/// policy the resource the action is on.
fn link_of(policy_type: Option<&str>, action: &str, uri: &str) -> Option<LinkId> {
    let service = action
        .split_once(':')
        .map(|(service, _)| service.to_ascii_lowercase());
    Some(match policy_type? {
        "IDENTITY_BASED_POLICY" => LinkId::IdentityPolicy,
        "PERMISSIONS_BOUNDARY" => LinkId::PermissionsBoundary,
        "SESSION_POLICY" => LinkId::SessionPolicy,
        "SERVICE_CONTROL_POLICY" => LinkId::Scp,
        "RESOURCE_CONTROL_POLICY" => LinkId::Rcp,
        "RESOURCE_BASED_POLICY" => match service.as_deref() {
            Some("kms") => LinkId::KeyPolicy,
            Some("sts") => LinkId::TrustPolicy,
            Some("s3") if uri.contains(":accesspoint/") => LinkId::AccessPointPolicy,
            Some("s3") => LinkId::BucketPolicy,
            _ => return None,
        },
        _ => return None,
    })
}

fn tool_side(action: &ActionResult) -> ToolSide {
    let link = match action.verdict {
        Verdict::Allowed => None,
        Verdict::Denied => action
            .links
            .iter()
            .find(|link| link.status == LinkStatus::Fail)
            .map(|link| link.link),
        Verdict::Inconclusive => action
            .links
            .iter()
            .find(|link| link.status == LinkStatus::Unknown)
            .map(|link| link.link),
    };
    ToolSide {
        action: action.action.clone(),
        resource: action.resource.clone(),
        verdict: action.verdict,
        link,
    }
}

/// Lays AWS's evaluations beside the tool's diagnosis, action by action.
/// Effects agree when AWS allowed and the tool allows, or AWS denied and
/// the tool denies; for an explicit deny the tool must also fail a link
/// AWS's denying statements belong to. An inconclusive tool answer never
/// agrees: it settles nothing.
pub fn compare(details: &AuthorizationDetails, diagnosis: &Diagnosis) -> Comparison {
    let judged: Vec<&ActionResult> = diagnosis
        .operations
        .iter()
        .flat_map(|operation| operation.actions.iter())
        .collect();
    let mut covered: Vec<usize> = Vec::new();
    let mut actions = Vec::new();
    for evaluation in &details.evaluations {
        let same_action =
            |result: &&ActionResult| result.action.eq_ignore_ascii_case(&evaluation.action);
        let found = judged
            .iter()
            .position(|result| same_action(result) && result.resource == evaluation.resource)
            .or_else(|| judged.iter().position(same_action));
        if let Some(index) = found {
            // Every tool action of the same name and resource is covered.
            for (other, result) in judged.iter().enumerate() {
                if result.action == judged[index].action
                    && result.resource == judged[index].resource
                {
                    covered.push(other);
                }
            }
        }
        let matched: Vec<MatchedView> = evaluation
            .matched
            .iter()
            .flat_map(|policy| {
                let kind = details
                    .policy(&policy.uri)
                    .and_then(|info| info.kind.clone());
                policy.statements.iter().map(move |statement| MatchedView {
                    policy: policy.uri.clone(),
                    policy_type: kind.clone(),
                    sid: statement.sid.clone(),
                    effect: statement.effect.clone(),
                    link: link_of(kind.as_deref(), &evaluation.action, &policy.uri),
                })
            })
            .collect();
        let tool = found.map(|index| tool_side(judged[index]));
        let failing: Vec<LinkId> = found
            .map(|index| {
                judged[index]
                    .links
                    .iter()
                    .filter(|link| link.status == LinkStatus::Fail)
                    .map(|link| link.link)
                    .collect()
            })
            .unwrap_or_default();
        let (agreement, note) = judge_agreement(evaluation, &matched, tool.as_ref(), &failing);
        actions.push(ActionComparison {
            action: evaluation.action.clone(),
            resource: evaluation.resource.clone(),
            aws_effect: evaluation.effect.clone(),
            matched,
            tool,
            agreement,
            note,
        });
    }
    let not_covered: Vec<ToolSide> = judged
        .iter()
        .enumerate()
        .filter(|(index, _)| !covered.contains(index))
        .map(|(_, result)| tool_side(result))
        .collect();
    let not_covered_note = not_covered
        .iter()
        .any(|side| side.action.to_ascii_lowercase().starts_with("kms:"))
        .then(|| {
            "AWS authorizes S3's call to KMS as a separate request: these details do not evaluate it, so only the tool's answer is shown".to_string()
        });
    Comparison {
        authorization_id: details.authorization_id.clone(),
        actions,
        not_covered,
        not_covered_note,
    }
}

fn judge_agreement(
    evaluation: &AwsEvaluation,
    matched: &[MatchedView],
    tool: Option<&ToolSide>,
    failing: &[LinkId],
) -> (Agreement, Option<String>) {
    let Some(tool) = tool else {
        return (
            Agreement::Differ,
            Some("the tool judged no such action for the operations checked".to_string()),
        );
    };
    if tool.verdict == Verdict::Inconclusive {
        return (
            Agreement::Differ,
            Some("the tool could not settle this action: see its unknown link".to_string()),
        );
    }
    let tool_denies = tool.verdict == Verdict::Denied;
    match evaluation.effect.as_str() {
        "ALLOW" if !tool_denies => (Agreement::Agree, None),
        "ALLOW" => (
            Agreement::Differ,
            Some("AWS allowed this action when the request was made; the documents the tool read deny it (they may have changed since)".to_string()),
        ),
        "IMPLICIT_DENY" if tool_denies => (Agreement::Agree, None),
        "EXPLICIT_DENY" if tool_denies => {
            let denying: Vec<Option<LinkId>> = matched
                .iter()
                .filter(|statement| statement.effect.eq_ignore_ascii_case("DENY"))
                .map(|statement| statement.link)
                .collect();
            if denying.is_empty()
                || denying
                    .iter()
                    .any(|link| link.is_some_and(|link| failing.contains(&link)))
            {
                (Agreement::Agree, None)
            } else if denying.iter().any(Option::is_none) {
                (
                    Agreement::Differ,
                    Some("AWS's denying statement is in a policy the tool does not judge (such as a VPC endpoint policy)".to_string()),
                )
            } else {
                (
                    Agreement::Differ,
                    Some("both deny, at different links".to_string()),
                )
            }
        }
        "IMPLICIT_DENY" | "EXPLICIT_DENY" => {
            let unjudged = matched
                .iter()
                .any(|statement| statement.effect.eq_ignore_ascii_case("DENY") && statement.link.is_none());
            (
                Agreement::Differ,
                Some(if unjudged {
                    "AWS denied this action by a policy the tool does not judge (such as a VPC endpoint policy)".to_string()
                } else {
                    "AWS denied this action when the request was made; the documents the tool read allow it (they may have changed since, or AWS evaluated a document the snapshot lacks)".to_string()
                }),
            )
        }
        other => (
            Agreement::Differ,
            Some(format!(
                "AWS's effect `{}` is not one the tool knows",
                escape_control(other)
            )),
        ),
    }
}

#[cfg(test)]
mod tests;
