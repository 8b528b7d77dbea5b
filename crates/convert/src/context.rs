//! What a backend may know about the other rules of a run: the rules a correlation refers to,
//! and which titles and file stems several rules share (names that must be unique per target,
//! such as ElastAlert's `name` or ee-outliers' section names, are made unique from this).

use std::collections::HashMap;
use std::sync::OnceLock;

use sigma::pipeline::ResolvedRule;
use sigma::rule::RuleBody;

/// The rules of one conversion run.
#[derive(Debug, Default)]
pub struct Context<'a> {
    by_id: HashMap<&'a str, &'a ResolvedRule>,
    by_name: HashMap<&'a str, &'a ResolvedRule>,
    rules: Vec<&'a ResolvedRule>,
    /// Counted when a target first asks (the query targets never do).
    shared: OnceLock<Shared<'a>>,
}

/// How many rules of the run have each title and each file stem.
#[derive(Debug, Default)]
struct Shared<'a> {
    titles: HashMap<&'a str, usize>,
    stems: HashMap<String, usize>,
}

impl<'a> Context<'a> {
    /// A context over every rule of the run (after pipelines).
    pub fn new(rules: impl IntoIterator<Item = &'a ResolvedRule>) -> Self {
        let mut cx = Context::default();
        for r in rules {
            if let Some(id) = r.rule.id() {
                cx.by_id.entry(id).or_insert(r);
            }
            if let Some(n) = &r.rule.meta.name {
                cx.by_name.entry(n.value.as_str()).or_insert(r);
            }
            cx.rules.push(r);
        }
        cx
    }

    fn shared(&self) -> &Shared<'a> {
        self.shared.get_or_init(|| {
            let mut s = Shared::default();
            for r in &self.rules {
                *s.titles.entry(r.rule.title()).or_default() += 1;
                *s.stems.entry(crate::base_stem(&r.rule)).or_default() += 1;
            }
            s
        })
    }

    /// A rule by id, or else by name (correlations may use either).
    pub fn lookup(&self, reference: &str) -> Option<&'a ResolvedRule> {
        self.by_id
            .get(reference)
            .or_else(|| self.by_name.get(reference))
            .copied()
    }

    /// Does another rule of the run have this title?
    pub fn shared_title(&self, title: &str) -> bool {
        self.shared().titles.get(title).is_some_and(|&n| n > 1)
    }

    /// Does another rule of the run have this file stem?
    pub fn shared_stem(&self, stem: &str) -> bool {
        self.shared().stems.get(stem).is_some_and(|&n| n > 1)
    }

    /// The rules a correlation refers to that are in the run, by reference as written.
    pub fn referenced<'r>(
        &self,
        rule: &'r ResolvedRule,
    ) -> Vec<(&'r str, Option<&'a ResolvedRule>)> {
        match &rule.rule.body {
            RuleBody::Correlation(c) => c
                .rules
                .iter()
                .map(|r| (r.value.as_str(), self.lookup(&r.value)))
                .collect(),
            _ => Vec::new(),
        }
    }
}
