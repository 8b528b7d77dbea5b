//! The `lucene` target (alias `es-qs`): Elasticsearch `query_string` syntax, i.e. Lucene's
//! classic query parser.
//!
//! [`LuceneBuilder`] turns a [`Query`] into query text; other targets whose filters are
//! `query_string` (ElastAlert, Kibana saved searches) reuse it.
//!
//! Rules of the syntax that matter here:
//! - AND/OR are never mixed without parentheses (the classic parser does not give AND
//!   precedence); a negation inside an OR is parenthesised (`a OR (NOT b)`), since `a OR NOT b`
//!   would mean `a AND NOT b`.
//! - Terms escape `+ - = & | > < ! ( ) { } [ ] ^ " ~ * ? : \ /` and whitespace; a term that
//!   spells `AND`, `OR` or `NOT` is escaped too.
//! - `field:*` is an existence test; `_exists_:field` too; `field:""` an empty value.
//! - Regular expressions are `/.../` in Lucene's dialect ([`crate::regex`]).

use sigma::value::{CmpOp, Number, Part, RefMode, SigmaString};

use crate::error::{ConvertError, Feature};
use crate::options::{CaseStrategy, Options};
use crate::query::{Leaf, Pred, Query};
use crate::regex;

/// The most operands of one AND/OR group: Lucene's default limit of clauses in one boolean
/// query is 1024 (Elasticsearch 7's `indices.query.bool.max_clause_count`).
pub const MAX_CLAUSES: usize = 1000;

/// Builds `query_string` text.
#[derive(Debug, Clone, Copy)]
pub struct LuceneBuilder<'a> {
    options: &'a Options,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    And,
    Or,
    Not,
}

impl<'a> LuceneBuilder<'a> {
    pub fn new(options: &'a Options) -> Self {
        LuceneBuilder { options }
    }

    /// The query text.
    pub fn build(&self, q: &Query) -> Result<String, ConvertError> {
        let mut out = String::new();
        self.emit(&q.chunked_cow(MAX_CLAUSES), Ctx::Top, &mut out)?;
        Ok(out)
    }

