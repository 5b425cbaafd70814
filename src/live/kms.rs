//! KMS key reads, in the key's own account and region: DescribeKey (state,
//! manager, ARN; also resolves an alias or bare key id), the key policy
//! (`default`), grants, aliases and tags. A key named by ARN or id gets them all
//! at once; an alias needs DescribeKey first to learn the key id.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_kms::types::GrantListEntry;

use super::aws::{Failure, Reader, classify};
use super::{Ctx, GatherError, ReadErr};
use crate::policy::arn::Arn;
use crate::snapshot::{Field, GrantConstraints, GrantInfo, KeyInfo, PolicyDoc};

/// Where a key reference points: the account and region KMS resolves it
/// in, and whether it is an alias.
struct Target {
    account: String,
    region: String,
    alias: bool,
    /// The key ARN when the reference says it (key ARN or key id).
    known_arn: Option<String>,
}

fn target(reference: &str, region: &str, account: &str, partition: &str) -> Target {
    match Arn::parse(reference) {
        Ok(arn) => Target {
            alias: arn.resource.starts_with("alias/"),
            known_arn: arn
                .resource
                .starts_with("key/")
                .then(|| reference.to_string()),
            account: arn.account,
            region: arn.region,
        },
        Err(_) => {
            let alias = reference.starts_with("alias/");
            Target {
                account: account.to_string(),
                region: region.to_string(),
                alias,
                known_arn: (!alias)
                    .then(|| format!("arn:{partition}:kms:{region}:{account}:key/{reference}")),
            }
        }
    }
}

/// Reads one key named as configured (key ARN, key id, alias name or alias
/// ARN). `region`/`account` resolve a relative reference (the bucket's).
/// `None` when the key cannot be placed at all (an alias that could not be
/// resolved): the judge then says the key is not in the snapshot.
pub(crate) async fn read_key(
    ctx: &Ctx<'_>,
    reference: &str,
    region: &str,
    account: &str,
    partition: &str,
) -> Result<Option<KeyInfo>, GatherError> {
    let target = target(reference, region, account, partition);
    let memo_key = format!("{}|{}|{reference}", target.account, target.region);
    ctx.keys
        .get(&memo_key, || read(ctx, reference, target))
        .await
}

async fn read(
    ctx: &Ctx<'_>,
    reference: &str,
    target: Target,
) -> Result<Option<KeyInfo>, GatherError> {
    let own = ctx.reader_for(&target.account).await?;
    // A key in an account no profile belongs to: try the resource profile;
    // cross-account DescribeKey works when the key policy allows it.
    let reader = own.unwrap_or(&ctx.resource);
    let in_own_account = own.is_some();
    let kms = reader.kms(&target.region);
    let describe = async {
        match kms.describe_key().key_id(reference).send().await {
            Ok(output) => Ok(output.key_metadata().map(|metadata| {
                (
                    metadata.arn().map(str::to_string),
                    metadata.key_id().to_string(),
                    metadata.key_state().map(|state| state.as_str().to_string()),
                    metadata
                        .key_manager()
                        .map(|manager| manager.as_str().to_string()),
                )
            })),
            Err(error) => Err(classify(&error, &ctx.endpoint)),
        }
    };
    let (described, details) = if target.alias {
        // An alias: the key id comes from DescribeKey, the rest follows it.
        let described = describe.await;
        let details = match &described {
            Ok(Some((_, key_id, _, _))) => Some(details(ctx, reader, &kms, key_id).await),
            _ => None,
        };
        (described, details)
    } else {
        tokio::join!(describe, async {
            Some(details(ctx, reader, &kms, reference).await)
        })
    };

    let not_here = |what: &str| {
        format!(
            "{what} could not be confirmed: the key is in account {}, and no profile given is of that account",
            target.account
        )
    };
    let mut info = KeyInfo::unread(target.known_arn.as_deref().unwrap_or_default());
    let mut missing = false;
    match described {
        Ok(Some((arn, _, state, manager))) => {
            if let Some(arn) = arn {
                info.arn = arn;
            }
            info.state = Field::from_option(state);
            info.manager = manager;
        }
        Ok(None) => {}
        Err(Failure::NotFound(code)) if in_own_account => {
            // Read with the key account's own credentials: it does not exist.
            let _ = code;
            info.state = Field::None;
            missing = true;
        }
        Err(Failure::NotFound(code)) => {
            info.state_error = Some(format!("{} ({code})", not_here("the key's existence")));
        }
        Err(other) => match ctx.unreadable(reader, "kms:DescribeKey", other) {
            ReadErr::Fatal(fatal) => return Err(fatal),
            ReadErr::Unreadable(why) => info.state_error = Some(why),
        },
    }
    if let Some((policy, grants, aliases, tags)) = details {
        match tags {
            Ok(tags) => info.tags = Field::Some(tags),
            Err(ReadErr::Fatal(fatal)) => return Err(fatal),
            Err(ReadErr::Unreadable(why)) => info.tags_error = Some(why),
        }
        match policy {
            Ok(doc) => info.policy = doc,
            Err(ReadErr::Fatal(fatal)) => return Err(fatal),
            Err(ReadErr::Unreadable(why)) => info.policy_error = Some(why),
        }
        match grants {
            Ok(grants) => info.grants = Field::Some(grants),
            Err(ReadErr::Fatal(fatal)) => return Err(fatal),
            Err(ReadErr::Unreadable(why)) => info.grants_error = Some(why),
        }
        match aliases {
            Ok(aliases) => info.aliases = aliases,
            Err(ReadErr::Fatal(fatal)) => return Err(fatal),
            // The ARN still places the key; `kms:ResourceAliases` becomes
            // unknown.
            Err(ReadErr::Unreadable(why)) => info.aliases_error = Some(why),
        }
    }
    if missing {
        // Nothing else of a key that does not exist can be read.
        info.policy = Field::None;
        info.policy_error = None;
        info.grants = Field::None;
        info.grants_error = None;
    }
    if target.alias && info.aliases.is_empty() {
        // DescribeKey resolved the alias: record it even if ListAliases was
        // not readable, so the judge can match the reference.
        let name = match Arn::parse(reference) {
            Ok(arn) => arn.resource,
            Err(_) => reference.to_string(),
        };
        if !info.arn.is_empty() {
            info.aliases.push(name);
        }
    }
    if info.arn.is_empty() {
        return Ok(None);
    }
    Ok(Some(info))
}

