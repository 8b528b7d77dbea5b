//! Windows event logs, through the `evtx` crate.
//!
//! Chunks (64 KiB, self-contained) are read in file order by the producer and parsed and
//! rendered in parallel, one batch per chunk. Records are rendered as the crate's compact JSON
//! (`{"Event":{"#attributes":...,"System":{...},"EventData":{...}}}`) and numbered by their
//! EventRecordID. A chunk or record that cannot be parsed is skipped and reported; the rest of
//! the file goes on. Skips count the records they stand for: a chunk lost whole, the records
//! its header lists; a chunk cut short by the end of the file, or whose walk ended early, the
//! records its header lists that were not read.
//!
//! A chunk is rendered by the crate's whole-chunk renderer (`EvtxParser::chunks_json_bytes`,
//! the one its own dump tool uses): every record straight into one buffer, which becomes the
//! batch's text, through compiled templates. The crate offers it only on a parser, so each
//! work unit is a one-chunk EVTX image: the file's header followed by the chunk. (Record by
//! record, `EvtxRecord::into_json_bytes` builds each record's content first, renders it into a
//! vector of its own, and the text is then copied: about a fifth more instructions.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use std::io::{Cursor, Read, Seek, SeekFrom};

use evtx::err::{ChunkError, EvtxError};
use evtx::{EvtxChunkHeader, EvtxParser, ParserSettings, RenderedChunk, RenderedChunkItem};

use super::batch::{Batch, Span, into_text};
use super::detect::ReadSeek;
use super::{BufferPool, Location, Skip, error_chain};

type Reader<'a> = Box<dyn ReadSeek + Send + 'a>;

/// Parser settings shared by every chunk: compact JSON, attributes as `#attributes` (the
/// crate's default shape, which the regression data was made with).
pub(crate) fn settings() -> Arc<ParserSettings> {
    Arc::new(
        ParserSettings::new()
            .indent(false)
            .separate_json_attributes(false),
    )
}

/// Bytes of an EVTX file header (the offset of chunk 0).
const FILE_HEADER_SIZE: usize = 4096;
/// Bytes of a chunk.
const CHUNK_SIZE: usize = 65536;
/// Bytes of a chunk header (what is read of every chunk to find the oldest).
const CHUNK_HEADER_SIZE: usize = 512;
/// What a chunk starts with.
const CHUNK_MAGIC: &[u8] = b"ElfChnk\0";
/// The magic of an EVTX file header.
const FILE_MAGIC: &[u8] = b"ElfFile\0";
/// Where the file header holds the size of its block.
const HEADER_BLOCK_SIZE_AT: usize = 40;
/// Where a chunk header keeps the offset of the chunk's free space (where its records end).
const FREE_SPACE_OFFSET: usize = 48;
/// Where a chunk header holds the ID and the offset of its last record.
const LAST_RECORD_ID: usize = 32;
const LAST_RECORD_AT: usize = 44;
/// What a record starts with.
const RECORD_MAGIC: [u8; 4] = [0x2a, 0x2a, 0, 0];
/// The smallest record: its header (24 bytes), one BinXML byte, the copy of its size.
const MIN_RECORD_SIZE: usize = 29;
/// The most records a chunk has room for (a record takes more than 24 bytes): a header whose
/// record range is longer says nothing believable about how many records there were.
const MAX_CHUNK_RECORDS: u64 = (CHUNK_SIZE / 24) as u64;

/// What the crate renders for a record whose BinXML holds no element (it is only an end of
/// stream token, as where a record's bytes were zeroed): an event with nothing in it, which
/// no Windows log writes. Handed to the rules, it could only match a condition that negates
/// everything; it is reported instead.
const EMPTY_EVENT: &[u8] = br#"{"Event":null}"#;

/// The EventRecordIDs a chunk's header lists, `first..=last`, when the range is plausible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Listed {
    first: u64,
    last: u64,
}

