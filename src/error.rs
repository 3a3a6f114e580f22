//! One error type for the core and its mapping onto the Python exceptions of `tccvm.errors`.
//!
//! No variant ever carries a secret: messages are built from codes, statuses and the service's
//! own error message, never from request headers or signed strings.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;
use std::fmt;

/// What kind of transport failure (decides retries and the Python attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Could not connect (refused, DNS, TLS handshake): the request never reached the server.
    Connect,
    /// Timed out (connect or whole request).
    Timeout,
    /// The connection failed after the request may have been sent (reset, closed, body error).
    Io,
    /// The server answered something that is not the API's JSON (HTML 502, empty, truncated).
    NotApi,
    /// Invalid configuration detected when building the request (bad URL, bad header).
    Request,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Io => "io",
            TransportKind::NotApi => "not_api",
            TransportKind::Request => "request",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Error {
    /// The service answered `Response.Error`.
    Api {
        code: String,
        message: String,
        request_id: Option<String>,
        action: String,
    },
    /// Network failure or an answer that is not the API's JSON.
    Transport {
        kind: TransportKind,
        message: String,
        status: Option<u16>,
        action: String,
        attempts: u32,
    },
    /// A parameter failed validation against the model (before any I/O).
    Validation { path: String, message: String },
    /// Credentials missing or unusable.
    Credential(String),
    /// Invalid client configuration (bad endpoint, sign method ...): a ValueError.
    Config(String),
    /// A bug: a panic caught at the boundary, or an impossible state.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api {
                code,
                message,
                request_id,
                action,
            } => write!(
                f,
                "[{code}] {message} (action {action}, request id {})",
                request_id.as_deref().unwrap_or("-")
            ),
            Error::Transport {
                kind,
                message,
                status,
                action,
                attempts,
            } => {
                write!(f, "{action}: {message}")?;
                if let Some(s) = status {
                    write!(f, " (HTTP {s})")?;
                }
                write!(f, " [{}; {attempts} attempt", kind.as_str())?;
                if *attempts != 1 {
                    f.write_str("s")?;
                }
                f.write_str("]")
            }
            Error::Validation { path, message } => {
                if path.is_empty() {
                    write!(f, "{message}")
                } else {
                    write!(f, "{path}: {message}")
                }
            }
            Error::Credential(m) | Error::Config(m) | Error::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::model::ValidationError> for Error {
    fn from(e: crate::model::ValidationError) -> Self {
        Error::Validation {
            path: e.path,
            message: e.message,
        }
    }
}

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || {
            PyModule::import(py, "tccvm.errors").map(|m| m.unbind())
        })
        .map(|m| m.bind(py))
}

impl Error {
    /// The Python exception for this error (an instance of a `tccvm.errors` class).
    pub fn to_pyerr(&self, py: Python<'_>) -> PyErr {
        match self.build(py) {
            Ok(e) => e,
            // tccvm.errors missing or broken: still raise something meaningful.
            Err(e) => e,
        }
    }

    fn build(&self, py: Python<'_>) -> PyResult<PyErr> {
        let m = errors_module(py)?;
        let text = self.to_string();
        let exc = match self {
            Error::Api {
                code,
                message,
                request_id,
                action,
            } => m.getattr("TencentCloudError")?.call1((
                code,
                message,
                request_id.clone(),
                action,
            ))?,
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
            Error::Validation { path, .. } => {
                m.getattr("ParamValidationError")?.call1((text, path))?
            }
            Error::Credential(_) => m.getattr("CredentialError")?.call1((text,))?,
            Error::Config(_) => {
                return Ok(pyo3::exceptions::PyValueError::new_err(text));
            }
            Error::Internal(_) => m.getattr("TccvmError")?.call1((text,))?,
        };
        Ok(PyErr::from_value(exc))
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        Python::attach(|py| e.to_pyerr(py))
    }
}

/// A panic payload as text (for `Error::Internal`).
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    let detail = if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    };
    format!("internal error in tccvm (a bug, please report it): {detail}")
}
