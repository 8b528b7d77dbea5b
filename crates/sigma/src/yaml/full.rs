//! The complete path: `saphyr-parser` events turned into the same [`Node`] tree as the fast path,
//! with PyYAML's resolution, merge keys, aliases, and the few places where PyYAML (YAML 1.1) is
//! stricter than saphyr (YAML 1.2): tabs, a bare document after `...`, a leading `...`.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle as SStyle, Tag};

use super::build::{MapBuilder, Merges};
use super::resolve::{apply_scalar_tag, resolve_plain};
use super::text::{LineIndex, pos_on_line, quoted_end, scan_to_token, trim_back};
use super::{Documents, Node, ScalarStyle, Value, YamlError};
use crate::span::{Pos, Span};

/// Collections nested deeper than this are refused (PyYAML stops near 1000 on Python's
/// recursion limit; deep trees would also make recursive `Drop`/`Clone` costly).
const MAX_DEPTH: usize = 512;
/// Upper bound on nodes created by expanding aliases in one stream ("billion laughs").
const MAX_EXPANDED: usize = 1_000_000;

const CORE: &str = "tag:yaml.org,2002:";

/// Read a stream with `saphyr-parser`.
pub(crate) fn parse(src: &str, base: u32) -> Documents {
    let mut f = Full {
        src,
        b: src.as_bytes(),
        base,
        ascii: src.is_ascii(),
        lines: LineIndex::new(src),
        lb: 0,
        stack: Vec::new(),
        anchors: HashMap::new(),
        errors: Vec::new(),
        docs: Vec::new(),
        doc_ends: Vec::new(),
        doc_errors: Vec::new(),
        root: None,
        expanded: 0,
        regions: Vec::new(),
        char_cursor: Cell::new((0, 0)),
    };
    let fatal = f.run();
    f.finish(fatal)
}

/// A PyYAML-only special meaning of a plain scalar.
#[derive(Clone, Copy, PartialEq)]
enum Special {
    /// `<<`: a merge key.
    Merge,
    /// `=`: the YAML 1.1 "value" key.
    ValueKey,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        anchor: usize,
        /// Offset of `[`, for a flow sequence.
        flow: Option<usize>,
        /// Offset of the first `-`, for a block sequence.
        dash: usize,
        last_end: Option<Pos>,
    },
    Map {
        map: MapBuilder,
        merges: Merges,
        pending: Option<(Node, bool)>,
        anchor: usize,
        /// Offset of `{`, for a flow mapping.
        flow: Option<usize>,
        marker: usize,
        first_key: Option<Pos>,
        last_end: Option<Pos>,
    },
}

/// A scalar's extent in the text, for deciding whether a tab is inside one.
struct Region {
    start: usize,
    end: usize,
    /// Quoted and block scalars may hold tabs; plain ones may not.
    tabs_ok: bool,
}

struct Full<'a> {
    src: &'a str,
    b: &'a [u8],
    base: u32,
    ascii: bool,
    lines: LineIndex,
    /// Lower bound for the forward scans that find block indicators (end of the last token).
    lb: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    errors: Vec<YamlError>,
    docs: Vec<Node>,
    /// Where each finished document ends, and how many errors had been found by then.
    doc_ends: Vec<usize>,
    doc_errors: Vec<usize>,
    root: Option<Node>,
    expanded: usize,
    regions: Vec<Region>,
    /// (character index, byte offset) of the last marker converted.
    char_cursor: Cell<(usize, usize)>,
}

