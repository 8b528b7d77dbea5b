//! The whole SigmaHQ snapshot loads. Reads the data root from SIGWATCH_DATA; skipped when unset
//! unless SIGWATCH_REQUIRE_DATA=1 (CI), in which case a missing corpus fails.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

struct Totals {
    files: usize,
    rules: usize,
    errors: Vec<String>,
}

fn load_dir(dir: &Path) -> Totals {
    let files = testkit::rule_files(dir);
    let mut t = Totals {
        files: files.len(),
        rules: 0,
        errors: Vec::new(),
    };
    let mut all_rules = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let loaded = sigma::load_str(&text, &f.display().to_string());
        t.rules += loaded.documents;
        for d in loaded.diagnostics.iter().filter(|d| d.is_error()) {
            t.errors.push(d.render(&f.display().to_string(), &text));
        }
        all_rules.extend(loaded.rules);
    }
    let set = sigma::ruleset::RuleSet::new(all_rules);
    for d in set.check() {
        if d.diagnostic.is_error() {
            t.errors.push(format!(
                "{}: {}",
                set.rules[d.rule].origin.path, d.diagnostic
            ));
        }
    }
    t
}

#[test]
fn every_published_rule_loads_without_errors() {
    let Some(root) = testkit::data_root("sigma corpus") else {
        return;
    };
    let sigma = root.join("sigma");
    let mut total = 0;
    for dir in [
        "rules",
        "rules-emerging-threats",
        "rules-threat-hunting",
        "rules-placeholder",
        "rules-compliance",
        "rules-dfir",
        "deprecated",
    ] {
        let t = load_dir(&sigma.join(dir));
        assert!(
            t.errors.is_empty(),
            "{dir}: {} errors:\n{}",
            t.errors.len(),
            t.errors.join("\n")
        );
        // Every file of the snapshot holds exactly one rule.
        assert_eq!(t.rules, t.files, "{dir}");
        total += t.rules;
    }
    // rules/ + ET + TH alone are 3,754 rules.
    let main: usize = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| load_dir(&sigma.join(d)).rules)
        .sum();
    assert_eq!(main, 3754);
    eprintln!("loaded {total} rules");
}

#[test]
fn unsupported_rules_parse_or_get_a_located_diagnostic() {
    let Some(root) = testkit::data_root("sigma corpus") else {
        return;
    };
    let files = testkit::rule_files(&root.join("sigma/unsupported"));
    assert!(!files.is_empty());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let loaded = sigma::load_str(&text, &f.display().to_string());
        if loaded.broken > 0 {
            let located = loaded
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .all(|d| d.span.start.line >= 1);
            assert!(
                located && loaded.errors() > 0,
                "{}: broken without a located error",
                f.display()
            );
        }
    }
}
