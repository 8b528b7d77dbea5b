//! Log sources: files, folders and stdin turned into batches of events.
//!
//! The flow, one stage per file:
//!
//! ```text
//! discover (files, folders, `-`) ─► detect (gzip? EVTX? JSON array? JSON lines? text?)
//!     ─► producer: sequential reading, decompression, cutting into work units (line blocks,
//!        array elements, EVTX chunks)  ─► work unit run in parallel ─► Batch ─► sink
//! ```
//!
//! Every record reaches the consumer as text in a buffer the batch owns: JSON lines as read,
//! EVTX records rendered by the `evtx` crate as compact JSON, JSON array elements as written,
//! text lines as they are. Nothing is parsed into `serde_json::Value` here, because the engine
//! parses lazily and parsing twice would cost more than reading (measured: rendering EVTX
//! records to JSON text runs at about twice the speed of rendering them to `Value`).
//! [`Record::to_value`] and [`Batch::values`] build a `Value` for consumers that want one.
//!
//! Nothing a file contains stops a run: an unreadable file, a truncated gzip stream, a corrupt
//! EVTX chunk or a bad line becomes a [`Skip`] carried by the batch it was found in, and reading
//! goes on. Only a named input that does not exist is an error ([`SourceError`]).
//!
//! Two ways to read: [`read_all`] runs on a rayon pool (files in parallel, and the work units of
//! one big file in parallel) and hands every batch to a sink tagged with `(file, seq)` so the
//! consumer can restore file order with [`Reorder`]; [`read_file`] and [`read_sequential`] are
//! plain iterators on the calling thread (stdin, tests, `--threads 1`).

// Only `dump` uses this module so far; `hunt` will use the rest of the API. Remove this then.
#![allow(dead_code, unused_imports)]

mod batch;
mod cap;
mod detect;
mod discover;
mod evtx;
mod json;
mod lines;
mod pool;
mod progress;
mod read;
mod reorder;
mod text;
mod utf16;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use batch::{Batch, Record, RecordData};
pub use cap::{Message, MessageCap};
pub(crate) use discover::file_kind;
pub use discover::{Discovery, discover};
pub use pool::BufferPool;
pub use progress::{Progress, ProgressSnapshot};
pub use read::{FileBatches, read_all, read_file, read_sequential};
pub use reorder::Reorder;

/// What a command line names as input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or a folder (read recursively).
    Path(PathBuf),
    /// Standard input, written `-`.
    Stdin,
}

impl Input {
    /// `-` is stdin, anything else a path.
    pub fn from_arg(arg: impl Into<PathBuf>) -> Input {
        let path = arg.into();
        if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::Path(path)
        }
    }
}

/// One file to read, as found by [`discover`].
#[derive(Debug, Clone)]
pub struct InputFile {
    /// How the file is named in skips and messages: its path as given or found, or `<stdin>`.
    pub name: Arc<str>,
    /// Where to read it from.
    pub kind: InputKind,
    /// Size in bytes when known (regular files), for progress.
    pub size: Option<u64>,
}

/// Where an [`InputFile`] is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// A path; `seekable` is false for pipes and other non-regular files, which are read as
    /// streams.
    Path { path: PathBuf, seekable: bool },
    /// Standard input.
    Stdin,
    /// Found in a folder but not to be read, for `reason` (a FIFO or a device, which could
    /// block or never end; a broken link): reported and counted as an unreadable file.
    Unreadable { reason: String },
}

impl InputFile {
    /// A regular file at `path` (not checked; an unreadable one becomes a skip when read).
    pub fn path(path: impl Into<PathBuf>) -> InputFile {
        let path = path.into();
        InputFile {
            name: path.display().to_string().into(),
            size: std::fs::metadata(&path).ok().map(|m| m.len()),
            kind: InputKind::Path {
                path,
                seekable: true,
            },
        }
    }

    /// Standard input.
    pub fn stdin() -> InputFile {
        InputFile {
            name: "<stdin>".into(),
            kind: InputKind::Stdin,
            size: None,
        }
    }
}

/// The shape of a log file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Windows event log; records rendered as the `evtx` crate's JSON
    /// (`{"Event": {"System": ..., "EventData": ...}}`), numbered by EventRecordID.
    Evtx,
    /// One JSON object per line, numbered by line.
    JsonLines,
    /// One JSON array of objects, or pretty-printed JSON objects one after the other (a file
    /// starting with `{` alone on its line), numbered by element (1-based).
    JsonArray,
    /// Plain text, one event per line (`{"message": "<line>"}`), numbered by line.
    Text,
}

