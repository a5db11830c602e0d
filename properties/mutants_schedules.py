"""Mutants of the learning-rate schedules (Module 07).

Declared into :data:`properties.mutation.CATALOG` on import; tests/test_schedules.py must kill
each one. Mutants validate their arguments as the original
does, so that an argument-error test never kills one by accident: the property must.
"""

from __future__ import annotations

import math
from typing import Any

from properties.mutation import module as _m
from properties.mutation import mutant

# ----------------------------------------------------------------------------- schedules


def _cosine_shifted(orig: Any) -> Any:
    def get_lr(self: Any, epoch: float) -> float:
        return orig(self, _m("schedules")._check_epoch(epoch) + 1)

    return get_lr


mutant("cosine_off_by_one_epoch", "schedules",
       "CosineSchedule.get_lr(e) returns the lr of epoch e + 1",
       schedules__CosineSchedule__get_lr=_cosine_shifted)


def _cosine_short(orig: Any) -> Any:
    def get_lr(self: Any, epoch: float) -> float:
        e = _m("schedules")._check_epoch(epoch)
        if e > self.total_epochs:
            return self.min_lr
        cos = math.cos(math.pi * e / (self.total_epochs + 1))
        return self.min_lr + (self.max_lr - self.min_lr) * (1 + cos) / 2

    return get_lr


mutant("cosine_never_reaches_min", "schedules",
       "CosineSchedule divides by total_epochs + 1: at total_epochs the lr is still above min_lr",
       schedules__CosineSchedule__get_lr=_cosine_short)


def _warmup_jump(orig: Any) -> Any:
    def get_lr(self: Any, epoch: float) -> float:
        schedules = _m("schedules")
        e = schedules._check_epoch(epoch)
        if e < self.warmup_epochs:
            return orig(self, e)
        # the cosine is evaluated at e instead of e - warmup_epochs: it starts below max_lr
        return schedules.cosine_value(self.max_lr, self.min_lr, e, self.total_epochs)

    return get_lr


mutant("warmup_not_continuous", "schedules",
       "after warm-up the cosine runs on the absolute epoch, not the epochs since warm-up: the "
       "lr jumps down at the boundary",
       schedules__WarmupCosineSchedule__get_lr=_warmup_jump)


def _warmup_from_zero(orig: Any) -> Any:
    def get_lr(self: Any, epoch: float) -> float:
        e = _m("schedules")._check_epoch(epoch)
        if e < self.warmup_epochs:
            return self.max_lr * e / self.warmup_epochs
        return orig(self, e)

    return get_lr


mutant("warmup_ignores_start_factor", "schedules",
       "warm-up ramps from 0 instead of start_factor * max_lr",
       schedules__WarmupCosineSchedule__get_lr=_warmup_from_zero)


def _cosine_defaults(orig: Any) -> Any:
    def __init__(self: Any, max_lr: float = 0.1, min_lr: float = 0.01,
                 total_epochs: int = 10) -> None:
        orig(self, max_lr, min_lr, total_epochs)

    return __init__


mutant("cosine_default_total_epochs", "schedules",
       "CosineSchedule() anneals over 10 epochs: upstream's default is 100",
       **{"schedules.CosineSchedule.__init__": _cosine_defaults})

mutant("warmup_default_start_factor", "schedules",
       "WarmupCosineSchedule's start_factor defaults to 0.1, not LinearLR's 1/3",
       **{"schedules.WarmupCosineSchedule.__init__": lambda orig: (
           lambda self, max_lr, min_lr, warmup_epochs, total_epochs, start_factor=0.1:
           orig(self, max_lr, min_lr, warmup_epochs, total_epochs, start_factor))})

mutant("apply_records_whole_epochs", "schedules",
       "apply(optimizer, 2.5) records last_epoch = 2: a resumed schedule restarts elsewhere",
       schedules___plain=lambda orig: lambda epoch: int(epoch))


def _fresh_last_epoch_zero(orig: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        orig(self, *args, **kwargs)
        self.last_epoch = 0

    return __init__


mutant("warmup_fresh_last_epoch_zero", "schedules",
       "a new WarmupCosineSchedule says it was applied at epoch 0 (last_epoch = 0, not -1)",
       **{"schedules.WarmupCosineSchedule.__init__": _fresh_last_epoch_zero})
