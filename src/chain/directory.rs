//! Directory buckets (S3 Express One Zone): the actions an operation needs
//! there. Object operations on the zonal endpoint are authorized once per
//! session by `s3express:CreateSession` on the bucket, with
//! `s3express:SessionMode` saying whether the session may write (S3 User
//! Guide, "Authorizing Zonal endpoint API operations with CreateSession";
//! S3 API Reference, "CreateSession"). The bucket is the only resource a
//! directory bucket's policies can name (S3 User Guide, "AWS Identity and
//! Access Management (IAM) for S3 Express One Zone").

use crate::diagnosis::Operation;

use super::{PlannedAction, Setup, Target, read_key, write_key};

pub(crate) const CREATE_SESSION: &str = "s3express:CreateSession";

/// `s3express:SessionMode` of a session: a `ReadOnly` session serves
/// GetObject, HeadObject and ListObjectsV2; anything that writes needs
/// `ReadWrite` (S3 API Reference, "CreateSession", `SessionMode`). A read is
/// judged for the `ReadOnly` session it needs (the SDKs fall back to it when
/// `ReadWrite` is refused); `--context s3express:SessionMode=ReadWrite`
/// judges the other.
pub(crate) fn session_mode(write: bool) -> &'static str {
    match write {
        true => "ReadWrite",
        false => "ReadOnly",
    }
}

pub(super) fn plan(setup: &Setup<'_>, operation: Operation) -> Vec<PlannedAction> {
    let session = |write| PlannedAction {
        action: CREATE_SESSION,
        target: Target::Session { write },
    };
    let kms = |action: &'static str, key| PlannedAction {
        action,
        target: Target::Key(key),
    };
    let mut actions = Vec::new();
    match operation {
        Operation::List | Operation::Head => actions.push(session(false)),
        Operation::Get => {
            actions.push(session(false));
            actions.extend(read_key(setup).map(|key| kms("kms:Decrypt", key)));
        }
        Operation::Put | Operation::Multipart => {
            actions.push(session(true));
            if let Some(key) = write_key(setup) {
                actions.push(kms("kms:GenerateDataKey", key.clone()));
                if operation == Operation::Multipart {
                    actions.push(kms("kms:Decrypt", key));
                }
            }
        }
        // Refused before planning: directory buckets have no replication.
        Operation::Replicate => {}
        Operation::Copy => {
            actions.push(session(true));
            actions.extend(read_key(setup).map(|key| kms("kms:Decrypt", key)));
            actions.extend(write_key(setup).map(|key| kms("kms:GenerateDataKey", key)));
        }
    }
    actions
}
