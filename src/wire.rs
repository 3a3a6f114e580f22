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

use crate::runtime::PerProcess;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBool;
use serde_json::Value;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

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
// Responses: one hand-written JSON parser, two uses
// ---------------------------------------------------------------------------------------------
//
// The same grammar code serves the transport's check of an answer (no GIL: [`inspect`] reads
// the head and validates every byte without building anything) and the decoder that builds the
// Python objects in a single pass over the bytes (GIL held: [`response_to_python`],
// [`json_to_python`]).
//
// # Decoded values (documented behaviour; the same as `json.loads` on the same bytes)
// * Objects -> `dict` (key order kept, a duplicate key: the last value wins), arrays -> `list`,
//   `true`/`false`/`null` -> `True`/`False`/`None`.
// * A number without fraction or exponent -> `int` of any size (beyond 64 bits through
//   CPython's own conversion, so its digit limit applies); otherwise `float`, correctly rounded
//   (`-0.0` kept, `1e999` -> `inf`).
// * Strings: `\uXXXX` escapes with surrogate pairs joined; a lone surrogate is kept as that
//   code point, as `json.loads` does. Raw control characters inside strings are rejected.
// * The input must be UTF-8 (a leading UTF-8 BOM is skipped, as `json.loads(bytes)` does);
//   invalid UTF-8, `NaN`/`Infinity` (not JSON), trailing data and nesting deeper than
//   [`MAX_DEPTH`] are rejected with the reason and the line/column, never the body's text.
// * Dict keys of up to 48 bytes come from a process-wide cache of interned strings (so the
//   keys of every answer are the same objects, with their hash already computed); values are
//   fresh objects. An object of [`SHAPE_MIN`] or more members whose keys all come from that
//   cache is built as a copy of a template dict of its key sequence (its values all `None`, so
//   no answer's data is kept): the dict gets its final table at once instead of growing.

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 512;

/// What the transport needs to know about an answer, read without building it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    pub request_id: Option<String>,
    /// `(Code, Message)` of `Response.Error`.
    pub error: Option<(String, String)>,
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

const EOF: &str = "unexpected end of data";
/// The reason of a [`Fail`] when a Python call failed (its exception is set).
const PY_FAILED: &str = "\0python";

/// A parse failure: the byte offset and the reason (a static text: never the body's bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fail {
    pos: usize,
    what: &'static str,
}

#[inline(never)]
#[cold]
fn fail<T>(pos: usize, what: &'static str) -> Result<T, Fail> {
    Err(Fail { pos, what })
}

/// `"<reason> at line L column C"` (1-based, columns in bytes).
fn describe(body: &[u8], f: Fail) -> String {
    let before = body.get(..f.pos).unwrap_or(body);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    format!("{} at line {line} column {col}", f.what)
}

/// Where a parsed string's text is: a range of the body (no escapes) or the scratch buffer
/// (escapes decoded; `lone` when it holds a lone surrogate, encoded as WTF-8).
#[derive(Clone, Copy)]
enum Text {
    Raw(usize, usize),
    Scratch { lone: bool },
}

/// A number's extent and, for an integer of up to 19 digits, its magnitude.
enum Num {
    Int {
        neg: bool,
        mant: u64,
        digits: usize,
        start: usize,
        end: usize,
    },
    Float {
        start: usize,
        end: usize,
    },
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The index of the first byte at or after `i` that ends a run of plain string bytes: `"`,
/// `\`, a control character, or (when `stop_high`) a non-ASCII byte; `b.len()` if none.
/// Eight bytes at a time: a flag bit for each byte that matches, the lowest one is exact.
#[inline(always)]
fn string_run_end(b: &[u8], mut i: usize, stop_high: bool) -> usize {
    while let Some(chunk) = b.get(i..).and_then(|s| s.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*chunk);
        let q = w ^ (ONES * u64::from(b'"'));
        let s = w ^ (ONES * u64::from(b'\\'));
        let mut m = (q.wrapping_sub(ONES) & !q)
            | (s.wrapping_sub(ONES) & !s)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        if stop_high {
            m |= w;
        }
        m &= HIGH;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 || (stop_high && c >= 0x80) {
            return i;
        }
        i += 1;
    }
    i
}

#[inline]
fn hex4(b: &[u8], at: usize) -> Result<u32, Fail> {
    let Some(h) = b.get(at..at + 4) else {
        // Truncated, or a non-hex digit before the end.
        let rest = b.get(at..).unwrap_or_default();
        if rest.iter().all(u8::is_ascii_hexdigit) {
            return fail(b.len(), EOF);
        }
        return fail(at, "invalid \\uXXXX escape");
    };
    let mut v = 0u32;
    for &c in h {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return fail(at, "invalid \\uXXXX escape"),
        };
        v = (v << 4) | u32::from(d);
    }
    Ok(v)
}

/// Append a code point as UTF-8 (a surrogate as its 3-byte WTF-8 form).
fn push_code_point(out: &mut Vec<u8>, c: u32) {
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else if c < 0x1_0000 {
        out.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (c >> 18) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}

/// The grammar: a cursor over the body and the scratch buffer of escaped strings.
struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    scratch: Vec<u8>,
}

