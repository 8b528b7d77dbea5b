//! The loader on malformed rules (every kind of error, with the right line and column) and on
//! tricky valid rules (which must load without errors).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use sigma::rule::{CorrelationType, RuleBody, SelectionNode};
use sigma::value::Value;
use sigma::{LoadedFile, load_str};

fn load(text: &str) -> LoadedFile {
    load_str(text, "test.yml")
}

/// (code, line, column) of every error.
fn errors(f: &LoadedFile) -> Vec<(&'static str, u32, u32)> {
    f.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code, d.span.start.line, d.span.start.column))
        .collect()
}

fn render(text: &str) -> String {
    let f = load(text);
    let mut out = String::new();
    for d in &f.diagnostics {
        out.push_str(&d.render("test.yml", text));
    }
    out
}

/// A valid rule loads without any error and yields exactly one rule.
fn valid(text: &str) -> sigma::Rule {
    let f = load(text);
    let errs: Vec<String> = f
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render("t", text))
        .collect();
    assert!(errs.is_empty(), "unexpected errors:\n{}", errs.join("\n"));
    assert_eq!(f.rules.len(), 1, "{:?}", f.diagnostics);
    f.rules.into_iter().next().unwrap()
}

const HEAD: &str =
    "title: t\nid: 5638f7c0-ac70-491d-8465-2a65075e0d86\nlogsource:\n    product: windows\n";

fn rule(detection: &str) -> String {
    format!("{HEAD}detection:\n{detection}")
}

// ---------- malformed rules ----------

#[test]
fn yaml_syntax_error() {
    let f = load("title: t\ndetection:\n  sel:\n    a: 'unclosed\n  condition: sel\n");
    assert_eq!(f.broken, 1);
    let e = errors(&f);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, "yaml-syntax");
}

