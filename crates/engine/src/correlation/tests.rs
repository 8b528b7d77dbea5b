//! Hand-built timed hit sequences for every correlation type and the legacy conditions.

use sigma::ruleset::RuleSet;

use super::*;

const S: i64 = 1000;

fn load(yaml: &str) -> RuleSet {
    let f = sigma::load_str(yaml, "test.yml");
    let errors: Vec<_> = f.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    RuleSet::new(f.rules)
}

/// A base detection rule named `name` (the selection itself does not matter here).
fn base(name: &str) -> String {
    format!(
        "title: {name}\nname: {name}\nlogsource:\n    product: test\ndetection:\n    sel:\n        EventID: 1\n    condition: sel\n---\n"
    )
}

fn correlation(name: &str, body: &str) -> String {
    format!("title: {name}\nname: {name}\ncorrelation:\n{body}\n---\n")
}

struct Run {
    set: RuleSet,
    c: Correlator,
    out: Vec<CorrelationDetection>,
    record: u64,
}

impl Run {
    fn new(yaml: &str) -> Run {
        Run::with(yaml, Options::default())
    }

    fn with(yaml: &str, options: Options) -> Run {
        let set = load(yaml);
        let c = Correlator::with_options(&set, options);
        assert!(c.errors().is_empty(), "{:?}", c.errors());
        Run {
            set,
            c,
            out: Vec::new(),
            record: 0,
        }
    }

    fn rule(&self, name: &str) -> usize {
        self.set.lookup(name).expect("rule in set")
    }

    /// Feed a hit of rule `name` at `time` with the given field values; returns its event.
    fn hit(&mut self, name: &str, time: i64, fields: &[(&str, &str)]) -> EventRef {
        let rule = self.rule(name);
        let inputs = self
            .c
            .inputs(rule)
            .expect("rule feeds a correlation")
            .clone();
        let values = inputs
            .fields
            .iter()
            .map(|f| {
                fields
                    .iter()
                    .find(|(k, _)| k == f)
                    .map(|(_, v)| v.to_string())
            })
            .collect();
        self.record += 1;
        let event = EventRef::new(0, self.record);
        let got = self.c.process(&Hit::new(rule, time, values, event));
        self.out.extend(got);
        event
    }

    fn near(&mut self, name: &str, time: i64, matched: bool, sels: &[&str]) -> EventRef {
        let rule = self.rule(name);
        let inputs = self.c.inputs(rule).expect("near rule").clone();
        let mut mask = 0u64;
        for s in sels {
            let i = inputs
                .selections
                .iter()
                .position(|x| x == s)
                .expect("near selection");
            mask |= 1 << i;
        }
        self.record += 1;
        let event = EventRef::new(0, self.record);
        let got = self.c.process(&Hit::near(rule, time, matched, mask, event));
        self.out.extend(got);
        event
    }

    fn finish(&mut self) -> &[CorrelationDetection] {
        let got = self.c.finish();
        self.out.extend(got);
        &self.out
    }
}

fn group(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect()
}

fn event_count(cond: &str, span: &str) -> String {
    base("a")
        + &correlation(
            "ec",
            &format!(
                "    type: event_count\n    rules: [a]\n    group-by: [User]\n    timespan: {span}\n    condition:\n        {cond}"
            ),
        )
}

