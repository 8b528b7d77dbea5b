//! Hunting: Sigma rules over log files.
//!
//! One [`Hunter`] holds the rule set and, per pipeline in use, a compiled [`Engine`] (built the
//! first time a batch needs it). Workers call [`Hunter::process`] on batches from
//! [`crate::source`]; it picks the pipeline (EVTX: `evtx`; JSON: `-p/-c`, else the detected
//! shape; text: none), matches every record, renders the detections of reported rules and
//! collects the hits of rules that feed correlations. The caller puts the results back in file
//! order and runs the correlations over the collected hits in event-time order
//! ([`correlate`]).

pub mod correlate;
pub mod explain;
pub mod near;
pub mod output;
pub mod shape;
pub mod summary;
pub mod time;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use engine::correlation::Inputs;
use engine::par::par_map;
use engine::{Engine, Event, FieldPath, LineScanner, Scalar, ScanPlan};
use sigma::Rule;
use sigma::pipeline::{Chain, NotApplicable, ResolvedRule, resolve_identity};
use sigma::rule::RuleBody;
use sigma::ruleset::RuleSet;

use crate::source::{Batch, Format, RecordData, Skip};
use output::{OutputFormat, RuleInfo};
pub use shape::Choice;
use time::{EventTime, TimeFields};

/// A base-rule hit waiting to be fed to the correlator.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingHit {
    pub rule: usize,
    /// Event time, milliseconds since the epoch.
    pub time: i64,
    pub values: Vec<Option<String>>,
    pub record: u64,
    /// For rules with `near`: whether the anchor matched and which identifiers did.
    pub near: Option<(bool, u64)>,
}

/// What one batch gave.
#[derive(Debug, Default)]
pub struct BatchOut {
    pub file: usize,
    pub seq: u64,
    pub last: bool,
    /// The pipeline its records were matched with (`None`: no records).
    pub choice: Option<Choice>,
    /// Rendered detections.
    pub rendered: Vec<u8>,
    /// Per detection in `rendered`: where its text ends, and its event's time as nanoseconds
    /// since the epoch (for `--sort time`).
    pub rows: Vec<(usize, Option<i128>)>,
    /// Skip messages, one per line.
    pub messages: Vec<crate::source::Message>,
    pub events: u64,
    pub skipped: u64,
    /// The rule of each reported detection, in output order.
    pub detections: Vec<u32>,
    /// Hits for the correlator, in record order.
    pub hits: Vec<PendingHit>,
    /// Hits of correlated rules on events without a readable time (not fed).
    pub untimed_hits: u64,
    /// The first detection or correlation hit of the batch on an event without a readable
    /// time, as a message naming the record and what its time field held.
    pub untimed_first: Option<String>,
}

/// A rule set compiled for one pipeline.
pub struct Compiled {
    /// The pipeline's name (`evtx`, the `-p/-c` chain, `none`).
    pub name: String,
    pub engine: Engine,
    /// Active rules the engine can match.
    pub usable: u64,
    /// Active rules the pipeline does not apply to, by reason.
    pub not_applicable: BTreeMap<String, u64>,
    /// Active rules the pipeline refused, and why.
    pub refused: Vec<(usize, String)>,
    /// Active rules the engine could not compile, and why.
    pub errors: Vec<(usize, String)>,
    pub took: Duration,
    /// The engine's rules past the rule set's: per `near` identifier, its rule and bit.
    pub near: Vec<(usize, u32)>,
    /// Without a pipeline (text, JSON of no known shape), log sources are not checked, and a
    /// rule that matches an event with none of its fields (`not selection`) would match every
    /// line of every such log. Per rule: the fields one of which an event must have for its
    /// match to count (`None`: no such rule, or not this engine).
    pub presence: Vec<Option<Vec<FieldPath>>>,
}

