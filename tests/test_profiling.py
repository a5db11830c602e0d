"""Profiling (module 14): FLOPs equal torch's FlopCounterMode, parameters their closed form,
and profiling changes nothing."""

import pytest
from hypothesis import given

from properties import profiling as P

pytestmark = pytest.mark.plan("14:core", "14:integration", "14:api_consistency")


@given(case=P.flop_cases())
def test_flops_equal_torch_flop_counter(case):
    P.check_flops_match_torch(case)


@given(case=P.flop_cases())
def test_parameter_count_is_the_number_of_parameter_scalars(case):
    P.check_parameter_count(case)


@given(case=P.invisible_cases())
def test_profiling_leaves_outputs_and_gradients_unchanged(case):
    P.check_profiling_changes_nothing(case)


@pytest.mark.plan("14:real_world")
@given(shape=P.gpt_shapes())
def test_a_gpt_profile_equals_torch_counts(shape):
    P.check_gpt_profile(shape)


@pytest.mark.plan("14:memory_performance")
def test_profiled_activation_memory_is_linear_in_batch():
    P.check_profiled_activation_memory_linear_in_batch()
