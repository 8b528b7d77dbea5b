//! The `eql` target: Elastic's Event Query Language.
//!
//! `any where <condition>` (with `-O eql_category=true`, the EQL event category of the rule's
//! log-source category, `process where ...`, for ECS data with `event.category`). Case rules:
//! - case-insensitive values (Sigma's default) use `:`, EQL's case-insensitive equality, which
//!   takes `*` and `?` as wildcards (a value containing a literal `*` or `?` becomes a `regex`
//!   with case classes instead, since EQL has no escape for them); backslashes are literal;
//! - `cased` values and values without letters use `==` (exact) or `like` (wildcards);
//! - `re` values are `regex` with the translated Lucene expression (flags as case classes);
//! - `cidr` is `cidrmatch()` on fields declared with `-O ip_fields=...`, else a `regex`;
//! - numbers compare as text (`string(f) : "4688"`), which works on keyword and numeric fields
//!   alike; `lt`/`gt`... are numeric comparisons.
//!
//! Refused: keywords (EQL has no search over every field), `fieldref` (EQL cannot compare two
//! fields), time parts. `-O eql_optional_fields=true` writes `?field`, so that fields missing
//! from the mapping are null instead of an error.
//!
//! Correlations: `temporal_ordered` becomes a `sequence by <group-by> with maxspan=<timespan>`
//! of the referenced rules, when its condition is "all the rules" (the default); any other
//! condition is refused, as are the other correlation types and legacy aggregations (EQL cannot
//! count).

use sigma::pipeline::ResolvedRule;
use sigma::rule::RuleBody;
use sigma::value::{Part, SigmaString};

use crate::aggregate::{self, Measure};
use crate::error::{ConvertError, Feature};
use crate::infix::{self, Infix};
use crate::lucene::canonical_number;
use crate::options::{CaseStrategy, Options};
use crate::query::{Leaf, Pred, Query};
use crate::text::dq_string;
use crate::{Backend, Context, Format, Output, meta, regex};

/// Builds EQL conditions.
#[derive(Debug, Clone, Copy)]
pub struct EqlBuilder<'a> {
    options: &'a Options,
    optional: bool,
}

const KEYWORDS: &[&str] = &[
    "and", "any", "by", "false", "in", "join", "like", "maxspan", "not", "null", "of", "or",
    "regex", "sample", "sequence", "true", "until", "where", "with",
];

impl<'a> EqlBuilder<'a> {
    pub fn new(options: &'a Options) -> Self {
        EqlBuilder {
            options,
            optional: options.flag("eql_optional_fields"),
        }
    }

    /// The condition (what follows `where`).
    pub fn build(&self, q: &Query) -> Result<String, ConvertError> {
        infix::build(self, q)
    }

    /// A field name, escaped with backticks when it is not a plain identifier.
    pub fn field(&self, f: &str) -> String {
        let name = infix::identifier(f, KEYWORDS);
        if self.optional {
            format!("?{name}")
        } else {
            name
        }
    }

    fn string(&self, f: &str, s: &SigmaString, cased: bool) -> Result<String, ConvertError> {
        let letters = regex::has_cased_chars(s);
        self.options.case.check_cased_value(s, cased, letters)?;
        let insensitive = !cased && letters && self.options.case != CaseStrategy::None;
        let mut wildcards = false;
        let mut literal_wildcard = false;
        let mut text = String::new();
        for p in s.parts() {
            match p {
                Part::Lit(l) => {
                    literal_wildcard |= l.contains(['*', '?']);
                    text.push_str(l);
                }
                Part::AnyChars => {
                    wildcards = true;
                    text.push('*');
                }
                Part::OneChar => {
                    wildcards = true;
                    text.push('?');
                }
                Part::Placeholder(n) => text.push_str(&format!("%{n}%")),
            }
        }
        if matches!(s.parts(), [Part::AnyChars]) {
            return Ok(format!("{f} != null"));
        }
        if literal_wildcard {
            // No escape for `*` and `?` in EQL patterns: a regular expression instead.
            return Ok(format!(
                "{f} regex {}",
                dq_string(&regex::sigma_string(s, insensitive))
            ));
        }
        Ok(match (insensitive, wildcards) {
            (true, _) => format!("{f} : {}", dq_string(&text)),
            (false, false) => format!("{f} == {}", dq_string(&text)),
            (false, true) => format!("{f} like {}", dq_string(&text)),
        })
    }
}

