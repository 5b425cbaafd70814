//! The argument groups several commands share (what to check, where to
//! read AWS, what to assume, which layers to lay), the value parsers that
//! refuse a bad value with the form to use, and their mapping to the
//! pipeline's library types, which know nothing of clap.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use kms_s3_doctor::pipeline;
use kms_s3_doctor::report::ColorChoice;
use kms_s3_doctor::snapshot::Assumption;

/// What to check: the bucket, object, principal and request.
#[derive(Debug, Args)]
pub struct Selection {
    /// The bucket's name (not `s3://NAME`, not its ARN). Required, except
    /// that `check --event` may take it from the record.
    #[arg(long, value_name = "NAME", value_parser = parse_bucket)]
    pub bucket: Option<String>,
    /// The object key (default: a placeholder key at the bucket's root).
    #[arg(long, value_name = "KEY", value_parser = parse_object)]
    pub object: Option<String>,
    /// IAM user, role, assumed-role session or account root ARN; or a service
    /// principal (`cloudfront.amazonaws.com`), `anonymous`, or a CloudFront
    /// origin access identity ARN (default: the caller).
    #[arg(long, value_name = "ARN", value_parser = parse_word)]
    pub principal: Option<String>,
    /// The principal reaches the bucket by assuming this role.
    #[arg(long, value_name = "ROLE_ARN", value_parser = parse_word)]
    pub via_role: Option<String>,
    /// `sts:ExternalId` sent with `--via-role`.
    #[arg(long, value_name = "ID", requires = "via_role", value_parser = parse_unpadded)]
    pub external_id: Option<String>,
    /// A request-context value (`s3:x-amz-acl=private`, `aws:SourceIp=203.0.113.7`); repeatable.
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    pub context: Vec<(String, String)>,
    /// The request is made by this service with the principal's credentials
    /// (`athena.amazonaws.com`, `glue.amazonaws.com`): sets `aws:CalledVia`,
    /// `aws:ViaAWSService` and the network keys as AWS documents them.
    #[arg(long, value_name = "NAME.amazonaws.com", value_parser = parse_service_principal)]
    pub via_service: Option<String>,
    /// The request goes through this S3 access point (its ARN or alias).
    #[arg(long, value_name = "ARN_OR_ALIAS", value_parser = parse_word)]
    pub access_point: Option<String>,
}

/// A service principal name, `NAME.amazonaws.com`.
fn parse_service_principal(text: &str) -> Result<String, String> {
    pipeline::input::service_principal(text)?;
    Ok(text.to_string())
}

/// Where to read AWS from.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// Profile for the bucket and key account.
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Profile for the principal's account, when it differs.
    #[arg(long, value_name = "P")]
    pub principal_profile: Option<String>,
    /// Profile of an organization's management account or delegated
    /// administrator: SCPs and RCPs of that organization's accounts are read
    /// with it. Repeatable (one per organization).
    #[arg(long = "org-profile", value_name = "P")]
    pub org_profile: Vec<String>,
    /// Region of the AWS clients (the key is always read in its own region).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (a local emulator).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Give up reading AWS after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// Log each AWS call on stderr: service, operation, region, endpoint,
    /// outcome (ok, or the HTTP status and error code) and duration. Never
    /// a credential, signature or session token. `RUST_LOG` is honoured too
    /// (`RUST_LOG=aws_smithy_runtime=debug` shows the SDK's own events).
    #[arg(long)]
    pub debug: bool,
    /// Attempts per AWS read, the first included. Throttled reads and
    /// server errors are retried in the SDK's adaptive mode: jittered
    /// exponential backoff, and a client-side rate that drops while AWS
    /// throttles. A read still failing after them leaves its document
    /// unknown, with the reason.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// AWS requests in flight at once per account, region and service.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub max_concurrency: u32,
    /// Nothing on stderr while reading AWS: no progress bars and no closing
    /// summary (errors are still reported).
    #[arg(long)]
    pub quiet: bool,
    /// Requests per second sent for one AWS operation, per account and
    /// region (`kms:ListGrants=50`); repeatable. Without it, the operations
    /// AWS publishes a quota for keep to that quota (KMS: DescribeKey 2000,
    /// GetKeyPolicy 1000, ListAliases 500, ListGrants 100, ListKeys 500,
    /// ListResourceTags 2000); the others are bounded by --max-concurrency
    /// alone. OPERATION is SERVICE:Operation (s3, s3control, kms, iam, sts,
    /// organizations, iamtoolbox); S3 Control's operations are
    /// `s3control:`. A request waiting for its rate holds no slot.
    #[arg(long = "rate", value_name = "OPERATION=N", value_parser = parse_rate)]
    pub rate: Vec<(String, u32)>,
}

