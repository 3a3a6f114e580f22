//! The logging bridge: each attempt of a call, as the core's attempt loop reports it, handed to
//! `tccvm._logging.emit` (GIL held) as a dict with no secret in it.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;
use tccvm_core::client::{AttemptLog, AttemptObserver, Client};

/// `tccvm._logging.emit`, imported once.
static LOG_EMIT: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// `tccvm._logging.emit`, GIL held, as a dict with no secret in it. None for level 0.
pub fn observer(
    client: &Client,
    py: Python<'_>,
    action: &str,
    level: u8,
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
    Ok(Some(Arc::new(move |a: &AttemptLog| {
        if level < 2 && a.retry_in.is_none() {
            return;
        }
        Python::attach(|py| {
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
            // A failing log handler must not fail the call.
            if let Err(e) = filled {
                e.write_unraisable(py, None);
            }
        });
    })))
}
