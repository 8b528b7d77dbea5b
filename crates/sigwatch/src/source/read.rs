//! Driving the readers: a producer per file cuts it into work units in order; the units are run
//! where they are cut (sequential iterators) or on a rayon pool ([`read_all`]).

use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use evtx::ParserSettings;

use super::batch::Batch;
use super::detect::{self, GzDamage, Opened, gz_damage_note};
use super::evtx::{self as evtx_source, EvtxChunks};
use super::json::{self, ArrayBlock, ArrayElements};
use super::lines::{LineBlock, LineBlocks};
use super::text;
use super::{BufferPool, Format, InputFile, Location, Progress, Skip, SourceError, SourceOptions};

/// One unit cut from a file by its producer; [`Work::run`] turns it into a [`Batch`]. The
/// reading (I/O, decompression) is already done; what is left is the part worth running in
/// parallel (checking and splitting lines, parsing and rendering an EVTX chunk).
pub(crate) struct Work {
    file: usize,
    seq: u64,
    last: bool,
    source: Arc<str>,
    format: Format,
    skips: Vec<Skip>,
    kind: WorkKind,
    pool: Arc<BufferPool>,
}

enum WorkKind {
    Nothing,
    JsonLines(LineBlock),
    Text(LineBlock),
    Array(ArrayBlock),
    Chunk(evtx_source::ChunkImage, Arc<ParserSettings>),
}

impl Work {
    fn run(self, progress: &Progress) -> Batch {
        let mut batch = Batch::new(self.file, self.seq, self.last, self.source, self.format);
        batch.skips = self.skips;
        batch.recycle_into(Arc::clone(&self.pool));
        match self.kind {
            WorkKind::Nothing => {}
            WorkKind::JsonLines(block) => json::json_lines_batch(block, &mut batch),
            WorkKind::Text(block) => text::text_batch(block, &mut batch),
            WorkKind::Array(block) => json::json_array_batch(block, &mut batch),
            WorkKind::Chunk(chunk, settings) => {
                evtx_source::chunk_batch(chunk, &settings, &self.pool, &mut batch)
            }
        }
        Progress::add(&progress.records, batch.len() as u64);
        Progress::add(&progress.skipped, Skip::count_records(&batch.skips));
        batch
    }
}

enum State<'a> {
    Unopened,
    Lines {
        blocks: LineBlocks<Box<dyn Read + 'a>>,
        format: Format,
    },
    Array(ArrayElements<Box<dyn Read + 'a>>),
    Evtx {
        chunks: Box<EvtxChunks<'a>>,
        settings: Arc<ParserSettings>,
    },
    Finished,
}

/// Cuts one file into work units, in file order. Opening happens on the first call, on the
/// thread that reads the file.
struct Producer<'a> {
    index: usize,
    file: &'a InputFile,
    opts: &'a SourceOptions,
    progress: &'a Progress,
    state: State<'a>,
    format: Format,
    pool: Arc<BufferPool>,
    seq: u64,
    sent_last: bool,
    counted_done: bool,
    /// The read error that cut an EVTX file's content short, reported after its chunks.
    evtx_cut: Option<Skip>,
    /// A gzip file's damaged members, noted with the unit read when they were found (for
    /// EVTX, read whole when opened: the first unit).
    gz_damage: Option<GzDamage>,
}

impl<'a> Producer<'a> {
    fn new(
        index: usize,
        file: &'a InputFile,
        opts: &'a SourceOptions,
        progress: &'a Progress,
        pool: Arc<BufferPool>,
    ) -> Self {
        Producer {
            index,
            file,
            opts,
            progress,
            state: State::Unopened,
            format: opts.format.unwrap_or(Format::Text),
            pool,
            seq: 0,
            sent_last: false,
            counted_done: false,
            evtx_cut: None,
            gz_damage: None,
        }
    }

    fn work(&mut self, last: bool, mut skips: Vec<Skip>, kind: WorkKind) -> Work {
        if let Some(damage) = &self.gz_damage {
            for member in damage.take() {
                let note = gz_damage_note(member);
                skips.push(Skip::file(Arc::clone(&self.file.name), note, 0));
            }
        }
        let work = Work {
            file: self.index,
            seq: self.seq,
            last,
            source: Arc::clone(&self.file.name),
            format: self.format,
            skips,
            kind,
            pool: Arc::clone(&self.pool),
        };
        self.seq += 1;
        if last {
            self.sent_last = true;
            self.state = State::Finished;
        }
        work
    }

