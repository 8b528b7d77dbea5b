//! The output of pipelines: resolved rules.

use std::sync::Arc;

use super::model::{Case, FieldFilter};
use crate::hash::FastMap as HashMap;
use crate::rule::{Detection, DetectionItem, Rule, RuleBody};

/// A rule after pipelines: the rule as written plus one variant per mapped log source.
#[derive(Debug, Clone)]
pub struct ResolvedRule {
    /// The rule as loaded, shared with the rule set and with the same rule resolved through
    /// other pipelines (a hunt compiles one engine per pipeline it meets; a copy of every rule
    /// per engine was a third of its heap).
    pub rule: Arc<Rule>,
    /// For detection and filter rules: at least one variant. A rule whose log source the pipeline
    /// maps to two sources (Sysmon and Security 4688, say) has two. Correlation rules have none:
    /// they are resolved through the rules they reference.
    pub variants: Vec<Variant>,
    /// Set when a pipeline does not apply to the rule at all (a hunting pipeline that does not
    /// map the rule's log source): `variants` is then empty and the rule must be skipped (and
    /// counted), not matched against every event.
    pub skipped: Option<NotApplicable>,
}

/// Why a rule has no variant under a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotApplicable {
    /// The pipeline that does not map the rule.
    pub pipeline: String,
    /// "log source category 'x' (windows/x/*) not mapped by pipeline evtx".
    pub reason: String,
}

impl std::fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not applicable: {}", self.reason)
    }
}

impl ResolvedRule {
    /// `false` when a pipeline said the rule does not apply to its data (see `skipped`).
    pub fn is_applicable(&self) -> bool {
        self.skipped.is_none()
    }
}

/// One log source a rule applies to after mapping.
#[derive(Debug, Clone)]
pub struct Variant {
    /// A short label for the mapped source (`sysmon`, `security`, ...), used in output file
    /// names when a rule has several variants. `None` when there is only one obvious variant.
    pub label: Option<String>,
    /// Index patterns for query backends. Empty: the backend's or the user's default.
    pub indices: Vec<String>,
    /// Conditions an event must meet to belong to this log source (all of them), e.g.
    /// `Channel: Microsoft-Windows-Sysmon/Operational` and `EventID: 1`. Field names are already
    /// the site's.
    pub conditions: Vec<DetectionItem>,
    /// The detection with the site's field names (a one-to-many mapping becomes an OR of items).
    pub detection: Detection,
    /// How to name any Sigma field in this variant's events (for correlation `group-by`, rule
    /// `fields`, aliases).
    pub fields: Arc<FieldMapper>,
    /// What the pipelines changed, in order.
    pub changes: Vec<Change>,
}

/// Maps Sigma field names to the site's field names for one variant.
#[derive(Debug, Clone, Default)]
pub struct FieldMapper {
    /// Explicit mappings; a name may map to several fields (any of them).
    pub map: HashMap<String, Vec<String>>,
    /// Prefixes added to names that have no explicit mapping (applied in order).
    pub prefix: Option<String>,
    /// For names with no explicit mapping: the pipeline's renaming steps, in order (used
    /// instead of `prefix` when not empty). Pipelines fill `map` for every field the rule
    /// uses, so these only matter for other names (correlation `group-by`, `fields`).
    pub steps: Vec<NameStep>,
}

/// One renaming step of a pipeline, resolved for one variant.
#[derive(Debug, Clone)]
pub enum NameStep {
    /// Listed names map to their targets; others get each of `unmapped_prefixes` (or stay).
    Map {
        /// Shared by the rules the map resolves the same way for.
        map: Arc<HashMap<String, Vec<String>>>,
        unmapped_prefixes: Vec<String>,
        filter: FieldFilter,
    },
    Prefix {
        prefix: String,
        filter: FieldFilter,
    },
    PrefixMap {
        map: Vec<(String, Vec<String>)>,
        filter: FieldFilter,
    },
    Case {
        case: Case,
        filter: FieldFilter,
    },
}