impl<'a> Parser<'a> {
    fn new(b: &'a [u8]) -> Parser<'a> {
        let i = if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        Parser {
            b,
            i,
            scratch: Vec::new(),
        }
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// A failure at the cursor: the end of data when there is nothing left.
    #[cold]
    fn unexpected<T>(&self, what: &'static str) -> Result<T, Fail> {
        if self.i >= self.b.len() {
            fail(self.b.len(), EOF)
        } else {
            fail(self.i, what)
        }
    }

    /// Skip whitespace, then expect `c`.
    #[inline(always)]
    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), Fail> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.unexpected(what)
        }
    }

    /// After an item of a container: `Ok(true)` on `,` (more follow), `Ok(false)` on `close`.
    #[inline(always)]
    fn next_item(&mut self, close: u8, what: &'static str) -> Result<bool, Fail> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            _ => self.unexpected(what),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), Fail> {
        let end = self.i + word.len();
        match self.b.get(self.i..end) {
            Some(s) if s == word => {
                self.i = end;
                Ok(())
            }
            Some(_) => fail(self.i, "expected a value"),
            None => {
                let rest = self.b.get(self.i..).unwrap_or_default();
                if word.starts_with(rest) {
                    fail(self.b.len(), EOF)
                } else {
                    fail(self.i, "expected a value")
                }
            }
        }
    }

    /// The string at the cursor (on its opening quote). With `COPY`, an escaped string is
    /// decoded into the scratch buffer; without, escapes are only checked.
    #[inline(always)]
    fn string<const COPY: bool>(&mut self) -> Result<Text, Fail> {
        let b = self.b;
        let start = self.i + 1;
        let mut i = start;
        let mut non_ascii = false;
        let mut escaped = false;
        let mut lone = false;
        let mut seg = start;
        loop {
            i = string_run_end(b, i, !non_ascii);
            let Some(&c) = b.get(i) else {
                return fail(b.len(), EOF);
            };
            match c {
                b'"' => break,
                b'\\' => {
                    if COPY {
                        if !escaped {
                            self.scratch.clear();
                        }
                        self.scratch
                            .extend_from_slice(b.get(seg..i).unwrap_or_default());
                    }
                    escaped = true;
                    i = self.escape::<COPY>(i, &mut lone)?;
                    seg = i;
                }
                0x80.. => {
                    non_ascii = true;
                    i += 1;
                }
                _ => return fail(i, "control character in a string"),
            }
        }
        if non_ascii {
            if let Err(e) = std::str::from_utf8(b.get(start..i).unwrap_or_default()) {
                return fail(start + e.valid_up_to(), "invalid UTF-8");
            }
        }
        self.i = i + 1;
        if escaped {
            if COPY {
                self.scratch
                    .extend_from_slice(b.get(seg..i).unwrap_or_default());
            }
            Ok(Text::Scratch { lone })
        } else {
            Ok(Text::Raw(start, i))
        }
    }

    /// The escape at `i` (a backslash): decoded into the scratch buffer with `COPY`. Returns
    /// the index after it.
    fn escape<const COPY: bool>(&mut self, i: usize, lone: &mut bool) -> Result<usize, Fail> {
        let b = self.b;
        let Some(&c) = b.get(i + 1) else {
            return fail(b.len(), EOF);
        };
        let byte = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let mut next = i + 6;
                let mut cp = hex4(b, i + 2)?;
                if (0xD800..0xDC00).contains(&cp)
                    && b.get(next) == Some(&b'\\')
                    && b.get(next + 1) == Some(&b'u')
                {
                    let lo = hex4(b, next + 2)?;
                    if (0xDC00..0xE000).contains(&lo) {
                        cp = 0x1_0000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        next += 6;
                    }
                }
                if (0xD800..0xE000).contains(&cp) {
                    *lone = true;
                }
                if COPY {
                    push_code_point(&mut self.scratch, cp);
                }
                return Ok(next);
            }
            _ => return fail(i, "invalid escape"),
        };
        if COPY {
            self.scratch.push(byte);
        }
        Ok(i + 2)
    }

    /// The bytes of a parsed string.
    #[inline(always)]
    fn text(&self, t: Text) -> &[u8] {
        match t {
            Text::Raw(s, e) => self.b.get(s..e).unwrap_or_default(),
            Text::Scratch { .. } => &self.scratch,
        }
    }

    /// The number at the cursor (`-` or a digit).
    #[inline(always)]
    fn number(&mut self) -> Result<Num, Fail> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let neg = b.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        let mut mant: u64 = 0;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(&c) = b.get(i) {
                    if !c.is_ascii_digit() {
                        break;
                    }
                    mant = mant.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    i += 1;
                }
            }
            Some(_) => return fail(i, "expected a digit"),
            None => return fail(b.len(), EOF),
        }
        let digits = i - start - usize::from(neg);
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            i = Self::digits(b, i + 1)?;
            float = true;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            i = Self::digits(b, i)?;
            float = true;
        }
        self.i = i;
        Ok(if float {
            Num::Float { start, end: i }
        } else {
            Num::Int {
                neg,
                mant,
                digits,
                start,
                end: i,
            }
        })
    }

    /// One or more digits from `i`; the index after them.
    #[inline(always)]
    fn digits(b: &[u8], mut i: usize) -> Result<usize, Fail> {
        let first = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == first {
            return if i >= b.len() {
                fail(b.len(), EOF)
            } else {
                fail(i, "expected a digit")
            };
        }
        Ok(i)
    }

    /// Check the value at the cursor and move past it, building nothing.
    fn skip_value(&mut self, depth: usize) -> Result<(), Fail> {
        match self.peek() {
            Some(b'"') => self.string::<false>().map(|_| ()),
            Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return fail(self.i, "nesting too deep");
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return self.unexpected("expected a string key");
                    }
                    self.string::<false>()?;
                    self.expect(b':', "expected ':'")?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    if !self.next_item(b'}', "expected ',' or '}'")? {
                        return Ok(());
                    }
                }
            }
            Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return fail(self.i, "nesting too deep");
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.next_item(b']', "expected ',' or ']'")? {
                        return Ok(());
                    }
                }
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(|_| ()),
            _ => self.unexpected("expected a value"),
        }
    }

    /// After the document: only whitespace.
    fn end(&mut self) -> Result<(), Fail> {
        self.ws();
        if self.i < self.b.len() {
            return fail(self.i, "extra data after the document");
        }
        Ok(())
    }

    /// A string or null (for the head's fields); lossy on a lone surrogate.
    fn opt_string(&mut self) -> Result<Option<String>, Fail> {
        match self.peek() {
            Some(b'"') => {
                let t = self.string::<true>()?;
                Ok(Some(String::from_utf8_lossy(self.text(t)).into_owned()))
            }
            Some(b'n') => self.literal(b"null").map(|()| None),
            _ => self.unexpected("expected a string or null"),
        }
    }

    /// The members of the object at the cursor (on `{`): `member(self, key, depth)` is called
    /// with the cursor on each value and must move past it.
    fn members(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, Text) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        if depth >= MAX_DEPTH {
            return fail(self.i, "nesting too deep");
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return self.unexpected("expected a string key");
            }
            let key = self.string::<true>()?;
            self.expect(b':', "expected ':'")?;
            self.ws();
            member(self, key)?;
            if !self.next_item(b'}', "expected ',' or '}'")? {
                return Ok(());
            }
        }
    }
}

