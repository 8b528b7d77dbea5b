//! How many states Lucene needs for a regular expression.
//!
//! Lucene turns a `RegExp` into a deterministic automaton before searching and gives up past
//! `max_determinized_states` (10,000 by default in Elasticsearch): the query then fails (or,
//! lenient, matches nothing). An unanchored search such as `.*a[^\n]{2,128}b.*` needs a state
//! for every combination of places where an `a` may have started, far more than the limit.
//! [`determinized_states`] builds the expression's automaton (Thompson construction over
//! code-point ranges) and determinizes it (subset construction) up to a limit, so that the
//! backends refuse such a rule with the reason instead of emitting a query that fails. (Lucene
//! determinizes the UTF-8 form, where very large Unicode classes cost more states: an estimate,
//! checked against real Lucene by the harness.)

use std::collections::HashMap;

/// Elasticsearch's default `max_determinized_states`.
pub const MAX_DETERMINIZED_STATES: usize = 10_000;

#[derive(Debug)]
enum Node {
    Ranges(Vec<(u32, u32)>),
    Empty,
    Nothing,
    Concat(Vec<Node>),
    Union(Vec<Node>),
    /// Intersection; estimated by its first operand (the text side of a word-boundary
    /// condition; the condition itself adds little).
    Inter(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

struct Parser {
    c: Vec<char>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn eat(&mut self, ch: char) -> bool {
        if self.peek() == Some(ch) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn union(&mut self) -> Option<Node> {
        let mut v = vec![self.inter()?];
        while self.eat('|') {
            v.push(self.inter()?);
        }
        Some(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Union(v)
        })
    }
    fn inter(&mut self) -> Option<Node> {
        let mut v = vec![self.concat()?];
        while self.eat('&') {
            v.push(self.concat()?);
        }
        Some(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Inter(v)
        })
    }
    fn concat(&mut self) -> Option<Node> {
        let mut v = Vec::new();
        while let Some(c) = self.peek() {
            if matches!(c, '|' | '&' | ')') {
                break;
            }
            v.push(self.repeat()?);
        }
        Some(match v.len() {
            0 => Node::Empty,
            1 => v.remove(0),
            _ => Node::Concat(v),
        })
    }
    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.c[start..self.i]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }
    fn repeat(&mut self) -> Option<Node> {
        let mut n = self.atom()?;
        loop {
            n = if self.eat('*') {
                Node::Repeat(Box::new(n), 0, None)
            } else if self.eat('+') {
                Node::Repeat(Box::new(n), 1, None)
            } else if self.eat('?') {
                Node::Repeat(Box::new(n), 0, Some(1))
            } else if self.eat('{') {
                let min = self.number()?;
                let max = if self.eat(',') {
                    if self.peek() == Some('}') {
                        None
                    } else {
                        Some(self.number()?)
                    }
                } else {
                    Some(min)
                };
                if !self.eat('}') {
                    return None;
                }
                Node::Repeat(Box::new(n), min, max)
            } else {
                return Some(n);
            };
        }
    }
    fn lit(&mut self) -> Option<char> {
        self.eat('\\');
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn atom(&mut self) -> Option<Node> {
        match self.peek()? {
            '(' => {
                self.i += 1;
                let n = self.union()?;
                self.eat(')').then_some(n)
            }
            '.' => {
                self.i += 1;
                Some(Node::Ranges(vec![(0, char::MAX as u32)]))
            }
            '#' => {
                self.i += 1;
                Some(Node::Nothing)
            }
            '[' => {
                self.i += 1;
                let neg = self.eat('^');
                let mut ranges = Vec::new();
                while !self.eat(']') {
                    let a = self.lit()? as u32;
                    if self.peek() == Some('-') && self.c.get(self.i + 1) != Some(&']') {
                        self.i += 1;
                        ranges.push((a, self.lit()? as u32));
                    } else {
                        ranges.push((a, a));
                    }
                }
                ranges.sort_unstable();
                Some(Node::Ranges(if neg { complement(&ranges) } else { ranges }))
            }
            _ => {
                let c = self.lit()? as u32;
                Some(Node::Ranges(vec![(c, c)]))
            }
        }
    }
}

fn complement(ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut next = 0u32;
    for &(a, b) in ranges {
        if a > next {
            out.push((next, a - 1));
        }
        next = next.max(b.saturating_add(1));
    }
    if next <= char::MAX as u32 {
        out.push((next, char::MAX as u32));
    }
    out
}

/// A nondeterministic automaton: per state, range transitions and epsilon moves.
#[derive(Default)]
struct Nfa {
    moves: Vec<Vec<(u32, u32, usize)>>,
    eps: Vec<Vec<usize>>,
}

impl Nfa {
    fn state(&mut self) -> usize {
        self.moves.push(Vec::new());
        self.eps.push(Vec::new());
        self.moves.len() - 1
    }

