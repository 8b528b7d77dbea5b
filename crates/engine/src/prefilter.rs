//! The literal prefilter: rules that cannot match an event are skipped before any of their
//! items is evaluated.
//!
//! For every variant we derive a *necessary literal set*: a list of (field, literal) such that
//! whenever the variant matches, the folded text of one of the field's values contains one of
//! the literals (the longest literal piece of a string pattern is contained in any text the
//! pattern matches, cased or not, because folding works character by character; a regex gives
//! the literals its every match contains, see [`regex_lits`]). `and` keeps
//! the most selective child's set (by an estimate of how often its literals are found, see
//! [`selectivity`]), `or` needs a set from every branch and joins them, `not`
//! gives none. Variants without a set are always evaluated.
//!
//! Per field, one Aho-Corasick automaton holds the literals of all variants; an event's values
//! of that field are scanned once, and every literal found marks the variants it stands for.

use sigma::hash::FastMap as HashMap;
use std::sync::{Mutex, OnceLock, TryLockError};

use sigma::modifier::Link;
use sigma::value::Part;

use crate::compile::{ANY_SLOT, Item, Node, Program};
use crate::matcher::Matcher;
use crate::par::par_map;
use crate::route::Router;
use crate::semantics::fold;

mod anchored;
pub(crate) mod found_cache;
mod literal_set;
mod regex_lits;
mod selectivity;
mod windowed;

pub(crate) use anchored::{Anchor, AnchoredSet};

pub(crate) use literal_set::{DFA_MAX_PATTERNS, LiteralSet};
use selectivity::SetCost;

/// A necessary literal.
#[derive(Debug, Clone)]
pub(crate) struct Lit {
    /// The field slot.
    slot: u32,
    /// How the literal sits in a value.
    anchor: Anchor,
    /// The folded literal.
    text: String,
    /// The estimated share of values it is found in (see [`selectivity`]), priced once: an
    /// item's literals are compared at every `and` above it.
    share: f64,
}

impl Lit {
    fn new(slot: u32, anchor: Anchor, text: String) -> Lit {
        Lit {
            slot,
            anchor,
            share: selectivity::literal_share(anchor, &text),
            text,
        }
    }
}

type Lits = Vec<Lit>;

/// One field scanned by the prefilter.
#[derive(Debug)]
pub(crate) struct PSlot {
    pub slot: u32,
    /// The literals found anywhere in the field's text (`None` when all are anchored).
    pub ac: Option<LazySet>,
    /// Per id of `ac` (and `raw`): the literal's id in this slot.
    pub ac_ids: Vec<u32>,
    /// The literals checked at each value's start or end or against its whole text.
    pub anchored: Option<AnchoredSet>,
    /// For the whole-event slot (keywords): the same literals JSON-escaped, ASCII
    /// case-insensitive, to search an event's raw text ([`crate::Event::raw_text`]) instead of
    /// its decoded values. `None` when a literal is not plain printable ASCII.
    pub raw: Option<LazySet>,
    /// Global id of this automaton's pattern 0.
    pub base: u32,
}

#[derive(Debug)]
pub(crate) struct Prefilter {
    pub slots: Vec<PSlot>,
    /// Per global pattern id: the variants it marks.
    pub pattern_variants: Vec<Vec<u32>>,
    /// Per variant: the prefilter slots it needs, or `None` when it has no literal set (always
    /// evaluated).
    pub needs: Vec<Option<Vec<u32>>>,
}

/// The longest literal piece of a pattern, and where it sits: a piece that starts the pattern
/// starts every value the pattern matches (a pattern is matched against the whole value), one
/// that ends it ends them, the only piece is the whole value.
fn longest_literal(p: &sigma::value::SigmaString, cased: bool) -> Option<(Anchor, String)> {
    let parts = p.parts();
    let (i, best) = parts
        .iter()
        .enumerate()
        .filter_map(|(i, part)| match part {
            Part::Lit(l) => Some((i, l)),
            _ => None,
        })
        .max_by_key(|(_, l)| l.len())?;
    if best.is_empty() {
        return None;
    }
    let anchor = match (i == 0, i + 1 == parts.len()) {
        (true, true) => Anchor::Exact,
        (true, false) => Anchor::Prefix,
        (false, true) => Anchor::Suffix,
        (false, false) => Anchor::Contains,
    };
    Some((anchor, if cased { fold(best) } else { best.clone() }))
}

