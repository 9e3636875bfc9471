//! `gemm` against the product in f64, for every kernel, cut and thread count.

use super::*;
use crate::set_num_threads;
use ndarray::Array2;
use rand::{Rng, SeedableRng, rngs::StdRng};

fn random(shape: (usize, usize), rng: &mut StdRng) -> Array2<f32> {
    Array2::from_shape_fn(shape, |_| rng.random_range(-1.0..1.0))
}

/// Every kernel this CPU can run on these layouts, whether or not [`choose`] would pick it
/// here (an AVX-512 machine never picks the AVX2 kernels, yet they must stay right).
fn runnable(a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>) -> Vec<Kernel> {
    #[allow(unused_mut)]
    let mut kernels = vec![Kernel::Faer];
    #[cfg(target_arch = "x86_64")]
    if super::super::gemm_avx2::available() {
        let ([_, csa], [rsb, csb]) = (strides(a), strides(b));
        if csb == 1 {
            kernels.push(Kernel::Rows);
        }
        if csa == 1 && rsb == 1 {
            kernels.push(Kernel::Dot);
        }
    }
    kernels
}

/// Each kernel against the product in f64, within the classic bound for a sum of k + 1
/// rounded terms in any order, |error| ≤ (k + 1)·u·(|A|·|B| + |β·C|)ᵢⱼ with u = 2⁻²⁴; and
/// bit-for-bit the same for every thread count and cut. Layouts: B's rows contiguous
/// (`Rows`), A's rows and B's columns contiguous (`Dot`), both transposed (faer
/// only); shapes around the tile edges, and one large enough to be cut.
#[test]
fn every_kernel_right_and_identical_for_every_thread_count_and_cut() {
    let mut rng = StdRng::seed_from_u64(0);
    let shapes = [
        (128, 784, 256),
        (32, 784, 256),
        (256, 32, 784),
        (130, 70, 333),
        (33, 10, 128),
        (7, 300, 17),
        (5, 3, 2),
        (1, 1, 1),
        (64, 0, 8),
    ];
    for &(m, k, n) in &shapes {
        let (a, at) = (random((m, k), &mut rng), random((k, m), &mut rng));
        let (b, bt) = (random((k, n), &mut rng), random((n, k), &mut rng));
        let c0 = random((m, n), &mut rng);
        for beta in [0.0, 1.0] {
            for (a, b) in [(a.view(), b.view()), (at.t(), bt.t()), (a.view(), bt.t())] {
                let (a64, b64) = (a.mapv(f64::from), b.mapv(f64::from));
                let c64 = c0.mapv(f64::from) * f64::from(beta);
                let exact = a64.dot(&b64) + &c64;
                let bound = (a64.abs().dot(&b64.abs()) + c64.abs())
                    * ((k as f64 + 1.0) * f64::powi(2.0, -24));
                for kernel in runnable(&a, &b) {
                    let mut first: Option<Array2<f32>> = None;
                    for threads in [1, 2, 3] {
                        for split in [Split::Rows, Split::Cols] {
                            set_num_threads(threads);
                            let mut c = c0.clone();
                            run(a, b, beta, &mut c.view_mut(), kernel, split);
                            let what = format!("{m}x{k}x{n} β {beta} {kernel:?} {split:?}");
                            for ((&got, &want), &tol) in c.iter().zip(&exact).zip(&bound) {
                                let err = (f64::from(got) - want).abs();
                                assert!(err <= tol + 1e-30, "{what}: {got} vs {want}");
                            }
                            match &first {
                                None => first = Some(c),
                                Some(f) => assert_eq!(&c, f, "{what}, {threads} threads"),
                            }
                        }
                    }
                }
            }
        }
    }
    set_num_threads(0);
}

#[test]
fn weight_gradients_are_cut_by_rows_the_other_products_by_columns() {
    // A Linear layer 784 → 256 at batch 32: x is [32, 784], G is [32, 256].
    let (x, g) = (
        Array2::<f32>::zeros((32, 784)),
        Array2::<f32>::zeros((32, 256)),
    );
    let split = |a: ArrayView2<'_, f32>| {
        let [rsa, csa] = strides(&a);
        split_for(rsa, csa)
    };
    assert_eq!(split(x.view()), Split::Cols, "y = x·Wᵀ");
    assert_eq!(split(g.t()), Split::Rows, "dW = Gᵀ·x");
    assert_eq!(split(g.view()), Split::Cols, "dx = G·W");
}
