//! The command line: its definition ([`Cli`]), one module per command, the
//! argument groups they share, the exit-code table and the parsing that
//! keeps the order of `--plan` and `--overlay`. clap lives here and in
//! `main.rs` only; the library takes plain types.

pub mod args;
pub mod can_access;
pub mod check;
pub mod check_authorization;
mod check_event;
pub mod diff;
pub mod exit;
pub mod explain;
pub mod generate;
pub mod logging;
pub mod snapshot;
pub mod snapshot_sweep;
pub mod test;
pub mod who_can;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use args::{Color, Format};
use check::CheckArgs;
use snapshot::SnapshotArgs;
use test::TestArgs;
use who_can::WhoCanArgs;

/// Finds which link of the S3 / SSE-KMS permission chain denies access, and
/// who must change what.
#[derive(Debug, Parser)]
#[command(name = "kms-s3-doctor", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// One value per run, parsed once: boxing the largest variant would buy
// nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge the chain for a principal and a bucket, and print the report.
    Check(CheckArgs),
    /// Read the chain from AWS and save it as a snapshot file, without
    /// judging; or every account of an organization (`--org-profile`,
    /// `--member-role`); or join snapshots (`snapshot merge`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Snapshot(SnapshotArgs),
    /// Judge every expectation of an access-test file (TOML) from one gathering.
    Test(TestArgs),
    /// Judge every principal the snapshot knows for one bucket (object,
    /// access point): who can read or write it, KMS included.
    WhoCan(WhoCanArgs),
    /// Print a shell completion script for the given shell.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) generated from these definitions.
    Man,
    /// What one principal can do over every bucket (and object) of a
    /// snapshot, or over every bucket the profiles' accounts own read from
    /// AWS, KMS included.
    CanAccess(can_access::CanAccessArgs),
    /// What changed between two states (two snapshots, or one with a plan
    /// laid over it): every principal, bucket and operation whose verdict
    /// changed, with an exit code to gate CI on.
    Diff(diff::DiffArgs),
    /// Map an AccessDenied message, or a replication failure (a `FAILED`
    /// replication status, S3's replication failure event), to the link it
    /// points at.
    Explain {
        /// The error message, as AWS or the AWS CLI printed it, or the
        /// replication failure event; `-` reads it from standard input.
        message: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Colour the text output (`auto`: when stdout is a terminal and
        /// `NO_COLOR` is not set).
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
        /// When the message carries an authorization ID: read AWS's record
        /// of the request (IAM Access Troubleshooter) and judge it as
        /// `check --authorization-id` would; otherwise explain the message.
        #[arg(long)]
        fetch: bool,
        /// A pasted CloudTrail record is judged as `check --event` judges
        /// it, against this snapshot (or AWS, with the AWS flags); with
        /// --fetch, the chain is judged from this snapshot instead of AWS.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<std::path::PathBuf>,
        #[command(flatten)]
        aws: args::AwsArgs,
    },
}

/// The command line, with the order of `--plan` and `--overlay` kept.
pub fn parse() -> Result<Cli, clap::Error> {
    // `snapshot --external-id` is also an organization sweep's ExternalId,
    // which needs no `--via-role`: `snapshot::run` checks the pairing.
    let matches = Cli::command()
        .mut_subcommand("snapshot", |snapshot| {
            snapshot.mut_arg("external_id", |arg| {
                arg.requires(clap::builder::Resettable::<clap::Id>::Reset)
            })
        })
        .try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    match (&mut cli.command, matches.subcommand()) {
        (Command::Check(args), Some(("check", sub))) => args.layers.order_from(sub),
        (Command::Test(args), Some(("test", sub))) => args.layers.order_from(sub),
        (Command::WhoCan(args), Some(("who-can", sub))) => args.layers.order_from(sub),
        (Command::CanAccess(args), Some(("can-access", sub))) => args.layers.order_from(sub),
        (Command::Diff(args), Some(("diff", sub))) => args.layers.order_from(sub),
        _ => {}
    }
    Ok(cli)
}

/// A usage error as one line, without its `error: ` prefix: clap's first
/// paragraph, then its suggestions. clap prints those as a `tip:` paragraph
/// after the message, which a first-paragraph cut would lose, and a typo's
/// correction is the most useful part of the error.
pub fn usage_error_line(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let rendered = error.render().to_string();
    let first = rendered
        .split("\n\n")
        .next()
        .unwrap_or("bad usage")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut line = first.strip_prefix("error: ").unwrap_or(&first).to_owned();
    for kind in [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ] {
        let names = match error.get(kind) {
            Some(ContextValue::String(name)) => vec![name.clone()],
            Some(ContextValue::Strings(names)) => names.clone(),
            _ => continue,
        };
        if names.is_empty() {
            continue;
        }
        let names: Vec<_> = names.iter().map(|name| format!("'{name}'")).collect();
        line.push_str(&format!("; did you mean {}?", names.join(" or ")));
    }
    // Other tips (`'check --bucket' exists`, how to pass a value that starts
    // with `-`) as clap words them.
    if let Some(ContextValue::StyledStrs(tips)) = error.get(ContextKind::Suggested) {
        for tip in tips {
            let tip = tip
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            line.push_str(&format!("; tip: {tip}"));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

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
