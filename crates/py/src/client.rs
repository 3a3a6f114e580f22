//! `_core.Core`: the resolved configuration of one client and its connection pools, used by
//! `tccvm.Client` and `tccvm.AsyncClient`.
//!
//! One call: params converted and validated with the GIL held (`convert`); then, without the
//! GIL, signed/sent/retried by the core; then the `Response` object built from the bytes with
//! the GIL (`decode`). The sync method drives the client's own sync lane on the calling thread
//! (`py.detach` + `Client::call_blocking`); the async method returns an asyncio future that the
//! call's task (on the process runtime) completes through its event loop's `completer`
//! (batched, no GIL on the runtime's threads). Panics are caught at this boundary and become
//! `tccvm.TccvmError`.

use crate::completer;
use crate::convert::{checked_params, extract_verify, secs};
use crate::decode::{build_response, PyResponse};
use crate::errors::{interrupted_or, panic_to_pyerr, with_client_token, ToPyErr};
use crate::logging::Stash;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tccvm_core::answer::Inspect;
use tccvm_core::client::Client;
use tccvm_core::config::{Backoff, Config, HttpMethod};
use tccvm_core::credentials::Credentials;
use tccvm_core::error::Error;

/// The resolved configuration of one client and its connection pool. Not part of the public
/// API: `tccvm.Client` / `tccvm.AsyncClient` wrap it.
#[pyclass(module = "tccvm._core", name = "Core", frozen)]
pub struct Core {
    inner: Arc<Client>,
    /// Called (GIL held) when the credentials are about to expire; returns
    /// `(secret_id, secret_key, token, expires_at)`.
    refresh: Option<Py<PyAny>>,
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

    /// The call's parameters, checked, with the credentials refreshed if they are expiring.
    fn prepare_call(
        &self,
        py: Python<'_>,
        action: &str,
        params: Option<&Bound<'_, PyAny>>,
        validate: bool,
    ) -> PyResult<Value> {
        let v = checked_params(action, params, validate).map_err(|e| e.to_pyerr(py))?;
        crate::refresh::maybe_refresh(&self.inner, self.refresh.as_ref(), py)?;
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
        retry_budget=500, expires_at=None, refresh=None, rate_limit=false,
        max_response_bytes=tccvm_core::config::DEFAULT_MAX_RESPONSE_BYTES,
        max_connections=tccvm_core::config::DEFAULT_MAX_CONNECTIONS
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
        max_response_bytes: u64,
        max_connections: usize,
    ) -> PyResult<Core> {
        let e = |e: Error| e.to_pyerr(py);
        let sign_method = tccvm_core::sign::SignMethod::parse(sign_method).ok_or_else(|| {
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
            max_response_bytes,
            max_connections,
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
    /// `hooks`: the client's event hooks (`tccvm._hooks`), None when it has none.
    #[pyo3(signature = (action, params=None, validate=true, log=0, hooks=None))]
    fn invoke(
        &self,
        py: Python<'_>,
        action: &str,
        params: Option<&Bound<'_, PyAny>>,
        validate: bool,
        log: u8,
        hooks: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mut v = self.prepare_call(py, action, params, validate)?;
        let token = self.fill_client_token(action, &mut v);
        let stash = Stash::default();
        let observer = crate::logging::observer(&self.inner, py, action, log, hooks, &stash)?;
        let client = self.inner.clone();
        let action_s = action.to_string();
        // On the client's sync lane, driven by this thread (no handoff to a runtime thread).
        // While it waits, pending signals are handled every 50 ms: Ctrl-C (or any exception a
        // signal handler raises) abandons the call and is raised here.
        let result = py.detach(|| {
            let mut check = || stash.interrupted();
            catch_unwind(AssertUnwindSafe(|| {
                client.call_blocking(action_s, v, observer, PyResponse, Some(&mut check))
            }))
        });
        match result {
            Ok(Ok(answer)) => build_response(py, answer, action),
            Ok(Err(err)) => Err(with_client_token(
                py,
                interrupted_or(py, err, &stash),
                token.as_deref(),
            )),
            Err(p) => Err(panic_to_pyerr(py, p.as_ref())),
        }
    }

    /// Like `invoke`, but return an awaitable (for asyncio); the I/O runs on the tccvm runtime.
    #[pyo3(signature = (action, params=None, validate=true, log=0, hooks=None))]
    fn invoke_async<'py>(
        &self,
        py: Python<'py>,
        action: &str,
        params: Option<&Bound<'py, PyAny>>,
        validate: bool,
        log: u8,
        hooks: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut v = self.prepare_call(py, action, params, validate)?;
        let token = self.fill_client_token(action, &mut v);
        let stash = Stash::default();
        let observer = crate::logging::observer(&self.inner, py, action, log, hooks, &stash)?;
        let client = self.inner.clone();
        let action_s = action.to_string();
        completer::spawn(
            py,
            async move { client.call(action_s, v, observer, Inspect).await },
            action,
            token,
            stash,
        )
    }

    /// A core with these settings changed (None: kept), sharing this one's credentials, its
    /// refresh, connection pools (not with another `connect_timeout`: see
    /// `Client::with_options`), retry budget, rate limiter and counters.
    #[pyo3(signature = (timeout=None, connect_timeout=None, max_attempts=None, region=None, clear_region=false))]
    fn with_options(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
        max_attempts: Option<i64>,
        region: Option<String>,
        clear_region: bool,
    ) -> PyResult<Core> {
        let e = |e: Error| e.to_pyerr(py);
        let max_attempts = match max_attempts {
            Some(n) if !(1..=100).contains(&n) => {
                return Err(e(Error::Config(
                    "max_attempts must be between 1 and 100".into(),
                )))
            }
            n => n.map(|n| n as u32),
        };
        let o = tccvm_core::client::Overrides {
            timeout: timeout.map(|t| secs("timeout", t)).transpose().map_err(e)?,
            connect_timeout: connect_timeout
                .map(|t| secs("connect_timeout", t))
                .transpose()
                .map_err(e)?,
            max_attempts,
            region: if clear_region {
                Some(None)
            } else {
                region.map(Some)
            },
        };
        let inner = self.inner.with_options(o).map_err(e)?;
        Ok(Core {
            inner: Arc::new(inner),
            refresh: self.refresh.as_ref().map(|r| r.clone_ref(py)),
        })
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

    /// The proxy URL in use, its user name and password included: for
    /// `tccvm.Client.__getstate__` only, when the user opted in (`pickle_credentials=True`).
    fn export_proxy(&self) -> Option<String> {
        self.inner.config.proxy.clone()
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

    #[getter]
    fn timeout(&self) -> f64 {
        self.inner.config.timeout.as_secs_f64()
    }

    #[getter]
    fn connect_timeout(&self) -> f64 {
        self.inner.config.connect_timeout.as_secs_f64()
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
