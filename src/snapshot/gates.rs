//! S3's own gates as the snapshot records them: the Block Public Access
//! settings of a bucket, of an account, or of an access point, and the
//! access points a request may go through.

use serde::{Deserialize, Serialize};

use crate::policy::Tri;

use super::{Field, PolicyDoc};

/// The network origins an access point accepts requests from (S3 Control
/// API Reference, "GetAccessPoint": `NetworkOrigin`).
pub const NETWORK_ORIGINS: &[&str] = &["Internet", "VPC"];

/// An S3 access point: its own policy and network origin stand between the
/// caller and the bucket (S3 User Guide, "Configuring IAM policies for using
/// access points").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPointInfo {
    /// `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`.
    pub arn: String,
    pub name: String,
    /// The access point owner's account.
    pub account: String,
    /// The bucket it serves, by name.
    pub bucket: String,
    /// The bucket owner's account (another account for a cross-account
    /// access point).
    pub bucket_account: String,
    /// The access point's alias (`NAME-...-s3alias`), which `--access-point`
    /// also accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// `Internet` or `VPC`; missing when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_origin: Option<String>,
    /// The VPC a `VPC` access point accepts requests from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub policy: Field<PolicyDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_error: Option<String>,
    #[serde(default, skip_serializing_if = "Field::is_unknown")]
    pub public_access_block: Field<PublicAccessBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block_error: Option<String>,
}

impl AccessPointInfo {
    /// The region its ARN names.
    pub fn region(&self) -> &str {
        self.arn.split(':').nth(3).unwrap_or_default()
    }

    /// The ARN a request through the access point names for `object` (`None`:
    /// the access point itself, as for ListBucket): AWS's
    /// `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/object/KEY` form.
    pub fn resource_arn(&self, object: Option<&str>) -> String {
        match object {
            Some(key) => format!("{}/object/{key}", self.arn),
            None => self.arn.clone(),
        }
    }
}

/// One Block Public Access configuration (S3 API Reference,
/// "PublicAccessBlockConfiguration"). A setting missing from the snapshot
/// was not read: it is unknown, never taken as off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicAccessBlock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_public_acls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_public_acls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_public_policy: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_public_buckets: Option<bool>,
}

/// Checks what serde cannot: each access point's ARN names its account and
/// name in AWS's form, its accounts are account ids, its network origin is
/// one AWS returns and a `VPC` origin names its VPC. The field's pointer and
/// the message on failure.
pub(super) fn validate_access_points(points: &[AccessPointInfo]) -> Result<(), (String, String)> {
    let mut seen = std::collections::HashSet::new();
    for (index, point) in points.iter().enumerate() {
        let at = |field: &str| format!("/access_points/{index}{field}");
        if !seen.insert(point.arn.as_str()) {
            return Err((
                at("/arn"),
                format!(
                    "a second entry for access point `{}`; a snapshot holds one per access point",
                    point.arn
                ),
            ));
        }
        // S3 User Guide, "Referencing access points": the ARN is
        // `arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME`.
        let parts: Vec<&str> = point.arn.splitn(6, ':').collect();
        let well_formed = matches!(
            parts.as_slice(),
            ["arn", partition, "s3", region, account, resource]
                if !partition.is_empty()
                    && !region.is_empty()
                    && *account == point.account
                    && *resource == format!("accesspoint/{}", point.name)
        );
        if !well_formed {
            return Err((
                at("/arn"),
                format!(
                    "`{}` is not `arn:aws:s3:REGION:{}:accesspoint/{}` (an access point ARN naming its account and name)",
                    point.arn, point.account, point.name
                ),
            ));
        }
        for (field, account) in [
            ("/account", &point.account),
            ("/bucket_account", &point.bucket_account),
        ] {
            if !crate::policy::arn::is_account_id(account) {
                return Err((
                    at(field),
                    format!("`{account}` is not a 12-digit account id"),
                ));
            }
        }
        if let Some(origin) = &point.network_origin
            && !NETWORK_ORIGINS.contains(&origin.as_str())
        {
            return Err((
                at("/network_origin"),
                format!(
                    "`{origin}` is not one of `Internet`, `VPC` (spelled exactly as AWS spells it)"
                ),
            ));
        }
        if point.network_origin.as_deref() == Some("VPC") && point.vpc_id.is_none() {
            return Err((
                at("/vpc_id"),
                "a `VPC` access point names the VPC it accepts requests from (`vpc_id`)"
                    .to_string(),
            ));
        }
    }
    Ok(())
}

/// The four settings by name, as the snapshot and the reports spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicAccessSetting {
    BlockPublicAcls,
    IgnorePublicAcls,
    BlockPublicPolicy,
    RestrictPublicBuckets,
}

impl PublicAccessSetting {
    /// The name AWS's API and console use.
    pub fn aws_name(self) -> &'static str {
        match self {
            PublicAccessSetting::BlockPublicAcls => "BlockPublicAcls",
            PublicAccessSetting::IgnorePublicAcls => "IgnorePublicAcls",
            PublicAccessSetting::BlockPublicPolicy => "BlockPublicPolicy",
            PublicAccessSetting::RestrictPublicBuckets => "RestrictPublicBuckets",
        }
    }
}

impl PublicAccessBlock {
    pub fn get(&self, setting: PublicAccessSetting) -> Option<bool> {
        match setting {
            PublicAccessSetting::BlockPublicAcls => self.block_public_acls,
            PublicAccessSetting::IgnorePublicAcls => self.ignore_public_acls,
            PublicAccessSetting::BlockPublicPolicy => self.block_public_policy,
            PublicAccessSetting::RestrictPublicBuckets => self.restrict_public_buckets,
        }
    }
}

/// Whether `setting` is on in one configuration as the snapshot holds it:
/// none configured (`null`) is off; a configuration not read, or a setting
/// missing from it, is unknown.
pub fn setting_of(config: &Field<PublicAccessBlock>, setting: PublicAccessSetting) -> Tri {
    match config {
        Field::Unknown => Tri::Unknown,
        Field::None => Tri::No,
        Field::Some(config) => match config.get(setting) {
            Some(true) => Tri::Yes,
            Some(false) => Tri::No,
            None => Tri::Unknown,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_configuration_or_setting_is_unknown_and_none_configured_is_off() {
        let setting = PublicAccessSetting::RestrictPublicBuckets;
        assert_eq!(setting_of(&Field::Unknown, setting), Tri::Unknown);
        assert_eq!(setting_of(&Field::None, setting), Tri::No);
        let partial = PublicAccessBlock {
            block_public_acls: Some(true),
            ..PublicAccessBlock::default()
        };
        assert_eq!(
            setting_of(&Field::Some(partial.clone()), setting),
            Tri::Unknown
        );
        assert_eq!(
            setting_of(&Field::Some(partial), PublicAccessSetting::BlockPublicAcls),
            Tri::Yes
        );
    }
}
