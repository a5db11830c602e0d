"""Compression (upstream module 16, ``tinytorch.perf.compression``): pruning and low-rank
approximation.

Pruning follows ``torch.nn.utils.prune``: magnitude pruning removes, in each weight matrix
(or kernel), the ``round(sparsity * size)`` entries of smallest magnitude; structured pruning
removes the ``round(ratio * n)`` output neurons (Linear columns, Conv2d filters) of smallest L2
norm, and their bias entries. A pruned parameter keeps its mask (``param.prune_mask``, True =
kept), and the optimizers multiply by it after every step (``core.optimizers.keep_pruned``),
so pruned weights stay zero while the model keeps training (torch keeps ``weight_orig`` and a
mask, and multiplies before each forward: the weights a forward sees are the same).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.layers import Linear, Module
from tinytorch.core.spatial import Conv2d
from tinytorch.core.tensor import Tensor

BYTES_PER_FLOAT32 = 4
MB_TO_BYTES = 1024 * 1024


def _check_fraction(name: str, value: float) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def prunable(model: Any) -> list[Tensor]:
    """The parameters pruning applies to: weight matrices and kernels (2 or more dims)."""
    params = model.parameters() if hasattr(model, "parameters") else []
    return [p for p in params if p.data.ndim >= 2]


def _apply(param: Tensor, keep: np.ndarray) -> None:
    """Combine ``keep`` with any mask the parameter already has, and zero what is pruned."""
    old = getattr(param, "prune_mask", None)
    mask = keep if old is None else (old & keep)
    param.prune_mask = mask
    param.data *= mask


def magnitude_mask(weight: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep all but the ``round(sparsity * size)`` entries of smallest magnitude."""
    count = int(round(sparsity * weight.size))
    keep = np.ones(weight.size, dtype=bool)
    keep[np.argsort(np.abs(weight).ravel(), kind="stable")[:count]] = False
    return keep.reshape(weight.shape)


def magnitude_prune(model: Any, sparsity: float = 0.5) -> Any:
    """Zero the smallest-magnitude ``sparsity`` of every weight matrix, in place; the masks
    stay applied through later optimizer steps."""
    sparsity = _check_fraction("magnitude_prune: sparsity", sparsity)
    for param in prunable(model):
        _apply(param, magnitude_mask(param.data, sparsity))
    return model


def neuron_norms(weight: np.ndarray, output_axis: int) -> np.ndarray:
    axes = tuple(d for d in range(weight.ndim) if d != output_axis)
    return np.sqrt(np.sum(weight.astype(np.float64) ** 2, axis=axes))


def _output_axis(layer: Any) -> int:
    return 1 if isinstance(layer, Linear) else 0  # Linear (in, out); Conv2d (out, in, kh, kw)


def structured_prune(model: Any, prune_ratio: float = 0.5) -> Any:
    """Remove the ``round(prune_ratio * n)`` output neurons of smallest L2 norm from every
    Linear and Conv2d (their weights and bias entries), in place, masks kept."""
    prune_ratio = _check_fraction("structured_prune: prune_ratio", prune_ratio)
    layers = model.modules() if isinstance(model, Module) else getattr(model, "layers", [])
    for layer in layers:
        if not isinstance(layer, Linear | Conv2d):
            continue
        axis = _output_axis(layer)
        norms = neuron_norms(layer.weight.data, axis)
        kept = np.ones(norms.size, dtype=bool)
        kept[np.argsort(norms, kind="stable")[:int(round(prune_ratio * norms.size))]] = False
        shape = [1] * layer.weight.data.ndim
        shape[axis] = -1
        _apply(layer.weight, np.broadcast_to(kept.reshape(shape), layer.weight.shape).copy())
        if getattr(layer, "bias", None) is not None:
            _apply(layer.bias, kept.copy())
    return model


def measure_sparsity(model: Any) -> float:
    """Fraction of zeros among the weight matrices and kernels (0 to 1)."""
    params = prunable(model)
    total = sum(p.data.size for p in params)
    if total == 0:
        raise ValueError("measure_sparsity: the model has no weight matrix")
    return sum(int(np.sum(p.data == 0)) for p in params) / total


def low_rank_approximate(weight_matrix: Any, rank_ratio: float = 0.5
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(U, S, V) of the best rank-k approximation ``U @ diag(S) @ V`` (truncated SVD, which
    is optimal in the Frobenius and spectral norms), ``k = max(1, int(rank_ratio *
    min(m, n)))``."""
    matrix = np.asarray(weight_matrix.data if isinstance(weight_matrix, Tensor)
                        else weight_matrix)
    if matrix.ndim != 2:
        raise ValueError(f"low_rank_approximate: expects a matrix, got shape {matrix.shape}")
    rank_ratio = _check_fraction("low_rank_approximate: rank_ratio", rank_ratio)
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    k = max(1, int(rank_ratio * min(matrix.shape)))
    return u[:, :k], s[:k], vt[:k]
