//! Reader for pySigma processing pipelines (YAML).
//!
//! Supported transformations: `field_name_mapping`, `field_name_prefix_mapping`,
//! `field_name_prefix`, `add_condition`, `change_logsource`, `set_state` (key `index`),
//! `value_placeholders`, `drop_detection_item`, `rule_failure`, `detection_item_failure`.
//! Rule conditions: `logsource`, `processing_item_applied`, `tag` (with `rule_cond_op`,
//! `rule_cond_not`); field name conditions: `include_fields`, `exclude_fields` (`mode: plain|re`,
//! with `field_name_cond_op`, `field_name_cond_not`); detection item conditions: `match_string`,
//! `is_null` (with `detection_item_cond_op`, `detection_item_cond_not`). Anything else is an
//! error "not supported yet: <name>", never skipped.

use std::sync::Arc;

use super::error::PipelineError;
use super::model::{
    Action, FieldEntry, FieldFilter, FieldMap, FieldTarget, FieldTest, Format, Item, ItemFilter,
    NamePattern, Pipeline, RuleCond, RuleTest, Source, ValueFilter, ValueTest,
};
use super::read::Reader;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::yaml::{Node, Value as Y};

/// Every transformation pySigma knows (to tell "not supported yet" from a typo).
const PYSIGMA_TRANSFORMATIONS: &[&str] = &[
    "field_name_mapping",
    "field_name_prefix_mapping",
    "field_name_transform",
    "drop_detection_item",
    "hashes_fields",
    "extract_fields",
    "field_name_suffix",
    "field_name_prefix",
    "wildcard_placeholders",
    "value_placeholders",
    "query_expression_placeholders",
    "file_placeholders",
    "http_placeholders",
    "command_placeholders",
    "add_condition",
    "change_logsource",
    "add_field",
    "remove_field",
    "set_field",
    "replace_string",
    "map_string",
    "set_state",
    "regex",
    "set_value",
    "convert_type",
    "rule_failure",
    "detection_item_failure",
    "strict_field_mapping_failure",
    "set_custom_attribute",
    "nest",
    "case",
];

const ITEM_KEYS: &[&str] = &[
    "id",
    "type",
    "rule_conditions",
    "rule_cond_op",
    "rule_cond_not",
    "rule_cond_expr",
    "detection_item_conditions",
    "detection_item_cond_op",
    "detection_item_cond_not",
    "detection_item_cond_expr",
    "field_name_conditions",
    "field_name_cond_op",
    "field_name_cond_not",
    "field_name_cond_expr",
];

/// Read a pySigma processing pipeline.
pub fn read(path: &str, text: &str) -> Result<Pipeline, PipelineError> {
    let mut r = Reader::new(path, text);
    let mut p = Pipeline::new(path, Format::PySigma);
    p.source = Some(Source {
        path: path.to_owned(),
        text: text.into(),
    });
    let Some(doc) = r.document() else {
        return r.finish(p);
    };
    let Some(top) = r.map(&doc, "a processing pipeline") else {
        return r.finish(p);
    };
    let mut transformations = None;
    for (k, v) in top {
        let Some(key) = r.key(k) else { continue };
        match key {
            "name" => p.title = r.string(v, "name"),
            "priority" => p.priority = r.int(v, "priority"),
            "vars" => p.vars = super::native::read_vars(&mut r, v),
            "allowed_backends" => p.backends = r.strings(v, "allowed_backends").unwrap_or_default(),
            "transformations" => transformations = Some(v),
            "postprocessing" | "finalizers" => {
                if !v.is_null() && v.as_seq().is_none_or(|s| !s.is_empty()) {
                    r.error(
                        "pipeline-unsupported",
                        k,
                        format!(
                            "not supported yet: {key} (query output processing; sigwatch's \
                             backends format their own output)"
                        ),
                    );
                }
            }
            _ => r.unknown_key(
                k,
                key,
                "a processing pipeline",
                &[
                    "name",
                    "priority",
                    "vars",
                    "transformations",
                    "postprocessing",
                    "finalizers",
                    "allowed_backends",
                ],
            ),
        }
    }
    if let Some(v) = transformations
        && !v.is_null()
        && let Some(list) = r.seq(v, "transformations")
    {
        for (i, n) in list.iter().enumerate() {
            if let Some(item) = read_item(&mut r, n, i) {
                p.items.push(item);
            }
        }
    }
    r.finish(p)
}

