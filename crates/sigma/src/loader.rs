//! From YAML text to rules: multi-document files, legacy rule collections
//! (`action: global | reset | repeat`), detection / correlation / filter rules, with every
//! problem reported as a [`Diagnostic`] and one bad rule never stopping the others.

use std::sync::Arc;

use crate::condition::{self, Aggregation, Expr, OfTarget};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::modifier::{self, ErrorAt, MODIFIER_NAMES, Modifier, RawValue};
use crate::rule::*;
use crate::span::{Pos, Span};
use crate::value::CmpOp;
use crate::yaml::{self, Node, ScalarStyle, Value as Y};

/// The rules of one file and what was found wrong with them.
#[derive(Debug, Clone, Default)]
pub struct LoadedFile {
    /// Rules without errors, in document order.
    pub rules: Vec<Rule>,
    pub diagnostics: Vec<Diagnostic>,
    /// How many rule documents the file has (good and broken; collection `action` documents and
    /// empty documents are not rules).
    pub documents: usize,
    /// How many of them have errors (and are not in `rules`).
    pub broken: usize,
}

impl LoadedFile {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Load every rule of a YAML text. `path` is only used to label the rules' origin.
pub fn load_str(text: &str, path: &str) -> LoadedFile {
    let mut out = LoadedFile::default();
    let parsed = yaml::parse(text);
    for e in &parsed.errors {
        let code = if e.fatal { "yaml-syntax" } else { "yaml" };
        let code = if e.message.contains("duplicate key") {
            "duplicate-key"
        } else {
            code
        };
        out.diagnostics
            .push(Diagnostic::error(code, e.span, e.message.clone()));
    }
    // A document with a non-fatal YAML error (duplicate key) is still read, but counts as broken.
    let yaml_error_lines: Vec<Span> = parsed
        .errors
        .iter()
        .filter(|e| !e.fatal)
        .map(|e| e.span)
        .collect();
    let stopped_early = parsed.errors.iter().any(|e| e.fatal);
    if parsed.docs.is_empty() && stopped_early {
        // Nothing readable: the file counts as one broken rule.
        out.documents = 1;
        out.broken = 1;
        return out;
    }
    let origin_path: Arc<str> = Arc::from(path);
    let mut global: Option<Node> = None;
    let mut previous: Option<Node> = None;
    for (index, doc) in parsed.docs.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        let doc = match collection_action(&doc) {
            Some(Ok((action, rest))) => {
                match action.as_str() {
                    "global" => global = Some(rest),
                    "reset" => global = None,
                    "repeat" => match &previous {
                        Some(prev) => {
                            let merged = merge(prev.clone(), rest);
                            previous = Some(merged.clone());
                            load_document(
                                &merged,
                                &origin_path,
                                index,
                                &yaml_error_lines,
                                &mut out,
                            );
                        }
                        None => {
                            out.documents += 1;
                            out.broken += 1;
                            out.diagnostics.push(Diagnostic::error(
                                "collection",
                                doc.span,
                                "'action: repeat' has no previous rule to repeat",
                            ));
                        }
                    },
                    _ => unreachable!("collection_action only returns known actions"),
                }
                continue;
            }
            Some(Err(d)) => {
                out.documents += 1;
                out.broken += 1;
                out.diagnostics.push(d);
                continue;
            }
            None => match &global {
                Some(g) => merge(g.clone(), doc),
                None => doc,
            },
        };
        load_document(&doc, &origin_path, index, &yaml_error_lines, &mut out);
        // Kept for a later `action: repeat` (moved, not cloned: cloning every document was a
        // tenth of loading a rule folder).
        previous = Some(doc);
    }
    if stopped_early {
        // The parser stopped at a fatal error after the documents above: what follows it
        // is one more rule that could not be read (not a silently shorter file).
        out.documents += 1;
        out.broken += 1;
    }
    out
}

/// If the document is a collection control document, its action and the remaining keys.
fn collection_action(doc: &Node) -> Option<Result<(String, Node), Diagnostic>> {
    let map = doc.as_map()?;
    let (k, v) = map.iter().find(|(k, _)| k.as_str() == Some("action"))?;
    let Some(action) = v.as_str() else {
        return Some(Err(Diagnostic::error(
            "collection",
            v.span,
            format!(
                "'action' must be global, reset or repeat, not {}",
                v.kind_name()
            ),
        )));
    };
    if !matches!(action, "global" | "reset" | "repeat") {
        return Some(Err(Diagnostic::error(
            "collection",
            v.span,
            format!("unknown collection action '{action}': expected global, reset or repeat"),
        )
        .with_help(format!(
            "the 'action' key at {} starts a rule collection",
            k.span
        ))));
    }
    let rest: Vec<(Node, Node)> = map
        .iter()
        .filter(|(k, _)| k.as_str() != Some("action"))
        .cloned()
        .collect();
    Some(Ok((action.to_owned(), Node::new(Y::Map(rest), doc.span))))
}

