//! Judging every link of one action, as AWS's evaluation logic does (IAM
//! User Guide: "Policy evaluation logic", "Cross-account policy evaluation
//! logic", "Evaluating effective permissions with boundaries"; KMS Developer
//! Guide: "Key policies", "Grants").
//!
//! Each link is judged from three facts: does it explicitly deny, does it
//! allow, and does AWS need an allow from it for this request. A link fails
//! on an explicit deny or when it is needed and gives no allow; it is unknown
//! when any of those facts hangs on a document or context key not known.
//!
//! This module decides which links an action has ([`links_needed`]) and
//! builds what they are judged against; each link family's rule lives in
//! the file named after it.

mod access_point;
mod authentication;
mod block_public_access;
mod bucket_encryption;
mod evaluation;
mod grants;
mod identity;
mod key_policy;
mod key_state;
mod object_ownership;
mod organization;
mod replication;
mod resource;
mod service_support;
mod worlds;

pub(crate) use service_support::caller_note;

use std::rc::Rc;
use std::sync::Arc;

use crate::diagnosis::{ActionResult, Fix, LinkId, LinkResult, LinkStatus};
use crate::policy::arn::Principal;
use crate::policy::context::{LazyContext, RequestContext};
use crate::policy::{Caller, Request, Tri};
use crate::snapshot::PrincipalInfo;

use super::context::{self, ActionContext, ContextResource, KmsCall};
use super::keys::{self, ResolvedKey};
use super::principal;
use super::{Detail, KeySource, PlannedAction, Setup, Target};

use identity::{Exemptions, GuardRails};

/// A link result with no evidence, fix, unknown keys or help yet.
fn result(link: LinkId, status: LinkStatus, reason: String) -> LinkResult {
    LinkResult {
        link,
        status,
        reason,
        evidence: Vec::new(),
        fix: None,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
        assumed: None,
        layers: None,
    }
}

/// A decided link as the verdict-only judge keeps it: its status alone.
fn status_only(link: LinkId, status: LinkStatus) -> LinkResult {
    result(link, status, String::new())
}

fn pass(link: LinkId, reason: String) -> LinkResult {
    result(link, LinkStatus::Pass, reason)
}

fn fail(link: LinkId, reason: String, fix: Option<Fix>) -> LinkResult {
    LinkResult {
        fix: fix.map(Box::new),
        ..result(link, LinkStatus::Fail, reason)
    }
}

fn unknown(link: LinkId, reason: String, help: Option<String>) -> LinkResult {
    LinkResult {
        help,
        ..result(link, LinkStatus::Unknown, reason)
    }
}

/// What the resource side (bucket policy, trust policy, or key policy with
/// its grants) says, and what its grant exempts the principal's own
/// policies from.
struct ResourceSide {
    link: Option<LinkResult>,
    exemptions: Exemptions,
    /// Why an exempted principal link is not needed.
    granted_by: String,
}

/// Everything an action's links are judged against.
struct ActionFacts<'a, 's> {
    setup: &'a Setup<'s>,
    action: &'static str,
    /// What the request names: the bucket or object, or through an access
    /// point its ARN forms.
    resource: String,
    /// What the bucket policy is judged against: the bucket or object ARN
    /// even when the request goes through an access point.
    resource_side: String,
    resource_account: String,
    actor: &'a Principal,
    actor_info: Option<&'s PrincipalInfo>,
    caller: Caller,
    context: Rc<LazyContext<'a>>,
}

impl ActionFacts<'_, '_> {
    /// Whether the caller reads the links' words (reasons, evidence,
    /// proposed changes), or only their statuses.
    fn words(&self) -> bool {
        self.setup.detail == Detail::Full
    }

    fn request(&self) -> Request<'_> {
        Request {
            action: self.action,
            resource: &self.resource,
            caller: &self.caller,
            context: &*self.context,
        }
    }

    /// The request as the resource side (bucket, trust or key policy) sees
    /// it.
    fn resource_side_request(&self) -> Request<'_> {
        Request {
            resource: &self.resource_side,
            ..self.request()
        }
    }

    fn cross_account(&self) -> bool {
        self.actor.account != self.resource_account
    }

    fn actor_arn(&self) -> &str {
        &self.caller.principal_arn
    }

    /// The same action judged against another request context.
    fn with_context(&self, context: Arc<RequestContext>) -> Self {
        Self {
            resource: self.resource.clone(),
            resource_side: self.resource_side.clone(),
            resource_account: self.resource_account.clone(),
            caller: self.caller.clone(),
            context: Rc::new(LazyContext::built(context)),
            ..*self
        }
    }
}

