//! The AWS CLI command that installs a change's whole document, reading it
//! from the file `--write-fixes` writes, with the profile of the account
//! whose admin runs it left as a shell variable (`$PROFILE_<account>`).

use crate::chain::proposal::MANAGEMENT_ACCOUNT;
use crate::diagnosis::{Diagnosis, Fix, FixTarget, LinkId};
use crate::fixes::merge::session_index;
use crate::policy::arn::Arn;
use crate::report::shell_word;

/// The shell variable that holds the profile of `account`'s admin.
pub fn profile_variable(account: &str) -> String {
    if account == MANAGEMENT_ACCOUNT {
        // An SCP or RCP of an organization whose management account the
        // snapshot does not name: one variable for it, never a member's.
        return "PROFILE_MANAGEMENT_ACCOUNT".to_string();
    }
    let safe: String = account
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("PROFILE_{safe}")
}

/// AWS managed policies (`arn:aws:iam::aws:policy/...`) cannot be edited.
fn aws_managed(policy_arn: &str) -> bool {
    policy_arn.starts_with("arn:aws:iam::aws:policy/") || policy_arn.contains(":iam::aws:policy/")
}

/// The last part of a user or role ARN's resource (its name, without path).
fn name_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

/// Sets `file`, `command` and `warning` on every change with a document.
pub(super) fn commands(diagnosis: &mut Diagnosis) {
    for change in &mut diagnosis.changes {
        let (Some(target), Some(_)) = (change.target.clone(), &change.document_after) else {
            continue;
        };
        let first = change.with_changes.first().copied().unwrap_or_default() + 1;
        let file = format!("change-{first}-{}.json", target.kind);
        let organization = matches!(target.kind, LinkId::Scp | LinkId::Rcp);
        let built = if organization && emptied(change) {
            change.file = None;
            detach(&target)
        } else {
            change.file = Some(file.clone());
            build(&target, &file, change)
        };
        change.command = built.command.map(|words| {
            let quoted: Vec<String> = words.iter().map(|word| shell_word(word)).collect();
            format!(
                "{} --profile \"${}\"",
                quoted.join(" "),
                profile_variable(&target.account)
            )
        });
        change.warning = built.warning;
        if emptied(change) && !organization {
            // AWS refuses a policy without statements.
            let empty = "no statement is left, and AWS refuses a policy without one: delete or detach the policy instead of installing this document";
            change.warning = Some(match change.warning.take() {
                Some(warning) => format!("{empty}; {warning}"),
                None => empty.to_string(),
            });
        }
    }
}