impl Listed {
    /// From a chunk's first bytes (its header may be cut short): `None` without the chunk
    /// magic, or when the range is reversed or longer than a chunk has room for.
    fn from_chunk(chunk: &[u8]) -> Option<Listed> {
        if !chunk.starts_with(CHUNK_MAGIC) {
            return None;
        }
        let id = |at: usize| {
            let bytes = chunk.get(at..at + 8)?;
            Some(u64::from_le_bytes(bytes.try_into().ok()?))
        };
        let (first, last) = (id(24)?, id(32)?);
        (first <= last && last - first < MAX_CHUNK_RECORDS).then_some(Listed { first, last })
    }

    fn count(self) -> u64 {
        self.last - self.first + 1
    }
}

/// One chunk to render: an EVTX image of the file's header followed by the chunk, which the
/// crate reads as a file of one chunk.
pub(crate) struct ChunkImage {
    /// The chunk's number in the real file.
    pub number: u64,
    /// `FILE_HEADER_SIZE + CHUNK_SIZE` bytes, from the pool.
    pub image: Vec<u8>,
    /// The records the chunk's header lists, what a chunk that cannot be parsed loses.
    listed: Option<Listed>,
    /// Bytes of the chunk the file holds: `CHUNK_SIZE` unless the file ends inside it (the
    /// image is then zero after them).
    present: usize,
    /// What was set right in the chunk's header to read all its records (a note, no loss).
    note: Option<String>,
    /// Records after the chunk's used space (see [`slack_records`]): not read, noted.
    slack: u64,
}

/// A chunk that could not be read: where, why, and what is lost with it.
#[derive(Debug)]
pub(crate) struct UnreadableChunk {
    number: u64,
    reason: String,
    /// Bytes of the chunk the file holds, when it ends inside the chunk.
    truncated: Option<usize>,
    listed: Option<Listed>,
    /// The earlier chunk of the file this one repeats byte for byte: not read again, and
    /// nothing lost.
    repeats: Option<u64>,
}

/// What is at a chunk's place in the file.
enum Slot {
    Chunk(ChunkImage),
    /// All zeros: a chunk never used, or the unwritten rest of a file that ends inside it.
    Unused,
    /// Nothing: the file ended before.
    End,
    Unreadable(UnreadableChunk),
}

/// The chunks of one EVTX file in record order, one looked ahead so the last is known.
///
/// The walk is the `evtx` crate's (`EvtxParser::into_chunks`): from the chunk holding the lowest
/// record ID to the end of the file (past the header's chunk count, for dirty files), then from
/// the first chunk up to that one; all-zero chunks are passed over. Where it differs: a file
/// that ends inside a chunk (a copy cut short, a log read as it is written) still has that
/// chunk read, its missing part taken as zeros and its records up to the cut rendered (the
/// crate takes the cut for the end of the file); only a cut that leaves nothing but zeros of
/// the chunk ends the walk quietly. It is
/// done here rather than by the crate so that a chunk is read straight into a pooled buffer
/// (the crate zeroes a fresh 64 KiB vector before each read and tests it for zeros byte by
/// byte, a fifth of `dump`'s instructions on evtx-attack-samples, which has many empty
/// chunks).
pub(crate) struct EvtxChunks<'a> {
    reader: Reader<'a>,
    /// The file's header block, put in front of every chunk.
    header: Vec<u8>,
    /// Whole chunks the file's size has room for.
    count: u64,
    /// The next chunk number to look at.
    next: u64,
    /// The chunk holding the oldest records, where the walk starts and, after wrapping, ends.
    oldest: u64,
    wrapped: bool,
    pool: Arc<BufferPool>,
    peeked: Option<Result<ChunkImage, UnreadableChunk>>,
    /// Why the file header was passed over, when it is damaged but the chunks are there.
    damaged_header: Option<String>,
    /// The record range each whole chunk read so far lists, with the chunk that listed it, and
    /// the highest record ID listed: chunks come in rising ranges, so only a range that does
    /// not start above it is looked up.
    ranges: Vec<(Listed, u64)>,
    highest: Option<u64>,
}

