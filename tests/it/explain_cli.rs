//! `explain` on the real binary: what people paste (the AWS CLI's HEAD 403
//! and transfer lines, KMS errors relayed by S3), from an argument and from
//! standard input (`explain -`), in text, JSON and Markdown.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    command.env_remove("NO_COLOR");
    command
}

fn run(args: &[&str]) -> Output {
    binary().args(args).output().expect("the binary runs")
}

fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = binary()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().unwrap();
    // The binary may stop reading early (too long); a broken pipe is fine.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

const DOWNLOAD_FAILED: &str = "download failed: s3://account-a-bucket/reports/data.csv to reports/data.csv An error occurred (403) when calling the HeadObject operation: Forbidden";

#[test]
fn a_download_that_failed_on_head_names_bucket_and_key_in_the_check() {
    let output = run(&["explain", DOWNLOAD_FAILED, "--color", "never"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "kms-s3-doctor check --bucket account-a-bucket --object reports/data.csv --op head,get"
        ),
        "{text}"
    );
    assert!(text.contains("s3:ListBucket"), "{text}");
}

/// A snapshot judges only a pasted CloudTrail record: beside any other
/// message it is not silently dropped, the user is told.
#[test]
fn a_snapshot_beside_a_message_that_is_no_record_is_said_to_be_unused() {
    let output = run(&[
        "explain",
        DOWNLOAD_FAILED,
        "--color",
        "never",
        "--snapshot",
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.json"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("this message is not one, so it is explained alone"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("s3:ListBucket"));
}

#[test]
fn explain_dash_reads_standard_input() {
    // Wrapped over lines as a terminal copies it, longer than any one
    // argument needs to be.
    let mut message = String::from(
        "fatal error: An error occurred (403) when calling the\nHeadObject operation: Forbidden\n",
    );
    message.push_str(&" ".repeat(200 * 1024));
    let output = run_with_stdin(&["explain", "-", "--format", "json"], message.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(value["format"], "kms-s3-doctor/explain@1");
    assert_eq!(value["kind"], "head-forbidden");
    assert_eq!(value["error_code"], "403");
    assert_eq!(value["api_operation"], "HeadObject");
}

#[test]
fn explain_dash_refuses_empty_and_endless_input() {
    let output = run_with_stdin(&["explain", "-"], b"\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the message is empty"),
        "{}",
        stderr(&output)
    );

    let output = run_with_stdin(&["explain", "-"], &vec![b'a'; 2 * 1024 * 1024]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("longer than 1048576 bytes"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn markdown_is_markdown() {
    let output = run(&[
        "explain",
        "An error occurred (KMS.DisabledException) when calling the GetObject operation: arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled.",
        "--format",
        "markdown",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("## kms-s3-doctor explain\n"), "{text}");
    assert!(
        text.contains("| code | `KMS.DisabledException` |"),
        "{text}"
    );
    assert!(text.contains("- link: `key-state`"), "{text}");
    assert!(
        text.contains("```sh\nkms-s3-doctor check --bucket BUCKET --op get\n```"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "{text}");
}

#[test]
fn an_upload_relaying_a_kms_not_found_points_at_bucket_encryption() {
    let output = run(&[
        "explain",
        "upload failed: ./config to s3://my-bucket/hi.txt An error occurred (KMS.NotFoundException) when calling the PutObject operation: Invalid keyId aws/s3",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(value["kind"], "alias-not-found");
    assert_eq!(value["link"], "bucket-encryption");
    assert_eq!(value["bucket"], "my-bucket");
    assert_eq!(value["object"], "hi.txt");
}

#[test]
fn an_unknown_text_exits_two_in_every_format() {
    for format in ["text", "json", "markdown"] {
        let output = run(&["explain", "the printer is on fire", "--format", format]);
        assert_eq!(output.status.code(), Some(2), "{format}");
    }
}
