//! who-can over a directory snapshot of 200 accounts and 10,000 principals
//! (a generated organization split one file per account, as a sweep writes
//! it, with the manifest's index), for a bucket whose policy lets in two
//! accounts, `--only allowed`: loading only those accounts' files against
//! loading the whole directory. Criterion times each; the peak resident
//! size (`VmHWM`) of each is measured in a child process of its own, since
//! a process's peak never goes down.

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/peak.rs"]
mod peak;
use peak::peak;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::Criterion;
use serde_json::{Value, json};

use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::pipeline::reverse::{WhoCan, who_can};
use kms_s3_doctor::pipeline::{Selection, Source};
use kms_s3_doctor::snapshot::Snapshot;
use kms_s3_doctor::snapshot::directory::{
    Manifest, ManifestEntry, ORGANIZATION, STATUS_READ, account_file, write_atomically,
};
use kms_s3_doctor::snapshot::lazy::FileIndex;
use kms_s3_doctor::synthetic::{self, Shape};

const ACCOUNTS: usize = 200;
const PRINCIPALS: usize = 10_000;
/// The bucket of account 1 whose policy lets in account 2 besides its own.
const BUCKET: &str = "two-accounts";
const MODE: &str = "KMS_S3_DOCTOR_LAZY_BENCH_MODE";

/// The generated organization with one more bucket, owned by account 1,
/// whose policy lets in account 2's root, encrypted with account 1's key.
fn organization() -> Value {
    let mut org = synthetic::organization_value(Shape {
        seed: 2026,
        principals: PRINCIPALS,
        accounts: ACCOUNTS,
    });
    let owner = synthetic::account_id(1);
    let partner = synthetic::account_id(2);
    let key = format!("arn:aws:kms:eu-west-1:{owner}:key/00000000-0000-4000-8000-000000000001");
    // Every bucket keeps the same guard, so the directory's conditions are
    // among those of the files loaded.
    org["buckets"][0]["policy"]["Statement"]
        .as_array_mut()
        .into_iter()
        .for_each(|statements| statements.retain(|s| s["Sid"] != "TrailDelivery"));
    let resources = json!([
        format!("arn:aws:s3:::{BUCKET}"),
        format!("arn:aws:s3:::{BUCKET}/*")
    ]);
    org["buckets"].as_array_mut().into_iter().for_each(|buckets| {
        buckets.push(json!({
            "name": BUCKET, "account": owner, "region": "eu-west-1",
            "policy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": resources, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{partner}:root")},
                 "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"], "Resource": resources}
            ]},
            "encryption": {"algorithm": "aws:kms", "key": key},
            "ownership": "BucketOwnerEnforced", "public_access_block": null
        }))
    });
    org["keys"].as_array_mut().into_iter().for_each(|keys| {
        keys.push(json!({
            "arn": key, "manager": "CUSTOMER", "state": "Enabled",
            "policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": [format!("arn:aws:iam::{owner}:root"), format!("arn:aws:iam::{partner}:root")]},
                 "Action": "kms:*", "Resource": "*"}
            ]},
            "grants": []
        }))
    });
    org
}

fn owner_of(entity: &Value) -> String {
    match entity["account"].as_str() {
        Some(account) => account.to_string(),
        None => entity["arn"]
            .as_str()
            .and_then(|arn| arn.split(':').nth(4))
            .unwrap_or_default()
            .to_string(),
    }
}

/// Splits `org` into `dir` as a sweep writes it: the organization's part,
/// one file per account, the manifest with its index.
fn write_directory(dir: &Path, org: &Value) -> Result<(), String> {
    let format = org["format"].clone();
    let mut organization =
        json!({"format": format, "captured_at": org["captured_at"], "accounts": {}});
    if let Some(caller) = org.get("caller") {
        organization["caller"] = caller.clone();
    }
    let mut members: std::collections::BTreeMap<String, Value> = Default::default();
    for (id, info) in org["accounts"].as_object().into_iter().flatten() {
        let mut info = info.as_object().cloned().unwrap_or_default();
        let block = info.remove("public_access_block").unwrap_or(Value::Null);
        organization["accounts"][id] = Value::Object(info);
        members.insert(
            id.clone(),
            json!({"format": format, "accounts": {id.clone(): {"public_access_block": block}},
                "buckets": [], "keys": [], "principals": []}),
        );
    }
    for list in ["buckets", "keys", "principals"] {
        for entity in org[list].as_array().into_iter().flatten() {
            if let Some(Value::Array(items)) = members
                .get_mut(&owner_of(entity))
                .and_then(|member| member.get_mut(list))
            {
                items.push(entity.clone());
            }
        }
    }
    let mut manifest = Manifest::new();
    let mut parts = vec![(ORGANIZATION.to_string(), organization)];
    parts.extend(
        members
            .into_iter()
            .map(|(id, part)| (account_file(&id), part)),
    );
    for (name, part) in parts {
        let text = serde_json::to_string_pretty(&part).map_err(|error| error.to_string())? + "\n";
        write_atomically(&dir.join(&name), &text)?;
        let snapshot = Snapshot::parse(&name, &text).map_err(|error| error.to_string())?;
        manifest.index.insert(
            name.clone(),
            FileIndex::of_file(&snapshot, &dir.join(&name))?,
        );
        if let Some(id) = name.strip_suffix(".json").filter(|_| name != ORGANIZATION) {
            manifest.accounts.insert(
                id.to_string(),
                ManifestEntry {
                    status: STATUS_READ.into(),
                    file: name.clone(),
                    finished_at: "2026-12-01T00:00:00Z".into(),
                },
            );
        }
    }
    manifest.write(dir)
}

