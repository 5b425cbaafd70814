//! `test FILE`: judge every expectation of an access-test file from one
//! gathering (or one snapshot), and report which held.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use kms_s3_doctor::access_tests;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report;

use super::args::{
    AssumeArgs, AwsArgs, Color, DEFAULT_MAX_SNAPSHOT_MIB, LayerArgs, parse_snapshot_path, source,
};
use super::exit::{ExitCode, Failure, finish_output, test_exit_code};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The access-test file (see docs/access-tests.md).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Judge this snapshot offline instead of reading AWS.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "principal_profile", "org_profile", "region", "endpoint_url"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
    /// Also write everything that was read to this snapshot file.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot", value_parser = parse_snapshot_path)]
    pub save_snapshot: Option<PathBuf>,
    /// Refuse a `--snapshot` file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    pub max_snapshot_size: u64,
    #[command(flatten)]
    pub layers: LayerArgs,
    /// Report format (`--output` is accepted too, as in the AWS CLI).
    #[arg(long, visible_alias = "output", value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// Colour the text report: `auto` only on a terminal; `NO_COLOR` turns it off.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Text,
    Json,
    Junit,
    Markdown,
}

/// `test FILE`: one gathering (or one snapshot) for every expectation, then
/// the same judge as `check` per expectation.
pub fn run(args: TestArgs) -> Result<ExitCode, Failure> {
    let junit = args.format == TestFormat::Junit;
    let name = args.file.display().to_string();
    let result = run_file(args);
    if let (true, Err(failure)) = (junit, &result) {
        // CI reads the JUnit file: it gets one, with the reason as an
        // error test case, beside the one-line message on stderr.
        let kind = match failure.code {
            ExitCode::GatherFailed => "gather-failed",
            _ => "bad-input",
        };
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let written = report::render_test_junit_error(&name, kind, &failure.message, &mut out);
        let _ = written.and_then(|()| out.flush());
    }
    result
}

fn run_file(args: TestArgs) -> Result<ExitCode, Failure> {
    let name = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|error| Failure::bad_input(format!("cannot read `{name}`: {error}")))?;
    // `event = "PATH"` is relative to the test file, as a path in a
    // project's own files would be.
    let folder = args
        .file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let read_event = |path: &str| {
        let full = folder.join(path);
        let shown = full.display().to_string();
        std::fs::read_to_string(&full)
            .map(|text| (shown, text))
            .map_err(|error| format!("cannot read `{}`: {error}", full.display()))
    };
    let file = access_tests::parse_with_events(&name, &text, &read_event)
        .map_err(|error| Failure::bad_input(error.to_string()))?;
    let progress = args.format == TestFormat::Text && std::io::stderr().is_terminal();
    let run = pipeline::test(&pipeline::Test {
        file,
        source: source(args.snapshot, args.max_snapshot_size, &args.aws, progress),
        assumptions: args.assume.assume,
        save_snapshot: args.save_snapshot,
        layers: args.layers.order,
        now: None,
        // The JSON report holds every expectation's whole report; the
        // others show a met expectation as its row.
        shown: match args.format {
            TestFormat::Json => access_tests::Shown::Every,
            TestFormat::Text | TestFormat::Markdown | TestFormat::Junit => {
                access_tests::Shown::Rows
            }
        },
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
