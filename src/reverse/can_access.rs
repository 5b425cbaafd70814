//! `can-access`: what one principal can do, over every bucket of a
//! snapshot and every object the snapshot knows in each. Every row is
//! exactly the verdict `check --principal P --bucket B [--object K]` gives
//! for the same request (KMS included), judged once per (bucket, object),
//! by the verdict-only judge (no fixes, positions, reasons or evidence),
//! buckets shared out over the cores.

use crate::chain::{self, CheckRequest, JudgeError, Verdicts};
use crate::diagnosis::{LinkId, LinkStatus, Operation, OperationResult, Verdict};
use crate::snapshot::Snapshot;

/// One resource the principal was judged against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub bucket: String,
    /// `None`: the bucket itself, judged as `check` judges it without
    /// `--object` (a placeholder key at the bucket's root).
    pub object: Option<String>,
    /// One per operation asked, in the order asked.
    pub verdicts: Vec<(Operation, Verdict)>,
    /// Per operation: `None` when allowed, the first failing link when
    /// denied, the first unknown link when inconclusive.
    pub links: Vec<(Operation, Option<LinkId>)>,
}

impl Resource {
    /// The best verdict of any operation: what the text report sorts by
    /// first (a resource with anything allowed comes before one with
    /// nothing allowed).
    pub fn best(&self) -> Verdict {
        self.verdicts
            .iter()
            .map(|(_, verdict)| *verdict)
            .min()
            .unwrap_or(Verdict::Denied)
    }

    /// The worst verdict of any operation.
    pub fn worst(&self) -> Verdict {
        self.verdicts
            .iter()
            .map(|(_, verdict)| *verdict)
            .max()
            .unwrap_or(Verdict::Allowed)
    }

    /// Whether any operation has `verdict` (what `--only` keeps).
    pub fn has(&self, verdict: Verdict) -> bool {
        self.verdicts.iter().any(|(_, found)| *found == verdict)
    }

    fn of(bucket: &str, object: Option<&str>, verdicts: &Verdicts) -> Resource {
        Resource {
            bucket: bucket.to_string(),
            object: object.map(str::to_string),
            verdicts: verdicts
                .operations
                .iter()
                .map(|operation| (operation.operation, operation.verdict))
                .collect(),
            // The first failing link of a denied operation, the first
            // unknown one of an inconclusive one: what `deciding_link`
            // reads from a full diagnosis.
            links: verdicts
                .operations
                .iter()
                .map(|operation| (operation.operation, operation.first_broken))
                .collect(),
        }
    }
}

/// The whole answer for one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanAccess {
    pub principal: String,
    pub operations: Vec<Operation>,
    /// Allowed first, then inconclusive, then denied (see
    /// [`sort`]); within a verdict by bucket, then object.
    pub resources: Vec<Resource>,
}

/// The link that decided an operation not allowed: the first link, in the
/// order the chain meets them, of the status that made the verdict (`fail`
/// for denied, `unknown` for inconclusive); `None` when allowed.
pub fn deciding_link(operation: &OperationResult) -> Option<LinkId> {
    let status = match operation.verdict {
        Verdict::Allowed => return None,
        Verdict::Inconclusive => LinkStatus::Unknown,
        Verdict::Denied => LinkStatus::Fail,
    };
    operation
        .actions
        .iter()
        .flat_map(|action| action.links.iter())
        .find(|link| link.status == status)
        .map(|link| link.link)
}

/// Judges `template` (its principal, operations, context, role, time) over
/// every bucket of `snapshot` and every object the snapshot knows in it;
/// the template's bucket, object and access point are ignored. A request
/// the judge refuses (a malformed principal, an operation a bucket cannot
/// serve) is refused whole, as `check` would refuse it.
pub fn can_access(snapshot: &Snapshot, template: &CheckRequest) -> Result<CanAccess, JudgeError> {
    let mut work: Vec<(&str, Option<&str>)> = Vec::new();
    for bucket in &snapshot.buckets {
        work.push((&bucket.name, None));
        for object in &bucket.objects {
            work.push((&bucket.name, Some(&object.key)));
        }
    }
    let judge_one = |(bucket, object): (&str, Option<&str>)| -> Result<Resource, JudgeError> {
        let mut request = template.clone();
        request.bucket = bucket.to_string();
        request.object = object.map(str::to_string);
        request.access_point = None;
        let verdicts = chain::verdicts(snapshot, &request)?;
        Ok(Resource::of(bucket, object, &verdicts))
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(work.len().max(1));
    let mut resources: Vec<Resource> = if workers <= 1 || work.len() < 8 {
        work.into_iter().map(judge_one).collect::<Result<_, _>>()?
    } else {
        // Contiguous slices keep each worker's results in order, so the
        // answer does not depend on the number of cores.
        let chunk = work.len().div_ceil(workers);
        let parts: Vec<Result<Vec<Resource>, JudgeError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .chunks(chunk)
                .map(|slice| scope.spawn(move || slice.iter().copied().map(judge_one).collect()))
                .collect();
            handles
                .into_iter()
                .map(|handle| match handle.join() {
                    Ok(part) => part,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });
        let mut all = Vec::new();
        for part in parts {
            all.extend(part?);
        }
        all
    };
    sort(&mut resources);
    Ok(CanAccess {
        principal: template.principal.clone(),
        operations: template.operations.clone(),
        resources,
    })
}

/// Allowed → inconclusive → denied: by the best verdict of any operation,
/// then the worst (all allowed before partly allowed), then bucket and
/// object (the bucket's own row first).
pub fn sort(resources: &mut [Resource]) {
    resources.sort_by(|a, b| {
        (a.best(), a.worst(), &a.bucket, &a.object).cmp(&(
            b.best(),
            b.worst(),
            &b.bucket,
            &b.object,
        ))
    });
}
