//! A set of literals searched for all at once (the prefilter's per-field search).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// Literal sets up to this size get a DFA (fastest scan, but its memory grows with the
/// states times the byte classes); larger ones a contiguous NFA (a few bytes per state).
pub(crate) const DFA_MAX_PATTERNS: usize = 300;

/// A set of literals searched for all at once: which of them occur in a text.
///
/// Every occurrence is found with a leftmost-longest search restarted one byte after each
/// match's start: a search from `at` returns the leftmost start `s` at which any literal
/// occurs, so none starts in `at..s`; the literals that occur at `s` are all prefixes of
/// the text from `s`, hence prefixes of the longest one, which is the one reported; each
/// literal's prefixes among the literals are listed in advance. Leftmost searches let the
/// automaton use its SIMD prefilters (Teddy for up to 64 literals), which overlapping searches
/// cannot, and scan large values several times faster.
#[derive(Debug)]
pub(crate) struct LiteralSet {
    ac: AhoCorasick,
    /// Per literal id: the literal and the other literals that are prefixes of it, as a
    /// range into `implied_ids`.
    implied: Vec<(u32, u32)>,
    implied_ids: Vec<u32>,
}

impl LiteralSet {
    pub(crate) fn build(
        list: &[String],
        ascii_case_insensitive: bool,
        dfa: bool,
    ) -> Option<LiteralSet> {
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(ascii_case_insensitive)
            .kind(Some(if dfa {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            }))
            .build(list)
            .ok()?;
        let key = |i: usize| -> Vec<u8> {
            if ascii_case_insensitive {
                list[i].to_ascii_lowercase().into_bytes()
            } else {
                list[i].clone().into_bytes()
            }
        };
        let keys: Vec<Vec<u8>> = (0..list.len()).map(key).collect();
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        // Sorted, a literal's prefixes come before it, and every literal in between starts
        // with them too: a stack holds the prefix chain of the current literal.
        let mut chains: Vec<Vec<u32>> = vec![Vec::new(); list.len()];
        let mut stack: Vec<usize> = Vec::new();
        for &i in &order {
            while let Some(&top) = stack.last() {
                if keys[i].starts_with(&keys[top]) {
                    break;
                }
                stack.pop();
            }
            let mut chain: Vec<u32> = stack.iter().map(|&t| t as u32).collect();
            chain.push(i as u32);
            chains[i] = chain;
            stack.push(i);
        }
        let mut implied = Vec::with_capacity(list.len());
        let mut implied_ids = Vec::new();
        for chain in chains {
            let a = implied_ids.len() as u32;
            implied_ids.extend(chain);
            implied.push((a, implied_ids.len() as u32));
        }
        Some(LiteralSet {
            ac,
            implied,
            implied_ids,
        })
    }

    /// Calls `found` with the id of every literal that occurs in `text` (a literal may be
    /// reported more than once).
    #[inline]
    pub fn find_all(&self, text: &[u8], mut found: impl FnMut(u32)) {
        let mut input = aho_corasick::Input::new(text);
        while let Some(m) = self.ac.find(input.clone()) {
            let (a, b) = self.implied[m.pattern().as_usize()];
            for &id in &self.implied_ids[a as usize..b as usize] {
                found(id);
            }
            if m.start() + 1 >= text.len() {
                break;
            }
            input.set_start(m.start() + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LiteralSet;

    /// Every literal that occurs, by brute force.
    fn naive(list: &[&str], text: &str, ci: bool) -> Vec<u32> {
        let text = if ci {
            text.to_ascii_lowercase()
        } else {
            text.to_owned()
        };
        let mut out: Vec<u32> = (0..list.len() as u32)
            .filter(|&i| {
                let l = list[i as usize];
                text.contains(&*if ci {
                    l.to_ascii_lowercase()
                } else {
                    l.to_owned()
                })
            })
            .collect();
        out.sort_unstable();
        out
    }

    fn found(set: &LiteralSet, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        set.find_all(text.as_bytes(), |id| out.push(id));
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn finds_overlapping_nested_and_repeated_literals() {
        let list = ["abc", "ab", "b", "bcd", "c", "a", "abcde", "zz", "cdx"];
        let owned: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        for dfa in [true, false] {
            let set = LiteralSet::build(&owned, false, dfa).expect("builds");
            for text in ["xabcd", "abcde", "", "zzz", "bcdx", "ab ab", "cdxabc", "a"] {
                assert_eq!(found(&set, text), naive(&list, text, false), "{text:?}");
            }
        }
    }

    #[test]
    fn ascii_case_insensitive_sets_match_naive_search() {
        let list = ["Foo", "oob", "BAR", "o"];
        let owned: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        let set = LiteralSet::build(&owned, true, true).expect("builds");
        for text in ["fOOBar", "xx", "FOOB", "bar"] {
            assert_eq!(found(&set, text), naive(&list, text, true), "{text:?}");
        }
    }

    #[test]
    fn random_texts_agree_with_naive_search() {
        // Small alphabet: many overlaps and shared prefixes.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let count = 1 + next() % 12;
            let mut word = |max: u64| -> String {
                let n = 1 + next() % max;
                (0..n)
                    .map(|_| (b'a' + (next() % 3) as u8) as char)
                    .collect()
            };
            let list: Vec<String> = (0..count).map(|_| word(4)).collect();
            let mut dedup = list.clone();
            dedup.sort();
            dedup.dedup();
            let text = word(40);
            let refs: Vec<&str> = dedup.iter().map(String::as_str).collect();
            let set = LiteralSet::build(&dedup, false, true).expect("builds");
            assert_eq!(
                found(&set, &text),
                naive(&refs, &text, false),
                "{refs:?} in {text:?}"
            );
        }
    }
}
