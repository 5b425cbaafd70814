//! Which accounts a bucket's resource policies, and the trust policies of
//! the roles that reach it, can let in: the accounts a lazily loaded
//! directory snapshot must load for who-can to list every principal that
//! is not denied. Where a policy could let in an account it does not name
//! (`"*"`, `NotPrincipal`, a canonical user, a document not read), the
//! answer is every account.

use std::collections::BTreeSet;

use serde_json::Value;

use super::lazy::arn_account;
use super::{AccessPointInfo, BucketInfo, Field, PolicyDoc, Snapshot};
use crate::policy::Effect;
use crate::policy::arn::{Principal, PrincipalKind, is_account_id};

/// The accounts a set of policies can let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// Only principals of these accounts (and principals named by ARN in
    /// them) can be let in.
    Accounts(BTreeSet<String>),
    /// Any account could be: why.
    Everyone(String),
}

impl Admitted {
    fn add(&mut self, other: Admitted) {
        match (&mut *self, other) {
            (Admitted::Everyone(_), _) => {}
            (_, everyone @ Admitted::Everyone(_)) => *self = everyone,
            (Admitted::Accounts(mine), Admitted::Accounts(theirs)) => mine.extend(theirs),
        }
    }
}

/// The accounts S3 can let at bucket `bucket` (through `access_point`
/// when given): its owner, the access point's accounts, the accounts of
/// the keys and owners of its objects, and every account its bucket
/// policy or the access point policy allows by name.
///
/// A principal of any other account is denied by S3 whatever its own
/// policies say: for a request across accounts, the bucket's account must
/// allow it in a resource-based policy as well (IAM User Guide,
/// "Cross-account policy evaluation logic"), and an access point's
/// requests need both its own policy and the bucket's (S3 User Guide,
/// "Configuring IAM policies for using access points"). KMS only narrows
/// that further, so key policies and grants add no account.
pub fn bucket_side(bucket: &BucketInfo, access_point: Option<&AccessPointInfo>) -> Admitted {
    let mut admitted = Admitted::Accounts(BTreeSet::from([bucket.account.clone()]));
    admitted.add(policy_admits(&bucket.policy, "the bucket policy"));
    if let Some(point) = access_point {
        admitted.add(Admitted::Accounts(BTreeSet::from([
            point.account.clone(),
            point.bucket_account.clone(),
        ])));
        admitted.add(policy_admits(&point.policy, "the access point policy"));
    }
    let mut named = BTreeSet::new();
    for key in key_names(bucket) {
        named.extend(arn_account(&key).map(str::to_string));
    }
    for object in &bucket.objects {
        if let Field::Some(owner) = &object.owner
            && is_account_id(owner)
        {
            named.insert(owner.clone());
        }
        if let Field::Some(acl) = &object.acl {
            named.extend(
                acl.iter()
                    .filter(|grant| is_account_id(&grant.grantee))
                    .map(|grant| grant.grantee.clone()),
            );
        }
    }
    admitted.add(Admitted::Accounts(named));
    admitted
}

