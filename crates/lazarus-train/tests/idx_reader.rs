//! The IDX / MNIST reader: round trips of small files written here (raw and .gz), and one typed
//! error, naming the file, for each kind of bad file.

mod common;

use std::path::Path;

use common::{gzip, idx_bytes, scratch_dir};
use lazarus_train::Error;
use lazarus_train::data::{
    ImageLayout, MNIST_MEAN, MNIST_STD, Mnist, MnistOptions, ReadLimits, idx_dataset,
    idx_dataset_with, read_idx, read_idx_with,
};

/// Write `bytes` to `path`, gzip-compressed when `path` ends in `.gz`.
fn write(path: &Path, bytes: &[u8]) {
    if path.extension().is_some_and(|e| e == "gz") {
        std::fs::write(path, gzip(bytes, 6)).unwrap();
    } else {
        std::fs::write(path, bytes).unwrap();
    }
}

/// `n` images of 4 × 3 pixels with distinct values, and labels `i % 10`.
fn images_and_labels(n: u32) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..n * 12).map(|i| (i * 7 % 256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    (idx_bytes(&[n, 4, 3], &pixels), idx_bytes(&[n], &labels))
}

#[test]
fn read_idx_round_trips_raw_and_gzip() {
    let dir = scratch_dir("round-trip");
    let data: Vec<u8> = (0..24).collect();
    for name in ["cube", "cube.gz"] {
        let path = dir.join(name);
        write(&path, &idx_bytes(&[2, 3, 4], &data));
        let a = read_idx(&path).unwrap();
        assert_eq!(a.shape(), &[2, 3, 4], "{name}");
        assert_eq!(a.as_slice().unwrap(), &data[..], "{name}");
    }
}

/// `n` MNIST-sized images (28 × 28) with distinct-ish pixel values, and labels `i % 10`.
fn mnist_images_and_labels(n: u32) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..n * 784).map(|i| (i * 7 % 256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    (idx_bytes(&[n, 28, 28], &pixels), idx_bytes(&[n], &labels))
}

/// Write an MNIST folder: `train` and `t10k` images and labels, raw (`.gz` when `gz`).
fn write_mnist(dir: &Path, train: &(Vec<u8>, Vec<u8>), test: &(Vec<u8>, Vec<u8>), gz: bool) {
    let ext = if gz { ".gz" } else { "" };
    for (prefix, (images, labels)) in [("train", train), ("t10k", test)] {
        write(
            &dir.join(format!("{prefix}-images-idx3-ubyte{ext}")),
            images,
        );
        write(
            &dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")),
            labels,
        );
    }
}

#[test]
fn mnist_loads_raw_train_and_gzipped_test_files() {
    let dir = scratch_dir("mnist");
    let (images, labels) = mnist_images_and_labels(5);
    write(&dir.join("train-images-idx3-ubyte"), &images);
    write(&dir.join("train-labels-idx1-ubyte"), &labels);
    let (test_images, test_labels) = mnist_images_and_labels(3);
    write(&dir.join("t10k-images-idx3-ubyte.gz"), &test_images);
    write(&dir.join("t10k-labels-idx1-ubyte.gz"), &test_labels);

    let mnist = Mnist::load(&dir).unwrap();
    assert_eq!(mnist.train.inputs().shape(), &[5, 784]);
    assert_eq!(mnist.test.inputs().shape(), &[3, 784]);
    assert_eq!(mnist.train.labels().unwrap(), &[0, 1, 2, 3, 4]);
    assert_eq!(mnist.train.num_classes(), Some(10));
    // Pixels scaled to [0, 1]: byte b becomes b / 255.
    let header = 4 + 3 * 4;
    for (&x, &b) in mnist.train.inputs().iter().zip(&images[header..]) {
        assert_eq!(x, f32::from(b) / 255.0);
    }

    let options = MnistOptions {
        layout: ImageLayout::Nchw,
        normalize: true,
        ..Default::default()
    };
    let cnn = Mnist::load_with(&dir, options).unwrap();
    assert_eq!(cnn.test.inputs().shape(), &[3, 1, 28, 28]);
    let expected = (f32::from(test_images[header + 1]) / 255.0 - MNIST_MEAN) / MNIST_STD;
    assert!((cnn.test.inputs()[[0, 0, 0, 1]] - expected).abs() < 1e-6);
}

#[test]
fn mnist_refuses_images_that_are_not_28_by_28_naming_the_file() {
    // The fuzzer's case: [3, 27, 29] used to load, and 10×10 images trained and exited 0.
    let dir = scratch_dir("not-28");
    let pixels = vec![9u8; 3 * 27 * 29];
    let odd = (
        idx_bytes(&[3, 27, 29], &pixels),
        idx_bytes(&[3], &[1, 2, 3]),
    );
    write_mnist(&dir, &odd, &mnist_images_and_labels(2), false);
    let err = Mnist::load(&dir).unwrap_err();
    let Error::BadHeader {
        path,
        expected,
        found,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(path, &dir.join("train-images-idx3-ubyte"));
    assert!(expected.contains("28×28"), "{expected}");
    assert!(found.contains("[3, 27, 29]"), "{found}");
    let message = err.to_string();
    assert!(message.contains("train-images-idx3-ubyte"), "{message}");

    // 28×28 training images with 10×10 test images: the test file is named, and no training
    // happens first (this used to fail only after training, naming no file).
    let small = (idx_bytes(&[2, 10, 10], &[5; 200]), idx_bytes(&[2], &[0, 1]));
    write_mnist(&dir, &mnist_images_and_labels(4), &small, false);
    let err = Mnist::load(&dir).unwrap_err();
    assert!(
        matches!(&err, Error::BadHeader { path, .. } if path == &dir.join("t10k-images-idx3-ubyte")),
        "{err:?}"
    );
}

#[test]
fn images_of_zero_height_or_width_are_a_bad_header() {
    let dir = scratch_dir("zero-pixels");
    write(&dir.join("labels"), &idx_bytes(&[2], &[0, 1]));
    for dims in [[2, 0, 5], [2, 5, 0]] {
        write(&dir.join("images"), &idx_bytes(&dims, &[]));
        let err =
            idx_dataset(dir.join("images"), dir.join("labels"), ImageLayout::Flat).unwrap_err();
        assert!(
            matches!(&err, Error::BadHeader { path, .. } if path == &dir.join("images")),
            "{dims:?}: {err:?}"
        );
        assert!(err.to_string().contains("1×1"), "{err}");
    }
}

#[test]
fn a_label_out_of_range_names_the_labels_file() {
    let dir = scratch_dir("label-65");
    let (images, _) = mnist_images_and_labels(3);
    let train = (images, idx_bytes(&[3], &[4, 65, 2]));
    write_mnist(&dir, &train, &mnist_images_and_labels(2), true);
    let err = Mnist::load(&dir).unwrap_err();
    let labels_path = dir.join("train-labels-idx1-ubyte.gz");
    let Error::LabelOutOfRangeInFile {
        path,
        index,
        label,
        num_classes,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (path, *index, *label, *num_classes),
        (&labels_path, 1, 65, 10)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: label 65 of sample 1 is not below num_classes = 10",
            labels_path.display()
        )
    );
}

#[test]
fn the_memory_limit_is_exact_for_each_reader() {
    let dir = scratch_dir("limit");
    // read_idx_with: one byte per item, 100 items.
    write(&dir.join("cube.gz"), &idx_bytes(&[4, 5, 5], &[1; 100]));
    write(&dir.join("cube"), &idx_bytes(&[4, 5, 5], &[1; 100]));
    for name in ["cube", "cube.gz"] {
        let path = dir.join(name);
        assert_eq!(
            read_idx_with(&path, ReadLimits { max_bytes: 100 })
                .unwrap()
                .len(),
            100
        );
        let err = read_idx_with(&path, ReadLimits { max_bytes: 99 }).unwrap_err();
        let Error::TooLarge {
            path: p,
            declared_dims,
            needed_bytes,
            limit_bytes,
        } = &err
        else {
            panic!("{name}: {err:?}")
        };
        assert_eq!((p, declared_dims.as_slice()), (&path, &[4, 5, 5][..]));
        assert_eq!((*needed_bytes, *limit_bytes), (100, 99));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: declared dimensions [4, 5, 5] need 100 bytes of memory to load, more than \
                 the limit of 99 bytes; raise ReadLimits::max_bytes if the file is really that large",
                path.display()
            )
        );
    }

    // idx_dataset_with: 5 bytes per pixel (u8 + f32) and 9 per label (u8 + usize).
    let (images, labels) = images_and_labels(5);
    write(&dir.join("images"), &images);
    write(&dir.join("labels"), &labels);
    let needed = 5 * 12 * 5 + 9 * 5;
    let load = |max_bytes| {
        idx_dataset_with(
            dir.join("images"),
            dir.join("labels"),
            ImageLayout::Flat,
            ReadLimits { max_bytes },
        )
    };
    assert_eq!(load(needed).unwrap().len(), 5);
    assert!(matches!(
        load(needed - 1),
        Err(Error::TooLarge { needed_bytes, limit_bytes, .. })
            if needed_bytes == needed && limit_bytes == needed - 1
    ));

    // Mnist::load_with: the same rule, for each split on its own.
    let mnist_dir = dir.join("mnist");
    std::fs::create_dir_all(&mnist_dir).unwrap();
    write_mnist(
        &mnist_dir,
        &mnist_images_and_labels(3),
        &mnist_images_and_labels(2),
        false,
    );
    let train_needed = 5 * 784 * 3 + 9 * 3;
    let options = |max_bytes| MnistOptions {
        limits: ReadLimits { max_bytes },
        ..Default::default()
    };
    assert_eq!(
        Mnist::load_with(&mnist_dir, options(train_needed))
            .unwrap()
            .train
            .len(),
        3
    );
    let err = Mnist::load_with(&mnist_dir, options(train_needed - 1)).unwrap_err();
    assert!(
        matches!(&err, Error::TooLarge { path, .. } if path == &mnist_dir.join("train-images-idx3-ubyte")),
        "{err:?}"
    );
}

