//! Opening an input and finding out what it holds: gzip is undone first (by its magic bytes),
//! then EVTX is recognised by its magic (or a `.evtx` name), JSON by its first non-blank
//! characters, and the rest is text. NUL bytes make a file binary data, unless they are
//! padding (see [`guess`]).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::rc::Rc;

use flate2::bufread::GzDecoder;

use super::lines::LoneCr;
use super::progress::Counting;
use super::utf16;
use super::{Format, InputFile, InputKind, Progress};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const EVTX_MAGIC: &[u8] = b"ElfFile\0";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// How much of a file is looked at to tell its format, and to tell text from binary data.
const SNIFF_BYTES: usize = 8 * 1024;
/// How much is looked at when NUL bytes turn up: enough lines to tell JSON lines with a bad
/// line from binary data.
const NUL_SNIFF_BYTES: usize = 64 * 1024;
/// A file that starts with more blank (or NUL) bytes than this is judged by them alone.
const MAX_BLANK_PREFIX: usize = 1 << 20;
const BINARY: &str = "binary data (not EVTX, gzip, JSON or text)";
/// Read buffer for plain (uncompressed) streams.
const READ_BUFFER: usize = 256 * 1024;

/// Anything the EVTX parser can read from.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// An opened input, ready for the reader of its format.
pub(crate) enum Opened<'a> {
    /// An EVTX file: the file itself, or its content in memory when it came through gzip or a
    /// pipe (the EVTX parser needs to seek). `cut` is the read error that ended such a
    /// content early (a truncated gzip file): `reader` holds what came before it.
    Evtx {
        reader: Box<dyn ReadSeek + Send + 'a>,
        cut: Option<io::Error>,
        /// For gzip: the members found damaged (see [`GzDamage`]).
        gz_damage: Option<GzDamage>,
    },
    /// A stream of JSON lines, a JSON array or text lines (decompressed if it was gzip).
    Stream {
        format: Format,
        reader: Box<dyn Read + 'a>,
        /// A pipe or stdin: hand on what has arrived instead of waiting for a full batch.
        streaming: bool,
        /// For gzip: the members found damaged so far, for the reader to report.
        gz_damage: Option<GzDamage>,
    },
}

/// The gzip members of a stream whose checksum (or length) does not match the content they
/// held, numbered from 1, as the decoder comes to their ends. Shared between the decoder and the
/// reader that reports them.
pub(crate) type GzDamage = Rc<RefCell<Vec<u64>>>;

/// The note on a damaged gzip member. A note, not a skip: all it held was read.
pub(crate) fn gz_damage_note(member: u64) -> String {
    format!(
        "gzip member {member}: its checksum does not match its content; read as it is \
         (it may be damaged)"
    )
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
                return Ok(Opened::Evtx {
                    reader: Box::new(handle),
                    cut: None,
                    gz_damage: None,
                });
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

/// Undoes gzip if the stream starts with its magic, then UTF-16 (see [`utf16::detect`]), then
/// looks at the content.
fn open_stream<'a>(
    raw: Box<dyn Read + 'a>,
    forced: Option<Format>,
    streaming: bool,
    evtx_name: bool,
) -> Result<Opened<'a>, String> {
    let mut raw = BufReader::with_capacity(READ_BUFFER, raw);
    let magic = read_prefix(&mut raw, GZIP_MAGIC.len()).map_err(cannot_read)?;
    let mut gz_damage = None;
    let content: Box<dyn Read + 'a> = if magic.starts_with(GZIP_MAGIC) {
        let members = GzMembers::new(Cursor::new(magic).chain(raw));
        gz_damage = Some(Rc::clone(&members.damage));
        Box::new(members)
    } else {
        Box::new(Cursor::new(magic).chain(raw))
    };

    let mut reader = sniffed(content, streaming)?;
    let evtx = forced.map_or(evtx_name || reader.head.starts_with(EVTX_MAGIC), |format| {
        format == Format::Evtx
    });
    // UTF-16 is an encoding, undone like gzip whatever the format.
    if !evtx && let Some(order) = utf16::detect(&reader.head) {
        reader = sniffed(Box::new(utf16::Decoder::new(reader, order)), streaming)?;
    }
    let format = match forced {
        Some(format) => format,
        None if evtx => Format::Evtx,
        None => guess(&reader.head, evtx_name)?,
    };
    if format == Format::Evtx {
        // The parser seeks between chunks: hold the (decompressed) file in memory. Content
        // cut short (a truncated gzip file) keeps what came before the cut, as JSON and text
        // do: the chunks in it are read.
        let mut data = Vec::new();
        let cut = reader.read_to_end(&mut data).err();
        if data.is_empty()
            && let Some(err) = cut
        {
            return Err(cannot_read(err));
        }
        return Ok(Opened::Evtx {
            reader: Box::new(Cursor::new(data)),
            cut,
            gz_damage,
        });
    }
    // Line ends that are all lone CRs (no LF in sight) are made LFs; JSON arrays take CR as
    // a blank anyway.
    let lone_cr = matches!(format, Format::JsonLines | Format::Text)
        && memchr::memchr(b'\n', &reader.head).is_none()
        && memchr::memchr(b'\r', &reader.head).is_some();
    let reader: Box<dyn Read + 'a> = if lone_cr {
        Box::new(LoneCr::new(reader))
    } else {
        Box::new(reader)
    };
    Ok(Opened::Stream {
        format,
        reader,
        streaming,
        gz_damage,
    })
}

