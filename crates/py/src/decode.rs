//! Answers decoded straight into Python objects, in one pass over the bytes with the core's JSON
//! grammar (`tccvm_core::json`), GIL held: the `Response` of a call (`response_to_python`), any
//! JSON document (`json_to_python`, exposed as `_core.loads`). [`PyResponse`] is the core's
//! `Decode` of sync calls (built on the calling thread, in the pass that judges the answer).
//!
//! Decoded values are those of `json.loads` on the same bytes (see `tccvm_core::json`).

use crate::errors::{panic_to_pyerr, ToPyErr};
use crate::key_cache::*;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::MutexGuard;
use tccvm_core::answer::{Decode, NotApi};
use tccvm_core::client::Answer;
use tccvm_core::error::{Error, TransportKind};
use tccvm_core::json::{describe, fail, Fail, Num, Parser, Text, MAX_DEPTH, PY_FAILED};

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
    /// The last value built is atomic, or a container of atomic values and such containers,
    /// left untracked by the cyclic GC (see [`untrack`]).
    plain: bool,
}

/// Take a container of this decode that holds only atomic values (strings, numbers, booleans,
/// None) and such containers out of the cyclic GC's care: it cannot be part of a reference
/// cycle as built, and an answer kept alive (a fan-out's results) would otherwise have the
/// collector walk every one of its ~1,000 containers again and again. CPython untracks such
/// dicts itself (at creation, or lazily in a collection) but not the ones holding such lists,
/// and never lists; a dict that is later given a container is tracked again by CPython, a list
/// is not (README: a cycle made through an answer's list is freed only once broken).
///
/// # Safety
/// GIL held; `o` a live dict or list built by this decode.
#[inline(always)]
unsafe fn untrack(o: *mut ffi::PyObject) {
    ffi::PyObject_GC_UnTrack(o.cast());
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
            plain: true,
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
        // Containers set it again for themselves.
        self.plain = true;
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
        let mut all_plain = true;
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
            all_plain &= self.plain;
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
        if all_plain {
            // SAFETY: GIL held; a dict of this decode whose values are all plain.
            unsafe { untrack(dict.as_ptr()) };
        }
        self.plain = all_plain;
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
        let mut all_plain = true;
        if self.p.peek() == Some(b']') {
            self.p.i += 1;
        } else {
            loop {
                let v = self.value(depth + 1)?;
                all_plain &= self.plain;
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
        if all_plain {
            // SAFETY: GIL held; a list of this decode whose items are all plain.
            unsafe { untrack(list.as_ptr()) };
        }
        self.plain = all_plain;
        Ok(list)
    }

    fn number(&mut self) -> Result<Bound<'py, PyAny>, Fail> {
        let n = self.p.number()?;
        let o = match n {
            Num::Int {
                neg, mant, digits, ..
            } if digits <= 18 => {
                let v = mant as i64;
                // SAFETY: GIL held; a plain conversion of a value that fits.
                unsafe { ffi::PyLong_FromLongLong(if neg { -v } else { v }) }
            }
            Num::Int {
                neg: false,
                mant,
                digits: 19,
                ..
            } => {
                // SAFETY: GIL held; a plain conversion of a value that fits.
                unsafe { ffi::PyLong_FromUnsignedLongLong(mant) }
            }
            Num::Int {
                neg: true,
                mant,
                digits: 19,
                ..
            } if mant <= 1 << 63 => {
                // SAFETY: GIL held; -mant fits an i64 (checked by the guard).
                unsafe { ffi::PyLong_FromLongLong((mant as i64).wrapping_neg()) }
            }
            Num::Int { start, end, .. } => {
                self.digits.clear();
                self.digits
                    .extend_from_slice(self.p.b.get(start..end).unwrap_or_default());
                self.digits.push(0);
                // SAFETY: GIL held; `digits` is NUL-terminated ASCII digits (and a sign).
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
                    // SAFETY: GIL held; a plain conversion.
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
/// normally checked with `tccvm_core::answer::inspect` first).
pub fn response_to_python<'py>(py: Python<'py>, body: &[u8]) -> Result<Bound<'py, PyAny>, NotApi> {
    response_to_python_plain(py, body).map(|(obj, _)| obj)
}

/// [`response_to_python`], and whether the answer is *plain*: one `Response` member and no key
/// twice in it. `tccvm_core::answer::inspect` refuses some answers that are not (a second `Response`, or
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

/// The core's [`Decode`] of sync calls: a plain success's `Response` built into Python objects
/// on the calling thread, in the pass that judges it (anything else is left to the core's
/// judge, exactly as for async calls).
pub struct PyResponse;

impl Decode for PyResponse {
    type Output = Py<PyAny>;

    fn success(&self, body: &[u8]) -> Option<(Option<String>, Py<PyAny>)> {
        Python::attach(
            |py| match catch_unwind(AssertUnwindSafe(|| plain_success(py, body))) {
                Ok(Some(b)) => Some(b),
                _ => {
                    // A failed decode may have left a Python exception set.
                    drop(PyErr::take(py));
                    None
                }
            },
        )
    }
}

/// The result of a call: what [`PyResponse`] built, or the `Response` decoded from the body.
pub fn build_response(
    py: Python<'_>,
    answer: Answer<Py<PyAny>>,
    action: &str,
) -> PyResult<Py<PyAny>> {
    match answer.built {
        Some(obj) => Ok(obj),
        None => decode_response(py, &answer, action),
    }
}

/// The `Response` of an answer the core judged a success, decoded from its body. An error
/// here names the attempts the call made and the answer's status.
pub fn decode_response<T>(py: Python<'_>, answer: &Answer<T>, action: &str) -> PyResult<Py<PyAny>> {
    match catch_unwind(AssertUnwindSafe(|| response_to_python(py, &answer.body))) {
        Ok(Ok(obj)) => Ok(obj.unbind()),
        Ok(Err(not_api)) => Err(Error::Transport {
            kind: TransportKind::NotApi,
            message: format!("the answer is not the API's JSON: {not_api}"),
            status: Some(answer.status),
            action: action.to_string(),
            attempts: answer.attempts,
        }
        .to_pyerr(py)),
        Err(p) => Err(panic_to_pyerr(py, p.as_ref())),
    }
}

/// The `Response` object and its `RequestId` when the answer is a plain success: what
/// `tccvm_core::answer::inspect` accepts with no error, read as it reads it.
fn plain_success(py: Python<'_>, body: &[u8]) -> Option<(Option<String>, Py<PyAny>)> {
    let (obj, plain) = response_to_python_plain(py, body).ok()?;
    if !plain {
        return None;
    }
    let d = obj.cast::<PyDict>().ok()?;
    if d.get_item("Error").ok()?.is_some_and(|e| !e.is_none()) {
        return None;
    }
    let request_id = match d.get_item("RequestId").ok()? {
        Some(r) if r.is_instance_of::<PyString>() => Some(r.extract::<String>().ok()?),
        Some(r) if !r.is_none() => return None,
        _ => None,
    };
    Some((request_id, obj.unbind()))
}
