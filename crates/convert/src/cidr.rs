//! `cidr` on keyword fields: an exact regular expression over the text of addresses.
//!
//! The engine parses a field's text as an address (Rust's parser: four decimal octets, no
//! leading zeros, nothing around them) and tests membership. A wildcard such as `10.*` would
//! also match `10.example.org` or `10.1.2.3:445`, so the networks become expressions that
//! accept exactly the addresses of the network, written the way the parser accepts them:
//! `172.16.0.0/12` becomes `172\.(1[6-9]|2[0-9]|3[01])\.(octet)\.(octet)`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A whole-term Lucene expression matching exactly the textual addresses of the network.
pub fn network_regex(c: &sigma::value::Cidr) -> String {
    match c.addr {
        std::net::IpAddr::V4(a) => ipv4_regex(a, c.prefix),
        std::net::IpAddr::V6(a) => ipv6_regex(a, c.prefix),
    }
}

/// A whole-term Lucene expression matching exactly the textual IPv4 addresses in the network.
pub fn ipv4_regex(addr: Ipv4Addr, prefix: u8) -> String {
    let base = u32::from(addr);
    let size: u64 = 1u64 << (32 - u32::from(prefix.min(32)));
    let last = (u64::from(base) + size - 1) as u32;
    let (lo, hi) = (base.to_be_bytes(), last.to_be_bytes());
    let mut out = String::new();
    for i in 0..4 {
        if i > 0 {
            out.push_str("\\.");
        }
        // Octets before the first differing one are fixed; the first differing one spans a
        // range; the ones after it are free (the network is aligned).
        out.push_str(&decimal_range(lo[i], hi[i]));
    }
    out
}

/// Decimal numbers from `lo` to `hi` (both ≤ 255) without leading zeros.
pub fn decimal_range(lo: u8, hi: u8) -> String {
    if lo == hi {
        return lo.to_string();
    }
    let mut alts = Vec::new();
    for (len, min, max) in [(1u32, 0u32, 9u32), (2, 10, 99), (3, 100, 999)] {
        let (a, b) = (u32::from(lo).max(min), u32::from(hi).min(max));
        if a <= b {
            same_length(
                &digits(a, len, 10),
                &digits(b, len, 10),
                &Digits::DECIMAL,
                &mut String::new(),
                &mut alts,
            );
        }
    }
    group(alts)
}

/// Hexadecimal numbers from `lo` to `hi` written with one to four digits, leading zeros
/// allowed, in either case (an IPv6 group as Rust's parser reads it).
pub fn hex_group_range(lo: u16, hi: u16) -> String {
    if lo == 0 && hi == u16::MAX {
        return "[0-9a-fA-F]{1,4}".into();
    }
    if lo == 0 && hi == 0 {
        return "0{1,4}".into();
    }
    let mut alts = Vec::new();
    for len in 1..=4u32 {
        let max = 16u32.pow(len) - 1;
        let (a, b) = (u32::from(lo), u32::from(hi).min(max));
        if a <= b {
            same_length(
                &digits(a, len, 16),
                &digits(b, len, 16),
                &Digits::HEX,
                &mut String::new(),
                &mut alts,
            );
        }
    }
    group(alts)
}

fn group(mut alts: Vec<String>) -> String {
    if alts.len() == 1 {
        alts.remove(0)
    } else {
        format!("({})", alts.join("|"))
    }
}

/// A digit alphabet: how to write a class of digit values.
struct Digits {
    base: u8,
}

impl Digits {
    const DECIMAL: Digits = Digits { base: 10 };
    const HEX: Digits = Digits { base: 16 };

    fn max(&self) -> u8 {
        self.base - 1
    }

