//! The thread count, and the two ways kernels cut work into pieces that run in parallel.
//!
//! Why results do not depend on the thread count: a job is a list of tasks `0..n`, and task `t`
//! always does the same work, whichever thread runs it. The callers split work so that every
//! output element is computed by one task with the same arithmetic it would have alone (the
//! matrix products split the output's rows or columns, never the sum over `k`; element-wise
//! loops split the elements). No task adds into another's result. Same seed, same weights,
//! bit for bit, with 1 thread or 8, on a given machine (a CPU with AVX-512 takes other matrix
//! kernels than one with only AVX2, and those round differently).
//!
//! The threads themselves are a small pool of our own (`pool.rs` says why).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The setting; 0 means "not set": use the machine's cores.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Set how many threads lazarus uses for matrix products and parallel element-wise work, like
/// PyTorch's `torch.set_num_threads`. `0` restores the default, the number of cores
/// ([`std::thread::available_parallelism`]).
///
/// The setting is global and can change at any time; it takes effect at the next matrix
/// product. Results are the same for every setting (see [`parallel_for`]), so it is purely a
/// speed knob. Small networks at small batch sizes are often fastest with 1 or 2 threads: a
/// product must be large enough to pay for handing half of it to another core.
///
/// ```
/// lazarus_core::set_num_threads(1);
/// assert_eq!(lazarus_core::num_threads(), 1);
/// lazarus_core::set_num_threads(0); // back to the machine's cores
/// assert!(lazarus_core::num_threads() >= 1);
/// ```
pub fn set_num_threads(threads: usize) {
    THREADS.store(threads, Ordering::Relaxed);
}

/// The number of threads lazarus uses (see [`set_num_threads`]); at least 1.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

fn default_threads() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Run `task(0)`, `task(1)`, …, `task(tasks - 1)`, spread over up to [`num_threads`] threads
/// (the caller's included), and return when all are done.
///
/// Each task index runs exactly once. Write tasks so that task `t` does the same work whichever
/// thread runs it and no two tasks write the same memory: then the result does not depend on
/// the thread count. With one thread, or when called from inside another `parallel_for` (or
/// from two user threads at once), the tasks simply run in order on the calling thread.
///
/// Does not allocate once the workers exist, so it can run inside allocation-free loops.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let sum = AtomicUsize::new(0);
/// lazarus_core::parallel_for(8, &|t| {
///     sum.fetch_add(t, Ordering::Relaxed);
/// });
/// assert_eq!(sum.into_inner(), 28);
/// ```
pub fn parallel_for(tasks: usize, task: &(dyn Fn(usize) + Sync)) {
    let threads = num_threads().min(tasks);
    if threads <= 1 {
        (0..tasks).for_each(task);
        return;
    }
    // One job at a time; anyone else (a nested call, a second user thread) runs serially.
    if !super::pool::try_run(tasks, threads - 1, task) {
        (0..tasks).for_each(task);
    }
}

/// Below this many elements, element-wise work runs on one thread: a piece must be worth far
/// more than the microsecond it costs to hand it over.
const MIN_PARALLEL_ELEMENTS: usize = 1 << 15;

/// Element-wise work over equal-length slices, cut into contiguous pieces that run in
/// parallel: `f(pieces of muts, pieces of shared)` is called once per piece, with the same
/// element range of every slice.
///
/// Short slices (under 32,768 elements) are one piece. Piece edges are multiples of 16 elements
/// (64 bytes, a cache line), and thread `i` gets the `i`-th piece, so a weight matrix's rows
/// are handled by the same core here as in the matrix products, which cut it the same way.
/// Use it for work where each element is computed on its own (an optimizer update, a fill):
/// then the result is the same for every thread count.
///
/// # Panics
/// If the slices do not all have the same length.
///
/// ```
/// let mut w = vec![1.0f32; 100_000];
/// let g = vec![0.5f32; 100_000];
/// lazarus_core::parallel_zip([&mut w], [&g], &|[w], [g]| {
///     w.iter_mut().zip(g).for_each(|(w, g)| *w -= 0.1 * g);
/// });
/// assert!(w.iter().all(|&w| w == 0.95));
/// ```
pub fn parallel_zip<const N: usize, const M: usize>(
    muts: [&mut [f32]; N],
    shared: [&[f32]; M],
    f: &ZipFn<'_, N, M>,
) {
    let len = muts
        .first()
        .map(|s| s.len())
        .or(shared.first().map(|s| s.len()))
        .unwrap_or(0);
    assert!(
        muts.iter().all(|s| s.len() == len) && shared.iter().all(|s| s.len() == len),
        "parallel_zip: slices of different lengths"
    );
    let pieces = num_threads().min(len / MIN_PARALLEL_ELEMENTS).max(1);
    if pieces == 1 {
        f(muts, shared);
        return;
    }
    let edge = |p: usize| {
        if p == pieces {
            len
        } else {
            (len * p / pieces).div_ceil(16) * 16
        }
    };
    let ptrs = muts.map(|s| Shared(s.as_mut_ptr()));
    parallel_for(pieces, &|p| {
        let (start, end) = (edge(p), edge(p + 1).min(len));
        let start = start.min(end);
        // SAFETY: each piece gets its own element range [start, end) of each mutable slice, so
        // no two pieces alias, and the slices are borrowed for the whole call.
        let piece = ptrs.map(|ptr| unsafe {
            std::slice::from_raw_parts_mut(ptr.get().add(start), end - start)
        });
        f(piece, shared.map(|s| &s[start..end]));
    });
}

/// What [`parallel_zip`] runs on each piece: the pieces of the mutable and the shared slices.
pub type ZipFn<'a, const N: usize, const M: usize> =
    dyn Fn([&mut [f32]; N], [&[f32]; M]) + Sync + 'a;

/// A raw pointer that may cross threads, for work split into disjoint pieces (the user says
/// why that is safe where it dereferences it).
#[derive(Clone, Copy)]
pub(crate) struct Shared<P>(pub(crate) P);
// SAFETY: only a wrapper; every dereference is justified where it happens.
unsafe impl<P> Send for Shared<P> {}
unsafe impl<P> Sync for Shared<P> {}

impl<P: Copy> Shared<P> {
    /// A method, not `.0`: a closure then captures the whole (Sync) wrapper, not the field.
    pub(crate) fn get(self) -> P {
        self.0
    }
}
