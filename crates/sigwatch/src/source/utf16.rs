//! UTF-16 text turned into UTF-8 as it is read. Windows PowerShell 5 writes UTF-16 (little
//! endian, with a byte order mark) for `>` and `Out-File`, so logs saved that way are common;
//! decoding them is a few lines and cannot fail (a bad code unit becomes U+FFFD), where a
//! "convert it first" message would leave the user to do it.

use std::io::{self, Read};

/// Byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Little,
    Big,
}

/// Code units looked at to recognise UTF-16 without a byte order mark.
const LOOK_UNITS: usize = 512;

/// Whether `head` starts UTF-16 text: by its byte order mark, or without one when nine in ten
/// of its first code units are ASCII text characters with a zero high byte (as many and as
/// early NULs as that are not found in binary data, nor in text of any 8-bit encoding).
pub(crate) fn detect(head: &[u8]) -> Option<Order> {
    // FF FE 00 00 is the UTF-32 mark: left to the binary data check.
    if head.starts_with(b"\xFF\xFE") && !head.starts_with(b"\xFF\xFE\0\0") {
        return Some(Order::Little);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Some(Order::Big);
    }
    // Most heads hold no NUL at all: not UTF-16 of ASCII text.
    memchr::memchr(0, &head[..head.len().min(2 * LOOK_UNITS)])?;
    let text = |b: u8| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let (mut units, mut little, mut big) = (0, 0, 0);
    for unit in head.chunks_exact(2).take(LOOK_UNITS) {
        units += 1;
        match (unit[0], unit[1]) {
            (low, 0) if text(low) => little += 1,
            (0, low) if text(low) => big += 1,
            _ => {}
        }
    }
    if units < 4 {
        None
    } else if little * 10 >= units * 9 {
        Some(Order::Little)
    } else if big * 10 >= units * 9 {
        Some(Order::Big)
    } else {
        None
    }
}

/// Bytes of UTF-16 read per refill.
const RAW_READ: usize = 64 * 1024;

/// Reads UTF-16 from `inner` and hands out UTF-8. A byte order mark at the start is dropped;
/// an unpaired surrogate, or an odd byte at the end, becomes U+FFFD. A read error is passed on
/// after the text decoded before it.
pub(crate) struct Decoder<R> {
    inner: R,
    order: Order,
    /// Bytes read but not decoded yet: an odd byte, or a high surrogate waiting for its pair.
    raw: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    started: bool,
    ended: bool,
}

impl<R: Read> Decoder<R> {
    pub(crate) fn new(inner: R, order: Order) -> Self {
        Decoder {
            inner,
            order,
            raw: Vec::with_capacity(RAW_READ + 4),
            out: Vec::new(),
            pos: 0,
            started: false,
            ended: false,
        }
    }

    /// Reads more UTF-16 and decodes what is complete into `out`.
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        let kept = self.raw.len();
        self.raw.resize(kept + RAW_READ, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[kept..]) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.raw.truncate(kept);
                    return Err(err);
                }
                Ok(n) => break n,
            }
        };
        self.raw.truncate(kept + n);
        if n == 0 {
            self.ended = true;
        }
        let units: Vec<u16> = self
            .raw
            .chunks_exact(2)
            .map(|pair| match self.order {
                Order::Little => u16::from_le_bytes([pair[0], pair[1]]),
                Order::Big => u16::from_be_bytes([pair[0], pair[1]]),
            })
            .collect();
        let mut whole = units.len();
        // A high surrogate at the end may be paired by the next read.
        if !self.ended && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            whole -= 1;
        }
        let mut first = 0;
        if !self.started && whole > 0 {
            self.started = true;
            if units[0] == 0xFEFF {
                first = 1;
            }
        }
        let mut utf8 = [0u8; 4];
        for c in char::decode_utf16(units[first..whole].iter().copied()) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        self.raw.drain(..whole * 2);
        if self.ended && !self.raw.is_empty() {
            // An odd byte, or a surrogate that never got its pair.
            self.raw.clear();
            self.out.extend_from_slice("\u{FFFD}".as_bytes());
        }
        Ok(())
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if self.ended {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::lines::tests::Trickle;
    use super::*;

    fn utf16(text: &str, order: Order, bom: bool) -> Vec<u8> {
        let bom = bom.then_some('\u{FEFF}');
        bom.into_iter()
            .chain(text.chars())
            .collect::<String>()
            .encode_utf16()
            .flat_map(|u| match order {
                Order::Little => u.to_le_bytes(),
                Order::Big => u.to_be_bytes(),
            })
            .collect()
    }

    /// Decodes `bytes` read `step` bytes at a time.
    fn decode(bytes: &[u8], order: Order, step: usize) -> String {
        let mut text = String::new();
        Decoder::new(Trickle(bytes, step), order)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn decodes_both_orders_whatever_the_read_sizes() {
        let text = "line one mimikatz\r\nÉvénement 😀 \u{10FFFF}\r\nend";
        for order in [Order::Little, Order::Big] {
            for bom in [false, true] {
                let bytes = utf16(text, order, bom);
                for step in [1, 2, 3, 7, 1000] {
                    assert_eq!(decode(&bytes, order, step), text, "{order:?} {bom} {step}");
                }
            }
        }
    }

    #[test]
    fn bad_code_units_become_replacement_characters() {
        // A lone low surrogate, a high one not followed by a low one, one at the end, and an
        // odd byte at the end.
        let units: [u16; 5] = [0x61, 0xDC00, 0xD800, 0x62, 0xD83D];
        let mut bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(
            decode(&bytes, Order::Little, 3),
            "a\u{FFFD}\u{FFFD}b\u{FFFD}"
        );
        bytes.push(b'x');
        assert_eq!(
            decode(&bytes, Order::Little, 4),
            "a\u{FFFD}\u{FFFD}b\u{FFFD}\u{FFFD}"
        );
        assert_eq!(decode(b"", Order::Big, 1), "");
    }

    #[test]
    fn a_read_error_comes_after_the_text_before_it() {
        let bytes = utf16("ab", Order::Little, false);
        let failing = io::Cursor::new(bytes).chain(Failing);
        let mut decoder = Decoder::new(failing, Order::Little);
        let mut buf = [0u8; 16];
        assert_eq!(decoder.read(&mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ab");
        assert!(decoder.read(&mut buf).is_err());
    }

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("cut"))
        }
    }

    #[test]
    fn recognises_utf16_by_its_mark_or_its_zero_bytes() {
        // keep/utf16le.log: what Windows PowerShell 5 writes for `>`.
        let log = "line one mimikatz\r\nline two\r\n";
        assert_eq!(
            detect(&utf16(log, Order::Little, true)),
            Some(Order::Little)
        );
        assert_eq!(
            detect(&utf16(log, Order::Little, false)),
            Some(Order::Little)
        );
        assert_eq!(detect(&utf16(log, Order::Big, true)), Some(Order::Big));
        assert_eq!(detect(&utf16(log, Order::Big, false)), Some(Order::Big));
        assert_eq!(detect(b"\xFF\xFE\0\0a\0\0\0"), None);
        assert_eq!(detect(b"plain text\n"), None);
        assert_eq!(
            detect(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0"),
            None
        );
        assert_eq!(detect(&[0; 64]), None);
        assert_eq!(detect(b"a\0"), None);
    }
}
