//! Opening an input and finding out what it holds: gzip is undone first (by its magic bytes),
//! then EVTX is recognised by its magic (or a `.evtx` name), JSON by its first non-blank
//! characters, and the rest is text.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::progress::Counting;
use super::{Format, InputFile, InputKind, Progress};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const EVTX_MAGIC: &[u8] = b"ElfFile\0";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// How much of a file is looked at to tell its format, and to tell text from binary data.
const SNIFF_BYTES: usize = 8 * 1024;
/// A file that starts with more blank bytes than this is read as lines without looking further.
const MAX_BLANK_PREFIX: usize = 1 << 20;
/// Read buffer for plain (uncompressed) streams.
const READ_BUFFER: usize = 256 * 1024;

/// Anything the EVTX parser can read from.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// An opened input, ready for the reader of its format.
pub(crate) enum Opened<'a> {
    /// An EVTX file: the file itself, or its content in memory when it came through gzip or a
    /// pipe (the EVTX parser needs to seek).
    Evtx(Box<dyn ReadSeek + Send + 'a>),
    /// A stream of JSON lines, a JSON array or text lines (decompressed if it was gzip).
    Stream {
        format: Format,
        reader: Box<dyn Read + 'a>,
        /// A pipe or stdin: hand on what has arrived instead of waiting for a full batch.
        streaming: bool,
    },
}

/// Opens `file` and detects its format (unless `forced`). `Err` is the reason the file cannot be
/// read at all.
pub(crate) fn open<'a>(
    file: &InputFile,
    forced: Option<Format>,
    progress: &'a Progress,
) -> Result<Opened<'a>, String> {
    match &file.kind {
        InputKind::Stdin => open_stream(
            Box::new(Counting::new(io::stdin(), progress)),
            forced,
            true,
            false,
        ),
        InputKind::Unreadable { reason } => Err(reason.clone()),
        InputKind::Path { path, seekable } => {
            let handle = File::open(path).map_err(|err| format!("cannot open: {err}"))?;
            let evtx_name = has_extension(path, "evtx");
            if !*seekable {
                let reader = Box::new(Counting::new(handle, progress));
                return open_stream(reader, forced, true, evtx_name);
            }
            let mut handle = Counting::new(handle, progress);
            let head = read_prefix(&mut handle, EVTX_MAGIC.len()).map_err(cannot_read)?;
            handle
                .seek(SeekFrom::Start(0))
                .map_err(|err| format!("cannot read: {err}"))?;
            let gzip = head.starts_with(GZIP_MAGIC);
            let evtx = match forced {
                Some(format) => format == Format::Evtx,
                None => head.starts_with(EVTX_MAGIC) || evtx_name,
            };
            if evtx && !gzip {
                return Ok(Opened::Evtx(Box::new(handle)));
            }
            open_stream(Box::new(handle), forced, false, evtx_name)
        }
    }
}

fn cannot_read(err: io::Error) -> String {
    format!("cannot read: {err}")
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|found| found.eq_ignore_ascii_case(ext))
}

/// Undoes gzip if the stream starts with its magic, then looks at the content.
fn open_stream<'a>(
    raw: Box<dyn Read + 'a>,
    forced: Option<Format>,
    streaming: bool,
    evtx_name: bool,
) -> Result<Opened<'a>, String> {
    let mut raw = BufReader::with_capacity(READ_BUFFER, raw);
    let magic = read_prefix(&mut raw, GZIP_MAGIC.len()).map_err(cannot_read)?;
    let mut content: Box<dyn Read + 'a> = if magic.starts_with(GZIP_MAGIC) {
        Box::new(MultiGzDecoder::new(Cursor::new(magic).chain(raw)))
    } else {
        Box::new(Cursor::new(magic).chain(raw))
    };

    let (head, pending) = sniff(&mut content, streaming);
    if head.is_empty()
        && let Some(err) = pending
    {
        return Err(cannot_read(err));
    }
    let format = match forced {
        Some(format) => format,
        None if head.starts_with(EVTX_MAGIC) => Format::Evtx,
        None => guess(&head, evtx_name)?,
    };
    let reader = Sniffed {
        head,
        pos: 0,
        pending,
        inner: content,
    };
    if format == Format::Evtx {
        // The parser seeks between chunks: hold the (decompressed) file in memory.
        let mut data = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut data).map_err(cannot_read)?;
        return Ok(Opened::Evtx(Box::new(Cursor::new(data))));
    }
    Ok(Opened::Stream {
        format,
        reader: Box::new(reader),
        streaming,
    })
}

/// Tells the format from the first bytes of a file's (decompressed) content.
fn guess(head: &[u8], evtx_name: bool) -> Result<Format, String> {
    if evtx_name {
        // Named .evtx but gzip inside: the EVTX parser says what is wrong if it is not EVTX.
        return Ok(Format::Evtx);
    }
    if head.contains(&0) {
        return Err("binary data (not EVTX, gzip, JSON or text)".to_owned());
    }
    let mut rest = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    rest = skip_blank(rest);
    // Arrays of events and objects are told from text that merely starts with a bracket (an
    // Apache error log starts with `[Mon ...`) by the character that follows.
    let format = match rest.split_first() {
        Some((b'[', after)) => match skip_blank(after).first() {
            None | Some(b'{' | b']') => Format::JsonArray,
            Some(_) => Format::Text,
        },
        // A `{` alone on its line starts a pretty-printed object (or several one after the
        // other), read like the elements of an array.
        Some((b'{', after)) => match skip_blank(after).first() {
            Some(b'"' | b'}') if blank_line_end(after) => Format::JsonArray,
            None | Some(b'"' | b'}') => Format::JsonLines,
            Some(_) => Format::Text,
        },
        _ => Format::Text,
    };
    Ok(format)
}

