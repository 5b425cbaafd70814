//! The process's peak resident size, for the benches that report memory
//! rather than time.

/// The process's peak resident size so far, as Linux reports it.
pub fn peak() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "not known".to_string())
}
