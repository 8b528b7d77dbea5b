//! Legacy `condition | near a and not b`: anchors (events matching the condition) open a window
//! of `timeframe`; the window needs every positive identifier and no negated one.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::compile::{Spec, SpecBody};
use super::{CorrelationDetection, Ctx, EventRef, Hit};

#[derive(Debug)]
struct Anchor {
    start: i64,
    last: i64,
    /// Positive identifiers seen.
    seen: u64,
    /// A negated identifier was seen.
    negated: bool,
    events: Vec<EventRef>,
    total: u64,
}

impl Anchor {
    fn absorb(
        &mut self,
        time: i64,
        mask: u64,
        positive: u64,
        negative: u64,
        event: EventRef,
        cap: usize,
    ) {
        self.seen |= mask & positive;
        self.negated |= mask & negative != 0;
        self.last = self.last.max(time);
        if self.events.len() < cap {
            self.events.push(event);
        }
        self.total += 1;
    }
}

/// A recent event that matched some near identifier, kept for anchors that arrive after it with
/// the same or an earlier time.
#[derive(Debug)]
struct Mark {
    time: i64,
    seq: u64,
    mask: u64,
    event: EventRef,
}

#[derive(Debug, Default)]
pub(crate) struct NearState {
    anchors: HashMap<u64, Anchor>,
    /// Sorted by (time, seq); only the last `timeframe` of stream time.
    buffer: VecDeque<Mark>,
    /// (start + timeframe, anchor id).
    pub timers: BTreeSet<(i64, u64)>,
}

impl NearState {
    pub fn live(&self) -> usize {
        self.anchors.len()
    }

    pub fn apply(
        &mut self,
        spec: &Spec,
        hit: &Hit,
        now: i64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<CorrelationDetection>,
    ) {
        let SpecBody::Near {
            window,
            positive,
            negative,
        } = spec.body
        else {
            return;
        };
        let t = hit.time;
        let relevant = hit.selections & (positive | negative);
        if !hit.matched && relevant == 0 {
            return;
        }
        let cap = ctx.options.max_events;
        let late = t < now.saturating_sub(window);
        if late {
            ctx.stats.late_hits += 1;
        }
        let mut used = false;
        if relevant != 0 {
            for a in self.anchors.values_mut() {
                if a.start <= t && t <= a.start.saturating_add(window) {
                    a.absorb(t, relevant, positive, negative, hit.event, cap);
                    used = true;
                }
            }
            if !late {
                let mark = Mark {
                    time: t,
                    seq: ctx.next_seq(),
                    mask: relevant,
                    event: hit.event,
                };
                let at = self
                    .buffer
                    .partition_point(|m| (m.time, m.seq) <= (mark.time, mark.seq));
                self.buffer.insert(at, mark);
            }
            let floor = now.saturating_sub(window);
            while self.buffer.front().is_some_and(|m| m.time < floor) {
                self.buffer.pop_front();
            }
            while self.buffer.len() > ctx.options.max_window_hits {
                self.buffer.pop_front();
                ctx.stats.trimmed_hits += 1;
            }
        }
        // Without a timeframe and negations, an earlier open anchor sees all a later one would.
        let dominated =
            window == i64::MAX && negative == 0 && self.anchors.values().any(|a| a.start <= t);
        if hit.matched && !dominated {
            if late {
                ctx.stats.dropped_hits += 1;
            } else {
                if self.anchors.len() >= ctx.options.max_groups
                    && let Some(&(d, oldest)) = self.timers.first()
                {
                    self.timers.remove(&(d, oldest));
                    self.anchors.remove(&oldest);
                    ctx.stats.evicted_groups += 1;
                }
                let mut a = Anchor {
                    start: t,
                    last: t,
                    seen: 0,
                    negated: false,
                    events: Vec::new(),
                    total: 0,
                };
                if relevant == 0 {
                    a.absorb(t, 0, positive, negative, hit.event, cap);
                }
                // Events at or after the anchor's time that arrived before it (its own included).
                let end = t.saturating_add(window);
                for m in self.buffer.iter().filter(|m| m.time >= t && m.time <= end) {
                    a.absorb(m.time, m.mask, positive, negative, m.event, cap);
                }
                let id = ctx.next_seq();
                self.timers.insert((end, id));
                self.anchors.insert(id, a);
            }
        } else if !hit.matched && late && !used {
            ctx.stats.dropped_hits += 1;
        }
        // Without negated identifiers, fire as soon as an anchor has seen all positive ones.
        if negative == 0 && positive != 0 {
            let done = self
                .timers
                .iter()
                .find(|(_, id)| {
                    self.anchors
                        .get(id)
                        .is_some_and(|a| a.seen & positive == positive)
                })
                .map(|(_, id)| *id);
            if let Some(id) = done
                && let Some(a) = self.anchors.remove(&id)
            {
                out.push(detection(spec, a, positive));
                // One burst, one detection: start over.
                self.anchors.clear();
                self.timers.clear();
                self.buffer.clear();
            }
        }
    }

    /// An anchor's window closed: decide it (rules with negated identifiers).
    pub fn expire(
        &mut self,
        spec: &Spec,
        deadline: i64,
        id: u64,
        _ctx: &mut Ctx<'_>,
        out: &mut Vec<CorrelationDetection>,
    ) {
        self.timers.remove(&(deadline, id));
        let Some(a) = self.anchors.remove(&id) else {
            return;
        };
        let SpecBody::Near {
            window, positive, ..
        } = spec.body
        else {
            return;
        };
        if a.seen & positive == positive && !a.negated {
            // Anchors whose windows overlap the detected one start over.
            let end = a.start.saturating_add(window);
            let limit = end.saturating_add(window);
            let overlapping: Vec<(i64, u64)> = self
                .timers
                .iter()
                .take_while(|(d, _)| *d <= limit)
                .copied()
                .collect();
            for (d, other) in overlapping {
                self.timers.remove(&(d, other));
                self.anchors.remove(&other);
            }
            self.buffer.retain(|m| m.time > end);
            out.push(detection(spec, a, positive));
        }
    }
}

fn detection(spec: &Spec, a: Anchor, positive: u64) -> CorrelationDetection {
    CorrelationDetection {
        rule: spec.rule,
        kind: spec.kind,
        group: Vec::new(),
        value: f64::from((a.seen & positive).count_ones()),
        first: a.start,
        last: a.last,
        rules: vec![spec.rule],
        events: a.events,
        event_count: a.total,
    }
}
