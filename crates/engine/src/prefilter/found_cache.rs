//! What the prefilter found in a field's value, remembered per thread.
//!
//! Logs repeat their values: in one pass over evtx-attack-samples (8,255 events) a sixth of
//! the EventData values are distinct (`Image`: 288 in 2,954, `Company`: 19 in 2,145). The
//! literal searches of a prefilter slot ([`super::PSlot`]) are a function of the slot and of
//! the value's lower-cased text alone, so the literals found in a value are kept and a value
//! seen again is not searched again.
//!
//! The table is direct-mapped: a value takes the one entry its hash points to, replacing what
//! was there. A collision (by chance, or by values written to collide) costs a search, never
//! a wrong answer: an entry is used only when its slot and its whole text are equal. The
//! texts and literal ids live in two arenas; when either is full, everything is forgotten at
//! once. A scratch (one per thread and engine) thus holds at most ~6 MiB: the table,
//! [`TEXT_BYTES`] of values and [`IDS`] literal ids.
//!
//! Measured on both cores with all Windows rules (`hunt`, 12-16 runs each, A and B
//! alternating on a shared machine, medians of the paired ratios): 4-6% less time on
//! evtx-attack-samples read 25 times, 1-5% on security-datasets JSON lines (no event
//! repeated); peak memory 8-19 MB higher. A table of 4,096 entries gained nothing: one pass
//! holds more distinct values than that.

use std::hash::BuildHasher;

/// Entries of the table (a power of two; 1 MiB).
const ENTRIES: usize = 1 << 16;
/// Bytes of value text kept, at most, before the cache is emptied.
const TEXT_BYTES: usize = 4 << 20;
/// Literal ids kept, at most, before the cache is emptied (1 MiB).
const IDS: usize = 1 << 18;
/// Values longer than this are searched, not kept: long values (command lines, scripts) seldom
/// repeat, and each would take a good share of the arena.
pub(crate) const MAX_TEXT: usize = 512;
/// Bits of an entry's text and ids words that hold the length; the offset is above them.
const TEXT_LEN_BITS: u32 = 10;
const IDS_LEN_BITS: u32 = 14;
/// More ids than this found in one value are not kept.
const MAX_IDS: usize = (1 << IDS_LEN_BITS) - 1;
const _: () = assert!(MAX_TEXT < 1 << TEXT_LEN_BITS);
const _: () = assert!(TEXT_BYTES <= 1 << (32 - TEXT_LEN_BITS));
const _: () = assert!(IDS <= 1 << (32 - IDS_LEN_BITS));

/// 16 bytes, so that the table is as small as can be: a lookup's first cache miss is here.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// The hash's upper half (the lower one picks the entry); 0: empty (tags are stored with
    /// their lowest bit set).
    tag: u32,
    pslot: u32,
    /// Offset in the text arena and length, as `offset << TEXT_LEN_BITS | length`.
    text: u32,
    /// Offset in the ids arena and count, as `offset << IDS_LEN_BITS | count`.
    ids: u32,
}

/// A packed `(offset, length)` (see [`Entry`]) as a range.
#[inline]
fn span(word: u32, len_bits: u32) -> std::ops::Range<usize> {
    let at = (word >> len_bits) as usize;
    at..at + (word & ((1 << len_bits) - 1)) as usize
}

/// Per-thread cache of the global literal ids the prefilter found in `(slot, value)` pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct FoundCache {
    entries: Vec<Entry>,
    text: Vec<u8>,
    ids: Vec<u32>,
    hasher: foldhash::fast::RandomState,
}

impl FoundCache {
    /// The hash to look `text` up with in `pslot` (pass it to [`FoundCache::get`] and
    /// [`FoundCache::put`]).
    #[inline]
    pub(crate) fn hash(&self, pslot: u32, text: &[u8]) -> u64 {
        self.hasher.hash_one((pslot, text))
    }

