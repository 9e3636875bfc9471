//! Procedural MNIST-shaped digits: the data set that needs no download.
//!
//! Each digit 0–9 is a few strokes (line segments, elliptic arcs and quadratic curves) in a
//! small font with one to three styles per digit (a 1 with or without a flag and a foot, an open
//! or closed 4, a 7 with or without a bar, ...). Every sample then gets its own:
//!
//! * **a loose hand**: each stroke lands up to 0.06 glyph heights off its place in the font, and
//!   a smooth sinusoidal displacement bends all of them (a slightly elastic hand),
//! * **affine jitter**: scale (15–20 px tall), aspect (±25 %), slant (shear ±0.4), rotation
//!   (±14°), then the ink's centre of mass is put within 1.75 px of the image's middle (MNIST
//!   centres its digits by centre of mass too),
//! * **pen**: stroke radius 0.8–1.7 px and ink 0.7–1.0, drawn anti-aliased (1-pixel coverage
//!   ramp),
//! * **noise**: additive Gaussian noise with a standard deviation up to 0.1, clamped to [0, 1].
//!
//! The result looks like handwriting on a 28 × 28 canvas, hard enough that a linear softmax
//! classifier stays well below 100 % and easy enough that a small MLP passes 95 % in a few
//! epochs (both are checked by this crate's tests).

use lazarus_core::{Tensor, try_zeros};
use ndarray_rand::rand_distr::{Distribution, Normal};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::Result;

use super::{Dataset, ImageLayout};

/// Image side in pixels, as MNIST.
const SIDE: usize = 28;

/// Largest displacement of a single stroke from its place in the font, in glyph heights.
const STROKE_JITTER: f32 = 0.06;

/// A generator of MNIST-like handwritten digits, deterministic for its seed.
///
/// Output format is the one [`Mnist`](super::Mnist) loads: 28 × 28 grayscale, ink = 1,
/// background = 0, `[n, 784]` by default or `[n, 1, 28, 28]` with [`ImageLayout::Nchw`]; labels
/// `0..10`, balanced (every class appears `⌊n/10⌋` or `⌈n/10⌉` times) in a shuffled order.
///
/// Use different seeds for the training and the test set.
///
/// ```
/// use lazarus_train::data::SyntheticDigits;
/// let train = SyntheticDigits::new(1).generate(100)?;
/// let test = SyntheticDigits::new(2).generate(50)?;
/// assert_eq!(train.inputs().shape(), &[100, 784]);
/// assert_eq!(test.num_classes(), Some(10));
/// assert_eq!(train, SyntheticDigits::new(1).generate(100)?); // same seed, same digits
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticDigits {
    seed: u64,
    layout: ImageLayout,
}

impl SyntheticDigits {
    /// A generator seeded with `seed`, producing flat `[n, 784]` images.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            layout: ImageLayout::Flat,
        }
    }

    /// Produce `[n, 784]` ([`ImageLayout::Flat`]) or `[n, 1, 28, 28]` ([`ImageLayout::Nchw`]).
    ///
    /// ```
    /// use lazarus_train::data::{ImageLayout, SyntheticDigits};
    /// let cnn = SyntheticDigits::new(0).layout(ImageLayout::Nchw).generate(3)?;
    /// assert_eq!(cnn.inputs().shape(), &[3, 1, 28, 28]);
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn layout(mut self, layout: ImageLayout) -> Self {
        self.layout = layout;
        self
    }

    /// Generate `n` digits, pixels in [0, 1].
    ///
    /// # Errors
    /// An invalid-configuration error when `n` images do not fit in memory.
    pub fn generate(&self, n: usize) -> Result<Dataset> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        // Allocate the images first, fallibly: a nonsense `n` is an error, not an abort.
        let mut inputs: Tensor =
            try_zeros("synthetic_digits", "n", &self.layout.shape(n, SIDE, SIDE))?;
        let mut labels: Vec<usize> = (0..n).map(|i| i % 10).collect();
        labels.shuffle(&mut rng);
        let pixels = inputs.as_slice_mut().expect("a fresh array is contiguous");
        let mut scratch = Scratch::default();
        for (image, &digit) in pixels.chunks_exact_mut(SIDE * SIDE).zip(&labels) {
            draw_digit(digit, &mut rng, &mut scratch, image);
        }
        Dataset::from_labels(inputs, labels, 10)
    }
}

