//! `--plan` and `--overlay` on the real binary, over the walkthrough: the
//! plan that removes account 222222222222 from the key policy breaks the
//! chain and the report names `aws_kms_key.reports`; the plan that grants it
//! mends it; a key created by the plan leaves what needs it unknown; layers
//! apply in command-line order; bad plans are bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn run(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    command.env_remove("NO_COLOR").env_remove("GITHUB_ACTIONS");
    command.args(args).output().expect("the binary runs")
}

/// `check` over the walkthrough for dilip's get and put, with `extra`.
fn check(extra: &[&str]) -> Output {
    check_ops("get,put", extra)
}

fn check_ops(ops: &str, extra: &[&str]) -> Output {
    let snapshot = fixture("walkthrough.json");
    let mut args = vec![
        "check",
        "--snapshot",
        &snapshot,
        "--bucket",
        "account-a-bucket",
        "--principal",
        DILIP,
        "--object",
        "reports/data.csv",
        "--op",
        ops,
        "--color",
        "never",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn the_breaking_plan_denies_at_the_key_policy_and_names_the_key_resource() {
    let plan = fixture("plans/walkthrough-remove-account-b.json");
    let output = check(&["--plan", &plan, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["verdict"], "denied");
    let decrypt = &report["operations"][0]["actions"][1];
    assert_eq!(decrypt["action"], "kms:Decrypt");
    let key_policy = decrypt["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["link"] == "key-policy")
        .unwrap();
    assert_eq!(key_policy["status"], "fail");
    assert!(
        key_policy["reason"]
            .as_str()
            .unwrap()
            .contains("`aws_kms_key.reports`"),
        "{key_policy}"
    );
    // The fix names the resource to edit.
    let change = &report["changes"][key_policy["change_index"].as_u64().unwrap() as usize];
    assert!(
        change["note"]
            .as_str()
            .unwrap()
            .contains("edit `aws_kms_key.reports`"),
        "{change}"
    );
    let text = check(&["--plan", &plan]);
    assert_eq!(text.status.code(), Some(1));
    assert!(stdout(&text).contains("aws_kms_key.reports"));
    let markdown = check(&["--plan", &plan, "--format", "markdown"]);
    assert!(stdout(&markdown).contains("aws_kms_key.reports"));
}

#[test]
fn the_fixing_plan_passes() {
    let plan = fixture("plans/walkthrough-grant-account-b.json");
    let output = check(&["--plan", &plan]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // Without the plan the walkthrough is denied: the plan made the change.
    assert_eq!(check(&[]).status.code(), Some(1));
}

#[test]
fn a_key_whose_arn_is_unknown_until_apply_leaves_the_upload_inconclusive() {
    let plan = fixture("plans/walkthrough-new-key.json");
    let output = check_ops("put", &["--plan", &plan, "--format", "json"]);
    assert_eq!(output.status.code(), Some(3), "{}", stdout(&output));
    let text = stdout(&output);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let links = report["operations"][0]["actions"][1]["links"]
        .as_array()
        .unwrap();
    let encryption = links
        .iter()
        .find(|link| link["link"] == "bucket-encryption")
        .unwrap();
    assert_eq!(encryption["status"], "unknown");
    assert!(
        encryption["help"]
            .as_str()
            .unwrap()
            .contains("`aws_kms_key.reports_v2`"),
        "{encryption}"
    );
}

#[test]
fn plan_and_overlay_apply_in_command_line_order() {
    let directory = tempfile::tempdir().unwrap();
    let disabled = directory.path().join("disabled.json");
    std::fs::write(
        &disabled,
        r#"{"format": "kms-s3-doctor/snapshot@1", "keys": [{"arn": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", "state": "Disabled"}]}"#,
    )
    .unwrap();
    let disabled = disabled.to_str().unwrap();
    let plan = fixture("plans/walkthrough-grant-account-b.json");
    // The overlay last: the key is disabled, whatever the plan says.
    let output = check(&["--plan", &plan, "--overlay", disabled, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("\"key-state\""));
    assert!(text.contains("then overlay"), "{text}");
    // The plan last: it enables the key again.
    let output = check(&["--overlay", disabled, "--plan", &plan]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains(&format!("overlay `{disabled}`, then plan")));
}

#[test]
fn access_tests_judge_the_plan() {
    let directory = tempfile::tempdir().unwrap();
    let tests = directory.path().join("access.toml");
    std::fs::write(
        &tests,
        format!(
            "bucket = \"account-a-bucket\"\nobject = \"reports/data.csv\"\n\n[[test]]\nname = \"partner reads and writes the daily report\"\nprincipal = \"{DILIP}\"\nops = [\"get\", \"put\"]\nexpect = \"allowed\"\n"
        ),
    )
    .unwrap();
    let tests = tests.to_str().unwrap();
    let snapshot = fixture("walkthrough.json");
    let test = |plan: &str| {
        let plan = fixture(plan);
        run(&[
            "test",
            tests,
            "--snapshot",
            &snapshot,
            "--plan",
            &plan,
            "--format",
            "markdown",
        ])
    };
    let broken = test("plans/walkthrough-remove-account-b.json");
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    let text = stdout(&broken);
    assert!(text.contains("key-policy"), "{text}");
    assert!(text.contains("aws_kms_key.reports"), "{text}");
    let fixed = test("plans/walkthrough-grant-account-b.json");
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout(&fixed));
}

#[test]
fn bad_plans_are_bad_input_in_one_line() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("state.json");
    std::fs::write(&state, r#"{"format_version": "1.0", "values": {}}"#).unwrap();
    let output = check(&["--plan", state.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("this is a state, not a plan"), "{message}");
    let missing = check(&["--plan", "/nonexistent/plan.json"]);
    assert_eq!(missing.status.code(), Some(2));
    let bad_overlay = directory.path().join("bad.json");
    std::fs::write(
        &bad_overlay,
        r#"{"format": "kms-s3-doctor/snapshot@1", "keys": [{"arn": "nope"}]}"#,
    )
    .unwrap();
    let output = check(&["--overlay", bad_overlay.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("/keys/0/arn"),
        "{}",
        stderr(&output)
    );
}
