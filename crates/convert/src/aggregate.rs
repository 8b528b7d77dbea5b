//! Rules that count: correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`) and legacy aggregations (`| count() by x > n`)
//! as one target-independent [`Aggregate`]: what is counted, over the events of which rules,
//! grouped by which (site) fields, in which time window, and the condition on the count.
//!
//! Targets that can count (ElastAlert, ES|QL, EQL sequences) express an aggregate or refuse it
//! with the reason; the condition is always honoured or the rule refused.

use sigma::condition::{AggFunc, Aggregation};
use sigma::pipeline::ResolvedRule;
use sigma::rule::{Alias, Correlation, CorrelationType, RuleBody, Timespan};
use sigma::value::CmpOp;

use crate::Context;
use crate::error::{ConvertError, Feature};
use crate::lower;
use crate::query::Query;

/// What is computed per group.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// The number of events.
    Count,
    /// The number of distinct values of a field.
    Distinct(String),
    Sum(String),
    Avg(String),
    Min(String),
    Max(String),
    /// The number of distinct referenced rules with an event (temporal correlations).
    Rules,
}

/// The events of one referenced rule (or, for a legacy aggregation, of the rule itself).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// The reference as written in the correlation (or the rule's id or title).
    pub reference: String,
    pub rule: &'a ResolvedRule,
    /// The events of the rule: the OR of its variants' queries.
    pub query: Query,
    /// The index patterns of its variants.
    pub indices: Vec<String>,
}

/// A counting rule, ready for a target.
#[derive(Debug, Clone)]
pub struct Aggregate<'a> {
    /// `event_count`, `value_count`, ... or the legacy condition text, for messages.
    pub kind: String,
    pub measure: Measure,
    /// The events must come in the order of the sources (temporal_ordered).
    pub ordered: bool,
    pub sources: Vec<Source<'a>>,
    /// Site field names; empty: one group.
    pub group_by: Vec<String>,
    pub window: Option<Timespan>,
    /// All must hold.
    pub condition: Vec<(CmpOp, f64)>,
}

/// A variant of a detection rule: a plain query, or a legacy aggregation.
#[derive(Debug, Clone)]
pub enum Lowered<'a> {
    Plain(Query),
    Counted(Box<Aggregate<'a>>),
}

impl<'a> Aggregate<'a> {
    /// The events that are counted: the OR of the sources.
    pub fn query(&self) -> Query {
        Query::or(self.sources.iter().map(|s| s.query.clone()))
    }

    /// The index patterns of every source, without repeats.
    pub fn indices(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.sources {
            for i in &s.indices {
                if !out.contains(i) {
                    out.push(i.clone());
                }
            }
        }
        out
    }

