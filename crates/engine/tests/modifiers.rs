//! One test per modifier (and special value) of the language, with events that must and must
//! not match. Each check runs the engine on a `serde_json::Value`, on the same event as a JSON
//! line, and the naive evaluator, and all three must give the expected answer.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

use engine::Engine;
use engine::naive::Naive;
use serde_json::{Value, json};
use sigma::pipeline::resolve_identity;

/// Build a rule from the lines of its `detection` section.
fn rule(detection: &str) -> Vec<sigma::pipeline::ResolvedRule> {
    let mut text = String::from(
        "title: test\nid: 6f1c3b5e-0d5c-4d4e-9a51-3c1f0f1e2d3c\nlogsource: {product: test}\ndetection:\n",
    );
    for l in detection.lines() {
        text.push_str("  ");
        text.push_str(l);
        text.push('\n');
    }
    let loaded = sigma::load_str(&text, "test.yml");
    assert!(
        !loaded.rules.is_empty(),
        "rule does not load: {:?}\n{text}",
        loaded
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    loaded.rules.iter().map(resolve_identity).collect()
}

#[track_caller]
fn check(detection: &str, yes: &[Value], no: &[Value]) {
    let rules = rule(detection);
    let engine = Engine::compile(rules.clone());
    assert!(engine.errors().is_empty(), "{:?}", engine.errors());
    let naive = Naive::new(&rules, |_| false);
    let mut scanner = engine.line_scanner();
    for (events, want) in [(yes, true), (no, false)] {
        for ev in events {
            let line = serde_json::to_vec(ev).unwrap();
            let lev = scanner.scan(&line).unwrap();
            assert_eq!(
                engine.matches(ev).count() == 1,
                want,
                "engine, {ev}\n{detection}"
            );
            assert_eq!(
                engine.matches(&lev).count() == 1,
                want,
                "engine on line, {ev}\n{detection}"
            );
            assert_eq!(
                naive.matches(ev).len() == 1,
                want,
                "naive, {ev}\n{detection}"
            );
        }
    }
}

#[test]
fn plain_values_are_case_insensitive_equality() {
    check(
        "sel:\n  Image: 'C:\\Windows\\cmd.exe'\ncondition: sel",
        &[
            json!({"Image": "c:\\windows\\CMD.EXE"}),
            json!({"Image": ["x", "C:\\Windows\\cmd.exe"]}),
        ],
        &[
            json!({"Image": "C:\\Windows\\cmd.exe "}),
            json!({"Image": "x"}),
            json!({}),
            json!({"Image": null}),
        ],
    );
}

#[test]
fn wildcards_and_escapes() {
    check(
        "sel:\n  A: 'a*b?c'\ncondition: sel",
        &[json!({"A": "ab_c"}), json!({"A": "AXXXBYC"})],
        &[json!({"A": "abc"}), json!({"A": "ab__c"})],
    );
    check(
        "sel:\n  A: 'a\\*b'\ncondition: sel",
        &[json!({"A": "a*b"})],
        &[json!({"A": "axb"}), json!({"A": "ab"})],
    );
}

#[test]
fn contains() {
    check(
        "sel:\n  CommandLine|contains: ' -enc '\ncondition: sel",
        &[json!({"CommandLine": "powershell -ENC abc"})],
        &[json!({"CommandLine": "powershell -encoded"}), json!({})],
    );
}

#[test]
fn startswith_and_endswith() {
    check(
        "sel:\n  A|startswith: 'abc'\n  B|endswith: '.exe'\ncondition: sel",
        &[json!({"A": "ABCdef", "B": "x.EXE"})],
        &[
            json!({"A": "xabc", "B": "x.exe"}),
            json!({"A": "abc", "B": "x.exe.txt"}),
            json!({"A": "abc"}),
        ],
    );
}

#[test]
fn all_needs_every_value() {
    check(
        "sel:\n  A|contains|all: ['foo', 'bar']\ncondition: sel",
        &[json!({"A": "bar then foo"}), json!({"A": ["foo", "bar"]})],
        &[json!({"A": "foo only"}), json!({"A": "bar"})],
    );
}

#[test]
fn exists() {
    check(
        "sel:\n  A|exists: true\ncondition: sel",
        &[
            json!({"A": "x"}),
            json!({"A": null}),
            json!({"A": ""}),
            json!({"A": []}),
        ],
        &[json!({"B": 1})],
    );
    check(
        "sel:\n  A|exists: false\ncondition: sel",
        &[json!({"B": 1})],
        &[json!({"A": null})],
    );
}

#[test]
fn cased() {
    check(
        "sel:\n  A|cased: 'CamelCase'\ncondition: sel",
        &[json!({"A": "CamelCase"})],
        &[json!({"A": "camelcase"}), json!({"A": "CAMELCASE"})],
    );
    check(
        "sel:\n  A|contains|cased: 'Ab'\ncondition: sel",
        &[json!({"A": "xAbx"})],
        &[json!({"A": "xabx"})],
    );
}

#[test]
fn neq_negates_the_whole_item() {
    check(
        "sel:\n  A|neq: ['x', 'y']\ncondition: sel",
        &[json!({"A": "z"}), json!({}), json!({"A": null})],
        &[
            json!({"A": "X"}),
            json!({"A": "y"}),
            json!({"A": ["z", "x"]}),
        ],
    );
}

#[test]
fn windash() {
    check(
        "sel:\n  CommandLine|contains|windash: ' -exec '\ncondition: sel",
        &[
            json!({"CommandLine": "x -exec y"}),
            json!({"CommandLine": "x /exec y"}),
            json!({"CommandLine": "x \u{2013}exec y"}),
            json!({"CommandLine": "x \u{2014}exec y"}),
            json!({"CommandLine": "x \u{2015}exec y"}),
        ],
        &[
            json!({"CommandLine": "x exec y"}),
            json!({"CommandLine": "x +exec y"}),
        ],
    );
}

/// `\d`, `\w`, `\s` and word boundaries are ASCII (PCRE's reading, and the query backends'):
/// other scripts' digits, accented letters and Unicode spaces are not in them.
#[test]
fn regex_perl_classes_are_ascii() {
    check(
        "sel:\n  A|re: '^\\d+$'\ncondition: sel",
        &[json!({"A": "0123456789"})],
        &[json!({"A": "\u{661}\u{662}"}), json!({"A": "12\u{ff13}"})],
    );
    check(
        "sel:\n  A|re: '^\\D$'\ncondition: sel",
        &[json!({"A": "x"}), json!({"A": "\u{663}"})],
        &[json!({"A": "3"})],
    );
    check(
        "sel:\n  A|re: '^\\w+$'\ncondition: sel",
        &[json!({"A": "abc_XYZ_09"})],
        &[json!({"A": "caf\u{e9}"}), json!({"A": "\u{3b1}\u{3b2}"})],
    );
    check(
        "sel:\n  A|re|i: '^[\\w.-]+$'\ncondition: sel",
        &[json!({"A": "Run-DLL.32"})],
        &[json!({"A": "na\u{ef}ve"})],
    );
    check(
        "sel:\n  A|re: 'a\\sb'\ncondition: sel",
        &[
            json!({"A": "a b"}),
            json!({"A": "a\tb"}),
            json!({"A": "a\nb"}),
        ],
        &[json!({"A": "a\u{a0}b"}), json!({"A": "a\u{2003}b"})],
    );
    check(
        "sel:\n  A|re: '^[^\\s]+$'\ncondition: sel",
        &[json!({"A": "x\u{a0}y"})],
        &[json!({"A": "x y"})],
    );
    // An accented letter is not a word character, so it leaves a boundary.
    check(
        "sel:\n  A|re: '\\bcmd\\b'\ncondition: sel",
        &[json!({"A": "run cmd now"}), json!({"A": "\u{e9}cmd\u{e9}"})],
        &[json!({"A": "xcmd"}), json!({"A": "cmd_x"})],
    );
    check(
        "sel:\n  A|re: '\\Bcmd'\ncondition: sel",
        &[json!({"A": "xcmd"})],
        &[json!({"A": "\u{e9}cmd"}), json!({"A": "cmd"})],
    );
    // Unicode classes written as such stay Unicode; an escaped backslash is not a class.
    check(
        "sel:\n  A|re: '^\\p{Nd}\\\\d$'\ncondition: sel",
        &[json!({"A": "\u{661}\\d"})],
        &[json!({"A": "\u{661}5"})],
    );
}

#[test]
fn regex_flags() {
    check(
        "sel:\n  A|re: 'fo+b'\ncondition: sel",
        &[json!({"A": "xxfooobar"})],
        &[json!({"A": "FOOB"}), json!({"A": "fb"})],
    );
    check(
        "sel:\n  A|re|i: '^fo+b'\ncondition: sel",
        &[json!({"A": "FOOB"})],
        &[json!({"A": "xfoob"})],
    );
    check(
        "sel:\n  A|re|m: '^bar$'\ncondition: sel",
        &[json!({"A": "foo\nbar\nbaz"})],
        &[json!({"A": "foo bar"})],
    );
    check(
        "sel:\n  A|re: '^bar$'\ncondition: sel",
        &[json!({"A": "bar"})],
        &[json!({"A": "foo\nbar\nbaz"})],
    );
    check(
        "sel:\n  A|re|s: 'a.b'\ncondition: sel",
        &[json!({"A": "a\nb"})],
        &[json!({"A": "ab"})],
    );
    check(
        "sel:\n  A|re: 'a.b'\ncondition: sel",
        &[json!({"A": "a-b"})],
        &[json!({"A": "a\nb"})],
    );
}

#[test]
fn base64_and_base64offset() {
    // base64('foobar') = Zm9vYmFy
    check(
        "sel:\n  A|base64: 'foobar'\ncondition: sel",
        &[json!({"A": "Zm9vYmFy"})],
        &[json!({"A": "xZm9vYmFy"}), json!({"A": "foobar"})],
    );
    check(
        "sel:\n  A|base64offset|contains: 'foobar'\ncondition: sel",
        &[
            json!({"A": "Zm9vYmFy"}),
            // 'xfoobar' = eGZvb2Jhcg== ; 'xxfoobar' = eHhmb29iYXI=
            json!({"A": "eGZvb2Jhcg=="}),
            json!({"A": "eHhmb29iYXI="}),
        ],
        &[json!({"A": "Zm9vYmF6"})],
    );
}

#[test]
fn utf16_encodings() {
    // 'cmd' in UTF-16LE then base64: YwBtAGQA ; UTF-16BE: AGMAbQBk ; with BOM (utf16): //5jAG0AZAA=
    check(
        "sel:\n  A|wide|base64: 'cmd'\ncondition: sel",
        &[json!({"A": "YwBtAGQA"})],
        &[json!({"A": "Y21k"})],
    );
    check(
        "sel:\n  A|utf16le|base64: 'cmd'\ncondition: sel",
        &[json!({"A": "YwBtAGQA"})],
        &[json!({"A": "AGMAbQBk"})],
    );
    check(
        "sel:\n  A|utf16be|base64: 'cmd'\ncondition: sel",
        &[json!({"A": "AGMAbQBk"})],
        &[json!({"A": "YwBtAGQA"})],
    );
    check(
        "sel:\n  A|utf16|base64: 'cmd'\ncondition: sel",
        &[json!({"A": "//5jAG0AZAA="})],
        &[json!({"A": "YwBtAGQA"})],
    );
    check(
        "sel:\n  A|wide|base64offset|contains: 'cmd'\ncondition: sel",
        &[json!({"A": "xxYwBtAGQAyy"})],
        &[json!({"A": "Y21k"})],
    );
}

#[test]
fn comparisons() {
    check(
        "sel:\n  A|gt: 10\ncondition: sel",
        &[
            json!({"A": 11}),
            json!({"A": "10.5"}),
            json!({"A": [1, 20]}),
        ],
        &[
            json!({"A": 10}),
            json!({"A": "abc"}),
            json!({"A": "0x20"}),
            json!({}),
        ],
    );
    check(
        "sel:\n  A|gte: 10\ncondition: sel",
        &[json!({"A": 10}), json!({"A": "10"})],
        &[json!({"A": 9.99})],
    );
    check(
        "sel:\n  A|lt: 10\ncondition: sel",
        &[json!({"A": -3}), json!({"A": "9"})],
        &[json!({"A": 10})],
    );
    check(
        "sel:\n  A|lte: 1.5\ncondition: sel",
        &[json!({"A": 1.5}), json!({"A": 1})],
        &[json!({"A": 2})],
    );
}

#[test]
fn time_parts() {
    let ev = json!({"T": "2024-05-06T07:08:09.123Z"});
    let other = json!({"T": "2023-12-31 23:59:00"});
    for (m, v) in [
        ("minute", 8),
        ("hour", 7),
        ("day", 6),
        ("week", 19),
        ("month", 5),
        ("year", 2024),
    ] {
        check(
            &format!("sel:\n  T|{m}: {v}\ncondition: sel"),
            std::slice::from_ref(&ev),
            &[other.clone(), json!({"T": "not a date"})],
        );
    }
    // Epoch milliseconds (2024-05-06T07:08:09Z) and seconds.
    check(
        "sel:\n  T|hour: 7\ncondition: sel",
        &[json!({"T": 1714979289000i64}), json!({"T": 1714979289})],
        &[json!({"T": 0})],
    );
}

#[test]
fn cidr_v4_and_v6() {
    check(
        "sel:\n  Ip|cidr: '10.0.0.0/8'\ncondition: sel",
        &[
            json!({"Ip": "10.1.2.3"}),
            json!({"Ip": ["1.1.1.1", "10.0.0.1"]}),
        ],
        &[
            json!({"Ip": "11.0.0.1"}),
            json!({"Ip": "::1"}),
            json!({"Ip": "10.0.0"}),
            json!({"Ip": 10}),
        ],
    );
    check(
        "sel:\n  Ip|cidr: 'fe80::/10'\ncondition: sel",
        &[json!({"Ip": "fe80::1"}), json!({"Ip": "FEBF::abcd"})],
        &[json!({"Ip": "fec0::1"}), json!({"Ip": "10.0.0.1"})],
    );
}

#[test]
fn expand_needs_a_pipeline() {
    let rules = rule("sel:\n  User|expand: '%Admins%'\ncondition: sel");
    let engine = Engine::compile(rules);
    assert_eq!(engine.errors().len(), 1);
    assert!(
        engine.errors()[0].to_string().contains("%Admins%"),
        "{}",
        engine.errors()[0]
    );
    assert_eq!(engine.matches(&json!({"User": "%Admins%"})).count(), 0);
}

#[test]
fn expanded_placeholders_match_their_values() {
    // What a pipeline does with `expand`: the placeholder becomes alternatives.
    use sigma::value::{SigmaString, Value as V};
    let mut rules = rule("sel:\n  User|expand: 'x%Admins%'\ncondition: sel");
    for s in &mut rules[0].variants[0].detection.selections {
        for it in s.node.items_mut() {
            for v in &mut it.values {
                v.value = V::AnyOf(vec![
                    V::Str(SigmaString::parse("xroot")),
                    V::Str(SigmaString::parse("xadm*")),
                ]);
            }
        }
    }
    let engine = Engine::compile(rules.clone());
    assert!(engine.errors().is_empty());
    let naive = Naive::new(&rules, |_| false);
    for (ev, want) in [
        (json!({"User": "XROOT"}), true),
        (json!({"User": "xadmin"}), true),
        (json!({"User": "root"}), false),
    ] {
        assert_eq!(engine.matches(&ev).count() == 1, want, "{ev}");
        assert_eq!(naive.matches(&ev).len() == 1, want, "{ev}");
    }
}

#[test]
fn fieldref() {
    check(
        "sel:\n  A|fieldref: B\ncondition: sel",
        &[json!({"A": "x", "B": "X"}), json!({"A": 5, "B": "5"})],
        &[json!({"A": "x", "B": "y"}), json!({"A": "x"}), json!({})],
    );
    check(
        "sel:\n  A|fieldref|startswith: B\ncondition: sel",
        &[json!({"A": "abc", "B": "AB"})],
        &[json!({"A": "abc", "B": "bc"})],
    );
    check(
        "sel:\n  A|fieldref|endswith: B\ncondition: sel",
        &[json!({"A": "abc", "B": "bc"})],
        &[json!({"A": "abc", "B": "ab"})],
    );
    check(
        "sel:\n  A|fieldref|contains: B\ncondition: sel",
        &[json!({"A": "abc", "B": "b"})],
        &[json!({"A": "abc", "B": "x"})],
    );
    check(
        "sel:\n  A|fieldref|cased: B\ncondition: sel",
        &[json!({"A": "Ab", "B": "Ab"})],
        &[json!({"A": "Ab", "B": "ab"})],
    );
    check(
        "sel:\n  A|fieldref|neq: B\ncondition: sel",
        &[json!({"A": "x", "B": "y"}), json!({"A": "x"})],
        &[json!({"A": "x", "B": "x"})],
    );
}

#[test]
fn null_versus_empty_string() {
    check(
        "sel:\n  A: null\ncondition: sel",
        &[json!({}), json!({"A": null}), json!({"A": []})],
        &[json!({"A": ""}), json!({"A": "x"}), json!({"A": 0})],
    );
    check(
        "sel:\n  A: ''\ncondition: sel",
        &[json!({"A": ""}), json!({"A": ["x", ""]})],
        &[json!({}), json!({"A": null}), json!({"A": " "})],
    );
}

#[test]
fn keywords_are_contained_in_any_value() {
    check(
        "keywords:\n  - 'event::clear'\n  - 'kiwi*legit'\ncondition: keywords",
        &[
            json!({"Message": "mimikatz EVENT::Clear done"}),
            json!({"deep": {"x": ["a", "found KIWI and LEGIT"]}}),
        ],
        &[
            json!({"event::clear": "key is not a value"}),
            json!({"M": "event:clear"}),
        ],
    );
    check(
        "keywords:\n  '|all': ['Remove-Mailbox', ' -Identity ']\ncondition: keywords",
        &[json!({"a": "Remove-Mailbox x", "b": "y -identity z"})],
        &[json!({"a": "Remove-Mailbox -Id"})],
    );
    check(
        "keywords: [4688]\ncondition: keywords",
        &[json!({"a": 14688}), json!({"b": "x4688"})],
        &[json!({"a": 4689})],
    );
    // Events beyond ASCII: the keyword search may read the raw JSON line, which must still find
    // what folding the values finds (the Kelvin sign folds to `k`, `İ` to `i` + a dot).
    check(
        "keywords:\n  - 'mimikatz'\n  - 'k1x'\n  - 'istanbul'\ncondition: keywords",
        &[
            json!({"Message": "Grüße – MimiKatz 中文"}),
            json!({"Message": "Grüße", "b": "\u{212A}1X"}),
            json!({"a": "\u{212A}1x"}),
        ],
        &[
            json!({"Message": "Grüße – Mimi Katz 中文"}),
            json!({"a": "\u{130}stanbul"}),
            json!({"a": "Straße k 1x"}),
        ],
    );
}

#[test]
fn numbers_versus_numeric_strings() {
    check(
        "sel:\n  EventID: 4688\ncondition: sel",
        &[
            json!({"EventID": 4688}),
            json!({"EventID": "4688"}),
            json!({"EventID": 4688.0}),
            json!({"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4688}}),
            json!({"EventID": [1, 4688]}),
        ],
        &[
            json!({"EventID": 46880}),
            json!({"EventID": "04688x"}),
            json!({"EventID": true}),
        ],
    );
    // A YAML hexadecimal integer is a number (16) that keeps its text: it matches that text
    // case-insensitively (as Windows logs spell such values) or the number 16 (as convert does).
    check(
        "sel:\n  Status: 0x10\ncondition: sel",
        &[
            json!({"Status": "0X10"}),
            json!({"Status": "0x10"}),
            json!({"Status": 16}),
            json!({"Status": "16"}),
        ],
        &[json!({"Status": "0x11"}), json!({"Status": 17})],
    );
    check(
        "sel:\n  Level: 1.5\ncondition: sel",
        &[
            json!({"Level": 1.5}),
            json!({"Level": "1.5"}),
            json!({"Level": "1.50"}),
        ],
        &[json!({"Level": 1}), json!({"Level": "1,5"})],
    );
    check(
        "sel:\n  A: '4688'\ncondition: sel",
        &[json!({"A": 4688}), json!({"A": "4688"})],
        &[json!({"A": 4688.5})],
    );
}

#[test]
fn booleans() {
    check(
        "sel:\n  A: true\ncondition: sel",
        &[json!({"A": true}), json!({"A": "True"})],
        &[json!({"A": false}), json!({"A": 1}), json!({})],
    );
}

#[test]
fn unicode_case_folding() {
    check(
        "sel:\n  A|contains: 'ΣΟΦΙΑ'\ncondition: sel",
        &[json!({"A": "η σοφια"}), json!({"A": "ΣΟΦΙΑ"})],
        &[json!({"A": "sofia"})],
    );
    check(
        "sel:\n  A: 'STRASSE'\ncondition: sel",
        &[json!({"A": "strasse"})],
        &[json!({"A": "straße"})],
    );
    check(
        "sel:\n  A|endswith: 'ÄÖÜ'\ncondition: sel",
        &[json!({"A": "xäöü"})],
        &[json!({"A": "xaou"})],
    );
}

#[test]
fn conditions_and_lists_of_maps() {
    let det = "sel_a:\n  - {A: 'x', B: 'y'}\n  - {C: 'z'}\nsel_b:\n  D: 1\nfilter_1:\n  E: 'no'\n_helper:\n  F: 1\ncondition: 1 of sel_* and not 1 of filter_*";
    check(
        det,
        &[
            json!({"A": "x", "B": "y"}),
            json!({"C": "z"}),
            json!({"D": 1, "E": "yes"}),
        ],
        &[
            json!({"A": "x"}),
            json!({"C": "z", "E": "no"}),
            json!({"F": 1}),
        ],
    );
    check(
        "s1:\n  A: 1\ns2:\n  B: 1\n_s3:\n  C: 1\ncondition: all of them",
        &[json!({"A": 1, "B": 1})],
        &[json!({"A": 1}), json!({"C": 1, "A": 1})],
    );
    check(
        "s1:\n  A: 1\ns2:\n  B: 1\ns3:\n  C: 1\ncondition: 2 of s*",
        &[json!({"A": 1, "C": 1}), json!({"A": 1, "B": 1, "C": 1})],
        &[json!({"A": 1}), json!({})],
    );
    // A list of conditions is OR.
    check(
        "s1:\n  A: 1\ns2:\n  B: 1\ncondition:\n  - s1\n  - s2",
        &[json!({"B": 1})],
        &[json!({"C": 1})],
    );
}

#[test]
fn nested_and_flat_field_names() {
    check(
        "sel:\n  winlog.event_data.Image|endswith: '\\cmd.exe'\ncondition: sel",
        &[
            json!({"winlog": {"event_data": {"Image": "C:\\cmd.exe"}}}),
            json!({"winlog.event_data.Image": "C:\\cmd.exe"}),
            json!({"winlog": {"event_data.Image": "C:\\cmd.exe"}}),
        ],
        &[
            json!({"winlog": {"event_data": {"Image": "C:\\pwsh.exe"}}}),
            json!({"Image": "C:\\cmd.exe"}),
        ],
    );
}

#[test]
fn a_rule_fails_on_its_first_bad_item_and_others_sharing_it_fail_too() {
    let mut rules = rule(
        "re:\n  A|re: '\\w{1000}{1000}'\nph:\n  B|expand: '%Admins%'\nok:\n  C: 'c'\ncondition: ok and re and ph",
    );
    rules.extend(rule(
        "ph:\n  B|expand: '%Admins%'\nre:\n  A|re: '\\w{1000}{1000}'\ncondition: ph and re",
    ));
    rules.extend(rule("re:\n  A|re: '\\w{1000}{1000}'\ncondition: re"));
    rules.extend(rule("ok:\n  C: 'c'\ncondition: ok"));
    let engine = Engine::compile(rules);
    let errors: Vec<(usize, String)> = engine
        .errors()
        .iter()
        .map(|e| (e.rule, e.to_string()))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    // In the order of the condition: the regex comes before the placeholder in the first
    // rule, after it in the second.
    assert_eq!(errors[0].0, 0);
    assert!(errors[0].1.contains("\\w{1000}{1000}"), "{errors:?}");
    assert_eq!(errors[1].0, 1);
    assert!(errors[1].1.contains("%Admins%"), "{errors:?}");
    assert_eq!(errors[2].0, 2);
    assert!(errors[2].1.contains("\\w{1000}{1000}"), "{errors:?}");
    assert!(engine.is_compiled(3));
    assert_eq!(engine.matches(&json!({"C": "c", "A": "xy"})).count(), 1);
}
