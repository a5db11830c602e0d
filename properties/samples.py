"""Input generators for registry entries: ``dtype -> SearchStrategy[Sample]``, one per op family.

Each generator composes the primitives of :mod:`properties.strategies`; registry entries pick one
and pass the op-specific knobs (value range, kink points, extra keyword arguments).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from properties import strategies as S
from properties.strategies import Sample

SampleFn = Callable[[np.dtype], st.SearchStrategy]


def _elements(dtype: np.dtype, low: float, high: float, kinks: Sequence[float]):
    return S.avoiding(dtype, kinks, low, high) if kinks else S.floats(dtype, low, high)


def unary(low: float = -3.0, high: float = 3.0, kinks: Sequence[float] = (), min_dims: int = 0,
          **kwargs: st.SearchStrategy) -> SampleFn:
    """One array of any shape, values in [low, high] off ``kinks``; extra kwargs drawn."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes(min_dims=min_dims))
        x = d(S.values(dtype, shape, elements=_elements(dtype, low, high, kinks)))
        return Sample((x,), {k: d(v) for k, v in kwargs.items()})

    return draw


def binary(b_low: float = -3.0, b_high: float = 3.0, b_kinks: Sequence[float] = ()) -> SampleFn:
    """Two arrays of mutually broadcastable shapes; the second off ``b_kinks`` (e.g. 0 for /)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        sa, sb = d(S.broadcastable(2))
        a = d(S.values(dtype, sa))
        b = d(S.values(dtype, sb, elements=_elements(dtype, b_low, b_high, b_kinks)))
        return Sample((a, b))

    return draw


def scalar_left(low: float = -3.0, high: float = 3.0, kinks: Sequence[float] = ()) -> SampleFn:
    """``scalar (op) tensor``: the reflected operators."""
    return unary(low, high, kinks, scalar=st.floats(-3, 3, allow_subnormal=False))


def power() -> SampleFn:
    return unary(0.2, 3.0, exponent=st.sampled_from([2, 3, 0.5, -1, 1.5, -0.5, 0]))


@st.composite
def _matmul(d: st.DrawFn, dtype: np.dtype) -> Sample:
    n, k, m = (d(st.integers(1, 4)) for _ in range(3))
    kind = d(st.sampled_from(["vv", "vm", "mv", "mm", "batched"]))
    if kind == "batched":
        ba, bb = d(S.broadcastable(2, max_dims=2))
        sa, sb = (*ba, n, k), (*bb, k, m)
    else:
        sa = (k,) if kind[0] == "v" else (n, k)
        sb = (k,) if kind[1] == "v" else (k, m)
    return Sample((d(S.values(dtype, sa)), d(S.values(dtype, sb))))


def matmul() -> SampleFn:
    return _matmul


def kernel_matmul(tiled: bool = False) -> SampleFn:
    """2-D or batched operands of an accelerated matmul; ``tiled`` adds a ``tile_size`` that
    is drawn small (1 to 4) against sides up to 9, so most products end in a remainder tile
    (a side that is not a multiple of the tile) and some are smaller than one tile."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        n, k, m = (d(st.integers(1, 9)) for _ in range(3))
        ba, bb = d(S.broadcastable(2, max_dims=1)) if d(st.booleans()) else ((), ())
        a, b = d(S.values(dtype, (*ba, n, k))), d(S.values(dtype, (*bb, k, m)))
        return Sample((a, b), {"tile_size": d(st.integers(1, 4))} if tiled else {})

    return draw


