//! Fixes a person can apply and trust. After the judge has said which
//! change mends which link, this module names each change's target document,
//! merges the changes into the whole document as the snapshot holds it,
//! gives the AWS CLI command that installs it, writes them for review
//! (`--write-fixes`), and judges the request again with every change applied
//! to a copy of the snapshot. The tool itself never writes to AWS.

mod command;
mod merge;
mod recheck;
mod target;
mod write;

pub use command::profile_variable;
pub use recheck::apply;
pub use write::{SCRIPT, WriteError, write_fixes};

use crate::chain::{CheckRequest, Shared};
use crate::diagnosis::Diagnosis;
use crate::snapshot::Snapshot;

/// Fills every change's target, document, command and the re-check.
pub(crate) fn complete(
    snapshot: &Snapshot,
    request: &CheckRequest,
    diagnosis: &mut Diagnosis,
    contexts: &Shared,
) {
    target::resolve(snapshot, diagnosis);
    let merged = merge::documents(snapshot, diagnosis);
    command::commands(diagnosis);
    recheck::run(snapshot, request, diagnosis, contexts, &merged);
}
