//! Concurrency helpers for the gatherer: joining a dynamic number of reads
//! and memoising reads that several branches need (a managed policy attached
//! twice, a key named by both the bucket and the object, an account's
//! organization). Everything runs inside one task, so nothing needs `Send`
//! or `'static` and borrowed clients are fine.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use tokio::sync::OnceCell;

/// Runs every future at once and returns their outputs in order.
pub(crate) async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Runs every future at once; the first error wins and drops the rest (the
/// reads still in flight are abandoned, which is what a fatal error wants).
pub(crate) async fn try_join_all<T, E, F>(futures: impl IntoIterator<Item = F>) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outputs: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(Ok(value)) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => done = false,
                }
            }
        }
        if done {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok(outputs.into_iter().flatten().collect())
}

/// A read done once per key however many branches ask for it; later callers
/// wait for the first one's result.
pub(crate) struct Memo<T> {
    cells: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Memo<T> {
    pub(crate) async fn get<Fut: Future<Output = T>>(
        &self,
        key: &str,
        init: impl FnOnce() -> Fut,
    ) -> T {
        let cell = {
            // A poisoned lock only means another branch panicked; the map
            // itself is still consistent.
            let mut cells = self
                .cells
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            cells.entry(key.to_string()).or_default().clone()
        };
        cell.get_or_init(init).await.clone()
    }

    /// Every finished read, by key.
    pub(crate) fn finished(&self) -> Vec<(String, T)> {
        let cells = self
            .cells
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out: Vec<(String, T)> = cells
            .iter()
            .filter_map(|(key, cell)| cell.get().map(|value| (key.clone(), value.clone())))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn join_all_keeps_order_and_runs_concurrently() {
        let started = std::time::Instant::now();
        let delays = [30u64, 10, 20];
        let outputs = join_all(delays.iter().map(|&ms| async move {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            ms
        }))
        .await;
        assert_eq!(outputs, vec![30, 10, 20]);
        assert!(started.elapsed() < std::time::Duration::from_millis(55));
    }

    #[tokio::test]
    async fn try_join_all_stops_at_the_first_error() {
        let result: Result<Vec<u32>, &str> = try_join_all(vec![
            Box::pin(async { Ok(1u32) }) as Pin<Box<dyn Future<Output = Result<u32, &str>>>>,
            Box::pin(async { Err("boom") }),
            Box::pin(std::future::pending()),
        ])
        .await;
        assert_eq!(result, Err("boom"));
    }

    #[tokio::test]
    async fn memo_runs_each_key_once() {
        let memo: Memo<u32> = Memo::default();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let read = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            7
        };
        let (a, b) = tokio::join!(memo.get("k", read), memo.get("k", read));
        assert_eq!((a, b), (7, 7));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(memo.finished(), vec![("k".to_string(), 7)]);
    }
}
