//! The request context AWS builds for each action, and the one place that
//! says, key by key, where each value comes from ([`KEYS`], kept in
//! `key_table` apart from the builders that read it): derived from the
//! snapshot and the request, a request header or parameter (absent unless
//! `--context` gives it), documented by AWS as absent for the requests judged
//! here, or unknown. Any key not in the table is unknown: a condition the tool
//! cannot settle makes its link `unknown`, never silently allowed or denied.
//!
//! `--context` is applied last and overrides what was derived, except in the
//! forward access session S3 opens to KMS for the caller, which never carries
//! the VPC keys of the caller's own request.

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use crate::policy::arn::{ArnParts, Principal, PrincipalKind};
use crate::policy::context::RequestContext;
use crate::snapshot::{Field, PrincipalInfo};

use super::Setup;
use super::keys::{Reference, ResolvedKey};

mod key_table;
mod outside;
mod via_service;

pub(crate) use outside::delivery_acl;

pub use key_table::{CARRIED, ContextKey, KEYS, Origin};

/// The VPC keys a forward access session does not carry (IAM User Guide,
/// "Forward access sessions"; KMS Developer Guide, "Using VPC endpoint
/// conditions in policies with AWS KMS permissions").
pub(crate) const VPC_KEYS: [&str; 3] = ["aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp"];

/// What the KMS call S3 makes for the caller adds to the context.
pub(crate) struct KmsCall<'a> {
    /// `kms:EncryptionContext:aws:s3:arn`: the bucket ARN with S3 Bucket
    /// Keys, the object ARN without (S3 User Guide, "Using an S3 Bucket Key").
    pub encryption_context_arn: &'a str,
    pub key: &'a ResolvedKey<'a>,
    /// The rest of the encryption context of the object being read, when
    /// the snapshot records it (`objects[].encryption.context`).
    pub extra_context: &'a [(String, String)],
}

/// The resource an action is authorized against, as the context sees it.
pub(crate) enum ContextResource<'a> {
    Bucket,
    /// `s3express:CreateSession` on a directory bucket.
    Session {
        write: bool,
    },
    /// An object action; `put` for `s3:PutObject`, which carries no
    /// existing-object tags.
    Object {
        put: bool,
    },
    Key(KmsCall<'a>),
    /// `sts:AssumeRole` on the role; its entry when the snapshot has one.
    Role(Option<&'a PrincipalInfo>),
}

pub(crate) struct ActionContext<'a> {
    pub actor: &'a Principal,
    pub actor_info: Option<&'a PrincipalInfo>,
    pub actor_arn: &'a str,
    pub resource_account: &'a str,
    pub resource: ContextResource<'a>,
}

/// The region of the S3 request: the bucket's, when known.
pub(crate) fn bucket_region<'s>(setup: &Setup<'s>) -> Option<&'s str> {
    setup.bucket.region.as_deref()
}

/// The region S3 calls KMS in: the bucket's (S3 uses a key of its own
/// region), else the region of the key's ARN.
pub(crate) fn kms_region<'a>(setup: &Setup<'a>, key: &ResolvedKey<'_>) -> Option<String> {
    bucket_region(setup)
        .map(str::to_string)
        .or_else(|| key_region(key))
}

fn key_region(key: &ResolvedKey<'_>) -> Option<String> {
    [key.resource.as_str(), key.configured.as_str()]
        .into_iter()
        .filter_map(|text| ArnParts::parse(text).ok())
        .map(|arn| arn.region)
        .find(|region| !region.is_empty())
        .map(str::to_string)
}

/// The table's defaults, written once: every key it says is absent, every
/// prefix it says is absent, and unknown for anything else.
static TABLE: LazyLock<Arc<RequestContext>> = LazyLock::new(|| {
    let mut context = RequestContext::unknown_by_default();
    for row in KEYS {
        if row.key == "svc:*" {
            // Not a prefix: the request's services decide (`set_request`).
            continue;
        }
        match (row.source, row.key.strip_suffix('*')) {
            (Origin::Absent | Origin::Request, Some(prefix)) if !prefix.is_empty() => {
                context.set_absent_prefix(prefix)
            }
            (Origin::Absent | Origin::Request, None) => context.set_absent(row.key),
            _ => {}
        }
    }
    Arc::new(context)
});

