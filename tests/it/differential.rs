//! The differential test: seeded cross-account (and some same-account)
//! chains, each judged by this tool and by an independent second evaluator,
//! `@cloud-copilot/iam-simulate` (run by `tools/differential/evaluate.mjs`,
//! installed with `npm ci --prefix tools/differential`). Every AWS request
//! of a `get` and a `put` is compared on its own: each S3 request (on the
//! object, against the identity policies, the permissions boundary, the
//! session policy, bucket policy, SCPs and RCPs) and each KMS request S3
//! makes for the caller (`kms:Decrypt`, `kms:GenerateDataKey` on the key,
//! against the key policy instead), each given the request context this
//! tool built for it. A disagreement fails the test
//! unless a class of `tests/differential/known-differences.toml` explains it
//! (each class names the AWS page that decides it, and is recognised by a
//! predicate below). Agreement is printed, overall and per class.
//!
//! `DIFFERENTIAL_CASES=5000` runs more chains (default 300) and
//! `DIFFERENTIAL_SEED` picks another seed. Without Node or the installed
//! package the test is skipped, except under `CI` (set, as CI sets it), where
//! it fails.
//! `DIFFERENTIAL_DUMP=FILE` writes the unexplained disagreements to a file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::policy::context::ContextValue;
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::{Value, json};

const BUCKET_ACCOUNT: &str = "111111111111";
const CALLER_ACCOUNT: &str = "222222222222";
const KEY_ARN: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OBJECT: &str = "reports/data.csv";
const OBJECT_ARN: &str = "arn:aws:s3:::bucket-a/reports/data.csv";

/// A small seeded generator (splitmix64): the same seed gives the same
/// chains on every machine.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Which document a statement is for: what elements it may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Identity,
    Boundary,
    Scp,
    Rcp,
    Bucket,
    Key,
}

fn condition(rng: &mut Seeded, caller_account: &str) -> Value {
    match rng.below(12) {
        0 => json!({*rng.pick(&["IpAddress", "NotIpAddress"]): {
            "aws:SourceIp": *rng.pick(&["203.0.113.0/24", "198.51.100.0/24"])}}),
        1 => json!({"Bool": {"aws:SecureTransport": *rng.pick(&["true", "false"])}}),
        2 => json!({*rng.pick(&["StringEquals", "StringNotEquals"]): {
            "kms:ViaService": *rng.pick(&["s3.eu-west-1.amazonaws.com", "ec2.eu-west-1.amazonaws.com"])}}),
        3 => json!({*rng.pick(&["StringEquals", "StringNotEquals"]): {
            "aws:PrincipalAccount": *rng.pick(&[caller_account, "333333333333"])}}),
        4 => json!({*rng.pick(&["StringEquals", "StringNotEquals"]): {
            "aws:ResourceAccount": *rng.pick(&[BUCKET_ACCOUNT, "333333333333"])}}),
        5 => json!({*rng.pick(&["Bool", "BoolIfExists"]): {
            "aws:ViaAWSService": *rng.pick(&["true", "false"])}}),
        6 => json!({*rng.pick(&["StringLike", "StringNotLike"]): {
            "kms:EncryptionContext:aws:s3:arn": *rng.pick(&["arn:aws:s3:::bucket-a/*", "arn:aws:s3:::bucket-a", "arn:aws:s3:::other/*"])}}),
        7 => json!({*rng.pick(&["StringEquals", "StringNotEqualsIfExists"]): {
            "aws:PrincipalTag/team": *rng.pick(&["data", "ops"])}}),
        8 => json!({*rng.pick(&["StringEquals", "StringNotEquals"]): {
            "aws:RequestedRegion": *rng.pick(&["eu-west-1", "us-east-1"])}}),
        9 => {
            json!({"StringEquals": {"kms:CallerAccount": *rng.pick(&[caller_account, "333333333333"])}})
        }
        // Left unknown to the tool (how the caller signed in): the tool
        // decides only when every value gives the same result, which must
        // then be the simulator's result with the key absent.
        10 => json!({*rng.pick(&["Bool", "BoolIfExists"]): {
            "aws:MultiFactorAuthPresent": *rng.pick(&["true", "false"])}}),
        _ => {
            json!({"Null": {*rng.pick(&["aws:SourceIp", "kms:ViaService", "aws:PrincipalTag/team"]): *rng.pick(&["true", "false"])}})
        }
    }
}

