//! How a finished async call reaches its asyncio event loop.
//!
//! pyo3-async-runtimes' `future_into_py` hands every finished future to a blocking-pool thread
//! that takes the GIL and calls `loop.call_soon_threadsafe`: per call two extra tasks, a thread
//! (often a new one), and a GIL acquisition from outside the loop thread, which waits up to the
//! interpreter's switch interval whenever the loop thread is running Python. At 256 calls in
//! flight that cost more CPU than the calls themselves.
//!
//! Here each event loop has one [`Completer`]: a queue plus a wake-up socket the loop watches
//! (`loop.add_reader`). A finished call is pushed onto the queue without the GIL; only the push
//! that finds the queue empty writes a byte to the socket. The loop thread, which holds the GIL
//! anyway, then drains the whole batch: it decodes each answer and sets each future directly.
//! Where sockets cannot be watched (non-unix), the first push of a batch schedules the drain
//! with `call_soon_threadsafe` instead; the batching is the same.

use crate::decode::decode_response;
use crate::errors::{interrupted_or, with_client_token};
use crate::logging::Stash;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use tccvm_core::client::Answer;
use tccvm_core::error::{panic_message, Error};
use tccvm_core::runtime::PerProcess;

/// One finished call, waiting for the loop thread.
struct Done {
    future: Py<PyAny>,
    result: Result<Answer<()>, Error>,
    action: String,
    token: Option<String>,
    /// What stopped the call, if something did (a log handler's `BaseException`).
    stash: Stash,
}

/// The part of a completer that worker threads touch (no Python object in use without the GIL).
struct Shared {
    queue: Mutex<Vec<Done>>,
    #[cfg(unix)]
    wake_tx: std::os::unix::net::UnixStream,
    #[cfg(unix)]
    wake_rx: std::os::unix::net::UnixStream,
    /// `(loop.call_soon_threadsafe, drain)` where there is no socket to watch.
    #[cfg(not(unix))]
    schedule: std::sync::OnceLock<(Py<PyAny>, Py<PyAny>)>,
}

impl Shared {
    /// Queue a finished call; wake the loop if this starts a batch.
    fn push(&self, done: Done) {
        let starts_batch = {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.push(done);
            q.len() == 1
        };
        if starts_batch {
            self.wake();
        }
    }

    #[cfg(unix)]
    fn wake(&self) {
        use std::io::Write;
        // Non-blocking: a full socket already holds a wake-up the loop has not read yet.
        let _ = (&self.wake_tx).write(&[1]);
    }

    #[cfg(not(unix))]
    fn wake(&self) {
        let Some((call_soon, drain)) = self.schedule.get() else {
            return;
        };
        Python::attach(|py| {
            if let Err(e) = call_soon.call1(py, (drain.clone_ref(py),)) {
                // The loop is closed: nobody is waiting for these results any more.
                e.write_unraisable(py, None);
            }
        });
    }

    /// Up to `most` finished calls, the oldest first, and whether more are left.
    fn take(&self, most: usize) -> (Vec<Done>, bool) {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if q.len() <= most {
            (std::mem::take(&mut *q), false)
        } else {
            let rest = q.split_off(most);
            (std::mem::replace(&mut *q, rest), true)
        }
    }
}

/// The completer of one event loop (its `_drain` is the loop's reader callback).
#[pyclass(module = "tccvm._core", name = "_Completer", frozen)]
pub struct Completer {
    shared: Arc<Shared>,
}

#[pymethods]
impl Completer {
    /// Deliver the finished calls queued so far (runs on the loop thread), [`SLICE`] at a time:
    /// when more are left it schedules itself again with `loop.call_soon`, behind the tasks the
    /// delivered results woke, so that they send their next requests before the rest of the
    /// batch is decoded (a batch of 64 answers decoded in one go held back 64 follow-up requests
    /// for the whole batch: the calls then moved in lockstep waves, each a round trip plus the
    /// batch's decoding long). Pushes made meanwhile find the queue not empty and write no
    /// wake-up byte: the scheduled drain takes them.
    fn _drain(slf: &Bound<'_, Self>) {
        let py = slf.py();
        let this = slf.get();
        #[cfg(unix)]
        {
            use std::io::Read;
            let mut buf = [0u8; 64];
            loop {
                match (&this.shared.wake_rx).read(&mut buf) {
                    Ok(n) if n == buf.len() => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    _ => break,
                }
            }
        }
        let (batch, more) = this.shared.take(SLICE);
        for done in batch {
            deliver(py, done);
        }
        if more {
            let again = pyo3_async_runtimes::get_running_loop(py).and_then(|l| {
                l.call_method1(pyo3::intern!(py, "call_soon"), (slf.getattr("_drain")?,))
            });
            if let Err(e) = again {
                // No running loop to come back on: deliver the rest now rather than lose them.
                e.write_unraisable(py, Some(slf.as_any()));
                for done in this.shared.take(usize::MAX).0 {
                    deliver(py, done);
                }
            }
        }
    }
}

/// Finished calls delivered per turn of the event loop (see `Completer::_drain`).
const SLICE: usize = 8;

