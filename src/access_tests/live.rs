//! Live gathering for an access-test file: one gathering per bucket named in
//! the file, covering every principal, `via_role` role, object and
//! request-header key of that bucket's expectations, so the number of AWS
//! requests grows with the principals and objects, not with the number of
//! expectations. The snapshots of several buckets are merged into one.

use crate::live::{Also, GatherError, GatherRequest, gather_also};
use crate::snapshot::Snapshot;

use super::TestFile;

/// What was read for a whole file.
#[derive(Debug, Clone)]
pub struct GatheredFile {
    pub snapshot: Snapshot,
    /// The caller's ARN when some test names no principal.
    pub caller: Option<String>,
}

/// Reads what every expectation of `file` needs. `base` carries the AWS
/// settings (profiles, region, endpoint, timeout, progress); its bucket,
/// object, principal and role are replaced per bucket.
pub fn gather(file: &TestFile, base: &GatherRequest) -> Result<GatheredFile, GatherError> {
    let mut buckets: Vec<&str> = Vec::new();
    for test in &file.tests {
        if !buckets.contains(&test.bucket.as_str()) {
            buckets.push(&test.bucket);
        }
    }
    let mut merged: Option<Snapshot> = None;
    let mut caller = None;
    for bucket in buckets {
        let tests: Vec<_> = file
            .tests
            .iter()
            .filter(|test| test.bucket == bucket)
            .collect();
        let mut also = Also::default();
        let mut extra_key_ids: Vec<String> = Vec::new();
        let mut needs_caller = false;
        for test in &tests {
            match &test.principal {
                Some(principal) => push_once(&mut also.principals, principal),
                None => needs_caller = true,
            }
            if let Some(role) = &test.via_role {
                push_once(&mut also.via_roles, role);
            }
            if let Some(object) = &test.object {
                push_once(&mut also.objects, object);
            }
            for (key, value) in &test.context {
                if key.eq_ignore_ascii_case("s3:x-amz-server-side-encryption-aws-kms-key-id") {
                    push_once(&mut extra_key_ids, value);
                }
            }
        }
        let mut request = base.clone();
        request.bucket = bucket.to_string();
        request.object = None;
        request.via_role = None;
        request.extra_key_ids = extra_key_ids;
        // The gathering's own principal: the caller when a test needs it,
        // else the first named one (read once, with the others).
        request.principal = if needs_caller {
            None
        } else {
            also.principals.first().cloned()
        };
        let gathered = gather_also(&request, &also)?;
        if needs_caller {
            caller = Some(gathered.principal.clone());
        }
        merged = Some(match merged {
            None => gathered.snapshot,
            Some(mut snapshot) => {
                merge(&mut snapshot, gathered.snapshot);
                snapshot
            }
        });
    }
    let mut snapshot = merged.unwrap_or_else(|| Snapshot::new(None));
    snapshot.caller = caller.clone();
    Ok(GatheredFile { snapshot, caller })
}

fn push_once(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|known| known == value) {
        list.push(value.to_string());
    }
}

/// Adds what `other` read and `into` lacks (the first read of a key,
/// principal or account is kept; both were read in the same minute).
fn merge(into: &mut Snapshot, other: Snapshot) {
    for (account, info) in other.accounts {
        into.accounts.entry(account).or_insert(info);
    }
    for bucket in other.buckets {
        if !into.buckets.iter().any(|known| known.name == bucket.name) {
            into.buckets.push(bucket);
        }
    }
    for key in other.keys {
        if !into.keys.iter().any(|known| known.arn == key.arn) {
            into.keys.push(key);
        }
    }
    for principal in other.principals {
        if !into
            .principals
            .iter()
            .any(|known| known.arn == principal.arn)
        {
            into.principals.push(principal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::PrincipalInfo;

    #[test]
    fn merging_keeps_the_first_read_and_adds_the_rest() {
        let mut first = Snapshot::new(None);
        first
            .principals
            .push(PrincipalInfo::unread("arn:aws:iam::111111111111:user/ann"));
        let mut second = Snapshot::new(None);
        let mut ann = PrincipalInfo::unread("arn:aws:iam::111111111111:user/ann");
        ann.policies_error = Some("read again".to_string());
        second.principals.push(ann);
        second.principals.push(PrincipalInfo::unread(
            "arn:aws:iam::222222222222:user/dilip",
        ));
        merge(&mut first, second);
        assert_eq!(first.principals.len(), 2);
        assert_ne!(
            first.principals[0].policies_error.as_deref(),
            Some("read again")
        );
    }
}
