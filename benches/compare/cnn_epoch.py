"""PyTorch counterpart of examples/bench_cnn.rs (not part of CI).

The CNN-epoch workload: the two-convolution CNN of `--example mnist -- --model cnn`,

    Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2)
    → Conv2d(16, 32, 3, padding=1) → ReLU → MaxPool2d(2) → Flatten → Linear(1568, 10)

(`--model cnn-bn`: a BatchNorm2d after each convolution, the convolutions keeping their bias),
PyTorch's default initialization, softmax cross-entropy, SGD lr 0.05 momentum 0.9. One epoch =
60,000 pre-loaded float32 samples of shape [1, 28, 28], shuffled with a randperm every epoch and
gathered by index, batch 64, PyTorch CPU eager (NCHW, the default memory format). The input does
not require a gradient, so PyTorch skips dL/dx of the first convolution, as lazarus's bare loop
does with `backward_params`.

Prints the same JSON line as the Rust program: seconds_per_epoch is the median over the epochs
after the first; peak_rss_mib is the process's peak resident memory (getrusage ru_maxrss, which
includes the ~300 MiB or more that importing torch costs before any tensor exists:
rss_after_import_mib is that part).

Run: python3 benches/compare/cnn_epoch.py --threads 1 --epochs 3 [--model cnn-bn]
"""
import argparse
import json
import resource
import time

import torch


def max_rss_mib():
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cnn(batch_norm):
    """The example's CNN; with `batch_norm`, a BatchNorm2d after each convolution."""
    def block(c_in, c_out):
        conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1)
        norm = [torch.nn.BatchNorm2d(c_out)] if batch_norm else []
        return [conv, *norm, torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
    return torch.nn.Sequential(
        *block(1, 16), *block(16, 32),
        torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10),
    )


def main():
    rss_after_import = max_rss_mib()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["cnn", "cnn-bn"], default="cnn")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is a warm-up)")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    # MNIST-shaped data in [0, 1]; the values do not change the work, only the shapes do.
    x = torch.rand(args.samples, 1, 28, 28, dtype=torch.float32)
    y = torch.randint(0, 10, (args.samples,))
    model = cnn(args.model == "cnn-bn")
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    times = []
    loss_sum, seen = 0.0, 0
    for _ in range(args.epochs):
        start = time.perf_counter()
        perm = torch.randperm(args.samples)
        loss_sum, seen = 0.0, 0
        for i in range(0, args.samples, args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = x[idx], y[idx]
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            # The same bookkeeping as the Rust bare loop: the mean loss of the epoch.
            loss_sum += loss.item() * len(idx)
            seen += len(idx)
        times.append(time.perf_counter() - start)

    timed = sorted(times[1:])
    n = len(timed)
    median = timed[n // 2] if n % 2 else (timed[n // 2 - 1] + timed[n // 2]) / 2
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "workload": "cnn_epoch",
        "model": args.model,
        "mode": "eager",
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "samples": args.samples,
        "epochs": args.epochs,
        "seconds_per_epoch": median,
        "min": timed[0],
        "max": timed[-1],
        "samples_per_second": args.samples / median,
        "first_epoch_seconds": times[0],
        "final_loss": loss_sum / seen,
        "peak_rss_mib": round(max_rss_mib(), 1),
        "rss_after_import_mib": round(rss_after_import, 1),
    }))


if __name__ == "__main__":
    main()
