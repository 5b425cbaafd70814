//! The principal's IAM documents: a user's inline, managed and group
//! policies, tags and permissions boundary; a role's inline and managed
//! policies, trust policy, tags and boundary (an assumed-role session is
//! read as its role, found by name, which also gives the role's path).
//! Every list is followed by its documents the moment it arrives.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use super::aws::{Failure, Reader, classify};
use super::join::try_join_all;
use super::{Ctx, GatherError, ReadErr};
use crate::arn::{Principal, PrincipalKind};
use crate::snapshot::{Field, NamedPolicy, PolicyDoc, PolicyKind, PrincipalInfo};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Reads a principal's documents. `None` for an account root, which has no
/// IAM policies of its own.
pub(crate) async fn read_principal(
    ctx: &Ctx<'_>,
    principal: &Principal,
) -> Result<Option<PrincipalInfo>, GatherError> {
    match &principal.kind {
        PrincipalKind::Root => Ok(None),
        PrincipalKind::FederatedUser { .. } => {
            let mut info = PrincipalInfo::unread(&principal.principal_arn());
            let why = "the policies of a federated user session are passed at sign-in and cannot be read from AWS".to_string();
            info.policies_error = Some(why.clone());
            info.session_policies_error = Some(why);
            Ok(Some(info))
        }
        PrincipalKind::User { name, arn } => {
            // Speculate: read with the profile that most likely is of the
            // principal's account while the identities are still being
            // asked for; read again only if the guess was wrong.
            let guess = guess(ctx);
            let (choice, speculative) = tokio::join!(
                reader_or_unread(ctx, &principal.account, arn),
                read_user(ctx, guess, name, arn)
            );
            match choice? {
                Ok(reader) if std::ptr::eq(reader, guess) => speculative.map(Some),
                Ok(reader) => read_user(ctx, reader, name, arn).await.map(Some),
                Err(info) => Ok(Some(*info)),
            }
        }
        PrincipalKind::AssumedRole {
            role_name,
            role_arn,
            session_arn,
            ..
        } => {
            let mut info = read_role(ctx, &principal.account, role_name, role_arn).await?;
            if session_arn.is_some() {
                info.session_policies = Field::Unknown;
                info.session_policies_error = Some(
                    "session policies passed to AssumeRole cannot be read from AWS".to_string(),
                );
            }
            Ok(Some(info))
        }
    }
}

/// A role's documents, read once however many times it is named (the
/// principal's role and `--via-role` may be the same).
pub(crate) async fn read_role(
    ctx: &Ctx<'_>,
    account: &str,
    name: &str,
    arn: &str,
) -> Result<PrincipalInfo, GatherError> {
    ctx.roles
        .get(&format!("{account}|{name}"), || async {
            // Speculative, as for users.
            let guess = guess_for(ctx, account);
            let (choice, speculative) = tokio::join!(
                reader_or_unread(ctx, account, arn),
                read_role_with(ctx, guess, name, arn)
            );
            match choice? {
                Ok(reader) if std::ptr::eq(reader, guess) => speculative,
                Ok(reader) => read_role_with(ctx, reader, name, arn).await,
                Err(info) => Ok(*info),
            }
        })
        .await
}

/// The profile most likely of the principal's account before identities
/// are known: `--principal-profile` when given, else `--profile`.
fn guess<'c>(ctx: &'c Ctx<'_>) -> &'c Reader {
    ctx.principal_reader.as_ref().unwrap_or(&ctx.resource)
}

/// For a role: one in another account than `--principal`'s is most likely
/// a `--via-role` role in the resource account; else as [`guess`].
fn guess_for<'c>(ctx: &'c Ctx<'_>, account: &str) -> &'c Reader {
    let principal_account = ctx
        .request
        .principal
        .as_deref()
        .and_then(|text| Principal::parse(text).ok())
        .map(|principal| principal.account);
    match principal_account {
        Some(principal_account) if principal_account != account => &ctx.resource,
        _ => guess(ctx),
    }
}