/// Whether the change's whole document is left with no statement.
fn emptied(change: &Fix) -> bool {
    change
        .document_after
        .as_ref()
        .and_then(|document| document.get("Statement"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(Vec::is_empty)
}

/// After the re-check has judged them (an SCP or RCP without statements
/// allows nothing and denies nothing, as a detached one), the documents AWS
/// would refuse are withdrawn: an emptied SCP or RCP is proposed as a
/// detachment (its command), never as a document to install.
pub(super) fn withdraw_refused(diagnosis: &mut Diagnosis) {
    for change in &mut diagnosis.changes {
        let organization = change
            .target
            .as_ref()
            .is_some_and(|target| matches!(target.kind, LinkId::Scp | LinkId::Rcp));
        if organization && emptied(change) {
            change.document_after = None;
        }
    }
}

/// `aws organizations detach-policy` for an SCP or RCP whose only
/// statements are the ones to drop. Organizations API Reference,
/// "UpdatePolicy" and "DetachPolicy": a policy's content must hold a
/// statement, and every root, OU and account keeps at least one SCP.
fn detach(target: &FixTarget) -> Built {
    let resource = target.resource.as_str();
    let attached = target.attached_to.as_deref().unwrap_or("its target");
    // An account's id is its target id; a root's or OU's is not in the
    // snapshot.
    let target_id = attached
        .strip_prefix("account ")
        .filter(|id| crate::policy::arn::is_account_id(id))
        .map(str::to_string)
        .unwrap_or_else(|| format!("<the id of {attached}>"));
    let (kind, filter) = if target.kind == LinkId::Scp {
        ("SCP", "SERVICE_CONTROL_POLICY")
    } else {
        ("RCP", "RESOURCE_CONTROL_POLICY")
    };
    Built {
        command: words(&[
            "aws",
            "organizations",
            "detach-policy",
            "--policy-id",
            &format!("<the id of `{resource}`>"),
            "--target-id",
            &target_id,
        ]),
        warning: Some(format!(
            "no statement of {kind} `{resource}` would be left, and AWS refuses a policy without one: the change is to detach it from {attached} (or to narrow the denying statement's condition so it no longer matches this request, the smaller change); AWS refuses to detach an SCP that is the last one attached to its target; the snapshot holds no policy id: find it with `aws organizations list-policies --filter {filter}`"
        )),
    }
}

struct Built {
    command: Option<Vec<String>>,
    warning: Option<String>,
}

fn words(parts: &[&str]) -> Option<Vec<String>> {
    Some(parts.iter().map(|part| part.to_string()).collect())
}

fn build(target: &FixTarget, file: &str, fix: &Fix) -> Built {
    let path = format!("file://{file}");
    let resource = target.resource.as_str();
    // IAM API Reference, "CreatePolicyVersion": a managed policy can have
    // up to five versions; with five, one must be deleted first.
    let five_versions = "a managed policy keeps at most five versions: if it has five, delete one that is not the default first (`aws iam list-policy-versions`, `aws iam delete-policy-version`)".to_string();
    match target.kind {
        LinkId::BucketPolicy => Built {
            command: words(&[
                "aws",
                "s3api",
                "put-bucket-policy",
                "--bucket",
                resource,
                "--policy",
                &path,
            ]),
            warning: None,
        },
        // S3 Control API Reference, "PutAccessPointPolicy": the access
        // point by name, in its owner's account.
        LinkId::AccessPointPolicy => {
            let (account, name) = access_point_parts(resource);
            Built {
                command: words(&[
                    "aws",
                    "s3control",
                    "put-access-point-policy",
                    "--account-id",
                    account,
                    "--name",
                    name,
                    "--policy",
                    &path,
                ]),
                warning: None,
            }
        }
        LinkId::KeyPolicy => {
            // KMS API Reference, "PutKeyPolicy": `default` is the only valid
            // policy name, and the new policy must still let the caller put
            // a key policy (the lockout safety check).
            let mut command = words(&[
                "aws",
                "kms",
                "put-key-policy",
                "--key-id",
                resource,
                "--policy-name",
                "default",
                "--policy",
                &path,
            ]);
            // KMS is called in the key's own region.
            if let (Some(list), Ok(arn)) = (command.as_mut(), Arn::parse(resource))
                && !arn.region.is_empty()
            {
                list.extend(["--region".to_string(), arn.region.clone()]);
            }
            Built {
                command,
                warning: Some(
                    "put-key-policy replaces the whole key policy: keep the statements that let the key's administrators manage it, or the key becomes unmanageable".to_string(),
                ),
            }
        }
        LinkId::TrustPolicy => Built {
            command: words(&[
                "aws",
                "iam",
                "update-assume-role-policy",
                "--role-name",
                &name_of(resource),
                "--policy-document",
                &path,
            ]),
            warning: None,
        },
        LinkId::IdentityPolicy => match (&target.group, &target.policy_name) {
            (Some(group), Some(name)) => Built {
                command: words(&[
                    "aws",
                    "iam",
                    "put-group-policy",
                    "--group-name",
                    group,
                    "--policy-name",
                    name,
                    "--policy-document",
                    &path,
                ]),
                warning: Some(format!(
                    "the change applies to every member of group `{group}`"
                )),
            },
            (None, Some(name)) => {
                let holder = target.principal.as_deref().unwrap_or(resource);
                let (verb, flag) = if holder.contains(":role/") {
                    ("put-role-policy", "--role-name")
                } else {
                    ("put-user-policy", "--user-name")
                };
                Built {
                    command: words(&[
                        "aws",
                        "iam",
                        verb,
                        flag,
                        &name_of(holder),
                        "--policy-name",
                        name,
                        "--policy-document",
                        &path,
                    ]),
                    warning: None,
                }
            }
            _ if aws_managed(resource) => Built {
                command: None,
                warning: Some(format!(
                    "`{resource}` is an AWS managed policy and cannot be edited: detach it and attach a customer managed copy of this document"
                )),
            },
            _ => Built {
                command: words(&[
                    "aws",
                    "iam",
                    "create-policy-version",
                    "--policy-arn",
                    resource,
                    "--policy-document",
                    &path,
                    "--set-as-default",
                ]),
                warning: Some(format!(
                    "{five_versions}; the new version applies to every principal the policy is attached to"
                )),
            },
        },
        LinkId::PermissionsBoundary => {
            let holder = target.principal.as_deref().unwrap_or_default();
            if aws_managed(resource) {
                // An AWS managed boundary cannot be edited: a new customer
                // managed policy replaces it as the boundary.
                let (verb, flag) = if holder.contains(":role/") {
                    ("put-role-permissions-boundary", "--role-name")
                } else {
                    ("put-user-permissions-boundary", "--user-name")
                };
                let name = format!("{}-boundary", name_of(holder));
                let policy_arn = format!(
                    "arn:aws:iam::{}:policy/{name}",
                    Arn::parse(holder)
                        .map(|arn| arn.account)
                        .unwrap_or_default()
                );
                return Built {
                    command: words(&[
                        "aws",
                        "iam",
                        "create-policy",
                        "--policy-name",
                        &name,
                        "--policy-document",
                        &path,
                        "&&",
                        "aws",
                        "iam",
                        verb,
                        flag,
                        &name_of(holder),
                        "--permissions-boundary",
                        &policy_arn,
                    ]),
                    warning: Some(format!(
                        "`{resource}` is an AWS managed policy: the boundary is replaced by a new customer managed policy `{name}`"
                    )),
                };
            }
            Built {
                command: words(&[
                    "aws",
                    "iam",
                    "create-policy-version",
                    "--policy-arn",
                    resource,
                    "--policy-document",
                    &path,
                    "--set-as-default",
                ]),
                warning: Some(format!(
                    "{five_versions}; the boundary applies to every principal it is set on"
                )),
            }
        }
        LinkId::SessionPolicy => Built {
            command: None,
            warning: Some(format!(
                "a session policy is passed when the session is created: pass this document as session policy {} (`aws sts assume-role --policy {path}`); nothing in the account changes",
                session_index(target).unwrap_or(0)
            )),
        },
        LinkId::Scp | LinkId::Rcp => {
            let filter = if target.kind == LinkId::Scp {
                "SERVICE_CONTROL_POLICY"
            } else {
                "RESOURCE_CONTROL_POLICY"
            };
            let note = match fix.change {
                crate::diagnosis::FixChange::EditStatement => {
                    "the document drops the denying statement; narrowing its condition so it no longer matches this request is the smaller change; "
                }
                _ => "",
            };
            Built {
                command: words(&[
                    "aws",
                    "organizations",
                    "update-policy",
                    "--policy-id",
                    &format!("<the id of `{resource}`>"),
                    "--content",
                    &path,
                ]),
                warning: Some(format!(
                    "{note}the snapshot holds no policy id: find it with `aws organizations list-policies --filter {filter}`; the policy applies to every account under {}",
                    target.attached_to.as_deref().unwrap_or("its targets")
                )),
            }
        }
        LinkId::ObjectOwnership
        | LinkId::BlockPublicAccess
        | LinkId::BucketEncryption
        | LinkId::KeyState
        | LinkId::ReplicationConfiguration
        | LinkId::Versioning
        | LinkId::ServiceSupport
        | LinkId::Authentication => Built {
            command: None,
            warning: None,
        },
    }
}

/// The account and name of an access point ARN
/// (`arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`).
fn access_point_parts(arn: &str) -> (&str, &str) {
    let account = arn.split(':').nth(4).unwrap_or_default();
    let name = arn.split_once(":accesspoint/").map_or("", |(_, name)| name);
    (account, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_with_shell_characters_are_quoted() {
        assert_eq!(shell_word("account-a-bucket"), "account-a-bucket");
        assert_eq!(shell_word("<the id of `x`>"), "'<the id of `x`>'");
    }

    #[test]
    fn the_profile_variable_is_a_shell_name() {
        assert_eq!(profile_variable("111111111111"), "PROFILE_111111111111");
    }
}
