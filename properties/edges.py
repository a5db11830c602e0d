"""Inputs where bugs hide: exactly on kinks, at the edges of a domain, and at extreme scales.

The generators in :mod:`properties.samples` keep every element a margin away from kinks, so the
smooth-region properties are exact. These do the opposite, on purpose: every sample here puts at
least one element *on* the kink (ReLU at 0, a clip bound, a tie for the maximum), or near a
pole or domain edge (division by 1e-6, ``sqrt`` of 1e-8), or at scales where a naive formula
overflows (softmax rows whose maxima are 1e3 apart, sigmoid of 1e3). Registry entries built on
them state the gradient convention torch uses at the kink (``OpInfo.convention``) and opt out of
finite differences, which are meaningless there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from properties import strategies as S
from properties.samples import REDUCTIONS, SampleFn
from properties.strategies import Sample

# ----------------------------------------------------------------------------- on kinks


def _with_one_on(d: st.DrawFn, x: np.ndarray, points: Sequence[float]) -> np.ndarray:
    """``x`` with one drawn element moved onto a drawn point, so every sample meets a kink."""
    x = x.copy()
    if x.size:
        flat = x.reshape(-1)
        flat[d(st.integers(0, x.size - 1), label="kink position")] = d(st.sampled_from(points))
    return x


def on_kinks(kinks: Sequence[float], low: float = -3.0, high: float = 3.0,
             **kwargs: st.SearchStrategy) -> SampleFn:
    """One array whose elements are kinks or smooth points, at least one on a kink."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes())
        elements = st.one_of(st.sampled_from([float(k) for k in kinks]),
                             S.avoiding(dtype, kinks, low, high))
        x = _with_one_on(d, d(S.values(dtype, shape, elements=elements)), kinks)
        return Sample((x,), {k: d(v) for k, v in kwargs.items()})

    return draw


@st.composite
def _clip_at_bounds(d: st.DrawFn, dtype: np.dtype) -> Sample:
    low = d(st.sampled_from([-1.0, -0.5, 0.0, None]))
    high = d(st.sampled_from([0.5, 1.0, 2.0] + ([None] if low is not None else [])))
    bounds = [b for b in (low, high) if b is not None]
    x = d(on_kinks(bounds)(dtype)).arrays[0]
    return Sample((x,), {"low": low, "high": high})


def clip_at_bounds() -> SampleFn:
    return _clip_at_bounds


TIE_VALUES = (-1.0, 0.5, 2.0)  # three values: ties for the extreme in almost every slice


def with_ties(dtype: np.dtype, shape: tuple[int, ...]) -> st.SearchStrategy:
    return S.values(dtype, shape, elements=st.sampled_from(TIE_VALUES))


def reduction_ties() -> SampleFn:
    """An array drawn from three values (so max and min tie), an axis and keepdims."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes(min_dims=1))
        return Sample((d(with_ties(dtype, shape)),),
                      {"axis": d(S.axes(len(shape))), "keepdims": d(st.booleans())})

    return draw


@st.composite
def _maximum_ties(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sa, sb = d(S.broadcastable(2))
    return Sample((d(with_ties(dtype, sa)), d(with_ties(dtype, sb))))


def maximum_ties() -> SampleFn:
    return _maximum_ties


# ----------------------------------------------------------------------------- whole domains


def _magnitudes(dtype: np.dtype, low_exp: float, high_exp: float) -> st.SearchStrategy:
    """Positive values spread evenly in log scale over [10**low_exp, 10**high_exp]."""
    t = np.dtype(dtype).type
    return S.floats(np.float64, low_exp, high_exp).map(lambda e: float(t(10.0**e)))


def near_zero(low_exp: float, high_exp: float, signed: bool) -> SampleFn:
    """One array of magnitudes 10**[low_exp, high_exp] (both signs when ``signed``)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes())
        mags = d(S.values(dtype, shape, elements=_magnitudes(dtype, low_exp, high_exp)))
        signs = d(hnp.arrays(np.bool_, shape)) if signed else np.zeros(shape, bool)
        return Sample((np.where(signs, -mags, mags).astype(dtype),))

    return draw


