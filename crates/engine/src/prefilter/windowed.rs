//! Large literal sets (thousands of command-line fragments, hash values; any set too large
//! for Teddy) searched by looking up windows of the text.
//!
//! Each literal of at least [`SHORT`] bytes is filed under one window of itself: 8 bytes
//! (literals of 8 bytes or more) or 4 (the others), the window the rarity model rates rarest,
//! at its offset in the literal. The search looks up the text's window at every position, in
//! a Bloom filter first (two bits of one multiplicative hash; ~32 bits a window, 512 B to
//! 16 KiB per window length), and
//! only on a hit in the table of windows; each literal filed there is
//! compared with the text where it would start. A literal occurs only where its window does,
//! so none is missed, and each one reported occurs.
//!
//! Against one automaton of the same literals this builds in a fraction of the time (a window
//! per literal, no states) and scans several times faster once the automaton outgrows the
//! caches, as it does for the SigmaHQ `CommandLine` set (6,000 literals, ~20 ns a byte).
//! Literals shorter than [`SHORT`] are left to the caller.

use sigma::hash::FastMap as HashMap;

/// Literals shorter than this have no window: the caller searches them another way.
pub(crate) const SHORT: usize = 4;
/// Bits of the Bloom filter, as a power of two: about 32 per window (under 0.5% false hits
/// with two bits per window), from 2^12 (512 bytes) to 2^17 (16 KiB, for 6,000 windows). A
/// set of a few hundred literals keeps a filter of 1-2 KiB, which stays in the L1 cache
/// next to everything else an event's search touches.
const BLOOM_BITS_MIN: u32 = 12;
const BLOOM_BITS_MAX: u32 = 17;

/// The filter's bits for `n` windows (see [`BLOOM_BITS_MIN`]).
fn bloom_bits_for(n: usize) -> u32 {
    let want = (n.max(1) * 32).next_power_of_two().trailing_zeros();
    want.clamp(BLOOM_BITS_MIN, BLOOM_BITS_MAX)
}
/// The most literals one window may hold: each is compared wherever the window occurs, so a
/// set whose literals crowd under one window (thousands of `" -x{i} "`) would be searched
/// far slower than by an automaton; such a set is not built this way (`None`).
const BUCKET_MAX: u32 = 64;

/// Windows of one length `W` (4 or 8 bytes) and the literals filed under them.
#[derive(Debug)]
struct Probe<const W: usize> {
    bloom: Vec<u64>,
    /// log2 of the filter's bits.
    bits: u32,
    /// Window (as a little-endian number) → range of `entries`.
    table: HashMap<u64, (u32, u32)>,
    /// (literal id, offset of the window in the literal), grouped by window.
    entries: Vec<(u32, u32)>,
}

impl<const W: usize> Probe<W> {
    /// `filed`: (window, literal id, offset).
    /// `Ok(None)` without literals, `Err` when one window holds more than [`BUCKET_MAX`].
    fn new(mut filed: Vec<(u64, u32, u32)>) -> Result<Option<Probe<W>>, ()> {
        if filed.is_empty() {
            return Ok(None);
        }
        filed.sort_unstable();
        // Sorted: a new window starts wherever the window changes.
        let windows = 1 + filed.windows(2).filter(|p| p[0].0 != p[1].0).count();
        let bits = bloom_bits_for(windows);
        let mut bloom = vec![0u64; 1 << (bits - 6)];
        let mut table: HashMap<u64, (u32, u32)> = HashMap::default();
        let mut entries = Vec::with_capacity(filed.len());
        for (window, id, offset) in filed {
            let at = entries.len() as u32;
            entries.push((id, offset));
            let range = table
                .entry(window)
                .and_modify(|range| range.1 = at + 1)
                .or_insert((at, at + 1));
            if range.1 - range.0 > BUCKET_MAX {
                return Err(());
            }
            for bit in bloom_bits(window, bits) {
                bloom[bit / 64] |= 1 << (bit % 64);
            }
        }
        Ok(Some(Probe {
            bloom,
            bits,
            table,
            entries,
        }))
    }

    #[inline]
    fn window(text: &[u8], at: usize) -> u64 {
        pack(&text[at..at + W])
    }

    #[inline]
    fn maybe(&self, window: u64) -> bool {
        let [a, b] = bloom_bits(window, self.bits);
        self.bloom[a / 64] & 1 << (a % 64) != 0 && self.bloom[b / 64] & 1 << (b % 64) != 0
    }

