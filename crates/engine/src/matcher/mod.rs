//! Compiled value matchers: what one detection item checks against one field's values.
//!
//! The meaning is the naive evaluator's ([`crate::naive`]); these only precompute (folded
//! patterns, literal shapes, compiled regexes, parsed numbers).

pub(crate) mod string;

use std::net::IpAddr;
use std::sync::Arc;

use sigma::value::{Cidr, CmpOp, RefMode, RegexFlags, TimePart};

use crate::naive::cmp_holds;
use crate::semantics::{Num, num_civil, num_cmp, num_eq, parse_ip, parse_number, parse_timestamp};
pub(crate) use string::StrSet;

/// The kind of one fetched value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Num(Num),
    Str,
    Other,
}

/// One fetched value: its kind and, when it has a text form, where the original and folded texts
/// are in the scratch arenas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Val {
    pub kind: Kind,
    pub orig: (u32, u32),
    pub lower: (u32, u32),
}

impl Val {
    #[inline]
    pub fn has_text(&self) -> bool {
        matches!(self.kind, Kind::Str | Kind::Num(_) | Kind::Bool(_))
    }
}

/// One field's values in the current event.
#[derive(Clone, Copy)]
pub(crate) struct FieldView<'a> {
    pub present: bool,
    pub vals: &'a [Val],
    pub orig: &'a str,
    pub lower: &'a str,
}

impl<'a> FieldView<'a> {
    #[inline]
    pub fn orig_of(&self, v: &Val) -> &'a str {
        &self.orig[v.orig.0 as usize..v.orig.1 as usize]
    }
    #[inline]
    pub fn lower_of(&self, v: &Val) -> &'a str {
        &self.lower[v.lower.0 as usize..v.lower.1 as usize]
    }
    /// Texts to compare: folded, or original when `cased`.
    #[inline]
    pub fn texts(&self, cased: bool) -> impl Iterator<Item = &'a str> + '_ {
        self.vals.iter().filter(|v| v.has_text()).map(move |v| {
            if cased {
                self.orig_of(v)
            } else {
                self.lower_of(v)
            }
        })
    }
    #[inline]
    pub fn orig_texts(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.texts(true)
    }
}

/// A compiled `re` value and the flags it was built with: the prefilter derives its literals
/// from the pattern under the same flags (a case-sensitive regex gives its literals as
/// written, not every case variant).
#[derive(Debug, Clone)]
pub(crate) struct RegexMatcher {
    /// Built by [`crate::semantics::build_regex`] with `flags`.
    pub re: Arc<regex::Regex>,
    pub flags: RegexFlags,
}

/// One value (or a group of OR-ed values) of an item, compiled.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// Any of the patterns matches any text value.
    Str(StrSet),
    Num {
        n: Num,
        folded_text: Box<str>,
    },
    Bool(bool),
    Null,
    Regex(RegexMatcher),
    Cidr(Cidr),
    Cmp(CmpOp, Num),
    Exists(bool),
    FieldRef {
        slot: u32,
        mode: RefMode,
        cased: bool,
    },
    TimePart(TimePart, i64),
    AnyOf(Vec<Matcher>),
}

impl Matcher {
    /// Does the matcher accept the field? `other` gives the view of another slot (fetched
    /// beforehand) for field references.
    pub fn matches<'a>(&self, f: &FieldView<'a>, other: &dyn Fn(u32) -> FieldView<'a>) -> bool {
        match self {
            Matcher::Str(set) => f.texts(set.cased).any(|t| set.is_match(t)),
            Matcher::Num { n, folded_text } => f.vals.iter().any(|v| match v.kind {
                Kind::Num(m) => num_eq(m, *n),
                Kind::Str => {
                    let l = f.lower_of(v);
                    l == &**folded_text || parse_number(f.orig_of(v)).is_some_and(|x| num_eq(x, *n))
                }
                _ => false,
            }),
            Matcher::Bool(b) => f.vals.iter().any(|v| match v.kind {
                Kind::Bool(c) => c == *b,
                Kind::Str => f.lower_of(v) == if *b { "true" } else { "false" },
                _ => false,
            }),
            Matcher::Null => {
                !f.present || f.vals.is_empty() || f.vals.iter().any(|v| v.kind == Kind::Null)
            }
            Matcher::Regex(m) => f.orig_texts().any(|t| m.re.is_match(t)),
            Matcher::Cidr(c) => f
                .orig_texts()
                .any(|t| parse_ip(t).is_some_and(|ip: IpAddr| c.contains(ip))),
            Matcher::Cmp(op, n) => f.vals.iter().any(|v| {
                let m = match v.kind {
                    Kind::Num(m) => Some(m),
                    Kind::Str => parse_number(f.orig_of(v)),
                    _ => None,
                };
                m.and_then(|m| num_cmp(m, *n))
                    .is_some_and(|o| cmp_holds(*op, o))
            }),
            Matcher::Exists(b) => f.present == *b,
            Matcher::FieldRef { slot, mode, cased } => {
                let o = other(*slot);
                f.texts(*cased).any(|a| {
                    o.texts(*cased).any(|b| match mode {
                        RefMode::Equals => a == b,
                        RefMode::StartsWith => a.starts_with(b),
                        RefMode::EndsWith => a.ends_with(b),
                        RefMode::Contains => a.contains(b),
                    })
                })
            }
            Matcher::TimePart(part, want) => f.vals.iter().any(|v| {
                let civil = match v.kind {
                    Kind::Str => parse_timestamp(f.orig_of(v)),
                    Kind::Num(n) => num_civil(n),
                    _ => None,
                };
                civil.is_some_and(|c| c.part(*part) == *want)
            }),
            Matcher::AnyOf(ms) => ms.iter().any(|m| m.matches(f, other)),
        }
    }

    /// Slots of other fields this matcher reads.
    pub fn ref_slots(&self, out: &mut Vec<u32>) {
        match self {
            Matcher::FieldRef { slot, .. } => out.push(*slot),
            Matcher::AnyOf(ms) => ms.iter().for_each(|m| m.ref_slots(out)),
            _ => {}
        }
    }
}
