//! `who-can`: every principal the snapshot knows, judged for one bucket
//! (object, access point) and operations as `check` judges each, printed
//! as a table, JSON, CSV, Markdown or a Graphviz graph.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use kms_s3_doctor::diagnosis::Verdict;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report;
use kms_s3_doctor::reverse::graph::AccessPath;

use super::args::{
    AssumeArgs, AwsArgs, Color, DEFAULT_MAX_SNAPSHOT_MIB, LayerArgs, parse_bucket, parse_context,
    parse_object, parse_word, source,
};
use super::check::parse_operations;
use super::exit::{ExitCode, Failure, finish_output};

#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The bucket's name (not `s3://NAME`, not its ARN).
    #[arg(long, value_name = "NAME", value_parser = parse_bucket)]
    pub bucket: String,
    /// The object key (default: a placeholder key at the bucket's root).
    #[arg(long, value_name = "KEY", value_parser = parse_object)]
    pub object: Option<String>,
    /// The requests go through this S3 access point (its ARN or alias).
    #[arg(long, value_name = "ARN_OR_ALIAS", value_parser = parse_word)]
    pub access_point: Option<String>,
    /// A request-context value every principal's request carries
    /// (`aws:SourceIp=203.0.113.7`); repeatable.
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    pub context: Vec<(String, String)>,
    /// Operations: list, head, get, put, multipart, copy, replicate
    /// (comma-separated; default list,get,put,multipart, as for `check`).
    #[arg(long, value_name = "OPS")]
    pub op: Option<String>,
    /// List only the principals of this standing: `allowed` (at least one
    /// operation allowed), `inconclusive` (none allowed, some unknown) or
    /// `denied` (every operation denied).
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Judge this snapshot offline instead of reading AWS (live: the
    /// bucket's chain and the caller are read, as `check` reads them).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "principal_profile", "org_profile", "region", "endpoint_url"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
    /// Refuse a `--snapshot` file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    pub max_snapshot_size: u64,
    #[command(flatten)]
    pub layers: LayerArgs,
    /// Report format (`--output` is accepted too, as in the AWS CLI, and
    /// means the same).
    #[arg(long, visible_alias = "output", value_enum, default_value_t = WhoCanFormat::Text)]
    pub format: WhoCanFormat,
    /// Colour the text report: `auto` only on a terminal; `NO_COLOR` turns it off.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Also list principals that reach the bucket by assuming a role that
    /// can (`sts:AssumeRole`, judged as `check --via-role` judges it), as
    /// "via ROLE" rows, following chains of up to N roles (0: none).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub assume_depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhoCanFormat {
    /// A table for a terminal, grouped by verdict and account.
    Text,
    /// The `kms-s3-doctor/who-can@1` document.
    Json,
    /// A header row, then one row per principal.
    Csv,
    /// A table and a Mermaid diagram of the paths, for a pull request.
    Markdown,
    /// The paths as a Graphviz graph.
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Only {
    Allowed,
    Inconclusive,
    Denied,
}

impl Only {
    fn verdict(self) -> Verdict {
        match self {
            Only::Allowed => Verdict::Allowed,
            Only::Inconclusive => Verdict::Inconclusive,
            Only::Denied => Verdict::Denied,
        }
    }
}

const DEFAULT_OPERATIONS: &str = "list,get,put,multipart";

/// `who-can`: exit 0 when every row was judged, whatever the verdicts.
pub fn run(args: WhoCanArgs) -> Result<ExitCode, Failure> {
    let operations = parse_operations(args.op.as_deref().unwrap_or(DEFAULT_OPERATIONS))
        .map_err(Failure::bad_input)?;
    let progress = args.format == WhoCanFormat::Text && std::io::stderr().is_terminal();
    let answer = pipeline::reverse::who_can(&pipeline::reverse::WhoCan {
        source: source(args.snapshot, args.max_snapshot_size, &args.aws, progress),
        selection: pipeline::Selection {
            bucket: args.bucket,
            object: args.object,
            access_point: args.access_point,
            context: args.context,
            ..pipeline::Selection::default()
        },
        operations,
        assumptions: args.assume.assume,
        layers: args.layers.order,
        now: None,
        only: args.only.map(Only::verdict),
        assume_depth: args.assume_depth,
    })?;
    let mut rows = answer.rows;
    // Principals that reach the bucket only through roles, as "via ROLE"
    // rows after the direct ones.
    let chains = kms_s3_doctor::reverse::chains::via_rows(
        &answer.snapshot,
        &answer.request,
        &rows,
        args.assume_depth,
    )
    .map_err(|error| Failure::bad_input(error.to_string()))?;
    rows.extend(chains.into_iter().map(|via| via.row));
    if let Some(only) = args.only {
        rows.retain(|row| report::standing(row) == only.verdict());
    }
    let request = &answer.request;
    let paths = match args.format {
        WhoCanFormat::Markdown | WhoCanFormat::Dot => {
            access_paths(&answer.snapshot, request, &rows)
        }
        _ => Vec::new(),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        WhoCanFormat::Text => {
            report::render_who_can_text(&rows, request, &mut out, args.color.resolve())
        }
        WhoCanFormat::Json => writeln!(out, "{}", report::render_who_can_json(&rows, request)),
        WhoCanFormat::Csv => report::render_who_can_csv(&rows, request, &mut out),
        WhoCanFormat::Markdown => report::render_who_can_markdown(&rows, request, &paths, &mut out),
        WhoCanFormat::Dot => report::render_who_can_dot(&paths, &mut out),
    };
    // The process ends soon: the system takes the memory back whole.
    std::mem::forget(answer.snapshot);
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(ExitCode::Allowed)
}

/// At most this many rows are drawn: a diagram of thousands of principals
/// is read by nobody, and each drawn row is judged again in full.
const DRAWN_ROWS: usize = 100;

/// The access paths of the rows drawn (allowed first, as listed): each row
/// judged in full as `check` judges it, through the role it assumes for a
/// "via ROLE" row, so each path runs principal → role → access point →
/// bucket → key with every step marked by its verdict.
fn access_paths(
    snapshot: &kms_s3_doctor::snapshot::Snapshot,
    request: &kms_s3_doctor::reverse::WhoCanRequest,
    rows: &[kms_s3_doctor::reverse::Row],
) -> Vec<AccessPath> {
    let mut paths = Vec::new();
    for row in report::listing_order(rows).into_iter().take(DRAWN_ROWS) {
        let mut check = kms_s3_doctor::reverse::check_request(request, &row.principal);
        // A "via ROLE" row is drawn through the role that reaches the bucket.
        check.via_role = row.via.last().cloned();
        // A row that cannot be judged in full is still in the table; the
        // diagram leaves it out rather than guess its path.
        if let Ok(diagnosis) = pipeline::judge_and_fix(snapshot, &check) {
            paths.extend(AccessPath::from_diagnosis(&diagnosis));
        }
    }
    paths
}
