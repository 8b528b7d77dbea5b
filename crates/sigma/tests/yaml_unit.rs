//! Unit tests of the YAML reader, one group per construct. Every input is read by both paths:
//! where the fast path answers, it must answer exactly what the saphyr path answers.

use sigma::span::{Pos, Span};
use sigma::yaml::{
    Documents, Node, ScalarStyle, Value, YamlError, parse, parse_fast_only,
    parse_with_fallback_only,
};

/// Read with both paths, check they agree, return the result.
fn read(src: &str) -> Documents {
    let full = parse_with_fallback_only(src);
    // Compared through Debug so that NaN equals NaN.
    if let Some(fast) = parse_fast_only(src) {
        assert_eq!(
            format!("{fast:?}"),
            format!("{full:?}"),
            "fast and saphyr paths differ on {src:?}"
        );
    }
    assert_eq!(format!("{:?}", parse(src)), format!("{full:?}"));
    full
}

/// Must be read by the fast path (the Sigma subset).
fn read_fast(src: &str) -> Documents {
    assert!(
        parse_fast_only(src).is_some(),
        "fast path bailed on {src:?}"
    );
    read(src)
}

/// The single document of a text that reads without errors.
fn doc(src: &str) -> Node {
    let d = read(src);
    assert!(
        d.errors.is_empty(),
        "unexpected errors on {src:?}: {:?}",
        d.errors
    );
    assert_eq!(d.docs.len(), 1, "{src:?}");
    d.docs.into_iter().next().expect("one document")
}

fn value_of(src: &str, key: &str) -> Value {
    doc(src)
        .get(key)
        .unwrap_or_else(|| panic!("no key {key} in {src:?}"))
        .value
        .clone()
}

/// The values of a tree without spans.
fn shape(n: &Node) -> String {
    match &n.value {
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", shape(k), shape(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        v => format!("{v:?}"),
    }
}

fn s(t: &str) -> Value {
    Value::Str(t.into(), ScalarStyle::Plain)
}

fn fatal(d: &Documents) -> &YamlError {
    let e = d.errors.last().expect("an error");
    assert!(e.fatal, "last error is not fatal: {e:?}");
    e
}

fn at(line: u32, column: u32, e: &YamlError) {
    assert_eq!(
        (e.span.start.line, e.span.start.column),
        (line, column),
        "{e:?}"
    );
}

// ---- scalar resolution (YAML 1.1, as PyYAML) ----

#[test]
fn plain_scalars_resolve_like_pyyaml() {
    let src = "n1: ~\nn2: null\nn3: NULL\nn4:\nb1: yes\nb2: Off\nb3: TRUE\ni1: 0x1F\ni2: 017\n\
               i3: 1_000\ni4: 1:20\ni5: -0b11\nf1: 1.5\nf2: 1.0e+3\nf3: .inf\nf4: -.INF\n\
               s1: 1e3\ns2: 0o17\ns3: 2001-12-14\ns4: y\ns5: -.5\n";
    let d = doc(src);
    let v = |k: &str| d.get(k).expect(k).value.clone();
    for k in ["n1", "n2", "n3", "n4"] {
        assert_eq!(v(k), Value::Null, "{k}");
    }
    assert_eq!(v("b1"), Value::Bool(true, "yes".into()));
    assert_eq!(v("b2"), Value::Bool(false, "Off".into()));
    assert_eq!(v("b3"), Value::Bool(true, "TRUE".into()));
    assert_eq!(v("i1"), Value::Int(31, "0x1F".into()));
    assert_eq!(v("i2"), Value::Int(15, "017".into()));
    assert_eq!(v("i3"), Value::Int(1000, "1_000".into()));
    assert_eq!(v("i4"), Value::Int(80, "1:20".into()));
    assert_eq!(v("i5"), Value::Int(-3, "-0b11".into()));
    assert_eq!(v("f1"), Value::Float(1.5, "1.5".into()));
    assert_eq!(v("f2"), Value::Float(1000.0, "1.0e+3".into()));
    assert_eq!(v("f3"), Value::Float(f64::INFINITY, ".inf".into()));
    assert_eq!(v("f4"), Value::Float(f64::NEG_INFINITY, "-.INF".into()));
    for (k, t) in [
        ("s1", "1e3"),
        ("s2", "0o17"),
        ("s3", "2001-12-14"),
        ("s4", "y"),
        ("s5", "-.5"),
    ] {
        assert_eq!(v(k), s(t), "{k}");
    }
    assert!(matches!(value_of("x: .NaN", "x"), Value::Float(f, _) if f.is_nan()));
}

