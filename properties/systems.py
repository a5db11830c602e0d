"""The adapter's systems half: how the harness calls a target's profiling, quantization,
compression, KV-cache and benchmarking APIs, whatever form their results take.

Correct copies differ in representation, not behaviour: upstream's ``quantize_int8`` returns
its int8 values in a float32 Tensor, the bundled one an ``int8`` array; a scale is a float or,
per channel, an array. Everything here goes through :func:`properties.target.get` and hands
back plain NumPy values, so the laws never see the difference.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from properties import target


def _tt() -> target.Target:
    return target.get()


def quantize(x: np.ndarray, symmetric: bool = False, axis: int | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int values as int64, scale, zero point) from the target's ``quantize_int8``; options
    the target's signature lacks skip the test (``target lacks quantize_int8(axis=...)``)."""
    tt = _tt()
    fn = tt.need("quantize_int8")
    options = {}
    for name, value, default in (("symmetric", symmetric, False), ("axis", axis, None)):
        if value != default:
            if not tt.takes(fn, name):
                raise tt.lacking(f"perf.quantization.quantize_int8({name}=...)")
            options[name] = value
    q, scale, zero_point = fn(tt.tensor(x), **options)
    values = tt.array(q)
    if values.dtype.kind == "f" and not np.all(values == np.round(values)):
        raise AssertionError(f"quantize_int8 returned non-integral values: {values.ravel()[:8]}")
    zero = np.asarray(tt.array(zero_point))
    if zero.dtype.kind == "f" and not np.all(zero == np.round(zero)):
        raise AssertionError(f"quantize_int8 returned a non-integral zero point {zero}: 0 "
                             "then has no exact int8 value")
    return (values.astype(np.int64), np.asarray(tt.array(scale), dtype=np.float64),
            zero.astype(np.int64))


def dequantize(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray,
               axis: int | None = None) -> np.ndarray:
    """The target's ``dequantize_int8`` of int8 values, as float64."""
    tt = _tt()
    fn = tt.need("dequantize_int8")
    args: tuple[Any, ...] = (q.astype(np.int8),)
    per_channel = np.ndim(scale) > 0
    scale_arg = scale if per_channel else float(scale)
    zero_arg = zero_point if per_channel else int(zero_point)
    if axis is not None:
        if not tt.takes(fn, "axis"):
            raise tt.lacking("perf.quantization.dequantize_int8(axis=...)")
        return np.asarray(tt.array(fn(*args, scale_arg, zero_arg, axis=axis)), dtype=np.float64)
    try:
        out = fn(*args, scale_arg, zero_arg)
    except (AttributeError, TypeError):  # a dequantize that reads q.data: hand it a Tensor
        out = fn(tt.tensor(q.astype(np.float32)), scale_arg, zero_arg)
    return np.asarray(tt.array(out), dtype=np.float64)


def quantized_linear(weight: np.ndarray, bias: np.ndarray | None, per_channel: bool) -> Any:
    """The target's ``QuantizedLinear`` around a Linear holding ``weight`` (in, out)."""
    tt = _tt()
    layer = tt.make("Linear", *weight.shape, bias=bias is not None)
    tt.with_params(layer, weight=tt.tensor(weight, requires_grad=True),
                   bias=None if bias is None else tt.tensor(bias, requires_grad=True))
    cls = tt.need("QuantizedLinear")
    if per_channel:
        if not tt.takes(cls, "per_channel"):
            raise tt.lacking("perf.quantization.QuantizedLinear(per_channel=True)")
        return cls(layer, per_channel=True)
    return cls(layer)


def quantized_weight_params(layer: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q, scale, zero point) a QuantizedLinear holds (upstream's attribute names)."""
    tt = _tt()
    q = tt.need_attribute(layer, "q_weight", "perf.quantization.QuantizedLinear")
    return (np.asarray(tt.array(q)).astype(np.int64),
            np.asarray(tt.array(layer.weight_scale), dtype=np.float64),
            np.asarray(tt.array(layer.weight_zero_point)).astype(np.int64))


# ----------------------------------------------------------------------------- pruning
def prune(kind: str, model: Any, amount: float) -> Any:
    """``magnitude_prune(model, sparsity)`` or ``structured_prune(model, prune_ratio)``,
    positionally (upstream's names for the fraction differ between the two)."""
    fn = _tt().need({"magnitude": "magnitude_prune", "structured": "structured_prune"}[kind])
    result = fn(model, amount)
    return model if result is None else result


def sparsity(model: Any) -> float:
    """The target's ``measure_sparsity`` as a fraction (a result above 1 is a percent)."""
    value = float(_tt().need("measure_sparsity")(model))
    return value / 100.0 if value > 1.0 else value


# ----------------------------------------------------------------------------- KV cache
@contextmanager
def kv_cache(model: Any) -> Iterator[Any]:
    """The model with its KV cache enabled, and disabled again afterwards."""
    tt = _tt()
    cache = tt.need("enable_kv_cache")(model)
    try:
        yield cache
    finally:
        tt.need("disable_kv_cache")(model)


@contextmanager
def rows_seen(modules: list[Any]) -> Iterator[list[tuple[int, ...]]]:
    """Every input shape the given modules' ``forward`` receives, in call order (an
    instance-level ``forward`` that records and calls the class's)."""
    seen: list[tuple[int, ...]] = []

    def spy(module: Any) -> Callable[..., Any]:
        plain = module.forward  # bound: its signature is what callers inspect

        @functools.wraps(plain)
        def forward(x: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(tuple(np.shape(_tt().array(x))))
            return plain(x, *args, **kwargs)

        return forward

    for module in modules:
        module.forward = spy(module)
    try:
        yield seen
    finally:
        for module in modules:
            vars(module).pop("forward", None)


def generate(model: Any, prompt: np.ndarray, new_tokens: int) -> np.ndarray:
    """Greedy continuation (``temperature=0``) as int64 ids (batch, prompt + new)."""
    tt = _tt()
    out = model.generate(tt.tensor(prompt.astype(np.float32)), new_tokens, temperature=0.0)
    ids = np.asarray(tt.array(out))
    return (ids[None, :] if ids.ndim == 1 else ids).astype(np.int64)