/// For the engine without a pipeline: per rule that matches an event lacking every field it
/// names (so, by absence alone), its fields (see [`Compiled::presence`]). Rules with keywords
/// search the whole event and need no such guard.
fn presence_guards(engine: &Engine, rules: usize) -> Vec<Option<Vec<FieldPath>>> {
    let mut guards = vec![None; rules];
    let empty = serde_json::Value::Object(serde_json::Map::new());
    for m in engine.matches(&empty) {
        let Some(variant) = engine
            .rules()
            .get(m.rule)
            .and_then(|r| r.variants.get(m.variant))
        else {
            continue;
        };
        let mut fields: Vec<&str> = Vec::new();
        let mut keywords = false;
        for item in variant.detection.items() {
            match &item.field {
                Some(field) => fields.push(field),
                None => keywords = true,
            }
        }
        fields.sort_unstable();
        fields.dedup();
        if let Some(slot) = guards.get_mut(m.rule)
            && !keywords
            && !fields.is_empty()
        {
            *slot = Some(fields.into_iter().map(FieldPath::new).collect());
        }
    }
    guards
}

/// Whether the event has a value for any of `fields`.
pub(super) fn has_any<E: Event + ?Sized>(event: &E, fields: &[FieldPath]) -> bool {
    fields.iter().any(|field| {
        let mut found = false;
        event.lookup(field, &mut |_| found = true);
        found
    })
}

/// Which rules run and which are reported.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Passes `--min-level` and `--status` (filters always do).
    pub kept: Vec<bool>,
    /// Evaluated: kept, or referenced by a kept correlation (directly or through a chain).
    pub active: Vec<bool>,
    /// Plain detections are written: a kept detection rule that no correlation suppresses.
    pub report: Vec<bool>,
}

/// The rules, the engines per pipeline, and how to render.
pub struct Hunter {
    pub set: RuleSet,
    pub infos: Vec<RuleInfo>,
    pub selection: Selection,
    /// Per rule: what the correlator needs from its hits.
    pub inputs: Vec<Option<Inputs>>,
    pub format: OutputFormat,
    time_fields: TimeFields,
    /// Built-in chains by [`Choice`] index, and the user's chain.
    chains: [Option<Chain>; 5],
    engines: [OnceLock<Arc<Compiled>>; 5],
    names: Vec<Arc<str>>,
}

/// How a [`Hunter`] matches and renders.
pub struct Setup {
    /// The `evtx`, `windows-flat` and `ecs-windows` pipelines, loaded by the caller (their
    /// errors are the caller's to report).
    pub builtins: [Chain; 3],
    /// The `-p/-c` chain, if given.
    pub user: Option<Chain>,
    pub format: OutputFormat,
    pub time_fields: TimeFields,
    /// Input names by file index.
    pub names: Vec<Arc<str>>,
}

/// A rule that must not match: inactive, or refused by the pipeline.
fn placeholder(rule: &Arc<Rule>, pipeline: &str, reason: &str) -> ResolvedRule {
    ResolvedRule {
        rule: Arc::clone(rule),
        variants: Vec::new(),
        skipped: Some(NotApplicable {
            pipeline: pipeline.to_owned(),
            reason: reason.to_owned(),
        }),
    }
}

/// The text of a field value for grouping and counting (`None`: nothing comparable).
pub fn scalar_text(value: Scalar<'_>) -> Option<String> {
    match value {
        Scalar::Str(s) => Some(s.into_owned()),
        Scalar::Num(n) => Some(match n {
            engine::semantics::Num::Int(i) => i.to_string(),
            engine::semantics::Num::UInt(u) => u.to_string(),
            engine::semantics::Num::Float(f) => f.to_string(),
        }),
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Null | Scalar::Other => None,
    }
}

/// At most this many fields in a table row's DETAILS.
const DETAIL_FIELDS: usize = 6;

/// A table row's HOST, EVENT and DETAILS for an event a rule variant matched: the computer,
/// channel and event id under the names the variant's pipeline gives `Computer`, `Channel` and
/// `EventID`, and the values of the fields its detection reads, in the order the rule names
/// them (fields the event lacks left out).
fn table_cells<E: Event + ?Sized>(
    event: &E,
    variant: Option<&sigma::pipeline::Variant>,
) -> output::TableCells {
    let Some(variant) = variant else {
        return output::TableCells::default();
    };
    let named = |name: &str| first_value(event, &variant.fields.map(name));
    let channel = named("Channel");
    let id = named("EventID");
    // The columns before show these already.
    let shown: Vec<String> = ["Computer", "Channel", "EventID"]
        .iter()
        .flat_map(|name| variant.fields.map(name))
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut details = Vec::new();
    for item in variant.detection.items() {
        let Some(field) = item.field.as_deref() else {
            continue;
        };
        if seen.contains(&field) || shown.iter().any(|s| s == field) {
            continue;
        }
        seen.push(field);
        if let Some(value) = first_value(event, &[field.to_owned()]).filter(|v| !v.is_empty()) {
            details.push((detail_label(field).to_owned(), value));
            if details.len() == DETAIL_FIELDS {
                break;
            }
        }
    }
    if details.is_empty()
        && let Some(message) = first_value(event, &["message".to_owned()])
    {
        // A keyword rule over text lines: the line.
        details.push(("message".to_owned(), message));
    }
    output::TableCells {
        host: named("Computer"),
        event: output::TableCells::event_cell(channel.as_deref(), id.as_deref()),
        details,
    }
}

