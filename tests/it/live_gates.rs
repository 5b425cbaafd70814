//! Live mode reads S3's own gates: the Block Public Access settings of the
//! bucket and of its owner's account (S3 Control), through the real binary
//! against `moto_server`. The verdicts
//! come from kms-s3-doctor (moto evaluates no policy); the test checks that
//! the settings read live reach the `block-public-access` link and the saved
//! snapshot.

use std::process::Command;

use serde_json::Value;

use crate::support::live::{Moto, World, moto_available, strings};

const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

/// Where RestrictPublicBuckets is turned on.
#[derive(Clone, Copy)]
enum Restrict {
    Nowhere,
    Bucket,
    Account,
}

/// Makes `account-a-bucket`'s policy public (a grant to `*` beside the
/// grants naming account B) and turns RestrictPublicBuckets on where
/// `restrict` says, as account A's administrator.
fn make_public(moto: &Moto, restrict: Restrict) {
    let script = r#"
import json, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="eu-west-1",
                  aws_access_key_id="AKIASETUP000000000000", aws_secret_access_key="setup-secret")
s3.meta.events.register("before-sign.*.*",
    lambda request, **_: request.headers.__setitem__("x-moto-account-id", "111111111111"))
policy = json.loads(s3.get_bucket_policy(Bucket="account-a-bucket")["Policy"])
policy["Statement"].append({"Sid": "PublicList", "Effect": "Allow", "Principal": "*",
    "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::account-a-bucket"})
s3.put_bucket_policy(Bucket="account-a-bucket", Policy=json.dumps(policy))
config = {"BlockPublicAcls": False, "IgnorePublicAcls": False,
          "BlockPublicPolicy": False, "RestrictPublicBuckets": True}
if sys.argv[2] == "bucket":
    s3.put_public_access_block(Bucket="account-a-bucket", PublicAccessBlockConfiguration=config)
if sys.argv[2] == "account":
    control = boto3.client("s3control", endpoint_url=sys.argv[1], region_name="eu-west-1",
                           aws_access_key_id="AKIASETUP000000000000",
                           aws_secret_access_key="setup-secret")
    def as_a(request, **_):
        # S3 Control puts the account in the host, which 127.0.0.1 cannot carry.
        request.url = request.url.replace("//111111111111.", "//")
        request.headers["x-moto-account-id"] = "111111111111"
    control.meta.events.register("before-sign.*.*", as_a)
    control.put_public_access_block(AccountId="111111111111",
                                    PublicAccessBlockConfiguration=config)
"#;
    let output = Command::new("python3")
        .args(["-c", script, &moto.url()])
        .arg(match restrict {
            Restrict::Nowhere => "nowhere",
            Restrict::Bucket => "bucket",
            Restrict::Account => "account",
        })
        .output()
        .expect("cannot run python3");
    assert!(
        output.status.success(),
        "setting up the public bucket failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `check --op list` for dilip (account B) against the bucket, live, with
/// the report and the saved snapshot.
fn check(world: &World, moto: &Moto, name: &str) -> (Value, Value) {
    let saved = world.path(name);
    let output = world.run(&strings(&[
        "check",
        "--format",
        "json",
        "--endpoint-url",
        &moto.url(),
        "--profile",
        "a",
        "--principal-profile",
        "b",
        "--bucket",
        "account-a-bucket",
        "--principal",
        DILIP,
        "--op",
        "list",
        "--save-snapshot",
        &saved.display().to_string(),
    ]));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "report is not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("saved snapshot"))
            .expect("saved snapshot is JSON");
    (report, snapshot)
}

fn block_public_access(report: &Value) -> Option<&Value> {
    report["operations"][0]["actions"][0]["links"]
        .as_array()?
        .iter()
        .find(|link| link["link"] == "block-public-access")
}

/// S3 API Reference, "PublicAccessBlockConfiguration": with
/// RestrictPublicBuckets on and a public bucket policy, every cross-account
/// grant of that policy is blocked, account B's named grant included.
#[test]
fn bucket_settings_read_live_block_a_named_partner() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    make_public(&moto, Restrict::Bucket);
    let (report, snapshot) = check(&world, &moto, "restricted.json");
    assert_eq!(
        snapshot["buckets"][0]["public_access_block"]["restrict_public_buckets"], true,
        "the bucket's settings are saved as read"
    );
    assert_eq!(report["verdict"], "denied", "{report:#}");
    let link = block_public_access(&report).expect("a block-public-access link");
    assert_eq!(link["status"], "fail", "{link:#}");
}

/// The account's settings, read through S3 Control, count as the
/// bucket's do: the most restrictive combination applies (S3 User Guide,
/// "Blocking public access to your Amazon S3 storage").
#[test]
fn account_settings_read_live_block_a_named_partner() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    make_public(&moto, Restrict::Account);
    let (report, snapshot) = check(&world, &moto, "account.json");
    assert_eq!(
        snapshot["accounts"]["111111111111"]["public_access_block"]["restrict_public_buckets"],
        true,
        "the account's settings are saved as read: {:#}",
        snapshot["accounts"]
    );
    assert_eq!(snapshot["buckets"][0]["public_access_block"], Value::Null);
    assert_eq!(report["verdict"], "denied", "{report:#}");
    let link = block_public_access(&report).expect("a block-public-access link");
    assert_eq!(link["status"], "fail", "{link:#}");
    assert!(
        link["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("on for account 111111111111")),
        "{link:#}"
    );
}