impl<'a> EvtxChunks<'a> {
    /// Reads the file header. `Err` is why the file cannot be read as EVTX.
    ///
    /// A file header the crate refuses (a bit flipped in its magic) does not lose the file
    /// when a chunk follows it: every chunk has a magic and a header of its own, and the file
    /// header says nothing the chunks need. The file is then read from its chunks, with a note
    /// ([`EvtxChunks::damaged_header`]).
    pub(crate) fn open(
        mut reader: Reader<'a>,
        pool: Arc<BufferPool>,
    ) -> Result<EvtxChunks<'a>, String> {
        let refused = EvtxParser::from_read_seek(&mut reader)
            .err()
            .map(|err| error_chain(&err));
        let cannot = |err: std::io::Error| format!("not a readable EVTX file: {err}");
        let mut header = vec![0; FILE_HEADER_SIZE];
        reader.seek(SeekFrom::Start(0)).map_err(cannot)?;
        let not_evtx = |reason| format!("not a readable EVTX file: {reason}");
        if let Err(err) = reader.read_exact(&mut header) {
            return Err(refused.map_or_else(|| cannot(err), not_evtx));
        }
        let damaged_header = match refused {
            None => None,
            Some(reason) if starts_with_chunk(&mut reader) => Some(reason),
            Some(reason) => return Err(not_evtx(reason)),
        };
        // The copy put in front of every chunk says what the image holds: a file header
        // (magic) of one header block (4096 bytes) before the chunk, whatever the file's says.
        header[..FILE_MAGIC.len()].copy_from_slice(FILE_MAGIC);
        header[HEADER_BLOCK_SIZE_AT..HEADER_BLOCK_SIZE_AT + 2]
            .copy_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
        let len = reader.seek(SeekFrom::End(0)).map_err(cannot)?;
        // Chunks are where they are read, FILE_HEADER_SIZE + n × CHUNK_SIZE, whatever the
        // header's block size says (counting from a larger one left the last chunk out, and a
        // bad chunk there unreported).
        let count = len.saturating_sub(FILE_HEADER_SIZE as u64) / CHUNK_SIZE as u64;
        let oldest = oldest_chunk(&mut reader, count);
        let mut chunks = EvtxChunks {
            reader,
            header,
            count,
            next: oldest,
            oldest,
            wrapped: false,
            pool,
            peeked: None,
            damaged_header,
            ranges: Vec::new(),
            highest: None,
        };
        chunks.peeked = chunks.advance();
        Ok(chunks)
    }

    /// Whether chunk `number` of the file holds exactly `bytes`.
    fn chunk_equals(&mut self, number: u64, bytes: &[u8]) -> bool {
        let offset = FILE_HEADER_SIZE as u64 + number * CHUNK_SIZE as u64;
        let mut earlier = self.pool.take_as_is(CHUNK_SIZE);
        earlier.resize(CHUNK_SIZE, 0);
        let same = self.reader.seek(SeekFrom::Start(offset)).is_ok()
            && matches!(read_full(&mut self.reader, &mut earlier), Ok(CHUNK_SIZE))
            && earlier.get(..bytes.len()) == Some(bytes);
        self.pool.give(earlier);
        same
    }

    /// Why the file header was passed over (once), if it was.
    pub(crate) fn damaged_header(&mut self) -> Option<String> {
        self.damaged_header
            .take()
            .map(|reason| format!("damaged file header ({reason}); read from its chunks"))
    }

    /// The next chunk (or why it could not be read), and whether it is the last.
    pub(crate) fn next_chunk(&mut self) -> Option<(Result<ChunkImage, UnreadableChunk>, bool)> {
        let current = self.peeked.take()?;
        self.peeked = self.advance();
        Some((current, self.peeked.is_none()))
    }

    /// The next chunk in record order, wrapping around once.
    fn advance(&mut self) -> Option<Result<ChunkImage, UnreadableChunk>> {
        loop {
            let end = if self.wrapped { self.oldest } else { u64::MAX };
            if let Some((chunk, number)) = self.find(self.next, end) {
                self.next = number.checked_add(1)?;
                return Some(chunk);
            }
            if self.wrapped || self.oldest == 0 {
                return None;
            }
            self.wrapped = true;
            self.next = 0;
        }
    }

    /// The first chunk from `number` on, before `end`, that is not all zeros.
    fn find(
        &mut self,
        mut number: u64,
        end: u64,
    ) -> Option<(Result<ChunkImage, UnreadableChunk>, u64)> {
        loop {
            if number >= end {
                return None;
            }
            match self.read_chunk(number) {
                Slot::Chunk(chunk) => return Some((Ok(chunk), number)),
                Slot::Unused => number = number.checked_add(1)?,
                Slot::End => return None,
                Slot::Unreadable(err) => return Some((Err(err), number)),
            }
        }
    }

    /// Chunk `number`. Its header is checked here, as the crate does when it reads a chunk
    /// (checksums are not: the crate's default, which [`settings`] keeps).
    fn read_chunk(&mut self, number: u64) -> Slot {
        let Some(offset) = number
            .checked_mul(CHUNK_SIZE as u64)
            .and_then(|o| o.checked_add(FILE_HEADER_SIZE as u64))
        else {
            return Slot::End;
        };
        // Past the whole chunks the size has room for, a chunk that cannot be read is the end.
        let unreadable = |reason: String| {
            if number < self.count {
                Slot::Unreadable(UnreadableChunk {
                    number,
                    reason,
                    truncated: None,
                    listed: None,
                    repeats: None,
                })
            } else {
                Slot::End
            }
        };
        if let Err(err) = self.reader.seek(SeekFrom::Start(offset)) {
            return unreadable(error_chain(&ChunkError::FailedToSeekToChunk(err)));
        }
        // The chunk part is overwritten by the read (and zeroed after a cut), so a reused
        // buffer is not cleared.
        let mut image = self.pool.take_as_is(FILE_HEADER_SIZE + CHUNK_SIZE);
        image.resize(FILE_HEADER_SIZE + CHUNK_SIZE, 0);
        image[..FILE_HEADER_SIZE].copy_from_slice(&self.header);
        let chunk = &mut image[FILE_HEADER_SIZE..];
        let present = match read_full(&mut self.reader, chunk) {
            Ok(0) => {
                self.pool.give(image);
                return Slot::End;
            }
            Ok(present) => present,
            Err(err) => {
                self.pool.give(image);
                return unreadable(format!("cannot read: {err}"));
            }
        };
        chunk[present..].fill(0);
        if is_all_zeros(&chunk[..present]) {
            self.pool.give(image);
            return Slot::Unused;
        }
        let truncated = (present < CHUNK_SIZE).then_some(present);
        let listed = Listed::from_chunk(&chunk[..present]);
        let (mut free, last_id, last_at) = match EvtxChunkHeader::from_bytes(&chunk[..present]) {
            Ok(header) => (
                header.free_space_offset,
                header.last_event_record_id,
                header.last_event_record_data_offset,
            ),
            Err(err) => {
                self.pool.give(image);
                return Slot::Unreadable(UnreadableChunk {
                    number,
                    reason: error_chain(&ChunkError::from(err)),
                    truncated,
                    listed,
                    repeats: None,
                });
            }
        };
        // A chunk copied twice into a file (carved or recovered logs) would give its events
        // twice: a chunk listing the records of an earlier one, with the same bytes (the
        // earlier one's first bytes, for a copy the file's end cuts), is passed over with a
        // note.
        if let Some(range) = listed {
            let earlier = match self.highest {
                Some(highest) if range.first <= highest => self
                    .ranges
                    .iter()
                    .find(|(listed, _)| *listed == range)
                    .map(|&(_, number)| number),
                _ => None,
            };
            match earlier {
                Some(earlier) if self.chunk_equals(earlier, &chunk[..present]) => {
                    self.pool.give(image);
                    return Slot::Unreadable(UnreadableChunk {
                        number,
                        reason: String::new(),
                        truncated,
                        listed,
                        repeats: Some(earlier),
                    });
                }
                Some(_) => {}
                // A cut chunk is the file's last, but in a log that wrapped around it is read
                // before chunks 0..oldest; a later whole chunk it copies is not looked up
                // against it (left: rare, and cut copies were never deduplicated before).
                None if truncated.is_some() => {}
                None => {
                    self.ranges.push((range, number));
                    self.highest = Some(self.highest.map_or(range.last, |h| h.max(range.last)));
                }
            }
        }
        if truncated.is_some() {
            // The crate reads up to the free space; a record the cut goes through would be
            // rendered from zeros. End the records before it.
            free = whole_records_end(chunk, present, free as usize) as u32;
            chunk[FREE_SPACE_OFFSET..FREE_SPACE_OFFSET + 4].copy_from_slice(&free.to_le_bytes());
        }
        // The crate stops at the record whose ID is the header's last: a header that says less
        // than the chunk holds (edited, or damaged) would hide the records after it.
        let fixed = real_last_record(chunk, free as usize, last_id, last_at as usize);
        let mut note = fixed.map(|(at, id)| {
            chunk[LAST_RECORD_ID..LAST_RECORD_ID + 8].copy_from_slice(&id.to_le_bytes());
            chunk[LAST_RECORD_AT..LAST_RECORD_AT + 4].copy_from_slice(&(at as u32).to_le_bytes());
            format!("the header's last record ID is {last_id}, its records run to {id}; all read")
        });
        // Records right after the used space whose IDs go on from its last one were written
        // after the header was last updated (a log copied while it was being written): they
        // are the log's, read with a note, not slack.
        let last = fixed.map_or(last_id, |(_, id)| id);
        if truncated.is_none()
            && let Some((end, at, id)) = records_run_on(chunk, free as usize, last)
        {
            free = end as u32;
            chunk[FREE_SPACE_OFFSET..FREE_SPACE_OFFSET + 4].copy_from_slice(&free.to_le_bytes());
            chunk[LAST_RECORD_ID..LAST_RECORD_ID + 8].copy_from_slice(&id.to_le_bytes());
            chunk[LAST_RECORD_AT..LAST_RECORD_AT + 4].copy_from_slice(&(at as u32).to_le_bytes());
            let more = format!(
                "records {}-{id} follow the chunk's used space, their IDs going on from its \
                 last; all read",
                last + 1
            );
            note = Some(match note {
                Some(fixed) => format!("{fixed}; {more}"),
                None => more,
            });
        }
        let slack = slack_records(chunk, free as usize, present);
        Slot::Chunk(ChunkImage {
            number,
            image,
            note,
            listed,
            present,
            slack,
        })
    }
}

