//! Dataset: construction checks, subsets, splits, non-standard layouts, and the PNG grid.

use lazarus_core::Tensor;
use lazarus_train::Error;
use lazarus_train::data::{DataLoader, Dataset, SyntheticDigits, write_png_grid};

#[test]
fn construction_errors_are_typed() {
    let x = Tensor::zeros(vec![3, 2]);
    assert!(matches!(
        Dataset::from_labels(x.clone(), vec![0, 1], 2),
        Err(Error::LengthMismatch {
            inputs: 3,
            targets: 2
        })
    ));
    assert!(matches!(
        Dataset::from_values(x.clone(), Tensor::zeros(vec![4, 1])),
        Err(Error::LengthMismatch {
            inputs: 3,
            targets: 4
        })
    ));
    assert!(matches!(
        Dataset::from_labels(x, vec![0, 1, 2], 2),
        Err(Error::LabelOutOfRange {
            index: 2,
            label: 2,
            num_classes: 2
        })
    ));
    let scalar = Tensor::zeros(vec![]);
    assert!(matches!(
        Dataset::from_labels(scalar, vec![], 2),
        Err(Error::Core(lazarus_core::Error::ShapeMismatch { .. }))
    ));
}

#[test]
fn split_partitions_the_samples() {
    let x = Tensor::from_shape_vec(vec![100, 1], (0..100).map(|v| v as f32).collect()).unwrap();
    let data = Dataset::from_labels(x, (0..100).map(|i| i % 10).collect(), 10).unwrap();
    let (train, validation) = data.train_validation_split(0.2, 1).unwrap();
    assert_eq!((train.len(), validation.len()), (80, 20));
    let mut all: Vec<f32> = train
        .inputs()
        .iter()
        .chain(validation.inputs())
        .copied()
        .collect();
    all.sort_by(f32::total_cmp);
    assert_eq!(all, (0..100).map(|v| v as f32).collect::<Vec<_>>());
    // Labels travel with their inputs.
    for s in (0..train.len()).map(|i| train.get(i).unwrap()) {
        assert_eq!(s.label(), Some(s.input[0] as usize % 10));
    }
    assert_eq!(data.split(0.2, 1).unwrap().0, validation);
    assert!(data.split(1.5, 0).is_err());
    assert!(data.split(f64::NAN, 0).is_err());
}

#[test]
fn transposed_inputs_are_stored_row_major() {
    // Column-major memory: sample i is [i, 10 + i], but not contiguous.
    let x = Tensor::from_shape_vec(vec![2, 3], vec![0., 1., 2., 10., 11., 12.])
        .unwrap()
        .reversed_axes();
    let data = Dataset::from_labels(x, vec![0, 1, 0], 2).unwrap();
    assert_eq!(
        data.get(1)
            .unwrap()
            .input
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [1., 11.]
    );
    let mut loader = DataLoader::new(&data, 3).unwrap().shuffle(4);
    let mut batches = loader.epoch(0);
    let batch = batches.next_batch().unwrap();
    for (k, &i) in batch.indices().iter().enumerate() {
        assert_eq!(batch.inputs[[k, 1]], 10.0 + i as f32);
    }
}

#[test]
fn png_grid_has_the_expected_size_and_checks_its_arguments() {
    let digits = SyntheticDigits::new(0).generate(7).unwrap();
    let path = std::env::temp_dir().join(format!("lazarus-grid-{}.png", std::process::id()));
    write_png_grid(&digits, 2, 5, &path).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!((info.width, info.height), (5 * 29 + 1, 2 * 29 + 1));
    std::fs::remove_file(&path).unwrap();

    assert!(matches!(
        write_png_grid(&digits, 0, 5, &path),
        Err(Error::InvalidConfig { .. })
    ));
    let tabular = Dataset::from_labels(Tensor::zeros(vec![2, 3]), vec![0, 1], 2).unwrap();
    assert!(matches!(
        write_png_grid(&tabular, 1, 2, &path),
        Err(Error::InvalidConfig { .. })
    ));
    // A grid too large to hold in memory is refused before anything is allocated.
    for side in [1 << 20, 1 << 33] {
        assert!(matches!(
            write_png_grid(&digits, side, side, &path),
            Err(Error::InvalidConfig { .. })
        ));
    }
    let unwritable = std::env::temp_dir()
        .join("no-such-dir-lazarus")
        .join("grid.png");
    assert!(matches!(
        write_png_grid(&digits, 1, 1, unwritable),
        Err(Error::Io { .. })
    ));
}
