"""Speed benchmarks: the target next to torch CPU, measured in the same run, as ratios.

    python -m properties.benchmarks [--target DIR] [--repeats N] [--quick] [--no-harness]

Workloads (float32, the sizes upstream TinyTorch was measured on):

* MLP step: batch 64, 784-256-10, ReLU, cross-entropy, SGD;
* Conv2d forward + backward: batch 8, 3 -> 16 channels, 32 x 32, kernel 3;
* GPT step: vocab 64, embed 32, 4 heads, 2 blocks, batch 8 x 32 tokens, cross-entropy, Adam;
* backward against depth: a GPT of 1, 2, 4 and 8 blocks (``properties.bench_depth``);
* the harness itself: Hypothesis examples per second per property family
  (``properties.bench``), and the ``pytest -n auto`` speed-up on this machine's cores.

Each timing is the median of ``--repeats`` runs after warm-up. Speed is measured here, never
asserted in the test suite. Targets for the bundled tinytorch: MLP step <= 1.5x torch, Conv2d
<= 3x, GPT step <= 2x, per-block backward time flat in depth.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from oracles import models as twins
from oracles import workloads
from properties import bench, bench_depth, target
from properties.models import GPTCase, build_gpt
from properties.networks import build_mlp

ROOT = Path(__file__).resolve().parent.parent


def _mlp(rng: np.random.Generator) -> tuple[Callable[[], None], Callable[[], None]]:
    tt = target.get()
    widths = (784, 256, 10)
    weights = [(rng.uniform(-0.05, 0.05, (a, b)).astype(np.float32), np.zeros(b, np.float32))
               for a, b in zip(widths[:-1], widths[1:])]
    x = rng.standard_normal((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    model = build_mlp(widths, "relu", weights)
    opt = tt.make("SGD", model.parameters(), lr=0.01)
    loss_fn = tt.make("CrossEntropyLoss")
    xs, ys = tt.tensor(x), tt.tensor(y.astype(np.float32))

    def step() -> None:
        tt.zero_grads(opt)
        tt.backward(loss_fn(model(xs), ys))
        opt.step()

    return step, workloads.mlp_step(weights, x, y, 0.01)


def _conv(rng: np.random.Generator) -> tuple[Callable[[], None], Callable[[], None]]:
    tt = target.get()
    w = rng.uniform(-0.2, 0.2, (16, 3, 3, 3)).astype(np.float32)
    b = np.zeros(16, np.float32)
    x = rng.standard_normal((8, 3, 32, 32)).astype(np.float32)
    conv = tt.with_params(tt.make("Conv2d", 3, 16, 3), weight=tt.tensor(w, True),
                          bias=tt.tensor(b, True))

    def run() -> None:
        inp = tt.tensor(x, requires_grad=True)
        tt.backward(conv(inp).sum())

    return run, workloads.conv2d_pass(w, b, x)


def _gpt(rng: np.random.Generator) -> tuple[Callable[[], None], Callable[[], None]]:
    tt = target.get()
    vocab, embed, layers, heads, seq = 64, 32, 2, 4, 32
    shapes = twins.gpt_parameter_shapes(vocab, embed, layers, seq)
    params = {n: (rng.uniform(-0.2, 0.2, s) + (1.0 if n.endswith("weight") and "ln" in n
                                                else 0.0)).astype(np.float32)
              for n, s in shapes.items()}
    ids = rng.integers(0, vocab, (8, seq))
    targets = rng.integers(0, vocab, (8, seq))
    case = GPTCase(vocab, embed, layers, heads, seq, params, ids, np.zeros((8, seq, vocab)))
    model = build_gpt(case, np.float32)
    opt = tt.make("Adam", model.parameters(), lr=1e-3)
    loss_fn = tt.make("CrossEntropyLoss")
    inp, tgt = tt.tensor(ids.astype(np.float32)), tt.tensor(targets.reshape(-1)
                                                             .astype(np.float32))

    def step() -> None:
        tt.zero_grads(opt)
        logits = model(inp)
        tt.backward(loss_fn(logits.reshape(-1, vocab), tgt))
        opt.step()

    return step, workloads.gpt_step(params, layers, heads, ids, targets, 1e-3)


WORKLOADS = {"MLP step (B64, 784-256-10, SGD)": (_mlp, 1.5),
             "Conv2d fwd+bwd (B8, 3->16, 32x32, k3)": (_conv, 3.0),
             "GPT step (2 blocks, B8x32, embed 32, Adam)": (_gpt, 2.0)}


def speed_table(repeats: int) -> list[str]:
    rng = np.random.default_rng(0)
    rows = ["| workload | target ms | torch ms | target / torch | goal |", "|---|---|---|---|---|"]
    for name, (make, goal) in WORKLOADS.items():
        target_fn, torch_fn = make(rng)
        t, o = (bench_depth.median_seconds(fn, repeats, warmup=2) for fn in (target_fn, torch_fn))
        rows.append(f"| {name} | {1e3 * t:.2f} | {1e3 * o:.2f} | {t / o:.2f}x | "
                    f"<= {goal}x |")
    return rows


def depth_table(repeats: int) -> list[str]:
    rows = ["| blocks | target ms | per block ms | torch ms | target / torch |",
            "|---|---|---|---|---|"]
    for row in bench_depth.measure(repeats=repeats):
        t, o = row["target_s"], row["torch_s"]
        rows.append(f"| {row['blocks']} | {1e3 * t:.1f} | {1e3 * t / row['blocks']:.1f} | "
                    f"{1e3 * o:.1f} | {t / o:.2f}x |")
    return rows


def throughput_table(examples: int) -> list[str]:
    """Examples per second per family and property (``properties.bench``), one dtype pass."""
    totals = bench.totals(examples)
    rows = ["| family | property | examples | seconds | examples/s |", "|---|---|---|---|---|"]
    for (family, name), (n, seconds) in sorted(totals.items()):
        rows.append(f"| {family} | {name} | {n} | {seconds:.2f} | {n / seconds:.0f} |")
    return rows


def xdist_speedup(selection: str) -> list[str]:
    """Wall time of one slice of the suite serially and with ``-n auto``."""
    rows = ["| run | seconds |", "|---|---|"]
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_ops.py",
            "-k", selection]
    env = {**os.environ, "CI": "true"}
    times = {}
    for label, extra in (("serial (-p no:xdist)", ["-p", "no:xdist"]), ("-n auto", ["-n", "auto"])):
        start = time.perf_counter()
        subprocess.run(base + extra, cwd=ROOT, env=env, check=False, capture_output=True)
        times[label] = time.perf_counter() - start
        rows.append(f"| {label} | {times[label]:.1f} |")
    rows.append(f"| speed-up on {os.cpu_count()} cores | "
                f"{times['serial (-p no:xdist)'] / times['-n auto']:.2f}x |")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=None)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and examples")
    parser.add_argument("--no-harness", action="store_true",
                        help="only the target-vs-torch tables")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch's intra-op threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    if args.target:
        os.environ[target.TARGET_ENV] = args.target
    if args.torch_threads:
        workloads.set_threads(args.torch_threads)
    repeats = 5 if args.quick else args.repeats
    print(f"target: {target.get().describe()}; torch threads: {workloads.threads()}; "
          f"cores: {os.cpu_count()}\n")
    print("\n".join(speed_table(repeats)) + "\n")
    print("Backward against depth (GPT forward + backward, batch 8 x 32, embed 32, 4 heads)")
    print("\n".join(depth_table(max(3, repeats // 4))) + "\n")
    if not args.no_harness:
        print("Harness throughput (Hypothesis examples per second, both dtypes)")
        print("\n".join(throughput_table(5 if args.quick else 20)) + "\n")
        print("pytest -n auto speed-up (tests/test_ops.py, a slice of the registry)")
        print("\n".join(xdist_speedup("add or mul or relu or tanh or sum or matmul")))


if __name__ == "__main__":
    main()
