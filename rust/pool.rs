//! The rayon pools every parallel hot path runs on, built in this one place.
//!
//! A caller names a thread count (0: every core) and gets the same pool each time it
//! names that count: building a pool costs far more than a 100k scan or a batch of
//! small checksums. Count 0 runs on rayon's global pool, one thread per core. Callers
//! release the GIL before they get here (`Python::detach` in the bindings), so the
//! pool's threads never wait for Python.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Runs `work` on a pool of `threads` threads (0: rayon's global pool, one per core).
///
/// Should a pool of that size not start (the system refuses threads), the work runs
/// on the global pool instead: slower, but the answer is the same.
pub fn with_threads<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    if threads == 0 {
        return work();
    }
    let pool = {
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match pools.get(&threads) {
            Some(pool) => Some(Arc::clone(pool)),
            None => rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .ok()
                .map(|pool| Arc::clone(pools.entry(threads).or_insert(Arc::new(pool)))),
        }
    };
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// How many threads `with_threads(threads, …)` runs on, asked before entering it.
pub fn thread_count(threads: usize) -> usize {
    if threads == 0 {
        rayon::current_num_threads()
    } else {
        threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_gets_a_pool_of_that_size_and_the_same_one_again() {
        let first = with_threads(3, || {
            (
                rayon::current_num_threads(),
                rayon::current_thread_index().is_some(),
            )
        });
        assert_eq!(first, (3, true));
        let pool_of = || with_threads(3, || std::thread::current().id());
        let seen: std::collections::HashSet<_> = (0..50).map(|_| pool_of()).collect();
        assert!(seen.len() <= 3, "{} threads for a pool of 3", seen.len());
        assert_eq!(thread_count(3), 3);
        assert_eq!(thread_count(0), rayon::current_num_threads());
        assert_eq!(with_threads(0, rayon::current_num_threads), thread_count(0));
    }
}
