"""INT8 quantization (upstream module 15, ``tinytorch.perf.quantization``).

``q = clip(round(x / scale) + zero_point, -128, 127)`` and ``x ~ (q - zero_point) * scale``,
per tensor or per channel, asymmetric (affine) or symmetric. The parameters are chosen as
torch's min/max observers choose them for ``qint8``:

* the range always contains 0, so 0 is exactly representable (zero padding, ReLU zeros and
  pruned weights survive quantization exactly);
* affine: ``scale = (max - min) / 255``, ``zero_point = -128 - round(min / scale)``;
* symmetric: ``scale = max|x| / 127.5``, ``zero_point = 0``;
* a scale is never below float32's epsilon (an all-zero tensor still has a valid step).

So every element within the range dequantizes to within half a step of itself. Quantized
values are ``int8`` arrays (1 byte each, which is the point); scales and zero points are a
float and an int per tensor, or arrays with one entry per channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Linear, Module
from tinytorch.core.tensor import Tensor

INT8_MIN_VALUE, INT8_MAX_VALUE = -128, 127
INT8_RANGE = 256
EPSILON = float(np.finfo(np.float32).eps)
BYTES_PER_FLOAT32, BYTES_PER_INT8 = 4, 1
MB_TO_BYTES = 1024 * 1024


def _values(x: Any) -> np.ndarray:
    array = np.asarray(x.data if isinstance(x, Tensor) else x)
    if array.size == 0:
        raise ValueError("quantize_int8: cannot quantize an empty tensor")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("quantize_int8: the tensor holds NaN or inf, which has no int8 value")
    return array


def _reduce_axes(ndim: int, axis: int | None) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if not -ndim <= axis < ndim:
        raise ValueError(f"quantize_int8: channel axis {axis} is out of range for {ndim} dims")
    return tuple(d for d in range(ndim) if d != axis % ndim)


def choose_qparams(x: Any, symmetric: bool = False, axis: int | None = None
                   ) -> tuple[Any, Any]:
    """(scale, zero_point) for ``x``: scalars, or arrays along ``axis`` (per channel)."""
    array = _values(x).astype(np.float64)
    axes = _reduce_axes(array.ndim, axis)
    low = np.minimum(array.min(axis=axes), 0.0)
    high = np.maximum(array.max(axis=axes), 0.0)
    if symmetric:
        scale = np.maximum(np.maximum(-low, high) / ((INT8_MAX_VALUE - INT8_MIN_VALUE) / 2),
                           EPSILON)
        zero_point = np.zeros_like(scale, dtype=np.int64)
    else:
        scale = np.maximum((high - low) / (INT8_MAX_VALUE - INT8_MIN_VALUE), EPSILON)
        zero_point = np.clip(INT8_MIN_VALUE - np.round(low / scale),
                             INT8_MIN_VALUE, INT8_MAX_VALUE).astype(np.int64)
    if axis is None:
        return float(scale), int(zero_point)
    return scale, zero_point


def _along(values: Any, ndim: int, axis: int | None) -> Any:
    """Per-channel parameters shaped to broadcast along ``axis`` of an ``ndim`` array."""
    if axis is None:
        return values
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return np.asarray(values).reshape(shape)


def quantize(x: Any, scale: Any, zero_point: Any, axis: int | None = None) -> np.ndarray:
    """int8 values of ``x`` for the given parameters (rounding half to even, as torch)."""
    array = _values(x).astype(np.float64)
    s, z = _along(scale, array.ndim, axis), _along(zero_point, array.ndim, axis)
    q = np.round(array / s) + z
    return np.clip(q, INT8_MIN_VALUE, INT8_MAX_VALUE).astype(np.int8)


def quantize_int8(tensor: Any, symmetric: bool = False, axis: int | None = None
                  ) -> tuple[np.ndarray, Any, Any]:
    """(int8 values, scale, zero_point) of ``tensor``: per tensor, or per channel along
    ``axis`` (for a Linear weight (in, out), ``axis=1`` is one scale per output)."""
    scale, zero_point = choose_qparams(tensor, symmetric, axis)
    return quantize(tensor, scale, zero_point, axis), scale, zero_point


def dequantize_int8(q_tensor: Any, scale: Any, zero_point: Any, axis: int | None = None,
                    dtype: Any = np.float32) -> Tensor:
    """``(q - zero_point) * scale`` as a Tensor of ``dtype``."""
    values = np.asarray(q_tensor.data if isinstance(q_tensor, Tensor) else q_tensor
                        ).astype(np.float64)
    s, z = _along(scale, values.ndim, axis), _along(zero_point, values.ndim, axis)
    return Tensor(((values - z) * s).astype(dtype))


class QuantizedLinear(Module):
    """A Linear whose weight is stored as int8 (per tensor, or one scale per output when
    ``per_channel``); the bias stays in floating point (it is ``out`` numbers, and int8 would
    add error where it saves nothing). ``forward`` dequantizes and multiplies, outside the
    graph: a quantized layer is for inference."""

    def __init__(self, linear_layer: Linear, per_channel: bool = False,
                 symmetric: bool = False) -> None:
        if not isinstance(getattr(linear_layer, "weight", None), Tensor):
            raise TypeError(f"QuantizedLinear needs a Linear layer, got "
                            f"{type(linear_layer).__name__}")
        weight = linear_layer.weight.data
        self.dtype = weight.dtype
        self.axis = 1 if per_channel else None
        self.q_weight, self.weight_scale, self.weight_zero_point = quantize_int8(
            weight, symmetric=symmetric, axis=self.axis)
        bias = getattr(linear_layer, "bias", None)
        self.bias_values = None if bias is None else bias.data.copy()
        self.in_features, self.out_features = weight.shape

    def dequantized_weight(self) -> Tensor:
        return dequantize_int8(self.q_weight, self.weight_scale, self.weight_zero_point,
                               self.axis, self.dtype)

    def forward(self, x: Tensor) -> Tensor:
        with no_grad():
            out = x.matmul(self.dequantized_weight())
            return out if self.bias_values is None else out + Tensor(self.bias_values)

    def memory_usage(self) -> dict[str, float]:
        original = self.q_weight.size * np.dtype(self.dtype).itemsize
        quantized = self.q_weight.nbytes + 2 * np.asarray(self.weight_scale).size * 8
        if self.bias_values is not None:
            original += self.bias_values.nbytes
            quantized += self.bias_values.nbytes
        return {"original_bytes": original, "quantized_bytes": quantized,
                "compression_ratio": original / quantized}


def model_size_bytes(model: Any) -> int:
    """Bytes of a model's parameters: floating parameters at their itemsize, quantized
    layers at their int8 weights plus scales, zero points and float bias."""
    layers = [m for m in _walk(model)]
    total = sum(m.memory_usage()["quantized_bytes"] for m in layers
                if isinstance(m, QuantizedLinear))
    params = model.parameters() if hasattr(model, "parameters") else []
    return int(total + sum(p.data.nbytes for p in params))


def _walk(model: Any) -> list[Any]:
    """Every module of ``model``: a Module's tree, or the layers of a plain ``.layers`` list
    (upstream composes models that way)."""
    if isinstance(model, Module):
        return list(model.modules())
    return [model] + [m for layer in getattr(model, "layers", None) or () for m in _walk(layer)]


def _replace_linears(module: Any, make: Any) -> int:
    """Swap every Linear below ``module`` for ``make(linear)``, in place; how many."""
    count = 0
    for name, value in list(vars(module).items()):
        if isinstance(value, Linear):
            setattr(module, name, make(value))
            count += 1
        elif isinstance(value, list | tuple):
            items = list(value)
            for i, item in enumerate(items):
                if isinstance(item, Linear):
                    items[i] = make(item)
                    count += 1
                elif isinstance(item, Module):
                    count += _replace_linears(item, make)
            setattr(module, name, type(value)(items) if isinstance(value, tuple) else items)
        elif isinstance(value, Module):
            count += _replace_linears(value, make)
    return count


def quantize_model(model: Module, calibration_data: Any = None, per_channel: bool = False,
                   symmetric: bool = False) -> dict[str, float]:
    """Replace every Linear of ``model`` by a :class:`QuantizedLinear`, in place, and report
    the sizes before and after (``calibration_data`` is accepted for upstream's signature:
    weights-only quantization needs none)."""
    if isinstance(model, Linear):
        raise ValueError("quantize_model: pass a model that holds Linear layers; quantize a "
                         "single layer with QuantizedLinear(layer)")
    before = model_size_bytes(model)
    count = _replace_linears(model, lambda layer: QuantizedLinear(layer, per_channel, symmetric))
    if count == 0:
        raise ValueError("quantize_model: the model has no Linear layer to quantize")
    after = model_size_bytes(model)
    return {"quantized_layers": count, "original_size_mb": before / MB_TO_BYTES,
            "quantized_size_mb": after / MB_TO_BYTES, "compression_ratio": before / after}


def compare_model_sizes(original_model: Any, quantized_model: Any) -> dict[str, float]:
    original, quantized = model_size_bytes(original_model), model_size_bytes(quantized_model)
    return {"original_bytes": original, "quantized_bytes": quantized,
            "compression_ratio": original / quantized,
            "memory_saved_mb": (original - quantized) / MB_TO_BYTES,
            "memory_saved_percent": 100.0 * (original - quantized) / original}
