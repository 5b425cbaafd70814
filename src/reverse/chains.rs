//! Role chains for `who-can --assume-depth N`: principals that reach the
//! bucket by assuming a role that can, listed as "via ROLE" rows. One hop
//! is judged exactly as `check --principal P --via-role ROLE` judges it
//! (the caller's `sts:AssumeRole` against its own policies and the role's
//! trust policy, then the role's session against the chain); a longer chain
//! adds, hop by hop, the `sts:AssumeRole` verdict of the principal on the
//! first role of a chain already found.

use std::collections::{BTreeMap, BTreeSet};

use crate::chain::{self, CheckRequest, JudgeError, Verdicts};
use crate::diagnosis::{LinkId, LinkStatus, Verdict};
use crate::snapshot::{PrincipalInfo, Snapshot};

use super::rows::RowKind;
use super::who_can::{Row, WhoCanRequest, check_request};

/// A principal that reaches the bucket through roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViaRow {
    /// The row as who-can prints it: the principal, its verdicts and
    /// links over the whole chain, and a note naming the roles.
    pub row: Row,
    /// The roles assumed, first to last.
    pub via: Vec<String>,
}

/// Every chain of at most `depth` roles that ends at a role row of `rows`
/// whose verdict is not denied for every operation, and whose whole chain
/// is not denied for every operation either. Service principals and
/// unsigned callers assume no role with their own credentials, so they
/// start no chain.
pub fn via_rows(
    snapshot: &Snapshot,
    request: &WhoCanRequest,
    rows: &[Row],
    depth: usize,
) -> Result<Vec<ViaRow>, JudgeError> {
    if depth == 0 {
        return Ok(Vec::new());
    }
    let callers: Vec<&Row> = rows
        .iter()
        .filter(|row| !matches!(row.kind, RowKind::Service | RowKind::Anyone))
        .collect();
    let infos: BTreeMap<&str, &PrincipalInfo> = snapshot
        .principals
        .iter()
        .map(|info| (info.arn.as_str(), info))
        .collect();
    let reaches = |row: &Row| {
        row.verdicts
            .iter()
            .any(|(_, verdict)| *verdict != Verdict::Denied)
    };

    // One hop: judged whole, as check --via-role judges it.
    let mut found: Vec<ViaRow> = Vec::new();
    for role in rows
        .iter()
        .filter(|row| row.kind == RowKind::Role && reaches(row))
    {
        for caller in &callers {
            if caller.principal == role.principal
                || !may_be_trusted(
                    infos.get(role.principal.as_str()).copied(),
                    caller,
                    infos.get(caller.principal.as_str()).copied(),
                )
            {
                continue;
            }
            let mut asked = check_request(request, &caller.principal);
            asked.via_role = Some(role.principal.clone());
            let judged = chain::verdicts(snapshot, &asked)?;
            let row = row_of(caller, &judged, std::slice::from_ref(&role.principal));
            if reaches(&row) {
                found.push(ViaRow {
                    row,
                    via: vec![role.principal.clone()],
                });
            }
        }
    }

    // Longer chains: a caller that may assume the principal of a chain
    // already found, when that principal is a role.
    let mut frontier: Vec<ViaRow> = found.clone();
    let mut seen: BTreeSet<(String, Vec<String>)> = found
        .iter()
        .map(|via| (via.row.principal.clone(), via.via.clone()))
        .collect();
    for _ in 1..depth {
        let mut next = Vec::new();
        for chain_found in &frontier {
            let first = &chain_found.row;
            if first.kind != RowKind::Role {
                continue;
            }
            for caller in &callers {
                if caller.principal == first.principal
                    || chain_found.via.contains(&caller.principal)
                    || !may_be_trusted(
                        infos.get(first.principal.as_str()).copied(),
                        caller,
                        infos.get(caller.principal.as_str()).copied(),
                    )
                {
                    continue;
                }
                let mut via = vec![first.principal.clone()];
                via.extend(chain_found.via.iter().cloned());
                if !seen.insert((caller.principal.clone(), via.clone())) {
                    continue;
                }
                let assume =
                    assume_verdict(snapshot, request, &caller.principal, &first.principal)?;
                let row = combined(caller, assume, first, &via);
                if reaches(&row) {
                    next.push(ViaRow { row, via });
                }
            }
        }
        if next.is_empty() {
            break;
        }
        found.extend(next.iter().cloned());
        frontier = next;
    }
    Ok(found)
}

