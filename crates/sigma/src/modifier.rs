//! Value modifiers (`field|contains|all: ...`): names, validation of chains, and the conversion
//! of written values into typed [`Value`]s, applied in the written order as the specification
//! says.

use std::fmt;

use crate::value::{
    Cidr, CmpOp, Number, NumberValue, Part, RefMode, Regex, RegexFlags, SigmaString, TimePart,
    Value,
};

/// Every modifier of Sigma 2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Neq,
    Windash,
    Re,
    /// `i` / `ignorecase`
    ReIgnoreCase,
    /// `m` / `multiline`
    ReMultiLine,
    /// `s` / `dotall`
    ReDotAll,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    /// Alias of `utf16le`.
    Wide,
    Lt,
    Lte,
    Gt,
    Gte,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Cidr,
    Expand,
    FieldRef,
}

/// Modifier names as written in rules (long aliases included).
pub const MODIFIER_NAMES: &[(&str, Modifier)] = &[
    ("contains", Modifier::Contains),
    ("startswith", Modifier::StartsWith),
    ("endswith", Modifier::EndsWith),
    ("all", Modifier::All),
    ("exists", Modifier::Exists),
    ("cased", Modifier::Cased),
    ("neq", Modifier::Neq),
    ("windash", Modifier::Windash),
    ("re", Modifier::Re),
    ("i", Modifier::ReIgnoreCase),
    ("ignorecase", Modifier::ReIgnoreCase),
    ("m", Modifier::ReMultiLine),
    ("multiline", Modifier::ReMultiLine),
    ("s", Modifier::ReDotAll),
    ("dotall", Modifier::ReDotAll),
    ("base64", Modifier::Base64),
    ("base64offset", Modifier::Base64Offset),
    ("utf16le", Modifier::Utf16Le),
    ("utf16be", Modifier::Utf16Be),
    ("utf16", Modifier::Utf16),
    ("wide", Modifier::Wide),
    ("lt", Modifier::Lt),
    ("lte", Modifier::Lte),
    ("gt", Modifier::Gt),
    ("gte", Modifier::Gte),
    ("minute", Modifier::Minute),
    ("hour", Modifier::Hour),
    ("day", Modifier::Day),
    ("week", Modifier::Week),
    ("month", Modifier::Month),
    ("year", Modifier::Year),
    ("cidr", Modifier::Cidr),
    ("expand", Modifier::Expand),
    ("fieldref", Modifier::FieldRef),
];

impl Modifier {
    pub fn from_name(name: &str) -> Option<Modifier> {
        MODIFIER_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        MODIFIER_NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    fn is_regex_flag(self) -> bool {
        matches!(
            self,
            Modifier::ReIgnoreCase | Modifier::ReMultiLine | Modifier::ReDotAll
        )
    }

    fn compare_op(self) -> Option<CmpOp> {
        Some(match self {
            Modifier::Lt => CmpOp::Lt,
            Modifier::Lte => CmpOp::Lte,
            Modifier::Gt => CmpOp::Gt,
            Modifier::Gte => CmpOp::Gte,
            _ => return None,
        })
    }

    fn time_part(self) -> Option<TimePart> {
        Some(match self {
            Modifier::Minute => TimePart::Minute,
            Modifier::Hour => TimePart::Hour,
            Modifier::Day => TimePart::Day,
            Modifier::Week => TimePart::Week,
            Modifier::Month => TimePart::Month,
            Modifier::Year => TimePart::Year,
            _ => return None,
        })
    }

    fn is_encoding(self) -> bool {
        matches!(
            self,
            Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16 | Modifier::Wide
        )
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value as written in the rule, before modifiers.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
}

impl RawValue {
    /// The value of a YAML scalar (numbers keep their text); `None` for a sequence or a map,
    /// which the caller reports in its own words.
    pub fn of_scalar(n: &crate::yaml::Node) -> Option<RawValue> {
        use crate::yaml::Value as Y;
        Some(match &n.value {
            Y::Str(s, _) => RawValue::Str(s.clone()),
            Y::Int(i, t) => RawValue::Num(Number {
                value: NumberValue::Int(*i),
                text: t.to_string(),
            }),
            Y::Float(f, t) => RawValue::Num(Number {
                value: NumberValue::Float(*f),
                text: t.to_string(),
            }),
            Y::Bool(b, _) => RawValue::Bool(*b),
            Y::Null => RawValue::Null,
            Y::Seq(_) | Y::Map(_) => return None,
        })
    }
}

/// How the values of one detection item combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Link {
    /// Any value matches (lists are OR).
    #[default]
    Any,
    /// Every value must match (`all`).
    All,
}

/// What a modifier chain does to an item as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemFlags {
    pub link: Link,
    /// `neq`: the item matches when the field is different from the values.
    pub negated: bool,
    /// `cased`: string comparison is case-sensitive.
    pub cased: bool,
}