#[test]
fn duplicate_key() {
    let f = load(&rule(
        "    sel:\n        a: 1\n        a: 2\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("duplicate-key", 8, 9)]);
    assert!(f.rules.is_empty());
}

#[test]
fn root_not_a_map() {
    let f = load("- a\n- b\n");
    assert_eq!(errors(&f), [("not-a-map", 1, 1)]);
}

#[test]
fn missing_sections() {
    let f = load(
        "id: x\nlogsource:\n    product: windows\ndetection:\n    sel: a\n    condition: sel\n",
    );
    assert!(errors(&f).iter().any(|e| e.0 == "missing-title"));
    let f = load("title: t\ndetection:\n    sel: a\n    condition: sel\n");
    assert!(errors(&f).iter().any(|e| e.0 == "missing-logsource"));
    let f = load("title: t\nlogsource:\n    product: windows\n");
    assert!(errors(&f).iter().any(|e| e.0 == "missing-detection"));
    let f = load(&rule("    sel: a\n"));
    assert_eq!(errors(&f), [("missing-condition", 6, 5)]);
}

#[test]
fn unknown_modifier_points_at_it_and_suggests() {
    let text = rule("    sel:\n        CommandLine|contians: x\n    condition: sel\n");
    let f = load(&text);
    assert_eq!(errors(&f), [("unknown-modifier", 7, 21)]);
    let d = &f.diagnostics[0];
    assert_eq!(d.help.as_deref(), Some("did you mean 'contains'?"));
    assert_eq!(d.span.end.column, 29);
    insta::assert_snapshot!(render(&text));
}

#[test]
fn invalid_modifier_chains() {
    let f = load(&rule(
        "    sel:\n        a|contains|re: x\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("invalid-modifier", 7, 20)]);
    let f = load(&rule("    sel:\n        a|i: x\n    condition: sel\n"));
    assert_eq!(errors(&f), [("invalid-modifier", 7, 11)]);
    let f = load(&rule(
        "    sel:\n        a|startswith|endswith: x\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("invalid-modifier", 7, 22)]);
    let f = load(&rule(
        "    sel:\n        a|exists|contains: true\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("invalid-modifier", 7, 18)]);
    let f = load(&rule(
        "    sel:\n        '|exists': true\n    condition: sel\n",
    ));
    assert_eq!(errors(&f)[0].0, "invalid-modifier");
}

#[test]
fn invalid_values_are_load_errors() {
    // A regex that does not compile.
    let f = load(&rule("    sel:\n        a|re: 'a(b'\n    condition: sel\n"));
    assert_eq!(errors(&f), [("invalid-value", 7, 15)]);
    // A network that is not one.
    let f = load(&rule(
        "    sel:\n        ip|cidr:\n            - 10.0.0.0/8\n            - 300.1.1.1/8\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("invalid-value", 9, 15)]);
    // gt on a non-number.
    let f = load(&rule("    sel:\n        n|gt: many\n    condition: sel\n"));
    assert_eq!(errors(&f), [("invalid-value", 7, 15)]);
    // exists needs a boolean.
    let f = load(&rule(
        "    sel:\n        n|exists: maybe\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("invalid-value", 7, 19)]);
    // base64 of a wildcard.
    let f = load(&rule(
        "    sel:\n        n|base64: 'a*'\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("invalid-value", 7, 19)]);
    // time part out of range.
    let f = load(&rule("    sel:\n        t|hour: 25\n    condition: sel\n"));
    assert_eq!(errors(&f), [("invalid-value", 7, 17)]);
    // A map as a value.
    let f = load(&rule(
        "    sel:\n        a:\n            b: c\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("invalid-value", 8, 13)]);
    // null inside a list.
    let f = load(&rule(
        "    sel:\n        a:\n            - x\n            - null\n    condition: sel\n",
    ));
    assert_eq!(errors(&f), [("null-in-list", 9, 15)]);
    // An empty list never matches.
    let f = load(&rule("    sel:\n        a: []\n    condition: sel\n"));
    assert_eq!(errors(&f), [("invalid-value", 7, 12)]);
    // Empty selection.
    let f = load(&rule("    sel:\n    condition: sel\n"));
    assert_eq!(errors(&f)[0].0, "empty-selection");
}

#[test]
fn condition_errors_point_at_the_column() {
    let text = rule("    selection:\n        a: 1\n    condition: selection and not fliter\n");
    let f = load(&text);
    assert_eq!(errors(&f), [("unknown-identifier", 8, 34)]);
    insta::assert_snapshot!(render(&text));

    let f = load(&rule(
        "    selection:\n        a: 1\n    condition: 1 of filter_*\n",
    ));
    assert_eq!(errors(&f), [("unknown-identifier", 8, 16)]);

    let f = load(&rule(
        "    selection:\n        a: 1\n    condition: selection and\n",
    ));
    assert_eq!(errors(&f), [("condition-syntax", 8, 29)]);

    let f = load(&rule(
        "    selection:\n        a: 1\n    condition: (selection\n",
    ));
    assert_eq!(errors(&f), [("condition-syntax", 8, 16)]);

    // Quoted condition: columns shift by the quote.
    let f = load(&rule(
        "    selection:\n        a: 1\n    condition: 'selection or or'\n",
    ));
    assert_eq!(errors(&f), [("condition-syntax", 8, 30)]);

    let f = load(&rule("    _sel:\n        a: 1\n    condition: 1 of them\n"));
    assert_eq!(errors(&f)[0].0, "unknown-identifier");

    let f = load(&rule(
        "    sel:\n        a: 1\n    condition: sel | near other\n",
    ));
    assert_eq!(errors(&f), [("unknown-identifier", 8, 27)]);
}

#[test]
fn unused_selection_is_a_warning() {
    let f = load(&rule(
        "    sel:\n        a: 1\n    other:\n        b: 1\n    condition: sel\n",
    ));
    assert!(errors(&f).is_empty());
    assert_eq!(f.rules.len(), 1);
    assert!(
        f.diagnostics
            .iter()
            .any(|d| d.code == "unused-selection" && d.span.start.line == 8)
    );
}

#[test]
fn invalid_timeframe() {
    let f = load(&rule(
        "    sel:\n        a: 1\n    timeframe: 5x\n    condition: sel | count() > 3\n",
    ));
    assert_eq!(errors(&f), [("invalid-timespan", 8, 16)]);
}

#[test]
fn correlation_errors() {
    let base = "title: c\nid: 0e95725d-7320-415d-80f7-004da920fc11\ncorrelation:\n";
    let f = load(&format!(
        "{base}    type: event_cnt\n    rules: [a]\n    timespan: 5m\n    condition:\n        gte: 3\n"
    ));
    assert_eq!(errors(&f), [("invalid-correlation", 4, 11)]);
    assert_eq!(
        f.diagnostics[0].help.as_deref(),
        Some("did you mean 'event_count'?")
    );
    let f = load(&format!(
        "{base}    type: event_count\n    rules: [a]\n    condition:\n        gte: 3\n"
    ));
    assert_eq!(errors(&f), [("invalid-timespan", 4, 5)]);
    let f = load(&format!(
        "{base}    type: event_count\n    rules: [a]\n    timespan: 5 minutes\n    condition:\n        gte: 3\n"
    ));
    assert_eq!(errors(&f), [("invalid-timespan", 6, 15)]);
    let f = load(&format!(
        "{base}    type: event_count\n    rules: [a]\n    timespan: 5m\n"
    ));
    assert_eq!(errors(&f), [("invalid-correlation", 4, 5)]);
    let f = load(&format!(
        "{base}    type: value_count\n    rules: [a]\n    timespan: 5m\n    condition:\n        gte: 3\n"
    ));
    assert_eq!(errors(&f), [("invalid-correlation", 8, 9)]);
    let f = load(&format!(
        "{base}    type: event_count\n    rules: [a]\n    timespan: 5m\n    condition:\n        more: 3\n"
    ));
    assert_eq!(errors(&f)[0], ("invalid-correlation", 8, 9));
    let f = load(&format!(
        "{base}    type: event_count\n    rules: []\n    timespan: 5m\n    condition:\n        gt: 3\n"
    ));
    assert_eq!(errors(&f), [("missing-rules", 5, 12)]);
    let f = load(&format!(
        "{base}    type: event_count\n    rules: [a]\n    timespan: 5m\n    condition:\n        gt: lots\n"
    ));
    assert_eq!(errors(&f), [("invalid-correlation", 8, 13)]);
}

#[test]
fn correlation_reference_to_missing_rule() {
    let text = "title: c\nid: 0e95725d-7320-415d-80f7-004da920fc11\ncorrelation:\n    type: event_count\n    rules:\n        - no_such_rule\n    timespan: 5m\n    condition:\n        gte: 3\n";
    let f = load(text);
    assert!(errors(&f).is_empty());
    let set = sigma::ruleset::RuleSet::new(f.rules);
    let ds = set.check();
    assert_eq!(ds.len(), 1);
    let d = &ds[0].diagnostic;
    assert_eq!(
        (d.code, d.span.start.line, d.span.start.column),
        ("unknown-rule-reference", 6, 11)
    );
    assert!(d.is_error());
}

#[test]
fn filter_errors() {
    let f = load(
        "title: f\nlogsource:\n    product: windows\nfilter:\n    selection:\n        User: x\n    condition: selection\n",
    );
    assert_eq!(errors(&f), [("missing-rules", 5, 5)]);
    let f = load(
        "title: f\nlogsource:\n    product: windows\nfilter:\n    rules: [x]\n    selection:\n        User: x\n    condition: selection or\n",
    );
    assert_eq!(errors(&f)[0].0, "condition-syntax");
}

#[test]
fn collection_errors() {
    let f = load("action: sideways\ntitle: a\n");
    assert_eq!(errors(&f), [("collection", 1, 9)]);
    let f = load("action: repeat\ntitle: a\n");
    assert_eq!(errors(&f), [("collection", 1, 1)]);
}

#[test]
fn one_bad_rule_does_not_stop_the_others() {
    let text = format!(
        "{}---\n{}---\n{}",
        rule("    sel:\n        a: 1\n    condition: sel\n"),
        rule("    sel:\n        a|nope: 1\n    condition: sel\n"),
        rule("    sel:\n        a: 3\n    condition: sel\n"),
    );
    let f = load(&text);
    assert_eq!(f.documents, 3);
    assert_eq!(f.broken, 1);
    assert_eq!(f.rules.len(), 2);
    assert_eq!(errors(&f), [("unknown-modifier", 16, 11)]);
}

#[test]
fn a_broken_last_document_is_a_broken_rule() {
    // The parser stops at the syntax error: the rule before it loads, the rest counts as one
    // rule that could not be read (it used to vanish without being counted).
    let text = format!(
        "{}---\ngarbage: [\n",
        rule("    sel:\n        a: 1\n    condition: sel\n")
    );
    let f = load(&text);
    assert_eq!(f.rules.len(), 1);
    assert_eq!(f.documents, 2);
    assert_eq!(f.broken, 1);
    assert_eq!(errors(&f).len(), 1);
    assert_eq!(errors(&f)[0].0, "yaml-syntax");
}

#[test]
fn wrong_types_of_metadata_are_warnings() {
    let f = load(&format!(
        "{HEAD}level: severe\nstatus: sure\ntags: [Attack.T1234, attack.t1059]\ndate: 2020/01/01\ndetection:\n    sel: a\n    condition: sel\n"
    ));
    assert!(errors(&f).is_empty());
    let codes: Vec<&str> = f.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [
            "unknown-level",
            "unknown-status",
            "tag-format",
            "date-format"
        ]
    );
}

#[test]
fn missing_and_non_uuid_ids_are_warnings() {
    let f =
        load("title: t\nlogsource:\n    product: x\ndetection:\n    sel: a\n    condition: sel\n");
    assert_eq!(
        f.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["missing-id"]
    );
    let f = load(
        "title: t\nid: rule-1\nlogsource:\n    product: x\ndetection:\n    sel: a\n    condition: sel\n",
    );
    assert_eq!(
        f.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["id-not-uuid"]
    );
}

// ---------- tricky valid rules ----------

#[test]
fn modifier_chains_load() {
    let r = valid(&rule(concat!(
        "    sel:\n",
        "        CommandLine|wide|base64offset|contains: 'ping'\n",
        "        CommandLine|windash|contains|all:\n",
        "            - ' -enc '\n",
        "            - ' -nop '\n",
        "        Payload|re|i|m|s: '^a.b$'\n",
        "        DestinationIp|cidr:\n",
        "            - 10.0.0.0/8\n",
        "            - 'fe80::/10'\n",
        "        Port|gte: 1024\n",
        "        Hour|hour: 3\n",
        "        User|cased: Admin\n",
        "        Target|fieldref|neq: SourceUser\n",
        "        OriginalFileName|exists: yes\n",
        "        Data|utf16be|base64: 'cmd'\n",
        "        '|all':\n",
        "            - 'OabVirtualDirectory'\n",
        "            - ' -ExternalUrl '\n",
        "        Field|neq: 'x'\n",
        "    condition: sel\n",
    )));
    let det = r.detection().unwrap();
    let items: Vec<_> = det.items().collect();
    assert_eq!(items.len(), 12);
    // windash + all: two written values, each an expansion.
    assert!(matches!(&items[1].values[0].value, Value::AnyOf(v) if v.len() == 5));
    assert_eq!(items[1].flags.link, sigma::modifier::Link::All);
    // yes is a YAML 1.1 boolean.
    assert_eq!(items[8].values[0].value, Value::Exists(true));
    assert!(items[11].flags.negated);
    assert!(items[10].field.is_none());
}

#[test]
fn keywords_numbers_null_and_empty() {
    let r = valid(&rule(concat!(
        "    keywords:\n",
        "        - 'event::clear'\n",
        "        - 4625\n",
        "    single: 'just one keyword'\n",
        "    sel_null:\n",
        "        PasswordLastSet: null\n",
        "    sel_empty:\n",
        "        Description: ''\n",
        "    sel_num:\n",
        "        EventID:\n",
        "            - 4624\n",
        "            - 0x10\n",
        "    condition: keywords or single or sel_null or sel_empty or sel_num\n",
    )));
    let det = r.detection().unwrap();
    let kw: Vec<_> = det.selection("keywords").unwrap().node.items().collect();
    assert!(kw[0].field.is_none());
    assert_eq!(kw[0].values.len(), 2);
    assert_eq!(
        det.selection("sel_null")
            .unwrap()
            .node
            .items()
            .next()
            .unwrap()
            .values[0]
            .value,
        Value::Null
    );
    let nums = &det
        .selection("sel_num")
        .unwrap()
        .node
        .items()
        .next()
        .unwrap()
        .values;
    match &nums[1].value {
        Value::Num(n) => {
            assert_eq!(n.text, "0x10");
            assert_eq!(n.as_f64(), 16.0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn list_of_maps_is_or_of_ands() {
    let r = valid(&rule(concat!(
        "    sel:\n",
        "        - Image|endswith: '\\example.exe'\n",
        "          User: x\n",
        "        - Description|contains: 'Test executable'\n",
        "    condition: sel\n",
    )));
    let node = &r.detection().unwrap().selection("sel").unwrap().node;
    match node {
        SelectionNode::Or(alts) => {
            assert_eq!(alts.len(), 2);
            assert!(matches!(alts[0], SelectionNode::And(_)));
            assert!(matches!(alts[1], SelectionNode::Item(_)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unicode_values_and_condition_lists() {
    let r = valid(&rule(concat!(
        "    sel_a:\n",
        "        Ünïcödé|contains: 'Привет 🌍'\n",
        "    sel_b:\n",
        "        a: 'x'\n",
        "    condition:\n",
        "        - sel_a\n",
        "        - sel_b\n",
    )));
    let det = r.detection().unwrap();
    assert_eq!(det.conditions.len(), 2);
    assert_eq!(
        det.items().next().unwrap().field.as_deref(),
        Some("Ünïcödé")
    );
}

#[test]
fn placeholders_load() {
    let r = valid(&rule(
        "    sel:\n        User|expand: '%Administrators%'\n        Host|contains|expand: '%Servers%'\n    condition: sel\n",
    ));
    let vals: Vec<_> = r
        .detection()
        .unwrap()
        .items()
        .map(|i| i.values[0].value.clone())
        .collect();
    match &vals[1] {
        Value::Str(s) => assert_eq!(s.placeholders().collect::<Vec<_>>(), ["Servers"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn legacy_aggregations_load() {
    let r = valid(&rule(concat!(
        "    selection:\n",
        "        EventID: 4625\n",
        "    filter:\n",
        "        User: '-'\n",
        "    timeframe: 24h\n",
        "    condition: selection and not filter | count(TargetUserName) by IpAddress > 10\n",
    )));
    let det = r.detection().unwrap();
    assert_eq!(det.timeframe.as_ref().unwrap().value.seconds, 86_400);
    assert!(det.conditions[0].parsed.aggregation.is_some());
    valid(&rule(
        "    a:\n        x: 1\n    b:\n        y: 2\n    timeframe: 30s\n    condition: a | near b\n",
    ));
}

#[test]
fn collections_global_reset_repeat() {
    let text = concat!(
        "action: global\n",
        "title: Base\n",
        "logsource:\n",
        "    product: windows\n",
        "detection:\n",
        "    condition: selection\n",
        "level: high\n",
        "---\n",
        "id: 11111111-1111-4111-8111-111111111111\n",
        "logsource:\n",
        "    service: sysmon\n",
        "detection:\n",
        "    selection:\n",
        "        EventID: 1\n",
        "---\n",
        "action: repeat\n",
        "id: 22222222-2222-4222-8222-222222222222\n",
        "detection:\n",
        "    selection:\n",
        "        EventID: 4688\n",
        "---\n",
        "action: reset\n",
        "---\n",
        "title: Alone\n",
        "id: 33333333-3333-4333-8333-333333333333\n",
        "logsource:\n",
        "    product: linux\n",
        "detection:\n",
        "    sel: x\n",
        "    condition: sel\n",
    );
    let f = load(text);
    assert!(errors(&f).is_empty(), "{:?}", f.diagnostics);
    assert_eq!(f.documents, 3);
    assert_eq!(f.rules.len(), 3);
    let r0 = &f.rules[0];
    assert_eq!(r0.title(), "Base");
    let ls = r0.logsource().unwrap();
    assert_eq!(
        (ls.product(), ls.service()),
        (Some("windows"), Some("sysmon"))
    );
    assert_eq!(r0.meta.level, Some(sigma::rule::Level::High));
    let r1 = &f.rules[1];
    assert_eq!(r1.title(), "Base");
    assert_eq!(r1.logsource().unwrap().service(), Some("sysmon"));
    let v = &r1.detection().unwrap().items().next().unwrap().values[0].value;
    assert!(matches!(v, Value::Num(n) if n.text == "4688"));
    let r2 = &f.rules[2];
    assert_eq!(r2.title(), "Alone");
    assert_eq!(r2.meta.level, None);
}

#[test]
fn all_correlation_types_load_and_resolve() {
    let mut text = String::from(concat!(
        "title: base a\nid: 11111111-1111-4111-8111-111111111111\nname: base_a\nlogsource:\n    product: windows\n",
        "detection:\n    sel:\n        EventID: 4625\n    condition: sel\n",
        "---\n",
        "title: base b\nid: 22222222-2222-4222-8222-222222222222\nname: base_b\nlogsource:\n    product: windows\n",
        "detection:\n    sel:\n        EventID: 4624\n    condition: sel\n",
    ));
    for (i, (kind, cond)) in [
        ("event_count", "    condition:\n        gte: 10\n"),
        (
            "value_count",
            "    condition:\n        field: User\n        gt: 5\n        lte: 100\n",
        ),
        ("temporal", ""),
        ("temporal_ordered", "    condition:\n        gte: 2\n"),
        (
            "value_sum",
            "    condition:\n        field: bytes\n        gt: 1000000\n",
        ),
        (
            "value_avg",
            "    condition:\n        field: bytes\n        gt: 500\n",
        ),
        (
            "value_percentile",
            "    condition:\n        field: image\n        lte: 1\n",
        ),
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "---\ntitle: corr {i}\nid: 0e95725d-7320-415d-80f7-004da920fc1{i}\ncorrelation:\n    type: {kind}\n    rules:\n        - base_a\n        - 22222222-2222-4222-8222-222222222222\n    group-by:\n        - ComputerName\n    timespan: 1h\n{cond}    aliases:\n        host:\n            base_a: Computer\n            base_b: Workstation\ngenerate: true\n"
        ));
    }
    let f = load(&text);
    assert!(errors(&f).is_empty(), "{:?}", f.diagnostics);
    assert_eq!(f.rules.len(), 9);
    let kinds: Vec<CorrelationType> = f
        .rules
        .iter()
        .filter_map(|r| match &r.body {
            RuleBody::Correlation(c) => Some(c.kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, CorrelationType::ALL);
    let RuleBody::Correlation(vc) = &f.rules[3].body else {
        panic!()
    };
    assert!(vc.condition_holds(6.0) && !vc.condition_holds(5.0) && !vc.condition_holds(101.0));
    assert_eq!(vc.field, ["User"]);
    assert!(vc.generate);
    let RuleBody::Correlation(t) = &f.rules[4].body else {
        panic!()
    };
    assert!(
        t.condition_holds(2.0) && !t.condition_holds(1.0),
        "temporal defaults to all rules"
    );
    let set = sigma::ruleset::RuleSet::new(f.rules);
    let problems: Vec<_> = set
        .check()
        .into_iter()
        .filter(|d| d.diagnostic.is_error())
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(set.correlation_targets(2), [0, 1]);
}

#[test]
fn the_specification_correlation_example_loads() {
    let text = concat!(
        "title: Correlation - Multiple Failed Logins Followed by Successful Login\n",
        "id: b180ead8-d58f-40b2-ae54-c8940995b9b6\nstatus: experimental\n",
        "correlation:\n    type: temporal_ordered\n    rules:\n        - multiple_failed_login\n        - successful_login\n",
        "    group-by:\n        - User\n    timespan: 10m\nfalsepositives:\n    - Unlikely\nlevel: high\n",
        "---\n",
        "title: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\n",
        "correlation:\n    type: event_count\n    rules:\n        - failed_login\n    group-by:\n        - User\n    timespan: 10m\n    condition:\n        gte: 10\n",
        "---\n",
        "title: Single failed login\nid: 53ba33fd-3a50-4468-a5ef-c583635cfa92\nname: failed_login\n",
        "logsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 529\n            - 4625\n    condition: selection\n",
        "---\n",
        "title: Successful login\nid: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8\nname: successful_login\n",
        "logsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 528\n            - 4624\n    condition: selection\n",
    );
    let f = load(text);
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    let set = sigma::ruleset::RuleSet::new(f.rules);
    assert!(set.check().is_empty());
}

#[test]
fn filters_load() {
    let text = concat!(
        "title: Filter Administrator account\nid: 6f3e2987-db24-4c78-a860-b4f4095a7000\n",
        "logsource:\n    category: process_creation\n    product: windows\n",
        "filter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n        - df0841c0-9846-4e9f-ad8a-7df91571771b\n",
        "    selection:\n        User|startswith: 'adm_'\n    condition: selection\n",
    );
    let f = load(text);
    assert!(errors(&f).is_empty(), "{:?}", f.diagnostics);
    match &f.rules[0].body {
        RuleBody::Filter(flt) => {
            assert_eq!(flt.rules.len(), 2);
            assert_eq!(flt.detection.selections.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_top_level_keys_are_kept() {
    let r = valid(&format!(
        "{HEAD}custom_field: 42\nx-note:\n    a: b\ndetection:\n    sel: a\n    condition: sel\n"
    ));
    let keys: Vec<&str> = r.meta.custom.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["custom_field", "x-note"]);
}

/// Found by `cargo fuzz run loader`: a text whose lines end with a lone `\r` (a YAML line break)
/// got diagnostics on lines past what `str::lines` counts. Every diagnostic must point inside the
/// text and render with its line.
#[test]
fn fuzz_lone_carriage_returns_point_inside_the_text() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz/lone-cr-line-breaks.yml"
    );
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let loaded = load(&text);
    assert!(!loaded.diagnostics.is_empty());
    let lines = sigma::diagnostic::yaml_lines(&text).count() as u32;
    for d in &loaded.diagnostics {
        assert!(
            d.span.start.line >= 1 && d.span.start.line <= lines + 1,
            "{d:?}"
        );
        let shown = d.render("fuzz.yml", &text);
        if d.span.start.line <= lines {
            assert!(shown.contains(" | "), "no source line shown:\n{shown}");
        }
    }
}

/// A filter whose condition is negated (pySigma style) and a filter whose log source does not
/// cover the rule it names are warned about: both silently do nothing useful otherwise.
#[test]
fn filter_pitfalls_are_warned() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/filter_pitfalls.yml"
    ))
    .unwrap();
    let loaded = load(&text);
    assert!(
        loaded.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        loaded.diagnostics
    );
    let set = sigma::ruleset::RuleSet::new(loaded.rules);
    let codes: Vec<(&str, u32)> = set
        .check()
        .iter()
        .map(|d| (d.diagnostic.code, d.diagnostic.span.start.line))
        .collect();
    assert!(
        codes.contains(&("filter-negated-condition", 21)),
        "{codes:?}"
    );
    assert!(codes.contains(&("filter-logsource", 18)), "{codes:?}");
    // The well-formed filter below them gets neither.
    assert_eq!(codes.len(), 2, "{codes:?}");
}