fn read_item(r: &mut Reader<'_>, n: &Node, index: usize) -> Option<Item> {
    let m = r.map(n, "a transformation")?;
    let Some(tn) = n.get("type") else {
        r.error("pipeline-item", n, "a transformation needs a 'type'");
        return None;
    };
    let ty = r.string(tn, "type")?;
    let supported: &[&str] = match ty.as_str() {
        "field_name_mapping" | "field_name_prefix_mapping" => &["mapping"],
        "field_name_prefix" => &["prefix"],
        "add_condition" => &["conditions", "name", "template", "negated"],
        "change_logsource" => &["category", "product", "service"],
        "set_state" => &["key", "val"],
        "value_placeholders" => &["include", "exclude"],
        "drop_detection_item" => &[],
        "rule_failure" | "detection_item_failure" => &["message"],
        other if PYSIGMA_TRANSFORMATIONS.contains(&other) => {
            r.error(
                "pipeline-unsupported",
                tn,
                format!("not supported yet: {other}"),
            );
            return None;
        }
        other => {
            let mut d = Diagnostic::error(
                "pipeline-item",
                tn.span,
                format!("unknown transformation '{other}'"),
            );
            if let Some(s) = did_you_mean(other, PYSIGMA_TRANSFORMATIONS.iter().copied()) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            r.push(d);
            return None;
        }
    };
    let mut id = None;
    let mut when = RuleCond::default();
    let mut fields = FieldFilter::default();
    let mut values = ValueFilter::default();
    for (k, v) in m {
        let Some(key) = r.key(k) else { continue };
        match key {
            "type" => {}
            "id" => id = r.string(v, "id"),
            "rule_conditions" => when.tests = rule_conditions(r, v),
            "rule_cond_op" => when.any = cond_op(r, v),
            "rule_cond_not" => when.negate = r.bool(v, "rule_cond_not").unwrap_or(false),
            "field_name_conditions" => fields.tests = Arc::new(field_conditions(r, v)),
            "field_name_cond_op" => fields.any = cond_op(r, v),
            "field_name_cond_not" => fields.negate = r.bool(v, key).unwrap_or(false),
            "detection_item_conditions" => values.tests = item_conditions(r, v),
            "detection_item_cond_op" => values.any = cond_op(r, v),
            "detection_item_cond_not" => values.negate = r.bool(v, key).unwrap_or(false),
            "rule_cond_expr" | "field_name_cond_expr" | "detection_item_cond_expr" => r.error(
                "pipeline-unsupported",
                k,
                format!("not supported yet: {key} (use a list of conditions with *_cond_op)"),
            ),
            _ if supported.contains(&key) => {}
            _ => {
                let mut known: Vec<&str> = ITEM_KEYS.to_vec();
                known.extend_from_slice(supported);
                r.unknown_key(k, key, &format!("a '{ty}' transformation"), &known);
            }
        }
    }
    let param = |name: &str| n.get(name);
    let need = |r: &mut Reader<'_>, name: &str| -> Option<&Node> {
        let v = param(name);
        if v.is_none() {
            r.error(
                "pipeline-item",
                n,
                format!("transformation '{ty}' needs '{name}'"),
            );
        }
        v
    };
    let action = match ty.as_str() {
        "field_name_mapping" => {
            let v = need(r, "mapping")?;
            let mut map = FieldMap {
                filter: fields,
                ..FieldMap::default()
            };
            for (k, t) in r.map(v, "mapping")? {
                let Some(name) = r.key(k) else { continue };
                let Some(to) = r.strings(t, "a field name") else {
                    continue;
                };
                if to.is_empty() {
                    r.error(
                        "pipeline-mapping",
                        t,
                        "not supported yet: mapping a field to an empty list (dropping it)",
                    );
                    continue;
                }
                map.entries.push(FieldEntry {
                    name: name.to_owned(),
                    span: k.span,
                    target: FieldTarget::To(to),
                });
            }
            Action::Fields(map)
        }
        "field_name_prefix_mapping" => {
            let v = need(r, "mapping")?;
            let mut map = Vec::new();
            for (k, t) in r.map(v, "mapping")? {
                if let (Some(from), Some(to)) = (r.key(k), r.strings(t, "a prefix")) {
                    map.push((from.to_owned(), to));
                }
            }
            Action::FieldPrefixMap {
                map,
                filter: fields,
            }
        }
        "field_name_prefix" => Action::FieldPrefix {
            prefix: need(r, "prefix").and_then(|v| r.string(v, "prefix"))?,
            filter: fields,
        },
        "add_condition" => Action::AddCondition {
            conditions: need(r, "conditions")
                .map(|v| r.conditions(v, "conditions"))
                .unwrap_or_default(),
            negated: param("negated")
                .and_then(|v| r.bool(v, "negated"))
                .unwrap_or(false),
            template: param("template")
                .and_then(|v| r.bool(v, "template"))
                .unwrap_or(false),
        },
        "change_logsource" => {
            let mut ls = super::model::LsPattern::default();
            for (key, slot) in [
                ("category", &mut ls.category),
                ("product", &mut ls.product),
                ("service", &mut ls.service),
            ] {
                if let Some(v) = param(key)
                    && !v.is_null()
                {
                    *slot = r.string(v, key);
                }
            }
            Action::ChangeLogSource(ls)
        }
        "set_state" => {
            let key_node = need(r, "key")?;
            let key = r.string(key_node, "key")?;
            let val = need(r, "val")?;
            if key != "index" {
                r.error(
                    "pipeline-unsupported",
                    key_node,
                    format!("not supported yet: set_state key '{key}' (only 'index')"),
                );
                return None;
            }
            Action::SetIndex(r.strings(val, "the index")?)
        }
        "value_placeholders" => Action::Placeholders {
            include: param("include").and_then(|v| r.strings(v, "include")),
            exclude: param("exclude").and_then(|v| r.strings(v, "exclude")),
        },
        "drop_detection_item" => Action::DropItems {
            filter: ItemFilter { fields, values },
        },
        "rule_failure" => Action::FailRule {
            message: need(r, "message").and_then(|v| r.string(v, "message"))?,
        },
        _ => Action::FailItem {
            message: need(r, "message").and_then(|v| r.string(v, "message"))?,
            filter: ItemFilter { fields, values },
        },
    };
    Some(Item {
        id: id.unwrap_or_else(|| format!("{ty}#{}", index + 1)),
        span: n.span,
        when,
        action,
    })
}

