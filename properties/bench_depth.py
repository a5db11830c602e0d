"""Backward cost against depth: a GPT of 1, 2, 4 and 8 blocks, its backward pass timed on
the target (and on its torch twin, for scale). Linear in depth means the time per block
stays flat; an engine that revisits shared subgraphs grows faster (upstream's grew 8x per
added block). Speed is measured here, never asserted in the suite.

    python -m properties.bench_depth [--target DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from oracles import models as twins
from oracles import twin_runs
from properties import target
from properties.models import GPTCase, build_gpt


def _case(layers: int, rng: np.random.Generator) -> GPTCase:
    shapes = twins.gpt_parameter_shapes(vocab=64, embed=32, num_layers=layers, max_seq_len=32)
    params = {n: rng.uniform(-0.2, 0.2, s) + (1.0 if n.endswith("ln1.weight") else 0.0)
              for n, s in shapes.items()}
    return GPTCase(64, 32, layers, 4, 32, params, rng.integers(0, 64, (8, 32)),
                   rng.uniform(-1, 1, (8, 32, 64)))


def median_seconds(fn: Callable[[], Any], repeats: int, warmup: int = 0) -> float:
    """Median wall time of ``repeats`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(depths: tuple[int, ...] = (1, 2, 4, 8), repeats: int = 5) -> list[dict]:
    dtype = np.float32
    rng = np.random.default_rng(0)
    rows = []
    for layers in depths:
        target_backward, torch_backward = _passes(_case(layers, rng), dtype)
        target_backward(), torch_backward()  # warm-up
        rows.append({"blocks": layers, "target_s": median_seconds(target_backward, repeats),
                     "torch_s": median_seconds(torch_backward, repeats)})
    return rows


def _passes(case: GPTCase, dtype: type) -> tuple[Callable[[], None], Callable[[], None]]:
    """Forward + backward of the target's GPT and of its float32 torch twin."""
    tt = target.get()
    model = build_gpt(case, dtype)
    ids = tt.tensor(case.ids.astype(np.float32))
    upstream = case.upstream.astype(dtype)

    def target_backward() -> None:
        tt.backward(model(ids), upstream)

    twin = twins.GPT(case.params, case.layers, case.heads)
    return target_backward, twin_runs.float32_pass(twin, case.ids, upstream)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.target:
        os.environ[target.TARGET_ENV] = args.target
    rows = measure(repeats=args.repeats)
    print(f"GPT forward+backward, batch 8 x 32 tokens, embed 32, 4 heads; target: "
          f"{target.get().describe()}")
    print("| blocks | target ms | per block ms | torch ms | target / torch |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['blocks']} | {1e3 * row['target_s']:.1f} | "
              f"{1e3 * row['target_s'] / row['blocks']:.1f} | {1e3 * row['torch_s']:.1f} | "
              f"{row['target_s'] / row['torch_s']:.1f}x |")


if __name__ == "__main__":
    main()
