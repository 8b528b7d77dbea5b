//! Typed detection values: what a rule compares a field against, after modifiers.
//!
//! Values are converted once, at load time, so that a bad regex, a network that is not one or a
//! comparison with a non-number is a load error and never a surprise while matching.

use std::fmt;
use std::net::IpAddr;

/// One piece of a Sigma string pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    /// Plain text (wildcard characters in here are literal).
    Lit(String),
    /// `*`: any number of characters, including none.
    AnyChars,
    /// `?`: exactly one character.
    OneChar,
    /// `%name%` in a value with the `expand` modifier, to be replaced by a pipeline.
    Placeholder(String),
}

/// A Sigma string: literal text with `*` / `?` wildcards (and placeholders).
///
/// Parsing follows the escape rules of the specification: a backslash escapes only `*`, `?` and
/// itself; before any other character it is a plain backslash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SigmaString {
    parts: Vec<Part>,
}

/// The simplest matcher a pattern needs. Engines and backends use it to avoid general globbing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape<'a> {
    /// The whole value equals the text.
    Exact(&'a str),
    /// `text*`
    Prefix(&'a str),
    /// `*text`
    Suffix(&'a str),
    /// `*text*`
    Contains(&'a str),
    /// `*` alone: any value (including empty).
    Any,
    /// Anything else (inner wildcards, `?`, several literal pieces, placeholders).
    Glob,
}

impl SigmaString {
    /// Parse rule text with wildcards and escapes.
    pub fn parse(text: &str) -> Self {
        // Runs of plain text are copied whole (most values have no wildcard at all and
        // become one literal part): thousands of rules are parsed at every start.
        if !text.contains(['\\', '*', '?']) {
            return SigmaString::literal(text);
        }
        let mut s = SigmaString::default();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(['\\', '*', '?']) {
            lit.push_str(&rest[..at]);
            let special = rest.as_bytes()[at];
            rest = &rest[at + 1..];
            let wildcard = match special {
                b'*' => Part::AnyChars,
                b'?' => Part::OneChar,
                // A backslash escapes `*`, `?` and itself; before anything else it is itself.
                _ => {
                    match rest.as_bytes().first() {
                        Some(&n @ (b'*' | b'?' | b'\\')) => {
                            lit.push(char::from(n));
                            rest = &rest[1..];
                        }
                        _ => lit.push('\\'),
                    }
                    continue;
                }
            };
            if !lit.is_empty() {
                s.push_part(Part::Lit(lit.as_str().to_owned()));
                lit.clear();
            }
            s.push_part(wildcard);
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            s.push_part(Part::Lit(lit.as_str().to_owned()));
        }
        s
    }

    /// A string of plain text, no wildcards.
    pub fn literal(text: &str) -> Self {
        let mut s = SigmaString::default();
        if !text.is_empty() {
            s.parts = vec![Part::Lit(text.to_owned())];
        }
        s
    }

    pub fn from_parts(parts: impl IntoIterator<Item = Part>) -> Self {
        let parts = parts.into_iter();
        let mut s = SigmaString {
            parts: Vec::with_capacity(parts.size_hint().0),
        };
        for p in parts {
            s.push_part(p);
        }
        s
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    pub fn into_parts(self) -> Vec<Part> {
        self.parts
    }

    pub fn push_char(&mut self, c: char) {
        if let Some(Part::Lit(l)) = self.parts.last_mut() {
            l.push(c);
        } else {
            self.parts.push(Part::Lit(c.to_string()));
        }
    }

    /// Append a part, merging adjacent literals and collapsing `**` into `*`.
    pub fn push_part(&mut self, p: Part) {
        match (self.parts.last_mut(), p) {
            (_, Part::Lit(l)) if l.is_empty() => {}
            (Some(Part::Lit(prev)), Part::Lit(l)) => prev.push_str(&l),
            (Some(Part::AnyChars), Part::AnyChars) => {}
            (_, p) => self.parts.push(p),
        }
    }

    pub fn prepend_any(&mut self) {
        if !matches!(self.parts.first(), Some(Part::AnyChars)) {
            self.parts.insert(0, Part::AnyChars);
        }
    }

    pub fn append_any(&mut self) {
        if !matches!(self.parts.last(), Some(Part::AnyChars)) {
            self.parts.push(Part::AnyChars);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// True when the string has `*` or `?`.
    pub fn has_wildcards(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::AnyChars | Part::OneChar))
    }

    pub fn has_placeholders(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Placeholder(_)))
    }

    /// The text when there are no wildcards nor placeholders.
    pub fn as_plain(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(l)] => Some(l),
            _ => None,
        }
    }

    /// Classify the pattern into the cheapest matcher.
    pub fn shape(&self) -> Shape<'_> {
        use Part::{AnyChars as A, Lit};
        match self.parts.as_slice() {
            [] => Shape::Exact(""),
            [Lit(l)] => Shape::Exact(l),
            [A] => Shape::Any,
            [Lit(l), A] => Shape::Prefix(l),
            [A, Lit(l)] => Shape::Suffix(l),
            [A, Lit(l), A] => Shape::Contains(l),
            _ => Shape::Glob,
        }
    }

    /// Turn `%name%` in literal text into placeholders (`expand` modifier). `\%` is a plain `%`.
    pub fn insert_placeholders(&self) -> SigmaString {
        let mut out = SigmaString::default();
        for part in &self.parts {
            let Part::Lit(text) = part else {
                out.push_part(part.clone());
                continue;
            };
            let mut rest = text.as_str();
            while !rest.is_empty() {
                if let Some(after) = rest.strip_prefix("\\%") {
                    out.push_char('%');
                    rest = after;
                    continue;
                }
                if let Some(after) = rest.strip_prefix('%') {
                    let name_len = after
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                        .unwrap_or(after.len());
                    if name_len > 0 && after[name_len..].starts_with('%') {
                        out.push_part(Part::Placeholder(after[..name_len].to_owned()));
                        rest = &after[name_len + 1..];
                        continue;
                    }
                }
                let mut it = rest.chars();
                if let Some(c) = it.next() {
                    out.push_char(c);
                }
                rest = it.as_str();
            }
        }
        out
    }

    /// The names of the placeholders, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder(n) => Some(n.as_str()),
            _ => None,
        })
    }
}

