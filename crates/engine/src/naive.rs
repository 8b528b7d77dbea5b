//! The reference evaluator: walks a rule's tree directly for one event. No routing, no
//! prefilter, no literal tricks, no sharing between rules; slow and obviously right.
//!
//! The optimised [`crate::Engine`] must give exactly the matches this gives (property-tested);
//! [`crate::explain`] reports through it.
//!
//! # Semantics beyond [`crate::semantics`]
//!
//! - An item matches when any (or, with `all`, every) value matches the field; `neq` negates the
//!   result of the whole item (a missing field makes a `neq` item true).
//! - A value matches a field when it matches any of the field's values (arrays), except `null`
//!   (the field is missing, or has no value (`[]`), or one of its values is `null`) and `exists`
//!   (the field is there, whatever its value).
//! - Strings: wildcard match against the text form of each value, folded unless `cased`.
//! - **Keywords** (items without a field) search every scalar value of the event, at any depth:
//!   a keyword matches when it is *contained* in a value (it is matched as `*keyword*`, wildcards
//!   inside allowed), case-insensitively unless `cased`. This is how query backends turn keywords
//!   into full-text terms and how other Sigma engines treat them. A number keyword is searched as
//!   its written text, a boolean as `true`/`false`; other value types keep their field meaning
//!   over the set of all values.
//! - Conditions: selection maps are AND, lists OR; `1 of` / `all of` / `N of` count the
//!   selections named; `all of` nothing is true, `1 of` nothing false; a list of conditions is
//!   OR. A variant matches when all its log-source conditions and the detection match; a rule when
//!   any variant does and none of the filters attached to it matches the event.

use std::cell::RefCell;
use std::collections::HashMap;

use sigma::condition::{Expr, Quantifier, of_targets};
use sigma::modifier::Link;
use sigma::pipeline::{ResolvedRule, Variant};
use sigma::rule::{Detection, DetectionItem, SelectionNode};
use sigma::value::{CmpOp, Part, RefMode, RegexFlags, SigmaString, Value};

use crate::event::{Event, FieldPath, Scalar};
use crate::semantics::{
    Num, build_regex, fold, num_civil, num_cmp, num_eq, number_text, parse_ip, parse_number,
    parse_timestamp, str_eq_number,
};

/// One owned value of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    Null,
    Bool(bool),
    Num(Num),
    Str(String),
    Other,
}

impl Owned {
    fn from(s: Scalar<'_>) -> Owned {
        match s {
            Scalar::Null => Owned::Null,
            Scalar::Bool(b) => Owned::Bool(b),
            Scalar::Num(n) => Owned::Num(n),
            Scalar::Str(t) => Owned::Str(t.into_owned()),
            Scalar::Other => Owned::Other,
        }
    }

    /// The text form (see [`crate::semantics`]).
    pub fn text(&self) -> Option<String> {
        match self {
            Owned::Str(s) => Some(s.clone()),
            Owned::Num(n) => Some(number_text(*n)),
            Owned::Bool(b) => Some(b.to_string()),
            Owned::Null | Owned::Other => None,
        }
    }
}

/// A field's values in one event.
#[derive(Debug, Clone, Default)]
pub struct FieldValues {
    pub present: bool,
    pub values: Vec<Owned>,
}

/// Read a field (or, for `None`, every value of the event).
pub fn read_field(ev: &dyn Event, field: Option<&str>) -> FieldValues {
    let mut values = Vec::new();
    let present = match field {
        Some(f) => ev.lookup(&FieldPath::new(f), &mut |s| values.push(Owned::from(s))),
        None => {
            ev.for_each_scalar(&mut |s| values.push(Owned::from(s)));
            true
        }
    };
    FieldValues { present, values }
}

/// The reference evaluator over a rule set. Filters are attached to the rules they name.
pub struct Naive<'r> {
    rules: &'r [ResolvedRule],
    filters: Vec<Vec<usize>>,
    excluded: Vec<bool>,
    regexes: RefCell<HashMap<(String, RegexFlags), Option<regex::Regex>>>,
    globs: RefCell<HashMap<(SigmaString, bool), Option<regex::Regex>>>,
}

/// A match found by the naive evaluator: the rule and its first matching variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaiveMatch {
    pub rule: usize,
    pub variant: usize,
}

