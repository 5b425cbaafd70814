//! Records in the shapes AWS documents: CloudTrail User Guide, "CloudTrail
//! record contents" and "CloudTrail userIdentity element"; S3 User Guide,
//! "Logging Amazon S3 API calls using AWS CloudTrail" (example data events);
//! KMS Developer Guide, "Decrypt" (CloudTrail example entries).

use super::*;

fn s3_get(identity: &str, extra: &str) -> String {
    format!(
        r#"{{
  "eventVersion": "1.09",
  "userIdentity": {identity},
  "eventTime": "2026-03-01T10:00:00Z",
  "eventSource": "s3.amazonaws.com",
  "eventName": "GetObject",
  "awsRegion": "us-east-1",
  "sourceIPAddress": "203.0.113.7",
  "userAgent": "aws-cli/2",
  "requestParameters": {{"bucketName": "reports", "Host": "reports.s3.amazonaws.com", "key": "q1/summary.csv"}},
  "responseElements": null,
  "requestID": "R1",
  "eventID": "E1",
  "readOnly": true,
  "resources": [
    {{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::reports/q1/summary.csv"}},
    {{"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::reports"}}
  ],
  "eventType": "AwsApiCall",
  "managementEvent": false,
  "recipientAccountId": "111122223333"{extra}
}}"#
    )
}

const USER: &str = r#"{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/Alice", "accountId": "111122223333", "userName": "Alice"}"#;

const SESSION: &str = r#"{"type": "AssumedRole", "principalId": "AROAEXAMPLE:MySessionName",
  "arn": "arn:aws:sts::111122223333:assumed-role/RoleToBeAssumed/MySessionName", "accountId": "111122223333",
  "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
    "arn": "arn:aws:iam::111122223333:role/RoleToBeAssumed", "accountId": "111122223333", "userName": "RoleToBeAssumed"},
    "attributes": {"mfaAuthenticated": "false", "creationDate": "2026-03-01T09:00:00Z"}}}"#;

fn only(text: &str) -> EventRequest {
    let mut requests = read("event.json", text).expect("a request");
    assert_eq!(requests.len(), 1);
    requests.remove(0)
}

#[test]
fn an_iam_user_get_names_bucket_object_operation_and_context() {
    let request = only(&s3_get(USER, ""));
    assert_eq!(
        request.principal.as_deref(),
        Some("arn:aws:iam::111122223333:user/Alice")
    );
    assert_eq!(request.bucket.as_deref(), Some("reports"));
    assert_eq!(request.object.as_deref(), Some("q1/summary.csv"));
    assert_eq!(request.operations, vec![Operation::Get]);
    assert_eq!(
        request.context.get("aws:SourceIp").map(String::as_str),
        Some("203.0.113.7")
    );
    assert_eq!(
        request.context.get("aws:CurrentTime").map(String::as_str),
        Some("2026-03-01T10:00:00Z")
    );
    assert_eq!(
        request
            .context
            .get("aws:RequestedRegion")
            .map(String::as_str),
        Some("us-east-1")
    );
    assert!(request.time.is_some());
    // No TLS details in the record: nothing said about the transport, and
    // the report says what the tool takes instead.
    assert!(!request.context.contains_key("aws:SecureTransport"));
    assert!(
        request.notes.iter().any(|note| note.contains("tlsDetails")),
        "{:?}",
        request.notes
    );
    assert!(request.source.contains("GetObject"), "{}", request.source);
}

#[test]
fn an_assumed_role_is_its_session_and_carries_mfa() {
    let request = only(&s3_get(SESSION, ""));
    assert_eq!(
        request.principal.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/RoleToBeAssumed/MySessionName")
    );
    assert_eq!(
        request
            .context
            .get("aws:MultiFactorAuthPresent")
            .map(String::as_str),
        Some("false")
    );
}

