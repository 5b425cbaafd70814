//! Expectations judged over the README's walkthrough snapshot, where the
//! verdicts follow AWS's documented rules (see `fixtures/README.md`): dilip
//! (account 222222222222) may list the bucket, but the key policy gives his
//! account neither `kms:Decrypt` nor `kms:GenerateDataKey`.

use super::*;
use crate::pipeline::run_tests;
use crate::snapshot::Snapshot;

const WALKTHROUGH: &str = include_str!("../../fixtures/walkthrough.json");
const DILIP: &str = "arn:aws:iam::222222222222:user/dilip";

fn snapshot() -> Snapshot {
    Snapshot::parse("walkthrough.json", WALKTHROUGH).unwrap()
}

fn run_one(principal: &str, ops: &str, expect: &str, broken_link: Option<&str>) -> TestResult {
    let link = broken_link.map_or(String::new(), |link| format!("broken_link = \"{link}\"\n"));
    let ops: Vec<String> = ops.split(',').map(|op| format!("\"{op}\"")).collect();
    let text = format!(
        "bucket = \"account-a-bucket\"\nobject = \"reports/data.csv\"\n[[test]]\nname = \"t\"\nprincipal = \"{principal}\"\nops = [{}]\nexpect = \"{expect}\"\n{link}",
        ops.join(", ")
    );
    let file = parse("t.toml", &text).unwrap();
    let mut run = run_tests(&file, &snapshot(), None, Utc::now()).unwrap();
    run.results.remove(0)
}

#[test]
fn an_allowed_expectation_is_met_only_when_every_operation_is_allowed() {
    assert_eq!(
        run_one(DILIP, "list", "allowed", None).outcome,
        Outcome::Met
    );
    let unmet = run_one(DILIP, "list,get", "allowed", None);
    assert_eq!(unmet.outcome, Outcome::Unmet);
    assert_eq!(unmet.reason, "get is denied");
}

#[test]
fn a_denied_expectation_fails_when_any_listed_operation_is_allowed() {
    assert_eq!(
        run_one(DILIP, "get,put", "denied", None).outcome,
        Outcome::Met
    );
    // `list` goes through: "dilip cannot list or get" must not pass.
    let leak = run_one(DILIP, "list,get", "denied", None);
    assert_eq!(leak.outcome, Outcome::Unmet);
    assert_eq!(leak.reason, "list is allowed");
}

#[test]
fn broken_link_must_be_the_link_that_denies() {
    let met = run_one(DILIP, "get,put", "denied", Some("key-policy"));
    assert_eq!(met.outcome, Outcome::Met, "{}", met.reason);
    let other = run_one(DILIP, "get", "denied", Some("bucket-policy"));
    assert_eq!(other.outcome, Outcome::Unmet);
    assert_eq!(
        other.reason,
        "get is denied by key-policy, not by bucket-policy"
    );
}

#[test]
fn an_unread_principal_makes_the_expectation_inconclusive_never_met() {
    // Nothing is known of erin's identity policies: the snapshot lacks her.
    let erin = "arn:aws:iam::222222222222:user/erin";
    let result = run_one(erin, "list", "allowed", None);
    assert_eq!(result.outcome, Outcome::Inconclusive, "{}", result.reason);
    assert_eq!(result.verdicts.verdict, Verdict::Inconclusive);
}

#[test]
fn a_test_without_principal_uses_the_caller_or_is_refused() {
    let file = parse(
        "t.toml",
        "bucket = \"account-a-bucket\"\n[[test]]\nname = \"caller lists\"\nops = [\"list\"]\nexpect = \"allowed\"\n",
    )
    .unwrap();
    let error = run_tests(&file, &snapshot(), None, Utc::now()).unwrap_err();
    assert_eq!(error.line, Some(2));
    assert!(error.message.contains("caller lists"), "{error}");
    let run = run_tests(&file, &snapshot(), Some(DILIP), Utc::now()).unwrap();
    assert_eq!(run.results[0].diagnosis.as_ref().unwrap().principal, DILIP);
    assert_eq!(run.outcome(), Outcome::Met);
}

#[test]
fn a_bucket_missing_from_the_snapshot_is_bad_input_at_the_test() {
    let file = parse(
        "t.toml",
        &format!("[[test]]\nname = \"elsewhere\"\nbucket = \"other\"\nprincipal = \"{DILIP}\"\nexpect = \"allowed\"\n"),
    )
    .unwrap();
    let error = run_tests(&file, &snapshot(), None, Utc::now()).unwrap_err();
    assert_eq!(error.line, Some(1));
    assert!(error.message.contains("`other`"), "{error}");
}

#[test]
fn the_run_outcome_is_the_worst_of_its_tests() {
    let file = parse(
        "t.toml",
        &format!(
            "bucket = \"account-a-bucket\"\nprincipal_ops = 1\n[[test]]\nname = \"a\"\nprincipal = \"{DILIP}\"\nops = [\"list\"]\nexpect = \"allowed\"\n"
        ),
    );
    // Unknown top-level fields are refused too.
    assert!(file.is_err());
    let text = format!(
        "bucket = \"account-a-bucket\"\n[[test]]\nname = \"a\"\nprincipal = \"{DILIP}\"\nops = [\"list\"]\nexpect = \"allowed\"\n[[test]]\nname = \"b\"\nprincipal = \"arn:aws:iam::222222222222:user/erin\"\nops = [\"list\"]\nexpect = \"allowed\"\n"
    );
    let run = run_tests(
        &parse("t.toml", &text).unwrap(),
        &snapshot(),
        None,
        Utc::now(),
    )
    .unwrap();
    assert_eq!(run.outcome(), Outcome::Inconclusive);
    assert_eq!(
        (run.count(Outcome::Met), run.count(Outcome::Inconclusive)),
        (1, 1)
    );
}
