"""PyTorch's time for the work `cargo bench --bench activations` measures (not part of CI).

Forward + backward of ReLU, LeakyReLU, PReLU (256 channels) and ELU on a [16384, 256] float32
batch on one CPU thread, reported in ns/element, plus a copy of the same bytes as the yardstick.
Two variants: through autograd (`torch.autograd.grad`, what a training step pays) and the raw
ATen kernels alone (no autograd bookkeeping: PyTorch's floor).

    python3 benches/compare/activations.py
"""

import statistics
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
SHAPE = (16384, 256)
N = SHAPE[0] * SHAPE[1]
x = torch.randn(SHAPE)
g = torch.randn(SHAPE)
w = torch.full((256,), 0.25)


def bench(fn, repeats=30, warmup=5):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / N, statistics.stdev(times) / N


xg = x.clone().requires_grad_(True)
wg = w.clone().requires_grad_(True)
y_buf, dx_buf = torch.empty(SHAPE), torch.empty(SHAPE)
autograd = {
    "relu": lambda: torch.autograd.grad(F.relu(xg), xg, g),
    "leaky_relu": lambda: torch.autograd.grad(F.leaky_relu(xg, 0.01), xg, g),
    "prelu_256": lambda: torch.autograd.grad(F.prelu(xg, wg), (xg, wg), g),
    "elu": lambda: torch.autograd.grad(F.elu(xg), xg, g),
}
aten = torch.ops.aten
raw = {
    "memcpy": lambda: (y_buf.copy_(x), dx_buf.copy_(g)),
    "relu": lambda: aten.threshold_backward(g, aten.relu(x), 0),
    "leaky_relu": lambda: aten.leaky_relu_backward(g, x, 0.01, False) if aten.leaky_relu(x, 0.01) is not None else None,
    "prelu_256": lambda: aten._prelu_kernel_backward(g, x, w) if aten._prelu_kernel(x, w) is not None else None,
    "elu": lambda: aten.elu_backward(g, 1.0, 1, 1, False, x) if aten.elu(x) is not None else None,
}
print(f"torch {torch.__version__}, 1 thread, [16384, 256] float32, forward + backward, ns/element")
print(f"{'':12} {'autograd':>18} {'raw kernels':>18}")
for name in ["memcpy", "relu", "leaky_relu", "prelu_256", "elu"]:
    a = "%7.3f ± %5.3f" % bench(autograd[name]) if name in autograd else ""
    r = "%7.3f ± %5.3f" % bench(raw[name])
    print(f"{name:12} {a:>18} {r:>18}")
