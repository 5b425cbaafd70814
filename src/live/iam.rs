//! The principal's IAM documents: a user's inline, managed and group
//! policies, tags and permissions boundary; a role's inline and managed
//! policies, trust policy, tags and boundary (an assumed-role session is
//! read as its role, found by name, which also gives the role's path).
//! Every list is followed by its documents the moment it arrives.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use aws_sdk_iam::types::Tag;

use super::aws::Reader;
use super::join::try_join_all;
use super::{Ctx, GatherError, ReadErr, parse_policy, policy_docs};
use crate::policy::arn::{Principal, PrincipalKind};
use crate::snapshot::{Field, NamedPolicy, PolicyDoc, PolicyKind, PrincipalInfo};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Reads a principal's documents. `None` for an account root, which has no
/// IAM policies of its own.
pub(crate) async fn read_principal(
    ctx: &Ctx<'_>,
    principal: &Principal,
) -> Result<Option<PrincipalInfo>, GatherError> {
    match &principal.kind {
        // A root user has no IAM policies of its own; a service, an
        // unsigned caller and an origin access identity have none a
        // customer account holds.
        PrincipalKind::Root
        | PrincipalKind::Service { .. }
        | PrincipalKind::Anonymous
        | PrincipalKind::CloudFrontOai { .. } => Ok(None),
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

/// A user's or role's tags.
fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|tag| (tag.key().to_string(), tag.value().to_string()))
        .collect()
}

/// The permissions boundary a user or role names, with its document:
/// `Field::None` when it names none.
async fn boundary(
    ctx: &Ctx<'_>,
    reader: &Reader,
    policy_arn: Option<&str>,
    owner_arn: &str,
) -> Result<(Field<NamedPolicy>, Option<String>), ReadErr> {
    let Some(policy_arn) = policy_arn else {
        return Ok((Field::None, None));
    };
    let read = managed(ctx, reader, policy_arn).await.and_then(|text| {
        parse_policy(
            format!("permissions boundary `{policy_arn}` of `{owner_arn}`"),
            &text,
            policy_arn,
            None,
        )
    });
    Ok(field(read)?)
}

