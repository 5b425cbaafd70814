//! S3's own gates as the snapshot records them: the Block Public Access
//! settings of a bucket, of an account, or of an access point.

use serde::{Deserialize, Serialize};

use crate::policy::Tri;

use super::Field;

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
