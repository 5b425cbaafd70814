//! The `kms-s3-doctor` command: parses the command line, gathers or loads a
//! snapshot, runs the judge, renders the report and turns the outcome into
//! the documented exit codes (once, in [`ExitCode`]; users read them in
//! docs/guide.md).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use kms_s3_doctor::access_tests::{self, Outcome};

use kms_s3_doctor::chain::assume::{self, Assumption};
use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::explain;
use kms_s3_doctor::report::{self, ColorChoice};
use kms_s3_doctor::snapshot::{PolicyDoc, Snapshot, is_snapshot_text};
use kms_s3_doctor::whatif::overlay::{self, Overlay, Provenance};

/// Exit codes, as docs/guide.md documents them.
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
    /// Judge every expectation of an access-test file (TOML) from one gathering.
    Test(TestArgs),
    /// Print a shell completion script for the given shell.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) generated from these definitions.
    Man,
    /// Map an AccessDenied message to the link it points at.
    Explain {
        /// The error message, as AWS or the AWS CLI printed it; `-` reads it
        /// from standard input.
        message: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Colour the text output (`auto`: when stdout is a terminal and
        /// `NO_COLOR` is not set).
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
}

/// What to check: the bucket, object, principal and request.
#[derive(Debug, Args)]
struct Selection {
    /// The bucket's name (not `s3://NAME`, not its ARN).
    #[arg(long, value_name = "NAME", value_parser = parse_bucket)]
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
    /// Profile of an organization's management account or delegated
    /// administrator: SCPs and RCPs of that organization's accounts are read
    /// with it. Repeatable (one per organization).
    #[arg(long = "org-profile", value_name = "P")]
    org_profile: Vec<String>,
    /// Region of the AWS clients (the key is always read in its own region).
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Send every AWS call to this endpoint (a local emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Give up reading AWS after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
}

/// What to assume where a document cannot be read. Shared by every command
/// that judges or captures.
#[derive(Debug, Args)]
struct AssumeArgs {
    /// Judge a link whose document could not be read as passing, and say so
    /// in the report: scp=allow, rcp=allow, session-policy=none (repeatable
    /// or comma-separated). Never overrides a document that was read.
    #[arg(long = "assume", value_name = "LINK=VALUE", value_delimiter = ',', value_parser = parse_assumption)]
    assume: Vec<Assumption>,
}

/// The one session policy of a single principal (`check`, `snapshot`).
#[derive(Debug, Args)]
struct SessionPolicyArgs {
    /// The session policy of the role session judged (the `--via-role`
    /// session, else `--principal`): a JSON policy document.
    #[arg(long, value_name = "FILE")]
    session_policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    selection: Selection,
    /// Operations: list, head, get, put, multipart, copy (comma-separated).
    #[arg(long, value_name = "OPS", default_value = "list,get,put,multipart")]
    op: String,
    /// Judge this snapshot offline instead of reading AWS.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "principal_profile", "org_profile", "region", "endpoint_url"])]
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    aws: AwsArgs,
    #[command(flatten)]
    assume: AssumeArgs,
    #[command(flatten)]
    session_policy: SessionPolicyArgs,
    /// Also write what was read to this snapshot file, to replay it with `--snapshot`.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot", value_parser = parse_snapshot_path)]
    save_snapshot: Option<PathBuf>,
    /// Refuse a `--snapshot` file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    max_snapshot_size: u64,
    #[command(flatten)]
    layers: LayerArgs,
    /// Report format (`--output` is accepted too, as in the AWS CLI).
    #[arg(long, visible_alias = "output", value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 0 when the verdict is this one, 1 when it is not; a mismatch is also said on stderr.
    #[arg(long, value_enum)]
    expect: Option<Expect>,
    /// Colour the text report: `auto` only on a terminal; `NO_COLOR` turns it off.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Write each change's whole document and an apply.sh that installs them
    /// into this directory, for review (nothing is sent to AWS).
    #[arg(long, value_name = "DIR")]
    write_fixes: Option<PathBuf>,
    /// With --write-fixes: overwrite files already in the directory.
    #[arg(long, requires = "write_fixes")]
    force: bool,
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
            kms_s3_doctor::whatif::plan::read(&name, &text, snapshot)
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
struct TestArgs {
    /// The access-test file (see docs/access-tests.md).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Judge this snapshot offline instead of reading AWS.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "principal_profile", "org_profile", "region", "endpoint_url"])]
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    aws: AwsArgs,
    #[command(flatten)]
    assume: AssumeArgs,
    /// Also write everything that was read to this snapshot file.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot", value_parser = parse_snapshot_path)]
    save_snapshot: Option<PathBuf>,
    /// Refuse a `--snapshot` file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    max_snapshot_size: u64,
    #[command(flatten)]
    layers: LayerArgs,
    /// Report format (`--output` is accepted too, as in the AWS CLI).
    #[arg(long, visible_alias = "output", value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
    /// Colour the text report: `auto` only on a terminal; `NO_COLOR` turns it off.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Json,
    Junit,
    Markdown,
}

#[derive(Debug, Args)]
struct SnapshotArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    aws: AwsArgs,
    #[command(flatten)]
    assume: AssumeArgs,
    #[command(flatten)]
    session_policy: SessionPolicyArgs,
    /// The snapshot file to write (`--output FILE` is accepted too).
    #[arg(long = "save-snapshot", visible_alias = "output", value_name = "FILE", value_parser = parse_snapshot_path)]
    save_snapshot: PathBuf,
}

/// The default size limit of a snapshot file read: generous (a snapshot of
/// 100,000 statements is about 40 MB), but an endless input such as
/// `/dev/zero` is refused at once rather than read until memory runs out.
const DEFAULT_MAX_SNAPSHOT_MIB: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For a terminal.
    Text,
    /// The `kms-s3-doctor/report@1` document (see docs/report-format.md).
    Json,
    /// For a ticket or a pull request.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Expect {
    /// Every operation is allowed.
    Allowed,
    /// At least one operation is denied.
    Denied,
}

impl Expect {
    fn verdict(self) -> Verdict {
        match self {
            Expect::Allowed => Verdict::Allowed,
            Expect::Denied => Verdict::Denied,
        }
    }
}

/// `--bucket`: a bucket name. The forms people paste from the console or the
/// AWS CLI (`s3://NAME/...`, the bucket ARN) are refused with the name to
/// use, rather than looked up as a bucket that cannot exist.
fn parse_bucket(text: &str) -> Result<String, String> {
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

/// `snapshot --save-snapshot/--output FILE`: the AWS CLI habit `--output
/// json` would write a snapshot to a file named `json`; the snapshot is
/// always JSON, so ask for a file name instead.
fn parse_snapshot_path(text: &str) -> Result<PathBuf, String> {
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

fn parse_context(text: &str) -> Result<(String, String), String> {
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
    match (&mut cli.command, matches.subcommand()) {
        (Command::Check(args), Some(("check", sub))) => args.layers.order_from(sub),
        (Command::Test(args), Some(("test", sub))) => args.layers.order_from(sub),
        _ => {}
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
        Command::Test(args) => test(args),
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "kms-s3-doctor", &mut out);
            finish_output(out.flush())?;
            Ok(ExitCode::Allowed)
        }
        Command::Man => {
            let mut out = std::io::stdout().lock();
            let written = clap_mangen::Man::new(Cli::command()).render(&mut out);
            finish_output(written.and_then(|()| out.flush()))?;
            Ok(ExitCode::Allowed)
        }
        Command::Explain {
            message,
            format,
            color,
        } => explain_message(&message, format, color),
    }
}

fn check(args: CheckArgs) -> Result<ExitCode, Failure> {
    let operations = parse_operations(&args.op).map_err(Failure::bad_input)?;
    // A failed save must not swallow the report: it is said after it.
    let mut save_failure = None;
    let mut source_text = None;
    let (snapshot, principal) = match &args.snapshot {
        Some(path) => {
            let (snapshot, text) =
                load_snapshot(path, args.max_snapshot_size.saturating_mul(1 << 20))?;
            source_text = Some((path.display().to_string(), text));
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
            gather(&args.selection, &args.aws, progress)?
        }
    };
    let mut snapshot = snapshot;
    apply_assumptions(
        &mut snapshot,
        &principal,
        &args.selection,
        &args.assume,
        &args.session_policy,
    )?;
    if let Some(path) = &args.save_snapshot {
        save_failure = write_snapshot(path, &snapshot).err();
    }
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
    if let Some((file, text)) = &source_text {
        // Overlaid documents are not in that file: they have no position.
        snapshot.locate_evidence(file, text, &mut diagnosis);
    }
    overlay::annotate(&mut diagnosis, &provenance);
    if let Some(dir) = &args.write_fixes {
        let written = kms_s3_doctor::fixes::write_fixes(dir, &diagnosis, args.force)
            .map_err(|error| Failure::bad_input(format!("--write-fixes: {error}")))?;
        eprintln!(
            "wrote {} file(s) to `{}`: review them, then run {} yourself",
            written.len(),
            dir.display(),
            kms_s3_doctor::fixes::SCRIPT
        );
    }
    let expected = args.expect.map(Expect::verdict);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Format::Text => report::render_text(&diagnosis, &mut out, args.color.resolve()),
        Format::Markdown => report::render_markdown(&diagnosis, &mut out),
        Format::Json => writeln!(
            out,
            "{}",
            report::render_json_expecting(&diagnosis, expected)
        ),
    };
    // The process ends soon: the system takes the memory back whole, where
    // freeing a large snapshot's millions of allocations one by one would
    // cost a tenth of a second.
    std::mem::forget((snapshot, source_text));
    finish_output(written.and_then(|()| out.flush()))?;
    // A script reads the exit code; the person reading its log reads this.
    if let Some(line) = expected.and_then(|expected| report::expect_mismatch(&diagnosis, expected))
    {
        eprintln!("{line}");
    }
    if let Some(failure) = save_failure {
        return Err(failure);
    }
    Ok(exit_code(diagnosis.verdict, args.expect))
}

