//! A compact, stable text form of resolved rules: what `sigwatch resolve` prints and what the
//! snapshot tests compare.

use std::fmt::Write as _;

use super::apply::describe_value;
use super::resolved::{ResolvedRule, Variant};
use crate::rule::{DetectionItem, SelectionNode};

/// Render a resolved rule. `chain` names the pipelines applied.
pub fn resolved(r: &ResolvedRule, chain: &str) -> String {
    let mut o = String::new();
    let rule = &r.rule;
    let _ = writeln!(
        o,
        "rule: {}{}",
        rule.title(),
        rule.id().map(|i| format!(" ({i})")).unwrap_or_default()
    );
    if let Some(ls) = rule.logsource() {
        let _ = writeln!(o, "logsource: {ls}");
    }
    let _ = writeln!(
        o,
        "pipelines: {}",
        if chain.is_empty() { "(none)" } else { chain }
    );
    if let Some(s) = &r.skipped {
        let _ = writeln!(o, "{s}");
        return o;
    }
    if r.variants.is_empty() {
        let _ = writeln!(o, "no variants ({} rule)", rule.kind_name());
        return o;
    }
    let n = r.variants.len();
    for (i, v) in r.variants.iter().enumerate() {
        variant(&mut o, v, i + 1, n);
    }
    o
}

fn variant(o: &mut String, v: &Variant, i: usize, n: usize) {
    let _ = writeln!(
        o,
        "variant {i} of {n}{}",
        v.label
            .as_deref()
            .map(|l| format!(" [{l}]"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        o,
        "  index: {}",
        if v.indices.is_empty() {
            "(default)".to_owned()
        } else {
            v.indices.join(", ")
        }
    );
    if v.conditions.is_empty() {
        let _ = writeln!(o, "  conditions: (none)");
    } else {
        let _ = writeln!(o, "  conditions:");
        for c in &v.conditions {
            let _ = writeln!(o, "    {}", item(c));
        }
    }
    let _ = writeln!(o, "  detection:");
    for s in &v.detection.selections {
        match &s.node {
            SelectionNode::Item(i) => {
                let _ = writeln!(o, "    {}: {}", s.name, item(i));
            }
            other => {
                let _ = writeln!(o, "    {}:", s.name);
                node(o, other, 6);
            }
        }
    }
    for c in &v.detection.conditions {
        let _ = writeln!(o, "    condition: {}", c.text);
    }
    if v.changes.is_empty() {
        let _ = writeln!(o, "  changes: (none)");
    } else {
        let _ = writeln!(o, "  changes:");
        for c in &v.changes {
            let _ = writeln!(o, "    [{} / {}] {}", c.pipeline, c.item, c.description);
        }
    }
}

fn node(o: &mut String, n: &SelectionNode, indent: usize) {
    match n {
        SelectionNode::Item(i) => {
            let _ = writeln!(o, "{:indent$}- {}", "", item(i));
        }
        SelectionNode::And(ns) => {
            let _ = writeln!(o, "{:indent$}- all of:", "");
            for c in ns {
                node(o, c, indent + 2);
            }
        }
        SelectionNode::Or(ns) => {
            let _ = writeln!(o, "{:indent$}- any of:", "");
            for c in ns {
                node(o, c, indent + 2);
            }
        }
    }
}

/// `field|mods = 'a' | 'b'` (`!=` for `neq`; keywords have no field).
pub fn item(i: &DetectionItem) -> String {
    let vals: Vec<String> = i.values.iter().map(|v| describe_value(&v.value)).collect();
    let join = if i.flags.link == crate::modifier::Link::All {
        " & "
    } else {
        " | "
    };
    match &i.field {
        None => format!("keywords {}", vals.join(join)),
        Some(f) => {
            // `neq` shows as `!=`, the other modifiers as written.
            let mut key = f.clone();
            for m in i
                .modifiers
                .iter()
                .filter(|m| **m != crate::modifier::Modifier::Neq)
            {
                key.push('|');
                key.push_str(m.name());
            }
            let op = if i.flags.negated { "!=" } else { "=" };
            format!("{key} {op} {}", vals.join(join))
        }
    }
}
