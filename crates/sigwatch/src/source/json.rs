//! JSON inputs, kept as text: JSON lines are cut at line ends; a JSON array is cut into its
//! elements by a small scanner that follows strings and nesting, so a big array streams through
//! in blocks without being parsed here.

use std::io::Read;
use std::sync::Arc;

use super::batch::{Batch, Span, into_text, utf8_reason};
use super::lines::{LineBlock, read_some, split_lines};
use super::{BufferPool, Location, Skip};

/// Fills `batch` with the non-blank lines of `block` (see [`lossy_records`] for lines that
/// are not valid UTF-8); JSON itself is checked by whoever parses the line.
pub(crate) fn json_lines_batch(block: LineBlock, batch: &mut Batch) {
    let spans = split_lines(&block.buf, block.first_line, true)
        .map(|(number, range)| Span {
            number,
            start: range.start,
            end: range.end,
        })
        .collect();
    lossy_records(block.buf, spans, block.skips, batch);
}

/// Fills `batch` with the records of `block`, `spans` of its text, with their skips. A record
/// that is not valid UTF-8 (a Latin-1 byte in a value, as some exporters write) is read with
/// U+FFFD in place of each bad sequence: an attacker's event is not lost to one byte. A note
/// names the block's first such record and counts the others (a log written in Latin-1 is
/// not noted line by line).
fn lossy_records(buf: Vec<u8>, spans: Vec<Span>, mut skips: Vec<Skip>, batch: &mut Batch) {
    let mut first: Option<(u64, std::str::Utf8Error)> = None;
    let (mut more, mut last) = (0u64, 0u64);
    let (text, spans) = into_text(buf, spans, |span, bytes, err| {
        if first.is_none() {
            first = Some((span.number, err));
        } else {
            more += 1;
            last = span.number;
        }
        Some(String::from_utf8_lossy(bytes).into_owned())
    });
    if let Some((number, err)) = first {
        let mut reason = format!("{}; read with U+FFFD in its place", utf8_reason(err));
        if more > 0 {
            let s = if more == 1 { "" } else { "s" };
            reason.push_str(&format!(" (as {more} more record{s}, up to {last})"));
        }
        let mut note = batch.skip(number, reason);
        note.records = 0;
        skips.push(note);
    }
    skips.sort_by_key(|skip| skip.location.number());
    batch.skips.append(&mut skips);
    batch.set_records(text, spans);
}

/// A run of complete array elements.
#[derive(Debug)]
pub(crate) struct ArrayBlock {
    pub buf: Vec<u8>,
    pub spans: Vec<Span>,
    pub skips: Vec<Skip>,
    pub last: bool,
}

/// Fills `batch` with the elements of `block` (see [`lossy_records`] for elements that are
/// not valid UTF-8).
pub(crate) fn json_array_batch(block: ArrayBlock, batch: &mut Batch) {
    lossy_records(block.buf, block.spans, block.skips, batch);
}

/// Where an element ends, in the bytes read.
#[derive(Debug, Clone, Copy)]
struct ElementEnd {
    at: usize,
    /// The array ends there too (`]`).
    closes_array: bool,
    /// The byte there (`,` or `]`) is passed over.
    consumed: bool,
    /// The element is an object that never ends (see the `{` case): skipped, not read.
    broken: bool,
}

