//! Necessary literals of a regular expression: a set of folded strings such that the
//! [`fold`]ed text of any value the regex matches (an unanchored search) contains one of them.
//!
//! The pattern is parsed with the flags the engine built it with, so a case-sensitive regex
//! (Sigma's default: `re` without `i`) gives its literals as written, folded: the folded text
//! of a value that contains `lit` contains `fold(lit)`, because [`fold`] works character by
//! character. Inline flags (`(?i)`, `(?-i)`) are resolved by the parser itself: a
//! case-insensitive piece becomes a class of its case variants (`[Ssſ]`), whose members fold
//! to the strings that piece can stand for. `m` and `s` only change what `^`, `$` and `.`
//! match, which give no literals either way.
//!
//! Every node gets, when it is small, its *exact* set (all the folded strings it can match:
//! a literal, a class of few members, alternations and concatenations of those), and otherwise
//! a *necessary* set. In a concatenation, adjacent exact pieces join into runs (the cross
//! product of their sets) and the most selective run, or child's own necessary set, is kept
//! (by the prefilter's own measure, [`SetCost`], not by length: a long run of path pieces
//! found in most values loses to a short rare one). Because [`fold`] works character by
//! character, the folded text of a match is the concatenation of the folded texts of its
//! pieces' matches, so a run's strings are found in it.

use regex_syntax::hir::{Class, Hir, HirKind};
use sigma::value::RegexFlags;

use super::Anchor;
use super::selectivity::SetCost;
use crate::semantics::fold;

/// At most this many strings in a set (a run, an alternation, the result).
const MAX_SET: usize = 64;
/// A run grows by cross product while it has at most this many strings.
const MAX_RUN: usize = 16;
/// Classes with more members than this are not enumerated.
const MAX_CLASS: u32 = 16;
/// Classes whose members fold to more distinct strings than this end a run.
const MAX_CLASS_FOLDS: usize = 4;

/// The necessary literals of `pattern`, as the engine compiled it with `flags` (see
/// [`crate::semantics::build_regex`]), or `None`.
pub(crate) fn regex_literals(pattern: &str, flags: RegexFlags) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(flags.ignore_case)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .build()
        .parse(pattern)
        .ok()?;
    let info = analyze(&hir);
    valid(necessary(info)?)
}

/// What is known of the strings a node matches.
#[derive(Debug, Default)]
struct Info {
    /// Every folded string the node can match (may contain the empty string).
    exact: Option<Vec<String>>,
    /// Each match's folded text contains one of these (all non-empty).
    inner: Option<Vec<String>>,
}

fn exact(set: Vec<String>) -> Info {
    Info {
        exact: Some(set),
        inner: None,
    }
}

/// A set usable as necessary literals: non-empty strings, not too many.
fn valid(set: Vec<String>) -> Option<Vec<String>> {
    (!set.is_empty() && set.len() <= MAX_SET && set.iter().all(|s| !s.is_empty())).then_some(set)
}

fn necessary(info: Info) -> Option<Vec<String>> {
    match info.exact.and_then(valid) {
        Some(set) => Some(set),
        None => info.inner,
    }
}

fn keep_best(best: &mut Option<Vec<String>>, cand: Option<Vec<String>>) {
    let Some(cand) = cand.and_then(valid) else {
        return;
    };
    let cost = |set: &[String]| SetCost::of(set.iter().map(|s| (Anchor::Contains, s.as_str())));
    if best
        .as_ref()
        .is_none_or(|b| cost(&cand).better_than(&cost(b)))
    {
        *best = Some(cand);
    }
}

fn dedup(mut set: Vec<String>) -> Vec<String> {
    set.sort_unstable();
    set.dedup();
    set
}

/// Every string of `a` followed by every string of `b`, or `None` past `max` strings.
fn product(a: &[String], b: &[String], max: usize) -> Option<Vec<String>> {
    if a.len().saturating_mul(b.len()) > max {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            out.push(format!("{x}{y}"));
        }
    }
    Some(dedup(out))
}

