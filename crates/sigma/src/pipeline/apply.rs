//! Applying a chain of pipelines to a rule: the one algorithm behind queries and local matching.
//!
//! The rule starts as one working variant (its detection, its log source, no conditions). Items
//! run in chain order; a log-source item may split a variant in several (Sysmon and Security
//! 4688). Field renames apply to the detection and to the conditions added so far, so a
//! condition written with Sigma names (`EventID: 1`) is renamed by the field maps that follow
//! (`event.code: 1`), as in sigmac and pySigma.

use std::sync::{Arc, Mutex};

use super::error::{ApplyError, PipelineError};
use super::model::{
    Action, CaseWhen, CondSpec, FieldCase, FieldFilter, FieldMap, FieldTarget, Format, Item,
    ItemFilter, LogSources, LsKey, LsTriple, Pipeline, RuleCond, RuleTest, Unmapped, ValueTest,
};
use super::resolved::{
    Change, FieldMapper, IntoSharedRule, NameStep, NotApplicable, ResolvedRule, Variant, run_steps,
};
use crate::condition::{Condition, Expr};
use crate::hash::{FastMap as HashMap, FastSet as HashSet};
use crate::modifier::{self, RawValue};
use crate::rule::{
    ConditionEntry, Detection, DetectionItem, Rule, RuleBody, Selection, SelectionNode, Spanned,
};
use crate::span::Span;
use crate::value::{Part, SigmaString, Value};

/// Pipelines applied one after the other.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub pipelines: Vec<Pipeline>,
    /// The items in the order they run: (pipeline index, item index). Usually the items of each
    /// pipeline in turn; consecutive sigmac configurations run all their log-source items
    /// first, then their field maps, as sigmac chained them.
    pub order: Vec<(usize, usize)>,
    maps: MapCache,
    /// Whether resolved variants list what each item changed ([`Variant::changes`]).
    describe: bool,
}

/// Field maps as resolved for the rules so far, shared between rules: a map of a hundred
/// fields would otherwise be copied for every rule and variant. A map resolves the same way for
/// every rule that picks the same targets in its `cases` entries (usually all of them).
#[derive(Debug, Default)]
struct MapCache(Mutex<HashMap<usize, Vec<ResolvedMap>>>);

/// The targets chosen in a map's `cases` entries (in entry order), and the map they give.
type ResolvedMap = (Vec<Option<Vec<String>>>, Arc<HashMap<String, Vec<String>>>);

impl Clone for MapCache {
    fn clone(&self) -> Self {
        MapCache::default()
    }
}

impl Chain {
    /// Chain pipelines in the given order (the command-line order). Consecutive sigmac
    /// configurations must come in increasing `order` (sigmac refused anything else).
    pub fn new(pipelines: Vec<Pipeline>) -> Result<Chain, PipelineError> {
        let mut order = Vec::new();
        let mut i = 0;
        while i < pipelines.len() {
            if pipelines[i].format != Format::Sigmac {
                order.extend((0..pipelines[i].items.len()).map(|j| (i, j)));
                i += 1;
                continue;
            }
            // A run of sigmac configurations.
            let start = i;
            while i < pipelines.len() && pipelines[i].format == Format::Sigmac {
                i += 1;
            }
            let mut last: Option<(i64, usize)> = None;
            for (k, p) in pipelines.iter().enumerate().take(i).skip(start) {
                if let Some(o) = p.order {
                    if let Some((prev, pk)) = last
                        && o <= prev
                    {
                        let text = p.source.as_ref().map_or("", |s| &s.text);
                        let span = p.order_span;
                        let d = crate::diagnostic::Diagnostic::error(
                            "pipeline-order",
                            span,
                            format!(
                                "sigmac configurations must be chained in increasing 'order': \
                                 this one has order {o}, after {} with order {prev}",
                                pipelines[pk].name
                            ),
                        )
                        .with_help(
                            "give the configurations in the order of their 'order' keys \
                             (generic log-source rewrites first, then the backend's mapping)",
                        );
                        return Err(PipelineError::new(&p.name, text, vec![d]));
                    }
                    last = Some((o, k));
                }
            }
            for (k, p) in pipelines.iter().enumerate().take(i).skip(start) {
                for (j, item) in p.items.iter().enumerate() {
                    if matches!(item.action, Action::LogSources(_)) {
                        order.push((k, j));
                    }
                }
            }
            for (k, p) in pipelines.iter().enumerate().take(i).skip(start) {
                for (j, item) in p.items.iter().enumerate() {
                    if !matches!(item.action, Action::LogSources(_)) {
                        order.push((k, j));
                    }
                }
            }
        }
        Ok(Chain {
            pipelines,
            order,
            maps: MapCache::default(),
            describe: true,
        })
    }

