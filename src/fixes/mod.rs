//! Fixes a person can apply and trust. After the judge has said which
//! change mends which link, this module names each change's target document,
//! merges the changes into the whole document as the snapshot holds it,
//! gives the AWS CLI command that installs it, writes them for review
//! (`--write-fixes`), and judges the request again with every change applied
//! to a copy of the snapshot. The tool itself never writes to AWS.

mod alternatives;
mod command;
mod gather;
mod guard;
mod merge;
mod recheck;
mod target;
mod write;

pub use command::profile_variable;
pub use guard::{is_guard_key, weakened};
// The report's tests build diagnoses by hand and gather their changes the same way.
#[cfg(test)]
pub(crate) use gather::merge_changes;
pub use recheck::apply;
pub use write::{SCRIPT, TERRAFORM_FILE, WriteError, WriteOptions, write_fixes};

use crate::chain::{CheckRequest, Judgement};
use crate::diagnosis::{Diagnosis, FixTarget};
use crate::snapshot::Snapshot;

/// The document a change's target names, as the snapshot holds it (an
/// empty one for a document that does not exist yet): what `document_after`
/// is compared with to find what it widens.
pub fn document_as_read(snapshot: &Snapshot, target: &FixTarget) -> Option<serde_json::Value> {
    merge::base_document(snapshot, target)
}

/// Fills every change's target, document, command and the re-check of the
/// judgement of `request` over `snapshot`.
pub(crate) fn complete(
    snapshot: &Snapshot,
    request: &CheckRequest,
    judgement: Judgement,
) -> Diagnosis {
    let Judgement {
        mut diagnosis,
        contexts,
    } = judgement;
    diagnosis.changes = gather::merge_changes(&mut diagnosis.operations);
    target::resolve(snapshot, &mut diagnosis);
    gather::merge_same_targets(&mut diagnosis);
    let merged = merge::documents(snapshot, &mut diagnosis);
    alternatives::mark(&mut diagnosis);
    guard::declare(snapshot, &mut diagnosis);
    command::commands(&mut diagnosis);
    recheck::run(snapshot, request, &mut diagnosis, &contexts, &merged);
    command::withdraw_refused(&mut diagnosis);
    diagnosis
}
