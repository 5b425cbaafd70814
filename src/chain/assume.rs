//! How the judge applies the assumptions the user asks for with `--assume
//! LINK=VALUE` (the values themselves are the snapshot's:
//! [`crate::snapshot::Assumption`]), and `--session-policy`. An assumption
//! stands in only for a document that was not read (SCPs or RCPs the
//! profiles could not read, the session policies AWS never shows); it never
//! overrides a document that was read, nor a link that is unknown because
//! of a request-context value. Every link it passes says so (`assumed`),
//! and the report lists each assumption as used or unused.

use crate::diagnosis::{AssumptionUse, LinkId, LinkResult, LinkStatus, OperationResult};
use crate::policy::arn::{Principal, PrincipalKind};
use crate::snapshot::{Assumption, Field, PolicyDoc, PrincipalInfo, Snapshot};

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
        layers: None,
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

/// Why `--session-policy` cannot be used for the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionPolicyError {
    #[error("--session-policy: {0}")]
    Principal(crate::policy::arn::ArnError),
    #[error(
        "--session-policy: `{0}` is not a role or federated-user session, which are the only principals with session policies"
    )]
    NotASession(String),
    /// AWS refuses a session policy with a `Principal` (checked as a
    /// snapshot's session policies are).
    #[error("--session-policy: {0}: {1}")]
    Malformed(String, String),
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
    let doc = crate::snapshot::DocRef::SessionPolicy {
        principal: session.principal_arn(),
        index: 0,
    };
    crate::snapshot::check_principal_element(&doc, &policy.policy)
        .map_err(|(field, message)| SessionPolicyError::Malformed(field, message))?;
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
}
