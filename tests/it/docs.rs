//! The docs stand on their own: the snapshot format reference names every
//! field the scenario corpus uses and every enumerated value the loader
//! accepts, the report format reference names every field the real binary
//! prints, and nothing in the repository cites a document users do not have.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// Every object key in `value`, recursively, except inside policy documents
/// (their elements are IAM's, not ours) and maps keyed by data (account ids,
/// tags, encryption contexts).
fn keys(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                out.insert(key.clone());
                if matches!(
                    key.as_str(),
                    "document"
                        | "policy"
                        | "trust_policy"
                        | "session_policies"
                        | "tags"
                        | "encryption_context_subset"
                        | "encryption_context_equals"
                        | "statement"
                        | "document_after"
                ) {
                    continue;
                }
                if key == "accounts" || key == "credentials" {
                    for account in inner.as_object().into_iter().flat_map(|map| map.values()) {
                        keys(account, out);
                    }
                    continue;
                }
                keys(inner, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
        _ => {}
    }
}

#[test]
fn the_snapshot_format_names_every_field_and_value() {
    let doc = read("docs/snapshot-format.md");
    let mut fields = BTreeSet::new();
    keys(
        &serde_json::from_str(&read("fixtures/walkthrough.json")).unwrap(),
        &mut fields,
    );
    for entry in std::fs::read_dir(root().join("fixtures/scenarios")).unwrap() {
        let scenario: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        if let Some(snapshot) = scenario.get("snapshot") {
            keys(snapshot, &mut fields);
        }
    }
    assert!(fields.len() > 30, "the corpus walk found too few fields");
    let missing: Vec<&String> = fields
        .iter()
        .filter(|field| !doc.contains(&format!("`{field}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/snapshot-format.md: {missing:?}"
    );

    use kms_s3_doctor::snapshot::{
        ACL_PERMISSIONS, ALGORITHMS, GRANT_OPERATIONS, KEY_STATES, MANAGERS, OWNERSHIPS,
    };
    let values = [
        ALGORITHMS,
        OWNERSHIPS,
        MANAGERS,
        KEY_STATES,
        ACL_PERMISSIONS,
        GRANT_OPERATIONS,
    ];
    let missing: Vec<&&str> = values
        .iter()
        .flat_map(|list| list.iter())
        .filter(|value| !doc.contains(&format!("`{value}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "values not in docs/snapshot-format.md: {missing:?}"
    );
}

/// Every field name in a JSON report, recursively, outside fix statements
/// (IAM's elements).
fn report_fields(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    keys(value, out);
}

#[test]
fn the_report_format_names_every_field_the_binary_prints() {
    let doc = read("docs/report-format.md");
    let directory = tempfile::tempdir().unwrap();
    // A conditional deny (help, fix, changes) and a walkthrough with
    // --expect, between them every field the report has.
    let scenario: serde_json::Value = serde_json::from_str(&read(
        "fixtures/scenarios/r2-cond-source-vpce-deny-without-context.json",
    ))
    .unwrap();
    let vpce = directory.path().join("vpce.json");
    std::fs::write(&vpce, scenario["snapshot"].to_string()).unwrap();
    let walkthrough = root().join("fixtures/walkthrough.json");
    let runs: [Vec<&str>; 3] = [
        vec![
            "--snapshot",
            vpce.to_str().unwrap(),
            "--context",
            "aws:SourceVpce=vpce-999",
        ],
        vec!["--snapshot", vpce.to_str().unwrap()],
        vec![
            "--snapshot",
            walkthrough.to_str().unwrap(),
            "--expect",
            "allowed",
            "--via-role",
            "arn:aws:iam::111111111111:role/partner",
        ],
    ];
    let mut fields = BTreeSet::new();
    for extra in runs {
        let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
            .args([
                "check",
                "--bucket",
                "account-a-bucket",
                "--principal",
                "arn:aws:iam::222222222222:user/dilip",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        report_fields(&report, &mut fields);
    }
    for expected in ["summary", "expect", "expect_met", "help", "fix", "via_role"] {
        assert!(fields.contains(expected), "the runs print no `{expected}`");
    }
    let missing: Vec<&String> = fields
        .iter()
        .filter(|field| !doc.contains(&format!("`{field}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/report-format.md: {missing:?}"
    );
}

/// Files a user reads or a maintainer edits, outside build output.
fn text_files(directory: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | ".git" | "data" | "corpus" | "artifacts" | "node_modules"
            ) {
                text_files(&path, out);
            }
        } else if matches!(
            path.extension().and_then(|extension| extension.to_str()),
            Some("rs" | "md" | "json" | "toml" | "yml" | "yaml")
        ) {
            out.push(path);
        }
    }
}

#[test]
fn nothing_cites_a_document_users_do_not_have() {
    let mut files = Vec::new();
    text_files(&root(), &mut files);
    // Spelled in pieces so that this file does not match itself.
    let section = format!("{}{}", "contract ", '§');
    let upper = format!("{}{}", "CONTR", "ACT");
    let offenders: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.to_lowercase().contains(&section) || text.contains(&upper)
        })
        .map(|path| path.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(offenders.is_empty(), "cite the contract: {offenders:?}");
}

/// A newcomer learns from the README where the source lives and how to
/// install a pinned version, reproducibly.
#[test]
fn the_readme_says_where_the_source_is_and_how_to_pin_a_release() {
    let readme = read("README.md");
    let install = readme
        .split("## Install")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("an Install section");
    for needed in [
        "Git repository",
        "cargo install --path . --locked",
        "cargo install --git",
        "--rev <commit>",
        "--version",
    ] {
        assert!(install.contains(needed), "Install lacks `{needed}`");
    }
}

/// The composite action takes the AWS flags of `kms-s3-doctor test` as
/// inputs and passes each one on, caches the build, and the CI page shows a
/// job across two accounts that uses them.
#[test]
fn the_action_takes_the_aws_flags_caches_the_build_and_ci_shows_two_accounts() {
    let action = read("action.yml");
    let inputs = action
        .split("\ninputs:\n")
        .nth(1)
        .and_then(|rest| rest.split("\noutputs:").next())
        .expect("an inputs block");
    let steps = action.split("\nruns:\n").nth(1).expect("a runs block");
    for (input, flag) in [
        ("profile", "--profile"),
        ("principal-profile", "--principal-profile"),
        ("org-profile", "--org-profile"),
        ("assume", "--assume"),
        ("plan", "--plan"),
    ] {
        assert!(
            inputs.contains(&format!("\n  {input}:\n")),
            "action.yml declares no input `{input}`"
        );
        assert!(
            steps.contains(&format!("${{{{ inputs.{input} }}}}")),
            "action.yml never reads input `{input}`"
        );
        assert!(
            steps.contains(&format!("({flag} \"$")),
            "action.yml never passes `{flag}` a value"
        );
    }
    for cached in [
        "uses: actions/cache@",
        "~/.cargo/registry",
        "~/.cargo/git",
        "Cargo.lock",
        "--target-dir",
    ] {
        assert!(
            steps.contains(cached),
            "action.yml's cache lacks `{cached}`"
        );
    }
    let ci = read("docs/ci.md");
    let job = ci
        .split("### Principals of another account")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a cross-account section in docs/ci.md");
    assert_eq!(
        job.matches("uses: aws-actions/configure-aws-credentials@")
            .count(),
        2,
        "one OIDC role per account"
    );
    for needed in [
        "id-token: write",
        "--profile bucket-account",
        "--profile principal-account",
        "profile: bucket-account",
        "principal-profile: principal-account",
    ] {
        assert!(
            job.contains(needed),
            "the cross-account job lacks `{needed}`"
        );
    }
}
