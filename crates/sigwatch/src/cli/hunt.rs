//! `sigwatch hunt`: Sigma rules over log files. See `docs/hunt.md` and the long help below.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::correlation::Correlator;
use indicatif::{ProgressBar, ProgressStyle};
use sigma::pipeline::Chain;
use sigma::rule::{Level, RuleBody, Status};

use super::dump::FormatArg;
use super::pipeline_args::{self, PipelineArgs};
use crate::hunt::output::{self, CorrelationOut, EventPlace, OutputFormat};
use crate::hunt::summary::{self, RuleCounts, Tally};
use crate::hunt::time::TimeFields;
use crate::hunt::{self, BatchOut, Choice, Hunter, PendingHit, correlate, explain};
use crate::rules;
use crate::source::{self, Batch, Input, Progress, Reorder, Skip, SourceOptions};

const LONG_ABOUT: &str = "\
Run Sigma rules over log files and report every detection.

INPUTS AND PIPELINES
  EVTX files are matched with the built-in `evtx` pipeline (Event.System.*, Event.EventData.*).
  JSON (JSON lines, plain or .gz; JSON arrays; pretty-printed objects) is matched with the
  pipelines of -p/-c when given; otherwise the shape of the events picks one, per batch of about
  1 MB, from its first event of a known shape (events of no known shape before it do not
  decide), and hunt says on stderr what it chose:
    Event.System...              -> evtx           (the evtx crate's JSON, `sigwatch dump`)
    winlog.*, event.code         -> ecs-windows    (Winlogbeat ECS)
    Channel, EventID, SourceName -> windows-flat   (NXLog, Security-Datasets)
    anything else                -> no pipeline    (rules see field names as written)
  Text files are one event per line, the line in a field `message` (keyword rules), with no
  pipeline. A rule whose log source a pipeline does not map is not run on those events (no
  log-source confusion): the summary counts such rules per pipeline.

RULES
  Rule files and folders (recursive, .yml/.yaml; inside folders, hidden entries are left out
  and files that are not regular files are reported and skipped). Rules with errors are
  reported and left out.
  --min-level and --status choose the rules reported (default: every status but deprecated and
  unsupported); rules a chosen correlation refers to are still evaluated.

CORRELATION AND TIME
  Correlation rules (event_count, value_count, temporal, temporal_ordered, value_sum,
  value_avg, value_percentile) and the legacy `| count() by ...` conditions run over event
  time: the EVTX TimeCreated, else the first of @timestamp, timestamp, TimeCreated, EventTime,
  UtcTime, event.created, time, date, ts (or --timestamp-field); RFC 3339 with or without an
  offset, `YYYY-MM-DD hh:mm:ss` as UTC, epoch seconds or milliseconds. Files need not be in
  time order, nor sorted among themselves: the hits of the rules that feed correlations are
  collected while reading, each file's hits are sorted by time (equal times keep record
  order), and all files are merged by time (equal times: file order) before the correlations
  run, so the result does not depend on the order of files or records. Hits on events without
  a readable time are not correlated (counted in the summary). Memory for this grows with the
  number of such hits, not with the input.
  Windows are per group (the group-by values; a missing value is a group of its own) and
  include both ends: events exactly `timespan` apart are in one window. Conditions with only
  gt/gte are checked at each hit over the last `timespan` and fire as soon as they hold; the
  group then starts afresh. Conditions with lt/lte/eq/neq and value_percentile are decided when
  the window (first hit + timespan) closes, or at the end of input. At most 100,000 groups are
  kept per correlation (the oldest is dropped undecided). Base rules referred to by a
  correlation report no detections of their own unless it says `generate: true`.
  Correlation detections are written after the plain ones.

OUTPUT
  table (default on a terminal), jsonl (default otherwise) or csv. jsonl writes one object per
  detection: rule_id, rule_title, level, status, tags, path, record (EVTX EventRecordID, else
  the 1-based line or element number), timestamp, event; correlation detections have event
  null, a `correlation` object (type, group, count, value, first, last), the references of the
  `rules` and the `events` ({path, record}) behind them. The order is deterministic: files in
  the order given (folders sorted), records in file order, rules in load order; or, with
  --sort time, a timeline by event time.
  A progress bar shows on a terminal; a summary (detections per level, rule and ATT&CK tactic,
  events read and skipped, rules loaded and left out with reasons, time) goes to stderr.

