//! `snapshot --org-profile P --member-role NAME --output DIR_OR_FILE`: an
//! organization sweep into a directory snapshot (`--output` without a
//! `.json` ending), or into one file: then the sweep's directory is
//! `FILE.parts/` beside it, merged into FILE at the end and removed, and
//! kept when the sweep stops early so that `--resume` continues it.

use std::path::{Path, PathBuf};

use super::Error;
use super::files::write_snapshot;
use crate::snapshot::directory::{Manifest, part_files};
use crate::snapshot::merge::merge;
use crate::snapshot::shard::Shard;

/// Everything a sweep needs.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub aws: super::Aws,
    pub member_role: String,
    pub external_id: Option<String>,
    pub role_session_name: String,
    /// `--accounts`: only these (empty: every account of the organization).
    pub accounts: Vec<String>,
    /// `--regions`: where keys and access points are read (empty: the
    /// profile's region).
    pub regions: Vec<String>,
    pub shard: Option<Shard>,
    pub resume: bool,
    pub output: PathBuf,
    /// Stop after this many accounts are written, as an interruption would
    /// (for tests of `--resume`).
    pub stop_after: Option<usize>,
}

/// What a finished sweep did.
#[derive(Debug, Clone, Default)]
pub struct SweepOutcome {
    pub organization: Option<String>,
    /// Accounts of the organization in this sweep (after `--accounts` and
    /// `--shard`).
    pub accounts: usize,
    /// Read now.
    pub read: usize,
    /// Finished by an earlier run (`--resume`).
    pub skipped: usize,
    /// Account and why it could not be read: recorded as unknown.
    pub unreadable: Vec<(String, String)>,
    /// Requests sent.
    pub requests: usize,
    /// Retries, throttling and failures, as one line (empty without them).
    pub summary: String,
    /// Stopped before every account was read (`stop_after`).
    pub stopped: bool,
    /// Where the snapshot is.
    pub output: PathBuf,
}

/// Whether `--output` names one file (`.json`) rather than a directory.
fn is_file_output(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
        && !path.is_dir()
}

/// Runs the sweep.
pub fn sweep(input: &Sweep) -> Result<SweepOutcome, Error> {
    let file_output = is_file_output(&input.output);
    let dir = if file_output {
        let mut name = input.output.clone().into_os_string();
        name.push(".parts");
        PathBuf::from(name)
    } else {
        input.output.clone()
    };
    let manifest = prepare(&dir, input.resume, file_output)?;
    let shard = input.shard.map(|shard| shard.to_string());
    if manifest.shard.is_some() && manifest.shard != shard {
        return Err(Error::BadInput(format!(
            "--resume: `{}` holds shard {} of a sweep, not {}; resume it with the same --shard",
            dir.display(),
            manifest.shard.as_deref().unwrap_or_default(),
            shard.as_deref().unwrap_or("the whole organization")
        )));
    }
    let mut outcome = run(input, &dir, &manifest)?;
    if file_output && !outcome.stopped {
        let mut parts = Vec::new();
        for file in part_files(&dir).map_err(Error::BadInput)? {
            let (snapshot, _) = super::files::load_snapshot(&file, u64::MAX)?;
            parts.push((file.display().to_string(), snapshot));
        }
        let merged = merge(&input.output.display().to_string(), &parts)
            .map_err(|error| Error::BadInput(error.to_string()))?;
        write_snapshot(&input.output, &merged)?;
        // Everything is in the file now; the parts were the sweep's own.
        let _ = std::fs::remove_dir_all(&dir);
        outcome.output = input.output.clone();
    } else {
        outcome.output = dir;
    }
    Ok(outcome)
}

/// The sweep's directory, ready: created when new; with `--resume`, its
/// manifest; without, it must be new or empty (a sweep never mixes its
/// accounts with another's files).
fn prepare(dir: &Path, resume: bool, file_output: bool) -> Result<Manifest, Error> {
    let bad = |message: String| Error::BadInput(message);
    if dir.exists() && !dir.is_dir() {
        return Err(bad(format!(
            "--output `{}` exists and is not a directory; give a new directory (or a `.json` file) for the sweep",
            dir.display()
        )));
    }
    let used = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if used && !resume {
        let what = if file_output {
            "a sweep into this file was interrupted and left its parts"
        } else {
            "it is not empty"
        };
        return Err(bad(format!(
            "`{}`: {what}; continue that sweep with --resume, or give a new --output",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|error| bad(format!("cannot create `{}`: {error}", dir.display())))?;
    Manifest::read(dir).map_err(bad)
}

#[cfg(feature = "live")]
fn run(input: &Sweep, dir: &Path, manifest: &Manifest) -> Result<SweepOutcome, Error> {
    let request = crate::live::sweep::SweepRequest {
        org_profile: input.aws.org_profiles.first().cloned().unwrap_or_default(),
        member_role: input.member_role.clone(),
        external_id: input.external_id.clone(),
        role_session_name: input.role_session_name.clone(),
        accounts: input.accounts.clone(),
        regions: input.regions.clone(),
        shard: input.shard,
        region: input.aws.region.clone(),
        endpoint_url: input.aws.endpoint_url.clone(),
        timeout: input.aws.timeout,
        progress: input.aws.progress,
        quiet: input.aws.quiet,
        limits: crate::live::LiveLimits {
            max_attempts: input.aws.max_attempts,
            max_concurrency: input.aws.max_concurrency,
            rates: input.aws.rates.clone(),
        },
        dir: dir.to_path_buf(),
        manifest: manifest.clone(),
        stop_after: input.stop_after,
    };
    let swept =
        crate::live::sweep::sweep(&request).map_err(|error| Error::Gather(error.to_string()))?;
    Ok(SweepOutcome {
        organization: swept.organization,
        accounts: swept.accounts,
        read: swept.read,
        skipped: swept.skipped,
        unreadable: swept.unreadable,
        requests: swept.summary.requests,
        summary: if swept.summary.eventful() {
            swept.summary.to_string()
        } else {
            String::new()
        },
        stopped: swept.stopped,
        output: PathBuf::new(),
    })
}

#[cfg(not(feature = "live"))]
fn run(_input: &Sweep, _dir: &Path, _manifest: &Manifest) -> Result<SweepOutcome, Error> {
    Err(super::no_live_mode())
}
