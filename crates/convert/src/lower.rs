//! From a resolved rule's variant to a [`Query`]: the condition with `of` / `them` spelled
//! out, selections as AND/OR of items, items as OR/AND of their values, the variant's log-source
//! conditions ANDed in. Target-independent refusals (aggregations, correlation rules,
//! unexpanded placeholders, ...) happen here.

use std::collections::HashMap;

use sigma::condition::{Aggregation, Expr, Quantifier, of_targets};
use sigma::modifier::Link;
use sigma::pipeline::Variant;
use sigma::rule::{Detection, DetectionItem, Rule, RuleBody, SelectionNode};
use sigma::value::{Part, SigmaString, Value};

use crate::error::{ConvertError, Feature};
use crate::query::{Pred, Query};

/// The most combinations `N of ...` may expand to.
const MAX_COMBINATIONS: usize = 256;

/// Check the rule kind: only detection rules become queries.
pub fn check_rule_kind(rule: &Rule) -> Result<(), ConvertError> {
    match &rule.body {
        RuleBody::Detection(_) => Ok(()),
        RuleBody::Correlation(c) => Err(ConvertError::new(
            Feature::Correlation,
            "a correlation rule counts or orders events over time; a single query cannot express it",
        )
        .with_detail(c.kind.as_str())),
        RuleBody::Filter(_) => Err(ConvertError::new(
            Feature::Filter,
            "a filter rule is not a query of its own; it is applied to the rules it references",
        )),
    }
}

/// The query of one variant: its conditions AND its detection.
pub fn lower_variant(rule: &Rule, variant: &Variant) -> Result<Query, ConvertError> {
    check_rule_kind(rule)?;
    let mut parts = Vec::with_capacity(variant.conditions.len() + 1);
    for item in &variant.conditions {
        parts.push(lower_item(item)?);
    }
    parts.push(lower_detection(&variant.detection)?);
    Ok(Query::and(parts))
}

/// The query of a variant whose condition may carry a legacy aggregation (`| count() by x >
/// n`): the query of the events that are counted, and the aggregation. Only a single condition
/// may aggregate (a list mixing aggregated and plain conditions is refused).
pub fn lower_variant_aggregated<'v>(
    rule: &Rule,
    variant: &'v Variant,
) -> Result<(Query, Option<&'v Aggregation>), ConvertError> {
    check_rule_kind(rule)?;
    let d = &variant.detection;
    let aggregated = d
        .conditions
        .iter()
        .find(|c| matches!(c.parsed.aggregation, Some(Aggregation::Function { .. })));
    let Some(entry) = aggregated else {
        return Ok((lower_variant(rule, variant)?, None));
    };
    if d.conditions.len() > 1 {
        return Err(ConvertError::new(
            Feature::Aggregation,
            "a list of conditions with a legacy aggregation in one of them",
        )
        .with_detail(entry.text.clone()));
    }
    let mut parts = Vec::with_capacity(variant.conditions.len() + 1);
    for item in &variant.conditions {
        parts.push(lower_item(item)?);
    }
    let mut cx = Cx {
        d,
        names: d.selection_names(),
        cache: HashMap::new(),
    };
    parts.push(cx.expr(&entry.parsed.expr)?);
    Ok((Query::and(parts), entry.parsed.aggregation.as_ref()))
}

/// The query of a detection: the OR of its conditions.
pub fn lower_detection(d: &Detection) -> Result<Query, ConvertError> {
    let mut cx = Cx {
        d,
        names: d.selection_names(),
        cache: HashMap::new(),
    };
    let mut alts = Vec::with_capacity(d.conditions.len());
    for c in &d.conditions {
        match &c.parsed.aggregation {
            Some(Aggregation::Function { .. }) => {
                return Err(ConvertError::new(
                    Feature::Aggregation,
                    "a legacy aggregation counts events over time; a single query cannot express it (an alerting target such as elastalert can)",
                )
                .with_detail(c.text.clone()));
            }
            Some(Aggregation::Near { .. }) => {
                return Err(ConvertError::new(
                    Feature::Near,
                    "'near' relates several events in a time window; a single query cannot express it",
                )
                .with_detail(c.text.clone()));
            }
            None => {}
        }
        alts.push(cx.expr(&c.parsed.expr)?);
    }
    Ok(Query::or(alts))
}

struct Cx<'a> {
    d: &'a Detection,
    names: Vec<&'a str>,
    /// Selections named more than once: their query, kept from the second time on (most
    /// selections are named once, and keeping every query would copy each).
    cache: HashMap<&'a str, Option<Query>>,
}

impl<'a> Cx<'a> {
    fn selection(&mut self, name: &str) -> Result<Query, ConvertError> {
        let sel = self.d.selection(name).ok_or_else(|| {
            ConvertError::new(
                Feature::Structure,
                "the condition names a selection that does not exist",
            )
            .with_detail(name)
        })?;
        match self.cache.get(sel.name.as_str()) {
            Some(Some(q)) => Ok(q.clone()),
            Some(None) => {
                let q = lower_node(&sel.node)?;
                self.cache.insert(&sel.name, Some(q.clone()));
                Ok(q)
            }
            None => {
                self.cache.insert(&sel.name, None);
                lower_node(&sel.node)
            }
        }
    }