#[test]
fn idx_dataset_counts_classes_from_the_labels() {
    let dir = scratch_dir("idx-dataset");
    let (images, labels) = images_and_labels(4);
    write(&dir.join("images"), &images);
    write(&dir.join("labels"), &labels);
    let data = idx_dataset(dir.join("images"), dir.join("labels"), ImageLayout::Flat).unwrap();
    assert_eq!(data.num_classes(), Some(4)); // labels 0..=3
}

#[test]
fn wrong_magic_names_the_file_and_both_numbers() {
    let dir = scratch_dir("magic");
    let (images, _) = images_and_labels(2);
    // An images file where a labels file is expected.
    write(&dir.join("labels"), &images);
    write(&dir.join("images"), &images);
    let err = idx_dataset(dir.join("images"), dir.join("labels"), ImageLayout::Flat).unwrap_err();
    let Error::BadMagic {
        path,
        expected,
        found,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (path, *expected, *found),
        (&dir.join("labels"), 0x801, 0x803)
    );
    assert!(err.to_string().contains("labels"), "{err}");

    // Not an IDX file at all.
    write(&dir.join("zip"), b"PK\x03\x04 not an idx file");
    assert!(matches!(
        read_idx(dir.join("zip")),
        Err(Error::BadMagic {
            found: 0x504b_0304,
            ..
        })
    ));
}

