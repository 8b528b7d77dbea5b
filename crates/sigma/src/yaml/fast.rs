//! The fast path: a hand-written reader for the regular part of YAML that Sigma rules use.
//!
//! It reads block mappings and sequences, plain / single- / double-quoted scalars (also over
//! several lines), `|` and `>` block scalars with chomping, one-line flow sequences, comments
//! and `---` / `...` separated documents, and builds [`Node`]s straight from the text: a scalar
//! borrows its text and only the final `String` is allocated.
//!
//! Anything else (anchors, aliases, tags, flow mappings, `?` keys, directives, merge keys, tabs
//! outside scalars and comments, explicit indentation indicators, multi-line flow sequences,
//! unusual empty block scalars, and every syntax error) makes it give up with [`Bail`]; the
//! caller then reads the whole stream again with the complete parser, which also reports the
//! errors. The differential tests check that wherever this path answers, it answers exactly
//! what the complete parser answers.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use super::build::insert_on_stack;
use super::resolve::resolve_plain;
use super::text::{point, pos_on_line, trim_back};
use super::{Documents, Node, ScalarStyle, TextInfo, Value, YamlError};
use crate::span::{Pos, Span};

/// The input is outside the fast path's subset (or malformed): read it with the full parser.
#[derive(Debug)]
pub(crate) struct Bail;

type R<T> = Result<T, Bail>;

/// Nesting deeper than this goes to the complete parser (which has its own limit).
const MAX_DEPTH: u32 = 64;
/// Mappings larger than this go to the complete parser, which finds repeated keys with a hash
/// table (the fast path compares linearly).
const MAX_MAP_LEN: usize = 256;
/// YAML limits implicit keys to 1024 characters.
const MAX_KEY_LEN: usize = 1024;

/// Read a stream, or `None` if it is outside the subset.
pub(crate) fn parse(src: &str, base: u32, info: TextInfo) -> Option<Documents> {
    let b = src.as_bytes();
    // A lone `\r` is a line break for YAML; leave such texts to the full parser.
    if info.has_cr && memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n')) {
        return None;
    }
    // saphyr refuses a byte order mark inside the text; leave that to it.
    if !info.ascii && memchr::memmem::find(b, "\u{feff}".as_bytes()).is_some() {
        return None;
    }
    let (map_stack, seq_stack) = STACKS.with(|cell| {
        cell.try_borrow_mut()
            .map(|mut st| std::mem::take(&mut *st))
            .unwrap_or_default()
    });
    let mut p = Fast {
        s: src,
        b: src.as_bytes(),
        base,
        ascii: info.ascii,
        i: 0,
        line: 1,
        ls: 0,
        errors: Vec::new(),
        depth: 0,
        map_stack,
        seq_stack,
        line_end_cache: Cell::new((usize::MAX, 0)),
    };
    let docs = p.stream();
    // Keep the (emptied) stacks' memory for the next text read on this thread.
    let (mut m, mut q) = (p.map_stack, p.seq_stack);
    if m.capacity() + q.capacity() <= 4096 {
        m.clear();
        q.clear();
        STACKS.with(|cell| {
            if let Ok(mut st) = cell.try_borrow_mut() {
                *st = (m, q);
            }
        });
    }
    let docs = docs.ok()?;
    let mut errors = p.errors;
    errors.sort_by_key(|e| e.span.start.offset);
    Some(Documents { docs, errors })
}

/// The scratch stacks of [`Fast`], reused from one text to the next.
type Stacks = (Vec<(Node, Node)>, Vec<Node>);

thread_local! {
    static STACKS: RefCell<Stacks> = const { RefCell::new((Vec::new(), Vec::new())) };
}