/// One pen stroke of a glyph, in glyph units: x to the right, y downwards, the glyph's box
/// about x ∈ [-0.3, 0.3], y ∈ [-0.5, 0.5] (height 1).
#[derive(Debug, Clone, Copy)]
enum Stroke {
    /// A straight line from (x0, y0) to (x1, y1).
    Line(f32, f32, f32, f32),
    /// An elliptic arc: centre (cx, cy), radii (rx, ry), from angle a0 to a1 in degrees. 0°
    /// points right and 90° down (y grows downwards), so growing angles run clockwise on screen.
    Arc(f32, f32, f32, f32, f32, f32),
    /// A quadratic Bézier curve from (x0, y0) pulled towards (cx, cy), ending at (x1, y1).
    Curve(f32, f32, f32, f32, f32, f32),
}

use Stroke::{Arc, Curve, Line};

/// The font: for each digit, its styles; for each style, its strokes.
const GLYPHS: [&[&[Stroke]]; 10] = [
    // 0: an upright ellipse, round or narrow.
    &[
        &[Arc(0.0, 0.0, 0.27, 0.5, 0.0, 360.0)],
        &[Arc(0.0, 0.0, 0.2, 0.5, -90.0, 280.0)],
    ],
    // 1: a bar; with a flag; with a flag and a foot.
    &[
        &[Line(0.03, -0.5, -0.03, 0.5)],
        &[Line(-0.16, -0.3, 0.04, -0.5), Line(0.04, -0.5, 0.04, 0.5)],
        &[
            Line(-0.16, -0.3, 0.04, -0.5),
            Line(0.04, -0.5, 0.04, 0.5),
            Line(-0.14, 0.5, 0.22, 0.5),
        ],
    ],
    // 2: a hook, then a curved or straight diagonal, then the base.
    &[
        &[
            Arc(0.0, -0.22, 0.26, 0.28, 200.0, 380.0),
            Curve(0.244, -0.124, 0.0, 0.2, -0.28, 0.5),
            Line(-0.28, 0.5, 0.3, 0.5),
        ],
        &[
            Arc(0.0, -0.25, 0.27, 0.25, 180.0, 360.0),
            Line(0.27, -0.25, -0.28, 0.5),
            Line(-0.28, 0.5, 0.3, 0.46),
        ],
    ],
    // 3: two bowls; or a flat top and one bowl.
    &[
        &[
            Arc(0.0, -0.25, 0.25, 0.25, 200.0, 450.0),
            Arc(0.0, 0.25, 0.28, 0.25, 270.0, 520.0),
        ],
        &[
            Line(-0.25, -0.5, 0.25, -0.5),
            Line(0.25, -0.5, -0.08, -0.06),
            Arc(0.0, 0.22, 0.28, 0.28, 250.0, 520.0),
        ],
    ],
    // 4: closed (a triangle) or open (two strokes).
    &[
        &[
            Line(0.12, -0.5, -0.3, 0.18),
            Line(-0.3, 0.18, 0.3, 0.18),
            Line(0.14, -0.5, 0.14, 0.5),
        ],
        &[
            Line(-0.22, -0.5, -0.26, 0.1),
            Line(-0.26, 0.1, 0.3, 0.1),
            Line(0.16, -0.45, 0.16, 0.5),
        ],
    ],
    // 5: a flag, a short down stroke, a bowl.
    &[&[
        Line(0.27, -0.5, -0.18, -0.5),
        Line(-0.18, -0.5, -0.22, 0.0),
        Arc(0.0, 0.18, 0.27, 0.3, 215.0, 505.0),
    ]],
    // 6: a curved stem falling into a loop.
    &[&[
        Curve(0.2, -0.5, -0.28, -0.25, -0.26, 0.2),
        Arc(0.0, 0.2, 0.26, 0.3, 180.0, 540.0),
    ]],
    // 7: a bar and a diagonal; with a cross bar; with a curved stem.
    &[
        &[Line(-0.28, -0.5, 0.3, -0.5), Line(0.3, -0.5, -0.06, 0.5)],
        &[
            Line(-0.28, -0.5, 0.3, -0.5),
            Line(0.3, -0.5, -0.06, 0.5),
            Line(-0.04, 0.0, 0.26, 0.0),
        ],
        &[
            Line(-0.28, -0.5, 0.3, -0.5),
            Curve(0.3, -0.5, 0.0, 0.0, -0.02, 0.5),
        ],
    ],
    // 8: two stacked loops, the lower or the upper one larger.
    &[
        &[
            Arc(0.0, -0.26, 0.22, 0.24, 0.0, 360.0),
            Arc(0.0, 0.24, 0.27, 0.26, 0.0, 360.0),
        ],
        &[
            Arc(0.0, -0.24, 0.25, 0.26, 0.0, 360.0),
            Arc(0.0, 0.27, 0.23, 0.23, 0.0, 360.0),
        ],
    ],
    // 9: a loop on a straight or curved stem.
    &[
        &[
            Arc(0.0, -0.2, 0.26, 0.3, 0.0, 360.0),
            Line(0.26, -0.2, 0.2, 0.5),
        ],
        &[
            Arc(0.0, -0.2, 0.26, 0.3, 0.0, 360.0),
            Curve(0.26, -0.2, 0.28, 0.4, -0.18, 0.5),
        ],
    ],
];

