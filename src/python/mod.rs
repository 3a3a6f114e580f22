//! The pyo3 classes: `_core.Core`, used by `tccvm.Client` and `tccvm.AsyncClient`.
//!
//! One call: params converted (pythonize) and validated with the GIL held; then, without the
//! GIL, signed/sent/retried; then the `Response` object built from the bytes with the GIL. The
//! sync method drives the client's own sync lane on the calling thread (`py.detach` +
//! `Client::call_blocking`); the async method returns an asyncio future that the call's task
//! (on the process runtime) completes through its event loop's [`completer`] (batched, no GIL
//! on the runtime's threads). Panics are caught at this boundary and become `tccvm.TccvmError`.

use crate::credentials::Credentials;
use crate::error::{panic_message, Error};
use crate::transport::{self, Answer, Backoff, Client, Config, HttpMethod, Verify};
use crate::wire::{self, Head, NotApi};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

mod completer;

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

fn build_response(py: Python<'_>, answer: Answer, action: &str) -> PyResult<Py<PyAny>> {
    if let Some(built) = answer.built {
        if let Ok(obj) = built.downcast::<Py<PyAny>>() {
            return Ok(*obj);
        }
    }
    match catch_unwind(AssertUnwindSafe(|| {
        crate::wire::response_to_python(py, &answer.body)
    })) {
        Ok(Ok(obj)) => Ok(obj.unbind()),
        Ok(Err(not_api)) => Err(Error::Transport {
            kind: crate::error::TransportKind::NotApi,
            message: format!("the answer is not the API's JSON: {not_api}"),
            status: None,
            action: action.to_string(),
            attempts: 1,
        }
        .to_pyerr(py)),
        Err(p) => Err(Error::Internal(panic_message(p.as_ref())).to_pyerr(py)),
    }
}

/// The [`transport::Check`] of sync calls: the answer's `Response` is built into Python objects
/// on the calling thread in the pass that checks it (the transport's own check would read the
/// body once more). Anything but a plain success (an API error, a key given twice, a body the
/// decoder refuses) is judged by [`wire::inspect`], exactly as for async calls.
fn check_and_build(body: &[u8]) -> Result<(Head, Option<transport::Built>), NotApi> {
    let built = Python::attach(|py| {
        match catch_unwind(AssertUnwindSafe(|| plain_success(py, body))) {
            Ok(Some(b)) => Some(b),
            _ => {
                // A failed decode may have left a Python exception set.
                drop(PyErr::take(py));
                None
            }
        }
    });
    match built {
        Some((request_id, obj)) => Ok((
            Head {
                request_id,
                error: None,
            },
            Some(Box::new(obj)),
        )),
        None => wire::inspect(body).map(|head| (head, None)),
    }
}

/// The `Response` object and its `RequestId` when the answer is a plain success: what
/// `wire::inspect` accepts with no error, read as it reads it.
fn plain_success(py: Python<'_>, body: &[u8]) -> Option<(Option<String>, Py<PyAny>)> {
    let (obj, plain) = wire::response_to_python_plain(py, body).ok()?;
    if !plain {
        return None;
    }
    let d = obj.cast::<PyDict>().ok()?;
    if d.get_item("Error").ok()?.is_some_and(|e| !e.is_none()) {
        return None;
    }
    let request_id = match d.get_item("RequestId").ok()? {
        Some(r) if r.is_instance_of::<PyString>() => Some(r.extract::<String>().ok()?),
        Some(r) if !r.is_none() => return None,
        _ => None,
    };
    Some((request_id, obj.unbind()))
}

// ---------------------------------------------------------------------------------------------
// Core
// ---------------------------------------------------------------------------------------------

/// The resolved configuration of one client and its connection pool. Not part of the public
/// API: `tccvm.Client` / `tccvm.AsyncClient` wrap it.
#[pyclass(module = "tccvm._core", name = "Core", frozen)]
pub struct Core {
    inner: Arc<Client>,
    /// Called (GIL held) when the credentials are about to expire; returns
    /// `(secret_id, secret_key, token, expires_at)`.
    refresh: Option<Py<PyAny>>,
}

fn extract_verify(v: Option<&Bound<'_, PyAny>>) -> PyResult<Verify> {
    let Some(v) = v else {
        return Ok(Verify::Default);
    };
    if v.is_none() {
        return Ok(Verify::Default);
    }
    if let Ok(b) = v.extract::<bool>() {
        return Ok(if b { Verify::Default } else { Verify::Off });
    }
    let os = v.py().import("os")?;
    let path: String = os.call_method1("fspath", (v,))?.extract()?;
    Ok(Verify::CaFile(path))
}