/// An error in a modifier chain or value: the message and which modifier (by index in the
/// chain) or value (by index in the value list) it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct ModifierError {
    pub message: String,
    pub at: ErrorAt,
    pub help: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAt {
    /// The n-th modifier of the chain.
    Modifier(usize),
    /// The n-th value.
    Value(usize),
    /// The item as a whole.
    Item,
}

fn err(at: ErrorAt, message: impl Into<String>) -> ModifierError {
    ModifierError {
        message: message.into(),
        at,
        help: None,
    }
}

/// Check that a modifier chain is meaningful, independent of the values.
pub fn validate_chain(mods: &[Modifier], has_field: bool) -> Result<ItemFlags, ModifierError> {
    let mut flags = ItemFlags::default();
    let position_of = |m: Modifier| mods.iter().position(|x| *x == m);
    for (i, m) in mods.iter().enumerate() {
        if mods[..i].contains(m)
            || (matches!(m, Modifier::Wide | Modifier::Utf16Le)
                && mods[..i]
                    .iter()
                    .any(|x| matches!(x, Modifier::Wide | Modifier::Utf16Le)))
        {
            return Err(err(
                ErrorAt::Modifier(i),
                format!("modifier '{m}' is repeated"),
            ));
        }
        match m {
            Modifier::All => flags.link = Link::All,
            Modifier::Neq => flags.negated = true,
            Modifier::Cased => flags.cased = true,
            _ => {}
        }
    }
    let first_type = mods.iter().position(|m| {
        matches!(
            m,
            Modifier::Re | Modifier::Cidr | Modifier::Exists | Modifier::FieldRef
        ) || m.compare_op().is_some()
            || m.time_part().is_some()
    });
    if let Some(t) = first_type {
        let ty = mods[t];
        // Only one type modifier per chain.
        if let Some(j) = mods.iter().enumerate().position(|(j, m)| {
            j != t
                && (matches!(
                    m,
                    Modifier::Re | Modifier::Cidr | Modifier::Exists | Modifier::FieldRef
                ) || m.compare_op().is_some()
                    || (m.time_part().is_some() && ty.time_part().is_none()))
        }) {
            return Err(err(
                ErrorAt::Modifier(j),
                format!("modifier '{}' cannot be combined with '{ty}'", mods[j]),
            ));
        }
        let allowed_with: &[Modifier] = match ty {
            Modifier::Re => &[
                Modifier::ReIgnoreCase,
                Modifier::ReMultiLine,
                Modifier::ReDotAll,
                Modifier::All,
                Modifier::Neq,
                Modifier::Contains,
                Modifier::StartsWith,
                Modifier::EndsWith,
                Modifier::Expand,
            ],
            Modifier::Cidr => &[Modifier::All, Modifier::Neq],
            Modifier::Exists => &[],
            Modifier::FieldRef => &[
                Modifier::Neq,
                Modifier::All,
                Modifier::Cased,
                Modifier::Contains,
                Modifier::StartsWith,
                Modifier::EndsWith,
            ],
            // Comparisons and time parts.
            _ => &[Modifier::All, Modifier::Neq],
        };
        for (j, m) in mods.iter().enumerate() {
            if j != t
                && !allowed_with.contains(m)
                && !(ty.time_part().is_some() && m.time_part().is_some())
            {
                let msg = if ty == Modifier::Exists {
                    "'exists' must be the only modifier".to_string()
                } else {
                    format!("modifier '{m}' cannot be combined with '{ty}'")
                };
                return Err(err(ErrorAt::Modifier(j), msg));
            }
        }
        if matches!(ty, Modifier::Re | Modifier::Cidr) && t != 0 {
            return Err(err(
                ErrorAt::Modifier(t),
                format!("'{ty}' must be the first modifier: it applies to the value as written"),
            ));
        }
        if ty == Modifier::Exists && !has_field {
            return Err(err(
                ErrorAt::Modifier(t),
                "'exists' needs a field name; keywords cannot be checked for existence",
            ));
        }
        if ty == Modifier::FieldRef && !has_field {
            return Err(err(ErrorAt::Modifier(t), "'fieldref' needs a field name"));
        }
        if ty == Modifier::FieldRef
            && let Some(j) = mods[..t].iter().position(|m| {
                matches!(
                    m,
                    Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
                )
            })
        {
            return Err(err(
                ErrorAt::Modifier(j),
                format!("'{}' must come after 'fieldref'", mods[j]),
            ));
        }
        if ty.time_part().is_some()
            && let Some(j) = mods
                .iter()
                .enumerate()
                .position(|(j, m)| j != t && m.time_part().is_some())
        {
            return Err(err(
                ErrorAt::Modifier(j),
                format!("modifier '{}' cannot be combined with '{ty}'", mods[j]),
            ));
        }
    }
    for (i, m) in mods.iter().enumerate() {
        if m.is_regex_flag() && position_of(Modifier::Re).is_none_or(|r| r > i) {
            return Err(err(
                ErrorAt::Modifier(i),
                format!("regular expression flag '{m}' needs a preceding 're'"),
            ));
        }
    }
    let anchors: Vec<usize> = mods
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            matches!(
                m,
                Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
            )
        })
        .map(|(i, _)| i)
        .collect();
    if anchors.len() > 1 {
        return Err(err(
            ErrorAt::Modifier(anchors[1]),
            format!(
                "'{}' conflicts with '{}'",
                mods[anchors[1]], mods[anchors[0]]
            ),
        ));
    }
    if flags.cased && position_of(Modifier::Re).is_some() {
        let at = position_of(Modifier::Cased).unwrap_or(0);
        return Err(err(
            ErrorAt::Modifier(at),
            "'cased' has no meaning with 're' (regular expressions are case-sensitive unless 'i')",
        ));
    }
    // Encodings must be followed by base64 to mean anything for non-ASCII text; checked per
    // value. Their order relative to base64 matters: an encoding after base64 is an error.
    if let Some(b) = mods
        .iter()
        .position(|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset))
    {
        if let Some(e) = mods[b..].iter().position(|m| m.is_encoding()) {
            return Err(err(
                ErrorAt::Modifier(b + e),
                format!(
                    "'{}' after '{}' would re-encode base64 text; put the encoding first",
                    mods[b + e],
                    mods[b]
                ),
            ));
        }
        if let Some(w) = mods[..b].iter().position(|m| {
            matches!(
                m,
                Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith | Modifier::Windash
            )
        }) {
            return Err(err(
                ErrorAt::Modifier(w),
                format!(
                    "'{}' before '{}' would encode wildcards; put it after",
                    mods[w], mods[b]
                ),
            ));
        }
        if mods.contains(&Modifier::Base64) && mods.contains(&Modifier::Base64Offset) {
            return Err(err(
                ErrorAt::Modifier(b),
                "'base64' and 'base64offset' cannot be combined",
            ));
        }
    }
    Ok(flags)
}

