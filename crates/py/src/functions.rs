//! Module-level functions of `tccvm._core`: signing and encoding helpers (for tests, the
//! emulator's Python side and the benchmarks), the decoder as `loads`, `validate_params` (used by
//! `paginate()`), and the panic-boundary checks of the test suite.

use crate::completer;
use crate::convert::{checked_params, convert_params, plain_json, secs};
use crate::errors::{panic_to_pyerr, ToPyErr};
use pyo3::prelude::*;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tccvm_core::error::{panic_message, Error, TransportKind};

/// v1 signature of `params` (a list of (name, value) pairs or a dict of strings).
#[pyfunction]
#[pyo3(signature = (sign_method, secret_key, http_method, host, path, params))]
pub fn sign_v1(
    sign_method: &str,
    secret_key: &str,
    http_method: &str,
    host: &str,
    path: &str,
    params: Vec<(String, String)>,
) -> PyResult<String> {
    let m = tccvm_core::sign::SignMethod::parse(sign_method)
        .filter(|m| m.is_v1())
        .ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err("sign_method must be HmacSHA1 or HmacSHA256")
        })?;
    tccvm_core::sign::v1_sign(m, secret_key.as_bytes(), http_method, host, path, &params)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("not a v1 method"))
}

/// TC3 signature: returns the Authorization header value.
#[pyfunction]
#[pyo3(signature = (secret_id, secret_key, http_method, path, canonical_query, headers, payload, timestamp, service="cvm"))]
#[allow(clippy::too_many_arguments)]
pub fn sign_tc3(
    secret_id: &str,
    secret_key: &str,
    http_method: &str,
    path: &str,
    canonical_query: &str,
    headers: Vec<(String, String)>,
    payload: &[u8],
    timestamp: i64,
    service: &str,
) -> String {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    tccvm_core::sign::tc3_sign(
        secret_id,
        secret_key.as_bytes(),
        &tccvm_core::sign::Tc3Input {
            http_method,
            path,
            canonical_query,
            headers: &h,
            payload,
            service,
            timestamp,
        },
    )
    .authorization
}

/// Flatten params as the v1 / GET wire format does: a list of (name, value) pairs.
#[pyfunction]
pub fn flatten_params(params: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let v = convert_params(Some(params)).map_err(|e| e.to_pyerr(params.py()))?;
    Ok(tccvm_core::params::flatten(&v))
}

/// The JSON text of `params` as a call converts them, by the direct path (`plain=True`, `None`
/// when it declines) or through pythonize (for the tests that compare the two).
#[pyfunction]
pub fn _params_json(params: &Bound<'_, PyAny>, plain: bool) -> PyResult<Option<String>> {
    let v = if plain {
        plain_json(params, 0)
    } else {
        Some(
            pythonize::depythonize::<Value>(params)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?,
        )
    };
    Ok(v.map(|v| v.to_string()))
}

/// Parse a JSON document into Python objects with the core's decoder (tests, benchmarks).
#[pyfunction]
pub fn loads<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    crate::decode::json_to_python(py, data).map_err(pyo3::exceptions::PyValueError::new_err)
}

/// Run a closure that panics through the same boundary as every call (for the test that no
/// Rust panic reaches Python as `PanicException`): raises `tccvm.TccvmError`.
#[pyfunction]
pub fn _check_panic_boundary(py: Python<'_>, in_runtime: bool) -> PyResult<()> {
    let outcome = if in_runtime {
        py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                tccvm_core::runtime::get().block_on(async {
                    let h = tccvm_core::runtime::get().spawn(async {
                        if std::hint::black_box(true) {
                            panic!("deliberate test panic in a task");
                        }
                    });
                    match h.await {
                        Ok(()) => Ok(()),
                        Err(e) if e.is_panic() => {
                            Err(Error::Internal(panic_message(e.into_panic().as_ref())))
                        }
                        Err(_) => Err(Error::Internal("cancelled".into())),
                    }
                })
            }))
        })
    } else {
        catch_unwind(AssertUnwindSafe(|| -> Result<(), Error> {
            if std::hint::black_box(true) {
                panic!("deliberate test panic");
            }
            Ok(())
        }))
    };
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_pyerr(py)),
        Err(p) => Err(panic_to_pyerr(py, p.as_ref())),
    }
}

