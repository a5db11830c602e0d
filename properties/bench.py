"""Throughput benchmark: examples per second, per op family and per property.

    python -m properties.bench [--examples N] [--family F]

Generation is a cost too. For each registry entry this times Hypothesis drawing inputs alone
("generate"), then each generic property on those inputs, and prints examples/second summed
per family. Speed is measured here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from properties import checks
from properties.registry import OPS, OpInfo
from properties.strategies import DTYPES

F64 = np.dtype(np.float64)


def _generate(op: OpInfo, dtype: np.dtype, data: st.DataObject) -> None:
    checks.draw_case(data, op, dtype)


def _forward(op: OpInfo, dtype: np.dtype, data: st.DataObject) -> None:
    checks.check_forward(op, data.draw(op.sample(dtype)))


def _backward(op: OpInfo, dtype: np.dtype, data: st.DataObject) -> None:
    checks.check_vjp(op, *checks.draw_case(data, op, dtype))


def _finite_differences(op: OpInfo, dtype: np.dtype, data: st.DataObject) -> None:
    sample, upstream = checks.draw_case(data, op, F64)
    checks.check_finite_differences(op, sample, upstream, 0)


PROPERTIES: dict[str, Callable[[OpInfo, np.dtype, st.DataObject], None]] = {
    "generate": _generate, "forward": _forward, "backward": _backward,
    "finite differences": _finite_differences,
}


def examples_per_second(prop: Callable, op: OpInfo, dtype: np.dtype, n: int) -> tuple[int, float]:
    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        prop(op, dtype, data)

    start = time.perf_counter()
    run()
    return n, time.perf_counter() - start


def totals(examples: int, family: str | None = None) -> dict[tuple[str, str], list[float]]:
    """(family, property) -> [examples, seconds] over every registry entry and dtype."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for op in OPS:
        if family and op.family != family:
            continue
        for name, prop in PROPERTIES.items():
            skip_key = {"finite differences": "finite_differences",
                        "backward": "backward"}.get(name)
            if skip_key and not op.applies(skip_key):
                continue  # the entry opts out (a kink, a forward-only kernel): so does the suite
            for dtype in DTYPES if name != "finite differences" else (F64,):
                n, seconds = examples_per_second(prop, op, dtype, examples)
                sums[(op.family, name)][0] += n
                sums[(op.family, name)][1] += seconds
    return sums


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--family", default=None,
                        help="tensor, activation, layer, loss, attention or kernel")
    args = parser.parse_args(argv)
    print(f"{'family':<11} {'property':<19} {'examples':>8} {'seconds':>8} {'ex/s':>7}")
    for (family, name), (n, seconds) in sorted(totals(args.examples, args.family).items()):
        print(f"{family:<11} {name:<19} {n:>8} {seconds:>8.2f} {n / seconds:>7.0f}")


if __name__ == "__main__":
    main()
