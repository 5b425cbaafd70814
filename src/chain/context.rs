//! The request context AWS builds for each action: principal keys from the
//! snapshot, resource keys, what S3 adds when it calls KMS for the caller,
//! `sts:ExternalId` for the AssumeRole step, then `--context` on top. Keys
//! that depend on where the caller sits (source IP, VPC endpoint) are
//! unknown unless given.

use crate::arn::{Principal, PrincipalKind};
use crate::context::RequestContext;
use crate::snapshot::{Field, PrincipalInfo};

use super::Setup;

/// Environment keys the tool cannot know about a caller it never saw:
/// unknown unless `--context` gives them.
const CALLER_ENVIRONMENT_KEYS: [&str; 4] = [
    "aws:SourceIp",
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:VpcSourceIp",
];

/// What the KMS call S3 makes for the caller adds to the context.
pub(crate) struct KmsCall<'a> {
    /// `kms:EncryptionContext:aws:s3:arn`: the bucket ARN with S3 Bucket
    /// Keys, the object ARN without (S3 User Guide, "Using an S3 Bucket Key").
    pub encryption_context_arn: &'a str,
}

pub(crate) struct ActionContext<'a> {
    pub actor: &'a Principal,
    pub actor_info: Option<&'a PrincipalInfo>,
    pub actor_arn: &'a str,
    pub resource_account: &'a str,
    pub kms: Option<KmsCall<'a>>,
    /// The AssumeRole step: `sts:ExternalId` applies.
    pub assume_role: bool,
}

pub(crate) fn build(setup: &Setup<'_>, action: &ActionContext<'_>) -> RequestContext {
    let mut context = RequestContext::new();
    let actor = action.actor;
    context.set("aws:PrincipalArn", action.actor_arn);
    context.set("aws:PrincipalAccount", actor.account.as_str());
    context.set("aws:PrincipalIsAWSService", "false");
    let principal_type = match &actor.kind {
        PrincipalKind::Root => "Account",
        PrincipalKind::User { .. } => "User",
        PrincipalKind::AssumedRole { .. } => "AssumedRole",
        PrincipalKind::FederatedUser { .. } => "FederatedUser",
    };
    context.set("aws:PrincipalType", principal_type);
    // aws:userid: the unique id for a user; ROLEID:SESSION for a role session
    // (the session name is usually unknown); the account id for root.
    let unique_id = action.actor_info.and_then(|info| info.id.as_deref());
    match (&actor.kind, unique_id) {
        (PrincipalKind::User { name, .. }, id) => {
            context.set("aws:username", name.as_str());
            match id {
                Some(id) => context.set("aws:userid", id),
                None => context.set_unknown("aws:userid"),
            }
        }
        (
            PrincipalKind::AssumedRole {
                session_name: Some(session),
                ..
            },
            Some(id),
        ) => context.set("aws:userid", format!("{id}:{session}")),
        (PrincipalKind::AssumedRole { .. }, _) => context.set_unknown("aws:userid"),
        (PrincipalKind::Root, _) => context.set("aws:userid", actor.account.as_str()),
        (PrincipalKind::FederatedUser { .. }, _) => context.set_unknown("aws:userid"),
    }
    match action.actor_info.map(|info| &info.tags) {
        Some(Field::Some(tags)) => {
            for (key, value) in tags {
                context.set(&format!("aws:PrincipalTag/{key}"), value.as_str());
            }
            if !tags.is_empty() {
                context.set_values(
                    "aws:PrincipalTagKeys",
                    tags.keys().cloned().collect::<Vec<_>>(),
                );
            }
        }
        Some(Field::None) => {}
        _ => {
            context.set_unknown_prefix("aws:PrincipalTag/");
            context.set_unknown("aws:PrincipalTagKeys");
        }
    }
    set_org_id(setup, &mut context, "aws:PrincipalOrgID", &actor.account);
    context.set("aws:ResourceAccount", action.resource_account);
    set_org_id(
        setup,
        &mut context,
        "aws:ResourceOrgID",
        action.resource_account,
    );
    context.set("aws:SecureTransport", "true");
    let now = setup.request.now;
    context.set(
        "aws:CurrentTime",
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    context.set("aws:EpochTime", now.timestamp().to_string());
    for key in CALLER_ENVIRONMENT_KEYS {
        context.set_unknown(key);
    }
    // TLS version and session details of a client the tool never saw.
    context.set_unknown("s3:TlsVersion");
    context.set_unknown("aws:MultiFactorAuthPresent");
    context.set_unknown("aws:MultiFactorAuthAge");
    context.set_unknown("aws:TokenIssueTime");
    context.set("s3:signatureversion", "AWS4-HMAC-SHA256");
    context.set("s3:authType", "REST-HEADER");
    if let Some(kms) = &action.kms {
        // S3 calls KMS with a forward access session for the caller: the
        // caller's identity and source IP are kept (IAM User Guide,
        // "Forward access sessions").
        context.set("aws:ViaAWSService", "true");
        context.set("kms:CallerAccount", actor.account.as_str());
        let region = setup.bucket.region.as_deref().unwrap_or("us-east-1");
        context.set("kms:ViaService", format!("s3.{region}.amazonaws.com"));
        context.set(
            "kms:EncryptionContext:aws:s3:arn",
            kms.encryption_context_arn,
        );
        context.set("kms:EncryptionContextKeys", "aws:s3:arn");
        context.set("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        context.set("kms:GrantIsForAWSResource", "false");
    } else {
        context.set("aws:ViaAWSService", "false");
    }
    if action.assume_role {
        if let Some(external_id) = &setup.request.external_id {
            context.set("sts:ExternalId", external_id.as_str());
        }
        // Chosen by the caller at AssumeRole time; not known here.
        context.set_unknown("sts:RoleSessionName");
    }
    // --context last: it overrides what the tool derived. A key given twice
    // is multi-valued.
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in &setup.request.context {
        let lowered = key.to_ascii_lowercase();
        if seen.contains(&lowered) {
            context.push(key, value.as_str());
        } else {
            seen.push(lowered);
            context.set(key, value.as_str());
        }
    }
    context
}

fn set_org_id(setup: &Setup<'_>, context: &mut RequestContext, key: &str, account: &str) {
    match setup
        .snapshot
        .accounts
        .get(account)
        .map(|info| &info.org_id)
    {
        Some(Field::Some(org)) => context.set(key, org.as_str()),
        Some(Field::None) => context.set_absent(key),
        _ => context.set_unknown(key),
    }
}
