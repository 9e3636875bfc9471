//! The pooling layers: PyTorch's numbers (ties, NaN, padding, `ceil_mode`, both divisors,
//! adaptive windows), the finite-difference check of every backward, the fast kernels against
//! the plain references bit for bit (random shapes and settings, ties, NaN, −∞, 1 to 3
//! threads, non-contiguous inputs), errors, and buffer reuse.

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::{
    AdaptiveAvgPool2d, AvgPool2d, Error, Flatten, Layer, Linear, MaxPool2d, Mode, Sequential,
    Tensor, set_num_threads,
};
use ndarray::IxDyn;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};

fn tensor(shape: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_shape_vec(shape.to_vec(), values.to_vec()).unwrap()
}

/// Within 1e-6 + 1e-5·|torch| of PyTorch's values, NaN where PyTorch has NaN.
fn assert_close(what: &str, ours: &Tensor, torch: &[f32]) {
    assert_eq!(ours.len(), torch.len(), "{what}: length");
    for (i, (&a, &b)) in ours.iter().zip(torch).enumerate() {
        let ok = if b.is_nan() {
            a.is_nan()
        } else {
            (a - b).abs() <= 1e-6 + 1e-5 * b.abs()
        };
        assert!(ok, "{what}[{i}]: ours {a}, torch {b}");
    }
}

/// Forward `x` and backward `g` through `layer`, against PyTorch's output and input gradient.
fn check_parity(layer: &mut dyn Layer, x: &Tensor, g: &[f32], y: &[f32], dx: &[f32]) {
    let name = layer.describe();
    let out = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_close(&format!("{name} y"), &out, y);
    let g = tensor(out.shape(), g);
    let grad = layer.backward(g.view()).unwrap().to_owned();
    assert_close(&format!("{name} dx"), &grad, dx);
}

// PyTorch's values, printed by this script (torch 2.15.0, CPU, float32):
//
// import torch, numpy as np
// import torch.nn as nn
// torch.set_num_threads(1)
// def lit(v):
//     s = repr(np.float32(v)).replace("np.float32(", "").rstrip(")")
//     if s == "nan": return "f32::NAN"
//     if s == "-inf": return "f32::NEG_INFINITY"
//     if "." not in s and "e" not in s: s += ".0"
//     return s
// def arr(t): return "&[" + ", ".join(lit(v) for v in t.detach().reshape(-1).tolist()) + "]"
// def run(tag, m, x, g_seed):
//     x = x.clone().requires_grad_(True)
//     y = m(x)
//     g = torch.randn(y.shape, generator=torch.Generator().manual_seed(g_seed))
//     y.backward(g)
//     print(f"// {tag}: {m}")
//     print(f"const {tag}_G: &[f32] = {arr(g)};")
//     print(f"const {tag}_Y: &[f32] = {arr(y)};")
//     print(f"const {tag}_DX: &[f32] = {arr(x.grad)};")
// nan = float("nan")
// # Max pooling: ties (integers from a small set) and NaN, overlapping windows with padding.
// gen = torch.Generator().manual_seed(0)
// x = torch.randint(0, 3, (1, 2, 5, 6), generator=gen).float()
// x[0, 0, 1, 1] = nan
// x[0, 1, 3, 4] = nan
// x[0, 1, 4, 4] = nan
// print(f"const MAX_X: &[f32] = {arr(x)}; // {list(x.shape)}")
// run("MAX_TIES", nn.MaxPool2d(3, stride=2, padding=1), x, 1)
// run("MAX_2X2", nn.MaxPool2d(2), x, 2)
// run("MAX_DIL_CEIL", nn.MaxPool2d((2, 3), stride=(2, 1), padding=(1, 0), dilation=(2, 1), ceil_mode=True), x, 3)
// # Average pooling: padding with and without the pad in the divisor, and ceil_mode.
// x = torch.randn(1, 2, 5, 7, generator=gen)
// print(f"const AVG_X: &[f32] = {arr(x)}; // {list(x.shape)}")
// run("AVG_PAD", nn.AvgPool2d(3, stride=2, padding=1), x, 4)
// run("AVG_PAD_EXCL", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), x, 5)
// run("AVG_CEIL", nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True), x, 6)
// run("AVG_CEIL_EXCL", nn.AvgPool2d((3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True, count_include_pad=False), x, 7)
// # Adaptive: global average pooling, and a size that does not divide the input.
// run("ADAPTIVE_1", nn.AdaptiveAvgPool2d(1), x, 8)
// run("ADAPTIVE_3X4", nn.AdaptiveAvgPool2d((3, 4)), x, 9)

