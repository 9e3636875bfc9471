//! Two matrix-product kernels for AVX2+FMA CPUs that read the weight matrix where it lies.
//!
//! Why not only faer: a general GEMM copies ("packs") blocks of both operands into
//! its own layout before multiplying. In a small MLP one operand is a weight matrix that
//! changes every step and the batch is small (32 rows), so packing W costs as much as a good
//! part of the arithmetic. These kernels read both operands where they lie (`gemm` copies
//! only an edge panel of B narrower than 16 columns, or one whose rows would fight over the
//! same L1 cache sets), and between them cover a Linear layer's three products:
//!
//! * [`gemm`], `C ← β·C + A·B` where every row of B is contiguous (B's column stride is 1); A
//!   and C may have any strides: `dL/dW = Gᵀ x` (B = x) and `dL/dx = G W` (B = W). The
//!   micro-kernel keeps a 6×16 block of C in twelve 8-wide registers and, for each k, loads one
//!   16-wide row of B and broadcasts six elements of A: 12 FMAs for 8 loads, so the two FMA
//!   units, not the loads, set the pace.
//! * [`gemm_dot`], where A's rows and B's columns are contiguous: `y = x Wᵀ` with x and W as
//!   they are (Wᵀ's columns are W's rows), every element a dot product of two contiguous
//!   vectors. Nothing is transposed or copied.
//!
//! Each element of C is computed the same way wherever its tile starts (an FMA chain over k in
//! blocks of [`KC`] in `gemm`; eight lane sums over k, added in a fixed order, in `gemm_dot`):
//! cutting C into row or column pieces does not change a single bit.

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps,
    _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
};

/// Rows of C per micro-kernel call.
pub(crate) const MR: usize = 6;
/// Columns of C per micro-kernel call (two 8-wide registers).
pub(crate) const NR: usize = 16;
/// Depth of one pass over k: a 256×16 panel of B (16 KiB) stays in the L1 cache while every
/// row block of A streams past it.
pub(crate) const KC: usize = 256;

/// Whether this CPU can run the kernel (checked once by the caller).
pub(crate) fn available() -> bool {
    crate::has_avx2_fma()
}

/// `C[m×n] ← β·C + A[m×k]·B[k×n]`, B's rows contiguous (`rsb` between rows, column stride 1).
///
/// # Safety
/// The CPU has AVX2 and FMA ([`available`]); the pointers and strides describe valid matrices;
/// C does not overlap A or B.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    // A contiguous, zero-padded copy of a column panel of B, for ragged panels (narrower than
    // 16) and for row strides that are multiples of 256 bytes: those put every row of the
    // panel in the same few sets of the L1 cache, which then cannot keep the panel.
    let mut edge = [0.0f32; KC * NR];
    let copy = rsb % 64 == 0;
    let mut k0 = 0;
    while k0 < k {
        let kb = KC.min(k - k0);
        // Later k blocks add to what the first one stored.
        let beta = if k0 == 0 { beta } else { 1.0 };
        let mut j0 = 0;
        while j0 < n {
            let nb = NR.min(n - j0);
            // SAFETY (whole block): offsets stay inside the matrices the caller described.
            let (panel, panel_rs) = unsafe {
                let src = b.offset(k0 as isize * rsb + j0 as isize);
                if nb == NR && !copy {
                    (src, rsb)
                } else {
                    for kk in 0..kb {
                        let row = &mut edge[kk * NR..(kk + 1) * NR];
                        row[nb..].fill(0.0);
                        for (j, v) in row[..nb].iter_mut().enumerate() {
                            *v = *src.offset(kk as isize * rsb + j as isize);
                        }
                    }
                    (edge.as_ptr(), NR as isize)
                }
            };
            let mut i0 = 0;
            while i0 < m {
                let mb = MR.min(m - i0);
                // SAFETY: as above; the tile is inside C.
                unsafe {
                    let a = a.offset(i0 as isize * rsa + k0 as isize * csa);
                    let tile = Tile::at(c, rsc, csc, (i0, j0), (mb, nb), beta);
                    match mb {
                        6 => kernel::<6>(kb, a, rsa, csa, panel, panel_rs, tile),
                        5 => kernel::<5>(kb, a, rsa, csa, panel, panel_rs, tile),
                        4 => kernel::<4>(kb, a, rsa, csa, panel, panel_rs, tile),
                        3 => kernel::<3>(kb, a, rsa, csa, panel, panel_rs, tile),
                        2 => kernel::<2>(kb, a, rsa, csa, panel, panel_rs, tile),
                        _ => kernel::<1>(kb, a, rsa, csa, panel, panel_rs, tile),
                    }
                }
                i0 += MR;
            }
            j0 += NR;
        }
        k0 += KC;
    }
}

