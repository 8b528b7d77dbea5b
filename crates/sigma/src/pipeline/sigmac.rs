//! Reader for legacy sigmac configurations (`-c helk.yml`).
//!
//! Supported, as sigmac read them: `title`, `order`, `backends`, `defaultindex` (string or
//! list), `logsourcemerging: and`, `fieldmappings` (a name, a list of names = OR, a map of
//! `field=value` / `category=...` / `product=...` / `service=...` conditions with an optional
//! `default`, or null = unchanged), `logsources` entries with `category` / `product` /
//! `service`, `index`, `conditions`, `rewrite`, and the THOR extensions `fieldmappings` (renames
//! under that source) and `sources` (`WinEventLog:<channel>` becomes a `Channel` condition).
//! Anything else is an error naming the key.

use super::error::PipelineError;
use super::model::{
    Action, CaseWhen, FieldCase, FieldEntry, FieldMap, FieldTarget, Format, Item, LogSources,
    LsEntry, LsKey, Pipeline, RuleCond, Source,
};
use super::read::Reader;
use crate::diagnostic::Diagnostic;
use crate::modifier::RawValue;
use crate::yaml::{Node, Value as Y};

const TOP_KEYS: &[&str] = &[
    "title",
    "order",
    "backends",
    "logsources",
    "defaultindex",
    "fieldmappings",
    "logsourcemerging",
];

const ENTRY_KEYS: &[&str] = &[
    "category",
    "product",
    "service",
    "index",
    "conditions",
    "rewrite",
    "fieldmappings",
    "sources",
];

/// Read a sigmac configuration.
pub fn read(path: &str, text: &str) -> Result<Pipeline, PipelineError> {
    let mut r = Reader::new(path, text);
    // PyYAML accepts duplicate keys (the later one wins); so do we, with a warning.
    let docs = crate::yaml::parse(text);
    let mut warnings = Vec::new();
    for e in &docs.errors {
        let d = if e.fatal {
            Diagnostic::error("yaml-syntax", e.span, e.message.clone())
        } else {
            Diagnostic::warning("yaml", e.span, e.message.clone())
        };
        if e.fatal {
            r.push(d);
        } else {
            warnings.push(d);
        }
    }
    let Some(doc) = docs.docs.into_iter().find(|d| !d.is_null()) else {
        if !r.has_errors() {
            r.push(Diagnostic::error(
                "pipeline-format",
                crate::span::Span::default(),
                "the configuration is empty",
            ));
        }
        return r.finish(Pipeline::new(path, Format::Sigmac));
    };
    let mut p = Pipeline::new(path, Format::Sigmac);
    p.source = Some(Source {
        path: path.to_owned(),
        text: text.into(),
    });
    let Some(top) = r.map(&doc, "a sigmac configuration") else {
        return r.finish(p);
    };
    let mut logsources = None;
    let mut defaultindex = None;
    let mut fieldmappings = None;
    for (k, v) in top {
        let Some(key) = r.key(k) else { continue };
        match key {
            "title" => p.title = r.string(v, "title"),
            "order" => {
                p.order = r.int(v, "order");
                p.order_span = k.span.cover(v.span);
            }
            "backends" => p.backends = r.strings(v, "backends").unwrap_or_default(),
            "logsources" => logsources = Some(v),
            "defaultindex" => defaultindex = Some(v),
            "fieldmappings" => fieldmappings = Some(v),
            "logsourcemerging" => {
                if let Some(m) = r.string(v, "logsourcemerging")
                    && !m.eq_ignore_ascii_case("and")
                {
                    r.error(
                        "pipeline-unsupported",
                        v,
                        format!("not supported yet: logsourcemerging '{m}' (only 'and')"),
                    );
                }
            }
            _ => r.unknown_key(k, key, "a sigmac configuration", TOP_KEYS),
        }
    }
    let mut ls = LogSources::default();
    if let Some(v) = defaultindex
        && !v.is_null()
    {
        ls.default_index = r.strings(v, "defaultindex").unwrap_or_default();
    }
    if let Some(v) = logsources
        && let Some(entries) = r.map_or_null(v, "logsources")
    {
        for (k, e) in entries {
            let Some(name) = r.key(k) else { continue };
            if e.is_null() {
                warnings.push(Diagnostic::warning(
                    "pipeline-empty",
                    k.span,
                    format!("log source '{name}' is empty and maps nothing"),
                ));
                continue;
            }
            if let Some(entry) = read_entry(&mut r, name, k, e, &mut warnings) {
                ls.entries.push(entry);
            }
        }
    }
    if logsources.is_some() || !ls.default_index.is_empty() {
        p.items.push(Item {
            id: "logsources".into(),
            span: logsources.or(defaultindex).map_or(doc.span, |n| n.span),
            when: RuleCond::default(),
            action: Action::LogSources(ls),
        });
    }
    if let Some(v) = fieldmappings {
        let map = read_fieldmappings(&mut r, v, &mut warnings);
        p.items.push(Item {
            id: "fieldmappings".into(),
            span: v.span,
            when: RuleCond::default(),
            action: Action::Fields(map),
        });
    }
    p.warnings = warnings;
    r.finish(p)
}