impl Stroke {
    /// Append points along the stroke (a polyline) to `out`, in glyph units.
    fn trace(self, out: &mut Vec<[f32; 2]>) {
        match self {
            Line(x0, y0, x1, y1) => {
                // Several pieces, not one, so the wobble can bend the line.
                let pieces = 4;
                out.extend((0..=pieces).map(|i| {
                    let t = i as f32 / pieces as f32;
                    [x0 + t * (x1 - x0), y0 + t * (y1 - y0)]
                }));
            }
            Arc(cx, cy, rx, ry, a0, a1) => {
                let pieces = ((a1 - a0).abs() / 15.0).ceil().max(1.0) as usize;
                out.extend((0..=pieces).map(|i| {
                    let a = (a0 + (a1 - a0) * i as f32 / pieces as f32).to_radians();
                    [cx + rx * a.cos(), cy + ry * a.sin()]
                }));
            }
            Curve(x0, y0, cx, cy, x1, y1) => {
                let pieces = 8;
                out.extend((0..=pieces).map(|i| {
                    // B(t) = (1−t)²·p0 + 2(1−t)t·c + t²·p1
                    let t = i as f32 / pieces as f32;
                    let (u, v, w) = ((1.0 - t) * (1.0 - t), 2.0 * (1.0 - t) * t, t * t);
                    [u * x0 + v * cx + w * x1, u * y0 + v * cy + w * y1]
                }));
            }
        }
    }
}

/// The random hand of one sample: how the glyph is bent, placed and inked.
struct Hand {
    /// Wobble: amplitude (glyph units), spatial frequencies and phases of the two sinusoids.
    wobble: f32,
    freq: [f32; 2],
    phase: [f32; 2],
    /// Glyph units → pixels: the 2 × 2 linear part (scale, aspect, shear, rotation), and where
    /// the ink's centre of mass goes.
    matrix: [[f32; 2]; 2],
    centre: [f32; 2],
    /// Pen radius in pixels and ink intensity.
    radius: f32,
    ink: f32,
    /// Standard deviation of the additive pixel noise.
    noise: f32,
}

impl Hand {
    fn random(rng: &mut StdRng) -> Self {
        let height = 19.0 * rng.random_range(0.75..1.05); // MNIST digits are ~20 px tall
        let width = height * rng.random_range(0.75..1.25);
        let shear = rng.random_range(-0.4f32..0.4);
        let (sin, cos) = rng.random_range(-0.25f32..0.25).sin_cos(); // ±14°
        // M = R · Sh · S: scale (width, height), then slant x by shear·y, then rotate.
        let scaled_sheared = [[width, shear * height], [0.0, height]];
        let rotation = [[cos, -sin], [sin, cos]];
        let mut matrix = [[0.0; 2]; 2];
        for (i, row) in matrix.iter_mut().enumerate() {
            for (j, m) in row.iter_mut().enumerate() {
                *m = rotation[i][0] * scaled_sheared[0][j] + rotation[i][1] * scaled_sheared[1][j];
            }
        }
        let middle = (SIDE as f32 - 1.0) / 2.0;
        Self {
            wobble: rng.random_range(0.0..0.08),
            freq: [rng.random_range(0.5..1.5), rng.random_range(0.5..1.5)],
            phase: [rng.random_range(0.0..1.0), rng.random_range(0.0..1.0)],
            matrix,
            centre: [
                middle + rng.random_range(-1.75..1.75),
                middle + rng.random_range(-1.75..1.75),
            ],
            radius: rng.random_range(0.8..1.7),
            ink: rng.random_range(0.7..1.0),
            noise: rng.random_range(0.0..0.1),
        }
    }

