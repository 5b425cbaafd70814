//! `who-can` read live from a local AWS endpoint (moto, two accounts, as
//! `moto_setup.py` builds them): it reads what `check` reads for the
//! bucket and the caller, and gives the same rows as `who-can` over the
//! snapshot `check --save-snapshot` keeps of the same reading. A bucket
//! that does not exist is exit 4.

use crate::support::live::{Moto, World, moto_available, strings};
use serde_json::Value;

#[test]
fn live_who_can_equals_who_can_over_the_saved_reading() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = World::populate(&moto);
    let url = moto.url();
    let aws = [
        "--profile",
        "a",
        "--principal-profile",
        "dilip",
        "--endpoint-url",
        url.as_str(),
    ];
    let selection = [
        "--bucket",
        "account-a-bucket",
        "--object",
        "reports/data.csv",
        "--op",
        "get,put",
    ];

    let mut live = strings(&["who-can", "--format", "json"]);
    live.extend(strings(&selection));
    live.extend(strings(&aws));
    let output = world.run(&live);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let live: Value = serde_json::from_slice(&output.stdout).unwrap();

    let saved = world.path("reading.json");
    let mut check = strings(&["check", "--format", "json", "--save-snapshot"]);
    check.push(saved.display().to_string());
    check.extend(strings(&selection));
    check.extend(strings(&aws));
    let output = world.run(&check);
    assert!(
        matches!(output.status.code(), Some(0 | 1 | 3)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut offline = strings(&["who-can", "--format", "json", "--snapshot"]);
    offline.push(saved.display().to_string());
    offline.extend(strings(&selection));
    let output = world.run(&offline);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let offline: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(live, offline);

    let principals: Vec<&str> = live["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["principal"].as_str().unwrap())
        .collect();
    assert!(
        principals.contains(&"arn:aws:iam::222222222222:user/dilip"),
        "{principals:?}"
    );
    assert!(
        principals.contains(&"arn:aws:iam::111111111111:root"),
        "{principals:?}"
    );
    // The caller, cross-account, reads and writes in this world.
    let dilip = live["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["principal"] == "arn:aws:iam::222222222222:user/dilip")
        .unwrap();
    assert_eq!(dilip["verdicts"]["get"], "allowed", "{dilip}");

    let mut missing = strings(&["who-can", "--bucket", "no-such-bucket"]);
    missing.extend(strings(&aws));
    let output = world.run(&missing);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    for secret in world.secrets() {
        assert!(!stderr.contains(&secret));
    }
}
