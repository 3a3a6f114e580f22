//! Where a sync call runs: one of its client's *sync lanes*, a current-thread runtime driven by
//! the calling thread itself, with an HTTP client of its own whose connection tasks live on that
//! runtime too, so that a sync call needs no other thread (no wake-ups across threads, one
//! `epoll_wait` per answer, in which the thread sleeps until its answer arrives). A lane serves
//! one thread at a time; threads calling at once take a lane each, up to [`MAX_LANES`] (and no
//! more than the client's `max_connections`), beyond
//! which calls run on the process runtime. Both ways run the one attempt loop,
//! [`Client::call`], with the same answer judge.
//!
//! A sync call can be interrupted: the binding gives a check (a pending signal, for Python
//! `PyErr_CheckSignals`) that is asked every [`INTERRUPT_CHECK_EVERY`] while the call waits
//! (a timer, no polling); when it says stop, the call's future is dropped there and then (the
//! request in flight and any later attempt with it) and the call ends with
//! `Error::Interrupted`. The lane stays usable: the dropped request's connection is closed by
//! its connection task, never handed out again.

use crate::answer::Decode;
use crate::client::{Answer, AttemptObserver, Client};
use crate::error::Error;
use crate::pool::Pool;
use serde_json::Value;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

tokio::task_local! {
    /// The HTTP client of the sync lane a call runs on (none: the process runtime's pool).
    pub(crate) static SYNC_LANE_HTTP: Pool;
}

/// Sync lanes per client at most: threads beyond this many calling at once use the process
/// runtime (each lane holds a runtime of its own and at least one connection).
pub const MAX_LANES: usize = 16;

/// How often a waiting sync call asks its interrupt check (Ctrl-C reaches the caller within
/// this, plus the time the check takes).
pub const INTERRUPT_CHECK_EVERY: Duration = Duration::from_millis(50);

/// Asked by a waiting sync call every [`INTERRUPT_CHECK_EVERY`] (on the calling thread): true
/// stops the call.
pub type InterruptCheck<'a> = &'a mut dyn FnMut() -> bool;

/// A client's sync lane: a current-thread runtime and the HTTP client whose connection tasks
/// run on it. Only ever dropped in the process that built it: a client's lanes are held per
/// process (`PerProcess`), and a forked child forgets its parent's.
pub struct Lane {
    /// A thread is driving the lane (see [`Client::call_blocking`]).
    busy: AtomicBool,
    runtime: Option<tokio::runtime::Runtime>,
    /// The lane's pool and the pool generation it was built for. Only the thread driving the
    /// lane locks it (never contended; per process like the lane).
    http: Mutex<Option<Pool>>,
}

/// The calling thread's turn on a lane; gives it back when dropped (also on a panic).
struct LaneTurn<'a>(&'a AtomicBool);

impl Drop for LaneTurn<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        let http = match self.http.get_mut() {
            Ok(h) => h.take(),
            Err(p) => p.into_inner().take(),
        };
        drop(http);
        if let Some(runtime) = self.runtime.take() {
            // Never blocks, so dropping the last reference is fine on any thread (also inside
            // another runtime, where a plain drop would panic).
            runtime.shutdown_background();
        }
    }
}

impl Client {
    /// Block on [`Client::call`] run as a task of the process runtime (its panic becomes
    /// `Error::Internal`); interrupted, the task is aborted.
    pub fn call_on_runtime<D: Decode>(
        self: Arc<Self>,
        action: String,
        params: Value,
        observer: Option<AttemptObserver>,
        decode: D,
        interrupt: Option<InterruptCheck<'_>>,
    ) -> Result<Answer<D::Output>, Error> {
        let runtime = crate::runtime::get();
        let task = runtime.spawn(self.call(action, params, observer, decode));
        let abort = task.abort_handle();
        let joined = async move {
            match task.await {
                Ok(r) => r,
                Err(e) if e.is_panic() => Err(Error::Internal(crate::error::panic_message(
                    e.into_panic().as_ref(),
                ))),
                Err(_) => Err(Error::Internal("the call was cancelled".into())),
            }
        };
        let r = runtime.block_on(interruptible(joined, interrupt));
        if matches!(r, Err(Error::Interrupted)) {
            abort.abort();
        }
        r
    }

