//! Property tests of the YAML reader:
//! - no input panics (arbitrary strings, and YAML-looking noise);
//! - wherever the fast path answers, it answers what the saphyr path answers;
//! - error lists keep their shape (at most one fatal error, last);
//! - generated well-formed block documents read back as the tree they were rendered from.

use proptest::prelude::*;
use sigma::yaml::{
    Documents, Node, ScalarStyle, Value, parse, parse_fast_only, parse_with_fallback_only,
};

fn well_formed_errors(d: &Documents) -> bool {
    let fatal = d.errors.iter().filter(|e| e.fatal).count();
    fatal == 0 || (fatal == 1 && d.errors.last().is_some_and(|e| e.fatal))
}

/// Both paths, compared through Debug (NaN == NaN); returns the result of `parse`.
fn check_paths(src: &str) -> Documents {
    let full = parse_with_fallback_only(src);
    if let Some(fast) = parse_fast_only(src) {
        assert_eq!(
            format!("{fast:?}"),
            format!("{full:?}"),
            "paths differ on {src:?}"
        );
    }
    let d = parse(src);
    assert_eq!(format!("{d:?}"), format!("{full:?}"));
    assert!(well_formed_errors(&d), "{:?}", d.errors);
    d
}

/// Text made of the characters that matter to YAML, so that random input hits the parsers'
/// interesting paths.
fn yamlish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        " ", " ", "  ", "    ", "\n", "\n", "\n  ", "\n    ", "\r\n", "\t", ":", ": ", "- ", "-",
        "#", " # c", "'", "''", "\"", "\\", "\\n", "\\x4", "[", "]", "{", "}", ",", ", ", "&a ",
        "*a", "!!str ", "!", "|", "|-", ">", ">+", "|2", "?", "%", "@", "~", "---", "...", "<<",
        "=", "a", "b", "key", "x y", "1", "0x1F", "1.5", "1.0e+3", "yes", "null", "é", "ü€",
        "\u{feff}", "\u{85}", "\r", "\0",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    // PROPTEST_CASES=n runs more (or fewer) cases.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_paths(&s);
    }

    #[test]
    fn yamlish_noise_never_panics_and_paths_agree(s in yamlish()) {
        check_paths(&s);
    }

    #[test]
    fn generated_documents_read_back(g in gen_doc()) {
        let text = render_doc(&g);
        let d = check_paths(&text);
        prop_assert!(d.errors.is_empty(), "errors {:?} on\n{}", d.errors, text);
        prop_assert_eq!(d.docs.len(), 1);
        prop_assert!(matches_gen(&d.docs[0], &g), "tree differs on\n{}\n{:?}", text, d.docs[0]);
        // Spans point into the text: every plain scalar's span covers its own text.
        let mut ok = true;
        visit(&d.docs[0], &mut |n| {
            if let (Value::Str(s, ScalarStyle::Plain), false) = (&n.value, s_is_multiline(n)) {
                let (a, b) = (n.span.start.offset as usize, n.span.end.offset as usize);
                ok &= text.get(a..b) == Some(s.as_str());
            }
        });
        prop_assert!(ok, "a plain scalar's span does not cover its text in\n{}", text);
    }

    #[test]
    fn generated_documents_go_through_the_fast_path(g in gen_doc()) {
        let text = render_doc(&g);
        prop_assert!(parse_fast_only(&text).is_some(), "fast path bailed on\n{}", text);
    }
}

fn s_is_multiline(n: &Node) -> bool {
    n.span.start.line != n.span.end.line
}

fn visit(n: &Node, f: &mut impl FnMut(&Node)) {
    f(n);
    match &n.value {
        Value::Seq(items) => items.iter().for_each(|i| visit(i, f)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            visit(k, f);
            visit(v, f);
        }),
        _ => {}
    }
}

// ---- generated documents ----

/// A tree to render as block YAML.
#[derive(Debug, Clone)]
enum G {
    Null(&'static str),
    Bool(bool, &'static str),
    Int(i64),
    Plain(String),
    Single(String),
    Double(String),
    Literal(String),
    Seq(Vec<G>),
    Map(Vec<(String, G)>),
}

/// Plain text that resolves to a string (starts with a letter, no indicator sequences).
fn not_keyword(s: &str) -> bool {
    !matches!(
        s.to_ascii_lowercase().as_str(),
        "yes" | "no" | "true" | "false" | "on" | "off" | "null"
    )
}

fn plain_text() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_./\\\\()|*-]{0,12}( [a-zA-Z0-9_./\\\\()|*-]{1,8}){0,3}"
        .prop_filter("not a YAML 1.1 keyword", |s| not_keyword(s))
}

fn key_text() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_|]{0,8}".prop_filter("not a YAML 1.1 keyword", |s| not_keyword(s))
}

/// One line of printable text (what a single-quoted scalar can hold as is).
fn any_line() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        8 => proptest::char::range(' ', '~'),
        1 => Just('\t'),
        1 => proptest::char::range('\u{a0}', '\u{d7ff}'),
        1 => proptest::char::range('\u{e000}', '\u{fefe}'),
        1 => proptest::char::range('\u{10000}', '\u{10ffff}'),
    ];
    prop::collection::vec(ch, 0..16).prop_map(|v| v.into_iter().collect())
}

