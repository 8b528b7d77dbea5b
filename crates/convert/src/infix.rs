//! What the two infix query languages, EQL and ES|QL, share: a condition is text with
//! `and` / `or` / `not` and parentheses, fields are identifiers (in backticks when not plain),
//! values are double-quoted strings, regular expressions are Lucene's dialect after an
//! operator, networks a function call. [`Infix`] is what one language spells its own way;
//! [`build`] walks the query tree the same way for both.

use sigma::value::{Cidr, Regex, TimePart};

use crate::error::{ConvertError, Feature};
use crate::options::Options;
use crate::query::{Leaf, Pred, Query};
use crate::text::dq_string;

/// The words and leaves of one infix language.
pub(crate) trait Infix {
    /// The constants `true` and `false`.
    const TRUE: &'static str;
    const FALSE: &'static str;
    /// The operators between operands, with their spaces (` and `).
    const AND: &'static str;
    const OR: &'static str;
    /// The operator of a regular-expression match (`f regex "..."`).
    const REGEX: &'static str;
    /// The function testing an address against a network (`cidrmatch(f, "10.0.0.0/8")`).
    const CIDR_MATCH: &'static str;

    fn options(&self) -> &Options;
    /// One leaf. Errors need not name the field: the walk adds it.
    fn leaf(&self, l: &Leaf) -> Result<String, ConvertError>;
    /// The negation of an existence test: the field is missing.
    fn missing(&self, field: &str) -> String;
    /// What the negation of `inner` is written between: (`not (`, `)`).
    fn negation(&self, inner: &Query) -> (&'static str, &'static str);

    /// `f <REGEX> "<expression>"`, refused when the case strategy cannot honour it.
    fn regex_leaf(&self, f: &str, r: &Regex) -> Result<String, ConvertError> {
        let options = self.options();
        options.case.check_cased_regex(r)?;
        let body = crate::regex::translate_checked(r, options.max_states)?;
        Ok(format!("{f} {} {}", Self::REGEX, dq_string(&body)))
    }

    /// `<CIDR_MATCH>(f, "net")` on a field declared with `-O ip_fields=...` (`name` is the field
    /// as the options know it), else a regular expression matching exactly the addresses'
    /// text.
    fn cidr_leaf(&self, f: &str, name: &str, c: &Cidr) -> String {
        if self.options().is_ip_field(name) {
            format!("{}({f}, {})", Self::CIDR_MATCH, dq_string(&c.to_string()))
        } else {
            format!(
                "{f} {} {}",
                Self::REGEX,
                dq_string(&crate::cidr::network_regex(c))
            )
        }
    }
}

/// The condition text of a query.
pub(crate) fn build<L: Infix>(lang: &L, q: &Query) -> Result<String, ConvertError> {
    let mut out = String::new();
    emit(lang, q, false, &mut out)?;
    Ok(out)
}

/// `nested`: an operand of `and` / `or`, parenthesised when it is itself an `and` / `or`.
fn emit<L: Infix>(lang: &L, q: &Query, nested: bool, out: &mut String) -> Result<(), ConvertError> {
    match q {
        Query::All => out.push_str(L::TRUE),
        Query::Nothing => out.push_str(L::FALSE),
        Query::And(qs) | Query::Or(qs) => {
            let op = if matches!(q, Query::And(_)) {
                L::AND
            } else {
                L::OR
            };
            if nested {
                out.push('(');
            }
            for (i, c) in qs.iter().enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                emit(lang, c, true, out)?;
            }
            if nested {
                out.push(')');
            }
        }
        Query::Not(inner) => match &**inner {
            Query::Leaf(Leaf {
                field: Some(f),
                pred: Pred::Exists,
            }) => out.push_str(&lang.missing(f)),
            inner => {
                let (before, after) = lang.negation(inner);
                out.push_str(before);
                emit(lang, inner, false, out)?;
                out.push_str(after);
            }
        },
        Query::Leaf(l) => {
            let text = lang.leaf(l).map_err(|e| e.with_field(l.field.as_deref()))?;
            out.push_str(&text);
        }
    }
    Ok(())
}

/// A field name as an identifier: as it is when plain (a letter, `_` or `@`, then letters,
/// digits, `_`, `.` or `@`, and not one of the language's `keywords`), else in backticks.
pub(crate) fn identifier(f: &str, keywords: &[&str]) -> String {
    let plain = f
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '@')
        && f.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@'))
        && !keywords.contains(&f.to_ascii_lowercase().as_str());
    if plain {
        f.to_owned()
    } else {
        format!("`{}`", f.replace('`', "``"))
    }
}

/// Neither language can take part of a timestamp in the engine's time zone.
pub(crate) fn time_part_refusal(p: TimePart, n: i64) -> ConvertError {
    ConvertError::new(
        Feature::TimePart,
        "time parts are not expressed (they need the engine's time zone)",
    )
    .with_detail(format!("{} = {n}", p.as_str()))
}
