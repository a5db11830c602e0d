"""Learning-rate schedules (TinyTorch Module 07): the learning rate as a function of the epoch.

A schedule is stateless arithmetic: ``get_lr(epoch)`` is a closed form, ``apply(optimizer,
epoch)`` writes it to ``optimizer.lr``. Epochs count from 0; fractional epochs are accepted (the
closed forms are continuous), negative ones are an error.

``CosineSchedule(max_lr, min_lr, total_epochs)``::

    lr(e) = min_lr + (max_lr - min_lr) * (1 + cos(pi * e / total_epochs)) / 2,  0 <= e <= total
    lr(e) = min_lr,                                                             e >= total

For 0 <= e <= total this is ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_epochs,
eta_min=min_lr)`` on an optimizer whose lr is ``max_lr``, read after ``e`` calls to
``scheduler.step()``. Past ``total_epochs`` torch's annealing is periodic (the lr climbs back
towards ``max_lr`` over the next ``total_epochs`` epochs); this schedule stays at ``min_lr``.

``WarmupCosineSchedule(max_lr, min_lr, warmup_epochs, total_epochs, start_factor=1/3)``, with
``w = warmup_epochs`` and ``T = total_epochs``::

    lr(e) = max_lr * (start_factor + (1 - start_factor) * e / w)                  0 <= e <= w
    lr(e) = min_lr + (max_lr - min_lr) * (1 + cos(pi * (e - w) / (T - w))) / 2,   w <= e <= T
    lr(e) = min_lr                                                                e >= T

Both pieces give ``max_lr`` at ``e = w``: the join is continuous. This is torch's
``SequentialLR([LinearLR(start_factor, end_factor=1.0, total_iters=w),
CosineAnnealingLR(T_max=T - w, eta_min=min_lr)], milestones=[w])`` for 0 <= e <= T, as measured
on torch 2.13: epochs 0..w-1 get LinearLR's values, and at the milestone SequentialLR restarts
the cosine (``step(0)``), so epoch w gets ``max_lr`` exactly, the cosine's first value, and epoch
T gets ``min_lr``. (Past T torch's cosine climbs back up, as above.) ``warmup_epochs = 0`` is
the plain cosine schedule, as the torch composition is; ``start_factor`` defaults to
``LinearLR``'s 1/3.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinytorch.core.validation import real_number

__all__ = ["CosineSchedule", "WarmupCosineSchedule"]


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_epoch(epoch: Any) -> float:
    """A valid epoch (a finite real >= 0), as a float."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float, np.integer, np.floating)):
        raise TypeError(f"epoch must be a number, not {type(epoch).__name__}")
    if not epoch >= 0 or not math.isfinite(epoch):  # NaN fails the first test
        raise ValueError(f"epoch must be a finite number >= 0, got {epoch}")
    return float(epoch)


def _plain(epoch: Any) -> int | float:
    """An epoch as a plain Python int (integral types) or float, for state dicts."""
    return int(epoch) if isinstance(epoch, (int, np.integer)) else float(epoch)


def _check_lrs(max_lr: Any, min_lr: Any) -> tuple[float, float]:
    max_lr, min_lr = real_number("max_lr", max_lr), real_number("min_lr", min_lr)
    if min_lr < 0:
        raise ValueError(f"min_lr must be >= 0, got {min_lr}")
    if min_lr > max_lr:
        raise ValueError(f"min_lr ({min_lr}) must be <= max_lr ({max_lr})")
    return max_lr, min_lr


def cosine_value(max_lr: float, min_lr: float, t: float, period: float) -> float:
    """``min_lr + (max_lr - min_lr) * (1 + cos(pi * t / period)) / 2`` for ``0 <= t <= period``,
    ``min_lr`` beyond."""
    if t >= period:
        return float(min_lr)
    return float(min_lr + (max_lr - min_lr) * (1.0 + math.cos(math.pi * t / period)) / 2.0)


class _Schedule:
    """What both schedules share: ``apply`` and the state dict (hyper-parameters + last epoch)."""

    _FIELDS: tuple[str, ...] = ()

    last_epoch: float | int = -1  # the epoch of the last apply(); -1 before any

    def get_lr(self, epoch: float) -> float:
        raise NotImplementedError

    def apply(self, optimizer: Any, epoch: float) -> float:
        """Set ``optimizer.lr`` to the learning rate of ``epoch`` and return it."""
        if not hasattr(optimizer, "lr"):
            raise AttributeError(f"{type(optimizer).__name__} has no 'lr' attribute to set")
        lr = self.get_lr(epoch)
        optimizer.lr = lr
        self.last_epoch = _plain(epoch)
        return lr

    def state_dict(self) -> dict[str, float | int]:
        """The hyper-parameters and ``last_epoch``: a plain dict of floats and ints."""
        state: dict[str, float | int] = {name: getattr(self, name) for name in self._FIELDS}
        state["last_epoch"] = self.last_epoch
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`'s output (keys must match exactly; values are
        validated as the constructor validates them)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, not {type(state).__name__}")
        expected = (*self._FIELDS, "last_epoch")
        missing = [k for k in expected if k not in state]
        unknown = [k for k in state if k not in expected]
        if missing or unknown:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unknown}")
        fresh = type(self)(**{name: state[name] for name in self._FIELDS})
        last = state["last_epoch"]
        if last != -1:
            _check_epoch(last)
        vars(self).update(vars(fresh))
        self.last_epoch = _plain(last)


class CosineSchedule(_Schedule):
    """Cosine annealing from ``max_lr`` at epoch 0 to ``min_lr`` at ``total_epochs``, then flat."""

    _FIELDS = ("max_lr", "min_lr", "total_epochs")

    def __init__(self, max_lr: float = 0.1, min_lr: float = 0.01,
                 total_epochs: int = 100) -> None:
        self.max_lr, self.min_lr = _check_lrs(max_lr, min_lr)
        self.total_epochs = _count("total_epochs", total_epochs, 1)
        self.last_epoch = -1

    def get_lr(self, epoch: float) -> float:
        e = _check_epoch(epoch)
        return cosine_value(self.max_lr, self.min_lr, e, self.total_epochs)


class WarmupCosineSchedule(_Schedule):
    """Linear warm-up from ``start_factor * max_lr`` to ``max_lr`` over ``warmup_epochs``, then
    cosine annealing to ``min_lr`` at ``total_epochs``, then flat."""

    _FIELDS = ("max_lr", "min_lr", "warmup_epochs", "total_epochs", "start_factor")

    def __init__(self, max_lr: float, min_lr: float, warmup_epochs: int, total_epochs: int,
                 start_factor: float = 1.0 / 3.0) -> None:
        self.max_lr, self.min_lr = _check_lrs(max_lr, min_lr)
        self.total_epochs = _count("total_epochs", total_epochs, 1)
        self.warmup_epochs = _count("warmup_epochs", warmup_epochs, 0)
        if self.warmup_epochs >= self.total_epochs:
            raise ValueError(f"warmup_epochs ({warmup_epochs}) must be < total_epochs "
                             f"({total_epochs}): the cosine phase needs at least one epoch")
        self.start_factor = real_number("start_factor", start_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
        self.last_epoch = -1

    def get_lr(self, epoch: float) -> float:
        e = _check_epoch(epoch)
        w = self.warmup_epochs
        if e < w:
            return float(self.max_lr * (self.start_factor + (1.0 - self.start_factor) * e / w))
        return cosine_value(self.max_lr, self.min_lr, e - w, self.total_epochs - w)
