//! The `block-public-access` link: S3's Block Public Access settings, which
//! stop a request that the policies and ACLs would let through (S3 User
//! Guide, "Blocking public access to your Amazon S3 storage"; S3 API
//! Reference, "PublicAccessBlockConfiguration").
//!
//! S3 applies the most restrictive combination of the bucket's settings and
//! the bucket owner's account settings, so a setting is on when either has
//! it on, off only when both are known to be off. Three settings gate a
//! request:
//! - `BlockPublicAcls`: a PUT that carries a public ACL fails;
//! - `IgnorePublicAcls`: ACL grants to AllUsers and AuthenticatedUsers are
//!   ignored, so a read that only such a grant allows fails;
//! - `RestrictPublicBuckets`: when the bucket policy is public, only AWS
//!   service principals and users of the bucket owner's account get in;
//!   every cross-account grant of that policy is blocked, a named partner's
//!   included.
//!
//! `BlockPublicPolicy` only refuses policy changes, never a request.
//!
//! The link appears only where one of these can decide the request; a
//! setting that was not read is unknown, never off.

use crate::diagnosis::{Evidence, EvidenceRole, Fix, FixChange, LinkId, LinkResult, LinkStatus};
use crate::policy::Tri;
use crate::policy::logic::{and, or};
use crate::snapshot::{Field, PublicAccessSetting, setting_of};

use super::{ActionFacts, result};

