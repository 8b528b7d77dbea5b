//! Lucene's regular-expression dialect (`RegExp`, used by `query_string` `/.../` and the DSL
//! `regexp` query): escaping, Sigma strings as case-insensitive expressions, and the
//! translation of Sigma `re` values.
//!
//! Lucene expressions always match the whole term, have no anchors, no look-around and no
//! escapes such as `\n` or `\d` (a backslash makes the next character literal), its `.`
//! matches any character including a newline, and `# @ & < > ~ "` are operators. A Sigma `re`
//! is a search (unanchored) in Rust `regex` syntax. The translation goes through
//! `regex_syntax`'s HIR, the form the engine's matcher is compiled from, so that flags, case
//! folding, Unicode classes, `.` without `s` and counted repetition mean exactly what they mean
//! to the engine; what has no exact Lucene form (look-around other than leading and trailing
//! anchors, byte-oriented classes) is refused with the reason.

use regex_syntax::hir::{Class, Hir, HirKind, Look};
use sigma::value::{Part, Regex, SigmaString};

use crate::error::{ConvertError, Feature};

/// The most alternatives anchor lifting may create.
const MAX_BRANCHES: usize = 64;

/// Characters with a meaning in Lucene `RegExp` outside a class (with every optional operator
/// enabled, as `query_string` does), plus `/`, which ends a `query_string` regular expression.
fn is_special(c: char) -> bool {
    matches!(
        c,
        '.' | '?'
            | '+'
            | '*'
            | '|'
            | '{'
            | '}'
            | '['
            | ']'
            | '('
            | ')'
            | '"'
            | '\\'
            | '#'
            | '@'
            | '&'
            | '<'
            | '>'
            | '~'
            | '/'
            | '^'
            | '$'
    )
}

/// Append a character that must match literally.
pub fn push_literal(out: &mut String, c: char) {
    if is_special(c) {
        out.push('\\');
    }
    out.push(c);
}

/// Append a character inside a `[...]` class.
fn push_class_char(out: &mut String, c: char) {
    if matches!(c, '\\' | ']' | '[' | '-' | '^' | '/' | '&' | '~' | '"') {
        out.push('\\');
    }
    out.push(c);
}

/// The characters a case-insensitive comparison treats as equal to `c` (itself first).
///
/// The engine compares folded text: every character replaced by its Unicode lower-case
/// mapping. So `c` matches every character whose lower case is the lower case of `c`
/// (`k` matches `K` and the Kelvin sign). Characters whose lower case is several characters
/// (`İ`) only match themselves here.
pub fn case_variants(c: char) -> Vec<char> {
    variants(c).map_or_else(|| vec![c], <[char]>::to_vec)
}

/// [`case_variants`] of a character that has others, `None` for one that only matches itself
/// (digits, punctuation, most of Unicode). From a table built once.
fn variants(c: char) -> Option<&'static [char]> {
    let t = case_table();
    if c.is_ascii() {
        return t.ascii[c as usize].as_deref();
    }
    t.other
        .binary_search_by_key(&c, |(x, _)| *x)
        .ok()
        .map(|i| &*t.other[i].1)
}

fn single_lower(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c.to_ascii_lowercase());
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => Some(l),
        _ => None,
    }
}

/// Past this code point no character has a lower-case mapping (planes 2 and up hold CJK
/// ideographs, tags, variation selectors and private use; checked by a test over every code
/// point), so the table is built from the first two planes only.
const CASED_BELOW: u32 = 0x2_0000;

/// Every character with case variants, and its variants.
struct CaseTable {
    ascii: Vec<Option<Box<[char]>>>,
    /// The class of each ASCII character with variants, as [`sigma_string`] writes it
    /// (`[cC]`).
    ascii_class: Vec<Option<Box<str>>>,
    /// Sorted by character.
    other: Vec<(char, Box<[char]>)>,
}

fn case_table() -> &'static CaseTable {
    static TABLE: std::sync::OnceLock<CaseTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        // For each lower-case character, the other characters that lower-case to it, in
        // code-point order.
        let mut uppers: std::collections::BTreeMap<char, Vec<char>> =
            std::collections::BTreeMap::new();
        for c in (0..CASED_BELOW).filter_map(char::from_u32) {
            if let Some(l) = single_lower(c)
                && l != c
            {
                uppers.entry(l).or_default().push(c);
            }
        }
        let mut chars: Vec<char> = uppers
            .iter()
            .flat_map(|(l, us)| std::iter::once(*l).chain(us.iter().copied()))
            .collect();
        chars.sort_unstable();
        chars.dedup();
        let mut table = CaseTable {
            ascii: vec![None; 128],
            ascii_class: vec![None; 128],
            other: Vec::new(),
        };
        for c in chars {
            let mut v = vec![c];
            if let Some(lower) = single_lower(c) {
                if lower != c {
                    v.push(lower);
                }
                for &o in uppers.get(&lower).map_or(&[][..], Vec::as_slice) {
                    if !v.contains(&o) {
                        v.push(o);
                    }
                }
            }
            if v.len() > 1 {
                if c.is_ascii() {
                    let mut class = String::from("[");
                    for &x in &v {
                        push_class_char(&mut class, x);
                    }
                    class.push(']');
                    table.ascii_class[c as usize] = Some(class.into());
                    table.ascii[c as usize] = Some(v.into());
                } else {
                    table.other.push((c, v.into()));
                }
            }
        }
        table
    })
}