/// `names`: the ARNs a resource policy can name the caller by (the user;
/// or the role and its session).
fn statement(rng: &mut Seeded, kind: Kind, names: &[String], caller_account: &str) -> Value {
    let deny = match kind {
        Kind::Rcp => true,
        Kind::Scp => rng.chance(60),
        _ => rng.chance(25),
    };
    let actions = [
        "s3:GetObject",
        "s3:Get*",
        "s3:*",
        "kms:Decrypt",
        "kms:*",
        "*",
        "s3:PutObject",
        "kms:GenerateDataKey*",
    ];
    let mut statement = serde_json::Map::new();
    statement.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
    // An RCP denies ("RCP syntax", AWS Organizations User Guide: Allow is
    // only supported for RCPFullAWSAccess); iam-simulate also refuses a
    // bare `*` action and `NotAction` in one, so none is generated.
    let actions: &[&str] = match kind {
        Kind::Rcp => &actions[..5],
        _ => &actions,
    };
    let action: Vec<&str> = (0..1 + rng.below(2)).map(|_| *rng.pick(actions)).collect();
    let negated = deny && kind != Kind::Rcp && rng.chance(10);
    statement.insert(
        if negated { "NotAction" } else { "Action" }.into(),
        json!(action),
    );
    let resources = [
        "*",
        "arn:aws:s3:::bucket-a/*",
        "arn:aws:s3:::bucket-a/reports/*",
        "arn:aws:s3:::bucket-a/other/*",
        KEY_ARN,
        "arn:aws:kms:eu-west-1:111111111111:key/*",
    ];
    let resource = match kind {
        Kind::Key => "*",
        _ => *rng.pick(&resources),
    };
    statement.insert("Resource".into(), json!(resource));
    match kind {
        Kind::Bucket | Kind::Key => {
            let caller_root = format!("arn:aws:iam::{caller_account}:root");
            let bucket_root = format!("arn:aws:iam::{BUCKET_ACCOUNT}:root");
            let principals: [Value; 5] = [
                json!({"AWS": caller_root}),
                json!({"AWS": rng.pick(names)}),
                json!({"AWS": bucket_root}),
                json!("*"),
                json!({"AWS": "arn:aws:iam::333333333333:root"}),
            ];
            statement.insert("Principal".into(), rng.pick(&principals).clone());
        }
        Kind::Rcp => {
            statement.insert("Principal".into(), json!("*"));
        }
        _ => {}
    }
    if rng.chance(40) || kind == Kind::Rcp {
        statement.insert("Condition".into(), condition(rng, caller_account));
    }
    Value::Object(statement)
}

fn document(
    rng: &mut Seeded,
    kind: Kind,
    user: &[String],
    caller_account: &str,
    count: usize,
) -> Value {
    let statements: Vec<Value> = (0..count)
        .map(|_| statement(rng, kind, user, caller_account))
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn full_access() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

fn rcp_full_access() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
}

/// One generated chain: the snapshot and the caller.
struct Chain {
    snapshot: Value,
    user: String,
    source_ip: &'static str,
}