impl Full<'_> {
    /// Byte offset of a saphyr marker. Its character index is used rather than its line and
    /// column, which run past the last line at the end of a text without a final line break.
    fn off(&self, m: &Marker) -> usize {
        let ci = m.index();
        if self.ascii {
            return ci.min(self.b.len());
        }
        // Markers come mostly in increasing order: walk on from the last one.
        let (mut c, mut o) = self.char_cursor.get();
        if ci < c {
            (c, o) = (0, 0);
        }
        let rest = self.src.get(o..).unwrap_or("");
        let byte = rest
            .char_indices()
            .nth(ci - c)
            .map_or(self.b.len(), |(k, _)| o + k);
        self.char_cursor.set((ci, byte));
        byte
    }

    fn pos_of_marker(&self, m: &Marker) -> Pos {
        self.pos(self.off(m))
    }

    fn pos(&self, off: usize) -> Pos {
        let (line, ls) = self.lines.line_of(off);
        pos_on_line(self.src, self.ascii, self.base, off, line, ls)
    }

    fn error(&mut self, message: String, span: Span) {
        self.errors.push(YamlError {
            message,
            span,
            fatal: false,
        });
    }

    /// Run the parser. Returns the fatal error (with its byte offset), if any.
    fn run(&mut self) -> Option<(usize, YamlError)> {
        if let Some(off) = self.leading_document_end() {
            let span = Span::point(self.pos(off));
            return Some((
                off,
                fatal("expected the node content, but found '...'", span),
            ));
        }
        let mut parser = Parser::new_from_str(self.src);
        loop {
            let (ev, sp) = match parser.next_event() {
                None => return None,
                Some(Err(e)) => {
                    let off = self.off(e.marker());
                    let span = Span::point(self.pos_of_marker(e.marker()));
                    return Some((off, fatal(e.info(), span)));
                }
                Some(Ok(x)) => x,
            };
            let (s_off, e_off) = (self.off(&sp.start), self.off(&sp.end));
            match ev {
                Event::StreamEnd => return None,
                Event::StreamStart | Event::Nothing => {}
                Event::DocumentStart(explicit) => {
                    if !explicit && !self.docs.is_empty() {
                        let span = Span::point(self.pos(s_off));
                        let msg =
                            "expected '---' before this document (YAML 1.1 needs it after '...')";
                        return Some((s_off, fatal(msg, span)));
                    }
                    // An implicit start points at the first token, not before it.
                    if explicit {
                        self.lb = self.lb.max(e_off);
                    }
                }
                Event::DocumentEnd => {
                    let root = match self.root.take() {
                        Some(r) => r,
                        None => Node::new(Value::Null, Span::point(self.pos(s_off))),
                    };
                    self.docs.push(root);
                    self.doc_ends.push(e_off.max(s_off));
                    self.doc_errors.push(self.errors.len());
                    self.anchors.clear();
                    self.lb = self.lb.max(e_off);
                }
                Event::Alias(id) => {
                    let span = Span::new(self.pos(s_off), self.pos(e_off));
                    let Some(mut node) = self.anchors.get(&id).cloned() else {
                        let msg = "found an alias to an anchor that is not defined before it \
                                   (recursive aliases are not supported)";
                        return Some((s_off, fatal(msg, span)));
                    };
                    self.expanded += count_nodes(&node);
                    if self.expanded > MAX_EXPANDED {
                        let msg = "aliases expand to too many nodes";
                        return Some((s_off, fatal(msg, span)));
                    }
                    node.span = span;
                    self.lb = self.lb.max(e_off);
                    self.add(node, 0, None);
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let (node, special) =
                        self.scalar(value, style, anchor, tag.as_deref(), s_off, e_off);
                    self.add(node, anchor, special);
                }
                Event::SequenceStart(anchor, tag) => {
                    if self.stack.len() >= MAX_DEPTH {
                        let span = Span::point(self.pos(s_off));
                        return Some((s_off, fatal("collections are nested too deeply", span)));
                    }
                    self.collection_tag(tag.as_deref(), "seq", s_off);
                    let flow = self.flow_open(s_off, b'[');
                    let dash = match flow {
                        Some(_) => s_off,
                        None => {
                            let want = |c: u8| c == b'-';
                            // Inside a block sequence that already has items, the first dash
                            // after the last token is the parent's entry: ours follows it.
                            let mut from = self.lb;
                            if let Some(Frame::Seq {
                                flow: None, items, ..
                            }) = self.stack.last()
                                && !items.is_empty()
                            {
                                from = scan_to_token(self.b, from, want).map_or(from, |f| f.at + 1);
                            }
                            let d = scan_to_token(self.b, from, want).map_or(s_off, |f| f.at);
                            self.lb = self.lb.max(d + 1);
                            d
                        }
                    };
                    self.stack.push(Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        flow,
                        dash,
                        last_end: None,
                    });
                }
                Event::MappingStart(anchor, tag) => {
                    if self.stack.len() >= MAX_DEPTH {
                        let span = Span::point(self.pos(s_off));
                        return Some((s_off, fatal("collections are nested too deeply", span)));
                    }
                    self.collection_tag(tag.as_deref(), "map", s_off);
                    let flow = self.flow_open(s_off, b'{');
                    self.stack.push(Frame::Map {
                        map: MapBuilder::new(),
                        merges: Merges::default(),
                        pending: None,
                        anchor,
                        flow,
                        marker: s_off,
                        first_key: None,
                        last_end: None,
                    });
                }
                Event::SequenceEnd => {
                    let Some(Frame::Seq {
                        items,
                        anchor,
                        flow,
                        dash,
                        last_end,
                    }) = self.stack.pop()
                    else {
                        continue;
                    };
                    let span = match flow {
                        Some(open) => {
                            // The end event starts at the bracket (its span may run on).
                            let close = if matches!(self.b.get(s_off), Some(b']' | b'}')) {
                                s_off + 1
                            } else {
                                e_off
                            };
                            self.lb = self.lb.max(close);
                            Span::new(self.pos(open), self.pos(close))
                        }
                        None => {
                            let start = self.pos(dash);
                            Span::new(start, last_end.unwrap_or(start))
                        }
                    };
                    self.add(Node::new(Value::Seq(items), span), anchor, None);
                }
                Event::MappingEnd => {
                    let Some(Frame::Map {
                        map,
                        merges,
                        anchor,
                        flow,
                        marker,
                        first_key,
                        last_end,
                        ..
                    }) = self.stack.pop()
                    else {
                        continue;
                    };
                    let span = match flow {
                        Some(open) => {
                            // The end event starts at the bracket (its span may run on).
                            let close = if matches!(self.b.get(s_off), Some(b']' | b'}')) {
                                s_off + 1
                            } else {
                                e_off
                            };
                            self.lb = self.lb.max(close);
                            Span::new(self.pos(open), self.pos(close))
                        }
                        None => {
                            let start = first_key.unwrap_or_else(|| self.pos(marker));
                            Span::new(start, last_end.unwrap_or(start))
                        }
                    };
                    let entries = merges.apply(map);
                    self.add(Node::new(Value::Map(entries), span), anchor, None);
                }
            }
        }
    }

    /// A `...` before any document is an error for PyYAML; saphyr skips it silently.
    fn leading_document_end(&self) -> Option<usize> {
        let mut i = 0;
        let b = self.b;
        loop {
            if i >= b.len() {
                return None;
            }
            let ls = i;
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            match b.get(i) {
                Some(b'#') | Some(b'\n') | Some(b'\r') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                }
                _ => {
                    let marker = i == ls && b[i..].starts_with(b"...");
                    let after = b.get(i + 3).copied();
                    let blank = matches!(after, None | Some(b' ' | b'\t' | b'\r' | b'\n'));
                    return (marker && blank).then_some(i);
                }
            }
        }
    }

    /// The offset of the opening bracket if the collection starting at `off` is in flow style.
    fn flow_open(&self, off: usize, open: u8) -> Option<usize> {
        let mut i = off;
        let b = self.b;
        loop {
            match b.get(i) {
                Some(&c) if c == open => return Some(i),
                Some(b'&' | b'!') => {
                    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
                        i += 1;
                    }
                }
                Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
                _ => return None,
            }
        }
    }

    fn collection_tag(&mut self, tag: Option<&Tag>, want: &str, off: usize) {
        let Some(tag) = tag else { return };
        let full = full_tag(tag);
        if full == "!" || full.strip_prefix(CORE) == Some(want) {
            return;
        }
        let span = Span::point(self.pos(off));
        self.error(unsupported_tag(&full), span);
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: SStyle,
        anchor: usize,
        tag: Option<&Tag>,
        s_off: usize,
        e_off: usize,
    ) -> (Node, Option<Special>) {
        let style = match style {
            SStyle::Plain => ScalarStyle::Plain,
            SStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            SStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            SStyle::Literal => ScalarStyle::Literal,
            SStyle::Folded => ScalarStyle::Folded,
        };
        // saphyr ends a block scalar that runs to the end of a text without a final line
        // break with one more line break than PyYAML does.
        let mut eof_fix = false;
        let span = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let found = scan_to_token(self.b, self.lb, |c| c == b'|' || c == b'>');
                let (start, header_end, strip) = match found {
                    Some(f) => {
                        let mut h = f.at + 1;
                        while matches!(self.b.get(h), Some(b'-' | b'+' | b'0'..=b'9')) {
                            h += 1;
                        }
                        (
                            f.props.unwrap_or(f.at),
                            h,
                            self.b[f.at + 1..h].contains(&b'-'),
                        )
                    }
                    None => (s_off, s_off, false),
                };
                self.regions.push(Region {
                    start,
                    end: e_off,
                    tabs_ok: true,
                });
                let end = trim_back(self.b, e_off, header_end);
                if e_off >= self.b.len() && self.eof_line_is_content(header_end) {
                    eof_fix = !strip;
                }
                Span::new(self.pos(start), self.pos(end))
            }
            // An empty node with a tag or anchor is where its first property is (as in PyYAML).
            ScalarStyle::Plain if value.is_empty() && (tag.is_some() || anchor != 0) => {
                let at = scan_to_token(self.b, self.lb, |c| c == b'&' || c == b'!')
                    .map_or(s_off, |f| f.at);
                Span::point(self.pos(at))
            }
            ScalarStyle::Plain if value.is_empty() => Span::point(self.pos(self.empty_at(s_off))),
            ScalarStyle::Plain => {
                self.regions.push(Region {
                    start: s_off,
                    end: e_off,
                    tabs_ok: false,
                });
                Span::new(self.pos(s_off), self.pos(e_off))
            }
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                // The span may start at a tag or anchor: find the opening quote.
                let open = scan_to_token(self.b, s_off, |c| c == b'\'' || c == b'"')
                    .map_or(s_off, |f| f.at);
                let end = quoted_end(self.b, open).unwrap_or(e_off);
                self.regions.push(Region {
                    start: open,
                    end,
                    tabs_ok: true,
                });
                Span::new(self.pos(s_off), self.pos(end))
            }
        };
        self.lb = self.lb.max(e_off);
        let value = match value {
            Cow::Owned(mut v) if eof_fix && v.ends_with('\n') => {
                v.pop();
                Cow::Owned(v)
            }
            Cow::Borrowed(v) if eof_fix && v.ends_with('\n') => Cow::Borrowed(&v[..v.len() - 1]),
            v => v,
        };

        let mut special = None;
        let value = match tag.map(full_tag) {
            None if style == ScalarStyle::Plain => {
                special = match value.as_ref() {
                    "<<" => Some(Special::Merge),
                    "=" => Some(Special::ValueKey),
                    _ => None,
                };
                self.resolve(value, span)
            }
            None => Value::Str(value.into_owned(), style),
            // PyYAML resolves a scalar with the non-specific tag `!` like a plain one, even
            // when it is quoted (`! '12'` is an int); a string keeps its style.
            Some(t) if t == "!" => match self.resolve(value, span) {
                Value::Str(s, _) => Value::Str(s, style),
                v => v,
            },
            Some(t) if t == "tag:yaml.org,2002:merge" => {
                special = Some(Special::Merge);
                Value::Str(value.into_owned(), style)
            }
            Some(t) if t == "tag:yaml.org,2002:value" => {
                special = Some(Special::ValueKey);
                Value::Str(value.into_owned(), style)
            }
            Some(t) => match apply_scalar_tag(&t, Cow::Borrowed(&value), style) {
                Ok(Some(v)) => v,
                Ok(None) => {
                    self.error(unsupported_tag(&t), span);
                    if style == ScalarStyle::Plain {
                        self.resolve(value, span)
                    } else {
                        Value::Str(value.into_owned(), style)
                    }
                }
                Err((msg, v)) => {
                    self.error(msg, span);
                    v
                }
            },
        };
        (Node::new(value, span), special)
    }

    /// For a block scalar whose header ends at `header_end` and which runs to the end of the
    /// text: does the text end without a line break, on a line that belongs to the scalar
    /// (indented at least as much as its first content line)?
    fn eof_line_is_content(&self, header_end: usize) -> bool {
        let b = self.b;
        if b.is_empty() || matches!(b[b.len() - 1], b'\n' | b'\r') {
            return false;
        }
        let spaces = |from: usize| b[from..].iter().take_while(|&&c| c == b' ').count();
        // The first non-blank line after the header gives the indentation.
        let mut i = match memchr::memchr(b'\n', &b[header_end.min(b.len())..]) {
            Some(n) => header_end + n + 1,
            None => return false,
        };
        let indent = loop {
            let k = spaces(i);
            match b.get(i + k) {
                Some(b'\n') => i += k + 1,
                Some(b'\r') if b.get(i + k + 1) == Some(&b'\n') => i += k + 2,
                None => return false,
                Some(_) => break k,
            }
        };
        let last = memchr::memrchr(b'\n', b).map_or(0, |n| n + 1);
        last >= i && b.len() - last >= indent
    }

    fn resolve(&mut self, text: Cow<'_, str>, span: Span) -> Value {
        let r = resolve_plain(text);
        if let Some(msg) = r.problem {
            self.error(msg, span);
        }
        r.value
    }

    /// Where an empty node inside a collection is: just after the `:` or `-` it follows (saphyr
    /// puts an empty sequence entry at the next token, past any comment).
    fn empty_at(&self, off: usize) -> usize {
        let b = self.b;
        if self.stack.is_empty() {
            return off;
        }
        if b.get(off) == Some(&b':') {
            return off + 1;
        }
        let blank = |i: usize| matches!(b.get(i), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
        let mut last = None;
        let mut i = self.lb;
        while i < off {
            match b[i] {
                b'#' => {
                    while i < off && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'-' | b':' | b'?' if blank(i + 1) => {
                    last = Some(i + 1);
                    i += 1;
                }
                _ => i += 1,
            }
        }
        match last {
            Some(p) => p,
            None if self.lb > 0
                && matches!(b.get(self.lb - 1), Some(b'-' | b':'))
                && blank(self.lb) =>
            {
                self.lb
            }
            None => off,
        }
    }

    /// Attach a finished node to its parent.
    fn add(&mut self, node: Node, anchor: usize, special: Option<Special>) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let in_key_position = matches!(self.stack.last(), Some(Frame::Map { pending: None, .. }));
        if let Some(sp) = special
            && !in_key_position
        {
            let msg = match sp {
                Special::Merge => "`<<` (a merge key) can only be used as a mapping key",
                Special::ValueKey => {
                    "a plain `=` (the YAML 1.1 value key) cannot be a value; quote it"
                }
            };
            self.error(msg.into(), node.span);
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq {
                items, last_end, ..
            }) => {
                *last_end = Some(node.span.end);
                items.push(node);
            }
            Some(Frame::Map {
                map,
                merges,
                pending,
                first_key,
                last_end,
                ..
            }) => match pending.take() {
                None => {
                    first_key.get_or_insert(node.span.start);
                    *pending = Some((node, special == Some(Special::Merge)));
                }
                Some((key, is_merge)) => {
                    *last_end = Some(node.span.end);
                    if is_merge {
                        merges.add(node, &mut self.errors);
                    } else {
                        map.insert_reporting(key, node, &mut self.errors);
                    }
                }
            },
        }
    }

    /// The first tab outside quoted scalars, block scalars and comments, before `limit`:
    /// PyYAML refuses those ("found character '\t' that cannot start any token").
    fn bad_tab(&mut self, limit: usize) -> Option<usize> {
        let b = self.b;
        let mut tabs = memchr::memchr_iter(b'\t', &b[..limit.min(b.len())]).peekable();
        tabs.peek()?;
        self.regions.sort_by_key(|r| r.start);
        let region_at = |p: usize| {
            let i = self.regions.partition_point(|r| r.start <= p);
            i.checked_sub(1)
                .map(|i| &self.regions[i])
                .filter(|r| p < r.end)
        };
        for p in tabs {
            if region_at(p).is_some_and(|r| r.tabs_ok) {
                continue;
            }
            let ls = memchr::memrchr(b'\n', &b[..p]).map_or(0, |n| n + 1);
            let in_comment = (ls..p).any(|h| {
                b[h] == b'#'
                    && (h == ls || matches!(b[h - 1], b' ' | b'\t'))
                    && region_at(h).is_none()
            });
            if !in_comment {
                return Some(p);
            }
        }
        None
    }

    fn finish(mut self, mut fatal: Option<(usize, YamlError)>) -> Documents {
        let limit = fatal.as_ref().map_or(self.b.len(), |(o, _)| *o);
        if let Some(p) = self.bad_tab(limit) {
            let msg = "found a tab character where YAML 1.1 allows none (tabs cannot indent \
                       or separate tokens; they are allowed in quoted scalars and comments)";
            fatal = Some((p, self::fatal(msg, Span::point(self.pos(p)))));
        }
        let mut errors = self.errors;
        let mut docs = self.docs;
        if let Some((off, err)) = fatal {
            // Keep the documents that ended before the error, with their own errors.
            let keep = self.doc_ends.partition_point(|&e| e <= off);
            docs.truncate(keep);
            errors.truncate(keep.checked_sub(1).map_or(0, |k| self.doc_errors[k]));
            errors.sort_by_key(|e| e.span.start.offset);
            errors.push(err);
        } else {
            errors.sort_by_key(|e| e.span.start.offset);
        }
        Documents { docs, errors }
    }
}

fn fatal(message: &str, span: Span) -> YamlError {
    YamlError {
        message: message.to_owned(),
        span,
        fatal: true,
    }
}

fn full_tag(t: &Tag) -> String {
    format!("{}{}", t.handle, t.suffix)
}

fn unsupported_tag(full: &str) -> String {
    let shown = match full.strip_prefix(CORE) {
        Some(rest) => format!("!!{rest}"),
        None => full.to_owned(),
    };
    format!("unsupported tag `{shown}` (read as if it were not there)")
}

/// Nodes in a tree, without recursion.
fn count_nodes(n: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![n];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.value {
            Value::Seq(items) => todo.extend(items),
            Value::Map(entries) => {
                for (k, v) in entries {
                    todo.push(k);
                    todo.push(v);
                }
            }
            _ => {}
        }
    }
    count
}
