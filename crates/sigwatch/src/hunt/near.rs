//! Legacy `near` conditions (`selection | near other and not filter`): the correlator must
//! know, for every event, whether the anchor condition matched and which of the identifiers
//! named after `near` matched, also on events the anchor does not match.
//!
//! Each such identifier becomes one more rule of the engine: a copy of the rule whose
//! condition is that identifier alone (resolved through the same pipeline, so it is routed and
//! prefiltered like any rule). Their matches are folded into one [`Hit::near`] per event and
//! rule.
//!
//! [`Hit::near`]: engine::correlation::Hit::near

use sigma::Rule;
use sigma::condition::{Condition, Expr};
use sigma::rule::{ConditionEntry, RuleBody};

/// A copy of `rule` whose condition is the identifier `name` alone (`None` for rules that
/// are not detection rules).
pub fn selection_rule(rule: &Rule, name: &str) -> Option<Rule> {
    let mut copy = rule.clone();
    let RuleBody::Detection(body) = &mut copy.body else {
        return None;
    };
    let span = body.detection.conditions.first().map(|c| c.span)?;
    body.detection.conditions = vec![ConditionEntry {
        text: name.to_owned(),
        parsed: Condition {
            expr: Expr::Ident {
                name: name.to_owned(),
                span: 0..name.len(),
            },
            aggregation: None,
        },
        span,
        text_start: None,
    }];
    Some(copy)
}

/// Per rule with `near`, what one event gave: whether the anchor matched and which
/// identifiers (bits of [`engine::correlation::Inputs::selections`]).
#[derive(Debug, Default)]
pub struct NearSeen {
    seen: Vec<(usize, bool, u64)>,
}

impl NearSeen {
    pub fn clear(&mut self) {
        self.seen.clear();
    }

    fn entry(&mut self, rule: usize) -> &mut (usize, bool, u64) {
        let i = match self.seen.iter().position(|e| e.0 == rule) {
            Some(i) => i,
            None => {
                self.seen.push((rule, false, 0));
                self.seen.len() - 1
            }
        };
        &mut self.seen[i]
    }

    /// The anchor condition of `rule` matched.
    pub fn anchor(&mut self, rule: usize) {
        self.entry(rule).1 = true;
    }

    /// Identifier `bit` of `rule` matched.
    pub fn selection(&mut self, rule: usize, bit: u32) {
        self.entry(rule).2 |= 1 << bit;
    }

    /// `(rule, anchor matched, identifiers matched)`, in rule order.
    pub fn drain(&mut self) -> impl Iterator<Item = (usize, bool, u64)> + '_ {
        self.seen.sort_unstable_by_key(|e| e.0);
        self.seen.drain(..)
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}
