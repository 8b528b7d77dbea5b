//! Correlation over event time: Sigma correlation rules (`event_count`, `value_count`,
//! `temporal`, `temporal_ordered`, `value_sum`, `value_avg`, `value_percentile`) and the legacy
//! aggregations of detection rules (`| count() by x > n`, `| near a and not b`).
//!
//! The module is pure: it never sees events. The caller matches events against the base rules and
//! feeds a [`Hit`] for each match (rule index, event time, the field values this module asked
//! for, an opaque [`EventRef`]); the [`Correlator`] answers with [`CorrelationDetection`]s.
//!
//! ```text
//! let mut c = Correlator::new(&set);
//! for each event (in time order), for each base rule r that matched:
//!     if let Some(inputs) = c.inputs(r) {
//!         values = inputs.fields mapped through the rule's field mapper and read from the event
//!         out.extend(c.process(&Hit::new(r, time, values, event_ref)));
//!     }
//! out.extend(c.finish());
//! plain detections of rules in c.suppressed_base_rules() are not reported.
//! ```
//!
//! # Semantics
//!
//! **Groups.** Each correlation keeps separate state per group: the tuple of the values of its
//! `group-by` fields, read from each hit through the correlation's `aliases` (an alias without an
//! entry for a rule falls back to the alias name as field name). A missing field is a group
//! value of its own (`None`): events without the field are grouped together, not dropped.
//! Legacy `near` has no grouping.
//!
//! **Windows.** A window holds the hits whose times lie within `timespan` of each other, both ends
//! included: two hits exactly `timespan` apart are in one window, one millisecond more and they
//! are not. How a window is decided depends on the condition:
//!
//! - Conditions that only use `gt`/`gte` (including the default condition of `temporal` and
//!   `temporal_ordered`: all referenced rules) are checked each time a hit arrives, over the
//!   group's hits from `latest − timespan` to the latest hit (a sliding window). The correlation
//!   fires as soon as the condition holds; the group's state is then cleared, so one burst gives
//!   one detection and the next detection needs a fresh set of hits.
//! - Conditions with `lt`, `lte`, `eq` or `neq` (also in a range), and every `value_percentile`,
//!   are decided when the window closes: a group's window starts at its first hit and closes when
//!   the stream's time passes `first + timespan` (or at the end of input, [`Correlator::finish`],
//!   with what it holds). The next hit of the group starts a new window.
//! - Legacy aggregations without a `timeframe` have one window over the whole input, decided at
//!   [`Correlator::finish`].
//!
//! **What is counted.** `event_count`: hits. `value_count`: distinct values of `field`; with
//! several fields, distinct tuples; hits missing one of the fields are skipped. `value_sum` /
//! `value_avg` (and legacy `sum`/`avg`/`min`/`max`): over the numeric values of `field` (a
//! decimal number after trimming spaces); missing and non-numeric values are skipped and counted
//! in [`Stats`]. `value_percentile`: for each distinct value of `field` in the window, its share
//! of the group's hits, in percent (0–100), is compared with the condition; each value that meets
//! it gives a detection whose group also names the value (the spec's example `lte: 1` finds
//! values making up at most 1% of the group's events — rare process names on a host).
//! `temporal`: number of distinct referenced rules seen in the window. `temporal_ordered`: the
//! length of the longest prefix of the `rules` list seen in that order (by event time; ties by
//! arrival) within the window.
//!
//! **Legacy.** `count() by g > n` is `event_count` grouped by `g`; `count(f) by g > n` is the
//! distinct count of `f` (as sigmac meant it, i.e. `value_count`); `sum`/`avg`/`min`/`max(f)`
//! aggregate `f`; the window is the rule's `timeframe`. The caller feeds a hit when the rule's
//! condition without the aggregation matches. `a | near b and not c`: after an event matching
//! the condition `a` (the anchor, at time t), within `[t, t + timeframe]`, every positive
//! identifier (`b`) must be matched by some event and no negated one (`c`) by any event; the
//! anchor event counts too. Without negated identifiers it fires as soon as all positive ones
//! are seen; with them it is decided when the window closes. After a detection, anchors whose
//! windows overlap the detected one are dropped. The caller reports which identifiers an event
//! matched ([`Inputs::selections`], [`Hit::selections`]), also for events that do not match the
//! anchor condition. Without a `timeframe`, an anchor's window is the rest of the input.
//!
//! **Chains.** A correlation may refer to another correlation: each detection of the inner one
//! is a hit of the outer one at the time of its last event, whose field values are the inner
//! detection's group values (a field the inner correlation does not group by is missing).
//!
//! **generate.** Rules referred to by a correlation produce no detections of their own unless a
//! correlation referring to them says `generate: true`; this holds for inner correlations of a
//! chain too (their detections then only feed the outer one). Legacy aggregation rules never
//! produce plain detections. Rules of correlations that cannot be compiled are not suppressed.
//!
//! **Time and order.** Time is milliseconds since the epoch. The correlator keeps a watermark,
//! the largest hit time seen, and drops state older than `watermark − timespan`. Input should be
//! in time order (hunt sorts each file by time and merges files); hits a little out of order are
//! placed in time order within their group's window. A hit older than `watermark − timespan` is
//! "late": it is still applied when the state it belongs to exists (the group's current window
//! reaches back to it), otherwise dropped; both are counted in [`Stats`].
//!
//! **Bounded memory.** Per correlation at most [`Options::max_groups`] groups (or `near` anchors)
//! are kept; when a new one would exceed that, the one with the oldest deadline is dropped without
//! a decision ([`Stats::evicted_groups`]). A window keeps at most [`Options::max_window_hits`]
//! hits (oldest dropped first, [`Stats::trimmed_hits`]). A detection lists at most
//! [`Options::max_events`] events, with the total in [`CorrelationDetection::event_count`].
//!
//! **Determinism.** The same sequence of hits gives the same detections in the same order:
//! windows closing at the same time are decided by correlation (inner before outer, then rule
//! order) and group creation order; values of `value_percentile` in sorted order.

