//! Whether a change weakens a guard. A fix that gets around a guard is the
//! worst thing the tool can hand a person, so every document a change
//! installs is compared with the document as read, and what it gets around
//! is named (`Fix::widens`) so that the reports say it and `--write-fixes`
//! leaves it out of `apply.sh` unless asked.
//!
//! A document weakens a guard when, compared with the one as read:
//! - it no longer holds a `Deny` that was there (the same `Sid`, or without
//!   a `Sid` the same `Principal` and `Action`), or holds it without one of
//!   its condition keys; adding a key (AWS's documented exceptions such as
//!   `aws:ViaAWSService`) only narrows the Deny and is not weakening;
//! - it adds (or changes) an `Allow` whose actions overlap an existing Allow
//!   for the same principal, its account or `*` that is conditioned on a
//!   guard key, without carrying that key.
//!
//! Compared as JSON, on what the document says: no evaluation, so that the
//! check holds whatever the judge concluded.

use serde_json::{Map, Value};

use crate::diagnosis::Diagnosis;
use crate::fixes::merge::base_document;
use crate::snapshot::Snapshot;

/// Sets `widens` on every change whose `document_after` weakens a guard of
/// the document as read, and on the fix of every link it mends. Changes to
/// one document share one `document_after`, installed by one command: they
/// are declared together.
pub(super) fn declare(snapshot: &Snapshot, diagnosis: &mut Diagnosis) {
    for index in 0..diagnosis.changes.len() {
        let change = &diagnosis.changes[index];
        // Changes merged into one document share it, and what it widens:
        // the document as read (it can hold tens of thousands of
        // statements) is written out and compared once.
        if let Some(&first) = change.with_changes.first()
            && first < index
            && diagnosis.changes[first].with_changes == change.with_changes
        {
            diagnosis.changes[index].widens = diagnosis.changes[first].widens.clone();
            continue;
        }
        let (Some(target), Some(after)) = (&change.target, &change.document_after) else {
            continue;
        };
        let Some(before) = base_document(snapshot, target) else {
            continue;
        };
        let widens = weakened(&before, after);
        diagnosis.changes[index].widens = widens;
    }
    for operation in &mut diagnosis.operations {
        for action in &mut operation.actions {
            for link in &mut action.links {
                if let (Some(index), Some(fix)) = (link.change, link.fix.as_mut())
                    && let Some(change) = diagnosis.changes.get(index)
                {
                    fix.widens = change.widens.clone();
                }
            }
        }
    }
}

/// Condition keys that guard a resource or a role (ignoring ASCII case):
/// where the request comes from, how it is made, who may make it.
const GUARD_KEYS: &[&str] = &[
    "sts:externalid",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:securetransport",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "kms:viaservice",
    "kms:calleraccount",
    "s3:x-amz-acl",
    "aws:requestedregion",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:resourceaccount",
    "s3:tlsversion",
];

/// Key prefixes that guard (the SSE headers, the ACL grant headers, the
/// encryption context).
const GUARD_PREFIXES: &[&str] = &[
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-grant-",
    "kms:encryptioncontext",
];

/// Whether `key` is a guard key.
pub fn is_guard_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    GUARD_KEYS.contains(&key.as_str())
        || GUARD_PREFIXES.iter().any(|prefix| key.starts_with(prefix))
}

