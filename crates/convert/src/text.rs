//! Writing values into the text formats of the rule-file targets: YAML (ElastAlert), INI
//! (ee-outliers), and quoted strings of query languages.

use serde_json::Value as Json;

/// A YAML double-quoted scalar that every YAML 1.1 and 1.2 reader (PyYAML, which ElastAlert
/// uses, included) reads back as `s`: `"` and `\` escaped, and every character outside
/// PyYAML's printable set (controls, DEL, C1 controls, U+FEFF, U+FFFE, U+FFFF) written as an
/// escape. The result is also a valid JSON string.
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    // Runs of characters that need no escape are copied whole.
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let hex;
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}') =>
            {
                hex = format!("\\u{:04x}", c as u32);
                &hex
            }
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(escaped);
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
    out
}

/// A JSON value as YAML flow text (also valid JSON), strings quoted with [`yaml_quote`].
pub fn yaml_flow(v: &Json) -> String {
    let mut out = String::new();
    flow(v, &mut out);
    out
}

fn flow(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => out.push_str(&yaml_quote(s)),
        Json::Array(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(x, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&yaml_quote(k));
                out.push_str(": ");
                flow(x, out);
            }
            out.push('}');
        }
    }
}

/// Text on one line: runs of whitespace (newlines included) become one space, trimmed.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A double-quoted string literal of EQL and ES|QL: `\`, `"` and control characters escaped.
pub fn dq_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number of a correlation condition as query text: integers without a fraction.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quoting_escapes_what_pyyaml_rejects() {
        assert_eq!(yaml_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            yaml_quote("x\u{85}\u{7f}\u{1}é"),
            "\"x\\u0085\\u007f\\u0001é\""
        );
        assert_eq!(yaml_quote("line\nnext"), "\"line\\nnext\"");
        let j = serde_json::json!({"a": ["x\"", 1, true, null], "b\u{0}": {"c": 2.5}});
        let text = yaml_flow(&j);
        assert_eq!(
            serde_json::from_str::<Json>(&text).expect("JSON too"),
            j,
            "{text}"
        );
    }

    #[test]
    fn misc() {
        assert_eq!(one_line("  a\n  b\tc "), "a b c");
        assert_eq!(dq_string("C:\\x \"y\""), r#""C:\\x \"y\"""#);
        assert_eq!(number(100.0), "100");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(-3.0), "-3");
    }
}