def reduction(distinct: bool = False) -> SampleFn:
    """One array plus ``axis`` and ``keepdims``; ``distinct`` values for max/min (no ties)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes())
        x = d(S.distinct(dtype, shape)) if distinct else d(S.values(dtype, shape))
        # the defaults (axis=None, keepdims=False) are left out of the call, so they are tested
        kwargs = {"axis": d(S.axes(len(shape))), "keepdims": d(st.booleans())}
        return Sample((x,), {k: v for k, v in kwargs.items() if v not in (None, False)})

    return draw


@st.composite
def _reshape(d: st.DrawFn, dtype: np.dtype) -> Sample:
    shape = d(S.shapes())
    size = int(np.prod(shape))
    divisors = [q for q in range(1, size + 1) if size % q == 0]
    q = d(st.sampled_from(divisors))
    target = d(st.sampled_from([(size,), (q, size // q), (size // q, 1, q), (-1, q), (q, -1)]))
    return Sample((d(S.values(dtype, shape)),), {"shape": target})


def reshape() -> SampleFn:
    return _reshape


@st.composite
def _transpose(d: st.DrawFn, dtype: np.dtype) -> Sample:
    """Two axes to swap, or none: the last two, and nothing to swap below 2-D."""
    shape = d(S.shapes())
    nd = len(shape)
    pairs = st.tuples(st.integers(-nd, nd - 1), st.integers(-nd, nd - 1))
    dims = d(st.none() | pairs) if nd >= 2 else None
    return Sample((d(S.values(dtype, shape)),), {"dims": dims})


def transpose() -> SampleFn:
    return _transpose


@st.composite
def _permute(d: st.DrawFn, dtype: np.dtype) -> Sample:
    shape = d(S.shapes(min_dims=1))
    nd = len(shape)
    negative = d(st.lists(st.booleans(), min_size=nd, max_size=nd), label="negative axes")
    axes = tuple(a - nd if neg else a
                 for a, neg in zip(d(st.permutations(range(nd))), negative))
    return Sample((d(S.values(dtype, shape)),), {"axes": axes})


def permute() -> SampleFn:
    return _permute


def getitem(repeats: bool = False) -> SampleFn:
    """An array and an index; ``repeats`` forces an integer index with a repeated entry."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes(min_dims=1))
        index = d(S.with_repeats(shape)) if repeats else d(S.indices(shape))
        return Sample((d(S.values(dtype, shape)),), {"index": index})

    return draw


@st.composite
def _clip(d: st.DrawFn, dtype: np.dtype) -> Sample:
    low = d(st.sampled_from([-1.0, -0.5, 0.0, None]))
    high = d(st.sampled_from([0.5, 1.0, 2.0] + ([None] if low is not None else [])))
    kinks = [b for b in (low, high) if b is not None]
    shape = d(S.shapes())
    x = d(S.values(dtype, shape, elements=S.avoiding(dtype, kinks, -3.0, 3.0)))
    return Sample((x,), {"low": low, "high": high})


def clip() -> SampleFn:
    return _clip


