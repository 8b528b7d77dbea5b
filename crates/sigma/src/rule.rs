//! The rule model: detection rules, correlation rules and filters, as written (before any
//! pipeline). Every part that can be wrong keeps its span.

use std::fmt;
use std::sync::Arc;

use crate::condition::{self, CondSpan, Condition};
use crate::modifier::{ItemFlags, Modifier};
use crate::span::{Pos, Span};
use crate::value::{CmpOp, Value};
use crate::yaml::Node;

/// A value with the span it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Where a rule came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub path: Arc<str>,
    /// 0-based index of the YAML document in the file.
    pub document: usize,
}

/// One Sigma rule of any kind.
#[derive(Debug, Clone)]
pub struct Rule {
    pub origin: Origin,
    /// The span of the whole document.
    pub span: Span,
    pub meta: Meta,
    pub body: RuleBody,
}

#[derive(Debug, Clone)]
pub enum RuleBody {
    Detection(DetectionRule),
    Correlation(Correlation),
    Filter(Filter),
}

impl Rule {
    /// The rule id, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.meta.id.as_ref().map(|s| s.value.as_str())
    }

    pub fn title(&self) -> &str {
        &self.meta.title.value
    }

    pub fn kind_name(&self) -> &'static str {
        match self.body {
            RuleBody::Detection(_) => "detection",
            RuleBody::Correlation(_) => "correlation",
            RuleBody::Filter(_) => "filter",
        }
    }

    pub fn logsource(&self) -> Option<&LogSource> {
        match &self.body {
            RuleBody::Detection(d) => Some(&d.logsource),
            RuleBody::Filter(f) => Some(&f.logsource),
            RuleBody::Correlation(_) => None,
        }
    }

    pub fn detection(&self) -> Option<&Detection> {
        match &self.body {
            RuleBody::Detection(d) => Some(&d.detection),
            RuleBody::Filter(f) => Some(&f.detection),
            RuleBody::Correlation(_) => None,
        }
    }

    /// The ATT&CK tactics and techniques of the rule (`attack.*` tags).
    pub fn attack_tags(&self) -> impl Iterator<Item = &str> {
        self.meta
            .tags
            .iter()
            .filter_map(|t| t.value.strip_prefix("attack."))
    }
}

/// Metadata common to all rule kinds.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub title: Spanned<String>,
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub related: Vec<Related>,
    pub taxonomy: Option<String>,
    pub status: Option<Status>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub references: Vec<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub tags: Vec<Spanned<String>>,
    pub fields: Vec<String>,
    pub falsepositives: Vec<String>,
    pub level: Option<Level>,
    pub scope: Vec<String>,
    /// Top-level keys that are not part of the specification, kept as written.
    pub custom: Vec<(String, Node)>,
}

impl Default for Spanned<String> {
    fn default() -> Self {
        Spanned::new(String::new(), Span::default())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub id: String,
    /// derived, obsolete, merged, renamed, similar.
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Unsupported,
    Deprecated,
    Experimental,
    Test,
    Stable,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Stable,
        Status::Test,
        Status::Experimental,
        Status::Deprecated,
        Status::Unsupported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rule severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `logsource`: what kind of log the rule applies to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSource {
    pub category: Option<Spanned<String>>,
    pub product: Option<Spanned<String>>,
    pub service: Option<Spanned<String>>,
    pub definition: Option<String>,
    /// Other keys, kept as written.
    pub custom: Vec<(String, String)>,
    pub span: Span,
}

impl LogSource {
    pub fn category(&self) -> Option<&str> {
        self.category.as_ref().map(|s| s.value.as_str())
    }
    pub fn product(&self) -> Option<&str> {
        self.product.as_ref().map(|s| s.value.as_str())
    }
    pub fn service(&self) -> Option<&str> {
        self.service.as_ref().map(|s| s.value.as_str())
    }
}

impl fmt::Display for LogSource {
    /// `product/category/service`, with `*` for what is not set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.product().unwrap_or("*"),
            self.category().unwrap_or("*"),
            self.service().unwrap_or("*")
        )
    }
}

#[derive(Debug, Clone)]
pub struct DetectionRule {
    pub logsource: LogSource,
    pub detection: Detection,
}

