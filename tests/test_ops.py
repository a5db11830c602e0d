"""Every op in the registry, in float32 and float64: forward and backward against torch,
backward against finite differences (float64); a gradient's shape and dtype are the
input's (checked with its values)."""

import numpy as np
import pytest
from bindings import each_op_where
from hypothesis import given
from hypothesis import strategies as st

from properties import checks
from properties.strategies import DTYPES

each_op = each_op_where("forward")  # no entry opts out of this
each_dtype = pytest.mark.parametrize("dtype", DTYPES, ids=str)


@each_op
@each_dtype
@pytest.mark.plan("core", "shapes", "numerical_stability")
@given(data=st.data())
def test_forward_matches_torch(op, dtype, data):
    checks.fail_fast(op, dtype)
    checks.check_forward(op, data.draw(op.sample(dtype), label="sample"))


@each_op_where("backward")
@each_dtype
@pytest.mark.plan("gradient_flow", "05:core")
@given(data=st.data())
def test_backward_matches_torch(op, dtype, data):
    checks.fail_fast(op, dtype)
    checks.check_vjp(op, *checks.draw_case(data, op, dtype))


@each_op_where("finite_differences")
@pytest.mark.plan("gradient_flow", "numerical_stability", "05:numerical_stability")
@given(data=st.data())
def test_backward_matches_finite_differences(op, data):
    checks.fail_fast(op, np.dtype(np.float64))
    sample, upstream = checks.draw_case(data, op, np.dtype(np.float64))
    seed = data.draw(st.integers(0, 2**32 - 1), label="direction seed")
    checks.check_finite_differences(op, sample, upstream, seed)