mod compile;
mod near;
#[cfg(test)]
mod tests;
mod window;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use sigma::condition::AggFunc;
use sigma::rule::CorrelationType;
use sigma::ruleset::RuleSet;

pub use compile::CorrelationError;
use compile::{Source, Spec, SpecBody};
use near::NearState;
use window::{Datum, Entry, Events, WindowState};

/// An event, as the caller knows it: for hunt, the file and the record within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventRef {
    pub source: u32,
    pub record: u64,
}

impl EventRef {
    pub fn new(source: u32, record: u64) -> Self {
        EventRef { source, record }
    }
}

/// A base rule matched an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index of the rule in the [`RuleSet`].
    pub rule: usize,
    /// Event time, milliseconds since the epoch.
    pub time: i64,
    /// The values of [`Inputs::fields`] of this rule, in that order (`None`: missing). Missing
    /// trailing entries count as `None`.
    pub values: Vec<Option<String>>,
    pub event: EventRef,
    /// Whether the rule's condition matched. Always true except for rules with `near`, whose
    /// hits are also fed when only some of [`Inputs::selections`] matched.
    pub matched: bool,
    /// For rules with `near`: bit `i` is set when selection `Inputs::selections[i]` matched.
    pub selections: u64,
}

impl Hit {
    /// A match of a rule's condition.
    pub fn new(rule: usize, time: i64, values: Vec<Option<String>>, event: EventRef) -> Self {
        Hit {
            rule,
            time,
            values,
            event,
            matched: true,
            selections: 0,
        }
    }

    /// An event seen by a rule with `near`: whether the condition (the anchor) matched, and which
    /// of its near selections matched.
    pub fn near(rule: usize, time: i64, matched: bool, selections: u64, event: EventRef) -> Self {
        Hit {
            rule,
            time,
            values: Vec::new(),
            event,
            matched,
            selections,
        }
    }
}

/// What the correlator needs to know about the events a base rule matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Sigma field names (before any pipeline mapping) whose values go into [`Hit::values`].
    pub fields: Vec<String>,
    /// For rules with `near`: the selections whose match goes into [`Hit::selections`]. Feed a
    /// hit when the condition or any of these matched.
    pub selections: Vec<String>,
}

