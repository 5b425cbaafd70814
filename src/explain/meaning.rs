//! What a parsed message means: one function per [`MessageKind`] (and, for
//! IAM's "is not authorized" form, one per policy type it names), each
//! filling the link, the suspects, whose admin must look and what to check.

use super::command::{check_command, s3_target};
use super::parse::Parsed;
use super::replication;
use super::{DenyKind, Explanation, MessageKind, PolicyType};
use crate::diagnosis::LinkId;
use crate::policy::arn::{Arn, Principal, PrincipalKind, is_account_id};
use crate::report::shell_word;

/// What every kind's wording draws on, computed once.
struct Facts {
    principal_account: Option<String>,
    resource_account: Option<String>,
    service: Option<String>,
    action: String,
    principal: String,
    /// Who a policy must name: the role for a session, else the principal.
    grantee: String,
    resource: String,
    /// `KEY` or the key the message names, for commands.
    key: String,
    explicit: bool,
}

/// The parts of an [`Explanation`] a kind decides.
#[derive(Default)]
pub(super) struct Meaning {
    pub link: Option<LinkId>,
    pub suspects: Vec<LinkId>,
    pub summary: String,
    pub account: Option<String>,
    pub owner: Option<String>,
    pub next_steps: Vec<String>,
}

pub(super) fn build(parsed: Parsed) -> Explanation {
    if parsed.kind == MessageKind::Unrecognised {
        return unrecognised(parsed);
    }
    let role = session_role(parsed.principal.as_deref());
    let facts = facts(&parsed, role.as_deref());
    let (bucket, object) = s3_target(&parsed);
    let mut meaning = match parsed.kind {
        MessageKind::NotAuthorized => not_authorized(&parsed, &facts),
        MessageKind::BareAccessDenied => bare_access_denied(),
        MessageKind::HeadForbidden => head_forbidden(&parsed, bucket.as_deref(), object.as_deref()),
        MessageKind::CiphertextKeyUnavailable => ciphertext_key_unavailable(),
        MessageKind::KeyDisabled => key_disabled(&facts),
        MessageKind::KeyPendingDeletion => key_pending_deletion(&facts),
        MessageKind::KeyInvalidState => key_invalid_state(&facts),
        MessageKind::KeyNotFound => key_not_found(&facts),
        MessageKind::AliasNotFound => alias_not_found(&facts),
        MessageKind::CloudFrontOacKms => cloudfront_oac_kms(),
        MessageKind::CloudFrontOaiKms => cloudfront_oai_kms(),
        MessageKind::CloudTrailDelivery => cloudtrail_delivery(&parsed),
        MessageKind::CredentialsExpired => credentials_expired(),
        MessageKind::ReplicationFailed => replication::status_meaning(&parsed, bucket.as_deref()),
        MessageKind::ReplicationFailureEvent => replication::event_meaning(&parsed),
        MessageKind::ConsoleBanner => console_banner(&parsed, &facts),
        MessageKind::KmsAccessDenied => kms_access_denied(&facts),
        MessageKind::DecodedAuthorization => decoded_authorization(&parsed, &facts),
        MessageKind::CloudTrailRecord => cloudtrail_record(&parsed, &facts),
        // Set after parsing, from the authorization ID alone.
        MessageKind::AuthorizationId | MessageKind::Unrecognised => Meaning::default(),
    };
    if let Some(role) = &role {
        meaning.next_steps.push(format!(
            "`{}` is a session of role `{role}`: policies name the role (with its path, which a session ARN does not show: `aws iam get-role --role-name {}`), not the session",
            parsed.principal.as_deref().unwrap_or_default(),
            role.rsplit('/').next().unwrap_or_default()
        ));
    }
    let command = if let Some(record) = &parsed.record {
        record_command(record)
    } else if parsed.replication.is_some() {
        // S3 replicates as the role of the source bucket's configuration,
        // which neither the status nor the event names.
        meaning.next_steps.push(
            "replace `ROLE_ARN` in the command below with the role the source bucket's replication configuration names (`Role` in `aws s3api get-bucket-replication`)".to_string(),
        );
        replication::check_command(bucket.as_deref(), object.as_deref())
    } else {
        let mut command = check_command(&parsed, bucket.as_deref(), object.as_deref());
        if let Some(decoded) = &parsed.decoded {
            command.push_str(&decoded_context_flags(decoded));
        }
        command
    };
    if bucket.is_none() && parsed.record.is_none() {
        meaning.next_steps.push(if parsed.replication.is_some() {
            "replace `BUCKET` in the command below with the source bucket".to_string()
        } else {
            "replace `BUCKET` in the command below with the bucket the request was for".to_string()
        });
    }
    Explanation {
        recognised: true,
        kind: parsed.kind,
        error_code: parsed.error_code,
        principal: parsed.principal,
        role,
        action: parsed.action,
        resource: parsed.resource,
        bucket,
        object,
        policy_type: parsed.policy_type,
        deny: parsed.deny,
        policy_arn: parsed.policy_arn,
        api_operation: parsed.api_operation,
        link: meaning.link,
        suspects: meaning.suspects,
        summary: meaning.summary,
        account: meaning.account,
        owner: meaning.owner,
        next_steps: meaning.next_steps,
        command: Some(command),
        request_id: parsed.request_id,
        printed_by: parsed.printed_by.map(str::to_string),
        decoded: parsed.decoded,
        record: parsed.record,
    }
}

