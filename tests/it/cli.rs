//! The real binary on the embedded example: the text report (insta snapshot,
//! colours off), exit codes, and one-line errors for bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    command.env_remove("NO_COLOR");
    command
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    binary().args(args).output().expect("the binary runs")
}

/// Run from the crate's root with the README's relative path, so that
/// evidence positions (`fixtures/walkthrough.json:23:11`) read as there.
fn walkthrough(extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        "--snapshot",
        "fixtures/walkthrough.json",
        "--bucket",
        "account-a-bucket",
    ];
    args.extend_from_slice(extra);
    binary()
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The README's first command, after `--snapshot` and `--bucket`.
const README_EXAMPLE: [&str; 8] = [
    "--principal",
    "arn:aws:iam::222222222222:user/dilip",
    "--object",
    "reports/data.csv",
    "--op",
    "get,put",
    "--color",
    "never",
];

#[test]
fn the_readme_example_reports_the_key_policy_for_dilip() {
    let output = walkthrough(&README_EXAMPLE);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!("walkthrough_dilip_text", stdout(&output));
}

#[test]
fn the_same_account_user_is_allowed() {
    // Ann is in the bucket's and key's account: the key policy's "Enable IAM
    // User Permissions" root statement delegates to her identity policy
    // (KMS Developer Guide, "Default key policy").
    let output = walkthrough(&[
        "--principal",
        "arn:aws:iam::111111111111:user/ann",
        "--op",
        "list,head",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["format"], "kms-s3-doctor/report@1");
    assert_eq!(report["verdict"], "allowed");
    assert_eq!(report["object"], "kms-s3-doctor-probe");
}

#[test]
fn markdown_names_the_failing_link() {
    let output = walkthrough(&[
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--op",
        "get",
        "--format",
        "markdown",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("key-policy"), "{text}");
    assert!(!text.contains('\u{1b}'), "escape codes in markdown");
}

#[test]
fn expect_turns_the_verdict_into_a_ci_check() {
    let denied = [
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--op",
        "get",
        "--expect",
    ];
    let mut args = denied.to_vec();
    args.push("denied");
    assert_eq!(walkthrough(&args).status.code(), Some(0));
    let mut args = denied.to_vec();
    args.push("allowed");
    assert_eq!(walkthrough(&args).status.code(), Some(1));
}

#[test]
fn no_color_and_color_flags_are_honoured() {
    let args = [
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--op",
        "get",
        "--color",
        "always",
    ];
    let coloured = walkthrough(&args);
    assert!(stdout(&coloured).contains('\u{1b}'));
    let path = fixture("walkthrough.json");
    let mut command = binary();
    command.env("NO_COLOR", "1").args([
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
    ]);
    command.args(args);
    let plain = command.output().unwrap();
    assert!(!stdout(&plain).contains('\u{1b}'));
}

/// Bad input: exit 2, one line on stderr, no panic, no backtrace.
fn assert_one_line_error(output: &Output, expected: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    let text = stderr(output);
    assert_eq!(text.trim_end().lines().count(), 1, "not one line: {text}");
    assert!(text.contains(expected), "`{expected}` not in: {text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn bad_snapshots_are_rejected_with_field_line_and_column() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bad.json");
    let cases: [(&str, &str); 4] = [
        (
            "{\n  \"format\": \"kms-s3-doctor/snapshot@1\",\n  \"buckets\": [\n}",
            "line 4, column 1",
        ),
        (
            "{\"format\": \"kms-s3-doctor/snapshot@9\"}",
            "unknown format `kms-s3-doctor/snapshot@9`",
        ),
        (
            "{\"format\": \"kms-s3-doctor/snapshot@1\",\n \"principals\": [{\"arn\": \"arn:aws:iam::12:user/x\"}]}",
            "/principals/0/arn",
        ),
        (
            "{\"format\": \"kms-s3-doctor/snapshot@1\",\n \"buckets\": [{\"name\": \"b\", \"account\": \"111111111111\",\n  \"policy\": {\"Statement\": [{\"Effect\": \"Alow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}}]}",
            "/buckets/0/policy/Statement/0/Effect",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&path, text).unwrap();
        let output = run(&[
            "check",
            "--snapshot",
            path.to_str().unwrap(),
            "--bucket",
            "b",
            "--principal",
            "111111111111",
        ]);
        assert_one_line_error(&output, expected);
    }
}

#[test]
fn bad_usage_exits_two_with_one_line() {
    assert_one_line_error(
        &walkthrough(&["--principal", "arn:aws:iam::2222:user/dilip"]),
        "--principal",
    );
    assert_one_line_error(
        &walkthrough(&["--principal", "111111111111", "--op", "delete"]),
        "unknown operation `delete`",
    );
    let missing = fixture("does-not-exist.json");
    assert_one_line_error(
        &run(&[
            "check",
            "--snapshot",
            missing.to_str().unwrap(),
            "--bucket",
            "b",
            "--principal",
            "111111111111",
        ]),
        "cannot read snapshot",
    );
    let path = fixture("walkthrough.json");
    assert_one_line_error(
        &run(&[
            "check",
            "--snapshot",
            path.to_str().unwrap(),
            "--bucket",
            "other-bucket",
            "--principal",
            "111111111111",
        ]),
        "bucket `other-bucket` is not in the snapshot",
    );
    // clap's own usage errors are one line too.
    assert_one_line_error(&run(&["check", "--object", "k"]), "--bucket");
}

#[test]
fn a_mistyped_flag_or_subcommand_keeps_clap_did_you_mean_on_one_line() {
    let output = run(&["check", "--buckt", "b"]);
    assert_one_line_error(&output, "did you mean '--bucket'?");
    assert_eq!(
        stderr(&output).trim_end(),
        "error: unexpected argument '--buckt' found; did you mean '--bucket'? \
         (see `kms-s3-doctor --help`)"
    );
    assert_one_line_error(
        &run(&["chek", "--bucket", "b"]),
        "unrecognized subcommand 'chek'; did you mean 'check'?",
    );
    assert_one_line_error(
        &walkthrough(&["--principal", "111111111111", "--format", "jsn"]),
        "did you mean 'json'?",
    );
}

#[test]
fn context_keys_with_multibyte_characters_are_judged_not_panicked_on() {
    // `é` straddles the length of the `s3:x-amz-grant-` prefix.
    let output = walkthrough(&[
        "--principal",
        "arn:aws:iam::111111111111:user/ann",
        "--op",
        "put",
        "--context",
        "s3:x-amz-granté=1",
        "--format",
        "json",
    ]);
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    assert!(matches!(output.status.code(), Some(0 | 1 | 3)));
}

#[test]
fn explain_exits_zero_for_a_known_message_and_two_otherwise() {
    let known = run(&[
        "explain",
        "User: arn:aws:iam::222222222222:user/dilip is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action",
        "--color",
        "never",
    ]);
    assert_eq!(known.status.code(), Some(0));
    assert!(stdout(&known).contains("key-policy"));
    let unknown = run(&["explain", "the printer is on fire"]);
    assert_eq!(unknown.status.code(), Some(2));
}

/// The README shows the output of its first command; it must stay true.
#[test]
fn the_readme_shows_what_the_first_command_prints() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("```\nprincipal  ")
        .expect("the README shows the example's output")
        + "```\n".len();
    let end = start + readme[start..].find("\n```").unwrap();
    let shown = &readme[start..end];
    let output = walkthrough(&README_EXAMPLE);
    assert_eq!(stdout(&output).trim_end(), shown.trim_end());
}

#[test]
fn write_fixes_writes_the_documents_and_a_script_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("fixes");
    let target_text = target.to_str().unwrap();
    let mut args = README_EXAMPLE.to_vec();
    args.extend(["--write-fixes", target_text]);
    let output = walkthrough(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let document = target.join("change-1-key-policy.json");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&document).unwrap()).unwrap();
    let statements = written["Statement"].as_array().unwrap();
    // The key policy as it was (two statements) plus the one added.
    assert_eq!(statements.len(), 3);
    assert_eq!(
        statements[2]["Principal"]["AWS"],
        "arn:aws:iam::222222222222:user/dilip"
    );
    let script = std::fs::read_to_string(target.join("apply.sh")).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    assert!(
        script.contains("aws kms put-key-policy --key-id arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab --policy-name default --policy file://change-1-key-policy.json --region eu-west-1 --profile \"$PROFILE_111111111111\""),
        "{script}"
    );
    assert!(script.contains("${PROFILE_111111111111:?"), "{script}");

    // A second run refuses, before writing anything, and keeps the user's edit.
    std::fs::write(&document, "edited by hand").unwrap();
    let again = walkthrough(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(&document).unwrap(),
        "edited by hand"
    );

    args.push("--force");
    let forced = walkthrough(&args);
    assert_eq!(forced.status.code(), Some(1), "{}", stderr(&forced));
    assert!(
        std::fs::read_to_string(&document)
            .unwrap()
            .contains("user/dilip")
    );
}

