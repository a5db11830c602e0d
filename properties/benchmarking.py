"""Benchmark-runner laws, with a clock the test controls: a runner is itself code that can be
wrong (warm-up calls timed, a repeat lost, a population standard deviation where the sample
one is meant), and timing real work could never show it.

* ``BenchmarkResult`` statistics equal their closed forms (``statistics``: mean, sample
  standard deviation, median, extremes, mean +- 1.96 sd / sqrt(n));
* ``measure(fn, warmup, repeats, clock)`` calls ``fn`` ``warmup + repeats`` times and
  records exactly the ``repeats`` timed durations, in milliseconds, in order;
* ``Benchmark.run_latency_benchmark`` runs each model ``warmup_runs + measurement_runs``
  times and reports ``measurement_runs`` values.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import target
from properties.report import expect_close, fail, replayable
from properties.strategies import Sample
from properties.tolerances import Tolerance

STATS = Tolerance(rtol=1e-12, atol=1e-12)


@dataclass(frozen=True)
class TimingCase:
    durations: tuple[float, ...]  # seconds each timed call takes on the fake clock
    warmup: int

    def sample(self) -> Sample:
        return Sample((np.array(self.durations),), {"warmup": self.warmup})


@st.composite
def timing_cases(draw: st.DrawFn) -> TimingCase:
    # multiples of 2^-10 s: the fake clock's sums and differences are then exact
    durations = draw(st.lists(st.integers(0, 10240).map(lambda k: k / 1024), min_size=1,
                              max_size=12))
    return TimingCase(tuple(durations), draw(st.integers(0, 4)))


def expected_statistics(values: list[float]) -> dict[str, float]:
    n = len(values)
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if n > 1 else 0.0
    half = 1.96 * std / math.sqrt(n)
    return {"mean": mean, "std": std, "median": statistics.median(values),
            "min_val": min(values), "max_val": max(values), "count": n,
            "ci_lower": mean - half, "ci_upper": mean + half}


@replayable
def check_result_statistics(case: TimingCase) -> None:
    tt = target.get()
    values = [1e3 * d for d in case.durations]
    result = tt.make("BenchmarkResult", "latency_ms", values)
    got = {k: float(getattr(result, k)) for k in expected_statistics(values)}
    expect_close(got, {k: float(v) for k, v in expected_statistics(values).items()}, STATS,
                 what="BenchmarkResult statistics differ from their closed forms",
                 component="BenchmarkResult", check="statistics")


class FakeClock:
    """A clock that advances only inside the measured function, by the scripted amounts:
    timed calls take ``durations`` in turn, untimed (warm-up) calls a telltale 1024 s."""

    def __init__(self, durations: tuple[float, ...], warmup: int) -> None:
        self.now = 0.0
        self.steps = [1024.0] * warmup + list(durations)
        self.calls = 0

    def __call__(self) -> float:
        return self.now

    def work(self) -> None:
        if self.calls < len(self.steps):
            self.now += self.steps[self.calls]
        self.calls += 1


@replayable
def check_measure_times_only_the_repeats(case: TimingCase) -> None:
    tt = target.get()
    clock = FakeClock(case.durations, case.warmup)
    result = tt.need("measure")(clock.work, warmup=case.warmup, repeats=len(case.durations),
                                clock=clock)
    want_calls = case.warmup + len(case.durations)
    if clock.calls != want_calls:
        fail("measure", "calls", f"the function ran {clock.calls} times; warmup "
             f"{case.warmup} + repeats {len(case.durations)} = {want_calls}", case.sample())
    expect_close([float(v) for v in result.values], [1e3 * d for d in case.durations],
                 STATS, what="recorded durations are not the timed calls' (ms, in order)",
                 component="measure", check="values")


class CountingModel:
    """A model whose forward does nothing but count calls (both call forms upstream uses)."""

    def __init__(self) -> None:
        self.calls = 0
        self.name = "counting"

    def forward(self, x: Any) -> Any:
        self.calls += 1
        return x

    __call__ = forward

    def parameters(self) -> list[Any]:
        return []


def check_latency_benchmark_counts(warmup: int, runs: int) -> None:
    tt = target.get()
    model = CountingModel()
    bench = tt.make("Benchmark", [model], [], warmup_runs=warmup, measurement_runs=runs)
    results = bench.run_latency_benchmark((1, 3))
    result = next(iter(results.values()))
    if model.calls != warmup + runs or len(result.values) != runs:
        fail("Benchmark", "latency runs", f"run_latency_benchmark called the model "
             f"{model.calls} times and kept {len(result.values)} values; warmup_runs={warmup}, "
             f"measurement_runs={runs}", None)


def check_benchmark_of_real_models(runs: int = 3) -> None:
    """``Benchmark`` over two of the target's models (an MLP and a wider one) on one input
    shape: a result per model, named apart, ``runs`` finite positive latencies each."""
    tt = target.get()
    models = [tt.sequential(tt.make("Linear", 64, 32), tt.make("ReLU"), tt.make("Linear", 32, 10)),
              tt.sequential(tt.make("Linear", 64, 256), tt.make("ReLU"),
                            tt.make("Linear", 256, 10))]
    results = tt.make("Benchmark", models, [], warmup_runs=1,
                      measurement_runs=runs).run_latency_benchmark((8, 64))
    values = {name: [float(v) for v in r.values] for name, r in results.items()}
    if len(values) != 2 or any(len(v) != runs or not all(np.isfinite(v)) or min(v) <= 0
                               for v in values.values()):
        fail("Benchmark", "real models", f"latencies {values}: want two models with {runs} "
             "finite positive values each", None)