/// Where the records a cut chunk holds whole end: up to the free space, the records before the
/// first one the cut goes through (or that is not a record: what follows cannot be told apart
/// from the cut).
fn whole_records_end(chunk: &[u8], present: usize, free: usize) -> usize {
    let end = free.min(present);
    walk_records(chunk, end, present).1.min(end)
}

/// A walk over a chunk's records by their headers alone, from the chunk header on, each
/// record's size leading to the next: while there is a record (its magic, a plausible size)
/// that starts before `starts_before` and ends by `ends_by`. How many records it passed, and
/// where it stopped.
fn walk_records(chunk: &[u8], starts_before: usize, ends_by: usize) -> (u64, usize) {
    let (mut count, mut at) = (0, CHUNK_HEADER_SIZE);
    while at < starts_before {
        let Some((size, _)) = record_at(chunk, at, ends_by) else {
            break;
        };
        count += 1;
        at += size;
    }
    (count, at)
}

/// The size and ID of the record whose header is at `at`, if one is there (its magic, a
/// plausible size) and ends by `ends_by`.
fn record_at(chunk: &[u8], at: usize, ends_by: usize) -> Option<(usize, u64)> {
    // A record is longer than its header's first 16 bytes, so these are in the chunk when
    // the record is.
    let head = chunk.get(at..at + 16)?;
    let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let id = u64::from_le_bytes(head[8..16].try_into().ok()?);
    (head[..4] == RECORD_MAGIC && size >= MIN_RECORD_SIZE && at + size <= ends_by)
        .then_some((size, id))
}

