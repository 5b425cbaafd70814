//! The condition-key table: for every key the tool knows, where its value
//! comes from (derived, a request header or parameter, absent, or unknown)
//! and why. It is data, read by the context builders in `chain::context` and
//! carried by docs/guide.md, so it lives apart from the code: adding a key
//! is an edit here, not in the code that builds contexts.

/// Where a condition key's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Computed from the snapshot and the request (unknown where the data it
    /// needs was not read).
    Derived,
    /// A request header or parameter: absent unless `--context` gives it.
    Request,
    /// Documented by AWS as absent for the requests judged here.
    Absent,
    /// The tool cannot know it: unknown unless `--context` gives it.
    Unknown,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Derived => "derived",
            Origin::Request => "absent unless given",
            Origin::Absent => "absent",
            Origin::Unknown => "unknown unless given",
        }
    }
}

/// One row of the table: a key (a trailing `*` stands for any suffix), its
/// source, and what it is derived from or why it is absent.
#[derive(Debug, Clone, Copy)]
pub struct ContextKey {
    pub key: &'static str,
    pub source: Origin,
    pub from: &'static str,
}

const fn row(key: &'static str, source: Origin, from: &'static str) -> ContextKey {
    ContextKey { key, source, from }
}

/// Every condition key the tool knows. docs/guide.md carries the same table
/// (a test fails when they drift).
pub const KEYS: &[ContextKey] = &[
    // The principal (IAM User Guide, "AWS global condition context keys").
    row(
        "aws:PrincipalArn",
        Origin::Derived,
        "the principal's ARN; for a role session, the role's ARN",
    ),
    row(
        "aws:PrincipalAccount",
        Origin::Derived,
        "the principal's account",
    ),
    row(
        "aws:PrincipalType",
        Origin::Derived,
        "`User`, `AssumedRole`, `Account` or `FederatedUser`",
    ),
    row(
        "aws:userid",
        Origin::Derived,
        "`principals[].id` (`ROLEID:SESSION` for a named session); unknown when not read",
    ),
    row(
        "aws:username",
        Origin::Derived,
        "the user's name; absent for every other principal",
    ),
    row(
        "aws:PrincipalTag/*",
        Origin::Derived,
        "`principals[].tags`; unknown when not read",
    ),
    row(
        "aws:PrincipalTagKeys",
        Origin::Derived,
        "`principals[].tags`; unknown when not read",
    ),
    row(
        "aws:PrincipalOrgID",
        Origin::Derived,
        "`accounts.*.org_id` of the principal's account",
    ),
    row(
        "aws:PrincipalOrgPaths",
        Origin::Derived,
        "`accounts.*.org_path` of the principal's account; absent outside an organization",
    ),
    row(
        "aws:PrincipalIsAWSService",
        Origin::Derived,
        "`false` for an IAM principal, also in S3's forward access session to KMS; `true` for a service principal calling for itself; absent for an unsigned request",
    ),
    row(
        "aws:PrincipalServiceName",
        Origin::Absent,
        "only a service principal's own calls carry it: its name when `--principal` is one",
    ),
    row(
        "aws:PrincipalServiceNamesList",
        Origin::Absent,
        "only a service principal's own calls carry it (then unknown)",
    ),
    // The resource.
    row(
        "aws:ResourceAccount",
        Origin::Derived,
        "the account of the bucket, key or role",
    ),
    row(
        "aws:ResourceOrgID",
        Origin::Derived,
        "`accounts.*.org_id` of the resource's account",
    ),
    row(
        "aws:ResourceOrgPaths",
        Origin::Derived,
        "`accounts.*.org_path` of the resource's account; absent outside an organization",
    ),
    row(
        "aws:ResourceTag/*",
        Origin::Derived,
        "`keys[].tags` (KMS), the role's `tags` (STS); for S3, a tag the bucket has is unknown (S3 uses bucket tags only when ABAC is enabled on the bucket), one it has not is absent; unknown when not read",
    ),
    row(
        "s3:ResourceAccount",
        Origin::Derived,
        "the bucket's account",
    ),
    row(
        "s3:ExistingObjectTag/*",
        Origin::Derived,
        "`objects[].tags` of `--object`; absent for `s3:PutObject` and `s3:ListBucket`",
    ),
    row(
        "kms:ResourceAliases",
        Origin::Derived,
        "`keys[].aliases`; absent when the key has none",
    ),
    // The request.
    row(
        "aws:RequestedRegion",
        Origin::Derived,
        "the bucket's `region` (S3), the region of the key's ARN (KMS), `us-east-1` (STS's global endpoint); unknown when not known",
    ),
    row(
        "aws:SecureTransport",
        Origin::Derived,
        "`true` (HTTPS, as the SDKs and CLI send)",
    ),
    row("aws:CurrentTime", Origin::Derived, "now"),
    row("aws:EpochTime", Origin::Derived, "now"),
    row(
        "aws:ViaAWSService",
        Origin::Derived,
        "`false` for the caller's own requests, `true` for the KMS calls S3 makes for it and for requests made through `--via-service`",
    ),
    row(
        "aws:CalledVia",
        Origin::Absent,
        "S3 is not among the services that set it, so S3's calls to KMS do not carry it; with `--via-service`, the S3 request holds that service when AWS documents it as one that sets the key (Athena, CloudFormation), else it is unknown, and so is the KMS call S3 then makes",
    ),
    row("aws:CalledViaFirst", Origin::Absent, "as `aws:CalledVia`"),
    row("aws:CalledViaLast", Origin::Absent, "as `aws:CalledVia`"),
    row(
        "aws:SourceArn",
        Origin::Absent,
        "only a service acting for a resource sets it, never an IAM caller or its forward access session; for a service principal caller, `--context`, else unknown",
    ),
    row(
        "aws:SourceAccount",
        Origin::Absent,
        "as `aws:SourceArn`; for a service principal caller also the account an `aws:SourceArn` names",
    ),
    row(
        "aws:SourceOrgID",
        Origin::Absent,
        "as `aws:SourceAccount`; also `accounts.*.org_id` of that account",
    ),
    row("aws:SourceOrgPaths", Origin::Absent, "as `aws:SourceArn`"),
    row(
        "s3:signatureversion",
        Origin::Derived,
        "`AWS4-HMAC-SHA256` (the SDKs and CLI sign with SigV4)",
    ),
    row(
        "s3:authType",
        Origin::Derived,
        "`REST-HEADER`; `REST-QUERY-STRING` given for a presigned URL (the `authentication` link then applies)",
    ),
    row(
        "s3:signatureAge",
        Origin::Derived,
        "absent for `REST-HEADER` (it works only for presigned URLs and POST); unknown unless given for a presigned URL",
    ),
    row(
        "s3express:SessionMode",
        Origin::Derived,
        "`ReadOnly` for a directory bucket's reads, `ReadWrite` for its writes (`s3express:CreateSession`)",
    ),
    row(
        "s3:DataAccessPointArn",
        Origin::Absent,
        "the requests judged here name the bucket, not an access point",
    ),
    row(
        "s3:DataAccessPointAccount",
        Origin::Absent,
        "as `s3:DataAccessPointArn`",
    ),
    row(
        "s3:AccessPointNetworkOrigin",
        Origin::Absent,
        "as `s3:DataAccessPointArn`",
    ),
    // The network (see "Network keys" in docs/guide.md).
    row(
        "aws:SourceIp",
        Origin::Derived,
        "`--context`; absent when a VPC key is given (not through `--via-service`); in S3's call to KMS, the S3 request's; else unknown",
    ),
    row(
        "aws:SourceVpc",
        Origin::Derived,
        "`--context`; absent when a public `aws:SourceIp` is given, in S3's call to KMS and through `--via-service`; else unknown",
    ),
    row("aws:SourceVpce", Origin::Derived, "as `aws:SourceVpc`"),
    row("aws:VpcSourceIp", Origin::Derived, "as `aws:SourceVpc`"),
    // KMS, in the calls S3 makes (KMS Developer Guide, "AWS KMS condition keys").
    row(
        "kms:CallerAccount",
        Origin::Derived,
        "the principal's account; unknown for a caller of no account (a service principal)",
    ),
    row(
        "kms:ViaService",
        Origin::Derived,
        "`s3.REGION.amazonaws.com`, REGION the bucket's (else the key's) region; unknown for a directory bucket",
    ),
    row(
        "kms:EncryptionContext:aws:s3:arn",
        Origin::Derived,
        "the object's ARN, the bucket's with S3 Bucket Keys (which DSSE-KMS never uses); always the `arn:aws:s3express:...` bucket ARN for a directory bucket",
    ),
    row(
        "kms:EncryptionContextKeys",
        Origin::Derived,
        "`aws:s3:arn`, and the keys of the object's `encryption.context` or of a delivery service's own context",
    ),
    row(
        "kms:EncryptionAlgorithm",
        Origin::Derived,
        "`SYMMETRIC_DEFAULT`",
    ),
    row("kms:GrantIsForAWSResource", Origin::Derived, "`false`"),
    row(
        "kms:RequestAlias",
        Origin::Derived,
        "absent when the key is named by ARN or id; unknown when S3 is given an alias",
    ),
    row(
        "kms:EncryptionContext:*",
        Origin::Request,
        "the `x-amz-server-side-encryption-context` header; for a read, the object's `encryption.context`; for CloudTrail's writes, `aws:cloudtrail:arn` = `aws:SourceArn`",
    ),
    // Request headers and parameters.
    row(
        "s3:x-amz-*",
        Origin::Request,
        "the request's headers (`s3:x-amz-acl`, `s3:x-amz-server-side-encryption`, ...)",
    ),
    row("s3:prefix", Origin::Request, "ListObjects parameter"),
    row("s3:delimiter", Origin::Request, "ListObjects parameter"),
    row("s3:max-keys", Origin::Request, "ListObjects parameter"),
    row("s3:VersionId", Origin::Request, "request parameter"),
    row(
        "s3:RequestObjectTag/*",
        Origin::Request,
        "the `x-amz-tagging` header",
    ),
    row(
        "s3:RequestObjectTagKeys",
        Origin::Request,
        "the `x-amz-tagging` header",
    ),
    row(
        "s3:object-lock-*",
        Origin::Request,
        "the object-lock headers",
    ),
    row("aws:RequestTag/*", Origin::Request, "tags in the request"),
    row("aws:TagKeys", Origin::Request, "tags in the request"),
    row("sts:ExternalId", Origin::Request, "`--external-id`"),
    row(
        "sts:TransitiveTagKeys",
        Origin::Request,
        "AssumeRole parameter",
    ),
    // What a judge that never saw the client cannot know.
    row(
        "aws:MultiFactorAuthPresent",
        Origin::Unknown,
        "how the caller signed in",
    ),
    row(
        "aws:MultiFactorAuthAge",
        Origin::Unknown,
        "how the caller signed in",
    ),
    row(
        "aws:TokenIssueTime",
        Origin::Unknown,
        "when the caller's session began",
    ),
    row(
        "aws:SourceIdentity",
        Origin::Unknown,
        "set at AssumeRole time",
    ),
    row(
        "aws:FederatedProvider",
        Origin::Unknown,
        "set at AssumeRole time",
    ),
    row(
        "aws:Ec2InstanceSourceVpc",
        Origin::Unknown,
        "the instance the caller runs on",
    ),
    row(
        "aws:Ec2InstanceSourcePrivateIPv4",
        Origin::Unknown,
        "the instance the caller runs on",
    ),
    row("s3:TlsVersion", Origin::Unknown, "the client's TLS version"),
    row(
        "sts:RoleSessionName",
        Origin::Unknown,
        "chosen by the caller at AssumeRole time",
    ),
    // Keys of another service that AWS puts on every request made with
    // some credentials, whatever service is called: the one exception to
    // "a key of another service is absent" below.
    row(
        "lambda:SourceFunctionArn",
        Origin::Unknown,
        "on every request made with a Lambda function's credentials (Lambda Developer Guide, \"Using source function ARN to control function access behavior\")",
    ),
    row(
        "ec2:SourceInstanceARN",
        Origin::Unknown,
        "on requests made with an EC2 instance's role credentials",
    ),
    row(
        "ec2:RoleDelivery",
        Origin::Unknown,
        "as `ec2:SourceInstanceARN`",
    ),
    row(
        "ssm:SourceInstanceARN",
        Origin::Unknown,
        "on requests made with a managed node's credentials",
    ),
    row(
        "glue:CredentialIssuingService",
        Origin::Unknown,
        "on requests made with credentials AWS Glue issued",
    ),
    row(
        "glue:RoleAssumedBy",
        Origin::Unknown,
        "as `glue:CredentialIssuingService`",
    ),
    row(
        "svc:*",
        Origin::Absent,
        "a key of a service other than the request's (`ec2:Owner` in an S3 request, an `s3:` header in S3's call to KMS), unless listed above: AWS puts in a request only the global keys and those the Service Authorization Reference lists for its action",
    ),
    row(
        "*",
        Origin::Unknown,
        "any other key (a global `aws:` key, or one of the request's service)",
    ),
];

/// The keys of another service that a request can carry whatever service
/// it is made to (the rows above `svc:*`): they stay unknown unless given,
/// never absent.
pub const CARRIED: &[&str] = &[
    "lambda:SourceFunctionArn",
    "ec2:SourceInstanceARN",
    "ec2:RoleDelivery",
    "ssm:SourceInstanceARN",
    "glue:CredentialIssuingService",
    "glue:RoleAssumedBy",
];
