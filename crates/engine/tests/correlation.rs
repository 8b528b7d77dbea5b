//! Correlation end to end through the public API: the specification's chained example, the
//! legacy `| count` / `| near` rules of the Sigma corpus, and a property test against a
//! brute-force recomputation of event_count / value_count windows.

use std::collections::HashMap;

use engine::correlation::{CorrelationDetection, Correlator, EventRef, Hit, Kind, Options, Stats};
use proptest::prelude::*;
use sigma::ruleset::RuleSet;

const S: i64 = 1000;
const MIN: i64 = 60 * S;

fn load(yaml: &str) -> RuleSet {
    let f = sigma::load_str(yaml, "test.yml");
    let errors: Vec<_> = f.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    RuleSet::new(f.rules)
}

/// Values for a rule's inputs from (field, value) pairs.
fn values(c: &Correlator, rule: usize, fields: &[(&str, &str)]) -> Vec<Option<String>> {
    c.inputs(rule)
        .expect("rule feeds a correlation")
        .fields
        .iter()
        .map(|f| {
            fields
                .iter()
                .find(|(k, _)| k == f)
                .map(|(_, v)| v.to_string())
        })
        .collect()
}

/// The example "Failed Logins Followed by Successful Login" of the Sigma correlation
/// specification (v2.1.0), as written there.
const SPEC_EXAMPLE: &str = r#"title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
description: Detects multiple failed logins by a single user followed by a successful login of that user
references:
    - https://reference.com
author: Florian Roth (Nextron Systems)
date: 2023-06-16
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
falsepositives:
    - Unlikely
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
description: Detects multiple failed logins within a certain amount of time
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
description: Detects a successful login
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
"#;

#[test]
fn spec_example_failed_logins_then_success() {
    let set = load(SPEC_EXAMPLE);
    let mut c = Correlator::new(&set);
    assert!(c.errors().is_empty(), "{:?}", c.errors());
    let outer = set.lookup("b180ead8-d58f-40b2-ae54-c8940995b9b6").unwrap();
    let inner = set.lookup("multiple_failed_login").unwrap();
    let failed = set.lookup("failed_login").unwrap();
    let success = set.lookup("successful_login").unwrap();
    // Only the outermost correlation reports.
    for r in [inner, failed, success] {
        assert!(c.is_suppressed(r), "{}", set.rules[r].title());
    }
    assert!(!c.is_suppressed(outer));
    assert_eq!(c.inputs(failed).unwrap().fields, vec!["User"]);
    assert_eq!(c.inputs(success).unwrap().fields, vec!["User"]);

    // (time, rule, user), fed in time order.
    let mut feed: Vec<(i64, usize, &str)> = Vec::new();
    let base = 1_700_000_000_000;
    // alice: 10 failures in 9 minutes, success 2 minutes later: detection.
    for i in 0..10 {
        feed.push((base + i * 54 * S, failed, "alice"));
    }
    feed.push((base + 11 * MIN, success, "alice"));
    // bob: only 9 failures.
    for i in 0..9 {
        feed.push((base + i * S, failed, "bob"));
    }
    feed.push((base + 5 * MIN, success, "bob"));
    // carol: success first, then failures.
    feed.push((base, success, "carol"));
    for i in 0..10 {
        feed.push((base + S + i * S, failed, "carol"));
    }
    // dave: 10 failures, success 10 minutes and 1 ms after the 10th.
    for i in 0..10 {
        feed.push((base + i * S, failed, "dave"));
    }
    feed.push((base + 9 * S + 10 * MIN + 1, success, "dave"));
    // erin: 10 failures spread over 12 minutes: never 10 within 10 minutes.
    for i in 0..10 {
        feed.push((base + i * 80 * S, failed, "erin"));
    }
    feed.push((base + 13 * MIN, success, "erin"));
    feed.sort_by_key(|(t, _, _)| *t);

    let mut out = Vec::new();
    for (n, (t, rule, user)) in feed.iter().enumerate() {
        let v = values(&c, *rule, &[("User", user)]);
        out.extend(c.process(&Hit::new(*rule, *t, v, EventRef::new(0, n as u64))));
    }
    out.extend(c.finish());
    assert_eq!(out.len(), 1, "{out:#?}");
    let d = &out[0];
    assert_eq!(d.rule, outer);
    assert_eq!(
        d.kind,
        Kind::Correlation(sigma::rule::CorrelationType::TemporalOrdered)
    );
    assert_eq!(
        d.group,
        vec![("User".to_string(), Some("alice".to_string()))]
    );
    assert_eq!(d.value, 2.0);
    let mut rules = vec![inner, success];
    rules.sort();
    assert_eq!(d.rules, rules);
    assert_eq!((d.first, d.last), (base + 9 * 54 * S, base + 11 * MIN));
    // Ten failures and the success.
    assert_eq!(d.event_count, 11);
    assert_eq!(d.events.len(), 11);
    // carol's and erin's failures made the inner correlation fire too, only fed forward.
    let st: Stats = c.stats();
    assert_eq!(st.suppressed_detections, 3);
    assert_eq!(st.live_groups, 0);
}

