//! The settings of a [`Conv2d`](super::Conv2d), as PyTorch's `nn.Conv2d` takes them, checked
//! where they are given, and the layer built from them (PyTorch's default init, or given
//! parameters). The output-size formula is in `geometry.rs`.

use ndarray::IxDyn;
use rand::Rng;

use super::Conv2d;
use crate::init::{self, FanMode, Nonlinearity};
use crate::kernels::ConvScratch;
use crate::{Error, Param, ParamRole, Result, Size2d, Tensor};

/// How many zeros surround the input (PyTorch's `padding` with `padding_mode="zeros"`).
///
/// ```
/// use lazarus_core::Padding;
/// assert_eq!(Padding::from(1), Padding::Explicit(1, 1));
/// assert_eq!(Padding::from((0, 2)), Padding::Explicit(0, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// `(height, width)` zeros on each side (PyTorch's int or pair; `"valid"` is `(0, 0)`).
    Explicit(usize, usize),
    /// PyTorch's `"same"`: the output has the input's size (stride 1 only). The total padding
    /// of a dimension is `dilation · (kernel − 1)`; when it is odd, the extra zero goes to the
    /// bottom or right, as PyTorch does it: top = total / 2, bottom = total − top.
    Same,
    /// PyTorch's `"valid"`: no padding, like `Explicit(0, 0)` but printed as `padding=valid`.
    Valid,
}

impl From<usize> for Padding {
    fn from(n: usize) -> Self {
        Padding::Explicit(n, n)
    }
}

impl From<(usize, usize)> for Padding {
    fn from((h, w): (usize, usize)) -> Self {
        Padding::Explicit(h, w)
    }
}

/// The settings of a [`Conv2d`](super::Conv2d), with PyTorch's names and defaults: stride 1,
/// padding 0, dilation 1, groups 1, with bias. Each setter checks its value;
/// [`build`](Conv2dSettings::build) and [`with_params`](Conv2dSettings::with_params) check
/// them all together (groups dividing the channels, `"same"` with stride 1), so settings
/// written as a struct literal are checked too.
///
/// ```
/// use lazarus_core::{Conv2dSettings, Layer, Padding};
/// use rand::{rngs::StdRng, SeedableRng};
/// let conv = Conv2dSettings::new(16, 32, 3)
///     .padding(Padding::Same)
///     .groups(4)?
///     .bias(false)
///     .build(&mut StdRng::seed_from_u64(0))?;
/// assert_eq!(conv.describe(), "Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=4, bias=False)");
/// assert_eq!(conv.weight().value.shape(), &[32, 4, 3, 3]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dSettings {
    /// Channels of the input, C.
    pub in_channels: usize,
    /// Channels of the output, O (one kernel each).
    pub out_channels: usize,
    /// `(kh, kw)`.
    pub kernel_size: Size2d,
    /// Step between the kernel's positions, `(sh, sw)`.
    pub stride: Size2d,
    /// Zeros around the input.
    pub padding: Padding,
    /// Spacing between the kernel's taps, `(dh, dw)`.
    pub dilation: Size2d,
    /// Independent groups of channels, G.
    pub groups: usize,
    /// Whether there is a bias.
    pub bias: bool,
}

