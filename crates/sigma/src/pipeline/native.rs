//! sigwatch's own pipeline format: the model written out as YAML. The built-in pipelines are
//! written in it and `sigwatch pipeline show` prints any pipeline (sigmac, pySigma) in it, so
//! reading what `show` printed gives the same pipeline back.
//!
//! ```yaml
//! name: ecs-windows
//! title: Winlogbeat 7/8 (ECS)
//! unmapped: skip            # or `default`: unmapped log sources keep the default index
//! vars: {Admins: [root, admin]}
//! items:
//!   - id: logsources
//!     type: logsources      # route log sources to conditions, indices, scoped renames
//!     default-index: [winlogbeat-*]
//!     sources:
//!       - name: process_creation-sysmon
//!         logsource: {category: process_creation, product: windows}
//!         rewrite: {product: windows, service: sysmon}
//!         label: sysmon
//!         conditions: {EventID: 1}
//!         index: [winlogbeat-*]
//!         fields: {Image: NewProcessName}
//!   - type: fields          # rename fields
//!     map:
//!       Image: process.executable
//!       Hashes: [process.hash.md5, process.hash.sha256]   # OR
//!       FileVersion:
//!         cases:
//!           - {logsource: {category: image_load}, to: file.pe.file_version}
//!           - {value: {EventID: 7}, to: file.pe.file_version}
//!         default: process.pe.file_version
//!     unmapped-prefix: [winlog.event_data.]
//! ```
//!
//! Other item types: `field-prefix` (`prefix`), `field-prefix-map` (`map`), `field-case`
//! (`case: lower|upper`), `add-condition` (`conditions`, `negated`, `template`),
//! `change-logsource` (`logsource`), `index` (`index`), `placeholders` (`include`, `exclude`),
//! `drop-items` (`filter`), `fail` (`message`), `fail-item` (`message`, `filter`). Every item
//! may have `id` and `when` (`logsource`, `applied`, `tag`, `match: all|any`, `negate`);
//! field operations may have `fields` (a field filter: `include`, `include-regex`, `exclude`,
//! `exclude-regex`, `match`, `negate`).

use std::fmt::Write as _;
use std::sync::Arc;

use super::error::PipelineError;
use super::model::{
    Action, Case, CaseWhen, CondSpec, FieldCase, FieldEntry, FieldFilter, FieldMap, FieldTarget,
    FieldTest, Format, Item, ItemFilter, LogSources, LsEntry, LsKey, LsPattern, NamePattern,
    Pipeline, RuleCond, RuleTest, Source, Unmapped, ValueFilter, ValueTest,
};
use super::read::Reader;
use crate::modifier::RawValue;
use crate::yaml::{Node, Value as Y};

const TOP_KEYS: &[&str] = &["name", "title", "unmapped", "vars", "items", "backends"];
const ITEM_TYPES: &[&str] = &[
    "logsources",
    "fields",
    "field-prefix",
    "field-prefix-map",
    "field-case",
    "add-condition",
    "change-logsource",
    "index",
    "placeholders",
    "drop-items",
    "fail",
    "fail-item",
];

/// Read a pipeline in sigwatch's format.
pub fn read(path: &str, text: &str) -> Result<Pipeline, PipelineError> {
    let mut r = Reader::new(path, text);
    let mut p = Pipeline::new(path, Format::Native);
    p.source = Some(Source {
        path: path.to_owned(),
        text: text.into(),
    });
    let Some(doc) = r.document() else {
        return r.finish(p);
    };
    let Some(top) = r.map(&doc, "a pipeline") else {
        return r.finish(p);
    };
    for (k, v) in top {
        let Some(key) = r.key(k) else { continue };
        match key {
            "name" => {
                if let Some(n) = r.string(v, "name") {
                    p.name = n;
                }
            }
            "title" => p.title = r.string(v, "title"),
            "unmapped" => match r.string(v, "unmapped").as_deref() {
                Some("skip") => p.unmapped = Unmapped::Skip,
                Some("default") => p.unmapped = Unmapped::Default,
                Some(other) => r.error(
                    "pipeline-value",
                    v,
                    format!("unmapped must be 'skip' or 'default', not '{other}'"),
                ),
                None => {}
            },
            "backends" => p.backends = r.strings(v, "backends").unwrap_or_default(),
            "vars" => p.vars = read_vars(&mut r, v),
            "items" => {
                let Some(items) = r.seq(v, "items") else {
                    continue;
                };
                for (i, n) in items.iter().enumerate() {
                    if let Some(item) = read_item(&mut r, n, i) {
                        p.items.push(item);
                    }
                }
            }
            _ => r.unknown_key(k, key, "a pipeline", TOP_KEYS),
        }
    }
    r.finish(p)
}

