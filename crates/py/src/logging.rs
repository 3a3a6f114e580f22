//! The logging bridge: each attempt of a call, as the core's attempt loop reports it, handed to
//! `tccvm._logging.emit` (GIL held) as a dict with no secret in it.
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
use tccvm_core::client::{AttemptLog, AttemptObserver, Client, Interrupt};

/// `tccvm._logging.emit`, imported once.
static LOG_EMIT: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

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

/// `tccvm._logging.emit`, GIL held, as a dict with no secret in it. None for level 0.
pub fn observer(
    client: &Client,
    py: Python<'_>,
    action: &str,
    level: u8,
    stash: &Stash,
) -> PyResult<Option<AttemptObserver>> {
    if level == 0 {
        return Ok(None);
    }
    let emit = LOG_EMIT
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py.import("tccvm._logging")?.getattr("emit")?.unbind())
        })?
        .clone_ref(py);
    let action = action.to_string();
    let region = client.config.region.clone();
    let endpoint = client.endpoint.url.clone();
    let stash = stash.clone();
    Ok(Some(Arc::new(move |a: &AttemptLog| {
        if level < 2 && a.retry_in.is_none() {
            return Ok(());
        }
        Python::attach(|py| {
            // A signal that came meanwhile is handled here, before any Python code runs, so
            // that its exception is told apart from a logging error.
            if signal_raised(py, &stash) {
                return Err(Interrupt);
            }
            let rec = PyDict::new(py);
            let filled = (|| -> PyResult<()> {
                rec.set_item("action", &action)?;
                rec.set_item("region", region.as_deref())?;
                rec.set_item("endpoint", &endpoint)?;
                rec.set_item("attempt", a.attempt)?;
                rec.set_item("max_attempts", a.max_attempts)?;
                rec.set_item("status", a.status)?;
                rec.set_item("latency_ms", a.latency.as_secs_f64() * 1000.0)?;
                rec.set_item("request_id", a.request_id.as_deref())?;
                rec.set_item("outcome", &a.outcome)?;
                rec.set_item("retry_in", a.retry_in.map(|d| d.as_secs_f64()))?;
                emit.call1(py, (rec,))?;
                Ok(())
            })();
            match filled {
                Ok(()) => Ok(()),
                Err(e) if e.is_instance_of::<PyException>(py) => {
                    e.write_unraisable(py, None);
                    // An interrupt that arrived with it is not lost either.
                    if signal_raised(py, &stash) {
                        Err(Interrupt)
                    } else {
                        Ok(())
                    }
                }
                Err(e) => {
                    stash.keep(e);
                    Err(Interrupt)
                }
            }
        })
    })))
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
