//! Gradient spikes, the exploding-gradient signal: a step whose total gradient norm is more
//! than [`DiagnosticsConfig::spike_factor`](super::DiagnosticsConfig::spike_factor) times the
//! running median of the steps before it. What one spike and one epoch's spikes record; the
//! tracker (`gradients.rs`) judges each step with [`running_median`].

/// Running medians are taken over this many previous steps. Short enough that the steady
/// growth of a healthy start (in the lab, the total norm grows 10-15x over the first 60 steps
/// as the network leaves its initialization) carries the median along (at most 7x over 20
/// steps); long enough that one noisy batch does not move it. An explosion grows the norm by
/// orders of magnitude within a few steps.
pub(super) const MEDIAN_WINDOW: usize = 20;

/// Spikes are looked for only once this many previous steps are recorded.
const MIN_SPIKE_HISTORY: usize = 10;

/// The median of the norms before the latest one in `history` (over the last
/// [`MEDIAN_WINDOW`]; the upper median of an even count), once [`MIN_SPIKE_HISTORY`] are known.
pub(super) fn running_median(history: &[f64]) -> Option<f64> {
    let previous = history.len().checked_sub(1)?;
    if previous < MIN_SPIKE_HISTORY {
        return None;
    }
    let mut window = [0.0f64; MEDIAN_WINDOW];
    let window = &mut window[..previous.min(MEDIAN_WINDOW)];
    window.copy_from_slice(&history[previous - window.len()..previous]);
    window.sort_by(f64::total_cmp);
    Some(window[window.len() / 2])
}

/// The steps of one epoch whose total gradient norm spiked: how many, and the worst.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EpochSpikes {
    /// Steps that spiked.
    pub(super) count: usize,
    /// Steps of the epoch.
    pub(super) steps: usize,
    /// The worst spike, by its ratio to the running median.
    pub(super) worst: Spike,
}

/// One step whose total gradient norm spiked.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spike {
    /// The step (batch) of the epoch, from 0.
    pub(super) step: usize,
    /// The total norm, and the running median it is compared with.
    pub(super) norm: f64,
    pub(super) median: f64,
    /// The parameter whose norm rose the most above its own running median: where the
    /// spike is.
    pub(super) param: String,
}

impl Spike {
    /// How many times its running median the total norm was.
    pub(super) fn ratio(&self) -> f64 {
        self.norm / self.median
    }
}