/// `vars`: name → value or list of values (strings or numbers).
pub(crate) fn read_vars(r: &mut Reader<'_>, v: &Node) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let Some(m) = r.map_or_null(v, "vars") else {
        return out;
    };
    for (k, val) in m {
        let Some(name) = r.key(k) else { continue };
        if let Some(vals) = r.strings(val, &format!("the values of '{name}'")) {
            out.push((name.to_owned(), vals));
        }
    }
    out
}

fn read_item(r: &mut Reader<'_>, n: &Node, index: usize) -> Option<Item> {
    let m = r.map(n, "an item")?;
    let Some(ty_node) = n.get("type") else {
        r.error(
            "pipeline-item",
            n,
            format!("an item needs a 'type' ({})", ITEM_TYPES.join(", ")),
        );
        return None;
    };
    let ty = r.string(ty_node, "type")?;
    let mut id = None;
    let mut when = RuleCond::default();
    let mut fields = FieldFilter::default();
    let mut seen: Vec<(&str, &Node)> = Vec::new();
    for (k, v) in m {
        let Some(key) = r.key(k) else { continue };
        match key {
            "type" => {}
            "id" => id = r.string(v, "id"),
            "when" => when = read_when(r, v),
            "fields" => fields = read_field_filter(r, v),
            _ => seen.push((key, v)),
        }
    }
    let get = |name: &str| seen.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let allowed: &[&str] = match ty.as_str() {
        "logsources" => &["sources", "default-index"],
        "fields" => &["map", "unmapped-prefix"],
        "field-prefix" => &["prefix"],
        "field-prefix-map" => &["map"],
        "field-case" => &["case"],
        "add-condition" => &["conditions", "negated", "template"],
        "change-logsource" => &["logsource"],
        "index" => &["index"],
        "placeholders" => &["include", "exclude"],
        "drop-items" => &["filter"],
        "fail" => &["message"],
        "fail-item" => &["message", "filter"],
        other => {
            let mut d = crate::diagnostic::Diagnostic::error(
                "pipeline-item",
                ty_node.span,
                format!("unknown item type '{other}'"),
            );
            d = match crate::diagnostic::did_you_mean(other, ITEM_TYPES.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean '{s}'?")),
                None => d.with_help(format!("item types: {}", ITEM_TYPES.join(", "))),
            };
            r.push(d);
            return None;
        }
    };
    for (k, v) in m {
        let Some(key) = k.scalar_text() else { continue };
        if !["type", "id", "when", "fields"].contains(&key) && !allowed.contains(&key) {
            let mut known: Vec<&str> = vec!["type", "id", "when", "fields"];
            known.extend_from_slice(allowed);
            r.unknown_key(k, key, &format!("a '{ty}' item"), &known);
            let _ = v;
        }
    }
    let need = |r: &mut Reader<'_>, key: &str| -> Option<&Node> {
        let v = get(key);
        if v.is_none() {
            r.error("pipeline-item", n, format!("a '{ty}' item needs '{key}'"));
        }
        v
    };
    let action = match ty.as_str() {
        "logsources" => {
            let mut ls = LogSources::default();
            if let Some(v) = get("default-index") {
                ls.default_index = r.strings(v, "default-index").unwrap_or_default();
            }
            if let Some(v) = get("sources")
                && !v.is_null()
                && let Some(list) = r.seq(v, "sources")
            {
                for e in list {
                    if let Some(entry) = read_entry(r, e) {
                        ls.entries.push(entry);
                    }
                }
            }
            Action::LogSources(ls)
        }
        "fields" => {
            let mut map = match need(r, "map") {
                Some(v) => read_field_map(r, v),
                None => FieldMap::default(),
            };
            if let Some(v) = get("unmapped-prefix") {
                map.unmapped_prefixes = r.strings(v, "unmapped-prefix").unwrap_or_default();
            }
            map.filter = fields;
            Action::Fields(map)
        }
        "field-prefix" => Action::FieldPrefix {
            prefix: need(r, "prefix").and_then(|v| r.string(v, "prefix"))?,
            filter: fields,
        },
        "field-prefix-map" => {
            let v = need(r, "map")?;
            let m = r.map(v, "map")?;
            let mut map = Vec::new();
            for (k, t) in m {
                if let (Some(from), Some(to)) = (r.key(k), r.strings(t, "a prefix")) {
                    map.push((from.to_owned(), to));
                }
            }
            Action::FieldPrefixMap {
                map,
                filter: fields,
            }
        }
        "field-case" => {
            let v = need(r, "case")?;
            let case = match r.string(v, "case")?.as_str() {
                "lower" => Case::Lower,
                "upper" => Case::Upper,
                other => {
                    r.error(
                        "pipeline-value",
                        v,
                        format!("case must be 'lower' or 'upper', not '{other}'"),
                    );
                    return None;
                }
            };
            Action::FieldCase {
                case,
                filter: fields,
            }
        }
        "add-condition" => Action::AddCondition {
            conditions: need(r, "conditions")
                .map(|v| r.conditions(v, "conditions"))
                .unwrap_or_default(),
            negated: get("negated")
                .and_then(|v| r.bool(v, "negated"))
                .unwrap_or(false),
            template: get("template")
                .and_then(|v| r.bool(v, "template"))
                .unwrap_or(false),
        },
        "change-logsource" => {
            Action::ChangeLogSource(need(r, "logsource").and_then(|v| r.logsource(v, "logsource"))?)
        }
        "index" => Action::SetIndex(need(r, "index").and_then(|v| r.strings(v, "index"))?),
        "placeholders" => Action::Placeholders {
            include: get("include").and_then(|v| r.strings(v, "include")),
            exclude: get("exclude").and_then(|v| r.strings(v, "exclude")),
        },
        "drop-items" => Action::DropItems {
            filter: read_item_filter(r, get("filter"), fields),
        },
        "fail" => Action::FailRule {
            message: need(r, "message").and_then(|v| r.string(v, "message"))?,
        },
        _ => Action::FailItem {
            message: need(r, "message").and_then(|v| r.string(v, "message"))?,
            filter: read_item_filter(r, get("filter"), fields),
        },
    };
    Some(Item {
        id: id.unwrap_or_else(|| format!("{}#{}", action.kind(), index + 1)),
        span: n.span,
        when,
        action,
    })
}

