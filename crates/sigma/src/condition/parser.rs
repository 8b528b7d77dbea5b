//! Recursive-descent condition parser. Precedence, loosest first: `or`, `and`, `not`,
//! `x of pattern`, parentheses. Legacy aggregations (`| count() by x > n`, `| near a`) are
//! parsed too, so that engines can run them.

use super::ast::{AggFunc, Aggregation, CondSpan, Condition, Expr, NearItem, OfTarget, Quantifier};
use super::lexer::{Tok, Token, tokenize};
use crate::value::CmpOp;

/// A syntax error in a condition, with its byte range in the condition text.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub span: CondSpan,
}

const KEYWORDS: &[&str] = &["and", "or", "not", "of", "them", "all", "any"];

fn is_keyword(w: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

/// The deepest nesting of parentheses and `not` a condition may have. Conditions are parsed,
/// compiled and evaluated by recursion, on threads whose stacks a hostile rule nested
/// thousands deep would overflow (an abort, not an error); SigmaHQ's deepest is a few levels.
pub const MAX_NESTING: usize = 256;

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    len: usize,
    /// Parentheses and `not`s open at `pos`.
    depth: usize,
}

/// Parse one condition string.
pub fn parse(text: &str) -> Result<Condition, ParseError> {
    let toks = tokenize(text).map_err(|e| ParseError {
        message: e.message,
        span: e.span,
    })?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        len: text.len(),
        depth: 0,
    };
    if toks.is_empty() {
        return Err(ParseError {
            message: "the condition is empty".into(),
            span: 0..text.len(),
        });
    }
    let expr = p.or_expr()?;
    let aggregation = if p.eat(&Tok::Pipe) {
        Some(p.aggregation()?)
    } else {
        None
    };
    if let Some(t) = p.peek() {
        let message = match &t.tok {
            Tok::RParen => "unbalanced ')'".to_string(),
            Tok::Word(w) => format!("unexpected '{w}': expected 'and', 'or' or the end"),
            _ => format!("unexpected {}", describe(&t.tok)),
        };
        return Err(ParseError {
            message,
            span: t.span.clone(),
        });
    }
    Ok(Condition { expr, aggregation })
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Pipe => "'|'".into(),
        Tok::Word(w) => format!("'{w}'"),
        Tok::Op(o) => format!("'{o}'"),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek().is_some_and(|x| &x.tok == t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_keyword(&mut self, kw: &str) -> Option<CondSpan> {
        if self.peek_keyword(kw) {
            let s = self.toks[self.pos].span.clone();
            self.pos += 1;
            Some(s)
        } else {
            None
        }
    }

    /// Span for an error at the current position (end of text when past the last token).
    fn here(&self) -> CondSpan {
        self.peek()
            .map(|t| t.span.clone())
            .unwrap_or(self.len..self.len)
    }

    fn error_expected(&self, what: &str) -> ParseError {
        let message = match self.peek() {
            None => format!("expected {what} but the condition ends"),
            Some(t) => format!("expected {what}, found {}", describe(&t.tok)),
        };
        ParseError {
            message,
            span: self.here(),
        }
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.and_expr()?;
        let mut items = vec![first];
        while self.eat_keyword("or").is_some() {
            items.push(self.and_expr()?);
        }
        Ok(join(items, Expr::Or))
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.not_expr()?;
        let mut items = vec![first];
        while self.eat_keyword("and").is_some() {
            items.push(self.not_expr()?);
        }
        Ok(join(items, Expr::And))
    }

    /// Enters one more level of nesting at `span` (a `(` or a `not`), refused past
    /// [`MAX_NESTING`].
    fn nest(&mut self, span: &CondSpan) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(ParseError {
                message: format!(
                    "the condition nests parentheses and 'not' more than {MAX_NESTING} deep"
                ),
                span: span.clone(),
            });
        }
        Ok(())
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        if let Some(s) = self.eat_keyword("not") {
            self.nest(&s)?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            let span = s.start..inner.span().end;
            return Ok(Expr::Not(Box::new(inner), span));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error_expected("an identifier, 'not', '(' or 'x of'"));
        };
        match tok.tok {
            Tok::LParen => {
                self.pos += 1;
                self.nest(&tok.span)?;
                let inner = self.or_expr()?;
                self.depth -= 1;
                if !self.eat(&Tok::RParen) {
                    let mut e = self.error_expected("')'");
                    if self.peek().is_none() {
                        e.message = "unclosed '(': expected ')' before the end".into();
                        e.span = tok.span.clone();
                    }
                    return Err(e);
                }
                Ok(inner)
            }
            Tok::Word(w) => {
                let quantifier = if w.eq_ignore_ascii_case("all") {
                    Some(Quantifier::All)
                } else if w.eq_ignore_ascii_case("any") {
                    Some(Quantifier::Any)
                } else if w.chars().all(|c| c.is_ascii_digit()) {
                    let n: u32 = w.parse().map_err(|_| ParseError {
                        message: format!("'{w}' is too large"),
                        span: tok.span.clone(),
                    })?;
                    if n == 0 {
                        return Err(ParseError {
                            message: "'0 of' matches nothing; use '1 of' or 'all of'".into(),
                            span: tok.span.clone(),
                        });
                    }
                    Some(if n == 1 {
                        Quantifier::Any
                    } else {
                        Quantifier::AtLeast(n)
                    })
                } else {
                    None
                };
                if let Some(quantifier) = quantifier {
                    self.pos += 1;
                    if self.eat_keyword("of").is_none() {
                        return Err(self.error_expected(&format!("'of' after '{w}'")));
                    }
                    let Some(t) = self.peek().cloned() else {
                        return Err(self.error_expected("'them' or an identifier pattern"));
                    };
                    let Tok::Word(target) = &t.tok else {
                        return Err(self.error_expected("'them' or an identifier pattern"));
                    };
                    self.pos += 1;
                    let span = tok.span.start..t.span.end;
                    let target = if target.eq_ignore_ascii_case("them") {
                        OfTarget::Them
                    } else if is_keyword(target) {
                        return Err(ParseError {
                            message: format!(
                                "expected 'them' or an identifier pattern, found '{target}'"
                            ),
                            span: t.span,
                        });
                    } else {
                        OfTarget::Pattern(target.clone())
                    };
                    return Ok(Expr::Of {
                        quantifier,
                        target,
                        span,
                    });
                }
                if is_keyword(&w) {
                    return Err(ParseError {
                        message: format!("expected an identifier, found '{w}'"),
                        span: tok.span,
                    });
                }
                if w.contains('*') {
                    return Err(ParseError {
                        message: format!("'{w}' is a pattern; write '1 of {w}' or 'all of {w}'"),
                        span: tok.span,
                    });
                }
                self.pos += 1;
                Ok(Expr::Ident {
                    name: w,
                    span: tok.span,
                })
            }
            other => Err(ParseError {
                message: format!(
                    "expected an identifier, 'not', '(' or 'x of', found {}",
                    describe(&other)
                ),
                span: tok.span,
            }),
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, CondSpan), ParseError> {
        match self.peek().cloned() {
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) if !is_keyword(&w) => {
                self.pos += 1;
                Ok((w, span))
            }
            _ => Err(self.error_expected(what)),
        }
    }

    fn aggregation(&mut self) -> Result<Aggregation, ParseError> {
        let start = self.here().start;
        if self.eat_keyword("near").is_some() {
            let mut items = Vec::new();
            loop {
                let neg = self.eat_keyword("not");
                let (ident, span) = self.ident("an identifier after 'near'")?;
                let span = neg.as_ref().map_or(span.start, |n| n.start)..span.end;
                items.push(NearItem {
                    negated: neg.is_some(),
                    ident,
                    span,
                });
                if self.eat_keyword("and").is_none() {
                    break;
                }
            }
            let end = items.last().map_or(start, |i| i.span.end);
            return Ok(Aggregation::Near {
                items,
                span: start..end,
            });
        }
        let (name, name_span) = match self.peek().cloned() {
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) => (w, span),
            _ => {
                return Err(self.error_expected("an aggregation (count, min, max, avg, sum, near)"));
            }
        };
        let func = match name.to_ascii_lowercase().as_str() {
            "count" => AggFunc::Count,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "avg" => AggFunc::Avg,
            "sum" => AggFunc::Sum,
            _ => {
                return Err(ParseError {
                    message: format!(
                        "unknown aggregation '{name}': expected count, min, max, avg, sum or near"
                    ),
                    span: name_span,
                });
            }
        };
        self.pos += 1;
        if !self.eat(&Tok::LParen) {
            return Err(self.error_expected(&format!("'(' after '{name}'")));
        }
        let field = if self.peek().is_some_and(|t| t.tok == Tok::RParen) {
            None
        } else {
            Some(self.ident("a field name or ')'")?.0)
        };
        if !self.eat(&Tok::RParen) {
            return Err(self.error_expected("')'"));
        }
        if func != AggFunc::Count && field.is_none() {
            return Err(ParseError {
                message: format!("'{name}()' needs a field"),
                span: name_span,
            });
        }
        let group_by = if self.eat_keyword("by").is_some() {
            Some(self.ident("a field name after 'by'")?.0)
        } else {
            None
        };
        let op = match self.peek().cloned() {
            Some(Token {
                tok: Tok::Op(o), ..
            }) => {
                self.pos += 1;
                match o.as_str() {
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Lte,
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Gte,
                    "=" | "==" => CmpOp::Eq,
                    _ => CmpOp::Neq,
                }
            }
            _ => return Err(self.error_expected("a comparison (<, <=, >, >=, ==, !=)")),
        };
        let (value, end) = match self.peek().cloned() {
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) => match w.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    self.pos += 1;
                    (v, span.end)
                }
                _ => return Err(self.error_expected("a number")),
            },
            _ => return Err(self.error_expected("a number")),
        };
        Ok(Aggregation::Function {
            func,
            field,
            group_by,
            op,
            value,
            span: start..end,
        })
    }
}