struct Fast<'a> {
    s: &'a str,
    b: &'a [u8],
    base: u32,
    ascii: bool,
    /// Cursor (byte offset).
    i: usize,
    /// 1-based line of the cursor.
    line: u32,
    /// Byte offset where the cursor's line starts.
    ls: usize,
    errors: Vec<YamlError>,
    depth: u32,
    /// Entries of the mappings and items of the sequences being read, innermost last.
    map_stack: Vec<(Node, Node)>,
    seq_stack: Vec<Node>,
    /// (line start, line end) of the last line whose end was looked up.
    line_end_cache: Cell<(usize, usize)>,
}

/// `memchr3`, with a plain loop for the short haystacks (most lines) where its setup costs
/// more than the search.
fn find3(a: u8, b: u8, c: u8, hay: &[u8]) -> Option<usize> {
    if hay.len() < 32 {
        hay.iter().position(|&x| x == a || x == b || x == c)
    } else {
        memchr::memchr3(a, b, c, hay)
    }
}

/// Bytes that cannot start a plain scalar (PyYAML's list; `-` is allowed when a non-blank
/// follows).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

#[derive(Clone, Copy)]
struct Mark {
    i: usize,
    line: u32,
    ls: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

impl<'a> Fast<'a> {
    // ---- cursor basics ----

    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn eof(&self) -> bool {
        self.i >= self.b.len()
    }

    fn mark(&self) -> Mark {
        Mark {
            i: self.i,
            line: self.line,
            ls: self.ls,
        }
    }

    fn reset(&mut self, m: Mark) {
        self.i = m.i;
        self.line = m.line;
        self.ls = m.ls;
    }

    /// Position of a byte offset on the cursor's line.
    fn pos(&self, off: usize) -> Pos {
        pos_on_line(self.s, self.ascii, self.base, off, self.line, self.ls)
    }

    fn here(&self) -> Pos {
        self.pos(self.i)
    }

    /// Is the byte at `i` a blank, a line break or the end?
    fn blank_or_end(&self, i: usize) -> bool {
        i >= self.b.len() || matches!(self.b[i], b' ' | b'\t' | b'\n' | b'\r')
    }

    /// Is the cursor at a line break or the end of the text?
    fn at_eol(&self) -> bool {
        matches!(self.peek(), b'\n' | b'\r') || self.eof()
    }

    /// Consume a line break (`\n` or `\r\n`). A lone `\r` is left to the full parser.
    fn newline(&mut self) -> R<()> {
        match self.peek() {
            b'\n' => self.i += 1,
            b'\r' if self.at(self.i + 1) == b'\n' => self.i += 2,
            _ => return Err(Bail),
        }
        self.line += 1;
        self.ls = self.i;
        Ok(())
    }

    fn skip_spaces(&mut self) -> R<()> {
        while self.peek() == b' ' {
            self.i += 1;
        }
        if self.peek() == b'\t' {
            return Err(Bail);
        }
        Ok(())
    }

    /// Offset of the end of the cursor's line (its line break or the end of the text).
    /// Remembered per line: several scans of one line ask for it.
    fn line_end(&self) -> usize {
        let (for_line, end) = self.line_end_cache.get();
        if for_line == self.ls && end >= self.i {
            return end;
        }
        let end = memchr::memchr(b'\n', &self.b[self.i..]).map_or(self.b.len(), |n| {
            let e = self.i + n;
            if e > 0 && self.b[e - 1] == b'\r' {
                e - 1
            } else {
                e
            }
        });
        self.line_end_cache.set((self.ls, end));
        end
    }

    /// After a node: blanks, an optional comment, then the end of the line (consumed).
    fn finish_line(&mut self) -> R<()> {
        self.skip_spaces()?;
        if self.peek() == b'#' {
            if self.i == self.ls || self.b[self.i - 1] != b' ' {
                return Err(Bail);
            }
            self.i = self.line_end();
        }
        if self.eof() {
            return Ok(());
        }
        self.newline()
    }

    /// Skip empty and comment lines. Returns the indentation of the next content line with the
    /// cursor on its first character, or `None` at the end of the text.
    fn next_content(&mut self) -> R<Option<usize>> {
        loop {
            self.skip_spaces()?;
            match self.peek() {
                b'\n' | b'\r' => self.newline()?,
                b'#' => {
                    self.i = self.line_end();
                    if !self.eof() {
                        self.newline()?;
                    }
                }
                _ if self.eof() => return Ok(None),
                _ => return Ok(Some(self.i - self.ls)),
            }
        }
    }