/// The exit code of a verdict, with `--expect`. An
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

/// `test FILE`: one gathering (or one snapshot) for every expectation, then
/// the same judge as `check` per expectation.
fn test(args: TestArgs) -> Result<ExitCode, Failure> {
    let name = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|error| Failure::bad_input(format!("cannot read `{name}`: {error}")))?;
    let file =
        access_tests::parse(&name, &text).map_err(|error| Failure::bad_input(error.to_string()))?;
    let mut source_text = None;
    let (mut snapshot, caller) = match &args.snapshot {
        Some(path) => {
            let (snapshot, text) =
                load_snapshot(path, args.max_snapshot_size.saturating_mul(1 << 20))?;
            source_text = Some((path.display().to_string(), text));
            let caller = snapshot.caller.clone();
            (snapshot, caller)
        }
        None => {
            let progress = args.format == TestFormat::Text && std::io::stderr().is_terminal();
            let mut gathered = gather_tests(&file, &args.aws, progress)?;
            gathered.0.assume(&args.assume.assume);
            if let Some(path) = &args.save_snapshot {
                write_snapshot(path, &gathered.0)?;
            }
            gathered
        }
    };
    // Assumptions stand in for what could not be read; a value the plan
    // leaves unknown until apply is not that, so the plan comes after.
    snapshot.assume(&args.assume.assume);
    let provenance = lay_layers(&mut snapshot, &args.layers.order)?;
    let mut run = access_tests::run(&file, &snapshot, caller.as_deref(), chrono::Utc::now())
        .map_err(|error| Failure::bad_input(error.to_string()))?;
    for result in &mut run.results {
        if let Some((file, text)) = &source_text {
            // Evidence points into the snapshot file the user has, as for `check`.
            snapshot.locate_evidence(file, text, &mut result.diagnosis);
        }
        overlay::annotate(&mut result.diagnosis, &provenance);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        TestFormat::Text => report::render_test_text(&run, &mut out, args.color.resolve()),
        TestFormat::Markdown => report::render_test_markdown(&run, &mut out),
        TestFormat::Junit => report::render_test_junit(&run, &mut out),
        TestFormat::Json => writeln!(out, "{}", report::render_test_json(&run)),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true") {
        // On stderr, so that stdout stays the report a workflow redirects
        // to a file or the job summary; the runner reads commands there too.
        let mut err = std::io::stderr().lock();
        let _ = report::render_test_annotations(&run, &mut err);
    }
    Ok(match run.outcome() {
        Outcome::Met => ExitCode::Allowed,
        Outcome::Unmet => ExitCode::Denied,
        Outcome::Inconclusive => ExitCode::Inconclusive,
    })
}

