//! IAM Access Troubleshooter's record of a denied request: one read-only
//! operation, `GetRequestAuthorizationDetails` (IAM Toolbox), paged through
//! `nextToken`, through a client with the same profile, region, endpoint,
//! timeouts, read-only guard and call log as every other client, mapped into
//! the pure model of `crate::event::authorization`. Its failures (unknown or
//! expired ID, missing permission, throttling, unreachable endpoint, an
//! answer that cannot be read) are told apart, each in one line.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iamtoolbox::error::ProvideErrorMetadata;
use aws_sdk_iamtoolbox::operation::get_request_authorization_details::GetRequestAuthorizationDetailsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::Document;
use serde_json::Value;

use super::aws::{ReadOnlyGuard, Reader, innermost};
use crate::event::authorization::{
    AuthorizationDetails, AwsEvaluation, EvaluatedPolicy, MatchedPolicy, MatchedStatement,
};
use crate::report::escape_control;

/// Where and as whom to ask.
#[derive(Debug, Clone)]
pub struct ToolboxRequest {
    pub authorization_id: String,
    /// The profile to call with: one of the denied principal's account or
    /// organization ("GetRequestAuthorizationPolicy - IAM Toolbox": access
    /// depends on the account and organization recorded for the principal).
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub timeout: Duration,
}

/// Why AWS's details could not be had. Each says what happened in one line,
/// never with a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolboxError {
    /// `ResourceNotFoundException`.
    #[error(
        "AWS has no authorization details for `{id}`: the ID is unknown, expired (AWS keeps them at least 24 hours), of another region, or of a principal outside the caller's account or organization"
    )]
    NotFound { id: String },
    /// `AccessDeniedException` or HTTP 403.
    #[error(
        "{who} may not read AWS's authorization details ({code}): it needs iam:GetRequestAuthorizationDetails (docs/permissions/access-troubleshooter.json)"
    )]
    Denied { who: String, code: String },
    /// `ThrottlingException` or HTTP 429, after the SDK's retries.
    #[error("IAM Toolbox is throttling requests ({0}): try again in a moment")]
    Throttled(String),
    /// `ValidationException`: AWS refused the request as malformed.
    #[error("IAM Toolbox refused the authorization ID `{id}`: {message}")]
    Refused { id: String, message: String },
    /// No answer: endpoint unreachable, timed out, no credentials.
    #[error("cannot reach IAM Toolbox at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    /// An answer that is not the documented response.
    #[error("IAM Toolbox's answer cannot be read: {0}")]
    Malformed(String),
    /// Any other failure (`InternalServerException`, ...).
    #[error("IAM Toolbox failed: {0}")]
    Failed(String),
}

/// Pages read at most: a server that keeps handing out tokens is not
/// followed forever.
const MAX_PAGES: usize = 1000;

/// Every page of AWS's details for the ID. Builds its own runtime.
pub fn fetch_authorization_details(
    request: &ToolboxRequest,
) -> Result<AuthorizationDetails, ToolboxError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            ToolboxError::Failed(format!("cannot start the async runtime: {error}"))
        })?;
    runtime.block_on(async {
        match tokio::time::timeout(request.timeout, fetch(request)).await {
            Ok(result) => result,
            Err(_) => Err(ToolboxError::Unreachable {
                endpoint: endpoint_label(request),
                reason: format!(
                    "nothing finished within {}s (--timeout)",
                    request.timeout.as_secs_f64()
                ),
            }),
        }
    })
}

fn endpoint_label(request: &ToolboxRequest) -> String {
    request
        .endpoint_url
        .clone()
        .unwrap_or_else(|| "its AWS endpoint".to_string())
}

async fn fetch(request: &ToolboxRequest) -> Result<AuthorizationDetails, ToolboxError> {
    let reader = Reader::load(
        request.profile.as_deref(),
        request.region.as_deref(),
        request.endpoint_url.as_deref(),
        request.timeout,
        ReadOnlyGuard::default(),
        &super::limits::Limits::new(super::LiveLimits::default()),
        None,
    )
    .await;
    if let Some(reason) = reader.missing_setup() {
        return Err(ToolboxError::Unreachable {
            endpoint: endpoint_label(request),
            reason: format!("no usable aws credentials for {}: {reason}", reader.label),
        });
    }
    let client = reader.toolbox();
    let mut details = AuthorizationDetails {
        authorization_id: request.authorization_id.clone(),
        ..AuthorizationDetails::default()
    };
    let mut token: Option<String> = None;
    let mut seen_tokens: Vec<String> = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .get_request_authorization_details()
            .authorization_id(&request.authorization_id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|error| failure(&error, request, &reader.label))?;
        for (key, value) in page.request_context() {
            details.request_context.insert(key.clone(), json_of(value));
        }
        for evaluation in page.evaluations() {
            details.evaluations.push(evaluation_of(evaluation));
        }
        for policy in page.policies() {
            let policy = policy_of(policy);
            if !details.policies.contains(&policy) {
                details.policies.push(policy);
            }
        }
        match page.next_token().filter(|next| !next.is_empty()) {
            None => return Ok(details),
            Some(next) => {
                if seen_tokens.iter().any(|seen| seen == next) {
                    return Err(ToolboxError::Malformed(format!(
                        "page token `{}` came back twice: the pages never end",
                        escape_control(next)
                    )));
                }
                seen_tokens.push(next.to_string());
                token = Some(next.to_string());
            }
        }
    }
    Err(ToolboxError::Malformed(format!(
        "more than {MAX_PAGES} pages of evaluations"
    )))
}