/// A value being transformed: a string may have become bytes (after an encoding modifier).
#[derive(Debug, Clone)]
enum Work {
    Str(SigmaString),
    /// Encoded text; only plain literals can be encoded, so this is raw bytes.
    Bytes(Vec<u8>),
    Many(Vec<Work>),
}

/// Apply a validated modifier chain to the written values of one item, in order.
pub fn apply(mods: &[Modifier], values: &[RawValue]) -> Result<Vec<Value>, ModifierError> {
    let mut out = Vec::with_capacity(values.len());
    for (vi, raw) in values.iter().enumerate() {
        let at = ErrorAt::Value(vi);
        let v = apply_one(mods, raw).map_err(|mut e| {
            if e.at == ErrorAt::Item {
                e.at = at;
            }
            e
        })?;
        out.push(v);
    }
    Ok(out)
}

fn apply_one(mods: &[Modifier], raw: &RawValue) -> Result<Value, ModifierError> {
    let item = ErrorAt::Item;
    // Type modifiers look at the value as written.
    let ty = mods.iter().find(|m| {
        matches!(
            m,
            Modifier::Re | Modifier::Cidr | Modifier::Exists | Modifier::FieldRef
        ) || m.compare_op().is_some()
            || m.time_part().is_some()
    });
    match ty {
        Some(Modifier::Exists) => {
            return match raw {
                RawValue::Bool(b) => Ok(Value::Exists(*b)),
                RawValue::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Exists(true)),
                RawValue::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Exists(false)),
                _ => Err(err(item, "'exists' takes true or false")),
            };
        }
        Some(Modifier::Re) => {
            let RawValue::Str(pattern) = raw else {
                return Err(err(item, "'re' needs a string (the regular expression)"));
            };
            let mut flags = RegexFlags::default();
            for m in mods {
                match m {
                    Modifier::ReIgnoreCase => flags.ignore_case = true,
                    Modifier::ReMultiLine => flags.multi_line = true,
                    Modifier::ReDotAll => flags.dot_all = true,
                    _ => {}
                }
            }
            check_regex(pattern, flags).map_err(|m| err(item, m))?;
            if mods.contains(&Modifier::Expand) && pattern.contains('%') {
                return Err(err(
                    item,
                    "placeholders inside regular expressions are not supported",
                ));
            }
            return Ok(Value::Regex(Regex {
                pattern: pattern.clone(),
                flags,
            }));
        }
        Some(Modifier::Cidr) => {
            let text = match raw {
                RawValue::Str(s) => s.as_str(),
                _ => return Err(err(item, "'cidr' needs a network such as '10.0.0.0/8'")),
            };
            return Cidr::parse(text)
                .map(Value::Cidr)
                .map_err(|m| err(item, format!("not a network: {m}")));
        }
        Some(Modifier::FieldRef) => {
            let name = match raw {
                RawValue::Str(s) => s,
                _ => return Err(err(item, "'fieldref' needs a field name")),
            };
            if name.is_empty() || name.contains(['*', '?']) {
                return Err(err(
                    item,
                    "a field reference must be a plain field name (no wildcards)",
                ));
            }
            let mode = if mods.contains(&Modifier::Contains) {
                RefMode::Contains
            } else if mods.contains(&Modifier::StartsWith) {
                RefMode::StartsWith
            } else if mods.contains(&Modifier::EndsWith) {
                RefMode::EndsWith
            } else {
                RefMode::Equals
            };
            return Ok(Value::FieldRef(name.clone(), mode));
        }
        Some(m) => {
            let n = match raw {
                RawValue::Num(n) => n.clone(),
                RawValue::Str(s) => Number::parse(s)
                    .ok_or_else(|| err(item, format!("'{m}' needs a number, not '{s}'")))?,
                RawValue::Bool(_) | RawValue::Null => {
                    return Err(err(item, format!("'{m}' needs a number")));
                }
            };
            if let Some(op) = m.compare_op() {
                return Ok(Value::Cmp(op, n));
            }
            if let Some(part) = m.time_part() {
                let NumberValue::Int(i) = n.value else {
                    return Err(err(item, format!("'{m}' needs a whole number")));
                };
                let (lo, hi) = part.range();
                if i < lo || i > hi {
                    return Err(err(
                        item,
                        format!("'{m}' is between {lo} and {hi}, not {i}"),
                    ));
                }
                return Ok(Value::TimePart(part, i));
            }
        }
        None => {}
    }

    let string_mods = mods
        .iter()
        .any(|m| !matches!(m, Modifier::All | Modifier::Neq));
    let mut w = match raw {
        RawValue::Str(s) => Work::Str(SigmaString::parse(s)),
        // A number with string modifiers is the text as written.
        RawValue::Num(n) if string_mods => Work::Str(SigmaString::parse(&n.text)),
        RawValue::Num(n) => return Ok(Value::Num(n.clone())),
        RawValue::Bool(b) if !string_mods => return Ok(Value::Bool(*b)),
        RawValue::Null if !string_mods => return Ok(Value::Null),
        RawValue::Bool(_) | RawValue::Null => {
            let m = mods
                .iter()
                .find(|m| !matches!(m, Modifier::All | Modifier::Neq))
                .map_or("?", |m| m.name());
            return Err(err(
                item,
                format!(
                    "modifier '{m}' applies to strings, not to {}",
                    match raw {
                        RawValue::Null => "null",
                        _ => "a boolean",
                    }
                ),
            ));
        }
    };
    for m in mods {
        w = step(*m, w)?;
    }
    finish(w)
}

