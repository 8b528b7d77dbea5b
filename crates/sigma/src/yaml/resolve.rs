//! The YAML 1.1 scalar resolver, as PyYAML's `SafeLoader` applies it.
//!
//! A plain scalar's type is chosen by matching its text against PyYAML's implicit resolver
//! patterns (bool, float, int, null; timestamps are recognised but stay strings here), and the
//! number is then built the way PyYAML's constructors build it. The patterns are matched by hand
//! instead of with regexes: this runs for every plain scalar of every rule.
//!
//! Differences from PyYAML that the [`Value`] model forces:
//! - integers that do not fit in `i64` stay strings (PyYAML has unbounded integers);
//! - timestamps (`2001-12-14`) stay strings (PyYAML builds `datetime` objects).

use std::borrow::Cow;

use super::{ScalarStyle, Value};

/// The result of resolving a plain scalar.
pub(crate) struct Resolved {
    pub value: Value,
    /// A non-fatal problem (PyYAML would fail on it), for example `0b_`, which its int pattern
    /// accepts but its int constructor rejects. The value is then kept as a string.
    pub problem: Option<String>,
}

impl Resolved {
    fn ok(value: Value) -> Self {
        Resolved {
            value,
            problem: None,
        }
    }
}

/// Resolve the text of an untagged plain scalar.
pub(crate) fn resolve_plain(text: Cow<'_, str>) -> Resolved {
    let t: &str = &text;
    let Some(&first) = t.as_bytes().first() else {
        return Resolved::ok(Value::Null);
    };
    match first {
        b'~' if t == "~" => return Resolved::ok(Value::Null),
        b'n' | b'N' if matches!(t, "null" | "Null" | "NULL") => return Resolved::ok(Value::Null),
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' => {
            if let Some(b) = bool_word(t) {
                return Resolved::ok(Value::Bool(b, t.into()));
            }
        }
        b'-' | b'+' | b'.' | b'0'..=b'9' => {
            // PyYAML tries its float pattern before its int pattern; they never both match.
            if is_float_form(t) {
                return match construct_float(t) {
                    Some(f) => Resolved::ok(Value::Float(f, t.into())),
                    None => bad(text, "float"),
                };
            }
            if is_int_form(t) {
                return match construct_int(t) {
                    IntResult::Ok(i) => Resolved::ok(Value::Int(i, t.into())),
                    // Documented limit of the model: too large for i64, keep the text.
                    IntResult::Overflow => {
                        Resolved::ok(Value::Str(text.into_owned(), ScalarStyle::Plain))
                    }
                    IntResult::Invalid => bad(text, "integer"),
                };
            }
        }
        _ => {}
    }
    Resolved::ok(Value::Str(text.into_owned(), ScalarStyle::Plain))
}

fn bad(text: Cow<'_, str>, what: &str) -> Resolved {
    let problem = Some(format!(
        "`{text}` looks like an {what} but is not a valid one"
    ));
    Resolved {
        value: Value::Str(text.into_owned(), ScalarStyle::Plain),
        problem,
    }
}

/// `yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`.
fn bool_word(t: &str) -> Option<bool> {
    match t {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// A tiny cursor for matching the resolver patterns.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_if(&mut self, f: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(c) if f(c) => {
                self.i += 1;
                true
            }
            _ => false,
        }
    }
    fn eat_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.eat_if(&f) {}
        self.i - start
    }
    fn eat_sign(&mut self) {
        let _ = self.eat(b'-') || self.eat(b'+');
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
    fn rest(&self) -> &[u8] {
        &self.b[self.i..]
    }
}

