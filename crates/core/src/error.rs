//! One error type for the core (the binding maps it onto the Python exceptions of
//! `tccvm.errors`).
//!
//! No variant ever carries a secret: messages are built from codes, statuses and the service's
//! own error message, never from request headers or signed strings.

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
    /// The answer was longer than the client's `max_response_bytes` (reading stopped there).
    TooLarge,
    /// The process ran out of file descriptors (EMFILE/ENFILE) opening a connection.
    FdLimit,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Io => "io",
            TransportKind::NotApi => "not_api",
            TransportKind::Request => "request",
            TransportKind::TooLarge => "too_large",
            TransportKind::FdLimit => "fd_limit",
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
    /// The caller asked the call to stop (a pending signal, an exception raised by a callback):
    /// the binding raises what it kept for it. No further attempt was sent.
    Interrupted,
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
            Error::Interrupted => f.write_str("the call was interrupted"),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::validate::ValidationError> for Error {
    fn from(e: crate::validate::ValidationError) -> Self {
        Error::Validation {
            path: e.path,
            message: e.message,
        }
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