fn step(m: Modifier, w: Work) -> Result<Work, ModifierError> {
    let item = ErrorAt::Item;
    if let Work::Many(ws) = w {
        return ws
            .into_iter()
            .map(|w| step(m, w))
            .collect::<Result<Vec<_>, _>>()
            .map(Work::Many);
    }
    Ok(match m {
        Modifier::All | Modifier::Neq | Modifier::Cased => w,
        Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith => {
            let mut s = match w {
                Work::Str(s) => s,
                Work::Bytes(b) => {
                    SigmaString::literal(&bytes_to_text(&b).map_err(|e| err(item, e))?)
                }
                Work::Many(_) => return Ok(w),
            };
            if m != Modifier::StartsWith {
                s.prepend_any();
            }
            if m != Modifier::EndsWith {
                s.append_any();
            }
            Work::Str(s)
        }
        Modifier::Windash => match w {
            Work::Str(s) => {
                let variants = windash(&s).map_err(|e| err(item, e))?;
                if variants.len() == 1 {
                    Work::Str(s)
                } else {
                    Work::Many(variants.into_iter().map(Work::Str).collect())
                }
            }
            other => {
                return Err(err(
                    item,
                    format!("'windash' needs text, got {}", work_kind(&other)),
                ));
            }
        },
        Modifier::Utf16Le | Modifier::Wide | Modifier::Utf16Be | Modifier::Utf16 => {
            let text = match &w {
                Work::Str(s) => plain_for_encoding(s, m)?,
                other => {
                    return Err(err(
                        item,
                        format!("'{m}' needs text, got {}", work_kind(other)),
                    ));
                }
            };
            let mut bytes = Vec::with_capacity(text.len() * 2 + 2);
            if m == Modifier::Utf16 {
                bytes.extend_from_slice(&[0xFF, 0xFE]);
            }
            for unit in text.encode_utf16() {
                let pair = if m == Modifier::Utf16Be {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                };
                bytes.extend_from_slice(&pair);
            }
            Work::Bytes(bytes)
        }
        Modifier::Base64 | Modifier::Base64Offset => {
            let bytes = match w {
                Work::Str(s) => plain_for_encoding(&s, m)?.into_bytes(),
                Work::Bytes(b) => b,
                other => {
                    return Err(err(
                        item,
                        format!("'{m}' needs text, got {}", work_kind(&other)),
                    ));
                }
            };
            if m == Modifier::Base64 {
                Work::Str(SigmaString::literal(&base64_encode(&bytes)))
            } else {
                Work::Many(
                    base64_offsets(&bytes)
                        .into_iter()
                        .map(|s| Work::Str(SigmaString::literal(&s)))
                        .collect(),
                )
            }
        }
        Modifier::Expand => match w {
            Work::Str(s) => {
                let expanded = s.insert_placeholders();
                Work::Str(expanded)
            }
            other => other,
        },
        // Type modifiers were handled before the transformation chain; flags by `re`.
        _ => w,
    })
}

