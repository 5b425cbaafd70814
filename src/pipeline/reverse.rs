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
