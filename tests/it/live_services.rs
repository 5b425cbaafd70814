//! Live mode end to end for a caller that is an AWS service: the real
//! binary against `moto_server` reads a CloudFront origin's bucket and key
//! for `--principal cloudfront.amazonaws.com`, reads nothing of IAM for
//! it, only reads, and judges the saved snapshot offline exactly as live.
//! The bucket and key policies are the origin-access-control statements of
//! the CloudFront Developer Guide ("Restrict access to an Amazon S3
//! origin"): allowed for the distribution they name, denied at `key-policy`
//! when the key policy lacks the statement.

use crate::support::live::{Moto, Proxy, World, moto_available, strings};
use serde_json::Value;

/// Populates moto with `moto_services.py` and writes profile `a`.
fn populate(moto: &Moto) -> World {
    World::populate_with(moto, "moto_services.py")
}

fn links(report: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for operation in report["operations"].as_array().into_iter().flatten() {
        for action in operation["actions"].as_array().into_iter().flatten() {
            for link in action["links"].as_array().into_iter().flatten() {
                out.push((
                    action["action"].as_str().unwrap_or_default().to_string(),
                    link["link"].as_str().unwrap_or_default().to_string(),
                    link["status"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn a_cloudfront_origin_is_judged_live_as_offline() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let world = populate(&moto);
    let proxy = Proxy::start(moto.port, &world.path("requests.log"), 0);
    let distribution = world.setup["distribution"].as_str().unwrap().to_string();
    let mut problems = Vec::new();
    for (index, (bucket, exit, verdict, failing)) in [
        ("web-origin", 0, "allowed", None),
        (
            "web-origin-nokey",
            1,
            "denied",
            Some(("kms:Decrypt", "key-policy")),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let saved = world.path(&format!("service-{index}.json"));
        let selection = strings(&[
            "--bucket",
            bucket,
            "--object",
            "index.html",
            "--principal",
            "cloudfront.amazonaws.com",
            "--op",
            "get",
            "--context",
            &format!("aws:SourceArn={distribution}"),
        ]);
        let mut live_args = strings(&["check", "--format", "json", "--endpoint-url"]);
        live_args.push(proxy.url());
        live_args.extend(strings(&["--profile", "a", "--save-snapshot"]));
        live_args.push(saved.display().to_string());
        live_args.extend(selection.iter().cloned());
        let live = world.run(&live_args);
        let stderr = String::from_utf8_lossy(&live.stderr).to_string();
        if live.status.code() != Some(exit) {
            problems.push(format!(
                "{bucket}: exit {:?}, expected {exit} (stderr: {stderr})",
                live.status.code()
            ));
        }
        let Ok(report) = serde_json::from_slice::<Value>(&live.stdout) else {
            problems.push(format!("{bucket}: live report is not JSON: {stderr}"));
            continue;
        };
        if report["verdict"] != verdict {
            problems.push(format!("{bucket}: verdict {}", report["verdict"]));
        }
        let judged = links(&report);
        // A service principal has no identity-side links.
        for (action, link, _) in &judged {
            if matches!(
                link.as_str(),
                "identity-policy" | "permissions-boundary" | "session-policy" | "scp"
            ) {
                problems.push(format!("{bucket}: {action} has link {link}"));
            }
        }
        let failed: Vec<_> = judged
            .iter()
            .filter(|(_, _, status)| status == "fail")
            .map(|(action, link, _)| (action.as_str(), link.as_str()))
            .collect();
        if failed != failing.into_iter().collect::<Vec<_>>() {
            problems.push(format!("{bucket}: failing links {failed:?}"));
        }
        let mut offline_args = strings(&["check", "--format", "json", "--snapshot"]);
        offline_args.push(saved.display().to_string());
        offline_args.extend(selection.iter().cloned());
        let offline = world.run(&offline_args);
        match serde_json::from_slice::<Value>(&offline.stdout) {
            Ok(offline) if offline == report => {}
            Ok(offline) => problems.push(format!(
                "{bucket}: offline report differs:\nlive:    {report}\noffline: {offline}"
            )),
            Err(error) => problems.push(format!("{bucket}: offline report is not JSON: {error}")),
        }
    }
    // Nothing of IAM is read for a service principal, and nothing is written.
    let requests = proxy.requests();
    if !requests
        .iter()
        .any(|(operation, _, _)| operation.starts_with("kms "))
    {
        problems.push(format!("the key was not read: {requests:?}"));
    }
    for (operation, _, _) in requests {
        let mut parts = operation.split_whitespace();
        let service = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        if service == "iam" {
            problems.push(format!("read IAM for a service principal: {operation}"));
        }
        let read = if service == "s3" {
            matches!(name, "GET" | "HEAD")
        } else {
            kms_s3_doctor::live::is_read_operation(name)
        };
        if !read {
            problems.push(format!("not a read: {operation}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
