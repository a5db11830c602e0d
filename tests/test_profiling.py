"""Profiling (module 14): FLOPs equal torch's FlopCounterMode, parameters their closed form,
and profiling changes nothing."""

from hypothesis import given

from properties import profiling as P


@given(case=P.flop_cases())
def test_flops_equal_torch_flop_counter(case):
    P.check_flops_match_torch(case)


@given(case=P.flop_cases())
def test_parameter_count_is_the_number_of_parameter_scalars(case):
    P.check_parameter_count(case)


@given(case=P.invisible_cases())
def test_profiling_leaves_outputs_and_gradients_unchanged(case):
    P.check_profiling_changes_nothing(case)
