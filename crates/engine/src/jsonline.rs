//! JSON lines parsed lazily: one pass over the line validates it and records where the values
//! of the fields the compiled rules read are; values are decoded only when a rule asks.
//!
//! No `serde_json::Value` is built: a JSON line of 2.5 KB with 60 keys costs one scan (strings
//! are skipped with `memchr`) and a hash lookup per key of the objects that lead to a wanted
//! field. Keyword rules walk the line again for all values, only when they are evaluated.
//!
//! Field resolution is the same as for [`serde_json::Value`] (see [`crate::event`]): flat
//! dotted keys and nested objects, arrays, `#text`.
//!
//! Validation: the structure, strings (escapes, including surrogate pairs), numbers and
//! literals are checked, as is UTF-8. Raw control characters inside strings are accepted.
//! An object with duplicate keys gives the values of all of them (a `Value` keeps the last).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use serde_json::Value;
use smallvec::SmallVec;

use crate::event::{Event, FieldPath, Scalar};
use crate::semantics::Num;

/// Why a line is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {offset}: {message}")]
pub struct JsonError {
    pub offset: usize,
    pub message: &'static str,
}

/// Nesting deeper than this is refused (no stack overflow on hostile input).
const MAX_DEPTH: usize = 512;
/// Paths longer than this are resolved only as fully flat or fully nested in the plan.
const MAX_SPLIT_PARTS: usize = 10;

/// A small fast hasher for short keys (FxHash-like).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
        }
        self.0 = h;
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

#[derive(Debug, Default)]
struct Edge {
    /// Slots whose path ends at this key.
    leaves: SmallVec<[u32; 1]>,
    /// State for the object under this key, when paths continue.
    child: Option<u32>,
}

#[derive(Debug, Default)]
struct State {
    keys: FastMap<Box<str>, Edge>,
}

/// What to extract from JSON lines: a trie over keys of the fields of one engine.
#[derive(Debug)]
pub struct ScanPlan {
    table: u64,
    states: Vec<State>,
}

impl ScanPlan {
    /// A plan for these fields (slot = index; the slot-0 `*` field is not looked up).
    pub fn new(fields: &[FieldPath], table: u64) -> ScanPlan {
        let mut plan = ScanPlan {
            table,
            states: vec![State::default()],
        };
        for f in fields.iter().skip(1) {
            plan.insert(0, f, 0);
        }
        plan
    }

