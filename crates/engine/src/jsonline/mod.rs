//! JSON lines parsed lazily: one pass over the line validates it and records where the values
//! of the fields the compiled rules read are; values are decoded only when a rule asks.
//!
//! No `serde_json::Value` is built: a JSON line of 2.5 KB with 60 keys costs one scan (strings
//! are skipped a word at a time, long ones with `memchr`) and a hash lookup per key of the
//! objects that lead to a wanted field. The scan records where each wanted value is and what
//! it is (a string's range, whether it has escapes), so a lookup decodes it without scanning
//! it again. Keyword rules walk the line again for all values, only when they are evaluated.
//!
//! [`LineScanner::scan`] checks UTF-8 first; [`LineScanner::scan_str`] is for text that is
//! already a `str` (a batch of lines validated as a whole), and checks only the JSON.
//!
//! Field resolution is the same as for [`serde_json::Value`] (see [`crate::event`]): flat
//! dotted keys and nested objects, arrays, `#text`.
//!
//! Validation: the structure, strings (escapes), numbers and literals are checked, as is
//! UTF-8. Raw control characters inside strings are accepted. A `\u` escape of a surrogate
//! that is not part of a pair is read as U+FFFD, as the `evtx` crate renders one: the JSON
//! grammar allows it, and the rest of the event is still worth matching.
//! An object with duplicate keys gives the values of all of them (a `Value` keeps the last).

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
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
        let n = bytes.len();
        let mut i = 0;
        while i + 8 <= n {
            h = (h.rotate_left(5) ^ load_u64(&bytes[i..i + 8])).wrapping_mul(K);
            i += 8;
        }
        if i < n {
            // The last bytes as a zero-padded word, read without a copy loop: an overlapping
            // word (or two half-words, or three bytes) shifted into place.
            let rest = if n >= 8 {
                load_u64(&bytes[n - 8..]) >> (8 * (8 - (n - i)))
            } else {
                short_word(bytes)
            };
            h = (h.rotate_left(5) ^ rest).wrapping_mul(K);
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

/// Little-endian word from exactly 8 bytes.
#[inline]
fn load_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The little-endian value of 1 to 7 bytes (zero-padded), read without a loop: two
/// overlapping half-words, or three single bytes, shifted into place.
#[inline]
fn short_word(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u64::from(load_u32(&b[..4]));
        let hi = u64::from(load_u32(&b[n - 4..]));
        lo | (hi << (8 * (n - 4)))
    } else if n > 0 {
        u64::from(b[0])
            | (u64::from(b[n / 2]) << (8 * (n / 2)))
            | (u64::from(b[n - 1]) << (8 * (n - 1)))
    } else {
        0
    }
}

/// Whether two byte strings are equal, compared a word at a time (keys are short: a call to
/// `memcmp` costs more than the comparison).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return short_word(a) == short_word(b);
    }
    let mut i = 0;
    while i + 8 <= n {
        if load_u64(&a[i..i + 8]) != load_u64(&b[i..i + 8]) {
            return false;
        }
        i += 8;
    }
    i == n || load_u64(&a[n - 8..]) == load_u64(&b[n - 8..])
}

/// Little-endian half-word from exactly 4 bytes.
#[inline]
fn load_u32(b: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u32::from_le_bytes(w)
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

#[derive(Debug, Default)]
struct Edge {
    /// Slots whose path ends at this key.
    leaves: SmallVec<[u32; 1]>,
    /// State for the object under this key, when paths continue.
    child: Option<u32>,
}

/// One key of a [`KeyTable`]. Keys of up to 16 bytes (nearly all) are compared as two
/// zero-padded words and their length, longer ones as text.
#[derive(Debug)]
struct KeyEntry {
    lo: u64,
    hi: u64,
    len: usize,
    key: Box<str>,
    /// Slots whose path ends at this key (a plain slice: no inline/spilled test per key).
    leaves: Box<[u32]>,
    /// State for the object under this key ([`NO_STATE`]: none).
    child: u32,
}

/// Keys of up to this many bytes are hashed and compared as two words.
const SHORT_KEY: usize = 16;

/// The keys of one plan state, looked up for every key of a scanned object: open addressing
/// in a table at most a quarter full, each slot tagged with bits of the key's hash, so a key
/// that is not there (most are not) is usually refused after one probe without comparing
/// text.
#[derive(Debug)]
struct KeyTable {
    /// Per slot: `(tag, entry + 1)`; entry 0 means empty.
    slots: Box<[(u32, u32)]>,
    /// `64 - log2(slots.len())`: the hash's top bits pick the first slot.
    shift: u32,
    entries: Box<[KeyEntry]>,
}

impl KeyTable {
    fn new(keys: FastMap<Box<str>, Edge>) -> KeyTable {
        let entries: Box<[KeyEntry]> = keys
            .into_iter()
            .map(|(key, edge)| {
                let b = key.as_bytes();
                let (lo, hi) = if b.len() <= SHORT_KEY {
                    padded_words(b)
                } else {
                    (0, 0)
                };
                KeyEntry {
                    lo,
                    hi,
                    len: b.len(),
                    leaves: edge.leaves.into_vec().into_boxed_slice(),
                    child: state_of(edge.child),
                    key,
                }
            })
            .collect();
        let size = (entries.len() * 4).next_power_of_two().max(4);
        let mut slots = vec![(0u32, 0u32); size].into_boxed_slice();
        let shift = 64 - size.trailing_zeros();
        for (n, e) in entries.iter().enumerate() {
            let h = key_hash(e.key.as_bytes());
            let mut i = (h >> shift) as usize;
            while slots[i].1 != 0 {
                i = (i + 1) & (size - 1);
            }
            slots[i] = (key_tag(h), n as u32 + 1);
        }
        KeyTable {
            slots,
            shift,
            entries,
        }
    }

    /// The entry for a key given as bytes.
    #[inline]
    fn get(&self, key: &[u8]) -> Option<&KeyEntry> {
        if key.len() <= SHORT_KEY {
            let (lo, hi) = padded_words(key);
            self.get_short(lo, hi, key.len())
        } else {
            self.get_long(key)
        }
    }

    /// The entry for the key at `line[ks..ke]`: a short key is read as one 16-byte load
    /// when the line is long enough (it nearly always is: a `:` and a value follow).
    #[inline(always)]
    fn get_in(&self, line: &[u8], ks: usize, ke: usize) -> Option<&KeyEntry> {
        let n = ke - ks;
        if n <= SHORT_KEY
            && let Some((lo, hi)) = words_at(line, ks, n)
        {
            return self.get_short(lo, hi, n);
        }
        self.get(&line[ks..ke])
    }

    #[inline(always)]
    fn get_short(&self, lo: u64, hi: u64, len: usize) -> Option<&KeyEntry> {
        let h = short_key_hash(lo, hi, len);
        let tag = key_tag(h);
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let (t, entry) = self.slots[i];
            if entry == 0 {
                return None;
            }
            if t == tag {
                let e = &self.entries[entry as usize - 1];
                if e.lo == lo && e.hi == hi && e.len == len {
                    return Some(e);
                }
            }
            i = (i + 1) & mask;
        }
    }

    #[inline(never)]
    fn get_long(&self, key: &[u8]) -> Option<&KeyEntry> {
        let h = key_hash(key);
        let tag = key_tag(h);
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let (t, entry) = self.slots[i];
            if entry == 0 {
                return None;
            }
            if t == tag {
                let e = &self.entries[entry as usize - 1];
                if same_bytes(e.key.as_bytes(), key) {
                    return Some(e);
                }
            }
            i = (i + 1) & mask;
        }
    }
}

