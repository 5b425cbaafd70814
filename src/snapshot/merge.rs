//! Joining snapshots into one (`snapshot merge`, a directory snapshot, the
//! shards of an organization sweep): the union of their accounts,
//! principals, buckets, keys, access points, assumptions and session
//! credentials.
//!
//! An entity (an account by id, a bucket by name, a key, principal or
//! access point by ARN) met in several parts is joined field by field: a
//! field and its `*_error` are one group; a group one part has and another
//! lacks is taken from the part that has it (an organization sweep reads an
//! account's SCPs with the management account and its Block Public Access
//! with the member); a group two parts both have must be identical, or the
//! parts disagree about the world and the merge is refused, naming both
//! files, the entity and the field. The result is validated as any
//! snapshot is.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{SNAPSHOT_FORMAT, Snapshot, SnapshotError};

/// Why parts could not be joined. One line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("{entity} differs between `{first}` and `{second}` (field `{field}`)")]
    Conflict {
        entity: String,
        field: String,
        first: String,
        second: String,
    },
    #[error("{0}")]
    Invalid(SnapshotError),
}

/// One entity as joined so far, and which part each field group came from.
struct Entry {
    fields: Map<String, Value>,
    origin: BTreeMap<String, String>,
}

/// The group a field belongs to: `policy_error` goes with `policy`.
fn group_of(field: &str) -> &str {
    field.strip_suffix("_error").unwrap_or(field)
}

/// The fields of `object` in `group`, in their order.
fn group_fields<'v>(object: &'v Map<String, Value>, group: &str) -> Vec<(&'v String, &'v Value)> {
    object
        .iter()
        .filter(|(field, _)| group_of(field) == group)
        .collect()
}

impl Entry {
    fn new(fields: Map<String, Value>, part: &str) -> Self {
        let origin = fields
            .keys()
            .map(|field| (group_of(field).to_string(), part.to_string()))
            .collect();
        Self { fields, origin }
    }