/// The gzip members of a stream one after the other, like flate2's `MultiGzDecoder`, except
/// at a member whose checksum or length does not match what it held. That is only known at
/// the member's end, when all of its content has been handed on: the member is noted in
/// `damage` and reading goes on with the next member, where `MultiGzDecoder` stopped with an
/// error that lost the members after it (and made the content read look cut short).
struct GzMembers<R> {
    /// The current member's decoder (`None` after the last member).
    decoder: Option<GzDecoder<R>>,
    /// The current member's number, from 1.
    member: u64,
    damage: GzDamage,
}

impl<R: BufRead> GzMembers<R> {
    fn new(reader: R) -> GzMembers<R> {
        GzMembers {
            decoder: Some(GzDecoder::new(reader)),
            member: 1,
            damage: GzDamage::default(),
        }
    }
}

/// Is `err` flate2's report of a member whose checksum or length does not match its content?
/// (Its other errors, a bad header or corrupt compressed data, end the stream.)
fn is_checksum_mismatch(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::InvalidInput && err.to_string().contains("matching checksum")
}

impl<R: BufRead> Read for GzMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            match decoder.read(buf) {
                Ok(0) => {}
                Ok(n) => return Ok(n),
                Err(err) if is_checksum_mismatch(&err) => {
                    self.damage.borrow_mut().push(self.member);
                }
                Err(err) => {
                    // Nothing after it can be found: the stream ends here.
                    self.decoder = None;
                    return Err(err);
                }
            }
            // The member ended: another follows if any bytes do.
            let Some(decoder) = self.decoder.take() else {
                return Ok(0);
            };
            let mut rest = decoder.into_inner();
            if rest.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.member += 1;
            self.decoder = Some(GzDecoder::new(rest));
        }
    }
}

/// Sniffs `content` (see [`sniff`]), keeping what was sniffed to be read again.
fn sniffed<'a>(
    mut content: Box<dyn Read + 'a>,
    streaming: bool,
) -> Result<Sniffed<Box<dyn Read + 'a>>, String> {
    let (head, pending) = sniff(&mut content, streaming);
    if head.is_empty()
        && let Some(err) = pending
    {
        return Err(cannot_read(err));
    }
    Ok(Sniffed {
        head,
        pos: 0,
        pending,
        inner: content,
    })
}