#[test]
fn quoted_and_block_scalars_are_always_strings() {
    let d = doc("a: '1'\nb: \"yes\"\nc: |\n  12\nd: >-\n  null\n");
    assert_eq!(
        d.get("a").unwrap().value,
        Value::Str("1".into(), ScalarStyle::SingleQuoted)
    );
    assert_eq!(
        d.get("b").unwrap().value,
        Value::Str("yes".into(), ScalarStyle::DoubleQuoted)
    );
    assert_eq!(
        d.get("c").unwrap().value,
        Value::Str("12\n".into(), ScalarStyle::Literal)
    );
    assert_eq!(
        d.get("d").unwrap().value,
        Value::Str("null".into(), ScalarStyle::Folded)
    );
}

#[test]
fn keys_resolve_too() {
    let d = doc("1: a\nfalse: b\n~: c\n");
    let keys: Vec<_> = d
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.value.clone())
        .collect();
    assert_eq!(
        keys,
        vec![
            Value::Int(1, "1".into()),
            Value::Bool(false, "false".into()),
            Value::Null
        ]
    );
}

#[test]
fn integers_beyond_i64_stay_strings() {
    assert_eq!(
        value_of("a: 9223372036854775808", "a"),
        s("9223372036854775808")
    );
    assert_eq!(
        value_of("a: -9223372036854775808", "a"),
        Value::Int(i64::MIN, "-9223372036854775808".into())
    );
}

// ---- tags ----

#[test]
fn standard_tags_are_honoured() {
    let d = doc(
        "a: !!str 12\nb: !!int '12'\nc: !!float 1\nd: !!bool 'on'\ne: !!null x\nf: ! 12\n\
                 g: !!int 0o17\nh: !<tag:yaml.org,2002:str> yes\n",
    );
    let v = |k: &str| d.get(k).unwrap().value.clone();
    assert_eq!(v("a"), s("12"));
    assert_eq!(v("b"), Value::Int(12, "12".into()));
    assert_eq!(v("c"), Value::Float(1.0, "1".into()));
    assert_eq!(v("d"), Value::Bool(true, "on".into()));
    assert_eq!(v("e"), Value::Null);
    // PyYAML resolves a scalar with the non-specific tag `!` as if it were plain.
    assert_eq!(v("f"), Value::Int(12, "12".into()));
    assert_eq!(v("g"), Value::Int(15, "0o17".into()));
    assert_eq!(v("h"), s("yes"));
    // The span of a tagged scalar starts at its tag.
    assert_eq!(d.get("a").unwrap().span.start.column, 4);
}

#[test]
fn unknown_tags_and_bad_tagged_values_are_non_fatal_errors() {
    let d = read("a: !foo 1\nb: !!int abc\nc: !!binary aGk=\nd: !!set {x}\n");
    assert_eq!(d.docs.len(), 1);
    let msgs: Vec<_> = d
        .errors
        .iter()
        .map(|e| (e.fatal, e.span.start.line))
        .collect();
    assert_eq!(
        msgs,
        vec![(false, 1), (false, 2), (false, 3), (false, 4)],
        "{:?}",
        d.errors
    );
    let root = &d.docs[0];
    assert_eq!(root.get("a").unwrap().value, Value::Int(1, "1".into()));
    assert_eq!(root.get("b").unwrap().value, s("abc"));
}

// ---- mappings: duplicates and merges ----

