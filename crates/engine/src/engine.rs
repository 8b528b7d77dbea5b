//! The compiled rule set and per-event evaluation: route, prefilter, then evaluate.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sigma::modifier::Link;
use sigma::pipeline::{NotApplicable, ResolvedRule};
use smallvec::SmallVec;

use crate::compile::{ANY_SLOT, CVariant, CompileError, Node, Program, compile};
use crate::event::{Event, FieldPath, Scalar};
use crate::explain::Explanation;
use crate::jsonline::{JsonError, LineScanner, ScanPlan};
use crate::matcher::{FieldView, Kind, Val};
use crate::par::par_map;
use crate::prefilter::Prefilter;
use crate::prefilter::found_cache::{self, FoundCache};
use crate::route::{RouteSlot, Router, bit_words};
use crate::semantics::{fold_into, number_text_into, parse_number};

static NEXT_ENGINE_ID: AtomicU64 = AtomicU64::new(1);

/// A match of one rule on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Match {
    /// Index of the rule in the slice given to [`Engine::compile`].
    pub rule: usize,
    /// Index of the first matching variant of the rule.
    pub variant: usize,
    /// The rule has a legacy aggregation (`| count() by ...`) or `near` condition: this is a
    /// hit of its base condition, to be handed to the correlation module rather than reported
    /// as a detection.
    pub needs_correlation: bool,
}

/// Matches of one event, in rule order.
pub type Matches = smallvec::IntoIter<[Match; 4]>;

/// A compiled rule set. `Send + Sync`: share it between threads, each evaluating its own
/// events.
///
/// ```
/// use engine::Engine;
/// let yaml = "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\n";
/// let rule = sigma::load_str(yaml, "t.yml").rules.remove(0);
/// let engine = Engine::compile(vec![sigma::pipeline::resolve_identity(&rule)]);
/// let event = serde_json::json!({"Image": "C:\\Windows\\System32\\CMD.EXE"});
/// assert_eq!(engine.matches(&event).count(), 1);
/// ```
pub struct Engine {
    id: u64,
    rules: Vec<ResolvedRule>,
    pub(crate) prog: Program,
    pub(crate) router: Router,
    pub(crate) pre: Prefilter,
    errors: Vec<CompileError>,
    warnings: Vec<String>,
    plan: Arc<ScanPlan>,
    /// Variants with a literal set (skipped unless marked).
    req_bits: Vec<u64>,
    /// Variants offered every event, and the prefilter slots they need.
    unrouted_bits: Vec<u64>,
    unrouted_pslots: Vec<u64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.len())
            .field("variants", &self.prog.variants.len())
            .field("items", &self.prog.items.len())
            .field("fields", &self.prog.fields.len())
            .field("errors", &self.errors.len())
            .finish()
    }
}

/// Per-thread working memory for evaluating events (reused between events).
#[derive(Debug, Clone)]
pub struct Scratch {
    table: u64,
    epoch: u32,
    slot_gen: Vec<u32>,
    slot_present: Vec<bool>,
    slot_range: Vec<(u32, u32)>,
    vals: Vec<Val>,
    orig: String,
    lower: String,
    memo_gen: Vec<u32>,
    memo_val: Vec<bool>,
    cand: Vec<u64>,
    marked: Vec<u64>,
    pslots: Vec<u64>,
    pat_gen: Vec<u32>,
    key: String,
    /// The event's raw text lower-cased (ASCII), made once per event when a keyword search
    /// needs it (`raw_gen == epoch`).
    raw_lower: Vec<u8>,
    raw_gen: u32,
    /// The literals found in values seen before (see [`FoundCache`]).
    found: FoundCache,
    /// The literals found in the value being searched, to keep.
    found_now: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Vec<Scratch>> = const { RefCell::new(Vec::new()) };
}

/// Thread-local scratches kept per thread (one per engine recently used).
const SCRATCH_CACHE: usize = 4;
/// A thread looks for literal sets to build in parallel ([`Engine::prebuild`]) only in
/// its first events: by then the sets a log needs are built.
const PREBUILD_EVENTS: u32 = 4096;

