//! Allocation behaviour, measured by a counting allocator (per thread, so tests running in
//! parallel do not see each other's allocations):
//! * a header claiming 2³¹ images on a 1 KB file fails without a large allocation, raw or gzip;
//! * files whose headers declare more than the memory limit (4 GiB and 1 TiB sparse files, a
//!   4 MB gzip that inflates to 4 GiB) are refused before any data is read;
//! * image and label counts, and MNIST's test files, are checked from the headers first;
//! * a shuffled `DataLoader` allocates nothing per batch once its buffers are warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
mod common;

use std::path::Path;

use common::{gzip, idx_bytes, scratch_dir};
use lazarus_core::Tensor;
use lazarus_train::Error;
use lazarus_train::data::{
    DataLoader, Dataset, ImageLayout, Mnist, ReadLimits, idx_dataset, read_idx,
};

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

/// A raw IDX file at `path` with these dimensions, as long as they say: the header, then a
/// hole (sparse, so gigabytes cost no disk). `None` when the filesystem refuses the length.
fn sparse_idx(path: &Path, dims: &[u32]) -> Option<u64> {
    let header = idx_bytes(dims, &[]);
    let len = header.len() as u64 + dims.iter().map(|&d| u64::from(d)).product::<u64>();
    std::fs::write(path, &header).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(len).ok().map(|()| len)
}

/// Run `f` and return its result with the largest single allocation it made.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let result = f();
    (result, LARGEST.with(Cell::get))
}

#[test]
fn header_claiming_2_pow_31_images_fails_without_allocating_them() {
    let dir = scratch_dir("2-pow-31");
    let mut bytes = idx_bytes(&[1 << 31, 28, 28], &[]);
    bytes.resize(1024, 0x55);
    let raw = dir.join("huge");
    std::fs::write(&raw, &bytes).unwrap();
    let gz = dir.join("huge.gz");
    std::fs::write(&gz, gzip(&bytes, 6)).unwrap();

    let claimed = (1u64 << 31) * 28 * 28 + 16;
    // The raw file's length is known: it is reported as truncated.
    let (err, largest) = largest_allocation(|| read_idx(&raw).unwrap_err());
    assert!(
        matches!(err, Error::Truncated { expected_bytes, found_bytes: 1024, .. } if expected_bytes == claimed),
        "{err:?}"
    );
    assert!(largest < 1 << 20, "raw: largest allocation {largest} bytes");
    // A gzip stream's length is not: the claim is compared with the limit before decompressing.
    let (err, largest) = largest_allocation(|| read_idx(&gz).unwrap_err());
    assert!(
        matches!(err, Error::TooLarge { needed_bytes, .. } if needed_bytes == claimed - 16),
        "{err:?}"
    );
    assert!(largest < 1 << 20, "gz: largest allocation {largest} bytes");
}