/// Whether `role`'s trust policy can name `caller` at all: it names the
/// caller's ARN or unique id, its account (the root ARN or the bare
/// account id), or a wildcard (`"*"`, whose conditions the judge reads).
/// A trust policy not read may name anyone, and so may any policy for a
/// session caller (named through its role). Only a sieve, so that a large
/// organization is not judged principal by role: whoever passes it is
/// judged in full.
fn may_be_trusted(
    role: Option<&PrincipalInfo>,
    caller: &Row,
    caller_info: Option<&PrincipalInfo>,
) -> bool {
    let Some(document) = role.and_then(|info| info.trust_policy.known()) else {
        return true;
    };
    if caller.kind == RowKind::Session {
        return true;
    }
    let text = document.raw().trim_start();
    // The sieve reads the document's text: one kept URL-encoded (as IAM
    // returns it) or with JSON escapes may spell a name in other
    // characters, so only a plain JSON object is sieved.
    if !text.starts_with('{') || text.contains('\\') || text.contains('%') {
        return true;
    }
    let account = caller.principal.split(':').nth(4).unwrap_or_default();
    let names_account = !account.is_empty()
        && (text.contains(&format!("\"{account}\"")) || text.contains(&format!("{account}:root")));
    let names_id = caller_info
        .and_then(|info| info.id.as_deref())
        .is_some_and(|id| text.contains(id));
    text.contains('*') || names_account || names_id || text.contains(caller.principal.as_str())
}

fn note(via: &[String]) -> String {
    format!("via {}", via.join(" then "))
}

fn row_of(caller: &Row, judged: &Verdicts, via: &[String]) -> Row {
    Row {
        principal: caller.principal.clone(),
        account: caller.account.clone(),
        kind: caller.kind,
        verdicts: judged
            .operations
            .iter()
            .map(|operation| (operation.operation, operation.verdict))
            .collect(),
        links: judged
            .operations
            .iter()
            .map(|operation| (operation.operation, operation.first_broken))
            .collect(),
        note: Some(note(via)),
        via: via.to_vec(),
    }
}

/// The verdict of `caller` calling `sts:AssumeRole` on `role`, and the
/// link that decided it: the worst over the operations' AssumeRole
/// actions, as `check --principal caller --via-role role` judges them.
fn assume_verdict(
    snapshot: &Snapshot,
    request: &WhoCanRequest,
    caller: &str,
    role: &str,
) -> Result<(Verdict, Option<LinkId>), JudgeError> {
    let mut asked: CheckRequest = check_request(request, caller);
    asked.via_role = Some(role.to_string());
    let judged = chain::verdicts(snapshot, &asked)?;
    let mut worst = (Verdict::Allowed, None);
    for action in judged
        .operations
        .iter()
        .flat_map(|operation| &operation.actions)
        .filter(|action| action.action.eq_ignore_ascii_case("sts:AssumeRole"))
    {
        if action.verdict > worst.0 {
            let wanted = match action.verdict {
                Verdict::Denied => LinkStatus::Fail,
                _ => LinkStatus::Unknown,
            };
            let link = action
                .links
                .iter()
                .find(|(_, status)| *status == wanted)
                .map(|(link, _)| *link);
            worst = (action.verdict, link);
        }
    }
    Ok(worst)
}

/// `caller` assuming the first role of `rest`'s chain: per operation the
/// worse of the hop and the rest, the hop's link first on a tie (the
/// request meets it first).
fn combined(caller: &Row, assume: (Verdict, Option<LinkId>), rest: &Row, via: &[String]) -> Row {
    let (hop, hop_link) = assume;
    let mut verdicts = Vec::new();
    let mut links = Vec::new();
    for ((operation, verdict), (_, link)) in rest.verdicts.iter().zip(&rest.links) {
        let (verdict, link): (Verdict, Option<LinkId>) =
            if hop >= *verdict && hop != Verdict::Allowed {
                (hop, hop_link)
            } else {
                (*verdict, *link)
            };
        verdicts.push((*operation, verdict));
        links.push((*operation, link));
    }
    Row {
        principal: caller.principal.clone(),
        account: caller.account.clone(),
        kind: caller.kind,
        verdicts,
        links,
        note: Some(note(via)),
        via: via.to_vec(),
    }
}
