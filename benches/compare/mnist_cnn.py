"""PyTorch counterpart of `cargo run --release --example mnist -- --model cnn --data DIR` (not part of CI).

The accuracy run of issue 16: the example's CNN (`cnn_epoch.cnn`: two 3×3 convolutions with
ReLU and 2×2 max pooling, then Linear(1568, 10); `--model cnn-bn` adds BatchNorm2d after each
convolution and builds the convolutions with bias=False), PyTorch's default initialization,
softmax cross-entropy, SGD momentum 0.9 with the example's default lr (0.05, and 0.01 for
cnn-bn, where 0.05 kills most channels of the second ReLU; `--lr` overrides), batch 64, 5 epochs, shuffled every epoch, trained on the real MNIST IDX files in DIR (raw or
.gz, the standard names). Pixels are scaled to [0, 1] and not normalized, as the example does
(`Mnist::load`); `--normalize` standardizes them with MNIST's mean 0.1307 and std 0.3081 instead,
as PyTorch's own MNIST example does.

After each epoch it evaluates the whole test set (eval mode: BatchNorm on its running statistics)
and prints one JSON line with the test accuracy and loss; a last JSON line sums up the run.

Run: python3 benches/compare/mnist_cnn.py --data DIR --seed 0 --threads 1
"""
import argparse
import json
import time

import torch

from cnn_epoch import cnn
from mnist_mlp import load

# Test images per forward pass in evaluation (bounds the activations' memory: 16 × 28 × 28
# floats per image after the first convolution).
EVAL_CHUNK = 1000


def images(folder, prefix, normalize):
    """One split as [n, 1, 28, 28] float32 in [0, 1] (standardized with `normalize`), labels."""
    x, y = load(folder, prefix)
    x = x.reshape(len(x), 1, 28, 28)
    if normalize:
        x = (x - 0.1307) / 0.3081
    return x, y


def evaluate(model, loss_fn, x, y):
    """Accuracy and mean cross-entropy over (x, y), in eval mode, without gradients."""
    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for xb, yb in zip(x.split(EVAL_CHUNK), y.split(EVAL_CHUNK)):
            logits = model(xb)
            loss_sum += loss_fn(logits, yb).item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
    return correct / len(y), loss_sum / len(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", choices=["cnn", "cnn-bn"], default="cnn")
    parser.add_argument("--optimizer", choices=["sgd"], default="sgd")
    parser.add_argument("--lr", type=float, default=None, help="default: 0.05, 0.01 for cnn-bn")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--normalize", action="store_true")
    args = parser.parse_args()
    if args.lr is None:
        args.lr = 0.01 if args.model == "cnn-bn" else 0.05

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = images(args.data, "train", args.normalize)
    tx, ty = images(args.data, "t10k", args.normalize)
    model = cnn(args.model == "cnn-bn")
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        loss_sum = 0.0
        for idx in torch.randperm(len(x)).split(args.batch_size):
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
        test_acc, test_loss = evaluate(model, loss_fn, tx, ty)
        print(json.dumps({
            "epoch": epoch, "train_loss": loss_sum / len(x),
            "test_accuracy": test_acc, "test_loss": test_loss,
            "seconds": time.perf_counter() - start,
        }), flush=True)
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "workload": "mnist_cnn",
        "model": args.model, "optimizer": args.optimizer, "lr": args.lr,
        "momentum": args.momentum, "batch_size": args.batch_size, "epochs": args.epochs,
        "normalize": args.normalize, "threads": args.threads, "seed": args.seed,
        "test_accuracy": test_acc, "test_loss": test_loss,
        "seconds": time.perf_counter() - start,
    }))


if __name__ == "__main__":
    main()
