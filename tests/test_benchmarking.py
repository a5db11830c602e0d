"""Benchmarking (module 19): the runner, timed against a clock the test controls."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import benchmarking as B
from properties import target

pytestmark = pytest.mark.plan("19:core", "19:api_consistency")


@given(case=B.timing_cases())
def test_benchmark_result_statistics_equal_their_closed_forms(case):
    B.check_result_statistics(case)


@given(case=B.timing_cases())
def test_measure_times_the_repeats_and_not_the_warm_up(case):
    B.check_measure_times_only_the_repeats(case)


@given(warmup=st.integers(0, 3), runs=st.integers(1, 4))
def test_latency_benchmark_runs_warm_up_plus_measurements(warmup, runs):
    B.check_latency_benchmark_counts(warmup, runs)


def test_a_result_without_values_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        target.get().make("BenchmarkResult", "latency_ms", [])


@pytest.mark.plan("19:integration", "19:real_world")
def test_benchmark_measures_each_real_model():
    B.check_benchmark_of_real_models()
