//! Reusing big buffers. A fresh megabyte from the allocator often means fresh pages from the
//! system, a page fault for every 4 KiB on first touch (measured: a third of `dump`'s CPU time
//! on the security-datasets corpus); a buffer handed back and filled again costs nothing.

use std::sync::Mutex;

/// A few spare byte buffers, shared between threads.
#[derive(Debug, Default)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// Buffers kept at most; more are freed.
    const KEEP: usize = 16;

    /// An empty pool.
    pub fn new() -> BufferPool {
        BufferPool::default()
    }

    /// An empty buffer with room for at least `capacity` bytes, reused if one is spare.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buf = self.take_as_is(capacity);
        buf.clear();
        buf
    }

    /// A buffer with room for at least `capacity` bytes, with whatever it held when it was
    /// handed back: a reader that overwrites those bytes saves zeroing them.
    pub fn take_as_is(&self, capacity: usize) -> Vec<u8> {
        let spare = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match spare {
            Some(mut buf) => {
                buf.reserve(capacity.saturating_sub(buf.len()));
                buf
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Hands a buffer back for reuse (as it is: see [`BufferPool::take_as_is`]).
    pub fn give(&self, buf: Vec<u8>) {
        if buf.capacity() == 0 {
            return;
        }
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if free.len() < Self::KEEP {
            free.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_with_their_room() {
        let pool = BufferPool::new();
        let mut buf = pool.take(1000);
        buf.extend_from_slice(b"abc");
        let pointer = buf.as_ptr();
        pool.give(buf);
        let again = pool.take(10);
        assert!(again.is_empty());
        assert!(again.capacity() >= 1000);
        assert_eq!(again.as_ptr(), pointer);
        assert!(pool.take(10).capacity() >= 10);

        // As they were, for a reader that overwrites them.
        let mut buf = pool.take(100);
        buf.extend_from_slice(b"abc");
        pool.give(buf);
        let as_is = pool.take_as_is(1000);
        assert_eq!(as_is, b"abc");
        assert!(as_is.capacity() >= 1000);
        pool.give(as_is);
        assert!(pool.take(1).is_empty());
    }
}