    /// A class for digit values `a..=b`; hex letters in both cases.
    fn class(&self, a: u8, b: u8) -> String {
        let ch = |v: u8, upper: bool| -> char {
            if v < 10 {
                (b'0' + v) as char
            } else if upper {
                (b'A' + v - 10) as char
            } else {
                (b'a' + v - 10) as char
            }
        };
        if a == b && a < 10 {
            return ch(a, false).to_string();
        }
        let mut parts = Vec::new();
        let span = |lo: u8, hi: u8, upper: bool| -> String {
            if lo == hi {
                ch(lo, upper).to_string()
            } else if hi == lo + 1 {
                format!("{}{}", ch(lo, upper), ch(hi, upper))
            } else {
                format!("{}-{}", ch(lo, upper), ch(hi, upper))
            }
        };
        if a < 10 {
            parts.push(span(a, b.min(9), false));
        }
        if b >= 10 {
            let lo = a.max(10);
            parts.push(span(lo, b, false));
            parts.push(span(lo, b, true));
        }
        format!("[{}]", parts.concat())
    }

    fn free(&self, k: usize) -> String {
        let c = self.class(0, self.max());
        match k {
            0 => String::new(),
            1 => c,
            k => format!("{c}{{{k}}}"),
        }
    }
}

/// The digit values of `n` in `base`, zero-padded to `len`.
fn digits(mut n: u32, len: u32, base: u32) -> Vec<u8> {
    let mut out = vec![0u8; len as usize];
    for d in out.iter_mut().rev() {
        *d = (n % base) as u8;
        n /= base;
    }
    out
}

/// Patterns for the numbers between two digit strings of the same length.
fn same_length(lo: &[u8], hi: &[u8], dg: &Digits, prefix: &mut String, out: &mut Vec<String>) {
    let n = lo.len();
    if n == 0 {
        out.push(prefix.clone());
        return;
    }
    if lo[0] == hi[0] {
        let len = prefix.len();
        prefix.push_str(&dg.class(lo[0], lo[0]));
        same_length(&lo[1..], &hi[1..], dg, prefix, out);
        prefix.truncate(len);
        return;
    }
    let all_zero = lo[1..].iter().all(|&c| c == 0);
    let all_max = hi[1..].iter().all(|&c| c == dg.max());
    if all_zero && all_max {
        out.push(format!(
            "{prefix}{}{}",
            dg.class(lo[0], hi[0]),
            dg.free(n - 1)
        ));
        return;
    }
    // Low end, middle, high end.
    let mut mid_lo = lo[0];
    if !all_zero {
        let len = prefix.len();
        prefix.push_str(&dg.class(lo[0], lo[0]));
        same_length(&lo[1..], &vec![dg.max(); n - 1], dg, prefix, out);
        prefix.truncate(len);
        mid_lo = lo[0] + 1;
    }
    let mid_hi = if all_max { hi[0] } else { hi[0] - 1 };
    if mid_lo <= mid_hi {
        out.push(format!(
            "{prefix}{}{}",
            dg.class(mid_lo, mid_hi),
            dg.free(n - 1)
        ));
    }
    if !all_max {
        let len = prefix.len();
        prefix.push_str(&dg.class(hi[0], hi[0]));
        same_length(&vec![0; n - 1], &hi[1..], dg, prefix, out);
        prefix.truncate(len);
    }
}