/// Does the text have a character whose case matters?
pub fn has_cased_chars(s: &SigmaString) -> bool {
    s.parts().iter().any(|p| match p {
        Part::Lit(l) => l.chars().any(|c| variants(c).is_some()),
        _ => false,
    })
}

/// A Sigma string pattern as a whole-term Lucene expression; case-insensitive letters become
/// classes (`[cC]`), `*` becomes `.*` and `?` becomes `.`.
pub fn sigma_string(s: &SigmaString, case_insensitive: bool) -> String {
    let mut out = String::new();
    push_sigma_string(&mut out, s, case_insensitive);
    out
}

/// `/`[`sigma_string`]`/` (case-insensitive) as [`slashed`] writes it, appended to `out`.
pub fn push_slashed_sigma_string(out: &mut String, s: &SigmaString) {
    out.push('/');
    let start = out.len();
    push_sigma_string(out, s, true);
    if out[start..].ends_with("\\\\") {
        out.truncate(out.len() - 2);
        out.push_str("[\\\\]");
    }
    out.push('/');
}

fn push_sigma_string(out: &mut String, s: &SigmaString, case_insensitive: bool) {
    for p in s.parts() {
        match p {
            Part::Lit(l) => {
                out.reserve(l.len());
                let table = case_table();
                for c in l.chars() {
                    if c.is_ascii() {
                        match table.ascii_class[c as usize].as_deref() {
                            Some(class) if case_insensitive => out.push_str(class),
                            _ => push_literal(out, c),
                        }
                        continue;
                    }
                    match variants(c).filter(|_| case_insensitive) {
                        Some(vs) => {
                            out.push('[');
                            for &v in vs {
                                push_class_char(out, v);
                            }
                            out.push(']');
                        }
                        None => push_literal(out, c),
                    }
                }
            }
            Part::AnyChars => out.push_str(".*"),
            Part::OneChar => out.push('.'),
            // Refused before building (see lower).
            Part::Placeholder(n) => {
                for c in n.chars() {
                    push_literal(out, c);
                }
            }
        }
    }
}

/// Wrap an expression for `query_string`: `/body/`. A literal backslash right before the
/// closing slash would make the query parser read `\/` as an escaped slash, so it is written
/// as a class there.
pub fn slashed(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 4);
    out.push('/');
    match body.strip_suffix("\\\\") {
        // Bodies are built by this module: a trailing backslash is always the second half of
        // an escaped backslash.
        Some(rest) => {
            out.push_str(rest);
            out.push_str("[\\\\]");
        }
        None => out.push_str(body),
    }
    out.push('/');
    out
}

fn refuse(reason: &'static str, re: &Regex) -> ConvertError {
    ConvertError::new(Feature::Regex, reason).with_detail(re.pattern.clone())
}

/// Translate a Sigma `re` value and check that Lucene can determinize it within
/// `max_states` (Elasticsearch's `max_determinized_states`).
pub fn translate_checked(re: &Regex, max_states: usize) -> Result<String, ConvertError> {
    let body = translate(re)?;
    // Only counted repetitions ({n,m}) make the automaton of a search grow beyond a few states
    // per character of the expression; skip the (costly) check for the others.
    if has_counted_repetition(&re.pattern) && !fits(&body, max_states) {
        return Err(refuse(
            "the expression needs more automaton states than Elasticsearch's max_determinized_states (backend option max_states)",
            re,
        ));
    }
    Ok(body)
}

/// Does the expression determinize within the limit? Cached: a rule mapped to several log
/// sources checks the same expression once.
fn fits(body: &str, max_states: usize) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<(String, usize), bool>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (body.to_owned(), max_states);
    if let Some(&ok) = cache.lock().ok().as_ref().and_then(|c| c.get(&key)) {
        return ok;
    }
    let ok = crate::automaton::determinized_states(body, max_states).is_some();
    if let Ok(mut c) = cache.lock() {
        c.insert(key, ok);
    }
    ok
}

fn has_counted_repetition(pattern: &str) -> bool {
    fn walk(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Repetition(r) => r.min > 1 || r.max.is_some_and(|m| m > 1) || walk(&r.sub),
            HirKind::Capture(c) => walk(&c.sub),
            HirKind::Concat(xs) | HirKind::Alternation(xs) => xs.iter().any(walk),
            _ => false,
        }
    }
    regex_syntax::parse(pattern).map_or(true, |h| walk(&h))
}