/// The distinct folded texts of a small class's members.
fn class_folds(class: &Class) -> Option<Vec<String>> {
    let mut chars = Vec::new();
    let mut count = 0u32;
    match class {
        Class::Unicode(c) => {
            for r in c.ranges() {
                count = count.saturating_add(u32::from(r.end()) - u32::from(r.start()) + 1);
                if count > MAX_CLASS {
                    return None;
                }
                chars.extend(r.start()..=r.end());
            }
        }
        Class::Bytes(c) => {
            for r in c.ranges() {
                // Bytes past ASCII are parts of characters: not whole characters to fold.
                if r.end() >= 0x80 {
                    return None;
                }
                count = count.saturating_add(u32::from(r.end() - r.start()) + 1);
                if count > MAX_CLASS {
                    return None;
                }
                chars.extend((r.start()..=r.end()).map(char::from));
            }
        }
    }
    let folds = dedup(
        chars
            .into_iter()
            .map(|c| fold(c.encode_utf8(&mut [0; 4])))
            .collect(),
    );
    (folds.len() <= MAX_CLASS_FOLDS).then_some(folds)
}

fn analyze(hir: &Hir) -> Info {
    match hir.kind() {
        // Zero-width: the match's text there is empty.
        HirKind::Empty | HirKind::Look(_) => exact(vec![String::new()]),
        HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
            Ok(s) => exact(vec![fold(s)]),
            Err(_) => Info::default(),
        },
        HirKind::Class(class) => match class_folds(class) {
            Some(folds) => exact(folds),
            None => Info::default(),
        },
        HirKind::Capture(cap) => analyze(&cap.sub),
        HirKind::Repetition(rep) => {
            if rep.min == 0 {
                return Info::default();
            }
            let sub = analyze(&rep.sub);
            if rep.max == Some(1) {
                return sub;
            }
            // At least one match of the sub: its literals are necessary.
            Info {
                exact: None,
                inner: necessary(sub),
            }
        }
        HirKind::Concat(subs) => concat(subs),
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(analyze).collect();
            let all_exact = infos
                .iter()
                .try_fold(Vec::new(), |mut acc, i| {
                    acc.extend(i.exact.as_ref()?.iter().cloned());
                    (acc.len() <= MAX_SET).then_some(acc)
                })
                .map(dedup);
            let mut inner = Vec::new();
            for info in infos {
                match necessary(info) {
                    Some(set) if inner.len() + set.len() <= MAX_SET => inner.extend(set),
                    // A branch without literals: nothing is necessary.
                    _ => {
                        return Info {
                            exact: all_exact,
                            inner: None,
                        };
                    }
                }
            }
            Info {
                exact: all_exact,
                inner: valid(dedup(inner)),
            }
        }
    }
}

