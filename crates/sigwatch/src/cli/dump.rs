//! `sigwatch dump`: every event of some logs as one compact JSON object per line, exactly as
//! the engine sees it, in file order then record order. Skipped input goes to stderr as
//! `path:line: reason`, then a summary line.
//!
//! Exit codes: 0 (also with skips), 1 when nothing could be read at all, 2 for a path that does
//! not exist or an output that cannot be written.

use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;

use crate::source::{
    self, Batch, BufferPool, Format, Input, InputKind, Progress, Reorder, Skip, SourceOptions,
};

/// Print the events of log files as JSON lines, as `hunt` sees them.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Format of the logs read (the output is always JSON lines); `auto` detects it per file
    /// (gzip and UTF-16 are always undone). As `hunt --log-format`; `--format` is kept as an
    /// alias, but in `hunt` it names the output format.
    #[arg(
        long = "log-format",
        alias = "format",
        value_name = "LOG_FORMAT",
        value_enum,
        default_value_t = FormatArg::Auto
    )]
    pub format: FormatArg,

    /// Write the events to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Worker threads; 0 uses one per core, 1 reads everything on one thread.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Log files (EVTX, JSON lines, JSON arrays, text; gzip or not), folders (read recursively)
    /// or `-` for standard input.
    #[arg(value_name = "LOGS", required = true)]
    pub logs: Vec<PathBuf>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Detect per file.
    Auto,
    /// Windows event log.
    Evtx,
    /// One JSON object per line.
    Jsonl,
    /// A JSON array of objects.
    Json,
    /// Text, one event per line (`{"message": line}`).
    Text,
}

impl FormatArg {
    pub(crate) fn format(self) -> Option<Format> {
        match self {
            FormatArg::Auto => None,
            FormatArg::Evtx => Some(Format::Evtx),
            FormatArg::Jsonl => Some(Format::JsonLines),
            FormatArg::Json => Some(Format::JsonArray),
            FormatArg::Text => Some(Format::Text),
        }
    }
}

/// One batch, rendered on a worker, waiting for its turn to be written.
struct Rendered {
    /// The input it is of, and whether it is the input's last batch.
    file: usize,
    last: bool,
    events: Vec<u8>,
    messages: Vec<source::Message>,
    count: u64,
    skipped: u64,
}

/// What writes the rendered batches, in order.
struct Output {
    order: Reorder<Rendered>,
    writer: BufWriter<Box<dyn Write + Send>>,
    error: Option<io::Error>,
    events: u64,
    skipped: u64,
    /// Reading a live stream (stdin, a pipe): show each batch as it comes.
    flush_each: bool,
    /// Skip messages printed per input (the first hundred), and the inputs' names.
    cap: source::MessageCap,
    names: Vec<Arc<str>>,
}