    /// Resolve without describing the changes: [`Variant::changes`] stays empty. Writing
    /// them (a line per renamed field, per condition added) is a tenth of resolving a rule
    /// set, wasted where no one reads them (hunting, converting).
    pub fn without_descriptions(mut self) -> Chain {
        self.describe = false;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.pipelines.is_empty()
    }

    /// The pipeline names joined with ` + `.
    pub fn name(&self) -> String {
        self.pipelines
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// Apply the chain to a rule. Pass the rule shared (`&Arc<Rule>`) to keep one copy of it
    /// however many chains resolve it; a borrowed `&Rule` is copied (see [`IntoSharedRule`]).
    pub fn apply(&self, rule: impl IntoSharedRule) -> Result<ResolvedRule, ApplyError> {
        let (variants, skipped) = self.variants(rule.rule())?;
        Ok(ResolvedRule {
            rule: rule.into_shared(),
            variants,
            skipped,
        })
    }

    /// Apply the chain to a rule that the caller owns: the variants, and why the rule does not
    /// apply when it has none (see [`ResolvedRule::skipped`]). [`Chain::apply`] without the
    /// copy of the rule: `ResolvedRule { rule, variants, skipped }`.
    pub fn variants(
        &self,
        rule: &Rule,
    ) -> Result<(Vec<Variant>, Option<NotApplicable>), ApplyError> {
        let detection = match &rule.body {
            RuleBody::Detection(d) => &d.detection,
            RuleBody::Filter(f) => &f.detection,
            RuleBody::Correlation(_) => return Ok((Vec::new(), None)),
        };
        let ls = rule.logsource().map(triple).unwrap_or_default();
        let mut works = vec![Work {
            label: None,
            ls: ls.clone(),
            indices: Vec::new(),
            conds: Vec::new(),
            extra: Vec::new(),
            detection: detection.clone(),
            steps: Vec::new(),
            changes: Vec::new(),
            applied: HashSet::default(),
            coverage: HashMap::default(),
        }];
        let ctx = Ctx {
            original: ls,
            cond_span: rule.logsource().map_or(rule.span, |l| l.span),
            maps: &self.maps,
        };
        for &(pi, ii) in &self.order {
            let p = &self.pipelines[pi];
            let item = &p.items[ii];
            let mut next = Vec::with_capacity(works.len());
            for w in works {
                if !rule_cond_holds(&item.when, &w, rule) {
                    next.push(w);
                    continue;
                }
                let at = At {
                    pipeline: &p.name,
                    pipeline_index: pi,
                    item,
                    vars: &p.vars,
                    describe: self.describe,
                };
                for mut out in apply_item(&at, &ctx, w)? {
                    out.applied.insert(item.id.clone());
                    next.push(out);
                }
            }
            works = next;
        }
        // Hunting pipelines: drop variants whose log source the pipeline does not map.
        let mut skipped = None;
        let mut kept = Vec::with_capacity(works.len());
        for w in works {
            match self.uncovered(&w) {
                Some(reason) => {
                    if skipped.is_none() {
                        skipped = Some(reason);
                    }
                }
                None => kept.push(w),
            }
        }
        let multiple = kept.len() > 1;
        let variants: Vec<Variant> = kept.into_iter().map(|w| w.finish(rule, multiple)).collect();
        let skipped = if variants.is_empty() { skipped } else { None };
        Ok((variants, skipped))
    }

    /// The reason a working variant is not covered by a `skip` pipeline, if any.
    fn uncovered(&self, w: &Work) -> Option<NotApplicable> {
        for (pi, p) in self.pipelines.iter().enumerate() {
            if p.unmapped != Unmapped::Skip || !p.has_logsource_items() {
                continue;
            }
            let (src, missing) = match w.coverage.get(&pi) {
                Some((src, missing)) => (src.clone(), missing.clone()),
                None => (w.ls.clone(), set_keys(&w.ls)),
            };
            if missing.is_empty() {
                continue;
            }
            let what: Vec<String> = missing
                .iter()
                .map(|k| format!("{} '{}'", k.as_str(), k.get(&src).unwrap_or_default()))
                .collect();
            return Some(NotApplicable {
                pipeline: p.name.clone(),
                reason: format!(
                    "log source {} ({src}) not mapped by pipeline {}",
                    what.join(", "),
                    p.name
                ),
            });
        }
        None
    }
}

/// A rule's log source as the pipelines see it.
pub(crate) fn triple(ls: &crate::rule::LogSource) -> LsTriple {
    LsTriple {
        category: ls.category().map(str::to_owned),
        product: ls.product().map(str::to_owned),
        service: ls.service().map(str::to_owned),
    }
}

fn set_keys(ls: &LsTriple) -> Vec<LsKey> {
    [LsKey::Category, LsKey::Product, LsKey::Service]
        .into_iter()
        .filter(|k| k.get(ls).is_some())
        .collect()
}

/// One variant being built.
#[derive(Debug, Clone)]
struct Work {
    label: Option<String>,
    ls: LsTriple,
    indices: Vec<String>,
    /// Conditions (AND), with the field names of the current stage.
    conds: Vec<SelectionNode>,
    /// Conditions that cannot be a plain detection item (one-to-many renames, negated groups):
    /// they go into the detection as hidden selections. `true`: negated.
    extra: Vec<(SelectionNode, bool)>,
    detection: Detection,
    steps: Vec<NameStep>,
    changes: Vec<Change>,
    applied: HashSet<String>,
    /// Per pipeline with log-source items: the source they saw and the keys no entry mapped.
    coverage: HashMap<usize, (LsTriple, Vec<LsKey>)>,
}

struct Ctx<'c> {
    /// The log source as written in the rule.
    original: LsTriple,
    /// Where added conditions point in the rule file (its log source).
    cond_span: Span,
    maps: &'c MapCache,
}

