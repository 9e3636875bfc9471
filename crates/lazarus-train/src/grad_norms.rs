//! The gradient norms of one training step, measured once and shared by clipping and the
//! diagnostics.

use lazarus_core::{Layer, sum_squares};

/// ‖∇θ‖² of every parameter (in the model's visit order, each summed in f64), and the total
/// ‖∇‖₂ = √(Σ ‖∇θ‖²): the same sums, in the same order, as `clip_grad_norm`'s L2 norm, so the
/// clipped gradients are bit for bit those `clip_grad_norm` would give.
#[derive(Debug, Default)]
pub(crate) struct GradNorms {
    squares: Vec<f64>,
}

impl GradNorms {
    /// When `needed`, measure `model`'s gradients (reusing the buffer) and return the total
    /// ‖∇‖₂ in f32, as `grad_norm(model, NormType::L2)` returns it; else forget the last step's.
    pub(crate) fn measure(&mut self, model: &dyn Layer, needed: bool) -> Option<f32> {
        self.squares.clear();
        if !needed {
            return None;
        }
        model.visit_params(&mut |_, p| self.squares.push(sum_squares(&p.grad.view())));
        Some(
            self.squares
                .iter()
                .fold(0.0f64, |total, s| total + s)
                .sqrt() as f32,
        )
    }

    /// ‖∇θ‖² per parameter; empty when not measured this step.
    pub(crate) fn squares(&self) -> &[f64] {
        &self.squares
    }
}