#[test]
fn window_edge_exactly_timespan_apart_is_inside() {
    let mut r = Run::new(&event_count("gte: 3", "10s"));
    r.hit("a", 0, &[("User", "u")]);
    r.hit("a", 5 * S, &[("User", "u")]);
    assert!(r.out.is_empty());
    r.hit("a", 10 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    let d = &r.out[0];
    assert_eq!(d.value, 3.0);
    assert_eq!((d.first, d.last), (0, 10 * S));
    assert_eq!(d.group, group(&[("User", Some("u"))]));
    assert_eq!(d.kind.as_str(), "event_count");
    assert_eq!(d.rules, vec![r.rule("a")]);
    assert_eq!(d.events.len(), 3);
    assert_eq!(d.event_count, 3);
}

#[test]
fn window_edge_one_millisecond_more_is_outside() {
    let mut r = Run::new(&event_count("gte: 3", "10s"));
    r.hit("a", 0, &[("User", "u")]);
    r.hit("a", 5 * S, &[("User", "u")]);
    r.hit("a", 10 * S + 1, &[("User", "u")]);
    assert!(r.out.is_empty());
    // The window is now 5s..10.001s: one more inside fires.
    r.hit("a", 15 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!((r.out[0].first, r.out[0].last), (5 * S, 15 * S));
    assert!(r.finish().len() == 1);
}

#[test]
fn group_by_separates_and_missing_value_is_a_group() {
    let mut r = Run::new(&event_count("gte: 2", "1m"));
    r.hit("a", 0, &[("User", "alice")]);
    r.hit("a", S, &[("User", "bob")]);
    r.hit("a", 2 * S, &[]);
    assert!(r.out.is_empty());
    r.hit("a", 3 * S, &[("User", "bob")]);
    r.hit("a", 4 * S, &[]);
    let groups: Vec<_> = r.out.iter().map(|d| d.group.clone()).collect();
    assert_eq!(
        groups,
        vec![group(&[("User", Some("bob"))]), group(&[("User", None)])]
    );
}

#[test]
fn one_burst_one_detection_then_restart() {
    let mut r = Run::new(&event_count("gte: 3", "1m"));
    for i in 0..7 {
        r.hit("a", i * S, &[("User", "u")]);
    }
    // Hits 1-3 fire, the window restarts, hits 4-6 fire; hit 7 waits.
    assert_eq!(r.out.len(), 2);
    assert_eq!((r.out[1].first, r.out[1].last), (3 * S, 5 * S));
    assert!(r.finish().len() == 2);
}

#[test]
fn gt_is_strict() {
    let mut r = Run::new(&event_count("gt: 2", "1m"));
    r.hit("a", 0, &[("User", "u")]);
    r.hit("a", S, &[("User", "u")]);
    assert!(r.out.is_empty());
    r.hit("a", 2 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
}

#[test]
fn lt_is_decided_when_the_window_closes() {
    let mut r = Run::new(&event_count("lt: 3", "10s"));
    r.hit("a", 0, &[("User", "few")]);
    r.hit("a", S, &[("User", "many")]);
    r.hit("a", 2 * S, &[("User", "many")]);
    r.hit("a", 3 * S, &[("User", "many")]);
    r.hit("a", 10 * S, &[("User", "few")]);
    // Nothing is decided before the window 0s..10s closes.
    assert!(r.out.is_empty());
    r.hit("a", 10 * S + 1, &[("User", "other")]);
    assert_eq!(r.out.len(), 1);
    let d = &r.out[0];
    assert_eq!(d.group, group(&[("User", Some("few"))]));
    assert_eq!(d.value, 2.0);
    assert_eq!((d.first, d.last), (0, 10 * S));
    // "many" (3 hits) closes at 11s and does not meet lt 3; "other" closes at finish.
    r.finish();
    assert_eq!(r.out.len(), 2);
    assert_eq!(r.out[1].group, group(&[("User", Some("other"))]));
}

#[test]
fn eq_neq_and_ranges_at_close() {
    for (cond, expect) in [
        ("eq: 2", vec!["two"]),
        ("neq: 2", vec!["one", "three"]),
        ("gt: 1\n        lte: 3", vec!["two", "three"]),
    ] {
        let mut r = Run::new(&event_count(cond, "1m"));
        r.hit("a", 0, &[("User", "one")]);
        r.hit("a", S, &[("User", "two")]);
        r.hit("a", 2 * S, &[("User", "two")]);
        r.hit("a", 3 * S, &[("User", "three")]);
        r.hit("a", 4 * S, &[("User", "three")]);
        r.hit("a", 5 * S, &[("User", "three")]);
        assert!(r.out.is_empty(), "{cond}: decided before the window closed");
        let got: Vec<String> = r
            .finish()
            .iter()
            .map(|d| d.group[0].1.clone().unwrap_or_default())
            .collect();
        assert_eq!(got, expect, "{cond}");
    }
}

#[test]
fn value_count_counts_distinct_values_and_tuples() {
    let yaml = base("a")
        + &correlation(
            "vc",
            "    type: value_count\n    rules: [a]\n    group-by: [Host]\n    timespan: 1h\n    condition:\n        field: User\n        gte: 3",
        );
    let mut r = Run::new(&yaml);
    for (t, u) in [(0, "x"), (1, "x"), (2, "y"), (3, "y"), (4, "x")] {
        r.hit("a", t * S, &[("Host", "h"), ("User", u)]);
    }
    assert!(r.out.is_empty());
    // A hit without the field does not count as a value.
    r.hit("a", 5 * S, &[("Host", "h")]);
    assert!(r.out.is_empty());
    assert_eq!(r.c.stats().missing_values, 1);
    r.hit("a", 6 * S, &[("Host", "h"), ("User", "z")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].value, 3.0);
    assert_eq!(r.out[0].event_count, 6);

    // Several fields: distinct tuples.
    let yaml = base("a")
        + &correlation(
            "vc",
            "    type: value_count\n    rules: [a]\n    group-by: [Host]\n    timespan: 1h\n    condition:\n        field: [User, Domain]\n        gte: 3",
        );
    let mut r = Run::new(&yaml);
    r.hit("a", 0, &[("Host", "h"), ("User", "x"), ("Domain", "d1")]);
    r.hit("a", S, &[("Host", "h"), ("User", "x"), ("Domain", "d2")]);
    r.hit(
        "a",
        2 * S,
        &[("Host", "h"), ("User", "x"), ("Domain", "d1")],
    );
    assert!(r.out.is_empty());
    r.hit(
        "a",
        3 * S,
        &[("Host", "h"), ("User", "y"), ("Domain", "d1")],
    );
    assert_eq!(r.out.len(), 1);
}

#[test]
fn aliases_group_two_rules_by_different_fields() {
    let yaml = base("internal_error")
        + &base("new_network_connection")
        + &correlation(
            "t",
            "    type: temporal\n    rules: [internal_error, new_network_connection]\n    group-by: [internal_ip, remote_ip]\n    timespan: 10s\n    aliases:\n        internal_ip:\n            internal_error: destination.ip\n            new_network_connection: source.ip\n        remote_ip:\n            internal_error: source.ip\n            new_network_connection: destination.ip",
        );
    let mut r = Run::new(&yaml);
    let ie = r.rule("internal_error");
    let nc = r.rule("new_network_connection");
    assert_eq!(
        r.c.inputs(ie).unwrap().fields,
        vec!["destination.ip", "source.ip"]
    );
    assert_eq!(
        r.c.inputs(nc).unwrap().fields,
        vec!["source.ip", "destination.ip"]
    );
    r.hit(
        "internal_error",
        0,
        &[("destination.ip", "10.0.0.1"), ("source.ip", "1.2.3.4")],
    );
    // Same addresses but not in the aliased roles: another group.
    r.hit(
        "new_network_connection",
        S,
        &[("destination.ip", "10.0.0.1"), ("source.ip", "1.2.3.4")],
    );
    assert!(r.out.is_empty());
    r.hit(
        "new_network_connection",
        2 * S,
        &[("source.ip", "10.0.0.1"), ("destination.ip", "1.2.3.4")],
    );
    assert_eq!(r.out.len(), 1);
    let d = &r.out[0];
    assert_eq!(
        d.group,
        group(&[
            ("internal_ip", Some("10.0.0.1")),
            ("remote_ip", Some("1.2.3.4"))
        ])
    );
    assert_eq!(d.rules, vec![ie, nc]);
    assert_eq!(d.events, vec![EventRef::new(0, 1), EventRef::new(0, 3)]);
}

fn temporal(kind: &str) -> String {
    base("a")
        + &base("b")
        + &correlation(
            "t",
            &format!("    type: {kind}\n    rules: [a, b]\n    group-by: [User]\n    timespan: 1m"),
        )
}

#[test]
fn temporal_ignores_order_temporal_ordered_does_not() {
    // (kind, detections after b then a, after one more b)
    for (kind, after_ba, after_bab) in [("temporal", 1, 1), ("temporal_ordered", 0, 1)] {
        let mut r = Run::new(&temporal(kind));
        r.hit("b", 0, &[("User", "u")]);
        r.hit("a", 10 * S, &[("User", "u")]);
        assert_eq!(r.out.len(), after_ba, "{kind}");
        // temporal restarted after firing; temporal_ordered now sees a then b.
        r.hit("b", 20 * S, &[("User", "u")]);
        assert_eq!(r.out.len(), after_bab, "{kind}");
        let d = r.out.last().unwrap();
        assert_eq!(d.value, 2.0);
        assert_eq!(d.kind.as_str(), kind);
        let expect_span = if kind == "temporal" {
            (0, 10 * S)
        } else {
            (10 * S, 20 * S)
        };
        assert_eq!((d.first, d.last), expect_span, "{kind}");
    }
}

#[test]
fn temporal_ordered_chain_events_and_timespan() {
    let mut r = Run::new(&temporal("temporal_ordered"));
    r.hit("a", 0, &[("User", "u")]);
    let a2 = r.hit("a", 30 * S, &[("User", "u")]);
    r.hit("b", 30 * S, &[("User", "other")]);
    // b 61s after the first a, 31s after the second: the second a starts the chain.
    let b = r.hit("b", 61 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    let d = &r.out[0];
    assert_eq!(d.events, vec![a2, b]);
    assert_eq!((d.first, d.last), (30 * S, 61 * S));
    // Too far apart: nothing.
    let mut r = Run::new(&temporal("temporal_ordered"));
    r.hit("a", 0, &[("User", "u")]);
    r.hit("b", 60 * S + 1, &[("User", "u")]);
    assert!(r.finish().is_empty());
}

#[test]
fn temporal_ordered_out_of_order_arrival_is_ordered_by_time() {
    let mut r = Run::new(&temporal("temporal_ordered"));
    r.hit("b", 10 * S, &[("User", "u")]);
    // Arrives after b but happened before it.
    r.hit("a", 5 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!((r.out[0].first, r.out[0].last), (5 * S, 10 * S));
}

#[test]
fn temporal_ordered_same_rule_twice_needs_two_hits() {
    let yaml = base("a")
        + &base("b")
        + &correlation(
            "t",
            "    type: temporal_ordered\n    rules: [a, b, a]\n    group-by: [User]\n    timespan: 1m",
        );
    let mut r = Run::new(&yaml);
    r.hit("a", 0, &[("User", "u")]);
    r.hit("b", S, &[("User", "u")]);
    assert!(r.out.is_empty());
    r.hit("a", 2 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].value, 3.0);
    assert_eq!(r.out[0].events.len(), 3);
}

#[test]
fn temporal_with_condition_counts_distinct_rules() {
    let yaml = base("a")
        + &base("b")
        + &base("c")
        + &correlation(
            "t",
            "    type: temporal\n    rules: [a, b, c]\n    group-by: [User]\n    timespan: 1m\n    condition:\n        gte: 2",
        );
    let mut r = Run::new(&yaml);
    r.hit("a", 0, &[("User", "u")]);
    r.hit("a", S, &[("User", "u")]);
    assert!(r.out.is_empty());
    r.hit("c", 2 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    // The last hit of each rule.
    assert_eq!(
        r.out[0].events,
        vec![EventRef::new(0, 2), EventRef::new(0, 3)]
    );
    assert_eq!(r.out[0].event_count, 3);
}

#[test]
fn value_sum_and_avg_skip_non_numeric() {
    let yaml = base("a")
        + &correlation(
            "s",
            "    type: value_sum\n    rules: [a]\n    group-by: [User]\n    timespan: 1h\n    condition:\n        field: bytes\n        gt: 1000",
        )
        + &correlation(
            "v",
            "    type: value_avg\n    rules: [a]\n    group-by: [User]\n    timespan: 1h\n    condition:\n        field: bytes\n        gt: 300",
        );
    let mut r = Run::new(&yaml);
    r.hit("a", 0, &[("User", "u"), ("bytes", "100")]);
    r.hit("a", S, &[("User", "u"), ("bytes", "lots")]);
    r.hit("a", 2 * S, &[("User", "u"), ("bytes", " 400.5 ")]);
    // avg (100 + 400.5) / 2 = 250.25
    assert!(r.out.is_empty());
    r.hit("a", 3 * S, &[("User", "u"), ("bytes", "600")]);
    // sum 1100.5 > 1000 and avg 366.8 > 300
    let kinds: Vec<_> = r.out.iter().map(|d| (d.kind.as_str(), d.value)).collect();
    assert_eq!(
        kinds,
        vec![("value_sum", 1100.5), ("value_avg", 1100.5 / 3.0)]
    );
    assert_eq!(r.c.stats().non_numeric_values, 2);
}

#[test]
fn value_sum_sliding_window_drops_old_values() {
    let yaml = base("a")
        + &correlation(
            "s",
            "    type: value_sum\n    rules: [a]\n    group-by: [User]\n    timespan: 10s\n    condition:\n        field: bytes\n        gte: 100",
        );
    let mut r = Run::new(&yaml);
    r.hit("a", 0, &[("User", "u"), ("bytes", "60")]);
    r.hit("a", 11 * S, &[("User", "u"), ("bytes", "50")]);
    assert!(r.out.is_empty());
    r.hit("a", 12 * S, &[("User", "u"), ("bytes", "50")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].value, 100.0);
}

#[test]
fn value_percentile_finds_rare_values() {
    let yaml = base("a")
        + &correlation(
            "p",
            "    type: value_percentile\n    rules: [a]\n    group-by: [Computer]\n    timespan: 1d\n    condition:\n        field: Image\n        lte: 10",
        );
    let mut r = Run::new(&yaml);
    for i in 0..18 {
        r.hit("a", i * S, &[("Computer", "pc"), ("Image", "svchost.exe")]);
    }
    r.hit("a", 20 * S, &[("Computer", "pc"), ("Image", "evil.exe")]);
    r.hit("a", 21 * S, &[("Computer", "pc"), ("Image", "calc.exe")]);
    // Always decided at close.
    assert!(r.out.is_empty());
    let got: Vec<_> = r
        .finish()
        .iter()
        .map(|d| (d.group.clone(), d.value, d.event_count))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                group(&[("Computer", Some("pc")), ("Image", Some("calc.exe"))]),
                5.0,
                1
            ),
            (
                group(&[("Computer", Some("pc")), ("Image", Some("evil.exe"))]),
                5.0,
                1
            ),
        ]
    );
}

#[test]
fn out_of_order_within_the_window_counts() {
    let mut r = Run::new(&event_count("gte: 3", "10s"));
    r.hit("a", 10 * S, &[("User", "u")]);
    r.hit("a", 12 * S, &[("User", "u")]);
    // 8s is older than the latest hit but within the group's window: applied, not late.
    r.hit("a", 8 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!((r.out[0].first, r.out[0].last), (8 * S, 12 * S));
    assert_eq!(r.c.stats().late_hits, 0);
}

#[test]
fn late_hits_apply_only_where_state_exists() {
    let mut r = Run::new(&event_count("gte: 3", "10s"));
    r.hit("a", 0, &[("User", "u")]);
    r.hit("a", 9 * S, &[("User", "u")]);
    r.hit("a", 16 * S, &[("User", "other")]);
    // Watermark 16s: 4s is late (before 6s), but user u's window (latest 9s) reaches back to
    // -1s and still holds the hit at 0s.
    r.hit("a", 4 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!((r.out[0].first, r.out[0].last), (0, 9 * S));
    // No state for this group any more: dropped.
    r.hit("a", 2 * S, &[("User", "nobody")]);
    let st = r.c.stats();
    assert_eq!((st.late_hits, st.dropped_hits), (2, 1));
}

#[test]
fn close_mode_out_of_order_moves_the_window_start() {
    let mut r = Run::new(&event_count("eq: 3", "10s"));
    r.hit("a", 5 * S, &[("User", "u")]);
    r.hit("a", 12 * S, &[("User", "u")]);
    r.hit("a", 3 * S, &[("User", "u")]);
    // Window now 3s..13s, holds all three.
    r.hit("a", 13 * S + 1, &[("User", "x")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!((r.out[0].first, r.out[0].last), (3 * S, 12 * S));
}

#[test]
fn eviction_cap_drops_the_oldest_group() {
    let options = Options {
        max_groups: 2,
        ..Options::default()
    };
    let mut r = Run::with(&event_count("gte: 2", "1h"), options);
    r.hit("a", 0, &[("User", "one")]);
    r.hit("a", S, &[("User", "two")]);
    r.hit("a", 2 * S, &[("User", "three")]);
    assert_eq!(r.c.stats().evicted_groups, 1);
    assert_eq!(r.c.stats().live_groups, 2);
    // "one" was evicted: its second hit starts over.
    r.hit("a", 3 * S, &[("User", "one")]);
    assert!(r.out.is_empty());
    r.hit("a", 4 * S, &[("User", "three")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].group, group(&[("User", Some("three"))]));
}

#[test]
fn window_hit_cap_and_event_cap() {
    let options = Options {
        max_window_hits: 5,
        max_events: 2,
        ..Options::default()
    };
    let mut r = Run::with(&event_count("lt: 100", "1h"), options);
    for i in 0..8 {
        r.hit("a", i * S, &[("User", "u")]);
    }
    let d = r.finish()[0].clone();
    assert_eq!(d.value, 5.0);
    assert_eq!(d.events.len(), 2);
    assert_eq!(d.event_count, 5);
    assert_eq!(r.c.stats().trimmed_hits, 3);
}

#[test]
fn expired_state_is_dropped() {
    let mut r = Run::new(&event_count("gte: 5", "10s"));
    for u in 0..50 {
        r.hit("a", u * S, &[("User", &u.to_string())]);
    }
    // Only the groups of the last 10 seconds are alive.
    assert_eq!(r.c.stats().live_groups, 11);
    r.c.advance(100 * S);
    assert_eq!(r.c.stats().live_groups, 0);
}

#[test]
fn generate_controls_suppression() {
    let yaml = base("a")
        + &base("b")
        + &base("c")
        + &correlation(
            "quiet",
            "    type: event_count\n    rules: [a, b]\n    group-by: [User]\n    timespan: 1m\n    condition:\n        gte: 2",
        )
        + &correlation(
            "loud",
            "    type: event_count\n    rules: [b, c]\n    group-by: [User]\n    timespan: 1m\n    condition:\n        gte: 2\ngenerate: true",
        );
    let r = Run::new(&yaml);
    let a = r.rule("a");
    assert!(r.c.is_suppressed(a));
    // b is also wanted by a correlation with generate: true.
    assert!(!r.c.is_suppressed(r.rule("b")));
    assert!(!r.c.is_suppressed(r.rule("c")));
    assert_eq!(r.c.suppressed_base_rules().len(), 1);
}

#[test]
fn event_count_over_two_rules() {
    let yaml = base("a")
        + &base("b")
        + &correlation(
            "ec",
            "    type: event_count\n    rules: [a, b]\n    group-by: [User]\n    timespan: 1m\n    condition:\n        gte: 2",
        );
    let mut r = Run::new(&yaml);
    r.hit("a", 0, &[("User", "u")]);
    r.hit("b", S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].rules, vec![r.rule("a"), r.rule("b")]);
}

#[test]
fn no_group_by_is_one_group() {
    let yaml = base("a")
        + &correlation(
            "ec",
            "    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition:\n        gte: 2",
        );
    let mut r = Run::new(&yaml);
    r.hit("a", 0, &[]);
    r.hit("a", S, &[]);
    assert_eq!(r.out.len(), 1);
    assert!(r.out[0].group.is_empty());
}

#[test]
fn reference_errors_are_per_rule() {
    let yaml = base("a")
        + &correlation(
            "unknown",
            "    type: event_count\n    rules: [nope]\n    timespan: 1m\n    condition:\n        gte: 2",
        )
        + &correlation(
            "loop1",
            "    type: temporal\n    rules: [loop2, a]\n    timespan: 1m",
        )
        + &correlation(
            "loop2",
            "    type: temporal\n    rules: [loop1, a]\n    timespan: 1m",
        )
        + &correlation(
            "above",
            "    type: event_count\n    rules: [loop1]\n    timespan: 1m\n    condition:\n        gte: 2",
        )
        + &correlation(
            "on_unknown",
            "    type: event_count\n    rules: [unknown]\n    timespan: 1m\n    condition:\n        gte: 2",
        )
        + &correlation(
            "fine",
            "    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition:\n        gte: 2",
        )
        + "title: f\nname: filt\nlogsource:\n    product: test\nfilter:\n    rules: [a]\n    selection:\n        User: x\n    condition: not selection\n---\n"
        + &correlation(
            "on_filter",
            "    type: event_count\n    rules: [filt]\n    timespan: 1m\n    condition:\n        gte: 2",
        );
    let set = load(&yaml);
    let c = Correlator::new(&set);
    let errors: Vec<(String, CorrelationError)> = c
        .errors()
        .iter()
        .map(|e| {
            (
                set.rules[e.rule].meta.name.as_ref().unwrap().value.clone(),
                e.error.clone(),
            )
        })
        .collect();
    use CorrelationError::*;
    assert_eq!(
        errors,
        vec![
            ("unknown".into(), UnknownReference("nope".into())),
            ("loop1".into(), Cycle),
            ("loop2".into(), Cycle),
            ("above".into(), ReferenceFailed("loop1".into())),
            ("on_unknown".into(), ReferenceFailed("unknown".into())),
            ("on_filter".into(), ReferencesFilter("filt".into())),
        ]
    );
    assert_eq!(c.rules(), vec![set.lookup("fine").unwrap()]);
    // Failed correlations do not suppress their rules... but "fine" does.
    assert!(c.is_suppressed(set.lookup("a").unwrap()));
}

fn legacy(cond: &str, timeframe: Option<&str>) -> String {
    let tf = timeframe.map_or(String::new(), |t| format!("    timeframe: {t}\n"));
    format!(
        "title: legacy\nname: legacy\nlogsource:\n    product: test\ndetection:\n    selection:\n        EventID: 4625\n    filter:\n        User: admin\n    other:\n        EventID: 4624\n{tf}    condition: {cond}\n"
    )
}

#[test]
fn legacy_count_by_field() {
    let mut r = Run::new(&legacy("selection | count() by src_ip > 2", Some("1m")));
    let rule = r.rule("legacy");
    assert_eq!(r.c.inputs(rule).unwrap().fields, vec!["src_ip"]);
    assert!(r.c.is_suppressed(rule));
    for t in 0..3 {
        r.hit("legacy", t * S, &[("src_ip", "1.1.1.1")]);
    }
    assert_eq!(r.out.len(), 1);
    let d = &r.out[0];
    assert_eq!((d.rule, d.kind.as_str(), d.value), (rule, "count", 3.0));
    assert_eq!(d.group, group(&[("src_ip", Some("1.1.1.1"))]));
}

#[test]
fn legacy_count_field_is_distinct() {
    let mut r = Run::new(&legacy(
        "selection | count(TargetUserName) by IpAddress > 2",
        Some("1h"),
    ));
    for (t, u) in [(0, "a"), (1, "a"), (2, "b"), (3, "b")] {
        r.hit(
            "legacy",
            t * S,
            &[("IpAddress", "ip"), ("TargetUserName", u)],
        );
    }
    assert!(r.out.is_empty());
    r.hit(
        "legacy",
        4 * S,
        &[("IpAddress", "ip"), ("TargetUserName", "c")],
    );
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].value, 3.0);
}

#[test]
fn legacy_without_timeframe_is_one_window_decided_at_finish() {
    let mut r = Run::new(&legacy("selection | count() > 2", None));
    for t in [0, 100_000, 10_000_000] {
        r.hit("legacy", t * S, &[]);
    }
    assert!(r.out.is_empty());
    let got = r.finish();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].value, got[0].first, got[0].last),
        (3.0, 0, 10_000_000 * S)
    );
    // Rare values: decided at the end too.
    let mut r = Run::new(&legacy("selection | count() by TaskName < 2", None));
    r.hit("legacy", 0, &[("TaskName", "common")]);
    r.hit("legacy", S, &[("TaskName", "rare")]);
    r.hit("legacy", 2 * S, &[("TaskName", "common")]);
    let got: Vec<_> = r.finish().iter().map(|d| d.group.clone()).collect();
    assert_eq!(got, vec![group(&[("TaskName", Some("rare"))])]);
}

