"""INT8 quantization laws, against torch (``oracles.quantization``) and closed forms.

* round trip: every element dequantizes to within half a step of itself (the range contains
  every element, so nothing is clamped away);
* zero is exactly representable: zeros (padding, ReLU outputs, pruned weights) come back 0;
* per channel is never coarser: each channel's step is at most the per-tensor step;
* the target's int8 values and dequantized values equal torch's ``quantize_per_tensor`` /
  ``quantize_per_channel`` given the target's own scale and zero point (rounding half to
  even and clamping are what is checked);
* the scale and zero point are those torch's min/max observer picks (the convention);
* a ``QuantizedLinear`` computes ``x @ dequantized(W) + b``.

Rounding ties: torch multiplies by a float32 reciprocal of the scale, so an element within
a few float32 ulps of a half step may round either way; there both neighbours are correct
and either is accepted (the convention, stated once here). The same holds for the zero
point, ``-128 - round(min / scale)``, when ``min / scale`` sits on a half step (min -1,
max 1). Everywhere else the int8 values and zero points must be identical.

Inputs are drawn where quantizers break: all-positive and all-negative tensors (the range
must still contain 0), constant tensors, exact zeros, magnitudes from 1e-3 to 1e3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import autodiff
from oracles import nn as onn
from oracles import quantization as oquant
from properties import systems
from properties.report import assert_close, fail, replayable
from properties.strategies import Sample
from properties.tolerances import TOLERANCES, Tolerance

F32 = np.dtype(np.float32)
EPS32 = float(np.finfo(np.float32).eps)
TIE_ULPS = 4  # how close to a half step (in float32 ulps of x / scale) counts as a tie


@dataclass(frozen=True)
class QuantCase:
    x: np.ndarray
    symmetric: bool = False
    axis: int | None = None

    def sample(self) -> Sample:
        return Sample((self.x,), {"symmetric": self.symmetric, "axis": self.axis})


@st.composite
def tensors(draw: st.DrawFn, min_dims: int = 1, max_dims: int = 3) -> np.ndarray:
    """float32-representable values: signs mixed, one-signed or constant, at a drawn
    magnitude, with exact zeros sprinkled in.

    A mixed tensor's extremes are drawn first, each its own magnitude, and the other
    elements between them: where 0 falls in the range (``min / scale``, whose rounding the
    zero point is) then takes every fractional part, not only the few that simple floats
    such as -1 and 0.5 give."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=5))
    # mixed signs half the time: the zero point's rounding only matters when the range
    # straddles 0, and one-signed or constant tensors are the edge cases around it
    sign = draw(st.sampled_from(["mixed", "mixed", "mixed", "positive", "negative",
                                 "constant"]))
    magnitude = 10.0 ** draw(st.integers(-3, 3))
    if sign == "constant":
        x = np.full(shape, draw(st.floats(-1.0, 1.0, width=32)), dtype=np.float32)
    elif sign == "mixed":
        low = -draw(st.floats(0.0625, 1.0, width=32))
        high = draw(st.floats(0.0625, 1.0, width=32))
        x = draw(hnp.arrays(np.float32, shape, elements=st.floats(low, high, width=32)))
        x = np.where(draw(hnp.arrays(np.bool_, shape)), np.float32(0), x)
        flat = x.reshape(-1)  # the extremes, at drawn places (one place if there is one)
        flat[draw(st.integers(0, flat.size - 1))] = high
        flat[draw(st.integers(0, flat.size - 1))] = low
    else:
        low, high = (0.0625, 1.0) if sign == "positive" else (-1.0, -0.0625)
        x = draw(hnp.arrays(np.float32, shape, elements=st.floats(low, high, width=32)))
    return (x.astype(np.float64) * magnitude).astype(np.float32).astype(np.float64)


@st.composite
def quant_cases(draw: st.DrawFn, per_channel: bool | None = None) -> QuantCase:
    x = draw(tensors(min_dims=2 if per_channel else 1))
    channel = draw(st.booleans()) if per_channel is None else per_channel
    axis = draw(st.integers(0, x.ndim - 1)) if channel and x.ndim >= 2 else None
    return QuantCase(x, draw(st.booleans()), axis)