/// The async twin: an awaitable whose call panics on the runtime, delivered through the same
/// completer as every async call (raises `tccvm.TccvmError` when awaited).
#[pyfunction]
pub fn _check_panic_boundary_async(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    completer::spawn(
        py,
        async {
            if std::hint::black_box(true) {
                panic!("deliberate test panic in an async call");
            }
            Err(Error::Internal("unreachable".into()))
        },
        "CheckPanicBoundary",
        None,
        crate::logging::Stash::default(),
    )
}

/// Check `params` for `action` exactly as a validated call does before sending anything, and
/// raise the same `ParamValidationError`; `paginate()` uses it so that a bad argument fails at
/// the call, not at the first page.
#[pyfunction]
#[pyo3(signature = (action, params=None))]
pub fn validate_params(
    py: Python<'_>,
    action: &str,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    checked_params(action, params, true)
        .map(|_| ())
        .map_err(|e| e.to_pyerr(py))
}

/// `GET url` with no proxy and no redirects, through the core's HTTP client: `(status, body)`
/// for any status. For the credential chain's CVM-role fetch from the metadata service:
/// `connect_timeout` bounds the name lookup and the connect, `timeout` the whole exchange; a
/// body over `max_bytes` is refused. Failures raise the built-in exceptions:
/// `ConnectionError(reason)` (could not connect; "timed out" when the connect did not finish in
/// time), `TimeoutError` (connected, but the answer was not complete in time), `OSError(reason)`
/// (the answer broke off, was not HTTP, or was too long), `ValueError` (not an http(s) URL).
#[pyfunction]
#[pyo3(signature = (url, timeout, connect_timeout, max_bytes=1 << 20))]
pub fn http_get(
    py: Python<'_>,
    url: &str,
    timeout: f64,
    connect_timeout: f64,
    max_bytes: usize,
) -> PyResult<(u16, Py<pyo3::types::PyBytes>)> {
    use pyo3::exceptions::{PyConnectionError, PyOSError, PyTimeoutError, PyValueError};
    let timeout = secs("timeout", timeout).map_err(|e| e.to_pyerr(py))?;
    let connect_timeout = secs("connect_timeout", connect_timeout).map_err(|e| e.to_pyerr(py))?;
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Internal(
            "http_get cannot run on a thread that is already running a tokio runtime".into(),
        )
        .to_pyerr(py));
    }
    let result = py.detach(|| {
        catch_unwind(AssertUnwindSafe(|| {
            tccvm_core::runtime::get().block_on(tccvm_core::fetch::get(
                url,
                connect_timeout,
                timeout,
                max_bytes,
            ))
        }))
    });
    let (kind, message) = match result {
        Ok(Ok((status, body))) => {
            return Ok((status, pyo3::types::PyBytes::new(py, &body).unbind()));
        }
        Ok(Err(failure)) => failure,
        Err(p) => return Err(panic_to_pyerr(py, p.as_ref())),
    };
    // The reason alone, without the core's wording around it ("could not connect: ...").
    let reason = |prefix: &str| {
        let r = message.strip_prefix(prefix).unwrap_or(&message);
        r.trim_start_matches(": ").to_string()
    };
    Err(match kind {
        TransportKind::Connect if message.contains("timed out") => {
            PyConnectionError::new_err("timed out")
        }
        TransportKind::Connect => PyConnectionError::new_err(reason("could not connect")),
        TransportKind::Timeout => PyTimeoutError::new_err("timed out"),
        TransportKind::Request => PyValueError::new_err(message),
        TransportKind::Io | TransportKind::NotApi => {
            PyOSError::new_err(reason("the connection failed"))
        }
        TransportKind::TooLarge | TransportKind::FdLimit => PyOSError::new_err(message),
    })
}

/// Register the classes and functions of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<crate::client::Core>()?;
    m.add_function(wrap_pyfunction!(sign_v1, m)?)?;
    m.add_function(wrap_pyfunction!(sign_tc3, m)?)?;
    m.add_function(wrap_pyfunction!(flatten_params, m)?)?;
    m.add_function(wrap_pyfunction!(loads, m)?)?;
    m.add_function(wrap_pyfunction!(_params_json, m)?)?;
    m.add_function(wrap_pyfunction!(validate_params, m)?)?;
    m.add_function(wrap_pyfunction!(http_get, m)?)?;
    m.add(
        "REFRESH_MARGIN_SECS",
        tccvm_core::credentials::REFRESH_MARGIN_SECS,
    )?;
    m.add_function(wrap_pyfunction!(_check_panic_boundary, m)?)?;
    m.add_function(wrap_pyfunction!(_check_panic_boundary_async, m)?)?;
    m.add("DEFAULT_HOST", tccvm_core::endpoint::default_host())?;
    Ok(())
}