/// who-can as the command runs it: the rows, and how many files it read.
fn ask(dir: &Path, only: Option<Verdict>) -> (usize, Option<(usize, usize)>) {
    let answer = who_can(&WhoCan {
        source: Source::File {
            path: dir.to_path_buf(),
            limit: u64::MAX,
        },
        selection: Selection {
            bucket: BUCKET.to_string(),
            ..Selection::default()
        },
        operations: vec![Operation::Get, Operation::Put],
        assumptions: Vec::new(),
        layers: Vec::new(),
        now: None,
        only,
        assume_depth: 0,
    });
    match answer {
        Ok(answer) => {
            let rows = answer.rows.len();
            let loaded = answer.loaded_files;
            // Freed by the system at exit, as the command leaves it.
            std::mem::forget(answer.snapshot);
            (rows, loaded)
        }
        Err(error) => {
            eprintln!("who-can failed: {error}");
            (0, None)
        }
    }
}

/// The whole directory loaded, nothing judged: what every question paid
/// before directories were loaded in part.
fn load_whole(dir: &Path) -> usize {
    let loaded = kms_s3_doctor::snapshot::directory::load(dir, |file| {
        let text = std::fs::read_to_string(file).map_err(|error| error.to_string())?;
        Snapshot::parse(&file.display().to_string(), &text).map_err(|error| error.to_string())
    });
    match loaded {
        Ok(snapshot) => {
            let principals = snapshot.principals.len();
            std::mem::forget(snapshot);
            principals
        }
        Err(error) => {
            eprintln!("the directory does not load: {error}");
            0
        }
    }
}

fn only(mode: &str) -> Option<Verdict> {
    (mode == "lazy").then_some(Verdict::Allowed)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter naming other benches skips
    // this one.
    if std::env::args()
        .skip(1)
        .any(|arg| !arg.starts_with('-') && !"lazy_directory".contains(arg.as_str()))
    {
        return;
    }
    if let Ok(mode) = std::env::var(MODE) {
        // A child: one question, then its peak.
        let dir = PathBuf::from(std::env::var("KMS_S3_DOCTOR_LAZY_BENCH_DIR").unwrap_or_default());
        let before = peak();
        if mode == "load" {
            let principals = load_whole(&dir);
            println!(
                "load alone: {principals} principals; peak {} (before: {before})",
                peak()
            );
            return;
        }
        let (rows, loaded) = ask(&dir, only(&mode));
        println!(
            "{mode}: {rows} rows, files loaded {loaded:?}; peak {} (before: {before})",
            peak()
        );
        return;
    }
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temporary directory");
        return;
    };
    if let Err(error) = write_directory(dir.path(), &organization()) {
        eprintln!("cannot write the directory: {error}");
        return;
    }
    for mode in ["lazy", "whole", "load"] {
        let output = std::env::current_exe().and_then(|exe| {
            Command::new(exe)
                .env(MODE, mode)
                .env("KMS_S3_DOCTOR_LAZY_BENCH_DIR", dir.path())
                .output()
        });
        match output {
            Ok(output) => print!("{}", String::from_utf8_lossy(&output.stdout)),
            Err(error) => eprintln!("cannot run the {mode} child: {error}"),
        }
    }
    let mut criterion = Criterion::default().configure_from_args().sample_size(10);
    // The bucket lets in 2 of the directory's accounts.
    let mut group = criterion.benchmark_group(format!("who-can, {ACCOUNTS}-account directory"));
    group.bench_function("lazy (--only allowed)", |b| {
        b.iter(|| ask(dir.path(), Some(Verdict::Allowed)))
    });
    group.bench_function("whole, every row", |b| b.iter(|| ask(dir.path(), None)));
    group.bench_function("whole, loaded alone", |b| b.iter(|| load_whole(dir.path())));
    group.finish();
    criterion.final_summary();
}
