//! The change each failing link proposes, as part of the judge's answer:
//! which account's admin changes which document, and the statement to add,
//! remove or edit. Statements to add are least-privilege: the one action,
//! the one resource, the one principal. Completing the proposals (one list
//! of distinct changes, their target documents, commands and re-check) is
//! the work of the next stage, the fixes.

use serde_json::{Value, json};

use crate::diagnosis::{Fix, FixChange, LinkId, OperationResult};
use crate::policy::arn::{Principal, PrincipalKind};
use crate::policy::{Policy, StatementHit};
use crate::snapshot::NamedPolicy;

/// A statement of `policy` as JSON, by index (a single-object `Statement`
/// is index 0).
fn statement_of(policy: &Policy, index: usize) -> Option<Value> {
    // The statement as the whole document's canonical form has it, without
    // writing out the others.
    policy
        .statements()
        .get(index)
        .map(|statement| statement.to_value())
}

/// A Sid made from the actions: `AllowS3GetObject`, `AllowKmsDecryptGenerateDataKey`.
pub(crate) fn sid_for(actions: &[&str]) -> String {
    let mut sid = String::from("Allow");
    let mut service_written: Option<&str> = None;
    for action in actions {
        let (service, name) = action.split_once(':').unwrap_or(("", action));
        for part in [service, name] {
            if part == service && service_written == Some(service) {
                continue;
            }
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                sid.extend(first.to_uppercase());
                sid.push_str(chars.as_str());
            }
        }
        service_written = Some(service);
    }
    sid
}

/// Without `--object` the object checked is a placeholder no one will ever
/// read: a statement scoped to it is useless to paste. Scope it as a person
/// would, to the bucket's objects, and say that `--object` narrows it.
pub(crate) fn scope_to_bucket(
    operations: &mut [OperationResult],
    placeholder: &str,
    objects: &str,
) {
    let fixes = operations
        .iter_mut()
        .flat_map(|operation| &mut operation.actions)
        .flat_map(|action| &mut action.links)
        .filter_map(|link| link.fix.as_mut());
    for fix in fixes {
        if fix.change != FixChange::AddStatement {
            continue;
        }
        let Some(statement) = fix.statement.as_mut().and_then(Value::as_object_mut) else {
            continue;
        };
        if statement.get("Resource").and_then(Value::as_str) == Some(placeholder) {
            statement.insert("Resource".to_string(), Value::String(objects.to_string()));
            let scoped = "scoped to all of the bucket's objects because no --object was given: `--object` narrows it";
            fix.note = Some(match fix.note.take() {
                Some(note) => format!("{note}; {scoped}"),
                None => scoped.to_string(),
            });
        }
    }
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
            hit.label
        )),
        ..Default::default()
    }
}

/// The caller's remedy: no document changes; the request meets the guard's
/// condition. `flags` are the `check` flags that say so (`--context
/// aws:SecureTransport=true`, `--external-id x`); the re-check applies them.
/// `account` is the guard's owner, as for the changes it stands instead of;
/// the caller makes it.
pub(crate) fn request(link: LinkId, account: &str, remedy: &str, flags: Vec<String>) -> Fix {
    Fix {
        account: account.to_string(),
        change: FixChange::Request,
        document: link.as_str().to_string(),
        statement: None,
        note: Some(format!(
            "the statement is a guard the request can meet: {remedy}; nothing in the policy needs to change"
        )),
        flags,
        ..Default::default()
    }
}

