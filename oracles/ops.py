"""Torch twins of the tensor operations, in TinyTorch's (NumPy's) argument conventions.

Each function takes torch tensors and TinyTorch-style keyword arguments (``axis``/``keepdims``)
and translates them to torch's (``dim``/``keepdim``). Where NumPy and torch disagree on a
convention, the translation is written here, once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a + b


def sub(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a - b


def mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a * b


def div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a / b


def radd(a: torch.Tensor, *, scalar: float) -> torch.Tensor:
    return scalar + a


def rsub(a: torch.Tensor, *, scalar: float) -> torch.Tensor:
    return scalar - a


def rmul(a: torch.Tensor, *, scalar: float) -> torch.Tensor:
    return scalar * a


def rdiv(a: torch.Tensor, *, scalar: float) -> torch.Tensor:
    return scalar / a


def neg(a: torch.Tensor) -> torch.Tensor:
    return -a


def pow(a: torch.Tensor, *, exponent: float) -> torch.Tensor:  # noqa: A001
    return a**exponent


def pow_tensor(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a ** b`` with a tensor exponent (differentiable in both)."""
    return torch.pow(a, b)


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.matmul(a, b)


def tiled_matmul(a: torch.Tensor, b: torch.Tensor, *, tile_size: int) -> torch.Tensor:
    """A tiled product is the product: tiles change the order of the sums, not the value."""
    return torch.matmul(a, b)


def _dims(x: torch.Tensor, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _reduce(reduce: Any, x: torch.Tensor, axis: Any, keepdims: bool) -> torch.Tensor:
    """NumPy's ``axis``/``keepdims`` as torch's ``dim``/``keepdim``. A 0-d tensor takes dim 0
    and -1 in torch; with no axis it is reduced whole (torch reads ``dim=()`` as no dims)."""
    if x.ndim == 0 and axis is None:
        return reduce(x)
    return reduce(x, dim=_dims(x, axis), keepdim=keepdims)


def sum(x: torch.Tensor, *, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    return _reduce(torch.sum, x, axis, keepdims)


def mean(x: torch.Tensor, *, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.mean, x, axis, keepdims)


def max(x: torch.Tensor, *, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    return _reduce(torch.amax, x, axis, keepdims)


def min(x: torch.Tensor, *, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    return _reduce(torch.amin, x, axis, keepdims)


def reshape(x: torch.Tensor, *, shape: tuple[int, ...]) -> torch.Tensor:
    return x.reshape(shape)


def transpose(x: torch.Tensor, *, dims: tuple[int, int] | None = None) -> torch.Tensor:
    """TinyTorch's transpose swaps the last two axes by default."""
    if dims is None:
        return x if x.ndim < 2 else x.transpose(-2, -1)
    return x.transpose(*dims)


def permute(x: torch.Tensor, *, axes: tuple[int, ...]) -> torch.Tensor:
    return x.permute(*axes)


def _torch_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index.copy())
    return index


def getitem(x: torch.Tensor, *, index: Any) -> torch.Tensor:
    return x[_torch_index(index)]


def exp(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


def log(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x)


def sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x)


def abs(x: torch.Tensor) -> torch.Tensor:  # noqa: A001
    return torch.abs(x)


def clip(x: torch.Tensor, *, low: float | None, high: float | None) -> torch.Tensor:
    return torch.clamp(x, low, high)


def where(a: torch.Tensor, b: torch.Tensor, *, condition: np.ndarray) -> torch.Tensor:
    return torch.where(torch.from_numpy(condition.copy()), a, b)


def where_number(a: torch.Tensor, *, condition: np.ndarray, number: float,
                 number_first: bool) -> torch.Tensor:
    cond = torch.from_numpy(condition.copy())
    return torch.where(cond, number, a) if number_first else torch.where(cond, a, number)


def maximum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.maximum(a, b)


def maximum_number(a: torch.Tensor, *, number: float, number_first: bool) -> torch.Tensor:
    """``maximum(x, number)``: torch.maximum takes tensors only; clamp is its twin."""
    return torch.clamp(a, min=number)


def concatenate(*xs: torch.Tensor, axis: int = 0) -> torch.Tensor:
    return torch.cat(xs, dim=axis)


def stack(*xs: torch.Tensor, axis: int = 0) -> torch.Tensor:
    return torch.stack(xs, dim=axis)


def detach_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a.detach() * b``: the value of a product whose first factor is cut from the graph."""
    return a.detach() * b


def length(x: np.ndarray) -> int:
    """``len()`` of the torch tensor holding ``x`` (TypeError for a 0-d one, as torch raises)."""
    return len(torch.from_numpy(np.asarray(x)))
