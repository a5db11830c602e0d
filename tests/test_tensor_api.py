"""The Tensor's Python protocol beyond its ops (``properties/tensor_api.py``): ``len()`` and
``detach()`` and ``Tensor(tensor)`` against torch; the bundled ``repr`` word for word."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import checks, target, tensor_api
from properties import strategies as S

pytestmark = pytest.mark.plan("01:core", "01:api_consistency", "01:edge_cases", "01:shapes")


@given(data=st.data())
def test_len_is_the_first_axis_and_a_scalar_has_none(data):
    dtype = checks.compute_dtype()
    shape = data.draw(S.shapes(max_dims=3), label="shape")
    tensor_api.check_len(data.draw(S.values(dtype, shape), label="x"))


@given(data=st.data())
def test_detach_cuts_the_graph_as_torch(data):
    dtype = checks.compute_dtype()
    shape = data.draw(S.shapes(max_dims=2), label="shape")
    x = data.draw(S.values(dtype, shape), label="x")
    tensor_api.check_detach(x, data.draw(S.values(dtype, shape), label="w"))


@given(data=st.data())
def test_a_tensor_built_from_a_tensor_copies_it_as_torch(data):
    dtype = checks.compute_dtype()
    shape = data.draw(S.shapes(max_dims=2), label="shape")
    tensor_api.check_tensor_from_tensor(data.draw(S.values(dtype, shape), label="x"))


@pytest.mark.bundled_only  # upstream's convention (torch.tensor keeps int64)
@pytest.mark.parametrize("data", [[1, 2, 3], np.arange(3), np.array([True, False])],
                         ids=["list", "int64", "bool"])
def test_bundled_tensor_of_integers_or_booleans_is_float32(data):
    """Tensors are floating point, as upstream TinyTorch's: integers become float32."""
    t = target.get().Tensor(data)
    assert t.dtype == np.float32
    assert t.data.tolist() == np.asarray(data, dtype=np.float32).tolist()


@pytest.mark.bundled_only
@pytest.mark.parametrize(("make", "shown"), [
    (lambda tt: tt.Tensor(np.array([1.0, 2.5], np.float32)), "Tensor([1.  2.5], dtype=float32)"),
    (lambda tt: tt.Tensor(np.array([[1 / 3]]), requires_grad=True),
     "Tensor([[0.3333]], dtype=float64, requires_grad=True)"),
], ids=["plain", "requires-grad"])
def test_bundled_repr_shows_values_dtype_and_requires_grad(make, shown):
    """What a student sees printing a tensor: 4 decimals, the dtype, requires_grad when set."""
    assert repr(make(target.get())) == shown
