//! Why a rule matched an event or did not: which variant's log-source conditions failed, which
//! selections were true or false, which item and which value did not match, and whether the
//! engine's routing and prefilter offered the rule the event at all.
//!
//! The structure ([`Explanation`]) is for programs; its `Display` is the readable form that
//! `sigwatch hunt --explain` prints.

use std::fmt;

use sigma::modifier::Link;
use sigma::pipeline::Variant;
use sigma::rule::{DetectionItem, SelectionNode};
use sigma::value::Value;

use crate::engine::Engine;
use crate::event::Event;
use crate::naive::{Naive, Owned, read_field};

/// Longest event value shown, in characters.
const SHOW_MAX: usize = 160;
/// Most event values shown per item.
const SHOW_VALUES: usize = 8;

/// The explanation for one rule and one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub rule: usize,
    pub title: String,
    pub id: Option<String>,
    /// The engine's answer.
    pub matched: bool,
    pub needs_correlation: bool,
    /// Why the rule was not compiled, if it was not: the pipeline's "not applicable" reason
    /// ([`sigma::pipeline::ResolvedRule::skipped`]) or the compile error.
    pub error: Option<String>,
    pub variants: Vec<VariantExplanation>,
    /// Filters attached to the rule.
    pub filters: Vec<FilterExplanation>,
}

/// One variant (log source) of the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantExplanation {
    pub label: Option<String>,
    /// Routing offered the event to this variant (its necessary equalities can hold).
    pub routed: bool,
    /// The literal prefilter let it through (a required literal was found, or it has none).
    pub prefilter_passed: bool,
    pub conditions: Vec<ItemExplanation>,
    pub conditions_met: bool,
    pub condition_results: Vec<ConditionResult>,
    pub selections: Vec<SelectionExplanation>,
    pub matched: bool,
}

/// One entry of the rule's `condition`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionResult {
    pub text: String,
    pub matched: bool,
}

/// One named selection.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionExplanation {
    pub name: String,
    pub matched: bool,
    pub node: NodeExplanation,
}

/// A selection's structure: maps are `All`, lists `Any`.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeExplanation {
    All {
        matched: bool,
        children: Vec<NodeExplanation>,
    },
    Any {
        matched: bool,
        children: Vec<NodeExplanation>,
    },
    Item(ItemExplanation),
}

impl NodeExplanation {
    pub fn matched(&self) -> bool {
        match self {
            NodeExplanation::All { matched, .. } | NodeExplanation::Any { matched, .. } => *matched,
            NodeExplanation::Item(i) => i.matched,
        }
    }
}

/// One detection item: the field, what the event has there, and each value's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemExplanation {
    /// `field|modifiers` as written (`keywords` for keyword lists).
    pub key: String,
    pub field: Option<String>,
    pub exists: bool,
    /// The event's values of the field (text forms, shortened).
    pub event_values: Vec<String>,
    pub values: Vec<ValueExplanation>,
    /// `|all`: every value must match.
    pub all: bool,
    /// `|neq`: the item's result is negated.
    pub negated: bool,
    pub matched: bool,
}

/// One value of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueExplanation {
    pub value: String,
    pub matched: bool,
}

/// A filter attached to the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterExplanation {
    pub rule: usize,
    pub title: String,
    /// The filter matched: the event is excluded from the rule.
    pub matched: bool,
    pub variants: Vec<VariantExplanation>,
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= SHOW_MAX {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(SHOW_MAX).collect();
        t.push('…');
        t
    }
}

/// A rule value in rule syntax.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("'{s}'"),
        Value::Num(n) => n.text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Regex(r) => format!("/{}/", r.pattern),
        Value::Cidr(c) => c.to_string(),
        Value::Cmp(op, n) => format!("{} {}", op.symbol(), n.text),
        Value::Exists(b) => format!("exists: {b}"),
        Value::FieldRef(f, mode) => format!("field {f} ({mode:?})"),
        Value::TimePart(p, n) => format!("{} = {n}", p.as_str()),
        Value::AnyOf(vs) => {
            let shown: Vec<String> = vs.iter().take(6).map(show_value).collect();
            let more = if vs.len() > 6 {
                format!(", … {} more", vs.len() - 6)
            } else {
                String::new()
            };
            format!("any of [{}{more}]", shown.join(", "))
        }
    }
}