EXIT STATUS
  0 with or without detections; 1 on a fatal error (bad arguments, no rules, no rule that can
  run on the logs read, an input that does not exist, an --explain PATH that names none of the
  inputs, an output that cannot be written or is one of the logs).";

/// Hunt with Sigma rules over EVTX, JSON and text logs.
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT)]
pub struct Args {
    /// Rule files or folders (repeatable).
    #[arg(short = 'r', long = "rules", value_name = "PATH", required = true)]
    pub rules: Vec<PathBuf>,

    #[command(flatten)]
    pub pipelines: PipelineArgs,

    /// Report only rules of this level or higher (informational, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub min_level: Option<Level>,

    /// Report only rules with these statuses (comma-separated or repeated; default: all but
    /// deprecated and unsupported).
    #[arg(long, value_name = "STATUS", value_delimiter = ',', value_parser = parse_status)]
    pub status: Vec<Status>,

    /// Output format (default: table on a terminal, else jsonl).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,

    /// Write detections to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Explain, for the selected events, why each rule matched or not: `--explain` (every event
    /// of the logs), `--explain=RECORD` or `--explain=PATH:RECORD` (PATH: the file as given or
    /// found, a trailing part of its path such as its name, or `-` for stdin; a PATH that names
    /// no input is an error). The explanations (plain text, to stdout or --output) replace the
    /// detections and the summary.
    #[arg(long, value_name = "[PATH:]RECORD", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub explain: Option<String>,

    /// Format of the logs; `auto` detects it per file.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub log_format: FormatArg,

    /// Field holding the event time (repeatable, tried in order); replaces the defaults.
    #[arg(long = "timestamp-field", value_name = "FIELD")]
    pub timestamp_fields: Vec<String>,

    /// Worker threads; 0 uses one per core.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Order of the detections: `input` (files in the order given, records in file order,
    /// correlations last; written as found) or `time` (a timeline by event time, correlations at
    /// their last event; events without a time last; written at the end, so held in memory).
    #[arg(long, value_enum, default_value_t = SortArg::Input)]
    pub sort: SortArg,

    /// Rules listed in the summary.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// No progress bar, no summary, no notes; skipped input is still reported.
    #[arg(long, short)]
    pub quiet: bool,

    /// Log files (EVTX, JSON lines, JSON, text; gzip or not), folders (recursive) or `-`.
    #[arg(value_name = "LOGS", required = true)]
    pub logs: Vec<PathBuf>,
}

/// The order of the detections written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    Input,
    Time,
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(&s.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown level '{s}' (informational, low, medium, high, critical)"))
}

fn parse_status(s: &str) -> Result<Status, String> {
    Status::parse(&s.to_ascii_lowercase()).ok_or_else(|| {
        format!("unknown status '{s}' (stable, test, experimental, deprecated, unsupported)")
    })
}

/// A fatal error: message on stderr, exit status 1.
fn fatal(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(1))
}

fn builtin(name: &str) -> anyhow::Result<Chain> {
    let pipeline = pipeline_args::load(name).map_err(|e| anyhow::anyhow!("{}", e.render()))?;
    Chain::new(vec![pipeline]).map_err(|e| anyhow::anyhow!("{}", e.render()))
}

/// What writes the results in order.
struct Consumer {
    order: Reorder<BatchOut>,
    writer: BufWriter<Box<dyn Write + Send>>,
    error: Option<io::Error>,
    tally: Tally,
    hits: Vec<Vec<PendingHit>>,
    /// Per file: the choice of its first batch with records.
    file_choice: Vec<Option<Choice>>,
    announced: Vec<Choice>,
    /// Skip messages printed per input (the first hundred).
    cap: source::MessageCap,
    bar: Option<ProgressBar>,
    quiet: bool,
    flush_each: bool,
    /// Detections go to the terminal the progress bar is drawn on.
    bar_shares_terminal: bool,
    /// `--sort time`: the detections held, each with its event time, until the end.
    timeline: Option<Vec<(Option<i128>, Vec<u8>)>>,
}