@st.composite
def _where(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sc, sa, sb = d(S.broadcastable(3))
    cond = d(hnp.arrays(np.bool_, sc))
    return Sample((d(S.values(dtype, sa)), d(S.values(dtype, sb))), {"condition": cond})


def where() -> SampleFn:
    return _where


@st.composite
def _where_number(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sc, sa = d(S.broadcastable(2))
    number = d(st.floats(-3, 3, allow_subnormal=False))
    return Sample((d(S.values(dtype, sa)),), {"condition": d(hnp.arrays(np.bool_, sc)),
                                               "number": number,
                                               "number_first": d(st.booleans())})


def where_number() -> SampleFn:
    """``where(condition, x, number)`` or ``where(condition, number, x)``: the number is
    lifted, as torch.where lifts it."""
    return _where_number


OTHER_FLOAT = {np.dtype(np.float32): np.dtype(np.float64),
               np.dtype(np.float64): np.dtype(np.float32)}


@st.composite
def _other_dtype_operand(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sa, sb = d(S.broadcastable(2, min_dims=1))
    return Sample((d(S.values(dtype, sa)), d(S.values(OTHER_FLOAT[np.dtype(dtype)], sb))))


def other_dtype_operand() -> SampleFn:
    """``a`` in the drawn dtype and ``b`` in the other float dtype, both >= 1-D. The result
    is the wider dtype, in torch as in NumPy; a 0-d ``b`` is not drawn, as torch keeps
    ``a``'s dtype there (a 0-d tensor does not promote) where NumPy widens."""
    return _other_dtype_operand


@st.composite
def _maximum(d: st.DrawFn, dtype: np.dtype) -> Sample:
    sa, sb = d(S.broadcastable(2))
    return Sample(d(S.interleaved(dtype, sa, sb)))


def maximum() -> SampleFn:
    return _maximum


def joined(stack: bool) -> SampleFn:
    """1-3 arrays to concatenate (same shape but along ``axis``) or to stack (same shape)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes(min_dims=0 if stack else 1, max_dims=3))
        count = d(st.integers(1, 3))
        nd = len(shape) + (1 if stack else 0)
        axis = d(st.integers(-nd, nd - 1))
        arrays = []
        for _ in range(count):
            s = list(shape)
            if not stack:
                s[axis] = d(st.integers(1, 3))
            arrays.append(d(S.values(dtype, tuple(s))))
        return Sample(tuple(arrays), {"axis": axis})

    return draw


def along_dim(low: float = -3.0, high: float = 3.0) -> SampleFn:
    """Softmax-style input: an array (>= 1-D), a ``dim``, and a large common offset that a
    naive exp would overflow on (the stability check)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        shape = d(S.shapes(min_dims=1))
        offset = d(st.sampled_from([0.0, 0.0, 40.0, -300.0, 300.0]))
        x = d(S.values(dtype, shape, low, high)) + np.asarray(offset, dtype=dtype)
        return Sample((x.astype(dtype),), {"dim": d(st.integers(-len(shape), len(shape) - 1))})

    return draw


# ----------------------------------------------------------------------------- layers, losses


def linear(bias: bool = True) -> SampleFn:
    """Input (batch..., in), weight (in, out) and optionally bias (out,)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        fan_in, fan_out = d(st.integers(1, 4)), d(st.integers(1, 4))
        batch = d(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
        arrays = [d(S.values(dtype, (*batch, fan_in))), d(S.values(dtype, (fan_in, fan_out)))]
        if bias:
            arrays.append(d(S.values(dtype, (fan_out,))))
        return Sample(tuple(arrays))

    return draw


REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@st.composite
def _pair(d: st.DrawFn, dtype: np.dtype, first: Any, second: Any) -> Sample:
    shape = d(S.shapes(min_dims=1, max_dims=3))
    return Sample((d(S.values(dtype, shape, elements=first(dtype))),
                   d(S.values(dtype, shape, elements=second(dtype)))),
                  {"reduction": d(REDUCTIONS)})


def elementwise_loss(pred: tuple[float, float], target: tuple[float, float]) -> SampleFn:
    """Predictions and targets of one shape, each in its own value range, and a reduction."""
    return lambda dtype: _pair(dtype, lambda t: S.floats(t, *pred), lambda t: S.floats(t, *target))


@st.composite
def _classification(d: st.DrawFn, dtype: np.dtype) -> Sample:
    batch, classes = d(st.integers(1, 5)), d(st.integers(1, 5))
    logits = d(S.values(dtype, (batch, classes), -5.0, 5.0))
    offset = np.asarray(d(st.sampled_from([0.0, 0.0, 200.0])), dtype=dtype)
    return Sample(((logits + offset).astype(dtype),),
                  {"targets": d(S.class_targets(batch, classes)), "reduction": d(REDUCTIONS)})


def classification() -> SampleFn:
    return _classification


def without(sample: SampleFn, *keys: str) -> SampleFn:
    """``sample`` with the keyword arguments ``keys`` left out: the call form that relies on the
    default (a loss without ``reduction``, LeakyReLU without a slope)."""
    return lambda dtype: sample(dtype).map(
        lambda s: Sample(s.arrays, {k: v for k, v in s.kwargs.items() if k not in keys}))


def integer_targets(low: int = -2, high: int = 2) -> SampleFn:
    """Predictions and integer-valued targets of one shape (exact in any dtype), a reduction."""
    return lambda dtype: _pair(dtype, lambda t: S.floats(t, -3.0, 3.0),
                               lambda t: st.integers(low, high).map(float))


# ----------------------------------------------------------------------------- spatial (NCHW)


def _int_or_pair(d: st.DrawFn, low: int, high: int, label: str) -> Any:
    """An int, or a pair of ints (both call forms torch takes)."""
    pair = (d(st.integers(low, high), label=f"{label} h"), d(st.integers(low, high),
                                                               label=f"{label} w"))
    return pair[0] if pair[0] == pair[1] and d(st.booleans(), label=f"{label} as int") else pair


def _sides(value: Any) -> tuple[int, int]:
    return tuple(value) if isinstance(value, tuple) else (value, value)  # type: ignore[return-value]


def _image_side(d: st.DrawFn, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """An input side giving 1 to 3 outputs (and sometimes a remainder stride drops)."""
    reach = dilation * (kernel - 1) + 1 - 2 * padding
    outputs = d(st.integers(1, 3))
    return max(1, reach + (outputs - 1) * stride + d(st.integers(0, stride - 1)))


def conv2d(bias: bool = True) -> SampleFn:
    """Input (N, C, H, W), weight (out, C, kh, kw), bias (out,); strides, paddings and
    dilations drawn as ints or pairs, input sides chosen so the output has 1 to 3 rows."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        kernel = (d(st.integers(1, 3)), d(st.integers(1, 3)))
        stride = _int_or_pair(d, 1, 2, "stride")
        dilation = _int_or_pair(d, 1, 2, "dilation")
        padding = _int_or_pair(d, 0, 2, "padding")
        side = [_image_side(d, kernel[i], _sides(stride)[i], _sides(padding)[i],
                            _sides(dilation)[i]) for i in range(2)]
        n, c, out = d(st.integers(1, 2)), d(st.integers(1, 3)), d(st.integers(1, 3))
        arrays = [d(S.values(dtype, (n, c, *side))), d(S.values(dtype, (out, c, *kernel)))]
        if bias:
            arrays.append(d(S.values(dtype, (out,))))
        return Sample(tuple(arrays), {"stride": stride, "padding": padding,
                                      "dilation": dilation})

    return draw


def pool2d(distinct: bool = False) -> SampleFn:
    """Input (N, C, H, W), a kernel, a stride (or None: the kernel) and a padding of at most
    half the kernel (torch's rule); ``distinct`` values for max pooling (no ties)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        kernel = _int_or_pair(d, 1, 3, "kernel")
        stride = d(st.none() | st.integers(1, 3), label="stride")
        padding = _int_or_pair(d, 0, 1, "padding")
        padding = tuple(min(p, k // 2) for p, k in zip(_sides(padding), _sides(kernel)))
        strides = _sides(kernel if stride is None else stride)
        side = [_image_side(d, _sides(kernel)[i], strides[i], padding[i], 1) for i in range(2)]
        shape = (d(st.integers(1, 2)), d(st.integers(1, 2)), *side)
        x = d(S.distinct(dtype, shape) if distinct else S.values(dtype, shape))
        kwargs = {"kernel_size": kernel, "padding": padding}
        if stride is not None:
            kwargs["stride"] = stride
        return Sample((x,), kwargs)

    return draw


def batch_norm2d(training: bool) -> SampleFn:
    """Input (N, C, H, W) with at least two values per channel, weight and bias (C,), eps and
    momentum drawn; in evaluation, running statistics drawn too (a positive variance)."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        n, c = d(st.integers(1, 3), label="batch"), d(st.integers(1, 3), label="channels")
        h, w = d(st.integers(1, 3), label="height"), d(st.integers(2 if n == 1 else 1, 3),
                                                       label="width")
        # training normalises by the batch's spread: kept apart, so no channel is nearly
        # constant (where float32 cancellation, not the layer, decides the answer)
        x = S.distinct(dtype, (n, c, h, w), 0.25) if training else S.values(dtype, (n, c, h, w))
        arrays = (d(x, label="x"), d(S.values(dtype, (c,))),
                  d(S.values(dtype, (c,))))
        kwargs: dict[str, Any] = {"eps": d(st.sampled_from([1e-5, 1e-3]), label="eps"),
                                  "momentum": d(st.sampled_from([0.1, 0.5]), label="momentum")}
        kwargs["running_mean"] = d(S.values(np.dtype(np.float32), (c,)), label="running_mean") \
            if not training else np.zeros(c, np.float32)
        kwargs["running_var"] = d(S.positive(np.dtype(np.float32), (c,)), label="running_var") \
            if not training else np.ones(c, np.float32)
        return Sample(arrays, {"training": training, **kwargs})

    return draw


@st.composite
def _flatten(d: st.DrawFn, dtype: np.dtype) -> Sample:
    shape = d(S.shapes(min_dims=1))
    ndim = len(shape)
    start = d(st.integers(0, ndim - 1), label="start_dim")
    end = d(st.integers(start, ndim - 1), label="end_dim")
    negative = d(st.booleans(), label="negative dims")
    kwargs = {"start_dim": start - ndim if negative else start, "end_dim": end - ndim}
    return Sample((d(S.values(dtype, shape)),), kwargs)


def flatten() -> SampleFn:
    return _flatten


# ----------------------------------------------------------------------------- text stack


@st.composite
def _layer_norm(d: st.DrawFn, dtype: np.dtype) -> Sample:
    normalized = d(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), label="normalized")
    batch = d(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), label="batch")
    x = d(S.distinct(dtype, (*batch, *normalized), 0.25), label="x")  # no near-constant row
    weight, bias = d(S.values(dtype, normalized)), d(S.values(dtype, normalized))
    eps = d(st.sampled_from([1e-5, 1e-3]), label="eps")
    return Sample((x, weight, bias), {"eps": eps})


def layer_norm() -> SampleFn:
    """Input (batch..., *normalized), weight and bias of the normalised shape; eps drawn
    (torch's default and a larger one)."""
    return _layer_norm


@st.composite
def _embedding(d: st.DrawFn, dtype: np.dtype) -> Sample:
    vocab, dim = d(st.integers(1, 6), label="vocab"), d(st.integers(1, 4), label="dim")
    batch = d(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4), label="ids shape")
    ids = d(hnp.arrays(np.int64, batch, elements=st.integers(0, vocab - 1)), label="ids")
    return Sample((d(S.values(dtype, (vocab, dim))),), {"ids": ids})


