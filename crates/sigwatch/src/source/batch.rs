//! A batch of records from one file: one text buffer, the records as ranges into it.

use std::sync::Arc;

use serde_json::Value;

use super::{BufferPool, Format, Skip};

/// A run of consecutive records of one file, with the skips found among them.
///
/// `(file, seq)` orders batches: `file` is the input's index in the list given to
/// [`read_all`](super::read_all), `seq` counts a file's batches from 0, and the file's final
/// batch has `last` set (it may hold no records). [`Reorder`](super::Reorder) puts batches that
/// arrive in any order back into file order. A dropped batch hands its buffer back to the
/// reader for reuse (so fields are taken out with `std::mem::take`, not moved).
#[derive(Debug)]
pub struct Batch {
    /// Index of the input file in the list that was read.
    pub file: usize,
    /// Index of this batch within its file, from 0.
    pub seq: u64,
    /// Whether this is the file's last batch.
    pub last: bool,
    /// The input's name, for messages.
    pub source: Arc<str>,
    /// The format the file was read as; tells the consumer the shape of the records (EVTX
    /// records nest their fields under `Event.System` and `Event.EventData`).
    pub format: Format,
    /// Input that was left out, in file order.
    pub skips: Vec<Skip>,
    buf: String,
    spans: Vec<Span>,
    /// Where the buffer goes back to when the batch is dropped.
    pool: Option<Arc<BufferPool>>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.give(std::mem::take(&mut self.buf).into_bytes());
        }
    }
}

/// Where one record's text is in the batch buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub number: u64,
    pub start: usize,
    pub end: usize,
}

impl Batch {
    pub(crate) fn new(
        file: usize,
        seq: u64,
        last: bool,
        source: Arc<str>,
        format: Format,
    ) -> Batch {
        Batch {
            file,
            seq,
            last,
            source,
            format,
            skips: Vec::new(),
            buf: String::new(),
            spans: Vec::new(),
            pool: None,
        }
    }

    /// Hands the buffer back to `pool` when the batch is dropped.
    pub(crate) fn recycle_into(&mut self, pool: Arc<BufferPool>) {
        self.pool = Some(pool);
    }

    pub(crate) fn set_records(&mut self, buf: String, spans: Vec<Span>) {
        debug_assert!(spans.iter().all(|s| buf.get(s.start..s.end).is_some()));
        self.buf = buf;
        self.spans = spans;
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the batch holds no record (it may still hold skips).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Bytes of record text held.
    pub fn text_len(&self) -> usize {
        self.buf.len()
    }

    /// The records, in file order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        let text_records = self.format == Format::Text;
        self.spans.iter().map(move |span| {
            // Spans are built on line ends and trimmed ASCII, so always on char boundaries.
            let text = self.buf.get(span.start..span.end).unwrap_or_default();
            Record {
                number: span.number,
                data: if text_records {
                    RecordData::Text(text)
                } else {
                    RecordData::Json(text)
                },
            }
        })
    }

    /// A skip for record `number` of this batch's file (located by line, record or element as
    /// the format numbers records).
    pub fn skip(&self, number: u64, reason: impl Into<String>) -> Skip {
        Skip {
            path: Arc::clone(&self.source),
            location: self.format.location(number),
            reason: reason.into(),
            records: 1,
        }
    }

    /// Every record as a `serde_json::Value`, or as a skip when it is not a JSON object.
    pub fn values(&self) -> impl Iterator<Item = Result<(u64, Value), Skip>> + '_ {
        self.records().map(|record| {
            record
                .to_value()
                .map(|value| (record.number, value))
                .map_err(|reason| self.skip(record.number, reason))
        })
    }
}

/// One record of a [`Batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Line number (JSON lines, text), EventRecordID (EVTX) or element index (JSON array).
    pub number: u64,
    /// The record's text.
    pub data: RecordData<'a>,
}

