//! The truth test: every SigmaHQ regression case must detect with its rule, resolved with the
//! shipped built-in `evtx` pipeline (log-source routing and field names), from the JSON form of
//! its EVTX events.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

mod support;

use std::collections::HashMap;

use engine::Engine;
use engine::naive::Naive;

#[test]
fn regression_cases_detect() {
    let Some(data) = testkit::data_root("regression_cases_detect") else {
        return;
    };
    let rules = support::load_rules(&data.join("sigma/rules"));
    let by_id: HashMap<&str, &sigma::Rule> = rules
        .iter()
        .filter_map(|r| r.id().map(|id| (id, r)))
        .collect();
    let chain = support::builtin_chain("evtx");
    let cases = support::regression_cases(&data);
    assert!(
        cases.len() >= 127,
        "expected the 127 cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut over = Vec::new();
    for case in &cases {
        let Some(rule) = by_id.get(case.rule_id.as_str()) else {
            failures.push(format!(
                "{}: rule {} not found",
                case.dir.display(),
                case.rule_id
            ));
            continue;
        };
        let resolved = match chain.apply(*rule) {
            Ok(r) => vec![r],
            Err(e) => {
                failures.push(format!(
                    "{}: pipeline refused the rule: {e}",
                    case.dir.display()
                ));
                continue;
            }
        };
        if let Some(na) = &resolved[0].skipped {
            failures.push(format!("{}: {na}", case.dir.display()));
            continue;
        }
        let engine = Engine::compile(resolved.clone());
        if let Some(e) = engine.errors().first() {
            failures.push(format!("{}: {e}", case.dir.display()));
            continue;
        }
        let naive = Naive::new(&resolved, |_| false);
        let mut hits = 0;
        for ev in &case.events {
            let got = engine.matches(ev).count();
            let reference = naive.matches(ev).len();
            assert_eq!(
                got,
                reference,
                "engine and naive disagree in {}",
                case.dir.display()
            );
            hits += got;
        }
        // `match_count` counts SigmaHQ's matches on the .evtx; the .json may hold more events
        // of the same log that the rule as written also matches, so it is a minimum here.
        let expected = case.match_count.unwrap_or(1);
        if hits > expected {
            over.push(format!("{} ({hits} > {expected})", case.rule_id));
        }
        if hits < expected {
            failures.push(format!(
                "{}: rule {} '{}' matched {hits} of {} events, expected {expected}",
                case.dir.display(),
                case.rule_id,
                rule.title(),
                case.events.len()
            ));
        }
    }
    println!(
        "regression truth test: {} of {} cases detect",
        cases.len() - failures.len(),
        cases.len()
    );
    println!(
        "cases matching more events than match_count: {}",
        over.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
