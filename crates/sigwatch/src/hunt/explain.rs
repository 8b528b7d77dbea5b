//! `hunt --explain`: why each rule matched an event or did not.

use std::io::Write;
use std::path::{Component, Path};

use engine::Explainer;
use sigma::rule::RuleBody;

use super::Hunter;
use crate::source::{self, InputFile, InputKind, Progress, RecordData, SourceOptions};

/// Rule sets up to this size are explained rule by rule; above it only the rules that matched
/// or that routing and prefilter offered the event are, the rest are counted.
const EXPLAIN_ALL_UP_TO: usize = 10;

/// Which events to explain: `N` (record N of every file: EVTX EventRecordID, line or element
/// number) or `PATH:N` (record N of the inputs PATH names, see [`Selector::inputs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub path: Option<String>,
    pub record: u64,
}

/// Inputs listed by name when PATH names none of them.
const LISTED_INPUTS: usize = 5;

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

    /// The indices of the inputs to explain: all of them without a PATH. A PATH names an input
    /// when it is `-` and the input is stdin, when it is the input as hunt shows it, when its
    /// last components are the input's (`x.jsonl` or `logs/x.jsonl` for `./logs/x.jsonl`, a
    /// file found in a folder by its name), or when both exist and are the same file however
    /// spelled. A PATH that names no input is an error listing some of them: the user asked
    /// about a file hunt does not read, and "nothing matched" would hide the typo.
    pub fn inputs(&self, files: &[InputFile]) -> Result<Vec<usize>, String> {
        let Some(wanted) = self.path.as_deref() else {
            return Ok((0..files.len()).collect());
        };
        let real = std::fs::canonicalize(wanted).ok();
        let tail = components(Path::new(wanted));
        let ends_with_tail = |path: &Path| !tail.is_empty() && components(path).ends_with(&tail);
        let names = |file: &InputFile| match &file.kind {
            InputKind::Stdin => wanted == "-" || wanted == &*file.name,
            InputKind::Path { path, .. } => {
                wanted == &*file.name
                    || ends_with_tail(path)
                    || real.as_ref().is_some_and(|real| {
                        std::fs::canonicalize(path).is_ok_and(|other| other == *real)
                    })
            }
            InputKind::Unreadable { .. } => {
                wanted == &*file.name || ends_with_tail(Path::new(&*file.name))
            }
        };
        let found: Vec<usize> = (0..files.len()).filter(|&i| names(&files[i])).collect();
        if found.is_empty() {
            return Err(no_such_input(wanted, files));
        }
        Ok(found)
    }
}

/// A path's components without `.`, to compare spellings (`./a//b` is `a/b`).
fn components(path: &Path) -> Vec<Component<'_>> {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

fn no_such_input(wanted: &str, files: &[InputFile]) -> String {
    let mut listed: Vec<&str> = files.iter().take(LISTED_INPUTS).map(|f| &*f.name).collect();
    let more = files.len().saturating_sub(LISTED_INPUTS);
    let and_more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    if listed.is_empty() {
        listed.push("none");
    }
    format!(
        "--explain: '{wanted}' is none of the inputs (give the file as on the command line or \
         found in a folder, a trailing part of its path such as its name, or - for stdin); \
         the inputs are: {}{and_more}",
        listed.join(", ")
    )
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
    let chosen: Vec<InputFile>;
    let files = match selector {
        Some(
            s @ Selector {
                path: Some(path), ..
            },
        ) => {
            let found = s.inputs(files).map_err(anyhow::Error::msg)?;
            if found.len() > 1 {
                eprintln!(
                    "hunt: --explain: '{path}' names {} inputs; record {} is explained in each: {}",
                    found.len(),
                    s.record,
                    found
                        .iter()
                        .map(|&i| &*files[i].name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            chosen = found.into_iter().map(|i| files[i].clone()).collect();
            &chosen[..]
        }
        _ => files,
    };
    let selects = |record: u64| selector.is_none_or(|s| s.record == record);
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
        if !batch.records().any(|r| selects(r.number)) {
            continue;
        }
        let choice = hunter.choose(&batch);
        let compiled = hunter.engine_ref(choice);
        let engine = &compiled.engine;
        let explainer = explainers[choice.index()].get_or_insert_with(|| engine.explainer());
        let mut scanner = engine.line_scanner();
        for record in batch.records() {
            if !selects(record.number) {
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
                    if x.matched
                        && let Some(Some(fields)) = compiled.presence.get(rule)
                        && !super::has_any(&event, fields)
                    {
                        writeln!(
                            out,
                            "    not counted: without a pipeline, a match by the absence of all of \
                             the rule's fields does not count (see docs/hunt.md)"
                        )?;
                    }
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

    fn selector(path: &str) -> Selector {
        Selector {
            path: Some(path.to_owned()),
            record: 3,
        }
    }

    #[test]
    fn a_path_names_the_inputs_it_spells_ends_or_is() {
        // Found by a usability review: only the path exactly as hunt shows it selected a file,
        // so `logs/x.jsonl` for `./logs/x.jsonl`, a file found in a folder by its name, and `-`
        // for stdin all reported "no event matched" and exited 0.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in ["logs/x.jsonl", "logs/y.jsonl", "other/x.jsonl"] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "{}\n").unwrap();
        }
        let files = [
            InputFile::path(root.join("logs/./x.jsonl")),
            InputFile::path(root.join("logs/y.jsonl")),
            InputFile::stdin(),
            InputFile::path(root.join("other/x.jsonl")),
        ];
        let pick = |path: &str| selector(path).inputs(&files);
        let shown = files[0].name.to_string();
        assert_eq!(pick(&shown), Ok(vec![0]), "as shown");
        assert_eq!(pick("y.jsonl"), Ok(vec![1]), "by name");
        assert_eq!(pick("logs/y.jsonl"), Ok(vec![1]), "by trailing components");
        assert_eq!(pick("./logs//y.jsonl"), Ok(vec![1]), "spelled otherwise");
        assert_eq!(pick("logs/x.jsonl"), Ok(vec![0]));
        let around = root.join("other/../logs/x.jsonl");
        assert_eq!(pick(around.to_str().unwrap()), Ok(vec![0]), "the same file");
        assert_eq!(pick("-"), Ok(vec![2]));
        assert_eq!(pick("<stdin>"), Ok(vec![2]));
        // The same name in two folders: both.
        assert_eq!(pick("x.jsonl"), Ok(vec![0, 3]));
        // A part of a name is not a component.
        assert!(pick("s/y.jsonl").is_err());
        assert!(pick(".").is_err());
        // Without a PATH, every input.
        assert_eq!(
            Selector {
                path: None,
                record: 3
            }
            .inputs(&files),
            Ok(vec![0, 1, 2, 3])
        );
    }

    #[test]
    fn a_path_that_names_no_input_is_an_error_listing_some() {
        let files: Vec<InputFile> = (1..=7)
            .map(|i| InputFile::path(format!("logs/f{i}.jsonl")))
            .collect();
        let err = selector("nope.jsonl").inputs(&files).unwrap_err();
        assert!(err.contains("'nope.jsonl' is none of the inputs"), "{err}");
        assert!(
            err.ends_with("logs/f1.jsonl, logs/f2.jsonl, logs/f3.jsonl, logs/f4.jsonl, logs/f5.jsonl and 2 more"),
            "{err}"
        );
        let err = selector("nope.jsonl").inputs(&files[..1]).unwrap_err();
        assert!(err.ends_with("the inputs are: logs/f1.jsonl"), "{err}");
    }
}