    fn insert(&mut self, state: u32, f: &FieldPath, i: usize) {
        let n = f.len();
        let slot = f.slot().1;
        for j in i + 1..=n {
            if n > MAX_SPLIT_PARTS && j != n && j != i + 1 {
                continue;
            }
            let key: Box<str> = f.join(i, j).into();
            if j == n {
                let e = self.states[state as usize].keys.entry(key).or_default();
                if !e.leaves.contains(&slot) {
                    e.leaves.push(slot);
                }
            } else {
                let child = match self.states[state as usize]
                    .keys
                    .get(&key)
                    .and_then(|e| e.child)
                {
                    Some(c) => c,
                    None => {
                        let c = self.states.len() as u32;
                        self.states.push(State::default());
                        self.states[state as usize]
                            .keys
                            .entry(key)
                            .or_default()
                            .child = Some(c);
                        c
                    }
                };
                self.insert(child, f, j);
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    slot: u32,
    start: u32,
}

/// A reusable lazy JSON-line parser (one per thread); see the module docs.
#[derive(Debug)]
pub struct LineScanner {
    plan: Arc<ScanPlan>,
    hits: Vec<Hit>,
    key: String,
}

/// One parsed line: an [`Event`].
#[derive(Debug)]
pub struct LineEvent<'a> {
    line: &'a str,
    /// The line can be searched as raw text (see [`Event::raw_text`]).
    raw: bool,
    table: u64,
    hits: &'a [Hit],
    /// Full parse, only for lookups of fields not in the plan.
    value: OnceCell<Option<Value>>,
}

impl LineScanner {
    pub fn new(plan: Arc<ScanPlan>) -> LineScanner {
        LineScanner {
            plan,
            hits: Vec::new(),
            key: String::new(),
        }
    }

    /// Validate a line and locate the planned fields. Trailing `\r`/whitespace is fine.
    pub fn scan<'a>(&'a mut self, line: &'a [u8]) -> Result<LineEvent<'a>, JsonError> {
        // SIMD validation first (several times faster on long lines); std's only on failure,
        // for the offset of the bad byte.
        let text = match simdutf8::basic::from_utf8(line) {
            Ok(text) => text,
            Err(_) => std::str::from_utf8(line).map_err(|e| JsonError {
                offset: e.valid_up_to(),
                message: "not UTF-8",
            })?,
        };
        self.hits.clear();
        let mut c = Cursor {
            b: text.as_bytes(),
            i: 0,
            plain: true,
        };
        c.ws();
        if c.peek() != Some(b'{') {
            return Err(c.err("a JSON line must be an object"));
        }
        let mut sc = Scan {
            plan: &self.plan,
            hits: &mut self.hits,
            key: &mut self.key,
        };
        sc.object(&mut c, Some(0), 0)?;
        c.ws();
        if c.i != c.b.len() {
            return Err(c.err("trailing characters after the object"));
        }
        self.hits.sort_by_key(|h| h.slot);
        Ok(LineEvent {
            raw: c.plain && crate::semantics::ascii_folds_from_ascii(text),
            line: text,
            table: self.plan.table,
            hits: &self.hits,
            value: OnceCell::new(),
        })
    }
}

struct Scan<'p> {
    plan: &'p ScanPlan,
    hits: &'p mut Vec<Hit>,
    key: &'p mut String,
}

impl Scan<'_> {
    /// An object at `c` (at `{`); `state` is the plan state for its keys (None: skip).
    fn object(
        &mut self,
        c: &mut Cursor<'_>,
        state: Option<u32>,
        depth: usize,
    ) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(c.err("nested too deeply"));
        }
        c.i += 1;
        c.ws();
        if c.peek() == Some(b'}') {
            c.i += 1;
            return Ok(());
        }
        loop {
            if c.peek() != Some(b'"') {
                return Err(c.err("expected a key"));
            }
            let (ks, ke, esc) = c.string()?;
            c.ws();
            if c.peek() != Some(b':') {
                return Err(c.err("expected ':'"));
            }
            c.i += 1;
            c.ws();
            let edge = match state {
                Some(s) => {
                    let keys = &self.plan.states[s as usize].keys;
                    if esc {
                        self.key.clear();
                        unescape_into(&c.b[ks..ke], self.key).map_err(|m| Cursor::at(ks, m))?;
                        keys.get(self.key.as_str())
                    } else {
                        // Valid UTF-8 as the whole line is, and cut at ASCII quotes.
                        std::str::from_utf8(&c.b[ks..ke])
                            .ok()
                            .and_then(|k| keys.get(k))
                    }
                }
                None => None,
            };
            let start = c.i;
            match edge {
                Some(e) => {
                    self.value(c, e.child, depth + 1)?;
                    for &slot in &e.leaves {
                        self.hits.push(Hit {
                            slot,
                            start: start as u32,
                        });
                    }
                }
                None => self.value(c, None, depth + 1)?,
            }
            c.ws();
            match c.peek() {
                Some(b',') => {
                    c.i += 1;
                    c.ws();
                }
                Some(b'}') => {
                    c.i += 1;
                    return Ok(());
                }
                _ => return Err(c.err("expected ',' or '}'")),
            }
        }
    }

    /// Any value; objects (also inside arrays) are scanned with `state`.
    fn value(
        &mut self,
        c: &mut Cursor<'_>,
        state: Option<u32>,
        depth: usize,
    ) -> Result<(), JsonError> {
        match c.peek() {
            Some(b'{') => self.object(c, state, depth),
            Some(b'[') => {
                if depth > MAX_DEPTH {
                    return Err(c.err("nested too deeply"));
                }
                c.i += 1;
                c.ws();
                if c.peek() == Some(b']') {
                    c.i += 1;
                    return Ok(());
                }
                loop {
                    // Arrays of objects are walked; nested arrays are not (as for Values).
                    let st = if c.peek() == Some(b'{') { state } else { None };
                    self.value(c, st, depth + 1)?;
                    c.ws();
                    match c.peek() {
                        Some(b',') => {
                            c.i += 1;
                            c.ws();
                        }
                        Some(b']') => {
                            c.i += 1;
                            return Ok(());
                        }
                        _ => return Err(c.err("expected ',' or ']'")),
                    }
                }
            }
            _ => c.scalar().map(|_| ()),
        }
    }
}

/// What a scalar token is.
enum Tok {
    Str(usize, usize, bool),
    Num(usize, usize),
    True,
    False,
    Null,
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    /// No `\u` or `\/` escape and only plain integers seen (see [`LineEvent::raw_text`]).
    plain: bool,
}

impl<'a> Cursor<'a> {
    fn at(offset: usize, message: &'static str) -> JsonError {
        JsonError { offset, message }
    }