    /// The condition as text: `gte 100`, `gt 100 and lte 200`.
    pub fn condition_text(&self) -> String {
        self.condition
            .iter()
            .map(|(op, v)| format!("{} {}", op.as_str(), crate::text::number(*v)))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// When the condition is a single lower bound on a whole number (`gt`, `gte`): the least
    /// count that meets it (`gt 3` is 4, `gte 2.5` is 3).
    pub fn least_count(&self) -> Option<i64> {
        match self.condition.as_slice() {
            [(CmpOp::Gt, v)] => Some(v.floor() as i64 + 1),
            [(CmpOp::Gte, v)] => Some(v.ceil() as i64),
            _ => None,
        }
    }

    /// The refusal of a target that cannot express this aggregate: the reason, with the kind
    /// and the condition (`event_count: gte 10`) as detail.
    pub fn refusal(&self, reason: &'static str) -> ConvertError {
        ConvertError::new(Feature::Correlation, reason).with_detail(format!(
            "{}: {}",
            self.kind,
            self.condition_text()
        ))
    }

    /// The time window, or a refusal for targets that need one.
    pub fn window(&self) -> Result<Timespan, ConvertError> {
        self.window.ok_or_else(|| {
            ConvertError::new(
                Feature::Aggregation,
                "a legacy aggregation without a timeframe counts over no window",
            )
            .with_detail(self.kind.clone())
        })
    }
}

/// One variant of a detection rule: its query, or its legacy aggregation.
pub fn lower_counted(rule: &ResolvedRule, variant: usize) -> Result<Lowered<'_>, ConvertError> {
    let v = &rule.variants[variant];
    let (query, agg) = lower::lower_variant_aggregated(&rule.rule, v)?;
    let Some(Aggregation::Function {
        func,
        field,
        group_by,
        op,
        value,
        ..
    }) = agg
    else {
        return Ok(Lowered::Plain(query));
    };
    let map = |name: &str| -> Result<String, ConvertError> {
        let names = v.fields.map(name);
        match names.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(ConvertError::new(
                Feature::Aggregation,
                "an aggregation field maps to several fields",
            )
            .with_detail(format!("{name}: {}", names.join(", ")))),
        }
    };
    let need_field = || {
        field.as_deref().ok_or_else(|| {
            ConvertError::new(
                Feature::Aggregation,
                "the aggregation function needs a field",
            )
            .with_detail(func.as_str())
        })
    };
    let measure = match func {
        AggFunc::Count => match field {
            None => Measure::Count,
            Some(f) => Measure::Distinct(map(f)?),
        },
        AggFunc::Sum => Measure::Sum(map(need_field()?)?),
        AggFunc::Avg => Measure::Avg(map(need_field()?)?),
        AggFunc::Min => Measure::Min(map(need_field()?)?),
        AggFunc::Max => Measure::Max(map(need_field()?)?),
    };
    let group_by = match group_by {
        Some(g) => vec![map(g)?],
        None => Vec::new(),
    };
    let kind = v
        .detection
        .conditions
        .first()
        .map_or_else(|| "aggregation".to_owned(), |c| c.text.clone());
    Ok(Lowered::Counted(Box::new(Aggregate {
        kind,
        measure,
        ordered: false,
        sources: vec![Source {
            reference: rule
                .rule
                .id()
                .unwrap_or_else(|| rule.rule.title())
                .to_owned(),
            rule,
            query,
            indices: v.indices.clone(),
        }],
        group_by,
        window: v.detection.timeframe.as_ref().map(|t| t.value),
        condition: vec![(*op, *value)],
    })))
}

/// A correlation rule with the rules it refers to (from the run's context).
pub fn from_correlation<'a>(
    rule: &ResolvedRule,
    cx: &Context<'a>,
) -> Result<Aggregate<'a>, ConvertError> {
    let RuleBody::Correlation(c) = &rule.rule.body else {
        return Err(ConvertError::new(
            Feature::Structure,
            "not a correlation rule",
        ));
    };
    let mut sources = Vec::with_capacity(c.rules.len());
    for reference in &c.rules {
        sources.push(source(&reference.value, cx)?);
    }
    let measure = match c.kind {
        CorrelationType::EventCount => Measure::Count,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered => Measure::Rules,
        CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg => {
            let [field] = c.field.as_slice() else {
                return Err(ConvertError::new(
                    Feature::Correlation,
                    "the correlation's condition names several fields",
                )
                .with_detail(c.field.join(", ")));
            };
            let f = map_across(field, &sources, &[])?;
            match c.kind {
                CorrelationType::ValueCount => Measure::Distinct(f),
                CorrelationType::ValueSum => Measure::Sum(f),
                _ => Measure::Avg(f),
            }
        }
        CorrelationType::ValuePercentile => {
            return Err(ConvertError::new(
                Feature::Correlation,
                "value_percentile has no counterpart in the counting targets",
            ));
        }
    };
    let group_by = c
        .group_by
        .iter()
        .map(|g| map_across(g, &sources, &c.aliases))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Aggregate {
        kind: c.kind.as_str().to_owned(),
        measure,
        ordered: c.kind == CorrelationType::TemporalOrdered,
        sources,
        group_by,
        window: Some(c.timespan.value),
        condition: c.condition.clone(),
    })
}

