//! Assumptions the user asks for with `--assume LINK=VALUE`: what each one
//! means, how it is spelled, and how the judge applies it. An assumption
//! stands in only for a document that was not read (SCPs or RCPs the
//! profiles could not read, the session policies AWS never shows); it never
//! overrides a document that was read, nor a link that is unknown because
//! of a request-context value. Every link it passes says so (`assumed`),
//! and the report lists each assumption as used or unused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::diagnosis::{AssumptionUse, LinkId, LinkResult, LinkStatus, OperationResult, Verdict};
use crate::policy::arn::{Principal, PrincipalKind};
use crate::snapshot::{Field, PolicyDoc, PrincipalInfo, Snapshot};

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

/// The link an assumption passes in place of an unread document: `pass`,
/// with the assumption stated in `assumed` and the reason the document is
/// missing kept in `reason`. `None` when the assumption was not asked for,
/// so the caller keeps its `unknown` link.
pub(crate) fn stand_in(
    assumptions: &[Assumption],
    link: LinkId,
    subject: &str,
    unread_because: &str,
) -> Option<LinkResult> {
    let assumption = Assumption::for_link(link).filter(|wanted| assumptions.contains(wanted))?;
    let statement = assumption.statement(subject);
    Some(LinkResult {
        link,
        status: LinkStatus::Pass,
        reason: format!("assumed: {statement} (--assume {assumption}); {unread_because}"),
        evidence: Vec::new(),
        fix: None,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
        assumed: Some(format!("{statement} (--assume {assumption})")),
    })
}

/// Every requested assumption with whether a link used it and what it was
/// taken to say, in the order of [`Assumption::ALL`].
pub(crate) fn uses(
    assumptions: &[Assumption],
    operations: &[OperationResult],
) -> Vec<AssumptionUse> {
    let mut requested: Vec<Assumption> = assumptions.to_vec();
    requested.sort();
    requested.dedup();
    requested
        .into_iter()
        .map(|assumption| {
            let mut statements: Vec<String> = Vec::new();
            let links = operations
                .iter()
                .flat_map(|operation| &operation.actions)
                .flat_map(|action| &action.links)
                .filter(|link| link.link == assumption.link());
            for link in links {
                if let Some(assumed) = &link.assumed {
                    let statement = assumed
                        .strip_suffix(&format!(" (--assume {assumption})"))
                        .unwrap_or(assumed)
                        .to_string();
                    if !statements.contains(&statement) {
                        statements.push(statement);
                    }
                }
            }
            AssumptionUse {
                assumption: assumption.as_str().to_string(),
                used: !statements.is_empty(),
                statements,
            }
        })
        .collect()
}

/// `, assuming the SCPs of account 222222222222 allow` for the verdict
/// line, or nothing when no assumption was used or the verdict is denied
/// (a denial does not rest on an assumption: assumptions only pass links).
pub fn verdict_clause(verdict: Verdict, uses: &[AssumptionUse]) -> String {
    if verdict == Verdict::Denied {
        return String::new();
    }
    let statements: Vec<&str> = uses
        .iter()
        .flat_map(|used| used.statements.iter().map(String::as_str))
        .collect();
    match statements.as_slice() {
        [] => String::new(),
        [one] => format!(", assuming {one}"),
        [first @ .., last] => format!(", assuming {} and {last}", first.join(", ")),
    }
}

/// Why `--session-policy` cannot be used for the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionPolicyError {
    #[error("--session-policy: {0}")]
    Principal(crate::policy::arn::ArnError),
    #[error(
        "--session-policy: `{0}` is not a role or federated-user session, which are the only principals with session policies"
    )]
    NotASession(String),
}

/// Records `policy` as the session policy of the session the S3 and KMS
/// calls are made as: the `--via-role` session when there is one, else the
/// principal (an assumed-role session, a role, or a federated user). The
/// snapshot then holds it, so a saved capture replays the same way.
pub fn supply_session_policy(
    snapshot: &mut Snapshot,
    principal: &str,
    via_role: Option<&str>,
    policy: PolicyDoc,
) -> Result<(), SessionPolicyError> {
    let target = via_role.unwrap_or(principal);
    let session = Principal::parse(target).map_err(SessionPolicyError::Principal)?;
    if !matches!(
        session.kind,
        PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser { .. }
    ) {
        return Err(SessionPolicyError::NotASession(target.to_string()));
    }
    let found = super::principal::find_info(snapshot, &session).map(|info| info as *const _);
    let index = found.and_then(|found| {
        snapshot
            .principals
            .iter()
            .position(|info| std::ptr::eq(info, found))
    });
    let index = match index {
        Some(index) => index,
        None => {
            snapshot
                .principals
                .push(PrincipalInfo::unread(&session.principal_arn()));
            snapshot.principals.len() - 1
        }
    };
    let info = &mut snapshot.principals[index];
    info.session_policies = Field::Some(vec![policy]);
    info.session_policies_error = None;
    snapshot.identify_documents();
    Ok(())
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

    #[test]
    fn a_stand_in_exists_only_when_asked_for() {
        assert!(stand_in(&[], LinkId::Scp, "222222222222", "not read").is_none());
        assert!(stand_in(&[Assumption::RcpAllow], LinkId::Scp, "222222222222", "x").is_none());
        let link = stand_in(&[Assumption::ScpAllow], LinkId::Scp, "222222222222", "x");
        let link = link.expect("assumed link");
        assert_eq!(link.status, LinkStatus::Pass);
        assert_eq!(
            link.assumed.as_deref(),
            Some("the SCPs of account 222222222222 allow (--assume scp=allow)")
        );
    }

    #[test]
    fn the_verdict_clause_lists_what_was_assumed() {
        let uses = vec![
            AssumptionUse {
                assumption: "scp=allow".to_string(),
                used: true,
                statements: vec!["the SCPs of account 222222222222 allow".to_string()],
            },
            AssumptionUse {
                assumption: "rcp=allow".to_string(),
                used: false,
                statements: Vec::new(),
            },
        ];
        assert_eq!(
            verdict_clause(Verdict::Allowed, &uses),
            ", assuming the SCPs of account 222222222222 allow"
        );
        assert_eq!(verdict_clause(Verdict::Denied, &uses), "");
    }
}
