//! A fault-injecting HTTP proxy in front of moto for the live tests: it
//! listens on a free 127.0.0.1 port, forwards each request to moto, and
//! answers a chosen fraction of them itself with the throttling error of
//! the request's service, in that service's protocol:
//!
//! - S3 (REST-XML): HTTP 503, `<Error><Code>SlowDown</Code>...` (Amazon S3
//!   API Reference, "Error responses"; Amazon S3 User Guide, "Amazon S3
//!   error best practices");
//! - IAM and STS (query protocol, XML): HTTP 400,
//!   `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>...`;
//! - KMS (JSON 1.1): HTTP 400, `{"__type": "ThrottlingException"}` (AWS KMS
//!   API Reference, "Common Errors": ThrottlingException, 400);
//! - Organizations (JSON 1.1): HTTP 400, `TooManyRequestsException` (AWS
//!   Organizations API Reference: "You have sent too many requests in too
//!   short a period of time").
//!
//! It can also stand in for S3's Regional endpoint for directory buckets
//! (S3 Express One Zone), which moto does not emulate: requests signed for
//! `s3express` are answered by the proxy itself from the directory buckets
//! it was given, in the shapes of the S3 API Reference (`ListDirectoryBuckets`:
//! `ListAllMyDirectoryBucketsResult` with `Buckets`/`Bucket`/`Name`,
//! `BucketRegion`; `GetBucketPolicy`: the policy's JSON text, or 404
//! `NoSuchBucketPolicy`; `GetBucketEncryption`:
//! `ServerSideEncryptionConfiguration`), and with 403 `AccessDenied` in the
//! regions told to refuse.
//!
//! The service is the one named in the request's SigV4 credential scope.
//! Which requests are throttled is decided by a seeded hash of the request
//! (method, path, body) and of how many times that same request was seen
//! before, so a seed gives the same faults whatever order concurrent
//! requests arrive in. Nothing of a request is logged or kept but that
//! digest, its service and its operation's name with the instant it
//! arrived (for the tests of per-operation rates): no header value but the
//! operation's, so no credential.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What to throttle.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Fraction (0..=1) of every service's requests throttled.
    pub fraction: f64,
    /// Services (`s3`, `iam`, `sts`, `kms`, `organizations`) whose every
    /// request is throttled.
    pub always: Vec<&'static str>,
}

/// Requests seen and throttled, per service, and the most in flight at
/// once per service and signing region.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub seen: HashMap<String, usize>,
    pub throttled: HashMap<String, usize>,
    pub most_in_flight: HashMap<String, usize>,
    in_flight: HashMap<String, usize>,
    /// When each request arrived, per operation (`kms:ListGrants`), in
    /// order of arrival. The operation is named by the JSON protocols'
    /// `X-Amz-Target` header (KMS, Organizations) and the query protocol's
    /// `Action` (IAM, STS); S3's REST requests are `s3:METHOD`.
    pub arrivals: HashMap<String, Vec<Instant>>,
}

impl Counts {
    pub fn total_seen(&self) -> usize {
        self.seen.values().sum()
    }

    pub fn total_throttled(&self) -> usize {
        self.throttled.values().sum()
    }
}

/// One directory bucket the proxy answers for.
#[derive(Debug, Clone)]
pub struct DirectoryBucket {
    pub name: String,
    pub region: String,
    /// The bucket policy's JSON text (`None`: no policy).
    pub policy: Option<String>,
    /// The default key's ARN (SSE-KMS), or `None` for SSE-S3.
    pub kms_key: Option<String>,
}

/// What the proxy answers for `s3express` requests.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub buckets: Vec<DirectoryBucket>,
    /// Regions whose `ListDirectoryBuckets` is refused (403 AccessDenied).
    pub refusing: Vec<String>,
}