mod pasted;
use pasted::{
    cloudtrail_record, console_banner, decoded_authorization, decoded_context_flags,
    kms_access_denied, record_command,
};

fn code(text: &str) -> String {
    format!("`{text}`")
}

fn account_of(arn: Option<&str>) -> Option<String> {
    let arn = Arn::parse(arn?).ok()?;
    is_account_id(&arn.account).then_some(arn.account)
}

/// The role ARN of an assumed-role session ARN; `None` for anything else.
fn session_role(principal: Option<&str>) -> Option<String> {
    match Principal::parse(principal?).ok()?.kind {
        PrincipalKind::AssumedRole {
            role_arn,
            session_arn: Some(_),
            ..
        } => Some(role_arn),
        _ => None,
    }
}

fn facts(parsed: &Parsed, role: Option<&str>) -> Facts {
    let principal = parsed
        .principal
        .as_deref()
        .map_or_else(|| "the caller".to_string(), code);
    Facts {
        principal_account: account_of(parsed.principal.as_deref()),
        resource_account: account_of(parsed.resource.as_deref()),
        service: parsed
            .action
            .as_deref()
            .and_then(|action| action.split_once(':'))
            .map(|(service, _)| service.to_ascii_lowercase()),
        action: parsed
            .action
            .as_deref()
            .map_or_else(|| "the action".to_string(), code),
        grantee: role.map_or_else(|| principal.clone(), |role| format!("role `{role}`")),
        principal,
        resource: parsed
            .resource
            .as_deref()
            .map_or_else(|| "the resource".to_string(), code),
        key: parsed.resource.clone().unwrap_or_else(|| "KEY".to_string()),
        explicit: parsed.deny == Some(DenyKind::Explicit),
    }
}

fn admin_of(account: &Option<String>, whose: &str) -> Option<String> {
    account
        .as_ref()
        .map(|account| format!("the admin of account {account} ({whose})"))
}

fn unrecognised(parsed: Parsed) -> Explanation {
    Explanation {
        recognised: false,
        kind: MessageKind::Unrecognised,
        error_code: parsed.error_code,
        principal: None,
        role: None,
        action: None,
        resource: None,
        bucket: None,
        object: None,
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
            "paste the whole error text, such as `User: ARN is not authorized to perform: ACTION on resource: RESOURCE because no resource-based policy allows the ACTION action`, or pipe it in with `explain -`".to_string(),
            "or run `kms-s3-doctor check --bucket BUCKET --principal ARN` to judge the whole chain".to_string(),
        ],
        command: None,
        request_id: parsed.request_id,
        printed_by: parsed.printed_by.map(str::to_string),
        decoded: None,
        record: None,
    }
}

