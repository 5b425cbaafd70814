//! Harness for the live end-to-end tests: starts `moto_server` and the
//! logging proxy on free 127.0.0.1 ports (stopped by PID when dropped, also
//! on panic), populates the accounts with `moto_setup.py`, writes a
//! throw-away AWS config with one profile per account, and runs the real
//! binary against it with nothing from the host's AWS environment.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kms-s3-doctor");

fn support_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/support")
        .join(name)
}

/// A child process killed (by its PID) and reaped when dropped.
pub struct Guard {
    pub child: Child,
    pub what: &'static str,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 (the listener is closed before the server
/// binds it; a race with another process is possible but harmless here).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("no free port on 127.0.0.1")
}

/// Whether `moto_server` can run. Missing: fail under CI, else skip with a
/// note.
pub fn moto_available() -> bool {
    let found = Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("moto_server is not installed (CI is set): pip install \"moto[server]\"");
        }
        eprintln!(
            "note: moto_server not found; skipping the live end-to-end tests (pip install \"moto[server]\")"
        );
    }
    found
}

/// A running moto server.
pub struct Moto {
    pub port: u16,
    _guard: Guard,
}

impl Moto {
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start moto_server");
        let mut guard = Guard {
            child,
            what: "moto_server",
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = guard.child.try_wait() {
                panic!("moto_server exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            port,
            _guard: guard,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The logging (and optionally delaying) proxy in front of moto.
pub struct Proxy {
    pub port: u16,
    pub log: PathBuf,
    _guard: Guard,
}

impl Proxy {
    pub fn start(upstream: u16, log: &Path, delay_ms: u64) -> Self {
        let mut child = Command::new("python3")
            .arg(support_file("aws_proxy.py"))
            .arg(upstream.to_string())
            .arg(log)
            .arg(delay_ms.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the proxy");
        let stdout = child.stdout.take().expect("proxy stdout");
        let guard = Guard {
            child,
            what: "aws_proxy.py",
        };
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("proxy did not print its port");
        let port = line.trim().parse().expect("proxy port");
        Self {
            port,
            log: log.to_path_buf(),
            _guard: guard,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request seen: (operation, start seconds, end seconds).
    pub fn requests(&self) -> Vec<(String, f64, f64)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let mut parts = line.split('\t');
                let operation = parts.next()?.to_string();
                let start = parts.next()?.parse().ok()?;
                let end = parts.next()?.parse().ok()?;
                Some((operation, start, end))
            })
            .collect()
    }

    pub fn clear(&self) {
        let _ = std::fs::write(&self.log, "");
    }
}

/// What `moto_setup.py` created.
pub struct World {
    pub setup: serde_json::Value,
    pub dir: tempfile::TempDir,
}

impl World {
    /// Populates moto with `moto_setup.py` and writes profiles `a`, `b`,
    /// `dilip` and `nothing` (a profile with no credentials at all).
    pub fn populate(moto: &Moto) -> Self {
        Self::populate_with(moto, "moto_setup.py")
    }

    /// Runs the setup script `script` of this folder against moto and writes
    /// a profile for each pair of credentials it prints, plus `nothing`.
    pub fn populate_with(moto: &Moto, script: &str) -> Self {
        let output = Command::new("python3")
            .arg(support_file(script))
            .arg(moto.url())
            .output()
            .unwrap_or_else(|error| panic!("cannot run {script}: {error}"));
        assert!(
            output.status.success(),
            "{script} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let setup: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|error| panic!("{script} output: {error}"));
        let dir = tempfile::tempdir().expect("temp dir");
        let mut credentials = String::new();
        let mut config = String::new();
        for (profile, pair) in setup["credentials"].as_object().expect("credentials") {
            credentials.push_str(&format!(
                "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                pair[0].as_str().expect("key id"),
                pair[1].as_str().expect("secret")
            ));
            config.push_str(&format!("[profile {profile}]\nregion = eu-west-1\n"));
        }
        config.push_str("[profile nothing]\nregion = eu-west-1\n");
        std::fs::write(dir.path().join("credentials"), credentials).expect("credentials file");
        std::fs::write(dir.path().join("config"), config).expect("config file");
        Self { setup, dir }
    }

    /// Every access key id and secret the setup created (must never leak).
    pub fn secrets(&self) -> Vec<String> {
        self.setup["credentials"]
            .as_object()
            .map(|profiles| {
                profiles
                    .values()
                    .flat_map(|pair| pair.as_array().cloned().unwrap_or_default())
                    .filter_map(|value| value.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary with only this world's AWS configuration: no host
    /// credentials, no instance metadata (which would leave 127.0.0.1).
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ] {
            command.env_remove(name);
        }
        command
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("credentials"))
            .env("AWS_CONFIG_FILE", self.path("config"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1");
        command
    }

    pub fn run(&self, args: &[String]) -> Output {
        self.command()
            .args(args)
            .output()
            .expect("cannot run kms-s3-doctor")
    }
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| arg.to_string()).collect()
}