/// Where a micro-kernel's block of C goes.
#[derive(Clone, Copy)]
struct Tile {
    c: *mut f32,
    rsc: isize,
    csc: isize,
    rows: usize,
    cols: usize,
    beta: f32,
}

impl Tile {
    /// The block of C (strides `rsc`, `csc`) whose top-left element is at `(i0, j0)`, with
    /// `rows × cols` valid elements.
    ///
    /// # Safety
    /// `(i0, j0)` lies inside C.
    #[inline(always)]
    unsafe fn at(
        c: *mut f32,
        rsc: isize,
        csc: isize,
        (i0, j0): (usize, usize),
        (rows, cols): (usize, usize),
        beta: f32,
    ) -> Self {
        Self {
            // SAFETY: the caller guarantees the offset stays inside C.
            c: unsafe { c.offset(i0 as isize * rsc + j0 as isize * csc) },
            rsc,
            csc,
            rows,
            cols,
            beta,
        }
    }
}

/// `C[R×16] ← β·C + A[R×kb]·B[kb×16]`: the accumulators live in registers for the whole k loop.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel<const R: usize>(
    kb: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    tile: Tile,
) {
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    let rows: [*const f32; R] = std::array::from_fn(|i| a.wrapping_offset(i as isize * rsa));
    // SAFETY: the caller guarantees kb rows of B and R×kb elements of A.
    unsafe {
        for kk in 0..kb as isize {
            let brow = b.offset(kk * rsb);
            let b0 = _mm256_loadu_ps(brow);
            let b1 = _mm256_loadu_ps(brow.add(8));
            for i in 0..R {
                let ai = _mm256_broadcast_ss(&*rows[i].offset(kk * csa));
                acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        store(&acc, tile);
    }
}

/// `C ← β·C + acc` for the valid part of the tile. Vector stores when C's rows are contiguous
/// and the tile is full width; otherwise element by element, with the same arithmetic.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn store<const R: usize>(acc: &[[__m256; 2]; R], t: Tile) {
    // SAFETY: the tile lies inside C (caller).
    unsafe {
        if t.csc == 1 && t.cols == NR {
            for (i, acc) in acc.iter().enumerate() {
                let c = t.c.offset(i as isize * t.rsc);
                for (half, &v) in acc.iter().enumerate() {
                    let p = c.add(8 * half);
                    let v = if t.beta == 0.0 {
                        v
                    } else if t.beta == 1.0 {
                        _mm256_add_ps(_mm256_loadu_ps(p), v)
                    } else {
                        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(p), _mm256_set1_ps(t.beta)), v)
                    };
                    _mm256_storeu_ps(p, v);
                }
            }
            return;
        }
        let mut tmp = [[0.0f32; NR]; R];
        for (row, acc) in tmp.iter_mut().zip(acc) {
            _mm256_storeu_ps(row.as_mut_ptr(), acc[0]);
            _mm256_storeu_ps(row.as_mut_ptr().add(8), acc[1]);
        }
        for (i, row) in tmp.iter().enumerate().take(t.rows) {
            for (j, &v) in row.iter().enumerate().take(t.cols) {
                let p = t.c.offset(i as isize * t.rsc + j as isize * t.csc);
                *p = if t.beta == 0.0 {
                    v
                } else if t.beta == 1.0 {
                    *p + v
                } else {
                    *p * t.beta + v
                };
            }
        }
    }
}

