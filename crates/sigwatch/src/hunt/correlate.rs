//! Feeding collected hits to the correlator in event-time order.
//!
//! Hits of the rules that feed correlations are collected per file while reading (in record
//! order). After reading, each file's hits are sorted by event time (stable: equal times keep
//! record order) and the files are merged by time (equal times: file order), so the correlator
//! sees one stream in time order whatever order the files and their records were in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use engine::correlation::{CorrelationDetection, Correlator, EventRef, Hit};

use super::PendingHit;

/// Runs every hit through `correlator` and ends the input; returns the detections in the order
/// they were made.
pub fn run(
    correlator: &mut Correlator,
    mut per_file: Vec<Vec<PendingHit>>,
) -> Vec<CorrelationDetection> {
    for hits in &mut per_file {
        hits.sort_by_key(|h| h.time);
    }
    let mut heap: BinaryHeap<Reverse<(i64, usize, usize)>> = BinaryHeap::new();
    for (file, hits) in per_file.iter().enumerate() {
        if let Some(first) = hits.first() {
            heap.push(Reverse((first.time, file, 0)));
        }
    }
    let mut out = Vec::new();
    while let Some(Reverse((_, file, i))) = heap.pop() {
        let Some(hit) = per_file.get_mut(file).and_then(|h| h.get_mut(i)) else {
            continue;
        };
        let values = std::mem::take(&mut hit.values);
        let event = EventRef::new(u32::try_from(file).unwrap_or(u32::MAX), hit.record);
        let hit = match hit.near {
            Some((matched, selections)) => {
                Hit::near(hit.rule, hit.time, matched, selections, event)
            }
            None => Hit::new(hit.rule, hit.time, values, event),
        };
        out.extend(correlator.process(&hit));
        if let Some(next) = per_file[file].get(i + 1) {
            heap.push(Reverse((next.time, file, i + 1)));
        }
    }
    out.extend(correlator.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigma::ruleset::RuleSet;

    fn set(texts: &[&str]) -> RuleSet {
        let mut rules = Vec::new();
        for t in texts {
            let loaded = sigma::load_str(t, "t.yml");
            assert!(
                loaded.diagnostics.iter().all(|d| !d.is_error()),
                "{:?}",
                loaded.diagnostics
            );
            rules.extend(loaded.rules);
        }
        RuleSet::new(rules)
    }

    const BASE: &str = "title: base\nid: 00000000-0000-4000-8000-000000000001\nname: base\nlogsource: {product: windows}\ndetection:\n  sel: {EventID: 1}\n  condition: sel\n";
    const COUNT: &str = "title: burst\ncorrelation:\n  type: event_count\n  rules: [base]\n  group-by: [User]\n  timespan: 10s\n  condition: {gte: 3}\n";

    fn hit(time: i64, record: u64, user: &str) -> PendingHit {
        PendingHit {
            rule: 0,
            time,
            values: vec![Some(user.to_owned())],
            record,
            near: None,
        }
    }

    #[test]
    fn files_out_of_order_are_merged_by_time() {
        let set = set(&[BASE, COUNT]);
        let mut c = Correlator::new(&set);
        assert_eq!(
            c.inputs(0).map(|i| i.fields.clone()),
            Some(vec!["User".to_owned()])
        );
        // File 0 is written newest first; file 1 holds the middle event. In time order the
        // three events fall within 10 s: one detection.
        let per_file = vec![
            vec![hit(20_000, 1, "bob"), hit(12_000, 2, "bob")],
            vec![hit(15_000, 7, "bob")],
        ];
        let dets = run(&mut c, per_file);
        assert_eq!(dets.len(), 1, "{dets:?}");
        assert_eq!(dets[0].event_count, 3);
        assert_eq!(
            dets[0].events,
            vec![
                EventRef::new(0, 2),
                EventRef::new(1, 7),
                EventRef::new(0, 1)
            ]
        );
    }

    #[test]
    fn groups_and_window_edges() {
        let set = set(&[BASE, COUNT]);
        let mut c = Correlator::new(&set);
        // bob: hits at 0 s, 10 s and 10 s are within the 10 s window (both ends included);
        // alice has two hits 20 s apart.
        let per_file = vec![vec![
            hit(0, 1, "bob"),
            hit(10_000, 2, "bob"),
            hit(10_000, 3, "alice"),
            hit(10_000, 4, "bob"),
            hit(30_000, 5, "alice"),
        ]];
        let dets = run(&mut c, per_file);
        assert_eq!(dets.len(), 1, "{dets:?}");
        assert_eq!(
            dets[0].group,
            vec![("User".to_owned(), Some("bob".to_owned()))]
        );
    }
}