fn convert_params(params: Option<&Bound<'_, PyAny>>) -> Result<Value, Error> {
    let Some(p) = params else {
        return Ok(Value::Object(Default::default()));
    };
    if p.is_none() {
        return Ok(Value::Object(Default::default()));
    }
    if !p.is_instance_of::<PyDict>() {
        return Err(Error::Validation {
            path: String::new(),
            message: format!(
                "params must be a dict, not {}",
                p.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| "?".into())
            ),
        });
    }
    if let Some(v) = plain_json(p, 0) {
        return Ok(v);
    }
    pythonize::depythonize::<Value>(p).map_err(|e| Error::Validation {
        path: String::new(),
        message: format!("cannot serialize the parameters: {e}"),
    })
}

/// Deepest nesting [`plain_json`] converts itself.
const PLAIN_DEPTH: usize = 64;

/// `v` as JSON when it is made only of what parameters usually are: dicts with str keys, lists,
/// tuples, str, int (64 bits), finite float, bool and None — the same `Value` pythonize makes
/// of them, without its per-dict dataclass probe (an attribute lookup that fails, with its
/// exception: ~5% of a call). `None` for anything else, which then goes through pythonize
/// whole (its conversions and its error messages).
fn plain_json(v: &Bound<'_, PyAny>, depth: usize) -> Option<Value> {
    use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};
    if depth > PLAIN_DEPTH {
        return None;
    }
    if v.is_none() {
        Some(Value::Null)
    } else if let Ok(b) = v.cast::<PyBool>() {
        Some(Value::Bool(b.is_true()))
    } else if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            Some(Value::from(i))
        } else {
            v.extract::<u64>().ok().map(Value::from)
        }
    } else if let Ok(s) = v.cast::<PyString>() {
        s.extract::<String>().ok().map(Value::String)
    } else if let Ok(d) = v.cast_exact::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, item) in d.iter() {
            let k = k.cast::<PyString>().ok()?.extract::<String>().ok()?;
            map.insert(k, plain_json(&item, depth + 1)?);
        }
        Some(Value::Object(map))
    } else if let Ok(l) = v.cast::<PyList>() {
        plain_array(l.iter(), depth)
    } else if let Ok(t) = v.cast::<PyTuple>() {
        plain_array(t.iter(), depth)
    } else if let Ok(f) = v.cast::<PyFloat>() {
        serde_json::Number::from_f64(f.value()).map(Value::Number)
    } else {
        None
    }
}

fn secs(name: &str, v: f64) -> Result<Duration, Error> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(Error::Config(format!(
            "{name} must be a positive number of seconds"
        )))
    }
}

/// The parameters of a call as a `Value`: the action's name checked, the Python values
/// converted and, with `validate`, checked against the model. Nothing is sent.
fn checked_params(
    action: &str,
    params: Option<&Bound<'_, PyAny>>,
    validate: bool,
) -> Result<Value, Error> {
    if action.is_empty()
        || !action.bytes().all(|b| b.is_ascii_alphanumeric())
        || !action.as_bytes()[0].is_ascii_uppercase()
    {
        return Err(Error::Validation {
            path: String::new(),
            message: format!("invalid action name {action:?}"),
        });
    }
    let converted = catch_unwind(AssertUnwindSafe(|| -> Result<Value, Error> {
        let v = convert_params(params)?;
        if validate {
            crate::model::validate(action, &v)?;
        }
        Ok(v)
    }));
    match converted {
        Ok(r) => r,
        Err(p) => Err(Error::Internal(panic_message(p.as_ref()))),
    }
}

/// `tccvm._logging.emit`, imported once.
static LOG_EMIT: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// Put the ClientToken a failed call carried on its exception (`client_token`), so that the
/// caller can retry with it: the service then runs the action at most once overall.
fn with_client_token(py: Python<'_>, e: PyErr, token: Option<&str>) -> PyErr {
    if let Some(t) = token {
        let _ = e.value(py).setattr("client_token", t);
    }
    e
}

