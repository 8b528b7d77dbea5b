//! The primitive meaning of a comparison, shared by the optimised engine and the naive reference
//! evaluator: case folding, numbers, timestamps, IP addresses.
//!
//! Everything here is the *definition*; the matchers in [`crate::matcher`] only add speed.
//!
//! # Decisions (documented once, here)
//!
//! - **Case-insensitive** comparison compares [`fold`]ed text: every character replaced by its
//!   Unicode lower-case mapping, character by character (no context rules such as the Greek final
//!   sigma), with an ASCII fast path. A `?` wildcard matches one character of the folded text.
//! - **Text form of an event value**: strings are themselves; numbers their canonical decimal
//!   form ([`number_text`]); booleans `true` / `false`. `null` and objects have none, so string
//!   patterns, regexes, CIDRs and field references never match them.
//! - **Numbers** written in a rule (`EventID: 4688`, `Status: 0xC000006A`) equal an event number
//!   when they are mathematically equal, and an event string when the string, folded, equals the
//!   number as written (`0xc000006a`), or when the string is a decimal number ([`parse_number`])
//!   mathematically equal to it (`"4688"`, `"16"` for `0x10`). Hexadecimal event strings are not
//!   parsed: rule `16` does not match the string `"0x10"` (but rule `0x10` does).
//! - **Comparisons** (`lt`, `gte`, ...) accept event numbers and decimal number strings.
//! - **Timestamps** for the time modifiers: RFC 3339 / ISO 8601 (`2024-05-01T10:20:30.5Z`,
//!   with `T` or a space, optional fraction and offset), and epoch numbers (or digit strings):
//!   milliseconds when the absolute value is at least 10^11, else seconds. Parts are taken as
//!   written (no time-zone conversion, as the specification says); epochs are UTC. `week` is the
//!   ISO 8601 week number.

use std::cmp::Ordering;
use std::net::IpAddr;

use sigma::value::{Number, NumberValue, TimePart};

/// Fold text for case-insensitive comparison (see the module docs).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`] appending to a buffer.
pub fn fold_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        // One copy, then lower-casing in place: both run over whole words, not per char.
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        for c in s.chars() {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        }
    }
}

/// Is every ASCII character of `fold(s)` the lower case of an ASCII character of `s`, in the
/// same order? True unless `s` has one of the two characters beyond ASCII whose lower case has
/// ASCII in it (`İ` → `i̇`, Kelvin sign → `k`; a test checks all of Unicode). Then a search for ASCII
/// literals in `s` (ASCII case-insensitively) finds everything a search in `fold(s)` finds.
pub fn ascii_folds_from_ascii(s: &str) -> bool {
    let b = s.as_bytes();
    // İ is C4 B0, the Kelvin sign E2 84 AA.
    memchr::memchr2_iter(0xC4, 0xE2, b).all(|i| match b[i] {
        0xC4 => b.get(i + 1) != Some(&0xB0),
        _ => b.get(i + 1..i + 3) != Some(&[0x84, 0xAA][..]),
    })
}

/// A number seen in an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Num {
    /// The value as a float (lossy for large integers).
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::UInt(u) => u as f64,
            Num::Float(f) => f,
        }
    }

    /// The exact integer value, when there is one.
    fn as_i128(self) -> Option<i128> {
        match self {
            Num::Int(i) => Some(i128::from(i)),
            Num::UInt(u) => Some(i128::from(u)),
            Num::Float(f) => float_as_i128(f),
        }
    }

    /// From a rule's number.
    pub fn from_rule(n: &Number) -> Num {
        match n.value {
            NumberValue::Int(i) => Num::Int(i),
            NumberValue::Float(f) => Num::Float(f),
        }
    }
}

/// An integral float's exact value, when it is an integer in i128 range.
fn float_as_i128(f: f64) -> Option<i128> {
    // 2^100 is far beyond any i64/u64; floats that large are compared as floats.
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1.0e30 {
        Some(f as i128)
    } else {
        None
    }
}

/// Mathematical equality of two numbers (an integer equals a float only when the float is
/// exactly that integer).
pub fn num_eq(a: Num, b: Num) -> bool {
    match (a.as_i128(), b.as_i128()) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.as_f64() == b.as_f64(),
        // One integral, one not: never equal.
        _ => false,
    }
}

/// Order two numbers (floats compare as floats; integers exactly).
pub fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Float(_), _) | (_, Num::Float(_)) => a.as_f64().partial_cmp(&b.as_f64()),
        _ => a.as_i128().partial_cmp(&b.as_i128()),
    }
}

/// The canonical text of a number: integers (and integral floats) in decimal, other floats in
/// shortest round-trip form. Equal numbers have equal text.
pub fn number_text(n: Num) -> String {
    if let Some(i) = n.as_i128() {
        return i.to_string();
    }
    let f = n.as_f64();
    if f == 0.0 {
        return "0".to_owned();
    }
    format!("{f}")
}

