"""Benchmarking (upstream module 19, ``tinytorch.bench``): warm-up, repeats, median, spread.

``measure(fn, warmup, repeats)`` is the runner: ``warmup`` untimed calls (caches, lazy
allocation, branch predictors), then ``repeats`` timed calls, summarised by a
:class:`BenchmarkResult` (mean, sample standard deviation, median, min, max, a 95 % normal
confidence interval of the mean). The clock is a parameter, so the runner itself can be
tested with a clock that ticks known amounts.
"""

from __future__ import annotations

import math
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Tensor

DEFAULT_WARMUP_RUNS = 5
DEFAULT_MEASUREMENT_RUNS = 10


@dataclass
class BenchmarkResult:
    """Summary of repeated measurements of one metric (``values``, in their own unit)."""

    metric_name: str
    values: list[float]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"BenchmarkResult '{self.metric_name}': no values")
        values = [float(v) for v in self.values]
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"BenchmarkResult '{self.metric_name}': non-finite value in "
                             f"{values}")
        self.values = values
        self.count = len(values)
        self.mean = statistics.fmean(values)
        self.std = statistics.stdev(values) if self.count > 1 else 0.0
        self.median = statistics.median(values)
        self.min_val, self.max_val = min(values), max(values)
        half_width = 1.96 * self.std / math.sqrt(self.count)
        self.ci_lower, self.ci_upper = self.mean - half_width, self.mean + half_width

    def to_dict(self) -> dict[str, Any]:
        return {"metric_name": self.metric_name, "values": list(self.values),
                "mean": self.mean, "std": self.std, "median": self.median,
                "min": self.min_val, "max": self.max_val, "count": self.count,
                "ci_lower": self.ci_lower, "ci_upper": self.ci_upper,
                "metadata": dict(self.metadata)}


def measure(fn: Callable[[], Any], warmup: int = DEFAULT_WARMUP_RUNS,
            repeats: int = DEFAULT_MEASUREMENT_RUNS, name: str = "latency_ms",
            clock: Callable[[], float] = time.perf_counter) -> BenchmarkResult:
    """Milliseconds of ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed ones."""
    for what, n, least in (("warmup", warmup, 0), ("repeats", repeats, 1)):
        if isinstance(n, bool) or not isinstance(n, int) or n < least:
            raise ValueError(f"measure: {what} must be an int >= {least}, got {n!r}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append((clock() - start) * 1e3)
    return BenchmarkResult(name, times, {"warmup": warmup, "repeats": repeats})


class Benchmark:
    """Latency of several models on one input shape (upstream's class)."""

    def __init__(self, models: list[Any], datasets: list[Any] | None = None,
                 warmup_runs: int = DEFAULT_WARMUP_RUNS,
                 measurement_runs: int = DEFAULT_MEASUREMENT_RUNS) -> None:
        self.models, self.datasets = list(models), list(datasets or [])
        self.warmup_runs, self.measurement_runs = warmup_runs, measurement_runs
        self.system_info = {"platform": platform.platform(), "processor": platform.processor(),
                            "python_version": platform.python_version(),
                            "cpu_count": __import__("os").cpu_count()}

    def _name(self, i: int, model: Any) -> str:
        return getattr(model, "name", f"model_{i}")

    def run_latency_benchmark(self, input_shape: tuple[int, ...] = (1, 28, 28)
                              ) -> dict[str, BenchmarkResult]:
        x = Tensor(np.zeros(input_shape, dtype=np.float32))
        results = {}
        for i, model in enumerate(self.models):
            with no_grad():
                results[self._name(i, model)] = measure(
                    lambda m=model: m(x), self.warmup_runs, self.measurement_runs,
                    f"{self._name(i, model)}_latency_ms")
        return results

    def compare_models(self, metric: str = "latency",
                       input_shape: tuple[int, ...] = (1, 28, 28)) -> list[dict[str, Any]]:
        if metric != "latency":
            raise ValueError(f"compare_models: unknown metric {metric!r} (this runner "
                             "measures 'latency')")
        return [{"model": name, "metric": metric, "mean": r.mean, "std": r.std,
                 "ci_lower": r.ci_lower, "ci_upper": r.ci_upper, "count": r.count}
                for name, r in self.run_latency_benchmark(input_shape).items()]