/// A whole-term Lucene expression matching exactly the textual IPv6 addresses in the network,
/// in every form Rust's parser accepts: eight groups of one to four hex digits (either case,
/// leading zeros allowed), at most one `::` standing for one or more zero groups, and the last
/// two groups optionally written as an IPv4 address.
pub fn ipv6_regex(addr: Ipv6Addr, prefix: u8) -> String {
    let prefix = u32::from(prefix.min(128));
    let base = u128::from(addr);
    let last = base | u128::MAX.checked_shr(prefix).unwrap_or(0);
    let lo = base.to_be_bytes();
    let hi = last.to_be_bytes();
    let g = |k: usize| -> (u16, u16) {
        (
            u16::from_be_bytes([lo[2 * k], lo[2 * k + 1]]),
            u16::from_be_bytes([hi[2 * k], hi[2 * k + 1]]),
        )
    };
    let groups: Vec<String> = (0..8)
        .map(|k| {
            let (a, b) = g(k);
            hex_group_range(a, b)
        })
        .collect();
    let zero_ok: Vec<bool> = (0..8).map(|k| g(k).0 == 0).collect();
    let v4 = if prefix <= 96 {
        let o = decimal_range(0, 255);
        format!("{o}\\.{o}\\.{o}\\.{o}")
    } else {
        let tail = Ipv4Addr::from(u32::from_be_bytes([lo[12], lo[13], lo[14], lo[15]]));
        ipv4_regex(tail, (prefix - 96) as u8)
    };
    let b = V6 {
        groups: &groups,
        zero_ok: &zero_ok,
        v4: &v4,
    };
    // Start: the first group, or "::" standing for groups 0..m.
    let mut alts = vec![format!("{}{}", groups[0], b.after(1, false))];
    let after_gap: Vec<String> = (1..=8)
        .take_while(|&j| zero_ok[j - 1])
        .map(|j| b.gap_end(j))
        .collect();
    if !after_gap.is_empty() {
        alts.push(format!("::{}", group(after_gap)));
    }
    group(alts)
}

struct V6<'a> {
    groups: &'a [String],
    zero_ok: &'a [bool],
    v4: &'a str,
}

