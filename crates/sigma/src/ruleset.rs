//! A set of loaded rules: lookups by id and name, and the checks that need more than one rule
//! (correlation and filter references, duplicate ids).

use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::hash::FastMap as HashMap;
use crate::rule::{Rule, RuleBody};

/// Rules from any number of files.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Shared: rules resolved through pipelines ([`crate::pipeline::ResolvedRule::rule`]) point
    /// to these, one copy of each rule however many pipelines resolve it.
    pub rules: Vec<Arc<Rule>>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
}

/// A diagnostic about a rule of the set, with the index of that rule.
#[derive(Debug, Clone)]
pub struct SetDiagnostic {
    pub rule: usize,
    pub diagnostic: Diagnostic,
}

impl RuleSet {
    /// From owned rules (`Vec<Rule>`) or shared ones (`Vec<Arc<Rule>>`).
    pub fn new<R: Into<Arc<Rule>>>(rules: impl IntoIterator<Item = R>) -> Self {
        let mut set = RuleSet {
            rules: rules.into_iter().map(Into::into).collect(),
            ..RuleSet::default()
        };
        for (i, r) in set.rules.iter().enumerate() {
            if let Some(id) = r.id() {
                set.by_id.entry(id.to_owned()).or_insert(i);
            }
            if let Some(n) = &r.meta.name {
                set.by_name.entry(n.value.clone()).or_insert(i);
            }
        }
        set
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Find a rule by id, or else by name (correlations and filters may use either).
    pub fn lookup(&self, reference: &str) -> Option<usize> {
        self.by_id
            .get(reference)
            .or_else(|| self.by_name.get(reference))
            .copied()
    }

    /// Cross-rule checks: references of correlations (errors: the correlation cannot run) and
    /// filters (warnings: a filter may target rules that are not loaded), reference cycles, and
    /// duplicate ids and names (warnings).
    pub fn check(&self) -> Vec<SetDiagnostic> {
        let mut out = Vec::new();
        let mut seen_ids: HashMap<&str, usize> = HashMap::default();
        let mut seen_names: HashMap<&str, usize> = HashMap::default();
        for (i, r) in self.rules.iter().enumerate() {
            // The documents of a legacy rule collection (`action: global`) share the
            // collection's id: one file, one id, no warning.
            if let Some(id) = &r.meta.id
                && let Some(first) = seen_ids.insert(id.value.as_str(), i)
                && self.rules[first].origin.path != r.origin.path
            {
                let other = &self.rules[first];
                out.push(SetDiagnostic {
                    rule: i,
                    diagnostic: Diagnostic::warning(
                        "duplicate-id",
                        id.span,
                        format!(
                            "the id '{}' is also used by '{}' ({})",
                            id.value,
                            other.title(),
                            other.origin.path
                        ),
                    ),
                });
                seen_ids.insert(id.value.as_str(), first);
            }
            if let Some(n) = &r.meta.name
                && let Some(first) = seen_names.insert(n.value.as_str(), i)
            {
                out.push(SetDiagnostic {
                    rule: i,
                    diagnostic: Diagnostic::warning(
                        "duplicate-name",
                        n.span,
                        format!(
                            "the name '{}' is also used by '{}'",
                            n.value,
                            self.rules[first].title()
                        ),
                    ),
                });
                seen_names.insert(n.value.as_str(), first);
            }
            match &r.body {
                RuleBody::Correlation(c) => {
                    for reference in &c.rules {
                        match self.lookup(&reference.value) {
                            None => out.push(SetDiagnostic {
                                rule: i,
                                diagnostic: Diagnostic::error(
                                    "unknown-rule-reference",
                                    reference.span,
                                    format!(
                                        "no loaded rule has the id or name '{}'",
                                        reference.value
                                    ),
                                )
                                .with_help(
                                    "load the referenced rules together with the correlation",
                                ),
                            }),
                            Some(j) if matches!(self.rules[j].body, RuleBody::Filter(_)) => out
                                .push(SetDiagnostic {
                                    rule: i,
                                    diagnostic: Diagnostic::error(
                                        "unknown-rule-reference",
                                        reference.span,
                                        format!("'{}' is a filter, not a rule", reference.value),
                                    ),
                                }),
                            Some(_) => {}
                        }
                    }
                    for alias in &c.aliases {
                        for (rule, _) in &alias.fields {
                            if !c.rules.iter().any(|r| &r.value == rule) {
                                out.push(SetDiagnostic {
                                    rule: i,
                                    diagnostic: Diagnostic::warning(
                                        "alias-rule",
                                        c.span,
                                        format!(
                                            "alias '{}' names '{rule}', which the correlation does not reference",
                                            alias.name
                                        ),
                                    ),
                                });
                            }
                        }
                    }
                    if self.in_cycle(i) {
                        out.push(SetDiagnostic {
                            rule: i,
                            diagnostic: Diagnostic::error(
                                "reference-cycle",
                                c.span,
                                "the correlation refers back to itself through its rules",
                            ),
                        });
                    }
                }
                RuleBody::Filter(f) => {
                    // Sigma 2.1: the filter's condition names the events to suppress. pySigma
                    // instead ANDs it to the rule's condition, so filters written for it say
                    // `not selection`; under the spec's reading that keeps only those events.
                    for c in &f.detection.conditions {
                        if matches!(c.parsed.expr, crate::condition::Expr::Not(..)) {
                            out.push(SetDiagnostic {
                                rule: i,
                                diagnostic: Diagnostic::warning(
                                    "filter-negated-condition",
                                    c.span,
                                    "a filter's condition names the events to suppress; this one is negated, so the rules would keep only what it negates",
                                )
                                .with_help(
                                    "write the condition for the events to drop (pySigma-style filters that say `not selection` must drop the `not`)",
                                ),
                            });
                        }
                    }
                    for reference in &f.rules {
                        if let Some(j) = self.lookup(&reference.value)
                            && let Some(target) = self.rules[j].logsource()
                            && !logsource_within(target, &f.logsource)
                        {
                            out.push(SetDiagnostic {
                                rule: i,
                                diagnostic: Diagnostic::warning(
                                    "filter-logsource",
                                    reference.span,
                                    format!(
                                        "'{}' has log source {}, outside the filter's {}: the filter never applies to it",
                                        self.rules[j].title(),
                                        target,
                                        f.logsource
                                    ),
                                ),
                            });
                        }
                        if self.lookup(&reference.value).is_none() {
                            out.push(SetDiagnostic {
                                rule: i,
                                diagnostic: Diagnostic::warning(
                                    "unknown-rule-reference",
                                    reference.span,
                                    format!(
                                        "the filter names '{}', which is not among the loaded rules",
                                        reference.value
                                    ),
                                ),
                            });
                        }
                    }
                }
                RuleBody::Detection(_) => {}
            }
        }
        out
    }

    /// The rules a correlation refers to (resolved indices; unknown references skipped).
    pub fn correlation_targets(&self, rule: usize) -> Vec<usize> {
        match &self.rules[rule].body {
            RuleBody::Correlation(c) => c
                .rules
                .iter()
                .filter_map(|r| self.lookup(&r.value))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn in_cycle(&self, start: usize) -> bool {
        let mut stack = self.correlation_targets(start);
        let mut seen = vec![false; self.rules.len()];
        while let Some(j) = stack.pop() {
            if j == start {
                return true;
            }
            if std::mem::replace(&mut seen[j], true) {
                continue;
            }
            stack.extend(self.correlation_targets(j));
        }
        false
    }
}

/// Whether a rule's log source lies within a filter's: every key the filter sets is set the same
/// way (case-insensitively) on the rule.
pub(crate) fn logsource_within(
    rule: &crate::rule::LogSource,
    filter: &crate::rule::LogSource,
) -> bool {
    let same = |f: Option<&str>, r: Option<&str>| match f {
        None => true,
        Some(f) => r.is_some_and(|r| r.eq_ignore_ascii_case(f)),
    };
    same(filter.category(), rule.category())
        && same(filter.product(), rule.product())
        && same(filter.service(), rule.service())
}
