//! Directory buckets (S3 Express One Zone) in the organization sweep. moto
//! does not emulate `ListDirectoryBuckets` nor S3's Regional endpoint for
//! directory buckets, so the fault-injecting proxy answers every request
//! signed for `s3express` itself, in the shapes the S3 API Reference gives
//! ("ListDirectoryBuckets", "GetBucketPolicy", "GetBucketEncryption"), and
//! forwards the rest to moto. A region whose listing is refused must be
//! named in the account's `buckets_error`, never read as "no directory
//! buckets there".

use serde_json::Value;

use crate::support::fault_proxy::{Directory, DirectoryBucket, FaultProxy, Faults};
use crate::support::live::{Moto, World, moto_available};

const REPORTS: &str = "reports--euw1-az1--x-s3";
const SCRATCH: &str = "scratch--euw1-az3--x-s3";
const REFUSED: &str = "logs--use1-az4--x-s3";

#[test]
fn directory_buckets_are_listed_per_region_and_a_refused_region_is_unreadable() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_rate_setup.py");
    let account = world.setup["account"]
        .as_str()
        .expect("account")
        .to_string();
    let key = world.setup["keys"][0].as_str().expect("a key").to_string();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadOnlySessions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "s3express:CreateSession",
            "Resource": format!("arn:aws:s3express:eu-west-1:{account}:bucket/{REPORTS}"),
            "Condition": {"StringEquals": {"s3express:SessionMode": "ReadOnly"}}
        }]
    });
    let proxy = FaultProxy::start_with_directory(
        moto.port,
        Faults::default(),
        Directory {
            buckets: vec![
                DirectoryBucket {
                    name: REPORTS.to_string(),
                    region: "eu-west-1".to_string(),
                    policy: Some(policy.to_string()),
                    kms_key: Some(key.clone()),
                },
                DirectoryBucket {
                    name: SCRATCH.to_string(),
                    region: "eu-west-1".to_string(),
                    policy: None,
                    kms_key: None,
                },
                DirectoryBucket {
                    name: REFUSED.to_string(),
                    region: "us-east-1".to_string(),
                    policy: None,
                    kms_key: None,
                },
            ],
            refusing: vec!["us-east-1".to_string()],
        },
    );
    let out = world.path("swept.json");
    let output = world
        .command()
        .args([
            "snapshot",
            "--org-profile",
            "org",
            "--member-role",
            "OrganizationAccountAccessRole",
            "--accounts",
            &account,
            "--regions",
            "eu-west-1,us-east-1",
            "--endpoint-url",
            &proxy.url(),
            "--shard",
            "1/1",
            "--output",
            out.to_str().unwrap(),
        ])
        .output()
        .expect("cannot run kms-s3-doctor");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("snapshot written"))
            .expect("snapshot JSON");
    let buckets = snapshot["buckets"].as_array().expect("buckets");
    let bucket = |name: &str| {
        buckets
            .iter()
            .find(|bucket| bucket["name"] == name)
            .cloned()
    };

    let Some(reports) = bucket(REPORTS) else {
        panic!(
            "the eu-west-1 directory bucket is not listed: account {}, requests {:?}",
            snapshot["accounts"][&account],
            proxy.counts().arrivals.keys().collect::<Vec<_>>()
        );
    };
    assert_eq!(reports["type"], "directory", "{reports}");
    assert_eq!(reports["region"], "eu-west-1", "{reports}");
    assert_eq!(reports["account"], account.as_str(), "{reports}");
    // Policies are kept as read: the JSON text.
    let read: Value =
        serde_json::from_str(reports["policy"].as_str().unwrap_or_default()).unwrap_or_default();
    assert_eq!(read, policy, "{reports}");
    assert_eq!(reports["encryption"]["algorithm"], "aws:kms", "{reports}");
    assert_eq!(reports["encryption"]["key"], key.as_str(), "{reports}");
    assert!(reports.get("policy_error").is_none(), "{reports}");

    // No policy: read as none (NoSuchBucketPolicy), not unknown.
    let scratch = bucket(SCRATCH).expect("the second directory bucket is listed");
    assert!(scratch.get("policy_error").is_none(), "{scratch}");
    assert_eq!(scratch["encryption"]["algorithm"], "AES256", "{scratch}");

    // us-east-1 refused the listing: its bucket is missing, and the account
    // says its bucket list is incomplete, and why.
    assert!(bucket(REFUSED).is_none());
    let why = snapshot["accounts"][&account]["buckets_error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.contains("us-east-1") && why.contains("ListDirectoryBuckets") && why.contains("denied"),
        "buckets_error: {why:?}"
    );
    assert!(!why.contains("eu-west-1"), "buckets_error: {why:?}");

    let counts = proxy.counts();
    assert!(
        counts.seen.get("s3express").copied().unwrap_or_default() >= 4,
        "the directory buckets were read on their Regional endpoint: {:?}",
        counts.seen
    );
}