@st.composite
def _divide_near_zero(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sa, sb = d(S.broadcastable(2))
    mags = d(S.values(dtype, sb, elements=_magnitudes(dtype, -6, -2)))
    negative = d(hnp.arrays(np.bool_, sb))
    return Sample((d(S.values(dtype, sa)), np.where(negative, -mags, mags).astype(dtype)))


def divide_near_zero() -> SampleFn:
    """``a / b`` with |b| in [1e-6, 1e-2], either sign, shapes broadcast."""
    return _divide_near_zero


INTEGER_EXPONENTS = (2, 3, 4, -1, -2, 1, 0)


@st.composite
def _pow_negative_base(d: st.DrawFn, dtype: np.dtype) -> Sample:
    exponent = d(st.sampled_from(INTEGER_EXPONENTS))
    shape = d(S.shapes())
    kinks = [0.0] if exponent < 0 else []  # the pole at 0 (x ** 0 and positive powers are smooth)
    elements = S.avoiding(dtype, kinks, -3.0, -0.1) if kinks else S.floats(dtype, -3.0, 3.0)
    x = d(S.values(dtype, shape, elements=elements))
    return Sample((x,), {"exponent": exponent})


def pow_negative_base() -> SampleFn:
    """Negative bases (and any sign for non-negative powers) raised to integer exponents:
    ``(pred - y) ** 2`` with ``pred < y`` is how MSE is often written."""
    return _pow_negative_base


@st.composite
def _pow_tensor_exponent(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sa, sb = d(S.broadcastable(2))
    return Sample((d(S.values(dtype, sa, 0.2, 3.0)), d(S.values(dtype, sb, -2.0, 2.0))))


def pow_tensor_exponent() -> SampleFn:
    """``a ** b`` with both tensors, where it is differentiable in both: a > 0."""
    return _pow_tensor_exponent


TENSOR_EXPONENTS_AT_ZERO = (0.0, 1.0, 2.0)  # and any in [1, 3]: d/da = b * 0 ** (b - 1) is finite


@st.composite
def _pow_tensor_zero_base(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sa, sb = d(S.broadcastable(2))
    bases = d(S.values(dtype, sa, elements=st.one_of(st.just(0.0), S.floats(dtype, 0.2, 3.0))))
    exponent = st.one_of(st.sampled_from(TENSOR_EXPONENTS_AT_ZERO), S.floats(dtype, 1.0, 3.0))
    return Sample((_with_one_on(d, bases, [0.0]), d(S.values(dtype, sb, elements=exponent))))


def pow_tensor_zero_base() -> SampleFn:
    """``a ** b`` with both tensors and a base of exactly 0 somewhere, exponents 0 or >= 1: torch
    takes d/da = 0 where b == 0 (not 0 * 0 ** -1) and d/db = 0 where a == 0 (not 0 * log 0)."""
    return _pow_tensor_zero_base


# ----------------------------------------------------------------------------- extremes

ROW_OFFSETS = (-1e4, -1e3, 0.0, 1e3)  # row maxima 1e3 apart, logits down to -1e4


@st.composite
def _wild_rows(d: st.DrawFn, dtype: np.dtype) -> Sample:
    """A 2-D batch whose slices along ``dim`` live at wildly different scales: offsets 1e3
    apart, some slices spread over ±3e3, and now and then one huge logit."""
    rows, cols = d(st.integers(2, 4)), d(st.integers(1, 5))
    x = d(S.values(np.float64, (rows, cols), -3.0, 3.0))
    scale = d(hnp.arrays(np.float64, (rows, 1), elements=st.sampled_from([1.0, 1.0, 1e3])))
    offset = d(hnp.arrays(np.float64, (rows, 1), elements=st.sampled_from(ROW_OFFSETS)))
    x = x * scale + offset
    if d(st.booleans(), label="one huge logit"):
        x[d(st.integers(0, rows - 1)), d(st.integers(0, cols - 1))] = 1e4
    dim = d(st.sampled_from([-1, 1, 0]))
    x = x.astype(dtype)
    return Sample((x.T.copy() if dim == 0 else x,), {"dim": dim})


def wild_rows() -> SampleFn:
    return _wild_rows


@st.composite
def _classification_extreme(d: st.DrawFn, dtype: np.dtype) -> Sample:
    x = d(_wild_rows(dtype)).arrays[0]
    batch, classes = x.shape
    return Sample((x,), {"targets": d(S.class_targets(batch, classes)),
                         "reduction": d(REDUCTIONS)})


def classification_extreme() -> SampleFn:
    """Cross-entropy logits from :func:`wild_rows` (rows 1e3 apart, down to -1e4)."""
    return _classification_extreme


def _probabilities_at_edges(dtype: np.dtype) -> st.SearchStrategy:
    """Probabilities exactly 0 or 1, or 1e-15 to 1e-7 from them (the largest value below 1
    where the dtype has nothing closer): torch clamps each log at -100 in forward and p(1 - p)
    at 1e-12 in backward, so the loss and the gradient stay finite there."""
    t = np.dtype(dtype).type
    below_one = float(np.nextafter(t(1.0), t(0.0)))
    near_one = _magnitudes(dtype, -15, -7).map(lambda e: min(float(t(1.0) - t(e)), below_one))
    return st.one_of(st.sampled_from([0.0, 1.0]), _magnitudes(dtype, -15, -7), near_one)


@st.composite
def _bce_at_edges(d: st.DrawFn, dtype: np.dtype) -> Sample:
    shape = d(S.shapes(min_dims=1, max_dims=3))
    p = d(S.values(dtype, shape, elements=_probabilities_at_edges(dtype)))
    y = d(S.values(dtype, shape, 0.0, 1.0))
    return Sample((p, y), {"reduction": d(REDUCTIONS)})


def bce_at_edges() -> SampleFn:
    """BCE predictions at, or within 1e-7 of, 0 and 1; targets anywhere in [0, 1]."""
    return _bce_at_edges


# ----------------------------------------------------------------------------- empty tensors


@st.composite
def _empty_shape(d: st.DrawFn, min_dims: int = 1) -> tuple[int, ...]:
    """A shape with at least one axis of size 0."""
    shape = list(d(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=0, max_side=3)))
    shape[d(st.integers(0, len(shape) - 1))] = 0
    return tuple(shape)


def reduction_over_empty() -> SampleFn:
    """An array with a size-0 axis, reduced over it (or over everything)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(_empty_shape())
        empty = [i for i, n in enumerate(shape) if n == 0]
        axis = d(st.one_of(st.none(), st.sampled_from(empty),
                           st.sampled_from(empty).map(lambda i: i - len(shape))))
        return Sample((np.zeros(shape, dtype),), {"axis": axis, "keepdims": d(st.booleans())})

    return draw


@st.composite
def _matmul_empty_inner(d: st.DrawFn, dtype: np.dtype) -> Sample:
    n, m = d(st.integers(0, 3)), d(st.integers(0, 3))
    return Sample((np.zeros((n, 0), dtype), np.zeros((0, m), dtype)))


def matmul_empty_inner() -> SampleFn:
    """``(n, 0) @ (0, m)``: a sum of no terms, zeros of shape (n, m)."""
    return _matmul_empty_inner


def linear_empty_batch() -> SampleFn:
    """A batch of size 0 through Linear: input (0, in), weight (in, out), bias (out,)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        fan_in, fan_out = d(st.integers(1, 3)), d(st.integers(1, 3))
        return Sample((np.zeros((0, fan_in), dtype), d(S.values(dtype, (fan_in, fan_out))),
                       d(S.values(dtype, (fan_out,)))))

    return draw


def loss_empty_batch() -> SampleFn:
    """Predictions and targets of shape (0, k): torch gives NaN for the mean, 0 for the sum."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = (0, d(st.integers(1, 3)))
        return Sample((np.zeros(shape, dtype), np.zeros(shape, dtype)),
                      {"reduction": d(REDUCTIONS)})

    return draw


# ----------------------------------------------------------------------------- bad calls


def axis_out_of_range(name: str = "axis", keepdims: bool = True) -> SampleFn:
    """An array and an axis just outside ``[-ndim, ndim)``: torch raises IndexError. A 0-d
    array counts as 1-D here (torch takes axis 0 and -1 for it), so 1 and -2 are out."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes(min_dims=0, max_dims=3))
        n = max(len(shape), 1)
        bad = d(st.one_of(st.integers(n, n + 2), st.integers(-n - 3, -n - 1)), label=name)
        kwargs = {name: bad, **({"keepdims": d(st.booleans())} if keepdims else {})}
        return Sample((d(S.values(dtype, shape)),), kwargs)

    return draw