#[test]
fn legacy_sum_min_max_avg() {
    for (func, op, expect) in [
        ("sum", "> 9", Some(10.0)),
        ("max", "> 6", Some(7.0)),
        ("min", "< 2", Some(1.0)),
        ("avg", "> 3", Some(10.0 / 3.0)),
        ("avg", ">= 4", None),
    ] {
        let mut r = Run::new(&legacy(
            &format!("selection | {func}(size) by src {op}"),
            Some("1m"),
        ));
        for (t, v) in [(0, "2"), (1, "1"), (2, "7")] {
            r.hit("legacy", t * S, &[("src", "s"), ("size", v)]);
        }
        let got: Vec<f64> = r.finish().iter().map(|d| d.value).collect();
        assert_eq!(got, expect.into_iter().collect::<Vec<_>>(), "{func} {op}");
    }
}

#[test]
fn legacy_errors() {
    // A correlation cannot refer to a rule with an aggregation.
    let yaml = legacy("selection | count() > 1", None)
        + "---\n"
        + &correlation(
            "ec",
            "    type: event_count\n    rules: [legacy]\n    timespan: 1m\n    condition:\n        gte: 2",
        );
    let set = load(&yaml);
    let c = Correlator::new(&set);
    assert_eq!(
        c.errors()[0].error,
        CorrelationError::ReferencesAggregation("legacy".into())
    );
}