/// A record's text, borrowed from its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordData<'a> {
    /// The text of one JSON value, not yet parsed or validated: a JSON line (trimmed), an EVTX
    /// record rendered by the `evtx` crate, or an element of a JSON array (which starts with
    /// `{`). An event is a JSON object; anything else is the consumer's to report.
    Json(&'a str),
    /// A line of a text log (without its line ending); the event is `{"message": <line>}`.
    Text(&'a str),
}

impl Record<'_> {
    /// The record's text as read.
    pub fn text(&self) -> &str {
        match self.data {
            RecordData::Json(text) | RecordData::Text(text) => text,
        }
    }

    /// The event as a `serde_json::Value` object. `Err` says why the record is not an event
    /// (invalid JSON, or JSON that is not an object).
    pub fn to_value(self) -> Result<Value, String> {
        match self.data {
            RecordData::Json(text) => match serde_json::from_str::<Value>(text) {
                Ok(value @ Value::Object(_)) => Ok(value),
                Ok(other) => Err(format!("not a JSON object (found {})", kind_of(&other))),
                Err(err) => Err(format!("invalid JSON: {err}")),
            },
            RecordData::Text(text) => {
                let mut object = serde_json::Map::with_capacity(1);
                object.insert("message".to_owned(), Value::String(text.to_owned()));
                Ok(Value::Object(object))
            }
        }
    }
}

impl Record<'_> {
    /// Appends the event as one line of compact JSON, without building a `Value`: JSON text is
    /// checked by the engine's scanner (so that `dump` accepts and refuses exactly what `hunt`
    /// does, with the same reasons), then copied with the blanks outside strings left out
    /// (escapes and numbers stay as written); a text line becomes `{"message":"..."}`. `Err`
    /// says why the record is not an event, and nothing is appended then.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        match self.data {
            RecordData::Json(text) => {
                engine::jsonline::check(text).map_err(|err| err.to_string())?;
                compact_into(text.as_bytes(), out);
                Ok(())
            }
            RecordData::Text(text) => {
                out.extend_from_slice(b"{\"message\":");
                serde_json::to_writer(&mut *out, text)
                    .map_err(|err| format!("cannot write as JSON: {err}"))?;
                out.push(b'}');
                Ok(())
            }
        }
    }
}

impl Record<'_> {
    /// [`Record::write_json`] for a record whose JSON text is already known to be one valid
    /// object (an EVTX record the engine's scanner accepted): the same output, without checking
    /// the JSON again.
    pub fn write_checked_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        match self.data {
            RecordData::Json(text) => {
                compact_into(text.as_bytes(), out);
                Ok(())
            }
            RecordData::Text(_) => self.write_json(out),
        }
    }
}

