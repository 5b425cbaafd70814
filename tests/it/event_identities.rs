//! `check --event` over one record per identity type of the CloudTrail User
//! Guide's "CloudTrail userIdentity element" (IAM user, assumed role with
//! its `sessionIssuer`, root, federated user, AWS service, and an IAM
//! Identity Center permission set's role session with `onBehalfOf` and
//! `credentialId`), and over records whose network context decides the
//! verdict: the source address against an identity policy's corporate
//! range (IAM User Guide, "AWS: Denies access to AWS based on the source
//! IP"). Each report's `request` says where every value came from.

use std::process::{Command, Output};

use serde_json::{Value, json};

const IDENTITIES: &str = "fixtures/events/identity-types.snapshot.json";
const SOURCE_IP: &str = "fixtures/events/source-ip.snapshot.json";

fn check(snapshot: &str, event: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "check",
            "--snapshot",
            snapshot,
            "--format",
            "json",
            "--event",
        ])
        .arg(format!("fixtures/events/{event}"))
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not a JSON report ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Each identity type's principal, as the contract maps it, and the
/// verdict its policies give through the bucket's own VPC endpoint.
#[test]
fn every_identity_type_names_its_principal() {
    for (file, principal, verdict, code) in [
        // Root: the account's root user, which the key policy's account
        // statement and the account's own bucket admit.
        (
            "identity-root-get.json",
            "arn:aws:iam::111111111111:root",
            "allowed",
            0,
        ),
        // AssumedRole: the session ARN, not its sessionIssuer's role ARN.
        (
            "identity-assumed-role-get.json",
            "arn:aws:sts::111111111111:assumed-role/reporting/report-run-42",
            "allowed",
            0,
        ),
        // FederatedUser: its own federated-user ARN; its permissions are
        // those of the calling user within the session policy (IAM User
        // Guide, "Requesting temporary security credentials",
        // GetFederationToken).
        (
            "identity-federated-user-get.json",
            "arn:aws:sts::111111111111:federated-user/carol",
            "allowed",
            0,
        ),
        // IAM Identity Center: the session of the permission set's role.
        // The session ARN carries no path; the role lives under
        // `/aws-reserved/sso.amazonaws.com/` (IAM Identity Center User
        // Guide, "Permission sets": roles it creates in each account).
        (
            "identity-center-get.json",
            "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_DataReaders_0123456789abcdef/alice@example.com",
            "allowed",
            0,
        ),
        // AWSService: the service principal of `invokedBy`. Not through the
        // endpoint, so the bucket policy's VPC-endpoint Deny (Principal
        // "*") refuses it.
        (
            "identity-aws-service-put.json",
            "cloudtrail.amazonaws.com",
            "denied",
            1,
        ),
    ] {
        let output = check(IDENTITIES, file, &[]);
        let report = report(&output);
        assert_eq!(output.status.code(), Some(code), "{file}: {report:#}");
        assert_eq!(report["request"]["principal"], principal, "{file}");
        assert_eq!(report["verdict"], verdict, "{file}: {report:#}");
        let provenance = &report["request"]["provenance"];
        let expected = if principal.ends_with(".amazonaws.com") {
            "record:userIdentity.invokedBy"
        } else {
            "record:userIdentity.arn"
        };
        assert_eq!(provenance["principal"], expected, "{file}");
    }
}

