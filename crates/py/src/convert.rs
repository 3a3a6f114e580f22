//! Python values -> JSON parameters (converted once, GIL held), checked against the model when
//! the call validates; and the client options that need a Python type check.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;
use tccvm_core::config::Verify;
use tccvm_core::error::{panic_message, Error};

pub fn extract_verify(v: Option<&Bound<'_, PyAny>>) -> PyResult<Verify> {
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

pub fn convert_params(params: Option<&Bound<'_, PyAny>>) -> Result<Value, Error> {
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
    // JSON has no NaN or infinity (pythonize would send them as nothing at all).
    if let Some(path) = non_finite_at(p, String::new(), 0) {
        return Err(Error::Validation {
            path,
            message: "NaN and infinity cannot be sent (JSON has no such number)".into(),
        });
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
pub fn plain_json(v: &Bound<'_, PyAny>, depth: usize) -> Option<Value> {
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

/// The path (`Filters[0].Values[1]`) of the first NaN or infinite float in `v` (dicts, lists
/// and tuples looked into), if any.
fn non_finite_at(v: &Bound<'_, PyAny>, path: String, depth: usize) -> Option<String> {
    use pyo3::types::{PyFloat, PyList, PyTuple};
    if depth > PLAIN_DEPTH {
        return None;
    }
    let items = |it: &mut dyn Iterator<Item = Bound<'_, PyAny>>| {
        it.enumerate()
            .find_map(|(i, item)| non_finite_at(&item, format!("{path}[{i}]"), depth + 1))
    };
    if let Ok(f) = v.cast::<PyFloat>() {
        (!f.value().is_finite()).then_some(path.clone())
    } else if let Ok(d) = v.cast::<PyDict>() {
        d.iter().find_map(|(k, item)| {
            let k = k.str().map(|s| s.to_string()).unwrap_or_default();
            let p = if path.is_empty() {
                k
            } else {
                format!("{path}.{k}")
            };
            non_finite_at(&item, p, depth + 1)
        })
    } else if let Ok(l) = v.cast::<PyList>() {
        items(&mut l.iter())
    } else if let Ok(t) = v.cast::<PyTuple>() {
        items(&mut t.iter())
    } else {
        None
    }
}

/// The items of a list or tuple as a JSON array ([`plain_json`] of each).
fn plain_array<'py>(items: impl Iterator<Item = Bound<'py, PyAny>>, depth: usize) -> Option<Value> {
    items
        .map(|item| plain_json(&item, depth + 1))
        .collect::<Option<Vec<_>>>()
        .map(Value::Array)
}

pub fn secs(name: &str, v: f64) -> Result<Duration, Error> {
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
pub fn checked_params(
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
            tccvm_core::validate::validate(action, &v).map_err(|e| e.with_call_hint(action))?;
        }
        Ok(v)
    }));
    match converted {
        Ok(r) => r,
        Err(p) => Err(Error::Internal(panic_message(p.as_ref()))),
    }
}
