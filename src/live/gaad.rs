//! Every principal of an account in one read: IAM's
//! GetAccountAuthorizationDetails, paged with `Marker` while `IsTruncated`
//! (IAM API Reference, "GetAccountAuthorizationDetails"), turned into the
//! same model a GAAD file is read into, and mapped to principal entries by
//! `snapshot::gaad`, so a live read and an imported file never differ.

use aws_sdk_iam::types::EntityType;

use super::aws::Reader;
use super::{Ctx, ReadErr};
use crate::snapshot::PrincipalInfo;
use crate::snapshot::gaad::{
    AttachedBoundary, AttachedPolicy, AuthorizationDetails, GroupDetail, ManagedPolicyDetail,
    PolicyDetail, PolicyVersion, RoleDetail, Tag, UserDetail, principals_of,
};

/// How many pages one account may take before the read is given up: a
/// marker that never ends would otherwise read forever.
const MAX_PAGES: usize = 10_000;

/// The users and roles of `account` with every document the judge reads,
/// read with `reader` (whose credentials must be of `account`). A document
/// that does not parse leaves its field unknown in its principal's entry;
/// an answer that cannot be read at all, or names another account, is
/// [`ReadErr::Unreadable`].
pub(crate) async fn read_account_principals(
    ctx: &Ctx<'_>,
    reader: &Reader,
    account: &str,
) -> Result<Vec<PrincipalInfo>, ReadErr> {
    let details = read_details(ctx, reader).await?;
    let imported = principals_of(&details, account).map_err(|problem| {
        ReadErr::Unreadable(format!(
            "iam:GetAccountAuthorizationDetails with {}: {}: {}",
            reader.label, problem.pointer, problem.message
        ))
    })?;
    Ok(imported.principals)
}

/// Every page of the answer, joined.
async fn read_details(ctx: &Ctx<'_>, reader: &Reader) -> Result<AuthorizationDetails, ReadErr> {
    let mut details = AuthorizationDetails {
        user_detail_list: Some(Vec::new()),
        group_detail_list: Some(Vec::new()),
        role_detail_list: Some(Vec::new()),
        policies: Some(Vec::new()),
        is_truncated: None,
        next_token: None,
    };
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let request = reader
            .iam
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Role)
            .filter(EntityType::Group)
            .filter(EntityType::LocalManagedPolicy)
            .filter(EntityType::AwsManagedPolicy)
            .set_marker(marker.clone())
            .send();
        let page = ctx
            .read(reader, "iam:GetAccountAuthorizationDetails", request)
            .await?;
        add_page(&mut details, &page);
        // IAM may return fewer items than asked even when more remain: only
        // IsTruncated says whether to go on.
        match (page.is_truncated(), page.marker()) {
            (true, Some(next)) if marker.as_deref() != Some(next) => {
                marker = Some(next.to_string());
            }
            (true, _) => {
                return Err(ReadErr::Unreadable(format!(
                    "iam:GetAccountAuthorizationDetails with {} said more pages follow but gave no new Marker",
                    reader.label
                )));
            }
            (false, _) => return Ok(details),
        }
    }
    Err(ReadErr::Unreadable(format!(
        "iam:GetAccountAuthorizationDetails with {} did not end after {MAX_PAGES} pages",
        reader.label
    )))
}

type Page =
    aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;

/// Adds one page to the model, documents kept as the URL-encoded text IAM
/// returns (the model reads them as a file's would be read).
fn add_page(details: &mut AuthorizationDetails, page: &Page) {
    let text =
        |document: Option<&str>| document.map(|text| serde_json::Value::String(text.to_string()));
    let inline = |list: &[aws_sdk_iam::types::PolicyDetail]| -> Vec<PolicyDetail> {
        list.iter()
            .map(|policy| PolicyDetail {
                policy_name: policy.policy_name().unwrap_or_default().to_string(),
                policy_document: text(policy.policy_document()),
            })
            .collect()
    };
    let attached = |list: &[aws_sdk_iam::types::AttachedPolicy]| -> Vec<AttachedPolicy> {
        list.iter()
            .filter_map(|policy| {
                Some(AttachedPolicy {
                    policy_arn: policy.policy_arn()?.to_string(),
                    policy_name: policy.policy_name().map(str::to_string),
                })
            })
            .collect()
    };
    let boundary = |boundary: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| {
        boundary
            .and_then(|boundary| boundary.permissions_boundary_arn())
            .map(|arn| AttachedBoundary {
                permissions_boundary_arn: arn.to_string(),
            })
    };
    let tags = |list: &[aws_sdk_iam::types::Tag]| -> Vec<Tag> {
        list.iter()
            .map(|tag| Tag {
                key: tag.key().to_string(),
                value: tag.value().to_string(),
            })
            .collect()
    };
    if let Some(users) = &mut details.user_detail_list {
        users.extend(page.user_detail_list().iter().map(|user| UserDetail {
            arn: user.arn().unwrap_or_default().to_string(),
            user_name: user.user_name().map(str::to_string),
            user_id: user.user_id().map(str::to_string),
            user_policy_list: inline(user.user_policy_list()),
            group_list: user.group_list().to_vec(),
            attached_managed_policies: attached(user.attached_managed_policies()),
            permissions_boundary: boundary(user.permissions_boundary()),
            tags: tags(user.tags()),
        }));
    }
    if let Some(groups) = &mut details.group_detail_list {
        groups.extend(page.group_detail_list().iter().map(|group| GroupDetail {
            group_name: group.group_name().unwrap_or_default().to_string(),
            arn: group.arn().map(str::to_string),
            group_policy_list: inline(group.group_policy_list()),
            attached_managed_policies: attached(group.attached_managed_policies()),
        }));
    }
    if let Some(roles) = &mut details.role_detail_list {
        roles.extend(page.role_detail_list().iter().map(|role| RoleDetail {
            arn: role.arn().unwrap_or_default().to_string(),
            role_name: role.role_name().map(str::to_string),
            role_id: role.role_id().map(str::to_string),
            assume_role_policy_document: text(role.assume_role_policy_document()),
            role_policy_list: inline(role.role_policy_list()),
            attached_managed_policies: attached(role.attached_managed_policies()),
            permissions_boundary: boundary(role.permissions_boundary()),
            tags: tags(role.tags()),
        }));
    }
    if let Some(policies) = &mut details.policies {
        policies.extend(page.policies().iter().map(|policy| {
            ManagedPolicyDetail {
                arn: policy.arn().unwrap_or_default().to_string(),
                policy_name: policy.policy_name().map(str::to_string),
                default_version_id: policy.default_version_id().map(str::to_string),
                policy_version_list: policy
                    .policy_version_list()
                    .iter()
                    .map(|version| PolicyVersion {
                        document: text(version.document()),
                        version_id: version.version_id().map(str::to_string),
                        is_default_version: Some(version.is_default_version()),
                    })
                    .collect(),
            }
        }));
    }
}
