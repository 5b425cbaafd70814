//! Principals from what AWS already writes: the answer of IAM's
//! GetAccountAuthorizationDetails (`aws iam get-account-authorization-details`)
//! turned into the principal entries of one account. The file import
//! (`snapshot --gaad FILE --account ID`) and live mode's `--all-principals`
//! both fill [`AuthorizationDetails`] and map it here, so the two can never
//! disagree about what a principal holds.
//!
//! The shapes are those of the IAM API Reference ("GetAccountAuthorizationDetails",
//! "UserDetail", "GroupDetail", "RoleDetail", "ManagedPolicyDetail",
//! "PolicyVersion", "PolicyDetail", "AttachedPolicy",
//! "AttachedPermissionsBoundary"). Fields AWS adds that the judge does not
//! read (dates, `RoleLastUsed`, `InstanceProfileList`, attachment counts) are
//! ignored.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use super::{Field, NamedPolicy, PolicyDoc, PolicyKind, PrincipalInfo, Snapshot};
use crate::policy::arn::Arn;
use crate::policy::positions::JsonPositions;

/// One GetAccountAuthorizationDetails answer (all its pages together). A
/// list that is missing was not in the answer: what it would have named is
/// unknown, never taken for empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthorizationDetails {
    #[serde(default)]
    pub user_detail_list: Option<Vec<UserDetail>>,
    #[serde(default)]
    pub group_detail_list: Option<Vec<GroupDetail>>,
    #[serde(default)]
    pub role_detail_list: Option<Vec<RoleDetail>>,
    #[serde(default)]
    pub policies: Option<Vec<ManagedPolicyDetail>>,
    /// True on a page that is not the last (the API's own pagination).
    #[serde(default)]
    pub is_truncated: Option<bool>,
    /// The AWS CLI's pagination token (`--max-items`): more pages follow.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// An IAM user (`UserDetail`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDetail {
    pub arn: String,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_policy_list: Vec<PolicyDetail>,
    /// Names of the groups the user is in.
    #[serde(default)]
    pub group_list: Vec<String>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub permissions_boundary: Option<AttachedBoundary>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// An IAM group (`GroupDetail`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDetail {
    pub group_name: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub group_policy_list: Vec<PolicyDetail>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

/// An IAM role (`RoleDetail`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleDetail {
    pub arn: String,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub role_id: Option<String>,
    /// URL-encoded text as the API returns it, or an object as the AWS CLI
    /// prints it.
    #[serde(default)]
    pub assume_role_policy_document: Option<Value>,
    #[serde(default)]
    pub role_policy_list: Vec<PolicyDetail>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub permissions_boundary: Option<AttachedBoundary>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A managed policy with its versions (`ManagedPolicyDetail`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicyDetail {
    pub arn: String,
    #[serde(default)]
    pub policy_name: Option<String>,
    #[serde(default)]
    pub default_version_id: Option<String>,
    #[serde(default)]
    pub policy_version_list: Vec<PolicyVersion>,
}

/// One version of a managed policy (`PolicyVersion`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    #[serde(default)]
    pub document: Option<Value>,
    #[serde(default)]
    pub version_id: Option<String>,
    #[serde(default)]
    pub is_default_version: Option<bool>,
}

/// An inline policy (`PolicyDetail`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDetail {
    pub policy_name: String,
    #[serde(default)]
    pub policy_document: Option<Value>,
}

/// A managed policy attached to a user, group or role (`AttachedPolicy`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    pub policy_arn: String,
    #[serde(default)]
    pub policy_name: Option<String>,
}

/// A permissions boundary (`AttachedPermissionsBoundary`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedBoundary {
    pub permissions_boundary_arn: String,
}

/// A user's or role's tag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Something in an answer that cannot be taken as AWS wrote it: where (a
/// JSON pointer into the answer) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

/// The principals of one account, and every document among them that did
/// not parse (each leaves its field unknown in the entry it belongs to).
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub principals: Vec<PrincipalInfo>,
    pub problems: Vec<Problem>,
}