/// Set one future's result or exception; a future already done (cancelled) takes nothing.
fn deliver(py: Python<'_>, d: Done) {
    let fut = d.future.bind(py);
    match fut
        .call_method0(pyo3::intern!(py, "done"))
        .and_then(|v| v.is_truthy())
    {
        Ok(false) => {}
        Ok(true) => return,
        Err(e) => return e.write_unraisable(py, Some(fut)),
    }
    let outcome = match d.result {
        Ok(answer) => decode_response(py, &answer, &d.action),
        Err(e) => Err(with_client_token(
            py,
            interrupted_or(py, e, &d.stash),
            d.token.as_deref(),
        )),
    };
    let set = match outcome {
        Ok(obj) => fut.call_method1(pyo3::intern!(py, "set_result"), (obj,)),
        Err(e) => fut.call_method1(pyo3::intern!(py, "set_exception"), (e.into_value(py),)),
    };
    // One failed delivery must not cost the rest of the batch theirs.
    if let Err(e) = set {
        e.write_unraisable(py, Some(fut));
    }
}

/// Completers by event loop: `(loop address, weakref to the loop, completer)`. Per process: a
/// forked child neither uses its parent's completers nor waits for a lock a parent thread held.
type Entry = (usize, Py<PyAny>, Arc<Shared>);
static COMPLETERS: PerProcess<Mutex<Vec<Entry>>> = PerProcess::new();
static WEAKREF: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The completer of the running event loop, created (and registered with the loop) on first use.
/// When a new one is made, entries whose loop is gone are dropped (closing their sockets); a
/// forked child's parent's entries are left alone.
///
/// No Python code runs while `COMPLETERS` is held (only weakref calls, which are C and keep the
/// GIL), and the lock is taken with the GIL released while waiting: Python code may hand the
/// GIL to another thread, and a thread holding the GIL while it waits for this lock would
/// deadlock the process (seen with 8 threads each running event loops).
fn for_loop(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Shared>> {
    use pyo3::sync::MutexExt;
    let addr = event_loop.as_ptr() as usize;
    let lock = || {
        COMPLETERS
            .get()
            .lock_py_attached(py)
            .unwrap_or_else(PoisonError::into_inner)
    };
    {
        let entries = lock();
        for (a, weak, shared) in entries.iter() {
            // The address alone could be a dead loop's, reused: the weakref says it is this one.
            if *a == addr && weak.bind(py).call0()?.is(event_loop) {
                return Ok(shared.clone());
            }
        }
    }
    // A loop is driven by one thread, so nobody else registers this loop meanwhile.
    let shared = Arc::new(new_shared()?);
    let completer = Bound::new(
        py,
        Completer {
            shared: shared.clone(),
        },
    )?;
    let drain = completer.getattr("_drain")?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        event_loop.call_method1("add_reader", (shared.wake_rx.as_raw_fd(), drain))?;
    }
    #[cfg(not(unix))]
    {
        // A cycle (completer -> shared -> drain -> completer): one small leak per event loop.
        let call_soon = event_loop.getattr("call_soon_threadsafe")?.unbind();
        let _ = shared.schedule.set((call_soon, drain.unbind()));
    }
    let weakref = WEAKREF.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("weakref")?.getattr("ref")?.unbind())
    })?;
    let weak = weakref.bind(py).call1((event_loop,))?.unbind();
    let stale: Vec<Entry> = {
        let mut entries = lock();
        let (keep, stale) = std::mem::take(&mut *entries)
            .into_iter()
            .partition(|(_, w, _)| w.bind(py).call0().map(|t| !t.is_none()).unwrap_or(false));
        *entries = keep;
        entries.push((addr, weak, shared.clone()));
        stale
    };
    // Dropped without the lock: their queued futures' finalizers may run Python code.
    drop(stale);
    Ok(shared)
}

#[cfg(unix)]
fn new_shared() -> PyResult<Shared> {
    let (tx, rx) = std::os::unix::net::UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok(Shared {
        queue: Mutex::new(Vec::new()),
        wake_tx: tx,
        wake_rx: rx,
    })
}

#[cfg(not(unix))]
fn new_shared() -> PyResult<Shared> {
    Ok(Shared {
        queue: Mutex::new(Vec::new()),
        schedule: std::sync::OnceLock::new(),
    })
}

/// Run `call` on the runtime and return the asyncio future (of the running loop) that its
/// outcome completes: decoded `Response` object, or the call's exception (a panic becomes
/// `TccvmError`). Cancelling the asyncio future aborts the task (no further attempts).
pub(super) fn spawn<'py, F>(
    py: Python<'py>,
    call: F,
    action: &str,
    token: Option<String>,
    stash: Stash,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<Answer<()>, Error>> + Send + 'static,
{
    let event_loop = pyo3_async_runtimes::get_running_loop(py)?;
    let completer = for_loop(py, &event_loop)?;
    let future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let future_ref = future.clone().unbind();
    let action = action.to_string();
    let task = tccvm_core::runtime::get().spawn(async move {
        let result = CatchPanic(Box::pin(call))
            .await
            .unwrap_or_else(|m| Err(Error::Internal(m)));
        completer.push(Done {
            future: future_ref,
            result,
            action,
            token,
            stash,
        });
    });
    future.call_method1(
        pyo3::intern!(py, "add_done_callback"),
        (AbortOnDone(task.abort_handle()),),
    )?;
    Ok(future)
}

/// A future that turns a panic while polling into `Err(payload message)`.
struct CatchPanic<F>(pub Pin<Box<F>>);

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => Poll::Ready(Err(panic_message(p.as_ref()))),
        }
    }
}

/// Calls `abort()` on the call's task when its asyncio future is done (cancelled, mostly; on a
/// finished task it does nothing).
#[pyclass(module = "tccvm._core", name = "_AbortOnDone", frozen)]
pub struct AbortOnDone(tokio::task::AbortHandle);

#[pymethods]
impl AbortOnDone {
    fn __call__(&self, _future: &Bound<'_, PyAny>) {
        self.0.abort();
    }
}
