//! Test helpers shared by the checkpoint tests: a layer with buffers, and a safetensors file
//! rewriter.

use std::collections::HashMap;
use std::path::Path;

use lazarus_core::{
    Buffer, BufferKind, Error, Layer, Mode, Param, ParamRole, Result, Tensor, TensorView,
    reuse_buffer,
};
use ndarray::{Array1, Array2, Axis, Ix1, Ix2, IxDyn};
use safetensors::{Dtype, SafeTensors, tensor::TensorView as StView};

/// A test-only layer holding exactly the state of PyTorch's `nn.BatchNorm1d(C)` on `[N, C]`:
/// parameters `weight` (γ, role Scale) and `bias` (β), buffers `running_mean`, `running_var`
/// (Float, `[C]`) and `num_batches_tracked` (Count, 0-d). It computes BatchNorm's *eval*
/// formula in every mode, `y = (x − running_mean) / √(running_var + 1e-5) · γ + β`, and a
/// training-mode forward then updates the running statistics as PyTorch does (momentum 0.1,
/// unbiased batch variance) and counts the batch. (Not BatchNorm: training does not normalize
/// with the batch's statistics. It exists to test buffers before BatchNorm does.)
#[derive(Debug, Clone)]
pub struct RunningStats {
    weight: Param,
    bias: Param,
    pub running_mean: Buffer,
    pub running_var: Buffer,
    pub num_batches_tracked: Buffer,
    /// x̂ of the last training-mode forward, for dγ.
    normalized: Array2<f32>,
    output: Tensor,
    grad_input: Tensor,
}

const EPS: f32 = 1e-5;
const MOMENTUM: f32 = 0.1;

impl RunningStats {
    /// PyTorch's fresh `BatchNorm1d(channels)`: γ = 1, β = 0, mean 0, var 1, no batch seen.
    pub fn new(channels: usize) -> Self {
        Self {
            weight: Param::new(Tensor::ones(vec![channels]), ParamRole::Scale),
            bias: Param::new(Tensor::zeros(vec![channels]), ParamRole::Bias),
            running_mean: Buffer::new(Tensor::zeros(vec![channels]), BufferKind::Float),
            running_var: Buffer::new(Tensor::ones(vec![channels]), BufferKind::Float),
            num_batches_tracked: Buffer::new(Tensor::zeros(vec![]), BufferKind::Count),
            normalized: Array2::zeros((0, channels)),
            output: Tensor::zeros(vec![0, channels]),
            grad_input: Tensor::zeros(vec![0, channels]),
        }
    }

    /// Every buffer's values, by name, to compare two models bit for bit.
    pub fn buffers(model: &dyn Layer) -> Vec<(String, Vec<u32>)> {
        let mut out = Vec::new();
        model.visit_buffers(&mut |name, b| {
            out.push((name.into(), b.value.iter().map(|v| v.to_bits()).collect()))
        });
        out
    }
}

fn matrix(x: TensorView<'_>) -> Result<ndarray::ArrayView2<'_, f32>> {
    let shape = x.shape().to_vec();
    x.into_dimensionality::<Ix2>()
        .map_err(|_| Error::ShapeMismatch {
            layer: "running_stats".into(),
            expected: "[batch, channels]".into(),
            found: shape,
        })
}

impl Layer for RunningStats {
    fn name(&self) -> &str {
        "running_stats"
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let x = matrix(x)?;
        let vector = |t: &Tensor| t.view().into_dimensionality::<Ix1>().unwrap().to_owned();
        let (mean, var) = (
            vector(&self.running_mean.value),
            vector(&self.running_var.value),
        );
        let normalized = (&x - &mean) / &(var + EPS).mapv(f32::sqrt);
        let y = &normalized * &vector(&self.weight.value) + &vector(&self.bias.value);
        reuse_buffer(&mut self.output, IxDyn(x.shape()));
        self.output.assign(&y);
        if mode == Mode::Train {
            let batch_mean = x.mean_axis(Axis(0)).expect("a batch");
            let batch_var = x.var_axis(Axis(0), 1.0); // unbiased, as PyTorch's running_var
            let update = |r: &mut Tensor, batch: &Array1<f32>| {
                r.zip_mut_with(batch, |r, &b| *r = (1.0 - MOMENTUM) * *r + MOMENTUM * b)
            };
            update(&mut self.running_mean.value, &batch_mean);
            update(&mut self.running_var.value, &batch_var);
            self.num_batches_tracked.value += 1.0;
            self.normalized = normalized;
        }
        Ok(self.output.view())
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let g = matrix(grad_output)?;
        // dγ = Σ g · x̂, dβ = Σ g over the batch; dx = g · γ / √(running_var + eps).
        self.weight.grad += &(&g * &self.normalized).sum_axis(Axis(0)).into_dyn();
        self.bias.grad += &g.sum_axis(Axis(0)).into_dyn();
        let scale = &self.weight.value / &(&self.running_var.value + EPS).mapv(f32::sqrt);
        self.grad_input = (&g * &scale).into_dyn();
        Ok(self.grad_input.view())
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        f("weight", &self.weight);
        f("bias", &self.bias);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        f("weight", &mut self.weight);
        f("bias", &mut self.bias);
    }

    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer)) {
        f("running_mean", &self.running_mean);
        f("running_var", &self.running_var);
        f("num_batches_tracked", &self.num_batches_tracked);
    }

    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer)) {
        f("running_mean", &mut self.running_mean);
        f("running_var", &mut self.running_var);
        f("num_batches_tracked", &mut self.num_batches_tracked);
    }
}

/// A safetensors file's tensors, each `(name, dtype, shape, little-endian bytes)`.
pub type Tensors = Vec<(String, Dtype, Vec<usize>, Vec<u8>)>;

/// The tensors of the safetensors file at `path`, in the file's order.
pub fn read_tensors(path: &Path) -> Tensors {
    let bytes = std::fs::read(path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    file.iter()
        .map(|(name, v)| {
            let (dtype, shape) = (v.dtype(), v.shape().to_vec());
            (name.to_string(), dtype, shape, v.data().to_vec())
        })
        .collect()
}

/// Rewrite the safetensors file at `path` with `edit` applied to its tensors and metadata.
pub fn rewrite(path: &Path, edit: impl FnOnce(&mut Tensors, &mut HashMap<String, String>)) {
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = header.metadata().clone().unwrap_or_default();
    let mut tensors = read_tensors(path);
    edit(&mut tensors, &mut metadata);
    let views: Vec<(String, StView<'_>)> = tensors
        .iter()
        .map(|(n, dtype, s, d)| (n.clone(), StView::new(*dtype, s.clone(), d).unwrap()))
        .collect();
    let metadata = (!metadata.is_empty()).then_some(metadata);
    let out = safetensors::serialize(views, metadata).unwrap();
    std::fs::write(path, out).unwrap();
}
