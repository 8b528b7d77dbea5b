//! Resolved rules → a program of shared items and condition trees over them.
//!
//! Field names are interned into slots (slot 0 is the whole event, for keywords); identical
//! items across rules (`EventID: 1` in hundreds of rules) become one item evaluated at most
//! once per event; selections are inlined into each condition.

use sigma::hash::{FastMap as HashMap, FastSet};
use std::borrow::Cow;
use std::sync::Arc;

use sigma::RuleBody;
use sigma::condition::{Expr, Quantifier, of_targets};
use sigma::modifier::Link;
use sigma::pipeline::{ResolvedRule, Variant};
use sigma::rule::{Detection, DetectionItem, SelectionNode};
use sigma::value::{Part, SigmaString, Value};

use crate::event::FieldPath;
use crate::matcher::{Matcher, RegexMatcher, StrSet};
use crate::naive::surround;
use crate::par::par_map;
use crate::semantics::{Num, build_regex, fold};

/// Why a rule cannot be compiled; the rule is skipped, the others work.
#[derive(Debug, Clone, thiserror::Error)]
#[error("rule {} ({}): {kind}", .rule_id.as_deref().unwrap_or("without id"), .title)]
pub struct CompileError {
    /// Index of the rule in the compiled set.
    pub rule: usize,
    pub rule_id: Option<String>,
    pub title: String,
    pub kind: CompileErrorKind,
}

/// The reason a rule was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CompileErrorKind {
    /// A value still has a `%placeholder%` that no pipeline expanded.
    #[error(
        "placeholder %{name}% of field '{field}' was not expanded (use a pipeline that defines it)"
    )]
    Placeholder { field: String, name: String },
    /// The condition names a selection that does not exist.
    #[error("the condition uses '{0}', which is not a selection of the rule")]
    UnknownSelection(String),
    /// A regular expression the matcher cannot build (too large, ...).
    #[error("regular expression '{pattern}' cannot be compiled: {message}")]
    Regex { pattern: String, message: String },
    /// A detection or filter rule without any variant (the pipelines mapped it to nothing).
    #[error("the rule has no variant to match (no log source mapping applies)")]
    NoVariants,
}

/// The slot of the whole event (keyword search).
pub(crate) const ANY_SLOT: u32 = 0;

/// A condition tree over item ids.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Item(u32),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    /// At least `n` of the children.
    AtLeast(u32, Vec<Node>),
    Const(bool),
}

/// One compiled detection item.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub slot: u32,
    pub link: Link,
    pub negated: bool,
    /// For `Link::Any`: alternatives; for `Link::All`: one per written value, all required.
    pub matchers: Vec<Matcher>,
    /// Other slots read by field references.
    pub refs: Vec<u32>,
}

/// A compiled variant: its log-source conditions (items, AND) and its detection.
#[derive(Debug, Clone)]
pub(crate) struct CVariant {
    pub rule: u32,
    pub variant: u32,
    pub conditions: Vec<u32>,
    pub expr: Node,
}

/// A compiled detection rule.
#[derive(Debug, Clone)]
pub(crate) struct CRule {
    /// Range of its variants in `Program::variants`.
    pub variants: std::ops::Range<u32>,
    /// Compiled filters (indices into `Program::filters`).
    pub filters: Vec<u32>,
    pub needs_correlation: bool,
}

/// A compiled filter rule: any variant matching excludes the event.
#[derive(Debug, Clone)]
pub(crate) struct CFilter {
    pub rule: u32,
    pub variants: Vec<CVariant>,
}

/// The compiled rule set, before routing and prefiltering are built on it.
#[derive(Debug)]
pub(crate) struct Program {
    pub fields: Vec<FieldPath>,
    pub items: Vec<Item>,
    pub variants: Vec<CVariant>,
    /// One per input rule; `None` for rules that produce no matches of their own (filters,
    /// correlations) or that failed to compile.
    pub rules: Vec<Option<CRule>>,
    pub filters: Vec<CFilter>,
}

