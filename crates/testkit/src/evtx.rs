//! Small EVTX files built from bytes, so that tests of damaged logs need no shared corpus: a
//! file header and chunks of records, each record a plain BinXML element tree (no templates)
//!
//! ```text
//! <Event><System><EventID>4688</EventID><EventRecordID>N</EventRecordID></System>
//!   <EventData><Data>xxx…</Data></EventData></Event>
//! ```
//!
//! Checksums are left at zero (readers that do not check them, like the `evtx` crate by
//! default, read the files; it only warns about the file header's).

/// Bytes of the file header block.
pub const FILE_HEADER_SIZE: usize = 4096;
/// Bytes of a chunk.
pub const CHUNK_SIZE: usize = 65536;
/// Bytes of a chunk header (where its records start).
pub const CHUNK_HEADER_SIZE: usize = 512;

/// Offsets of fields in a chunk header.
pub mod chunk_field {
    pub const FIRST_RECORD_ID: usize = 24;
    pub const LAST_RECORD_ID: usize = 32;
    pub const LAST_RECORD_OFFSET: usize = 44;
    pub const FREE_SPACE_OFFSET: usize = 48;
    pub const STRING_OFFSETS: usize = 128;
}

/// Offset of the header block size in the file header.
pub const HEADER_BLOCK_SIZE_FIELD: usize = 40;

/// One chunk's bytes and where its records are.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// `CHUNK_SIZE` bytes.
    pub bytes: Vec<u8>,
    /// `(EventRecordID, start, end)` of each record, as offsets in the chunk.
    pub records: Vec<(u64, usize, usize)>,
}

impl Chunk {
    /// A chunk of `count` records numbered from `first_id`, each with `data_len` characters of
    /// event data (a record takes about `2 * data_len + 330` bytes).
    ///
    /// # Panics
    /// When the records do not fit in a chunk.
    pub fn new(first_id: u64, count: u64, data_len: usize) -> Chunk {
        let mut bytes = vec![0; CHUNK_HEADER_SIZE];
        let mut records = Vec::new();
        for id in first_id..first_id + count {
            let start = bytes.len();
            let record = record(start, id, data_len);
            bytes.extend_from_slice(&record);
            records.push((id, start, bytes.len()));
        }
        assert!(bytes.len() <= CHUNK_SIZE, "records do not fit in a chunk");
        let free = bytes.len();
        bytes.resize(CHUNK_SIZE, 0);
        bytes[..8].copy_from_slice(b"ElfChnk\0");
        let last_id = first_id + count.max(1) - 1;
        put_u64(&mut bytes, 8, first_id);
        put_u64(&mut bytes, 16, last_id);
        put_u64(&mut bytes, chunk_field::FIRST_RECORD_ID, first_id);
        put_u64(&mut bytes, chunk_field::LAST_RECORD_ID, last_id);
        put_u32(&mut bytes, 40, 128);
        let last_start = records.last().map_or(CHUNK_HEADER_SIZE, |r| r.1);
        put_u32(
            &mut bytes,
            chunk_field::LAST_RECORD_OFFSET,
            last_start as u32,
        );
        put_u32(&mut bytes, chunk_field::FREE_SPACE_OFFSET, free as u32);
        Chunk { bytes, records }
    }

    /// Makes the chunk's string table unreadable: its first entry points at a name past the
    /// records that claims 65,535 characters, so a reader cannot build the chunk's string
    /// cache and loses the whole chunk.
    pub fn break_string_table(&mut self) -> &mut Chunk {
        let name_at = self.records.last().map_or(CHUNK_HEADER_SIZE, |r| r.2) + 16;
        // The name's link (4 bytes) and hash (2 bytes), then its length.
        put_u32(&mut self.bytes, name_at + 4, 0xffff_0000);
        self.set_u32(chunk_field::STRING_OFFSETS, name_at as u32)
    }

    /// Sets a little-endian `u32` field of the chunk.
    pub fn set_u32(&mut self, offset: usize, value: u32) -> &mut Chunk {
        put_u32(&mut self.bytes, offset, value);
        self
    }

    /// Sets a little-endian `u64` field of the chunk.
    pub fn set_u64(&mut self, offset: usize, value: u64) -> &mut Chunk {
        put_u64(&mut self.bytes, offset, value);
        self
    }
}