fn digit_or_us(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// `(?::[0-5]?[0-9])+`: at least one sexagesimal group.
fn eat_sexagesimal_groups(c: &mut Cur<'_>) -> bool {
    let mut groups = 0;
    loop {
        let save = c.i;
        if !c.eat(b':') {
            break;
        }
        // `[0-5]?[0-9]`: one digit, or two digits of which the first is 0-5.
        let d1 = c.eat_if(|x| x.is_ascii_digit());
        if !d1 {
            c.i = save;
            break;
        }
        let first = c.b[c.i - 1];
        if first <= b'5' && c.peek().is_some_and(|x| x.is_ascii_digit()) {
            c.i += 1;
        }
        groups += 1;
    }
    groups > 0
}

/// `[eE][-+][0-9]+`, optional.
fn eat_exponent(c: &mut Cur<'_>) {
    let save = c.i;
    if c.eat_if(|x| x == b'e' || x == b'E')
        && c.eat_if(|x| x == b'-' || x == b'+')
        && c.eat_while(|x| x.is_ascii_digit()) > 0
    {
        return;
    }
    c.i = save;
}

/// PyYAML's float pattern:
/// `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` | `\.[0-9][0-9_]*([eE][-+][0-9]+)?` |
/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*` | `[-+]?\.(inf|Inf|INF)` | `\.(nan|NaN|NAN)`.
pub(crate) fn is_float_form(t: &str) -> bool {
    let b = t.as_bytes();
    if matches!(t, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let mut c = Cur { b, i: 0 };
    let signed = matches!(b.first(), Some(b'-' | b'+'));
    c.eat_sign();
    if matches!(c.rest(), b".inf" | b".Inf" | b".INF") {
        return true;
    }
    if c.peek() == Some(b'.') {
        // Only the unsigned form `\.[0-9][0-9_]*` exists.
        if signed {
            return false;
        }
        c.i += 1;
        if !c.eat_if(|x| x.is_ascii_digit()) {
            return false;
        }
        c.eat_while(digit_or_us);
        eat_exponent(&mut c);
        return c.done();
    }
    if !c.eat_if(|x| x.is_ascii_digit()) {
        return false;
    }
    c.eat_while(digit_or_us);
    if c.peek() == Some(b':') {
        if !eat_sexagesimal_groups(&mut c) || !c.eat(b'.') {
            return false;
        }
        c.eat_while(digit_or_us);
        return c.done();
    }
    if !c.eat(b'.') {
        return false;
    }
    c.eat_while(digit_or_us);
    eat_exponent(&mut c);
    c.done()
}

/// PyYAML's int pattern: `[-+]?0b[0-1_]+` | `[-+]?0[0-7_]+` | `[-+]?(0|[1-9][0-9_]*)` |
/// `[-+]?0x[0-9a-fA-F_]+` | `[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`.
///
/// Note that `0o17` is not an int for PyYAML (YAML 1.1 writes octal as `017`), so it stays a
/// string.
pub(crate) fn is_int_form(t: &str) -> bool {
    let mut c = Cur {
        b: t.as_bytes(),
        i: 0,
    };
    c.eat_sign();
    match c.peek() {
        Some(b'0') => {
            c.i += 1;
            if c.done() {
                return true;
            }
            if c.eat(b'b') {
                return c.eat_while(|x| matches!(x, b'0' | b'1' | b'_')) > 0 && c.done();
            }
            if c.eat(b'x') {
                return c.eat_while(|x| x.is_ascii_hexdigit() || x == b'_') > 0 && c.done();
            }
            c.eat_while(|x| matches!(x, b'0'..=b'7' | b'_')) > 0 && c.done()
        }
        Some(b'1'..=b'9') => {
            c.i += 1;
            c.eat_while(digit_or_us);
            if c.done() {
                return true;
            }
            eat_sexagesimal_groups(&mut c) && c.done()
        }
        _ => false,
    }
}

pub(crate) enum IntResult {
    Ok(i64),
    /// A valid integer that does not fit in `i64`.
    Overflow,
    /// Not an integer PyYAML's constructor accepts.
    Invalid,
}

/// PyYAML's `construct_yaml_int`: drop `_`, take the sign, then `0b` binary, `0x` hex, a leading
/// `0` octal (Python's `int(s, 8)` also takes a `0o` prefix), `:` sexagesimal, else decimal.
pub(crate) fn construct_int(text: &str) -> IntResult {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let mut v = cleaned.as_str();
    let neg = v.starts_with('-');
    if v.starts_with('-') || v.starts_with('+') {
        v = &v[1..];
    }
    if v.is_empty() {
        return IntResult::Invalid;
    }
    let magnitude: Option<Option<i128>> = if v == "0" {
        Some(Some(0))
    } else if let Some(r) = v.strip_prefix("0b") {
        digits(r, 2)
    } else if let Some(r) = v.strip_prefix("0x") {
        digits(r, 16)
    } else if let Some(r) = v.strip_prefix('0') {
        digits(r.strip_prefix('o').unwrap_or(r), 8)
    } else if v.contains(':') {
        let mut total: Option<i128> = Some(0);
        let mut ok = true;
        for part in v.split(':') {
            match digits(part, 10) {
                Some(d) => {
                    total = match (total, d) {
                        (Some(t), Some(d)) => t.checked_mul(60).and_then(|t| t.checked_add(d)),
                        _ => None,
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(total)
    } else {
        digits(v, 10)
    };
    match magnitude {
        None => IntResult::Invalid,
        Some(None) => IntResult::Overflow,
        Some(Some(m)) => {
            let m = if neg { -m } else { m };
            i64::try_from(m).map_or(IntResult::Overflow, IntResult::Ok)
        }
    }
}

/// Digits in `radix`: `None` when not all are digits (or there are none), `Some(None)` when the
/// number is too large even for i128.
fn digits(s: &str, radix: u32) -> Option<Option<i128>> {
    if s.is_empty() {
        return None;
    }
    let mut acc: Option<i128> = Some(0);
    for ch in s.chars() {
        let d = ch.to_digit(radix)?;
        acc = acc
            .and_then(|a| a.checked_mul(i128::from(radix)))
            .and_then(|a| a.checked_add(i128::from(d)));
    }
    Some(acc)
}

/// PyYAML's `construct_yaml_float`: drop `_`, lower-case, take the sign, then `.inf`, `.nan`,
/// `:` sexagesimal, else Python's `float()`.
pub(crate) fn construct_float(text: &str) -> Option<f64> {
    let cleaned: String = text
        .chars()
        .filter(|&c| c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut v = cleaned.trim_matches(|c: char| c.is_ascii_whitespace());
    let sign = if v.starts_with('-') { -1.0 } else { 1.0 };
    if v.starts_with('-') || v.starts_with('+') {
        v = &v[1..];
    }
    if v == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if v == ".nan" {
        return Some(f64::NAN);
    }
    if v.contains(':') {
        let mut total = 0.0;
        for part in v.split(':') {
            total = total * 60.0 + python_float(part)?;
        }
        return Some(sign * total);
    }
    Some(sign * python_float(v)?)
}

/// Python's `float()` on an already cleaned, unsigned text.
fn python_float(s: &str) -> Option<f64> {
    // Rust accepts `1.`, `.5`, `1e5`, `inf`, `nan`, like Python; it also accepts a sign, which
    // Python does too.
    s.parse::<f64>().ok()
}

/// Build the value of a scalar with an explicit standard tag (`!!str`, `!!int`, ...).
///
/// `Ok(None)` means the tag is not one this reader knows: the caller reports it and resolves
/// the scalar as if it were untagged. `Err` carries a message when the text does not fit the tag
/// (PyYAML fails there); the value is then kept as a string.
pub(crate) fn apply_scalar_tag(
    tag: &str,
    text: Cow<'_, str>,
    style: ScalarStyle,
) -> Result<Option<Value>, (String, Value)> {
    let Some(name) = tag.strip_prefix("tag:yaml.org,2002:") else {
        return Ok(None);
    };
    let keep = |text: Cow<'_, str>| Value::Str(text.into_owned(), style);
    match name {
        // Timestamps stay strings in this model.
        "str" | "timestamp" => Ok(Some(keep(text))),
        "null" => Ok(Some(Value::Null)),
        "bool" => match text.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" => Ok(Some(Value::Bool(true, text.as_ref().into()))),
            "no" | "false" | "off" => Ok(Some(Value::Bool(false, text.as_ref().into()))),
            _ => Err((format!("`{text}` is not a boolean (!!bool)"), keep(text))),
        },
        "int" => match construct_int(&text) {
            IntResult::Ok(i) => Ok(Some(Value::Int(i, text.as_ref().into()))),
            IntResult::Overflow => Ok(Some(keep(text))),
            IntResult::Invalid => Err((format!("`{text}` is not an integer (!!int)"), keep(text))),
        },
        "float" => match construct_float(&text) {
            Some(f) => Ok(Some(Value::Float(f, text.as_ref().into()))),
            None => Err((format!("`{text}` is not a number (!!float)"), keep(text))),
        },
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(t: &str) -> Value {
        resolve_plain(Cow::Borrowed(t)).value
    }

    #[test]
    fn nulls() {
        for t in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(r(t), Value::Null, "{t:?}");
        }
        for t in ["nULL", "none", "None", "~~"] {
            assert!(matches!(r(t), Value::Str(..)), "{t:?}");
        }
    }

    #[test]
    fn bools() {
        for t in [
            "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        ] {
            assert_eq!(r(t), Value::Bool(true, t.into()));
        }
        for t in [
            "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        ] {
            assert_eq!(r(t), Value::Bool(false, t.into()));
        }
        for t in ["y", "n", "yES", "tRUE", "Y", "N"] {
            assert!(matches!(r(t), Value::Str(..)), "{t:?}");
        }
    }

    #[test]
    fn ints() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("-0", 0),
            ("+12", 12),
            ("1_000", 1000),
            ("0x1F", 31),
            ("-0x10", -16),
            ("0b101", 5),
            ("017", 15),
            ("-017", -15),
            ("0_", 0),
            ("00", 0),
            ("1:20", 80),
            ("-1:0:0", -3600),
            ("190:20:30", 685_230),
            ("1_:2", 62),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for &(t, v) in cases {
            assert_eq!(r(t), Value::Int(v, t.into()), "{t:?}");
        }
        // Not ints for PyYAML: these stay strings.
        for t in ["0o17", "09", "1:60", "1e3", "0x", "0b", "- 1", "1 ", "0:1"] {
            assert!(matches!(r(t), Value::Str(..)), "{t:?}");
        }
    }

    #[test]
    fn int_overflow_stays_string() {
        let t = "9223372036854775808";
        assert_eq!(r(t), Value::Str(t.into(), ScalarStyle::Plain));
        let res = resolve_plain(Cow::Borrowed("0b_"));
        assert!(res.problem.is_some());
        assert_eq!(res.value, Value::Str("0b_".into(), ScalarStyle::Plain));
    }

    #[test]
    fn floats() {
        let cases: &[(&str, f64)] = &[
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("1.", 1.0),
            ("1._5", 1.5),
            (".5", 0.5),
            ("1.0e+3", 1000.0),
            ("1.0E-3", 0.001),
            (".5e+1", 5.0),
            ("190:20:30.15", 685_230.15),
            (".inf", f64::INFINITY),
            ("-.Inf", f64::NEG_INFINITY),
            ("+.INF", f64::INFINITY),
        ];
        for &(t, v) in cases {
            assert_eq!(r(t), Value::Float(v, t.into()), "{t:?}");
        }
        assert!(matches!(r(".nan"), Value::Float(f, _) if f.is_nan()));
        // PyYAML needs a dot and a signed exponent; `-.5` has no digit before the dot.
        for t in [
            "1e3", "1.0e3", "1e+3", "-.5", "+.5", "-.nan", ".", "._", "1.0e+", "inf",
        ] {
            assert!(matches!(r(t), Value::Str(..)), "{t:?}");
        }
    }

    #[test]
    fn timestamps_and_others_stay_strings() {
        for t in [
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "2023/01/01",
            "=",
            "<<",
        ] {
            assert_eq!(r(t), Value::Str(t.into(), ScalarStyle::Plain), "{t:?}");
        }
    }

    #[test]
    fn tags() {
        let t = |tag: &str, text: &str| {
            apply_scalar_tag(
                &format!("tag:yaml.org,2002:{tag}"),
                Cow::Borrowed(text),
                ScalarStyle::DoubleQuoted,
            )
        };
        assert_eq!(t("int", "12"), Ok(Some(Value::Int(12, "12".into()))));
        assert_eq!(t("int", "0o17"), Ok(Some(Value::Int(15, "0o17".into()))));
        assert_eq!(t("float", "1"), Ok(Some(Value::Float(1.0, "1".into()))));
        assert_eq!(t("bool", "YeS"), Ok(Some(Value::Bool(true, "YeS".into()))));
        assert_eq!(t("null", "x"), Ok(Some(Value::Null)));
        assert_eq!(
            t("str", "1"),
            Ok(Some(Value::Str("1".into(), ScalarStyle::DoubleQuoted)))
        );
        assert!(t("int", "abc").is_err());
        assert!(t("bool", "maybe").is_err());
        assert_eq!(t("binary", "aGk="), Ok(None));
    }
}