#[inline]
fn set_bit(bits: &mut [u64], i: u32) {
    bits[(i / 64) as usize] |= 1 << (i % 64);
}

#[inline]
fn get_bit(bits: &[u64], i: u32) -> bool {
    bits[(i / 64) as usize] & (1 << (i % 64)) != 0
}

/// The positions of the set bits of `word`, lowest first.
#[inline]
fn ones(mut word: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        (word != 0).then(|| {
            let b = word.trailing_zeros();
            word &= word - 1;
            b
        })
    })
}

impl Engine {
    /// Compile resolved rules (detection rules, and filter rules that apply to them;
    /// correlation rules are ignored here). Rules that cannot be compiled are listed in
    /// [`Engine::errors`] and never match; the others work.
    pub fn compile(rules: Vec<ResolvedRule>) -> Engine {
        let id = NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed);
        let (prog, errors, warnings) = compile(&rules, id);
        // The router is built on its own thread while the prefilter prices the literals.
        let (mut router, var_sets) = crate::par::join(
            || Router::build(&prog),
            || Prefilter::variant_literals(&prog),
        );
        let pre = Prefilter::build_from(&prog, &router, var_sets);
        let pslots_of = |vs: &[u32]| {
            let mut out: Vec<u32> = vs
                .iter()
                .filter_map(|&v| pre.needs[v as usize].as_ref())
                .flatten()
                .copied()
                .collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        for b in &mut router.buckets {
            b.pslots = pslots_of(&b.variants);
            b.variant_words = bit_words(&b.variants);
            b.pslot_words = bit_words(&b.pslots);
        }
        router.unrouted.pslots = pslots_of(&router.unrouted.variants);
        let plan = Arc::new(ScanPlan::new(&prog.fields, id));
        let words = prog.variants.len().div_ceil(64);
        let mut req_bits = vec![0; words];
        for (v, n) in pre.needs.iter().enumerate() {
            if n.is_some() {
                set_bit(&mut req_bits, v as u32);
            }
        }
        let mut unrouted_bits = vec![0; words];
        for &v in &router.unrouted.variants {
            set_bit(&mut unrouted_bits, v);
        }
        let mut unrouted_pslots = vec![0; pre.slots.len().div_ceil(64)];
        for &p in &router.unrouted.pslots {
            set_bit(&mut unrouted_pslots, p);
        }
        Engine {
            req_bits,
            unrouted_bits,
            unrouted_pslots,
            id,
            rules,
            prog,
            router,
            pre,
            errors,
            warnings,
            plan,
        }
    }

    /// The rules as given to [`Engine::compile`].
    pub fn rules(&self) -> &[ResolvedRule] {
        &self.rules
    }

    /// Rules that could not be compiled, with the reason.
    pub fn errors(&self) -> &[CompileError] {
        &self.errors
    }

