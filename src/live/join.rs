//! Concurrency helpers for the gatherer: joining a dynamic number of reads
//! (futures-util's joins) and memoising reads that several branches need (a
//! managed policy attached twice, a key named by both the bucket and the
//! object, an account's organization). Everything runs inside one task, so nothing needs `Send`
//! or `'static` and borrowed clients are fine.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub(crate) use futures_util::future::{join_all, try_join_all};

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