fn join(mut items: Vec<Expr>, make: fn(Vec<Expr>, CondSpan) -> Expr) -> Expr {
    if items.len() == 1 {
        return items.remove(0);
    }
    let start = items.first().map_or(0, |e| e.span().start);
    let end = items.last().map_or(0, |e| e.span().end);
    make(items, start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        let c = parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        debug(&c.expr)
    }

    /// A fully parenthesised rendering that shows the tree shape.
    fn debug(e: &Expr) -> String {
        match e {
            Expr::Ident { name, .. } => name.clone(),
            Expr::Not(e, _) => format!("NOT({})", debug(e)),
            Expr::And(es, _) => format!(
                "AND({})",
                es.iter().map(debug).collect::<Vec<_>>().join(",")
            ),
            Expr::Or(es, _) => {
                format!("OR({})", es.iter().map(debug).collect::<Vec<_>>().join(","))
            }
            Expr::Of {
                quantifier, target, ..
            } => format!("OF({quantifier},{target:?})"),
        }
    }

    fn err(s: &str) -> ParseError {
        parse(s).expect_err(s)
    }

    #[test]
    fn identifiers_and_boolean_operators() {
        assert_eq!(p("selection"), "selection");
        assert_eq!(p("a and b"), "AND(a,b)");
        assert_eq!(p("a or b"), "OR(a,b)");
        assert_eq!(p("a and b and c"), "AND(a,b,c)");
        assert_eq!(p("not a"), "NOT(a)");
        assert_eq!(p("not not a"), "NOT(NOT(a))");
        assert_eq!(p("sel-1 and sel.2"), "AND(sel-1,sel.2)");
    }

    #[test]
    fn precedence_not_and_or() {
        assert_eq!(p("a or b and c"), "OR(a,AND(b,c))");
        assert_eq!(p("a and b or c"), "OR(AND(a,b),c)");
        assert_eq!(p("not a and b"), "AND(NOT(a),b)");
        assert_eq!(p("not a or b"), "OR(NOT(a),b)");
        assert_eq!(
            p("a and not b or not c and d"),
            "OR(AND(a,NOT(b)),AND(NOT(c),d))"
        );
    }

    #[test]
    fn parentheses() {
        assert_eq!(p("(a or b) and c"), "AND(OR(a,b),c)");
        assert_eq!(p("not (a or b)"), "NOT(OR(a,b))");
        assert_eq!(p("((a))"), "a");
        assert_eq!(p("a and (b and c)"), "AND(a,AND(b,c))");
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(p("a AND b OR NOT c"), "OR(AND(a,b),NOT(c))");
        assert_eq!(
            p("1 OF sel* And All Of them"),
            "AND(OF(1,Pattern(\"sel*\")),OF(all,Them))"
        );
    }

    #[test]
    fn of_forms() {
        assert_eq!(p("1 of selection*"), "OF(1,Pattern(\"selection*\"))");
        assert_eq!(p("any of selection*"), "OF(1,Pattern(\"selection*\"))");
        assert_eq!(p("all of selection*"), "OF(all,Pattern(\"selection*\"))");
        assert_eq!(p("1 of them"), "OF(1,Them)");
        assert_eq!(p("all of them"), "OF(all,Them)");
        assert_eq!(p("2 of sel_*"), "OF(2,Pattern(\"sel_*\"))");
        assert_eq!(
            p("1 of sel* and not 1 of filter*"),
            "AND(OF(1,Pattern(\"sel*\")),NOT(OF(1,Pattern(\"filter*\"))))"
        );
        assert_eq!(p("all of *_main"), "OF(all,Pattern(\"*_main\"))");
    }

    #[test]
    fn legacy_aggregations() {
        let c = parse("selection | count(TargetUserName) by IpAddress > 10").unwrap();
        match c.aggregation {
            Some(Aggregation::Function {
                func,
                field,
                group_by,
                op,
                value,
                ..
            }) => {
                assert_eq!(func, AggFunc::Count);
                assert_eq!(field.as_deref(), Some("TargetUserName"));
                assert_eq!(group_by.as_deref(), Some("IpAddress"));
                assert_eq!(op, CmpOp::Gt);
                assert_eq!(value, 10.0);
            }
            other => panic!("{other:?}"),
        }
        let c = parse("selection | count() > 5").unwrap();
        assert!(matches!(
            c.aggregation,
            Some(Aggregation::Function {
                field: None,
                group_by: None,
                ..
            })
        ));
        let c = parse("sel | sum(bytes) by src <= 3.5").unwrap();
        assert!(matches!(
            c.aggregation,
            Some(Aggregation::Function {
                func: AggFunc::Sum,
                op: CmpOp::Lte,
                ..
            })
        ));
        let c = parse("selector | near dllload1 and dllload2 and not exclusion").unwrap();
        match c.aggregation {
            Some(Aggregation::Near { items, .. }) => {
                let v: Vec<(bool, &str)> = items
                    .iter()
                    .map(|i| (i.negated, i.ident.as_str()))
                    .collect();
                assert_eq!(
                    v,
                    [
                        (false, "dllload1"),
                        (false, "dllload2"),
                        (true, "exclusion")
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("sel |near other").is_ok());
        assert!(parse("a | count() == 1").is_ok());
        assert!(parse("a | count() != 1").is_ok());
    }

    #[test]
    fn errors_point_at_the_culprit() {
        let e = err("a and");
        assert_eq!(e.span, 5..5);
        assert!(e.message.contains("ends"), "{}", e.message);
        let e = err("a and or b");
        assert_eq!(e.span, 6..8);
        let e = err("(a or b");
        assert_eq!(e.span, 0..1);
        assert!(e.message.contains("unclosed"));
        let e = err("a or b)");
        assert_eq!(e.span, 6..7);
        let e = err("sel*");
        assert_eq!(e.span, 0..4);
        assert!(e.message.contains("1 of sel*"));
        let e = err("a b");
        assert_eq!(e.span, 2..3);
        let e = err("1 sel*");
        assert!(e.message.contains("'of'"));
        let e = err("0 of sel*");
        assert_eq!(e.span, 0..1);
        let e = err("1 of and");
        assert_eq!(e.span, 5..8);
        let e = err("");
        assert!(e.message.contains("empty"));
        let e = err("a | frobnicate(x) > 1");
        assert_eq!(e.span, 4..14);
        let e = err("a | count(x) by > 1");
        assert!(e.message.contains("field name after 'by'"));
        let e = err("a | count(x) > many");
        assert!(e.message.contains("number"));
        let e = err("a | min() > 1");
        assert!(e.message.contains("needs a field"));
        let e = err("a ! b");
        assert_eq!(e.span, 2..3);
        let e = err("not");
        assert_eq!(e.span, 3..3);
    }

    #[test]
    fn nesting_is_bounded() {
        let nested =
            |n: usize, open: &str, close: &str| format!("{}sel{}", open.repeat(n), close.repeat(n));
        assert!(parse(&nested(MAX_NESTING, "(", ")")).is_ok());
        assert!(parse(&nested(MAX_NESTING, "not ", "")).is_ok());
        let e = parse(&nested(20_000, "(", ")")).expect_err("too deep");
        assert!(e.message.contains("more than 256 deep"), "{e:?}");
        assert_eq!(
            e.span,
            MAX_NESTING..MAX_NESTING + 1,
            "at the first '(' too many"
        );
        assert!(parse(&nested(MAX_NESTING + 1, "not ", "")).is_err());
        // Depth is nesting, not length: a long flat condition is fine.
        let flat = vec!["(a and b)"; 5_000].join(" or ");
        assert!(parse(&flat).is_ok());
    }

    #[test]
    fn printing_round_trips() {
        for s in [
            "a",
            "a and b",
            "a or b and c",
            "(a or b) and c",
            "not (a or b)",
            "a and (b and c)",
            "1 of sel* and not all of filter_*",
            "not not a",
            "a | count(x) by y > 10",
            "a and b | near c and not d",
        ] {
            let c = parse(s).unwrap();
            let printed = c.to_string();
            let again = parse(&printed).unwrap();
            assert!(c.same(&again), "{s} -> {printed}");
        }
        assert_eq!(
            parse("(a or b) and c").unwrap().to_string(),
            "(a or b) and c"
        );
        assert_eq!(parse("a or (b and c)").unwrap().to_string(), "a or b and c");
    }
}