/// Parse the head of an answer: a JSON object with a `Response` object; the whole body is
/// checked (a truncated or garbled answer is not the API's JSON) but nothing else is built.
pub fn inspect(body: &[u8]) -> Result<Head, NotApi> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(NotApi::Empty);
    }
    let mut p = Parser::new(body);
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(NotApi::NotJson("not a JSON object".into()));
    }
    let mut response: Option<Option<Head>> = None;
    let r = p
        .members(0, |p, key| {
            if p.text(key) != b"Response" {
                return p.skip_value(1);
            }
            if response.is_some() {
                return fail(p.i, "duplicate \"Response\"");
            }
            response = Some(match p.peek() {
                Some(b'{') => Some(read_head(p)?),
                Some(b'n') => p.literal(b"null").map(|()| None)?,
                _ => return p.unexpected("\"Response\" is not an object"),
            });
            Ok(())
        })
        .and_then(|()| p.end());
    if let Err(f) = r {
        // Only the reason and the position: never the body (could hold anything).
        return Err(NotApi::NotJson(describe(body, f)));
    }
    response.flatten().ok_or(NotApi::NoResponse)
}

/// `Response`'s `RequestId` and `Error` (`Code`, `Message`); other members are checked only.
fn read_head(p: &mut Parser<'_>) -> Result<Head, Fail> {
    let mut request_id: Option<Option<String>> = None;
    let mut error: Option<Option<(Option<String>, Option<String>)>> = None;
    p.members(1, |p, key| match p.text(key) {
        b"RequestId" => {
            if request_id.is_some() {
                return fail(p.i, "duplicate \"RequestId\"");
            }
            request_id = Some(p.opt_string()?);
            Ok(())
        }
        b"Error" => {
            if error.is_some() {
                return fail(p.i, "duplicate \"Error\"");
            }
            error = Some(match p.peek() {
                Some(b'{') => {
                    let (mut code, mut message) = (None, None);
                    p.members(2, |p, key| match p.text(key) {
                        b"Code" if code.is_none() => {
                            code = Some(p.opt_string()?);
                            Ok(())
                        }
                        b"Message" if message.is_none() => {
                            message = Some(p.opt_string()?);
                            Ok(())
                        }
                        b"Code" | b"Message" => fail(p.i, "duplicate error field"),
                        _ => p.skip_value(3),
                    })?;
                    Some((code.flatten(), message.flatten()))
                }
                Some(b'n') => p.literal(b"null").map(|()| None)?,
                _ => return p.unexpected("\"Error\" is not an object"),
            });
            Ok(())
        }
        _ => p.skip_value(2),
    })?;
    Ok(Head {
        request_id: request_id.flatten(),
        error: error.flatten().map(|(code, message)| {
            (
                code.unwrap_or_else(|| "UnknownError".to_string()),
                message.unwrap_or_default(),
            )
        }),
    })
}

