//! Source-text helpers shared by both parsers: positions, and the few scans that make both
//! parsers agree on where a node starts and ends.

use crate::span::{Pos, Span};

/// Make a [`Pos`] for byte offset `off` on a line that starts at byte `line_start`.
/// `base` is added to the offset (3 when a byte order mark was stripped).
pub(crate) fn pos_on_line(
    src: &str,
    ascii: bool,
    base: u32,
    off: usize,
    line: u32,
    line_start: usize,
) -> Pos {
    let col = if ascii {
        off - line_start
    } else {
        src.get(line_start..off)
            .map_or(off - line_start, |s| s.chars().count())
    };
    Pos::new(to_u32(off) + base, line, to_u32(col) + 1)
}

/// Offsets are `u32`; [`super::parse`] refuses texts that do not fit.
pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn point(p: Pos) -> Span {
    Span::point(p)
}

/// The end of a block scalar: just after its last character that is not a space, tab or line
/// break, looking back from `from` but not before `floor` (the end of the `|`/`>` header).
/// Both parsers end a block scalar somewhere in the blank run after its content; trimming from
/// there gives the same position.
pub(crate) fn trim_back(b: &[u8], mut from: usize, floor: usize) -> usize {
    from = from.min(b.len());
    while from > floor && matches!(b[from - 1], b' ' | b'\t' | b'\r' | b'\n') {
        from -= 1;
    }
    from
}

/// A token found by [`scan_to_token`].
pub(crate) struct Found {
    /// Where the first property (`&anchor` or `!tag`) starts, if any.
    pub props: Option<usize>,
    /// Where the token itself starts.
    pub at: usize,
}

/// From `from`, skip blanks, line breaks, comments, the indicators `-`, `?`, `:` (when followed
/// by a blank) and node properties, and stop at the first byte for which `want` is true.
/// Returns `None` on anything else. Used by the complete parser to find the dash of a block
/// sequence and the indicator of a block scalar, which its events do not point at.
pub(crate) fn scan_to_token(b: &[u8], from: usize, want: impl Fn(u8) -> bool) -> Option<Found> {
    let mut i = from;
    let mut props = None;
    let blank_at = |i: usize| matches!(b.get(i), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
    while i < b.len() {
        let c = b[i];
        if want(c) {
            return Some(Found { props, at: i });
        }
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'-' | b'?' | b':' if blank_at(i + 1) => i += 1,
            b'&' | b'!' => {
                props.get_or_insert(i);
                while !blank_at(i) {
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    None
}

/// Byte offsets of line starts, with the line breaks of `saphyr-parser` (`\n`, `\r\n`, `\r`),
/// to turn its (line, column-in-chars) markers into byte offsets.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(src: &str) -> Self {
        let b = src.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    /// 1-based line number and line start of a byte offset.
    pub(crate) fn line_of(&self, off: usize) -> (u32, usize) {
        let idx = self.starts.partition_point(|&s| s <= off).saturating_sub(1);
        (to_u32(idx + 1), self.starts[idx])
    }
}

/// The offset just after the closing quote of the quoted scalar whose opening quote is at
/// `start`. (saphyr's scalar spans run on over trailing blanks and comments.)
pub(crate) fn quoted_end(b: &[u8], start: usize) -> Option<usize> {
    let q = *b.get(start)?;
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if q == b'"' => i += 2,
            c if c == q => {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}
