//! Thread count (placeholder, replaced below).
use std::sync::atomic::{AtomicUsize, Ordering};
static THREADS: AtomicUsize = AtomicUsize::new(0);
/// Set the number of threads.
pub fn set_num_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}
/// The number of threads.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}
