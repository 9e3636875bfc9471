//! Mutation tests of the IDX reader, raw and gzip: valid small files are damaged at random
//! (seeded), loaded with `read_idx_with`, `idx_dataset_with` and `Mnist::load_with`, and the
//! result must be either exactly what the bytes say, according to a small independent parser
//! below, or a typed error whose message names the file. A panic fails the test.
//!
//! The reference parser is independent for the IDX format; for gzip it uses flate2 like the
//! reader does (this tests our reader, not the decompressor): a stream that flate2 cannot
//! decompress to the end must be an error.

mod common;

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use common::{gzip, idx_bytes, scratch_dir};
use flate2::read::MultiGzDecoder;
use lazarus_core::Tensor;
use lazarus_train::Error;
use lazarus_train::data::{
    Dataset, ImageLayout, Mnist, MnistOptions, ReadLimits, idx_dataset_with, read_idx_with,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Write `bytes` to `path` as a new file. Removing the old one first matters for speed: ext4
/// flushes a file truncated and rewritten in place when it is closed, which made this test
/// wait on the disk for most of its run.
fn write_new(path: &Path, bytes: &[u8]) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes).unwrap();
}

/// A valid MNIST-shaped pair: `n < max_n` images of 28×28 and `n` labels below 10.
fn mnist_pair(rng: &mut StdRng, max_n: u32) -> (Vec<u8>, Vec<u8>) {
    let n = rng.random_range(0..max_n);
    let pixels: Vec<u8> = (0..n * 784).map(|_| rng.random()).collect();
    let labels: Vec<u8> = (0..n).map(|_| rng.random_range(0..10)).collect();
    (idx_bytes(&[n, 28, 28], &pixels), idx_bytes(&[n], &labels))
}

// ---------------------------------------------------------------------------------------------
// The reference: what the bytes of a file say, written independently of the reader.

/// The decompressed content of a file as the reader sees it (gzip when it starts with the gzip
/// magic), or `None` when the gzip stream is corrupt.
fn content(file: &[u8]) -> Option<Vec<u8>> {
    if !file.starts_with(&[0x1f, 0x8b]) {
        return Some(file.to_vec());
    }
    let mut out = Vec::new();
    // Mutated files are a few KB; the cap only guards against a runaway test.
    MultiGzDecoder::new(file)
        .take(64 << 20)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// An IDX file's dimensions and data, if `file` is a valid IDX file of unsigned bytes (of
/// `rank` dimensions when given) whose data fits in `max_bytes`.
fn reference_idx(
    file: &[u8],
    rank: Option<usize>,
    max_bytes: u64,
) -> Option<(Vec<usize>, Vec<u8>)> {
    let bytes = content(file)?;
    let (magic, rest) = bytes.split_first_chunk::<4>()?;
    let ndim = usize::from(magic[3]);
    if magic[..3] != [0, 0, 8] || rank.is_some_and(|r| r != ndim) {
        return None;
    }
    if rest.len() < 4 * ndim {
        return None;
    }
    let dims: Vec<usize> = rest[..4 * ndim]
        .chunks(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()) as usize)
        .collect();
    // ndarray's rule: the product of the non-zero dimensions must fit in an isize.
    let nonzero: u128 = dims.iter().map(|&d| d.max(1) as u128).product();
    if nonzero > isize::MAX as u128 {
        return None;
    }
    let items: u128 = dims.iter().map(|&d| d as u128).product();
    let data = &rest[4 * ndim..];
    if data.len() as u128 != items {
        return None;
    }
    if rank.is_none() && items > u128::from(max_bytes) {
        return None;
    }
    Some((dims, data.to_vec()))
}

