//! The lifetime of session credentials, by session ARN: what the
//! `authentication` link reads to say whether a presigned URL signed with
//! them can still be valid at the request's time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::arn::{Principal, PrincipalKind};

/// When a session's temporary credentials were issued and when they expire
/// (ISO 8601, as STS reports `Expiration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionCredentials {
    pub issued_at: String,
    pub expires_at: String,
}

impl SessionCredentials {
    /// Both times, parsed; `validate` has refused a snapshot where they do
    /// not parse.
    pub fn times(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((parse_time(&self.issued_at)?, parse_time(&self.expires_at)?))
    }
}

pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// Checks one entry: the key is a session ARN (an assumed-role session with
/// its name, or a federated user), both times parse, and the credentials do
/// not expire before they are issued. Returns the field and the message.
pub(crate) fn validate(session: &str, entry: &SessionCredentials) -> Result<(), (String, String)> {
    // A JSON pointer escapes `~` and `/` in a member name (RFC 6901).
    let member = session.replace('~', "~0").replace('/', "~1");
    let at = |field: &str| format!("/credentials/{member}{field}");
    let is_session = Principal::parse(session).is_ok_and(|principal| {
        matches!(
            principal.kind,
            PrincipalKind::AssumedRole {
                session_name: Some(_),
                ..
            } | PrincipalKind::FederatedUser { .. }
        )
    });
    if !is_session {
        return Err((
            at(""),
            format!(
                "`{session}` is not a session ARN (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` or `arn:aws:sts::ACCT:federated-user/NAME`)"
            ),
        ));
    }
    let mut times = Vec::new();
    for (field, text) in [
        ("/issued_at", &entry.issued_at),
        ("/expires_at", &entry.expires_at),
    ] {
        match parse_time(text) {
            Some(time) => times.push(time),
            None => {
                return Err((
                    at(field),
                    format!("`{text}` is not an ISO 8601 time (`2026-11-22T10:00:00Z`)"),
                ));
            }
        }
    }
    if times[1] < times[0] {
        return Err((
            at("/expires_at"),
            "the credentials expire before they are issued".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(issued_at: &str, expires_at: &str) -> SessionCredentials {
        SessionCredentials {
            issued_at: issued_at.to_string(),
            expires_at: expires_at.to_string(),
        }
    }

    #[test]
    fn only_session_arns_with_ordered_times_are_accepted() {
        let good = entry("2026-11-22T09:00:00Z", "2026-11-22T10:00:00Z");
        let session = "arn:aws:sts::111111111111:assumed-role/etl/nightly";
        assert!(validate(session, &good).is_ok());
        assert!(validate("arn:aws:sts::111111111111:federated-user/bob", &good).is_ok());
        for not_a_session in [
            "arn:aws:iam::111111111111:role/etl",
            "arn:aws:iam::111111111111:user/ann",
            "111111111111",
        ] {
            let (field, message) = validate(not_a_session, &good).unwrap_err();
            assert!(field.starts_with("/credentials/"), "{field}");
            assert!(!field["/credentials/".len()..].contains('/'), "{field}");
            assert!(message.contains("not a session ARN"), "{message}");
        }
        let (field, _) =
            validate(session, &entry("yesterday", "2026-11-22T10:00:00Z")).unwrap_err();
        assert!(field.ends_with("/issued_at"));
        let (field, message) = validate(
            session,
            &entry("2026-11-22T10:00:00Z", "2026-11-22T09:00:00Z"),
        )
        .unwrap_err();
        assert!(field.ends_with("/expires_at"));
        assert!(message.contains("expire before"));
    }
}
