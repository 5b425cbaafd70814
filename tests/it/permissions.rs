//! The policies in `docs/permissions/` against the operations live mode can
//! send: every operation the read-only guard lets through is allowed by one
//! of the policies, nothing else is, and every AWS call written in the
//! gatherer's source is on the guard's list.

use std::collections::BTreeSet;
use std::path::PathBuf;

use kms_s3_doctor::live::READ_OPERATIONS;

const POLICIES: [&str; 4] = [
    "resource-account.json",
    "principal-account.json",
    "organization.json",
    "access-troubleshooter.json",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The actions one policy file allows, after checking it is a plain,
/// read-only identity policy: `Allow` only, no wildcard, no principal, no
/// condition.
fn actions_of(name: &str) -> BTreeSet<String> {
    let path = root().join("docs/permissions").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{name} is not JSON: {error}"));
    assert_eq!(policy["Version"], "2012-10-17", "{name}");
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow", "{name}: {statement}");
        for forbidden in ["NotAction", "NotResource", "Principal", "Condition"] {
            assert!(statement.get(forbidden).is_none(), "{name}: {forbidden}");
        }
        let listed: Vec<String> = match &statement["Action"] {
            serde_json::Value::String(action) => vec![action.clone()],
            serde_json::Value::Array(list) => list
                .iter()
                .map(|action| action.as_str().unwrap().to_string())
                .collect(),
            other => panic!("{name}: Action is {other}"),
        };
        for action in listed {
            assert!(!action.contains('*'), "{name}: wildcard action {action}");
            assert!(actions.insert(action.clone()), "{name}: {action} twice");
        }
    }
    actions
}

#[test]
fn the_policies_allow_exactly_what_live_mode_calls() {
    let needed: BTreeSet<String> = READ_OPERATIONS
        .iter()
        .map(|read| read.action.to_string())
        .collect();
    let mut granted = BTreeSet::new();
    for name in POLICIES {
        granted.extend(actions_of(name));
    }
    let missing: Vec<&String> = needed.difference(&granted).collect();
    let extra: Vec<&String> = granted.difference(&needed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/permissions/ is out of step with the guard's list: missing {missing:?}, not called {extra:?}"
    );
}

#[test]
fn each_policy_holds_its_own_accounts_reads() {
    let services = |name: &str| -> BTreeSet<String> {
        actions_of(name)
            .iter()
            .map(|action| action.split(':').next().unwrap().to_string())
            .collect()
    };
    let resource = services("resource-account.json");
    assert!(
        resource.contains("s3") && resource.contains("kms"),
        "{resource:?}"
    );
    let principal = services("principal-account.json");
    assert!(
        principal.contains("iam") && !principal.contains("s3"),
        "{principal:?}"
    );
    let organization = actions_of("organization.json");
    assert!(
        organization
            .iter()
            .all(|action| action.starts_with("organizations:") || action == "sts:GetCallerIdentity"),
        "{organization:?}"
    );
    // The organization's policies can only be read there.
    for action in [
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
    ] {
        assert!(organization.contains(action));
        assert!(!actions_of("resource-account.json").contains(action));
        assert!(!actions_of("principal-account.json").contains(action));
    }
}

/// `get_bucket_policy` -> `GetBucketPolicy`.
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every SDK call in `src/live/` (`.get_bucket_policy()`, `.list_grants()`,
/// ...) is an operation the guard lets through: a new read added without its
/// entry (and its permission) fails here, not in someone's account.
#[test]
fn every_call_in_the_gatherer_is_on_the_guard_list() {
    let mut calls = BTreeSet::new();
    // The gatherer's folder and its subfolders (the organization sweep's).
    let mut files = Vec::new();
    let mut folders = vec![root().join("src/live")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices('.') {
            let rest = &text[at + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let is_read = ["get_", "list_", "describe_", "head_"]
                .iter()
                .any(|prefix| name.starts_with(prefix));
            if is_read && rest[name.len()..].starts_with("()") {
                calls.insert((
                    path.file_name().unwrap().to_string_lossy().to_string(),
                    name,
                ));
            }
        }
    }
    assert!(calls.len() >= 20, "the scan found too little: {calls:?}");
    let unknown: Vec<String> = calls
        .iter()
        .filter(|(_, name)| {
            !READ_OPERATIONS
                .iter()
                .any(|read| read.operation == camel(name))
        })
        .map(|(file, name)| format!("{file}: .{name}()"))
        .collect();
    assert!(
        unknown.is_empty(),
        "calls not on the guard's list (add them to READ_OPERATIONS and docs/permissions/): {unknown:?}"
    );
}
