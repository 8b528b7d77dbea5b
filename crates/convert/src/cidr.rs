//! `cidr` on keyword fields: an exact regular expression over the text of IPv4 addresses.
//!
//! The engine parses a field's text as an address (Rust's parser: four decimal octets, no
//! leading zeros, nothing around them) and tests membership. A wildcard such as `10.*` would
//! also match `10.example.org` or `10.1.2.3:445`, so the networks become expressions that
//! accept exactly the addresses of the network, written the way the parser accepts them:
//! `172.16.0.0/12` becomes `172\.(1[6-9]|2[0-9]|3[01])\.(octet)\.(octet)`.

use std::net::Ipv4Addr;

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
                &digits(a, len),
                &digits(b, len),
                &mut String::new(),
                &mut alts,
            );
        }
    }
    if alts.len() == 1 {
        alts.remove(0)
    } else {
        format!("({})", alts.join("|"))
    }
}

fn digits(n: u32, len: u32) -> Vec<u8> {
    format!("{n:0width$}", width = len as usize).into_bytes()
}

/// Patterns for the numbers between two digit strings of the same length.
fn same_length(lo: &[u8], hi: &[u8], prefix: &mut String, out: &mut Vec<String>) {
    let n = lo.len();
    if n == 0 {
        out.push(prefix.clone());
        return;
    }
    let class = |a: u8, b: u8| {
        if a == b {
            (a as char).to_string()
        } else {
            format!("[{}-{}]", a as char, b as char)
        }
    };
    let all_zero = lo[1..].iter().all(|&c| c == b'0');
    let all_nine = hi[1..].iter().all(|&c| c == b'9');
    let free = |k: usize| match k {
        0 => String::new(),
        1 => "[0-9]".to_string(),
        k => format!("[0-9]{{{k}}}"),
    };
    if lo[0] == hi[0] {
        let len = prefix.len();
        prefix.push(lo[0] as char);
        same_length(&lo[1..], &hi[1..], prefix, out);
        prefix.truncate(len);
        return;
    }
    if all_zero && all_nine {
        out.push(format!("{prefix}{}{}", class(lo[0], hi[0]), free(n - 1)));
        return;
    }
    // Low end, middle, high end.
    let mut mid_lo = lo[0];
    if all_zero {
        // The low digit's whole block is in range: fold it into the middle.
    } else {
        let len = prefix.len();
        prefix.push(lo[0] as char);
        same_length(&lo[1..], &vec![b'9'; n - 1], prefix, out);
        prefix.truncate(len);
        mid_lo = lo[0] + 1;
    }
    let mid_hi = if all_nine { hi[0] } else { hi[0] - 1 };
    if mid_lo <= mid_hi {
        out.push(format!("{prefix}{}{}", class(mid_lo, mid_hi), free(n - 1)));
    }
    if !all_nine {
        let len = prefix.len();
        prefix.push(hi[0] as char);
        same_length(&vec![b'0'; n - 1], &hi[1..], prefix, out);
        prefix.truncate(len);
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

    #[test]
    fn networks() {
        assert_eq!(
            ipv4_regex(Ipv4Addr::new(172, 16, 0, 0), 12),
            format!(
                "172\\.(1[6-9]|2[0-9]|3[0-1])\\.{0}\\.{0}",
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
