//! `Sequential`: the finite-difference check through a chain, nested paths and errors, the
//! identity when empty, the summary table, and `backward_params`.

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::{
    Buffer, BufferKind, Error, Flatten, Layer, Linear, Mode, Result, Sequential, Tensor, TensorView,
};
use rand::{SeedableRng, rngs::StdRng};

fn two_linear(rng: &mut StdRng) -> Sequential {
    Sequential::new()
        .add(Linear::new(4, 3, rng).unwrap())
        .add(Linear::new(3, 2, rng).unwrap())
}

#[test]
fn gradcheck_linear_linear() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut model = two_linear(&mut rng);
    let x = random_input(&[5, 4], &mut rng);
    let report = GradCheck::default()
        .check_layer(&mut model, &x, &mut rng)
        .unwrap();
    assert!(report.passed(), "{report}");
    let names: Vec<_> = report.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias"]);
}

#[test]
fn nested_paths_and_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    let inner = two_linear(&mut rng);
    let mut model = Sequential::new().add(Flatten::new()).add(inner);
    let mut names = Vec::new();
    model.visit_params(&mut |n, _| names.push(n.to_string()));
    assert_eq!(names, ["1.0.weight", "1.0.bias", "1.1.weight", "1.1.bias"]);
    let err = model
        .forward(Tensor::zeros(vec![2, 5]).view(), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "linear[1.0]: expected [batch, 4], found shape [2, 5]"
    );
    let mut fresh = two_linear(&mut rng);
    assert_eq!(
        fresh
            .backward(Tensor::zeros(vec![2, 2]).view())
            .unwrap_err(),
        Error::BackwardBeforeForward {
            layer: "linear[1]".into()
        }
    );
}

#[test]
fn empty_sequential_is_identity() {
    let mut model = Sequential::new();
    let x = random_input(&[2, 3], &mut StdRng::seed_from_u64(0));
    assert_eq!(model.forward(x.view(), Mode::Train).unwrap(), x.view());
    assert_eq!(model.backward(x.view()).unwrap(), x.view());
}

#[test]
fn summary_lists_shapes_and_counts() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Sequential::new()
        .add(Flatten::new())
        .add(Linear::new(784, 10, &mut rng).unwrap());
    let text = model.summary(&[32, 1, 28, 28]).unwrap();
    assert!(text.contains("[32, 784]"), "{text}");
    assert!(text.contains("[32, 10]"), "{text}");
    assert!(text.contains("Total params: 7850"), "{text}");
    assert!(
        model
            .to_string()
            .contains("Linear(in_features=784, out_features=10, bias=true)")
    );
    assert!(matches!(
        model.summary(&[32, 10]),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// The identity, holding buffers shaped like BatchNorm1d(3)'s running mean and batch count.
struct WithBuffers {
    running_mean: Buffer,
    count: Buffer,
    y: Tensor,
}

impl Layer for WithBuffers {
    fn name(&self) -> &str {
        "with_buffers"
    }
    fn forward(&mut self, x: TensorView<'_>, _: Mode) -> Result<TensorView<'_>> {
        self.y = x.to_owned();
        Ok(self.y.view())
    }
    fn backward(&mut self, g: TensorView<'_>) -> Result<TensorView<'_>> {
        self.y = g.to_owned();
        Ok(self.y.view())
    }
    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer)) {
        f("running_mean", &self.running_mean);
        f("num_batches_tracked", &self.count);
    }
}

#[test]
fn summary_counts_buffers_apart_from_parameters() {
    let mut rng = StdRng::seed_from_u64(0);
    let buffers = WithBuffers {
        running_mean: Buffer::new(Tensor::zeros(vec![3]), BufferKind::Float),
        count: Buffer::new(Tensor::zeros(vec![]), BufferKind::Count),
        y: Tensor::zeros(vec![0]),
    };
    let model = Sequential::new()
        .add(Linear::new(4, 3, &mut rng).unwrap())
        .add(buffers);
    assert_eq!((model.param_count(), model.buffer_count()), (15, 4));
    let text = model.summary(&[8, 4]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("Params     Buffers"), "{text}");
    assert!(lines[2].ends_with("15           0"), "{text}");
    assert!(lines[3].ends_with(" 0           4"), "{text}");
    assert!(
        text.ends_with("Total params: 15\nBuffers (not trained): 4"),
        "{text}"
    );
    // A model without buffers keeps the table it always had.
    let plain = two_linear(&mut rng).summary(&[8, 4]).unwrap();
    assert!(
        !plain.contains("Buffers") && plain.ends_with("Total params: 23"),
        "{plain}"
    );
}

#[test]
fn backward_params_accumulates_the_same_gradients() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut a = two_linear(&mut StdRng::seed_from_u64(9));
    let mut b = two_linear(&mut StdRng::seed_from_u64(9));
    let x = random_input(&[3, 4], &mut rng);
    let g = random_input(&[3, 2], &mut rng);
    let grads = |m: &mut Sequential, params_only: bool| {
        m.forward(x.view(), Mode::Train).unwrap();
        if params_only {
            m.backward_params(g.view()).unwrap();
        } else {
            m.backward(g.view()).unwrap();
        }
        let mut out = Vec::new();
        m.visit_params(&mut |_, p| out.push(p.grad.clone()));
        out
    };
    assert_eq!(grads(&mut a, false), grads(&mut b, true));
}
