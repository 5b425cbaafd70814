//! The `kms-s3-doctor` command: parses the command line, gathers or loads a
//! snapshot, runs the judge, renders the report and turns the outcome into
//! the contract's exit codes (documented once, in [`ExitCode`]).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::explain;
use kms_s3_doctor::overlay::{self, Overlay, Provenance};
use kms_s3_doctor::report::{self, ColorChoice};
use kms_s3_doctor::snapshot::{SNAPSHOT_FORMAT, Snapshot};

/// Exit codes (contract §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitCode {
    /// Every checked operation is allowed (with `--expect`: the verdict matched).
    Allowed = 0,
    /// At least one operation is denied (with `--expect`: it did not match).
    Denied = 1,
    /// Bad usage or bad input.
    BadInput = 2,
    /// Nothing denied for certain, but some link is unknown.
    Inconclusive = 3,
    /// Could not gather at all (credentials, endpoint, bucket).
    GatherFailed = 4,
}

/// Finds which link of the S3 / SSE-KMS permission chain denies access, and
/// who must change what.
#[derive(Debug, Parser)]
#[command(name = "kms-s3-doctor", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge the chain for a principal and a bucket, and print the report.
    Check(CheckArgs),
    /// Read the chain from AWS and save it as a snapshot file, without judging.
    Snapshot(SnapshotArgs),
    /// Map an AccessDenied message to the link it points at.
    Explain {
        /// The error message, as AWS printed it.
        message: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
}

/// What to check: the bucket, object, principal and request.
#[derive(Debug, Args)]
struct Selection {
    /// The bucket.
    #[arg(long, value_name = "NAME")]
    bucket: String,
    /// The object key (default: a placeholder key at the bucket's root).
    #[arg(long, value_name = "KEY")]
    object: Option<String>,
    /// IAM user, role, assumed-role session or account root ARN (default: the caller).
    #[arg(long, value_name = "ARN")]
    principal: Option<String>,
    /// The principal reaches the bucket by assuming this role.
    #[arg(long, value_name = "ROLE_ARN")]
    via_role: Option<String>,
    /// `sts:ExternalId` sent with `--via-role`.
    #[arg(long, value_name = "ID", requires = "via_role")]
    external_id: Option<String>,
    /// A request-context value (`s3:x-amz-acl=private`, `aws:SourceIp=203.0.113.7`); repeatable.
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    context: Vec<(String, String)>,
}

