//! `explain MESSAGE`: reads an error text from AWS as people paste it (IAM's
//! "User: ARN is not authorized to perform: ACTION on resource: RES because
//! no ... policy allows ..." forms, S3's bare `Access Denied`, the AWS CLI's
//! `fatal error: An error occurred (403) when calling the HeadObject
//! operation: Forbidden` and `download failed: s3://bucket/key to ...`
//! lines, KMS's key-state, not-found and ciphertext errors, also when S3
//! relays them as `KMS.DisabledException`), says which link of the chain it
//! points at, whose admin must look, what to check next, and the `check`
//! command to run. Replication failures (an object's `FAILED` replication
//! status, S3's replication failure events) point at the links of `check
//! --op replicate` ([`replication`]).
//!
//! This module owns the meaning ([`Explanation`]); [`parse`] owns reading
//! the text, [`meaning`] one function per [`MessageKind`], and the renderers
//! live in `crate::report` beside the check report's.
//!
//! The forms are the ones the IAM User Guide lists under "Troubleshoot
//! access denied error messages" (and its "Access denied error message
//! examples"), the AWS Security Blog post "Enhanced access denied error
//! messages with policy ARNs", the S3 API reference's `HeadObject` (a HEAD
//! response has no body, so its errors are bare status codes) and error
//! responses, and the KMS API reference's errors (`DisabledException`,
//! `KMSInvalidStateException`, `NotFoundException`,
//! `InvalidCiphertextException`).

pub mod authorization_id;
mod cloudtrail_paste;
mod command;
mod console;
mod decoded_authorization;
mod meaning;
mod parse;
mod replication;
mod services;
mod stack_traces;

pub use cloudtrail_paste::PastedRecord;
pub use decoded_authorization::DecodedAuthorization;

use std::io::Read;

use crate::diagnosis::LinkId;

/// The policy type an IAM-style message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyKind {
    Explicit,
    Implicit,
}

/// Which form of message was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageKind {
    /// `User: P is not authorized to perform: A on resource: R ...`.
    NotAuthorized,
    /// S3's `Access Denied` with no detail.
    BareAccessDenied,
    /// `(403) when calling the HeadObject operation: Forbidden`: a HEAD
    /// response has no body, so S3 cannot say more than the status.
    HeadForbidden,
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
    /// KMS `NotFoundException`: the key does not exist (or not for the
    /// caller's account and region).
    KeyNotFound,
    /// KMS `NotFoundException`: an alias that is not found (aliases do not
    /// work across accounts).
    AliasNotFound,
    /// CloudFront's 403 for an SSE-KMS object read through an origin access
    /// control: KMS refused the `kms:Decrypt` CloudFront's service makes.
    CloudFrontOacKms,
    /// `KMS.UnrecognizedClientException` through CloudFront: a legacy origin
    /// access identity cannot use SSE-KMS.
    CloudFrontOaiKms,
    /// CloudTrail: "Insufficient permissions to access S3 bucket or KMS key".
    CloudTrailDelivery,
    /// `ExpiredToken`: `The provided token has expired`, or a presigned
    /// URL's `Request has expired`: the credentials that signed the request
    /// were no longer valid.
    CredentialsExpired,
    /// An object whose replication status is `FAILED` (`aws s3api
    /// head-object`'s `ReplicationStatus`, or the `x-amz-replication-status`
    /// header): S3 could not replicate it, without saying why.
    ReplicationFailed,
    /// An `s3:Replication:OperationFailedReplication` event notification;
    /// its `failureReason` is the error code.
    ReplicationFailureEvent,
    /// Only an IAM Access Troubleshooter authorization ID (or its console
    /// link): AWS's own record of the denied request.
    AuthorizationId,
    /// The S3 console's banner: "Insufficient permissions to list
    /// objects", "You don't have permissions to ...".
    ConsoleBanner,
    /// KMS's `AccessDeniedException` (or S3's relay of it) without the
    /// principal and resource of the "is not authorized" form.
    KmsAccessDenied,
    /// The output of `aws sts decode-authorization-message`.
    DecodedAuthorization,
    /// A pasted CloudTrail record: the request itself, for `check --event`.
    CloudTrailRecord,
    /// Not an AccessDenied text the tool knows.
    #[default]
    Unrecognised,
}