    /// Build `n` between two new states; returns (start, end). `None` past `limit` states.
    fn build(&mut self, n: &Node, limit: usize) -> Option<(usize, usize)> {
        if self.moves.len() > limit {
            return None;
        }
        let s = self.state();
        let e = self.state();
        match n {
            Node::Ranges(rs) => {
                for &(a, b) in rs {
                    self.moves[s].push((a, b, e));
                }
            }
            Node::Empty => self.eps[s].push(e),
            Node::Nothing => {}
            Node::Concat(v) => {
                let mut cur = s;
                for x in v {
                    let (a, b) = self.build(x, limit)?;
                    self.eps[cur].push(a);
                    cur = b;
                }
                self.eps[cur].push(e);
            }
            Node::Union(v) => {
                for x in v {
                    let (a, b) = self.build(x, limit)?;
                    self.eps[s].push(a);
                    self.eps[b].push(e);
                }
            }
            Node::Inter(v) => {
                let (a, b) = self.build(&v[0], limit)?;
                self.eps[s].push(a);
                self.eps[b].push(e);
            }
            Node::Repeat(x, min, max) => {
                let mut cur = s;
                for _ in 0..*min {
                    let (a, b) = self.build(x, limit)?;
                    self.eps[cur].push(a);
                    cur = b;
                }
                match max {
                    None => {
                        let (a, b) = self.build(x, limit)?;
                        self.eps[cur].push(a);
                        self.eps[b].push(a);
                        self.eps[b].push(e);
                    }
                    Some(m) => {
                        for _ in *min..*m {
                            let (a, b) = self.build(x, limit)?;
                            self.eps[cur].push(a);
                            self.eps[cur].push(e);
                            cur = b;
                        }
                    }
                }
                self.eps[cur].push(e);
            }
        }
        Some((s, e))
    }

