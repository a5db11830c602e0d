"""Transformer building blocks (upstream's ``tinytorch.core.transformer``): LayerNorm.

LayerNorm's backward goes through the mean and the variance (both depend on every input of
the row): ``dx = (g - mean(g) - y mean(g y)) / std`` with ``g = dL/dy * weight`` and ``y`` the
normalised input, over the normalised dims.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor


class LayerNormFunction(Function):
    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        self.axes = tuple(range(x.ndim - weight.ndim, x.ndim))
        centered = x - x.mean(axis=self.axes, keepdims=True)
        variance = (centered * centered).mean(axis=self.axes, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(variance + self.params["eps"])
        self.normed, self.weight = centered * self.inv_std, weight
        return (self.normed * weight + bias).astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = grad * self.weight
        mean_g = g.mean(axis=self.axes, keepdims=True)
        mean_gy = (g * self.normed).mean(axis=self.axes, keepdims=True)
        grad_x = self.inv_std * (g - mean_g - self.normed * mean_gy)
        leading = tuple(range(grad.ndim - self.weight.ndim))
        return grad_x, (grad * self.normed).sum(axis=leading), grad.sum(axis=leading)


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift
    (``weight`` ones and ``bias`` zeros at first, as torch)."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        if not shape or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1
                            for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got "
                             f"{normalized_shape!r}")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        self.normalized_shape, self.eps = tuple(int(n) for n in shape), float(eps)
        self.weight = Tensor(np.ones(self.normalized_shape, np.float32), requires_grad=True)
        self.bias = Tensor(np.zeros(self.normalized_shape, np.float32), requires_grad=True)

    def forward(self, x: Tensor) -> Tensor:
        n = len(self.normalized_shape)
        if x.ndim < n or x.shape[x.ndim - n:] != self.normalized_shape:
            raise ValueError(f"LayerNorm({self.normalized_shape}) expects input whose last "
                             f"dims are {self.normalized_shape}, got shape {x.shape}")
        return LayerNormFunction.apply(x, self.weight, self.bias, eps=self.eps)