/// What `after` gets around that `before` guarded: the Deny statements it
/// drops (their `Sid`, or `Deny of ACTIONS to PRINCIPAL` without one) and
/// the condition keys it no longer requires, each once, in the order met.
/// Empty when the change weakens no guard.
pub fn weakened(before: &Value, after: &Value) -> Vec<String> {
    let before = statements(before);
    let after = statements(after);
    let mut out: Vec<String> = Vec::new();
    let mut push = |item: String| {
        if !out.iter().any(|seen| seen.eq_ignore_ascii_case(&item)) {
            out.push(item);
        }
    };
    for deny in before.iter().filter(|statement| is(statement, "Deny")) {
        match after
            .iter()
            .find(|other| is(other, "Deny") && same_deny(deny, other))
        {
            None => push(deny_name(deny)),
            Some(kept) => {
                let keys = condition_keys(kept);
                let mut lost_key = false;
                for key in condition_keys(deny) {
                    if !keys.iter().any(|have| have.eq_ignore_ascii_case(&key)) {
                        lost_key = true;
                        push(key);
                    }
                }
                // Kept under its Sid but with fewer actions, resources or
                // principals, or a condition value changed, it denies less:
                // only added conditions (AWS's documented exceptions) narrow
                // a Deny without weakening it.
                if !lost_key && !only_narrowed(deny, kept) {
                    push(deny_name(deny));
                }
            }
        }
    }
    // Which statements of `after` are not in `before`. A merged document
    // keeps the statements as read in their order, so each is looked for
    // first where the previous one was found: a document of tens of
    // thousands of statements is not compared with itself pair by pair.
    let mut cursor = 0;
    let mut added = Vec::with_capacity(after.len());
    for statement in &after {
        let found = if before.get(cursor) == Some(statement) {
            Some(cursor)
        } else {
            before.iter().position(|other| other == statement)
        };
        if let Some(at) = found {
            cursor = at + 1;
        }
        added.push(found.is_none());
    }
    for allow in after
        .iter()
        .zip(added)
        .filter(|(statement, added)| *added && is(statement, "Allow"))
        .map(|(statement, _)| statement)
    {
        let carried = condition_keys(allow);
        for guarded in before.iter().filter(|statement| is(statement, "Allow")) {
            if !principals_overlap(guarded, allow) || !actions_overlap(guarded, allow) {
                continue;
            }
            for key in condition_keys(guarded) {
                if is_guard_key(&key) && !carried.iter().any(|have| have.eq_ignore_ascii_case(&key))
                {
                    push(key);
                }
            }
        }
    }
    out
}

/// Whether `kept` is `deny` with conditions added and nothing else changed:
/// every other element the same, and every condition of `deny` (operator,
/// key and values) still there. Compared as AWS reads them: a single value
/// is a list of one, and lists are sets (merged documents are written in
/// canonical form).
fn only_narrowed(deny: &Map<String, Value>, kept: &Map<String, Value>) -> bool {
    let same_elements = deny
        .keys()
        .chain(kept.keys())
        .filter(|element| element.as_str() != "Condition")
        .all(|element| same_value(deny.get(element), kept.get(element)));
    let conditions_kept = match deny.get("Condition").map(as_set) {
        None => true,
        Some(Value::Object(operators)) => {
            let kept_operators = kept.get("Condition").map(as_set);
            operators.iter().all(|(operator, keys)| {
                let kept_keys = kept_operators.as_ref().and_then(|kept| kept.get(operator));
                match (keys.as_object(), kept_keys.and_then(Value::as_object)) {
                    (Some(keys), Some(kept_keys)) => keys
                        .iter()
                        .all(|(key, value)| kept_keys.get(key) == Some(value)),
                    _ => kept_keys == Some(keys),
                }
            })
        }
        Some(other) => kept.get("Condition").map(as_set) == Some(other),
    };
    same_elements && conditions_kept
}

fn same_value(a: Option<&Value>, b: Option<&Value>) -> bool {
    a.map(as_set) == b.map(as_set)
}

/// `value` with every single string a list of one and every list sorted.
fn as_set(value: &Value) -> Value {
    match value {
        Value::String(_) => Value::Array(vec![value.clone()]),
        Value::Array(items) => {
            // A list's strings stay strings, as a single string becomes.
            let mut items: Vec<Value> = items
                .iter()
                .map(|item| match item {
                    Value::String(_) => item.clone(),
                    other => as_set(other),
                })
                .collect();
            items.sort_by_key(|item| item.to_string());
            items.dedup();
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), as_set(item)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The statements of a document, one written as an object being a list of one.
fn statements(document: &Value) -> Vec<&Map<String, Value>> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

fn is(statement: &Map<String, Value>, effect: &str) -> bool {
    statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|have| have.eq_ignore_ascii_case(effect))
}

/// Strings of a value that is a string or a list of them, sorted.
fn strings(value: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = match value {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    out.sort_unstable();
    out
}

/// Every principal a statement names (`*` for `"Principal": "*"`); empty for
/// an identity policy's statement, which has none.
fn principals(statement: &Map<String, Value>) -> Vec<String> {
    match statement.get("Principal") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Object(kinds)) => {
            let mut out: Vec<String> = kinds
                .values()
                .flat_map(|value| strings(Some(value)))
                .collect();
            out.sort_unstable();
            out
        }
        _ => Vec::new(),
    }
}

