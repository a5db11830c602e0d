"""Torch twins of the learning-rate schedules (TinyTorch Module 07).

A schedule's learning rate at epoch ``e`` is the optimizer's ``lr`` after ``e`` calls
of ``scheduler.step()`` (each preceded by ``optimizer.step()``, the order torch asks for), with
the optimizer's initial lr set to ``max_lr``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch.optim import lr_scheduler

from oracles.autodiff import REFERENCE_DTYPE

# ----------------------------------------------------------------------------- schedules


def _epochs(epochs: int | Iterable[int]) -> list[int]:
    """An int ``n`` means epochs 0..n-1; otherwise the given (non-negative) epochs."""
    wanted = list(range(epochs)) if isinstance(epochs, (int, np.integer)) else list(epochs)
    if any(int(e) != e or e < 0 for e in wanted):
        raise ValueError(f"epochs must be non-negative integers, got {wanted}")
    return [int(e) for e in wanted]


def _optimizer(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.zeros(1, dtype=REFERENCE_DTYPE, requires_grad=True)], lr=lr)


def _trace(optimizer: torch.optim.Optimizer, scheduler: Any, epochs: Iterable[int]) -> list[float]:
    """The lr at each requested epoch: after that many ``scheduler.step()`` calls."""
    wanted = _epochs(epochs)
    lrs = [float(optimizer.param_groups[0]["lr"])]
    for _ in range(max(wanted, default=0)):
        optimizer.step()  # a no-op (no gradients); keeps torch's step-order check quiet
        scheduler.step()
        lrs.append(float(optimizer.param_groups[0]["lr"]))
    return [lrs[e] for e in wanted]


def cosine_lrs(max_lr: float, min_lr: float, total_epochs: int,
               epochs: int | Iterable[int]) -> list[float]:
    """``CosineAnnealingLR(T_max=total_epochs, eta_min=min_lr)`` from ``max_lr``. Torch's
    schedule is periodic past ``total_epochs`` (it climbs back to ``max_lr`` at
    ``2 * total_epochs``); the values are returned as torch gives them."""
    opt = _optimizer(max_lr)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=total_epochs, eta_min=min_lr)
    return _trace(opt, sched, epochs)


def warmup_cosine_lrs(max_lr: float, min_lr: float, warmup_epochs: int, total_epochs: int,
                      epochs: int | Iterable[int], start_factor: float = 1.0 / 3.0) -> list[float]:
    """``SequentialLR([LinearLR(start_factor, 1.0, total_iters=warmup_epochs),
    CosineAnnealingLR(T_max=total_epochs - warmup_epochs, eta_min=min_lr)],
    milestones=[warmup_epochs])`` from ``max_lr``. Measured on torch 2.13: epochs
    0..warmup-1 follow LinearLR, epoch ``warmup`` is ``max_lr`` (SequentialLR restarts the cosine
    at the milestone), epoch ``total_epochs`` is ``min_lr``; periodic beyond, like the cosine."""
    opt = _optimizer(max_lr)
    warm = lr_scheduler.LinearLR(opt, start_factor=start_factor, end_factor=1.0,
                                 total_iters=warmup_epochs)
    cos = lr_scheduler.CosineAnnealingLR(opt, T_max=total_epochs - warmup_epochs,
                                         eta_min=min_lr)
    sched = lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[warmup_epochs])
    return _trace(opt, sched, epochs)