/// Contexts built for a request, kept for the actions that need the same
/// one: what every action has in common per principal making the calls, and
/// each action's whole context by what it depends on. A context reads no
/// policy document, so the re-check, which replaces only documents, uses
/// them as they are.
#[derive(Default)]
pub(crate) struct Shared {
    /// For `--principal`.
    source: OnceCell<Arc<RequestContext>>,
    /// For the `--via-role` session.
    role: OnceCell<Arc<RequestContext>>,
    actions: RefCell<Vec<(Built, Arc<RequestContext>)>>,
}

/// Everything an action's context is built from, beyond the request.
#[derive(PartialEq, Eq)]
struct Built {
    /// The `--via-role` session makes the call (else `--principal`).
    role: bool,
    resource_account: String,
    resource: BuiltResource,
}

#[derive(PartialEq, Eq)]
enum BuiltResource {
    Bucket,
    Session {
        write: bool,
    },
    Object {
        put: bool,
    },
    Key {
        encryption_context_arn: String,
        extra_context: Vec<(String, String)>,
        configured: String,
        reference: Reference,
        resource: String,
        account: String,
    },
    Role,
}

impl Shared {
    /// Each request context built for an action, with the resource it was
    /// built for: `bucket`, `object`, `object-put`, `role`, `session` or
    /// `session-write` (a directory bucket's), or the ARN of the KMS key. A second evaluator is given exactly these values.
    pub(crate) fn built(&self) -> Vec<(String, Arc<RequestContext>)> {
        self.actions
            .borrow()
            .iter()
            .map(|(built, context)| {
                let resource = match &built.resource {
                    BuiltResource::Bucket => "bucket".to_string(),
                    BuiltResource::Session { write: false } => "session".to_string(),
                    BuiltResource::Session { write: true } => "session-write".to_string(),
                    BuiltResource::Object { put: false } => "object".to_string(),
                    BuiltResource::Object { put: true } => "object-put".to_string(),
                    BuiltResource::Key { resource, .. } => resource.clone(),
                    BuiltResource::Role => "role".to_string(),
                };
                (resource, Arc::clone(context))
            })
            .collect()
    }
}

pub(crate) fn build(setup: &Setup<'_>, action: &ActionContext<'_>) -> Arc<RequestContext> {
    // Only the two principals of the request itself are kept, by identity;
    // a context for any other is built afresh.
    let role = if std::ptr::eq(action.actor, &setup.source) {
        false
    } else if setup
        .role
        .as_ref()
        .is_some_and(|role| std::ptr::eq(action.actor, role))
    {
        true
    } else {
        return Arc::new(build_over(setup, action, shared(setup, action)));
    };
    let built = Built {
        role,
        resource_account: action.resource_account.to_string(),
        resource: match &action.resource {
            ContextResource::Bucket => BuiltResource::Bucket,
            ContextResource::Session { write } => BuiltResource::Session { write: *write },
            ContextResource::Object { put } => BuiltResource::Object { put: *put },
            ContextResource::Key(kms) => BuiltResource::Key {
                encryption_context_arn: kms.encryption_context_arn.to_string(),
                extra_context: kms.extra_context.to_vec(),
                configured: kms.key.configured.clone(),
                reference: kms.key.reference,
                resource: kms.key.resource.clone(),
                account: kms.key.account.clone(),
            },
            // The role is the request's `--via-role`: the same for every action.
            ContextResource::Role(_) => BuiltResource::Role,
        },
    };
    let kept = setup
        .contexts
        .actions
        .borrow()
        .iter()
        .find(|(seen, _)| *seen == built)
        .map(|(_, context)| Arc::clone(context));
    if let Some(context) = kept {
        return context;
    }
    let cell = match role {
        true => &setup.contexts.role,
        false => &setup.contexts.source,
    };
    let shared = Arc::clone(cell.get_or_init(|| shared(setup, action)));
    let context = Arc::new(build_over(setup, action, shared));
    setup
        .contexts
        .actions
        .borrow_mut()
        .push((built, Arc::clone(&context)));
    context
}