    /// Reports the literals whose window is the text's at `at` and that occur there.
    #[inline]
    fn check(&self, text: &[u8], at: usize, lits: &Literals, found: &mut impl FnMut(u32)) {
        let window = Self::window(text, at);
        if !self.maybe(window) {
            return;
        }
        let Some(&(a, b)) = self.table.get(&window) else {
            return;
        };
        for &(id, offset) in &self.entries[a as usize..b as usize] {
            let Some(start) = at.checked_sub(offset as usize) else {
                continue;
            };
            let lit = lits.bytes(id);
            // The ends first: most literals filed under a window differ there, and the
            // comparison of the whole is a call.
            if let Some(t) = text.get(start..start + lit.len())
                && t.first() == lit.first()
                && t.last() == lit.last()
                && t == lit
            {
                found(id);
            }
        }
    }

    fn memory_usage(&self) -> usize {
        self.bloom.len() * 8 + self.table.capacity() * 24 + self.entries.len() * 8
    }
}

/// A window (up to 8 bytes) as a number, little-endian: the table's key.
#[inline]
fn pack(window: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..window.len()].copy_from_slice(window);
    u64::from_le_bytes(bytes)
}

/// The two Bloom filter bits of a window.
#[inline]
fn bloom_bits(window: u64, bits: u32) -> [usize; 2] {
    let h = window.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    [
        (h >> (64 - bits)) as usize,
        ((h >> (64 - 2 * bits)) & ((1 << bits) - 1)) as usize,
    ]
}

/// The literals' bytes, by id.
#[derive(Debug)]
struct Literals {
    pool: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

impl Literals {
    #[inline]
    fn bytes(&self, id: u32) -> &[u8] {
        let (a, b) = self.spans[id as usize];
        &self.pool[a as usize..b as usize]
    }
}

/// The literals of at least [`SHORT`] bytes of a set, filed under their windows.
#[derive(Debug)]
pub(crate) struct Windowed {
    long: Option<Probe<8>>,
    short: Option<Probe<4>>,
    lits: Literals,
}

impl Windowed {
    /// The literals `keys` (ids are indices) of at least [`SHORT`] bytes, each under the
    /// window `rarest(key, w)` gives the offset of (the one least likely in text); `None` when
    /// there is none, or when a window would hold more than [`BUCKET_MAX`] literals.
    pub(crate) fn build(
        keys: &[Vec<u8>],
        rarest: impl Fn(&[u8], usize) -> usize,
    ) -> Option<Windowed> {
        let mut pool = Vec::new();
        let mut spans = Vec::with_capacity(keys.len());
        let mut long = Vec::new();
        let mut short = Vec::new();
        for (id, key) in keys.iter().enumerate() {
            let a = pool.len() as u32;
            pool.extend_from_slice(key);
            spans.push((a, pool.len() as u32));
            let w = if key.len() >= 8 {
                8
            } else if key.len() >= SHORT {
                4
            } else {
                continue;
            };
            let offset = rarest(key, w).min(key.len() - w);
            let filed = (pack(&key[offset..offset + w]), id as u32, offset as u32);
            if w == 8 {
                long.push(filed);
            } else {
                short.push(filed);
            }
        }
        if long.is_empty() && short.is_empty() {
            return None;
        }
        Some(Windowed {
            long: Probe::new(long).ok()?,
            short: Probe::new(short).ok()?,
            lits: Literals { pool, spans },
        })
    }

    /// Calls `found` with the id of every filed literal that occurs in `text` (once per
    /// occurrence).
    #[inline]
    pub(crate) fn find_all(&self, text: &[u8], found: &mut impl FnMut(u32)) {
        if let Some(p) = &self.long {
            for at in 0..text.len().saturating_sub(7) {
                p.check(text, at, &self.lits, found);
            }
        }
        if let Some(p) = &self.short {
            for at in 0..text.len().saturating_sub(SHORT - 1) {
                p.check(text, at, &self.lits, found);
            }
        }
    }

    pub(crate) fn memory_usage(&self) -> usize {
        self.long.as_ref().map_or(0, Probe::memory_usage)
            + self.short.as_ref().map_or(0, Probe::memory_usage)
            + self.lits.pool.len()
            + self.lits.spans.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::bloom_bits_for;

    #[test]
    fn the_filter_grows_with_the_windows_within_bounds() {
        // About 32 bits a window, from 512 bytes to 16 KiB.
        assert_eq!(bloom_bits_for(0), 12);
        assert_eq!(bloom_bits_for(100), 12);
        assert_eq!(bloom_bits_for(200), 13);
        assert_eq!(bloom_bits_for(4_000), 17);
        assert_eq!(bloom_bits_for(1_000_000), 17);
    }
}
