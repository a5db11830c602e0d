"""Hypothesis strategies for op inputs: shapes, broadcast groups, values, indices, targets.

Kinks and ties are avoided *by construction*, never by ``assume`` or wide tolerances: values are
drawn from intervals that exclude a margin around each kink (ReLU and abs at 0, clip bounds),
maxima come from a shuffled lattice (so no two entries tie), and the operands of ``maximum`` sit
on interleaved lattices (so they never meet). The margin is far above the finite-difference step.

Sizes stay small on purpose: bugs hide in shapes (size-1 axes, 0-d, broadcasting, repeats), not
in large arrays, and every element costs two evaluations in the finite-difference check.

The builders are memoized: Hypothesis validates a strategy object on its first draw, and a
fresh object per example made validation a quarter of an op test's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES: tuple[np.dtype, ...] = (np.dtype(np.float32), np.dtype(np.float64))
KINK_MARGIN = 0.05
MAX_SIDE = 4


@dataclass
class Sample:
    """The inputs of one op call: arrays (tensors for the target) and plain keyword arguments."""

    arrays: tuple[np.ndarray, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{i}: {a.dtype} {a.shape}" for i, a in enumerate(self.arrays)]
        kw = ", ".join(f"{k}={_short(v)}" for k, v in self.kwargs.items())
        return "inputs " + "; ".join(parts) + (f"; {kw}" if kw else "")

    def __repr__(self) -> str:
        return f"Sample({self.describe()})"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape} {value.dtype}" if value.size > 8 else repr(value.tolist())
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


# ----------------------------------------------------------------------------- shapes


@cache
def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1) -> st.SearchStrategy:
    """Shapes up to 4-D; sides shrink as dims grow so arrays stay under ~100 elements."""
    small = hnp.array_shapes(min_dims=min_dims, max_dims=min(max_dims, 2), min_side=min_side,
                             max_side=MAX_SIDE + 1)
    if max_dims <= 2:
        return small
    big = hnp.array_shapes(min_dims=max(min_dims, 3), max_dims=max_dims, min_side=min_side,
                           max_side=3)
    return st.one_of(small, big)


@cache
def broadcastable(num_shapes: int, min_dims: int = 0, max_dims: int = 4) -> st.SearchStrategy:
    """Tuples of shapes that broadcast together (size-1 and missing axes included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=3
    ).map(lambda bs: bs.input_shapes)


@cache
def axes(ndim: int) -> st.SearchStrategy:
    """An ``axis`` argument: None, an int (negative too) or a tuple of distinct axes. A 0-d
    tensor takes 0 and -1 (and (0,)), as in torch, so those are drawn for it too."""
    if ndim == 0:
        return st.sampled_from([None, 0, -1, (0,)])
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.one_of(st.none(), single, several)


# ----------------------------------------------------------------------------- values


@cache
def floats(dtype: np.dtype, low: float, high: float) -> st.SearchStrategy:
    """Finite floats of ``dtype`` in [low, high] (bounds rounded inward to the dtype)."""
    dtype = np.dtype(dtype)
    width = 32 if dtype == np.float32 else 64
    low_d, high_d = dtype.type(low), dtype.type(high)
    if low_d < low:
        low_d = np.nextafter(low_d, dtype.type(np.inf))
    if high_d > high:
        high_d = np.nextafter(high_d, dtype.type(-np.inf))
    return st.floats(float(low_d), float(high_d), width=width, allow_nan=False,
                     allow_infinity=False, allow_subnormal=False)


def values(dtype: np.dtype, shape: tuple[int, ...], low: float = -3.0, high: float = 3.0,
           elements: st.SearchStrategy | None = None) -> st.SearchStrategy:
    if elements is None:
        elements = floats(dtype, low, high)
    return _arrays(np.dtype(dtype), tuple(shape), elements)


@cache
def _arrays(dtype: np.dtype, shape: tuple[int, ...], elements: st.SearchStrategy):
    return hnp.arrays(dtype, shape, elements=elements)


