//! The JSON form of `explain`, `kms-s3-doctor/explain@1`: frozen serde types
//! of its own, apart from the engine's [`Explanation`], so that the wire
//! format changes only on purpose (a new field may be added; none is renamed
//! or removed within `@1`).
//!
//! Every field is always present; a fact the message does not give is
//! `null` (an empty list for `suspects` and `next_steps`), so a script can
//! tell "not said" from "missing field".

use serde::{Deserialize, Serialize};

use crate::explain::{DenyKind, Explanation, PolicyType};

/// The `format` value of this version.
pub const EXPLAIN_FORMAT: &str = "kms-s3-doctor/explain@1";

/// The whole explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplanationV1 {
    /// Always [`EXPLAIN_FORMAT`].
    pub format: String,
    /// False when the text is not an error message the tool knows (the
    /// command then exits 2).
    pub recognised: bool,
    /// `not-authorized`, `bare-access-denied`, `head-forbidden`,
    /// `ciphertext-key-unavailable`, `key-disabled`, `key-pending-deletion`,
    /// `key-invalid-state`, `key-not-found`, `alias-not-found`,
    /// `console-banner`, `kms-access-denied`, `decoded-authorization`,
    /// `cloudtrail-record`, `unrecognised`, ...
    pub kind: String,
    /// The error code in the message: `AccessDenied`, `403`,
    /// `KMS.DisabledException`, ...
    pub error_code: Option<String>,
    /// The caller as the message names it.
    pub principal: Option<String>,
    /// For an assumed-role session: its role's ARN (without the role's
    /// path, which a session ARN does not carry).
    pub role: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    /// The bucket and object key, from the resource ARN or an `s3://` URL.
    pub bucket: Option<String>,
    pub object: Option<String>,
    /// The API operation of an SDK or CLI prefix (`GetObject`).
    pub api_operation: Option<String>,
    /// `identity-based`, `resource-based`, `service-control-policy`,
    /// `resource-control-policy`, `permissions-boundary`, `session-policy`,
    /// `vpc-endpoint-policy`.
    pub policy_type: Option<String>,
    /// `explicit` or `implicit`.
    pub deny: Option<String>,
    /// The denying policy's ARN, when the message names it.
    pub policy_arn: Option<String>,
    /// The link the message points at for sure (a link id such as
    /// `key-policy`).
    pub link: Option<String>,
    /// Links that may be at fault when the message does not say which, most
    /// likely first.
    pub suspects: Vec<String>,
    pub summary: String,
    /// The account whose admin must look.
    pub account: Option<String>,
    /// Who must look, in words.
    pub owner: Option<String>,
    pub next_steps: Vec<String>,
    /// The `kms-s3-doctor check` command to run next.
    pub command: Option<String>,
    /// The request id the text carries (an SDK's `Request ID`, S3's
    /// `RequestId`, a CloudTrail record's `requestID`).
    #[serde(default)]
    pub request_id: Option<String>,
    /// The tool or SDK that printed the text (`AWS SDK for Java 1.x`,
    /// `AWS SDK for Java 2.x`, `Hadoop S3A`, `AWS SDK for .NET`, `AWS Tools
    /// for PowerShell`, `s3cmd`, `the S3 console`, `CloudTrail`, `aws sts
    /// decode-authorization-message`), when it tells.
    #[serde(default)]
    pub printed_by: Option<String>,
    /// What `aws sts decode-authorization-message` said, for its output.
    #[serde(default)]
    pub decoded: Option<DecodedV1>,
}

/// The decoded authorization message's own verdict and context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodedV1 {
    pub allowed: Option<bool>,
    pub explicit_deny: Option<bool>,
    /// The `statementId` of every matched statement, with its `effect`.
    pub matched_statements: Vec<MatchedStatementV1>,
    /// The request's condition keys and their values.
    pub context: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedStatementV1 {
    pub sid: String,
    pub effect: String,
}

fn policy_type(policy: PolicyType) -> &'static str {
    match policy {
        PolicyType::IdentityBased => "identity-based",
        PolicyType::ResourceBased => "resource-based",
        PolicyType::ServiceControlPolicy => "service-control-policy",
        PolicyType::ResourceControlPolicy => "resource-control-policy",
        PolicyType::PermissionsBoundary => "permissions-boundary",
        PolicyType::SessionPolicy => "session-policy",
        PolicyType::VpcEndpointPolicy => "vpc-endpoint-policy",
    }
}

impl From<&Explanation> for ExplanationV1 {
    fn from(explanation: &Explanation) -> Self {
        Self {
            format: EXPLAIN_FORMAT.to_string(),
            recognised: explanation.recognised,
            kind: explanation.kind.as_str().to_string(),
            error_code: explanation.error_code.clone(),
            principal: explanation.principal.clone(),
            role: explanation.role.clone(),
            action: explanation.action.clone(),
            resource: explanation.resource.clone(),
            bucket: explanation.bucket.clone(),
            object: explanation.object.clone(),
            api_operation: explanation.api_operation.clone(),
            policy_type: explanation
                .policy_type
                .map(|policy| policy_type(policy).to_string()),
            deny: explanation.deny.map(|deny| {
                match deny {
                    DenyKind::Explicit => "explicit",
                    DenyKind::Implicit => "implicit",
                }
                .to_string()
            }),
            policy_arn: explanation.policy_arn.clone(),
            link: explanation.link.map(|link| link.as_str().to_string()),
            suspects: explanation
                .suspects
                .iter()
                .map(|link| link.as_str().to_string())
                .collect(),
            summary: explanation.summary.clone(),
            account: explanation.account.clone(),
            owner: explanation.owner.clone(),
            next_steps: explanation.next_steps.clone(),
            command: explanation.command.clone(),
            request_id: explanation.request_id.clone(),
            printed_by: explanation.printed_by.clone(),
            decoded: explanation.decoded.as_ref().map(|decoded| DecodedV1 {
                allowed: decoded.allowed,
                explicit_deny: decoded.explicit_deny,
                matched_statements: decoded
                    .matched_statements
                    .iter()
                    .map(|(sid, effect)| MatchedStatementV1 {
                        sid: sid.clone(),
                        effect: effect.clone(),
                    })
                    .collect(),
                context: decoded.conditions.iter().cloned().collect(),
            }),
        }
    }
}

pub(super) fn render(explanation: &Explanation) -> String {
    let wire = ExplanationV1::from(explanation);
    serde_json::to_string_pretty(&wire).unwrap_or_else(|error| {
        format!(
            "{{\"format\": \"{EXPLAIN_FORMAT}\", \"error\": {}}}",
            serde_json::Value::String(error.to_string())
        )
    })
}
