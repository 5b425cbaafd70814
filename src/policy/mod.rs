//! The IAM policy language: parsing documents, matching actions, resources
//! and principals, evaluating conditions, and explaining which statements
//! decided a request. Pure: no I/O, no AWS SDK types.
//!
//! What the language is written in lives here too, so it has one home:
//! ARNs ([`arn`]), the request context ([`context`]) and the `--context`
//! value checks ([`context_values`]), and the strict JSON reading
//! ([`strict_json`]) and positions ([`positions`]) that place an error in a
//! document's text.
//!
//! API owned by the chain judge (do not change signatures without updating
//! `crate::chain`): [`Policy::parse_text`], [`Policy::parse_value`],
//! [`Policy::evaluate`], [`Evaluation`], [`StatementHit`], [`Caller`],
//! [`PrincipalMatch`], [`Tri`], [`AbsentVariable`].

use std::sync::Arc;

use crate::policy::context::ContextSource;

/// Why a policy document could not be parsed. Renders as one line:
/// ``policy `LABEL`: /Statement/1/Action: MESSAGE (line L, column C)``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PolicyError {
    /// The document's label (`bucket policy of account-a-bucket`).
    pub document: String,
    /// JSON pointer into the document (`/Statement/1/Action/1`), empty for the root.
    pub path: String,
    /// 1-based line and column in the document's text, where there is text.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Lowercase, no trailing period.
    pub message: String,
}

impl PolicyError {
    fn render(&self) -> String {
        let mut out = format!("policy `{}`", self.document);
        if !self.path.is_empty() {
            out.push_str(&format!(": {}", self.path));
        }
        out.push_str(&format!(": {}", self.message));
        if let (Some(line), Some(column)) = (self.line, self.column) {
            out.push_str(&format!(" (line {line}, column {column})"));
        }
        out
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Marks an entry of [`StatementHit::unknown_keys`] that is no context key
/// but a point AWS's documentation leaves open: the statement's outcome rests
/// on a reading the tool will not choose, so it is unknown (never allowed),
/// and the rest of the entry names the point and its page.
pub const OPEN_READING: &str = "open reading: ";

/// The point an [`OPEN_READING`] entry names, or `None` for a context key.
pub fn open_reading(entry: &str) -> Option<&str> {
    entry.strip_prefix(OPEN_READING)
}

/// Three-valued truth: whether a statement applies when some context keys
/// are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

/// Who makes the request, as a resource policy's `Principal` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// 12-digit account id.
    pub account: String,
    /// `aws:PrincipalArn`: user ARN, role ARN (with path) for a role session,
    /// `arn:aws:iam::ACCT:root` for the root user.
    pub principal_arn: String,
    /// `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` when the caller is a
    /// role session and the session name is known. A role session whose name
    /// is not known is matched as "any session of the role": a policy naming
    /// a specific session gives [`Tri::Unknown`].
    pub session_arn: Option<String>,
    /// True when the caller is a role session (named or not).
    pub is_role_session: bool,
    /// `Service` principal (`s3.amazonaws.com`) when the caller is a service.
    pub service: Option<String>,
    /// The caller has a permissions boundary: a resource-policy `Deny` with
    /// `NotPrincipal` then always applies (IAM User Guide, "NotPrincipal").
    pub has_permissions_boundary: bool,
}

/// How a statement's `Principal` named the caller. The chain judge needs it:
/// same-account and KMS rules differ between a principal named itself and
/// one allowed through its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum PrincipalMatch {
    /// `"*"` or `{"AWS": "*"}`.
    Wildcard,
    /// An account id or `arn:aws:iam::ACCT:root`.
    Account,
    /// The IAM user ARN, or the root user itself... named directly.
    User,
    /// The role ARN (which covers every session of the role).
    Role,
    /// The assumed-role session ARN itself.
    Session,
    /// A `Service` principal.
    Service,
    /// `NotPrincipal` (the caller is not in the list).
    NotPrincipal,
}

/// The request one policy set is evaluated for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `service:Action`, e.g. `s3:GetObject`.
    pub action: &'a str,
    /// The resource ARN, e.g. `arn:aws:s3:::bucket/key`.
    pub resource: &'a str,
    /// Who asks; `Principal`/`NotPrincipal` are matched against it. A
    /// statement with `Principal` is only considered in resource policies;
    /// identity policies have none.
    pub caller: &'a Caller,
    /// Condition keys (also the source of policy variables), read only
    /// when a condition or variable needs them.
    pub context: &'a dyn ContextSource,
}

/// Where a statement uses a policy variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableElement {
    Resource,
    NotResource,
    /// A condition's value: its operator and key as written.
    Condition {
        operator: String,
        key: String,
    },
}