fn read_entry(r: &mut Reader<'_>, n: &Node) -> Option<LsEntry> {
    let m = r.map(n, "a log source entry")?;
    let mut e = LsEntry {
        span: n.span,
        ..LsEntry::default()
    };
    let mut has_ls = false;
    for (k, v) in m {
        let Some(key) = r.key(k) else { continue };
        match key {
            "name" => e.name = r.string(v, "name").unwrap_or_default(),
            "logsource" => {
                e.when = r.logsource(v, "logsource").unwrap_or_default();
                has_ls = true;
            }
            "rewrite" => e.rewrite = r.logsource(v, "rewrite"),
            "label" => e.label = r.string(v, "label"),
            "conditions" => e.conditions = r.conditions(v, "conditions"),
            "index" => e.index = r.strings(v, "index").unwrap_or_default(),
            "fields" => e.fields = Some(read_field_map(r, v)),
            _ => r.unknown_key(
                k,
                key,
                "a log source entry",
                &[
                    "name",
                    "logsource",
                    "rewrite",
                    "label",
                    "conditions",
                    "index",
                    "fields",
                ],
            ),
        }
    }
    if !has_ls || e.when.is_empty() {
        r.error(
            "pipeline-logsource",
            n,
            "a log source entry needs a 'logsource' with category, product or service",
        );
        return None;
    }
    if e.name.is_empty() {
        e.name = e.when.to_string();
    }
    Some(e)
}

