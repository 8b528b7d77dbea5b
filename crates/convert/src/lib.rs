//! Query backends for the Elasticsearch family.
//!
//! Every backend implements [`Backend`]: it takes a [`ResolvedRule`] (a rule after pipelines,
//! with one [`Variant`](sigma::pipeline::Variant) per mapped log source) and gives one
//! [`Output`] per variant, or a [`ConvertError`] that names the rule, the field and the
//! feature it cannot express. A backend never emits a query that means something else than the
//! rule: Sigma's semantics (case-insensitive matching unless `cased`, unanchored regular
//! expressions, wildcards, `all`, `neq`, ...) are expressed exactly or the rule is refused.
//!
//! Stages: [`lower`] turns a variant's detection and conditions into a small boolean
//! [`query::Query`] tree with typed leaves (shared by every backend); the builders
//! ([`lucene::LuceneBuilder`], [`dsl::DslBuilder`]) turn that tree into their syntax; the
//! backends ([`registry`]) wrap the builders, name the outputs and report what they refuse.
//! The alerting and rule-file targets ([`elastalert`], [`outliers`], [`kibana`],
//! [`elastic_rule`]) reuse the builders for their filters; [`eql`] and [`esql`] have builders of
//! their own, one walk of the query tree (`infix`) with the words and leaves of each language.
//! Correlation rules and legacy aggregations become an [`aggregate::Aggregate`] (what is
//! counted, over which rules, grouped how, in which window, compared how), which the targets
//! that can count (ElastAlert, ES|QL, EQL sequences) express or refuse.

pub mod aggregate;
pub mod automaton;
pub mod cidr;
pub mod context;
pub mod dsl;
pub mod elastalert;
pub mod elastic_rule;
pub mod eql;
pub mod error;
pub mod esql;
pub mod fieldlist;
mod infix;
pub mod kibana;
pub mod lower;
pub mod lucene;
pub mod meta;
pub mod options;
pub mod outliers;
pub mod query;
pub mod regex;
pub mod registry;
pub mod text;

use sigma::pipeline::{ResolvedRule, Variant};
use sigma::rule::Rule;

pub use context::Context;
pub use error::{ConvertError, Feature};
pub use options::{AlertOptions, CaseStrategy, Options};
pub use registry::{backend, backends};

/// A conversion target: `lucene`, `es-dsl`, ...
///
/// Implementations are stateless (all settings come in [`Options`]) and shared between threads.
pub trait Backend: Send + Sync {
    /// The canonical target name used with `convert -t`.
    fn name(&self) -> &'static str;
    /// Other names accepted by `convert -t` (sigmac's and sigma-cli's names).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// One line for `list targets`.
    fn description(&self) -> &'static str;
    /// The output formats; the first is the default.
    fn formats(&self) -> &'static [Format];
    /// What this target refuses and why, one short sentence each, for `list targets` and the
    /// documentation.
    fn refuses(&self) -> &'static [&'static str];
    /// Convert one resolved rule: one output per variant (per mapped log source), in the order
    /// of the variants. A rule the target cannot express exactly gives an error and no output.
    /// Without the other rules of the run (an empty context).
    fn convert(&self, rule: &ResolvedRule, options: &Options) -> Result<Vec<Output>, ConvertError> {
        self.convert_in(rule, &Context::default(), options)
    }
    /// Convert one rule knowing the other rules of the run: correlation rules need the rules
    /// they refer to, and names that must be unique per target are made unique with it.
    fn convert_in(
        &self,
        rule: &ResolvedRule,
        cx: &Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError>;
}

/// An output format of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub name: &'static str,
    /// The file extension of outputs written with `-o DIR`, without the dot.
    pub extension: &'static str,
    pub description: &'static str,
}

/// One converted text: the query (or rule file) for one variant of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The variant's label (`sysmon`, `security`, ...), `None` for a rule with one variant.
    pub variant: Option<String>,
    /// Index patterns to run the query on (from the variant; may be empty).
    pub indices: Vec<String>,
    /// The converted text.
    pub text: String,
    /// A suggested file name without extension: the rule's file stem, plus the variant label
    /// when the rule has several variants.
    pub file_stem: String,
    /// The file extension (no dot).
    pub extension: &'static str,
}

impl Output {
    /// `file_stem.extension`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.file_stem, self.extension)
    }
}

/// The file stem for one variant of a rule: the rule file's stem (or id, or title), with the
/// variant label appended when the rule has more than one variant. Multi-document files add
/// the document index so that two rules never share a name.
pub fn file_stem(rule: &ResolvedRule, variant: usize) -> String {
    let mut stem = base_stem(&rule.rule);
    if rule.variants.len() > 1 {
        let label = rule.variants[variant]
            .label
            .clone()
            .unwrap_or_else(|| (variant + 1).to_string());
        stem.push('_');
        stem.push_str(&sanitize(&label));
    }
    stem
}

/// The rule file's stem (or id, or title), with the document index for the later documents
/// of a multi-document file.
pub fn base_stem(r: &Rule) -> String {
    let path = std::path::Path::new(&*r.origin.path);
    let mut stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| r.id().map(str::to_owned))
        .unwrap_or_else(|| sanitize(r.title()));
    if r.origin.document > 0 {
        stem.push_str(&format!("_{}", r.origin.document));
    }
    stem
}

/// Keep a label usable in a file name on every system.
pub fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() { "rule".into() } else { out }
}

