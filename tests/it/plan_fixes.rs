//! Fixes to documents a `--plan` resource writes, on the real binary: shown
//! as the HCL to put in that resource (or in the `aws_iam_policy_document`
//! it reads), never as an AWS CLI command the next `terraform apply` would
//! undo; the HCL parses and says exactly the document after the change;
//! `--write-fixes` puts it in `fixes.tf.txt`, not in `apply.sh`; a widening
//! change stays flagged and left out; documents the plan does not manage
//! keep their command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kms-s3-doctor"))
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `check` of dilip's get over `snapshot` and `plan`, with `extra`.
fn check(snapshot: &Path, bucket: &str, plan: &Path, extra: &[&str]) -> Output {
    let snapshot = snapshot.to_str().unwrap();
    let plan = plan.to_str().unwrap();
    let mut args = vec![
        "check",
        "--snapshot",
        snapshot,
        "--bucket",
        bucket,
        "--principal",
        DILIP,
        "--object",
        "reports/data.csv",
        "--op",
        "get",
        "--color",
        "never",
        "--plan",
        plan,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The `jsonencode(...)` argument of `attribute` in `hcl`, evaluated.
fn jsonencoded(hcl: &str, attribute: &str) -> Value {
    let body: hcl::Body = hcl::parse(hcl).unwrap_or_else(|error| panic!("not HCL: {error}\n{hcl}"));
    let found = body
        .attributes()
        .find(|a| a.key() == attribute)
        .unwrap_or_else(|| panic!("no `{attribute}` in\n{hcl}"));
    let hcl::Expression::FuncCall(call) = found.expr() else {
        panic!("not jsonencode: {hcl}");
    };
    assert_eq!(call.name.to_string(), "jsonencode");
    let value: hcl::Value =
        hcl::eval::Evaluate::evaluate(&call.args[0], &hcl::eval::Context::new())
            .expect("a literal");
    serde_json::to_value(value).unwrap()
}

#[test]
fn a_key_policy_the_plan_writes_is_fixed_in_its_resource() {
    // KMS Developer Guide, "Allowing users in other accounts to use a KMS
    // key": the key policy must allow account 222222222222, which the plan
    // removes; the fix is made in `aws_kms_key.reports`.
    let plan = fixture("plans/walkthrough-remove-account-b.json");
    let output = check(
        &fixture("walkthrough.json"),
        "account-a-bucket",
        &plan,
        &["--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json_report(&output);
    let changes = report["changes"].as_array().unwrap();
    let key = changes
        .iter()
        .find(|c| c["document"] == "key-policy")
        .expect("a key-policy change");
    assert!(key.get("command").is_none(), "{key:#}");
    let edit = &key["terraform"];
    assert_eq!(edit["address"], "aws_kms_key.reports");
    assert_eq!(edit["attribute"], "policy");
    assert_eq!(edit["data_source"], Value::Null);
    assert_eq!(
        jsonencoded(edit["hcl"].as_str().unwrap(), "policy"),
        key["document_after"]
    );

    // The text report shows the resource and no AWS CLI command for it.
    let text = check(&fixture("walkthrough.json"), "account-a-bucket", &plan, &[]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("terraform: edit `aws_kms_key.reports`, argument `policy`"),
        "{text}"
    );
    assert!(!text.contains("aws kms put-key-policy"), "{text}");
}

#[test]
fn write_fixes_puts_the_edit_beside_apply_sh_and_runs_no_aws_command_for_it() {
    let plan = fixture("plans/walkthrough-remove-account-b.json");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fixes");
    let output = check(
        &fixture("walkthrough.json"),
        "account-a-bucket",
        &plan,
        &["--write-fixes", out.to_str().unwrap()],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let script = std::fs::read_to_string(out.join("apply.sh")).unwrap();
    assert!(!script.contains("aws kms put-key-policy"), "{script}");
    assert!(
        script.contains("not run here: `aws_kms_key.reports` in plan"),
        "{script}"
    );
    let terraform = std::fs::read_to_string(out.join("fixes.tf.txt")).unwrap();
    let body: hcl::Body = hcl::parse(&terraform).unwrap();
    assert_eq!(body.attributes().count(), 1, "{terraform}");
    assert!(terraform.contains("\"AllowKmsDecrypt\""), "{terraform}");
}

#[test]
fn without_the_plan_the_same_fix_is_a_command() {
    let output = run(&[
        "check",
        "--snapshot",
        fixture("walkthrough.json").to_str().unwrap(),
        "--bucket",
        "account-a-bucket",
        "--principal",
        DILIP,
        "--object",
        "reports/data.csv",
        "--op",
        "get",
        "--format",
        "json",
    ]);
    let report = json_report(&output);
    for change in report["changes"].as_array().unwrap() {
        assert!(change.get("terraform").is_none(), "{change:#}");
    }
    assert!(report["changes"].as_array().unwrap().iter().any(|c| {
        c["command"]
            .as_str()
            .is_some_and(|c| c.starts_with("aws kms put-key-policy"))
    }));
}

#[test]
fn a_bucket_policy_from_a_policy_document_is_fixed_in_the_data_source() {
    // The real plan of awslabs/terraform-iam-policy-validator: the bucket
    // policy is `data.aws_iam_policy_document.allow_access_from_another_account.json`
    // and grants only account 123456789012. IAM User Guide, "Cross account
    // resource access in IAM": dilip of 222222222222 needs the bucket
    // policy to grant him too.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    let text = std::fs::read_to_string(fixture("walkthrough.json"))
        .unwrap()
        .replace("account-a-bucket", "my-tf-test-bucket");
    std::fs::write(&snapshot, text).unwrap();
    let plan = fixture("plans/tfpv-no_access_granted.json");
    let output = check(&snapshot, "my-tf-test-bucket", &plan, &["--format", "json"]);
    let report = json_report(&output);
    let change = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["document"] == "bucket-policy")
        .unwrap_or_else(|| panic!("no bucket-policy change: {report:#}"));
    assert!(change.get("command").is_none(), "{change:#}");
    let edit = &change["terraform"];
    assert_eq!(
        edit["address"],
        "aws_s3_bucket_policy.allow_access_from_another_account"
    );
    assert_eq!(
        edit["data_source"],
        "data.aws_iam_policy_document.allow_access_from_another_account"
    );
    let hcl = edit["hcl"].as_str().unwrap();
    let body: hcl::Body = hcl::parse(hcl).unwrap_or_else(|error| panic!("{error}\n{hcl}"));
    let block = body.blocks().next().expect("the data block");
    assert_eq!(block.identifier(), "data");
    let statements = block
        .body()
        .blocks()
        .filter(|b| b.identifier() == "statement")
        .count();
    assert_eq!(
        statements,
        change["document_after"]["Statement"]
            .as_array()
            .unwrap()
            .len(),
        "{hcl}"
    );
    assert!(hcl.contains(DILIP), "{hcl}");
}

#[test]
fn a_change_that_widens_a_guard_stays_flagged_and_left_out() {
    // IAM User Guide, "Policy evaluation logic": an explicit Deny in the key
    // policy wins; removing it widens a guard, which `--write-fixes` leaves
    // out unless `--include-widening`, in Terraform as in apply.sh.
    let mut plan: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("plans/walkthrough-grant-account-b.json")).unwrap(),
    )
    .unwrap();
    let after = &mut plan["resource_changes"][0]["change"]["after"]["policy"];
    let mut policy: Value = serde_json::from_str(after.as_str().unwrap()).unwrap();
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "Sid": "DenyDilip", "Effect": "Deny",
            "Principal": {"AWS": DILIP}, "Action": "kms:Decrypt", "Resource": "*"
        }));
    *after = Value::String(policy.to_string());
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let out = dir.path().join("fixes");
    let output = check(
        &fixture("walkthrough.json"),
        "account-a-bucket",
        &plan_file,
        &["--format", "json", "--write-fixes", out.to_str().unwrap()],
    );
    let report = json_report(&output);
    let change = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["document"] == "key-policy")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(change["widens"], serde_json::json!(["DenyDilip"]));
    let hcl = change["terraform"]["hcl"].as_str().unwrap();
    assert!(hcl.contains("it widens a guard (DenyDilip)"), "{hcl}");
    assert!(!jsonencoded(hcl, "policy").to_string().contains("DenyDilip"));
    let terraform = std::fs::read_to_string(out.join("fixes.tf.txt")).unwrap();
    assert!(
        terraform.contains("left out: it widens a guard (DenyDilip)"),
        "{terraform}"
    );
    assert!(!terraform.contains("jsonencode"), "{terraform}");
    let script = std::fs::read_to_string(out.join("apply.sh")).unwrap();
    assert!(!script.contains("aws kms"), "{script}");
}

