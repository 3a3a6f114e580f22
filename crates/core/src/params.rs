//! Request encoding: parameters -> flattened pairs / query / form / JSON body.
//!
//! # Parameter values (documented behaviour)
//! * `None` is omitted wherever it appears (a dict member, a list item, the whole params).
//! * Booleans flatten to `true` / `false` (the JSON spelling; the service accepts any case, and
//!   the seed's GET examples show `TRUE`/`FALSE`). In a JSON body they are JSON booleans.
//! * Integers flatten to their decimal digits; floats to the shortest text that reads back as
//!   the same float (`1.5`, `0.1`, `1e+100`); a float with an integral value keeps `.0`.
//! * Strings go as they are (UTF-8). The v1 string to sign uses the raw values; on the wire every
//!   byte outside `A-Z a-z 0-9 - _ . ~` is percent-encoded as UTF-8 (`%20` for a space, `%2B`
//!   for `+`, `%26`, `%3D`, `%2F`, `%25`, `%E4%B8%AD` ...).
//! * Lists flatten to `Name.0`, `Name.1`, ...; dicts nest with dots (`Filters.0.Values.1`,
//!   `Placement.Zone`). An empty list or dict produces no pair (in a JSON body it is kept).
//! * A JSON body (TC3 + POST) is the params object as compact UTF-8 JSON, key order kept.

use serde_json::Value;

/// Remove `null`s everywhere (dict members and list items).
pub fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                strip_nulls(v);
            }
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            for v in items.iter_mut() {
                strip_nulls(v);
            }
        }
        _ => {}
    }
}

/// The text of a scalar value as it goes into a flattened pair; `None` for null, lists, dicts.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Flatten params (a JSON object, or null for none) into `(name, value)` pairs in order.
pub fn flatten(params: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match params {
        Value::Object(map) => {
            for (k, v) in map {
                flatten_into(k, v, &mut out);
            }
        }
        Value::Null => {}
        other => {
            // Not an object: nothing sensible to name it; callers validate before.
            if let Some(t) = scalar_text(other) {
                out.push((String::new(), t));
            }
        }
    }
    out
}

fn flatten_into(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Array(items) => {
            // Indices count the items actually sent (nulls are skipped without a gap).
            let mut i = 0usize;
            for item in items {
                if item.is_null() {
                    continue;
                }
                flatten_into(&format!("{prefix}.{i}"), item, out);
                i += 1;
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten_into(&format!("{prefix}.{k}"), v, out);
            }
        }
        scalar => {
            if let Some(t) = scalar_text(scalar) {
                out.push((prefix.to_string(), t));
            }
        }
    }
}

const fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encode every byte outside the RFC 3986 unreserved set (`%20` for space).
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// `k=v&k=v` with both sides percent-encoded, in the order given (the query string or the
/// `application/x-www-form-urlencoded` body).
pub fn encode_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(&percent_encode(k.as_ref()));
        s.push('=');
        s.push_str(&percent_encode(v.as_ref()));
    }
    s
}

/// The JSON body of a TC3 POST: the params object (nulls stripped) as compact JSON.
pub fn json_body(params: &Value) -> Vec<u8> {
    match params {
        Value::Null => b"{}".to_vec(),
        v => {
            let mut v = v.clone();
            strip_nulls(&mut v);
            serde_json::to_vec(&v).unwrap_or_else(|_| b"{}".to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_nested() {
        let p = json!({
            "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-1", "ap-guangzhou-2"]}],
            "Placement": {"Zone": "z", "ProjectId": 0},
            "Limit": 20,
            "DryRun": true,
            "Ratio": 1.5,
            "Whole": 2.0,
            "Skip": null,
            "Empty": [],
            "Holes": [null, "a", null, "b"],
        });
        let pairs = flatten(&p);
        let expect: Vec<(String, String)> = [
            ("Filters.0.Name", "zone"),
            ("Filters.0.Values.0", "ap-guangzhou-1"),
            ("Filters.0.Values.1", "ap-guangzhou-2"),
            ("Placement.Zone", "z"),
            ("Placement.ProjectId", "0"),
            ("Limit", "20"),
            ("DryRun", "true"),
            ("Ratio", "1.5"),
            ("Whole", "2.0"),
            ("Holes.0", "a"),
            ("Holes.1", "b"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(pairs, expect);
        assert!(flatten(&Value::Null).is_empty());
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(
            percent_encode("a b+c&d=e/f%g~h-_."),
            "a%20b%2Bc%26d%3De%2Ff%25g~h-_."
        );
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
        let pairs = vec![("Name.0".to_string(), "x y+&=/%中".to_string())];
        let s = encode_pairs(&pairs);
        assert_eq!(s, "Name.0=x%20y%2B%26%3D%2F%25%E4%B8%AD");
        // Read back by an independent decoder (the one the emulator uses).
        let back: Vec<(String, String)> =
            form_urlencoded::parse(s.as_bytes()).into_owned().collect();
        assert_eq!(back, pairs);
    }

    #[test]
    fn json_body_strips_nulls_keeps_order_and_utf8() {
        let p = json!({"Z": 1, "A": {"x": null, "y": "中"}, "E": []});
        assert_eq!(json_body(&p), r#"{"Z":1,"A":{"y":"中"},"E":[]}"#.as_bytes());
        assert_eq!(json_body(&Value::Null), b"{}");
    }
}