impl Infix for EqlBuilder<'_> {
    const TRUE: &'static str = "true";
    const FALSE: &'static str = "false";
    const AND: &'static str = " and ";
    const OR: &'static str = " or ";
    const REGEX: &'static str = "regex";
    const CIDR_MATCH: &'static str = "cidrmatch";

    fn options(&self) -> &Options {
        self.options
    }

    fn leaf(&self, l: &Leaf) -> Result<String, ConvertError> {
        let Some(field) = l.field.as_deref() else {
            return Err(ConvertError::new(
                Feature::Keyword,
                "EQL has no search over every field of an event",
            ));
        };
        let f = self.field(field);
        Ok(match &l.pred {
            Pred::Exists => format!("{f} != null"),
            Pred::Str { value, cased } => self.string(&f, value, *cased)?,
            Pred::Num(n) => {
                let canonical = canonical_number(n);
                if canonical == n.text {
                    format!("string({f}) : {}", dq_string(&n.text))
                } else {
                    format!(
                        "string({f}) : ({}, {})",
                        dq_string(&n.text),
                        dq_string(&canonical)
                    )
                }
            }
            Pred::Bool(b) => format!("{f} == {b}"),
            Pred::Regex(r) => self.regex_leaf(&f, r)?,
            Pred::Cidr(c) => self.cidr_leaf(&f, field, c),
            Pred::Cmp(op, n) => format!("{f} {} {}", op.symbol(), canonical_number(n)),
            Pred::FieldRef { other, mode, .. } => {
                return Err(ConvertError::new(
                    Feature::FieldRef,
                    "EQL cannot compare two fields of an event",
                )
                .with_detail(format!("{} {other}", crate::lucene::ref_mode(*mode))));
            }
            Pred::TimePart(p, n) => return Err(infix::time_part_refusal(*p, *n)),
        })
    }

    fn missing(&self, field: &str) -> String {
        format!("{} == null", self.field(field))
    }

    fn negation(&self, _inner: &Query) -> (&'static str, &'static str) {
        ("not (", ")")
    }
}

/// The EQL event category of a Sigma log-source category (with `-O eql_category=true`).
fn category(rule: &ResolvedRule, options: &Options) -> &'static str {
    if !options.flag("eql_category") {
        return "any";
    }
    let Some(c) = rule.rule.logsource().and_then(|l| l.category()) else {
        return "any";
    };
    match c {
        "process_creation" | "process_termination" | "process_access" => "process",
        "network_connection" | "firewall" => "network",
        "dns_query" | "dns" => "dns",
        "image_load" => "library",
        "driver_load" => "driver",
        c if c.starts_with("file_") => "file",
        c if c.starts_with("registry_") => "registry",
        _ => "any",
    }
}

/// The `eql` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct EqlBackend;

const FORMATS: &[Format] = &[Format {
    name: "default",
    extension: "eql",
    description: "EQL query (`any where ...`, `sequence ...` for temporal_ordered correlations)",
}];

impl Backend for EqlBackend {
    fn name(&self) -> &'static str {
        "eql"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["elastic-eql"]
    }
    fn description(&self) -> &'static str {
        "Elastic EQL: `:` for case-insensitive values, like/regex, sequences for temporal_ordered"
    }
    fn formats(&self) -> &'static [Format] {
        FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &[
            "keywords (no search over every field), fieldref, time-part modifiers",
            "event_count, value_count, temporal and value correlations, legacy aggregations, near (EQL cannot count)",
            "temporal_ordered correlations whose condition is not 'all the rules'",
            "regular expressions with word boundaries or inner anchors, unexpanded placeholders",
        ]
    }
    fn convert_in(
        &self,
        rule: &ResolvedRule,
        cx: &Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError> {
        crate::format(self, rule, options)?;
        let b = EqlBuilder::new(options);
        if let RuleBody::Correlation(_) = &rule.rule.body {
            return crate::correlation_output(self, rule, cx, options, "eql", |agg| {
                sequence(&b, agg)
            });
        }
        let cat = category(rule, options);
        let mut out = crate::per_variant(
            self,
            rule,
            |q| Ok(format!("{cat} where {}", b.build(q)?)),
            "eql",
        )?;
        // Stems unique in the run, but the variants' own index patterns (not defaulted like
        // the correlation's): `Naming::Unique` would change `indices` in `--json`.
        for (i, o) in out.iter_mut().enumerate() {
            o.file_stem = meta::unique_stem(rule, i, cx);
        }
        Ok(out)
    }
}

