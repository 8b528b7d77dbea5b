//! Cutting a stream into blocks of whole lines, and a block into numbered lines.
//!
//! The reader only copies bytes and counts line ends; checking and splitting the lines of a
//! block happens in the work unit, in parallel with reading the next block.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

use super::{BufferPool, Location, Skip};

/// How much a streaming reader asks for per read.
const STREAM_READ: usize = 64 * 1024;

/// A block of whole lines.
#[derive(Debug)]
pub(crate) struct LineBlock {
    /// The lines, each ended by `\n` except perhaps the last line of the input.
    pub buf: Vec<u8>,
    /// Number of the block's first line (1-based).
    pub first_line: u64,
    /// No more input follows.
    pub last: bool,
    /// Lines left out while reading (too long), and a read error that ended the input.
    pub skips: Vec<Skip>,
}

/// Reads a stream as blocks of whole lines.
pub(crate) struct LineBlocks<R> {
    reader: R,
    source: Arc<str>,
    pool: Arc<BufferPool>,
    /// Bytes after the last line end of the previous block: the start of the next line.
    carry: Vec<u8>,
    next_line: u64,
    target: usize,
    max_line: usize,
    streaming: bool,
    done: bool,
}

impl<R: Read> LineBlocks<R> {
    pub(crate) fn new(
        reader: R,
        source: Arc<str>,
        pool: Arc<BufferPool>,
        target: usize,
        max_line: usize,
        streaming: bool,
    ) -> Self {
        LineBlocks {
            reader,
            source,
            pool,
            carry: Vec::new(),
            next_line: 1,
            target: target.max(1),
            max_line: max_line.max(1),
            streaming,
            done: false,
        }
    }

    /// The next block, or `None` once the input has ended.
    pub(crate) fn next_block(&mut self) -> Option<LineBlock> {
        if self.done {
            return None;
        }
        let mut skips = Vec::new();
        let mut buf = Filling::new(self.pool.take_as_is(self.target + self.carry.len()));
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        // Where to look for line ends: bytes before it were already looked at.
        let mut searched = 0;
        let mut have_line = false;
        let mut ended = false;
        loop {
            if !have_line {
                have_line = memchr::memchr(b'\n', &buf.data()[searched..]).is_some();
                searched = buf.len();
            }
            if have_line && (buf.len() >= self.target || self.streaming) {
                break;
            }
            if !have_line && buf.len() > self.max_line {
                // One line longer than allowed: report it and drop it without holding it.
                skips.push(self.skip(
                    Location::Line(self.next_line),
                    format!("line longer than {} bytes, skipped", self.max_line),
                ));
                buf.clear();
                searched = 0;
                match self.discard_line() {
                    Ok(Some(rest)) => {
                        self.next_line += 1;
                        buf = Filling::full(rest);
                        continue;
                    }
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Err(err) => {
                        skips.push(self.read_error(self.next_line + 1, &err));
                        ended = true;
                        break;
                    }
                }
            }
            let want = if self.streaming {
                // A pipe hands over what it has; asking for less keeps the zeroing small.
                STREAM_READ
            } else if buf.len() < self.target {
                self.target - buf.len()
            } else {
                self.target
            };
            match buf.read_some(&mut self.reader, want) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(_) => {}
                Err(err) => {
                    // The bytes after the last line end belong to a line cut short: drop them.
                    let complete = memchr::memrchr(b'\n', buf.data()).map_or(0, |pos| pos + 1);
                    let line = self.next_line
                        + memchr::memchr_iter(b'\n', &buf.data()[..complete]).count() as u64;
                    buf.truncate(complete);
                    skips.push(self.read_error(line, &err));
                    ended = true;
                    break;
                }
            }
        }
        let first_line = self.next_line;
        if ended {
            self.done = true;
        } else {
            // Checked above: not ended means a line end was found.
            let end = memchr::memrchr(b'\n', buf.data()).map_or(buf.len(), |pos| pos + 1);
            self.carry.extend_from_slice(&buf.data()[end..]);
            buf.truncate(end);
            self.next_line += memchr::memchr_iter(b'\n', buf.data()).count() as u64;
        }
        Some(LineBlock {
            buf: buf.into_data(),
            first_line,
            last: ended,
            skips,
        })
    }

    /// Reads and drops bytes up to and including the next line end; returns what follows it in
    /// the same read, or `None` at the end of the input.
    fn discard_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut chunk = Vec::with_capacity(64 * 1024);
        loop {
            chunk.clear();
            if read_some(&mut self.reader, &mut chunk, 64 * 1024)? == 0 {
                return Ok(None);
            }
            if let Some(pos) = memchr::memchr(b'\n', &chunk) {
                return Ok(Some(chunk[pos + 1..].to_vec()));
            }
        }
    }

    fn skip(&self, location: Location, reason: String) -> Skip {
        Skip {
            path: self.source.clone(),
            location,
            reason,
            records: 1,
        }
    }

    fn read_error(&self, line: u64, err: &io::Error) -> Skip {
        self.skip(
            Location::Line(line),
            format!("read error, rest of input skipped: {err}"),
        )
    }
}

