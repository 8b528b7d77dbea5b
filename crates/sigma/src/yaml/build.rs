//! Building mappings the way PyYAML's constructor builds a Python `dict`: key equality follows
//! Python (`1 == 1.0 == True`, `0x10 == 16`), a repeated key keeps its first key node (and so
//! its place) and takes the later value, and YAML 1.1 merge keys (`<<`) are flattened first.
//! Unlike PyYAML, a repeated key is reported (as a non-fatal [`YamlError`]).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{Node, Value, YamlError};
use crate::span::Span;

/// Maps with more entries than this look duplicates up in a hash table instead of scanning.
const LINEAR_LIMIT: usize = 32;

/// How a key compares, in Python's terms.
#[derive(PartialEq, Eq, Hash)]
enum KeyRepr<'a> {
    Null,
    Int(i64),
    /// Bits of a float that is not integral (integral floats compare as ints; NaN never equals).
    Float(u64),
    Str(&'a str),
}

fn key_repr(v: &Value) -> Option<KeyRepr<'_>> {
    Some(match v {
        Value::Null => KeyRepr::Null,
        Value::Bool(b, _) => KeyRepr::Int(i64::from(*b)),
        Value::Int(i, _) => KeyRepr::Int(*i),
        Value::Float(f, _) => {
            if f.is_nan() {
                return None;
            }
            // An integral float equals the int of the same value (`1.0 == 1`).
            #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
            if f.fract() == 0.0 && f.abs() < 9.0e18 {
                KeyRepr::Int(*f as i64)
            } else {
                KeyRepr::Float(f.to_bits())
            }
        }
        Value::Str(s, _) => KeyRepr::Str(s),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

fn hash_of(k: &KeyRepr<'_>) -> u64 {
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// A text for a key in messages.
pub(crate) fn key_text(n: &Node) -> String {
    match &n.value {
        Value::Null => "null".to_owned(),
        Value::Seq(_) => "[...]".to_owned(),
        Value::Map(_) => "{...}".to_owned(),
        _ => n.scalar_text().unwrap_or_default().to_owned(),
    }
}

/// Entries of one mapping under construction.
#[derive(Default)]
pub(crate) struct MapBuilder {
    entries: Vec<(Node, Node)>,
    /// Key hash → entry indices; built once the map outgrows [`LINEAR_LIMIT`].
    index: Option<HashMap<u64, Vec<usize>>>,
}

impl MapBuilder {
    pub(crate) fn new() -> Self {
        MapBuilder::default()
    }

    fn find(&self, key: &KeyRepr<'_>) -> Option<usize> {
        match &self.index {
            None => self
                .entries
                .iter()
                .position(|(k, _)| key_repr(&k.value).as_ref() == Some(key)),
            Some(index) => index
                .get(&hash_of(key))?
                .iter()
                .copied()
                .find(|&i| key_repr(&self.entries[i].0.value).as_ref() == Some(key)),
        }
    }

    fn build_index(&mut self) {
        let mut index: HashMap<u64, Vec<usize>> = HashMap::with_capacity(self.entries.len() * 2);
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if let Some(r) = key_repr(&k.value) {
                index.entry(hash_of(&r)).or_default().push(i);
            }
        }
        self.index = Some(index);
    }

    /// Add an entry. Returns `true` if the key was already there (then, as in a Python dict, the
    /// first key stays and the value is replaced).
    pub(crate) fn insert(&mut self, key: Node, value: Node) -> bool {
        let found = match (&key.value, &self.index) {
            // The common case, without building key representations: a string key can only
            // equal a string key.
            (Value::Str(s, _), None) => self
                .entries
                .iter()
                .position(|(k, _)| matches!(&k.value, Value::Str(t, _) if t == s)),
            _ => key_repr(&key.value).and_then(|r| self.find(&r)),
        };
        if let Some(i) = found {
            // A Python dict keeps the first key object and takes the new value.
            self.entries[i].1 = value;
            return true;
        }
        let i = self.entries.len();
        if let (Some(index), Some(r)) = (&mut self.index, key_repr(&key.value)) {
            index.entry(hash_of(&r)).or_default().push(i);
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() > LINEAR_LIMIT {
            self.build_index();
        }
        false
    }

    /// Add an entry written in the source, reporting a repeated or unhashable key.
    pub(crate) fn insert_reporting(&mut self, key: Node, value: Node, errors: &mut Vec<YamlError>) {
        if matches!(key.value, Value::Seq(_) | Value::Map(_)) {
            errors.push(YamlError {
                message: "a list or a map cannot be a mapping key (found unhashable key)".into(),
                span: key.span,
                fatal: false,
            });
        }
        let (text, span) = (key_text(&key), key.span);
        if self.insert(key, value) {
            errors.push(duplicate_error(&text, span));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn finish(self) -> Vec<(Node, Node)> {
        self.entries
    }
}

/// Add an entry to a mapping whose entries are `entries[base..]` (the fast path builds all
/// mappings on one shared stack, so that each ends up in one exactly sized allocation).
/// Reports a repeated key like [`MapBuilder::insert_reporting`]. Linear: the caller bounds the
/// size of such mappings.
pub(crate) fn insert_on_stack(
    entries: &mut Vec<(Node, Node)>,
    base: usize,
    key: Node,
    value: Node,
    errors: &mut Vec<YamlError>,
) {
    let own = &entries[base..];
    let found = match &key.value {
        Value::Str(s, _) => own
            .iter()
            .position(|(k, _)| matches!(&k.value, Value::Str(t, _) if t == s)),
        v => key_repr(v).and_then(|r| {
            own.iter()
                .position(|(k, _)| key_repr(&k.value).as_ref() == Some(&r))
        }),
    };
    match found {
        Some(i) => {
            errors.push(duplicate_error(&key_text(&key), key.span));
            entries[base + i].1 = value;
        }
        None => entries.push((key, value)),
    }
}

fn duplicate_error(key: &str, span: Span) -> YamlError {
    YamlError {
        message: format!("duplicate key `{key}` in this mapping (the later value wins)"),
        span,
        fatal: false,
    }
}

/// Collects the sources of `<<` merge keys of one mapping, then lays the merged entries under the
/// mapping's own ones as PyYAML's `flatten_mapping` does.
#[derive(Default)]
pub(crate) struct Merges {
    /// Entries to merge, in PyYAML's order (later ones win).
    entries: Vec<(Node, Node)>,
    any: bool,
}

impl Merges {
    /// Take the value of one `<<` key: a map, or a list of maps (the first listed wins).
    pub(crate) fn add(&mut self, value: Node, errors: &mut Vec<YamlError>) {
        self.any = true;
        let span = value.span;
        match value.value {
            Value::Map(m) => self.entries.extend(m),
            Value::Seq(items) => {
                let mut maps = Vec::with_capacity(items.len());
                for item in items {
                    match item.value {
                        Value::Map(m) => maps.push(m),
                        _ => errors.push(YamlError {
                            message: format!(
                                "a merge key (`<<`) list must hold maps, found {}",
                                item.kind_name()
                            ),
                            span: item.span,
                            fatal: false,
                        }),
                    }
                }
                for m in maps.into_iter().rev() {
                    self.entries.extend(m);
                }
            }
            _ => errors.push(YamlError {
                message: "a merge key (`<<`) needs a map or a list of maps".into(),
                span,
                fatal: false,
            }),
        }
    }

    /// The final entries: merged ones first, then the mapping's own (which win).
    pub(crate) fn apply(self, own: MapBuilder) -> Vec<(Node, Node)> {
        if !self.any {
            return own.finish();
        }
        let mut out = MapBuilder::new();
        for (k, v) in self.entries.into_iter().chain(own.finish()) {
            out.insert(k, v);
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::ScalarStyle;

    fn n(v: Value) -> Node {
        Node::new(v, Span::default())
    }
    fn s(t: &str) -> Node {
        n(Value::Str(t.into(), ScalarStyle::Plain))
    }

    #[test]
    fn python_key_equality() {
        let mut m = MapBuilder::new();
        let mut errors = Vec::new();
        m.insert_reporting(n(Value::Int(1, "1".into())), s("a"), &mut errors);
        m.insert_reporting(n(Value::Float(1.0, "1.0".into())), s("b"), &mut errors);
        m.insert_reporting(n(Value::Bool(true, "true".into())), s("c"), &mut errors);
        m.insert_reporting(s("1"), s("d"), &mut errors);
        m.insert_reporting(
            n(Value::Float(f64::NAN, ".nan".into())),
            s("e"),
            &mut errors,
        );
        m.insert_reporting(
            n(Value::Float(f64::NAN, ".nan".into())),
            s("f"),
            &mut errors,
        );
        assert_eq!(errors.len(), 2);
        let e = m.finish();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].1, s("c"));
    }

    #[test]
    fn large_maps_use_the_index() {
        let mut m = MapBuilder::new();
        for i in 0..100 {
            assert!(!m.insert(s(&format!("k{i}")), s("v")));
        }
        assert!(m.insert(s("k7"), s("w")));
        assert!(m.insert(s("k77"), s("w")));
        assert_eq!(m.len(), 100);
        assert_eq!(m.finish()[77].1, s("w"));
    }
}
