//! Loading a directory snapshot for one question: only the files of the
//! accounts the question needs, merged as the whole directory would be,
//! whenever that gives the answer the whole directory gives; otherwise the
//! whole directory. Under `--debug`, stderr says which was done and why.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Error, files};
use crate::diagnosis::Operation;
use crate::snapshot::Snapshot;
use crate::snapshot::admit::{self, Admitted};
use crate::snapshot::lazy::LazyDirectory;

static DEBUG: AtomicBool = AtomicBool::new(false);

/// `--debug`: say on stderr what a directory snapshot's load read.
pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

fn debug(message: &str) {
    if DEBUG.load(Ordering::Relaxed) {
        eprintln!("kms-s3-doctor: {message}");
    }
}

/// A directory snapshot loaded in part: the snapshot, and how many of the
/// directory's files it was made of.
pub struct PartialLoad {
    pub snapshot: Snapshot,
    pub loaded: usize,
    pub files: usize,
}

fn bad(error: impl std::fmt::Display) -> Error {
    Error::BadInput(error.to_string())
}

fn open(path: &Path, limit: u64) -> Result<LazyDirectory, Error> {
    let directory = LazyDirectory::open(path, |file| reader(file, limit)).map_err(bad)?;
    if directory.scanned > 0 {
        debug(&format!(
            "snapshot directory `{}`: {} of its {} files are not in its manifest's index; each was read once to index it",
            path.display(),
            directory.scanned,
            directory.files.len()
        ));
    }
    Ok(directory)
}

fn reader(file: &Path, limit: u64) -> Result<Snapshot, String> {
    files::load_snapshot(file, limit)
        .map(|(snapshot, _)| snapshot)
        .map_err(|error| error.to_string())
}

/// Loads `chosen` when the files left out change no answer; `None` (and
/// why, under `--debug`) when only the whole directory answers exactly.
/// The files of a directory loaded so far, and the snapshot they make.
struct Loaded {
    chosen: BTreeSet<usize>,
    snapshot: Snapshot,
}

impl Loaded {
    fn new() -> Self {
        Self {
            chosen: BTreeSet::new(),
            snapshot: Snapshot::new(None),
        }
    }

    /// Loads `base` and the files of `accounts`, unless that set of files
    /// is the one loaded already.
    fn files(
        &mut self,
        directory: &LazyDirectory,
        base: &BTreeSet<usize>,
        accounts: &BTreeSet<String>,
        limit: u64,
    ) -> Result<(), Error> {
        let wanted: BTreeSet<usize> = base
            .iter()
            .copied()
            .chain(directory.files_for(accounts))
            .collect();
        if wanted != self.chosen {
            self.chosen = wanted;
            self.snapshot = directory
                .load(&self.chosen, |file| reader(file, limit))
                .map_err(bad)?;
        }
        Ok(())
    }

    /// What was loaded, unless the files left out could change an answer.
    fn finish(self, path: &Path, directory: &LazyDirectory) -> Option<PartialLoad> {
        if let Some(why) = directory.partial_load_differs(&self.chosen) {
            return whole(path, &why);
        }
        debug(&format!(
            "snapshot directory `{}`: loaded {} of its {} files",
            path.display(),
            self.chosen.len(),
            directory.files.len()
        ));
        Some(PartialLoad {
            snapshot: self.snapshot,
            loaded: self.chosen.len(),
            files: directory.files.len(),
        })
    }
}

fn whole<T>(path: &Path, why: &str) -> Option<T> {
    debug(&format!(
        "snapshot directory `{}`: loading every file: {why}",
        path.display()
    ));
    None
}

/// Operations whose principals S3 judges against this bucket alone: a
/// copy or a replication reaches another bucket too.
fn single_bucket(operations: &[Operation]) -> bool {
    operations.iter().all(|operation| {
        matches!(
            operation,
            Operation::List
                | Operation::Head
                | Operation::Get
                | Operation::Put
                | Operation::Multipart
        )
    })
}

