//! Windows of the Sigma correlation types and legacy aggregations: per-group hit lists kept in
//! time order, incremental aggregates, firing and closing.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use super::compile::{Agg, Mode, Spec, SpecBody};
use super::{CorrelationDetection, Ctx, EventRef, Stats};

/// The events behind one hit: one event, or the events of an inner correlation's detection.
#[derive(Debug, Clone)]
pub(crate) enum Events {
    One(EventRef),
    /// Listed events and the total behind them.
    Many(Arc<[EventRef]>, u64),
}

impl Events {
    fn total(&self) -> u64 {
        match self {
            Events::One(_) => 1,
            Events::Many(_, n) => *n,
        }
    }

    fn listed(&self) -> &[EventRef] {
        match self {
            Events::One(e) => std::slice::from_ref(e),
            Events::Many(v, _) => v,
        }
    }
}

/// The value a hit contributes to the aggregate.
#[derive(Debug, Clone)]
pub(crate) enum Datum {
    None,
    Num(f64),
    Key(Box<[String]>),
}

impl Datum {
    /// The datum of a hit for an aggregate, or `None` when the hit does not count (missing or
    /// non-numeric value; counted in the stats).
    pub fn make(agg: Agg, fields: Vec<Option<String>>, stats: &mut Stats) -> Option<Datum> {
        if agg.keyed() {
            let key: Option<Box<[String]>> = fields.into_iter().collect();
            match key {
                Some(k) => Some(Datum::Key(k)),
                None => {
                    stats.missing_values += 1;
                    None
                }
            }
        } else if agg.numeric() {
            let Some(Some(text)) = fields.into_iter().next() else {
                stats.missing_values += 1;
                return None;
            };
            match text.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Some(Datum::Num(n)),
                _ => {
                    stats.non_numeric_values += 1;
                    None
                }
            }
        } else {
            Some(Datum::None)
        }
    }

    fn num(&self) -> Option<f64> {
        match self {
            Datum::Num(n) => Some(*n),
            _ => None,
        }
    }
}

/// One hit in a window.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub time: i64,
    /// Arrival order: breaks ties between equal times.
    pub seq: u64,
    /// The referenced rule (base rule or inner correlation).
    pub rule: usize,
    pub datum: Datum,
    pub events: Events,
}

/// An in-order chain of temporal_ordered hits matching a prefix of the sequence.
#[derive(Debug, Clone)]
struct Chain {
    start: i64,
    end: i64,
    links: Vec<Entry>,
}

#[derive(Debug)]
struct Group {
    key: Box<[Option<String>]>,
    /// Sorted by (time, seq).
    items: VecDeque<Entry>,
    /// Window start (close mode).
    start: i64,
    latest: i64,
    deadline: i64,
    /// Distinct / percentile: hits per value.
    counts: HashMap<Box<[String]>, u32>,
    /// Temporal: hits per rule.
    rules: HashMap<usize, u32>,
    /// Sum of non-integer values (float; drifts a little as values leave the window).
    sum: f64,
    /// Sum of integer values, exact.
    int_sum: i128,
    /// How many values in the window are not integers.
    inexact: usize,
    /// temporal_ordered: best chain (latest start) per prefix length − 1.
    chains: Vec<Option<Chain>>,
    chains_stale: bool,
}

impl Group {
    fn new(key: Box<[Option<String>]>, time: i64) -> Self {
        Group {
            key,
            items: VecDeque::new(),
            start: time,
            latest: time,
            deadline: time,
            counts: HashMap::new(),
            rules: HashMap::new(),
            sum: 0.0,
            int_sum: 0,
            inexact: 0,
            chains: Vec::new(),
            chains_stale: false,
        }
    }

    fn insert(&mut self, agg: Agg, sequence: &[usize], span: Option<i64>, entry: Entry) {
        match (agg, &entry.datum) {
            (Agg::Distinct | Agg::Percentile, Datum::Key(k)) => {
                *self.counts.entry(k.clone()).or_insert(0) += 1;
            }
            (Agg::Sum | Agg::Avg, Datum::Num(n)) => match as_int(*n) {
                Some(i) => self.int_sum += i,
                None => {
                    self.sum += n;
                    self.inexact += 1;
                }
            },
            (Agg::Temporal, _) => *self.rules.entry(entry.rule).or_insert(0) += 1,
            _ => {}
        }
        self.latest = self.latest.max(entry.time);
        let in_order = self
            .items
            .back()
            .is_none_or(|b| (b.time, b.seq) <= (entry.time, entry.seq));
        if agg == Agg::Ordered {
            if in_order && !self.chains_stale {
                if self.chains.len() != sequence.len() {
                    self.chains = vec![None; sequence.len()];
                }
                step(&mut self.chains, sequence, span, &entry);
            } else {
                self.chains_stale = true;
            }
        }
        if in_order {
            self.items.push_back(entry);
        } else {
            let at = self
                .items
                .partition_point(|e| (e.time, e.seq) <= (entry.time, entry.seq));
            self.items.insert(at, entry);
        }
    }