struct At<'a> {
    pipeline: &'a str,
    pipeline_index: usize,
    item: &'a Item,
    vars: &'a [(String, Vec<String>)],
    /// See [`Chain::without_descriptions`].
    describe: bool,
}

impl At<'_> {
    /// Records a change, described by `description` when the chain describes them.
    fn change(&self, w: &mut Work, description: impl FnOnce() -> String) {
        if self.describe {
            w.changes.push(Change {
                pipeline: self.pipeline.to_owned(),
                item: self.item.id.clone(),
                description: description(),
            });
        }
    }

    fn fail(&self, message: String, span: Option<Span>) -> ApplyError {
        ApplyError {
            pipeline: self.pipeline.to_owned(),
            item: self.item.id.clone(),
            message,
            span,
        }
    }
}

fn rule_cond_holds(c: &RuleCond, w: &Work, rule: &Rule) -> bool {
    if c.tests.is_empty() {
        return true;
    }
    let one = |t: &RuleTest| match t {
        RuleTest::LogSource(p) => p.matches(&w.ls),
        RuleTest::Applied(id) => w.applied.contains(id),
        RuleTest::Tag(tag) => rule.meta.tags.iter().any(|t| t.value == *tag),
    };
    let r = if c.any {
        c.tests.iter().any(one)
    } else {
        c.tests.iter().all(one)
    };
    r != c.negate
}

