//! The evaluation adapter between the policy evaluator and the links: a
//! link's documents as read, what they say about the request (denies,
//! allows, which statements may apply), and the evidence and prose shared
//! by every link family.

use crate::diagnosis::{Evidence, EvidenceRole, LinkId, LinkResult, LinkStatus};

use super::unknown;
use crate::policy::logic::or;
use crate::policy::{
    Caller, Effect, Evaluation, Policy, PrincipalMatch, Request, StatementHit, Tri,
};

/// A document set of one link as read: unknown (with why), or known.
pub(super) enum Docs<'s> {
    Unknown(String),
    Known(Vec<&'s Policy>),
}

/// One link's evaluation for the request.
pub(super) struct Judged {
    pub(super) evaluation: Option<Evaluation>,
    pub(super) unread: Option<String>,
}

impl Judged {
    pub(super) fn of(docs: Docs<'_>, request: &Request<'_>) -> Self {
        match docs {
            Docs::Unknown(why) => Self {
                evaluation: None,
                unread: Some(why),
            },
            Docs::Known(policies) => Self {
                evaluation: Some(Evaluation::of(policies, request)),
                unread: None,
            },
        }
    }

    /// Whether an explicit deny applies.
    pub(super) fn denies(&self) -> Tri {
        let Some(evaluation) = &self.evaluation else {
            return Tri::Unknown;
        };
        let mut result = Tri::No;
        for hit in evaluation.denies() {
            result = or(result, hit.applies);
        }
        result
    }

    /// Whether an allow accepted by `counts` applies.
    pub(super) fn allows_with(&self, counts: impl Fn(&StatementHit) -> bool) -> Tri {
        let Some(evaluation) = &self.evaluation else {
            return Tri::Unknown;
        };
        let mut result = Tri::No;
        for hit in evaluation.allows().filter(|hit| counts(hit)) {
            result = or(result, hit.applies);
        }
        result
    }

    pub(super) fn allows(&self) -> Tri {
        self.allows_with(|_| true)
    }

    pub(super) fn hits(&self) -> &[StatementHit] {
        self.evaluation
            .as_ref()
            .map(|evaluation| evaluation.hits.as_slice())
            .unwrap_or(&[])
    }

    /// Statements of `effect` that certainly apply.
    pub(super) fn applying(&self, effect: Effect) -> Vec<&StatementHit> {
        self.hits()
            .iter()
            .filter(|hit| hit.effect == effect && hit.applies == Tri::Yes)
            .collect()
    }

    /// Evidence for the allows that apply (the first three).
    pub(super) fn allow_evidence(&self) -> Vec<Evidence> {
        self.applying(Effect::Allow)
            .into_iter()
            .take(3)
            .map(evidence_of)
            .collect()
    }

    /// What an unknown link says about `subject` (`the bucket policy`): the
    /// document could not be read, or the context keys the answer hangs on,
    /// or that it is needed only depending on another unknown link.
    pub(super) fn unknown_finding(
        &self,
        subject: &str,
        action: &str,
        dependent_help: &str,
    ) -> UnknownFinding {
        if let Some(why) = &self.unread {
            return UnknownFinding {
                reason: format!("{subject} could not be read"),
                evidence: Vec::new(),
                unknown_keys: Vec::new(),
                help: Some(why.clone()),
            };
        }
        let unknown_keys = unknown_keys_of(self.hits().iter());
        let evidence = self
            .hits()
            .iter()
            .filter(|hit| hit.applies == Tri::Unknown)
            .map(evidence_of)
            .collect();
        if unknown_keys.is_empty() {
            return UnknownFinding {
                reason: format!(
                    "whether {subject} is needed depends on another link's unknown result"
                ),
                evidence,
                unknown_keys,
                help: Some(dependent_help.to_string()),
            };
        }
        UnknownFinding {
            reason: format!(
                "whether {subject} allows {action} hangs on {}",
                unknown_keys.join(", ")
            ),
            evidence,
            help: Some(context_help(&unknown_keys)),
            unknown_keys,
        }
    }
}

/// The explanation of an unknown link.
pub(super) struct UnknownFinding {
    pub(super) reason: String,
    pub(super) evidence: Vec<Evidence>,
    pub(super) unknown_keys: Vec<String>,
    pub(super) help: Option<String>,
}