fn snapshot(args: SnapshotArgs) -> Result<ExitCode, Failure> {
    let progress = std::io::stderr().is_terminal();
    let (mut snapshot, principal) = gather(&args.selection, &args.aws, progress)?;
    apply_assumptions(
        &mut snapshot,
        &principal,
        &args.selection,
        &args.assume,
        &args.session_policy,
    )?;
    write_snapshot(&args.save_snapshot, &snapshot)?;
    Ok(ExitCode::Allowed)
}

fn explain_message(message: &str, format: Format, color: ColorChoice) -> Result<ExitCode, Failure> {
    let message = match message {
        "-" => explain::read_message(&mut std::io::stdin().lock())
            .map_err(|error| Failure::bad_input(error.to_string()))?,
        text => text.to_string(),
    };
    let explanation = explain::explain(&message);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        Format::Json => writeln!(out, "{}", report::render_explanation_json(&explanation)),
        Format::Markdown => report::render_explanation_markdown(&explanation, &mut out),
        Format::Text => report::render_explanation_text(&explanation, &mut out, color.resolve()),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(if explanation.recognised {
        ExitCode::Allowed
    } else {
        ExitCode::BadInput
    })
}

/// Records `--assume` and `--session-policy` in the snapshot, where the
/// judge reads them and a saved capture keeps them for its replay.
fn apply_assumptions(
    snapshot: &mut Snapshot,
    principal: &str,
    selection: &Selection,
    assumptions: &AssumeArgs,
    session_policy: &SessionPolicyArgs,
) -> Result<(), Failure> {
    snapshot.assume(&assumptions.assume);
    if let Some(path) = &session_policy.session_policy {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| {
            Failure::bad_input(format!("cannot read session policy `{name}`: {error}"))
        })?;
        let policy = PolicyDoc::from_text(&format!("session policy `{name}`"), &text)
            .map_err(|error| Failure::bad_input(format!("--session-policy: {error}")))?;
        assume::supply_session_policy(snapshot, principal, selection.via_role.as_deref(), policy)
            .map_err(|error| Failure::bad_input(error.to_string()))?;
    }
    Ok(())
}

