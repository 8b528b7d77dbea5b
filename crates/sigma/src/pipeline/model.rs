//! The pipeline model: one data structure that every reader (our own format, legacy sigmac
//! configs, pySigma processing pipelines, the built-ins) produces and that [`super::apply`]
//! runs. Items run in order; each may be restricted to some rules (`when`).

use std::sync::Arc;

use crate::modifier::{Modifier, RawValue};
use crate::span::Span;

/// Where a pipeline was read from: its name (a built-in name or a file path) and text, kept so
/// that any later error can render a snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    pub text: Arc<str>,
}

/// The format a pipeline was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// sigwatch's own format (what `pipeline show` prints; the built-ins are written in it).
    Native,
    /// A legacy sigmac configuration (`fieldmappings`, `logsources`, `defaultindex`, ...).
    Sigmac,
    /// A pySigma processing pipeline (`transformations`, `vars`, ...).
    PySigma,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "sigwatch",
            Format::Sigmac => "sigmac",
            Format::PySigma => "pysigma",
        }
    }
}

/// What happens to a rule whose log source none of the pipeline's log-source entries maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Unmapped {
    /// Query pipelines (sigmac's behaviour): the rule keeps one variant with the default index
    /// and no extra conditions.
    #[default]
    Default,
    /// Hunting pipelines: the rule gets no variant and a reason. Matching it against every event
    /// would produce false positives from log-source confusion.
    Skip,
}

/// A pipeline: named, ordered items.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Built-in name or file path.
    pub name: String,
    pub format: Format,
    pub title: Option<String>,
    pub unmapped: Unmapped,
    /// Placeholder values (`%name%` → any of the values), used by [`Action::Placeholders`].
    pub vars: Vec<(String, Vec<String>)>,
    pub items: Vec<Item>,
    /// sigmac `order`: configurations must be chained in increasing order.
    pub order: Option<i64>,
    /// Where `order` is written (for the chaining error).
    pub order_span: Span,
    /// sigmac `backends` / pySigma `allowed_backends`: the backends the file was written for
    /// (empty: any).
    pub backends: Vec<String>,
    /// pySigma `priority` (kept for `show`; chains run in command-line order).
    pub priority: Option<i64>,
    pub source: Option<Source>,
    /// Things worth knowing about the file that did not stop it from loading.
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
}

impl Pipeline {
    pub fn new(name: impl Into<String>, format: Format) -> Self {
        Pipeline {
            name: name.into(),
            format,
            title: None,
            unmapped: Unmapped::Default,
            vars: Vec::new(),
            items: Vec::new(),
            order: None,
            order_span: Span::default(),
            backends: Vec::new(),
            priority: None,
            source: None,
            warnings: Vec::new(),
        }
    }

    /// Does any item route log sources (so that `unmapped: skip` can judge coverage)?
    pub fn has_logsource_items(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i.action, Action::LogSources(_)))
    }
}

/// One step of a pipeline.
#[derive(Debug, Clone)]
pub struct Item {
    /// The item's id as written, or `<kind>#<position>` (1-based).
    pub id: String,
    /// Where the item is defined in the pipeline's source.
    pub span: Span,
    /// Which rules (variants) the item applies to. Empty: all.
    pub when: RuleCond,
    pub action: Action,
}

/// A condition on the rule (as transformed so far) for an item to apply.
#[derive(Debug, Clone, Default)]
pub struct RuleCond {
    pub tests: Vec<RuleTest>,
    /// `true`: any test suffices; `false`: all must hold.
    pub any: bool,
    pub negate: bool,
}

impl RuleCond {
    pub fn is_empty(&self) -> bool {
        self.tests.is_empty()
    }
}

#[derive(Debug, Clone)]
pub enum RuleTest {
    /// The rule's current log source matches.
    LogSource(LsPattern),
    /// An item with this id has already been applied to the rule.
    Applied(String),
    /// The rule has this tag.
    Tag(String),
}

/// A log source pattern: each key that is set must equal the rule's (which must set it too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LsPattern {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
}

impl LsPattern {
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.product.is_none() && self.service.is_none()
    }

    /// Does a rule log source (category, product, service) match this pattern?
    pub fn matches(&self, ls: &LsTriple) -> bool {
        fn one(p: &Option<String>, v: &Option<String>) -> bool {
            match p {
                None => true,
                Some(p) => v.as_deref() == Some(p.as_str()),
            }
        }
        one(&self.category, &ls.category)
            && one(&self.product, &ls.product)
            && one(&self.service, &ls.service)
    }
}