#[rustfmt::skip]
mod torch {
    pub const MAX_X: &[f32] = &[2.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0, f32::NAN, 1.0, 0.0, 2.0, 2.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 2.0, 0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0, 2.0, 2.0, 1.0, 2.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 2.0, 1.0, 1.0, 2.0, f32::NAN, 1.0, 2.0, 2.0, 2.0, 1.0, f32::NAN, 2.0]; // [1, 2, 5, 6]
    // MAX_TIES: MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
    pub const MAX_TIES_G: &[f32] = &[-1.5255959, -0.7502318, 0.6995424, 0.19908163, 0.8656924, 0.2444039, -0.66291136, 0.80730826, 0.43914157, 1.1712008, -2.2455578, -1.446458, 0.061155282, -0.61774445, -0.79806983, -0.13162321, -0.7984398, 0.33573052];
    pub const MAX_TIES_Y: &[f32] = &[f32::NAN, f32::NAN, 2.0, f32::NAN, f32::NAN, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, f32::NAN, 2.0, 2.0, f32::NAN];
    pub const MAX_TIES_DX: &[f32] = &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.2110536, 0.0, 0.0, 0.9439463, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.66291136, 0.0, 0.80730826, 0.43914157, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -2.2455578, 0.0, 0.0, 0.0, 0.0, 0.6146116, 0.0, 0.0, -1.446458, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.13162321, 0.0, 0.0, -0.7984398, -0.79806983, 0.0, 0.0, 0.0, 0.0, 0.0, 0.33573052, 0.0];
    // MAX_2X2: MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    pub const MAX_2X2_G: &[f32] = &[0.39229682, -0.22356401, -0.31950027, -1.2050371, 1.0444635, -0.6332277, 0.57310677, 0.54094744, -0.39190584, -1.0426788, 1.3186173, 0.747639];
    pub const MAX_2X2_Y: &[f32] = &[f32::NAN, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, f32::NAN];
    pub const MAX_2X2_DX: &[f32] = &[0.0, 0.0, -0.22356401, 0.0, 0.0, 0.0, 0.0, 0.39229682, 0.0, 0.0, -0.31950027, 0.0, 0.0, 0.0, 0.0, 1.0444635, 0.0, 0.0, -1.2050371, 0.0, 0.0, 0.0, -0.6332277, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.54094744, 0.0, 0.0, 0.0, 0.0, 0.57310677, 0.0, 0.0, -0.39190584, 0.0, 0.0, 0.0, 0.0, 1.3186173, 0.0, 0.0, -1.0426788, 0.0, 0.0, 0.0, 0.747639, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    // MAX_DIL_CEIL: MaxPool2d(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(2, 1), ceil_mode=True)
    pub const MAX_DIL_CEIL_G: &[f32] = &[-0.076644294, 0.35988152, -0.7820168, 0.071527734, 0.6648394, -0.2867803, 1.6205508, -1.596708, 0.40460715, 0.61129963, 0.7603904, -0.03364326, -0.34484532, 0.49365357, -0.07758075, -1.8053645, 0.485114, 0.20523438, 0.3384282, 1.352754, 0.37363538, 0.013416479, 0.7736732, -0.10924352];
    pub const MAX_DIL_CEIL_Y: &[f32] = &[f32::NAN, f32::NAN, 2.0, 2.0, f32::NAN, f32::NAN, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, f32::NAN, f32::NAN, 2.0, 2.0, f32::NAN, f32::NAN];
    pub const MAX_DIL_CEIL_DX: &[f32] = &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6612963, 0.0, 0.0, -0.6866464, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.40460715, 0.0, 1.37169, -0.03364326, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.8391566, -0.07758075, 0.0, -1.8053645, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.37363538, 0.0, 0.0, 0.013416479, 2.3556116, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    pub const AVG_X: &[f32] = &[0.59432304, 1.5419426, 0.5073344, -0.59103316, -0.5692481, 0.9199714, 1.1108161, 1.2898741, -1.4959149, -0.19383712, 0.44551218, 1.3252748, -1.629326, -0.54974365, -0.47983426, -0.49968153, -1.1256016, -0.3169981, -1.0924683, -0.0851943, -0.093348235, 0.6870502, -0.83831537, 0.00089182175, -0.7504268, 0.18540798, 0.62113833, 0.63818157, -0.24600095, 2.3025165, -1.8816892, -0.049727023, 1.941462, 0.79149806, -0.020251827, -0.43716955, 1.645867, -1.3601689, 0.34456542, 0.5198677, -0.3656188, -1.3024404, 0.09940346, 0.44182202, 0.2469264, 0.076887004, 0.3380058, 0.45440176, -0.8024929, -1.2951862, -0.7501815, -1.3119657, -0.21883368, -2.4350653, -0.8048265, 0.56560963, 0.6103646, 0.46688354, 1.9506571, -1.0630985, 1.1403507, -0.08988207, -0.5939908, -1.2439282, -0.10209263, -1.0335484, -0.31263882, 0.24578547, 0.37718192, 1.1012348]; // [1, 2, 5, 7]
    // AVG_PAD: AvgPool2d(kernel_size=3, stride=2, padding=1)
    pub const AVG_PAD_G: &[f32] = &[-0.9414165, 1.2632468, -0.18376939, 0.15050545, 0.10750223, -0.27803233, -2.6021352, 0.6244575, -0.71166265, 0.43494326, 1.6198226, 0.2988748, -0.81196916, 0.45443448, 1.8328514, -1.3367667, 2.1698337, -1.173561, -0.3915964, 1.4336153, 2.2564998, -0.69607776, -1.2768364, -1.4579848];
    pub const AVG_PAD_Y: &[f32] = &[0.21446943, 0.023778219, -0.010983189, -0.016475797, -0.14853576, -0.53048575, -0.14412002, -0.12203247, 0.21169448, -0.13519447, 0.30437252, 0.22561847, 0.1944359, 0.15509988, 0.1520121, -0.22401673, -0.04743267, -0.017878149, -0.28911784, -0.14124233, -0.029863635, -0.010426422, 0.033077627, 0.08828265];
    pub const AVG_PAD_DX: &[f32] = &[-0.10460183, 0.035758927, 0.14036076, 0.119941935, -0.02041882, -0.0036959928, 0.016722828, -0.092657134, 0.016811138, 0.109468274, -0.20007667, -0.30954495, -0.22343796, 0.08610699, 0.011944693, -0.01894779, -0.030892482, -0.32001862, -0.28912613, -0.21974197, 0.069384165, -0.06712894, -0.04969439, 0.017434547, -0.0917113, -0.109145835, -0.006553367, 0.102592476, -0.07907363, -0.030746602, 0.04832703, 0.22830732, 0.1799803, 0.2131886, 0.03320831, -0.0902188, -0.03972608, 0.05049272, 0.25414288, 0.20365016, 0.055120528, -0.14852963, 0.15087382, 0.07097088, -0.07990295, 0.0802365, 0.16013944, 0.1709004, 0.010760963, 0.24109262, 0.11069696, -0.13039567, -0.17390639, -0.043510713, 0.115779884, 0.1592906, 0.49181482, 0.28407717, -0.20773764, -0.39311907, -0.18538141, -0.18808913, -0.0027077198, 0.2507222, 0.17338023, -0.077341974, -0.21921268, -0.1418707, -0.303869, -0.16199832];
    // AVG_PAD_EXCL: AvgPool2d(kernel_size=3, stride=2, padding=1)
    pub const AVG_PAD_EXCL_G: &[f32] = &[1.8423299, 0.51888716, -1.7119213, -1.7013793, 2.0194194, -0.26861444, -0.1307175, -1.4374138, 2.614577, -0.43402296, 0.35233545, -0.06455148, 0.7686294, 0.9233472, -0.55832297, 0.7796258, 0.74477696, 0.031656895, -1.1724143, -1.5069404, -0.14810462, 0.37145475, 0.22725141, -0.064735174];
    pub const AVG_PAD_EXCL_Y: &[f32] = &[0.48255622, 0.035667326, -0.016474783, -0.037070543, -0.22280364, -0.53048575, -0.14412002, -0.18304871, 0.47631258, -0.20279169, 0.4565588, 0.50764155, 0.43748075, 0.23264982, 0.22801815, -0.5040376, -0.071149, -0.017878149, -0.28911784, -0.21186347, -0.06719318, -0.015639633, 0.04961644, 0.19863597];
    pub const AVG_PAD_EXCL_DX: &[f32] = &[0.46058246, 0.54706365, 0.08648119, -0.19883904, -0.28532022, -0.71066505, -0.42534482, 0.7971524, 0.8537875, 0.05663514, -0.24320924, -0.29984438, -0.96475816, -0.6649138, 0.3365699, 0.30672386, -0.02984605, -0.044370215, -0.0145241665, -0.25409314, -0.23956896, 0.99021417, 0.888031, -0.10218321, -0.057984795, 0.04419841, -0.21150844, -0.25570685, 0.65364426, 0.5813071, -0.07233716, -0.013614584, 0.058722574, 0.042584702, -0.01613787, 0.19215734, 0.34604853, 0.15389119, 0.060837366, -0.093053825, 0.10185262, 0.19490644, 0.31628683, 0.47369546, 0.15740862, -0.06591346, -0.2233221, -0.27957237, -0.056250274, 0.1241295, 0.12764692, 0.0035174328, -0.12675083, -0.13026826, -0.38142496, -0.25115672, 0.08710334, 0.1525299, 0.06542656, -0.026966467, -0.092393026, -0.35973352, -0.2673405, -0.037026156, 0.024882969, 0.061909124, 0.09978436, 0.037875235, 0.021691442, -0.016183794];
    // AVG_CEIL: AvgPool2d(kernel_size=2, stride=2, padding=1)
    pub const AVG_CEIL_G: &[f32] = &[-1.2113045, 0.6303586, -1.4713039, -1.335199, -0.48966688, 0.13174213, 0.32949707, 0.3264293, 1.0321573, 0.82660687, 0.118628204, -0.6231498, -0.31061837, 0.06272977, 0.8671762, -0.07380645, -0.9250799, 0.5594391, -0.63399684, -1.8015025, 0.614206, 1.0553848, -0.7899243, 0.25254506];
    pub const AVG_CEIL_Y: &[f32] = &[0.14858076, 0.51231927, -0.2900703, 0.50769687, 0.20250995, -0.82875884, 0.09033015, -0.58940303, 0.11026232, -0.10414907, 0.33167905, 0.50764155, -0.10929239, 0.071424514, 0.21610829, -0.4170148, -0.29894567, -0.3433497, -0.5597515, -0.146827, -0.1583909, 0.32047486, 0.0025997013, 0.19863597];
    pub const AVG_CEIL_DX: &[f32] = &[-0.30282614, 0.15758964, 0.15758964, -0.36782598, -0.36782598, -0.33379975, -0.33379975, -0.12241672, 0.032935534, 0.032935534, 0.08237427, 0.08237427, 0.08160733, 0.08160733, -0.12241672, 0.032935534, 0.032935534, 0.08237427, 0.08237427, 0.08160733, 0.08160733, 0.25803933, 0.20665172, 0.20665172, 0.029657051, 0.029657051, -0.15578745, -0.15578745, 0.25803933, 0.20665172, 0.20665172, 0.029657051, 0.029657051, -0.15578745, -0.15578745, -0.07765459, 0.015682442, 0.015682442, 0.21679404, 0.21679404, -0.018451612, -0.018451612, -0.23126997, 0.13985978, 0.13985978, -0.15849921, -0.15849921, -0.45037562, -0.45037562, -0.23126997, 0.13985978, 0.13985978, -0.15849921, -0.15849921, -0.45037562, -0.45037562, 0.1535515, 0.2638462, 0.2638462, -0.19748108, -0.19748108, 0.063136265, 0.063136265, 0.1535515, 0.2638462, 0.2638462, -0.19748108, -0.19748108, 0.063136265, 0.063136265];
    // AVG_CEIL_EXCL: AvgPool2d(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1))
    pub const AVG_CEIL_EXCL_G: &[f32] = &[-0.8201345, 0.39563116, 1.9263681, -0.33001173, 0.19844505, 0.78207266, 1.0391077, -0.7245107, -0.8489086, -1.2169294, -1.8157287, -0.34524196, -2.061478, 0.6741007, -1.3233458, -1.359769, -0.8667016, -0.5640067];
    pub const AVG_CEIL_EXCL_Y: &[f32] = &[0.94209856, 0.04199408, -0.037070543, 0.49903002, -0.32340994, -0.18304871, 0.22052464, -0.6702378, 0.50764155, -0.16888304, -0.17294753, -0.5040376, -0.19513935, -0.053237896, -0.21186347, -0.3167818, -0.11465715, 0.19863597];
    pub const AVG_CEIL_EXCL_DX: &[f32] = &[-0.41006726, 0.0, 0.09890779, 0.09890779, 0.0, 0.48159203, 0.48159203, -0.52007115, 0.0, 0.13198197, 0.13198197, 0.0, 0.61193746, 0.61193746, -0.11000391, 0.0, 0.033074174, 0.033074174, 0.0, 0.13034545, 0.13034545, 0.40954992, 0.0, -0.14805351, -0.14805351, 0.0, -0.0818817, -0.0818817, 0.51955384, 0.0, -0.18112768, -0.18112768, 0.0, -0.21222715, -0.21222715, -0.6084647, 0.0, -0.45393217, -0.45393217, 0.0, -0.08631049, -0.08631049, -1.295624, 0.0, -0.34158206, -0.34158206, 0.0, -0.30686814, -0.30686814, -0.6871593, 0.0, 0.11235011, 0.11235011, 0.0, -0.22055763, -0.22055763, -1.3670437, 0.0, -0.10432529, -0.10432529, 0.0, -0.3615593, -0.3615593, -0.6798845, 0.0, -0.2166754, -0.2166754, 0.0, -0.14100167, -0.14100167];
    // ADAPTIVE_1: AdaptiveAvgPool2d(output_size=1)
    pub const ADAPTIVE_1_G: &[f32] = &[0.2712765, -1.2729183];
    pub const ADAPTIVE_1_Y: &[f32] = &[0.06841585, -0.13992327];
    pub const ADAPTIVE_1_DX: &[f32] = &[0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, 0.007750757, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096, -0.036369096];
    // ADAPTIVE_3X4: AdaptiveAvgPool2d(output_size=(3, 4))
    pub const ADAPTIVE_3X4_G: &[f32] = &[-1.0673947, -0.71724534, 1.0897193, -1.5746837, 1.4460111, 0.6191256, -0.77368927, -2.4655654, 0.83765465, 0.16024822, -0.3353947, -1.4567648, 0.059112027, -1.1711553, 0.60886884, -1.481413, -0.69453263, -0.35321236, -2.2200427, 0.9683226, 2.6667712, -0.6656363, -1.2645276, 0.12532273];
    pub const ADAPTIVE_3X4_Y: &[f32] = &[0.48255622, 0.035667326, -0.016474783, -0.037070543, -0.22280364, -0.53048575, -0.14412002, -0.18304871, 0.47631258, -0.20279169, 0.4565588, 0.50764155, 0.43748075, 0.23264982, 0.22801815, -0.5040376, -0.071149, -0.017878149, -0.28911784, -0.21186347, -0.06719318, -0.015639633, 0.04961644, 0.19863597];
    pub const ADAPTIVE_3X4_DX: &[f32] = &[-0.26684868, -0.38638958, -0.11954089, 0.06207899, 0.18161988, -0.21205103, -0.39367092, -0.025846839, -0.07659601, -0.05074916, 0.044905253, 0.095654406, -0.7089441, -0.80459845, 0.24100184, 0.3097936, 0.06879173, -0.017173745, -0.08596548, -0.49689305, -0.41092756, 0.4504155, 0.54591525, 0.09549977, -0.046364825, -0.1418646, -0.91698337, -0.77511877, 0.20941366, 0.2361217, 0.026708037, -0.02919108, -0.055899117, -0.42009032, -0.3641912, 0.014778007, -0.18041456, -0.19519256, -0.09371442, 0.10147814, -0.26887512, -0.37035325, -0.100977436, -0.3354158, -0.23443837, -0.37963167, -0.14519328, -0.35415947, -0.20896615, -0.11575544, -0.15500125, -0.039245818, -0.28591725, -0.24667142, -0.08528432, 0.1613871, 0.55093735, 0.4007522, -0.1501852, -0.60761124, -0.457426, -0.26470825, 0.19271779, 0.6666928, 0.5557534, -0.11093938, -0.32169396, -0.21075459, -0.1794239, 0.031330682];
}
use torch::*;