impl Consumer {
    fn say(&self, text: &str) {
        let write = || {
            let _ = io::stderr().lock().write_all(text.as_bytes());
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    fn accept(&mut self, out: BatchOut, hunter: &Hunter, names: &[Arc<str>]) {
        let (file, seq, last) = (out.file, out.seq, out.last);
        let mut ready_list = Vec::new();
        self.order
            .push(file, seq, last, out, |ready| ready_list.push(ready));
        for ready in ready_list {
            self.release(ready, hunter, names);
        }
    }

    fn release(&mut self, mut ready: BatchOut, hunter: &Hunter, names: &[Arc<str>]) {
        self.tally.events += ready.events;
        self.tally.skipped += ready.skipped;
        let name = names.get(ready.file).map_or("", |n| n);
        let messages = self
            .cap
            .admit(ready.file, name, &ready.messages, ready.last);
        if !messages.is_empty() {
            self.say(&messages);
        }
        if let Some(choice) = ready.choice
            && let Some(slot) = self.file_choice.get_mut(ready.file)
            && slot.is_none()
        {
            *slot = Some(choice);
            *self.tally.choices.entry(choice).or_default() += 1;
            if !self.announced.contains(&choice) && !self.quiet {
                self.announced.push(choice);
                let name = names.get(ready.file).map_or("", |n| n);
                let why = match choice {
                    // `-p`/`-c` name the fields of JSON logs; EVTX has the crate's.
                    Choice::Evtx if hunter.has_user_chain() => {
                        "EVTX, or JSON in the evtx crate's shape; -p/-c apply to other JSON"
                    }
                    Choice::Evtx => "EVTX, or JSON in the evtx crate's shape",
                    Choice::User => "JSON, pipelines given with -p/-c",
                    Choice::WindowsFlat => "JSON with flat Windows fields (Channel, EventID)",
                    Choice::EcsWindows => "JSON in Winlogbeat's ECS shape",
                    Choice::None => {
                        "text, or JSON of no known shape: rules see field names as written"
                    }
                };
                self.say(&format!(
                    "hunt: {name}: pipeline {} ({why})\n",
                    hunter.pipeline_name(choice)
                ));
            }
        }
        for &rule in &ready.detections {
            *self.tally.per_rule.entry(rule as usize).or_default() += 1;
        }
        self.tally.untimed_detections +=
            ready.rows.iter().filter(|(_, time)| time.is_none()).count() as u64;
        self.tally.untimed_hits += ready.untimed_hits;
        if self.tally.untimed_first.is_none() {
            self.tally.untimed_first = ready.untimed_first.take();
        }
        self.tally.fed_hits += ready.hits.len() as u64;
        if !ready.hits.is_empty()
            && let Some(hits) = self.hits.get_mut(ready.file)
        {
            hits.append(&mut ready.hits);
        }
        if let Some(timeline) = &mut self.timeline {
            let mut start = 0;
            for &(end, key) in &ready.rows {
                let row = ready.rendered.get(start..end).unwrap_or_default();
                timeline.push((key, row.to_vec()));
                start = end;
            }
            return;
        }
        if self.error.is_none() && !ready.rendered.is_empty() {
            let writer = &mut self.writer;
            let flush = self.flush_each || self.bar_shares_terminal;
            let mut write = || {
                writer
                    .write_all(&ready.rendered)
                    .and_then(|()| if flush { writer.flush() } else { Ok(()) })
            };
            // Detections written to the terminal the bar is drawn on go out whole, with the
            // bar cleared first and drawn again after (not onto the bar's line).
            let written = match &self.bar {
                Some(bar) if self.bar_shares_terminal => bar.suspend(write),
                _ => write(),
            };
            if let Err(err) = written {
                self.error = Some(err);
            }
        }
    }
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes.max(1));
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // Finding the log files (walking folders, one `stat` per file) needs nothing from the
    // rules and runs on one core: it goes on beside loading the rules, which leaves a core
    // idle while it lists the rule folders and merges what it loaded. (Measured on 6,925 EVTX
    // files: ~17 ms of one core before the engine could start.) Its result is looked at where
    // it was needed before, so errors are reported in the same order.
    let log_inputs: Vec<Input> = args.logs.iter().cloned().map(Input::from_arg).collect();
    let discovering = {
        let inputs = log_inputs.clone();
        std::thread::Builder::new()
            .name("sigwatch-discover".into())
            .spawn(move || source::discover(&inputs))
    };
    // Pipelines first: a bad -p/-c is a usage error.
    let user = if args.pipelines.pipelines.is_empty() && args.pipelines.configs.is_empty() {
        None
    } else {
        match args.pipelines.chain_reported() {
            Some(chain) => Some(chain),
            None => return fatal("cannot load the pipelines"),
        }
    };
    let builtins = match (
        builtin("evtx"),
        builtin("windows-flat"),
        builtin("ecs-windows"),
    ) {
        (Ok(a), Ok(b), Ok(c)) => [a, b, c],
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fatal(e),
    };
    let selector = match args.explain.as_deref() {
        None | Some("") => None,
        Some(text) => match explain::Selector::parse(text) {
            Ok(s) => Some(s),
            Err(e) => return fatal(format!("--explain: {e}")),
        },
    };

    // Rules.
    let loaded = match rules::load(&args.rules) {
        Ok(l) => l,
        Err(e) => return fatal(e),
    };
    let mut counts = RuleCounts {
        files: loaded.files.len() as u64,
        unreadable_files: loaded.unreadable.len() as u64,
        ..RuleCounts::default()
    };
    for (path, reason) in &loaded.unreadable {
        eprintln!("{path}: cannot read rule file: {reason}");
    }
    for f in &loaded.files {
        counts.broken += f.loaded.broken as u64;
        // Rules left out are skipped input: reported even with --quiet.
        if f.loaded.broken > 0 {
            let first = f
                .loaded
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| format!("{}:{}: {}", f.path, d.span.start.line, d.message))
                .unwrap_or_else(|| f.path.clone());
            eprintln!(
                "{first} ({} rule{} not loaded)",
                f.loaded.broken,
                if f.loaded.broken == 1 { "" } else { "s" }
            );
        }
    }
    let (set, _) = loaded.into_rule_set();
    if !args.quiet {
        // Two rules with one id: a correlation or filter naming it reaches only the first, and
        // the detections of both carry the same rule_id. A pySigma-style filter (`not
        // selection`) silently keeps only the events it was written to drop.
        for d in set.check() {
            if matches!(
                d.diagnostic.code,
                "duplicate-id" | "duplicate-name" | "filter-negated-condition"
            ) {
                eprintln!(
                    "warning: {}:{}: {}",
                    set.rules[d.rule].origin.path,
                    d.diagnostic.span.start.line,
                    d.diagnostic.message
                );
            }
        }
    }
    for rule in &set.rules {
        match rule.body {
            RuleBody::Detection(_) => counts.detection += 1,
            RuleBody::Correlation(_) => counts.correlation += 1,
            RuleBody::Filter(_) => counts.filter += 1,
        }
    }
    counts.loaded = set.len() as u64;
    let mut correlator = Correlator::new(&set);
    for e in correlator.errors() {
        counts
            .correlation_errors
            .push(format!("{}: {}", set.rules[e.rule].title(), e.error));
    }
    let statuses = (!args.status.is_empty()).then_some(args.status.as_slice());
    let selection = hunt::select(&set, args.min_level, statuses, &|i| {
        correlator.is_suppressed(i)
    });
    counts.not_selected = selection.kept.iter().filter(|k| !**k).count() as u64;
    let runnable = (0..set.len())
        .filter(|&i| {
            selection.kept[i]
                && match set.rules[i].body {
                    RuleBody::Detection(_) => true,
                    RuleBody::Correlation(_) => correlator.kind(i).is_some(),
                    RuleBody::Filter(_) => false,
                }
        })
        .count();
    if runnable == 0 {
        return fatal(format!(
            "no rules to run ({} loaded, {} with errors, {} left out by --min-level/--status)",
            counts.loaded, counts.broken, counts.not_selected
        ));
    }
    let inputs: Vec<_> = (0..set.len())
        .map(|i| {
            selection.active[i]
                .then(|| correlator.inputs(i).cloned())
                .flatten()
        })
        .collect();

