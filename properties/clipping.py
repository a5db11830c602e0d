"""Gradient clipping (Module 07): strategies and checks.

Clipping is checked against ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` on
float64 copies of the very gradients the target received, plus laws that need no torch: the
reported norm is the one *before* clipping, the clipped gradients' norm is at most ``max_norm``,
gradients under the threshold are left bit for bit, all-zero gradients stay zero (no NaN).
Cases sit everywhere torch's rule has an edge: tiny and huge gradients, non-finite ones, and a
total norm exactly at, or one ulp either side of, ``max_norm`` (where torch still scales by
``max_norm / (total + 1e-6)``).

Tolerances are those of :mod:`properties.tolerances` with ``atol`` scaled by the largest
reference entry, since gradients here are nowhere near the harness's unit scale (1e-30 to 1e30).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import clipping as oracle
from properties import target
from properties.report import assert_close, fail
from properties.strategies import DTYPES, Sample, floats, shapes
from properties.tolerances import EXACT, Tolerance, tolerance_for

F64 = np.dtype(np.float64)
EPS = 1e-6  # torch's: coefficient = max_norm / (total_norm + 1e-6)
NORM_TYPES = (2.0, 1.0, 3.0, math.inf)  # 2 first: Hypothesis shrinks towards it
KINDS = ("normal", "zero", "tiny", "huge", "mixed", "empty")
UNDER_MARGIN = 1e-9  # torch's coefficient must exceed 1 by this for "under the threshold"



class Case(Sample):
    """A clipping or schedule case: gradient arrays (``kwargs['none_at']`` lists the parameters
    whose grad is None) or no arrays at all, and plain keyword arguments."""

    def describe(self) -> str:
        kw = {k: v for k, v in self.kwargs.items() if k != "none_at"}
        kwargs = ", ".join(f"{k}={v!r}" for k, v in kw.items())
        if not self.arrays and "none_at" not in self.kwargs:
            return kwargs
        grads = ", ".join("None" if g is None else f"{g.dtype} {g.shape}"
                          for g in grads_of(self))
        return f"grads [{grads}]; {kwargs}"


def grads_of(sample: Sample) -> list[np.ndarray | None]:
    """The gradient list of a case: its arrays, with None at ``kwargs['none_at']``."""
    arrays = iter(sample.arrays)
    none_at = set(sample.kwargs.get("none_at", ()))
    n = len(sample.arrays) + len(none_at)
    return [None if i in none_at else next(arrays) for i in range(n)]


def clip_case(grads: list[np.ndarray | None], **kwargs: Any) -> Case:
    if kwargs.get("norm_type") == math.inf:
        kwargs["norm_type"] = "inf"  # a literal the repro script can rebuild; float() reads it
    return Case(tuple(g for g in grads if g is not None),
                {"none_at": tuple(i for i, g in enumerate(grads) if g is None), **kwargs})


def _scaled(tol: Tolerance, *arrays: Any) -> Tolerance:
    """``tol`` with ``atol`` relative to the largest finite magnitude among ``arrays``."""
    finite = [np.abs(a[np.isfinite(a)]) for a in (np.asarray(x, dtype=np.float64)
                                                  for x in arrays if x is not None)]
    scale = max((float(f.max()) for f in finite if f.size), default=0.0)
    return tol.scaled(scale)


def _norm(arrays: list[np.ndarray], p: float) -> float:
    """A plain float64 p-norm of all arrays together (for the post-clip bound)."""
    flat = np.concatenate([np.abs(np.asarray(a, dtype=np.float64)).ravel() for a in arrays]
                          or [np.zeros(0)])
    if flat.size == 0:
        return 0.0
    with np.errstate(over="ignore"):
        return float(flat.max() if p == math.inf else np.sum(flat ** p) ** (1 / p))


# ----------------------------------------------------------------------------- strategies


def _flush(x: float) -> float:
    """0 for |x| < 1e-30: keeps p-th powers (p <= 3) clear of float64 underflow, where torch's
    naive norm and any other evaluation order may legitimately disagree."""
    return 0.0 if abs(x) < 1e-30 else x


def _signed_powers(low: int, high: int) -> st.SearchStrategy:
    """Values +-10**u with u uniform in [low, high]."""
    return st.tuples(st.floats(low, high), st.booleans()).map(
        lambda t: (-1.0 if t[1] else 1.0) * 10.0 ** t[0])


def _elements(dtype: np.dtype, kind: str) -> st.SearchStrategy:
    normal = floats(dtype, -3.0, 3.0).map(_flush)
    if kind == "normal":
        return normal
    if kind == "tiny":
        return _signed_powers(-30, -6)
    if kind == "huge":
        return _signed_powers(3, 30)
    return st.one_of(normal, _signed_powers(-30, -6), _signed_powers(3, 30), st.just(0.0))


@st.composite
def grad_arrays(draw: st.DrawFn, dtype: np.dtype) -> np.ndarray:
    """One gradient: a small shape (0-d included) of normal, zero, tiny (1e-30..1e-6), huge
    (1e3..1e30) or mixed values, or an empty one (a zero-size axis). float32 gradients keep to
    the harness's unit scale (normal, zero, empty): the float32 budget is stated for it."""
    shape = draw(shapes(max_dims=3), label="shape")
    kinds = KINDS if np.dtype(dtype) == F64 else ("normal", "zero", "empty")
    kind = draw(st.sampled_from(kinds), label="kind")
    if kind == "empty":
        shape = (*shape[:-1], 0) if shape else (0,)
    if kind in ("zero", "empty"):
        return np.zeros(shape, dtype=dtype)
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype, kind)), label=kind)