def embedding() -> SampleFn:
    """A table (vocab, dim) and integer ids of any shape, repeats included (their gradients
    add up in one row)."""
    return _embedding


# ----------------------------------------------------------------------------- attention


def _allowed(d: st.DrawFn, queries: int, keys: int, kind: str) -> np.ndarray | None:
    """Where a query may attend (True): nowhere blocked, the causal triangle, or a drawn mask
    with at least one key open on every row (a fully blocked row has no softmax)."""
    if kind == "none":
        return None
    if kind == "causal":
        return np.tril(np.ones((queries, keys), dtype=bool))
    mask = d(hnp.arrays(np.bool_, (queries, keys)), label="allowed")
    open_key = d(hnp.arrays(np.int64, (queries,), elements=st.integers(0, keys - 1)))
    mask[np.arange(queries), open_key] = True
    return mask


@st.composite
def _attention(d: st.DrawFn, dtype: np.dtype) -> Sample:
    batch = d(hnp.array_shapes(min_dims=0, max_dims=2, max_side=2), label="batch")
    kind = d(st.sampled_from(["none", "causal", "drawn"]), label="mask")
    queries = d(st.integers(1, 4), label="queries")
    keys = queries if kind == "causal" else d(st.integers(1, 4), label="keys")
    depth, value_depth = d(st.integers(1, 4), label="d"), d(st.integers(1, 3), label="d_v")
    q = d(S.values(dtype, (*batch, queries, depth), -2.0, 2.0), label="Q")
    k = d(S.values(dtype, (*batch, keys, depth), -2.0, 2.0), label="K")
    v = d(S.values(dtype, (*batch, keys, value_depth)), label="V")
    return Sample((q, k, v), {"allowed": _allowed(d, queries, keys, kind)})