/// Explains an engine's decisions for many rules and events: the naive evaluator it compares
/// with is built once (for a few thousand rules that takes seconds).
pub struct Explainer<'e> {
    engine: &'e Engine,
    naive: Naive<'e>,
}

impl std::fmt::Debug for Explainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explainer").finish_non_exhaustive()
    }
}

impl Engine {
    /// Explain the engine's decision for one rule (index into [`Engine::rules`]) and one event.
    /// To explain many, make one [`Engine::explainer`].
    pub fn explain(&self, rule: usize, event: &dyn Event) -> Explanation {
        self.explainer().explain(rule, event)
    }

    /// An [`Explainer`] for this engine's rules.
    pub fn explainer(&self) -> Explainer<'_> {
        Explainer {
            engine: self,
            naive: Naive::new(self.rules(), |i| !self.is_compiled(i)),
        }
    }
}

impl Explainer<'_> {
    /// The engine's decision for one rule (index into [`Engine::rules`]) and one event.
    pub fn explain(&self, rule: usize, event: &dyn Event) -> Explanation {
        let engine = self.engine;
        let naive = &self.naive;
        let rules = engine.rules();
        let r = &rules[rule];
        let error = match &r.skipped {
            Some(na) => Some(na.to_string()),
            None => engine
                .errors()
                .iter()
                .find(|e| e.rule == rule)
                .map(|e| e.kind.to_string()),
        };
        let scratch = engine.selected_scratch(event);
        let first_variant = engine
            .prog
            .rules
            .get(rule)
            .and_then(Option::as_ref)
            .map(|c| c.variants.start);
        let variants = r
            .variants
            .iter()
            .enumerate()
            .map(|(vi, v)| {
                let (routed, pre) = match first_variant {
                    Some(start) => engine.is_candidate(&scratch, start + vi as u32),
                    None => (false, false),
                };
                explain_variant(naive, v, event, routed, pre)
            })
            .collect();
        let filters = naive
            .filters_of(rule)
            .iter()
            .map(|&f| {
                let fr = &rules[f];
                let variants: Vec<VariantExplanation> = fr
                    .variants
                    .iter()
                    .map(|v| explain_variant(naive, v, event, true, true))
                    .collect();
                FilterExplanation {
                    rule: f,
                    title: fr.rule.title().to_owned(),
                    matched: variants.iter().any(|v| v.matched),
                    variants,
                }
            })
            .collect();
        Explanation {
            rule,
            title: r.rule.title().to_owned(),
            id: r.rule.id().map(str::to_owned),
            matched: engine.matches(event).any(|m| m.rule == rule),
            needs_correlation: engine.needs_correlation(rule),
            error,
            variants,
            filters,
        }
    }
}

fn explain_variant(
    naive: &Naive<'_>,
    v: &Variant,
    ev: &dyn Event,
    routed: bool,
    prefilter_passed: bool,
) -> VariantExplanation {
    let conditions: Vec<ItemExplanation> = v
        .conditions
        .iter()
        .map(|c| explain_item(naive, c, ev))
        .collect();
    let conditions_met = conditions.iter().all(|c| c.matched);
    let d = &v.detection;
    let condition_results: Vec<ConditionResult> = d
        .conditions
        .iter()
        .map(|c| ConditionResult {
            text: c.text.clone(),
            matched: naive.expr_matches(&c.parsed.expr, d, ev),
        })
        .collect();
    let selections = d
        .selections
        .iter()
        .map(|s| {
            let node = explain_node(naive, &s.node, ev);
            SelectionExplanation {
                name: s.name.clone(),
                matched: node.matched(),
                node,
            }
        })
        .collect();
    VariantExplanation {
        label: v.label.clone(),
        routed,
        prefilter_passed,
        matched: conditions_met && condition_results.iter().any(|c| c.matched),
        conditions,
        conditions_met,
        condition_results,
        selections,
    }
}

