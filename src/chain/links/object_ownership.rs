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