/// Whether the blanks at the start of `bytes` include a line end.
fn blank_line_end(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .any(|&b| b == b'\n')
}

/// Bytes at the start of `head` before its content: a UTF-8 byte order mark and blanks.
fn padding_len(head: &[u8]) -> usize {
    let bom = if head.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    head.len() - skip_blank(&head[bom..]).len()
}

fn skip_blank(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// Reads until `want` bytes are there or the input ends.
fn read_prefix(reader: &mut impl Read, want: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(want);
    reader.by_ref().take(want as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Reads the first bytes of a stream to tell its format: up to [`SNIFF_BYTES`], or for a pipe
/// up to the end of the first line with content. A live stream must not wait for more than
/// that, and nothing can be read from it before its first line has come anyway; less than a
/// line (the first read after the two bytes looked at for gzip, say) is too little to tell
/// text from binary data. A read error is kept to be returned after the bytes that came before
/// it.
fn sniff(reader: &mut dyn Read, streaming: bool) -> (Vec<u8>, Option<io::Error>) {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut chunk = [0u8; SNIFF_BYTES];
    loop {
        let want = if head.len() < SNIFF_BYTES {
            SNIFF_BYTES - head.len()
        } else {
            SNIFF_BYTES
        };
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => return (head, None),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return (head, Some(err)),
        };
        head.extend_from_slice(&chunk[..n]);
        let start = padding_len(&head);
        let content = start < head.len();
        let enough = head.len() >= SNIFF_BYTES
            || (streaming && memchr::memchr(b'\n', &head[start..]).is_some());
        if (content && enough) || head.len() >= MAX_BLANK_PREFIX {
            return (head, None);
        }
    }
}

/// The sniffed bytes, then a read error met while sniffing (if any), then the rest.
struct Sniffed<R> {
    head: Vec<u8>,
    pos: usize,
    pending: Option<io::Error>,
    inner: R,
}

impl<R: Read> Read for Sniffed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = buf.len().min(self.head.len() - self.pos);
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            if self.pos == self.head.len() {
                self.head = Vec::new();
                self.pos = 0;
            }
            return Ok(n);
        }
        if let Some(err) = self.pending.take() {
            return Err(err);
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_formats_from_first_characters() {
        let cases: &[(&[u8], Format)] = &[
            (b"{\"a\":1}\n", Format::JsonLines),
            (b"\n\n  {}\n", Format::JsonLines),
            (b"\xEF\xBB\xBF{\"a\":1}", Format::JsonLines),
            (b"[{\"a\":1}]", Format::JsonArray),
            (b" [\n  {\"a\": 1}\n]", Format::JsonArray),
            (b"[]", Format::JsonArray),
            (b"[", Format::JsonArray),
            (b"{\n  \"a\": 1\n}\n", Format::JsonArray),
            (b"{ \"a\": 1 }\n", Format::JsonLines),
            (b"[Mon Jan 01 00:00:00 2024] [error] x", Format::Text),
            (b"{foo} bar", Format::Text),
            (b"Jan  1 host sshd[1]: x", Format::Text),
            (b"", Format::Text),
            (b"  \n", Format::Text),
        ];
        for (head, want) in cases {
            assert_eq!(
                guess(head, false),
                Ok(*want),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
        assert!(guess(b"PK\x03\x04\0\0", false).is_err());
        assert_eq!(guess(b"{}", true), Ok(Format::Evtx));
    }

    /// A live stream: hands out `chunks` one per read, then fails the test if read again
    /// (nothing more has been sent).
    struct Live(Vec<&'static [u8]>);

    impl Read for Live {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            assert!(!self.0.is_empty(), "read past what the stream has sent");
            let chunk = self.0.remove(0);
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            if n < chunk.len() {
                self.0.insert(0, &chunk[n..]);
            }
            Ok(n)
        }
    }

    fn stream_format(chunks: Vec<&'static [u8]>) -> Result<Format, String> {
        match open_stream(Box::new(Live(chunks)), None, true, false)? {
            Opened::Stream { format, .. } => Ok(format),
            Opened::Evtx(_) => Ok(Format::Evtx),
        }
    }

    #[test]
    fn a_stream_is_sniffed_up_to_its_first_line_end() {
        // Found by fuzzing (`dump - < t.bin`): a pipe was judged by the two bytes read to look
        // for gzip, so an ELF file through stdin became a text event while the same file by
        // name was rejected.
        let elf: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0\n";
        assert!(stream_format(vec![elf]).is_err());
        // A live stream is not read past its first line.
        let first: &[u8] = b"{\"a\":1}\n";
        assert_eq!(stream_format(vec![first]), Ok(Format::JsonLines));
        assert_eq!(
            stream_format(vec![b"\n", b"  {\"a\"", b":1}\n"]),
            Ok(Format::JsonLines)
        );
        assert_eq!(stream_format(vec![b"Jan  1 host x\n"]), Ok(Format::Text));
    }

    #[test]
    fn sniffed_reader_replays_head_then_error_then_rest() {
        let mut reader = Sniffed {
            head: b"abc".to_vec(),
            pos: 0,
            pending: Some(io::Error::other("boom")),
            inner: Cursor::new(b"def".to_vec()),
        };
        let mut buf = [0u8; 2];
        assert_eq!(reader.read(&mut buf).unwrap(), 2);
        assert_eq!(reader.read(&mut buf).unwrap(), 1);
        assert!(reader.read(&mut buf).is_err());
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "def");
    }
}