// ---------------------------------------------------------------------------------------------
// Responses: Python objects straight from the parser (GIL held)
// ---------------------------------------------------------------------------------------------

/// Longest key (in bytes) kept in the key cache.
const KEY_MAX: usize = 48;
/// Slots of the key cache (a power of two).
const KEY_SLOTS: usize = 1024;

struct KeySlot {
    len: usize,
    bytes: [u8; KEY_MAX],
    /// A strong reference to the interned key, or null.
    obj: *mut ffi::PyObject,
}

/// A direct-mapped cache of interned dict keys, process-wide: an answer's keys are the same few
/// dozen names every time. Slots are indexed by a hash of the bytes and hold the bytes inline;
/// a collision only costs a fresh string (and evicts the older one).
struct KeyCache {
    slots: Box<[KeySlot]>,
    /// Short string values, shared within one decode only: emptied when it ends (`used`
    /// lists the slots filled), so no answer's data outlives the objects built from it.
    vals: Box<[KeySlot]>,
    used: Vec<usize>,
    /// Dict templates by shape (see [`Shape`]), direct-mapped.
    shapes: Vec<Option<Shape>>,
}

/// Objects with at least this many members are built from a template of their shape: a
/// fresh dict grows (and rehashes) three times on the way to 24 keys, a copy of a dict with
/// the same keys has its final table at once.
const SHAPE_MIN: usize = 6;
/// Slots of the shape table (a power of two).
const SHAPE_SLOTS: usize = 64;

/// A dict with the keys of an object seen before, in its order, every value `None` (so no
/// answer's data is kept): objects with exactly these keys (the same cached key objects) are
/// built as a copy of it with the values set. `keys` are the template's own keys (it holds
/// strong references to them, so the pointers stay valid and unique).
struct Shape {
    hash: u64,
    keys: Vec<*mut ffi::PyObject>,
    dict: Py<PyAny>,
}

/// Longest string value (in bytes) shared within a decode.
const VAL_MAX: usize = 32;
/// Slots of the value table (a power of two).
const VAL_SLOTS: usize = 1024;

fn empty_slots(n: usize) -> Box<[KeySlot]> {
    (0..n)
        .map(|_| KeySlot {
            len: 0,
            bytes: [0; KEY_MAX],
            obj: std::ptr::null_mut(),
        })
        .collect()
}

/// The string in `slot` when it holds `s`, else a new string for `s` stored there (releasing
/// the one evicted). A new reference, or null with the exception set; and whether the slot
/// was empty.
///
/// # Safety
/// GIL held; `slot.obj` is null or a strong reference to a str.
#[inline(always)]
unsafe fn slot_str(slot: &mut KeySlot, s: &[u8], intern: bool) -> (*mut ffi::PyObject, bool) {
    if !slot.obj.is_null() && same_short(slot.bytes.get(..slot.len).unwrap_or_default(), s) {
        ffi::Py_IncRef(slot.obj);
        return (slot.obj, false);
    }
    let mut o = ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast(), s.len() as ffi::Py_ssize_t);
    if o.is_null() {
        return (o, false);
    }
    if intern {
        // May swap `o` for the interned object (an owned reference either way).
        ffi::PyUnicode_InternInPlace(&mut o);
    }
    ffi::Py_IncRef(o);
    let old = std::mem::replace(&mut slot.obj, o);
    if !old.is_null() {
        ffi::Py_DecRef(old);
    }
    slot.len = s.len();
    if let Some(dst) = slot.bytes.get_mut(..s.len()) {
        dst.copy_from_slice(s);
    }
    (o, old.is_null())
}

// SAFETY: the cache is only read or written while holding the mutex AND the GIL (the decoder
// runs with the GIL held), so the Python objects it references are never touched concurrently.
unsafe impl Send for KeyCache {}

/// Per process: a forked child would otherwise find it locked for good if a parent thread held
/// it at the fork (and would decode without a cache from then on).
static KEYS: PerProcess<Mutex<Option<KeyCache>>> = PerProcess::new();

/// Little-endian word of up to 8 bytes of `s` from `at` (missing bytes as 0).
#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    match s.get(at..).and_then(|t| t.first_chunk::<8>()) {
        Some(w) => u64::from_le_bytes(*w),
        None => {
            let mut w = 0u64;
            for (k, &c) in s.get(at..).unwrap_or_default().iter().take(8).enumerate() {
                w |= u64::from(c) << (8 * k);
            }
            w
        }
    }
}