fn concat(subs: &[Hir]) -> Info {
    let mut best: Option<Vec<String>> = None;
    // The strings of the current run of adjacent exact pieces.
    let mut run: Vec<String> = vec![String::new()];
    // All pieces so far were exact and the run never had to be cut.
    let mut whole = true;
    for sub in subs {
        // A repetition of at least one exact piece: its match begins and ends with a match of
        // the piece, so the run goes on into its first one and starts again at its last one.
        if let HirKind::Repetition(rep) = sub.kind()
            && rep.min >= 1
            && rep.max != Some(1)
            && let Some(piece) = analyze(&rep.sub).exact
        {
            match product(&run, &piece, MAX_RUN) {
                Some(r) => keep_best(&mut best, Some(r)),
                None => {
                    keep_best(&mut best, Some(std::mem::take(&mut run)));
                    keep_best(&mut best, Some(piece.clone()));
                }
            }
            run = piece;
            whole = false;
            continue;
        }
        let info = analyze(sub);
        match info.exact {
            Some(piece) => match product(&run, &piece, MAX_RUN) {
                Some(r) => run = r,
                None => {
                    keep_best(&mut best, Some(std::mem::replace(&mut run, piece)));
                    whole = false;
                }
            },
            None => {
                keep_best(
                    &mut best,
                    Some(std::mem::replace(&mut run, vec![String::new()])),
                );
                keep_best(&mut best, info.inner);
                whole = false;
            }
        }
    }
    if whole {
        return Info {
            inner: best,
            exact: Some(run),
        };
    }
    keep_best(&mut best, Some(run));
    Info {
        exact: None,
        inner: best,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use sigma::value::RegexFlags;

    use super::regex_literals;

    /// As a case-sensitive `re` (Sigma's default).
    fn lits(p: &str) -> Option<Vec<String>> {
        regex_literals(p, RegexFlags::default())
    }

    /// As `re|i`.
    fn lits_i(p: &str) -> Option<Vec<String>> {
        regex_literals(
            p,
            RegexFlags {
                ignore_case: true,
                ..Default::default()
            },
        )
    }

    fn set(v: &[&str]) -> Option<Vec<String>> {
        let mut v: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        Some(v)
    }

    #[test]
    fn plain_and_cased_literals_fold() {
        assert_eq!(lits("Invoke-Mimikatz"), set(&["invoke-mimikatz"]));
        assert_eq!(lits_i("Invoke-Mimikatz"), set(&["invoke-mimikatz"]));
        assert_eq!(lits("(?i)MIMIKATZ"), set(&["mimikatz"]));
        // `s` folds case-insensitively with the long s, which folds apart.
        assert_eq!(lits("(?i)cmd.exe"), set(&["cmd"]));
        assert_eq!(lits_i("vss"), set(&["vss", "vsſ", "vſs", "vſſ"]));
        // Case-sensitive: the text as written, folded; no long-s or Kelvin variants.
        assert_eq!(lits("vss"), set(&["vss"]));
        assert_eq!(lits("VSS"), set(&["vss"]));
        assert_eq!(lits("ſK\u{212A}"), set(&["ſkk"]));
    }

    #[test]
    fn inline_flags_inside_a_cased_regex() {
        // The case-insensitive piece stands for its case variants, the rest is as written.
        assert_eq!(lits("ab(?i)s"), set(&["abs", "abſ"]));
        assert_eq!(lits("(?i:s)Ab"), set(&["sab", "ſab"]));
        assert_eq!(lits("x(?i:k)y"), set(&["xky"]));
        // And a case-sensitive piece inside a case-insensitive regex.
        assert_eq!(lits_i("(?-i:s)s"), set(&["ss", "sſ"]));
        assert_eq!(lits_i("S(?-i)S"), set(&["ss", "ſs"]));
    }

    #[test]
    fn the_rarest_run_wins_not_the_longest() {
        // The CobaltStrike BOF pattern on CallTrace: the `kernelbase.dll` run is longest but
        // in nearly every call trace; `|UNKNOWN(` is rare.
        let cobalt = r"^C:\\Windows\\SYSTEM32\\ntdll\.dll\+[a-z0-9]{4,6}\|C:\\Windows\\System32\\KERNELBASE\.dll\+[a-z0-9]{4,6}\|UNKNOWN\([A-Z0-9]{16}\)$";
        assert_eq!(lits(cobalt), set(&["|unknown("]));
        // Case-insensitively the same run wins (its `K` may be the Kelvin sign, which folds
        // to `k`).
        assert_eq!(lits_i(cobalt), set(&["|unknown("]));
        assert_eq!(
            lits(r"\\Windows\\System32\\kernel32\.dll.{2,9}xyz"),
            set(&["xyz"])
        );
    }

    #[test]
    fn concat_keeps_the_most_selective_run() {
        // `.` ends runs; the rarer one wins.
        assert_eq!(lits("ab.mimikatz"), set(&["mimikatz"]));
        assert_eq!(lits(r"\d+certutil\w*"), set(&["certutil"]));
        // Anchors and word boundaries are zero-width and keep runs going.
        assert_eq!(lits(r"^foo\bbar$"), set(&["foobar"]));
    }

    #[test]
    fn small_classes_and_alternations_multiply() {
        assert_eq!(lits("x[ab]y"), set(&["xay", "xby"]));
        assert_eq!(lits("x[aA]y"), set(&["xay"]));
        assert_eq!(lits("(foo|bar)baz"), set(&["barbaz", "foobaz"]));
        assert_eq!(lits("foo|barx"), set(&["barx", "foo"]));
        assert_eq!(lits("(?:ab){2,}"), set(&["ab"]));
        // The run goes into the first repeat and starts again at the last one; of the two
        // runs `qab` is the rarer.
        assert_eq!(lits("q(?:ab)+z"), set(&["qab"]));
        assert_eq!(lits("q(?:ab)+zzz"), set(&["abzzz"]));
    }

    #[test]
    fn repetitions_of_at_least_one_keep_literals() {
        assert_eq!(lits("(?:abc)+"), set(&["abc"]));
        assert_eq!(lits("x(?:y)+zz"), set(&["yzz"]));
        assert_eq!(lits("wq{2,5}"), set(&["wq"]));
    }

    #[test]
    fn none_cases() {
        // Optional parts.
        assert_eq!(lits("(?:abc)?"), None);
        assert_eq!(lits("(?:abc)*"), None);
        // Large classes.
        assert_eq!(lits(r"[a-z]+\d"), None);
        assert_eq!(lits("."), None);
        // An alternation with an empty (or literal-free) branch.
        assert_eq!(lits("foo|"), None);
        assert_eq!(lits("(?:foo|)"), None);
        assert_eq!(lits("foo|.*"), None);
        // Does not parse.
        assert_eq!(lits("(abc"), None);
        // Empty pattern.
        assert_eq!(lits(""), None);
    }

    #[test]
    fn non_ascii() {
        // Σ, σ and ς are one case class but fold to two strings: still a small set.
        assert_eq!(lits_i("σ"), set(&["σ", "ς"]));
        assert_eq!(lits("(?i)σ"), set(&["σ", "ς"]));
        // Case-sensitively each is itself, folded.
        assert_eq!(lits("Σ"), set(&["σ"]));
        assert_eq!(lits("ς"), set(&["ς"]));
        // K, k and the Kelvin sign fold to `k`.
        assert_eq!(lits_i("k"), set(&["k"]));
        // İ folds to two characters.
        assert_eq!(lits("İ"), set(&["i\u{307}"]));
        assert_eq!(lits_i("İ"), set(&["i\u{307}"]));
        // ẞ folds to ß; case-insensitively ß also matches ẞ.
        assert_eq!(lits("Straẞe"), set(&["straße"]));
        assert_eq!(lits_i("Straße"), set(&["straße", "ſtraße"]));
    }

    fn flags() -> impl Strategy<Value = RegexFlags> {
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(ignore_case, multi_line, dot_all)| RegexFlags {
                ignore_case,
                multi_line,
                dot_all,
            },
        )
    }

    /// Texts over the characters whose case and folding are tricky.
    const TEXT: &str = "[aAbBsSſK\u{212A}kσΣςİiß\u{1E9E}\u{307} .xy\n]{0,12}";

    /// A case variant of `c` (by `how`): itself, upper or lower case, or a character of the
    /// same case class that folds differently or to the same (long s, Kelvin sign, final
    /// sigma, capital sharp s).
    fn variant(c: char, how: u8) -> String {
        match how % 4 {
            0 => c.to_string(),
            1 => c.to_uppercase().collect(),
            2 => c.to_lowercase().collect(),
            _ => match c {
                's' | 'S' => "ſ".into(),
                'k' | 'K' => "\u{212A}".into(),
                'σ' | 'Σ' => "ς".into(),
                'ß' => "\u{1E9E}".into(),
                _ => c.to_string(),
            },
        }
    }

    /// A text likely to match `pattern`: its letters (case-varied, some dropped or doubled)
    /// between random texts.
    fn text_for(pattern: &str, how: &[u8], before: &str, after: &str) -> String {
        let mut text = before.to_owned();
        let letters = pattern
            .chars()
            .filter(|c| c.is_alphanumeric() || " .\n".contains(*c));
        for (i, c) in letters.enumerate() {
            match how[i % how.len()] {
                // Dropped, for optional parts.
                0 => {}
                // Doubled, for repetitions.
                1 => {
                    text.push(c);
                    text.push(c);
                }
                h => text.push_str(&variant(c, h)),
            }
        }
        text.push_str(after);
        text
    }

    /// Random patterns over a small grammar: whenever one matches a text (with the engine's
    /// own regex build, under random flags), the folded text contains one of its literals.
    fn check_necessary(pattern: &str, flags: RegexFlags, text: &str) -> Result<(), TestCaseError> {
        let Ok(re) = crate::semantics::build_regex(&sigma::value::Regex {
            pattern: pattern.to_owned(),
            flags,
        }) else {
            return Ok(());
        };
        if re.is_match(text)
            && let Some(lits) = regex_literals(re.as_str(), flags)
        {
            let folded = crate::semantics::fold(text);
            prop_assert!(
                lits.iter().any(|l| folded.contains(l.as_str())),
                "{pattern:?} {flags:?} matches {text:?} but none of {lits:?} is in {folded:?}"
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn literals_are_necessary(
            pattern in pattern_strategy(),
            flags in flags(),
            how in proptest::collection::vec(0u8..16, 1..24),
            before in TEXT,
            after in TEXT,
        ) {
            check_necessary(&pattern, flags, &text_for(&pattern, &how, &before, &after))?;
            check_necessary(&pattern, flags, &format!("{before}{after}"))?;
        }

        /// A literal text, escaped, as a case-sensitive regex (possibly with a
        /// case-insensitive middle) found in a random text: its literals are in the folded
        /// text.
        #[test]
        fn cased_literal_regex_in_random_text(
            lit in "[a-zA-ZſK\u{212A}σΣςİß\u{1E9E}|\\\\.+()]{1,8}",
            middle in proptest::option::of("[a-zA-ZſKσΣß]{1,3}"),
            before in TEXT,
            after in TEXT,
        ) {
            let mut pattern = regex_syntax::escape(&lit);
            if let Some(m) = &middle {
                pattern = format!("{pattern}(?i:{})\\d?", regex_syntax::escape(m));
            }
            let text = format!("{before}{lit}{}{after}", middle.as_deref().unwrap_or(""));
            let flags = RegexFlags::default();
            let re = crate::semantics::build_regex(&sigma::value::Regex {
                pattern: pattern.clone(),
                flags,
            });
            prop_assert!(re.as_ref().is_ok_and(|re| re.is_match(&text)));
            let lits = re.ok().and_then(|re| regex_literals(re.as_str(), flags));
            let folded = crate::semantics::fold(&text);
            prop_assert!(
                lits.as_ref().is_some_and(|l| l.iter().any(|l| folded.contains(l.as_str()))),
                "{pattern:?} in {text:?}: {lits:?} not in {folded:?}"
            );
        }
    }

    fn pattern_strategy() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            "[absk]{1,3}",
            "[ABSK]{1,2}",
            "[ſ\u{212A}σΣςİß\u{1E9E}]{1,2}",
            Just("(?i)".to_owned()),
            Just("(?-i)".to_owned()),
            Just("(?i:s)".to_owned()),
            Just("(?-i:S)".to_owned()),
            Just("[aA]".to_owned()),
            Just("[a-c]".to_owned()),
            Just("[sS]".to_owned()),
            Just("σ".to_owned()),
            Just(".".to_owned()),
            Just(r"\b".to_owned()),
            Just("^".to_owned()),
            Just("$".to_owned()),
            Just(r"\s".to_owned()),
            Just(r"\w".to_owned()),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
                proptest::collection::vec(inner.clone(), 1..3)
                    .prop_map(|v| format!("(?:{})", v.join("|"))),
                (
                    inner,
                    prop_oneof![Just("?"), Just("*"), Just("+"), Just("{2}"), Just("{1,3}")]
                )
                    .prop_map(|(p, q)| format!("(?:{p}){q}")),
            ]
        })
    }
}
