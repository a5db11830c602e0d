"""dtypes through the whole stack: parameters, gradients and optimizer buffers keep the
parameters' dtype through backward, clipping, steps, zero_grad, a scheduler step and a
checkpoint round trip (float32 and float64, each where the target has it)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from properties import dtypes, networks
from properties import strategies as S

pytestmark = pytest.mark.plan(
    "01:numerical_stability", "05:numerical_stability", "06:numerical_stability", "06:shapes",
    "07:numerical_stability", "07:shapes")

F64 = np.dtype(np.float64)


@pytest.mark.parametrize("kind", sorted(dtypes.HYPER))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@settings(max_examples=10)  # a dtype does not depend on the values: ten cases say it all
@given(data=st.data())
def test_dtype_survives_every_stage_of_training(kind, dtype, data):
    weights = data.draw(networks.mlp_weights(dtypes.WIDTHS), label="weights")
    x = data.draw(S.values(F64, (3, dtypes.WIDTHS[0]), -2, 2), label="x")
    y = data.draw(S.values(F64, (3, dtypes.WIDTHS[-1]), -2, 2), label="y")
    dtypes.check_dtype_survives_training(kind, dtype, weights, x, y)