impl Conv2dSettings {
    /// `in_channels → out_channels` with a `kernel_size` kernel, other settings at PyTorch's
    /// defaults. Sizes are checked when the layer is built.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl Into<Size2d>) -> Self {
        Self {
            in_channels,
            out_channels,
            kernel_size: kernel_size.into(),
            stride: Size2d { h: 1, w: 1 },
            padding: Padding::Explicit(0, 0),
            dilation: Size2d { h: 1, w: 1 },
            groups: 1,
            bias: true,
        }
    }

    /// Step between the kernel's positions (default 1).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if either part is 0.
    pub fn stride(mut self, stride: impl Into<Size2d>) -> Result<Self> {
        self.stride = positive_pair("stride", stride.into())?;
        Ok(self)
    }

    /// Zeros around the input (default 0).
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.padding = padding.into();
        self
    }

    /// Spacing between the kernel's taps (default 1; 2 makes a 3×3 kernel span 5×5).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if either part is 0.
    pub fn dilation(mut self, dilation: impl Into<Size2d>) -> Result<Self> {
        self.dilation = positive_pair("dilation", dilation.into())?;
        Ok(self)
    }

    /// Split the channels into `groups` independent convolutions (default 1; `groups =
    /// in_channels` is a depthwise convolution). Must divide both channel counts, checked at
    /// build.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `groups` is 0.
    pub fn groups(mut self, groups: usize) -> Result<Self> {
        if groups == 0 {
            return Err(invalid("groups", "must be positive, found 0".into()));
        }
        self.groups = groups;
        Ok(self)
    }

    /// Whether the layer adds a learned bias per output channel (default true).
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// The layer, with PyTorch's default initialization drawn from `rng` (see [`Conv2d`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if a size is 0, `groups` does not divide both channel counts,
    /// or the padding is `"same"` with a stride other than 1.
    pub fn build(self, rng: &mut impl Rng) -> Result<Conv2d> {
        self.validate()?;
        let shape = self.weight_shape();
        let mut weight = crate::try_zeros("conv2d", "in_channels/out_channels", &shape)?;
        // PyTorch's reset_parameters: kaiming_uniform_(a = √5), i.e. U(±1/√fan_in) ...
        let a = Nonlinearity::LeakyRelu(Some(5f32.sqrt()));
        init::kaiming_uniform(&mut weight, FanMode::FanIn, a, rng)?;
        // ... and the bias from U(±1/√fan_in), fan_in = C/G·kh·kw.
        let bias = if self.bias {
            let (fan_in, _) = init::fans(&shape)?;
            let mut b = Tensor::zeros(vec![self.out_channels]);
            init::uniform_symmetric(&mut b, 1.0 / (fan_in as f32).sqrt(), rng)?;
            Some(b)
        } else {
            None
        };
        self.with_params(weight, bias)
    }

    /// The layer with the given weight `[out_channels, in_channels / groups, kh, kw]` and
    /// bias `[out_channels]` (give `None` after `.bias(false)`).
    ///
    /// # Errors
    /// As [`build`](Conv2dSettings::build); [`Error::ShapeMismatch`] if a tensor has the wrong
    /// shape; [`Error::InvalidConfig`] if a bias is given exactly when the settings say
    /// `bias(false)`.
    ///
    /// ```
    /// use lazarus_core::{Conv2dSettings, Layer, Mode, Tensor};
    /// // A 2×2 kernel summing its window, over a 3×3 input counting 0..9.
    /// let mut conv = Conv2dSettings::new(1, 1, 2)
    ///     .with_params(Tensor::ones(vec![1, 1, 2, 2]), Some(Tensor::from_elem(vec![1], 0.5)))?;
    /// let x = Tensor::from_shape_vec(vec![1, 1, 3, 3], (0..9).map(|v| v as f32).collect()).unwrap();
    /// let y = conv.forward(x.view(), Mode::Eval)?;
    /// assert_eq!(y.iter().copied().collect::<Vec<_>>(), [8.5, 12.5, 20.5, 24.5]);
    /// # Ok::<(), lazarus_core::Error>(())
    /// ```
    pub fn with_params(self, weight: Tensor, bias: Option<Tensor>) -> Result<Conv2d> {
        self.validate()?;
        crate::expect_shape("conv2d weight", &self.weight_shape(), weight.shape())?;
        if let Some(b) = &bias {
            crate::expect_shape("conv2d bias", &[self.out_channels], b.shape())?;
        }
        if bias.is_some() != self.bias {
            let given = if bias.is_some() {
                "a bias was given"
            } else {
                "no bias was given"
            };
            return Err(invalid(
                "bias",
                format!("the settings say bias={}, but {given}", self.bias),
            ));
        }
        let empty = || Tensor::zeros(IxDyn(&[0, 0, 0, 0]));
        Ok(Conv2d {
            settings: self,
            weight: Param::new(weight.as_standard_layout().into_owned(), ParamRole::Weight),
            bias: bias.map(|b| Param::new(b, ParamRole::Bias)),
            input: empty(),
            has_input: false,
            output: empty(),
            grad_input: empty(),
            grad_output: empty(),
            scratch: ConvScratch::default(),
        })
    }

    /// The weight's shape, `[out_channels, in_channels / groups, kh, kw]`.
    pub fn weight_shape(&self) -> [usize; 4] {
        let Size2d { h: kh, w: kw } = self.kernel_size;
        [self.out_channels, self.in_channels / self.groups, kh, kw]
    }

    /// Check the settings together, as PyTorch's constructor does.
    pub(crate) fn validate(&self) -> Result<()> {
        let (i, o, g) = (self.in_channels, self.out_channels, self.groups);
        if i == 0 || o == 0 {
            return Err(invalid(
                "in_channels/out_channels",
                format!("must be positive, found {i} -> {o}"),
            ));
        }
        positive_pair("kernel_size", self.kernel_size)?;
        positive_pair("stride", self.stride)?;
        positive_pair("dilation", self.dilation)?;
        if g == 0 || i % g != 0 || o % g != 0 {
            return Err(invalid(
                "groups",
                format!("must divide in_channels ({i}) and out_channels ({o}), found {g}"),
            ));
        }
        if self.padding == Padding::Same && self.stride != Size2d::from(1) {
            let Size2d { h: sh, w: sw } = self.stride;
            return Err(invalid(
                "padding",
                format!("\"same\" needs stride 1, found stride ({sh}, {sw})"),
            ));
        }
        Ok(())
    }

    /// PyTorch's repr: `Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))`,
    /// with padding, dilation, groups and bias shown only when not at their defaults.
    pub(crate) fn describe(&self) -> String {
        let Size2d { h: kh, w: kw } = self.kernel_size;
        let Size2d { h: sh, w: sw } = self.stride;
        let mut s = format!(
            "Conv2d({}, {}, kernel_size=({kh}, {kw}), stride=({sh}, {sw})",
            self.in_channels, self.out_channels
        );
        match self.padding {
            Padding::Explicit(0, 0) => {}
            Padding::Explicit(ph, pw) => s += &format!(", padding=({ph}, {pw})"),
            Padding::Same => s += ", padding=same",
            Padding::Valid => s += ", padding=valid",
        }
        if self.dilation != Size2d::from(1) {
            let Size2d { h: dh, w: dw } = self.dilation;
            s += &format!(", dilation=({dh}, {dw})");
        }
        if self.groups != 1 {
            s += &format!(", groups={}", self.groups);
        }
        if !self.bias {
            s += ", bias=False";
        }
        s + ")"
    }
}

fn positive_pair(parameter: &str, pair: Size2d) -> Result<Size2d> {
    if pair.h == 0 || pair.w == 0 {
        return Err(invalid(
            parameter,
            format!("must be positive, found ({}, {})", pair.h, pair.w),
        ));
    }
    Ok(pair)
}

fn invalid(parameter: &str, reason: String) -> Error {
    Error::InvalidConfig {
        layer: "conv2d".into(),
        parameter: parameter.into(),
        reason,
    }
}