impl Output {
    fn accept(
        &mut self,
        batch_file: usize,
        seq: u64,
        last: bool,
        rendered: Rendered,
        buffers: &BufferPool,
    ) {
        let Output {
            order,
            writer,
            error,
            events,
            skipped,
            flush_each,
            cap,
            names,
        } = self;
        order.push(batch_file, seq, last, rendered, |ready| {
            *events += ready.count;
            *skipped += ready.skipped;
            let name = names.get(ready.file).map_or("", |n| n);
            let messages = cap.admit(ready.file, name, &ready.messages, ready.last);
            if !messages.is_empty() {
                // Stderr is unbuffered; one write per batch keeps lines whole.
                let _ = io::stderr().lock().write_all(messages.as_bytes());
            }
            if error.is_none() {
                let written = writer
                    .write_all(&ready.events)
                    .and_then(|()| if *flush_each { writer.flush() } else { Ok(()) });
                if let Err(err) = written {
                    *error = Some(err);
                }
            }
            buffers.give(ready.events);
        });
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let inputs: Vec<Input> = args.logs.iter().cloned().map(Input::from_arg).collect();
    let mut discovery = source::discover(&inputs)?;
    // Before the output is created: creating it empties the file. Standard output redirected
    // into an input folder is the output too: read while it is written, it would grow
    // without end.
    let (path, shown) = super::output_file::target(args.output.as_deref());
    discovery
        // Events are logs: only an empty earlier output is passed over.
        .exclude_output(path, &shown, &inputs, <[u8]>::is_empty)
        .map_err(anyhow::Error::msg)?;
    let opts = SourceOptions {
        format: args.format.format(),
        threads: args.threads,
        ..SourceOptions::default()
    };
    let sink: Box<dyn Write + Send> = match &args.output {
        Some(path) => super::output_file::sink(path)
            .with_context(|| format!("cannot create {}", path.display()))?,
        None => Box::new(io::stdout()),
    };

    for skip in &discovery.skips {
        eprintln!("{skip}");
    }
    let output = Mutex::new(Output {
        order: Reorder::new(),
        writer: BufWriter::with_capacity(1 << 20, sink),
        error: None,
        events: 0,
        skipped: Skip::count_records(&discovery.skips),
        flush_each: discovery.files.iter().any(|file| {
            matches!(
                file.kind,
                InputKind::Stdin
                    | InputKind::Path {
                        seekable: false,
                        ..
                    }
            )
        }),
        cap: source::MessageCap::default(),
        names: discovery
            .files
            .iter()
            .map(|f| Arc::clone(&f.name))
            .collect(),
    });
    let progress = Progress::new();
    let buffers = BufferPool::new();
    let handle = |batch: Batch| -> ControlFlow<()> {
        let (file, seq, last) = (batch.file, batch.seq, batch.last);
        let rendered = render(batch, &buffers);
        let mut output = output
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        output.accept(file, seq, last, rendered, &buffers);
        if output.error.is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    if opts.threads == 1 {
        for batch in source::read_sequential(&discovery.files, &opts, &progress) {
            if handle(batch).is_break() {
                break;
            }
        }
    } else {
        source::read_all(&discovery.files, &opts, &progress, handle)?;
    }

    let mut output = output
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(err) = output.error.take() {
        return Err(err).context("cannot write events");
    }
    let counts = progress.snapshot();
    let files = discovery.files.len() as u64;
    if discovery.nothing_read(counts.files_failed) {
        super::output_file::discard(&mut output.writer);
    }
    output.writer.flush().context("cannot write events")?;

    let elapsed = started.elapsed().as_secs_f64();
    let unreadable = if counts.files_failed > 0 {
        format!(" ({} unreadable)", counts.files_failed)
    } else {
        String::new()
    };
    eprintln!(
        "dump: {files} file{}{unreadable}, {} events, {} skipped, {elapsed:.2}s, {:.0} events/s",
        if files == 1 { "" } else { "s" },
        output.events,
        output.skipped,
        output.events as f64 / elapsed.max(1e-9),
    );
    if files == 0 {
        eprintln!("error: {}", discovery.nothing_found());
        return Ok(ExitCode::from(1));
    }
    if counts.files_failed == files {
        eprintln!("error: no input could be read");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The batch's events as compact JSON lines (every JSON record is validated first), and its
/// skips as messages in file order.
fn render(mut batch: Batch, buffers: &BufferPool) -> Rendered {
    let mut events = buffers.take(batch.text_len() + batch.len());
    let mut skips = std::mem::take(&mut batch.skips);
    let found_by_source = skips.len();
    let mut count = 0;
    for record in batch.records() {
        match record.write_json(&mut events) {
            Ok(()) => {
                events.push(b'\n');
                count += 1;
            }
            Err(reason) => skips.push(batch.skip(record.number, reason)),
        }
    }
    // Merge the records rejected here among the source's skips (EVTX skips mix record and
    // chunk numbers, so they keep their order).
    if skips.len() > found_by_source && batch.format != Format::Evtx {
        skips.sort_by_key(|skip| skip.location.number());
    }
    let messages = skips.iter().map(source::Message::from).collect();
    Rendered {
        file: batch.file,
        last: batch.last,
        events,
        messages,
        count,
        skipped: Skip::count_records(&skips),
    }
}
