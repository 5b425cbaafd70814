//! Judging every link of one action, as AWS's evaluation logic does (IAM
//! User Guide: "Policy evaluation logic", "Cross-account policy evaluation
//! logic", "Evaluating effective permissions with boundaries"; KMS Developer
//! Guide: "Key policies", "Grants"; contract §4).
//!
//! Each link is judged from three facts: does it explicitly deny, does it
//! allow, and does AWS need an allow from it for this request. A link fails
//! on an explicit deny or when it is needed and gives no allow; it is unknown
//! when any of those facts hangs on a document or context key not known.

use crate::arn::{Principal, PrincipalKind};
use crate::context::RequestContext;
use crate::diagnosis::{ActionResult, Evidence, EvidenceRole, LinkId, LinkResult, LinkStatus};
use crate::policy::{
    Caller, Decision, Effect, Evaluation, Policy, PrincipalMatch, Request, StatementHit, Tri,
};
use crate::snapshot::{Field, GrantInfo, NamedPolicy, PolicyDoc, PrincipalInfo};

use super::context::{self, ActionContext, KmsCall};
use super::fix;
use super::keys::{self, Reference, ResolvedKey};
use super::principal;
use super::{KeySource, PlannedAction, Setup, Target};

/// Three-valued logic on [`Tri`].
fn not(value: Tri) -> Tri {
    match value {
        Tri::Yes => Tri::No,
        Tri::No => Tri::Yes,
        Tri::Unknown => Tri::Unknown,
    }
}

fn or(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
        (Tri::No, Tri::No) => Tri::No,
        _ => Tri::Unknown,
    }
}

fn and(a: Tri, b: Tri) -> Tri {
    not(or(not(a), not(b)))
}

/// A document set of one link as read: unknown (with why), or known.
enum Docs<'s> {
    Unknown(String),
    Known(Vec<&'s Policy>),
}

/// One link's evaluation for the request.
struct Judged {
    evaluation: Option<Evaluation>,
    unread: Option<String>,
}