fn explain_node(naive: &Naive<'_>, n: &SelectionNode, ev: &dyn Event) -> NodeExplanation {
    match n {
        SelectionNode::And(ns) => {
            let children: Vec<NodeExplanation> =
                ns.iter().map(|n| explain_node(naive, n, ev)).collect();
            NodeExplanation::All {
                matched: children.iter().all(NodeExplanation::matched),
                children,
            }
        }
        SelectionNode::Or(ns) => {
            let children: Vec<NodeExplanation> =
                ns.iter().map(|n| explain_node(naive, n, ev)).collect();
            NodeExplanation::Any {
                matched: children.iter().any(NodeExplanation::matched),
                children,
            }
        }
        SelectionNode::Item(i) => NodeExplanation::Item(explain_item(naive, i, ev)),
    }
}

fn explain_item(naive: &Naive<'_>, item: &DetectionItem, ev: &dyn Event) -> ItemExplanation {
    let f = read_field(ev, item.field.as_deref());
    let values: Vec<ValueExplanation> = item
        .values
        .iter()
        .map(|v| ValueExplanation {
            value: show_value(v),
            matched: naive.value_matches(v, item, &f, ev),
        })
        .collect();
    let event_values = if item.field.is_none() {
        vec![format!("({} values searched)", f.values.len())]
    } else {
        f.values
            .iter()
            .take(SHOW_VALUES)
            .map(|v| match v {
                Owned::Str(s) => format!("'{}'", shorten(s)),
                Owned::Null => "null".into(),
                Owned::Other => "(object)".into(),
                other => other.text().unwrap_or_default(),
            })
            .collect()
    };
    let all = item.flags.link == Link::All;
    let r = if all {
        values.iter().all(|v| v.matched)
    } else {
        values.iter().any(|v| v.matched)
    };
    ItemExplanation {
        key: if item.field.is_none() && item.modifiers.is_empty() {
            "keywords".into()
        } else {
            item.key()
        },
        field: item.field.clone(),
        exists: f.present,
        event_values,
        values,
        all,
        negated: item.flags.negated,
        matched: r != item.flags.negated,
    }
}

fn mark(b: bool) -> &'static str {
    if b { "[x]" } else { "[ ]" }
}

fn write_item(f: &mut fmt::Formatter<'_>, i: &ItemExplanation, indent: usize) -> fmt::Result {
    let pad = " ".repeat(indent);
    let seen = if !i.exists {
        "field missing".to_owned()
    } else if i.event_values.is_empty() {
        "no value".to_owned()
    } else {
        format!("event: {}", i.event_values.join(", "))
    };
    let how = match (i.all, i.negated) {
        (true, true) => " (all values, negated)",
        (true, false) => " (all values)",
        (false, true) => " (negated)",
        (false, false) => "",
    };
    writeln!(f, "{pad}{} {}{how} — {seen}", mark(i.matched), i.key)?;
    for v in &i.values {
        writeln!(f, "{pad}    {} {}", mark(v.matched), v.value)?;
    }
    Ok(())
}

fn write_node(f: &mut fmt::Formatter<'_>, n: &NodeExplanation, indent: usize) -> fmt::Result {
    let pad = " ".repeat(indent);
    match n {
        NodeExplanation::Item(i) => write_item(f, i, indent),
        NodeExplanation::All { matched, children } | NodeExplanation::Any { matched, children } => {
            if children.len() == 1 {
                return write_node(f, &children[0], indent);
            }
            let word = if matches!(n, NodeExplanation::All { .. }) {
                "all of"
            } else {
                "any of"
            };
            writeln!(f, "{pad}{} {word}:", mark(*matched))?;
            children
                .iter()
                .try_for_each(|c| write_node(f, c, indent + 4))
        }
    }
}