fn cond_op(r: &mut Reader<'_>, v: &Node) -> bool {
    match r.string(v, "a condition operator").as_deref() {
        Some("or") => true,
        Some("and") | None => false,
        Some(other) => {
            r.error(
                "pipeline-value",
                v,
                format!("a condition operator is 'and' or 'or', not '{other}'"),
            );
            false
        }
    }
}

/// Conditions are a list, or a map of named conditions (for expressions).
fn condition_nodes<'n>(r: &mut Reader<'_>, v: &'n Node) -> Vec<&'n Node> {
    match &v.value {
        Y::Seq(s) => s.iter().collect(),
        Y::Map(m) => m.iter().map(|(_, c)| c).collect(),
        _ => {
            r.error(
                "pipeline-type",
                v,
                format!("conditions must be a list or a map, not {}", v.kind_name()),
            );
            Vec::new()
        }
    }
}

fn cond_type(r: &mut Reader<'_>, c: &Node) -> Option<String> {
    r.map(c, "a condition")?;
    match c.get("type") {
        Some(t) => r.string(t, "type"),
        None => {
            r.error("pipeline-condition", c, "a condition needs a 'type'");
            None
        }
    }
}

fn check_params(r: &mut Reader<'_>, c: &Node, ty: &str, known: &[&str]) {
    for (k, _) in c.as_map().unwrap_or_default() {
        if let Some(key) = k.scalar_text()
            && key != "type"
            && !known.contains(&key)
        {
            r.unknown_key(k, key, &format!("a '{ty}' condition"), known);
        }
    }
}