    fn err(&self, message: &'static str) -> JsonError {
        JsonError {
            offset: self.i,
            message,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// A string at `"`: returns the content range and whether it has escapes.
    #[inline]
    fn string(&mut self) -> Result<(usize, usize, bool), JsonError> {
        let start = self.i + 1;
        let mut i = start;
        let mut esc = false;
        loop {
            let Some(off) = memchr::memchr2(b'"', b'\\', &self.b[i..]) else {
                self.i = self.b.len();
                return Err(self.err("unterminated string"));
            };
            i += off;
            if self.b[i] == b'"' {
                self.i = i + 1;
                return Ok((start, i, esc));
            }
            esc = true;
            match self.b.get(i + 1) {
                Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'/') => {
                    self.plain = false;
                    i += 2;
                }
                Some(b'u') => {
                    self.plain = false;
                    let cp = self.hex_escape(i)?;
                    i += 6;
                    if (0xD800..0xDC00).contains(&cp) {
                        // A high surrogate must be followed by a low one.
                        if self.b.get(i..i + 2) != Some(b"\\u") {
                            return Err(Cursor::at(i, "lone surrogate in \\u escape"));
                        }
                        let lo = self.hex_escape(i)?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(Cursor::at(i, "lone surrogate in \\u escape"));
                        }
                        i += 6;
                    } else if (0xDC00..0xE000).contains(&cp) {
                        return Err(Cursor::at(i, "lone surrogate in \\u escape"));
                    }
                }
                _ => return Err(Cursor::at(i, "bad escape")),
            }
        }
    }

    /// The code unit of a `\uXXXX` escape at `i`.
    fn hex_escape(&self, i: usize) -> Result<u32, JsonError> {
        let hex = self
            .b
            .get(i + 2..i + 6)
            .ok_or_else(|| Cursor::at(i, "bad \\u escape"))?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(Cursor::at(i, "bad \\u escape"));
        }
        Ok(hex4(hex))
    }

    /// A string, number or literal.
    fn scalar(&mut self) -> Result<Tok, JsonError> {
        match self.peek() {
            Some(b'"') => {
                let (s, e, esc) = self.string()?;
                Ok(Tok::Str(s, e, esc))
            }
            Some(b't') => self.literal(b"true", Tok::True),
            Some(b'f') => self.literal(b"false", Tok::False),
            Some(b'n') => self.literal(b"null", Tok::Null),
            Some(b'-' | b'0'..=b'9') => {
                let s = self.i;
                self.number()?;
                Ok(Tok::Num(s, self.i))
            }
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end of line")),
        }
    }

    fn literal(&mut self, word: &[u8], t: Tok) -> Result<Tok, JsonError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(t)
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn digits(&mut self) -> usize {
        let s = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - s
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                // Integers beyond 64 bits become floats and lose their text.
                if self.digits() > 18 {
                    let t = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
                    if t.parse::<i64>().is_err() && t.parse::<u64>().is_err() {
                        self.plain = false;
                    }
                }
            }
            _ => return Err(self.err("bad number")),
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            self.plain = false;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("bad number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("bad number"));
            }
        }
        Ok(())
    }

    /// Skip any value (already validated).
    fn skip(&mut self) -> Result<(), JsonError> {
        let mut sc = Scan {
            plan: &EMPTY_PLAN,
            hits: &mut Vec::new(),
            key: &mut String::new(),
        };
        sc.value(self, None, 0)
    }
}

static EMPTY_PLAN: ScanPlan = ScanPlan {
    table: 0,
    states: Vec::new(),
};

fn hex4(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &c| {
        acc * 16
            + match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'a'..=b'f' => u32::from(c - b'a' + 10),
                _ => u32::from(c - b'A' + 10),
            }
    })
}

/// Decode the content of a string with escapes (already checked for syntax).
fn unescape_into(raw: &[u8], out: &mut String) -> Result<(), &'static str> {
    let mut i = 0;
    while i < raw.len() {
        let Some(off) = memchr::memchr(b'\\', &raw[i..]) else {
            out.push_str(std::str::from_utf8(&raw[i..]).map_err(|_| "not UTF-8")?);
            break;
        };
        out.push_str(std::str::from_utf8(&raw[i..i + off]).map_err(|_| "not UTF-8")?);
        i += off;
        let c = raw.get(i + 1).copied().ok_or("bad escape")?;
        i += 2;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw.get(i..i + 4).ok_or("bad \\u escape")?);
                i += 4;
                if (0xD800..0xDC00).contains(&hi) {
                    if raw.get(i..i + 2) != Some(b"\\u") {
                        return Err("lone surrogate in \\u escape");
                    }
                    let lo = hex4(raw.get(i + 2..i + 6).ok_or("bad \\u escape")?);
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err("lone surrogate in \\u escape");
                    }
                    i += 6;
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        .ok_or("bad \\u escape")?
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err("lone surrogate in \\u escape");
                } else {
                    char::from_u32(hi).ok_or("bad \\u escape")?
                }
            }
            _ => return Err("bad escape"),
        };
        out.push(ch);
    }
    Ok(())
}