/// Where to read AWS from.
#[derive(Debug, Args)]
struct AwsArgs {
    /// Profile for the bucket and key account.
    #[arg(long, value_name = "P")]
    profile: Option<String>,
    /// Profile for the principal's account, when it differs.
    #[arg(long, value_name = "P")]
    principal_profile: Option<String>,
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Send every AWS call to this endpoint (a local emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Give up reading AWS after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    selection: Selection,
    /// Operations: list, head, get, put, multipart, copy (comma-separated).
    #[arg(long, value_name = "OPS", default_value = "list,get,put,multipart")]
    op: String,
    /// Judge this snapshot offline instead of reading AWS.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "principal_profile", "region", "endpoint_url"])]
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    aws: AwsArgs,
    /// Also write what was read to this snapshot file.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot")]
    save_snapshot: Option<PathBuf>,
    #[command(flatten)]
    layers: LayerArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 0 when the verdict is this one, 1 when it is not.
    #[arg(long, value_enum)]
    expect: Option<Expect>,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// What-if layers laid over what was read, in command-line order (a later
/// one wins).
#[derive(Debug, Args)]
struct LayerArgs {
    /// A Terraform or OpenTofu plan (`terraform show -json PLANFILE` output): judge the chain as it will leave it; repeatable.
    #[arg(long, value_name = "FILE")]
    plan: Vec<PathBuf>,
    /// A partial snapshot (the snapshot format, any subset of fields) laid over what was read; repeatable.
    #[arg(long, value_name = "FILE")]
    overlay: Vec<PathBuf>,
    /// Filled from the command line's order after parsing.
    #[arg(skip)]
    order: Vec<Layer>,
}

/// One `--plan` or `--overlay` file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layer {
    Plan(PathBuf),
    Overlay(PathBuf),
}

impl LayerArgs {
    /// The layers in the order they were given, from clap's argument
    /// indices (`--plan a --overlay b --plan c` is a, b, c).
    fn order_from(&mut self, matches: &clap::ArgMatches) {
        let mut indexed: Vec<(usize, Layer)> = Vec::new();
        for (id, make) in [
            ("plan", Layer::Plan as fn(PathBuf) -> Layer),
            ("overlay", Layer::Overlay as fn(PathBuf) -> Layer),
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

/// Lays the `--plan` and `--overlay` files over `snapshot` in order: each
/// is read against what the ones before it left.
fn lay_layers(snapshot: &mut Snapshot, layers: &[Layer]) -> Result<Provenance, Failure> {
    let mut overlays: Vec<Overlay> = Vec::new();
    for layer in layers {
        let (path, is_plan) = match layer {
            Layer::Plan(path) => (path, true),
            Layer::Overlay(path) => (path, false),
        };
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| {
            let what = if is_plan { "plan" } else { "overlay" };
            Failure::bad_input(format!("cannot read {what} `{name}`: {error}"))
        })?;
        let next = if is_plan {
            kms_s3_doctor::plan::read(&name, &text, snapshot)
                .map_err(|error| Failure::bad_input(error.to_string()))?
        } else {
            overlay::parse_file(&name, &text, snapshot)
                .map_err(|error| Failure::bad_input(error.to_string()))?
        };
        overlay::lay(snapshot, &next);
        overlays.push(next);
    }
    Ok(overlay::finish(snapshot, &overlays))
}

#[derive(Debug, Args)]
struct SnapshotArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    aws: AwsArgs,
    /// The snapshot file to write.
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Expect {
    Allowed,
    Denied,
}

fn parse_context(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn parse_operations(text: &str) -> Result<Vec<Operation>, String> {
    let mut operations = Vec::new();
    for name in text.split(',').filter(|name| !name.trim().is_empty()) {
        let operation = Operation::parse(name).ok_or_else(|| {
            format!(
                "--op: unknown operation `{}` (expected list, head, get, put, multipart or copy)",
                name.trim()
            )
        })?;
        if !operations.contains(&operation) {
            operations.push(operation);
        }
    }
    if operations.is_empty() {
        return Err("--op: no operation given".to_string());
    }
    Ok(operations)
}

/// A failure that ends the run with a one-line message.
#[derive(Debug)]
struct Failure {
    code: ExitCode,
    message: String,
}

impl Failure {
    fn bad_input(message: impl Into<String>) -> Self {
        Self {
            code: ExitCode::BadInput,
            message: message.into(),
        }
    }
}

/// The command line, with the order of `--plan` and `--overlay` kept.
fn parse_cli() -> Result<Cli, clap::Error> {
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Command::Check(args), Some(("check", sub))) = (&mut cli.command, matches.subcommand()) {
        args.layers.order_from(sub);
    }
    Ok(cli)
}

fn main() {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version.
            let _ = error.print();
            process::exit(0);
        }
        Err(error) => {
            // Usage errors in one line, as every other bad input.
            // clap's message is the first paragraph; usage and tips follow.
            let rendered = error.render().to_string();
            let message = rendered
                .split("\n\n")
                .next()
                .unwrap_or("bad usage")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("error: {message} (see `kms-s3-doctor --help`)");
            process::exit(ExitCode::BadInput as i32);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
    };
    process::exit(code as i32);
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Snapshot(args) => snapshot(args),
        Command::Explain {
            message,
            format,
            color,
        } => explain_message(&message, format, color),
    }
}

fn check(args: CheckArgs) -> Result<ExitCode, Failure> {
    let operations = parse_operations(&args.op).map_err(Failure::bad_input)?;
    let (mut snapshot, principal) = match &args.snapshot {
        Some(path) => {
            let snapshot = load_snapshot(path)?;
            let principal = args
                .selection
                .principal
                .clone()
                .or_else(|| snapshot.caller.clone())
                .ok_or_else(|| {
                    Failure::bad_input(
                        "--principal is required with --snapshot (the snapshot records no caller)",
                    )
                })?;
            (snapshot, principal)
        }
        None => {
            let progress = args.format == Format::Text && std::io::stderr().is_terminal();
            let gathered = gather(&args.selection, &args.aws, progress)?;
            if let Some(path) = &args.save_snapshot {
                write_snapshot(path, &gathered.0)?;
            }
            gathered
        }
    };
    let request = CheckRequest {
        bucket: args.selection.bucket.clone(),
        object: args.selection.object.clone(),
        principal,
        via_role: args.selection.via_role.clone(),
        external_id: args.selection.external_id.clone(),
        operations,
        context: args.selection.context.clone(),
        now: chrono::Utc::now(),
    };
    let provenance = lay_layers(&mut snapshot, &args.layers.order)?;
    let mut diagnosis =
        chain::judge(&snapshot, &request).map_err(|error| Failure::bad_input(error.to_string()))?;
    overlay::annotate(&mut diagnosis, &provenance);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Format::Text => report::render_text(&diagnosis, &mut out, args.color.resolve()),
        Format::Markdown => report::render_markdown(&diagnosis, &mut out),
        Format::Json => writeln!(out, "{}", report::render_json(&diagnosis)),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(exit_code(diagnosis.verdict, args.expect))
}

/// The exit code of a verdict, with `--expect` (contract §3). An
/// inconclusive verdict stays 3 with `--expect`: it neither matches nor
/// contradicts the expectation.
fn exit_code(verdict: Verdict, expect: Option<Expect>) -> ExitCode {
    match (verdict, expect) {
        (Verdict::Inconclusive, _) => ExitCode::Inconclusive,
        (Verdict::Allowed, None) | (Verdict::Allowed, Some(Expect::Allowed)) => ExitCode::Allowed,
        (Verdict::Denied, Some(Expect::Denied)) => ExitCode::Allowed,
        (Verdict::Denied, _) | (Verdict::Allowed, Some(Expect::Denied)) => ExitCode::Denied,
    }
}

/// A closed pipe (`| head`) is not an error for a report.
fn finish_output(result: std::io::Result<()>) -> Result<(), Failure> {
    match result {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Failure::bad_input(format!(
            "cannot write the report: {error}"
        ))),
    }
}

