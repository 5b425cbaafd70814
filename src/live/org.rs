//! Organizations reads for one account: whether it is in an organization
//! (DescribeOrganization), its management account, its path in the
//! organization (`aws:PrincipalOrgPaths`, `aws:ResourceOrgPaths`), and the
//! SCPs and RCPs attached at every level from the root down to the account
//! (ListParents, ListRoots, ListPoliciesForTarget, DescribePolicy). Policies are read with
//! an `--org-profile` of the account's organization (its management account
//! or a delegated administrator), or a profile that is the management
//! account; members usually cannot read them, so the account's own profile
//! is the last resort. The organization's id comes from the account's own
//! `DescribeOrganization` when there is a profile of it; else from the
//! organization reader that can place the account in its tree.

use std::future::Future;
use std::pin::Pin;

use aws_sdk_organizations::types::{ParentType, PolicyType};

use super::aws::{Failure, Reader, classify};
use super::{Ctx, GatherError, ReadErr, policy_docs};
use crate::snapshot::{AccountInfo, Field, NamedPolicy};

/// The organization a profile's account belongs to.
#[derive(Debug, Clone)]
pub(crate) struct OrgView {
    pub id: String,
    pub management: String,
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One level's policies of both kinds.
type Level = (
    Result<Vec<NamedPolicy>, ReadErr>,
    Result<Vec<NamedPolicy>, ReadErr>,
);

/// `DescribeOrganization` for a profile, once. `Ok(None)`: not in one.
pub(crate) async fn view(ctx: &Ctx<'_>, reader: &Reader) -> Result<Option<OrgView>, ReadErr> {
    ctx.org_views
        .get(&reader.label, || async {
            match reader.orgs.describe_organization().send().await {
                Ok(output) => Ok(output.organization().map(|org| OrgView {
                    id: org.id().unwrap_or_default().to_string(),
                    management: org.master_account_id().unwrap_or_default().to_string(),
                })),
                Err(error) => match classify(&error, &ctx.endpoint) {
                    Failure::NotFound(code) if code == "AWSOrganizationsNotInUseException" => {
                        Ok(None)
                    }
                    other => {
                        Err(ctx.unreadable(reader, "organizations:DescribeOrganization", other))
                    }
                },
            }
        })
        .await
}

/// Everything the judge needs about one account's organization.
pub(crate) async fn account_info(ctx: &Ctx<'_>, account: &str) -> Result<AccountInfo, GatherError> {
    ctx.accounts
        .get(account, || async {
            let phase = ctx.progress.phase(super::progress::PhaseKind::Accounts);
            phase.add(1);
            let info = read_account(ctx, account).await;
            phase.done();
            info
        })
        .await
}

fn unknown(why: String) -> AccountInfo {
    AccountInfo {
        org_id: Field::Unknown,
        org_id_error: Some(why.clone()),
        org_path: Field::Unknown,
        org_path_error: Some(why.clone()),
        management_account: Field::Unknown,
        scps: Field::Unknown,
        scps_error: Some(why.clone()),
        rcps: Field::Unknown,
        rcps_error: Some(why),
        ..AccountInfo::default()
    }
}

/// Who can read an organization's policies: the `--org-profile` readers
/// and any other profile that is its management account, each with the
/// organization it sees.
async fn org_readers<'c>(
    ctx: &'c Ctx<'_>,
    readers: &[(&'c Reader, super::aws::Identity)],
) -> Vec<(&'c Reader, OrgView)> {
    let explicit = super::join::join_all(ctx.org_readers.iter().map(|reader| async move {
        match view(ctx, reader).await {
            Ok(Some(org)) => Some((reader, org)),
            _ => None,
        }
    }));
    let implicit = super::join::join_all(readers.iter().map(|(reader, identity)| async move {
        match view(ctx, reader).await {
            Ok(Some(org)) if org.management == identity.account => Some((*reader, org)),
            _ => None,
        }
    }));
    let (explicit, implicit) = tokio::join!(explicit, implicit);
    explicit.into_iter().chain(implicit).flatten().collect()
}

fn not_in_org() -> AccountInfo {
    AccountInfo {
        org_id: Field::None,
        org_id_error: None,
        org_path: Field::None,
        org_path_error: None,
        management_account: Field::None,
        scps: Field::None,
        scps_error: None,
        rcps: Field::None,
        rcps_error: None,
        ..AccountInfo::default()
    }
}

async fn read_account(ctx: &Ctx<'_>, account: &str) -> Result<AccountInfo, GatherError> {
    let readers = ctx.readers().await?;
    let own = readers
        .iter()
        .find(|(_, identity)| identity.account == account)
        .map(|(reader, _)| *reader);
    let (own_view, managers) = tokio::join!(
        async {
            match own {
                Some(reader) => Some(view(ctx, reader).await),
                None => None,
            }
        },
        org_readers(ctx, &readers)
    );
    // The account's own DescribeOrganization (members may call it) gives
    // its organization, for aws:PrincipalOrgID and aws:ResourceOrgID, even
    // when its policies cannot be read.
    let own_org = match own_view {
        Some(Ok(None)) => return Ok(not_in_org()),
        Some(Err(ReadErr::Fatal(fatal))) => return Err(fatal),
        Some(Err(ReadErr::Unreadable(why))) => Err(why),
        Some(Ok(Some(org))) => Ok(Some(org)),
        None => Ok(None),
    };
    let mut candidates: Vec<(&Reader, OrgView)> = match &own_org {
        Ok(Some(org)) => managers
            .iter()
            .filter(|(_, managed)| managed.id == org.id)
            .cloned()
            .collect(),
        // The account's organization is not known: ask every organization
        // reader; the one that can place the account in its tree wins.
        _ => managers.clone(),
    };
    if candidates.is_empty()
        && let (Ok(Some(org)), Some(reader)) = (&own_org, own)
    {
        candidates.push((reader, org.clone()));
    }
    if candidates.is_empty() {
        let why = match &own_org {
            Err(why) => why.clone(),
            _ => format!(
                "no profile given is of account {account} or of an organization that can read its policies (--org-profile)"
            ),
        };
        return Ok(unknown(why));
    }
    let attempts = super::join::join_all(candidates.iter().map(|(reader, org)| async move {
        let (enabled, levels) =
            tokio::join!(roots(ctx, reader), climb(ctx, reader, account.to_string()));
        (reader, org, enabled, levels)
    }))
    .await;
    let mut failures = Vec::new();
    let mut found = None;
    for (reader, org, enabled, levels) in attempts {
        match levels {
            Ok(levels) => {
                found = Some((org.clone(), enabled, levels));
                break;
            }
            Err(ReadErr::Fatal(fatal)) => return Err(fatal),
            Err(ReadErr::Unreadable(why)) => {
                let is_own = own.is_some_and(|own| std::ptr::eq(own, *reader));
                failures.push(if is_own {
                    why
                } else {
                    format!(
                        "{} (organization {}) cannot place account {account} in its organization: {why}",
                        reader.label, org.id
                    )
                });
            }
        }
    }
    let Some((org, enabled, levels)) = found else {
        let mut info = unknown(failures.join("; "));
        if let Ok(Some(org)) = &own_org {
            info.org_id = Field::Some(org.id.clone());
            info.org_id_error = None;
            info.management_account = Field::Some(org.management.clone());
        }
        return Ok(info);
    };
    // The levels are the root, the OUs and the account itself: the path
    // names every one but the account.
    let (targets, levels): (Vec<String>, Vec<Level>) = levels.into_iter().unzip();
    let parents = &targets[..targets.len().saturating_sub(1)];
    let mut info = AccountInfo {
        org_id: Field::Some(org.id.clone()),
        org_id_error: None,
        management_account: Field::Some(org.management.clone()),
        ..AccountInfo::default()
    };
    let path = crate::policy::org_path::build(&org.id, parents);
    match crate::policy::org_path::validate(&path) {
        Ok(()) => info.org_path = Field::Some(path),
        // An id AWS would not return: say so rather than write a snapshot
        // the tool itself refuses to load.
        Err(why) => info.org_path_error = Some(format!("organizations:ListParents: {why}")),
    }
    let (scps, rcps): (Vec<_>, Vec<_>) = levels.into_iter().unzip();
    for (kind, per_level, field, error) in [
        (
            PolicyType::ServiceControlPolicy,
            scps,
            &mut info.scps,
            &mut info.scps_error,
        ),
        (
            PolicyType::ResourceControlPolicy,
            rcps,
            &mut info.rcps,
            &mut info.rcps_error,
        ),
    ] {
        match &enabled {
            Err(ReadErr::Fatal(fatal)) => return Err(fatal.clone()),
            Err(ReadErr::Unreadable(why)) => {
                *error = Some(why.clone());
                continue;
            }
            // A policy type not enabled in the root applies to nobody.
            Ok(types) if !types.contains(&kind) => {
                *field = Field::None;
                continue;
            }
            Ok(_) => {}
        }
        match per_level.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(levels) => *field = Field::Some(levels),
            Err(ReadErr::Fatal(fatal)) => return Err(fatal),
            Err(ReadErr::Unreadable(why)) => *error = Some(why),
        }
    }
    Ok(info)
}

/// The policy types enabled in the organization's root.
async fn roots(ctx: &Ctx<'_>, reader: &Reader) -> Result<Vec<PolicyType>, ReadErr> {
    ctx.org_roots
        .get(&reader.label, || async {
            let list = reader
                .orgs
                .list_roots()
                .into_paginator()
                .send()
                .try_collect();
            let pages = ctx.read(reader, "organizations:ListRoots", list).await?;
            Ok(pages
                .iter()
                .flat_map(|page| page.roots())
                .flat_map(|root| root.policy_types())
                .filter(|summary| {
                    summary
                        .status()
                        .is_some_and(|status| status.as_str() == "ENABLED")
                })
                .filter_map(|summary| summary.r#type().cloned())
                .collect())
        })
        .await
}

/// The levels from the root down to `target`, root first, each with its
/// id. A level's policies are listed while its parent is looked up.
fn climb<'a>(
    ctx: &'a Ctx<'_>,
    reader: &'a Reader,
    target: String,
) -> Boxed<'a, Result<Vec<(String, Level)>, ReadErr>> {
    Box::pin(async move {
        let parent = async {
            let list = reader.orgs.list_parents().child_id(&target).send();
            let output = ctx.read(reader, "organizations:ListParents", list).await?;
            let parent = output.parents().first().ok_or_else(|| {
                ReadErr::Unreadable(format!(
                    "organizations:ListParents names no parent of `{target}`"
                ))
            })?;
            Ok::<_, ReadErr>((
                parent.id().unwrap_or_default().to_string(),
                parent.r#type() == Some(&ParentType::Root),
            ))
        };
        // The parent's levels are read while this level's policies are,
        // so each level costs one round trip, not two.
        let upper = async {
            let (parent, is_root) = parent.await?;
            if is_root {
                let root = level(ctx, reader, &parent).await;
                Ok(vec![(parent, root)])
            } else {
                climb(ctx, reader, parent).await
            }
        };
        let (own, upper) = tokio::join!(level(ctx, reader, &target), upper);
        let mut levels = upper?;
        levels.push((target, own));
        Ok(levels)
    })
}