/// A Deny kept, with AWS's documented exception for the calls AWS services
/// make for the caller added to its `Condition`: S3's request to KMS is a
/// forward access session, which never comes through the caller's VPC
/// endpoint or VPC. The KMS Developer Guide shows the exception
/// (<https://docs.aws.amazon.com/kms/latest/developerguide/conditions-aws.html#conditions-aws-vpce>,
/// "Using VPC endpoint conditions in policies with AWS KMS permissions").
pub(crate) fn exempt_aws_services(
    link: LinkId,
    account: &str,
    hit: &StatementHit,
    policy: Option<&Policy>,
) -> Option<Fix> {
    let mut statement = policy.and_then(|policy| statement_of(policy, hit.statement))?;
    let map = statement.as_object_mut()?;
    let condition = map
        .entry("Condition")
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    let exception = condition
        .entry("BoolIfExists")
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    exception.insert("aws:ViaAWSService".to_string(), json!("false"));
    Some(Fix {
        account: account.to_string(),
        change: FixChange::EditStatement,
        document: link.as_str().to_string(),
        statement: Some(statement),
        note: Some(
            "keep the Deny and exempt the calls AWS services make for the caller, which never come through the VPC endpoint: add `\"BoolIfExists\": {\"aws:ViaAWSService\": \"false\"}` to its condition, as the KMS Developer Guide's \"Using VPC endpoint conditions in policies with AWS KMS permissions\" shows".to_string(),
        ),
        replaces: true,
        ..Default::default()
    })
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
        _ => {
            "add this to the principal's identity policies (the command below puts it in an inline policy of its own; a managed policy works too)"
        }
    };
    Fix {
        account: account.to_string(),
        change: FixChange::AddStatement,
        document: link.as_str().to_string(),
        statement: Some(json!({
            "Sid": sid_for(&[action]),
            "Effect": "Allow",
            "Action": [action],
            "Resource": resource,
        })),
        note: Some(note.to_string()),
        ..Default::default()
    }
}

/// What a statement to add must say beyond principal, action and resource.
pub(crate) enum Scope<'a> {
    None,
    /// A trust policy: the external id the caller sends, if any.
    AssumeRole {
        external_id: Option<&'a str>,
    },
    /// A key policy: only through S3 in this region (`kms:ViaService`), the
    /// only use this request makes of the key.
    ThroughS3 {
        region: &'a str,
    },
    /// A key policy, for a directory bucket: only with the bucket's ARN as
    /// encryption context, the only context S3 uses there (S3 API
    /// Reference, "PutObject", `x-amz-server-side-encryption-context`).
    ThroughDirectoryBucket {
        bucket_arn: &'a str,
    },
}

pub(crate) fn allow_in_resource_policy(
    link: LinkId,
    owner: &str,
    principal_arn: &str,
    action: &str,
    resource: &str,
    scope: Scope<'_>,
) -> Fix {
    let mut statement = json!({
        "Sid": sid_for(&[action]),
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": [action],
        "Resource": resource,
    });
    if let (Scope::ThroughS3 { region }, Some(map)) = (&scope, statement.as_object_mut()) {
        map.insert(
            "Condition".to_string(),
            json!({"StringEquals": {"kms:ViaService": format!("s3.{region}.amazonaws.com")}}),
        );
    }
    if let (Scope::ThroughDirectoryBucket { bucket_arn }, Some(map)) =
        (&scope, statement.as_object_mut())
    {
        map.insert(
            "Condition".to_string(),
            json!({"StringEquals": {"kms:EncryptionContext:aws:s3:arn": bucket_arn}}),
        );
    }
    if let Scope::AssumeRole { external_id } = scope {
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
        ..Default::default()
    }
}