/// A key of up to 16 bytes as two little-endian words, zero-padded.
#[inline]
fn padded_words(key: &[u8]) -> (u64, u64) {
    let mut w = [0u8; 16];
    let n = key.len().min(16);
    w[..n].copy_from_slice(&key[..n]);
    (load_u64(&w[..8]), load_u64(&w[8..]))
}

/// [`padded_words`] of the `n <= 16` bytes at `line[ks..]`, read as one 16-byte load and
/// masked to `n` bytes (`None` if fewer than 16 bytes are left in the line).
#[inline(always)]
fn words_at(line: &[u8], ks: usize, n: usize) -> Option<(u64, u64)> {
    let chunk = line.get(ks..ks.checked_add(16)?)?;
    let lo = load_u64(&chunk[..8]);
    let hi = load_u64(&chunk[8..]);
    let mask = |bytes: usize| {
        if bytes >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * bytes)) - 1
        }
    };
    let hi_mask = if n <= 8 { 0 } else { mask(n - 8) };
    Some((lo & mask(n), hi & hi_mask))
}

/// A key's hash for [`KeyTable`]: every byte and the length go in, and a final 128-bit
/// multiply folds them into both the top bits (the slot) and the low ones (the tag). Keys of
/// up to 16 bytes (nearly all) are hashed from their two zero-padded words.
#[inline]
fn key_hash(key: &[u8]) -> u64 {
    let n = key.len();
    if n <= SHORT_KEY {
        let (lo, hi) = padded_words(key);
        return short_key_hash(lo, hi, n);
    }
    let mut h = KeyHasher(0);
    h.write(key);
    fold_hash(h.0 ^ ((n as u64) << 56))
}

#[inline(always)]
fn short_key_hash(lo: u64, hi: u64, n: usize) -> u64 {
    fold_hash(lo ^ hi.rotate_left(29) ^ ((n as u64) << 56))
}

#[inline(always)]
fn fold_hash(mixed: u64) -> u64 {
    let p = u128::from(mixed) * 0x9e37_79b9_7f4a_7c15;
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn key_tag(h: u64) -> u32 {
    h as u32
}

#[derive(Debug)]
struct State {
    keys: KeyTable,
}

/// What to extract from JSON lines: a trie over keys of the fields of one engine.
#[derive(Debug)]
pub struct ScanPlan {
    table: u64,
    states: Vec<State>,
    /// One more than the highest slot.
    slots: usize,
}

impl ScanPlan {
    /// A plan for these fields (slot = index; the slot-0 `*` field is not looked up).
    pub fn new(fields: &[FieldPath], table: u64) -> ScanPlan {
        let mut build = PlanBuilder {
            states: vec![FastMap::default()],
        };
        let mut slots = 0;
        for f in fields.iter().skip(1) {
            slots = slots.max(f.slot().1 as usize + 1);
            build.insert(0, f, 0);
        }
        ScanPlan {
            table,
            states: build
                .states
                .into_iter()
                .map(|keys| State {
                    keys: KeyTable::new(keys),
                })
                .collect(),
            slots,
        }
    }
}

/// The plan's states while fields are added.
struct PlanBuilder {
    states: Vec<FastMap<Box<str>, Edge>>,
}

impl PlanBuilder {
    fn insert(&mut self, state: u32, f: &FieldPath, i: usize) {
        let n = f.len();
        let slot = f.slot().1;
        for j in i + 1..=n {
            if n > MAX_SPLIT_PARTS && j != n && j != i + 1 {
                continue;
            }
            let key: Box<str> = f.join(i, j).into();
            if j == n {
                let e = self.states[state as usize].entry(key).or_default();
                if !e.leaves.contains(&slot) {
                    e.leaves.push(slot);
                }
            } else {
                let child = match self.states[state as usize].get(&key).and_then(|e| e.child) {
                    Some(c) => c,
                    None => {
                        let c = self.states.len() as u32;
                        self.states.push(FastMap::default());
                        self.states[state as usize].entry(key).or_default().child = Some(c);
                        c
                    }
                };
                self.insert(child, f, j);
            }
        }
    }
}

/// Where a planned field's value is, found during the scan.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// A string's content (after the opening quote), a number's or literal's first byte, an
    /// array's `[` or an object's `{`.
    start: u32,
    /// End of a string's content or of a number (other kinds: unused).
    end: u32,
    /// The next hit of the same field, in document order ([`NO_HIT`]: none).
    next: u32,
    kind: HitKind,
}

const NO_HIT: u32 = u32::MAX;

/// The hits of one field in the line last scanned: valid when `epoch` is the scan's.
#[derive(Debug, Clone, Copy, Default)]
struct Head {
    epoch: u32,
    first: u32,
    last: u32,
}

/// What a [`Hit`] is: scalars are decoded from their recorded range without scanning them
/// again; arrays and objects are walked from their start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HitKind {
    Str,
    /// A string with backslash escapes.
    EscStr,
    Num,
    True,
    False,
    Null,
    Composite,
}

impl HitKind {
    /// The kind and range of a scalar token read at `start`.
    fn of(tok: &Tok, start: usize) -> (HitKind, usize, usize) {
        match *tok {
            Tok::Str(s, e, false) => (HitKind::Str, s, e),
            Tok::Str(s, e, true) => (HitKind::EscStr, s, e),
            Tok::Num(s, e) => (HitKind::Num, s, e),
            Tok::True => (HitKind::True, start, start),
            Tok::False => (HitKind::False, start, start),
            Tok::Null => (HitKind::Null, start, start),
        }
    }
}

/// A reusable lazy JSON-line parser (one per thread); see the module docs.
#[derive(Debug)]
pub struct LineScanner {
    plan: Arc<ScanPlan>,
    hits: Vec<Hit>,
    /// Per field slot, its hits in the current line (a table indexed by slot, so a lookup
    /// costs the same however many fields the line has).
    heads: Vec<Head>,
    epoch: u32,
    key: Vec<u8>,
    stack: Vec<Frame>,
    decoded: RefCell<Vec<u8>>,
}