fn matcher_lits(m: &Matcher, slot: u32, out: &mut Lits) -> bool {
    match m {
        Matcher::Str(set) => set
            .patterns
            .iter()
            .all(|p| match longest_literal(p, set.cased) {
                Some((anchor, l)) => {
                    // Keywords are searched in the whole event's text.
                    let anchor = if slot == ANY_SLOT {
                        Anchor::Contains
                    } else {
                        anchor
                    };
                    out.push(Lit::new(slot, anchor, l));
                    true
                }
                None => false,
            }),
        Matcher::Regex(re) => match regex_lits::regex_literals(re.re.as_str(), re.flags) {
            // A keyword literal that is not printable ASCII (such as the long s a
            // case-insensitive `s` also matches) would turn off the raw-text scan of all the
            // whole-event literals of its routing group.
            Some(lits)
                if slot != ANY_SLOT
                    || lits
                        .iter()
                        .all(|l| l.bytes().all(|b| (0x20..0x7f).contains(&b))) =>
            {
                out.extend(
                    lits.into_iter()
                        .map(|l| Lit::new(slot, Anchor::Contains, l)),
                );
                true
            }
            _ => false,
        },
        Matcher::AnyOf(ms) => ms.iter().all(|m| matcher_lits(m, slot, out)),
        _ => false,
    }
}

fn item_lits(item: &Item) -> Option<Lits> {
    if item.negated {
        return None;
    }
    match item.link {
        Link::Any => {
            let mut out = Vec::new();
            item.matchers
                .iter()
                .all(|m| matcher_lits(m, item.slot, &mut out))
                .then_some(out)
        }
        Link::All => best(item.matchers.iter().filter_map(|m| {
            let mut out = Vec::new();
            matcher_lits(m, item.slot, &mut out).then_some(out)
        })),
    }
}

/// The most selective of the sets (see [`selectivity`]); the first of equals.
fn best(it: impl Iterator<Item = Lits>) -> Option<Lits> {
    let mut best: Option<(SetCost, Lits)> = None;
    for l in it {
        let cost = SetCost::of_shares(l.iter().map(|lit| lit.share));
        if best.as_ref().is_none_or(|(b, _)| cost.better_than(b)) {
            best = Some((cost, l));
        }
    }
    best.map(|(_, l)| l)
}

/// The literal set of a node, `items` holding each item's (see [`item_lits`]).
fn node_lits(n: &Node, items: &[Option<Lits>]) -> Option<Lits> {
    match n {
        Node::Item(i) => items[*i as usize].clone(),
        Node::And(ns) => best(ns.iter().filter_map(|n| node_lits(n, items))),
        Node::Or(ns) | Node::AtLeast(_, ns) => {
            let mut out = Vec::new();
            for n in ns {
                out.extend(node_lits(n, items)?);
            }
            Some(out)
        }
        Node::Not(_) | Node::Const(true) => None,
        Node::Const(false) => Some(Vec::new()),
    }
}

/// Literals as they appear in JSON text (escaping `"` and `\\`), lower-case, to search the raw
/// text lower-cased (ASCII): sound on raw text with no `\\u`/`\\/` escapes, only
/// plain integers and no non-ASCII character that folds to ASCII, because then the ASCII runs of
/// each value's folded text are its JSON text's runs lower-cased (a printable ASCII literal
/// lies within one run) and JSON encodes characters one by one.
fn raw_automaton(list: &[String]) -> Option<LazySet> {
    let mut escaped = Vec::with_capacity(list.len());
    for l in list {
        if !l.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return None;
        }
        escaped.push(
            l.to_ascii_lowercase()
                .replace('\\', "\\\\")
                .replace('"', "\\\""),
        );
    }
    // Searched in the lower-cased text (see `Engine::select`).
    Some(LazySet::new(escaped, Build::Dfa))
}

