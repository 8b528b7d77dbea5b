//! Counters a progress bar or a summary line can read while reading goes on.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, updated by the readers with relaxed atomics: read them from any thread at
/// any time; they are exact once reading has finished.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input files to read.
    pub files_total: AtomicU64,
    /// Input files finished (read to the end or given up on).
    pub files_done: AtomicU64,
    /// Input files that could not be read at all (not opened, not a known format, bad EVTX
    /// header...).
    pub files_failed: AtomicU64,
    /// Sum of the known input file sizes.
    pub bytes_total: AtomicU64,
    /// Bytes read from the inputs (compressed bytes for gzip files).
    pub bytes_read: AtomicU64,
    /// Records handed to the sink.
    pub records: AtomicU64,
    /// Skips reported by the source (a consumer that rejects records may add its own).
    pub skipped: AtomicU64,
}

/// The counters of a [`Progress`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub files_total: u64,
    pub files_done: u64,
    pub files_failed: u64,
    pub bytes_total: u64,
    pub bytes_read: u64,
    pub records: u64,
    pub skipped: u64,
}

impl Progress {
    /// Fresh counters.
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Reads all counters.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ProgressSnapshot {
            files_total: get(&self.files_total),
            files_done: get(&self.files_done),
            files_failed: get(&self.files_failed),
            bytes_total: get(&self.bytes_total),
            bytes_read: get(&self.bytes_read),
            records: get(&self.records),
            skipped: get(&self.skipped),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A reader that adds the bytes it reads to [`Progress::bytes_read`].
pub(crate) struct Counting<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<'p, R> Counting<'p, R> {
    pub(crate) fn new(inner: R, progress: &'p Progress) -> Self {
        Counting { inner, progress }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        Progress::add(&self.progress.bytes_read, n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}