    /// Rules a pipeline said do not apply (`ResolvedRule::skipped`): not compiled, never
    /// match, and not in [`Engine::errors`]; with the pipeline's reason.
    pub fn skipped(&self) -> impl Iterator<Item = (usize, &NotApplicable)> + '_ {
        self.rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.skipped.as_ref().map(|na| (i, na)))
    }

    /// Non-fatal problems (a filter naming a rule that is not in the set, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Was the rule compiled? (False for rules in [`Engine::errors`] or [`Engine::skipped`], and
    /// for correlation rules.)
    pub fn is_compiled(&self, rule: usize) -> bool {
        self.prog.rules.get(rule).is_some_and(Option::is_some)
            || self.prog.filters.iter().any(|f| f.rule as usize == rule)
    }

    /// Does the rule need the correlation module (legacy aggregation or `near`)?
    pub fn needs_correlation(&self, rule: usize) -> bool {
        self.prog
            .rules
            .get(rule)
            .and_then(Option::as_ref)
            .is_some_and(|r| r.needs_correlation)
    }

    /// Every field the rules read (slot 0, `*`, stands for the whole event).
    pub fn fields(&self) -> &[FieldPath] {
        &self.prog.fields
    }

    /// The plan for extracting this engine's fields from JSON lines.
    pub fn scan_plan(&self) -> &Arc<ScanPlan> {
        &self.plan
    }

    /// A reusable lazy JSON-line parser for this engine's fields (one per thread).
    pub fn line_scanner(&self) -> LineScanner {
        LineScanner::new(self.plan.clone())
    }

    /// Fresh working memory for [`Engine::matches_with`].
    pub fn scratch(&self) -> Scratch {
        let p = &self.prog;
        let nslots = p.fields.len();
        let words = p.variants.len().div_ceil(64);
        Scratch {
            table: self.id,
            epoch: 0,
            slot_gen: vec![0; nslots],
            slot_present: vec![false; nslots],
            slot_range: vec![(0, 0); nslots],
            vals: Vec::new(),
            orig: String::new(),
            lower: String::new(),
            memo_gen: vec![0; p.items.len()],
            memo_val: vec![false; p.items.len()],
            cand: vec![0; words],
            marked: vec![0; words],
            pslots: vec![0; self.pre.slots.len().div_ceil(64)],
            pat_gen: vec![0; self.pre.pattern_variants.len()],
            key: String::new(),
            raw_lower: Vec::new(),
            raw_gen: 0,
            found: FoundCache::default(),
            found_now: Vec::new(),
        }
    }

    /// The matches of one event, in rule order (one per rule, with its first matching
    /// variant). Uses a thread-local [`Scratch`].
    pub fn matches<E: Event + ?Sized>(&self, event: &E) -> Matches {
        let mut out: SmallVec<[Match; 4]> = SmallVec::new();
        SCRATCH.with(|cell| {
            let Ok(mut cache) = cell.try_borrow_mut() else {
                // Re-entered from inside an event callback: use a fresh scratch.
                let mut s = self.scratch();
                self.eval(event, &mut s, &mut |m| out.push(m));
                return;
            };
            let pos = match cache.iter().position(|s| s.table == self.id) {
                Some(p) => p,
                None => {
                    if cache.len() >= SCRATCH_CACHE {
                        cache.remove(0);
                    }
                    cache.push(self.scratch());
                    cache.len() - 1
                }
            };
            self.eval(event, &mut cache[pos], &mut |m| out.push(m));
        });
        out.into_iter()
    }

    /// The matches of one event appended to `out`, with explicit working memory.
    ///
    /// # Panics
    /// If `scratch` was made by another engine.
    pub fn matches_with<E: Event + ?Sized>(
        &self,
        event: &E,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        assert_eq!(scratch.table, self.id, "scratch made by another engine");
        self.eval(event, scratch, &mut |m| out.push(m));
    }

    fn eval<E: Event + ?Sized>(&self, ev: &E, s: &mut Scratch, out: &mut dyn FnMut(Match)) {
        s.begin();
        self.select(ev, s);
        let mut last_rule = u32::MAX;
        for w in 0..s.cand.len() {
            for b in ones(s.cand[w] & !(self.needs_mask(s, w))) {
                let v = (w as u32) * 64 + b;
                let var = &self.prog.variants[v as usize];
                if var.rule == last_rule {
                    continue;
                }
                if s.variant(&self.prog, ev, var) {
                    let Some(rule) = self.prog.rules[var.rule as usize].as_ref() else {
                        continue;
                    };
                    let filtered = rule.filters.iter().any(|&f| {
                        self.prog.filters[f as usize]
                            .variants
                            .iter()
                            .any(|fv| s.variant(&self.prog, ev, fv))
                    });
                    if !filtered {
                        last_rule = var.rule;
                        out(Match {
                            rule: var.rule as usize,
                            variant: var.variant as usize,
                            needs_correlation: rule.needs_correlation,
                        });
                    }
                }
            }
        }
    }

    /// Bits of candidate variants in word `w` that have a literal set none of whose literals
    /// was seen.
    #[inline]
    fn needs_mask(&self, s: &Scratch, w: usize) -> u64 {
        s.cand[w] & self.req_bits[w] & !s.marked[w]
    }

    /// Fill `cand` (routing) and `marked` (prefilter) for the event.
    pub(crate) fn select<E: Event + ?Sized>(&self, ev: &E, s: &mut Scratch) {
        s.cand.copy_from_slice(&self.unrouted_bits);
        s.marked.fill(0);
        s.pslots.copy_from_slice(&self.unrouted_pslots);
        for rs in &self.router.slots {
            self.route(rs, ev, s);
        }
        if s.epoch < PREBUILD_EVENTS {
            self.prebuild(ev, s);
        }
        for w in 0..s.pslots.len() {
            for b in ones(s.pslots[w]) {
                let ps = &self.pre.slots[w * 64 + b as usize];
                if let (Some(raw_ac), Some(text)) = (&ps.raw, ev.raw_text()) {
                    // Lower-cased once, then searched case-sensitively: the SIMD searchers
                    // only work that way.
                    if s.raw_gen != s.epoch {
                        s.raw_gen = s.epoch;
                        s.raw_lower.clear();
                        s.raw_lower.extend_from_slice(text.as_bytes());
                        s.raw_lower.make_ascii_lowercase();
                    }
                    raw_ac.find_all(&s.raw_lower, |id| {
                        self.mark(
                            &mut s.pat_gen,
                            &mut s.marked,
                            s.epoch,
                            ps.base + ps.ac_ids[id as usize],
                        );
                    });
                    continue;
                }
                s.fetch(&self.prog, ev, ps.slot);
                let (a, e) = s.slot_range[ps.slot as usize];
                if a == e {
                    continue;
                }
                // One value (nearly every field): what its searches find depends on the slot
                // and its text alone, kept for the next event with the same value.
                if e == a + 1 && s.vals[a as usize].has_text() {
                    let val = s.vals[a as usize];
                    let text = &s.lower.as_bytes()[val.lower.0 as usize..val.lower.1 as usize];
                    if text.len() <= found_cache::MAX_TEXT {
                        let psi = (w * 64) as u32 + b;
                        let hash = s.found.hash(psi, text);
                        if let Some(ids) = s.found.get(hash, psi, text) {
                            for &pid in ids {
                                self.mark(&mut s.pat_gen, &mut s.marked, s.epoch, pid);
                            }
                            continue;
                        }
                        let now = &mut s.found_now;
                        now.clear();
                        if let Some(anchored) = &ps.anchored {
                            anchored.find_all(text, |id| now.push(ps.base + id));
                        }
                        if let Some(ac) = &ps.ac
                            && !text.is_empty()
                        {
                            ac.find_all(text, |id| now.push(ps.base + ps.ac_ids[id as usize]));
                        }
                        // A literal may be found more than once: kept once.
                        now.sort_unstable();
                        now.dedup();
                        for &pid in now.iter() {
                            self.mark(&mut s.pat_gen, &mut s.marked, s.epoch, pid);
                        }
                        s.found.put(hash, psi, text, now);
                        continue;
                    }
                }
                if let Some(anchored) = &ps.anchored {
                    for val in &s.vals[a as usize..e as usize] {
                        if val.has_text() {
                            let text =
                                &s.lower.as_bytes()[val.lower.0 as usize..val.lower.1 as usize];
                            anchored.find_all(text, |id| {
                                self.mark(&mut s.pat_gen, &mut s.marked, s.epoch, ps.base + id);
                            });
                        }
                    }
                }
                let Some(ac) = &ps.ac else {
                    continue;
                };
                // The field's values lie one after the other in `lower`: one search over
                // them all finds every literal of every value (and at worst, across two
                // values, a literal that is in neither: a wasted evaluation, never a miss).
                let from = s.vals[a as usize].lower.0 as usize;
                let to = s.vals[e as usize - 1].lower.1 as usize;
                let text = &s.lower.as_bytes()[from..to];
                if text.is_empty() {
                    continue;
                }
                ac.find_all(text, |id| {
                    self.mark(
                        &mut s.pat_gen,
                        &mut s.marked,
                        s.epoch,
                        ps.base + ps.ac_ids[id as usize],
                    );
                });
            }
        }
    }

    /// Builds, on all cores at once, the literal sets this event will search that are not built
    /// yet, when there are several: the first events of a log need a dozen, and built one after
    /// the other as the search reaches them they kept one core busy and the other idle for most
    /// of a small hunt's start-up. (A set another thread is building is left to it.)
    #[cold]
    fn prebuild<E: Event + ?Sized>(&self, ev: &E, s: &mut Scratch) {
        let mut unbuilt = Vec::new();
        for w in 0..s.pslots.len() {
            for b in ones(s.pslots[w]) {
                let ps = &self.pre.slots[w * 64 + b as usize];
                let set = match (&ps.raw, &ps.ac) {
                    (Some(raw), _) if ev.raw_text().is_some() => raw,
                    (_, Some(ac)) => {
                        // Only fields the event has are searched.
                        s.fetch(&self.prog, ev, ps.slot);
                        let (a, e) = s.slot_range[ps.slot as usize];
                        if a == e {
                            continue;
                        }
                        ac
                    }
                    _ => continue,
                };
                if !set.is_built() {
                    unbuilt.push(set);
                }
            }
        }
        if unbuilt.len() > 1 {
            par_map(&unbuilt, 1, |_, set| {
                set.try_build();
            });
        }
    }

    /// Offer the event the buckets of its values of one route field (and, within them, their
    /// routes one level down).
    fn route<E: Event + ?Sized>(&self, rs: &RouteSlot, ev: &E, s: &mut Scratch) {
        s.fetch(&self.prog, ev, rs.slot);
        let (a, b) = s.slot_range[rs.slot as usize];
        let mut hits: SmallVec<[u32; 4]> = SmallVec::new();
        for i in a..b {
            let val = s.vals[i as usize];
            if !val.has_text() {
                continue;
            }
            let lower = &s.lower[val.lower.0 as usize..val.lower.1 as usize];
            if let Some(&bk) = rs.map.get(lower) {
                hits.push(bk);
            }
            if val.kind == Kind::Str {
                let orig = &s.orig[val.orig.0 as usize..val.orig.1 as usize];
                if let Some(n) = parse_number(orig) {
                    s.key.clear();
                    number_text_into(n, &mut s.key);
                    if s.key != lower
                        && let Some(&bk) = rs.map.get(s.key.as_str())
                    {
                        hits.push(bk);
                    }
                }
            }
        }
        for bk in hits {
            let bucket = &self.router.buckets[bk as usize];
            for &(w, bits) in &bucket.variant_words {
                s.cand[w as usize] |= bits;
            }
            for &(w, bits) in &bucket.pslot_words {
                s.pslots[w as usize] |= bits;
            }
            for sub in &bucket.subs {
                self.route(sub, ev, s);
            }
        }
    }

    /// A prefilter literal (global id `pid`) was seen: mark its variants (once per event).
    #[inline]
    fn mark(&self, pat_gen: &mut [u32], marked: &mut [u64], epoch: u32, pid: u32) {
        if pat_gen[pid as usize] != epoch {
            pat_gen[pid as usize] = epoch;
            for &v in &self.pre.pattern_variants[pid as usize] {
                set_bit(marked, v);
            }
        }
    }

    /// Was variant `v` a candidate for the event last selected in `s` (routing and prefilter)?
    pub(crate) fn is_candidate(&self, s: &Scratch, v: u32) -> (bool, bool) {
        let routed = get_bit(&s.cand, v);
        let pre = self.pre.needs[v as usize].is_none() || get_bit(&s.marked, v);
        (routed, pre)
    }

    /// How many variants the event is offered by routing, how many of those survive the
    /// literal prefilter, and how many rules match (for tuning; allocates a scratch).
    #[doc(hidden)]
    pub fn selection_stats<E: Event + ?Sized>(&self, ev: &E, s: &mut Scratch) -> [usize; 3] {
        s.begin();
        self.select(ev, s);
        let mut routed = 0;
        let mut survived = 0;
        for w in 0..s.cand.len() {
            routed += s.cand[w].count_ones() as usize;
            survived += (s.cand[w] & !self.needs_mask(s, w)).count_ones() as usize;
        }
        let mut matched = 0;
        self.eval(ev, s, &mut |_| matched += 1);
        [routed, survived, matched]
    }

    /// The variants that survive routing and the prefilter for `ev` (for tuning).
    #[doc(hidden)]
    pub fn survivors<E: Event + ?Sized>(&self, ev: &E, s: &mut Scratch) -> Vec<(usize, bool)> {
        s.begin();
        self.select(ev, s);
        let mut out = Vec::new();
        for w in 0..s.cand.len() {
            for b in ones(s.cand[w] & !self.needs_mask(s, w)) {
                let v = w * 64 + b as usize;
                out.push((
                    self.prog.variants[v].rule as usize,
                    self.pre.needs[v].is_some(),
                ));
            }
        }
        out
    }

    /// A fresh scratch with routing and prefilter done for `ev` (for explanations).
    pub(crate) fn selected_scratch<E: Event + ?Sized>(&self, ev: &E) -> Scratch {
        let mut s = self.scratch();
        s.begin();
        self.select(ev, &mut s);
        s
    }
}