impl Core {
    /// Fill in the ClientToken now (where the action takes one and none was given) so that a
    /// failed call can report it; the transport keeps a token that is already there.
    fn fill_client_token(&self, action: &str, params: &mut Value) -> Option<String> {
        self.inner.prepare_params(action, params);
        params
            .get("ClientToken")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// An attempt observer that hands each attempt (level 2) or each retry (level 1) to
    /// `tccvm._logging.emit`, GIL held, as a dict with no secret in it. None for level 0.
    fn observer(
        &self,
        py: Python<'_>,
        action: &str,
        level: u8,
    ) -> PyResult<Option<transport::AttemptObserver>> {
        if level == 0 {
            return Ok(None);
        }
        let emit = LOG_EMIT
            .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
                Ok(py.import("tccvm._logging")?.getattr("emit")?.unbind())
            })?
            .clone_ref(py);
        let action = action.to_string();
        let region = self.inner.config.region.clone();
        let endpoint = self.inner.endpoint.url.clone();
        Ok(Some(Arc::new(move |a: &transport::AttemptLog| {
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

    /// Refresh expiring credentials through the Python callable (GIL held).
    fn maybe_refresh(&self, py: Python<'_>) -> PyResult<()> {
        let Some(refresh) = &self.refresh else {
            return Ok(());
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        if !self.inner.credentials.get().needs_refresh(now) {
            return Ok(());
        }
        // Two threads may both refresh (the callable may release the GIL): harmless.
        let r = refresh.bind(py).call0()?;
        let (id, key, token, exp): (String, String, Option<String>, Option<f64>) = r.extract()?;
        let c =
            Credentials::new(id, key, token, exp.map(|e| e as i64)).map_err(|e| e.to_pyerr(py))?;
        self.inner.credentials.set(c);
        Ok(())
    }

    fn prepare_call(
        &self,
        py: Python<'_>,
        action: &str,
        params: Option<&Bound<'_, PyAny>>,
        validate: bool,
    ) -> PyResult<Value> {
        let v = checked_params(action, params, validate).map_err(|e| e.to_pyerr(py))?;
        self.maybe_refresh(py)?;
        Ok(v)
    }
}

#[pymethods]
impl Core {
    #[new]
    #[pyo3(signature = (
        secret_id, secret_key, token=None, region=None, endpoint=None,
        sign_method="TC3-HMAC-SHA256", http_method="POST", language=None, timeout=60.0,
        connect_timeout=10.0, max_attempts=3, proxy=None, verify=None,
        client_token_actions=None, backoff_base=0.05, throttle_base=1.0, backoff_cap=20.0,
        retry_budget=500, expires_at=None, refresh=None, rate_limit=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        secret_id: String,
        secret_key: String,
        token: Option<String>,
        region: Option<String>,
        endpoint: Option<String>,
        sign_method: &str,
        http_method: &str,
        language: Option<String>,
        timeout: f64,
        connect_timeout: f64,
        max_attempts: i64,
        proxy: Option<String>,
        verify: Option<&Bound<'_, PyAny>>,
        client_token_actions: Option<Vec<String>>,
        backoff_base: f64,
        throttle_base: f64,
        backoff_cap: f64,
        retry_budget: i64,
        expires_at: Option<f64>,
        refresh: Option<Py<PyAny>>,
        rate_limit: bool,
    ) -> PyResult<Core> {
        let e = |e: Error| e.to_pyerr(py);
        let sign_method = crate::sign::SignMethod::parse(sign_method).ok_or_else(|| {
            e(Error::Config(format!(
                "sign_method must be one of 'TC3-HMAC-SHA256', 'HmacSHA256', 'HmacSHA1', not {sign_method:?}"
            )))
        })?;
        let http_method = HttpMethod::parse(http_method).ok_or_else(|| {
            e(Error::Config(format!(
                "http_method must be 'POST' or 'GET', not {http_method:?}"
            )))
        })?;
        if !(1..=100).contains(&max_attempts) {
            return Err(e(Error::Config(
                "max_attempts must be between 1 and 100".into(),
            )));
        }
        for (n, v) in [
            ("backoff_base", backoff_base),
            ("throttle_base", throttle_base),
            ("backoff_cap", backoff_cap),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(e(Error::Config(format!("{n} must be >= 0"))));
            }
        }
        let config = Config {
            region: region.filter(|r| !r.is_empty()),
            endpoint,
            sign_method,
            http_method,
            language: language.filter(|l| !l.is_empty()),
            timeout: secs("timeout", timeout).map_err(e)?,
            connect_timeout: secs("connect_timeout", connect_timeout).map_err(e)?,
            max_attempts: max_attempts as u32,
            proxy: proxy.filter(|p| !p.is_empty()),
            verify: extract_verify(verify)?,
            backoff: Backoff {
                base: backoff_base,
                throttle_base,
                cap: backoff_cap,
            },
            client_token_actions: client_token_actions
                .unwrap_or_default()
                .into_iter()
                .collect::<HashSet<_>>(),
            retry_budget: retry_budget.max(0),
            rate_limit,
        };
        let creds = Credentials::new(secret_id, secret_key, token, expires_at.map(|t| t as i64))
            .map_err(e)?;
        let client = Client::new(config, creds).map_err(e)?;
        Ok(Core {
            inner: Arc::new(client),
            refresh,
        })
    }

    /// Call `action` and return the `Response` dict (blocking; the GIL is released meanwhile).
    /// `log`: 0 reports nothing, 1 the retries, 2 every attempt, to `tccvm._logging.emit`.
    #[pyo3(signature = (action, params=None, validate=true, log=0))]
    fn invoke(
        &self,
        py: Python<'_>,
        action: &str,
        params: Option<&Bound<'_, PyAny>>,
        validate: bool,
        log: u8,
    ) -> PyResult<Py<PyAny>> {
        let mut v = self.prepare_call(py, action, params, validate)?;
        let token = self.fill_client_token(action, &mut v);
        let observer = self.observer(py, action, log)?;
        let client = self.inner.clone();
        let action_s = action.to_string();
        // On the client's sync lane, driven by this thread (no handoff to a runtime thread).
        let result = py.detach(move || {
            catch_unwind(AssertUnwindSafe(|| {
                client.call_blocking(action_s, v, observer, check_and_build)
            }))
        });
        match result {
            Ok(Ok(answer)) => build_response(py, answer, action),
            Ok(Err(err)) => Err(with_client_token(py, err.to_pyerr(py), token.as_deref())),
            Err(p) => Err(Error::Internal(panic_message(p.as_ref())).to_pyerr(py)),
        }
    }

    /// Like `invoke`, but return an awaitable (for asyncio); the I/O runs on the tccvm runtime.
    #[pyo3(signature = (action, params=None, validate=true, log=0))]
    fn invoke_async<'py>(
        &self,
        py: Python<'py>,
        action: &str,
        params: Option<&Bound<'py, PyAny>>,
        validate: bool,
        log: u8,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut v = self.prepare_call(py, action, params, validate)?;
        let token = self.fill_client_token(action, &mut v);
        let observer = self.observer(py, action, log)?;
        let client = self.inner.clone();
        let action_s = action.to_string();
        completer::spawn(
            py,
            async move { client.call_observed(action_s, v, observer).await },
            action,
            token,
        )
    }

    /// Replace the credentials (e.g. after the Python provider refreshed them).
    #[pyo3(signature = (secret_id, secret_key, token=None, expires_at=None))]
    fn set_credentials(
        &self,
        py: Python<'_>,
        secret_id: String,
        secret_key: String,
        token: Option<String>,
        expires_at: Option<f64>,
    ) -> PyResult<()> {
        let c = Credentials::new(secret_id, secret_key, token, expires_at.map(|t| t as i64))
            .map_err(|e| e.to_pyerr(py))?;
        self.inner.credentials.set(c);
        Ok(())
    }

    /// The credentials in use as `(secret_id, secret_key, token)`, for
    /// `tccvm.Client.__getstate__` when the user opted in to pickling the credentials they
    /// gave as arguments (`pickle_credentials=True`). Refused for refreshable or expiring
    /// credentials (a CVM role's), which are never pickled. The error names no secret.
    fn export_credentials(&self) -> PyResult<(String, String, Option<String>)> {
        let c = self.inner.credentials.get();
        if self.refresh.is_some() || c.expires_at.is_some() {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "temporary (refreshable) credentials are never exported",
            ));
        }
        Ok((
            c.secret_id.clone(),
            c.secret_key.expose().to_string(),
            c.token.as_ref().map(|t| t.expose().to_string()),
        ))
    }

