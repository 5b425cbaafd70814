//! The walkthrough snapshot with thousands more principals spread over ten
//! accounts (placed before the judged principals, so that finding a
//! principal's documents cannot stop early), a request for one principal,
//! and an access-test file of many expectations: what the `principals` and
//! `memory` benches measure.

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Operation;
use serde_json::{Value, json};

fn extra_principal(index: usize) -> Value {
    let account = format!("{:012}", 444_444_444_000usize + index % 10);
    let arn = if index.is_multiple_of(2) {
        format!("arn:aws:iam::{account}:user/team-{}/u{index}", index % 7)
    } else {
        format!("arn:aws:iam::{account}:role/service/r{index}")
    };
    json!({
        "arn": arn,
        "tags": {"team": format!("team-{}", index % 7)},
        "policies": [{"name": "shared-read", "kind": "managed", "document": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::account-a-bucket/*"}]}}],
        "permissions_boundary": null,
        "session_policies": null
    })
}

/// The walkthrough snapshot with `extra` principals first.
pub fn many_principals(extra: usize) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let Ok(mut snapshot) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    let mut principals: Vec<Value> = (0..extra).map(extra_principal).collect();
    if let Some(Value::Array(known)) = snapshot.get_mut("principals") {
        principals.append(known);
        *known = principals;
    }
    snapshot.to_string()
}

pub fn request(principal: &str) -> CheckRequest {
    CheckRequest {
        access_point: None,
        bucket: "account-a-bucket".to_string(),
        object: Some("reports/data.csv".to_string()),
        principal: principal.to_string(),
        via_role: None,
        external_id: None,
        operations: Operation::DEFAULT.to_vec(),
        context: Vec::new(),
        via_service: None,
        unknown_context: Vec::new(),
        now: chrono::Utc::now(),
    }
}

pub fn tests_file(count: usize) -> String {
    const PRINCIPALS: [&str; 3] = [
        "arn:aws:iam::111111111111:user/ann",
        "arn:aws:iam::222222222222:user/dilip",
        "arn:aws:iam::444444444003:role/service/r3",
    ];
    let mut text = String::from("bucket = \"account-a-bucket\"\nobject = \"reports/data.csv\"\n");
    for index in 0..count {
        let expect = if index.is_multiple_of(2) {
            "allowed"
        } else {
            "denied"
        };
        text.push_str(&format!(
            "\n[[test]]\nname = \"expectation {index}\"\nprincipal = \"{}\"\nops = [\"get\"]\nexpect = \"{expect}\"\n",
            PRINCIPALS[index % PRINCIPALS.len()],
        ));
    }
    text
}