    #[inline]
    fn slot_and_tag(hash: u64) -> (usize, u32) {
        (hash as usize & (ENTRIES - 1), (hash >> 32) as u32 | 1)
    }

    /// The ids found in `text` in `pslot`, if they are kept.
    #[inline]
    pub(crate) fn get(&self, hash: u64, pslot: u32, text: &[u8]) -> Option<&[u32]> {
        let (at, tag) = Self::slot_and_tag(hash);
        let e = self.entries.get(at)?;
        if e.tag != tag || e.pslot != pslot {
            return None;
        }
        let kept = self.text.get(span(e.text, TEXT_LEN_BITS))?;
        if kept != text {
            return None;
        }
        self.ids.get(span(e.ids, IDS_LEN_BITS))
    }

    /// Keeps `ids` as what was found in `text` in `pslot`.
    pub(crate) fn put(&mut self, hash: u64, pslot: u32, text: &[u8], ids: &[u32]) {
        if text.len() > MAX_TEXT || ids.len() > MAX_IDS {
            return;
        }
        if self.entries.is_empty() {
            self.entries = vec![Entry::default(); ENTRIES];
        }
        if self.text.len() + text.len() > TEXT_BYTES || self.ids.len() + ids.len() > IDS {
            self.entries.fill(Entry::default());
            self.text.clear();
            self.ids.clear();
        }
        let t0 = self.text.len() as u32;
        self.text.extend_from_slice(text);
        let i0 = self.ids.len() as u32;
        self.ids.extend_from_slice(ids);
        let (at, tag) = Self::slot_and_tag(hash);
        self.entries[at] = Entry {
            tag,
            pslot,
            text: t0 << TEXT_LEN_BITS | text.len() as u32,
            ids: i0 << IDS_LEN_BITS | ids.len() as u32,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_by_slot_and_whole_text() {
        let mut c = FoundCache::default();
        let h = c.hash(3, b"c:\\windows\\cmd.exe");
        assert_eq!(c.get(h, 3, b"c:\\windows\\cmd.exe"), None);
        c.put(h, 3, b"c:\\windows\\cmd.exe", &[7, 9]);
        assert_eq!(c.get(h, 3, b"c:\\windows\\cmd.exe"), Some(&[7, 9][..]));
        // Another slot, or another text under the same hash, is not this entry.
        assert_eq!(c.get(h, 4, b"c:\\windows\\cmd.exe"), None);
        assert_eq!(c.get(h, 3, b"c:\\windows\\cmd.exf"), None);
        // Nothing found is kept too.
        let h2 = c.hash(3, b"x");
        c.put(h2, 3, b"x", &[]);
        assert_eq!(c.get(h2, 3, b"x"), Some(&[][..]));
    }

    #[test]
    fn forgets_everything_when_full_and_skips_long_values() {
        let mut c = FoundCache::default();
        let long = vec![b'a'; MAX_TEXT + 1];
        let h = c.hash(0, &long);
        c.put(h, 0, &long, &[1]);
        assert_eq!(c.get(h, 0, &long), None);
        let first = c.hash(0, b"first");
        c.put(first, 0, b"first", &[1]);
        // Fill the text arena past its budget with distinct values.
        let mut n = 0u32;
        while c.text.len() + MAX_TEXT <= TEXT_BYTES {
            let text = format!("{n:0>500}");
            let h = c.hash(1, text.as_bytes());
            c.put(h, 1, text.as_bytes(), &[n]);
            n += 1;
        }
        let text = "y".repeat(MAX_TEXT);
        let h = c.hash(1, text.as_bytes());
        c.put(h, 1, text.as_bytes(), &[5]);
        assert!(c.text.len() <= TEXT_BYTES);
        assert_eq!(c.get(first, 0, b"first"), None);
        assert_eq!(c.get(h, 1, text.as_bytes()), Some(&[5][..]));
    }
}