fn apply_item(at: &At<'_>, ctx: &Ctx<'_>, mut w: Work) -> Result<Vec<Work>, ApplyError> {
    match &at.item.action {
        Action::LogSources(ls) => return apply_logsources(at, ctx, ls, w),
        Action::Fields(map) => {
            let step = resolve_map(map, &w, ctx);
            rename(at, &mut w, step, None);
        }
        Action::FieldPrefix { prefix, filter } => {
            let step = NameStep::Prefix {
                prefix: prefix.clone(),
                filter: filter.clone(),
            };
            rename(at, &mut w, step, None);
        }
        Action::FieldPrefixMap { map, filter } => {
            let step = NameStep::PrefixMap {
                map: map.clone(),
                filter: filter.clone(),
            };
            rename(at, &mut w, step, None);
        }
        Action::FieldCase { case, filter } => {
            let step = NameStep::Case {
                case: *case,
                filter: filter.clone(),
            };
            rename(at, &mut w, step, None);
        }
        Action::AddCondition {
            conditions,
            negated,
            template,
        } => {
            let mut items = Vec::with_capacity(conditions.len());
            for c in conditions {
                let c = if *template {
                    substitute(c, &w.ls)
                } else {
                    c.clone()
                };
                let item = build_condition(&c, ctx.cond_span).map_err(|m| at.fail(m, None))?;
                at.change(&mut w, || {
                    format!(
                        "condition {}{}",
                        if *negated { "not " } else { "" },
                        describe_item(&item)
                    )
                });
                items.push(item);
            }
            if *negated {
                if items.len() == 1 {
                    let mut item = items.remove(0);
                    item.flags.negated = !item.flags.negated;
                    w.conds.push(SelectionNode::Item(item));
                } else {
                    let node =
                        SelectionNode::And(items.into_iter().map(SelectionNode::Item).collect());
                    w.extra.push((node, true));
                }
            } else {
                w.conds.extend(items.into_iter().map(SelectionNode::Item));
            }
        }
        Action::ChangeLogSource(p) => {
            let before = w.ls.clone();
            w.ls = p.clone();
            at.change(&mut w, || format!("log source {before} -> {p}"));
        }
        Action::SetIndex(ix) => {
            w.indices = ix.clone();
            at.change(&mut w, || format!("index {}", ix.join(", ")));
        }
        Action::Placeholders { include, exclude } => {
            let handled = |name: &str| {
                include.as_ref().is_none_or(|i| i.iter().any(|x| x == name))
                    && exclude
                        .as_ref()
                        .is_none_or(|e| !e.iter().any(|x| x == name))
            };
            let mut done: Vec<String> = Vec::new();
            let mut expand_item = |item: &mut DetectionItem| {
                for v in &mut item.values {
                    if let Some(nv) = expand_value(&v.value, at.vars, &handled, &mut done) {
                        v.value = nv;
                    }
                }
            };
            for s in &mut w.detection.selections {
                for item in s.node.items_mut() {
                    expand_item(item);
                }
            }
            for c in &mut w.conds {
                for item in c.items_mut() {
                    expand_item(item);
                }
            }
            done.sort();
            done.dedup();
            for name in done {
                let n = at
                    .vars
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map_or(0, |(_, v)| v.len());
                at.change(&mut w, || format!("placeholder %{name}% -> {n} value(s)"));
            }
        }
        Action::DropItems { filter } => {
            let mut dropped = Vec::new();
            for s in &mut w.detection.selections {
                let name = s.name.clone();
                match drop_items(&mut s.node, filter, &mut dropped) {
                    Keep::All | Keep::Some => {}
                    Keep::None => {
                        return Err(at.fail(
                            format!(
                                "dropping detection items would leave selection '{name}' empty"
                            ),
                            Some(s.span),
                        ));
                    }
                }
            }
            w.conds
                .retain_mut(|c| !matches!(drop_items(c, filter, &mut dropped), Keep::None));
            for d in dropped {
                at.change(&mut w, || format!("dropped item {d}"));
            }
        }
        Action::FailRule { message } => return Err(at.fail(message.clone(), None)),
        Action::FailItem { message, filter } => {
            for s in &w.detection.selections {
                if let Some(i) = s.node.items().find(|i| item_filter_accepts(filter, i)) {
                    return Err(at.fail(message.clone(), Some(i.span)));
                }
            }
        }
    }
    Ok(vec![w])
}

fn substitute(c: &CondSpec, ls: &LsTriple) -> CondSpec {
    let mut c = c.clone();
    for v in &mut c.values {
        if let RawValue::Str(s) = v {
            let mut t = s.clone();
            for (k, val) in [
                ("category", &ls.category),
                ("product", &ls.product),
                ("service", &ls.service),
            ] {
                let val = val.as_deref().unwrap_or_default();
                t = t.replace(&format!("${{{k}}}"), val);
                t = t.replace(&format!("${k}"), val);
            }
            *s = t;
        }
    }
    c
}

/// A condition of a pipeline as a detection item (values checked when the pipeline was read).
pub(crate) fn build_condition(c: &CondSpec, span: Span) -> Result<DetectionItem, String> {
    let flags = modifier::validate_chain(&c.modifiers, true).map_err(|e| e.message)?;
    let values = modifier::apply(&c.modifiers, &c.values).map_err(|e| e.message)?;
    Ok(DetectionItem {
        field: Some(c.field.clone()),
        modifiers: c.modifiers.clone(),
        flags,
        values: values.into_iter().map(|v| Spanned::new(v, span)).collect(),
        span,
    })
}