/// How many records lie whole in a chunk after its used space (its free space offset, up to
/// the `present` bytes): records of the chunk's earlier life (a log cleared, or wrapped
/// around) that its header no longer lists and the crate does not read. They are found by
/// their magic, a plausible size and the copy of the size that ends every record; a chunk's
/// unused space is zeros, which never look like one.
fn slack_records(chunk: &[u8], free: usize, present: usize) -> u64 {
    let end = present.min(chunk.len());
    let mut at = free.max(CHUNK_HEADER_SIZE);
    let mut count = 0;
    while at < end {
        let Some(found) = memchr::memmem::find(&chunk[at..end], &RECORD_MAGIC) else {
            break;
        };
        let start = at + found;
        match whole_record_at(chunk, start, end) {
            Some((size, _)) => {
                count += 1;
                at = start + size;
            }
            None => at = start + 1,
        }
    }
    count
}

/// [`record_at`], with the copy of its size that ends a record checked too (for records found
/// outside the chunk's used space, where nothing else vouches for them).
fn whole_record_at(chunk: &[u8], at: usize, ends_by: usize) -> Option<(usize, u64)> {
    let (size, id) = record_at(chunk, at, ends_by)?;
    let copy = chunk.get(at + size - 4..at + size)?;
    (copy == (size as u32).to_le_bytes()).then_some((size, id))
}

