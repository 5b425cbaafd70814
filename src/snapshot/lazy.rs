//! A directory snapshot opened without parsing every part: an index of
//! what each file holds (its accounts, buckets, keys and aliases, access
//! points, the role sessions it names, the conditions its documents test),
//! read from the sweep's manifest or, for a file the manifest does not
//! describe, built by reading that file once. A question then loads only
//! the files of the accounts it needs and merges them as the whole
//! directory would be merged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::directory::{DirectoryError, MANIFEST, Manifest, part_files};
use super::merge::merge;
use super::{Field, Snapshot};
use crate::policy::arn::is_account_id;

/// What one part file of a directory snapshot holds, enough to choose the
/// files a question needs without parsing the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIndex {
    /// The file's length when indexed: an index whose file has since
    /// changed is not trusted, and the file is read to index it again.
    pub bytes: u64,
    /// The file's modification time when indexed (nanoseconds since the
    /// Unix epoch), checked as its length is: a file edited, or copied
    /// without its times, is read again to index it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<u64>,
    /// Every account the file holds something of: an account entry, a
    /// bucket, key, principal or access point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<String>,
    /// Key ARNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// The keys' alias names (`alias/…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Access point ARNs and aliases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_points: Vec<String>,
    /// How many principal entries it holds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub principals: usize,
    /// Role-session ARNs it names: in a policy's `Principal`, a KMS grant,
    /// its credentials or its recorded caller. Each such session is a row
    /// of who-can, whose file must be loaded with the session's account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<String>,
    /// Every distinct condition of its documents (operator, key and values
    /// as written): the judge weighs an unknown context key over the
    /// conditions of the whole snapshot, so a file is left unloaded only
    /// when its conditions are among those loaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// Some document names a policy variable (`${…}`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub variables: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// It records assumptions or session credentials, which apply to the
    /// whole snapshot: it is always loaded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub global: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

/// The account of an ARN, when it names one.
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':')
        .nth(4)
        .filter(|account| is_account_id(account))
}

/// An assumed-role session ARN (`arn:aws:sts::ACCT:assumed-role/ROLE/NAME`).
pub(crate) fn is_session(text: &str) -> bool {
    text.starts_with("arn:")
        && text.split(':').nth(2) == Some("sts")
        && text
            .split(':')
            .nth(5)
            .is_some_and(|rest| rest.starts_with("assumed-role/") && rest.matches('/').count() >= 2)
}

/// Every string inside a principal element (`"*"`, `{"AWS": [...]}`, …).
pub(crate) fn principal_strings(element: &Value) -> Vec<&str> {
    match element {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items.iter().flat_map(principal_strings).collect(),
        Value::Object(map) => map.values().flat_map(principal_strings).collect(),
        _ => Vec::new(),
    }
}

impl FileIndex {
    /// The index of `snapshot`, read from a file of `bytes` bytes.
    pub fn of(snapshot: &Snapshot, bytes: u64) -> Self {
        let mut accounts: BTreeSet<String> = snapshot.accounts.keys().cloned().collect();
        let mut add = |account: Option<&str>| {
            if let Some(account) = account.filter(|account| is_account_id(account)) {
                accounts.insert(account.to_string());
            }
        };
        for bucket in &snapshot.buckets {
            add(Some(&bucket.account));
        }
        for key in &snapshot.keys {
            add(arn_account(&key.arn));
        }
        for principal in &snapshot.principals {
            add(arn_account(&principal.arn));
        }
        for point in &snapshot.access_points {
            add(Some(&point.account));
            add(Some(&point.bucket_account));
        }
        let mut sessions: BTreeSet<String> = BTreeSet::new();
        let mut conditions: BTreeSet<String> = BTreeSet::new();
        let mut variables = false;
        for doc in snapshot.policy_docs() {
            variables |= doc.raw().contains("${");
            for statement in doc.policy.statements() {
                for condition in statement.conditions() {
                    // Operator, key and values as written.
                    conditions.insert(format!(
                        "{} {} {}",
                        condition.operator_name(),
                        condition.key(),
                        Value::Array(condition.raw_values())
                    ));
                }
                if let Some((_, element)) = statement.principal_element() {
                    for named in principal_strings(&element) {
                        if is_session(named) {
                            sessions.insert(named.to_string());
                        }
                    }
                }
            }
        }
        for key in &snapshot.keys {
            if let Field::Some(grants) = &key.grants {
                for grant in grants {
                    for named in std::iter::once(&grant.grantee).chain(&grant.retiring_principal) {
                        if is_session(named) {
                            sessions.insert(named.clone());
                        }
                    }
                }
            }
        }
        if let Field::Some(credentials) = &snapshot.credentials {
            sessions.extend(credentials.keys().filter(|arn| is_session(arn)).cloned());
        }
        if let Some(caller) = snapshot.caller.as_ref().filter(|caller| is_session(caller)) {
            sessions.insert(caller.clone());
        }
        Self {
            bytes,
            modified: None,
            accounts: accounts.into_iter().collect(),
            buckets: snapshot
                .buckets
                .iter()
                .map(|bucket| bucket.name.clone())
                .collect(),
            keys: snapshot.keys.iter().map(|key| key.arn.clone()).collect(),
            aliases: snapshot
                .keys
                .iter()
                .flat_map(|key| key.aliases.iter().cloned())
                .collect(),
            access_points: snapshot
                .access_points
                .iter()
                .flat_map(|point| std::iter::once(point.arn.clone()).chain(point.alias.clone()))
                .collect(),
            principals: snapshot.principals.len(),
            sessions: sessions.into_iter().collect(),
            conditions: conditions.into_iter().collect(),
            variables,
            caller: snapshot.caller.clone(),
            captured_at: snapshot.captured_at.clone(),
            global: !snapshot.assumptions.is_empty() || !snapshot.credentials.is_unknown(),
            partition: snapshot.partition().map(str::to_string),
        }
    }