fn read_field_map(r: &mut Reader<'_>, v: &Node) -> FieldMap {
    let mut map = FieldMap::default();
    let Some(m) = r.map(v, "a field map") else {
        return map;
    };
    for (k, t) in m {
        let Some(name) = r.key(k) else { continue };
        let target = match &t.value {
            Y::Map(_) => {
                let mut cases = Vec::new();
                let mut default = None;
                for (ck, cv) in t.as_map().unwrap_or_default() {
                    match r.key(ck) {
                        Some("cases") => {
                            for c in r.seq(cv, "cases").unwrap_or_default() {
                                if let Some(c) = read_case(r, c) {
                                    cases.push(c);
                                }
                            }
                        }
                        Some("default") => default = r.strings(cv, "default"),
                        Some(other) => {
                            r.unknown_key(ck, other, "a conditional mapping", &["cases", "default"])
                        }
                        None => {}
                    }
                }
                FieldTarget::Cases { cases, default }
            }
            _ => match r.strings(t, "a field name") {
                Some(v) if !v.is_empty() => FieldTarget::To(v),
                Some(_) => {
                    r.error(
                        "pipeline-mapping",
                        t,
                        "a mapping needs at least one field name",
                    );
                    continue;
                }
                None => continue,
            },
        };
        map.entries.push(FieldEntry {
            name: name.to_owned(),
            span: k.span,
            target,
        });
    }
    map
}

fn read_case(r: &mut Reader<'_>, n: &Node) -> Option<FieldCase> {
    let m = r.map(n, "a case")?;
    let mut when = None;
    let mut to = None;
    for (k, v) in m {
        match r.key(k) {
            Some("logsource") => {
                let ls = r.logsource(v, "logsource")?;
                let (key, value) = [
                    (LsKey::Category, ls.category),
                    (LsKey::Product, ls.product),
                    (LsKey::Service, ls.service),
                ]
                .into_iter()
                .find_map(|(k, v)| v.map(|v| (k, v)))?;
                when = Some(CaseWhen::LogSource { key, value });
            }
            Some("value") => {
                let vm = r.map(v, "value")?;
                let (fk, fv) = vm.first()?;
                when = Some(CaseWhen::Value {
                    field: r.key(fk)?.to_owned(),
                    value: r.string(fv, "value")?,
                });
            }
            Some("to") => to = r.strings(v, "to"),
            Some(other) => r.unknown_key(k, other, "a case", &["logsource", "value", "to"]),
            None => {}
        }
    }
    match (when, to) {
        (Some(when), Some(to)) => Some(FieldCase { when, to }),
        _ => {
            r.error(
                "pipeline-mapping",
                n,
                "a case needs 'to' and one of 'logsource' or 'value'",
            );
            None
        }
    }
}

fn read_when(r: &mut Reader<'_>, v: &Node) -> RuleCond {
    let mut c = RuleCond::default();
    let Some(m) = r.map(v, "when") else {
        return c;
    };
    for (k, v) in m {
        match r.key(k) {
            Some("logsource") => {
                if let Some(ls) = r.logsource(v, "logsource") {
                    c.tests.push(RuleTest::LogSource(ls));
                }
            }
            Some("applied") => {
                for id in r.strings(v, "applied").unwrap_or_default() {
                    c.tests.push(RuleTest::Applied(id));
                }
            }
            Some("tag") => {
                for t in r.strings(v, "tag").unwrap_or_default() {
                    c.tests.push(RuleTest::Tag(t));
                }
            }
            Some("match") => c.any = read_any(r, v),
            Some("negate") => c.negate = r.bool(v, "negate").unwrap_or(false),
            Some(other) => r.unknown_key(
                k,
                other,
                "when",
                &["logsource", "applied", "tag", "match", "negate"],
            ),
            None => {}
        }
    }
    c
}

fn read_any(r: &mut Reader<'_>, v: &Node) -> bool {
    match r.string(v, "match").as_deref() {
        Some("any") => true,
        Some("all") | None => false,
        Some(other) => {
            r.error(
                "pipeline-value",
                v,
                format!("match must be 'all' or 'any', not '{other}'"),
            );
            false
        }
    }
}

fn regexes(r: &mut Reader<'_>, v: &Node, what: &str) -> Vec<NamePattern> {
    let mut out = Vec::new();
    for s in r.strings(v, what).unwrap_or_default() {
        match regex::Regex::new(&s) {
            Ok(re) => out.push(NamePattern::Regex(re)),
            Err(e) => r.error(
                "pipeline-regex",
                v,
                format!("invalid regular expression '{s}': {e}"),
            ),
        }
    }
    out
}

