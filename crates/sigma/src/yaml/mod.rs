//! A YAML reader that keeps source spans on every node and resolves scalars the way PyYAML
//! (YAML 1.1) does, because that is what the Sigma ecosystem (sigmac, pySigma) reads rules with.
//!
//! Sigma rules use a small, regular part of YAML. [`parse`] reads that part with a fast
//! hand-written block parser and falls back to a complete YAML parser (`saphyr-parser`) for
//! anything outside it (anchors, tags, flow mappings, complex keys, ...). Both paths produce the
//! same [`Node`] tree; a differential test over the SigmaHQ corpus keeps them in agreement.

use crate::span::Span;

/// How a scalar was written. Quoted scalars are always strings; plain scalars are resolved
/// (null, bool, int, float, string) by the YAML 1.1 rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
}

/// A YAML value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// From the first character of the node to just after its last character. For a collection
    /// in block style, the span starts at its first entry.
    pub span: Span,
}

/// The resolved content of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, `Null`, `NULL` or nothing at all.
    Null,
    /// YAML 1.1 booleans as PyYAML reads them: yes/no/true/false/on/off in lower, Title or UPPER case.
    Bool(bool, Box<str>),
    /// An integer in any YAML 1.1 notation (decimal, `0x`, `0o`/leading `0` octal, `0b`, `_`
    /// separators, sexagesimal). The second field is the text as written, because `0x17` and
    /// `23` mean the same number but not the same string.
    Int(i64, Box<str>),
    /// A float (`1.5`, `1e3`, `.inf`, `.nan`, ...), with the text as written.
    Float(f64, Box<str>),
    /// A string; the style says whether it was quoted.
    Str(String, ScalarStyle),
    Seq(Vec<Node>),
    /// Entries in document order. Keys are unique (a duplicate key is reported as an error and
    /// the later entry wins, as in PyYAML).
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    /// The string content if this node is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s, _) => Some(s),
            _ => None,
        }
    }

    /// The text of any scalar as it would print: strings as is, numbers and booleans as written,
    /// null as `None`.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s, _) => Some(s),
            Value::Int(_, t) | Value::Float(_, t) | Value::Bool(_, t) => Some(t),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Look up a key of a mapping by its string value.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the node's kind for error messages ("a string", "a list", ...).
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(..) => "a boolean",
            Value::Int(..) => "an integer",
            Value::Float(..) => "a number",
            Value::Str(..) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// A problem found while reading YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    /// `true` when parsing could not go on (a syntax error); `false` for problems after which the
    /// tree is still complete (a duplicate key).
    pub fatal: bool,
}

/// The result of reading a YAML stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documents {
    /// The root node of each document, in order. A document with no content is `Value::Null`.
    /// When a syntax error stops parsing, the documents before it are still here.
    pub docs: Vec<Node>,
    /// Errors in source order. At most one is fatal, and it is the last.
    pub errors: Vec<YamlError>,
}

mod interim;
pub use interim::parse;
