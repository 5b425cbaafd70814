//! The real binary on the embedded example: the text report (insta snapshot,
//! colours off), exit codes, and one-line errors for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