/// A scenario's snapshot written to a scratch file, for tests that need a
/// setup the walkthrough does not have.
fn scenario_snapshot(name: &str, directory: &tempfile::TempDir) -> PathBuf {
    let text = std::fs::read_to_string(fixture("scenarios").join(name)).unwrap();
    let scenario: serde_json::Value = serde_json::from_str(&text).unwrap();
    let path = directory.path().join("snapshot.json");
    std::fs::write(&path, scenario["snapshot"].to_string()).unwrap();
    path
}

fn verdict_line(text: &str) -> String {
    text.lines()
        .find(|line| line.starts_with("verdict: "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_verdict_line_names_every_operation_and_what_to_supply() {
    // The bucket policy denies requests outside one VPC endpoint; the
    // caller's endpoint is not known, so `list` and `get` hang on it.
    let directory = tempfile::tempdir().unwrap();
    let path = scenario_snapshot("r2-cond-source-vpce-deny-without-context.json", &directory);
    let base = [
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--object",
        "reports/data.csv",
        "--op",
        "list,get",
        "--color",
        "never",
    ];
    let output = run(&base);
    assert_eq!(output.status.code(), Some(3));
    let expected = "inconclusive — list inconclusive (aws:SourceVpce unknown: --context aws:SourceVpce=…) · get inconclusive (aws:SourceVpce unknown: --context aws:SourceVpce=…)";
    assert_eq!(
        verdict_line(&stdout(&output)),
        format!("verdict: {expected}")
    );

    let mut args = base.to_vec();
    args.extend(["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&run(&args).stdout).unwrap();
    assert_eq!(report["summary"], expected);
    assert_eq!(
        report["operations"][1]["summary"],
        "get inconclusive (aws:SourceVpce unknown: --context aws:SourceVpce=…)"
    );

    let mut args = base.to_vec();
    args.extend(["--format", "markdown"]);
    let markdown = stdout(&run(&args));
    assert!(
        markdown
            .contains("- verdict: **inconclusive** — list inconclusive (aws:SourceVpce unknown"),
        "{markdown}"
    );

    // Allowed and denied operations side by side: each says its own verdict.
    let output = walkthrough(&[
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--color",
        "never",
    ]);
    assert_eq!(
        verdict_line(&stdout(&output)),
        "verdict: denied — list allowed · get denied (key-policy for kms:Decrypt, account 111111111111) · put denied (key-policy for kms:GenerateDataKey, account 111111111111) · multipart denied (key-policy for kms:GenerateDataKey, account 111111111111)"
    );
}

#[test]
fn an_unmet_expectation_says_what_happened_in_one_line() {
    let base = [
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--op",
        "get",
        "--format",
        "json",
        "--expect",
    ];
    let mut args = base.to_vec();
    args.push("allowed");
    let output = walkthrough(&args);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "expected allowed, got denied: key-policy (kms:Decrypt)\n"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["expect"], "allowed");
    assert_eq!(report["expect_met"], false);

    let mut args = base.to_vec();
    args.push("denied");
    let output = walkthrough(&args);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output), "");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["expect"], "denied");
    assert_eq!(report["expect_met"], true);

    // Without --expect the JSON has neither field.
    let output = walkthrough(&base[..base.len() - 1]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report.get("expect").is_none());
    assert!(report.get("expect_met").is_none());
}

#[test]
fn a_bucket_url_says_to_drop_the_prefix() {
    let output = walkthrough(&["--principal", "111111111111"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let path = fixture("walkthrough.json");
    let output = run(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "s3://account-a-bucket",
        "--principal",
        "111111111111",
    ]);
    assert_one_line_error(
        &output,
        "drop the `s3://` prefix: --bucket account-a-bucket",
    );
    let output = run(&[
        "snapshot",
        "--bucket",
        "s3://b/reports/x.csv",
        "--output",
        "x.json",
    ]);
    assert_one_line_error(&output, "--bucket b --object reports/x.csv");
}

#[test]
fn names_not_in_the_snapshot_get_a_did_you_mean() {
    let path = fixture("walkthrough.json");
    let output = run(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "acount-a-bucket",
        "--principal",
        "111111111111",
    ]);
    assert_one_line_error(
        &output,
        "bucket `acount-a-bucket` is not in the snapshot; did you mean `account-a-bucket`?",
    );
    let output = walkthrough(&[
        "--principal",
        "arn:aws:iam::222222222222:user/dillip",
        "--op",
        "list",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("did you mean `arn:aws:iam::222222222222:user/dilip`?"),
        "{notes}"
    );
    // A name with nothing close gets no guess.
    let output = walkthrough(&[
        "--principal",
        "arn:aws:iam::222222222222:user/bob",
        "--op",
        "list",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!report["notes"].to_string().contains("did you mean"));
}

#[test]
fn aws_cli_spellings_of_output_are_accepted() {
    // `--output json` is the AWS CLI's format flag.
    let output = walkthrough(&[
        "--principal",
        "111111111111",
        "--op",
        "list",
        "--output",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["format"], "kms-s3-doctor/report@1");
    // The AWS CLI's `--color on|off`.
    let output = walkthrough(&[
        "--principal",
        "111111111111",
        "--op",
        "list",
        "--color",
        "off",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stdout(&output).contains('\u{1b}'));
    let output = walkthrough(&[
        "--principal",
        "111111111111",
        "--op",
        "list",
        "--color",
        "on",
    ]);
    assert!(stdout(&output).contains('\u{1b}'));
    // `snapshot --output json` would write a file named `json`.
    let output = run(&["snapshot", "--bucket", "b", "--output", "json"]);
    assert_one_line_error(&output, "a snapshot is always JSON");
    // `--save-snapshot` and `--output` are one flag of `snapshot`: giving
    // both is a usage error, not two files.
    let output = run(&[
        "snapshot",
        "--bucket",
        "b",
        "--output",
        "a.json",
        "--save-snapshot",
        "b.json",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn every_flag_shows_help_text() {
    let output = run(&["check", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for flag in ["--region <R>", "--format <FORMAT>", "--color <COLOR>"] {
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} not in help: {help}"));
        // The help text follows the flag on its line, or on the next one.
        let described = line.trim_start().len() > flag.len() + 2
            || help
                .lines()
                .skip_while(|other| *other != line)
                .nth(1)
                .is_some_and(|next| next.starts_with("          ") && !next.trim().is_empty());
        assert!(described, "{flag} has no help: {help}");
    }
}

#[test]
fn a_conditional_deny_is_explained_with_its_condition_and_the_way_past_it() {
    // The bucket policy denies every request outside VPC endpoint
    // vpce-1a2b3c4d; the request comes through vpce-999.
    let directory = tempfile::tempdir().unwrap();
    let path = scenario_snapshot("r2-cond-source-vpce-deny-without-context.json", &directory);
    let output = run(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--object",
        "reports/data.csv",
        "--op",
        "get",
        "--context",
        "aws:SourceVpce=vpce-999",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let link = &report["operations"][0]["actions"][0]["links"][1];
    assert_eq!(link["link"], "bucket-policy");
    assert_eq!(link["status"], "fail");
    let reason = link["reason"].as_str().unwrap();
    assert!(
        reason.contains("`StringNotEquals` `aws:SourceVpce` [vpce-1a2b3c4d] holds, as the request's aws:SourceVpce is vpce-999"),
        "{reason}"
    );
    // Meeting the condition comes first; the statement stays: the change
    // is the caller's request, through the endpoint.
    let help = link["help"].as_str().unwrap();
    assert!(
        help.contains(
            "first meet the condition: send the request through VPC endpoint vpce-1a2b3c4d"
        ),
        "{help}"
    );
    assert!(
        help.find("meet").unwrap() < help.find("narrow").unwrap(),
        "{help}"
    );
    assert_eq!(link["fix"]["change"], "request");
    assert_eq!(
        link["fix"]["flags"],
        serde_json::json!(["--context", "aws:SourceVpce=vpce-1a2b3c4d"])
    );

    // Without the endpoint the same statement is what the link hangs on,
    // with the values it lists.
    let output = run(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--object",
        "reports/data.csv",
        "--op",
        "get",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let reason = report["operations"][0]["actions"][0]["links"][1]["reason"].to_string();
    assert!(
        reason.contains("denies when `StringNotEquals` `aws:SourceVpce` [vpce-1a2b3c4d]"),
        "{reason}"
    );
}

#[test]
fn a_statement_that_names_the_caller_says_which_element_did_not_match() {
    let output = walkthrough(&[
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--op",
        "get",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("statement 1 (`Allow use of the key`) names it but does not list kms:Decrypt in its `Action` (kms:Encrypt, kms:ReEncrypt*, kms:DescribeKey)"),
        "{text}"
    );
    assert!(!text.contains("another action or resource"), "{text}");
}

#[test]
fn an_unread_document_is_said_in_good_grammar() {
    // The walkthrough with its bucket policy not read (the field missing).
    let directory = tempfile::tempdir().unwrap();
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("walkthrough.json")).unwrap())
            .unwrap();
    snapshot["buckets"][0]
        .as_object_mut()
        .unwrap()
        .remove("policy");
    let path = directory.path().join("unread.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    let output = run(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--op",
        "list",
        "--format",
        "json",
    ]);
    let text = stdout(&output);
    assert!(text.contains("the bucket policy was not read"), "{text}");
    assert!(!text.contains("policy were not"), "{text}");
}

#[test]
fn an_identity_policy_that_lists_the_action_says_which_condition_failed() {
    // The identity policy allows S3 and KMS only on resources of account
    // 333333333333 (`aws:ResourceAccount`); the bucket is in 111111111111.
    let directory = tempfile::tempdir().unwrap();
    let path = scenario_snapshot(
        "r2-identity-resource-account-perimeter-other-account.json",
        &directory,
    );
    let output = run(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::222222222222:user/dilip",
        "--object",
        "reports/data.csv",
        "--op",
        "list",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let reason = report["operations"][0]["actions"][0]["links"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("`StringEquals` `aws:ResourceAccount` [333333333333], and the request's aws:ResourceAccount is 111111111111"),
        "{reason}"
    );
}

#[test]
fn a_key_not_in_the_snapshot_gets_a_did_you_mean() {
    // The bucket's default key named with one character wrong.
    let directory = tempfile::tempdir().unwrap();
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("walkthrough.json")).unwrap())
            .unwrap();
    let key = snapshot["keys"][0]["arn"].as_str().unwrap().to_string();
    let typo = format!("{}f", &key[..key.len() - 1]);
    snapshot["buckets"][0]["encryption"]["key"] = serde_json::Value::String(typo.clone());
    let path = directory.path().join("typo.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    let output = run(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        "arn:aws:iam::111111111111:user/ann",
        "--op",
        "put",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "key `{typo}` is not in the snapshot's keys; did you mean `{key}`?"
        )),
        "{notes}"
    );
}

/// A principal, role or external id pasted with whitespace, or an
/// object given as `s3://BUCKET/KEY`, is one line on stderr naming the value
/// to give, exit 2; no report (and no fix) names `user/dilip `. Access-test
/// files are held to the same.
#[test]
fn padded_arns_and_object_urls_are_refused_with_the_value_to_give() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--principal", "arn:aws:iam::222222222222:user/dilip "],
            "give \"arn:aws:iam::222222222222:user/dilip\"",
        ),
        (
            &["--principal", "\tarn:aws:iam::222222222222:user/dilip"],
            "whitespace around it",
        ),
        (
            &[
                "--principal",
                "arn:aws:iam::222222222222:user/dilip",
                "--via-role",
                "arn:aws:iam::111111111111:role/r\n",
            ],
            "whitespace around it",
        ),
        (
            &[
                "--principal",
                "arn:aws:iam::222222222222:user/dilip",
                "--object",
                "s3://account-a-bucket/reports/data.csv",
            ],
            "--object reports/data.csv",
        ),
        (
            &[
                "--principal",
                "arn:aws:iam::222222222222:user/dilip",
                "--object",
                "arn:aws:s3:::account-a-bucket/reports/data.csv",
            ],
            "--object reports/data.csv",
        ),
    ];
    for (extra, expected) in cases {
        let output = walkthrough(extra);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{extra:?}: {err}");
        assert!(stdout(&output).is_empty(), "{extra:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tests.toml");
    std::fs::write(
        &file,
        "bucket = \"account-a-bucket\"\n[[test]]\nname = \"dilip reads\"\nexpect = \"allowed\"\nprincipal = \"arn:aws:iam::222222222222:user/dilip \"\n",
    )
    .unwrap();
    let output = binary()
        .args(["test", "--snapshot", "fixtures/walkthrough.json"])
        .arg(&file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`principal`") && err.contains("whitespace around it"),
        "{err}"
    );
}

/// The verdict line names the remedy for an unread session
/// policy, not just that it is unknown.
#[test]
fn the_verdict_line_names_the_remedy_for_an_unknown_session_policy() {
    let output = walkthrough(&[
        "--principal",
        "arn:aws:sts::111111111111:assumed-role/x/s",
        "--op",
        "get",
    ]);
    let out = stdout(&output);
    let verdict = out
        .lines()
        .find(|line| line.starts_with("verdict:"))
        .unwrap();
    assert!(
        verdict.contains(
            "session-policy unknown: --assume session-policy=none or --session-policy FILE"
        ),
        "{verdict}"
    );
}