fn rule_conditions(r: &mut Reader<'_>, v: &Node) -> Vec<RuleTest> {
    let mut out = Vec::new();
    for c in condition_nodes(r, v) {
        let Some(ty) = cond_type(r, c) else { continue };
        match ty.as_str() {
            "logsource" => {
                check_params(r, c, &ty, &["category", "product", "service"]);
                let mut ls = super::model::LsPattern::default();
                for (key, slot) in [
                    ("category", &mut ls.category),
                    ("product", &mut ls.product),
                    ("service", &mut ls.service),
                ] {
                    if let Some(v) = c.get(key)
                        && !v.is_null()
                    {
                        *slot = r.string(v, key);
                    }
                }
                out.push(RuleTest::LogSource(ls));
            }
            "processing_item_applied" => {
                check_params(r, c, &ty, &["processing_item_id"]);
                if let Some(id) = c
                    .get("processing_item_id")
                    .and_then(|v| r.string(v, "processing_item_id"))
                {
                    out.push(RuleTest::Applied(id));
                } else {
                    r.error("pipeline-condition", c, "needs 'processing_item_id'");
                }
            }
            "tag" => {
                check_params(r, c, &ty, &["tag"]);
                if let Some(t) = c.get("tag").and_then(|v| r.string(v, "tag")) {
                    out.push(RuleTest::Tag(t));
                } else {
                    r.error("pipeline-condition", c, "needs 'tag'");
                }
            }
            other => unsupported_condition(r, c, "rule", other),
        }
    }
    out
}

fn unsupported_condition(r: &mut Reader<'_>, c: &Node, kind: &str, name: &str) {
    let node = c.get("type").unwrap_or(c);
    r.error(
        "pipeline-unsupported",
        node,
        format!("not supported yet: {kind} condition '{name}'"),
    );
}

fn field_conditions(r: &mut Reader<'_>, v: &Node) -> Vec<FieldTest> {
    let mut out = Vec::new();
    for c in condition_nodes(r, v) {
        let Some(ty) = cond_type(r, c) else { continue };
        let include = match ty.as_str() {
            "include_fields" => true,
            "exclude_fields" => false,
            other => {
                unsupported_condition(r, c, "field name", other);
                continue;
            }
        };
        check_params(r, c, &ty, &["fields", "mode"]);
        let regex = match c.get("mode").and_then(|m| r.string(m, "mode")).as_deref() {
            None | Some("plain") => false,
            Some("re") => true,
            Some(other) => {
                r.error(
                    "pipeline-value",
                    c,
                    format!("mode must be 'plain' or 're', not '{other}'"),
                );
                continue;
            }
        };
        let Some(fnode) = c.get("fields") else {
            r.error("pipeline-condition", c, format!("'{ty}' needs 'fields'"));
            continue;
        };
        let mut pats = Vec::new();
        for f in r.strings(fnode, "fields").unwrap_or_default() {
            if regex {
                match regex::Regex::new(&f) {
                    Ok(re) => pats.push(NamePattern::Regex(re)),
                    Err(e) => r.error(
                        "pipeline-regex",
                        fnode,
                        format!("invalid regular expression '{f}': {e}"),
                    ),
                }
            } else {
                pats.push(NamePattern::Plain(f));
            }
        }
        out.push(if include {
            FieldTest::Include(pats)
        } else {
            FieldTest::Exclude(pats)
        });
    }
    out
}

fn item_conditions(r: &mut Reader<'_>, v: &Node) -> Vec<ValueTest> {
    let mut out = Vec::new();
    for c in condition_nodes(r, v) {
        let Some(ty) = cond_type(r, c) else { continue };
        // pySigma requires `cond` on value conditions; so do we.
        let Some(cond) = c.get("cond") else {
            r.error(
                "pipeline-condition",
                c,
                format!("'{ty}' needs 'cond' (any or all)"),
            );
            continue;
        };
        let all = match r.string(cond, "cond").as_deref() {
            None | Some("any") => false,
            Some("all") => true,
            Some(other) => {
                r.error(
                    "pipeline-value",
                    c,
                    format!("cond must be 'any' or 'all', not '{other}'"),
                );
                continue;
            }
        };
        match ty.as_str() {
            "match_string" => {
                check_params(r, c, &ty, &["pattern", "negate", "cond"]);
                let Some(p) = c.get("pattern") else {
                    r.error("pipeline-condition", c, "'match_string' needs 'pattern'");
                    continue;
                };
                let Some(s) = r.string(p, "pattern") else {
                    continue;
                };
                let negate = c
                    .get("negate")
                    .and_then(|n| r.bool(n, "negate"))
                    .unwrap_or(false);
                match regex::Regex::new(&s) {
                    Ok(regex) => out.push(ValueTest::MatchString { regex, negate, all }),
                    Err(e) => r.error(
                        "pipeline-regex",
                        p,
                        format!("invalid regular expression '{s}': {e}"),
                    ),
                }
            }
            "is_null" => {
                check_params(r, c, &ty, &["cond"]);
                out.push(ValueTest::IsNull { all });
            }
            other => unsupported_condition(r, c, "detection item", other),
        }
    }
    out
}
