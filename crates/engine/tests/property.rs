//! Property: the optimised engine gives exactly the naive evaluator's matches, for generated
//! rules and events over a small vocabulary (so that matches actually happen), on
//! `serde_json::Value` events and on the same events as lazily parsed JSON lines.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

use engine::Engine;
use engine::naive::Naive;
use proptest::prelude::*;
use serde_json::{Value, json};
use sigma::pipeline::resolve_identity;

const FIELDS: &[&str] = &["a", "b", "c.d", "n", "arr"];

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A YAML value for a string-ish modifier chain.
fn str_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "foo", "Foo", "fo*", "*bar", "f?o", "*", "", "10", "x", "ΣΑΣ", "straße", "STRASSE",
            "a\\b", "-p", "/p", "foo*bar", "*o?b*", "10.0.0.1", "bar",
        ])
        .prop_map(q),
        prop::sample::select(vec!["10", "1.5", "0x0a", "null", "true", "-1"])
            .prop_map(str::to_owned),
    ]
}

fn item() -> impl Strategy<Value = String> {
    let field = prop::sample::select(FIELDS.to_vec());
    let kind = prop::sample::select(vec![
        "",
        "|contains",
        "|startswith",
        "|endswith",
        "|contains|all",
        "|cased",
        "|contains|cased",
        "|neq",
        "|re",
        "|re|i",
        "|re|s",
        "|cidr",
        "|gt",
        "|lte",
        "|exists",
        "|fieldref",
        "|fieldref|contains",
        "|contains|windash",
        "|base64offset|contains",
        "|hour",
        "|all",
        "|startswith|neq",
        "|base64",
        "|wide|base64offset|contains",
        "|year",
    ]);
    (
        field,
        kind,
        prop::collection::vec(str_value(), 1..4),
        0..3usize,
    )
        .prop_map(|(field, kind, strs, pick)| {
            let values: Vec<String> = match kind {
                // Case-sensitive literals and inline `(?i)` pieces too: the prefilter derives
                // a regex's literals under its own flags.
                "|re" | "|re|i" | "|re|s" => [
                    "'^fo+'",
                    "'bar$'",
                    "'o.b'",
                    "'Σ'",
                    "'a\\\\b'",
                    "'FOO'",
                    "'ra(?i)SSE'",
                    "'(?i:σ)ΑΣ'",
                    "'Stra(?i:ß)e'",
                ]
                .iter()
                .cycle()
                .skip(pick * 3)
                .take(strs.len())
                .map(|s| s.to_string())
                .collect(),
                "|cidr" => vec![["'10.0.0.0/8'", "'::/0'", "'10.0.0.1/32'"][pick].into()],
                "|gt" | "|lte" => vec![["5", "10", "'1.5'"][pick].into()],
                "|exists" => vec![["true", "false", "true"][pick].into()],
                "|fieldref" | "|fieldref|contains" => vec![q(FIELDS[pick])],
                "|hour" => vec![["7", "0", "12"][pick].into()],
                "|year" => vec![["2024", "1970", "2023"][pick].into()],
                k if k.contains("base64") => ["'foo'", "'bar'", "'foobar'", "'x'"]
                    .iter()
                    .skip(pick)
                    .take(strs.len())
                    .map(|s| s.to_string())
                    .collect(),
                _ => strs
                    .into_iter()
                    .filter(|s| {
                        // Modifiers for strings refuse non-strings; keep what loads.
                        kind.is_empty() || kind == "|neq" || kind == "|all" || s.starts_with('\'')
                    })
                    .collect(),
            };
            // `null` only stands alone.
            let values: Vec<String> = if values.len() > 1 {
                values.into_iter().filter(|v| v != "null").collect()
            } else {
                values
            };
            if values.is_empty() {
                return format!("{field}: 'foo'");
            }
            if values.len() == 1 {
                format!("{field}{kind}: {}", values[0])
            } else {
                format!("{field}{kind}: [{}]", values.join(", "))
            }
        })
}

fn selection() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(item(), 1..3).prop_map(|items| format!("{{{}}}", items.join(", "))),
        1 => prop::collection::vec(item(), 1..3)
            .prop_map(|items| format!("[{}]", items.iter().map(|i| format!("{{{i}}}")).collect::<Vec<_>>().join(", "))),
        1 => prop::collection::vec(str_value(), 1..3).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => prop::collection::vec(str_value(), 2..3).prop_map(|v| format!("{{'|all': [{}]}}", v.join(", "))),
    ]
}

fn rule(i: usize) -> impl Strategy<Value = String> {
    let cond = prop::sample::select(vec![
        "sel1",
        "sel1 and sel2",
        "sel1 or not sel2",
        "1 of sel*",
        "all of sel*",
        "sel1 and not filter",
        "2 of them",
        "not sel1",
        "(sel1 or sel2) and not filter",
        "all of them",
    ]);
    (selection(), selection(), selection(), cond).prop_map(move |(s1, s2, f, c)| {
        format!(
            "title: t{i}\nname: r{i}\nlogsource: {{product: test}}\ndetection:\n  sel1: {s1}\n  sel2: {s2}\n  filter: {f}\n  condition: {c}\n"
        )
    })
}

