//! `explain MESSAGE`: reads an AccessDenied text from AWS (IAM's "User: ARN
//! is not authorized to perform: ACTION on resource: RES because no ...
//! policy allows ..." forms, S3's bare `Access Denied`, KMS's key-state and
//! ciphertext errors), says which link of the chain it points at, whose admin
//! must look, what to check next, and the `check` command to run.
//!
//! The forms are the ones the IAM User Guide lists under "Troubleshoot
//! access denied error messages" (and its "Access denied error message
//! examples"), the AWS Security Blog post "Enhanced access denied error
//! messages with policy ARNs", and the KMS API reference's errors
//! (`DisabledException`, `KMSInvalidStateException`, `NotFoundException`,
//! `InvalidCiphertextException`).

use std::io::{self, Write};

use colored::Color;
use serde::Serialize;

use crate::arn::{Arn, is_account_id};
use crate::diagnosis::LinkId;

/// The policy type an IAM-style message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    IdentityBased,
    ResourceBased,
    ServiceControlPolicy,
    ResourceControlPolicy,
    PermissionsBoundary,
    SessionPolicy,
    VpcEndpointPolicy,
}

impl PolicyType {
    /// The words AWS uses for it in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::IdentityBased => "identity-based policy",
            PolicyType::ResourceBased => "resource-based policy",
            PolicyType::ServiceControlPolicy => "service control policy",
            PolicyType::ResourceControlPolicy => "resource control policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::SessionPolicy => "session policy",
            PolicyType::VpcEndpointPolicy => "VPC endpoint policy",
        }
    }
}

/// Explicit `Deny` or no `Allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DenyKind {
    Explicit,
    Implicit,
}

/// Which form of message was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageKind {
    /// `User: P is not authorized to perform: A on resource: R ...`.
    NotAuthorized,
    /// S3's `Access Denied` with no detail.
    BareAccessDenied,
    /// KMS: `The ciphertext refers to a customer master key that does not
    /// exist, does not exist in this region, or you are not allowed to
    /// access`.
    CiphertextKeyUnavailable,
    /// KMS `DisabledException`: `KEY is disabled`.
    KeyDisabled,
    /// KMS `KMSInvalidStateException`: `KEY is pending deletion`.
    KeyPendingDeletion,
    /// KMS `KMSInvalidStateException` for another state (pending import,
    /// unavailable, ...).
    KeyInvalidState,
    /// KMS `NotFoundException`: the key does not exist.
    KeyNotFound,
    /// KMS `NotFoundException`: an alias that is not found (aliases do not
    /// work across accounts).
    AliasNotFound,
    /// Not an AccessDenied text the tool knows.
    #[default]
    Unrecognised,
}

/// What a message says, and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// False when the text is not an AccessDenied message the tool knows.
    pub recognised: bool,
    pub kind: MessageKind,
    pub principal: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub policy_type: Option<PolicyType>,
    pub deny: Option<DenyKind>,
    /// The denying policy, when the message names it (same account or
    /// organization only).
    pub policy_arn: Option<String>,
    /// The API operation of an SDK/CLI prefix (`when calling the GetObject
    /// operation`).
    pub api_operation: Option<String>,
    /// The link the message points at, when it names one for sure.
    pub link: Option<LinkId>,
    /// Links that may be at fault when the message does not say which.
    pub suspects: Vec<LinkId>,
    /// One sentence: what the message means.
    pub summary: String,
    /// The account whose admin must look, when it can be told.
    pub account: Option<String>,
    /// Who must look, in words.
    pub owner: Option<String>,
    /// What to check next, most useful first.
    pub next_steps: Vec<String>,
    /// The `kms-s3-doctor check ...` command to run next.
    pub command: Option<String>,
}

/// The `format` of [`explanation_json`].
pub const EXPLAIN_FORMAT: &str = "kms-s3-doctor/explain@1";

