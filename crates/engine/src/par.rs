//! A parallel map on the machine's cores with scoped threads of its own.
//!
//! Its own threads, not a pool: the engine is compiled inside a worker of the caller's reading
//! pool, whose other workers may be blocked waiting for that very compile.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(i, item)` for every item, on all cores, results in item order. Threads take `chunk`
/// consecutive items at a time (1 for items that each cost much, more for cheap ones).
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    chunk: usize,
    f: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    let chunk = chunk.max(1);
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len().div_ceil(chunk));
    if threads <= 1 {
        return items.iter().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let start = next.fetch_add(chunk, Ordering::Relaxed);
            if start >= items.len() {
                break;
            }
            let end = (start + chunk).min(items.len());
            let out: Vec<R> = (start..end).map(|i| f(i, &items[i])).collect();
            mine.push((start, out));
        }
        mine
    };
    let mut chunks = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            all.extend(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        all
    });
    chunks.sort_unstable_by_key(|(start, _)| *start);
    chunks.into_iter().flat_map(|(_, out)| out).collect()
}

#[cfg(test)]
mod tests {
    use super::par_map;

    #[test]
    fn results_come_in_item_order_for_any_chunk() {
        let items: Vec<u32> = (0..1000).collect();
        for chunk in [0, 1, 7, 64, 5000] {
            let out = par_map(&items, chunk, |i, x| (i, x * 2));
            assert_eq!(out.len(), items.len());
            assert!(
                out.iter()
                    .enumerate()
                    .all(|(k, &(i, y))| i == k && y == 2 * k as u32)
            );
        }
        assert!(par_map(&[] as &[u32], 4, |_, x| *x).is_empty());
    }
}
