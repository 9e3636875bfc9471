"""PyTorch counterpart of benches/batch_norm.rs (not part of CI).

One BatchNorm2d layer's training work at the shapes of the CNN on MNIST (after the first and the
second convolution): forward in training mode (batch statistics, running statistics updated),
then backward of a fixed upstream gradient (dL/dx, dL/dγ, dL/dβ). 1 and 2 threads. x.grad is
reset to None before each backward, so autograd hands dL/dx over without adding it into an
old x.grad (in a network, BatchNorm's dL/dx goes on to the layer before, unaccumulated).
Run: python3 benches/compare/batch_norm.py
"""
import torch

from timing import print_times, time_layer


def bench(shape, seconds=2.0):
    torch.manual_seed(0)
    layer = torch.nn.BatchNorm2d(shape[1])
    x = torch.rand(*shape, requires_grad=True)
    g = torch.rand(*shape)

    return time_layer(layer, x, g, seconds)


if __name__ == "__main__":
    print(f"torch {torch.__version__}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for shape in ((64, 16, 28, 28), (64, 32, 14, 14)):
            name = "x".join(map(str, shape))
            print_times(f"batch_norm2d_fwd_bwd/{name}/t{threads}", bench(shape))
