//! The progress line on stderr while live mode reads: a spinner and the
//! number of requests sent so far. Only started when the caller asks (a
//! terminal, and not `--format json`), and erased when reading ends.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

pub(crate) struct Spinner {
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Spinner {
    pub(crate) fn start(sent: Arc<AtomicUsize>, bucket: String) -> Self {
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut frame = 0usize;
            loop {
                let count = sent.load(Ordering::Relaxed);
                draw(&format!(
                    "\r\x1b[2K{} reading `{bucket}` and its chain from AWS: {count} requests",
                    FRAMES[frame % FRAMES.len()]
                ));
                frame += 1;
                tokio::select! {
                    _ = stopped.notified() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
            draw("\r\x1b[2K");
        });
        Self { stop, task }
    }

    /// Erases the line; returns once it is gone.
    pub(crate) async fn finish(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

/// Writes to stderr at once. A failed write is not worth failing the check.
fn draw(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
