//! Overlays: a partial snapshot laid over a full one, so the chain can be
//! judged as a change will leave it ("what if"). An overlay file is the
//! snapshot format with any subset of fields; the Terraform plan reader
//! ([`super::plan`]) produces the same thing from `terraform show -json`.
//!
//! Laying an overlay over a snapshot follows the snapshot's own rules for a
//! field: a value or `null` replaces what was read; a field left out keeps
//! what was read; a field left out *with* its `..._error` sibling becomes
//! unknown with that error (how the plan reader says "unknown until apply").
//! Entries (buckets, keys, principals, accounts, objects) are matched by
//! name, ARN or id; an entry the snapshot lacks is added whole.
//!
//! Overlays also carry provenance: which document came from where (a
//! Terraform resource address or an overlay file). Every laid document
//! names its layer beside its AWS name, and [`annotate`] adds to a judged
//! diagnosis which layers each link read, which the reports name after its
//! reason, in the help of links left unknown by it and in the fix that must
//! edit it.

use std::collections::BTreeSet;

use crate::diagnosis::{ActionResult, Diagnosis, Layers, LinkId};
use crate::snapshot::{
    AccountInfo, BucketInfo, Field, KeyInfo, ObjectInfo, PrincipalInfo, SNAPSHOT_FORMAT, Snapshot,
    SnapshotError,
};

/// What produced an overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginKind {
    /// `--plan`: the JSON of `terraform show -json`.
    Plan,
    /// `--overlay`: a partial snapshot.
    Overlay,
}

/// Which document of the snapshot a [`Source`] stands behind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    BucketPolicy(String),
    BucketEncryption(String),
    Ownership(String),
    /// By key ARN.
    KeyPolicy(String),
    KeyGrants(String),
    KeyState(String),
    KeyAliases(String),
    /// A principal's identity policies, by principal ARN.
    Policies(String),
    Boundary(String),
    TrustPolicy(String),
    /// An account's SCPs or RCPs, by account id.
    Scps(String),
    Rcps(String),
}

/// Where one document of an overlay came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub target: Target,
    /// The Terraform resource address (`aws_kms_key.reports`); `None` for a
    /// hand-written overlay file, which is named by its file.
    pub address: Option<String>,
    /// When the document's value is unknown until the plan is applied: the
    /// address of the resource whose apply decides it.
    pub until_apply: Option<String>,
    /// For [`Target::Policies`]: the one policy (by name) this source
    /// wrote; `None` when it wrote the whole list.
    pub policy: Option<String>,
    /// When a plan resource's argument holds the document itself (not
    /// only names it): where a fix to it must be made.
    pub written: Option<super::terraform::WrittenBy>,
}

/// A partial snapshot with where it came from.
#[derive(Debug, Clone)]
pub struct Overlay {
    pub kind: OriginKind,
    /// The file, as given on the command line.
    pub file: String,
    /// Fields not given are `Field::Unknown` with no error: "keep".
    pub snapshot: Snapshot,
    /// Keys (by ARN) whose `aliases` list is given, even when empty: an
    /// empty list cannot otherwise be told from a list left out.
    pub aliases_given: BTreeSet<String>,
    pub sources: Vec<Source>,
    /// Facts of the overlay the report should state (what was skipped).
    pub notes: Vec<String>,
}