    /// Epsilon closure, keeping only the states that matter to the DFA: those with character
    /// transitions, and the accepting one.
    fn closure(&self, set: &mut Vec<usize>, seen: &mut [u32], mark: u32, end: usize) {
        let mut stack: Vec<usize> = Vec::with_capacity(set.len());
        for &s in set.iter() {
            seen[s] = mark;
            stack.push(s);
        }
        while let Some(s) = stack.pop() {
            for &t in &self.eps[s] {
                if seen[t] != mark {
                    seen[t] = mark;
                    set.push(t);
                    stack.push(t);
                }
            }
        }
        set.retain(|&s| s == end || !self.moves[s].is_empty());
        set.sort_unstable();
    }
}

/// A fast hasher for state sets (FxHash's multiply-rotate), which SipHash would dominate.
#[derive(Default, Clone, Copy)]
struct BuildFx;

#[derive(Default)]
struct Fx(u64);

impl std::hash::BuildHasher for BuildFx {
    type Hasher = Fx;
    fn build_hasher(&self) -> Fx {
        Fx(0)
    }
}

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    /// Slices of integers (state sets) come here as their bytes: eight at a time.
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.write_u64(u64::from_le_bytes(b));
        }
        for b in words.remainder() {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// The NFA's character moves, over alphabet classes.
///
/// Each state's moves are grouped by target into labels (the list of ranges), interned: the
/// 64 copies of `\w` in `\w{1,64}` are one label. Code points that the same labels cover move
/// every state alike, so they form one class, however many ranges apart they are (`\w` has
/// hundreds of ranges, but with `.` around it gives three classes). A DFA state's successors
/// are then gathered per class, without sorting range events per DFA state.
struct Alphabet {
    /// Per NFA state: (label, target) of its moves.
    state_moves: Vec<Vec<(usize, usize)>>,
    /// Per label: the classes it covers.
    label_classes: Vec<Vec<usize>>,
    /// Per class: the labels that cover it (ascending).
    class_labels: Vec<Vec<usize>>,
}

impl Alphabet {
    fn new(nfa: &Nfa) -> Alphabet {
        let mut labels: HashMap<Vec<(u32, u32)>, usize, BuildFx> = HashMap::with_hasher(BuildFx);
        let mut label_ranges: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut state_moves: Vec<Vec<(usize, usize)>> = Vec::with_capacity(nfa.moves.len());
        for ms in &nfa.moves {
            let mut by_target: Vec<(usize, Vec<(u32, u32)>)> = Vec::new();
            for &(a, b, t) in ms {
                match by_target.iter_mut().find(|(x, _)| *x == t) {
                    Some((_, rs)) => rs.push((a, b)),
                    None => by_target.push((t, vec![(a, b)])),
                }
            }
            let mut out = Vec::with_capacity(by_target.len());
            for (t, mut rs) in by_target {
                rs.sort_unstable();
                let next = label_ranges.len();
                let l = *labels.entry(rs.clone()).or_insert(next);
                if l == next {
                    label_ranges.push(rs);
                }
                out.push((l, t));
            }
            state_moves.push(out);
        }
        // Sweep the labels' ranges once: the labels covering each elementary interval, and the
        // class (set of covering labels) each label belongs to.
        let mut sweep: Vec<(u32, bool, usize)> = Vec::new();
        for (l, rs) in label_ranges.iter().enumerate() {
            for &(a, b) in rs {
                sweep.push((a, true, l));
                sweep.push((b.saturating_add(1), false, l));
            }
        }
        sweep.sort_unstable();
        let mut covering = vec![0u32; label_ranges.len()];
        let mut cover: Vec<usize> = Vec::new();
        let mut class_of: HashMap<Vec<usize>, usize, BuildFx> = HashMap::with_hasher(BuildFx);
        let mut label_classes: Vec<Vec<usize>> = vec![Vec::new(); label_ranges.len()];
        let mut class_labels: Vec<Vec<usize>> = Vec::new();
        let mut i = 0;
        while i < sweep.len() {
            let at = sweep[i].0;
            while i < sweep.len() && sweep[i].0 == at {
                let (_, open, l) = sweep[i];
                if open {
                    covering[l] += 1;
                } else {
                    covering[l] = covering[l].saturating_sub(1);
                }
                i += 1;
            }
            cover.clear();
            cover.extend((0..label_ranges.len()).filter(|&l| covering[l] > 0));
            if cover.is_empty() {
                continue;
            }
            let next = class_of.len();
            let k = *class_of.entry(cover.clone()).or_insert(next);
            if k == next {
                for &l in &cover {
                    label_classes[l].push(k);
                }
                class_labels.push(cover.clone());
            }
        }
        Alphabet {
            state_moves,
            label_classes,
            class_labels,
        }
    }
}

/// Above this many NFA states that matter to the DFA (those with character moves, and the
/// accepting one), state sets are sorted lists instead of bitsets: a bitset per DFA state and
/// per move target would cost more memory than the lists.
const DENSE_MAX: usize = 4096;

/// The number of states of the determinized automaton of a Lucene regular expression (over
/// code points), or `None` when it exceeds `limit` (or the expression is not one this crate
/// writes).
pub fn determinized_states(regexp: &str, limit: usize) -> Option<usize> {
    let mut p = Parser {
        c: regexp.chars().collect(),
        i: 0,
    };
    let node = p.union()?;
    if p.i != p.c.len() {
        return None;
    }
    let mut nfa = Nfa::default();
    // The NFA is linear in the expression (with repetitions unrolled); bound it too.
    let (start, end) = nfa.build(&node, limit.saturating_mul(64))?;
    let alphabet = Alphabet::new(&nfa);
    let important = (0..nfa.moves.len())
        .filter(|&s| s == end || !nfa.moves[s].is_empty())
        .count();
    if important <= DENSE_MAX {
        dense_states(&nfa, &alphabet, start, end, limit)
    } else {
        sparse_states(&nfa, &alphabet, start, end, limit)
    }
}

/// The subset construction with DFA states as bitsets over the NFA states that matter (those
/// with character moves, and the accepting one). The closure of every move target is computed
/// once, as a bitset (and as a list of its states when they are few); a DFA state's successor
/// for a class is then the union of the closures its moves on the class reach: first per label
/// (each NFA state has one label per target), then per class over the labels that cover it.
/// Classes covered by the same labels of the DFA state (all the letters the state has no move
/// of its own for) have the same successor, computed and looked up once.
fn dense_states(nfa: &Nfa, ab: &Alphabet, start: usize, end: usize, limit: usize) -> Option<usize> {
    const ABSENT: u32 = u32::MAX;
    let n = nfa.moves.len();
    let mut index = vec![ABSENT; n];
    let mut m = 0usize;
    for (s, ix) in index.iter_mut().enumerate() {
        if s == end || !nfa.moves[s].is_empty() {
            *ix = m as u32;
            m += 1;
        }
    }
    let words = m.div_ceil(64).max(1);
    // Closures as bitsets, one per distinct target (and the start), `words` each; `few` lists
    // the states of the closures that have fewer than `words` of them (cheaper to set one by
    // one than to OR whole bitsets).
    let mut closures: Vec<u64> = Vec::new();
    let mut few: Vec<Option<Vec<u32>>> = Vec::new();
    let mut closure_of = vec![ABSENT; n];
    let mut seen = vec![0u32; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut closure = |t: usize, closures: &mut Vec<u64>, few: &mut Vec<Option<Vec<u32>>>| {
        if closure_of[t] != ABSENT {
            return closure_of[t] as usize;
        }
        let c = few.len();
        closures.resize(closures.len() + words, 0);
        let bits = &mut closures[c * words..];
        let mut list = Vec::new();
        let mark = c as u32 + 1;
        seen[t] = mark;
        stack.push(t);
        while let Some(s) = stack.pop() {
            let ix = index[s];
            if ix != ABSENT {
                bits[ix as usize / 64] |= 1 << (ix % 64);
                list.push(ix);
            }
            for &x in &nfa.eps[s] {
                if seen[x] != mark {
                    seen[x] = mark;
                    stack.push(x);
                }
            }
        }
        few.push((list.len() < words).then_some(list));
        closure_of[t] = c as u32;
        c
    };
    // Per important state: (label, closure) of its moves.
    let mut moves: Vec<Vec<(usize, usize)>> = Vec::with_capacity(m);
    let first = closure(start, &mut closures, &mut few);
    for (s, &ix) in index.iter().enumerate() {
        if ix != ABSENT {
            let ms = ab.state_moves[s]
                .iter()
                .map(|&(l, t)| (l, closure(t, &mut closures, &mut few)))
                .collect();
            moves.push(ms);
        }
    }

    let mut known = SetTable::new(words);
    known.insert(&closures[first * words..(first + 1) * words]);
    let labels = ab.label_classes.len();
    // Per label present in the DFA state: where its moves go, and its place in `present`.
    let mut post = vec![0u64; labels * words];
    let mut present: Vec<usize> = Vec::new();
    let mut place = vec![ABSENT; labels];
    let mut classes: Vec<usize> = Vec::new();
    let mut class_used = vec![false; ab.class_labels.len()];
    let mut mask_of = vec![0u64; ab.class_labels.len()];
    let mut done: Vec<u64> = Vec::new();
    let mut succ = vec![0u64; words];
    let mut next = 0;
    while next < known.len() {
        for w in 0..words {
            let mut bits = known.sets[next * words + w];
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                for &(l, c) in &moves[i] {
                    let to = &mut post[l * words..(l + 1) * words];
                    if place[l] == ABSENT {
                        place[l] = present.len() as u32;
                        present.push(l);
                        to.fill(0);
                    }
                    match &few[c] {
                        Some(list) => {
                            for &ix in list {
                                to[ix as usize / 64] |= 1 << (ix % 64);
                            }
                        }
                        None => {
                            for (a, b) in to.iter_mut().zip(&closures[c * words..(c + 1) * words]) {
                                *a |= *b;
                            }
                        }
                    }
                }
            }
        }
        next += 1;
        // The classes the present labels cover, and for each (with at most 64 labels present)
        // the mask of the present labels covering it: classes with the same mask have the same
        // successor.
        let by_mask = present.len() <= 64;
        for (p, &l) in present.iter().enumerate() {
            for &k in &ab.label_classes[l] {
                if !class_used[k] {
                    class_used[k] = true;
                    classes.push(k);
                }
                if by_mask {
                    mask_of[k] |= 1 << p;
                }
            }
        }
        for &k in &classes {
            class_used[k] = false;
            succ.fill(0);
            if by_mask {
                let mask = std::mem::take(&mut mask_of[k]);
                if done.contains(&mask) {
                    continue;
                }
                done.push(mask);
                let mut bits = mask;
                while bits != 0 {
                    let l = present[bits.trailing_zeros() as usize];
                    bits &= bits - 1;
                    for (a, b) in succ.iter_mut().zip(&post[l * words..(l + 1) * words]) {
                        *a |= *b;
                    }
                }
            } else {
                for &l in &ab.class_labels[k] {
                    if place[l] != ABSENT {
                        for (a, b) in succ.iter_mut().zip(&post[l * words..(l + 1) * words]) {
                            *a |= *b;
                        }
                    }
                }
            }
            if !known.contains(&succ) {
                if known.len() >= limit {
                    return None;
                }
                known.insert(&succ);
            }
        }
        classes.clear();
        done.clear();
        for &l in &present {
            place[l] = ABSENT;
        }
        present.clear();
    }
    Some(known.len())
}

/// DFA states as bitsets of `words` words, in the order found, with an open-addressing index
/// over them (no allocation per state).
struct SetTable {
    words: usize,
    /// The sets, `words` each.
    sets: Vec<u64>,
    hashes: Vec<u64>,
    /// Per slot: set number + 1, or 0 when free. The length is a power of two.
    slots: Vec<u32>,
}

impl SetTable {
    fn new(words: usize) -> SetTable {
        SetTable {
            words,
            sets: Vec::new(),
            hashes: Vec::new(),
            slots: vec![0; 64],
        }
    }

    fn len(&self) -> usize {
        self.hashes.len()
    }

    fn hash(set: &[u64]) -> u64 {
        let mut h = Fx(0);
        for &w in set {
            std::hash::Hasher::write_u64(&mut h, w);
        }
        // The low bits pick the slot: fold the well-mixed high bits in.
        h.0 ^ (h.0 >> 29)
    }

    /// The slot holding `set`, or the free slot where it belongs.
    fn slot(&self, set: &[u64], hash: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                0 => return i,
                n => {
                    let k = n as usize - 1;
                    if self.hashes[k] == hash
                        && self.sets[k * self.words..(k + 1) * self.words] == *set
                    {
                        return i;
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn contains(&self, set: &[u64]) -> bool {
        self.slots[self.slot(set, Self::hash(set))] != 0
    }

    /// Add a set that is not in the table.
    fn insert(&mut self, set: &[u64]) {
        if (self.len() + 1) * 2 > self.slots.len() {
            let mut slots = vec![0u32; self.slots.len() * 2];
            let mask = slots.len() - 1;
            for (k, &h) in self.hashes.iter().enumerate() {
                let mut i = h as usize & mask;
                while slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                slots[i] = k as u32 + 1;
            }
            self.slots = slots;
        }
        let hash = Self::hash(set);
        let i = self.slot(set, hash);
        self.slots[i] = self.len() as u32 + 1;
        self.hashes.push(hash);
        self.sets.extend_from_slice(set);
    }
}

/// The subset construction with DFA states as sorted lists of NFA states, for NFAs too large
/// for bitsets.
fn sparse_states(
    nfa: &Nfa,
    ab: &Alphabet,
    start: usize,
    end: usize,
    limit: usize,
) -> Option<usize> {
    let mut seen = vec![0u32; nfa.moves.len()];
    let mut mark = 1u32;
    let mut first = vec![start];
    nfa.closure(&mut first, &mut seen, mark, end);
    let mut ids: HashMap<Vec<usize>, usize, BuildFx> = HashMap::with_hasher(BuildFx);
    ids.insert(first.clone(), 0);
    let mut todo = vec![first];
    let classes = ab.class_labels.len();
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); classes];
    let mut used: Vec<usize> = Vec::new();
    let mut last: Vec<usize> = Vec::new();
    while let Some(set) = todo.pop() {
        for &s in &set {
            for &(l, t) in &ab.state_moves[s] {
                for &k in &ab.label_classes[l] {
                    if buckets[k].is_empty() {
                        used.push(k);
                    }
                    buckets[k].push(t);
                }
            }
        }
        used.sort_unstable();
        last.clear();
        for &k in &used {
            let mut target = std::mem::take(&mut buckets[k]);
            // Classes reached by the same moves have the same successor.
            if target == last {
                target.clear();
                buckets[k] = target;
                continue;
            }
            last.clear();
            last.extend_from_slice(&target);
            target.sort_unstable();
            target.dedup();
            mark += 1;
            nfa.closure(&mut target, &mut seen, mark, end);
            target.dedup();
            if !ids.contains_key(&target) {
                if ids.len() >= limit {
                    return None;
                }
                ids.insert(target.clone(), ids.len());
                todo.push(target);
            }
        }
        used.clear();
    }
    Some(ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts of the subset construction, the same before and after alphabet classes
    /// replaced the per-state sweep of range events. `[ab]*a[ab]{3}` is the textbook case
    /// with 2^(3+1) subsets.
    #[test]
    fn subset_counts() {
        for (p, n) in [
            ("[ab]*a[ab]{3}", 16),
            (".*a[^\n]{2,8}b.*", 520),
            (".*[cC][mM][dD].*", 6),
            (".*[^\n]{50,}.*", 101),
            ("(a|bc|[d-f]{2})*x", 4),
            (".*\\\\[pP][wW][sS][hH]\\.[eE][xX][eE]", 10),
            ("[0-9]{1,3}\\.[0-9]{1,3}.*", 8),
        ] {
            assert_eq!(determinized_states(p, 100_000), Some(n), "{p}");
        }
        assert_eq!(determinized_states("[ab]*a[ab]{3}", 15), None);
    }

    /// The bitset and the sorted-list constructions count the same states, and stop at the
    /// same limit.
    #[test]
    fn dense_and_sparse_agree() {
        for p in [
            "[ab]*a[ab]{3}",
            ".*a[^\n]{2,8}b.*",
            ".*[cC][mM][dD].*",
            ".*[^\n]{50,}.*",
            "(a|bc|[d-f]{2})*x",
            ".*[Pp][Ii][Nn][Gg][\t-\r ]+-n[^\n]{6,64}echo.*",
            ".*(Copy-Item|cpi) [^\n]{2,12} -Destination [^\n]{1,8}\\\\Windows.*",
            ".*\\.[Ee][Xx][Ee][\"']?[\t-\r ]+[^\"]{0,16}[Ww][Ee][Rr].*",
            "a#b|c",
            "(a|#)*b",
            "",
            ".*",
            "[^a]{3,5}|x{2}&y",
            "[a-zA-Za-c]{2,4}.*[k\u{212a}]",
        ] {
            let mut parser = Parser {
                c: p.chars().collect(),
                i: 0,
            };
            let node = parser.union().unwrap();
            assert_eq!(parser.i, parser.c.len(), "{p}");
            let mut nfa = Nfa::default();
            let (start, end) = nfa.build(&node, 1_000_000).unwrap();
            let ab = Alphabet::new(&nfa);
            for limit in [1, 5, 20, 100, 100_000] {
                assert_eq!(
                    dense_states(&nfa, &ab, start, end, limit),
                    sparse_states(&nfa, &ab, start, end, limit),
                    "{p} limit {limit}"
                );
            }
        }
    }

    #[test]
    fn large_nfas_use_sorted_lists() {
        // Past DENSE_MAX states with moves: the sparse construction, same count.
        assert_eq!(determinized_states("a{5000}", 100_000), Some(5001));
        assert_eq!(determinized_states("a{4000}", 100_000), Some(4001));
    }

    #[test]
    fn small_expressions_are_small() {
        assert_eq!(determinized_states("abc", 100), Some(4));
        let n = determinized_states(".*abc.*", 100).unwrap();
        assert!(n <= 16, "{n}");
        assert!(determinized_states("(a|b)*c", 100).is_some());
    }

    #[test]
    fn bounded_gaps_in_searches_explode() {
        assert_eq!(
            determinized_states(".*a[^\n]{2,128}b.*", MAX_DETERMINIZED_STATES),
            None
        );
        assert!(determinized_states("a[^\n]{2,128}b", MAX_DETERMINIZED_STATES).is_some());
    }
}