/// The action's own keys laid over what it shares with the others.
fn build_over(
    setup: &Setup<'_>,
    action: &ActionContext<'_>,
    shared: Arc<RequestContext>,
) -> RequestContext {
    // What follows was written after the shared part in a context built in
    // one go, and writes none of its keys, so laying it over gives the same
    // context.
    let mut context = RequestContext::on(shared);
    set_resource(setup, action, &mut context);
    set_request(setup, action, &mut context);
    // What the request's own evidence leaves open, over any default.
    for key in &setup.request.unknown_context {
        context.set_unknown(key.clone());
    }
    // --context last: it overrides what the tool derived. A key given twice
    // is multi-valued.
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in &setup.request.context {
        let lowered = key.to_ascii_lowercase();
        if seen.contains(&lowered) {
            context.push(key, value.as_str());
        } else {
            seen.push(lowered);
            context.set(key.clone(), value.as_str());
        }
    }
    if matches!(action.resource, ContextResource::Key(_)) {
        // A forward access session keeps the caller's identity and source IP
        // (so `aws:SourceIp` stays as settled for the S3 request) but not the
        // VPC it came through, whatever the S3 request carried.
        for key in VPC_KEYS {
            context.set_absent(key);
        }
    }
    if matches!(
        action.resource,
        ContextResource::Bucket | ContextResource::Object { .. } | ContextResource::Session { .. }
    ) {
        via_service::drop_caller_network(setup, &mut context);
    }
    context
}

