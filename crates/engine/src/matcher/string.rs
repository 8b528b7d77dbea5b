//! String patterns turned into the cheapest matchers: exact (hash set), prefix, suffix,
//! contains (memchr's memmem, or one Aho-Corasick automaton for many needles), and a linear-time
//! wildcard matcher for the rest. No regular expressions.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memmem;
use sigma::value::{Part, Shape, SigmaString};

use crate::jsonline::KeyHasher;
use crate::prefilter::LiteralSet;
use crate::semantics::fold;

/// Above this many needles, one automaton beats a loop of memmem searches.
const AC_THRESHOLD: usize = 4;
/// From this many needles on (the hash lists of driver and hack-tool rules: thousands), the
/// prefilter's literal set, which searches them by their windows when at least 512 have 4
/// bytes or more and no window is crowded (else as it sees fit): an automaton of 5,600 hashes
/// took ~20 ms to build at the rule's first evaluation, the set ~2 ms.
const SET_THRESHOLD_CONTAINS: usize = 512;
/// Above this many exact values, a hash set beats comparing each.
const SET_THRESHOLD: usize = 8;

/// A set of wildcard patterns over one text: matches when any pattern matches the whole text.
#[derive(Debug, Clone)]
pub(crate) struct StrSet {
    /// Compare the original text (`cased`) or the folded one.
    pub cased: bool,
    /// The patterns, folded unless cased (kept for analysis: prefilter, routing).
    pub patterns: Vec<SigmaString>,
    any: bool,
    exact_small: Vec<Box<str>>,
    exact_set: HashSet<Box<str>, BuildHasherDefault<KeyHasher>>,
    prefix: Vec<Box<str>>,
    suffix: Vec<Box<str>>,
    contains: Contains,
    globs: Vec<Glob>,
}

/// `contains` needles; their searcher is built the first time the item is evaluated (most
/// items of a large rule set never are, thanks to routing and the prefilter: building them all
/// up front was a third of the engine's compile time and much of its memory).
#[derive(Debug, Clone, Default)]
struct Contains {
    needles: Vec<String>,
    searcher: OnceLock<Box<Searcher>>,
}

#[derive(Debug, Clone)]
enum Searcher {
    Few(Vec<memmem::Finder<'static>>),
    Many(AhoCorasick),
    Set(std::sync::Arc<LiteralSet>),
}

impl Contains {
    #[inline]
    fn found(&self, text: &[u8]) -> bool {
        if self.needles.is_empty() {
            return false;
        }
        match self.searcher() {
            Searcher::Few(fs) => fs.iter().any(|f| f.find(text).is_some()),
            Searcher::Many(ac) => ac.is_match(text),
            Searcher::Set(set) => {
                let mut any = false;
                set.find_all(text, |_| any = true);
                any
            }
        }
    }

    /// The searcher, built the first time.
    fn searcher(&self) -> &Searcher {
        self.searcher.get_or_init(|| {
            let set = (self.needles.len() >= SET_THRESHOLD_CONTAINS)
                // No DFA: when the set is not searched by windows, an automaton of 512+
                // needles is too large for one (as in the prefilter).
                .then(|| LiteralSet::build(&self.needles, false, false))
                .flatten();
            Box::new(if let Some(set) = set {
                Searcher::Set(std::sync::Arc::new(set))
            } else if self.needles.len() > AC_THRESHOLD
                // An NFA: a matcher runs only on the prefilter's few survivors, and a DFA's
                // build, on the first events, delayed a small hunt more than it ever saved.
                && let Ok(ac) = AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(&self.needles)
            {
                Searcher::Many(ac)
            } else {
                Searcher::Few(finders(&self.needles))
            })
        })
    }
}

/// Fold the literal parts of a pattern.
pub(crate) fn fold_pattern(p: &SigmaString) -> SigmaString {
    SigmaString::from_parts(p.parts().iter().map(|part| match part {
        Part::Lit(l) => Part::Lit(fold(l)),
        other => other.clone(),
    }))
}

impl StrSet {
    /// Patterns as written (they are folded here unless `cased`).
    pub fn new<'p>(patterns: impl IntoIterator<Item = &'p SigmaString>, cased: bool) -> StrSet {
        let patterns: Vec<SigmaString> = patterns
            .into_iter()
            .map(|p| if cased { p.clone() } else { fold_pattern(p) })
            .collect();
        let mut s = StrSet {
            cased,
            patterns: Vec::new(),
            any: false,
            exact_small: Vec::new(),
            exact_set: HashSet::default(),
            prefix: Vec::new(),
            suffix: Vec::new(),
            contains: Contains::default(),
            globs: Vec::new(),
        };
        let mut exact = Vec::new();
        let mut needles: Vec<String> = Vec::new();
        for p in &patterns {
            match p.shape() {
                Shape::Exact(t) => exact.push(Box::<str>::from(t)),
                Shape::Prefix(t) => s.prefix.push(t.into()),
                Shape::Suffix(t) => s.suffix.push(t.into()),
                Shape::Contains(t) => needles.push(t.to_owned()),
                Shape::Any => s.any = true,
                Shape::Glob => s.globs.push(Glob::new(p)),
            }
        }
        needles.sort();
        needles.dedup();
        exact.sort();
        exact.dedup();
        if exact.len() > SET_THRESHOLD {
            s.exact_set = exact.into_iter().collect();
        } else {
            s.exact_small = exact;
        }
        s.contains.needles = needles;
        s.patterns = patterns;
        s
    }

