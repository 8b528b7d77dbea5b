//! From a rule set to correlation specs: reference resolution (by id or name), cycle detection,
//! aliases, legacy aggregations, the fields each base rule must report, and `generate`.

use std::collections::{BTreeSet, HashMap};

use sigma::condition::{AggFunc, Aggregation};
use sigma::rule::{Correlation, CorrelationType, Detection, RuleBody};
use sigma::ruleset::RuleSet;
use sigma::value::CmpOp;

use super::{Inputs, Kind, RuleError};

/// Why a correlation or legacy aggregation rule cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CorrelationError {
    #[error("no loaded rule has the id or name '{0}'")]
    UnknownReference(String),
    #[error("'{0}' is a filter, not a rule")]
    ReferencesFilter(String),
    #[error(
        "'{0}' has a legacy aggregation ('| count()' or '| near') in its condition; a correlation cannot refer to it"
    )]
    ReferencesAggregation(String),
    #[error("the correlation refers back to itself through its rules")]
    Cycle,
    #[error("the referenced correlation '{0}' cannot run")]
    ReferenceFailed(String),
    #[error("the correlation refers to no rule")]
    NoRules,
    #[error("the correlation has no condition")]
    NoCondition,
    #[error("'{0}' needs 'field' in its condition")]
    MissingField(CorrelationType),
    #[error("'{0}()' needs a field to aggregate")]
    AggregationWithoutField(&'static str),
    #[error(
        "an aggregation ('|') in a list of several conditions is not supported; use one condition"
    )]
    AggregationInConditionList,
    #[error("'near' names '{0}', which is not a selection of the rule")]
    UnknownSelection(String),
    #[error("'near' can name at most 64 selections")]
    TooManySelections,
}

/// Where a value of a hit comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// Index into [`super::Hit::values`] of a base rule.
    Value(usize),
    /// A group value of an inner correlation's detection, by name.
    Group(String),
}

/// How a correlation reads the hits of one referenced rule.
#[derive(Debug, Clone, Default)]
pub(crate) struct InputSpec {
    pub group: Vec<Source>,
    pub field: Vec<Source>,
    /// The referenced rule is a correlation: its detections are the hits.
    pub derived: bool,
}

/// What is aggregated over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agg {
    Count,
    Distinct,
    Sum,
    Avg,
    Min,
    Max,
    Percentile,
    Temporal,
    Ordered,
}

impl Agg {
    pub fn numeric(self) -> bool {
        matches!(self, Agg::Sum | Agg::Avg | Agg::Min | Agg::Max)
    }

    pub fn keyed(self) -> bool {
        matches!(self, Agg::Distinct | Agg::Percentile)
    }
}

/// When a window is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// gt/gte: checked at each hit over the window ending at the group's latest hit.
    Sliding(i64),
    /// Decided when the window (from the group's first hit) closes; `None`: at the end of input.
    Close(Option<i64>),
}

#[derive(Debug, Clone)]
pub(crate) enum SpecBody {
    Window {
        agg: Agg,
        mode: Mode,
        condition: Vec<(CmpOp, f64)>,
        /// `rules` in order (temporal_ordered).
        sequence: Vec<usize>,
    },
    Near {
        window: i64,
        /// Bits of [`Inputs::selections`] that must be seen / must not be seen.
        positive: u64,
        negative: u64,
    },
}

/// One compiled correlation or legacy rule.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub rule: usize,
    pub kind: Kind,
    pub body: SpecBody,
    pub group_names: Vec<String>,
    pub field_names: Vec<String>,
    pub inputs: HashMap<usize, InputSpec>,
    /// Report its detections (false: an inner correlation without `generate`).
    pub emit: bool,
}

impl Spec {
    pub fn holds(&self, value: f64) -> bool {
        match &self.body {
            SpecBody::Window { condition, .. } => {
                condition.iter().all(|(op, v)| op.holds(value, *v))
            }
            SpecBody::Near { .. } => true,
        }
    }
}

pub(crate) struct Compiled {
    /// Inner correlations before the outer ones that use them.
    pub specs: Vec<Spec>,
    pub routes: HashMap<usize, Vec<usize>>,
    pub inputs: HashMap<usize, Inputs>,
    pub errors: Vec<RuleError>,
    pub suppressed: BTreeSet<usize>,
}

fn millis(seconds: u64) -> i64 {
    i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}

fn has_aggregation(d: &Detection) -> bool {
    d.conditions.iter().any(|c| c.parsed.aggregation.is_some())
}

