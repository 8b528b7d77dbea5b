//! A YAML reader that keeps source spans on every node and resolves scalars the way PyYAML
//! (YAML 1.1) does, because that is what the Sigma ecosystem (sigmac, pySigma) reads rules with.
//!
//! Sigma rules use a small, regular part of YAML. [`parse`] reads that part with a fast
//! hand-written block parser and falls back to a complete YAML parser (`saphyr-parser`) for
//! anything outside it (anchors, tags, flow mappings, complex keys, ...). Both paths produce the
//! same [`Node`] tree; a differential test over the SigmaHQ corpus keeps them in agreement.

mod build;
mod fast;
mod full;
mod resolve;
mod text;

use crate::span::{Pos, Span};

/// How a scalar was written. Quoted scalars are always strings; plain scalars are resolved
/// (null, bool, int, float, string) by the YAML 1.1 rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
}

/// A YAML value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// From the first character of the node to just after its last character. For a collection
    /// in block style, the span starts at its first entry.
    pub span: Span,
}

/// The resolved content of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, `Null`, `NULL` or nothing at all.
    Null,
    /// YAML 1.1 booleans as PyYAML reads them: yes/no/true/false/on/off in lower, Title or UPPER case.
    Bool(bool, Box<str>),
    /// An integer in any YAML 1.1 notation (decimal, `0x`, `0o`/leading `0` octal, `0b`, `_`
    /// separators, sexagesimal). The second field is the text as written, because `0x17` and
    /// `23` mean the same number but not the same string.
    Int(i64, Box<str>),
    /// A float (`1.5`, `1e3`, `.inf`, `.nan`, ...), with the text as written.
    Float(f64, Box<str>),
    /// A string; the style says whether it was quoted.
    Str(String, ScalarStyle),
    Seq(Vec<Node>),
    /// Entries in document order. Keys are unique (a duplicate key is reported as an error; the
    /// entry keeps its first key and takes the later value, as a Python dict does).
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    /// The string content if this node is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s, _) => Some(s),
            _ => None,
        }
    }

    /// The text of any scalar as it would print: strings as is, numbers and booleans as written,
    /// null as `None`.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s, _) => Some(s),
            Value::Int(_, t) | Value::Float(_, t) | Value::Bool(_, t) => Some(t),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Look up a key of a mapping by its string value.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the node's kind for error messages ("a string", "a list", ...).
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(..) => "a boolean",
            Value::Int(..) => "an integer",
            Value::Float(..) => "a number",
            Value::Str(..) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// A problem found while reading YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    /// `true` when parsing could not go on (a syntax error); `false` for problems after which the
    /// tree is still complete (a duplicate key).
    pub fatal: bool,
}

/// The result of reading a YAML stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documents {
    /// The root node of each document, in order. A document with no content is `Value::Null`.
    /// When a syntax error stops parsing, the documents before it are still here.
    pub docs: Vec<Node>,
    /// Errors in source order. At most one is fatal, and it is the last.
    pub errors: Vec<YamlError>,
}

/// Read a YAML stream (one or more documents) the way PyYAML's `yaml.safe_load_all` reads it
/// (YAML 1.1 scalar resolution), keeping a [`Span`] on every node.
///
/// Never panics and never fails as a whole: syntax errors come back as a fatal [`YamlError`]
/// (the last one) with the documents read before it; problems after which the tree is complete
/// (a duplicate key, an unsupported tag, `!!int` on a non-number) come back as non-fatal errors.
///
/// Details of the model:
/// - plain scalars resolve to null, bool, int, float or string by PyYAML's YAML 1.1 patterns
///   (so `yes` is a bool, `0o17` and `1e3` are strings, `017` is 15 and `1.0e+3` is a float);
///   integers that do not fit in `i64` and timestamps stay strings;
/// - a repeated key is reported at its second occurrence; as in a Python dict, the entry keeps
///   its first key (and place) and takes the later value; keys compare as Python values
///   (`1`, `1.0` and `true` are the same key);
/// - `<<` merge keys are merged; aliases are expanded (the copy's top node gets the alias's
///   span, its children keep the spans of the anchored text);
/// - a node's span starts at its first character (a scalar's tag or anchor included, a block
///   collection at its first entry) and ends after its last one; an empty value is a point just
///   after its `:` or `-`; a block scalar ends after its last non-blank character;
/// - columns count characters; a leading byte order mark is skipped (offsets still count it).
///
/// Known differences from PyYAML, all on input that Sigma rules do not use: the Unicode line
/// separators NEL, LS and PS are ordinary characters; quoted scalars and flow collections whose
/// continuation lines are not indented, and a comment glued to a closing quote (`'a'#c`), are
/// syntax errors (YAML 1.2 rules); recursive aliases are refused.
pub fn parse(src: &str) -> Documents {
    let (text, base, info) = match prepare(src) {
        Ok(x) => x,
        Err(e) => return e,
    };
    fast::parse(text, base, info).unwrap_or_else(|| full::parse(text, base))
}

/// Read a stream with the complete parser only (`saphyr-parser` events), never the fast path.
/// Gives the same result as [`parse`]; it exists for the benchmark and the differential tests.
pub fn parse_with_fallback_only(src: &str) -> Documents {
    match prepare(src) {
        Ok((text, base, _)) => full::parse(text, base),
        Err(e) => e,
    }
}

