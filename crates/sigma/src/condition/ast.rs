//! The condition syntax tree, and its printer (printing then parsing gives the same tree).

use std::fmt;

use crate::value::CmpOp;

/// Byte range inside the condition text (not the file): `start..end`.
pub type CondSpan = std::ops::Range<usize>;

/// A boolean expression over search identifiers.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A search identifier (selection name).
    Ident {
        name: String,
        span: CondSpan,
    },
    Not(Box<Expr>, CondSpan),
    /// Two or more operands joined by `and` (a chain `a and b and c` is one node).
    And(Vec<Expr>, CondSpan),
    /// Two or more operands joined by `or`.
    Or(Vec<Expr>, CondSpan),
    /// `1 of sel*`, `all of them`, ...
    Of {
        quantifier: Quantifier,
        target: OfTarget,
        span: CondSpan,
    },
}

/// How many of the identifiers must match in an `of` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// `1 of` / `any of`.
    Any,
    /// `all of`.
    All,
    /// `N of` with N > 1: at least N.
    AtLeast(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OfTarget {
    /// `them`: every identifier not starting with `_`.
    Them,
    /// An identifier pattern with `*` wildcards.
    Pattern(String),
}

/// Legacy aggregation functions of the pipe syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Count,
    Min,
    Max,
    Avg,
    Sum,
}

impl AggFunc {
    pub fn as_str(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Avg => "avg",
            AggFunc::Sum => "sum",
        }
    }
}

/// The legacy part after `|` in a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregation {
    /// `| count(field) by group > N` (and min/max/avg/sum).
    Function {
        func: AggFunc,
        field: Option<String>,
        group_by: Option<String>,
        op: CmpOp,
        value: f64,
        span: CondSpan,
    },
    /// `| near a and not b`: within the rule's `timeframe`, events matching every positive
    /// identifier and none of the negated ones.
    Near {
        items: Vec<NearItem>,
        span: CondSpan,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NearItem {
    pub negated: bool,
    pub ident: String,
    pub span: CondSpan,
}

/// One parsed condition: an expression and maybe a legacy aggregation.
#[derive(Debug, Clone)]
pub struct Condition {
    pub expr: Expr,
    pub aggregation: Option<Aggregation>,
}

impl Expr {
    pub fn span(&self) -> CondSpan {
        match self {
            Expr::Ident { span, .. }
            | Expr::Not(_, span)
            | Expr::And(_, span)
            | Expr::Or(_, span)
            | Expr::Of { span, .. } => span.clone(),
        }
    }

    /// Structural equality, ignoring spans.
    pub fn same(&self, other: &Expr) -> bool {
        match (self, other) {
            (Expr::Ident { name: a, .. }, Expr::Ident { name: b, .. }) => a == b,
            (Expr::Not(a, _), Expr::Not(b, _)) => a.same(b),
            (Expr::And(a, _), Expr::And(b, _)) | (Expr::Or(a, _), Expr::Or(b, _)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (
                Expr::Of {
                    quantifier: qa,
                    target: ta,
                    ..
                },
                Expr::Of {
                    quantifier: qb,
                    target: tb,
                    ..
                },
            ) => qa == qb && ta == tb,
            _ => false,
        }
    }

    /// Visit every node, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Not(e, _) => e.walk(f),
            Expr::And(es, _) | Expr::Or(es, _) => es.iter().for_each(|e| e.walk(f)),
            Expr::Ident { .. } | Expr::Of { .. } => {}
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(..) => 3,
            Expr::Ident { .. } | Expr::Of { .. } => 4,
        }
    }
}

impl Condition {
    /// Structural equality, ignoring spans.
    pub fn same(&self, other: &Condition) -> bool {
        self.expr.same(&other.expr)
            && match (&self.aggregation, &other.aggregation) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same(b),
                _ => false,
            }
    }
}

impl Aggregation {
    fn same(&self, other: &Aggregation) -> bool {
        match (self, other) {
            (
                Aggregation::Function {
                    func: f1,
                    field: a1,
                    group_by: g1,
                    op: o1,
                    value: v1,
                    ..
                },
                Aggregation::Function {
                    func: f2,
                    field: a2,
                    group_by: g2,
                    op: o2,
                    value: v2,
                    ..
                },
            ) => f1 == f2 && a1 == a2 && g1 == g2 && o1 == o2 && v1 == v2,
            (Aggregation::Near { items: a, .. }, Aggregation::Near { items: b, .. }) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.negated == y.negated && x.ident == y.ident)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Quantifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantifier::Any => f.write_str("1"),
            Quantifier::All => f.write_str("all"),
            Quantifier::AtLeast(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parenthesise a child when it binds looser than its parent, or equally for and/or
        // (so that `a and (b and c)` keeps its shape).
        let child = |f: &mut fmt::Formatter<'_>, parent: &Expr, e: &Expr| -> fmt::Result {
            if e.precedence() <= parent.precedence() && e.precedence() < 3 {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        };
        match self {
            Expr::Ident { name, .. } => f.write_str(name),
            Expr::Not(e, _) => {
                f.write_str("not ")?;
                child(f, self, e)
            }
            Expr::And(es, _) | Expr::Or(es, _) => {
                let op = if matches!(self, Expr::And(..)) {
                    " and "
                } else {
                    " or "
                };
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    child(f, self, e)?;
                }
                Ok(())
            }
            Expr::Of {
                quantifier, target, ..
            } => match target {
                OfTarget::Them => write!(f, "{quantifier} of them"),
                OfTarget::Pattern(p) => write!(f, "{quantifier} of {p}"),
            },
        }
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregation::Function {
                func,
                field,
                group_by,
                op,
                value,
                ..
            } => {
                write!(f, "{}({})", func.as_str(), field.as_deref().unwrap_or(""))?;
                if let Some(g) = group_by {
                    write!(f, " by {g}")?;
                }
                write!(f, " {} {value}", op.symbol())
            }
            Aggregation::Near { items, .. } => {
                f.write_str("near ")?;
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    if it.negated {
                        f.write_str("not ")?;
                    }
                    f.write_str(&it.ident)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(a) = &self.aggregation {
            write!(f, " | {a}")?;
        }
        Ok(())
    }
}