impl Scratch {
    fn begin(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.slot_gen.fill(0);
            self.raw_gen = 0;
            self.memo_gen.fill(0);
            self.pat_gen.fill(0);
            self.epoch = 1;
        }
        self.vals.clear();
        self.orig.clear();
        self.lower.clear();
    }

    fn fetch<E: Event + ?Sized>(&mut self, prog: &Program, ev: &E, slot: u32) {
        let si = slot as usize;
        if self.slot_gen[si] == self.epoch {
            return;
        }
        self.slot_gen[si] = self.epoch;
        let start = self.vals.len() as u32;
        let (vals, orig, lower) = (&mut self.vals, &mut self.orig, &mut self.lower);
        let mut push = |sc: Scalar<'_>| {
            let o0 = orig.len() as u32;
            let l0 = lower.len() as u32;
            let kind = match sc {
                Scalar::Null => Kind::Null,
                Scalar::Other => Kind::Other,
                Scalar::Bool(b) => {
                    let t = if b { "true" } else { "false" };
                    orig.push_str(t);
                    lower.push_str(t);
                    Kind::Bool(b)
                }
                Scalar::Num(n) => {
                    number_text_into(n, orig);
                    lower.push_str(&orig[o0 as usize..]);
                    Kind::Num(n)
                }
                Scalar::Str(t) => {
                    orig.push_str(&t);
                    fold_into(&t, lower);
                    Kind::Str
                }
            };
            vals.push(Val {
                kind,
                orig: (o0, orig.len() as u32),
                lower: (l0, lower.len() as u32),
            });
        };
        let present = if slot == ANY_SLOT {
            ev.for_each_scalar(&mut push);
            true
        } else {
            ev.lookup(&prog.fields[si], &mut push)
        };
        self.slot_present[si] = present;
        self.slot_range[si] = (start, self.vals.len() as u32);
    }

    fn view(&self, slot: u32) -> FieldView<'_> {
        let si = slot as usize;
        let (a, b) = self.slot_range[si];
        FieldView {
            present: self.slot_present[si],
            vals: &self.vals[a as usize..b as usize],
            orig: &self.orig,
            lower: &self.lower,
        }
    }

    pub(crate) fn item<E: Event + ?Sized>(&mut self, prog: &Program, ev: &E, id: u32) -> bool {
        let ii = id as usize;
        if self.memo_gen[ii] == self.epoch {
            return self.memo_val[ii];
        }
        let item = &prog.items[ii];
        self.fetch(prog, ev, item.slot);
        for &r in &item.refs {
            self.fetch(prog, ev, r);
        }
        let view = self.view(item.slot);
        let other = |s: u32| self.view(s);
        let r = match item.link {
            Link::Any => item.matchers.iter().any(|m| m.matches(&view, &other)),
            Link::All => item.matchers.iter().all(|m| m.matches(&view, &other)),
        };
        let r = r != item.negated;
        self.memo_gen[ii] = self.epoch;
        self.memo_val[ii] = r;
        r
    }

    fn node<E: Event + ?Sized>(&mut self, prog: &Program, ev: &E, n: &Node) -> bool {
        match n {
            Node::Item(i) => self.item(prog, ev, *i),
            Node::Not(n) => !self.node(prog, ev, n),
            Node::And(ns) => ns.iter().all(|n| self.node(prog, ev, n)),
            Node::Or(ns) => ns.iter().any(|n| self.node(prog, ev, n)),
            Node::AtLeast(k, ns) => {
                let mut hits = 0u32;
                for (i, n) in ns.iter().enumerate() {
                    if self.node(prog, ev, n) {
                        hits += 1;
                        if hits >= *k {
                            return true;
                        }
                    }
                    if hits as usize + (ns.len() - i - 1) < *k as usize {
                        return false;
                    }
                }
                false
            }
            Node::Const(b) => *b,
        }
    }

    pub(crate) fn variant<E: Event + ?Sized>(
        &mut self,
        prog: &Program,
        ev: &E,
        v: &CVariant,
    ) -> bool {
        v.conditions.iter().all(|&c| self.item(prog, ev, c)) && self.node(prog, ev, &v.expr)
    }
}

