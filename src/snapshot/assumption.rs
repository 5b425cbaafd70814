//! The `--assume LINK=VALUE` values a snapshot records: what each one is
//! called on the command line and in snapshot files, and the link it stands
//! in for. They live with the snapshot because a saved capture keeps them
//! for its replay; how the judge applies them is `chain::assume`'s.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::diagnosis::LinkId;

/// One `--assume` value. Ordered as the links they stand in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Assumption {
    /// `scp=allow`: SCPs that could not be read allow the request.
    ScpAllow,
    /// `rcp=allow`: RCPs that could not be read allow the request.
    RcpAllow,
    /// `session-policy=none`: a role session whose session policies could
    /// not be read was started without one.
    SessionPolicyNone,
}

/// A `--assume` value the tool does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--assume: `{0}` is not an assumption the tool knows (expected scp=allow, rcp=allow or session-policy=none)"
)]
pub struct AssumeError(pub String);

impl Assumption {
    pub const ALL: [Assumption; 3] = [
        Assumption::ScpAllow,
        Assumption::RcpAllow,
        Assumption::SessionPolicyNone,
    ];

    /// As written on the command line and in snapshots: `scp=allow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Assumption::ScpAllow => "scp=allow",
            Assumption::RcpAllow => "rcp=allow",
            Assumption::SessionPolicyNone => "session-policy=none",
        }
    }

    /// The link it stands in for.
    pub fn link(self) -> LinkId {
        match self {
            Assumption::ScpAllow => LinkId::Scp,
            Assumption::RcpAllow => LinkId::Rcp,
            Assumption::SessionPolicyNone => LinkId::SessionPolicy,
        }
    }

    /// The assumption for `link`, if any.
    pub fn for_link(link: LinkId) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|assumption| assumption.link() == link)
    }

    /// Parses a comma-separated list (`scp=allow,rcp=allow`); empty items
    /// are ignored, anything unknown is an error.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, AssumeError> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect()
    }

    /// What it says about one subject, for a link and the verdict line:
    /// `the SCPs of account 222222222222 allow`.
    pub(crate) fn statement(self, subject: &str) -> String {
        match self {
            Assumption::ScpAllow => format!("the SCPs of account {subject} allow"),
            Assumption::RcpAllow => format!("the RCPs of account {subject} allow"),
            Assumption::SessionPolicyNone => {
                format!("the session `{subject}` has no session policy")
            }
        }
    }
}

impl FromStr for Assumption {
    type Err = AssumeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let normalised = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|assumption| assumption.as_str() == normalised)
            .ok_or_else(|| AssumeError(text.trim().to_string()))
    }
}

impl fmt::Display for Assumption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Assumption {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Assumption {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "unknown assumption `{text}`, expected scp=allow, rcp=allow or session-policy=none"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_case_insensitively_and_in_lists() {
        assert_eq!(
            Assumption::parse_list("scp=allow, RCP=Allow,,session-policy=none"),
            Ok(vec![
                Assumption::ScpAllow,
                Assumption::RcpAllow,
                Assumption::SessionPolicyNone
            ])
        );
        for bad in [
            "scp=deny",
            "scp",
            "key-policy=allow",
            "session-policy=allow",
            "identity-policy=allow",
        ] {
            assert!(Assumption::parse_list(bad).is_err(), "{bad}");
        }
    }
}
