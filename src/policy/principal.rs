//! The `Principal` and `NotPrincipal` elements: parsing the principal kinds
//! AWS accepts and matching them against the caller.
//!
//! Rules from the IAM User Guide, "AWS JSON policy elements: Principal": an
//! account id and `arn:aws:iam::ACCT:root` both name the account (and
//! delegate to its IAM policies); a role ARN covers every session of the
//! role; an assumed-role session ARN names one session; wildcards cannot
//! stand for part of a principal ARN; a principal shown as a unique id
//! (`AIDA...`, `AROA...`) was deleted and matches nobody.
//! "AWS JSON policy elements: NotPrincipal": a caller is checked as its
//! account, then its user or role, then its role session; to be spared by a
//! `Deny` with `NotPrincipal` every one of them must be listed, and such a
//! `Deny` always applies to a principal with a permissions boundary.

use crate::policy::arn::{Arn, is_account_id};

use super::logic::{and, not, or};
use super::{Caller, PrincipalMatch, Tri};

/// One principal named by a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `"*"` (as the whole element or as an `AWS` value).
    Anyone,
    /// `"111122223333"` (partition: the document's own, None here) or
    /// `arn:aws:iam::111122223333:root` (partition `aws`): an account of
    /// another partition is another account.
    Account(String, Option<String>),
    /// An IAM user ARN or a federated-user ARN: compared with the caller's
    /// principal ARN.
    User(String),
    /// An IAM role ARN (with its path).
    Role(String),
    /// An assumed-role session ARN.
    Session {
        arn: String,
        account: String,
        role_name: String,
    },
    /// `Service` principal (`s3.amazonaws.com`).
    Service(String),
    /// A unique id of a deleted principal, a `Federated` identity provider
    /// or a `CanonicalUser`: the tool's callers are never one of these.
    Nobody,
}

/// A parsed `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principals {
    entries: Vec<Entry>,
    /// The element as written, as compact JSON text (for serialisation):
    /// a large document holds one per statement, and a JSON tree of a
    /// one-entry object costs ten times its text.
    raw: Box<str>,
}

/// Why a principal element is malformed: (JSON pointer suffix, message).
pub(crate) type PrincipalError = (String, String);

impl Principals {
    /// The element as written.
    pub(crate) fn raw(&self) -> serde_json::Value {
        serde_json::from_str(&self.raw).unwrap_or(serde_json::Value::Null)
    }

    /// Parses the element's value.
    pub(crate) fn parse(value: &serde_json::Value) -> Result<Self, PrincipalError> {
        let mut entries = Vec::new();
        match value {
            serde_json::Value::String(text) if text == "*" => entries.push(Entry::Anyone),
            serde_json::Value::Object(map) => {
                for (kind, values) in map {
                    let segment = crate::policy::positions::escape_pointer_segment(kind);
                    for (index, text) in
                        strings(values).map_err(|message| (format!("/{segment}"), message))?
                    {
                        let at = |index: Option<usize>| match index {
                            Some(index) => format!("/{segment}/{index}"),
                            None => format!("/{segment}"),
                        };
                        let entry = match kind.as_str() {
                            "AWS" => aws_entry(text).map_err(|message| (at(index), message))?,
                            "Service" => {
                                if text.is_empty() {
                                    return Err((
                                        at(index),
                                        "a `Service` principal is empty".into(),
                                    ));
                                }
                                Entry::Service(text.to_string())
                            }
                            "Federated" | "CanonicalUser" => {
                                if text.is_empty() {
                                    return Err((
                                        at(index),
                                        format!("a `{kind}` principal is empty"),
                                    ));
                                }
                                Entry::Nobody
                            }
                            other => {
                                return Err((
                                    format!("/{segment}"),
                                    format!(
                                        "unknown principal type `{other}`: expected `AWS`, `Service`, `Federated` or `CanonicalUser`"
                                    ),
                                ));
                            }
                        };
                        entries.push(entry);
                    }
                }
            }
            serde_json::Value::String(text) => {
                return Err((
                    String::new(),
                    format!(
                        "a principal given as a string must be `*`, not `{text}`: use {{\"AWS\": ...}}"
                    ),
                ));
            }
            _ => {
                return Err((
                    String::new(),
                    "a principal is `*` or an object such as {\"AWS\": ...}".into(),
                ));
            }
        }
        entries.shrink_to_fit();
        Ok(Self {
            entries,
            raw: value.to_string().into_boxed_str(),
        })
    }

