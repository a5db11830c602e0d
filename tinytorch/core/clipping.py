"""Gradient clipping (TinyTorch Module 07): rescale or clamp ``p.grad`` before an optimizer step.

``clip_grad_norm`` follows ``torch.nn.utils.clip_grad_norm_`` (with its defaults,
``error_if_nonfinite=False``):

* the total norm is the p-norm of all gradients viewed as one vector, computed as torch does,
  in two stages (each gradient's norm, then the norm of those norms), naively: in float64, with
  no rescaling, so it overflows to ``inf`` (and underflows to 0) where torch's does;
* the coefficient is ``max_norm / (total + 1e-6)`` clamped to 1. Below 1 every gradient is
  multiplied by it; otherwise the gradients are left untouched, bit for bit. (So a total norm
  equal to ``max_norm`` is still scaled, by ``max_norm / (max_norm + 1e-6)``: only
  ``total <= max_norm - 1e-6`` is "under the threshold".)
* an empty gradient adds 0 to a p-norm, but the inf-norm of one is an error (a max over
  nothing), as torch's;
* a non-finite total norm is not an error: ``inf`` gives a coefficient of 0 (finite entries
  become 0, infinite ones NaN), ``NaN`` gives NaN gradients, exactly as torch.

Gradients are ``Tensor``s; their arrays are replaced by new ones of the same dtype and shape,
never updated in place (as ``autograd.accumulate_leaf_grad`` does, so an array a caller kept does
not change under their feet). Parameters whose ``grad`` is None are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.core.validation import real_number

EPS = 1e-6  # torch's: coefficient = max_norm / (total_norm + 1e-6)

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value", "clip_grad_value_",
           "total_norm"]


def _parameters(parameters: Any) -> list[Any]:
    """A single tensor or any iterable (generators included) of tensors, as a list."""
    if isinstance(parameters, Tensor):
        return [parameters]
    if not isinstance(parameters, Iterable):
        raise TypeError("parameters must be a Tensor or an iterable of Tensors, "
                        f"not {type(parameters).__name__}")
    return list(parameters)


def _norm_type(norm_type: Any) -> float:
    p = real_number("norm_type", norm_type, finite=False)
    if not p > 0:  # also rejects NaN
        raise ValueError(f"norm_type must be a positive number or float('inf'), got {norm_type}")
    return p


def _array_norm(g: np.ndarray, p: float) -> float:
    """The p-norm of one array, in float64, computed naively (as torch: no overflow guard)."""
    a = np.abs(np.asarray(g, dtype=np.float64))
    if a.size == 0:
        return 0.0
    if a.size == 1:  # exact, and what torch returns (no square to underflow or overflow)
        return float(a.reshape(-1)[0])
    if p == math.inf:
        return float(a.max())
    if p == 1.0:
        return float(a.sum())
    if p == 2.0:
        return float(np.sqrt(np.sum(a * a)))
    return float(np.sum(a ** p) ** (1.0 / p))


def total_norm(arrays: Iterable[np.ndarray], norm_type: float) -> float:
    """The p-norm of all ``arrays`` viewed as one vector: each array's norm, then the norm of
    those norms (torch's order of evaluation). 0.0 for no arrays."""
    p = _norm_type(norm_type)
    arrays = [np.asarray(g) for g in arrays]
    if p == math.inf and any(g.size == 0 for g in arrays):
        shapes = [g.shape for g in arrays if g.size == 0]
        raise ValueError(f"the inf-norm of an empty gradient (shapes {shapes}) is undefined: a "
                         "max over nothing has no value (torch raises too)")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        norms = [_array_norm(g, p) for g in arrays]
        return _array_norm(np.asarray(norms, dtype=np.float64), p) if norms else 0.0


def _scaled(g: np.ndarray, coef: float) -> np.ndarray:
    """``g * coef`` in g's dtype, an array even at 0-d. coef <= 1, so nothing overflows; inf * 0
    is NaN, as torch's."""
    g = np.asarray(g)
    with np.errstate(invalid="ignore"):
        return np.asarray(g * g.dtype.type(coef))


def clip_grad_norm(parameters: Any, max_norm: float = 1.0, norm_type: float = 2.0) -> float:
    """Scale all gradients together so that their total ``norm_type``-norm is at most
    ``max_norm``; returns the total norm *before* clipping (a float, possibly inf or NaN).

    ``norm_type`` is any p > 0 or ``float('inf')``; ``max_norm`` is >= 0 (0 zeroes every
    gradient). See the module docstring for the exact rule and the non-finite cases.
    """
    params = _parameters(parameters)
    max_norm = real_number("max_norm", max_norm, finite=False)
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    p = _norm_type(norm_type)
    grads = [param.grad for param in params if getattr(param, "grad", None) is not None]
    total = total_norm((g.data for g in grads), p)
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = float(np.float64(max_norm) / (np.float64(total) + EPS))
    if coef < 1.0 or math.isnan(coef):  # torch: clamp(coef, max=1) keeps NaN
        for g in grads:
            g.data = _scaled(g.data, coef)
    return total


def clip_grad_value(parameters: Any, clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` (NaN stays NaN), as
    ``torch.nn.utils.clip_grad_value_``. ``clip_value`` must be >= 0."""
    params = _parameters(parameters)
    clip_value = real_number("clip_value", clip_value, finite=False)
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value}")
    for param in params:
        g = getattr(param, "grad", None)
        if g is not None:
            a = np.asarray(g.data)
            g.data = np.asarray(np.clip(a, -clip_value, clip_value), dtype=a.dtype)


# torch's in-place names
clip_grad_norm_ = clip_grad_norm
clip_grad_value_ = clip_grad_value