/// Deep merge for collections: maps merge key by key, anything else is replaced.
fn merge(base: Node, overlay: Node) -> Node {
    match (base.value, overlay.value) {
        (Y::Map(mut b), Y::Map(o)) => {
            for (ok, ov) in o {
                let key = ok.scalar_text().map(str::to_owned);
                match b
                    .iter_mut()
                    .find(|(bk, _)| key.is_some() && bk.scalar_text() == key.as_deref())
                {
                    Some(slot) => {
                        let old = std::mem::replace(&mut slot.1, Node::new(Y::Null, ov.span));
                        slot.1 = merge(old, ov);
                    }
                    None => b.push((ok, ov)),
                }
            }
            Node::new(Y::Map(b), overlay.span)
        }
        (_, o) => Node::new(o, overlay.span),
    }
}

/// Collects the diagnostics of one document.
struct Doc {
    diags: Vec<Diagnostic>,
}

impl Doc {
    fn error(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }
    fn warn(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(code, span, msg));
    }
    fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.is_error())
    }
}

fn load_document(
    doc: &Node,
    path: &Arc<str>,
    index: usize,
    yaml_errors: &[Span],
    out: &mut LoadedFile,
) {
    out.documents += 1;
    let mut d = Doc { diags: Vec::new() };
    let rule = build_rule(doc, path, index, &mut d);
    let id = rule
        .as_ref()
        .and_then(|r| r.id().map(str::to_owned))
        .or_else(|| {
            doc.get("id")
                .and_then(|n| n.scalar_text())
                .map(str::to_owned)
        });
    let has_yaml_error = yaml_errors
        .iter()
        .any(|s| s.start >= doc.span.start && s.start <= doc.span.end);
    let errored = d.has_errors();
    for mut diag in d.diags.drain(..) {
        diag.rule_id.clone_from(&id);
        out.diagnostics.push(diag);
    }
    match rule {
        Some(r) if !errored && !has_yaml_error => {
            // Nearly every file holds one rule: room for exactly one at first (a first push
            // makes room for four, ~2.5 KB more per file); a file of many grows as usual.
            if out.rules.capacity() == 0 {
                out.rules.reserve_exact(1);
            }
            out.rules.push(r);
        }
        _ => out.broken += 1,
    }
}

fn build_rule(doc: &Node, path: &Arc<str>, index: usize, d: &mut Doc) -> Option<Rule> {
    let Some(map) = doc.as_map() else {
        d.error(
            "not-a-map",
            doc.span,
            format!(
                "a rule must be a map of keys (title, logsource, detection, ...), not {}",
                doc.kind_name()
            ),
        );
        return None;
    };
    let meta = build_meta(doc, map, d);
    let kinds: Vec<&str> = ["detection", "correlation", "filter"]
        .into_iter()
        .filter(|k| doc.get(k).is_some())
        .collect();
    let body = match kinds.as_slice() {
        ["correlation"] => build_correlation(doc, d).map(RuleBody::Correlation),
        ["filter"] => build_filter(doc, d).map(RuleBody::Filter),
        ["detection"] => {
            let logsource = match doc.get("logsource") {
                Some(n) => build_logsource(n, d),
                None => {
                    d.error("missing-logsource", doc.span, "the rule has no 'logsource'");
                    LogSource::default()
                }
            };
            let det = doc
                .get("detection")
                .and_then(|n| build_detection(n, d, true));
            det.map(|detection| {
                RuleBody::Detection(DetectionRule {
                    logsource,
                    detection,
                })
            })
        }
        [] => {
            d.error(
                "missing-detection",
                doc.span,
                "the rule has no 'detection' (nor 'correlation' or 'filter')",
            );
            None
        }
        _ => {
            let span = doc.get(kinds[1]).map_or(doc.span, |n| n.span);
            d.error(
                "ambiguous-rule",
                span,
                format!(
                    "a rule has one of 'detection', 'correlation' or 'filter', not {}",
                    kinds.join(" and ")
                ),
            );
            None
        }
    }?;
    Some(Rule {
        origin: Origin {
            path: path.clone(),
            document: index,
        },
        span: doc.span,
        meta,
        body,
    })
}

/// The text of a scalar (strings, numbers, booleans as written).
fn scalar(n: &Node) -> Option<Spanned<String>> {
    n.scalar_text().map(|t| Spanned::new(t.to_owned(), n.span))
}

fn expect_string(n: &Node, key: &str, d: &mut Doc) -> Option<Spanned<String>> {
    match scalar(n) {
        Some(s) => Some(s),
        None => {
            d.warn(
                "invalid-type",
                n.span,
                format!("'{key}' should be a string, not {}", n.kind_name()),
            );
            None
        }
    }
}