    fn pop_front(&mut self, agg: Agg) {
        let Some(e) = self.items.pop_front() else {
            return;
        };
        match (agg, &e.datum) {
            (Agg::Distinct | Agg::Percentile, Datum::Key(k)) => {
                if let Some(c) = self.counts.get_mut(k) {
                    *c -= 1;
                    if *c == 0 {
                        self.counts.remove(k);
                    }
                }
            }
            (Agg::Sum | Agg::Avg, Datum::Num(n)) => match as_int(*n) {
                Some(i) => self.int_sum -= i,
                None => {
                    self.sum -= n;
                    self.inexact -= 1;
                    if self.inexact == 0 {
                        self.sum = 0.0;
                    }
                }
            },
            (Agg::Temporal, _) => {
                if let Some(c) = self.rules.get_mut(&e.rule) {
                    *c -= 1;
                    if *c == 0 {
                        self.rules.remove(&e.rule);
                    }
                }
            }
            _ => {}
        }
    }

    fn total(&self) -> f64 {
        self.int_sum as f64 + self.sum
    }

    /// Oldest start a temporal_ordered chain may have to lie in the current window.
    fn floor(&self, mode: Mode) -> i64 {
        match mode {
            Mode::Sliding(span) => self.latest.saturating_sub(span),
            Mode::Close(_) => i64::MIN,
        }
    }

    /// Longest valid prefix of the sequence (temporal_ordered).
    fn ordered_len(&mut self, sequence: &[usize], mode: Mode) -> usize {
        if self.chains_stale || self.chains.len() != sequence.len() {
            let span = match mode {
                Mode::Sliding(s) => Some(s),
                Mode::Close(s) => s,
            };
            self.chains = vec![None; sequence.len()];
            for e in &self.items {
                step(&mut self.chains, sequence, span, e);
            }
            self.chains_stale = false;
        }
        let floor = self.floor(mode);
        self.chains
            .iter()
            .take_while(|c| c.as_ref().is_some_and(|c| c.start >= floor))
            .count()
    }

    /// The aggregated number, `None` when there is nothing to aggregate.
    fn value(&mut self, agg: Agg, sequence: &[usize], mode: Mode) -> Option<f64> {
        let n = self.items.len();
        if n == 0 {
            return None;
        }
        let nums = || self.items.iter().filter_map(|e| e.datum.num());
        Some(match agg {
            Agg::Count => n as f64,
            Agg::Distinct => self.counts.len() as f64,
            Agg::Sum => self.total(),
            Agg::Avg => self.total() / n as f64,
            Agg::Min => nums().fold(f64::INFINITY, f64::min),
            Agg::Max => nums().fold(f64::NEG_INFINITY, f64::max),
            Agg::Temporal => self.rules.len() as f64,
            Agg::Ordered => self.ordered_len(sequence, mode) as f64,
            // Decided per value at close.
            Agg::Percentile => return None,
        })
    }

    /// The entries that explain a detection.
    fn evidence(&self, agg: Agg, ordered_len: usize) -> Vec<&Entry> {
        match agg {
            Agg::Temporal => {
                // The last hit of each rule, in time order.
                let mut seen = BTreeSet::new();
                let mut v: Vec<&Entry> = self
                    .items
                    .iter()
                    .rev()
                    .filter(|e| seen.insert(e.rule))
                    .collect();
                v.reverse();
                v
            }
            Agg::Ordered => match ordered_len.checked_sub(1).and_then(|i| self.chains.get(i)) {
                Some(Some(c)) => c.links.iter().collect(),
                _ => self.items.iter().collect(),
            },
            _ => self.items.iter().collect(),
        }
    }
}

