use pyo3::prelude::*;

pub mod credentials;
pub mod emulator;
pub mod error;
pub mod model;
pub mod python;
pub mod runtime;
pub mod sign;
pub mod spin;
pub mod transport;
pub mod wire;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(model::service_model_json, m)?)?;
    m.add_class::<emulator::python::EmulatorCore>()?;
    python::register(m)?;
    Ok(())
}