fn write_variant(
    f: &mut fmt::Formatter<'_>,
    i: usize,
    v: &VariantExplanation,
    engine_view: bool,
) -> fmt::Result {
    let label = v
        .label
        .as_deref()
        .map(|l| format!(" [{l}]"))
        .unwrap_or_default();
    let routing = if engine_view {
        format!(
            " (routing: {}, prefilter: {})",
            if v.routed { "offered" } else { "not offered" },
            if v.prefilter_passed {
                "passed"
            } else {
                "skipped"
            }
        )
    } else {
        String::new()
    };
    writeln!(f, "  {} variant {i}{label}{routing}", mark(v.matched))?;
    if !v.conditions.is_empty() {
        writeln!(f, "    {} log-source conditions", mark(v.conditions_met))?;
        for c in &v.conditions {
            write_item(f, c, 8)?;
        }
    }
    for c in &v.condition_results {
        writeln!(f, "    {} condition: {}", mark(c.matched), c.text)?;
    }
    for s in &v.selections {
        writeln!(f, "    {} selection {}", mark(s.matched), s.name)?;
        write_node(f, &s.node, 8)?;
    }
    Ok(())
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self
            .id
            .as_deref()
            .map(|i| format!(" ({i})"))
            .unwrap_or_default();
        let verdict = if self.matched { "MATCHED" } else { "no match" };
        writeln!(
            f,
            "{} rule '{}'{id}: {verdict}",
            mark(self.matched),
            self.title
        )?;
        if let Some(e) = &self.error {
            writeln!(f, "  not compiled: {e}")?;
        }
        if self.needs_correlation {
            writeln!(
                f,
                "  (a hit of the base condition; the aggregation is the correlation module's)"
            )?;
        }
        for (i, v) in self.variants.iter().enumerate() {
            write_variant(f, i, v, true)?;
        }
        for flt in &self.filters {
            let effect = if flt.matched {
                "matched: event excluded"
            } else {
                "did not match"
            };
            writeln!(
                f,
                "  {} filter '{}': {effect}",
                mark(flt.matched),
                flt.title
            )?;
            for (i, v) in flt.variants.iter().enumerate() {
                write_variant(f, i, v, false)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sigma::pipeline::resolve_identity;

    fn engine(texts: &[&str]) -> Engine {
        let mut rules = Vec::new();
        for t in texts {
            rules.extend(sigma::load_str(t, "t.yml").rules);
        }
        Engine::compile(rules.iter().map(resolve_identity).collect())
    }

    const RULE: &str = "title: Cmd\nid: 11111111-1111-4111-8111-111111111111\nname: cmd\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|endswith: ['\\cmd.exe', '\\pwsh.exe']\n    CommandLine|contains: '/c'\n  filter:\n    User: admin\n  condition: sel and not filter\n";

    #[test]
    fn explains_a_match_and_a_miss() {
        let e = engine(&[RULE]);
        let hit = json!({"Image": "C:\\CMD.exe", "CommandLine": "cmd /c whoami", "User": "bob"});
        let x = e.explain(0, &hit);
        assert!(x.matched);
        assert!(x.variants[0].matched && x.variants[0].routed && x.variants[0].prefilter_passed);
        let text = x.to_string();
        assert!(text.contains("MATCHED"), "{text}");
        assert!(text.contains("[x] '*\\cmd.exe'"), "{text}");
        assert!(text.contains("[ ] '*\\pwsh.exe'"), "{text}");

        let miss = json!({"Image": "C:\\CMD.exe", "User": "admin"});
        let x = e.explain(0, &miss);
        assert!(!x.matched);
        let sel = &x.variants[0].selections[0];
        assert!(!sel.matched);
        let NodeExplanation::All { children, .. } = &sel.node else {
            panic!("a map is all-of")
        };
        let NodeExplanation::Item(cl) = &children[1] else {
            panic!("item")
        };
        assert!(!cl.exists && !cl.matched);
        assert!(x.variants[0].selections[1].matched);
        assert!(!x.variants[0].prefilter_passed || !x.variants[0].matched);
        let text = x.to_string();
        assert!(text.contains("field missing"), "{text}");
        assert!(text.contains("no match"), "{text}");
    }

    #[test]
    fn explains_filters() {
        let filter = "title: Not admins\nlogsource: {product: windows}\nfilter:\n  rules: [cmd]\n  selection:\n    User: bob\n  condition: selection\n";
        let e = engine(&[RULE, filter]);
        let ev = json!({"Image": "C:\\CMD.exe", "CommandLine": "cmd /c whoami", "User": "bob"});
        let x = e.explain(0, &ev);
        assert!(!x.matched);
        assert_eq!(x.filters.len(), 1);
        assert!(x.filters[0].matched);
        assert!(x.to_string().contains("event excluded"));
    }
}
