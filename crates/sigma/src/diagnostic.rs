//! Diagnostics: what is wrong with a rule, where, and how bad.
//!
//! Every diagnostic carries the span of the rule text that caused it and renders as a compiler
//! style snippet (`path:line:column`, the source line, a caret under the culprit).

use std::fmt::{self, Write as _};

use crate::span::Span;

/// How bad a diagnostic is. Errors make a rule unusable; warnings are conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about a rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable, kebab-case name of the kind of problem (`unknown-modifier`, `yaml-syntax`, ...).
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    /// An optional hint on how to fix it.
    pub help: Option<String>,
    /// The `id` of the rule the diagnostic belongs to, when known.
    pub rule_id: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            help: None,
            rule_id: None,
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Render as a snippet of `source` (the text of the file at `path`).
    ///
    /// ```text
    /// error[unknown-modifier]: unknown modifier 'contians'
    ///   --> rules/x.yml:12:21
    ///    |
    /// 12 |         CommandLine|contians: 'x'
    ///    |                     ^^^^^^^^
    ///    = help: did you mean 'contains'?
    /// ```
    pub fn render(&self, path: &str, source: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}[{}]: {}", self.severity, self.code, self.message);
        let line_no = self.span.start.line.max(1) as usize;
        let gutter = line_no.to_string().len();
        let _ = writeln!(
            out,
            "{:gutter$}--> {}:{}:{}",
            "",
            path,
            line_no,
            self.span.start.column.max(1)
        );
        if let Some(line) = yaml_lines(source).nth(line_no - 1) {
            let col = self.span.start.column.max(1) as usize;
            // The caret runs to the end of the span when it stays on the line, else one char.
            let width = if self.span.end.line == self.span.start.line
                && self.span.end.column > self.span.start.column
            {
                (self.span.end.column - self.span.start.column) as usize
            } else {
                1
            };
            let line_chars = line.chars().count();
            let width = width.min(line_chars.saturating_sub(col - 1).max(1));
            // Keep tabs as tabs so that the caret lines up in a terminal.
            let pad: String = line
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(out, "{line_no} | {line}");
            let _ = writeln!(out, "{:gutter$} | {pad}{}", "", "^".repeat(width));
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{:gutter$} = help: {help}", "");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}[{}]: {}",
            self.span.start.line, self.span.start.column, self.severity, self.code, self.message
        )
    }
}

/// Suggest the closest candidate for a misspelt name (edit distance ≤ 2), for `help:` lines.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The lines of a YAML text as YAML counts them: a line ends at `\r\n`, `\n` or a lone `\r`
/// (Rust's `str::lines` does not split at a lone `\r`, so line numbers from the parser would
/// point past the end of the text).
pub fn yaml_lines(source: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(source);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(i) => {
                let next = if text[i..].starts_with("\r\n") {
                    i + 2
                } else {
                    i + 1
                };
                rest = if next < text.len() {
                    Some(&text[next..])
                } else {
                    None
                };
                Some(&text[..i])
            }
            None => {
                rest = None;
                if text.is_empty() { None } else { Some(text) }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Pos;

    #[test]
    fn yaml_lines_split_at_every_line_break() {
        let lines: Vec<_> = yaml_lines("a\r\nb\rc\nd").collect();
        assert_eq!(lines, ["a", "b", "c", "d"]);
        assert_eq!(yaml_lines("a\n").count(), 1);
        assert_eq!(yaml_lines("").count(), 0);
        assert_eq!(yaml_lines("\r\r").collect::<Vec<_>>(), ["", ""]);
    }

    #[test]
    fn renders_snippet_with_caret() {
        let src = "title: x\ndetection:\n    sel|contians: a\n";
        let span = Span::new(Pos::new(0, 3, 9), Pos::new(0, 3, 17));
        let d = Diagnostic::error("unknown-modifier", span, "unknown modifier 'contians'")
            .with_help("did you mean 'contains'?");
        let r = d.render("x.yml", src);
        assert_eq!(
            r,
            "error[unknown-modifier]: unknown modifier 'contians'\n --> x.yml:3:9\n  |\n3 |     sel|contians: a\n  |         ^^^^^^^^\n  = help: did you mean 'contains'?\n"
        );
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            did_you_mean("contians", ["contains", "endswith"]),
            Some("contains")
        );
        assert_eq!(did_you_mean("zzz", ["contains", "endswith"]), None);
    }
}