def attention() -> SampleFn:
    """Q (..., queries, d), K (..., keys, d), V (..., keys, d_v) and a mask: none, causal
    (queries == keys) or drawn; ``allowed`` is True where a query may attend."""
    return _attention


def _projections(d: st.DrawFn, dtype: np.dtype, dim: int, out: int) -> list[np.ndarray]:
    """A Linear's weight, TinyTorch's (in, out) layout, and bias; small values."""
    return [d(S.values(dtype, (dim, out), -1.0, 1.0)), d(S.values(dtype, (out,), -1.0, 1.0))]


@st.composite
def _heads(d: st.DrawFn) -> tuple[int, int, int, int]:
    batch, seq = d(st.integers(1, 2), label="batch"), d(st.integers(1, 4), label="seq")
    heads, head_dim = d(st.integers(1, 3), label="heads"), d(st.integers(1, 2), label="head_dim")
    return batch, seq, heads, head_dim


def multi_head_attention(block: bool = False) -> SampleFn:
    """Input (batch, seq, embed) and every parameter of a MultiHeadAttention (q, k, v, out
    projections) or, with ``block``, of a pre-norm TransformerBlock (then the two
    LayerNorms and the MLP, hidden width 4 embed); the mask none or causal."""

    @st.composite
    def draw(d: st.DrawFn, dtype: np.dtype) -> Sample:
        batch, seq, heads, head_dim = d(_heads())
        embed = heads * head_dim
        # a block's LayerNorms are ill-conditioned on a row of nearly equal values: its
        # input keeps its entries apart (the attention alone does not care)
        x = S.distinct(dtype, (batch, seq, embed), 0.25) if block else \
            S.values(dtype, (batch, seq, embed), -2.0, 2.0)
        arrays = [d(x, label="x")]
        for _ in range(4):
            arrays += _projections(d, dtype, embed, embed)
        if block:
            for _ in range(2):  # LayerNorm weight and bias
                arrays += [d(S.values(dtype, (embed,), 0.5, 1.5)),
                           d(S.values(dtype, (embed,), -1.0, 1.0))]
            arrays += _projections(d, dtype, embed, 4 * embed)
            arrays += _projections(d, dtype, 4 * embed, embed)
        kind = d(st.sampled_from(["none", "causal"]), label="mask")
        return Sample(tuple(arrays), {"num_heads": heads,
                                      "allowed": _allowed(d, seq, seq, kind)})

    return draw


@st.composite
def _positions(d: st.DrawFn, dtype: np.dtype) -> Sample:
    batch, seq, dim = d(st.integers(1, 2)), d(st.integers(1, 4)), d(st.integers(1, 4))
    max_len = d(st.integers(seq, 5), label="max_seq_len")
    return Sample((d(S.values(dtype, (batch, seq, dim))), d(S.values(dtype, (max_len, dim)))))


def positions() -> SampleFn:
    """Input (batch, seq, dim) and a learned table (max_seq_len >= seq, dim)."""
    return _positions


@st.composite
def _mlp(d: st.DrawFn, dtype: np.dtype) -> Sample:
    embed, hidden = d(st.integers(1, 4), label="embed"), d(st.integers(1, 6), label="hidden")
    lead = d(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3), label="leading dims")
    x = d(S.values(dtype, (*lead, embed)), label="x")
    return Sample((x, *_projections(d, dtype, embed, hidden),
                   *_projections(d, dtype, hidden, embed)))


def mlp() -> SampleFn:
    """Input (..., embed) and the MLP's two Linears (embed -> hidden -> embed)."""
    return _mlp
