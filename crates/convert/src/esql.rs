//! The `esql` target: Elasticsearch ES|QL, `FROM <indices> | WHERE <condition>`.
//!
//! Case rules (ES|QL's `==`, `LIKE` and `RLIKE` are case-sensitive):
//! - case-insensitive values (Sigma's default): `TO_LOWER(f) == "value"` or
//!   `TO_LOWER(f) LIKE "pat*"` with the value lowercased (with `--case-insensitive
//!   subfield:<s>` the sub-field, with `lowercase-field` the field itself, unwrapped);
//! - `cased` values and values without letters: `f == "Value"`, `f LIKE "Pat*"`; in `LIKE`,
//!   `*`, `?` and `\` of the value are escaped with `\`;
//! - `re` values: `f RLIKE "..."` with the translated Lucene expression (flags as classes);
//! - numbers compare as text, `TO_STRING(f) == "4688"` (valid on keyword and numeric fields;
//!   ES|QL refuses to compare a keyword with a number); `lt`/`gt`... compare
//!   `TO_DOUBLE(f)` (numbers and numeric strings, like the engine);
//! - `cidr`: `CIDR_MATCH(f, "net")` on `-O ip_fields=...`, else `RLIKE`;
//! - `fieldref`: `TO_LOWER(TO_STRING(a)) == TO_LOWER(TO_STRING(b))`, `STARTS_WITH`,
//!   `ENDS_WITH`, `LOCATE(...) > 0`;
//! - keywords: `QSTR("...")` with the Lucene query (ES|QL 8.17+);
//! - negations: a comparison on a missing field is null in ES|QL, and `NOT null` is null, so
//!   negated comparisons are `NOT COALESCE(..., FALSE)`: true when the field is missing, as in
//!   Sigma.
//!
//! Counting rules: `| EVAL sigma_window = DATE_TRUNC(<timespan>, @timestamp) | STATS ... BY
//! sigma_window, <group-by> | WHERE <condition>`, with `COUNT(*)` (event_count, `count()`),
//! `COUNT_DISTINCT(f)` (value_count, `count(f)`), `SUM`, `AVG`, `MIN`, `MAX`, and for temporal
//! correlations the number of referenced rules with an event. The condition (every comparison
//! of it) is honoured. Windows are fixed (tumbling) buckets of the timespan, not sliding
//! windows; `temporal_ordered` is refused (ES|QL has no order across rows).

use sigma::pipeline::ResolvedRule;
use sigma::rule::RuleBody;
use sigma::value::{Part, RefMode, SigmaString};

use crate::aggregate::{self, Aggregate, Lowered, Measure};
use crate::error::{ConvertError, Feature};
use crate::infix::{self, Infix};
use crate::lucene::{LuceneBuilder, canonical_number};
use crate::options::{CaseStrategy, Options};
use crate::query::{Leaf, Pred, Query};
use crate::text::{dq_string, number};
use crate::{Backend, Context, Format, Naming, Output, regex};

/// Builds ES|QL boolean expressions.
#[derive(Debug, Clone, Copy)]
pub struct EsqlBuilder<'a> {
    options: &'a Options,
}

const KEYWORDS: &[&str] = &[
    "and", "as", "asc", "by", "desc", "false", "first", "in", "is", "last", "like", "limit",
    "metadata", "not", "null", "nulls", "on", "or", "rlike", "true", "with", "where",
];

impl<'a> EsqlBuilder<'a> {
    pub fn new(options: &'a Options) -> Self {
        EsqlBuilder { options }
    }

    /// The condition (what follows `WHERE`).
    pub fn build(&self, q: &Query) -> Result<String, ConvertError> {
        infix::build(self, q)
    }