struct Builder<'r> {
    table: u64,
    fields: Vec<FieldPath>,
    field_ids: HashMap<String, u32>,
    items: Vec<Item>,
    /// Items by the hash of their [`ItemKey`] (ids of the items with that hash).
    item_ids: HashMap<u64, Vec<u32>>,
    /// Per item: what makes it the same as another.
    item_keys: Vec<ItemKey<'r>>,
    /// Regular expressions by pattern and flags, or why they cannot be built.
    regexes: HashMap<RegexKey, Result<Arc<regex::Regex>, String>>,
    /// Items whose matchers are still to be built (see [`Builder::build_matchers`]).
    pending: Vec<u32>,
    /// The items the rule being compiled uses so far, in order.
    trail: Vec<u32>,
}

type RegexKey = (String, sigma::value::RegexFlags);

/// Builds the regular expressions of the rules that will be compiled, on all cores: building
/// them was a third of the compile's time, which is otherwise one thread's work.
fn prebuild_regexes<'r>(
    rules: &'r [ResolvedRule],
) -> HashMap<RegexKey, Result<Arc<regex::Regex>, String>> {
    let mut seen: FastSet<RegexKey> = FastSet::default();
    let mut todo: Vec<&'r sigma::value::Regex> = Vec::new();
    let mut visit = |it: &'r DetectionItem| {
        for v in &it.values {
            for leaf in v.value.leaves() {
                if let Value::Regex(r) = leaf
                    && seen.insert((r.pattern.clone(), r.flags))
                {
                    todo.push(r);
                }
            }
        }
    };
    for r in rules {
        if matches!(r.rule.body, RuleBody::Correlation(_)) || r.skipped.is_some() {
            continue;
        }
        for v in &r.variants {
            v.conditions.iter().for_each(&mut visit);
            v.detection.items().for_each(&mut visit);
        }
    }
    let built = par_map(&todo, 1, |_, r| {
        build_regex(r).map(Arc::new).map_err(|e| e.to_string())
    });
    todo.into_iter()
        .zip(built)
        .map(|(r, re)| ((r.pattern.clone(), r.flags), re))
        .collect()
}

/// Which filter rules apply to each rule: a filter names rules by id or name.
/// Returns, per rule, the indices of its filters, and messages for references that match
/// nothing.
pub(crate) fn attach_filters(
    rules: &[ResolvedRule],
    excluded: &dyn Fn(usize) -> bool,
) -> (Vec<Vec<usize>>, Vec<String>) {
    let mut by_ref: HashMap<&str, Vec<usize>> = HashMap::default();
    for (i, r) in rules.iter().enumerate() {
        if !matches!(r.rule.body, RuleBody::Detection(_)) {
            continue;
        }
        if let Some(id) = r.rule.id() {
            by_ref.entry(id).or_default().push(i);
        }
        if let Some(name) = &r.rule.meta.name {
            by_ref.entry(name.value.as_str()).or_default().push(i);
        }
    }
    let mut out = vec![Vec::new(); rules.len()];
    let mut warnings = Vec::new();
    for (f, r) in rules.iter().enumerate() {
        let RuleBody::Filter(filter) = &r.rule.body else {
            continue;
        };
        if excluded(f) {
            continue;
        }
        for reference in &filter.rules {
            match by_ref.get(reference.value.as_str()) {
                Some(targets) => {
                    for &t in targets {
                        if !out[t].contains(&f) {
                            out[t].push(f);
                        }
                    }
                }
                None => warnings.push(format!(
                    "filter '{}' names rule '{}', which is not in the rule set",
                    r.rule.title(),
                    reference.value
                )),
            }
        }
    }
    (out, warnings)
}

/// Compile rules; returns the program, the errors of refused rules and warnings.
/// Compiled variants per rule (`None`: not compiled), why a rule failed, and the items
/// each rule uses in order: the rules' items interned into `b`, their matchers still to build.
type Filed = (
    Vec<Option<Vec<CVariant>>>,
    Vec<Option<CompileErrorKind>>,
    Vec<Vec<u32>>,
);

