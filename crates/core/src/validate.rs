//! Parameters checked against the service model before anything is sent.
//!
//! The client validates Python kwargs (converted to JSON) before anything is sent; the emulator
//! validates what it receives after unflattening (see [`coerce`] to turn the flattened strings
//! back into the model's types first).
//!
//! Parameter values are JSON: a parameter documented as `X.N` in the reference is a JSON array
//! under `X`; a structure (a data type such as `Placement`) is a JSON object.
//! Accepted values: `String`/`Timestamp` a string; `Integer` an integer number (a boolean is not
//! an integer, a float is not either); `Float` any number; `Boolean` a boolean.

use crate::model::{action, model, shape, Member};
use serde_json::Value;
use std::fmt;

/// What kind of problem a [`ValidationError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    UnknownAction,
    UnknownParameter,
    WrongType,
    MissingParameter,
}

/// A parameter that failed validation, with the path to it (`Filters[1].Values[0]`,
/// `Placement.Zone`). The message never contains the value (it may be a password).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    pub path: String,
    pub message: String,
    pub kind: ErrorKind,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValidationError {}

impl ValidationError {
    /// For a client's caller: an unknown action or parameter may simply be newer than this
    /// version's model, so the message says so and names `client.call()`, which sends any
    /// action and parameters without validation. Other problems are returned as they are.
    pub fn with_call_hint(mut self, action: &str) -> Self {
        let d = &model().metadata.description;
        let published = if d.version.is_empty() {
            String::new()
        } else {
            format!(" as published in {} {}", d.package, d.version)
        };
        let version = &model().metadata.api_version;
        match self.kind {
            ErrorKind::UnknownParameter => {
                self.message = format!(
                    "{}: not in this version's model of {action} (CVM {version}{published}); \
                     client.call({action:?}, params) sends it without validation",
                    self.message
                );
            }
            ErrorKind::UnknownAction => {
                self.message = format!(
                    "{}: not in this version's model (CVM {version}{published}); \
                     client.call({action:?}, params) sends it without validation",
                    self.message
                );
            }
            ErrorKind::WrongType | ErrorKind::MissingParameter => {}
        }
        self
    }
}

const MAX_DEPTH: usize = 32;