    fn string(&self, name: &str, s: &SigmaString, cased: bool) -> Result<String, ConvertError> {
        let letters = regex::has_cased_chars(s);
        self.options.case.check_cased_value(s, cased, letters)?;
        if matches!(s.parts(), [Part::AnyChars]) {
            return Ok(format!("{} IS NOT NULL", field(name)));
        }
        let insensitive = !cased && letters;
        let (lhs, lower) = match (&self.options.case, insensitive) {
            (_, false) | (CaseStrategy::None, true) => (field(name), false),
            (CaseStrategy::Regex, true) => (format!("TO_LOWER({})", field(name)), true),
            (CaseStrategy::Subfield(suffix), true) => (field(&format!("{name}.{suffix}")), true),
            (CaseStrategy::LowercaseField, true) => (field(name), true),
        };
        let wildcards = s
            .parts()
            .iter()
            .any(|p| matches!(p, Part::AnyChars | Part::OneChar));
        let mut text = String::new();
        for p in s.parts() {
            match p {
                Part::Lit(l) => {
                    let l = if lower { l.to_lowercase() } else { l.clone() };
                    for c in l.chars() {
                        if wildcards && matches!(c, '*' | '?' | '\\') {
                            text.push('\\');
                        }
                        text.push(c);
                    }
                }
                Part::AnyChars => text.push('*'),
                Part::OneChar => text.push('?'),
                Part::Placeholder(n) => text.push_str(&format!("%{n}%")),
            }
        }
        Ok(if wildcards {
            format!("{lhs} LIKE {}", dq_string(&text))
        } else {
            format!("{lhs} == {}", dq_string(&text))
        })
    }
}

impl Infix for EsqlBuilder<'_> {
    const TRUE: &'static str = "TRUE";
    const FALSE: &'static str = "FALSE";
    const AND: &'static str = " AND ";
    const OR: &'static str = " OR ";
    const REGEX: &'static str = "RLIKE";
    const CIDR_MATCH: &'static str = "CIDR_MATCH";

    fn options(&self) -> &Options {
        self.options
    }

    fn leaf(&self, l: &Leaf) -> Result<String, ConvertError> {
        let Some(name) = l.field.as_deref() else {
            let text = LuceneBuilder::new(self.options).build(&Query::Leaf(l.clone()))?;
            return Ok(format!("QSTR({})", dq_string(&text)));
        };
        let f = field(name);
        Ok(match &l.pred {
            Pred::Exists => format!("{f} IS NOT NULL"),
            Pred::Str { value, cased } => self.string(name, value, *cased)?,
            Pred::Num(n) => {
                let text = &n.text;
                let canonical = canonical_number(n);
                let lhs = if text.chars().any(char::is_alphabetic) {
                    format!("TO_LOWER(TO_STRING({f}))")
                } else {
                    format!("TO_STRING({f})")
                };
                let first = format!("{lhs} == {}", dq_string(&text.to_lowercase()));
                if canonical == *text {
                    first
                } else {
                    format!("({first} OR TO_STRING({f}) == {})", dq_string(&canonical))
                }
            }
            Pred::Bool(b) => format!("TO_STRING({f}) == {}", dq_string(&b.to_string())),
            Pred::Regex(r) => self.regex_leaf(&f, r)?,
            Pred::Cidr(c) => self.cidr_leaf(&f, name, c),
            Pred::Cmp(op, n) => format!("TO_DOUBLE({f}) {} {}", op.symbol(), canonical_number(n)),
            Pred::FieldRef { other, mode, cased } => {
                let side = |x: &str| {
                    if *cased {
                        format!("TO_STRING({})", field(x))
                    } else {
                        format!("TO_LOWER(TO_STRING({}))", field(x))
                    }
                };
                let (a, b) = (side(name), side(other));
                match mode {
                    RefMode::Equals => format!("{a} == {b}"),
                    RefMode::StartsWith => format!("STARTS_WITH({a}, {b})"),
                    RefMode::EndsWith => format!("ENDS_WITH({a}, {b})"),
                    RefMode::Contains => format!("LOCATE({a}, {b}) > 0"),
                }
            }
            Pred::TimePart(p, n) => return Err(infix::time_part_refusal(*p, *n)),
        })
    }

    fn missing(&self, f: &str) -> String {
        format!("{} IS NULL", field(f))
    }

    fn negation(&self, inner: &Query) -> (&'static str, &'static str) {
        if nullable(inner) {
            ("NOT COALESCE(", ", FALSE)")
        } else {
            ("NOT (", ")")
        }
    }
}

