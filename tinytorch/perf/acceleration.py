"""Acceleration (upstream module 18, ``tinytorch.perf.acceleration``): kernels that must
equal their plain versions.

* ``vectorized_matmul``: one ``np.matmul`` call (batched, broadcast) instead of Python loops;
* ``tiled_matmul``: the same product computed tile by tile (``tile_size`` rows, columns and
  inner dimension at a time, the shape of a cache-blocked kernel), remainder tiles included;
* ``fused_gelu``: the tanh form of GELU as one expression, against ``unfused_gelu``, the same
  formula one elementary step (one temporary array) at a time.

They return Tensors outside the autograd graph (inference kernels, as upstream's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor

DEFAULT_WARMUP_ITERATIONS = 2
DEFAULT_TIMING_ITERATIONS = 5
BYTES_PER_FLOAT32 = 4

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _operands(a: Any, b: Any, kernel: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = (np.asarray(t.data if isinstance(t, Tensor) else t) for t in (a, b))
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"{kernel}: operands must be 2D+ arrays, got shapes {x.shape} and "
                         f"{y.shape}")
    if x.shape[-1] != y.shape[-2]:
        raise ValueError(f"{kernel}: shape mismatch, {x.shape} @ {y.shape} (inner dimensions "
                         f"{x.shape[-1]} and {y.shape[-2]})")
    return x, y


def vectorized_matmul(a: Any, b: Any) -> Tensor:
    x, y = _operands(a, b, "vectorized_matmul")
    return Tensor(np.matmul(x, y))


def tiled_matmul(a: Any, b: Any, tile_size: int = 64) -> Tensor:
    """``a @ b`` accumulated over ``tile_size`` blocks of rows (i), columns (j) and the inner
    dimension (k); the last block along each is whatever remains."""
    x, y = _operands(a, b, "tiled_matmul")
    if isinstance(tile_size, bool) or not isinstance(tile_size, int | np.integer) \
            or tile_size < 1:
        raise ValueError(f"tiled_matmul: tile_size must be a positive int, got {tile_size!r}")
    rows, inner, cols = x.shape[-2], x.shape[-1], y.shape[-1]
    batch = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    out = np.zeros(batch + (rows, cols), dtype=np.result_type(x, y))
    for i in range(0, rows, tile_size):
        for j in range(0, cols, tile_size):
            for k in range(0, inner, tile_size):
                out[..., i:i + tile_size, j:j + tile_size] += (
                    x[..., i:i + tile_size, k:k + tile_size]
                    @ y[..., k:k + tile_size, j:j + tile_size])
    return Tensor(out)


def fused_gelu(x: Any) -> Tensor:
    """``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` in one expression."""
    v = np.asarray(x.data if isinstance(x, Tensor) else x)
    return Tensor(0.5 * v * (1 + np.tanh(_SQRT_2_OVER_PI * (v + _GELU_CUBIC * v * v * v))))


def unfused_gelu(x: Any) -> Tensor:
    """The same formula one step at a time (each line a separate pass over memory)."""
    v = np.asarray(x.data if isinstance(x, Tensor) else x)
    cube = v * v * v
    inner = v + _GELU_CUBIC * cube
    scaled = _SQRT_2_OVER_PI * inner
    gate = 1 + np.tanh(scaled)
    return Tensor(0.5 * v * gate)
