//! INTERIM: a minimal saphyr-based reader used until the real one lands. Replaced on merge.
use super::*;
use crate::span::Pos;
use saphyr_parser::{Event, Parser};

fn pos(m: saphyr_parser::Marker, src: &str, line_starts: &[usize]) -> Pos {
    let line = m.line().max(1);
    let ls = line_starts.get(line - 1).copied().unwrap_or(0);
    let off = src[ls..]
        .char_indices()
        .nth(m.col())
        .map_or(src.len(), |(i, _)| ls + i);
    Pos::new(off as u32, line as u32, m.col() as u32 + 1)
}

fn resolve(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Value::Bool(true, s.into())
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Value::Bool(false, s.into())
        }
        _ => {
            if let Ok(i) = s.parse::<i64>()
                && (!s.starts_with('0') || s == "0")
            {
                return Value::Int(i, s.into());
            }
            if s.contains('.')
                && s.parse::<f64>().is_ok()
                && s.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
            {
                return Value::Float(s.parse().unwrap_or(0.0), s.into());
            }
            Value::Str(s.to_owned(), ScalarStyle::Plain)
        }
    }
}

pub fn parse(src: &str) -> Documents {
    let mut line_starts = vec![0];
    for (i, b) in src.bytes().enumerate() {
        if b == b'\n' {
            line_starts.push(i + 1);
        }
    }
    let mut out = Documents::default();
    let mut stack: Vec<(Node, Option<Node>)> = Vec::new();
    for ev in Parser::new_from_str(src) {
        let (ev, span) = match ev {
            Ok(x) => x,
            Err(e) => {
                let p = pos(*e.marker(), src, &line_starts);
                out.errors.push(YamlError {
                    message: e.info().to_owned(),
                    span: Span::point(p),
                    fatal: true,
                });
                return out;
            }
        };
        let sp = Span::new(
            pos(span.start, src, &line_starts),
            pos(span.end, src, &line_starts),
        );
        let node = match ev {
            Event::Scalar(v, style, _, _) => {
                let value = match style {
                    saphyr_parser::ScalarStyle::Plain => resolve(&v),
                    saphyr_parser::ScalarStyle::SingleQuoted => {
                        Value::Str(v.to_string(), ScalarStyle::SingleQuoted)
                    }
                    saphyr_parser::ScalarStyle::DoubleQuoted => {
                        Value::Str(v.to_string(), ScalarStyle::DoubleQuoted)
                    }
                    saphyr_parser::ScalarStyle::Literal => {
                        Value::Str(v.to_string(), ScalarStyle::Literal)
                    }
                    _ => Value::Str(v.to_string(), ScalarStyle::Folded),
                };
                Node::new(value, sp)
            }
            Event::SequenceStart(..) => {
                stack.push((Node::new(Value::Seq(vec![]), sp), None));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((Node::new(Value::Map(vec![]), sp), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((mut n, _)) => {
                    n.span.end = sp.end;
                    n
                }
                None => continue,
            },
            Event::DocumentEnd => continue,
            _ => continue,
        };
        match stack.last_mut() {
            None => out.docs.push(node),
            Some((parent, pending)) => match &mut parent.value {
                Value::Seq(items) => items.push(node),
                Value::Map(entries) => match pending.take() {
                    None => *pending = Some(node),
                    Some(k) => {
                        if let Some(dup) = entries.iter().position(|(ek, _)| {
                            ek.scalar_text().is_some() && ek.scalar_text() == k.scalar_text()
                        }) {
                            out.errors.push(YamlError {
                                message: format!(
                                    "duplicate key '{}'",
                                    k.scalar_text().unwrap_or("")
                                ),
                                span: k.span,
                                fatal: false,
                            });
                            entries.remove(dup);
                        }
                        entries.push((k, node))
                    }
                },
                _ => {}
            },
        }
    }
    out
}
