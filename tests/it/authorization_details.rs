//! `check --authorization-id` and `explain --fetch`, end to end through the
//! real binary against a local stand-in for IAM Toolbox
//! (`support::toolbox_server`): moto does not emulate this service, so the
//! stand-in answers with the documented response shapes of
//! "GetRequestAuthorizationDetails - IAM Toolbox". The chain is the S3 User
//! Guide's VPC-endpoint-only bucket policy ("Controlling access from VPC
//! endpoints with bucket policies": every request not through
//! vpce-1a2b3c4d is denied), as `tests/it/events.rs` uses it.

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::toolbox_server::{Answer, ToolboxServer};

const SNAPSHOT: &str = "fixtures/events/vpce-only-bucket.snapshot.json";
const ACCESS_KEY: &str = "AKIAAUTHZTESTEXAMPLE";
const SECRET_KEY: &str = "authzTestSecretKeyThatMustNeverBePrinted0";
const ID: &str = "3kq9x0b7c2d4e6f8g1h5";
const OBJECT: &str = "arn:aws:s3:::account-a-bucket/reports/data.csv";
const BUCKET: &str = "arn:aws:s3:::account-a-bucket";

/// The binary with throw-away credentials and nothing of the host's AWS
/// setup.
fn run(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/kms-s3-doctor/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/kms-s3-doctor/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    // Whatever happened, no credential reaches the output.
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(SECRET_KEY), "secret key printed: {text}");
        assert!(!text.contains(ACCESS_KEY), "access key id printed: {text}");
    }
    output
}

