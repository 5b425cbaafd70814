//! ARNs and the principals they name: parsing, the account they belong to,
//! and the identities AWS sees for a caller (a role session is also its role
//! and its account).

use std::fmt;

/// A parsed ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

/// Why a string is not an ARN of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed ARN `{text}`: {reason}")]
pub struct ArnError {
    pub text: String,
    pub reason: String,
}

impl ArnError {
    fn new(text: &str, reason: impl Into<String>) -> Self {
        Self {
            text: text.to_string(),
            reason: reason.into(),
        }
    }
}

/// The parts of an ARN, borrowed from its text: for a caller that only
/// reads them (the judge asks every key's ARN its account and region for
/// every action), without the five copies [`Arn`] owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// Checks `text` as [`Arn::parse`] does.
    pub fn parse(text: &'a str) -> Result<Self, ArnError> {
        let mut parts = split_six(text).into_iter().flatten();
        let prefix = parts.next().unwrap_or_default();
        if prefix != "arn" {
            return Err(ArnError::new(text, "it does not start with `arn:`"));
        }
        let mut next = |what: &str| {
            parts
                .next()
                .ok_or_else(|| ArnError::new(text, format!("the {what} part is missing")))
        };
        let partition = next("partition")?;
        let service = next("service")?;
        let region = next("region")?;
        let account = next("account")?;
        let resource = next("resource")?;
        if !is_partition(partition) {
            return Err(ArnError::new(
                text,
                format!("`{partition}` is not a partition (`aws`, `aws-cn`, `aws-us-gov`, ...)"),
            ));
        }
        if service.is_empty() {
            return Err(ArnError::new(text, "the service is empty"));
        }
        if resource.is_empty() {
            return Err(ArnError::new(text, "the resource is empty"));
        }
        Ok(Self {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

/// `text.splitn(6, ':')` by byte positions: the judge splits ARNs by the
/// hundred, and the generic splitter costs several times as much.
fn split_six(text: &str) -> [Option<&str>; 6] {
    let mut parts = [None; 6];
    let mut rest = text;
    for part in parts.iter_mut().take(5) {
        match rest.bytes().position(|byte| byte == b':') {
            Some(at) => {
                *part = Some(&rest[..at]);
                rest = &rest[at + 1..];
            }
            None => {
                *part = Some(rest);
                return parts;
            }
        }
    }
    parts[5] = Some(rest);
    parts
}

impl Arn {
    /// Parses the six colon-separated parts; the resource part may itself
    /// contain colons.
    pub fn parse(text: &str) -> Result<Self, ArnError> {
        let parts = ArnParts::parse(text)?;
        Ok(Self {
            partition: parts.partition.to_string(),
            service: parts.service.to_string(),
            region: parts.region.to_string(),
            account: parts.account.to_string(),
            resource: parts.resource.to_string(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// An AWS partition name: `aws` or `aws-` followed by lowercase words
/// (`aws-cn`, `aws-us-gov`, `aws-iso-b`). Partitions are separate: nothing
/// of one ever matches a principal or resource of another.
pub fn is_partition(text: &str) -> bool {
    text == "aws"
        || text.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('-')
                && !rest.ends_with('-')
                && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

/// The partition of an ARN-looking text (`arn:PARTITION:...`).
pub fn partition_of(text: &str) -> Option<&str> {
    // Bytes rather than a `split`: principal matching asks this of every
    // account entry that names the caller's account.
    let rest = text.strip_prefix("arn:")?;
    let end = rest
        .bytes()
        .position(|byte| byte == b':')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// What kind of IAM identity makes a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user (`arn:aws:iam::ACCT:root`).
    Root,
    /// An IAM user; `arn` carries its path.
    User { name: String, arn: String },
    /// A session of an IAM role. `role_arn` carries the role's path when it is
    /// known; `session_arn` is the `sts` assumed-role ARN when a session name
    /// is known (the tool may judge "any session of the role").
    AssumedRole {
        role_name: String,
        role_arn: String,
        session_arn: Option<String>,
        session_name: Option<String>,
    },
    /// A federated user session (`arn:aws:sts::ACCT:federated-user/NAME`).
    FederatedUser { name: String },
    /// An AWS service calling as its own service principal
    /// (`cloudfront.amazonaws.com`), not with a customer's credentials: it
    /// belongs to no account and has no identity policies.
    Service { name: String },
    /// An unsigned request: no identity at all.
    Anonymous,
    /// A legacy CloudFront origin access identity
    /// (`arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ID`):
    /// a CloudFront-owned user no customer account holds.
    CloudFrontOai { arn: String },
}

/// The identity a request is made as, with everything policies can name it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub partition: String,
    pub account: String,
    pub kind: PrincipalKind,
}

/// The text `--principal` takes for an unsigned request.
pub const ANONYMOUS: &str = "anonymous";

/// The account part of an origin access identity's ARN (IAM User Guide,
/// "AWS JSON policy elements: Principal", CloudFront origin access
/// identities).
const OAI_ACCOUNT: &str = "cloudfront";
const OAI_PREFIX: &str = "user/CloudFront Origin Access Identity ";

/// A service principal's name: `NAME.amazonaws.com` (or `.amazonaws.com.cn`
/// in the China partition), lowercase DNS labels (IAM User Guide, "AWS JSON
/// policy elements: Principal", AWS service principals).
pub fn is_service_principal(text: &str) -> bool {
    let Some(name) = text
        .strip_suffix(".amazonaws.com")
        .or_else(|| text.strip_suffix(".amazonaws.com.cn"))
    else {
        return false;
    };
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Whether an ARN is a CloudFront origin access identity's.
pub fn is_origin_access_identity(text: &str) -> bool {
    ArnParts::parse(text).is_ok_and(|arn| {
        arn.service == "iam"
            && arn.region.is_empty()
            && arn.account == OAI_ACCOUNT
            && arn
                .resource
                .strip_prefix(OAI_PREFIX)
                .is_some_and(|id| !id.is_empty() && !id.contains(char::is_whitespace))
    })
}

impl Principal {
    /// Parses what `--principal` accepts as the caller: everything
    /// [`Principal::parse`] does, and callers that are no IAM identity — a
    /// service principal, `anonymous`, a CloudFront origin access identity.
    pub fn parse_caller(text: &str) -> Result<Self, ArnError> {
        let outside = |kind| Self {
            partition: "aws".to_string(),
            account: String::new(),
            kind,
        };
        if text == ANONYMOUS {
            return Ok(outside(PrincipalKind::Anonymous));
        }
        if is_service_principal(text) {
            return Ok(Self {
                partition: if text.ends_with(".cn") {
                    "aws-cn"
                } else {
                    "aws"
                }
                .to_string(),
                ..outside(PrincipalKind::Service {
                    name: text.to_string(),
                })
            });
        }
        if is_origin_access_identity(text) {
            return Ok(Self {
                partition: partition_of(text).unwrap_or("aws").to_string(),
                ..outside(PrincipalKind::CloudFrontOai {
                    arn: text.to_string(),
                })
            });
        }
        if !text.starts_with("arn:") && !is_account_id(text) && text.contains('.') {
            return Err(ArnError::new(
                text,
                "a service principal is `NAME.amazonaws.com`, lowercase",
            ));
        }
        Self::parse(text)
    }

    /// The caller is an IAM identity of a customer account (a user, a role
    /// session, a federated user, a root user), with identity policies and
    /// guard rails of its own.
    pub fn is_iam(&self) -> bool {
        !matches!(
            self.kind,
            PrincipalKind::Service { .. }
                | PrincipalKind::Anonymous
                | PrincipalKind::CloudFrontOai { .. }
        )
    }

    /// The service principal's name when the caller is one.
    pub fn service_name(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Service { name } => Some(name),
            _ => None,
        }
    }

    /// Parses what `--principal` accepts: an IAM user ARN, a role ARN (judged
    /// as a session of that role), an assumed-role session ARN, a federated
    /// user ARN, an account root ARN or a bare account id.
    pub fn parse(text: &str) -> Result<Self, ArnError> {
        if is_account_id(text) {
            return Ok(Self {
                partition: "aws".to_string(),
                account: text.to_string(),
                kind: PrincipalKind::Root,
            });
        }
        let arn = ArnParts::parse(text)?;
        if !is_account_id(arn.account) {
            return Err(ArnError::new(text, "the account is not a 12-digit id"));
        }
        if matches!(arn.service, "iam" | "sts") && !arn.region.is_empty() {
            return Err(ArnError::new(
                text,
                format!(
                    "IAM and STS principal ARNs have no region, not `{}`",
                    arn.region
                ),
            ));
        }
        let kind = match arn.service {
            "iam" => {
                if arn.resource == "root" {
                    PrincipalKind::Root
                } else if let Some(path_and_name) = arn.resource.strip_prefix("user/") {
                    PrincipalKind::User {
                        name: last_segment(text, path_and_name)?,
                        arn: text.to_string(),
                    }
                } else if let Some(path_and_name) = arn.resource.strip_prefix("role/") {
                    PrincipalKind::AssumedRole {
                        role_name: last_segment(text, path_and_name)?,
                        role_arn: text.to_string(),
                        session_arn: None,
                        session_name: None,
                    }
                } else {
                    return Err(ArnError::new(
                        text,
                        "an IAM principal is `root`, `user/...` or `role/...`",
                    ));
                }
            }
            "sts" => {
                if let Some(rest) = arn.resource.strip_prefix("assumed-role/") {
                    let (role_name, session) = rest.split_once('/').ok_or_else(|| {
                        ArnError::new(text, "an assumed-role ARN is `assumed-role/ROLE/SESSION`")
                    })?;
                    if role_name.is_empty() || session.is_empty() {
                        return Err(ArnError::new(
                            text,
                            "an assumed-role ARN is `assumed-role/ROLE/SESSION`",
                        ));
                    }
                    PrincipalKind::AssumedRole {
                        role_name: role_name.to_string(),
                        role_arn: format!(
                            "arn:{}:iam::{}:role/{}",
                            arn.partition, arn.account, role_name
                        ),
                        session_arn: Some(text.to_string()),
                        session_name: Some(session.to_string()),
                    }
                } else if let Some(name) = arn.resource.strip_prefix("federated-user/") {
                    PrincipalKind::FederatedUser {
                        name: name.to_string(),
                    }
                } else {
                    return Err(ArnError::new(
                        text,
                        "an STS principal is `assumed-role/ROLE/SESSION` or `federated-user/NAME`",
                    ));
                }
            }
            other => {
                return Err(ArnError::new(
                    text,
                    format!("`{other}` ARNs do not name a principal"),
                ));
            }
        };
        Ok(Self {
            partition: arn.partition.to_string(),
            account: arn.account.to_string(),
            kind,
        })
    }

    /// The ARN AWS reports as `aws:PrincipalArn`: the role ARN for a role
    /// session, the user ARN for a user.
    pub fn principal_arn(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => self.root_arn(),
            PrincipalKind::User { arn, .. } => arn.clone(),
            PrincipalKind::AssumedRole { role_arn, .. } => role_arn.clone(),
            PrincipalKind::FederatedUser { name } => format!(
                "arn:{}:sts::{}:federated-user/{}",
                self.partition, self.account, name
            ),
            PrincipalKind::Service { name } => name.clone(),
            PrincipalKind::Anonymous => ANONYMOUS.to_string(),
            PrincipalKind::CloudFrontOai { arn } => arn.clone(),
        }
    }

    /// The ARN the caller is seen as (`aws:userid` aside): the session ARN for
    /// a role session when known, else the principal ARN.
    pub fn identity_arn(&self) -> String {
        match &self.kind {
            PrincipalKind::AssumedRole {
                session_arn: Some(session),
                ..
            } => session.clone(),
            _ => self.principal_arn(),
        }
    }

    /// `arn:PARTITION:iam::ACCOUNT:root`.
    pub fn root_arn(&self) -> String {
        format!("arn:{}:iam::{}:root", self.partition, self.account)
    }
}

fn last_segment(text: &str, path_and_name: &str) -> Result<String, ArnError> {
    match path_and_name.rsplit('/').next() {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(ArnError::new(text, "the name is empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_arn_maps_to_its_role() {
        let principal =
            Principal::parse("arn:aws:sts::222222222222:assumed-role/etl/build-7").unwrap();
        assert_eq!(principal.account, "222222222222");
        assert_eq!(
            principal.principal_arn(),
            "arn:aws:iam::222222222222:role/etl"
        );
        assert_eq!(
            principal.identity_arn(),
            "arn:aws:sts::222222222222:assumed-role/etl/build-7"
        );
    }

    #[test]
    fn user_paths_are_kept_and_names_extracted() {
        let principal = Principal::parse("arn:aws:iam::111111111111:user/dev/ann").unwrap();
        assert_eq!(
            principal.kind,
            PrincipalKind::User {
                name: "ann".into(),
                arn: "arn:aws:iam::111111111111:user/dev/ann".into()
            }
        );
    }

    #[test]
    fn account_ids_and_roots_are_root_principals() {
        for text in ["111111111111", "arn:aws:iam::111111111111:root"] {
            let principal = Principal::parse(text).unwrap();
            assert_eq!(principal.kind, PrincipalKind::Root);
            assert_eq!(principal.root_arn(), "arn:aws:iam::111111111111:root");
        }
    }

    #[test]
    fn malformed_principals_are_rejected() {
        for text in [
            "arn:aws:iam::1111:user/ann",
            "arn:aws:s3:::bucket",
            "arn:aws:sts::111111111111:assumed-role/etl",
            "user/ann",
            "arn:aws:iam::111111111111:group/devs",
        ] {
            assert!(Principal::parse(text).is_err(), "{text} was accepted");
        }
    }

    #[test]
    fn partitions_are_checked_and_iam_arns_have_no_region() {
        for text in [
            "arn:aws:iam:eu-west-1:111111111111:user/ann",
            "arn:aws:sts:us-east-1:111111111111:assumed-role/etl/s",
            "arn:AWS:iam::111111111111:user/ann",
            "arn:aws-:iam::111111111111:user/ann",
            "arn:gcp:iam::111111111111:user/ann",
            "arn::iam::111111111111:user/ann",
        ] {
            assert!(Principal::parse(text).is_err(), "{text} was accepted");
        }
        let china = Principal::parse("arn:aws-cn:iam::111111111111:user/ann").unwrap();
        assert_eq!(china.partition, "aws-cn");
        assert_eq!(china.root_arn(), "arn:aws-cn:iam::111111111111:root");
        assert!(Principal::parse("arn:aws-us-gov:iam::111111111111:root").is_ok());
        assert_eq!(partition_of("arn:aws-cn:s3:::b"), Some("aws-cn"));
    }

    #[test]
    fn split_six_splits_as_splitn_does() {
        for text in [
            "",
            "arn",
            "arn:",
            "a:b",
            "arn:aws:s3:::b",
            "a:b:c:d:e:f:g:h",
            ":::::",
            "é:ü:x",
        ] {
            let expected: Vec<&str> = text.splitn(6, ':').collect();
            let got: Vec<&str> = split_six(text).into_iter().flatten().collect();
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn callers_outside_iam_are_parsed_apart() {
        let service = Principal::parse_caller("cloudfront.amazonaws.com").unwrap();
        assert_eq!(service.service_name(), Some("cloudfront.amazonaws.com"));
        assert!(!service.is_iam());
        assert!(service.account.is_empty());
        let anonymous = Principal::parse_caller("anonymous").unwrap();
        assert_eq!(anonymous.kind, PrincipalKind::Anonymous);
        let oai = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL";
        let identity = Principal::parse_caller(oai).unwrap();
        assert_eq!(identity.principal_arn(), oai);
        assert!(!identity.is_iam());
        for text in [
            "CloudFront.amazonaws.com",
            ".amazonaws.com",
            "cloudfront.example.com",
            "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ",
        ] {
            assert!(
                Principal::parse_caller(text).is_err(),
                "{text} was accepted"
            );
        }
        // Only the caller accepts them: a snapshot's principal entries are IAM.
        assert!(Principal::parse("cloudfront.amazonaws.com").is_err());
        assert!(Principal::parse_caller("arn:aws:iam::111111111111:user/ann").is_ok());
    }

    #[test]
    fn arn_resource_keeps_its_colons() {
        let arn = Arn::parse("arn:aws:s3:::bucket/a:b").unwrap();
        assert_eq!(arn.resource, "bucket/a:b");
        assert_eq!(arn.to_string(), "arn:aws:s3:::bucket/a:b");
    }
}