#[test]
fn max_pool_matches_pytorch_with_ties_and_nan() -> Result<(), Error> {
    let x = tensor(&[1, 2, 5, 6], MAX_X);
    let mut pool = MaxPool2d::new(3)?.stride(2)?.padding(1)?;
    check_parity(&mut pool, &x, MAX_TIES_G, MAX_TIES_Y, MAX_TIES_DX);
    let mut pool = MaxPool2d::new(2)?;
    check_parity(&mut pool, &x, MAX_2X2_G, MAX_2X2_Y, MAX_2X2_DX);
    let mut pool = MaxPool2d::new((2, 3))?
        .stride((2, 1))?
        .padding((1, 0))?
        .dilation((2, 1))?
        .ceil_mode(true);
    check_parity(
        &mut pool,
        &x,
        MAX_DIL_CEIL_G,
        MAX_DIL_CEIL_Y,
        MAX_DIL_CEIL_DX,
    );
    Ok(())
}

#[test]
fn avg_pool_matches_pytorch_with_padding_and_ceil_mode() -> Result<(), Error> {
    let x = tensor(&[1, 2, 5, 7], AVG_X);
    let pad = AvgPool2d::new(3)?.stride(2)?.padding(1)?;
    check_parity(&mut pad.clone(), &x, AVG_PAD_G, AVG_PAD_Y, AVG_PAD_DX);
    let mut excl = pad.count_include_pad(false);
    check_parity(
        &mut excl,
        &x,
        AVG_PAD_EXCL_G,
        AVG_PAD_EXCL_Y,
        AVG_PAD_EXCL_DX,
    );
    let mut ceil = AvgPool2d::new(2)?.padding(1)?.ceil_mode(true);
    check_parity(&mut ceil, &x, AVG_CEIL_G, AVG_CEIL_Y, AVG_CEIL_DX);
    let mut both = AvgPool2d::new((3, 2))?
        .stride((2, 3))?
        .padding(1)?
        .ceil_mode(true)
        .count_include_pad(false);
    check_parity(
        &mut both,
        &x,
        AVG_CEIL_EXCL_G,
        AVG_CEIL_EXCL_Y,
        AVG_CEIL_EXCL_DX,
    );
    Ok(())
}

