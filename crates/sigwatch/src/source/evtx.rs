//! Windows event logs, through the `evtx` crate.
//!
//! Chunks (64 KiB, self-contained) are read in file order by the producer and parsed and
//! rendered in parallel, one batch per chunk. Records are rendered as the crate's compact JSON
//! (`{"Event":{"#attributes":...,"System":{...},"EventData":{...}}}`) and numbered by their
//! EventRecordID. A chunk or record that cannot be parsed is skipped and reported; the rest of
//! the file goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, IntoIterChunks, ParserSettings};

use super::batch::{Batch, Span};
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

/// The chunks of one EVTX file in record order, one looked ahead so the last is known.
pub(crate) struct EvtxChunks<'a> {
    chunks: IntoIterChunks<Reader<'a>>,
    peeked: Option<Result<EvtxChunkData, EvtxError>>,
}

impl<'a> EvtxChunks<'a> {
    /// Reads the file header. `Err` is why the file cannot be read as EVTX.
    pub(crate) fn open(
        reader: Reader<'a>,
        settings: &ParserSettings,
    ) -> Result<EvtxChunks<'a>, String> {
        let parser = EvtxParser::from_read_seek(reader)
            .map_err(|err| format!("not a readable EVTX file: {}", error_chain(&err)))?;
        let mut chunks = parser.with_configuration(settings.clone()).into_chunks();
        let peeked = chunks.next();
        Ok(EvtxChunks { chunks, peeked })
    }

    /// The next chunk (or why it could not be read), and whether it is the last.
    pub(crate) fn next_chunk(&mut self) -> Option<(Result<EvtxChunkData, EvtxError>, bool)> {
        let current = self.peeked.take()?;
        self.peeked = self.chunks.next();
        Some((current, self.peeked.is_none()))
    }
}

/// The skip for a chunk that could not be read.
pub(crate) fn chunk_read_skip(source: &Arc<str>, err: &EvtxError) -> Skip {
    let (location, reason) = match err {
        EvtxError::FailedToParseChunk { chunk_id, source } => {
            (Location::Chunk(*chunk_id), error_chain(&**source))
        }
        other => (Location::File, error_chain(other)),
    };
    Skip {
        path: Arc::clone(source),
        location,
        reason: format!("{reason}; chunk skipped"),
    }
}

/// Parses one chunk and renders its records into `batch`.
pub(crate) fn chunk_batch(
    mut data: EvtxChunkData,
    settings: &Arc<ParserSettings>,
    pool: &BufferPool,
    batch: &mut Batch,
) {
    let number = data.number.unwrap_or_default();
    // Rendered JSON takes about three times the space of the binary XML.
    let mut buf = String::from_utf8(pool.take(data.data.len() * 3)).unwrap_or_default();
    let mut spans = Vec::new();
    let mut skips = Vec::new();
    let source = Arc::clone(&batch.source);
    let skip = |location, reason: String| Skip {
        path: Arc::clone(&source),
        location,
        reason,
    };
    // The parser reads bytes from the file: should a malformed chunk ever make it panic, lose
    // that chunk, not the run.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut chunk = match data.parse(Arc::clone(settings)) {
            Ok(chunk) => chunk,
            Err(err) => {
                skips.push(skip(
                    Location::Chunk(number),
                    format!("{}; chunk skipped", error_chain(&err)),
                ));
                return;
            }
        };
        for record in chunk.iter() {
            let rendered = record.and_then(|record| record.into_json_bytes());
            match rendered {
                Ok(rendered) => match String::from_utf8(rendered.data) {
                    Ok(json) => {
                        let start = buf.len();
                        buf.push_str(&json);
                        spans.push(Span {
                            number: rendered.event_record_id,
                            start,
                            end: buf.len(),
                        });
                    }
                    Err(_) => skips.push(skip(
                        Location::Record(rendered.event_record_id),
                        "rendered record is not valid UTF-8".to_owned(),
                    )),
                },
                Err(err) => {
                    let (location, reason) = record_error(number, &err);
                    skips.push(skip(location, reason));
                }
            }
        }
    }));
    if outcome.is_err() {
        skips.push(skip(
            Location::Chunk(number),
            "the EVTX parser failed on this chunk; its remaining records are skipped".to_owned(),
        ));
    }
    batch.skips.extend(skips);
    batch.set_records(buf, spans);
}

fn record_error(chunk: u64, err: &EvtxError) -> (Location, String) {
    match err {
        EvtxError::FailedToParseRecord { record_id, source } => {
            (Location::Record(*record_id), error_chain(&**source))
        }
        EvtxError::FailedToReadRecordAt {
            chunk: found,
            offset,
            source,
        } => (
            Location::Chunk(found.unwrap_or(chunk)),
            format!("record at offset {offset:#x}: {}", error_chain(&**source)),
        ),
        other => (Location::Chunk(chunk), error_chain(other)),
    }
}