fn apply_logsources(
    at: &At<'_>,
    ctx: &Ctx<'_>,
    ls: &LogSources,
    work: Work,
) -> Result<Vec<Work>, ApplyError> {
    let s0 = work.ls.clone();
    let rewrites: Vec<usize> = ls
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.rewrite.is_some() && e.when.matches(&s0))
        .map(|(i, _)| i)
        .collect();
    let branches: Vec<Option<usize>> = if rewrites.len() <= 1 {
        vec![None]
    } else {
        rewrites.iter().copied().map(Some).collect()
    };
    let mut out = Vec::with_capacity(branches.len());
    let last = branches.len() - 1;
    let mut work = Some(work);
    for (bi, branch) in branches.into_iter().enumerate() {
        // Each branch starts from the variant as it came; the last one takes it over.
        let mut w = if bi == last {
            work.take()
        } else {
            work.clone()
        }
        .expect("only the last branch takes the variant");
        let mut cur = s0.clone();
        let mut covered: HashSet<LsKey> = HashSet::default();
        let mut rewritten = false;
        let mut item_indices: Vec<String> = Vec::new();
        for (i, e) in ls.entries.iter().enumerate() {
            if let Some(b) = branch
                && i != b
                && rewrites.contains(&i)
            {
                continue;
            }
            if !e.when.matches(&cur) {
                continue;
            }
            if !rewritten {
                for k in [LsKey::Category, LsKey::Product, LsKey::Service] {
                    if k.get(&e.when).is_some() {
                        covered.insert(k);
                    }
                }
            }
            let mut what = Vec::new();
            for c in &e.conditions {
                let item = build_condition(c, ctx.cond_span).map_err(|m| at.fail(m, None))?;
                if at.describe {
                    what.push(describe_item(&item));
                }
                w.conds.push(SelectionNode::Item(item));
            }
            for ix in &e.index {
                if !item_indices.contains(ix) {
                    item_indices.push(ix.clone());
                }
            }
            let mut desc = String::new();
            if at.describe {
                desc = format!("log source {} matched", e.name);
                if !what.is_empty() {
                    desc.push_str(&format!(": condition {}", what.join(" and ")));
                }
                if !e.index.is_empty() {
                    desc.push_str(&format!("; index {}", e.index.join(", ")));
                }
            }
            if let Some(r) = &e.rewrite {
                let mut next = r.clone();
                // sigmac rewrites replace the whole (category, product, service) triple.
                if r.is_empty() {
                    next = cur.clone();
                }
                if at.describe {
                    desc.push_str(&format!("; rewritten {cur} -> {next}"));
                }
                cur = next;
                rewritten = true;
            }
            // An entry that adds nothing (a product-wide entry, one that only renames) is not
            // worth a line; its renames are recorded below.
            if !e.conditions.is_empty() || !e.index.is_empty() || e.rewrite.is_some() {
                at.change(&mut w, || desc);
            }
            if let Some(label) = &e.label {
                w.label = Some(label.clone());
            } else if e.rewrite.is_some() {
                w.label = Some(e.name.clone());
            }
            if let Some(fm) = &e.fields {
                let step = resolve_map(fm, &w, ctx);
                rename(at, &mut w, step, Some(&e.name));
            }
        }
        if rewritten {
            covered.extend([LsKey::Category, LsKey::Product, LsKey::Service]);
        }
        if !item_indices.is_empty() {
            for ix in item_indices {
                if !w.indices.contains(&ix) {
                    w.indices.push(ix);
                }
            }
        } else if w.indices.is_empty() && !ls.default_index.is_empty() {
            w.indices = ls.default_index.clone();
            at.change(&mut w, || {
                format!("default index {}", ls.default_index.join(", "))
            });
        }
        let missing: Vec<LsKey> = set_keys(&s0)
            .into_iter()
            .filter(|k| !covered.contains(k))
            .collect();
        match w.coverage.get_mut(&at.pipeline_index) {
            Some((_, m)) => m.retain(|k| missing.contains(k)),
            None => {
                w.coverage.insert(at.pipeline_index, (s0.clone(), missing));
            }
        }
        w.ls = cur;
        out.push(w);
    }
    Ok(out)
}

