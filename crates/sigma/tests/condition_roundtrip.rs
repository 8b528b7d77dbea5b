//! Property: printing a condition tree and parsing the text gives the same tree.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use proptest::prelude::*;
use sigma::condition::{Aggregation, Condition, Expr, OfTarget, Quantifier, parse};

fn ident() -> impl Strategy<Value = String> {
    // Identifiers that are not keywords; `_` and `-` and `.` appear in real rules.
    "[a-z_][a-z0-9_.-]{0,8}".prop_filter("not a keyword", |s| {
        !matches!(
            s.as_str(),
            "and" | "or" | "not" | "of" | "them" | "all" | "any" | "near" | "by"
        )
    })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        ident().prop_map(|name| Expr::Ident { name, span: 0..0 }),
        (
            prop_oneof![
                Just(Quantifier::Any),
                Just(Quantifier::All),
                (2u32..5).prop_map(Quantifier::AtLeast)
            ],
            prop_oneof![
                Just(OfTarget::Them),
                "[a-z_]{1,6}\\*".prop_map(OfTarget::Pattern),
                "\\*[a-z_]{1,6}".prop_map(OfTarget::Pattern),
            ]
        )
            .prop_map(|(quantifier, target)| Expr::Of {
                quantifier,
                target,
                span: 0..0
            }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e), 0..0)),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| Expr::And(v, 0..0)),
            prop::collection::vec(inner, 2..4).prop_map(|v| Expr::Or(v, 0..0)),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn print_then_parse_is_identity(e in expr()) {
        let c = Condition { expr: e, aggregation: None };
        let text = c.to_string();
        let parsed = parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err:?}")))?;
        prop_assert!(c.same(&parsed), "{} reparsed as {}", text, parsed);
    }

    #[test]
    fn with_aggregation(e in expr(), field in ident(), group in ident(), n in 0u32..1000) {
        let c = Condition {
            expr: e,
            aggregation: Some(Aggregation::Function {
                func: sigma::condition::AggFunc::Count,
                field: Some(field),
                group_by: Some(group),
                op: sigma::value::CmpOp::Gte,
                value: f64::from(n),
                span: 0..0,
            }),
        };
        let text = c.to_string();
        let parsed = parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err:?}")))?;
        prop_assert!(c.same(&parsed), "{} reparsed as {}", text, parsed);
    }

    #[test]
    fn never_panics(s in "\\PC{0,60}") {
        let _ = parse(&s);
    }

    #[test]
    fn never_panics_on_condition_like_text(
        parts in prop::collection::vec(prop_oneof![
            Just("and"), Just("or"), Just("not"), Just("("), Just(")"), Just("1 of"), Just("all of"),
            Just("them"), Just("sel*"), Just("a"), Just("|"), Just("count()"), Just("by"), Just(">"),
            Just("5"), Just("near"),
        ], 0..12)
    ) {
        let _ = parse(&parts.join(" "));
    }
}
