//! The pipeline's file stages for snapshots: reading one whole but never an
//! endless input, and writing one without ever destroying a file that is
//! not a snapshot, nor leaving a half-written one.

use std::io::Write;
use std::path::Path;

use super::Error;
use crate::snapshot::{Snapshot, is_snapshot_text};

/// Reads a snapshot file. Only regular files are read: a FIFO would block
/// the open until a writer comes, and a device such as `/dev/zero` never
/// ends. At most `limit` bytes are read, so a file that grows while it is
/// read is refused too.
pub(super) fn load_snapshot(path: &Path, limit: u64) -> Result<(Snapshot, String), Error> {
    use std::io::Read;
    let name = path.display().to_string();
    let cannot =
        |error: std::io::Error| Error::BadInput(format!("cannot read snapshot `{name}`: {error}"));
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if metadata.is_dir() {
        return load_directory(path, limit);
    }
    if !metadata.is_file() {
        return Err(Error::BadInput(format!(
            "snapshot `{name}` is not a regular file (a pipe or device is not read: save the snapshot to a file first)"
        )));
    }
    let too_large = || {
        Error::BadInput(format!(
            "snapshot `{name}` is larger than {} MiB; raise the limit with --max-snapshot-size",
            limit >> 20
        ))
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    let text = String::from_utf8(bytes).map_err(|error| {
        Error::BadInput(format!(
            "snapshot `{name}` is not UTF-8 text (byte {})",
            error.utf8_error().valid_up_to()
        ))
    })?;
    let snapshot =
        Snapshot::parse(&name, &text).map_err(|error| Error::BadInput(error.to_string()))?;
    Ok((snapshot, text))
}

/// Reads a directory snapshot (an organization sweep's) as the merge of its
/// files, each read as [`load_snapshot`] reads one and within `limit`.
/// The merge exists in no file, so its text is empty: evidence then names
/// the entity, not a line.
fn load_directory(path: &Path, limit: u64) -> Result<(Snapshot, String), Error> {
    let snapshot = crate::snapshot::directory::load(path, |file| {
        load_snapshot(file, limit)
            .map(|(snapshot, _)| snapshot)
            .map_err(|error| error.to_string())
    })
    .map_err(|error| Error::BadInput(error.to_string()))?;
    Ok((snapshot, String::new()))
}

/// How much of an existing file is read to decide whether it is a snapshot
/// that may be replaced.
const MAX_EXISTING_SNAPSHOT: u64 = 1 << 30;

/// Writes a snapshot without ever destroying a file that is not one: an
/// existing file is replaced only when its parsed `format` says it is a
/// snapshot. The text goes to a uniquely named file created exclusively (no
/// symlink followed) in the target's directory, is flushed to disk, and
/// lands by rename, so a crash leaves the old file whole.
pub(super) fn write_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), Error> {
    use std::io::Read;
    let name = path.display();
    let fail = |error: &dyn std::fmt::Display| {
        Error::BadInput(format!("cannot write snapshot `{name}`: {error}"))
    };
    match std::fs::metadata(path) {
        Ok(metadata) => {
            let mut existing = String::new();
            let readable = metadata.is_file()
                && std::fs::File::open(path)
                    .and_then(|file| {
                        file.take(MAX_EXISTING_SNAPSHOT)
                            .read_to_string(&mut existing)
                    })
                    .is_ok();
            if !readable || !is_snapshot_text(&existing) {
                return Err(Error::BadInput(format!(
                    "`{name}` exists and is not a kms-s3-doctor snapshot; refusing to overwrite it"
                )));
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink: renaming over it would replace the link,
            // but its owner meant it to point somewhere; refuse.
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(Error::BadInput(format!(
                    "`{name}` is a symlink to nothing; refusing to replace it"
                )));
            }
        }
        Err(error) => return Err(fail(&error)),
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".to_string());
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".partial")
        .tempfile_in(directory)
        .map_err(|error| fail(&error))?;
    temporary
        .write_all((snapshot.to_json() + "\n").as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|error| fail(&error))?;
    // The temporary file is removed when dropped if the rename fails.
    temporary
        .persist(path)
        .map_err(|error| fail(&error.error))?;
    // The rename itself is durable once the directory is flushed; a
    // directory that cannot be opened (or synced) on this platform is not
    // an error.
    if let Ok(handle) = std::fs::File::open(directory) {
        let _ = handle.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_snapshot_never_overwrites_a_file_that_is_not_one() {
        let directory = tempfile::tempdir().unwrap();
        let precious = directory.path().join("notes.json");
        std::fs::write(&precious, "{\"mine\": true}").unwrap();
        let snapshot = Snapshot::new(None);
        assert!(write_snapshot(&precious, &snapshot).is_err());
        assert_eq!(
            std::fs::read_to_string(&precious).unwrap(),
            "{\"mine\": true}"
        );
        // An older snapshot is replaced, and no partial file is left behind.
        let old = directory.path().join("incident.json");
        std::fs::write(&old, Snapshot::new(Some("old".into())).to_json()).unwrap();
        write_snapshot(&old, &snapshot).unwrap();
        let written = Snapshot::parse("incident.json", &std::fs::read_to_string(&old).unwrap());
        assert_eq!(written.unwrap().captured_at, None);
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_runbook_naming_the_format_is_not_a_snapshot() {
        let directory = tempfile::tempdir().unwrap();
        let runbook = directory.path().join("runbook.md");
        let text = "# Incidents\n\nSnapshots are `kms-s3-doctor/snapshot@1` files.\n";
        std::fs::write(&runbook, text).unwrap();
        assert!(write_snapshot(&runbook, &Snapshot::new(None)).is_err());
        assert_eq!(std::fs::read_to_string(&runbook).unwrap(), text);
    }

    #[cfg(unix)]
    #[test]
    fn saving_never_touches_a_fixed_partial_name_nor_follows_its_symlink() {
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("incident.json");
        // A user's file at the old fixed temporary name, and a symlink there
        // pointing at another precious file: both stay as they are.
        let partial = directory.path().join("incident.json.partial");
        std::fs::write(&partial, "keep me").unwrap();
        let elsewhere = directory.path().join("elsewhere.txt");
        std::fs::write(&elsewhere, "precious").unwrap();
        let partial_link = directory.path().join("other.json.partial");
        std::os::unix::fs::symlink(&elsewhere, &partial_link).unwrap();
        write_snapshot(&target, &Snapshot::new(None)).unwrap();
        write_snapshot(&directory.path().join("other.json"), &Snapshot::new(None)).unwrap();
        assert_eq!(std::fs::read_to_string(&partial).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "precious");
        assert!(
            std::fs::symlink_metadata(&partial_link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(is_snapshot_text(&std::fs::read_to_string(&target).unwrap()));
        // The three files made above and the two snapshots: no temporary left.
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 5);
    }

    #[cfg(unix)]
    #[test]
    fn pipes_devices_and_oversized_files_are_refused() {
        let directory = tempfile::tempdir().unwrap();
        let error = load_snapshot(Path::new("/dev/zero"), 1 << 20)
            .err()
            .unwrap();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let big = directory.path().join("big.json");
        std::fs::write(&big, vec![b' '; 2 << 20]).unwrap();
        let error = load_snapshot(&big, 1 << 20).err().unwrap();
        assert!(error.to_string().contains("--max-snapshot-size"), "{error}");
    }
}
