//! `tccvm._core.EmulatorCore`: the pyo3 face of the emulator (wrapped by
//! `tccvm.emulator.Emulator`). Control calls take and return JSON text.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::Mutex;
use std::time::Duration;
use tccvm_emulator::state::Timers;
use tccvm_emulator::{control, Emulator, Options};

#[pyclass(module = "tccvm._core", name = "EmulatorCore")]
pub struct EmulatorCore {
    inner: Mutex<Option<Emulator>>,
    endpoint: String,
    host: String,
    port: u16,
    secret_id: String,
    secret_key: String,
    ca_bundle: Option<String>,
}

#[pymethods]
impl EmulatorCore {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (host="127.0.0.1".to_string(), port=0, secret_id=None, secret_key=None, check_signatures=true, seed=None, transition_seconds=None, tls=false, rtt=0.0))]
    fn new(
        py: Python<'_>,
        host: String,
        port: u16,
        secret_id: Option<String>,
        secret_key: Option<String>,
        check_signatures: bool,
        seed: Option<u64>,
        transition_seconds: Option<f64>,
        tls: bool,
        rtt: f64,
    ) -> PyResult<Self> {
        if !(rtt.is_finite() && (0.0..=10.0).contains(&rtt)) {
            return Err(PyValueError::new_err(
                "rtt must be between 0 and 10 seconds",
            ));
        }
        let mut timers = Timers::default();
        if let Some(s) = transition_seconds {
            if !(s.is_finite() && (0.0..86_400.0).contains(&s)) {
                return Err(PyValueError::new_err(
                    "transition_seconds must be between 0 and 86400",
                ));
            }
            let d = Duration::from_secs_f64(s);
            timers = Timers {
                pending: d,
                starting: d,
                stopping: d,
                rebooting: d,
                terminating: d,
                image_creating: d,
            };
        }
        let opts = Options {
            host: host.clone(),
            port,
            secret_id,
            secret_key,
            check_signatures,
            seed,
            timers,
            tls,
            rtt: Duration::from_secs_f64(rtt),
        };
        let emu = py.detach(|| Emulator::start(opts)).map_err(|e| {
            PyOSError::new_err(format!("cannot start the emulator on {host}:{port}: {e}"))
        })?;
        let addr = emu.addr;
        let shown = if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        Ok(EmulatorCore {
            endpoint: format!(
                "{}://{shown}:{}",
                if tls { "https" } else { "http" },
                addr.port()
            ),
            ca_bundle: emu.ca_bundle().map(|p| p.to_string_lossy().into_owned()),
            host: addr.ip().to_string(),
            port: addr.port(),
            secret_id: emu.secret_id().to_string(),
            secret_key: emu.secret_key().to_string(),
            inner: Mutex::new(Some(emu)),
        })
    }

    #[getter]
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }
    /// The PEM file of the emulator's CA (HTTPS only).
    #[getter]
    fn ca_bundle(&self) -> Option<String> {
        self.ca_bundle.clone()
    }
    #[getter]
    fn host(&self) -> String {
        self.host.clone()
    }
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }
    #[getter]
    fn secret_id(&self) -> String {
        self.secret_id.clone()
    }
    #[getter]
    fn secret_key(&self) -> String {
        self.secret_key.clone()
    }

    #[getter]
    fn running(&self) -> bool {
        self.inner
            .lock()
            .map(|g| g.as_ref().is_some_and(|e| e.running()))
            .unwrap_or(false)
    }

    /// Run a control operation: `op` with JSON arguments; returns JSON.
    fn control(&self, py: Python<'_>, op: &str, args_json: &str) -> PyResult<String> {
        let args: serde_json::Value = serde_json::from_str(args_json)
            .map_err(|e| PyValueError::new_err(format!("control arguments are not JSON: {e}")))?;
        let shared = {
            let g = self
                .inner
                .lock()
                .map_err(|_| PyRuntimeError::new_err("emulator state poisoned"))?;
            match g.as_ref() {
                Some(e) => e.shared.clone(),
                None => return Err(PyRuntimeError::new_err("the emulator is stopped")),
            }
        };
        let out = py
            .detach(|| control::run(&shared, op, &args))
            .map_err(PyValueError::new_err)?;
        serde_json::to_string(&out).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Stop the server (idempotent).
    fn stop(&self, py: Python<'_>) {
        let taken = self.inner.lock().ok().and_then(|mut g| g.take());
        if let Some(mut e) = taken {
            py.detach(move || e.stop());
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "EmulatorCore(endpoint={:?}, secret_id={:?})",
            self.endpoint, self.secret_id
        )
    }
}