/// Copies valid JSON leaving out the blanks between tokens.
fn compact_into(json: &[u8], out: &mut Vec<u8>) {
    out.reserve(json.len());
    // Most lines have no control byte at all (compact JSON, the evtx crate's): one quick look
    // spares the look at every string.
    let controls = has_control_byte(json);
    let mut copied = 0;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => {
                let open = i;
                let mut lone = false;
                i += 1;
                // To the closing quote, stepping over escaped characters.
                while let Some(k) = memchr::memchr2(b'"', b'\\', &json[i..]) {
                    if json[i + k] == b'\\' {
                        let at = i + k;
                        i = at + 2;
                        if json.get(at + 1) == Some(&b'u') {
                            match surrogate_escape(json, at) {
                                Some(Surrogate::Pair) => i = at + 12,
                                Some(Surrogate::Lone) => lone = true,
                                None => {}
                            }
                        }
                    } else {
                        i += k + 1;
                        break;
                    }
                }
                // The engine reads a surrogate escape that is not half of a pair as U+FFFD and
                // lets raw control characters inside strings pass (some writers leave tabs
                // unescaped): the line is written as the engine reads it, in strict JSON.
                let string = &json[open..i.min(json.len())];
                if lone || (controls && string.iter().any(|&b| b < 0x20)) {
                    out.extend_from_slice(&json[copied..open]);
                    write_strict(string, out);
                    copied = i.min(json.len());
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.extend_from_slice(&json[copied..i]);
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.extend_from_slice(&json[copied.min(json.len())..]);
}

/// Whether any byte is below 0x20, a block at a time (the compiler vectorizes the inner fold).
fn has_control_byte(data: &[u8]) -> bool {
    let mut blocks = data.chunks_exact(32);
    blocks.any(|block| block.iter().fold(false, |acc, &b| acc | (b < 0x20)))
        || blocks.remainder().iter().any(|&b| b < 0x20)
}

enum Surrogate {
    Pair,
    Lone,
}

/// Whether the `\uXXXX` escape at `at` is a surrogate, and if so whether a low surrogate's
/// escape follows a high one.
fn surrogate_escape(json: &[u8], at: usize) -> Option<Surrogate> {
    let unit = |at: usize| {
        let hex = json.get(at..at + 6)?.strip_prefix(b"\\u")?;
        let text = std::str::from_utf8(hex).ok()?;
        u16::from_str_radix(text, 16).ok()
    };
    let first = unit(at)?;
    match first {
        0xD800..=0xDBFF => match unit(at + 6) {
            Some(0xDC00..=0xDFFF) => Some(Surrogate::Pair),
            _ => Some(Surrogate::Lone),
        },
        0xDC00..=0xDFFF => Some(Surrogate::Lone),
        _ => None,
    }
}

/// Appends a string token with its raw control characters written as `\u00XX` escapes and
/// each surrogate escape that is not half of a pair as `\ufffd`.
fn write_strict(string: &[u8], out: &mut Vec<u8>) {
    let hex = b"0123456789abcdef";
    let mut i = 0;
    while i < string.len() {
        let b = string[i];
        if b < 0x20 {
            out.extend_from_slice(b"\\u00");
            out.push(hex[usize::from(b >> 4)]);
            out.push(hex[usize::from(b & 0xf)]);
            i += 1;
        } else if b == b'\\' {
            let len = match (string.get(i + 1), surrogate_escape(string, i)) {
                (Some(b'u'), Some(Surrogate::Pair)) => 12,
                (Some(b'u'), Some(Surrogate::Lone)) => {
                    out.extend_from_slice(b"\\ufffd");
                    i += 6;
                    continue;
                }
                _ => 2,
            };
            let end = (i + len).min(string.len());
            out.extend_from_slice(&string[i..end]);
            i = end;
        } else {
            out.push(b);
            i += 1;
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a batch's buffer and spans from pieces of bytes that should be UTF-8 text.
///
/// The common case is a whole block that is valid UTF-8: it becomes the buffer as is, without a
/// copy. Only when the block is not valid are its records checked one by one and the valid ones
/// copied into a new buffer.
pub(crate) fn into_text(
    block: Vec<u8>,
    spans: Vec<Span>,
    mut on_invalid: impl FnMut(&Span, &[u8], std::str::Utf8Error) -> Option<String>,
) -> (String, Vec<Span>) {
    match String::from_utf8(block) {
        Ok(text) => (text, spans),
        Err(err) => {
            let block = err.into_bytes();
            let mut text = String::with_capacity(block.len());
            let mut kept = Vec::with_capacity(spans.len());
            for span in &spans {
                let bytes = block.get(span.start..span.end).unwrap_or_default();
                let replacement = match std::str::from_utf8(bytes) {
                    Ok(valid) => Some(valid.to_owned()),
                    Err(err) => on_invalid(span, bytes, err),
                };
                if let Some(valid) = replacement {
                    let start = text.len();
                    text.push_str(&valid);
                    kept.push(Span {
                        number: span.number,
                        start,
                        end: text.len(),
                    });
                }
            }
            (text, kept)
        }
    }
}

/// Describes a UTF-8 error within one record.
pub(crate) fn utf8_reason(err: std::str::Utf8Error) -> String {
    format!(
        "not valid UTF-8 (invalid byte at offset {})",
        err.valid_up_to()
    )
}