fn read_entry(
    r: &mut Reader<'_>,
    name: &str,
    k: &Node,
    e: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> Option<LsEntry> {
    let m = r.map(e, &format!("log source '{name}'"))?;
    let mut entry = LsEntry {
        name: name.to_owned(),
        span: k.span,
        ..LsEntry::default()
    };
    for (ek, ev) in m {
        let Some(key) = r.key(ek) else { continue };
        match key {
            "category" | "product" | "service" => {
                let v = r.string(ev, &format!("log source {key}"));
                match key {
                    "category" => entry.when.category = v,
                    "product" => entry.when.product = v,
                    _ => entry.when.service = v,
                }
            }
            "index" => entry.index = r.strings(ev, "index").unwrap_or_default(),
            "conditions" => entry.conditions = r.conditions(ev, "conditions"),
            "rewrite" => entry.rewrite = r.logsource(ev, "rewrite"),
            "fieldmappings" => entry.fields = Some(read_fieldmappings(r, ev, warnings)),
            "sources" => {
                let Some(list) = r.strings(ev, "sources") else {
                    continue;
                };
                let mut channels = Vec::new();
                let mut files = Vec::new();
                for s in list {
                    if let Some(ch) = s.strip_prefix("WinEventLog:") {
                        channels.push(RawValue::Str(ch.to_owned()));
                    } else if s.starts_with("File:") {
                        files.push(s);
                    } else {
                        r.error(
                            "pipeline-unsupported",
                            ev,
                            format!("not supported yet: source '{s}' (WinEventLog: or File:)"),
                        );
                    }
                }
                if !files.is_empty() {
                    warnings.push(Diagnostic::warning(
                        "pipeline-file-source",
                        ek.span,
                        format!(
                            "log source '{name}': {} name log files; sigwatch reads the files \
                             you give it, so they add no condition",
                            files.join(", ")
                        ),
                    ));
                }
                if !channels.is_empty() {
                    entry.conditions.push(super::model::CondSpec {
                        field: "Channel".into(),
                        modifiers: Vec::new(),
                        values: channels,
                        span: ev.span,
                    });
                }
            }
            "search" => r.error(
                "pipeline-unsupported",
                ek,
                "not supported yet: free-text 'search' in a log source",
            ),
            _ => r.unknown_key(ek, key, &format!("log source '{name}'"), ENTRY_KEYS),
        }
    }
    if entry.when.is_empty() {
        r.error(
            "pipeline-logsource",
            k,
            format!(
                "log source '{name}' has no category, product or service: it would never match"
            ),
        );
        return None;
    }
    Some(entry)
}

/// `fieldmappings`: every form sigmac accepted.
pub(crate) fn read_fieldmappings(
    r: &mut Reader<'_>,
    v: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> FieldMap {
    let mut map = FieldMap::default();
    let Some(entries) = r.map_or_null(v, "fieldmappings") else {
        return map;
    };
    for (k, t) in entries {
        let Some(name) = r.key(k) else { continue };
        let target = match &t.value {
            Y::Null => FieldTarget::To(vec![name.to_owned()]),
            Y::Str(..) | Y::Int(..) | Y::Float(..) => match r.string(t, "a field name") {
                Some(s) => FieldTarget::To(vec![unescape(&s, t, warnings)]),
                None => continue,
            },
            Y::Seq(_) => match targets(r, t, warnings) {
                Some(v) => FieldTarget::To(v),
                None => continue,
            },
            Y::Map(cases) => {
                let mut out = Vec::new();
                let mut default = None;
                for (ck, cv) in cases {
                    let Some(cond) = r.key(ck) else { continue };
                    let Some(to) = targets(r, cv, warnings) else {
                        continue;
                    };
                    if cond == "default" {
                        if default.is_some() {
                            r.error(
                                "pipeline-mapping",
                                ck,
                                "a conditional mapping has one 'default' (use a list for several names)",
                            );
                        }
                        default = Some(to);
                        continue;
                    }
                    let Some((field, value)) = cond.split_once('=') else {
                        r.error(
                            "pipeline-mapping",
                            ck,
                            format!("expected 'field=value' or 'default', found '{cond}'"),
                        );
                        continue;
                    };
                    let when = match LsKey::parse(field) {
                        Some(key) => CaseWhen::LogSource {
                            key,
                            value: value.to_owned(),
                        },
                        None => CaseWhen::Value {
                            field: field.to_owned(),
                            value: value.to_owned(),
                        },
                    };
                    out.push(FieldCase { when, to });
                }
                FieldTarget::Cases {
                    cases: out,
                    default,
                }
            }
            Y::Bool(..) => {
                r.error(
                    "pipeline-mapping",
                    t,
                    format!(
                        "the mapping of '{name}' must be a field name, a list or a map, not a boolean"
                    ),
                );
                continue;
            }
        };
        map.entries.push(FieldEntry {
            name: name.to_owned(),
            span: k.span,
            target,
        });
    }
    map
}

/// One name or a list of names.
fn targets(r: &mut Reader<'_>, n: &Node, warnings: &mut Vec<Diagnostic>) -> Option<Vec<String>> {
    let v = r.strings(n, "a mapping target")?;
    if v.is_empty() {
        r.error(
            "pipeline-mapping",
            n,
            "a mapping needs at least one field name",
        );
        return None;
    }
    Some(v.into_iter().map(|s| unescape(&s, n, warnings)).collect())
}

/// `winlog.event_data.Error\ Code`: a query-syntax escape in a field name. The field's real
/// name has a plain space; backends escape it for their language.
fn unescape(s: &str, n: &Node, warnings: &mut Vec<Diagnostic>) -> String {
    if !s.contains("\\ ") {
        return s.to_owned();
    }
    let plain = s.replace("\\ ", " ");
    warnings.push(Diagnostic::warning(
        "pipeline-escaped-space",
        n.span,
        format!("field name '{s}' read as '{plain}' (backends escape spaces themselves)"),
    ));
    plain
}