/// A block being read: `data()` is what was read so far. The vector's bytes after it are room
/// that an earlier block already wrote (the pool hands buffers back as they were), so reading
/// into them needs no zeroing; only room beyond any earlier use is zeroed. Zeroing a megabyte
/// per block before each read cost about 1% of `hunt`.
struct Filling {
    room: Vec<u8>,
    len: usize,
}

impl Filling {
    /// Empty, reading into `room` (its contents do not matter).
    fn new(room: Vec<u8>) -> Filling {
        Filling { room, len: 0 }
    }

    /// Holding `data`.
    fn full(data: Vec<u8>) -> Filling {
        let len = data.len();
        Filling { room: data, len }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn data(&self) -> &[u8] {
        &self.room[..self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn extend_from_slice(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if self.room.len() < end {
            self.room.resize(end, 0);
        }
        self.room[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Appends up to `want` bytes from one successful read; 0 means the end of the input.
    fn read_some(&mut self, reader: &mut impl Read, want: usize) -> io::Result<usize> {
        let end = self.len + want;
        if self.room.len() < end {
            self.room.resize(end, 0);
        }
        let result = loop {
            match reader.read(&mut self.room[self.len..end]) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        if let Ok(n) = result {
            self.len += n;
        }
        result
    }

    /// What was read.
    fn into_data(mut self) -> Vec<u8> {
        self.room.truncate(self.len);
        self.room
    }
}

/// Reads text whose lines end in a lone CR (classic Mac OS, some device logs) as if they
/// ended in LF; a CRLF is left as it is. Without it such a file is one line.
pub(crate) struct LoneCr<R> {
    inner: R,
    /// The last read ended in a CR (handed out as LF): a LF starting this one is its pair.
    after_cr: bool,
}

impl<R> LoneCr<R> {
    pub(crate) fn new(inner: R) -> Self {
        LoneCr {
            inner,
            after_cr: false,
        }
    }
}

impl<R: Read> Read for LoneCr<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            if std::mem::take(&mut self.after_cr) && buf[0] == b'\n' {
                buf.copy_within(1..n, 0);
                n -= 1;
                if n == 0 {
                    continue;
                }
            }
            let data = &mut buf[..n];
            let mut at = 0;
            while let Some(found) = memchr::memchr(b'\r', &data[at..]) {
                let cr = at + found;
                match data.get(cr + 1) {
                    Some(b'\n') => {}
                    Some(_) => data[cr] = b'\n',
                    None => {
                        data[cr] = b'\n';
                        self.after_cr = true;
                    }
                }
                at = cr + 1;
            }
            return Ok(n);
        }
    }
}

/// Appends up to `want` bytes from one successful read; 0 means the end of the input.
pub(crate) fn read_some(
    reader: &mut impl Read,
    buf: &mut Vec<u8>,
    want: usize,
) -> io::Result<usize> {
    let start = buf.len();
    buf.resize(start + want, 0);
    let result = loop {
        match reader.read(&mut buf[start..]) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    buf.truncate(start + *result.as_ref().unwrap_or(&0));
    result
}

/// The non-blank lines of a block with their numbers, as byte ranges without the line end (and
/// without a trailing `\r`). With `trim`, leading and trailing blanks are cut too. A UTF-8 byte
/// order mark at the start of line 1 is dropped, and so is a run of NUL bytes before a line's
/// content: padding that copytruncate log rotation or a crash leaves, not part of the line. A
/// line of nothing but NULs (and blanks) is kept whole, to be reported or shown as it is.
pub(crate) fn split_lines(
    buf: &[u8],
    first_line: u64,
    trim: bool,
) -> impl Iterator<Item = (u64, Range<usize>)> + '_ {
    let mut start = 0;
    let mut number = first_line;
    let mut ends = memchr::memchr_iter(b'\n', buf);
    let mut finished = false;
    std::iter::from_fn(move || {
        loop {
            if finished {
                return None;
            }
            let end = match ends.next() {
                Some(end) => end,
                None => {
                    finished = true;
                    buf.len()
                }
            };
            let line_number = number;
            let mut range = start..end;
            start = end + 1;
            number += 1;
            if line_number == 1 && buf[range.clone()].starts_with(b"\xEF\xBB\xBF") {
                range.start += 3;
            }
            if buf[range.clone()].ends_with(b"\r") {
                range.end -= 1;
            }
            if buf.get(range.start) == Some(&0) {
                let line = &buf[range.clone()];
                let nuls = line.iter().position(|&b| b != 0).unwrap_or(line.len());
                if !line[nuls..]
                    .iter()
                    .all(|&b| b == 0 || b.is_ascii_whitespace())
                {
                    range.start += nuls;
                }
            }
            let line = &buf[range.clone()];
            if trim {
                let Some(first) = line.iter().position(|b| !b.is_ascii_whitespace()) else {
                    continue;
                };
                let last = line
                    .iter()
                    .rposition(|b| !b.is_ascii_whitespace())
                    .unwrap_or(first);
                range = range.start + first..range.start + last + 1;
            } else if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some((line_number, range));
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Hands out its bytes at most `.1` at a time: reads that stop anywhere.
    pub(crate) struct Trickle<'a>(pub &'a [u8], pub usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn blocks(input: &[u8], target: usize, max_line: usize) -> Vec<LineBlock> {
        let pool = Arc::new(BufferPool::new());
        let mut reader = LineBlocks::new(input, "t".into(), pool, target, max_line, false);
        std::iter::from_fn(|| reader.next_block()).collect()
    }

    fn lines(input: &[u8], trim: bool) -> Vec<(u64, String)> {
        split_lines(input, 1, trim)
            .map(|(n, r)| (n, String::from_utf8_lossy(&input[r]).into_owned()))
            .collect()
    }

    #[test]
    fn blocks_end_on_line_ends_and_count_lines() {
        let input = b"aaaa\nbbbb\ncccc\ndddd\neeee";
        let got = blocks(input, 8, 100);
        let texts: Vec<_> = got
            .iter()
            .map(|b| String::from_utf8_lossy(&b.buf))
            .collect();
        assert_eq!(texts.concat(), String::from_utf8_lossy(input));
        for block in &got[..got.len() - 1] {
            assert!(block.buf.ends_with(b"\n"));
            assert!(!block.last);
        }
        assert!(got.last().unwrap().last);
        let firsts: Vec<_> = got.iter().map(|b| b.first_line).collect();
        let mut expected = 1;
        for (block, first) in got.iter().zip(firsts) {
            assert_eq!(first, expected);
            expected += memchr::memchr_iter(b'\n', &block.buf).count() as u64;
        }
    }

    #[test]
    fn reused_buffers_holding_old_bytes_give_the_same_blocks() {
        // Buffers come back from the pool with what they held; reads overwrite those bytes,
        // and nothing of them may show in a block, whatever the read sizes and block sizes.
        let input: Vec<u8> = (0..200)
            .flat_map(|i| format!("line {i} {}\n", "y".repeat(i % 37)).into_bytes())
            .collect();
        for (target, step) in [(16, 5), (64, 1000), (100, 7), (1000, 64)] {
            let pool = Arc::new(BufferPool::new());
            for len in [3, 50, 5000] {
                pool.give(vec![b'#'; len]);
            }
            let mut reader = LineBlocks::new(
                Trickle(&input, step),
                "t".into(),
                Arc::clone(&pool),
                target,
                10_000,
                false,
            );
            let mut text = Vec::new();
            let mut next_line = 1;
            while let Some(block) = reader.next_block() {
                assert_eq!(block.first_line, next_line);
                assert!(!block.buf.contains(&b'#'), "target {target} step {step}");
                next_line += memchr::memchr_iter(b'\n', &block.buf).count() as u64;
                text.extend_from_slice(&block.buf);
                pool.give(block.buf);
            }
            assert_eq!(text, input, "target {target} step {step}");
        }
    }

    #[test]
    fn a_too_long_line_is_skipped_and_counted() {
        let mut input = b"short\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend(b"\nafter\n");
        let got = blocks(&input, 16, 100);
        let skips: Vec<_> = got.iter().flat_map(|b| b.skips.clone()).collect();
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].location, Location::Line(2));
        let all: Vec<_> = got
            .iter()
            .flat_map(|b| {
                split_lines(&b.buf, b.first_line, true)
                    .map(|(n, r)| (n, String::from_utf8_lossy(&b.buf[r]).into_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(all, [(1, "short".into()), (3, "after".into())]);
    }

    #[test]
    fn lines_skip_blanks_strip_cr_and_bom() {
        let input = b"\xEF\xBB\xBF{\"a\":1}\r\n\n   \n  {\"b\":2}  \nlast";
        assert_eq!(
            lines(input, true),
            [
                (1, "{\"a\":1}".to_owned()),
                (4, "{\"b\":2}".to_owned()),
                (5, "last".to_owned())
            ]
        );
        assert_eq!(lines(b"  x \r\n\r\n", false), [(1, "  x ".to_owned())]);
        assert!(lines(b"", true).is_empty());
    }

    #[test]
    fn lone_crs_end_lines_and_crlf_stays() {
        let input = b"a\rbb\r\rc\r\nd\r\n\r\ne\r";
        for step in 1..=input.len() {
            let mut out = Vec::new();
            LoneCr::new(Trickle(input, step))
                .read_to_end(&mut out)
                .unwrap();
            // A CRLF cut between two reads comes out as LF: the same line end.
            let out = String::from_utf8(out).unwrap().replace("\r\n", "\n");
            assert_eq!(out, "a\nbb\n\nc\nd\n\ne\n", "step {step}");
        }
    }

    #[test]
    fn nul_padding_before_a_line_is_dropped_and_a_nul_line_kept() {
        // What copytruncate leaves at the start of a file (keep/nul_prefix_copytruncate.jsonl)
        // and a crash in the middle of one.
        let input = b"\0\0\0{\"a\":1}\n\0\0\0\0\n\0\0  x\r\n\0 \0\nend";
        assert_eq!(
            lines(input, true),
            [
                (1, "{\"a\":1}".to_owned()),
                (2, "\0\0\0\0".to_owned()),
                (3, "x".to_owned()),
                (4, "\0 \0".to_owned()),
                (5, "end".to_owned())
            ]
        );
        assert_eq!(lines(b"\0\0  x\n", false), [(1, "  x".to_owned())]);
    }
}