#[test]
fn the_aws_service_put_is_denied_by_the_bucket_policy_with_its_headers() {
    let report = report(&check(IDENTITIES, "identity-aws-service-put.json", &[]));
    let request = &report["request"];
    assert_eq!(request["operations"], json!(["put"]));
    assert_eq!(
        request["context"]["s3:x-amz-acl"],
        "bucket-owner-full-control"
    );
    // A service name in sourceIPAddress is no address.
    assert!(request["context"].get("aws:SourceIp").is_none());
    assert_eq!(
        request["provenance"]["s3:x-amz-acl"],
        "record:requestParameters.x-amz-acl"
    );
    let summary = report["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("bucket-policy"), "{summary}");
}

/// `vpcEndpointAccountId` is the account that owns the endpoint:
/// `aws:VpceAccount` (IAM User Guide, "AWS global condition context keys").
#[test]
fn the_endpoint_account_becomes_aws_vpce_account() {
    let report = report(&check(IDENTITIES, "identity-center-get.json", &[]));
    let request = &report["request"];
    assert_eq!(request["context"]["aws:VpceAccount"], "111111111111");
    assert_eq!(request["context"]["aws:SourceVpce"], "vpce-1a2b3c4d");
    assert_eq!(
        request["provenance"]["aws:VpceAccount"],
        "record:vpcEndpointAccountId"
    );
    assert_eq!(
        request["provenance"]["aws:VpcSourceIp"],
        "record:sourceIPAddress"
    );
}

#[test]
fn the_source_address_decides_against_the_corporate_range() {
    let outside = check(SOURCE_IP, "source-ip-get-from-elsewhere.json", &[]);
    assert_eq!(outside.status.code(), Some(1));
    let outside = report(&outside);
    assert_eq!(
        outside["request"]["context"]["aws:SourceIp"],
        "198.51.100.1"
    );
    let summary = outside["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("identity-policy"), "{summary}");
    let inside = check(SOURCE_IP, "source-ip-get-from-office.json", &[]);
    let inside_report = report(&inside);
    assert_eq!(inside.status.code(), Some(0), "{inside_report:#}");
    assert_eq!(inside_report["verdict"], "allowed");
}

/// Flags beside the record: each value says which flag gave it, the
/// object the tool's default when nothing names one, and the keys the
/// record leaves open are `unknown`.
#[test]
fn provenance_names_flags_defaults_and_unknown_keys() {
    let report = report(&check(
        SOURCE_IP,
        "source-ip-get-from-office.json",
        &["--op", "get,put", "--context", "aws:SourceIp=198.51.100.1"],
    ));
    let provenance = &report["request"]["provenance"];
    assert_eq!(provenance["operations"], "flag:--op");
    assert_eq!(provenance["aws:SourceIp"], "flag:--context");
    assert_eq!(provenance["bucket"], "record:requestParameters.bucketName");
    assert_eq!(provenance["object"], "record:requestParameters.key");
    assert_eq!(provenance["aws:CurrentTime"], "record:eventTime");
    assert_eq!(
        provenance["aws:SecureTransport"],
        "record:tlsDetails.tlsVersion"
    );
    assert_eq!(report["verdict"], "denied");

    let kms = report_of_kms();
    assert_eq!(
        kms["request"]["provenance"]["aws:SecureTransport"],
        "unknown"
    );
    assert_eq!(
        kms["request"]["provenance"]["operations"],
        "record:eventName (S3's call to KMS)"
    );
}

fn report_of_kms() -> Value {
    report(&check(
        "fixtures/events/vpce-only-bucket.snapshot.json",
        "kms-decrypt-s3-made.json",
        &[],
    ))
}

#[test]
fn the_text_report_shows_where_values_came_from() {
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args([
            "check",
            "--snapshot",
            SOURCE_IP,
            "--color",
            "never",
            "--event",
        ])
        .arg("fixtures/events/source-ip-get-from-office.json")
        .args(["--op", "get"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().take(3).collect();
    assert!(lines[1].starts_with("  record   "), "{stdout}");
    assert!(
        lines[1].contains("principal (userIdentity.arn)"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("  flags    operations (--op)"),
        "{stdout}"
    );
}

/// An `IdentityCenterUser` names a workforce user, not a principal S3 can
/// judge: bad input naming the flag that supplies one.
#[test]
fn an_identity_center_user_record_needs_principal() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut record: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/events/identity-center-get.json"),
        )
        .expect("the fixture"),
    )
    .expect("JSON");
    record["userIdentity"] = json!({
        "type": "IdentityCenterUser",
        "accountId": "111111111111",
        "onBehalfOf": {
            "userId": "544894e8-80c1-707f-60e3-3ba6510dfac1",
            "identityStoreArn": "arn:aws:identitystore::111111111111:identitystore/d-9067642ac7"
        },
        "credentialId": "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE"
    });
    let path = dir.path().join("record.json");
    std::fs::write(&path, record.to_string()).expect("written");
    let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .args(["check", "--snapshot", IDENTITIES, "--event"])
        .arg(&path)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("IdentityCenterUser") && stderr.contains("--principal"),
        "{stderr}"
    );
}