fn file_items<'r>(b: &mut Builder<'r>, rules: &'r [ResolvedRule]) -> Filed {
    let mut compiled: Vec<Option<Vec<CVariant>>> = Vec::with_capacity(rules.len());
    let mut failures: Vec<Option<CompileErrorKind>> = Vec::with_capacity(rules.len());
    let mut trails: Vec<Vec<u32>> = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        // Correlations are not matched here; rules a pipeline says do not apply are not
        // compiled (their reason stays in `ResolvedRule::skipped`, see `Engine::skipped`).
        if matches!(r.rule.body, RuleBody::Correlation(_)) || r.skipped.is_some() {
            compiled.push(None);
            failures.push(None);
            trails.push(Vec::new());
            continue;
        }
        let res = if r.variants.is_empty() {
            Err(CompileErrorKind::NoVariants)
        } else {
            r.variants
                .iter()
                .enumerate()
                .map(|(vi, v)| b.variant(i as u32, vi as u32, v))
                .collect::<Result<Vec<_>, _>>()
        };
        trails.push(std::mem::take(&mut b.trail));
        match res {
            Ok(vs) => {
                compiled.push(Some(vs));
                failures.push(None);
            }
            Err(kind) => {
                compiled.push(None);
                failures.push(Some(kind));
            }
        }
    }
    (compiled, failures, trails)
}

pub(crate) fn compile(
    rules: &[ResolvedRule],
    table: u64,
) -> (Program, Vec<CompileError>, Vec<String>) {
    let mut b = Builder {
        table,
        fields: vec![FieldPath::bound("*", table, ANY_SLOT)],
        field_ids: HashMap::default(),
        items: Vec::new(),
        item_ids: HashMap::default(),
        item_keys: Vec::new(),
        regexes: HashMap::default(),
        pending: Vec::new(),
        trail: Vec::new(),
    };
    // The regexes are built on other threads while this one files the rules' items (one
    // thread: interning), which the regexes are not needed for.
    let (regexes, (mut compiled, mut failures, trails)) =
        crate::par::join(|| prebuild_regexes(rules), || file_items(&mut b, rules));
    b.regexes = regexes;
    // The items' matchers (folding and sorting thousands of strings), on all cores. An item
    // that cannot be built fails the rules that use it, before anything they use after it.
    let built = par_map(&b.pending, 16, |_, &id| b.build_matchers(id));
    let mut broken: HashMap<u32, CompileErrorKind> = HashMap::default();
    for (id, res) in std::mem::take(&mut b.pending).into_iter().zip(built) {
        match res {
            Ok((matchers, refs)) => {
                let item = &mut b.items[id as usize];
                item.matchers = matchers;
                item.refs = refs;
            }
            Err(kind) => {
                broken.insert(id, kind);
            }
        }
    }
    let mut errors = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let first_broken = trails[i].iter().find_map(|id| broken.get(id));
        let kind = match (first_broken, failures[i].take()) {
            (Some(kind), _) => kind.clone(),
            (None, Some(kind)) => kind,
            (None, None) => continue,
        };
        compiled[i] = None;
        errors.push(CompileError {
            rule: i,
            rule_id: r.rule.id().map(str::to_owned),
            title: r.rule.title().to_owned(),
            kind,
        });
    }
    let failed: Vec<bool> = compiled.iter().map(Option::is_none).collect();
    let (attached, warnings) = attach_filters(rules, &|i| failed[i]);
    let mut filter_ids: HashMap<usize, u32> = HashMap::default();
    let mut filters = Vec::new();
    let mut variants = Vec::new();
    let mut out_rules = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        if let (RuleBody::Filter(_), Some(vs)) = (&r.rule.body, &compiled[i]) {
            filter_ids.insert(i, filters.len() as u32);
            filters.push(CFilter {
                rule: i as u32,
                variants: vs.clone(),
            });
        }
    }
    for (i, r) in rules.iter().enumerate() {
        let (RuleBody::Detection(d), Some(vs)) = (&r.rule.body, compiled[i].take()) else {
            out_rules.push(None);
            continue;
        };
        let start = variants.len() as u32;
        variants.extend(vs);
        out_rules.push(Some(CRule {
            variants: start..variants.len() as u32,
            filters: attached[i]
                .iter()
                .filter_map(|f| filter_ids.get(f).copied())
                .collect(),
            needs_correlation: d
                .detection
                .conditions
                .iter()
                .any(|c| c.parsed.aggregation.is_some()),
        }));
    }
    (
        Program {
            fields: b.fields,
            items: b.items,
            variants,
            rules: out_rules,
            filters,
        },
        errors,
        warnings,
    )
}