fn chain_of(rng: &mut Seeded) -> Chain {
    let caller_account = if rng.chance(75) {
        CALLER_ACCOUNT
    } else {
        BUCKET_ACCOUNT
    };
    // A role session in three chains of ten, else an IAM user.
    let session = rng.chance(30);
    let (entry, caller) = if session {
        (
            format!("arn:aws:iam::{caller_account}:role/etl"),
            format!("arn:aws:sts::{caller_account}:assumed-role/etl/s1"),
        )
    } else {
        let user = format!("arn:aws:iam::{caller_account}:user/u1");
        (user.clone(), user)
    };
    let names = if session {
        vec![entry.clone(), caller.clone()]
    } else {
        vec![caller.clone()]
    };
    let user = names.as_slice();
    let mut policies = Vec::new();
    for index in 0..1 + rng.below(2) {
        let count = 1 + rng.below(3);
        policies.push(json!({"name": format!("p{index}"), "kind": "inline",
            "document": document(rng, Kind::Identity, user, caller_account, count)}));
    }
    let boundary = if rng.chance(20) {
        let count = 1 + rng.below(2);
        json!({"name": format!("arn:aws:iam::{caller_account}:policy/boundary"),
            "document": document(rng, Kind::Boundary, user, caller_account, count)})
    } else {
        Value::Null
    };
    let bucket_policy = if rng.chance(80) {
        let count = 1 + rng.below(3);
        document(rng, Kind::Bucket, user, caller_account, count)
    } else {
        Value::Null
    };
    let count = 1 + rng.below(3);
    let mut key_policy = document(rng, Kind::Key, user, caller_account, count);
    if rng.chance(70) {
        key_policy["Statement"].as_array_mut().unwrap().insert(
            0,
            json!({"Sid": "EnableIamPolicies", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{BUCKET_ACCOUNT}:root")},
                "Action": "kms:*", "Resource": "*"}),
        );
    }
    let mut accounts = serde_json::Map::new();
    for account in [BUCKET_ACCOUNT, CALLER_ACCOUNT] {
        let scps = if rng.chance(30) {
            let count = 1 + rng.below(2);
            json!([[{"name": "FullAWSAccess", "document": full_access()}],
                   [{"name": "guard", "document": document(rng, Kind::Scp, user, caller_account, count)}]])
        } else {
            Value::Null
        };
        let rcps = if rng.chance(20) {
            // AWS attaches RCPFullAWSAccess to the root, every OU and every
            // account, and it cannot be detached (AWS Organizations User
            // Guide, "RCP evaluation", "RCP syntax").
            json!([[{"name": "RCPFullAWSAccess", "document": rcp_full_access()}],
                   [{"name": "RCPFullAWSAccess", "document": rcp_full_access()},
                    {"name": "perimeter", "document": document(rng, Kind::Rcp, user, caller_account, 1)}]])
        } else {
            Value::Null
        };
        let organization = !scps.is_null() || !rcps.is_null();
        accounts.insert(
            account.to_string(),
            json!({"org_id": if organization { json!("o-example") } else { Value::Null },
                "scps": scps, "rcps": rcps}),
        );
    }
    let trust_policy = if session {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    } else {
        Value::Null
    };
    let session_policies = if session && rng.chance(50) {
        let count = 1 + rng.below(2);
        json!([document(rng, Kind::Identity, user, caller_account, count)])
    } else {
        Value::Null
    };
    let bucket_key = rng.chance(50);
    let encryption = json!({"algorithm": "aws:kms", "key": KEY_ARN, "bucket_key": bucket_key});
    let snapshot = json!({
        "format": "kms-s3-doctor/snapshot@1",
        "captured_at": "2026-11-22T10:00:00Z",
        "accounts": accounts,
        "buckets": [{
            "name": "bucket-a", "account": BUCKET_ACCOUNT, "region": "eu-west-1",
            "policy": bucket_policy,
            "encryption": encryption,
            "ownership": "BucketOwnerEnforced",
            "objects": [{"key": OBJECT, "owner": BUCKET_ACCOUNT, "encryption": encryption,
                "acl": [{"grantee": BUCKET_ACCOUNT, "permission": "FULL_CONTROL"}]}]
        }],
        "keys": [{"arn": KEY_ARN, "aliases": [], "manager": "CUSTOMER", "state": "Enabled",
            "policy": key_policy, "grants": []}],
        "principals": [{
            "arn": entry, "id": if session { "AROAETLEXAMPLE" } else { "AIDAU1EXAMPLE" },
            "tags": {"team": *rng.pick(&["data", "ops"])},
            "policies": policies, "permissions_boundary": boundary,
            "trust_policy": trust_policy, "session_policies": session_policies
        }]
    });
    const SOURCE_IPS: [&str; 2] = ["203.0.113.7", "198.51.100.4"];
    let source_ip = SOURCE_IPS[rng.below(SOURCE_IPS.len())];
    Chain {
        snapshot,
        user: caller,
        source_ip,
    }
}