#[test]
fn adaptive_pool_matches_pytorch_global_and_non_divisor() -> Result<(), Error> {
    let x = tensor(&[1, 2, 5, 7], AVG_X);
    let mut global = AdaptiveAvgPool2d::new(1)?;
    check_parity(&mut global, &x, ADAPTIVE_1_G, ADAPTIVE_1_Y, ADAPTIVE_1_DX);
    let mut three_by_four = AdaptiveAvgPool2d::new((3, 4))?;
    check_parity(
        &mut three_by_four,
        &x,
        ADAPTIVE_3X4_G,
        ADAPTIVE_3X4_Y,
        ADAPTIVE_3X4_DX,
    );
    Ok(())
}

// Finite differences.

/// An input whose values are all distinct and at least 0.05 apart (a random permutation of a
/// grid), so that the step h = 5e-3 never changes which input holds a window's maximum.
fn untied_input(shape: &[usize], rng: &mut StdRng) -> Tensor {
    let len: usize = shape.iter().product();
    let mut values: Vec<f32> = (0..len)
        .map(|i| (i as f32 - len as f32 / 2.0) * 0.05)
        .collect();
    values.shuffle(rng);
    tensor(shape, &values)
}

fn assert_gradcheck(layer: &mut dyn Layer, x: &Tensor, rng: &mut StdRng) {
    let report = GradCheck::default().check_layer(layer, x, rng).unwrap();
    assert!(report.passed(), "{}: {report}", layer.describe());
}

