//! The directory snapshot an organization sweep writes: one snapshot file
//! per account (`ACCOUNT.json`), `organization.json` (every swept
//! account's organization, SCPs and RCPs), and `manifest.json` (which
//! accounts are finished, so `--resume` skips them). Any `*.json` snapshot
//! in the directory but the manifest is a part; the directory is loaded as
//! their merge, so it is a valid `--snapshot` for every command. Every
//! file is written whole or not at all (a temporary file renamed over it).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Snapshot;
use super::merge::{MergeError, merge};

/// The manifest's file name in a directory snapshot.
pub const MANIFEST: &str = "manifest.json";
/// The organization's part of a directory snapshot.
pub const ORGANIZATION: &str = "organization.json";
pub const MANIFEST_FORMAT: &str = "kms-s3-doctor/sweep-manifest@1";

/// What a sweep has finished, account by account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// The organization swept (`o-…`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// `--shard K/N` of the sweep that wrote the directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    #[serde(default)]
    pub accounts: BTreeMap<String, ManifestEntry>,
    /// What each file holds, by file name, so that a question loads only
    /// the files it needs (a manifest without it is indexed by reading
    /// each file once).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub index: BTreeMap<String, super::lazy::FileIndex>,
}

/// One account's line of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// `read`: everything was read (some documents may still be unknown,
    /// each with its reason); `unreadable`: the member role could not be
    /// assumed or listing failed, and `--resume` tries the account again.
    pub status: String,
    /// The account's file, relative to the directory.
    pub file: String,
    pub finished_at: String,
}

pub const STATUS_READ: &str = "read";
pub const STATUS_UNREADABLE: &str = "unreadable";

impl Manifest {
    pub fn new() -> Self {
        Self {
            format: MANIFEST_FORMAT.to_string(),
            ..Self::default()
        }
    }

    /// The accounts a resumed sweep need not read again.
    pub fn finished(&self) -> impl Iterator<Item = &str> {
        self.accounts
            .iter()
            .filter(|(_, entry)| entry.status == STATUS_READ)
            .map(|(account, _)| account.as_str())
    }

    /// Reads `dir`'s manifest; none yet is an empty one.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Self::new()),
            Err(error) => return Err(format!("cannot read `{}`: {error}", path.display())),
        };
        let manifest: Self = serde_json::from_str(&text)
            .map_err(|error| format!("`{}` is not a sweep manifest: {error}", path.display()))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(format!(
                "`{}` is not a sweep manifest: format `{}`, expected `{MANIFEST_FORMAT}`",
                path.display(),
                manifest.format
            ));
        }
        Ok(manifest)
    }

    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        write_atomically(&dir.join(MANIFEST), &text)
    }
}

/// A directory snapshot's file for `account`.
pub fn account_file(account: &str) -> String {
    format!("{account}.json")
}

/// Writes `text` to `path` whole or not at all: a temporary file in the
/// same directory, flushed, then renamed over `path`.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let fail =
        |error: &dyn std::fmt::Display| format!("cannot write `{}`: {error}", path.display());
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(directory)
        .map_err(|error| fail(&error))?;
    temporary
        .write_all(text.as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|error| fail(&error))?;
    temporary
        .persist(path)
        .map_err(|error| fail(&error.error))?;
    Ok(())
}

/// The snapshot files of a directory snapshot, by name: every `*.json`
/// but the manifest (files starting with `.` are a writer's temporaries).
pub fn part_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|error| {
        format!(
            "cannot read snapshot directory `{}`: {error}",
            dir.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| {
            format!(
                "cannot read snapshot directory `{}`: {error}",
                dir.display()
            )
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".json") || name == MANIFEST {
            continue;
        }
        files.push(entry.path());
    }
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "snapshot directory `{}` holds no snapshot file (`*.json`)",
            dir.display()
        ));
    }
    Ok(files)
}

/// Why a directory snapshot could not be loaded. One line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    Merge(#[from] MergeError),
}

/// Loads a directory snapshot as the merge of its parts; `read` reads and
/// validates one part file (the caller's file limits apply to each).
pub fn load(
    dir: &Path,
    read: impl Fn(&Path) -> Result<Snapshot, String>,
) -> Result<Snapshot, DirectoryError> {
    let mut parts = Vec::new();
    for file in part_files(dir).map_err(DirectoryError::Read)? {
        let snapshot = read(&file).map_err(DirectoryError::Read)?;
        parts.push((file.display().to_string(), snapshot));
    }
    Ok(merge(&dir.display().to_string(), &parts)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(path: &Path) -> Result<Snapshot, String> {
        let text = std::fs::read_to_string(path).map_err(|error| error.to_string())?;
        Snapshot::parse(&path.display().to_string(), &text).map_err(|error| error.to_string())
    }

    #[test]
    fn a_directory_loads_as_the_merge_of_its_parts() {
        let dir = tempfile::tempdir().unwrap();
        let org = r#"{"format": "kms-s3-doctor/snapshot@1",
            "accounts": {"111111111111": {"org_id": "o-abcdefghij"}, "222222222222": {"org_id": "o-abcdefghij"}}}"#;
        let member = r#"{"format": "kms-s3-doctor/snapshot@1",
            "accounts": {"222222222222": {"public_access_block": null}},
            "buckets": [{"name": "b", "account": "222222222222"}]}"#;
        std::fs::write(dir.path().join(ORGANIZATION), org).unwrap();
        std::fs::write(dir.path().join(account_file("222222222222")), member).unwrap();
        let mut manifest = Manifest::new();
        manifest.accounts.insert(
            "222222222222".into(),
            ManifestEntry {
                status: STATUS_READ.into(),
                file: account_file("222222222222"),
                finished_at: "2026-01-01T00:00:00Z".into(),
            },
        );
        manifest.write(dir.path()).unwrap();
        // A writer's temporary file is never a part.
        std::fs::write(dir.path().join(".222222222222.json.x.partial"), "{").unwrap();
        let loaded = load(dir.path(), read).unwrap();
        assert_eq!(loaded.accounts.len(), 2);
        assert_eq!(loaded.buckets[0].name, "b");
        assert_eq!(Manifest::read(dir.path()).unwrap(), manifest);
        assert_eq!(manifest.finished().collect::<Vec<_>>(), ["222222222222"]);
    }

    #[test]
    fn a_bad_part_or_an_empty_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            load(dir.path(), read)
                .unwrap_err()
                .to_string()
                .contains("holds no snapshot file")
        );
        std::fs::write(dir.path().join("x.json"), r#"{"format": "other"}"#).unwrap();
        assert!(
            load(dir.path(), read)
                .unwrap_err()
                .to_string()
                .contains("x.json")
        );
    }
}
