//! Seeded, deterministic organization snapshots for property tests and
//! benchmarks: N principals across M accounts, shaped as real
//! organizations are (shared managed policies, group members, permissions
//! boundaries, account-root grants in the bucket and key policies, a KMS
//! grant, SCPs, a role session as the recorded caller). The same seed gives
//! the same text, byte for byte.

use serde_json::{Value, json};

use crate::snapshot::{Snapshot, SnapshotError};

/// The bucket every generated snapshot holds, owned by the first account.
pub const BUCKET: &str = "org-data";
/// Its one known object, encrypted with the bucket's key.
pub const OBJECT: &str = "reports/2026/q4.csv";

/// The shape of an organization to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub seed: u64,
    pub principals: usize,
    pub accounts: usize,
}

/// A small, fast, seeded generator (SplitMix64): the sequence depends only
/// on the seed, on every platform.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (at least 1).
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    /// True with probability `percent` in 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The id of account `index`: 12 digits, distinct per index.
pub fn account_id(index: usize) -> String {
    format!("{:012}", 210_000_000_000u64 + index as u64 * 1_010_101)
}

fn key_arn(owner: &str) -> String {
    format!("arn:aws:kms:eu-west-1:{owner}:key/0b5e7a11-5eed-4c0d-9a11-00000000da7a")
}