    fn open(&mut self) -> Result<(), String> {
        let opened = detect::open(self.file, self.opts.format, self.progress)?;
        let name = Arc::clone(&self.file.name);
        let pool = Arc::clone(&self.pool);
        let (batch, max) = (self.opts.batch_bytes, self.opts.max_record_bytes);
        self.state = match opened {
            Opened::Evtx {
                reader,
                cut,
                gz_damage,
            } => {
                self.format = Format::Evtx;
                self.gz_damage = gz_damage;
                let settings = evtx_source::settings();
                let chunks = match (EvtxChunks::open(reader, pool), cut) {
                    (Ok(chunks), cut) => {
                        self.evtx_cut = cut.map(|err| {
                            Skip::file(name, format!("read error, rest of input skipped: {err}"), 1)
                        });
                        chunks
                    }
                    // Cut short before its chunks: the cut is what is wrong.
                    (Err(_), Some(err)) => return Err(format!("cannot read: {err}")),
                    (Err(reason), None) => return Err(reason),
                };
                State::Evtx {
                    chunks: Box::new(chunks),
                    settings,
                }
            }
            Opened::Stream {
                format,
                reader,
                streaming,
                gz_damage,
            } => {
                self.format = format;
                self.gz_damage = gz_damage;
                match format {
                    Format::JsonArray => State::Array(ArrayElements::new(
                        reader, name, pool, batch, max, streaming,
                    )),
                    Format::JsonLines | Format::Text => State::Lines {
                        blocks: LineBlocks::new(reader, name, pool, batch, max, streaming),
                        format,
                    },
                    // `detect::open` hands EVTX over as `Opened::Evtx`.
                    Format::Evtx => State::Finished,
                }
            }
        };
        Ok(())
    }

    fn next_work(&mut self) -> Option<Work> {
        loop {
            match &mut self.state {
                State::Unopened => {
                    if let Err(reason) = self.open() {
                        Progress::add(&self.progress.files_failed, 1);
                        let skip = Skip::file(Arc::clone(&self.file.name), reason, 1);
                        return Some(self.work(true, vec![skip], WorkKind::Nothing));
                    }
                }
                State::Lines { blocks, format } => {
                    let format = *format;
                    match blocks.next_block() {
                        Some(mut block) => {
                            let skips = std::mem::take(&mut block.skips);
                            let last = block.last;
                            let kind = if format == Format::Text {
                                WorkKind::Text(block)
                            } else {
                                WorkKind::JsonLines(block)
                            };
                            return Some(self.work(last, skips, kind));
                        }
                        None => self.state = State::Finished,
                    }
                }
                State::Array(elements) => match elements.next_block() {
                    Some(mut block) => {
                        let skips = std::mem::take(&mut block.skips);
                        let last = block.last;
                        return Some(self.work(last, skips, WorkKind::Array(block)));
                    }
                    None => self.state = State::Finished,
                },
                State::Evtx { chunks, settings } => {
                    if let Some(reason) = chunks.damaged_header() {
                        // A note, not a loss: no record is counted.
                        let note = Skip::file(Arc::clone(&self.file.name), reason, 0);
                        return Some(self.work(false, vec![note], WorkKind::Nothing));
                    }
                    let settings = Arc::clone(settings);
                    // A cut is reported after the chunks, in a unit of its own.
                    let cut = self.evtx_cut.is_some();
                    match chunks.next_chunk() {
                        Some((Ok(chunk), last)) => {
                            return Some(self.work(
                                last && !cut,
                                Vec::new(),
                                WorkKind::Chunk(chunk, settings),
                            ));
                        }
                        Some((Err(err), last)) => {
                            let skip = evtx_source::chunk_read_skip(&self.file.name, &err);
                            return Some(self.work(last && !cut, vec![skip], WorkKind::Nothing));
                        }
                        None => match self.evtx_cut.take() {
                            Some(skip) => {
                                return Some(self.work(true, vec![skip], WorkKind::Nothing));
                            }
                            None => self.state = State::Finished,
                        },
                    }
                }
                State::Finished => {
                    if !self.sent_last {
                        return Some(self.work(true, Vec::new(), WorkKind::Nothing));
                    }
                    if !self.counted_done {
                        self.counted_done = true;
                        Progress::add(&self.progress.files_done, 1);
                    }
                    return None;
                }
            }
        }
    }
}