// ---------------------------------------------------------------------------
// "User: P is not authorized to perform: A on resource: R because ...".

fn not_authorized(parsed: &Parsed, facts: &Facts) -> Meaning {
    let mut meaning = match parsed.policy_type {
        Some(PolicyType::IdentityBased) => identity_based(facts),
        Some(PolicyType::ResourceBased) => resource_based(facts),
        Some(PolicyType::ServiceControlPolicy) => service_control_policy(parsed, facts),
        Some(PolicyType::ResourceControlPolicy) => resource_control_policy(facts),
        Some(PolicyType::PermissionsBoundary) => permissions_boundary(facts),
        Some(PolicyType::SessionPolicy) => session_policy(facts),
        Some(PolicyType::VpcEndpointPolicy) => vpc_endpoint_policy(facts),
        None => no_policy_type(facts),
    };
    if let Some(policy_arn) = &parsed.policy_arn {
        meaning
            .next_steps
            .insert(0, format!("the message names the policy: `{policy_arn}`"));
    }
    meaning
}

fn identity_based(facts: &Facts) -> Meaning {
    let account = facts.principal_account.clone();
    let (summary, step) = if facts.explicit {
        (
            format!(
                "an identity-based policy of {} explicitly denies {}",
                facts.principal, facts.action
            ),
            format!(
                "find the `Deny` for {} in the policies of {} (inline, managed, and its groups') and narrow or remove it",
                facts.action, facts.grantee
            ),
        )
    } else {
        (
            format!(
                "no identity-based policy of {} allows {}",
                facts.principal, facts.action
            ),
            format!(
                "add an `Allow` for {} on {} to an identity policy of {}; across accounts the resource's policy must allow it too",
                facts.action, facts.resource, facts.grantee
            ),
        )
    };
    Meaning {
        link: Some(LinkId::IdentityPolicy),
        owner: admin_of(&account, "the principal's account"),
        account,
        summary,
        next_steps: vec![step],
        ..Meaning::default()
    }
}

fn resource_based(facts: &Facts) -> Meaning {
    let (link, document, resource_owner) = match facts.service.as_deref() {
        Some("kms") => (
            Some(LinkId::KeyPolicy),
            "the key policy (or a grant)",
            "the key's owner",
        ),
        Some("s3") => (
            Some(LinkId::BucketPolicy),
            "the bucket policy",
            "the bucket owner",
        ),
        Some("sts") => (
            Some(LinkId::TrustPolicy),
            "the role's trust policy",
            "the role's owner",
        ),
        _ => (None, "the resource-based policy", "the resource's owner"),
    };
    let account = facts.resource_account.clone();
    let owner = admin_of(&account, resource_owner)
        .or_else(|| Some(format!("the admin of {resource_owner}")));
    let Facts {
        action,
        principal,
        grantee,
        resource,
        explicit,
        ..
    } = facts;
    let summary = if *explicit {
        format!("{document} explicitly denies {action} to {principal}")
    } else {
        format!("no statement of {document} allows {action} for {principal}")
    };
    let step = match (link, explicit) {
        (Some(LinkId::KeyPolicy), true) => format!(
            "find the `Deny` in the key policy of {resource} that matches {principal} (look at `kms:ViaService`, `kms:CallerAccount` and encryption-context conditions)"
        ),
        (Some(LinkId::KeyPolicy), false) => format!(
            "the key policy of {resource} must allow {action} to {grantee} or its account (then its identity policy must allow it too), or a grant must cover it: `aws kms get-key-policy --key-id KEY --policy-name default`, `aws kms list-grants --key-id KEY`"
        ),
        (Some(LinkId::BucketPolicy), true) => format!(
            "find the `Deny` in the bucket policy that matches {principal} and {action} (look at `NotPrincipal`, `aws:SourceVpce`, `aws:SecureTransport` and encryption-header conditions)"
        ),
        (Some(LinkId::BucketPolicy), false) => format!(
            "the bucket policy must allow {action} on {resource} to {grantee} or its account; across accounts its identity policy must allow it too"
        ),
        (Some(LinkId::TrustPolicy), true) => {
            format!("find the `Deny` in the trust policy of {resource} that matches {principal}")
        }
        (Some(LinkId::TrustPolicy), false) => format!(
            "the trust policy of {resource} must allow `sts:AssumeRole` to {grantee} (check its conditions, such as `sts:ExternalId`); across accounts the caller's identity policy must allow it too"
        ),
        (_, true) => format!("find the `Deny` in the resource-based policy of {resource}"),
        (_, false) => format!("the resource-based policy of {resource} must allow {action}"),
    };
    Meaning {
        link,
        account,
        owner,
        summary,
        next_steps: vec![step],
        ..Meaning::default()
    }
}

