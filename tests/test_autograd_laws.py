"""Autograd semantics over every registry op: accumulation, zero_grad, no_grad,
requires_grad propagation, and tensors used twice."""

import pytest
from bindings import each_op_where
from hypothesis import given
from hypothesis import strategies as st

from properties import checks, laws
from properties import strategies as S
from properties.registry import op_named

each_op = each_op_where("autograd_laws")
pytestmark = pytest.mark.plan("05:core", "05:gradient_flow", "05:edge_cases")


@each_op
@pytest.mark.plan("gradient_flow")
@given(data=st.data())
def test_two_backward_calls_sum_and_zero_grad_resets(op, data):
    checks.fail_fast(op, checks.compute_dtype())
    sample, u1 = checks.draw_case(data, op, checks.compute_dtype())
    u2 = data.draw(S.values(u1.dtype, u1.shape, -2, 2), label="second upstream")
    laws.check_backward_twice_sums(op, sample, u1, u2)


@each_op
@given(data=st.data())
def test_no_grad_records_no_graph(op, data):
    checks.fail_fast(op, checks.compute_dtype())
    laws.check_no_grad(op, data.draw(op.sample(checks.compute_dtype()), label="sample"))


@each_op
@given(data=st.data())
def test_requires_grad_propagates(op, data):
    checks.fail_fast(op, checks.compute_dtype())
    sample = data.draw(op.sample(checks.compute_dtype()), label="sample")
    wrt = op.wrt(len(sample.arrays))  # the others are data (targets), not differentiable
    flags = [data.draw(st.booleans(), label=f"requires_grad of input {i}") if i in wrt
             else False for i in range(len(sample.arrays))]
    laws.check_requires_grad_propagates(op, sample, flags)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "matmul"])
@given(data=st.data())
def test_tensor_used_twice_gets_both_gradients(name, data):
    n = data.draw(st.integers(1, 4), label="n")
    dtype = checks.compute_dtype()
    x = data.draw(S.values(dtype, (n, n), elements=S.avoiding(dtype, [0.0], -3, 3)), label="x")
    upstream = data.draw(S.values(dtype, (n, n), -2, 2), label="upstream")
    laws.check_shared_input(op_named(name), x, upstream)