@st.composite
def grad_lists(draw: st.DrawFn, dtype: np.dtype | None = None, allow_none: bool = True,
               zero: bool = False) -> list[np.ndarray | None]:
    """1-4 gradients of one dtype; about one in five is None (a parameter without grad), and
    in one list in eight all are (nothing to clip: torch's total norm is 0, any norm_type)."""
    dtype = draw(st.sampled_from(DTYPES), label="dtype") if dtype is None else dtype
    n = draw(st.integers(1, 4), label="parameters")
    if allow_none and draw(st.integers(0, 7), label="all None") == 7:
        return [None] * n
    grads: list[np.ndarray | None] = []
    for _ in range(n):
        if allow_none and draw(st.integers(0, 4)) == 4:
            grads.append(None)
        elif zero:
            grads.append(np.zeros(draw(shapes(max_dims=3), label="shape"), dtype=dtype))
        else:
            grads.append(draw(grad_arrays(dtype)))
    return grads


# log-uniform in [1e-3, 1e3], and the edges torch defines: 0 (zero every gradient) and inf
# (leave them all, or NaN them if the total is inf too); 1.0 is upstream's default max_norm,
# and the checks then leave it out of the call.
max_norms = st.one_of(st.floats(-3.0, 3.0).map(lambda u: 10.0 ** u),
                      st.sampled_from([0.0, 1.0, math.inf]))
norm_types = st.sampled_from(NORM_TYPES)


@st.composite
def clip_norm_cases(draw: st.DrawFn) -> Case:
    """Gradients, ``max_norm`` in [1e-3, 1e3], ``norm_type`` in {1, 2, 3, inf}."""
    return clip_case(draw(grad_lists(), label="grads"), max_norm=draw(max_norms, label="max_norm"),
                     norm_type=draw(norm_types, label="norm_type"))


def _defined(grads: list[np.ndarray | None], p: float) -> list[np.ndarray | None]:
    """``grads`` with any empty gradient replaced by a 0-d zero when ``p`` is inf: torch's
    inf-norm of an empty tensor raises (checked by the other cases), these need a norm."""
    if p != math.inf:
        return grads
    return [g if g is None or g.size else np.zeros((), g.dtype) for g in grads]


@st.composite
def under_threshold_cases(draw: st.DrawFn) -> Case:
    """``max_norm`` chosen above torch's threshold: ``max_norm / (total + 1e-6)`` in
    [1.0023, 1000]: torch leaves these gradients as they are."""
    grads = draw(grad_lists(), label="grads")
    p = draw(norm_types, label="norm_type")
    grads = _defined(grads, p)
    total, _ = oracle.clip_grad_norm(grads, math.inf, p)
    factor = draw(st.floats(0.001, 3.0).map(lambda u: 10.0 ** u), label="max_norm / threshold")
    return clip_case(grads, max_norm=(total + EPS) * factor, norm_type=p)