#[test]
fn legacy_near_positive_fires_early() {
    let mut r = Run::new(&legacy("selection | near other and filter", Some("10s")));
    let rule = r.rule("legacy");
    assert_eq!(
        r.c.inputs(rule).unwrap().selections,
        vec!["other", "filter"]
    );
    // Identifier events before the anchor do not count.
    r.near("legacy", 0, false, &["other"]);
    let anchor = r.near("legacy", S, true, &[]);
    let other = r.near("legacy", 2 * S, false, &["other"]);
    assert!(r.out.is_empty());
    let filt = r.near("legacy", 11 * S, false, &["filter"]);
    assert_eq!(r.out.len(), 1);
    let d = &r.out[0];
    assert_eq!(
        (d.kind.as_str(), d.value, d.first, d.last),
        ("near", 2.0, S, 11 * S)
    );
    assert_eq!(d.events, vec![anchor, other, filt]);
    // Exactly one detection for the burst.
    r.near("legacy", 12 * S, false, &["other", "filter"]);
    assert_eq!(r.finish().len(), 1);
}

#[test]
fn legacy_near_window_edge() {
    let mut r = Run::new(&legacy("selection | near other", Some("10s")));
    r.near("legacy", 0, true, &[]);
    r.near("legacy", 10 * S + 1, false, &["other"]);
    assert!(r.finish().is_empty());
    let mut r = Run::new(&legacy("selection | near other", Some("10s")));
    r.near("legacy", 0, true, &[]);
    r.near("legacy", 10 * S, false, &["other"]);
    assert_eq!(r.finish().len(), 1);
}