/// A hash of a short key: its length and its first and last 8 bytes (a collision only
/// costs a cache miss: slots compare the whole bytes).
#[inline(always)]
fn key_hash(b: &[u8]) -> usize {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let n = b.len();
    let (x, y) = if n >= 8 {
        (word(b, 0), word(b, n - 8))
    } else {
        (word(b, 0), 0)
    };
    let h = (x ^ y.rotate_left(29) ^ (n as u64)).wrapping_mul(K);
    (h >> 40) as usize
}

/// `a == b` for two slices of the same length up to [`KEY_MAX`], without a call.
#[inline(always)]
fn same_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return word(a, 0) == word(b, 0);
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// The decoder: the parser plus what building Python objects needs.
struct Builder<'a, 'py> {
    p: Parser<'a>,
    py: Python<'py>,
    /// Items of the lists being built (a list is made once its length is known).
    stack: Vec<Bound<'py, PyAny>>,
    /// The key cache, when not in use elsewhere (then keys are fresh strings).
    keys: Option<MutexGuard<'static, Option<KeyCache>>>,
    /// Room for a big integer's digits and the NUL `PyLong_FromString` wants.
    digits: Vec<u8>,
    /// An object at depth 1 (`Response`) had a key twice (the dict kept the last).
    repeated_at_1: bool,
    /// The last key [`Builder::key`] made came from the key cache.
    key_cached: bool,
}

impl<'a, 'py> Builder<'a, 'py> {
    fn new(py: Python<'py>, body: &'a [u8]) -> Builder<'a, 'py> {
        let keys = match KEYS.get().try_lock() {
            Ok(mut g) => {
                if g.is_none() {
                    *g = Some(KeyCache {
                        slots: empty_slots(KEY_SLOTS),
                        vals: empty_slots(VAL_SLOTS),
                        used: Vec::new(),
                        shapes: (0..SHAPE_SLOTS).map(|_| None).collect(),
                    });
                }
                Some(g)
            }
            Err(_) => None,
        };
        Builder {
            p: Parser::new(body),
            py,
            stack: Vec::with_capacity(64),
            keys,
            digits: Vec::new(),
            repeated_at_1: false,
            key_cached: false,
        }
    }

