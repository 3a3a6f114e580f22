//! The credential-refresh bridge: expiring credentials (a CVM role's) are renewed through the
//! Python provider's callable, GIL held, before a call's request leaves.

use crate::errors::ToPyErr;
use pyo3::prelude::*;
use tccvm_core::client::Client;
use tccvm_core::credentials::Credentials;

/// Refresh expiring credentials through the Python callable (GIL held).
pub fn maybe_refresh(client: &Client, refresh: Option<&Py<PyAny>>, py: Python<'_>) -> PyResult<()> {
    let Some(refresh) = refresh else {
        return Ok(());
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if !client.credentials.get().needs_refresh(now) {
        return Ok(());
    }
    // Two threads may both refresh (the callable may release the GIL): harmless.
    let r = refresh.bind(py).call0()?;
    let (id, key, token, exp): (String, String, Option<String>, Option<f64>) = r.extract()?;
    let c = Credentials::new(id, key, token, exp.map(|e| e as i64)).map_err(|e| e.to_pyerr(py))?;
    client.credentials.set(c);
    Ok(())
}
