"""Run the MLP-epoch workload for lazarus (bare loop and Trainer) and PyTorch back to back and
print the markdown table of benches/README.md (not part of CI).

Each round runs every configuration once per framework, in the same minute; rounds repeat so
that a slow minute on a shared machine shows up as spread instead of as a result. The table
gives, per configuration, the median of the runs' seconds_per_epoch, and the min/max over every
timed epoch of every run.

Run from the repository root, after `cargo build --release --example bench_mlp`:
    python3 benches/compare/mlp_table.py --rounds 3 --epochs 5
"""
import argparse
import json
import statistics
import subprocess
import sys

TARGETS = {1: 0.5, 2: 0.65}


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 32])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    configs = [(b, t) for b in args.batch_sizes for t in args.threads]
    runners = {
        "bare": lambda b, t: ["target/release/examples/bench_mlp", "--mode", "bare"],
        "trainer": lambda b, t: ["target/release/examples/bench_mlp", "--mode", "trainer"],
        "pytorch": lambda b, t: [sys.executable, "benches/compare/mlp_epoch.py"],
    }
    results = {(c, name): [] for c in configs for name in runners}
    for r in range(args.rounds):
        for b, t in configs:
            for name, base in runners.items():
                cmd = base(b, t) + ["--batch-size", str(b), "--threads", str(t), "--epochs", str(args.epochs)]
                line = run(cmd)
                results[((b, t), name)].append(line)
                print(f"round {r + 1} b{b} t{t} {name}: {line['seconds_per_epoch']:.3f} s/epoch", file=sys.stderr)

    def summary(lines):
        median = statistics.median(l["seconds_per_epoch"] for l in lines)
        return median, min(l["min"] for l in lines), max(l["max"] for l in lines)

    print("| batch | threads | lazarus bare s/epoch | lazarus Trainer s/epoch | PyTorch s/epoch "
          "| ratio (bare / PyTorch) | target | met | Trainer vs bare |")
    print("|---:|---:|---|---|---|---:|---:|:---:|---:|")
    for b, t in configs:
        bare, trainer, torch_ = (summary(results[((b, t), n)]) for n in ("bare", "trainer", "pytorch"))
        ratio = bare[0] / torch_[0]
        target = TARGETS.get(t)
        met = "yes" if target is not None and ratio <= target else "no"
        overhead = (trainer[0] / bare[0] - 1) * 100
        fmt = lambda s: f"{s[0]:.3f} ({s[1]:.3f}–{s[2]:.3f})"
        print(f"| {b} | {t} | {fmt(bare)} | {fmt(trainer)} | {fmt(torch_)} | {ratio:.2f}× "
              f"| ≤ {target}× | {met} | {overhead:+.1f} % |")
    print(f"\n{args.rounds} rounds × {args.epochs} epochs (first epoch of each run not timed); "
          f"torch {results[(configs[0], 'pytorch')][0]['framework']}", file=sys.stderr)


if __name__ == "__main__":
    main()