pub(crate) fn judge_action(setup: &Setup<'_>, planned: &PlannedAction) -> ActionResult {
    if let Target::Replica(replica) = &planned.target {
        return replication::judge_destination(setup, planned.action, replica);
    }
    let actor = match planned.target {
        Target::Role => &setup.source,
        _ => setup.actor(),
    };
    let actor_info = setup.info_of(actor);
    let caller = principal::caller(actor, actor_info);
    let resolved_key = match &planned.target {
        // A key the request names by alias or key id is the writer's own;
        // one the bucket's configuration or the object names, the bucket
        // owner's (see `keys::resolve_in`).
        Target::Key(key_use) if key_use.source == KeySource::RequestHeader => {
            Some(keys::resolve_in(setup, &key_use.choice, &actor.account))
        }
        Target::Key(key_use) => Some(keys::resolve(setup, &key_use.choice)),
        _ => None,
    };
    let (resource, resource_account) = match &planned.target {
        Target::Bucket => (setup.bucket_arn(), setup.bucket.account.clone()),
        Target::Session { .. } => (setup.directory_bucket_arn(), setup.bucket.account.clone()),
        Target::Object(key) => (setup.object_arn(key), setup.bucket.account.clone()),
        Target::Role => {
            let role = setup.role.as_ref().map(|role| {
                let info = setup.info_of(role);
                (principal::principal_arn(role, info), role.account.clone())
            });
            role.unwrap_or_default()
        }
        Target::Key(_) => match &resolved_key {
            Some(key) => (key.resource.clone(), key.account.clone()),
            None => (String::new(), setup.bucket.account.clone()),
        },
        // Judged in the destination's place above.
        Target::Replica(_) => (String::new(), setup.bucket.account.clone()),
    };
    // The rest of the encryption context of the object being read, as the
    // snapshot records it.
    let extra_context: Vec<(String, String)> = match (&planned.target, setup.object) {
        (Target::Key(key_use), Some(object)) if key_use.source == KeySource::Object => object
            .encryption
            .known()
            .and_then(|encryption| encryption.context.as_ref())
            .map(|context| {
                context
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let resource_side = resource.clone();
    // S3 User Guide, "Configuring IAM policies for using access points": a
    // request through an access point names the access point's ARN
    // (`.../accesspoint/NAME/object/KEY` for an object), which the
    // caller's own policies and the access point policy are matched
    // against; the bucket policy still sees the bucket and object.
    let resource = match (&planned.target, setup.access_point) {
        (Target::Bucket, Some(point)) => point.resource_arn(None),
        (Target::Object(key), Some(point)) => point.resource_arn(Some(key)),
        _ => resource,
    };
    let encryption_context_arn = match &planned.target {
        // S3 API Reference, "PutObject" (`x-amz-server-side-encryption-context`):
        // in a directory bucket the encryption context is always the
        // bucket's ARN.
        Target::Key(_) if setup.bucket.is_directory() => setup.directory_bucket_arn(),
        Target::Key(key_use) if key_use.bucket_key => setup.bucket_arn(),
        Target::Key(key_use) => setup.object_arn(&key_use.object),
        _ => String::new(),
    };
    let context_resource = match (&planned.target, &resolved_key) {
        (Target::Key(_), Some(key)) => ContextResource::Key(KmsCall {
            encryption_context_arn: &encryption_context_arn,
            key,
            extra_context: &extra_context,
        }),
        (Target::Role, _) => {
            ContextResource::Role(setup.role.as_ref().and_then(|role| setup.info_of(role)))
        }
        (Target::Bucket | Target::Replica(_), _) => ContextResource::Bucket,
        (Target::Session { write }, _) => ContextResource::Session { write: *write },
        (Target::Object(_), _) | (Target::Key(_), None) => ContextResource::Object {
            put: planned.action == "s3:PutObject",
        },
    };
    let actor_arn = caller.principal_arn.clone();
    let context_account = resource_account.clone();
    let build = move || {
        let context = context::build(
            setup,
            &ActionContext {
                actor,
                actor_info,
                actor_arn: &actor_arn,
                resource_account: &context_account,
                resource: context_resource,
            },
        );
        match setup.access_point {
            Some(point) => access_point::with_context(&context, point, &planned.target),
            None => context,
        }
    };
    // A full judgement keeps every context it was judged against (a second
    // evaluator is given them), so it builds each; a verdict builds one only
    // when a condition or policy variable reads it.
    let context = match setup.detail {
        Detail::Full => LazyContext::built(build()),
        Detail::Verdict => LazyContext::new(build),
    };
    let facts = ActionFacts {
        setup,
        action: planned.action,
        resource,
        resource_side,
        resource_account,
        actor,
        actor_info,
        caller,
        context: Rc::new(context),
    };

    let key = resolved_key.as_ref();
    let judge = |facts: &ActionFacts<'_, '_>| judge_links(facts, &planned.target, key);
    let mut links = judge(&facts);
    worlds::decide_over_worlds(&mut links, &facts, judge);
    links.extend(replication::links(&facts));
    links.sort_by_key(|link| link.link);
    if links
        .iter()
        .any(|link| link.link == LinkId::ServiceSupport && link.status == LinkStatus::Fail)
    {
        // Whatever the policies say, this caller cannot use SSE-KMS this
        // way: a statement proposed for them would mend nothing.
        for link in links
            .iter_mut()
            .filter(|link| link.link != LinkId::ServiceSupport)
        {
            if link.fix.take().is_some() {
                link.help = Some(
                    "no policy change makes this work: see the service-support link".to_string(),
                );
            }
        }
    }
    let verdict = ActionResult::verdict_of(&links);
    ActionResult {
        action: planned.action.to_string(),
        resource: facts.resource.clone(),
        verdict,
        links,
    }
}

/// Every link of the action, judged against `facts`.
fn judge_links(
    facts: &ActionFacts<'_, '_>,
    target: &Target,
    key: Option<&ResolvedKey<'_>>,
) -> Vec<LinkResult> {
    let rails = identity::guard_rails(facts);
    let mut side = match (target, key) {
        (Target::Key(_), Some(key)) => key_policy::judge(facts, key),
        (target, _) => resource::judge(facts, target, &rails),
    };
    // Through an access point, its policy is judged with what the bucket
    // side denies, and may lift the bucket policy's need to allow.
    let mut access_point_policy = match (facts.setup.access_point, target) {
        (Some(point), Target::Bucket | Target::Object(_)) => {
            let bucket_side = bucket_side_denies(facts);
            Some(access_point::judge(
                facts,
                point,
                &rails,
                &mut side.exemptions,
                bucket_side,
            ))
        }
        _ => None,
    };
    let mut links = Vec::new();
    let needed = if facts.actor.is_iam() {
        links_needed(facts, target, key, &rails)
    } else {
        links_outside_iam(facts, target, key)
    };
    for link in needed {
        let judged = match (link, key) {
            (LinkId::Scp | LinkId::Rcp, _) => organization::link(facts, link),
            (LinkId::BucketPolicy | LinkId::TrustPolicy | LinkId::KeyPolicy, _) => {
                side.link.take().filter(|result| result.link == link)
            }
            (LinkId::IdentityPolicy | LinkId::PermissionsBoundary | LinkId::SessionPolicy, _) => {
                identity::link(facts, link, &rails, &side.exemptions, &side.granted_by)
            }
            (LinkId::KeyState, Some(key)) => Some(
                match target {
                    Target::Key(key_use) if key_use.source == KeySource::RequestHeader => {
                        key_state::request_key_region(facts, key)
                    }
                    _ => None,
                }
                .unwrap_or_else(|| key_state::link(facts, key)),
            ),
            (LinkId::BucketEncryption, Some(key)) => Some(bucket_encryption::link(facts, key)),
            (LinkId::ObjectOwnership, _) => object_ownership::link(facts),
            (LinkId::BlockPublicAccess, _) => block_public_access::link(facts),
            (LinkId::AccessPointPolicy, _) => access_point_policy.take(),
            (LinkId::KeyState | LinkId::BucketEncryption, None) => None,
            // Not among the links every action needs: `replication::links`.
            (LinkId::ReplicationConfiguration | LinkId::Versioning, _) => None,
            (LinkId::ServiceSupport, _) => service_support::link(facts, target),
            (LinkId::Authentication, _) => Some(authentication::link(facts)),
        };
        links.extend(judged);
    }
    links
}

/// Whether the caller's own policies, SCPs or RCPs deny the action when
/// matched against the bucket and object ARNs rather than the access
/// point's. Which ARN those documents see for a request through an access
/// point is not documented beyond identity policies granting the access
/// point's ARN, so a deny written for the bucket is never dropped silently.
fn bucket_side_denies(facts: &ActionFacts<'_, '_>) -> Tri {
    let bucket = ActionFacts {
        setup: facts.setup,
        action: facts.action,
        resource: facts.resource_side.clone(),
        resource_side: facts.resource_side.clone(),
        resource_account: facts.resource_account.clone(),
        actor: facts.actor,
        actor_info: facts.actor_info,
        caller: facts.caller.clone(),
        context: Rc::clone(&facts.context),
    };
    let rails = identity::guard_rails(&bucket);
    let mut denies = rails.identity.denies();
    for judged in [&rails.boundary, &rails.session].into_iter().flatten() {
        denies = crate::policy::logic::or(denies, judged.denies());
    }
    for link in [LinkId::Scp, LinkId::Rcp] {
        if !organization::applies(&bucket, link, None) {
            continue;
        }
        let denied = organization::link(&bucket, link).is_some_and(|result| {
            result
                .evidence
                .iter()
                .any(|evidence| evidence.role == crate::diagnosis::EvidenceRole::Denies)
        });
        if denied {
            denies = Tri::Yes;
        }
    }
    denies
}

/// The links AWS consults for this action: the organization's policies
/// (unless exempt), the resource side (bucket, trust or key policy), the
/// principal's own policies, and for KMS actions the key's state and, when
/// S3 picked the key from the bucket default, the bucket's encryption.
fn links_needed(
    facts: &ActionFacts<'_, '_>,
    target: &Target,
    key: Option<&ResolvedKey<'_>>,
    rails: &GuardRails,
) -> Vec<LinkId> {
    let mut links = Vec::new();
    for link in [LinkId::Scp, LinkId::Rcp] {
        if organization::applies(facts, link, key) {
            links.push(link);
        }
    }
    let kms = match (target, key) {
        (Target::Key(key_use), Some(_)) => Some(key_use),
        _ => None,
    };
    links.push(match (kms, target) {
        (Some(_), _) => LinkId::KeyPolicy,
        (None, Target::Role) => LinkId::TrustPolicy,
        (None, _) => LinkId::BucketPolicy,
    });
    if facts.setup.access_point.is_some() && matches!(target, Target::Bucket | Target::Object(_)) {
        links.push(LinkId::AccessPointPolicy);
    }
    links.push(LinkId::IdentityPolicy);
    if rails.boundary.is_some() {
        links.push(LinkId::PermissionsBoundary);
    }
    if rails.session.is_some() {
        links.push(LinkId::SessionPolicy);
    }
    if let Some(key_use) = kms {
        links.push(LinkId::KeyState);
        if facts.action == "kms:GenerateDataKey" && key_use.source == KeySource::BucketDefault {
            links.push(LinkId::BucketEncryption);
        }
    }
    // Replication reads the object as the role: S3 User Guide, "Setting up
    // permissions for live replication": an object owned by another account
    // replicates only when its ACL grants the role's account.
    if matches!(
        facts.action,
        "s3:GetObject" | "s3:GetObjectVersionForReplication"
    ) && object_ownership::applies(facts)
    {
        links.push(LinkId::ObjectOwnership);
    }
    if matches!(target, Target::Bucket | Target::Object(_)) {
        links.push(LinkId::BlockPublicAccess);
    }
    if matches!(
        target,
        Target::Bucket | Target::Object(_) | Target::Session { .. }
    ) && authentication::applies(facts)
    {
        links.push(LinkId::Authentication);
    }
    links
}

/// The links of a caller that is no IAM identity (a service principal, an
/// unsigned caller, an origin access identity): it has no identity
/// policies, boundary, session policy or SCPs, so the resource's policy
/// must allow it by itself; the resource account's RCPs apply (AWS
/// Organizations User Guide, "Resource control policies (RCPs)": RCPs apply
/// to every principal but service-linked roles). S3 picks the write key in
/// the bucket owner's account for such a caller, so of `bucket-encryption`
/// only what holds for every writer is judged (the key exists, is in the
/// bucket's region, suits a directory bucket).
fn links_outside_iam(
    facts: &ActionFacts<'_, '_>,
    target: &Target,
    key: Option<&ResolvedKey<'_>>,
) -> Vec<LinkId> {
    let mut links = Vec::new();
    if organization::applies(facts, LinkId::Rcp, key) {
        links.push(LinkId::Rcp);
    }
    let kms = matches!((target, key), (Target::Key(_), Some(_)));
    links.push(if kms {
        LinkId::KeyPolicy
    } else {
        LinkId::BucketPolicy
    });
    if facts.setup.access_point.is_some() && matches!(target, Target::Bucket | Target::Object(_)) {
        links.push(LinkId::AccessPointPolicy);
    }
    if let (Target::Key(key_use), Some(_)) = (target, key) {
        links.push(LinkId::KeyState);
        if facts.action == "kms:GenerateDataKey" && key_use.source == KeySource::BucketDefault {
            links.push(LinkId::BucketEncryption);
        }
    }
    if facts.action == "s3:GetObject" && object_ownership::applies(facts) {
        links.push(LinkId::ObjectOwnership);
    }
    if matches!(target, Target::Bucket | Target::Object(_)) {
        links.push(LinkId::BlockPublicAccess);
    }
    if service_support::applies(facts, target) {
        links.push(LinkId::ServiceSupport);
    }
    links
}

#[cfg(test)]
mod tests;
