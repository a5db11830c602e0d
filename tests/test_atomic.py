"""A failing call changes nothing (the optimizer side; corrupt state dicts and checkpoints are
in tests/test_optimizers.py and tests/test_checkpoint.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import atomic, checks
from properties import strategies as S

pytestmark = pytest.mark.plan("06:edge_cases", "07:edge_cases")

HYPER = {"SGD": {"lr": 0.1, "momentum": 0.9}, "Adam": {"lr": 0.01}, "AdamW": {"lr": 0.01}}


@pytest.mark.parametrize("kind", sorted(HYPER))
@given(data=st.data())
def test_a_step_that_raises_leaves_parameters_and_state_as_they_were(kind, data):
    dtype = checks.compute_dtype()
    shapes = data.draw(st.lists(S.shapes(max_dims=2), min_size=2, max_size=4), label="shapes")
    initial = [data.draw(S.values(dtype, s), label=f"param {i}") for i, s in enumerate(shapes)]
    grads = [data.draw(S.values(dtype, s), label=f"grad {i}") for i, s in enumerate(shapes)]
    bad_at = data.draw(st.integers(1, len(shapes) - 1), label="bad gradient at")
    atomic.check_failing_step_changes_nothing(kind, HYPER[kind], initial, grads, bad_at)