/// Reads a snapshot file. Only regular files are read: a FIFO would block
/// the open until a writer comes, and a device such as `/dev/zero` never
/// ends. At most `limit` bytes are read, so a file that grows while it is
/// read is refused too.
fn load_snapshot(path: &Path, limit: u64) -> Result<(Snapshot, String), Failure> {
    use std::io::Read;
    let name = path.display().to_string();
    let cannot = |error: std::io::Error| {
        Failure::bad_input(format!("cannot read snapshot `{name}`: {error}"))
    };
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(Failure::bad_input(format!(
            "snapshot `{name}` is not a regular file (a pipe or device is not read: save the snapshot to a file first)"
        )));
    }
    let too_large = || {
        Failure::bad_input(format!(
            "snapshot `{name}` is larger than {} MiB; raise the limit with --max-snapshot-size",
            limit >> 20
        ))
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    let text = String::from_utf8(bytes).map_err(|error| {
        Failure::bad_input(format!(
            "snapshot `{name}` is not UTF-8 text (byte {})",
            error.utf8_error().valid_up_to()
        ))
    })?;
    let snapshot =
        Snapshot::parse(&name, &text).map_err(|error| Failure::bad_input(error.to_string()))?;
    Ok((snapshot, text))
}

/// How much of an existing file is read to decide whether it is a snapshot
/// that may be replaced.
const MAX_EXISTING_SNAPSHOT: u64 = 1 << 30;

