//! Shared helpers for the engine's corpus tests and benchmark: loading rules, the built-in
//! pipelines, reading the regression cases (`testkit` finds the corpus).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use sigma::Rule;
use sigma::pipeline::{Chain, ResolvedRule};

/// Load every rule below a directory (files that fail to load are skipped).
pub fn load_rules(dir: &Path) -> Vec<Rule> {
    let mut rules = Vec::new();
    for f in testkit::files(dir, &["yml"]) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        rules.extend(sigma::load_str(&text, &f.to_string_lossy()).rules);
    }
    rules
}

/// The built-in pipeline of that name, as a chain (panics on an unknown name or a broken
/// built-in: both are test failures).
pub fn builtin_chain(name: &str) -> Chain {
    let p = sigma::pipeline::builtin::get(name)
        .expect("a built-in pipeline")
        .unwrap_or_else(|e| panic!("built-in {name}: {}", e.render()));
    Chain::new(vec![p]).unwrap_or_else(|e| panic!("chain {name}: {}", e.render()))
}

/// Resolve rules with a chain; rules the chain cannot resolve are left out (listed on stderr).
pub fn resolve_all(chain: &Chain, rules: &[Rule]) -> Vec<ResolvedRule> {
    rules
        .iter()
        .filter_map(|r| match chain.apply(r) {
            Ok(rr) => Some(rr),
            Err(e) => {
                eprintln!("{}: {e}", r.title());
                None
            }
        })
        .collect()
}

/// A stream of concatenated JSON values (the regression `.json` files hold one per event).
pub fn read_json_stream(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("readable regression json");
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("valid regression json")
}

/// One SigmaHQ regression case.
pub struct Case {
    pub dir: PathBuf,
    pub rule_id: String,
    pub match_count: Option<usize>,
    pub events: Vec<Value>,
}

/// Every regression case (folders with an `info.yml`).
pub fn regression_cases(data: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for info in testkit::files(&data.join("regression_data"), &["yml"]) {
        if info.file_name().is_none_or(|n| n != "info.yml") {
            continue;
        }
        let text = std::fs::read_to_string(&info).expect("readable info.yml");
        let mut rule_id = None;
        let mut match_count = None;
        let mut in_meta = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("rule_metadata:") {
                in_meta = true;
            } else if in_meta && let Some(id) = t.strip_prefix("- id:") {
                rule_id.get_or_insert_with(|| id.trim().to_owned());
            } else if let Some(n) = t.strip_prefix("match_count:") {
                match_count = n.trim().parse().ok();
            }
        }
        let dir = info.parent().expect("info.yml has a folder").to_path_buf();
        let events = testkit::files(&dir, &["json"])
            .iter()
            .flat_map(|j| read_json_stream(j))
            .collect();
        out.push(Case {
            dir,
            rule_id: rule_id.expect("info.yml names the rule"),
            match_count,
            events,
        });
    }
    out
}
