//! The sweep's first phase, with the organization's profile: the accounts
//! (`ListAccounts`), which of them this sweep reads (`--accounts`,
//! `--shard`), and each one's organization, OU path, SCPs and RCPs, read by
//! the same code as a single chain's (policies shared by many accounts are
//! read once).

use std::collections::BTreeMap;

use tokio::sync::Semaphore;

use super::super::aws::classify;
use super::super::join;
use super::super::{Ctx, GatherError, ReadErr, org};
use super::{ACCOUNTS_IN_FLIGHT, Shared, SweepRequest};
use crate::snapshot::AccountInfo;

/// The organization's accounts, as listed.
pub(super) struct Listed {
    pub accounts: Vec<String>,
}

/// The accounts of the organization, sorted. Not being able to list them
/// stops the sweep: there is nothing to read.
pub(super) async fn list(shared: &Shared<'_>) -> Result<Listed, GatherError> {
    let reader = &shared.org_reader;
    let pages = reader
        .orgs
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await;
    let listed = match pages {
        Ok(listed) => listed,
        Err(error) => {
            let why = match classify(&error, &shared.endpoint) {
                super::super::aws::Failure::Fatal(fatal) => return Err(fatal),
                super::super::aws::Failure::Denied(code)
                | super::super::aws::Failure::NotFound(code)
                | super::super::aws::Failure::Failed(code) => code,
            };
            return Err(GatherError::Sweep(format!(
                "cannot list the organization's accounts: organizations:ListAccounts failed for {} ({why}); --org-profile must be of the management account or a delegated administrator",
                reader.label
            )));
        }
    };
    let mut accounts: Vec<String> = listed
        .iter()
        .flat_map(|page| page.accounts())
        .filter_map(|account| account.id().map(str::to_string))
        .collect();
    accounts.sort();
    accounts.dedup();
    Ok(Listed { accounts })
}

/// The accounts this sweep reads: `--accounts` (each must be in the
/// organization), then this `--shard`'s.
pub(super) fn choose(
    listed: &[String],
    request: &SweepRequest,
) -> Result<Vec<String>, GatherError> {
    let mut chosen: Vec<String> = if request.accounts.is_empty() {
        listed.to_vec()
    } else {
        for account in &request.accounts {
            if !listed.contains(account) {
                return Err(GatherError::Sweep(format!(
                    "--accounts: `{account}` is not an account of the organization of profile `{}`",
                    request.org_profile
                )));
            }
        }
        request.accounts.clone()
    };
    if let Some(shard) = request.shard {
        chosen.retain(|account| shard.owns(account));
    }
    chosen.sort();
    chosen.dedup();
    Ok(chosen)
}

/// The organization's id and every chosen account's organization facts.
pub(super) async fn organization(
    shared: &Shared<'_>,
    accounts: &[String],
) -> Result<(Option<String>, BTreeMap<String, AccountInfo>), GatherError> {
    let ctx = Ctx {
        org_readers: vec![shared.org_reader.sibling(shared.org_identity.clone())],
        ..Ctx::of_resource(
            &shared.template,
            &shared.also,
            shared.endpoint.clone(),
            shared.org_reader.sibling(shared.org_identity.clone()),
            shared.progress,
        )
    };
    let organization = match org::view(&ctx, &ctx.resource).await {
        Ok(view) => view.map(|view| view.id),
        Err(ReadErr::Fatal(fatal)) => return Err(fatal),
        Err(ReadErr::Unreadable(_)) => None,
    };
    let slots = Semaphore::new(ACCOUNTS_IN_FLIGHT);
    let infos = join::try_join_all(accounts.iter().map(|account| {
        let (ctx, slots) = (&ctx, &slots);
        async move {
            let _permit = slots.acquire().await.ok();
            org::account_info(ctx, account)
                .await
                .map(|info| (account.clone(), info))
        }
    }))
    .await?;
    Ok((organization, infos.into_iter().collect()))
}