/// One parsed line: an [`Event`].
#[derive(Debug)]
pub struct LineEvent<'a> {
    line: &'a str,
    /// No `\u` or `\/` escape and only plain integers: the line can be searched as raw text
    /// (see [`Event::raw_text`]) if it also has no character that folds to ASCII (checked on
    /// first use).
    plain: bool,
    raw: OnceCell<bool>,
    table: u64,
    hits: &'a [Hit],
    heads: &'a [Head],
    epoch: u32,
    /// Where escaped strings are decoded for a lookup (the scanner's, reused line after line).
    decoded: &'a RefCell<Vec<u8>>,
    /// Full parse, only for lookups of fields not in the plan.
    value: OnceCell<Option<Value>>,
}

/// Checks that `text` is one JSON object as the scanner reads it, that is, an event `hunt`
/// accepts, without locating any field (for `dump`, so that it writes and refuses exactly the
/// lines `hunt` does).
pub fn check(text: &str) -> Result<(), JsonError> {
    thread_local! {
        static CHECKER: RefCell<LineScanner> =
            RefCell::new(LineScanner::new(Arc::new(ScanPlan::new(&[], 0))));
    }
    CHECKER.with(|checker| match checker.try_borrow_mut() {
        Ok(mut checker) => checker.scan_str(text).map(|_| ()),
        // Only if a check ever ran inside another on this thread.
        Err(_) => LineScanner::new(Arc::new(ScanPlan::new(&[], 0)))
            .scan_str(text)
            .map(|_| ()),
    })
}

impl LineScanner {
    pub fn new(plan: Arc<ScanPlan>) -> LineScanner {
        LineScanner {
            heads: vec![Head::default(); plan.slots],
            plan,
            hits: Vec::new(),
            epoch: 0,
            key: Vec::new(),
            stack: Vec::new(),
            decoded: RefCell::new(Vec::new()),
        }
    }

    /// Validate a line (UTF-8 and JSON) and locate the planned fields. Trailing
    /// `\r`/whitespace is fine.
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
        self.scan_str(text)
    }

    /// [`LineScanner::scan`] for text already known to be UTF-8 (a batch validated as a
    /// whole): only the JSON is checked.
    pub fn scan_str<'a>(&'a mut self, text: &'a str) -> Result<LineEvent<'a>, JsonError> {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.heads.fill(Head::default());
            self.epoch = 1;
        }
        self.hits.clear();
        let mut c = Cursor::new(text, 0);
        c.ws();
        if c.peek() != Some(b'{') {
            return Err(c.err(match c.peek() {
                Some(b'[') => "a JSON line must be an object, not an array",
                Some(b'"') => "a JSON line must be an object, not a string",
                Some(b't' | b'f') => "a JSON line must be an object, not a boolean",
                Some(b'n') => "a JSON line must be an object, not null",
                Some(b'-' | b'0'..=b'9') => "a JSON line must be an object, not a number",
                _ => "a JSON line must be an object",
            }));
        }
        let mut sc = Scan {
            plan: &self.plan,
            hits: &mut self.hits,
            heads: &mut self.heads,
            epoch: self.epoch,
            key: &mut self.key,
            stack: &mut self.stack,
        };
        sc.value(&mut c, Some(0))?;
        c.ws();
        if c.i != c.b.len() {
            return Err(c.err("trailing characters after the object"));
        }
        Ok(LineEvent {
            plain: c.plain,
            raw: OnceCell::new(),
            line: text,
            table: self.plan.table,
            hits: &self.hits,
            heads: &self.heads,
            epoch: self.epoch,
            decoded: &self.decoded,
            value: OnceCell::new(),
        })
    }
}

/// An array or object being scanned.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// Plan state for the keys of this object, or for the objects that are elements of this
    /// array ([`NO_STATE`]: not looked up).
    state: u32,
    array: bool,
}

const NO_STATE: u32 = u32::MAX;

fn state_of(s: Option<u32>) -> u32 {
    s.unwrap_or(NO_STATE)
}

fn state_at(s: u32) -> Option<u32> {
    (s != NO_STATE).then_some(s)
}

struct Scan<'p, 's> {
    plan: &'p ScanPlan,
    hits: &'s mut Vec<Hit>,
    heads: &'s mut [Head],
    epoch: u32,
    key: &'s mut Vec<u8>,
    stack: &'s mut Vec<Frame>,
}

