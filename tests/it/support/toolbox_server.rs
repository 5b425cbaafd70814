//! A stand-in for IAM Toolbox (Access Troubleshooter) on a free loopback
//! port: moto does not emulate this service, so the tests answer
//! `GetRequestAuthorizationDetails` themselves with the response shapes of
//! "GetRequestAuthorizationDetails - IAM Toolbox" (`GET
//! /authorization-details/{authorizationId}?nextToken=...`; a JSON body of
//! `requestContext`, `evaluations`, `policies`, `nextToken`; errors as
//! restJson1 with an `x-amzn-errortype` header). It records each request's
//! path and query (never its headers, which carry the signature).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// `x-amzn-errortype` of an error answer.
    pub error_type: Option<&'static str>,
    pub body: String,
}

impl Answer {
    pub fn ok(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            error_type: None,
            body: body.to_string(),
        }
    }

    pub fn error(status: u16, error_type: &'static str, message: &str) -> Self {
        Self {
            status,
            error_type: Some(error_type),
            body: serde_json::json!({ "message": message }).to_string(),
        }
    }

    pub fn raw(status: u16, body: &str) -> Self {
        Self {
            status,
            error_type: None,
            body: body.to_string(),
        }
    }
}

/// Chooses the answer for a request's path and query.
pub type Route = Box<dyn Fn(&str, Option<&str>) -> Answer + Send + Sync>;

/// A running stand-in; its accept thread ends with the test binary.
pub struct ToolboxServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ToolboxServer {
    pub fn start(route: Route) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let route = Arc::new(route);
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let route = Arc::clone(&route);
                let log = Arc::clone(&log);
                thread::spawn(move || serve(stream, &route, &log));
            }
        });
        Self { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The path and query of every request received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, route: &Route, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(stream) => stream,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Headers up to the blank line; a GET has no body.
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(target.clone());
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (target.clone(), None),
    };
    let answer = route(&path, query.as_deref());
    let reason = match answer.status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let mut response = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\nx-amzn-requestid: 11111111-2222-3333-4444-555555555555\r\ncontent-length: {}\r\nconnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    if let Some(kind) = answer.error_type {
        response.push_str(&format!("x-amzn-errortype: {kind}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&answer.body);
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}