    fn expr(&mut self, e: &'a Expr) -> Result<Query, ConvertError> {
        Ok(match e {
            Expr::Ident { name, .. } => self.selection(name)?,
            Expr::Not(inner, _) => Query::not(self.expr(inner)?),
            Expr::And(es, _) => Query::and(
                es.iter()
                    .map(|e| self.expr(e))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Expr::Or(es, _) => Query::or(
                es.iter()
                    .map(|e| self.expr(e))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Expr::Of {
                quantifier, target, ..
            } => {
                let targets: Vec<String> = of_targets(target, &self.names)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                let qs = targets
                    .iter()
                    .map(|n| self.selection(n))
                    .collect::<Result<Vec<_>, _>>()?;
                match quantifier {
                    Quantifier::Any => Query::or(qs),
                    Quantifier::All => Query::and(qs),
                    Quantifier::AtLeast(n) => at_least(*n as usize, qs, e)?,
                }
            }
        })
    }
}

/// `N of` as an OR of ANDs of every N-subset.
fn at_least(n: usize, qs: Vec<Query>, e: &Expr) -> Result<Query, ConvertError> {
    if n == 0 {
        return Ok(Query::All);
    }
    if n > qs.len() {
        return Ok(Query::Nothing);
    }
    let mut count: usize = 1;
    for i in 0..n {
        count = count.saturating_mul(qs.len() - i) / (i + 1);
    }
    if count > MAX_COMBINATIONS {
        return Err(ConvertError::new(
            Feature::Quantifier,
            "'N of' has too many combinations to spell out as a query",
        )
        .with_detail(format!("{e}: {count} combinations")));
    }
    let mut out = Vec::with_capacity(count);
    let mut idx: Vec<usize> = (0..n).collect();
    loop {
        out.push(Query::and(idx.iter().map(|&i| qs[i].clone())));
        // Next combination in lexicographic order.
        let mut i = n;
        loop {
            if i == 0 {
                return Ok(Query::or(out));
            }
            i -= 1;
            if idx[i] < qs.len() - n + i {
                idx[i] += 1;
                for j in i + 1..n {
                    idx[j] = idx[j - 1] + 1;
                }
                break;
            }
        }
    }
}

/// Maps are AND, lists are OR.
pub fn lower_node(node: &SelectionNode) -> Result<Query, ConvertError> {
    Ok(match node {
        SelectionNode::Item(i) => lower_item(i)?,
        SelectionNode::And(ns) => {
            Query::and(ns.iter().map(lower_node).collect::<Result<Vec<_>, _>>()?)
        }
        SelectionNode::Or(ns) => {
            Query::or(ns.iter().map(lower_node).collect::<Result<Vec<_>, _>>()?)
        }
    })
}

/// One detection item: any (or, with `all`, every) value matches; `neq` negates the result.
pub fn lower_item(item: &DetectionItem) -> Result<Query, ConvertError> {
    let field = item.field.as_deref();
    let mut qs = Vec::with_capacity(item.values.len());
    for v in &item.values {
        qs.push(lower_value(field, &v.value, item.flags.cased).map_err(|e| e.with_field(field))?);
    }
    let q = match item.flags.link {
        Link::Any => Query::or(qs),
        Link::All => Query::and(qs),
    };
    Ok(if item.flags.negated { Query::not(q) } else { q })
}

fn lower_value(field: Option<&str>, v: &Value, cased: bool) -> Result<Query, ConvertError> {
    let pred = match v {
        Value::AnyOf(vs) => {
            return Ok(Query::or(
                vs.iter()
                    .map(|v| lower_value(field, v, cased))
                    .collect::<Result<Vec<_>, _>>()?,
            ));
        }
        Value::Null => return Ok(Query::not(Query::leaf(field, Pred::Exists))),
        Value::Exists(true) => Pred::Exists,
        Value::Exists(false) => return Ok(Query::not(Query::leaf(field, Pred::Exists))),
        Value::Str(s) => {
            if let Some(name) = s.placeholders().next() {
                return Err(ConvertError::new(
                    Feature::Placeholder,
                    "the value has a placeholder that no pipeline expanded",
                )
                .with_detail(format!("%{name}%")));
            }
            let mut s = s.clone();
            if field.is_none() {
                s.prepend_any();
                s.append_any();
            }
            Pred::Str { value: s, cased }
        }
        // A keyword compares the written text with the text of every field.
        Value::Num(n) if field.is_none() => Pred::Str {
            value: contains(&n.text),
            cased,
        },
        Value::Bool(b) if field.is_none() => Pred::Str {
            value: contains(if *b { "true" } else { "false" }),
            cased,
        },
        Value::Num(n) => Pred::Num(n.clone()),
        Value::Bool(b) => Pred::Bool(*b),
        Value::Regex(r) => Pred::Regex(r.clone()),
        Value::Cidr(c) => Pred::Cidr(*c),
        Value::Cmp(op, n) => Pred::Cmp(*op, n.clone()),
        Value::FieldRef(other, mode) => Pred::FieldRef {
            other: other.clone(),
            mode: *mode,
            cased,
        },
        Value::TimePart(p, n) => Pred::TimePart(*p, *n),
    };
    Ok(Query::leaf(field, pred))
}

fn contains(text: &str) -> SigmaString {
    SigmaString::from_parts([Part::AnyChars, Part::Lit(text.to_owned()), Part::AnyChars])
}