fn work_kind(w: &Work) -> &'static str {
    match w {
        Work::Str(_) => "text",
        Work::Bytes(_) => "encoded bytes",
        Work::Many(_) => "an expansion",
    }
}

fn plain_for_encoding(s: &SigmaString, m: Modifier) -> Result<String, ModifierError> {
    s.as_plain().map(str::to_owned).ok_or_else(|| {
        err(
            ErrorAt::Item,
            format!(
                "'{m}' cannot encode wildcards or placeholders; escape them or drop the wildcard"
            ),
        )
    })
}

/// Bytes left after an encoding without base64 must still be text to be compared with fields.
fn bytes_to_text(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| {
        "UTF-16 encoded non-ASCII text can only be matched after 'base64' or 'base64offset'"
            .to_string()
    })
}

fn finish(w: Work) -> Result<Value, ModifierError> {
    Ok(match w {
        Work::Str(s) => Value::Str(s),
        Work::Bytes(b) => Value::Str(SigmaString::literal(
            &bytes_to_text(&b).map_err(|e| err(ErrorAt::Item, e))?,
        )),
        Work::Many(ws) => {
            let mut vs = Vec::with_capacity(ws.len());
            for w in ws {
                match finish(w)? {
                    Value::AnyOf(inner) => vs.extend(inner),
                    v => vs.push(v),
                }
            }
            Value::AnyOf(vs)
        }
    })
}

