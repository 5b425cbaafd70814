//! `snapshot --all-principals` end to end: the real binary against
//! `moto_server` (which implements GetAccountAuthorizationDetails) reads
//! every user and role of both accounts a profile is of — a dozen
//! principals made by `moto_gaad_setup.py`: users in groups, roles, inline
//! and managed policies, a managed policy whose non-default versions must be
//! ignored, roles with permissions boundaries — and `check` over the saved
//! snapshot gives each the verdicts AWS's rules give. moto answers in one
//! page, so paging is tested through `gaad_pager.py`, a proxy that cuts
//! moto's answer into the three pages IAM could send.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::live::{Guard, Moto, World, moto_available, strings};
use serde_json::Value;

/// `gaad_pager.py` in front of moto: GetAccountAuthorizationDetails comes
/// back in three pages. Returns its URL and the guard that stops it.
/// With `deny`, it answers every such request with AccessDenied instead.
fn pager(moto: &Moto, log: &Path, deny: bool) -> (String, Guard) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/gaad_pager.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(moto.port.to_string())
        .arg(log)
        .args(deny.then_some("deny"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start gaad_pager.py");
    let stdout = child.stdout.take().expect("pager stdout");
    let guard = Guard {
        child,
        what: "gaad_pager.py",
    };
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the pager did not print its port");
    let port: u16 = line.trim().parse().expect("pager port");
    (format!("http://127.0.0.1:{port}"), guard)
}

/// `snapshot --all-principals` of the setup's bucket through `endpoint`.
fn snapshot_everyone(world: &World, endpoint: &str, out: &Path) -> Value {
    let (snapshot, stderr) = snapshot_with_warnings(world, endpoint, out);
    assert!(!stderr.contains("warning"), "{stderr}");
    snapshot
}

/// [`snapshot_everyone`], and its standard error.
fn snapshot_with_warnings(world: &World, endpoint: &str, out: &Path) -> (Value, String) {
    let output = world.run(&strings(&[
        "snapshot",
        "--bucket",
        world.setup["bucket"].as_str().unwrap(),
        "--object",
        world.setup["object"].as_str().unwrap(),
        "--profile",
        "a",
        "--principal-profile",
        "b",
        "--all-principals",
        "--region",
        "eu-west-1",
        "--endpoint-url",
        endpoint,
        "--output",
        &out.display().to_string(),
    ]));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for secret in world.secrets() {
        assert!(!stderr.contains(&secret), "a credential leaked");
    }
    let snapshot = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    (snapshot, stderr)
}

#[test]
fn an_account_whose_principals_cannot_be_listed_is_said() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_gaad_setup.py");
    let (url, _pager) = pager(&moto, &world.path("pages.log"), true);
    let (snapshot, stderr) = snapshot_with_warnings(&world, &url, &world.path("denied.json"));
    for account in ["111111111111", "222222222222"] {
        assert!(
            stderr.contains(&format!(
                "warning: the principals of account {account} were not listed"
            )),
            "{stderr}"
        );
    }
    assert!(stderr.contains("AccessDenied"), "{stderr}");
    // Only the principal named (the caller of --principal-profile) is read.
    let arns: Vec<&str> = snapshot["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["arn"].as_str().unwrap())
        .collect();
    assert_eq!(arns, ["arn:aws:iam::222222222222:user/b-admin"]);
}

#[test]
fn every_page_is_read_and_joined() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_gaad_setup.py");
    let whole = snapshot_everyone(&world, &moto.url(), &world.path("whole.json"));
    let log = world.path("pages.log");
    let (url, _pager) = pager(&moto, &log, false);
    let paged = snapshot_everyone(&world, &url, &world.path("paged.json"));
    assert_eq!(paged["principals"], whole["principals"]);
    // Both accounts, each read to its last page by following the Marker.
    let mut markers: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    markers.sort();
    assert_eq!(markers, ["-", "-", "page-2", "page-2", "page-3", "page-3"]);
}

