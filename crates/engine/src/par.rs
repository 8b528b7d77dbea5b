//! A parallel map on the machine's cores with scoped threads of its own.
//!
//! Its own threads, not a pool: the engine is compiled inside a worker of the caller's reading
//! pool, whose other workers may be blocked waiting for that very compile.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Stack of the helper threads: the main thread's 8 MiB, not a spawned thread's default 2, as
/// a rule's condition nested thousands deep is walked recursively on them.
const STACK_SIZE: usize = 8 << 20;

/// `a()` on a helper thread while `b()` runs on this one; `a()` here too, after `b()`, if no
/// thread can be made. A panic in `a` is raised here.
pub fn join<RA: Send, RB>(a: impl FnOnce() -> RA + Send, b: impl FnOnce() -> RB) -> (RA, RB) {
    let mut a = Some(a);
    let (ra, rb) = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, || a.take().map(|a| a()));
        let rb = b();
        let ra = helper.ok().and_then(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (ra, rb)
    });
    match (ra, a) {
        (Some(ra), _) => (ra, rb),
        // The spawn failed: its closure, and `a` with it, never ran.
        (None, Some(a)) => (a(), rb),
        (None, None) => unreachable!("the helper ran `a` and returned its result"),
    }
}

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
        let helpers: Vec<_> = (1..threads)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(STACK_SIZE)
                    .spawn_scoped(scope, work)
            })
            .collect();
        // A helper that could not be made leaves its share to the others (items are taken
        // from one counter).
        let mut all = work();
        for helper in helpers.into_iter().flatten() {
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