/// Prints the string back in Sigma syntax (escaping literal `*`, `?` and `\` where needed).
impl fmt::Display for SigmaString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                Part::Lit(l) => {
                    let mut chars = l.chars().peekable();
                    while let Some(c) = chars.next() {
                        match c {
                            '*' | '?' => write!(f, "\\{c}")?,
                            // A backslash only needs escaping before a special character or at
                            // the end (where a wildcard may follow in the next part).
                            '\\' if matches!(chars.peek(), None | Some('*' | '?' | '\\')) => {
                                f.write_str("\\\\")?
                            }
                            c => write!(f, "{c}")?,
                        }
                    }
                }
                Part::AnyChars => f.write_str("*")?,
                Part::OneChar => f.write_str("?")?,
                Part::Placeholder(n) => write!(f, "%{n}%")?,
            }
        }
        Ok(())
    }
}

/// A number as written in a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: NumberValue,
    /// The text as written (`0x17`, `4688`, `1.5`).
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberValue {
    Int(i64),
    Float(f64),
}

impl NumberValue {
    pub fn as_f64(self) -> f64 {
        match self {
            NumberValue::Int(i) => i as f64,
            NumberValue::Float(f) => f,
        }
    }
}

impl Number {
    pub fn int(i: i64) -> Self {
        Number {
            value: NumberValue::Int(i),
            text: i.to_string(),
        }
    }

    /// Parse a decimal number from text (used for quoted numbers such as `gt: '5'`).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if let Ok(i) = t.parse::<i64>() {
            return Some(Number {
                value: NumberValue::Int(i),
                text: t.to_owned(),
            });
        }
        let f = t.parse::<f64>().ok().filter(|f| f.is_finite())?;
        Some(Number {
            value: NumberValue::Float(f),
            text: t.to_owned(),
        })
    }

    pub fn as_f64(&self) -> f64 {
        self.value.as_f64()
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Comparison operators (`lt`, `lte`, `gt`, `gte` modifiers and correlation conditions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
    Neq,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
            CmpOp::Eq => "eq",
            CmpOp::Neq => "neq",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Eq => "==",
            CmpOp::Neq => "!=",
        }
    }

    /// Apply the comparison `lhs <op> rhs`.
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            CmpOp::Lt => lhs < rhs,
            CmpOp::Lte => lhs <= rhs,
            CmpOp::Gt => lhs > rhs,
            CmpOp::Gte => lhs >= rhs,
            CmpOp::Eq => lhs == rhs,
            CmpOp::Neq => lhs != rhs,
        }
    }
}