/// One thread's evaluation state for an [`Engine`]: a JSON-text scanner, a [`Scratch`] and the
/// match buffer. Make one per worker thread with [`Engine::worker`] and reuse it for every
/// event; an event that matches nothing allocates nothing.
#[derive(Debug)]
pub struct Worker<'e> {
    engine: &'e Engine,
    scanner: LineScanner,
    scratch: Scratch,
    out: Vec<Match>,
}

impl Engine {
    /// Per-thread evaluation state (see [`Worker`]).
    pub fn worker(&self) -> Worker<'_> {
        Worker {
            engine: self,
            scanner: self.line_scanner(),
            scratch: self.scratch(),
            out: Vec::new(),
        }
    }
}

impl<'e> Worker<'e> {
    /// The engine this worker evaluates for.
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }

    /// The matches of one event given as JSON text (one object: a JSON line, an EVTX record
    /// rendered as JSON), in rule order. The text is scanned lazily: only the fields the rules
    /// read are decoded. `Err` when the text is not one valid JSON object.
    pub fn match_json(&mut self, text: &[u8]) -> Result<&[Match], JsonError> {
        self.out.clear();
        let ev = self.scanner.scan(text)?;
        self.engine
            .matches_with(&ev, &mut self.scratch, &mut self.out);
        Ok(&self.out)
    }

    /// The matches of one event given as a parsed JSON value, in rule order.
    pub fn match_value(&mut self, event: &serde_json::Value) -> &[Match] {
        self.match_event(event)
    }

    /// The matches of any [`Event`] (an [`crate::EsHit`], a [`crate::LineEvent`] scanned elsewhere,
    /// ...), in rule order.
    pub fn match_event<E: Event + ?Sized>(&mut self, event: &E) -> &[Match] {
        self.out.clear();
        self.engine
            .matches_with(event, &mut self.scratch, &mut self.out);
        &self.out
    }

    /// Explain one rule's decision on a JSON-text event (for `--explain`-style output; slow
    /// path, allocates).
    pub fn explain_json(&mut self, rule: usize, text: &[u8]) -> Result<Explanation, JsonError> {
        let ev = self.scanner.scan(text)?;
        Ok(self.engine.explain(rule, &ev))
    }
}