/// Tells the format from the first bytes of a file's (decompressed) content.
///
/// Text has no NUL bytes, so a head with some is binary data, except when they are padding: a
/// file truncated by copytruncate log rotation (while the writer kept its offset) starts with
/// NULs, and a crash can leave a run of them in the middle of a log. So a run of NULs at the
/// start of a line is passed over (the line readers drop it too), and a line of nothing else
/// is not counted; if every other line is clean the file is judged by its first characters as
/// usual. A line still holding a NUL or a control character after that is junk, and one junk
/// line is enough to make a file binary, unless at least two lines and three quarters of them
/// are JSON objects (`{"...}`): then it is JSON lines whose bad lines are reported one by one.
/// An ELF or PNG file has NULs and control characters in nearly every line.
fn guess(head: &[u8], evtx_name: bool) -> Result<Format, String> {
    if evtx_name {
        // Named .evtx but gzip inside: the EVTX parser says what is wrong if it is not EVTX.
        return Ok(Format::Evtx);
    }
    if memchr::memchr(0, head).is_none() {
        return Ok(first_characters(head));
    }
    let rest = &head[padding_len(head)..];
    if rest.is_empty() {
        return Err(if head.len() >= MAX_BLANK_PREFIX {
            format!(
                "{BINARY}: the first {} bytes are NUL bytes and blanks; --format reads it anyway",
                head.len()
            )
        } else {
            "nothing but NUL bytes and blanks".to_owned()
        });
    }
    let census = LineCensus::of(rest);
    if census.junk == 0 {
        return Ok(first_characters(rest));
    }
    if census.json >= 2 && census.json >= 3 * (census.junk + census.other) {
        return Ok(Format::JsonLines);
    }
    // A stray byte or two in a log of clean lines (a NUL a crash left in a line) is not binary
    // data, whose NULs and control characters run to hundreds in a head (a `.mo` catalogue's
    // string ends, a `.pyc`'s code).
    let clean = census.json + census.other;
    if clean >= 4 && census.junk * 10 <= clean + census.junk && census.bad_bytes <= STRAY_BYTES {
        return Ok(first_characters(rest));
    }
    Err(BINARY.to_owned())
}

/// What the non-blank lines of a sniffed head are, NUL padding at their start passed over.
#[derive(Debug, Default, PartialEq, Eq)]
struct LineCensus {
    /// Clean lines holding one JSON object each (as far as the first and last characters
    /// tell).
    json: usize,
    /// Other clean lines.
    other: usize,
    /// Lines with a NUL or another control character (tab, CR, form feed and escape aside).
    junk: usize,
    /// The NULs and control characters in those lines.
    bad_bytes: usize,
}

/// NULs and control characters a head of clean lines may hold and still be a log.
const STRAY_BYTES: usize = 8;

impl LineCensus {
    fn of(text: &[u8]) -> LineCensus {
        let mut census = LineCensus::default();
        let mut lines = text.split(|&b| b == b'\n').peekable();
        while let Some(line) = lines.next() {
            // The last line may be cut where sniffing stopped.
            let cut = lines.peek().is_none();
            let line = &line[leading_padding(line)..];
            let line = &line[..line.len() - trailing_blanks(line)];
            let Some((&first, after)) = line.split_first() else {
                continue;
            };
            let bad = line
                .iter()
                .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | 0x0c | 0x1b)) || b == 0x7f)
                .count();
            if bad > 0 {
                census.junk += 1;
                census.bad_bytes += bad;
            } else if first == b'{'
                && matches!(skip_blank(after).first(), Some(b'"' | b'}'))
                && (cut || line.ends_with(b"}"))
            {
                census.json += 1;
            } else {
                census.other += 1;
            }
        }
        census
    }
}

/// Chooses the format by the first non-blank characters (of a head without NUL bytes, or of
/// the content after its padding).
fn first_characters(head: &[u8]) -> Format {
    let mut rest = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    rest = skip_blank(rest);
    // Arrays of events and objects are told from text that merely starts with a bracket (an
    // Apache error log starts with `[Mon ...`) by the character that follows.
    match rest.split_first() {
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
    }
}

/// Whether the blanks at the start of `bytes` include a line end.
fn blank_line_end(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .any(|&b| b == b'\n')
}

/// Bytes at the start of `head` before its content: a UTF-8 byte order mark, blanks and NULs.
fn padding_len(head: &[u8]) -> usize {
    let bom = if head.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    bom + leading_padding(&head[bom..])
}

/// Blanks and NULs at the start of `bytes`.
fn leading_padding(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0))
        .unwrap_or(bytes.len())
}

/// Blanks at the end of `bytes`.
fn trailing_blanks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count()
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