/// Writes a snapshot without ever destroying a file that is not one: an
/// existing file is replaced only when its parsed `format` says it is a
/// snapshot. The text goes to a uniquely named file created exclusively (no
/// symlink followed) in the target's directory, is flushed to disk, and
/// lands by rename, so a crash leaves the old file whole.
fn write_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), Failure> {
    use std::io::Read;
    let name = path.display();
    let fail = |error: &dyn std::fmt::Display| {
        Failure::bad_input(format!("cannot write snapshot `{name}`: {error}"))
    };
    match std::fs::metadata(path) {
        Ok(metadata) => {
            let mut existing = String::new();
            let readable = metadata.is_file()
                && std::fs::File::open(path)
                    .and_then(|file| {
                        file.take(MAX_EXISTING_SNAPSHOT)
                            .read_to_string(&mut existing)
                    })
                    .is_ok();
            if !readable || !is_snapshot_text(&existing) {
                return Err(Failure::bad_input(format!(
                    "`{name}` exists and is not a kms-s3-doctor snapshot; refusing to overwrite it"
                )));
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink: renaming over it would replace the link,
            // but its owner meant it to point somewhere; refuse.
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(Failure::bad_input(format!(
                    "`{name}` is a symlink to nothing; refusing to replace it"
                )));
            }
        }
        Err(error) => return Err(fail(&error)),
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".to_string());
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".partial")
        .tempfile_in(directory)
        .map_err(|error| fail(&error))?;
    temporary
        .write_all((snapshot.to_json() + "\n").as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|error| fail(&error))?;
    // The temporary file is removed when dropped if the rename fails.
    temporary
        .persist(path)
        .map_err(|error| fail(&error.error))?;
    // The rename itself is durable once the directory is flushed; a
    // directory that cannot be opened (or synced) on this platform is not
    // an error.
    if let Ok(handle) = std::fs::File::open(directory) {
        let _ = handle.sync_all();
    }
    Ok(())
}

#[cfg(feature = "live")]
fn gather(
    selection: &Selection,
    aws: &AwsArgs,
    progress: bool,
) -> Result<(Snapshot, String), Failure> {
    let request = gather_request(selection, aws, progress);
    let gathered = kms_s3_doctor::live::gather(&request).map_err(|error| Failure {
        code: ExitCode::GatherFailed,
        message: error.to_string(),
    })?;
    let mut snapshot = gathered.snapshot;
    snapshot.caller = Some(gathered.principal.clone());
    Ok((snapshot, gathered.principal))
}

/// One gathering for a whole access-test file (the AWS flags as `check`).
#[cfg(feature = "live")]
fn gather_tests(
    file: &access_tests::TestFile,
    aws: &AwsArgs,
    progress: bool,
) -> Result<(Snapshot, Option<String>), Failure> {
    let selection = Selection {
        bucket: String::new(),
        object: None,
        principal: None,
        via_role: None,
        external_id: None,
        context: Vec::new(),
    };
    let base = gather_request(&selection, aws, progress);
    let gathered = access_tests::live::gather(file, &base).map_err(|error| Failure {
        code: ExitCode::GatherFailed,
        message: error.to_string(),
    })?;
    Ok((gathered.snapshot, gathered.caller))
}

#[cfg(not(feature = "live"))]
fn gather_tests(
    _file: &access_tests::TestFile,
    _aws: &AwsArgs,
    _progress: bool,
) -> Result<(Snapshot, Option<String>), Failure> {
    Err(Failure {
        code: ExitCode::GatherFailed,
        message: "this build has no live mode (feature `live`); use --snapshot".to_string(),
    })
}