fn service_control_policy(parsed: &Parsed, facts: &Facts) -> Meaning {
    let account = facts.principal_account.clone();
    let management = account_of(parsed.policy_arn.as_deref())
        .map(|management| format!(" {management}"))
        .unwrap_or_default();
    let owner = Some(match &account {
        Some(account) => format!(
            "the admin of the organization's management account{management}, for the SCPs of account {account}"
        ),
        None => format!("the admin of the organization's management account{management}"),
    });
    let summary = if facts.explicit {
        format!(
            "a service control policy explicitly denies {} to {}",
            facts.action, facts.principal
        )
    } else {
        format!(
            "at some level of the organization no service control policy allows {}",
            facts.action
        )
    };
    let target = account.clone().unwrap_or_else(|| "ACCOUNT".to_string());
    Meaning {
        link: Some(LinkId::Scp),
        account,
        owner,
        summary,
        next_steps: vec![format!(
            "list the SCPs of the root, every OU and account {target} (`aws organizations list-policies-for-target --target-id {target} --filter SERVICE_CONTROL_POLICY`, and for each parent); every level must allow {} and none may deny it",
            facts.action
        )],
        ..Meaning::default()
    }
}

fn resource_control_policy(facts: &Facts) -> Meaning {
    let account = facts.resource_account.clone();
    let resource_owner = match facts.service.as_deref() {
        Some("kms") => "the key's owner",
        Some("s3") => "the bucket owner",
        Some("sts") => "the role's owner",
        _ => "the resource's owner",
    };
    let owner = Some(match &account {
        Some(account) => format!(
            "the admin of the organization's management account, for the RCPs of account {account} ({resource_owner})"
        ),
        None => format!(
            "the admin of the organization's management account, for the RCPs of {resource_owner}'s account"
        ),
    });
    let summary = if facts.explicit {
        format!(
            "a resource control policy explicitly denies {} on {}",
            facts.action, facts.resource
        )
    } else {
        format!(
            "at some level of the organization no resource control policy allows {} on {}",
            facts.action, facts.resource
        )
    };
    let target = account.clone().unwrap_or_else(|| "ACCOUNT".to_string());
    Meaning {
        link: Some(LinkId::Rcp),
        account,
        owner,
        summary,
        next_steps: vec![format!(
            "list the RCPs of the root, every OU and account {target} (`aws organizations list-policies-for-target --target-id {target} --filter RESOURCE_CONTROL_POLICY`); custom RCPs usually deny callers from outside the organization"
        )],
        ..Meaning::default()
    }
}