/// Characters that `windash` treats as interchangeable.
pub const WINDASH_CHARS: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

const MAX_WINDASH_VARIANTS: usize = 5usize.pow(5);

/// All variants of a string where each dash or slash that starts a word (a command-line flag
/// such as `-enc` or `/c`) is replaced by each of the interchangeable characters.
pub fn windash(s: &SigmaString) -> Result<Vec<SigmaString>, String> {
    let mut variants: Vec<Vec<Part>> = vec![Vec::new()];
    for part in s.parts() {
        let Part::Lit(text) = part else {
            variants.iter_mut().for_each(|v| v.push(part.clone()));
            continue;
        };
        let chars: Vec<char> = text.chars().collect();
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        let mut seg = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev_is_word = i > 0 && is_word(chars[i - 1]);
            let next_is_word = chars.get(i + 1).is_some_and(|n| is_word(*n));
            if WINDASH_CHARS.contains(&c) && !prev_is_word && next_is_word {
                let mut next = Vec::with_capacity(variants.len() * WINDASH_CHARS.len());
                for v in &variants {
                    for d in WINDASH_CHARS {
                        let mut nv = v.clone();
                        nv.push(Part::Lit(format!("{seg}{d}")));
                        next.push(nv);
                    }
                }
                if next.len() > MAX_WINDASH_VARIANTS {
                    return Err(format!(
                        "'windash' would create more than {MAX_WINDASH_VARIANTS} variants; split the value"
                    ));
                }
                variants = next;
                seg.clear();
            } else {
                seg.push(c);
            }
        }
        if !seg.is_empty() {
            variants
                .iter_mut()
                .for_each(|v| v.push(Part::Lit(seg.clone())));
        }
    }
    Ok(variants.into_iter().map(SigmaString::from_parts).collect())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// The three base64 forms of `data` as it would appear at byte offsets 0, 1 and 2 of a longer
/// encoded text, trimmed to the characters that do not depend on the neighbouring bytes.
pub fn base64_offsets(data: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(data);
            let enc = base64_encode(&padded);
            let end = enc.len().saturating_sub(END_TRIM[(data.len() + i) % 3]);
            enc.get(START[i]..end).unwrap_or("").to_owned()
        })
        .collect()
}

