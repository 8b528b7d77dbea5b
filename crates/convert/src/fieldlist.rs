//! The `fieldlist` target: the field names a rule uses after the pipelines (its detection, the
//! log-source conditions the pipelines add, fields compared with `fieldref`), one per line,
//! sorted, per rule and log source. For a correlation: its group-by and value fields, mapped as
//! for the rules it refers to.

use std::collections::BTreeSet;

use sigma::condition::Aggregation;
use sigma::pipeline::ResolvedRule;
use sigma::rule::{DetectionItem, RuleBody};
use sigma::value::Value;

use crate::error::ConvertError;
use crate::options::Options;
use crate::{Backend, Context, Format, Naming, Output, aggregate};

/// The `fieldlist` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct FieldListBackend;

const FORMATS: &[Format] = &[Format {
    name: "default",
    extension: "txt",
    description: "field names, one per line, sorted",
}];

impl Backend for FieldListBackend {
    fn name(&self) -> &'static str {
        "fieldlist"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["fields"]
    }
    fn description(&self) -> &'static str {
        "the field names each rule uses after the pipelines, one per line"
    }
    fn formats(&self) -> &'static [Format] {
        FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &["correlations whose referenced rules are not among the converted rules"]
    }
    fn convert_in(
        &self,
        rule: &ResolvedRule,
        cx: &Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError> {
        let fail = |e: ConvertError| e.for_rule(rule, self.name());
        crate::format(self, rule, options)?;
        if let RuleBody::Correlation(_) = &rule.rule.body {
            return crate::correlation_output(self, rule, cx, options, "txt", |agg| {
                let mut fields: BTreeSet<String> = agg.group_by.iter().cloned().collect();
                match &agg.measure {
                    aggregate::Measure::Distinct(f)
                    | aggregate::Measure::Sum(f)
                    | aggregate::Measure::Avg(f)
                    | aggregate::Measure::Min(f)
                    | aggregate::Measure::Max(f) => {
                        fields.insert(f.clone());
                    }
                    aggregate::Measure::Count | aggregate::Measure::Rules => {}
                }
                Ok(lines(&fields))
            });
        }
        // Not `each_variant`, which refuses filter rules: the fields of a filter are listed too.
        if rule.variants.is_empty() {
            return Err(fail(crate::no_log_source()));
        }
        let naming = Naming::Unique(cx, options);
        Ok(rule
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut fields = BTreeSet::new();
                for item in v.conditions.iter().chain(v.detection.items()) {
                    add(item, &mut fields);
                }
                // Fields of a legacy aggregation (`count(f) by g`), as the pipelines map them.
                for c in &v.detection.conditions {
                    if let Some(Aggregation::Function {
                        field, group_by, ..
                    }) = &c.parsed.aggregation
                    {
                        for f in field.iter().chain(group_by) {
                            fields.extend(v.fields.map(f));
                        }
                    }
                }
                naming.output(rule, i, lines(&fields), "txt")
            })
            .collect())
    }
}

fn add(item: &DetectionItem, out: &mut BTreeSet<String>) {
    if let Some(f) = &item.field {
        out.insert(f.clone());
    }
    fn refs(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::FieldRef(f, _) => {
                out.insert(f.clone());
            }
            Value::AnyOf(vs) => vs.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    for v in &item.values {
        refs(&v.value, out);
    }
}

fn lines(fields: &BTreeSet<String>) -> String {
    fields
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}
