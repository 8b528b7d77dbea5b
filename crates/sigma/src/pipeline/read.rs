//! Helpers shared by the pipeline readers: typed access to YAML nodes that records a diagnostic
//! (with the node's span) for everything that is not what the format expects.

use super::error::PipelineError;
use super::model::{CondSpec, LsPattern};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::modifier::{self, MODIFIER_NAMES, Modifier, RawValue};
use crate::yaml::{Node, Value as Y};

/// Collects diagnostics while reading one file.
pub(crate) struct Reader<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    pub fn new(path: &'a str, text: &'a str) -> Self {
        Reader {
            path,
            text,
            diags: Vec::new(),
        }
    }

    pub fn error(&mut self, code: &'static str, n: &Node, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, n.span, msg));
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.is_error())
    }

    /// Finish: an error when anything was reported.
    pub fn finish<T>(self, value: T) -> Result<T, PipelineError> {
        if self.has_errors() {
            let mut diags = self.diags;
            diags.sort_by_key(|d| (!d.is_error(), d.span.start.offset));
            Err(PipelineError::new(self.path, self.text, diags))
        } else {
            Ok(value)
        }
    }

    /// Parse the text as one YAML document (reporting syntax errors).
    pub fn document(&mut self) -> Option<Node> {
        let docs = crate::yaml::parse(self.text);
        for e in &docs.errors {
            self.diags
                .push(Diagnostic::error("yaml-syntax", e.span, e.message.clone()));
        }
        if docs.errors.iter().any(|e| e.fatal) {
            return None;
        }
        let mut it = docs.docs.into_iter().filter(|d| !d.is_null());
        let first = it.next();
        if let Some(extra) = it.next() {
            self.error(
                "pipeline-format",
                &extra,
                "a pipeline file has one YAML document; this is a second one",
            );
        }
        match first {
            Some(n) => Some(n),
            None => {
                self.diags.push(Diagnostic::error(
                    "pipeline-format",
                    crate::span::Span::default(),
                    "the pipeline file is empty",
                ));
                None
            }
        }
    }

    /// The entries of a map, or an error naming `what`.
    pub fn map<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n [(Node, Node)]> {
        match &n.value {
            Y::Map(m) => Some(m),
            _ => {
                self.error(
                    "pipeline-type",
                    n,
                    format!("{what} must be a map, not {}", n.kind_name()),
                );
                None
            }
        }
    }

    /// A map, or nothing for null (an empty section).
    pub fn map_or_null<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n [(Node, Node)]> {
        if n.is_null() {
            return Some(&[]);
        }
        self.map(n, what)
    }

    pub fn seq<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &n.value {
            Y::Seq(s) => Some(s),
            _ => {
                self.error(
                    "pipeline-type",
                    n,
                    format!("{what} must be a list, not {}", n.kind_name()),
                );
                None
            }
        }
    }

    /// A key of a map as text.
    pub fn key<'n>(&mut self, k: &'n Node) -> Option<&'n str> {
        match k.scalar_text() {
            Some(s) => Some(s),
            None => {
                self.error(
                    "pipeline-type",
                    k,
                    format!("keys must be strings, not {}", k.kind_name()),
                );
                None
            }
        }
    }

    /// A scalar as text (strings, numbers and booleans as written).
    pub fn string(&mut self, n: &Node, what: &str) -> Option<String> {
        match &n.value {
            Y::Str(s, _) => Some(s.clone()),
            Y::Int(_, t) | Y::Float(_, t) => Some(t.to_string()),
            _ => {
                self.error(
                    "pipeline-type",
                    n,
                    format!("{what} must be a string, not {}", n.kind_name()),
                );
                None
            }
        }
    }

    /// A string or a list of strings.
    pub fn strings(&mut self, n: &Node, what: &str) -> Option<Vec<String>> {
        match &n.value {
            Y::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.string(i, what)?);
                }
                Some(out)
            }
            _ => self.string(n, what).map(|s| vec![s]),
        }
    }

    pub fn int(&mut self, n: &Node, what: &str) -> Option<i64> {
        match &n.value {
            Y::Int(i, _) => Some(*i),
            _ => {
                self.error(
                    "pipeline-type",
                    n,
                    format!("{what} must be an integer, not {}", n.kind_name()),
                );
                None
            }
        }
    }

    pub fn bool(&mut self, n: &Node, what: &str) -> Option<bool> {
        match &n.value {
            Y::Bool(b, _) => Some(*b),
            _ => {
                self.error(
                    "pipeline-type",
                    n,
                    format!("{what} must be true or false, not {}", n.kind_name()),
                );
                None
            }
        }
    }

    /// An unknown key: an error with a suggestion.
    pub fn unknown_key(&mut self, k: &Node, key: &str, what: &str, known: &[&str]) {
        let mut d = Diagnostic::error(
            "pipeline-unknown-key",
            k.span,
            format!("unknown key '{key}' in {what}"),
        );
        d = match did_you_mean(key, known.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean '{s}'?")),
            None => d.with_help(format!("known keys: {}", known.join(", "))),
        };
        self.diags.push(d);
    }

    /// A log source map (`category`, `product`, `service`), every other key an error.
    pub fn logsource(&mut self, n: &Node, what: &str) -> Option<LsPattern> {
        let m = self.map(n, what)?;
        let mut ls = LsPattern::default();
        for (k, v) in m {
            let Some(key) = self.key(k) else { continue };
            let slot = match key {
                "category" => &mut ls.category,
                "product" => &mut ls.product,
                "service" => &mut ls.service,
                _ => {
                    self.unknown_key(
                        k,
                        key,
                        &format!("{what} (a log source has category, product and service)"),
                        &["category", "product", "service"],
                    );
                    continue;
                }
            };
            if v.is_null() {
                continue;
            }
            *slot = self.string(v, &format!("log source {key}"));
        }
        Some(ls)
    }

    /// Conditions written as a detection map: `field|mods: value or list`.
    pub fn conditions(&mut self, n: &Node, what: &str) -> Vec<CondSpec> {
        let Some(m) = self.map(n, what) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(m.len());
        for (k, v) in m {
            if let Some(c) = self.condition(k, v) {
                out.push(c);
            }
        }
        out
    }

    /// One condition: the key may carry modifiers; values are checked with them now, so that a
    /// bad value is reported against the pipeline file and never while applying it.
    pub fn condition(&mut self, k: &Node, v: &Node) -> Option<CondSpec> {
        let key = self.key(k)?;
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().to_owned();
        if field.is_empty() {
            self.error("pipeline-condition", k, "a condition needs a field name");
            return None;
        }
        let mut modifiers = Vec::new();
        for name in parts {
            match Modifier::from_name(name) {
                Some(m) => modifiers.push(m),
                None => {
                    let mut d = Diagnostic::error(
                        "unknown-modifier",
                        k.span,
                        format!("unknown modifier '{name}'"),
                    );
                    if let Some(s) = did_you_mean(name, MODIFIER_NAMES.iter().map(|(n, _)| *n)) {
                        d = d.with_help(format!("did you mean '{s}'?"));
                    }
                    self.diags.push(d);
                    return None;
                }
            }
        }
        if let Err(e) = modifier::validate_chain(&modifiers, true) {
            self.error("invalid-modifier", k, e.message);
            return None;
        }
        let nodes: Vec<&Node> = match &v.value {
            Y::Seq(items) => items.iter().collect(),
            _ => vec![v],
        };
        if nodes.is_empty() {
            self.error(
                "pipeline-condition",
                v,
                "a condition needs at least one value",
            );
            return None;
        }
        let mut values = Vec::with_capacity(nodes.len());
        for n in nodes {
            values.push(self.raw_value(n)?);
        }
        if let Err(e) = modifier::apply(&modifiers, &values) {
            self.error("invalid-value", v, e.message);
            return None;
        }
        Some(CondSpec {
            field,
            modifiers,
            values,
            span: k.span.cover(v.span),
        })
    }

    pub fn raw_value(&mut self, n: &Node) -> Option<RawValue> {
        let v = RawValue::of_scalar(n);
        if v.is_none() {
            self.error(
                "invalid-value",
                n,
                format!(
                    "a condition value must be a string, number, boolean or null, not {}",
                    n.kind_name()
                ),
            );
        }
        v
    }
}