/// Validate the parameters of `action` (a JSON object; `null` counts as no parameters)
/// against the model: unknown parameter names at any depth (with a "did you mean"
/// suggestion), values of the wrong type at any depth, missing required parameters. The first
/// problem found is returned.
pub fn validate(action_name: &str, params: &Value) -> Result<(), ValidationError> {
    let Some(act) = action(action_name) else {
        let hint = suggest(action_name, model().actions.keys().map(String::as_str));
        return Err(ValidationError {
            path: String::new(),
            message: format!("unknown action {action_name:?}{hint}"),
            kind: ErrorKind::UnknownAction,
        });
    };
    match params {
        Value::Null => check_members(&act.inputs, &serde_json::Map::new(), "", 0),
        Value::Object(map) => check_members(&act.inputs, map, "", 0),
        other => Err(wrong_type("", "an object of parameters", other)),
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn check_members(
    members: &[Member],
    map: &serde_json::Map<String, Value>,
    prefix: &str,
    depth: usize,
) -> Result<(), ValidationError> {
    if depth > MAX_DEPTH {
        return Err(ValidationError {
            path: prefix.to_string(),
            message: "nested too deeply".into(),
            kind: ErrorKind::WrongType,
        });
    }
    for (key, value) in map {
        let path = join(prefix, key);
        let Some(m) = members.iter().find(|m| &m.name == key) else {
            let hint = suggest(key, members.iter().map(|m| m.name.as_str()));
            return Err(ValidationError {
                path,
                message: format!("unknown parameter {key:?}{hint}"),
                kind: ErrorKind::UnknownParameter,
            });
        };
        if m.array {
            let Value::Array(items) = value else {
                return Err(wrong_type(&path, &format!("a list of {}", m.ty), value));
            };
            for (i, item) in items.iter().enumerate() {
                check_value(&m.ty, item, &format!("{path}[{i}]"), depth)?;
            }
        } else {
            check_value(&m.ty, value, &path, depth)?;
        }
    }
    for m in members {
        if m.required && !map.contains_key(&m.name) {
            return Err(ValidationError {
                path: join(prefix, &m.name),
                message: format!("missing required parameter ({})", type_desc(m)),
                kind: ErrorKind::MissingParameter,
            });
        }
    }
    Ok(())
}

fn type_desc(m: &Member) -> String {
    if m.array {
        format!("a list of {}", m.ty)
    } else {
        m.ty.clone()
    }
}

fn check_value(ty: &str, v: &Value, path: &str, depth: usize) -> Result<(), ValidationError> {
    let ok = match ty {
        "String" | "Timestamp" => v.is_string(),
        "Integer" => v.is_i64() || v.is_u64(),
        "Float" => v.is_number(),
        "Boolean" => v.is_boolean(),
        shape_name => {
            let Some(s) = shape(shape_name) else {
                // A type the model references but does not define: nothing to check against.
                return Ok(());
            };
            let Value::Object(map) = v else {
                return Err(wrong_type(path, &format!("a {shape_name} (dict)"), v));
            };
            return check_members(&s.members, map, path, depth + 1);
        }
    };
    if ok {
        Ok(())
    } else {
        let expected = match ty {
            "String" | "Timestamp" => format!("{ty} (str)"),
            "Integer" => "Integer (int)".to_string(),
            "Float" => "Float (float or int)".to_string(),
            _ => "Boolean (bool)".to_string(),
        };
        Err(wrong_type(path, &expected, v))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn wrong_type(path: &str, expected: &str, got: &Value) -> ValidationError {
    ValidationError {
        path: path.to_string(),
        message: format!("expected {expected}, got {}", kind_of(got)),
        kind: ErrorKind::WrongType,
    }
}

/// `" (did you mean \"Filters\"?)"` for the closest candidate, or `""` when none is close.
fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let lname = name.to_ascii_lowercase();
    let best = candidates
        .map(|c| (edit_distance(&lname, &c.to_ascii_lowercase()), c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d <= 2.max(name.chars().count() / 3) => {
            format!(" (did you mean {c:?}?)")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

// ---------------------------------------------------------------------------------------------
// coercion (for the emulator: flattened query/form values are all strings)

/// Turn string values into the model's types where the model says Integer, Float or Boolean
/// (`"10"` -> 10, `"TRUE"`/`"true"` -> true), following the action's inputs and the shapes
/// they use. Values that do not convert are left as they are, for [`validate`] to report.
pub fn coerce(action_name: &str, params: &mut Value) {
    if let (Some(act), Value::Object(map)) = (action(action_name), params) {
        coerce_members(&act.inputs, map, 0);
    }
}

fn coerce_members(members: &[Member], map: &mut serde_json::Map<String, Value>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for m in members {
        match map.get_mut(&m.name) {
            Some(Value::Array(items)) if m.array => {
                for it in items {
                    coerce_value(&m.ty, it, depth);
                }
            }
            Some(v) if !m.array => coerce_value(&m.ty, v, depth),
            _ => {}
        }
    }
}

fn coerce_value(ty: &str, v: &mut Value, depth: usize) {
    match (ty, &*v) {
        ("Integer", Value::String(s)) => {
            if let Ok(i) = s.trim().parse::<i64>() {
                *v = Value::from(i);
            }
        }
        ("Float", Value::String(s)) => {
            if let Some(n) = s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
            {
                *v = Value::Number(n);
            }
        }
        ("Boolean", Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => *v = Value::Bool(true),
            "false" => *v = Value::Bool(false),
            _ => {}
        },
        (shape_name, Value::Object(_)) => {
            if let (Some(s), Value::Object(map)) = (shape(shape_name), v) {
                coerce_members(&s.members, map, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{waiter, Model, JSON};
    use serde_json::json;

    fn err(action: &str, params: Value) -> ValidationError {
        match validate(action, &params) {
            Err(e) => e,
            Ok(()) => panic!("{action} {params} should fail"),
        }
    }

    #[test]
    fn model_parses_with_106_actions() {
        let m: Model = serde_json::from_str(JSON).expect("embedded model parses");
        assert_eq!(m.actions.len(), 106);
        assert_eq!(model().actions.len(), 106);
        assert_eq!(model().shapes.len(), 74);
        assert_eq!(
            model().actions.values().filter(|a| a.in_reference).count(),
            58
        );
        assert_eq!(model().metadata.description.package, "tccli");
        let a = action("DescribeInstances").expect("DescribeInstances");
        assert_eq!(a.rate_limit, Some(40));
        assert!(a.idempotent && !a.client_token);
        let p = a.paginator.as_ref().expect("paginated");
        assert_eq!((p.result.as_str(), p.max_limit), ("InstanceSet", Some(100)));
        assert!(a.filters["Filters"].iter().any(|f| f == "vpc-id"));
        let lt = action("DescribeLaunchTemplates").expect("DescribeLaunchTemplates");
        assert!(!lt.in_reference && lt.rate_limit.is_none() && lt.paginator.is_some());
        assert!(action("RunInstances").expect("RunInstances").client_token);
        assert!(
            shape("Placement")
                .expect("Placement")
                .member("Zone")
                .expect("Zone")
                .required
        );
        let outs = &action("DescribeInstances")
            .expect("DescribeInstances")
            .outputs;
        assert!(
            outs.iter().all(|m| m.output_required),
            "TotalCount, InstanceSet, RequestId"
        );
        assert_eq!(
            waiter("instance_running").expect("waiter").operation,
            "DescribeInstances"
        );
        for a in model().actions.values() {
            for m in a.inputs.iter().chain(&a.outputs) {
                assert!(m.is_primitive() || shape(&m.ty).is_some(), "{}", m.ty);
            }
        }
        let paginated = model().actions.values().filter(|a| a.paginator.is_some());
        assert_eq!(paginated.count(), 11);
    }

    #[test]
    fn every_official_example_validates_and_every_action_has_one() {
        let examples: Value = serde_json::from_str(crate::model::EXAMPLES_JSON).expect("parses");
        let examples = examples.as_object().expect("by action");
        let (mut checked, mut actions) = (0, 0);
        for (name, exs) in examples {
            let exs = exs.as_array().expect("a list");
            actions += usize::from(!exs.is_empty());
            for ex in exs {
                if let Err(e) = validate(name, &ex["params"]) {
                    panic!("{name} example {}: {e}", ex["title"]);
                }
                checked += 1;
            }
        }
        assert_eq!((actions, checked), (106, 190));
    }

    #[test]
    fn current_parameters_and_deprecated_ones_are_accepted() {
        let p = json!({
            "LaunchTemplate": {"LaunchTemplateId": "lt-1"},
            "DisableApiTermination": true,
            "DryRun": true,
            "CamRoleName": "role",
            "HpcClusterId": "hpc-1",
            "DataDisks": [{"DiskSize": 100, "Encrypt": true, "DeleteWithInstance": true}],
        });
        assert_eq!(validate("RunInstances", &p), Ok(()));
        let p = json!({"InstanceIds": ["ins-1"], "ReleaseAddress": true});
        assert_eq!(validate("TerminateInstances", &p), Ok(()));
        let stop = action("StopInstances").expect("StopInstances");
        assert!(stop.input("ForceStop").expect("ForceStop").deprecated);
        let p = json!({"InstanceIds": ["ins-1"], "ForceStop": true});
        assert_eq!(validate("StopInstances", &p), Ok(()));
    }

    #[test]
    fn the_client_hint_names_call_for_what_the_model_does_not_know() {
        let e = err("DescribeInstances", json!({"Limt": 5})).with_call_hint("DescribeInstances");
        let text = e.to_string();
        assert!(text.starts_with("Limt: unknown parameter \"Limt\" (did you mean \"Limit\"?): not in this version's model of DescribeInstances (CVM 2017-03-12 as published in tccli "), "{text}");
        assert!(
            text.ends_with(
                "client.call(\"DescribeInstances\", params) sends it without validation"
            ),
            "{text}"
        );
        let e = err("DescribeFuture", json!({})).with_call_hint("DescribeFuture");
        assert!(
            e.message.contains("client.call(\"DescribeFuture\""),
            "{}",
            e.message
        );
        let e = err("DescribeInstances", json!({"Limit": "5"}));
        assert_eq!(e.clone().with_call_hint("DescribeInstances"), e);
    }

    #[test]
    fn valid_params_pass() {
        let p = json!({
            "Placement": {"Zone": "ap-guangzhou-2", "ProjectId": 0, "HostIds": ["host-1"]},
            "ImageId": "img-pmqg1cw7",
            "InstanceCount": 2,
            "DataDisks": [{"DiskSize": 100, "DiskType": "CLOUD_BASIC"}],
            "InternetAccessible": {"PublicIpAssigned": true, "InternetMaxBandwidthOut": 10},
            "TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}],
        });
        assert_eq!(validate("RunInstances", &p), Ok(()));
        assert_eq!(validate("DescribeRegions", &Value::Null), Ok(()));
        assert_eq!(validate("DescribeRegions", &json!({})), Ok(()));
        let f = json!({"Filters": [{"Name": "zone", "Values": ["a", "b"]}], "Limit": 10});
        assert_eq!(validate("DescribeInstances", &f), Ok(()));
    }

    #[test]
    fn unknown_parameter_with_suggestion() {
        let e = err("DescribeInstances", json!({"InstanceID": ["ins-1"]}));
        assert_eq!(e.kind, ErrorKind::UnknownParameter);
        assert_eq!(e.path, "InstanceID");
        assert!(
            e.message.contains("did you mean \"InstanceIds\""),
            "{}",
            e.message
        );
        let e = err(
            "DescribeInstances",
            json!({"Filters": [{"Name": "zone", "Values": ["a"]}, {"Name": "x", "Valeus": ["b"]}]}),
        );
        assert_eq!(e.path, "Filters[1].Valeus");
        assert!(
            e.message.contains("did you mean \"Values\""),
            "{}",
            e.message
        );
        let e = err(
            "RunInstances",
            json!({"Placement": {"Zone": "z", "Zoen": "x"}, "ImageId": "i"}),
        );
        assert_eq!(e.path, "Placement.Zoen");
        let e = err("DescribeRegions", json!({"Completely": 1}));
        assert!(!e.message.contains("did you mean"), "{}", e.message);
        let e = err("DescribeInstance", json!({}));
        assert_eq!(e.kind, ErrorKind::UnknownAction);
        assert!(e.message.contains("DescribeInstances"));
    }

    #[test]
    fn wrong_types_at_any_depth() {
        let e = err(
            "DescribeInstances",
            json!({"Filters": [{"Name": "zone", "Values": ["a", 5]}]}),
        );
        assert_eq!(
            (e.path.as_str(), e.kind),
            ("Filters[0].Values[1]", ErrorKind::WrongType)
        );
        assert!(e.message.contains("String") && e.message.contains("int"));
        let e = err("DescribeInstances", json!({"Limit": true}));
        assert_eq!(e.path, "Limit"); // a bool is not an int
        let e = err("DescribeInstances", json!({"Limit": 1.5}));
        assert_eq!(e.path, "Limit");
        let e = err("DescribeInstances", json!({"Limit": "10"}));
        assert_eq!(e.path, "Limit");
        let e = err("DescribeInstances", json!({"InstanceIds": "ins-1"}));
        assert!(e.message.contains("list"), "{}", e.message);
        let e = err(
            "RunInstances",
            json!({"Placement": "ap-guangzhou-2", "ImageId": "i"}),
        );
        assert_eq!(e.path, "Placement");
        let e = err(
            "RunInstances",
            json!({"Placement": {"Zone": "z"}, "ImageId": "i",
                   "InternetAccessible": {"PublicIpAssigned": "TRUE"}}),
        );
        assert_eq!(e.path, "InternetAccessible.PublicIpAssigned");
        let e = err(
            "StopInstances",
            json!({"InstanceIds": ["i"], "ForceStop": 1}),
        );
        assert_eq!(e.path, "ForceStop");
        let e = err("DescribeInstances", json!([1]));
        assert_eq!(e.kind, ErrorKind::WrongType);
    }

    #[test]
    fn float_accepts_int_and_float() {
        // SpotMarketOptions.MaxPrice is a String; find a Float input anywhere in the model.
        let has_float_input = model()
            .shapes
            .values()
            .any(|s| s.members.iter().any(|m| m.ty == "Float"));
        assert!(has_float_input);
        assert_eq!(check_value("Float", &json!(1), "x", 0), Ok(()));
        assert_eq!(check_value("Float", &json!(1.5), "x", 0), Ok(()));
        assert!(check_value("Float", &json!("1.5"), "x", 0).is_err());
        assert!(check_value("Float", &json!(true), "x", 0).is_err());
    }

    #[test]
    fn missing_required_at_any_depth() {
        let e = err("InquiryPriceRunInstances", json!({"ImageId": "i"}));
        assert_eq!(
            (e.path.as_str(), e.kind),
            ("Placement", ErrorKind::MissingParameter)
        );
        let e = err(
            "RunInstances",
            json!({"Placement": {"ProjectId": 1}, "ImageId": "i"}),
        );
        assert_eq!(e.path, "Placement.Zone");
        let e = err("DescribeInstances", json!({"Filters": [{"Name": "zone"}]}));
        assert_eq!(e.path, "Filters[0].Values");
        assert!(e
            .to_string()
            .starts_with("Filters[0].Values: missing required"));
    }

    #[test]
    fn messages_never_carry_values() {
        let e = err(
            "ResetInstancesPassword",
            json!({"InstanceIds": ["i"], "Password": 12345678}),
        );
        assert!(!e.to_string().contains("12345678"));
    }

    #[test]
    fn coerce_flattened_strings() {
        let mut p = json!({
            "Placement": {"Zone": "z", "ProjectId": "3"},
            "ImageId": "img-1",
            "InstanceCount": "2",
            "InternetAccessible": {"PublicIpAssigned": "TRUE", "InternetMaxBandwidthOut": "x"},
            "DataDisks": [{"DiskSize": "100"}],
        });
        coerce("RunInstances", &mut p);
        assert_eq!(p["Placement"]["ProjectId"], json!(3));
        assert_eq!(p["InstanceCount"], json!(2));
        assert_eq!(p["InternetAccessible"]["PublicIpAssigned"], json!(true));
        assert_eq!(
            p["InternetAccessible"]["InternetMaxBandwidthOut"],
            json!("x")
        );
        assert_eq!(p["DataDisks"][0]["DiskSize"], json!(100));
        assert_eq!(p["ImageId"], json!("img-1"));
        let e = err("RunInstances", p);
        assert_eq!(e.path, "InternetAccessible.InternetMaxBandwidthOut");
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