/// The data set an images file and a labels file describe, if they are a valid pair: images of
/// `image_size` (else at least 1×1), equal counts, labels below `num_classes` when given,
/// within `max_bytes` (5 bytes a pixel, 9 a label).
fn reference_pair(
    images: &[u8],
    labels: &[u8],
    image_size: Option<[usize; 2]>,
    num_classes: Option<usize>,
    max_bytes: u64,
) -> Option<Dataset> {
    let (label_dims, labels) = reference_idx(labels, Some(1), max_bytes)?;
    let (image_dims, pixels) = reference_idx(images, Some(3), max_bytes)?;
    let [n, h, w] = image_dims[..] else {
        unreachable!()
    };
    match image_size {
        Some(size) if [h, w] != size => return None,
        None if h == 0 || w == 0 => return None,
        _ => {}
    }
    if label_dims[0] != n || (5 * pixels.len() + 9 * n) as u64 > max_bytes {
        return None;
    }
    let labels: Vec<usize> = labels.iter().map(|&l| usize::from(l)).collect();
    let num_classes = match num_classes {
        Some(k) if labels.iter().any(|&l| l >= k) => return None,
        Some(k) => k,
        None => labels.iter().max().map_or(0, |m| m + 1),
    };
    let inputs = Tensor::from_shape_vec(
        vec![n, h * w],
        pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
    )
    .unwrap();
    Some(Dataset::from_labels(inputs, labels, num_classes).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// Values a header field is most likely to be damaged into.
fn interesting_u32(rng: &mut StdRng) -> u32 {
    const VALUES: [u32; 14] = [
        0,
        1,
        2,
        3,
        4,
        9,
        10,
        27,
        28,
        29,
        255,
        1 << 24,
        1 << 31,
        u32::MAX,
    ];
    if rng.random_bool(0.8) {
        VALUES[rng.random_range(0..VALUES.len())]
    } else {
        rng.random()
    }
}

/// Damage the IDX bytes (before any compression) in one random way; returns what was done.
fn mutate_idx(bytes: &mut Vec<u8>, rng: &mut StdRng) -> String {
    let header_len = (4 + 4 * usize::from(bytes[3])).min(bytes.len());
    match rng.random_range(0..10) {
        0 => {
            let i = rng.random_range(0..bytes.len());
            let bit = rng.random_range(0..8);
            bytes[i] ^= 1 << bit;
            format!("flip bit {bit} of byte {i}")
        }
        1 => {
            let i = rng.random_range(0..header_len);
            bytes[i] = rng.random();
            format!("overwrite header byte {i} with {}", bytes[i])
        }
        2 => {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = rng.random();
            format!("overwrite byte {i} with {}", bytes[i])
        }
        3 => {
            let dims = (header_len - 4) / 4;
            if dims == 0 {
                return "no dimension to change".into();
            }
            let d = rng.random_range(0..dims);
            let value = interesting_u32(rng);
            bytes[4 + 4 * d..8 + 4 * d].copy_from_slice(&value.to_be_bytes());
            format!("set dimension {d} to {value}")
        }
        4 => {
            bytes[3] = rng.random_range(0..6);
            format!("set the number of dimensions to {}", bytes[3])
        }
        5 => {
            bytes[2] = [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff][rng.random_range(0..8)];
            format!("set the type byte to {:#04x}", bytes[2])
        }
        6 => {
            // Truncate: inside the header, at its end, inside the data, or one byte short.
            let len = match rng.random_range(0..4) {
                0 => rng.random_range(0..header_len),
                1 => header_len,
                2 => rng.random_range(header_len..bytes.len().max(header_len + 1)),
                _ => bytes.len().saturating_sub(1),
            };
            bytes.truncate(len);
            format!("truncate to {len} bytes")
        }
        7 => {
            let extra = rng.random_range(1..10);
            bytes.extend((0..extra).map(|_| rng.random::<u8>()));
            format!("append {extra} bytes")
        }
        8 => {
            // A label (or pixel) out of the classes' range.
            if bytes.len() <= header_len {
                return "no data to change".into();
            }
            let i = rng.random_range(header_len..bytes.len());
            bytes[i] = [10, 65, 255][rng.random_range(0..3)];
            format!("set data byte {i} to {}", bytes[i])
        }
        _ => "no change".into(),
    }
}

/// Damage (or legally rearrange) a gzip file in one random way; returns what was done.
fn mutate_gzip(file: &mut Vec<u8>, content: &[u8], rng: &mut StdRng) -> String {
    let len = file.len();
    match rng.random_range(0..8) {
        0 => {
            let i = rng.random_range(0..10.min(len));
            file[i] ^= 1 << rng.random_range(0..8);
            format!("flip a bit of gzip header byte {i}")
        }
        1 => {
            // Between the 10-byte member header and the 8-byte trailer.
            let (first, end) = (10.min(len - 1), len.saturating_sub(8));
            let i = rng.random_range(first..end.max(first + 1));
            file[i] = rng.random();
            format!("overwrite deflate byte {i}")
        }
        2 => {
            // The CRC32 and the length of the member's trailer.
            let i = len - 1 - rng.random_range(0..8.min(len));
            file[i] ^= 1 << rng.random_range(0..8);
            format!("flip a bit of trailer byte {i}")
        }
        3 => {
            let cut = rng.random_range(0..len);
            file.truncate(cut);
            format!("truncate the gzip file to {cut} bytes")
        }
        4 => {
            let extra = rng.random_range(1..10);
            file.extend((0..extra).map(|_| rng.random::<u8>()));
            format!("append {extra} garbage bytes")
        }
        5 => {
            // A second member: empty (legal, same data) or holding more bytes (trailing data).
            let more: Vec<u8> = (0..rng.random_range(0..3)).map(|_| rng.random()).collect();
            file.extend(gzip(&more, 6));
            format!("append a member of {} bytes", more.len())
        }
        6 => {
            // The same content split into two members: legal, same data.
            let at = rng.random_range(0..=content.len());
            *file = [gzip(&content[..at], 1), gzip(&content[at..], 9)].concat();
            format!("split into two members at {at}")
        }
        _ => "no gzip change".into(),
    }
}

/// The file as written to disk: `bytes` damaged or not, compressed or not, damaged again or not.
fn prepare(
    bytes: &[u8],
    gz: bool,
    damage: bool,
    rng: &mut StdRng,
    log: &mut Vec<String>,
) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    if damage && (!gz || rng.random_bool(0.5)) {
        for _ in 0..rng.random_range(1..=2) {
            if bytes.len() >= 4 {
                log.push(mutate_idx(&mut bytes, rng));
            }
        }
    }
    if !gz {
        return bytes;
    }
    let mut file = gzip(&bytes, rng.random_range(0..=9));
    if damage && rng.random_bool(0.5) {
        log.push(mutate_gzip(&mut file, &bytes, rng));
    }
    file
}

// ---------------------------------------------------------------------------------------------
// The checks.

/// Run `load` and require: no panic; `Ok` exactly when the reference has a value, and then the
/// same value; an error message naming one of `named`.
fn check<T: PartialEq + std::fmt::Debug>(
    case: &str,
    expected: Option<T>,
    named: &[&Path],
    load: impl FnOnce() -> Result<T, Error>,
) {
    let result = catch_unwind(AssertUnwindSafe(load))
        .unwrap_or_else(|_| panic!("{case}: the reader panicked"));
    match (result, expected) {
        (Ok(found), Some(expected)) => assert!(found == expected, "{case}: wrong data"),
        (Ok(found), None) => panic!("{case}: accepted a bad file: {found:?}"),
        (Err(err), Some(_)) => panic!("{case}: refused a good file: {err}"),
        (Err(err), None) => {
            assert!(
                matches!(
                    err,
                    Error::Io { .. }
                        | Error::BadMagic { .. }
                        | Error::UnsupportedIdxType { .. }
                        | Error::CountMismatch { .. }
                        | Error::Truncated { .. }
                        | Error::TrailingData { .. }
                        | Error::BadHeader { .. }
                        | Error::TooLarge { .. }
                        | Error::LabelOutOfRangeInFile { .. }
                ),
                "{case}: not a file error: {err:?}"
            );
            let message = err.to_string();
            assert!(
                named
                    .iter()
                    .any(|p| message.contains(&*p.to_string_lossy())),
                "{case}: the message names none of {named:?}: {message}"
            );
        }
    }
}

/// A limit that is usually the default and sometimes tight enough to matter for small files.
fn limit(rng: &mut StdRng) -> ReadLimits {
    if rng.random_bool(0.8) {
        ReadLimits::default()
    } else {
        ReadLimits {
            max_bytes: rng.random_range(0..12_000),
        }
    }
}

#[test]
fn damaged_single_files_give_their_data_or_a_typed_error_naming_them() {
    let dir = scratch_dir("single");
    let mut rng = StdRng::seed_from_u64(14);
    for case in 0..3000 {
        let (images, labels) = mnist_pair(&mut rng, 4);
        let bytes = if rng.random_bool(0.5) { images } else { labels };
        let gz = rng.random_bool(0.5);
        let mut log = Vec::new();
        let file = prepare(&bytes, gz, rng.random_bool(0.9), &mut rng, &mut log);
        let path = dir.join(if gz { "file.gz" } else { "file" });
        write_new(&path, &file);
        let limits = limit(&mut rng);
        let expected = reference_idx(&file, None, limits.max_bytes);
        let case = format!("case {case} ({}, {limits:?}): {log:?}", path.display());
        check(
            &case,
            expected.map(|(dims, data)| ndarray::ArrayD::from_shape_vec(dims, data).unwrap()),
            &[&path],
            || read_idx_with(&path, limits),
        );
    }
}

#[test]
fn damaged_image_label_pairs_give_their_data_set_or_a_typed_error_naming_the_file() {
    let dir = scratch_dir("pair");
    let mut rng = StdRng::seed_from_u64(1414);
    for case in 0..3000 {
        let (images, labels) = mnist_pair(&mut rng, 4);
        let gz = [rng.random_bool(0.5), rng.random_bool(0.5)];
        let damaged = rng.random_range(0..2);
        let mut log = Vec::new();
        let images = prepare(&images, gz[0], damaged == 0, &mut rng, &mut log);
        let labels = prepare(&labels, gz[1], damaged == 1, &mut rng, &mut log);
        let images_path = dir.join(if gz[0] { "images.gz" } else { "images" });
        let labels_path = dir.join(if gz[1] { "labels.gz" } else { "labels" });
        write_new(&images_path, &images);
        write_new(&labels_path, &labels);
        let limits = limit(&mut rng);
        let expected = reference_pair(&images, &labels, None, None, limits.max_bytes);
        // With the default limit, the error names the damaged file; a tight limit is reported
        // on the images file whichever was damaged.
        let named: Vec<&Path> = match (limits == ReadLimits::default(), damaged) {
            (true, 0) => vec![&images_path],
            (true, _) => vec![&labels_path],
            (false, _) => vec![&images_path, &labels_path],
        };
        let case = format!("case {case} (damaged file {damaged}, {limits:?}): {log:?}");
        check(&case, expected, &named, || {
            idx_dataset_with(&images_path, &labels_path, ImageLayout::Flat, limits)
        });
    }
}

#[test]
fn damaged_mnist_folders_load_or_give_a_typed_error_naming_the_file() {
    const NAMES: [&str; 4] = [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ];
    let dir = scratch_dir("mnist");
    let mut rng = StdRng::seed_from_u64(141_414);
    for case in 0..1500 {
        let (train_images, train_labels) = mnist_pair(&mut rng, 3);
        let (test_images, test_labels) = mnist_pair(&mut rng, 3);
        let damaged = rng.random_range(0..4);
        let mut log = Vec::new();
        let mut paths = Vec::new();
        let mut files = Vec::new();
        for (i, bytes) in [train_images, train_labels, test_images, test_labels]
            .iter()
            .enumerate()
        {
            let gz = rng.random_bool(0.5);
            files.push(prepare(bytes, gz, i == damaged, &mut rng, &mut log));
            let (write, remove) = if gz { (".gz", "") } else { ("", ".gz") };
            let _ = std::fs::remove_file(dir.join(format!("{}{remove}", NAMES[i])));
            paths.push(dir.join(format!("{}{write}", NAMES[i])));
            write_new(&paths[i], &files[i]);
        }
        let limits = limit(&mut rng);
        let split = |i: usize| {
            reference_pair(
                &files[i],
                &files[i + 1],
                Some([28, 28]),
                Some(10),
                limits.max_bytes,
            )
        };
        let expected = split(0)
            .zip(split(2))
            .map(|(train, test)| Mnist { train, test });
        let named: Vec<&Path> = if limits == ReadLimits::default() {
            vec![&paths[damaged]]
        } else {
            paths.iter().map(PathBuf::as_path).collect()
        };
        let options = MnistOptions {
            limits,
            ..Default::default()
        };
        let case = format!(
            "case {case} (damaged {}, {limits:?}): {log:?}",
            NAMES[damaged]
        );
        check(&case, expected, &named, || Mnist::load_with(&dir, options));
    }
}