def avoiding(dtype: np.dtype, kinks: Sequence[float], low: float, high: float,
             margin: float = KINK_MARGIN) -> st.SearchStrategy:
    """Floats in [low, high] at least ``margin`` away from every kink, by construction."""
    return _avoiding(np.dtype(dtype), tuple(sorted(kinks)), low, high, margin)


@cache
def _avoiding(dtype: np.dtype, kinks: tuple[float, ...], low: float, high: float,
              margin: float) -> st.SearchStrategy:
    edges = [low]
    for k in kinks:
        edges += [k - margin, k + margin]
    edges.append(high)
    pieces = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b > a]
    return st.one_of(*(floats(dtype, a, b) for a, b in pieces))


def positive(dtype: np.dtype, shape: tuple[int, ...], low: float = 0.1, high: float = 5.0):
    """Values inside the domain of log, sqrt and division, kept off the pole at 0."""
    return values(dtype, shape, low, high)


@st.composite
def distinct(draw: st.DrawFn, dtype: np.dtype, shape: tuple[int, ...], spacing: float = 0.5,
             offset: float = 2.0):
    """An array whose entries are pairwise at least ``spacing / 2`` apart: no max/min ties.

    A shuffled lattice ``rank * spacing`` plus jitter within a quarter of the spacing, shifted
    by a drawn offset within ``±offset`` (0: centred on 0).
    """
    n = int(np.prod(shape))
    ranks = draw(st.permutations(range(n)))
    jitter = draw(values(dtype, (n,), -spacing / 4, spacing / 4))
    offset = draw(floats(dtype, -offset, offset)) if offset else 0.0
    flat = (np.asarray(ranks) - n / 2) * spacing + jitter + offset
    return flat.reshape(shape).astype(dtype)


@st.composite
def interleaved(draw: st.DrawFn, dtype: np.dtype, shape_a: tuple[int, ...],
                shape_b: tuple[int, ...]):
    """Two arrays on interleaved lattices (k + 1/4 and k + 3/4): they never meet, wherever
    they are broadcast against each other, so ``maximum`` has no ties."""

    def lattice(shape: tuple[int, ...], phase: float) -> st.SearchStrategy:
        ints = hnp.arrays(np.int64, shape, elements=st.integers(-3, 3))
        jitter = values(np.float64, shape, -0.1, 0.1)
        return st.tuples(ints, jitter).map(lambda p: (p[0] + phase + p[1]).astype(dtype))

    return draw(lattice(shape_a, 0.25)), draw(lattice(shape_b, 0.75))


def class_targets(batch: int, classes: int) -> st.SearchStrategy:
    return hnp.arrays(np.int64, (batch,), elements=st.integers(0, classes - 1))


# ----------------------------------------------------------------------------- indices


@st.composite
def indices(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    """An index NumPy and torch read the same way: basic slices (positive steps, as torch
    requires), an integer array along axis 0 with repeats, or a boolean mask."""
    kind = draw(st.sampled_from(["slices", "integers", "mask"]))
    if kind == "slices":
        index = []
        for n in shape:
            start = draw(st.integers(0, n - 1))
            stop = draw(st.integers(start + 1, n))
            step = draw(st.integers(1, 2))
            index.append(slice(start, stop, step))
        return tuple(index[: draw(st.integers(1, len(shape)))])
    if kind == "integers":
        count = draw(st.integers(1, 2 * shape[0] + 1))
        idx = draw(hnp.arrays(np.int64, (count,), elements=st.integers(-shape[0], shape[0] - 1)))
        return idx
    mask = draw(hnp.arrays(np.bool_, shape))
    return mask


def with_repeats(shape: tuple[int, ...]) -> st.SearchStrategy:
    """Integer indices along axis 0 that are guaranteed to repeat an entry."""
    n = shape[0]
    return st.lists(st.integers(0, n - 1), min_size=1, max_size=4).map(
        lambda idx: np.asarray(idx + idx[:1], dtype=np.int64)
    )
