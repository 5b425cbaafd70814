//! The AWS side of live mode: one [`Reader`] per profile (its SDK config,
//! its clients per region, its identity), the read-only guard every client
//! carries, and the translation of SDK errors into "fatal", "denied",
//! "not found" or "failed" — never with a credential in the text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{ConfigBag, RuntimeComponents};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_types::SdkConfig;
use aws_types::region::Region;
use tokio::sync::OnceCell;

use super::GatherError;
use super::call_log::CallLog;
use super::limits::{Limits, Scope};

/// One AWS operation live mode may send, and the IAM action that
/// authorises it (Service Authorization Reference: `HeadObject` needs
/// `s3:GetObject`, `GetBucketEncryption` needs
/// `s3:GetEncryptionConfiguration`; the others share their name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOperation {
    /// The SDK's service name (`S3`, `KMS`, `IAM`, `STS`, `Organizations`).
    pub service: &'static str,
    /// The API operation (`GetBucketPolicy`).
    pub operation: &'static str,
    /// The IAM action a policy must allow (`s3:GetBucketPolicy`).
    pub action: &'static str,
}

const fn read(
    service: &'static str,
    operation: &'static str,
    action: &'static str,
) -> ReadOperation {
    ReadOperation {
        service,
        operation,
        action,
    }
}

/// Every operation the tool may send, and nothing else: the guard refuses
/// any other before it is signed. Each is a read (`Get*`, `List*`,
/// `Describe*`, `Head*`); `docs/permissions/` grants exactly these actions
/// and a test keeps the two in step.
pub const READ_OPERATIONS: &[ReadOperation] = &[
    read("STS", "GetCallerIdentity", "sts:GetCallerIdentity"),
    read("S3", "GetBucketLocation", "s3:GetBucketLocation"),
    read("S3", "GetBucketPolicy", "s3:GetBucketPolicy"),
    read("S3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    read(
        "S3",
        "GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    read("S3", "GetBucketAcl", "s3:GetBucketAcl"),
    read("S3", "ListBuckets", "s3:ListAllMyBuckets"),
    read("S3", "GetBucketTagging", "s3:GetBucketTagging"),
    read("S3", "GetBucketVersioning", "s3:GetBucketVersioning"),
    read(
        "S3",
        "GetBucketReplication",
        "s3:GetReplicationConfiguration",
    ),
    read(
        "S3",
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    ),
    read(
        "S3 Control",
        "GetPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
    ),
    read("S3 Control", "GetAccessPoint", "s3:GetAccessPoint"),
    read(
        "S3 Control",
        "GetAccessPointPolicy",
        "s3:GetAccessPointPolicy",
    ),
    read("S3", "HeadObject", "s3:GetObject"),
    read("S3", "GetObjectAcl", "s3:GetObjectAcl"),
    read("S3", "GetObjectTagging", "s3:GetObjectTagging"),
    read("KMS", "DescribeKey", "kms:DescribeKey"),
    read("KMS", "GetKeyPolicy", "kms:GetKeyPolicy"),
    read("KMS", "ListGrants", "kms:ListGrants"),
    read("KMS", "ListAliases", "kms:ListAliases"),
    read("KMS", "ListResourceTags", "kms:ListResourceTags"),
    read("IAM", "GetUser", "iam:GetUser"),
    read("IAM", "ListGroupsForUser", "iam:ListGroupsForUser"),
    read("IAM", "ListUserPolicies", "iam:ListUserPolicies"),
    read("IAM", "GetUserPolicy", "iam:GetUserPolicy"),
    read(
        "IAM",
        "ListAttachedUserPolicies",
        "iam:ListAttachedUserPolicies",
    ),
    read("IAM", "GetRole", "iam:GetRole"),
    read("IAM", "ListRolePolicies", "iam:ListRolePolicies"),
    read("IAM", "GetRolePolicy", "iam:GetRolePolicy"),
    read(
        "IAM",
        "ListAttachedRolePolicies",
        "iam:ListAttachedRolePolicies",
    ),
    read("IAM", "ListGroupPolicies", "iam:ListGroupPolicies"),
    read("IAM", "GetGroupPolicy", "iam:GetGroupPolicy"),
    read(
        "IAM",
        "ListAttachedGroupPolicies",
        "iam:ListAttachedGroupPolicies",
    ),
    read("IAM", "GetPolicy", "iam:GetPolicy"),
    read("IAM", "GetPolicyVersion", "iam:GetPolicyVersion"),
    read(
        "IAM",
        "GetAccountAuthorizationDetails",
        "iam:GetAccountAuthorizationDetails",
    ),
    read(
        "Organizations",
        "DescribeOrganization",
        "organizations:DescribeOrganization",
    ),
    read("Organizations", "ListRoots", "organizations:ListRoots"),
    read("Organizations", "ListParents", "organizations:ListParents"),
    read(
        "Organizations",
        "ListPoliciesForTarget",
        "organizations:ListPoliciesForTarget",
    ),
    read(
        "Organizations",
        "DescribePolicy",
        "organizations:DescribePolicy",
    ),
    read(
        "IAM Toolbox",
        "GetRequestAuthorizationDetails",
        "iam:GetRequestAuthorizationDetails",
    ),
    // The organization sweep: its accounts, and each member account's keys
    // and access points.
    read(
        "Organizations",
        "ListAccounts",
        "organizations:ListAccounts",
    ),
    read("KMS", "ListKeys", "kms:ListKeys"),
    read("S3 Control", "ListAccessPoints", "s3:ListAccessPoints"),
    // Directory buckets (S3 Express One Zone): listed per region, and their
    // policy and default encryption read, with `s3express` actions (S3 API
    // Reference, "ListDirectoryBuckets", "GetBucketPolicy",
    // "GetBucketEncryption": directory bucket permissions).
    read(
        "S3",
        "ListDirectoryBuckets",
        "s3express:ListAllMyDirectoryBuckets",
    ),
    read("S3", "GetBucketPolicy", "s3express:GetBucketPolicy"),
    read(
        "S3",
        "GetBucketEncryption",
        "s3express:GetEncryptionConfiguration",
    ),
];

/// True for an operation name in [`READ_OPERATIONS`] (of any service).
pub fn is_read_operation(name: &str) -> bool {
    READ_OPERATIONS.iter().any(|read| read.operation == name)
}

/// True when the guard lets `service`'s `operation` through.
fn is_allowed(service: &str, operation: &str) -> bool {
    READ_OPERATIONS
        .iter()
        .chain(CREDENTIAL_OPERATIONS)
        .any(|read| read.service == service && read.operation == operation)
}

/// Operations that are not reads but write nothing either, let through for
/// the organization sweep only: `AssumeRole` issues temporary credentials
/// of a member role that trusts the caller and changes no resource. Kept
/// apart so that [`is_read_operation`] stays "reads only".
pub const CREDENTIAL_OPERATIONS: &[ReadOperation] = &[read("STS", "AssumeRole", "sts:AssumeRole")];

/// Refuses any operation that is not a read before it is serialised, and
/// counts requests for the progress line. Attached to every client, so a
/// future edit that calls a write operation fails loudly instead of writing.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadOnlyGuard {
    pub sent: Arc<AtomicUsize>,
}

