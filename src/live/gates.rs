//! Live reads of S3's own gates: the bucket's Block Public Access settings
//! (`GetPublicAccessBlock`, IAM action `s3:GetBucketPublicAccessBlock`). A
//! read that is refused or fails leaves the settings unknown, with why, so
//! the `block-public-access` link says which gate could not be read.

use super::aws::{Reader, classify};
use super::s3::field_error;
use super::{Ctx, GatherError};
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
