//! Log-source routing: an event is offered only to the variants whose equality conditions it
//! can meet.
//!
//! For every variant we derive *necessary equalities*: field F must equal one of a finite set
//! of values (from its log-source `conditions`, e.g. `Channel`/`EventID`, and from the
//! detection itself when every way to match it pins a field, e.g. `EventID: 4688 and ...`).
//! Variants are filed in up to three levels of buckets keyed by the folded text of those
//! values: first under the field most variants share (such as `Channel`), so that one field
//! is looked up for every event; within a bucket, under the field most of its variants share
//! (`EventID`); within that, under their most selective field (an `OriginalFileName`, a
//! `LogonType`). A level below the first is used only when it narrows its bucket, and it is
//! looked up only for events that reached that bucket: a Sysmon network event looks up
//! `Channel`, `EventID` and the few fields of the network rules, not those of the process
//! rules. Variants without any necessary equality are offered every event.
//!
//! Keys are sound for the matching semantics (see [`crate::semantics`]): a string pattern
//! without wildcards gives its folded text; a number gives its folded written text and its
//! canonical decimal text; a boolean `true`/`false`. An event value gives its folded text, and
//! for strings that are decimal numbers also the number's canonical text. Whenever an item
//! matches, one key of the event is among the item's keys.

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasherDefault;

use sigma::hash::FastMap;
use sigma::modifier::Link;
use sigma::value::Shape;

use crate::compile::{ANY_SLOT, Item, Node, Program};
use crate::jsonline::KeyHasher;
use crate::matcher::Matcher;
use crate::semantics::{fold, number_text};

type Keys = BTreeSet<String>;

/// Bit indices as the non-zero (word, bits) pairs of a bit set of 64-bit words, in word order.
pub(crate) fn bit_words(bits: &[u32]) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::new();
    let mut sorted = bits.to_vec();
    sorted.sort_unstable();
    for b in sorted {
        let (w, bit) = (b / 64, 1u64 << (b % 64));
        match out.last_mut() {
            Some((lw, m)) if *lw == w => *m |= bit,
            _ => out.push((w, bit)),
        }
    }
    out
}

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
    /// `variants` and `pslots` as (word, bits) of the engine's bit sets, filled in with
    /// `pslots`: a bucket of a thousand process-creation rules is offered with a few dozen
    /// word ORs instead of a thousand single-bit writes.
    pub variant_words: Vec<(u32, u64)>,
    pub pslot_words: Vec<(u32, u64)>,
    /// Routes one level down: variants that also need an equality on a field that narrows
    /// this bucket, offered when that field has one of their keys too.
    pub subs: Vec<RouteSlot>,
}

#[derive(Debug)]
pub(crate) struct Router {
    pub slots: Vec<RouteSlot>,
    pub buckets: Vec<Bucket>,
    /// Variants every event is offered.
    pub unrouted: Bucket,
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

/// Levels of routing: the field most variants share (`Channel`), within its buckets the
/// field most of a bucket's variants share (`EventID`), then the most selective field (an
/// `OriginalFileName`). Each level is looked up only for events that reached its bucket.
const LEVELS: usize = 3;

/// A variant and the equalities it still has to be filed by.
type Pending<'a> = (u32, Vec<(u32, &'a Keys)>);

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
        let all: Vec<Pending<'_>> = eqs
            .iter()
            .enumerate()
            .map(|(v, e)| (v as u32, e.iter().map(|(s, k)| (*s, k)).collect()))
            .collect();
        let mut buckets = Vec::new();
        let (unrouted, slots) = level(&mut buckets, &all, 1);
        Router {
            slots,
            buckets,
            unrouted: Bucket {
                variants: unrouted,
                ..Bucket::default()
            },
        }
    }
}

