"""PyTorch counterpart of benches/linear.rs (not part of CI).

One Linear layer's training work at the shapes of the 784-256-128-10 MLP: forward, then
backward of a fixed upstream gradient (dL/dW, dL/db, and dL/dx except for the first layer,
whose input does not require grad, as in training). Batch 128 and 32, 1 and 2 threads.
Run: python3 benches/compare/linear.py
"""
import torch

from timing import print_times, timed


def bench(inputs, outputs, batch, seconds=1.0):
    torch.manual_seed(0)
    layer = torch.nn.Linear(inputs, outputs)
    x = torch.rand(batch, inputs, requires_grad=inputs != 784)
    g = torch.rand(batch, outputs)
    return timed(lambda: layer(x).backward(g), seconds, repeat=20)


if __name__ == "__main__":
    print(f"torch {torch.__version__}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in (128, 32):
            for inputs, outputs in ((784, 256), (256, 128), (128, 10)):
                label = f"linear_fwd_bwd/{inputs}x{outputs}/b{batch}/t{threads}"
                print_times(label, bench(inputs, outputs, batch))