/// Parses an AccessDenied message. Never fails: text it does not know gives
/// an explanation with `recognised: false`.
pub fn explain(message: &str) -> Explanation {
    let raw = unwrap_envelope(&collapse_whitespace(message));
    let api_operation = api_operation(&raw);
    let text = strip_sdk_prefix(&raw);
    let lower = text.to_ascii_lowercase();

    let mut parsed = if let Some(found) = parse_not_authorized(&text) {
        found
    } else if lower.contains("ciphertext refers to a") {
        Parsed {
            kind: MessageKind::CiphertextKeyUnavailable,
            action: Some("kms:Decrypt".to_string()),
            ..Parsed::default()
        }
    } else if let Some(found) = parse_key_message(&text, &lower, &raw) {
        found
    } else if is_bare_access_denied(&text, &raw) {
        Parsed {
            kind: MessageKind::BareAccessDenied,
            ..Parsed::default()
        }
    } else {
        Parsed {
            kind: MessageKind::Unrecognised,
            ..Parsed::default()
        }
    };
    parsed.api_operation = api_operation;
    build(parsed)
}

/// The explanation as JSON (`kms-s3-doctor/explain@1`), pretty-printed.
pub fn explanation_json(explanation: &Explanation) -> String {
    #[derive(Serialize)]
    struct Wire<'a> {
        format: &'static str,
        #[serde(flatten)]
        explanation: &'a Explanation,
    }
    let wire = Wire {
        format: EXPLAIN_FORMAT,
        explanation,
    };
    serde_json::to_string_pretty(&wire).unwrap_or_else(|error| {
        format!(
            "{{\"format\": \"{EXPLAIN_FORMAT}\", \"error\": {}}}",
            serde_json::Value::String(error.to_string())
        )
    })
}

/// The explanation for a terminal; `color` adds ANSI styling.
pub fn render_explanation(
    explanation: &Explanation,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let paint = |color_of: Color, text: &str| {
        if color {
            format!("\x1b[{}m{text}\x1b[0m", color_of.to_fg_str())
        } else {
            text.to_string()
        }
    };
    let bold = |text: &str| {
        if color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };

    if !explanation.recognised {
        writeln!(out, "{} {}", paint(Color::Yellow, "?"), explanation.summary)?;
        for step in &explanation.next_steps {
            writeln!(out, "  {} {step}", bold("help:"))?;
        }
        return Ok(());
    }

    writeln!(
        out,
        "{} {}",
        paint(Color::Red, "✗"),
        bold(&explanation.summary)
    )?;
    let field = |label: &str, value: &Option<String>| -> Option<String> {
        value.as_ref().map(|value| format!("  {label:<10} {value}"))
    };
    let deny = explanation.deny.map(|deny| match deny {
        DenyKind::Explicit => "explicit deny".to_string(),
        DenyKind::Implicit => "implicit deny (no allow)".to_string(),
    });
    let policy = explanation
        .policy_type
        .map(|policy| policy.as_str().to_string());
    for line in [
        field("principal", &explanation.principal),
        field("action", &explanation.action),
        field("resource", &explanation.resource),
        field("operation", &explanation.api_operation),
        field("policy", &policy),
        field("deny", &deny),
        field("named", &explanation.policy_arn),
    ]
    .into_iter()
    .flatten()
    {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    match explanation.link {
        Some(link) => writeln!(
            out,
            "{}      {} ({})",
            bold("link"),
            paint(Color::Red, link.as_str()),
            link.title()
        )?,
        None if !explanation.suspects.is_empty() => {
            let suspects: Vec<&str> = explanation
                .suspects
                .iter()
                .map(|link| link.as_str())
                .collect();
            writeln!(
                out,
                "{}      not named by the message; suspects: {}",
                bold("link"),
                paint(Color::Yellow, &suspects.join(", "))
            )?
        }
        None => writeln!(
            out,
            "{}      outside the chain kms-s3-doctor judges",
            bold("link")
        )?,
    }
    if let Some(owner) = &explanation.owner {
        writeln!(out, "{}       {owner}", bold("who"))?;
    }
    if !explanation.next_steps.is_empty() {
        writeln!(out, "{}", bold("next"))?;
        for step in &explanation.next_steps {
            writeln!(out, "  - {step}")?;
        }
    }
    if let Some(command) = &explanation.command {
        writeln!(out, "{}", bold("run"))?;
        writeln!(out, "  {command}")?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Parsing.

#[derive(Debug, Default)]
struct Parsed {
    kind: MessageKind,
    principal: Option<String>,
    action: Option<String>,
    resource: Option<String>,
    policy_type: Option<PolicyType>,
    deny: Option<DenyKind>,
    policy_arn: Option<String>,
    api_operation: Option<String>,
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message inside a JSON error body (`{"__type": ..., "message": ...}`)
/// or an S3 XML error (`<Message>...</Message>`), else the text itself.
fn unwrap_envelope(text: &str) -> String {
    if let Ok(serde_json::Value::Object(body)) = serde_json::from_str::<serde_json::Value>(text) {
        for key in ["message", "Message", "errorMessage"] {
            if let Some(serde_json::Value::String(message)) = body.get(key) {
                let kind = body
                    .get("__type")
                    .or_else(|| body.get("Code"))
                    .or_else(|| body.get("errorCode"))
                    .and_then(serde_json::Value::as_str);
                return match kind {
                    Some(kind) => format!("({kind}) {message}"),
                    None => message.clone(),
                };
            }
        }
    }
    if let Some(message) = between(text, "<Message>", "</Message>") {
        let code = between(text, "<Code>", "</Code>");
        return match code {
            Some(code) => format!("({code}) {message}"),
            None => message.to_string(),
        };
    }
    text.to_string()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].trim())
}

/// `GetObject` from `... when calling the GetObject operation: ...`.
fn api_operation(text: &str) -> Option<String> {
    let marker = "when calling the ";
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let end = rest.find(" operation")?;
    let name = &rest[..end];
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())).then(|| name.to_string())
}