#[test]
fn gradcheck_max_pool_away_from_ties() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(0);
    let x = untied_input(&[2, 2, 7, 6], &mut rng);
    let layers = [
        MaxPool2d::new(2)?,
        MaxPool2d::new(3)?.stride(2)?.padding(1)?.ceil_mode(true),
        MaxPool2d::new(2)?.stride(1)?.padding(1)?.dilation(2)?,
    ];
    for mut layer in layers {
        assert_gradcheck(&mut layer, &x, &mut rng);
    }
    Ok(())
}

#[test]
fn gradcheck_avg_pool_with_padding_and_ceil_mode() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(1);
    let x = random_input(&[2, 2, 7, 6], &mut rng);
    for include_pad in [true, false] {
        let layers = [
            AvgPool2d::new(2)?,
            AvgPool2d::new(3)?.stride(2)?.padding(1)?,
            AvgPool2d::new((3, 2))?
                .stride(2)?
                .padding(1)?
                .ceil_mode(true),
        ];
        for layer in layers {
            assert_gradcheck(&mut layer.count_include_pad(include_pad), &x, &mut rng);
        }
    }
    Ok(())
}

#[test]
fn gradcheck_adaptive_pool() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(2);
    let x = random_input(&[2, 3, 5, 7], &mut rng);
    for size in [(1, 1), (3, 4), (5, 7), (6, 9)] {
        assert_gradcheck(&mut AdaptiveAvgPool2d::new(size)?, &x, &mut rng);
    }
    Ok(())
}

// The kernels against the references.

/// A pooling layer and its plain-ndarray reference functions.
enum Case {
    Max(MaxPool2d),
    Avg(AvgPool2d),
    Adaptive(AdaptiveAvgPool2d),
}