    /// How `Principal` names the caller. `Tri::Unknown` only for a session ARN
    /// of the caller's role when the session name is not known; the second
    /// value is then the session ARN as written.
    pub(crate) fn matches(&self, caller: &Caller) -> (Tri, Option<PrincipalMatch>, Option<String>) {
        let mut best: Option<PrincipalMatch> = None;
        let mut unknown: Option<&str> = None;
        for entry in &self.entries {
            match entry_matches(entry, caller) {
                (Tri::Yes, Some(kind)) if best.is_none_or(|current| rank(kind) > rank(current)) => {
                    best = Some(kind);
                }
                (Tri::Unknown, _) => {
                    if let Entry::Session { arn, .. } = entry {
                        unknown.get_or_insert(arn.as_str());
                    }
                }
                _ => {}
            }
        }
        match (best, unknown) {
            (Some(kind), _) => (Tri::Yes, Some(kind), None),
            (None, Some(arn)) => (
                Tri::Unknown,
                Some(PrincipalMatch::Session),
                Some(arn.to_string()),
            ),
            (None, None) => (Tri::No, None, None),
        }
    }

    /// Whether a `NotPrincipal` statement applies to the caller: unless every
    /// identity AWS checks for the caller (account; user or role; session) is
    /// listed. The second value names a session ARN the answer hangs on, or
    /// is an [`crate::policy::OPEN_READING`] entry.
    pub(crate) fn not_principal_applies(&self, caller: &Caller) -> (Tri, Option<String>) {
        if self.entries.contains(&Entry::Anyone) {
            return (Tri::No, None);
        }
        let listed = |predicate: &dyn Fn(&Entry) -> bool| tri(self.entries.iter().any(predicate));
        let mut session_unknown = None;
        let spared = if let Some(service) = &caller.service {
            listed(&|entry| matches!(entry, Entry::Service(s) if s.eq_ignore_ascii_case(service)))
        } else {
            let account = listed(&|entry| names_account(entry, caller));
            let identity = if caller.is_role_session {
                let role =
                    listed(&|entry| matches!(entry, Entry::Role(r) if *r == caller.principal_arn));
                let mut session = Tri::No;
                for entry in &self.entries {
                    if let Entry::Session { arn, .. } = entry {
                        let result = session_matches(entry, caller);
                        if result == Tri::Unknown {
                            session_unknown.get_or_insert_with(|| arn.clone());
                        }
                        session = or(session, result);
                    }
                }
                and(role, session)
            } else if is_root(caller) {
                Tri::Yes
            } else {
                listed(&|entry| matches!(entry, Entry::User(u) if *u == caller.principal_arn))
            };
            if account == Tri::No && identity != Tri::No && !is_root(caller) {
                // IAM User Guide, "AWS JSON policy elements: NotPrincipal":
                // "When you use NotPrincipal, you must also specify the
                // account ARN of the principal that isn't denied. Otherwise,
                // the policy might deny access to the entire account
                // containing the principal." "Might": whether the caller,
                // listed without its account, is spared is open.
                let open = format!(
                    "{}`NotPrincipal` naming a principal without its account ARN: AWS \"might deny access to the entire account containing the principal\" (IAM User Guide, \"AWS JSON policy elements: NotPrincipal\")",
                    crate::policy::OPEN_READING
                );
                return (Tri::Unknown, Some(open));
            }
            and(account, identity)
        };
        let applies = not(spared);
        let hangs_on = (applies == Tri::Unknown)
            .then_some(session_unknown)
            .flatten();
        (applies, hangs_on)
    }
}

fn tri(value: bool) -> Tri {
    if value { Tri::Yes } else { Tri::No }
}

/// Which match to report when several entries name the caller: the most
/// direct one.
fn rank(kind: PrincipalMatch) -> u8 {
    match kind {
        PrincipalMatch::Session => 6,
        PrincipalMatch::User => 5,
        PrincipalMatch::Role => 4,
        PrincipalMatch::Service => 3,
        PrincipalMatch::Account => 2,
        PrincipalMatch::Wildcard => 1,
        PrincipalMatch::NotPrincipal => 0,
    }
}