/// The batches of one file, read on the calling thread. `index` is put in each batch's `file`.
pub struct FileBatches<'a> {
    producer: Producer<'a>,
}

impl Iterator for FileBatches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let work = self.producer.next_work()?;
        Some(work.run(self.producer.progress))
    }
}

/// Reads one file on the calling thread, batch by batch (stdin, tests). A batch of stdin is
/// handed on as soon as whole lines have arrived.
pub fn read_file<'a>(
    index: usize,
    file: &'a InputFile,
    opts: &'a SourceOptions,
    progress: &'a Progress,
) -> FileBatches<'a> {
    Progress::add(&progress.files_total, 1);
    Progress::add(&progress.bytes_total, file.size.unwrap_or(0));
    FileBatches {
        producer: Producer::new(index, file, opts, progress, Arc::new(BufferPool::new())),
    }
}

/// Reads files one after the other on the calling thread; batches come in file order.
pub fn read_sequential<'a>(
    files: &'a [InputFile],
    opts: &'a SourceOptions,
    progress: &'a Progress,
) -> impl Iterator<Item = Batch> + 'a {
    set_totals(files, progress);
    let pool = Arc::new(BufferPool::new());
    files
        .iter()
        .enumerate()
        .flat_map(move |(index, file)| FileBatches {
            producer: Producer::new(index, file, opts, progress, Arc::clone(&pool)),
        })
}

fn set_totals(files: &[InputFile], progress: &Progress) {
    Progress::add(&progress.files_total, files.len() as u64);
    let bytes = files.iter().filter_map(|file| file.size).sum();
    Progress::add(&progress.bytes_total, bytes);
}

/// Reads all files on a pool of [`SourceOptions::threads`] workers and calls `sink` with every
/// batch, from any worker, in no particular order: each batch says where it belongs
/// (`file`, `seq`, `last`), and [`Reorder`](super::Reorder) restores file order.
///
/// Each worker takes the next file in list order and reads it; the work units it cuts (blocks
/// of lines, EVTX chunks) are run by whichever worker is free, oldest first, at most two per
/// worker ahead of the readers. A worker starts a new file only within
/// [`SourceOptions::files_ahead`] files of the oldest file not yet handed on whole, or while the
/// files started after that one hold less than [`SourceOptions::bytes_ahead`] bytes (many small
/// files), and helps with queued work meanwhile, so a consumer that restores file order holds a
/// bounded amount even when one file is much bigger than the others. The sink runs on the
/// workers, so work done there (matching) is parallel too; it should not block waiting for
/// other batches.
///
/// `sink` returning `ControlFlow::Break` stops reading as soon as the workers notice (a closed
/// output, say); the files being read then have no `last` batch.
pub fn read_all<F>(
    files: &[InputFile],
    opts: &SourceOptions,
    progress: &Progress,
    sink: F,
) -> Result<(), SourceError>
where
    F: Fn(Batch) -> ControlFlow<()> + Sync,
{
    set_totals(files, progress);
    let threads = opts.thread_count();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("sigwatch-source-{i}"))
        .build()?;
    let window = Window::new(files, opts.files_ahead_count(), opts.bytes_ahead);
    let buffers = Arc::new(BufferPool::new());
    let in_flight = AtomicUsize::new(0);
    let stopped = AtomicBool::new(false);
    let max_in_flight = 2 * threads;
    let deliver = |work: Work| {
        let file = work.file;
        if !stopped.load(Ordering::Relaxed) && sink(work.run(progress)).is_break() {
            stopped.store(true, Ordering::Relaxed);
        }
        window.end_work(file);
    };
    let (deliver, in_flight, stopped, window, buffers) =
        (&deliver, &in_flight, &stopped, &window, &buffers);
    // FIFO: a worker runs the oldest queued unit first, so the oldest file is finished (and
    // the window moves on) as soon as possible.
    pool.scope_fifo(|scope| {
        // One reader per worker; a broadcast job cannot be picked up by another worker that
        // is waiting for work, so readers never run nested inside one another.
        scope.spawn_broadcast(move |scope, _| {
            while let Some(index) = window.next_file(stopped) {
                let Some(file) = files.get(index) else {
                    break;
                };
                let mut producer = Producer::new(index, file, opts, progress, Arc::clone(buffers));
                while let Some(work) = producer.next_work() {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    window.begin_work(index);
                    if in_flight.fetch_add(1, Ordering::Relaxed) < max_in_flight {
                        scope.spawn_fifo(move |_| {
                            deliver(work);
                            in_flight.fetch_sub(1, Ordering::Relaxed);
                        });
                    } else {
                        // Enough queued: run this one here instead of reading ahead.
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        deliver(work);
                    }
                }
                // The reader's own hold on the file.
                window.end_work(index);
            }
        });
    });
    Ok(())
}