/// The reader for the principal's account, or an entry saying why its
/// documents are not read.
async fn reader_or_unread<'c>(
    ctx: &'c Ctx<'_>,
    account: &str,
    arn: &str,
) -> Result<Result<&'c Reader, Box<PrincipalInfo>>, GatherError> {
    if let Some(reader) = ctx.reader_for(account).await? {
        return Ok(Ok(reader));
    }
    // The judge adds how to read them (`--principal-profile`); say why not.
    let why = match &ctx.principal_reader {
        Some(reader) => format!(
            "{} (--principal-profile) is of account {}, not {account}",
            reader.label,
            reader.identity(&ctx.endpoint).await?.account
        ),
        None => format!(
            "{} is of account {}, not {account}, and no --principal-profile was given",
            ctx.resource.label,
            ctx.resource.identity(&ctx.endpoint).await?.account
        ),
    };
    let mut info = PrincipalInfo::unread(arn);
    info.tags_error = Some(why.clone());
    info.policies_error = Some(why.clone());
    info.permissions_boundary_error = Some(why.clone());
    if arn.contains(":role/") {
        info.trust_policy_error = Some(why);
    } else {
        info.trust_policy = Field::None;
        info.session_policies = Field::None;
    }
    Ok(Err(Box::new(info)))
}

/// Splits a read's result into the field and its error, passing fatal
/// errors up.
fn field<T>(result: Result<T, ReadErr>) -> Result<(Field<T>, Option<String>), GatherError> {
    match result {
        Ok(value) => Ok((Field::Some(value), None)),
        Err(ReadErr::Unreadable(why)) => Ok((Field::Unknown, Some(why))),
        Err(ReadErr::Fatal(fatal)) => Err(fatal),
    }
}

fn parse(
    label: String,
    text: &str,
    name: &str,
    kind: Option<PolicyKind>,
) -> Result<NamedPolicy, ReadErr> {
    PolicyDoc::from_text(&label, text)
        .map(|document| NamedPolicy {
            name: name.to_string(),
            kind,
            document,
        })
        .map_err(|error| {
            ReadErr::Unreadable(format!("{label} read from AWS does not parse: {error}"))
        })
}

async fn read_user(
    ctx: &Ctx<'_>,
    reader: &Reader,
    name: &str,
    given_arn: &str,
) -> Result<PrincipalInfo, GatherError> {
    let iam = &reader.iam;
    let fail = |permission: &str, failure: Failure| ctx.unreadable(reader, permission, failure);
    let user = async {
        let output = iam
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(|error| fail("iam:GetUser", classify(&error, &ctx.endpoint)))?;
        let user = output
            .user()
            .ok_or_else(|| ReadErr::Unreadable("iam:GetUser returned no user".to_string()))?;
        let tags: BTreeMap<String, String> = user
            .tags()
            .iter()
            .map(|tag| (tag.key().to_string(), tag.value().to_string()))
            .collect();
        let boundary_arn = user
            .permissions_boundary()
            .and_then(|boundary| boundary.permissions_boundary_arn())
            .map(str::to_string);
        let arn = user.arn().to_string();
        let boundary = match &boundary_arn {
            Some(policy_arn) => Some(managed(ctx, reader, policy_arn).await.and_then(|text| {
                parse(
                    format!("permissions boundary `{policy_arn}` of `{arn}`"),
                    &text,
                    policy_arn,
                    None,
                )
            })),
            None => None,
        };
        Ok::<_, ReadErr>((arn, user.user_id().to_string(), tags, boundary))
    };
    let inline = async {
        let names = iam
            .list_user_policies()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| fail("iam:ListUserPolicies", classify(&error, &ctx.endpoint)))?;
        try_join_all(names.iter().map(|policy| async move {
            let output = iam
                .get_user_policy()
                .user_name(name)
                .policy_name(policy)
                .send()
                .await
                .map_err(|error| fail("iam:GetUserPolicy", classify(&error, &ctx.endpoint)))?;
            parse(
                format!("inline policy `{policy}` of `{given_arn}`"),
                output.policy_document(),
                policy,
                Some(PolicyKind::Inline),
            )
        }))
        .await
    };
    let attached = async {
        let policies = iam
            .list_attached_user_policies()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| {
                fail(
                    "iam:ListAttachedUserPolicies",
                    classify(&error, &ctx.endpoint),
                )
            })?;
        attached_docs(
            ctx,
            reader,
            policies.iter().filter_map(|p| p.policy_arn()),
            given_arn,
            PolicyKind::Managed,
        )
        .await
    };
    let groups = async {
        let groups = iam
            .list_groups_for_user()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| fail("iam:ListGroupsForUser", classify(&error, &ctx.endpoint)))?;
        let per_group = try_join_all(
            groups
                .iter()
                .map(|group| group_docs(ctx, reader, group.group_name())),
        )
        .await?;
        Ok::<_, ReadErr>(per_group.into_iter().flatten().collect::<Vec<_>>())
    };
    let (user, inline, attached, groups) = tokio::join!(user, inline, attached, groups);

    let mut info = PrincipalInfo::unread(given_arn);
    // Users have neither trust policies nor session policies.
    info.trust_policy = Field::None;
    info.session_policies = Field::None;
    match user {
        Ok((arn, id, tags, boundary)) => {
            info.arn = arn;
            info.id = Some(id);
            info.tags = Field::Some(tags);
            match boundary {
                None => info.permissions_boundary = Field::None,
                Some(result) => {
                    (info.permissions_boundary, info.permissions_boundary_error) = field(result)?;
                }
            }
        }
        Err(ReadErr::Fatal(fatal)) => return Err(fatal),
        Err(ReadErr::Unreadable(why)) => {
            info.tags_error = Some(why.clone());
            info.permissions_boundary_error = Some(why);
        }
    }
    let policies = inline.and_then(|mut all| {
        all.extend(attached?);
        all.extend(groups?);
        Ok(all)
    });
    (info.policies, info.policies_error) = field(policies)?;
    Ok(info)
}

