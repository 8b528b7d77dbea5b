//! What the engine sees of an event: the [`Event`] trait, with borrowed values.
//!
//! # Field names
//!
//! A field name is a dotted path (`Event.EventData.Image`, `winlog.event_data.CommandLine`).
//! It resolves the way Elasticsearch reads documents: at each object, any key equal to the rest
//! of the path, or to a dotted prefix of it, is taken (`{"a.b": 1}`, `{"a": {"b": 1}}` and
//! `{"a.b": {"c": ...}}` all hold `a.b...`); a document holding the same field in several of
//! these forms gives the values of all of them. Arrays of objects on the way are walked
//! element by element.
//!
//! At the end of the path:
//! - a scalar is the value;
//! - an array gives each of its elements (nested arrays flattened): a field *matches when any
//!   element matches*;
//! - an object with a `#text` key (the EVTX attribute form
//!   `"EventID": {"#attributes": {...}, "#text": 4688}`) gives its `#text`; any other object is an
//!   opaque value ([`Scalar::Other`]) that no pattern matches but that exists.
//!
//! A field *exists* when the path resolves, even to `null` or `[]`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::semantics::Num;

/// One value of a field, borrowed from the event where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(Cow<'a, str>),
    /// An object (or anything else without a comparable value).
    Other,
}

/// A field name prepared for lookups: the dotted path split once.
///
/// The engine interns every field its rules use; an [`Event`] implementation may use
/// [`FieldPath::slot`] to answer from a precomputed table (see [`crate::jsonline`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    name: Box<str>,
    /// Byte ranges of the dot-separated parts in `name`.
    parts: Box<[(u32, u32)]>,
    table: u64,
    slot: u32,
}

impl FieldPath {
    /// A field path not bound to any engine's field table.
    pub fn new(name: &str) -> FieldPath {
        Self::bound(name, 0, 0)
    }

    pub(crate) fn bound(name: &str, table: u64, slot: u32) -> FieldPath {
        let mut parts = Vec::new();
        let mut start = 0u32;
        for (i, c) in name.char_indices() {
            if c == '.' {
                parts.push((start, i as u32));
                start = i as u32 + 1;
            }
        }
        parts.push((start, name.len() as u32));
        FieldPath {
            name: name.into(),
            parts: parts.into(),
            table,
            slot,
        }
    }

    /// The name as written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of dot-separated parts.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Always false: a path has at least one part (maybe empty).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Parts `i..j` joined by dots (`i < j <= len`).
    pub fn join(&self, i: usize, j: usize) -> &str {
        let start = self.parts[i].0 as usize;
        let end = self.parts[j - 1].1 as usize;
        &self.name[start..end]
    }

    /// The field table this path was interned in (0: none) and its slot there.
    pub fn slot(&self) -> (u64, u32) {
        (self.table, self.slot)
    }
}