impl MessageKind {
    /// The wire name (`not-authorized`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::NotAuthorized => "not-authorized",
            MessageKind::BareAccessDenied => "bare-access-denied",
            MessageKind::HeadForbidden => "head-forbidden",
            MessageKind::CiphertextKeyUnavailable => "ciphertext-key-unavailable",
            MessageKind::KeyDisabled => "key-disabled",
            MessageKind::KeyPendingDeletion => "key-pending-deletion",
            MessageKind::KeyInvalidState => "key-invalid-state",
            MessageKind::KeyNotFound => "key-not-found",
            MessageKind::AliasNotFound => "alias-not-found",
            MessageKind::CloudFrontOacKms => "cloudfront-oac-kms",
            MessageKind::CloudFrontOaiKms => "cloudfront-oai-kms",
            MessageKind::CloudTrailDelivery => "cloudtrail-delivery",
            MessageKind::CredentialsExpired => "credentials-expired",
            MessageKind::ReplicationFailed => "replication-failed",
            MessageKind::ReplicationFailureEvent => "replication-failure-event",
            MessageKind::AuthorizationId => "authorization-id",
            MessageKind::ConsoleBanner => "console-banner",
            MessageKind::KmsAccessDenied => "kms-access-denied",
            MessageKind::DecodedAuthorization => "decoded-authorization",
            MessageKind::CloudTrailRecord => "cloudtrail-record",
            MessageKind::Unrecognised => "unrecognised",
        }
    }
}

/// What a message says, and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// False when the text is not an AccessDenied message the tool knows.
    pub recognised: bool,
    pub kind: MessageKind,
    /// The error code in the message (`AccessDenied`, `403`,
    /// `KMS.DisabledException`), when there is one.
    pub error_code: Option<String>,
    /// The caller, as the message names it.
    pub principal: Option<String>,
    /// The IAM role of an assumed-role session principal (without its
    /// path, which session ARNs do not carry): what a policy names.
    pub role: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    /// The bucket and object key the request was for, from the resource
    /// ARN or an `s3://` URL of the AWS CLI.
    pub bucket: Option<String>,
    pub object: Option<String>,
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
    /// The request id the text carries, for CloudTrail (`requestID`) and
    /// AWS Support.
    pub request_id: Option<String>,
    /// The tool or SDK that printed the text (`AWS SDK for Java 1.x`,
    /// `Hadoop S3A`, `s3cmd`, `the S3 console`, ...), when it tells.
    pub printed_by: Option<String>,
    /// What `aws sts decode-authorization-message` said.
    pub decoded: Option<DecodedAuthorization>,
    /// The pasted CloudTrail record, which `check --event` can judge.
    pub record: Option<PastedRecord>,
}

/// Parses an error message. Never fails: text it does not know gives an
/// explanation with `recognised: false`.
pub fn explain(message: &str) -> Explanation {
    let mut explanation = meaning::build(parse::parse(message));
    authorization_id::annotate(message, &mut explanation);
    explanation
}

/// How much `explain -` reads from standard input. A pasted message is a
/// few KiB; a whole CLI log with the message in it is still far below this.
pub const MAX_MESSAGE_BYTES: u64 = 1024 * 1024;

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("cannot read the message from standard input: {0}")]
    Read(#[from] std::io::Error),
    #[error("the message on standard input is longer than {limit} bytes")]
    TooLong { limit: u64 },
    #[error("the message on standard input is not UTF-8 text")]
    NotText,
    #[error("the message is empty")]
    Empty,
}

/// Reads a message (`explain -`), up to [`MAX_MESSAGE_BYTES`]: a message can
/// exceed what one command-line argument may hold.
pub fn read_message(input: &mut dyn Read) -> Result<String, MessageError> {
    let mut bytes = Vec::new();
    input.take(MAX_MESSAGE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_MESSAGE_BYTES {
        return Err(MessageError::TooLong {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| MessageError::NotText)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(MessageError::Empty);
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests;
