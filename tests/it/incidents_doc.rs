//! `docs/incidents.md` runs as written: every `$ kms-s3-doctor ...` line of
//! its `sh` blocks is run (with the binary first on `PATH`, in a scratch
//! folder that sees the repository's `fixtures/`), none is refused as bad
//! input, and every line the page shows under a command is in that
//! command's output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Each command of the page's `sh` blocks with the output lines it shows.
fn commands(page: &str) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_block = false;
    for line in page.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            found.push((command.to_string(), Vec::new()));
        } else if let Some((_, shown)) = found.last_mut()
            && !line.trim().is_empty()
        {
            shown.push(line.trim().to_string());
        }
    }
    found
}

#[cfg(unix)]
#[test]
fn the_incident_page_runs_as_written() {
    let page = std::fs::read_to_string(root().join("docs/incidents.md")).expect("the page");
    let commands = commands(&page);
    assert!(commands.len() >= 5, "{commands:?}");
    let scratch = tempfile::tempdir().expect("a scratch folder");
    std::os::unix::fs::symlink(root().join("fixtures"), scratch.path().join("fixtures"))
        .expect("linked");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_kms-s3-doctor"));
    let bin_dir = binary.parent().unwrap_or(Path::new("."));
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (command, shown) in commands {
        assert!(command.starts_with("kms-s3-doctor "), "{command}");
        let output = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(scratch.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1 | 3)),
            "`{command}` exited {:?}: {stderr}",
            output.status.code()
        );
        let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
        for line in shown {
            assert!(
                lines.contains(&line.as_str()),
                "`{command}` does not print `{line}`:\n{stdout}"
            );
        }
    }
    assert!(
        scratch.path().join("fixes/apply.sh").exists(),
        "the fix step writes apply.sh"
    );
}

#[test]
fn the_readme_and_the_guide_link_the_page() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("the README");
    assert!(readme.contains("docs/incidents.md"));
}