    /// Does any pattern match the whole text (already folded unless cased)?
    #[inline]
    pub fn is_match(&self, text: &str) -> bool {
        if self.any {
            return true;
        }
        if self.exact_small.iter().any(|e| **e == *text)
            || (!self.exact_set.is_empty() && self.exact_set.contains(text))
        {
            return true;
        }
        let b = text.as_bytes();
        if self.prefix.iter().any(|p| b.starts_with(p.as_bytes()))
            || self.suffix.iter().any(|p| b.ends_with(p.as_bytes()))
        {
            return true;
        }
        self.contains.found(b) || self.globs.iter().any(|g| g.is_match(text))
    }
}

fn finders(needles: &[String]) -> Vec<memmem::Finder<'static>> {
    needles
        .iter()
        .map(|n| memmem::Finder::new(n.as_bytes()).into_owned())
        .collect()
}

/// A pattern with inner wildcards: segments between `*`, each a run of literal text and `?`.
///
/// Matching is greedy and leftmost per segment, which is exact for `*`-separated segments of
/// fixed character length: the earliest end of one segment leaves the most room for the rest.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    start_anchored: bool,
    end_anchored: bool,
    segments: Vec<Vec<SegPart>>,
}

#[derive(Debug, Clone)]
enum SegPart {
    Lit(Box<str>),
    One,
}

