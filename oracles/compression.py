"""Torch twins of compression: ``torch.nn.utils.prune`` masks and the best low-rank
approximation (Eckart-Young, from ``torch.linalg.svd``).

The pruning twins take a weight array and return torch's mask for it; they build a throwaway
``nn.Linear`` only because ``torch.nn.utils.prune`` works on a module's parameter.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils import prune


def _linear_holding(weight: np.ndarray) -> torch.nn.Module:
    layer = torch.nn.Linear(1, 1, bias=False)
    layer.weight = torch.nn.Parameter(torch.from_numpy(np.array(weight, dtype=np.float64)))
    return layer


def magnitude_mask(weight: np.ndarray, amount: float) -> np.ndarray:
    """``prune.l1_unstructured``'s mask: the ``round(amount * size)`` entries of smallest
    magnitude are 0, the rest 1."""
    layer = _linear_holding(weight)
    prune.l1_unstructured(layer, "weight", amount=amount)
    return layer.weight_mask.numpy().astype(bool)


def structured_mask(weight: np.ndarray, amount: float, dim: int, norm: float = 2) -> np.ndarray:
    """``prune.ln_structured``'s mask: the ``round(amount * n)`` slices along ``dim`` with the
    smallest ``norm`` are 0 (``dim`` is the axis whose indices are removed)."""
    layer = _linear_holding(weight)
    prune.ln_structured(layer, "weight", amount=amount, n=norm, dim=dim)
    return layer.weight_mask.numpy().astype(bool)


def singular_values(matrix: np.ndarray) -> np.ndarray:
    return torch.linalg.svdvals(torch.from_numpy(np.array(matrix, dtype=np.float64))).numpy()


def best_rank_error(matrix: np.ndarray, rank: int) -> float:
    """The Frobenius error of the best rank-``rank`` approximation: the root of the sum of the
    squared singular values it drops."""
    dropped = singular_values(matrix)[rank:]
    return float(np.sqrt(np.sum(dropped ** 2)))
