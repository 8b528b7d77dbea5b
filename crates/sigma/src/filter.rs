//! Sigma 2.1 filter rules folded into the rules they name, for consumers that need one
//! self-contained rule (query backends). The engine attaches filters at match time instead
//! (crates/engine/src/compile.rs); both follow the same reading:
//!
//! - a filter applies to a detection rule it names (by id or name) whose log source lies within
//!   the filter's log source;
//! - the filter's condition names the events to suppress: every condition of the rule becomes
//!   `(condition) and not (filter condition)`.
//!
//! The filter's selections are added to the rule under hidden names (`_filter<N>_<name>`, which
//! `them` never picks up), and `of` expressions of the filter's condition are spelled out over
//! the filter's own selections before renaming, so they keep their meaning.

use crate::condition::{Condition, Expr, Quantifier, of_targets};
use crate::rule::{ConditionEntry, Detection, Rule, RuleBody, Selection};

/// The most combinations a filter's `N of ...` may expand to.
const MAX_COMBINATIONS: usize = 256;

/// What [`apply`] did with one filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Index of the filter rule in the slice.
    pub filter: usize,
    /// Indices of the rules it was folded into.
    pub rules: Vec<usize>,
    /// Why it was not applied at all (a condition too large to spell out).
    pub refused: Option<String>,
}

/// Fold every filter rule of `rules` into the detection rules it names. Filter rules stay in the
/// slice (callers skip them); rules no filter names are untouched.
pub fn apply(rules: &mut [Rule]) -> Vec<Applied> {
    let mut out = Vec::new();
    let filters: Vec<usize> = (0..rules.len())
        .filter(|&i| matches!(rules[i].body, RuleBody::Filter(_)))
        .collect();
    for (n, &fi) in filters.iter().enumerate() {
        let RuleBody::Filter(f) = &rules[fi].body else {
            continue;
        };
        let f = f.clone();
        let prefix = format!("_filter{}_", n + 1);
        let mut applied = Applied {
            filter: fi,
            rules: Vec::new(),
            refused: None,
        };
        let names = f.detection.selection_names();
        let spelled: Result<Vec<Expr>, String> = f
            .detection
            .conditions
            .iter()
            .map(|c| spell_out(&c.parsed.expr, &names).map(|e| rename(e, &prefix)))
            .collect();
        let filter_expr = match spelled {
            Ok(mut exprs) if exprs.len() == 1 => exprs.remove(0),
            Ok(exprs) => Expr::Or(exprs, 0..0),
            Err(why) => {
                applied.refused = Some(why);
                out.push(applied);
                continue;
            }
        };
        for (ri, rule) in rules.iter_mut().enumerate() {
            let named = f.rules.iter().any(|r| {
                rule.id() == Some(r.value.as_str())
                    || rule.meta.name.as_ref().is_some_and(|n| n.value == r.value)
            });
            let RuleBody::Detection(d) = &mut rule.body else {
                continue;
            };
            if !named || !crate::ruleset::logsource_within(&d.logsource, &f.logsource) {
                continue;
            }
            fold(&mut d.detection, &f.detection, &filter_expr, &prefix);
            applied.rules.push(ri);
        }
        out.push(applied);
    }
    out
}

fn fold(d: &mut Detection, filter: &Detection, filter_expr: &Expr, prefix: &str) {
    for s in &filter.selections {
        d.selections.push(Selection {
            name: format!("{prefix}{}", s.name),
            span: s.span,
            node: s.node.clone(),
        });
    }
    for c in &mut d.conditions {
        let expr = Expr::And(
            vec![
                c.parsed.expr.clone(),
                Expr::Not(Box::new(filter_expr.clone()), 0..0),
            ],
            0..0,
        );
        *c = ConditionEntry {
            text: format!("({}) and not ({filter_expr})", c.parsed.expr),
            parsed: Condition {
                expr,
                aggregation: c.parsed.aggregation.clone(),
            },
            span: c.span,
            text_start: None,
        };
    }
}

