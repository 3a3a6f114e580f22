//! The logging and event-hook bridge: each attempt of a call, as the core's attempt loop
//! reports it, handed to `tccvm._logging.emit` (and `emit_request` for the wire log) and to
//! the client's hooks (`tccvm._hooks`), GIL held, as dicts with no secret in them (the wire
//! views come redacted from `tccvm_core::observe`).
//!
//! An exception raised by a hook ends the call with that exception (no further attempt). An
//! async client's hooks run on its event loop: the hook object returns a
//! `concurrent.futures.Future` for them, which the call waits for without holding a thread.
//!
//! What the Python side raises is never lost. `logging` already keeps a handler's ordinary
//! error to itself (`Handler.handleError`); an `Exception` that still escapes (a failing filter
//! or formatter outside a handler, `logging.raiseExceptions` and the like) goes to
//! `sys.unraisablehook` and the call carries on: logging must not fail a call. Anything else
//! (`KeyboardInterrupt`, `SystemExit`, and whatever a signal handler raises: pending signals are
//! run first) ends the call with that very exception, no further attempt made.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::{Arc, Mutex};
use tccvm_core::client::{AttemptLog, AttemptObserver, Client, Interrupt, Observed, RequestLog};
use tccvm_core::observe::{Observer, WireAnswer, WireRequest};

/// `tccvm._logging.emit` and `emit_request`, imported once.
static LOG_EMIT: pyo3::sync::PyOnceLock<(Py<PyAny>, Py<PyAny>)> = pyo3::sync::PyOnceLock::new();

/// `log` bits (`tccvm._logging.call_log_level`): retries, every attempt, the wire.
const LOG_RETRIES: u8 = 1;
const LOG_ATTEMPTS: u8 = 2;
const LOG_WIRE: u8 = 4;

/// The exception that stopped a call, kept for the caller (one per call).
#[derive(Default, Clone)]
pub struct Stash(Arc<Mutex<Option<PyErr>>>);

impl Stash {
    pub fn keep(&self, e: PyErr) {
        let mut g = match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        // The first one is what stopped the call.
        if g.is_none() {
            *g = Some(e);
        }
    }

    pub fn take(&self) -> Option<PyErr> {
        match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        }
    }

    /// Run pending signal handlers (GIL taken): true (the exception kept) when one raised.
    pub fn interrupted(&self) -> bool {
        Python::attach(|py| signal_raised(py, self))
    }
}

/// The observer of one call: logging at `level` (bits above) and the client's `hooks` (an
/// object with `request(event)` and `response(event)`), None when neither is wanted.
pub fn observer(
    client: &Client,
    py: Python<'_>,
    action: &str,
    level: u8,
    hooks: Option<Py<PyAny>>,
    stash: &Stash,
) -> PyResult<Option<AttemptObserver>> {
    if level == 0 && hooks.is_none() {
        return Ok(None);
    }
    let emit = if level == 0 {
        None
    } else {
        let (e, r) = LOG_EMIT.get_or_try_init(py, || -> PyResult<(Py<PyAny>, Py<PyAny>)> {
            let m = py.import("tccvm._logging")?;
            Ok((
                m.getattr("emit")?.unbind(),
                m.getattr("emit_request")?.unbind(),
            ))
        })?;
        Some((e.clone_ref(py), r.clone_ref(py)))
    };
    Ok(Some(Arc::new(PyObserver {
        level,
        emit,
        hooks,
        action: action.to_string(),
        region: client.config.region.clone(),
        endpoint: client.endpoint.url.clone(),
        stash: stash.clone(),
    })))
}

struct PyObserver {
    level: u8,
    /// `(emit, emit_request)` when logging.
    emit: Option<(Py<PyAny>, Py<PyAny>)>,
    hooks: Option<Py<PyAny>>,
    action: String,
    region: Option<String>,
    endpoint: String,
    stash: Stash,
}

fn pairs<'py>(
    py: Python<'py>,
    h: &[(String, String)],
) -> PyResult<Bound<'py, pyo3::types::PyList>> {
    pyo3::types::PyList::new(py, h.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn wire_request_dict<'py>(py: Python<'py>, w: &WireRequest) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("method", &w.method)?;
    d.set_item("url", &w.url)?;
    d.set_item("headers", pairs(py, &w.headers)?)?;
    d.set_item("body", &w.body)?;
    Ok(d)
}

fn wire_answer_dict<'py>(py: Python<'py>, w: &WireAnswer) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("headers", pairs(py, &w.headers)?)?;
    d.set_item("body", &w.body)?;
    Ok(d)
}