/// The keys the bucket's encryption and its known objects name (ARN, key
/// id, alias name or alias ARN), and `alias/aws/s3` where SSE-KMS names
/// none (S3 User Guide, "Using server-side encryption with AWS KMS keys").
pub fn key_names(bucket: &BucketInfo) -> Vec<String> {
    let encryptions = std::iter::once(bucket.encryption.known()).chain(
        bucket
            .objects
            .iter()
            .map(|object| object.encryption.known()),
    );
    let mut names = Vec::new();
    for encryption in encryptions.flatten() {
        match &encryption.key {
            Some(key) => names.push(key.clone()),
            None if encryption.uses_kms() => names.push("alias/aws/s3".to_string()),
            None => {}
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The accounts whose principals the trust policies of the roles of
/// `accounts` can let assume them: the next hop of a role chain.
pub fn trusted_by_roles(snapshot: &Snapshot, accounts: &BTreeSet<String>) -> Admitted {
    let mut admitted = Admitted::Accounts(BTreeSet::new());
    for info in &snapshot.principals {
        let Ok(principal) = Principal::parse_caller(&info.arn) else {
            continue;
        };
        let is_role = matches!(
            principal.kind,
            PrincipalKind::AssumedRole {
                session_arn: None,
                ..
            }
        );
        if !is_role || !accounts.contains(&principal.account) {
            continue;
        }
        admitted.add(policy_admits(
            &info.trust_policy,
            &format!("the trust policy of `{}`", info.arn),
        ));
        if matches!(admitted, Admitted::Everyone(_)) {
            break;
        }
    }
    admitted
}

/// The accounts the Allow statements of `policy` name in `Principal`.
fn policy_admits(policy: &Field<PolicyDoc>, what: &str) -> Admitted {
    let doc = match policy {
        Field::Some(doc) => doc,
        Field::None => return Admitted::Accounts(BTreeSet::new()),
        Field::Unknown => return Admitted::Everyone(format!("{what} was not read")),
    };
    let mut accounts = BTreeSet::new();
    for statement in doc.policy.statements() {
        if statement.effect() != Effect::Allow {
            continue;
        }
        let Some((name, element)) = statement.principal_element() else {
            continue;
        };
        if name == "NotPrincipal" {
            return Admitted::Everyone(format!("{what} allows with `NotPrincipal`"));
        }
        // IAM User Guide, "AWS JSON policy elements: Principal": `"*"` and
        // `{"AWS": "*"}` name everyone, whatever the conditions narrow.
        let entries: Vec<(&str, &Value)> = match &element {
            Value::Object(map) => map
                .iter()
                .map(|(kind, value)| (kind.as_str(), value))
                .collect(),
            other => vec![("AWS", other)],
        };
        for (kind, value) in entries {
            for named in super::lazy::principal_strings(value) {
                match kind {
                    "Service" => {}
                    "AWS" | "Federated" => {
                        if let Some(account) = named_account(named) {
                            accounts.insert(account);
                        } else if kind == "AWS" || named == "*" {
                            return Admitted::Everyone(format!("{what} allows `{named}`"));
                        }
                    }
                    _ => {
                        return Admitted::Everyone(format!(
                            "{what} allows the {kind} principal `{named}`"
                        ));
                    }
                }
            }
        }
    }
    Admitted::Accounts(accounts)
}

/// The account an `AWS` or `Federated` principal value names: an account
/// id or an ARN of the account.
pub(crate) fn named_account(value: &str) -> Option<String> {
    if is_account_id(value) {
        return Some(value.to_string());
    }
    value
        .starts_with("arn:")
        .then(|| arn_account(value))
        .flatten()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn bucket(policy: &str) -> BucketInfo {
        let text = format!(
            r#"{{"format": "kms-s3-doctor/snapshot@1", "buckets": [{{"name": "b", "account": "111111111111",
                "encryption": {{"algorithm": "aws:kms"}}, "policy": {policy}}}]}}"#
        );
        Snapshot::parse("test", &text).unwrap().buckets.remove(0)
    }

    fn allowing(principal: &str) -> String {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {principal},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}]}}"#
        )
    }

    fn accounts(list: &[&str]) -> Admitted {
        Admitted::Accounts(list.iter().map(|account| account.to_string()).collect())
    }

    #[test]
    fn a_bucket_lets_in_its_owner_and_the_accounts_its_policy_names() {
        assert_eq!(
            bucket_side(&bucket("null"), None),
            accounts(&["111111111111"])
        );
        let named = allowing(
            r#"{"AWS": ["222222222222", "arn:aws:iam::333333333333:role/r", "arn:aws:sts::444444444444:assumed-role/r/s"]}"#,
        );
        assert_eq!(
            bucket_side(&bucket(&named), None),
            accounts(&[
                "111111111111",
                "222222222222",
                "333333333333",
                "444444444444"
            ])
        );
        // A service lets in no account; a Deny lets in nobody.
        let service = allowing(r#"{"Service": "cloudtrail.amazonaws.com"}"#);
        assert_eq!(
            bucket_side(&bucket(&service), None),
            accounts(&["111111111111"])
        );
        let deny = named.replace("Allow", "Deny");
        assert_eq!(
            bucket_side(&bucket(&deny), None),
            accounts(&["111111111111"])
        );
        // SSE-KMS without a key named uses `aws/s3`.
        assert_eq!(key_names(&bucket("null")), ["alias/aws/s3"]);
    }

    #[test]
    fn everyone_where_a_policy_can_let_in_an_account_it_does_not_name() {
        for principal in [
            r#""*""#,
            r#"{"AWS": "*"}"#,
            r#"{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#,
            r#"{"AWS": "AIDAJQABLZS4A3QDU576Q"}"#,
        ] {
            let admitted = bucket_side(&bucket(&allowing(principal)), None);
            assert!(matches!(admitted, Admitted::Everyone(_)), "{principal}");
        }
        let negated = allowing(r#"{"AWS": "222222222222"}"#).replace("Principal", "NotPrincipal");
        assert!(matches!(
            bucket_side(&bucket(&negated), None),
            Admitted::Everyone(_)
        ));
        // A bucket policy not read could name anyone.
        let mut unread = bucket("null");
        unread.policy = Field::Unknown;
        assert!(matches!(bucket_side(&unread, None), Admitted::Everyone(_)));
    }
}