impl<'a> LineEvent<'a> {
    /// The line's text.
    pub fn text(&self) -> &'a str {
        self.line
    }

    /// The whole line as a `serde_json::Value` (parsed on first use).
    pub fn value(&self) -> Option<&Value> {
        self.value
            .get_or_init(|| serde_json::from_str(self.line).ok())
            .as_ref()
    }

    fn decode_str(&self, s: usize, e: usize, esc: bool) -> Cow<'a, str> {
        let raw = &self.line[s..e];
        if !esc {
            return Cow::Borrowed(raw);
        }
        let mut out = String::with_capacity(raw.len());
        // Validated during the scan.
        let _ = unescape_into(raw.as_bytes(), &mut out);
        Cow::Owned(out)
    }

    /// Emit the value at `c` as a field value (arrays flattened, `#text` followed).
    fn emit(&self, c: &mut Cursor<'a>, visit: &mut dyn FnMut(Scalar<'_>)) {
        match c.peek() {
            Some(b'[') => {
                c.i += 1;
                c.ws();
                if c.peek() == Some(b']') {
                    c.i += 1;
                    return;
                }
                loop {
                    self.emit(c, visit);
                    c.ws();
                    match c.peek() {
                        Some(b',') => {
                            c.i += 1;
                            c.ws();
                        }
                        _ => {
                            c.i += 1;
                            return;
                        }
                    }
                }
            }
            Some(b'{') => {
                // Find the last `#text` key (as a Value keeps the last duplicate).
                let mut text_at = None;
                c.i += 1;
                c.ws();
                if c.peek() == Some(b'}') {
                    c.i += 1;
                } else {
                    loop {
                        let Ok((ks, ke, esc)) = c.string() else {
                            return;
                        };
                        c.ws();
                        c.i += 1; // ':'
                        c.ws();
                        if self.decode_str(ks, ke, esc) == "#text" {
                            text_at = Some(c.i);
                        }
                        if c.skip().is_err() {
                            return;
                        }
                        c.ws();
                        let sep = c.peek();
                        c.i += 1;
                        if sep != Some(b',') {
                            break;
                        }
                        c.ws();
                    }
                }
                match text_at {
                    Some(at) => {
                        let mut t = Cursor {
                            b: c.b,
                            i: at,
                            plain: true,
                        };
                        self.emit(&mut t, visit);
                    }
                    None => visit(Scalar::Other),
                }
            }
            _ => {
                if let Ok(t) = c.scalar() {
                    self.emit_tok(t, visit);
                }
            }
        }
    }

    fn emit_tok(&self, t: Tok, visit: &mut dyn FnMut(Scalar<'_>)) {
        match t {
            Tok::Str(s, e, esc) => visit(Scalar::Str(self.decode_str(s, e, esc))),
            Tok::Num(s, e) => visit(Scalar::Num(parse_json_number(&self.line[s..e]))),
            Tok::True => visit(Scalar::Bool(true)),
            Tok::False => visit(Scalar::Bool(false)),
            Tok::Null => visit(Scalar::Null),
        }
    }

    /// Every scalar at any depth (keys excluded).
    fn walk(&self, c: &mut Cursor<'a>, visit: &mut dyn FnMut(Scalar<'_>)) {
        match c.peek() {
            Some(open @ (b'[' | b'{')) => {
                let close = if open == b'[' { b']' } else { b'}' };
                c.i += 1;
                c.ws();
                if c.peek() == Some(close) {
                    c.i += 1;
                    return;
                }
                loop {
                    if open == b'{' {
                        if c.string().is_err() {
                            return;
                        }
                        c.ws();
                        c.i += 1;
                        c.ws();
                    }
                    self.walk(c, visit);
                    c.ws();
                    let sep = c.peek();
                    c.i += 1;
                    if sep != Some(b',') {
                        return;
                    }
                    c.ws();
                }
            }
            _ => {
                if let Ok(t) = c.scalar() {
                    self.emit_tok(t, visit);
                }
            }
        }
    }
}