/// One AWS request of a chain, as both evaluators see it.
struct Compared {
    chain: usize,
    action: &'static str,
    tool: Verdict,
    /// The tool's failing and unknown links, for the message.
    why: String,
    /// Whether a link was decided over every value of a key the tool
    /// cannot know ("denied whatever `K` is").
    over_worlds: bool,
    simulation: Value,
}

fn org_levels(levels: &Value) -> Value {
    let Some(levels) = levels.as_array() else {
        return json!([]);
    };
    Value::Array(
        levels
            .iter()
            .enumerate()
            .map(|(index, policies)| {
                // iam-simulate adds RCPFullAWSAccess itself, and refuses
                // it as input.
                let policies: Vec<Value> = policies
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|named| named["name"] != "RCPFullAWSAccess")
                    .map(|named| json!({"name": named["name"], "policy": named["document"]}))
                    .collect();
                json!({"orgIdentifier": format!("level-{index}"), "policies": policies})
            })
            .collect(),
    )
}

fn context_variables(context: &kms_s3_doctor::policy::context::RequestContext) -> Value {
    let mut out = serde_json::Map::new();
    for (key, value) in context.iter() {
        if let ContextValue::Present(values) = value {
            let value = match values.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            out.insert(key.to_string(), value);
        }
    }
    Value::Object(out)
}

fn compare(index: usize, chain: &Chain) -> Vec<Compared> {
    let snapshot = Snapshot::parse("s", &chain.snapshot.to_string()).unwrap();
    let request = CheckRequest {
        access_point: None,
        via_service: None,
        unknown_context: Vec::new(),
        bucket: "bucket-a".into(),
        object: Some(OBJECT.into()),
        principal: chain.user.clone(),
        via_role: None,
        external_id: None,
        operations: vec![
            Operation::parse("get").unwrap(),
            Operation::parse("put").unwrap(),
        ],
        context: vec![("aws:SourceIp".into(), chain.source_ip.into())],
        now: chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .to_utc(),
    };
    let judgement = chain::judge(&snapshot, &request).unwrap();
    let contexts = judgement.request_contexts();
    let principal = &chain.snapshot["principals"][0];
    let caller_account = chain.user.split(':').nth(4).unwrap().to_string();
    let identity: Vec<Value> = principal["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|named| json!({"name": named["name"], "policy": named["document"]}))
        .collect();
    let mut out = Vec::new();
    for (action, resource, context_of, resource_policy) in [
        (
            "s3:GetObject",
            OBJECT_ARN,
            "object",
            chain.snapshot["buckets"][0]["policy"].clone(),
        ),
        (
            "kms:Decrypt",
            KEY_ARN,
            KEY_ARN,
            chain.snapshot["keys"][0]["policy"].clone(),
        ),
        (
            "s3:PutObject",
            OBJECT_ARN,
            "object-put",
            chain.snapshot["buckets"][0]["policy"].clone(),
        ),
        (
            "kms:GenerateDataKey",
            KEY_ARN,
            KEY_ARN,
            chain.snapshot["keys"][0]["policy"].clone(),
        ),
    ] {
        let Some(judged) = judgement
            .diagnosis
            .operations
            .iter()
            .flat_map(|operation| &operation.actions)
            .find(|result| result.action == action)
        else {
            continue;
        };
        let why: Vec<String> = judged
            .links
            .iter()
            .filter(|link| link.status != kms_s3_doctor::diagnosis::LinkStatus::Pass)
            .map(|link| format!("{}: {}", link.link.as_str(), link.reason))
            .collect();
        let Some((_, context)) = contexts.iter().find(|(built, _)| built == context_of) else {
            continue;
        };
        let mut simulation = json!({
            "request": {
                "principal": chain.user,
                "action": action,
                "resource": {"resource": resource, "accountId": BUCKET_ACCOUNT},
                "contextVariables": context_variables(context),
            },
            "identityPolicies": identity,
            "serviceControlPolicies": org_levels(&chain.snapshot["accounts"][&caller_account]["scps"]),
            "resourceControlPolicies": org_levels(&chain.snapshot["accounts"][BUCKET_ACCOUNT]["rcps"]),
        });
        if !resource_policy.is_null() {
            simulation["resourcePolicy"] = resource_policy;
        }
        if let Some(session_policy) = principal["session_policies"].get(0) {
            simulation["sessionPolicy"] = session_policy.clone();
        }
        if !principal["permissions_boundary"].is_null() {
            simulation["permissionBoundaryPolicies"] = json!([{
                "name": principal["permissions_boundary"]["name"],
                "policy": principal["permissions_boundary"]["document"],
            }]);
        }
        out.push(Compared {
            chain: index,
            action,
            tool: judged.verdict,
            why: why.join("; "),
            over_worlds: judged
                .links
                .iter()
                .any(|link| link.reason.contains(" whatever `")),
            simulation,
        });
    }
    out
}

/// Where the second evaluator is, or why the test cannot run.
fn evaluator() -> Result<PathBuf, String> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/differential");
    if Command::new("node").arg("--version").output().is_err() {
        return Err("node is not installed".into());
    }
    if !folder
        .join("node_modules/@cloud-copilot/iam-simulate/package.json")
        .exists()
    {
        return Err(
            "@cloud-copilot/iam-simulate is not installed (npm ci --prefix tools/differential)"
                .into(),
        );
    }
    Ok(folder.join("evaluate.mjs"))
}