/// A field's name as DETAILS shows it: without the EVTX record's `Event.EventData.` (or
/// `Event.System.`, `Event.UserData.<Element>.`) in front, which every field of a kind shares.
fn detail_label(field: &str) -> &str {
    if let Some(rest) = field.strip_prefix("Event.EventData.") {
        return rest;
    }
    if let Some(rest) = field.strip_prefix("Event.System.") {
        return rest;
    }
    if let Some(rest) = field.strip_prefix("Event.UserData.") {
        return rest.split_once('.').map_or(rest, |(_, name)| name);
    }
    field
}

/// The first value of a field, trying each name in turn.
pub fn first_value<E: Event + ?Sized>(event: &E, names: &[String]) -> Option<String> {
    for name in names {
        let mut found = None;
        event.lookup(&FieldPath::new(name), &mut |v| {
            if found.is_none() {
                found = scalar_text(v);
            }
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

impl Hunter {
    pub fn new(
        set: RuleSet,
        selection: Selection,
        inputs: Vec<Option<Inputs>>,
        setup: Setup,
    ) -> Hunter {
        // Thousands of rules' titles, tags and fields: a few milliseconds of start-up, on both
        // cores.
        let infos = par_map(&set.rules, 128, |_, r| RuleInfo::new(r));
        let [evtx, flat, ecs] = setup.builtins;
        Hunter {
            set,
            infos,
            selection,
            inputs,
            format: setup.format,
            time_fields: setup.time_fields,
            // No one reads the pipelines' change descriptions here (`resolve` prints them).
            chains: [
                Some(evtx.without_descriptions()),
                setup.user.map(Chain::without_descriptions),
                Some(flat.without_descriptions()),
                Some(ecs.without_descriptions()),
                None,
            ],
            engines: Default::default(),
            names: setup.names,
        }
    }

    /// Whether `-p`/`-c` were given.
    pub fn has_user_chain(&self) -> bool {
        self.chains[Choice::User.index()].is_some()
    }

    /// The pipeline name of a choice.
    pub fn pipeline_name(&self, choice: Choice) -> String {
        match (&self.chains[choice.index()], choice) {
            (_, Choice::None) => "none".to_owned(),
            (Some(chain), _) => chain.name(),
            (None, _) => "none".to_owned(),
        }
    }

    /// The engines compiled so far.
    pub fn compiled(&self) -> Vec<Arc<Compiled>> {
        self.engines
            .iter()
            .filter_map(|e| e.get().cloned())
            .collect()
    }

    /// The engine for a pipeline, compiled on first use.
    pub fn engine(&self, choice: Choice) -> Arc<Compiled> {
        Arc::clone(self.engine_ref(choice))
    }

    /// The engine for a pipeline, compiled on first use, borrowed for as long as the hunter.
    pub fn engine_ref(&self, choice: Choice) -> &Arc<Compiled> {
        self.engines[choice.index()].get_or_init(|| Arc::new(self.compile(choice)))
    }

    fn compile(&self, choice: Choice) -> Compiled {
        let started = Instant::now();
        let chain = self.chains[choice.index()].as_ref();
        let name = self.pipeline_name(choice);
        // Resolving thousands of rules through a pipeline takes a while: both cores do it.
        let outcomes = par_map(&self.set.rules, 64, |i, rule| {
            // `None`: not selected; an error: refused by the pipeline.
            if !self.selection.active[i] {
                return None;
            }
            Some(match chain {
                None => Ok(resolve_identity(rule)),
                Some(chain) => chain.apply(rule).map_err(|err| err.to_string()),
            })
        });
        let mut resolved = Vec::with_capacity(self.set.len());
        let mut excluded = vec![false; self.set.len()];
        let mut not_applicable: BTreeMap<String, u64> = BTreeMap::new();
        let mut refused = Vec::new();
        for (i, (rule, outcome)) in self.set.rules.iter().zip(outcomes).enumerate() {
            match outcome {
                None => {
                    excluded[i] = true;
                    resolved.push(placeholder(rule, &name, "not selected"));
                }
                Some(Ok(r)) => {
                    if let Some(na) = &r.skipped {
                        excluded[i] = true;
                        *not_applicable.entry(na.reason.clone()).or_default() += 1;
                    }
                    resolved.push(r);
                }
                Some(Err(err)) => {
                    excluded[i] = true;
                    refused.push((i, err));
                    resolved.push(placeholder(rule, &name, "refused"));
                }
            }
        }
        let near = self.add_near_selections(chain, &excluded, &mut resolved);
        let engine = Engine::compile(resolved);
        let errors: Vec<(usize, String)> = engine
            .errors()
            .iter()
            .filter(|e| !excluded.get(e.rule).copied().unwrap_or(true))
            .map(|e| (e.rule, e.kind.to_string()))
            .collect();
        let presence = if choice == Choice::None {
            presence_guards(&engine, self.set.len())
        } else {
            Vec::new()
        };
        let usable = (0..self.set.len())
            .filter(|&i| {
                !excluded[i]
                    && engine.is_compiled(i)
                    && matches!(self.set.rules[i].body, RuleBody::Detection(_))
            })
            .count() as u64;
        Compiled {
            name,
            engine,
            usable,
            not_applicable,
            refused,
            errors,
            took: started.elapsed(),
            near,
            presence,
        }
    }

    /// Appends to `resolved` one rule per identifier named after `near` in an active rule
    /// (see [`near`]); returns each one's rule and bit.
    fn add_near_selections(
        &self,
        chain: Option<&Chain>,
        excluded: &[bool],
        resolved: &mut Vec<ResolvedRule>,
    ) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        for (i, rule) in self.set.rules.iter().enumerate() {
            let Some(inputs) = self.inputs.get(i).and_then(Option::as_ref) else {
                continue;
            };
            if excluded.get(i).copied().unwrap_or(true) {
                continue;
            }
            // The correlator names at most 64 (bits of a `u64`).
            for (bit, name) in inputs.selections.iter().enumerate().take(64) {
                let Some(copy) = near::selection_rule(rule, name) else {
                    continue;
                };
                let r = match chain {
                    Some(chain) => match chain.apply(copy) {
                        Ok(r) if r.skipped.is_none() => r,
                        _ => continue,
                    },
                    None => resolve_identity(copy),
                };
                resolved.push(r);
                out.push((i, bit as u32));
            }
        }
        out
    }

    /// The pipeline for a batch: `evtx` for EVTX, none for text, `-p/-c` for JSON if given,
    /// else the shape of the batch's first record of a known shape (none if no record has
    /// one). Records that name none of a known shape's keys (heartbeat lines, a text file's
    /// lines in `dump`'s output) do not decide, however many: with no pipeline, every rule
    /// would be offered the Windows events after them. They cost one search each, not a parse
    /// (see [`shape::may_have_a_shape`]); a log of known shape decides at its first record.
    pub fn choose(&self, batch: &Batch) -> Choice {
        match batch.format {
            Format::Evtx => Choice::Evtx,
            Format::Text => Choice::None,
            Format::JsonLines | Format::JsonArray => {
                if self.has_user_chain() {
                    Choice::User
                } else {
                    // Records that name a known shape's keys are parsed to tell; after
                    // `PARSED` of them, none of a known shape, the batch has none (a log of
                    // another kind whose records happen to name `event` is not parsed whole).
                    const PARSED: usize = 64;
                    batch
                        .records()
                        .filter(|r| shape::may_have_a_shape(r.text()))
                        .take(PARSED)
                        .map(|r| shape::detect_parsed(r.text()))
                        .find(|&choice| choice != Choice::None)
                        .unwrap_or(Choice::None)
                }
            }
        }
    }

    /// Matches a batch.
    pub fn process(&self, mut batch: Batch) -> BatchOut {
        let mut out = BatchOut {
            file: batch.file,
            seq: batch.seq,
            last: batch.last,
            ..BatchOut::default()
        };
        let mut skips = std::mem::take(&mut batch.skips);
        let found_by_source = skips.len();
        if !batch.is_empty() {
            let choice = self.choose(&batch);
            out.choice = Some(choice);
            let compiled = self.engine(choice);
            self.match_records(&batch, &compiled, &mut out, &mut skips);
        }
        if skips.len() > found_by_source && batch.format != Format::Evtx {
            skips.sort_by_key(|skip| skip.location.number());
        }
        out.skipped = Skip::count_records(&skips);
        out.messages = skips.iter().map(crate::source::Message::from).collect();
        out
    }

    fn match_records(
        &self,
        batch: &Batch,
        compiled: &Compiled,
        out: &mut BatchOut,
        skips: &mut Vec<Skip>,
    ) {
        let engine = &compiled.engine;
        with_scanner(engine, |scanner| {
            self.match_with(batch, compiled, scanner, out, skips);
        });
    }

    fn match_with(
        &self,
        batch: &Batch,
        compiled: &Compiled,
        scanner: &mut LineScanner,
        out: &mut BatchOut,
        skips: &mut Vec<Skip>,
    ) {
        let engine = &compiled.engine;
        let mut text_event = Vec::new();
        let mut near_seen = near::NearSeen::default();
        let path: &str = self
            .names
            .get(batch.file)
            .map_or(&batch.source, |name| name);
        // EVTX records are the `evtx` crate's compact JSON, and the scanner has checked each one
        // it accepts: written out as they are, without validating them again.
        let checked = batch.format == Format::Evtx;
        for record in batch.records() {
            let scanned = match record.data {
                // The batch's text is UTF-8 already: only the JSON is checked.
                RecordData::Json(text) => scanner.scan_str(text),
                RecordData::Text(_) => {
                    text_event.clear();
                    if let Err(reason) = record.write_json(&mut text_event) {
                        skips.push(batch.skip(record.number, reason));
                        continue;
                    }
                    scanner.scan(&text_event)
                }
            };
            let event = match scanned {
                Ok(event) => event,
                Err(err) => {
                    skips.push(batch.skip(record.number, err.to_string()));
                    continue;
                }
            };
            out.events += 1;
            let mut time = None;
            near_seen.clear();
            for m in engine.matches(&event) {
                let rule = m.rule;
                if let Some(Some(fields)) = compiled.presence.get(rule)
                    && !has_any(&event, fields)
                {
                    continue;
                }
                if let Some(&(near_rule, bit)) = rule
                    .checked_sub(self.set.len())
                    .and_then(|k| compiled.near.get(k))
                {
                    near_seen.selection(near_rule, bit);
                    continue;
                }
                if self
                    .inputs
                    .get(rule)
                    .and_then(Option::as_ref)
                    .is_some_and(|i| !i.selections.is_empty())
                {
                    near_seen.anchor(rule);
                    continue;
                }
                let report = !m.needs_correlation
                    && self.selection.report.get(rule).copied().unwrap_or(false);
                let inputs = self.inputs.get(rule).and_then(Option::as_ref);
                if !report && inputs.is_none() {
                    continue;
                }
                let text = event.text();
                let time = time.get_or_insert_with(|| self.time_fields.read(&event, text));
                note_untimed(&mut out.untimed_first, batch, record.number, time.as_ref());
                // The rule's variant that matched: its field names (table, correlation inputs).
                let variant = engine
                    .rules()
                    .get(rule)
                    .and_then(|r| r.variants.get(m.variant));
                if report {
                    out.detections.push(rule as u32);
                    let cells =
                        (self.format == OutputFormat::Table).then(|| table_cells(&event, variant));
                    output::write_plain(
                        &mut out.rendered,
                        self.format,
                        &self.infos[rule],
                        path,
                        &record,
                        checked,
                        time.as_ref(),
                        cells.as_ref(),
                    );
                    let key = time.as_ref().and_then(time::EventTime::sort_key);
                    out.rows.push((out.rendered.len(), key));
                }
                if let Some(inputs) = inputs {
                    match time.as_ref().and_then(|t| t.millis) {
                        Some(ms) => {
                            let fields = variant.map(|v| &v.fields);
                            let values = inputs
                                .fields
                                .iter()
                                .map(|name| {
                                    let names = fields.map_or_else(
                                        || vec![name.clone()],
                                        |mapper| mapper.map(name),
                                    );
                                    first_value(&event, &names)
                                })
                                .collect();
                            out.hits.push(PendingHit {
                                rule,
                                time: ms,
                                values,
                                record: record.number,
                                near: None,
                            });
                        }
                        None => out.untimed_hits += 1,
                    }
                }
            }
            if !near_seen.is_empty() {
                let text = event.text();
                let time = time.get_or_insert_with(|| self.time_fields.read(&event, text));
                note_untimed(&mut out.untimed_first, batch, record.number, time.as_ref());
                let millis = time.as_ref().and_then(|t| t.millis);
                for (rule, matched, selections) in near_seen.drain() {
                    match millis {
                        Some(ms) => out.hits.push(PendingHit {
                            rule,
                            time: ms,
                            values: Vec::new(),
                            record: record.number,
                            near: Some((matched, selections)),
                        }),
                        None => out.untimed_hits += 1,
                    }
                }
            }
        }
    }
}

/// Keeps, as the first of the batch, a note on the event at `number` when it has no readable
/// time: what its time field held, or that it has none.
fn note_untimed(first: &mut Option<String>, batch: &Batch, number: u64, time: Option<&EventTime>) {
    if first.is_some() || time.is_some_and(|t| t.millis.is_some()) {
        return;
    }
    let reason = match time {
        Some(t) => format!("time {:?} is not a date and time hunt reads", t.text),
        None => "none of the time fields".to_owned(),
    };
    *first = Some(batch.skip(number, reason).to_string());
}

thread_local! {
    /// This thread's JSON scanners, one per engine in use (by its scan plan), kept from batch
    /// to batch: an EVTX batch is one chunk of a few dozen records, and a fresh scanner sizes
    /// its tables by every field the rules read.
    static SCANNERS: RefCell<Vec<(Arc<ScanPlan>, LineScanner)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's scanner for `engine`.
fn with_scanner<R>(engine: &Engine, f: impl FnOnce(&mut LineScanner) -> R) -> R {
    /// Scanners kept per thread (one per pipeline in use).
    const KEEP: usize = 5;
    let plan = engine.scan_plan();
    SCANNERS.with(|cell| {
        let Ok(mut scanners) = cell.try_borrow_mut() else {
            // Re-entered (not done today): a scanner of its own.
            return f(&mut engine.line_scanner());
        };
        let index = match scanners.iter().position(|(p, _)| Arc::ptr_eq(p, plan)) {
            Some(index) => index,
            None => {
                if scanners.len() >= KEEP {
                    scanners.remove(0);
                }
                scanners.push((Arc::clone(plan), engine.line_scanner()));
                scanners.len() - 1
            }
        };
        f(&mut scanners[index].1)
    })
}

/// Rules passing `--min-level` / `--status` (`None`: every status but `deprecated` and
/// `unsupported`; rules without a level fail any `--min-level`), the rules they need, and what
/// is reported.
pub fn select(
    set: &RuleSet,
    min_level: Option<sigma::rule::Level>,
    statuses: Option<&[sigma::rule::Status]>,
    suppressed: &dyn Fn(usize) -> bool,
) -> Selection {
    let n = set.len();
    let kept: Vec<bool> = set
        .rules
        .iter()
        .map(|r| {
            if matches!(r.body, RuleBody::Filter(_)) {
                return true;
            }
            let level_ok = min_level.is_none_or(|min| r.meta.level.is_some_and(|l| l >= min));
            let status_ok = match statuses {
                None => !matches!(
                    r.meta.status,
                    Some(sigma::rule::Status::Deprecated | sigma::rule::Status::Unsupported)
                ),
                Some(list) => r.meta.status.is_some_and(|s| list.contains(&s)),
            };
            level_ok && status_ok
        })
        .collect();
    let mut active = kept.clone();
    let mut stack: Vec<usize> = (0..n).filter(|&i| kept[i]).collect();
    while let Some(i) = stack.pop() {
        for t in set.correlation_targets(i) {
            if !active[t] {
                active[t] = true;
                stack.push(t);
            }
        }
    }
    let report = (0..n)
        .map(|i| kept[i] && matches!(set.rules[i].body, RuleBody::Detection(_)) && !suppressed(i))
        .collect();
    Selection {
        kept,
        active,
        report,
    }
}
