//! What the emulator reads from the service model (`src/model/cvm-2017-03-12.json`): the
//! actions, their rate limits, documented error codes, whether Region is required, and the
//! parameter types used to turn flattened strings back into typed values. Validation itself is
//! `crate::model::validate`.

use super::util::{as_bool, as_f64, as_i64, ApiError};
use serde_json::Value;
use std::sync::OnceLock;

/// The model JSON, parsed once. `None` while no model is built in.
fn model() -> Option<&'static Value> {
    static MODEL: OnceLock<Option<Value>> = OnceLock::new();
    MODEL
        .get_or_init(|| source().and_then(|s| serde_json::from_str(s).ok()))
        .as_ref()
}

fn source() -> Option<&'static str> {
    Some(include_str!("../model/cvm-2017-03-12.json"))
}

fn action_def(action: &str) -> Option<&'static Value> {
    model()?.get("actions")?.get(action)
}

/// Whether `action` is an action of the model (of the handlers, while no model is built in).
pub fn known_action(action: &str) -> bool {
    match model() {
        Some(m) => m.get("actions").and_then(|a| a.get(action)).is_some(),
        None => super::handlers::route(action).is_some(),
    }
}

/// The action names of the model.
pub fn actions() -> Vec<String> {
    model()
        .and_then(|m| m.get("actions"))
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The documented requests-per-second limit.
pub fn rate_limit(action: &str) -> Option<u32> {
    action_def(action)?
        .get("rate_limit")?
        .as_u64()
        .map(|n| n.min(u32::MAX as u64) as u32)
}

/// The error codes the model documents for this action.
pub fn error_codes(action: &str) -> Vec<String> {
    action_def(action)
        .and_then(|a| a.get("errors"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|e| e.get("code").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn region_required(action: &str) -> bool {
    match action_def(action).and_then(|a| a.get("region_required")) {
        Some(v) => v.as_bool().unwrap_or(true),
        None => action != "DescribeRegions",
    }
}

fn members_of(type_name: &str) -> Option<&'static Vec<Value>> {
    model()?
        .get("shapes")?
        .get(type_name)?
        .get("members")?
        .as_array()
}

/// Turn flattened string values into the model's types (Integer, Boolean, Float), following
/// the action's inputs and the shapes they use. Values that do not convert stay as they are
/// for validation to report.
pub fn coerce(action: &str, params: &mut Value) {
    let Some(inputs) = action_def(action)
        .and_then(|a| a.get("inputs"))
        .and_then(Value::as_array)
    else {
        return;
    };
    coerce_members(inputs, params, 0);
}

fn coerce_members(members: &[Value], obj: &mut Value, depth: usize) {
    if depth > 16 {
        return;
    }
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    for m in members {
        let (Some(name), Some(ty)) = (
            m.get("name").and_then(Value::as_str),
            m.get("type").and_then(Value::as_str),
        ) else {
            continue;
        };
        let array = m.get("array").and_then(Value::as_bool).unwrap_or(false);
        if let Some(v) = map.get_mut(name) {
            if array {
                if let Value::Array(items) = v {
                    for it in items.iter_mut() {
                        coerce_value(ty, it, depth);
                    }
                }
            } else {
                coerce_value(ty, v, depth);
            }
        }
    }
}

fn coerce_value(ty: &str, v: &mut Value, depth: usize) {
    match ty {
        "Integer" => {
            if v.is_string() {
                if let Some(i) = as_i64(v) {
                    *v = Value::from(i);
                }
            }
        }
        "Float" => {
            if v.is_string() {
                if let Some(f) = as_f64(v).and_then(serde_json::Number::from_f64) {
                    *v = Value::Number(f);
                }
            }
        }
        "Boolean" => {
            if v.is_string() {
                if let Some(b) = as_bool(v) {
                    *v = Value::Bool(b);
                }
            }
        }
        "String" | "Timestamp" => {}
        shape => {
            if let Some(members) = members_of(shape) {
                coerce_members(members, v, depth + 1);
            }
        }
    }
}

/// Validate with the model; the error's code follows the service's common codes.
pub fn validate(action: &str, params: &Value) -> Result<(), ApiError> {
    crate::model::validate(action, params).map_err(|e| {
        let m = e.message.to_ascii_lowercase();
        let code = if m.contains("unknown") || m.contains("not a parameter") {
            "UnknownParameter"
        } else if m.contains("missing") || m.contains("required") {
            "MissingParameter"
        } else {
            "InvalidParameterValue"
        };
        ApiError::new(code, e.to_string())
    })
}