/// An account entry names the caller's account only in the caller's
/// partition: `arn:aws-cn:iam::ACCT:root` is not `arn:aws:iam::ACCT:root`.
/// A bare account id is in the document's own partition, which is the
/// resource's; a caller of another partition could not reach the resource,
/// which the chain refuses before any policy is read.
fn names_account(entry: &Entry, caller: &Caller) -> bool {
    match entry {
        Entry::Account(account, partition) => {
            *account == caller.account
                && partition.as_deref().is_none_or(|partition| {
                    crate::policy::arn::partition_of(&caller.principal_arn) == Some(partition)
                })
        }
        _ => false,
    }
}

fn is_root(caller: &Caller) -> bool {
    caller.principal_arn.ends_with(":root") && !caller.is_role_session
}

fn entry_matches(entry: &Entry, caller: &Caller) -> (Tri, Option<PrincipalMatch>) {
    let yes = |kind| (Tri::Yes, Some(kind));
    match entry {
        Entry::Anyone => yes(PrincipalMatch::Wildcard),
        Entry::Service(service) => match &caller.service {
            Some(own) if own.eq_ignore_ascii_case(service) => yes(PrincipalMatch::Service),
            _ => (Tri::No, None),
        },
        _ if caller.service.is_some() => (Tri::No, None),
        Entry::Account(..) if names_account(entry, caller) => yes(PrincipalMatch::Account),
        Entry::User(arn) if *arn == caller.principal_arn && !caller.is_role_session => {
            yes(PrincipalMatch::User)
        }
        Entry::Role(arn) if caller.is_role_session && *arn == caller.principal_arn => {
            yes(PrincipalMatch::Role)
        }
        Entry::Session { .. } => match session_matches(entry, caller) {
            Tri::Yes => yes(PrincipalMatch::Session),
            Tri::Unknown => (Tri::Unknown, Some(PrincipalMatch::Session)),
            Tri::No => (Tri::No, None),
        },
        _ => (Tri::No, None),
    }
}

/// A session ARN against the caller: equal session ARNs match; a session of
/// the caller's role when the caller's session name is not known is unknown.
fn session_matches(entry: &Entry, caller: &Caller) -> Tri {
    let Entry::Session {
        arn,
        account,
        role_name,
    } = entry
    else {
        return Tri::No;
    };
    if !caller.is_role_session {
        return Tri::No;
    }
    match &caller.session_arn {
        Some(own) => tri(own == arn),
        None => {
            // The role's name is the last segment of its ARN (after its path).
            let caller_role = caller.principal_arn.rsplit('/').next().unwrap_or_default();
            let same_partition = crate::policy::arn::partition_of(arn)
                == crate::policy::arn::partition_of(&caller.principal_arn);
            if same_partition && *account == caller.account && caller_role == role_name {
                Tri::Unknown
            } else {
                Tri::No
            }
        }
    }
}

/// The strings of a principal value: one string or an array of strings,
/// with their index in the array (None for a lone string).
fn strings(value: &serde_json::Value) -> Result<Vec<(Option<usize>, &str)>, String> {
    match value {
        serde_json::Value::String(text) => Ok(vec![(None, text.as_str())]),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                serde_json::Value::String(text) => Ok((Some(index), text.as_str())),
                _ => Err(format!("principal #{index} is not a string")),
            })
            .collect(),
        _ => Err("a principal list is a string or an array of strings".into()),
    }
}