/// A JSON number token as an event number (as serde_json reads it).
fn parse_json_number(s: &str) -> Num {
    if !s.contains(['.', 'e', 'E']) {
        if let Ok(i) = s.parse::<i64>() {
            return Num::Int(i);
        }
        if let Ok(u) = s.parse::<u64>() {
            return Num::UInt(u);
        }
    }
    Num::Float(s.parse::<f64>().unwrap_or(f64::NAN))
}

impl Event for LineEvent<'_> {
    fn lookup(&self, field: &FieldPath, visit: &mut dyn FnMut(Scalar<'_>)) -> bool {
        let (table, slot) = field.slot();
        if table != self.table || table == 0 {
            return match self.value() {
                Some(v) => v.lookup(field, visit),
                None => false,
            };
        }
        let from = self.hits.partition_point(|h| h.slot < slot);
        let hits = &self.hits[from..];
        let mut found = false;
        for h in hits.iter().take_while(|h| h.slot == slot) {
            found = true;
            let mut c = Cursor {
                b: self.line.as_bytes(),
                i: h.start as usize,
                plain: true,
            };
            self.emit(&mut c, visit);
        }
        found
    }

    fn raw_text(&self) -> Option<&str> {
        self.raw.then_some(self.line)
    }

    fn for_each_scalar(&self, visit: &mut dyn FnMut(Scalar<'_>)) {
        let mut c = Cursor {
            b: self.line.as_bytes(),
            i: 0,
            plain: true,
        };
        c.ws();
        self.walk(&mut c, visit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(names: &[&str]) -> Arc<ScanPlan> {
        let mut fields = vec![FieldPath::bound("*", 7, 0)];
        for (i, n) in names.iter().enumerate() {
            fields.push(FieldPath::bound(n, 7, i as u32 + 1));
        }
        Arc::new(ScanPlan::new(&fields, 7))
    }

    fn collect(ev: &dyn Event, f: &FieldPath) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let found = ev.lookup(f, &mut |s| out.push(format!("{s:?}")));
        found.then_some(out)
    }

    #[test]
    fn agrees_with_values() {
        let names = [
            "a", "b.c", "x.y.z", "arr", "objs.k", "E.#text", "E", "u", "n", "esc\"k", "deep.a.b",
        ];
        let p = plan(&names);
        let lines = [
            r##"{"a":"x","b":{"c":1},"x.y":{"z":[1,"2",null]},"arr":[[1],{"#text":"t"},{}]}"##,
            r##"{"objs":[{"k":true},{"k":-1.5e3},7],"E":{"#attributes":{"q":1},"#text":4688}}"##,
            r#" {"u":"\u00e9\ud83d\ude00\n","n":null,"esc\"k":"v","b.c":"flat","b":{"c":"nested"}} "#,
            r##"{"deep":{"a.b":1,"a":{"b":2}},"a":[],"x":{"y":{"z":{}}}}"##,
            r##"{}"##,
        ];
        let mut sc = LineScanner::new(p.clone());
        for line in lines {
            let v: Value = serde_json::from_str(line).unwrap();
            let ev = sc.scan(line.as_bytes()).unwrap();
            for (i, n) in names.iter().enumerate() {
                let bound = FieldPath::bound(n, 7, i as u32 + 1);
                let free = FieldPath::new(n);
                assert_eq!(collect(&ev, &bound), collect(&v, &free), "{line} {n}");
                assert_eq!(
                    collect(&ev, &free),
                    collect(&v, &free),
                    "{line} {n} (fallback)"
                );
            }
            let mut a = Vec::new();
            ev.for_each_scalar(&mut |s| a.push(format!("{s:?}")));
            let mut b = Vec::new();
            v.for_each_scalar(&mut |s| b.push(format!("{s:?}")));
            a.sort();
            b.sort();
            assert_eq!(a, b, "{line}");
        }
    }

    #[test]
    fn invalid_lines_are_errors() {
        let mut sc = LineScanner::new(plan(&["a"]));
        for bad in [
            "",
            "[]",
            "1",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":tru}",
            "{\"a\":01}",
            "{\"a\":\"x}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":1} x",
            "{\"a\":-}",
            "{\"a\":1.}",
            "{\"a\":[1,]}",
            "{a:1}",
        ] {
            assert!(
                sc.scan(bad.as_bytes()).is_err(),
                "{bad:?} should be invalid"
            );
            assert!(
                serde_json::from_str::<Value>(bad).map_or(true, |v| !v.is_object()),
                "{bad:?}"
            );
        }
        assert!(sc.scan(b"{\"a\":\xff}").is_err());
        let deep = "[".repeat(100_000);
        assert!(sc.scan(format!("{{\"a\":{deep}").as_bytes()).is_err());
    }
}