impl NameStep {
    /// The names one name becomes (itself when the step does not touch it).
    pub fn apply(&self, name: &str) -> Vec<String> {
        match self {
            NameStep::Map {
                map,
                unmapped_prefixes,
                filter,
            } => {
                if !filter.accepts(Some(name)) {
                    return vec![name.to_owned()];
                }
                if let Some(v) = map.get(name) {
                    return v.clone();
                }
                if unmapped_prefixes.is_empty() {
                    vec![name.to_owned()]
                } else {
                    unmapped_prefixes
                        .iter()
                        .map(|p| format!("{p}{name}"))
                        .collect()
                }
            }
            NameStep::Prefix { prefix, filter } => {
                if filter.accepts(Some(name)) {
                    vec![format!("{prefix}{name}")]
                } else {
                    vec![name.to_owned()]
                }
            }
            NameStep::PrefixMap { map, filter } => {
                if filter.accepts(Some(name)) {
                    for (from, to) in map {
                        if let Some(rest) = name.strip_prefix(from.as_str()) {
                            return to.iter().map(|t| format!("{t}{rest}")).collect();
                        }
                    }
                }
                vec![name.to_owned()]
            }
            NameStep::Case { case, filter } => {
                if !filter.accepts(Some(name)) {
                    return vec![name.to_owned()];
                }
                vec![match case {
                    Case::Lower => name.to_lowercase(),
                    Case::Upper => name.to_uppercase(),
                }]
            }
        }
    }
}

impl FieldMapper {
    /// The site's names for a Sigma field name (the name itself when nothing maps it).
    pub fn map(&self, name: &str) -> Vec<String> {
        match self.map.get(name) {
            Some(v) => v.clone(),
            None if !self.steps.is_empty() => run_steps(&self.steps, name),
            None => vec![match &self.prefix {
                Some(p) => format!("{p}{name}"),
                None => name.to_owned(),
            }],
        }
    }
}

/// Run renaming steps over one name; duplicates are removed, order kept.
pub(crate) fn run_steps(steps: &[NameStep], name: &str) -> Vec<String> {
    let mut names = vec![name.to_owned()];
    for step in steps {
        let mut next: Vec<String> = Vec::with_capacity(names.len());
        for n in &names {
            for m in step.apply(n) {
                if !next.contains(&m) {
                    next.push(m);
                }
            }
        }
        names = next;
    }
    names
}

/// One change a pipeline item made to a rule, for `resolve`/`explain` output and errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The pipeline's name (built-in name or file path).
    pub pipeline: String,
    /// The item of the pipeline (its id, or its kind and position).
    pub item: String,
    /// What it did, in words: "field Image -> process.executable".
    pub description: String,
}

/// A rule to resolve: a shared rule ([`Arc<Rule>`], `&Arc<Rule>`) is kept as is, with no copy;
/// an owned [`Rule`] moves into a new [`Arc`]; a borrowed `&Rule` is copied.
pub trait IntoSharedRule {
    /// The rule, borrowed (to resolve it before deciding to keep it).
    fn rule(&self) -> &Rule;
    fn into_shared(self) -> Arc<Rule>;
}

impl IntoSharedRule for Arc<Rule> {
    fn rule(&self) -> &Rule {
        self
    }

    fn into_shared(self) -> Arc<Rule> {
        self
    }
}

impl IntoSharedRule for &Arc<Rule> {
    fn rule(&self) -> &Rule {
        self
    }

    fn into_shared(self) -> Arc<Rule> {
        Arc::clone(self)
    }
}

impl IntoSharedRule for Rule {
    fn rule(&self) -> &Rule {
        self
    }

    fn into_shared(self) -> Arc<Rule> {
        Arc::new(self)
    }
}

impl IntoSharedRule for &Rule {
    fn rule(&self) -> &Rule {
        self
    }

    fn into_shared(self) -> Arc<Rule> {
        Arc::new(self.clone())
    }
}

/// Resolution without any pipeline: one variant, fields as written, no extra conditions.
pub fn resolve_identity(rule: impl IntoSharedRule) -> ResolvedRule {
    let rule = rule.into_shared();
    let variants = match &rule.body {
        RuleBody::Detection(d) => vec![identity_variant(&d.detection)],
        RuleBody::Filter(f) => vec![identity_variant(&f.detection)],
        RuleBody::Correlation(_) => Vec::new(),
    };
    ResolvedRule {
        rule,
        variants,
        skipped: None,
    }
}

fn identity_variant(d: &Detection) -> Variant {
    Variant {
        label: None,
        indices: Vec::new(),
        conditions: Vec::new(),
        detection: d.clone(),
        fields: Arc::new(FieldMapper::default()),
        changes: Vec::new(),
    }
}