impl V6<'_> {
    /// After group k-1 was written (k groups so far); `used`: the "::" was used.
    fn after(&self, k: usize, used: bool) -> String {
        if k == 8 {
            return String::new();
        }
        let mut alts = vec![format!(":{}{}", self.groups[k], self.after(k + 1, used))];
        if k == 6 {
            alts.push(format!(":{}", self.v4));
        }
        if !used {
            // "::" standing for groups k..j (at least one), then the rest.
            let ends: Vec<String> = (k + 1..=8)
                .take_while(|&j| self.zero_ok[j - 1])
                .map(|j| self.gap_end(j))
                .collect();
            if !ends.is_empty() {
                alts.push(format!("::{}", group(ends)));
            }
        }
        group(alts)
    }

    /// Right after "::" that ended before group j.
    fn gap_end(&self, j: usize) -> String {
        if j == 8 {
            return "()".into();
        }
        let mut alts = vec![format!("{}{}", self.groups[j], self.after(j + 1, true))];
        if j == 6 {
            alts.push(self.v4.to_owned());
        }
        group(alts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_range(lo: u8, hi: u8) {
        let re = regex::Regex::new(&format!("^(?:{})$", decimal_range(lo, hi))).unwrap();
        for n in 0..1000u32 {
            for text in [n.to_string(), format!("0{n}"), format!("00{n}")] {
                let want = text == n.to_string() && n >= u32::from(lo) && n <= u32::from(hi);
                assert_eq!(re.is_match(&text), want, "{lo}-{hi}: {text}");
            }
        }
    }

    #[test]
    fn decimal_ranges_are_exact() {
        for (lo, hi) in [
            (0, 255),
            (16, 31),
            (0, 9),
            (5, 123),
            (100, 199),
            (192, 192),
            (1, 254),
            (250, 255),
            (99, 100),
        ] {
            check_range(lo, hi);
        }
    }

    fn ipv6_forms(a: Ipv6Addr) -> Vec<String> {
        let g = a.segments();
        let full: Vec<String> = g.iter().map(|x| format!("{x:x}")).collect();
        let padded: Vec<String> = g.iter().map(|x| format!("{x:04X}")).collect();
        let mut v = vec![a.to_string(), full.join(":"), padded.join(":")];
        // Every possible "::" over a run of zero groups.
        for i in 0..8 {
            for j in i + 1..=8 {
                if g[i..j].iter().all(|&x| x == 0) {
                    v.push(format!("{}::{}", full[..i].join(":"), full[j..].join(":")));
                }
            }
        }
        let [.., a1, a2, a3, a4] = a.octets();
        v.push(format!("{}:{a1}.{a2}.{a3}.{a4}", full[..6].join(":")));
        v.push(format!("{}:{a1}.{a2}.{a3}.{a4}", padded[..6].join(":")));
        v
    }

    #[test]
    fn ipv6_networks_are_exact() {
        use sigma::value::Cidr;
        for net in [
            "fe80::/10",
            "fc00::/7",
            "::1/128",
            "2a01:111:f403::/48",
            "2620:1ec:d::10/128",
            "::/0",
            "64:ff9b::/96",
            "::ffff:10.0.0.0/104",
            "2001:db8::/32",
        ] {
            let c = Cidr::parse(net).unwrap();
            let std::net::IpAddr::V6(a) = c.addr else {
                panic!()
            };
            let re = regex::Regex::new(&format!("^(?:{})$", ipv6_regex(a, c.prefix))).unwrap();
            let base = u128::from(a);
            let mut probes = Vec::new();
            for d in [0u128, 1, 2, 0xffff, 1 << 40, 1 << 100, u128::MAX >> 1] {
                probes.push(base.wrapping_add(d));
                probes.push(base.wrapping_sub(d));
                let top = base | u128::MAX.checked_shr(c.prefix.into()).unwrap_or(0);
                probes.push(top);
                probes.push(top.wrapping_add(d));
            }
            probes.extend([0, 1, 0xfe80 << 112, 0xfc00 << 112, 0xffff_0a00_0001]);
            for p in probes {
                let addr = Ipv6Addr::from(p);
                for text in ipv6_forms(addr) {
                    let parsed: Option<std::net::IpAddr> = text.parse().ok();
                    let want = parsed.is_some_and(|ip| c.contains(ip));
                    assert_eq!(re.is_match(&text), want, "{net}: {text}");
                }
            }
            for bad in [
                "fe80::1%12",
                "fe80:::1",
                "1:2:3:4:5:6:7:8::",
                "00000::1",
                "fe80::1 ",
                ":",
                "",
                "::01.2.3.4",
                "1:2:3:4:5:6:7:1.2.3.4",
            ] {
                assert!(!re.is_match(bad), "{net}: {bad}");
            }
        }
    }

    #[test]
    fn hex_groups() {
        let re = regex::Regex::new(&format!("^(?:{})$", hex_group_range(0xfe80, 0xfebf))).unwrap();
        for v in 0..=0xffffu32 {
            for t in [
                format!("{v:x}"),
                format!("{v:X}"),
                format!("{v:04x}"),
                format!("0{v:x}"),
            ] {
                let ok = t.len() <= 4 && (0xfe80..=0xfebf).contains(&v);
                assert_eq!(re.is_match(&t), ok, "{t}");
            }
        }
    }

    #[test]
    fn rust_rejects_leading_zeros() {
        // The expressions rely on it.
        assert!("01.2.3.4".parse::<Ipv4Addr>().is_err());
        assert!("00000::1".parse::<Ipv6Addr>().is_err());
    }

    #[test]
    fn networks() {
        assert_eq!(
            ipv4_regex(Ipv4Addr::new(172, 16, 0, 0), 12),
            format!(
                "172\\.(1[6-9]|2[0-9]|3[01])\\.{0}\\.{0}",
                decimal_range(0, 255)
            )
        );
        assert_eq!(ipv4_regex(Ipv4Addr::new(10, 1, 2, 3), 32), "10\\.1\\.2\\.3");
        let re = regex::Regex::new(&format!(
            "^(?:{})$",
            ipv4_regex(Ipv4Addr::new(192, 168, 0, 0), 16)
        ))
        .unwrap();
        assert!(re.is_match("192.168.0.1"));
        assert!(re.is_match("192.168.255.255"));
        assert!(!re.is_match("192.168.256.1"));
        assert!(!re.is_match("192.168.01.1"));
        assert!(!re.is_match("192.169.0.1"));
        assert!(!re.is_match("192.168.0.1:80"));
    }
}
