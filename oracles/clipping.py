"""Torch twins of gradient clipping (TinyTorch Module 07).

Clipping runs ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` (default arguments:
``error_if_nonfinite=False``, the foreach path) on float64 parameters holding copies of the given
gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from oracles.autodiff import REFERENCE_DTYPE


def _params(grads: Sequence[np.ndarray | None]) -> list[torch.Tensor]:
    params = []
    for g in grads:
        if g is None:
            p = torch.zeros((), dtype=REFERENCE_DTYPE, requires_grad=True)
        else:
            g = np.asarray(g, dtype=np.float64)
            p = torch.zeros(g.shape, dtype=REFERENCE_DTYPE, requires_grad=True)
            p.grad = torch.from_numpy(g.copy())
        params.append(p)
    return params


def _grads(params: Sequence[torch.Tensor]) -> list[np.ndarray | None]:
    return [None if p.grad is None else p.grad.detach().numpy().copy() for p in params]


def clip_grad_norm(grads: Sequence[np.ndarray | None], max_norm: float,
                   norm_type: float = 2.0) -> tuple[float, list[np.ndarray | None]]:
    """torch's total norm (before clipping) and the clipped gradients (float64; None stays
    None). With no gradient at all torch returns 0.0 and changes nothing."""
    params = _params(grads)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return float(total), _grads(params)


def clip_grad_value(grads: Sequence[np.ndarray | None],
                    clip_value: float) -> list[np.ndarray | None]:
    """The gradients after ``torch.nn.utils.clip_grad_value_`` (float64; None stays None).
    With no gradient at all there is nothing to clamp (torch 2.13 would raise on the empty
    list inside its foreach path)."""
    params = _params(grads)
    if any(p.grad is not None for p in params):  # torch raises on an empty gradient list
        torch.nn.utils.clip_grad_value_(params, clip_value)
    return _grads(params)