/// Resolve a field map for one variant (conditional targets decided) as a renaming step.
fn resolve_map(map: &FieldMap, w: &Work, ctx: &Ctx<'_>) -> NameStep {
    let choose = |cases: &[FieldCase], default: &Option<Vec<String>>| {
        let mut hit: Vec<String> = Vec::new();
        for c in cases {
            if case_holds(&c.when, w, ctx) {
                for t in &c.to {
                    if !hit.contains(t) {
                        hit.push(t.clone());
                    }
                }
            }
        }
        if hit.is_empty() {
            default.clone()
        } else {
            Some(hit)
        }
    };
    let chosen: Vec<Option<Vec<String>>> = map
        .entries
        .iter()
        .filter_map(|e| match &e.target {
            FieldTarget::To(_) => None,
            FieldTarget::Cases { cases, default } => Some(choose(cases, default)),
        })
        .collect();
    let step = |map: Arc<HashMap<String, Vec<String>>>, fm: &FieldMap| NameStep::Map {
        map,
        unmapped_prefixes: fm.unmapped_prefixes.clone(),
        filter: fm.filter.clone(),
    };
    // The map's address names it while the chain is borrowed.
    let key = map as *const FieldMap as usize;
    if let Ok(cache) = ctx.maps.0.lock()
        && let Some((_, m)) = cache
            .get(&key)
            .and_then(|v| v.iter().find(|(c, _)| *c == chosen))
    {
        return step(Arc::clone(m), map);
    }
    let mut resolved: HashMap<String, Vec<String>> =
        HashMap::with_capacity_and_hasher(map.entries.len(), Default::default());
    let mut picks = chosen.iter();
    for e in &map.entries {
        let targets = match &e.target {
            FieldTarget::To(v) => Some(v.clone()),
            FieldTarget::Cases { .. } => picks.next().cloned().flatten(),
        };
        if let Some(t) = targets {
            resolved.insert(e.name.clone(), t);
        }
    }
    let resolved = Arc::new(resolved);
    if let Ok(mut cache) = ctx.maps.0.lock() {
        cache
            .entry(key)
            .or_default()
            .push((chosen, Arc::clone(&resolved)));
    }
    step(resolved, map)
}

fn case_holds(c: &CaseWhen, w: &Work, ctx: &Ctx<'_>) -> bool {
    match c {
        CaseWhen::LogSource { key, value } => {
            key.get(&w.ls) == Some(value.as_str()) || key.get(&ctx.original) == Some(value.as_str())
        }
        CaseWhen::Value { field, value } => {
            let matches = |i: &DetectionItem| {
                i.field.as_deref() == Some(field.as_str())
                    && !i.flags.negated
                    && i.values.iter().any(|v| value_is(&v.value, value))
            };
            w.detection
                .selections
                .iter()
                .any(|s| s.node.items().any(matches))
                || w.conds.iter().any(|c| c.items().any(matches))
        }
    }
}

/// Is a detection value exactly this text (`16` for `EventID: 16` or `EventID: '16'`)?
fn value_is(v: &Value, text: &str) -> bool {
    match v {
        Value::Str(s) => s.as_plain() == Some(text),
        Value::Num(n) => n.text == text || text.parse::<f64>().is_ok_and(|t| t == n.as_f64()),
        Value::AnyOf(vs) => vs.iter().any(|v| value_is(v, text)),
        _ => false,
    }
}

/// Apply a renaming step to the detection and the conditions, record it and the changes.
fn rename(at: &At<'_>, w: &mut Work, step: NameStep, under: Option<&str>) {
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    let mut f = |name: &str| -> Option<Vec<String>> {
        let to = step.apply(name);
        if to.len() == 1 && to[0] == name {
            return None;
        }
        if at.describe && !seen.iter().any(|(n, _)| n == name) {
            seen.push((name.to_owned(), to.clone()));
        }
        Some(to)
    };
    for s in &mut w.detection.selections {
        rename_node(&mut s.node, &mut f);
    }
    for c in &mut w.conds {
        rename_node(c, &mut f);
    }
    for (c, _) in &mut w.extra {
        rename_node(c, &mut f);
    }
    w.steps.push(step);
    for (from, to) in seen {
        let scope = under.map(|u| format!(" (under {u})")).unwrap_or_default();
        at.change(w, || format!("field {from} -> {}{scope}", to.join(" | ")));
    }
}

fn rename_node(node: &mut SelectionNode, f: &mut dyn FnMut(&str) -> Option<Vec<String>>) {
    match node {
        SelectionNode::And(ns) | SelectionNode::Or(ns) => {
            for n in ns {
                rename_node(n, f);
            }
        }
        SelectionNode::Item(item) => {
            for v in &mut item.values {
                if let Some(nv) = rename_refs(&v.value, f) {
                    v.value = nv;
                }
            }
            let Some(field) = item.field.clone() else {
                return;
            };
            let Some(to) = f(&field) else { return };
            if to.len() == 1 {
                item.field = Some(to[0].clone());
                return;
            }
            // One-to-many: the value may be in any of the fields. Tests for absence (null,
            // exists: false, neq) must hold for every field instead.
            let absence = item
                .values
                .iter()
                .all(|v| matches!(v.value, Value::Null | Value::Exists(false)));
            let all = absence != item.flags.negated;
            let items: Vec<SelectionNode> = to
                .into_iter()
                .map(|t| {
                    let mut i = item.clone();
                    i.field = Some(t);
                    SelectionNode::Item(i)
                })
                .collect();
            *node = if all {
                SelectionNode::And(items)
            } else {
                SelectionNode::Or(items)
            };
        }
    }
}

