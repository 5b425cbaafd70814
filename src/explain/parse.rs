//! Reading a pasted error text: the envelope it came in (a JSON error body,
//! S3's XML, the AWS CLI's `fatal error:` / `download failed:` lines, an
//! SDK's `An error occurred (CODE) when calling the OP operation:` prefix),
//! then the message form itself. Nothing here decides what it means.

use super::{DenyKind, MessageKind, PolicyType};

/// What the text says, before meaning.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub kind: MessageKind,
    pub error_code: Option<String>,
    pub principal: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub policy_type: Option<PolicyType>,
    pub deny: Option<DenyKind>,
    pub policy_arn: Option<String>,
    pub api_operation: Option<String>,
    /// `s3://bucket/key` of an AWS CLI transfer line.
    pub transfer: Option<Transfer>,
    /// The AWS CLI's high-level `aws s3 cp`/`sync` printed it (`fatal
    /// error:` or a transfer line): it sends HeadObject before GetObject.
    pub from_cli_transfer: bool,
    /// The source object and destination of a replication failure.
    pub replication: Option<super::replication::Replication>,
    /// The request id the text carries (an SDK's `Request ID:`, S3's
    /// `<RequestId>`, a CloudTrail record's `requestID`).
    pub request_id: Option<String>,
    /// The tool or SDK that printed the text, when its wrapper tells.
    pub printed_by: Option<&'static str>,
    /// The output of `aws sts decode-authorization-message`.
    pub decoded: Option<super::decoded_authorization::DecodedAuthorization>,
    /// A pasted CloudTrail record.
    pub record: Option<super::cloudtrail_paste::PastedRecord>,
}

/// `download failed: s3://bucket/key to ./key` and its upload and copy forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Transfer {
    pub direction: Direction,
    pub bucket: String,
    pub key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Download,
    Upload,
    Copy,
}

pub(super) fn parse(message: &str) -> Parsed {
    let text = normalise(message);
    if let Some(found) = super::replication::parse(&text) {
        return found;
    }
    if let Some(mut found) = super::cloudtrail_paste::parse(&text) {
        found.printed_by = Some("CloudTrail");
        return found;
    }
    if let Some(mut found) = super::decoded_authorization::parse(&text) {
        found.printed_by = Some("aws sts decode-authorization-message");
        return found;
    }
    if let Some(unwrapped) = super::stack_traces::unwrap(&text) {
        let mut found = parse_message(&unwrapped.text);
        found.printed_by = Some(unwrapped.printed_by);
        found.request_id = unwrapped.request_id.or(found.request_id);
        found.transfer = unwrapped.transfer.or(found.transfer);
        found.from_cli_transfer = false;
        return found;
    }
    let mut found = parse_message(&text);
    if found.kind == MessageKind::ConsoleBanner {
        found.printed_by = Some("the S3 console");
    }
    found
}

/// A message as the AWS CLI or an SDK prints it (after any other tool's
/// wrapper is taken off).
fn parse_message(text: &str) -> Parsed {
    let request_id = super::stack_traces::request_id(text);
    let (transfer, text) = transfer_line(text);
    let from_cli_transfer = transfer.is_some() || text.starts_with("fatal error:");
    let raw = unwrap_envelope(text.trim_start_matches("fatal error:").trim());
    let api_operation = api_operation(&raw);
    let (error_code, text) = strip_sdk_prefix(&raw);
    let lower = text.to_ascii_lowercase();

    let mut parsed =
        if let Some(found) = super::services::parse(&text, &lower, error_code.as_deref()) {
            found
        } else if let Some(mut found) = parse_not_authorized(&text) {
            if found
                .principal
                .as_deref()
                .is_some_and(super::services::is_origin_access_control_session)
            {
                found.kind = MessageKind::CloudFrontOacKms;
                found.principal = Some("cloudfront.amazonaws.com".to_string());
            }
            found
        } else if lower.contains("ciphertext refers to a") {
            Parsed {
                kind: MessageKind::CiphertextKeyUnavailable,
                action: Some("kms:Decrypt".to_string()),
                ..Parsed::default()
            }
        } else if let Some(found) = parse_key_message(&text, &lower, error_code.as_deref()) {
            found
        } else if is_head_forbidden(&text, error_code.as_deref(), api_operation.as_deref()) {
            Parsed {
                kind: MessageKind::HeadForbidden,
                ..Parsed::default()
            }
        } else if let Some(found) = super::console::parse(&text, &lower) {
            found
        } else if let Some(found) = kms_access_denied(&text, &lower, error_code.as_deref()) {
            found
        } else if is_credentials_expired(&lower, error_code.as_deref()) {
            Parsed {
                kind: MessageKind::CredentialsExpired,
                ..Parsed::default()
            }
        } else if is_bare_access_denied(&text, error_code.as_deref()) {
            Parsed {
                kind: MessageKind::BareAccessDenied,
                ..Parsed::default()
            }
        } else {
            Parsed::default()
        };
    parsed.error_code = error_code;
    parsed.api_operation = api_operation;
    // A service's message may name the bucket itself (CloudTrail's does).
    parsed.transfer = transfer.or(parsed.transfer);
    parsed.from_cli_transfer = from_cli_transfer;
    parsed.request_id = request_id;
    parsed
}