#[test]
fn unsupported_data_type_is_reported() {
    let dir = scratch_dir("type");
    let mut bytes = idx_bytes(&[1], &[0, 0, 0, 0]);
    bytes[2] = 0x0d; // f32
    write(&dir.join("floats"), &bytes);
    assert!(matches!(
        read_idx(dir.join("floats")),
        Err(Error::UnsupportedIdxType { found: 0x0d, .. })
    ));
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = scratch_dir("count");
    let (images, _) = mnist_images_and_labels(5);
    let (_, labels) = mnist_images_and_labels(4);
    write(&dir.join("train-images-idx3-ubyte"), &images);
    write(&dir.join("train-labels-idx1-ubyte.gz"), &labels);
    let err = Mnist::load(&dir).unwrap_err();
    let Error::CountMismatch {
        images_path,
        labels_path,
        images,
        labels,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*images, *labels), (5, 4));
    assert_eq!(images_path, &dir.join("train-images-idx3-ubyte"));
    assert_eq!(labels_path, &dir.join("train-labels-idx1-ubyte.gz"));
    assert!(err.to_string().contains("5 images"), "{err}");
}

#[test]
fn truncated_data_raw_and_gzip() {
    let dir = scratch_dir("truncated");
    let (images, _) = images_and_labels(5);
    let short = &images[..images.len() - 10];
    for name in ["images", "images.gz"] {
        let path = dir.join(name);
        write(&path, short);
        let err = read_idx(&path).unwrap_err();
        let Error::Truncated {
            path: p,
            expected_bytes,
            found_bytes,
        } = &err
        else {
            panic!("{name}: {err:?}")
        };
        assert_eq!(p, &path);
        assert_eq!(
            (*expected_bytes, *found_bytes),
            (images.len() as u64, short.len() as u64)
        );
    }
}

