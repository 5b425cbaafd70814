//! Scenarios of `fixtures/scenarios/` as library requests, for the tests
//! that judge them in process rather than through the binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use kms_s3_doctor::snapshot::Snapshot;
use serde_json::Value;

/// The flags of a scenario's `args` that make a request, judged now.
pub fn request_of(args: &[String]) -> Option<CheckRequest> {
    request_at(args, String::new(), Utc::now())
}

/// The flags of `args` as a request for `principal` (unless `--principal`
/// names another) at `now`; None for a flag this parser does not model.
fn request_at(args: &[String], principal: String, now: DateTime<Utc>) -> Option<CheckRequest> {
    let mut request = CheckRequest {
        access_point: None,
        bucket: String::new(),
        object: None,
        principal,
        via_role: None,
        external_id: None,
        operations: Operation::DEFAULT.to_vec(),
        context: Vec::new(),
        via_service: None,
        unknown_context: Vec::new(),
        now,
    };
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words.next()?.clone();
        match flag.as_str() {
            "--bucket" => request.bucket = value,
            "--object" => request.object = Some(value),
            "--principal" => request.principal = value,
            "--via-role" => request.via_role = Some(value),
            "--access-point" => request.access_point = Some(value),
            "--external-id" => request.external_id = Some(value),
            "--via-service" => request.via_service = Some(value),
            "--op" => {
                request.operations = value
                    .split(',')
                    .map(Operation::parse)
                    .collect::<Option<Vec<_>>>()?
            }
            "--context" => {
                let (key, value) = value.split_once('=')?;
                request.context.push((key.to_string(), value.to_string()));
            }
            "--expect" | "--format" | "--color" => {}
            _ => return None,
        }
    }
    Some(request)
}

/// A scenario whose arguments make a request the library can judge.
pub struct Scenario {
    pub name: String,
    pub snapshot: Value,
    pub request: CheckRequest,
}

/// Every scenario with a bucket, a caller (`--principal` or the snapshot's
/// `caller`) and a snapshot that loads, judged at the time the scenarios'
/// snapshots were captured; read once.
pub fn judgeable() -> &'static [Scenario] {
    static ALL: OnceLock<Vec<Scenario>> = OnceLock::new();
    ALL.get_or_init(|| {
        let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
        let mut paths: Vec<_> = std::fs::read_dir(&directory)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        let captured = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .to_utc();
        let mut out = Vec::new();
        for path in paths {
            let scenario: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let Some(args) = scenario["args"].as_array() else {
                continue;
            };
            let args: Vec<String> = args
                .iter()
                .map(|arg| arg.as_str().unwrap_or_default().to_string())
                .collect();
            let caller = scenario["snapshot"]["caller"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let Some(request) = request_at(&args, caller, captured) else {
                continue;
            };
            // Scenarios of malformed input have nothing to judge.
            if request.bucket.is_empty()
                || request.principal.is_empty()
                || Snapshot::parse("s", &scenario["snapshot"].to_string()).is_err()
            {
                continue;
            }
            out.push(Scenario {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                snapshot: scenario["snapshot"].clone(),
                request,
            });
        }
        assert!(out.len() > 50, "only {} scenarios", out.len());
        out
    })
}

/// The verdict of `request` over a snapshot value; None when the snapshot
/// or the request is refused.
pub fn verdict(snapshot: &Value, request: &CheckRequest) -> Option<Verdict> {
    let snapshot = Snapshot::parse("s", &snapshot.to_string()).ok()?;
    chain::judge(&snapshot, request)
        .ok()
        .map(|judgement| judgement.diagnosis.verdict)
}