fn actions(statement: &Map<String, Value>) -> Vec<String> {
    strings(statement.get("Action"))
}

/// The same Deny: the same `Sid` when it has one, else the same principals
/// and actions.
fn same_deny(deny: &Map<String, Value>, other: &Map<String, Value>) -> bool {
    match deny.get("Sid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => other.get("Sid").and_then(Value::as_str) == Some(sid),
        _ => {
            principals(deny) == principals(other)
                && actions(deny) == actions(other)
                && strings(deny.get("NotAction")) == strings(other.get("NotAction"))
        }
    }
}

fn deny_name(deny: &Map<String, Value>) -> String {
    match deny.get("Sid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => sid.to_string(),
        _ => {
            let principals = principals(deny);
            let to = if principals.is_empty() {
                String::new()
            } else {
                format!(" to {}", principals.join(", "))
            };
            format!("Deny of {}{to}", actions(deny).join(", "))
        }
    }
}

/// The condition keys of a statement, as written, each once.
fn condition_keys(statement: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(Value::Object(operators)) = statement.get("Condition") else {
        return out;
    };
    for keys in operators.values().filter_map(Value::as_object) {
        for key in keys.keys() {
            if !out.iter().any(|seen| seen.eq_ignore_ascii_case(key)) {
                out.push(key.clone());
            }
        }
    }
    out
}

/// The account of a principal as written: an account id, or the account of
/// an IAM ARN.
fn account_of(principal: &str) -> Option<&str> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal);
    }
    let mut parts = principal.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("iam" | "sts"), Some(_)) => parts.next(),
        _ => None,
    }
}

/// Whether the guarded statement covers a principal the new one names: the
/// same one, its account (root or id) or `*`. Statements without
/// `Principal` (one identity policy) share the one principal the policy is
/// attached to.
fn principals_overlap(guarded: &Map<String, Value>, added: &Map<String, Value>) -> bool {
    let guarded = principals(guarded);
    let added = principals(added);
    if guarded.is_empty() || added.is_empty() {
        return guarded.is_empty() && added.is_empty();
    }
    if guarded.iter().any(|p| p == "*") || added.iter().any(|p| p == "*") {
        return true;
    }
    added.iter().any(|principal| {
        guarded.iter().any(|covering| {
            covering == principal
                || (account_of(covering).is_some()
                    && account_of(covering) == account_of(principal)
                    && (covering.len() == 12 || covering.ends_with(":root")))
        })
    })
}

/// Whether two action lists share an action, `*` and `?` matching as IAM
/// matches them. A statement with `NotAction` is taken to overlap.
fn actions_overlap(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    if a.contains_key("NotAction") || b.contains_key("NotAction") {
        return true;
    }
    let (a, b) = (actions(a), actions(b));
    a.iter().any(|x| {
        b.iter().any(|y| {
            let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
            glob(&x, &y) || glob(&y, &x)
        })
    })
}