@st.composite
def at_threshold_cases(draw: st.DrawFn) -> Case:
    """``max_norm`` equal to torch's total norm of the gradients, or one ulp either side:
    torch's coefficient ``max_norm / (total + 1e-6)`` is then just below 1, so it scales."""
    grads = draw(grad_lists(F64, allow_none=False), label="grads")
    p = draw(norm_types, label="norm_type")
    grads = _defined(grads, p)
    total, _ = oracle.clip_grad_norm(grads, math.inf, p)
    step = draw(st.sampled_from([0, 1, -1] if total > 0 else [0, 1]),
                label="ulps from the total norm")  # (max_norm must be >= 0)
    max_norm = float(np.nextafter(total, math.inf * step)) if step else total
    return clip_case(grads, max_norm=max_norm, norm_type=p)


@st.composite
def zero_grad_cases(draw: st.DrawFn) -> Case:
    return clip_case(draw(grad_lists(zero=True), label="zero grads"),
                     max_norm=draw(max_norms, label="max_norm"),
                     norm_type=draw(norm_types, label="norm_type"))


@st.composite
def nonfinite_cases(draw: st.DrawFn) -> Case:
    """float64 gradients with 1-3 entries replaced by inf, -inf or NaN."""
    grads = draw(grad_lists(F64, allow_none=False), label="grads")
    sized = [i for i, g in enumerate(grads) if g.size]
    if not sized:  # all empty: nothing to replace, so add a 0-d gradient to hold the value
        grads.append(np.zeros((), dtype=F64))
        sized = [len(grads) - 1]
    for _ in range(draw(st.integers(1, 3), label="injections")):
        i = draw(st.sampled_from(sized), label="parameter")
        g = grads[i].copy()
        flat = g.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1), label="position")] = draw(
            st.sampled_from([math.inf, -math.inf, math.nan]), label="value")
        grads[i] = flat.reshape(g.shape)
    return clip_case(grads, max_norm=draw(max_norms, label="max_norm"),
                     norm_type=draw(norm_types, label="norm_type"))


@st.composite
def clip_value_cases(draw: st.DrawFn) -> Case:
    return clip_case(draw(grad_lists(), label="grads"),
                     clip_value=draw(max_norms, label="clip_value"))


# ----------------------------------------------------------------------------- clipping checks


def _replay(check: str) -> str:
    return f"from properties import clipping as P\nP.{check}(sample)"


def _target_params(grads: list[np.ndarray | None]) -> list[Any]:
    """Target parameters (zeros of the grad's shape) whose ``.grad`` holds a copy of each."""
    tt = target.get()
    params = []
    for g in grads:
        p = tt.tensor(np.zeros(() if g is None else g.shape), requires_grad=True)
        tt.set_grad(p, None if g is None else g.copy())
        params.append(p)
    return params


def _check_grads(name: str, check: str, sample: Sample, params: list[Any],
                 before: list[np.ndarray | None], want: list[np.ndarray | None],
                 replay: str) -> list[np.ndarray | None]:
    """Each grad kept its None-ness, array type, shape and dtype, and equals torch's."""
    got: list[np.ndarray | None] = []
    tol_scale = [w for w in want if w is not None]
    for i, (p, b, w) in enumerate(zip(params, before, want)):
        g = p.grad
        if (g is None) != (b is None):
            fail(name, check, f"grad {i} was {'None' if b is None else 'set'} and is now "
                  f"{'None' if g is None else 'set'}", sample, replay_call=replay)
        if g is None:
            got.append(None)
            continue
        data = g.data
        if not isinstance(data, np.ndarray) or data.shape != b.shape or data.dtype != b.dtype:
            kind = type(data).__module__ + "." + type(data).__qualname__
            fail(name, check, f"grad {i}: p.grad.data must stay a {b.dtype} ndarray of shape "
                  f"{b.shape}; it is a {kind} of dtype {getattr(data, 'dtype', '?')} and shape "
                  f"{np.shape(data)}", sample, replay_call=replay)
        assert_close(data, w, _scaled(tolerance_for(b.dtype), *tol_scale), op_name=name,
                     check=check, sample=sample, replay_call=replay,
                     what=f"clipped grad {i} differs from torch's")
        got.append(data)
    return got


def _clip_norm(tt: Any, params: list[Any], max_norm: float, p: float) -> Any:
    """The target's clip_grad_norm in the shortest form that means this call: upstream's
    defaults (max_norm=1.0, norm_type=2) are left out, so they are exercised too."""
    return tt.shortest("clip_grad_norm", params, max_norm=max_norm, norm_type=p)


