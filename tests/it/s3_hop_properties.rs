//! Metamorphic properties of S3's own rules, over every acceptance scenario:
//! making the new facts unknown (the signer's credentials, the bucket's
//! region, whether a service sets `aws:CalledVia`) never turns a verdict
//! that is not `allowed` into `allowed`; a Bucket Key setting never changes
//! a DSSE-KMS verdict (S3 User Guide, "Using dual-layer server-side
//! encryption with AWS KMS keys (DSSE-KMS)": Bucket Keys are not supported
//! for it); a bucket default key moved to another region never lets a write
//! through (S3 User Guide, "Specifying server-side encryption with AWS KMS
//! (SSE-KMS)": the key must be in the bucket's Region).

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::{Operation, Verdict};
use serde_json::{Value, json};

use crate::support::scenario::{Scenario, judgeable, verdict};

/// Fails with every scenario where `mutated` is allowed while `before` is not.
fn never_allows_more(
    what: &str,
    mutate: impl Fn(&Scenario) -> Vec<(Value, CheckRequest)>,
) -> usize {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for scenario in judgeable() {
        let Some(before) = verdict(&scenario.snapshot, &scenario.request) else {
            continue;
        };
        for (snapshot, request) in mutate(scenario) {
            let Some(after) = verdict(&snapshot, &request) else {
                continue;
            };
            checked += 1;
            if before != Verdict::Allowed && after == Verdict::Allowed {
                wrong.push(format!("{}: {before} became allowed", scenario.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{what}:\n{}", wrong.join("\n"));
    checked
}

/// Calls `f` with the bucket's default encryption and each object's.
fn for_each_encryption(bucket: &mut Value, mut f: impl FnMut(&mut Value)) {
    if let Some(encryption) = bucket.get_mut("encryption") {
        f(encryption);
    }
    for object in bucket
        .get_mut("objects")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(encryption) = object.get_mut("encryption") {
            f(encryption);
        }
    }
}

fn presigned(request: &CheckRequest) -> CheckRequest {
    let mut request = request.clone();
    request
        .context
        .retain(|(key, _)| !key.eq_ignore_ascii_case("s3:authType"));
    request
        .context
        .push(("s3:authType".to_string(), "REST-QUERY-STRING".to_string()));
    request
}

#[test]
fn unknown_session_credentials_never_allow_more() {
    let checked = never_allows_more("credentials made unknown", |scenario| {
        let mut out = Vec::new();
        if let Some(credentials) = scenario.snapshot.get("credentials") {
            let mut without = scenario.snapshot.clone();
            without.as_object_mut().unwrap().remove("credentials");
            out.push((without, scenario.request.clone()));
            for session in credentials
                .as_object()
                .into_iter()
                .flat_map(|map| map.keys())
            {
                let mut one_less = scenario.snapshot.clone();
                one_less["credentials"]
                    .as_object_mut()
                    .unwrap()
                    .remove(session);
                out.push((one_less, scenario.request.clone()));
            }
        }
        out
    });
    assert!(checked >= 2, "only {checked} mutations judged");
}

#[test]
fn a_presigned_url_with_unrecorded_credentials_is_never_allowed_for_a_session() {
    // The same request as a presigned URL, with no credentials recorded: a
    // session signer's URL can be expired, so the verdict is never allowed.
    let mut wrong = Vec::new();
    let mut checked = 0;
    for scenario in judgeable() {
        if !scenario.request.principal.contains(":assumed-role/") {
            continue;
        }
        let mut snapshot = scenario.snapshot.clone();
        snapshot.as_object_mut().unwrap().remove("credentials");
        let request = presigned(&scenario.request);
        if let Some(after) = verdict(&snapshot, &request) {
            checked += 1;
            if after == Verdict::Allowed {
                wrong.push(scenario.name.clone());
            }
        }
    }
    assert!(checked >= 5, "only {checked} sessions judged");
    assert!(wrong.is_empty(), "allowed without credentials: {wrong:?}");
}

#[test]
fn an_unknown_bucket_region_never_allows_more() {
    let checked = never_allows_more("bucket region made unknown", |scenario| {
        let mut out = Vec::new();
        let buckets = scenario.snapshot["buckets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (index, bucket) in buckets.iter().enumerate() {
            // A directory bucket without its region is bad input.
            if bucket.get("region").is_none() || bucket["type"] == "directory" {
                continue;
            }
            let mut snapshot = scenario.snapshot.clone();
            snapshot["buckets"][index]
                .as_object_mut()
                .unwrap()
                .remove("region");
            out.push((snapshot, scenario.request.clone()));
        }
        out
    });
    assert!(checked > 50, "only {checked} mutations judged");
}

#[test]
fn a_service_not_known_to_set_called_via_never_allows_more_than_athena() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for scenario in judgeable() {
        let through = |service: &str| CheckRequest {
            via_service: Some(service.to_string()),
            unknown_context: Vec::new(),
            ..scenario.request.clone()
        };
        let athena = verdict(&scenario.snapshot, &through("athena.amazonaws.com"));
        let glue = verdict(&scenario.snapshot, &through("glue.amazonaws.com"));
        if let (Some(athena), Some(glue)) = (athena, glue) {
            checked += 1;
            if athena != Verdict::Allowed && glue == Verdict::Allowed {
                wrong.push(format!(
                    "{}: {athena} through Athena, allowed through Glue",
                    scenario.name
                ));
            }
        }
    }
    assert!(checked > 50, "only {checked} scenarios judged");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_bucket_key_setting_never_changes_a_dsse_verdict() {
    let mut differ = Vec::new();
    let mut checked = 0;
    for scenario in judgeable() {
        let mut dsse = scenario.snapshot.clone();
        let mut changed = false;
        for bucket in dsse["buckets"].as_array_mut().into_iter().flatten() {
            if bucket["type"] == "directory" {
                continue;
            }
            for_each_encryption(bucket, |encryption| {
                if encryption["algorithm"] == "aws:kms" {
                    encryption["algorithm"] = json!("aws:kms:dsse");
                    changed = true;
                }
            });
        }
        if !changed {
            continue;
        }
        let with = |on: bool| {
            let mut snapshot = dsse.clone();
            for bucket in snapshot["buckets"].as_array_mut().into_iter().flatten() {
                for_each_encryption(bucket, |encryption| {
                    if encryption.is_object() {
                        encryption["bucket_key"] = json!(on);
                    }
                });
            }
            verdict(&snapshot, &scenario.request)
        };
        if let (Some(on), Some(off)) = (with(true), with(false)) {
            checked += 1;
            if on != off {
                differ.push(format!(
                    "{}: {on} with a Bucket Key, {off} without",
                    scenario.name
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} scenarios judged");
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn a_default_key_in_another_region_never_lets_a_write_through() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for scenario in judgeable() {
        let bucket_index = scenario.snapshot["buckets"].as_array().and_then(|buckets| {
            buckets
                .iter()
                .position(|bucket| bucket["name"] == scenario.request.bucket.as_str())
        });
        let Some(index) = bucket_index else { continue };
        let bucket = &scenario.snapshot["buckets"][index];
        let (Some(region), Some(key)) = (
            bucket["region"].as_str(),
            bucket["encryption"]["key"].as_str(),
        ) else {
            continue;
        };
        if !key.starts_with("arn:")
            || !bucket["encryption"]["algorithm"]
                .as_str()
                .unwrap_or_default()
                .starts_with("aws:kms")
        {
            continue;
        }
        let elsewhere = if region == "ap-south-1" {
            "sa-east-1"
        } else {
            "ap-south-1"
        };
        let moved = key.replacen(&format!(":{region}:"), &format!(":{elsewhere}:"), 1);
        if moved == key {
            continue;
        }
        // The key itself moves, with every policy naming it: only its
        // region differs from the bucket's.
        let snapshot: Value =
            serde_json::from_str(&scenario.snapshot.to_string().replace(key, &moved)).unwrap();
        let request = CheckRequest {
            access_point: None,
            operations: vec![Operation::Put],
            context: scenario
                .request
                .context
                .iter()
                .filter(|(key, _)| {
                    !key.to_ascii_lowercase()
                        .starts_with("s3:x-amz-server-side-encryption")
                })
                .cloned()
                .collect(),
            ..scenario.request.clone()
        };
        if let Some(after) = verdict(&snapshot, &request) {
            checked += 1;
            if after == Verdict::Allowed {
                wrong.push(scenario.name.clone());
            }
        }
    }
    assert!(checked > 20, "only {checked} scenarios judged");
    assert!(
        wrong.is_empty(),
        "a write through another region's key was allowed: {wrong:?}"
    );
}