#[cfg(test)]
mod tests {
    use super::Engine;

    /// Selecting an event builds the literal sets of the fields it has (here two, so together,
    /// see `Engine::prebuild`), and not the set of a field it lacks.
    #[test]
    fn an_event_builds_the_literal_sets_of_its_fields() {
        let rule = |n: u32, field: &str| {
            format!(
                "title: R{n}\nid: 00000000-0000-4000-8000-00000000000{n}\nlogsource: {{product: windows}}\ndetection:\n  s:\n    {field}|contains: [alpha{n}, bravo{n}, charlie{n}, delta{n}, echo{n}, foxtrot{n}]\n  condition: s\n"
            )
        };
        let mut resolved = Vec::new();
        for (n, field) in [(1, "CommandLine"), (2, "Image"), (3, "ParentImage")] {
            let loaded = sigma::load_str(&rule(n, field), "t.yml");
            resolved.extend(loaded.rules.iter().map(sigma::pipeline::resolve_identity));
        }
        let engine = Engine::compile(resolved);
        let built = |field: &str| {
            let slot = engine.prog.fields.iter().position(|f| f.name() == field);
            let slot = slot.expect("a field of the rules") as u32;
            let ps = engine.pre.slots.iter().find(|p| p.slot == slot);
            ps.and_then(|p| p.ac.as_ref())
                .expect("a literal set")
                .is_built()
        };
        assert!(!built("CommandLine") && !built("Image") && !built("ParentImage"));
        let event = serde_json::json!({"CommandLine": "x echo1 y", "Image": "C:\\bravo2.exe"});
        let matched: Vec<usize> = engine.matches(&event).map(|m| m.rule).collect();
        assert_eq!(matched, [0, 1]);
        assert!(built("CommandLine") && built("Image"));
        assert!(!built("ParentImage"), "no ParentImage in the event");
    }

