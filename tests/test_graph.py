"""The autograd engine: one visit per node, grad mode nesting, custom Function errors, and
which tensors hold ``.grad`` (in tests/test_autograd_laws.py, over every registry op)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import checks, graph
from properties import strategies as S

pytestmark = pytest.mark.plan("05:core", "05:edge_cases", "05:memory_performance", "05:shapes")


@given(data=st.data())
def test_backward_runs_each_node_once_on_a_diamond_chain(data):
    dtype = checks.compute_dtype()
    x = data.draw(S.values(dtype, data.draw(S.shapes(max_dims=2), label="shape")), label="x")
    depth = data.draw(st.integers(1, 30), label="depth")
    weights = data.draw(S.values(np.float64, (depth, 2), 0.3, 0.7), label="weights")
    graph.check_each_node_runs_once(x, weights)


def test_backward_runs_each_node_once_at_depth_30():
    """The depth the issue names, where a recursive backward would need 2**30 visits."""
    graph.check_each_node_runs_once(np.array([1.0, -2.0]), np.full((30, 2), 0.5))


@given(contexts=st.lists(st.sampled_from(graph.CONTEXTS), min_size=1, max_size=4),
       data=st.data())
def test_grad_mode_contexts_nest_and_restore(contexts, data):
    raise_at = data.draw(st.none() | st.integers(0, len(contexts) - 1), label="raise_at")
    graph.check_grad_mode_nesting(contexts, raise_at)


@given(data=st.data(), defect=st.sampled_from(["too_few", "none"]))
def test_custom_function_with_missing_gradients_fails_clearly(data, defect):
    dtype = checks.compute_dtype()
    graph.check_custom_function_errors(data.draw(S.values(dtype, (2,)), label="x"), defect)