/// Translate a Sigma `re` value (an unanchored search) into a whole-term Lucene expression.
pub fn translate(re: &Regex) -> Result<String, ConvertError> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(re.flags.ignore_case)
        .multi_line(re.flags.multi_line)
        .dot_matches_new_line(re.flags.dot_all)
        .build()
        .parse(&sigma::regex_ascii::ascii_perl_classes(&re.pattern))
        .map_err(|_| refuse("the regular expression does not parse", re))?;
    let mut branches = Vec::new();
    for seq in sequences(&hir) {
        lift(seq, &mut branches, re)?;
    }
    let mut out = String::new();
    for (i, b) in branches.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        match b.start {
            Anchor::Text => {}
            Anchor::Line => out.push_str("(.*\n)?"),
            Anchor::None => out.push_str(".*"),
        }
        if b.items.iter().any(has_look) {
            // Prefix and suffix are part of the word-boundary resolution.
            out.truncate(out.len() - prefix_len(b.start));
            out.push_str(&boundaries::resolve(b, re)?);
            continue;
        }
        if b.items.is_empty() {
            out.push_str("()");
        }
        for h in &b.items {
            emit(h, &mut out, Ctx::Concat, re)?;
        }
        match b.end {
            Anchor::Text => {}
            Anchor::Line => out.push_str("(\n.*)?"),
            Anchor::None => out.push_str(".*"),
        }
    }
    Ok(out)
}

fn prefix_len(a: Anchor) -> usize {
    match a {
        Anchor::Text => 0,
        Anchor::Line => "(.*\n)?".len(),
        Anchor::None => 2,
    }
}

fn prefix_text(a: Anchor) -> &'static str {
    match a {
        Anchor::Text => "",
        Anchor::Line => "(.*\n)?",
        Anchor::None => ".*",
    }
}

fn suffix_text(a: Anchor) -> &'static str {
    match a {
        Anchor::Text => "",
        Anchor::Line => "(\n.*)?",
        Anchor::None => ".*",
    }
}