impl Case {
    /// A random layer: max (`MaxPool2d(2)`, or any kernel, stride, padding, dilation, ceil_mode), average (either
    /// divisor) or adaptive (to any size, smaller or larger than the input).
    fn random(rng: &mut StdRng) -> Self {
        let kernel = (rng.random_range(1..=4), rng.random_range(1..=4));
        let stride = (rng.random_range(1..=3), rng.random_range(1..=3));
        let padding = (
            rng.random_range(0..=kernel.0 / 2),
            rng.random_range(0..=kernel.1 / 2),
        );
        let ceil = rng.random_bool(0.5);
        match rng.random_range(0..4) {
            // MaxPool2d(2) has loops of its own.
            0 => Case::Max(MaxPool2d::new(2).unwrap()),
            1 => Case::Max(
                MaxPool2d::new(kernel)
                    .and_then(|p| p.stride(stride))
                    .and_then(|p| p.padding(padding))
                    .and_then(|p| p.dilation((rng.random_range(1..=3), rng.random_range(1..=2))))
                    .unwrap()
                    .ceil_mode(ceil),
            ),
            2 => Case::Avg(
                AvgPool2d::new(kernel)
                    .and_then(|p| p.stride(stride))
                    .and_then(|p| p.padding(padding))
                    .unwrap()
                    .ceil_mode(ceil)
                    .count_include_pad(rng.random_bool(0.5)),
            ),
            _ => Case::Adaptive(
                AdaptiveAvgPool2d::new((rng.random_range(1..=6), rng.random_range(1..=6))).unwrap(),
            ),
        }
    }

    fn layer(&mut self) -> &mut dyn Layer {
        match self {
            Case::Max(l) => l,
            Case::Avg(l) => l,
            Case::Adaptive(l) => l,
        }
    }

    fn forward_reference(&self, x: &Tensor) -> Tensor {
        match self {
            Case::Max(l) => l.forward_reference(x.view()),
            Case::Avg(l) => l.forward_reference(x.view()),
            Case::Adaptive(l) => l.forward_reference(x.view()),
        }
        .unwrap()
    }

    fn backward_reference(&self, x: &Tensor, g: &Tensor) -> Tensor {
        match self {
            Case::Max(l) => l.backward_reference(x.view(), g.view()),
            Case::Avg(l) => l.backward_reference(x.view(), g.view()),
            Case::Adaptive(l) => l.backward_reference(x.view(), g.view()),
        }
        .unwrap()
    }
}

/// Random values: small integers (many ties) or spread reals, with some NaN and −∞.
fn awkward_input(shape: &[usize], rng: &mut StdRng) -> Tensor {
    let ties = rng.random_bool(0.5);
    Tensor::from_shape_fn(shape, |_| match rng.random_range(0..100) {
        0..3 => f32::NAN,
        3..5 => f32::NEG_INFINITY,
        _ if ties => rng.random_range(0..3) as f32,
        _ => rng.random_range(-2.0f32..2.0),
    })
}

/// Same shape and the same bits in every element (NaN included).
fn assert_same_bits(what: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "{what}[{i}]: {x} vs {y}");
    }
}

/// Forward and backward of `case` on `x` (with upstream gradient drawn from `rng`) against the
/// references, bit for bit.
fn check_against_reference(case: &mut Case, x: &Tensor, rng: &mut StdRng) {
    let name = case.layer().describe();
    let y = case
        .layer()
        .forward(x.view(), Mode::Train)
        .unwrap()
        .to_owned();
    let x_standard = x.as_standard_layout().into_owned();
    assert_same_bits(
        &format!("{name} forward"),
        &y,
        &case.forward_reference(&x_standard),
    );
    let g = awkward_input(y.shape(), rng);
    let dx = case.layer().backward(g.view()).unwrap().to_owned();
    let reference = case.backward_reference(&x_standard, &g);
    assert_same_bits(&format!("{name} backward"), &dx, &reference);
}

#[test]
fn kernels_match_references_on_random_shapes_ties_and_nan() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut checked = 0;
    while checked < 400 {
        let mut case = Case::random(&mut rng);
        let shape = [
            rng.random_range(0..3),
            rng.random_range(1..4),
            rng.random_range(1..12),
            rng.random_range(1..12),
        ];
        if case.layer().output_shape(&shape).is_err() {
            continue; // the kernel does not fit this input: tested under errors
        }
        let x = awkward_input(&shape, &mut rng);
        check_against_reference(&mut case, &x, &mut rng);
        // Twice, for buffers reused with other contents.
        check_against_reference(&mut case, &x, &mut rng);
        checked += 1;
    }
}

#[test]
fn non_contiguous_inputs_and_gradients_give_the_same_results() {
    let mut rng = StdRng::seed_from_u64(4);
    for _ in 0..50 {
        let mut case = Case::random(&mut rng);
        // Stored as [n, c, w, h], seen as [n, c, h, w].
        let stored = awkward_input(&[2, 3, 9, 8], &mut rng);
        let x = stored.view().permuted_axes(IxDyn(&[0, 1, 3, 2]));
        if case.layer().output_shape(x.shape()).is_err() {
            continue;
        }
        check_against_reference(&mut case, &x.to_owned(), &mut rng);
        let y = case
            .layer()
            .forward(x.view(), Mode::Train)
            .unwrap()
            .to_owned();
        let x_standard = x.as_standard_layout().into_owned();
        assert_same_bits("permuted input", &y, &case.forward_reference(&x_standard));
        let g_stored = awkward_input(
            &[y.shape()[0], y.shape()[1], y.shape()[3], y.shape()[2]],
            &mut rng,
        );
        let g = g_stored.view().permuted_axes(IxDyn(&[0, 1, 3, 2]));
        let dx = case.layer().backward(g.view()).unwrap().to_owned();
        let g = g.as_standard_layout().into_owned();
        assert_same_bits(
            "permuted gradient",
            &dx,
            &case.backward_reference(&x_standard, &g),
        );
    }
}

