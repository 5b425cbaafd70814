//! Every scenario of the corpus, judged for an object key that carries
//! terminal escape sequences: no text or Markdown report may pass a control
//! character through, whichever section prints the key (links, fixes, the
//! re-check, notes). The fuzz target found the re-check section leaking one;
//! this runs the same property over every scenario on each `cargo test`.

use std::path::Path;
use std::process::Command;

/// OSC "set title" and a clear-screen: what an attacker would put in a key.
const EVIL_KEY: &str = "reports/\u{1b}]0;owned\u{7}\u{1b}[2Jdata.csv";

#[test]
fn no_report_of_any_scenario_prints_a_control_character() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
    let scratch = tempfile::tempdir().unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    entries.sort();
    assert!(entries.len() > 100, "the corpus is missing");
    let mut leaks = Vec::new();
    for path in &entries {
        let scenario: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let snapshot = scratch.path().join("snapshot.json");
        std::fs::write(&snapshot, scenario["snapshot"].to_string()).unwrap();
        let mut args: Vec<String> = scenario["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arg| arg.as_str().unwrap().to_string())
            .collect();
        match args.iter().position(|arg| arg == "--object") {
            Some(at) => args[at + 1] = EVIL_KEY.to_string(),
            None => args.extend(["--object".to_string(), EVIL_KEY.to_string()]),
        }
        for format in ["text", "markdown"] {
            let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
                .arg("check")
                .args(&args)
                .args(["--snapshot", snapshot.to_str().unwrap()])
                .args(["--format", format, "--color", "never"])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            if let Some(line) = stdout
                .lines()
                .find(|line| line.chars().any(char::is_control))
            {
                leaks.push(format!(
                    "{} ({format}): {line:?}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "control characters reached a report:\n{}",
        leaks.join("\n")
    );
}

/// The input the fuzz target reduced to: a caller with no identity policy,
/// whose re-check section ("still … identity-policy fail … on the object")
/// printed the object key raw.
#[test]
fn the_recheck_section_escapes_the_object_key() {
    let snapshot = serde_json::json!({
        "format": "kms-s3-doctor/snapshot@1",
        "accounts": {
            "222222222222": {"scps": null, "org_id": null},
            "111111111111": {"scps": null, "rcps": null}
        },
        "buckets": [{
            "name": "b", "account": "111111111111", "region": "eu-west-1",
            "policy": null, "encryption": null, "ownership": null,
            "objects": [{"key": EVIL_KEY, "owner": "111111111111",
                "encryption": {"algorithm": "aws:kms",
                    "key": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]
        }],
        "keys": [{"arn": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "manager": "CUSTOMER", "state": null, "policy": null, "grants": null}],
        "principals": [{"arn": "arn:aws:iam::222222222222:user/dilip",
            "policies": null, "permissions_boundary": null}]
    });
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("snapshot.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    for format in ["text", "markdown"] {
        let output = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
            .args([
                "check", "--bucket", "b", "--object", EVIL_KEY, "--op", "put",
            ])
            .args(["--principal", "arn:aws:iam::222222222222:user/dilip"])
            .args(["--snapshot", path.to_str().unwrap()])
            .args(["--format", format, "--color", "never"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{format}: {stdout}");
        assert!(
            stdout.contains("still"),
            "{format}: the re-check is missing: {stdout}"
        );
        assert!(
            !stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{format}: {stdout}"
        );
    }
}
