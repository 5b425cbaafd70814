//! Judging the whole chain of the README's walkthrough snapshot: four
//! operations, eight actions, every link. Loading (parsing every policy) is
//! measured apart from judging, and the judge alone (every link's verdict,
//! reason and evidence, no fixes) apart from the judge with its fixes. The
//! four operations need five distinct actions, each judged once: the judge
//! alone's throughput is per (principal, action), as is the verdict-only
//! judge's (`chain::verdicts`: verdicts and first broken links, no words).
//!
//! The walkthrough's policies have no conditions, so its judgement never
//! reads a request context. The guarded walkthrough adds the guard rails
//! most accounts have (a TLS-only deny on the bucket, a key grant only
//! through S3, an identity deny outside the corporate network), so every
//! action builds its context and evaluates conditions.

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/cpu_time.rs"]
mod cpu_time;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use std::hint::black_box;

use kms_s3_doctor::chain::{self, CheckRequest};
use kms_s3_doctor::diagnosis::Operation;
use kms_s3_doctor::pipeline;
use kms_s3_doctor::snapshot::Snapshot;

/// `s3:ListBucket`, `s3:GetObject`, `kms:Decrypt`, `s3:PutObject` and
/// `kms:GenerateDataKey`: what list, get, put and multipart need.
const DISTINCT_ACTIONS: u64 = 5;

fn walkthrough() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.json");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The walkthrough with guard rails whose conditions every action reads.
fn guarded(walkthrough: &str) -> Option<String> {
    let mut snapshot: serde_json::Value = serde_json::from_str(walkthrough).ok()?;
    let bucket = &mut snapshot["buckets"][0]["policy"]["Statement"];
    bucket.as_array_mut()?.push(serde_json::json!({
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::account-a-bucket", "arn:aws:s3:::account-a-bucket/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }));
    let key = &mut snapshot["keys"][0]["policy"]["Statement"];
    key.as_array_mut()?.push(serde_json::json!({
        "Sid": "Account B through S3", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    }));
    let corporate_network = serde_json::json!({
        "Sid": "DenyOutsideTheNetwork", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {
            "NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"},
            "Bool": {"aws:ViaAWSService": "false"}
        }
    });
    for principal in snapshot["principals"].as_array_mut()? {
        for policy in principal["policies"].as_array_mut()? {
            // A document may be given as JSON text, as IAM returns it.
            if let Some(text) = policy["document"].as_str() {
                policy["document"] = serde_json::from_str(text).ok()?;
            }
            policy["document"]["Statement"]
                .as_array_mut()?
                .push(corporate_network.clone());
        }
    }
    Some(snapshot.to_string())
}

fn bench_judge<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let text = walkthrough();
    let Ok(snapshot) = Snapshot::parse("walkthrough.json", &text) else {
        return;
    };
    let request = CheckRequest {
        access_point: None,
        bucket: "account-a-bucket".to_string(),
        object: Some("reports/data.csv".to_string()),
        principal: "arn:aws:iam::222222222222:user/dilip".to_string(),
        via_role: None,
        external_id: None,
        operations: Operation::DEFAULT.to_vec(),
        context: Vec::new(),
        via_service: None,
        unknown_context: Vec::new(),
        now: chrono::Utc::now(),
    };
    c.bench_function("load walkthrough snapshot", |b| {
        b.iter(|| Snapshot::parse("walkthrough.json", black_box(&text)))
    });
    c.bench_function("judge walkthrough, 4 operations", |b| {
        b.iter(|| pipeline::judge_and_fix(black_box(&snapshot), black_box(&request)))
    });
    per_principal(c, "judge alone", &request, |request| {
        chain::judge(black_box(&snapshot), black_box(request)).map(|j| j.diagnosis)
    });
    // The same judgement without its words: the verdicts and first broken
    // links the reverse questions and `test` read first.
    per_principal(c, "verdict only", &request, |request| {
        chain::verdicts(black_box(&snapshot), black_box(request))
    });
    // The same questions where every action reads its context.
    let Some(Ok(guarded)) = guarded(&text).map(|text| Snapshot::parse("guarded.json", &text))
    else {
        return;
    };
    let from_the_network = CheckRequest {
        context: vec![("aws:SourceIp".to_string(), "203.0.113.7".to_string())],
        ..request
    };
    per_principal(c, "verdict only, guarded", &from_the_network, |request| {
        chain::verdicts(black_box(&guarded), black_box(request))
    });
}

/// A group judging `judge` for dilip and for ann, per (principal, action).
fn per_principal<M: Measurement + 'static, R>(
    c: &mut Criterion<M>,
    group: &str,
    request: &CheckRequest,
    judge: impl Fn(&CheckRequest) -> R,
) {
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Elements(DISTINCT_ACTIONS));
    for principal in [
        "arn:aws:iam::222222222222:user/dilip",
        "arn:aws:iam::111111111111:user/ann",
    ] {
        let request = CheckRequest {
            principal: principal.to_string(),
            ..request.clone()
        };
        let name = principal.rsplit('/').next().unwrap_or(principal);
        group.bench_function(format!("{name}, 5 actions"), |b| {
            b.iter(|| judge(black_box(&request)))
        });
    }
    group.finish();
}

fn main() {
    if cpu_time::wanted() {
        let mut criterion = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        bench_judge(&mut criterion);
        criterion.final_summary();
    } else {
        let mut criterion = Criterion::default().configure_from_args();
        bench_judge(&mut criterion);
        criterion.final_summary();
    }
}
