//! The fixes the report proposes: which account's admin changes which
//! document, and the statement to add, remove or edit. Statements to add are
//! least-privilege: the one action, the one resource, the one principal.

use serde_json::{Value, json};

use crate::diagnosis::{Fix, FixChange, LinkId};
use crate::policy::{Policy, StatementHit};
use crate::snapshot::NamedPolicy;

/// A statement of `policy` as JSON, by index (a single-object `Statement`
/// is index 0).
fn statement_of(policy: &Policy, index: usize) -> Option<Value> {
    match policy.to_value().get("Statement")? {
        Value::Array(statements) => statements.get(index).cloned(),
        single @ Value::Object(_) if index == 0 => Some(single.clone()),
        _ => None,
    }
}

/// A Sid made from the action: `AllowS3GetObject`.
fn sid_for(action: &str) -> String {
    let mut sid = String::from("Allow");
    for part in action.split(':') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            sid.extend(first.to_uppercase());
            sid.push_str(chars.as_str());
        }
    }
    sid
}

pub(crate) fn remove_deny(
    link: LinkId,
    account: &str,
    hit: &StatementHit,
    policy: Option<&Policy>,
) -> Fix {
    let statement = policy.and_then(|policy| statement_of(policy, hit.statement));
    Fix {
        account: account.to_string(),
        change: FixChange::RemoveStatement,
        document: link.as_str().to_string(),
        statement,
        note: Some(format!(
            "remove statement {}{} of {}, or narrow its condition so it no longer matches this request",
            hit.statement,
            hit.sid
                .as_deref()
                .map(|sid| format!(" (`{sid}`)"))
                .unwrap_or_default(),
            hit.document
        )),
    }
}

pub(crate) fn allow_in_principal_policy(
    link: LinkId,
    account: &str,
    action: &str,
    resource: &str,
) -> Fix {
    let note = match link {
        LinkId::PermissionsBoundary => {
            "a permissions boundary caps what identity policies can grant: add the action to the boundary policy"
        }
        LinkId::SessionPolicy => {
            "session policies are passed when the session is created: pass one that allows the action, or none"
        }
        _ => "attach this to the principal as an inline or managed policy",
    };
    Fix {
        account: account.to_string(),
        change: FixChange::AddStatement,
        document: link.as_str().to_string(),
        statement: Some(json!({
            "Sid": sid_for(action),
            "Effect": "Allow",
            "Action": [action],
            "Resource": resource,
        })),
        note: Some(note.to_string()),
    }
}

pub(crate) fn allow_in_resource_policy(
    link: LinkId,
    owner: &str,
    principal_arn: &str,
    action: &str,
    resource: &str,
    external_id: Option<&str>,
) -> Fix {
    let mut statement = json!({
        "Sid": sid_for(action),
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": [action],
        "Resource": resource,
    });
    if link == LinkId::TrustPolicy {
        // A trust policy has no Resource element: the role is the resource.
        if let Some(map) = statement.as_object_mut() {
            map.remove("Resource");
            if let Some(external_id) = external_id {
                map.insert(
                    "Condition".to_string(),
                    json!({"StringEquals": {"sts:ExternalId": external_id}}),
                );
            }
        }
    }
    let note = match link {
        LinkId::KeyPolicy => {
            "in a key policy `Resource` is always \"*\" (the key itself); a principal of another account also needs an identity policy allowing the action on the key ARN"
        }
        LinkId::TrustPolicy => "add this statement to the role's trust policy",
        _ => "add this statement to the bucket policy",
    };
    Fix {
        account: owner.to_string(),
        change: FixChange::AddStatement,
        document: link.as_str().to_string(),
        statement: Some(statement),
        note: Some(note.to_string()),
    }
}

pub(crate) fn organization(
    link: LinkId,
    account: &str,
    management: Option<&str>,
    action: &str,
    denying: Option<&NamedPolicy>,
) -> Fix {
    let kind = if link == LinkId::Scp { "SCP" } else { "RCP" };
    let admin = management.unwrap_or(account).to_string();
    match denying {
        Some(named) => Fix {
            account: admin,
            change: FixChange::EditStatement,
            document: link.as_str().to_string(),
            statement: None,
            note: Some(format!(
                "{kind} `{}` denies {action}: the organization's management account must narrow or detach it for account {account}",
                named.name
            )),
        },
        None => Fix {
            account: admin,
            change: FixChange::Other,
            document: link.as_str().to_string(),
            statement: None,
            note: Some(format!(
                "every level of the organization must allow {action} for account {account}: attach an {kind} that allows it (such as the AWS managed Full access policy) at the level that lacks one"
            )),
        },
    }
}

pub(crate) fn aws_managed_key(account: &str, bucket: &str) -> Fix {
    Fix {
        account: account.to_string(),
        change: FixChange::Other,
        document: LinkId::KeyState.as_str().to_string(),
        statement: None,
        note: Some(format!(
            "AWS managed keys cannot be shared across accounts: create a customer managed key, allow the other account in its key policy, set it as `{bucket}`'s default encryption by key ARN, and re-encrypt existing objects (copy in place)"
        )),
    }
}

pub(crate) fn missing_key(account: &str, configured: &str) -> Fix {
    Fix {
        account: account.to_string(),
        change: FixChange::Other,
        document: LinkId::KeyState.as_str().to_string(),
        statement: None,
        note: Some(format!(
            "no key `{configured}` exists in account {account}: point the encryption at an existing key, or restore the key if it was scheduled for deletion"
        )),
    }
}

pub(crate) fn key_not_enabled(account: &str, arn: &str, state: &str) -> Fix {
    let what = match state {
        "Disabled" => format!("enable it: `aws kms enable-key --key-id {arn}`"),
        "PendingDeletion" => format!(
            "cancel its deletion and enable it: `aws kms cancel-key-deletion --key-id {arn}` then `aws kms enable-key --key-id {arn}`"
        ),
        "PendingImport" => "import its key material".to_string(),
        _ => format!("bring it back to Enabled (it is {state})"),
    };
    Fix {
        account: account.to_string(),
        change: FixChange::Other,
        document: LinkId::KeyState.as_str().to_string(),
        statement: None,
        note: Some(format!("the key must be Enabled: {what}")),
    }
}

pub(crate) fn bucket_default_key_arn(
    account: &str,
    bucket: &str,
    key_arn: Option<&str>,
    configured: &str,
) -> Fix {
    let target = key_arn.unwrap_or("the full ARN of an existing key");
    Fix {
        account: account.to_string(),
        change: FixChange::Other,
        document: LinkId::BucketEncryption.as_str().to_string(),
        statement: None,
        note: Some(format!(
            "set `{bucket}`'s default encryption key to {target} instead of `{configured}` (s3:PutEncryptionConfiguration), or have writers send x-amz-server-side-encryption-aws-kms-key-id with the key ARN"
        )),
    }
}

pub(crate) fn object_ownership(owner: &str, bucket_account: &str, caller: &str, key: &str) -> Fix {
    Fix {
        account: owner.to_string(),
        change: FixChange::Other,
        document: LinkId::ObjectOwnership.as_str().to_string(),
        statement: None,
        note: Some(format!(
            "account {owner} owns `{key}`: it must grant account {caller} READ in the object's ACL, or the bucket owner {bucket_account} sets Object Ownership to BucketOwnerEnforced (which makes it the owner of every object)"
        )),
    }
}