/// Parse a decimal number written in an event string: `-12`, `3.5`, `1e3` (JSON number
/// grammar; no spaces, no `+`, no hexadecimal).
pub fn parse_number(s: &str) -> Option<Num> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    let mut integral = true;
    if i < b.len() && b[i] == b'.' {
        integral = false;
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == f {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        integral = false;
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    if integral {
        if let Ok(v) = s.parse::<i64>() {
            return Some(Num::Int(v));
        }
        if let Ok(v) = s.parse::<u64>() {
            return Some(Num::UInt(v));
        }
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Num::Float)
}

/// Does an event string equal a rule number (see the module docs)? `folded_text` is the
/// [`fold`]ed text of the number as written in the rule.
pub fn str_eq_number(s: &str, folded_s: &str, n: Num, folded_text: &str) -> bool {
    folded_s == folded_text || parse_number(s).is_some_and(|x| num_eq(x, n))
}

/// Build a Sigma regular expression: an unanchored search, case-sensitive unless `i`; `m` makes
/// `^`/`$` match at line ends, `s` lets `.` match a newline.
///
/// `\d`, `\w`, `\s` (and their negations) and the word boundaries `\b`, `\B`, `\<`,
/// `\>`, `\b{start}`, ... are ASCII, as in PCRE (the flavour the specification names) and in
/// the query backends' translation: see [`ascii_perl_classes`].
pub fn build_regex(r: &sigma::value::Regex) -> Result<regex::Regex, regex::Error> {
    let pattern = ascii_perl_classes(&r.pattern);
    regex::RegexBuilder::new(&pattern)
        .case_insensitive(r.flags.ignore_case)
        .multi_line(r.flags.multi_line)
        .dot_matches_new_line(r.flags.dot_all)
        .size_limit(16 << 20)
        .dfa_size_limit(8 << 20)
        .build()
}

pub use sigma::regex_ascii::ascii_perl_classes;

/// Write the canonical text of a number ([`number_text`]) into a buffer.
pub fn number_text_into(n: Num, out: &mut String) {
    use std::fmt::Write;
    match n {
        Num::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Num::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Num::Float(_) => out.push_str(&number_text(n)),
    }
}

/// Parse an IP address from an event string (plain IPv4 or IPv6 text).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// The civil fields of a timestamp, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub hour: i8,
    pub minute: i8,
}

impl Civil {
    /// The value of one time part.
    pub fn part(&self, p: TimePart) -> i64 {
        match p {
            TimePart::Minute => i64::from(self.minute),
            TimePart::Hour => i64::from(self.hour),
            TimePart::Day => i64::from(self.day),
            TimePart::Month => i64::from(self.month),
            TimePart::Year => i64::from(self.year),
            TimePart::Week => jiff::civil::Date::new(self.year, self.month, self.day)
                .map(|d| i64::from(d.iso_week_date().week()))
                .unwrap_or(-1),
        }
    }
}

/// Parse a timestamp string (see the module docs for the forms accepted).
pub fn parse_timestamp(s: &str) -> Option<Civil> {
    let b = s.trim().as_bytes();
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_digit()) || b.first() == Some(&b'-') {
        let text = std::str::from_utf8(b).ok()?;
        return match parse_number(text)? {
            Num::Int(i) => epoch_civil(i),
            _ => None,
        };
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' {
        return None;
    }
    let year = num(0..4)?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    let hour = num(11..13)?;
    let minute = num(14..16)?;
    let mut i = 16;
    if b.len() > i && b[i] == b':' {
        num(17..19)?;
        i = 19;
        if b.len() > i && (b[i] == b'.' || b[i] == b',') {
            i += 1;
            let f = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == f {
                return None;
            }
        }
    }
    let rest = &b[i..];
    let offset_ok = match rest {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        [b'+' | b'-', h1, h2] => h1.is_ascii_digit() && h2.is_ascii_digit(),
        _ => false,
    };
    if !offset_ok || hour > 23 || minute > 59 {
        return None;
    }
    let date = jiff::civil::Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    Some(Civil {
        year: date.year(),
        month: date.month(),
        day: date.day(),
        hour: hour as i8,
        minute: minute as i8,
    })
}

/// Civil UTC fields of an epoch in seconds or milliseconds.
pub fn epoch_civil(v: i64) -> Option<Civil> {
    let ts = if v.unsigned_abs() >= 100_000_000_000 {
        jiff::Timestamp::from_millisecond(v).ok()?
    } else {
        jiff::Timestamp::from_second(v).ok()?
    };
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    Some(Civil {
        year: dt.year(),
        month: dt.month(),
        day: dt.day(),
        hour: dt.hour(),
        minute: dt.minute(),
    })
}