impl Intercept for ReadOnlyGuard {
    fn name(&self) -> &'static str {
        "kms-s3-doctor read-only guard"
    }

    // Not `read_before_execution`: a client's interceptors run that hook
    // before the operation's metadata is in the config bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Err("kms-s3-doctor: refusing an AWS call whose operation is not known".into());
        };
        if !is_allowed(metadata.service(), metadata.name()) {
            return Err(format!(
                "kms-s3-doctor only reads: refusing to send {}:{}",
                metadata.service(),
                metadata.name()
            )
            .into());
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Who a read was made as, and the account it landed in.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub account: String,
    pub arn: String,
    pub partition: String,
}

/// One set of credentials (a profile, or the default chain) and its clients.
pub(crate) struct Reader {
    /// `profile `a`` or `the default credential chain`, for messages.
    pub label: String,
    sdk: SdkConfig,
    guard: ReadOnlyGuard,
    path_style: bool,
    /// What the AWS config files say about the profile, for messages.
    setup: ProfileSetup,
    identity: OnceCell<Result<Identity, GatherError>>,
    /// Retry, concurrency and tally, shared with every reader of the
    /// gathering.
    limits: Arc<Limits>,
    /// The account the quotas of this reader's requests count against:
    /// given when known beforehand, else the profile stands for it.
    quota_account: String,
    s3: Mutex<HashMap<String, aws_sdk_s3::Client>>,
    kms: Mutex<HashMap<String, aws_sdk_kms::Client>>,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub orgs: aws_sdk_organizations::Client,
}