/// A group's inline and attached policies.
fn group_docs<'a>(
    ctx: &'a Ctx<'_>,
    reader: &'a Reader,
    group: &'a str,
) -> Boxed<'a, Result<Vec<NamedPolicy>, ReadErr>> {
    Box::pin(async move {
        let iam = &reader.iam;
        let fail = |permission: &str, failure: Failure| ctx.unreadable(reader, permission, failure);
        let inline = async {
            let names = iam
                .list_group_policies()
                .group_name(group)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|error| fail("iam:ListGroupPolicies", classify(&error, &ctx.endpoint)))?;
            try_join_all(names.iter().map(|policy| async move {
                let output = iam
                    .get_group_policy()
                    .group_name(group)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|error| fail("iam:GetGroupPolicy", classify(&error, &ctx.endpoint)))?;
                parse(
                    format!("inline policy `{policy}` of group `{group}`"),
                    output.policy_document(),
                    &format!("{group}/{policy}"),
                    Some(PolicyKind::GroupInline),
                )
            }))
            .await
        };
        let attached = async {
            let policies = iam
                .list_attached_group_policies()
                .group_name(group)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|error| {
                    fail(
                        "iam:ListAttachedGroupPolicies",
                        classify(&error, &ctx.endpoint),
                    )
                })?;
            attached_docs(
                ctx,
                reader,
                policies.iter().filter_map(|p| p.policy_arn()),
                &format!("group `{group}`"),
                PolicyKind::GroupManaged,
            )
            .await
        };
        let (mut inline, attached) = tokio::try_join!(inline, attached)?;
        inline.extend(attached);
        Ok(inline)
    })
}

/// Managed policies by ARN: each one's default version, at once.
async fn attached_docs<'a>(
    ctx: &Ctx<'_>,
    reader: &Reader,
    arns: impl Iterator<Item = &'a str>,
    owner: &str,
    kind: PolicyKind,
) -> Result<Vec<NamedPolicy>, ReadErr> {
    try_join_all(arns.map(|policy_arn| async move {
        let text = managed(ctx, reader, policy_arn).await?;
        parse(
            format!("managed policy `{policy_arn}` of `{owner}`"),
            &text,
            policy_arn,
            Some(kind),
        )
    }))
    .await
}

/// A managed policy's default version text: GetPolicy, then
/// GetPolicyVersion. Read once per profile and ARN.
pub(crate) async fn managed(
    ctx: &Ctx<'_>,
    reader: &Reader,
    policy_arn: &str,
) -> Result<String, ReadErr> {
    ctx.managed
        .get(&format!("{}|{policy_arn}", reader.label), || async {
            let fail =
                |permission: &str, failure: Failure| ctx.unreadable(reader, permission, failure);
            let policy = reader
                .iam
                .get_policy()
                .policy_arn(policy_arn)
                .send()
                .await
                .map_err(|error| fail("iam:GetPolicy", classify(&error, &ctx.endpoint)))?;
            let version = policy
                .policy()
                .and_then(|policy| policy.default_version_id())
                .ok_or_else(|| {
                    ReadErr::Unreadable(format!(
                        "iam:GetPolicy of `{policy_arn}` names no default version"
                    ))
                })?
                .to_string();
            let output = reader
                .iam
                .get_policy_version()
                .policy_arn(policy_arn)
                .version_id(&version)
                .send()
                .await
                .map_err(|error| fail("iam:GetPolicyVersion", classify(&error, &ctx.endpoint)))?;
            output
                .policy_version()
                .and_then(|version| version.document())
                .map(str::to_string)
                .ok_or_else(|| {
                    ReadErr::Unreadable(format!(
                        "iam:GetPolicyVersion of `{policy_arn}` returned no document"
                    ))
                })
        })
        .await
}