/// The statement a resource policy needs for a caller that is no IAM
/// identity. A service principal is named as `{"Service": NAME}` and, as
/// AWS recommends against the confused deputy (IAM User Guide, "The
/// confused deputy problem"), only for the resource it acts for
/// (`aws:SourceArn`, as the CloudFront Developer Guide's origin access
/// control statements and the CloudTrail User Guide's bucket and key
/// policies write it); a delivery service's write also keeps its
/// documented `s3:x-amz-acl` condition. An unsigned caller gets no
/// statement: allowing `"*"` would make the objects public.
pub(crate) fn allow_outside_caller(
    link: LinkId,
    owner: &str,
    caller: &Principal,
    action: &str,
    resource: &str,
    source_arn: Option<&str>,
    delivery_acl: Option<&str>,
) -> Fix {
    let principal = match &caller.kind {
        PrincipalKind::Service { name } => json!({"Service": name}),
        PrincipalKind::CloudFrontOai { arn } => json!({"AWS": arn}),
        _ => {
            return other(
                owner,
                link,
                "an unsigned request is allowed only by a statement with `\"Principal\": \"*\"`, which makes the objects public to everyone: sign the request instead, or serve the objects through CloudFront with an origin access control".to_string(),
            );
        }
    };
    let mut statement = json!({
        "Sid": sid_for(&[action]),
        "Effect": "Allow",
        "Principal": principal,
        "Action": [action],
        "Resource": resource,
    });
    let mut equals = serde_json::Map::new();
    if let Some(arn) = source_arn.filter(|_| caller.service_name().is_some()) {
        equals.insert("aws:SourceArn".to_string(), json!(arn));
    }
    if let Some(acl) = delivery_acl.filter(|_| action == "s3:PutObject") {
        equals.insert("s3:x-amz-acl".to_string(), json!(acl));
    }
    let mut condition = serde_json::Map::new();
    if !equals.is_empty() {
        condition.insert("StringEquals".to_string(), Value::Object(equals));
    }
    // AWS CloudTrail User Guide, "Configure AWS KMS key policies for
    // CloudTrail": the statement also limits the encryption context to the
    // trails of the source account.
    let trail_account = source_arn.and_then(|arn| crate::policy::arn::ArnParts::parse(arn).ok());
    if link == LinkId::KeyPolicy
        && caller.service_name() == Some("cloudtrail.amazonaws.com")
        && let Some(arn) = trail_account.filter(|arn| arn.service == "cloudtrail")
    {
        condition.insert(
            "StringLike".to_string(),
            json!({"kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:{}:cloudtrail:*:{}:trail/*", arn.partition, arn.account)}),
        );
    }
    if !condition.is_empty()
        && let Some(map) = statement.as_object_mut()
    {
        map.insert("Condition".to_string(), Value::Object(condition));
    }
    let mut note = match link {
        LinkId::KeyPolicy => {
            "add this statement to the key policy (in a key policy `Resource` is always \"*\")"
                .to_string()
        }
        _ => "add this statement to the bucket policy".to_string(),
    };
    if caller.service_name().is_some() && source_arn.is_none() {
        note.push_str(
            "; then limit it to the resource the service acts for with a `StringEquals` condition on `aws:SourceArn` (the distribution, trail or log source): without one, any customer's use of the service could reach this resource (IAM User Guide, \"The confused deputy problem\"); pass --context aws:SourceArn=ARN to have it written here",
        );
    }
    Fix {
        account: owner.to_string(),
        change: FixChange::AddStatement,
        document: link.as_str().to_string(),
        statement: Some(statement),
        note: Some(note),
        ..Default::default()
    }
}

/// Who changes an SCP or RCP when the snapshot does not name the
/// organization's management account. AWS Organizations User Guide,
/// "Updating organization policies": SCPs and RCPs are changed from the
/// management account (Organizations API Reference, "DetachPolicy": or a
/// member account that is a delegated administrator), never from the
/// member account they restrict.
pub(crate) const MANAGEMENT_ACCOUNT: &str = "the organization's management account";

pub(crate) fn organization(
    link: LinkId,
    account: &str,
    management: Option<&str>,
    action: &str,
    denying: Option<&NamedPolicy>,
) -> Fix {
    let kind = if link == LinkId::Scp { "SCP" } else { "RCP" };
    let admin = management.unwrap_or(MANAGEMENT_ACCOUNT).to_string();
    match denying {
        Some(named) => Fix {
            account: admin,
            change: FixChange::EditStatement,
            document: link.as_str().to_string(),
            statement: None,
            note: Some(format!(
                "{kind} `{}` denies {action}: the organization's management account (or a delegated administrator for policy management) must narrow or detach it for account {account}",
                named.name
            )),
            ..Default::default()
        },
        None => Fix {
            account: admin,
            change: FixChange::Other,
            document: link.as_str().to_string(),
            statement: None,
            note: Some(format!(
                "every level of the organization must allow {action} for account {account}: attach an {kind} that allows it (such as the AWS managed Full access policy) at the level that lacks one"
            )),
            ..Default::default()
        },
    }
}

/// A change that is not a statement (enable a key, change a setting).
fn other(account: &str, link: LinkId, note: String) -> Fix {
    Fix {
        account: account.to_string(),
        change: FixChange::Other,
        document: link.as_str().to_string(),
        statement: None,
        note: Some(note),
        ..Default::default()
    }
}

pub(crate) fn aws_managed_key(account: &str, bucket: &str) -> Fix {
    other(
        account,
        LinkId::KeyState,
        format!(
            "AWS managed keys cannot be shared across accounts: create a customer managed key, allow the other account in its key policy, set it as `{bucket}`'s default encryption by key ARN, and re-encrypt existing objects (copy in place)"
        ),
    )
}