#[test]
fn a_federated_user_and_root_keep_their_arns() {
    let federated = r#"{"type": "FederatedUser", "principalId": "111122223333:Bob",
      "arn": "arn:aws:sts::111122223333:federated-user/Bob", "accountId": "111122223333"}"#;
    assert_eq!(
        only(&s3_get(federated, "")).principal.as_deref(),
        Some("arn:aws:sts::111122223333:federated-user/Bob")
    );
    let root = r#"{"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}"#;
    assert_eq!(
        only(&s3_get(root, "")).principal.as_deref(),
        Some("arn:aws:iam::111122223333:root")
    );
}

#[test]
fn an_aws_account_identity_names_no_principal() {
    let account =
        r#"{"type": "AWSAccount", "principalId": "AIDAEXAMPLE", "accountId": "444455556666"}"#;
    let request = only(&s3_get(account, ""));
    assert_eq!(request.principal, None);
    let why = request.missing_principal.unwrap_or_default();
    assert!(why.contains("444455556666"), "{why}");
}

#[test]
fn a_vpc_endpoint_gives_the_endpoint_and_private_address_not_source_ip() {
    let request = only(&s3_get(
        USER,
        r#", "vpcEndpointId": "vpce-0abc", "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "reports.s3.amazonaws.com"}"#,
    )
    .replace("203.0.113.7", "10.0.1.25"));
    assert_eq!(
        request.context.get("aws:SourceVpce").map(String::as_str),
        Some("vpce-0abc")
    );
    assert_eq!(
        request.context.get("aws:VpcSourceIp").map(String::as_str),
        Some("10.0.1.25")
    );
    assert!(!request.context.contains_key("aws:SourceIp"));
    assert_eq!(
        request
            .context
            .get("aws:SecureTransport")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        request.context.get("s3:TlsVersion").map(String::as_str),
        Some("1.3")
    );
    assert!(request.notes.is_empty(), "{:?}", request.notes);
}

#[test]
fn headers_in_the_request_parameters_become_s3_keys() {
    let put = s3_get(USER, "")
        .replace("\"GetObject\"", "\"PutObject\"")
        .replace(
            "\"key\": \"q1/summary.csv\"",
            "\"key\": \"q1/summary.csv\", \"x-amz-server-side-encryption\": \"aws:kms\", \"x-amz-acl\": \"bucket-owner-full-control\"",
        );
    let request = only(&put);
    assert_eq!(request.operations, vec![Operation::Put]);
    assert_eq!(
        request
            .context
            .get("s3:x-amz-server-side-encryption")
            .map(String::as_str),
        Some("aws:kms")
    );
    assert_eq!(
        request.context.get("s3:x-amz-acl").map(String::as_str),
        Some("bucket-owner-full-control")
    );
}

#[test]
fn every_envelope_gives_the_same_request() {
    let record = s3_get(USER, "");
    let alone = only(&record);
    let trail_file = format!(r#"{{"Records": [{record}]}}"#);
    let eventbridge = format!(
        r#"{{"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "account": "111122223333", "time": "2026-03-01T10:00:00Z", "region": "us-east-1", "resources": [], "detail": {record}}}"#
    );
    let lookup = serde_json::json!({
        "Events": [{"EventId": "E1", "EventName": "GetObject", "CloudTrailEvent": record}]
    })
    .to_string();
    for envelope in [trail_file, eventbridge, lookup] {
        assert_eq!(only(&envelope), alone, "{envelope}");
    }
}

#[test]
fn a_kms_decrypt_s3_made_is_the_get_it_served() {
    let record = r#"{
      "eventVersion": "1.11",
      "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:s",
        "arn": "arn:aws:sts::111122223333:assumed-role/Reader/s", "accountId": "111122223333",
        "invokedBy": "s3.amazonaws.com"},
      "eventTime": "2026-03-01T10:00:01Z",
      "eventSource": "kms.amazonaws.com",
      "eventName": "Decrypt",
      "awsRegion": "us-east-1",
      "sourceIPAddress": "s3.amazonaws.com",
      "userAgent": "s3.amazonaws.com",
      "requestParameters": {"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "encryptionContext": {"aws:s3:arn": "arn:aws:s3:::reports/q1/summary.csv"}},
      "errorCode": "AccessDenied",
      "eventID": "K1"
    }"#;
    let request = only(record);
    assert_eq!(request.operations, vec![Operation::Get]);
    assert_eq!(request.bucket.as_deref(), Some("reports"));
    assert_eq!(request.object.as_deref(), Some("q1/summary.csv"));
    assert_eq!(
        request.principal.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Reader/s")
    );
    // S3's own connection to KMS says nothing of the caller's network.
    assert!(!request.context.contains_key("aws:SourceIp"));
    assert!(request.source.contains("KMS Decrypt"), "{}", request.source);
}