#[test]
fn legacy_near_without_timeframe_spans_the_rest_of_the_input() {
    let mut r = Run::new(&legacy("selection | near other", None));
    r.near("legacy", 0, false, &["other"]);
    let anchor = r.near("legacy", S, true, &[]);
    // A later anchor adds nothing: the first one already covers its window.
    r.near("legacy", 2 * S, true, &[]);
    assert_eq!(r.c.stats().live_groups, 1);
    let other = r.near("legacy", 1_000_000 * S, false, &["other"]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].events, vec![anchor, other]);
    // With a negation it is decided at the end.
    let mut r = Run::new(&legacy("selection | near other and not filter", None));
    r.near("legacy", 0, true, &[]);
    r.near("legacy", S, false, &["other"]);
    r.near("legacy", 1_000_000 * S, true, &[]);
    assert!(r.out.is_empty());
    assert_eq!(r.finish().len(), 1);
}

#[test]
fn legacy_near_same_time_before_anchor_counts() {
    let mut r = Run::new(&legacy("selection | near other", Some("10s")));
    r.near("legacy", 5 * S, false, &["other"]);
    r.near("legacy", 5 * S, true, &[]);
    assert_eq!(r.out.len(), 1);
    // The anchor's own event may match the identifier.
    let mut r = Run::new(&legacy("selection | near other", Some("10s")));
    r.near("legacy", 5 * S, true, &["other"]);
    assert_eq!(r.out.len(), 1);
}