/// Files `vars` at routing level `depth`: each variant goes under one of its fields (the
/// returned route slots), into the bucket of each of its keys, or stays with the caller (the
/// returned variants) when no field of it would offer it to fewer events. Buckets are filed
/// again one level down.
fn level<'a>(
    buckets: &mut Vec<Bucket>,
    vars: &[Pending<'a>],
    depth: usize,
) -> (Vec<u32>, Vec<RouteSlot>) {
    // How many of `vars` need each field, and how many each (field, key) would offer an
    // event holding that key.
    let mut count: FastMap<u32, usize> = FastMap::default();
    let mut population: FastMap<(u32, &str), usize> = FastMap::default();
    for (_, e) in vars {
        let slots: BTreeSet<u32> = e.iter().map(|(s, _)| *s).collect();
        for s in slots {
            *count.entry(s).or_default() += 1;
        }
        let mut seen: BTreeSet<(u32, &str)> = BTreeSet::new();
        for (s, keys) in e {
            for k in keys.iter() {
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
    let mut direct = Vec::new();
    let mut routes: Vec<RouteSlot> = Vec::new();
    // Per route slot and bucket: the variants filed there, with their other equalities.
    let mut filed: Vec<(u32, Vec<Pending<'a>>)> = Vec::new();
    let mut filed_at: FastMap<u32, usize> = FastMap::default();
    for (v, e) in vars {
        // Below the first level a field is worth a lookup only when it narrows the bucket.
        let useful = e
            .iter()
            .filter(|(s, k)| depth == 1 || offered(*s, k) < vars.len());
        let chosen = if depth < LEVELS {
            useful.min_by_key(|(s, k)| (std::cmp::Reverse(count[s]), offered(*s, k), *s))
        } else {
            useful.min_by_key(|(s, k)| (offered(*s, k), *s))
        };
        let Some(&(slot, keys)) = chosen else {
            direct.push(*v);
            continue;
        };
        let ri = match routes.iter().position(|r| r.slot == slot) {
            Some(i) => i,
            None => {
                routes.push(RouteSlot {
                    slot,
                    map: HashMap::default(),
                });
                routes.len() - 1
            }
        };
        let rest: Vec<(u32, &Keys)> = e.iter().filter(|(s, _)| *s != slot).copied().collect();
        for k in keys {
            let b = file(buckets, &mut routes[ri].map, k);
            let at = *filed_at.entry(b).or_insert_with(|| {
                filed.push((b, Vec::new()));
                filed.len() - 1
            });
            filed[at].1.push((*v, rest.clone()));
        }
    }
    for (b, pending) in filed {
        let (variants, subs) = if depth < LEVELS {
            level(buckets, &pending, depth + 1)
        } else {
            (pending.iter().map(|(v, _)| *v).collect(), Vec::new())
        };
        let bucket = &mut buckets[b as usize];
        bucket.variants = variants;
        bucket.subs = subs;
    }
    (direct, routes)
}

/// The bucket of `key` in a route map (a new one when the key is new).
fn file(
    buckets: &mut Vec<Bucket>,
    map: &mut HashMap<Box<str>, u32, BuildHasherDefault<KeyHasher>>,
    key: &str,
) -> u32 {
    let next = buckets.len() as u32;
    let b = *map.entry(key.into()).or_insert(next);
    if b == next {
        buckets.push(Bucket::default());
    }
    b
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sigma::pipeline::resolve_identity;

    use crate::Engine;

    fn rule(n: u32, detection: &str) -> String {
        format!(
            "title: R{n}\nid: 00000000-0000-4000-8000-{n:012}\nlogsource: {{product: windows}}\ndetection:\n{detection}  condition: sel\n"
        )
    }

    #[test]
    fn bit_words_groups_bits_by_word_in_order() {
        let words = super::bit_words(&[130, 1, 0, 64, 63, 1]);
        assert_eq!(words, vec![(0, 1 | 2 | 1 << 63), (1, 1), (2, 1 << 2)]);
        assert!(super::bit_words(&[]).is_empty());
    }

    fn engine(rules: &[String]) -> Engine {
        let mut loaded = Vec::new();
        for t in rules {
            loaded.extend(sigma::load_str(t, "t.yml").rules);
        }
        Engine::compile(loaded.iter().map(resolve_identity).collect())
    }

    fn matched(e: &Engine, ev: &serde_json::Value) -> Vec<usize> {
        e.matches(ev).map(|m| m.rule).collect()
    }

    fn slot_names(e: &Engine, routes: &[super::RouteSlot]) -> Vec<String> {
        routes
            .iter()
            .map(|rs| e.prog.fields[rs.slot as usize].name().to_owned())
            .collect()
    }

    fn bucket<'e>(e: &'e Engine, rs: &super::RouteSlot, key: &str) -> &'e super::Bucket {
        let b = rs.map.get(key).copied().expect("a bucket for the key");
        &e.router.buckets[b as usize]
    }

    #[test]
    fn three_levels_channel_then_event_id_then_a_selective_field() {
        let sel =
            |id: u32, more: &str| format!("  sel:\n    Channel: Sysmon\n    EventID: {id}\n{more}");
        let rules = vec![
            rule(1, &sel(1, "    OriginalFileName: x.exe\n")),
            rule(2, &sel(1, "    OriginalFileName: y.exe\n")),
            rule(3, &sel(1, "    CommandLine|contains: foo\n")),
            rule(4, &sel(3, "    DestinationPort: 4444\n")),
            rule(5, &sel(3, "    Image|endswith: a.exe\n")),
            rule(6, "  sel:\n    Channel: Security\n    EventID: 4624\n"),
            // Channel is the field most rules share (some name no event id).
            rule(
                7,
                "  sel:\n    Channel: System\n    ServiceName|contains: x\n",
            ),
        ];
        let e = engine(&rules);
        let r = &e.router;
        assert_eq!(slot_names(&e, &r.slots), ["Channel"]);
        let sysmon = bucket(&e, &r.slots[0], "sysmon");
        assert!(sysmon.variants.is_empty());
        assert_eq!(slot_names(&e, &sysmon.subs), ["EventID"]);
        // Process rules: OriginalFileName narrows the bucket of EventID 1; a network event
        // (EventID 3) never looks it up.
        let one = bucket(&e, &sysmon.subs[0], "1");
        assert_eq!(one.variants.len(), 1, "the CommandLine rule");
        assert_eq!(slot_names(&e, &one.subs), ["OriginalFileName"]);
        let three = bucket(&e, &sysmon.subs[0], "3");
        assert_eq!(three.variants.len(), 1, "the Image rule");
        assert_eq!(slot_names(&e, &three.subs), ["DestinationPort"]);
        // One rule under Security: nothing to narrow, no lookup below the channel.
        let security = bucket(&e, &r.slots[0], "security");
        assert_eq!(security.variants.len(), 1);
        assert!(security.subs.is_empty());

        let ev = |id: u32, more: serde_json::Value| {
            let mut v = json!({"Channel": "Sysmon", "EventID": id});
            if let (Some(o), Some(m)) = (v.as_object_mut(), more.as_object()) {
                o.extend(m.clone());
            }
            v
        };
        assert_eq!(
            matched(&e, &ev(1, json!({"OriginalFileName": "Y.exe"}))),
            vec![1]
        );
        assert_eq!(
            matched(
                &e,
                &ev(
                    1,
                    json!({"OriginalFileName": "x.exe", "CommandLine": "a foo"})
                )
            ),
            vec![0, 2]
        );
        assert_eq!(
            matched(
                &e,
                &ev(3, json!({"DestinationPort": "4444", "Image": "c:\\a.exe"}))
            ),
            vec![3, 4]
        );
        // The right fields under the wrong event id or channel are not offered.
        assert!(matched(&e, &ev(3, json!({"OriginalFileName": "x.exe"}))).is_empty());
        assert!(
            matched(
                &e,
                &json!({"Channel": "Security", "EventID": 1, "OriginalFileName": "x.exe"})
            )
            .is_empty()
        );
        assert_eq!(
            matched(&e, &json!({"Channel": "security", "EventID": "4624"})),
            vec![5]
        );
    }

    /// A condition nested as deep as the parser allows is loaded, compiled, routed and matched
    /// on a test thread's default 2 MiB stack, in a debug build (large frames); one nested
    /// thousands deep (found by review: it overflowed the router's thread and aborted the
    /// process) is refused when the rule is loaded, with a reason.
    #[test]
    fn the_deepest_condition_allowed_fits_a_default_stack() {
        let rule = |depth: usize| {
            let mut condition = "a".to_owned();
            for i in 0..depth {
                condition = if i % 2 == 0 {
                    format!("b or ({condition})")
                } else {
                    format!("a and ({condition})")
                };
            }
            format!(
                "title: Deep\nid: 00000000-0000-4000-8000-000000000001\nlogsource: {{product: windows}}\ndetection:\n  a:\n    EventID: 1\n  b:\n    EventID: 2\n  condition: {condition}\n"
            )
        };
        let loaded = sigma::load_str(&rule(sigma::condition::MAX_NESTING), "deep.yml");
        assert_eq!(loaded.rules.len(), 1, "{:?}", loaded.diagnostics);
        let e = Engine::compile(loaded.rules.iter().map(resolve_identity).collect());
        // The outermost operator is `a and`: only EventID 1 can match.
        assert_eq!(matched(&e, &json!({"EventID": 1})), vec![0]);
        assert!(matched(&e, &json!({"EventID": 2})).is_empty());

        let refused = sigma::load_str(&rule(2000), "deep.yml");
        assert!(refused.rules.is_empty());
        assert!(
            refused
                .diagnostics
                .iter()
                .any(|d| d.message.contains("more than 256 deep")),
            "{:?}",
            refused.diagnostics
        );
    }

    #[test]
    fn selective_fields_route_below_shared_ones() {
        let rules = vec![
            rule(1, "  sel:\n    EventID: 1\n    OriginalFileName: x.exe\n"),
            rule(
                2,
                "  sel:\n    EventID: [1, 2]\n    OriginalFileName: [y.exe, z.exe]\n",
            ),
            rule(3, "  sel:\n    EventID: 1\n    CommandLine|contains: foo\n"),
            rule(4, "  sel:\n    EventID: 1\n    Image|endswith: a.exe\n"),
            rule(5, "  sel:\n    LogonType: 3\n"),
        ];
        let e = engine(&rules);
        let r = &e.router;
        // Only EventID (shared) and LogonType (no other field) are looked up for every event.
        let top: Vec<&str> = r
            .slots
            .iter()
            .map(|rs| e.prog.fields[rs.slot as usize].name())
            .collect();
        assert_eq!(top, vec!["EventID", "LogonType"]);
        let one = r.slots[0]
            .map
            .get("1")
            .copied()
            .expect("bucket of EventID 1");
        let bucket = &r.buckets[one as usize];
        assert_eq!(
            bucket.variants.len(),
            2,
            "rules 3 and 4 are offered on EventID alone"
        );
        assert_eq!(bucket.subs.len(), 1);
        assert_eq!(
            e.prog.fields[bucket.subs[0].slot as usize].name(),
            "OriginalFileName"
        );

        assert_eq!(
            matched(&e, &json!({"EventID": 1, "OriginalFileName": "X.EXE"})),
            vec![0]
        );
        // Numbers written as strings meet numeric keys at both levels.
        assert_eq!(
            matched(&e, &json!({"EventID": "2", "OriginalFileName": "z.exe"})),
            vec![1]
        );
        assert_eq!(
            matched(
                &e,
                &json!({"EventID": 1, "OriginalFileName": ["a.exe", "y.exe"], "CommandLine": "x foo", "Image": "c:\\A.exe"})
            ),
            vec![1, 2, 3]
        );
        assert!(matched(&e, &json!({"EventID": 2, "OriginalFileName": "x.exe"})).is_empty());
        assert!(matched(&e, &json!({"EventID": 3, "OriginalFileName": "y.exe"})).is_empty());
        assert!(matched(&e, &json!({"OriginalFileName": "x.exe"})).is_empty());
        assert_eq!(
            matched(&e, &json!({"LogonType": "3", "EventID": 1})),
            vec![4]
        );
    }
}
