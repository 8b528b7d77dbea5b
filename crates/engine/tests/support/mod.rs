//! Shared helpers for the corpus tests and the benchmark: finding the corpus, loading rules,
//! a test-only EVTX field mapping, reading the regression cases.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sigma::pipeline::{FieldMapper, ResolvedRule, Variant};
use sigma::rule::{Detection, DetectionItem, SelectionNode};
use sigma::value::Value as SigmaValue;
use sigma::{Rule, RuleBody};

/// The corpus root from `SIGWATCH_DATA`, or `None` (test skipped) when unset; with
/// `SIGWATCH_REQUIRE_DATA=1` a missing corpus fails the test.
pub fn data_dir(test: &str) -> Option<PathBuf> {
    match std::env::var_os("SIGWATCH_DATA") {
        Some(d) if Path::new(&d).join("sigma").is_dir() => Some(PathBuf::from(d)),
        _ => {
            if std::env::var("SIGWATCH_REQUIRE_DATA").as_deref() == Ok("1") {
                panic!(
                    "{test}: SIGWATCH_DATA is not set to the corpus but SIGWATCH_REQUIRE_DATA=1"
                );
            }
            eprintln!("{test}: skipped (set SIGWATCH_DATA to the shared corpus to run it)");
            None
        }
    }
}

/// Every file under `dir` with the extension, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Load every rule below a directory (files that fail to load are skipped).
pub fn load_rules(dir: &Path) -> Vec<Rule> {
    let mut rules = Vec::new();
    for f in files(dir, "yml") {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        rules.extend(sigma::load_str(&text, &f.to_string_lossy()).rules);
    }
    rules
}

/// Elements of `<UserData>` that appear in the regression events (one level below UserData).
const USERDATA_ELEMENTS: &[&str] = &["Operation_ClientFailure"];

/// Test-only mapping of Sigma's Windows field names to the evtx crate's JSON form of a record
/// (`Event.System.*`, `Event.EventData.*`). The `evtx` pipeline will replace it.
pub fn evtx_field(name: &str) -> Vec<String> {
    const SYSTEM: &[&str] = &[
        "EventID",
        "Channel",
        "Computer",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "EventRecordID",
        "Version",
    ];
    const ATTRS: &[&str] = &[
        "Provider",
        "Execution",
        "Security",
        "TimeCreated",
        "Correlation",
    ];
    if SYSTEM.contains(&name) {
        return vec![format!("Event.System.{name}")];
    }
    if let Some((elem, attr)) = name.split_once('_')
        && ATTRS.contains(&elem)
    {
        return vec![format!("Event.System.{elem}.#attributes.{attr}")];
    }
    let mut v = vec![format!("Event.EventData.{name}")];
    for e in USERDATA_ELEMENTS {
        v.push(format!("Event.UserData.{e}.{name}"));
    }
    v
}

fn map_node(n: &SelectionNode, f: &dyn Fn(&str) -> Vec<String>) -> SelectionNode {
    match n {
        SelectionNode::And(ns) => SelectionNode::And(ns.iter().map(|n| map_node(n, f)).collect()),
        SelectionNode::Or(ns) => SelectionNode::Or(ns.iter().map(|n| map_node(n, f)).collect()),
        SelectionNode::Item(i) => {
            let Some(field) = &i.field else {
                return SelectionNode::Item(i.clone());
            };
            let mut alts: Vec<SelectionNode> = f(field)
                .into_iter()
                .map(|name| {
                    SelectionNode::Item(DetectionItem {
                        field: Some(name),
                        ..i.clone()
                    })
                })
                .collect();
            if alts.len() == 1 {
                alts.remove(0)
            } else if i.flags.negated
                || i.values.iter().any(|v| {
                    v.leaves()
                        .iter()
                        .any(|l| matches!(l, SigmaValue::Null | SigmaValue::Exists(false)))
                })
            {
                // `neq`, `null`, `exists: false`: true only when true under every name the
                // field may have.
                SelectionNode::And(alts)
            } else {
                SelectionNode::Or(alts)
            }
        }
    }
}

/// Apply a field mapping to a detection (one-to-many names become OR).
pub fn map_detection(d: &Detection, f: &dyn Fn(&str) -> Vec<String>) -> Detection {
    let mut d = d.clone();
    for s in &mut d.selections {
        s.node = map_node(&s.node, f);
    }
    d
}

/// Resolve a rule with a field mapping (one variant, no log-source conditions).
pub fn resolve_mapped(rule: &Rule, f: &dyn Fn(&str) -> Vec<String>) -> ResolvedRule {
    let det = match &rule.body {
        RuleBody::Detection(d) => Some(&d.detection),
        RuleBody::Filter(fl) => Some(&fl.detection),
        RuleBody::Correlation(_) => None,
    };
    ResolvedRule {
        rule: rule.clone(),
        variants: det
            .map(|d| Variant {
                label: None,
                indices: Vec::new(),
                conditions: Vec::new(),
                detection: map_detection(d, f),
                fields: Arc::new(FieldMapper::default()),
                changes: Vec::new(),
            })
            .into_iter()
            .collect(),
    }
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
    for info in files(&data.join("regression_data"), "yml") {
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
        let events = files(&dir, "json")
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