impl<'p> Scan<'p, '_> {
    /// Validate the value at `c` (blanks skipped) and everything in it, one loop with an
    /// explicit stack (no recursion, so no stack overflow on deep input and little per-value
    /// overhead). `state` is the plan state for the keys if the value is an object.
    fn value(&mut self, c: &mut Cursor<'_>, state: Option<u32>) -> Result<(), JsonError> {
        // A copy whose address is never taken, so that the position stays in a register.
        let mut local = Cursor {
            s: c.s,
            b: c.b,
            i: c.i,
            plain: c.plain,
        };
        let r = self.value_in(&mut local, state);
        c.i = local.i;
        c.plain = local.plain;
        r
    }

    #[inline(always)]
    fn value_in(&mut self, c: &mut Cursor<'_>, state: Option<u32>) -> Result<(), JsonError> {
        let plan = self.plan;
        self.stack.clear();
        // The value about to be read: the state for its keys if it is an object, and the
        // fields (slots) it is the value of.
        let mut want = state_of(state);
        let mut leaves: &'p [u32] = &[];
        loop {
            let start = c.i;
            match c.peek() {
                Some(open @ (b'{' | b'[')) => {
                    self.record(leaves, HitKind::Composite, start, start);
                    if self.stack.len() > MAX_DEPTH {
                        return Err(c.err("nested too deeply"));
                    }
                    let array = open == b'[';
                    c.i += 1;
                    c.ws();
                    if c.peek() == Some(if array { b']' } else { b'}' }) {
                        c.i += 1;
                    } else {
                        self.stack.push(Frame { state: want, array });
                        (want, leaves) = if array {
                            // Arrays of objects are walked; nested arrays are not (as for
                            // Values).
                            (Self::element_state(c, want), &[][..])
                        } else {
                            self.key(c, plan, want)?
                        };
                        continue;
                    }
                }
                Some(b' ' | b'\t' | b'\n' | b'\r') => {
                    // Blanks are skipped where they are found rather than looked for before
                    // every token (compact JSON has none): the same positions, errors and
                    // offsets.
                    c.ws();
                    continue;
                }
                _ => {
                    let tok = c.scalar()?;
                    if !leaves.is_empty() {
                        let (kind, s, e) = HitKind::of(&tok, start);
                        self.record(leaves, kind, s, e);
                    }
                }
            }
            // After a value: close what ends here, up to the next value.
            loop {
                let Some(&top) = self.stack.last() else {
                    return Ok(());
                };
                match (c.peek(), top.array) {
                    (Some(b','), true) => {
                        c.i += 1;
                        c.ws();
                        want = Self::element_state(c, top.state);
                        leaves = &[];
                        break;
                    }
                    (Some(b','), false) => {
                        c.i += 1;
                        (want, leaves) = self.key(c, plan, top.state)?;
                        break;
                    }
                    (Some(b']'), true) | (Some(b'}'), false) => {
                        c.i += 1;
                        self.stack.pop();
                    }
                    (Some(b' ' | b'\t' | b'\n' | b'\r'), _) => c.ws(),
                    (_, true) => return Err(c.err("expected ',' or ']'")),
                    (_, false) => return Err(c.err("expected ',' or '}'")),
                }
            }
        }
    }

    /// The state an array element at `c` is scanned with: the array's for an object.
    #[inline]
    fn element_state(c: &Cursor<'_>, array_state: u32) -> u32 {
        if c.peek() == Some(b'{') {
            array_state
        } else {
            NO_STATE
        }
    }

    /// A key and its `:`, blanks before either skipped; returns the state and the slots for
    /// its value (whose blanks the caller skips).
    #[inline(always)]
    fn key(
        &mut self,
        c: &mut Cursor<'_>,
        plan: &'p ScanPlan,
        state: u32,
    ) -> Result<(u32, &'p [u32]), JsonError> {
        // The expected byte is tested first: blanks only when it is not there.
        if c.peek() != Some(b'"') {
            c.ws();
            if c.peek() != Some(b'"') {
                return Err(c.err("expected a key"));
            }
        }
        let (ks, ke, esc) = c.string()?;
        if c.peek() != Some(b':') {
            c.ws();
            if c.peek() != Some(b':') {
                return Err(c.err("expected ':'"));
            }
        }
        c.i += 1;
        let Some(st) = state_at(state).and_then(|s| plan.states.get(s as usize)) else {
            return Ok((NO_STATE, &[]));
        };
        let edge = if esc {
            // Keys are compared as bytes: decoded, not checked as text again.
            self.key.clear();
            unescape_bytes(&c.b[ks..ke], self.key).map_err(|m| Cursor::at(ks, m))?;
            st.keys.get(self.key)
        } else {
            st.keys.get_in(c.b, ks, ke)
        };
        Ok(match edge {
            Some(e) => (e.child, &e.leaves),
            None => (NO_STATE, &[]),
        })
    }

    /// A value found for each of `slots`.
    #[inline]
    fn record(&mut self, slots: &[u32], kind: HitKind, start: usize, end: usize) {
        for &slot in slots {
            let Some(head) = self.heads.get_mut(slot as usize) else {
                continue;
            };
            let at = self.hits.len() as u32;
            self.hits.push(Hit {
                start: start as u32,
                end: end as u32,
                next: NO_HIT,
                kind,
            });
            if head.epoch == self.epoch {
                if let Some(prev) = self.hits.get_mut(head.last as usize) {
                    prev.next = at;
                }
                head.last = at;
            } else {
                *head = Head {
                    epoch: self.epoch,
                    first: at,
                    last: at,
                };
            }
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
    /// The line, and the same as bytes.
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// No `\u` or `\/` escape and only plain integers seen (see [`LineEvent::raw_text`]).
    plain: bool,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str, i: usize) -> Cursor<'a> {
        Cursor {
            s,
            b: s.as_bytes(),
            i,
            plain: true,
        }
    }

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
    ///
    /// Most strings have no escape: that case is inlined where strings are read; the rest of
    /// a string with escapes is read out of line.
    #[inline(always)]
    fn string(&mut self) -> Result<(usize, usize, bool), JsonError> {
        let start = self.i + 1;
        match find_quote_or_backslash(self.b, start) {
            Some(at) if self.b[at] == b'"' => {
                self.i = at + 1;
                Ok((start, at, false))
            }
            first => {
                let (next, end, esc, plain) = Cursor::escaped_string(self.b, first)?;
                self.i = next;
                self.plain &= plain;
                Ok((start, end, esc))
            }
        }
    }

    /// The rest of a string whose first quote or backslash is at `first` (`None`: nowhere).
    /// Returns the position after the closing quote, the end of the content, whether there
    /// are escapes and whether the string is still plain (no `\u` or `\/`). A function of
    /// the bytes, not of a cursor, so that the scan's cursor stays in registers.
    #[inline(never)]
    fn escaped_string(
        b: &[u8],
        first: Option<usize>,
    ) -> Result<(usize, usize, bool, bool), JsonError> {
        let mut next = first;
        let mut esc = false;
        let mut plain = true;
        loop {
            let Some(at) = next else {
                return Err(Cursor::at(b.len(), "unterminated string"));
            };
            let mut i = at;
            if b[i] == b'"' {
                return Ok((i + 1, i, esc, plain));
            }
            esc = true;
            match b.get(i + 1) {
                Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'/') => {
                    plain = false;
                    i += 2;
                }
                Some(b'u') => {
                    plain = false;
                    Cursor::hex_escape(b, i)?;
                    // A surrogate, paired or not, is decoded later ([`unescape_bytes`]).
                    i += 6;
                }
                _ => return Err(Cursor::at(i, "bad escape")),
            }
            next = find_quote_or_backslash(b, i);
        }
    }

    /// The code unit of a `\uXXXX` escape at `i`.
    fn hex_escape(b: &[u8], i: usize) -> Result<u32, JsonError> {
        let hex = b
            .get(i + 2..i + 6)
            .ok_or_else(|| Cursor::at(i, "bad \\u escape"))?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(Cursor::at(i, "bad \\u escape"));
        }
        Ok(hex4(hex))
    }

    /// A string, number or literal.
    #[inline(always)]
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
                self.i = self.number(s)?;
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

    /// The end of the number at `s`. Non-negative integers (nearly all numbers in logs) are
    /// read inline; the rest by [`Cursor::number_slow`].
    #[inline(always)]
    fn number(&mut self, s: usize) -> Result<usize, JsonError> {
        let b = self.b;
        match b.get(s) {
            Some(b'0') if !matches!(b.get(s + 1), Some(b'.' | b'e' | b'E')) => return Ok(s + 1),
            Some(b'1'..=b'9') => {
                let mut j = s + 1;
                while let Some(b'0'..=b'9') = b.get(j) {
                    j += 1;
                }
                if !matches!(b.get(j), Some(b'.' | b'e' | b'E')) {
                    if j - s > 18 && !int_fits_64(false, &b[s..j]) {
                        self.plain = false;
                    }
                    return Ok(j);
                }
            }
            _ => {}
        }
        let mut c = Cursor {
            s: "",
            b,
            i: s,
            plain: true,
        };
        c.number_slow()?;
        self.plain &= c.plain;
        Ok(c.i)
    }

    /// Any number (see [`Cursor::number`]), on a cursor of its own.
    #[inline(never)]
    fn number_slow(&mut self) -> Result<(), JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                // Integers beyond 64 bits become floats and lose their text.
                let from = self.i;
                if self.digits() > 18 && !int_fits_64(start != from, &self.b[from..self.i]) {
                    self.plain = false;
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

    /// After an element or member of a container already validated: steps over the blanks
    /// and the `,` (and the blanks after it) or the closing bracket; whether it was a `,`.
    #[inline]
    fn next_item(&mut self) -> bool {
        self.ws();
        let sep = self.peek();
        self.i += 1;
        if sep != Some(b',') {
            return false;
        }
        self.ws();
        true
    }

    /// Skip any value (already validated).
    fn skip(&mut self) -> Result<(), JsonError> {
        let mut sc = Scan {
            plan: &EMPTY_PLAN,
            hits: &mut Vec::new(),
            heads: &mut [],
            epoch: 0,
            key: &mut Vec::new(),
            stack: &mut Vec::new(),
        };
        sc.value(self, None)
    }
}

