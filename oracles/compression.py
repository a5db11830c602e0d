"""Torch twins of compression: ``torch.nn.utils.prune`` masks and the best low-rank
approximation (Eckart-Young, from ``torch.linalg.svd``).

The pruning twins take a weight array and return torch's mask for it; they build a throwaway
``nn.Linear`` only because ``torch.nn.utils.prune`` works on a module's parameter.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils import prune

from oracles.autodiff import to_torch
from oracles.nn import sequential_twin, tinytorch_layout
from oracles.optim import make_optimizer
from oracles.training import loss_value


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


def train_pruned(layout: list[str], state: dict[str, np.ndarray], masks: dict[str, np.ndarray],
                 optimizer: str, hyper: dict, loss: str,
                 batches: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """Train the twin of a pruned MLP, one optimizer step per batch, the way torch keeps a
    pruning: ``prune.custom_from_mask`` on each masked weight (``weight_orig`` trains, the
    forward sees ``weight_orig * mask``). Returns the weights a forward sees after each step,
    by TinyTorch name and layout. ``masks`` are in TinyTorch's layout (True = kept)."""
    model = sequential_twin(layout, state)
    for name, mask in masks.items():
        index = int(name.split(".")[1])
        prune.custom_from_mask(model[index], "weight",
                               torch.from_numpy(np.ascontiguousarray(mask.T)))
    opt = make_optimizer(optimizer, model.parameters(), hyper)

    def seen() -> dict[str, np.ndarray]:
        out = {}
        for i, module in enumerate(model):
            for leaf in ("weight", "bias"):
                if hasattr(module, leaf + "_orig"):
                    value = getattr(module, leaf + "_orig") * getattr(module, leaf + "_mask")
                elif isinstance(getattr(module, leaf, None), torch.Tensor):
                    value = getattr(module, leaf)
                else:
                    continue
                out[f"layers.{i}.{leaf}"] = tinytorch_layout(leaf, value.detach().numpy().copy())
        return out

    states = []
    for x, y in batches:
        opt.zero_grad()
        loss_value(loss, model(to_torch(x)), y).backward()
        opt.step()
        states.append(seen())
    return states