/// A local emulator's endpoint, used for S3 Control as given.
#[derive(Debug)]
struct EndpointAsGiven(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for EndpointAsGiven {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

/// The region used when neither `--region` nor the profile names one.
const FALLBACK_REGION: &str = "us-east-1";

/// Every client reads through the same fence: its (account, region,
/// service) slot and retry partition, each operation's rate (the tag that
/// tells the HTTP client which operation an attempt is), the request tally,
/// the read-only guard and the `--debug` log. The SDK crates' config
/// builders share no trait, hence a macro.
macro_rules! fenced {
    ($builder:expr, $limits:expr, $guard:expr, $scope:expr) => {
        $builder
            .http_client($limits.http_client($scope))
            .retry_partition($limits.retry_partition($scope))
            .interceptor($limits.quota_tag())
            .interceptor($limits.counter())
            .interceptor($guard.clone())
            .interceptor(CallLog)
    };
}

impl Reader {
    /// A reader for `profile` (the default chain when `None`). `account`:
    /// the account its credentials are of, when known beforehand (a role
    /// assumed in it); quotas are counted per account.
    pub(crate) async fn load(
        profile: Option<&str>,
        region: Option<&str>,
        endpoint_url: Option<&str>,
        timeout: Duration,
        guard: ReadOnlyGuard,
        limits: &Arc<Limits>,
        account: Option<&str>,
    ) -> Self {
        // A single slow call must not eat the whole budget; the overall
        // timeout still bounds everything.
        let attempt = timeout.min(Duration::from_secs(10));
        let setup = ProfileSetup::read(profile, region).await;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(limits.retry_config())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(timeout)
                    .operation_attempt_timeout(attempt)
                    .connect_timeout(attempt.min(Duration::from_secs(5)))
                    .build(),
            );
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_string()));
        }
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        // A profile that is not defined can give nothing: skip the SDK's
        // chain, which would end at instance metadata (a network call) and
        // report that instead of the real cause.
        let mut sdk = if setup.missing.is_some() {
            SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .build()
        } else {
            loader.load().await
        };
        if sdk.region().is_none() {
            sdk = sdk
                .into_builder()
                .region(Region::new(FALLBACK_REGION))
                .build();
        }
        let global = |sdk: &SdkConfig| {
            // IAM and Organizations are global services served from us-east-1.
            sdk.to_builder()
                .region(Region::new(FALLBACK_REGION))
                .build()
        };
        let label = match profile {
            Some(name) => format!("profile `{name}`"),
            None => "the default credential chain".to_string(),
        };
        let quota_account = account.map_or_else(|| label.clone(), str::to_string);
        let scope = |region: &str, service: &'static str| Scope {
            account: quota_account.clone(),
            region: region.to_string(),
            service,
        };
        let (iam_scope, orgs_scope) = (scope("global", "iam"), scope("global", "organizations"));
        let sts_scope = scope(
            &sdk.region()
                .map_or_else(|| FALLBACK_REGION.to_string(), ToString::to_string),
            "sts",
        );
        let iam = aws_sdk_iam::Client::from_conf(
            fenced!(
                aws_sdk_iam::config::Builder::from(&global(&sdk)),
                limits,
                guard,
                &iam_scope
            )
            .build(),
        );
        let orgs = aws_sdk_organizations::Client::from_conf(
            fenced!(
                aws_sdk_organizations::config::Builder::from(&global(&sdk)),
                limits,
                guard,
                &orgs_scope
            )
            .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            fenced!(
                aws_sdk_sts::config::Builder::from(&sdk),
                limits,
                guard,
                &sts_scope
            )
            .build(),
        );
        Self {
            label,
            sdk,
            limits: limits.clone(),
            quota_account,
            guard,
            path_style: endpoint_url.is_some(),
            setup,
            identity: OnceCell::new(),
            s3: Mutex::new(HashMap::new()),
            kms: Mutex::new(HashMap::new()),
            iam,
            sts,
            orgs,
        }
    }

    /// Why the profile can give no credentials, when it cannot.
    pub(crate) fn missing_setup(&self) -> Option<&str> {
        self.setup.missing.as_deref()
    }

    /// An IAM Toolbox client (Access Troubleshooter), in the profile's
    /// region: AWS keeps a denied request's details in the region of the
    /// denial.
    pub(crate) fn toolbox(&self) -> aws_sdk_iamtoolbox::Client {
        let scope = self.scope(&self.region(), "iam-toolbox");
        aws_sdk_iamtoolbox::Client::from_conf(
            fenced!(
                aws_sdk_iamtoolbox::config::Builder::from(&self.sdk),
                self.limits,
                self.guard,
                &scope
            )
            .build(),
        )
    }

    fn scope(&self, region: &str, service: &'static str) -> Scope {
        Scope {
            account: self.quota_account.clone(),
            region: region.to_string(),
            service,
        }
    }

    /// The region the profile (or `--region`) names.
    pub(crate) fn region(&self) -> String {
        self.sdk
            .region()
            .map_or_else(|| FALLBACK_REGION.to_string(), |region| region.to_string())
    }

    pub(crate) fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let mut clients = self
            .s3
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let scope = self.scope(region, "s3");
                aws_sdk_s3::Client::from_conf(
                    fenced!(
                        aws_sdk_s3::config::Builder::from(&self.sdk)
                            .region(Region::new(region.to_string()))
                            // Local emulators answer on `localhost`/an IP,
                            // where virtual-hosted bucket names do not resolve.
                            .force_path_style(self.path_style),
                        self.limits,
                        self.guard,
                        &scope
                    )
                    .build(),
                )
            })
            .clone()
    }

    /// An S3 client in `region` for S3's Regional endpoint of directory
    /// buckets (`s3express-control.REGION`): `ListDirectoryBuckets` and a
    /// directory bucket's `GetBucketPolicy` and `GetBucketEncryption`. These
    /// are signed with SigV4 for `s3express`, never with a CreateSession
    /// session, which only the Zonal endpoint's object calls use (S3 User
    /// Guide, "Regional and Zonal endpoints for directory buckets"). Against
    /// a local emulator, a call naming a bucket goes path style; one naming
    /// none (`ListDirectoryBuckets`) cannot, the SDK's endpoint rules refuse
    /// it, and goes to the endpoint as given.
    pub(crate) fn s3_directory(&self, region: &str, names_bucket: bool) -> aws_sdk_s3::Client {
        let scope = self.scope(region, "s3");
        aws_sdk_s3::Client::from_conf(
            fenced!(
                aws_sdk_s3::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_string()))
                    .force_path_style(self.path_style && names_bucket)
                    .disable_s3_express_session_auth(true),
                self.limits,
                self.guard,
                &scope
            )
            .build(),
        )
    }

    /// An S3 Control client in `region`. S3 Control puts the account id in
    /// the host (`ACCOUNT.s3-control.REGION.amazonaws.com`), which a local
    /// emulator's address cannot carry: there its endpoint is used as given.
    pub(crate) fn s3control(&self, region: &str) -> aws_sdk_s3control::Client {
        let scope = self.scope(region, "s3control");
        let mut config = fenced!(
            aws_sdk_s3control::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_string())),
            self.limits,
            self.guard,
            &scope
        );
        if let Some(url) = self.sdk.endpoint_url().filter(|_| self.path_style) {
            config = config.endpoint_resolver(EndpointAsGiven(url.to_string()));
        }
        aws_sdk_s3control::Client::from_conf(config.build())
    }

    pub(crate) fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let mut clients = self
            .kms
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let scope = self.scope(region, "kms");
                aws_sdk_kms::Client::from_conf(
                    fenced!(
                        aws_sdk_kms::config::Builder::from(&self.sdk)
                            .region(Region::new(region.to_string())),
                        self.limits,
                        self.guard,
                        &scope
                    )
                    .build(),
                )
            })
            .clone()
    }

    /// `sts:GetCallerIdentity`, once. Any failure is fatal: without knowing
    /// whose credentials these are, nothing read with them can be placed.
    pub(crate) async fn identity(&self, endpoint: &str) -> Result<Identity, GatherError> {
        self.identity
            .get_or_init(|| async {
                if let Some(missing) = &self.setup.missing {
                    return Err(GatherError::NoCredentials {
                        who: self.label.clone(),
                        reason: missing.clone(),
                    });
                }
                match self.sts.get_caller_identity().send().await {
                    Ok(output) => {
                        let arn = output.arn().unwrap_or_default().to_string();
                        let partition = arn.split(':').nth(1).unwrap_or("aws").to_string();
                        Ok(Identity {
                            account: output.account().unwrap_or_default().to_string(),
                            arn,
                            partition,
                        })
                    }
                    Err(error) => Err(self.identity_failure(&error, endpoint)),
                }
            })
            .await
            .clone()
    }

    fn identity_failure<E>(&self, error: &SdkError<E, HttpResponse>, endpoint: &str) -> GatherError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let Failure::Fatal(fatal) = classify(error, endpoint) {
            return fatal;
        }
        if matches!(
            error,
            SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_)
        ) {
            // The request never left: the credential chain had nothing. Its
            // message names profiles and files, never secrets.
            let reason = credential_chain_reason(&deepest(error));
            if let Some(unconfigured) = &self.setup.unconfigured {
                return GatherError::NoCredentials {
                    who: self.label.clone(),
                    reason: unconfigured.clone(),
                };
            }
            return GatherError::NoCredentials {
                who: self.label.clone(),
                reason: match &self.setup.sso_login {
                    Some(login) => format!(
                        "its AWS IAM Identity Center (SSO) session has expired or was never started: run `{login}` ({reason})"
                    ),
                    None => reason,
                },
            };
        }
        if let Some(answer) = not_aws(error) {
            return GatherError::Unreachable {
                endpoint: endpoint.to_string(),
                reason: format!(
                    "it does not answer as AWS STS (sts:GetCallerIdentity got {answer}); check --endpoint-url"
                ),
            };
        }
        let code = code_of(error);
        let status = error
            .raw_response()
            .map_or(0, |response| response.status().as_u16());
        if super::limits::is_throttling(status, code.as_deref()) || status >= 500 {
            // Not a verdict on the credentials: STS did not answer.
            return GatherError::Unreachable {
                endpoint: endpoint.to_string(),
                reason: format!(
                    "sts:GetCallerIdentity for {} was refused on every attempt ({}); try again later or allow more with --max-attempts",
                    self.label,
                    code.unwrap_or_else(|| format!("HTTP {status}"))
                ),
            };
        }
        let mut reason = format!(
            "sts:GetCallerIdentity rejected them ({})",
            code.clone().unwrap_or_else(|| "no error code".to_string())
        );
        let token_rejected = code.as_deref().is_some_and(|code| {
            matches!(
                code,
                "InvalidClientTokenId" | "SignatureDoesNotMatch" | "UnrecognizedClientException"
            )
        });
        if token_rejected && !self.setup.region_configured {
            reason.push_str(&format!(
                "; no region is configured ({}), so requests went to {FALLBACK_REGION}: keys of another partition (aws-cn, aws-us-gov) are only valid there, pass --region",
                self.setup.region_sources
            ));
        } else if code.as_deref() == Some("ExpiredToken") {
            reason.push_str(match &self.setup.sso_login {
                Some(_) => "; the session has expired",
                None => "; the session token has expired: get new credentials for this profile",
            });
            if let Some(login) = &self.setup.sso_login {
                reason.push_str(&format!(": run `{login}`"));
            }
        }
        GatherError::NoCredentials {
            who: self.label.clone(),
            reason,
        }
    }
}