#[test]
fn other_services_are_skipped_and_a_file_of_only_them_is_refused() {
    let ec2 = r#"{"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "userIdentity": {"type": "Root"}}"#;
    let error = read("event.json", ec2).unwrap_err().0;
    assert!(error.contains("ec2.amazonaws.com RunInstances"), "{error}");
    let mixed = format!(r#"{{"Records": [{ec2}, {}]}}"#, s3_get(USER, ""));
    assert_eq!(read("event.json", &mixed).map(|r| r.len()), Ok(1));
    // A KMS call no S3 object asked for is not an S3 request.
    let plain_decrypt = r#"{"eventSource": "kms.amazonaws.com", "eventName": "Decrypt",
      "requestParameters": {"encryptionContext": {"Department": "Engineering"}}}"#;
    assert!(read("event.json", plain_decrypt).is_err());
}

#[test]
fn retries_count_once_and_distinct_requests_stay_in_order() {
    let first = s3_get(USER, "");
    let retry = first
        .replace("10:00:00Z", "10:00:02Z")
        .replace("\"E1\"", "\"E2\"");
    let other = first.replace("q1/summary.csv", "q2/summary.csv");
    let file = format!(r#"{{"Records": [{first}, {retry}, {other}]}}"#);
    let requests = read("event.json", &file).expect("requests");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].object.as_deref(), Some("q1/summary.csv"));
    assert_eq!(requests[1].object.as_deref(), Some("q2/summary.csv"));
}

#[test]
fn malformed_json_says_where() {
    let error = read("event.json", "{\"Records\": [}").unwrap_err().0;
    assert!(
        error.contains("not JSON") && error.contains("line 1"),
        "{error}"
    );
}

#[test]
fn an_s3_call_outside_the_chain_is_refused_with_the_flags_to_use() {
    let delete = s3_get(USER, "").replace("\"GetObject\"", "\"DeleteObject\"");
    let error = read("event.json", &delete).unwrap_err().0;
    assert!(
        error.contains("DeleteObject") && error.contains("--op"),
        "{error}"
    );
}

#[test]
fn a_hostile_record_cannot_drive_the_terminal() {
    let record = s3_get(USER, "").replace("\"GetObject\"", "\"Get\\u001b[2JObject\"");
    let error = read("event.json", &record).unwrap_err().0;
    assert!(!error.contains('\u{1b}'), "{error:?}");
}

#[test]
fn a_presigned_url_is_a_query_string_request_and_its_parameters_are_no_headers() {
    let presigned = s3_get(USER, r#", "additionalEventData": {"SignatureVersion": "SigV4", "AuthenticationMethod": "QueryString"}"#)
        .replace(
            "\"key\": \"q1/summary.csv\"",
            "\"key\": \"q1/summary.csv\", \"X-Amz-Expires\": \"300\", \"X-Amz-Date\": \"20260301T095900Z\"",
        );
    let request = only(&presigned);
    assert_eq!(
        request.context.get("s3:authType").map(String::as_str),
        Some("REST-QUERY-STRING")
    );
    assert!(
        !request
            .context
            .keys()
            .any(|key| key.starts_with("s3:x-amz-")),
        "{:?}",
        request.context
    );
}