#[test]
fn legacy_near_negation_decided_at_close() {
    let yaml = legacy("selection | near other and not filter", Some("10s"));
    // Clean window: detection once the window closes.
    let mut r = Run::new(&yaml);
    r.near("legacy", 0, true, &[]);
    r.near("legacy", S, false, &["other"]);
    assert!(r.out.is_empty());
    r.near("legacy", 10 * S + 1, false, &[]);
    r.near("legacy", 10 * S + 1, true, &[]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(r.out[0].first, 0);
    // A negated identifier in the window vetoes it.
    let mut r = Run::new(&yaml);
    r.near("legacy", 0, true, &[]);
    r.near("legacy", S, false, &["other"]);
    r.near("legacy", 9 * S, false, &["filter"]);
    assert!(r.finish().is_empty());
    // ... but not after the window.
    let mut r = Run::new(&yaml);
    r.near("legacy", 0, true, &[]);
    r.near("legacy", S, false, &["other"]);
    r.near("legacy", 11 * S, false, &["filter"]);
    assert_eq!(r.finish().len(), 1);
}

#[test]
fn chained_inner_detections_feed_the_outer_one() {
    let yaml = base("fail")
        + &base("ok")
        + &correlation(
            "many",
            "    type: event_count\n    rules: [fail]\n    group-by: [User, Host]\n    timespan: 1m\n    condition:\n        gte: 3",
        )
        + &correlation(
            "then_ok",
            "    type: temporal_ordered\n    rules: [many, ok]\n    group-by: [User]\n    timespan: 5m",
        );
    let mut r = Run::new(&yaml);
    let many = r.rule("many");
    assert!(r.c.is_suppressed(many));
    assert!(r.c.is_suppressed(r.rule("fail")));
    assert!(r.c.is_suppressed(r.rule("ok")));
    assert_eq!(
        r.c.inputs(r.rule("fail")).unwrap().fields,
        vec!["User", "Host"]
    );
    assert_eq!(r.c.inputs(r.rule("ok")).unwrap().fields, vec!["User"]);
    for t in 0..3 {
        r.hit("fail", t * S, &[("User", "u"), ("Host", "h")]);
    }
    // The inner detection is not reported.
    assert!(r.out.is_empty());
    assert_eq!(r.c.stats().suppressed_detections, 1);
    r.hit("ok", 100 * S, &[("User", "u")]);
    assert_eq!(r.out.len(), 1);
    let d = &r.out[0];
    assert_eq!(d.rule, r.rule("then_ok"));
    let mut rules = vec![many, r.rule("ok")];
    rules.sort();
    assert_eq!(d.rules, rules);
    assert_eq!((d.first, d.last), (2 * S, 100 * S));
    assert_eq!(d.event_count, 4);
    let ev: Vec<u64> = d.events.iter().map(|e| e.record).collect();
    assert_eq!(ev, vec![1, 2, 3, 4]);
}

#[test]
fn deterministic_output() {
    let yaml = event_count("lt: 3", "10s");
    let run = || {
        let mut r = Run::new(&yaml);
        for i in 0..200i64 {
            let user = format!("u{}", (i * 7919) % 13);
            r.hit("a", i * 700, &[("User", &user)]);
        }
        r.finish().to_vec()
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
}

#[test]
fn correlator_can_move_between_threads() {
    fn check<T: Send + Sync>() {}
    check::<Correlator>();
}