    // Inputs and output.
    let discovered = match discovering {
        // A panic there is a bug: it goes on as if it had happened here.
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        // No thread to be had: found here instead.
        Err(_) => source::discover(&log_inputs),
    };
    let mut discovery = match discovered {
        Ok(d) => d,
        // `SourceError::Input` displays the path; the reason is its source, which only
        // anyhow's `{:#}` adds (as `dump` prints it).
        Err(e) => return fatal(format!("{:#}", anyhow::Error::new(e))),
    };
    // Before the output is created: creating it empties the file. Standard output redirected
    // to a file is the output too (`hunt logs >> logs/found.jsonl`).
    let (target, shown) = super::output_file::target(args.output.as_deref());
    if let Err(e) = discovery.exclude_output(target, &shown, &log_inputs, output::is_detections) {
        return fatal(e);
    }
    discovery.exclude_earlier_outputs(output::holds_detections);
    for skip in &discovery.skips {
        eprintln!("{skip}");
    }
    let names: Vec<Arc<str>> = discovery
        .files
        .iter()
        .map(|f| Arc::clone(&f.name))
        .collect();
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal {
        OutputFormat::Table
    } else {
        OutputFormat::Jsonl
    });
    if let Some(selector) = &selector
        && let Err(e) = selector.inputs(&discovery.files)
    {
        return fatal(e);
    }
    let sink: Box<dyn Write + Send> = match &args.output {
        Some(path) => match super::output_file::sink(path) {
            Ok(sink) => sink,
            Err(e) => return fatal(format!("cannot create {}: {e}", path.display())),
        },
        None => Box::new(io::stdout()),
    };
    let opts = SourceOptions {
        format: args.log_format.format(),
        threads: args.threads,
        ..SourceOptions::default()
    };
    let setup = hunt::Setup {
        builtins,
        user,
        format,
        time_fields: TimeFields::new(&args.timestamp_fields),
        names: names.clone(),
    };
    let hunter = Hunter::new(set, selection, inputs, setup);

    if args.explain.is_some() {
        let mut writer = BufWriter::new(sink);
        let explained = match explain::run(
            &hunter,
            &discovery.files,
            &opts,
            selector.as_ref(),
            &mut writer,
        )
        .and_then(|n| {
            if n == 0 {
                // Nothing explained (nothing read, or no event selected): an earlier
                // --output is left as it was, as a hunt that reads nothing leaves it.
                super::output_file::discard(&mut writer);
                Ok(0)
            } else {
                writer.flush().map(|()| n).map_err(Into::into)
            }
        }) {
            Ok(n) => n,
            Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
            Err(e) => return fatal(format!("{e:#}")),
        };
        if explained == 0 {
            eprintln!("hunt: no event matched the --explain selection");
        }
        return Ok(ExitCode::SUCCESS);
    }

    let bar =
        (!args.quiet && io::stderr().is_terminal()).then(|| progress_bar(discovery.total_bytes()));
    let flush_each = discovery.files.iter().any(|file| {
        matches!(
            file.kind,
            source::InputKind::Stdin
                | source::InputKind::Path {
                    seekable: false,
                    ..
                }
        )
    });
    let mut writer = BufWriter::with_capacity(1 << 20, sink);
    if let Some(h) = output::header(format)
        && let Err(e) = writer.write_all(h.as_bytes())
    {
        return fatal(format!("cannot write detections: {e}"));
    }
    let consumer = Mutex::new(Consumer {
        order: Reorder::new(),
        writer,
        error: None,
        tally: Tally {
            files: discovery.files.len() as u64,
            skipped: Skip::count_records(&discovery.skips),
            ..Tally::default()
        },
        hits: vec![Vec::new(); discovery.files.len()],
        file_choice: vec![None; discovery.files.len()],
        announced: Vec::new(),
        cap: source::MessageCap::default(),
        bar: bar.clone(),
        quiet: args.quiet,
        flush_each,
        bar_shares_terminal: bar.is_some() && to_terminal,
        timeline: (args.sort == SortArg::Time).then(Vec::new),
    });
    let progress = Progress::new();
    let done = AtomicBool::new(false);
    let handle = |batch: Batch| -> ControlFlow<()> {
        let out = hunter.process(batch);
        let mut consumer = consumer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        consumer.accept(out, &hunter, &names);
        if consumer.error.is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let read_result = std::thread::scope(|scope| {
        if let Some(bar) = &bar {
            let (progress, done) = (&progress, &done);
            scope.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let snap = progress.snapshot();
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    bar.set_length(snap.bytes_total.max(1));
                    bar.set_position(snap.bytes_read);
                    bar.set_message(format!(
                        "{} events ({:.0}/s), files {}/{}",
                        snap.records,
                        snap.records as f64 / secs,
                        snap.files_done,
                        snap.files_total
                    ));
                    std::thread::sleep(Duration::from_millis(120));
                }
            });
        }
        let result = if opts.threads == 1 {
            for batch in source::read_sequential(&discovery.files, &opts, &progress) {
                if handle(batch).is_break() {
                    break;
                }
            }
            Ok(())
        } else {
            source::read_all(&discovery.files, &opts, &progress, handle)
        };
        done.store(true, Ordering::Relaxed);
        result
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    read_result?;

    let mut consumer = consumer
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(err) = consumer.error.take() {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return fatal(format!("cannot write detections: {err}"));
    }

    // Correlations, in event-time order over all files.
    let hits = std::mem::take(&mut consumer.hits);
    let detections = correlate::run(&mut correlator, hits);
    let mut rendered = Vec::new();
    for det in &detections {
        if !hunter
            .selection
            .kept
            .get(det.rule)
            .copied()
            .unwrap_or(false)
        {
            continue;
        }
        let kind = det.kind.as_str();
        let c = CorrelationOut {
            rule: &hunter.infos[det.rule],
            kind,
            group: &det.group,
            count: det.event_count,
            value: det.value,
            first: det.first,
            last: det.last,
            rules: det
                .rules
                .iter()
                .filter_map(|&r| hunter.infos.get(r))
                .collect(),
            events: det
                .events
                .iter()
                .map(|e| EventPlace {
                    path: names.get(e.source as usize).map_or("", |n| n),
                    record: e.record,
                })
                .collect(),
        };
        let mark = rendered.len();
        output::write_correlation(&mut rendered, format, &c);
        if let Some(timeline) = &mut consumer.timeline {
            // At the time of its last event, when it fired. Correlations keep milliseconds:
            // placed at the end of that millisecond, it comes after its last event.
            let row = rendered.split_off(mark);
            timeline.push((Some(i128::from(det.last) * 1_000_000 + 999_999), row));
        }
        *consumer.tally.per_rule.entry(det.rule).or_default() += 1;
        consumer.tally.correlation_detections += 1;
    }
    // Nothing could be read: the output is left as it was (an earlier run's detections are
    // not replaced by an empty file or a bare header), so what is buffered is not written.
    let files = discovery.files.len() as u64;
    if discovery.nothing_read(progress.snapshot().files_failed) {
        super::output_file::discard(&mut consumer.writer);
    }
    let mut flushed = Ok(());
    if let Some(mut timeline) = consumer.timeline.take() {
        // Stable: equal times keep the input order; events without a time go last.
        timeline.sort_by_key(|(key, _)| (key.is_none(), *key));
        for (_, row) in &timeline {
            flushed = flushed.and_then(|()| consumer.writer.write_all(row));
        }
    }
    let flushed = flushed
        .and_then(|()| consumer.writer.write_all(&rendered))
        .and_then(|()| consumer.writer.flush());
    if let Err(err) = flushed {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return fatal(format!("cannot write detections: {err}"));
    }

    let snap = progress.snapshot();
    consumer.tally.files_failed = snap.files_failed;
    if args.quiet {
        // Rules that could not run are skipped input too: one line per reason.
        for c in hunter.compiled() {
            for (n, why, example) in summary::left_out(&c) {
                let rules = if n == 1 { "rule" } else { "rules" };
                eprintln!(
                    "hunt: pipeline {}: {n} {rules} not run: {why}{example}",
                    c.name
                );
            }
        }
    } else {
        let text = summary::render(
            &consumer.tally,
            &counts,
            &hunter.compiled(),
            &hunter.infos,
            args.top,
            started.elapsed(),
            &|c| hunter.pipeline_name(c),
        );
        eprint!("{text}");
    }
    // Rules were loaded, but none could run on the logs read (all for other log sources, or
    // not compiled): nothing was looked for, which must not pass for a clean result.
    let compiled = hunter.compiled();
    let none_ran = (!compiled.is_empty() && compiled.iter().all(|c| c.usable == 0))
        .then(|| summary::why_none_ran(&compiled));
    // The process ends with this command: freeing the compiled rules piece by piece would
    // only cost time (a twentieth of a short hunt's CPU); the system takes the memory back.
    std::mem::forget(hunter);
    if files == 0 {
        return fatal(discovery.nothing_found());
    }
    if snap.files_failed == files {
        return fatal("no input could be read");
    }
    if let Some(why) = none_ran {
        return fatal(format!("no rule could run on these logs: {why}"));
    }
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
