"""The systems catalog (modules 14-19): quantization, pruning, KV cache, kernels, profiler.
Each mutant is a bug a student or an optimising refactor really writes."""

from __future__ import annotations

from typing import Any

import numpy as np

from properties.mutation import module as _m
from properties.mutation import mutant


def _scale_over_256(orig: Any) -> Any:
    def choose_qparams(x: Any, symmetric: bool = False, axis: int | None = None) -> Any:
        scale, zero = orig(x, symmetric, axis)
        scale = np.asarray(scale) * 255 / 256  # the range over 256 values, not 255 steps
        q = _m("quantization")
        if not symmetric:
            low = np.minimum(np.asarray(q._values(x)).min(axis=q._reduce_axes(
                np.ndim(q._values(x)), axis)), 0.0)
            zero = np.clip(q.INT8_MIN_VALUE - np.round(low / scale), -128, 127).astype(np.int64)
        return (float(scale), int(zero)) if axis is None else (scale, zero)

    return choose_qparams


mutant("quant_scale_off_by_one_step", "quantization",
       "the scale divides the range by 256 (the int8 values) instead of 255 (the steps), so "
       "the largest value is clamped",
       quantization__choose_qparams=_scale_over_256)


def _zero_point_truncated(orig: Any) -> Any:
    def choose_qparams(x: Any, symmetric: bool = False, axis: int | None = None) -> Any:
        scale, zero = orig(x, symmetric, axis)
        if symmetric:
            return scale, zero
        q = _m("quantization")
        values = q._values(x).astype(np.float64)
        low = np.minimum(values.min(axis=q._reduce_axes(values.ndim, axis)), 0.0)
        zero = np.clip(q.INT8_MIN_VALUE - np.trunc(low / np.asarray(scale)), -128,
                       127).astype(np.int64)  # truncated toward zero, not rounded
        return (scale, int(zero)) if axis is None else (scale, zero)

    return choose_qparams


mutant("zero_point_rounding_wrong", "quantization",
       "the zero point truncates min / scale toward zero instead of rounding it",
       quantization__choose_qparams=_zero_point_truncated)