/// Rename the fields inside `fieldref` values.
fn rename_refs(v: &Value, f: &mut dyn FnMut(&str) -> Option<Vec<String>>) -> Option<Value> {
    match v {
        Value::FieldRef(name, mode) => {
            let to = f(name)?;
            if to.len() == 1 {
                Some(Value::FieldRef(to[0].clone(), *mode))
            } else {
                Some(Value::AnyOf(
                    to.into_iter().map(|t| Value::FieldRef(t, *mode)).collect(),
                ))
            }
        }
        Value::AnyOf(vs) => {
            let mut changed = false;
            let out: Vec<Value> = vs
                .iter()
                .map(|x| match rename_refs(x, f) {
                    Some(n) => {
                        changed = true;
                        n
                    }
                    None => x.clone(),
                })
                .collect();
            changed.then_some(Value::AnyOf(out))
        }
        _ => None,
    }
}

/// Expand placeholders in a value; `None` when nothing changed.
fn expand_value(
    v: &Value,
    vars: &[(String, Vec<String>)],
    handled: &dyn Fn(&str) -> bool,
    done: &mut Vec<String>,
) -> Option<Value> {
    match v {
        Value::Str(s) if s.has_placeholders() => {
            let mut alts: Vec<SigmaString> = vec![SigmaString::default()];
            let mut changed = false;
            for part in s.parts() {
                let values = match part {
                    Part::Placeholder(name) if handled(name) => {
                        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v)
                    }
                    _ => None,
                };
                match values {
                    Some(values) => {
                        changed = true;
                        if let Part::Placeholder(name) = part {
                            done.push(name.clone());
                        }
                        let mut next = Vec::with_capacity(alts.len() * values.len());
                        for a in &alts {
                            for val in values {
                                let mut n = a.clone();
                                for p in SigmaString::parse(val).into_parts() {
                                    n.push_part(p);
                                }
                                next.push(n);
                            }
                        }
                        alts = next;
                    }
                    None => {
                        for a in &mut alts {
                            a.push_part(part.clone());
                        }
                    }
                }
            }
            if !changed {
                return None;
            }
            Some(if alts.len() == 1 {
                Value::Str(alts.remove(0))
            } else {
                Value::AnyOf(alts.into_iter().map(Value::Str).collect())
            })
        }
        Value::AnyOf(vs) => {
            let mut changed = false;
            let mut out = Vec::with_capacity(vs.len());
            for x in vs {
                match expand_value(x, vars, handled, done) {
                    Some(Value::AnyOf(inner)) => {
                        changed = true;
                        out.extend(inner);
                    }
                    Some(n) => {
                        changed = true;
                        out.push(n);
                    }
                    None => out.push(x.clone()),
                }
            }
            changed.then_some(Value::AnyOf(out))
        }
        _ => None,
    }
}

enum Keep {
    All,
    Some,
    None,
}

fn drop_items(node: &mut SelectionNode, filter: &ItemFilter, dropped: &mut Vec<String>) -> Keep {
    match node {
        SelectionNode::Item(i) => {
            if item_filter_accepts(filter, i) {
                dropped.push(i.key());
                Keep::None
            } else {
                Keep::All
            }
        }
        SelectionNode::And(ns) | SelectionNode::Or(ns) => {
            let before = ns.len();
            ns.retain_mut(|n| !matches!(drop_items(n, filter, dropped), Keep::None));
            if ns.is_empty() {
                Keep::None
            } else if ns.len() == before {
                Keep::All
            } else {
                Keep::Some
            }
        }
    }
}

pub(crate) fn item_filter_accepts(f: &ItemFilter, item: &DetectionItem) -> bool {
    if !f.fields.accepts(item.field.as_deref()) {
        return false;
    }
    if f.values.tests.is_empty() {
        return true;
    }
    let one = |t: &ValueTest| match t {
        ValueTest::MatchString { regex, negate, all } => {
            let test = |v: &Spanned<Value>| {
                let r = match &v.value {
                    Value::Str(s) => regex.find(&s.to_string()).is_some_and(|m| m.start() == 0),
                    _ => false,
                };
                r != *negate
            };
            if *all {
                item.values.iter().all(test)
            } else {
                item.values.iter().any(test)
            }
        }
        ValueTest::IsNull { all } => {
            let test = |v: &Spanned<Value>| matches!(v.value, Value::Null);
            if *all {
                item.values.iter().all(test)
            } else {
                item.values.iter().any(test)
            }
        }
    };
    let r = if f.values.any {
        f.values.tests.iter().any(one)
    } else {
        f.values.tests.iter().all(one)
    };
    r != f.values.negate
}