async fn read_user(
    ctx: &Ctx<'_>,
    reader: &Reader,
    name: &str,
    given_arn: &str,
) -> Result<PrincipalInfo, GatherError> {
    let user = async {
        let get = reader.iam.get_user().user_name(name).send();
        let output = ctx.read(reader, "iam:GetUser", get).await?;
        let user = output
            .user()
            .ok_or_else(|| ReadErr::Unreadable("iam:GetUser returned no user".to_string()))?;
        let arn = user.arn().to_string();
        let policy_arn = user
            .permissions_boundary()
            .and_then(|boundary| boundary.permissions_boundary_arn());
        let boundary = boundary(ctx, reader, policy_arn, &arn).await?;
        let tags = tag_map(user.tags());
        Ok::<_, ReadErr>((arn, user.user_id().to_string(), tags, boundary))
    };
    let holder = Holder::User {
        name,
        arn: given_arn,
    };
    let groups = async {
        let list = reader.iam.list_groups_for_user().user_name(name);
        let list = list.into_paginator().items().send().try_collect();
        let groups = ctx.read(reader, "iam:ListGroupsForUser", list).await?;
        let per_group = try_join_all(
            groups
                .iter()
                .map(|group| group_docs(ctx, reader, group.group_name())),
        )
        .await?;
        Ok::<_, ReadErr>(per_group.into_iter().flatten().collect::<Vec<_>>())
    };
    let (user, inline, attached, groups) = tokio::join!(
        user,
        inline_docs(ctx, reader, holder),
        attached_docs(ctx, reader, holder),
        groups
    );

    let mut info = PrincipalInfo::unread(given_arn);
    // Users have neither trust policies nor session policies.
    info.trust_policy = Field::None;
    info.session_policies = Field::None;
    match user {
        Ok((arn, id, tags, boundary)) => {
            info.arn = arn;
            info.id = Some(id);
            info.tags = Field::Some(tags);
            (info.permissions_boundary, info.permissions_boundary_error) = boundary;
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

/// Whose inline and attached policies are read: IAM has its own list and
/// get operations for each kind of identity.
#[derive(Clone, Copy)]
enum Holder<'a> {
    User { name: &'a str, arn: &'a str },
    Role { name: &'a str, arn: &'a str },
    Group(&'a str),
}

/// A group's inline and attached policies.
fn group_docs<'a>(
    ctx: &'a Ctx<'_>,
    reader: &'a Reader,
    group: &'a str,
) -> Boxed<'a, Result<Vec<NamedPolicy>, ReadErr>> {
    Box::pin(async move {
        let holder = Holder::Group(group);
        let (mut inline, attached) = tokio::try_join!(
            inline_docs(ctx, reader, holder),
            attached_docs(ctx, reader, holder)
        )?;
        inline.extend(attached);
        Ok(inline)
    })
}

/// A holder's inline policies: the names, then every document at once.
async fn inline_docs(
    ctx: &Ctx<'_>,
    reader: &Reader,
    holder: Holder<'_>,
) -> Result<Vec<NamedPolicy>, ReadErr> {
    let iam = &reader.iam;
    let names = match holder {
        Holder::User { name, .. } => {
            let list = iam.list_user_policies().user_name(name);
            let list = list.into_paginator().items().send().try_collect();
            ctx.read(reader, "iam:ListUserPolicies", list).await?
        }
        Holder::Role { name, .. } => {
            let list = iam.list_role_policies().role_name(name);
            let list = list.into_paginator().items().send().try_collect();
            ctx.read(reader, "iam:ListRolePolicies", list).await?
        }
        Holder::Group(name) => {
            let list = iam.list_group_policies().group_name(name);
            let list = list.into_paginator().items().send().try_collect();
            ctx.read(reader, "iam:ListGroupPolicies", list).await?
        }
    };
    let fetch = async |policy: &String| match holder {
        Holder::User { name, .. } => {
            let get = iam.get_user_policy().user_name(name).policy_name(policy);
            let output = ctx.read(reader, "iam:GetUserPolicy", get.send()).await?;
            Ok(output.policy_document)
        }
        Holder::Role { name, .. } => {
            let get = iam.get_role_policy().role_name(name).policy_name(policy);
            let output = ctx.read(reader, "iam:GetRolePolicy", get.send()).await?;
            Ok(output.policy_document)
        }
        Holder::Group(name) => {
            let get = iam.get_group_policy().group_name(name).policy_name(policy);
            let output = ctx.read(reader, "iam:GetGroupPolicy", get.send()).await?;
            Ok(output.policy_document)
        }
    };
    let describe = |policy: &String| match holder {
        Holder::User { arn, .. } | Holder::Role { arn, .. } => (
            format!("inline policy `{policy}` of `{arn}`"),
            policy.clone(),
        ),
        // Named `group/policy`, so that it stays apart from the user's own
        // policy of the same name in the one list.
        Holder::Group(group) => (
            format!("inline policy `{policy}` of group `{group}`"),
            format!("{group}/{policy}"),
        ),
    };
    let kind = match holder {
        Holder::Group(_) => PolicyKind::GroupInline,
        _ => PolicyKind::Inline,
    };
    policy_docs(&names, fetch, describe, Some(kind)).await
}

/// A holder's attached managed policies: the ARNs, then every default
/// version at once.
async fn attached_docs(
    ctx: &Ctx<'_>,
    reader: &Reader,
    holder: Holder<'_>,
) -> Result<Vec<NamedPolicy>, ReadErr> {
    let iam = &reader.iam;
    let attached = match holder {
        Holder::User { name, .. } => {
            let list = iam.list_attached_user_policies().user_name(name);
            let list = list.into_paginator().items().send().try_collect();
            ctx.read(reader, "iam:ListAttachedUserPolicies", list)
                .await?
        }
        Holder::Role { name, .. } => {
            let list = iam.list_attached_role_policies().role_name(name);
            let list = list.into_paginator().items().send().try_collect();
            ctx.read(reader, "iam:ListAttachedRolePolicies", list)
                .await?
        }
        Holder::Group(name) => {
            let list = iam.list_attached_group_policies().group_name(name);
            let list = list.into_paginator().items().send().try_collect();
            ctx.read(reader, "iam:ListAttachedGroupPolicies", list)
                .await?
        }
    };
    let (owner, kind) = match holder {
        Holder::User { arn, .. } | Holder::Role { arn, .. } => {
            (arn.to_string(), PolicyKind::Managed)
        }
        Holder::Group(group) => (format!("group `{group}`"), PolicyKind::GroupManaged),
    };
    let arns: Vec<&str> = attached.iter().filter_map(|p| p.policy_arn()).collect();
    policy_docs(
        &arns,
        async |policy_arn| managed(ctx, reader, policy_arn).await,
        |policy_arn| {
            (
                format!("managed policy `{policy_arn}` of `{owner}`"),
                policy_arn.to_string(),
            )
        },
        Some(kind),
    )
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
            let get = reader.iam.get_policy().policy_arn(policy_arn);
            let policy = ctx.read(reader, "iam:GetPolicy", get.send()).await?;
            let version = policy
                .policy()
                .and_then(|policy| policy.default_version_id())
                .ok_or_else(|| {
                    ReadErr::Unreadable(format!(
                        "iam:GetPolicy of `{policy_arn}` names no default version"
                    ))
                })?
                .to_string();
            let get = reader.iam.get_policy_version().policy_arn(policy_arn);
            let get = get.version_id(&version).send();
            let output = ctx.read(reader, "iam:GetPolicyVersion", get).await?;
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
    let role = async {
        let get = reader.iam.get_role().role_name(name).send();
        let output = ctx.read(reader, "iam:GetRole", get).await?;
        let role = output
            .role()
            .ok_or_else(|| ReadErr::Unreadable("iam:GetRole returned no role".to_string()))?;
        let arn = role.arn().to_string();
        let trust = match role.assume_role_policy_document() {
            Some(text) => PolicyDoc::from_text(&format!("trust policy of `{arn}`"), text)
                .map(Some)
                .map_err(|error| format!("the trust policy read from AWS does not parse: {error}")),
            None => Ok(None),
        };
        let policy_arn = role
            .permissions_boundary()
            .and_then(|boundary| boundary.permissions_boundary_arn());
        let boundary = boundary(ctx, reader, policy_arn, &arn).await?;
        let tags = tag_map(role.tags());
        Ok::<_, ReadErr>((arn, role.role_id().to_string(), tags, trust, boundary))
    };
    let holder = Holder::Role {
        name,
        arn: given_arn,
    };
    let (role, inline, attached) = tokio::join!(
        role,
        inline_docs(ctx, reader, holder),
        attached_docs(ctx, reader, holder)
    );

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
            (info.permissions_boundary, info.permissions_boundary_error) = boundary;
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
