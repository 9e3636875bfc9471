"""The timing loop the benches/compare/ scripts share (not part of CI).

`timed(step, seconds)` calls `step` in rounds of `repeat` calls until `seconds` have passed and
returns the median, minimum and maximum time per call, in seconds. On a shared machine the
minimum (a round nobody interrupted) is the number to compare; the median shows the noise.
"""
import time


def timed(step, seconds, repeat=1, warmup=0):
    for _ in range(warmup):
        step()
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(repeat):
            step()
        times.append((time.perf_counter() - t0) / repeat)
    times.sort()
    return times[len(times) // 2], times[0], times[-1]


def time_layer(layer, x, g, seconds, warmup=0):
    """`timed` over one training step of `layer`: forward of `x`, backward of the upstream `g`.
    `x.grad` is reset to None before each backward, so autograd hands dL/dx over without adding
    it into an old `x.grad` (in a network, dL/dx goes on to the layer before, unaccumulated)."""

    def step():
        x.grad = None
        layer(x).backward(g)

    return timed(step, seconds, repeat=10, warmup=warmup)


def print_times(label, times):
    """One line: `label: median … µs (min …, max …)`, for `times` as `timed` returns them."""
    median, lo, hi = times
    print(f"{label}: median {median * 1e6:8.1f} µs (min {lo * 1e6:.1f}, max {hi * 1e6:.1f})")