pub(crate) fn read_field_filter(r: &mut Reader<'_>, v: &Node) -> FieldFilter {
    let mut f = FieldFilter::default();
    let Some(m) = r.map(v, "fields") else {
        return f;
    };
    for (k, v) in m {
        match r.key(k) {
            Some("include") => Arc::make_mut(&mut f.tests).push(FieldTest::Include(
                r.strings(v, "include")
                    .unwrap_or_default()
                    .into_iter()
                    .map(NamePattern::Plain)
                    .collect(),
            )),
            Some("exclude") => Arc::make_mut(&mut f.tests).push(FieldTest::Exclude(
                r.strings(v, "exclude")
                    .unwrap_or_default()
                    .into_iter()
                    .map(NamePattern::Plain)
                    .collect(),
            )),
            Some("include-regex") => {
                let p = regexes(r, v, "include-regex");
                Arc::make_mut(&mut f.tests).push(FieldTest::Include(p));
            }
            Some("exclude-regex") => {
                let p = regexes(r, v, "exclude-regex");
                Arc::make_mut(&mut f.tests).push(FieldTest::Exclude(p));
            }
            Some("match") => f.any = read_any(r, v),
            Some("negate") => f.negate = r.bool(v, "negate").unwrap_or(false),
            Some(other) => r.unknown_key(
                k,
                other,
                "fields",
                &[
                    "include",
                    "include-regex",
                    "exclude",
                    "exclude-regex",
                    "match",
                    "negate",
                ],
            ),
            None => {}
        }
    }
    f
}

fn read_item_filter(r: &mut Reader<'_>, v: Option<&Node>, fields: FieldFilter) -> ItemFilter {
    let mut f = ItemFilter {
        fields,
        values: ValueFilter::default(),
    };
    let Some(v) = v else { return f };
    let Some(m) = r.map(v, "filter") else {
        return f;
    };
    for (k, v) in m {
        match r.key(k) {
            Some("values") => {
                for t in r.seq(v, "values").unwrap_or_default() {
                    let Some(tm) = r.map(t, "a value test") else {
                        continue;
                    };
                    let all = t.get("all").and_then(|a| r.bool(a, "all")).unwrap_or(false);
                    let negate = t
                        .get("negate")
                        .and_then(|a| r.bool(a, "negate"))
                        .unwrap_or(false);
                    if let Some(p) = t.get("match-string") {
                        let Some(s) = r.string(p, "match-string") else {
                            continue;
                        };
                        match regex::Regex::new(&s) {
                            Ok(regex) => {
                                f.values
                                    .tests
                                    .push(ValueTest::MatchString { regex, negate, all })
                            }
                            Err(e) => r.error(
                                "pipeline-regex",
                                p,
                                format!("invalid regular expression '{s}': {e}"),
                            ),
                        }
                    } else if t.get("is-null").is_some() {
                        f.values.tests.push(ValueTest::IsNull { all });
                    } else {
                        let _ = tm;
                        r.error(
                            "pipeline-item",
                            t,
                            "a value test has 'match-string' or 'is-null'",
                        );
                    }
                }
            }
            Some("match") => f.values.any = read_any(r, v),
            Some("negate") => f.values.negate = r.bool(v, "negate").unwrap_or(false),
            Some(other) => r.unknown_key(k, other, "filter", &["values", "match", "negate"]),
            None => {}
        }
    }
    f
}

// ---------------------------------------------------------------------------------------------
// Writer

/// The pipeline in sigwatch's format (the normalised form `sigwatch pipeline show` prints).
pub fn write(p: &Pipeline) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# {} pipeline, normalised by sigwatch",
        p.format.as_str()
    );
    let _ = writeln!(o, "name: {}", q(&p.name));
    if let Some(t) = &p.title {
        let _ = writeln!(o, "title: {}", q(t));
    }
    let _ = writeln!(
        o,
        "unmapped: {}",
        match p.unmapped {
            Unmapped::Skip => "skip",
            Unmapped::Default => "default",
        }
    );
    if let Some(order) = p.order {
        let _ = writeln!(o, "# sigmac order: {order}");
    }
    if let Some(prio) = p.priority {
        let _ = writeln!(o, "# pySigma priority: {prio}");
    }
    if !p.backends.is_empty() {
        let _ = writeln!(o, "backends: {}", list(&p.backends));
    }
    if !p.vars.is_empty() {
        let _ = writeln!(o, "vars:");
        for (k, v) in &p.vars {
            let _ = writeln!(o, "  {}: {}", q(k), list(v));
        }
    }
    let _ = writeln!(o, "items:");
    for item in &p.items {
        write_item(&mut o, item);
    }
    o
}