impl ElementEnd {
    fn at(at: usize) -> ElementEnd {
        ElementEnd {
            at,
            closes_array: false,
            consumed: false,
            broken: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[` (`first`) or after a `,`.
    BeforeElement { first: bool },
    /// Inside an element that began at `start` (`None`: an element too long to keep, being
    /// passed over).
    InElement {
        start: Option<usize>,
        depth: u32,
        in_string: bool,
        escape: bool,
        /// The element's object or array has closed: a `{` or `[` now starts the next
        /// element (a comma left out).
        closed: bool,
    },
    /// In JSON objects one after the other, past something that is not an object: passed over
    /// up to the next line that starts with `{` (`line_start`: the last byte scanned ended a
    /// line).
    Junk { line_start: bool },
    /// After the closing `]`.
    AfterArray,
    /// Nothing more to read.
    Done,
}

/// Reads a JSON array as blocks of complete elements.
pub(crate) struct ArrayElements<R> {
    reader: R,
    source: Arc<str>,
    pool: Arc<BufferPool>,
    /// Bytes read and not yet handed on; `pos` is how far they have been scanned.
    pending: Vec<u8>,
    pos: usize,
    state: State,
    spans: Vec<Span>,
    skips: Vec<Skip>,
    /// 1-based index of the next element.
    next_index: u64,
    target: usize,
    max_element: usize,
    streaming: bool,
    finished: bool,
    /// The input is JSON objects one after the other (a pretty-printed object, `jq` output)
    /// rather than an array: found when it starts with `{`.
    sequence: bool,
}

impl<R: Read> ArrayElements<R> {
    pub(crate) fn new(
        reader: R,
        source: Arc<str>,
        pool: Arc<BufferPool>,
        target: usize,
        max_element: usize,
        streaming: bool,
    ) -> Self {
        ArrayElements {
            reader,
            source,
            pool,
            pending: Vec::new(),
            pos: 0,
            state: State::Start,
            spans: Vec::new(),
            skips: Vec::new(),
            next_index: 1,
            target: target.max(1),
            max_element: max_element.max(1),
            streaming,
            finished: false,
            sequence: false,
        }
    }

    /// The next block of elements, or `None` once the input has ended.
    pub(crate) fn next_block(&mut self) -> Option<ArrayBlock> {
        if self.finished {
            return None;
        }
        loop {
            self.scan();
            let kept_from = match self.state {
                State::InElement {
                    start: Some(start), ..
                } => start,
                _ => self.pos,
            };
            if self.state == State::Done {
                return Some(self.cut(self.pending.len(), true));
            }
            let full = kept_from >= self.target || (self.streaming && !self.spans.is_empty());
            if full {
                return Some(self.cut(kept_from, false));
            }
            match read_some(&mut self.reader, &mut self.pending, self.target) {
                Ok(0) => {
                    match self.state {
                        State::BeforeElement { .. } if self.sequence => {}
                        State::BeforeElement { .. } | State::InElement { .. } => {
                            let reason = if self.sequence {
                                "input ends inside an object (truncated?)"
                            } else {
                                "input ends inside the JSON array (truncated?)"
                            };
                            let skip =
                                self.skip(Location::Element(self.next_index), reason.to_owned());
                            self.skips.push(skip);
                        }
                        State::Start | State::Junk { .. } | State::AfterArray | State::Done => {}
                    }
                    return Some(self.cut(kept_from, true));
                }
                Ok(_) => {}
                Err(err) => {
                    let skip = self.skip(
                        Location::Element(self.next_index),
                        format!("read error, rest of input skipped: {err}"),
                    );
                    self.skips.push(skip);
                    return Some(self.cut(kept_from, true));
                }
            }
        }
    }

    /// Hands on `pending[..at]` and the elements in it, keeping the rest for the next block.
    fn cut(&mut self, at: usize, last: bool) -> ArrayBlock {
        let at = at.min(self.pending.len());
        let mut rest = self.pool.take(self.target + (self.pending.len() - at));
        rest.extend_from_slice(&self.pending[at..]);
        self.pending.truncate(at);
        let buf = std::mem::replace(&mut self.pending, rest);
        self.pos = self.pos.saturating_sub(at);
        if let State::InElement {
            start: Some(start), ..
        } = &mut self.state
        {
            *start = start.saturating_sub(at);
        }
        if last {
            self.finished = true;
            self.pool.give(std::mem::take(&mut self.pending));
        }
        ArrayBlock {
            buf,
            spans: std::mem::take(&mut self.spans),
            skips: std::mem::take(&mut self.skips),
            last,
        }
    }

    fn skip(&self, location: Location, reason: String) -> Skip {
        Skip {
            path: Arc::clone(&self.source),
            location,
            reason,
            records: 1,
        }
    }

    /// Follows the structure over the bytes not yet scanned.
    fn scan(&mut self) {
        let mut i = self.pos;
        let len = self.pending.len();
        while i < len {
            match self.state {
                State::Start => {
                    let rest = &self.pending[i..];
                    if i == 0 && rest.starts_with(b"\xEF\xBB\xBF") {
                        i += 3;
                    } else if rest[0].is_ascii_whitespace() || rest[0] == 0 {
                        // NULs before the array are padding (see `split_lines`).
                        i += 1;
                    } else if rest[0] == b'[' {
                        self.state = State::BeforeElement { first: true };
                        i += 1;
                    } else if rest[0] == b'{' {
                        self.sequence = true;
                        self.state = State::BeforeElement { first: true };
                    } else {
                        let skip = self.skip(
                            Location::File,
                            "not a JSON array (it does not start with '[')".to_owned(),
                        );
                        self.skips.push(skip);
                        self.state = State::Done;
                    }
                }
                State::BeforeElement { .. } if self.sequence => match self.pending[i] {
                    // Commas between the objects: an array written without its brackets.
                    b if b.is_ascii_whitespace() || b == b',' => i += 1,
                    b'{' => {
                        self.state = State::InElement {
                            start: Some(i),
                            depth: 0,
                            in_string: false,
                            escape: false,
                            closed: false,
                        };
                    }
                    _ => {
                        // A junk line (a log written over, a crash): the objects after it
                        // start lines, as pretty-printers and `jq` write them.
                        let skip = self.skip(
                            Location::Element(self.next_index),
                            "not a JSON object; passed over up to the next line that starts \
                             with '{'"
                                .to_owned(),
                        );
                        self.skips.push(skip);
                        self.next_index += 1;
                        self.state = State::Junk { line_start: false };
                    }
                },
                State::Junk { line_start } => {
                    if line_start && self.pending[i] == b'{' {
                        self.state = State::BeforeElement { first: false };
                    } else {
                        match memchr::memchr(b'\n', &self.pending[i..]) {
                            Some(k) => {
                                i += k + 1;
                                self.state = State::Junk { line_start: true };
                            }
                            None => {
                                i = len;
                                self.state = State::Junk { line_start: false };
                            }
                        }
                    }
                }
                State::BeforeElement { first } => match self.pending[i] {
                    b if b.is_ascii_whitespace() => i += 1,
                    b']' => {
                        if !first {
                            let skip = self.skip(
                                Location::Element(self.next_index),
                                "empty element (a comma before ']')".to_owned(),
                            );
                            self.skips.push(skip);
                        }
                        self.state = State::AfterArray;
                        i += 1;
                    }
                    b',' => {
                        let skip = self.skip(
                            Location::Element(self.next_index),
                            "empty element (two commas in a row)".to_owned(),
                        );
                        self.skips.push(skip);
                        self.next_index += 1;
                        self.state = State::BeforeElement { first: false };
                        i += 1;
                    }
                    _ => {
                        self.state = State::InElement {
                            start: Some(i),
                            depth: 0,
                            in_string: false,
                            escape: false,
                            closed: false,
                        };
                    }
                },
                State::InElement {
                    start,
                    mut depth,
                    mut in_string,
                    mut escape,
                    mut closed,
                } => {
                    // Run through the element until it ends or the bytes run out.
                    let mut end = None;
                    while i < len {
                        if in_string {
                            if escape {
                                escape = false;
                                i += 1;
                                continue;
                            }
                            match memchr::memchr2(b'"', b'\\', &self.pending[i..]) {
                                None => i = len,
                                Some(k) => {
                                    if self.pending[i + k] == b'\\' {
                                        escape = true;
                                    } else {
                                        in_string = false;
                                    }
                                    i += k + 1;
                                }
                            }
                            continue;
                        }
                        match self.pending[i] {
                            // After the element's object or array, anything but a comma or
                            // the array's end starts the next element (its comma left out):
                            // read as one element with it, the object would be lost.
                            b if closed
                                && !self.sequence
                                && !matches!(b, b',' | b']')
                                && !b.is_ascii_whitespace() =>
                            {
                                end = Some(ElementEnd::at(i));
                                break;
                            }
                            // So does an object or array after a stray value (`5 {...}`).
                            b'{' | b'['
                                if depth == 0
                                    && !self.sequence
                                    && start.is_some_and(|begin| i > begin) =>
                            {
                                end = Some(ElementEnd::at(i));
                                break;
                            }
                            // In objects one after the other, a line that starts with `{`
                            // inside an object that has not ended starts the next object: the
                            // open one never ends (`{"a":` and a newline) and would swallow
                            // the objects after it. Not so after `[` or `,` (an array of
                            // objects printed without indentation), and a newline is never
                            // inside a string.
                            b'{' if self.sequence
                                && depth > 0
                                && start.is_some_and(|begin| {
                                    i > begin
                                        && self.pending[i - 1] == b'\n'
                                        && !matches!(
                                            self.pending[begin..i - 1]
                                                .iter()
                                                .rev()
                                                .find(|b| !b.is_ascii_whitespace()),
                                            Some(b'[' | b',')
                                        )
                                }) =>
                            {
                                end = Some(ElementEnd {
                                    broken: true,
                                    ..ElementEnd::at(i)
                                });
                                break;
                            }
                            b'"' => in_string = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' if self.sequence && depth <= 1 => {
                                // The object ends with this brace, which it includes.
                                end = Some(ElementEnd::at(i + 1));
                                break;
                            }
                            b']' if depth == 0 => {
                                end = Some(ElementEnd {
                                    closes_array: true,
                                    consumed: true,
                                    ..ElementEnd::at(i)
                                });
                                break;
                            }
                            b'}' | b']' => {
                                depth = depth.saturating_sub(1);
                                closed = depth == 0;
                            }
                            b',' if depth == 0 => {
                                end = Some(ElementEnd {
                                    consumed: true,
                                    ..ElementEnd::at(i)
                                });
                                break;
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    let mut start = start;
                    if let Some(begin) = start
                        && i - begin > self.max_element
                    {
                        let skip = self.skip(
                            Location::Element(self.next_index),
                            format!("element longer than {} bytes, skipped", self.max_element),
                        );
                        self.skips.push(skip);
                        start = None;
                    }
                    match end {
                        None => {
                            self.state = State::InElement {
                                start,
                                depth,
                                in_string,
                                escape,
                                closed,
                            };
                        }
                        Some(ElementEnd {
                            at,
                            closes_array,
                            consumed,
                            broken,
                        }) => {
                            if broken {
                                // (Unless already reported as too long.)
                                if start.is_some() {
                                    let skip = self.skip(
                                        Location::Element(self.next_index),
                                        "an object that does not end; passed over up to the \
                                         next line that starts with '{'"
                                            .to_owned(),
                                    );
                                    self.skips.push(skip);
                                }
                            } else if let Some(begin) = start {
                                self.finish_element(begin, at);
                            }
                            self.next_index += 1;
                            if !consumed && !closes_array && !self.sequence {
                                // Read all the same; said, as the file is not valid JSON.
                                let note = Skip {
                                    records: 0,
                                    ..self.skip(
                                        Location::Element(self.next_index),
                                        "no ',' before this element; read anyway".to_owned(),
                                    )
                                };
                                self.skips.push(note);
                            }
                            self.state = if closes_array {
                                State::AfterArray
                            } else {
                                State::BeforeElement { first: false }
                            };
                            i = if consumed { at + 1 } else { at };
                        }
                    }
                }
                State::AfterArray => {
                    if self.pending[i].is_ascii_whitespace() {
                        i += 1;
                    } else if self.pending[i] == b'[' {
                        // Arrays one after the other (a file appended to): elements go on.
                        self.state = State::BeforeElement { first: true };
                        i += 1;
                    } else {
                        let skip = self.skip(
                            Location::File,
                            "data after the end of the JSON array, ignored".to_owned(),
                        );
                        self.skips.push(skip);
                        self.state = State::Done;
                    }
                }
                State::Done => {
                    i = len;
                }
            }
        }
        self.pos = i;
    }

    /// Records the element `pending[begin..end]` (blanks trimmed), or skips it if it is not an
    /// object.
    fn finish_element(&mut self, begin: usize, end: usize) {
        let element = &self.pending[begin..end];
        let trimmed = element
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |last| last + 1);
        if element.first() == Some(&b'{') {
            self.spans.push(Span {
                number: self.next_index,
                start: begin,
                end: begin + trimmed,
            });
        } else {
            let skip = self.skip(
                Location::Element(self.next_index),
                "not a JSON object".to_owned(),
            );
            self.skips.push(skip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `input` with a reader that returns at most `step` bytes per read, so elements and
    /// escapes straddle reads.
    fn split(input: &[u8], target: usize, step: usize) -> (Vec<(u64, String)>, Vec<Skip>) {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let pool = Arc::new(BufferPool::new());
        let mut reader = ArrayElements::new(
            Trickle(input, step),
            "a.json".into(),
            pool,
            target,
            1000,
            false,
        );
        let mut elements = Vec::new();
        let mut skips = Vec::new();
        let mut saw_last = false;
        while let Some(block) = reader.next_block() {
            assert!(!saw_last, "no block after the last one");
            saw_last = block.last;
            for span in &block.spans {
                let text = String::from_utf8_lossy(&block.buf[span.start..span.end]).into_owned();
                elements.push((span.number, text));
            }
            skips.extend(block.skips);
        }
        assert!(saw_last);
        (elements, skips)
    }

    #[test]
    fn elements_come_out_whole_whatever_the_read_sizes() {
        let input = br#" [ {"a": "x,]}\"\\", "b": [1, {"c": 2}]} ,
            {"d": "\u0041"},{}
        ] "#;
        let want = vec![
            (1, r#"{"a": "x,]}\"\\", "b": [1, {"c": 2}]}"#.to_owned()),
            (2, r#"{"d": "\u0041"}"#.to_owned()),
            (3, "{}".to_owned()),
        ];
        for step in [1, 2, 3, 7, 64, 4096] {
            for target in [1, 10, 1 << 20] {
                let (elements, skips) = split(input, target, step);
                assert_eq!(elements, want, "step {step} target {target}");
                assert!(skips.is_empty(), "{skips:?}");
            }
        }
    }

    #[test]
    fn non_objects_and_empty_elements_are_skipped_with_their_index() {
        let (elements, skips) = split(br#"[{"a":1}, 2, "s", [3], , {"b":2},]"#, 1 << 20, 5);
        assert_eq!(
            elements,
            [(1, r#"{"a":1}"#.into()), (6, r#"{"b":2}"#.into())]
        );
        let locations: Vec<_> = skips.iter().map(|s| s.location).collect();
        assert_eq!(
            locations,
            [2, 3, 4, 5, 7].map(Location::Element),
            "{skips:?}"
        );
    }

    #[test]
    fn a_missing_comma_between_objects_loses_neither() {
        // `[2]` and `x` stand between objects without commas: each is an element of its own
        // (not an object, so skipped), and no object is lost with them (the second fuzz sweep
        // found `[{"a":1} 5 {"a":2}]` losing the first object).
        let input = br#"[{"a":"}"} {"b":[1]}[2] ,{"c":{}}  {"d":1} x {"e":1}, 5 {"f":1}]"#;
        for step in [1, 3, 4096] {
            let (elements, skips) = split(input, 1 << 20, step);
            assert_eq!(
                elements,
                [
                    (1, r#"{"a":"}"}"#.to_owned()),
                    (2, r#"{"b":[1]}"#.to_owned()),
                    (4, r#"{"c":{}}"#.to_owned()),
                    (5, r#"{"d":1}"#.to_owned()),
                    (7, r#"{"e":1}"#.to_owned()),
                    (9, r#"{"f":1}"#.to_owned())
                ],
                "step {step}"
            );
            // Each missing comma is a note that counts nothing; each stray value a skip.
            let found: Vec<_> = skips.iter().map(|s| (s.location, s.records)).collect();
            let want = [
                (2, 0),
                (3, 0),
                (3, 1),
                (5, 0),
                (6, 0),
                (6, 1),
                (7, 0),
                (8, 1),
                (9, 0),
            ]
            .map(|(n, records)| (Location::Element(n), records));
            assert_eq!(found, want, "{skips:?}");
            assert_eq!(skips[0].reason, "no ',' before this element; read anyway");
        }
    }

    #[test]
    fn truncated_arrays_and_trailing_data_are_reported() {
        let (elements, skips) = split(br#"[{"a":1}, {"b": "unterminated"#, 1 << 20, 4);
        assert_eq!(elements, [(1, r#"{"a":1}"#.into())]);
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].location, Location::Element(2));

        // Arrays one after the other go on (a file appended to); anything else after the
        // array is reported.
        for step in [1, 4, 4096] {
            let (elements, skips) = split(br#"[{"a":1}] [{"b":2}]"#, 1 << 20, step);
            assert_eq!(
                elements,
                [(1, r#"{"a":1}"#.into()), (2, r#"{"b":2}"#.into())]
            );
            assert!(skips.is_empty(), "{skips:?}");
        }
        let (elements, skips) = split(br#"[{"a":1}] x"#, 1 << 20, 4);
        assert_eq!(elements.len(), 1);
        assert_eq!(skips[0].location, Location::File);

        let (elements, skips) = split(br#"nope"#, 1 << 20, 4);
        assert!(elements.is_empty());
        assert_eq!(skips[0].location, Location::File);

        let (elements, skips) = split(b"  [ ]  ", 1 << 20, 1);
        assert!(elements.is_empty() && skips.is_empty());
        let (elements, skips) = split(b"", 1 << 20, 1);
        assert!(elements.is_empty() && skips.is_empty());
    }

    #[test]
    fn pretty_printed_objects_one_after_the_other_are_elements() {
        let input = b"{\n  \"a\": {\"b\": \"}\"},\n  \"c\": [1, {}]\n}\n{\n \"d\": 2\n}\n\n";
        for step in [1, 3, 64] {
            let (elements, skips) = split(input, 8, step);
            assert!(skips.is_empty(), "{skips:?}");
            assert_eq!(elements.len(), 2);
            assert_eq!(elements[0].0, 1);
            assert!(elements[0].1.ends_with("]\n}"), "{:?}", elements[0].1);
            assert_eq!(elements[1], (2, "{\n \"d\": 2\n}".to_owned()));
        }
        let (elements, skips) = split(b"{\"a\": 1}\n{\"b\": ", 1 << 20, 4);
        assert_eq!(elements.len(), 1);
        assert_eq!(skips[0].location, Location::Element(2));
        let (elements, skips) = split(b"{\"a\": 1} 7 {\"b\": 2}", 1 << 20, 4);
        assert_eq!(elements.len(), 1);
        assert_eq!(skips[0].location, Location::Element(2));
    }

    #[test]
    fn a_junk_line_between_pretty_printed_objects_is_passed_over_to_the_next_object_line() {
        let input =
            b"{\n \"a\": 1\n}\n\0\x01junk { \"x\"\n  {\"no\": 1}\n{\n \"b\": 2\n}\n{\"c\": 3}\n";
        for step in [1, 2, 5, 64] {
            let (elements, skips) = split(input, 8, step);
            let names: Vec<(u64, &str)> = elements.iter().map(|(n, t)| (*n, &t[..7])).collect();
            assert_eq!(
                names,
                [(1, "{\n \"a\":"), (3, "{\n \"b\":"), (4, "{\"c\": 3")],
                "step {step}"
            );
            let spots: Vec<(Location, u64)> =
                skips.iter().map(|s| (s.location, s.records)).collect();
            assert_eq!(spots, [(Location::Element(2), 1)], "step {step}");
            assert!(
                skips[0]
                    .reason
                    .starts_with("not a JSON object; passed over")
            );
        }
        // Commas between objects (an array without its brackets) are separators.
        let (elements, skips) = split(b"{\"a\": 1},\n{\n \"b\": 2\n}\n,{\"c\": 3}", 8, 3);
        let numbers: Vec<u64> = elements.iter().map(|e| e.0).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert!(skips.is_empty(), "{skips:?}");
        // Junk up to the end: nothing more, and no second report.
        let (elements, skips) = split(b"{\"a\": 1}\n%%%\n  {\"b\": 2}\n", 1 << 20, 3);
        assert_eq!(elements.len(), 1);
        assert_eq!(skips.len(), 1);
    }

    /// An object that never ends (`{ "broken":` and a newline) swallowed the objects after it
    /// and was reported as an array cut short; it is passed over up to the next line that
    /// starts with `{`. Found by the fifth review.
    #[test]
    fn an_object_that_never_ends_loses_only_itself() {
        let input = b"{\n \"a\": 1\n}\n{ \"broken\":\n{\"b\": 2}\n{\n \"c\": 3\n}\n";
        for step in [1, 3, 64] {
            for target in [8, 1 << 20] {
                let (elements, skips) = split(input, target, step);
                let numbers: Vec<u64> = elements.iter().map(|e| e.0).collect();
                assert_eq!(numbers, [1, 3, 4], "step {step}, target {target}");
                assert_eq!(elements[1].1, "{\"b\": 2}");
                let spots: Vec<(Location, &str)> = skips
                    .iter()
                    .map(|s| (s.location, s.reason.as_str()))
                    .collect();
                assert_eq!(
                    spots,
                    [(
                        Location::Element(2),
                        "an object that does not end; passed over up to the next line that \
                         starts with '{'"
                    )],
                    "step {step}, target {target}"
                );
            }
        }
        // Objects in an array printed without indentation start lines: not broken.
        let (elements, skips) = split(
            b"{\n\"a\": [\n{\n\"x\": 1\n},\n{\n\"y\": 2\n}\n]\n}\n{\"b\": 2}\n",
            1 << 20,
            3,
        );
        assert_eq!(elements.len(), 2, "{elements:?}");
        assert!(skips.is_empty(), "{skips:?}");
        // The last object cut short: said as it is.
        let (elements, skips) = split(b"{\"a\": 1}\n{\n \"b\": \"x", 1 << 20, 2);
        assert_eq!(elements.len(), 1);
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].reason, "input ends inside an object (truncated?)");
    }

    /// A small deterministic generator, so the test needs no extra crate and fails the same
    /// way every time.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_value(rng: &mut XorShift, depth: u32) -> serde_json::Value {
        use serde_json::Value;
        let strings = [
            "",
            "a,b",
            "]}",
            "q\"uote",
            "back\\slash",
            "caf\u{e9} \u{1f600}",
            "\n\t",
        ];
        match rng.below(if depth == 0 { 4 } else { 6 }) {
            0 => Value::from(rng.below(1000) as i64 - 500),
            1 => Value::from(strings[rng.below(strings.len() as u64) as usize]),
            2 => Value::Bool(rng.below(2) == 0),
            3 => Value::Null,
            4 => (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
            _ => {
                let mut map = serde_json::Map::new();
                for i in 0..rng.below(4) {
                    map.insert(
                        format!("k{i}{}", strings[i as usize]),
                        random_value(rng, depth - 1),
                    );
                }
                Value::Object(map)
            }
        }
    }

    #[test]
    fn random_arrays_split_into_exactly_their_elements() {
        let mut rng = XorShift(0x5eed_1234_abcd_0001);
        for round in 0..300 {
            let elements: Vec<serde_json::Value> = (0..rng.below(8))
                .map(|_| random_value(&mut rng, 3))
                .collect();
            let array = serde_json::Value::Array(elements.clone());
            let text = if round % 2 == 0 {
                serde_json::to_string(&array).unwrap()
            } else {
                serde_json::to_string_pretty(&array).unwrap()
            };
            let step = 1 + rng.below(40) as usize;
            let target = 1 + rng.below(200) as usize;
            let (got, skips) = split(text.as_bytes(), target, step);
            let objects: Vec<(u64, serde_json::Value)> = elements
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_object())
                .map(|(i, v)| (i as u64 + 1, v.clone()))
                .collect();
            let parsed: Vec<(u64, serde_json::Value)> = got
                .iter()
                .map(|(n, t)| (*n, serde_json::from_str(t).unwrap()))
                .collect();
            assert_eq!(parsed, objects, "{text}");
            assert_eq!(skips.len(), elements.len() - objects.len(), "{text}");
        }
    }

    #[test]
    fn garbage_never_panics_or_loops() {
        let mut rng = XorShift(0x0bad_c0de_0000_0007);
        let alphabet = b"[]{},\" \\:ab1\n\xff";
        for _ in 0..500 {
            let len = rng.below(300) as usize;
            let mut input = vec![b'['];
            input.extend((0..len).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize]));
            let step = 1 + rng.below(16) as usize;
            let _ = split(&input, 1 + rng.below(64) as usize, step);
        }
    }

    #[test]
    fn an_oversized_element_is_skipped_and_the_rest_continues() {
        let big = format!(r#"{{"x": "{}"}}"#, "y".repeat(5000));
        let input = format!(r#"[{{"a":1}}, {big}, {{"b":2}}]"#);
        let (elements, skips) = split(input.as_bytes(), 64, 100);
        assert_eq!(
            elements,
            [(1, r#"{"a":1}"#.into()), (3, r#"{"b":2}"#.into())]
        );
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].location, Location::Element(2));
    }
}