    /// The index of `snapshot`, as read from the file at `path` (whose
    /// length and modification time it records).
    pub fn of_file(snapshot: &Snapshot, path: &Path) -> Result<Self, String> {
        let metadata = std::fs::metadata(path)
            .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        let mut index = Self::of(snapshot, metadata.len());
        index.modified = modified(&metadata);
        Ok(index)
    }

    /// Whether the file holds the key named `name` as a bucket's
    /// encryption names it: by ARN, key id, alias name or alias ARN.
    pub fn holds_key(&self, name: &str) -> bool {
        let alias = name
            .split_once(":alias/")
            .map(|(_, tail)| format!("alias/{tail}"));
        self.keys
            .iter()
            .any(|arn| arn == name || arn.rsplit('/').next() == Some(name))
            || self
                .aliases
                .iter()
                .any(|held| held == name || alias.as_deref() == Some(held.as_str()))
    }
}

/// A file's modification time in nanoseconds since the Unix epoch, where
/// the platform keeps one.
fn modified(metadata: &std::fs::Metadata) -> Option<u64> {
    let since = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    u64::try_from(since.as_nanos()).ok()
}

/// A directory snapshot, indexed and not yet loaded.
pub struct LazyDirectory {
    dir: PathBuf,
    /// Each part file with its index, in name order.
    pub files: Vec<(PathBuf, FileIndex)>,
    /// How many files the manifest did not describe and were read to
    /// index them.
    pub scanned: usize,
}

