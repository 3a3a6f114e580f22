//! Client-side rate limiting: each action held to the requests per second the service model
//! documents for it (`Client(rate_limit=True)`).

use crate::runtime::PerProcess;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The documented requests per second of each action, from the service model.
pub fn model_rate_limit(action: &str) -> Option<u32> {
    crate::model::action(action)
        .and_then(|a| a.rate_limit)
        .filter(|l| *l > 0)
}

/// The window the service counts requests in, plus a small margin.
pub const RATE_WINDOW: Duration = Duration::from_millis(1010);

/// Per-action request permits: `limit` per action; a request holds one from before it is sent
/// until its answer is in, and the permit comes back one window after that. The service
/// received the request before the answer came, so any `limit + 1` requests to an action
/// reach it at least a window apart, whatever the latency. FIFO (tokio's semaphore), shared by
/// every thread and task of the client; per process (permits held by the parent's requests
/// would never come back in a forked child).
#[derive(Debug, Default)]
pub struct RateLimiter {
    permits: PerProcess<Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>>,
}

/// A permit held for one request; dropping it gives it back one window later.
#[derive(Debug)]
pub struct RatePermit(Option<tokio::sync::OwnedSemaphorePermit>);

impl Drop for RatePermit {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // On the process runtime, always driven: not on a sync lane, which runs only while
            // a thread calls on it (a call waiting on the process runtime for this permit
            // would wait until then).
            crate::runtime::get().spawn(async move {
                tokio::time::sleep(RATE_WINDOW).await;
                drop(p);
            });
        }
    }
}

impl RateLimiter {
    fn semaphore(&self, action: &str, limit: u32) -> Arc<tokio::sync::Semaphore> {
        let mut map = match self.permits.get().lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match map.get(action) {
            Some(s) => s.clone(),
            None => {
                let s = Arc::new(tokio::sync::Semaphore::new(limit.max(1) as usize));
                map.insert(action.to_string(), s.clone());
                s
            }
        }
    }

    /// Wait for a permit to send one request to `action` (limited to `limit` per window).
    pub async fn acquire(&self, action: &str, limit: u32) -> RatePermit {
        let sem = self.semaphore(action, limit);
        // The semaphore is never closed: acquire only fails if it were.
        RatePermit(sem.acquire_owned().await.ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_permits() {
        let rt = crate::runtime::get();
        rt.block_on(async {
            let l = Arc::new(RateLimiter::default());
            let t = tokio::time::Instant::now();
            // `limit` at once; the next waits a window after the first answer.
            let a = l.acquire("A", 2).await;
            let _b = l.acquire("A", 2).await;
            assert!(t.elapsed() < Duration::from_millis(100));
            // Other actions have their own permits.
            drop(l.acquire("B", 1).await);
            drop(a);
            let _c = l.acquire("A", 2).await;
            assert!(t.elapsed() >= RATE_WINDOW, "{:?}", t.elapsed());
        });
        assert_eq!(model_rate_limit("DescribeInstances"), Some(40));
        assert_eq!(model_rate_limit("NoSuchAction"), None);
    }
}