impl Glob {
    pub fn new(p: &SigmaString) -> Glob {
        let parts = p.parts();
        let start_anchored = !matches!(parts.first(), Some(Part::AnyChars));
        let end_anchored = !matches!(parts.last(), Some(Part::AnyChars));
        let mut segments = Vec::new();
        let mut cur = Vec::new();
        for part in parts {
            match part {
                Part::AnyChars => {
                    if !cur.is_empty() {
                        segments.push(std::mem::take(&mut cur));
                    }
                }
                Part::Lit(l) => cur.push(SegPart::Lit(l.as_str().into())),
                Part::OneChar => cur.push(SegPart::One),
                // Placeholders are refused before matchers are built; match nothing.
                Part::Placeholder(_) => cur.push(SegPart::Lit("\u{0}%placeholder%".into())),
            }
        }
        if !cur.is_empty() {
            segments.push(cur);
        }
        Glob {
            start_anchored,
            end_anchored,
            segments,
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        let n = self.segments.len();
        if n == 0 {
            // Only stars (any text), or the empty pattern.
            return !self.start_anchored || text.is_empty();
        }
        let mut pos = 0;
        for (k, seg) in self.segments.iter().enumerate() {
            let first = k == 0;
            let last = k == n - 1;
            if last && self.end_anchored {
                return match match_back(seg, text) {
                    Some(start) => start >= pos && (!(first && self.start_anchored) || start == 0),
                    None => false,
                };
            }
            if first && self.start_anchored {
                match match_at(seg, text, 0) {
                    Some(end) => pos = end,
                    None => return false,
                }
            } else {
                match find(seg, text, pos) {
                    Some(end) => pos = end,
                    None => return false,
                }
            }
        }
        true
    }
}

/// Match a segment starting at byte `at`; returns the end.
fn match_at(seg: &[SegPart], text: &str, mut at: usize) -> Option<usize> {
    for part in seg {
        match part {
            SegPart::Lit(l) => {
                if text.as_bytes().get(at..)?.starts_with(l.as_bytes()) {
                    at += l.len();
                } else {
                    return None;
                }
            }
            SegPart::One => {
                let c = text.get(at..)?.chars().next()?;
                at += c.len_utf8();
            }
        }
    }
    Some(at)
}

/// Match a segment ending at the end of the text; returns its start.
fn match_back(seg: &[SegPart], text: &str) -> Option<usize> {
    let mut end = text.len();
    for part in seg.iter().rev() {
        match part {
            SegPart::Lit(l) => {
                if text.as_bytes()[..end].ends_with(l.as_bytes()) {
                    end -= l.len();
                } else {
                    return None;
                }
            }
            SegPart::One => {
                let c = text[..end].chars().next_back()?;
                end -= c.len_utf8();
            }
        }
    }
    Some(end)
}

/// Leftmost match of a segment at or after byte `from`; returns its end.
fn find(seg: &[SegPart], text: &str, from: usize) -> Option<usize> {
    // Skip to candidates with the first literal, when the segment starts with one.
    let lead = match seg.first() {
        Some(SegPart::Lit(l)) => Some(l.as_bytes()),
        _ => None,
    };
    let mut at = from;
    while at <= text.len() {
        let start = match lead {
            Some(l) => at + memmem::find(text.as_bytes().get(at..)?, l)?,
            None => at,
        };
        if let Some(end) = match_at(seg, text, start) {
            return Some(end);
        }
        // Next character boundary after `start`.
        let step = text[start..].chars().next().map_or(1, char::len_utf8);
        at = start + step;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naive;

    fn check(pattern: &str, text: &str) {
        let p = SigmaString::parse(pattern);
        let set = StrSet::new(std::slice::from_ref(&p), false);
        assert_eq!(
            set.is_match(&fold(text)),
            naive::glob(&p, text, false),
            "pattern {pattern:?} text {text:?}"
        );
    }

    #[test]
    fn agrees_with_the_naive_glob() {
        let patterns = [
            "", "*", "**", "a", "a*", "*a", "*a*", "a*b", "a?b", "?", "??", "*?", "?*", "a*b*c",
            "*a?c*", "a*?", "*ab*ab", "ab*ab*", "?é*", "*é?", "x*y?z*", r"a\*b", "*ab?", "?ab*c?",
        ];
        let texts = [
            "", "a", "b", "ab", "aab", "abab", "abc", "axbyc", "aéb", "é", "éé", "xyz", "xxyyzz",
            "ab?c", "a*b", "AB", "xaby", "abababab", "ééx",
        ];
        for p in patterns {
            for t in texts {
                check(p, t);
            }
        }
    }

    #[test]
    fn many_values_use_sets_and_automata() {
        let pats: Vec<SigmaString> = (0..20)
            .flat_map(|i| {
                [
                    SigmaString::parse(&format!("exact{i}")),
                    SigmaString::parse(&format!("*needle{i}*")),
                ]
            })
            .collect();
        let s = StrSet::new(&pats, false);
        assert!(s.is_match("exact7"));
        assert!(!s.is_match("exact77"));
        assert!(s.is_match("xxneedle19yy"));
        assert!(!s.is_match("needle"));
    }

    /// A hash list of a driver rule: thousands of `contains` needles, searched by the
    /// prefilter's literal set (windows), short needles among them; cased and folded.
    #[test]
    fn thousands_of_needles_agree_with_the_naive_glob() {
        let mut needles: Vec<String> = (0..3000u64)
            .map(|i| format!("MD5={:032X}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        needles.extend(["ab", "Q", "xyz"].map(String::from));
        for cased in [false, true] {
            let pats: Vec<SigmaString> = needles
                .iter()
                .map(|n| SigmaString::parse(&format!("*{n}*")))
                .collect();
            let set = StrSet::new(&pats, cased);
            assert!(
                matches!(set.contains.searcher(), Searcher::Set(_)),
                "the literal set"
            );
            let texts = [
                format!("SHA1=00,{},IMPHASH=11", needles[2999]),
                needles[0].clone(),
                needles[5][..20].to_owned(),
                "sha1=ff,md5=00".to_owned(),
                "xAbx".to_owned(),
                "q".to_owned(),
                "xyz".to_owned(),
                String::new(),
            ];
            for text in &texts {
                let t = if cased { text.clone() } else { fold(text) };
                let naive = pats.iter().any(|p| naive::glob(p, text, cased));
                assert_eq!(set.is_match(&t), naive, "cased={cased} {text:?}");
            }
        }
    }
}
