"""Mutants of gradient clipping (Module 07): ``clip_grad_norm`` and ``clip_grad_value``.

Declared into :data:`properties.mutation.CATALOG` on import; tests/test_clipping.py must kill
each one. Mutants validate their arguments as the original does, so that an argument-error test
never kills one by accident: the property must.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from properties.mutation import module as _m
from properties.mutation import mutant

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


mutant("clip_norm_computed_not_applied", "clipping",
       "clip_grad_norm computes and returns the total norm but never scales the gradients",
       clipping__clip_grad_norm=_norm_not_applied)

mutant("clip_wrong_norm", "clipping", "clip_grad_norm uses the L1 norm when asked for the L2 norm",
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


mutant("clip_default_max_norm_not_upstreams", "clipping",
       "clip_grad_norm(params) clips at 5.0: upstream's default max_norm is 1.0",
       clipping__clip_grad_norm=lambda orig: lambda parameters, max_norm=5.0, norm_type=2.0:
       orig(parameters, max_norm, norm_type))

mutant("clip_inf_norm_of_empty_is_zero", "clipping",
       "an empty gradient's inf-norm is taken as 0 (torch raises: a max over nothing)",
       clipping__total_norm=lambda orig: lambda arrays, norm_type: orig(
           [g for g in map(np.asarray, arrays) if g.size], norm_type))

mutant("clip_returns_post_clip_norm", "clipping",
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


mutant("clip_per_parameter_norm", "clipping",
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


mutant("clip_coefficient_not_clamped", "clipping",
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


mutant("clip_value_one_sided", "clipping", "clip_grad_value clamps only from above (min(g, c))",
       clipping__clip_grad_value=_one_sided)


def _max_over_no_gradients(orig: Any) -> Any:
    def total_norm(arrays: Any, norm_type: float = 2.0) -> float:
        arrays = list(arrays)
        if not arrays and norm_type == math.inf:
            return float(np.max(np.zeros(0)))  # a max over nothing: ValueError
        return orig(arrays, norm_type)

    return total_norm


mutant("clip_inf_norm_of_no_gradients_raises", "clipping",
       "clip_grad_norm(norm_type=inf) when no parameter has a gradient takes a max over nothing "
       "(torch's total norm is 0)",
       clipping__total_norm=_max_over_no_gradients)