#[test]
fn duplicate_keys_are_reported_at_the_second_key_and_the_later_value_wins() {
    let d = read_fast("a: 1\nb: 2\na: 3\n");
    assert_eq!(d.errors.len(), 1);
    let e = &d.errors[0];
    assert!(!e.fatal);
    at(3, 1, e);
    assert!(e.message.contains("duplicate key `a`"), "{}", e.message);
    let m = d.docs[0].as_map().unwrap();
    assert_eq!(m.len(), 2);
    // Python dict order: `a` keeps its first place.
    assert_eq!(m[0].0.as_str(), Some("a"));
    assert_eq!(m[0].1.value, Value::Int(3, "3".into()));
    // Python equality: 1, 1.0 and true are one key.
    let d = read_fast("1: a\n1.0: b\ntrue: c\n'1': d\n");
    assert_eq!(d.errors.len(), 2);
    assert_eq!(d.docs[0].as_map().unwrap().len(), 2);
    // Nested duplicates come in source order.
    let d = read_fast("a:\n  x: 1\n  x: 2\na: 3\n");
    let lines: Vec<_> = d.errors.iter().map(|e| e.span.start.line).collect();
    assert_eq!(lines, vec![3, 4]);
}

#[test]
fn merge_keys_merge_like_pyyaml() {
    let src = "base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\n\
               one:\n  <<: *b\n  y: 9\nmany:\n  <<: [*b, *o]\n  w: 0\n";
    let d = doc(src);
    let keys = |k: &str| -> Vec<(String, Value)> {
        d.get(k)
            .unwrap()
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.value.clone()))
            .collect()
    };
    let int = |i: i64| Value::Int(i, i.to_string().into());
    assert_eq!(
        keys("one"),
        vec![("x".into(), int(1)), ("y".into(), int(9))]
    );
    // PyYAML: the list is merged last-first, so earlier maps win; own keys win over all.
    assert_eq!(
        keys("many"),
        vec![
            ("y".into(), int(2)),
            ("z".into(), int(4)),
            ("x".into(), int(1)),
            ("w".into(), int(0))
        ]
    );
    let d = read("a:\n  <<: 3\n");
    assert_eq!(d.errors.len(), 1);
    assert!(!d.errors[0].fatal);
    // `<<` anywhere but a key is an error for PyYAML.
    assert_eq!(read("- <<\n").errors.len(), 1);
}

// ---- anchors and aliases ----

#[test]
fn aliases_expand_to_copies() {
    let d = doc("a: &x [1, 2]\nb: *x\nc: &s hello\nd: *s\n");
    assert_eq!(d.get("b").unwrap().value, d.get("a").unwrap().value);
    assert_eq!(d.get("d").unwrap().value, s("hello"));
    // The copy points at the alias.
    assert_eq!(d.get("b").unwrap().span.start, Pos::new(16, 2, 4));
}

#[test]
fn undefined_and_recursive_aliases_are_fatal() {
    let d = read("a: 1\n---\nb: *nope\n");
    assert_eq!(d.docs.len(), 1, "the document before the error is kept");
    fatal(&d);
    let d = read("&a [*a]\n");
    fatal(&d);
    assert!(d.docs.is_empty());
}

#[test]
fn alias_bombs_are_stopped() {
    let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let p = i - 1;
        src.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let d = read(&src);
    assert!(fatal(&d).message.contains("too many"));
}

// ---- quoted scalars ----