fn document(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The managed policies principals share, by name.
fn managed_policies(key: &str) -> Vec<(&'static str, Value)> {
    let bucket = format!("arn:aws:s3:::{BUCKET}");
    let objects = format!("arn:aws:s3:::{BUCKET}/*");
    vec![
        (
            "DataReader",
            document(vec![
                json!({"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket}),
                json!({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects}),
                json!({"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}),
            ]),
        ),
        (
            "DataWriter",
            document(vec![
                json!({"Sid": "Write", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": objects}),
                json!({"Sid": "Keys", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key}),
            ]),
        ),
        (
            "S3ReadOnlyNoKms",
            document(vec![
                json!({"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}),
            ]),
        ),
        (
            "DataReaderFromOffice",
            document(vec![
                json!({"Sid": "ReadFromOffice", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [bucket, objects],
                    "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}),
                json!({"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}),
            ]),
        ),
        (
            "Unrelated",
            document(vec![
                json!({"Effect": "Allow", "Action": ["ec2:Describe*", "logs:*"], "Resource": "*"}),
            ]),
        ),
        (
            "PowerUser",
            document(vec![
                json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}),
            ]),
        ),
    ]
}

/// The generated organization as snapshot JSON text.
pub fn organization_json(shape: Shape) -> String {
    organization_value(shape).to_string()
}

/// The generated organization, loaded as a snapshot file would be. The
/// generator writes only what the snapshot format accepts: an error is a
/// bug in this module.
pub fn organization(shape: Shape) -> Result<Snapshot, SnapshotError> {
    Snapshot::parse("synthetic", &organization_json(shape))
}

/// The generated organization as a JSON value.
pub fn organization_value(shape: Shape) -> Value {
    let mut draw = Draw(shape.seed);
    let accounts: Vec<String> = (0..shape.accounts.max(1)).map(account_id).collect();
    let owner = accounts[0].clone();
    let key = key_arn(&owner);
    let shared = managed_policies(&key);
    // Accounts the bucket and key policies grant to as a whole (the root),
    // leaving the choice to each account's own IAM policies.
    let granted: Vec<&String> = accounts
        .iter()
        .skip(1)
        .filter(|_| draw.chance(60))
        .collect();
    let roots: Vec<String> = granted
        .iter()
        .map(|account| format!("arn:aws:iam::{account}:root"))
        .collect();
    let mut principals = Vec::with_capacity(shape.principals);
    let mut roles = Vec::new();
    for index in 0..shape.principals {
        let account = &accounts[draw.below(accounts.len())];
        let team = draw.below(9);
        let is_role = draw.chance(45);
        let arn = if is_role {
            format!("arn:aws:iam::{account}:role/team-{team}/app-{index}")
        } else {
            format!("arn:aws:iam::{account}:user/team-{team}/person-{index}")
        };
        let mut policies = Vec::new();
        let mut attach = |draw: &mut Draw, kind: &str| {
            let (name, doc) = &shared[draw.below(shared.len())];
            policies.push(json!({"name": name, "kind": kind, "document": doc}));
        };
        let groups = !is_role && draw.chance(50);
        for _ in 0..1 + draw.below(3) {
            let kind = if groups && draw.chance(60) {
                "group-managed"
            } else {
                "managed"
            };
            attach(&mut draw, kind);
        }
        if draw.chance(15) {
            policies.push(json!({"name": format!("inline-{index}"), "kind": "inline", "document": document(vec![
                json!({"Effect": "Deny", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/reports/*")}),
            ])}));
        }
        let mut entry = json!({
            "arn": arn,
            "tags": {"team": format!("team-{team}")},
            "policies": policies,
            "permissions_boundary": if draw.chance(20) {
                json!({"name": "Boundary", "document": document(vec![
                    json!({"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}),
                ])})
            } else {
                Value::Null
            },
        });
        if is_role {
            entry["trust_policy"] = document(vec![json!({
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"
            })]);
            // Most roles' sessions carry no session policy; for a few it was
            // not read, which leaves their session-policy link unknown.
            if draw.chance(90) {
                entry["session_policies"] = Value::Null;
            }
            roles.push((
                account.clone(),
                format!("team-{team}/app-{index}"),
                format!("app-{index}"),
            ));
        } else {
            entry["trust_policy"] = Value::Null;
        }
        principals.push(entry);
    }
    let mut bucket_statements = vec![json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{BUCKET}"), format!("arn:aws:s3:::{BUCKET}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })];
    if !roots.is_empty() {
        bucket_statements.push(json!({
            "Sid": "PartnerAccounts",
            "Effect": "Allow",
            "Principal": {"AWS": roots},
            "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
            "Resource": [format!("arn:aws:s3:::{BUCKET}"), format!("arn:aws:s3:::{BUCKET}/*")]
        }));
    }
    bucket_statements.push(json!({
        "Sid": "TrailDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{BUCKET}/AWSLogs/{owner}/*"),
        "Condition": {"StringEquals": {"aws:SourceAccount": owner, "s3:x-amz-acl": "bucket-owner-full-control"}}
    }));
    let mut key_statements = vec![json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{owner}:root")},
        "Action": "kms:*",
        "Resource": "*"
    })];
    let key_roots: Vec<&String> = roots.iter().filter(|_| draw.chance(70)).collect();
    if !key_roots.is_empty() {
        key_statements.push(json!({
            "Sid": "PartnerUse",
            "Effect": "Allow",
            "Principal": {"AWS": key_roots},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*"
        }));
    }
    let mut grants = Vec::new();
    let mut caller = None;
    if !roles.is_empty() {
        let (account, path, name) = &roles[draw.below(roles.len())];
        grants.push(json!({
            "grantee": format!("arn:aws:iam::{account}:role/{path}"),
            "operations": ["Decrypt", "GenerateDataKey"],
            "constraints": {"encryption_context_subset": {"aws:s3:arn": format!("arn:aws:s3:::{BUCKET}")}},
            "name": "etl-grant",
            "created_at": "2026-01-01T00:00:00Z"
        }));
        caller = Some(format!(
            "arn:aws:sts::{account}:assumed-role/{name}/nightly-etl"
        ));
    }
    let mut account_entries = serde_json::Map::new();
    for (index, account) in accounts.iter().enumerate() {
        let mut levels = vec![vec![
            json!({"name": "FullAWSAccess", "document": document(vec![
                json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            ])}),
        ]];
        // One account in three is under a guard rail that keeps its
        // principals off KMS decryption of other accounts' keys.
        if index % 3 == 2 {
            levels.push(vec![
                json!({"name": "DenyForeignKeys", "document": document(vec![json!({
                    "Effect": "Deny",
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:ResourceAccount": account}}
                })])}),
            ]);
        }
        account_entries.insert(
            account.clone(),
            json!({
                "org_id": "o-synthetic1",
                "management_account": account_id(shape.accounts.max(1) + 1),
                "scps": levels,
                "rcps": null,
                "public_access_block": {
                    "block_public_acls": true, "ignore_public_acls": true,
                    "block_public_policy": true, "restrict_public_buckets": true
                }
            }),
        );
    }
    let encryption = json!({"algorithm": "aws:kms", "key": key, "bucket_key": true});
    let mut snapshot = json!({
        "format": "kms-s3-doctor/snapshot@1",
        "captured_at": "2026-12-01T00:00:00Z",
        "accounts": account_entries,
        "buckets": [{
            "name": BUCKET,
            "account": owner,
            "region": "eu-west-1",
            "policy": document(bucket_statements),
            "encryption": encryption,
            "ownership": "BucketOwnerEnforced",
            "tags": {},
            "public_access_block": {
                "block_public_acls": true, "ignore_public_acls": true,
                "block_public_policy": true, "restrict_public_buckets": true
            },
            "objects": [{
                "key": OBJECT,
                "owner": owner,
                "encryption": encryption,
                "tags": {}
            }]
        }],
        "keys": [{
            "arn": key,
            "aliases": ["alias/org-data"],
            "manager": "CUSTOMER",
            "state": "Enabled",
            "policy": document(key_statements),
            "grants": grants,
            "tags": {}
        }],
        "principals": principals
    });
    if let Some(caller) = caller {
        snapshot["caller"] = Value::String(caller);
    }
    snapshot
}
