//! What the pastes other than AWS's own error texts mean: the S3 console's
//! banner, KMS's AccessDenied without the "is not authorized" detail, the
//! output of `aws sts decode-authorization-message`, and a CloudTrail
//! record (which is the request itself, and goes to `check --event`).

use super::{Facts, Meaning};
use crate::diagnosis::LinkId;
use crate::explain::parse::Parsed;
use crate::explain::{DecodedAuthorization, PastedRecord};
use crate::report::shell_word;

/// The links a refusal of `service`'s action may come from, when nothing
/// says which policy refused.
fn suspects_of(service: Option<&str>) -> Vec<LinkId> {
    match service {
        Some("kms") => vec![
            LinkId::KeyPolicy,
            LinkId::IdentityPolicy,
            LinkId::KeyState,
            LinkId::Scp,
            LinkId::Rcp,
        ],
        Some("s3") => vec![
            LinkId::BucketPolicy,
            LinkId::IdentityPolicy,
            LinkId::ObjectOwnership,
            LinkId::Scp,
            LinkId::Rcp,
        ],
        Some("sts") => vec![LinkId::TrustPolicy, LinkId::IdentityPolicy, LinkId::Scp],
        _ => vec![LinkId::IdentityPolicy, LinkId::Scp],
    }
}

/// The S3 console calls S3 with the signed-in principal's credentials;
/// `s3:ListAllMyBuckets` is granted by identity policies only (no bucket
/// policy can name it: it has no bucket).
pub(in crate::explain) fn console_banner(parsed: &Parsed, facts: &Facts) -> Meaning {
    let who = "find who you are signed in as (the console's account menu shows the role or user; `aws sts get-caller-identity` with the same credentials gives the ARN) and give it as `--principal` to the check below".to_string();
    if parsed
        .action
        .as_deref()
        .is_some_and(|action| action.eq_ignore_ascii_case("s3:ListAllMyBuckets"))
    {
        return Meaning {
            link: Some(LinkId::IdentityPolicy),
            suspects: vec![LinkId::Scp],
            summary: "the S3 console could not list the account's buckets: the signed-in principal may not use `s3:ListAllMyBuckets`, which only its identity policies (within the SCPs) can grant".to_string(),
            owner: Some("the admin of the signed-in principal's account".to_string()),
            next_steps: vec![
                "add `s3:ListAllMyBuckets` on `*` to an identity policy of the signed-in principal; the console can still open a bucket by its name without it".to_string(),
                who,
            ],
            ..Meaning::default()
        };
    }
    // Listing reads no object, so whose object it is cannot matter.
    let listing = parsed
        .action
        .as_deref()
        .is_some_and(|action| action.eq_ignore_ascii_case("s3:ListBucket"));
    let mut suspects = vec![LinkId::IdentityPolicy];
    suspects.extend(
        suspects_of(facts.service.as_deref())
            .into_iter()
            .filter(|link| *link != LinkId::IdentityPolicy)
            .filter(|link| !(listing && *link == LinkId::ObjectOwnership)),
    );
    Meaning {
        suspects,
        summary: format!(
            "the S3 console's call needed {} and was refused for the signed-in principal; the banner names neither the principal nor the policy that refused",
            facts.action
        ),
        next_steps: vec![
            who,
            "the console lists a bucket (`s3:ListBucket`) before it shows or downloads an object: a banner on the list can hide a missing `s3:GetObject` or `kms:Decrypt` behind it, which the check below judges too".to_string(),
        ],
        ..Meaning::default()
    }
}

/// KMS's AccessDeniedException names no policy type: the key policy (or a
/// grant), the caller's identity policy and the organization's policies
/// may each refuse (KMS Developer Guide, "Troubleshooting key access").
pub(in crate::explain) fn kms_access_denied(facts: &Facts) -> Meaning {
    Meaning {
        suspects: suspects_of(Some("kms")),
        summary: format!(
            "KMS refused {} for the caller without saying which policy: the key policy, a grant, the caller's identity policy, an SCP or an RCP",
            facts.action
        ),
        next_steps: vec![
            "run the check below: it judges the key policy and grants, the caller's policies and the key's state together".to_string(),
            "find the KMS request in CloudTrail (`eventSource kms.amazonaws.com`, `errorCode AccessDenied`) for the exact principal and key, and paste it to `kms-s3-doctor explain -`".to_string(),
        ],
        ..Meaning::default()
    }
}

