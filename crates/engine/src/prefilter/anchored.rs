//! Literals tied to a value's start, end or whole text (from `startswith`, `endswith` and plain
//! equality patterns), checked per value with a hash lookup or a binary search instead of a
//! scan of the whole text.
//!
//! A pattern `lit*` can only match a value whose folded text starts with the folded `lit`
//! (folding works character by character), so "some prefix literal of the value" is as good a
//! necessary condition as "the literal occurs somewhere" and far cheaper to test: most Windows
//! rules name an executable by `endswith` or a path by equality.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::jsonline::KeyHasher;

/// How a literal is tied to a value's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Anchor {
    /// Anywhere in the text.
    Contains,
    /// At its start.
    Prefix,
    /// At its end.
    Suffix,
    /// The whole text.
    Exact,
}

/// Literals sorted in an order where a literal's prefixes come right before the literals that
/// extend them, with each literal's chain of prefixes among the literals listed in advance:
/// the literals that are prefixes of a text `t` are all in the chain of the greatest literal
/// not above `t` (any prefix `q` of `t` with `q <= p <= t` is a prefix of `p`).
#[derive(Debug, Default)]
struct Chains {
    /// Keys in order (for suffixes: reversed bytes).
    keys: Vec<Box<[u8]>>,
    /// Per key: its id, then the ids of its prefixes (as positions into `keys`), as a range
    /// into `chain`.
    chain_of: Vec<(u32, u32)>,
    chain: Vec<u32>,
    /// Per key: the literal id it stands for.
    ids: Vec<u32>,
}

impl Chains {
    fn new(mut items: Vec<(Vec<u8>, u32)>) -> Chains {
        items.sort();
        items.dedup_by(|a, b| a.0 == b.0);
        let mut c = Chains::default();
        let mut stack: Vec<usize> = Vec::new();
        for (i, (key, id)) in items.iter().enumerate() {
            while let Some(&top) = stack.last() {
                if key.starts_with(&items[top].0) {
                    break;
                }
                stack.pop();
            }
            let a = c.chain.len() as u32;
            c.chain.push(i as u32);
            c.chain.extend(stack.iter().rev().map(|&t| t as u32));
            c.chain_of.push((a, c.chain.len() as u32));
            stack.push(i);
            c.ids.push(*id);
        }
        c.keys = items
            .into_iter()
            .map(|(k, _)| k.into_boxed_slice())
            .collect();
        c
    }

    /// Calls `found` with the id of every key that is a prefix of the text whose bytes, in
    /// order, `cmp_key(key)` compares keys with (`key.cmp(text)`), and `is_prefix(key)` tests.
    #[inline]
    fn find(
        &self,
        cmp_key: impl Fn(&[u8]) -> Ordering,
        is_prefix: impl Fn(&[u8]) -> bool,
        mut found: impl FnMut(u32),
    ) {
        if self.keys.is_empty() {
            return;
        }
        let p = match self.keys.binary_search_by(|k| cmp_key(k)) {
            Ok(i) => i,
            Err(0) => return,
            Err(i) => i - 1,
        };
        let (a, b) = self.chain_of[p];
        for &k in &self.chain[a as usize..b as usize] {
            if is_prefix(&self.keys[k as usize]) {
                found(self.ids[k as usize]);
            }
        }
    }
}

/// The anchored literals of one field.
#[derive(Debug, Default)]
pub(crate) struct AnchoredSet {
    exact: HashMap<Box<[u8]>, u32, BuildHasherDefault<KeyHasher>>,
    prefix: Chains,
    /// Keys reversed.
    suffix: Chains,
}

