"""PyTorch counterpart of examples/bench_mlp.rs (not part of CI).

The MLP-epoch workload of benches/README.md: a 784-256-128-10 ReLU MLP, softmax cross-entropy,
SGD lr 0.05 momentum 0.9, one epoch = 60,000 pre-loaded float32 samples of shape [784],
shuffled with a randperm every epoch and gathered by index, PyTorch CPU eager. Prints the same
JSON line as the Rust program: seconds_per_epoch is the median over the epochs after the first.

Run: python3 benches/compare/mlp_epoch.py --batch-size 128 --threads 1 --epochs 6

`epoch_parser`, `parse_epoch_args`, `timed_epochs` and `report` are shared with cnn_epoch.py.
"""
import argparse
import json
import time

import torch


def epoch_parser(description, batch_size, epochs):
    """The flags every epoch bench takes, with its default batch size and epoch count."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def parse_epoch_args(parser):
    """Parse the flags, refuse fewer than 2 epochs, set the thread count and the seed."""
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is a warm-up)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return args


def timed_epochs(model, x, y, args):
    """Train `model` on (x, y) for args.epochs epochs of SGD lr 0.05 momentum 0.9 on
    cross-entropy; returns the seconds of each epoch and the mean loss of the last one."""
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
    return times, loss_sum / seen


def report(workload, args, times, final_loss, **extra):
    """The JSON line both sides print (`extra` adds keys at the end); seconds_per_epoch is the
    median over the epochs after the first."""
    timed = sorted(times[1:])
    n = len(timed)
    median = timed[n // 2] if n % 2 else (timed[n // 2 - 1] + timed[n // 2]) / 2
    return json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "workload": workload,
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
        "final_loss": final_loss,
        **extra,
    })


def main():
    args = parse_epoch_args(epoch_parser(__doc__.splitlines()[0], batch_size=128, epochs=6))
    # MNIST-shaped data in [0, 1]; the values do not change the work, only the shapes do.
    x = torch.rand(args.samples, 784, dtype=torch.float32)
    y = torch.randint(0, 10, (args.samples,))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    times, final_loss = timed_epochs(model, x, y, args)
    print(report("mlp_epoch", args, times, final_loss))


if __name__ == "__main__":
    main()
