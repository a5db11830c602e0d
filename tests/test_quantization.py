"""INT8 quantization (module 15): round trip within half a step, zero exact, per channel never
coarser, int8 values equal torch's quantize_per_tensor/per_channel, torch's observer
parameters, and QuantizedLinear against F.linear on the dequantized weight."""

import pytest
from hypothesis import given

from properties import quantization as Q

pytestmark = pytest.mark.plan(
    "15:core", "15:edge_cases", "15:numerical_stability", "15:shapes", "15:integration")


@given(case=Q.quant_cases())
def test_dequantized_values_are_within_half_a_step_and_zero_is_exact(case):
    Q.check_round_trip_within_half_step(case)


@given(case=Q.quant_cases(per_channel=True))
def test_per_channel_steps_are_never_coarser_than_per_tensor(case):
    Q.check_per_channel_never_coarser(case)


@given(case=Q.quant_cases())
def test_int8_values_equal_torch_quantize_given_the_same_parameters(case):
    Q.check_matches_torch(case)


@given(case=Q.quant_cases())
def test_scale_and_zero_point_are_torch_min_max_observer_choices(case):
    Q.check_qparams_follow_torch_observer(case)


@given(case=Q.linear_cases())
def test_quantized_linear_equals_f_linear_on_its_dequantized_weight(case):
    Q.check_quantized_linear_matches_torch(case)
