//! Conditions: tokeniser → parser → syntax tree, with spans into the condition text.

pub mod ast;
mod lexer;
mod parser;

pub use ast::{AggFunc, Aggregation, CondSpan, Condition, Expr, NearItem, OfTarget, Quantifier};
pub use parser::{MAX_NESTING, ParseError, parse};

/// Does an identifier pattern of `x of pattern` (with `*` wildcards) match a name?
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    // Iterative glob with single backtrack point: linear in practice, never exponential.
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// The identifiers an `of` target refers to, in the given order.
pub fn of_targets<'a>(target: &OfTarget, names: &'a [&'a str]) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|n| match target {
            OfTarget::Them => !n.starts_with('_'),
            OfTarget::Pattern(p) => pattern_matches(p, n),
        })
        .collect()
}