/// A correlation before its field names are turned into value slots.
struct Draft {
    spec: Spec,
    /// Per referenced rule: resolved group-by and condition field names.
    names: Vec<(usize, Vec<String>, Vec<String>)>,
    /// Bases that are correlations (their values come from detection groups).
    correlation_refs: Vec<usize>,
    selections: Vec<String>,
}

pub(crate) fn compile(set: &RuleSet) -> Compiled {
    let mut errors: Vec<RuleError> = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();

    // Legacy aggregations first: nothing can refer to them.
    for (i, rule) in set.rules.iter().enumerate() {
        if let RuleBody::Detection(d) = &rule.body
            && has_aggregation(&d.detection)
        {
            match legacy(i, &d.detection) {
                Ok(draft) => drafts.push(draft),
                Err(error) => errors.push(RuleError { rule: i, error }),
            }
        }
    }

    // Correlations: local checks, then topological order (Kahn) with failure propagation.
    let correlations: Vec<usize> = (0..set.len())
        .filter(|&i| matches!(set.rules[i].body, RuleBody::Correlation(_)))
        .collect();
    let mut targets: HashMap<usize, Vec<(String, usize)>> = HashMap::new();
    let mut failed: HashMap<usize, CorrelationError> = HashMap::new();
    for &i in &correlations {
        let RuleBody::Correlation(c) = &set.rules[i].body else {
            continue;
        };
        match local_check(set, c) {
            Ok(t) => {
                targets.insert(i, t);
            }
            Err(e) => {
                failed.insert(i, e);
            }
        }
    }
    let mut done: BTreeSet<usize> = failed.keys().copied().collect();
    let mut order: Vec<usize> = Vec::new();
    loop {
        let ready: Vec<usize> = correlations
            .iter()
            .copied()
            .filter(|i| !done.contains(i))
            .filter(|i| {
                targets.get(i).is_some_and(|ts| {
                    ts.iter().all(|(_, j)| {
                        !matches!(set.rules[*j].body, RuleBody::Correlation(_)) || done.contains(j)
                    })
                })
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        for i in ready {
            done.insert(i);
            let ts = targets.get(&i).cloned().unwrap_or_default();
            if let Some((name, _)) = ts.iter().find(|(_, j)| failed.contains_key(j)) {
                failed.insert(i, CorrelationError::ReferenceFailed(name.clone()));
            } else {
                order.push(i);
            }
        }
    }
    // What is left waits on a cycle: either it is in one or it depends on one.
    for &i in &correlations {
        if done.contains(&i) {
            continue;
        }
        let error = if reaches(&targets, i, i) {
            CorrelationError::Cycle
        } else {
            let name = targets
                .get(&i)
                .and_then(|ts| {
                    ts.iter()
                        .find(|(_, j)| !done.contains(j) || failed.contains_key(j))
                })
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            CorrelationError::ReferenceFailed(name)
        };
        failed.insert(i, error);
    }
    for (&rule, error) in &failed {
        errors.push(RuleError {
            rule,
            error: error.clone(),
        });
    }
    errors.sort_by_key(|e| e.rule);

    // generate: a referenced rule is suppressed unless some correlation that runs wants it.
    let mut wanted: BTreeSet<usize> = BTreeSet::new();
    let mut unwanted: BTreeSet<usize> = BTreeSet::new();
    for &i in &order {
        let RuleBody::Correlation(c) = &set.rules[i].body else {
            continue;
        };
        for (_, j) in targets.get(&i).into_iter().flatten() {
            if c.generate {
                wanted.insert(*j);
            } else {
                unwanted.insert(*j);
            }
        }
    }
    let mut suppressed: BTreeSet<usize> = unwanted.difference(&wanted).copied().collect();
    for d in &drafts {
        suppressed.insert(d.spec.rule);
    }

    for &i in &order {
        let RuleBody::Correlation(c) = &set.rules[i].body else {
            continue;
        };
        let ts = targets.get(&i).cloned().unwrap_or_default();
        let mut draft = correlation(set, i, c, &ts);
        draft.spec.emit = !suppressed.contains(&i);
        drafts.push(draft);
    }

    // Value slots of base rules, routes.
    let mut inputs: HashMap<usize, Inputs> = HashMap::new();
    let mut routes: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut specs = Vec::with_capacity(drafts.len());
    for (pos, draft) in drafts.into_iter().enumerate() {
        let Draft {
            mut spec,
            names,
            correlation_refs,
            selections,
        } = draft;
        for (rule, group, field) in names {
            let input = if correlation_refs.contains(&rule) {
                InputSpec {
                    group: group.into_iter().map(Source::Group).collect(),
                    field: field.into_iter().map(Source::Group).collect(),
                    derived: true,
                }
            } else {
                let needs = inputs.entry(rule).or_default();
                let mut slot = |name: String| {
                    let i = match needs.fields.iter().position(|f| *f == name) {
                        Some(i) => i,
                        None => {
                            needs.fields.push(name);
                            needs.fields.len() - 1
                        }
                    };
                    Source::Value(i)
                };
                InputSpec {
                    group: group.into_iter().map(&mut slot).collect(),
                    field: field.into_iter().map(&mut slot).collect(),
                    derived: false,
                }
            };
            spec.inputs.insert(rule, input);
            let r = routes.entry(rule).or_default();
            if !r.contains(&pos) {
                r.push(pos);
            }
        }
        if !selections.is_empty() {
            inputs.entry(spec.rule).or_default().selections = selections;
        }
        specs.push(spec);
    }

    Compiled {
        specs,
        routes,
        inputs,
        errors,
        suppressed,
    }
}

/// Does `from` reach `to` through correlation references?
fn reaches(targets: &HashMap<usize, Vec<(String, usize)>>, from: usize, to: usize) -> bool {
    let mut stack: Vec<usize> = targets
        .get(&from)
        .map(|ts| ts.iter().map(|(_, j)| *j).collect())
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    while let Some(j) = stack.pop() {
        if j == to {
            return true;
        }
        if seen.insert(j) {
            stack.extend(targets.get(&j).into_iter().flatten().map(|(_, k)| *k));
        }
    }
    false
}

/// Checks that need only this correlation and the set: references resolve to rules that can be
/// correlated, the condition and fields are there. Returns the resolved references.
fn local_check(set: &RuleSet, c: &Correlation) -> Result<Vec<(String, usize)>, CorrelationError> {
    if c.rules.is_empty() {
        return Err(CorrelationError::NoRules);
    }
    if c.condition.is_empty() {
        return Err(CorrelationError::NoCondition);
    }
    if c.kind.needs_field() && c.field.is_empty() {
        return Err(CorrelationError::MissingField(c.kind));
    }
    let mut out = Vec::new();
    for r in &c.rules {
        let Some(j) = set.lookup(&r.value) else {
            return Err(CorrelationError::UnknownReference(r.value.clone()));
        };
        match &set.rules[j].body {
            RuleBody::Filter(_) => return Err(CorrelationError::ReferencesFilter(r.value.clone())),
            RuleBody::Detection(d) if has_aggregation(&d.detection) => {
                return Err(CorrelationError::ReferencesAggregation(r.value.clone()));
            }
            _ => {}
        }
        out.push((r.value.clone(), j));
    }
    Ok(out)
}

/// The field that plays the role of `name` in the events of rule `j`.
fn resolve_alias(set: &RuleSet, c: &Correlation, j: usize, name: &str) -> String {
    let rule = &set.rules[j];
    for alias in c.aliases.iter().filter(|a| a.name == name) {
        for (reference, field) in &alias.fields {
            let same = set.lookup(reference) == Some(j)
                || rule.id() == Some(reference.as_str())
                || rule
                    .meta
                    .name
                    .as_ref()
                    .is_some_and(|n| n.value == *reference);
            if same {
                return field.clone();
            }
        }
    }
    name.to_owned()
}

fn correlation(set: &RuleSet, i: usize, c: &Correlation, targets: &[(String, usize)]) -> Draft {
    let agg = match c.kind {
        CorrelationType::EventCount => Agg::Count,
        CorrelationType::ValueCount => Agg::Distinct,
        CorrelationType::Temporal => Agg::Temporal,
        CorrelationType::TemporalOrdered => Agg::Ordered,
        CorrelationType::ValueSum => Agg::Sum,
        CorrelationType::ValueAvg => Agg::Avg,
        CorrelationType::ValuePercentile => Agg::Percentile,
    };
    let span = millis(c.timespan.value.seconds);
    let mode = if agg != Agg::Percentile
        && c.condition
            .iter()
            .all(|(op, _)| matches!(op, CmpOp::Gt | CmpOp::Gte))
    {
        Mode::Sliding(span)
    } else {
        Mode::Close(Some(span))
    };
    let mut names = Vec::new();
    let mut seen = BTreeSet::new();
    for (_, j) in targets {
        if !seen.insert(*j) {
            continue;
        }
        let group = c
            .group_by
            .iter()
            .map(|g| resolve_alias(set, c, *j, g))
            .collect();
        let field = if agg.keyed() || agg.numeric() {
            c.field
                .iter()
                .map(|f| resolve_alias(set, c, *j, f))
                .collect()
        } else {
            Vec::new()
        };
        names.push((*j, group, field));
    }
    let correlation_refs = targets
        .iter()
        .map(|(_, j)| *j)
        .filter(|j| matches!(set.rules[*j].body, RuleBody::Correlation(_)))
        .collect();
    Draft {
        spec: Spec {
            rule: i,
            kind: Kind::Correlation(c.kind),
            body: SpecBody::Window {
                agg,
                mode,
                condition: c.condition.clone(),
                sequence: targets.iter().map(|(_, j)| *j).collect(),
            },
            group_names: c.group_by.clone(),
            field_names: if agg.keyed() || agg.numeric() {
                c.field.clone()
            } else {
                Vec::new()
            },
            inputs: HashMap::new(),
            emit: true,
        },
        names,
        correlation_refs,
        selections: Vec::new(),
    }
}

fn legacy(i: usize, d: &Detection) -> Result<Draft, CorrelationError> {
    if d.conditions.len() > 1 {
        return Err(CorrelationError::AggregationInConditionList);
    }
    let Some(aggregation) = d
        .conditions
        .first()
        .and_then(|c| c.parsed.aggregation.as_ref())
    else {
        return Err(CorrelationError::AggregationInConditionList);
    };
    let span = d.timeframe.as_ref().map(|t| millis(t.value.seconds));
    match aggregation {
        Aggregation::Function {
            func,
            field,
            group_by,
            op,
            value,
            ..
        } => {
            let agg = match (func, field) {
                (AggFunc::Count, None) => Agg::Count,
                (AggFunc::Count, Some(_)) => Agg::Distinct,
                (AggFunc::Sum, Some(_)) => Agg::Sum,
                (AggFunc::Avg, Some(_)) => Agg::Avg,
                (AggFunc::Min, Some(_)) => Agg::Min,
                (AggFunc::Max, Some(_)) => Agg::Max,
                (f, None) => return Err(CorrelationError::AggregationWithoutField(f.as_str())),
            };
            let mode = match span {
                Some(s) if matches!(op, CmpOp::Gt | CmpOp::Gte) => Mode::Sliding(s),
                other => Mode::Close(other),
            };
            let group: Vec<String> = group_by.iter().cloned().collect();
            let fields: Vec<String> = field.iter().cloned().collect();
            Ok(Draft {
                spec: Spec {
                    rule: i,
                    kind: Kind::Aggregation(*func),
                    body: SpecBody::Window {
                        agg,
                        mode,
                        condition: vec![(*op, *value)],
                        sequence: vec![i],
                    },
                    group_names: group.clone(),
                    field_names: fields.clone(),
                    inputs: HashMap::new(),
                    emit: true,
                },
                names: vec![(i, group, fields)],
                correlation_refs: Vec::new(),
                selections: Vec::new(),
            })
        }
        Aggregation::Near { items, .. } => {
            // Without a timeframe, an anchor's window is the rest of the input.
            let window = span.unwrap_or(i64::MAX);
            let mut selections: Vec<String> = Vec::new();
            let (mut positive, mut negative) = (0u64, 0u64);
            for item in items {
                if d.selection(&item.ident).is_none() {
                    return Err(CorrelationError::UnknownSelection(item.ident.clone()));
                }
                let bit = match selections.iter().position(|s| *s == item.ident) {
                    Some(b) => b,
                    None => {
                        selections.push(item.ident.clone());
                        selections.len() - 1
                    }
                };
                if bit >= 64 {
                    return Err(CorrelationError::TooManySelections);
                }
                if item.negated {
                    negative |= 1 << bit;
                } else {
                    positive |= 1 << bit;
                }
            }
            Ok(Draft {
                spec: Spec {
                    rule: i,
                    kind: Kind::Near,
                    body: SpecBody::Near {
                        window,
                        positive,
                        negative,
                    },
                    group_names: Vec::new(),
                    field_names: Vec::new(),
                    inputs: HashMap::new(),
                    emit: true,
                },
                names: vec![(i, Vec::new(), Vec::new())],
                correlation_refs: Vec::new(),
                selections,
            })
        }
    }
}
