//! Deciding a link that is unknown only through context keys whose every
//! possible value gives it the same result. The action is judged again
//! once per world: one value for each such key, taken from the classes of
//! values the policies' conditions can tell apart (the request without the
//! key, each value tested, a value between or beside the tested ones, one
//! matching none; see `representatives`). A link whose status is the same
//! decided status in every world is decided, and says so ("denied whatever
//! `aws:MultiFactorAuthPresent` is"); any other stays unknown.
//!
//! AWS evaluates one request with one request context (IAM User Guide,
//! "Policy evaluation logic": the request context is built once and every
//! policy is evaluated against it), so a world gives a key the same value in
//! every document of the action. Worlds that AWS could never build (two
//! network keys that exclude each other, both present) are judged too: that
//! can only keep a link unknown, never decide it wrongly.

use std::sync::Arc;

use crate::diagnosis::{FixChange, LinkId, LinkResult, LinkStatus};
use crate::policy::context::{ContextValue, RequestContext};
use crate::snapshot::PolicyDoc;

use super::ActionFacts;

/// Above this many worlds the links stay unknown.
const MAX_WORLDS: usize = 4096;

/// One key the worlds vary, with its values.
struct Axis {
    key: String,
    values: Vec<ContextValue>,
}

/// Replaces each unknown link of `links` that every world decides alike by
/// that decision. `judge` judges the action's links for a context.
pub(super) fn decide_over_worlds(
    links: &mut [LinkResult],
    facts: &ActionFacts<'_, '_>,
    judge: impl Fn(&ActionFacts<'_, '_>) -> Vec<LinkResult>,
) {
    let undecided: Vec<LinkId> = links
        .iter()
        .filter(|link| link.status == LinkStatus::Unknown && link.assumed.is_none())
        .map(|link| link.link)
        .collect();
    if undecided.is_empty() {
        return;
    }
    let axes = axes_of(links, facts);
    if axes.is_empty() {
        return;
    }
    let count = axes.iter().map(|axis| axis.values.len()).product();
    // Per undecided link: the status every world so far gave it, or None
    // once two worlds disagree (or one leaves it unknown).
    let mut agreed: Vec<(LinkId, Option<LinkStatus>)> =
        undecided.iter().map(|&link| (link, None)).collect();
    let mut open: Vec<bool> = vec![true; agreed.len()];
    let mut first: Vec<LinkResult> = Vec::new();
    for world in 0..count {
        let mut context = RequestContext::on(Arc::clone(facts.context.get()));
        let mut rest = world;
        for axis in &axes {
            match &axis.values[rest % axis.values.len()] {
                ContextValue::Present(values) => {
                    context.set_values(axis.key.clone(), values.clone())
                }
                ContextValue::Absent => context.set_absent(axis.key.clone()),
                ContextValue::Unknown => context.set_unknown(axis.key.clone()),
            }
            rest /= axis.values.len();
        }
        let judged = judge(&facts.with_context(Arc::new(context)));
        for ((link, status), still) in agreed.iter_mut().zip(open.iter_mut()) {
            if !*still {
                continue;
            }
            let here = judged
                .iter()
                .find(|result| result.link == *link)
                .map(|result| result.status);
            match (here, *status) {
                (Some(LinkStatus::Unknown) | None, _) => *still = false,
                (Some(here), Some(before)) if here != before => *still = false,
                (Some(here), _) => *status = Some(here),
            }
        }
        if world == 0 {
            first = judged;
        }
        if !open.iter().any(|still| *still) {
            return;
        }
    }
    for ((link, status), still) in agreed.into_iter().zip(open) {
        let (true, Some(status)) = (still, status) else {
            continue;
        };
        let (Some(slot), Some(decided)) = (
            links.iter_mut().find(|result| result.link == link),
            first.iter().find(|result| result.link == link),
        ) else {
            continue;
        };
        *slot = decided_link(slot, decided.clone(), status, &axes);
    }
}

