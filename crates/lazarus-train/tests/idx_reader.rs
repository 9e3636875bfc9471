//! The IDX / MNIST reader: round trips of small files written here (raw and .gz), and one typed
//! error, naming the file, for each kind of bad file.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use lazarus_train::Error;
use lazarus_train::data::{
    ImageLayout, MNIST_MEAN, MNIST_STD, Mnist, MnistOptions, idx_dataset, read_idx,
};

/// A fresh, empty folder for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-idx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The bytes of an IDX file of unsigned bytes: magic, dims, data.
fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

/// Write `bytes` to `path`, gzip-compressed when `path` ends in `.gz`.
fn write(path: &Path, bytes: &[u8]) {
    if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(bytes).unwrap();
        std::fs::write(path, gz.finish().unwrap()).unwrap();
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

#[test]
fn mnist_loads_raw_train_and_gzipped_test_files() {
    let dir = scratch_dir("mnist");
    let (images, labels) = images_and_labels(5);
    write(&dir.join("train-images-idx3-ubyte"), &images);
    write(&dir.join("train-labels-idx1-ubyte"), &labels);
    let (test_images, test_labels) = images_and_labels(3);
    write(&dir.join("t10k-images-idx3-ubyte.gz"), &test_images);
    write(&dir.join("t10k-labels-idx1-ubyte.gz"), &test_labels);

    let mnist = Mnist::load(&dir).unwrap();
    assert_eq!(mnist.train.inputs().shape(), &[5, 12]);
    assert_eq!(mnist.test.inputs().shape(), &[3, 12]);
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
    };
    let cnn = Mnist::load_with(&dir, options).unwrap();
    assert_eq!(cnn.test.inputs().shape(), &[3, 1, 4, 3]);
    let expected = (f32::from(test_images[header + 1]) / 255.0 - MNIST_MEAN) / MNIST_STD;
    assert!((cnn.test.inputs()[[0, 0, 0, 1]] - expected).abs() < 1e-6);
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
    let (images, _) = images_and_labels(5);
    let (_, labels) = images_and_labels(4);
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
