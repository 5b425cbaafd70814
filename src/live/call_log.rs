//! One `tracing` event per AWS call (`--debug`, or `RUST_LOG` naming the
//! target `kms_s3_doctor::aws`): the service, the operation, the region,
//! the endpoint (scheme, host and port only), the outcome (`ok`, or the
//! HTTP status and AWS error code, or why no response came) and how long
//! it took, retries included. Nothing else of the request or response is
//! read into the line: no header (so no `Authorization` signature and no
//! `X-Amz-Security-Token`), no query string (a presigned URL's signature),
//! no credential. The binary decides whether and where the events are
//! written; the library only emits them.

use std::time::Instant;

use aws_sdk_s3::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use aws_types::region::Region;

/// The `tracing` target of the per-call lines.
pub const TARGET: &str = "kms_s3_doctor::aws";

/// When the call started, kept in the call's own config bag.
#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// Where the last attempt was sent (scheme, host and port): the request
/// is gone once the response is in.
#[derive(Debug, Clone)]
struct SentTo(String);

impl Storable for SentTo {
    type Storer = StoreReplace<Self>;
}

/// Emits the per-call line; attached to every client beside the read-only
/// guard.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallLog;

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "kms-s3-doctor call log"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            cfg.interceptor_state().store_put(Started(Instant::now()));
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            let endpoint = endpoint_of(context.request().uri());
            cfg.interceptor_state().store_put(SentTo(endpoint));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            return Ok(());
        }
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|metadata| (metadata.service().to_string(), metadata.name().to_string()))
            .unwrap_or_else(|| ("unknown".to_string(), "unknown".to_string()));
        let region = cfg
            .load::<Region>()
            .map_or_else(|| "none".to_string(), Region::to_string);
        let endpoint = cfg
            .load::<SentTo>()
            .map_or_else(|| "not-sent".to_string(), |sent| sent.0.clone());
        let outcome = outcome(context);
        let took = cfg
            .load::<Started>()
            .map(|started| started.0.elapsed().as_millis())
            .unwrap_or_default();
        tracing::debug!(
            target: TARGET,
            "{} {operation} region={region} endpoint={endpoint} outcome={outcome} duration_ms={took}",
            service.to_ascii_lowercase()
        );
        Ok(())
    }
}

/// `https://s3.eu-west-1.amazonaws.com/b?policy` → `https://s3.eu-west-1.amazonaws.com`:
/// the path and query (a presigned signature, an object key) are left out,
/// and so is any user-info before the host.
pub(crate) fn endpoint_of(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("", uri));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

/// `ok`, `HTTP 403 AccessDenied`, or why there was no response.
fn outcome(context: &FinalizerInterceptorContextRef<'_>) -> String {
    match (context.output_or_error(), context.response()) {
        (Some(Ok(_)), _) => "ok".to_string(),
        (_, Some(response)) => {
            let status = response.status().as_u16();
            match error_code(response) {
                Some(code) => format!("HTTP {status} {code}"),
                None => format!("HTTP {status}"),
            }
        }
        (Some(Err(error)), None) if error.is_timeout_error() => "timed out".to_string(),
        (Some(Err(error)), None) if error.is_connector_error() => {
            "no response (connection failed)".to_string()
        }
        (Some(Err(error)), None) if error.is_interceptor_error() => {
            "not sent (refused before sending)".to_string()
        }
        _ => "no response".to_string(),
    }
}

/// The AWS error code of an error response: the `x-amzn-ErrorType` header
/// (JSON protocols: KMS, Organizations), or the `<Code>` of the XML body
/// (S3, IAM, STS), or the `__type` of the JSON body. Only a code made of
/// letters, digits, `.`, `_` and `:` is kept, so nothing else of the body
/// reaches the line.
pub(crate) fn error_code(response: &HttpResponse) -> Option<String> {
    let header = response
        .headers()
        .get("x-amzn-errortype")
        .map(|value| value.split(':').next().unwrap_or_default().to_string());
    let body = || {
        let text = std::str::from_utf8(response.body().bytes()?).ok()?;
        if let Some(start) = text.find("<Code>") {
            let rest = &text[start + "<Code>".len()..];
            return Some(rest[..rest.find("</Code>")?].to_string());
        }
        let json: serde_json::Value = serde_json::from_str(text).ok()?;
        let code = json.get("__type").or_else(|| json.get("code"))?.as_str()?;
        Some(code.rsplit('#').next().unwrap_or(code).to_string())
    };
    header
        .filter(|code| !code.is_empty())
        .or_else(body)
        .filter(|code| {
            !code.is_empty()
                && code.len() <= 100
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_only_scheme_host_and_port() {
        assert_eq!(
            endpoint_of("http://127.0.0.1:5000/bucket?policy"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            endpoint_of("https://user:secret@s3.eu-west-1.amazonaws.com/b/k?X-Amz-Signature=abc"),
            "https://s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint_of("https://kms.eu-west-1.amazonaws.com"),
            "https://kms.eu-west-1.amazonaws.com"
        );
    }
}