fn permissions_boundary(facts: &Facts) -> Meaning {
    let account = facts.principal_account.clone();
    let summary = if facts.explicit {
        format!(
            "the permissions boundary of {} explicitly denies {}",
            facts.grantee, facts.action
        )
    } else {
        format!(
            "the permissions boundary of {} does not allow {}",
            facts.grantee, facts.action
        )
    };
    Meaning {
        link: Some(LinkId::PermissionsBoundary),
        owner: admin_of(&account, "the principal's account"),
        account,
        summary,
        next_steps: vec![format!(
            "read the boundary (`PermissionsBoundary` in `aws iam get-user` or `aws iam get-role`) and add {} on {} to it; a boundary caps what the identity policies grant",
            facts.action, facts.resource
        )],
        ..Meaning::default()
    }
}

fn session_policy(facts: &Facts) -> Meaning {
    let account = facts.principal_account.clone();
    let owner = Some(match &account {
        Some(account) => format!(
            "whoever creates the session in account {account} (the caller of `sts:AssumeRole` or the identity provider)"
        ),
        None => {
            "whoever creates the session (the caller of `sts:AssumeRole` or the identity provider)"
                .to_string()
        }
    });
    let summary = if facts.explicit {
        format!(
            "the session policy of {} explicitly denies {}",
            facts.principal, facts.action
        )
    } else {
        format!(
            "the session policy of {} does not allow {}",
            facts.principal, facts.action
        )
    };
    Meaning {
        link: Some(LinkId::SessionPolicy),
        account,
        owner,
        summary,
        next_steps: vec![format!(
            "the session policy passed when the session was created (`--policy` / `--policy-arns` of `aws sts assume-role`, or the identity provider's) must allow {}; it caps the role's own policies",
            facts.action
        )],
        ..Meaning::default()
    }
}

fn vpc_endpoint_policy(facts: &Facts) -> Meaning {
    let summary = if facts.explicit {
        format!(
            "the policy of the VPC endpoint the request went through explicitly denies {}",
            facts.action
        )
    } else {
        format!(
            "the policy of the VPC endpoint the request went through does not allow {}",
            facts.action
        )
    };
    Meaning {
        owner: Some(
            "the admin of the account that owns the VPC endpoint (often the caller's)".to_string(),
        ),
        summary,
        next_steps: vec![format!(
            "read the endpoint policy (`aws ec2 describe-vpc-endpoints`) and allow {} on {}; kms-s3-doctor does not judge VPC endpoint policies",
            facts.action, facts.resource
        )],
        ..Meaning::default()
    }
}

/// Older forms, KMS's among them, name no policy type.
fn no_policy_type(facts: &Facts) -> Meaning {
    let suspects = match facts.service.as_deref() {
        Some("kms") => vec![LinkId::KeyPolicy, LinkId::IdentityPolicy, LinkId::Scp],
        Some("s3") => vec![LinkId::BucketPolicy, LinkId::IdentityPolicy, LinkId::Scp],
        Some("sts") => vec![LinkId::TrustPolicy, LinkId::IdentityPolicy, LinkId::Scp],
        _ => vec![LinkId::IdentityPolicy, LinkId::Scp],
    };
    let mut meaning = Meaning {
        suspects,
        summary: format!(
            "{} may not use {} on {}, and the message does not say which policy refused",
            facts.principal, facts.action, facts.resource
        ),
        next_steps: vec![
            "run the check below: it judges every policy of the chain and names the one that refuses".to_string(),
        ],
        ..Meaning::default()
    };
    if facts.service.as_deref() == Some("kms") {
        meaning.account = facts.resource_account.clone();
        meaning.owner = admin_of(&meaning.account, "the key's owner");
        meaning.next_steps.push(format!(
            "across accounts the key policy of {} must allow {} or its account, and the caller's identity policy must allow {} on the key ARN (not an alias)",
            facts.resource, facts.grantee, facts.action
        ));
    }
    meaning
}

// ---------------------------------------------------------------------------
// S3's answers without a policy named.