fn check(server: &ToolboxServer, id: &str, extra: &[&str]) -> Output {
    let url = server.url();
    let mut args = vec![
        "check",
        "--snapshot",
        SNAPSHOT,
        "--endpoint-url",
        url.as_str(),
        "--authorization-id",
        id,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not a JSON report ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The request context AWS evaluated for ann's GetObject, from the address
/// `through` names (a VPC endpoint, or the internet).
fn request_context(through_endpoint: bool) -> Value {
    let mut context = json!({
        "aws:PrincipalArn": "arn:aws:iam::111111111111:user/ann",
        "aws:PrincipalAccount": "111111111111",
        "aws:userid": "AIDAANNEXAMPLE",
        "aws:username": "ann",
        "aws:SecureTransport": true,
        "aws:CurrentTime": "2026-11-22T10:15:00Z",
        "aws:RequestedRegion": "eu-west-1",
        "aws:ResourceAccount": "111111111111",
    });
    if through_endpoint {
        context["aws:SourceVpce"] = json!("vpce-1a2b3c4d");
        context["aws:VpcSourceIp"] = json!("10.0.1.25");
    } else {
        context["aws:SourceIp"] = json!("203.0.113.7");
    }
    context
}

fn bucket_policy_info() -> Value {
    json!({
        "type": "RESOURCE_BASED_POLICY",
        "inline": true,
        "uri": BUCKET,
        "attachedTo": [{"arn": BUCKET}]
    })
}

/// AWS denied the GetObject at statement `sid` of the policy `uri`.
fn denied_by(uri: &str, sid: &str) -> Value {
    json!({
        "action": "s3:GetObject",
        "resource": OBJECT,
        "context": {"s3:TlsVersion": "1.3"},
        "evaluatedEffect": "EXPLICIT_DENY",
        "matchedPolicies": [{
            "uri": uri,
            "matchedStatements": [{"sid": sid, "evaluatedEffect": "DENY"}]
        }]
    })
}

fn details_route(body: Value) -> ToolboxServer {
    ToolboxServer::start(Box::new(move |path, _| {
        if path == format!("/authorization-details/{ID}") {
            Answer::ok(body.clone())
        } else {
            Answer::error(404, "ResourceNotFoundException", "no such authorization")
        }
    }))
}

#[test]
fn aws_and_the_tool_agree_on_the_bucket_policys_deny() {
    let server = details_route(json!({
        "requestContext": request_context(false),
        "evaluations": [denied_by(BUCKET, "Access-to-specific-VPCE-only")],
        "policies": [bucket_policy_info()]
    }));
    let output = check(&server, ID, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json_report(&output);
    assert_eq!(report["verdict"], "denied");
    let request = &report["request"];
    assert!(
        request["source"].as_str().unwrap().contains(ID),
        "{request}"
    );
    assert_eq!(request["principal"], "arn:aws:iam::111111111111:user/ann");
    assert_eq!(request["bucket"], "account-a-bucket");
    assert_eq!(request["object"], "reports/data.csv");
    assert_eq!(request["operations"], json!(["get"]));
    assert_eq!(request["context"]["aws:SourceIp"], "203.0.113.7");
    assert_eq!(request["context"]["s3:TlsVersion"], "1.3");
    // A key of the S3 resource is not carried to S3's call to KMS.
    assert!(request["context"].get("aws:ResourceAccount").is_none());
    let evaluation = &report["aws_evaluation"];
    assert_eq!(evaluation["authorization_id"], ID);
    let get = &evaluation["actions"][0];
    assert_eq!(get["action"], "s3:GetObject");
    assert_eq!(get["agreement"], "agree", "{evaluation}");
    assert_eq!(get["aws"]["effect"], "EXPLICIT_DENY");
    assert_eq!(
        get["aws"]["matched_statements"][0]["sid"],
        "Access-to-specific-VPCE-only"
    );
    assert_eq!(get["aws"]["matched_statements"][0]["link"], "bucket-policy");
    assert_eq!(get["tool"]["verdict"], "denied");
    assert_eq!(get["tool"]["link"], "bucket-policy");
    assert_eq!(
        server.requests(),
        vec![format!("/authorization-details/{ID}")]
    );
}

/// AWS denied at a VPC endpoint policy, which no snapshot holds and the
/// tool does not judge (IAM User Guide, "Policy evaluation logic": a VPC
/// endpoint policy's deny ends the evaluation): the chain the tool reads
/// allows the request through the endpoint, and the report says they differ
/// and why, beside a note. AWS's record outranks the documents the tool
/// can see, so the verdict is inconclusive, never allowed.
#[test]
fn a_deny_at_a_vpc_endpoint_policy_differs_from_the_tools_allow() {
    let server = details_route(json!({
        "requestContext": request_context(true),
        "evaluations": [denied_by("vpce-1a2b3c4d-policy", "OnlyApprovedBuckets")],
        "policies": [{
            "type": "VPC_ENDPOINT_POLICY",
            "inline": true,
            "uri": "vpce-1a2b3c4d-policy",
            "attachedTo": [{"arn": "arn:aws:ec2:eu-west-1:111111111111:vpc-endpoint/vpce-1a2b3c4d"}]
        }]
    }));
    let output = check(&server, ID, &["--format", "json"]);
    let report = json_report(&output);
    assert_eq!(report["verdict"], "inconclusive", "{report}");
    assert_eq!(output.status.code(), Some(3), "{report}");
    let get = &report["aws_evaluation"]["actions"][0];
    assert_eq!(get["agreement"], "differ");
    assert_eq!(get["aws"]["matched_statements"][0]["link"], Value::Null);
    assert_eq!(get["tool"]["verdict"], "allowed");
    assert!(
        get["note"].as_str().unwrap().contains("VPC endpoint"),
        "{get}"
    );
    // S3's call to KMS is authorized separately: the tool's side alone.
    let not_evaluated = report["aws_evaluation"]["not_evaluated_by_aws"]
        .as_array()
        .unwrap();
    assert!(
        not_evaluated
            .iter()
            .any(|side| side["action"] == "kms:Decrypt"),
        "{report}"
    );
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|note| note.as_str().unwrap().contains("separate request"))
    );
    // The verdict is the tool's; a note says AWS's was a denial.
    assert!(
        report["notes"].as_array().unwrap().iter().any(|note| note
            .as_str()
            .unwrap()
            .starts_with("AWS denied s3:GetObject")),
        "{report}"
    );

    // The text report lays both sides out.
    let text = check(&server, ID, &[]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("request from authorization ID `{ID}`")),
        "{text}"
    );
    assert!(
        text.contains("AWS's evaluation (authorization ID"),
        "{text}"
    );
    assert!(text.contains("differ"), "{text}");
    let markdown = check(&server, ID, &["--format", "markdown"]);
    let markdown = String::from_utf8_lossy(&markdown.stdout);
    assert!(markdown.contains("| `s3:GetObject` |"), "{markdown}");
}

