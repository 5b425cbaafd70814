//! `--write-fixes DIR`: each change's whole document as a file, and an
//! `apply.sh` that runs the commands, for a person to review. Nothing is
//! overwritten unless asked (`--force`), and every file is written whole or
//! not at all.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::diagnosis::Diagnosis;
use crate::fixes::command::profile_variable;

/// Why the fixes could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("`{0}` already exists; pass --force to overwrite it")]
    Exists(PathBuf),
    #[error("`{0}` exists and is not a directory")]
    NotADirectory(PathBuf),
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The script's name in the directory.
pub const SCRIPT: &str = "apply.sh";

/// The edits to make in the Terraform configuration, for the changes to
/// documents a `--plan` resource writes. Not `.tf`: Terraform must not
/// load it if the directory sits in a configuration.
pub const TERRAFORM_FILE: &str = "fixes.tf.txt";

/// How to write the fixes.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Overwrite files already in the directory.
    pub force: bool,
    /// Put in `apply.sh` the changes that widen a guard (`Fix::widens`),
    /// which it otherwise leaves out with a comment saying why.
    pub include_widening: bool,
}

/// Writes the documents and `apply.sh` into `dir` (created if missing) and
/// returns the paths written. Without `force`, refuses before writing
/// anything when one of them exists. Each document is written for review,
/// a widening one too; only the script decides what runs.
pub fn write_fixes(
    dir: &Path,
    diagnosis: &Diagnosis,
    options: WriteOptions,
) -> Result<Vec<PathBuf>, WriteError> {
    let force = options.force;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    if dir.exists() && !dir.is_dir() {
        return Err(WriteError::NotADirectory(dir.to_path_buf()));
    }
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for change in &diagnosis.changes {
        let (Some(file), Some(document)) = (&change.file, &change.document_after) else {
            continue;
        };
        let path = dir.join(file);
        if files.iter().any(|(have, _)| *have == path) {
            continue;
        }
        let text = serde_json::to_string_pretty(document).unwrap_or_default() + "\n";
        files.push((path, text));
    }
    if let Some(text) = terraform_file(diagnosis, options.include_widening) {
        files.push((dir.join(TERRAFORM_FILE), text));
    }
    files.push((
        dir.join(SCRIPT),
        script(diagnosis, options.include_widening),
    ));
    if !force && let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(WriteError::Exists(path.clone()));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for (path, text) in &files {
        // Written beside the target and renamed over it: a file is never
        // left half written.
        let temporary = path.with_extension("partial");
        std::fs::write(&temporary, text).map_err(io(&temporary))?;
        #[cfg(unix)]
        if path.ends_with(SCRIPT) {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o755))
                .map_err(io(&temporary))?;
        }
        std::fs::rename(&temporary, path).map_err(io(path))?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// One line of a shell comment: no line break can end the comment early.
/// `account 111111111111`, or the text as given when it is not an id
/// (`the organization's management account`).
fn account_text(account: &str) -> String {
    if crate::policy::arn::is_account_id(account) {
        format!("account {account}")
    } else {
        account.to_string()
    }
}

