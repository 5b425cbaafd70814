//! `can-access`: what one principal can do over every bucket (and object)
//! of a snapshot, or of every bucket the profiles' accounts own read live,
//! judged as `check` judges each, and printed as a table, JSON, CSV or
//! Markdown.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::Utc;
use clap::{Args, ValueEnum};

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Verdict;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report::can_access as render;
use kms_s3_doctor::reverse::can_access::can_access;

use super::args::{AssumeArgs, AwsArgs, DEFAULT_MAX_SNAPSHOT_MIB, LayerArgs};
use super::exit::{ExitCode, Failure, finish_output};

#[derive(Debug, Args)]
pub struct CanAccessArgs {
    /// The principal judged: IAM user, role, assumed-role session or
    /// account root ARN, a service principal, or `anonymous`.
    #[arg(long, value_name = "ARN", value_parser = parse_word)]
    pub principal: String,
    /// The principal reaches the buckets by assuming this role.
    #[arg(long, value_name = "ROLE_ARN", value_parser = parse_word)]
    pub via_role: Option<String>,
    /// `sts:ExternalId` sent with `--via-role`.
    #[arg(long, value_name = "ID", requires = "via_role")]
    pub external_id: Option<String>,
    /// A request-context value (`aws:SourceIp=203.0.113.7`); repeatable.
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    pub context: Vec<(String, String)>,
    /// Operations: list, head, get, put, multipart, copy, replicate
    /// (comma-separated; default list,get,put,multipart, as `check`).
    #[arg(long, value_name = "OPS")]
    pub op: Option<String>,
    /// Show only the buckets and objects with at least one operation of
    /// this verdict.
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Judge this snapshot offline instead of reading AWS (live: every
    /// bucket the accounts of `--profile` and `--principal-profile` own is
    /// read, with its keys, and the principal's own documents).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "principal_profile", "org_profile", "region", "endpoint_url"])]
    pub snapshot: Option<PathBuf>,
    /// Live: also write what was read to this snapshot file, to replay it
    /// with `--snapshot` (the file `snapshot --all-buckets` writes).
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot", value_parser = super::args::parse_snapshot_path)]
    pub save_snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
    /// Refuse a `--snapshot` file larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_SNAPSHOT_MIB)]
    pub max_snapshot_size: u64,
    #[command(flatten)]
    pub layers: LayerArgs,
    /// Report format (`--output` is accepted too, as in the AWS CLI).
    #[arg(long, visible_alias = "output", value_enum, default_value_t = ReverseFormat::Text)]
    pub format: ReverseFormat,
}

/// The formats of the reverse questions' reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReverseFormat {
    /// A table for a terminal.
    Text,
    /// The frozen JSON document of the command.
    Json,
    /// One line per resource and operation, for a spreadsheet.
    Csv,
    /// For a ticket or a pull request.
    Markdown,
}

/// `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Only {
    Allowed,
    Inconclusive,
    Denied,
}

impl Only {
    pub fn verdict(self) -> Verdict {
        match self {
            Only::Allowed => Verdict::Allowed,
            Only::Inconclusive => Verdict::Inconclusive,
            Only::Denied => Verdict::Denied,
        }
    }
}

fn parse_word(text: &str) -> Result<String, String> {
    pipeline::input::principal_word(text)?;
    Ok(text.to_string())
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

pub fn run(args: CanAccessArgs) -> Result<ExitCode, Failure> {
    let operations =
        super::check::parse_operations(args.op.as_deref().unwrap_or("list,get,put,multipart"))
            .map_err(Failure::bad_input)?;
    let mut save_failure = None;
    let snapshot = match &args.snapshot {
        Some(path) => pipeline::layered_snapshot(
            path,
            args.max_snapshot_size.saturating_mul(1 << 20),
            &args.assume.assume,
            &args.layers.order,
        )?,
        None => {
            let progress = args.format == ReverseFormat::Text && std::io::stderr().is_terminal();
            let read = pipeline::reverse::can_access_live(&pipeline::reverse::CanAccessLive {
                aws: super::args::aws(&args.aws, progress),
                principal: args.principal.clone(),
                via_role: args.via_role.clone(),
                context: args.context.clone(),
                assumptions: args.assume.assume.clone(),
                save_snapshot: args.save_snapshot.clone(),
                layers: args.layers.order.clone(),
            })?;
            save_failure = read.save_failure;
            read.snapshot
        }
    };
    for (account, info) in &snapshot.accounts {
        if let Some(why) = &info.buckets_error {
            eprintln!(
                "warning: the buckets of account {account} were not listed ({why}); none of them is judged"
            );
        }
    }
    let template = CheckRequest {
        access_point: None,
        bucket: String::new(),
        object: None,
        principal: args.principal,
        via_role: args.via_role,
        external_id: args.external_id,
        operations,
        context: args.context,
        now: Utc::now(),
        via_service: None,
        unknown_context: Vec::new(),
    };
    let answer =
        can_access(&snapshot, &template).map_err(|error| Failure::bad_input(error.to_string()))?;
    let only = args.only.map(Only::verdict);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        ReverseFormat::Text => render::render_text(&answer, only, &mut out),
        ReverseFormat::Json => writeln!(out, "{}", render::render_json(&answer, only)),
        ReverseFormat::Csv => render::render_csv(&answer, only, &mut out),
        ReverseFormat::Markdown => render::render_markdown(&answer, only, &mut out),
    };
    std::mem::forget(snapshot);
    finish_output(written.and_then(|()| out.flush()))?;
    if let Some(failure) = save_failure {
        return Err(failure.into());
    }
    Ok(ExitCode::Allowed)
}
