"""PyTorch counterpart of examples/bench_cnn.rs (not part of CI).

The CNN-epoch workload: the two-convolution CNN of `--example mnist -- --model cnn`,

    Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2)
    → Conv2d(16, 32, 3, padding=1) → ReLU → MaxPool2d(2) → Flatten → Linear(1568, 10)

(`--model cnn-bn`: a BatchNorm2d after each convolution, the convolutions with bias=False),
PyTorch's default initialization, softmax cross-entropy, SGD lr 0.05 momentum 0.9. One epoch =
60,000 pre-loaded float32 samples of shape [1, 28, 28], shuffled with a randperm every epoch and
gathered by index, batch 64, PyTorch CPU eager (NCHW, the default memory format). The input does
not require a gradient, so PyTorch skips dL/dx of the first convolution, as lazarus's bare loop
does with `backward_params`. The loop itself is mlp_epoch.py's (`timed_epochs`).

Prints the same JSON line as the Rust program: seconds_per_epoch is the median over the epochs
after the first; peak_rss_mib is the process's peak resident memory (getrusage ru_maxrss, which
includes the 500 MiB or so that importing torch costs before any tensor exists:
rss_after_import_mib is that part).

Measure on a quiet machine: PyTorch's OpenMP threads spin while they wait for each other, so
with other processes competing for the cores `--threads 2` can be several times slower than on
an idle machine (here, with a load average of 3-5 on 2 cores, ~75 s per epoch against ~21 s with
OMP_WAIT_POLICY=PASSIVE, which shows how much of a slow run is contention).

Run: python3 benches/compare/cnn_epoch.py --threads 1 --epochs 3 [--model cnn-bn]
"""
import resource

import torch

from mlp_epoch import epoch_parser, parse_epoch_args, report, timed_epochs


def max_rss_mib():
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cnn(batch_norm):
    """The example's CNN; with `batch_norm`, a BatchNorm2d after each convolution, and the
    convolutions without bias (BatchNorm's mean subtraction would cancel it), as lazarus's
    `models::cnn` builds them."""
    def block(c_in, c_out):
        conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm)
        norm = [torch.nn.BatchNorm2d(c_out)] if batch_norm else []
        return [conv, *norm, torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
    return torch.nn.Sequential(
        *block(1, 16), *block(16, 32),
        torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10),
    )


def main():
    rss_after_import = max_rss_mib()
    parser = epoch_parser(__doc__.splitlines()[0], batch_size=64, epochs=3)
    parser.add_argument("--model", choices=["cnn", "cnn-bn"], default="cnn")
    args = parse_epoch_args(parser)
    # MNIST-shaped data in [0, 1]; the values do not change the work, only the shapes do.
    x = torch.rand(args.samples, 1, 28, 28, dtype=torch.float32)
    y = torch.randint(0, 10, (args.samples,))
    model = cnn(args.model == "cnn-bn")
    times, final_loss = timed_epochs(model, x, y, args)
    print(report(
        "cnn_epoch", args, times, final_loss, model=args.model,
        peak_rss_mib=round(max_rss_mib(), 1), rss_after_import_mib=round(rss_after_import, 1),
    ))


if __name__ == "__main__":
    main()