impl Overlay {
    /// Parses an overlay file: the snapshot format, any subset of fields,
    /// validated as a full snapshot is. A bucket may leave out `account`
    /// when `base` has the bucket.
    pub fn parse(file: &str, text: &str, base: &Snapshot) -> Result<Self, SnapshotError> {
        let fail = |field: String, message: String| SnapshotError {
            source_name: file.to_string(),
            field,
            message,
            line: None,
            column: None,
        };
        let mut value: serde_json::Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(_) => {
                // The snapshot parser reports the syntax error with its position.
                Snapshot::parse(file, text)?;
                return Err(fail(String::new(), "not JSON".to_string()));
            }
        };
        let mut patched = false;
        if let Some(buckets) = value.get_mut("buckets").and_then(|b| b.as_array_mut()) {
            for (index, bucket) in buckets.iter_mut().enumerate() {
                let Some(object) = bucket.as_object_mut() else {
                    continue;
                };
                if object.contains_key("account") {
                    continue;
                }
                let Some(name) = object.get("name").and_then(|n| n.as_str()) else {
                    continue;
                };
                let account = base
                    .buckets
                    .iter()
                    .find(|b| b.name == name)
                    .map(|b| b.account.clone())
                    .ok_or_else(|| {
                        fail(
                            format!("/buckets/{index}/account"),
                            format!(
                                "bucket `{name}` is not in the snapshot it is laid over, so the overlay must give its `account`"
                            ),
                        )
                    })?;
                object.insert("account".into(), serde_json::Value::String(account));
                patched = true;
            }
        }
        let aliases_given = value
            .get("keys")
            .and_then(|keys| keys.as_array())
            .map(|keys| {
                keys.iter()
                    .filter(|key| key.get("aliases").is_some())
                    .filter_map(|key| key.get("arn").and_then(|arn| arn.as_str()))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        // With an `account` filled in, the text parsed is no longer the
        // file's: the field still names the place, a line would not.
        let snapshot = if patched {
            Snapshot::parse(file, &value.to_string()).map_err(|error| SnapshotError {
                line: None,
                column: None,
                ..error
            })?
        } else {
            Snapshot::parse(file, text)?
        };
        Ok(Self {
            kind: OriginKind::Overlay,
            file: file.to_string(),
            snapshot,
            aliases_given,
            sources: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// How the report names this overlay (`plan `p.json``).
    pub fn describe(&self) -> String {
        match self.kind {
            OriginKind::Plan => format!("plan `{}`", self.file),
            OriginKind::Overlay => format!("overlay `{}`", self.file),
        }
    }

    /// How the report names the origin of one document.
    fn origin_of(&self, source: &Source) -> String {
        match &source.address {
            Some(address) => format!("`{address}` in {}", self.describe()),
            None => self.describe(),
        }
    }

    /// Names this file as the origin of every field it gives.
    fn record_file_sources(&mut self) {
        let mut sources = Vec::new();
        let given = |field_unknown: bool, error: &Option<String>| !field_unknown || error.is_some();
        for (account, info) in &self.snapshot.accounts {
            if given(info.scps.is_unknown(), &info.scps_error) {
                sources.push(Target::Scps(account.clone()));
            }
            if given(info.rcps.is_unknown(), &info.rcps_error) {
                sources.push(Target::Rcps(account.clone()));
            }
        }
        for bucket in &self.snapshot.buckets {
            if given(bucket.policy.is_unknown(), &bucket.policy_error) {
                sources.push(Target::BucketPolicy(bucket.name.clone()));
            }
            if given(bucket.encryption.is_unknown(), &bucket.encryption_error) {
                sources.push(Target::BucketEncryption(bucket.name.clone()));
            }
            if given(bucket.ownership.is_unknown(), &bucket.ownership_error) {
                sources.push(Target::Ownership(bucket.name.clone()));
            }
        }
        for key in &self.snapshot.keys {
            if given(key.policy.is_unknown(), &key.policy_error) {
                sources.push(Target::KeyPolicy(key.arn.clone()));
            }
            if given(key.grants.is_unknown(), &key.grants_error) {
                sources.push(Target::KeyGrants(key.arn.clone()));
            }
            if given(key.state.is_unknown(), &key.state_error) {
                sources.push(Target::KeyState(key.arn.clone()));
            }
            if self.aliases_given.contains(&key.arn) {
                sources.push(Target::KeyAliases(key.arn.clone()));
            }
        }
        for principal in &self.snapshot.principals {
            if given(principal.policies.is_unknown(), &principal.policies_error) {
                sources.push(Target::Policies(principal.arn.clone()));
            }
            if given(
                principal.permissions_boundary.is_unknown(),
                &principal.permissions_boundary_error,
            ) {
                sources.push(Target::Boundary(principal.arn.clone()));
            }
            if given(
                principal.trust_policy.is_unknown(),
                &principal.trust_policy_error,
            ) {
                sources.push(Target::TrustPolicy(principal.arn.clone()));
            }
        }
        self.sources = sources
            .into_iter()
            .map(|target| Source {
                target,
                address: None,
                until_apply: None,
                policy: None,
                written: None,
            })
            .collect();
    }
}

/// Parses an overlay file and records its provenance (every field it gives
/// is named by the file).
pub fn parse_file(file: &str, text: &str, base: &Snapshot) -> Result<Overlay, SnapshotError> {
    let mut overlay = Overlay::parse(file, text, base)?;
    overlay.record_file_sources();
    Ok(overlay)
}

/// One field laid over another (see the module doc for the rules).
fn lay_field<T: Clone>(
    base: &mut Field<T>,
    base_error: &mut Option<String>,
    over: &Field<T>,
    over_error: &Option<String>,
) {
    match over {
        Field::Unknown => {
            if let Some(error) = over_error {
                *base = Field::Unknown;
                *base_error = Some(error.clone());
            }
        }
        other => {
            *base = other.clone();
            *base_error = None;
        }
    }
}

fn lay_account(base: &mut AccountInfo, over: &AccountInfo) {
    lay_field(
        &mut base.org_id,
        &mut base.org_id_error,
        &over.org_id,
        &over.org_id_error,
    );
    lay_field(
        &mut base.org_path,
        &mut base.org_path_error,
        &over.org_path,
        &over.org_path_error,
    );
    if !over.management_account.is_unknown() {
        base.management_account = over.management_account.clone();
    }
    lay_field(
        &mut base.scps,
        &mut base.scps_error,
        &over.scps,
        &over.scps_error,
    );
    lay_field(
        &mut base.rcps,
        &mut base.rcps_error,
        &over.rcps,
        &over.rcps_error,
    );
    lay_field(
        &mut base.public_access_block,
        &mut base.public_access_block_error,
        &over.public_access_block,
        &over.public_access_block_error,
    );
}

fn lay_object(base: &mut ObjectInfo, over: &ObjectInfo) {
    lay_field(
        &mut base.tags,
        &mut base.tags_error,
        &over.tags,
        &over.tags_error,
    );
    lay_field(
        &mut base.owner,
        &mut base.owner_error,
        &over.owner,
        &over.owner_error,
    );
    lay_field(
        &mut base.encryption,
        &mut base.encryption_error,
        &over.encryption,
        &over.encryption_error,
    );
    lay_field(
        &mut base.acl,
        &mut base.acl_error,
        &over.acl,
        &over.acl_error,
    );
}

fn lay_bucket(base: &mut BucketInfo, over: &BucketInfo) {
    if over.account != base.account {
        base.account = over.account.clone();
        base.account_error = over.account_error.clone();
    }
    if over.region.is_some() {
        base.region = over.region.clone();
    }
    if over.bucket_type.is_some() {
        base.bucket_type = over.bucket_type.clone();
    }
    lay_field(
        &mut base.tags,
        &mut base.tags_error,
        &over.tags,
        &over.tags_error,
    );
    lay_field(
        &mut base.policy,
        &mut base.policy_error,
        &over.policy,
        &over.policy_error,
    );
    lay_field(
        &mut base.encryption,
        &mut base.encryption_error,
        &over.encryption,
        &over.encryption_error,
    );
    lay_field(
        &mut base.ownership,
        &mut base.ownership_error,
        &over.ownership,
        &over.ownership_error,
    );
    lay_field(
        &mut base.versioning,
        &mut base.versioning_error,
        &over.versioning,
        &over.versioning_error,
    );
    lay_field(
        &mut base.replication,
        &mut base.replication_error,
        &over.replication,
        &over.replication_error,
    );
    lay_field(
        &mut base.public_access_block,
        &mut base.public_access_block_error,
        &over.public_access_block,
        &over.public_access_block_error,
    );
    for object in &over.objects {
        match base.objects.iter_mut().find(|o| o.key == object.key) {
            Some(existing) => lay_object(existing, object),
            None => base.objects.push(object.clone()),
        }
    }
}

fn lay_key(base: &mut KeyInfo, over: &KeyInfo, aliases_given: bool) {
    if aliases_given {
        base.aliases = over.aliases.clone();
        base.aliases_error = None;
    }
    lay_field(
        &mut base.tags,
        &mut base.tags_error,
        &over.tags,
        &over.tags_error,
    );
    if over.manager.is_some() {
        base.manager = over.manager.clone();
    }
    lay_field(
        &mut base.state,
        &mut base.state_error,
        &over.state,
        &over.state_error,
    );
    lay_field(
        &mut base.policy,
        &mut base.policy_error,
        &over.policy,
        &over.policy_error,
    );
    lay_field(
        &mut base.grants,
        &mut base.grants_error,
        &over.grants,
        &over.grants_error,
    );
}

fn lay_principal(base: &mut PrincipalInfo, over: &PrincipalInfo) {
    if over.id.is_some() {
        base.id = over.id.clone();
    }
    lay_field(
        &mut base.tags,
        &mut base.tags_error,
        &over.tags,
        &over.tags_error,
    );
    lay_field(
        &mut base.policies,
        &mut base.policies_error,
        &over.policies,
        &over.policies_error,
    );
    lay_field(
        &mut base.permissions_boundary,
        &mut base.permissions_boundary_error,
        &over.permissions_boundary,
        &over.permissions_boundary_error,
    );
    lay_field(
        &mut base.trust_policy,
        &mut base.trust_policy_error,
        &over.trust_policy,
        &over.trust_policy_error,
    );
    lay_field(
        &mut base.session_policies,
        &mut base.session_policies_error,
        &over.session_policies,
        &over.session_policies_error,
    );
}

/// Lays `overlay` over `base` (the overlay wins), then labels every
/// document again, naming where each overlaid one came from.
pub fn lay(base: &mut Snapshot, overlay: &Overlay) {
    let over = &overlay.snapshot;
    if over.caller.is_some() {
        base.caller = over.caller.clone();
    }
    for (id, info) in &over.accounts {
        lay_account(base.accounts.entry(id.clone()).or_default(), info);
    }
    for bucket in &over.buckets {
        match base.buckets.iter_mut().find(|b| b.name == bucket.name) {
            Some(existing) => lay_bucket(existing, bucket),
            None => base.buckets.push(bucket.clone()),
        }
    }
    for key in &over.keys {
        let aliases_given = overlay.aliases_given.contains(&key.arn);
        match base.keys.iter_mut().find(|k| k.arn == key.arn) {
            Some(existing) => lay_key(existing, key, aliases_given),
            None => base.keys.push(key.clone()),
        }
        // An alias names one key: moved here, it leaves every other key.
        if aliases_given {
            for other in base.keys.iter_mut().filter(|k| k.arn != key.arn) {
                other.aliases.retain(|alias| !key.aliases.contains(alias));
            }
        }
    }
    for principal in &over.principals {
        match base.principals.iter_mut().find(|p| p.arn == principal.arn) {
            Some(existing) => lay_principal(existing, principal),
            None => base.principals.push(principal.clone()),
        }
    }
    // Session credentials are laid entry by entry; `null` clears them.
    match (&over.credentials, &mut base.credentials) {
        (Field::Unknown, _) => {}
        (Field::None, base) => *base = Field::None,
        (Field::Some(entries), Field::Some(known)) => {
            known.extend(
                entries
                    .iter()
                    .map(|(session, entry)| (session.clone(), entry.clone())),
            );
        }
        (Field::Some(entries), base) => *base = Field::Some(entries.clone()),
    }
    // An access point the overlay gives replaces the one of the same ARN
    // whole: its fields are read together (S3 Control GetAccessPoint).
    for point in &over.access_points {
        match base.access_points.iter_mut().find(|p| p.arn == point.arn) {
            Some(existing) => *existing = point.clone(),
            None => base.access_points.push(point.clone()),
        }
    }
    base.identify_documents();
}

/// Lays every overlay in order (a later one wins) and gives the documents
/// their provenance labels. Returns the provenance to [`annotate`] the
/// diagnosis with.
pub fn lay_all(base: &mut Snapshot, overlays: &[Overlay]) -> Provenance {
    for overlay in overlays {
        lay(base, overlay);
    }
    finish(base, overlays)
}

/// After the overlays were laid one by one with [`lay`]: names each
/// overlaid document's origin in its label, and returns the provenance to
/// [`annotate`] the diagnosis with.
pub fn finish(base: &mut Snapshot, overlays: &[Overlay]) -> Provenance {
    let provenance = Provenance::of(overlays);
    provenance.mark_layers(base);
    base.identify_documents();
    provenance
}

#[derive(Debug, Clone)]
struct Entry {
    target: Target,
    policy: Option<String>,
    origin: String,
    until_apply: Option<String>,
}

/// Which overlay wrote each document last, ready to name in the report.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// In the order given; later entries for the same target (and policy
    /// name) win.
    entries: Vec<Entry>,
    /// Every source in the order laid, none dropped: which plan resource
    /// wrote a document last, per SCP or RCP of an account too.
    writes: Vec<(Target, Option<String>, Option<super::terraform::WrittenBy>)>,
    /// `plan `p.json`, then overlay `o.json``.
    order: Vec<String>,
    notes: Vec<String>,
}

impl Provenance {
    fn of(overlays: &[Overlay]) -> Self {
        let mut provenance = Self::default();
        for overlay in overlays {
            provenance.order.push(overlay.describe());
            provenance.notes.extend(overlay.notes.iter().cloned());
            for source in &overlay.sources {
                provenance.writes.push((
                    source.target.clone(),
                    source.policy.clone(),
                    source.written.clone(),
                ));
                provenance.entries.retain(|entry| {
                    entry.target != source.target
                        || (source.policy.is_some() && entry.policy != source.policy)
                });
                provenance.entries.push(Entry {
                    target: source.target.clone(),
                    policy: source.policy.clone(),
                    origin: overlay.origin_of(source),
                    until_apply: source.until_apply.clone(),
                });
            }
        }
        provenance
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The origin of every source whose target `wanted` accepts.
    fn find(&self, wanted: impl Fn(&Target) -> bool) -> Vec<(&str, Option<&str>)> {
        let mut found: Vec<(&str, Option<&str>)> = Vec::new();
        for entry in self.entries.iter().filter(|entry| wanted(&entry.target)) {
            let item = (entry.origin.as_str(), entry.until_apply.as_deref());
            if !found.contains(&item) {
                found.push(item);
            }
        }
        found
    }

    /// The plan resource that wrote last the document `wanted` accepts
    /// (given each write's target, the identity policy's name it wrote, and
    /// the resource argument it wrote it with), when that resource holds
    /// the document itself; `None` when the last writer is an overlay file
    /// or a resource that only names it.
    pub(super) fn written_by(
        &self,
        wanted: impl Fn(&Target, Option<&str>, Option<&super::terraform::WrittenBy>) -> bool,
    ) -> Option<&super::terraform::WrittenBy> {
        self.writes
            .iter()
            .rev()
            .find(|(target, policy, written)| wanted(target, policy.as_deref(), written.as_ref()))
            .and_then(|(_, _, written)| written.as_ref())
    }

    /// The origin of one identity policy of a principal: the source that
    /// wrote that policy, or one that wrote the whole list.
    fn policy_origin(&self, principal: &str, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|entry| {
                entry.target == Target::Policies(principal.to_string())
                    && entry.policy.as_deref().is_none_or(|policy| policy == name)
            })
            .map(|entry| entry.origin.as_str())
    }

    /// Records on every overlaid document the layer that wrote it, which
    /// its label then names beside its AWS name.
    fn mark_layers(&self, snapshot: &mut Snapshot) {
        let origin = |target: Target| -> Option<&str> {
            self.find(|t| *t == target)
                .first()
                .map(|(origin, _)| *origin)
        };
        for (account, info) in &mut snapshot.accounts {
            for (target, levels) in [
                (Target::Scps(account.clone()), &mut info.scps),
                (Target::Rcps(account.clone()), &mut info.rcps),
            ] {
                if let (Some(origin), Field::Some(levels)) = (origin(target), levels) {
                    for named in levels.iter_mut().flatten() {
                        named.document.set_layer(origin);
                    }
                }
            }
        }
        for bucket in &mut snapshot.buckets {
            if let (Some(origin), Field::Some(doc)) = (
                origin(Target::BucketPolicy(bucket.name.clone())),
                &mut bucket.policy,
            ) {
                doc.set_layer(origin);
            }
        }
        for key in &mut snapshot.keys {
            if let (Some(origin), Field::Some(doc)) =
                (origin(Target::KeyPolicy(key.arn.clone())), &mut key.policy)
            {
                doc.set_layer(origin);
            }
        }
        for principal in &mut snapshot.principals {
            let arn = principal.arn.clone();
            if let Field::Some(policies) = &mut principal.policies {
                for named in policies.iter_mut() {
                    if let Some(origin) = self.policy_origin(&arn, &named.name) {
                        named.document.set_layer(origin);
                    }
                }
            }
            if let (Some(origin), Field::Some(named)) = (
                origin(Target::Boundary(arn.clone())),
                &mut principal.permissions_boundary,
            ) {
                named.document.set_layer(origin);
            }
            if let (Some(origin), Field::Some(doc)) = (
                origin(Target::TrustPolicy(arn)),
                &mut principal.trust_policy,
            ) {
                doc.set_layer(origin);
            }
        }
    }
}

/// The documents a link reads, as overlay targets. `actor` is the
/// principal whose identity documents the action is judged against.
fn targets_of(
    link: LinkId,
    action: &ActionResult,
    diagnosis: &Diagnosis,
) -> impl Fn(&Target) -> bool {
    let assume = action.action.eq_ignore_ascii_case("sts:AssumeRole");
    let actor = if assume {
        diagnosis.principal.clone()
    } else {
        diagnosis
            .via_role
            .clone()
            .unwrap_or_else(|| diagnosis.principal.clone())
    };
    let role = diagnosis.via_role.clone();
    let resource = action.resource.clone();
    let bucket = diagnosis.bucket.clone();
    move |target: &Target| match (link, target) {
        (LinkId::Scp, Target::Scps(_)) | (LinkId::Rcp, Target::Rcps(_)) => true,
        (LinkId::KeyPolicy, Target::KeyPolicy(arn) | Target::KeyGrants(arn))
        | (LinkId::KeyState, Target::KeyState(arn)) => *arn == resource,
        (LinkId::BucketEncryption, Target::BucketEncryption(name)) => *name == bucket,
        (LinkId::BucketEncryption, Target::KeyAliases(_)) => true,
        // The key itself is not known when the bucket's encryption is not:
        // the key links hang on the encryption's origin.
        (LinkId::KeyPolicy | LinkId::KeyState, Target::BucketEncryption(name)) => {
            !resource.starts_with("arn:") && *name == bucket
        }
        (LinkId::BucketPolicy, Target::BucketPolicy(name))
        | (LinkId::ObjectOwnership, Target::Ownership(name)) => *name == bucket,
        (LinkId::IdentityPolicy, Target::Policies(arn))
        | (LinkId::PermissionsBoundary, Target::Boundary(arn)) => same_principal(arn, &actor),
        (LinkId::TrustPolicy, Target::TrustPolicy(arn)) => role
            .as_deref()
            .is_some_and(|role| same_principal(arn, role)),
        _ => false,
    }
}

/// Whether two principal ARNs name the same identity; an assumed-role
/// session is its role (whose ARN may carry a path).
pub(super) fn same_principal(a: &str, b: &str) -> bool {
    fn identity(arn: &str) -> (String, String) {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let account = parts.get(4).copied().unwrap_or_default().to_string();
        let resource = parts.get(5).copied().unwrap_or_default();
        let name = if let Some(rest) = resource.strip_prefix("assumed-role/") {
            format!("role/{}", rest.split('/').next().unwrap_or_default())
        } else if let Some(rest) = resource.strip_prefix("role/") {
            format!("role/{}", rest.rsplit('/').next().unwrap_or_default())
        } else if let Some(rest) = resource.strip_prefix("user/") {
            format!("user/{}", rest.rsplit('/').next().unwrap_or_default())
        } else {
            resource.to_string()
        };
        (account, name)
    }
    a == b || identity(a) == identity(b)
}

/// Adds provenance to a judged diagnosis: a note with the order the
/// overlays were laid in, and for every link that read an overlaid
/// document, the layers it came from (which the reports name after the
/// reason, in the help when the document is unknown until apply, and in the
/// fix that must edit it). The judge's own text is left as it is.
pub fn annotate(diagnosis: &mut Diagnosis, provenance: &Provenance) {
    if provenance.is_empty() {
        return;
    }
    diagnosis.notes.push(format!(
        "judged as left by {}, laid in this order over what was read (a later one wins)",
        provenance.order.join(", then ")
    ));
    diagnosis.notes.extend(provenance.notes.iter().cloned());
    let mut change_origins: Vec<(usize, String)> = Vec::new();
    let snapshot = diagnosis.clone();
    for operation in &mut diagnosis.operations {
        for action in &mut operation.actions {
            let facts = action.clone();
            for link in &mut action.links {
                let wanted = targets_of(link.link, &facts, &snapshot);
                let found = provenance.find(&wanted);
                if found.is_empty() {
                    continue;
                }
                let origins: Vec<String> = found.iter().map(|(o, _)| o.to_string()).collect();
                let mut pending_apply: Vec<String> = found
                    .iter()
                    .filter_map(|(origin, pending)| {
                        pending.map(|address| format!("`{address}` (for {origin})"))
                    })
                    .collect();
                pending_apply.dedup();
                let joined = origins.join(", ");
                if let Some(fix) = &mut link.fix {
                    add_edit_layers(&mut fix.edit_layers, &joined);
                    if let Some(index) = link.change {
                        change_origins.push((index, joined));
                    }
                }
                link.layers = Some(Box::new(Layers {
                    origins,
                    pending_apply,
                }));
            }
        }
    }
    for (index, origins) in change_origins {
        if let Some(change) = diagnosis.changes.get_mut(index) {
            add_edit_layers(&mut change.edit_layers, &origins);
        }
    }
    super::terraform::attach(diagnosis, provenance);
}

/// Records that a change's document comes from `origins`, once.
fn add_edit_layers(edit_layers: &mut Vec<String>, origins: &str) {
    if !edit_layers.iter().any(|seen| seen == origins) {
        edit_layers.push(origins.to_string());
    }
}

/// The empty partial snapshot an overlay builder starts from.
pub fn empty_partial() -> Snapshot {
    let mut snapshot = Snapshot::new(None);
    snapshot.format = SNAPSHOT_FORMAT.to_string();
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Snapshot {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/walkthrough.json"
        ))
        .unwrap();
        Snapshot::parse("walkthrough.json", &text).unwrap()
    }

    const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn an_overlay_document_gets_the_principal_check() {
        // IAM User Guide, "AWS JSON policy elements: Principal": a
        // resource-based policy must name its principal; a layer laying a
        // bucket policy without one is refused as a snapshot file would be.
        let snapshot = base();
        let text = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}",
                "buckets":[{{"name":"account-a-bucket","policy":{{"Version":"2012-10-17",
                "Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}]}}}}]}}"#
        );
        let error = parse_file("o.json", &text, &snapshot).unwrap_err();
        assert_eq!(error.field, "/buckets/0/policy/Statement/0", "{error}");
    }

    #[test]
    fn an_access_point_given_by_an_overlay_is_laid_whole() {
        let mut snapshot = base();
        let point = |origin: &str| {
            format!(
                r#"{{"arn":"arn:aws:s3:eu-west-1:111111111111:accesspoint/ap","name":"ap",
                    "account":"111111111111","bucket":"account-a-bucket",
                    "bucket_account":"111111111111","network_origin":"{origin}","policy":null}}"#
            )
        };
        for origin in ["Internet", "VPC\",\"vpc_id\":\"vpc-1"] {
            let text = format!(
                r#"{{"format":"{SNAPSHOT_FORMAT}","access_points":[{}]}}"#,
                point(origin)
            );
            let overlay = parse_file("o.json", &text, &snapshot).unwrap();
            lay_all(&mut snapshot, &[overlay]);
        }
        assert_eq!(snapshot.access_points.len(), 1);
        assert_eq!(
            snapshot.access_points[0].network_origin.as_deref(),
            Some("VPC")
        );
        assert_eq!(snapshot.access_points[0].vpc_id.as_deref(), Some("vpc-1"));
    }

    #[test]
    fn a_field_left_out_keeps_what_was_read() {
        let mut snapshot = base();
        let text = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}","keys":[{{"arn":"{KEY}","state":"Disabled"}}]}}"#
        );
        let overlay = parse_file("o.json", &text, &snapshot).unwrap();
        lay_all(&mut snapshot, &[overlay]);
        let key = &snapshot.keys[0];
        assert_eq!(key.state, Field::Some("Disabled".to_string()));
        assert!(key.policy.known().is_some());
        assert_eq!(key.aliases, vec!["alias/s3-account-a-bucket".to_string()]);
    }

