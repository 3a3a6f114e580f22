//! A connection pool of one generation (the async calls' or a sync lane's), and the gate its
//! first HTTPS connection goes through.
//!
//! Over HTTPS the protocol is known only once a connection has negotiated it (ALPN). Until
//! then hyper's pool cannot know that one HTTP/2 connection would carry every call, so a burst
//! of async calls on a new pool would each open a connection of its own and pay its TCP and TLS
//! handshakes (64 calls in flight: 64 connections, 64 handshakes, then all but one idle on an
//! HTTP/2 server). So the first HTTPS call of an async pool goes alone: the calls started
//! meanwhile wait for its answer's headers (or its failure, after which the next one tries),
//! then all go. On an HTTP/2 server they share its connection; on an HTTP/1.1 server they open
//! their own as before, having waited for one call once, and the client stops gating (a pool
//! rebuilt later is not gated again). Plain HTTP is never gated (no HTTP/2 there without prior
//! knowledge), nor are sync calls (one at a time per lane).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{Semaphore, SemaphorePermit};

/// An HTTP client (its pool of connections) built for one pool generation.
#[derive(Clone)]
pub(crate) struct Pool {
    pub generation: u64,
    pub http: reqwest::Client,
    /// How many connections this pool has opened so far (`transfer::CountOpened`): an attempt
    /// during which it did not move went out on a reused connection.
    pub opened: Arc<AtomicU64>,
    /// Used by the async pool only (a sync lane makes one call at a time).
    pub first: Arc<FirstConnection>,
}

impl Pool {
    pub fn new(generation: u64, http: reqwest::Client, opened: Arc<AtomicU64>) -> Pool {
        Pool {
            generation,
            http,
            opened,
            first: Arc::new(FirstConnection::default()),
        }
    }
}

pub(crate) struct FirstConnection {
    /// A call has had an answer through this pool.
    open: AtomicBool,
    /// Held by the call that is making the first connection.
    making: Semaphore,
}

impl Default for FirstConnection {
    fn default() -> Self {
        FirstConnection {
            open: AtomicBool::new(false),
            making: Semaphore::new(1),
        }
    }
}

impl FirstConnection {
    /// Wait until the first connection is made, or be the call that makes it (`Some`: hold it
    /// until the answer's headers, then call [`FirstConnection::opened`]; dropping it without
    /// that lets the next waiting call try).
    pub async fn pass(&self) -> Option<SemaphorePermit<'_>> {
        if self.open.load(Ordering::Acquire) {
            return None;
        }
        let permit = self.making.acquire().await.ok()?;
        if self.open.load(Ordering::Acquire) {
            return None;
        }
        Some(permit)
    }

    pub fn opened(&self) {
        self.open.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_call_goes_first_and_the_rest_after_its_answer() {
        let gate = Arc::new(FirstConnection::default());
        let first = gate.pass().await;
        assert!(first.is_some());
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.pass().await.is_none() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        gate.opened();
        drop(first);
        assert!(waiting.await.unwrap());
        assert!(gate.pass().await.is_none());
    }

    #[tokio::test]
    async fn after_a_failed_first_call_the_next_one_tries() {
        let gate = FirstConnection::default();
        drop(gate.pass().await);
        assert!(gate.pass().await.is_some());
    }
}