fn comment(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// Whether the script runs a change: a change that widens a guard only when
/// asked (`--include-widening`).
fn runs(change: &crate::diagnosis::Fix, include_widening: bool) -> bool {
    change.command.is_some()
        && change.alternative_to.is_none()
        && (include_widening || change.widens.is_empty())
}

/// Why a change to a plan-managed document is not in `fixes.tf.txt`.
fn left_out(change: &crate::diagnosis::Fix) -> String {
    match change.alternative_to {
        Some(first) => format!("an alternative to change {} (either is enough)", first + 1),
        None => format!(
            "it widens a guard ({}); review it and pass --include-widening to include it",
            comment(&change.widens.join(", "))
        ),
    }
}

/// `fixes.tf.txt`: each Terraform edit once (changes to one document share
/// it), under a comment naming the changes; `None` when no change has one.
/// The same changes are left out as from `apply.sh`.
fn terraform_file(diagnosis: &Diagnosis, include_widening: bool) -> Option<String> {
    if diagnosis
        .changes
        .iter()
        .all(|change| change.terraform.is_none())
    {
        return None;
    }
    let mut out = String::from(
        "# Written by kms-s3-doctor for a person to review: the edits to make in the\n# Terraform configuration for documents the plan manages. Each block holds a\n# whole document as the plan resolved it; keep your references and variables.\n",
    );
    let mut done: Vec<&str> = Vec::new();
    for (index, change) in diagnosis.changes.iter().enumerate() {
        let Some(edit) = &change.terraform else {
            continue;
        };
        out.push('\n');
        if change.alternative_to.is_some() || !(include_widening || change.widens.is_empty()) {
            let _ = writeln!(
                out,
                "# change {}: left out: {}",
                index + 1,
                left_out(change)
            );
            continue;
        }
        if done.contains(&edit.hcl.as_str()) {
            let _ = writeln!(out, "# change {}: in the edit above", index + 1);
            continue;
        }
        done.push(&edit.hcl);
        let _ = writeln!(
            out,
            "# change {} ({}): {}",
            index + 1,
            comment(&account_text(&change.account)),
            comment(&format!("edit `{}` in plan `{}`", edit.address, edit.plan))
        );
        if let Some(warning) = &change.warning {
            let _ = writeln!(out, "# {}", comment(warning));
        }
        out.push_str(&edit.hcl);
    }
    Some(out)
}

/// The script: checks that each account's profile variable is set, then one
/// command per document, each under a comment saying what it changes. A
/// change that widens a guard is a comment saying it was left out, and why.
fn script(diagnosis: &Diagnosis, include_widening: bool) -> String {
    let mut out = String::from(
        "#!/bin/sh\n# Written by kms-s3-doctor for a person to review before running it.\n# Each command replaces a whole document in AWS: read every file first.\n# kms-s3-doctor itself never writes to AWS.\nset -eu\ncd \"$(dirname \"$0\")\"\n\n",
    );
    let mut accounts: Vec<&str> = diagnosis
        .changes
        .iter()
        .filter(|change| runs(change, include_widening))
        .filter_map(|change| change.target.as_ref().map(|target| target.account.as_str()))
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    for account in accounts {
        let variable = profile_variable(account);
        let _ = writeln!(
            out,
            ": \"${{{variable}:?set {variable} to a profile of {}'s admin}}\"",
            comment(&account_text(account))
        );
    }
    let mut done: Vec<&str> = Vec::new();
    for (index, change) in diagnosis.changes.iter().enumerate() {
        let number = index + 1;
        let what = change
            .target
            .as_ref()
            .map(|target| format!("{} of {}", target.kind, target.resource))
            .unwrap_or_else(|| change.document.clone());
        out.push('\n');
        if let (Some(first), Some(command)) = (change.alternative_to, &change.command) {
            // Either document is enough: the script installs the first,
            // and names this one for a reader who prefers it.
            let _ = writeln!(
                out,
                "# change {number} ({}): {}: an alternative to change {}, not installed (either is enough); to use it instead, run in its place: {}",
                comment(&account_text(&change.account)),
                comment(&what),
                first + 1,
                comment(command)
            );
            continue;
        }
        if change.command.is_some() && !runs(change, include_widening) {
            let _ = writeln!(
                out,
                "# change {number} ({}): {}: left out, as it widens a guard ({}); review it and pass --include-widening to include it",
                comment(&account_text(&change.account)),
                comment(&what),
                comment(&change.widens.join(", "))
            );
            continue;
        }
        if let Some(edit) = &change.terraform {
            let why = format!(
                "not run here: `{}` in plan `{}` writes this document, and the next terraform apply would undo an AWS CLI change",
                edit.address, edit.plan
            );
            let _ = if change.alternative_to.is_none()
                && (include_widening || change.widens.is_empty())
            {
                writeln!(
                    out,
                    "# change {number} ({}): {}: {why}; make the edit {TERRAFORM_FILE} shows",
                    comment(&account_text(&change.account)),
                    comment(&what)
                )
            } else {
                writeln!(
                    out,
                    "# change {number} ({}): {}: {why}; left out of {TERRAFORM_FILE}: {}",
                    comment(&account_text(&change.account)),
                    comment(&what),
                    left_out(change)
                )
            };
            continue;
        }
        if change.change == crate::diagnosis::FixChange::Request {
            let _ = writeln!(
                out,
                "# change {number} (the caller): no document to change: make the request with {}",
                comment(&crate::report::shell_words(&change.flags))
            );
            continue;
        }
        match (&change.command, &change.file) {
            (Some(command), Some(file)) if done.contains(&file.as_str()) => {
                let _ = writeln!(
                    out,
                    "# change {number} ({}): already in {file} above",
                    comment(&what)
                );
                let _ = command;
            }
            (Some(command), file) => {
                // A command without a file (detaching an SCP) reads none.
                if let Some(file) = file {
                    done.push(file);
                }
                let _ = writeln!(
                    out,
                    "# change {number} ({}): {}",
                    comment(&account_text(&change.account)),
                    comment(&what)
                );
                if let Some(warning) = &change.warning {
                    let _ = writeln!(out, "# {}", comment(warning));
                }
                let _ = writeln!(out, "{command}");
            }
            _ => {
                let _ = writeln!(
                    out,
                    "# change {number} ({}): not a command this script can run: {}",
                    comment(&account_text(&change.account)),
                    comment(
                        change
                            .note_text()
                            .as_deref()
                            .or(change.warning.as_deref())
                            .unwrap_or(&what)
                    )
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::{Fix, FixChange, FixTarget, LinkId, Verdict};

    fn diagnosis() -> Diagnosis {
        let change = Fix {
            account: "111111111111".into(),
            change: FixChange::AddStatement,
            document: "bucket-policy".into(),
            target: Some(Box::new(FixTarget {
                kind: LinkId::BucketPolicy,
                doc: None,
                resource: "b".into(),
                principal: None,
                policy_name: None,
                group: None,
                attached_to: None,
                statement: None,
                sid: None,
                account: "111111111111".into(),
            })),
            document_after: Some(serde_json::json!({"Statement": []})),
            with_changes: vec![0],
            command: Some("aws s3api put-bucket-policy --bucket b --policy file://change-1-bucket-policy.json --profile \"$PROFILE_111111111111\"".into()),
            file: Some("change-1-bucket-policy.json".into()),
            note: Some("line one\nrm -rf /".into()),
            ..Default::default()
        };
        Diagnosis {
            principal: "arn:aws:iam::222222222222:user/d".into(),
            via_role: None,
            bucket: "b".into(),
            object: "k".into(),
            object_is_placeholder: false,
            verdict: Verdict::Denied,
            operations: Vec::new(),
            notes: Vec::new(),
            changes: vec![change],
            recheck: None,
            assumptions: Vec::new(),
        }
    }

    #[test]
    fn a_file_in_the_way_stops_everything_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SCRIPT), "mine").unwrap();
        let error = write_fixes(dir.path(), &diagnosis(), WriteOptions::default()).unwrap_err();
        assert!(matches!(error, WriteError::Exists(_)), "{error}");
        assert!(!dir.path().join("change-1-bucket-policy.json").exists());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(SCRIPT)).unwrap(),
            "mine"
        );
        let written = write_fixes(
            dir.path(),
            &diagnosis(),
            WriteOptions {
                force: true,
                include_widening: false,
            },
        )
        .unwrap();
        assert_eq!(written.len(), 2);
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let error = write_fixes(
            &file,
            &diagnosis(),
            WriteOptions {
                force: true,
                include_widening: false,
            },
        )
        .unwrap_err();
        assert!(matches!(error, WriteError::NotADirectory(_)), "{error}");
    }

    #[test]
    fn a_note_cannot_break_out_of_its_comment() {
        let mut diagnosis = diagnosis();
        diagnosis.changes[0].command = None;
        let script = script(&diagnosis, false);
        assert!(script.contains("line one rm -rf /"), "{script}");
        assert!(
            !script.lines().any(|line| line.starts_with("rm ")),
            "{script}"
        );
    }

    #[test]
    fn a_widening_change_is_left_out_unless_asked() {
        let mut diagnosis = diagnosis();
        diagnosis.changes[0].widens = vec!["aws:PrincipalOrgID".into()];
        let without = script(&diagnosis, false);
        assert!(
            !without.contains("aws s3api put-bucket-policy"),
            "{without}"
        );
        assert!(
            without.contains("left out, as it widens a guard (aws:PrincipalOrgID)"),
            "{without}"
        );
        assert!(!without.contains("PROFILE_111111111111:?"), "{without}");
        let with = script(&diagnosis, true);
        assert!(with.contains("aws s3api put-bucket-policy"), "{with}");
    }
}