/// A `temporal_ordered` correlation as a sequence.
fn sequence(b: &EqlBuilder<'_>, agg: &aggregate::Aggregate<'_>) -> Result<String, ConvertError> {
    if agg.measure != Measure::Rules || !agg.ordered {
        return Err(agg.refusal(
            "EQL cannot count events or values; only temporal_ordered correlations become sequences",
        ));
    }
    let n = agg.sources.len() as i64;
    if agg.least_count() != Some(n) {
        return Err(agg.refusal(
            "an EQL sequence needs every referenced rule in order; the condition asks for another number of rules",
        ));
    }
    let mut s = String::from("sequence");
    if !agg.group_by.is_empty() {
        let fields: Vec<String> = agg.group_by.iter().map(|g| b.field(g)).collect();
        s.push_str(&format!(" by {}", fields.join(", ")));
    }
    s.push_str(&format!(" with maxspan={}", agg.window()?));
    for src in &agg.sources {
        s.push_str(&format!("\n  [any where {}]", b.build(&src.query)?));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigma::value::SigmaString;

    #[test]
    fn case_rules() {
        let o = Options::default();
        let b = EqlBuilder::new(&o);
        assert_eq!(
            b.build(&Query::str_leaf("a", "Cmd", false)).unwrap(),
            r#"a : "Cmd""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "*\\cmd.exe", false)).unwrap(),
            r#"a : "*\\cmd.exe""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "Cmd", true)).unwrap(),
            r#"a == "Cmd""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "Cmd*", true)).unwrap(),
            r#"a like "Cmd*""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "123", false)).unwrap(),
            r#"a == "123""#
        );
        // A literal star cannot be written in an EQL pattern: a regular expression.
        assert_eq!(
            b.build(&Query::str_leaf("a", "x\\*y", false)).unwrap(),
            r#"a regex "[xX]\\*[yY]""#
        );
        assert_eq!(
            b.build(&Query::str_leaf("a", "*", false)).unwrap(),
            "a != null"
        );
        assert_eq!(
            b.build(&Query::not(Query::leaf(Some("a"), Pred::Exists)))
                .unwrap(),
            "a == null"
        );
        let none = Options {
            case: CaseStrategy::None,
            ..Options::default()
        };
        assert_eq!(
            EqlBuilder::new(&none)
                .build(&Query::str_leaf("a", "Cmd", false))
                .unwrap(),
            r#"a == "Cmd""#
        );
    }

    #[test]
    fn names_structure_and_refusals() {
        let o = Options::from_pairs(["eql_optional_fields=true"]).unwrap();
        let b = EqlBuilder::new(&o);
        assert_eq!(b.field("process.name"), "?process.name");
        assert_eq!(b.field("my-field"), "?`my-field`");
        assert_eq!(
            EqlBuilder::new(&Options::default()).field("where"),
            "`where`"
        );
        let q = Query::and([
            Query::str_leaf("a", "x", false),
            Query::or([
                Query::str_leaf("b", "y", false),
                Query::not(Query::str_leaf("c", "z", false)),
            ]),
        ]);
        assert_eq!(
            b.build(&q).unwrap(),
            r#"?a : "x" and (?b : "y" or not (?c : "z"))"#
        );
        let keyword = Query::leaf(
            None,
            Pred::Str {
                value: SigmaString::parse("*x*"),
                cased: false,
            },
        );
        assert_eq!(b.build(&keyword).unwrap_err().feature, Feature::Keyword);
    }
}