/// How a target names its outputs.
#[derive(Debug, Clone, Copy)]
pub enum Naming<'c, 'a> {
    /// [`file_stem`]s and the variants' own index patterns (possibly none): the query targets,
    /// which convert rules one at a time.
    Plain,
    /// Stems no other output of the run has ([`meta::unique_stem`]) and index patterns
    /// defaulted by the options (`-O index`, else `*`): the targets that write rule files.
    Unique(&'c Context<'a>, &'c Options),
}

impl Naming<'_, '_> {
    /// The output of variant `i` of a rule.
    pub fn output(
        &self,
        rule: &ResolvedRule,
        i: usize,
        text: String,
        extension: &'static str,
    ) -> Output {
        let v = &rule.variants[i];
        let (indices, file_stem) = match self {
            Naming::Plain => (v.indices.clone(), file_stem(rule, i)),
            Naming::Unique(cx, options) => {
                (options.indices(&v.indices), meta::unique_stem(rule, i, cx))
            }
        };
        Output {
            variant: v.label.clone(),
            indices,
            text,
            file_stem,
            extension,
        }
    }
}

/// The refusal of a rule the pipelines mapped to no log source: it has no variant to convert.
pub fn no_log_source() -> ConvertError {
    ConvertError::new(
        Feature::Structure,
        "the pipelines mapped the rule to no log source",
    )
}

/// Convert every variant of a detection rule, in order: the checks every target makes (a
/// detection rule, at least one log source), then `text` (given the variant's position and the
/// variant) writes each output. Errors name the rule and the target.
pub fn each_variant(
    backend: &dyn Backend,
    rule: &ResolvedRule,
    naming: Naming<'_, '_>,
    extension: &'static str,
    mut text: impl FnMut(usize, &Variant) -> Result<String, ConvertError>,
) -> Result<Vec<Output>, ConvertError> {
    let fail = |e: ConvertError| e.for_rule(rule, backend.name());
    lower::check_rule_kind(&rule.rule).map_err(fail)?;
    if rule.variants.is_empty() {
        return Err(fail(no_log_source()));
    }
    let mut out = Vec::with_capacity(rule.variants.len());
    for (i, v) in rule.variants.iter().enumerate() {
        let text = text(i, v).map_err(fail)?;
        out.push(naming.output(rule, i, text, extension));
    }
    Ok(out)
}

/// Convert every variant of a rule with a query-producing function ([`each_variant`] with
/// each variant lowered, named [`Naming::Plain`]).
pub fn per_variant(
    backend: &dyn Backend,
    rule: &ResolvedRule,
    build: impl Fn(&query::Query) -> Result<String, ConvertError>,
    extension: &'static str,
) -> Result<Vec<Output>, ConvertError> {
    each_variant(backend, rule, Naming::Plain, extension, |_, v| {
        build(&lower::lower_variant(&rule.rule, v)?)
    })
}

/// The one output of a correlation rule: `text` writes it from the rule as an
/// [`aggregate::Aggregate`] (the rules it refers to come from `cx`). Errors name the rule and
/// the target.
pub fn correlation_output(
    backend: &dyn Backend,
    rule: &ResolvedRule,
    cx: &Context<'_>,
    options: &Options,
    extension: &'static str,
    text: impl FnOnce(&aggregate::Aggregate<'_>) -> Result<String, ConvertError>,
) -> Result<Vec<Output>, ConvertError> {
    let fail = |e: ConvertError| e.for_rule(rule, backend.name());
    let agg = aggregate::from_correlation(rule, cx).map_err(fail)?;
    let text = text(&agg).map_err(fail)?;
    Ok(vec![Output {
        variant: None,
        indices: options.indices(&agg.indices()),
        text,
        file_stem: meta::unique_stem(rule, 0, cx),
        extension,
    }])
}

/// The name of the output format asked for with `-f`: the backend's first (`default`) when none
/// was; for a format the backend does not have, an error naming the rule.
pub fn format(
    backend: &dyn Backend,
    rule: &ResolvedRule,
    options: &Options,
) -> Result<&'static str, ConvertError> {
    let formats = backend.formats();
    match options.format.as_deref() {
        None => Ok(formats.first().map_or("default", |f| f.name)),
        Some(asked) => formats
            .iter()
            .find(|f| f.name == asked)
            .map(|f| f.name)
            .ok_or_else(|| unknown_format(backend, asked).for_rule(rule, backend.name())),
    }
}

/// The error for a `-f` format the backend does not have.
pub fn unknown_format(backend: &dyn Backend, format: &str) -> ConvertError {
    let names: Vec<&str> = backend.formats().iter().map(|f| f.name).collect();
    ConvertError::new(Feature::Option, "unknown output format").with_detail(format!(
        "{format}; {} has {}",
        backend.name(),
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_asked_for() {
        let loaded = sigma::load_str(
            "title: T\nid: 0e95725d-7320-415d-80f7-004da920fc11\nlogsource:\n  product: windows\ndetection:\n  s:\n    a: b\n  condition: s\n",
            "r.yml",
        );
        let rule = sigma::pipeline::resolve_identity(&loaded.rules[0]);
        let asking = |f: Option<&str>| Options {
            format: f.map(str::to_owned),
            ..Options::default()
        };
        let (dsl, eql) = (backend("es-dsl").unwrap(), backend("eql").unwrap());
        assert_eq!(format(dsl, &rule, &asking(None)).unwrap(), "default");
        assert_eq!(
            format(dsl, &rule, &asking(Some("compact"))).unwrap(),
            "compact"
        );
        assert_eq!(
            format(eql, &rule, &asking(Some("default"))).unwrap(),
            "default"
        );
        let e = format(eql, &rule, &asking(Some("compact"))).unwrap_err();
        assert_eq!(
            (e.feature, e.reason),
            (Feature::Option, "unknown output format")
        );
        assert_eq!(e.detail.as_deref(), Some("compact; eql has default"));
        assert_eq!(
            (e.target, &*e.rule),
            ("eql", "0e95725d-7320-415d-80f7-004da920fc11")
        );
    }
}
