//! NO LOG-SOURCE CONFUSION: with all of SIGWATCH_DATA/sigma/rules/windows over
//! SIGWATCH_DATA/evtx-attack-samples, every detection's event belongs to its rule's log source.
//!
//! The check is independent of the engine: the log-source conditions the `evtx` pipeline
//! defines for the rule (Channel, EventID, Provider... as `sigwatch resolve -p evtx` shows them)
//! are read from the sigma crate and evaluated here, by a plain lookup in the event's JSON;
//! at least one variant's conditions must all hold.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::process::{Command, Stdio};

use serde_json::Value;
use sigma::pipeline::{Chain, Variant};
use sigma::rule::DetectionItem;
use sigma::value::{Part, Value as SigmaValue};

/// Values of a dotted path in the evtx crate's JSON (`#text` of attribute objects, arrays).
fn lookup<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match (path.split_first(), v) {
        (None, Value::Object(m)) if m.contains_key("#text") => out.push(&m["#text"]),
        (None, Value::Array(a)) => a.iter().for_each(|x| lookup(x, path, out)),
        (None, _) => out.push(v),
        (Some(_), Value::Array(a)) => a.iter().for_each(|x| lookup(x, path, out)),
        (Some((first, rest)), Value::Object(m)) => {
            if let Some(next) = m.get(*first) {
                lookup(next, rest, out);
            }
        }
        _ => {}
    }
}

fn glob(pattern: &[Part], text: &str) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((Part::Lit(l), rest)) => {
            let l = l.to_lowercase();
            text.starts_with(&l) && glob(rest, &text[l.len()..])
        }
        Some((Part::OneChar, rest)) => {
            let mut chars = text.chars();
            chars.next().is_some() && glob(rest, chars.as_str())
        }
        Some((Part::AnyChars, rest)) => text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .any(|i| glob(rest, &text[i..])),
        Some((Part::Placeholder(_), _)) => false,
    }
}

fn value_holds(want: &SigmaValue, got: &Value) -> bool {
    let text = match got {
        Value::String(s) => s.to_lowercase(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    match want {
        SigmaValue::Str(s) => glob(s.parts(), &text),
        SigmaValue::Num(n) => {
            text == n.text || text.parse::<f64>().ok() == n.text.parse::<f64>().ok()
        }
        SigmaValue::AnyOf(vs) => vs.iter().any(|v| value_holds(v, got)),
        other => panic!("log-source condition value not handled here: {other:?}"),
    }
}

fn condition_holds(item: &DetectionItem, event: &Value) -> bool {
    let field = item.field.as_deref().expect("conditions name a field");
    let parts: Vec<&str> = field.split('.').collect();
    let mut found = Vec::new();
    lookup(event, &parts, &mut found);
    let any = item
        .values
        .iter()
        .any(|v| found.iter().any(|g| value_holds(&v.value, g)));
    any != item.flags.negated
}

fn variant_holds(v: &Variant, event: &Value) -> bool {
    v.conditions.iter().all(|c| condition_holds(c, event))
}

#[test]
fn every_detection_meets_its_rules_log_source() {
    let Some(data) = testkit::data_root("no log-source confusion") else {
        return;
    };
    let rules_dir = data.join("sigma/rules/windows");
    let logs = testkit::files(&data.join("evtx-attack-samples"), &["evtx"]);
    assert!(logs.len() > 200);

    let out = Command::new(env!("CARGO_BIN_EXE_sigwatch"))
        .args(["hunt", "--format", "jsonl", "-q", "-r"])
        .arg(&rules_dir)
        .args(&logs)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The rules, by id, resolved with the evtx pipeline.
    let chain = Chain::new(vec![
        sigma::pipeline::builtin::get("evtx").unwrap().unwrap(),
    ])
    .unwrap();
    let rule_files = testkit::files(&rules_dir, &[]);
    let mut variants: HashMap<String, Vec<Variant>> = HashMap::new();
    for f in rule_files {
        let text = std::fs::read_to_string(&f).unwrap();
        for rule in sigma::load_str(&text, &f.display().to_string()).rules {
            if let (Some(id), Ok(resolved)) = (rule.id(), chain.apply(&rule)) {
                variants.insert(id.to_owned(), resolved.variants);
            }
        }
    }

    let mut checked = 0;
    let mut confused = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let d: Value = serde_json::from_str(line).unwrap();
        let id = d["rule_id"].as_str().unwrap();
        let vs = variants
            .get(id)
            .unwrap_or_else(|| panic!("detection of rule {id}, which does not resolve"));
        assert!(!vs.is_empty(), "rule {id} has no variant but detected");
        assert!(
            vs.iter().all(|v| !v.conditions.is_empty()),
            "rule {id}: a variant without log-source conditions"
        );
        if !vs.iter().any(|v| variant_holds(v, &d["event"])) {
            confused.push(format!(
                "{} ({}) on {}:{} channel {} event id {}",
                d["rule_title"],
                id,
                d["path"],
                d["record"],
                d["event"]["Event"]["System"]["Channel"],
                d["event"]["Event"]["System"]["EventID"]
            ));
        }
        checked += 1;
    }
    assert!(checked > 500, "only {checked} detections");
    assert!(
        confused.is_empty(),
        "{} of {checked} detections outside their log source:\n{}",
        confused.len(),
        confused.join("\n")
    );
}
