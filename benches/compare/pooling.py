"""PyTorch counterpart of benches/pooling.rs (not part of CI).

MaxPool2d(2) forward then backward of a fixed upstream gradient, on [64, 16, 28, 28] (after the
MNIST CNN's first convolution) and [64, 32, 14, 14] (after the second), 1 and 2 threads.
Run: python3 benches/compare/pooling.py
"""
import torch

from timing import print_times, time_layer


def bench(shape, seconds=2.0):
    torch.manual_seed(0)
    pool = torch.nn.MaxPool2d(2)
    x = torch.randn(*shape, requires_grad=True)
    g = torch.randn(shape[0], shape[1], shape[2] // 2, shape[3] // 2)
    return time_layer(pool, x, g, seconds, warmup=5)


if __name__ == "__main__":
    print(f"torch {torch.__version__}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for shape in ((64, 16, 28, 28), (64, 32, 14, 14)):
            name = "x".join(str(d) for d in shape)
            print_times(f"max_pool2d_fwd_bwd/{name}/t{threads}", bench(shape))