    fn emit(&self, q: &Query, ctx: Ctx, out: &mut String) -> Result<(), ConvertError> {
        match q {
            Query::All => out.push_str("*:*"),
            Query::Nothing => out.push_str(if ctx == Ctx::Top {
                "NOT *:*"
            } else {
                "(NOT *:*)"
            }),
            Query::And(qs) | Query::Or(qs) => {
                let and = matches!(q, Query::And(_));
                let wrap = ctx != Ctx::Top;
                if wrap {
                    out.push('(');
                }
                for (i, c) in qs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(if and { " AND " } else { " OR " });
                    }
                    self.emit(c, if and { Ctx::And } else { Ctx::Or }, out)?;
                }
                if wrap {
                    out.push(')');
                }
            }
            Query::Not(inner) => {
                let wrap = matches!(ctx, Ctx::Or | Ctx::Not);
                if wrap {
                    out.push('(');
                }
                out.push_str("NOT ");
                self.emit(inner, Ctx::Not, out)?;
                if wrap {
                    out.push(')');
                }
            }
            Query::Leaf(l) => {
                let (text, compound) = self.leaf(l)?;
                let wrap = compound && ctx != Ctx::Top;
                if wrap {
                    out.push('(');
                }
                out.push_str(&text);
                if wrap {
                    out.push(')');
                }
            }
        }
        Ok(())
    }

    /// One leaf: its text and whether it is an OR of several terms.
    fn leaf(&self, l: &Leaf) -> Result<(String, bool), ConvertError> {
        let field = l.field.as_deref();
        let err = |e: ConvertError| e.with_field(field);
        Ok(match &l.pred {
            Pred::Exists => match field {
                Some(f) => (format!("_exists_:{}", escape_field(f)), false),
                None => ("*:*".into(), false),
            },
            Pred::Str { value, cased } => self.string(field, value, *cased).map_err(err)?,
            Pred::Num(n) => {
                // Equal as the text written (compared case-insensitively, like any text: `0xC0`
                // matches "0xc0") or as the number (`0x10` matches 16).
                let mut alts = vec![
                    self.string(field, &SigmaString::literal(&n.text), false)
                        .map_err(err)?
                        .0,
                ];
                let canonical = canonical_number(n);
                if canonical != n.text {
                    alts.push(with_field(field, &escape_term(&canonical)));
                }
                if alts.len() == 1 {
                    (alts.remove(0), false)
                } else {
                    (alts.join(" OR "), true)
                }
            }
            Pred::Bool(b) => (with_field(field, if *b { "true" } else { "false" }), false),
            Pred::Regex(r) => {
                let body = regex::translate_checked(r, self.options.max_states).map_err(err)?;
                if r.flags.ignore_case {
                    // Case classes are explicit in the body: any field works.
                } else if self.options.case == CaseStrategy::LowercaseField
                    && r.pattern.chars().any(char::is_alphabetic)
                {
                    return Err(err(lowercase_field_refusal(&r.pattern)));
                }
                (with_field(field, &regex::slashed(&body)), false)
            }
            Pred::Cidr(c) => {
                let f = field
                    .ok_or_else(|| ConvertError::new(Feature::Cidr, "a network needs a field"))?;
                if self.options.is_ip_field(f) {
                    (with_field(field, &format!("\"{}\"", c)), false)
                } else {
                    (
                        with_field(field, &regex::slashed(&crate::cidr::network_regex(c))),
                        false,
                    )
                }
            }
            Pred::Cmp(op, n) => {
                let v = number(n);
                let range = match op {
                    CmpOp::Lt => format!("[* TO {v}}}"),
                    CmpOp::Lte => format!("[* TO {v}]"),
                    CmpOp::Gt => format!("{{{v} TO *]"),
                    CmpOp::Gte => format!("[{v} TO *]"),
                    CmpOp::Eq => v,
                    CmpOp::Neq => return Ok((format!("NOT {}", with_field(field, &v)), true)),
                };
                (with_field(field, &range), false)
            }
            Pred::FieldRef { other, mode, .. } => {
                return Err(err(ConvertError::new(
                    Feature::FieldRef,
                    "query_string cannot compare two fields of a document (es-dsl can, with a script)",
                )
                .with_detail(format!("{} {other}", ref_mode(*mode)))));
            }
            Pred::TimePart(p, n) => {
                return Err(err(ConvertError::new(
                    Feature::TimePart,
                    "query_string cannot extract part of a timestamp",
                )
                .with_detail(format!("{} = {n}", p.as_str()))));
            }
        })
    }

    /// A Sigma string under the case strategy.
    fn string(
        &self,
        field: Option<&str>,
        s: &SigmaString,
        cased: bool,
    ) -> Result<(String, bool), ConvertError> {
        let letters = regex::has_cased_chars(s);
        if cased || !letters {
            if cased && letters && self.options.case == CaseStrategy::LowercaseField {
                return Err(ConvertError::new(
                    Feature::Case,
                    "a case-sensitive value cannot be matched on a lowercase-normalised field",
                )
                .with_detail(s.to_string()));
            }
            return Ok((with_field(field, &plain(s, false)), false));
        }
        Ok(match &self.options.case {
            CaseStrategy::Regex => {
                let body = regex::sigma_string(s, true);
                (with_field(field, &regex::slashed(&body)), false)
            }
            CaseStrategy::Subfield(suffix) => {
                let f = field.map(|f| format!("{f}.{suffix}"));
                (with_field(f.as_deref(), &plain(s, true)), false)
            }
            CaseStrategy::LowercaseField => (with_field(field, &plain(s, true)), false),
            CaseStrategy::None => (with_field(field, &plain(s, false)), false),
        })
    }
}

pub(crate) fn lowercase_field_refusal(pattern: &str) -> ConvertError {
    ConvertError::new(
        Feature::Case,
        "a case-sensitive regular expression cannot be matched on a lowercase-normalised field",
    )
    .with_detail(pattern.to_owned())
}

