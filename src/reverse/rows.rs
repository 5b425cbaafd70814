//! The row set of `who-can`: which principals are asked about. Every
//! principal entry of the snapshot; the root user of every account the
//! snapshot knows (standing for any principal of that account whose own
//! policies allow, when the account's principals were not read); every
//! role session the snapshot names; every service principal and `"*"`
//! named in an Allow of the bucket's, the access point's or a bucket key's
//! policy. Deterministic order: by account, then kind, then ARN.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::chain::JudgeError;
use crate::policy::Effect;
use crate::policy::Policy;
use crate::policy::arn::{ANONYMOUS, Principal, PrincipalKind, is_account_id};
use crate::snapshot::admit::named_account;
use crate::snapshot::lazy::{arn_account, is_session};
use crate::snapshot::{BucketInfo, Field, KeyInfo, PolicyKind, Snapshot};

use super::who_can::WhoCanRequest;

/// What a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowKind {
    /// An account's root user; also any principal of the account whose own
    /// policies allow, when those principals were not read.
    Root,
    User,
    /// A user whose identity policies come (partly) from its groups.
    GroupMember,
    /// A role, judged as a session of it (as `check` judges a role ARN).
    Role,
    /// A role session or federated-user session named by the snapshot.
    Session,
    /// An AWS service calling as its own service principal.
    Service,
    /// `"*"` in an Allow: judged as an unsigned request.
    Anyone,
}

impl RowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Root => "root",
            RowKind::User => "user",
            RowKind::GroupMember => "group-member",
            RowKind::Role => "role",
            RowKind::Session => "session",
            RowKind::Service => "service",
            RowKind::Anyone => "anyone",
        }
    }
}

/// One principal to judge, before it is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSource {
    /// What `check --principal` is given for it.
    pub principal: String,
    /// None for a service principal and for `"*"`.
    pub account: Option<String>,
    pub kind: RowKind,
    /// Why the row is there when its principal is not a snapshot entry.
    pub note: Option<String>,
}

/// The principals who-can judges for `request`, in the order it lists
/// them. Refuses a request `check` would refuse for every principal (a
/// bucket or access point not in the snapshot).
pub fn rows(snapshot: &Snapshot, request: &WhoCanRequest) -> Result<Vec<String>, JudgeError> {
    Ok(sources(snapshot, request)?
        .into_iter()
        .map(|source| source.principal)
        .collect())
}