#[test]
fn same_bits_for_every_thread_count() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(5);
    // Large enough (≥ 32,768 input elements) that the planes are cut over the threads.
    let x = awkward_input(&[6, 7, 40, 36], &mut rng);
    let g_rng = StdRng::seed_from_u64(6);
    let mut cases = vec![
        Case::Max(MaxPool2d::new(2)?),
        Case::Max(MaxPool2d::new(3)?.stride(2)?.padding(1)?),
        Case::Avg(AvgPool2d::new(3)?.stride(2)?.padding(1)?),
        Case::Adaptive(AdaptiveAvgPool2d::new((5, 7))?),
    ];
    for case in &mut cases {
        let mut results = Vec::new();
        for threads in [1, 2, 3] {
            set_num_threads(threads);
            check_against_reference(case, &x, &mut g_rng.clone());
            let y = case
                .layer()
                .forward(x.view(), Mode::Train)
                .unwrap()
                .to_owned();
            let g = awkward_input(y.shape(), &mut g_rng.clone());
            let dx = case.layer().backward(g.view()).unwrap().to_owned();
            results.push((y, dx));
        }
        for (y, dx) in &results[1..] {
            assert_same_bits("output", y, &results[0].0);
            assert_same_bits("input gradient", dx, &results[0].1);
        }
    }
    set_num_threads(0);
    Ok(())
}

// Errors, settings, shapes, buffers.

#[test]
fn settings_are_checked_as_pytorch_checks_them() {
    let invalid = |r: Result<(), Error>, parameter: &str| match r {
        Err(Error::InvalidConfig { parameter: p, .. }) => assert_eq!(p, parameter),
        other => panic!("expected InvalidConfig for {parameter}, found {other:?}"),
    };
    invalid(MaxPool2d::new(0).map(drop), "kernel_size");
    invalid(MaxPool2d::new((2, 0)).map(drop), "kernel_size");
    invalid(MaxPool2d::new(2).unwrap().stride(0).map(drop), "stride");
    invalid(
        MaxPool2d::new(2).unwrap().dilation((1, 0)).map(drop),
        "dilation",
    );
    // Padding at most half the kernel size: 1 for 3 (and for 2), not 2 for 3.
    assert!(MaxPool2d::new(3).unwrap().padding(1).is_ok());
    invalid(MaxPool2d::new(3).unwrap().padding(2).map(drop), "padding");
    invalid(
        AvgPool2d::new((4, 2)).unwrap().padding((2, 2)).map(drop),
        "padding",
    );
    invalid(AvgPool2d::new(0).map(drop), "kernel_size");
    invalid(AdaptiveAvgPool2d::new((0, 3)).map(drop), "output_size");
    let err = MaxPool2d::new(3).unwrap().padding(2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "max_pool2d: invalid padding: must be at most half of kernel_size 3, found 2"
    );
}

