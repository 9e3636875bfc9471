"""PyTorch counterpart of benches/optim_step.rs (not part of CI).

One optimizer step over the parameters of a 784-256-128-10 MLP, state already built.
Run: python3 benches/compare/optim_step.py
"""
import torch

from timing import timed


def mlp():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.Linear(256, 128), torch.nn.Linear(128, 10))
    for p in model.parameters():
        n = p.numel()
        p.grad = (1e-3 * (torch.arange(n, dtype=torch.float32) / n - 0.5)).reshape(p.shape)
    return model


def bench(name, make, foreach, seconds=3.0):
    model = mlp()
    opt = make(model.parameters(), foreach)
    opt.step()  # build the state
    median, lo, hi = timed(opt.step, seconds, repeat=100)
    print(f"{name:<40} foreach={foreach!s:<5} median {median * 1e6:8.1f} µs  "
          f"(min {lo * 1e6:.1f}, max {hi * 1e6:.1f})")


if __name__ == "__main__":
    torch.set_num_threads(1)
    for foreach in (False, True):
        bench("adam_step_784_256_128_10", lambda p, f: torch.optim.Adam(p, lr=1e-3, foreach=f), foreach)
        bench("adamw_step_784_256_128_10", lambda p, f: torch.optim.AdamW(p, lr=1e-3, foreach=f), foreach)
        bench("sgd_momentum_step_784_256_128_10",
              lambda p, f: torch.optim.SGD(p, lr=0.01, momentum=0.9, foreach=f), foreach)