fn evaluation_of(evaluation: &aws_sdk_iamtoolbox::types::Evaluation) -> AwsEvaluation {
    AwsEvaluation {
        action: evaluation.action().to_string(),
        resource: evaluation.resource().to_string(),
        context: evaluation
            .context()
            .map(|context| {
                context
                    .iter()
                    .map(|(key, value)| (key.clone(), json_of(value)))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default(),
        effect: evaluation
            .evaluated_effect()
            .map(|effect| effect.as_str().to_string())
            .unwrap_or_default(),
        matched: evaluation
            .matched_policies()
            .iter()
            .map(|policy| MatchedPolicy {
                uri: policy.uri().to_string(),
                statements: policy
                    .matched_statements()
                    .iter()
                    .map(|statement| MatchedStatement {
                        sid: statement.sid().map(str::to_string),
                        effect: statement
                            .evaluated_effect()
                            .map(|effect| effect.as_str().to_string())
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn policy_of(policy: &aws_sdk_iamtoolbox::types::PolicyInfo) -> EvaluatedPolicy {
    EvaluatedPolicy {
        kind: policy.r#type().map(|kind| kind.as_str().to_string()),
        inline: policy.inline(),
        uri: policy.uri().map(str::to_string),
        attached_to: policy
            .attached_to()
            .iter()
            .filter_map(|entity| entity.arn().map(str::to_string))
            .collect(),
    }
}

/// A context value as JSON (the API's `document` type follows the JSON
/// data model).
fn json_of(document: &Document) -> Value {
    match document {
        Document::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), json_of(value)))
                .collect(),
        ),
        Document::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        Document::Number(number) => match *number {
            aws_smithy_types::Number::PosInt(value) => Value::from(value),
            aws_smithy_types::Number::NegInt(value) => Value::from(value),
            aws_smithy_types::Number::Float(value) => {
                serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
            }
        },
        Document::String(text) => Value::String(text.clone()),
        Document::Bool(flag) => Value::Bool(*flag),
        Document::Null => Value::Null,
    }
}

/// Sorts a failed call ("GetRequestAuthorizationDetails - IAM Toolbox",
/// Errors: `AccessDeniedException` 403, `ResourceNotFoundException` 404,
/// `ValidationException` 400, `InternalServerException` 500; a throttled
/// call is AWS's common `ThrottlingException`, HTTP 429).
fn failure(
    error: &SdkError<GetRequestAuthorizationDetailsError, HttpResponse>,
    request: &ToolboxRequest,
    who: &str,
) -> ToolboxError {
    let endpoint = endpoint_label(request);
    match error {
        SdkError::TimeoutError(_) => {
            return ToolboxError::Unreachable {
                endpoint,
                reason: "the request timed out".to_string(),
            };
        }
        SdkError::DispatchFailure(failure) => {
            let reason = failure
                .as_connector_error()
                .map(|cause| innermost(cause))
                .unwrap_or_else(|| innermost(error));
            return ToolboxError::Unreachable { endpoint, reason };
        }
        SdkError::ConstructionFailure(_) => {
            return ToolboxError::Unreachable {
                endpoint,
                reason: innermost(error),
            };
        }
        SdkError::ResponseError(_) => {
            let status = error
                .raw_response()
                .map(|response| format!("HTTP {}: ", response.status().as_u16()))
                .unwrap_or_default();
            return ToolboxError::Malformed(format!("{status}{}", innermost(error)));
        }
        _ => {}
    }
    let status = error
        .raw_response()
        .map(|response| response.status().as_u16());
    let code = error.code().map(str::to_string);
    let message = error
        .message()
        .map(|message| escape_control(message).into_owned())
        .unwrap_or_default();
    let label = code
        .clone()
        .or_else(|| status.map(|status| format!("HTTP {status}")))
        .unwrap_or_else(|| "no error code".to_string());
    // A success status whose body is not the documented response.
    if status.is_some_and(|status| (200..300).contains(&status)) {
        return ToolboxError::Malformed(innermost(error));
    }
    let service = error.as_service_error();
    if service.is_some_and(GetRequestAuthorizationDetailsError::is_resource_not_found_exception)
        || status == Some(404)
    {
        return ToolboxError::NotFound {
            id: request.authorization_id.clone(),
        };
    }
    if service.is_some_and(GetRequestAuthorizationDetailsError::is_access_denied_exception)
        || status == Some(403)
    {
        return ToolboxError::Denied {
            who: who.to_string(),
            code: escape_control(&label).into_owned(),
        };
    }
    if code
        .as_deref()
        .is_some_and(|code| code.contains("Throttl") || code == "TooManyRequestsException")
        || status == Some(429)
    {
        return ToolboxError::Throttled(escape_control(&label).into_owned());
    }
    if service.is_some_and(GetRequestAuthorizationDetailsError::is_validation_exception) {
        return ToolboxError::Refused {
            id: request.authorization_id.clone(),
            message: if message.is_empty() { label } else { message },
        };
    }
    ToolboxError::Failed(escape_control(&label).into_owned())
}
