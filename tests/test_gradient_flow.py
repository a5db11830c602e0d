"""Integration: gradients flow through whole networks (the seed's test_gradient_flow pattern),
checked against torch twins rather than only "not None"."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from properties import checks, laws, networks, target
from properties import strategies as S
from properties.report import expect_close
from properties.tolerances import rounding

pytestmark = pytest.mark.plan(
    "02:gradient_flow", "03:gradient_flow", "04:gradient_flow", "05:gradient_flow",
    "02:integration", "03:integration", "04:integration", "05:integration",
    "03:numerical_stability")

F64 = np.dtype(np.float64)


@st.composite
def network_case(draw, min_depth=5, max_depth=7):
    depth = draw(st.integers(min_depth, max_depth), label="depth")
    widths = draw(st.lists(st.integers(1, 5), min_size=depth + 1, max_size=depth + 1),
                  label="widths")
    batch = draw(st.integers(1, 4), label="batch")
    dtype = checks.compute_dtype()  # the oracle must see the values the target sees
    x = draw(S.values(dtype, (batch, widths[0]), -2, 2), label="x")
    y = draw(S.values(dtype, (batch, widths[-1]), -2, 2), label="y")
    return widths, x, y, draw(networks.mlp_weights(widths), label="weights")


@given(case=network_case(), activation=st.sampled_from(["relu", "tanh", "sigmoid", "gelu"]))
def test_gradients_reach_every_layer_and_the_input(case, activation):
    widths, x, y, weights = case
    laws.check_mlp_gradients_match_torch(widths, activation, x, y, weights)


@settings(max_examples=3)
@given(x=S.values(F64, (2, 3), -1, 1), block=networks.mlp_weights([3] * 5))
def test_hundred_layer_network_backpropagates(x, block):
    """100 Linear layers: four drawn layers, repeated (drawing 1200 weights would say no more)."""
    checks.require(np.dtype(np.float64))  # in float32 the gradient honestly underflows
    laws.check_mlp_gradients_match_torch([3] * 101, "tanh", x, np.zeros((2, 3)), block * 25)


def test_ten_thousand_op_chain_needs_no_recursion():
    """Backward must be iterative: a 10 000-node chain is far deeper than Python's stack."""
    tt = target.get()
    x = tt.tensor(np.array(0.5), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    # 10 000 roundings of the target's dtype: the honest bound
    expect_close(tt.grad(x), np.float64(1.0001**10_000), rounding(tt.array(x).dtype, 20_000),
                 what="gradient through a 10 000-op chain")


@given(case=network_case(min_depth=1, max_depth=3))
def test_batch_mean_mse_averages_per_sample_gradients(case):
    widths, x, y, weights = case
    laws.check_batch_mean_is_mean_of_per_sample(widths, "MSELoss", x, y, weights)


@given(case=network_case(min_depth=1, max_depth=3), data=st.data())
def test_batch_mean_cross_entropy_averages_per_sample_gradients(case, data):
    widths, x, _, weights = case
    y = data.draw(S.class_targets(len(x), widths[-1]), label="classes")
    laws.check_batch_mean_is_mean_of_per_sample(widths, "CrossEntropyLoss", x, y, weights)
