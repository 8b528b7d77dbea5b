//! The field names a rule uses (sigmac's `fieldlist`).

use std::collections::BTreeSet;

use crate::condition::Aggregation;
use crate::rule::{Detection, Rule, RuleBody};
use crate::value::Value;

/// Every field name the rule reads: detection items, field references, legacy aggregation
/// fields, and correlation group-by / value fields / alias targets. Sorted, unique.
pub fn rule_fields(rule: &Rule) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match &rule.body {
        RuleBody::Detection(d) => detection_fields(&d.detection, &mut out),
        RuleBody::Filter(f) => detection_fields(&f.detection, &mut out),
        RuleBody::Correlation(c) => {
            let aliases: Vec<&str> = c.aliases.iter().map(|a| a.name.as_str()).collect();
            out.extend(
                c.group_by
                    .iter()
                    .filter(|g| !aliases.contains(&g.as_str()))
                    .cloned(),
            );
            out.extend(c.field.iter().cloned());
            for a in &c.aliases {
                out.extend(a.fields.iter().map(|(_, f)| f.clone()));
            }
        }
    }
    out
}

/// The fields of a detection section.
pub fn detection_fields(d: &Detection, out: &mut BTreeSet<String>) {
    for item in d.items() {
        if let Some(f) = &item.field {
            out.insert(f.clone());
        }
        for v in &item.values {
            for leaf in v.value.leaves() {
                if let Value::FieldRef(f, _) = leaf {
                    out.insert(f.clone());
                }
            }
        }
    }
    for c in &d.conditions {
        if let Some(Aggregation::Function {
            field, group_by, ..
        }) = &c.parsed.aggregation
        {
            out.extend(field.iter().cloned());
            out.extend(group_by.iter().cloned());
        }
    }
}