/// An event the engine can match: field lookup and a walk over all values.
///
/// Implemented for [`serde_json::Value`] (EVTX records, JSON documents), for [`EsHit`]
/// (Elasticsearch search hits, read from `_source`) and for [`crate::jsonline::LineEvent`]
/// (JSON lines parsed lazily).
pub trait Event {
    /// Call `visit` with each value of the field (see the module docs for arrays and `#text`).
    /// Returns whether the field exists.
    fn lookup(&self, field: &FieldPath, visit: &mut dyn FnMut(Scalar<'_>)) -> bool;

    /// Call `visit` with every scalar value of the event, at any depth (for keyword search).
    fn for_each_scalar(&self, visit: &mut dyn FnMut(Scalar<'_>));

    /// The event's JSON text when it can stand in for all its values in a substring search:
    /// no `\u` or `\/` escapes, numbers only as plain integers, and no character beyond ASCII
    /// that folds to ASCII (`İ`, Kelvin sign; see [`crate::semantics::ascii_folds_from_ascii`]),
    /// so every value's text form, JSON-escaped, appears in it as is, and its folded form has
    /// the same ASCII runs. The keyword prefilter then searches it once
    /// instead of decoding every value. `None` (the default) when not available.
    fn raw_text(&self) -> Option<&str> {
        None
    }
}

impl<T: Event + ?Sized> Event for &T {
    fn lookup(&self, field: &FieldPath, visit: &mut dyn FnMut(Scalar<'_>)) -> bool {
        (**self).lookup(field, visit)
    }
    fn for_each_scalar(&self, visit: &mut dyn FnMut(Scalar<'_>)) {
        (**self).for_each_scalar(visit)
    }
    fn raw_text(&self) -> Option<&str> {
        (**self).raw_text()
    }
}

impl Event for Value {
    fn lookup(&self, field: &FieldPath, visit: &mut dyn FnMut(Scalar<'_>)) -> bool {
        match self {
            Value::Object(m) => resolve(m, field, 0, visit),
            _ => false,
        }
    }

    fn for_each_scalar(&self, visit: &mut dyn FnMut(Scalar<'_>)) {
        walk_all(self, visit);
    }
}

/// An Elasticsearch search hit (`{"_index": ..., "_id": ..., "_source": {...}}`): fields are
/// read from `_source`. A value without `_source` is used as the document itself.
#[derive(Debug, Clone, Copy)]
pub struct EsHit<'a>(pub &'a Value);

impl EsHit<'_> {
    fn source(&self) -> &Value {
        self.0.get("_source").unwrap_or(self.0)
    }
}

impl Event for EsHit<'_> {
    fn lookup(&self, field: &FieldPath, visit: &mut dyn FnMut(Scalar<'_>)) -> bool {
        self.source().lookup(field, visit)
    }
    fn for_each_scalar(&self, visit: &mut dyn FnMut(Scalar<'_>)) {
        self.source().for_each_scalar(visit)
    }
}

/// Resolve `field` from part `i` on inside an object (module docs).
fn resolve(
    obj: &Map<String, Value>,
    field: &FieldPath,
    i: usize,
    visit: &mut dyn FnMut(Scalar<'_>),
) -> bool {
    let n = field.len();
    let mut found = false;
    for j in (i + 1..=n).rev() {
        let Some(v) = obj.get(field.join(i, j)) else {
            continue;
        };
        if j == n {
            emit_leaf(v, visit);
            found = true;
            continue;
        }
        match v {
            Value::Object(m) => found |= resolve(m, field, j, visit),
            Value::Array(items) => {
                for it in items {
                    if let Value::Object(m) = it {
                        found |= resolve(m, field, j, visit);
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// A JSON number as an event number.
pub(crate) fn json_num(n: &serde_json::Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i)
    } else if let Some(u) = n.as_u64() {
        Num::UInt(u)
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn emit_leaf(v: &Value, visit: &mut dyn FnMut(Scalar<'_>)) {
    match v {
        Value::Null => visit(Scalar::Null),
        Value::Bool(b) => visit(Scalar::Bool(*b)),
        Value::Number(n) => visit(Scalar::Num(json_num(n))),
        Value::String(s) => visit(Scalar::Str(Cow::Borrowed(s))),
        Value::Array(items) => items.iter().for_each(|it| emit_leaf(it, visit)),
        Value::Object(m) => match m.get("#text") {
            Some(t) => emit_leaf(t, visit),
            None => visit(Scalar::Other),
        },
    }
}

fn walk_all(v: &Value, visit: &mut dyn FnMut(Scalar<'_>)) {
    match v {
        Value::Array(items) => items.iter().for_each(|it| walk_all(it, visit)),
        Value::Object(m) => m.values().for_each(|it| walk_all(it, visit)),
        other => emit_leaf(other, visit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(v: &Value, f: &str) -> Option<Vec<Scalar<'static>>> {
        let mut out = Vec::new();
        let found = v.lookup(&FieldPath::new(f), &mut |s| {
            out.push(match s {
                Scalar::Str(c) => Scalar::Str(Cow::Owned(c.into_owned())),
                Scalar::Null => Scalar::Null,
                Scalar::Bool(b) => Scalar::Bool(b),
                Scalar::Num(n) => Scalar::Num(n),
                Scalar::Other => Scalar::Other,
            })
        });
        found.then_some(out)
    }

    fn s(x: &str) -> Scalar<'static> {
        Scalar::Str(Cow::Owned(x.to_owned()))
    }

    #[test]
    fn flat_nested_and_mixed_paths() {
        let v = json!({"a.b": "flat", "x": {"y": {"z": "nested"}}, "p": {"q.r": "mixed"}});
        assert_eq!(get(&v, "a.b"), Some(vec![s("flat")]));
        assert_eq!(get(&v, "x.y.z"), Some(vec![s("nested")]));
        assert_eq!(get(&v, "p.q.r"), Some(vec![s("mixed")]));
        assert_eq!(get(&v, "x.y"), Some(vec![Scalar::Other]));
        assert_eq!(get(&v, "x.q"), None);
        assert_eq!(get(&v, "a"), None);
    }

    #[test]
    fn text_attributes_arrays_null() {
        let v = json!({
            "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4688},
            "arr": ["a", ["b"], {"#text": "c"}],
            "objs": [{"k": 1}, {"k": 2}, 3],
            "n": null,
            "e": []
        });
        assert_eq!(get(&v, "EventID"), Some(vec![Scalar::Num(Num::Int(4688))]));
        assert_eq!(get(&v, "arr"), Some(vec![s("a"), s("b"), s("c")]));
        assert_eq!(
            get(&v, "objs.k"),
            Some(vec![Scalar::Num(Num::Int(1)), Scalar::Num(Num::Int(2))])
        );
        assert_eq!(get(&v, "n"), Some(vec![Scalar::Null]));
        assert_eq!(get(&v, "e"), Some(vec![]));
    }

    #[test]
    fn es_hits_read_source() {
        let hit = json!({"_index": "i", "_source": {"process": {"name": "cmd.exe"}}});
        let mut seen = Vec::new();
        assert!(
            EsHit(&hit).lookup(&FieldPath::new("process.name"), &mut |v| {
                if let Scalar::Str(t) = v {
                    seen.push(t.into_owned())
                }
            })
        );
        assert_eq!(seen, ["cmd.exe"]);
        assert!(!EsHit(&hit).lookup(&FieldPath::new("_index"), &mut |_| {}));
    }
}