/// Limits that keep memory bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Groups (or `near` anchors) kept per correlation.
    pub max_groups: usize,
    /// Hits kept per window.
    pub max_window_hits: usize,
    /// Events listed per detection.
    pub max_events: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_groups: 100_000,
            max_window_hits: 100_000,
            max_events: 100,
        }
    }
}

/// The kind of a correlation detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A Sigma correlation rule.
    Correlation(CorrelationType),
    /// A legacy `| count() ...` (or min/max/avg/sum) condition.
    Aggregation(AggFunc),
    /// A legacy `| near ...` condition.
    Near,
}

impl Kind {
    /// `event_count`, ..., or the legacy `count`, `sum`, ..., `near`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Correlation(t) => t.as_str(),
            Kind::Aggregation(f) => f.as_str(),
            Kind::Near => "near",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A correlation (or legacy aggregation) fired.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationDetection {
    /// The correlation rule, or the detection rule with the legacy condition.
    pub rule: usize,
    pub kind: Kind,
    /// The group-by fields (as written, aliases by their alias name) and the group's values.
    pub group: Vec<(String, Option<String>)>,
    /// The aggregated number the condition was checked on: count, distinct count, number of
    /// rules, sum, average, share in percent; for `near`, the positive identifiers seen.
    pub value: f64,
    /// Time of the first and last event behind the detection.
    pub first: i64,
    pub last: i64,
    /// The referenced rules (detection rules or inner correlations) behind it, sorted.
    pub rules: Vec<usize>,
    /// The events behind it, at most [`Options::max_events`], in time order. For `temporal`,
    /// the last event of each rule; for `temporal_ordered`, the events of the ordered chain.
    pub events: Vec<EventRef>,
    /// How many events were in the window.
    pub event_count: u64,
}

/// Counters for `--stats` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Groups and `near` anchors alive now.
    pub live_groups: u64,
    /// Groups dropped undecided because of [`Options::max_groups`].
    pub evicted_groups: u64,
    /// Hits older than `watermark − timespan` when they arrived.
    pub late_hits: u64,
    /// Hits that could not be applied (late without state, or outside their group's window).
    pub dropped_hits: u64,
    /// Hits dropped from full windows ([`Options::max_window_hits`]).
    pub trimmed_hits: u64,
    /// value_sum/avg (and legacy sum/avg/min/max) values that are not numbers, skipped.
    pub non_numeric_values: u64,
    /// Hits without the `field` of a value_* correlation, skipped.
    pub missing_values: u64,
    /// Detections of inner correlations that only fed outer ones (`generate: false`).
    pub suppressed_detections: u64,
}

/// A rule that cannot be correlated, and why. The other rules are not affected.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub rule: usize,
    pub error: CorrelationError,
}

/// Per-correlation state.
enum State {
    Window(WindowState),
    Near(NearState),
}

impl State {
    fn first_timer(&self) -> Option<(i64, u64)> {
        match self {
            State::Window(w) => w.timers.first().copied(),
            State::Near(n) => n.timers.first().copied(),
        }
    }

    fn live(&self) -> usize {
        match self {
            State::Window(w) => w.live(),
            State::Near(n) => n.live(),
        }
    }
}

/// Mutable context shared by all states.
pub(crate) struct Ctx<'a> {
    pub options: &'a Options,
    pub stats: &'a mut Stats,
    pub seq: &'a mut u64,
}

impl Ctx<'_> {
    pub fn next_seq(&mut self) -> u64 {
        *self.seq += 1;
        *self.seq
    }
}

/// Runs correlation rules and legacy aggregations over a stream of hits.
pub struct Correlator {
    specs: Vec<Spec>,
    states: Vec<State>,
    /// Referenced rule → positions of the specs that consume its hits or detections.
    routes: HashMap<usize, Vec<usize>>,
    /// Correlation rule → its spec position.
    position: HashMap<usize, usize>,
    inputs: HashMap<usize, Inputs>,
    errors: Vec<RuleError>,
    suppressed: BTreeSet<usize>,
    options: Options,
    watermark: Option<i64>,
    seq: u64,
    stats: Stats,
}

impl Correlator {
    /// Compile every correlation rule and every legacy aggregation of the set, with default
    /// limits. Rules that cannot run are listed by [`Correlator::errors`].
    pub fn new(set: &RuleSet) -> Self {
        Self::with_options(set, Options::default())
    }