#[test]
fn truncated_header_and_trailing_data() {
    let dir = scratch_dir("header");
    write(&dir.join("stub"), &[0, 0, 8, 3, 0, 0]); // three dims promised, two bytes of one
    assert!(matches!(
        read_idx(dir.join("stub")),
        Err(Error::Truncated {
            expected_bytes: 8,
            found_bytes: 6,
            ..
        })
    ));
    write(&dir.join("long.gz"), &idx_bytes(&[2], &[1, 2, 3]));
    assert!(matches!(
        read_idx(dir.join("long.gz")),
        Err(Error::TrailingData {
            expected_bytes: 10,
            ..
        })
    ));
}

#[test]
fn dimensions_too_large_for_memory_are_a_bad_header() {
    let dir = scratch_dir("huge");
    // A zero count does not make the other dimensions' product acceptable: ndarray needs it to
    // fit in memory addresses too.
    for dims in [
        vec![0, u32::MAX, u32::MAX],
        vec![0, u32::MAX, u32::MAX, 3],
        vec![u32::MAX, u32::MAX, u32::MAX],
    ] {
        write(&dir.join("huge"), &idx_bytes(&dims, &[]));
        assert!(
            matches!(read_idx(dir.join("huge")), Err(Error::BadHeader { .. })),
            "dims {dims:?}"
        );
    }
}

#[test]
fn missing_file_lists_the_names_tried() {
    let dir = scratch_dir("missing");
    let err = Mnist::load(&dir).unwrap_err();
    let Error::MissingFile { dir: d, tried } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(d, &dir);
    assert_eq!(
        tried,
        &["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"]
    );
    let message = err.to_string();
    assert!(message.contains("train-images-idx3-ubyte.gz"), "{message}");
}

#[test]
fn corrupt_gzip_stream_is_an_io_error_naming_the_file() {
    let dir = scratch_dir("corrupt-gz");
    let path = dir.join("images.gz");
    write(&path, &idx_bytes(&[100], &[7; 100]));
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes.truncate(middle);
    bytes.extend_from_slice(&[0xff; 8]);
    std::fs::write(&path, bytes).unwrap();
    match read_idx(&path) {
        Err(Error::Io { path: p, .. }) | Err(Error::Truncated { path: p, .. }) => {
            assert_eq!(p, path)
        }
        other => panic!("{other:?}"),
    }
}