/// Reads the first bytes of a stream to tell its format: [`SNIFF_BYTES`] past the padding
/// (blanks, NULs) at its start, or [`NUL_SNIFF_BYTES`] when NUL bytes turn up. For a pipe, up
/// to the end of the first line with content: a live stream must not wait for more than that,
/// and nothing can be read from it before its first line has come anyway; less than a line
/// (the first read after the two bytes looked at for gzip, say) is too little to tell text
/// from binary data. At most [`MAX_BLANK_PREFIX`] bytes of padding are read. A read error is
/// kept to be returned after the bytes that came before it.
fn sniff(reader: &mut dyn Read, streaming: bool) -> (Vec<u8>, Option<io::Error>) {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut chunk = [0u8; SNIFF_BYTES];
    // Where the content starts, as far as known (the padding is passed over as it comes).
    let mut start = 0;
    let mut nul = false;
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
        let old = head.len();
        head.extend_from_slice(&chunk[..n]);
        nul = nul || memchr::memchr(0, &chunk[..n]).is_some();
        if start == old {
            // All padding so far. A byte order mark is looked for only at the very start.
            start = if old < UTF8_BOM.len() {
                padding_len(&head)
            } else {
                old + leading_padding(&head[old..])
            };
        }
        let content = start < head.len();
        let body = head.len() - start;
        let enough = if streaming {
            body >= SNIFF_BYTES || memchr::memchr(b'\n', &head[start..]).is_some()
        } else if nul {
            body >= NUL_SNIFF_BYTES
        } else {
            body >= SNIFF_BYTES
        };
        if (content && enough) || start >= MAX_BLANK_PREFIX {
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

    fn json_lines(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                format!("{{\"EventID\": {i}, \"Image\": \"C:\\\\x.exe\"}}\r\n").into_bytes()
            })
            .collect()
    }

    #[test]
    fn nul_padding_and_a_junk_line_do_not_make_a_log_binary() {
        // Found by fuzzing: keep/nul_prefix_copytruncate.jsonl (8 KiB of NULs, then JSON lines)
        // and keep/nul_one_line.jsonl (one line of NULs among 122 JSON lines) were binary data.
        let mut padded = vec![0u8; 8192];
        padded.extend(json_lines(5));
        assert_eq!(guess(&padded, false), Ok(Format::JsonLines));
        let mut padded_text = vec![0u8; 100];
        padded_text.extend(b"Jan  1 host sshd[1]: x\n");
        assert_eq!(guess(&padded_text, false), Ok(Format::Text));
        let mut padded_array = b"\0\0\0".to_vec();
        padded_array.extend(b"[{\"a\": 1}]");
        assert_eq!(guess(&padded_array, false), Ok(Format::JsonArray));

        // NUL lines, and NUL runs starting a line, in the middle (a crash).
        let mut holed = json_lines(2);
        holed.extend(b"\0\0\0\0\n\0\0\0");
        holed.extend(json_lines(2));
        assert_eq!(guess(&holed, false), Ok(Format::JsonLines));
        let holed_text = b"Jan  1 a\n\0\0\0\0\nJan  1 b\n\0\0Jan  1 c\n";
        assert_eq!(guess(holed_text, false), Ok(Format::Text));

        // A junk line among mostly JSON lines, even where the window cuts the last one.
        let mut junk = json_lines(3);
        junk.extend(b"\x01\0garbage\0\n");
        junk.extend(&json_lines(2)[..20]);
        assert_eq!(guess(&junk, false), Ok(Format::JsonLines));

        // A stray junk line among many clean text lines: text (found by the second fuzz
        // sweep: one NUL in an sshd log, `q_mid_100.log`).
        let mut stray: Vec<u8> = (0..20)
            .flat_map(|i| format!("Jan  1 host sshd[{i}]: Accepted key\n").into_bytes())
            .collect();
        stray.splice(100..100, *b"\0");
        assert_eq!(guess(&stray, false), Ok(Format::Text));

        // Not mostly JSON, too few clean lines: binary.
        let mut few = json_lines(1);
        few.extend(b"\x01\0garbage\0\n");
        assert_eq!(guess(&few, false), Err(BINARY.to_owned()));
        let mut text_junk = b"Jan  1 a\nJan  1 b\n".to_vec();
        text_junk.extend(b"x\0y\n");
        assert_eq!(guess(&text_junk, false), Err(BINARY.to_owned()));
        // Array elements, one per line, end in commas: not JSON lines.
        let mut elements = b"[\n".to_vec();
        for _ in 0..6 {
            elements.extend(b"{\"a\": 1},\n");
        }
        elements.extend(b"\0\x01\0\n");
        assert_eq!(guess(&elements, false), Err(BINARY.to_owned()));
        // NULs and nothing else.
        assert_eq!(
            guess(&[0; 100], false),
            Err("nothing but NUL bytes and blanks".to_owned())
        );
        assert!(guess(&[0; MAX_BLANK_PREFIX], false).is_err());
        // A NUL run, then control characters.
        assert_eq!(
            guess(b"\0\x01\x02\x03garbage", false),
            Err(BINARY.to_owned())
        );
    }

    #[test]
    fn binary_files_stay_binary() {
        // Headers of real formats, with what typically follows them.
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0".to_vec();
        elf.extend((0..4096u32).flat_map(|i| i.wrapping_mul(2654435761).to_le_bytes()));
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0".to_vec();
        png.extend((0..4096u32).flat_map(|i| (i.wrapping_mul(40503) ^ 0x5a5a).to_be_bytes()));
        let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
        zip.extend(json_lines(3));
        let mut tar = b"logs/a.jsonl".to_vec();
        tar.resize(100, 0);
        tar.extend(b"0000644\x000001750\x000001750\x0000000001234\x00");
        tar.resize(512, 0);
        tar.extend(b"Jan  1 a\nJan  1 b\n");
        for (name, head) in [("elf", elf), ("png", png), ("zip", zip), ("tar", tar)] {
            assert_eq!(guess(&head, false), Err(BINARY.to_owned()), "{name}");
        }
        // The census behind it.
        assert_eq!(
            LineCensus::of(b"{\"a\":1}\n\0\0\n\0{\"b\":2}\nx\ny\x01\n{\"c\""),
            LineCensus {
                json: 3,
                other: 1,
                junk: 1,
                bad_bytes: 1
            }
        );
    }

    #[test]
    fn a_file_is_sniffed_past_its_nul_padding() {
        let mut input = vec![0u8; 3 * SNIFF_BYTES];
        input.extend(json_lines(4000));
        let (head, pending) = sniff(&mut Cursor::new(&input), false);
        assert!(pending.is_none());
        assert_eq!(head.len(), 3 * SNIFF_BYTES + NUL_SNIFF_BYTES);
        let (head, _) = sniff(&mut Cursor::new(json_lines(4000)), false);
        assert_eq!(head.len(), SNIFF_BYTES);
        let (head, _) = sniff(&mut Cursor::new(vec![0u8; 2 * MAX_BLANK_PREFIX]), false);
        assert_eq!(head.len(), MAX_BLANK_PREFIX);
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
            Opened::Evtx { .. } => Ok(Format::Evtx),
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

    fn read_all_of(opened: Opened<'_>) -> (Format, String) {
        let Opened::Stream {
            format, mut reader, ..
        } = opened
        else {
            panic!("not a stream");
        };
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        (format, text)
    }

    #[test]
    fn utf16_text_is_decoded_before_its_format_is_told() {
        // Found by fuzzing: keep/utf16le.log, what `>` writes in Windows PowerShell 5, was
        // binary data.
        let utf16le = |text: &str, bom: bool| -> Vec<u8> {
            let mut bytes = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            bytes
        };
        let log = "line one mimikatz\r\nline two\r\n";
        for bom in [true, false] {
            for streaming in [false, true] {
                let opened = open_stream(
                    Box::new(Cursor::new(utf16le(log, bom))),
                    None,
                    streaming,
                    false,
                )
                .unwrap();
                assert_eq!(read_all_of(opened), (Format::Text, log.to_owned()));
            }
        }
        // JSON (ConvertTo-Json > file), gzipped, and with a format forced.
        let json = "[\r\n  {\"EventID\": 4688, \"Image\": \"C:\\\\é.exe\"}\r\n]";
        let opened = open_stream(
            Box::new(Cursor::new(gzip(&utf16le(json, true)))),
            None,
            false,
            false,
        )
        .unwrap();
        assert_eq!(read_all_of(opened), (Format::JsonArray, json.to_owned()));
        let opened = open_stream(
            Box::new(Cursor::new(utf16le(json, true))),
            Some(Format::Text),
            false,
            false,
        )
        .unwrap();
        assert_eq!(read_all_of(opened), (Format::Text, json.to_owned()));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
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