impl FieldFilter {
    /// For output: the filter in words, empty when it accepts everything.
    pub fn describe(&self) -> String {
        use super::model::FieldTest;
        let parts: Vec<String> = self
            .tests
            .iter()
            .map(|t| match t {
                FieldTest::Include(p) => format!(
                    "fields in [{}]",
                    p.iter().map(|p| p.text()).collect::<Vec<_>>().join(", ")
                ),
                FieldTest::Exclude(p) => format!(
                    "fields not in [{}]",
                    p.iter().map(|p| p.text()).collect::<Vec<_>>().join(", ")
                ),
            })
            .collect();
        let j = parts.join(if self.any { " or " } else { " and " });
        if self.negate { format!("not ({j})") } else { j }
    }
}

/// `field|mods = v1 | v2` for change descriptions.
pub(crate) fn describe_item(i: &DetectionItem) -> String {
    let vals: Vec<String> = i.values.iter().map(|v| describe_value(&v.value)).collect();
    let op = if i.flags.negated { "!=" } else { "=" };
    format!("{} {op} {}", i.key(), vals.join(" | "))
}

pub(crate) fn describe_value(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("'{s}'"),
        Value::Num(n) => n.text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Regex(r) => format!("/{}/", r.pattern),
        Value::Cidr(c) => c.to_string(),
        Value::Cmp(op, n) => format!("{}{}", op.symbol(), n),
        Value::Exists(b) => format!("exists:{b}"),
        Value::FieldRef(f, m) => format!("fieldref({f}, {m:?})"),
        Value::TimePart(p, n) => format!("{}:{n}", p.as_str()),
        Value::AnyOf(vs) => format!(
            "any({})",
            vs.iter().map(describe_value).collect::<Vec<_>>().join(", ")
        ),
    }
}

impl Work {
    fn finish(mut self, rule: &Rule, multiple: bool) -> Variant {
        let mut conditions = Vec::with_capacity(self.conds.len());
        for c in std::mem::take(&mut self.conds) {
            match c {
                SelectionNode::Item(i) => conditions.push(i),
                other => self.extra.push((other, false)),
            }
        }
        for (k, (node, negated)) in std::mem::take(&mut self.extra).into_iter().enumerate() {
            hide_condition(
                &mut self.detection,
                &format!("_pipeline_cond{}", k + 1),
                node,
                negated,
            );
        }
        // Every Sigma field name the rule uses gets an explicit entry.
        let mut map = HashMap::default();
        let mut add = |name: &str| {
            if !map.contains_key(name) {
                map.insert(name.to_owned(), run_steps(&self.steps, name));
            }
        };
        if let Some(d) = rule.detection() {
            for i in d.items() {
                if let Some(f) = &i.field {
                    add(f);
                }
            }
        }
        for f in &rule.meta.fields {
            add(f);
        }
        let fields = FieldMapper {
            map,
            prefix: None,
            steps: self.steps,
        };
        Variant {
            label: if multiple { self.label } else { None },
            indices: self.indices,
            conditions,
            detection: self.detection,
            fields: Arc::new(fields),
            changes: self.changes,
        }
    }
}

/// Put a condition the variant cannot express as a plain item into the detection: a hidden
/// selection (`_` names are not part of `them`) ANDed with every condition.
fn hide_condition(d: &mut Detection, name: &str, node: SelectionNode, negated: bool) {
    d.selections.push(Selection {
        name: name.to_owned(),
        span: d.span,
        node,
    });
    let ident = Expr::Ident {
        name: name.to_owned(),
        span: 0..0,
    };
    let head = if negated {
        Expr::Not(Box::new(ident), 0..0)
    } else {
        ident
    };
    for c in &mut d.conditions {
        let expr = std::mem::replace(
            &mut c.parsed.expr,
            Expr::Ident {
                name: String::new(),
                span: 0..0,
            },
        );
        c.parsed = Condition {
            expr: Expr::And(vec![head.clone(), expr], 0..0),
            aggregation: c.parsed.aggregation.take(),
        };
        c.text = format!(
            "{}{name} and ({})",
            if negated { "not " } else { "" },
            c.text
        );
        c.text_start = None;
    }
    if d.conditions.is_empty() {
        d.conditions.push(ConditionEntry {
            text: name.to_owned(),
            parsed: Condition {
                expr: head,
                aggregation: None,
            },
            span: d.span,
            text_start: None,
        });
    }
}