/// Validate a Sigma regular expression: it must parse in the dialect the engine runs (Rust
/// `regex` syntax, which covers the PCRE subset the specification allows), with its flags.
pub fn check_regex(pattern: &str, flags: RegexFlags) -> Result<(), String> {
    let mut parser = regex_syntax::ParserBuilder::new()
        .case_insensitive(flags.ignore_case)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .build();
    parser.parse(pattern).map(|_| ()).map_err(|e| {
        // regex_syntax's message spans several lines with its own caret; keep the gist.
        let text = e.to_string();
        let gist = text
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map(|l| l.trim_start_matches("error:").trim().to_owned())
            .unwrap_or(text);
        format!("invalid regular expression: {gist}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> RawValue {
        RawValue::Str(v.into())
    }

    fn chain(names: &[&str]) -> Vec<Modifier> {
        names
            .iter()
            .map(|n| Modifier::from_name(n).unwrap())
            .collect()
    }

    fn run(names: &[&str], raw: RawValue) -> Result<Value, ModifierError> {
        let mods = chain(names);
        validate_chain(&mods, true)?;
        apply(&mods, &[raw]).map(|mut v| v.remove(0))
    }

    fn text(v: &Value) -> String {
        match v {
            Value::Str(s) => s.to_string(),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn contains_startswith_endswith() {
        assert_eq!(text(&run(&["contains"], s("abc")).unwrap()), "*abc*");
        assert_eq!(text(&run(&["startswith"], s("abc")).unwrap()), "abc*");
        assert_eq!(text(&run(&["endswith"], s("abc")).unwrap()), "*abc");
        // Existing wildcards are not doubled.
        assert_eq!(text(&run(&["contains"], s("*abc")).unwrap()), "*abc*");
        // Numbers become their text.
        assert_eq!(
            text(&run(&["contains"], RawValue::Num(Number::int(42))).unwrap()),
            "*42*"
        );
        assert!(run(&["contains", "endswith"], s("a")).is_err());
        assert!(run(&["contains"], RawValue::Null).is_err());
    }

    #[test]
    fn all_and_neq_and_cased_are_item_flags() {
        let f = validate_chain(&chain(&["contains", "all"]), true).unwrap();
        assert_eq!(f.link, Link::All);
        let f = validate_chain(&chain(&["neq"]), true).unwrap();
        assert!(f.negated);
        let f = validate_chain(&chain(&["cased"]), true).unwrap();
        assert!(f.cased);
        assert!(validate_chain(&chain(&["all", "all"]), true).is_err());
    }

    #[test]
    fn exists() {
        assert_eq!(
            run(&["exists"], RawValue::Bool(true)).unwrap(),
            Value::Exists(true)
        );
        assert_eq!(
            run(&["exists"], RawValue::Bool(false)).unwrap(),
            Value::Exists(false)
        );
        assert!(run(&["exists"], s("maybe")).is_err());
        assert!(validate_chain(&chain(&["exists", "contains"]), true).is_err());
        assert!(validate_chain(&chain(&["exists"]), false).is_err());
    }

    #[test]
    fn windash_variants() {
        let v = run(&["windash"], s("-enc")).unwrap();
        let Value::AnyOf(vs) = v else { panic!() };
        let texts: Vec<String> = vs.iter().map(text).collect();
        assert_eq!(
            texts,
            ["-enc", "/enc", "\u{2013}enc", "\u{2014}enc", "\u{2015}enc"]
        );
        // Only dashes that start a word: "a-b" is left alone, " -x /y" has two.
        let Value::Str(_) = run(&["windash"], s("a-b")).unwrap() else {
            panic!()
        };
        let Value::AnyOf(vs) = run(&["windash", "contains"], s(" -x /y")).unwrap() else {
            panic!()
        };
        assert_eq!(vs.len(), 25);
        assert!(vs.iter().map(text).any(|t| t == "* /x -y*"));
    }

    #[test]
    fn re_and_flags() {
        let v = run(&["re", "i"], s("a.*b")).unwrap();
        assert_eq!(
            v,
            Value::Regex(Regex {
                pattern: "a.*b".into(),
                flags: RegexFlags {
                    ignore_case: true,
                    ..Default::default()
                }
            })
        );
        assert!(run(&["re"], s("a(b")).is_err());
        assert!(validate_chain(&chain(&["i"]), true).is_err());
        assert!(validate_chain(&chain(&["contains", "re"]), true).is_err());
        assert!(validate_chain(&chain(&["re", "cased"]), true).is_err());
        assert!(validate_chain(&chain(&["re", "m", "s"]), true).is_ok());
    }

    #[test]
    fn base64_and_offsets() {
        assert_eq!(text(&run(&["base64"], s("cmd")).unwrap()), "Y21k");
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        // The three offsets of "http://" appear in encodings of the text at any position.
        let variants = base64_offsets(b"http://");
        for prefix in ["", "x", "xy", "xyz"] {
            let whole = base64_encode(format!("{prefix}http://trail").as_bytes());
            assert!(
                variants.iter().any(|v| whole.contains(v.as_str())),
                "{prefix}: {variants:?} {whole}"
            );
        }
        let Value::AnyOf(vs) = run(&["base64offset", "contains"], s("http://")).unwrap() else {
            panic!()
        };
        assert_eq!(vs.len(), 3);
        assert!(text(&vs[0]).starts_with('*'));
        assert!(run(&["base64"], s("a*")).is_err());
        assert!(validate_chain(&chain(&["contains", "base64"]), true).is_err());
    }

    #[test]
    fn utf16_encodings() {
        assert_eq!(
            text(&run(&["wide", "base64"], s("cmd")).unwrap()),
            base64_encode(b"c\0m\0d\0")
        );
        assert_eq!(
            text(&run(&["utf16le", "base64"], s("cmd")).unwrap()),
            base64_encode(b"c\0m\0d\0")
        );
        assert_eq!(
            text(&run(&["utf16be", "base64"], s("cmd")).unwrap()),
            base64_encode(b"\0c\0m\0d")
        );
        assert_eq!(
            text(&run(&["utf16", "base64"], s("cmd")).unwrap()),
            base64_encode(b"\xff\xfec\0m\0d\0")
        );
        // Without base64 the NUL-interleaved text is matched as is (ASCII only).
        assert_eq!(text(&run(&["wide"], s("ab")).unwrap()), "a\0b\0");
        assert!(run(&["wide"], s("é")).is_err());
        assert!(run(&["wide", "base64"], s("é")).is_ok());
        assert!(validate_chain(&chain(&["base64", "wide"]), true).is_err());
    }

    #[test]
    fn comparisons_and_time_parts() {
        assert_eq!(
            run(&["gte"], RawValue::Num(Number::int(5))).unwrap(),
            Value::Cmp(CmpOp::Gte, Number::int(5))
        );
        assert!(matches!(
            run(&["lt"], s("10")).unwrap(),
            Value::Cmp(CmpOp::Lt, _)
        ));
        assert!(run(&["gt"], s("ten")).is_err());
        assert!(run(&["gt"], RawValue::Bool(true)).is_err());
        assert_eq!(
            run(&["hour"], RawValue::Num(Number::int(3))).unwrap(),
            Value::TimePart(TimePart::Hour, 3)
        );
        assert!(run(&["hour"], RawValue::Num(Number::int(24))).is_err());
        assert!(run(&["month"], RawValue::Num(Number::int(0))).is_err());
        assert!(validate_chain(&chain(&["gt", "contains"]), true).is_err());
        assert!(validate_chain(&chain(&["gt", "lt"]), true).is_err());
    }

    #[test]
    fn cidr() {
        assert!(matches!(
            run(&["cidr"], s("10.0.0.0/8")).unwrap(),
            Value::Cidr(_)
        ));
        assert!(matches!(
            run(&["cidr"], s("fe80::/10")).unwrap(),
            Value::Cidr(_)
        ));
        assert!(run(&["cidr"], s("10.0.0.0/40")).is_err());
        assert!(run(&["cidr"], s("not-a-net")).is_err());
        assert!(validate_chain(&chain(&["contains", "cidr"]), true).is_err());
    }

    #[test]
    fn expand_and_fieldref() {
        let Value::Str(v) = run(&["expand"], s("%Admins%")).unwrap() else {
            panic!()
        };
        assert_eq!(v.placeholders().collect::<Vec<_>>(), ["Admins"]);
        assert_eq!(
            run(&["fieldref"], s("TargetUser")).unwrap(),
            Value::FieldRef("TargetUser".into(), RefMode::Equals)
        );
        assert_eq!(
            run(&["fieldref", "endswith"], s("TargetUser")).unwrap(),
            Value::FieldRef("TargetUser".into(), RefMode::EndsWith)
        );
        assert!(run(&["fieldref"], s("a*")).is_err());
        assert!(validate_chain(&chain(&["fieldref", "neq"]), true).is_ok());
    }
}