def _along(values: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    if axis is None or np.ndim(values) == 0:
        return np.asarray(values)
    shape = [1] * ndim
    shape[axis] = -1
    return np.asarray(values).reshape(shape)


def _worst(err: np.ndarray, allowed: np.ndarray, case: QuantCase, q: np.ndarray,
           scale: np.ndarray, zero: np.ndarray) -> str:
    i = np.unravel_index(np.argmax(err - allowed), err.shape)
    s = np.broadcast_to(_along(scale, case.x.ndim, case.axis), case.x.shape)[i]
    z = np.broadcast_to(_along(zero, case.x.ndim, case.axis), case.x.shape)[i]
    return (f"  worst element at {tuple(int(k) for k in i)}: x={case.x[i]!r}, q={q[i]}, "
            f"scale={s!r}, zero_point={z}, |dequantized - x| = {err[i]:.6g} "
            f"({err[i] / s:.3f} steps; at most 0.5 allowed)")


@replayable
def check_round_trip_within_half_step(case: QuantCase) -> None:
    q, scale, zero = systems.quantize(case.x, case.symmetric, case.axis)
    if q.shape != case.x.shape:
        fail("quantize_int8", "round trip", f"int8 values have shape {q.shape}, input "
             f"{case.x.shape}", case.sample())
    if q.min() < oquant.QMIN or q.max() > oquant.QMAX:
        fail("quantize_int8", "round trip", f"values outside int8: [{q.min()}, {q.max()}]",
             case.sample())
    back = systems.dequantize(q, scale, zero, case.axis)
    step = _along(scale, case.x.ndim, case.axis)
    err = np.abs(back - case.x)
    allowed = step / 2 + 4 * EPS32 * (np.abs(case.x) + step)  # + the float32 rounding of x
    if np.any(err > allowed):
        fail("quantize_int8", "round trip", "an element dequantizes farther than half a step "
             "from itself", case.sample(), _worst(err, allowed, case, q, scale, zero))
    zeros = case.x == 0
    if np.any(back[zeros] != 0):
        fail("quantize_int8", "zero is exact", "0 does not dequantize to exactly 0 (the range "
             "must contain 0 on the integer grid)", case.sample(),
             f"  dequantized zeros: {back[zeros][back[zeros] != 0][:5]}")


@replayable
def check_per_channel_never_coarser(case: QuantCase) -> None:
    _, tensor_scale, _ = systems.quantize(case.x, case.symmetric, None)
    _, channel_scale, _ = systems.quantize(case.x, case.symmetric, case.axis)
    coarser = channel_scale > tensor_scale * (1 + 8 * EPS32)
    if np.any(coarser):
        c = int(np.argmax(coarser))
        fail("quantize_int8", "per channel <= per tensor", f"channel {c} has a step "
             f"{channel_scale[c]!r}, larger than the per-tensor step {float(tensor_scale)!r}",
             case.sample())


def _ties(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Elements whose ``x / scale`` is within a few float32 ulps of a half integer."""
    ratio = x / scale
    return np.abs(np.abs(ratio - np.floor(ratio)) - 0.5) <= TIE_ULPS * EPS32 * (np.abs(ratio)
                                                                                + 1)


def _int8_mismatches(x: np.ndarray, q: np.ndarray, want_q: np.ndarray,
                     step: np.ndarray) -> np.ndarray:
    """Where the target's int8 values differ from torch's, ties (either neighbour) aside."""
    off = np.abs(q - want_q.astype(np.int64))
    return (off > 1) | ((off == 1) & ~_ties(x, step))


@replayable
def check_matches_torch(case: QuantCase) -> None:
    q, scale, zero = systems.quantize(case.x, case.symmetric, case.axis)
    if case.axis is None:
        want_q, want_back = oquant.quantize_per_tensor(case.x, float(scale), int(zero))
    else:
        want_q, want_back = oquant.quantize_per_channel(case.x, scale, zero, case.axis)
    step = _along(scale, case.x.ndim, case.axis)
    bad = _int8_mismatches(case.x, q, want_q, step)
    if np.any(bad):
        i = np.unravel_index(np.argmax(bad), bad.shape)
        fail("quantize_int8", "int8 values vs torch", f"{int(bad.sum())} of {bad.size} int8 "
             "values differ from torch.quantize_per_"
             f"{'tensor' if case.axis is None else 'channel'} with the same scale and zero "
             "point", case.sample(),
             f"  at {tuple(int(k) for k in i)}: x={case.x[i]!r}, target {q[i]}, torch "
             f"{want_q[i]}, scale {np.broadcast_to(step, case.x.shape)[i]!r}")
    back = systems.dequantize(want_q.astype(np.int64), scale, zero, case.axis)
    assert_close(back, want_back.astype(np.float64), TOLERANCES[F32], op_name="dequantize_int8",
                 check="dequantized values vs torch", what="(q - zero_point) * scale differs "
                 "from torch's dequantize", sample=case.sample(), scale=step)


@replayable
def check_qparams_follow_torch_observer(case: QuantCase) -> None:
    _, scale, zero = systems.quantize(case.x, case.symmetric, case.axis)
    want_scale, want_zero = oquant.observed_qparams(case.x, case.symmetric, case.axis)
    observer = ("MinMaxObserver" if case.axis is None else "PerChannelMinMaxObserver") + \
        f"(qint8, {'symmetric' if case.symmetric else 'affine'})"
    want_zero = want_zero.ravel()
    if not case.symmetric:  # min / scale on a half step: torch's float32 may round it away
        axes = None if case.axis is None else tuple(d for d in range(case.x.ndim)
                                                    if d != case.axis)
        low = np.minimum(case.x.min(axis=axes), 0.0).ravel()
        tie = _ties(low, scale.ravel()) & (np.abs(zero.ravel() - want_zero) == 1)
        want_zero = np.where(tie, zero.ravel(), want_zero)
    assert_close({"scale": scale.ravel(), "zero_point": zero.ravel()},
                 {"scale": want_scale.ravel().astype(np.float64),
                  "zero_point": want_zero},
                 Tolerance(rtol=4 * EPS32, atol=0.0), op_name="quantize_int8",
                 check="scale and zero point", what=f"differ from torch's {observer}",
                 sample=case.sample())


@dataclass(frozen=True)
class LinearCase:
    x: np.ndarray
    weight: np.ndarray  # (in, out), TinyTorch's layout
    bias: np.ndarray | None
    per_channel: bool = False

    def sample(self) -> Sample:
        arrays = (self.x, self.weight) + (() if self.bias is None else (self.bias,))
        return Sample(arrays, {"per_channel": self.per_channel})


@st.composite
def linear_cases(draw: st.DrawFn) -> LinearCase:
    n_in, n_out, batch = (draw(st.integers(1, 6)) for _ in range(3))
    values = st.floats(-1, 1, width=32)
    weight = draw(hnp.arrays(np.float32, (n_in, n_out), elements=values)).astype(np.float64)
    bias = draw(st.none() | hnp.arrays(np.float32, (n_out,), elements=values))
    x = draw(hnp.arrays(np.float32, (batch, n_in), elements=values)).astype(np.float64)
    return LinearCase(x, weight, None if bias is None else bias.astype(np.float64),
                      draw(st.booleans()))


@replayable
def check_quantized_linear_matches_torch(case: LinearCase) -> None:
    """A QuantizedLinear's int8 weight is torch's quantization of the weight (ties aside),
    within half a step of it, and its forward equals ``F.linear`` on what that int8 weight
    stands for, ``(q - zero_point) * scale``."""
    layer = systems.quantized_linear(case.weight.astype(np.float32),
                                     None if case.bias is None else case.bias.astype(np.float32),
                                     case.per_channel)
    q, scale, zero = systems.quantized_weight_params(layer)
    axis = 1 if np.ndim(scale) > 0 else None
    if axis is None:
        want_q, _ = oquant.quantize_per_tensor(case.weight, float(scale), int(zero))
    else:
        want_q, _ = oquant.quantize_per_channel(case.weight, scale, zero, axis)
    step = _along(scale, 2, axis)
    if np.any(_int8_mismatches(case.weight, q, want_q, step)):
        fail("QuantizedLinear", "int8 weight vs torch", "the layer's int8 weight differs from "
             "torch's quantization of the weight with the layer's scale and zero point",
             case.sample(), f"  layer: {q.ravel()[:8]}\n  torch: {want_q.ravel()[:8]}")
    w = (q - _along(zero, 2, axis)) * step  # what the layer's int8 weight stands for
    tt = systems.target.get()
    with tt.no_grad():
        got = np.asarray(tt.array(layer(tt.tensor(case.x.astype(np.float32)))),
                         dtype=np.float64)
    arrays = [case.x, w] + ([] if case.bias is None else [case.bias])
    want = autodiff.forward(onn.linear, arrays)
    assert_close(got, want, TOLERANCES[F32], op_name="QuantizedLinear",
                 check="forward vs torch", what="x @ dequantized(W) + b differs from torch's "
                 "F.linear on the dequantized weight", sample=case.sample())
    err = np.abs(w - case.weight)
    if np.any(err > step / 2 + 4 * EPS32 * (np.abs(case.weight) + 1)):
        fail("QuantizedLinear", "weight round trip", "a quantized weight is farther than half "
             "a step from the float weight", case.sample(), f"  q={q.ravel()[:8]}")