    pub fn with_options(set: &RuleSet, options: Options) -> Self {
        let compiled = compile::compile(set);
        let states = compiled
            .specs
            .iter()
            .map(|s| match s.body {
                SpecBody::Near { .. } => State::Near(NearState::default()),
                SpecBody::Window { .. } => State::Window(WindowState::default()),
            })
            .collect();
        let position = compiled
            .specs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.rule, i))
            .collect();
        let options = Options {
            max_groups: options.max_groups.max(1),
            max_window_hits: options.max_window_hits.max(1),
            max_events: options.max_events,
        };
        Correlator {
            specs: compiled.specs,
            states,
            routes: compiled.routes,
            position,
            inputs: compiled.inputs,
            errors: compiled.errors,
            suppressed: compiled.suppressed,
            options,
            watermark: None,
            seq: 0,
            stats: Stats::default(),
        }
    }

    /// Rules that could not be compiled (unknown or cyclic references, ...), in rule order.
    pub fn errors(&self) -> &[RuleError] {
        &self.errors
    }

    /// What to extract from events matched by a base rule; `None` when the rule feeds nothing.
    pub fn inputs(&self, rule: usize) -> Option<&Inputs> {
        self.inputs.get(&rule)
    }

    /// The base rules that feed correlations, in index order.
    pub fn fed_rules(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.inputs.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// The correlation and legacy rules that run, in index order.
    pub fn rules(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.specs.iter().map(|s| s.rule).collect();
        v.sort_unstable();
        v
    }

    /// The kind of a compiled correlation or legacy rule.
    pub fn kind(&self, rule: usize) -> Option<Kind> {
        self.position.get(&rule).map(|&p| self.specs[p].kind)
    }

    /// Rules whose own (plain) detections must not be reported: rules referenced only by
    /// correlations without `generate: true`, and legacy aggregation rules.
    pub fn suppressed_base_rules(&self) -> &BTreeSet<usize> {
        &self.suppressed
    }

    pub fn is_suppressed(&self, rule: usize) -> bool {
        self.suppressed.contains(&rule)
    }

    /// Largest hit time seen.
    pub fn watermark(&self) -> Option<i64> {
        self.watermark
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.live_groups = self.states.iter().map(|st| st.live() as u64).sum();
        s
    }

    /// Feed one hit; returns the detections it (and the time it moved to) completed.
    pub fn process(&mut self, hit: &Hit) -> Vec<CorrelationDetection> {
        let mut out = Vec::new();
        let now = match self.watermark {
            Some(w) if w >= hit.time => w,
            _ => hit.time,
        };
        self.watermark = Some(now);
        self.sweep(Some(now), &mut out);
        let Some(routes) = self.routes.get(&hit.rule).cloned() else {
            return out;
        };
        let mut fired = Vec::new();
        for pos in routes {
            let spec = &self.specs[pos];
            let Some(input) = spec.inputs.get(&hit.rule).filter(|i| !i.derived) else {
                continue;
            };
            let mut ctx = Ctx {
                options: &self.options,
                stats: &mut self.stats,
                seq: &mut self.seq,
            };
            match (&spec.body, &mut self.states[pos]) {
                (SpecBody::Near { .. }, State::Near(st)) => {
                    st.apply(spec, hit, now, &mut ctx, &mut fired);
                }
                (SpecBody::Window { agg, .. }, State::Window(st)) => {
                    if !hit.matched {
                        continue;
                    }
                    let value = |s: &Source| match s {
                        Source::Value(i) => hit.values.get(*i).cloned().flatten(),
                        Source::Group(_) => None,
                    };
                    let key: Box<[Option<String>]> = input.group.iter().map(value).collect();
                    let fields: Vec<Option<String>> = input.field.iter().map(value).collect();
                    let Some(datum) = Datum::make(*agg, fields, ctx.stats) else {
                        continue;
                    };
                    let entry = Entry {
                        time: hit.time,
                        seq: ctx.next_seq(),
                        rule: hit.rule,
                        datum,
                        events: Events::One(hit.event),
                    };
                    st.apply(spec, key, entry, now, &mut ctx, &mut fired);
                }
                _ => {}
            }
            let batch = fired.drain(..).map(|d| (pos, d)).collect();
            self.deliver(batch, now, &mut out);
        }
        out
    }

    /// Move the stream's time forward without a hit (for live input that went quiet): windows
    /// that closed before `time` are decided.
    pub fn advance(&mut self, time: i64) -> Vec<CorrelationDetection> {
        let mut out = Vec::new();
        if self.watermark.is_none_or(|w| time > w) {
            self.watermark = Some(time);
        }
        if let Some(w) = self.watermark {
            self.sweep(Some(w), &mut out);
        }
        out
    }

    /// End of input: decide every open window with what it holds, drop all state.
    pub fn finish(&mut self) -> Vec<CorrelationDetection> {
        let mut out = Vec::new();
        self.sweep(None, &mut out);
        out
    }

    /// Act on every deadline before `limit` (all of them with `None`), earliest first.
    fn sweep(&mut self, limit: Option<i64>, out: &mut Vec<CorrelationDetection>) {
        loop {
            let mut best: Option<(i64, usize, u64)> = None;
            for (pos, st) in self.states.iter().enumerate() {
                if let Some((d, s)) = st.first_timer()
                    && limit.is_none_or(|l| d < l)
                    && best.is_none_or(|b| (d, pos, s) < b)
                {
                    best = Some((d, pos, s));
                }
            }
            let Some((deadline, pos, seq)) = best else {
                return;
            };
            // Decisions happen the moment the stream's time passes the deadline.
            let now = deadline.saturating_add(1);
            let spec = &self.specs[pos];
            let mut ctx = Ctx {
                options: &self.options,
                stats: &mut self.stats,
                seq: &mut self.seq,
            };
            let mut fired = Vec::new();
            match &mut self.states[pos] {
                State::Window(st) => st.expire(spec, deadline, seq, &mut ctx, &mut fired),
                State::Near(st) => st.expire(spec, deadline, seq, &mut ctx, &mut fired),
            }
            let batch = fired.into_iter().map(|d| (pos, d)).collect();
            self.deliver(batch, now, out);
        }
    }

    /// Report detections (unless suppressed) and feed them to the correlations that refer to
    /// their rule, breadth first.
    fn deliver(
        &mut self,
        fired: Vec<(usize, CorrelationDetection)>,
        now: i64,
        out: &mut Vec<CorrelationDetection>,
    ) {
        let mut queue: VecDeque<(usize, CorrelationDetection)> = fired.into();
        while let Some((from, det)) = queue.pop_front() {
            if let Some(routes) = self.routes.get(&det.rule) {
                let shared: Arc<[EventRef]> = det.events.clone().into();
                for &pos in routes {
                    let spec = &self.specs[pos];
                    let Some(input) = spec.inputs.get(&det.rule).filter(|i| i.derived) else {
                        continue;
                    };
                    let State::Window(st) = &mut self.states[pos] else {
                        continue;
                    };
                    let SpecBody::Window { agg, .. } = &spec.body else {
                        continue;
                    };
                    let mut ctx = Ctx {
                        options: &self.options,
                        stats: &mut self.stats,
                        seq: &mut self.seq,
                    };
                    let value = |s: &Source| match s {
                        Source::Group(name) => det
                            .group
                            .iter()
                            .find(|(n, _)| n == name)
                            .and_then(|(_, v)| v.clone()),
                        Source::Value(_) => None,
                    };
                    let key: Box<[Option<String>]> = input.group.iter().map(value).collect();
                    let fields: Vec<Option<String>> = input.field.iter().map(value).collect();
                    let Some(datum) = Datum::make(*agg, fields, ctx.stats) else {
                        continue;
                    };
                    let entry = Entry {
                        time: det.last,
                        seq: ctx.next_seq(),
                        rule: det.rule,
                        datum,
                        events: Events::Many(shared.clone(), det.event_count),
                    };
                    let mut more = Vec::new();
                    st.apply(spec, key, entry, now, &mut ctx, &mut more);
                    queue.extend(more.into_iter().map(|d| (pos, d)));
                }
            }
            if self.specs[from].emit {
                out.push(det);
            } else {
                self.stats.suppressed_detections += 1;
            }
        }
    }
}