/// Read a stream with the fast path only: `None` when the text is outside the subset it reads
/// (then [`parse`] uses the complete parser). For tests and benchmarks.
pub fn parse_fast_only(src: &str) -> Option<Documents> {
    match prepare(src) {
        Ok((text, base, info)) => fast::parse(text, base, info),
        Err(e) => Some(e),
    }
}

/// Checks done before either parser: the byte order mark, the size limit of [`Pos`], and the
/// characters PyYAML refuses anywhere in a stream.
fn prepare(src: &str) -> Result<(&str, u32, TextInfo), Documents> {
    let (text, base) = match src.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (src, 0),
    };
    if src.len() >= u32::MAX as usize {
        let e = YamlError {
            message: "the text is too large (4 GiB or more)".into(),
            span: Span::default(),
            fatal: true,
        };
        return Err(Documents {
            docs: Vec::new(),
            errors: vec![e],
        });
    }
    let info = check_text(text);
    if let Err((off, ch)) = info {
        let line = text.as_bytes()[..off]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        let ls = text[..off].rfind('\n').map_or(0, |n| n + 1);
        let col = text[ls..off].chars().count();
        let pos = Pos::new(
            text::to_u32(off) + base,
            text::to_u32(line) + 1,
            text::to_u32(col) + 1,
        );
        let e = YamlError {
            message: format!(
                "special character U+{:04X} is not allowed in YAML (write it as an escape in a \
                 double-quoted string)",
                u32::from(ch)
            ),
            span: Span::point(pos),
            fatal: true,
        };
        return Err(Documents {
            docs: Vec::new(),
            errors: vec![e],
        });
    }
    let info = info.unwrap_or(TextInfo {
        ascii: false,
        has_cr: true,
    });
    Ok((text, base, info))
}

/// What the character check learned about a text.
#[derive(Clone, Copy)]
pub(crate) struct TextInfo {
    pub ascii: bool,
    pub has_cr: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bytes of an all-ASCII word (no byte has its high bit set) equal to `c`, as high bits.
/// Exact per byte: with every byte below 0x80, the additions cannot carry into a neighbour.
fn bytes_equal(w: u64, c: u8) -> u64 {
    let y = w ^ (LO * u64::from(c));
    !(y + LO * 0x7f) & HI
}

/// PyYAML's reader accepts only tab, line breaks, printable ASCII, NEL and the printable
/// non-ASCII planes (`#x85`, `#xA0-#xD7FF`, `#xE000-#xFFFD`, `#x10000-#x10FFFF`). Returns the
/// first other character, else what the scan learned. Eight bytes at a time where they are
/// all printable ASCII.
fn check_text(s: &str) -> Result<TextInfo, (usize, char)> {
    let b = s.as_bytes();
    let mut info = TextInfo {
        ascii: true,
        has_cr: false,
    };
    let mut i = 0;
    while i < b.len() {
        if let Some(word) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().expect("an 8-byte slice"));
            if w & HI == 0 {
                // Control bytes (below 0x20) other than LF, and DEL. Tab and CR are rare: they
                // send the word to the byte-by-byte check below.
                let control = !(w + LO * 0x60) & HI;
                let del = (w + LO) & HI;
                if ((control & !bytes_equal(w, b'\n')) | del) == 0 {
                    i += 8;
                    continue;
                }
            }
        }
        // Look at the bytes of this word one by one (a character may run past it).
        let end = (i + 8).min(b.len());
        while i < end {
            let c = b[i];
            if (0x20..0x7f).contains(&c) || matches!(c, b'\t' | b'\n') {
                i += 1;
            } else if c == b'\r' {
                info.has_cr = true;
                i += 1;
            } else if c < 0x80 {
                return Err((i, char::from(c)));
            } else {
                info.ascii = false;
                let Some(ch) = s.get(i..).and_then(|r| r.chars().next()) else {
                    return Ok(info);
                };
                let code = u32::from(ch);
                let ok = code == 0x85
                    || (0xA0..=0xD7FF).contains(&code)
                    || (0xE000..=0xFFFD).contains(&code)
                    || code >= 0x10000;
                if !ok {
                    return Err((i, ch));
                }
                i += ch.len_utf8();
            }
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time check agrees with a byte-by-byte definition, for every ASCII byte at
    /// every position of a word (and after a non-ASCII character).
    #[test]
    fn character_check_matches_the_simple_definition() {
        for prefix in ["", "é", "abc"] {
            for c in 0u8..0x80 {
                for at in 0..20 {
                    let mut s = String::from(prefix);
                    s.push_str(&"x".repeat(at));
                    s.push(char::from(c));
                    s.push_str("yyyyyyyyyyyyyyyy");
                    let bad = c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r') || c == 0x7f;
                    let got = check_text(&s);
                    if bad {
                        assert_eq!(
                            got.err(),
                            Some((prefix.len() + at, char::from(c))),
                            "{c:#x} at {at}"
                        );
                    } else {
                        let info = got.expect("printable");
                        assert_eq!(info.has_cr, c == b'\r');
                        assert_eq!(info.ascii, prefix.is_ascii());
                    }
                }
            }
        }
        for ch in ['\u{80}', '\u{9f}', '\u{fffe}', '\u{ffff}'] {
            assert!(check_text(&format!("ab{ch}")).is_err(), "{ch:?}");
        }
        for ch in [
            '\u{85}',
            '\u{a0}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{fffd}',
            '\u{10000}',
        ] {
            assert!(check_text(&format!("ab{ch}")).is_ok(), "{ch:?}");
        }
    }
}