/// [`rows`] with what each row stands for.
pub fn sources(snapshot: &Snapshot, request: &WhoCanRequest) -> Result<Vec<RowSource>, JudgeError> {
    let bucket = snapshot
        .buckets
        .iter()
        .find(|bucket| bucket.name == request.bucket);
    let access_point = request
        .access_point
        .as_deref()
        .and_then(|wanted| snapshot.access_point(wanted));
    let (Some(bucket), true) = (
        bucket,
        request.access_point.is_none() || access_point.is_some(),
    ) else {
        // The judge words the refusal (with its "did you mean"), the same
        // for every principal: asked for the bucket owner's root.
        let probe = super::who_can::check_request(request, "arn:aws:iam::000000000000:root");
        crate::chain::judge(snapshot, &probe)?;
        return Ok(Vec::new());
    };
    let mut found = Found::default();
    for info in &snapshot.principals {
        let Ok(principal) = Principal::parse_caller(&info.arn) else {
            continue;
        };
        let kind = match &principal.kind {
            PrincipalKind::Root => RowKind::Root,
            PrincipalKind::User { .. } if from_groups(info) => RowKind::GroupMember,
            PrincipalKind::User { .. } => RowKind::User,
            PrincipalKind::AssumedRole {
                session_arn: None, ..
            } => RowKind::Role,
            PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser { .. } => {
                RowKind::Session
            }
            PrincipalKind::Service { .. } => RowKind::Service,
            PrincipalKind::Anonymous | PrincipalKind::CloudFrontOai { .. } => continue,
        };
        found.add(&info.arn, Some(principal.account.clone()), kind, None);
    }
    let partition = snapshot.partition().unwrap_or("aws").to_string();
    let mut accounts: BTreeSet<String> = snapshot.accounts.keys().cloned().collect();
    accounts.insert(bucket.account.clone());
    accounts.extend(
        snapshot
            .keys
            .iter()
            .filter_map(|key| arn_account(&key.arn).map(str::to_string)),
    );
    accounts.extend(
        snapshot
            .principals
            .iter()
            .filter_map(|info| arn_account(&info.arn).map(str::to_string)),
    );
    accounts.extend(
        snapshot
            .access_points
            .iter()
            .flat_map(|point| [point.account.clone(), point.bucket_account.clone()]),
    );
    // Sessions named anywhere, and accounts a resource policy grants to.
    // Only resource-based policies (RCPs among them) and trust policies
    // have a `Principal` element (IAM User Guide, "AWS JSON policy
    // elements: Principal": it cannot be used in an identity-based
    // policy), so identity policies, boundaries, session policies and SCPs
    // are not read.
    let rcps = snapshot
        .accounts
        .values()
        .filter_map(|account| account.rcps.known())
        .flatten()
        .flatten()
        .map(|named| &named.document);
    let resource_policies = snapshot
        .buckets
        .iter()
        .map(|bucket| &bucket.policy)
        .chain(snapshot.keys.iter().map(|key| &key.policy))
        .chain(snapshot.principals.iter().map(|info| &info.trust_policy))
        .chain(snapshot.access_points.iter().map(|point| &point.policy))
        .filter_map(Field::known)
        .chain(rcps);
    for doc in resource_policies {
        for statement in doc.policy.statements() {
            let Some((_, element)) = statement.principal_element() else {
                continue;
            };
            for named in aws_values(&element) {
                if let Some(account) = named_account(named) {
                    accounts.insert(account);
                }
                if is_session(named) {
                    found.add_session(named, "named in a policy's Principal");
                }
            }
        }
    }
    if let Field::Some(credentials) = &snapshot.credentials {
        for session in credentials.keys() {
            found.add_session(session, "named in the snapshot's credentials");
        }
    }
    for key in &snapshot.keys {
        if let Field::Some(grants) = &key.grants {
            for grant in grants {
                for named in std::iter::once(&grant.grantee).chain(&grant.retiring_principal) {
                    if let Some(account) = named_account(named) {
                        accounts.insert(account);
                    }
                    if is_session(named) {
                        found.add_session(named, "named in a KMS grant");
                    }
                }
            }
        }
    }
    if let Some(caller) = &snapshot.caller
        && is_session(caller)
    {
        found.add_session(caller, "the snapshot's recorded caller");
    }
    let read: BTreeSet<String> = found
        .rows
        .values()
        .filter(|row| row.kind != RowKind::Root)
        .filter_map(|row| row.account.clone())
        .collect();
    for account in accounts.iter().filter(|account| is_account_id(account)) {
        let arn = format!("arn:{partition}:iam::{account}:root");
        let note = if read.contains(account) {
            None
        } else {
            Some(format!(
                "stands for any principal of account {account} whose own policies allow: the account's principals were not read"
            ))
        };
        found.add(&arn, Some(account.clone()), RowKind::Root, note);
    }
    // Services and "*" in an Allow of the policies on the request's path.
    let mut on_path: Vec<(String, &Policy)> = Vec::new();
    if let Field::Some(doc) = &bucket.policy {
        on_path.push(("the bucket policy".to_string(), &doc.policy));
    }
    if let Some(point) = access_point
        && let Field::Some(doc) = &point.policy
    {
        on_path.push((
            format!("the policy of access point `{}`", point.arn),
            &doc.policy,
        ));
    }
    for key in keys_of(snapshot, bucket) {
        if let Field::Some(doc) = &key.policy {
            on_path.push((format!("the key policy of `{}`", key.arn), &doc.policy));
        }
    }
    for (document, policy) in on_path {
        for statement in policy.statements() {
            if statement.effect() != Effect::Allow {
                continue;
            }
            let Some((name, element)) = statement.principal_element() else {
                continue;
            };
            if name != "Principal" {
                continue;
            }
            let value = statement.to_value();
            let conditions = condition_words(value.get("Condition"));
            let place = match statement.sid() {
                Some(sid) => format!("statement `{sid}` of {document}"),
                None => format!("statement {} of {document}", statement.index()),
            };
            let note = |what: &str| match &conditions {
                Some(conditions) => {
                    format!("{what} in {place}, with conditions on {conditions}")
                }
                None => format!("{what} in {place}, without conditions"),
            };
            for service in service_values(&element) {
                if Principal::parse_caller(service).is_ok() {
                    found.add(
                        service,
                        None,
                        RowKind::Service,
                        Some(note("named in an Allow")),
                    );
                }
            }
            if names_anyone(&element) {
                found.add(
                    ANONYMOUS,
                    None,
                    RowKind::Anyone,
                    Some(note(
                        "`\"*\"` (anyone, judged as an unsigned request) allowed",
                    )),
                );
                // "*" admits signed callers of every account too, and an
                // unsigned request is refused SSE-KMS objects whatever the
                // policies say: without this row, a bucket readable by any
                // AWS account would list nobody outside the known ones.
                let outsider = outsider_account(&accounts);
                found.add(
                    &format!("arn:{partition}:iam::{outsider}:root"),
                    Some(outsider.clone()),
                    RowKind::Root,
                    Some(note(
                        "`\"*\"` allowed: this root stands for any AWS principal of an account the snapshot does not hold",
                    )),
                );
            }
        }
    }
    let mut rows: Vec<RowSource> = found.rows.into_values().collect();
    rows.sort_by(|a, b| {
        (a.account.is_none(), &a.account, a.kind, &a.principal).cmp(&(
            b.account.is_none(),
            &b.account,
            b.kind,
            &b.principal,
        ))
    });
    Ok(rows)
}