#[test]
fn double_quoted_escapes() {
    let v = value_of(r#"a: "x\ty\n\x41\u263A\U0001F600\\\"\/\0\e\N\_ end""#, "a");
    assert_eq!(
        v,
        Value::Str(
            "x\ty\nA\u{263A}\u{1F600}\\\"/\0\x1b\u{85}\u{a0} end".into(),
            ScalarStyle::DoubleQuoted
        )
    );
}

#[test]
fn quoted_line_folding() {
    let dq = |t: &str| Value::Str(t.into(), ScalarStyle::DoubleQuoted);
    let sq = |t: &str| Value::Str(t.into(), ScalarStyle::SingleQuoted);
    assert_eq!(
        value_of("a: \"one  \n   two\n\n   three\"\n", "a"),
        dq("one two\nthree")
    );
    assert_eq!(value_of("a: \"one \\\n   two\"\n", "a"), dq("one two"));
    assert_eq!(value_of("a: \"one\\\n   two\"\n", "a"), dq("onetwo"));
    assert_eq!(value_of("a: 'it''s\n  here'\n", "a"), sq("it's here"));
    assert_eq!(value_of("a: ''''\n", "a"), sq("'"));
    read_fast("a: \"one  \n   two\n\n   three\"\nb: 'x\n\n\n  y'\n");
}

#[test]
fn plain_multi_line_scalars_fold() {
    assert_eq!(
        value_of("a: one\n  two\n\n  three\nb: x\n", "a"),
        s("one two\nthree")
    );
    assert_eq!(
        doc("- one\n  two # c\n").as_seq().unwrap()[0].value,
        s("one two")
    );
    read_fast("a: one\n  two\n\n  three\nb: x\n");
    read_fast("- one\n  two # c\n");
}

// ---- block scalars ----

#[test]
fn block_scalars() {
    let lit = |t: &str| Value::Str(t.into(), ScalarStyle::Literal);
    let fol = |t: &str| Value::Str(t.into(), ScalarStyle::Folded);
    assert_eq!(
        value_of("a: |\n  x\n   y\n\n  z\nb: 1\n", "a"),
        lit("x\n y\n\nz\n")
    );
    assert_eq!(value_of("a: |-\n  x\n\n", "a"), lit("x"));
    assert_eq!(value_of("a: |+\n  x\n\n\nb: 1\n", "a"), lit("x\n\n\n"));
    assert_eq!(
        value_of("a: >\n  one\n  two\n\n  three\n    more\n  four\n", "a"),
        fol("one two\nthree\n  more\nfour\n")
    );
    assert_eq!(value_of("a: >-\n  x\n  y", "a"), fol("x y"));
    // Explicit indentation indicators (complete parser).
    assert_eq!(value_of("a: |2\n    x\n   y\n", "a"), lit("  x\n y\n"));
    assert_eq!(doc("- |1\n  x\n").as_seq().unwrap()[0].value, lit(" x\n"));
    assert_eq!(value_of("a: >2-\n   x\n", "a"), fol(" x"));
    read_fast("a: |\n  x\n   y\n\n  z\nb: >-\n  one\n  two\nc: |+\n  k\n\n");
}

#[test]
fn block_scalar_spans_run_from_indicator_to_last_character() {
    let d = doc("a: |  # c\n  one\n  two  \n\nb: 1\n");
    let sp = d.get("a").unwrap().span;
    assert_eq!(sp.start, Pos::new(3, 1, 4));
    assert_eq!(sp.end, Pos::new(21, 3, 6));
}

// ---- flow collections ----

#[test]
fn flow_sequences_and_mappings() {
    let d = doc("a: [x, 'y', \"z\", [1, 2], []]\nb: {k: v, n: [1]}\nc: [p: q]\n");
    let a = d.get("a").unwrap().as_seq().unwrap();
    assert_eq!(a.len(), 5);
    assert_eq!(a[0].value, s("x"));
    assert_eq!(a[3].as_seq().unwrap()[1].value, Value::Int(2, "2".into()));
    assert_eq!(d.get("b").unwrap().get("k").unwrap().value, s("v"));
    assert_eq!(
        d.get("c").unwrap().as_seq().unwrap()[0]
            .get("p")
            .unwrap()
            .value,
        s("q")
    );
    // Spans of flow collections cover their brackets.
    let sp = d.get("a").unwrap().span;
    assert_eq!((sp.start.column, sp.end.column), (4, 29));
    assert_eq!(d.get("b").unwrap().span.start.column, 4);
    read_fast("a: [x, 'y', \"z\", [1, 2], []]\n");
}

// ---- comments, line endings, BOM ----

#[test]
fn comments_everywhere() {
    let src = "# head\n---  # doc\na: 1 # c\n# between\nb:   # c\n  - x # c\n  # inner\n  - 'y' # c\nc: \"#\" # c\nd: x#y\n...  # end\n";
    let d = read_fast(src);
    assert!(d.errors.is_empty());
    let root = &d.docs[0];
    assert_eq!(root.get("b").unwrap().as_seq().unwrap().len(), 2);
    assert_eq!(root.get("c").unwrap().as_str(), Some("#"));
    assert_eq!(root.get("d").unwrap().value, s("x#y"));
}

#[test]
fn crlf_line_endings() {
    let lf = "a: 1\nb:\n  - x\n  - 'y\n    z'\nc: |\n  l1\n  l2\n";
    let crlf = lf.replace('\n', "\r\n");
    let (d1, d2) = (read_fast(lf), read_fast(&crlf));
    assert!(d2.errors.is_empty());
    assert_eq!(shape(&d1.docs[0]), shape(&d2.docs[0]));
    let c = d2.docs[0].get("c").unwrap();
    assert_eq!(c.as_str(), Some("l1\nl2\n"));
    assert_eq!(
        (c.span.start.line, c.span.end.line, c.span.end.column),
        (6, 8, 5)
    );
    // A lone CR is a line break too (complete parser).
    assert_eq!(
        read("a: 1\rb: 2\r").docs[0]
            .get("b")
            .unwrap()
            .span
            .start
            .line,
        2
    );
}

#[test]
fn byte_order_mark_is_skipped() {
    let d = read_fast("\u{feff}a: 1\n");
    assert!(d.errors.is_empty());
    let k = &d.docs[0].as_map().unwrap()[0].0;
    assert_eq!(k.span.start, Pos::new(3, 1, 1));
}

// ---- tabs ----

#[test]
fn tabs_where_yaml_forbids_them_are_fatal() {
    let d = read("a:\n\t- b\n");
    at(2, 1, fatal(&d));
    let d = read("a: 1\nb:\tx\n");
    at(2, 3, fatal(&d));
    let d = read("a: b\t# c\n");
    at(1, 5, fatal(&d));
    let d = read("a: [x,\ty]\n");
    at(1, 7, fatal(&d));
    // ... but are fine in quoted scalars, block scalar content and comments.
    let d = doc("a: \"x\ty\"\nb: 'p\tq' # c\t\nc: |\n  x\ty\n# \tc\n");
    assert_eq!(d.get("a").unwrap().as_str(), Some("x\ty"));
    assert_eq!(d.get("c").unwrap().as_str(), Some("x\ty\n"));
}

// ---- syntax errors ----

#[test]
fn syntax_errors_are_fatal_with_positions() {
    let d = read("a: 1\nb: 'abc\n");
    assert_eq!(d.docs.len(), 0);
    let e = fatal(&d);
    assert_eq!(e.span.start.line, 2);
    let d = read("a: \"abc");
    assert!(fatal(&d).span.start.line == 1);
    let d = read("a: 1\n  b: 2\n");
    at(2, 4, fatal(&d));
    let d = read("a:\n  - x\n  y: 1\n");
    fatal(&d);
    let d = read("a: b: c\n");
    at(1, 5, fatal(&d));
    let d = read("key: [a, b\n");
    fatal(&d);
    assert_eq!(d.errors.len(), 1);
}

#[test]
fn documents_before_a_syntax_error_are_kept() {
    let d = read("a: 1\n---\nb: 2\n---\nc: [\n");
    assert_eq!(d.docs.len(), 2);
    assert_eq!(d.errors.len(), 1);
    assert!(fatal(&d).span.start.line >= 5);
}

#[test]
fn special_characters_are_refused() {
    let d = read("a: x\u{1}y\n");
    at(1, 5, fatal(&d));
    assert!(d.docs.is_empty());
}

// ---- documents ----

#[test]
fn multiple_documents() {
    let d = read_fast("a: 1\n---\nb: 2\n...\n---\n---\n# only a comment\n");
    assert_eq!(d.docs.len(), 4);
    assert!(d.docs[2].is_null() && d.docs[3].is_null());
    assert!(read_fast("").docs.is_empty());
    assert!(read_fast("# nothing\n").docs.is_empty());
    assert_eq!(read_fast("--- \n").docs.len(), 1);
    assert_eq!(doc("just text\n").value, s("just text"));
}

#[test]
fn yaml_1_1_document_rules() {
    // A bare document after `...` needs `---` (PyYAML), as does a leading `...`.
    let d = read("a: 1\n...\nb: 2\n");
    assert_eq!(d.docs.len(), 1);
    at(3, 1, fatal(&d));
    at(1, 1, fatal(&read("...\n")));
    assert_eq!(read("%YAML 1.1\n---\na: 1\n").docs.len(), 1);
}

// ---- spans ----

#[test]
fn spans_of_ordinary_nodes() {
    let d =
        doc("key: value\nlist:\n  - 'q'\n  -\nnum: 12 # c\nempty:\nnested:\n  - a: 1\n    b: 2\n");
    let m = d.as_map().unwrap();
    let sp = |l1, c1, l2, c2| (l1, c1, l2, c2);
    let of = |n: &Node| {
        sp(
            n.span.start.line,
            n.span.start.column,
            n.span.end.line,
            n.span.end.column,
        )
    };
    assert_eq!(of(&m[0].0), sp(1, 1, 1, 4));
    assert_eq!(of(&m[0].1), sp(1, 6, 1, 11));
    // A block sequence starts at its first dash; an empty entry is a point after its dash.
    assert_eq!(of(&m[1].1), sp(3, 3, 4, 4));
    assert_eq!(of(&m[1].1.as_seq().unwrap()[1]), sp(4, 4, 4, 4));
    assert_eq!(of(&m[2].1), sp(5, 6, 5, 8));
    // An empty value is a point just after its colon.
    assert_eq!(of(&m[3].1), sp(6, 7, 6, 7));
    // A block mapping starts at its first key and ends with its last value.
    let inner = &m[4].1.as_seq().unwrap()[0];
    assert_eq!(of(inner), sp(8, 5, 9, 9));
    assert_eq!(of(&d), sp(1, 1, 9, 9));
    assert_eq!(
        d.span.end.offset as usize,
        "key: value\nlist:\n  - 'q'\n  -\nnum: 12 # c\nempty:\nnested:\n  - a: 1\n    b: 2".len()
    );
}

#[test]
fn columns_count_characters() {
    let d = doc("é: ü\n\"ß\": [ä, ö]\n");
    let m = d.as_map().unwrap();
    assert_eq!(m[0].1.span.start, Pos::new(4, 1, 4));
    let seq = m[1].1.as_seq().unwrap();
    assert_eq!(
        seq[1].span,
        Span::new(Pos::new(18, 2, 10), Pos::new(20, 2, 11))
    );
}

// ---- the Sigma subset goes through the fast path ----

#[test]
fn a_typical_rule_uses_the_fast_path() {
    let rule = r#"title: Suspicious Thing
id: 5039f3d2-406a-4c1a-9350-7a5a85dc84c2
status: test
description: |
    Detects a thing.
    Over two lines.
references:
    - https://example.org/a?b=c#d
author: Someone, Other
date: 2023-08-21
tags:
    - attack.t1584
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith:
            - '\cmd.exe'
            - "\\powershell.exe"
        CommandLine|contains|all: [' -enc ', 'x']
        EventID: 4688
    condition: selection and not 1 of filter_*
falsepositives:
    - Unknown
level: high
"#;
    let d = read_fast(rule);
    assert!(d.errors.is_empty());
    let r = &d.docs[0];
    assert_eq!(r.get("date").unwrap().value, s("2023-08-21"));
    let sel = r.get("detection").unwrap().get("selection").unwrap();
    assert_eq!(
        sel.get("EventID").unwrap().value,
        Value::Int(4688, "4688".into())
    );
    assert_eq!(
        sel.get("Image|endswith").unwrap().as_seq().unwrap()[1].as_str(),
        Some("\\powershell.exe")
    );
    assert_eq!(
        r.get("description").unwrap().as_str(),
        Some("Detects a thing.\nOver two lines.\n")
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = "[".repeat(100_000);
    let d = parse(&deep);
    assert!(fatal(&d).fatal);
    let deep = "- ".repeat(5_000) + "x\n";
    let d = parse(&deep);
    assert!(!d.errors.is_empty());
}