/// The keys that depend on the principal and the request but not on the
/// action: the table's defaults, the principal's keys, the transport and
/// time, and the network keys.
fn shared(setup: &Setup<'_>, action: &ActionContext<'_>) -> Arc<RequestContext> {
    let mut context = RequestContext::on(Arc::clone(&TABLE));
    set_principal(setup, action, &mut context);
    context.set("aws:SecureTransport", "true");
    let now = setup.request.now;
    context.set(
        "aws:CurrentTime",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    context.set("aws:EpochTime", now.timestamp().to_string());
    context.set("s3:signatureversion", "AWS4-HMAC-SHA256");
    via_service::set_signature_keys(setup, &mut context);
    Network::of(setup).apply(&mut context);
    Arc::new(context)
}

fn set_principal(setup: &Setup<'_>, action: &ActionContext<'_>, context: &mut RequestContext) {
    let actor = action.actor;
    if !actor.is_iam() {
        outside::set_principal(setup, actor, context);
        return;
    }
    context.set("aws:PrincipalArn", action.actor_arn);
    context.set("aws:PrincipalAccount", actor.account.as_str());
    // IAM User Guide, "aws:PrincipalIsAWSService": false when a service
    // calls with the credentials of an IAM principal (forward access).
    context.set("aws:PrincipalIsAWSService", "false");
    let principal_type = match &actor.kind {
        PrincipalKind::Root => "Account",
        PrincipalKind::User { .. } => "User",
        PrincipalKind::AssumedRole { .. } => "AssumedRole",
        PrincipalKind::FederatedUser { .. } => "FederatedUser",
        // Set by `outside::set_principal`, which returned above.
        PrincipalKind::Service { .. }
        | PrincipalKind::Anonymous
        | PrincipalKind::CloudFrontOai { .. } => return,
    };
    context.set("aws:PrincipalType", principal_type);
    // aws:userid: the unique id for a user; ROLEID:SESSION for a role session
    // (the session name is usually unknown); the account id for root.
    let unique_id = action.actor_info.and_then(|info| info.id.as_deref());
    match (&actor.kind, unique_id) {
        (PrincipalKind::User { name, .. }, id) => {
            context.set("aws:username", name.as_str());
            match id {
                Some(id) => context.set("aws:userid", id),
                None => context.set_unknown("aws:userid"),
            }
        }
        (
            PrincipalKind::AssumedRole {
                session_name: Some(session),
                ..
            },
            Some(id),
        ) => context.set("aws:userid", format!("{id}:{session}")),
        (PrincipalKind::AssumedRole { .. }, _) => context.set_unknown("aws:userid"),
        (PrincipalKind::Root, _) => context.set("aws:userid", actor.account.as_str()),
        (PrincipalKind::FederatedUser { .. }, _) => context.set_unknown("aws:userid"),
        (
            PrincipalKind::Service { .. }
            | PrincipalKind::Anonymous
            | PrincipalKind::CloudFrontOai { .. },
            _,
        ) => {}
    }
    if !matches!(actor.kind, PrincipalKind::User { .. }) {
        // IAM User Guide, "aws:username": present only for IAM users.
        context.set_absent("aws:username");
    }
    let tags = match action.actor_info {
        Some(info) => info.tags.as_ref(),
        None => Field::Unknown,
    };
    set_tags(
        context,
        "aws:PrincipalTag/",
        Some("aws:PrincipalTagKeys"),
        tags,
    );
    set_org(
        setup,
        context,
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        &actor.account,
    );
}

fn set_resource(setup: &Setup<'_>, action: &ActionContext<'_>, context: &mut RequestContext) {
    context.set("aws:ResourceAccount", action.resource_account);
    set_org(
        setup,
        context,
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        action.resource_account,
    );
    let bucket = setup.bucket;
    let object_tags = || match setup.object {
        // Without --object the object is a placeholder: its tags are not known.
        Some(object) if setup.request.object.is_some() => object.tags.as_ref(),
        _ => Field::Unknown,
    };
    match &action.resource {
        ContextResource::Session { .. } => set_bucket_tags(context, bucket.tags.as_ref()),
        ContextResource::Bucket => {
            context.set("s3:ResourceAccount", bucket.account.as_str());
            set_bucket_tags(context, bucket.tags.as_ref());
            context.set_absent_prefix("s3:ExistingObjectTag/");
        }
        ContextResource::Object { put } => {
            context.set("s3:ResourceAccount", bucket.account.as_str());
            set_bucket_tags(context, bucket.tags.as_ref());
            if *put {
                // S3 User Guide, "Tagging and access control policies": the
                // existing-object tag key is for actions on an existing object.
                context.set_absent_prefix("s3:ExistingObjectTag/");
            } else {
                set_tags(context, "s3:ExistingObjectTag/", None, object_tags());
            }
        }
        ContextResource::Key(kms) => {
            let key = kms.key;
            let tags = match key.info {
                Some(info) => info.tags.as_ref(),
                None => Field::Unknown,
            };
            set_tags(context, "aws:ResourceTag/", None, tags);
            match key.info {
                Some(info) if info.aliases_error.is_some() => {
                    context.set_unknown("kms:ResourceAliases")
                }
                Some(info) if info.aliases.is_empty() => context.set_absent("kms:ResourceAliases"),
                Some(info) => context.set_values("kms:ResourceAliases", info.aliases.clone()),
                None => context.set_unknown("kms:ResourceAliases"),
            }
        }
        ContextResource::Role(info) => {
            let tags = match info {
                Some(info) => info.tags.as_ref(),
                None => Field::Unknown,
            };
            set_tags(context, "aws:ResourceTag/", None, tags);
        }
    }
}

fn set_request(setup: &Setup<'_>, action: &ActionContext<'_>, context: &mut RequestContext) {
    let actor = action.actor;
    let region = match &action.resource {
        ContextResource::Bucket
        | ContextResource::Object { .. }
        | ContextResource::Session { .. } => bucket_region(setup).map(str::to_string),
        // The key's own region, which S3 requires to be the bucket's.
        ContextResource::Key(kms) => key_region(kms.key).or_else(|| kms_region(setup, kms.key)),
        // STS's global endpoint is in us-east-1; a regional one is not known.
        ContextResource::Role(_) => Some("us-east-1".to_string()),
    };
    match region {
        Some(region) => context.set("aws:RequestedRegion", region),
        None => context.set_unknown("aws:RequestedRegion"),
    }
    // A key of a service the request is not made to is absent (the `svc:*`
    // row): `ec2:Owner` in AWS's own data-perimeter SCP examples is decided
    // for an S3 request, and the `s3:` headers of the S3 request do not
    // reach the KMS call S3 makes, whose action lists only `kms:` keys
    // (Service Authorization Reference, "Actions, resources, and condition
    // keys for AWS Key Management Service").
    let service: &'static [&'static str] = match &action.resource {
        ContextResource::Bucket | ContextResource::Object { .. } => &["s3"],
        ContextResource::Session { .. } => &["s3express"],
        ContextResource::Key(_) => &["kms"],
        ContextResource::Role(_) => &["sts"],
    };
    context.scope_to_services(service, CARRIED);
    match &action.resource {
        ContextResource::Key(kms) => {
            // S3 calls KMS with a forward access session for the caller: the
            // caller's identity and source IP are kept (IAM User Guide,
            // "Forward access sessions").
            context.set("aws:ViaAWSService", "true");
            via_service::set_on_kms_call(setup, context);
            if actor.is_iam() {
                context.set("kms:CallerAccount", actor.account.as_str());
            } else {
                // A caller of no customer account: which account KMS sees
                // is not documented.
                context.set_unknown("kms:CallerAccount");
            }
            match kms_region(setup, kms.key) {
                // Which service name a directory bucket's calls to KMS carry
                // is not documented for the S3 Express One Zone endpoints.
                _ if setup.bucket.is_directory() => context.set_unknown("kms:ViaService"),
                Some(region) => context.set("kms:ViaService", format!("s3.{region}.amazonaws.com")),
                None => context.set_unknown("kms:ViaService"),
            }
            context.set(
                "kms:EncryptionContext:aws:s3:arn",
                kms.encryption_context_arn,
            );
            let mut context_keys = vec!["aws:s3:arn".to_string()];
            for (key, value) in outside::service_context(actor, setup).into_iter().chain(
                kms.extra_context
                    .iter()
                    .map(|(key, value)| (key.clone(), Some(value.clone()))),
            ) {
                if key == "aws:s3:arn" {
                    continue;
                }
                let name = format!("kms:EncryptionContext:{key}");
                match value {
                    Some(value) => context.set(name, value),
                    None => context.set_unknown(name),
                }
                context_keys.push(key);
            }
            context.set_values("kms:EncryptionContextKeys", context_keys);
            context.set("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
            context.set("kms:GrantIsForAWSResource", "false");
            match kms.key.reference {
                Reference::KeyArn | Reference::KeyId | Reference::AwsManagedDefault => {
                    context.set_absent("kms:RequestAlias")
                }
                _ => context.set_unknown("kms:RequestAlias"),
            }
        }
        ContextResource::Role(_) => {
            context.set("aws:ViaAWSService", "false");
            if let Some(external_id) = &setup.request.external_id {
                context.set("sts:ExternalId", external_id.as_str());
            }
        }
        ContextResource::Bucket | ContextResource::Object { .. } => {
            via_service::set_on_s3_request(setup, context);
            if let (ContextResource::Object { put: true }, Some(acl)) =
                (&action.resource, delivery_acl(actor))
            {
                context.set("s3:x-amz-acl", acl);
            }
        }
        ContextResource::Session { write } => {
            via_service::set_on_s3_request(setup, context);
            context.set(
                "s3express:SessionMode",
                super::directory::session_mode(*write),
            );
        }
    }
}

/// `aws:ResourceTag/*` of an S3 action. S3 puts a general purpose bucket's
/// tags in the request context only when ABAC is enabled on the bucket, and
/// it is disabled by default (S3 User Guide, "Enabling ABAC in general purpose
/// buckets"); the snapshot does not record that status, so a tag the bucket
/// has is unknown, and a tag it does not have is absent either way.
fn set_bucket_tags(context: &mut RequestContext, tags: Field<&BTreeMap<String, String>>) {
    match tags {
        Field::Some(tags) => {
            context.set_absent_prefix("aws:ResourceTag/");
            for key in tags.keys() {
                context.set_unknown(format!("aws:ResourceTag/{key}"));
            }
        }
        other => set_tags(context, "aws:ResourceTag/", None, other),
    }
}

/// Sets `prefix`-keys from a tag map: present for each tag, absent for any
/// other tag name; all unknown when the tags were not read.
fn set_tags(
    context: &mut RequestContext,
    prefix: &'static str,
    keys: Option<&'static str>,
    tags: Field<&BTreeMap<String, String>>,
) {
    match tags {
        Field::Some(tags) => {
            context.set_absent_prefix(prefix);
            for (key, value) in tags {
                context.set(format!("{prefix}{key}"), value.as_str());
            }
            if let Some(keys) = keys {
                if tags.is_empty() {
                    context.set_absent(keys);
                } else {
                    context.set_values(keys, tags.keys().cloned().collect());
                }
            }
        }
        Field::None => {
            context.set_absent_prefix(prefix);
            if let Some(keys) = keys {
                context.set_absent(keys);
            }
        }
        Field::Unknown => {
            context.set_unknown_prefix(prefix);
            if let Some(keys) = keys {
                context.set_unknown(keys);
            }
        }
    }
}

/// The org id of `account`, and its OU path: absent outside an
/// organization, `accounts.*.org_path` inside one (one value of the
/// multivalued key, as the IAM User Guide's `ForAnyValue` examples test
/// it), unknown when not read.
fn set_org(
    setup: &Setup<'_>,
    context: &mut RequestContext,
    id_key: &'static str,
    paths_key: &'static str,
    account: &str,
) {
    let info = setup.snapshot.accounts.get(account);
    let path = match info.map(|info| &info.org_path) {
        Some(Field::Some(path)) => Some(path.as_str()),
        _ => None,
    };
    match (info.map(|info| &info.org_id), path) {
        (Some(Field::None), _) => {
            context.set_absent(id_key);
            context.set_absent(paths_key);
        }
        // A loaded snapshot's path is in the organization `org_id` names;
        // it also gives the id when only the path was read.
        (_, Some(path)) => {
            context.set(id_key, crate::policy::org_path::organization_of(path));
            context.set_values(paths_key, vec![path.to_string()]);
        }
        (Some(Field::Some(org)), None) => {
            context.set(id_key, org.as_str());
            context.set_unknown(paths_key);
        }
        _ => {
            context.set_unknown(id_key);
            context.set_unknown(paths_key);
        }
    }
}

/// What the caller's own request says about where it came from (IAM User
/// Guide, `aws:SourceIp`, `aws:SourceVpc`, `aws:SourceVpce`,
/// `aws:VpcSourceIp`: their "Availability" lines). Given keys win; the rest
/// settle from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Network {
    /// A VPC key was given: the request came through a VPC endpoint and
    /// carries no `aws:SourceIp`.
    via_endpoint: bool,
    /// A public `aws:SourceIp` was given and no VPC key: the request did not
    /// come through an endpoint.
    public_ip: bool,
}

