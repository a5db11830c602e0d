"""Run a torch function on NumPy arrays and return its value and vector-Jacobian products."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

REFERENCE_DTYPE = torch.float64


def to_torch(array: Any, requires_grad: bool = False,
             dtype: torch.dtype = REFERENCE_DTYPE) -> torch.Tensor:
    """A float64 (or ``dtype``; integer/bool unchanged) torch tensor holding a copy of
    ``array``."""
    array = np.asarray(array)
    t = torch.from_numpy(array.copy())
    if t.is_floating_point():
        t = t.to(dtype)
    return t.requires_grad_(requires_grad)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _torch_dtype(precision: Any) -> torch.dtype:
    return torch.float32 if np.dtype(precision) == np.float32 else REFERENCE_DTYPE


def forward(
    fn: Callable[..., torch.Tensor], arrays: Sequence[np.ndarray], precision: Any = np.float64,
    **kwargs: Any
) -> np.ndarray:
    """``fn(*arrays, **kwargs)`` computed by torch in float64 (or ``precision``), as a NumPy
    array."""
    dtype = _torch_dtype(precision)
    with torch.no_grad():
        return to_numpy(fn(*(to_torch(a, dtype=dtype) for a in arrays), **kwargs))


def vjp(
    fn: Callable[..., torch.Tensor],
    arrays: Sequence[np.ndarray],
    upstream: np.ndarray,
    wrt: Sequence[int],
    precision: Any = np.float64,
    **kwargs: Any,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Value of ``fn`` and the gradients of ``sum(upstream * fn(...))`` w.r.t. each
    ``arrays[i]`` with i in ``wrt``, computed in ``precision`` (float64 unless asked: float32
    measures how far torch's own float32 run strays at these inputs).

    An input that does not influence the output gets a zero gradient, as TinyTorch reports.
    """
    dtype = _torch_dtype(precision)
    inputs = [to_torch(a, requires_grad=i in wrt, dtype=dtype) for i, a in enumerate(arrays)]
    out = fn(*inputs, **kwargs)
    leaves = [inputs[i] for i in wrt]
    grads = torch.autograd.grad(out, leaves, grad_outputs=to_torch(upstream, dtype=dtype),
                                allow_unused=True)
    return to_numpy(out), [
        np.zeros(np.shape(arrays[i])) if g is None else to_numpy(g) for i, g in zip(wrt, grads)
    ]


def error_of(fn: Callable[..., torch.Tensor], arrays: Sequence[np.ndarray],
             **kwargs: Any) -> type[BaseException] | None:
    """The exception class torch raises for ``fn(*arrays, **kwargs)``, or None if it runs."""
    try:
        with torch.no_grad():
            fn(*(to_torch(a) for a in arrays), **kwargs)
    except Exception as e:  # noqa: BLE001 - which error torch raises is the answer
        return type(e)
    return None