/// Whether an integer (its digits, without leading zeros, and its sign) is an `i64` or a
/// `u64`, i.e. keeps its text as a JSON number (larger ones become floats).
fn int_fits_64(negative: bool, digits: &[u8]) -> bool {
    // Digit strings of the same length compare as their numbers do.
    let (max, max_len): (&[u8], usize) = if negative {
        (b"9223372036854775808", 19)
    } else {
        (b"18446744073709551615", 20)
    };
    digits.len() < max_len || (digits.len() == max_len && digits <= max)
}

/// The first `"` or `\\` at or after `from`.
#[inline]
fn find_quote_or_backslash(b: &[u8], from: usize) -> Option<usize> {
    find_either(b, from, b'"', b'\\')
}

/// The first byte equal to `x` or `y` at or after `from`.
#[inline]
fn find_either(b: &[u8], from: usize, x: u8, y: u8) -> Option<usize> {
    find_in::<true>(b, from, x, y)
}

/// The first byte equal to `x` at or after `from`.
#[inline]
fn find_byte(b: &[u8], from: usize, x: u8) -> Option<usize> {
    find_in::<false>(b, from, x, x)
}

/// The first byte equal to `x` (or to `y` if `TWO`) at or after `from`. Most runs before one
/// are short (keys, short values, path parts between escaped backslashes): the first 64 bytes
/// are looked at 16 at a time (written so that the compiler makes it two SIMD compares), the
/// rest of a long string with `memchr`.
#[inline(always)]
fn find_in<const TWO: bool>(b: &[u8], from: usize, x: u8, y: u8) -> Option<usize> {
    let mut i = from;
    let short_end = from.saturating_add(64).min(b.len());
    while i + 16 <= short_end {
        let chunk: &[u8; 16] = b[i..i + 16].try_into().expect("16 bytes");
        // 0xff for each byte that matches, 0 for the others: the lowest set bit's byte is
        // the first match. (A plain loop, not `array::map`, which is not always inlined.)
        let mut hits = [0u8; 16];
        for (h, &c) in hits.iter_mut().zip(chunk) {
            let hit = if TWO {
                u8::from(c == x) | u8::from(c == y)
            } else {
                u8::from(c == x)
            };
            *h = hit.wrapping_neg();
        }
        let flags = u128::from_le_bytes(hits);
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 16;
    }
    let rest = b.get(i..)?;
    let found = if TWO {
        memchr::memchr2(x, y, rest)
    } else {
        memchr::memchr(x, rest)
    };
    found.map(|off| i + off)
}

static EMPTY_PLAN: ScanPlan = ScanPlan {
    table: 0,
    states: Vec::new(),
    slots: 0,
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

/// Decode the content of a string with escapes (already checked for syntax) into a string of
/// its own.
fn unescape_string(text: &str) -> Result<String, &'static str> {
    let mut bytes = Vec::with_capacity(text.len());
    unescape_bytes(text.as_bytes(), &mut bytes)?;
    String::from_utf8(bytes).map_err(|_| "bad \\u escape")
}

/// Decode the content of a string with escapes into bytes (UTF-8 when the string is: the
/// pieces between escapes are cut at ASCII backslashes, escapes give whole characters).
fn unescape_bytes(raw: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    out.reserve(raw.len() + 16);
    let mut i = 0;
    loop {
        let Some(at) = find_byte(raw, i, b'\\') else {
            out.extend_from_slice(&raw[i..]);
            return Ok(());
        };
        copy_run(raw, i, at, out);
        let c = raw.get(at + 1).copied().ok_or("bad escape")?;
        i = at + 2;
        let b = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let hi = hex4(raw.get(i..i + 4).ok_or("bad \\u escape")?);
                i += 4;
                // A high surrogate followed by the escape of a low one is a pair; any other
                // surrogate stands alone and becomes U+FFFD (what follows it is read on its
                // own).
                let low = (0xD800..0xDC00)
                    .contains(&hi)
                    .then(|| low_surrogate_at(raw, i))
                    .flatten();
                let ch = match low {
                    Some(lo) => {
                        i += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            .ok_or("bad \\u escape")?
                    }
                    None => char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER),
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => return Err("bad escape"),
        };
        out.push(b);
    }
}

/// The low surrogate whose `\\uXXXX` escape is at `raw[i..]`, if there is one.
fn low_surrogate_at(raw: &[u8], i: usize) -> Option<u32> {
    let hex = raw.get(i..i + 6)?.strip_prefix(b"\\u")?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    Some(hex4(hex)).filter(|lo| (0xDC00..0xE000).contains(lo))
}

