//! The query tree every backend builds from: boolean structure over typed leaves, with the
//! Sigma condition (`of`, `them`, `all`, `neq`, `null`, ...) already spelled out.

use sigma::value::{Cidr, CmpOp, Number, RefMode, Regex, SigmaString, TimePart};

/// A boolean query over an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Matches every event.
    All,
    /// Matches no event.
    Nothing,
    /// Two or more operands, all must hold (built through [`Query::and`]).
    And(Vec<Query>),
    /// Two or more operands, any must hold (built through [`Query::or`]).
    Or(Vec<Query>),
    Not(Box<Query>),
    Leaf(Leaf),
}

/// One comparison of a field (or, for keywords, of any field) with a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// The site's field name; `None` for a Sigma keyword (searched in every field).
    pub field: Option<String>,
    pub pred: Pred,
}

/// What a leaf tests. Every variant matches only when the field is present.
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    /// A Sigma string pattern (`*`, `?`); case-insensitive unless `cased`. For keywords the
    /// pattern is searched anywhere in a value (the lowering wraps it in `*`).
    Str {
        value: SigmaString,
        cased: bool,
    },
    /// Equal to a number (numerically, or as the same text).
    Num(Number),
    Bool(bool),
    /// The field is present and not null.
    Exists,
    /// Unanchored search.
    Regex(Regex),
    Cidr(Cidr),
    Cmp(CmpOp, Number),
    /// Compare with another field of the same event.
    FieldRef {
        other: String,
        mode: RefMode,
        cased: bool,
    },
    TimePart(TimePart, i64),
}

/// Append an operand, dropping an exact repeat among the first few (the check is quadratic, and
/// long lists, such as thousands of hashes, are written without repeats).
fn push_unique(out: &mut Vec<Query>, q: Query) {
    if out.len() > 32 || !out.contains(&q) {
        out.push(q);
    }
}

impl Query {
    pub fn leaf(field: Option<&str>, pred: Pred) -> Query {
        Query::Leaf(Leaf {
            field: field.map(str::to_owned),
            pred,
        })
    }

    /// AND of the operands, flattened and simplified (`All` dropped, `Nothing` absorbs).
    pub fn and(qs: impl IntoIterator<Item = Query>) -> Query {
        let mut out = Vec::new();
        for q in qs {
            match q {
                Query::All => {}
                Query::Nothing => return Query::Nothing,
                Query::And(inner) => out.extend(inner),
                q => push_unique(&mut out, q),
            }
        }
        match out.len() {
            0 => Query::All,
            1 => out.remove(0),
            _ => Query::And(out),
        }
    }

    /// OR of the operands, flattened and simplified (`Nothing` dropped, `All` absorbs).
    pub fn or(qs: impl IntoIterator<Item = Query>) -> Query {
        let mut out = Vec::new();
        for q in qs {
            match q {
                Query::Nothing => {}
                Query::All => return Query::All,
                Query::Or(inner) => out.extend(inner),
                q => push_unique(&mut out, q),
            }
        }
        match out.len() {
            0 => Query::Nothing,
            1 => out.remove(0),
            _ => Query::Or(out),
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(q: Query) -> Query {
        match q {
            Query::All => Query::Nothing,
            Query::Nothing => Query::All,
            Query::Not(inner) => *inner,
            q => Query::Not(Box::new(q)),
        }
    }

    /// [`Query::chunked`], borrowing the query itself when no group is larger than `max` (the
    /// usual case: no copy of the tree).
    pub fn chunked_cow(&self, max: usize) -> std::borrow::Cow<'_, Query> {
        if self.groups_within(max.max(2)) {
            std::borrow::Cow::Borrowed(self)
        } else {
            std::borrow::Cow::Owned(self.chunked(max))
        }
    }

    /// Has no AND or OR more than `max` operands?
    fn groups_within(&self, max: usize) -> bool {
        match self {
            Query::And(qs) | Query::Or(qs) => {
                qs.len() <= max && qs.iter().all(|q| q.groups_within(max))
            }
            Query::Not(q) => q.groups_within(max),
            _ => true,
        }
    }

    /// The same query with no AND or OR of more than `max` operands: larger ones become nested
    /// groups (Lucene limits the clauses of one boolean query, 1024 by default).
    pub fn chunked(&self, max: usize) -> Query {
        let max = max.max(2);
        match self {
            Query::And(qs) | Query::Or(qs) => {
                let and = matches!(self, Query::And(_));
                let mut level: Vec<Query> = qs.iter().map(|q| q.chunked(max)).collect();
                while level.len() > max {
                    level = level
                        .chunks(max)
                        .map(|c| {
                            if c.len() == 1 {
                                c[0].clone()
                            } else if and {
                                Query::And(c.to_vec())
                            } else {
                                Query::Or(c.to_vec())
                            }
                        })
                        .collect();
                }
                if and {
                    Query::And(level)
                } else {
                    Query::Or(level)
                }
            }
            Query::Not(q) => Query::Not(Box::new(q.chunked(max))),
            q => q.clone(),
        }
    }

    /// Visit every leaf.
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        fn walk<'a>(q: &'a Query, out: &mut Vec<&'a Leaf>) {
            match q {
                Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| walk(q, out)),
                Query::Not(q) => walk(q, out),
                Query::Leaf(l) => out.push(l),
                Query::All | Query::Nothing => {}
            }
        }
        walk(self, &mut out);
        out
    }
}

/// A string leaf as a rule writes the value (`*`, `?`, `\` escapes), for the builders' tests.
#[cfg(test)]
impl Query {
    pub(crate) fn str_leaf(field: &str, value: &str, cased: bool) -> Query {
        Query::leaf(
            Some(field),
            Pred::Str {
                value: SigmaString::parse(value),
                cased,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(f: &str) -> Query {
        Query::leaf(Some(f), Pred::Exists)
    }

    #[test]
    fn chunking() {
        let q = Query::or((0..10).map(|i| l(&i.to_string())));
        let Query::Or(top) = q.chunked(3) else {
            panic!()
        };
        assert_eq!(top.len(), 2);
        assert!(matches!(&top[0], Query::Or(x) if x.len() == 3));
        assert_eq!(q.chunked(3).leaves().len(), 10);
        assert_eq!(q.chunked(100), q);
        assert!(matches!(q.chunked_cow(100), std::borrow::Cow::Borrowed(_)));
        assert_eq!(*q.chunked_cow(3), q.chunked(3));
    }

    #[test]
    fn simplification() {
        assert_eq!(Query::and([Query::All, l("a")]), l("a"));
        assert_eq!(Query::and([Query::Nothing, l("a")]), Query::Nothing);
        assert_eq!(Query::or([Query::Nothing, l("a")]), l("a"));
        assert_eq!(Query::or([Query::All, l("a")]), Query::All);
        assert_eq!(Query::and(Vec::new()), Query::All);
        assert_eq!(Query::or(Vec::new()), Query::Nothing);
        assert_eq!(Query::not(Query::not(l("a"))), l("a"));
        assert_eq!(
            Query::and([Query::and([l("a"), l("b")]), l("c"), l("a")]),
            Query::And(vec![l("a"), l("b"), l("c")])
        );
    }
}