/// The `detection` section: named selections and the condition(s) over them.
#[derive(Debug, Clone)]
pub struct Detection {
    /// In the order written.
    pub selections: Vec<Selection>,
    /// A list of conditions means any of them.
    pub conditions: Vec<ConditionEntry>,
    /// Legacy `timeframe` used by aggregations and `near`.
    pub timeframe: Option<Spanned<Timespan>>,
    pub span: Span,
}

impl Detection {
    pub fn selection(&self, name: &str) -> Option<&Selection> {
        self.selections.iter().find(|s| s.name == name)
    }

    pub fn selection_names(&self) -> Vec<&str> {
        self.selections.iter().map(|s| s.name.as_str()).collect()
    }

    /// Every detection item of every selection.
    pub fn items(&self) -> impl Iterator<Item = &DetectionItem> {
        self.selections.iter().flat_map(|s| s.node.items())
    }
}

/// One condition with where it was written.
#[derive(Debug, Clone)]
pub struct ConditionEntry {
    pub text: String,
    pub parsed: Condition,
    /// The span of the condition's YAML scalar.
    pub span: Span,
    /// When the scalar maps one-to-one onto the file (a single-line plain or simply quoted
    /// string), the file position of the text's first character; used to point at columns.
    pub text_start: Option<Pos>,
}

impl ConditionEntry {
    /// The file span of a byte range of the condition text.
    pub fn file_span(&self, r: &CondSpan) -> Span {
        file_span(&self.text, self.text_start, self.span, r)
    }
}

pub(crate) fn file_span(text: &str, start: Option<Pos>, fallback: Span, r: &CondSpan) -> Span {
    let Some(base) = start else {
        return fallback;
    };
    let at = |off: usize| {
        let off = off.min(text.len());
        let prefix = text.get(..off).unwrap_or(text);
        Pos::new(
            base.offset + off as u32,
            base.line,
            base.column + prefix.chars().count() as u32,
        )
    };
    Span::new(at(r.start), at(r.end.max(r.start)))
}

/// A named selection ("search identifier").
#[derive(Debug, Clone)]
pub struct Selection {
    pub name: String,
    /// The span of the name.
    pub span: Span,
    pub node: SelectionNode,
}

/// Maps are AND, lists are OR.
#[derive(Debug, Clone)]
pub enum SelectionNode {
    And(Vec<SelectionNode>),
    Or(Vec<SelectionNode>),
    Item(DetectionItem),
}

impl SelectionNode {
    pub fn items(&self) -> Box<dyn Iterator<Item = &DetectionItem> + '_> {
        match self {
            SelectionNode::Item(i) => Box::new(std::iter::once(i)),
            SelectionNode::And(ns) | SelectionNode::Or(ns) => {
                Box::new(ns.iter().flat_map(|n| n.items()))
            }
        }
    }

    pub fn items_mut(&mut self) -> Box<dyn Iterator<Item = &mut DetectionItem> + '_> {
        match self {
            SelectionNode::Item(i) => Box::new(std::iter::once(i)),
            SelectionNode::And(ns) | SelectionNode::Or(ns) => {
                Box::new(ns.iter_mut().flat_map(|n| n.items_mut()))
            }
        }
    }
}

/// `field|mod|mod: values`, or a keyword list when `field` is `None`.
#[derive(Debug, Clone)]
pub struct DetectionItem {
    /// `None` for keywords: the values are searched in the whole event.
    pub field: Option<String>,
    pub modifiers: Vec<Modifier>,
    pub flags: ItemFlags,
    /// The values after modifiers, with the span of each written value.
    pub values: Vec<Spanned<Value>>,
    /// The span of the key (`field|mods`), or of the values for a keyword list.
    pub span: Span,
}

impl DetectionItem {
    /// The key as written: `field|mod1|mod2`.
    pub fn key(&self) -> String {
        let mut k = self.field.clone().unwrap_or_default();
        for m in &self.modifiers {
            k.push('|');
            k.push_str(m.name());
        }
        k
    }
}

/// A time window: `30s`, `5m`, `1h`, `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timespan {
    pub seconds: u64,
}

