//! Finding a principal's documents in the snapshot and describing the
//! principal the way policies match it.

use crate::policy::Caller;
use crate::policy::arn::{Principal, PrincipalKind};
use crate::snapshot::{Field, Lookup, PrincipalInfo, Snapshot};

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
    match snapshot.indexed_principal(principal) {
        Lookup::Found(info) => Some(info),
        // A miss is confirmed by reading every entry: an entry renamed in
        // place since the index was built would be missed otherwise, and a
        // principal taken for absent loses the documents it has.
        Lookup::Absent | Lookup::Stale => find_info_by_scan(snapshot, principal),
    }
}

/// [`find_info`] by reading every entry in order: what the index answers,
/// used when the index no longer describes the snapshot.
fn find_info_by_scan<'s>(
    snapshot: &'s Snapshot,
    principal: &Principal,
) -> Option<&'s PrincipalInfo> {
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
            // A federated user (GetFederationToken) is its own entry: its
            // policies are the calling user's, its `session_policies` the
            // policy passed to GetFederationToken (IAM User Guide,
            // "Requesting temporary security credentials").
            (
                PrincipalKind::FederatedUser { name: a },
                PrincipalKind::FederatedUser { name: b },
            ) => a == b,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every principal a question can name about `snapshot`: each entry's
    /// ARN, a session of each role, each user by name without its path,
    /// each account's root, and names no entry has.
    fn questions(snapshot: &Snapshot) -> Vec<Principal> {
        let mut texts = Vec::new();
        for info in &snapshot.principals {
            texts.push(info.arn.clone());
            let Ok(parsed) = Principal::parse(&info.arn) else {
                continue;
            };
            let account = &parsed.account;
            texts.push(format!("arn:aws:iam::{account}:root"));
            texts.push(format!("arn:aws:iam::{account}:user/nobody-has-this"));
            texts.push(format!("arn:aws:iam::{account}:role/nobody-has-this"));
            match &parsed.kind {
                PrincipalKind::AssumedRole { role_name, .. } => {
                    texts.push(format!(
                        "arn:aws:sts::{account}:assumed-role/{role_name}/session"
                    ));
                }
                PrincipalKind::User { name, .. } => {
                    texts.push(format!("arn:aws:iam::{account}:user/{name}"));
                    texts.push(format!("arn:aws:iam::999999999999:user/{name}"));
                }
                _ => {}
            }
        }
        texts
            .iter()
            .filter_map(|text| Principal::parse(text).ok())
            .collect()
    }

    fn snapshots() -> Vec<(String, Snapshot)> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut found = Vec::new();
        let mut paths = vec![std::path::PathBuf::from(format!("{root}/walkthrough.json"))];
        let scenarios = std::fs::read_dir(format!("{root}/scenarios")).expect("scenarios");
        paths.extend(scenarios.map(|entry| entry.expect("entry").path()));
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("fixture");
            let value: serde_json::Value = serde_json::from_str(&text).expect("json");
            let snapshot_value = value.get("snapshot").cloned().unwrap_or(value);
            let name = path.display().to_string();
            if let Ok(snapshot) = Snapshot::parse(&name, &snapshot_value.to_string()) {
                found.push((name, snapshot));
            }
        }
        found
    }

    fn same(a: Option<&PrincipalInfo>, b: Option<&PrincipalInfo>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }

    #[test]
    fn the_index_finds_what_a_scan_finds_in_every_fixture() {
        let snapshots = snapshots();
        assert!(snapshots.len() > 200, "fixtures were not read");
        let mut found = 0;
        for (name, snapshot) in &snapshots {
            for principal in questions(snapshot) {
                let indexed = find_info(snapshot, &principal);
                let scanned = find_info_by_scan(snapshot, &principal);
                assert!(
                    same(indexed, scanned),
                    "{name}: {principal:?}: index {:?}, scan {:?}",
                    indexed.map(|info| &info.arn),
                    scanned.map(|info| &info.arn)
                );
                found += usize::from(indexed.is_some());
            }
        }
        assert!(found > 100, "too few principals were found to compare");
    }

    #[test]
    fn a_changed_snapshot_is_not_answered_from_the_index_of_its_former_state() {
        let (_, mut snapshot) = snapshots()
            .into_iter()
            .find(|(_, snapshot)| !snapshot.principals.is_empty())
            .expect("a fixture with principals");
        let first = Principal::parse(&snapshot.principals[0].arn).expect("arn");
        assert!(find_info(&snapshot, &first).is_some());
        // Renamed in place without re-identifying: the index is stale.
        snapshot.principals[0].arn = "arn:aws:iam::999999999999:user/renamed".to_string();
        assert!(same(
            find_info(&snapshot, &first),
            find_info_by_scan(&snapshot, &first)
        ));
        // Added and re-identified: the index is rebuilt and finds it.
        let added = "arn:aws:iam::999999999999:user/added";
        snapshot.principals.push(PrincipalInfo::unread(added));
        snapshot.identify_documents();
        let added = Principal::parse(added).expect("arn");
        assert_eq!(
            find_info(&snapshot, &added).map(|info| info.arn.as_str()),
            Some("arn:aws:iam::999999999999:user/added")
        );
    }
}