/// A value of `"AWS"`.
fn aws_entry(text: &str) -> Result<Entry, String> {
    if text == "*" {
        return Ok(Entry::Anyone);
    }
    if is_account_id(text) {
        return Ok(Entry::Account(text.to_string(), None));
    }
    if is_unique_id(text) {
        return Ok(Entry::Nobody);
    }
    if text.contains('*') || text.contains('?') {
        return Err(format!(
            "principal `{text}`: a wildcard cannot stand for part of a principal, only `*` alone"
        ));
    }
    if crate::policy::arn::is_origin_access_identity(text) {
        // CloudFront Developer Guide, "Restrict access to an Amazon S3
        // origin": a legacy origin access identity is named by this ARN in
        // `{"AWS": ...}`; it is the only IAM user of no customer account.
        return Ok(Entry::User(text.to_string()));
    }
    let arn = Arn::parse(text).map_err(|error| error.to_string())?;
    if !is_account_id(&arn.account) {
        return Err(format!(
            "malformed ARN `{text}`: the account is not a 12-digit id"
        ));
    }
    if matches!(arn.service.as_str(), "iam" | "sts") && !arn.region.is_empty() {
        return Err(format!(
            "malformed ARN `{text}`: IAM and STS principal ARNs have no region, not `{}`",
            arn.region
        ));
    }
    let bad_kind = || {
        format!(
            "principal `{text}`: expected an account root, user, role, assumed-role session or federated user"
        )
    };
    match arn.service.as_str() {
        "iam" => {
            if arn.resource == "root" {
                Ok(Entry::Account(arn.account, Some(arn.partition)))
            } else if let Some(rest) = arn.resource.strip_prefix("user/") {
                non_empty_name(text, rest)?;
                Ok(Entry::User(text.to_string()))
            } else if let Some(rest) = arn.resource.strip_prefix("role/") {
                non_empty_name(text, rest)?;
                Ok(Entry::Role(text.to_string()))
            } else {
                Err(bad_kind())
            }
        }
        "sts" => {
            if let Some(rest) = arn.resource.strip_prefix("assumed-role/") {
                match rest.split_once('/') {
                    Some((role, session)) if !role.is_empty() && !session.is_empty() => {
                        Ok(Entry::Session {
                            arn: text.to_string(),
                            account: arn.account,
                            role_name: role.to_string(),
                        })
                    }
                    _ => Err(format!(
                        "malformed ARN `{text}`: an assumed-role ARN is `assumed-role/ROLE/SESSION`"
                    )),
                }
            } else if let Some(name) = arn.resource.strip_prefix("federated-user/") {
                non_empty_name(text, name)?;
                Ok(Entry::User(text.to_string()))
            } else {
                Err(bad_kind())
            }
        }
        _ => Err(bad_kind()),
    }
}

fn non_empty_name(text: &str, path_and_name: &str) -> Result<(), String> {
    if path_and_name.rsplit('/').next().is_none_or(str::is_empty) {
        return Err(format!("malformed ARN `{text}`: the name is empty"));
    }
    Ok(())
}