/// Whether `text` matches `pattern` (`*` any run, `?` one character).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tls_deny() -> Value {
        json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
               "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
               "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    }

    #[test]
    fn dropping_a_deny_names_its_sid() {
        let before = json!({"Statement": [tls_deny()]});
        let after = json!({"Statement": []});
        assert_eq!(weakened(&before, &after), vec!["DenyInsecureTransport"]);
    }

    #[test]
    fn dropping_a_deny_without_sid_describes_it() {
        let before = json!({"Statement": {"Effect": "Deny", "Principal": {"AWS": "*"},
                            "Action": ["kms:Decrypt"], "Resource": "*"}});
        let after = json!({"Statement": []});
        assert_eq!(weakened(&before, &after), vec!["Deny of kms:Decrypt to *"]);
    }

    #[test]
    fn a_deny_losing_a_condition_key_names_the_key() {
        let before = json!({"Statement": [
            {"Sid": "OnlyVpce", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
             "Resource": "*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"},
                                             "Bool": {"aws:SecureTransport": "false"}}}]});
        let after = json!({"Statement": [
            {"Sid": "OnlyVpce", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
             "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        assert_eq!(weakened(&before, &after), vec!["aws:SourceVpce"]);
    }

    /// A Deny kept under its Sid still weakens when it covers less: fewer
    /// actions, or a condition value that no longer matches what it did.
    #[test]
    fn a_deny_kept_by_sid_but_covering_less_is_named() {
        let before = json!({"Statement": [tls_deny()]});
        let mut fewer_actions = tls_deny();
        fewer_actions["Action"] = json!("s3:PutObject");
        let after = json!({"Statement": [fewer_actions]});
        assert_eq!(weakened(&before, &after), vec!["DenyInsecureTransport"]);
        let mut other_value = tls_deny();
        other_value["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
        let after = json!({"Statement": [other_value]});
        assert_eq!(weakened(&before, &after), vec!["DenyInsecureTransport"]);
        let after = json!({"Statement": [tls_deny()]});
        assert!(weakened(&before, &after).is_empty());
        // Written in canonical form (lists for single values, another
        // order), it is the same Deny.
        let mut canonical = tls_deny();
        canonical["Action"] = json!(["s3:*"]);
        canonical["Resource"] = json!(["arn:aws:s3:::b/*", "arn:aws:s3:::b"]);
        canonical["Condition"] = json!({"Bool": {"aws:SecureTransport": ["false"]}});
        let after = json!({"Statement": [canonical]});
        assert!(weakened(&before, &after).is_empty());
    }

    #[test]
    fn adding_a_documented_exception_to_a_deny_is_not_weakening() {
        let before = json!({"Statement": [
            {"Sid": "OnlyVpce", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
             "Resource": "*", "Condition": {"StringNotEquals": {"aws:sourceVpce": "vpce-1"}}}]});
        let after = json!({"Statement": [
            {"Sid": "OnlyVpce", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
             "Resource": "*", "Condition": {"StringNotEquals": {"aws:sourceVpce": "vpce-1"},
                                             "BoolIfExists": {"aws:ViaAWSService": "false"}}}]});
        assert!(weakened(&before, &after).is_empty());
    }

    #[test]
    fn an_allow_around_an_org_guard_names_the_key() {
        let before = json!({"Statement": [
            {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]});
        let after = json!({"Statement": [
            before["Statement"][0].clone(),
            {"Sid": "AllowS3GetObject", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::222222222222:user/d"},
             "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}]});
        assert_eq!(weakened(&before, &after), vec!["aws:PrincipalOrgID"]);
    }

    #[test]
    fn an_allow_carrying_the_guard_key_or_for_other_actions_is_fine() {
        let before = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:root"},
             "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}]});
        let carrying = json!({"Statement": [
            before["Statement"][0].clone(),
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:user/d"},
             "Action": ["sts:AssumeRole"],
             "Condition": {"StringEquals": {"sts:ExternalId": "y"}}}]});
        assert!(weakened(&before, &carrying).is_empty());
        let bare = json!({"Statement": [
            before["Statement"][0].clone(),
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:user/d"},
             "Action": ["sts:AssumeRole"]}]});
        assert_eq!(weakened(&before, &bare), vec!["sts:ExternalId"]);
        let other_action = json!({"Statement": [
            before["Statement"][0].clone(),
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:user/d"},
             "Action": ["sts:TagSession"]}]});
        assert!(weakened(&before, &other_action).is_empty());
        let other_account = json!({"Statement": [
            before["Statement"][0].clone(),
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::3:user/d"},
             "Action": ["sts:AssumeRole"]}]});
        assert!(weakened(&before, &other_account).is_empty());
    }

    #[test]
    fn a_condition_that_is_no_guard_is_not_counted() {
        let before = json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}}]});
        let after = json!({"Statement": [
            before["Statement"][0].clone(),
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}]});
        assert!(weakened(&before, &after).is_empty());
    }

    #[test]
    fn wildcards_match_as_iam_matches() {
        assert!(glob("s3:*", "s3:getobject"));
        assert!(glob("kms:generatedatakey*", "kms:generatedatakey"));
        assert!(!glob("kms:decrypt", "kms:encrypt"));
        assert!(glob("kms:re?ncrypt*", "kms:reencryptfrom"));
    }
}
