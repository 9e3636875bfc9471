//! Allocation behaviour, measured by a counting allocator (per thread, so tests running in
//! parallel do not see each other's allocations):
//! * a header claiming 2³¹ images on a 1 KB file fails without a large allocation, raw or gzip;
//! * a shuffled `DataLoader` allocates nothing per batch once its buffers are warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use lazarus_core::Tensor;
use lazarus_train::Error;
use lazarus_train::data::{DataLoader, Dataset, read_idx};

struct PeakAllocator;

thread_local! {
    /// Largest single allocation (or reallocation) of this thread, in bytes.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    /// Allocations and reallocations made by this thread.
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards to the system allocator; only records sizes.
unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: as for `dealloc`, and `new_size` comes from the caller's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

#[test]
fn header_claiming_2_pow_31_images_fails_without_allocating_them() {
    let dir = std::env::temp_dir().join(format!("lazarus-idx-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = vec![0, 0, 8, 3];
    for d in [1u32 << 31, 28, 28] {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.resize(1024, 0x55);
    let raw = dir.join("huge");
    std::fs::write(&raw, &bytes).unwrap();
    let gz = dir.join("huge.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&bytes).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();

    let claimed = (1u64 << 31) * 28 * 28 + 16;
    for path in [raw, gz] {
        LARGEST.with(|l| l.set(0));
        let err = read_idx(&path).unwrap_err();
        let largest = LARGEST.with(Cell::get);
        assert!(
            matches!(err, Error::Truncated { expected_bytes, found_bytes: 1024, .. } if expected_bytes == claimed),
            "{err:?}"
        );
        assert!(
            largest < 1 << 20,
            "{}: largest allocation {largest} bytes",
            path.display()
        );
    }
}

#[test]
fn shuffled_loader_allocates_nothing_per_batch_once_warm() {
    // 103 samples in batches of 10: the short last batch shrinks the buffers and the next
    // epoch's first batch grows them back, which must not allocate either.
    let x = Tensor::from_shape_vec(
        vec![103, 1, 4, 4],
        (0..103 * 16).map(|v| v as f32).collect(),
    );
    let data = Dataset::from_labels(x.unwrap(), (0..103).map(|i| i % 3).collect(), 3).unwrap();
    let mut loader = DataLoader::new(&data, 10).unwrap().shuffle(9);
    let mut checksum = 0.0;
    for epoch in 0..4 {
        if epoch == 1 {
            COUNT.with(|c| c.set(0));
        }
        let mut batches = loader.epoch(epoch);
        while let Some(batch) = batches.next_batch() {
            checksum += batch.inputs[[0, 0, 0, 0]] + batch.labels().unwrap()[0] as f32;
        }
    }
    assert_eq!(
        COUNT.with(Cell::get),
        0,
        "allocations after the first epoch"
    );
    assert!(checksum > 0.0);
}
