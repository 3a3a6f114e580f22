//! The wire format: parameters -> flattened pairs / query / form / JSON body, and response
//! bytes -> (a typed head without the GIL, then) Python objects built straight from the parser.
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

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

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

/// Decode `k=v&...` (percent-decoding, `+` as space). Used by tests and verifiers.
pub fn decode_pairs(s: &str) -> Vec<(String, String)> {
    fn hexval(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    fn dec(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hexval(bytes[i + 1]), hexval(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (dec(k), dec(v)),
            None => (dec(p), String::new()),
        })
        .collect()
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

// ---------------------------------------------------------------------------------------------
// Responses: the typed head (no GIL)
// ---------------------------------------------------------------------------------------------

/// What the transport needs to know about an answer, read without building it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    pub request_id: Option<String>,
    /// `(Code, Message)` of `Response.Error`.
    pub error: Option<(String, String)>,
}

// Structs are read from JSON objects only (`map_only`): serde's derive would also take a JSON
// array as a struct (`[{}]`, `{"Response": ["id"]}`), which is not the API's JSON.
#[derive(Deserialize)]
struct EnvelopeDe {
    #[serde(rename = "Response", default, deserialize_with = "map_only")]
    response: Option<HeadDe>,
}

#[derive(Deserialize)]
struct HeadDe {
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
    #[serde(rename = "Error", default, deserialize_with = "map_only")]
    error: Option<ErrorDe>,
}

/// An optional struct that must be a JSON object (or null).
fn map_only<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

#[derive(Deserialize)]
struct ErrorDe {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
}

/// Why an answer is not the API's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotApi {
    Empty,
    NotJson(String),
    NoResponse,
}

impl fmt::Display for NotApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotApi::Empty => f.write_str("empty body"),
            NotApi::NotJson(e) => write!(f, "body is not JSON ({e})"),
            NotApi::NoResponse => f.write_str("JSON without a \"Response\" object"),
        }
    }
}

/// Parse the head of an answer: a JSON object with a `Response` object.
pub fn inspect(body: &[u8]) -> Result<Head, NotApi> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(NotApi::Empty);
    }
    // The envelope is an object: a JSON array would otherwise be read as the struct's fields.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(NotApi::NotJson("not a JSON object".into()));
    }
    let env: EnvelopeDe = serde_json::from_slice(body).map_err(|e| {
        // Only the classification and position: never the body (could hold anything).
        NotApi::NotJson(format!(
            "{:?} at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let head = env.response.ok_or(NotApi::NoResponse)?;
    Ok(Head {
        request_id: head.request_id,
        error: head.error.map(|e| {
            (
                e.code.unwrap_or_else(|| "UnknownError".to_string()),
                e.message.unwrap_or_default(),
            )
        }),
    })
}

// ---------------------------------------------------------------------------------------------
// Responses: Python objects straight from the parser (GIL held)
// ---------------------------------------------------------------------------------------------

/// Longest string (in bytes) the decoder shares between occurrences.
const SHARED_MAX_LEN: usize = 32;

/// One slot of [`StrCache`]: the bytes of a short string and its Python object.
struct Slot<'py> {
    len: u8,
    bytes: [u8; SHARED_MAX_LEN],
    obj: Option<Bound<'py, PyString>>,
}

/// A direct-mapped cache of short Python strings for one decode: every dict key, and short
/// values (`RUNNING`, zone and type names, dates, image ids...) that repeat through a list of
/// resources, are built once and shared (Python strings are immutable, so sharing is invisible
/// except to `is`). Shared key objects also carry their hash, so dict inserts do not rehash.
/// Slots are indexed by an FNV-1a hash of the bytes and hold the bytes inline, so a lookup or
/// an eviction allocates nothing; a collision only costs a fresh string.
struct StrCache<'py> {
    slots: RefCell<Vec<Slot<'py>>>,
    mask: usize,
}

impl<'py> StrCache<'py> {
    /// Sized for the document: from 64 slots (small answers) to 1024 (100 KB and more).
    fn for_len(n: usize) -> StrCache<'py> {
        let slots = (n / 96).clamp(64, 1024).next_power_of_two();
        StrCache {
            slots: RefCell::new(
                (0..slots)
                    .map(|_| Slot {
                        len: 0,
                        bytes: [0; SHARED_MAX_LEN],
                        obj: None,
                    })
                    .collect(),
            ),
            mask: slots - 1,
        }
    }

    #[inline]
    fn hash(b: &[u8]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &x in b {
            h = (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    /// The shared Python string for `s` (a new one when `s` is long or not cached yet).
    #[inline]
    fn get(&self, py: Python<'py>, s: &str) -> Bound<'py, PyString> {
        let b = s.as_bytes();
        if b.len() > SHARED_MAX_LEN {
            return PyString::new(py, s);
        }
        let i = (Self::hash(b) as usize) & self.mask;
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return PyString::new(py, s);
        };
        let Some(slot) = slots.get_mut(i) else {
            return PyString::new(py, s);
        };
        if let Some(o) = &slot.obj {
            if usize::from(slot.len) == b.len() && &slot.bytes[..b.len()] == b {
                return o.clone();
            }
        }
        let o = PyString::new(py, s);
        slot.len = b.len() as u8;
        slot.bytes[..b.len()].copy_from_slice(b);
        slot.obj = Some(o.clone());
        o
    }
}

struct PySeed<'a, 'py> {
    py: Python<'py>,
    strings: &'a StrCache<'py>,
}

impl<'a, 'py> Clone for PySeed<'a, 'py> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'a, 'py> Copy for PySeed<'a, 'py> {}

struct KeySeed<'a, 'py>(PySeed<'a, 'py>);

impl<'de, 'a, 'py> DeserializeSeed<'de> for KeySeed<'a, 'py> {
    type Value = Bound<'py, PyString>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'a, 'py> Visitor<'de> for KeySeed<'a, 'py> {
    type Value = Bound<'py, PyString>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.strings.get(self.0.py, v))
    }
}

impl<'de, 'a, 'py> DeserializeSeed<'de> for PySeed<'a, 'py> {
    type Value = Bound<'py, PyAny>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn py_err<E: de::Error>(e: PyErr) -> E {
    E::custom(format!("building Python objects: {e}"))
}

impl<'de, 'a, 'py> Visitor<'de> for PySeed<'a, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(pyo3::types::PyBool::new(self.py, v).to_owned().into_any())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match v.into_pyobject(self.py) {
            Ok(o) => Ok(o.into_any()),
            Err(e) => match e {},
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        match v.into_pyobject(self.py) {
            Ok(o) => Ok(o.into_any()),
            Err(e) => match e {},
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.py, v).into_any())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.strings.get(self.py, v).into_any())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items: Vec<Bound<'py, PyAny>> = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        PyList::new(self.py, items)
            .map(|l| l.into_any())
            .map_err(py_err)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(k) = map.next_key_seed(KeySeed(self))? {
            let v = map.next_value_seed(self)?;
            dict.set_item(k, v).map_err(py_err)?;
        }
        Ok(dict.into_any())
    }
}