#[test]
fn every_page_is_read() {
    let server = ToolboxServer::start(Box::new(|path, query| {
        if path != format!("/authorization-details/{ID}") {
            return Answer::error(404, "ResourceNotFoundException", "no such authorization");
        }
        match query {
            None => Answer::ok(json!({
                "requestContext": request_context(false),
                "evaluations": [],
                "policies": [],
                "nextToken": "page2"
            })),
            Some("nextToken=page2") => Answer::ok(json!({
                "requestContext": {},
                "evaluations": [denied_by(BUCKET, "Access-to-specific-VPCE-only")],
                "policies": [bucket_policy_info()]
            })),
            Some(other) => Answer::error(400, "ValidationException", &format!("bad query {other}")),
        }
    }));
    let output = check(&server, ID, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json_report(&output);
    let get = &report["aws_evaluation"]["actions"][0];
    assert_eq!(get["agreement"], "agree");
    assert_eq!(get["aws"]["matched_statements"][0]["link"], "bucket-policy");
    assert_eq!(
        server.requests(),
        vec![
            format!("/authorization-details/{ID}"),
            format!("/authorization-details/{ID}?nextToken=page2"),
        ]
    );
}

#[test]
fn an_expired_id_says_so_and_falls_back_to_the_flags() {
    let server = ToolboxServer::start(Box::new(|_, _| {
        Answer::error(
            404,
            "ResourceNotFoundException",
            "The requested authorization details do not exist in this region or have expired.",
        )
    }));
    let output = check(&server, ID, &[]);
    assert_eq!(output.status.code(), Some(4));
    let error = stderr(&output);
    assert!(error.contains("24 hours"), "{error}");
    assert_eq!(error.trim().lines().count(), 1, "{error}");

    // With the message's facts as flags, those are judged instead.
    let output = check(
        &server,
        ID,
        &[
            "--principal",
            "arn:aws:iam::111111111111:user/ann",
            "--bucket",
            "account-a-bucket",
            "--object",
            "reports/data.csv",
            "--op",
            "get",
            "--context",
            "aws:SourceIp=203.0.113.7",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("judging from the flags alone"));
    let report = json_report(&output);
    assert!(report.get("aws_evaluation").is_none());
}

#[test]
fn a_missing_permission_names_it() {
    let server = ToolboxServer::start(Box::new(|_, _| {
        Answer::error(403, "AccessDeniedException", "not authorized")
    }));
    let output = check(&server, ID, &[]);
    assert_eq!(output.status.code(), Some(4));
    let error = stderr(&output);
    assert!(
        error.contains("iam:GetRequestAuthorizationDetails"),
        "{error}"
    );
}

#[test]
fn throttling_says_to_try_again() {
    let server = ToolboxServer::start(Box::new(|_, _| {
        Answer::error(429, "ThrottlingException", "Rate exceeded")
    }));
    let output = check(&server, ID, &[]);
    assert_eq!(output.status.code(), Some(4));
    let error = stderr(&output);
    assert!(error.contains("throttling"), "{error}");
}

#[test]
fn a_malformed_answer_is_a_gathering_failure() {
    let server = ToolboxServer::start(Box::new(|_, _| Answer::raw(200, "<html>not json")));
    let output = check(&server, ID, &[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot be read"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_endpoint_is_a_gathering_failure() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let output = run(&[
        "check",
        "--snapshot",
        SNAPSHOT,
        "--endpoint-url",
        &url,
        "--timeout",
        "20",
        "--authorization-id",
        ID,
    ]);
    assert_eq!(output.status.code(), Some(4));
    assert!(
        stderr(&output).contains("cannot reach"),
        "{}",
        stderr(&output)
    );
}

/// Access Troubleshooter returns details for other services too; the tool
/// judges S3 requests and S3's calls to KMS only (the IAM User Guide's
/// example is `iam:CreateInstanceProfile`).
#[test]
fn details_of_another_service_are_refused_in_one_line() {
    let server = details_route(json!({
        "requestContext": request_context(false),
        "evaluations": [{
            "action": "iam:CreateInstanceProfile",
            "resource": "arn:aws:iam::111111111111:instance-profile/my-instance-profile",
            "evaluatedEffect": "EXPLICIT_DENY",
            "matchedPolicies": []
        }],
        "policies": []
    }));
    let output = check(&server, ID, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("iam:CreateInstanceProfile"));
}

#[test]
fn an_id_aws_could_not_have_issued_is_bad_input_before_any_call() {
    let server = details_route(json!({}));
    let output = check(&server, "EXAMPLE1a2b3c4d5e6f7g8h9i0j", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("lowercase letters and digits"));
    assert!(server.requests().is_empty());
}

#[test]
fn explain_fetch_judges_the_request_of_the_messages_id() {
    let server = details_route(json!({
        "requestContext": request_context(false),
        "evaluations": [denied_by(BUCKET, "Access-to-specific-VPCE-only")],
        "policies": [bucket_policy_info()]
    }));
    let message = format!(
        "User: arn:aws:iam::111111111111:user/ann is not authorized to perform: s3:GetObject on resource: \"{OBJECT}\" with an explicit deny in a resource-based policy. Go to https://eu-west-1.console.aws.amazon.com/iam/home?region=eu-west-1#/authorization-details/{ID} for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: {ID}"
    );
    let url = server.url();
    let output = run(&[
        "explain",
        &message,
        "--fetch",
        "--snapshot",
        SNAPSHOT,
        "--endpoint-url",
        &url,
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json_report(&output);
    assert_eq!(report["aws_evaluation"]["actions"][0]["agreement"], "agree");

    // Without --fetch, the message is explained and the check suggested.
    let output = run(&["explain", &message]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(&format!(
            "kms-s3-doctor check --authorization-id {ID} --region eu-west-1"
        )),
        "{text}"
    );
}

#[test]
fn explain_fetch_without_an_id_explains_the_message() {
    let server = details_route(json!({}));
    let url = server.url();
    let output = run(&[
        "explain",
        "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",
        "--fetch",
        "--snapshot",
        SNAPSHOT,
        "--endpoint-url",
        &url,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("carries no authorization ID"));
    assert!(server.requests().is_empty());
}

#[test]
fn the_debug_log_names_the_call_and_no_credential() {
    let server = details_route(json!({
        "requestContext": request_context(false),
        "evaluations": [denied_by(BUCKET, "Access-to-specific-VPCE-only")],
        "policies": [bucket_policy_info()]
    }));
    let output = check(&server, ID, &["--debug", "--format", "json"]);
    let error = stderr(&output);
    assert!(error.contains("GetRequestAuthorizationDetails"), "{error}");
}

#[test]
fn explain_fetch_explains_the_message_when_the_record_is_gone() {
    let server = ToolboxServer::start(Box::new(|_, _| {
        Answer::error(404, "ResourceNotFoundException", "expired")
    }));
    let message = format!(
        "User: arn:aws:iam::111111111111:user/ann is not authorized to perform: s3:GetObject on resource: \"{OBJECT}\" with an explicit deny in a resource-based policy. Go to https://eu-west-1.console.aws.amazon.com/iam/home?region=eu-west-1#/authorization-details/{ID} for complete details"
    );
    let url = server.url();
    let output = run(&[
        "explain",
        &message,
        "--fetch",
        "--snapshot",
        SNAPSHOT,
        "--endpoint-url",
        &url,
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("24 hours"), "{}", stderr(&output));
    assert!(stderr(&output).contains("explaining the message alone"));
    let explanation = json_report(&output);
    assert!(explanation.get("aws_evaluation").is_none());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn the_flags_beside_the_id_keep_their_rules() {
    let server = details_route(json!({}));
    // An event and an authorization ID are two records of one request.
    let output = check(
        &server,
        ID,
        &[
            "--event",
            "fixtures/events/record-get-through-endpoint.json",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    // Without the ID, a snapshot still reads no AWS.
    let output = run(&[
        "check",
        "--snapshot",
        SNAPSHOT,
        "--bucket",
        "account-a-bucket",
        "--profile",
        "p",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot be used with '--profile <P>'"));
    assert!(server.requests().is_empty());
}
