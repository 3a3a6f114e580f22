//! Sleeps that end within tens of microseconds of their deadline, for the simulated network
//! distance (`netem`).
//!
//! tokio's timer has a resolution of one millisecond: a sleep ends on the first tick at or after
//! its deadline, and the runtime's `epoll_wait` timeout is itself in milliseconds. Each delayed
//! chunk was so up to ~2 ms late, on each direction of each round trip: a simulated 30 ms round
//! trip measured 32 ms with any client (http.client's included), which is most of the margin
//! the benchmark's goals leave. Here one thread per process keeps the deadlines in a heap and
//! waits for the earliest on a condition variable (a futex with a high-resolution timeout on
//! Linux), then wakes the sleeping task, which its runtime runs at once.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

struct Entry {
    done: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

struct Pending {
    at: Instant,
    seq: u64,
    entry: Arc<Entry>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Heap {
    pending: BinaryHeap<Reverse<Pending>>,
    seq: u64,
}

struct Timer {
    heap: Mutex<Heap>,
    changed: Condvar,
}

fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            heap: Mutex::new(Heap::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("tccvm-emulator-timer".into())
            .spawn(move || run(t))
            .ok()
            .map(|_| t)
    })
}

fn run(t: &'static Timer) {
    let mut heap = t.heap.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let now = Instant::now();
        let next = heap.pending.peek().map(|Reverse(p)| p.at);
        match next {
            None => {
                heap = t.changed.wait(heap).unwrap_or_else(PoisonError::into_inner);
            }
            Some(at) if at > now => {
                heap = t
                    .changed
                    .wait_timeout(heap, at - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            Some(_) => {
                if let Some(Reverse(p)) = heap.pending.pop() {
                    p.entry.done.store(true, Ordering::Release);
                    let waker = p
                        .entry
                        .waker
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                    if let Some(w) = waker {
                        w.wake();
                    }
                }
            }
        }
    }
}

/// A future that is ready at `at` (at once if `at` has passed). Without the timer thread (it
/// could not be started) it falls back to tokio's timer.
pub fn sleep_until(at: Instant) -> PreciseSleep {
    PreciseSleep {
        at,
        entry: None,
        fallback: None,
    }
}

pub struct PreciseSleep {
    at: Instant,
    entry: Option<Arc<Entry>>,
    fallback: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for PreciseSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(f) = self.fallback.as_mut() {
            return f.as_mut().poll(cx);
        }
        if let Some(e) = &self.entry {
            *e.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
            return if e.done.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            };
        }
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        let Some(t) = timer() else {
            let mut f = Box::pin(tokio::time::sleep_until(self.at.into()));
            let r = f.as_mut().poll(cx);
            self.fallback = Some(f);
            return r;
        };
        let entry = Arc::new(Entry {
            done: AtomicBool::new(false),
            waker: Mutex::new(Some(cx.waker().clone())),
        });
        {
            let mut heap = t.heap.lock().unwrap_or_else(PoisonError::into_inner);
            heap.seq += 1;
            let seq = heap.seq;
            let earliest = heap.pending.peek().is_none_or(|Reverse(p)| self.at < p.at);
            heap.pending.push(Reverse(Pending {
                at: self.at,
                seq,
                entry: entry.clone(),
            }));
            if earliest {
                t.changed.notify_one();
            }
        }
        self.entry = Some(entry);
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "current_thread")]
    async fn ends_at_its_deadline_within_half_a_millisecond() {
        let mut late = Vec::new();
        for i in 0..40u64 {
            let at = Instant::now() + Duration::from_micros(1500 + 137 * i);
            sleep_until(at).await;
            late.push(Instant::now() - at);
        }
        late.sort();
        let median = late[late.len() / 2];
        assert!(median < Duration::from_micros(500), "{late:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn many_sleeps_end_in_deadline_order() {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in (0..50u64).rev() {
            let at = start + Duration::from_millis(2) + Duration::from_micros(100 * i);
            tasks.push(tokio::spawn(async move {
                sleep_until(at).await;
                (i, Instant::now() >= at)
            }));
        }
        for t in tasks {
            let (_, on_time) = t.await.unwrap();
            assert!(on_time, "a sleep ended before its deadline");
        }
    }
}
