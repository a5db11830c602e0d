"""The Tensor's Python protocol beyond its ops: ``len()`` and ``detach()``, against torch.

``len(t)`` is the size of the first axis, and a 0-d tensor has no length (torch raises
TypeError). ``t.detach()`` has the same values, requires no grad, and cuts the graph: in
``t.detach() * w`` the gradient reaches ``w`` only, and ``t`` keeps no ``.grad`` (torch leaves
it None; an all-zero gradient is accepted as the same statement). ``Tensor(t)`` builds a new
tensor from a tensor, as ``torch.tensor(t)`` does: t's values and dtype, no grad required.
"""

from __future__ import annotations

import numpy as np

from oracles import autodiff
from oracles import ops as oops
from properties import target
from properties.report import assert_close, fail, replayable
from properties.strategies import Sample
from properties.tolerances import EXACT, tolerance_for

TENSOR = "Tensor"  # the component name in failure reports


@replayable
def check_len(x: np.ndarray) -> None:
    tt = target.get()
    t = tt.tensor(x)
    try:
        want: int | type[BaseException] = oops.length(x)
    except TypeError:
        want = TypeError
    try:
        got: int | type[BaseException] = len(t)
    except Exception as e:  # noqa: BLE001 - which error the target raises is compared
        got = type(e)
    same = got is want or (isinstance(want, type) and isinstance(got, type)
                           and issubclass(got, want))
    if not same:
        fail(TENSOR, "len", f"len() of a tensor of shape {x.shape}: the target {_shown(got)}, "
             f"torch {_shown(want)}", Sample((x,), {}))


def _shown(value: int | type[BaseException]) -> str:
    return f"raises {value.__name__}" if isinstance(value, type) else f"returns {value}"


@replayable
def check_detach(x: np.ndarray, w: np.ndarray) -> None:
    tt = target.get()
    sample = Sample((x, w), {})
    a, b = tt.tensor(x, requires_grad=True), tt.tensor(w, requires_grad=True)
    cut = a.detach()
    if cut.requires_grad:
        fail(TENSOR, "detach", "x.detach() has requires_grad=True; torch's does not", sample)
    assert_close(tt.array(cut), x, EXACT, op_name=TENSOR, check="detach",
                 what="x.detach() has other values than x", sample=sample)
    out = cut * b
    upstream = np.ones(np.broadcast_shapes(x.shape, w.shape), dtype=x.dtype)
    tt.backward(out, upstream)
    _, (want,) = autodiff.vjp(oops.detach_mul, [x, w], upstream, wrt=(1,))
    got = tt.grad(a)
    if got is not None and np.any(got != 0):
        fail(TENSOR, "detach", "the gradient flowed through x.detach() back into x "
             "(torch leaves x.grad None)", sample, upstream=upstream)
    grad_w = tt.grad(b)
    if grad_w is None:
        fail(TENSOR, "detach", "w got no gradient from x.detach() * w", sample,
             upstream=upstream)
    assert_close(grad_w, want, tolerance_for(x.dtype), op_name=TENSOR, check="detach",
                 what="gradient of w in x.detach() * w differs from torch", sample=sample,
                 upstream=upstream)


@replayable
def check_tensor_from_tensor(x: np.ndarray) -> None:
    tt = target.get()
    sample = Sample((x,), {})
    source = tt.tensor(x, requires_grad=True)
    try:
        built = tt.Tensor(source)
    except Exception as e:  # noqa: BLE001 - torch builds it: any error is the finding
        fail(TENSOR, "Tensor(tensor)", f"Tensor(t) raised {type(e).__name__}: {e!s:.200} "
             "(torch.tensor(t) copies t)", sample)
    if built.requires_grad:
        fail(TENSOR, "Tensor(tensor)", "Tensor(t) of a t that requires grad requires grad; "
             "torch.tensor(t) does not", sample)
    assert_close(tt.array(built), tt.array(source), EXACT, op_name=TENSOR, check="Tensor(tensor)",
                 what="Tensor(t) holds other values than t", sample=sample, check_dtype=True)
