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
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
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
    let mut seen = vec![0u32; nfa.moves.len()];
    let mut mark = 1u32;
    let mut first = vec![start];
    nfa.closure(&mut first, &mut seen, mark, end);
    let mut ids: HashMap<Vec<usize>, usize, BuildFx> = HashMap::with_hasher(BuildFx);
    ids.insert(first.clone(), 0);
    let mut todo = vec![first];
    // Alphabet classes. Each state's moves are grouped by target into labels (the list of
    // ranges), interned: the 64 copies of `\w` in `\w{1,64}` are one label. Code points that
    // the same labels cover move every state alike, so they form one class, however many
    // ranges apart they are (`\w` has hundreds of ranges, but with `.` around it gives three
    // classes). A DFA state's successors are then gathered per class, without sorting range
    // events per DFA state (with `.{1000,}` and `\w{1,64}` that sorting was the single largest
    // cost of converting the corpus).
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
        }
    }
    let classes = class_of.len();
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); classes];
    let mut used: Vec<usize> = Vec::new();
    let mut last: Vec<usize> = Vec::new();
    while let Some(set) = todo.pop() {
        for &s in &set {
            for &(l, t) in &state_moves[s] {
                for &k in &label_classes[l] {
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