struct State {
    /// Directory buckets answered by the proxy itself; without them,
    /// `s3express` requests go to moto like the rest.
    directory: Option<Directory>,
    faults: Faults,
    upstream: u16,
    /// Added before each answer, as a real region's round trip.
    delay: Duration,
    /// Times each request digest was seen.
    repeats: Mutex<HashMap<u64, u64>>,
    counts: Mutex<Counts>,
}

/// A running proxy, stopped when dropped.
pub struct FaultProxy {
    pub port: u16,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    pub fn start(upstream: u16, faults: Faults) -> Self {
        Self::start_delayed(upstream, faults, 0)
    }

    /// Answers `s3express` requests from `directory` itself.
    pub fn start_with_directory(upstream: u16, faults: Faults, directory: Directory) -> Self {
        Self::start_full(upstream, faults, 0, Some(directory))
    }

    /// Each answer waits `delay_ms` first.
    pub fn start_delayed(upstream: u16, faults: Faults, delay_ms: u64) -> Self {
        Self::start_full(upstream, faults, delay_ms, None)
    }

    fn start_full(
        upstream: u16,
        faults: Faults,
        delay_ms: u64,
        directory: Option<Directory>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(State {
            directory,
            faults,
            upstream,
            delay: Duration::from_millis(delay_ms),
            repeats: Mutex::new(HashMap::new()),
            counts: Mutex::new(Counts::default()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for connection in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(connection) = connection else { continue };
                    let state = state.clone();
                    std::thread::spawn(move || serve(connection, &state));
                }
            })
        };
        Self {
            port,
            state,
            stop,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn counts(&self) -> Counts {
        self.state.counts.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One parsed request.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Part `index` of the SigV4 credential scope
    /// (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
    fn scope(&self, index: usize) -> String {
        self.header("authorization")
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|credential| credential.split('/').nth(index))
            .unwrap_or("unknown")
            .to_string()
    }

    fn service(&self) -> String {
        self.scope(3)
    }

    /// `kms:ListGrants`, `iam:GetRole`, or `s3:GET` for S3's REST calls.
    fn operation(&self) -> String {
        let service = self.service();
        if let Some(target) = self.header("x-amz-target") {
            let name = target.rsplit('.').next().unwrap_or(target);
            return format!("{service}:{name}");
        }
        let query = self.target.split_once('?').map_or("", |(_, query)| query);
        let body = String::from_utf8_lossy(&self.body);
        let action = query
            .split('&')
            .chain(body.split('&'))
            .find_map(|pair| pair.strip_prefix("Action="));
        match action {
            Some(action) => format!("{service}:{action}"),
            None => format!("{service}:{}", self.method),
        }
    }
}

/// Serves one client connection (keep-alive: several requests).
fn serve(connection: TcpStream, state: &State) {
    let _ = connection.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(writer) = connection.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(connection);
    let mut writer = writer;
    while let Some(request) = read_request(&mut reader) {
        let arrived = Instant::now();
        let service = request.service();
        let lane = format!("{service} {}", request.scope(2));
        let throttle = decide(state, &request, &service);
        {
            let mut counts = state.counts.lock().unwrap();
            counts
                .arrivals
                .entry(request.operation())
                .or_default()
                .push(arrived);
            *counts.seen.entry(service.clone()).or_default() += 1;
            if throttle {
                *counts.throttled.entry(service.clone()).or_default() += 1;
            }
            let now = {
                let now = counts.in_flight.entry(lane.clone()).or_default();
                *now += 1;
                *now
            };
            let most = counts.most_in_flight.entry(lane.clone()).or_default();
            *most = (*most).max(now);
        }
        std::thread::sleep(state.delay);
        let response = if throttle {
            Some(throttling_response(&service))
        } else if let Some(directory) = state.directory.as_ref().filter(|_| service == "s3express")
        {
            Some(directory_response(directory, &request))
        } else {
            forward(state.upstream, &request)
        };
        // Out of flight before the answer leaves: a client that reads it may
        // send its next request on another connection before this thread
        // runs again, and would be counted as overlapping this one.
        if let Some(now) = state.counts.lock().unwrap().in_flight.get_mut(&lane) {
            *now -= 1;
        }
        let written = response
            .is_some_and(|response| writer.write_all(&response).is_ok() && writer.flush().is_ok());
        if !written {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        if let Some((key, value)) = header.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"));
    if chunked {
        request.body = read_chunked(reader)?;
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().ok()?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some(request)
}

fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        if size == 0 {
            // Trailers, then the blank line.
            loop {
                let mut trailer = String::new();
                reader.read_line(&mut trailer).ok()?;
                if trailer.trim().is_empty() {
                    return Some(body);
                }
            }
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        chunk.truncate(size);
        body.extend(chunk);
    }
}

/// FNV-1a, then a splitmix64 finish: stable across runs and platforms.
fn digest(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn decide(state: &State, request: &Request, service: &str) -> bool {
    if state.faults.always.contains(&service) {
        return true;
    }
    if state.faults.fraction <= 0.0 {
        return false;
    }
    let key = digest(&[
        request.method.as_bytes(),
        request.target.as_bytes(),
        &request.body,
    ]);
    let seen = {
        let mut repeats = state.repeats.lock().unwrap();
        let count = repeats.entry(key).or_default();
        *count += 1;
        *count
    };
    let roll = digest(&[
        &state.faults.seed.to_le_bytes(),
        &key.to_le_bytes(),
        &seen.to_le_bytes(),
    ]);
    (roll as f64 / u64::MAX as f64) < state.faults.fraction
}

/// An HTTP response with an XML or JSON body.
fn respond(status: u16, reason: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nx-amz-request-id: dirproxy0001\r\nx-amz-id-2: fault-proxy\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn s3_error(status: u16, reason: &str, code: &str) -> Vec<u8> {
    respond(
        status,
        reason,
        "application/xml",
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{reason}</Message><RequestId>dirproxy0001</RequestId><HostId>fault-proxy</HostId></Error>"
        ),
    )
}

/// The Regional endpoint of directory buckets, path style
/// (`/BUCKET?policy`), in the signing region.
fn directory_response(directory: &Directory, request: &Request) -> Vec<u8> {
    let region = request.scope(2);
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((request.target.as_str(), ""));
    let bucket = path.trim_matches('/');
    let asks = |word: &str| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(word))
    };
    if bucket.is_empty() {
        if state_refuses(directory, &region) {
            return s3_error(403, "Forbidden", "AccessDenied");
        }
        let listed: String = directory
            .buckets
            .iter()
            .filter(|bucket| bucket.region == region)
            .map(|bucket| {
                format!(
                    "<Bucket><Name>{}</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate><BucketRegion>{}</BucketRegion></Bucket>",
                    bucket.name, bucket.region
                )
            })
            .collect();
        return respond(
            200,
            "OK",
            "application/xml",
            &format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyDirectoryBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Buckets>{listed}</Buckets></ListAllMyDirectoryBucketsResult>"
            ),
        );
    }
    let Some(found) = directory
        .buckets
        .iter()
        .find(|known| known.name == bucket && known.region == region)
    else {
        return s3_error(404, "Not Found", "NoSuchBucket");
    };
    if asks("policy") {
        return match &found.policy {
            Some(policy) => respond(200, "OK", "application/json", policy),
            None => s3_error(404, "Not Found", "NoSuchBucketPolicy"),
        };
    }
    if asks("encryption") {
        let default = match &found.kms_key {
            Some(key) => format!(
                "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{key}</KMSMasterKeyID>"
            ),
            None => "<SSEAlgorithm>AES256</SSEAlgorithm>".to_string(),
        };
        return respond(
            200,
            "OK",
            "application/xml",
            &format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ApplyServerSideEncryptionByDefault>{default}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"
            ),
        );
    }
    s3_error(501, "Not Implemented", "NotImplemented")
}

