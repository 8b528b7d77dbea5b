//! Why a rule cannot be converted: the rule, the field and the feature.

use std::fmt;

use sigma::pipeline::ResolvedRule;

/// The Sigma feature a target cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Feature {
    /// A `re` value the target's regular-expression dialect cannot express exactly.
    Regex,
    /// A `cidr` value the target cannot express on this field.
    Cidr,
    /// `fieldref`: comparing two fields of one event.
    FieldRef,
    /// `minute`, `hour`, ... time-part modifiers.
    TimePart,
    /// `lt` / `lte` / `gt` / `gte`.
    Comparison,
    /// `%placeholder%` values no pipeline expanded.
    Placeholder,
    /// Case-sensitivity (`cased`, or a case-sensitive value under a case strategy that lost
    /// the case).
    Case,
    /// Legacy `| count() by x > n` and similar.
    Aggregation,
    /// Legacy `| near ...`.
    Near,
    /// Correlation rules.
    Correlation,
    /// Filter rules (they modify the rules they reference).
    Filter,
    /// `N of ...` with too many combinations to spell out.
    Quantifier,
    /// A rule the pipelines mapped to no log source, or a broken reference in the condition.
    Structure,
    /// An option given to the backend that it does not understand.
    Option,
    /// Keywords: values without a field, searched in the whole event.
    Keyword,
    /// Null, missing or multi-valued field semantics the target cannot express.
    Null,
}

impl Feature {
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Regex => "re",
            Feature::Cidr => "cidr",
            Feature::FieldRef => "fieldref",
            Feature::TimePart => "time part",
            Feature::Comparison => "comparison",
            Feature::Placeholder => "placeholder",
            Feature::Case => "case",
            Feature::Aggregation => "aggregation",
            Feature::Near => "near",
            Feature::Correlation => "correlation",
            Feature::Filter => "filter",
            Feature::Quantifier => "quantifier",
            Feature::Structure => "structure",
            Feature::Option => "option",
            Feature::Keyword => "keyword",
            Feature::Null => "null",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: the target cannot express this rule exactly.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConvertError {
    /// The rule: its id when it has one, else its title.
    pub rule: std::sync::Arc<str>,
    /// The rule's file.
    pub path: std::sync::Arc<str>,
    /// The target.
    pub target: &'static str,
    /// The field (site name) of the detection item, when the problem is about one.
    pub field: Option<String>,
    pub feature: Feature,
    /// Why, in a stable phrase that does not depend on the rule (used to group refusals).
    pub reason: &'static str,
    /// The rule-specific part: the value or pattern in question.
    pub detail: Option<String>,
}

impl ConvertError {
    /// A refusal not yet tied to a rule (the builders produce these; [`Self::for_rule`] fills
    /// in the rule).
    pub fn new(feature: Feature, reason: &'static str) -> Self {
        ConvertError {
            rule: std::sync::Arc::from(""),
            path: std::sync::Arc::from(""),
            target: "",
            field: None,
            feature,
            reason,
            detail: None,
        }
    }

    pub fn with_field(mut self, field: Option<&str>) -> Self {
        if self.field.is_none() {
            self.field = field.map(str::to_owned);
        }
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        if self.detail.is_none() {
            self.detail = Some(detail.into());
        }
        self
    }

    /// Name the rule and target.
    pub fn for_rule(mut self, rule: &ResolvedRule, target: &'static str) -> Self {
        let r = &rule.rule;
        self.rule = std::sync::Arc::from(r.id().unwrap_or_else(|| r.title()));
        self.path = r.origin.path.clone();
        self.target = target;
        self
    }

    /// The grouping key of the summary: feature and reason.
    pub fn group(&self) -> String {
        format!("{}: {}", self.feature, self.reason)
    }

    fn render(&self) -> String {
        let mut s = String::new();
        if !self.rule.is_empty() {
            s.push_str(&format!("rule {}", self.rule));
            if !self.path.is_empty() {
                s.push_str(&format!(" ({})", self.path));
            }
            s.push_str(": ");
        }
        if !self.target.is_empty() {
            s.push_str(&format!("{} cannot express ", self.target));
        } else {
            s.push_str("cannot express ");
        }
        s.push_str(self.feature.as_str());
        if let Some(f) = &self.field {
            s.push_str(&format!(" on field {f}"));
        }
        s.push_str(&format!(": {}", self.reason));
        if let Some(d) = &self.detail {
            s.push_str(&format!(" ({d})"));
        }
        s
    }
}