fn bare_access_denied() -> Meaning {
    Meaning {
        suspects: vec![
            LinkId::BucketPolicy,
            LinkId::IdentityPolicy,
            LinkId::KeyPolicy,
            LinkId::ObjectOwnership,
            LinkId::Scp,
            LinkId::Rcp,
        ],
        summary: "S3 refused the request without saying which policy: it does so across accounts and when the KMS call it makes for the caller fails".to_string(),
        next_steps: vec![
            "run the check below: it judges the bucket policy, the key policy and the caller's policies together".to_string(),
            "find the request in CloudTrail (`errorCode: AccessDenied`) for the exact principal, action and resource".to_string(),
        ],
        ..Meaning::default()
    }
}

/// S3 API reference, HeadObject: HEAD needs `s3:GetObject` (HeadBucket:
/// `s3:ListBucket`); the response has no body, so the error is the bare
/// status; and a missing object gives 403, not 404, to a caller without
/// `s3:ListBucket` on the bucket. HEAD reads metadata only: KMS is not
/// called, so the key's links are not suspects yet.
fn head_forbidden(parsed: &Parsed, bucket: Option<&str>, object: Option<&str>) -> Meaning {
    if parsed.api_operation.as_deref() == Some("HeadBucket") {
        return Meaning {
            suspects: vec![
                LinkId::BucketPolicy,
                LinkId::IdentityPolicy,
                LinkId::Scp,
                LinkId::Rcp,
            ],
            summary: "S3 refused HeadBucket (HTTP 403, a HEAD response has no body to say why): the caller may not use `s3:ListBucket` on the bucket".to_string(),
            next_steps: vec![
                "run the check below: it judges `s3:ListBucket` through the identity policy, the bucket policy, SCPs and RCPs".to_string(),
            ],
            ..Meaning::default()
        };
    }
    let list = format!(
        "aws s3api list-objects-v2 --bucket {} --prefix {}",
        bucket.map_or_else(|| "BUCKET".to_string(), shell_word),
        object.map_or_else(|| "KEY".to_string(), shell_word)
    );
    let mut next_steps = vec![
        "run the check below: it judges `s3:GetObject` through the identity policy, the bucket policy, object ownership, SCPs and RCPs".to_string(),
        format!("if the object may not exist: S3 answers 403 instead of 404 when the caller may not use `s3:ListBucket` on the bucket (`{list}` with a profile that can list)"),
    ];
    if parsed.from_cli_transfer {
        next_steps.push("`aws s3 cp` sends HeadObject before GetObject: once HEAD passes, the download still needs `kms:Decrypt` on the object's key, which the check below judges too (`--op head,get`)".to_string());
    }
    Meaning {
        suspects: vec![
            LinkId::BucketPolicy,
            LinkId::IdentityPolicy,
            LinkId::ObjectOwnership,
            LinkId::Scp,
            LinkId::Rcp,
        ],
        summary: "S3 refused HeadObject (HTTP 403, a HEAD response has no body to say why): the caller may not use `s3:GetObject` on the object, or the object does not exist and the caller may not list the bucket".to_string(),
        next_steps,
        ..Meaning::default()
    }
}

// ---------------------------------------------------------------------------
// KMS's answers, directly or relayed by S3.

fn ciphertext_key_unavailable() -> Meaning {
    Meaning {
        suspects: vec![LinkId::KeyPolicy, LinkId::IdentityPolicy, LinkId::KeyState],
        summary: "KMS could not use the object's key for the caller: the key does not exist, is in another region, or the caller may not use it".to_string(),
        next_steps: vec![
            "read the object's key: `aws s3api head-object --bucket BUCKET --key KEY` (`SSEKMSKeyId`)".to_string(),
            "that key must exist in the bucket's region, and across accounts its key policy must allow the caller's account `kms:Decrypt` and the caller's identity policy must allow it on the key ARN".to_string(),
        ],
        ..Meaning::default()
    }
}

fn key_state_meaning(facts: &Facts, summary: String, step: String) -> Meaning {
    let account = facts.resource_account.clone();
    Meaning {
        link: Some(LinkId::KeyState),
        owner: admin_of(&account, "the key's owner")
            .or_else(|| Some("the admin of the key's account".to_string())),
        account,
        summary,
        next_steps: vec![step],
        ..Meaning::default()
    }
}