/// Drops `An error occurred (AccessDenied) when calling the X operation: `
/// and similar SDK prefixes, keeping the error code in parentheses.
fn strip_sdk_prefix(text: &str) -> String {
    let code = between(text, "(", ")")
        .filter(|code| code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
        .map(str::to_string);
    if let Some(position) = text.find(" operation: ") {
        let message = &text[position + " operation: ".len()..];
        return match code {
            Some(code) => format!("({code}) {message}"),
            None => message.to_string(),
        };
    }
    text.to_string()
}

/// The word at the start of `text`, without quotes or sentence punctuation.
fn token(text: &str) -> (String, &str) {
    let text = text.trim_start();
    let end = text.find(' ').unwrap_or(text.len());
    let word = text[..end]
        .trim_matches(|c| c == '"' || c == '\'' || c == '`')
        .trim_end_matches(['.', ',', ';'])
        .trim_matches(|c| c == '"' || c == '\'' || c == '`');
    (word.to_string(), &text[end..])
}

fn parse_not_authorized(text: &str) -> Option<Parsed> {
    let lower = text.to_ascii_lowercase();
    let marker = "is not authorized to perform";
    let position = lower.find(marker)?;

    let before = text[..position].trim_end();
    let principal = match before.rfind("User:") {
        Some(at) => before[at + "User:".len()..].trim(),
        None => before.rsplit(' ').next().unwrap_or_default(),
    }
    .trim_matches(|c| c == '"' || c == '\'' || c == '`');
    let principal = (!principal.is_empty()).then(|| principal.to_string());

    let after = text[position + marker.len()..]
        .trim_start()
        .trim_start_matches(':');
    let (action, mut rest) = token(after);
    let action = (!action.is_empty()).then_some(action);

    let mut resource = None;
    let trimmed = rest.trim_start();
    if trimmed.to_ascii_lowercase().starts_with("on resource") {
        let after = trimmed["on resource".len()..]
            .trim_start()
            .trim_start_matches(':');
        let (word, remainder) = token(after);
        if !word.is_empty() {
            resource = Some(word);
        }
        rest = remainder;
    }

    let context = rest.to_ascii_lowercase();
    let policy_type = [
        ("identity-based polic", PolicyType::IdentityBased),
        ("resource-based polic", PolicyType::ResourceBased),
        ("service control polic", PolicyType::ServiceControlPolicy),
        ("resource control polic", PolicyType::ResourceControlPolicy),
        ("permissions boundar", PolicyType::PermissionsBoundary),
        ("session polic", PolicyType::SessionPolicy),
        ("vpc endpoint polic", PolicyType::VpcEndpointPolicy),
    ]
    .into_iter()
    .filter_map(|(phrase, policy)| context.find(phrase).map(|at| (at, policy)))
    .min_by_key(|(at, _)| *at)
    .map(|(_, policy)| policy);
    let deny = if context.contains("explicit deny") {
        Some(DenyKind::Explicit)
    } else if context.contains("because no") {
        Some(DenyKind::Implicit)
    } else {
        None
    };
    let policy_arn = context.find("arn:").map(|at| token(&rest[at..]).0);

    Some(Parsed {
        kind: MessageKind::NotAuthorized,
        principal,
        action,
        resource,
        policy_type,
        deny,
        policy_arn,
        api_operation: None,
    })
}

/// KMS's key-state and not-found messages.
fn parse_key_message(text: &str, lower: &str, raw: &str) -> Option<Parsed> {
    let raw_lower = raw.to_ascii_lowercase();
    let key = text
        .split(' ')
        .map(|word| {
            word.trim_matches(|c: char| c == '\'' || c == '"' || c == '`' || c == '(' || c == ')')
                .trim_end_matches(['.', ','])
        })
        .find(|word| word.starts_with("arn:") && word.contains(":kms:"))
        .map(str::to_string);
    let kind = if lower.contains("is disabled") || raw_lower.contains("disabledexception") {
        MessageKind::KeyDisabled
    } else if lower.contains("pending deletion") {
        MessageKind::KeyPendingDeletion
    } else if raw_lower.contains("kmsinvalidstateexception")
        || (key.is_some()
            && (lower.contains("is pending import")
                || lower.contains("is unavailable")
                || lower.contains("pending replica deletion")))
    {
        MessageKind::KeyInvalidState
    } else if lower.contains("alias") && lower.contains("is not found") {
        MessageKind::AliasNotFound
    } else if (key.is_some() || raw_lower.contains("notfoundexception"))
        && (lower.contains("does not exist") || lower.contains("is not found"))
    {
        MessageKind::KeyNotFound
    } else {
        return None;
    };
    let resource = key.or_else(|| {
        // An alias ARN or name in the not-found form.
        text.split(' ')
            .map(|word| {
                word.trim_matches(|c: char| c == '\'' || c == '"')
                    .trim_end_matches('.')
            })
            .find(|word| word.starts_with("alias/") || word.contains(":alias/"))
            .map(str::to_string)
    });
    Some(Parsed {
        kind,
        resource,
        ..Parsed::default()
    })
}

fn is_bare_access_denied(text: &str, raw: &str) -> bool {
    let message = match text.strip_prefix('(') {
        Some(rest) => rest.split_once(") ").map_or(text, |(_, message)| message),
        None => text,
    };
    let message = message.trim().trim_end_matches('.');
    message.eq_ignore_ascii_case("access denied")
        || message.eq_ignore_ascii_case("accessdenied")
        || (message.is_empty() && raw.contains("AccessDenied"))
}

// ---------------------------------------------------------------------------
// Meaning.

fn account_of(arn: Option<&str>) -> Option<String> {
    let arn = Arn::parse(arn?).ok()?;
    is_account_id(&arn.account).then_some(arn.account)
}

fn service_of(action: Option<&str>) -> Option<String> {
    action?
        .split_once(':')
        .map(|(service, _)| service.to_ascii_lowercase())
}

/// The check operation for an action and the API operation that needed it.
fn check_op(action: Option<&str>, api: Option<&str>) -> Option<&'static str> {
    let from_api = api.and_then(|api| {
        Some(match api {
            "GetObject" => "get",
            "HeadObject" => "head",
            "PutObject" => "put",
            "ListObjects" | "ListObjectsV2" | "ListObjectVersions" => "list",
            "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => "multipart",
            "CopyObject" | "UploadPartCopy" => "copy",
            _ => return None,
        })
    });
    if from_api.is_some() {
        return from_api;
    }
    Some(match action?.to_ascii_lowercase().as_str() {
        "s3:getobject" | "kms:decrypt" | "s3:getobjectversion" => "get",
        "s3:putobject" | "s3:putobjectacl" => "put",
        "s3:listbucket" | "s3:listbucketversions" => "list",
        "kms:generatedatakey" => "put",
        _ => return None,
    })
}