    #[test]
    fn null_replaces_and_an_error_alone_makes_unknown() {
        let mut snapshot = base();
        let text = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}",
                "buckets":[{{"name":"account-a-bucket","policy":null}}],
                "keys":[{{"arn":"{KEY}","policy_error":"unknown until apply"}}]}}"#
        );
        let overlay = parse_file("o.json", &text, &snapshot).unwrap();
        lay_all(&mut snapshot, &[overlay]);
        assert_eq!(snapshot.buckets[0].policy, Field::None);
        assert_eq!(snapshot.buckets[0].account, "111111111111");
        assert!(snapshot.keys[0].policy.is_unknown());
        assert_eq!(
            snapshot.keys[0].policy_error.as_deref(),
            Some("unknown until apply")
        );
    }

    #[test]
    fn a_later_overlay_wins() {
        let mut snapshot = base();
        let first = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}","keys":[{{"arn":"{KEY}","state":"Disabled"}}]}}"#
        );
        let second = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}","keys":[{{"arn":"{KEY}","state":"Enabled"}}]}}"#
        );
        let first = parse_file("first.json", &first, &snapshot).unwrap();
        let second = parse_file("second.json", &second, &snapshot).unwrap();
        let provenance = lay_all(&mut snapshot, &[first, second]);
        assert_eq!(snapshot.keys[0].state, Field::Some("Enabled".to_string()));
        assert_eq!(
            provenance.find(|t| *t == Target::KeyState(KEY.to_string())),
            vec![("overlay `second.json`", None)]
        );
    }

    #[test]
    fn an_overlay_is_validated_like_a_snapshot() {
        let snapshot = base();
        let bad = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}","keys":[{{"arn":"{KEY}","policy":{{"Statement":[{{"Effect":"Maybe"}}]}}}}]}}"#
        );
        let error = parse_file("bad.json", &bad, &snapshot).unwrap_err();
        assert!(error.to_string().contains("/keys/0/policy"), "{error}");
        let new_bucket =
            format!(r#"{{"format":"{SNAPSHOT_FORMAT}","buckets":[{{"name":"other"}}]}}"#);
        let error = parse_file("new.json", &new_bucket, &snapshot).unwrap_err();
        assert!(
            error.to_string().contains("must give its `account`"),
            "{error}"
        );
        assert!(parse_file("x.json", "{", &snapshot).is_err());
    }

    #[test]
    fn overlaid_documents_are_labelled_with_their_origin() {
        let mut snapshot = base();
        let text = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}","buckets":[{{"name":"account-a-bucket","policy":{{"Version":"2012-10-17","Statement":[]}}}}]}}"#
        );
        let overlay = parse_file("what-if.json", &text, &snapshot).unwrap();
        lay_all(&mut snapshot, &[overlay]);
        let label = snapshot.buckets[0].policy.known().unwrap().policy.label();
        assert_eq!(
            label,
            "bucket policy of `account-a-bucket` (from overlay `what-if.json`)"
        );
    }

    /// Provenance is added beside the judge's answer, never written into
    /// it: the reason stays the judge's, and the reports name the layer.
    #[test]
    fn annotating_adds_layers_and_leaves_the_judges_text() {
        use crate::chain::CheckRequest;
        use crate::diagnosis::Operation;
        let mut snapshot = base();
        let text = format!(
            r#"{{"format":"{SNAPSHOT_FORMAT}","keys":[{{"arn":"{KEY}","state":"Disabled"}}]}}"#
        );
        let overlay = parse_file("o.json", &text, &snapshot).unwrap();
        let provenance = lay_all(&mut snapshot, &[overlay]);
        let request = CheckRequest {
            access_point: None,
            bucket: "account-a-bucket".to_string(),
            object: Some("reports/data.csv".to_string()),
            principal: "arn:aws:iam::111111111111:user/ann".to_string(),
            via_role: None,
            external_id: None,
            operations: vec![Operation::Get],
            context: Vec::new(),
            via_service: None,
            unknown_context: Vec::new(),
            now: chrono::Utc::now(),
        };
        let judged = crate::pipeline::judge_and_fix(&snapshot, &request).unwrap();
        let mut annotated = judged.clone();
        annotate(&mut annotated, &provenance);
        let links = |diagnosis: &Diagnosis| -> Vec<crate::diagnosis::LinkResult> {
            diagnosis
                .operations
                .iter()
                .flat_map(|operation| &operation.actions)
                .flat_map(|action| action.links.clone())
                .collect()
        };
        let key_state = links(&annotated)
            .into_iter()
            .find(|link| link.link == LinkId::KeyState)
            .unwrap();
        let before = links(&judged)
            .into_iter()
            .find(|link| link.link == LinkId::KeyState)
            .unwrap();
        assert_eq!(key_state.reason, before.reason);
        assert_eq!(
            key_state.reason_text(),
            format!("{}; as set by overlay `o.json`", before.reason)
        );
    }

    #[test]
    fn sessions_are_their_role() {
        assert!(same_principal(
            "arn:aws:sts::111111111111:assumed-role/partner/s1",
            "arn:aws:iam::111111111111:role/team/partner"
        ));
        assert!(!same_principal(
            "arn:aws:iam::111111111111:user/ann",
            "arn:aws:iam::222222222222:user/ann"
        ));
    }
}
