//! The evaluation adapter between the policy evaluator and the links: a
//! link's documents as read, what they say about the request (denies,
//! allows, which statements may apply), and the evidence and prose shared
//! by every link family.

use std::sync::Arc;

use crate::diagnosis::{Evidence, EvidenceRole, Fix, FixChange, LinkId, LinkResult, LinkStatus};
use crate::snapshot::{DocRef, PolicyDoc};

use super::unknown;
use crate::policy::logic::or;
use crate::policy::{
    ConditionCheck, Effect, Evaluation, Mismatch, Policy, PrincipalMatch, Request, Statement,
    StatementHit, Tri, VariableElement,
};

/// A document set of one link as read: unknown (with why), or known.
pub(super) enum Docs<'s> {
    Unknown(String),
    Known(Vec<&'s PolicyDoc>),
}

/// The identities of the documents evaluated together, by position: what
/// a hit's `document` indexes.
pub(super) type Ids = [Option<Arc<DocRef>>];

/// One link's evaluation for the request.
pub(super) struct Judged {
    pub(super) evaluation: Option<Evaluation>,
    /// The identity of each document evaluated, by position.
    pub(super) ids: Vec<Option<Arc<DocRef>>>,
    pub(super) unread: Option<String>,
    /// The conditions an undecided statement hangs on, said with the values
    /// the policy lists (`statement 2 (`AccessViaVpceOnly`): `StringNotEquals`
    /// `aws:SourceVpce` [vpce-1a2b3c4d]`).
    pub(super) undecided: Vec<String>,
}

impl Judged {
    pub(super) fn of(docs: Docs<'_>, request: &Request<'_>) -> Self {
        match docs {
            Docs::Unknown(why) => Self {
                evaluation: None,
                ids: Vec::new(),
                unread: Some(why),
                undecided: Vec::new(),
            },
            Docs::Known(docs) => {
                let policies: Vec<&Policy> = docs.iter().map(|doc| &*doc.policy).collect();
                let evaluation = Evaluation::of(policies.iter().copied(), request);
                let undecided = undecided_conditions(&policies, &evaluation, request);
                Self {
                    evaluation: Some(evaluation),
                    ids: docs.iter().map(|doc| doc.shared_id()).collect(),
                    unread: None,
                    undecided,
                }
            }
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

    /// Evidence for the statements kept from applying only by policy
    /// variables with no value: never dropped silently, so that a reader
    /// sees the statement and why it did not apply.
    pub(super) fn absent_variable_evidence(&self) -> Vec<Evidence> {
        absent_variable_evidence(self.hits(), &self.ids)
    }

    /// A decided link's result: `evidence` and the statements these
    /// documents kept from applying by variables with no value, which a
    /// reader must see whatever the status.
    pub(super) fn decided(
        &self,
        link: LinkId,
        status: LinkStatus,
        reason: String,
        mut evidence: Vec<Evidence>,
        fix: Option<Fix>,
        help: Option<String>,
    ) -> LinkResult {
        evidence.extend(self.absent_variable_evidence());
        LinkResult {
            evidence,
            fix: fix.map(Box::new),
            help,
            ..super::result(link, status, reason)
        }
    }

    /// The evidence a hit of these documents gives.
    pub(super) fn evidence_of(&self, hit: &StatementHit) -> Evidence {
        evidence_of(hit, &self.ids)
    }

    /// Evidence for the allows that apply (the first three).
    pub(super) fn allow_evidence(&self) -> Vec<Evidence> {
        self.applying(Effect::Allow)
            .into_iter()
            .take(3)
            .map(|hit| self.evidence_of(hit))
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
        let (open, unknown_keys): (Vec<String>, Vec<String>) = unknown_keys_of(self.hits().iter())
            .into_iter()
            .partition(|key| crate::policy::open_reading(key).is_some());
        let mut evidence: Vec<Evidence> = self
            .hits()
            .iter()
            .filter(|hit| hit.applies == Tri::Unknown)
            .map(|hit| self.evidence_of(hit))
            .collect();
        evidence.extend(self.absent_variable_evidence());
        if let Some(point) = open
            .first()
            .and_then(|key| crate::policy::open_reading(key))
        {
            // A reading AWS's documentation leaves open: no --context value
            // settles it, rewriting the statement does.
            return UnknownFinding {
                reason: format!("whether {subject} allows {action} rests on {point}"),
                evidence,
                unknown_keys,
                help: Some(open_reading_help(point)),
            };
        }
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
        let conditions = if self.undecided.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.undecided.join("; "))
        };
        UnknownFinding {
            reason: format!(
                "whether {subject} allows {action} hangs on {}{conditions}",
                unknown_keys.join(", ")
            ),
            evidence,
            help: Some(context_help(&unknown_keys)),
            unknown_keys,
        }
    }
}