#[test]
fn inputs_that_do_not_fit_are_errors_naming_the_layer() {
    // Not 4-D, or without channels.
    let mut pool = MaxPool2d::new(2).unwrap();
    for shape in [&[4, 4][..], &[1, 4, 4], &[1, 1, 1, 4, 4], &[2, 0, 4, 4]] {
        let err = pool
            .forward(Tensor::zeros(shape.to_vec()).view(), Mode::Train)
            .unwrap_err();
        assert!(
            matches!(err, Error::ShapeMismatch { ref found, .. } if found == shape),
            "{err}"
        );
    }
    // The kernel larger than the padded input.
    let mut big = AvgPool2d::new(5).unwrap().padding(1).unwrap();
    let err = big
        .forward(Tensor::zeros(vec![1, 1, 2, 8]).view(), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "avg_pool2d: expected [batch, channels, h, w] with h ≥ 3 and w ≥ 3 (the kernel must fit \
         in the padded input), found shape [1, 1, 2, 8]"
    );
    // Inside a model the error carries the layer's index, from forward and from summary.
    let mut cnn = Sequential::new()
        .add(MaxPool2d::new(2).unwrap())
        .add(MaxPool2d::new(4).unwrap());
    let err = cnn
        .forward(Tensor::zeros(vec![1, 3, 6, 6]).view(), Mode::Train)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("max_pool2d[1]: expected"),
        "{err}"
    );
    assert!(
        cnn.summary(&[1, 3, 6, 6])
            .unwrap_err()
            .to_string()
            .starts_with("max_pool2d[1]")
    );
    // Backward before a training forward, after an evaluation one, with a wrong gradient.
    let x = Tensor::zeros(vec![2, 3, 4, 4]);
    let mut layers: [Box<dyn Layer>; 3] = [
        Box::new(MaxPool2d::new(2).unwrap()),
        Box::new(AvgPool2d::new(2).unwrap()),
        Box::new(AdaptiveAvgPool2d::new(3).unwrap()),
    ];
    for layer in &mut layers {
        let g = Tensor::zeros(layer.output_shape(x.shape()).unwrap());
        assert!(matches!(
            layer.backward(g.view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
        layer.forward(x.view(), Mode::Eval).unwrap();
        assert!(matches!(
            layer.backward(g.view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
        layer.forward(x.view(), Mode::Train).unwrap();
        let wrong = Tensor::zeros(vec![2, 3, 1, 1]);
        assert!(matches!(
            layer.backward(wrong.view()),
            Err(Error::ShapeMismatch { .. })
        ));
        // A failed forward leaves nothing for backward either.
        assert!(
            layer
                .forward(Tensor::zeros(vec![3]).view(), Mode::Train)
                .is_err()
        );
        assert!(matches!(
            layer.backward(g.view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
    }
}

#[test]
fn describe_and_output_shapes_as_pytorch() -> Result<(), Error> {
    let max = MaxPool2d::new((3, 2))?
        .stride((3, 2))?
        .padding(1)?
        .dilation(2)?
        .ceil_mode(true);
    assert_eq!(
        max.describe(),
        "MaxPool2d(kernel_size=(3, 2), stride=(3, 2), padding=1, dilation=2, ceil_mode=true)"
    );
    assert_eq!(
        AvgPool2d::new(3)?.stride(2)?.padding(1)?.describe(),
        "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    );
    assert_eq!(
        AdaptiveAvgPool2d::new((5, 7))?.describe(),
        "AdaptiveAvgPool2d(output_size=(5, 7))"
    );
    // torch 2.15: nn.MaxPool2d(2)(torch.zeros(64, 16, 28, 28)).shape -> [64, 16, 14, 14], ...
    assert_eq!(
        MaxPool2d::new(2)?.output_shape(&[64, 16, 28, 28]).unwrap(),
        [64, 16, 14, 14]
    );
    assert_eq!(
        MaxPool2d::new(2)?.output_shape(&[8, 3, 7, 9]).unwrap(),
        [8, 3, 3, 4]
    );
    let ceil = MaxPool2d::new(2)?.ceil_mode(true);
    assert_eq!(ceil.output_shape(&[8, 3, 7, 9]).unwrap(), [8, 3, 4, 5]);
    assert_eq!(
        AdaptiveAvgPool2d::new(1)?
            .output_shape(&[0, 32, 7, 7])
            .unwrap(),
        [0, 32, 1, 1]
    );
    Ok(())
}

#[test]
fn buffers_are_reused_across_batches() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut pool = MaxPool2d::new(2)?;
    let big = random_input(&[8, 4, 12, 12], &mut rng);
    let small = random_input(&[3, 4, 12, 12], &mut rng);
    let y = pool.forward(big.view(), Mode::Train).unwrap().as_ptr();
    let g = Tensor::zeros(vec![8, 4, 6, 6]);
    let dx = pool.backward(g.view()).unwrap().as_ptr();
    // A smaller last batch, then the full size again: the same memory every time.
    for x in [&small, &big] {
        assert_eq!(pool.forward(x.view(), Mode::Train).unwrap().as_ptr(), y);
        let g = Tensor::zeros(pool.output_shape(x.shape()).unwrap());
        assert_eq!(pool.backward(g.view()).unwrap().as_ptr(), dx);
    }
    Ok(())
}

#[test]
fn summary_shows_a_pooling_stack() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(8);
    let model = Sequential::new()
        .add(MaxPool2d::new(2)?)
        .add(AvgPool2d::new(3)?.stride(2)?.padding(1)?)
        .add(AdaptiveAvgPool2d::new(1)?)
        .add(Flatten::new())
        .add(Linear::new(16, 10, &mut rng).unwrap());
    let summary = model.summary(&[64, 16, 28, 28]).unwrap();
    for row in [
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false)  [64, 16, 14, 14]",
        "AvgPool2d(kernel_size=3, stride=2, padding=1)",
        "[64, 16, 7, 7]",
        "AdaptiveAvgPool2d(output_size=1)",
        "[64, 16, 1, 1]",
        "[64, 16]",
        "[64, 10]",
        "Total params: 170",
    ] {
        assert!(summary.contains(row), "{row} not in\n{summary}");
    }
    Ok(())
}

proptest::proptest! {
    // A fixed seed: the same cases on every run.
    #![proptest_config(proptest::test_runner::Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1a2a),
        ..proptest::test_runner::Config::default()
    })]

    /// Any input shape and any settings: the output shape `output_shape` promised, or a typed
    /// error; a gradient of any shape: dL/dx of the input's shape, or a typed error. Never a
    /// panic.
    #[test]
    fn any_shape_gives_a_result_or_an_error(
        shape in proptest::collection::vec(0usize..7, 0..6),
        grad_shape in proptest::collection::vec(0usize..4, 0..6),
        seed in 0u64..1000,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut case = Case::random(&mut rng);
        let layer = case.layer();
        let x = Tensor::zeros(shape.clone());
        match (layer.output_shape(&shape), layer.forward(x.view(), Mode::Train)) {
            (Ok(out), Ok(y)) => proptest::prop_assert_eq!(y.shape(), &out[..]),
            (Err(a), Err(b)) => proptest::prop_assert_eq!(a, b),
            (a, b) => proptest::prop_assert!(false, "output_shape {:?}, forward {:?}", a, b.map(|y| y.shape().to_vec())),
        }
        match layer.backward(Tensor::zeros(grad_shape).view()) {
            Ok(dx) => proptest::prop_assert_eq!(dx.shape(), &shape[..]),
            Err(e) => {
                let typed = matches!(e, Error::ShapeMismatch { .. } | Error::BackwardBeforeForward { .. });
                proptest::prop_assert!(typed, "{}", e);
            }
        }
    }
}