fn key_disabled(facts: &Facts) -> Meaning {
    key_state_meaning(
        facts,
        format!(
            "the KMS key {} is disabled, so no one can use it",
            facts.resource
        ),
        format!(
            "enable it (`aws kms enable-key --key-id {}`) or encrypt with another key",
            facts.key
        ),
    )
}

fn key_pending_deletion(facts: &Facts) -> Meaning {
    key_state_meaning(
        facts,
        format!(
            "the KMS key {} is pending deletion, so no one can use it",
            facts.resource
        ),
        format!(
            "cancel the deletion before the waiting period ends (`aws kms cancel-key-deletion --key-id {key}`), then enable it (`aws kms enable-key --key-id {key}`); objects under a deleted key cannot be read again",
            key = facts.key
        ),
    )
}

fn key_invalid_state(facts: &Facts) -> Meaning {
    key_state_meaning(
        facts,
        format!("the KMS key {} is not in a usable state", facts.resource),
        format!(
            "read its state (`aws kms describe-key --key-id {}`, `KeyState`); it must be `Enabled`",
            facts.key
        ),
    )
}

fn key_not_found(facts: &Facts) -> Meaning {
    let account = facts.resource_account.clone();
    Meaning {
        link: Some(LinkId::KeyState),
        suspects: vec![LinkId::BucketEncryption],
        owner: admin_of(&account, "the key's owner"),
        account,
        summary: format!(
            "the KMS key {} does not exist, or not in this region",
            facts.resource
        ),
        next_steps: vec![
            "check the key named by the bucket's default encryption (`aws s3api get-bucket-encryption --bucket BUCKET`) or by the request's `x-amz-server-side-encryption-aws-kms-key-id`".to_string(),
        ],
    }
}

/// KMS resolves an alias or a bare key id in the caller's own account, so
/// one that works for the bucket owner is "not found" for a caller of
/// another account (KMS Developer Guide, "Using aliases"; S3's
/// `x-amz-server-side-encryption-aws-kms-key-id` needs the key ARN across
/// accounts).
fn alias_not_found(facts: &Facts) -> Meaning {
    let mut next_steps = vec![
        "name the key by its full key ARN in the bucket's default encryption (`aws s3api put-bucket-encryption`) or in the request's `x-amz-server-side-encryption-aws-kms-key-id`".to_string(),
    ];
    if facts.key.ends_with("aws/s3") {
        next_steps.push("`aws/s3` is an AWS managed key: each account has its own and it cannot be used from another account; a bucket written across accounts needs a customer managed key".to_string());
    }
    Meaning {
        link: Some(LinkId::BucketEncryption),
        suspects: vec![LinkId::KeyState],
        account: facts.resource_account.clone(),
        owner: Some("the bucket owner's admin".to_string()),
        summary: format!(
            "the KMS key {} is not found for the caller: aliases and bare key ids only work within the key's account",
            facts.resource
        ),
        next_steps,
    }
}

// ---------------------------------------------------------------------------
// AWS services as callers.

/// CloudFront Developer Guide, "Restrict access to an Amazon S3 origin":
/// with an origin access control, the key policy must allow
/// `cloudfront.amazonaws.com` `kms:Decrypt`, limited by `AWS:SourceArn` to
/// the distribution.
fn cloudfront_oac_kms() -> Meaning {
    Meaning {
        link: Some(LinkId::KeyPolicy),
        suspects: vec![LinkId::KeyPolicy, LinkId::KeyState, LinkId::Rcp],
        summary: "CloudFront (origin access control) could read the object from S3, but KMS refused the kms:Decrypt it needs for an SSE-KMS object: the key policy does not allow the service principal `cloudfront.amazonaws.com` for this distribution".to_string(),
        owner: Some("the key's owner".to_string()),
        next_steps: vec![
            "add the statement the CloudFront Developer Guide shows to the key policy: `\"Principal\": {\"Service\": \"cloudfront.amazonaws.com\"}`, `kms:Decrypt`, with `\"StringEquals\": {\"AWS:SourceArn\": \"arn:aws:cloudfront::ACCOUNT:distribution/ID\"}`".to_string(),
            "run the check below with the distribution's ARN as `aws:SourceArn`: it judges the bucket policy and the key policy for CloudFront".to_string(),
        ],
        ..Meaning::default()
    }
}