/// Regular-expression flags from the `i`, `m`, `s` sub-modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegexFlags {
    pub ignore_case: bool,
    pub multi_line: bool,
    pub dot_all: bool,
}

/// A `re` value. The pattern is validated at load time; Sigma regexes are unanchored searches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Regex {
    pub pattern: String,
    pub flags: RegexFlags,
}

/// An IPv4 or IPv6 network from the `cidr` modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The network address, with host bits cleared.
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parse `a.b.c.d/n`, `x::y/n` or a single address.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .trim()
            .parse()
            .map_err(|_| format!("'{addr_text}' is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{p}' is not a prefix length between 0 and {max}"))?,
        };
        Ok(Cidr {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix) == self.addr
            }
            _ => false,
        }
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Part of a timestamp extracted by a time modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimePart {
    pub fn as_str(self) -> &'static str {
        match self {
            TimePart::Minute => "minute",
            TimePart::Hour => "hour",
            TimePart::Day => "day",
            TimePart::Week => "week",
            TimePart::Month => "month",
            TimePart::Year => "year",
        }
    }

    /// The values the part can take, for load-time checks.
    pub fn range(self) -> (i64, i64) {
        match self {
            TimePart::Minute => (0, 59),
            TimePart::Hour => (0, 23),
            TimePart::Day => (1, 31),
            TimePart::Week => (1, 53),
            TimePart::Month => (1, 12),
            TimePart::Year => (0, 9999),
        }
    }
}

/// How a `fieldref` compares the two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefMode {
    Equals,
    StartsWith,
    EndsWith,
    Contains,
}

/// A value a detection item compares a field (or, for keywords, the whole event) against.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string pattern; case-insensitive unless the item is `cased`.
    Str(SigmaString),
    /// A number written as a YAML number: equal as a number or as the same text.
    Num(Number),
    Bool(bool),
    /// `null`: the field is missing or null.
    Null,
    Regex(Regex),
    Cidr(Cidr),
    /// `lt` / `lte` / `gt` / `gte`.
    Cmp(CmpOp, Number),
    /// `exists: true|false`.
    Exists(bool),
    /// `fieldref`: compare with the value of another field of the same event.
    FieldRef(String, RefMode),
    /// A time modifier: the part of the field's timestamp equals the number.
    TimePart(TimePart, i64),
    /// Alternatives produced by one written value (`windash`, `base64offset`, placeholder
    /// expansion): any of them matches.
    AnyOf(Vec<Value>),
}

