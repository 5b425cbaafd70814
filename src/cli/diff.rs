//! `diff`: two states of the same accounts compared verdict by verdict
//! (two snapshots, or one with `--plan`/`--overlay` laid over it for the
//! new state), with an exit code a CI job gates on.

use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use clap::{Args, ValueEnum};

use kms_s3_doctor::pipeline;
use kms_s3_doctor::report::diff as render;
use kms_s3_doctor::reverse::diff::{Change, DiffRequest, diff};

use super::args::{AssumeArgs, DEFAULT_MAX_SNAPSHOT_MIB, LayerArgs};
use super::exit::{ExitCode, Failure, finish_output};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// OLD NEW: the snapshot before and the one after. With --plan or
    /// --overlay, one SNAPSHOT: the old state, and the new one is the
    /// layers laid over it.
    #[arg(value_name = "SNAPSHOT", num_args = 1..=2, required = true)]
    pub snapshots: Vec<PathBuf>,
    /// Compare this bucket only; repeatable (default: every bucket of
    /// either state).
    #[arg(long = "bucket", value_name = "NAME")]
    pub buckets: Vec<String>,
    /// Operations: list, head, get, put, multipart, copy, replicate
    /// (comma-separated; default list,get,put,multipart).
    #[arg(long, value_name = "OPS")]
    pub op: Option<String>,
    /// Exit 1 when a change of this kind is found: `gained` (more access
    /// than before, the default), `lost`, or `any`.
    #[arg(long, value_enum, default_value_t = FailOn::Gained)]
    pub fail_on: FailOn,
    /// Report format (`--output` is accepted too, as in the AWS CLI).
    #[arg(long, visible_alias = "output", value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    #[command(flatten)]
    pub layers: LayerArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
    /// Refuse a snapshot file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    pub max_snapshot_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A principal can do something it could not.
    Gained,
    /// A principal can no longer do something it could.
    Lost,
    /// Any verdict changed.
    Any,
}

impl FailOn {
    fn matches(self, change: &Change) -> bool {
        match self {
            FailOn::Gained => change.gained(),
            FailOn::Lost => change.lost(),
            FailOn::Any => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One line per change, for a terminal or a CI log.
    Text,
    /// The `kms-s3-doctor/diff@1` document.
    Json,
    /// For a pull-request comment.
    Markdown,
}

pub fn run(args: DiffArgs) -> Result<ExitCode, Failure> {
    let limit = args.max_snapshot_size.saturating_mul(1 << 20);
    let layered = !args.layers.order.is_empty();
    let (old, new) = match (args.snapshots.as_slice(), layered) {
        ([old, new], false) => (
            pipeline::layered_snapshot(old, limit, &args.assume.assume, &[])?,
            pipeline::layered_snapshot(new, limit, &args.assume.assume, &[])?,
        ),
        ([base], true) => (
            pipeline::layered_snapshot(base, limit, &args.assume.assume, &[])?,
            pipeline::layered_snapshot(base, limit, &args.assume.assume, &args.layers.order)?,
        ),
        ([_], false) => {
            return Err(Failure::bad_input(
                "diff needs two snapshots (OLD NEW), or one snapshot with --plan or --overlay",
            ));
        }
        (_, true) => {
            return Err(Failure::bad_input(
                "with --plan or --overlay, diff takes one snapshot: the layers laid over it are the new state",
            ));
        }
        _ => return Err(Failure::bad_input("diff needs two snapshots (OLD NEW)")),
    };
    let operations =
        super::check::parse_operations(args.op.as_deref().unwrap_or("list,get,put,multipart"))
            .map_err(Failure::bad_input)?;
    let request = DiffRequest {
        buckets: args.buckets,
        operations,
        now: Utc::now(),
        context: Vec::new(),
    };
    let changes =
        diff(&old, &new, &request).map_err(|error| Failure::bad_input(error.to_string()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        DiffFormat::Text => render::render_text(&changes, &mut out),
        DiffFormat::Json => writeln!(out, "{}", render::render_json(&changes)),
        DiffFormat::Markdown => render::render_markdown(&changes, &mut out),
    };
    std::mem::forget((old, new));
    finish_output(written.and_then(|()| out.flush()))?;
    if changes.iter().any(|change| args.fail_on.matches(change)) {
        Ok(ExitCode::Denied)
    } else {
        Ok(ExitCode::Allowed)
    }
}