    /// Is the cursor (at column 0) on a `---` or `...` marker?
    fn at_doc_marker(&self) -> bool {
        self.i == self.ls
            && (self.b[self.i..].starts_with(b"---") || self.b[self.i..].starts_with(b"..."))
            && self.blank_or_end(self.i + 3)
    }

    /// Is the cursor on a block sequence entry (`-` then a blank or the end of the line)?
    fn at_dash(&self) -> bool {
        self.peek() == b'-' && self.blank_or_end(self.i + 1)
    }

    /// Can a plain scalar start at the cursor, in block context? (`-`, `?` and `:` can when a
    /// non-blank follows, as in `:\\path`.)
    fn block_plain_start(&self) -> bool {
        let c = self.peek();
        !is_indicator(c) || (matches!(c, b'-' | b'?' | b':') && !self.blank_or_end(self.i + 1))
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    // ---- stream and documents ----

    fn stream(&mut self) -> R<Vec<Node>> {
        let mut docs = Vec::new();
        while let Some(ind) = self.next_content()? {
            if ind == 0 && self.at_doc_marker() {
                if self.peek() == b'.' {
                    // `...` with no document before it is an error for PyYAML.
                    if docs.is_empty() {
                        return Err(Bail);
                    }
                    self.i += 3;
                    self.finish_line()?;
                    continue;
                }
                self.i += 3;
                self.finish_line()?;
                match self.next_content()? {
                    Some(0) if self.at_doc_marker() => {
                        docs.push(Node::new(Value::Null, point(self.here())));
                        continue;
                    }
                    None => {
                        docs.push(Node::new(Value::Null, point(self.here())));
                        continue;
                    }
                    Some(_) => {}
                }
            } else if !docs.is_empty() || self.peek() == b'%' {
                // A bare document after another one (PyYAML wants `---`), or a directive.
                return Err(Bail);
            }
            let root = self.block_node(-1)?;
            docs.push(root);
            match self.next_content()? {
                None => {}
                Some(0) if self.at_doc_marker() => {}
                Some(_) => return Err(Bail),
            }
        }
        Ok(docs)
    }

    // ---- block nodes ----

    /// A node starting at the cursor (a non-blank). `parent` is the column of the enclosing
    /// block collection, -1 at the root.
    fn block_node(&mut self, parent: i32) -> R<Node> {
        self.enter()?;
        let col = self.i - self.ls;
        let node = match self.peek() {
            b'-' if self.blank_or_end(self.i + 1) => self.block_seq(col)?,
            b'[' => {
                let n = self.flow_seq()?;
                self.skip_spaces()?;
                if self.peek() == b':' {
                    return Err(Bail);
                }
                self.finish_line()?;
                n
            }
            b'|' | b'>' => self.block_scalar(parent)?,
            b'"' | b'\'' => {
                let start = self.mark();
                let (node, multi) = self.quoted(parent)?;
                self.skip_spaces()?;
                if self.peek() == b':' {
                    if multi || !self.blank_or_end(self.i + 1) {
                        return Err(Bail);
                    }
                    self.reset(start);
                    self.block_map(col)?
                } else {
                    self.finish_line()?;
                    node
                }
            }
            _ if !self.block_plain_start() => return Err(Bail),
            _ => {
                if self.plain_key_end()?.is_some() {
                    self.block_map(col)?
                } else {
                    self.plain(parent)?
                }
            }
        };
        self.depth -= 1;
        Ok(node)
    }

    /// If the plain text at the cursor is a mapping key, the offset of its `:`.
    fn plain_key_end(&self) -> R<Option<usize>> {
        let end = self.line_end();
        let mut j = self.i;
        while let Some(n) = find3(b':', b'#', b'\t', &self.b[j..end]) {
            j += n;
            match self.b[j] {
                b':' if self.blank_or_end(j + 1) => {
                    if self.at(j + 1) == b'\t' {
                        return Err(Bail);
                    }
                    return Ok(Some(j));
                }
                b'#' if j > 0 && self.b[j - 1] == b' ' => return Ok(None),
                b'\t' => return Err(Bail),
                _ => j += 1,
            }
        }
        Ok(None)
    }

    /// A mapping key at the cursor, with the cursor left just after its `:`.
    fn key(&mut self) -> R<Node> {
        let start = self.i;
        let key = match self.peek() {
            b'"' | b'\'' => {
                let (node, multi) = self.quoted(i32::MAX)?;
                self.skip_spaces()?;
                if multi || self.peek() != b':' || !self.blank_or_end(self.i + 1) {
                    return Err(Bail);
                }
                node
            }
            _ if !self.block_plain_start() => return Err(Bail),
            _ => {
                let colon = self.plain_key_end()?.ok_or(Bail)?;
                let mut e = colon;
                while self.b[e - 1] == b' ' {
                    e -= 1;
                }
                let text = &self.s[start..e];
                // Merge keys and `=` keys have PyYAML-specific meanings: full parser.
                if text == "<<" || text == "=" {
                    return Err(Bail);
                }
                let span = Span::new(self.pos(start), self.pos(e));
                self.i = colon;
                self.scalar_node(Cow::Borrowed(text), span)
            }
        };
        if self.i - start > MAX_KEY_LEN {
            return Err(Bail);
        }
        self.i += 1; // the ':'
        Ok(key)
    }

    /// Resolve a plain scalar, recording any problem.
    fn scalar_node(&mut self, text: Cow<'_, str>, span: Span) -> Node {
        let r = resolve_plain(text);
        if let Some(message) = r.problem {
            self.errors.push(YamlError {
                message,
                span,
                fatal: false,
            });
        }
        Node::new(r.value, span)
    }

    /// A block mapping whose keys are at column `n`; the cursor is on its first key.
    fn block_map(&mut self, n: usize) -> R<Node> {
        let start = self.here();
        let base = self.map_stack.len();
        let mut end;
        loop {
            let key = self.key()?;
            let value = self.map_value(n)?;
            end = value.span.end;
            if self.map_stack.len() - base >= MAX_MAP_LEN {
                return Err(Bail);
            }
            insert_on_stack(&mut self.map_stack, base, key, value, &mut self.errors);
            match self.next_content()? {
                None => break,
                Some(ind) if ind < n => break,
                Some(ind) if ind == n => {
                    if self.at_doc_marker() {
                        break;
                    }
                }
                Some(_) => return Err(Bail),
            }
        }
        let entries: Vec<(Node, Node)> = self.map_stack.drain(base..).collect();
        Ok(Node::new(Value::Map(entries), Span::new(start, end)))
    }

    /// The value after a key's `:` (cursor just after it) in a mapping at column `n`.
    fn map_value(&mut self, n: usize) -> R<Node> {
        let after_colon = self.here();
        self.skip_spaces()?;
        if self.at_eol() || self.peek() == b'#' {
            self.finish_line()?;
            let m = self.mark();
            return match self.next_content()? {
                Some(ind) if ind > n && !(ind == 0 && self.at_doc_marker()) => {
                    self.block_node(n as i32)
                }
                Some(ind) if ind == n && self.at_dash() => {
                    self.enter()?;
                    let seq = self.block_seq(n);
                    self.depth -= 1;
                    seq
                }
                _ => {
                    self.reset(m);
                    Ok(Node::new(Value::Null, point(after_colon)))
                }
            };
        }
        self.inline_value(n as i32)
    }

    /// A value that starts on the line of its key or dash.
    fn inline_value(&mut self, parent: i32) -> R<Node> {
        match self.peek() {
            b'-' if self.blank_or_end(self.i + 1) => Err(Bail),
            b'[' | b'|' | b'>' | b'"' | b'\'' => {
                self.enter()?;
                let node = match self.peek() {
                    b'[' => {
                        let n = self.flow_seq()?;
                        self.skip_spaces()?;
                        if self.peek() == b':' {
                            return Err(Bail);
                        }
                        self.finish_line()?;
                        n
                    }
                    b'|' | b'>' => self.block_scalar(parent)?,
                    _ => {
                        let (n, _) = self.quoted(parent)?;
                        self.skip_spaces()?;
                        if self.peek() == b':' {
                            return Err(Bail);
                        }
                        self.finish_line()?;
                        n
                    }
                };
                self.depth -= 1;
                Ok(node)
            }
            _ if !self.block_plain_start() => Err(Bail),
            _ => self.plain(parent),
        }
    }

    /// A block sequence whose dashes are at column `n`; the cursor is on the first dash.
    fn block_seq(&mut self, n: usize) -> R<Node> {
        let start = self.here();
        let base = self.seq_stack.len();
        let mut end;
        loop {
            self.i += 1; // the '-'
            let after_dash = self.here();
            self.skip_spaces()?;
            let item = if self.at_eol() || self.peek() == b'#' {
                self.finish_line()?;
                let m = self.mark();
                match self.next_content()? {
                    Some(ind) if ind > n && !(ind == 0 && self.at_doc_marker()) => {
                        self.block_node(n as i32)?
                    }
                    _ => {
                        self.reset(m);
                        Node::new(Value::Null, point(after_dash))
                    }
                }
            } else {
                self.block_node(n as i32)?
            };
            end = item.span.end;
            self.seq_stack.push(item);
            match self.next_content()? {
                None => break,
                Some(ind) if ind < n => break,
                Some(ind) if ind == n => {
                    if (ind == 0 && self.at_doc_marker()) || !self.at_dash() {
                        break;
                    }
                }
                Some(_) => return Err(Bail),
            }
        }
        let items: Vec<Node> = self.seq_stack.drain(base..).collect();
        Ok(Node::new(Value::Seq(items), Span::new(start, end)))
    }

    // ---- scalars ----

    /// A plain scalar in block context, possibly continued on lines indented more than `parent`.
    fn plain(&mut self, parent: i32) -> R<Node> {
        let start = self.here();
        let first = self.i;
        let (mut end, comment) = self.plain_line()?;
        let mut end_pos = self.pos(end);
        let mut owned: Option<String> = None;
        if !comment && !self.eof() {
            // Continuation lines?
            loop {
                let m = self.mark();
                self.newline()?;
                let mut breaks = 0usize;
                let cont = loop {
                    self.skip_spaces()?;
                    if matches!(self.peek(), b'\n' | b'\r') {
                        breaks += 1;
                        self.newline()?;
                        continue;
                    }
                    let ind = self.i - self.ls;
                    break !self.eof()
                        && self.peek() != b'#'
                        && ind as i32 > parent
                        && !(ind == 0 && self.at_doc_marker());
                };
                if !cont {
                    self.reset(m);
                    break;
                }
                if is_indicator(self.peek()) {
                    return Err(Bail);
                }
                let s = owned.get_or_insert_with(|| self.s[first..end].to_owned());
                if breaks == 0 {
                    s.push(' ');
                } else {
                    for _ in 0..breaks {
                        s.push('\n');
                    }
                }
                let line_start = self.i;
                let (e, comment) = self.plain_line()?;
                if let Some(s) = owned.as_mut() {
                    s.push_str(&self.s[line_start..e]);
                }
                end = e;
                end_pos = self.pos(end);
                if comment || self.eof() {
                    break;
                }
            }
        }
        let span = Span::new(start, end_pos);
        let text = match owned {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(&self.s[first..end]),
        };
        // `<<` and `=` outside a key position are errors for PyYAML: full parser.
        if matches!(text.as_ref(), "<<" | "=") {
            return Err(Bail);
        }
        let node = self.scalar_node(text, span);
        if comment {
            self.finish_line()?;
        }
        Ok(node)
    }

    /// One line of a plain scalar from the cursor. Returns the end of its text (trailing blanks
    /// trimmed) and whether a comment follows; the cursor is left at the comment or line end.
    fn plain_line(&mut self) -> R<(usize, bool)> {
        let end = self.line_end();
        let mut j = self.i;
        let mut comment = false;
        loop {
            let Some(n) = find3(b':', b'#', b'\t', &self.b[j..end]) else {
                j = end;
                break;
            };
            j += n;
            match self.b[j] {
                b':' if self.blank_or_end(j + 1) => return Err(Bail),
                b'#' if j > 0 && self.b[j - 1] == b' ' => {
                    comment = true;
                    break;
                }
                b'\t' => return Err(Bail),
                _ => j += 1,
            }
        }
        let stop = j;
        while j > self.i && self.b[j - 1] == b' ' {
            j -= 1;
        }
        self.i = stop;
        Ok((j, comment))
    }

    /// A quoted scalar at the cursor. Continuation lines must be indented more than `parent`.
    /// Returns the node and whether it spans several lines; the cursor ends after the quote.
    fn quoted(&mut self, parent: i32) -> R<(Node, bool)> {
        let q = self.peek();
        let style = if q == b'"' {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::SingleQuoted
        };
        let start = self.here();
        self.i += 1;
        let content = self.i;
        let mut out: Option<String> = None;
        let mut seg = self.i; // start of the raw text not yet copied to `out`
        let mut multi = false;
        loop {
            let rest = &self.b[self.i..];
            let found = if q == b'"' {
                memchr::memchr3(b'"', b'\\', b'\n', rest)
            } else {
                memchr::memchr2(b'\'', b'\n', rest)
            };
            let Some(n) = found else {
                return Err(Bail); // unterminated
            };
            let j = self.i + n;
            match self.b[j] {
                b'\'' if self.at(j + 1) == b'\'' => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&self.s[seg..=j]);
                    self.i = j + 2;
                    seg = self.i;
                }
                b'\'' | b'"' => {
                    let text = match out {
                        Some(mut s) => {
                            s.push_str(&self.s[seg..j]);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(&self.s[content..j]),
                    };
                    self.i = j + 1;
                    let span = Span::new(start, self.here());
                    let node = Node::new(Value::Str(text.into_owned(), style), span);
                    return Ok((node, multi));
                }
                b'\\' => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&self.s[seg..j]);
                    self.i = j + 1;
                    match self.peek() {
                        b'\n' | b'\r' => {
                            // An escaped line break: the lines join without a space.
                            multi = true;
                            self.newline()?;
                            let breaks = self.quoted_breaks(parent)?;
                            let s = out.get_or_insert_with(String::new);
                            for _ in 0..breaks {
                                s.push('\n');
                            }
                        }
                        _ => {
                            let ch = self.escape()?;
                            out.get_or_insert_with(String::new).push(ch);
                        }
                    }
                    seg = self.i;
                }
                _ => {
                    // A line break inside the scalar: trailing blanks go, the break folds.
                    multi = true;
                    let mut e = j;
                    if e > seg && self.b[e - 1] == b'\r' {
                        e -= 1;
                    }
                    while e > seg && matches!(self.b[e - 1], b' ' | b'\t') {
                        e -= 1;
                    }
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&self.s[seg..e]);
                    self.i = j;
                    if self.b[j - 1] == b'\r' {
                        self.i = j - 1;
                    }
                    self.newline()?;
                    let breaks = self.quoted_breaks(parent)?;
                    let s = out.get_or_insert_with(String::new);
                    if breaks == 0 {
                        s.push(' ');
                    } else {
                        for _ in 0..breaks {
                            s.push('\n');
                        }
                    }
                    seg = self.i;
                }
            }
        }
    }

    /// After a line break inside a quoted scalar: skip empty lines and the next line's leading
    /// blanks. Returns the number of empty lines.
    fn quoted_breaks(&mut self, parent: i32) -> R<usize> {
        let mut breaks = 0;
        loop {
            while self.peek() == b' ' {
                self.i += 1;
            }
            match self.peek() {
                b'\n' | b'\r' => {
                    breaks += 1;
                    self.newline()?;
                }
                // Tabs in the leading blanks, document markers, and lines not indented more
                // than the parent are treated differently by YAML 1.1 and 1.2 parsers.
                b'\t' => return Err(Bail),
                _ if self.eof() => return Err(Bail),
                _ => {
                    let ind = self.i - self.ls;
                    if (ind as i32) <= parent || (ind == 0 && self.at_doc_marker()) {
                        return Err(Bail);
                    }
                    return Ok(breaks);
                }
            }
        }
    }

    /// A double-quoted escape; the cursor is just after the backslash.
    fn escape(&mut self) -> R<char> {
        let c = self.peek();
        self.i += 1;
        let ch = match c {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let len = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = self.s.get(self.i..self.i + len).ok_or(Bail)?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return Err(Bail);
                }
                let code = u32::from_str_radix(hex, 16).map_err(|_| Bail)?;
                self.i += len;
                char::from_u32(code).ok_or(Bail)?
            }
            _ => return Err(Bail),
        };
        Ok(ch)
    }

    /// A `|` or `>` block scalar; the cursor is on the indicator. `parent` is the column of the
    /// enclosing block collection.
    fn block_scalar(&mut self, parent: i32) -> R<Node> {
        let start = self.here();
        let folded = self.peek() == b'>';
        self.i += 1;
        let chomp = match self.peek() {
            b'-' => Chomp::Strip,
            b'+' => Chomp::Keep,
            _ => Chomp::Clip,
        };
        if chomp != Chomp::Clip {
            self.i += 1;
        }
        let header_end = self.i;
        if !matches!(self.peek(), b' ' | b'\n' | b'\r') && !self.eof() {
            return Err(Bail); // indentation indicator or garbage
        }
        self.finish_line()?;
        if self.eof() {
            return Err(Bail); // empty
        }
        // The content indentation is that of the first non-empty line (PyYAML also lets longer
        // leading empty lines raise it; such texts go to the full parser).
        let min_indent = (parent + 1).max(1) as usize;
        let mut leading = 0usize;
        let mut max_blank = 0usize;
        let indent = loop {
            let k = self.count_spaces();
            match self.at(self.ls + k) {
                b'\n' | b'\r' => {
                    max_blank = max_blank.max(k);
                    leading += 1;
                    self.i = self.ls + k;
                    self.newline()?;
                }
                _ if self.ls + k >= self.b.len() => return Err(Bail),
                b'\t' => return Err(Bail),
                _ => break k,
            }
        };
        if indent < min_indent || max_blank > indent {
            return Err(Bail);
        }
        let mut out = String::new();
        for _ in 0..leading {
            out.push('\n');
        }
        let mut breaks;
        let mut line_break;
        loop {
            // The cursor is at the start of a content line with at least `indent` spaces.
            self.i = self.ls + indent;
            let leading_non_space = !matches!(self.peek(), b' ' | b'\t');
            let e = self.line_end();
            out.push_str(&self.s[self.i..e]);
            self.i = e;
            line_break = !self.eof();
            if !line_break {
                breaks = 0;
                break;
            }
            self.newline()?;
            // Empty lines after it.
            breaks = 0usize;
            let more = loop {
                let k = self.count_spaces().min(indent);
                let c = self.at(self.ls + k);
                if self.ls + k >= self.b.len() {
                    break false;
                }
                if matches!(c, b'\n' | b'\r') {
                    self.i = self.ls + k;
                    breaks += 1;
                    self.newline()?;
                    continue;
                }
                break k == indent;
            };
            if !more {
                break;
            }
            let next = self.at(self.ls + indent);
            if folded && line_break && leading_non_space && !matches!(next, b' ' | b'\t') {
                if breaks == 0 {
                    out.push(' ');
                }
            } else {
                out.push('\n');
            }
            for _ in 0..breaks {
                out.push('\n');
            }
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => {
                if line_break {
                    out.push('\n');
                }
            }
            Chomp::Keep => {
                if line_break {
                    out.push('\n');
                }
                for _ in 0..breaks {
                    out.push('\n');
                }
            }
        }
        // The cursor goes back to the start of the line that ended the scalar.
        // (At the end of the text without a final line break it stays there.)
        if line_break {
            self.i = self.ls;
        }
        let end_off = trim_back(self.b, self.i, header_end);
        let end = self.pos_anywhere(end_off);
        let style = if folded {
            ScalarStyle::Folded
        } else {
            ScalarStyle::Literal
        };
        Ok(Node::new(Value::Str(out, style), Span::new(start, end)))
    }

    /// Spaces at the start of the cursor's line (the cursor must be at a line start).
    fn count_spaces(&self) -> usize {
        self.b[self.ls..].iter().take_while(|&&c| c == b' ').count()
    }

    /// Position of an offset at or before the cursor, possibly on an earlier line.
    fn pos_anywhere(&self, off: usize) -> Pos {
        if off >= self.ls {
            return self.pos(off);
        }
        // Walk back to the start of the line holding `off`.
        let mut line = self.line;
        let mut ls = self.ls;
        while off < ls {
            line -= 1;
            let prev_end = ls - 1; // the '\n' of the previous line
            ls = memchr::memrchr(b'\n', &self.b[..prev_end]).map_or(0, |n| n + 1);
        }
        pos_on_line(self.s, self.ascii, self.base, off, line, ls)
    }

    // ---- flow sequences ----

    /// A flow sequence on one line (`[a, 'b', [c]]`); the cursor is on `[`.
    fn flow_seq(&mut self) -> R<Node> {
        self.enter()?;
        let start = self.here();
        self.i += 1;
        let base = self.seq_stack.len();
        self.skip_spaces()?;
        if self.peek() == b']' {
            self.i += 1;
        } else {
            loop {
                let item = match self.peek() {
                    b'[' => self.flow_seq()?,
                    b'"' | b'\'' => {
                        let (n, multi) = self.quoted(i32::MAX)?;
                        if multi {
                            return Err(Bail);
                        }
                        n
                    }
                    _ => self.flow_plain()?,
                };
                self.seq_stack.push(item);
                self.skip_spaces()?;
                match self.peek() {
                    b',' => {
                        self.i += 1;
                        self.skip_spaces()?;
                        if self.peek() == b']' {
                            return Err(Bail);
                        }
                    }
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(Bail),
                }
            }
        }
        self.depth -= 1;
        let items: Vec<Node> = self.seq_stack.drain(base..).collect();
        Ok(Node::new(Value::Seq(items), Span::new(start, self.here())))
    }

    /// A plain scalar inside a flow sequence: up to `,` or `]`.
    fn flow_plain(&mut self) -> R<Node> {
        let c = self.peek();
        let dash_ok = c == b'-'
            && !self.blank_or_end(self.i + 1)
            && !matches!(self.at(self.i + 1), b',' | b']');
        if is_indicator(c) && !dash_ok {
            return Err(Bail);
        }
        let start = self.i;
        let mut j = self.i;
        loop {
            match self.at(j) {
                b',' | b']' => break,
                b'[' | b'{' | b'}' | b'?' | b':' | b'#' | b'\t' | b'\n' | b'\r' => {
                    return Err(Bail);
                }
                _ if j >= self.b.len() => return Err(Bail),
                _ => j += 1,
            }
        }
        let mut e = j;
        while self.b[e - 1] == b' ' {
            e -= 1;
        }
        let span = Span::new(self.pos(start), self.pos(e));
        let text = &self.s[start..e];
        if matches!(text, "<<" | "=") {
            return Err(Bail);
        }
        self.i = j;
        Ok(self.scalar_node(Cow::Borrowed(text), span))
    }
}