fn scalar() -> impl Strategy<Value = G> {
    prop_oneof![
        prop::sample::select(vec!["", "~", "null", "Null"]).prop_map(G::Null),
        prop::sample::select(vec![
            (true, "true"),
            (false, "no"),
            (true, "On"),
            (false, "FALSE")
        ])
        .prop_map(|(b, t)| G::Bool(b, t)),
        any::<i64>().prop_map(G::Int),
        plain_text().prop_map(G::Plain),
        any_line().prop_map(G::Single),
        any::<String>().prop_map(G::Double),
        prop::collection::vec(plain_text(), 1..4).prop_map(|l| G::Literal(l.join("\n") + "\n")),
    ]
}

fn gen_node() -> impl Strategy<Value = G> {
    scalar().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..5).prop_map(G::Seq),
            prop::collection::vec((key_text(), inner), 1..5).prop_map(|entries| {
                // Unique keys.
                let mut seen = std::collections::HashSet::new();
                G::Map(
                    entries
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .collect(),
                )
            }),
        ]
    })
}

fn gen_doc() -> impl Strategy<Value = G> {
    prop::collection::vec((key_text(), gen_node()), 1..6).prop_map(|entries| {
        let mut seen = std::collections::HashSet::new();
        G::Map(
            entries
                .into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .collect(),
        )
    })
}

fn double_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32))
                || matches!(c as u32, 0xfeff | 0xfffe | 0xffff) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Render a scalar inline (after `key: ` or `- `), with `indent` the column of its parent.
fn render_scalar(g: &G, indent: usize) -> String {
    match g {
        G::Null(t) | G::Bool(_, t) => (*t).to_owned(),
        G::Int(i) => i.to_string(),
        G::Plain(s) => s.clone(),
        G::Single(s) => format!("'{}'", s.replace('\'', "''")),
        G::Double(s) => double_quote(s),
        G::Literal(s) => {
            let pad = " ".repeat(indent + 2);
            let body: String = s.lines().map(|l| format!("{pad}{l}\n")).collect();
            format!("|\n{}", body.trim_end_matches('\n'))
        }
        G::Seq(_) | G::Map(_) => unreachable!("not a scalar"),
    }
}

/// Lines of a collection whose entries start at column `indent`.
fn render_block(g: &G, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match g {
        G::Seq(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                render_value(item, indent, true, out);
            }
        }
        G::Map(entries) => {
            for (k, v) in entries {
                out.push_str(&pad);
                out.push_str(k);
                out.push(':');
                render_value(v, indent, false, out);
            }
        }
        _ => unreachable!("not a collection"),
    }
}

/// A value after `key:` or `-` of an entry at column `indent`.
fn render_value(v: &G, indent: usize, in_seq: bool, out: &mut String) {
    match v {
        G::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        G::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        G::Map(_) if in_seq => {
            // Compact form: the first key on the dash's line.
            out.push(' ');
            let mut inner = String::new();
            render_block(v, indent + 2, &mut inner);
            out.push_str(&inner[indent + 2..]);
        }
        G::Seq(_) if !in_seq && indent.is_multiple_of(4) => {
            // Indentless sequence under a key.
            out.push('\n');
            render_block(v, indent, out);
        }
        G::Seq(_) | G::Map(_) => {
            out.push('\n');
            render_block(v, indent + 2, out);
        }
        scalar => {
            let text = render_scalar(scalar, indent);
            if !text.is_empty() {
                out.push(' ');
            }
            out.push_str(&text);
            out.push('\n');
        }
    }
}

fn render_doc(g: &G) -> String {
    let mut out = String::new();
    render_block(g, 0, &mut out);
    out
}

fn matches_gen(n: &Node, g: &G) -> bool {
    match (g, &n.value) {
        (G::Null(_), Value::Null) => true,
        (G::Bool(b, t), Value::Bool(b2, t2)) => b == b2 && **t == **t2,
        (G::Int(i), Value::Int(i2, t)) => i == i2 && **t == i.to_string(),
        (G::Plain(s), Value::Str(s2, ScalarStyle::Plain)) => s == s2,
        (G::Single(s), Value::Str(s2, ScalarStyle::SingleQuoted)) => s == s2,
        (G::Double(s), Value::Str(s2, ScalarStyle::DoubleQuoted)) => s == s2,
        (G::Literal(s), Value::Str(s2, ScalarStyle::Literal)) => s == s2,
        (G::Seq(items), Value::Seq(nodes)) => {
            items.len() == nodes.len() && items.iter().zip(nodes).all(|(g, n)| matches_gen(n, g))
        }
        (G::Map(entries), Value::Map(nodes)) => {
            entries.len() == nodes.len()
                && entries
                    .iter()
                    .zip(nodes)
                    .all(|((k, g), (kn, vn))| kn.as_str() == Some(k.as_str()) && matches_gen(vn, g))
        }
        _ => false,
    }
}

/// The renderer itself must produce what it means to (guards the property above).
#[test]
fn renderer_sanity() {
    let g = G::Map(vec![
        (
            "a".into(),
            G::Seq(vec![
                G::Int(1),
                G::Map(vec![
                    ("b".into(), G::Plain("x y".into())),
                    ("c".into(), G::Null("")),
                ]),
            ]),
        ),
        ("d".into(), G::Literal("l1\nl2\n".into())),
    ]);
    let text = render_doc(&g);
    assert_eq!(text, "a:\n- 1\n- b: x y\n  c:\nd: |\n  l1\n  l2\n");
    let d = parse(&text);
    assert!(matches_gen(&d.docs[0], &g));
    assert!(!matches_gen(&d.docs[0], &G::Map(vec![])));
}