/// Top level: find `Response`, build it, skip everything else.
struct TopSeed<'a, 'py>(PySeed<'a, 'py>);

impl<'de, 'a, 'py> DeserializeSeed<'de> for TopSeed<'a, 'py> {
    type Value = Option<Bound<'py, PyAny>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 'a, 'py> Visitor<'de> for TopSeed<'a, 'py> {
    type Value = Option<Bound<'py, PyAny>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == "Response" && found.is_none() {
                found = Some(map.next_value_seed(self.0)?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Build the Python object of `Response` from the body. Errors when the body is not a JSON
/// object with `Response` (the caller has normally checked with [`inspect`] first).
pub fn response_to_python<'py>(py: Python<'py>, body: &[u8]) -> Result<Bound<'py, PyAny>, NotApi> {
    let strings = StrCache::for_len(body.len());
    let seed = TopSeed(PySeed {
        py,
        strings: &strings,
    });
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = seed
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| {
            NotApi::NotJson(format!(
                "{:?} at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
    found.ok_or(NotApi::NoResponse)
}

/// Build any JSON document as Python objects (exposed as `_core.loads` for tests/benchmarks).
pub fn json_to_python<'py>(py: Python<'py>, body: &[u8]) -> Result<Bound<'py, PyAny>, String> {
    let strings = StrCache::for_len(body.len());
    let seed = PySeed {
        py,
        strings: &strings,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let v = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
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
        assert_eq!(decode_pairs(&s), pairs);
        assert_eq!(
            decode_pairs("a=1+2&b&c=%zz"),
            vec![
                ("a".to_string(), "1 2".to_string()),
                ("b".to_string(), String::new()),
                ("c".to_string(), "%zz".to_string())
            ]
        );
    }

    #[test]
    fn json_body_strips_nulls_keeps_order_and_utf8() {
        let p = json!({"Z": 1, "A": {"x": null, "y": "中"}, "E": []});
        assert_eq!(json_body(&p), r#"{"Z":1,"A":{"y":"中"},"E":[]}"#.as_bytes());
        assert_eq!(json_body(&Value::Null), b"{}");
    }

    #[test]
    fn inspect_heads() {
        let ok = inspect(br#"{"Response": {"TotalCount": 1, "RequestId": "r-1"}}"#).unwrap();
        assert_eq!(ok.request_id.as_deref(), Some("r-1"));
        assert_eq!(ok.error, None);
        let err = inspect(
            br#"{"Response": {"Error": {"Code": "AuthFailure", "Message": "no", "Extra": 1}, "RequestId": "r-2"}}"#,
        )
        .unwrap();
        assert_eq!(err.error, Some(("AuthFailure".into(), "no".into())));
        assert_eq!(inspect(b""), Err(NotApi::Empty));
        assert_eq!(inspect(b"  \n"), Err(NotApi::Empty));
        assert!(matches!(
            inspect(b"<html>502</html>"),
            Err(NotApi::NotJson(_))
        ));
        assert!(matches!(
            inspect(br#"{"Response": {"a": "#),
            Err(NotApi::NotJson(_))
        ));
        assert_eq!(inspect(br#"{"Other": 1}"#), Err(NotApi::NoResponse));
        assert!(matches!(
            inspect(br#"{"Response": 3}"#),
            Err(NotApi::NotJson(_))
        ));
        assert!(matches!(inspect(br#"[1]"#), Err(NotApi::NotJson(_))));
        // Arrays are not objects, at any level (serde's derive would read them as structs).
        for body in [
            &br#"[{}]"#[..],
            br#" [{"RequestId": "r"}]"#,
            br#"{"Response": ["r", null]}"#,
            br#"{"Response": {"RequestId": "r", "Error": ["Code", "Msg"]}}"#,
        ] {
            assert!(matches!(inspect(body), Err(NotApi::NotJson(_))), "{body:?}");
        }
        let ok = inspect(br#"{"Response": {"RequestId": "r", "Error": null}}"#).unwrap();
        assert_eq!((ok.request_id.as_deref(), ok.error), (Some("r"), None));
        assert_eq!(inspect(br#"{"Response": null}"#), Err(NotApi::NoResponse));
    }
}
