//! What the emulator takes from the service model (`tccvm_core::model`): the actions, their rate
//! limits, documented error codes, whether Region is required; type coercion of flattened
//! strings and validation are the model's own functions.

use super::util::ApiError;
use serde_json::Value;
use tccvm_core::model;
use tccvm_core::validate::{self, ErrorKind};

/// Whether `action` is an action of the model.
pub fn known_action(action: &str) -> bool {
    model::action(action).is_some()
}

/// The action names of the model.
pub fn actions() -> Vec<String> {
    let mut v: Vec<String> = model::model().actions.keys().cloned().collect();
    v.sort();
    v
}

/// The documented requests-per-second limit.
pub fn rate_limit(action: &str) -> Option<u32> {
    model::action(action)
        .and_then(|a| a.rate_limit)
        .filter(|n| *n > 0)
}

/// The error codes the model documents for this action (borrowed from the model: no copy
/// per request).
pub fn error_codes(action: &str) -> &'static [model::ErrorCode] {
    model::action(action).map_or(&[], |a| a.errors.as_slice())
}

/// Whether `code` is documented for `action` or is one of the common error codes.
pub fn documented(action: &str, code: &str) -> bool {
    let m = model::model();
    m.common_errors.iter().any(|e| e.code == code)
        || model::action(action).is_some_and(|a| a.errors.iter().any(|e| e.code == code))
}

pub fn region_required(action: &str) -> bool {
    model::action(action).is_none_or(|a| a.region_required)
}

/// Turn flattened string values into the model's types.
pub fn coerce(action: &str, params: &mut Value) {
    validate::coerce(action, params);
}

/// Validate with the model; the error code is the service's common code for the problem.
pub fn validate(action: &str, params: &Value) -> Result<(), ApiError> {
    validate::validate(action, params).map_err(|e| {
        let code = match e.kind {
            ErrorKind::UnknownAction => "InvalidAction",
            ErrorKind::UnknownParameter => "UnknownParameter",
            ErrorKind::MissingParameter => "MissingParameter",
            ErrorKind::WrongType => "InvalidParameterValue",
        };
        ApiError::new(code, e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_action_has_a_handler() {
        let actions = actions();
        assert_eq!(actions.len(), model::model().actions.len());
        assert!(actions.len() >= 106);
        for a in &actions {
            assert!(super::super::handlers::route(a).is_some(), "{a}");
        }
        assert_eq!(rate_limit("DescribeInstances"), Some(40));
        assert!(!region_required("DescribeRegions"));
    }
}