/// `C[m×n] ← β·C + A[m×k]·B[k×n]` where A's rows and B's columns are contiguous along k
/// (`csa = 1`, `rsb = 1`): every element is a dot product of two contiguous vectors. This is
/// `y = x Wᵀ` with x and W as they lie in memory, so nothing is copied. A 4×3 block of C is
/// computed at once: per 8 values of k, 4 loads from A and 3 from B feed 12 FMAs into
/// 8-wide partial sums, added up across lanes (in a fixed order) at the end.
///
/// # Safety
/// As [`gemm`], with `csa = 1` and `rsb = 1`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn gemm_dot(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: isize,
    b: *const f32,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    let mut j0 = 0;
    while j0 < n {
        let nb = 3.min(n - j0);
        let mut i0 = 0;
        while i0 < m {
            let mb = 4.min(m - i0);
            // SAFETY: offsets stay inside the matrices the caller described.
            unsafe {
                let a = a.offset(i0 as isize * rsa);
                let b = b.offset(j0 as isize * csb);
                let t = Tile::at(c, rsc, csc, (i0, j0), (mb, nb), beta);
                match (mb, nb) {
                    (4, 3) => dot::<4, 3>(k, a, rsa, b, csb, t),
                    (4, 2) => dot::<4, 2>(k, a, rsa, b, csb, t),
                    (4, _) => dot::<4, 1>(k, a, rsa, b, csb, t),
                    (3, 3) => dot::<3, 3>(k, a, rsa, b, csb, t),
                    (3, 2) => dot::<3, 2>(k, a, rsa, b, csb, t),
                    (3, _) => dot::<3, 1>(k, a, rsa, b, csb, t),
                    (2, 3) => dot::<2, 3>(k, a, rsa, b, csb, t),
                    (2, 2) => dot::<2, 2>(k, a, rsa, b, csb, t),
                    (2, _) => dot::<2, 1>(k, a, rsa, b, csb, t),
                    (_, 3) => dot::<1, 3>(k, a, rsa, b, csb, t),
                    (_, 2) => dot::<1, 2>(k, a, rsa, b, csb, t),
                    (_, _) => dot::<1, 1>(k, a, rsa, b, csb, t),
                }
            }
            i0 += 4;
        }
        j0 += 3;
    }
}

/// An R×C block of dot products of length k.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot<const R: usize, const C: usize>(
    k: usize,
    a: *const f32,
    rsa: isize,
    b: *const f32,
    csb: isize,
    t: Tile,
) {
    let mut acc = [[_mm256_setzero_ps(); C]; R];
    let rows: [*const f32; R] = std::array::from_fn(|i| a.wrapping_offset(i as isize * rsa));
    let cols: [*const f32; C] = std::array::from_fn(|j| b.wrapping_offset(j as isize * csb));
    let body = k / 8 * 8;
    // SAFETY: every row of A and column of B has k elements (caller).
    unsafe {
        let mut kk = 0;
        while kk < body {
            let bv: [__m256; C] = std::array::from_fn(|j| _mm256_loadu_ps(cols[j].add(kk)));
            for i in 0..R {
                let av = _mm256_loadu_ps(rows[i].add(kk));
                for j in 0..C {
                    acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);
                }
            }
            kk += 8;
        }
        let mut out = [[0.0f32; NR]; R];
        for i in 0..R {
            for j in 0..C {
                let mut lanes = [0.0f32; 8];
                _mm256_storeu_ps(lanes.as_mut_ptr(), acc[i][j]);
                // Lanes added pairwise in a fixed order, then the tail of k.
                let mut sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
                    + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
                for kk in body..k {
                    sum = (*rows[i].add(kk)).mul_add(*cols[j].add(kk), sum);
                }
                out[i][j] = sum;
            }
        }
        for (i, row) in out.iter().enumerate() {
            for (j, &v) in row.iter().enumerate().take(C) {
                let p = t.c.offset(i as isize * t.rsc + j as isize * t.csc);
                *p = if t.beta == 0.0 {
                    v
                } else if t.beta == 1.0 {
                    *p + v
                } else {
                    *p * t.beta + v
                };
            }
        }
    }
}
