//! How much a necessary literal set narrows the events a variant is evaluated on: the
//! prefilter keeps, of the children of an `and` (and of the values of a `contains|all`, and
//! of the runs of a regex), the set whose literals are least likely to be in an event.
//!
//! A literal's rarity is estimated in bits (`-log2` of the share of a field's values that hold
//! it): the [`FREQUENT`] tokens it is made of cost what they cost (a path's
//! `\windows\system32\`, `powershell`, a registry key's `\software\`), every other byte what
//! the byte-pair model of log text ([`super::literal_set::half_bits`]) says it costs after the
//! byte before it (so `/../../` is rare, `set` is not), but no more than [`MAX_BITS_PER_BYTE`]:
//! the model is good at telling what looks like common log text, not how rare the rest is. A
//! literal searched anywhere in a value is [`CONTAINS_BITS`] less rare than one at a value's
//! start or end; a whole value is at most [`MAX_EXACT_BITS_PER_BYTE`] per byte rare (short
//! values are often a field's usual ones). A piece of a frequent token is as frequent as the
//! token.
//!
//! A set's cost is the sum of its literals' shares (about the chance that one of them is
//! found): three long literals are rarer than one frequent word, one long literal rarer than
//! three. Rarities past [`MAX_BITS`] are not told apart, and then the set with fewer literals
//! wins.

use sigma::hash::FastMap as HashMap;
use std::sync::OnceLock;

use super::Anchor;
use super::literal_set::half_bits;

/// Rarities beyond this many bits count as this many.
const MAX_BITS: f64 = 64.0;
/// A value has some 64 positions a literal may start at.
const CONTAINS_BITS: f64 = 6.0;
/// A byte the model rates is at most this rare...
const MAX_BITS_PER_BYTE: f64 = 3.0;
/// ... and in a whole value, at most this rare: a short whole value is often one of a field's
/// few usual values (an event type, an access mask, an integrity level), whatever its bytes.
const MAX_EXACT_BITS_PER_BYTE: f64 = 2.0;

/// Tokens found in a good share of the values of the Windows event fields that hold them,
/// with about how rare they are there (bits; roughly the shares seen in Sysmon, Security and
/// PowerShell logs). At each position of a literal the longest token that starts there is taken.
const FREQUENT: &[(&str, f64)] = &[
    // Paths.
    ("c:\\windows\\system32\\", 1.0),
    ("c:\\windows\\syswow64\\", 3.0),
    ("\\windows\\system32\\", 1.0),
    ("\\windows\\syswow64\\", 3.0),
    ("c:\\program files (x86)\\", 3.0),
    ("\\program files (x86)\\", 3.0),
    ("c:\\program files\\", 2.0),
    ("\\program files\\", 2.0),
    ("c:\\programdata\\", 4.0),
    ("\\appdata\\local\\temp\\", 4.0),
    ("\\appdata\\local\\", 3.0),
    ("\\appdata\\roaming\\", 3.0),
    ("\\appdata\\", 3.0),
    ("c:\\users\\", 2.0),
    ("\\users\\", 2.0),
    ("c:\\windows\\", 1.0),
    ("\\windows\\", 1.0),
    ("\\temp\\", 4.0),
    ("windowspowershell", 2.0),
    ("system32", 1.0),
    ("syswow64", 3.0),
    ("windows", 1.0),
    ("c:\\", 1.0),
    (".exe", 1.0),
    (".dll", 1.0),
    ("svchost", 2.0),
    ("cmd.exe", 3.0),
    ("cmd", 1.5),
    ("conhost.exe", 3.0),
    ("explorer.exe", 3.0),
    // Sysmon call traces and image loads.
    ("kernelbase.dll", 1.0),
    ("kernel32.dll", 1.0),
    ("ntdll.dll", 1.0),
    ("microsoft", 1.0),
    ("corporation", 1.0),
    // Registry keys and values.
    ("\\registry\\machine\\", 1.0),
    ("\\registry\\user\\", 2.0),
    ("hklm\\", 1.0),
    ("hkcu\\", 2.0),
    ("hku\\", 2.0),
    ("\\software\\", 1.0),
    ("software", 1.0),
    ("currentversion", 2.0),
    ("currentcontrolset", 3.0),
    ("controlset", 3.0),
    ("\\services\\", 4.0),
    ("\\system\\", 2.0),
    ("policies", 3.0),
    ("dword (0x0000000", 2.0),
    ("binary data", 2.0),
    // Accounts.
    ("nt authority\\system", 1.0),
    ("authority", 1.0),
    ("s-1-5-21-", 1.0),
    // The logon session of the local system account.
    ("0x3e7", 1.0),
    // PowerShell logs (`ContextInfo` names the host application in every event).
    ("host application", 1.0),
    ("powershell", 2.0),
    ("new-object", 3.0),
    // Parameter binding records of module logging (`Payload`).
    ("inputobject", 1.5),
];

