//! Live mode's messages when it cannot start, on the real binary with a
//! private AWS configuration (temporary config and credentials files, no
//! host credentials, no instance metadata) and, where an answer is needed, a
//! loopback server that is not AWS. Nothing here leaves 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::thread;

const CONFIG: &str = "\
[profile a]
region = eu-west-1

[profile noregion]

[profile sso]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = eu-west-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = eu-west-1
";

const CREDENTIALS: &str = "\
[a]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

[noregion]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

/// The binary with only `home`'s AWS files.
fn binary(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ] {
        command.env_remove(name);
    }
    command
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    command
}

fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/config"), CONFIG).unwrap();
    std::fs::write(home.path().join(".aws/credentials"), CREDENTIALS).unwrap();
    home
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A loopback HTTP server answering every request with `response`, until
/// the test ends.
fn serve(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut buffer = [0u8; 65536];
                let mut request = Vec::new();
                // Read the head and whatever body came with it.
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|line| {
                                let (name, value) = line.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    url
}

fn check(home: &Path, args: &[&str]) -> Output {
    binary(home)
        .args(["check", "--bucket", "account-a-bucket", "--timeout", "20"])
        .args(args)
        .output()
        .unwrap()
}

/// Exit 4 and one line on stderr.
fn one_line(output: &Output) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("wJalrXUtnFEMI"), "a secret in: {stderr}");
    stderr
}

#[test]
fn a_profile_that_is_not_defined_names_the_files_that_were_read() {
    let home = home();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let output = check(
        home.path(),
        &["--profile", "nope", "--endpoint-url", &endpoint],
    );
    let message = one_line(&output);
    assert!(
        message.contains("profile `nope` is not in the aws config files"),
        "{message}"
    );
    let config = home.path().join(".aws/config");
    assert!(
        message.contains(&format!("`{}`", config.display())),
        "{message}"
    );
    assert!(message.contains("`a`, `noregion`, `sso`"), "{message}");
    assert!(!message.contains("IMDS"), "{message}");
    assert!(!message.contains("cannot reach"), "{message}");

    // AWS_CONFIG_FILE moves the file the message names; a missing
    // credentials file says so.
    let elsewhere = home.path().join("other-config");
    std::fs::write(&elsewhere, "[profile b]\nregion = eu-west-1\n").unwrap();
    let output = binary(home.path())
        .env("AWS_CONFIG_FILE", &elsewhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .args([
            "check",
            "--bucket",
            "b",
            "--profile",
            "a",
            "--endpoint-url",
            &endpoint,
        ])
        .output()
        .unwrap();
    let message = one_line(&output);
    assert!(
        message.contains(&format!("`{}`", elsewhere.display())),
        "{message}"
    );
    assert!(message.contains("none` (missing)"), "{message}");
    assert!(message.contains("they define `b`"), "{message}");
}

#[test]
fn an_sso_profile_without_a_session_says_to_log_in() {
    let home = home();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let output = check(
        home.path(),
        &["--profile", "sso", "--endpoint-url", &endpoint],
    );
    let message = one_line(&output);
    assert!(
        message.contains("`aws sso login --profile sso`"),
        "{message}"
    );
    assert!(
        message.contains("has expired or was never started"),
        "{message}"
    );
}

#[test]
fn an_endpoint_that_is_not_aws_is_named_as_such() {
    let home = home();
    let web = serve(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: 21\r\nconnection: close\r\n\r\n<html>it works</html>",
    );
    let output = check(home.path(), &["--profile", "a", "--endpoint-url", &web]);
    let message = one_line(&output);
    assert!(message.contains("does not answer as AWS STS"), "{message}");
    assert!(message.contains("HTTP 200 text/html"), "{message}");
    assert!(message.contains("--endpoint-url"), "{message}");
    assert!(!message.contains("no usable aws credentials"), "{message}");

    let missing = serve(
        "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found",
    );
    let output = check(home.path(), &["--profile", "a", "--endpoint-url", &missing]);
    let message = one_line(&output);
    assert!(message.contains("does not answer as AWS STS"), "{message}");
    assert!(message.contains("HTTP 404"), "{message}");
}

/// Keys of another partition sent to us-east-1 because no region is set
/// anywhere: STS rejects the token, and the message says why.
#[test]
fn a_rejected_token_without_a_region_names_the_missing_region() {
    let home = home();
    let sts = serve(
        "HTTP/1.1 403 Forbidden\r\ncontent-type: text/xml\r\nx-amzn-requestid: 0c1d2e3f\r\ncontent-length: 252\r\nconnection: close\r\n\r\n<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>0c1d2e3f</RequestId></ErrorResponse>",
    );
    let output = check(
        home.path(),
        &["--profile", "noregion", "--endpoint-url", &sts],
    );
    let message = one_line(&output);
    assert!(message.contains("InvalidClientTokenId"), "{message}");
    assert!(message.contains("no region is configured"), "{message}");
    assert!(message.contains("pass --region"), "{message}");

    // With a region the same rejection is only the rejection.
    let output = check(
        home.path(),
        &[
            "--profile",
            "noregion",
            "--region",
            "cn-north-1",
            "--endpoint-url",
            &sts,
        ],
    );
    let message = one_line(&output);
    assert!(message.contains("InvalidClientTokenId"), "{message}");
    assert!(!message.contains("no region"), "{message}");
}

/// With no AWS configuration at all (no files, no profile, no
/// credentials in the environment) the message says so and what to do,
/// not that instance metadata failed.
#[test]
fn no_aws_configuration_at_all_is_reported_as_such() {
    let home = tempfile::tempdir().unwrap();
    let output = check(
        home.path(),
        &["--principal", "arn:aws:iam::111111111111:user/a"],
    );
    let message = one_line(&output);
    assert!(message.contains("no AWS configuration found"), "{message}");
    assert!(message.contains("aws configure"), "{message}");
    assert!(message.contains("--snapshot FILE"), "{message}");
    assert!(!message.contains("IMDS"), "{message}");
}