impl std::fmt::Display for LsPattern {
    /// `product/category/service`, `*` for what is not set (the rule model's own notation).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.product.as_deref().unwrap_or("*"),
            self.category.as_deref().unwrap_or("*"),
            self.service.as_deref().unwrap_or("*")
        )
    }
}

/// A rule's log source as three optional strings (the part pipelines look at).
pub type LsTriple = LsPattern;

/// Which key of a log source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LsKey {
    Category,
    Product,
    Service,
}

impl LsKey {
    pub fn parse(s: &str) -> Option<LsKey> {
        match s {
            "category" => Some(LsKey::Category),
            "product" => Some(LsKey::Product),
            "service" => Some(LsKey::Service),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            LsKey::Category => "category",
            LsKey::Product => "product",
            LsKey::Service => "service",
        }
    }
    pub fn get(self, ls: &LsTriple) -> Option<&str> {
        match self {
            LsKey::Category => ls.category.as_deref(),
            LsKey::Product => ls.product.as_deref(),
            LsKey::Service => ls.service.as_deref(),
        }
    }
}

/// What an item does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Route log sources: conditions, indices, renames under a source, rewrites.
    LogSources(LogSources),
    /// Rename fields (one-to-one, one-to-many, conditional).
    Fields(FieldMap),
    /// Prepend a prefix to field names.
    FieldPrefix { prefix: String, filter: FieldFilter },
    /// Replace a leading part of field names (`process.` → `proc.`).
    FieldPrefixMap {
        map: Vec<(String, Vec<String>)>,
        filter: FieldFilter,
    },
    /// Change the case of field names.
    FieldCase { case: Case, filter: FieldFilter },
    /// Add conditions (AND) that events must meet.
    AddCondition {
        conditions: Vec<CondSpec>,
        /// The added conditions as a whole are negated.
        negated: bool,
        /// `$category`, `$product`, `$service` in string values are replaced by the rule's.
        template: bool,
    },
    /// Replace the rule's log source.
    ChangeLogSource(LsPattern),
    /// Set the index patterns to query.
    SetIndex(Vec<String>),
    /// Expand `%name%` placeholders (values of the `expand` modifier) from the pipeline's vars.
    Placeholders {
        include: Option<Vec<String>>,
        exclude: Option<Vec<String>>,
    },
    /// Remove detection items (usually restricted by `filter`).
    DropItems { filter: ItemFilter },
    /// Refuse the rule with a message.
    FailRule { message: String },
    /// Refuse the rule if any detection item matches the filter.
    FailItem { message: String, filter: ItemFilter },
}

impl Action {
    /// A short kind name, used for default item ids and in output.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::LogSources(_) => "logsources",
            Action::Fields(_) => "fields",
            Action::FieldPrefix { .. } => "field-prefix",
            Action::FieldPrefixMap { .. } => "field-prefix-map",
            Action::FieldCase { .. } => "field-case",
            Action::AddCondition { .. } => "add-condition",
            Action::ChangeLogSource(_) => "change-logsource",
            Action::SetIndex(_) => "index",
            Action::Placeholders { .. } => "placeholders",
            Action::DropItems { .. } => "drop-items",
            Action::FailRule { .. } => "fail",
            Action::FailItem { .. } => "fail-item",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    Lower,
    Upper,
}

impl Case {
    pub fn as_str(self) -> &'static str {
        match self {
            Case::Lower => "lower",
            Case::Upper => "upper",
        }
    }
}

/// A condition written in a pipeline (`EventID: 1`, `Channel: [a, b]`, `Image|endswith: x`):
/// kept as written and turned into a detection item when applied.
#[derive(Debug, Clone, PartialEq)]
pub struct CondSpec {
    pub field: String,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<RawValue>,
    pub span: Span,
}

impl CondSpec {
    /// The key as written: `field|mod|mod`.
    pub fn key(&self) -> String {
        let mut k = self.field.clone();
        for m in &self.modifiers {
            k.push('|');
            k.push_str(m.name());
        }
        k
    }
}