fn write_item(o: &mut String, item: &Item) {
    let _ = writeln!(o, "  - id: {}", q(&item.id));
    let _ = writeln!(o, "    type: {}", item.action.kind());
    if !item.when.is_empty() {
        let _ = writeln!(o, "    when:");
        for t in &item.when.tests {
            match t {
                RuleTest::LogSource(ls) => {
                    let _ = writeln!(o, "      logsource: {}", ls_flow(ls));
                }
                RuleTest::Applied(id) => {
                    let _ = writeln!(o, "      applied: {}", q(id));
                }
                RuleTest::Tag(t) => {
                    let _ = writeln!(o, "      tag: {}", q(t));
                }
            }
        }
        if item.when.any {
            let _ = writeln!(o, "      match: any");
        }
        if item.when.negate {
            let _ = writeln!(o, "      negate: true");
        }
    }
    match &item.action {
        Action::LogSources(ls) => {
            if !ls.default_index.is_empty() {
                let _ = writeln!(o, "    default-index: {}", list(&ls.default_index));
            }
            if ls.entries.is_empty() {
                let _ = writeln!(o, "    sources: []");
            }
            if !ls.entries.is_empty() {
                let _ = writeln!(o, "    sources:");
            }
            for e in &ls.entries {
                let _ = writeln!(o, "      - name: {}", q(&e.name));
                let _ = writeln!(o, "        logsource: {}", ls_flow(&e.when));
                if let Some(rw) = &e.rewrite {
                    let _ = writeln!(o, "        rewrite: {}", ls_flow(rw));
                }
                if let Some(l) = &e.label {
                    let _ = writeln!(o, "        label: {}", q(l));
                }
                if !e.conditions.is_empty() {
                    let _ = writeln!(o, "        conditions:");
                    write_conditions(o, &e.conditions, 10);
                }
                if !e.index.is_empty() {
                    let _ = writeln!(o, "        index: {}", list(&e.index));
                }
                if let Some(f) = &e.fields {
                    let _ = writeln!(o, "        fields:");
                    write_map(o, f, 10);
                }
            }
        }
        Action::Fields(map) => {
            write_filter(o, &map.filter);
            let _ = writeln!(o, "    map:");
            write_map(o, map, 6);
            if !map.unmapped_prefixes.is_empty() {
                let _ = writeln!(o, "    unmapped-prefix: {}", list(&map.unmapped_prefixes));
            }
        }
        Action::FieldPrefix { prefix, filter } => {
            write_filter(o, filter);
            let _ = writeln!(o, "    prefix: {}", q(prefix));
        }
        Action::FieldPrefixMap { map, filter } => {
            write_filter(o, filter);
            let _ = writeln!(o, "    map:");
            for (from, to) in map {
                let _ = writeln!(o, "      {}: {}", q(from), one_or_list(to));
            }
        }
        Action::FieldCase { case, filter } => {
            write_filter(o, filter);
            let _ = writeln!(o, "    case: {}", case.as_str());
        }
        Action::AddCondition {
            conditions,
            negated,
            template,
        } => {
            let _ = writeln!(o, "    conditions:");
            write_conditions(o, conditions, 6);
            if *negated {
                let _ = writeln!(o, "    negated: true");
            }
            if *template {
                let _ = writeln!(o, "    template: true");
            }
        }
        Action::ChangeLogSource(ls) => {
            let _ = writeln!(o, "    logsource: {}", ls_flow(ls));
        }
        Action::SetIndex(ix) => {
            let _ = writeln!(o, "    index: {}", list(ix));
        }
        Action::Placeholders { include, exclude } => {
            if let Some(i) = include {
                let _ = writeln!(o, "    include: {}", list(i));
            }
            if let Some(e) = exclude {
                let _ = writeln!(o, "    exclude: {}", list(e));
            }
        }
        Action::DropItems { filter } => write_item_filter(o, filter),
        Action::FailRule { message } => {
            let _ = writeln!(o, "    message: {}", q(message));
        }
        Action::FailItem { message, filter } => {
            let _ = writeln!(o, "    message: {}", q(message));
            write_item_filter(o, filter);
        }
    }
}