/// IAM unique ids: `AIDA...` (user), `AROA...` (role) and their kin, shown
/// in a policy once the principal was deleted.
fn is_unique_id(text: &str) -> bool {
    text.len() >= 16
        && text.len() <= 128
        && text.starts_with('A')
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn user() -> Caller {
        Caller {
            account: "222222222222".into(),
            principal_arn: "arn:aws:iam::222222222222:user/dev/ann".into(),
            session_arn: None,
            is_role_session: false,
            service: None,
            has_permissions_boundary: false,
        }
    }

    fn session(name: Option<&str>) -> Caller {
        Caller {
            account: "222222222222".into(),
            principal_arn: "arn:aws:iam::222222222222:role/app/etl".into(),
            session_arn: name
                .map(|name| format!("arn:aws:sts::222222222222:assumed-role/etl/{name}")),
            is_role_session: true,
            service: None,
            has_permissions_boundary: false,
        }
    }

    fn root() -> Caller {
        Caller {
            principal_arn: "arn:aws:iam::222222222222:root".into(),
            ..user()
        }
    }

    fn service() -> Caller {
        Caller {
            account: String::new(),
            principal_arn: String::new(),
            service: Some("s3.amazonaws.com".into()),
            ..user()
        }
    }

    #[test]
    fn partitions_are_separate() {
        // The same account id in another partition is another account.
        let china_root = principal(json!({"AWS": "arn:aws-cn:iam::222222222222:root"}));
        assert_eq!(china_root.matches(&user()).0, Tri::No);
        assert_eq!(china_root.matches(&root()).0, Tri::No);
        let china_user = Caller {
            principal_arn: "arn:aws-cn:iam::222222222222:user/dev/ann".into(),
            ..user()
        };
        assert_eq!(china_root.matches(&china_user).0, Tri::Yes);
        let aws_root = principal(json!({"AWS": "arn:aws:iam::222222222222:root"}));
        assert_eq!(aws_root.matches(&china_user).0, Tri::No);
        // NotPrincipal listing the other partition's account does not list
        // the user's own: the user is listed without its account, an open
        // reading ("AWS JSON policy elements: NotPrincipal").
        let listed = principal(json!({"AWS": [
            "arn:aws-cn:iam::222222222222:root",
            "arn:aws:iam::222222222222:user/dev/ann"]}));
        assert_eq!(listed.not_principal_applies(&user()).0, Tri::Unknown);
        let other = principal(json!({"AWS": [
            "arn:aws-cn:iam::222222222222:root",
            "arn:aws-cn:iam::222222222222:user/dev/ann"]}));
        assert_eq!(other.not_principal_applies(&user()).0, Tri::Yes);
        // A session of the same role name in another partition.
        let china_session =
            principal(json!({"AWS": "arn:aws-cn:sts::222222222222:assumed-role/etl/s1"}));
        assert_eq!(china_session.matches(&session(None)).0, Tri::No);
    }

    #[test]
    fn region_ful_iam_arns_are_malformed() {
        for text in [
            "arn:aws:iam:eu-west-1:222222222222:root",
            "arn:aws:iam:eu-west-1:222222222222:user/ann",
            "arn:aws:sts:us-east-1:222222222222:assumed-role/etl/s1",
        ] {
            assert!(Principals::parse(&json!({"AWS": text})).is_err(), "{text}");
        }
    }

    fn principal(value: serde_json::Value) -> Principals {
        Principals::parse(&value).unwrap()
    }

    #[test]
    fn principal_kinds_match_as_documented() {
        use PrincipalMatch::*;
        let cases: Vec<(serde_json::Value, Caller, Tri, Option<PrincipalMatch>)> = vec![
            (json!("*"), user(), Tri::Yes, Some(Wildcard)),
            (json!({"AWS": "*"}), session(None), Tri::Yes, Some(Wildcard)),
            (
                json!({"AWS": "222222222222"}),
                user(),
                Tri::Yes,
                Some(Account),
            ),
            (
                json!({"AWS": "arn:aws:iam::222222222222:root"}),
                session(None),
                Tri::Yes,
                Some(Account),
            ),
            (
                json!({"AWS": "arn:aws:iam::222222222222:root"}),
                root(),
                Tri::Yes,
                Some(Account),
            ),
            (json!({"AWS": "111111111111"}), user(), Tri::No, None),
            (
                json!({"AWS": "arn:aws:iam::222222222222:user/dev/ann"}),
                user(),
                Tri::Yes,
                Some(User),
            ),
            // the path is part of the ARN
            (
                json!({"AWS": "arn:aws:iam::222222222222:user/ann"}),
                user(),
                Tri::No,
                None,
            ),
            // a role ARN covers every session of the role
            (
                json!({"AWS": "arn:aws:iam::222222222222:role/app/etl"}),
                session(None),
                Tri::Yes,
                Some(Role),
            ),
            (
                json!({"AWS": "arn:aws:iam::222222222222:role/app/etl"}),
                session(Some("s1")),
                Tri::Yes,
                Some(Role),
            ),
            (
                json!({"AWS": "arn:aws:iam::222222222222:role/etl"}),
                session(None),
                Tri::No,
                None,
            ),
            (
                json!({"AWS": "arn:aws:sts::222222222222:assumed-role/etl/s1"}),
                session(Some("s1")),
                Tri::Yes,
                Some(Session),
            ),
            (
                json!({"AWS": "arn:aws:sts::222222222222:assumed-role/etl/s1"}),
                session(Some("s2")),
                Tri::No,
                None,
            ),
            // the session name is not known: cannot tell
            (
                json!({"AWS": "arn:aws:sts::222222222222:assumed-role/etl/s1"}),
                session(None),
                Tri::Unknown,
                Some(Session),
            ),
            (
                json!({"AWS": "arn:aws:sts::222222222222:assumed-role/other/s1"}),
                session(None),
                Tri::No,
                None,
            ),
            // a deleted principal's unique id matches nobody
            (
                json!({"AWS": "AIDAJQABLZS4A3QDU576Q"}),
                user(),
                Tri::No,
                None,
            ),
            (
                json!({"AWS": "AROADBQP57FF2AEXAMPLE"}),
                session(None),
                Tri::No,
                None,
            ),
            (
                json!({"Service": "s3.amazonaws.com"}),
                service(),
                Tri::Yes,
                Some(Service),
            ),
            (
                json!({"Service": ["kms.amazonaws.com"]}),
                service(),
                Tri::No,
                None,
            ),
            (json!({"AWS": "222222222222"}), service(), Tri::No, None),
            (
                json!({"Federated": "cognito-identity.amazonaws.com"}),
                user(),
                Tri::No,
                None,
            ),
            (
                json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
                user(),
                Tri::No,
                None,
            ),
            // several entries: the most direct one is reported
            (
                json!({"AWS": ["222222222222", "arn:aws:iam::222222222222:user/dev/ann"]}),
                user(),
                Tri::Yes,
                Some(User),
            ),
            (
                json!({"AWS": ["arn:aws:sts::222222222222:assumed-role/etl/s1", "222222222222"]}),
                session(None),
                Tri::Yes,
                Some(Account),
            ),
        ];
        for (value, caller, tri, kind) in cases {
            let (got_tri, got_kind, _) = principal(value.clone()).matches(&caller);
            assert_eq!(
                (got_tri, got_kind),
                (tri, kind),
                "{value} vs {}",
                caller.principal_arn
            );
        }
    }

    #[test]
    fn malformed_principals_are_rejected() {
        let cases = [
            (json!("arn:aws:iam::222222222222:root"), ""),
            (json!(42), ""),
            (json!({"AWS": "arn:aws:iam::2222:root"}), "/AWS"),
            (
                json!({"AWS": ["222222222222", "arn:aws:iam::222222222222:role/*"]}),
                "/AWS/1",
            ),
            (
                json!({"AWS": "arn:aws:iam::222222222222:group/devs"}),
                "/AWS",
            ),
            (json!({"AWS": "arn:aws:s3:::bucket"}), "/AWS"),
            (
                json!({"AWS": "arn:aws:sts::222222222222:assumed-role/etl"}),
                "/AWS",
            ),
            (json!({"AWS": "ann"}), "/AWS"),
            (json!({"AWS": [1]}), "/AWS"),
            (json!({"Aws": "222222222222"}), "/Aws"),
            (json!({"Service": ""}), "/Service"),
        ];
        for (value, path) in cases {
            let error = Principals::parse(&value).unwrap_err();
            assert_eq!(error.0, path, "{value}: {}", error.1);
        }
    }

    #[test]
    fn not_principal_needs_every_identity_of_the_caller() {
        // IAM User Guide, "AWS JSON policy elements: NotPrincipal": list the
        // account with the user; the account, the role and the session for a
        // role session.
        let user_and_account = principal(json!({"AWS": [
            "arn:aws:iam::222222222222:user/dev/ann", "arn:aws:iam::222222222222:root"]}));
        assert_eq!(user_and_account.not_principal_applies(&user()).0, Tri::No);
        // Listed without its account: AWS "might deny access to the entire
        // account containing the principal" — open, so unknown.
        let user_only = principal(json!({"AWS": "arn:aws:iam::222222222222:user/dev/ann"}));
        let (applies, point) = user_only.not_principal_applies(&user());
        assert_eq!(applies, Tri::Unknown);
        assert!(
            point
                .as_deref()
                .and_then(crate::policy::open_reading)
                .is_some_and(|point| point.contains("AWS JSON policy elements: NotPrincipal"))
        );
        let someone_else = principal(json!({"AWS": "arn:aws:iam::222222222222:user/dev/bob"}));
        assert_eq!(someone_else.not_principal_applies(&user()).0, Tri::Yes);
        let account_only = principal(json!({"AWS": "222222222222"}));
        assert_eq!(account_only.not_principal_applies(&user()).0, Tri::Yes);
        assert_eq!(account_only.not_principal_applies(&root()).0, Tri::No);

        let full = principal(json!({"AWS": [
            "arn:aws:sts::222222222222:assumed-role/etl/s1",
            "arn:aws:iam::222222222222:role/app/etl",
            "arn:aws:iam::222222222222:root"]}));
        assert_eq!(full.not_principal_applies(&session(Some("s1"))).0, Tri::No);
        assert_eq!(full.not_principal_applies(&session(Some("s2"))).0, Tri::Yes);
        let (applies, key) = full.not_principal_applies(&session(None));
        assert_eq!(applies, Tri::Unknown);
        assert_eq!(
            key.as_deref(),
            Some("arn:aws:sts::222222222222:assumed-role/etl/s1")
        );
        let role_and_account = principal(json!({"AWS": [
            "arn:aws:iam::222222222222:role/app/etl", "222222222222"]}));
        assert_eq!(
            role_and_account
                .not_principal_applies(&session(Some("s1")))
                .0,
            Tri::Yes
        );

        assert_eq!(
            principal(json!("*")).not_principal_applies(&user()).0,
            Tri::No
        );
        let services = principal(json!({"Service": "s3.amazonaws.com"}));
        assert_eq!(services.not_principal_applies(&service()).0, Tri::No);
        assert_eq!(services.not_principal_applies(&user()).0, Tri::Yes);
    }
}