/// SCPs and RCPs attached to one target, each with its document.
async fn level(ctx: &Ctx<'_>, reader: &Reader, target: &str) -> Level {
    tokio::join!(
        attached(ctx, reader, target, PolicyType::ServiceControlPolicy),
        attached(ctx, reader, target, PolicyType::ResourceControlPolicy)
    )
}

async fn attached(
    ctx: &Ctx<'_>,
    reader: &Reader,
    target: &str,
    kind: PolicyType,
) -> Result<Vec<NamedPolicy>, ReadErr> {
    let list = reader.orgs.list_policies_for_target().target_id(target);
    let list = list
        .filter(kind.clone())
        .into_paginator()
        .send()
        .try_collect();
    let pages = ctx
        .read(reader, "organizations:ListPoliciesForTarget", list)
        .await?;
    let summaries: Vec<(String, String)> = pages
        .iter()
        .flat_map(|page| page.policies())
        .map(|summary| {
            (
                summary.id().unwrap_or_default().to_string(),
                summary.name().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let what = if kind == PolicyType::ServiceControlPolicy {
        "SCP"
    } else {
        "RCP"
    };
    policy_docs(
        &summaries,
        async |(id, _)| content(ctx, reader, id).await,
        |(_, name)| (format!("{what} `{name}`"), name.clone()),
        None,
    )
    .await
}

/// A policy's content, read once (FullAWSAccess sits at every level).
async fn content(ctx: &Ctx<'_>, reader: &Reader, id: &str) -> Result<String, ReadErr> {
    ctx.org_policies
        .get(&format!("{}|{id}", reader.label), || async {
            let describe = reader.orgs.describe_policy().policy_id(id).send();
            let output = ctx
                .read(reader, "organizations:DescribePolicy", describe)
                .await?;
            output
                .policy()
                .and_then(|policy| policy.content())
                .map(str::to_string)
                .ok_or_else(|| {
                    ReadErr::Unreadable(format!(
                        "organizations:DescribePolicy of `{id}` returned no content"
                    ))
                })
        })
        .await
}