    /// A free sync lane of this client in this process, marked busy (the caller must hand it
    /// back through [`LaneTurn`]); a new one while fewer than [`MAX_LANES`] exist; `None` when
    /// that many threads are calling at once. The lanes are this process's: a forked child
    /// builds its own (the parent's epoll fds and connections are not its to use).
    fn take_lane(&self) -> Result<Option<Arc<Lane>>, Error> {
        let mut g = match self.lanes.get().lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for l in g.iter() {
            if l.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(Some(l.clone()));
            }
        }
        // No more lanes than connections allowed (each keeps one open).
        if g.len() >= MAX_LANES.min(self.config.max_connections) {
            return Ok(None);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start a tokio runtime: {e}")))?;
        let lane = Arc::new(Lane {
            busy: AtomicBool::new(true),
            runtime: Some(runtime),
            http: Mutex::new(None),
        });
        g.push(lane.clone());
        Ok(Some(lane))
    }

    /// Run [`Client::call`] on a sync lane of this client, driven by the calling thread (which
    /// blocks until the answer is in). Threads calling at once each take a lane of their own
    /// (up to [`MAX_LANES`]; beyond that the call runs on the process runtime).
    ///
    /// Fails (no panic) on a thread that is already inside a tokio runtime, e.g. a log handler
    /// called during a call that makes a sync call itself. With `interrupt`, the call is
    /// abandoned (`Error::Interrupted`) as soon as the check says so (see the module's doc).
    pub fn call_blocking<D: Decode>(
        self: Arc<Self>,
        action: String,
        params: Value,
        observer: Option<AttemptObserver>,
        decode: D,
        interrupt: Option<InterruptCheck<'_>>,
    ) -> Result<Answer<D::Output>, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Internal(
                "a synchronous tccvm call cannot be made on a thread that is already running \
                 a tokio runtime (for example from a log handler during another call, or from \
                 a task on a runtime thread); use tccvm.AsyncClient there, or another thread"
                    .into(),
            ));
        }
        // One thread at a time drives a lane. tokio would let several threads block on one
        // current-thread runtime at once, but then one of them runs every connection task and
        // wakes the others for each answer: 4 threads made half the calls per second of 1.
        let Some(lane) = self.take_lane()? else {
            return self.call_on_runtime(action, params, observer, decode, interrupt);
        };
        let _turn = LaneTurn(&lane.busy);
        let Some(runtime) = lane.runtime.as_ref() else {
            return Err(Error::Internal("the sync lane is gone".into()));
        };
        let http = {
            let mut g = match lane.http.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            self.current_http(&mut g, 1)?
        };
        // (`Client::send` lets the lane's connection tasks catch up before each attempt.)
        let call = SYNC_LANE_HTTP.scope(http, self.call(action, params, observer, decode));
        runtime.block_on(interruptible(call, interrupt))
    }
}

/// `call`, or `Error::Interrupted` as soon as `check` says stop (asked every
/// [`INTERRUPT_CHECK_EVERY`] while `call` is pending; dropping `call` there drops its request).
async fn interruptible<T>(
    call: impl Future<Output = Result<T, Error>>,
    check: Option<InterruptCheck<'_>>,
) -> Result<T, Error> {
    let Some(check) = check else {
        return call.await;
    };
    tokio::pin!(call);
    loop {
        tokio::select! {
            biased;
            r = &mut call => return r,
            () = tokio::time::sleep(INTERRUPT_CHECK_EVERY) => {
                if check() {
                    return Err(Error::Interrupted);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Inspect;
    use crate::config::Config;
    use crate::credentials::Credentials;
    use crate::error::TransportKind;

    #[test]
    fn sync_call_inside_a_runtime_is_an_error_not_a_panic() {
        let c = Arc::new(
            Client::new(
                Config {
                    endpoint: Some("http://127.0.0.1:9".into()),
                    ..Config::default()
                },
                Credentials::new("id".into(), "key".into(), None, None).unwrap(),
            )
            .unwrap(),
        );
        let inner = c.clone();
        let r = crate::runtime::get().block_on(async move {
            inner.call_blocking(
                "DescribeZones".into(),
                serde_json::json!({}),
                None,
                Inspect,
                None,
            )
        });
        match r {
            Err(Error::Internal(m)) => assert!(m.contains("already running a tokio runtime")),
            other => panic!("{other:?}"),
        }
        // No lane was built for it; outside a runtime the call runs (and fails to connect).
        assert!(c.lanes.get().lock().unwrap().is_empty());
        let r = c.clone().call_blocking(
            "DescribeZones".into(),
            serde_json::json!({}),
            None,
            Inspect,
            None,
        );
        assert!(matches!(
            r,
            Err(Error::Transport {
                kind: TransportKind::Connect,
                ..
            })
        ));
        assert_eq!(c.lanes.get().lock().unwrap().len(), 1);
        c.close();
        assert!(c.lanes.get().lock().unwrap().is_empty());
    }
}