/// The records that follow a chunk's used space (from `free`) one after the other, whose IDs
/// go on one by one from `last_id`: where they end, and the offset and ID of the last one
/// (`None` when the first is not there).
fn records_run_on(chunk: &[u8], free: usize, last_id: u64) -> Option<(usize, usize, u64)> {
    let (mut at, mut next, mut found) =
        (free.max(CHUNK_HEADER_SIZE), last_id.checked_add(1)?, None);
    while let Some((size, id)) = whole_record_at(chunk, at, chunk.len()) {
        if id != next {
            break;
        }
        found = Some((at + size, at, id));
        at += size;
        next = id.checked_add(1)?;
    }
    found
}

/// The offset and ID of a chunk's real last record, when its header names another: its
/// records, walked by their headers up to the free space, reach at least the header's last
/// record offset (so they are sound that far) and the last of them has a higher ID (a header
/// listing more than was written, a live log's, hides nothing). `None` when
/// the header is right, or the walk stops early (a damaged record: the crate resyncs past it).
/// The usual case costs one look at the record the header names.
fn real_last_record(
    chunk: &[u8],
    free: usize,
    last_id: u64,
    last_at: usize,
) -> Option<(usize, u64)> {
    let ends_by = free.min(chunk.len());
    let record = |at: usize| record_at(chunk, at, ends_by);
    if let Some((size, id)) = record(last_at)
        && id == last_id
        && record(last_at + size).is_none()
    {
        return None;
    }
    let (mut at, mut last) = (CHUNK_HEADER_SIZE, None);
    while let Some((size, id)) = record(at) {
        last = Some((at, id));
        at += size;
    }
    last.filter(|&(found_at, id)| found_at >= last_at && id > last_id)
}

/// Whether a chunk from which `read` records were read holds no more than that: its records,
/// walked by their headers, end in space that is all zeros. A live log's chunk header can list
/// records that were never written there (the crate's issue #197: a Sysmon log whose chunk
/// header's last record ID and free space offset run past its records, zeros after them);
/// that is no loss to report. Records past the free space, or bytes that are not a record
/// where one should be, are.
fn holds_no_more(chunk: &[u8], read: u64) -> bool {
    let (found, end) = walk_records(chunk, CHUNK_SIZE, CHUNK_SIZE);
    found <= read && chunk.get(end..).is_none_or(is_all_zeros)
}

/// Whether a chunk's magic follows the file header block.
fn starts_with_chunk(reader: &mut Reader<'_>) -> bool {
    let mut magic = [0; 8];
    reader
        .seek(SeekFrom::Start(FILE_HEADER_SIZE as u64))
        .is_ok()
        && reader.read_exact(&mut magic).is_ok()
        && magic == CHUNK_MAGIC
}

/// Fills `buf` from `reader` until it is full or the input ends; how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Whether every byte is zero, a block at a time (the compiler vectorizes the inner fold).
fn is_all_zeros(data: &[u8]) -> bool {
    let mut blocks = data.chunks_exact(64);
    blocks.all(|block| block.iter().fold(0, |acc, &b| acc | b) == 0)
        && blocks.remainder().iter().all(|&b| b == 0)
}