const WORD_LOOKS: [Look; 4] = [
    Look::WordAscii,
    Look::WordAsciiNegate,
    Look::WordUnicode,
    Look::WordUnicodeNegate,
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Anchor {
    /// Unanchored: any text before (or after).
    None,
    /// `^` / `$` without `m`, `\A`, `\z`: the start (end) of the value.
    Text,
    /// `^` / `$` with `m`: the start (end) of the value or of a line.
    Line,
}

#[derive(Debug)]
struct Branch {
    start: Anchor,
    end: Anchor,
    items: Vec<Hir>,
}

/// The top-level alternatives of an expression, each as a sequence of concatenated parts.
fn sequences(h: &Hir) -> Vec<Vec<Hir>> {
    match h.kind() {
        HirKind::Alternation(alts) => alts.iter().flat_map(sequences).collect(),
        HirKind::Concat(items) => vec![items.clone()],
        HirKind::Capture(c) => sequences(&c.sub),
        HirKind::Empty => vec![Vec::new()],
        _ => vec![vec![h.clone()]],
    }
}

fn look_of(h: &Hir) -> Option<Look> {
    match h.kind() {
        HirKind::Look(l) => Some(*l),
        _ => None,
    }
}

/// Does the expression contain a look-around assertion anywhere?
fn has_look(h: &Hir) -> bool {
    h.properties().look_set().iter().next().is_some()
}

/// Move leading and trailing anchors out of a sequence, splitting groups that start (or end)
/// with an alternation holding anchors into several branches.
fn lift(mut seq: Vec<Hir>, out: &mut Vec<Branch>, re: &Regex) -> Result<(), ConvertError> {
    // A first or last part that is a group with anchors inside: distribute it.
    for at_start in [true, false] {
        let idx = if at_start {
            0
        } else {
            seq.len().saturating_sub(1)
        };
        let Some(h) = seq.get(idx) else { break };
        if look_of(h).is_none() && has_look(h) && is_group(h) {
            let h = seq.remove(idx);
            for inner in sequences(&h) {
                let mut s = seq.clone();
                if at_start {
                    s.splice(0..0, inner);
                } else {
                    s.extend(inner);
                }
                if out.len() >= MAX_BRANCHES {
                    return Err(refuse(
                        "anchors inside groups would need too many alternatives",
                        re,
                    ));
                }
                lift(s, out, re)?;
            }
            return Ok(());
        }
    }
    let mut start = Anchor::None;
    let mut end = Anchor::None;
    while let Some(l) = seq.first().and_then(look_of) {
        start = match (l, start) {
            (Look::Start, _) => Anchor::Text,
            (Look::StartLF, Anchor::None | Anchor::Line) => Anchor::Line,
            (Look::StartLF, Anchor::Text) => Anchor::Text,
            _ => break,
        };
        seq.remove(0);
    }
    while let Some(l) = seq.last().and_then(look_of) {
        end = match (l, end) {
            (Look::End, _) => Anchor::Text,
            (Look::EndLF, Anchor::None | Anchor::Line) => Anchor::Line,
            (Look::EndLF, Anchor::Text) => Anchor::Text,
            _ => break,
        };
        seq.pop();
    }
    // Word boundaries are resolved later; any other look-around left here cannot be.
    if let Some(h) = seq.iter().find(|h| {
        let mut looks = h.properties().look_set();
        for w in WORD_LOOKS {
            looks = looks.remove(w);
        }
        !looks.is_empty()
    }) {
        return Err(refuse(look_reason(h), re));
    }
    out.push(Branch {
        start,
        end,
        items: seq,
    });
    Ok(())
}

fn is_group(h: &Hir) -> bool {
    matches!(
        h.kind(),
        HirKind::Capture(_) | HirKind::Alternation(_) | HirKind::Concat(_)
    )
}

/// Why the first look-around of an expression cannot be expressed.
fn look_reason(h: &Hir) -> &'static str {
    let looks = h.properties().look_set();
    if looks.contains_word() {
        "word boundaries (\\b, \\B) have no Lucene equivalent"
    } else if looks.contains(Look::StartCRLF) || looks.contains(Look::EndCRLF) {
        "CRLF-mode anchors have no Lucene equivalent"
    } else {
        "anchors (^, $) elsewhere than at the start or end of the expression have no Lucene equivalent"
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ctx {
    /// Top level or alternation operand: no parentheses needed.
    Alt,
    /// Part of a concatenation: alternations need parentheses.
    Concat,
    /// Operand of a repetition: anything longer than one atom needs parentheses.
    Repeat,
}

fn emit(h: &Hir, out: &mut String, ctx: Ctx, re: &Regex) -> Result<(), ConvertError> {
    match h.kind() {
        HirKind::Empty => out.push_str("()"),
        HirKind::Literal(lit) => {
            let text = std::str::from_utf8(&lit.0)
                .map_err(|_| refuse("byte-oriented expressions ((?-u)) cannot be expressed", re))?;
            let wrap = ctx == Ctx::Repeat && text.chars().count() > 1;
            if wrap {
                out.push('(');
            }
            for c in text.chars() {
                push_literal(out, c);
            }
            if wrap {
                out.push(')');
            }
        }
        HirKind::Class(Class::Unicode(c)) => {
            let ranges: Vec<(char, char)> =
                c.ranges().iter().map(|r| (r.start(), r.end())).collect();
            emit_class(&ranges, out, re)?;
        }
        HirKind::Class(Class::Bytes(c)) => {
            let mut ranges = Vec::new();
            for r in c.ranges() {
                if r.end() > 0x7F {
                    return Err(refuse(
                        "byte-oriented classes ((?-u)) that match non-ASCII bytes cannot be expressed",
                        re,
                    ));
                }
                ranges.push((char::from(r.start()), char::from(r.end())));
            }
            emit_class(&ranges, out, re)?;
        }
        HirKind::Look(_) => return Err(refuse(look_reason(h), re)),
        HirKind::Repetition(r) => {
            emit(&r.sub, out, Ctx::Repeat, re)?;
            match (r.min, r.max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (0, Some(1)) => out.push('?'),
                (n, None) => out.push_str(&format!("{{{n},}}")),
                (n, Some(m)) if n == m => out.push_str(&format!("{{{n}}}")),
                (n, Some(m)) => out.push_str(&format!("{{{n},{m}}}")),
            }
        }
        HirKind::Capture(c) => {
            out.push('(');
            emit(&c.sub, out, Ctx::Alt, re)?;
            out.push(')');
        }
        HirKind::Concat(items) => {
            let wrap = ctx == Ctx::Repeat;
            if wrap {
                out.push('(');
            }
            for i in items {
                emit(i, out, Ctx::Concat, re)?;
            }
            if wrap {
                out.push(')');
            }
        }
        HirKind::Alternation(alts) => {
            let wrap = ctx != Ctx::Alt;
            if wrap {
                out.push('(');
            }
            for (i, a) in alts.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                emit(a, out, Ctx::Alt, re)?;
            }
            if wrap {
                out.push(')');
            }
        }
    }
    Ok(())
}

/// Ranges as a Lucene class, or its complement when that is shorter (`[^\n]` for `.`).
fn emit_class(ranges: &[(char, char)], out: &mut String, re: &Regex) -> Result<(), ConvertError> {
    match ranges {
        [] => {
            return Err(refuse(
                "a class that matches no character has no Lucene form",
                re,
            ));
        }
        [(a, b)] if *a == '\0' && *b == char::MAX => {
            out.push('.');
            return Ok(());
        }
        [(a, b)] if a == b => {
            push_literal(out, *a);
            return Ok(());
        }
        _ => {}
    }
    let complement = complement(ranges);
    let direct = class_text(ranges);
    if !complement.is_empty() && class_text(&complement).len() < direct.len() {
        out.push_str("[^");
        out.push_str(&class_text(&complement));
    } else {
        out.push('[');
        out.push_str(&direct);
    }
    out.push(']');
    Ok(())
}

fn class_text(ranges: &[(char, char)]) -> String {
    let mut s = String::new();
    for &(a, b) in ranges {
        push_class_char(&mut s, a);
        if a != b {
            if (b as u32) > (a as u32) + 1 {
                s.push('-');
            }
            push_class_char(&mut s, b);
        }
    }
    s
}

/// The code points not in the (sorted, disjoint) ranges, skipping surrogates.
fn complement(ranges: &[(char, char)]) -> Vec<(char, char)> {
    let mut out = Vec::new();
    let mut next: u32 = 0;
    let push = |lo: u32, hi: u32, out: &mut Vec<(char, char)>| {
        // Split around the surrogate gap, which chars cannot hold.
        for (l, h) in [(lo, hi.min(0xD7FF)), (lo.max(0xE000), hi)] {
            if l <= h
                && let (Some(a), Some(b)) = (char::from_u32(l), char::from_u32(h))
            {
                out.push((a, b));
            }
        }
    };
    for &(a, b) in ranges {
        let (a, b) = (a as u32, b as u32);
        if a > next {
            push(next, a - 1, &mut out);
        }
        next = b + 1;
    }
    if next <= char::MAX as u32 {
        push(next, char::MAX as u32, &mut out);
    }
    out
}

/// Word boundaries (`\b`, `\B`) between the parts of a branch.
///
/// Lucene has no look-around, but a boundary only depends on the characters on each side of
/// it. The branch is flattened into parts and boundaries (groups and alternations holding a
/// boundary are distributed, bounded repetitions unrolled); then, at each boundary, the text
/// before it must end with a word character and the text after it start with a non-word
/// character (or end), or the other way round. Which of the two cases can happen, and whether
/// a side already implies its condition, is decided from the sets of first and last
/// characters of each side; only when a side does not imply it is the side intersected
/// (Lucene's `&`) with "ends with a word character" or the like.
mod boundaries {
    use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};
    use sigma::value::Regex;

    use super::{
        Branch, Ctx, MAX_BRANCHES, WORD_LOOKS, emit, has_look, prefix_text, refuse, suffix_text,
    };
    use crate::error::ConvertError;

    /// The most copies a bounded repetition holding a boundary is unrolled into.
    const MAX_UNROLL: u32 = 8;

    /// What can start and end a piece of text.
    #[derive(Debug, Clone)]
    struct Info {
        first: ClassUnicode,
        last: ClassUnicode,
        nullable: bool,
    }

    impl Info {
        fn chars(c: ClassUnicode, nullable: bool) -> Info {
            Info {
                first: c.clone(),
                last: c,
                nullable,
            }
        }

        fn empty() -> Info {
            Info::chars(ClassUnicode::empty(), true)
        }

        fn then(&self, next: &Info) -> Info {
            let mut first = self.first.clone();
            if self.nullable {
                first.union(&next.first);
            }
            let mut last = next.last.clone();
            if next.nullable {
                last.union(&self.last);
            }
            Info {
                first,
                last,
                nullable: self.nullable && next.nullable,
            }
        }
    }

    fn any() -> ClassUnicode {
        ClassUnicode::new([ClassUnicodeRange::new('\0', char::MAX)])
    }

    fn info(h: &Hir) -> Info {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => Info::empty(),
            HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
                Ok(t) => {
                    let one = |c: Option<char>| match c {
                        Some(c) => ClassUnicode::new([ClassUnicodeRange::new(c, c)]),
                        None => ClassUnicode::empty(),
                    };
                    Info {
                        first: one(t.chars().next()),
                        last: one(t.chars().next_back()),
                        nullable: t.is_empty(),
                    }
                }
                Err(_) => Info::chars(any(), false),
            },
            HirKind::Class(Class::Unicode(c)) => Info::chars(c.clone(), false),
            HirKind::Class(Class::Bytes(c)) => Info::chars(
                ClassUnicode::new(c.ranges().iter().map(|r| {
                    ClassUnicodeRange::new(char::from(r.start()), char::from(r.end().min(0x7F)))
                })),
                false,
            ),
            HirKind::Repetition(r) => {
                let mut i = info(&r.sub);
                i.nullable |= r.min == 0;
                i
            }
            HirKind::Capture(c) => info(&c.sub),
            HirKind::Concat(items) => items
                .iter()
                .fold(Info::empty(), |acc, h| acc.then(&info(h))),
            HirKind::Alternation(alts) => {
                let mut out = Info::chars(ClassUnicode::empty(), false);
                for a in alts {
                    let i = info(a);
                    out.first.union(&i.first);
                    out.last.union(&i.last);
                    out.nullable |= i.nullable;
                }
                out
            }
        }
    }

    /// A flattened piece of a branch.
    #[derive(Debug, Clone)]
    enum Piece {
        Text(String, Info),
        Boundary(Look),
    }

    /// Flatten items into sequences of look-free parts and boundaries.
    fn flatten(items: &[Hir], re: &Regex) -> Result<Vec<Vec<Hir>>, ConvertError> {
        let mut seqs: Vec<Vec<Hir>> = vec![Vec::new()];
        for h in items {
            let alts: Vec<Vec<Hir>> = if !has_look(h) || matches!(h.kind(), HirKind::Look(_)) {
                vec![vec![h.clone()]]
            } else {
                match h.kind() {
                    HirKind::Capture(c) => flatten(std::slice::from_ref(&c.sub), re)?,
                    HirKind::Concat(xs) => flatten(xs, re)?,
                    HirKind::Alternation(xs) => {
                        let mut v = Vec::new();
                        for x in xs {
                            v.extend(flatten(std::slice::from_ref(x), re)?);
                        }
                        v
                    }
                    HirKind::Repetition(r) => {
                        let max = match r.max {
                            Some(m) if m <= MAX_UNROLL => m,
                            _ => {
                                return Err(refuse(
                                    "a word boundary inside an unbounded or long repetition has no Lucene equivalent",
                                    re,
                                ));
                            }
                        };
                        let mut copies = vec![(*r.sub).clone(); r.min as usize];
                        for _ in r.min..max {
                            copies.push(Hir::alternation(vec![(*r.sub).clone(), Hir::empty()]));
                        }
                        flatten(&copies, re)?
                    }
                    _ => vec![vec![h.clone()]],
                }
            };
            let mut next = Vec::new();
            for s in &seqs {
                for a in &alts {
                    let mut x = s.clone();
                    x.extend(a.iter().cloned());
                    next.push(x);
                }
            }
            if next.len() > MAX_BRANCHES {
                return Err(refuse(
                    "word boundaries inside groups would need too many alternatives",
                    re,
                ));
            }
            seqs = next;
        }
        Ok(seqs)
    }

    fn word_class(look: Look) -> ClassUnicode {
        let ascii = matches!(look, Look::WordAscii | Look::WordAsciiNegate);
        let pattern = if ascii { r"(?-u:\w)" } else { r"\w" };
        match regex_syntax::Parser::new()
            .parse(pattern)
            .map(|h| h.into_kind())
        {
            Ok(HirKind::Class(Class::Unicode(c))) => c,
            Ok(HirKind::Class(Class::Bytes(c))) => ClassUnicode::new(
                c.ranges()
                    .iter()
                    .map(|r| ClassUnicodeRange::new(char::from(r.start()), char::from(r.end()))),
            ),
            _ => ClassUnicode::new([
                ClassUnicodeRange::new('0', '9'),
                ClassUnicodeRange::new('A', 'Z'),
                ClassUnicodeRange::new('_', '_'),
                ClassUnicodeRange::new('a', 'z'),
            ]),
        }
    }

    fn class_regex(c: &ClassUnicode, re: &Regex) -> Result<String, ConvertError> {
        let mut s = String::new();
        emit(
            &Hir::class(Class::Unicode(c.clone())),
            &mut s,
            Ctx::Concat,
            re,
        )?;
        Ok(s)
    }

    /// The whole-term expression of a branch with word boundaries.
    pub(super) fn resolve(b: &Branch, re: &Regex) -> Result<String, ConvertError> {
        let mut alts = Vec::new();
        for seq in flatten(&b.items, re)? {
            let mut pieces = vec![Piece::Text(
                prefix_text(b.start).to_owned(),
                match b.start {
                    super::Anchor::Text => Info::empty(),
                    _ => Info::chars(any(), true),
                },
            )];
            for h in seq {
                match h.kind() {
                    HirKind::Look(l) if WORD_LOOKS.contains(l) => pieces.push(Piece::Boundary(*l)),
                    HirKind::Look(_) => return Err(refuse(super::look_reason(&h), re)),
                    _ => {
                        let mut s = String::new();
                        emit(&h, &mut s, Ctx::Concat, re)?;
                        pieces.push(Piece::Text(s, info(&h)));
                    }
                }
            }
            pieces.push(Piece::Text(
                suffix_text(b.end).to_owned(),
                match b.end {
                    super::Anchor::Text => Info::empty(),
                    _ => Info::chars(any(), true),
                },
            ));
            if let Some((text, _)) = build(&pieces, re)? {
                alts.push(text);
            }
        }
        if alts.is_empty() {
            // No way to satisfy the boundaries: the expression matches nothing.
            return Ok("#".into());
        }
        Ok(alts.join("|"))
    }

    /// The expression of the pieces, or `None` when the boundaries cannot hold.
    fn build(pieces: &[Piece], re: &Regex) -> Result<Option<(String, Info)>, ConvertError> {
        let Some(j) = pieces.iter().position(|p| matches!(p, Piece::Boundary(_))) else {
            let mut text = String::new();
            let mut inf = Info::empty();
            for p in pieces {
                if let Piece::Text(t, i) = p {
                    text.push_str(t);
                    inf = inf.then(i);
                }
            }
            return Ok(Some((text, inf)));
        };
        let Piece::Boundary(look) = pieces[j] else {
            unreachable!("position() found a boundary")
        };
        let Some((left, li)) = build(&pieces[..j], re)? else {
            return Ok(None);
        };
        let Some((right, ri)) = build(&pieces[j + 1..], re)? else {
            return Ok(None);
        };
        let w = word_class(look);
        let mut nw = w.clone();
        nw.negate();
        let negated = matches!(look, Look::WordAsciiNegate | Look::WordUnicodeNegate);
        // (left ends with a word char?, right starts with a word char?)
        let cases: [(bool, bool); 2] = if negated {
            [(true, true), (false, false)]
        } else {
            [(true, false), (false, true)]
        };
        let mut alts = Vec::new();
        let mut out_info: Option<Info> = None;
        for (end_w, start_w) in cases {
            let l = restrict(&left, &li, end_w, false, &w, &nw, re)?;
            let r = restrict(&right, &ri, start_w, true, &w, &nw, re)?;
            if let (Some((lt, lin)), Some((rt, rin))) = (l, r) {
                alts.push(format!("{lt}{rt}"));
                let joined = lin.then(&rin);
                out_info = Some(match out_info {
                    None => joined,
                    Some(mut o) => {
                        o.first.union(&joined.first);
                        o.last.union(&joined.last);
                        o.nullable |= joined.nullable;
                        o
                    }
                });
            }
        }
        Ok(match (alts.len(), out_info) {
            (0, _) | (_, None) => None,
            (1, Some(i)) => Some((alts.remove(0), i)),
            (_, Some(i)) => Some((format!("({})", alts.join("|")), i)),
        })
    }

    /// Restrict one side of a boundary: `at_start` says which end of the text touches the
    /// boundary; `word` whether the character there must be a word character (else a non-word
    /// character, or no character at all).
    fn restrict(
        text: &str,
        inf: &Info,
        word: bool,
        at_start: bool,
        w: &ClassUnicode,
        nw: &ClassUnicode,
        re: &Regex,
    ) -> Result<Option<(String, Info)>, ConvertError> {
        let edge = if at_start { &inf.first } else { &inf.last };
        let (want, other) = if word { (w, nw) } else { (nw, w) };
        let mut can = edge.clone();
        can.intersect(want);
        let mut cannot = edge.clone();
        cannot.intersect(other);
        // Empty text means the start or end of the value: a non-word position.
        let empty_ok = !word && inf.nullable;
        let empty_bad = word && inf.nullable;
        if can.ranges().is_empty() && !empty_ok {
            return Ok(None);
        }
        let mut restricted = inf.clone();
        if at_start {
            restricted.first = can.clone();
        } else {
            restricted.last = can.clone();
        }
        restricted.nullable = inf.nullable && !word;
        if cannot.ranges().is_empty() && !empty_bad {
            // Implied: the text already meets the condition.
            return Ok(Some((text.to_owned(), restricted)));
        }
        let class = class_regex(want, re)?;
        let cond = match (at_start, word) {
            (true, true) => format!("{class}.*"),
            (true, false) => format!("(()|{class}.*)"),
            (false, true) => format!(".*{class}"),
            (false, false) => format!("(()|.*{class})"),
        };
        Ok(Some((format!("(({text})&({cond}))"), restricted)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigma::value::RegexFlags;

    fn tr(p: &str) -> String {
        tr_flags(p, RegexFlags::default())
    }

    fn tr_flags(p: &str, flags: RegexFlags) -> String {
        translate(&Regex {
            pattern: p.into(),
            flags,
        })
        .unwrap_or_else(|e| format!("ERR {}", e.reason))
    }

    #[test]
    fn unanchored_by_default() {
        assert_eq!(tr("abc"), ".*abc.*");
        assert_eq!(tr("^abc"), "abc.*");
        assert_eq!(tr("abc$"), ".*abc");
        assert_eq!(tr("^abc$"), "abc");
        assert_eq!(tr("a|^b"), ".*a.*|b.*");
        assert_eq!(tr("(?:^a|b)c"), "ac.*|.*bc.*");
        assert_eq!(tr("a(b$|c)"), ".*ab|.*ac.*");
        assert!(tr("a^b").starts_with("ERR anchors"));
        assert!(tr(r"a*\bfoo").contains('&'));
        assert!(tr(r"(?:a\b)*").contains("word boundary inside"));
    }

    #[test]
    fn dots_and_flags() {
        assert_eq!(tr("a.b"), ".*a[^\n]b.*");
        let s = RegexFlags {
            dot_all: true,
            ..Default::default()
        };
        assert_eq!(tr_flags("a.b", s), ".*a.b.*");
        let i = RegexFlags {
            ignore_case: true,
            ..Default::default()
        };
        assert_eq!(tr_flags("ab1", i), ".*[Aa][Bb]1.*");
        assert_eq!(tr("(?i)x"), ".*[Xx].*");
        let m = RegexFlags {
            multi_line: true,
            ..Default::default()
        };
        assert_eq!(tr_flags("^a$", m), "(.*\n)?a(\n.*)?");
    }

    #[test]
    fn operators_and_escapes() {
        assert_eq!(tr("a{2,3}b+c*d?"), ".*a{2,3}b+c*d?.*");
        assert_eq!(tr("(ab){2}"), ".*(ab){2}.*");
        assert_eq!(tr("(?:ab)+"), ".*(ab)+.*");
        assert_eq!(tr(r"a@b#c&d<e>f~g"), r".*a\@b\#c\&d\<e\>f\~g.*");
        assert_eq!(tr(r#"x"/y"#), r#".*x\"\/y.*"#);
        assert_eq!(tr(r"C:\\Windows\\"), r".*C:\\Windows\\.*");
        assert_eq!(tr(r"(?-u)\d"), ".*[0-9].*");
        assert_eq!(tr(r"[a-c]"), ".*[a-c].*");
        assert_eq!(tr(r"[^a]"), ".*[^a].*");
        assert_eq!(tr(r"\x41\u{e9}"), ".*Aé.*");
        assert_eq!(tr(r"[-\]]"), r".*[\-\]].*");
    }

    #[test]
    fn perl_classes_and_boundaries_are_ascii() {
        // As in PCRE and in the engine: `\d` is [0-9] only, not every Unicode digit.
        assert_eq!(tr(r"\d"), ".*[0-9].*");
        assert_eq!(tr(r"\d"), tr(r"(?-u)\d"));
        assert_eq!(tr(r"[\d,]"), ".*[,0-9].*");
        assert_eq!(tr(r"\s"), tr(r"[\t\n\x0B\x0C\r ]"));
        assert_eq!(tr(r"\w"), tr(r"[0-9A-Z_a-z]"));
        assert_eq!(tr(r"\W"), tr(r"[^0-9A-Z_a-z]"));
        assert_eq!(tr(r"[^\s]"), tr(r"[^\t\n\x0B\x0C\r ]"));
        // `\p{..}` stays Unicode, and a boundary looks at ASCII word characters only.
        assert_ne!(tr(r"\pN"), tr(r"\d"));
        assert_eq!(tr(r"\bx"), tr(r"(?-u:\b)x"));
        assert!(!tr(r"\bx").contains('\u{e9}'));
        assert_eq!(sigma::regex_ascii::ascii_perl_classes("a(b"), "a(b");
        assert_eq!(
            sigma::regex_ascii::ascii_perl_classes(r"^\d+$"),
            r"^[[:digit:]]+$"
        );
    }

    #[test]
    fn slashes_and_trailing_backslash() {
        assert_eq!(slashed(r"a\\"), r"/a[\\]/");
        assert_eq!(slashed(r"a\/"), r"/a\//");
        assert_eq!(slashed("a"), "/a/");
    }

    #[test]
    fn sigma_strings() {
        let s = SigmaString::parse(r"*\cmd?.exe");
        assert_eq!(sigma_string(&s, true), r".*\\[cC][mM][dD].\.[eE][xX][eE]");
        assert_eq!(sigma_string(&s, false), r".*\\cmd.\.exe");
        assert_eq!(case_variants('k'), vec!['k', 'K', '\u{212A}']);
        assert_eq!(case_variants('K'), vec!['K', 'k', '\u{212A}']);
        assert_eq!(case_variants('1'), vec!['1']);
        assert_eq!(case_variants('é'), vec!['é', 'É']);
        assert_eq!(case_variants('\u{212A}'), vec!['\u{212A}', 'k', 'K']);
        for text in [r"*\cmd?.exe", r"C:\\", r"a\\\\", "", "*", r"x\*y"] {
            let s = SigmaString::parse(text);
            let mut out = String::from("f:");
            push_slashed_sigma_string(&mut out, &s);
            assert_eq!(
                out,
                format!("f:{}", slashed(&sigma_string(&s, true))),
                "{text}"
            );
        }
        assert_eq!(case_variants('İ'), vec!['İ']);
    }

    /// The table holds what the definition gives for every code point: no character past
    /// CASED_BELOW has a variant, and below it the lists are those of a direct search.
    #[test]
    fn case_table_is_complete() {
        let all = || (0..=char::MAX as u32).filter_map(char::from_u32);
        for c in all().filter(|&c| c as u32 >= CASED_BELOW) {
            assert_eq!(single_lower(c), Some(c), "{c:?}");
        }
        let mut uppers: std::collections::HashMap<char, Vec<char>> =
            std::collections::HashMap::new();
        for c in all() {
            if let Some(l) = single_lower(c)
                && l != c
            {
                uppers.entry(l).or_default().push(c);
            }
        }
        for c in all().filter(|&c| (c as u32) < CASED_BELOW) {
            let mut want = vec![c];
            if let Some(lower) = single_lower(c) {
                if lower != c {
                    want.push(lower);
                }
                for &o in uppers.get(&lower).map_or(&[][..], Vec::as_slice) {
                    if !want.contains(&o) {
                        want.push(o);
                    }
                }
            }
            assert_eq!(case_variants(c), want, "{c:?}");
        }
    }
}