/// The [`FREQUENT`] tokens by first byte, longest first.
fn tokens_by_byte() -> &'static [Vec<(&'static str, f64)>] {
    static BY_BYTE: OnceLock<Vec<Vec<(&'static str, f64)>>> = OnceLock::new();
    BY_BYTE.get_or_init(|| {
        let mut by = vec![Vec::new(); 256];
        for &(t, bits) in FREQUENT {
            by[usize::from(t.as_bytes()[0])].push((t, bits));
        }
        for list in &mut by {
            list.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        }
        by
    })
}

/// The pieces (3 bytes or more) of the [`FREQUENT`] tokens that are shorter than the token,
/// with the fewest bits of a token they are a piece of.
fn token_pieces() -> &'static HashMap<&'static [u8], f64> {
    static PIECES: OnceLock<HashMap<&'static [u8], f64>> = OnceLock::new();
    PIECES.get_or_init(|| {
        let mut pieces: HashMap<&'static [u8], f64> = HashMap::default();
        for &(t, bits) in FREQUENT {
            let t = t.as_bytes();
            for len in 3..t.len() {
                for piece in t.windows(len) {
                    let e = pieces.entry(piece).or_insert(bits);
                    *e = e.min(bits);
                }
            }
        }
        pieces
    })
}

/// Estimated rarity of a folded literal in its field's values, in bits: of a value being
/// the literal (`Exact`), starting or ending with it, or containing it somewhere.
pub(crate) fn literal_bits(anchor: Anchor, lit: &str) -> f64 {
    let b = lit.as_bytes();
    let by_byte = tokens_by_byte();
    // The tokens' bits, and the model's for the other bytes (and how many).
    let mut token_bits = 0.0;
    let mut model_bits = 0.0;
    let mut model_bytes = 0u32;
    let mut prev = None;
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        // The second byte first: most tokens sharing a first byte (`\\`) differ there, and it
        // spares a call to compare the rest (pricing literals is a twentieth of start-up).
        match by_byte[usize::from(b[i])].iter().find(|(t, _)| {
            let t = t.as_bytes();
            t.len() <= rest.len() && (t.len() < 2 || t[1] == rest[1]) && rest.starts_with(t)
        }) {
            Some((t, tb)) => {
                token_bits += tb;
                i += t.len();
                prev = t.as_bytes().last().copied();
            }
            None => {
                model_bits += f64::from(half_bits(prev, b[i])) / 2.0;
                model_bytes += 1;
                prev = Some(b[i]);
                i += 1;
            }
        }
    }
    // The model knows well what is frequent in log text, not how rare the rest is: command
    // lines and a field's usual values are rarely what most log text looks like.
    let per_byte = if anchor == Anchor::Exact {
        MAX_EXACT_BITS_PER_BYTE
    } else {
        MAX_BITS_PER_BYTE
    };
    model_bits = model_bits.min(per_byte * f64::from(model_bytes));
    // The model gives the chance of a string at one position of a text; a value has many.
    // (Short literals keep some of their bits, to rank them among themselves.)
    if anchor == Anchor::Contains {
        model_bits = (model_bits - CONTAINS_BITS).max(model_bits / 4.0);
    }
    let mut bits = token_bits + model_bits;
    // A piece of a frequent token is as frequent.
    if let Some(tb) = token_pieces().get(b) {
        bits = bits.min(*tb);
    }
    bits.min(MAX_BITS)
}

/// The estimated share of values a literal is found in (`2^-bits`, see [`literal_bits`]).
pub(crate) fn literal_share(anchor: Anchor, lit: &str) -> f64 {
    (-literal_bits(anchor, lit)).exp2()
}

/// The estimated cost of a literal set (lower is more selective): the summed shares of
/// values its literals are found in, then the number of literals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SetCost {
    share: f64,
    len: usize,
}