/// Quotes a value for a POSIX shell when it needs it.
fn shell_quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/_.@+=,-".contains(c));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `kms-s3-doctor check ...` prefilled with what the message gave.
fn check_command(parsed: &Parsed) -> String {
    let mut words = vec!["kms-s3-doctor".to_string(), "check".to_string()];
    let s3_resource = parsed
        .resource
        .as_deref()
        .and_then(|resource| resource.strip_prefix("arn:aws:s3:::"))
        .or_else(|| {
            parsed
                .resource
                .as_deref()
                .and_then(|resource| Arn::parse(resource).ok())
                .filter(|arn| arn.service == "s3" && arn.region.is_empty())
                .map(|_| "")
        });
    let (bucket, object) = match s3_resource.filter(|rest| !rest.is_empty()) {
        Some(rest) => match rest.split_once('/') {
            Some((bucket, key)) if !key.is_empty() && !key.contains('*') => {
                (bucket.to_string(), Some(key.to_string()))
            }
            Some((bucket, _)) => (bucket.to_string(), None),
            None => (rest.to_string(), None),
        },
        None => ("BUCKET".to_string(), None),
    };
    words.push("--bucket".to_string());
    words.push(shell_quote(&bucket));
    if let Some(object) = object {
        words.push("--object".to_string());
        words.push(shell_quote(&object));
    }
    if let Some(principal) = parsed
        .principal
        .as_deref()
        .filter(|principal| principal.starts_with("arn:"))
    {
        words.push("--principal".to_string());
        words.push(shell_quote(principal));
    }
    let assume_role = parsed
        .action
        .as_deref()
        .is_some_and(|action| action.eq_ignore_ascii_case("sts:AssumeRole"));
    if let Some(role) = parsed
        .resource
        .as_deref()
        .filter(|role| assume_role && role.starts_with("arn:"))
    {
        words.push("--via-role".to_string());
        words.push(shell_quote(role));
    }
    if let Some(op) = check_op(parsed.action.as_deref(), parsed.api_operation.as_deref()) {
        words.push("--op".to_string());
        words.push(op.to_string());
    }
    words.join(" ")
}