    /// A new reference from the C API, or the failure (its exception is set) when null.
    #[inline(always)]
    fn own(&self, o: *mut ffi::PyObject) -> Result<Bound<'py, PyAny>, Fail> {
        if o.is_null() {
            fail(self.p.i, PY_FAILED)
        } else {
            // SAFETY: `o` is a new, non-null reference returned by the C API.
            Ok(unsafe { Bound::from_owned_ptr(self.py, o) })
        }
    }

    /// A Python string of the text (WTF-8 with lone surrogates: through `surrogatepass`).
    #[inline(always)]
    fn str_of(&self, t: Text) -> Result<Bound<'py, PyAny>, Fail> {
        let s = self.p.text(t);
        // SAFETY: the pointer and length are those of a live slice; GIL held.
        let o = unsafe {
            if let Text::Scratch { lone: true } = t {
                ffi::PyUnicode_DecodeUTF8(
                    s.as_ptr().cast(),
                    s.len() as ffi::Py_ssize_t,
                    c"surrogatepass".as_ptr(),
                )
            } else {
                ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast(), s.len() as ffi::Py_ssize_t)
            }
        };
        self.own(o)
    }

    /// A dict key: from the cache when short (built, interned and cached on a miss).
    #[inline(always)]
    fn key(&mut self, t: Text) -> Result<Bound<'py, PyAny>, Fail> {
        let s = self.p.text(t);
        let cacheable = s.len() <= KEY_MAX && !matches!(t, Text::Scratch { lone: true });
        self.key_cached = false;
        let Some(cache) = self
            .keys
            .as_mut()
            .and_then(|g| g.as_mut())
            .filter(|_| cacheable)
        else {
            return self.str_of(t);
        };
        let Some(slot) = cache.slots.get_mut(key_hash(s) & (KEY_SLOTS - 1)) else {
            return self.str_of(t);
        };
        // SAFETY: GIL held; the slot holds null or a str.
        let (o, _) = unsafe { slot_str(slot, s, true) };
        self.key_cached = !o.is_null();
        self.own(o)
    }

    /// A string value: shared within this decode when short.
    #[inline(always)]
    fn str_value(&mut self, t: Text) -> Result<Bound<'py, PyAny>, Fail> {
        let s = self.p.text(t);
        let cacheable = s.len() <= VAL_MAX && !matches!(t, Text::Scratch { lone: true });
        let Some(cache) = self
            .keys
            .as_mut()
            .and_then(|g| g.as_mut())
            .filter(|_| cacheable)
        else {
            return self.str_of(t);
        };
        let i = key_hash(s) & (VAL_SLOTS - 1);
        let Some(slot) = cache.vals.get_mut(i) else {
            return self.str_of(t);
        };
        // SAFETY: GIL held; the slot holds null or a str.
        let (o, filled) = unsafe { slot_str(slot, s, false) };
        if filled {
            cache.used.push(i);
        }
        self.own(o)
    }

    fn value(&mut self, depth: usize) -> Result<Bound<'py, PyAny>, Fail> {
        let py = self.py;
        match self.p.peek() {
            Some(b'"') => {
                let t = self.p.string::<true>()?;
                self.str_value(t)
            }
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => {
                self.p.literal(b"true")?;
                Ok(PyBool::new(py, true).to_owned().into_any())
            }
            Some(b'f') => {
                self.p.literal(b"false")?;
                Ok(PyBool::new(py, false).to_owned().into_any())
            }
            Some(b'n') => {
                self.p.literal(b"null")?;
                Ok(py.None().into_bound(py))
            }
            _ => self.p.unexpected("expected a value"),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Bound<'py, PyAny>, Fail> {
        if depth >= MAX_DEPTH {
            return fail(self.p.i, "nesting too deep");
        }
        self.p.i += 1;
        self.p.ws();
        if self.p.peek() == Some(b'}') {
            self.p.i += 1;
            // SAFETY: GIL held.
            return self.own(unsafe { ffi::PyDict_New() });
        }
        // Members go on the stack (key, value, key, value, ...) until the object ends; the
        // hash of their key objects' addresses names its shape.
        let base = self.stack.len();
        let mut shape: u64 = 0;
        let mut all_cached = true;
        loop {
            if self.p.peek() != Some(b'"') {
                return self.p.unexpected("expected a string key");
            }
            let t = self.p.string::<true>()?;
            let key = self.key(t)?;
            all_cached &= self.key_cached;
            shape =
                (shape.rotate_left(7) ^ (key.as_ptr() as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            self.p.expect(b':', "expected ':'")?;
            self.p.ws();
            let v = self.value(depth + 1)?;
            self.stack.push(key);
            self.stack.push(v);
            if !self.p.next_item(b'}', "expected ',' or '}'")? {
                break;
            }
        }
        let members = self.stack.len().saturating_sub(base) / 2;
        let dict = if members >= SHAPE_MIN && all_cached {
            self.dict_by_shape(base, shape)?
        } else {
            self.dict_from_stack(base)?
        };
        // SAFETY: `dict` is a live dict.
        if depth == 1 && unsafe { ffi::PyDict_Size(dict.as_ptr()) } != members as ffi::Py_ssize_t {
            self.repeated_at_1 = true;
        }
        Ok(dict)
    }

    /// A new dict of the members on the stack from `base` (taken off it).
    fn dict_from_stack(&mut self, base: usize) -> Result<Bound<'py, PyAny>, Fail> {
        // SAFETY: GIL held.
        let dict = self.own(unsafe { ffi::PyDict_New() })?;
        self.fill(&dict, base)?;
        Ok(dict)
    }

    /// Set the members on the stack from `base` (taken off it) in `dict`.
    fn fill(&mut self, dict: &Bound<'py, PyAny>, base: usize) -> Result<(), Fail> {
        let mut items = self.stack.drain(base..);
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            // SAFETY: three live objects, `dict` a dict; SetItem takes its own references.
            if unsafe { ffi::PyDict_SetItem(dict.as_ptr(), k.as_ptr(), v.as_ptr()) } != 0 {
                return fail(self.p.i, PY_FAILED);
            }
        }
        Ok(())
    }

    /// The members on the stack from `base` (every key from the key cache) as a dict: a copy
    /// of the template of their shape when there is one, else a new dict, which then leaves a
    /// template behind. Same dict either way (keys in first-seen order, the last value of a
    /// repeated key).
    fn dict_by_shape(&mut self, base: usize, shape: u64) -> Result<Bound<'py, PyAny>, Fail> {
        let py = self.py;
        let at = (shape as usize) & (SHAPE_SLOTS - 1);
        let members = self.stack.get(base..).unwrap_or_default();
        let template = self
            .keys
            .as_ref()
            .and_then(|g| g.as_ref())
            .and_then(|cache| cache.shapes.get(at)?.as_ref())
            .filter(|t| {
                t.hash == shape
                    && t.keys.len() == members.len() / 2
                    && t.keys
                        .iter()
                        .zip(members.iter().step_by(2))
                        .all(|(a, b)| *a == b.as_ptr())
            })
            .map(|t| t.dict.as_ptr());
        if let Some(template) = template {
            // SAFETY: GIL held; `template` is a live dict the cache holds a reference to.
            let dict = self.own(unsafe { ffi::PyDict_Copy(template) })?;
            self.fill(&dict, base)?;
            return Ok(dict);
        }
        let keys: Vec<*mut ffi::PyObject> = members.iter().step_by(2).map(|k| k.as_ptr()).collect();
        let dict = self.dict_from_stack(base)?;
        // A template only when no key was given twice (its keys must be the whole sequence).
        // SAFETY: `dict` is a live dict.
        if unsafe { ffi::PyDict_Size(dict.as_ptr()) } as usize != keys.len() {
            return Ok(dict);
        }
        // SAFETY: GIL held; `dict` is a live dict.
        let copy = self.own(unsafe { ffi::PyDict_Copy(dict.as_ptr()) })?;
        for k in &keys {
            // SAFETY: GIL held; `copy` a dict, the keys live (in `dict`).
            if unsafe { ffi::PyDict_SetItem(copy.as_ptr(), *k, py.None().as_ptr()) } != 0 {
                return fail(self.p.i, PY_FAILED);
            }
        }
        if let Some(slot) = self
            .keys
            .as_mut()
            .and_then(|g| g.as_mut())
            .and_then(|cache| cache.shapes.get_mut(at))
        {
            // The template holds its keys; the one it replaces (if any) is released.
            *slot = Some(Shape {
                hash: shape,
                keys,
                dict: copy.unbind(),
            });
        }
        Ok(dict)
    }

    fn array(&mut self, depth: usize) -> Result<Bound<'py, PyAny>, Fail> {
        if depth >= MAX_DEPTH {
            return fail(self.p.i, "nesting too deep");
        }
        self.p.i += 1;
        self.p.ws();
        let base = self.stack.len();
        if self.p.peek() == Some(b']') {
            self.p.i += 1;
        } else {
            loop {
                let v = self.value(depth + 1)?;
                self.stack.push(v);
                if !self.p.next_item(b']', "expected ',' or ']'")? {
                    break;
                }
            }
        }
        let n = self.stack.len().saturating_sub(base);
        // SAFETY: GIL held.
        let list = self.own(unsafe { ffi::PyList_New(n as ffi::Py_ssize_t) })?;
        for (k, item) in self.stack.drain(base..).enumerate() {
            // SAFETY: `list` is a new list of length n, k < n; SetItem steals the reference.
            unsafe { ffi::PyList_SetItem(list.as_ptr(), k as ffi::Py_ssize_t, item.into_ptr()) };
        }
        Ok(list)
    }

    fn number(&mut self) -> Result<Bound<'py, PyAny>, Fail> {
        let n = self.p.number()?;
        // SAFETY (all the calls below): GIL held; the digits buffer is NUL-terminated.
        let o = match n {
            Num::Int {
                neg, mant, digits, ..
            } if digits <= 18 => {
                let v = mant as i64;
                unsafe { ffi::PyLong_FromLongLong(if neg { -v } else { v }) }
            }
            Num::Int {
                neg: false,
                mant,
                digits: 19,
                ..
            } => unsafe { ffi::PyLong_FromUnsignedLongLong(mant) },
            Num::Int {
                neg: true,
                mant,
                digits: 19,
                ..
            } if mant <= 1 << 63 => unsafe {
                ffi::PyLong_FromLongLong((mant as i64).wrapping_neg())
            },
            Num::Int { start, end, .. } => {
                self.digits.clear();
                self.digits
                    .extend_from_slice(self.p.b.get(start..end).unwrap_or_default());
                self.digits.push(0);
                unsafe {
                    ffi::PyLong_FromString(self.digits.as_ptr().cast(), std::ptr::null_mut(), 10)
                }
            }
            Num::Float { start, end } => {
                let text = self.p.b.get(start..end).unwrap_or_default();
                // The grammar has checked the text: ASCII digits, sign, '.', exponent.
                let f = std::str::from_utf8(text)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok());
                match f {
                    Some(f) => unsafe { ffi::PyFloat_FromDouble(f) },
                    None => return fail(start, "invalid number"),
                }
            }
        };
        self.own(o)
    }

    /// The text of a failure (the Python exception's, when a Python call failed).
    fn explain(&self, f: Fail) -> String {
        if f.what == PY_FAILED {
            match PyErr::take(self.py) {
                Some(e) => e.to_string(),
                None => "building Python objects failed".to_string(),
            }
        } else {
            describe(self.p.b, f)
        }
    }
}