async fn read_role_with(
    ctx: &Ctx<'_>,
    reader: &Reader,
    name: &str,
    given_arn: &str,
) -> Result<PrincipalInfo, GatherError> {
    let iam = &reader.iam;
    let fail = |permission: &str, failure: Failure| ctx.unreadable(reader, permission, failure);
    let role = async {
        let output = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|error| fail("iam:GetRole", classify(&error, &ctx.endpoint)))?;
        let role = output
            .role()
            .ok_or_else(|| ReadErr::Unreadable("iam:GetRole returned no role".to_string()))?;
        let arn = role.arn().to_string();
        let tags: BTreeMap<String, String> = role
            .tags()
            .iter()
            .map(|tag| (tag.key().to_string(), tag.value().to_string()))
            .collect();
        let trust = match role.assume_role_policy_document() {
            Some(text) => PolicyDoc::from_text(&format!("trust policy of `{arn}`"), text)
                .map(Some)
                .map_err(|error| format!("the trust policy read from AWS does not parse: {error}")),
            None => Ok(None),
        };
        let boundary = match role
            .permissions_boundary()
            .and_then(|boundary| boundary.permissions_boundary_arn())
        {
            Some(policy_arn) => Some(managed(ctx, reader, policy_arn).await.and_then(|text| {
                parse(
                    format!("permissions boundary `{policy_arn}` of `{arn}`"),
                    &text,
                    policy_arn,
                    None,
                )
            })),
            None => None,
        };
        Ok::<_, ReadErr>((arn, role.role_id().to_string(), tags, trust, boundary))
    };
    let inline = async {
        let names = iam
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| fail("iam:ListRolePolicies", classify(&error, &ctx.endpoint)))?;
        try_join_all(names.iter().map(|policy| async move {
            let output = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map_err(|error| fail("iam:GetRolePolicy", classify(&error, &ctx.endpoint)))?;
            parse(
                format!("inline policy `{policy}` of `{given_arn}`"),
                output.policy_document(),
                policy,
                Some(PolicyKind::Inline),
            )
        }))
        .await
    };
    let attached = async {
        let policies = iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| {
                fail(
                    "iam:ListAttachedRolePolicies",
                    classify(&error, &ctx.endpoint),
                )
            })?;
        attached_docs(
            ctx,
            reader,
            policies.iter().filter_map(|p| p.policy_arn()),
            given_arn,
            PolicyKind::Managed,
        )
        .await
    };
    let (role, inline, attached) = tokio::join!(role, inline, attached);

    let mut info = PrincipalInfo::unread(given_arn);
    // A role named by ARN is judged as "a session of the role" with no
    // session policy; `read_principal` marks real sessions' as unknown.
    info.session_policies = Field::None;
    match role {
        Ok((arn, id, tags, trust, boundary)) => {
            info.arn = arn;
            info.id = Some(id);
            info.tags = Field::Some(tags);
            match trust {
                Ok(doc) => info.trust_policy = Field::from_option(doc),
                Err(why) => info.trust_policy_error = Some(why),
            }
            match boundary {
                None => info.permissions_boundary = Field::None,
                Some(result) => {
                    (info.permissions_boundary, info.permissions_boundary_error) = field(result)?;
                }
            }
        }
        Err(ReadErr::Fatal(fatal)) => return Err(fatal),
        Err(ReadErr::Unreadable(why)) => {
            info.tags_error = Some(why.clone());
            info.trust_policy_error = Some(why.clone());
            info.permissions_boundary_error = Some(why);
        }
    }
    let policies = inline.and_then(|mut all| {
        all.extend(attached?);
        Ok(all)
    });
    (info.policies, info.policies_error) = field(policies)?;
    Ok(info)
}