/// The civil fields of an event number used as a timestamp.
pub fn num_civil(n: Num) -> Option<Civil> {
    match n {
        Num::Int(i) => epoch_civil(i),
        Num::UInt(u) => epoch_civil(i64::try_from(u).ok()?),
        Num::Float(f) => float_as_i128(f).and_then(|i| epoch_civil(i64::try_from(i).ok()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_per_character() {
        assert_eq!(fold("CMD.EXE"), "cmd.exe");
        assert_eq!(fold("ΟΔΟΣ"), "οδοσ");
        assert_eq!(fold("Straße"), "straße");
        assert_eq!(fold("ÄÖÜ"), "äöü");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("4688"), Some(Num::Int(4688)));
        assert_eq!(parse_number("-1.5"), Some(Num::Float(-1.5)));
        assert_eq!(parse_number("1e3"), Some(Num::Float(1000.0)));
        assert_eq!(parse_number("0x10"), None);
        assert_eq!(parse_number(" 1"), None);
        assert_eq!(parse_number("1."), None);
        assert_eq!(
            parse_number("18446744073709551615"),
            Some(Num::UInt(u64::MAX))
        );
        assert!(num_eq(Num::Int(5), Num::Float(5.0)));
        assert!(!num_eq(Num::Int(5), Num::Float(5.5)));
        assert!(!num_eq(
            Num::Int(9_007_199_254_740_993),
            Num::Float(9_007_199_254_740_992.0)
        ));
        assert_eq!(number_text(Num::Float(5.0)), "5");
        assert_eq!(number_text(Num::Float(-0.0)), "0");
        assert_eq!(number_text(Num::Float(0.25)), "0.25");
        let hex = Num::from_rule(&Number {
            value: NumberValue::Int(16),
            text: "0x10".into(),
        });
        assert!(str_eq_number("0X10", "0x10", hex, "0x10"));
        assert!(str_eq_number("16", "16", hex, "0x10"));
        assert!(!str_eq_number("17", "17", hex, "0x10"));
    }

    #[test]
    fn timestamps() {
        let c = parse_timestamp("2024-05-06T07:08:09.123Z").unwrap();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2024, 5, 6, 7, 8)
        );
        assert_eq!(c.part(TimePart::Week), 19);
        let c = parse_timestamp("2020-06-09 22:50:54").unwrap();
        assert_eq!(c.hour, 22);
        assert!(parse_timestamp("2020-06-09 22:50:54+02:00").is_some());
        assert!(parse_timestamp("2020-13-09 22:50:54").is_none());
        assert!(parse_timestamp("yesterday").is_none());
        let c = parse_timestamp("1700000000000").unwrap();
        assert_eq!((c.year, c.month, c.day, c.hour), (2023, 11, 14, 22));
        let c = parse_timestamp("1700000000").unwrap();
        assert_eq!((c.year, c.hour, c.minute), (2023, 22, 13));
        // 2021-01-03 is in ISO week 53 of 2020.
        assert_eq!(
            parse_timestamp("2021-01-03T00:00:00Z")
                .unwrap()
                .part(TimePart::Week),
            53
        );
    }
}

#[cfg(test)]
mod ascii_tests {
    use super::ascii_perl_classes;

    #[test]
    fn perl_classes_become_ascii_classes() {
        let cases = [
            (r"\d+", r"[[:digit:]]+"),
            (r"\D\W\S", r"[[:^digit:]][[:^word:]][[:^space:]]"),
            (r"[\w.-]", r"[[:word:].-]"),
            (r"[^\s]", r"[^[:space:]]"),
            (r"\bx\B", r"(?-u:\b)x(?-u:\B)"),
            (r"(?i)a(\d|b)*", r"(?i)a([[:digit:]]|b)*"),
        ];
        for (from, to) in cases {
            assert_eq!(ascii_perl_classes(from), to, "{from}");
        }
        for same in [r"abc", r"\\d", r"\p{Nd}", r"^a$", r"\.\*", r"[a-z]\x41"] {
            assert_eq!(ascii_perl_classes(same), same);
        }
    }
}

#[cfg(test)]
mod fold_ascii_tests {
    use super::{ascii_folds_from_ascii, fold};

    const FOLDS_TO_ASCII: [char; 2] = ['\u{130}', '\u{212A}'];

    #[test]
    fn only_the_listed_characters_fold_to_ascii() {
        let found: Vec<char> = (0x80..=0x10_FFFF)
            .filter_map(char::from_u32)
            .filter(|c| c.to_lowercase().any(|l| l.is_ascii()))
            .collect();
        assert_eq!(found, FOLDS_TO_ASCII);
        for c in FOLDS_TO_ASCII {
            assert!(fold(&c.to_string()).chars().any(|l| l.is_ascii()));
        }
    }

    #[test]
    fn texts_with_those_characters_are_told_apart() {
        assert!(ascii_folds_from_ascii("plain ascii"));
        assert!(ascii_folds_from_ascii("Grüße – Ελληνικά 中文 \u{2129}"));
        assert!(!ascii_folds_from_ascii("x \u{130}stanbul"));
        assert!(!ascii_folds_from_ascii("5 \u{212A}"));
        // Other characters starting with the same bytes.
        assert!(ascii_folds_from_ascii("\u{131} \u{2124} \u{2013}"));
    }
}
