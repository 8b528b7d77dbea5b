//! `hunt --explain`: why each rule matched an event or did not.

use std::io::Write;

use engine::Explainer;
use sigma::rule::RuleBody;

use super::Hunter;
use crate::source::{self, InputFile, Progress, RecordData, SourceOptions};

/// Rule sets up to this size are explained rule by rule; above it only the rules that matched
/// or that routing and prefilter offered the event are, the rest are counted.
const EXPLAIN_ALL_UP_TO: usize = 10;

/// Which events to explain: `N` (record N of every file: EVTX EventRecordID, line or element
/// number) or `PATH:N` (record N of the file named PATH, as given or found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub path: Option<String>,
    pub record: u64,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, String> {
        let bad = || format!("'{text}' is not RECORD or PATH:RECORD (a record number)");
        match text.rsplit_once(':') {
            Some((path, n)) if !path.is_empty() => Ok(Selector {
                path: Some(path.to_owned()),
                record: n.trim().parse().map_err(|_| bad())?,
            }),
            _ => Ok(Selector {
                path: None,
                record: text.trim().parse().map_err(|_| bad())?,
            }),
        }
    }

    fn selects(&self, path: &str, record: u64) -> bool {
        record == self.record && self.path.as_deref().is_none_or(|p| p == path)
    }
}

/// Explains the selected events (every event without a selector) of `files`; returns how many
/// events were explained.
pub fn run(
    hunter: &Hunter,
    files: &[InputFile],
    opts: &SourceOptions,
    selector: Option<&Selector>,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let progress = Progress::new();
    let mut explained = 0;
    // Per pipeline: the engine's explainer (its naive evaluator takes seconds to build).
    let mut explainers: [Option<Explainer<'_>>; 5] = Default::default();
    for batch in source::read_sequential(files, opts, &progress) {
        for skip in &batch.skips {
            eprintln!("{skip}");
        }
        if batch.is_empty() {
            continue;
        }
        let path = batch.source.to_string();
        if selector.is_some_and(|s| !batch.records().any(|r| s.selects(&path, r.number))) {
            continue;
        }
        let choice = hunter.choose(&batch);
        let compiled = hunter.engine_ref(choice);
        let engine = &compiled.engine;
        let explainer = explainers[choice.index()].get_or_insert_with(|| engine.explainer());
        let mut scanner = engine.line_scanner();
        for record in batch.records() {
            if selector.is_some_and(|s| !s.selects(&path, record.number)) {
                continue;
            }
            let mut text_event = Vec::new();
            let json: &[u8] = match record.data {
                RecordData::Text(_) => {
                    if record.write_json(&mut text_event).is_err() {
                        continue;
                    }
                    &text_event
                }
                _ => record.text().as_bytes(),
            };
            let event = match scanner.scan(json) {
                Ok(e) => e,
                Err(err) => {
                    writeln!(out, "== {path}: record {}: {err}", record.number)?;
                    continue;
                }
            };
            explained += 1;
            writeln!(
                out,
                "== {path}: record {} (pipeline {}) ==",
                record.number, compiled.name
            )?;
            writeln!(out, "{}", event.text())?;
            let rules: Vec<usize> = (0..hunter.set.len())
                .filter(|&i| {
                    hunter.selection.active[i]
                        && matches!(hunter.set.rules[i].body, RuleBody::Detection(_))
                })
                .collect();
            let all = rules.len() <= EXPLAIN_ALL_UP_TO;
            let mut quiet = 0u64;
            let mut not_applicable = 0u64;
            for &rule in &rules {
                if engine.rules()[rule].skipped.is_some() {
                    not_applicable += 1;
                    if all {
                        writeln!(
                            out,
                            "[ ] rule '{}': not applicable under pipeline {} (its log source is not mapped)",
                            hunter.set.rules[rule].title(),
                            compiled.name
                        )?;
                    }
                    continue;
                }
                let x = explainer.explain(rule, &event);
                let offered = x.variants.iter().any(|v| v.routed && v.prefilter_passed);
                if all || x.matched || offered {
                    write!(out, "{x}")?;
                } else {
                    quiet += 1;
                }
            }
            if !all {
                writeln!(
                    out,
                    "({quiet} other rules were not offered this event: their log source conditions or required literals are absent; {not_applicable} rules do not apply under pipeline {})",
                    compiled.name
                )?;
            }
            writeln!(out)?;
        }
    }
    Ok(explained)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(
            Selector::parse("42"),
            Ok(Selector {
                path: None,
                record: 42
            })
        );
        assert_eq!(
            Selector::parse("C:\\logs\\a.evtx:7"),
            Ok(Selector {
                path: Some("C:\\logs\\a.evtx".to_owned()),
                record: 7
            })
        );
        assert!(Selector::parse("a.json:x").is_err());
        assert!(Selector::parse("").is_err());
    }
}