fn source<'a>(reference: &str, cx: &Context<'a>) -> Result<Source<'a>, ConvertError> {
    let refuse = |reason: &'static str| {
        Err(ConvertError::new(Feature::Correlation, reason).with_detail(reference.to_owned()))
    };
    let Some(r) = cx.lookup(reference) else {
        return refuse(
            "the correlation refers to a rule that is not among the converted rules (or that a pipeline refused)",
        );
    };
    match &r.rule.body {
        RuleBody::Correlation(_) => {
            return refuse("a correlation of correlations cannot be expressed as one query");
        }
        RuleBody::Filter(_) => return refuse("the correlation refers to a filter rule"),
        RuleBody::Detection(_) => {}
    }
    if r.variants.is_empty() {
        return refuse("the pipelines map a referenced rule to no log source");
    }
    let mut queries = Vec::with_capacity(r.variants.len());
    let mut indices: Vec<String> = Vec::new();
    for v in &r.variants {
        queries.push(lower::lower_variant(&r.rule, v).map_err(|e| {
            let detail = format!("in referenced rule {reference}: {}", e.reason);
            ConvertError {
                detail: Some(match &e.detail {
                    Some(d) => format!("{detail} ({d})"),
                    None => detail,
                }),
                ..e
            }
        })?);
        for i in &v.indices {
            if !indices.contains(i) {
                indices.push(i.clone());
            }
        }
    }
    Ok(Source {
        reference: reference.to_owned(),
        rule: r,
        query: Query::or(queries),
        indices,
    })
}

/// The one site name of a correlation field in every source and log source (through the
/// correlation's aliases for group-by fields).
fn map_across(
    name: &str,
    sources: &[Source<'_>],
    aliases: &[Alias],
) -> Result<String, ConvertError> {
    let alias = aliases.iter().find(|a| a.name == name);
    let mut names: Vec<String> = Vec::new();
    for s in sources {
        let field = match alias {
            None => name.to_owned(),
            Some(a) => {
                let r = &s.rule.rule;
                let hit = a.fields.iter().find(|(reference, _)| {
                    reference == &s.reference
                        || Some(reference.as_str()) == r.id()
                        || r.meta.name.as_ref().is_some_and(|n| &n.value == reference)
                });
                match hit {
                    Some((_, f)) => f.clone(),
                    None => {
                        return Err(ConvertError::new(
                            Feature::Correlation,
                            "an alias names no field for one of the referenced rules",
                        )
                        .with_detail(format!("{name}: {}", s.reference)));
                    }
                }
            }
        };
        for v in &s.rule.variants {
            for m in v.fields.map(&field) {
                if !names.contains(&m) {
                    names.push(m);
                }
            }
        }
    }
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(ConvertError::new(
            Feature::Correlation,
            "a correlation field maps to different fields in the referenced rules or log sources",
        )
        .with_detail(format!("{name}: {}", names.join(", ")))),
    }
}

/// Is this rule a correlation?
pub fn is_correlation(rule: &ResolvedRule) -> Option<&Correlation> {
    match &rule.rule.body {
        RuleBody::Correlation(c) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(condition: Vec<(CmpOp, f64)>) -> Aggregate<'static> {
        Aggregate {
            kind: "event_count".into(),
            measure: Measure::Count,
            ordered: false,
            sources: Vec::new(),
            group_by: Vec::new(),
            window: None,
            condition,
        }
    }

    #[test]
    fn lower_bounds() {
        assert_eq!(agg(vec![(CmpOp::Gt, 3.0)]).least_count(), Some(4));
        assert_eq!(agg(vec![(CmpOp::Gte, 3.0)]).least_count(), Some(3));
        assert_eq!(agg(vec![(CmpOp::Gte, 2.5)]).least_count(), Some(3));
        assert_eq!(agg(vec![(CmpOp::Gt, 2.5)]).least_count(), Some(3));
        assert_eq!(agg(vec![(CmpOp::Lt, 3.0)]).least_count(), None);
        assert_eq!(agg(vec![(CmpOp::Eq, 3.0)]).least_count(), None);
        assert_eq!(
            agg(vec![(CmpOp::Gt, 5.0), (CmpOp::Lte, 10.0)]).least_count(),
            None
        );
        assert_eq!(
            agg(vec![(CmpOp::Gt, 5.0), (CmpOp::Lte, 10.0)]).condition_text(),
            "gt 5 and lte 10"
        );
        assert!(agg(vec![]).window().is_err());
    }
}