#[test]
fn spec_example_with_generate_reports_inner_detections() {
    let yaml = SPEC_EXAMPLE.replacen("falsepositives:", "generate: true\nfalsepositives:", 1);
    let set = load(&yaml);
    let mut c = Correlator::new(&set);
    let inner = set.lookup("multiple_failed_login").unwrap();
    let failed = set.lookup("failed_login").unwrap();
    assert!(!c.is_suppressed(inner));
    // The inner correlation itself has no generate: its rule stays quiet.
    assert!(c.is_suppressed(failed));
    let mut out = Vec::new();
    for i in 0..10 {
        let v = values(&c, failed, &[("User", "u")]);
        out.extend(c.process(&Hit::new(failed, i * S, v, EventRef::new(0, i as u64))));
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].rule, inner);
    assert_eq!(out[0].kind.as_str(), "event_count");
}

/// Every legacy `| count` / `| near` rule of the corpus compiles, and a few run.
#[test]
fn corpus_legacy_aggregations() {
    let Some(root) = testkit::data_root("corpus_legacy_aggregations") else {
        return;
    };
    let mut files = Vec::new();
    for sub in ["deprecated", "unsupported"] {
        files.extend(testkit::rule_files(&root.join("sigma").join(sub)));
    }
    let mut rules = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        rules.extend(sigma::load_str(&text, &f.to_string_lossy()).rules);
    }
    let set = RuleSet::new(rules);
    let legacy: Vec<usize> = (0..set.len())
        .filter(|&i| {
            set.rules[i]
                .detection()
                .is_some_and(|d| d.conditions.iter().any(|c| c.parsed.aggregation.is_some()))
        })
        .collect();
    assert!(
        legacy.len() >= 40,
        "only {} legacy rules found",
        legacy.len()
    );
    let mut c = Correlator::new(&set);
    let failed: Vec<_> = c
        .errors()
        .iter()
        .filter(|e| legacy.contains(&e.rule))
        .map(|e| format!("{}: {}", set.rules[e.rule].origin.path, e.error))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let near = legacy
        .iter()
        .filter(|&&i| c.kind(i) == Some(Kind::Near))
        .count();
    assert!(near >= 5, "{near} near rules");
    for &i in &legacy {
        assert!(c.is_suppressed(i));
        assert!(c.kind(i).is_some());
    }

    // count(TargetUserName) by Workstation > 3 within 24h.
    let rule = set.lookup("6309ffc4-8fa2-47cf-96b8-a2f72e58e538").unwrap();
    assert_eq!(
        c.inputs(rule).unwrap().fields,
        vec!["Workstation", "TargetUserName"]
    );
    let mut out = Vec::new();
    for (n, user) in ["a", "b", "a", "c", "d"].iter().enumerate() {
        let v = values(
            &c,
            rule,
            &[("Workstation", "WS1"), ("TargetUserName", user)],
        );
        let t = n as i64 * 3600 * S;
        out.extend(c.process(&Hit::new(rule, t, v, EventRef::new(1, n as u64))));
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].value, 4.0);
    assert_eq!(out[0].kind.as_str(), "count");

    // Mimikatz in-memory: selector | near dllload1 and dllload2 and not exclusion, 30s.
    let rule = set.lookup("c0478ead-5336-46c2-bd5e-b4c84bc3a36e").unwrap();
    let sels = c.inputs(rule).unwrap().selections.clone();
    assert_eq!(sels, vec!["dllload1", "dllload2", "exclusion"]);
    let mut out = Vec::new();
    // After the hits above (the watermark is at 4h).
    let t0 = 100_000 * S;
    for (n, (dt, matched, mask)) in [(0, true, 0), (5 * S, false, 0b001), (6 * S, false, 0b010)]
        .into_iter()
        .enumerate()
    {
        out.extend(c.process(&Hit::near(
            rule,
            t0 + dt,
            matched,
            mask,
            EventRef::new(2, n as u64),
        )));
    }
    assert!(out.is_empty(), "decided only when the window closes");
    out.extend(c.advance(t0 + 31 * S));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, Kind::Near);
    assert_eq!(out[0].events.len(), 3);
}

