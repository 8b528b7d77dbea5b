//! Errors of pipelines: reading a pipeline file (with spans, rendered as snippets) and applying
//! a pipeline to a rule.

use std::fmt;

use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// A pipeline file could not be used. Every diagnostic points into the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct PipelineError {
    /// The file path or built-in name.
    pub path: String,
    /// The text the spans point into (empty when the file could not be read).
    pub text: String,
    /// At least one, errors first.
    pub diagnostics: Vec<Diagnostic>,
}

impl PipelineError {
    pub fn new(path: &str, text: &str, diagnostics: Vec<Diagnostic>) -> Self {
        PipelineError {
            path: path.to_owned(),
            text: text.to_owned(),
            diagnostics,
        }
    }

    /// One error at a span of a file.
    pub fn at(path: &str, text: &str, span: Span, code: &'static str, msg: String) -> Self {
        Self::new(path, text, vec![Diagnostic::error(code, span, msg)])
    }

    /// A problem that is not about a place in a file (unknown built-in name, unreadable file).
    pub fn plain(path: &str, msg: impl Into<String>) -> Self {
        Self::new(
            path,
            "",
            vec![Diagnostic::error("pipeline", Span::default(), msg)],
        )
    }

    /// Every diagnostic as a snippet of the file.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            if self.text.is_empty() {
                out.push_str(&format!(
                    "{}[{}]: {}: {}\n",
                    d.severity, d.code, self.path, d.message
                ));
            } else {
                out.push_str(&d.render(&self.path, &self.text));
            }
        }
        out
    }
}

impl fmt::Display for PipelineError {
    /// `path:line:column: message` for each diagnostic, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if self.text.is_empty() {
                write!(f, "{}: {}", self.path, d.message)?;
            } else {
                write!(
                    f,
                    "{}:{}:{}: {}",
                    self.path, d.span.start.line, d.span.start.column, d.message
                )?;
            }
        }
        Ok(())
    }
}

/// A pipeline refused a rule (`rule_failure`, `detection_item_failure`, a transformation that
/// cannot be applied).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pipeline {pipeline}, item {item}: {message}")]
pub struct ApplyError {
    pub pipeline: String,
    pub item: String,
    pub message: String,
    /// The place in the rule file the problem is about, when there is one.
    pub span: Option<Span>,
}