impl Network {
    pub(crate) fn of(setup: &Setup<'_>) -> Self {
        // Through `--via-service` the caller's own VPC keys never reach
        // the request, so they settle nothing about its `aws:SourceIp`.
        let via_endpoint = setup.request.via_service.is_none()
            && ["aws:SourceVpce", "aws:SourceVpc"]
                .iter()
                .any(|key| setup.context_value(key).is_some());
        let source_ip = setup.context_value("aws:SourceIp");
        let public_ip = !via_endpoint && source_ip.is_some_and(is_public_ip);
        Self {
            via_endpoint,
            public_ip,
        }
    }

    /// The four keys as settled, before `--context` is applied on top.
    fn apply(&self, context: &mut RequestContext) {
        for key in ["aws:SourceIp"].into_iter().chain(VPC_KEYS) {
            context.set_unknown(key);
        }
        if self.via_endpoint {
            context.set_absent("aws:SourceIp");
        }
        if self.public_ip {
            for key in VPC_KEYS {
                context.set_absent(key);
            }
        }
    }
}

/// A public address: not private, loopback, link-local, shared (CGNAT) or
/// unique-local. `aws:SourceIp` of a request from a VPC endpoint is absent, so
/// a public value says the request came over the internet.
fn is_public_ip(text: &str) -> bool {
    let Ok(address) = text.trim().parse::<IpAddr>() else {
        return false;
    };
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests;