fn snapshot(args: SnapshotArgs) -> Result<ExitCode, Failure> {
    let progress = std::io::stderr().is_terminal();
    let (snapshot, _) = gather(&args.selection, &args.aws, progress)?;
    write_snapshot(&args.output, &snapshot)?;
    Ok(ExitCode::Allowed)
}

fn explain_message(message: &str, format: Format, color: ColorChoice) -> Result<ExitCode, Failure> {
    let explanation = explain::explain(message);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        Format::Json => writeln!(out, "{}", explain::explanation_json(&explanation)),
        _ => explain::render_explanation(&explanation, &mut out, color.resolve()),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(if explanation.recognised {
        ExitCode::Allowed
    } else {
        ExitCode::BadInput
    })
}

fn load_snapshot(path: &Path) -> Result<Snapshot, Failure> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::bad_input(format!("cannot read snapshot `{name}`: {error}")))?;
    Snapshot::parse(&name, &text).map_err(|error| Failure::bad_input(error.to_string()))
}

/// Writes a snapshot without ever destroying a file that is not one: an
/// existing file is replaced only when it is itself a snapshot, and the new
/// text lands by rename so a crash leaves the old file whole.
fn write_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), Failure> {
    let name = path.display();
    if path.exists() {
        let existing = std::fs::read_to_string(path).unwrap_or_default();
        if !existing.contains(SNAPSHOT_FORMAT) {
            return Err(Failure::bad_input(format!(
                "`{name}` exists and is not a kms-s3-doctor snapshot; refusing to overwrite it"
            )));
        }
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    let write = std::fs::write(&temporary, snapshot.to_json() + "\n")
        .and_then(|()| std::fs::rename(&temporary, path));
    write.map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        Failure::bad_input(format!("cannot write snapshot `{name}`: {error}"))
    })
}