fn state_refuses(directory: &Directory, region: &str) -> bool {
    directory.refusing.iter().any(|refusing| refusing == region)
}

fn throttling_response(service: &str) -> Vec<u8> {
    let request_id = "a1b2c3d4-0000-4000-8000-fau1tpr0xy00";
    let (status, reason, content_type, extra, body) = match service {
        // Directory buckets' Regional endpoint answers as S3 does.
        "s3" | "s3express" => (
            503,
            "Slow Down",
            "application/xml",
            format!("x-amz-request-id: {request_id}\r\nx-amz-id-2: fault-proxy\r\n"),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{request_id}</RequestId><HostId>fault-proxy</HostId></Error>"
            ),
        ),
        "iam" | "sts" => {
            let namespace = if service == "iam" {
                "https://iam.amazonaws.com/doc/2010-05-08/"
            } else {
                "https://sts.amazonaws.com/doc/2011-06-15/"
            };
            (
                400,
                "Bad Request",
                "text/xml",
                format!("x-amzn-RequestId: {request_id}\r\n"),
                format!(
                    "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                ),
            )
        }
        "organizations" => (
            400,
            "Bad Request",
            "application/x-amz-json-1.1",
            format!(
                "x-amzn-RequestId: {request_id}\r\nx-amzn-ErrorType: TooManyRequestsException\r\n"
            ),
            "{\"__type\":\"TooManyRequestsException\",\"Message\":\"You have sent too many requests in too short a period of time.\"}".to_string(),
        ),
        // KMS, and any other JSON service.
        _ => (
            400,
            "Bad Request",
            "application/x-amz-json-1.1",
            format!("x-amzn-RequestId: {request_id}\r\nx-amzn-ErrorType: ThrottlingException\r\n"),
            "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}".to_string(),
        ),
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends the request to moto on a fresh connection (closed after), and
/// returns the response re-framed with a Content-Length.
fn forward(upstream: u16, request: &Request) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (key, value) in &request.headers {
        if is_hop_by_hop(key) || key.eq_ignore_ascii_case("content-length") {
            continue;
        }
        head.push_str(&format!("{key}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(&request.body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    if find("transfer-encoding").is_some_and(|value| value.eq_ignore_ascii_case("chunked")) {
        body = read_chunked(&mut &body[..])?;
    }
    let is_head = request.method.eq_ignore_ascii_case("HEAD");
    let mut out = format!("{status_line}\r\n");
    for (key, value) in &headers {
        if is_hop_by_hop(key) || key.eq_ignore_ascii_case("content-length") {
            continue;
        }
        out.push_str(&format!("{key}: {value}\r\n"));
    }
    let length = if is_head {
        find("content-length").unwrap_or_else(|| "0".to_string())
    } else {
        body.len().to_string()
    };
    out.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    let mut out = out.into_bytes();
    if !is_head {
        out.extend(body);
    }
    Some(out)
}

fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
    ]
    .iter()
    .any(|hop| hop.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_depend_on_the_seed_not_on_arrival() {
        let state = |seed| State {
            directory: None,
            faults: Faults {
                seed,
                fraction: 0.2,
                always: Vec::new(),
            },
            upstream: 0,
            delay: Duration::ZERO,
            repeats: Mutex::new(HashMap::new()),
            counts: Mutex::new(Counts::default()),
        };
        let request = |path: &str| Request {
            method: "GET".to_string(),
            target: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let paths: Vec<String> = (0..500).map(|i| format!("/b{i}?policy")).collect();
        let run = |seed, reverse: bool| {
            let state = state(seed);
            let mut order: Vec<&String> = paths.iter().collect();
            if reverse {
                order.reverse();
            }
            let mut throttled: Vec<String> = order
                .into_iter()
                .filter(|path| decide(&state, &request(path), "s3"))
                .cloned()
                .collect();
            throttled.sort();
            throttled
        };
        assert_eq!(run(7, false), run(7, true));
        assert_ne!(run(7, false), run(8, false));
        let share = run(7, false).len() as f64 / paths.len() as f64;
        assert!((0.12..0.28).contains(&share), "{share}");
    }
}