/// `--rate kms:ListGrants=50`.
fn parse_rate(text: &str) -> Result<(String, u32), String> {
    pipeline::rates::request_rate(text)
}

/// What to assume where a document cannot be read. Shared by every command
/// that judges or captures.
#[derive(Debug, Args)]
pub struct AssumeArgs {
    /// Judge a link whose document could not be read as passing, and say so
    /// in the report: scp=allow, rcp=allow, session-policy=none (repeatable
    /// or comma-separated). Never overrides a document that was read.
    #[arg(long = "assume", value_name = "LINK=VALUE", value_delimiter = ',', value_parser = parse_assumption)]
    pub assume: Vec<Assumption>,
}

/// The one session policy of a single principal (`check`, `snapshot`).
#[derive(Debug, Args)]
pub struct SessionPolicyArgs {
    /// The session policy of the role session judged (the `--via-role`
    /// session, else `--principal`): a JSON policy document.
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
}

/// What-if layers laid over what was read, in command-line order (a later
/// one wins).
#[derive(Debug, Args)]
pub struct LayerArgs {
    /// A Terraform or OpenTofu plan (`terraform show -json PLANFILE` output): judge the chain as it will leave it; repeatable.
    #[arg(long, value_name = "FILE")]
    pub plan: Vec<PathBuf>,
    /// A partial snapshot (the snapshot format, any subset of fields) laid over what was read; repeatable.
    #[arg(long, value_name = "FILE")]
    pub overlay: Vec<PathBuf>,
    /// Filled from the command line's order after parsing.
    #[arg(skip)]
    pub order: Vec<pipeline::Layer>,
}

impl LayerArgs {
    /// The layers in the order they were given, from clap's argument
    /// indices (`--plan a --overlay b --plan c` is a, b, c).
    pub fn order_from(&mut self, matches: &clap::ArgMatches) {
        let mut indexed: Vec<(usize, pipeline::Layer)> = Vec::new();
        for (id, make) in [
            (
                "plan",
                pipeline::Layer::Plan as fn(PathBuf) -> pipeline::Layer,
            ),
            (
                "overlay",
                pipeline::Layer::Overlay as fn(PathBuf) -> pipeline::Layer,
            ),
        ] {
            let paths = if id == "plan" {
                &self.plan
            } else {
                &self.overlay
            };
            let indices: Vec<usize> = matches
                .indices_of(id)
                .map(|indices| indices.collect())
                .unwrap_or_default();
            for (position, path) in paths.iter().enumerate() {
                let index = indices.get(position).copied().unwrap_or(usize::MAX);
                indexed.push((index, make(path.clone())));
            }
        }
        indexed.sort_by_key(|(index, _)| *index);
        self.order = indexed.into_iter().map(|(_, layer)| layer).collect();
    }
}

/// The default size limit of a snapshot file read: generous (a snapshot of
/// 100,000 statements is about 40 MB), but an endless input such as
/// `/dev/zero` is refused at once rather than read until memory runs out.
pub const DEFAULT_MAX_SNAPSHOT_MIB: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Text,
    /// The `kms-s3-doctor/report@1` document (see docs/report-format.md).
    Json,
    /// For a ticket or a pull request.
    Markdown,
}

/// `--color auto|always|never`; the AWS CLI's `on` and `off` are accepted
/// too, as people type them out of habit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Only when stdout is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always (also `on`), unless `NO_COLOR` is set.
    #[value(alias = "on")]
    Always,
    /// Never (also `off`).
    #[value(alias = "off")]
    Never,
}

impl Color {
    /// Whether to colour, as the library decides it for the same choice.
    pub fn resolve(self) -> bool {
        ColorChoice::from(self).resolve()
    }
}

impl From<Color> for ColorChoice {
    fn from(color: Color) -> Self {
        match color {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        }
    }
}

/// `--bucket`: a bucket name. The forms people paste from the console or the
/// AWS CLI (`s3://NAME/...`, the bucket ARN) are refused with the name to
/// use, rather than looked up as a bucket that cannot exist.
pub(super) fn parse_bucket(text: &str) -> Result<String, String> {
    if !text.is_empty() {
        pipeline::input::plain_word(text)?;
    }
    let (prefix, rest) = if let Some(rest) = text.strip_prefix("s3://") {
        ("s3://", rest)
    } else if let Some(rest) = text.strip_prefix("arn:aws:s3:::") {
        ("arn:aws:s3:::", rest)
    } else if text.is_empty() {
        return Err("the bucket name is empty".to_string());
    } else {
        return Ok(text.to_string());
    };
    match rest.split_once('/') {
        Some((bucket, key)) if !key.is_empty() => Err(format!(
            "drop the `{prefix}` prefix and give the key apart: --bucket {bucket} --object {key}"
        )),
        Some((bucket, _)) => Err(format!("drop the `{prefix}` prefix: --bucket {bucket}")),
        None => Err(format!("drop the `{prefix}` prefix: --bucket {rest}")),
    }
}

