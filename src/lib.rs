use pyo3::prelude::*;

pub mod emulator;
pub mod model;
pub mod runtime;
pub mod sign;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(model::service_model_json, m)?)?;
    m.add_class::<emulator::python::EmulatorCore>()?;
    Ok(())
}