/// The chunk whose header names the lowest first record ID (where a log that has wrapped
/// around starts); chunk 0 if none can be read.
fn oldest_chunk(reader: &mut Reader<'_>, count: u64) -> u64 {
    let mut oldest = (u64::MAX, 0);
    let mut header = [0; CHUNK_HEADER_SIZE];
    for number in 0..count {
        let offset = FILE_HEADER_SIZE as u64 + number * CHUNK_SIZE as u64;
        if reader.seek(SeekFrom::Start(offset)).is_err() || reader.read_exact(&mut header).is_err()
        {
            break;
        }
        // A header whose range is reversed says nothing about where its records belong.
        if let Ok(chunk) = EvtxChunkHeader::from_bytes(&header)
            && chunk.first_event_record_id <= chunk.last_event_record_id
            && chunk.first_event_record_id < oldest.0
        {
            oldest = (chunk.first_event_record_id, number);
        }
    }
    oldest.1
}

/// The skip for a chunk that could not be read.
pub(crate) fn chunk_read_skip(source: &Arc<str>, err: &UnreadableChunk) -> Skip {
    if let (Some(earlier), Some(listed)) = (err.repeats, err.listed) {
        let (first, last) = (listed.first, listed.last);
        let reason = match err.truncated {
            None => format!("the same bytes as chunk {earlier} (records {first}-{last})"),
            Some(present) => format!(
                "{}: the same bytes as the start of chunk {earlier} (records {first}-{last})",
                truncation(present)
            ),
        };
        return Skip {
            path: Arc::clone(source),
            location: Location::Chunk(err.number),
            reason: format!("{reason}; not read again"),
            records: 0,
        };
    }
    let reason = match err.truncated {
        Some(present) => format!("{}: {}", truncation(present), err.reason),
        None => err.reason.clone(),
    };
    let (reason, records) = chunk_skipped(&reason, err.listed);
    Skip {
        path: Arc::clone(source),
        location: Location::Chunk(err.number),
        reason,
        records,
    }
}

/// `truncated (30,000 of 65,536 bytes)`: how much of a chunk a file that ends inside it holds.
fn truncation(present: usize) -> String {
    format!(
        "truncated ({} of {} bytes)",
        group_digits(present),
        group_digits(CHUNK_SIZE)
    )
}

/// `65,536`.
pub(super) fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// The reason and record count of a chunk lost whole: the records its header lists, or 1 when
/// it lists none that are believable.
fn chunk_skipped(reason: &str, listed: Option<Listed>) -> (String, u64) {
    match listed {
        Some(listed) => (
            format!("{reason}; chunk skipped ({})", records(listed.count())),
            listed.count(),
        ),
        None => (format!("{reason}; chunk skipped"), 1),
    }
}

/// `1 record`, `2 records`.
fn records(n: u64) -> String {
    if n == 1 {
        "1 record".to_owned()
    } else {
        format!("{n} records")
    }
}