/// `--principal`, `--via-role`: as given, or refused when
/// pasted with whitespace (see `pipeline::input`).
pub(super) fn parse_word(text: &str) -> Result<String, String> {
    pipeline::input::principal_word(text)?;
    Ok(text.to_string())
}

/// `--external-id`: as given, or refused when pasted with whitespace
/// around it.
fn parse_unpadded(text: &str) -> Result<String, String> {
    pipeline::input::unpadded(text)?;
    Ok(text.to_string())
}

/// `--object`: the key alone.
pub(super) fn parse_object(text: &str) -> Result<String, String> {
    pipeline::input::object_key(text)?;
    Ok(text.to_string())
}

/// `snapshot --save-snapshot/--output FILE`: the AWS CLI habit `--output
/// json` would write a snapshot to a file named `json`; the snapshot is
/// always JSON, so ask for a file name instead.
pub fn parse_snapshot_path(text: &str) -> Result<PathBuf, String> {
    if matches!(
        text.to_ascii_lowercase().as_str(),
        "json" | "text" | "table" | "yaml" | "yaml-stream" | "markdown"
    ) {
        return Err(format!(
            "`{text}` looks like an output format; a snapshot is always JSON: give the file to write, e.g. --save-snapshot incident.json"
        ));
    }
    if text.is_empty() {
        return Err("the file name is empty".to_string());
    }
    Ok(PathBuf::from(text))
}

pub(super) fn parse_context(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            let key = key.trim();
            kms_s3_doctor::policy::context_values::validate(key, value)
                .map_err(|error| error.expected_form())?;
            Ok((key.to_string(), value.to_string()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn parse_assumption(text: &str) -> Result<Assumption, String> {
    text.parse()
        .map_err(|_| "expected scp=allow, rcp=allow or session-policy=none".to_string())
}

/// `--snapshot FILE` (with its size limit), else AWS.
pub fn source(
    snapshot: Option<PathBuf>,
    max_snapshot_mib: u64,
    aws_args: &AwsArgs,
    progress: bool,
) -> pipeline::Source {
    match snapshot {
        Some(path) => pipeline::Source::File {
            path,
            limit: max_snapshot_mib.saturating_mul(1 << 20),
        },
        None => pipeline::Source::Aws(aws(aws_args, progress)),
    }
}

pub fn aws(args: &AwsArgs, progress: bool) -> pipeline::Aws {
    pipeline::Aws {
        profile: args.profile.clone(),
        principal_profile: args.principal_profile.clone(),
        org_profiles: args.org_profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        timeout: std::time::Duration::from_secs(args.timeout),
        progress,
        quiet: args.quiet,
        max_attempts: args.max_attempts,
        max_concurrency: args.max_concurrency as usize,
        rates: args.rate.clone(),
    }
}

pub fn selection(args: &Selection) -> pipeline::Selection {
    pipeline::Selection {
        bucket: args.bucket.clone().unwrap_or_default(),
        object: args.object.clone(),
        principal: args.principal.clone(),
        via_role: args.via_role.clone(),
        external_id: args.external_id.clone(),
        context: args.context.clone(),
        via_service: args.via_service.clone(),
        access_point: args.access_point.clone(),
        // Only a record (`--event`) leaves keys open; flags settle them.
        unknown_context: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_urls_and_arns_say_to_drop_the_prefix() {
        assert_eq!(
            parse_bucket("my-bucket").ok(),
            Some("my-bucket".to_string())
        );
        let error = parse_bucket("s3://my-bucket").unwrap_err();
        assert!(error.contains("--bucket my-bucket"), "{error}");
        let error = parse_bucket("s3://my-bucket/").unwrap_err();
        assert!(error.contains("--bucket my-bucket"), "{error}");
        let error = parse_bucket("s3://my-bucket/reports/a.csv").unwrap_err();
        assert!(
            error.contains("--bucket my-bucket --object reports/a.csv"),
            "{error}"
        );
        let error = parse_bucket("arn:aws:s3:::my-bucket").unwrap_err();
        assert!(error.contains("--bucket my-bucket"), "{error}");
    }

    #[test]
    fn a_format_name_is_not_taken_for_a_snapshot_file() {
        assert!(parse_snapshot_path("json").is_err());
        assert!(parse_snapshot_path("incident.json").is_ok());
    }

    #[test]
    fn context_values_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_context("s3:x-amz-grant-read=id=abc").ok(),
            Some(("s3:x-amz-grant-read".to_string(), "id=abc".to_string()))
        );
        assert!(parse_context("aws:SourceIp").is_err());
    }
}
