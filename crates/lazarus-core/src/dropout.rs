//! `Dropout`: inverted dropout, identity in evaluation.

use ndarray_rand::rand_distr::{Bernoulli, Distribution};
use rand::{SeedableRng, rngs::StdRng};

use crate::{Error, Layer, Mode, Result, Tensor, TensorView, reuse_buffer};

/// Inverted dropout, as PyTorch's `nn.Dropout(p=0.5)`.
///
/// In training, each element is kept with probability 1 − p and scaled by 1/(1 − p), so the
/// expected output equals the input and evaluation needs no rescaling:
///
/// ```text
/// y = x · m,   m = 1/(1−p) with probability 1−p, else 0      (training)
/// y = x                                                      (evaluation, probe)
/// dL/dx = dL/dy · m
/// ```
///
/// The mask comes from the layer's own RNG, seeded at construction: same seed, same masks.
/// [`Dropout::freeze_mask`] keeps the last mask for later passes (for gradient checking, or to
/// look at one sub-network).
///
/// ```
/// use lazarus_core::{Dropout, Layer, Mode, Tensor};
/// let mut d = Dropout::new(0.5, 7).unwrap();
/// let x = Tensor::ones(vec![2, 1000]);
/// let y = d.forward(x.view(), Mode::Train).unwrap();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// assert_eq!(d.forward(x.view(), Mode::Eval).unwrap(), x.view());
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    p: f32,
    rng: StdRng,
    keep: Bernoulli,
    frozen: bool,
    /// The last training mask, already scaled (0 or 1/(1−p)); empty until the first training pass.
    mask: Tensor,
    has_mask: bool,
    output: Tensor,
    grad_input: Tensor,
}

impl Dropout {
    /// Dropout with drop probability `p`, masks drawn from an RNG seeded with `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless 0 ≤ p < 1 (p = 1 would drop everything and divide by 0).
    pub fn new(p: f32, seed: u64) -> Result<Self> {
        let keep = Bernoulli::new(f64::from(1.0 - p))
            .ok()
            .filter(|_| (0.0..1.0).contains(&p))
            .ok_or_else(|| Error::InvalidConfig {
                layer: "dropout".into(),
                parameter: "p".into(),
                reason: format!("must be in [0, 1), found {}", crate::Num(p)),
            })?;
        Ok(Self {
            p,
            rng: StdRng::seed_from_u64(seed),
            keep,
            frozen: false,
            mask: Tensor::zeros(vec![0]),
            has_mask: false,
            output: Tensor::zeros(vec![0]),
            grad_input: Tensor::zeros(vec![0]),
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// When `frozen`, training passes reuse the last mask instead of drawing a new one (as long as
    /// the input shape stays the same).
    pub fn freeze_mask(&mut self, frozen: bool) {
        self.frozen = frozen;
    }
}

impl Layer for Dropout {
    fn name(&self) -> &str {
        "dropout"
    }

    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        reuse_buffer(&mut self.output, x.raw_dim());
        // Evaluation and probes are deterministic: the identity, and no draw from the RNG (a
        // probe must not shift the masks training will draw next).
        if mode != Mode::Train {
            self.has_mask = false;
            self.output.assign(&x);
            return Ok(self.output.view());
        }
        if !(self.frozen && self.has_mask && self.mask.shape() == x.shape()) {
            reuse_buffer(&mut self.mask, x.raw_dim());
            let scale = 1.0 / (1.0 - self.p);
            for m in self.mask.iter_mut() {
                *m = if self.keep.sample(&mut self.rng) {
                    scale
                } else {
                    0.0
                };
            }
        }
        self.has_mask = true;
        ndarray::Zip::from(&mut self.output)
            .and(&x)
            .and(&self.mask)
            .for_each(|y, &x, &m| *y = x * m);
        Ok(self.output.view())
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        if !self.has_mask {
            return Err(Error::BackwardBeforeForward {
                layer: "dropout".into(),
            });
        }
        crate::expect_shape("dropout", self.mask.shape(), grad_output.shape())?;
        reuse_buffer(&mut self.grad_input, grad_output.raw_dim());
        // dL/dx = dL/dy · m
        ndarray::Zip::from(&mut self.grad_input)
            .and(&grad_output)
            .and(&self.mask)
            .for_each(|dx, &g, &m| *dx = g * m);
        Ok(self.grad_input.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{GradCheck, random_input};

    #[test]
    fn gradcheck_with_fixed_mask() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut d = Dropout::new(0.3, 1).unwrap();
        let x = random_input(&[4, 6], &mut rng);
        d.forward(x.view(), Mode::Train).unwrap();
        d.freeze_mask(true);
        let report = GradCheck::default()
            .check_layer(&mut d, &x, &mut rng)
            .unwrap();
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn keeps_about_one_minus_p_and_preserves_the_mean() {
        let mut d = Dropout::new(0.2, 3).unwrap();
        let x = Tensor::ones(vec![100, 100]);
        let y = d.forward(x.view(), Mode::Train).unwrap();
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f32 / 10_000.0;
        assert!((kept - 0.8).abs() < 0.02, "{kept}");
        assert!((y.mean().unwrap() - 1.0).abs() < 0.03);
    }

    #[test]
    fn same_seed_same_masks_and_bad_p() {
        let x = Tensor::ones(vec![3, 5]);
        let mut a = Dropout::new(0.5, 9).unwrap();
        let mut b = Dropout::new(0.5, 9).unwrap();
        assert_eq!(
            a.forward(x.view(), Mode::Train).unwrap().to_owned(),
            b.forward(x.view(), Mode::Train).unwrap().to_owned()
        );
        for p in [-0.1, 1.0, f32::NAN] {
            assert!(matches!(
                Dropout::new(p, 0),
                Err(Error::InvalidConfig { .. })
            ));
        }
        a.forward(x.view(), Mode::Eval).unwrap();
        assert!(matches!(
            a.backward(x.view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
    }

    #[test]
    fn a_probe_is_the_identity_and_leaves_the_next_masks_alone() {
        let x = Tensor::ones(vec![4, 6]);
        let (mut probed, mut plain) =
            (Dropout::new(0.5, 4).unwrap(), Dropout::new(0.5, 4).unwrap());
        assert_eq!(probed.forward(x.view(), Mode::Probe).unwrap(), x);
        assert!(matches!(
            probed.backward(x.view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
        assert_eq!(
            probed.forward(x.view(), Mode::Train).unwrap().to_owned(),
            plain.forward(x.view(), Mode::Train).unwrap().to_owned()
        );
    }
}