/// What to read for `selection` with the AWS flags.
#[cfg(feature = "live")]
fn gather_request(
    selection: &Selection,
    aws: &AwsArgs,
    progress: bool,
) -> kms_s3_doctor::live::GatherRequest {
    use kms_s3_doctor::live::GatherRequest;
    let extra_key_ids = selection
        .context
        .iter()
        .filter(|(key, _)| {
            key.eq_ignore_ascii_case("s3:x-amz-server-side-encryption-aws-kms-key-id")
        })
        .map(|(_, value)| value.clone())
        .collect();
    GatherRequest {
        bucket: selection.bucket.clone(),
        object: selection.object.clone(),
        principal: selection.principal.clone(),
        via_role: selection.via_role.clone(),
        extra_key_ids,
        profile: aws.profile.clone(),
        principal_profile: aws.principal_profile.clone(),
        org_profiles: aws.org_profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        timeout: std::time::Duration::from_secs(aws.timeout),
        progress,
    }
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
    fn exit_codes_follow_the_documented_table() {
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

    /// Every flag and argument of every subcommand says what it is for.
    #[test]
    fn every_argument_has_help_text() {
        use clap::CommandFactory;
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            if command.get_about().is_none() && command.get_name() != "help" {
                missing.push(path.clone());
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
        // The walk sees the flags the issue named.
        let check = Cli::command();
        let check = check.find_subcommand("check").unwrap();
        for id in ["region", "format", "color", "bucket"] {
            assert!(check.get_arguments().any(|arg| arg.get_id() == id));
        }
    }

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
    fn a_runbook_naming_the_format_is_not_a_snapshot() {
        let directory = tempfile::tempdir().unwrap();
        let runbook = directory.path().join("runbook.md");
        let text = "# Incidents\n\nSnapshots are `kms-s3-doctor/snapshot@1` files.\n";
        std::fs::write(&runbook, text).unwrap();
        assert!(write_snapshot(&runbook, &Snapshot::new(None)).is_err());
        assert_eq!(std::fs::read_to_string(&runbook).unwrap(), text);
    }

    #[cfg(unix)]
    #[test]
    fn saving_never_touches_a_fixed_partial_name_nor_follows_its_symlink() {
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("incident.json");
        // A user's file at the old fixed temporary name, and a symlink there
        // pointing at another precious file: both stay as they are.
        let partial = directory.path().join("incident.json.partial");
        std::fs::write(&partial, "keep me").unwrap();
        let elsewhere = directory.path().join("elsewhere.txt");
        std::fs::write(&elsewhere, "precious").unwrap();
        let partial_link = directory.path().join("other.json.partial");
        std::os::unix::fs::symlink(&elsewhere, &partial_link).unwrap();
        write_snapshot(&target, &Snapshot::new(None)).unwrap();
        write_snapshot(&directory.path().join("other.json"), &Snapshot::new(None)).unwrap();
        assert_eq!(std::fs::read_to_string(&partial).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "precious");
        assert!(
            std::fs::symlink_metadata(&partial_link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(is_snapshot_text(&std::fs::read_to_string(&target).unwrap()));
        // The three files made above and the two snapshots: no temporary left.
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 5);
    }

    #[cfg(unix)]
    #[test]
    fn pipes_devices_and_oversized_files_are_refused() {
        let directory = tempfile::tempdir().unwrap();
        let error = load_snapshot(Path::new("/dev/zero"), 1 << 20)
            .err()
            .unwrap();
        assert!(
            error.message.contains("not a regular file"),
            "{}",
            error.message
        );
        let big = directory.path().join("big.json");
        std::fs::write(&big, vec![b' '; 2 << 20]).unwrap();
        let error = load_snapshot(&big, 1 << 20).err().unwrap();
        assert!(
            error.message.contains("--max-snapshot-size"),
            "{}",
            error.message
        );
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