/// Can the expression be null (a comparison on a missing field)? Existence tests and
/// full-text searches cannot.
fn nullable(q: &Query) -> bool {
    match q {
        Query::All | Query::Nothing => false,
        Query::And(qs) | Query::Or(qs) => qs.iter().any(nullable),
        Query::Not(q) => nullable(q),
        Query::Leaf(l) => l.field.is_some() && l.pred != Pred::Exists,
    }
}

/// A field name, in backticks when it is not a plain identifier.
pub fn field(f: &str) -> String {
    infix::identifier(f, KEYWORDS)
}

fn from(indices: &[String]) -> String {
    let list: Vec<String> = indices
        .iter()
        .map(|i| {
            if i.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | ':'))
            {
                i.clone()
            } else {
                dq_string(i)
            }
        })
        .collect();
    format!("FROM {}", list.join(", "))
}

/// An ES|QL time span: `5 minutes`.
fn span(seconds: u64) -> String {
    let (n, unit) = if seconds.is_multiple_of(86_400) {
        (seconds / 86_400, "day")
    } else if seconds.is_multiple_of(3600) {
        (seconds / 3600, "hour")
    } else if seconds.is_multiple_of(60) {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The pipeline of a counting rule.
fn counting(
    b: &EsqlBuilder<'_>,
    agg: &Aggregate<'_>,
    options: &Options,
) -> Result<String, ConvertError> {
    if agg.ordered {
        return Err(ConvertError::new(
            Feature::Correlation,
            "ES|QL has no order between rows: temporal_ordered cannot be expressed",
        )
        .with_detail(agg.kind.clone()));
    }
    let ts = field(options.get("timestamp_field").unwrap_or("@timestamp"));
    let window = agg.window()?;
    let mut s = from(&options.indices(&agg.indices()));
    s.push_str(&format!("\n| WHERE {}", b.build(&agg.query())?));
    s.push_str(&format!(
        "\n| EVAL sigma_window = DATE_TRUNC({}, {ts})",
        span(window.seconds)
    ));
    let mut by = vec!["sigma_window".to_owned()];
    by.extend(agg.group_by.iter().map(|g| field(g)));
    let by = by.join(", ");
    let value = match &agg.measure {
        Measure::Count => {
            s.push_str(&format!("\n| STATS sigma_value = COUNT(*) BY {by}"));
            "sigma_value"
        }
        Measure::Distinct(f)
        | Measure::Sum(f)
        | Measure::Avg(f)
        | Measure::Min(f)
        | Measure::Max(f) => {
            let func = match &agg.measure {
                Measure::Distinct(_) => "COUNT_DISTINCT",
                Measure::Sum(_) => "SUM",
                Measure::Avg(_) => "AVG",
                Measure::Min(_) => "MIN",
                _ => "MAX",
            };
            s.push_str(&format!(
                "\n| STATS sigma_value = {func}({}) BY {by}",
                field(f)
            ));
            "sigma_value"
        }
        Measure::Rules => {
            let mut evals = Vec::new();
            let mut maxes = Vec::new();
            let mut sum = Vec::new();
            for (i, src) in agg.sources.iter().enumerate() {
                let q = b.build(&src.query)?;
                evals.push(format!("sigma_rule{i} = CASE({q}, 1, 0)"));
                maxes.push(format!("sigma_rule{i} = MAX(sigma_rule{i})"));
                sum.push(format!("sigma_rule{i}"));
            }
            s.push_str(&format!("\n| EVAL {}", evals.join(", ")));
            s.push_str(&format!("\n| STATS {} BY {by}", maxes.join(", ")));
            s.push_str(&format!("\n| EVAL sigma_value = {}", sum.join(" + ")));
            "sigma_value"
        }
    };
    let cond: Vec<String> = agg
        .condition
        .iter()
        .map(|(op, v)| format!("{value} {} {}", op.symbol(), number(*v)))
        .collect();
    s.push_str(&format!("\n| WHERE {}", cond.join(" AND ")));
    Ok(s)
}

/// The `esql` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct EsqlBackend;

const FORMATS: &[Format] = &[Format {
    name: "default",
    extension: "esql",
    description: "ES|QL query: FROM ... | WHERE ... (| STATS ... for counting rules)",
}];

impl Backend for EsqlBackend {
    fn name(&self) -> &'static str {
        "esql"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["es|ql", "es-ql"]
    }
    fn description(&self) -> &'static str {
        "Elasticsearch ES|QL: TO_LOWER/LIKE/RLIKE, STATS for correlations and aggregations"
    }
    fn formats(&self) -> &'static [Format] {
        FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &[
            "temporal_ordered correlations (no order between rows), value_percentile, near",
            "time-part modifiers, regular expressions with word boundaries or inner anchors",
            "unexpanded placeholders",
        ]
    }
    fn convert_in(
        &self,
        rule: &ResolvedRule,
        cx: &Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError> {
        crate::format(self, rule, options)?;
        let b = EsqlBuilder::new(options);
        if let RuleBody::Correlation(_) = &rule.rule.body {
            return crate::correlation_output(self, rule, cx, options, "esql", |agg| {
                counting(&b, agg, options)
            });
        }
        let naming = Naming::Unique(cx, options);
        crate::each_variant(self, rule, naming, "esql", |i, v| {
            Ok(match aggregate::lower_counted(rule, i)? {
                Lowered::Plain(q) => format!(
                    "{}\n| WHERE {}",
                    from(&options.indices(&v.indices)),
                    b.build(&q)?
                ),
                Lowered::Counted(agg) => counting(&b, &agg, options)?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_spans() {
        assert_eq!(field("process.name"), "process.name");
        assert_eq!(field("@timestamp"), "@timestamp");
        assert_eq!(field("my-field"), "`my-field`");
        assert_eq!(field("a`b"), "`a``b`");
        assert_eq!(field("by"), "`by`");
        assert_eq!(span(300), "5 minutes");
        assert_eq!(span(90), "90 seconds");
        assert_eq!(span(3600), "1 hour");
        assert_eq!(
            from(&["logs-*".into(), "a b".into()]),
            "FROM logs-*, \"a b\""
        );
    }
}

#[cfg(test)]
mod builder_tests {
    use super::*;

    #[test]
    fn case_rules_and_escapes() {
        let o = Options::default();
        let b = EsqlBuilder::new(&o);
        assert_eq!(
            b.build(&Query::str_leaf("a", "Cmd", false)).unwrap(),
            r#"TO_LOWER(a) == "cmd""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "*\\Cmd.exe", false)).unwrap(),
            r#"TO_LOWER(a) LIKE "*\\\\cmd.exe""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "C\\*md*", true)).unwrap(),
            r#"a LIKE "C\\*md*""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "C\\*md", true)).unwrap(),
            r#"a == "C*md""#
        );
        let sub = Options {
            case: CaseStrategy::Subfield("caseless".into()),
            ..Options::default()
        };
        assert_eq!(
            EsqlBuilder::new(&sub)
                .build(&Query::str_leaf("a", "Cmd", false))
                .unwrap(),
            r#"a.caseless == "cmd""#
        );
    }

    #[test]
    fn negations_hold_on_missing_fields() {
        let o = Options::default();
        let b = EsqlBuilder::new(&o);
        assert_eq!(
            b.build(&Query::not(Query::str_leaf("a", "x", false)))
                .unwrap(),
            r#"NOT COALESCE(TO_LOWER(a) == "x", FALSE)"#
        );
        assert_eq!(
            b.build(&Query::not(Query::leaf(Some("a"), Pred::Exists)))
                .unwrap(),
            "a IS NULL"
        );
    }
}