impl Value {
    /// A short name for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Num(_) => "number",
            Value::Bool(_) => "boolean",
            Value::Null => "null",
            Value::Regex(_) => "regular expression",
            Value::Cidr(_) => "network",
            Value::Cmp(..) => "comparison",
            Value::Exists(_) => "existence check",
            Value::FieldRef(..) => "field reference",
            Value::TimePart(..) => "time part",
            Value::AnyOf(_) => "expansion",
        }
    }

    /// Every leaf value (expansions flattened). A value that is not an expansion is its own
    /// leaf, without allocating (compiling thousands of rules asks this of every value).
    pub fn leaves(&self) -> impl Iterator<Item = &Value> + '_ {
        fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
            match v {
                Value::AnyOf(vs) => vs.iter().for_each(|v| walk(v, out)),
                v => out.push(v),
            }
        }
        let (one, many) = match self {
            Value::AnyOf(_) => {
                let mut out = Vec::new();
                walk(self, &mut out);
                (None, out)
            }
            v => (Some(v), Vec::new()),
        };
        one.into_iter().chain(many)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Part {
        Part::Lit(s.into())
    }

    #[test]
    fn escapes_follow_the_spec() {
        // Plain backslash not followed by a wildcard: single or double.
        assert_eq!(
            SigmaString::parse(r"C:\Windows").parts(),
            [lit(r"C:\Windows")]
        );
        assert_eq!(
            SigmaString::parse(r"C:\\Windows").parts(),
            [lit(r"C:\Windows")]
        );
        // Escaped wildcards are literal.
        assert_eq!(SigmaString::parse(r"a\*b\?").parts(), [lit("a*b?")]);
        // Escaped backslash followed by a wildcard.
        assert_eq!(
            SigmaString::parse(r"a\\*").parts(),
            [lit(r"a\"), Part::AnyChars]
        );
        // Three backslashes: backslash and literal wildcard.
        assert_eq!(SigmaString::parse(r"a\\\*").parts(), [lit(r"a\*")]);
        // Three or four backslashes are a double backslash.
        assert_eq!(SigmaString::parse(r"a\\\\b").parts(), [lit(r"a\\b")]);
        assert_eq!(SigmaString::parse(r"a\\\b").parts(), [lit(r"a\\b")]);
        // Trailing backslash stays.
        assert_eq!(SigmaString::parse(r"a\").parts(), [lit(r"a\")]);
    }

    /// The parser as first written, one character at a time: the reference for the faster one.
    fn parse_by_char(text: &str) -> SigmaString {
        let mut s = SigmaString::default();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let mut ahead = chars.clone();
                    match ahead.next() {
                        Some(n @ ('*' | '?' | '\\')) => {
                            s.push_char(n);
                            chars = ahead;
                        }
                        _ => s.push_char('\\'),
                    }
                }
                '*' => s.push_part(Part::AnyChars),
                '?' => s.push_part(Part::OneChar),
                c => s.push_char(c),
            }
        }
        s
    }

    #[test]
    fn parsing_by_runs_equals_parsing_by_character() {
        // Every string of up to 4 symbols over an alphabet of the special characters, plain
        // ASCII and multi-byte characters.
        let alphabet = ["\\", "*", "?", "a", "é", "日", "\u{1F600}"];
        let mut texts = vec![String::new()];
        let mut level = vec![String::new()];
        for _ in 0..4 {
            level = level
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(level.iter().cloned());
        }
        texts.push(r"C:\Windows\System32\*.exe".to_owned());
        texts.push(r"\\?\GLOBALROOT\Device\*".to_owned());
        for t in &texts {
            assert_eq!(SigmaString::parse(t), parse_by_char(t), "{t:?}");
        }
    }

    #[test]
    fn wildcards_and_shapes() {
        assert_eq!(SigmaString::parse("abc").shape(), Shape::Exact("abc"));
        assert_eq!(SigmaString::parse("abc*").shape(), Shape::Prefix("abc"));
        assert_eq!(SigmaString::parse("*abc").shape(), Shape::Suffix("abc"));
        assert_eq!(SigmaString::parse("*abc*").shape(), Shape::Contains("abc"));
        assert_eq!(SigmaString::parse("**").shape(), Shape::Any);
        assert_eq!(SigmaString::parse("a*c").shape(), Shape::Glob);
        assert_eq!(SigmaString::parse("a?c").shape(), Shape::Glob);
        assert_eq!(SigmaString::parse("").shape(), Shape::Exact(""));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            r"C:\Windows\*",
            r"a\\*",
            r"a\*b",
            "*x?y*",
            r"end\\",
            r"\\\\srv",
        ] {
            let parsed = SigmaString::parse(s);
            let printed = parsed.to_string();
            assert_eq!(SigmaString::parse(&printed), parsed, "{s} -> {printed}");
        }
    }

    #[test]
    fn placeholders() {
        let s = SigmaString::parse(r"\%plain%name%").insert_placeholders();
        assert_eq!(s.parts(), [lit("%plain"), Part::Placeholder("name".into())]);
        let s = SigmaString::parse("%Admins%*").insert_placeholders();
        assert_eq!(
            s.parts(),
            [Part::Placeholder("Admins".into()), Part::AnyChars]
        );
        assert_eq!(
            SigmaString::parse("50%").insert_placeholders().parts(),
            [lit("50%")]
        );
    }

    #[test]
    fn cidr_parsing_and_matching() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.1.2.3".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let c6 = Cidr::parse("fe80::/10").unwrap();
        assert!(c6.contains("fe80::1".parse().unwrap()));
        assert!(!c6.contains("fec0::1".parse().unwrap()));
        assert_eq!(Cidr::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().prefix, 0);
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0/8").is_err());
        assert!(Cidr::parse("::1/129").is_err());
        assert_eq!(Cidr::parse("1.2.3.4").unwrap().prefix, 32);
    }
}