    /// A glyph point → its pixel offset from the glyph's centre: wobble, then the linear map.
    fn place(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        use std::f32::consts::TAU;
        let x = x + self.wobble * (TAU * (self.freq[0] * y + self.phase[0])).sin();
        let y = y + self.wobble * (TAU * (self.freq[1] * x + self.phase[1])).sin();
        let m = &self.matrix;
        [m[0][0] * x + m[0][1] * y, m[1][0] * x + m[1][1] * y]
    }
}

/// Reusable buffers for drawing: every stroke's polyline, one after the other, and where each
/// stroke's points end.
#[derive(Default)]
struct Scratch {
    points: Vec<[f32; 2]>,
    ends: Vec<usize>,
}

impl Scratch {
    /// The straight pieces (a, b) of all strokes; no piece joins two different strokes.
    fn pieces(&self) -> impl Iterator<Item = ([f32; 2], [f32; 2])> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .flat_map(|(start, &end)| self.points[start..end].windows(2).map(|w| (w[0], w[1])))
    }
}

/// Draw one random sample of `digit` into `image` (28 × 28, row-major).
fn draw_digit(digit: usize, rng: &mut StdRng, scratch: &mut Scratch, image: &mut [f32]) {
    let styles = GLYPHS[digit];
    let glyph = styles[rng.random_range(0..styles.len())];
    let hand = Hand::random(rng);
    scratch.points.clear();
    scratch.ends.clear();
    for stroke in glyph {
        // Each stroke lands a little off where the font puts it, independently of the others.
        let start = scratch.points.len();
        let mut offset = || rng.random_range(-STROKE_JITTER..STROKE_JITTER);
        let (ox, oy) = (offset(), offset());
        stroke.trace(&mut scratch.points);
        for p in &mut scratch.points[start..] {
            *p = [p[0] + ox, p[1] + oy];
        }
        scratch.ends.push(scratch.points.len());
    }
    for p in scratch.points.iter_mut() {
        *p = hand.place(*p);
    }
    // Put the ink's centre of mass (the length-weighted mean of the pieces' midpoints) at the
    // hand's centre, near the image's middle: MNIST centres its digits by centre of mass too.
    let (mut sx, mut sy, mut total) = (0.0, 0.0, 1e-6);
    for (a, b) in scratch.pieces() {
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        sx += len * (a[0] + b[0]) / 2.0;
        sy += len * (a[1] + b[1]) / 2.0;
        total += len;
    }
    let (dx, dy) = (hand.centre[0] - sx / total, hand.centre[1] - sy / total);
    image.fill(0.0);
    for (a, b) in scratch.pieces() {
        let (a, b) = ([a[0] + dx, a[1] + dy], [b[0] + dx, b[1] + dy]);
        draw_segment(image, a, b, hand.radius, hand.ink);
    }
    let noise = Normal::new(0.0, hand.noise).expect("a finite, non-negative standard deviation");
    for pixel in image.iter_mut() {
        *pixel = (*pixel + noise.sample(rng)).clamp(0.0, 1.0);
    }
}

/// Ink the segment a–b with a round pen of `radius` pixels: a pixel at distance d from the
/// segment gets `ink · clamp(radius + ½ − d, 0, 1)` (full inside, a one-pixel anti-aliased
/// edge), keeping the darker of that and what is already there. Only the segment's bounding
/// box is visited, which keeps generation fast.
fn draw_segment(image: &mut [f32], a: [f32; 2], b: [f32; 2], radius: f32, ink: f32) {
    let reach = radius + 0.5;
    let last = (SIDE - 1) as f32;
    let range = |lo: f32, hi: f32| {
        let lo = (lo - reach).floor().clamp(0.0, last) as usize;
        let hi = (hi + reach).ceil().clamp(0.0, last) as usize;
        lo..=hi
    };
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let inv_len2 = 1.0 / (dx * dx + dy * dy).max(1e-12);
    for row in range(a[1].min(b[1]), a[1].max(b[1])) {
        let py = row as f32 - a[1];
        for col in range(a[0].min(b[0]), a[0].max(b[0])) {
            let px = col as f32 - a[0];
            // Closest point of the segment: a + t·(b − a), t = clamp(⟨p − a, b − a⟩ / |b − a|²).
            let t = ((px * dx + py * dy) * inv_len2).clamp(0.0, 1.0);
            let (ex, ey) = (px - t * dx, py - t * dy);
            let value = ink * (reach - (ex * ex + ey * ey).sqrt()).clamp(0.0, 1.0);
            let pixel = &mut image[row * SIDE + col];
            *pixel = pixel.max(value);
        }
    }
}
