//! The `es-dsl` target: an Elasticsearch search body, `{"query": {"bool": ...}}`.
//!
//! [`DslBuilder`] turns a [`Query`] into a DSL query object (serde_json); ElastAlert and
//! ee-outliers filters reuse it. Case-insensitive values use `case_insensitive: true` on
//! `term`, `prefix` and `wildcard` (Elasticsearch 7.10 and later); regular expressions carry
//! their case classes in the expression; keywords (values without a field) are a
//! `query_string` over every field, built by the Lucene builder; `fieldref` is a Painless
//! `script` query over doc values.

use serde_json::{Map, Value as Json, json};
use sigma::value::{CmpOp, Part, RefMode, Shape, SigmaString};

use crate::error::{ConvertError, Feature};
use crate::lucene::LuceneBuilder;
use crate::options::{CaseStrategy, Options};
use crate::query::{Leaf, Pred, Query};
use crate::{Backend, Format, Output, regex};

/// Builds query DSL objects.
#[derive(Debug, Clone, Copy)]
pub struct DslBuilder<'a> {
    options: &'a Options,
}

impl<'a> DslBuilder<'a> {
    pub fn new(options: &'a Options) -> Self {
        DslBuilder { options }
    }

    /// The query object (what goes under `"query"`).
    pub fn build(&self, q: &Query) -> Result<Json, ConvertError> {
        self.build_chunked(&q.chunked_cow(crate::lucene::MAX_CLAUSES))
    }

    fn build_chunked(&self, q: &Query) -> Result<Json, ConvertError> {
        Ok(match q {
            Query::All => json!({"match_all": {}}),
            Query::Nothing => json!({"match_none": {}}),
            Query::And(qs) => {
                let mut filter = Vec::new();
                let mut must_not = Vec::new();
                for c in qs {
                    match c {
                        Query::Not(inner) => must_not.push(self.build_chunked(inner)?),
                        c => filter.push(self.build_chunked(c)?),
                    }
                }
                let mut b = Map::new();
                if !filter.is_empty() {
                    b.insert("filter".into(), Json::Array(filter));
                }
                if !must_not.is_empty() {
                    b.insert("must_not".into(), Json::Array(must_not));
                }
                json!({ "bool": b })
            }
            Query::Or(qs) => {
                let should = qs
                    .iter()
                    .map(|c| self.build_chunked(c))
                    .collect::<Result<Vec<_>, _>>()?;
                json!({"bool": {"should": should, "minimum_should_match": 1}})
            }
            Query::Not(inner) => json!({"bool": {"must_not": [self.build_chunked(inner)?]}}),
            Query::Leaf(l) => self.leaf(l).map_err(|e| e.with_field(l.field.as_deref()))?,
        })
    }

    fn leaf(&self, l: &Leaf) -> Result<Json, ConvertError> {
        let Some(field) = l.field.as_deref() else {
            // Keywords: full-text search over every field, in query_string syntax.
            let text = LuceneBuilder::new(self.options).build(&Query::Leaf(l.clone()))?;
            return Ok(json!({"query_string": {"query": text}}));
        };
        Ok(match &l.pred {
            Pred::Exists => exists(field),
            Pred::Str { value, cased } => self.string(field, value, *cased)?,
            Pred::Num(n) => {
                let text = self.string(field, &SigmaString::literal(&n.text), false)?;
                let canonical = crate::lucene::canonical_number(n);
                if canonical == n.text {
                    text
                } else {
                    json!({"bool": {"should": [text, {"term": {field: {"value": canonical}}}], "minimum_should_match": 1}})
                }
            }
            Pred::Bool(b) => json!({"term": {field: {"value": b}}}),
            Pred::Regex(r) => {
                self.options.case.check_cased_regex(r)?;
                json!({"regexp": {field: {"value": regex::translate_checked(r, self.options.max_states)?}}})
            }
            Pred::Cidr(c) => {
                if self.options.is_ip_field(field) {
                    json!({"term": {field: {"value": c.to_string()}}})
                } else {
                    json!({"regexp": {field: {"value": crate::cidr::network_regex(c)}}})
                }
            }
            Pred::Cmp(op, n) => {
                let key = match op {
                    CmpOp::Lt => "lt",
                    CmpOp::Lte => "lte",
                    CmpOp::Gt => "gt",
                    CmpOp::Gte => "gte",
                    CmpOp::Eq => return Ok(json!({"term": {field: {"value": n.text}}})),
                    CmpOp::Neq => {
                        return Ok(
                            json!({"bool": {"must_not": [{"term": {field: {"value": n.text}}}]}}),
                        );
                    }
                };
                json!({"range": {field: {key: n.text}}})
            }
            Pred::FieldRef { other, mode, cased } => fieldref(field, other, *mode, *cased),
            Pred::TimePart(p, n) => {
                return Err(ConvertError::new(
                    Feature::TimePart,
                    "time parts are not expressed (they need a date-typed field and the engine's time zone)",
                )
                .with_detail(format!("{} = {n}", p.as_str())));
            }
        })
    }