    /// What the prefilter found in a value is kept per field: an event whose values were seen
    /// before (in the same field or in another one) matches as it did with nothing kept.
    #[test]
    fn values_seen_before_match_as_the_first_time() {
        let yaml = |n: u32, body: &str| {
            format!(
                "title: R{n}\nid: 00000000-0000-4000-8000-00000000001{n}\nlogsource: {{product: windows}}\ndetection:\n  s:\n{body}  condition: s\n"
            )
        };
        let rules = [
            yaml(0, "    Image|endswith: '\\cmd.exe'\n"),
            yaml(1, "    Image|startswith: 'c:\\tools\\'\n"),
            yaml(2, "    ParentImage|contains: [powershell, wscript]\n"),
            yaml(3, "    CommandLine|contains|all: [' -enc ', hidden]\n"),
            yaml(4, "    CommandLine: 'whoami /all'\n"),
        ];
        let mut resolved = Vec::new();
        for r in &rules {
            let loaded = sigma::load_str(r, "t.yml");
            assert_eq!(loaded.rules.len(), 1, "{r}");
            resolved.extend(loaded.rules.iter().map(sigma::pipeline::resolve_identity));
        }
        let engine = Engine::compile(resolved);
        let events = [
            serde_json::json!({"ParentImage": "c:\\tools\\cmd.exe", "Image": "C:\\x\\powershell.exe"}),
            // The same texts, each in the other field, where they match.
            serde_json::json!({"Image": "c:\\tools\\cmd.exe", "ParentImage": "C:\\x\\powershell.exe"}),
            serde_json::json!({"Image": "c:\\tools\\cmd.exe", "CommandLine": "x -enc AAA -w hidden"}),
            serde_json::json!({"CommandLine": "WHOAMI /ALL", "Image": "c:\\tools\\a.exe"}),
            serde_json::json!({"CommandLine": "whoami /all x"}),
            // Several values in one field are searched as before.
            serde_json::json!({"Image": ["c:\\tools\\a", "b\\cmd.exe"]}),
        ];
        let fresh: Vec<Vec<usize>> = events
            .iter()
            .map(|ev| {
                let mut s = engine.scratch();
                let mut got = Vec::new();
                engine.eval(ev, &mut s, &mut |m| got.push(m.rule));
                got
            })
            .collect();
        assert_eq!(
            fresh,
            [
                vec![],
                vec![0, 1, 2],
                vec![0, 1, 3],
                vec![1, 4],
                vec![],
                vec![0, 1]
            ]
        );
        // One scratch for all, three times over: from the second pass on, every value is known.
        let mut s = engine.scratch();
        for pass in 0..3 {
            for (ev, want) in events.iter().zip(&fresh) {
                let mut got = Vec::new();
                engine.eval(ev, &mut s, &mut |m| got.push(m.rule));
                assert_eq!(&got, want, "pass {pass}, event {ev}");
            }
        }
    }
}
