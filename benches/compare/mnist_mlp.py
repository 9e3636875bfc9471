"""PyTorch counterpart of `cargo run --release --example mnist -- --data DIR` (not part of CI).

The example's defaults: a 784-256-128-10 ReLU MLP (PyTorch's default initialization), softmax
cross-entropy, Adam lr 1e-3, batch 128, shuffled every epoch, pixels scaled to [0, 1] and not
normalized, trained on the IDX files in DIR (raw or .gz, the standard names). Prints the test
accuracy and loss after each epoch and one JSON line at the end, so the accuracy lazarus reaches
on real MNIST can be compared with PyTorch's on the same machine.

Run: python3 benches/compare/mnist_mlp.py --data ~/data/mnist --epochs 10 --threads 2
"""
import argparse
import gzip
import json
import os
import struct
import time

import torch


def read_idx(folder, name, magic):
    """One IDX file as a uint8 tensor (shape from its header); accepts NAME or NAME.gz."""
    for path, opener in ((os.path.join(folder, name), open),
                         (os.path.join(folder, name + ".gz"), gzip.open)):
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            break
    else:
        raise SystemExit(f"missing {name} (or {name}.gz) in {folder}")
    found, = struct.unpack(">I", data[:4])
    if found != magic:
        raise SystemExit(f"{name}: magic {found:#x}, expected {magic:#x}")
    dims = struct.unpack(">" + "I" * (magic & 0xFF), data[4:4 + 4 * (magic & 0xFF)])
    body = data[4 + 4 * len(dims):]
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def load(folder, prefix):
    images = read_idx(folder, f"{prefix}-images-idx3-ubyte", 0x803)
    labels = read_idx(folder, f"{prefix}-labels-idx1-ubyte", 0x801)
    return images.reshape(len(images), -1).float() / 255.0, labels.long()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = load(args.data, "train")
    tx, ty = load(args.data, "t10k")
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        for idx in torch.randperm(len(x)).split(args.batch_size):
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(tx)
            test_loss = loss_fn(logits, ty).item()
            test_acc = (logits.argmax(1) == ty).float().mean().item()
        print(f"epoch {epoch}: test accuracy {test_acc:.4f} - test loss {test_loss:.4f}")
    seconds = time.perf_counter() - start
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "workload": "mnist_mlp",
        "epochs": args.epochs, "batch_size": args.batch_size, "threads": args.threads,
        "test_accuracy": test_acc, "test_loss": test_loss, "seconds": seconds,
    }))


if __name__ == "__main__":
    main()
