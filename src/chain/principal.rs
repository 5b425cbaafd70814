//! Finding a principal's documents in the snapshot and describing the
//! principal the way policies match it.

use crate::policy::Caller;
use crate::policy::arn::{Principal, PrincipalKind};
use crate::snapshot::{Field, PrincipalInfo, Snapshot};

/// The snapshot's entry for `principal`: users by ARN (path included, or by
/// name within the account), role sessions by their role's name within the
/// account (a session ARN does not show the role's path).
pub(crate) fn find_info<'s>(
    snapshot: &'s Snapshot,
    principal: &Principal,
) -> Option<&'s PrincipalInfo> {
    if !principal.is_iam() {
        // A service, an unsigned caller or an origin access identity has no
        // entry: it holds no IAM documents of a customer account.
        return None;
    }
    snapshot.principals.iter().find(|info| {
        // An entry whose text does not hold the account cannot be in it:
        // skipped without parsing.
        if !info.arn.contains(principal.account.as_str()) {
            return false;
        }
        let Ok(candidate) = Principal::parse(&info.arn) else {
            return false;
        };
        if candidate.account != principal.account {
            return false;
        }
        match (&candidate.kind, &principal.kind) {
            (
                PrincipalKind::User {
                    name: a,
                    arn: a_arn,
                },
                PrincipalKind::User {
                    name: b,
                    arn: b_arn,
                },
            ) => a_arn == b_arn || a == b,
            (
                PrincipalKind::AssumedRole { role_name: a, .. },
                PrincipalKind::AssumedRole { role_name: b, .. },
            ) => a == b,
            (PrincipalKind::Root, PrincipalKind::Root) => true,
            _ => false,
        }
    })
}

/// The principal's `aws:PrincipalArn`, using the snapshot's role ARN (which
/// carries the role's path) when the principal is a role session.
pub(crate) fn principal_arn(principal: &Principal, info: Option<&PrincipalInfo>) -> String {
    match (&principal.kind, info) {
        (PrincipalKind::AssumedRole { .. }, Some(info)) => info.arn.clone(),
        _ => principal.principal_arn(),
    }
}

/// The principal as a resource policy's `Principal` element sees it.
pub(crate) fn caller(principal: &Principal, info: Option<&PrincipalInfo>) -> Caller {
    let (session_arn, is_role_session) = match &principal.kind {
        PrincipalKind::AssumedRole { session_arn, .. } => (session_arn.clone(), true),
        _ => (None, false),
    };
    Caller {
        account: principal.account.clone(),
        principal_arn: principal_arn(principal, info),
        session_arn,
        is_role_session,
        service: principal.service_name().map(str::to_string),
        has_permissions_boundary: matches!(
            info.map(|info| &info.permissions_boundary),
            Some(Field::Some(_))
        ),
    }
}

/// Service-linked roles are exempt from SCPs (their path is `/aws-service-role/`).
pub(crate) fn is_service_linked_role(arn: &str) -> bool {
    arn.contains(":role/aws-service-role/")
}