impl<'r> Builder<'r> {
    fn variant(
        &mut self,
        rule: u32,
        variant: u32,
        v: &'r Variant,
    ) -> Result<CVariant, CompileErrorKind> {
        let conditions = v
            .conditions
            .iter()
            .map(|c| self.item(c))
            .collect::<Result<Vec<_>, _>>()?;
        let d = &v.detection;
        let mut sel_cache: HashMap<String, Node> = HashMap::default();
        let mut alts = Vec::new();
        for c in &d.conditions {
            alts.push(self.expr(&c.parsed.expr, d, &mut sel_cache)?);
        }
        Ok(CVariant {
            rule,
            variant,
            conditions,
            expr: or(alts),
        })
    }

    fn expr(
        &mut self,
        e: &'r Expr,
        d: &'r Detection,
        cache: &mut HashMap<String, Node>,
    ) -> Result<Node, CompileErrorKind> {
        Ok(match e {
            Expr::Ident { name, .. } => self.selection(name, d, cache)?,
            Expr::Not(e, _) => Node::Not(Box::new(self.expr(e, d, cache)?)),
            Expr::And(es, _) => and(es
                .iter()
                .map(|e| self.expr(e, d, cache))
                .collect::<Result<_, _>>()?),
            Expr::Or(es, _) => or(es
                .iter()
                .map(|e| self.expr(e, d, cache))
                .collect::<Result<_, _>>()?),
            Expr::Of {
                quantifier, target, ..
            } => {
                let names = d.selection_names();
                let nodes = of_targets(target, &names)
                    .into_iter()
                    .map(|n| self.selection(n, d, cache))
                    .collect::<Result<Vec<_>, _>>()?;
                match quantifier {
                    Quantifier::Any => or(nodes),
                    Quantifier::All => and(nodes),
                    Quantifier::AtLeast(k) => {
                        if *k as usize > nodes.len() {
                            Node::Const(false)
                        } else if *k as usize == nodes.len() {
                            and(nodes)
                        } else if *k <= 1 {
                            or(nodes)
                        } else {
                            Node::AtLeast(*k, nodes)
                        }
                    }
                }
            }
        })
    }

    fn selection(
        &mut self,
        name: &str,
        d: &'r Detection,
        cache: &mut HashMap<String, Node>,
    ) -> Result<Node, CompileErrorKind> {
        if let Some(n) = cache.get(name) {
            return Ok(n.clone());
        }
        let sel = d
            .selection(name)
            .ok_or_else(|| CompileErrorKind::UnknownSelection(name.to_owned()))?;
        let n = self.sel_node(&sel.node)?;
        cache.insert(name.to_owned(), n.clone());
        Ok(n)
    }

    fn sel_node(&mut self, n: &'r SelectionNode) -> Result<Node, CompileErrorKind> {
        Ok(match n {
            SelectionNode::And(ns) => and(ns
                .iter()
                .map(|n| self.sel_node(n))
                .collect::<Result<_, _>>()?),
            SelectionNode::Or(ns) => or(ns
                .iter()
                .map(|n| self.sel_node(n))
                .collect::<Result<_, _>>()?),
            SelectionNode::Item(i) => Node::Item(self.item(i)?),
        })
    }

    fn slot(&mut self, name: &str) -> u32 {
        if let Some(&s) = self.field_ids.get(name) {
            return s;
        }
        let s = self.fields.len() as u32;
        self.fields.push(FieldPath::bound(name, self.table, s));
        self.field_ids.insert(name.to_owned(), s);
        s
    }