    fn string(&self, field: &str, s: &SigmaString, cased: bool) -> Result<Json, ConvertError> {
        let letters = regex::has_cased_chars(s);
        let (field, lower, flag) = if cased || !letters {
            self.options.case.check_cased_value(s, cased, letters)?;
            (field.to_owned(), false, false)
        } else {
            match &self.options.case {
                CaseStrategy::Regex => (field.to_owned(), false, true),
                CaseStrategy::Subfield(suffix) => (format!("{field}.{suffix}"), true, false),
                CaseStrategy::LowercaseField => (field.to_owned(), true, false),
                CaseStrategy::None => (field.to_owned(), false, false),
            }
        };
        let text = |t: &str| {
            if lower {
                t.to_lowercase()
            } else {
                t.to_owned()
            }
        };
        let (kind, value) = match s.shape() {
            Shape::Any => return Ok(exists(&field)),
            Shape::Exact(t) => ("term", text(t)),
            Shape::Prefix(t) => ("prefix", text(t)),
            _ => ("wildcard", wildcard(s, lower)),
        };
        let mut body = Map::new();
        body.insert("value".into(), Json::String(value));
        if flag {
            body.insert("case_insensitive".into(), Json::Bool(true));
        }
        Ok(json!({ kind: { field: body } }))
    }
}

fn exists(field: &str) -> Json {
    json!({"exists": {"field": field}})
}

/// A Sigma string in `wildcard` query syntax (`\` escapes `*`, `?` and itself).
fn wildcard(s: &SigmaString, lower: bool) -> String {
    let mut out = String::new();
    for p in s.parts() {
        match p {
            Part::Lit(l) => {
                let l = if lower { l.to_lowercase() } else { l.clone() };
                for c in l.chars() {
                    if matches!(c, '*' | '?' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Part::AnyChars => out.push('*'),
            Part::OneChar => out.push('?'),
            Part::Placeholder(n) => out.push_str(&format!("%{n}%")),
        }
    }
    out
}

/// Painless source comparing every value of one field with every value of the other.
const FIELDREF_SCRIPT: &str = "if (!doc.containsKey(params.a) || !doc.containsKey(params.b)) { return false; } \
def xs = doc[params.a]; def ys = doc[params.b]; \
for (def x : xs) { for (def y : ys) { \
String s = x.toString(); String t = y.toString(); \
if (!params.cased) { s = s.toLowerCase(); t = t.toLowerCase(); } \
if (params.mode == 'equals' ? s.equals(t) : params.mode == 'startswith' ? s.startsWith(t) : params.mode == 'endswith' ? s.endsWith(t) : s.contains(t)) { return true; } \
} } return false;";

fn fieldref(field: &str, other: &str, mode: RefMode, cased: bool) -> Json {
    let mode = match mode {
        RefMode::Equals => "equals",
        RefMode::StartsWith => "startswith",
        RefMode::EndsWith => "endswith",
        RefMode::Contains => "contains",
    };
    json!({"script": {"script": {
        "lang": "painless",
        "source": FIELDREF_SCRIPT,
        "params": {"a": field, "b": other, "mode": mode, "cased": cased}
    }}})
}

/// The `es-dsl` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct DslBackend;

const DSL_FORMATS: &[Format] = &[
    Format {
        name: "default",
        extension: "json",
        description: "search body {\"query\": ...}, pretty-printed",
    },
    Format {
        name: "compact",
        extension: "json",
        description: "search body on one line",
    },
];

impl Backend for DslBackend {
    fn name(&self) -> &'static str {
        "es-dsl"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["dsl", "es-dsl-query", "elasticsearch-dsl"]
    }
    fn description(&self) -> &'static str {
        "Elasticsearch query DSL search body (case_insensitive term/prefix/wildcard, regexp, script for fieldref)"
    }
    fn formats(&self) -> &'static [Format] {
        DSL_FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &[
            "correlation rules, legacy aggregations and near (they need an alerting target)",
            "time-part modifiers (minute, hour, ...)",
            "regular expressions with word boundaries or inner anchors",
            "unexpanded placeholders",
        ]
    }
    fn convert_in(
        &self,
        rule: &sigma::pipeline::ResolvedRule,
        _cx: &crate::Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError> {
        let compact = crate::format(self, rule, options)? == "compact";
        crate::per_variant(
            self,
            rule,
            |q| {
                let body = json!({"query": DslBuilder::new(options).build(q)?});
                Ok(if compact {
                    body.to_string()
                } else {
                    serde_json::to_string_pretty(&body).expect("a JSON value always serialises")
                })
            },
            "json",
        )
    }
}