/// An integral value that f64 represents exactly, as an integer (exact sums).
fn as_int(n: f64) -> Option<i128> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (n.fract() == 0.0 && n.abs() <= EXACT).then_some(n as i128)
}

/// Extend the temporal_ordered chains with one hit (hits must come in (time, seq) order).
fn step(chains: &mut [Option<Chain>], sequence: &[usize], span: Option<i64>, e: &Entry) {
    // Back to front, so that one hit never fills two positions of the same chain.
    for j in (0..sequence.len()).rev() {
        if sequence[j] != e.rule {
            continue;
        }
        let candidate = if j == 0 {
            Some(Chain {
                start: e.time,
                end: e.time,
                links: vec![e.clone()],
            })
        } else {
            match &chains[j - 1] {
                Some(p)
                    if p.end <= e.time
                        && span.is_none_or(|s| e.time.saturating_sub(p.start) <= s) =>
                {
                    let mut c = p.clone();
                    c.end = e.time;
                    c.links.push(e.clone());
                    Some(c)
                }
                _ => None,
            }
        };
        if let Some(c) = candidate
            && chains[j].as_ref().is_none_or(|b| c.start >= b.start)
        {
            chains[j] = Some(c);
        }
    }
}

/// All groups of one correlation.
#[derive(Debug, Default)]
pub(crate) struct WindowState {
    groups: HashMap<u64, Group>,
    index: HashMap<Box<[Option<String>]>, u64>,
    /// (deadline, group id): sliding groups expire, close-mode windows are decided.
    pub timers: BTreeSet<(i64, u64)>,
}

struct Params<'a> {
    agg: Agg,
    mode: Mode,
    sequence: &'a [usize],
}

fn params(spec: &Spec) -> Option<Params<'_>> {
    match &spec.body {
        SpecBody::Window {
            agg,
            mode,
            sequence,
            ..
        } => Some(Params {
            agg: *agg,
            mode: *mode,
            sequence,
        }),
        SpecBody::Near { .. } => None,
    }
}

impl WindowState {
    pub fn live(&self) -> usize {
        self.groups.len()
    }

    fn remove(&mut self, id: u64) -> Option<Group> {
        let g = self.groups.remove(&id)?;
        self.timers.remove(&(g.deadline, id));
        self.index.remove(&g.key);
        Some(g)
    }

    /// Apply one hit of group `key` at stream time `now`.
    pub fn apply(
        &mut self,
        spec: &Spec,
        key: Box<[Option<String>]>,
        entry: Entry,
        now: i64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<CorrelationDetection>,
    ) {
        let Some(p) = params(spec) else {
            return;
        };
        let span = match p.mode {
            Mode::Sliding(s) => Some(s),
            Mode::Close(s) => s,
        };
        let late = span.is_some_and(|s| entry.time < now.saturating_sub(s));
        if late {
            ctx.stats.late_hits += 1;
        }
        let id = match self.index.get(&key) {
            Some(&id) => id,
            None => {
                if late {
                    // Its window has passed and nothing of it is left.
                    ctx.stats.dropped_hits += 1;
                    return;
                }
                if self.groups.len() >= ctx.options.max_groups
                    && let Some(&(_, oldest)) = self.timers.first()
                {
                    self.remove(oldest);
                    ctx.stats.evicted_groups += 1;
                }
                let id = ctx.next_seq();
                let mut g = Group::new(key.clone(), entry.time);
                g.deadline = span.map_or(i64::MAX, |s| entry.time.saturating_add(s));
                self.timers.insert((g.deadline, id));
                self.groups.insert(id, g);
                self.index.insert(key, id);
                id
            }
        };
        let Some(g) = self.groups.get_mut(&id) else {
            return;
        };
        let old_deadline = g.deadline;
        match p.mode {
            Mode::Sliding(s) => {
                if entry.time < g.latest.saturating_sub(s) {
                    ctx.stats.dropped_hits += 1;
                    return;
                }
            }
            Mode::Close(s) => {
                if entry.time < g.start {
                    // Out of order: the window starts earlier if everything still fits.
                    if s.is_none_or(|s| g.latest <= entry.time.saturating_add(s)) {
                        g.start = entry.time;
                        g.deadline = s.map_or(i64::MAX, |s| g.start.saturating_add(s));
                    } else {
                        ctx.stats.dropped_hits += 1;
                        return;
                    }
                }
            }
        }
        g.insert(p.agg, p.sequence, span, entry);
        if let Mode::Sliding(s) = p.mode {
            let floor = g.latest.saturating_sub(s);
            while g.items.front().is_some_and(|e| e.time < floor) {
                g.pop_front(p.agg);
            }
            g.deadline = g.latest.saturating_add(s);
        }
        while g.items.len() > ctx.options.max_window_hits {
            g.pop_front(p.agg);
            g.chains_stale = true;
            ctx.stats.trimmed_hits += 1;
        }
        if g.deadline != old_deadline {
            self.timers.remove(&(old_deadline, id));
            self.timers.insert((g.deadline, id));
        }
        if let Mode::Sliding(_) = p.mode
            && let Some(v) = g.value(p.agg, p.sequence, p.mode)
            && spec.holds(v)
        {
            let det = detection(spec, g, p.agg, v, ctx.options.max_events);
            out.push(det);
            self.remove(id);
        }
    }