    fn item(&mut self, it: &'r DetectionItem) -> Result<u32, CompileErrorKind> {
        let field_name = it.field.as_deref().unwrap_or("keywords");
        for v in &it.values {
            for leaf in v.leaves() {
                if let Value::Str(s) = leaf
                    && let Some(name) = s.placeholders().next()
                {
                    return Err(CompileErrorKind::Placeholder {
                        field: field_name.to_owned(),
                        name: name.to_owned(),
                    });
                }
            }
        }
        let keyword = it.field.is_none();
        let values: Vec<Cow<'r, Value>> = it
            .values
            .iter()
            .map(|v| {
                if keyword {
                    Cow::Owned(keyword_value(&v.value))
                } else {
                    Cow::Borrowed(&v.value)
                }
            })
            .collect();
        let slot = match &it.field {
            Some(f) => self.slot(f),
            None => ANY_SLOT,
        };
        let key = ItemKey {
            slot,
            flags: it.flags,
            values,
        };
        let hash = key.hash();
        if let Some(ids) = self.item_ids.get(&hash)
            && let Some(&id) = ids
                .iter()
                .find(|&&id| self.item_keys[id as usize].same(&key))
        {
            self.trail.push(id);
            return Ok(id);
        }
        // Fields named by `fieldref` get their slots now, in the order of the values.
        for v in &key.values {
            for leaf in v.leaves() {
                if let Value::FieldRef(name, _) = leaf {
                    self.slot(name);
                }
            }
        }
        // Its matchers are built later, with all the others (see `compile`).
        let id = self.items.len() as u32;
        self.items.push(Item {
            slot,
            link: it.flags.link,
            negated: it.flags.negated,
            matchers: Vec::new(),
            refs: Vec::new(),
        });
        self.item_ids.entry(hash).or_default().push(id);
        self.item_keys.push(key);
        self.pending.push(id);
        self.trail.push(id);
        Ok(id)
    }

    /// The matchers of item `id` and the field slots they refer to.
    fn build_matchers(&self, id: u32) -> Result<(Vec<Matcher>, Vec<u32>), CompileErrorKind> {
        let key = &self.item_keys[id as usize];
        let values = &key.values;
        let cased = key.flags.cased;
        let matchers = match key.flags.link {
            Link::Any => {
                let leaves: Vec<&Value> = values.iter().flat_map(|v| v.leaves()).collect();
                self.group(&leaves, cased)?
            }
            Link::All => values
                .iter()
                .map(|v| {
                    let mut ms = self.group(&v.leaves().collect::<Vec<_>>(), cased)?;
                    Ok(if ms.len() == 1 {
                        ms.remove(0)
                    } else {
                        Matcher::AnyOf(ms)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let mut refs = Vec::new();
        matchers.iter().for_each(|m| m.ref_slots(&mut refs));
        Ok((matchers, refs))
    }

    /// Alternatives (OR) of leaf values: all strings in one set, the rest one matcher each.
    fn group(&self, leaves: &[&Value], cased: bool) -> Result<Vec<Matcher>, CompileErrorKind> {
        let mut strs: Vec<&SigmaString> = Vec::new();
        let mut out = Vec::new();
        for v in leaves {
            let m = match v {
                Value::Str(s) => {
                    strs.push(s);
                    continue;
                }
                Value::Num(n) => Matcher::Num {
                    n: Num::from_rule(n),
                    folded_text: fold(&n.text).into(),
                },
                Value::Bool(b) => Matcher::Bool(*b),
                Value::Null => Matcher::Null,
                Value::Regex(r) => {
                    // Built beforehand (`prebuild_regexes`), or here.
                    let built = match self.regexes.get(&(r.pattern.clone(), r.flags)) {
                        Some(built) => built.clone(),
                        None => build_regex(r).map(Arc::new).map_err(|e| e.to_string()),
                    };
                    let re = match built {
                        Ok(re) => re,
                        Err(message) => {
                            return Err(CompileErrorKind::Regex {
                                pattern: r.pattern.clone(),
                                message,
                            });
                        }
                    };
                    Matcher::Regex(RegexMatcher { re, flags: r.flags })
                }
                Value::Cidr(c) => Matcher::Cidr(*c),
                Value::Cmp(op, n) => Matcher::Cmp(*op, Num::from_rule(n)),
                Value::Exists(b) => Matcher::Exists(*b),
                Value::FieldRef(name, mode) => Matcher::FieldRef {
                    slot: *self
                        .field_ids
                        .get(name.as_str())
                        .expect("a fieldref's field has its slot from `Builder::item`"),
                    mode: *mode,
                    cased,
                },
                Value::TimePart(p, n) => Matcher::TimePart(*p, *n),
                // Leaves are flattened; an empty expansion matches nothing.
                Value::AnyOf(_) => continue,
            };
            out.push(m);
        }
        if !strs.is_empty() {
            // Sized exactly: most items are one string set, and a matcher is large.
            let mut all = Vec::with_capacity(out.len() + 1);
            all.push(Matcher::Str(StrSet::new(strs, cased)));
            all.append(&mut out);
            out = all;
        }
        Ok(out)
    }
}

/// What makes two detection items one (evaluated once per event): the field, the flags and
/// the values. Numbers compare by their bits and text (hashing and comparing the values
/// directly costs a fraction of formatting them as a key).
struct ItemKey<'r> {
    slot: u32,
    flags: sigma::modifier::ItemFlags,
    /// A field's values as in the rule, keywords' as searched (see [`keyword_value`]).
    values: Vec<Cow<'r, Value>>,
}

impl ItemKey<'_> {
    fn hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // A fast hasher: the keys of thousands of items are hashed at every compile, and a
        // collision costs only a comparison.
        let mut h = crate::jsonline::KeyHasher::default();
        self.slot.hash(&mut h);
        self.flags.link.hash(&mut h);
        self.flags.negated.hash(&mut h);
        self.flags.cased.hash(&mut h);
        self.values.len().hash(&mut h);
        for v in &self.values {
            hash_value(v, &mut h);
        }
        h.finish()
    }

    fn same(&self, other: &ItemKey<'_>) -> bool {
        self.slot == other.slot
            && self.flags == other.flags
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| same_value(a, b))
    }
}

fn hash_number(n: &sigma::value::Number, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    match n.value {
        sigma::value::NumberValue::Int(i) => (0u8, i).hash(h),
        sigma::value::NumberValue::Float(f) => (1u8, f.to_bits()).hash(h),
    }
    n.text.hash(h);
}

fn hash_value(v: &Value, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Str(s) => s.hash(h),
        Value::Num(n) => hash_number(n, h),
        Value::Bool(b) | Value::Exists(b) => b.hash(h),
        Value::Null => {}
        Value::Regex(r) => r.hash(h),
        Value::Cidr(c) => c.hash(h),
        Value::Cmp(op, n) => {
            op.hash(h);
            hash_number(n, h);
        }
        Value::FieldRef(name, mode) => (name, mode).hash(h),
        Value::TimePart(p, n) => (p, n).hash(h),
        Value::AnyOf(vs) => {
            vs.len().hash(h);
            for v in vs {
                hash_value(v, h);
            }
        }
    }
}