type Details = (
    Result<Field<PolicyDoc>, ReadErr>,
    Result<Vec<GrantInfo>, ReadErr>,
    Result<Vec<String>, ReadErr>,
    Result<BTreeMap<String, String>, ReadErr>,
);

/// Key policy, grants and aliases at once.
async fn details(
    ctx: &Ctx<'_>,
    reader: &Reader,
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> Details {
    let policy = async {
        let get = kms.get_key_policy().key_id(key_id).policy_name("default");
        let output = ctx.read(reader, "kms:GetKeyPolicy", get.send()).await?;
        let text = output.policy().unwrap_or_default();
        PolicyDoc::from_text(&format!("key policy of `{key_id}`"), text)
            .map(Field::Some)
            .map_err(|error| {
                ReadErr::Unreadable(format!(
                    "the key policy read from AWS does not parse: {error}"
                ))
            })
    };
    let grants = async {
        let list = kms.list_grants().key_id(key_id);
        let list = list.into_paginator().items().send().try_collect();
        let items = ctx.read(reader, "kms:ListGrants", list).await?;
        Ok(items.iter().filter_map(grant_info).collect())
    };
    let aliases = async {
        let list = kms.list_aliases().key_id(key_id);
        let list = list.into_paginator().items().send().try_collect();
        let items = ctx.read(reader, "kms:ListAliases", list).await?;
        let mut names: Vec<String> = items
            .iter()
            .filter_map(|alias| alias.alias_name().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    };
    // Key tags (`aws:ResourceTag/*`): a key holds at most 50, one page.
    let tags = async {
        let list = kms.list_resource_tags().key_id(key_id).limit(50);
        let output = ctx
            .read(reader, "kms:ListResourceTags", list.send())
            .await?;
        Ok(output
            .tags()
            .iter()
            .map(|tag| (tag.tag_key().to_string(), tag.tag_value().to_string()))
            .collect())
    };
    tokio::join!(policy, grants, aliases, tags)
}

/// A grant as the judge reads it; `None` for one that names no grantee.
fn grant_info(grant: &GrantListEntry) -> Option<GrantInfo> {
    let map = |context: Option<&HashMap<String, String>>| {
        context.map(|context| {
            context
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        })
    };
    let constraints = grant.constraints().map(|constraints| GrantConstraints {
        encryption_context_subset: map(constraints.encryption_context_subset()),
        encryption_context_equals: map(constraints.encryption_context_equals()),
        source_arn: None,
    });
    let grantee = grant.grantee_principal()?;
    // KMS names a service principal grantee by its service name.
    let service = crate::policy::arn::is_service_principal(grantee);
    Some(GrantInfo {
        grantee: if service {
            String::new()
        } else {
            grantee.to_string()
        },
        grantee_service_principal: service.then(|| grantee.to_string()),
        retiring_principal: grant.retiring_principal().map(str::to_string),
        created_at: grant.creation_date().and_then(|date| {
            date.fmt(aws_sdk_kms::primitives::DateTimeFormat::DateTime)
                .ok()
        }),
        operations: grant
            .operations()
            .iter()
            .map(|operation| operation.as_str().to_string())
            .collect(),
        constraints: constraints.filter(|constraints| {
            constraints.encryption_context_subset.is_some()
                || constraints.encryption_context_equals.is_some()
        }),
        name: grant
            .name()
            .filter(|name| !name.is_empty())
            .map(str::to_string),
        grant_id: grant.grant_id().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_to_account_region_and_arn() {
        let t = target("alias/app", "eu-west-1", "111111111111", "aws");
        assert!(t.alias && t.known_arn.is_none());
        assert_eq!(
            (t.account.as_str(), t.region.as_str()),
            ("111111111111", "eu-west-1")
        );
        let t = target("1234abcd", "eu-west-1", "111111111111", "aws");
        assert_eq!(
            t.known_arn.as_deref(),
            Some("arn:aws:kms:eu-west-1:111111111111:key/1234abcd")
        );
        let t = target(
            "arn:aws:kms:us-east-2:333333333333:alias/x",
            "eu-west-1",
            "111111111111",
            "aws",
        );
        assert!(t.alias);
        assert_eq!(
            (t.account.as_str(), t.region.as_str()),
            ("333333333333", "us-east-2")
        );
    }
}