pub(crate) fn missing_key(account: &str, configured: &str) -> Fix {
    other(
        account,
        LinkId::KeyState,
        format!(
            "no key `{configured}` exists in account {account}: point the encryption at an existing key, or restore the key if it was scheduled for deletion"
        ),
    )
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
    other(
        account,
        LinkId::KeyState,
        format!("the key must be Enabled: {what}"),
    )
}

pub(crate) fn bucket_default_key_arn(
    account: &str,
    bucket: &str,
    key_arn: Option<&str>,
    configured: &str,
) -> Fix {
    let target = key_arn.unwrap_or("the full ARN of an existing key");
    other(
        account,
        LinkId::BucketEncryption,
        format!(
            "set `{bucket}`'s default encryption key to {target} instead of `{configured}` (s3:PutEncryptionConfiguration), or have writers send x-amz-server-side-encryption-aws-kms-key-id with the key ARN"
        ),
    )
}

/// The bucket's default key is in another region and no replica of it is
/// known in the bucket's region: a key there must be named instead.
pub(crate) fn bucket_default_key_in_region(
    account: &str,
    bucket: &str,
    region: &str,
    configured: &str,
) -> Fix {
    other(
        account,
        LinkId::BucketEncryption,
        format!(
            "set `{bucket}`'s default encryption key to the full ARN of a key in {region} (the bucket's region) instead of `{configured}` (s3:PutEncryptionConfiguration); for a multi-Region key, replicate it into {region} (kms:ReplicateKey) and name the replica, whose key policy must allow the writers"
        ),
    )
}

/// A presigned URL whose signing credentials cannot be valid when it is
/// used: it must be signed again.
pub(crate) fn presign_again(account: &str) -> Fix {
    other(
        account,
        LinkId::Authentication,
        "sign a new URL with credentials valid when it will be used: a role session lasting at least as long as the URL must (up to the role's maximum session duration), or an IAM user's access keys for up to seven days".to_string(),
    )
}

/// The request names a key in another region than the bucket's: the writer
/// must name one in the bucket's region (or none, for the bucket default).
pub(crate) fn request_key_in_region(writer: &str, region: &str, configured: &str) -> Fix {
    other(
        writer,
        LinkId::KeyState,
        format!(
            "send x-amz-server-side-encryption-aws-kms-key-id with the ARN of a key in {region} (the bucket's region) instead of `{configured}`, or leave it out to use the bucket's default key"
        ),
    )
}

pub(crate) fn object_ownership(owner: &str, bucket_account: &str, caller: &str, key: &str) -> Fix {
    other(
        owner,
        LinkId::ObjectOwnership,
        format!(
            "account {owner} owns `{key}`: it must grant account {caller} READ in the object's ACL, or the bucket owner {bucket_account} sets Object Ownership to BucketOwnerEnforced (which makes it the owner of every object)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::test_support::{failing, operation};

    #[test]
    fn a_statement_on_the_placeholder_key_covers_the_bucket_instead() {
        let placeholder = "arn:aws:s3:::b/kms-s3-doctor-probe";
        let get = allow_in_principal_policy(
            LinkId::IdentityPolicy,
            "222222222222",
            "s3:GetObject",
            placeholder,
        );
        let list = allow_in_principal_policy(
            LinkId::IdentityPolicy,
            "222222222222",
            "s3:ListBucket",
            "arn:aws:s3:::b",
        );
        let mut operations = vec![operation(vec![failing(get), failing(list)])];
        scope_to_bucket(&mut operations, placeholder, "arn:aws:s3:::b/*");
        let fixes: Vec<&Fix> = operations[0].actions[0]
            .links
            .iter()
            .filter_map(|link| link.fix.as_deref())
            .collect();
        assert_eq!(
            fixes[0].statement.as_ref().unwrap()["Resource"],
            "arn:aws:s3:::b/*"
        );
        assert!(
            fixes[0]
                .note
                .as_ref()
                .unwrap()
                .contains("`--object` narrows it")
        );
        assert_eq!(
            fixes[1].statement.as_ref().unwrap()["Resource"],
            "arn:aws:s3:::b"
        );
    }
}