impl UnknownFinding {
    pub(super) fn into_link(self, link: LinkId) -> LinkResult {
        LinkResult {
            evidence: self.evidence,
            unknown_keys: self.unknown_keys,
            ..unknown(link, self.reason, self.help)
        }
    }
}

/// Status from the three facts (see the module doc).
pub(super) fn status_of(denies: Tri, allows: Tri, needed: Tri) -> LinkStatus {
    if denies == Tri::Yes {
        return LinkStatus::Fail;
    }
    if allows == Tri::Yes {
        return if denies == Tri::Unknown {
            LinkStatus::Unknown
        } else {
            LinkStatus::Pass
        };
    }
    match needed {
        Tri::No if denies == Tri::Unknown => LinkStatus::Unknown,
        Tri::No => LinkStatus::Pass,
        Tri::Yes if allows == Tri::Unknown => LinkStatus::Unknown,
        Tri::Yes => LinkStatus::Fail,
        Tri::Unknown => LinkStatus::Unknown,
    }
}

pub(super) fn evidence_of(hit: &StatementHit) -> Evidence {
    Evidence {
        document: hit.document.clone(),
        statement: Some(hit.statement),
        sid: hit.sid.clone(),
        line: hit.line,
        role: match (hit.effect, hit.applies) {
            (_, Tri::Unknown) => EvidenceRole::MayApply,
            (Effect::Allow, _) => EvidenceRole::Allows,
            (Effect::Deny, _) => EvidenceRole::Denies,
        },
    }
}

/// Allow statements of `policy` that name the caller but did not allow the
/// request (another action, resource, or a condition that does not hold):
/// usually the statement to edit.
pub(super) fn near_misses(policy: Option<&Policy>, caller: &Caller) -> Vec<Evidence> {
    let Some(policy) = policy else {
        return Vec::new();
    };
    policy
        .statements()
        .iter()
        .filter(|statement| statement.effect() == Effect::Allow)
        .filter(|statement| statement.names_principal(caller).is_some())
        .take(3)
        .map(|statement| Evidence {
            document: policy.label().to_string(),
            statement: Some(statement.index()),
            sid: statement.sid().map(str::to_string),
            line: statement.line(),
            role: EvidenceRole::Context,
        })
        .collect()
}

/// ` ; statement 1 (`Sid`) names it but does not allow this request`, or nothing.
pub(super) fn near_miss_note(near: &[Evidence], action: &str) -> String {
    match near.first() {
        Some(first) => format!(
            "; statement {}{} names it but does not allow {action} here (another action or resource, or a condition that does not hold)",
            first.statement.unwrap_or_default(),
            first
                .sid
                .as_deref()
                .map(|sid| format!(" (`{sid}`)"))
                .unwrap_or_default()
        ),
        None => String::new(),
    }
}

pub(super) fn unknown_keys_of<'a>(hits: impl Iterator<Item = &'a StatementHit>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for hit in hits.filter(|hit| hit.applies == Tri::Unknown) {
        for key in &hit.unknown_keys {
            if !keys.iter().any(|seen| seen.eq_ignore_ascii_case(key)) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

pub(super) fn context_help(keys: &[String]) -> String {
    let examples: Vec<String> = keys
        .iter()
        .map(|key| format!("--context {key}=VALUE"))
        .collect();
    format!(
        "the result depends on request values the tool cannot know; supply them with {}",
        examples.join(" ")
    )
}

pub(super) fn unread(what: &str, error: &Option<String>, help: &str) -> String {
    match error {
        Some(error) => format!("{what} could not be read ({error}); {help}"),
        None => format!("{what} were not read; {help}"),
    }
}

/// Whether an allow of the resource policy names the principal in one of
/// `kinds`.
pub(super) fn grants_as(judged: &Judged, kinds: &[PrincipalMatch]) -> Tri {
    judged.allows_with(|hit| {
        hit.principal_match
            .is_some_and(|kind| kinds.contains(&kind))
    })
}

pub(super) const DIRECT: [PrincipalMatch; 4] = [
    PrincipalMatch::User,
    PrincipalMatch::Session,
    PrincipalMatch::Role,
    PrincipalMatch::Wildcard,
];
pub(super) const UNCAPPED: [PrincipalMatch; 3] = [
    PrincipalMatch::User,
    PrincipalMatch::Session,
    PrincipalMatch::Wildcard,
];