/// What the AWS config files say about one profile, read before any
/// request so that a failure can name its real cause.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProfileSetup {
    /// Why the profile cannot be used at all (it is not defined), with the
    /// files that were read.
    missing: Option<String>,
    /// `aws sso login --profile NAME` for a profile that signs in through
    /// IAM Identity Center.
    sso_login: Option<String>,
    /// A region is given by `--region`, `AWS_REGION`/`AWS_DEFAULT_REGION` or
    /// the profile.
    region_configured: bool,
    /// Where a region was looked for, for the message.
    region_sources: String,
    /// No configuration at all: no profile asked for, none in the files
    /// (or no files), no credentials in the environment. The credential
    /// chain then ends at instance metadata, whose failure would be
    /// reported instead of the real cause; this says what was looked for.
    unconfigured: Option<String>,
}

impl ProfileSetup {
    /// Reads the config and credentials files as the SDK does
    /// (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/`).
    /// `profile`: `--profile`, else `AWS_PROFILE` names the one to check.
    pub(crate) async fn read(profile: Option<&str>, region: Option<&str>) -> Self {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let name = profile.map(str::to_string).or_else(|| env("AWS_PROFILE"));
        let files = config_files();
        let loaded = aws_config::profile::load(
            &aws_types::os_shim_internal::Fs::real(),
            &aws_types::os_shim_internal::Env::real(),
            &Default::default(),
            None,
        )
        .await;
        let shown = name.as_deref().unwrap_or("default");
        let region_sources = format!(
            "no --region, no AWS_REGION or AWS_DEFAULT_REGION, no `region` for profile `{shown}` in {}",
            files_read(&files)
        );
        let env_region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
        let Ok(set) = loaded else {
            // Unreadable files: the SDK reports its own parse error.
            return Self {
                region_configured: region.is_some() || env_region.is_some(),
                region_sources,
                ..Self::default()
            };
        };
        let found = set.get_profile(shown);
        // The SDK's credential chain (AWS SDKs and Tools Reference Guide,
        // "Standardized credential providers"): environment keys, web
        // identity, the profile files, the container endpoint, then
        // instance metadata.
        let from_environment = [
            "AWS_ACCESS_KEY_ID",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ]
        .iter()
        .any(|variable| env(variable).is_some());
        let unconfigured = (name.is_none() && set.profiles().next().is_none() && !from_environment)
            .then(|| {
                format!(
                    "no AWS configuration found: no credentials in the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...), no profile in {}, and no instance or container role answered; run `aws configure` (or `aws configure sso`), pass --profile, or judge offline with --snapshot FILE",
                    files_read(&files)
                )
            });
        let missing = match (&name, found) {
            (Some(name), None) => {
                let mut known: Vec<&str> = set.profiles().collect();
                known.sort_unstable();
                let known = if known.is_empty() {
                    "they define no profile".to_string()
                } else {
                    format!(
                        "they define {}",
                        known
                            .iter()
                            .map(|known| format!("`{known}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                Some(format!(
                    "profile `{name}` is not in the aws config files (read {}; {known})",
                    files_read(&files)
                ))
            }
            _ => None,
        };
        let sso = found.is_some_and(|profile| {
            profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some()
        });
        Self {
            missing,
            sso_login: sso.then(|| match &name {
                Some(name) => format!("aws sso login --profile {name}"),
                None => "aws sso login".to_string(),
            }),
            region_configured: region.is_some()
                || env_region.is_some()
                || found.is_some_and(|profile| profile.get("region").is_some()),
            region_sources,
            unconfigured,
        }
    }
}

/// The config and credentials files the SDK reads, by its documented rule:
/// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config`
/// and `~/.aws/credentials`.
fn config_files() -> [String; 2] {
    let home = std::env::var("HOME")
        .ok()
        .or_else(|| std::env::var("USERPROFILE").ok())
        .unwrap_or_else(|| "~".to_string());
    let file = |variable: &str, default: &str| {
        std::env::var(variable)
            .ok()
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| format!("{home}/.aws/{default}"))
    };
    [
        file("AWS_CONFIG_FILE", "config"),
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ]
}

/// `` `/home/a/.aws/config`, `/home/a/.aws/credentials` (missing) ``.
fn files_read(files: &[String]) -> String {
    files
        .iter()
        .map(|file| {
            if std::path::Path::new(file).exists() {
                format!("`{file}`")
            } else {
                format!("`{file}` (missing)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An answer that did not come from AWS: AWS marks every response with a
/// request id header, and its errors carry a code. Returns a description of
/// what came back instead.
fn not_aws<E>(error: &SdkError<E, HttpResponse>) -> Option<String>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let response = error.raw_response()?;
    let headers = response.headers();
    let request_id = ["x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"]
        .iter()
        .any(|name| headers.get(*name).is_some());
    let unparsed = matches!(error, SdkError::ResponseError(_));
    if request_id && !unparsed {
        return None;
    }
    if !unparsed && code_of(error).is_some() {
        return None;
    }
    let status = response.status().as_u16();
    let kind = headers
        .get("content-type")
        .map(|kind| format!(" {}", kind.split(';').next().unwrap_or(kind).trim()))
        .unwrap_or_default();
    Some(format!("HTTP {status}{kind}, not an AWS response"))
}

/// What went wrong with one read.
pub(crate) enum Failure {
    /// Stop everything (unreachable endpoint, timeout, no such bucket).
    Fatal(GatherError),
    /// HTTP 403 or an access-denied code.
    Denied(String),
    /// The service says the thing does not exist (code kept).
    NotFound(String),
    /// Anything else (code or short description kept).
    Failed(String),
}

const NOT_FOUND_CODES: [&str; 12] = [
    "NoSuchBucketPolicy",
    "ServerSideEncryptionConfigurationNotFoundError",
    "OwnershipControlsNotFoundError",
    "NoSuchKey",
    "NotFound",
    "NotFoundException",
    "NoSuchEntity",
    "AWSOrganizationsNotInUseException",
    "AccountNotFoundException",
    "ChildNotFoundException",
    "PolicyNotFoundException",
    "TargetNotFoundException",
];

fn code_of<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Option<String> {
    error.code().map(str::to_string)
}

/// Sorts an SDK error. `endpoint` names where requests go, for the
/// unreachable message.
pub(crate) fn classify<E>(error: &SdkError<E, HttpResponse>, endpoint: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error {
        SdkError::TimeoutError(_) => {
            return Failure::Fatal(GatherError::Timeout(format!(
                "a request to {endpoint} timed out"
            )));
        }
        SdkError::DispatchFailure(failure) => {
            if failure.is_io() || failure.is_timeout() {
                let reason = failure
                    .as_connector_error()
                    .map(|cause| innermost(cause))
                    .unwrap_or_else(|| "connection failed".to_string());
                return Failure::Fatal(GatherError::Unreachable {
                    endpoint: endpoint.to_string(),
                    reason,
                });
            }
            return Failure::Failed(innermost(error));
        }
        SdkError::ConstructionFailure(_) => return Failure::Failed(innermost(error)),
        _ => {}
    }
    let status = error
        .raw_response()
        .map(|response| response.status().as_u16());
    let code = code_of(error);
    if code.as_deref() == Some("NoSuchBucket") {
        return Failure::NotFound("NoSuchBucket".to_string());
    }
    let mut label = code
        .clone()
        .or_else(|| status.map(|status| format!("HTTP {status}")))
        .unwrap_or_else(|| "no error code".to_string());
    if super::limits::is_throttling(status.unwrap_or_default(), code.as_deref()) {
        // The SDK retried it (adaptive mode) until the attempts ran out.
        label.push_str(": throttled on every attempt; --max-attempts allows more");
    }
    let denied_code = code.as_deref().is_some_and(|code| {
        code.contains("AccessDenied") || code == "UnauthorizedOperation" || code == "Forbidden"
    });
    // moto (and some proxies) answer 403 with a body the SDK cannot parse:
    // any 403 is a denial.
    if status == Some(403) || denied_code {
        return Failure::Denied(label);
    }
    if code
        .as_deref()
        .is_some_and(|code| NOT_FOUND_CODES.contains(&code))
        || status == Some(404)
    {
        return Failure::NotFound(label);
    }
    Failure::Failed(label)
}

/// The deepest cause's message: the part a user can act on ("connection
/// refused", "profile `x` is not defined").
pub(crate) fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    one_line(&deepest(error))
}

fn deepest(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current: &(dyn std::error::Error + 'static) = error;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    if text.is_empty() {
        error.to_string()
    } else {
        text
    }
}

/// From the credential chain's "no credentials found in chain. Attempted:"
/// list, the profile provider's reason (the one a `--profile` user needs),
/// else the first line.
fn credential_chain_reason(text: &str) -> String {
    let disabled = "the credential provider was not enabled";
    text.lines()
        .find_map(|line| line.trim().strip_prefix("Profile: "))
        .map(|reason| reason.trim_start_matches(disabled).trim_start_matches(": "))
        .filter(|reason| !reason.is_empty())
        .map(one_line)
        .unwrap_or_else(|| one_line(text))
}

/// The first line of a message, without a dangling "Attempted:" list
/// (errors are reported on one line).
fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    first
        .trim_end_matches("Attempted:")
        .trim_end()
        .trim_end_matches(['.', ':'])
        .to_string()
}

/// Readers for an organization sweep: one per member account, made from
/// the credentials its member role gave, with the same guard and call log
/// as every other client.
impl Reader {
    /// A reader with `credentials` in place of this one's (same region,
    /// endpoint, timeouts, retries and guard), whose identity is `identity`.
    pub(crate) fn with_credentials(
        &self,
        label: String,
        credentials: aws_sdk_sts::config::Credentials,
        identity: Identity,
    ) -> Self {
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .build();
        self.like(label, sdk, identity)
    }

    /// Another reader with this one's credentials and known `identity`:
    /// the one-bucket readers own the reader they read with, and a sweep
    /// reads many buckets of an account.
    pub(crate) fn sibling(&self, identity: Identity) -> Self {
        self.like(self.label.clone(), self.sdk.clone(), identity)
    }

    fn like(&self, label: String, sdk: SdkConfig, identity: Identity) -> Self {
        let global = sdk
            .to_builder()
            .region(Region::new(FALLBACK_REGION))
            .build();
        let guard = self.guard.clone();
        let limits = self.limits.clone();
        // A member account's requests count against its own quotas.
        let quota_account = identity.account.clone();
        let scope = |region: &str, service: &'static str| Scope {
            account: quota_account.clone(),
            region: region.to_string(),
            service,
        };
        let (iam_scope, orgs_scope) = (scope("global", "iam"), scope("global", "organizations"));
        let sts_scope = scope(
            &sdk.region()
                .map_or_else(|| FALLBACK_REGION.to_string(), ToString::to_string),
            "sts",
        );
        Self {
            label,
            iam: aws_sdk_iam::Client::from_conf(
                fenced!(
                    aws_sdk_iam::config::Builder::from(&global),
                    limits,
                    guard,
                    &iam_scope
                )
                .build(),
            ),
            orgs: aws_sdk_organizations::Client::from_conf(
                fenced!(
                    aws_sdk_organizations::config::Builder::from(&global),
                    limits,
                    guard,
                    &orgs_scope
                )
                .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                fenced!(
                    aws_sdk_sts::config::Builder::from(&sdk),
                    limits,
                    guard,
                    &sts_scope
                )
                .build(),
            ),
            sdk,
            guard,
            limits,
            quota_account,
            path_style: self.path_style,
            setup: ProfileSetup::default(),
            identity: OnceCell::new_with(Some(Ok(identity))),
            s3: Mutex::new(HashMap::new()),
            kms: Mutex::new(HashMap::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_providers_reason_is_kept() {
        let text = "no credentials found in chain. Attempted:\n  Environment: the credential provider was not enabled: environment variable not set\n  Profile: the credential provider was not enabled: profile `zzz` was not defined: could not find source profile zzz\n";
        assert_eq!(
            credential_chain_reason(text),
            "profile `zzz` was not defined: could not find source profile zzz"
        );
    }

    #[test]
    fn messages_are_cut_to_one_line() {
        assert_eq!(
            one_line("no credentials found in chain. Attempted:\n  Environment: not set\n"),
            "no credentials found in chain"
        );
        assert_eq!(one_line("connection refused"), "connection refused");
    }

    /// The guard stops a write before it is serialised, signed or sent (the
    /// endpoint is a closed loopback port in case it did not).
    #[tokio::test]
    async fn the_guard_refuses_writes_before_sending() {
        let guard = ReadOnlyGuard::default();
        let reader = Reader::load(
            None,
            Some("eu-west-1"),
            Some("http://127.0.0.1:9"),
            Duration::from_secs(5),
            guard.clone(),
            &Limits::new(crate::live::LiveLimits::default()),
            None,
        )
        .await;
        let error = reader
            .s3("eu-west-1")
            .delete_bucket()
            .bucket("account-a-bucket")
            .send()
            .await
            .err()
            .map(|error| format!("{:?}", error))
            .unwrap_or_default();
        assert!(
            error.contains("refusing to send S3:DeleteBucket"),
            "{error}"
        );
        let error = reader
            .kms("eu-west-1")
            .disable_key()
            .key_id("1234")
            .send()
            .await
            .err()
            .map(|error| format!("{:?}", error))
            .unwrap_or_default();
        assert!(error.contains("refusing to send KMS:DisableKey"), "{error}");
        assert_eq!(guard.sent.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_operation_list_holds_only_reads() {
        for read in READ_OPERATIONS {
            assert!(
                ["Get", "List", "Describe", "Head"]
                    .iter()
                    .any(|prefix| read.operation.starts_with(prefix)),
                "{read:?}"
            );
            let (service, _) = read.action.split_once(':').unwrap_or_default();
            // S3 Control operations are authorised by `s3:` actions (Service
            // Authorization Reference, Amazon S3), IAM Toolbox's by `iam:`.
            let prefix = match read.service {
                "S3 Control" => "s3".to_string(),
                // A directory bucket's reads are authorized by `s3express:`
                // actions (S3 API Reference, "ListDirectoryBuckets").
                "S3" if service == "s3express" => "s3express".to_string(),
                // IAM Toolbox operations are authorised by `iam:` actions
                // ("GetRequestAuthorizationDetails - IAM Toolbox").
                "IAM Toolbox" => "iam".to_string(),
                other => other.to_ascii_lowercase(),
            };
            assert_eq!(
                service, prefix,
                "{read:?}: the action is of another service"
            );
        }
        assert!(is_allowed("S3", "HeadObject"));
        assert!(!is_allowed("KMS", "HeadObject"), "the service counts");
    }

    #[test]
    fn only_reads_pass_the_guard() {
        for name in [
            "GetBucketPolicy",
            "ListGrants",
            "DescribeKey",
            "HeadObject",
            "GetCallerIdentity",
        ] {
            assert!(is_read_operation(name), "{name}");
        }
        for name in [
            "PutBucketPolicy",
            "CreateGrant",
            "DeleteObject",
            "AssumeRole",
            "DisableKey",
        ] {
            assert!(!is_read_operation(name), "{name}");
        }
    }
}