pub(crate) fn ref_mode(m: RefMode) -> &'static str {
    match m {
        RefMode::Equals => "equals",
        RefMode::StartsWith => "starts with",
        RefMode::EndsWith => "ends with",
        RefMode::Contains => "contains",
    }
}

fn with_field(field: Option<&str>, value: &str) -> String {
    match field {
        Some(f) => format!("{}:{value}", escape_field(f)),
        None => value.to_owned(),
    }
}

/// A number as a term (a leading minus is an operator and is escaped).
fn number(n: &Number) -> String {
    escape_term(&n.text)
}

/// The decimal text of a rule number (`0x10` is `16`).
pub fn canonical_number(n: &Number) -> String {
    match n.value {
        sigma::value::NumberValue::Int(i) => i.to_string(),
        sigma::value::NumberValue::Float(f) => format!("{f}"),
    }
}

/// A Sigma string as a term, prefix or wildcard term (`lower`: lowercased for normalised
/// fields).
fn plain(s: &SigmaString, lower: bool) -> String {
    if s.is_empty() {
        return "\"\"".into();
    }
    let mut out = String::new();
    for p in s.parts() {
        match p {
            Part::Lit(l) => {
                if lower {
                    out.push_str(&escape_term(&l.to_lowercase()))
                } else {
                    out.push_str(&escape_term(l))
                }
            }
            Part::AnyChars => out.push('*'),
            Part::OneChar => out.push('?'),
            Part::Placeholder(n) => out.push_str(&escape_term(&format!("%{n}%"))),
        }
    }
    if matches!(out.as_str(), "AND" | "OR" | "NOT") {
        out.insert(0, '\\');
    }
    out
}

fn is_term_special(c: char) -> bool {
    matches!(
        c,
        '+' | '-'
            | '='
            | '&'
            | '|'
            | '>'
            | '<'
            | '!'
            | '('
            | ')'
            | '{'
            | '}'
            | '['
            | ']'
            | '^'
            | '"'
            | '~'
            | '*'
            | '?'
            | ':'
            | '\\'
            | '/'
    ) || c.is_whitespace()
}

/// Escape literal text for a `query_string` term.
pub fn escape_term(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_term_special(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escape a field name (`*` in a name is literal).
pub fn escape_field(s: &str) -> String {
    escape_term(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_term(r"C:\a b"), r"C\:\\a\ b");
        assert_eq!(
            escape_term("a+b-c=d&e|f>g<h!i(j)k{l}m[n]o^p\"q~r*s?t/u"),
            "a\\+b\\-c\\=d\\&e\\|f\\>g\\<h\\!i\\(j\\)k\\{l\\}m\\[n\\]o\\^p\\\"q\\~r\\*s\\?t\\/u"
        );
        assert_eq!(plain(&SigmaString::parse("AND"), false), "\\AND");
        assert_eq!(plain(&SigmaString::parse("a*b?"), false), "a*b?");
        assert_eq!(plain(&SigmaString::parse(r"a\*"), false), r"a\*");
        assert_eq!(plain(&SigmaString::parse(""), false), "\"\"");
    }
}

/// The `lucene` backend (`es-qs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LuceneBackend;

const LUCENE_FORMATS: &[crate::Format] = &[crate::Format {
    name: "default",
    extension: "lucene",
    description: "one query_string query per rule and log source",
}];

impl crate::Backend for LuceneBackend {
    fn name(&self) -> &'static str {
        "lucene"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["es-qs", "query_string", "kibana-qs"]
    }
    fn description(&self) -> &'static str {
        "Elasticsearch query_string (Lucene classic syntax), exact Sigma semantics on keyword fields"
    }
    fn formats(&self) -> &'static [crate::Format] {
        LUCENE_FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &[
            "correlation rules, legacy aggregations and near (they need an alerting target)",
            "fieldref (query_string cannot compare two fields; es-dsl can)",
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
    ) -> Result<Vec<crate::Output>, ConvertError> {
        crate::single_format(self, options).map_err(|e| e.for_rule(rule, self.name()))?;
        crate::per_variant(
            self,
            rule,
            |q| LuceneBuilder::new(options).build(q),
            "lucene",
        )
    }
}