/// A policy variable with no value (its key is absent from the request and
/// it has no default) that decided whether a statement applies: a positive
/// match it spoiled, or a negated one it made hold (IAM User Guide, "IAM
/// policy elements: Variables and tags", "Policy variables with no value").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsentVariable {
    pub element: VariableElement,
    /// The variable's key as written (`aws:PrincipalTag/team`).
    pub key: String,
}

/// One statement that matched the request's action, resource and principal,
/// with whether its conditions hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementHit {
    /// The document's label, for the report's prose.
    pub label: Arc<str>,
    /// Which of the documents evaluated together the statement is in: its
    /// position among them (0 for a document evaluated alone). A `u32`
    /// fits beside the small fields: a hit stays 120 bytes, which the
    /// evaluation benchmarks feel.
    pub document: u32,
    /// Index within the document's `Statement` list (0 when it is one object).
    pub statement: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// [`Tri::Yes`]: applies. [`Tri::Unknown`]: depends on `unknown_keys`.
    /// [`Tri::No`] only for a statement that does not apply because of
    /// policy variables with no value (listed in `absent_variables`): the
    /// report shows it and why. Other statements that do not apply are not
    /// reported.
    pub applies: Tri,
    /// `None` when the statement has no `Principal`/`NotPrincipal`.
    pub principal_match: Option<PrincipalMatch>,
    /// Context keys (as written in the policy) the result hangs on.
    pub unknown_keys: Vec<String>,
    /// Policy variables with no value that kept the statement from applying
    /// (when `applies` is [`Tri::No`]) or made a negated element hold.
    pub absent_variables: Vec<AbsentVariable>,
    /// 1-based line of the statement's start in the document's text.
    pub line: Option<usize>,
}

/// What a set of documents decides for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    ExplicitDeny,
    Allow,
    ImplicitDeny,
    /// Hangs on unknown context keys.
    Unknown,
}

/// Every statement of a policy set that applies (or may apply) to a
/// request, and those kept from applying only by variables with no value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub hits: Vec<StatementHit>,
}

impl Evaluation {
    /// Evaluates every document for the request and gathers the hits.
    pub fn of<'p>(policies: impl IntoIterator<Item = &'p Policy>, request: &Request<'_>) -> Self {
        let mut hits = Vec::new();
        wildcard::with_lowered(request.action, |action| {
            for (position, policy) in (0..).zip(policies) {
                policy.evaluate_into(request, action, position, &mut hits);
            }
        });
        Self { hits }
    }

    pub fn denies(&self) -> impl Iterator<Item = &StatementHit> {
        self.hits.iter().filter(|hit| hit.effect == Effect::Deny)
    }

    pub fn allows(&self) -> impl Iterator<Item = &StatementHit> {
        self.hits.iter().filter(|hit| hit.effect == Effect::Allow)
    }

    /// AWS's decision counting only the allows `counts` accepts (the chain
    /// uses it to ask "is there an allow naming the principal itself?").
    /// An explicit deny wins; an allow that holds wins over implicit deny;
    /// any unknown that could change the outcome makes it unknown.
    pub fn decide_with(&self, counts: impl Fn(&StatementHit) -> bool) -> Decision {
        let mut deny_unknown = false;
        for hit in self.denies() {
            match hit.applies {
                Tri::Yes => return Decision::ExplicitDeny,
                Tri::Unknown => deny_unknown = true,
                Tri::No => {}
            }
        }
        let mut allow_yes = false;
        let mut allow_unknown = false;
        for hit in self.allows().filter(|hit| counts(hit)) {
            match hit.applies {
                Tri::Yes => allow_yes = true,
                Tri::Unknown => allow_unknown = true,
                Tri::No => {}
            }
        }
        if allow_yes {
            if deny_unknown {
                Decision::Unknown
            } else {
                Decision::Allow
            }
        } else if allow_unknown {
            Decision::Unknown
        } else {
            // With no allow the request is denied whether or not an unknown
            // deny applies.
            Decision::ImplicitDeny
        }
    }

    pub fn decide(&self) -> Decision {
        self.decide_with(|_| true)
    }
}

pub mod arn;
mod condition;
pub mod context;
pub mod context_values;
mod document;
pub(crate) mod logic;
pub mod org_path;
pub mod positions;
mod principal;
pub mod public;
pub mod strict_json;
mod variables;
mod wildcard;

pub(crate) use condition::representatives;
pub use document::{ConditionCheck, Mismatch, Policy, Statement, Version};

/// Typed value checks shared with `--context` validation.
pub(crate) mod condition_values {
    /// A bare IPv4 or IPv6 address, as AWS puts in `aws:SourceIp`.
    pub(crate) fn is_ip_address(text: &str) -> bool {
        text.parse::<std::net::IpAddr>().is_ok()
    }

    pub(crate) fn is_date(text: &str) -> bool {
        super::condition::parse_date(text).is_some()
    }

    pub(crate) fn is_number(text: &str) -> bool {
        super::condition::parse_number(text).is_some()
    }
}
