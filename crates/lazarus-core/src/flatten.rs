//! `Flatten`: `[batch, d1, d2, ...]` to `[batch, d1·d2·...]`.

use ndarray::IxDyn;

use crate::{Error, Layer, Mode, Result, Tensor, TensorView, kernels, reuse_buffer};

/// Flattens every dimension after the first: `[batch, c, h, w]` becomes `[batch, c·h·w]`
/// (PyTorch's `nn.Flatten()` with its defaults `start_dim=1, end_dim=-1`).
///
/// It moves no value, so its backward just gives the gradient the input's shape back:
/// dL/dx = reshape(dL/dy, shape of x).
///
/// ```
/// use lazarus_core::{Flatten, Layer, Mode, Tensor};
/// let mut f = Flatten::new();
/// let y = f.forward(Tensor::zeros(vec![8, 1, 28, 28]).view(), Mode::Train).unwrap();
/// assert_eq!(y.shape(), &[8, 784]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Flatten {
    input_shape: Option<Vec<usize>>,
    output: Tensor,
    grad_input: Tensor,
}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Layer for Flatten {
    fn name(&self) -> &str {
        "flatten"
    }

    fn describe(&self) -> String {
        "Flatten(start_dim=1, end_dim=-1)".into()
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let out = self.output_shape(x.shape())?;
        reuse_buffer(&mut self.output, IxDyn(&out));
        // Copy in logical (row-major) order, whatever the input's memory layout.
        kernels::copy_in_order(&mut self.output, &x);
        self.input_shape = (mode == Mode::Train).then(|| x.shape().to_vec());
        Ok(self.output.view())
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let input_shape =
            self.input_shape
                .as_ref()
                .ok_or_else(|| Error::BackwardBeforeForward {
                    layer: "flatten".into(),
                })?;
        crate::expect_shape("flatten", self.output.shape(), grad_output.shape())?;
        reuse_buffer(&mut self.grad_input, IxDyn(input_shape));
        kernels::copy_in_order(&mut self.grad_input, &grad_output);
        Ok(self.grad_input.view())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match input {
            [batch, rest @ ..] if !rest.is_empty() => Ok(vec![*batch, rest.iter().product()]),
            _ => Err(Error::ShapeMismatch {
                layer: "flatten".into(),
                expected: "at least 2 dimensions [batch, ...]".into(),
                found: input.to_vec(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{GradCheck, random_input};
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn gradcheck_flatten() {
        let mut rng = StdRng::seed_from_u64(0);
        let x = random_input(&[2, 3, 2, 2], &mut rng);
        let report = GradCheck::default()
            .check_layer(&mut Flatten::new(), &x, &mut rng)
            .unwrap();
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn keeps_row_major_order_and_rejects_1d() {
        let x = Tensor::from_shape_vec(vec![2, 2, 2], (0..8).map(|v| v as f32).collect()).unwrap();
        let mut f = Flatten::new();
        let y = f.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(
            y.iter().copied().collect::<Vec<_>>(),
            (0..8).map(|v| v as f32).collect::<Vec<_>>()
        );
        assert!(matches!(
            f.forward(Tensor::zeros(vec![3]).view(), Mode::Train),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            f.backward(Tensor::zeros(vec![2, 5]).view()),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            Flatten::new().backward(Tensor::zeros(vec![2, 4]).view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
    }
}
