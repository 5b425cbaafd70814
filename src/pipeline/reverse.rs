//! The stages the reverse questions share with `check` (source,
//! assumptions, layers), then the who-can judgement over the snapshot they
//! leave. No fixes and no positions: a row shown in detail is judged again
//! as `check` judges it.

use chrono::{DateTime, Utc};

use crate::diagnosis::{Operation, Verdict};
use crate::reverse::{Row, WhoCanRequest};
use crate::snapshot::{Assumption, Snapshot};

use super::{Error, Layer, Selection, Source, files, lay_layers, lazy};

/// Everything `who-can` judges.
#[derive(Debug, Clone)]
pub struct WhoCan {
    pub source: Source,
    /// The bucket, object, access point and context; its principal is the
    /// caller whose chain is read live, and is not a row filter.
    pub selection: Selection,
    pub operations: Vec<Operation>,
    pub assumptions: Vec<Assumption>,
    /// In the order given: a later one wins.
    pub layers: Vec<Layer>,
    /// `aws:CurrentTime`; `None`: the moment of judging, after gathering.
    pub now: Option<DateTime<Utc>>,
    /// The rows the answer is cut to afterwards (`--only`): when only rows
    /// allowed or inconclusive are wanted, a directory snapshot loads only
    /// the accounts that can be let at the bucket.
    pub only: Option<Verdict>,
    /// The role chains listed afterwards (`--assume-depth`), whose callers'
    /// accounts a directory snapshot must load too.
    pub assume_depth: usize,
}

/// A finished `who-can`, with the snapshot it was judged from (to show a
/// row in detail or draw its paths).
pub struct WhoCanAnswer {
    pub rows: Vec<Row>,
    pub request: WhoCanRequest,
    pub snapshot: Snapshot,
    /// For a directory snapshot loaded in part: how many of its files
    /// were loaded, of how many.
    pub loaded_files: Option<(usize, usize)>,
}

/// The snapshot the reverse questions read: the file (or what AWS gives
/// for the selection's chain), with the assumptions and layers laid.
pub fn load(
    source: &Source,
    selection: &Selection,
    assumptions: &[Assumption],
    layers: &[Layer],
) -> Result<Snapshot, Error> {
    let mut snapshot = match source {
        Source::File { path, limit } => files::load_snapshot(path, *limit)?.0,
        Source::Aws(aws) => super::gather(selection, aws)?.0,
    };
    snapshot.assume(assumptions);
    lay_layers(&mut snapshot, layers)?;
    Ok(snapshot)
}

/// `who-can`: every stage it needs, then every row judged.
pub fn who_can(input: &WhoCan) -> Result<WhoCanAnswer, Error> {
    let (snapshot, loaded_files) = match partial_load(input)? {
        Some(partial) => {
            let mut snapshot = partial.snapshot;
            snapshot.assume(&input.assumptions);
            (snapshot, Some((partial.loaded, partial.files)))
        }
        None => (
            load(
                &input.source,
                &input.selection,
                &input.assumptions,
                &input.layers,
            )?,
            None,
        ),
    };
    let selection = &input.selection;
    let request = WhoCanRequest {
        bucket: selection.bucket.clone(),
        object: selection.object.clone(),
        access_point: selection.access_point.clone(),
        operations: input.operations.clone(),
        now: input.now.unwrap_or_else(Utc::now),
        context: selection.context.clone(),
    };
    let rows = crate::reverse::who_can(&snapshot, &request)
        .map_err(|error| Error::BadInput(error.to_string()))?;
    Ok(WhoCanAnswer {
        rows,
        request,
        snapshot,
        loaded_files,
    })
}

/// Everything `can-access` reads from AWS: the principal's chain (its
/// identity policies, boundary, groups, the `--via-role` role, their
/// organizations) and every bucket the accounts of the bucket-side
/// profiles own, each with its keys, read as `check` reads its one bucket.
#[derive(Debug, Clone)]
pub struct CanAccessLive {
    pub aws: super::Aws,
    pub principal: String,
    pub via_role: Option<String>,
    /// `--context` pairs: a key named by
    /// `s3:x-amz-server-side-encryption-aws-kms-key-id` is read too.
    pub context: Vec<(String, String)>,
    pub assumptions: Vec<Assumption>,
    /// Where to write what was read (assumptions recorded, layers not laid).
    pub save_snapshot: Option<std::path::PathBuf>,
    /// In the order given: a later one wins.
    pub layers: Vec<Layer>,
}

/// What `can-access` read live, ready to judge.
pub struct CanAccessRead {
    /// With the assumptions recorded and the layers laid. An account
    /// whose buckets could not be listed says why in its `buckets_error`.
    pub snapshot: Snapshot,
    /// A failed `--save-snapshot` does not stop the judging; the caller
    /// says it after the report.
    pub save_failure: Option<Error>,
}

/// Reads what [`CanAccessLive`] names from AWS, records the assumptions,
/// saves it when asked (as `snapshot --all-buckets` would write it), then
/// lays the layers.
pub fn can_access_live(input: &CanAccessLive) -> Result<CanAccessRead, Error> {
    let selection = Selection {
        principal: Some(input.principal.clone()),
        via_role: input.via_role.clone(),
        context: input.context.clone(),
        ..Selection::default()
    };
    let everyone = super::Everyone {
        every_bucket: true,
        ..super::Everyone::default()
    };
    let (mut snapshot, _principal, _warnings) =
        super::gather_everyone(&selection, &input.aws, &everyone)?;
    snapshot.assume(&input.assumptions);
    let save_failure = match &input.save_snapshot {
        Some(path) => files::write_snapshot(path, &snapshot).err(),
        None => None,
    };
    lay_layers(&mut snapshot, &input.layers)?;
    Ok(CanAccessRead {
        snapshot,
        save_failure,
    })
}

/// A directory snapshot loaded in part, when the rows wanted are those
/// not denied and no layer is laid (a plan may add to any account).
fn partial_load(input: &WhoCan) -> Result<Option<lazy::PartialLoad>, Error> {
    let Source::File { path, limit } = &input.source else {
        return Ok(None);
    };
    let wanted = matches!(input.only, Some(Verdict::Allowed | Verdict::Inconclusive));
    if !wanted || !input.layers.is_empty() || !path.is_dir() {
        return Ok(None);
    }
    lazy::who_can(
        path,
        *limit,
        &input.selection.bucket,
        input.selection.access_point.as_deref(),
        &input.operations,
        input.assume_depth,
    )
}