#[test]
fn an_scp_the_plan_writes_is_fixed_in_its_organizations_policy() {
    // Organizations User Guide, "SCP evaluation": a Deny in an SCP of the
    // caller's account wins over every grant; the plan rewrites that SCP's
    // `content`, so the fix is made in `aws_organizations_policy.guard`.
    let deny = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]});
    let mut snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("walkthrough.json")).unwrap())
            .unwrap();
    snapshot["accounts"]["222222222222"]["org_id"] = Value::String("o-abc123".into());
    snapshot["accounts"]["222222222222"]["scps"] = serde_json::json!([
        [{"name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
        [{"name": "guard", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]
    ]);
    let mut plan: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("plans/walkthrough-grant-account-b.json")).unwrap(),
    )
    .unwrap();
    let organizations = serde_json::json!({
        "address": "aws_organizations_policy.guard", "mode": "managed",
        "type": "aws_organizations_policy", "name": "guard",
        "change": {"actions": ["update"],
            "before": {"name": "guard", "type": "SERVICE_CONTROL_POLICY", "id": "p-1", "content": "{}"},
            "after": {"name": "guard", "type": "SERVICE_CONTROL_POLICY", "id": "p-1", "content": deny.to_string()},
            "after_unknown": {}}
    });
    plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .push(organizations);
    let dir = tempfile::tempdir().unwrap();
    let (snapshot_file, plan_file) = (dir.path().join("s.json"), dir.path().join("p.json"));
    std::fs::write(&snapshot_file, snapshot.to_string()).unwrap();
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let output = check(
        &snapshot_file,
        "account-a-bucket",
        &plan_file,
        &["--format", "json"],
    );
    let report = json_report(&output);
    let change = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["document"] == "scp")
        .unwrap_or_else(|| panic!("no scp change: {report:#}"));
    assert!(change.get("command").is_none(), "{change:#}");
    let edit = &change["terraform"];
    assert_eq!(
        edit["address"], "aws_organizations_policy.guard",
        "{change:#}"
    );
    assert_eq!(edit["attribute"], "content");
    assert_eq!(
        jsonencoded(edit["hcl"].as_str().unwrap(), "content"),
        change["document_after"]
    );
    assert_eq!(change["widens"], serde_json::json!(["NoDecrypt"]));
}