fn same_number(a: &sigma::value::Number, b: &sigma::value::Number) -> bool {
    use sigma::value::NumberValue::{Float, Int};
    a.text == b.text
        && match (a.value, b.value) {
            (Int(x), Int(y)) => x == y,
            (Float(x), Float(y)) => x.to_bits() == y.to_bits(),
            _ => false,
        }
}

/// Equal values (numbers by their bits, so that equality agrees with [`hash_value`]).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => same_number(x, y),
        (Value::Cmp(o, x), Value::Cmp(p, y)) => o == p && same_number(x, y),
        (Value::AnyOf(xs), Value::AnyOf(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_value(x, y))
        }
        (Value::Num(_) | Value::Cmp(..) | Value::AnyOf(_), _) => false,
        _ => a == b,
    }
}

/// Keywords are searched as `*value*` in every value of the event (see [`crate::naive`]).
fn keyword_value(v: &Value) -> Value {
    match v {
        Value::Str(s) => Value::Str(surround(s.clone())),
        Value::Num(n) => Value::Str(surround(SigmaString::literal(&n.text))),
        Value::Bool(b) => Value::Str(surround(SigmaString::from_parts([Part::Lit(
            if *b { "true" } else { "false" }.to_owned(),
        )]))),
        Value::AnyOf(vs) => Value::AnyOf(vs.iter().map(keyword_value).collect()),
        other => other.clone(),
    }
}

fn and(mut ns: Vec<Node>) -> Node {
    if ns.len() == 1 {
        ns.remove(0)
    } else {
        Node::And(ns)
    }
}

fn or(mut ns: Vec<Node>) -> Node {
    if ns.len() == 1 {
        ns.remove(0)
    } else {
        Node::Or(ns)
    }
}
