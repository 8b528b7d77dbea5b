//! The engine on rules resolved by pipelines: rules a pipeline does not apply to are skipped
//! with their reason, hidden `_pipeline_cond*` selections are evaluated (and left out of
//! `them`), and the built-in `evtx` pipeline routes and renames fields.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

use engine::Engine;
use engine::naive::Naive;
use serde_json::{Value, json};
use sigma::pipeline::{Chain, ResolvedRule, builtin};

fn load(yaml: &str) -> sigma::Rule {
    let loaded = sigma::load_str(yaml, "t.yml");
    assert!(!loaded.rules.is_empty(), "{:?}", loaded.diagnostics);
    loaded.rules.into_iter().next().unwrap()
}

fn chain(p: sigma::pipeline::Pipeline) -> Chain {
    Chain::new(vec![p]).unwrap()
}

fn evtx() -> Chain {
    chain(builtin::get("evtx").unwrap().unwrap())
}

/// Engine on the value, engine on its JSON text, and the naive reference agree; the result.
fn matched(engine: &Engine, rules: &[ResolvedRule], ev: &Value) -> Vec<usize> {
    let mut w = engine.worker();
    let on_value: Vec<usize> = w.match_value(ev).iter().map(|m| m.rule).collect();
    let text = serde_json::to_vec(ev).unwrap();
    let on_text: Vec<usize> = w
        .match_json(&text)
        .unwrap()
        .iter()
        .map(|m| m.rule)
        .collect();
    let naive: Vec<usize> = Naive::new(rules, |i| !engine.is_compiled(i))
        .matches(ev)
        .iter()
        .map(|m| m.rule)
        .collect();
    assert_eq!(on_value, on_text, "value vs text: {ev}");
    assert_eq!(on_value, naive, "engine vs naive: {ev}");
    on_value
}

const PROC: &str = "title: proc\nlogsource: {product: windows, category: process_creation}\n\
                    detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n  other:\n    \
                    CommandLine|contains: whoami\n  condition: all of them\n";

#[test]
fn hidden_pipeline_conditions_are_evaluated_and_not_in_them() {
    let p = sigma::pipeline::read(
        "n.yml",
        "items:\n  - type: add-condition\n    negated: true\n    conditions:\n      Channel: Security\n      EventID: 4688\n",
    )
    .unwrap();
    let resolved = chain(p).apply(load(PROC)).unwrap();
    let d = &resolved.variants[0].detection;
    assert!(d.selection("_pipeline_cond1").is_some(), "{d:?}");
    let rules = vec![resolved];
    let engine = Engine::compile(rules.clone());
    assert!(engine.errors().is_empty(), "{:?}", engine.errors());
    let sysmon = json!({"Channel": "Sysmon", "EventID": 1, "Image": "C:\\x\\cmd.exe", "CommandLine": "whoami /all"});
    // `all of them` would need the hidden selection (Security 4688) if it counted it.
    assert_eq!(matched(&engine, &rules, &sysmon), vec![0]);
    // The hidden condition excludes Security 4688 events.
    let security = json!({"Channel": "Security", "EventID": 4688, "Image": "C:\\x\\cmd.exe", "CommandLine": "whoami"});
    assert!(matched(&engine, &rules, &security).is_empty());
    let security_other = json!({"Channel": "Security", "EventID": 4689, "Image": "C:\\x\\cmd.exe", "CommandLine": "whoami"});
    assert_eq!(matched(&engine, &rules, &security_other), vec![0]);
    let text = engine.explain(0, &security).to_string();
    assert!(text.contains("_pipeline_cond1"), "{text}");
}

#[test]
fn rules_the_pipeline_does_not_apply_to_are_skipped_with_their_reason() {
    let linux = load(
        "title: linux\nlogsource: {product: linux, category: process_creation}\n\
         detection:\n  sel:\n    Image|endswith: /sh\n  condition: sel\n",
    );
    let c = evtx();
    let rules = vec![c.apply(load(PROC)).unwrap(), c.apply(linux).unwrap()];
    assert!(rules[0].skipped.is_none());
    let reason = rules[1].skipped.clone().expect("evtx does not map linux");
    let engine = Engine::compile(rules.clone());
    assert!(engine.errors().is_empty(), "{:?}", engine.errors());
    assert_eq!(
        engine.skipped().collect::<Vec<_>>(),
        vec![(1, &reason)],
        "skipped rules are listed, not errors"
    );
    assert!(engine.is_compiled(0) && !engine.is_compiled(1));
    let ev = json!({"Image": "/bin/sh", "Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"}, "EventData": {"Image": "C:\\cmd.exe", "CommandLine": "whoami"}}});
    assert_eq!(matched(&engine, &rules, &ev), vec![0]);
    let ex = engine.explain(1, &ev);
    assert!(!ex.matched);
    assert_eq!(ex.error.as_deref(), Some(reason.to_string().as_str()));
}

#[test]
fn builtin_evtx_routes_by_channel_and_event_id() {
    let rules = vec![evtx().apply(load(PROC)).unwrap()];
    let engine = Engine::compile(rules.clone());
    assert!(engine.errors().is_empty(), "{:?}", engine.errors());
    let record = |channel: &str, id: u32, data: Value| json!({"Event": {"System": {"EventID": id, "Channel": channel}, "EventData": data}});
    let sysmon = record(
        "Microsoft-Windows-Sysmon/Operational",
        1,
        json!({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "cmd /c WHOAMI"}),
    );
    assert_eq!(matched(&engine, &rules, &sysmon), vec![0]);
    // Sysmon event 3 is network, not process creation.
    let wrong_id = record(
        "Microsoft-Windows-Sysmon/Operational",
        3,
        json!({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "whoami"}),
    );
    assert!(matched(&engine, &rules, &wrong_id).is_empty());
    // Fields at the top level are not EVTX fields.
    let flat = json!({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\cmd.exe", "CommandLine": "whoami"});
    assert!(matched(&engine, &rules, &flat).is_empty());
}

#[test]
fn worker_reports_invalid_json_text() {
    let engine = Engine::compile(vec![evtx().apply(load(PROC)).unwrap()]);
    let mut w = engine.worker();
    assert!(w.match_json(b"{\"a\": ").is_err());
    assert!(w.match_json(b"[1, 2]").is_err());
    assert!(w.match_json(b"{}").unwrap().is_empty());
}