/// How a [`LazySet`] is built.
#[derive(Debug, Clone, Copy)]
enum Build {
    /// A DFA if the set needs an automaton.
    Dfa,
    /// A DFA for sets up to [`DFA_MAX_PATTERNS`] (fastest scan, memory grows with the states
    /// times the byte classes), else or if it cannot be built the automatic choice.
    Field,
}

/// A [`LiteralSet`] built the first time it is searched: many fields are in no event of a
/// log (a rule set for all of Windows names hundreds), and building the sets of thousands of
/// literals was most of the time `hunt` took before reading its first event. A set that
/// cannot be built reports every literal (its variants are evaluated, as without a
/// prefilter).
///
/// A thread that finds the set being built by another does not wait for it: it reports every
/// literal, as for a set that cannot be built (its variants are evaluated in full until the set
/// is ready). With one worker per core, the first events of a log would otherwise keep all but
/// one worker idle while a big automaton is built.
#[derive(Debug)]
pub(crate) struct LazySet {
    list: Vec<String>,
    how: Build,
    built: OnceLock<Option<LiteralSet>>,
    /// Held while the set is built.
    building: Mutex<()>,
}

impl LazySet {
    fn new(list: Vec<String>, how: Build) -> LazySet {
        LazySet {
            list,
            how,
            built: OnceLock::new(),
            building: Mutex::new(()),
        }
    }

    /// Calls `found` with the id of every literal that occurs in `text` (see
    /// [`LiteralSet::find_all`]).
    #[inline]
    pub fn find_all(&self, text: &[u8], mut found: impl FnMut(u32)) {
        let built = match self.built.get() {
            Some(built) => built,
            None => match self.try_build() {
                Some(built) => built,
                None => &None,
            },
        };
        match built {
            Some(set) => set.find_all(text, found),
            None => (0..self.list.len() as u32).for_each(&mut found),
        }
    }

    /// Whether the set is built (or known not to be buildable).
    pub fn is_built(&self) -> bool {
        self.built.get().is_some()
    }

    /// Build the set unless another thread is building it (`None`: it is, do without).
    #[cold]
    #[inline(never)]
    pub(crate) fn try_build(&self) -> Option<&Option<LiteralSet>> {
        let _guard = match self.building.try_lock() {
            Ok(guard) => guard,
            // A build that panicked left nothing behind: build it here.
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(self.build())
    }

    #[cold]
    #[inline(never)]
    fn build(&self) -> &Option<LiteralSet> {
        self.built.get_or_init(|| match self.how {
            Build::Dfa => LiteralSet::build(&self.list, false, true),
            Build::Field => (self.list.len() <= DFA_MAX_PATTERNS)
                .then(|| LiteralSet::build(&self.list, false, true))
                .flatten()
                .or_else(|| LiteralSet::build(&self.list, false, false)),
        })
    }
}

impl Prefilter {
    /// Each variant's literal set (`None`: it has none), the part of the build that needs no
    /// routing (an engine computes it while the router is built).
    pub fn variant_literals(prog: &Program) -> Vec<Option<Vec<Lit>>> {
        // Each item's literal set, then each variant's: pricing thousands of literals and
        // comparing sets is most of this build, on both cores.
        let item_sets = par_map(&prog.items, 32, |_, item| item_lits(item));
        par_map(&prog.variants, 16, |_, v| {
            // The log-source conditions (`Channel`, `EventID`, ...) are what routing already
            // checks and hold in most events offered: only when the detection itself has no
            // literal set are they better than nothing.
            node_lits(&v.expr, &item_sets).or_else(|| {
                best(
                    v.conditions
                        .iter()
                        .filter_map(|&i| item_sets[i as usize].clone()),
                )
            })
        })
    }

