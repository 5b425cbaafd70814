//! The `kms-s3-doctor` command: parses the command line, gathers or loads a
//! snapshot, runs the judge, renders the report and turns the outcome into
//! the documented exit codes (once, in [`ExitCode`]; users read them in
//! docs/guide.md).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

mod cli;

use cli::args::{
    AssumeArgs, AwsArgs, Color, DEFAULT_MAX_SNAPSHOT_MIB, Format, LayerArgs, Selection,
    SessionPolicyArgs, aws, parse_snapshot_path, selection, source,
};
use cli::exit::{ExitCode, Failure, exit_code, finish_output, test_exit_code};
use kms_s3_doctor::access_tests;

use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::explain;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report;

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
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
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
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Write each change's whole document and an apply.sh that installs them
    /// into this directory, for review (nothing is sent to AWS).
    #[arg(long, value_name = "DIR")]
    write_fixes: Option<PathBuf>,
    /// With --write-fixes: overwrite files already in the directory.
    #[arg(long, requires = "write_fixes")]
    force: bool,
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
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Expect {
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
    let progress = args.format == Format::Text && std::io::stderr().is_terminal();
    let checked = pipeline::check(&pipeline::Check {
        source: source(args.snapshot, args.max_snapshot_size, &args.aws, progress),
        selection: selection(&args.selection),
        operations,
        assumptions: args.assume.assume,
        session_policy: args.session_policy.session_policy,
        save_snapshot: args.save_snapshot,
        layers: args.layers.order,
        now: None,
    })?;
    let diagnosis = checked.diagnosis;
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
    // The process ends soon: the system takes the memory back whole.
    std::mem::forget(checked.judged_from);
    finish_output(written.and_then(|()| out.flush()))?;
    // A script reads the exit code; the person reading its log reads this.
    if let Some(line) = expected.and_then(|expected| report::expect_mismatch(&diagnosis, expected))
    {
        eprintln!("{line}");
    }
    if let Some(failure) = checked.save_failure {
        return Err(failure.into());
    }
    Ok(exit_code(diagnosis.verdict, args.expect))
}

/// `test FILE`: one gathering (or one snapshot) for every expectation, then
/// the same judge as `check` per expectation.
fn test(args: TestArgs) -> Result<ExitCode, Failure> {
    let name = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|error| Failure::bad_input(format!("cannot read `{name}`: {error}")))?;
    let file =
        access_tests::parse(&name, &text).map_err(|error| Failure::bad_input(error.to_string()))?;
    let progress = args.format == TestFormat::Text && std::io::stderr().is_terminal();
    let run = pipeline::test(&pipeline::Test {
        file,
        source: source(args.snapshot, args.max_snapshot_size, &args.aws, progress),
        assumptions: args.assume.assume,
        save_snapshot: args.save_snapshot,
        layers: args.layers.order,
        now: None,
    })?;
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
    Ok(test_exit_code(run.outcome()))
}

fn snapshot(args: SnapshotArgs) -> Result<ExitCode, Failure> {
    pipeline::capture(&pipeline::Capture {
        aws: aws(&args.aws, std::io::stderr().is_terminal()),
        selection: selection(&args.selection),
        assumptions: args.assume.assume,
        session_policy: args.session_policy.session_policy,
        save_snapshot: args.save_snapshot,
    })?;
    Ok(ExitCode::Allowed)
}

fn explain_message(message: &str, format: Format, color: Color) -> Result<ExitCode, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_case_insensitive_and_deduplicated() {
        assert_eq!(
            parse_operations("GET, put,get").ok(),
            Some(vec![Operation::Get, Operation::Put])
        );
        assert!(parse_operations("delete").is_err());
        assert!(parse_operations(",").is_err());
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
}
