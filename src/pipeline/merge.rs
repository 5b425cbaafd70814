//! `snapshot merge A B ... --output F`: the shards (files or directory
//! snapshots) of an organization sweep, or any snapshots, joined into one
//! file, validated, and written without ever replacing one of its inputs.

use std::path::{Path, PathBuf};

use super::Error;
use super::files::{load_snapshot, write_snapshot};
use crate::snapshot::directory::part_files;
use crate::snapshot::merge::merge;

/// What a merge joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSummary {
    pub files: usize,
    pub accounts: usize,
    pub principals: usize,
    pub buckets: usize,
    pub keys: usize,
}

/// Joins `inputs` into `output`. Each input file (each file of an input
/// directory) is read within `limit` bytes and validated first.
pub fn merge_snapshots(
    inputs: &[PathBuf],
    output: &Path,
    limit: u64,
) -> Result<MergeSummary, Error> {
    refuse_overwriting_an_input(inputs, output)?;
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(part_files(input).map_err(Error::BadInput)?);
        } else {
            files.push(input.clone());
        }
    }
    let mut parts = Vec::new();
    for file in &files {
        let (snapshot, _) = load_snapshot(file, limit)?;
        parts.push((file.display().to_string(), snapshot));
    }
    let merged = merge(&output.display().to_string(), &parts)
        .map_err(|error| Error::BadInput(format!("snapshot merge: {error}")))?;
    write_snapshot(output, &merged)?;
    Ok(MergeSummary {
        files: files.len(),
        accounts: merged.accounts.len(),
        principals: merged.principals.len(),
        buckets: merged.buckets.len(),
        keys: merged.keys.len(),
    })
}

/// `output` may be none of the inputs, nor inside an input directory (the
/// next load of that directory would take the merge for one more part).
fn refuse_overwriting_an_input(inputs: &[PathBuf], output: &Path) -> Result<(), Error> {
    let resolve = |path: &Path| {
        std::fs::canonicalize(path).ok().or_else(|| {
            // The output need not exist yet: resolve its directory.
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
        })
    };
    let Some(target) = resolve(output) else {
        return Ok(());
    };
    for input in inputs {
        let Some(source) = resolve(input) else {
            continue;
        };
        if source == target || (input.is_dir() && target.starts_with(&source)) {
            return Err(Error::BadInput(format!(
                "snapshot merge: --output `{}` is the input `{}` or inside it; write the merge to a new file",
                output.display(),
                input.display()
            )));
        }
    }
    Ok(())
}
