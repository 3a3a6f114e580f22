//! What the emulator needs from the service model: the actions, their rate limits and error
//! codes, parameter types (to coerce flattened strings) and validation.
//!
//! PROVISIONAL until `src/model/` lands: the action set is that of the handlers.

use super::util::ApiError;
use serde_json::Value;

pub fn known_action(action: &str) -> bool {
    super::handlers::route(action).is_some()
}

pub fn rate_limit(_action: &str) -> Option<u32> {
    None
}

pub fn error_codes(_action: &str) -> Vec<String> {
    vec![]
}

pub fn region_required(action: &str) -> bool {
    action != "DescribeRegions"
}

/// Turn flattened string values into the model's types (Integer, Boolean, Float).
pub fn coerce(_action: &str, _params: &mut Value) {}

pub fn validate(action: &str, params: &Value) -> Result<(), ApiError> {
    crate::model::validate(action, params)
        .map_err(|e| ApiError::new("InvalidParameterValue", e.to_string()))
}
