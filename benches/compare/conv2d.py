"""PyTorch counterpart of benches/conv2d.rs (not part of CI).

One Conv2d layer's training work at the shapes of the MNIST CNN (issue 16), batch 64:
conv1 = Conv2d(1, 16, 3, padding=1) on 28x28, conv2 = Conv2d(16, 32, 3, padding=1) on 14x14.
Forward, then backward of a fixed upstream gradient: "full" computes dL/dW, dL/db and dL/dx;
"params" only dL/dW and dL/db (the input does not require grad, as for a model's first layer).
1 and 2 threads. Prints the median and minimum time per step and GFLOP/s (2 * multiply-adds /
minimum time).
Run: python3 benches/compare/conv2d.py
"""
import torch

from timing import timed

SHAPES = {
    "conv1": (64, 1, 16, 28),
    "conv2": (64, 16, 32, 14),
}


def bench(batch, cin, cout, hw, full, seconds=1.5):
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(cin, cout, 3, padding=1)
    x = torch.rand(batch, cin, hw, hw, requires_grad=full)
    g = torch.rand(batch, cout, hw, hw)
    # Each step timed on its own: on a shared machine the minimum (a step nobody interrupted)
    # is the number to compare; the median shows the noise.
    return timed(lambda: layer(x).backward(g), seconds, warmup=5)


if __name__ == "__main__":
    print(f"torch {torch.__version__}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, (batch, cin, cout, hw) in SHAPES.items():
            for full in (True, False):
                median, lo, hi = bench(batch, cin, cout, hw, full)
                macs = batch * cout * hw * hw * cin * 9 * (3 if full else 2)
                kind = "full" if full else "params"
                print(f"conv2d_fwd_bwd/{name}/{kind}/t{threads}: median {median * 1e3:7.3f} ms "
                      f"(min {lo * 1e3:.3f}, max {hi * 1e3:.3f}), {2 * macs / lo / 1e9:5.1f} GFLOP/s at min")