fn operation_verdicts(report: &Value) -> BTreeMap<String, String> {
    report["operations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|operation| {
            (
                operation["operation"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                operation["verdict"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn all_principals_reads_both_accounts_and_judges_each() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate_with(&moto, "moto_gaad_setup.py");
    let bucket = world.setup["bucket"].as_str().unwrap().to_string();
    let object = world.setup["object"].as_str().unwrap().to_string();
    let out = world.path("snapshot.json");
    let snapshot = snapshot_everyone(&world, &moto.url(), &out);

    // Every principal the setup made, and only those, with the policies it
    // attached (names and kinds), the boundaries it set and no non-default
    // version of a managed policy.
    let created = world.setup["principals"].as_object().unwrap();
    assert_eq!(created.len(), 12);
    let entries: BTreeMap<String, Value> = snapshot["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["arn"].as_str().unwrap().to_string(), entry.clone()))
        .collect();
    let mut created_arns: Vec<&String> = created.keys().collect();
    created_arns.sort();
    assert_eq!(entries.keys().collect::<Vec<_>>(), created_arns);
    for (arn, policies) in created {
        let entry = &entries[arn];
        let mut got: Vec<(String, String)> = entry["policies"]
            .as_array()
            .unwrap_or_else(|| panic!("{arn}: policies unknown: {entry}"))
            .iter()
            .map(|policy| {
                (
                    policy["name"].as_str().unwrap().to_string(),
                    policy["kind"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut want: Vec<(String, String)> = policies
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_string(),
                    pair[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{arn}");
        let boundary = world.setup["boundaries"][arn].as_str();
        assert_eq!(
            entry["permissions_boundary"]["name"].as_str(),
            boundary,
            "{arn}: {entry}"
        );
        if arn.contains(":role/") {
            assert!(entry["trust_policy"].is_object() || entry["trust_policy"].is_string());
            assert!(entry["session_policies"].is_null(), "{arn}");
        }
    }
    let text = snapshot.to_string();
    // WriterPolicy's v1 (Sid Thaw) and v3 (Sid Freeze) are not its default.
    assert!(!text.contains("Freeze") && !text.contains("Thaw"), "{text}");
    assert_eq!(
        entries["arn:aws:iam::111111111111:user/alice"]["tags"]["team"],
        "analytics"
    );

    // (principal, list, get, put), from AWS's rules: identity policies
    // decide in the key's own account, whose key policy delegates to IAM;
    // from account 222222222222 the bucket and key policies must grant the
    // account too (IAM User Guide, "Policy evaluation logic" and
    // "Cross-account policy evaluation logic"); only a managed policy's
    // default version applies ("Versioning for managed policies"); a boundary caps
    // identity policies ("Permissions boundaries for IAM entities").
    let table = [
        (
            "arn:aws:iam::111111111111:user/a-admin",
            ["allowed", "allowed", "allowed"],
        ),
        (
            "arn:aws:iam::111111111111:user/alice",
            ["allowed", "allowed", "denied"],
        ),
        (
            "arn:aws:iam::111111111111:user/bob",
            ["denied", "denied", "allowed"],
        ),
        (
            "arn:aws:iam::111111111111:role/service/app-role",
            ["allowed", "denied", "denied"],
        ),
        (
            "arn:aws:iam::111111111111:role/reader-role",
            ["allowed", "allowed", "denied"],
        ),
        // Account B's administrator: its own policy allows everything, and
        // the bucket and key policies grant its account.
        (
            "arn:aws:iam::222222222222:user/b-admin",
            ["allowed", "allowed", "allowed"],
        ),
        (
            "arn:aws:iam::222222222222:user/dave",
            ["allowed", "allowed", "denied"],
        ),
        (
            "arn:aws:iam::222222222222:user/erin",
            ["allowed", "allowed", "allowed"],
        ),
        (
            "arn:aws:iam::222222222222:user/frank",
            ["denied", "denied", "denied"],
        ),
        (
            "arn:aws:iam::222222222222:user/contractors/gina",
            ["denied", "denied", "denied"],
        ),
        (
            "arn:aws:iam::222222222222:role/etl-role",
            ["allowed", "allowed", "denied"],
        ),
        (
            "arn:aws:iam::222222222222:role/audit-role",
            ["allowed", "denied", "denied"],
        ),
    ];
    let mut problems = Vec::new();
    for (principal, verdicts) in table {
        let output = world.run(&strings(&[
            "check",
            "--snapshot",
            &out.display().to_string(),
            "--bucket",
            &bucket,
            "--object",
            &object,
            "--principal",
            principal,
            "--op",
            "list,get,put",
            "--format",
            "json",
        ]));
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "{principal}: {error}: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let got = operation_verdicts(&report);
        for (operation, verdict) in ["list", "get", "put"].iter().zip(verdicts) {
            if got.get(*operation).map(String::as_str) != Some(verdict) {
                problems.push(format!(
                    "{principal} {operation}: expected {verdict}, got {:?}",
                    got.get(*operation)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
