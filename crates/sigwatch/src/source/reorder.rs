//! Putting batches that finish in any order back into file order.

use std::collections::BTreeMap;

/// Releases items in `(file, seq)` order: file 0's batches 0, 1, ... up to the one marked
/// `last`, then file 1's, and so on. Items that arrive early wait.
///
/// ```ignore
/// let mut order = Reorder::new();
/// order.push(batch.file, batch.seq, batch.last, rendered, |ready| write(ready));
/// ```
#[derive(Debug)]
pub struct Reorder<T> {
    next_file: usize,
    next_seq: u64,
    waiting: BTreeMap<(usize, u64), (bool, T)>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder {
            next_file: 0,
            next_seq: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> Reorder<T> {
    /// Starts at file 0, batch 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the item of batch `(file, seq)` and calls `emit` on every item that is now next in
    /// order, this one included if it is.
    pub fn push(&mut self, file: usize, seq: u64, last: bool, item: T, mut emit: impl FnMut(T)) {
        if (file, seq) != (self.next_file, self.next_seq) {
            self.waiting.insert((file, seq), (last, item));
            return;
        }
        let mut current = Some((last, item));
        while let Some((last, item)) = current {
            emit(item);
            if last {
                self.next_file += 1;
                self.next_seq = 0;
            } else {
                self.next_seq += 1;
            }
            current = self.waiting.remove(&(self.next_file, self.next_seq));
        }
    }

    /// Items waiting for an earlier one.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Every file before this one has been released whole.
    pub fn files_done(&self) -> usize {
        self.next_file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_file_then_batch_order() {
        let mut order = Reorder::new();
        let mut out = Vec::new();
        // (file, seq, last)
        let arrivals = [
            (1, 0, true),
            (0, 1, false),
            (2, 1, true),
            (0, 2, true),
            (0, 0, false),
            (2, 0, false),
        ];
        for (file, seq, last) in arrivals {
            order.push(file, seq, last, (file, seq), |item| out.push(item));
        }
        assert_eq!(out, [(0, 0), (0, 1), (0, 2), (1, 0), (2, 0), (2, 1)]);
        assert_eq!(order.waiting(), 0);
        assert_eq!(order.files_done(), 3);
    }
}