impl Timespan {
    pub fn parse(text: &str) -> Result<Timespan, String> {
        let t = text.trim();
        let Some(unit) = t.chars().last() else {
            return Err("the time span is empty".into());
        };
        let mult = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "'{t}' is not a time span: use a number and s, m, h or d (e.g. 5m)"
                ));
            }
        };
        let n: u64 = t[..t.len() - 1].parse().map_err(|_| {
            format!("'{t}' is not a time span: use a number and s, m, h or d (e.g. 5m)")
        })?;
        if n == 0 {
            return Err("a time span must be longer than zero".into());
        }
        n.checked_mul(mult)
            .map(|seconds| Timespan { seconds })
            .ok_or_else(|| format!("'{t}' is too long"))
    }
}

impl fmt::Display for Timespan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// The correlation types of Sigma 2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
}

impl CorrelationType {
    pub const ALL: [CorrelationType; 7] = [
        CorrelationType::EventCount,
        CorrelationType::ValueCount,
        CorrelationType::Temporal,
        CorrelationType::TemporalOrdered,
        CorrelationType::ValueSum,
        CorrelationType::ValueAvg,
        CorrelationType::ValuePercentile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal => "temporal",
            CorrelationType::TemporalOrdered => "temporal_ordered",
            CorrelationType::ValueSum => "value_sum",
            CorrelationType::ValueAvg => "value_avg",
            CorrelationType::ValuePercentile => "value_percentile",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Types whose condition is about a field's values (and so need `condition.field`).
    pub fn needs_field(self) -> bool {
        matches!(
            self,
            CorrelationType::ValueCount
                | CorrelationType::ValueSum
                | CorrelationType::ValueAvg
                | CorrelationType::ValuePercentile
        )
    }
}

impl fmt::Display for CorrelationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub kind: CorrelationType,
    /// Referenced rules, by id or name.
    pub rules: Vec<Spanned<String>>,
    pub group_by: Vec<String>,
    pub timespan: Spanned<Timespan>,
    /// The threshold: one or more comparisons, all of which must hold (a range is two).
    /// For temporal types without a written condition: at least as many distinct rules as are
    /// referenced.
    pub condition: Vec<(CmpOp, f64)>,
    /// `condition.field` for the value_* types (several fields for value_count are AND).
    pub field: Vec<String>,
    pub aliases: Vec<Alias>,
    /// `generate`: also run the referenced rules on their own.
    pub generate: bool,
    pub span: Span,
}

impl Correlation {
    /// Does an aggregated number meet the condition?
    pub fn condition_holds(&self, n: f64) -> bool {
        self.condition.iter().all(|(op, v)| op.holds(n, *v))
    }
}

/// A field name alias of a correlation: for each referenced rule, the field that plays the role.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub name: String,
    /// (rule name or id, field name)
    pub fields: Vec<(String, String)>,
}

/// A filter rule (Sigma 2.1 "meta filter"): extra conditions that exclude matches of the
/// referenced rules.
#[derive(Debug, Clone)]
pub struct Filter {
    pub logsource: LogSource,
    /// Referenced rules, by id or name.
    pub rules: Vec<Spanned<String>>,
    pub detection: Detection,
}

/// The names used by a condition, for `fields`/`explain` and validation.
pub fn condition_identifiers(cond: &Condition) -> Vec<&str> {
    let mut out = Vec::new();
    cond.expr.walk(&mut |e| {
        if let condition::Expr::Ident { name, .. } = e {
            out.push(name.as_str());
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(Timespan::parse("30s").unwrap().seconds, 30);
        assert_eq!(Timespan::parse("5m").unwrap().seconds, 300);
        assert_eq!(Timespan::parse("1h").unwrap().seconds, 3600);
        assert_eq!(Timespan::parse("7d").unwrap().seconds, 604_800);
        assert!(Timespan::parse("5").is_err());
        assert!(Timespan::parse("5y").is_err());
        assert!(Timespan::parse("m").is_err());
        assert!(Timespan::parse("0s").is_err());
        assert!(Timespan::parse("").is_err());
        assert_eq!(Timespan::parse("90m").unwrap().to_string(), "90m");
        assert_eq!(Timespan::parse("120m").unwrap().to_string(), "2h");
    }

    #[test]
    fn levels_order() {
        assert!(Level::Critical > Level::High);
        assert!(Level::Informational < Level::Low);
        assert_eq!(Level::parse("medium"), Some(Level::Medium));
        assert_eq!(Level::parse("severe"), None);
    }
}