/// An EVTX file: a header block followed by `chunks`.
pub fn file(chunks: &[Chunk]) -> Vec<u8> {
    let mut bytes = vec![0; FILE_HEADER_SIZE];
    bytes[..8].copy_from_slice(b"ElfFile\0");
    let count = chunks.len() as u64;
    put_u64(&mut bytes, 16, count.saturating_sub(1));
    let next_id = chunks
        .iter()
        .filter_map(|c| c.records.last().map(|r| r.0 + 1))
        .max()
        .unwrap_or(1);
    put_u64(&mut bytes, 24, next_id);
    put_u32(&mut bytes, 32, 128);
    put_u16(&mut bytes, 36, 1);
    put_u16(&mut bytes, 38, 3);
    put_u16(&mut bytes, HEADER_BLOCK_SIZE_FIELD, FILE_HEADER_SIZE as u16);
    put_u16(&mut bytes, 42, chunks.len() as u16);
    for chunk in chunks {
        bytes.extend_from_slice(&chunk.bytes);
    }
    bytes
}

/// The JSON text a record of [`Chunk::new`] renders as with the `evtx` crate's compact
/// settings (attributes inline), for comparisons.
pub fn event_json(id: u64, data_len: usize) -> String {
    format!(
        r##"{{"Event":{{"System":{{"EventID":"4688","EventRecordID":"{id}"}},"EventData":{{"Data":{{"#text":"{}"}}}}}}}}"##,
        "x".repeat(data_len)
    )
}

/// A record placed at `start` in its chunk (names are stored inline, so their offsets depend
/// on where the record is).
fn record(start: usize, id: u64, data_len: usize) -> Vec<u8> {
    const HEADER: usize = 24;
    let mut xml = Vec::new();
    // Where the BinXML starts in the chunk.
    let base = start + HEADER;
    // Fragment header.
    xml.extend_from_slice(&[0x0f, 1, 1, 0]);
    open(&mut xml, base, "Event");
    open(&mut xml, base, "System");
    element(&mut xml, base, "EventID", "4688");
    element(&mut xml, base, "EventRecordID", &id.to_string());
    xml.push(0x04);
    open(&mut xml, base, "EventData");
    element(&mut xml, base, "Data", &"x".repeat(data_len));
    xml.push(0x04);
    xml.push(0x04);
    xml.push(0x00);
    let size = HEADER + xml.len() + 4;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&[0x2a, 0x2a, 0, 0]);
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    // 2019-04-27T15:57:25Z as a FILETIME.
    out.extend_from_slice(&132_007_630_450_000_000_u64.to_le_bytes());
    out.extend_from_slice(&xml);
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out
}

/// An open start element token and its closing `>`, the name inline (`base` is where `xml`
/// starts in the chunk).
fn open(xml: &mut Vec<u8>, base: usize, name: &str) {
    let at = base + xml.len();
    xml.push(0x01);
    // Data size (not read).
    xml.extend_from_slice(&0u32.to_le_bytes());
    // The name's offset: right after this field, where it is stored inline.
    let name_at = at + 1 + 4 + 4;
    xml.extend_from_slice(&(name_at as u32).to_le_bytes());
    xml.extend_from_slice(&0u32.to_le_bytes());
    xml.extend_from_slice(&name_hash(name).to_le_bytes());
    let units: Vec<u16> = name.encode_utf16().collect();
    xml.extend_from_slice(&(units.len() as u16).to_le_bytes());
    units
        .iter()
        .for_each(|u| xml.extend_from_slice(&u.to_le_bytes()));
    xml.extend_from_slice(&[0, 0]);
    xml.push(0x02);
}

/// `<name>text</name>`.
fn element(xml: &mut Vec<u8>, base: usize, name: &str, text: &str) {
    open(xml, base, name);
    xml.push(0x05);
    // A UTF-16 string value.
    xml.push(0x01);
    let units: Vec<u16> = text.encode_utf16().collect();
    xml.extend_from_slice(&(units.len() as u16).to_le_bytes());
    units
        .iter()
        .for_each(|u| xml.extend_from_slice(&u.to_le_bytes()));
    xml.push(0x04);
}

/// The name hash EVTX stores (not checked by readers that find names by offset).
fn name_hash(name: &str) -> u16 {
    let hash = name.encode_utf16().fold(0u32, |h, u| {
        h.wrapping_mul(65599).wrapping_add(u32::from(u))
    });
    hash as u16
}

fn put_u16(bytes: &mut [u8], offset: usize, value: u16) {
    bytes[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
}

fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u64(bytes: &mut [u8], offset: usize, value: u64) {
    bytes[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
}
