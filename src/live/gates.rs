//! Live reads of S3's own gates: the Block Public Access settings of the
//! bucket (`GetPublicAccessBlock`, IAM action
//! `s3:GetBucketPublicAccessBlock`) and of its owner's account (S3 Control
//! `GetPublicAccessBlock`, `s3:GetAccountPublicAccessBlock`). A read that is
//! refused or fails leaves the settings unknown, with why, so the
//! `block-public-access` link says which gate could not be read.

use super::aws::{Failure, Reader, classify};
use super::s3::field_error;
use super::{Ctx, GatherError, ReadErr};
use crate::snapshot::{Field, PublicAccessBlock};

/// The bucket's own settings; `null` when it has none configured
/// (`NoSuchPublicAccessBlockConfiguration`, S3 API Reference,
/// "GetPublicAccessBlock").
pub(super) async fn bucket_public_access_block(
    ctx: &Ctx<'_>,
    reader: &Reader,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<(Field<PublicAccessBlock>, Option<String>), GatherError> {
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(output) => Ok((
            Field::from_option(output.public_access_block_configuration().map(|config| {
                PublicAccessBlock {
                    block_public_acls: config.block_public_acls(),
                    ignore_public_acls: config.ignore_public_acls(),
                    block_public_policy: config.block_public_policy(),
                    restrict_public_buckets: config.restrict_public_buckets(),
                }
            })),
            None,
        )),
        Err(error) => field_error(
            ctx,
            reader,
            "s3:GetBucketPublicAccessBlock",
            classify(&error, &ctx.endpoint),
            "NoSuchPublicAccessBlockConfiguration",
        ),
    }
}

/// The account's settings, read with the account's own credentials in the
/// bucket's region; `null` when none are configured.
pub(super) async fn account_public_access_block(
    ctx: &Ctx<'_>,
    reader: &Reader,
    account: &str,
    region: &str,
) -> Result<(Field<PublicAccessBlock>, Option<String>), GatherError> {
    let sent = reader
        .s3control(region)
        .get_public_access_block()
        .account_id(account)
        .send()
        .await;
    match sent {
        Ok(output) => Ok((
            Field::from_option(output.public_access_block_configuration().map(|config| {
                PublicAccessBlock {
                    block_public_acls: config.block_public_acls(),
                    ignore_public_acls: config.ignore_public_acls(),
                    block_public_policy: config.block_public_policy(),
                    restrict_public_buckets: config.restrict_public_buckets(),
                }
            })),
            None,
        )),
        Err(error) => match classify(&error, &ctx.endpoint) {
            Failure::NotFound(code) if code == "NoSuchPublicAccessBlockConfiguration" => {
                Ok((Field::None, None))
            }
            other => match ctx.unreadable(reader, "s3:GetAccountPublicAccessBlock", other) {
                ReadErr::Fatal(fatal) => Err(fatal),
                ReadErr::Unreadable(why) => Ok((Field::Unknown, Some(why))),
            },
        },
    }
}
