//! Flattened wire parameters (`Filters.0.Values.1=x`, `Placement.Zone=z`) -> nested JSON.
//!
//! Values stay strings here; `model_view::coerce` turns them into the model's types.

use serde_json::{Map, Value};

/// Parameters that every request may carry and that are not the action's own.
pub const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

#[derive(Debug)]
pub struct FlatError(pub String);

/// Build the nested object from flattened pairs, skipping the common parameters.
pub fn unflatten(pairs: &[(String, String)]) -> Result<Value, FlatError> {
    let mut root = Value::Object(Map::new());
    let mut budget: usize = 200_000;
    for (k, v) in pairs {
        if COMMON.contains(&k.as_str()) {
            continue;
        }
        let segs: Vec<&str> = k.split('.').collect();
        if segs.iter().any(|s| s.is_empty()) {
            return Err(FlatError(format!("malformed parameter name `{k}`")));
        }
        insert(&mut root, &segs, Value::String(v.clone()), k, &mut budget)?;
    }
    Ok(root)
}

/// `budget` bounds the list slots a request may create (indices need not be dense).
fn insert(
    node: &mut Value,
    segs: &[&str],
    v: Value,
    full: &str,
    budget: &mut usize,
) -> Result<(), FlatError> {
    let (head, rest) = match segs.split_first() {
        Some(x) => x,
        None => return Ok(()),
    };
    if let Ok(idx) = head.parse::<usize>() {
        if idx > 1_000 {
            return Err(FlatError(format!("index too large in `{full}`")));
        }
        if node.is_null() {
            *node = Value::Array(vec![]);
        }
        let arr = node
            .as_array_mut()
            .ok_or_else(|| FlatError(format!("`{full}` mixes a list and a structure")))?;
        while arr.len() <= idx {
            if *budget == 0 {
                return Err(FlatError("too many list elements".into()));
            }
            *budget -= 1;
            arr.push(Value::Null);
        }
        if rest.is_empty() {
            arr[idx] = v;
            Ok(())
        } else {
            insert(&mut arr[idx], rest, v, full, budget)
        }
    } else {
        if node.is_null() {
            *node = Value::Object(Map::new());
        }
        let obj = node
            .as_object_mut()
            .ok_or_else(|| FlatError(format!("`{full}` mixes a list and a structure")))?;
        if rest.is_empty() {
            if obj.contains_key(*head) {
                return Err(FlatError(format!("parameter `{full}` given twice")));
            }
            obj.insert(head.to_string(), v);
            Ok(())
        } else {
            let child = obj.entry(head.to_string()).or_insert(Value::Null);
            insert(child, rest, v, full, budget)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn nests() {
        let v = unflatten(&pairs(&[
            ("Action", "DescribeInstances"),
            ("Filters.0.Name", "zone"),
            ("Filters.0.Values.1", "b"),
            ("Filters.0.Values.0", "a"),
            ("Placement.Zone", "z"),
            ("InstanceIds.0", "ins-1"),
        ]))
        .unwrap();
        assert_eq!(
            v,
            json!({"Filters":[{"Name":"zone","Values":["a","b"]}],"Placement":{"Zone":"z"},"InstanceIds":["ins-1"]})
        );
    }

    #[test]
    fn conflicts() {
        assert!(unflatten(&pairs(&[("A.0", "x"), ("A.B", "y")])).is_err());
        assert!(unflatten(&pairs(&[("A..B", "x")])).is_err());
    }
}