impl PyObserver {
    /// The fields every record and event has.
    fn base<'py>(&self, py: Python<'py>, attempt: u32, max: u32) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("action", &self.action)?;
        d.set_item("region", self.region.as_deref())?;
        d.set_item("endpoint", &self.endpoint)?;
        d.set_item("attempt", attempt)?;
        d.set_item("max_attempts", max)?;
        Ok(d)
    }

    fn attempt_dict<'py>(&self, py: Python<'py>, a: &AttemptLog) -> PyResult<Bound<'py, PyDict>> {
        let d = self.base(py, a.attempt, a.max_attempts)?;
        d.set_item("status", a.status)?;
        d.set_item("latency_ms", a.latency.as_secs_f64() * 1000.0)?;
        d.set_item("request_id", a.request_id.as_deref())?;
        d.set_item("outcome", &a.outcome)?;
        d.set_item("retry_in", a.retry_in.map(|d| d.as_secs_f64()))?;
        Ok(d)
    }

    /// Hand `rec` to a logging function: its `Exception` is the program's logging problem
    /// (`sys.unraisablehook`, the call goes on), anything else stops the call.
    fn log(
        &self,
        py: Python<'_>,
        f: &Py<PyAny>,
        rec: PyResult<Bound<'_, PyDict>>,
    ) -> Result<(), Interrupt> {
        match rec.and_then(|r| f.call1(py, (r,)).map(drop)) {
            Ok(()) => Ok(()),
            Err(e) if e.is_instance_of::<PyException>(py) => {
                e.write_unraisable(py, None);
                // An interrupt that arrived with it is not lost either.
                if signal_raised(py, &self.stash) {
                    Err(Interrupt)
                } else {
                    Ok(())
                }
            }
            Err(e) => {
                self.stash.keep(e);
                Err(Interrupt)
            }
        }
    }

    /// Call the hooks' `kind` with `event`: whatever it raises ends the call; a returned
    /// future (an async client's hooks, on its loop) is waited for.
    fn hook(&self, py: Python<'_>, kind: &str, event: PyResult<Bound<'_, PyDict>>) -> Observed {
        let Some(h) = &self.hooks else {
            return Ok(None);
        };
        let pending = match event.and_then(|e| h.call_method1(py, kind, (e,))) {
            Ok(p) => p,
            Err(e) => {
                self.stash.keep(e);
                return Err(Interrupt);
            }
        };
        if pending.is_none(py) {
            return Ok(None);
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<Option<PyErr>>();
        let done = HookDone(Mutex::new(Some(tx)));
        if let Err(e) = pending.call_method1(py, "add_done_callback", (done,)) {
            self.stash.keep(e);
            return Err(Interrupt);
        }
        let stash = self.stash.clone();
        Ok(Some(Box::pin(async move {
            match rx.await {
                Ok(Some(e)) => {
                    stash.keep(e);
                    Err(Interrupt)
                }
                // Done, or the callback was dropped unrun (the loop closed): go on.
                Ok(None) | Err(_) => Ok(()),
            }
        })))
    }
}

impl Observer for PyObserver {
    fn wire(&self) -> bool {
        self.level & LOG_WIRE != 0
    }

    fn request(&self, r: &RequestLog) -> Observed {
        if self.hooks.is_none() && r.wire.is_none() {
            return Ok(None);
        }
        Python::attach(|py| {
            // A signal that came meanwhile is handled here, before any Python code runs.
            if signal_raised(py, &self.stash) {
                return Err(Interrupt);
            }
            if let (Some(w), Some((_, emit_request))) = (&r.wire, &self.emit) {
                let rec = self.base(py, r.attempt, r.max_attempts).and_then(|d| {
                    d.set_item("wire", wire_request_dict(py, w)?)?;
                    Ok(d)
                });
                self.log(py, emit_request, rec)?;
            }
            self.hook(py, "request", self.base(py, r.attempt, r.max_attempts))
        })
    }

    fn attempt(&self, a: &AttemptLog) -> Observed {
        let lv = self.level;
        let log = lv & LOG_ATTEMPTS != 0
            || (lv & LOG_RETRIES != 0 && a.retry_in.is_some())
            || (lv & LOG_WIRE != 0 && a.wire.is_some());
        if !log && self.hooks.is_none() {
            return Ok(None);
        }
        Python::attach(|py| {
            if signal_raised(py, &self.stash) {
                return Err(Interrupt);
            }
            if let (true, Some((emit, _))) = (log, &self.emit) {
                let rec = self.attempt_dict(py, a).and_then(|d| {
                    if let Some(w) = &a.wire {
                        d.set_item("wire", wire_answer_dict(py, w)?)?;
                    }
                    Ok(d)
                });
                self.log(py, emit, rec)?;
            }
            self.hook(py, "response", self.attempt_dict(py, a))
        })
    }
}

/// Called (on the event loop) when an async client's hooks for one event are done: hands their
/// exception, if any, to the waiting call.
#[pyclass(module = "tccvm._core", name = "_HookDone", frozen)]
pub struct HookDone(Mutex<Option<tokio::sync::oneshot::Sender<Option<PyErr>>>>);

#[pymethods]
impl HookDone {
    fn __call__(&self, future: &Bound<'_, PyAny>) {
        let err = match future.call_method0("exception") {
            Ok(e) if e.is_none() => None,
            Ok(e) => Some(PyErr::from_value(e)),
            // Cancelled: `exception()` raises CancelledError, which stops the call.
            Err(e) => Some(e),
        };
        let tx = match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some(tx) = tx {
            let _ = tx.send(err);
        }
    }
}

/// Run pending signal handlers: true (the exception kept) when one raised.
fn signal_raised(py: Python<'_>, stash: &Stash) -> bool {
    match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            stash.keep(e);
            true
        }
    }
}