/// The part of directory `path` that who-can needs to list every principal
/// not denied every operation on `bucket` (through `access_point`), with
/// role chains of up to `depth` roles: the accounts S3 can let at the
/// bucket, their role sessions, and the accounts their roles trust, hop by
/// hop. Every principal of another account is denied by S3, so who-can
/// over this part lists exactly the rows not denied that the whole
/// directory lists. `None`: load the whole directory.
pub fn who_can(
    path: &Path,
    limit: u64,
    bucket: &str,
    access_point: Option<&str>,
    operations: &[Operation],
    depth: usize,
) -> Result<Option<PartialLoad>, Error> {
    if !single_bucket(operations) {
        return Ok(whole(path, "an operation reaches a second bucket"));
    }
    let directory = open(path, limit)?;
    let mut base = directory.files_with_bucket(bucket);
    if base.is_empty() {
        // The whole directory words the refusal.
        return Ok(whole(path, &format!("no file holds bucket `{bucket}`")));
    }
    if let Some(point) = access_point {
        base.extend(directory.files_with_access_point(point));
    }
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    let mut loaded = Loaded::new();
    let mut hops = 0;
    loop {
        loaded.files(&directory, &base, &accounts, limit)?;
        let snapshot = &loaded.snapshot;
        let Some(found) = snapshot.buckets.iter().find(|info| info.name == bucket) else {
            return Ok(whole(path, &format!("bucket `{bucket}` is not whole")));
        };
        let point = match access_point {
            Some(wanted) => {
                let point = snapshot.access_point(wanted);
                if point.is_none() {
                    let why = format!("no file holds access point `{wanted}`");
                    return Ok(whole(path, &why));
                }
                point
            }
            None => None,
        };
        let mut more = match admit::bucket_side(found, point) {
            Admitted::Everyone(why) => return Ok(whole(path, &why)),
            Admitted::Accounts(more) => more,
        };
        for name in admit::key_names(found) {
            base.extend(directory.files_with_key(&name));
        }
        if more.is_subset(&accounts) && base.is_subset(&loaded.chosen) {
            // The bucket's side is settled: the next hop of role chains,
            // from the roles of every account loaded so far.
            if hops == depth {
                return Ok(loaded.finish(path, &directory));
            }
            hops += 1;
            match admit::trusted_by_roles(snapshot, &accounts) {
                Admitted::Everyone(why) => return Ok(whole(path, &why)),
                Admitted::Accounts(trusted) if trusted.is_subset(&accounts) => {
                    return Ok(loaded.finish(path, &directory));
                }
                Admitted::Accounts(trusted) => more.extend(trusted),
            }
        }
        accounts.extend(more);
    }
}

/// One `check` question's names: who asks, through which role, of which
/// bucket and access point.
pub struct Question<'q> {
    /// `None`: the directory's recorded caller.
    pub principal: Option<&'q str>,
    pub via_role: Option<&'q str>,
    pub bucket: &'q str,
    pub access_point: Option<&'q str>,
}

/// The part of directory `path` that `check` needs for `selection`: the
/// principal's account and the via role's, the bucket's owner, the access
/// point's accounts, the accounts of the keys the bucket uses, and the
/// organization's part. `None`: load the whole directory (also where the
/// whole directory words a refusal: no principal, an unknown bucket,
/// access point or principal).
pub fn check(
    path: &Path,
    limit: u64,
    selection: &super::Selection,
    operations: &[Operation],
) -> Result<Option<PartialLoad>, Error> {
    let question = Question {
        principal: selection.principal.as_deref(),
        via_role: selection.via_role.as_deref(),
        bucket: &selection.bucket,
        access_point: selection.access_point.as_deref(),
    };
    questions(path, limit, &[question], operations)
}