/// Parses one chunk and renders its records into `batch`; the image goes back to `pool`.
pub(crate) fn chunk_batch(
    chunk: ChunkImage,
    settings: &ParserSettings,
    pool: &BufferPool,
    batch: &mut Batch,
) {
    let ChunkImage {
        number,
        image,
        listed,
        present,
        note,
        slack,
    } = chunk;
    let truncated = (present < CHUNK_SIZE).then_some(present);
    let mut skips = Vec::new();
    let source = Arc::clone(&batch.source);
    let skip = |location, reason: String, records: u64| Skip {
        path: Arc::clone(&source),
        location,
        reason,
        records,
    };
    let whole_chunk = |reason: &str| {
        let reason = match truncated {
            Some(present) => format!("{}: {reason}", truncation(present)),
            None => reason.to_owned(),
        };
        let (reason, records) = chunk_skipped(&reason, listed);
        skip(Location::Chunk(number), reason, records)
    };
    // The parser reads bytes from the file: should a malformed chunk ever make it panic, lose
    // that chunk, not the run.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let parser = EvtxParser::from_read_seek(Cursor::new(image.as_slice()))
            .map_err(|err| error_chain(&err))?;
        let mut parser = parser.with_configuration(settings.clone());
        // The image holds one chunk, so one rendered chunk comes out.
        Ok(parser.chunks_json_bytes(false).next().unwrap_or_default())
    }))
    .unwrap_or_else(|_| Err("the EVTX parser failed on this chunk".to_owned()));
    if let Some(note) = note {
        skips.push(skip(Location::Chunk(number), note, 0));
    }
    let mut lost_whole = false;
    let rendered = match outcome {
        Ok(rendered) => rendered,
        Err(reason) => {
            skips.push(whole_chunk(&reason));
            lost_whole = true;
            RenderedChunk::default()
        }
    };
    // Each record's text ends with a newline, left out of its span.
    let mut spans = Vec::with_capacity(rendered.items.len());
    let mut start = 0;
    // Records rendered or reported one by one.
    let mut read = 0;
    for item in &rendered.items {
        match item {
            RenderedChunkItem::Record {
                event_record_id,
                end,
            } => {
                let span = Span {
                    number: *event_record_id,
                    start,
                    end: end.saturating_sub(1).max(start),
                };
                if rendered.data.get(span.start..span.end) == Some(EMPTY_EVENT) {
                    skips.push(skip(
                        Location::Record(span.number),
                        "record has no content".to_owned(),
                        1,
                    ));
                } else {
                    spans.push(span);
                }
                start = *end;
                read += 1;
            }
            RenderedChunkItem::Failed(EvtxError::FailedToParseChunk { source, .. }) => {
                skips.push(whole_chunk(&error_chain(&**source)));
                lost_whole = true;
            }
            RenderedChunkItem::Failed(err) => {
                let (location, reason) = record_error(number, err);
                skips.push(skip(location, reason, 1));
                read += 1;
            }
        }
    }
    // The crate renders valid UTF-8, checked here once for the whole chunk; should a record
    // ever not be, it is left out (and reported after the chunk's other skips).
    let (text, spans) = into_text(rendered.data, spans, |span, _, _| {
        skips.push(skip(
            Location::Record(span.number),
            "rendered record is not valid UTF-8".to_owned(),
            1,
        ));
        None
    });
    // The records the header lists that were neither rendered nor reported: lost with a cut,
    // or behind a free space offset that is too low or a record the walk could not get past.
    // Only a shortfall is reported (a live log's header can list fewer records than it has),
    // and not one into empty space (nor can it list more, see `holds_no_more`).
    if !lost_whole {
        let lost = listed.map_or(0, |listed| listed.count().saturating_sub(read));
        let reason = match (truncated, listed) {
            (Some(present), None) => Some(format!(
                "{}; {} read, the rest skipped",
                truncation(present),
                records(read)
            )),
            (Some(present), Some(_)) if lost > 0 => Some(format!(
                "{}; {} read, {lost} skipped",
                truncation(present),
                records(read)
            )),
            (None, Some(listed))
                if lost > 0 && !holds_no_more(&image[FILE_HEADER_SIZE..], read) =>
            {
                Some(format!(
                    "header lists records {}-{}, {read} read; {} skipped",
                    listed.first,
                    listed.last,
                    records(lost)
                ))
            }
            _ => None,
        };
        if let Some(reason) = reason {
            skips.push(skip(Location::Chunk(number), reason, lost.max(1)));
        } else if slack > 0 {
            // (A shortfall reported above may be these same records.) A note, not a skip:
            // they are no part of the log as its header and Event Viewer have it.
            skips.push(skip(
                Location::Chunk(number),
                format!(
                    "{} after the chunk's used space, left from before it was reused \
                     (slack); not read",
                    records(slack)
                ),
                0,
            ));
        }
    }
    pool.give(image);
    batch.skips.extend(skips);
    batch.set_records(text, spans);
}

/// Where and why a record failed. The parser numbers the chunk 0, as the only one of its
/// image: `chunk` is its number in the file.
fn record_error(chunk: u64, err: &EvtxError) -> (Location, String) {
    match err {
        EvtxError::FailedToParseRecord { record_id, source } => {
            (Location::Record(*record_id), error_chain(&**source))
        }
        EvtxError::FailedToReadRecordAt { offset, source, .. } => (
            Location::Chunk(chunk),
            format!("record at offset {offset:#x}: {}", error_chain(&**source)),
        ),
        other => (Location::Chunk(chunk), error_chain(other)),
    }
}