/// The conditions with an unknown outcome of every statement that may apply,
/// at most three statements' worth: a reader needs to see what value would
/// decide the link.
pub(super) fn undecided_conditions(
    policies: &[&Policy],
    evaluation: &Evaluation,
    request: &Request<'_>,
) -> Vec<String> {
    let mut out = Vec::new();
    for hit in evaluation
        .hits
        .iter()
        .filter(|hit| hit.applies == Tri::Unknown)
        .take(3)
    {
        let Some(statement) = policies.get(hit.document as usize).and_then(|policy| {
            policy
                .statements()
                .iter()
                .find(|statement| statement.index() == hit.statement)
        }) else {
            continue;
        };
        let conditions: Vec<String> = statement
            .condition_checks(request)
            .into_iter()
            .filter(|check| check.holds == Tri::Unknown)
            .map(|check| {
                format!(
                    "`{}` `{}` [{}]",
                    check.operator,
                    check.key,
                    check.values.join(", ")
                )
            })
            .collect();
        if conditions.is_empty() {
            continue;
        }
        let sid = hit
            .sid
            .as_deref()
            .map(|sid| format!(" (`{sid}`)"))
            .unwrap_or_default();
        let effect = match hit.effect {
            Effect::Allow => "allows",
            Effect::Deny => "denies",
        };
        out.push(format!(
            "statement {}{sid} {effect} when {}",
            hit.statement,
            conditions.join(" and ")
        ));
    }
    out
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

/// The evidence a hit gives; `ids` are the identities of the documents
/// evaluated with it, by position.
pub(super) fn evidence_of(hit: &StatementHit, ids: &Ids) -> Evidence {
    Evidence {
        document: hit.label.to_string(),
        doc: ids.get(hit.document as usize).cloned().flatten(),
        statement: Some(hit.statement),
        sid: hit.sid.clone(),
        line: hit.line,
        role: match (hit.effect, hit.applies) {
            (_, Tri::Unknown) => EvidenceRole::MayApply,
            (_, Tri::No) => EvidenceRole::Context,
            (Effect::Allow, Tri::Yes) => EvidenceRole::Allows,
            (Effect::Deny, Tri::Yes) => EvidenceRole::Denies,
        },
        file_position: None,
        note: absent_variables_note(hit),
    }
}

/// Why a statement did or did not apply because of policy variables with
/// no value: `does not apply: its `Resource` uses `${aws:PrincipalTag/team}`,
/// and the request has no `aws:PrincipalTag/team``. Such a value equals and
/// is like nothing, so a positive element fails and a negated one holds (IAM
/// User Guide, "IAM policy elements: Variables and tags", "Policy variables
/// with no value").
fn absent_variables_note(hit: &StatementHit) -> Option<String> {
    if hit.absent_variables.is_empty() {
        return None;
    }
    let clauses: Vec<String> = hit
        .absent_variables
        .iter()
        .map(|variable| {
            let key = &variable.key;
            let uses = match &variable.element {
                VariableElement::Resource => format!("its `Resource` uses `${{{key}}}`"),
                VariableElement::NotResource => format!("its `NotResource` uses `${{{key}}}`"),
                VariableElement::Condition {
                    operator,
                    key: tested,
                } => {
                    format!("its condition `{operator}` `{tested}` compares with `${{{key}}}`")
                }
            };
            let consequence = match (&variable.element, hit.applies) {
                (_, Tri::No) => "",
                (VariableElement::NotResource, _) => ", so that entry excludes nothing",
                _ => ", so its negated operator holds",
            };
            format!("{uses}, and the request has no `{key}`{consequence}")
        })
        .collect();
    let verdict = match hit.applies {
        Tri::No => "does not apply",
        Tri::Yes => "applies",
        Tri::Unknown => "may apply",
    };
    Some(format!("{verdict}: {}", clauses.join("; ")))
}

/// Allow statements of `policy` that name the caller but did not allow the
/// request: usually the statement to edit. The closest come first (one that
/// fails only on a condition, then on the resource, then on the action), and
/// the note says which element of the closest did not match.
pub(super) struct NearMisses {
    pub(super) evidence: Vec<Evidence>,
    /// `; statement 1 (`Sid`) names it but does not list kms:Decrypt in its
    /// `Action` (kms:Encrypt, kms:DescribeKey)`, or nothing.
    pub(super) note: String,
}

pub(super) fn near_misses(doc: Option<&PolicyDoc>, request: &Request<'_>) -> NearMisses {
    let Some(doc) = doc else {
        return NearMisses {
            evidence: Vec::new(),
            note: String::new(),
        };
    };
    let policy = &*doc.policy;
    let mut candidates: Vec<(usize, &Statement, Option<Mismatch>)> = policy
        .statements()
        .iter()
        .filter(|statement| statement.effect() == Effect::Allow)
        .filter(|statement| statement.names_principal(request.caller).is_some())
        .map(|statement| {
            let mismatch = statement.first_mismatch(request);
            let rank = match &mismatch {
                Some(Mismatch::Condition(_)) => 0,
                Some(Mismatch::Resource { .. }) => 1,
                Some(Mismatch::Action { .. }) => 2,
                Some(Mismatch::Principal { .. }) | None => 3,
            };
            (rank, statement, mismatch)
        })
        .collect();
    // Stable: statements of one rank keep the document's order.
    candidates.sort_by_key(|(rank, _, _)| *rank);
    candidates.truncate(3);
    let note = match candidates.first() {
        Some((_, statement, mismatch)) => {
            let sid = statement
                .sid()
                .map(|sid| format!(" (`{sid}`)"))
                .unwrap_or_default();
            let why = match mismatch {
                Some(mismatch) => mismatch.describe(request.action, request.resource),
                None => format!("does not allow {} here", request.action),
            };
            format!("; statement {}{sid} names it but {why}", statement.index())
        }
        None => String::new(),
    };
    let evidence = candidates
        .iter()
        .map(|(_, statement, _)| Evidence {
            document: policy.label().to_string(),
            doc: doc.shared_id(),
            statement: Some(statement.index()),
            sid: statement.sid().map(str::to_string),
            line: statement.line(),
            role: EvidenceRole::Context,
            file_position: None,
            note: None,
        })
        .collect();
    NearMisses { evidence, note }
}

/// For a policy without `Principal` (identity policy, boundary, session
/// policy) that allows nothing here: the Allow statement that lists the
/// action but misses on its resource or a condition, said as `; statement
/// 0 (`Sid`) of inline policy `x` of `arn` does not cover ...`, or nothing.
pub(super) fn closest_statement(policies: &[&Policy], request: &Request<'_>) -> String {
    let mut best: Option<(usize, &Policy, &Statement, Mismatch)> = None;
    for policy in policies {
        for statement in policy.statements() {
            if statement.effect() != Effect::Allow {
                continue;
            }
            let rank = match statement.first_mismatch(request) {
                Some(mismatch @ Mismatch::Condition(_)) => (0, mismatch),
                Some(mismatch @ Mismatch::Resource { .. }) => (1, mismatch),
                _ => continue,
            };
            if best.as_ref().is_none_or(|(seen, ..)| rank.0 < *seen) {
                best = Some((rank.0, policy, statement, rank.1));
            }
        }
    }
    match best {
        Some((_, policy, statement, mismatch)) => format!(
            "; statement {}{} of {} lists it but {}",
            statement.index(),
            statement
                .sid()
                .map(|sid| format!(" (`{sid}`)"))
                .unwrap_or_default(),
            policy.label(),
            mismatch.describe(request.action, request.resource)
        ),
        None => String::new(),
    }
}

/// Why a `Deny` applies when it applies because of its conditions, and how
/// to get past it. A conditional deny is usually a guard (requests only
/// through one VPC endpoint, only over TLS), so the first advice is to meet
/// the condition; narrowing the statement comes second, for when the policy
/// itself is wrong.
pub(super) struct DenyExplanation {
    /// `: its condition `StringNotEquals` `aws:SourceVpce` [vpce-0abc]
    /// holds, as the request's aws:SourceVpce is vpce-999`.
    pub(super) clause: String,
    /// What to do, first to last.
    pub(super) advice: String,
}

pub(super) fn explain_deny(
    policy: Option<&Policy>,
    hit: &StatementHit,
    request: &Request<'_>,
) -> Option<DenyExplanation> {
    let statement = policy?
        .statements()
        .iter()
        .find(|statement| statement.index() == hit.statement)?;
    let holding: Vec<ConditionCheck> = statement
        .condition_checks(request)
        .into_iter()
        .filter(|check| check.holds == Tri::Yes)
        .collect();
    if holding.is_empty() {
        return None;
    }
    let clauses: Vec<String> = holding
        .iter()
        .map(|check| {
            format!(
                "`{}` `{}` [{}] holds, as {}",
                check.operator,
                check.key,
                check.values.join(", "),
                check.request_words()
            )
        })
        .collect();
    let plural = if holding.len() == 1 { "" } else { "s" };
    let mut clause = format!(": its condition{plural} {}", clauses.join("; "));
    // A variable with no value is why a negated condition holds: say so,
    // or the reader looks for a value that is not there.
    let absent: Vec<String> = hit
        .absent_variables
        .iter()
        .filter(|variable| matches!(variable.element, VariableElement::Condition { .. }))
        .map(|variable| format!("`{}`", variable.key))
        .collect();
    if !absent.is_empty() {
        clause.push_str(&format!(
            ", the request having no {} for its policy variable (a variable with no value equals nothing, so a negated operator holds)",
            absent.join(" or ")
        ));
    }
    // Every operator and key of a `Condition` block must hold for the
    // statement to apply (a logical AND; IAM User Guide, "Conditions with
    // multiple context keys or values"): breaking any one of them is enough.
    let escapes: Vec<String> = holding
        .iter()
        .filter_map(ConditionCheck::how_to_escape)
        .collect();
    let meet = match escapes.as_slice() {
        _ if !absent.is_empty() => format!(
            "first make the request carry {} (a tag of the caller or its session, for a principal tag)",
            absent.join(" and ")
        ),
        [] => "first meet the statement's condition".to_string(),
        [one] => format!("first meet the condition: {one}"),
        many => format!("first meet one of the conditions: {}", many.join(", or ")),
    };
    let advice = format!(
        "the statement is a guard; {meet}. Only if the policy is wrong, narrow the statement (its `Condition`, `Action` or `Resource`) rather than remove it"
    );
    Some(DenyExplanation { clause, advice })
}

/// A failing link's fix for a `Deny` that applies through its conditions:
/// an edit of that statement whose note puts meeting the condition first,
/// instead of a bare "remove".
pub(super) fn conditional_deny_fix(mut fix: Fix, explanation: &DenyExplanation) -> Fix {
    fix.change = FixChange::EditStatement;
    fix.note = Some(explanation.advice.clone());
    fix
}

/// What a report says of a `Deny` that applies: the fix (remove the
/// statement, or edit it when its conditions decided it), the advice, and the
/// clause naming those conditions (empty when there are none).
pub(super) struct DenyFinding {
    pub(super) fix: Fix,
    pub(super) help: Option<String>,
    pub(super) clause: String,
}

pub(super) fn deny_finding(
    link: LinkId,
    owner: &str,
    hit: &StatementHit,
    policy: Option<&Policy>,
    request: &Request<'_>,
) -> DenyFinding {
    let fix = super::super::proposal::remove_deny(link, owner, hit, policy);
    match explain_deny(policy, hit, request) {
        Some(explanation) => {
            // A guard is never proposed away when the request can meet it
            // (the caller's remedy), or when AWS documents an exception for
            // the case it cannot be met by design (S3's call to KMS).
            let holding = holding_checks(policy, hit, request);
            let fix = if via_aws_service(request) && holding.iter().any(unmeetable_through_service)
            {
                super::super::proposal::exempt_aws_services(link, owner, hit, policy)
            } else {
                None
            }
            .or_else(|| {
                holding
                    .iter()
                    .find_map(request_remedy)
                    .map(|(remedy, flags)| {
                        super::super::proposal::request(link, owner, &remedy, flags)
                    })
            })
            .unwrap_or_else(|| conditional_deny_fix(fix, &explanation));
            DenyFinding {
                fix,
                help: Some(explanation.advice),
                clause: explanation.clause,
            }
        }
        None => DenyFinding {
            fix,
            help: None,
            clause: String::new(),
        },
    }
}

/// Evidence for the hits kept from applying only by policy variables with
/// no value (see [`Judged::absent_variable_evidence`]).
pub(super) fn absent_variable_evidence(hits: &[StatementHit], ids: &Ids) -> Vec<Evidence> {
    hits.iter()
        .filter(|hit| hit.applies == Tri::No)
        .map(|hit| evidence_of(hit, ids))
        .collect()
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

/// How to stop resting on an open reading: the documented form of each.
fn open_reading_help(point: &str) -> String {
    let documented = if point.starts_with("`NotPrincipal` with `\"Effect\": \"Allow\"`") {
        " (for `NotPrincipal` with `Allow`: `Principal` with a condition on `aws:PrincipalArn`)"
    } else if point.starts_with("`NotPrincipal` naming") {
        " (list the account ARN of each principal `NotPrincipal` names, or use a condition on `aws:PrincipalArn`)"
    } else if point.starts_with("the action") {
        " (name the service: `s3:GetObject`, `kms:*`)"
    } else if point.contains("multivalued key") {
        " (add `ForAnyValue:` or `ForAllValues:` to the operator)"
    } else {
        ""
    };
    format!("rewrite the statement so it does not rest on that reading{documented}")
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

/// `the bucket policy was not read; ...`, `the identity policies of `x`
/// were not read; ...`.
pub(super) fn unread(what: &str, error: &Option<String>, help: &str) -> String {
    let subject = what.split(" of ").next().unwrap_or(what);
    let verb = if subject.ends_with("policies") {
        "were"
    } else {
        "was"
    };
    match error {
        Some(error) => format!("{what} could not be read ({error}); {help}"),
        None => format!("{what} {verb} not read; {help}"),
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

// `NotPrincipal` with `Allow` reads, on the older reading of the IAM User
// Guide's NotPrincipal page, like `"Principal": "*"`; such a hit is always
// unknown (see `match_principal`), so it can make a grant unknown, never give
// one.
pub(super) const DIRECT: [PrincipalMatch; 5] = [
    PrincipalMatch::User,
    PrincipalMatch::Session,
    PrincipalMatch::Role,
    PrincipalMatch::Wildcard,
    PrincipalMatch::NotPrincipal,
];
/// [`UNCAPPED`] without the wildcard, for session policies (see
/// `identity::session_exemption`).
pub(super) const SESSION_UNCAPPED: [PrincipalMatch; 3] = [
    PrincipalMatch::User,
    PrincipalMatch::Session,
    PrincipalMatch::NotPrincipal,
];
pub(super) const UNCAPPED: [PrincipalMatch; 4] = [
    PrincipalMatch::User,
    PrincipalMatch::Session,
    PrincipalMatch::Wildcard,
    PrincipalMatch::NotPrincipal,
];

/// The conditions of the denying statement that hold for the request.
fn holding_checks(
    policy: Option<&Policy>,
    hit: &StatementHit,
    request: &Request<'_>,
) -> Vec<ConditionCheck> {
    let Some(statement) = policy.and_then(|policy| {
        policy
            .statements()
            .iter()
            .find(|statement| statement.index() == hit.statement)
    }) else {
        return Vec::new();
    };
    statement
        .condition_checks(request)
        .into_iter()
        .filter(|check| check.holds == Tri::Yes)
        .collect()
}

/// Whether the request is one an AWS service makes for the caller (S3's
/// forward access session to KMS: `aws:ViaAWSService` is true).
fn via_aws_service(request: &Request<'_>) -> bool {
    matches!(
        request.context.resolve().get("aws:ViaAWSService"),
        crate::policy::context::ContextValue::Present(values)
            if values.iter().any(|value| value.eq_ignore_ascii_case("true"))
    )
}

/// A network condition a service's call for the caller can never meet: the
/// VPC keys, which a forward access session does not carry, and a source IP
/// the request does not have (IAM User Guide, "Forward access sessions").
fn unmeetable_through_service(check: &ConditionCheck) -> bool {
    let key = check.key.to_ascii_lowercase();
    match key.as_str() {
        "aws:sourcevpce" | "aws:sourcevpc" | "aws:vpcsourceip" => true,
        "aws:sourceip" => matches!(check.request, crate::policy::context::ContextValue::Absent),
        _ => false,
    }
}

/// How the request itself can stop a holding condition from holding, when
/// the caller controls the key and the value is knowable from the policy:
/// the remedy in words and the `check` flags that apply it. HTTPS
/// (`aws:SecureTransport`), the VPC endpoint, VPC or network
/// (`aws:SourceVpce`, `aws:SourceVpc`, `aws:SourceIp`), the SSE and ACL
/// headers and the region. A negated operator's values are a NOR (IAM User
/// Guide, "Conditions with multiple context keys or values"): carrying one
/// of them is enough.
fn request_remedy(check: &ConditionCheck) -> Option<(String, Vec<String>)> {
    let operator = check.operator.to_ascii_lowercase();
    if operator.contains(':') {
        return None;
    }
    let base = operator.trim_end_matches("ifexists");
    let key = check.key.to_ascii_lowercase();
    let meetable = matches!(
        key.as_str(),
        "aws:securetransport"
            | "aws:sourcevpce"
            | "aws:sourcevpc"
            | "aws:sourceip"
            | "aws:vpcsourceip"
            | "aws:requestedregion"
            | "s3:x-amz-acl"
    ) || key.starts_with("s3:x-amz-server-side-encryption")
        || key.starts_with("s3:x-amz-grant-");
    if !meetable {
        return None;
    }
    let plain = |value: &&String| !value.contains(['*', '?', '$']) && !value.is_empty();
    let value = match base {
        "bool" => match check.values.first().map(|value| value.to_ascii_lowercase()) {
            Some(value) if value == "false" => "true".to_string(),
            Some(value) if value == "true" => "false".to_string(),
            _ => return None,
        },
        // The network address of the first range is in the range.
        "notipaddress" => {
            let range = check.values.iter().find(plain)?;
            range.split('/').next().unwrap_or(range).to_string()
        }
        _ if base.starts_with("stringnot") || base.starts_with("arnnot") => {
            check.values.iter().find(plain)?.clone()
        }
        _ => return None,
    };
    let remedy = check.how_to_escape()?;
    Some((
        remedy,
        vec!["--context".to_string(), format!("{}={value}", check.key)],
    ))
}

/// For a trust policy that names the caller in a statement kept from
/// applying only by `sts:ExternalId`: the external id it expects, read from
/// the condition. The caller passes it (`--external-id`); adding a trust
/// statement without the condition would get around the guard.
pub(super) fn expected_external_id(
    doc: Option<&PolicyDoc>,
    request: &Request<'_>,
) -> Option<String> {
    let policy = &*doc?.policy;
    policy
        .statements()
        .iter()
        .filter(|statement| statement.effect() == Effect::Allow)
        .filter(|statement| statement.names_principal(request.caller).is_some())
        .filter(|statement| {
            matches!(
                statement.first_mismatch(request),
                Some(Mismatch::Condition(_))
            )
        })
        .find_map(|statement| {
            let failing: Vec<ConditionCheck> = statement
                .condition_checks(request)
                .into_iter()
                .filter(|check| check.holds != Tri::Yes)
                .collect();
            let only_external_id = !failing.is_empty()
                && failing.iter().all(|check| {
                    check.key.eq_ignore_ascii_case("sts:ExternalId")
                        && matches!(
                            check.operator.to_ascii_lowercase().as_str(),
                            "stringequals" | "stringlike"
                        )
                });
            if !only_external_id {
                return None;
            }
            failing[0]
                .values
                .iter()
                .find(|value| !value.contains(['*', '?', '$']) && !value.is_empty())
                .cloned()
        })
}