/// The ACL grantee groups that make a grant public (S3 User Guide, "Access
/// control list (ACL) overview", Amazon S3 predefined groups).
const PUBLIC_GROUPS: [&str; 2] = [
    "acs.amazonaws.com/groups/global/AllUsers",
    "acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/// Canned ACLs that grant one of the public groups (S3 User Guide, "Access
/// control list (ACL) overview", Canned ACL).
const PUBLIC_CANNED_ACLS: [&str; 3] = ["public-read", "public-read-write", "authenticated-read"];

/// One setting as S3 applies it to this request, and where it was found on
/// or could not be read.
struct Effective {
    on: Tri,
    /// `bucket `b``, `account 111111111111`.
    on_at: Vec<String>,
    unknown_at: Vec<String>,
}

fn effective(facts: &ActionFacts<'_, '_>, setting: PublicAccessSetting) -> Effective {
    let bucket = facts.setup.bucket;
    let account = facts.setup.snapshot.accounts.get(&bucket.account);
    let unread = Field::Unknown;
    let mut places = vec![
        (
            format!("bucket `{}`", bucket.name),
            &bucket.public_access_block,
        ),
        (
            format!("account {}", bucket.account),
            account.map_or(&unread, |info| &info.public_access_block),
        ),
    ];
    // A request through an access point meets the access point's settings
    // too (S3 User Guide, "Blocking public access to your Amazon S3
    // storage": the most restrictive combination of the access point,
    // bucket and account settings).
    if let Some(point) = facts.setup.access_point {
        places.push((
            format!("access point `{}`", point.name),
            &point.public_access_block,
        ));
    }
    let mut result = Effective {
        on: Tri::No,
        on_at: Vec::new(),
        unknown_at: Vec::new(),
    };
    for (place, config) in places {
        let value = setting_of(config, setting);
        match value {
            Tri::Yes => result.on_at.push(place),
            Tri::Unknown => result.unknown_at.push(place),
            Tri::No => {}
        }
        result.on = or(result.on, value);
    }
    result
}

/// One way a setting bears on the request.
struct Finding {
    blocks: Tri,
    reason: String,
    evidence: Vec<Evidence>,
    fix: Option<Fix>,
}

/// Judges the link; `None` when no setting can decide this request.
pub(super) fn link(facts: &ActionFacts<'_, '_>) -> Option<LinkResult> {
    let findings: Vec<Finding> = [
        public_acl_on_write(facts),
        public_acl_grant_read(facts),
        public_policy_across_accounts(facts),
    ]
    .into_iter()
    .flatten()
    .collect();
    if findings.is_empty() {
        return None;
    }
    let blocks = findings
        .iter()
        .fold(Tri::No, |blocks, finding| or(blocks, finding.blocks));
    let status = match blocks {
        Tri::Yes => LinkStatus::Fail,
        Tri::Unknown => LinkStatus::Unknown,
        Tri::No => LinkStatus::Pass,
    };
    // The findings that decide the status speak; the others stay out.
    let deciding: Vec<Finding> = findings
        .into_iter()
        .filter(|finding| finding.blocks == blocks)
        .collect();
    let reason = deciding
        .iter()
        .map(|finding| finding.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let evidence = deciding
        .iter()
        .flat_map(|finding| finding.evidence.iter().cloned())
        .collect();
    let fix = deciding.into_iter().find_map(|finding| finding.fix);
    let help = (status == LinkStatus::Unknown).then(|| {
        format!(
            "read the Block Public Access settings (s3:GetBucketPublicAccessBlock for the bucket, s3:GetAccountPublicAccessBlock for account {}), or add `public_access_block` to the snapshot's bucket and account",
            facts.setup.bucket.account
        )
    });
    Some(LinkResult {
        evidence,
        fix: (status == LinkStatus::Fail)
            .then_some(fix)
            .flatten()
            .map(Box::new),
        help,
        ..result(LinkId::BlockPublicAccess, status, reason)
    })
}

/// Says where a setting is on, or where it could not be read.
fn said(setting: PublicAccessSetting, effective: &Effective) -> String {
    let name = setting.aws_name();
    match effective.on {
        Tri::Yes => format!("{name} is on for {}", effective.on_at.join(" and ")),
        Tri::Unknown => format!(
            "whether {name} is on is not known ({} not read)",
            effective.unknown_at.join(" and ")
        ),
        Tri::No => format!("{name} is off for the bucket and its owner's account"),
    }
}

/// `BlockPublicAcls`: "PUT Object calls fail if the request includes a
/// public ACL", and so do PutObjectAcl calls (S3 API Reference,
/// "PublicAccessBlockConfiguration").
fn public_acl_on_write(facts: &ActionFacts<'_, '_>) -> Option<Finding> {
    if !matches!(facts.action, "s3:PutObject" | "s3:PutObjectAcl") {
        return None;
    }
    let setup = facts.setup;
    let canned = setup
        .context_value("s3:x-amz-acl")
        .filter(|acl| PUBLIC_CANNED_ACLS.contains(&acl.to_ascii_lowercase().as_str()));
    let granted = setup.request.context.iter().find(|(key, value)| {
        key.to_ascii_lowercase().starts_with("s3:x-amz-grant-")
            && PUBLIC_GROUPS.iter().any(|group| value.contains(group))
    });
    let what = match (canned, granted) {
        (Some(acl), _) => format!("the canned ACL `{acl}`"),
        (None, Some((key, _))) => format!("a grant to a public group in `{key}`"),
        (None, None) => return None,
    };
    let setting = PublicAccessSetting::BlockPublicAcls;
    let effective = effective(facts, setting);
    let reason = format!(
        "the request carries {what}, a public ACL; {}",
        said(setting, &effective)
    );
    let fix = Fix {
        account: facts.actor.account.clone(),
        change: FixChange::Other,
        document: LinkId::BlockPublicAccess.as_str().to_string(),
        note: Some(format!(
            "send the object without {what} (grant access through the bucket policy instead); turning BlockPublicAcls off for {} would let public ACLs onto every object there and widens a guard",
            effective.on_at.join(" and ")
        )),
        ..Fix::default()
    };
    Some(Finding {
        blocks: effective.on,
        reason,
        evidence: Vec::new(),
        fix: Some(fix),
    })
}

/// `IgnorePublicAcls`: "Amazon S3 ignores all public ACLs on this bucket
/// and objects in this bucket" (S3 API Reference,
/// "PublicAccessBlockConfiguration"). Bites where a read rests on the
/// object's ACL: an object another account owns, whose ACL grants the
/// caller's account nothing itself but grants a public group.
fn public_acl_grant_read(facts: &ActionFacts<'_, '_>) -> Option<Finding> {
    if facts.action != "s3:GetObject" {
        return None;
    }
    let setup = facts.setup;
    let bucket = setup.bucket;
    setup.request.object.as_ref()?;
    if bucket.ownership.known().map(String::as_str) == Some("BucketOwnerEnforced") {
        return None;
    }
    let object = setup.object?;
    let owner = object.owner.known()?;
    let caller_account = &facts.actor.account;
    if owner == &bucket.account || owner == caller_account {
        return None;
    }
    let grants = object.acl.known()?;
    let reads = |permission: &str| matches!(permission, "READ" | "FULL_CONTROL");
    let direct = grants
        .iter()
        .any(|grant| &grant.grantee == caller_account && reads(&grant.permission));
    let public = grants.iter().find(|grant| {
        reads(&grant.permission)
            && PUBLIC_GROUPS.iter().any(|group| {
                grant
                    .grantee
                    .ends_with(group.trim_start_matches("acs.amazonaws.com"))
            })
    });
    let public = match (direct, public) {
        (false, Some(grant)) => grant,
        _ => return None,
    };
    let setting = PublicAccessSetting::IgnorePublicAcls;
    let effective = effective(facts, setting);
    let reason = format!(
        "`{}` is owned by account {owner} and only its public ACL grant (`{}` {}) lets account {caller_account} read it; {}",
        object.key,
        public.grantee,
        public.permission,
        said(setting, &effective)
    );
    let fix = Fix {
        account: owner.clone(),
        change: FixChange::Other,
        document: LinkId::BlockPublicAccess.as_str().to_string(),
        note: Some(format!(
            "account {owner} grants account {caller_account} READ on `{}` in the object's ACL (a grant to one account is not public), or the bucket owner {} sets Object Ownership to BucketOwnerEnforced; turning IgnorePublicAcls off would make every public ACL there count again and widens a guard",
            object.key, bucket.account
        )),
        ..Fix::default()
    };
    Some(Finding {
        blocks: effective.on,
        reason,
        evidence: Vec::new(),
        fix: Some(fix),
    })
}

/// `RestrictPublicBuckets`: with a public bucket policy, "public and
/// cross-account access within any public bucket policy, including
/// non-public delegation to specific accounts, is blocked" (S3 API
/// Reference, "PublicAccessBlockConfiguration"): only AWS service
/// principals and users of the bucket owner's account get in.
fn public_policy_across_accounts(facts: &ActionFacts<'_, '_>) -> Option<Finding> {
    if matches!(
        facts.actor.kind,
        crate::policy::arn::PrincipalKind::Service { .. }
    ) {
        return None;
    }
    let point = facts.setup.access_point;
    // Users of the access point owner's account are let in as the bucket
    // owner's are.
    let caller = &facts.actor.account;
    if !facts.cross_account() || point.is_some_and(|point| &point.account == caller) {
        return None;
    }
    let bucket = facts.setup.bucket;
    // A policy not read leaves its own link unknown already.
    let (doc, what) = match point.and_then(|point| point.policy.known()) {
        Some(point_doc) if point_doc.policy.publicness().public != Tri::No => {
            (point_doc, "access point policy")
        }
        _ => (bucket.policy.known()?, "bucket policy"),
    };
    let public = doc.policy.publicness();
    if public.public == Tri::No {
        return None;
    }
    let setting = PublicAccessSetting::RestrictPublicBuckets;
    let effective = effective(facts, setting);
    let blocks = and(public.public, effective.on);
    let evidence = public
        .statements
        .iter()
        .map(|statement| {
            let line = doc
                .policy
                .statements()
                .iter()
                .find(|candidate| candidate.index() == statement.index)
                .and_then(|candidate| candidate.line());
            Evidence {
                document: doc.policy.label().to_string(),
                doc: doc.shared_id(),
                statement: Some(statement.index),
                sid: statement.sid.clone(),
                line,
                role: match statement.public {
                    Tri::Yes => EvidenceRole::Context,
                    _ => EvidenceRole::MayApply,
                },
                file_position: None,
                note: Some(statement.why.clone()),
            }
        })
        .collect();
    let policy_is = match public.public {
        Tri::Yes => format!("the {what} is public"),
        _ => format!("whether the {what} is public is not settled by AWS's documented list"),
    };
    let named: Vec<String> = public
        .statements
        .iter()
        .filter(|statement| statement.public == Tri::Yes)
        .map(|statement| match &statement.sid {
            Some(sid) => format!("`{sid}`"),
            None => format!("{}", statement.index),
        })
        .collect();
    let reason = match blocks {
        Tri::No => format!(
            "{policy_is}, and {}: its cross-account grants apply",
            said(setting, &effective)
        ),
        Tri::Yes => format!(
            "{policy_is} and {}: S3 lets only AWS service principals and users of account {} in, so `{}` of account {} is refused whatever the policies grant",
            said(setting, &effective),
            bucket.account,
            facts.actor_arn(),
            facts.actor.account
        ),
        Tri::Unknown => format!(
            "{policy_is} and {}: if the policy is public and the setting on, S3 lets only AWS service principals and users of account {} in, and `{}` of account {} is refused whatever the policies grant",
            said(setting, &effective),
            bucket.account,
            facts.actor_arn(),
            facts.actor.account
        ),
    };
    let (owner, document) = match point {
        Some(point) if what == "access point policy" => {
            (point.account.clone(), LinkId::AccessPointPolicy)
        }
        _ => (bucket.account.clone(), LinkId::BucketPolicy),
    };
    let fix = Fix {
        account: owner,
        change: FixChange::Other,
        document: document.as_str().to_string(),
        note: Some(format!(
            "make the {what} non-public: in statement {} name the accounts or principals that need access instead of `*`, or limit it with a fixed aws:SourceVpce, aws:SourceVpc, aws:SourceIp, aws:SourceArn or aws:SourceAccount condition; once no statement is public, RestrictPublicBuckets no longer applies and the grant to account {} takes effect. Turning RestrictPublicBuckets off instead would open the public statements to everyone and widens a guard",
            if named.is_empty() {
                "the statements cited".to_string()
            } else {
                named.join(", ")
            },
            facts.actor.account
        )),
        ..Fix::default()
    };
    Some(Finding {
        blocks,
        reason,
        evidence,
        fix: Some(fix),
    })
}