/// Rows by principal: the first reason a principal is listed is kept.
#[derive(Default)]
struct Found {
    rows: BTreeMap<String, RowSource>,
}

impl Found {
    fn add(
        &mut self,
        principal: &str,
        account: Option<String>,
        kind: RowKind,
        note: Option<String>,
    ) {
        self.rows
            .entry(principal.to_string())
            .or_insert_with(|| RowSource {
                principal: principal.to_string(),
                account,
                kind,
                note,
            });
    }

    fn add_session(&mut self, arn: &str, why: &str) {
        let Ok(principal) = Principal::parse_caller(arn) else {
            return;
        };
        self.add(
            arn,
            Some(principal.account),
            RowKind::Session,
            Some(why.to_string()),
        );
    }
}

/// A user whose identity policies include its groups' policies.
fn from_groups(info: &crate::snapshot::PrincipalInfo) -> bool {
    info.policies.known().is_some_and(|policies| {
        policies.iter().any(|policy| {
            matches!(
                policy.kind,
                Some(PolicyKind::GroupInline | PolicyKind::GroupManaged)
            )
        })
    })
}

/// The `AWS` values of a principal element, as written.
fn aws_values(element: &Value) -> Vec<&str> {
    element_values(element, "AWS")
}

fn service_values(element: &Value) -> Vec<&str> {
    element_values(element, "Service")
}

fn element_values<'v>(element: &'v Value, wanted: &str) -> Vec<&'v str> {
    let Value::Object(map) = element else {
        return Vec::new();
    };
    map.iter()
        .filter(|(kind, _)| kind.as_str() == wanted)
        .flat_map(|(_, values)| match values {
            Value::String(text) => vec![text.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// An account id the snapshot knows nothing of: the smallest one not in
/// `known`, so the row is the same on every run.
fn outsider_account(known: &BTreeSet<String>) -> String {
    (0u64..)
        .map(|number| format!("{number:012}"))
        .find(|account| !known.contains(account))
        .unwrap_or_default()
}

/// `"Principal": "*"` or `"Principal": {"AWS": "*"}` (IAM User Guide, "AWS
/// JSON policy elements: Principal", anonymous users).
fn names_anyone(element: &Value) -> bool {
    element.as_str() == Some("*") || aws_values(element).contains(&"*")
}

/// `StringEquals aws:SourceAccount, ArnLike aws:SourceArn`, or None.
fn condition_words(condition: Option<&Value>) -> Option<String> {
    let Some(Value::Object(operators)) = condition else {
        return None;
    };
    let words: Vec<String> = operators
        .iter()
        .flat_map(|(operator, keys)| {
            keys.as_object()
                .into_iter()
                .flat_map(|keys| keys.keys())
                .map(move |key| format!("{operator} {key}"))
        })
        .collect();
    (!words.is_empty()).then(|| words.join(", "))
}

/// The keys the bucket uses: its default key and the keys of its known
/// objects, as the snapshot holds them (by ARN, key id or alias).
fn keys_of<'s>(snapshot: &'s Snapshot, bucket: &BucketInfo) -> Vec<&'s KeyInfo> {
    let mut wanted: Vec<&str> = Vec::new();
    wanted.extend(
        bucket
            .encryption
            .known()
            .and_then(|encryption| encryption.key.as_deref()),
    );
    wanted.extend(bucket.objects.iter().filter_map(|object| {
        object
            .encryption
            .known()
            .and_then(|encryption| encryption.key.as_deref())
    }));
    // SSE-KMS with no key named uses the AWS managed key `aws/s3` (S3 User
    // Guide, "Using server-side encryption with AWS KMS keys").
    let managed = std::iter::once(bucket.encryption.known())
        .chain(
            bucket
                .objects
                .iter()
                .map(|object| object.encryption.known()),
        )
        .flatten()
        .any(|encryption| encryption.uses_kms() && encryption.key.is_none());
    if managed {
        wanted.push("alias/aws/s3");
    }
    snapshot
        .keys
        .iter()
        .filter(|key| {
            wanted.iter().any(|name| {
                key.arn == *name
                    || key.arn.rsplit('/').next() == Some(name)
                    || key.aliases.iter().any(|alias| {
                        alias == name
                            || name.rsplit_once(':').is_some_and(|(_, tail)| tail == alias)
                    })
            })
        })
        .collect()
}