    /// Drop the connection pool; a later call opens a new one.
    fn close(&self) {
        self.inner.close()
    }

    #[getter]
    fn endpoint(&self) -> String {
        self.inner.endpoint.url.clone()
    }

    #[getter]
    fn host(&self) -> String {
        self.inner.endpoint.host.clone()
    }

    #[getter]
    fn region(&self) -> Option<String> {
        self.inner.config.region.clone()
    }

    #[getter]
    fn sign_method(&self) -> &'static str {
        self.inner.config.sign_method.as_str()
    }

    #[getter]
    fn http_method(&self) -> &'static str {
        self.inner.config.http_method.as_str()
    }

    #[getter]
    fn max_attempts(&self) -> u32 {
        self.inner.config.max_attempts
    }

    /// The SecretId in use (not a secret: it is sent in clear in every request).
    #[getter]
    fn secret_id(&self) -> String {
        self.inner.credentials.get().secret_id.clone()
    }

    /// Seconds added to the local clock (learnt from the server's Date header).
    #[getter]
    fn clock_offset(&self) -> i64 {
        self.inner.clock_offset()
    }

    #[setter]
    fn set_clock_offset(&self, v: i64) {
        self.inner.set_clock_offset(v)
    }

    /// Counters: calls, attempts, retries, clock_corrections, retry_budget.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.inner.stats;
        let d = PyDict::new(py);
        d.set_item("calls", s.calls.load(Ordering::Relaxed))?;
        d.set_item("attempts", s.attempts.load(Ordering::Relaxed))?;
        d.set_item("retries", s.retries.load(Ordering::Relaxed))?;
        d.set_item(
            "clock_corrections",
            s.clock_corrections.load(Ordering::Relaxed),
        )?;
        d.set_item("retry_budget", self.inner.budget_available())?;
        d.set_item("rate_limited", s.rate_limited.load(Ordering::Relaxed))?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "<tccvm._core.Core endpoint={:?} region={:?} sign_method={:?} http_method={:?}>",
            self.inner.endpoint.url,
            self.inner.config.region.as_deref().unwrap_or(""),
            self.inner.config.sign_method.as_str(),
            self.inner.config.http_method.as_str()
        )
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(pyo3::exceptions::PyTypeError::new_err(
            "tccvm._core.Core cannot be pickled (pickle the tccvm.Client instead)",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Module-level helpers (signing and wire functions, for tests, the emulator and benchmarks)
// ---------------------------------------------------------------------------------------------

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
    let m = crate::sign::SignMethod::parse(sign_method)
        .filter(|m| m.is_v1())
        .ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err("sign_method must be HmacSHA1 or HmacSHA256")
        })?;
    crate::sign::v1_sign(m, secret_key.as_bytes(), http_method, host, path, &params)
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
    crate::sign::tc3_sign(
        secret_id,
        secret_key.as_bytes(),
        &crate::sign::Tc3Input {
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
    Ok(crate::wire::flatten(&v))
}

/// The items of a list or tuple as a JSON array ([`plain_json`] of each).
fn plain_array<'py>(items: impl Iterator<Item = Bound<'py, PyAny>>, depth: usize) -> Option<Value> {
    items
        .map(|item| plain_json(&item, depth + 1))
        .collect::<Option<Vec<_>>>()
        .map(Value::Array)
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
    crate::wire::json_to_python(py, data).map_err(pyo3::exceptions::PyValueError::new_err)
}

/// Run a closure that panics through the same boundary as every call (for the test that no
/// Rust panic reaches Python as `PanicException`): raises `tccvm.TccvmError`.
#[pyfunction]
pub fn _check_panic_boundary(py: Python<'_>, in_runtime: bool) -> PyResult<()> {
    let outcome = if in_runtime {
        py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                crate::runtime::get().block_on(async {
                    let h = crate::runtime::get().spawn(async {
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
        Err(p) => Err(Error::Internal(panic_message(p.as_ref())).to_pyerr(py)),
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

/// Register the classes and functions of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(sign_v1, m)?)?;
    m.add_function(wrap_pyfunction!(sign_tc3, m)?)?;
    m.add_function(wrap_pyfunction!(flatten_params, m)?)?;
    m.add_function(wrap_pyfunction!(loads, m)?)?;
    m.add_function(wrap_pyfunction!(_params_json, m)?)?;
    m.add_function(wrap_pyfunction!(validate_params, m)?)?;
    m.add_function(wrap_pyfunction!(_check_panic_boundary, m)?)?;
    m.add_function(wrap_pyfunction!(_check_panic_boundary_async, m)?)?;
    m.add("DEFAULT_HOST", transport::DEFAULT_HOST)?;
    Ok(())
}