/// `of` expressions over the filter's own selections become plain `and` / `or`.
fn spell_out(e: &Expr, names: &[&str]) -> Result<Expr, String> {
    Ok(match e {
        Expr::Ident { .. } => e.clone(),
        Expr::Not(inner, s) => Expr::Not(Box::new(spell_out(inner, names)?), s.clone()),
        Expr::And(v, s) => Expr::And(
            v.iter()
                .map(|x| spell_out(x, names))
                .collect::<Result<_, _>>()?,
            s.clone(),
        ),
        Expr::Or(v, s) => Expr::Or(
            v.iter()
                .map(|x| spell_out(x, names))
                .collect::<Result<_, _>>()?,
            s.clone(),
        ),
        Expr::Of {
            quantifier,
            target,
            span,
        } => {
            let picked = of_targets(target, names);
            let ident = |n: &str| Expr::Ident {
                name: n.to_owned(),
                span: span.clone(),
            };
            let group = |v: Vec<Expr>, and: bool| match (v.len(), and) {
                (1, _) => v.into_iter().next().expect("one element"),
                (_, true) => Expr::And(v, span.clone()),
                (_, false) => Expr::Or(v, span.clone()),
            };
            if picked.is_empty() {
                return Err(format!("`{e}` names no selection of the filter"));
            }
            match quantifier {
                Quantifier::Any => group(picked.iter().map(|n| ident(n)).collect(), false),
                Quantifier::All => group(picked.iter().map(|n| ident(n)).collect(), true),
                Quantifier::AtLeast(k) => {
                    let k = *k as usize;
                    if k > picked.len() {
                        return Err(format!("`{e}` asks for more selections than there are"));
                    }
                    let combos = combinations(picked.len(), k, MAX_COMBINATIONS)
                        .ok_or_else(|| format!("`{e}` expands to too many combinations"))?;
                    group(
                        combos
                            .into_iter()
                            .map(|c| group(c.into_iter().map(|i| ident(picked[i])).collect(), true))
                            .collect(),
                        false,
                    )
                }
            }
        }
    })
}

fn rename(e: Expr, prefix: &str) -> Expr {
    match e {
        Expr::Ident { name, span } => Expr::Ident {
            name: format!("{prefix}{name}"),
            span,
        },
        Expr::Not(inner, s) => Expr::Not(Box::new(rename(*inner, prefix)), s),
        Expr::And(v, s) => Expr::And(v.into_iter().map(|x| rename(x, prefix)).collect(), s),
        Expr::Or(v, s) => Expr::Or(v.into_iter().map(|x| rename(x, prefix)).collect(), s),
        other => other,
    }
}

/// The k-element index combinations of 0..n, or None when there are more than `max`.
fn combinations(n: usize, k: usize, max: usize) -> Option<Vec<Vec<usize>>> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        if out.len() >= max {
            return None;
        }
        out.push(idx.clone());
        let mut i = k;
        loop {
            if i == 0 {
                return Some(out);
            }
            i -= 1;
            if idx[i] != i + n - k {
                break;
            }
            if i == 0 {
                return Some(out);
            }
        }
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r"title: Base
id: 11111111-1111-4111-8111-111111111111
logsource:
    category: process_creation
    product: windows
detection:
    sel:
        Image|endswith: '\x.exe'
    condition: 1 of them
---
title: Other log source
name: other
logsource:
    category: network_connection
    product: windows
detection:
    sel:
        DestinationPort: 3389
    condition: sel
---
title: Filter
id: 22222222-2222-4222-8222-222222222222
logsource:
    product: windows
filter:
    rules:
        - 11111111-1111-4111-8111-111111111111
        - other
    a1:
        User|startswith: adm_
    a2:
        User: svc
    b:
        ParentImage|endswith: '\ccmexec.exe'
    condition: 1 of a* or (2 of them and b)
---
title: Filter for another log source
logsource:
    category: file_event
    product: windows
filter:
    rules: [other]
    sel:
        TargetFilename: x
    condition: sel
";

    fn conditions(rules: &[Rule], i: usize) -> Vec<String> {
        let RuleBody::Detection(d) = &rules[i].body else {
            panic!("not a detection rule")
        };
        d.detection
            .conditions
            .iter()
            .map(|c| c.parsed.expr.to_string())
            .collect()
    }

    #[test]
    fn filters_become_and_not_with_hidden_spelled_out_selections() {
        let loaded = crate::load_str(RULES, "f.yml");
        assert!(loaded.diagnostics.iter().all(|d| !d.is_error()));
        let mut rules = loaded.rules;
        let applied = apply(&mut rules);
        assert_eq!(applied.len(), 2);
        assert_eq!(applied[0].rules, vec![0, 1]);
        assert!(
            applied[1].rules.is_empty(),
            "log source outside the filter's"
        );
        let c = conditions(&rules, 0);
        assert_eq!(c.len(), 1);
        // The rule's own `1 of them` does not pick up the hidden filter selections.
        assert!(c[0].starts_with("1 of them and not"), "{}", c[0]);
        for name in ["_filter1_a1", "_filter1_a2", "_filter1_b"] {
            assert!(c[0].contains(name), "{}", c[0]);
        }
        assert!(!c[0].contains(" of a*"), "{}", c[0]);
        // Printed conditions parse again and name only existing selections.
        let RuleBody::Detection(d) = &rules[0].body else {
            unreachable!()
        };
        let names = d.detection.selection_names();
        let parsed = crate::condition::parse(&c[0]).expect("parses");
        for n in crate::rule::condition_identifiers(&parsed) {
            assert!(names.contains(&n), "{n} not in {names:?}");
        }
    }

    #[test]
    fn combinations_are_bounded() {
        assert_eq!(
            combinations(3, 2, 10),
            Some(vec![vec![0, 1], vec![0, 2], vec![1, 2]])
        );
        assert_eq!(combinations(20, 10, 256), None);
    }
}