fn write_filter(o: &mut String, f: &FieldFilter) {
    if f.is_empty() {
        return;
    }
    let _ = writeln!(o, "    fields:");
    for t in f.tests.iter() {
        let (key, ps) = match t {
            FieldTest::Include(ps) => ("include", ps),
            FieldTest::Exclude(ps) => ("exclude", ps),
        };
        let regex = ps.iter().any(|p| matches!(p, NamePattern::Regex(_)));
        let names: Vec<String> = ps.iter().map(|p| p.text().to_owned()).collect();
        let _ = writeln!(
            o,
            "      {key}{}: {}",
            if regex { "-regex" } else { "" },
            list(&names)
        );
    }
    if f.any {
        let _ = writeln!(o, "      match: any");
    }
    if f.negate {
        let _ = writeln!(o, "      negate: true");
    }
}

fn write_item_filter(o: &mut String, f: &ItemFilter) {
    write_filter(o, &f.fields);
    if f.values.tests.is_empty() {
        return;
    }
    let _ = writeln!(o, "    filter:");
    let _ = writeln!(o, "      values:");
    for t in &f.values.tests {
        match t {
            ValueTest::MatchString { regex, negate, all } => {
                let _ = writeln!(
                    o,
                    "        - {{match-string: {}, negate: {negate}, all: {all}}}",
                    q(regex.as_str())
                );
            }
            ValueTest::IsNull { all } => {
                let _ = writeln!(o, "        - {{is-null: true, all: {all}}}");
            }
        }
    }
    if f.values.any {
        let _ = writeln!(o, "      match: any");
    }
    if f.values.negate {
        let _ = writeln!(o, "      negate: true");
    }
}

fn write_conditions(o: &mut String, conds: &[CondSpec], indent: usize) {
    for c in conds {
        let vals: Vec<String> = c.values.iter().map(raw).collect();
        let v = if vals.len() == 1 {
            vals[0].clone()
        } else {
            format!("[{}]", vals.join(", "))
        };
        let _ = writeln!(o, "{:indent$}{}: {v}", "", q(&c.key()));
    }
}

fn write_map(o: &mut String, m: &FieldMap, indent: usize) {
    for e in &m.entries {
        match &e.target {
            FieldTarget::To(v) => {
                let _ = writeln!(o, "{:indent$}{}: {}", "", q(&e.name), one_or_list(v));
            }
            FieldTarget::Cases { cases, default } => {
                let _ = writeln!(o, "{:indent$}{}:", "", q(&e.name));
                if !cases.is_empty() {
                    let _ = writeln!(o, "{:indent$}  cases:", "");
                }
                for c in cases {
                    let when = match &c.when {
                        CaseWhen::LogSource { key, value } => {
                            format!("logsource: {{{}: {}}}", key.as_str(), q(value))
                        }
                        CaseWhen::Value { field, value } => {
                            format!("value: {{{}: {}}}", q(field), q(value))
                        }
                    };
                    let _ = writeln!(
                        o,
                        "{:indent$}    - {{{when}, to: {}}}",
                        "",
                        one_or_list(&c.to)
                    );
                }
                if let Some(d) = default {
                    let _ = writeln!(o, "{:indent$}  default: {}", "", one_or_list(d));
                }
            }
        }
    }
}

fn ls_flow(ls: &LsPattern) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("category", &ls.category),
        ("product", &ls.product),
        ("service", &ls.service),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}: {}", q(v)));
        }
    }
    format!("{{{}}}", parts.join(", "))
}

fn raw(v: &RawValue) -> String {
    match v {
        RawValue::Str(s) => q(s),
        RawValue::Num(n) => n.text.clone(),
        RawValue::Bool(b) => b.to_string(),
        RawValue::Null => "null".into(),
    }
}

fn one_or_list(v: &[String]) -> String {
    if v.len() == 1 { q(&v[0]) } else { list(v) }
}

fn list(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// A YAML scalar for a string: plain when that reads back as the same string, else quoted.
pub(crate) fn q(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && !s.starts_with(|c: char| {
            c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`~=".contains(c) || c.is_ascii_digit()
        })
        && !s.ends_with(|c: char| c.is_whitespace() || c == ':')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\r', '\t', '\\', ',', '[', ']', '{', '}', '"', '\''])
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "~" | ".inf" | ".nan"
        );
    if plain_ok {
        s.to_owned()
    } else if s.contains(['\n', '\r', '\t']) {
        format!("{s:?}")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}