impl Judged {
    fn of(docs: Docs<'_>, request: &Request<'_>) -> Self {
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
    fn denies(&self) -> Tri {
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
    fn allows_with(&self, counts: impl Fn(&StatementHit) -> bool) -> Tri {
        let Some(evaluation) = &self.evaluation else {
            return Tri::Unknown;
        };
        let mut result = Tri::No;
        for hit in evaluation.allows().filter(|hit| counts(hit)) {
            result = or(result, hit.applies);
        }
        result
    }

    fn allows(&self) -> Tri {
        self.allows_with(|_| true)
    }

    fn hits(&self) -> &[StatementHit] {
        self.evaluation
            .as_ref()
            .map(|evaluation| evaluation.hits.as_slice())
            .unwrap_or(&[])
    }

    /// Statements of `effect` that certainly apply.
    fn applying(&self, effect: Effect) -> Vec<&StatementHit> {
        self.hits()
            .iter()
            .filter(|hit| hit.effect == effect && hit.applies == Tri::Yes)
            .collect()
    }

    /// Evidence for the allows that apply (the first three).
    fn allow_evidence(&self) -> Vec<Evidence> {
        self.applying(Effect::Allow)
            .into_iter()
            .take(3)
            .map(evidence_of)
            .collect()
    }

    /// What an unknown link says about `subject` (`the bucket policy`): the
    /// document could not be read, or the context keys the answer hangs on,
    /// or that it is needed only depending on another unknown link.
    fn unknown_finding(&self, subject: &str, action: &str, dependent_help: &str) -> UnknownFinding {
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
struct UnknownFinding {
    reason: String,
    evidence: Vec<Evidence>,
    unknown_keys: Vec<String>,
    help: Option<String>,
}

impl UnknownFinding {
    fn into_link(self, link: LinkId) -> LinkResult {
        LinkResult {
            link,
            status: LinkStatus::Unknown,
            reason: self.reason,
            evidence: self.evidence,
            fix: None,
            unknown_keys: self.unknown_keys,
            help: self.help,
            change: None,
        }
    }
}

/// Status from the three facts (see the module doc).
fn status_of(denies: Tri, allows: Tri, needed: Tri) -> LinkStatus {
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

fn evidence_of(hit: &StatementHit) -> Evidence {
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
        file_position: None,
    }
}

/// Allow statements of `policy` that name the caller but did not allow the
/// request (another action, resource, or a condition that does not hold):
/// usually the statement to edit.
fn near_misses(policy: Option<&Policy>, caller: &Caller) -> Vec<Evidence> {
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
            file_position: None,
        })
        .collect()
}

/// ` ; statement 1 (`Sid`) names it but does not allow this request`, or nothing.
fn near_miss_note(near: &[Evidence], action: &str) -> String {
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

fn unknown_keys_of<'a>(hits: impl Iterator<Item = &'a StatementHit>) -> Vec<String> {
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

/// Everything an action's links are judged against.
struct ActionFacts<'a, 's> {
    setup: &'a Setup<'s>,
    action: &'static str,
    resource: String,
    resource_account: String,
    actor: &'a Principal,
    actor_info: Option<&'s PrincipalInfo>,
    caller: Caller,
    context: RequestContext,
}

impl ActionFacts<'_, '_> {
    fn request(&self) -> Request<'_> {
        Request {
            action: self.action,
            resource: &self.resource,
            caller: &self.caller,
            context: &self.context,
        }
    }

    fn cross_account(&self) -> bool {
        self.actor.account != self.resource_account
    }

    fn actor_arn(&self) -> &str {
        &self.caller.principal_arn
    }
}

pub(crate) fn judge_action(setup: &Setup<'_>, planned: &PlannedAction) -> ActionResult {
    let (actor, assume_role) = match planned.target {
        Target::Role => (&setup.source, true),
        _ => (setup.actor(), false),
    };
    let actor_info = principal::find_info(setup.snapshot, actor);
    let caller = principal::caller(actor, actor_info);
    let resolved_key = match &planned.target {
        Target::Key(key_use) => Some(keys::resolve(setup, &key_use.choice)),
        _ => None,
    };
    let (resource, resource_account) = match &planned.target {
        Target::Bucket => (setup.bucket_arn(), setup.bucket.account.clone()),
        Target::Object(key) => (setup.object_arn(key), setup.bucket.account.clone()),
        Target::Role => {
            let role = setup.role.as_ref().map(|role| {
                let info = principal::find_info(setup.snapshot, role);
                (principal::principal_arn(role, info), role.account.clone())
            });
            role.unwrap_or_default()
        }
        Target::Key(_) => match &resolved_key {
            Some(key) => (key.resource.clone(), key.account.clone()),
            None => (String::new(), setup.bucket.account.clone()),
        },
    };
    let encryption_context_arn = match &planned.target {
        Target::Key(key_use) if key_use.bucket_key => setup.bucket_arn(),
        Target::Key(key_use) => setup.object_arn(&key_use.object),
        _ => String::new(),
    };
    let context = context::build(
        setup,
        &ActionContext {
            actor,
            actor_info,
            actor_arn: &caller.principal_arn,
            resource_account: &resource_account,
            kms: matches!(planned.target, Target::Key(_)).then_some(KmsCall {
                encryption_context_arn: &encryption_context_arn,
            }),
            assume_role,
        },
    );
    let facts = ActionFacts {
        setup,
        action: planned.action,
        resource,
        resource_account,
        actor,
        actor_info,
        caller,
        context,
    };

    let mut links = Vec::new();
    links.extend(organization_link(
        &facts,
        LinkId::Scp,
        resolved_key.as_ref(),
    ));
    links.extend(organization_link(
        &facts,
        LinkId::Rcp,
        resolved_key.as_ref(),
    ));
    match (&planned.target, &resolved_key) {
        (Target::Key(key_use), Some(key)) => {
            kms_links(&facts, key_use, key, &encryption_context_arn, &mut links)
        }
        _ => resource_policy_links(&facts, &planned.target, &mut links),
    }
    if planned.action == "s3:GetObject" {
        links.extend(object_ownership_link(&facts));
    }
    links.sort_by_key(|link| link.link);
    let verdict = ActionResult::verdict_of(&links);
    ActionResult {
        action: planned.action.to_string(),
        resource: facts.resource.clone(),
        verdict,
        links,
    }
}

// ---------------------------------------------------------------------------
// SCPs and RCPs

fn organization_link(
    facts: &ActionFacts<'_, '_>,
    link: LinkId,
    key: Option<&ResolvedKey<'_>>,
) -> Option<LinkResult> {
    let (account, kind) = match link {
        LinkId::Scp => (facts.actor.account.as_str(), "SCP"),
        _ => (facts.resource_account.as_str(), "RCP"),
    };
    if link == LinkId::Scp && principal::is_service_linked_role(facts.actor_arn()) {
        return None;
    }
    if link == LinkId::Rcp && key.is_some_and(ResolvedKey::is_aws_managed) {
        // KMS Developer Guide, "Resource control policies in AWS KMS": RCPs
        // do not apply to AWS managed keys.
        return None;
    }
    let help = match link {
        LinkId::Scp => format!(
            "SCPs of account {account} were not read: capture the snapshot with credentials of the organization's management account (or a delegated administrator), or add `accounts.{account}.scps` to the snapshot"
        ),
        _ => format!(
            "RCPs of account {account} were not read: capture the snapshot with credentials of the organization's management account (or a delegated administrator), or add `accounts.{account}.rcps` to the snapshot"
        ),
    };
    let Some(info) = facts.setup.snapshot.accounts.get(account) else {
        return Some(unknown_link(
            link,
            format!("the {kind}s of account {account} are not known"),
            help,
        ));
    };
    if let Field::Some(management) = &info.management_account
        && management == account
    {
        // SCPs and RCPs do not apply to the management account.
        return None;
    }
    let (levels, error) = match link {
        LinkId::Scp => (&info.scps, &info.scps_error),
        _ => (&info.rcps, &info.rcps_error),
    };
    let levels = match levels {
        Field::None => return None,
        Field::Unknown => {
            let reason = match error {
                Some(error) => {
                    format!("the {kind}s of account {account} could not be read: {error}")
                }
                None => format!("the {kind}s of account {account} are not known"),
            };
            return Some(unknown_link(link, reason, help));
        }
        Field::Some(levels) => levels,
    };
    let request = facts.request();
    let mut evidence = Vec::new();
    let mut unknown_keys = Vec::new();
    let mut failing: Option<(String, Option<&NamedPolicy>)> = None;
    let mut unknown = false;
    for (level, policies) in levels.iter().enumerate() {
        let evaluation = Evaluation::of(
            policies.iter().map(|named| &named.document.policy),
            &request,
        );
        match evaluation.decide() {
            Decision::ExplicitDeny => {
                let hit = evaluation.denies().find(|hit| hit.applies == Tri::Yes);
                evidence.extend(hit.map(evidence_of));
                let named = hit.and_then(|hit| {
                    policies
                        .iter()
                        .find(|named| named.document.policy.label() == hit.document)
                });
                failing.get_or_insert((
                    format!(
                        "{} explicitly denies {} at level {} of account {account}'s organization",
                        hit.map(|hit| hit.document.clone()).unwrap_or_default(),
                        facts.action,
                        level_name(level, levels.len())
                    ),
                    named,
                ));
            }
            Decision::ImplicitDeny => {
                let names: Vec<&str> = policies.iter().map(|named| named.name.as_str()).collect();
                failing.get_or_insert((
                    format!(
                        "no {kind} at level {} of account {account}'s organization allows {} (attached: {})",
                        level_name(level, levels.len()),
                        facts.action,
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                    None,
                ));
            }
            Decision::Unknown => {
                unknown = true;
                unknown_keys.extend(unknown_keys_of(evaluation.hits.iter()));
                evidence.extend(
                    evaluation
                        .hits
                        .iter()
                        .filter(|hit| hit.applies == Tri::Unknown)
                        .map(evidence_of),
                );
            }
            Decision::Allow => {
                evidence.extend(
                    evaluation
                        .allows()
                        .filter(|hit| hit.applies == Tri::Yes)
                        .take(1)
                        .map(evidence_of),
                );
            }
        }
    }
    let management = info.management_account.known().cloned();
    if let Some((reason, named)) = failing {
        let fix = fix::organization(link, account, management.as_deref(), facts.action, named);
        return Some(LinkResult {
            link,
            status: LinkStatus::Fail,
            reason,
            evidence,
            fix: Some(fix),
            unknown_keys: Vec::new(),
            help: None,
            change: None,
        });
    }
    if unknown {
        let keys = unknown_keys.join(", ");
        return Some(LinkResult {
            link,
            status: LinkStatus::Unknown,
            reason: format!(
                "whether the {kind}s of account {account} allow {} hangs on {keys}",
                facts.action
            ),
            evidence,
            fix: None,
            help: Some(context_help(&unknown_keys)),
            unknown_keys,
            change: None,
        });
    }
    Some(LinkResult {
        link,
        status: LinkStatus::Pass,
        reason: format!(
            "every level of account {account}'s organization allows {}",
            facts.action
        ),
        evidence,
        fix: None,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
    })
}

fn level_name(level: usize, count: usize) -> String {
    if level == 0 {
        "root".to_string()
    } else if level + 1 == count {
        "account".to_string()
    } else {
        format!("OU {level}")
    }
}

fn unknown_link(link: LinkId, reason: String, help: String) -> LinkResult {
    LinkResult {
        link,
        status: LinkStatus::Unknown,
        reason,
        evidence: Vec::new(),
        fix: None,
        unknown_keys: Vec::new(),
        help: Some(help),
        change: None,
    }
}

fn context_help(keys: &[String]) -> String {
    let examples: Vec<String> = keys
        .iter()
        .map(|key| format!("--context {key}=VALUE"))
        .collect();
    format!(
        "the result depends on request values the tool cannot know; supply them with {}",
        examples.join(" ")
    )
}

// ---------------------------------------------------------------------------
// The principal's own documents: identity policies, boundary, session policies

struct GuardRails {
    identity: Judged,
    boundary: Option<Judged>,
    session: Option<Judged>,
    /// The account root user: allowed everything in its account without an
    /// identity policy.
    is_root: bool,
}

fn guard_rails(facts: &ActionFacts<'_, '_>) -> GuardRails {
    let request = facts.request();
    let info = facts.actor_info;
    let who = facts.actor_arn().to_string();
    let profile_help = principal_help(facts);
    let is_root = matches!(facts.actor.kind, PrincipalKind::Root);
    let identity_docs = match info.map(|info| (&info.policies, &info.policies_error)) {
        // The root user has no IAM policies to read: it is allowed what its
        // account can do.
        None if is_root => Docs::Known(Vec::new()),
        None => Docs::Unknown(format!("`{who}` is not in the snapshot; {profile_help}")),
        Some((Field::Unknown, error)) => Docs::Unknown(unread(
            &format!("the identity policies of `{who}`"),
            error,
            &profile_help,
        )),
        Some((Field::None, _)) => Docs::Known(Vec::new()),
        Some((Field::Some(policies), _)) => Docs::Known(
            policies
                .iter()
                .map(|named| &named.document.policy)
                .collect(),
        ),
    };
    let boundary =
        match info.map(|info| (&info.permissions_boundary, &info.permissions_boundary_error)) {
            None => None,
            Some((Field::None, _)) => None,
            Some((Field::Unknown, error)) => Some(Judged::of(
                Docs::Unknown(unread(
                    &format!("the permissions boundary of `{who}`"),
                    error,
                    &profile_help,
                )),
                &request,
            )),
            Some((Field::Some(named), _)) => Some(Judged::of(
                Docs::Known(vec![&named.document.policy]),
                &request,
            )),
        };
    // Session policies are a link only when known (contract §4: "when known").
    let session = match info.map(|info| &info.session_policies) {
        Some(Field::Some(docs)) if !docs.is_empty() => Some(Judged::of(
            Docs::Known(docs.iter().map(|doc: &PolicyDoc| &doc.policy).collect()),
            &request,
        )),
        _ => None,
    };
    GuardRails {
        identity: Judged::of(identity_docs, &request),
        boundary,
        session,
        is_root,
    }
}

fn principal_help(facts: &ActionFacts<'_, '_>) -> String {
    format!(
        "read them with credentials of account {} (`--principal-profile`), or add them to the snapshot's `principals`",
        facts.actor.account
    )
}

fn unread(what: &str, error: &Option<String>, help: &str) -> String {
    match error {
        Some(error) => format!("{what} could not be read ({error}); {help}"),
        None => format!("{what} were not read; {help}"),
    }
}

/// Which exemptions a resource-policy (or key-policy) grant gives, by how it
/// named the principal (contract §4; IAM User Guide, "Evaluating effective
/// permissions with boundaries" and "Session policies").
struct Exemptions {
    identity: Tri,
    boundary: Tri,
    session: Tri,
}

/// A principal-policy link (identity, boundary, session) judged against
/// whether it is needed.
fn principal_link(
    facts: &ActionFacts<'_, '_>,
    link: LinkId,
    judged: &Judged,
    needed: Tri,
    implicit_allow: bool,
    not_needed_because: &str,
) -> LinkResult {
    let denies = judged.denies();
    let allows = if implicit_allow {
        Tri::Yes
    } else {
        judged.allows()
    };
    let status = status_of(denies, allows, needed);
    let who = facts.actor_arn();
    let action = facts.action;
    let resource = &facts.resource;
    let what = link.title();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut fix = None;
    let reason = match status {
        LinkStatus::Fail if denies == Tri::Yes => {
            let denying = judged.applying(Effect::Deny);
            evidence.extend(denying.iter().map(|hit| evidence_of(hit)));
            let first = denying.first().copied();
            fix = first.map(|hit| {
                fix::remove_deny(
                    link,
                    &facts.actor.account,
                    hit,
                    find_policy(facts, link, &hit.document),
                )
            });
            format!(
                "{} explicitly denies {action} on {resource}",
                first.map(|hit| hit.document.as_str()).unwrap_or(what)
            )
        }
        LinkStatus::Fail => {
            fix = Some(fix::allow_in_principal_policy(
                link,
                &facts.actor.account,
                action,
                resource,
            ));
            format!("no statement of the {what} of `{who}` allows {action} on {resource}")
        }
        LinkStatus::Pass if allows == Tri::Yes && implicit_allow => {
            format!(
                "the root user of account {} is allowed every action of its account",
                facts.actor.account
            )
        }
        LinkStatus::Pass if allows == Tri::Yes => {
            evidence.extend(judged.allow_evidence());
            format!("the {what} of `{who}` allows {action}")
        }
        LinkStatus::Pass => format!("not needed: {not_needed_because}"),
        LinkStatus::Unknown => {
            return judged
                .unknown_finding(
                    &format!("the {what} of `{who}`"),
                    action,
                    "the link is needed only if another link's unknown result goes one way; resolve that one first",
                )
                .into_link(link);
        }
    };
    LinkResult {
        link,
        status,
        reason,
        evidence,
        fix,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
    }
}

fn find_policy<'s>(facts: &ActionFacts<'_, 's>, link: LinkId, label: &str) -> Option<&'s Policy> {
    let info = facts.actor_info?;
    match link {
        LinkId::IdentityPolicy => info
            .policies
            .known()?
            .iter()
            .map(|named| &named.document.policy)
            .find(|policy| policy.label() == label),
        LinkId::PermissionsBoundary => info
            .permissions_boundary
            .known()
            .map(|named| &named.document.policy),
        LinkId::SessionPolicy => info
            .session_policies
            .known()?
            .iter()
            .map(|doc| &doc.policy)
            .find(|policy| policy.label() == label),
        _ => None,
    }
}

fn push_guard_rails(
    facts: &ActionFacts<'_, '_>,
    rails: &GuardRails,
    exemptions: &Exemptions,
    granted_by: &str,
    links: &mut Vec<LinkResult>,
) {
    links.push(principal_link(
        facts,
        LinkId::IdentityPolicy,
        &rails.identity,
        not(exemptions.identity),
        rails.is_root,
        granted_by,
    ));
    if let Some(boundary) = &rails.boundary {
        links.push(principal_link(
            facts,
            LinkId::PermissionsBoundary,
            boundary,
            not(exemptions.boundary),
            false,
            granted_by,
        ));
    }
    if let Some(session) = &rails.session {
        links.push(principal_link(
            facts,
            LinkId::SessionPolicy,
            session,
            not(exemptions.session),
            false,
            granted_by,
        ));
    }
}

/// Whether an allow of the resource policy names the principal in one of
/// `kinds`.
fn grants_as(judged: &Judged, kinds: &[PrincipalMatch]) -> Tri {
    judged.allows_with(|hit| {
        hit.principal_match
            .is_some_and(|kind| kinds.contains(&kind))
    })
}

const DIRECT: [PrincipalMatch; 4] = [
    PrincipalMatch::User,
    PrincipalMatch::Session,
    PrincipalMatch::Role,
    PrincipalMatch::Wildcard,
];
const UNCAPPED: [PrincipalMatch; 3] = [
    PrincipalMatch::User,
    PrincipalMatch::Session,
    PrincipalMatch::Wildcard,
];

// ---------------------------------------------------------------------------
// S3 and STS actions: identity side plus bucket policy or trust policy

fn resource_policy_links(
    facts: &ActionFacts<'_, '_>,
    target: &Target,
    links: &mut Vec<LinkResult>,
) {
    let setup = facts.setup;
    let request = facts.request();
    let (link, owner_help, docs) = match target {
        Target::Role => {
            let role_info = setup
                .role
                .as_ref()
                .and_then(|role| principal::find_info(setup.snapshot, role));
            let help = format!(
                "read the role with credentials of account {} (`--profile`), or add its `trust_policy` to the snapshot",
                facts.resource_account
            );
            let docs = match role_info.map(|info| (&info.trust_policy, &info.trust_policy_error)) {
                None => Docs::Unknown(format!(
                    "the role `{}` is not in the snapshot; {help}",
                    facts.resource
                )),
                Some((Field::Unknown, error)) => {
                    Docs::Unknown(unread("the trust policy", error, &help))
                }
                Some((Field::None, _)) => Docs::Known(Vec::new()),
                Some((Field::Some(doc), _)) => Docs::Known(vec![&doc.policy]),
            };
            (LinkId::TrustPolicy, help, docs)
        }
        _ => {
            let bucket = setup.bucket;
            let help = format!(
                "read the bucket policy with credentials of account {} (`--profile`), or add `policy` to the snapshot's bucket",
                bucket.account
            );
            let docs = match &bucket.policy {
                Field::Unknown => {
                    Docs::Unknown(unread("the bucket policy", &bucket.policy_error, &help))
                }
                Field::None => Docs::Known(Vec::new()),
                Field::Some(doc) => Docs::Known(vec![&doc.policy]),
            };
            (LinkId::BucketPolicy, help, docs)
        }
    };
    let resource_policy = Judged::of(docs, &request);
    let rails = guard_rails(facts);
    let cross = facts.cross_account();
    let same = if cross { Tri::No } else { Tri::Yes };
    let exemptions = Exemptions {
        identity: and(same, grants_as(&resource_policy, &DIRECT)),
        boundary: and(same, grants_as(&resource_policy, &UNCAPPED)),
        session: and(same, grants_as(&resource_policy, &UNCAPPED)),
    };
    let identity_allows = if rails.is_root {
        Tri::Yes
    } else {
        rails.identity.allows()
    };
    // A trust policy is always needed to assume a role; a bucket policy is
    // needed across accounts, or within the account when no identity policy
    // allows.
    let needed = match link {
        LinkId::TrustPolicy => Tri::Yes,
        _ if cross => Tri::Yes,
        _ => not(identity_allows),
    };
    let resource_owner = facts.resource_account.clone();
    links.push(resource_link(
        facts,
        link,
        &resource_policy,
        needed,
        &resource_owner,
        &owner_help,
    ));
    let granted_by = format!(
        "the {} names `{}` itself within its account",
        link.title(),
        facts.actor_arn()
    );
    push_guard_rails(facts, &rails, &exemptions, &granted_by, links);
}

fn resource_link(
    facts: &ActionFacts<'_, '_>,
    link: LinkId,
    judged: &Judged,
    needed: Tri,
    owner: &str,
    owner_help: &str,
) -> LinkResult {
    let denies = judged.denies();
    let allows = judged.allows();
    let status = status_of(denies, allows, needed);
    let action = facts.action;
    let who = facts.actor_arn();
    let what = link.title();
    let mut evidence = Vec::new();
    let mut fix = None;
    let reason = match status {
        LinkStatus::Fail if denies == Tri::Yes => {
            let denying = judged.applying(Effect::Deny);
            evidence.extend(denying.iter().map(|hit| evidence_of(hit)));
            let policy = resource_policy_of(facts, link);
            fix = denying
                .first()
                .map(|hit| fix::remove_deny(link, owner, hit, policy));
            let sid = denying
                .first()
                .and_then(|hit| hit.sid.as_deref())
                .map(|sid| format!(" (statement `{sid}`)"))
                .unwrap_or_default();
            format!("the {what} explicitly denies {action} to `{who}`{sid}")
        }
        LinkStatus::Fail => {
            fix = Some(fix::allow_in_resource_policy(
                link,
                owner,
                who,
                action,
                &facts.resource,
                if link == LinkId::TrustPolicy {
                    fix::Scope::AssumeRole {
                        external_id: facts.setup.request.external_id.as_deref(),
                    }
                } else {
                    fix::Scope::None
                },
            ));
            // Failing without a deny means no allow applied at all (an allow
            // that may apply would have made the link unknown).
            let near = near_misses(resource_policy_of(facts, link), &facts.caller);
            let note = near_miss_note(&near, action);
            evidence.extend(near);
            let reason = if link == LinkId::TrustPolicy {
                format!(
                    "no statement of the trust policy lets `{who}` assume the role (with the request's conditions, such as sts:ExternalId)"
                )
            } else if facts.cross_account() {
                format!(
                    "no statement of the {what} allows {action} to `{who}` or its account {}, which a cross-account request needs",
                    facts.actor.account
                )
            } else {
                format!(
                    "no statement of the {what} allows {action} to `{who}`, and no identity policy allows it either"
                )
            };
            format!("{reason}{note}")
        }
        LinkStatus::Pass if allows == Tri::Yes => {
            evidence.extend(judged.allow_evidence());
            format!("the {what} allows {action} to `{who}`")
        }
        LinkStatus::Pass => {
            format!(
                "not needed within account {owner}: the identity policy allows {action} and the {what} denies nothing"
            )
        }
        LinkStatus::Unknown => {
            return judged
                .unknown_finding(&format!("the {what}"), action, owner_help)
                .into_link(link);
        }
    };
    LinkResult {
        link,
        status,
        reason,
        evidence,
        fix,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
    }
}

fn resource_policy_of<'s>(facts: &ActionFacts<'_, 's>, link: LinkId) -> Option<&'s Policy> {
    let setup = facts.setup;
    match link {
        LinkId::BucketPolicy => setup.bucket.policy.known().map(|doc| &doc.policy),
        LinkId::TrustPolicy => setup
            .role
            .as_ref()
            .and_then(|role| principal::find_info(setup.snapshot, role))
            .and_then(|info| info.trust_policy.known())
            .map(|doc| &doc.policy),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// KMS actions: key policy with grants, key state, bucket encryption

/// KMS grant operation names for an action (`kms:Decrypt` → `Decrypt`).
fn grant_operation(action: &str) -> &str {
    action.strip_prefix("kms:").unwrap_or(action)
}

/// Whether a grant lets the actor itself perform the action with this
/// encryption context (KMS Developer Guide, "Grants in AWS KMS", "Grant
/// constraints").
fn grant_covers(
    grant: &GrantInfo,
    facts: &ActionFacts<'_, '_>,
    encryption_context_arn: &str,
) -> bool {
    let grantee_is_actor = grant.grantee == facts.caller.principal_arn
        || facts.caller.session_arn.as_deref() == Some(grant.grantee.as_str());
    let operation = grant_operation(facts.action);
    let covers_operation = grant.operations.iter().any(|op| op == operation);
    let context_met = match &grant.constraints {
        None => true,
        Some(constraints) => {
            let subset_ok = constraints
                .encryption_context_subset
                .as_ref()
                .is_none_or(|subset| {
                    subset
                        .iter()
                        .all(|(key, value)| key == "aws:s3:arn" && value == encryption_context_arn)
                });
            let equals_ok = constraints
                .encryption_context_equals
                .as_ref()
                .is_none_or(|equals| {
                    equals.len() == 1
                        && equals
                            .get("aws:s3:arn")
                            .is_some_and(|value| value == encryption_context_arn)
                });
            subset_ok && equals_ok
        }
    };
    grantee_is_actor && covers_operation && context_met
}

fn kms_links(
    facts: &ActionFacts<'_, '_>,
    key_use: &super::KeyUse,
    key: &ResolvedKey<'_>,
    encryption_context_arn: &str,
    links: &mut Vec<LinkResult>,
) {
    let request = facts.request();
    let key_help = format!(
        "read the key with credentials of account {} (`--profile`), or add it to the snapshot's `keys`",
        key.account
    );
    let key_policy_docs = match key.info {
        _ if key.reference == Reference::Unknown => Docs::Unknown(
            "the encryption that applies could not be read, so the key is not known".to_string(),
        ),
        None => Docs::Unknown(format!(
            "key `{}` is not in the snapshot; {key_help}",
            key.configured
        )),
        Some(info) => match &info.policy {
            Field::Unknown => {
                Docs::Unknown(unread("the key policy", &info.policy_error, &key_help))
            }
            Field::None => Docs::Known(Vec::new()),
            Field::Some(doc) => Docs::Known(vec![&doc.policy]),
        },
    };
    let key_policy = Judged::of(key_policy_docs, &request);
    let grants_cover = match key.info.map(|info| &info.grants) {
        None | Some(Field::Unknown) => Tri::Unknown,
        Some(Field::None) => Tri::No,
        Some(Field::Some(grants)) => {
            if grants
                .iter()
                .any(|grant| grant_covers(grant, facts, encryption_context_arn))
            {
                Tri::Yes
            } else {
                Tri::No
            }
        }
    };
    let covering_grant = key
        .info
        .and_then(|info| info.grants.known())
        .and_then(|grants| {
            grants
                .iter()
                .find(|grant| grant_covers(grant, facts, encryption_context_arn))
        });
    let cross = facts.cross_account();
    let same = if cross { Tri::No } else { Tri::Yes };
    // A grant to the principal itself allows the action by itself (contract
    // §4); a key policy naming the principal is enough only within the
    // key's account (KMS Developer Guide, "Allowing users in other accounts
    // to use a KMS key").
    let exemptions = Exemptions {
        identity: or(grants_cover, and(same, grants_as(&key_policy, &DIRECT))),
        boundary: and(same, grants_as(&key_policy, &UNCAPPED)),
        session: and(same, grants_as(&key_policy, &UNCAPPED)),
    };
    links.push(key_policy_link(
        facts,
        key,
        &key_policy,
        grants_cover,
        covering_grant,
        &key_help,
    ));
    let rails = guard_rails(facts);
    let granted_by = match covering_grant {
        Some(grant) => format!(
            "a grant{} on the key gives `{}` {} directly",
            grant
                .name
                .as_deref()
                .map(|name| format!(" `{name}`"))
                .unwrap_or_default(),
            facts.actor_arn(),
            facts.action
        ),
        None => format!(
            "the key policy names `{}` within the key's account",
            facts.actor_arn()
        ),
    };
    push_guard_rails(facts, &rails, &exemptions, &granted_by, links);
    links.push(key_state_link(facts, key, &key_help));
    if facts.action == "kms:GenerateDataKey" && key_use.source == KeySource::BucketDefault {
        links.push(bucket_encryption_link(facts, key));
    }
}

fn key_policy_link(
    facts: &ActionFacts<'_, '_>,
    key: &ResolvedKey<'_>,
    key_policy: &Judged,
    grants_cover: Tri,
    covering_grant: Option<&GrantInfo>,
    key_help: &str,
) -> LinkResult {
    let denies = key_policy.denies();
    let allows = or(key_policy.allows(), grants_cover);
    let status = status_of(denies, allows, Tri::Yes);
    let action = facts.action;
    let who = facts.actor_arn().to_string();
    let mut evidence = Vec::new();
    let mut unknown_keys = Vec::new();
    let mut help = None;
    let mut fix = None;
    let reason = match status {
        LinkStatus::Fail if denies == Tri::Yes => {
            let denying = key_policy.applying(Effect::Deny);
            evidence.extend(denying.iter().map(|hit| evidence_of(hit)));
            let policy = key
                .info
                .and_then(|info| info.policy.known())
                .map(|doc| &doc.policy);
            fix = denying
                .first()
                .map(|hit| fix::remove_deny(LinkId::KeyPolicy, &key.account, hit, policy));
            format!("the key policy explicitly denies {action} to `{who}`")
        }
        LinkStatus::Fail => {
            fix = Some(fix::allow_in_resource_policy(
                LinkId::KeyPolicy,
                &key.account,
                &who,
                action,
                "*",
                fix::Scope::ThroughS3 {
                    region: facts.setup.bucket.region.as_deref().unwrap_or("us-east-1"),
                },
            ));
            let grant_note = match key.info.map(|info| &info.grants) {
                Some(Field::Some(grants)) if !grants.is_empty() => {
                    ", and no grant on the key covers it (grantee, operation and encryption-context constraints)"
                }
                _ => ", and no grant on the key covers it",
            };
            let near = near_misses(
                key.info
                    .and_then(|info| info.policy.known())
                    .map(|doc| &doc.policy),
                &facts.caller,
            );
            let note = near_miss_note(&near, action);
            evidence.extend(near);
            format!(
                "no statement of the key policy allows `{who}` or account {} to use {action}{grant_note}{note}",
                facts.actor.account
            )
        }
        LinkStatus::Pass => {
            if key_policy.allows() == Tri::Yes {
                evidence.extend(key_policy.allow_evidence());
                let by_account = key_policy
                    .allows_with(|hit| hit.principal_match == Some(PrincipalMatch::Account))
                    == Tri::Yes
                    && grants_as(key_policy, &DIRECT) != Tri::Yes;
                if by_account {
                    format!(
                        "the key policy allows account {} to use {action}, which delegates to its IAM policies",
                        facts.actor.account
                    )
                } else {
                    format!("the key policy allows `{who}` to use {action}")
                }
            } else {
                let name = covering_grant
                    .and_then(|grant| grant.name.clone().or_else(|| grant.grant_id.clone()))
                    .unwrap_or_else(|| "a grant".to_string());
                evidence.push(Evidence {
                    document: format!("grants of `{}`", key.resource),
                    statement: None,
                    sid: Some(name.clone()),
                    line: None,
                    role: EvidenceRole::Allows,
                    file_position: None,
                });
                format!("grant `{name}` allows `{who}` to use {action}")
            }
        }
        LinkStatus::Unknown => {
            if grants_cover == Tri::Unknown
                && key_policy.unread.is_none()
                && key_policy.allows() == Tri::No
            {
                help = Some(key_help.to_string());
                "the key policy does not allow it and the key's grants could not be read"
                    .to_string()
            } else {
                let finding = key_policy.unknown_finding(
                    &format!("the key policy of `{}`", key.configured),
                    action,
                    key_help,
                );
                evidence = finding.evidence;
                unknown_keys = finding.unknown_keys;
                help = finding.help;
                finding.reason
            }
        }
    };
    LinkResult {
        link: LinkId::KeyPolicy,
        status,
        reason,
        evidence,
        fix,
        unknown_keys,
        help,
        change: None,
    }
}

fn key_state_link(
    facts: &ActionFacts<'_, '_>,
    key: &ResolvedKey<'_>,
    key_help: &str,
) -> LinkResult {
    let make = |status, reason: String, fix, help| LinkResult {
        link: LinkId::KeyState,
        status,
        reason,
        evidence: Vec::new(),
        fix,
        unknown_keys: Vec::new(),
        help,
        change: None,
    };
    let cross = facts.cross_account();
    if key.is_aws_managed() && cross {
        return make(
            LinkStatus::Fail,
            format!(
                "`{}` is an AWS managed key of account {}, which cannot be used from account {}",
                key.configured, key.account, facts.actor.account
            ),
            Some(fix::aws_managed_key(&key.account, &facts.setup.bucket.name)),
            None,
        );
    }
    if key.reference == Reference::Unknown {
        return make(
            LinkStatus::Unknown,
            "the encryption that applies could not be read, so the key is not known".to_string(),
            None,
            Some(format!(
                "read the bucket's default encryption (s3:GetEncryptionConfiguration) and the object (s3:GetObject for HeadObject) with credentials of account {}",
                facts.setup.bucket.account
            )),
        );
    }
    let Some(info) = key.info else {
        if key.reference == Reference::AwsManagedDefault {
            // S3 creates `aws/s3` on first use; it is always enabled.
            return make(
                LinkStatus::Pass,
                format!(
                    "the AWS managed key aws/s3 of account {} is always enabled",
                    key.account
                ),
                None,
                None,
            );
        }
        return make(
            LinkStatus::Unknown,
            format!("key `{}` is not in the snapshot", key.configured),
            None,
            Some(key_help.to_string()),
        );
    };
    match &info.state {
        Field::Unknown => make(
            LinkStatus::Unknown,
            match &info.state_error {
                Some(error) => format!("the state of `{}` could not be read: {error}", info.arn),
                None => format!("the state of `{}` is not known", info.arn),
            },
            None,
            Some(key_help.to_string()),
        ),
        Field::None => make(
            LinkStatus::Fail,
            format!("key `{}` does not exist", key.configured),
            Some(fix::missing_key(&key.account, &key.configured)),
            None,
        ),
        Field::Some(state) if state == "Enabled" => make(
            LinkStatus::Pass,
            format!("`{}` is Enabled", info.arn),
            None,
            None,
        ),
        Field::Some(state) => make(
            LinkStatus::Fail,
            format!(
                "`{}` is {state}, and KMS refuses cryptographic operations on a key that is not Enabled",
                info.arn
            ),
            Some(fix::key_not_enabled(&key.account, &info.arn, state)),
            None,
        ),
    }
}

fn bucket_encryption_link(facts: &ActionFacts<'_, '_>, key: &ResolvedKey<'_>) -> LinkResult {
    let make = |status, reason: String, fix| LinkResult {
        link: LinkId::BucketEncryption,
        status,
        reason,
        evidence: Vec::new(),
        fix,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
    };
    let bucket = facts.setup.bucket;
    if key.reference == Reference::Unknown {
        return LinkResult {
            help: Some(format!(
                "read it with credentials of account {} (s3:GetEncryptionConfiguration), or add `encryption` to the snapshot's bucket",
                bucket.account
            )),
            ..make(
                LinkStatus::Unknown,
                match &bucket.encryption_error {
                    Some(error) => {
                        format!("the bucket's default encryption could not be read: {error}")
                    }
                    None => "the bucket's default encryption is not known".to_string(),
                },
                None,
            )
        };
    }
    let writer_account = &facts.actor.account;
    if writer_account != &bucket.account && !key.reference.works_cross_account() {
        let key_arn = key.info.map(|info| info.arn.clone());
        return make(
            LinkStatus::Fail,
            format!(
                "the bucket's default encryption names the key as `{}`, which S3 resolves in the writer's account {writer_account}; only a full key ARN works across accounts",
                key.configured
            ),
            Some(fix::bucket_default_key_arn(
                &bucket.account,
                &bucket.name,
                key_arn.as_deref(),
                &key.configured,
            )),
        );
    }
    if key.info.is_some_and(|info| info.state == Field::None) {
        return make(
            LinkStatus::Fail,
            format!(
                "the bucket's default encryption names `{}`, which does not exist",
                key.configured
            ),
            Some(fix::bucket_default_key_arn(
                &bucket.account,
                &bucket.name,
                None,
                &key.configured,
            )),
        );
    }
    make(
        LinkStatus::Pass,
        format!(
            "the bucket's default encryption names `{}`, usable by account {writer_account}",
            key.configured
        ),
        None,
    )
}

// ---------------------------------------------------------------------------
// Object ownership

fn object_ownership_link(facts: &ActionFacts<'_, '_>) -> Option<LinkResult> {
    let setup = facts.setup;
    let bucket = setup.bucket;
    let make = |status, reason: String, fix, help| {
        Some(LinkResult {
            link: LinkId::ObjectOwnership,
            status,
            reason,
            evidence: Vec::new(),
            fix,
            unknown_keys: Vec::new(),
            help,
            change: None,
        })
    };
    if bucket
        .ownership
        .known()
        .is_some_and(|ownership| ownership == "BucketOwnerEnforced")
    {
        return make(
            LinkStatus::Pass,
            "Object Ownership is BucketOwnerEnforced: the bucket owner owns every object and ACLs are off".to_string(),
            None,
            None,
        );
    }
    // Without --object the object is hypothetical: nothing to say about
    // who owns it (the report's note says a placeholder was used).
    setup.request.object.as_ref()?;
    let help = format!(
        "read the object's ACL (s3:GetObjectAcl) with credentials of account {}, or add the object to the snapshot's bucket",
        bucket.account
    );
    let Some(object) = setup.object else {
        return make(
            LinkStatus::Unknown,
            format!("the owner of `{}` is not known", setup.object_key),
            None,
            Some(help),
        );
    };
    let owner = match &object.owner {
        Field::Some(owner) => owner,
        Field::None => return None,
        Field::Unknown => {
            return make(
                LinkStatus::Unknown,
                match &object.owner_error {
                    Some(error) => {
                        format!("the owner of `{}` could not be read: {error}", object.key)
                    }
                    None => format!("the owner of `{}` is not known", object.key),
                },
                None,
                Some(help),
            );
        }
    };
    let caller_account = &facts.actor.account;
    if owner == &bucket.account || owner == caller_account {
        return make(
            LinkStatus::Pass,
            format!("`{}` is owned by account {owner}", object.key),
            None,
            None,
        );
    }
    if !crate::arn::is_account_id(owner) {
        return make(
            LinkStatus::Unknown,
            format!(
                "`{}` is owned by canonical user `{owner}`, which the snapshot does not map to an account",
                object.key
            ),
            None,
            Some("record the owner as a 12-digit account id in the snapshot".to_string()),
        );
    }
    let grants = match &object.acl {
        Field::Some(grants) => grants,
        Field::None => &Vec::new(),
        Field::Unknown => {
            return make(
                LinkStatus::Unknown,
                format!(
                    "`{}` is owned by account {owner} and its ACL could not be read",
                    object.key
                ),
                None,
                Some(help),
            );
        }
    };
    let readable = grants.iter().any(|grant| {
        let grantee_matches = &grant.grantee == caller_account
            || grant.grantee.ends_with("/global/AllUsers")
            || grant.grantee.ends_with("/global/AuthenticatedUsers");
        grantee_matches && matches!(grant.permission.as_str(), "READ" | "FULL_CONTROL")
    });
    if readable {
        return make(
            LinkStatus::Pass,
            format!(
                "`{}` is owned by account {owner} and its ACL grants account {caller_account} read access",
                object.key
            ),
            None,
            None,
        );
    }
    make(
        LinkStatus::Fail,
        format!(
            "`{}` is owned by account {owner}, not the bucket owner {}, and its ACL grants account {caller_account} nothing; bucket and identity policies cannot grant access to it",
            object.key, bucket.account
        ),
        Some(fix::object_ownership(
            owner,
            &bucket.account,
            caller_account,
            &object.key,
        )),
        None,
    )
}