#[test]
fn a_4_gib_raw_file_is_refused_by_the_limit_before_reading() {
    // The fuzzer's case: a header saying [4096, 1024, 1024] on a file really that long (sparse)
    // aborted the process with "memory allocation of 4294967296 bytes failed".
    let dir = scratch_dir("4-gib");
    let images = dir.join("train-images-idx3-ubyte");
    let Some(len) = sparse_idx(&images, &[4096, 1024, 1024]) else {
        panic!("this filesystem refuses a sparse 4 GiB file");
    };
    assert_eq!(len, 16 + (1 << 32));

    let (err, largest) = largest_allocation(|| read_idx(&images).unwrap_err());
    let Error::TooLarge {
        path,
        declared_dims,
        needed_bytes,
        limit_bytes,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(path, &images);
    assert_eq!(declared_dims, &[4096, 1024, 1024]);
    assert_eq!(
        (*needed_bytes, *limit_bytes),
        (1 << 32, ReadLimits::DEFAULT_MAX_BYTES)
    );
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
    let message = err.to_string();
    assert!(message.contains(&*images.to_string_lossy()), "{message}");
    assert!(
        message.contains("need 4.0 GiB (4294967296 bytes)")
            && message.contains("limit of 3.0 GiB (3221225472 bytes)"),
        "{message}"
    );

    // As a data set (and so through `mnist --data`), the f32 copy counts too: 5 bytes a pixel.
    let labels = dir.join("train-labels-idx1-ubyte");
    std::fs::write(&labels, [idx_bytes(&[4096], &[]), vec![0; 4096]].concat()).unwrap();
    let (err, largest) =
        largest_allocation(|| idx_dataset(&images, &labels, ImageLayout::Flat).unwrap_err());
    assert!(
        matches!(&err, Error::TooLarge { path, needed_bytes, .. }
            if path == &images && *needed_bytes == 5 * (1 << 32) + 9 * 4096),
        "{err:?}"
    );
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
}

#[test]
fn a_1_tib_file_is_refused_the_same_way() {
    let dir = scratch_dir("1-tib");
    let raw = dir.join("huge");
    let dims = [1 << 16, 1 << 12, 1 << 12];
    if sparse_idx(&raw, &dims).is_some() {
        let (err, largest) = largest_allocation(|| read_idx(&raw).unwrap_err());
        assert!(
            matches!(err, Error::TooLarge { needed_bytes, .. } if needed_bytes == 1 << 40),
            "{err:?}"
        );
        assert!(largest < 1 << 20, "largest allocation {largest} bytes");
        assert!(
            err.to_string().contains("1.0 TiB (1099511627776 bytes)"),
            "{err}"
        );
    } else {
        // Some filesystems cap a file's length below 1 TiB: the gzip case below still covers
        // a 1 TiB claim, which needs no disk at all.
        eprintln!("note: this filesystem refuses a sparse 1 TiB file; checking the .gz case only");
    }
    let gz = dir.join("huge.gz");
    std::fs::write(
        &gz,
        gzip(&[idx_bytes(&dims, &[]), vec![0; 4096]].concat(), 6),
    )
    .unwrap();
    let (err, largest) = largest_allocation(|| read_idx(&gz).unwrap_err());
    assert!(
        matches!(err, Error::TooLarge { needed_bytes, .. } if needed_bytes == 1 << 40),
        "{err:?}"
    );
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
}

#[test]
fn a_4_mb_gzip_that_inflates_to_4_gib_is_refused_before_decompressing() {
    // Concatenated members (legal gzip, read as one stream): one with the header and 1 MiB of
    // zeros, then 4095 more of 1 MiB of zeros each. The file is about 4 MB; its data 4 GiB,
    // exactly what the header declares.
    let dir = scratch_dir("4-gib-gz");
    let mib = vec![0u8; 1 << 20];
    let mut file = gzip(
        &[idx_bytes(&[4096, 1024, 1024], &[]), mib.clone()].concat(),
        6,
    );
    let member = gzip(&mib, 6);
    for _ in 1..4096 {
        file.extend_from_slice(&member);
    }
    assert!(file.len() < 8 << 20, "{} bytes", file.len());
    let gz = dir.join("train-images-idx3-ubyte.gz");
    std::fs::write(&gz, &file).unwrap();
    let (err, largest) = largest_allocation(|| read_idx(&gz).unwrap_err());
    assert!(
        matches!(&err, Error::TooLarge { path, needed_bytes, .. } if path == &gz && *needed_bytes == 1 << 32),
        "{err:?}"
    );
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
}

#[test]
fn counts_are_compared_from_the_headers_before_reading_data() {
    // 64 Mi labels for 3 images: the mismatch is found without reading the labels.
    let dir = scratch_dir("count-first");
    let mut images = idx_bytes(&[3, 28, 28], &[]);
    images.resize(16 + 3 * 784, 7);
    std::fs::write(dir.join("train-images-idx3-ubyte"), &images).unwrap();
    sparse_idx(&dir.join("train-labels-idx1-ubyte"), &[1 << 26]).unwrap();
    let (err, largest) = largest_allocation(|| Mnist::load(&dir).unwrap_err());
    assert!(
        matches!(err, Error::CountMismatch { images: 3, labels, .. } if labels == 1 << 26),
        "{err:?}"
    );
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
}

#[test]
fn mnist_checks_the_test_files_before_reading_the_training_set() {
    // A valid 15 MB training set (sparse zeros: blank images, all class 0) and a test set of
    // 10×10 images: the error comes before the training data is read.
    let dir = scratch_dir("test-first");
    let n = 20_000;
    sparse_idx(&dir.join("train-images-idx3-ubyte"), &[n, 28, 28]).unwrap();
    sparse_idx(&dir.join("train-labels-idx1-ubyte"), &[n]).unwrap();
    sparse_idx(&dir.join("t10k-images-idx3-ubyte"), &[2, 10, 10]).unwrap();
    sparse_idx(&dir.join("t10k-labels-idx1-ubyte"), &[2]).unwrap();
    let (err, largest) = largest_allocation(|| Mnist::load(&dir).unwrap_err());
    assert!(
        matches!(&err, Error::BadHeader { path, .. } if path == &dir.join("t10k-images-idx3-ubyte")),
        "{err:?}"
    );
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
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