/// Which files may be started: those within `ahead` of the oldest file whose work has not all
/// been delivered, and beyond that as long as the files started after the oldest one hold at
/// most `bytes_ahead` bytes (a file of unknown size counts as all of them).
struct Window {
    /// Per file: work units not yet delivered, plus one while its reader is at it.
    open: Vec<AtomicUsize>,
    /// `starts[i]`: the bytes of the files before file `i` (one more entry than files).
    starts: Vec<u64>,
    next: AtomicUsize,
    oldest: AtomicUsize,
    /// Files finished out of order, waiting for the ones before them.
    finished: std::sync::Mutex<Vec<bool>>,
    ahead: usize,
    bytes_ahead: u64,
}

impl Window {
    /// Files started past the oldest unfinished one, at most, whatever their size: bounds the
    /// bookkeeping of a consumer that restores file order.
    const MAX_FILES_AHEAD: usize = 4096;

    fn new(files: &[InputFile], ahead: usize, bytes_ahead: u64) -> Window {
        let mut starts = Vec::with_capacity(files.len() + 1);
        let mut total = 0u64;
        starts.push(0);
        for file in files {
            total = total.saturating_add(file.size.unwrap_or(bytes_ahead.saturating_add(1)));
            starts.push(total);
        }
        Window {
            open: (0..files.len()).map(|_| AtomicUsize::new(1)).collect(),
            starts,
            next: AtomicUsize::new(0),
            oldest: AtomicUsize::new(0),
            finished: std::sync::Mutex::new(vec![false; files.len()]),
            ahead: ahead.max(1),
            bytes_ahead,
        }
    }

    /// Whether file `next` may be started while `oldest` is the oldest unfinished file.
    fn may_start(&self, next: usize, oldest: usize) -> bool {
        if next < oldest + self.ahead {
            return true;
        }
        if next > oldest + Self::MAX_FILES_AHEAD {
            return false;
        }
        // The files after the oldest, up to and with `next`.
        let held = match (self.starts.get(next + 1), self.starts.get(oldest + 1)) {
            (Some(end), Some(start)) => end.saturating_sub(*start),
            _ => u64::MAX,
        };
        held <= self.bytes_ahead
    }

    /// Claims the next file to read, waiting (and helping with queued work) while it is too
    /// far ahead. `None` when there are no more files or reading has stopped.
    fn next_file(&self, stopped: &AtomicBool) -> Option<usize> {
        loop {
            if stopped.load(Ordering::Relaxed) {
                return None;
            }
            let next = self.next.load(Ordering::Acquire);
            if next >= self.open.len() {
                return None;
            }
            if !self.may_start(next, self.oldest.load(Ordering::Acquire)) {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::thread::sleep(std::time::Duration::from_micros(100));
                }
                continue;
            }
            if self
                .next
                .compare_exchange(next, next + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Some(next);
            }
        }
    }

    fn begin_work(&self, file: usize) {
        if let Some(open) = self.open.get(file) {
            open.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn end_work(&self, file: usize) {
        let Some(open) = self.open.get(file) else {
            return;
        };
        if open.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut finished = self
            .finished
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        finished[file] = true;
        let mut oldest = self.oldest.load(Ordering::Acquire);
        while finished.get(oldest).copied().unwrap_or(false) {
            oldest += 1;
        }
        self.oldest.store(oldest, Ordering::Release);
    }
}