/// A list of strings; a single string is accepted as a list of one (with a warning).
fn string_list(n: &Node, key: &str, d: &mut Doc) -> Vec<Spanned<String>> {
    match &n.value {
        Y::Seq(items) => items
            .iter()
            .filter_map(|i| {
                let s = scalar(i);
                if s.is_none() && !i.is_null() {
                    d.warn(
                        "invalid-type",
                        i.span,
                        format!(
                            "entries of '{key}' should be strings, not {}",
                            i.kind_name()
                        ),
                    );
                }
                s
            })
            .collect(),
        Y::Null => Vec::new(),
        _ => match scalar(n) {
            Some(s) => {
                d.warn("invalid-type", n.span, format!("'{key}' should be a list"));
                vec![s]
            }
            None => {
                d.warn(
                    "invalid-type",
                    n.span,
                    format!("'{key}' should be a list of strings, not {}", n.kind_name()),
                );
                Vec::new()
            }
        },
    }
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

fn is_valid_tag(t: &str) -> bool {
    let Some((ns, rest)) = t.split_once('.') else {
        return false;
    };
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    !ns.is_empty()
        && ns.chars().all(ok)
        && !rest.is_empty()
        && rest.chars().all(|c| ok(c) || c == '.')
}

fn build_meta(doc: &Node, map: &[(Node, Node)], d: &mut Doc) -> Meta {
    let mut m = Meta::default();
    match doc.get("title") {
        Some(t) => match scalar(t) {
            Some(s) => {
                if s.value.chars().count() > 256 {
                    d.warn(
                        "title-length",
                        t.span,
                        "the title is longer than 256 characters",
                    );
                }
                m.title = s;
            }
            None => d.error(
                "missing-title",
                t.span,
                format!("'title' must be a string, not {}", t.kind_name()),
            ),
        },
        None => d.error("missing-title", doc.span, "the rule has no 'title'"),
    }
    for (k, v) in map {
        let Some(key) = k.scalar_text() else {
            d.warn("invalid-key", k.span, "top-level keys should be strings");
            continue;
        };
        match key {
            "title" | "logsource" | "detection" | "correlation" | "filter" | "generate" => {}
            "id" => {
                if let Some(id) = expect_string(v, key, d) {
                    if !is_uuid(&id.value) {
                        d.warn(
                            "id-not-uuid",
                            v.span,
                            format!("the id '{}' is not a UUID", id.value),
                        );
                    }
                    m.id = Some(id);
                }
            }
            "name" => m.name = expect_string(v, key, d),
            "taxonomy" => m.taxonomy = expect_string(v, key, d).map(|s| s.value),
            "description" => m.description = expect_string(v, key, d).map(|s| s.value),
            "license" => m.license = expect_string(v, key, d).map(|s| s.value),
            "author" => {
                // Some rules list authors; join them as the specification's comma form.
                m.author = match &v.value {
                    Y::Seq(_) => Some(
                        string_list(v, key, d)
                            .into_iter()
                            .map(|s| s.value)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    _ => expect_string(v, key, d).map(|s| s.value),
                }
            }
            "date" | "modified" => {
                if let Some(s) = expect_string(v, key, d) {
                    if !is_iso_date(&s.value) {
                        d.warn(
                            "date-format",
                            v.span,
                            format!("'{key}' should be a date as YYYY-MM-DD, not '{}'", s.value),
                        );
                    }
                    if key == "date" {
                        m.date = Some(s.value);
                    } else {
                        m.modified = Some(s.value);
                    }
                }
            }
            "status" => {
                if let Some(s) = expect_string(v, key, d) {
                    m.status = Status::parse(&s.value);
                    if m.status.is_none() {
                        let names = Status::ALL.map(Status::as_str);
                        d.warn(
                            "unknown-status",
                            v.span,
                            format!(
                                "unknown status '{}': expected one of {}",
                                s.value,
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
            "level" => {
                if let Some(s) = expect_string(v, key, d) {
                    m.level = Level::parse(&s.value);
                    if m.level.is_none() {
                        let names = Level::ALL.map(Level::as_str);
                        d.warn(
                            "unknown-level",
                            v.span,
                            format!(
                                "unknown level '{}': expected one of {}",
                                s.value,
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
            "references" => {
                m.references = string_list(v, key, d)
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            }
            "fields" => {
                m.fields = string_list(v, key, d)
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            }
            "falsepositives" => {
                m.falsepositives = string_list(v, key, d)
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            }
            "scope" => {
                m.scope = string_list(v, key, d)
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            }
            "tags" => {
                m.tags = string_list(v, key, d);
                for t in &m.tags {
                    if !is_valid_tag(&t.value) {
                        d.warn(
                            "tag-format",
                            t.span,
                            format!("tag '{}' should be namespace.name in lowercase letters, digits, '_', '-'", t.value),
                        );
                    }
                }
            }
            "related" => m.related = build_related(v, d),
            _ => m.custom.push((key.to_owned(), v.clone())),
        }
    }
    if m.id.is_none() && doc.get("id").is_none() {
        d.warn("missing-id", doc.span, "the rule has no 'id'");
    }
    m
}

fn build_related(n: &Node, d: &mut Doc) -> Vec<Related> {
    let Some(items) = n.as_seq() else {
        d.warn(
            "invalid-type",
            n.span,
            "'related' should be a list of {id, type}",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for it in items {
        let id = it.get("id").and_then(scalar);
        let kind = it.get("type").and_then(scalar);
        match (id, kind) {
            (Some(id), Some(kind)) => {
                if !matches!(
                    kind.value.as_str(),
                    "derived" | "obsolete" | "merged" | "renamed" | "similar"
                ) {
                    d.warn(
                        "related-type",
                        kind.span,
                        format!("unknown related type '{}': expected derived, obsolete, merged, renamed or similar", kind.value),
                    );
                }
                out.push(Related {
                    id: id.value,
                    kind: kind.value,
                });
            }
            _ => d.warn(
                "invalid-type",
                it.span,
                "a 'related' entry needs 'id' and 'type'",
            ),
        }
    }
    out
}

fn build_logsource(n: &Node, d: &mut Doc) -> LogSource {
    let mut ls = LogSource {
        span: n.span,
        ..LogSource::default()
    };
    let Some(map) = n.as_map() else {
        d.error(
            "invalid-logsource",
            n.span,
            format!(
                "'logsource' must be a map (category, product, service), not {}",
                n.kind_name()
            ),
        );
        return ls;
    };
    for (k, v) in map {
        let Some(key) = k.scalar_text() else { continue };
        let Some(val) = scalar(v) else {
            if !v.is_null() {
                d.error(
                    "invalid-logsource",
                    v.span,
                    format!("logsource '{key}' must be a string, not {}", v.kind_name()),
                );
            }
            continue;
        };
        match key {
            "category" => ls.category = Some(val),
            "product" => ls.product = Some(val),
            "service" => ls.service = Some(val),
            "definition" => ls.definition = Some(val.value),
            _ => ls.custom.push((key.to_owned(), val.value)),
        }
    }
    ls
}

/// Read a `detection` (or filter) map. `require_condition`: detection sections must have one.
fn build_detection(n: &Node, d: &mut Doc, require_condition: bool) -> Option<Detection> {
    let Some(map) = n.as_map() else {
        d.error(
            "invalid-detection",
            n.span,
            format!(
                "'detection' must be a map of selections and a condition, not {}",
                n.kind_name()
            ),
        );
        return None;
    };
    let mut selections = Vec::new();
    let mut cond_node = None;
    let mut timeframe = None;
    for (k, v) in map {
        let Some(name) = k.scalar_text() else {
            d.error(
                "invalid-detection",
                k.span,
                "selection names must be strings",
            );
            continue;
        };
        match name {
            "condition" => cond_node = Some(v),
            "timeframe" => match scalar(v) {
                Some(t) => match Timespan::parse(&t.value) {
                    Ok(ts) => timeframe = Some(Spanned::new(ts, v.span)),
                    Err(e) => d.error("invalid-timespan", v.span, e),
                },
                None => d.error(
                    "invalid-timespan",
                    v.span,
                    "'timeframe' must be a time span such as 5m",
                ),
            },
            _ => {
                if let Some(node) = selection(v, d) {
                    selections.push(Selection {
                        name: name.to_owned(),
                        span: k.span,
                        node,
                    });
                }
            }
        }
    }
    let mut det = Detection {
        selections,
        conditions: Vec::new(),
        timeframe,
        span: n.span,
    };
    let all_names: Vec<String> = map
        .iter()
        .filter_map(|(k, _)| k.scalar_text())
        .filter(|k| !matches!(*k, "condition" | "timeframe"))
        .map(str::to_owned)
        .collect();
    match cond_node {
        None if require_condition => {
            d.error(
                "missing-condition",
                n.span,
                "the detection has no 'condition'",
            );
        }
        None => {}
        Some(c) => {
            let texts: Vec<&Node> = match &c.value {
                Y::Seq(items) => items.iter().collect(),
                _ => vec![c],
            };
            if texts.is_empty() {
                d.error("missing-condition", c.span, "the condition list is empty");
            }
            for t in texts {
                let Some(text) = t.as_str() else {
                    d.error(
                        "condition-syntax",
                        t.span,
                        format!("a condition must be a string, not {}", t.kind_name()),
                    );
                    continue;
                };
                let text_start = text_start(t, text);
                match condition::parse(text) {
                    Ok(parsed) => {
                        let entry = ConditionEntry {
                            text: text.to_owned(),
                            parsed,
                            span: t.span,
                            text_start,
                        };
                        check_condition(&entry, &all_names, &det, d);
                        det.conditions.push(entry);
                    }
                    Err(e) => {
                        let span = file_span(text, text_start, t.span, &e.span);
                        d.error("condition-syntax", span, e.message);
                    }
                }
            }
        }
    }
    // Selections nobody uses are usually a mistake (a typo in the condition).
    if !det.conditions.is_empty() {
        for s in &det.selections {
            let used = det.conditions.iter().any(|c| uses(&c.parsed, &s.name));
            if !used {
                d.warn(
                    "unused-selection",
                    s.span,
                    format!("selection '{}' is not used by the condition", s.name),
                );
            }
        }
    }
    Some(det)
}

/// Where the text of a condition scalar starts in the file, when it maps one-to-one.
fn text_start(n: &Node, text: &str) -> Option<Pos> {
    if n.span.start.line != n.span.end.line {
        return None;
    }
    let Y::Str(_, style) = &n.value else {
        return None;
    };
    match style {
        ScalarStyle::Plain => Some(n.span.start),
        ScalarStyle::SingleQuoted if !text.contains('\'') => Some(shift(n.span.start)),
        ScalarStyle::DoubleQuoted if !text.contains(['\\', '"']) => Some(shift(n.span.start)),
        _ => None,
    }
}

fn shift(p: Pos) -> Pos {
    Pos::new(p.offset + 1, p.line, p.column + 1)
}

fn uses(c: &condition::Condition, name: &str) -> bool {
    let mut found = false;
    let all = [name];
    c.expr.walk(&mut |e| match e {
        Expr::Ident { name: n, .. } if n == name => found = true,
        Expr::Of { target, .. } if !condition::of_targets(target, &all).is_empty() => found = true,
        _ => {}
    });
    if let Some(Aggregation::Near { items, .. }) = &c.aggregation {
        found |= items.iter().any(|i| i.ident == name);
    }
    found
}

fn check_condition(entry: &ConditionEntry, all_names: &[String], det: &Detection, d: &mut Doc) {
    let names: Vec<&str> = all_names.iter().map(String::as_str).collect();
    let mut problems = Vec::new();
    entry.parsed.expr.walk(&mut |e| match e {
        Expr::Ident { name, span } if !names.contains(&name.as_str()) => {
            problems.push((
                span.clone(),
                format!("unknown identifier '{name}'"),
                did_you_mean(name, names.iter().copied()).map(str::to_owned),
            ));
        }
        Expr::Of { target, span, .. } if condition::of_targets(target, &names).is_empty() => {
            let msg = match target {
                OfTarget::Them => {
                    "'them' refers to no selection (names starting with '_' are excluded)"
                        .to_string()
                }
                OfTarget::Pattern(p) => format!("pattern '{p}' matches no selection"),
            };
            problems.push((span.clone(), msg, None));
        }
        _ => {}
    });
    if let Some(agg) = &entry.parsed.aggregation {
        match agg {
            Aggregation::Near { items, .. } => {
                for it in items {
                    if !names.contains(&it.ident.as_str()) {
                        problems.push((
                            it.span.clone(),
                            format!("unknown identifier '{}'", it.ident),
                            None,
                        ));
                    }
                }
            }
            Aggregation::Function { .. } => {}
        }
    }
    // Names that exist as keys but failed to load are reported where they are written.
    let _ = det;
    for (span, msg, help) in problems {
        let mut diag = Diagnostic::error("unknown-identifier", entry.file_span(&span), msg);
        if let Some(h) = help {
            diag = diag.with_help(format!("did you mean '{h}'?"));
        }
        d.diags.push(diag);
    }
}

/// A selection: a map (AND of items), a list (OR of maps or keywords), or a single keyword.
fn selection(v: &Node, d: &mut Doc) -> Option<SelectionNode> {
    match &v.value {
        Y::Map(entries) => {
            if entries.is_empty() {
                d.error("empty-selection", v.span, "the selection is empty");
                return None;
            }
            let mut items = Vec::with_capacity(entries.len());
            for (k, val) in entries {
                if let Some(item) = detection_item(k, val, d) {
                    items.push(SelectionNode::Item(item));
                }
            }
            Some(if items.len() == 1 {
                items.remove(0)
            } else {
                SelectionNode::And(items)
            })
        }
        Y::Seq(list) => {
            if list.is_empty() {
                d.error("empty-selection", v.span, "the selection is an empty list");
                return None;
            }
            let mut alternatives = Vec::new();
            let mut keywords: Vec<&Node> = Vec::new();
            for el in list {
                match &el.value {
                    Y::Map(_) => {
                        if let Some(n) = selection(el, d) {
                            alternatives.push(n);
                        }
                    }
                    Y::Seq(_) => d.error(
                        "invalid-selection",
                        el.span,
                        "a list inside a selection list is not allowed",
                    ),
                    _ => keywords.push(el),
                }
            }
            if !keywords.is_empty() {
                let span = keywords[0].span.cover(keywords[keywords.len() - 1].span);
                if let Some(item) = keyword_item(&keywords, span, d) {
                    alternatives.insert(0, SelectionNode::Item(item));
                }
            }
            Some(if alternatives.len() == 1 {
                alternatives.remove(0)
            } else {
                SelectionNode::Or(alternatives)
            })
        }
        Y::Null => {
            d.error("empty-selection", v.span, "the selection is empty");
            None
        }
        _ => keyword_item(&[v], v.span, d).map(SelectionNode::Item),
    }
}

fn keyword_item(values: &[&Node], span: Span, d: &mut Doc) -> Option<DetectionItem> {
    let raws = raw_values(values, d)?;
    let values = finish_values(&[], &raws, values, span, d)?;
    Some(DetectionItem {
        field: None,
        modifiers: Vec::new(),
        flags: modifier::ItemFlags::default(),
        values,
        span,
    })
}

fn raw_values(nodes: &[&Node], d: &mut Doc) -> Option<Vec<RawValue>> {
    let mut out = Vec::with_capacity(nodes.len());
    let mut ok = true;
    for n in nodes {
        match RawValue::of_scalar(n) {
            Some(v) => out.push(v),
            None => {
                d.error(
                    "invalid-value",
                    n.span,
                    format!(
                        "a value must be a string, number, boolean or null, not {}",
                        n.kind_name()
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// Apply modifiers to raw values and attach spans; report errors at the right place.
fn finish_values(
    mods: &[(Modifier, Span)],
    raws: &[RawValue],
    nodes: &[&Node],
    item_span: Span,
    d: &mut Doc,
) -> Option<Vec<Spanned<crate::value::Value>>> {
    let chain: Vec<Modifier> = mods.iter().map(|(m, _)| *m).collect();
    match modifier::apply(&chain, raws) {
        Ok(values) => Some(
            values
                .into_iter()
                .zip(nodes)
                .map(|(v, n)| Spanned::new(v, n.span))
                .collect(),
        ),
        Err(e) => {
            let span = match e.at {
                ErrorAt::Value(i) => nodes.get(i).map_or(item_span, |n| n.span),
                ErrorAt::Modifier(i) => mods.get(i).map_or(item_span, |m| m.1),
                ErrorAt::Item => item_span,
            };
            let mut diag = Diagnostic::error("invalid-value", span, e.message);
            diag.help = e.help;
            d.diags.push(diag);
            None
        }
    }
}

fn detection_item(k: &Node, v: &Node, d: &mut Doc) -> Option<DetectionItem> {
    let Some(key) = k.scalar_text() else {
        d.error("invalid-selection", k.span, "field names must be strings");
        return None;
    };
    // Split `field|mod|mod` and locate each modifier for error messages.
    let key_start = text_start(k, key);
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mut offset = field.len() + 1;
    let mut mods = Vec::new();
    let mut bad = false;
    for name in parts {
        let span = file_span(key, key_start, k.span, &(offset..offset + name.len()));
        offset += name.len() + 1;
        match Modifier::from_name(name) {
            Some(m) => mods.push((m, span)),
            None => {
                let mut diag = Diagnostic::error(
                    "unknown-modifier",
                    span,
                    if name.is_empty() {
                        "empty modifier name (two '|' in a row or a trailing '|')".to_string()
                    } else {
                        format!("unknown modifier '{name}'")
                    },
                );
                if let Some(s) = did_you_mean(name, MODIFIER_NAMES.iter().map(|(n, _)| *n)) {
                    diag = diag.with_help(format!("did you mean '{s}'?"));
                }
                d.diags.push(diag);
                bad = true;
            }
        }
    }
    if bad {
        return None;
    }
    let chain: Vec<Modifier> = mods.iter().map(|(m, _)| *m).collect();
    let has_field = !field.is_empty();
    let flags = match modifier::validate_chain(&chain, has_field) {
        Ok(f) => f,
        Err(e) => {
            let span = match e.at {
                ErrorAt::Modifier(i) => mods.get(i).map_or(k.span, |m| m.1),
                _ => k.span,
            };
            d.error("invalid-modifier", span, e.message);
            return None;
        }
    };
    let nodes: Vec<&Node> = match &v.value {
        Y::Seq(items) => items.iter().collect(),
        Y::Map(_) => {
            d.error(
                "invalid-value",
                v.span,
                format!("the value of '{key}' must be a value or a list of values, not a map"),
            );
            return None;
        }
        _ => vec![v],
    };
    if nodes.is_empty() {
        d.error(
            "invalid-value",
            v.span,
            format!("'{key}' has an empty list of values, which can never match"),
        );
        return None;
    }
    if nodes.len() > 1
        && let Some(n) = nodes.iter().find(|n| n.is_null())
    {
        d.error(
            "null-in-list",
            n.span,
            "null cannot be part of a list of values; write it as its own selection",
        );
        return None;
    }
    if flags.link == modifier::Link::All && nodes.len() == 1 && !matches!(v.value, Y::Seq(_)) {
        d.warn(
            "all-single-value",
            mods.iter()
                .find(|(m, _)| *m == Modifier::All)
                .map_or(k.span, |m| m.1),
            "'all' on a single value has no effect",
        );
    }
    let raws = raw_values(&nodes, d)?;
    let values = finish_values(&mods, &raws, &nodes, k.span, d)?;
    Some(DetectionItem {
        field: has_field.then(|| field.to_owned()),
        modifiers: chain,
        flags,
        values,
        span: k.span,
    })
}

fn reference_list(n: &Node, key: &str, d: &mut Doc) -> Vec<Spanned<String>> {
    let list = match &n.value {
        Y::Seq(_) => string_list(n, key, d),
        _ => scalar(n).into_iter().collect(),
    };
    if list.is_empty() {
        d.error(
            "missing-rules",
            n.span,
            format!("'{key}' must name at least one rule"),
        );
    }
    list
}

fn build_correlation(doc: &Node, d: &mut Doc) -> Option<Correlation> {
    let c = doc.get("correlation")?;
    if c.as_map().is_none() {
        d.error(
            "invalid-correlation",
            c.span,
            format!("'correlation' must be a map, not {}", c.kind_name()),
        );
        return None;
    }
    let kind = match c.get("type") {
        None => {
            d.error(
                "invalid-correlation",
                c.span,
                "the correlation has no 'type'",
            );
            None
        }
        Some(t) => {
            let name = t.scalar_text().unwrap_or_default();
            let k = CorrelationType::parse(name);
            if k.is_none() {
                let names = CorrelationType::ALL.map(CorrelationType::as_str);
                let mut diag = Diagnostic::error(
                    "invalid-correlation",
                    t.span,
                    format!(
                        "unknown correlation type '{name}': expected one of {}",
                        names.join(", ")
                    ),
                );
                if let Some(s) = did_you_mean(name, names) {
                    diag = diag.with_help(format!("did you mean '{s}'?"));
                }
                d.diags.push(diag);
            }
            k
        }
    };
    let rules = match c.get("rules") {
        Some(r) => reference_list(r, "rules", d),
        None => {
            d.error("missing-rules", c.span, "the correlation has no 'rules'");
            Vec::new()
        }
    };
    let group_by = c
        .get("group-by")
        .map(|g| match &g.value {
            Y::Seq(_) => string_list(g, "group-by", d),
            _ => scalar(g).into_iter().collect(),
        })
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.value)
        .collect();
    let timespan = match c.get("timespan").or_else(|| c.get("timeframe")) {
        Some(t) => match scalar(t).map(|s| Timespan::parse(&s.value)) {
            Some(Ok(ts)) => Some(Spanned::new(ts, t.span)),
            Some(Err(e)) => {
                d.error("invalid-timespan", t.span, e);
                None
            }
            None => {
                d.error(
                    "invalid-timespan",
                    t.span,
                    "'timespan' must be a time span such as 5m",
                );
                None
            }
        },
        None => {
            d.error(
                "invalid-timespan",
                c.span,
                "the correlation has no 'timespan'",
            );
            None
        }
    };
    let mut condition = Vec::new();
    let mut field = Vec::new();
    match c.get("condition") {
        Some(cn) => match cn.as_map() {
            Some(entries) => {
                for (k, v) in entries {
                    let key = k.scalar_text().unwrap_or_default();
                    if key == "field" {
                        field = match &v.value {
                            Y::Seq(_) => string_list(v, "field", d)
                                .into_iter()
                                .map(|s| s.value)
                                .collect(),
                            _ => scalar(v).into_iter().map(|s| s.value).collect(),
                        };
                        continue;
                    }
                    let op = match key {
                        "gt" => CmpOp::Gt,
                        "gte" => CmpOp::Gte,
                        "lt" => CmpOp::Lt,
                        "lte" => CmpOp::Lte,
                        "eq" => CmpOp::Eq,
                        "neq" => CmpOp::Neq,
                        _ => {
                            d.error(
                                "invalid-correlation",
                                k.span,
                                format!("unknown condition operator '{key}': expected gt, gte, lt, lte, eq, neq or field"),
                            );
                            continue;
                        }
                    };
                    let num = match &v.value {
                        Y::Int(i, _) => Some(*i as f64),
                        Y::Float(f, _) => Some(*f),
                        Y::Str(s, _) => s.trim().parse::<f64>().ok(),
                        _ => None,
                    };
                    match num.filter(|n| n.is_finite()) {
                        Some(n) => condition.push((op, n)),
                        None => d.error(
                            "invalid-correlation",
                            v.span,
                            format!("'{key}' needs a number, not {}", v.kind_name()),
                        ),
                    }
                }
                if condition.is_empty() && !d.has_errors() {
                    d.error(
                        "invalid-correlation",
                        cn.span,
                        "the condition has no comparison (gt, gte, lt, lte, eq, neq)",
                    );
                }
            }
            None => d.error(
                "invalid-correlation",
                cn.span,
                format!(
                    "the correlation 'condition' must be a map such as {{gte: 10}}, not {}",
                    cn.kind_name()
                ),
            ),
        },
        None => {
            if matches!(
                kind,
                Some(CorrelationType::Temporal | CorrelationType::TemporalOrdered)
            ) {
                condition.push((CmpOp::Gte, rules.len() as f64));
            } else if kind.is_some() {
                d.error(
                    "invalid-correlation",
                    c.span,
                    "this correlation type needs a 'condition'",
                );
            }
        }
    }
    if let Some(k) = kind {
        if k.needs_field() && field.is_empty() && c.get("condition").is_some() {
            d.error(
                "invalid-correlation",
                c.get("condition").map_or(c.span, |n| n.span),
                format!("'{k}' needs 'field' in its condition"),
            );
        }
        if !k.needs_field() && !field.is_empty() {
            d.warn(
                "invalid-correlation",
                c.get("condition").map_or(c.span, |n| n.span),
                format!("'field' has no meaning for '{k}'"),
            );
        }
        if k == CorrelationType::TemporalOrdered && rules.len() < 2 {
            d.warn(
                "invalid-correlation",
                c.span,
                "temporal_ordered needs at least two rules to order",
            );
        }
    }
    let mut aliases = Vec::new();
    if let Some(a) = c.get("aliases") {
        match a.as_map() {
            Some(entries) => {
                for (name, m) in entries {
                    let Some(name) = name.scalar_text() else {
                        continue;
                    };
                    let Some(pairs) = m.as_map() else {
                        d.error(
                            "invalid-correlation",
                            m.span,
                            format!("alias '{name}' must map rule names to field names"),
                        );
                        continue;
                    };
                    let fields = pairs
                        .iter()
                        .filter_map(|(r, f)| {
                            Some((r.scalar_text()?.to_owned(), f.scalar_text()?.to_owned()))
                        })
                        .collect();
                    aliases.push(Alias {
                        name: name.to_owned(),
                        fields,
                    });
                }
            }
            None => d.error("invalid-correlation", a.span, "'aliases' must be a map"),
        }
    }
    for (k, _) in c.as_map().unwrap_or_default() {
        let key = k.scalar_text().unwrap_or_default();
        if !matches!(
            key,
            "type"
                | "rules"
                | "group-by"
                | "timespan"
                | "timeframe"
                | "condition"
                | "aliases"
                | "generate"
        ) {
            d.warn(
                "unknown-key",
                k.span,
                format!("unknown correlation key '{key}'"),
            );
        }
    }
    let generate = match doc.get("generate").or_else(|| c.get("generate")) {
        Some(g) => match g.value {
            Y::Bool(b, _) => b,
            _ => {
                d.error("invalid-type", g.span, "'generate' must be true or false");
                false
            }
        },
        None => false,
    };
    Some(Correlation {
        kind: kind?,
        rules,
        group_by,
        timespan: timespan?,
        condition,
        field,
        aliases,
        generate,
        span: c.span,
    })
}

fn build_filter(doc: &Node, d: &mut Doc) -> Option<Filter> {
    let f = doc.get("filter")?;
    if f.as_map().is_none() {
        d.error(
            "invalid-filter",
            f.span,
            format!("'filter' must be a map, not {}", f.kind_name()),
        );
        return None;
    }
    let logsource = match doc.get("logsource") {
        Some(n) => build_logsource(n, d),
        None => {
            d.error(
                "missing-logsource",
                doc.span,
                "the filter has no 'logsource'",
            );
            LogSource::default()
        }
    };
    let rules = match f.get("rules") {
        Some(r) => reference_list(r, "rules", d),
        None => {
            d.error("missing-rules", f.span, "the filter has no 'rules'");
            Vec::new()
        }
    };
    // The filter's selections and condition are read like a detection, without 'rules'.
    let rest: Vec<(Node, Node)> = f
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter(|(k, _)| k.as_str() != Some("rules"))
        .cloned()
        .collect();
    let det_node = Node::new(Y::Map(rest), f.span);
    let detection = build_detection(&det_node, d, true)?;
    Some(Filter {
        logsource,
        rules,
        detection,
    })
}
