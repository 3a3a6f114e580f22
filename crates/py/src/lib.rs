//! The extension module `tccvm._core`: the pyo3 binding that links the core (`tccvm-core`) and
//! the emulator (`tccvm-emulator`) into one module, so that `pip install tccvm` ships both.
//!
//! - `client`: the `Core` class behind `tccvm.Client` / `tccvm.AsyncClient`
//! - `convert`: Python values -> JSON parameters; `decode` + `key_cache`: answers -> Python
//!   objects (all the crate's raw FFI)
//! - `completer`: how async results reach their event loop
//! - `errors`: core errors -> `tccvm.errors`; `logging`, `refresh`: the bridges to Python's
//!   logging and credential providers
//! - `emulator`: the `EmulatorCore` class behind `tccvm.emulator.Emulator`
//! - `functions`: module-level helpers (signing, encoding, `loads`, `validate_params`)

use pyo3::prelude::*;

mod client;
mod completer;
mod convert;
mod decode;
mod emulator;
mod errors;
mod functions;
mod key_cache;
mod logging;
mod refresh;

/// `tccvm._core.service_model_json()`: the model JSON text, for the Python side (methods,
/// docstrings, paginators, waiters).
#[pyfunction]
fn service_model_json() -> &'static str {
    tccvm_core::model::JSON
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(service_model_json, m)?)?;
    m.add_class::<emulator::EmulatorCore>()?;
    functions::register(m)?;
    Ok(())
}