/// Log-source routing.
///
/// Semantics (sigmac's, extended with alternatives): for a rule with log source `S`, the entries
/// are walked in order; an entry matches when each of its keys equals the current source's. A
/// matching entry adds its conditions (AND), index patterns and source-scoped renames; its
/// `rewrite` replaces the current source (all three keys), so that later entries match the
/// rewritten source (`generic/sysmon.yml` then `windows-sysmon`). When several entries with a
/// `rewrite` match `S`, each starts its own variant (sigmac refused this; THOR-style configs use
/// it for "Sysmon 1 or Security 4688"). With no index from any entry, `default_index` applies.
#[derive(Debug, Clone, Default)]
pub struct LogSources {
    pub entries: Vec<LsEntry>,
    pub default_index: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LsEntry {
    pub name: String,
    pub span: Span,
    pub when: LsPattern,
    pub rewrite: Option<LsPattern>,
    pub conditions: Vec<CondSpec>,
    pub index: Vec<String>,
    /// Renames that apply only under this source (Security 4688: `Image` → `NewProcessName`).
    pub fields: Option<FieldMap>,
    /// A short name for the variant (`sysmon`, `security`).
    pub label: Option<String>,
}

/// Field renames.
#[derive(Debug, Clone, Default)]
pub struct FieldMap {
    pub entries: Vec<FieldEntry>,
    /// Names not listed become `prefix + name` for each prefix (several: any of them). Empty:
    /// names not listed stay as they are.
    pub unmapped_prefixes: Vec<String>,
    /// Which field names the map applies to (pySigma `field_name_conditions`).
    pub filter: FieldFilter,
}

impl FieldMap {
    pub fn get(&self, name: &str) -> Option<&FieldEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct FieldEntry {
    pub name: String,
    pub span: Span,
    pub target: FieldTarget,
}

#[derive(Debug, Clone)]
pub enum FieldTarget {
    /// One name, or several (OR: the value may be in any of them).
    To(Vec<String>),
    /// Chosen per rule: every case that holds contributes its names (several: OR); none holds:
    /// `default`; no default: the name stays.
    Cases {
        cases: Vec<FieldCase>,
        default: Option<Vec<String>>,
    },
}

#[derive(Debug, Clone)]
pub struct FieldCase {
    pub when: CaseWhen,
    pub to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseWhen {
    /// The rule's log source (as written or as rewritten so far) has this value.
    LogSource { key: LsKey, value: String },
    /// The rule (detection or the conditions added so far) compares `field` with exactly this
    /// value (`EventID=16`).
    Value { field: String, value: String },
}

impl std::fmt::Display for CaseWhen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseWhen::LogSource { key, value } => write!(f, "{}={value}", key.as_str()),
            CaseWhen::Value { field, value } => write!(f, "{field}={value}"),
        }
    }
}

/// A test on field names (pySigma `field_name_conditions`). Empty: every field.
#[derive(Debug, Clone, Default)]
pub struct FieldFilter {
    /// Shared: every rule a field-name step resolves for keeps the step's filter (regexes
    /// are costly to copy).
    pub tests: Arc<Vec<FieldTest>>,
    pub any: bool,
    pub negate: bool,
}

#[derive(Debug, Clone)]
pub enum FieldTest {
    /// The name is one of the patterns.
    Include(Vec<NamePattern>),
    /// The name is none of the patterns.
    Exclude(Vec<NamePattern>),
}

#[derive(Debug, Clone)]
pub enum NamePattern {
    Plain(String),
    /// A regular expression anchored at the start (Python `re.match`).
    Regex(regex::Regex),
}

impl NamePattern {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Plain(p) => p == name,
            NamePattern::Regex(r) => r.find(name).is_some_and(|m| m.start() == 0),
        }
    }
    pub fn text(&self) -> &str {
        match self {
            NamePattern::Plain(p) => p,
            NamePattern::Regex(r) => r.as_str(),
        }
    }
}

impl FieldFilter {
    pub fn is_empty(&self) -> bool {
        self.tests.is_empty()
    }

    /// Does the filter accept a field name (`None`: a keyword item)?
    pub fn accepts(&self, name: Option<&str>) -> bool {
        if self.tests.is_empty() {
            return true;
        }
        let one = |t: &FieldTest| match t {
            FieldTest::Include(ps) => name.is_some_and(|n| ps.iter().any(|p| p.matches(n))),
            FieldTest::Exclude(ps) => !name.is_some_and(|n| ps.iter().any(|p| p.matches(n))),
        };
        let r = if self.any {
            self.tests.iter().any(one)
        } else {
            self.tests.iter().all(one)
        };
        r != self.negate
    }
}

/// A test on detection items: field name tests and value tests, both must hold.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub fields: FieldFilter,
    pub values: ValueFilter,
}

impl ItemFilter {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.values.tests.is_empty()
    }
}

/// Tests on the values of a detection item (pySigma `detection_item_conditions`).
#[derive(Debug, Clone, Default)]
pub struct ValueFilter {
    pub tests: Vec<ValueTest>,
    pub any: bool,
    pub negate: bool,
}

#[derive(Debug, Clone)]
pub enum ValueTest {
    /// String values match a regular expression (anchored at the start); `all`: every value
    /// must, else any. Non-strings never match.
    MatchString {
        regex: regex::Regex,
        negate: bool,
        all: bool,
    },
    /// Values are null.
    IsNull { all: bool },
}