    /// A timer fired: sliding groups expire; close-mode windows are decided.
    pub fn expire(
        &mut self,
        spec: &Spec,
        deadline: i64,
        id: u64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<CorrelationDetection>,
    ) {
        // The timer is consumed whatever happens, so that sweeping always makes progress.
        self.timers.remove(&(deadline, id));
        let Some(p) = params(spec) else {
            return;
        };
        if self.groups.get(&id).is_none_or(|g| g.deadline != deadline) {
            return;
        }
        let Some(mut g) = self.remove(id) else {
            return;
        };
        if let Mode::Sliding(_) = p.mode {
            return;
        }
        if p.agg == Agg::Percentile {
            percentile(spec, &g, ctx.options.max_events, out);
            return;
        }
        if let Some(v) = g.value(p.agg, p.sequence, p.mode)
            && spec.holds(v)
        {
            out.push(detection(spec, &mut g, p.agg, v, ctx.options.max_events));
        }
    }
}

fn group_of(spec: &Spec, key: &[Option<String>]) -> Vec<(String, Option<String>)> {
    spec.group_names
        .iter()
        .cloned()
        .zip(key.iter().cloned())
        .collect()
}

/// Build a detection from entries: events (capped), rules, first/last.
fn build(
    spec: &Spec,
    group: Vec<(String, Option<String>)>,
    value: f64,
    evidence: &[&Entry],
    event_count: u64,
    max_events: usize,
) -> CorrelationDetection {
    let mut events = Vec::new();
    for e in evidence {
        let room = max_events.saturating_sub(events.len());
        if room == 0 {
            break;
        }
        events.extend(e.events.listed().iter().take(room));
    }
    let mut rules: Vec<usize> = evidence.iter().map(|e| e.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    CorrelationDetection {
        rule: spec.rule,
        kind: spec.kind,
        group,
        value,
        first: evidence.iter().map(|e| e.time).min().unwrap_or(0),
        last: evidence.iter().map(|e| e.time).max().unwrap_or(0),
        rules,
        events,
        event_count,
    }
}

fn detection(
    spec: &Spec,
    g: &mut Group,
    agg: Agg,
    value: f64,
    max_events: usize,
) -> CorrelationDetection {
    let ordered_len = value as usize;
    let evidence = g.evidence(agg, ordered_len);
    let total = g.items.iter().map(|e| e.events.total()).sum();
    build(
        spec,
        group_of(spec, &g.key),
        value,
        &evidence,
        total,
        max_events,
    )
}

/// value_percentile at window close: one detection per value whose share meets the condition.
fn percentile(spec: &Spec, g: &Group, max_events: usize, out: &mut Vec<CorrelationDetection>) {
    let total = g.items.len();
    if total == 0 {
        return;
    }
    let mut values: Vec<(&Box<[String]>, &u32)> = g.counts.iter().collect();
    values.sort();
    for (k, &n) in values {
        let share = 100.0 * f64::from(n) / total as f64;
        if !spec.holds(share) {
            continue;
        }
        let evidence: Vec<&Entry> = g
            .items
            .iter()
            .filter(|e| matches!(&e.datum, Datum::Key(x) if x == k))
            .collect();
        let mut group = group_of(spec, &g.key);
        group.extend(
            spec.field_names
                .iter()
                .cloned()
                .zip(k.iter().map(|v| Some(v.clone()))),
        );
        let count = evidence.iter().map(|e| e.events.total()).sum();
        out.push(build(spec, group, share, &evidence, count, max_events));
    }
}