impl<'r> Naive<'r> {
    /// Evaluate `rules`, ignoring those for which `excluded` is true (rules the engine refused).
    pub fn new(rules: &'r [ResolvedRule], excluded: impl Fn(usize) -> bool) -> Naive<'r> {
        // Rules a pipeline said do not apply never match.
        let excluded: Vec<bool> = (0..rules.len())
            .map(|i| excluded(i) || rules[i].skipped.is_some())
            .collect();
        let (filters, _) = crate::compile::attach_filters(rules, &|i| excluded[i]);
        Naive {
            rules,
            filters,
            excluded,
            regexes: RefCell::new(HashMap::new()),
            globs: RefCell::new(HashMap::new()),
        }
    }

    /// The filters attached to a rule (indices of filter rules).
    pub fn filters_of(&self, rule: usize) -> &[usize] {
        &self.filters[rule]
    }

    /// All matches of the event, in rule order.
    pub fn matches(&self, ev: &dyn Event) -> Vec<NaiveMatch> {
        (0..self.rules.len())
            .filter_map(|r| {
                self.rule_matches(r, ev)
                    .map(|variant| NaiveMatch { rule: r, variant })
            })
            .collect()
    }

    /// Does the rule match (detection or filter... only detection rules match)? Returns the
    /// first matching variant.
    pub fn rule_matches(&self, rule: usize, ev: &dyn Event) -> Option<usize> {
        if self.excluded[rule] {
            return None;
        }
        let r = &self.rules[rule];
        if !matches!(r.rule.body, sigma::RuleBody::Detection(_)) {
            return None;
        }
        let v = r
            .variants
            .iter()
            .position(|v| self.variant_matches(v, ev))?;
        if self.filters[rule]
            .iter()
            .any(|&f| self.filter_matches(f, ev))
        {
            return None;
        }
        Some(v)
    }

    /// Does a filter rule's selection match the event (any variant)?
    pub fn filter_matches(&self, filter: usize, ev: &dyn Event) -> bool {
        self.rules[filter]
            .variants
            .iter()
            .any(|v| self.variant_matches(v, ev))
    }

    /// A variant: all log-source conditions and any of the detection's conditions.
    pub fn variant_matches(&self, v: &Variant, ev: &dyn Event) -> bool {
        v.conditions.iter().all(|c| self.item_matches(c, ev))
            && v.detection
                .conditions
                .iter()
                .any(|c| self.expr_matches(&c.parsed.expr, &v.detection, ev))
    }

    /// A condition expression.
    pub fn expr_matches(&self, e: &Expr, d: &Detection, ev: &dyn Event) -> bool {
        match e {
            Expr::Ident { name, .. } => self.selection_matches(d, name, ev),
            Expr::Not(e, _) => !self.expr_matches(e, d, ev),
            Expr::And(es, _) => es.iter().all(|e| self.expr_matches(e, d, ev)),
            Expr::Or(es, _) => es.iter().any(|e| self.expr_matches(e, d, ev)),
            Expr::Of {
                quantifier, target, ..
            } => {
                let names = d.selection_names();
                let targets = of_targets(target, &names);
                let n = targets
                    .iter()
                    .filter(|t| self.selection_matches(d, t, ev))
                    .count();
                match quantifier {
                    Quantifier::Any => n >= 1,
                    Quantifier::All => n == targets.len(),
                    Quantifier::AtLeast(k) => n >= *k as usize,
                }
            }
        }
    }

    /// A named selection (unknown names never match; the engine refuses such rules).
    pub fn selection_matches(&self, d: &Detection, name: &str, ev: &dyn Event) -> bool {
        d.selection(name)
            .is_some_and(|s| self.node_matches(&s.node, ev))
    }

    /// A selection node: maps AND, lists OR.
    pub fn node_matches(&self, n: &SelectionNode, ev: &dyn Event) -> bool {
        match n {
            SelectionNode::And(ns) => ns.iter().all(|n| self.node_matches(n, ev)),
            SelectionNode::Or(ns) => ns.iter().any(|n| self.node_matches(n, ev)),
            SelectionNode::Item(i) => self.item_matches(i, ev),
        }
    }

    /// One detection item.
    pub fn item_matches(&self, item: &DetectionItem, ev: &dyn Event) -> bool {
        let f = read_field(ev, item.field.as_deref());
        let one = |v: &Value| self.value_matches(v, item, &f, ev);
        let r = match item.flags.link {
            Link::Any => item.values.iter().any(|v| one(v)),
            Link::All => item.values.iter().all(|v| one(v)),
        };
        r != item.flags.negated
    }

    /// One value of an item against the field's values (`f`).
    pub fn value_matches(
        &self,
        v: &Value,
        item: &DetectionItem,
        f: &FieldValues,
        ev: &dyn Event,
    ) -> bool {
        let cased = item.flags.cased;
        let keyword = item.field.is_none();
        let texts = || f.values.iter().filter_map(Owned::text);
        let globs = |p: SigmaString| {
            let mut cache = self.globs.borrow_mut();
            let re = cache
                .entry((p, cased))
                .or_insert_with_key(|(p, cased)| glob_regex(p, *cased));
            match re {
                Some(re) => texts().any(|t| re.is_match(&if cased { t } else { fold(&t) })),
                // Placeholders: never match (refused at compile time).
                None => false,
            }
        };
        match v {
            Value::Str(p) => globs(if keyword {
                surround(p.clone())
            } else {
                p.clone()
            }),
            Value::Num(n) if keyword => globs(surround(SigmaString::literal(&n.text))),
            Value::Bool(b) if keyword => globs(surround(SigmaString::literal(if *b {
                "true"
            } else {
                "false"
            }))),
            Value::Num(n) => {
                let rn = Num::from_rule(n);
                f.values.iter().any(|x| match x {
                    Owned::Num(m) => num_eq(*m, rn),
                    Owned::Str(s) => str_eq_number(s, &fold(s), rn, &fold(&n.text)),
                    _ => false,
                })
            }
            Value::Bool(b) => f.values.iter().any(|x| match x {
                Owned::Bool(c) => c == b,
                Owned::Str(s) => fold(s) == if *b { "true" } else { "false" },
                _ => false,
            }),
            Value::Null => !f.present || f.values.is_empty() || f.values.contains(&Owned::Null),
            Value::Regex(r) => {
                let mut cache = self.regexes.borrow_mut();
                let re = cache
                    .entry((r.pattern.clone(), r.flags))
                    .or_insert_with(|| build_regex(r).ok());
                match re {
                    Some(re) => texts().any(|t| re.is_match(&t)),
                    None => false,
                }
            }
            Value::Cidr(c) => texts().any(|t| parse_ip(&t).is_some_and(|ip| c.contains(ip))),
            Value::Cmp(op, n) => {
                let rn = Num::from_rule(n);
                f.values.iter().any(|x| {
                    let m = match x {
                        Owned::Num(m) => Some(*m),
                        Owned::Str(s) => parse_number(s),
                        _ => None,
                    };
                    m.and_then(|m| num_cmp(m, rn))
                        .is_some_and(|o| cmp_holds(*op, o))
                })
            }
            Value::Exists(b) => f.present == *b,
            Value::FieldRef(other, mode) => {
                let o = read_field(ev, Some(other));
                let norm = |s: String| if cased { s } else { fold(&s) };
                let mine: Vec<String> = texts().map(norm).collect();
                let theirs: Vec<String> =
                    o.values.iter().filter_map(Owned::text).map(norm).collect();
                mine.iter().any(|a| {
                    theirs.iter().any(|b| match mode {
                        RefMode::Equals => a == b,
                        RefMode::StartsWith => a.starts_with(b.as_str()),
                        RefMode::EndsWith => a.ends_with(b.as_str()),
                        RefMode::Contains => a.contains(b.as_str()),
                    })
                })
            }
            Value::TimePart(part, want) => f.values.iter().any(|x| {
                let civil = match x {
                    Owned::Str(s) => parse_timestamp(s),
                    Owned::Num(n) => num_civil(*n),
                    _ => None,
                };
                civil.is_some_and(|c| c.part(*part) == *want)
            }),
            Value::AnyOf(vs) => vs.iter().any(|v| self.value_matches(v, item, f, ev)),
        }
    }
}

/// Whether an ordering satisfies a comparison operator.
pub fn cmp_holds(op: CmpOp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        CmpOp::Lt => o == Less,
        CmpOp::Lte => o != Greater,
        CmpOp::Gt => o == Greater,
        CmpOp::Gte => o != Less,
        CmpOp::Eq => o == Equal,
        CmpOp::Neq => o != Equal,
    }
}

