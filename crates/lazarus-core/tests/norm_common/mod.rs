//! Helpers shared by the BatchNorm and LayerNorm tests.
#![allow(dead_code)] // each test file uses some of them

use lazarus_core::{Error, Layer, Mode, Tensor, TensorView};

/// The test inputs of the PyTorch scripts in the test files: value i is `((i·a) mod b − ⌊b/2⌋)/scale + shift`.
pub fn inp(shape: &[usize], (a, b, scale): (usize, usize, f64), shift: f64) -> Tensor {
    let n = shape.iter().product::<usize>();
    let value = |i: usize| (((i * a) % b) as f64 - (b / 2) as f64) / scale + shift;
    Tensor::from_shape_vec(shape, (0..n).map(|i| value(i) as f32).collect()).unwrap()
}

/// Asserts each value is within `tolerance` of PyTorch's (relative above 1, absolute below).
pub fn close(found: TensorView<'_>, expected: &[f32], tolerance: f32) {
    assert_eq!(found.len(), expected.len());
    for (i, (&f, &e)) in found.iter().zip(expected).enumerate() {
        let err = (f - e).abs() / e.abs().max(1.0);
        assert!(err <= tolerance, "element {i}: {f} vs PyTorch {e}");
    }
}

/// Set the parameter `name` to `values`, in its own shape when they fit it (else as a vector).
pub fn set_param(layer: &mut dyn Layer, name: &str, values: &[f32]) {
    layer.visit_params_mut(&mut |n, p| {
        if n == name {
            let shape = if values.len() == p.value.len() {
                p.value.shape().to_vec()
            } else {
                vec![values.len()]
            };
            p.value = Tensor::from_shape_vec(shape, values.to_vec()).unwrap();
        }
    });
}

/// The gradient of the parameter `name`.
pub fn param_grad(layer: &dyn Layer, name: &str) -> Tensor {
    let mut grad = None;
    layer.visit_params(&mut |n, p| {
        if n == name {
            grad = Some(p.grad.clone());
        }
    });
    grad.unwrap()
}

/// |a − b| ≤ tolerance · max(1, |b|) elementwise, same shape.
pub fn near(a: &Tensor, b: &Tensor, tolerance: f32) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b)
            .all(|(&a, &b)| (a - b).abs() <= tolerance * b.abs().max(1.0))
}

/// Backward before any forward, and after an evaluation forward, is `BackwardBeforeForward`;
/// after a training forward on `shape`, a gradient of shape `other` is `ShapeMismatch`.
pub fn assert_backward_errors(layer: &mut dyn Layer, shape: &[usize], other: &[usize]) {
    let x = Tensor::ones(shape.to_vec());
    for forward in [None, Some(Mode::Eval)] {
        if let Some(mode) = forward {
            layer.forward(x.view(), mode).unwrap();
        }
        let err = layer.backward(x.view()).unwrap_err();
        assert!(matches!(err, Error::BackwardBeforeForward { .. }), "{err}");
    }
    layer.forward(x.view(), Mode::Train).unwrap();
    let err = layer
        .backward(Tensor::zeros(other.to_vec()).view())
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}