def _expect_refusal(name: str, sample: Sample, params: list[Any],
                    before: list[np.ndarray | None], replay: str, why: str,
                    call: Any) -> None:
    """torch raised for this input: the target must raise too (any exception, a clear one
    preferably) and leave every gradient as it was."""
    try:
        returned = call()
    except Exception:  # noqa: BLE001 - any refusal will do; torch's is a RuntimeError
        pass
    else:
        fail(name, "refusal", f"returned {returned!r} where torch raises: {why}", sample,
             replay_call=replay)
    for i, (param, b) in enumerate(zip(params, before)):
        if b is not None and not np.array_equal(param.grad.data, b, equal_nan=True):
            fail(name, "refusal", f"grad {i} changed although the call raised", sample,
                 replay_call=replay)


def check_clip_grad_norm(sample: Sample) -> None:
    """``clip_grad_norm`` against torch, plus the laws of a norm clip (see module docstring)."""
    tt = target.get()
    grads = grads_of(sample)
    max_norm, p = sample.kwargs["max_norm"], float(sample.kwargs["norm_type"])
    replay = _replay("check_clip_grad_norm")
    name = "clip_grad_norm"
    before = [None if g is None else g.copy() for g in grads]
    params = _target_params(grads)
    try:
        want_total, want = oracle.clip_grad_norm(grads, max_norm, p)
    except RuntimeError as refusal:  # the inf-norm of an empty gradient (max has no identity)
        _expect_refusal(name, sample, params, before, replay, str(refusal),
                        lambda: _clip_norm(tt, params, max_norm, p))
        return
    total = _clip_norm(tt, params, max_norm, p)

    if not isinstance(total, numbers.Real):
        fail(name, "return type", f"returned a {type(total).__name__}, not a float", sample,
              replay_call=replay)
    assert_close(np.float64(total), np.float64(want_total), _scaled(tolerance_for(F64),
                 want_total), op_name=name, check="total norm", sample=sample,
                 replay_call=replay, what="returned norm differs from torch's total norm "
                 "(the norm of all gradients together, before clipping)")
    got = _check_grads(name, "clipped grads", sample, params, before, want, replay)
    present = [g for g in got if g is not None]

    if math.isfinite(want_total):
        post = _norm(present, p)
        dtype = present[0].dtype if present else F64
        if not post <= max_norm * (1 + tolerance_for(dtype).rtol):
            fail(name, "post-clip norm", "gradients' norm after clipping exceeds max_norm",
                  sample, f"  norm after clipping: {post!r}, max_norm: {max_norm!r}",
                  replay_call=replay)
    if max_norm / (want_total + EPS) >= 1 + UNDER_MARGIN:  # torch leaves them as they are
        for i, (g, b) in enumerate(zip(got, before)):
            if g is not None and g.tobytes() != b.tobytes():
                assert_close(g, b, EXACT, op_name=name, check="under threshold",
                             sample=sample, replay_call=replay,
                             what=f"grad {i} changed although the total norm {want_total!r} "
                             f"is under max_norm - 1e-6 (it must be untouched, bit for bit)")
                fail(name, "under threshold", f"grad {i} changed bits (e.g. the sign of a "
                      "zero) although it is under the threshold", sample, replay_call=replay)
    if all(not np.any(b) for b in before if b is not None):
        if any(np.isnan(g).any() for g in present):
            fail(name, "zero grads", "all-zero gradients produced NaN", sample, replay_call=replay)
        if total != 0.0:
            fail(name, "zero grads", f"all-zero gradients have total norm {total!r}, not 0",
                  sample, replay_call=replay)


def check_clip_grad_value(sample: Sample) -> None:
    """``clip_grad_value`` equals torch's ``clip_grad_value_``: every element clamped into
    ``[-clip_value, clip_value]``, shapes, dtypes and None grads kept."""
    tt = target.get()
    grads = grads_of(sample)
    clip_value = sample.kwargs["clip_value"]
    replay = _replay("check_clip_grad_value")
    before = [None if g is None else g.copy() for g in grads]
    params = _target_params(grads)
    tt.clip_grad_value(params, clip_value)
    want = oracle.clip_grad_value(grads, clip_value)
    got = _check_grads("clip_grad_value", "clamped grads", sample, params, before, want, replay)
    for i, g in enumerate(got):
        if g is not None and np.any(np.abs(g) > clip_value * (1 + tolerance_for(g.dtype).rtol)):
            fail("clip_grad_value", "bound", f"grad {i} has entries outside "
                  f"[-{clip_value!r}, {clip_value!r}]", sample, replay_call=replay)