/// Append `raw[from..to]`: a short run (most runs between escapes are) as one fixed 16-byte
/// copy cut back to size, rather than a call to `memcpy`.
#[inline(always)]
fn copy_run(raw: &[u8], from: usize, to: usize, out: &mut Vec<u8>) {
    match raw.get(from..from + 16) {
        Some(chunk) if to - from <= 16 => {
            let len = out.len();
            let chunk: &[u8; 16] = chunk.try_into().expect("16 bytes");
            out.extend_from_slice(chunk);
            out.truncate(len + (to - from));
        }
        _ => out.extend_from_slice(&raw[from..to]),
    }
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
        // Validated during the scan.
        Cow::Owned(unescape_string(raw).unwrap_or_default())
    }

    /// Visit the string at `s..e` (content, without quotes), decoded into the scanner's
    /// buffer when it has escapes (a fresh `String` if a visit is already using it).
    fn visit_str(&self, s: usize, e: usize, esc: bool, visit: &mut dyn FnMut(Scalar<'_>)) {
        let raw = &self.line[s..e];
        if !esc {
            return visit(Scalar::Str(Cow::Borrowed(raw)));
        }
        match self.decoded.try_borrow_mut() {
            Ok(mut out) => {
                out.clear();
                // Validated during the scan (escapes and UTF-8).
                if unescape_bytes(raw.as_bytes(), &mut out).is_ok()
                    && let Ok(text) = std::str::from_utf8(&out)
                {
                    visit(Scalar::Str(Cow::Borrowed(text)));
                }
            }
            Err(_) => visit(Scalar::Str(self.decode_str(s, e, esc))),
        }
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
                    if !c.next_item() {
                        return;
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
                        if !c.next_item() {
                            break;
                        }
                    }
                }
                match text_at {
                    Some(at) => {
                        let mut t = Cursor::new(c.s, at);
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
            Tok::Str(s, e, esc) => self.visit_str(s, e, esc, visit),
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
                    if !c.next_item() {
                        return;
                    }
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
        let Some(head) = self.heads.get(slot as usize) else {
            return false;
        };
        if head.epoch != self.epoch {
            return false;
        }
        let mut next = head.first;
        while let Some(h) = self.hits.get(next as usize) {
            next = h.next;
            let (s, e) = (h.start as usize, h.end as usize);
            match h.kind {
                HitKind::Str => visit(Scalar::Str(Cow::Borrowed(&self.line[s..e]))),
                HitKind::EscStr => self.visit_str(s, e, true, visit),
                HitKind::Num => visit(Scalar::Num(parse_json_number(&self.line[s..e]))),
                HitKind::True => visit(Scalar::Bool(true)),
                HitKind::False => visit(Scalar::Bool(false)),
                HitKind::Null => visit(Scalar::Null),
                HitKind::Composite => self.emit(&mut Cursor::new(self.line, s), visit),
            }
        }
        true
    }

    fn raw_text(&self) -> Option<&str> {
        let raw = *self
            .raw
            .get_or_init(|| self.plain && crate::semantics::ascii_folds_from_ascii(self.line));
        raw.then_some(self.line)
    }

    fn for_each_scalar(&self, visit: &mut dyn FnMut(Scalar<'_>)) {
        let mut c = Cursor::new(self.line, 0);
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
            "{\"a\":\"\\ud80x\"}",
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

    fn values(ev: &LineEvent<'_>, names: &[&str], i: usize) -> Option<Vec<String>> {
        let f = FieldPath::bound(names[i], 7, i as u32 + 1);
        collect(ev, &f)
    }

    #[test]
    fn escapes_in_keys_and_values_are_decoded() {
        let names = ["Image", "CommandLine", "k\"q", "E", "n"];
        let mut sc = LineScanner::new(plan(&names));
        // Escaped backslashes of a path, `\u` escapes (a surrogate pair among them) in a value
        // and in keys, an escaped quote in a key, and the same value written plainly.
        let line = concat!(
            r#"{"Ima\u0067e":"C:\\Windows\\System32\\\u0063md.exe","#,
            r#""CommandLine":"\ud83d\ude00 caf\u00e9 \"q\" \/ \t","#,
            r#""k\"q":"v","E":{"#,
            r##""#text":"\\\\server\\share"},"n":"plain"}"##
        );
        let ev = sc.scan_str(line).unwrap();
        let want = |s: &str| Some(vec![format!("{:?}", Scalar::Str(s.into()))]);
        assert_eq!(values(&ev, &names, 0), want(r"C:\Windows\System32\cmd.exe"));
        assert_eq!(
            values(&ev, &names, 1),
            want("\u{1f600} caf\u{e9} \"q\" / \t")
        );
        assert_eq!(values(&ev, &names, 2), want("v"));
        assert_eq!(values(&ev, &names, 3), want(r"\\server\share"));
        assert_eq!(values(&ev, &names, 4), want("plain"));
        // `\u` and `\/` escapes: the raw line is not the values' text.
        assert_eq!(ev.raw_text(), None);
        let plain = r#"{"Image":"C:\\x\\y.exe","n":12}"#;
        assert_eq!(sc.scan_str(plain).unwrap().raw_text(), Some(plain));
        // Beyond ASCII is fine, except characters that fold to ASCII (İ, Kelvin sign).
        let accented = r#"{"n":"é"}"#;
        assert_eq!(sc.scan_str(accented).unwrap().raw_text(), Some(accented));
        assert_eq!(
            sc.scan_str("{\"n\":\"\u{212A}\"}").unwrap().raw_text(),
            None
        );
        assert_eq!(sc.scan_str(r#"{"n":1.5}"#).unwrap().raw_text(), None);

        // A pair cut short or a low surrogate alone is U+FFFD, and what follows it is read on
        // its own (serde refuses these lines; the evtx crate writes U+FFFD for them).
        let names5 = ["n", "\u{fffd}"];
        let mut sc5 = LineScanner::new(plan(&names5));
        for (lone, want_n) in [
            (r#"{"n":"ab\ud83d"}"#, "ab\u{fffd}"),
            (r#"{"n":"ab\ud83dx\ude00"}"#, "ab\u{fffd}x\u{fffd}"),
            (r#"{"n":"\ud83d\u0041"}"#, "\u{fffd}A"),
            (r#"{"n":"\ud83d\ud83d\ude00"}"#, "\u{fffd}\u{1f600}"),
            (r#"{"n":"\ude00"}"#, "\u{fffd}"),
        ] {
            let ev = sc5.scan_str(lone).unwrap();
            assert_eq!(values(&ev, &names5, 0), want(want_n), "{lone}");
        }
        let ev = sc5.scan_str(r#"{"\ude00":1}"#).unwrap();
        assert_eq!(
            values(&ev, &names5, 1),
            Some(vec!["Num(Int(1))".to_owned()])
        );
        // A bad hex digit or a cut escape: errors at the escape.
        for (bad, at) in [
            (r#"{"n":"\ud83d\u00g0"}"#, 12),
            (r#"{"n":"\u00g0"}"#, 6),
            (r#"{"n":"\u00"}"#, 6),
        ] {
            let err = sc.scan_str(bad).unwrap_err();
            assert_eq!(err.offset, at, "{bad}: {err}");
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unescaping_agrees_with_serde_at_every_run_length() {
        // Runs of every length between escapes (the short-run copy writes 16 bytes and cuts
        // back), escapes at the very start and end, a multi-byte character next to them.
        let mut sc = LineScanner::new(plan(&["a"]));
        for run in 0..40 {
            for esc in [r"\\", r"\n", r#"\""#, r"\u00e9", r"\ud83d\ude00", r"\/"] {
                let piece = "x".repeat(run);
                for body in [
                    format!("{esc}{piece}{esc}"),
                    format!("{piece}{esc}é{piece}"),
                    format!("{esc}{esc}{piece}"),
                ] {
                    let line = format!(r#"{{"a":"{body}"}}"#);
                    let v: Value = serde_json::from_str(&line).unwrap();
                    let ev = sc.scan_str(&line).unwrap();
                    let want = Some(vec![format!(
                        "{:?}",
                        Scalar::Str(v["a"].as_str().unwrap().into())
                    )]);
                    assert_eq!(values(&ev, &["a"], 0), want, "{line}");
                }
            }
        }
    }

    #[test]
    fn scan_str_is_scan_without_the_utf8_check() {
        let names = ["a", "b.c", "d"];
        let p = plan(&names);
        let (mut x, mut y) = (LineScanner::new(p.clone()), LineScanner::new(p));
        for line in [
            r##"{"a":"x\\y","b":{"c":[1,{"#text":"t"}]},"d":null}"##,
            r#"{"a":"\u00e9","d":[true,false]}"#,
            r#"{"a":1,}"#,
            r#"{"a":"é"} x"#,
        ] {
            match (x.scan(line.as_bytes()), y.scan_str(line)) {
                (Ok(a), Ok(b)) => {
                    for i in 0..names.len() {
                        assert_eq!(values(&a, &names, i), values(&b, &names, i), "{line}");
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{line}: {:?} {:?}", a.err(), b.err()),
            }
        }
        let err = x.scan(b"{\"a\":\"ok\xff\"}").unwrap_err();
        assert_eq!((err.offset, err.message), (8, "not UTF-8"));
    }

    #[test]
    fn many_lines_on_one_scanner_keep_their_own_fields() {
        // Field hits are kept per line by a generation number: a field seen in one line is
        // absent from the next, also when the number wraps around.
        let names = ["a", "b"];
        let mut sc = LineScanner::new(plan(&names));
        sc.epoch = u32::MAX - 2;
        for i in 0..6 {
            let line = if i % 2 == 0 {
                format!(r#"{{"a":{i},"a":"x"}}"#)
            } else {
                format!(r#"{{"b":{i}}}"#)
            };
            let ev = sc.scan_str(&line).unwrap();
            let a = values(&ev, &names, 0);
            let b = values(&ev, &names, 1);
            if i % 2 == 0 {
                let n = format!("{:?}", Scalar::Num(Num::Int(i)));
                let x = format!("{:?}", Scalar::Str("x".into()));
                assert_eq!(a, Some(vec![n, x]), "{line}");
                assert_eq!(b, None, "{line}");
            } else {
                assert_eq!(a, None, "{line}");
                assert!(b.is_some(), "{line}");
            }
        }
        assert!(sc.epoch < 10);
    }

    #[test]
    fn quote_or_backslash_is_found_at_every_position() {
        // Bytes that trip the word-at-a-time test (0x01 borrows, high bits, the two targets
        // next to each other) at every alignment.
        let filler = [b'a', 0x01, 0x80, 0xff, b'!', b']', 0x21, 0x5d, 0x23];
        for len in 0..70 {
            for at in 0..=len {
                for target in [b'"', b'\\'] {
                    for fill in filler {
                        let mut b = vec![fill; len];
                        if at < len {
                            b[at] = target;
                        }
                        for from in [0, 1, 3, 8].into_iter().filter(|&f| f <= len) {
                            let want = b[from..]
                                .iter()
                                .position(|&c| c == b'"' || c == b'\\')
                                .map(|p| p + from);
                            assert_eq!(
                                find_quote_or_backslash(&b, from),
                                want,
                                "len {len} at {at} from {from} fill {fill:#x}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn key_hash_reads_every_byte_of_short_and_long_keys() {
        // The tail of a key is read with overlapping loads: the hash must be that of the
        // zero-padded words, i.e. depend on each byte and on nothing else.
        fn reference(bytes: &[u8]) -> u64 {
            let mut h = 0u64;
            for c in bytes.chunks(8) {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
            }
            h
        }
        let text: Vec<u8> = (1..=40u8).collect();
        for len in 0..=40 {
            let mut h = KeyHasher::default();
            h.write(&text[..len]);
            assert_eq!(h.finish(), reference(&text[..len]), "len {len}");
        }
    }

    #[test]
    fn a_lookup_inside_a_visit_decodes_on_its_own() {
        // Escaped strings are decoded into a buffer the scanner reuses; a lookup made while
        // another one's value is being visited must not see (or break) that buffer.
        let names = ["a", "b"];
        let mut sc = LineScanner::new(plan(&names));
        let ev = sc.scan_str(r#"{"a":["x\\1","y\\2"],"b":"z\\3"}"#).unwrap();
        let b = FieldPath::bound("b", 7, 2);
        let mut seen = Vec::new();
        ev.lookup(&FieldPath::bound("a", 7, 1), &mut |s| {
            let mut inner = Vec::new();
            ev.lookup(&b, &mut |t| inner.push(format!("{t:?}")));
            seen.push((format!("{s:?}"), inner));
        });
        let str_ = |s: &str| format!("{:?}", Scalar::Str(s.into()));
        assert_eq!(
            seen,
            [
                (str_(r"x\1"), vec![str_(r"z\3")]),
                (str_(r"y\2"), vec![str_(r"z\3")])
            ]
        );
        let mut all = Vec::new();
        ev.for_each_scalar(&mut |s| all.push(format!("{s:?}")));
        assert_eq!(all, [str_(r"x\1"), str_(r"y\2"), str_(r"z\3")]);
    }

    #[test]
    fn keys_are_compared_exactly_at_every_length() {
        let text: Vec<u8> = (b'a'..=b'z').chain(b'A'..=b'Z').collect();
        for len in 0..=40 {
            let a = &text[..len];
            assert!(same_bytes(a, a));
            assert!(!same_bytes(a, &text[..len + 1]));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] = b'#';
                assert!(!same_bytes(a, &b), "len {len} at {at}");
            }
        }
        // A plan with many keys that share long prefixes and suffixes finds each of them and
        // nothing else.
        let names: Vec<String> = (0..300)
            .map(|i| format!("Event.EventData.Field{i:03}.Value"))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut flat: Vec<String> = Vec::new();
        let mut sc = LineScanner::new(plan(&refs));
        for (i, n) in names.iter().enumerate().step_by(7) {
            flat.push(format!(r#""{n}":{i}"#));
        }
        let line = format!(
            "{{{},\"Event.EventData.Field999.Value\":1}}",
            flat.join(",")
        );
        let ev = sc.scan_str(&line).unwrap();
        for (i, _) in names.iter().enumerate() {
            let got = values(&ev, &refs, i);
            if i % 7 == 0 {
                assert_eq!(
                    got,
                    Some(vec![format!("{:?}", Scalar::Num(Num::Int(i as i64)))])
                );
            } else {
                assert_eq!(got, None, "{i}");
            }
        }
    }

    /// Malformed lines with blanks, escapes, numbers and keys at every kind of position:
    /// each error's offset and message, as the scanner gave them before blanks were skipped
    /// lazily and keys, numbers and strings got their fast paths.
    const ERROR_CASES: &[(&str, usize, &str)] = &[
        ("", 0, "a JSON line must be an object"),
        ("  ", 2, "a JSON line must be an object"),
        (" [] ", 1, "a JSON line must be an object, not an array"),
        ("\"s\"", 0, "a JSON line must be an object, not a string"),
        ("-1", 0, "a JSON line must be an object, not a number"),
        ("{", 1, "expected a key"),
        ("{ ", 2, "expected a key"),
        ("{ \"a\" ", 6, "expected ':'"),
        ("{\"a\" x", 5, "expected ':'"),
        ("{\"a\"  :", 7, "unexpected end of line"),
        ("{\"a\": ", 6, "unexpected end of line"),
        ("{\"a\": }", 6, "expected a value"),
        ("{\"a\":1 ,}", 8, "expected a key"),
        ("{\"a\":1 , }", 9, "expected a key"),
        ("{\"a\":1 x", 7, "expected ',' or '}'"),
        ("{\"a\":[1 ,]}", 9, "expected a value"),
        ("{\"a\":[1 x]}", 8, "expected ',' or ']'"),
        ("{\"a\":[ ", 7, "unexpected end of line"),
        ("{\"a\":{ \"b\" : 1 , \"c\" 2}}", 21, "expected ':'"),
        ("{\"a\":01}", 6, "expected ',' or '}'"),
        ("{\"a\":-}", 6, "bad number"),
        ("{\"a\":-x}", 6, "bad number"),
        ("{\"a\":1.}", 7, "bad number"),
        ("{\"a\":1.e5}", 7, "bad number"),
        ("{\"a\":1e}", 7, "bad number"),
        ("{\"a\":1e+}", 8, "bad number"),
        ("{\"a\":0x1}", 6, "expected ',' or '}'"),
        (
            "{\"a\":12345678901234567890123 x}",
            29,
            "expected ',' or '}'",
        ),
        ("{\"a\":tru}", 5, "expected a value"),
        ("{\"a\":nul", 5, "expected a value"),
        ("{\"a\":\"x}", 8, "unterminated string"),
        ("{\"a\":\"x\\", 7, "bad escape"),
        ("{\"a\":\"\\x\"}", 6, "bad escape"),
        ("{\"a\":\"abc\\q\"}", 9, "bad escape"),
        ("{\"a\":\"\\u12\"}", 6, "bad \\u escape"),
        ("{\"a\":\"\\ud800\\u12\"}", 12, "bad \\u escape"),
        ("{\"a\\q\":1}", 3, "bad escape"),
        ("{\"a\":1} x", 8, "trailing characters after the object"),
        ("{\"a\":1}}", 7, "trailing characters after the object"),
        (
            "{\"a\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ",
            73,
            "unterminated string",
        ),
        ("{\"0123456789abcdef0123\":1,\"a\" 1}", 30, "expected ':'"),
    ];

    #[test]
    fn errors_keep_their_offsets_and_messages() {
        let mut sc = LineScanner::new(plan(&["a", "a.b", "0123456789abcdef0123"]));
        for &(line, offset, message) in ERROR_CASES {
            let err = sc.scan_str(line).err();
            assert_eq!(err, Some(JsonError { offset, message }), "{line:?}");
            assert!(
                serde_json::from_str::<Value>(line).map_or(true, |v| !v.is_object()),
                "{line:?}"
            );
        }
    }

    #[test]
    fn blanks_anywhere_give_the_same_fields() {
        // The same object compact and with blanks wherever JSON allows them.
        let names = ["a", "b.c", "d", "e.f", "g"];
        let compact = r#"{"a":"x","b":{"c":[1,{"k":2},"s"]},"d":-1.5e3,"e":{"f":true},"g":null}"#;
        let spaced = " \t{ \"a\" :\n\"x\" ,\r\n \"b\":{ \"c\" : [ 1 , { \"k\" : 2 } ,\"s\" ] } ,\"d\"\t:-1.5e3 , \"e\" : { \"f\" : true } , \"g\" : null } \r\n";
        let p = plan(&names);
        let (mut x, mut y) = (LineScanner::new(p.clone()), LineScanner::new(p));
        let a = x.scan_str(compact).unwrap();
        let b = y.scan_str(spaced).unwrap();
        for i in 0..names.len() {
            assert!(values(&a, &names, i).is_some(), "{}", names[i]);
            assert_eq!(values(&a, &names, i), values(&b, &names, i), "{}", names[i]);
        }
        let (mut s, mut t) = (Vec::new(), Vec::new());
        a.for_each_scalar(&mut |v| s.push(format!("{v:?}")));
        b.for_each_scalar(&mut |v| t.push(format!("{v:?}")));
        assert_eq!(s, t);
    }

    #[test]
    fn integers_fit_64_bits_as_the_parsers_say() {
        let mut cases: Vec<String> = Vec::new();
        for base in [
            "9223372036854775807",
            "9223372036854775808",
            "9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "10000000000000000000",
            "100000000000000000000",
            "999999999999999999",
            "1",
        ] {
            cases.push(base.to_string());
            cases.push(format!("-{base}"));
        }
        for text in &cases {
            let (neg, digits) = match text.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, text.as_str()),
            };
            let want = text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok();
            assert_eq!(int_fits_64(neg, digits.as_bytes()), want, "{text}");
            // And through the scanner: only integers that stay integers keep the line plain.
            let line = format!(r#"{{"a":{text}}}"#);
            let mut sc = LineScanner::new(plan(&["a"]));
            let ev = sc.scan_str(&line).unwrap();
            assert_eq!(ev.plain, want, "{text}");
        }
    }

    #[test]
    fn keys_read_in_one_load_hash_as_padded_keys() {
        // A key read with a 16-byte load from the line (masked to its length) must give the
        // words of the zero-padded key, whatever follows it.
        let line: Vec<u8> = (0u8..64).map(|i| b'a' + i % 26).collect();
        for ks in 0..8 {
            for n in 0..=SHORT_KEY {
                let got = words_at(&line, ks, n).unwrap();
                assert_eq!(got, padded_words(&line[ks..ks + n]), "at {ks} len {n}");
            }
        }
        assert_eq!(words_at(&line, 50, 4), None);
        // Keys of every length up to past the short limit, found from the line (at its end
        // too, where the load does not fit), escaped, and not confused with their prefixes.
        let keys: Vec<String> = (1..=24).map(|n| "k".repeat(n)).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut sc = LineScanner::new(plan(&refs));
        for (i, k) in keys.iter().enumerate() {
            for line in [
                format!(r#"{{"{k}":{i},"{k}x":0,"x{k}":0}}"#),
                format!(r#"{{"z":0,"{k}":{i}}}"#),
                format!(r#"{{"\u006b{}":{i}}}"#, &k[1..]),
            ] {
                let ev = sc.scan_str(&line).unwrap();
                for j in 0..keys.len() {
                    let got = values(&ev, &refs, j);
                    if j == i {
                        let want = format!("{:?}", Scalar::Num(Num::Int(i as i64)));
                        assert_eq!(got, Some(vec![want]), "{line}");
                    } else {
                        assert_eq!(got, None, "{line} {j}");
                    }
                }
            }
        }
    }
}