fn simulate(script: &Path, compared: &[Compared]) -> Vec<Result<String, String>> {
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(script.parent().unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for (id, case) in compared.iter().enumerate() {
        input.push_str(&json!({"id": id, "simulation": case.simulation}).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "the second evaluator failed");
    let mut results = vec![Err("no answer".to_string()); compared.len()];
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let answer: Value = serde_json::from_str(line).unwrap();
        let id = answer["id"].as_u64().unwrap() as usize;
        results[id] = match answer["result"].as_str() {
            Some(result) => Ok(result.to_string()),
            None => Err(answer["error"].as_str().unwrap_or_default().to_string()),
        };
    }
    results
}

/// A known class of difference: its id, why, and the page that decides it.
struct KnownClass {
    id: String,
    reason: String,
    page: String,
}

fn known_classes() -> Vec<KnownClass> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/differential/known-differences.toml");
    let file: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file["class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|class| KnownClass {
            id: class["id"].as_str().unwrap().to_string(),
            reason: class["reason"].as_str().unwrap().to_string(),
            page: class["page"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Every statement of the documents the request is evaluated against.
fn statements(case: &Compared) -> Vec<&Value> {
    let simulation = &case.simulation;
    let mut documents: Vec<&Value> = Vec::new();
    for named in simulation["identityPolicies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        documents.push(&named["policy"]);
    }
    for levels in ["serviceControlPolicies", "resourceControlPolicies"] {
        for level in simulation[levels].as_array().into_iter().flatten() {
            for named in level["policies"].as_array().into_iter().flatten() {
                documents.push(&named["policy"]);
            }
        }
    }
    for named in simulation["permissionBoundaryPolicies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        documents.push(&named["policy"]);
    }
    if !simulation["resourcePolicy"].is_null() {
        documents.push(&simulation["resourcePolicy"]);
    }
    documents
        .into_iter()
        .flat_map(|document| document["Statement"].as_array().into_iter().flatten())
        .collect()
}

/// The known class that explains a disagreement, by predicate.
fn classify(case: &Compared) -> Option<&'static str> {
    let conditions_on = |prefix: &str| {
        statements(case).iter().any(|statement| {
            statement["Condition"]
                .as_object()
                .into_iter()
                .flat_map(|operators| operators.values())
                .filter_map(Value::as_object)
                .flat_map(|keys| keys.keys())
                .any(|key| key.to_ascii_lowercase().starts_with(prefix))
        })
    };
    if case.action.starts_with("kms:") && conditions_on("kms:encryptioncontext:aws:") {
        return Some("encryption-context-key-with-colons");
    }
    let simulation = &case.simulation;
    let principal = simulation["request"]["principal"]
        .as_str()
        .unwrap_or_default();
    let names_session = simulation["resourcePolicy"]["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|statement| {
            statement["Effect"] == "Allow" && statement["Principal"]["AWS"] == principal
        });
    let same_account =
        principal.split(':').nth(4) == simulation["request"]["resource"]["accountId"].as_str();
    if case.tool == Verdict::Allowed
        && principal.contains(":assumed-role/")
        && !simulation["sessionPolicy"].is_null()
        && same_account
        && names_session
    {
        return Some("session-arn-grant-beside-a-session-policy");
    }
    None
}

#[test]
fn the_judge_agrees_with_a_second_evaluator() {
    let script = match evaluator() {
        Ok(script) => script,
        Err(why) => {
            if std::env::var_os("CI").is_some() {
                panic!("the differential test cannot run under CI: {why}");
            }
            eprintln!("note: skipping the differential test: {why}");
            return;
        }
    };
    let cases: usize = std::env::var("DIFFERENTIAL_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("DIFFERENTIAL_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20261122);
    let classes = known_classes();
    let mut rng = Seeded(seed);
    let mut compared = Vec::new();
    for index in 0..cases {
        let chain = chain_of(&mut rng);
        compared.extend(compare(index, &chain));
    }
    let results = simulate(&script, &compared);
    let mut agreed = 0usize;
    let mut agreed_allowed = 0usize;
    let mut agreed_over_worlds = 0usize;
    let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for (case, result) in compared.iter().zip(&results) {
        let simulated = match result {
            Ok(result) => result.as_str(),
            Err(error) => {
                *per_class.entry("simulator-refuses-input").or_default() += 1;
                if !classes
                    .iter()
                    .any(|class| class.id == "simulator-refuses-input")
                {
                    unexplained.push(format!(
                        "chain {} {}: simulator error {error}",
                        case.chain, case.action
                    ));
                }
                continue;
            }
        };
        let same = match case.tool {
            Verdict::Allowed => simulated == "Allowed",
            Verdict::Denied => simulated != "Allowed",
            Verdict::Inconclusive => {
                *per_class.entry("tool-unknown").or_default() += 1;
                continue;
            }
        };
        if same {
            agreed += 1;
            if case.tool == Verdict::Allowed {
                agreed_allowed += 1;
            }
            if case.over_worlds {
                agreed_over_worlds += 1;
            }
            continue;
        }
        match classify(case) {
            Some(class) => *per_class.entry(class).or_default() += 1,
            None => unexplained.push(format!(
                "chain {} {}: tool {:?}, iam-simulate {simulated} ({})\n{}",
                case.chain,
                case.action,
                case.tool,
                case.why,
                serde_json::to_string(&case.simulation).unwrap()
            )),
        }
    }
    let total = compared.len();
    eprintln!(
        "differential: {cases} chains, {total} AWS requests, {agreed} agree ({:.1}%; {agreed_allowed} allowed, {} denied), seed {seed}",
        100.0 * agreed as f64 / total.max(1) as f64,
        agreed - agreed_allowed
    );
    eprintln!(
        "  of which decided over every value of a key the tool cannot know: {agreed_over_worlds} (of {})",
        compared.iter().filter(|case| case.over_worlds).count()
    );
    for (class, count) in &per_class {
        let page = classes
            .iter()
            .find(|known| known.id == *class)
            .map(|known| format!(" — {} ({})", known.reason, known.page))
            .unwrap_or_default();
        eprintln!("  {class}: {count}{page}");
    }
    eprintln!("  unexplained: {}", unexplained.len());
    if let Ok(path) = std::env::var("DIFFERENTIAL_DUMP") {
        std::fs::write(path, unexplained.join("\n\n")).unwrap();
    }
    for class in per_class.keys() {
        assert!(
            classes.iter().any(|known| known.id == *class),
            "class `{class}` is not documented in tests/differential/known-differences.toml"
        );
    }
    assert!(
        unexplained.is_empty(),
        "{} disagreements outside the known classes:\n{}",
        unexplained.len(),
        unexplained
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}