impl Drop for Builder<'_, '_> {
    /// Empty the value table (the key cache stays).
    fn drop(&mut self) {
        if let Some(cache) = self.keys.as_mut().and_then(|g| g.as_mut()) {
            for i in cache.used.drain(..) {
                if let Some(slot) = cache.vals.get_mut(i) {
                    let o = std::mem::replace(&mut slot.obj, std::ptr::null_mut());
                    if !o.is_null() {
                        // SAFETY: the slot's strong reference; the builder lives under the GIL.
                        unsafe { ffi::Py_DecRef(o) };
                    }
                }
            }
        }
    }
}

/// Build the Python object of `Response` from the body (other top-level members are checked,
/// not built). Errors when the body is not a JSON object with `Response` (the caller has
/// normally checked with [`inspect`] first).
pub fn response_to_python<'py>(py: Python<'py>, body: &[u8]) -> Result<Bound<'py, PyAny>, NotApi> {
    response_to_python_plain(py, body).map(|(obj, _)| obj)
}

/// [`response_to_python`], and whether the answer is *plain*: one `Response` member and no key
/// twice in it. [`inspect`] refuses some answers that are not (a second `Response`, or
/// `RequestId` or `Error` twice) where the decoder, like `json.loads`, keeps the last value.
pub fn response_to_python_plain<'py>(
    py: Python<'py>,
    body: &[u8],
) -> Result<(Bound<'py, PyAny>, bool), NotApi> {
    let mut bld = Builder::new(py, body);
    let mut plain = true;
    bld.p.ws();
    if bld.p.peek() != Some(b'{') {
        return Err(NotApi::NotJson("not a JSON object".into()));
    }
    let mut found = None;
    let r = (|| {
        if MAX_DEPTH == 0 {
            return fail(0, "nesting too deep");
        }
        bld.p.i += 1;
        bld.p.ws();
        if bld.p.peek() == Some(b'}') {
            bld.p.i += 1;
        } else {
            loop {
                if bld.p.peek() != Some(b'"') {
                    return bld.p.unexpected("expected a string key");
                }
                let t = bld.p.string::<true>()?;
                let is_response = bld.p.text(t) == b"Response";
                bld.p.expect(b':', "expected ':'")?;
                bld.p.ws();
                if is_response && found.is_none() {
                    found = Some(bld.value(1)?);
                } else {
                    plain &= !is_response;
                    bld.p.skip_value(1)?;
                }
                if !bld.p.next_item(b'}', "expected ',' or '}'")? {
                    break;
                }
            }
        }
        bld.p.end()
    })();
    match r {
        Ok(()) => found
            .map(|obj| (obj, plain && !bld.repeated_at_1))
            .ok_or(NotApi::NoResponse),
        Err(f) => Err(NotApi::NotJson(bld.explain(f))),
    }
}

