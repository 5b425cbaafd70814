//! Directory snapshots loaded in part. A wrong partial load would silently
//! drop a principal who may read: these tests hold who-can over a
//! directory (loading only the accounts a policy can let in) to who-can
//! over the same snapshot merged into one file, row for row and byte for
//! byte, for every bucket of generated organizations split one file per
//! account, with and without the manifest's index.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::pipeline::reverse::{WhoCan, who_can};
use kms_s3_doctor::pipeline::{Selection, Source};
use kms_s3_doctor::report;
use kms_s3_doctor::reverse;
use kms_s3_doctor::snapshot::Snapshot;
use kms_s3_doctor::snapshot::directory::{
    Manifest, ManifestEntry, ORGANIZATION, STATUS_READ, account_file, write_atomically,
};
use kms_s3_doctor::snapshot::lazy::FileIndex;
use kms_s3_doctor::synthetic::{self, Shape};

/// A seeded draw for the additions to the synthetic organization.
struct Draw(u64);

impl Draw {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

fn document(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn deny_insecure(bucket: &str) -> Value {
    json!({
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })
}

fn allow(bucket: &str, principals: Vec<String>) -> Value {
    json!({
        "Effect": "Allow", "Principal": {"AWS": principals},
        "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]
    })
}

/// A synthetic organization with a bucket and a key in every account:
/// bucket policies naming other accounts' roots, roles or role sessions,
/// one allowing `"*"` within the organization (`aws:PrincipalOrgID`, IAM
/// User Guide, "AWS global condition context keys"), keys named by alias
/// or ARN with cross-account grants, and roles trusting roles and roots of
/// other accounts (role chains).
fn organization(seed: u64, accounts: usize, principals: usize) -> Value {
    let mut org = synthetic::organization_value(Shape {
        seed,
        principals,
        accounts,
    });
    let ids: Vec<String> = (0..accounts).map(synthetic::account_id).collect();
    let mut draw = Draw(seed);
    let roles: Vec<String> = org["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["arn"].as_str())
        .filter(|arn| arn.contains(":role/"))
        .map(str::to_string)
        .collect();
    let account_of = |arn: &str| arn.split(':').nth(4).unwrap().to_string();
    let other = |draw: &mut Draw, not: &str| loop {
        let pick = &ids[draw.below(ids.len())];
        if pick != not || ids.len() == 1 {
            break pick.clone();
        }
    };
    // Role chains: a third of the roles trust a role or the root of
    // another account.
    for entry in org["principals"].as_array_mut().unwrap() {
        let arn = entry["arn"].as_str().unwrap().to_string();
        if !arn.contains(":role/") || draw.below(3) != 0 {
            continue;
        }
        let mine = account_of(&arn);
        let trusted = if draw.below(2) == 0 && !roles.is_empty() {
            roles[draw.below(roles.len())].clone()
        } else {
            format!("arn:aws:iam::{}:root", other(&mut draw, &mine))
        };
        entry["trust_policy"] = document(vec![json!({
            "Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"
        })]);
    }
    // The synthetic bucket keeps the same guard as every other bucket.
    let first = &mut org["buckets"][0]["policy"]["Statement"];
    first
        .as_array_mut()
        .unwrap()
        .retain(|statement| statement["Sid"] != "TrailDelivery");
    for (at, id) in ids.iter().enumerate().skip(1) {
        let bucket = format!("data-{at}");
        let key = format!("arn:aws:kms:eu-west-1:{id}:key/00000000-0000-4000-8000-{at:012}");
        let alias = format!("alias/data-{at}");
        let mut statements = vec![deny_insecure(&bucket)];
        match at % 4 {
            1 => statements.push(allow(
                &bucket,
                vec![format!("arn:aws:iam::{}:root", other(&mut draw, id))],
            )),
            2 if at == 2 => statements.push(json!({
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": format!("arn:aws:s3:::{bucket}/*"),
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-synthetic1"}}
            })),
            3 if !roles.is_empty() => {
                let role = roles[draw.below(roles.len())].clone();
                let name = role.rsplit('/').next().unwrap().to_string();
                let session = format!(
                    "arn:aws:sts::{}:assumed-role/{name}/batch",
                    account_of(&role)
                );
                statements.push(allow(&bucket, vec![role, session]));
            }
            _ => {}
        }
        org["buckets"].as_array_mut().unwrap().push(json!({
            "name": bucket, "account": id, "region": "eu-west-1",
            "policy": document(statements),
            "encryption": {"algorithm": "aws:kms", "key": if at % 2 == 0 { key.clone() } else { alias.clone() }},
            "ownership": "BucketOwnerEnforced",
            "public_access_block": null,
            "objects": [{"key": "data.csv", "owner": id,
                "encryption": {"algorithm": "aws:kms", "key": key}}]
        }));
        let grantee = if roles.is_empty() {
            format!("arn:aws:iam::{}:root", other(&mut draw, id))
        } else {
            roles[draw.below(roles.len())].clone()
        };
        org["keys"].as_array_mut().unwrap().push(json!({
            "arn": key, "aliases": [alias], "manager": "CUSTOMER", "state": "Enabled",
            "policy": document(vec![json!({
                "Effect": "Allow",
                "Principal": {"AWS": [format!("arn:aws:iam::{id}:root"), format!("arn:aws:iam::{}:root", other(&mut draw, id))]},
                "Action": "kms:*", "Resource": "*"
            })]),
            "grants": [{"grantee": grantee, "retiring_principal": format!("arn:aws:iam::{}:root", other(&mut draw, id)),
                "operations": ["Decrypt", "GenerateDataKey"]}]
        }));
    }
    org
}

/// The account an entity of the snapshot belongs to.
fn owner(entity: &Value) -> String {
    if let Some(account) = entity["account"].as_str() {
        return account.to_string();
    }
    entity["arn"]
        .as_str()
        .unwrap()
        .split(':')
        .nth(4)
        .unwrap()
        .to_string()
}

/// Splits `org` into a directory as a sweep writes it: the organization's
/// part, one file per account, and the manifest (with its index when
/// `indexed`).
fn write_directory(dir: &Path, org: &Value, indexed: bool) {
    let format = org["format"].clone();
    let mut organization =
        json!({"format": format, "captured_at": org["captured_at"], "accounts": {}});
    if let Some(caller) = org.get("caller") {
        organization["caller"] = caller.clone();
    }
    let mut members: std::collections::BTreeMap<String, Value> = Default::default();
    for (id, info) in org["accounts"].as_object().unwrap() {
        let mut info = info.as_object().unwrap().clone();
        let block = info.remove("public_access_block").unwrap();
        organization["accounts"][id] = Value::Object(info);
        members.insert(
            id.clone(),
            json!({"format": format, "captured_at": org["captured_at"],
                "accounts": {id.clone(): {"public_access_block": block}},
                "buckets": [], "keys": [], "principals": []}),
        );
    }
    for list in ["buckets", "keys", "principals"] {
        for entity in org[list].as_array().unwrap() {
            members.get_mut(&owner(entity)).unwrap()[list]
                .as_array_mut()
                .unwrap()
                .push(entity.clone());
        }
    }
    let mut manifest = Manifest::new();
    let write = |name: &str, part: &Value, manifest: &mut Manifest| {
        let text = serde_json::to_string_pretty(part).unwrap() + "\n";
        write_atomically(&dir.join(name), &text).unwrap();
        if indexed {
            let snapshot = Snapshot::parse(name, &text).unwrap();
            manifest.index.insert(
                name.to_string(),
                FileIndex::of_file(&snapshot, &dir.join(name)).unwrap(),
            );
        }
    };
    write(ORGANIZATION, &organization, &mut manifest);
    for (id, part) in &members {
        write(&account_file(id), part, &mut manifest);
        manifest.accounts.insert(
            id.clone(),
            ManifestEntry {
                status: STATUS_READ.into(),
                file: account_file(id),
                finished_at: "2026-12-01T00:00:00Z".into(),
            },
        );
    }
    manifest.write(dir).unwrap();
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

const OPERATIONS: [Operation; 4] = [
    Operation::List,
    Operation::Get,
    Operation::Put,
    Operation::Multipart,
];

/// who-can's JSON as the command prints it (direct rows, then role
/// chains, cut to `only`), and how many files it loaded of how many.
fn who_can_json(
    path: &Path,
    bucket: &str,
    only: Option<Verdict>,
    depth: usize,
) -> (String, Option<(usize, usize)>) {
    let answer = who_can(&WhoCan {
        source: Source::File {
            path: path.to_path_buf(),
            limit: u64::MAX,
        },
        selection: Selection {
            bucket: bucket.to_string(),
            ..Selection::default()
        },
        operations: OPERATIONS.to_vec(),
        assumptions: Vec::new(),
        layers: Vec::new(),
        now: Some(now()),
        only,
        assume_depth: depth,
    })
    .unwrap();
    let mut rows = answer.rows;
    let chains =
        reverse::chains::via_rows(&answer.snapshot, &answer.request, &rows, depth).unwrap();
    rows.extend(chains.into_iter().map(|via| via.row));
    if let Some(only) = only {
        rows.retain(|row| report::standing(row) == only);
    }
    (
        report::render_who_can_json(&rows, &answer.request),
        answer.loaded_files,
    )
}

/// The directory merged into one snapshot file.
fn merged_file(dir: &Path, into: &Path) -> PathBuf {
    let snapshot = kms_s3_doctor::snapshot::directory::load(dir, |file| {
        Snapshot::parse("part", &std::fs::read_to_string(file).unwrap()).map_err(|e| e.to_string())
    })
    .unwrap();
    let path = into.join("merged.json");
    std::fs::write(&path, snapshot.to_json()).unwrap();
    path
}

/// Every bucket of `org`, split into a directory: who-can over the
/// directory equals who-can over the merged file for `--only allowed` and
/// `--only inconclusive`, with and without role chains. Returns how many
/// questions loaded only part of the directory.
fn lazy_equals_whole(org: &Value, indexed: bool, depths: &[usize]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write_directory(dir.path(), org, indexed);
    let merged = merged_file(dir.path(), out.path());
    let mut partial = 0;
    for bucket in org["buckets"].as_array().unwrap() {
        let bucket = bucket["name"].as_str().unwrap();
        for &depth in depths {
            for only in [Verdict::Allowed, Verdict::Inconclusive] {
                let (lazy, loaded) = who_can_json(dir.path(), bucket, Some(only), depth);
                let (whole, _) = who_can_json(&merged, bucket, Some(only), depth);
                assert_eq!(
                    lazy, whole,
                    "who-can --bucket {bucket} --only {only:?} --assume-depth {depth}: the directory (loaded {loaded:?}) and the merged file differ"
                );
                if loaded.is_some_and(|(loaded, files)| loaded < files) {
                    partial += 1;
                }
            }
        }
    }
    partial
}

#[test]
fn who_can_over_a_directory_equals_who_can_over_its_merge() {
    let mut partial = 0;
    for (seed, accounts, principals, indexed) in
        [(1, 8, 90, true), (2, 12, 120, false), (3, 6, 60, true)]
    {
        partial += lazy_equals_whole(&organization(seed, accounts, principals), indexed, &[0, 1]);
    }
    // The generated organizations hold buckets that let in two accounts:
    // those questions loaded only part of the directory.
    assert!(partial > 0, "no question loaded only part of a directory");
}

#[test]
fn longer_role_chains_load_each_hop() {
    lazy_equals_whole(&organization(4, 8, 80), true, &[2, 3]);
}

/// The rows a partial load leaves out are denied: every row of an account
/// the partial load did not hold is denied every operation when judged
/// over the whole snapshot (S3 lets no other account in without a
/// resource policy allowing it: IAM User Guide, "Cross-account policy
/// evaluation logic").
#[test]
fn the_rows_left_out_are_denied() {
    let org = organization(5, 10, 100);
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write_directory(dir.path(), &org, true);
    let merged = merged_file(dir.path(), out.path());
    let mut checked = 0;
    for bucket in org["buckets"].as_array().unwrap() {
        let bucket = bucket["name"].as_str().unwrap();
        let partial = kms_s3_doctor::pipeline::lazy::who_can(
            dir.path(),
            u64::MAX,
            bucket,
            None,
            &OPERATIONS,
            1,
        )
        .unwrap();
        let Some(partial) = partial else { continue };
        let held: BTreeSet<String> = partial
            .snapshot
            .principals
            .iter()
            .filter_map(|info| info.arn.split(':').nth(4).map(str::to_string))
            .collect();
        let (whole, _) = who_can_json(&merged, bucket, None, 1);
        let whole: Value = serde_json::from_str(&whole).unwrap();
        for row in whole["principals"].as_array().unwrap() {
            let Some(account) = row["account"].as_str() else {
                continue;
            };
            if held.contains(account) {
                continue;
            }
            checked += 1;
            for (operation, verdict) in row["verdicts"].as_object().unwrap() {
                assert_eq!(
                    verdict, "denied",
                    "{} may {operation} bucket {bucket} but its account was not loaded",
                    row["principal"]
                );
            }
        }
    }
    assert!(checked > 0, "no row was left out");
}

#[test]
fn a_bucket_open_to_everyone_loads_the_whole_directory() {
    let org = organization(6, 5, 40);
    let dir = tempfile::tempdir().unwrap();
    write_directory(dir.path(), &org, true);
    // `data-2` allows "*" within the organization: every account may be
    // let in.
    let (_, loaded) = who_can_json(dir.path(), "data-2", Some(Verdict::Allowed), 1);
    assert_eq!(loaded, None);
}

#[test]
fn an_index_that_no_longer_describes_its_file_is_not_trusted() {
    let org = organization(7, 5, 40);
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write_directory(dir.path(), &org, true);
    // A hand edit after the sweep: account 4's file now holds a role that
    // the bucket of account 1 names; the manifest's index says otherwise.
    let bucket_account = synthetic::account_id(1);
    let edited_account = synthetic::account_id(4);
    let file = dir.path().join(account_file(&edited_account));
    let mut part: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    part["principals"].as_array_mut().unwrap().push(json!({
        "arn": format!("arn:aws:iam::{edited_account}:role/late-arrival"),
        "policies": [{"name": "all", "document": document(vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"})])}],
        "permissions_boundary": null, "session_policies": null,
        "trust_policy": null
    }));
    std::fs::write(&file, serde_json::to_string_pretty(&part).unwrap()).unwrap();
    let bucket_file = dir.path().join(account_file(&bucket_account));
    let mut part: Value =
        serde_json::from_str(&std::fs::read_to_string(&bucket_file).unwrap()).unwrap();
    let statements = part["buckets"][0]["policy"]["Statement"]
        .as_array_mut()
        .unwrap();
    statements.push(allow(
        "data-1",
        vec![format!("arn:aws:iam::{edited_account}:role/late-arrival")],
    ));
    std::fs::write(&bucket_file, serde_json::to_string_pretty(&part).unwrap()).unwrap();
    let merged = merged_file(dir.path(), out.path());
    let (lazy, _) = who_can_json(dir.path(), "data-1", Some(Verdict::Allowed), 0);
    let (whole, _) = who_can_json(&merged, "data-1", Some(Verdict::Allowed), 0);
    assert_eq!(lazy, whole);
    assert!(lazy.contains("late-arrival"), "{lazy}");
}

/// What a check says, link by link, without positions in a file (the
/// merged file has them; a directory has none).
fn check_says(path: &Path, bucket: &str, principal: &str, via_role: Option<&str>) -> Vec<String> {
    let checked = kms_s3_doctor::pipeline::check(&kms_s3_doctor::pipeline::Check {
        source: Source::File {
            path: path.to_path_buf(),
            limit: u64::MAX,
        },
        selection: Selection {
            bucket: bucket.to_string(),
            principal: Some(principal.to_string()),
            via_role: via_role.map(str::to_string),
            ..Selection::default()
        },
        operations: OPERATIONS.to_vec(),
        assumptions: Vec::new(),
        session_policy: None,
        save_snapshot: None,
        layers: Vec::new(),
        now: Some(now()),
    })
    .unwrap();
    let diagnosis = checked.diagnosis;
    let mut said = vec![format!("{:?}", diagnosis.verdict)];
    for operation in &diagnosis.operations {
        for action in &operation.actions {
            for link in &action.links {
                said.push(format!(
                    "{:?} {} {:?} {:?}: {}",
                    operation.operation, action.action, link.link, link.status, link.reason
                ));
            }
        }
    }
    said.push(format!("{} changes", diagnosis.changes.len()));
    said
}

/// `check` over a directory loads the principal's, the bucket's and the
/// key's accounts, and says what it says over the merged file, link by
/// link, for principals of every account.
#[test]
fn check_over_a_directory_equals_check_over_its_merge() {
    let org = organization(8, 6, 45);
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write_directory(dir.path(), &org, true);
    let merged = merged_file(dir.path(), out.path());
    let principals: Vec<&str> = org["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["arn"].as_str())
        .step_by(3)
        .collect();
    let mut partial = 0;
    for bucket in [synthetic::BUCKET, "data-1", "data-3"] {
        let roles: Vec<&str> = principals
            .iter()
            .copied()
            .filter(|arn| arn.contains(":role/"))
            .collect();
        let mut asked: Vec<(String, Option<&str>)> = principals
            .iter()
            .map(|arn| (arn.to_string(), None))
            .collect();
        asked.push((
            format!("arn:aws:iam::{}:root", synthetic::account_id(3)),
            None,
        ));
        for pair in roles.windows(2).take(3) {
            asked.push((pair[0].to_string(), Some(pair[1])));
        }
        for (principal, via) in &asked {
            assert_eq!(
                check_says(dir.path(), bucket, principal, *via),
                check_says(&merged, bucket, principal, *via),
                "check --principal {principal} --via-role {via:?} --bucket {bucket}"
            );
            let directory = kms_s3_doctor::pipeline::lazy::check(
                dir.path(),
                u64::MAX,
                &Selection {
                    bucket: bucket.to_string(),
                    principal: Some(principal.clone()),
                    via_role: via.map(str::to_string),
                    ..Selection::default()
                },
                &OPERATIONS,
            )
            .unwrap();
            if directory.is_some_and(|load| load.loaded < load.files) {
                partial += 1;
            }
        }
    }
    assert!(partial > 0, "no check loaded only part of the directory");
}

/// `test` over a directory loads what `check` needs for each expectation,
/// together, and gives each expectation the outcome and reason it gets
/// over the merged file.
#[test]
fn test_over_a_directory_equals_test_over_its_merge() {
    let org = organization(9, 6, 36);
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write_directory(dir.path(), &org, true);
    let merged = merged_file(dir.path(), out.path());
    let mut text = String::new();
    // Principals of the two accounts whose buckets are asked about, and of
    // account 2, whose bucket's condition (`aws:PrincipalOrgID`) no other
    // file holds: left out, it would make the whole directory load.
    let accounts = [
        synthetic::account_id(1),
        synthetic::account_id(2),
        synthetic::account_id(3),
    ];
    let principals = org["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| {
            let arn = entry["arn"].as_str().unwrap();
            accounts
                .iter()
                .any(|account| arn.contains(account.as_str()))
        });
    for (at, entry) in principals.enumerate() {
        let bucket = ["data-1", "data-3"][at % 2];
        text.push_str(&format!(
            "[[test]]\nname = \"expectation {at}\"\nprincipal = \"{}\"\nbucket = \"{bucket}\"\nops = [\"get\", \"put\"]\nexpect = \"allowed\"\n\n",
            entry["arn"].as_str().unwrap()
        ));
    }
    let file = kms_s3_doctor::access_tests::parse("lazy.toml", &text).unwrap();
    let run = |path: &Path| {
        let run = kms_s3_doctor::pipeline::test(&kms_s3_doctor::pipeline::Test {
            file: file.clone(),
            source: Source::File {
                path: path.to_path_buf(),
                limit: u64::MAX,
            },
            assumptions: Vec::new(),
            save_snapshot: None,
            layers: Vec::new(),
            now: Some(now()),
            shown: kms_s3_doctor::access_tests::Shown::Every,
        })
        .unwrap();
        run.results
            .iter()
            .map(|result| {
                format!(
                    "{}: {:?} {:?} {}",
                    result.expectation.name,
                    result.outcome,
                    result.diagnosis.as_ref().map(|diagnosis| diagnosis.verdict),
                    result.reason
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(dir.path()), run(&merged));
    let partial = kms_s3_doctor::pipeline::lazy::test(dir.path(), u64::MAX, &file).unwrap();
    assert!(partial.is_some_and(|load| load.loaded < load.files));
}

/// The sweep's index is read, not rebuilt; a file whose modification time
/// differs from the index's (edited, or copied without its times) is read
/// again to index it, whatever its length.
#[test]
fn the_index_is_used_until_a_file_changes() {
    let org = organization(10, 4, 20);
    let dir = tempfile::tempdir().unwrap();
    write_directory(dir.path(), &org, true);
    let read = |file: &Path| {
        Snapshot::parse("part", &std::fs::read_to_string(file).unwrap()).map_err(|e| e.to_string())
    };
    let opened = kms_s3_doctor::snapshot::lazy::LazyDirectory::open(dir.path(), read).unwrap();
    assert_eq!(opened.scanned, 0);
    let file = dir.path().join(account_file(&synthetic::account_id(2)));
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(86_400))
        .unwrap();
    let opened = kms_s3_doctor::snapshot::lazy::LazyDirectory::open(dir.path(), read).unwrap();
    assert_eq!(opened.scanned, 1);
}