impl Format {
    /// The name used by `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::JsonLines => "jsonl",
            Format::JsonArray => "json",
            Format::Text => "text",
        }
    }

    /// What a record number means in this format.
    fn location(self, number: u64) -> Location {
        match self {
            Format::Evtx => Location::Record(number),
            Format::JsonLines | Format::Text => Location::Line(number),
            Format::JsonArray => Location::Element(number),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to read the inputs. `Default` is what the command line uses without flags.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Read every input as this format instead of detecting it per file (`--format`); `None`
    /// is `auto`. Gzip compression is still detected and undone.
    pub format: Option<Format>,
    /// Worker threads for [`read_all`]; 0 means one per core.
    pub threads: usize,
    /// Size a batch of lines or array elements grows to before it is handed on, in bytes of
    /// (decompressed) input. An EVTX batch is always one chunk.
    pub batch_bytes: usize,
    /// Longest line or array element accepted, in bytes; a longer one is skipped (reported)
    /// without holding it in memory.
    pub max_record_bytes: usize,
    /// How many files [`read_all`] may have started beyond the oldest file whose batches have
    /// not all reached the sink; bounds what a consumer that restores file order must hold.
    /// 0 means twice the number of threads.
    pub files_ahead: usize,
    /// Beyond `files_ahead`, [`read_all`] may also start files as long as those started after
    /// the oldest unfinished one hold at most this many bytes (as sized when discovered): many
    /// small files keep both cores busy, and what waits for the oldest file stays bounded.
    pub bytes_ahead: u64,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            format: None,
            threads: 0,
            batch_bytes: 1 << 20,
            max_record_bytes: 64 << 20,
            files_ahead: 0,
            bytes_ahead: 16 << 20,
        }
    }
}

impl SourceOptions {
    /// The number of worker threads [`read_all`] uses.
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    /// The window [`read_all`] keeps files in.
    pub fn files_ahead_count(&self) -> usize {
        if self.files_ahead > 0 {
            self.files_ahead
        } else {
            2 * self.thread_count()
        }
    }
}

/// Where in a file a skipped piece of input was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// The whole file (or the rest of it).
    File,
    /// A 1-based line (JSON lines, text).
    Line(u64),
    /// An EVTX record, by EventRecordID.
    Record(u64),
    /// A 1-based element of a JSON array.
    Element(u64),
    /// An EVTX chunk, by its 0-based number in the file.
    Chunk(u64),
}

impl Location {
    /// The number this location carries, if any: for sorting a batch's skips.
    pub fn number(self) -> Option<u64> {
        match self {
            Location::File => None,
            Location::Line(n) | Location::Record(n) | Location::Element(n) | Location::Chunk(n) => {
                Some(n)
            }
        }
    }
}

/// A piece of input that could not be read and was left out. Rendered as
/// `path:line: reason`, `path: record N: reason`, `path: chunk N: reason`,
/// `path: element N: reason` or `path: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The input's name (see [`InputFile::name`]).
    pub path: Arc<str>,
    /// Where in it.
    pub location: Location,
    /// Why, in words.
    pub reason: String,
    /// How many records it stands for in the count of skipped records: 1 for a line, an
    /// element, a record or a file; for an EVTX chunk, the records lost with it (those its
    /// header lists, when that is plausible, else 1).
    pub records: u64,
}

impl Skip {
    /// A skip of (or note on) a whole input, standing for `records` records.
    pub(crate) fn file(path: Arc<str>, reason: String, records: u64) -> Skip {
        Skip {
            path,
            location: Location::File,
            reason,
            records,
        }
    }

    /// The skipped records `skips` stand for, as summaries count them.
    pub fn count_records(skips: &[Skip]) -> u64 {
        skips.iter().map(|skip| skip.records).sum()
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, reason) = (&self.path, &self.reason);
        match self.location {
            Location::File => write!(f, "{path}: {reason}"),
            Location::Line(n) => write!(f, "{path}:{n}: {reason}"),
            Location::Record(n) => write!(f, "{path}: record {n}: {reason}"),
            Location::Element(n) => write!(f, "{path}: element {n}: {reason}"),
            Location::Chunk(n) => write!(f, "{path}: chunk {n}: {reason}"),
        }
    }
}

/// The errors that are the caller's to decide on; everything else is a [`Skip`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A path named as input does not exist or cannot be looked at. (The message is the path;
    /// the reason is the source, which `{:#}` adds.)
    #[error("{}", path.display())]
    Input {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The worker pool could not be started.
    #[error("cannot start worker threads: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}

/// An error and its causes on one line, `outer: inner: innermost`.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their cause in their own message.
        if !text.ends_with(&cause_text) {
            if text.ends_with('.') {
                text.pop();
            }
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