pub(in crate::explain) fn decoded_authorization(parsed: &Parsed, facts: &Facts) -> Meaning {
    let decoded = parsed.decoded.clone().unwrap_or_default();
    let context = context_line(&decoded);
    if decoded.allowed == Some(true) {
        return Meaning {
            summary: format!(
                "AWS allowed {} for {} on {}: this decoded message is not of a denial",
                facts.action, facts.principal, facts.resource
            ),
            next_steps: vec![
                "decode the message of the failed request (the one the AccessDenied error carried)"
                    .to_string(),
            ],
            ..Meaning::default()
        };
    }
    let denying: Vec<&String> = decoded
        .matched_statements
        .iter()
        .filter(|(_, effect)| effect.eq_ignore_ascii_case("deny"))
        .map(|(sid, _)| sid)
        .collect();
    let summary = if decoded.explicit_deny == Some(true) {
        match denying.as_slice() {
            [] => format!(
                "an explicit Deny refused {} to {} on {}",
                facts.action, facts.principal, facts.resource
            ),
            sids => format!(
                "the Deny statement {} refused {} to {} on {}",
                sids.iter()
                    .map(|sid| format!("`{sid}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                facts.action,
                facts.principal,
                facts.resource
            ),
        }
    } else {
        format!(
            "no statement allows {} to {} on {} (an implicit deny)",
            facts.action, facts.principal, facts.resource
        )
    };
    let mut next_steps = Vec::new();
    if !denying.is_empty() {
        next_steps.push(format!(
            "find the statement with `\"Sid\": \"{}\"`: the decoded message does not say which policy holds it, so look in the suspects' policies in the order given; the check below names it",
            denying[0]
        ));
    }
    if !context.is_empty() {
        next_steps.push(format!(
            "AWS evaluated the request with this context: {context}; the check below is given the network and transport keys of it"
        ));
    }
    let chain = matches!(facts.service.as_deref(), Some("s3" | "kms"));
    if !chain {
        next_steps.push(format!(
            "{} is outside the chain kms-s3-doctor judges (S3 and KMS)",
            facts.action
        ));
    }
    Meaning {
        suspects: suspects_of(facts.service.as_deref()),
        account: facts.principal_account.clone(),
        summary,
        next_steps,
        ..Meaning::default()
    }
}

fn context_line(decoded: &DecodedAuthorization) -> String {
    decoded
        .conditions
        .iter()
        .map(|(key, values)| format!("`{key}={}`", values.join(",")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The condition keys of a decoded message that `check` takes as
/// `--context` (the tool derives the principal's own keys itself): the
/// network, transport, time, MFA and S3 header keys, each with one value.
pub(in crate::explain) fn decoded_context_flags(decoded: &DecodedAuthorization) -> String {
    const TAKEN: &[&str] = &[
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:sourceip",
        "aws:vpcsourceip",
        "aws:securetransport",
        "aws:currenttime",
        "aws:multifactorauthpresent",
        "aws:requestedregion",
    ];
    decoded
        .conditions
        .iter()
        .filter(|(key, values)| {
            let lower = key.to_ascii_lowercase();
            values.len() == 1 && (TAKEN.contains(&lower.as_str()) || lower.starts_with("s3:"))
        })
        .map(|(key, values)| format!(" --context {}", shell_word(&format!("{key}={}", values[0]))))
        .collect()
}

pub(in crate::explain) fn cloudtrail_record(parsed: &Parsed, facts: &Facts) -> Meaning {
    let record = parsed.record.clone();
    let operation = parsed
        .api_operation
        .as_deref()
        .map_or_else(|| "request".to_string(), |op| format!("`{op}`"));
    let outcome = match (
        &parsed.error_code,
        record.as_ref().and_then(|r| r.error_message.as_ref()),
    ) {
        (Some(code), Some(message)) => format!("failed with `{code}` (\"{message}\")"),
        (Some(code), None) => format!("failed with `{code}`"),
        _ => "succeeded".to_string(),
    };
    let denied = parsed
        .error_code
        .as_deref()
        .is_some_and(|code| code.to_ascii_lowercase().contains("accessdenied"));
    let mut next_steps = vec![
        "save the record to a file (`record.json`) and run the command below with the AWS profile of the bucket's account, or with `--snapshot FILE` instead: it takes the principal, bucket, object, operation and the request's context (source IP or VPC endpoint, TLS, time) from the record and judges every link".to_string(),
        "or give the snapshot or profile to `explain` itself (`kms-s3-doctor explain - --snapshot FILE < record.json`): it then runs the check".to_string(),
    ];
    if let Some(record) = record.as_ref().filter(|record| record.requests > 1) {
        next_steps.push(format!(
            "the paste holds {} distinct S3 requests; `check --event` judges each, and this explanation is of the first",
            record.requests
        ));
    }
    Meaning {
        suspects: if denied {
            suspects_of(Some("s3"))
                .into_iter()
                .chain([LinkId::KeyPolicy])
                .collect()
        } else {
            Vec::new()
        },
        summary: format!(
            "a CloudTrail record of S3 {operation} by {}, which {outcome}: the record is the request itself, and `check --event` judges it",
            facts.principal
        ),
        next_steps,
        ..Meaning::default()
    }
}

pub(in crate::explain) fn record_command(_record: &PastedRecord) -> String {
    "kms-s3-doctor check --event record.json --profile PROFILE".to_string()
}
