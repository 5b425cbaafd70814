//! The verdict-only judge: per operation and per action, the verdict and
//! the first broken link, and nothing a report reads beyond them (no
//! reasons, evidence, notes, proposed changes or positions). It is the same
//! evaluation as [`super::judge`], run with [`Detail::Verdict`]: every link
//! decides its status as it always does and only skips the words, so the
//! two cannot drift apart. The reverse questions and `test` ask it first,
//! and judge in full only what they show in detail.

use crate::diagnosis::{
    ActionResult, Diagnosis, LinkId, LinkStatus, Operation, OperationResult, Verdict,
};
use crate::snapshot::Snapshot;

use super::{CheckRequest, Detail, JudgeError, context, judge_operations, prepare, verdict_of};

/// What the judge decides about a request, without the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdicts {
    /// The worst verdict of the operations.
    pub verdict: Verdict,
    /// Per operation of the request, in its order.
    pub operations: Vec<OperationVerdict>,
}

/// One operation's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationVerdict {
    pub operation: Operation,
    pub verdict: Verdict,
    /// The first failing link of its actions in report order, else the
    /// first unknown one; None when allowed.
    pub first_broken: Option<LinkId>,
    pub actions: Vec<ActionVerdict>,
}

/// One action's verdict, with the status of each of its links in report
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionVerdict {
    pub action: String,
    pub verdict: Verdict,
    /// As [`OperationVerdict::first_broken`], within this action.
    pub first_broken: Option<LinkId>,
    pub links: Vec<(LinkId, LinkStatus)>,
}

/// Judges every requested operation, deciding what [`super::judge`]
/// decides (the same verdicts, link statuses and first broken links, and
/// the same refusals) without its words.
pub fn verdicts(snapshot: &Snapshot, request: &CheckRequest) -> Result<Verdicts, JudgeError> {
    let contexts = context::Shared::default();
    let setup = prepare(snapshot, request, &contexts, Detail::Verdict)?;
    let operations = judge_operations(&setup, None);
    Ok(Verdicts {
        verdict: verdict_of(&operations),
        operations: operations.iter().map(OperationVerdict::of).collect(),
    })
}

impl Verdicts {
    /// What a full diagnosis decides, read from it.
    pub fn of(diagnosis: &Diagnosis) -> Self {
        Self {
            verdict: diagnosis.verdict,
            operations: diagnosis
                .operations
                .iter()
                .map(OperationVerdict::of)
                .collect(),
        }
    }
}

impl OperationVerdict {
    fn of(operation: &OperationResult) -> Self {
        let actions: Vec<ActionVerdict> = operation.actions.iter().map(ActionVerdict::of).collect();
        Self {
            operation: operation.operation,
            verdict: operation.verdict,
            first_broken: first_broken(actions.iter().flat_map(|action| &action.links)),
            actions,
        }
    }

    /// Whether `link` has `status` in any of the operation's actions.
    pub fn has(&self, link: LinkId, status: LinkStatus) -> bool {
        self.actions
            .iter()
            .any(|action| action.links.contains(&(link, status)))
    }
}

impl ActionVerdict {
    fn of(action: &ActionResult) -> Self {
        let links: Vec<(LinkId, LinkStatus)> = action
            .links
            .iter()
            .map(|link| (link.link, link.status))
            .collect();
        Self {
            action: action.action.clone(),
            verdict: action.verdict,
            first_broken: first_broken(links.iter()),
            links,
        }
    }
}

/// The first failing link, else the first unknown one.
fn first_broken<'a>(
    links: impl Iterator<Item = &'a (LinkId, LinkStatus)> + Clone,
) -> Option<LinkId> {
    [LinkStatus::Fail, LinkStatus::Unknown]
        .into_iter()
        .find_map(|wanted| {
            links
                .clone()
                .find(|(_, status)| *status == wanted)
                .map(|(link, _)| *link)
        })
}
