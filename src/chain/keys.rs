//! Resolving the KMS key S3 uses: a key ARN, key id, alias name or alias ARN
//! as configured, looked up among the snapshot's keys.

use crate::policy::arn::ArnParts;
use crate::snapshot::KeyInfo;

use super::{KeyChoice, Setup};

/// How the key was referenced where it was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    KeyArn,
    AliasArn,
    AliasName,
    KeyId,
    /// No key named: S3's AWS managed key `aws/s3`.
    AwsManagedDefault,
    /// The encryption in force could not be read.
    Unknown,
}

impl Reference {
    /// Only a full key ARN names a key across accounts; S3 resolves anything
    /// else in the requester's account.
    pub fn works_cross_account(self) -> bool {
        matches!(self, Reference::KeyArn | Reference::AwsManagedDefault)
    }
}

/// The key a KMS action is authorized against.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedKey<'s> {
    /// The reference as configured (`alias/x`, a key id, an ARN).
    pub configured: String,
    pub reference: Reference,
    /// The snapshot's entry for the key, when it has one.
    pub info: Option<&'s KeyInfo>,
    /// The ARN the action is authorized against (key ARN when resolved).
    pub resource: String,
    /// The key's account: from its ARN, else the account the reference was
    /// resolved in (the bucket's for its configuration, the writer's for a
    /// request header).
    pub account: String,
}

impl ResolvedKey<'_> {
    /// AWS managed keys (`aws/...`) cannot be used from another account and
    /// are not subject to RCPs.
    pub fn is_aws_managed(&self) -> bool {
        if self.reference == Reference::AwsManagedDefault {
            return true;
        }
        self.info.is_some_and(|info| {
            info.manager.as_deref() == Some("AWS")
                || info
                    .aliases
                    .iter()
                    .any(|alias| alias.starts_with("alias/aws/"))
        })
    }
}

/// The key as the bucket owner's configuration names it: a key id or alias
/// name is looked up in the bucket's account.
pub(crate) fn resolve<'s>(setup: &Setup<'s>, choice: &KeyChoice) -> ResolvedKey<'s> {
    resolve_in(setup, choice, &setup.bucket.account)
}

/// The key as a request names it, a key id or alias name looked up in
/// `account`. S3 resolves a reference that is not a full ARN in the
/// requester's account: Amazon S3 API Reference, "PutObject"
/// (`x-amz-server-side-encryption-aws-kms-key-id`: "If the KMS key doesn't
/// exist in the same account that's issuing the command, you must use the
/// full Key ARN not the Key ID") and "ServerSideEncryptionByDefault" ("If
/// you use a KMS key alias instead, then KMS resolves the key within the
/// requester's account"). The bucket owner's own configuration resolves in
/// its account ([`resolve`]); the `bucket-encryption` link says when that
/// cannot work for a writer of another account.
pub(crate) fn resolve_in<'s>(
    setup: &Setup<'s>,
    choice: &KeyChoice,
    account: &str,
) -> ResolvedKey<'s> {
    let bucket_account = account.to_string();
    let region = setup
        .bucket
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_string());
    let keys = &setup.snapshot.keys;
    let in_account = |info: &&KeyInfo, account: &str, region: Option<&str>| {
        ArnParts::parse(&info.arn).is_ok_and(|arn| {
            arn.account == account && region.is_none_or(|region| arn.region == region)
        })
    };
    match choice {
        KeyChoice::Unknown => ResolvedKey {
            configured: "unknown".to_string(),
            reference: Reference::Unknown,
            info: None,
            resource: "unknown key (encryption not read)".to_string(),
            account: bucket_account,
        },
        KeyChoice::AwsManagedS3 => {
            let info = keys.iter().find(|info| {
                info.aliases.iter().any(|alias| alias == "alias/aws/s3")
                    && in_account(info, &bucket_account, Some(&region))
            });
            ResolvedKey {
                configured: "alias/aws/s3".to_string(),
                reference: Reference::AwsManagedDefault,
                info,
                resource: info.map(|info| info.arn.clone()).unwrap_or_else(|| {
                    format!("arn:aws:kms:{region}:{bucket_account}:alias/aws/s3")
                }),
                account: bucket_account,
            }
        }
        KeyChoice::Named(configured) => {
            if let Ok(arn) = ArnParts::parse(configured) {
                if let Some(alias) = arn.resource.strip_prefix("alias/") {
                    let alias_name = format!("alias/{alias}");
                    let info = keys.iter().find(|info| {
                        info.aliases.contains(&alias_name)
                            && in_account(info, arn.account, Some(arn.region))
                    });
                    return ResolvedKey {
                        configured: configured.clone(),
                        reference: Reference::AliasArn,
                        info,
                        resource: info.map_or_else(|| configured.clone(), |info| info.arn.clone()),
                        account: arn.account.to_string(),
                    };
                }
                let info = keys.iter().find(|info| &info.arn == configured);
                return ResolvedKey {
                    configured: configured.clone(),
                    reference: Reference::KeyArn,
                    info,
                    resource: configured.clone(),
                    account: arn.account.to_string(),
                };
            }
            if configured.starts_with("alias/") {
                let info = keys.iter().find(|info| {
                    info.aliases.contains(configured)
                        && in_account(info, &bucket_account, Some(&region))
                });
                return ResolvedKey {
                    configured: configured.clone(),
                    reference: Reference::AliasName,
                    info,
                    resource: info.map_or_else(
                        || format!("arn:aws:kms:{region}:{bucket_account}:{configured}"),
                        |info| info.arn.clone(),
                    ),
                    account: bucket_account,
                };
            }
            let suffix = format!(":key/{configured}");
            let info = keys.iter().find(|info| {
                info.arn.ends_with(&suffix) && in_account(info, &bucket_account, None)
            });
            ResolvedKey {
                configured: configured.clone(),
                reference: Reference::KeyId,
                info,
                resource: info.map_or_else(
                    || format!("arn:aws:kms:{region}:{bucket_account}:key/{configured}"),
                    |info| info.arn.clone(),
                ),
                account: bucket_account,
            }
        }
    }
}
