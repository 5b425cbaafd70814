//! `snapshot --snapshot BASE --gaad FILE --account ID ... --output OUT`: the
//! principals of each account's GetAccountAuthorizationDetails output laid
//! over a base snapshot, in the order given, and the result written without
//! ever replacing one of the files it was made from.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Error, files};
use crate::snapshot::{Snapshot, gaad};

/// What to import.
#[derive(Debug, Clone)]
pub struct GaadImport {
    /// The snapshot the principals are laid over (buckets, keys, accounts).
    pub base: PathBuf,
    /// Each GAAD file with the account it describes, in command-line order:
    /// a later file of the same account replaces an earlier one's entries.
    pub files: Vec<(PathBuf, String)>,
    pub output: PathBuf,
    /// Refuse an input file larger than this many bytes.
    pub limit: u64,
}

/// Reads the base and every GAAD file, lays them over, writes the output.
pub fn import_gaad(input: &GaadImport) -> Result<(), Error> {
    let output = same_file_key(&input.output);
    for input_path in std::iter::once(&input.base).chain(input.files.iter().map(|(path, _)| path)) {
        if output.is_some() && same_file_key(input_path) == output {
            return Err(Error::BadInput(format!(
                "--output `{}` is one of the input files; write the result to a new file so that no input is lost",
                input.output.display()
            )));
        }
    }
    let (mut snapshot, _) = files::load_snapshot(&input.base, input.limit)?;
    for (path, account) in &input.files {
        let name = path.display().to_string();
        let text = read_text(path, input.limit)?;
        let principals = gaad::parse_file(&name, &text, account)
            .map_err(|error| Error::BadInput(error.to_string()))?;
        gaad::lay_over(&mut snapshot, account, principals);
        // Everything a snapshot file must be (ARNs of one partition, IAM
        // ARNs without a region, no principal twice) is checked as it would
        // be when the result is loaded, so that no file is written that
        // cannot be read back, and the file that broke it is named.
        if let Err(error) = Snapshot::parse(&name, &snapshot.to_json()) {
            return Err(Error::BadInput(format!(
                "gaad `{name}`: its principals do not make a valid snapshot: {} (at {} of the result)",
                error.message, error.field
            )));
        }
    }
    files::write_snapshot(&input.output, &snapshot)
}

/// The file a path names, for comparing an output with the inputs: the
/// canonical path of the file, or of its directory with its name when it
/// does not exist yet.
fn same_file_key(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        return Some(canonical);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::canonicalize(parent).ok().map(|dir| dir.join(name))
}

/// A GAAD file's text: a regular file (a pipe or device is not read) of at
/// most `limit` bytes, in UTF-8.
fn read_text(path: &Path, limit: u64) -> Result<String, Error> {
    let name = path.display().to_string();
    let cannot =
        |error: std::io::Error| Error::BadInput(format!("cannot read gaad `{name}`: {error}"));
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(Error::BadInput(format!(
            "gaad `{name}` is not a regular file (a pipe or device is not read: save it to a file first)"
        )));
    }
    let too_large = || {
        Error::BadInput(format!(
            "gaad `{name}` is larger than {} MiB; raise the limit with --max-snapshot-size",
            limit >> 20
        ))
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(limit.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|error| {
        Error::BadInput(format!(
            "gaad `{name}` is not UTF-8 text (byte {})",
            error.utf8_error().valid_up_to()
        ))
    })
}