    /// Literal sets per field and *routing group* (the buckets a variant is filed under, or
    /// none for unrouted variants): an event scans a field only with the literals of the
    /// variants routing offered it, so e.g. a keyword rule for every Windows event does not
    /// drag the keywords of application-log rules into every scan, and small sets stay small
    /// enough for the SIMD searchers.
    ///
    /// The literals are [`Prefilter::variant_literals`], computed beforehand.
    pub fn build_from(
        prog: &Program,
        router: &Router,
        var_sets: Vec<Option<Vec<Lit>>>,
    ) -> Prefilter {
        let mut group_of_variant: Vec<Vec<u32>> = vec![Vec::new(); prog.variants.len()];
        for (b, bucket) in router.buckets.iter().enumerate() {
            for &v in &bucket.variants {
                group_of_variant[v as usize].push(b as u32);
            }
        }
        let mut group_ids: HashMap<Vec<u32>, u32> = HashMap::default();
        let group_of_variant: Vec<u32> = group_of_variant
            .into_iter()
            .map(|mut g| {
                g.sort_unstable();
                g.dedup();
                let next = group_ids.len() as u32;
                *group_ids.entry(g).or_insert(next)
            })
            .collect();
        type Key = (u32, u32);
        type Entry = (Vec<(Anchor, String)>, HashMap<(Anchor, String), u32>);
        let mut per_slot: HashMap<Key, Entry> = HashMap::default();
        let mut slot_order: Vec<Key> = Vec::new();
        let mut var_pats: Vec<Option<Vec<(Key, u32)>>> = Vec::with_capacity(prog.variants.len());
        for (vi, var_lits) in var_sets.into_iter().enumerate() {
            let Some(lits) = var_lits else {
                var_pats.push(None);
                continue;
            };
            let mut pats = Vec::with_capacity(lits.len());
            for Lit {
                slot, anchor, text, ..
            } in lits
            {
                let key = (
                    slot,
                    if slot == ANY_SLOT {
                        group_of_variant[vi]
                    } else {
                        u32::MAX
                    },
                );
                let (list, ids) = per_slot.entry(key).or_insert_with(|| {
                    slot_order.push(key);
                    Default::default()
                });
                let id = *ids.entry((anchor, text.clone())).or_insert_with(|| {
                    list.push((anchor, text));
                    list.len() as u32 - 1
                });
                pats.push((key, id));
            }
            var_pats.push(Some(pats));
        }
        // Per slot: the `contains` literals (searched with a literal set, built on first use)
        // and their slot ids; the other literals' sets. Hundreds of slots: on both cores.
        let built = par_map(&slot_order, 8, |_, k| {
            let lits = &per_slot[k].0;
            let (list, ids): (Vec<String>, Vec<u32>) = lits
                .iter()
                .enumerate()
                .filter(|(_, (a, _))| *a == Anchor::Contains)
                .map(|(id, (_, l))| (l.clone(), id as u32))
                .unzip();
            let anchored = AnchoredSet::new(
                lits.iter()
                    .enumerate()
                    .map(|(id, (a, l))| (*a, l.as_str(), id as u32)),
            );
            if list.is_empty() {
                return (None, None, anchored, ids);
            }
            let raw = if k.0 == ANY_SLOT {
                raw_automaton(&list)
            } else {
                None
            };
            (Some(LazySet::new(list, Build::Field)), raw, anchored, ids)
        });
        let mut slots = Vec::new();
        let mut base_of: HashMap<Key, (u32, u32)> = HashMap::default();
        let mut total = 0u32;
        for (key, (ac, raw, anchored, ac_ids)) in slot_order.into_iter().zip(built) {
            let list = &per_slot[&key].0;
            let slot = key.0;
            base_of.insert(key, (slots.len() as u32, total));
            slots.push(PSlot {
                slot,
                ac,
                ac_ids,
                anchored,
                raw,
                base: total,
            });
            total += list.len() as u32;
        }
        let mut pattern_variants = vec![Vec::new(); total as usize];
        let mut needs = Vec::with_capacity(var_pats.len());
        for (v, pats) in var_pats.into_iter().enumerate() {
            let Some(pats) = pats else {
                needs.push(None);
                continue;
            };
            if pats.iter().any(|(slot, _)| !base_of.contains_key(slot)) {
                needs.push(None);
                continue;
            }
            let mut ps: Vec<u32> = Vec::new();
            for (slot, id) in pats {
                let (ps_id, base) = base_of[&slot];
                let list = &mut pattern_variants[(base + id) as usize];
                if list.last() != Some(&(v as u32)) {
                    list.push(v as u32);
                }
                if !ps.contains(&ps_id) {
                    ps.push(ps_id);
                }
            }
            needs.push(Some(ps));
        }
        Prefilter {
            slots,
            pattern_variants,
            needs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_being_built_elsewhere_reports_every_literal_without_waiting() {
        let set = LazySet::new(vec!["abc".into(), "xyz".into()], Build::Dfa);
        let mut seen = Vec::new();
        {
            // Another thread holds the build lock: no wait, every literal is reported.
            let _building = set.building.lock().expect("not poisoned");
            set.find_all(b"..abc..", |id| seen.push(id));
            assert_eq!(seen, [0, 1]);
            assert!(set.built.get().is_none());
        }
        seen.clear();
        set.find_all(b"..abc..", |id| seen.push(id));
        assert_eq!(seen, [0]);
        assert!(set.built.get().is_some());
    }

    /// The literals the prefilter keeps for the (only) variant of a rule.
    fn kept(detection: &str) -> Vec<String> {
        let text = format!(
            "title: T\nid: 00000000-0000-4000-8000-000000000001\nlogsource: {{product: windows}}\ndetection:\n{detection}"
        );
        let rules: Vec<_> = sigma::load_str(&text, "t.yml")
            .rules
            .iter()
            .map(sigma::pipeline::resolve_identity)
            .collect();
        let (prog, errors, _) = crate::compile::compile(&rules, 0);
        assert!(errors.is_empty(), "{errors:?}");
        let items: Vec<_> = prog.items.iter().map(item_lits).collect();
        let lits = node_lits(&prog.variants[0].expr, &items).expect("a literal set");
        let mut out: Vec<String> = lits.into_iter().map(|l| l.text).collect();
        out.sort();
        out
    }

    #[test]
    fn and_keeps_the_rarer_group_over_a_frequent_word() {
        // The `selection_reg` of "Suspicious PowerShell Invocations - Specific": `powershell`
        // is in every PowerShell module event's `ContextInfo`, the run keys rarely are.
        let reg = "  sel:\n    ContextInfo|contains|all: [powershell, reg, add]\n    ContextInfo|contains:\n      - '\\software\\microsoft\\windows\\currentversion\\run'\n      - '\\software\\wow6432node\\microsoft\\windows\\currentversion\\run'\n      - '\\software\\microsoft\\windows\\currentversion\\policies\\explorer\\run'\n  condition: sel\n";
        assert_eq!(
            kept(reg),
            [
                "\\software\\microsoft\\windows\\currentversion\\policies\\explorer\\run",
                "\\software\\microsoft\\windows\\currentversion\\run",
                "\\software\\wow6432node\\microsoft\\windows\\currentversion\\run",
            ]
        );
        // A registry key prefix found in most registry events loses to the value names.
        let ntlm = "  key:\n    TargetObject|contains|all: ['SYSTEM\\', 'ControlSet', '\\Control\\Lsa']\n  value:\n    - TargetObject|endswith: '\\lmcompatibilitylevel'\n    - TargetObject|endswith: '\\NtlmMinClientSec'\n  condition: key and value\n";
        assert_eq!(kept(ntlm), ["\\lmcompatibilitylevel", "\\ntlmminclientsec"]);
        // A rare word beats a frequent executable name; a run of punctuation is rare.
        let pester = "  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: pester\n  condition: sel\n";
        assert_eq!(kept(pester), ["pester"]);
        let traversal = "  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: '/../../'\n  condition: sel\n";
        assert_eq!(kept(traversal), ["/../../"]);
        // A short whole value (an access mask) is frequent whatever its bytes.
        let ente = "  sel:\n    GrantedAccess: '0x1400'\n    TargetImage|contains: ':\\Windows\\Sysmon64.exe'\n  condition: sel\n";
        assert_eq!(kept(ente), [":\\windows\\sysmon64.exe"]);
    }
}