/// KMS's `AccessDeniedException` (or S3's relay of it) in a form that
/// names no principal: the KMS action it names, if any.
fn kms_access_denied(text: &str, lower: &str, code: Option<&str>) -> Option<Parsed> {
    let code = code.unwrap_or_default().to_ascii_lowercase();
    let kms_code = code == "kms.accessdeniedexception";
    let denied = kms_code || code.contains("accessdenied") || lower.contains("access denied");
    let action = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '"' | '\'' | '`'))
        .map(|word| word.trim_end_matches(['.', ':', ';']))
        .find(|word| word.to_ascii_lowercase().starts_with("kms:") && word.len() > 4)
        .map(str::to_string);
    if !denied || (!kms_code && action.is_none()) {
        return None;
    }
    Some(Parsed {
        kind: MessageKind::KmsAccessDenied,
        action,
        ..Parsed::default()
    })
}

/// One line of text: whitespace collapsed (messages wrap in terminals and
/// tickets) and control characters made visible, so that nothing pasted can
/// reach the terminal as an escape sequence.
fn normalise(text: &str) -> String {
    let visible: String = text
        .chars()
        .map(|c| {
            if c.is_control() && !c.is_whitespace() {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The AWS CLI's `download failed: s3://b/k to ./k An error occurred ...`,
/// `upload failed: ./f to s3://b/k ...` and `copy failed: s3://a/k to
/// s3://b/k ...`: the URL the request was for, and the text after it.
fn transfer_line(text: &str) -> (Option<Transfer>, String) {
    let lower = text.to_ascii_lowercase();
    let found = [
        ("download failed: ", Direction::Download),
        ("upload failed: ", Direction::Upload),
        ("copy failed: ", Direction::Copy),
    ]
    .into_iter()
    .find_map(|(marker, direction)| lower.find(marker).map(|at| (at + marker.len(), direction)));
    let Some((start, direction)) = found else {
        return (None, text.to_string());
    };
    let line = &text[start..];
    // The CLI's own error text follows the two paths.
    let error_at = ["An error occurred", "A client error"]
        .iter()
        .filter_map(|marker| line.find(marker))
        .min()
        .unwrap_or(line.len());
    let (paths, rest) = line.split_at(error_at);
    let paths = paths.trim_end();
    // Keys may hold spaces: the download's URL ends at " to ", the upload's
    // at the end of the paths.
    let url = match direction {
        Direction::Download | Direction::Copy => paths
            .strip_prefix("s3://")
            .map(|rest| rest.split(" to ").next().unwrap_or(rest)),
        Direction::Upload => paths
            .find(" to s3://")
            .map(|at| &paths[at + " to s3://".len()..]),
    };
    let transfer = url.and_then(|url| {
        let (bucket, key) = match url.split_once('/') {
            Some((bucket, key)) => (bucket, (!key.is_empty()).then(|| key.to_string())),
            None => (url, None),
        };
        (!bucket.is_empty()).then(|| Transfer {
            direction,
            bucket: bucket.to_string(),
            key,
        })
    });
    (transfer, rest.to_string())
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
                let message = normalise(message);
                return match kind {
                    Some(kind) => format!("({}) {message}", normalise(kind)),
                    None => message,
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

/// The error code in the first parentheses (`AccessDenied`, `403`,
/// `KMS.DisabledException`), and the message after an SDK prefix such as
/// `An error occurred (AccessDenied) when calling the X operation: `.
fn strip_sdk_prefix(text: &str) -> (Option<String>, String) {
    let code = text
        .strip_prefix('(')
        .or_else(|| text.split_once(" (").map(|(_, rest)| rest))
        .and_then(|rest| rest.split_once(')'))
        .map(|(code, _)| code.trim())
        .filter(|code| {
            !code.is_empty()
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        })
        .map(str::to_string);
    // `AccessDeniedException: User: ...` (a Java or JS SDK's rendering).
    let code = code.or_else(|| {
        let (first, _) = text.split_once(": ")?;
        (first.ends_with("Exception")
            && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
        .then(|| first.to_string())
    });
    let message = match text.find(" operation: ") {
        Some(position) => text[position + " operation: ".len()..].to_string(),
        None => match text
            .strip_prefix('(')
            .and_then(|rest| rest.split_once(") "))
        {
            Some((_, message)) => message.to_string(),
            None => text.to_string(),
        },
    };
    (code, message)
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
        ..Parsed::default()
    })
}

/// A word with quotes, brackets and sentence punctuation around it removed.
fn bare_word(word: &str) -> &str {
    word.trim_matches(|c: char| c == '\'' || c == '"' || c == '`' || c == '(' || c == ')')
        .trim_end_matches(['.', ','])
}

/// KMS's key-state and not-found messages, as KMS returns them and as S3
/// relays them for the caller (`KMS.DisabledException`,
/// `KMS.NotFoundException: Invalid keyId aws/s3`).
fn parse_key_message(text: &str, lower: &str, code: Option<&str>) -> Option<Parsed> {
    let code = code.unwrap_or_default().to_ascii_lowercase();
    let code = code.strip_prefix("kms.").unwrap_or(&code);
    let key_arn = text
        .split(' ')
        .map(bare_word)
        .find(|word| word.starts_with("arn:") && word.contains(":kms:") && word.contains(":key/"))
        .map(str::to_string);
    let alias = text
        .split(' ')
        .map(bare_word)
        .find(|word| {
            word.starts_with("alias/") || (word.starts_with("arn:") && word.contains(":alias/"))
        })
        .map(str::to_string);
    // `Invalid keyId aws/s3`, `Invalid arn us-east-1`: what S3 was given.
    let invalid_id = lower
        .find("invalid keyid ")
        .map(|at| bare_word(token(&text[at + "invalid keyid ".len()..]).0.as_str()).to_string())
        .filter(|word| !word.is_empty());

    let kind = if lower.contains("is disabled") || code == "disabledexception" {
        MessageKind::KeyDisabled
    } else if lower.contains("pending deletion") {
        MessageKind::KeyPendingDeletion
    } else if code == "kmsinvalidstateexception"
        || (key_arn.is_some()
            && (lower.contains("is pending import")
                || lower.contains("is unavailable")
                || lower.contains("pending replica deletion")))
    {
        MessageKind::KeyInvalidState
    } else if alias.is_some() && lower.contains("is not found") {
        MessageKind::AliasNotFound
    } else if code == "notfoundexception"
        || ((key_arn.is_some() || alias.is_some())
            && (lower.contains("does not exist") || lower.contains("is not found")))
    {
        let named = key_arn.clone().or(alias.clone()).or(invalid_id.clone());
        let by_alias = named
            .as_deref()
            .is_some_and(|key| key.contains("alias/") || key.starts_with("aws/"));
        if by_alias {
            MessageKind::AliasNotFound
        } else {
            MessageKind::KeyNotFound
        }
    } else {
        return None;
    };
    let resource = key_arn.or(alias).or(invalid_id);
    Some(Parsed {
        kind,
        resource,
        ..Parsed::default()
    })
}

/// `(403) when calling the HeadObject operation: Forbidden`: the status
/// code in place of an error code, `Forbidden` in place of a message.
fn is_head_forbidden(text: &str, code: Option<&str>, api: Option<&str>) -> bool {
    let head = matches!(api, Some("HeadObject" | "HeadBucket"));
    let message = text.trim().trim_end_matches('.');
    head && (code == Some("403")
        || message.eq_ignore_ascii_case("forbidden")
        || message.eq_ignore_ascii_case("access denied"))
}

/// S3's `ExpiredToken` ("The provided token has expired"), AWS's common
/// `ExpiredTokenException` ("The security token included in the request is
/// expired"), and a presigned URL past its expiration ("Request has
/// expired").
fn is_credentials_expired(lower: &str, code: Option<&str>) -> bool {
    matches!(code, Some("ExpiredToken" | "ExpiredTokenException"))
        || lower.contains("the provided token has expired")
        || lower.contains("security token included in the request is expired")
        || lower.contains("request has expired")
}

fn is_bare_access_denied(text: &str, code: Option<&str>) -> bool {
    let message = text.trim().trim_end_matches('.');
    message.eq_ignore_ascii_case("access denied")
        || message.eq_ignore_ascii_case("accessdenied")
        || (message.is_empty() && code == Some("AccessDenied"))
        || (code == Some("403") && message.eq_ignore_ascii_case("forbidden"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(normalise("a\x1b[31m\n b"), "a\\u{1b}[31m b");
    }

    #[test]
    fn transfer_lines_give_bucket_and_key() {
        let (transfer, rest) = transfer_line(
            "download failed: s3://account-a-bucket/reports/q 3.csv to reports/q 3.csv An error occurred (403) when calling the HeadObject operation: Forbidden",
        );
        let transfer = transfer.unwrap();
        assert_eq!(transfer.direction, Direction::Download);
        assert_eq!(transfer.bucket, "account-a-bucket");
        assert_eq!(transfer.key.as_deref(), Some("reports/q 3.csv"));
        assert!(rest.starts_with("An error occurred (403)"));

        let (transfer, _) = transfer_line(
            "upload failed: ./my file.txt to s3://b/in/x.txt An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
        );
        let transfer = transfer.unwrap();
        assert_eq!(transfer.direction, Direction::Upload);
        assert_eq!(transfer.bucket, "b");
        assert_eq!(transfer.key.as_deref(), Some("in/x.txt"));
    }

    #[test]
    fn codes_are_read_from_every_prefix() {
        assert_eq!(
            strip_sdk_prefix(
                "An error occurred (403) when calling the HeadObject operation: Forbidden"
            ),
            (Some("403".to_string()), "Forbidden".to_string())
        );
        assert_eq!(
            strip_sdk_prefix("(KMS.DisabledException) arn:aws:kms:x is disabled.").0,
            Some("KMS.DisabledException".to_string())
        );
        assert_eq!(
            strip_sdk_prefix("AccessDeniedException: User: x is not authorized").0,
            Some("AccessDeniedException".to_string())
        );
    }
}