#[cfg(feature = "live")]
fn gather(
    selection: &Selection,
    aws: &AwsArgs,
    progress: bool,
) -> Result<(Snapshot, String), Failure> {
    use kms_s3_doctor::live::{GatherRequest, gather};
    let extra_key_ids = selection
        .context
        .iter()
        .filter(|(key, _)| {
            key.eq_ignore_ascii_case("s3:x-amz-server-side-encryption-aws-kms-key-id")
        })
        .map(|(_, value)| value.clone())
        .collect();
    let request = GatherRequest {
        bucket: selection.bucket.clone(),
        object: selection.object.clone(),
        principal: selection.principal.clone(),
        via_role: selection.via_role.clone(),
        extra_key_ids,
        profile: aws.profile.clone(),
        principal_profile: aws.principal_profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        timeout: std::time::Duration::from_secs(aws.timeout),
        progress,
    };
    let gathered = gather(&request).map_err(|error| Failure {
        code: ExitCode::GatherFailed,
        message: error.to_string(),
    })?;
    let mut snapshot = gathered.snapshot;
    snapshot.caller = Some(gathered.principal.clone());
    Ok((snapshot, gathered.principal))
}

#[cfg(not(feature = "live"))]
fn gather(
    _selection: &Selection,
    _aws: &AwsArgs,
    _progress: bool,
) -> Result<(Snapshot, String), Failure> {
    Err(Failure {
        code: ExitCode::GatherFailed,
        message: "this build has no live mode (feature `live`); use --snapshot".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(exit_code(Verdict::Allowed, None), ExitCode::Allowed);
        assert_eq!(exit_code(Verdict::Denied, None), ExitCode::Denied);
        assert_eq!(
            exit_code(Verdict::Inconclusive, None),
            ExitCode::Inconclusive
        );
        assert_eq!(
            exit_code(Verdict::Denied, Some(Expect::Denied)),
            ExitCode::Allowed
        );
        assert_eq!(
            exit_code(Verdict::Allowed, Some(Expect::Denied)),
            ExitCode::Denied
        );
        assert_eq!(
            exit_code(Verdict::Denied, Some(Expect::Allowed)),
            ExitCode::Denied
        );
        assert_eq!(
            exit_code(Verdict::Inconclusive, Some(Expect::Allowed)),
            ExitCode::Inconclusive
        );
    }

    #[test]
    fn operations_are_case_insensitive_and_deduplicated() {
        assert_eq!(
            parse_operations("GET, put,get").ok(),
            Some(vec![Operation::Get, Operation::Put])
        );
        assert!(parse_operations("delete").is_err());
        assert!(parse_operations(",").is_err());
    }

    #[test]
    fn a_snapshot_never_overwrites_a_file_that_is_not_one() {
        let directory = tempfile::tempdir().unwrap();
        let precious = directory.path().join("notes.json");
        std::fs::write(&precious, "{\"mine\": true}").unwrap();
        let snapshot = Snapshot::new(None);
        assert!(write_snapshot(&precious, &snapshot).is_err());
        assert_eq!(
            std::fs::read_to_string(&precious).unwrap(),
            "{\"mine\": true}"
        );
        // An older snapshot is replaced, and no partial file is left behind.
        let old = directory.path().join("incident.json");
        std::fs::write(&old, Snapshot::new(Some("old".into())).to_json()).unwrap();
        write_snapshot(&old, &snapshot).unwrap();
        let written = Snapshot::parse("incident.json", &std::fs::read_to_string(&old).unwrap());
        assert_eq!(written.unwrap().captured_at, None);
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 2);
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
