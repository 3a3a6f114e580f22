//! The decoder's caches, process-wide: interned dict keys (the same few dozen names in every
//! answer), short string values shared within one decode, and dict templates by key sequence.
//! Raw CPython references, so the `unsafe` here and in `decode.rs` is all the FFI the crate has.

use pyo3::ffi;
use pyo3::prelude::*;
use std::sync::Mutex;
use tccvm_core::runtime::PerProcess;

/// Longest key (in bytes) kept in the key cache.
pub const KEY_MAX: usize = 48;
/// Slots of the key cache (a power of two).
pub const KEY_SLOTS: usize = 1024;

pub struct KeySlot {
    pub len: usize,
    pub bytes: [u8; KEY_MAX],
    /// A strong reference to the interned key, or null.
    pub obj: *mut ffi::PyObject,
}

/// A direct-mapped cache of interned dict keys, process-wide: an answer's keys are the same few
/// dozen names every time. Slots are indexed by a hash of the bytes and hold the bytes inline;
/// a collision only costs a fresh string (and evicts the older one).
pub struct KeyCache {
    pub slots: Box<[KeySlot]>,
    /// Short string values, shared within one decode only: emptied when it ends (`used`
    /// lists the slots filled), so no answer's data outlives the objects built from it.
    pub vals: Box<[KeySlot]>,
    pub used: Vec<usize>,
    /// Dict templates by shape (see [`Shape`]), direct-mapped.
    pub shapes: Vec<Option<Shape>>,
}

/// Objects with at least this many members are built from a template of their shape: a
/// fresh dict grows (and rehashes) three times on the way to 24 keys, a copy of a dict with
/// the same keys has its final table at once.
pub const SHAPE_MIN: usize = 6;
/// Slots of the shape table (a power of two).
pub const SHAPE_SLOTS: usize = 64;

/// A dict with the keys of an object seen before, in its order, every value `None` (so no
/// answer's data is kept): objects with exactly these keys (the same cached key objects) are
/// built as a copy of it with the values set. `keys` are the template's own keys (it holds
/// strong references to them, so the pointers stay valid and unique).
pub struct Shape {
    pub hash: u64,
    pub keys: Vec<*mut ffi::PyObject>,
    pub dict: Py<PyAny>,
}

/// Longest string value (in bytes) shared within a decode.
pub const VAL_MAX: usize = 32;
/// Slots of the value table (a power of two).
pub const VAL_SLOTS: usize = 1024;

pub fn empty_slots(n: usize) -> Box<[KeySlot]> {
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
pub unsafe fn slot_str(slot: &mut KeySlot, s: &[u8], intern: bool) -> (*mut ffi::PyObject, bool) {
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
pub static KEYS: PerProcess<Mutex<Option<KeyCache>>> = PerProcess::new();

/// Little-endian word of up to 8 bytes of `s` from `at` (missing bytes as 0).
#[inline(always)]
pub fn word(s: &[u8], at: usize) -> u64 {
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
pub fn key_hash(b: &[u8]) -> usize {
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
pub fn same_short(a: &[u8], b: &[u8]) -> bool {
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
