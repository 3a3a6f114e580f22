//! Core errors as the Python exceptions of `tccvm.errors` (imported once, cached), and the
//! attributes a failed call adds to its exception.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;
use tccvm_core::error::{panic_message, Error};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || {
            PyModule::import(py, "tccvm.errors").map(|m| m.unbind())
        })
        .map(|m| m.bind(py))
}

/// The Python exception of a core [`Error`].
pub trait ToPyErr {
    fn to_pyerr(&self, py: Python<'_>) -> PyErr;
}

impl ToPyErr for Error {
    /// The Python exception for this error (an instance of a `tccvm.errors` class).
    fn to_pyerr(&self, py: Python<'_>) -> PyErr {
        match build(self, py) {
            Ok(e) => e,
            // tccvm.errors missing or broken: still raise something meaningful.
            Err(e) => e,
        }
    }
}

fn build(err: &Error, py: Python<'_>) -> PyResult<PyErr> {
    let m = errors_module(py)?;
    let text = err.to_string();
    let exc = match err {
        Error::Api {
            code,
            message,
            request_id,
            action,
        } => m
            .getattr("TencentCloudError")?
            .call1((code, message, request_id.clone(), action))?,
        Error::Transport {
            kind,
            status,
            action,
            attempts,
            ..
        } => {
            let kw = pyo3::types::PyDict::new(py);
            kw.set_item("status", *status)?;
            kw.set_item("kind", kind.as_str())?;
            kw.set_item("action", action)?;
            kw.set_item("attempts", *attempts)?;
            m.getattr("TransportError")?.call((text,), Some(&kw))?
        }
        Error::Validation { path, .. } => m.getattr("ParamValidationError")?.call1((text, path))?,
        Error::Credential(_) => m.getattr("CredentialError")?.call1((text,))?,
        Error::Config(_) => {
            return Ok(pyo3::exceptions::PyValueError::new_err(text));
        }
        Error::Internal(_) => m.getattr("TccvmError")?.call1((text,))?,
        // What stopped the call is raised instead (see `interrupted_or`); without it, the
        // closest Python meaning.
        Error::Interrupted => {
            return Ok(pyo3::exceptions::PyKeyboardInterrupt::new_err(text));
        }
    };
    Ok(PyErr::from_value(exc))
}

/// A panic caught at the boundary, as `tccvm.TccvmError`.
pub fn panic_to_pyerr(py: Python<'_>, p: &(dyn std::any::Any + Send)) -> PyErr {
    Error::Internal(panic_message(p)).to_pyerr(py)
}

/// Put the ClientToken a failed call carried on its exception (`client_token`), so that the
/// caller can retry with it: the service then runs the action at most once overall.
pub fn with_client_token(py: Python<'_>, e: PyErr, token: Option<&str>) -> PyErr {
    if let Some(t) = token {
        let _ = e.value(py).setattr("client_token", t);
    }
    e
}

/// The exception of a failed call: the one kept in `stash` when the call was interrupted (a
/// signal handler's, a log handler's `BaseException`), else `err`'s.
pub fn interrupted_or(py: Python<'_>, err: Error, stash: &crate::logging::Stash) -> PyErr {
    match (&err, stash.take()) {
        (Error::Interrupted, Some(kept)) => kept,
        _ => err.to_pyerr(py),
    }
}