fn filter_rule() -> impl Strategy<Value = String> {
    (selection(), 0..4usize).prop_map(|(s, target)| {
        format!("title: f\nlogsource: {{product: test}}\nfilter:\n  rules: [r{target}]\n  selection: {s}\n  condition: selection\n")
    })
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "foo",
            "FOO",
            "foobar",
            "barfoo",
            "xfooybarz",
            "",
            "10",
            "0x0A",
            "1.5",
            "10.0.0.1",
            "::1",
            "2024-05-06T07:08:09Z",
            "1970-01-01 00:00:00",
            "Straße",
            "ΣΑΣ",
            "σας",
            "a\\b",
            "cmd -p",
            "cmd /p",
            "cmd –p",
            "Zm9vYmFy",
            "ZgBvAG8A",
            "x",
            "STRASSE",
        ])
        .prop_map(|s| json!(s)),
        prop::sample::select(vec![
            json!(10),
            json!(0),
            json!(-1),
            json!(1.5),
            json!(5),
            json!(10.0),
            json!(1714979289000i64)
        ]),
        prop::sample::select(vec![json!(true), json!(false), Value::Null]),
    ]
}

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => scalar(),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::Array),
        1 => scalar().prop_map(|s| json!({"#attributes": {"x": 1}, "#text": s})),
        1 => Just(json!({"k": "foo"})),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(
            (
                prop::sample::select(vec!["a", "b", "n", "arr"]),
                field_value(),
            ),
            0..5,
        ),
        prop::option::of(field_value()),
        any::<bool>(),
    )
        .prop_map(|(fields, cd, flat)| {
            let mut m = serde_json::Map::new();
            for (k, v) in fields {
                m.insert(k.to_owned(), v);
            }
            if let Some(v) = cd {
                if flat {
                    m.insert("c.d".into(), v);
                } else {
                    m.insert("c".into(), json!({"d": v}));
                }
            }
            Value::Object(m)
        })
}

fn rules_text() -> impl Strategy<Value = Vec<String>> {
    (
        (rule(0), rule(1), rule(2), rule(3), rule(4), rule(5)),
        prop::collection::vec(filter_rule(), 0..2),
    )
        .prop_map(|((a, b, c, d, e, f), filters)| {
            let mut v = vec![a, b, c, d, e, f];
            v.extend(filters);
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn engine_equals_naive(texts in rules_text(), events in prop::collection::vec(event(), 1..8)) {
        let mut rules = Vec::new();
        for t in &texts {
            rules.extend(sigma::load_str(t, "gen.yml").rules);
        }
        let resolved: Vec<_> = rules.iter().map(resolve_identity).collect();
        let engine = Engine::compile(resolved.clone());
        let naive = Naive::new(&resolved, |i| !engine.is_compiled(i));
        let mut scanner = engine.line_scanner();
        for ev in &events {
            let want: Vec<(usize, usize)> = naive.matches(ev).iter().map(|m| (m.rule, m.variant)).collect();
            let got: Vec<(usize, usize)> = engine.matches(ev).map(|m| (m.rule, m.variant)).collect();
            prop_assert_eq!(&got, &want, "Value event {}", ev);
            let line = serde_json::to_vec(ev).unwrap();
            let lev = scanner.scan(&line).unwrap();
            let got: Vec<(usize, usize)> = engine.matches(&lev).map(|m| (m.rule, m.variant)).collect();
            prop_assert_eq!(&got, &want, "line event {}", ev);
        }
    }
}

/// The generators must produce rules that load and events that match, or the property says
/// little.
#[test]
fn generators_produce_matches() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut loaded, mut written, mut matches) = (0, 0, 0);
    for _ in 0..200 {
        let texts = rules_text().new_tree(&mut runner).unwrap().current();
        let events: Vec<Value> = (0..5)
            .map(|_| event().new_tree(&mut runner).unwrap().current())
            .collect();
        let mut rules = Vec::new();
        for t in &texts {
            written += 1;
            let l = sigma::load_str(t, "gen.yml");
            loaded += l.rules.len();
            if l.rules.is_empty() && std::env::var("GEN_DEBUG").is_ok() {
                eprintln!(
                    "{t}\n{:?}\n",
                    l.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
                );
            }
            rules.extend(l.rules);
        }
        let engine = Engine::compile(rules.iter().map(resolve_identity).collect());
        for e in &events {
            matches += engine.matches(e).count();
        }
    }
    println!("{loaded} of {written} generated rules load; {matches} matches");
    assert!(
        loaded * 10 >= written * 9,
        "too few generated rules load: {loaded}/{written}"
    );
    assert!(matches > 100, "too few matches: {matches}");
}
