//! The JSON grammar of answers: one hand-written parser, two uses.
//!
//! The same grammar code serves the check of an answer (no GIL: `crate::answer::inspect` reads
//! the head and validates every byte without building anything) and the binding's decoder that
//! builds the Python objects in a single pass over the bytes (GIL held: `decode.rs` of the
//! `tccvm-py` crate). Its items are public for that decoder only.
//!
//! # Decoded values (documented behaviour; the same as `json.loads` on the same bytes)
//! * Objects -> `dict` (key order kept, a duplicate key: the last value wins), arrays -> `list`,
//!   `true`/`false`/`null` -> `True`/`False`/`None`.
//! * A number without fraction or exponent -> `int` of any size (beyond 64 bits through
//!   CPython's own conversion, so its digit limit applies); otherwise `float`, correctly rounded
//!   (`-0.0` kept, `1e999` -> `inf`).
//! * Strings: `\uXXXX` escapes with surrogate pairs joined; a lone surrogate is kept as that
//!   code point, as `json.loads` does. Raw control characters inside strings are rejected.
//! * The input must be UTF-8 (a leading UTF-8 BOM is skipped, as `json.loads(bytes)` does);
//!   invalid UTF-8, `NaN`/`Infinity` (not JSON), trailing data and nesting deeper than
//!   [`MAX_DEPTH`] are rejected with the reason and the line/column, never the body's text.
//! * Dict keys of up to 48 bytes come from a process-wide cache of interned strings (so the
//!   keys of every answer are the same objects, with their hash already computed); values are
//!   fresh objects. An object of [`SHAPE_MIN`] or more members whose keys all come from that
//!   cache is built as a copy of a template dict of its key sequence (its values all `None`, so
//!   no answer's data is kept): the dict gets its final table at once instead of growing.

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 512;

pub const EOF: &str = "unexpected end of data";
/// The reason of a [`Fail`] when a Python call failed (its exception is set).
pub const PY_FAILED: &str = "\0python";

/// A parse failure: the byte offset and the reason (a static text: never the body's bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail {
    pub pos: usize,
    pub what: &'static str,
}

#[inline(never)]
#[cold]
pub fn fail<T>(pos: usize, what: &'static str) -> Result<T, Fail> {
    Err(Fail { pos, what })
}

/// `"<reason> at line L column C"` (1-based, columns in bytes).
pub fn describe(body: &[u8], f: Fail) -> String {
    let before = body.get(..f.pos).unwrap_or(body);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    format!("{} at line {line} column {col}", f.what)
}

/// Where a parsed string's text is: a range of the body (no escapes) or the scratch buffer
/// (escapes decoded; `lone` when it holds a lone surrogate, encoded as WTF-8).
#[derive(Clone, Copy)]
pub enum Text {
    Raw(usize, usize),
    Scratch { lone: bool },
}

/// A number's extent and, for an integer of up to 19 digits, its magnitude.
pub enum Num {
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

pub const ONES: u64 = 0x0101_0101_0101_0101;
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// The index of the first byte at or after `i` that ends a run of plain string bytes: `"`,
/// `\`, a control character, or (when `stop_high`) a non-ASCII byte; `b.len()` if none.
/// Eight bytes at a time: a flag bit for each byte that matches, the lowest one is exact.
#[inline(always)]
pub fn string_run_end(b: &[u8], mut i: usize, stop_high: bool) -> usize {
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
pub fn hex4(b: &[u8], at: usize) -> Result<u32, Fail> {
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
pub fn push_code_point(out: &mut Vec<u8>, c: u32) {
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
pub struct Parser<'a> {
    pub b: &'a [u8],
    pub i: usize,
    pub scratch: Vec<u8>,
}

impl<'a> Parser<'a> {
    pub fn new(b: &'a [u8]) -> Parser<'a> {
        let i = if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        Parser {
            b,
            i,
            scratch: Vec::new(),
        }
    }

    #[inline(always)]
    pub fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline(always)]
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// A failure at the cursor: the end of data when there is nothing left.
    #[cold]
    pub fn unexpected<T>(&self, what: &'static str) -> Result<T, Fail> {
        if self.i >= self.b.len() {
            fail(self.b.len(), EOF)
        } else {
            fail(self.i, what)
        }
    }

    /// Skip whitespace, then expect `c`.
    #[inline(always)]
    pub fn expect(&mut self, c: u8, what: &'static str) -> Result<(), Fail> {
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
    pub fn next_item(&mut self, close: u8, what: &'static str) -> Result<bool, Fail> {
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

    pub fn literal(&mut self, word: &'static [u8]) -> Result<(), Fail> {
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
    pub fn string<const COPY: bool>(&mut self) -> Result<Text, Fail> {
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
    pub fn escape<const COPY: bool>(&mut self, i: usize, lone: &mut bool) -> Result<usize, Fail> {
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
    pub fn text(&self, t: Text) -> &[u8] {
        match t {
            Text::Raw(s, e) => self.b.get(s..e).unwrap_or_default(),
            Text::Scratch { .. } => &self.scratch,
        }
    }

    /// The number at the cursor (`-` or a digit).
    #[inline(always)]
    pub fn number(&mut self) -> Result<Num, Fail> {
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
    pub fn digits(b: &[u8], mut i: usize) -> Result<usize, Fail> {
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
    pub fn skip_value(&mut self, depth: usize) -> Result<(), Fail> {
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
    pub fn end(&mut self) -> Result<(), Fail> {
        self.ws();
        if self.i < self.b.len() {
            return fail(self.i, "extra data after the document");
        }
        Ok(())
    }

    /// A string or null (for the head's fields); lossy on a lone surrogate.
    pub fn opt_string(&mut self) -> Result<Option<String>, Fail> {
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
    pub fn members(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub fn string_runs() {
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