    /// Lays `other`, read from `part`, over this entry.
    fn join(
        &mut self,
        other: Map<String, Value>,
        part: &str,
        entity: &dyn Fn() -> String,
    ) -> Result<(), MergeError> {
        let mut groups: Vec<&str> = other.keys().map(|field| group_of(field)).collect();
        groups.dedup();
        for group in groups {
            let theirs = group_fields(&other, group);
            match self.origin.get(group) {
                None => {
                    for (field, value) in theirs {
                        self.fields.insert(field.clone(), value.clone());
                    }
                    self.origin.insert(group.to_string(), part.to_string());
                }
                Some(first) => {
                    let mut ours = group_fields(&self.fields, group);
                    let mut theirs = theirs;
                    ours.sort_by_key(|(field, _)| *field);
                    theirs.sort_by_key(|(field, _)| *field);
                    if ours != theirs {
                        return Err(MergeError::Conflict {
                            entity: entity(),
                            field: group.to_string(),
                            first: first.clone(),
                            second: part.to_string(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Entities of one kind by their identity.
#[derive(Default)]
struct Collection {
    entries: BTreeMap<String, Entry>,
}

impl Collection {
    fn add(
        &mut self,
        id: String,
        fields: Map<String, Value>,
        part: &str,
        kind: &str,
    ) -> Result<(), MergeError> {
        match self.entries.get_mut(&id) {
            Some(entry) => entry.join(fields, part, &|| format!("{kind} `{id}`")),
            None => {
                self.entries.insert(id, Entry::new(fields, part));
                Ok(())
            }
        }
    }

    fn into_values(self) -> Vec<Value> {
        self.entries
            .into_values()
            .map(|entry| Value::Object(entry.fields))
            .collect()
    }
}

/// A snapshot's top-level list `field` (absent: empty).
fn list(snapshot: &mut Map<String, Value>, field: &str) -> Vec<Value> {
    match snapshot.remove(field) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// Joins `parts` (each a name for messages and its snapshot) into one
/// snapshot, validated. Entities come out in a stable order (accounts by
/// id, the rest by name or ARN), so joining the same parts in any order, or
/// the shards of a sweep instead of the whole, gives the same snapshot.
/// `name` names the result in a validation error.
pub fn merge(name: &str, parts: &[(String, Snapshot)]) -> Result<Snapshot, MergeError> {
    let text = merge_text(parts)?;
    Snapshot::parse(name, &text).map_err(MergeError::Invalid)
}

/// [`merge`]'s result as the text it is parsed from (fields in the order
/// the parts brought them; [`Snapshot::to_json`] of the parsed result puts
/// them in the model's order).
fn merge_text(parts: &[(String, Snapshot)]) -> Result<String, MergeError> {
    let mut accounts = Collection::default();
    let mut buckets = Collection::default();
    let mut keys = Collection::default();
    let mut principals = Collection::default();
    let mut access_points = Collection::default();
    let mut credentials: Option<Entry> = None;
    let mut assumptions = Vec::new();
    let mut captured_at: Option<String> = None;
    let mut callers: Vec<String> = Vec::new();
    for (part, snapshot) in parts {
        assumptions.extend(snapshot.assumptions.iter().cloned());
        if let Some(time) = &snapshot.captured_at
            && captured_at.as_ref().is_none_or(|earliest| time < earliest)
        {
            // The joined snapshot is as old as its oldest part.
            captured_at = Some(time.clone());
        }
        if let Some(caller) = &snapshot.caller
            && !callers.contains(caller)
        {
            callers.push(caller.clone());
        }
        let Ok(Value::Object(mut value)) = serde_json::to_value(snapshot) else {
            continue;
        };
        if let Some(Value::Object(map)) = value.remove("accounts") {
            for (id, info) in map {
                let Value::Object(info) = info else { continue };
                accounts.add(id, info, part, "account")?;
            }
        }
        for (field, collection, id_field, kind) in [
            ("buckets", &mut buckets, "name", "bucket"),
            ("keys", &mut keys, "arn", "key"),
            ("principals", &mut principals, "arn", "principal"),
            ("access_points", &mut access_points, "arn", "access point"),
        ] {
            for item in list(&mut value, field) {
                let Value::Object(item) = item else { continue };
                let id = item
                    .get(id_field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                collection.add(id, item, part, kind)?;
            }
        }
        if let Some(Value::Object(map)) = value.remove("credentials") {
            // Each session is one group: its lifetime as a whole.
            match &mut credentials {
                Some(entry) => entry.join(map, part, &|| "the credentials".to_string())?,
                None => credentials = Some(Entry::new(map, part)),
            }
        }
    }
    let mut out = Map::new();
    out.insert("format".into(), Value::from(SNAPSHOT_FORMAT));
    if let Some(time) = captured_at {
        out.insert("captured_at".into(), Value::from(time));
    }
    // Parts judged for different callers leave the joined snapshot without
    // a default principal: `check` then asks for --principal rather than
    // pick one.
    if let [caller] = callers.as_slice() {
        out.insert("caller".into(), Value::from(caller.clone()));
    }
    out.insert(
        "accounts".into(),
        Value::Object(
            accounts
                .entries
                .into_iter()
                .map(|(id, entry)| (id, Value::Object(entry.fields)))
                .collect(),
        ),
    );
    out.insert("buckets".into(), Value::Array(buckets.into_values()));
    out.insert("keys".into(), Value::Array(keys.into_values()));
    out.insert("principals".into(), Value::Array(principals.into_values()));
    let access_points = access_points.into_values();
    if !access_points.is_empty() {
        out.insert("access_points".into(), Value::Array(access_points));
    }
    assumptions.sort();
    assumptions.dedup();
    if !assumptions.is_empty()
        && let Ok(value) = serde_json::to_value(&assumptions)
    {
        out.insert("assumptions".into(), value);
    }
    if let Some(entry) = credentials {
        out.insert("credentials".into(), Value::Object(entry.fields));
    }
    // Plain data always serialises.
    Ok(serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default() + "\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn snapshot(text: &str) -> Snapshot {
        Snapshot::parse("test", text).unwrap()
    }

    fn parts(texts: &[(&str, &str)]) -> Vec<(String, Snapshot)> {
        texts
            .iter()
            .map(|(name, text)| (name.to_string(), snapshot(text)))
            .collect()
    }

    const ORG: &str = r#"{"format": "kms-s3-doctor/snapshot@1",
        "accounts": {"111111111111": {"org_id": "o-abcdefghij", "scps": null, "rcps": null}}}"#;
    const MEMBER: &str = r#"{"format": "kms-s3-doctor/snapshot@1",
        "captured_at": "2026-01-02T00:00:00Z",
        "accounts": {"111111111111": {"public_access_block": null}},
        "buckets": [{"name": "b", "account": "111111111111", "policy": null}],
        "keys": [{"arn": "arn:aws:kms:us-east-1:111111111111:key/k", "state": "Enabled"}],
        "principals": [{"arn": "arn:aws:iam::111111111111:role/r", "policies": []}]}"#;

    #[test]
    fn an_account_read_in_two_parts_is_joined_field_by_field() {
        let merged = merge("m", &parts(&[("org.json", ORG), ("111.json", MEMBER)])).unwrap();
        let account = &merged.accounts["111111111111"];
        assert_eq!(
            account.org_id,
            crate::snapshot::Field::Some("o-abcdefghij".into())
        );
        assert_eq!(account.scps, crate::snapshot::Field::None);
        assert_eq!(account.public_access_block, crate::snapshot::Field::None);
        assert_eq!(merged.buckets.len(), 1);
        assert_eq!(merged.captured_at.as_deref(), Some("2026-01-02T00:00:00Z"));
    }

    #[test]
    fn identical_duplicates_collapse_and_order_does_not_matter() {
        // Written through the model, fields come out in its order whatever
        // part brought them.
        let once = merge("m", &parts(&[("a", MEMBER), ("b", ORG)])).unwrap();
        let twice = merge("m", &parts(&[("b", ORG), ("a", MEMBER), ("c", MEMBER)])).unwrap();
        assert_eq!(once.to_json(), twice.to_json());
    }

    #[test]
    fn a_conflict_names_both_files_the_entity_and_the_field() {
        let other = MEMBER.replace(r#""policy": null"#, r#""policy_error": "denied""#);
        let error = merge("m", &parts(&[("a.json", MEMBER), ("b.json", &other)])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "bucket `b` differs between `a.json` and `b.json` (field `policy`)"
        );
        let other = ORG.replace("o-abcdefghij", "o-zzzzzzzzzz");
        let error = merge("m", &parts(&[("a.json", ORG), ("b.json", &other)])).unwrap_err();
        assert!(
            error.to_string().contains("account `111111111111`"),
            "{error}"
        );
    }

    #[test]
    fn different_callers_leave_no_default_caller() {
        let a = r#"{"format": "kms-s3-doctor/snapshot@1", "caller": "arn:aws:iam::111111111111:user/a"}"#;
        let b = r#"{"format": "kms-s3-doctor/snapshot@1", "caller": "arn:aws:iam::111111111111:user/b"}"#;
        assert_eq!(
            merge("m", &parts(&[("a", a), ("a2", a)]))
                .unwrap()
                .caller
                .as_deref(),
            Some("arn:aws:iam::111111111111:user/a")
        );
        assert_eq!(
            merge("m", &parts(&[("a", a), ("b", b)])).unwrap().caller,
            None
        );
    }

    #[test]
    fn the_union_is_validated_as_a_snapshot() {
        // Each part is valid alone; together they mix partitions.
        let cn = r#"{"format": "kms-s3-doctor/snapshot@1",
            "principals": [{"arn": "arn:aws-cn:iam::222222222222:role/r"}]}"#;
        let error = merge("m", &parts(&[("a", MEMBER), ("b", cn)])).unwrap_err();
        assert!(matches!(error, MergeError::Invalid(_)), "{error}");
    }
}
