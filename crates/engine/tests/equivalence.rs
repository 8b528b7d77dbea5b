//! Optimised engine == naive reference, on real rules and real events:
//! - every Windows rule (EVTX-mapped) over every regression event (serde_json Values);
//! - every Windows rule (field names as written, which is how the NXLog-shipped
//!   security-datasets name them) over a sample of security-datasets JSON lines, the engine
//!   reading the lines lazily and the naive evaluator reading full `serde_json::Value`s.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

mod support;

use std::io::{BufRead, BufReader};

use engine::naive::Naive;
use engine::{Engine, Match};
use sigma::pipeline::resolve_identity;

fn engine_matches(engine: &Engine, ev: &dyn engine::Event) -> Vec<(usize, usize)> {
    engine
        .matches(ev)
        .map(|m: Match| (m.rule, m.variant))
        .collect()
}

#[test]
fn windows_rules_on_regression_events() {
    let Some(data) = testkit::data_root("windows_rules_on_regression_events") else {
        return;
    };
    let rules = support::load_rules(&data.join("sigma/rules/windows"));
    assert!(rules.len() > 2000);
    let resolved = support::resolve_all(&support::builtin_chain("evtx"), &rules);
    let engine = Engine::compile(resolved.clone());
    let naive = Naive::new(&resolved, |i| !engine.is_compiled(i));
    let mut total = 0;
    let mut events = 0;
    for case in support::regression_cases(&data) {
        for ev in &case.events {
            let got = engine_matches(&engine, ev);
            let want: Vec<_> = naive
                .matches(ev)
                .iter()
                .map(|m| (m.rule, m.variant))
                .collect();
            assert_eq!(got, want, "event in {}", case.dir.display());
            total += got.len();
            events += 1;
        }
    }
    println!(
        "{} rules ({} refused): {events} events, {total} matches, engine == naive",
        rules.len(),
        engine.errors().len()
    );
    assert!(total > events, "expected many matches");
}

#[test]
fn windows_rules_on_security_datasets_lines() {
    let Some(data) = testkit::data_root("windows_rules_on_security_datasets_lines") else {
        return;
    };
    let rules = support::load_rules(&data.join("sigma/rules/windows"));
    let resolved: Vec<_> = rules.iter().map(resolve_identity).collect();
    let engine = Engine::compile(resolved.clone());
    let naive = Naive::new(&resolved, |i| !engine.is_compiled(i));
    // Fewer lines in debug builds: the naive evaluator is slow by design.
    let per_file = if cfg!(debug_assertions) { 2 } else { 200 };
    let mut scanner = engine.line_scanner();
    let (mut events, mut total) = (0, 0);
    for f in testkit::files(&data.join("security-datasets"), &["gz"]) {
        let file = std::fs::File::open(&f).expect("readable dataset");
        let reader = BufReader::new(flate2::read::GzDecoder::new(file));
        for line in reader.split(b'\n').take(per_file) {
            let line = line.expect("readable gzip");
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line) else {
                assert!(scanner.scan(&line).is_err());
                continue;
            };
            let ev = scanner.scan(&line).expect("valid line");
            let got = engine_matches(&engine, &ev);
            let from_value = engine_matches(&engine, &value);
            let want: Vec<_> = naive
                .matches(&value)
                .iter()
                .map(|m| (m.rule, m.variant))
                .collect();
            assert_eq!(got, want, "line of {}", f.display());
            assert_eq!(from_value, want, "line of {} (as Value)", f.display());
            total += got.len();
            events += 1;
        }
    }
    println!("{events} lines, {total} matches, engine == naive");
    assert!(total > 0);
}