// --- Property: sliding and closing windows equal a brute-force recomputation. ---

#[derive(Debug, Clone)]
struct Case {
    value_count: bool,
    /// (op, threshold) pairs: all gt/gte (sliding) or with an upper bound (close).
    condition: Vec<(&'static str, u32)>,
    span_s: i64,
    /// (time gap in ms, group, value)
    hits: Vec<(i64, u8, Option<u8>)>,
}

fn case() -> impl Strategy<Value = Case> {
    let sliding = prop_oneof![Just("gt"), Just("gte")];
    let closing = prop_oneof![Just("lt"), Just("lte"), Just("eq"), Just("neq")];
    let condition = prop_oneof![
        (sliding, 0u32..6).prop_map(|(o, n)| vec![(o, n)]),
        (closing, 0u32..6).prop_map(|(o, n)| vec![(o, n)]),
        (0u32..3, 1u32..4).prop_map(|(lo, w)| vec![("gte", lo), ("lte", lo + w)]),
    ];
    (
        any::<bool>(),
        condition,
        1i64..10,
        // Gaps in half seconds, so that hits often lie exactly a timespan apart.
        prop::collection::vec(
            (
                (1i64..12).prop_map(|k| k * 500),
                0u8..3,
                prop::option::weighted(0.9, 0u8..4),
            ),
            0..60,
        ),
    )
        .prop_map(|(value_count, condition, span_s, hits)| Case {
            value_count,
            condition,
            span_s,
            hits,
        })
}

fn yaml_of(case: &Case) -> String {
    let mut cond = String::new();
    if case.value_count {
        cond.push_str("        field: Value\n");
    }
    for (op, n) in &case.condition {
        cond.push_str(&format!("        {op}: {n}\n"));
    }
    format!(
        "title: base\nname: base\nlogsource:\n    product: test\ndetection:\n    sel:\n        EventID: 1\n    condition: sel\n---\ntitle: corr\nname: corr\ncorrelation:\n    type: {}\n    rules: [base]\n    group-by: [Group]\n    timespan: {}s\n    condition:\n{cond}",
        if case.value_count {
            "value_count"
        } else {
            "event_count"
        },
        case.span_s
    )
}

/// A hit of the brute force: (time, group, value, record).
type Timed = (i64, u8, Option<u8>, u64);

/// What a detection is compared on.
type Summary = (Option<String>, f64, i64, i64, Vec<u64>);

fn holds(condition: &[(&str, u32)], v: f64) -> bool {
    condition.iter().all(|(op, n)| {
        let n = f64::from(*n);
        match *op {
            "gt" => v > n,
            "gte" => v >= n,
            "lt" => v < n,
            "lte" => v <= n,
            "eq" => v == n,
            _ => v != n,
        }
    })
}

/// Brute force: keep every hit of every group and recompute from scratch.
fn brute_force(case: &Case) -> Vec<Summary> {
    // (time, group, value, record)
    let mut hits: Vec<Timed> = Vec::new();
    let mut t = 0;
    for (n, (gap, g, v)) in case.hits.iter().enumerate() {
        t += gap;
        if case.value_count && v.is_none() {
            continue;
        }
        hits.push((t, *g, *v, n as u64));
    }
    let span = case.span_s * S;
    let sliding = case
        .condition
        .iter()
        .all(|(op, _)| *op == "gt" || *op == "gte");
    let measure = |w: &[Timed]| -> f64 {
        if case.value_count {
            let mut vs: Vec<u8> = w.iter().filter_map(|h| h.2).collect();
            vs.sort();
            vs.dedup();
            vs.len() as f64
        } else {
            w.len() as f64
        }
    };
    let summary = |g: u8, w: &[Timed]| -> Summary {
        (
            Some(g.to_string()),
            measure(w),
            w.first().map_or(0, |h| h.0),
            w.last().map_or(0, |h| h.0),
            w.iter().map(|h| h.3).collect(),
        )
    };
    let mut out = Vec::new();
    if sliding {
        // Per group, the hits since its last detection.
        let mut since: HashMap<u8, Vec<Timed>> = HashMap::new();
        for h in &hits {
            let w = since.entry(h.1).or_default();
            w.push(*h);
            w.retain(|x| x.0 >= h.0 - span);
            if holds(&case.condition, measure(w)) {
                out.push(summary(h.1, w));
                w.clear();
            }
        }
    } else {
        // Windows [first, first + span] per group, decided in order of closing.
        let mut open: Vec<(u8, Vec<Timed>)> = Vec::new();
        let decide = |g: u8, w: &[Timed], out: &mut Vec<Summary>| {
            if holds(&case.condition, measure(w)) {
                out.push(summary(g, w));
            }
        };
        for h in &hits {
            let (closed, still): (Vec<_>, Vec<_>) =
                open.into_iter().partition(|(_, w)| w[0].0 + span < h.0);
            for (g, w) in &closed {
                decide(*g, w, &mut out);
            }
            open = still;
            match open.iter_mut().find(|(g, _)| *g == h.1) {
                Some((_, w)) => w.push(*h),
                None => open.push((h.1, vec![*h])),
            }
        }
        for (g, w) in &open {
            decide(*g, w, &mut out);
        }
    }
    out
}

fn run(case: &Case, options: Options) -> (Vec<Summary>, Stats) {
    let set = load(&yaml_of(case));
    let mut c = Correlator::with_options(&set, options);
    assert!(c.errors().is_empty(), "{:?}", c.errors());
    let rule = set.lookup("base").expect("base rule");
    let mut out: Vec<CorrelationDetection> = Vec::new();
    let mut t = 0;
    for (n, (gap, g, v)) in case.hits.iter().enumerate() {
        t += gap;
        let g = g.to_string();
        let v = v.map(|v| v.to_string());
        let mut fields = vec![("Group", g.as_str())];
        if let Some(v) = &v {
            fields.push(("Value", v.as_str()));
        }
        let vals = values(&c, rule, &fields);
        out.extend(c.process(&Hit::new(rule, t, vals, EventRef::new(0, n as u64))));
    }
    out.extend(c.finish());
    let stats = c.stats();
    let summary = out
        .into_iter()
        .map(|d| {
            assert_eq!(d.group.len(), 1);
            (
                d.group[0].1.clone(),
                d.value,
                d.first,
                d.last,
                d.events.iter().map(|e| e.record).collect(),
            )
        })
        .collect();
    (summary, stats)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn windows_match_brute_force(case in case()) {
        let (got, stats) = run(&case, Options::default());
        prop_assert_eq!(got, brute_force(&case), "{}", yaml_of(&case));
        prop_assert_eq!(stats.late_hits, 0);
        prop_assert_eq!(stats.live_groups, 0);
    }

    #[test]
    fn group_cap_bounds_state(case in case(), cap in 1usize..3) {
        let options = Options { max_groups: cap, ..Options::default() };
        let set = load(&yaml_of(&case));
        let mut c = Correlator::with_options(&set, options);
        let rule = set.lookup("base").unwrap();
        let mut t = 0;
        for (n, (gap, g, v)) in case.hits.iter().enumerate() {
            t += gap;
            let vals = vec![Some(g.to_string()), v.map(|v| v.to_string())];
            c.process(&Hit::new(rule, t, vals, EventRef::new(0, n as u64)));
            prop_assert!(c.stats().live_groups as usize <= cap);
        }
        c.finish();
        prop_assert_eq!(c.stats().live_groups, 0);
    }
}
