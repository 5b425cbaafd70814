//! Live mode reads S3's own gates: the bucket's Block Public Access
//! settings, through the real binary against `moto_server`. The verdicts
//! come from kms-s3-doctor (moto evaluates no policy); the test checks that
//! the settings read live reach the `block-public-access` link and the saved
//! snapshot.

use std::process::Command;

use serde_json::Value;

use crate::support::live::{Moto, World, moto_available, strings};

const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

/// Makes `account-a-bucket`'s policy public (a grant to `*` beside the
/// grants naming account B) and, when `restrict`, turns
/// RestrictPublicBuckets on for the bucket, as account A's administrator.
fn make_public(moto: &Moto, restrict: bool) {
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
if sys.argv[2] == "restrict":
    s3.put_public_access_block(Bucket="account-a-bucket", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False,
        "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
"#;
    let output = Command::new("python3")
        .args(["-c", script, &moto.url()])
        .arg(if restrict { "restrict" } else { "leave" })
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
    make_public(&moto, true);
    let (report, snapshot) = check(&world, &moto, "restricted.json");
    assert_eq!(
        snapshot["buckets"][0]["public_access_block"]["restrict_public_buckets"], true,
        "the bucket's settings are saved as read"
    );
    assert_eq!(report["verdict"], "denied", "{report:#}");
    let link = block_public_access(&report).expect("a block-public-access link");
    assert_eq!(link["status"], "fail", "{link:#}");
}

/// No configuration on the bucket is read as `null`; the account's settings
/// are not read, so the public policy leaves the request inconclusive,
/// never allowed, and the link says which settings were not read.
#[test]
fn bucket_without_settings_and_account_unread_is_inconclusive() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    make_public(&moto, false);
    let (report, snapshot) = check(&world, &moto, "unrestricted.json");
    assert_eq!(
        snapshot["buckets"][0]["public_access_block"],
        Value::Null,
        "no configuration is saved as null"
    );
    assert!(
        snapshot["buckets"][0]
            .as_object()
            .is_some_and(|bucket| bucket.contains_key("public_access_block")),
        "the field is present (read), not missing (unknown)"
    );
    assert_eq!(report["verdict"], "inconclusive", "{report:#}");
    let link = block_public_access(&report).expect("a block-public-access link");
    assert_eq!(link["status"], "unknown", "{link:#}");
    assert!(
        link["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("account 111111111111 not read")),
        "{link:#}"
    );
}