fn code(text: &str) -> String {
    format!("`{text}`")
}

fn build(parsed: Parsed) -> Explanation {
    let kind = parsed.kind;
    let principal_account = account_of(parsed.principal.as_deref());
    let resource_account = account_of(parsed.resource.as_deref());
    let service = service_of(parsed.action.as_deref());
    let action_text = parsed
        .action
        .as_deref()
        .map_or_else(|| "the action".to_string(), code);
    let principal_text = parsed
        .principal
        .as_deref()
        .map_or_else(|| "the caller".to_string(), code);
    let resource_text = parsed
        .resource
        .as_deref()
        .map_or_else(|| "the resource".to_string(), code);
    let command = Some(check_command(&parsed));
    let bucket_placeholder = command
        .as_deref()
        .is_some_and(|command| command.contains("--bucket BUCKET"));
    let admin_of = |account: &Option<String>, whose: &str| -> Option<String> {
        account
            .as_ref()
            .map(|account| format!("the admin of account {account} ({whose})"))
    };

    let mut link = None;
    let mut suspects = Vec::new();
    let mut account = None;
    let mut owner = None;
    let mut next_steps = Vec::new();
    let summary;

    match kind {
        MessageKind::Unrecognised => {
            return Explanation {
                recognised: false,
                kind,
                principal: None,
                action: None,
                resource: None,
                policy_type: None,
                deny: None,
                policy_arn: None,
                api_operation: parsed.api_operation,
                link: None,
                suspects: Vec::new(),
                summary: "not a recognised AccessDenied message".to_string(),
                account: None,
                owner: None,
                next_steps: vec![
                    "paste the whole error text, such as `User: ARN is not authorized to perform: ACTION on resource: RESOURCE because no resource-based policy allows the ACTION action`".to_string(),
                    "or run `kms-s3-doctor check --bucket BUCKET --principal ARN` to judge the whole chain".to_string(),
                ],
                command: None,
            };
        }
        MessageKind::NotAuthorized => {
            let explicit = parsed.deny == Some(DenyKind::Explicit);
            let resource_link = match service.as_deref() {
                Some("kms") => Some(LinkId::KeyPolicy),
                Some("s3") => Some(LinkId::BucketPolicy),
                Some("sts") => Some(LinkId::TrustPolicy),
                _ => None,
            };
            let resource_owner = match service.as_deref() {
                Some("kms") => "the key's owner",
                Some("s3") => "the bucket owner",
                Some("sts") => "the role's owner",
                _ => "the resource's owner",
            };
            match parsed.policy_type {
                Some(PolicyType::IdentityBased) => {
                    link = Some(LinkId::IdentityPolicy);
                    account = principal_account.clone();
                    owner = admin_of(&account, "the principal's account");
                    summary = if explicit {
                        format!(
                            "an identity-based policy of {principal_text} explicitly denies {action_text}"
                        )
                    } else {
                        format!("no identity-based policy of {principal_text} allows {action_text}")
                    };
                    next_steps.push(if explicit {
                        format!("find the `Deny` for {action_text} in the policies of {principal_text} (inline, managed, and its groups') and narrow or remove it")
                    } else {
                        format!("add an `Allow` for {action_text} on {resource_text} to an identity policy of {principal_text}; across accounts the resource's policy must allow it too")
                    });
                }
                Some(PolicyType::ResourceBased) => {
                    link = resource_link;
                    account = resource_account.clone();
                    owner = admin_of(&account, resource_owner)
                        .or_else(|| Some(format!("the admin of {resource_owner}")));
                    let document = match link {
                        Some(LinkId::KeyPolicy) => "the key policy (or a grant)".to_string(),
                        Some(LinkId::BucketPolicy) => "the bucket policy".to_string(),
                        Some(LinkId::TrustPolicy) => "the role's trust policy".to_string(),
                        _ => "the resource-based policy".to_string(),
                    };
                    summary = if explicit {
                        format!("{document} explicitly denies {action_text} to {principal_text}")
                    } else {
                        format!(
                            "no statement of {document} allows {action_text} for {principal_text}"
                        )
                    };
                    next_steps.push(match (link, explicit) {
                        (Some(LinkId::KeyPolicy), true) => format!("find the `Deny` in the key policy of {resource_text} that matches {principal_text} (look at `kms:ViaService`, `kms:CallerAccount` and encryption-context conditions)"),
                        (Some(LinkId::KeyPolicy), false) => format!("the key policy of {resource_text} must allow {action_text} to {principal_text} or its account (then its identity policy must allow it too), or a grant must cover it: `aws kms get-key-policy --key-id KEY --policy-name default`, `aws kms list-grants --key-id KEY`"),
                        (Some(LinkId::BucketPolicy), true) => format!("find the `Deny` in the bucket policy that matches {principal_text} and {action_text} (look at `NotPrincipal`, `aws:SourceVpce`, `aws:SecureTransport` and encryption-header conditions)"),
                        (Some(LinkId::BucketPolicy), false) => format!("the bucket policy must allow {action_text} on {resource_text} to {principal_text} or its account; across accounts its identity policy must allow it too"),
                        (Some(LinkId::TrustPolicy), true) => format!("find the `Deny` in the trust policy of {resource_text} that matches {principal_text}"),
                        (Some(LinkId::TrustPolicy), false) => format!("the trust policy of {resource_text} must allow `sts:AssumeRole` to {principal_text} (check its conditions, such as `sts:ExternalId`); across accounts the caller's identity policy must allow it too"),
                        (_, true) => format!("find the `Deny` in the resource-based policy of {resource_text}"),
                        (_, false) => format!("the resource-based policy of {resource_text} must allow {action_text}"),
                    });
                }
                Some(PolicyType::ServiceControlPolicy) => {
                    link = Some(LinkId::Scp);
                    account = principal_account.clone();
                    let management = account_of(parsed.policy_arn.as_deref())
                        .map(|management| format!(" {management}"))
                        .unwrap_or_default();
                    owner = Some(match &account {
                        Some(account) => format!(
                            "the admin of the organization's management account{management}, for the SCPs of account {account}"
                        ),
                        None => format!(
                            "the admin of the organization's management account{management}"
                        ),
                    });
                    summary = if explicit {
                        format!(
                            "a service control policy explicitly denies {action_text} to {principal_text}"
                        )
                    } else {
                        format!(
                            "at some level of the organization no service control policy allows {action_text}"
                        )
                    };
                    let target = account.clone().unwrap_or_else(|| "ACCOUNT".to_string());
                    next_steps.push(format!("list the SCPs of the root, every OU and account {target} (`aws organizations list-policies-for-target --target-id {target} --filter SERVICE_CONTROL_POLICY`, and for each parent); every level must allow {action_text} and none may deny it"));
                }
                Some(PolicyType::ResourceControlPolicy) => {
                    link = Some(LinkId::Rcp);
                    account = resource_account.clone();
                    owner = Some(match &account {
                        Some(account) => format!(
                            "the admin of the organization's management account, for the RCPs of account {account} ({resource_owner})"
                        ),
                        None => format!(
                            "the admin of the organization's management account, for the RCPs of {resource_owner}'s account"
                        ),
                    });
                    summary = if explicit {
                        format!(
                            "a resource control policy explicitly denies {action_text} on {resource_text}"
                        )
                    } else {
                        format!(
                            "at some level of the organization no resource control policy allows {action_text} on {resource_text}"
                        )
                    };
                    let target = account.clone().unwrap_or_else(|| "ACCOUNT".to_string());
                    next_steps.push(format!("list the RCPs of the root, every OU and account {target} (`aws organizations list-policies-for-target --target-id {target} --filter RESOURCE_CONTROL_POLICY`); custom RCPs usually deny callers from outside the organization"));
                }
                Some(PolicyType::PermissionsBoundary) => {
                    link = Some(LinkId::PermissionsBoundary);
                    account = principal_account.clone();
                    owner = admin_of(&account, "the principal's account");
                    summary = if explicit {
                        format!(
                            "the permissions boundary of {principal_text} explicitly denies {action_text}"
                        )
                    } else {
                        format!(
                            "the permissions boundary of {principal_text} does not allow {action_text}"
                        )
                    };
                    next_steps.push(format!("read the boundary (`PermissionsBoundary` in `aws iam get-user` or `aws iam get-role`) and add {action_text} on {resource_text} to it; a boundary caps what the identity policies grant"));
                }
                Some(PolicyType::SessionPolicy) => {
                    link = Some(LinkId::SessionPolicy);
                    account = principal_account.clone();
                    owner = Some(match &account {
                        Some(account) => format!("whoever creates the session in account {account} (the caller of `sts:AssumeRole` or the identity provider)"),
                        None => "whoever creates the session (the caller of `sts:AssumeRole` or the identity provider)".to_string(),
                    });
                    summary = if explicit {
                        format!(
                            "the session policy of {principal_text} explicitly denies {action_text}"
                        )
                    } else {
                        format!(
                            "the session policy of {principal_text} does not allow {action_text}"
                        )
                    };
                    next_steps.push(format!("the session policy passed when the session was created (`--policy` / `--policy-arns` of `aws sts assume-role`, or the identity provider's) must allow {action_text}; it caps the role's own policies"));
                }
                Some(PolicyType::VpcEndpointPolicy) => {
                    owner = Some(
                        "the admin of the account that owns the VPC endpoint (often the caller's)"
                            .to_string(),
                    );
                    summary = if explicit {
                        format!(
                            "the policy of the VPC endpoint the request went through explicitly denies {action_text}"
                        )
                    } else {
                        format!(
                            "the policy of the VPC endpoint the request went through does not allow {action_text}"
                        )
                    };
                    next_steps.push(format!("read the endpoint policy (`aws ec2 describe-vpc-endpoints`) and allow {action_text} on {resource_text}; kms-s3-doctor does not judge VPC endpoint policies"));
                }
                None => {
                    // Older forms, KMS's among them, name no policy type.
                    suspects = match service.as_deref() {
                        Some("kms") => vec![LinkId::KeyPolicy, LinkId::IdentityPolicy, LinkId::Scp],
                        Some("s3") => {
                            vec![LinkId::BucketPolicy, LinkId::IdentityPolicy, LinkId::Scp]
                        }
                        Some("sts") => {
                            vec![LinkId::TrustPolicy, LinkId::IdentityPolicy, LinkId::Scp]
                        }
                        _ => vec![LinkId::IdentityPolicy, LinkId::Scp],
                    };
                    summary = format!(
                        "{principal_text} may not use {action_text} on {resource_text}, and the message does not say which policy refused"
                    );
                    next_steps.push("run the check below: it judges every policy of the chain and names the one that refuses".to_string());
                    if service.as_deref() == Some("kms") {
                        account = resource_account.clone();
                        owner = admin_of(&account, "the key's owner");
                        next_steps.push(format!("across accounts the key policy of {resource_text} must allow the caller or its account, and the caller's identity policy must allow {action_text} on the key ARN (not an alias)"));
                    }
                }
            }
            if let Some(policy_arn) = &parsed.policy_arn {
                next_steps.insert(0, format!("the message names the policy: `{policy_arn}`"));
            }
        }
        MessageKind::BareAccessDenied => {
            suspects = vec![
                LinkId::BucketPolicy,
                LinkId::IdentityPolicy,
                LinkId::KeyPolicy,
                LinkId::ObjectOwnership,
                LinkId::Scp,
                LinkId::Rcp,
            ];
            summary = "S3 refused the request without saying which policy: it does so across accounts and when the KMS call it makes for the caller fails".to_string();
            next_steps.push("run the check below: it judges the bucket policy, the key policy and the caller's policies together".to_string());
            next_steps.push("find the request in CloudTrail (`errorCode: AccessDenied`) for the exact principal, action and resource".to_string());
        }
        MessageKind::CiphertextKeyUnavailable => {
            suspects = vec![LinkId::KeyPolicy, LinkId::IdentityPolicy, LinkId::KeyState];
            summary = "KMS could not use the object's key for the caller: the key does not exist, is in another region, or the caller may not use it".to_string();
            next_steps.push("read the object's key: `aws s3api head-object --bucket BUCKET --key KEY` (`SSEKMSKeyId`)".to_string());
            next_steps.push("that key must exist in the bucket's region, and across accounts its key policy must allow the caller's account `kms:Decrypt` and the caller's identity policy must allow it on the key ARN".to_string());
        }
        MessageKind::KeyDisabled
        | MessageKind::KeyPendingDeletion
        | MessageKind::KeyInvalidState => {
            link = Some(LinkId::KeyState);
            account = resource_account.clone();
            owner = admin_of(&account, "the key's owner")
                .or_else(|| Some("the admin of the key's account".to_string()));
            let key = parsed.resource.clone().unwrap_or_else(|| "KEY".to_string());
            match kind {
                MessageKind::KeyDisabled => {
                    summary =
                        format!("the KMS key {resource_text} is disabled, so no one can use it");
                    next_steps.push(format!("enable it (`aws kms enable-key --key-id {key}`) or encrypt with another key"));
                }
                MessageKind::KeyPendingDeletion => {
                    summary = format!(
                        "the KMS key {resource_text} is pending deletion, so no one can use it"
                    );
                    next_steps.push(format!("cancel the deletion before the waiting period ends (`aws kms cancel-key-deletion --key-id {key}`), then enable it (`aws kms enable-key --key-id {key}`); objects under a deleted key cannot be read again"));
                }
                _ => {
                    summary = format!("the KMS key {resource_text} is not in a usable state");
                    next_steps.push(format!("read its state (`aws kms describe-key --key-id {key}`, `KeyState`); it must be `Enabled`"));
                }
            }
        }
        MessageKind::KeyNotFound => {
            link = Some(LinkId::KeyState);
            suspects = vec![LinkId::BucketEncryption];
            account = resource_account.clone();
            owner = admin_of(&account, "the key's owner");
            summary = format!("the KMS key {resource_text} does not exist, or not in this region");
            next_steps.push("check the key named by the bucket's default encryption (`aws s3api get-bucket-encryption --bucket BUCKET`) or by the request's `x-amz-server-side-encryption-aws-kms-key-id`".to_string());
        }
        MessageKind::AliasNotFound => {
            link = Some(LinkId::BucketEncryption);
            suspects = vec![LinkId::KeyState];
            account = resource_account.clone();
            owner = Some("the bucket owner's admin".to_string());
            summary = format!(
                "the KMS alias {resource_text} is not found for the caller: aliases and bare key ids only work within the key's account"
            );
            next_steps.push("name the key by its full key ARN in the bucket's default encryption (`aws s3api put-bucket-encryption`) or in the request's `x-amz-server-side-encryption-aws-kms-key-id`".to_string());
        }
    }
    if bucket_placeholder {
        next_steps.push(
            "replace `BUCKET` in the command below with the bucket the request was for".to_string(),
        );
    }

    Explanation {
        recognised: true,
        kind,
        principal: parsed.principal,
        action: parsed.action,
        resource: parsed.resource,
        policy_type: parsed.policy_type,
        deny: parsed.deny,
        policy_arn: parsed.policy_arn,
        api_operation: parsed.api_operation,
        link,
        suspects,
        summary,
        account,
        owner,
        next_steps,
        command,
    }
}

#[cfg(test)]
mod tests;