/// Why a GAAD file was refused: one line naming the file, the place in it
/// (JSON pointer, line and column where known) and the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct GaadError {
    pub source_name: String,
    pub pointer: String,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl GaadError {
    fn render(&self) -> String {
        let mut out = format!("gaad `{}`", self.source_name);
        if !self.pointer.is_empty() {
            out.push_str(&format!(": {}", self.pointer));
        }
        out.push_str(&format!(": {}", self.message));
        if let (Some(line), Some(column)) = (self.line, self.column) {
            out.push_str(&format!(" (line {line}, column {column})"));
        }
        out
    }
}

/// Reads a GAAD file as the principals of `account`. Everything AWS would
/// not have written is refused: a file that is not GAAD output, one page of
/// several, a document that does not parse, an ARN of another account.
pub fn parse_file(
    source_name: &str,
    text: &str,
    account: &str,
) -> Result<Vec<PrincipalInfo>, GaadError> {
    let fail = |pointer: String, message: String, at: Option<(usize, usize)>| GaadError {
        source_name: source_name.to_string(),
        pointer,
        message,
        line: at.map(|(line, _)| line),
        column: at.map(|(_, column)| column),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    crate::policy::strict_json::check(text).map_err(|error| {
        fail(
            String::new(),
            format!("not valid JSON: {error}"),
            Some((error.line(), error.column())),
        )
    })?;
    let details: AuthorizationDetails = serde_json::from_str(text).map_err(|error| {
        fail(
            String::new(),
            format!("not the output of get-account-authorization-details: {error}"),
            Some((error.line(), error.column())),
        )
    })?;
    if details.user_detail_list.is_none()
        && details.group_detail_list.is_none()
        && details.role_detail_list.is_none()
        && details.policies.is_none()
    {
        return Err(fail(
            String::new(),
            "not the output of get-account-authorization-details: it has none of UserDetailList, GroupDetailList, RoleDetailList and Policies".to_string(),
            None,
        ));
    }
    // A page alone would make every principal on the other pages look
    // absent, and every policy attached from them unknown.
    if details.is_truncated == Some(true) || details.next_token.is_some() {
        return Err(fail(
            String::new(),
            "this is one page of several (IsTruncated or NextToken): run `aws iam get-account-authorization-details` without --max-items so that it writes every page".to_string(),
            None,
        ));
    }
    let positions = JsonPositions::new(text);
    let locate = |pointer: &str| {
        positions
            .as_ref()
            .and_then(|positions| positions.locate(pointer))
            .map(|at| (at.line, at.column))
    };
    let imported = principals_of(&details, account).map_err(|problem| {
        fail(
            problem.pointer.clone(),
            problem.message,
            locate(&problem.pointer),
        )
    })?;
    if let Some(problem) = imported.problems.into_iter().next() {
        let at = locate(&problem.pointer);
        return Err(fail(problem.pointer, problem.message, at));
    }
    Ok(imported.principals)
}

/// Lays the principals of `account` over `snapshot`: every entry of that
/// account is replaced (an account root's stays: GAAD does not describe
/// the root user), entries of other accounts are kept.
pub fn lay_over(snapshot: &mut Snapshot, account: &str, principals: Vec<PrincipalInfo>) {
    snapshot.principals.retain(|entry| {
        match Arn::parse(&entry.arn) {
            Ok(arn) => arn.account != account || arn.resource == "root",
            // Validated on load; an entry that is not an ARN is kept as it was.
            Err(_) => true,
        }
    });
    snapshot.principals.extend(principals);
    snapshot.identify_documents();
}

/// A managed policy's default version, parsed once however many principals
/// it is attached to; `Err` says why it is unknown.
type ManagedDoc = Result<PolicyDoc, String>;

/// Maps an answer to the principal entries of `account`. `Err` when the
/// answer is of another account or names a principal twice; a document
/// that does not parse is a [`Problem`] and leaves its field unknown.
pub fn principals_of(details: &AuthorizationDetails, account: &str) -> Result<Imported, Problem> {
    let mut problems = Vec::new();
    let managed = managed_docs(details, account, &mut problems)?;
    let groups: Option<HashMap<&str, (usize, &GroupDetail)>> =
        details.group_detail_list.as_ref().map(|groups| {
            groups
                .iter()
                .enumerate()
                .map(|(index, group)| (group.group_name.as_str(), (index, group)))
                .collect()
        });
    if let Some(list) = &details.group_detail_list {
        for (index, group) in list.iter().enumerate() {
            if let Some(arn) = &group.arn {
                same_account(arn, account, &format!("/GroupDetailList/{index}/Arn"))?;
            }
        }
    }
    let mut principals: Vec<PrincipalInfo> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut admit = |arn: &str, pointer: String| -> Result<(), Problem> {
        same_account(arn, account, &pointer)?;
        if let Some(first) = seen.insert(arn.to_string(), pointer.clone()) {
            return Err(Problem {
                pointer,
                message: format!("`{arn}` is listed twice (first at {first})"),
            });
        }
        Ok(())
    };
    for (index, user) in details.user_detail_list.iter().flatten().enumerate() {
        let at = format!("/UserDetailList/{index}");
        admit(&user.arn, format!("{at}/Arn"))?;
        let mut info = PrincipalInfo::unread(&user.arn);
        info.id = user.user_id.clone();
        info.tags = Field::Some(tag_map(&user.tags));
        // Users have neither trust policies nor session policies.
        info.trust_policy = Field::None;
        info.session_policies = Field::None;
        (info.permissions_boundary, info.permissions_boundary_error) =
            boundary(user.permissions_boundary.as_ref(), &managed);
        let mut policies = Policies::default();
        policies.inline(
            &user.user_policy_list,
            &format!("{at}/UserPolicyList"),
            &user.arn,
            None,
            &mut problems,
        );
        policies.attached(&user.attached_managed_policies, &managed, None);
        for group_name in &user.group_list {
            let Some(groups) = &groups else {
                policies.unknown(format!(
                    "the user is in group `{group_name}`, and the file has no GroupDetailList (run get-account-authorization-details without --filter, or with Group in it)"
                ));
                continue;
            };
            let Some((group_index, group)) = groups.get(group_name.as_str()) else {
                policies.unknown(format!(
                    "the user is in group `{group_name}`, which GroupDetailList does not hold"
                ));
                continue;
            };
            policies.inline(
                &group.group_policy_list,
                &format!("/GroupDetailList/{group_index}/GroupPolicyList"),
                &user.arn,
                Some(group_name),
                &mut problems,
            );
            policies.attached(&group.attached_managed_policies, &managed, Some(group_name));
        }
        (info.policies, info.policies_error) = policies.finish();
        principals.push(info);
    }
    for (index, role) in details.role_detail_list.iter().flatten().enumerate() {
        let at = format!("/RoleDetailList/{index}");
        admit(&role.arn, format!("{at}/Arn"))?;
        let mut info = PrincipalInfo::unread(&role.arn);
        info.id = role.role_id.clone();
        info.tags = Field::Some(tag_map(&role.tags));
        // GAAD cannot know the session policies a caller passes to
        // AssumeRole: a role's entry stands for a session without one.
        info.session_policies = Field::None;
        match &role.assume_role_policy_document {
            Some(document) => {
                let label = format!("trust policy of `{}`", role.arn);
                match PolicyDoc::from_value(&label, document) {
                    Ok(doc) => info.trust_policy = Field::Some(doc),
                    Err(error) => {
                        info.trust_policy_error =
                            Some(format!("{label} does not parse: {}", error.message));
                        problems.push(document_problem(
                            &format!("{at}/AssumeRolePolicyDocument"),
                            document,
                            &error,
                        ));
                    }
                }
            }
            None => {
                info.trust_policy_error =
                    Some("the role's entry has no AssumeRolePolicyDocument".to_string());
            }
        }
        (info.permissions_boundary, info.permissions_boundary_error) =
            boundary(role.permissions_boundary.as_ref(), &managed);
        let mut policies = Policies::default();
        policies.inline(
            &role.role_policy_list,
            &format!("{at}/RolePolicyList"),
            &role.arn,
            None,
            &mut problems,
        );
        policies.attached(&role.attached_managed_policies, &managed, None);
        (info.policies, info.policies_error) = policies.finish();
        principals.push(info);
    }
    Ok(Imported {
        principals,
        problems,
    })
}

/// The default version of every managed policy of the answer, by ARN.
/// `None` when the answer has no `Policies` list at all.
fn managed_docs(
    details: &AuthorizationDetails,
    account: &str,
    problems: &mut Vec<Problem>,
) -> Result<Option<HashMap<String, ManagedDoc>>, Problem> {
    let Some(list) = &details.policies else {
        return Ok(None);
    };
    let mut docs = HashMap::new();
    for (index, policy) in list.iter().enumerate() {
        let at = format!("/Policies/{index}");
        // AWS managed policies live in the `aws` account of the partition.
        if Arn::parse(&policy.arn).map(|arn| arn.account).as_deref() != Ok("aws") {
            same_account(&policy.arn, account, &format!("{at}/Arn"))?;
        }
        docs.insert(policy.arn.clone(), default_version(policy, &at, problems));
    }
    Ok(Some(docs))
}

/// The version AWS applies: the one marked `IsDefaultVersion`, or else the
/// one `DefaultVersionId` names (IAM User Guide, "Versioning for managed
/// policies"; IAM API Reference, "ManagedPolicyDetail": the default version
/// is the operative one).
fn default_version(
    policy: &ManagedPolicyDetail,
    at: &str,
    problems: &mut Vec<Problem>,
) -> ManagedDoc {
    let marked = policy
        .policy_version_list
        .iter()
        .position(|version| version.is_default_version == Some(true));
    let named = || {
        policy.policy_version_list.iter().position(|version| {
            version.version_id.is_some() && version.version_id == policy.default_version_id
        })
    };
    // IsDefaultVersion and DefaultVersionId say the same in what AWS
    // writes; a file where they differ cannot say which version is in
    // effect.
    if let (Some(marked), Some(named)) = (marked, named())
        && marked != named
    {
        return Err(format!(
            "managed policy `{}` marks another version as default than its DefaultVersionId",
            policy.arn
        ));
    }
    let Some(index) = marked.or_else(named) else {
        return Err(format!(
            "the file holds no default version of managed policy `{}`",
            policy.arn
        ));
    };
    let Some(document) = &policy.policy_version_list[index].document else {
        return Err(format!(
            "the default version of managed policy `{}` has no Document",
            policy.arn
        ));
    };
    let label = format!("managed policy `{}`", policy.arn);
    PolicyDoc::from_value(&label, document).map_err(|error| {
        problems.push(document_problem(
            &format!("{at}/PolicyVersionList/{index}/Document"),
            document,
            &error,
        ));
        format!("{label} does not parse: {}", error.message)
    })
}

/// A principal's permissions boundary: `None` when it has none, unknown
/// when its policy is not in the answer.
fn boundary(
    attached: Option<&AttachedBoundary>,
    managed: &Option<HashMap<String, ManagedDoc>>,
) -> (Field<NamedPolicy>, Option<String>) {
    let Some(attached) = attached else {
        return (Field::None, None);
    };
    let arn = &attached.permissions_boundary_arn;
    match managed_doc(managed, arn) {
        Ok(document) => (
            Field::Some(NamedPolicy {
                name: arn.clone(),
                kind: None,
                document,
            }),
            None,
        ),
        Err(why) => (Field::Unknown, Some(format!("permissions boundary: {why}"))),
    }
}

/// A managed policy's document, or why it is unknown.
fn managed_doc(managed: &Option<HashMap<String, ManagedDoc>>, arn: &str) -> ManagedDoc {
    let Some(managed) = managed else {
        return Err(format!(
            "managed policy `{arn}` is attached, and the file has no Policies list (run get-account-authorization-details with LocalManagedPolicy and AWSManagedPolicy in --filter, or without --filter)"
        ));
    };
    match managed.get(arn) {
        Some(doc) => doc.clone(),
        None if arn.contains(":iam::aws:policy/") => Err(format!(
            "AWS managed policy `{arn}` is attached, and the file does not hold it (run get-account-authorization-details with AWSManagedPolicy in --filter)"
        )),
        None => Err(format!(
            "managed policy `{arn}` is attached, and the file's Policies list does not hold it"
        )),
    }
}

/// A principal's identity policies as they are gathered: the first reason
/// one is unknown makes the whole list unknown.
#[derive(Default)]
struct Policies {
    found: Vec<NamedPolicy>,
    unknown: Option<String>,
}

impl Policies {
    fn unknown(&mut self, why: String) {
        self.unknown.get_or_insert(why);
    }

    /// Inline policies of the principal, or of its group `group` (named
    /// `group/policy`, as live mode names them, to stay apart from the
    /// principal's own policy of the same name).
    fn inline(
        &mut self,
        list: &[PolicyDetail],
        at: &str,
        owner: &str,
        group: Option<&str>,
        problems: &mut Vec<Problem>,
    ) {
        for (index, policy) in list.iter().enumerate() {
            let (label, name, kind) = match group {
                Some(group) => (
                    format!("inline policy `{}` of group `{group}`", policy.policy_name),
                    format!("{group}/{}", policy.policy_name),
                    PolicyKind::GroupInline,
                ),
                None => (
                    format!("inline policy `{}` of `{owner}`", policy.policy_name),
                    policy.policy_name.clone(),
                    PolicyKind::Inline,
                ),
            };
            let Some(document) = &policy.policy_document else {
                self.unknown(format!("{label} has no PolicyDocument"));
                continue;
            };
            match PolicyDoc::from_value(&label, document) {
                Ok(document) => self.found.push(NamedPolicy {
                    name,
                    kind: Some(kind),
                    document,
                }),
                Err(error) => {
                    problems.push(document_problem(
                        &format!("{at}/{index}/PolicyDocument"),
                        document,
                        &error,
                    ));
                    self.unknown(format!("{label} does not parse: {}", error.message));
                }
            }
        }
    }

    fn attached(
        &mut self,
        list: &[AttachedPolicy],
        managed: &Option<HashMap<String, ManagedDoc>>,
        group: Option<&str>,
    ) {
        let kind = match group {
            Some(_) => PolicyKind::GroupManaged,
            None => PolicyKind::Managed,
        };
        for attached in list {
            match managed_doc(managed, &attached.policy_arn) {
                Ok(document) => self.found.push(NamedPolicy {
                    name: attached.policy_arn.clone(),
                    kind: Some(kind),
                    document,
                }),
                Err(why) => self.unknown(match group {
                    Some(group) => format!("group `{group}`: {why}"),
                    None => why,
                }),
            }
        }
    }

    fn finish(self) -> (Field<Vec<NamedPolicy>>, Option<String>) {
        match self.unknown {
            Some(why) => (Field::Unknown, Some(why)),
            None => (Field::Some(self.found), None),
        }
    }
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|tag| (tag.key.clone(), tag.value.clone()))
        .collect()
}

