"""Mutants of gradient clipping and learning-rate schedules (Module 07).

Declared into :data:`properties.mutants.CATALOG` on import; tests/test_clipping.py and
tests/test_schedules.py must kill each one. Mutants validate their arguments as the original
does, so that an argument-error test never kills one by accident: the property must.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from properties import target
from properties.mutants import mutant


def _m(name: str) -> Any:
    return target.get().module(name)


# ----------------------------------------------------------------------------- clip_grad_norm


def _norm_not_applied(orig: Any) -> Any:
    def clip_grad_norm(parameters: Any, max_norm: float = 1.0, norm_type: float = 2.0) -> float:
        params = _m("clipping")._parameters(parameters)
        saved = [(p.grad, p.grad.data) for p in params if getattr(p, "grad", None) is not None]
        total = orig(params, max_norm, norm_type)
        for grad, data in saved:
            grad.data = data
        return total

    return clip_grad_norm


mutant("clip_norm_computed_not_applied",
       "clip_grad_norm computes and returns the total norm but never scales the gradients",
       clipping__clip_grad_norm=_norm_not_applied)

mutant("clip_wrong_norm", "clip_grad_norm uses the L1 norm when asked for the L2 norm",
       clipping__clip_grad_norm=lambda orig: lambda parameters, max_norm=1.0, norm_type=2.0:
       orig(parameters, max_norm, 1.0 if norm_type == 2 else norm_type))


def _post_clip_norm(orig: Any) -> Any:
    def clip_grad_norm(parameters: Any, max_norm: float = 1.0, norm_type: float = 2.0) -> float:
        clipping = _m("clipping")
        params = clipping._parameters(parameters)
        orig(params, max_norm, norm_type)
        return clipping.total_norm(
            [p.grad.data for p in params if getattr(p, "grad", None) is not None], norm_type)

    return clip_grad_norm


mutant("clip_returns_post_clip_norm",
       "clip_grad_norm returns the norm after clipping instead of the original total norm",
       clipping__clip_grad_norm=_post_clip_norm)


def _per_parameter(orig: Any) -> Any:
    def clip_grad_norm(parameters: Any, max_norm: float = 1.0, norm_type: float = 2.0) -> float:
        clipping = _m("clipping")
        params = clipping._parameters(parameters)
        with_grad = [p for p in params if getattr(p, "grad", None) is not None]
        total = clipping.total_norm([p.grad.data for p in with_grad], norm_type)
        for p in with_grad:
            orig([p], max_norm, norm_type)
        return total

    return clip_grad_norm


mutant("clip_per_parameter_norm",
       "each gradient is clipped by its own norm instead of the global norm of all of them",
       clipping__clip_grad_norm=_per_parameter)


def _normalises(orig: Any) -> Any:
    def clip_grad_norm(parameters: Any, max_norm: float = 1.0, norm_type: float = 2.0) -> float:
        clipping = _m("clipping")
        params = clipping._parameters(parameters)
        grads = [p.grad for p in params if getattr(p, "grad", None) is not None]
        before = [g.data for g in grads]
        total = orig(params, max_norm, norm_type)
        coef = max_norm / (total + clipping.EPS)
        for g, data in zip(grads, before):
            g.data = clipping._scaled(data, coef)
        return total

    return clip_grad_norm


mutant("clip_coefficient_not_clamped",
       "the coefficient max_norm / (norm + 1e-6) is applied even when > 1: small gradients "
       "are amplified up to max_norm",
       clipping__clip_grad_norm=_normalises)

# ----------------------------------------------------------------------------- clip_grad_value


def _one_sided(orig: Any) -> Any:
    def clip_grad_value(parameters: Any, clip_value: float) -> None:
        params = _m("clipping")._parameters(parameters)
        saved = [(p.grad, p.grad.data) for p in params if getattr(p, "grad", None) is not None]
        orig(params, clip_value)  # validates
        for grad, data in saved:
            grad.data = np.asarray(np.minimum(data, clip_value), dtype=data.dtype)

    return clip_grad_value


mutant("clip_value_one_sided", "clip_grad_value clamps only from above (min(g, c))",
       clipping__clip_grad_value=_one_sided)

# ----------------------------------------------------------------------------- schedules


def _cosine_shifted(orig: Any) -> Any:
    def get_lr(self: Any, epoch: float) -> float:
        return orig(self, _m("schedules")._check_epoch(epoch) + 1)

    return get_lr


mutant("cosine_off_by_one_epoch", "CosineSchedule.get_lr(e) returns the lr of epoch e + 1",
       schedules__CosineSchedule__get_lr=_cosine_shifted)


def _cosine_short(orig: Any) -> Any:
    def get_lr(self: Any, epoch: float) -> float:
        e = _m("schedules")._check_epoch(epoch)
        if e > self.total_epochs:
            return self.min_lr
        cos = math.cos(math.pi * e / (self.total_epochs + 1))
        return self.min_lr + (self.max_lr - self.min_lr) * (1 + cos) / 2

    return get_lr


mutant("cosine_never_reaches_min",
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


mutant("warmup_not_continuous",
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


mutant("warmup_ignores_start_factor",
       "warm-up ramps from 0 instead of start_factor * max_lr",
       schedules__WarmupCosineSchedule__get_lr=_warmup_from_zero)