/// Build any JSON document as Python objects (exposed as `_core.loads` for tests/benchmarks).
pub fn json_to_python<'py>(py: Python<'py>, body: &[u8]) -> Result<Bound<'py, PyAny>, String> {
    let mut bld = Builder::new(py, body);
    let r = (|| {
        bld.p.ws();
        let v = bld.value(0)?;
        bld.p.end()?;
        Ok(v)
    })();
    r.map_err(|f| bld.explain(f))
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

    #[test]
    fn inspect_edges() {
        // Escaped names are the same names; other members are checked, not read.
        let h = inspect(
            "\u{feff} {\"X\": [1, {\"a\": \"\\u00e9\"}], \"Re\\u0073ponse\": {\"RequestId\": \"r\\n\", \"Error\": {\"Code\": \"A.B\", \"Extra\": [true]}}}\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(h.request_id.as_deref(), Some("r\n"));
        assert_eq!(h.error, Some(("A.B".into(), String::new())));
        let h = inspect(br#"{"Response": {"Error": {"Code": null, "Message": "m"}}}"#).unwrap();
        assert_eq!(h.error, Some(("UnknownError".into(), "m".into())));
        for body in [
            &br#"{"Response": {}, "Response": {}}"#[..],
            br#"{"Response": {"RequestId": "a", "RequestId": "b"}}"#,
            br#"{"Response": {"Error": null, "Error": {}}}"#,
            br#"{"Response": {"RequestId": 5}}"#,
            br#"{"Response": {"Error": {"Code": 1}}}"#,
            br#"{"Response": {"RequestId": "r"}} x"#,
            br#"{"Response": {"RequestId": "r", "X": NaN}}"#,
            br#"{"Response": {"RequestId": "r", "X": "\x"}}"#,
            b"{\"Response\": {\"RequestId\": \"\xff\"}}",
            b"{\"Response\": {\"RequestId\": \"a\x01\"}}",
        ] {
            assert!(matches!(inspect(body), Err(NotApi::NotJson(_))), "{body:?}");
        }
        // Nesting is bounded (the same bound as the decoder's), deep input never overflows.
        let deep = |n: usize| {
            let mut b = br#"{"Response": {"X": "#.to_vec();
            b.extend(std::iter::repeat_n(b'[', n));
            b.extend(std::iter::repeat_n(b']', n));
            b.extend_from_slice(b"}}");
            b
        };
        assert!(inspect(&deep(MAX_DEPTH - 2)).is_ok());
        assert!(
            matches!(inspect(&deep(MAX_DEPTH - 1)), Err(NotApi::NotJson(e)) if e.contains("nesting"))
        );
        assert!(matches!(inspect(&deep(1_000_000)), Err(NotApi::NotJson(_))));
        // Errors say where, never what.
        let Err(NotApi::NotJson(e)) =
            inspect(b"{\"Response\": {\"RequestId\": \"secret-1\",\n  \"X\": secret-2}}")
        else {
            panic!("not rejected");
        };
        assert_eq!(e, "expected a value at line 2 column 8");
    }

    #[test]
    fn string_runs() {
        for n in 0..40 {
            for (special, stop_high) in [(b'"', false), (b'\\', true), (0x1f, false), (0xc3, true)]
            {
                let mut b = vec![b'a'; n];
                b.push(special);
                b.extend_from_slice(b"aaaaaaaaa");
                assert_eq!(string_run_end(&b, 0, stop_high), n);
                let plain = vec![b'a'; n];
                assert_eq!(string_run_end(&plain, 0, true), n);
            }
            let mut b = vec![b'a'; n];
            b.push(0xc3);
            b.push(b'"');
            assert_eq!(string_run_end(&b, 0, false), n + 1);
        }
    }
}