/// `*pattern*`: how keywords are searched.
pub fn surround(mut p: SigmaString) -> SigmaString {
    p.prepend_any();
    p.append_any();
    p
}

/// A wildcard pattern as an anchored regular expression over the (folded) text: literal
/// parts escaped, `?` one character, `*` any characters (newlines included). This is how the
/// naive evaluator matches strings; [`glob`] is the same by dynamic programming.
pub fn glob_regex(p: &SigmaString, cased: bool) -> Option<regex::Regex> {
    let mut re = String::from("(?s)^");
    for part in p.parts() {
        match part {
            Part::Lit(l) => re.push_str(&regex::escape(&if cased { l.clone() } else { fold(l) })),
            Part::AnyChars => re.push_str(".*"),
            Part::OneChar => re.push('.'),
            Part::Placeholder(_) => return None,
        }
    }
    re.push('$');
    regex::RegexBuilder::new(&re)
        .size_limit(64 << 20)
        .build()
        .ok()
}

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    Char(char),
    One,
    Star,
}

/// Wildcard match of a whole text, by dynamic programming over characters.
pub fn glob(p: &SigmaString, text: &str, cased: bool) -> bool {
    let mut toks = Vec::new();
    for part in p.parts() {
        match part {
            Part::Lit(l) => {
                let l = if cased { l.clone() } else { fold(l) };
                toks.extend(l.chars().map(Tok::Char));
            }
            Part::AnyChars => toks.push(Tok::Star),
            Part::OneChar => toks.push(Tok::One),
            // Refused at compile time; never matches here.
            Part::Placeholder(_) => return false,
        }
    }
    let t: Vec<char> = if cased {
        text.chars().collect()
    } else {
        fold(text).chars().collect()
    };
    // dp[j]: pattern prefix of length i matches text prefix of length j.
    let mut dp = vec![false; t.len() + 1];
    dp[0] = true;
    for tok in &toks {
        let mut next = vec![false; t.len() + 1];
        match tok {
            Tok::Star => {
                let mut any = false;
                for j in 0..=t.len() {
                    any |= dp[j];
                    next[j] = any;
                }
            }
            Tok::One => {
                next[1..].copy_from_slice(&dp[..t.len()]);
            }
            Tok::Char(c) => {
                for j in 1..=t.len() {
                    next[j] = dp[j - 1] && t[j - 1] == *c;
                }
            }
        }
        dp = next;
    }
    dp[t.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_basics() {
        let p = SigmaString::parse;
        assert!(glob(&p("*\\cmd.exe"), "C:\\Windows\\CMD.EXE", false));
        assert!(!glob(&p("*\\cmd.exe"), "C:\\Windows\\CMD.EXE", true));
        assert!(glob(&p("a?c"), "abc", false));
        assert!(!glob(&p("a?c"), "abbc", false));
        assert!(glob(&p("a*b*c"), "aXbYc", false));
        assert!(glob(&p(""), "", false));
        assert!(!glob(&p(""), "x", false));
        assert!(glob(&p("*"), "", false));
        assert!(glob(&p(r"a\*b"), "a*b", false));
        assert!(!glob(&p(r"a\*b"), "axb", false));
    }

    #[test]
    fn glob_regex_agrees_with_dynamic_programming() {
        let patterns = [
            "", "*", "a?c", "*é*", "a*b*c", r"a\*b", "?*?", "*.exe", "x(y)+",
        ];
        let texts = [
            "",
            "a",
            "abc",
            "aéc",
            "aXbYc",
            "a*b",
            "ab",
            "é",
            "C:\\X.EXE",
            "x(y)+",
        ];
        for pat in patterns {
            let sp = SigmaString::parse(pat);
            for cased in [false, true] {
                let re = glob_regex(&sp, cased).unwrap();
                for t in texts {
                    let folded = if cased { t.to_owned() } else { fold(t) };
                    assert_eq!(
                        re.is_match(&folded),
                        glob(&sp, t, cased),
                        "{pat} {t} {cased}"
                    );
                }
            }
        }
    }
}