impl LazyDirectory {
    /// Indexes `dir`: each part from the manifest's index when it
    /// describes the file as it is, else by reading it with `read` once.
    pub fn open(
        dir: &Path,
        read: impl Fn(&Path) -> Result<Snapshot, String>,
    ) -> Result<Self, DirectoryError> {
        let manifest = Manifest::read(dir).map_err(DirectoryError::Read)?;
        let mut files = Vec::new();
        let mut scanned = 0;
        for file in part_files(dir).map_err(DirectoryError::Read)? {
            let metadata = std::fs::metadata(&file).map_err(|error| {
                DirectoryError::Read(format!("cannot read `{}`: {error}", file.display()))
            })?;
            let (bytes, modified) = (metadata.len(), modified(&metadata));
            let name = file
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let index = match manifest.index.get(&name) {
                Some(index)
                    if index.bytes == bytes && index.modified == modified && name != MANIFEST =>
                {
                    index.clone()
                }
                _ => {
                    scanned += 1;
                    let mut index =
                        FileIndex::of(&read(&file).map_err(DirectoryError::Read)?, bytes);
                    index.modified = modified;
                    index
                }
            };
            files.push((file, index));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
            scanned,
        })
    }

    /// The files to load for `accounts`: every file holding something of
    /// one of them, every file naming a role session of one of them, and
    /// every file that applies to the whole snapshot.
    pub fn files_for(&self, accounts: &BTreeSet<String>) -> BTreeSet<usize> {
        self.files
            .iter()
            .enumerate()
            .filter(|(_, (_, index))| {
                index.global
                    || index
                        .accounts
                        .iter()
                        .any(|account| accounts.contains(account))
                    || index
                        .sessions
                        .iter()
                        .filter_map(|session| arn_account(session))
                        .any(|account| accounts.contains(account))
            })
            .map(|(at, _)| at)
            .collect()
    }

    /// The files holding bucket `name`.
    pub fn files_with_bucket(&self, name: &str) -> BTreeSet<usize> {
        self.matching(|index| index.buckets.iter().any(|bucket| bucket == name))
    }

    /// The files holding access point `wanted` (ARN or alias).
    pub fn files_with_access_point(&self, wanted: &str) -> BTreeSet<usize> {
        self.matching(|index| index.access_points.iter().any(|point| point == wanted))
    }

    /// The files holding the key a bucket's encryption names as `name`.
    pub fn files_with_key(&self, name: &str) -> BTreeSet<usize> {
        self.matching(|index| index.holds_key(name))
    }

    fn matching(&self, wanted: impl Fn(&FileIndex) -> bool) -> BTreeSet<usize> {
        self.files
            .iter()
            .enumerate()
            .filter(|(_, (_, index))| wanted(index))
            .map(|(at, _)| at)
            .collect()
    }

    /// Why loading only some files could differ from loading the whole
    /// directory, when the files outside `loaded` hold something the judge
    /// reads whatever the question: a condition no loaded document has (the
    /// judge weighs an unknown context key over every condition of the
    /// snapshot), a policy variable, or another partition (the whole
    /// directory is then refused).
    pub fn partial_load_differs(&self, loaded: &BTreeSet<usize>) -> Option<String> {
        let partitions: BTreeSet<&str> = self
            .files
            .iter()
            .filter_map(|(_, index)| index.partition.as_deref())
            .collect();
        if partitions.len() > 1 {
            return Some("its files name ARNs of more than one partition".to_string());
        }
        // Rows name the partition the snapshot's ARNs are in: the part
        // loaded must name it too.
        if !partitions.is_empty()
            && !loaded
                .iter()
                .any(|at| self.files[*at].1.partition.is_some())
        {
            return Some("no file needed names an ARN of the directory's partition".to_string());
        }
        let known: BTreeSet<&str> = loaded
            .iter()
            .flat_map(|at| &self.files[*at].1.conditions)
            .map(String::as_str)
            .collect();
        for (at, (file, index)) in self.files.iter().enumerate() {
            if loaded.contains(&at) {
                continue;
            }
            if index.variables {
                return Some(format!(
                    "`{}` holds a policy variable, which the judge weighs over the whole snapshot",
                    file.display()
                ));
            }
            if let Some(condition) = index
                .conditions
                .iter()
                .find(|condition| !known.contains(condition.as_str()))
            {
                return Some(format!(
                    "`{}` holds a condition no needed file holds ({condition}), which the judge weighs over the whole snapshot",
                    file.display()
                ));
            }
        }
        None
    }

    /// The caller the whole directory's merge records: the one its files
    /// agree on, if any.
    pub fn caller(&self) -> Option<String> {
        let callers: BTreeSet<&str> = self
            .files
            .iter()
            .filter_map(|(_, index)| index.caller.as_deref())
            .collect();
        match callers.len() {
            1 => callers.into_iter().next().map(str::to_string),
            _ => None,
        }
    }

    /// Loads the files `chosen` (indexes into [`LazyDirectory::files`]) as
    /// their merge, with the recorded caller and capture time the whole
    /// directory's merge has; `read` reads and validates one part.
    pub fn load(
        &self,
        chosen: &BTreeSet<usize>,
        read: impl Fn(&Path) -> Result<Snapshot, String>,
    ) -> Result<Snapshot, DirectoryError> {
        let mut parts = Vec::new();
        for at in chosen {
            let file = &self.files[*at].0;
            parts.push((
                file.display().to_string(),
                read(file).map_err(DirectoryError::Read)?,
            ));
        }
        let mut snapshot = merge(&self.dir.display().to_string(), &parts)?;
        // The whole directory's merge records a caller only when its files
        // agree on one, and is as old as its oldest file.
        snapshot.caller = self.caller();
        snapshot.captured_at = self
            .files
            .iter()
            .filter_map(|(_, index)| index.captured_at.as_deref())
            .min()
            .map(str::to_string);
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const PART: &str = r#"{"format": "kms-s3-doctor/snapshot@1",
        "caller": "arn:aws:sts::222222222222:assumed-role/etl/nightly",
        "accounts": {"111111111111": {"public_access_block": null}},
        "buckets": [{"name": "b", "account": "111111111111", "policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::333333333333:assumed-role/r/s"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]}}}]}}],
        "keys": [{"arn": "arn:aws:kms:eu-west-1:111111111111:key/k-1", "aliases": ["alias/data"]}],
        "principals": [{"arn": "arn:aws:iam::444444444444:role/x"}]}"#;

    #[test]
    fn an_index_says_what_the_file_holds() {
        let snapshot = Snapshot::parse("part", PART).unwrap();
        let index = FileIndex::of(&snapshot, 7);
        assert_eq!(index.bytes, 7);
        assert_eq!(index.accounts, ["111111111111", "444444444444"]);
        assert_eq!(index.buckets, ["b"]);
        assert_eq!(index.principals, 1);
        assert_eq!(
            index.sessions,
            [
                "arn:aws:sts::222222222222:assumed-role/etl/nightly",
                "arn:aws:sts::333333333333:assumed-role/r/s"
            ]
        );
        assert_eq!(
            index.conditions,
            [r#"StringEquals aws:PrincipalTag/team ["a","b"]"#]
        );
        assert!(index.variables);
        assert!(!index.global);
        for name in [
            "arn:aws:kms:eu-west-1:111111111111:key/k-1",
            "k-1",
            "alias/data",
            "arn:aws:kms:eu-west-1:111111111111:alias/data",
        ] {
            assert!(index.holds_key(name), "{name}");
        }
        assert!(!index.holds_key("alias/other"));
        // Written into the manifest and read back, it is the same.
        let text = serde_json::to_string(&index).unwrap();
        assert_eq!(serde_json::from_str::<FileIndex>(&text).unwrap(), index);
    }
}
