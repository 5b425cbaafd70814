//! The `object-ownership` link: who owns the object being read, and whether
//! its ACL lets the caller read it when the bucket owner does not own it (S3
//! User Guide, "Controlling ownership of objects").

use crate::diagnosis::{Fix, LinkId, LinkResult, LinkStatus};
use crate::snapshot::Field;

use super::super::proposal;
use super::{ActionFacts, result};

fn owner_enforced(facts: &ActionFacts<'_, '_>) -> bool {
    facts
        .setup
        .bucket
        .ownership
        .known()
        .is_some_and(|ownership| ownership == "BucketOwnerEnforced")
}

/// Whether the object's owner matters to this read: always under
/// BucketOwnerEnforced (the link then says why it passes), otherwise only
/// for a real `--object` that has (or may have) an owner.
pub(super) fn applies(facts: &ActionFacts<'_, '_>) -> bool {
    if owner_enforced(facts) {
        return true;
    }
    // Without --object the object is hypothetical: nothing to say about
    // who owns it (the report's note says a placeholder was used).
    if facts.setup.request.object.is_none() {
        return false;
    }
    !facts
        .setup
        .object
        .is_some_and(|object| matches!(object.owner, Field::None))
}

/// Judges the link; `None` when [`applies`] says there is nothing to judge.
pub(super) fn link(facts: &ActionFacts<'_, '_>) -> Option<LinkResult> {
    let setup = facts.setup;
    let bucket = setup.bucket;
    let make = |status, reason: String, fix: Option<Fix>, help| {
        Some(LinkResult {
            fix: fix.map(Box::new),
            help,
            ..result(LinkId::ObjectOwnership, status, reason)
        })
    };
    if owner_enforced(facts) {
        return make(
            LinkStatus::Pass,
            "Object Ownership is BucketOwnerEnforced: the bucket owner owns every object and ACLs are off".to_string(),
            None,
            None,
        );
    }
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
    if !facts.actor.is_iam() {
        return outside_iam(facts, owner, &object.key, &object.acl);
    }
    let caller_account = &facts.actor.account;
    if owner == &bucket.account || owner == caller_account {
        return make(
            LinkStatus::Pass,
            format!("`{}` is owned by account {owner}", object.key),
            None,
            None,
        );
    }
    if !crate::policy::arn::is_account_id(owner) {
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
        Some(proposal::object_ownership(
            owner,
            &bucket.account,
            caller_account,
            &object.key,
        )),
        None,
    )
}

/// The owner of an object read by a caller of no account (a service
/// principal, an unsigned request, an origin access identity): the bucket
/// policy that lets it in does not cover an object another account owns
/// (S3 User Guide, "Controlling ownership of objects"; CloudFront Developer
/// Guide, "Restrict access to an Amazon S3 origin": OAC needs the bucket
/// owner to own the objects). Only an ACL grant to everyone (`AllUsers`)
/// reaches such a caller; whether `AuthenticatedUsers` includes a service
/// principal is not documented, so it is unknown.
fn outside_iam(
    facts: &ActionFacts<'_, '_>,
    owner: &str,
    key: &str,
    acl: &Field<Vec<crate::snapshot::AclGrant>>,
) -> Option<LinkResult> {
    let bucket = facts.setup.bucket;
    let who = facts.actor_arn();
    let make = |status, reason: String, fix: Option<Fix>| {
        Some(LinkResult {
            fix: fix.map(Box::new),
            ..result(LinkId::ObjectOwnership, status, reason)
        })
    };
    if owner == bucket.account {
        return make(
            LinkStatus::Pass,
            format!("`{key}` is owned by the bucket owner {owner}"),
            None,
        );
    }
    let grants = match acl {
        Field::Some(grants) => grants.as_slice(),
        Field::None => &[],
        Field::Unknown => {
            return make(
                LinkStatus::Unknown,
                format!(
                    "`{key}` is owned by {owner}, not the bucket owner, and its ACL could not be read"
                ),
                None,
            );
        }
    };
    let reads = |grant: &&crate::snapshot::AclGrant| {
        matches!(grant.permission.as_str(), "READ" | "FULL_CONTROL")
    };
    if grants
        .iter()
        .filter(reads)
        .any(|grant| grant.grantee.ends_with("/global/AllUsers"))
    {
        return make(
            LinkStatus::Pass,
            format!("`{key}` is owned by {owner} and its ACL grants everyone read access"),
            None,
        );
    }
    let anonymous = matches!(
        facts.actor.kind,
        crate::policy::arn::PrincipalKind::Anonymous
    );
    if !anonymous
        && grants
            .iter()
            .filter(reads)
            .any(|grant| grant.grantee.ends_with("/global/AuthenticatedUsers"))
    {
        return make(
            LinkStatus::Unknown,
            format!(
                "`{key}` is owned by {owner} and its ACL grants read access to AuthenticatedUsers, which may or may not include `{who}`"
            ),
            None,
        );
    }
    let fix = Fix {
        account: bucket.account.clone(),
        change: crate::diagnosis::FixChange::Other,
        document: LinkId::ObjectOwnership.as_str().to_string(),
        statement: None,
        note: Some(format!(
            "set Object Ownership of `{}` to BucketOwnerEnforced, which makes the bucket owner the owner of every object (the bucket policy then covers `{key}`), or have {owner} copy the object over itself with the bucket owner as owner",
            bucket.name
        )),
        ..Default::default()
    };
    make(
        LinkStatus::Fail,
        format!(
            "`{key}` is owned by {owner}, not the bucket owner {}, and its ACL grants `{who}` nothing; the bucket policy cannot grant access to it",
            bucket.account
        ),
        Some(fix),
    )
}