/// The keys to vary: those the unknown links hang on that are context keys
/// this request cannot know, used in no policy variable, and whose values
/// the conditions on them partition exactly; their worlds number at most
/// [`MAX_WORLDS`], or there are none. A link unknown only because another
/// link's answer is (whether it is needed hangs on an allow that may
/// apply) names no key itself, and the key may hang on a link decided
/// otherwise (a deny that applies whatever the allow does): then every
/// other unknown key some condition tests is varied too, as far as the
/// limit allows.
fn axes_of(links: &[LinkResult], facts: &ActionFacts<'_, '_>) -> Vec<Axis> {
    let mut keys: Vec<String> = Vec::new();
    let push = |key: &str, keys: &mut Vec<String>| {
        if crate::policy::open_reading(key).is_none()
            && !key.contains(char::is_whitespace)
            && !keys.iter().any(|seen| seen.eq_ignore_ascii_case(key))
            && matches!(facts.context.get().get(key), ContextValue::Unknown)
        {
            keys.push(key.to_string());
        }
    };
    let unknown = links
        .iter()
        .filter(|link| link.status == LinkStatus::Unknown);
    for link in unknown.clone() {
        for key in &link.unknown_keys {
            push(key, &mut keys);
        }
    }
    let named = keys.len();
    // Every document of the snapshot: a world needs a value of each class
    // that any document evaluated for the action can tell apart, and
    // classes finer than needed only add worlds. A document the judge
    // reads must therefore be one `Snapshot::documents` lists.
    let documents = facts.setup.documents();
    let conditions = || {
        documents.iter().flat_map(|doc| {
            doc.policy
                .statements()
                .iter()
                .flat_map(|statement| statement.conditions())
        })
    };
    if unknown.clone().any(|link| link.unknown_keys.is_empty()) {
        for condition in conditions() {
            push(condition.key(), &mut keys);
        }
    }
    let mut axes = Vec::new();
    let mut count = 1usize;
    for (at, key) in keys.into_iter().enumerate() {
        let values = (!documents.iter().any(|doc| uses_as_variable(doc, &key)))
            .then(|| crate::policy::representatives(&key, conditions()))
            .flatten();
        let Some(values) = values else {
            continue;
        };
        match count.checked_mul(values.len()) {
            Some(more) if more <= MAX_WORLDS => {
                count = more;
                axes.push(Axis { key, values });
            }
            // The keys the unknown links name come first and must all fit.
            _ if at < named => return Vec::new(),
            _ => {}
        }
    }
    axes
}

/// Whether `doc` names `key` inside a policy variable (`${aws:SourceIp}`):
/// the key's value is then compared with other values than the
/// conditions' constants, which the classes do not account for.
fn uses_as_variable(doc: &PolicyDoc, key: &str) -> bool {
    if !doc.raw().contains("${") {
        return false;
    }
    let text = doc.raw().to_ascii_lowercase();
    let key = key.to_ascii_lowercase();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}').unwrap_or(after.len());
        if after[..end].contains(key.as_str()) {
            return true;
        }
        rest = &after[end..];
    }
    false
}

/// The link as decided: the first world's result (every key absent), its
/// reason led by what was decided and over which keys. A remedy on the
/// caller's side that sets one of these keys is dropped: no value of them
/// changes the result.
fn decided_link(
    undecided: &LinkResult,
    mut decided: LinkResult,
    status: LinkStatus,
    axes: &[Axis],
) -> LinkResult {
    let own: Vec<&Axis> = axes
        .iter()
        .filter(|axis| {
            undecided
                .unknown_keys
                .iter()
                .any(|key| key.eq_ignore_ascii_case(&axis.key))
        })
        .collect();
    let named: Vec<&Axis> = if own.is_empty() {
        axes.iter().collect()
    } else {
        own
    };
    let word = match status {
        LinkStatus::Fail => "denied",
        _ => "allowed",
    };
    let keys: Vec<String> = named.iter().map(|axis| format!("`{}`", axis.key)).collect();
    let (keys, verb, pronoun) = match keys.as_slice() {
        [one] => (one.clone(), "is", "it"),
        _ => (and_list(&keys), "are", "them"),
    };
    let tried: Vec<String> = named
        .iter()
        .map(|axis| {
            let values: Vec<String> = axis.values.iter().map(value_words).collect();
            let shown = if values.len() > 6 {
                format!("{} and {} more", values[..6].join(", "), values.len() - 6)
            } else {
                values.join(", ")
            };
            if named.len() == 1 {
                shown
            } else {
                format!("{}: {shown}", axis.key)
            }
        })
        .collect();
    decided.reason = format!(
        "{word} whatever {keys} {verb} (every value the policies tell apart gives the same result: {}); with {pronoun} absent, {}",
        tried.join("; "),
        decided.reason
    );
    decided.unknown_keys = Vec::new();
    let sets_axis = decided.fix.as_ref().is_some_and(|fix| {
        fix.change == FixChange::Request
            && fix.flags.iter().any(|flag| {
                axes.iter().any(|axis| {
                    flag.to_ascii_lowercase()
                        .starts_with(&format!("{}=", axis.key.to_ascii_lowercase()))
                })
            })
    });
    if sets_axis {
        decided.fix = None;
    }
    // Advice written for the first world ("make the request with
    // aws:MultiFactorAuthPresent true") is wrong when no value helps.
    let mentions_axis = |text: &str| {
        let lowered = text.to_ascii_lowercase();
        axes.iter()
            .any(|axis| lowered.contains(&axis.key.to_ascii_lowercase()))
    };
    if decided.help.as_deref().is_some_and(mentions_axis) {
        decided.help = Some(format!(
            "no value of {keys} the request could carry changes this result; only a change to the policies does"
        ));
    }
    if let Some(fix) = decided.fix.as_mut()
        && fix.note.as_deref().is_some_and(mentions_axis)
    {
        fix.note = None;
    }
    decided
}

fn value_words(value: &ContextValue) -> String {
    match value {
        ContextValue::Absent => "absent".to_string(),
        ContextValue::Present(values) => format!("`{}`", values.join("`, `")),
        ContextValue::Unknown => "unknown".to_string(),
    }
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
