//! Validation of the KMS grant fields that name AWS service principals and
//! the grant's life: who the grant is to (an IAM principal or a service
//! principal, never both), and when it was created.

use super::GrantInfo;

/// A grant AWS would not hold is bad input: (JSON pointer, message).
pub(super) fn check(grant: &GrantInfo, at: &str) -> Result<(), (String, String)> {
    match (&grant.grantee_service_principal, grant.grantee.is_empty()) {
        (Some(_), false) => {
            return Err((
                at.to_string(),
                "a grant names either `grantee` or `grantee_service_principal`, not both".into(),
            ));
        }
        (None, true) => {
            return Err((
                format!("{at}/grantee"),
                "a grant needs a `grantee` or a `grantee_service_principal`".into(),
            ));
        }
        (Some(service), true) if !crate::policy::arn::is_service_principal(service) => {
            return Err((
                format!("{at}/grantee_service_principal"),
                format!("`{service}` is not a service principal (`NAME.amazonaws.com`)"),
            ));
        }
        _ => {}
    }
    if let Some(created) = &grant.created_at
        && chrono::DateTime::parse_from_rfc3339(created).is_err()
    {
        return Err((
            format!("{at}/created_at"),
            format!("`{created}` is not an ISO 8601 date and time (`2026-11-22T10:00:00Z`)"),
        ));
    }
    Ok(())
}