impl AnchoredSet {
    /// From `(anchor, literal, id)`; `Contains` literals are not taken (`None` when nothing is
    /// anchored).
    pub fn new<'a>(lits: impl Iterator<Item = (Anchor, &'a str, u32)>) -> Option<AnchoredSet> {
        let mut exact = HashMap::default();
        let mut prefix = Vec::new();
        let mut suffix = Vec::new();
        for (anchor, lit, id) in lits {
            match anchor {
                Anchor::Contains => {}
                Anchor::Exact => {
                    exact
                        .entry(lit.as_bytes().to_vec().into_boxed_slice())
                        .or_insert(id);
                }
                Anchor::Prefix => prefix.push((lit.as_bytes().to_vec(), id)),
                Anchor::Suffix => suffix.push((lit.bytes().rev().collect(), id)),
            }
        }
        if exact.is_empty() && prefix.is_empty() && suffix.is_empty() {
            return None;
        }
        Some(AnchoredSet {
            exact,
            prefix: Chains::new(prefix),
            suffix: Chains::new(suffix),
        })
    }

    /// Calls `found` with the id of every literal that `text` (one value) equals, starts with
    /// or ends with.
    #[inline]
    pub fn find_all(&self, text: &[u8], mut found: impl FnMut(u32)) {
        if let Some(&id) = self.exact.get(text) {
            found(id);
        }
        self.prefix
            .find(|k| k.cmp(text), |k| text.starts_with(k), &mut found);
        self.suffix.find(
            |k| k.iter().cmp(text.iter().rev()),
            |k| k.len() <= text.len() && k.iter().zip(text.iter().rev()).all(|(a, b)| a == b),
            &mut found,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{Anchor, AnchoredSet};

    fn naive(lits: &[(Anchor, &str)], text: &str) -> Vec<u32> {
        let mut out: Vec<u32> = lits
            .iter()
            .enumerate()
            .filter(|(_, (a, l))| match a {
                Anchor::Contains => false,
                Anchor::Prefix => text.starts_with(l),
                Anchor::Suffix => text.ends_with(l),
                Anchor::Exact => text == *l,
            })
            .map(|(i, _)| i as u32)
            .collect();
        out.sort_unstable();
        out
    }

    fn found(set: &AnchoredSet, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        set.find_all(text.as_bytes(), |id| out.push(id));
        out.sort_unstable();
        out.dedup();
        out
    }

    fn build(lits: &[(Anchor, &str)]) -> AnchoredSet {
        AnchoredSet::new(
            lits.iter()
                .enumerate()
                .map(|(i, (a, l))| (*a, *l, i as u32)),
        )
        .expect("some literal is anchored")
    }

    #[test]
    fn finds_nested_prefixes_suffixes_and_exact_values() {
        use Anchor::{Contains, Exact, Prefix, Suffix};
        let lits = [
            (Prefix, "c:\\"),
            (Prefix, "c:\\windows\\"),
            (Prefix, "c:\\windows\\system32\\"),
            (Prefix, "c:\\windows\\temp\\"),
            (Prefix, "c:\\w"),
            (Suffix, ".exe"),
            (Suffix, "\\cmd.exe"),
            (Suffix, "md.exe"),
            (Suffix, "\\powershell.exe"),
            (Exact, "c:\\windows\\system32\\cmd.exe"),
            (Exact, "cmd.exe"),
            (Contains, "cmd"),
        ];
        let set = build(&lits);
        for text in [
            "c:\\windows\\system32\\cmd.exe",
            "c:\\windows\\syswow64\\cmd.exe",
            "c:\\windows\\temp\\x.exe",
            "c:\\windowsx",
            "c:\\",
            "c:",
            "",
            "cmd.exe",
            "xcmd.exe",
            "d:\\tools\\powershell.exe",
            "\u{130}stanbul.exe",
            "zzz",
        ] {
            assert_eq!(found(&set, text), naive(&lits, text), "{text:?}");
        }
    }

    #[test]
    fn random_texts_agree_with_naive_checks() {
        // Tiny alphabet: literals are often prefixes/suffixes of each other and of the texts.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let alphabet = ['a', 'b', '\\', 'ſ'];
        for _ in 0..300 {
            let word = |next: &mut dyn FnMut(u64) -> u64, max: u64| -> String {
                let n = next(max) as usize;
                (0..n)
                    .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                    .collect()
            };
            let mut owned: Vec<(Anchor, String)> = Vec::new();
            for _ in 0..1 + next(12) {
                let anchor = match next(3) {
                    0 => Anchor::Prefix,
                    1 => Anchor::Suffix,
                    _ => Anchor::Exact,
                };
                let w = word(&mut next, 5);
                if !w.is_empty() {
                    owned.push((anchor, w));
                }
            }
            if owned.is_empty() {
                continue;
            }
            let lits: Vec<(Anchor, &str)> = owned.iter().map(|(a, l)| (*a, l.as_str())).collect();
            let set = build(&lits);
            for _ in 0..20 {
                let text = word(&mut next, 8);
                let mut want = naive(&lits, &text);
                // Equal literals of one anchor share the first one's id.
                want = want
                    .into_iter()
                    .map(|i| {
                        lits.iter()
                            .position(|l| *l == lits[i as usize])
                            .expect("present") as u32
                    })
                    .collect();
                want.sort_unstable();
                want.dedup();
                let got: Vec<u32> = found(&set, &text)
                    .into_iter()
                    .map(|i| {
                        lits.iter()
                            .position(|l| *l == lits[i as usize])
                            .expect("present") as u32
                    })
                    .collect::<std::collections::BTreeSet<u32>>()
                    .into_iter()
                    .collect();
                assert_eq!(got, want, "{lits:?} {text:?}");
            }
        }
    }
}
