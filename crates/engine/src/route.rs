//! Log-source routing: an event is offered only to the variants whose equality conditions it
//! can meet.
//!
//! For every variant we derive *necessary equalities*: field F must equal one of a finite set
//! of values (from its log-source `conditions`, e.g. `Channel`/`EventID`, and from the
//! detection itself when every way to match it pins a field, e.g. `EventID: 4688 and ...`).
//! Each variant is indexed under one such field — the field most variants share, so that few
//! fields are looked up per event — by the folded text keys of its values. Variants without
//! any necessary equality are offered every event.
//!
//! Keys are sound for the matching semantics (see [`crate::semantics`]): a string pattern
//! without wildcards gives its folded text; a number gives its folded written text and its
//! canonical decimal text; a boolean `true`/`false`. An event value gives its folded text, and
//! for strings that are decimal numbers also the number's canonical text. Whenever an item
//! matches, one key of the event is among the item's keys.

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasherDefault;

use sigma::modifier::Link;
use sigma::value::Shape;

use crate::compile::{ANY_SLOT, Item, Node, Program};
use crate::jsonline::KeyHasher;
use crate::matcher::Matcher;
use crate::semantics::{fold, number_text};

type Keys = BTreeSet<String>;

/// One field used for routing.
#[derive(Debug)]
pub(crate) struct RouteSlot {
    pub slot: u32,
    /// Folded key → bucket.
    pub map: HashMap<Box<str>, u32, BuildHasherDefault<KeyHasher>>,
}

/// The variants offered when a key is seen, and the prefilter slots they need.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    pub variants: Vec<u32>,
    /// Prefilter slot ids (filled in by the engine once the prefilter exists).
    pub pslots: Vec<u32>,
}

#[derive(Debug)]
pub(crate) struct Router {
    pub slots: Vec<RouteSlot>,
    pub buckets: Vec<Bucket>,
    /// Variants every event is offered.
    pub unrouted: Bucket,
    /// For each variant: the route slot index it is filed under (None: unrouted).
    pub route_of: Vec<Option<u32>>,
}

/// Keys of a matcher when it is a pure equality (exact strings, numbers, booleans).
fn matcher_keys(m: &Matcher, out: &mut Keys) -> bool {
    match m {
        Matcher::Str(set) => set.patterns.iter().all(|p| match p.shape() {
            Shape::Exact(t) => {
                out.insert(if set.cased { fold(t) } else { t.to_owned() });
                true
            }
            _ => false,
        }),
        Matcher::Num { n, folded_text } => {
            out.insert(folded_text.to_string());
            out.insert(number_text(*n));
            true
        }
        Matcher::Bool(b) => {
            out.insert(if *b { "true" } else { "false" }.to_owned());
            true
        }
        Matcher::AnyOf(ms) => ms.iter().all(|m| matcher_keys(m, out)),
        _ => false,
    }
}

/// Necessary equalities of one item (a conjunction).
fn item_eqs(item: &Item) -> Vec<(u32, Keys)> {
    if item.negated || item.slot == ANY_SLOT {
        return Vec::new();
    }
    match item.link {
        Link::Any => {
            let mut keys = Keys::new();
            if !item.matchers.is_empty() && item.matchers.iter().all(|m| matcher_keys(m, &mut keys))
            {
                vec![(item.slot, keys)]
            } else {
                Vec::new()
            }
        }
        Link::All => item
            .matchers
            .iter()
            .filter_map(|m| {
                let mut keys = Keys::new();
                matcher_keys(m, &mut keys).then_some((item.slot, keys))
            })
            .collect(),
    }
}

/// Necessary equalities of a condition tree (a conjunction).
pub(crate) fn node_eqs(n: &Node, items: &[Item]) -> Vec<(u32, Keys)> {
    match n {
        Node::Item(i) => item_eqs(&items[*i as usize]),
        Node::And(ns) => ns.iter().flat_map(|n| node_eqs(n, items)).collect(),
        Node::Or(ns) | Node::AtLeast(_, ns) => {
            let lists: Vec<Vec<(u32, Keys)>> = ns.iter().map(|n| node_eqs(n, items)).collect();
            let Some((first, rest)) = lists.split_first() else {
                return Vec::new();
            };
            let mut out: Vec<(u32, Keys)> = Vec::new();
            for (slot, keys) in first {
                if out.iter().any(|(s, _)| s == slot) {
                    continue;
                }
                let mut union = keys.clone();
                let everywhere = rest
                    .iter()
                    .all(|l| match l.iter().find(|(s, _)| s == slot) {
                        Some((_, k)) => {
                            union.extend(k.iter().cloned());
                            true
                        }
                        None => false,
                    });
                if everywhere {
                    out.push((*slot, union));
                }
            }
            out
        }
        Node::Not(_) | Node::Const(_) => Vec::new(),
    }
}

impl Router {
    pub fn build(prog: &Program) -> Router {
        let eqs: Vec<Vec<(u32, Keys)>> = prog
            .variants
            .iter()
            .map(|v| {
                let mut e: Vec<(u32, Keys)> = v
                    .conditions
                    .iter()
                    .flat_map(|&i| item_eqs(&prog.items[i as usize]))
                    .collect();
                e.extend(node_eqs(&v.expr, &prog.items));
                e
            })
            .collect();
        let mut count: HashMap<u32, usize> = HashMap::new();
        for e in &eqs {
            let slots: BTreeSet<u32> = e.iter().map(|(s, _)| *s).collect();
            for s in slots {
                *count.entry(s).or_default() += 1;
            }
        }
        let mut router = Router {
            slots: Vec::new(),
            buckets: Vec::new(),
            unrouted: Bucket::default(),
            route_of: vec![None; prog.variants.len()],
        };
        // How many variants each (field, key) would offer an event holding that key.
        let mut population: HashMap<(u32, &str), usize> = HashMap::new();
        for e in &eqs {
            let mut seen: BTreeSet<(u32, &str)> = BTreeSet::new();
            for (s, keys) in e {
                for k in keys {
                    if seen.insert((*s, k.as_str())) {
                        *population.entry((*s, k.as_str())).or_default() += 1;
                    }
                }
            }
        }
        let offered = |s: u32, keys: &Keys| -> usize {
            keys.iter()
                .map(|k| population.get(&(s, k.as_str())).copied().unwrap_or(0))
                .sum()
        };
        let mut slot_index: HashMap<u32, usize> = HashMap::new();
        for (v, e) in eqs.iter().enumerate() {
            // The most selective field: the one whose keys offer the fewest variants (routing
            // by a field every rule shares, such as the Sysmon channel, would offer each event
            // to all of them); then the most shared field, so few fields are looked up.
            let best = e.iter().min_by(|(s1, k1), (s2, k2)| {
                (offered(*s1, k1), std::cmp::Reverse(count[s1]), *s1).cmp(&(
                    offered(*s2, k2),
                    std::cmp::Reverse(count[s2]),
                    *s2,
                ))
            });
            let Some((slot, keys)) = best else {
                router.unrouted.variants.push(v as u32);
                continue;
            };
            let si = *slot_index.entry(*slot).or_insert_with(|| {
                router.slots.push(RouteSlot {
                    slot: *slot,
                    map: HashMap::default(),
                });
                router.slots.len() - 1
            });
            router.route_of[v] = Some(si as u32);
            for k in keys {
                let next = router.buckets.len() as u32;
                let b = *router.slots[si]
                    .map
                    .entry(k.as_str().into())
                    .or_insert(next);
                if b == next {
                    router.buckets.push(Bucket::default());
                }
                router.buckets[b as usize].variants.push(v as u32);
            }
        }
        router
    }
}
