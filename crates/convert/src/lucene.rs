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
                // Written in place; an OR of several terms is wrapped afterwards.
                let start = out.len();
                let compound = self.leaf(l, out)?;
                if compound && ctx != Ctx::Top {
                    out.insert(start, '(');
                    out.push(')');
                }
            }
        }
        Ok(())
    }

    /// Write one leaf; whether it is an OR of several terms.
    fn leaf(&self, l: &Leaf, out: &mut String) -> Result<bool, ConvertError> {
        let field = l.field.as_deref();
        let err = |e: ConvertError| e.with_field(field);
        Ok(match &l.pred {
            Pred::Exists => {
                match field {
                    Some(f) => {
                        out.push_str("_exists_:");
                        push_escaped(out, f);
                    }
                    None => out.push_str("*:*"),
                }
                false
            }
            Pred::Str { value, cased } => {
                self.string(field, value, *cased, out).map_err(err)?;
                false
            }
            Pred::Num(n) => {
                // Equal as the text written (compared case-insensitively, like any text: `0xC0`
                // matches "0xc0") or as the number (`0x10` matches 16).
                self.string(field, &SigmaString::literal(&n.text), false, out)
                    .map_err(err)?;
                let canonical = canonical_number(n);
                if canonical != n.text {
                    out.push_str(" OR ");
                    push_field(out, field);
                    push_escaped(out, &canonical);
                    true
                } else {
                    false
                }
            }
            Pred::Bool(b) => {
                push_field(out, field);
                out.push_str(if *b { "true" } else { "false" });
                false
            }
            Pred::Regex(r) => {
                let body = regex::translate_checked(r, self.options.max_states).map_err(err)?;
                // With `i`, case classes are explicit in the body: any field works.
                self.options.case.check_cased_regex(r).map_err(err)?;
                push_field(out, field);
                out.push_str(&regex::slashed(&body));
                false
            }
            Pred::Cidr(c) => {
                let f = field
                    .ok_or_else(|| ConvertError::new(Feature::Cidr, "a network needs a field"))?;
                push_field(out, field);
                if self.options.is_ip_field(f) {
                    out.push_str(&format!("\"{}\"", c));
                } else {
                    out.push_str(&regex::slashed(&crate::cidr::network_regex(c)));
                }
                false
            }
            Pred::Cmp(op, n) => {
                let v = number(n);
                let range = match op {
                    CmpOp::Lt => format!("[* TO {v}}}"),
                    CmpOp::Lte => format!("[* TO {v}]"),
                    CmpOp::Gt => format!("{{{v} TO *]"),
                    CmpOp::Gte => format!("[{v} TO *]"),
                    CmpOp::Eq => v,
                    CmpOp::Neq => {
                        out.push_str("NOT ");
                        push_field(out, field);
                        out.push_str(&v);
                        return Ok(true);
                    }
                };
                push_field(out, field);
                out.push_str(&range);
                false
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

    /// Write a Sigma string under the case strategy.
    fn string(
        &self,
        field: Option<&str>,
        s: &SigmaString,
        cased: bool,
        out: &mut String,
    ) -> Result<(), ConvertError> {
        let letters = regex::has_cased_chars(s);
        if cased || !letters {
            self.options.case.check_cased_value(s, cased, letters)?;
            push_field(out, field);
            push_plain(out, s, false);
            return Ok(());
        }
        match &self.options.case {
            CaseStrategy::Regex => {
                push_field(out, field);
                regex::push_slashed_sigma_string(out, s);
            }
            CaseStrategy::Subfield(suffix) => {
                if let Some(f) = field {
                    push_escaped(out, &format!("{f}.{suffix}"));
                    out.push(':');
                }
                push_plain(out, s, true);
            }
            CaseStrategy::LowercaseField => {
                push_field(out, field);
                push_plain(out, s, true);
            }
            CaseStrategy::None => {
                push_field(out, field);
                push_plain(out, s, false);
            }
        }
        Ok(())
    }
}

pub(crate) fn ref_mode(m: RefMode) -> &'static str {
    match m {
        RefMode::Equals => "equals",
        RefMode::StartsWith => "starts with",
        RefMode::EndsWith => "ends with",
        RefMode::Contains => "contains",
    }
}

/// `field:` (escaped), or nothing for a keyword.
fn push_field(out: &mut String, field: Option<&str>) {
    if let Some(f) = field {
        push_escaped(out, f);
        out.push(':');
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
#[cfg(test)]
fn plain(s: &SigmaString, lower: bool) -> String {
    let mut out = String::new();
    push_plain(&mut out, s, lower);
    out
}

/// Write [`plain`].
fn push_plain(out: &mut String, s: &SigmaString, lower: bool) {
    if s.is_empty() {
        out.push_str("\"\"");
        return;
    }
    let start = out.len();
    for p in s.parts() {
        match p {
            Part::Lit(l) => {
                if lower {
                    push_escaped(out, &l.to_lowercase())
                } else {
                    push_escaped(out, l)
                }
            }
            Part::AnyChars => out.push('*'),
            Part::OneChar => out.push('?'),
            Part::Placeholder(n) => push_escaped(out, &format!("%{n}%")),
        }
    }
    if matches!(&out[start..], "AND" | "OR" | "NOT") {
        out.insert(start, '\\');
    }
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
    push_escaped(&mut out, s);
    out
}

/// Write [`escape_term`].
fn push_escaped(out: &mut String, s: &str) {
    out.reserve(s.len());
    for c in s.chars() {
        if is_term_special(c) {
            out.push('\\');
        }
        out.push(c);
    }
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
        crate::format(self, rule, options)?;
        crate::per_variant(
            self,
            rule,
            |q| LuceneBuilder::new(options).build(q),
            "lucene",
        )
    }
}