/// CloudFront Developer Guide, "Restrict access to an Amazon S3 origin":
/// a legacy origin access identity does not support SSE-KMS.
fn cloudfront_oai_kms() -> Meaning {
    Meaning {
        link: Some(LinkId::ServiceSupport),
        suspects: vec![LinkId::ServiceSupport],
        summary: "the object is encrypted with SSE-KMS and CloudFront reads it through a legacy origin access identity, which cannot use SSE-KMS: no key policy statement fixes this".to_string(),
        owner: Some("the distribution's owner".to_string()),
        next_steps: vec![
            "move the distribution's S3 origin to an origin access control (CloudFront Developer Guide, \"Migrating from origin access identity (OAI) to origin access control (OAC)\"), then allow `cloudfront.amazonaws.com` in the bucket policy and the key policy".to_string(),
            "or store the objects CloudFront serves with SSE-S3".to_string(),
        ],
        ..Meaning::default()
    }
}

/// AWS CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail" and
/// "Configure AWS KMS key policies for CloudTrail": the bucket policy must
/// let `cloudtrail.amazonaws.com` read the bucket ACL and put objects under
/// `AWSLogs/ACCOUNT/`, and the key policy let it use `kms:GenerateDataKey*`.
fn cloudtrail_delivery(parsed: &Parsed) -> Meaning {
    let key = parsed
        .resource
        .as_deref()
        .map(|key| format!(" (`{key}`)"))
        .unwrap_or_default();
    Meaning {
        suspects: vec![LinkId::BucketPolicy, LinkId::KeyPolicy, LinkId::KeyState, LinkId::Rcp],
        summary: format!(
            "CloudTrail cannot write the trail's log files: the bucket policy does not let `cloudtrail.amazonaws.com` put them, or the key policy of the trail's KMS key{key} does not let it use kms:GenerateDataKey"
        ),
        owner: Some("the bucket's and the key's owners".to_string()),
        next_steps: vec![
            "the bucket policy needs CloudTrail's documented statements: `s3:GetBucketAcl` on the bucket and `s3:PutObject` on `AWSLogs/ACCOUNT/*` under `\"s3:x-amz-acl\": \"bucket-owner-full-control\"`, each with `aws:SourceArn` naming the trail".to_string(),
            "the key policy needs `kms:GenerateDataKey*` for `cloudtrail.amazonaws.com`, with `aws:SourceArn` and `kms:EncryptionContext:aws:cloudtrail:arn` naming the trail, and the key must be enabled".to_string(),
            "run the check below with the trail's ARN as `aws:SourceArn`".to_string(),
        ],
        ..Meaning::default()
    }
}

/// S3 User Guide, "Download and upload objects with presigned URLs": a URL
/// signed with temporary credentials stops working when they expire, even
/// if the URL asks for a later expiration; AWS Management Console "Common
/// Errors": `ExpiredTokenException`.
fn credentials_expired() -> Meaning {
    Meaning {
        link: Some(LinkId::Authentication),
        summary: "the credentials that signed the request had expired: a presigned URL stops working when the session that signed it expires, whatever expiration the URL asks for".to_string(),
        next_steps: vec![
            "run the check below with `--context s3:authType=REST-QUERY-STRING`, `--context aws:CurrentTime=` the time of the request, and the signing session's `credentials` (issued_at, expires_at) in the snapshot".to_string(),
            "sign a new URL with credentials that outlive its use: a longer role session, or an IAM user's access keys (up to seven days)".to_string(),
        ],
        ..Meaning::default()
    }
}
