//! Progress on stderr while live mode reads: one bar per phase (accounts,
//! principals, buckets, keys) with its count and rate, under a line with
//! the requests sent, retried and throttled so far. Drawn only when the
//! caller asks (a terminal, text output, not `--quiet`); otherwise every
//! handle is a no-op, so readers drive their phases unconditionally. The
//! bars are erased when reading ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::limits::Tally;

/// A phase of a live reading, in the order its bar is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PhaseKind {
    Accounts,
    Principals,
    Buckets,
    Keys,
}

impl PhaseKind {
    fn label(self) -> &'static str {
        match self {
            PhaseKind::Accounts => "accounts",
            PhaseKind::Principals => "principals",
            PhaseKind::Buckets => "buckets",
            PhaseKind::Keys => "keys",
        }
    }
}

/// The handle a reader drives: `add` what it has found to read, `done`
/// each one read (successfully or not).
#[derive(Debug, Clone)]
pub(crate) struct Phase(ProgressBar);

impl Phase {
    pub(crate) fn add(&self, count: u64) {
        self.0.inc_length(count);
    }

    pub(crate) fn done(&self) {
        self.0.inc(1);
    }

    /// How many were read so far.
    #[cfg(test)]
    fn position(&self) -> u64 {
        self.0.position()
    }
}

/// The progress display of one reading.
pub(crate) struct Progress {
    shown: Option<Shown>,
    /// Phases already asked for, so each has one bar; kept (hidden) when
    /// nothing is drawn, so counts are still there for callers.
    phases: Mutex<Vec<(PhaseKind, Phase)>>,
}

struct Shown {
    multi: MultiProgress,
    requests: ProgressBar,
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Progress {
    /// Nothing drawn.
    pub(crate) fn hidden() -> Self {
        Self {
            shown: None,
            phases: Mutex::new(Vec::new()),
        }
    }

    /// Bars on stderr (indicatif draws nothing when stderr is not a
    /// terminal). `what` says what is read; `sent` and `tally` feed the
    /// requests line. Needs a tokio runtime.
    pub(crate) fn start(what: String, sent: Arc<AtomicUsize>, tally: Arc<Tally>) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let requests = multi.add(
            ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        );
        requests.set_prefix(what);
        // Ticked by the task below rather than by indicatif's own thread,
        // so nothing draws once the task has stopped and the bars are
        // cleared (a late tick would erase the summary line that follows).
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let line = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let summary = tally.summary();
                line.set_message(format!(
                    "{} requests, {} retried, {} throttled",
                    sent.load(Ordering::Relaxed),
                    summary.retried,
                    summary.throttled
                ));
                line.tick();
                tokio::select! {
                    _ = stopped.notified() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
        });
        Self {
            shown: Some(Shown {
                multi,
                requests,
                stop,
                task,
            }),
            phases: Mutex::new(Vec::new()),
        }
    }

    /// The handle of `kind`'s phase, its bar added on first use.
    pub(crate) fn phase(&self, kind: PhaseKind) -> Phase {
        let mut phases = self
            .phases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, phase)) = phases.iter().find(|(known, _)| *known == kind) {
            return phase.clone();
        }
        let bar = match &self.shown {
            Some(shown) => {
                let bar = ProgressBar::new(0).with_style(
                    ProgressStyle::with_template(
                        "  {prefix:>10} {bar:20} {pos}/{len} ({per_sec:.1}, {elapsed})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(kind.label());
                // Bars in phase order, whatever order phases start in.
                let before = phases.iter().filter(|(known, _)| *known < kind).count();
                shown.multi.insert(before + 1, bar)
            }
            None => ProgressBar::hidden(),
        };
        let phase = Phase(bar);
        phases.push((kind, phase.clone()));
        phases.sort_by_key(|(known, _)| *known);
        phase
    }

    /// Erases the bars; returns once they are gone.
    pub(crate) async fn finish(self) {
        if let Some(shown) = self.shown {
            shown.stop.notify_one();
            let _ = shown.task.await;
            for (_, phase) in self.phases.into_inner().unwrap_or_default() {
                phase.0.finish_and_clear();
            }
            shown.requests.finish_and_clear();
            let _ = shown.multi.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_phases_still_count() {
        let progress = Progress::hidden();
        let keys = progress.phase(PhaseKind::Keys);
        keys.add(2);
        keys.done();
        assert_eq!(progress.phase(PhaseKind::Keys).position(), 1);
        assert_eq!(progress.phase(PhaseKind::Buckets).position(), 0);
    }
}