/// No configuration on the bucket or the account is read as `null` (none
/// configured), not left unknown: the public policy's grant to account B
/// applies, and the link says the setting is off.
#[test]
fn no_settings_anywhere_are_read_as_none_and_the_grant_applies() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    make_public(&moto, Restrict::Nowhere);
    let (report, snapshot) = check(&world, &moto, "unrestricted.json");
    for (what, value) in [
        ("bucket", &snapshot["buckets"][0]),
        ("account", &snapshot["accounts"]["111111111111"]),
    ] {
        assert!(
            value
                .as_object()
                .is_some_and(|object| object.get("public_access_block") == Some(&Value::Null)),
            "the {what}'s settings are saved as null (read, none configured): {value:#}"
        );
    }
    assert_eq!(report["verdict"], "allowed", "{report:#}");
    let link = block_public_access(&report).expect("a block-public-access link");
    assert_eq!(link["status"], "pass", "{link:#}");
}

const ANN: &str = "arn:aws:iam::111111111111:user/ann";
const ACCESS_POINT: &str = "arn:aws:s3:eu-west-1:111111111111:accesspoint/reports-ap";

/// Creates access point `reports-ap` of account A on `account-a-bucket`,
/// with a policy granting ann `s3:GetObject` through it.
fn create_access_point(moto: &Moto) {
    let script = r#"
import json, sys, boto3
control = boto3.client("s3control", endpoint_url=sys.argv[1], region_name="eu-west-1",
                       aws_access_key_id="AKIASETUP000000000000",
                       aws_secret_access_key="setup-secret")
def as_a(request, **_):
    request.url = request.url.replace("//111111111111.", "//")
    request.headers["x-moto-account-id"] = "111111111111"
control.meta.events.register("before-sign.*.*", as_a)
control.create_access_point(AccountId="111111111111", Name="reports-ap", Bucket="account-a-bucket")
control.put_access_point_policy(AccountId="111111111111", Name="reports-ap", Policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AnnReads", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::111111111111:user/ann"},
                   "Action": "s3:GetObject",
                   "Resource": sys.argv[2] + "/object/*"}]}))
"#;
    let output = Command::new("python3")
        .args(["-c", script, &moto.url(), ACCESS_POINT])
        .output()
        .expect("cannot run python3");
    assert!(
        output.status.success(),
        "creating the access point failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `--access-point ARN` reads the access point and its policy through S3
/// Control, in the access point owner's account. Measured with moto 5.2.1:
/// its GetAccessPoint and GetAccessPointPolicy answers (HTTP 200) are not
/// read by the Rust SDK, so this checks what a failed gate read must give:
/// the access point is in the saved snapshot with each unread field's why,
/// the `access-point-policy` link is unknown, and the verdict is never
/// allowed.
#[test]
fn an_access_point_whose_reads_fail_is_unknown_never_allowed() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    create_access_point(&moto);
    let saved = world.path("access-point.json");
    let output = world.run(&strings(&[
        "check",
        "--format",
        "json",
        "--endpoint-url",
        &moto.url(),
        "--profile",
        "a",
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
        "--principal",
        ANN,
        "--access-point",
        ACCESS_POINT,
        "--op",
        "head",
        "--save-snapshot",
        &saved.display().to_string(),
    ]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("report is not JSON ({error}): {stderr}"));
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("saved snapshot"))
            .expect("saved snapshot is JSON");
    let point = &snapshot["access_points"][0];
    assert_eq!(point["arn"], ACCESS_POINT, "{snapshot:#}");
    assert_eq!(point["bucket"], "account-a-bucket", "{point:#}");
    assert!(
        point["policy_error"]
            .as_str()
            .is_some_and(|why| why.contains("s3:GetAccessPointPolicy")),
        "the unread policy says which read failed: {point:#}"
    );
    assert!(
        point["public_access_block_error"]
            .as_str()
            .is_some_and(|why| why.contains("s3:GetAccessPoint")),
        "the unread access point says which read failed: {point:#}"
    );
    let action = &report["operations"][0]["actions"][0];
    assert_eq!(
        action["resource"],
        format!("{ACCESS_POINT}/object/reports/data.csv"),
        "{action:#}"
    );
    let link = action["links"]
        .as_array()
        .and_then(|links| {
            links
                .iter()
                .find(|link| link["link"] == "access-point-policy")
        })
        .unwrap_or_else(|| panic!("an access-point-policy link: {action:#}"));
    assert_eq!(link["status"], "unknown", "{link:#}");
    assert_ne!(report["verdict"], "allowed", "{report:#}");
}