/// The part of directory `path` that `test` needs for `file`: what
/// `check` needs for each expectation, together. An expectation read from
/// a CloudTrail event names its principal only once the event is read:
/// the whole directory is loaded then.
pub fn test(
    path: &Path,
    limit: u64,
    file: &crate::access_tests::TestFile,
) -> Result<Option<PartialLoad>, Error> {
    if file.tests.iter().any(|test| test.event.is_some()) {
        return Ok(whole(path, "an expectation is read from an event"));
    }
    let asked: Vec<Question<'_>> = file
        .tests
        .iter()
        .map(|test| Question {
            principal: test.principal.as_deref(),
            via_role: test.via_role.as_deref(),
            bucket: &test.bucket,
            access_point: None,
        })
        .collect();
    let operations: Vec<Operation> = file
        .tests
        .iter()
        .flat_map(|test| test.operations.iter().copied())
        .collect();
    questions(path, limit, &asked, &operations)
}

/// What `check` needs for every question of `asked`, loaded together.
fn questions(
    path: &Path,
    limit: u64,
    asked: &[Question<'_>],
    operations: &[Operation],
) -> Result<Option<PartialLoad>, Error> {
    use crate::policy::arn::{Principal, PrincipalKind};
    if !single_bucket(operations) {
        return Ok(whole(path, "an operation reaches a second bucket"));
    }
    let directory = open(path, limit)?;
    let recorded = directory.caller();
    let mut accounts = BTreeSet::new();
    let mut base = BTreeSet::new();
    let mut named: Vec<String> = Vec::new();
    for question in asked {
        let Some(principal) = question
            .principal
            .map(str::to_string)
            .or_else(|| recorded.clone())
        else {
            return Ok(whole(path, "no principal is given or recorded"));
        };
        let Ok(caller) = Principal::parse_caller(&principal) else {
            return Ok(whole(
                path,
                &format!("`{principal}` is not a principal ARN"),
            ));
        };
        accounts.insert(caller.account.clone());
        named.push(principal);
        if let Some(role) = question.via_role {
            match crate::snapshot::lazy::arn_account(role) {
                Some(account) => accounts.insert(account.to_string()),
                None => return Ok(whole(path, &format!("`{role}` names no account"))),
            };
            named.push(role.to_string());
        }
        let files = directory.files_with_bucket(question.bucket);
        if files.is_empty() {
            let why = format!("no file holds bucket `{}`", question.bucket);
            return Ok(whole(path, &why));
        }
        base.extend(files);
        if let Some(point) = question.access_point {
            base.extend(directory.files_with_access_point(point));
        }
    }
    let mut loaded = Loaded::new();
    loop {
        loaded.files(&directory, &base, &accounts, limit)?;
        let snapshot = &loaded.snapshot;
        let mut more = BTreeSet::new();
        for question in asked {
            let bucket = question.bucket;
            let Some(found) = snapshot.buckets.iter().find(|info| info.name == bucket) else {
                return Ok(whole(path, &format!("bucket `{bucket}` is not whole")));
            };
            more.insert(found.account.clone());
            for name in admit::key_names(found) {
                base.extend(directory.files_with_key(&name));
                more.extend(crate::snapshot::lazy::arn_account(&name).map(str::to_string));
            }
            if let Some(wanted) = question.access_point {
                let Some(point) = snapshot.access_point(wanted) else {
                    let why = format!("no file holds access point `{wanted}`");
                    return Ok(whole(path, &why));
                };
                more.insert(point.account.clone());
                more.insert(point.bucket_account.clone());
            }
        }
        if more.is_subset(&accounts) && base.is_subset(&loaded.chosen) {
            break;
        }
        accounts.extend(more);
    }
    // An unknown principal is refused with the names of those the whole
    // snapshot holds.
    for arn in &named {
        let Ok(parsed) = Principal::parse_caller(arn) else {
            return Ok(whole(path, &format!("`{arn}` is not a principal ARN")));
        };
        if !matches!(parsed.kind, PrincipalKind::Root)
            && crate::chain::principal::find_info(&loaded.snapshot, &parsed).is_none()
        {
            return Ok(whole(path, &format!("no file holds principal `{arn}`")));
        }
    }
    Ok(loaded.finish(path, &directory))
}