impl SetCost {
    pub fn of<'a>(lits: impl IntoIterator<Item = (Anchor, &'a str)>) -> SetCost {
        SetCost::of_shares(lits.into_iter().map(|(a, l)| literal_share(a, l)))
    }

    /// The cost of a set whose literals' shares ([`literal_share`]) are known.
    pub fn of_shares(shares: impl IntoIterator<Item = f64>) -> SetCost {
        let mut share = 0.0;
        let mut len = 0;
        for s in shares {
            share += s;
            len += 1;
        }
        SetCost { share, len }
    }

    /// Strictly more selective than `other`. An empty set (the node can never match) is the
    /// most selective.
    pub fn better_than(&self, other: &SetCost) -> bool {
        self.share
            .total_cmp(&other.share)
            .then(self.len.cmp(&other.len))
            .is_lt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(lit: &str) -> f64 {
        literal_bits(Anchor::Prefix, lit)
    }

    fn cost(lits: &[&str]) -> SetCost {
        SetCost::of(lits.iter().map(|l| (Anchor::Contains, *l)))
    }

    #[test]
    fn token_pieces_are_the_strict_substrings_of_three_bytes_or_more() {
        // Every piece of every token (and whole tokens, and strings around them) gets the
        // fewest bits of the longer tokens containing it, as a search of all tokens gives.
        let mut probes: Vec<String> = Vec::new();
        for (t, _) in FREQUENT {
            for i in 0..t.len() {
                for j in i + 1..=t.len() {
                    if let Some(p) = t.get(i..j) {
                        probes.push(p.to_owned());
                    }
                }
            }
            probes.push(format!("x{t}"));
        }
        for p in probes {
            let by_search = FREQUENT
                .iter()
                .filter(|(t, _)| p.len() >= 3 && t.len() > p.len() && t.contains(p.as_str()))
                .map(|(_, b)| *b)
                .reduce(f64::min);
            assert_eq!(token_pieces().get(p.as_bytes()).copied(), by_search, "{p}");
        }
    }

    #[test]
    fn frequent_tokens_and_their_pieces_are_cheap() {
        // Without the token list the byte-pair model finds `powershell` very rare.
        assert!(bits("powershell") <= 2.0);
        assert!(bits("authori") <= 1.0);
        assert!(bits("\\windows\\system32\\") <= 1.0);
        // A rare word is rarer than a frequent path around a short one.
        assert!(bits("mimikatz") > bits("c:\\windows\\system32\\cmd.exe"));
        // Runs of punctuation are rare, single separators are not.
        assert!(bits("/../../") > bits("\\cmd.exe"));
        assert!(bits("set") < bits("nslookup"));
        assert!(bits("\\lmcompatibilitylevel") > bits("controlset"));
    }

    #[test]
    fn anchors_and_short_literals() {
        let lit = "\\device\\cdrom";
        assert!(literal_bits(Anchor::Contains, lit) < literal_bits(Anchor::Prefix, lit));
        assert_eq!(
            literal_bits(Anchor::Prefix, lit),
            literal_bits(Anchor::Suffix, lit)
        );
        // A short whole value is likely one of a field's usual values.
        assert!(literal_bits(Anchor::Exact, lit) < literal_bits(Anchor::Prefix, lit));
        assert!(literal_bits(Anchor::Exact, "0x1400") < bits(":\\windows\\sysmon.exe"));
        assert!(bits("security") <= 8.0 * MAX_BITS_PER_BYTE);
        // Short literals are frequent, but not all alike.
        assert!(literal_bits(Anchor::Contains, "\\") < 1.0);
        assert!(literal_bits(Anchor::Contains, "\"") < literal_bits(Anchor::Contains, "-f"));
        assert_eq!(bits("x".repeat(100).as_str()), MAX_BITS);
    }

    #[test]
    fn a_group_of_rare_literals_beats_one_frequent_word() {
        // The `selection_reg` of "Suspicious PowerShell Invocations - Specific": the
        // `contains|all` value `powershell` (in every PowerShell event's `ContextInfo`) or any
        // of three run keys.
        let run_keys = cost(&[
            "\\software\\microsoft\\windows\\currentversion\\run",
            "\\software\\wow6432node\\microsoft\\windows\\currentversion\\run",
            "\\software\\microsoft\\windows\\currentversion\\policies\\explorer\\run",
        ]);
        let powershell = cost(&["powershell"]);
        assert!(run_keys.better_than(&powershell));
        assert!(!powershell.better_than(&run_keys));
        // Equally rare: fewer literals win.
        let one = cost(&["[convert]::frombase64string-and-more"]);
        let two = cost(&[
            "[convert]::frombase64string-and-more",
            "system.net.webclient-and-more",
        ]);
        assert!(one.better_than(&two));
        assert!(cost(&[]).better_than(&one));
        assert!(!one.better_than(&one));
    }
}
