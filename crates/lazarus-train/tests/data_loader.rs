//! DataLoader: each sample once per epoch, seeded orders, drop_last, and gathered batches that
//! hold the right rows.

use lazarus_core::Tensor;
use lazarus_core::loss::Target;
use lazarus_train::Error;
use lazarus_train::data::{DataLoader, Dataset};

/// `n` samples of 3 features where sample i is [i, i + 0.25, i + 0.5], label i % 4.
fn numbered(n: usize) -> Dataset {
    let x: Vec<f32> = (0..n)
        .flat_map(|i| [i as f32, i as f32 + 0.25, i as f32 + 0.5])
        .collect();
    let x = Tensor::from_shape_vec(vec![n, 3], x).unwrap();
    Dataset::from_labels(x, (0..n).map(|i| i % 4).collect(), 4).unwrap()
}

/// Every batch of one epoch as (dataset indices, batch lengths), checking each batch's inputs
/// and labels against the data set rows it claims to hold.
fn run_epoch(loader: &mut DataLoader<'_>, epoch: usize) -> (Vec<usize>, Vec<usize>) {
    let data = loader.dataset();
    let (mut order, mut lengths) = (Vec::new(), Vec::new());
    let mut batches = loader.epoch(epoch);
    let mut expected_index = 0;
    while let Some(batch) = batches.next_batch() {
        assert_eq!(batch.index, expected_index);
        expected_index += 1;
        assert_eq!(batch.inputs.shape(), &[batch.len(), 3]);
        let labels = batch.labels().unwrap();
        for (k, &i) in batch.indices().iter().enumerate() {
            assert_eq!(batch.inputs[[k, 0]], i as f32);
            assert_eq!(batch.inputs[[k, 2]], i as f32 + 0.5);
            assert_eq!(labels[k], data.labels().unwrap()[i]);
        }
        assert!(matches!(batch.target(), Target::Classes(l) if l.len() == batch.len()));
        order.extend_from_slice(batch.indices());
        lengths.push(batch.len());
    }
    (order, lengths)
}

#[test]
fn every_sample_exactly_once_per_epoch() {
    let data = numbered(50);
    let mut loader = DataLoader::new(&data, 7).unwrap().shuffle(3);
    for epoch in 0..5 {
        let (mut order, lengths) = run_epoch(&mut loader, epoch);
        assert_eq!(lengths, [7, 7, 7, 7, 7, 7, 7, 1]);
        order.sort_unstable();
        assert_eq!(order, (0..50).collect::<Vec<_>>());
    }
}

#[test]
fn same_seed_same_order_different_epochs_and_seeds_differ() {
    let data = numbered(64);
    let mut a = DataLoader::new(&data, 16).unwrap().shuffle(11);
    let mut b = DataLoader::new(&data, 16).unwrap().shuffle(11);
    let mut other_seed = DataLoader::new(&data, 16).unwrap().shuffle(12);
    let orders: Vec<Vec<usize>> = (0..4).map(|e| run_epoch(&mut a, e).0).collect();
    // Same seed: same orders, whichever epochs were run before (here: in reverse).
    for epoch in (0..4).rev() {
        assert_eq!(run_epoch(&mut b, epoch).0, orders[epoch]);
    }
    for i in 0..4 {
        for j in i + 1..4 {
            assert_ne!(orders[i], orders[j], "epochs {i} and {j}");
        }
        assert_ne!(run_epoch(&mut other_seed, i).0, orders[i]);
    }
    assert_ne!(orders[0], (0..64).collect::<Vec<_>>(), "shuffled");
}

#[test]
fn drop_last_skips_the_short_batch() {
    let data = numbered(50);
    for seed in [None, Some(1)] {
        let loader = DataLoader::new(&data, 7).unwrap().drop_last(true);
        let mut loader = match seed {
            Some(s) => loader.shuffle(s),
            None => loader,
        };
        assert_eq!(loader.num_batches(), 7);
        assert_eq!(loader.num_samples(), 49);
        let (order, lengths) = run_epoch(&mut loader, 0);
        assert_eq!(lengths, [7; 7]);
        assert_eq!(order.len(), 49);
    }
}

#[test]
fn unshuffled_batches_are_in_order_with_a_short_last_batch() {
    let data = numbered(10);
    let mut loader = DataLoader::new(&data, 4).unwrap();
    let (order, lengths) = run_epoch(&mut loader, 0);
    assert_eq!(order, (0..10).collect::<Vec<_>>());
    assert_eq!(lengths, [4, 4, 2]);
    // A batch larger than the data set: one batch holding everything.
    let mut whole = DataLoader::new(&data, 100).unwrap().shuffle(0);
    assert_eq!(run_epoch(&mut whole, 0).1, [10]);
}

#[test]
fn regression_values_are_gathered_with_their_inputs() {
    let x = Tensor::from_shape_vec(vec![6, 1], (0..6).map(|v| v as f32).collect()).unwrap();
    let y = x.mapv(|v| 10.0 * v);
    let data = Dataset::from_values(x, y).unwrap();
    for shuffle in [false, true] {
        let loader = DataLoader::new(&data, 4).unwrap();
        let mut loader = if shuffle { loader.shuffle(5) } else { loader };
        let mut batches = loader.epoch(0);
        while let Some(batch) = batches.next_batch() {
            let Target::Values(values) = batch.target() else {
                panic!("values expected")
            };
            assert_eq!(values.shape(), batch.inputs.shape());
            for (v, x) in values.iter().zip(batch.inputs.iter()) {
                assert_eq!(*v, 10.0 * x);
            }
            assert!(batch.labels().is_none());
        }
    }
}

#[test]
fn zero_batch_size_is_a_typed_error() {
    let data = numbered(3);
    let err = DataLoader::new(&data, 0).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidConfig { parameter, .. } if parameter == "batch_size"),
        "{err:?}"
    );
}

#[test]
fn empty_data_set_has_no_batches() {
    let data = Dataset::from_labels(Tensor::zeros(vec![0, 3]), vec![], 2).unwrap();
    let mut loader = DataLoader::new(&data, 4).unwrap().shuffle(0);
    assert_eq!(loader.num_batches(), 0);
    assert!(loader.epoch(0).next_batch().is_none());
}