/// `arn` must be an ARN of `account`: the answer of one account's
/// GetAccountAuthorizationDetails names only that account's entities.
fn same_account(arn: &str, account: &str, pointer: &str) -> Result<(), Problem> {
    match Arn::parse(arn) {
        Ok(parsed) if parsed.account == account => Ok(()),
        Ok(parsed) => Err(Problem {
            pointer: pointer.to_string(),
            message: format!(
                "`{arn}` is of account {}, not of account {account} (--account)",
                parsed.account
            ),
        }),
        Err(error) => Err(Problem {
            pointer: pointer.to_string(),
            message: error.to_string(),
        }),
    }
}

/// Where a document that does not parse went wrong: inside an object, at
/// the statement that failed; inside text, at the text.
fn document_problem(at: &str, document: &Value, error: &crate::policy::PolicyError) -> Problem {
    // The error's path is a JSON pointer into the document already.
    let pointer = if document.is_object() {
        format!("{at}{}", error.path)
    } else {
        at.to_string()
    };
    let mut message = format!("the policy document does not parse: {}", error.message);
    if !document.is_object()
        && let (Some(line), Some(column)) = (error.line, error.column)
    {
        message.push_str(&format!(" (line {line}, column {column} of the document)"));
    }
    Problem { pointer, message }
}

#[cfg(test)]
#[path = "gaad_tests.rs"]
mod tests;
