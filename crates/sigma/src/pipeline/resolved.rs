//! The output of pipelines: resolved rules.

use std::collections::HashMap;
use std::sync::Arc;

use crate::rule::{Detection, DetectionItem, Rule, RuleBody};

/// A rule after pipelines: the rule as written plus one variant per mapped log source.
#[derive(Debug, Clone)]
pub struct ResolvedRule {
    pub rule: Rule,
    /// For detection and filter rules: at least one variant. A rule whose log source the pipeline
    /// maps to two sources (Sysmon and Security 4688, say) has two. Correlation rules have none:
    /// they are resolved through the rules they reference.
    pub variants: Vec<Variant>,
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
}

impl FieldMapper {
    /// The site's names for a Sigma field name (the name itself when nothing maps it).
    pub fn map(&self, name: &str) -> Vec<String> {
        match self.map.get(name) {
            Some(v) => v.clone(),
            None => vec![match &self.prefix {
                Some(p) => format!("{p}{name}"),
                None => name.to_owned(),
            }],
        }
    }
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

/// Resolution without any pipeline: one variant, fields as written, no extra conditions.
pub fn resolve_identity(rule: &Rule) -> ResolvedRule {
    let variants = match &rule.body {
        RuleBody::Detection(d) => vec![identity_variant(&d.detection)],
        RuleBody::Filter(f) => vec![identity_variant(&f.detection)],
        RuleBody::Correlation(_) => Vec::new(),
    };
    ResolvedRule {
        rule: rule.clone(),
        variants,
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
