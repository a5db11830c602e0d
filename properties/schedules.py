"""Gradient clipping and learning-rate schedules (Module 07): strategies and checks.

Clipping is checked against ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` on
float64 copies of the very gradients the target received, plus laws that need no torch: the
reported norm is the one *before* clipping, the clipped gradients' norm is at most ``max_norm``,
gradients under the threshold are left bit for bit, all-zero gradients stay zero (no NaN).

Schedules are checked against torch's ``CosineAnnealingLR`` and the ``SequentialLR(LinearLR,
CosineAnnealingLR)`` composition at every epoch ``0..total_epochs``, plus their shape: cosine
starts at ``max_lr``, ends at ``min_lr``, never rises, is point-symmetric about its midpoint
(``lr(e) + lr(T - e) = max + min``) and stays in ``[min, max]``; warm-up is a straight line (zero
second differences) that meets the cosine at ``max_lr``. Past ``total_epochs`` TinyTorch's
schedules stay at ``min_lr`` while torch's cosine climbs back up (it is periodic), so epochs
``T + 1`` and ``T + 2`` are checked against ``min_lr``, not torch.

Tolerances are the float64 (or float32) ones of :mod:`properties.tolerances`, with ``atol``
scaled by the magnitude of the values compared (``max_lr`` for a schedule, the largest
reference entry for gradients), since these quantities are nowhere near the harness's unit
scale (learning rates of 1e-5, gradients of 1e30).
"""

from __future__ import annotations

import json
import math
import numbers
from types import SimpleNamespace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import schedules as oracle
from properties import target
from properties.report import assert_close, failure_message
from properties.strategies import DTYPES, Sample, floats, shapes
from properties.tolerances import EXACT, Tolerance, tolerance_for

F64 = np.dtype(np.float64)
EPS = 1e-6  # torch's: coefficient = max_norm / (total_norm + 1e-6)
NORM_TYPES = (2.0, 1.0, 3.0, math.inf)  # 2 first: Hypothesis shrinks towards it
KINDS = ("normal", "zero", "tiny", "huge", "mixed")
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
    return Tolerance(tol.rtol, tol.atol * scale)


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
    (1e3..1e30) or mixed values. float32 gradients keep to the harness's unit scale (normal,
    zero): the float32 budget is stated for it."""
    shape = draw(shapes(max_dims=3), label="shape")
    kinds = KINDS if np.dtype(dtype) == F64 else ("normal", "zero")
    kind = draw(st.sampled_from(kinds), label="kind")
    if kind == "zero":
        return np.zeros(shape, dtype=dtype)
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype, kind)), label=kind)


@st.composite
def grad_lists(draw: st.DrawFn, dtype: np.dtype | None = None, allow_none: bool = True,
               zero: bool = False) -> list[np.ndarray | None]:
    """1-4 gradients of one dtype; about one in five is None (a parameter without grad)."""
    dtype = draw(st.sampled_from(DTYPES), label="dtype") if dtype is None else dtype
    n = draw(st.integers(1, 4), label="parameters")
    grads: list[np.ndarray | None] = []
    for _ in range(n):
        if allow_none and draw(st.integers(0, 4)) == 4:
            grads.append(None)
        elif zero:
            grads.append(np.zeros(draw(shapes(max_dims=3), label="shape"), dtype=dtype))
        else:
            grads.append(draw(grad_arrays(dtype)))
    return grads


max_norms = st.floats(-3.0, 3.0).map(lambda u: 10.0 ** u)  # log-uniform in [1e-3, 1e3]
norm_types = st.sampled_from(NORM_TYPES)


@st.composite
def clip_norm_cases(draw: st.DrawFn) -> Case:
    """Gradients, ``max_norm`` in [1e-3, 1e3], ``norm_type`` in {1, 2, 3, inf}."""
    return clip_case(draw(grad_lists(), label="grads"), max_norm=draw(max_norms, label="max_norm"),
                     norm_type=draw(norm_types, label="norm_type"))


@st.composite
def under_threshold_cases(draw: st.DrawFn) -> Case:
    """``max_norm`` chosen above torch's threshold: ``max_norm / (total + 1e-6)`` in
    [1.0023, 1000]: torch leaves these gradients as they are."""
    grads = draw(grad_lists(), label="grads")
    p = draw(norm_types, label="norm_type")
    total, _ = oracle.clip_grad_norm(grads, math.inf, p)
    factor = draw(st.floats(0.001, 3.0).map(lambda u: 10.0 ** u), label="max_norm / threshold")
    return clip_case(grads, max_norm=(total + EPS) * factor, norm_type=p)


@st.composite
def zero_grad_cases(draw: st.DrawFn) -> Case:
    return clip_case(draw(grad_lists(zero=True), label="zero grads"),
                     max_norm=draw(max_norms, label="max_norm"),
                     norm_type=draw(norm_types, label="norm_type"))


@st.composite
def nonfinite_cases(draw: st.DrawFn) -> Case:
    """float64 gradients with 1-3 entries replaced by inf, -inf or NaN."""
    grads = draw(grad_lists(F64, allow_none=False), label="grads")
    for _ in range(draw(st.integers(1, 3), label="injections")):
        i = draw(st.integers(0, len(grads) - 1), label="parameter")
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


learning_rates = st.floats(-5.0, 1.0).map(lambda u: 10.0 ** u)  # max_lr in [1e-5, 10]
min_fractions = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))


@st.composite
def cosine_hyper(draw: st.DrawFn) -> dict[str, Any]:
    """``max_lr`` in [1e-5, 10], ``min_lr = max_lr * f`` (f = 0, 1 or in [0, 1]), 1-100 epochs."""
    max_lr = draw(learning_rates, label="max_lr")
    return {"max_lr": max_lr, "min_lr": max_lr * draw(min_fractions, label="min_lr / max_lr"),
            "total_epochs": draw(st.integers(1, 100), label="total_epochs")}


@st.composite
def warmup_hyper(draw: st.DrawFn) -> dict[str, Any]:
    """Cosine hyper-parameters (2-100 epochs), ``0 <= warmup_epochs < total_epochs`` and
    ``start_factor`` in (0, 1] (torch's default 1/3, 1, or any in [0.001, 1])."""
    max_lr = draw(learning_rates, label="max_lr")
    total = draw(st.integers(2, 100), label="total_epochs")
    return {"max_lr": max_lr, "min_lr": max_lr * draw(min_fractions, label="min_lr / max_lr"),
            "warmup_epochs": draw(st.integers(0, total - 1), label="warmup_epochs"),
            "total_epochs": total,
            "start_factor": draw(st.one_of(st.just(1.0 / 3.0), st.just(1.0),
                                           st.floats(0.001, 1.0)), label="start_factor")}


# ----------------------------------------------------------------------------- clipping checks


def _fail(name: str, check: str, what: str, sample: Sample, detail: str = "",
          replay: str | None = None) -> None:
    raise AssertionError(failure_message(op_name=name, check=check, what=what, sample=sample,
                                         detail=detail, replay_call=replay))


def _replay(check: str) -> str:
    return f"from properties import schedules as P\nP.{check}(sample)"


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
            _fail(name, check, f"grad {i} was {'None' if b is None else 'set'} and is now "
                  f"{'None' if g is None else 'set'}", sample, replay=replay)
        if g is None:
            got.append(None)
            continue
        data = g.data
        if not isinstance(data, np.ndarray) or data.shape != b.shape or data.dtype != b.dtype:
            kind = type(data).__module__ + "." + type(data).__qualname__
            _fail(name, check, f"grad {i}: p.grad.data must stay a {b.dtype} ndarray of shape "
                  f"{b.shape}; it is a {kind} of dtype {getattr(data, 'dtype', '?')} and shape "
                  f"{np.shape(data)}", sample, replay=replay)
        assert_close(data, w, _scaled(tolerance_for(b.dtype), *tol_scale), op_name=name,
                     check=check, sample=sample, replay_call=replay,
                     what=f"clipped grad {i} differs from torch's")
        got.append(data)
    return got


def check_clip_grad_norm(sample: Sample) -> None:
    """``clip_grad_norm`` against torch, plus the laws of a norm clip (see module docstring)."""
    tt = target.get()
    grads = grads_of(sample)
    max_norm, p = sample.kwargs["max_norm"], float(sample.kwargs["norm_type"])
    replay = _replay("check_clip_grad_norm")
    name = "clip_grad_norm"
    before = [None if g is None else g.copy() for g in grads]
    params = _target_params(grads)
    total = (tt.clip_grad_norm(params, max_norm) if p == 2.0
             else tt.make("clip_grad_norm", params, max_norm, norm_type=p))
    want_total, want = oracle.clip_grad_norm(grads, max_norm, p)

    if not isinstance(total, numbers.Real):
        _fail(name, "return type", f"returned a {type(total).__name__}, not a float", sample,
              replay=replay)
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
            _fail(name, "post-clip norm", "gradients' norm after clipping exceeds max_norm",
                  sample, f"  norm after clipping: {post!r}, max_norm: {max_norm!r}",
                  replay=replay)
    if max_norm / (want_total + EPS) >= 1 + UNDER_MARGIN:  # torch leaves them as they are
        for i, (g, b) in enumerate(zip(got, before)):
            if g is not None and g.tobytes() != b.tobytes():
                assert_close(g, b, EXACT, op_name=name, check="under threshold",
                             sample=sample, replay_call=replay,
                             what=f"grad {i} changed although the total norm {want_total!r} "
                             f"is under max_norm - 1e-6 (it must be untouched, bit for bit)")
                _fail(name, "under threshold", f"grad {i} changed bits (e.g. the sign of a "
                      "zero) although it is under the threshold", sample, replay=replay)
    if all(not np.any(b) for b in before if b is not None):
        if any(np.isnan(g).any() for g in present):
            _fail(name, "zero grads", "all-zero gradients produced NaN", sample, replay=replay)
        if total != 0.0:
            _fail(name, "zero grads", f"all-zero gradients have total norm {total!r}, not 0",
                  sample, replay=replay)


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
            _fail("clip_grad_value", "bound", f"grad {i} has entries outside "
                  f"[-{clip_value!r}, {clip_value!r}]", sample, replay=replay)


# ----------------------------------------------------------------------------- schedule checks


def _lr_tolerance(max_lr: float) -> Tolerance:
    tol = tolerance_for(F64)
    return Tolerance(tol.rtol, tol.atol * max_lr)


def _slack(max_lr: float) -> float:
    """Rounding slack for order laws (monotone, bounded): a few ulps of ``max_lr``."""
    return 8 * np.finfo(np.float64).eps * max_lr


def _lrs(schedule: Any, epochs: range, name: str, sample: Sample, replay: str) -> np.ndarray:
    lrs = []
    for e in epochs:
        lr = schedule.get_lr(e)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            _fail(name, "return type", f"get_lr({e}) returned a {type(lr).__name__}, "
                  "not a float", sample, replay=replay)
        lrs.append(float(lr))
    return np.array(lrs)


def _check_flat_after(name: str, lrs: np.ndarray, total: int, min_lr: float, tol: Tolerance,
                      sample: Sample, replay: str) -> None:
    assert_close(lrs[total + 1:], np.full(len(lrs) - total - 1, min_lr), tol, op_name=name,
                 check="after total_epochs", sample=sample, replay_call=replay,
                 what="lr past total_epochs is not min_lr (index 0 = epoch total_epochs + 1; "
                 "torch's cosine would climb back, TinyTorch's stays flat)")


def _check_order(name: str, check: str, diffs: np.ndarray, first_epoch: int, sign: int,
                 slack: float, sample: Sample, replay: str) -> None:
    """``sign * diffs <= slack`` (sign=+1: never rises; -1: never falls)."""
    bad = np.nonzero(sign * diffs > slack)[0]
    if bad.size:
        e = first_epoch + int(bad[0])
        _fail(name, check, f"lr {'rises' if sign > 0 else 'falls'} from epoch {e} to {e + 1}",
              sample, f"  lr({e}) -> lr({e + 1}) changes by {diffs[bad[0]]!r}", replay=replay)


def check_cosine_schedule(sample: Sample) -> None:
    """CosineSchedule equals torch's CosineAnnealingLR at epochs 0..T, is min_lr after, starts at
    max_lr, ends at min_lr, never rises, is symmetric about T/2 and stays in [min, max]."""
    kw = sample.kwargs
    max_lr, min_lr, total = kw["max_lr"], kw["min_lr"], kw["total_epochs"]
    name, replay = "CosineSchedule", _replay("check_cosine_schedule")
    schedule = target.get().CosineSchedule(max_lr, min_lr, total)
    lrs = _lrs(schedule, range(total + 3), name, sample, replay)
    tol, slack = _lr_tolerance(max_lr), _slack(max_lr)

    want = oracle.cosine_lrs(max_lr, min_lr, total, total + 1)
    assert_close(lrs[: total + 1], np.array(want), tol, op_name=name, check="torch",
                 sample=sample, replay_call=replay,
                 what="lr differs from torch's CosineAnnealingLR (index = epoch)")
    _check_flat_after(name, lrs, total, min_lr, tol, sample, replay)
    assert_close(lrs[0], max_lr, tol, op_name=name, check="start", sample=sample,
                 replay_call=replay, what="lr at epoch 0 is not max_lr")
    assert_close(lrs[total], min_lr, tol, op_name=name, check="end", sample=sample,
                 replay_call=replay, what="lr at epoch total_epochs is not min_lr")
    _check_order(name, "monotone", np.diff(lrs), 0, +1, slack, sample, replay)
    head = lrs[: total + 1]
    assert_close(head + head[::-1], np.full(total + 1, max_lr + min_lr), tol, op_name=name,
                 check="symmetry", sample=sample, replay_call=replay,
                 what="lr(e) + lr(T - e) is not max_lr + min_lr (index = e)")
    if lrs.min() < min_lr - slack or lrs.max() > max_lr + slack:
        _fail(name, "bounds", "lr leaves [min_lr, max_lr]", sample,
              f"  lr range: [{lrs.min()!r}, {lrs.max()!r}]", replay=replay)


def check_warmup_cosine_schedule(sample: Sample) -> None:
    """WarmupCosineSchedule equals torch's SequentialLR(LinearLR, CosineAnnealingLR) at epochs
    0..T and is min_lr after; the warm-up is a straight line from start_factor * max_lr that
    meets the cosine at max_lr at epoch warmup_epochs; it rises, then never rises again."""
    kw = sample.kwargs
    max_lr, min_lr, w, total, sf = (kw["max_lr"], kw["min_lr"], kw["warmup_epochs"],
                                    kw["total_epochs"], kw["start_factor"])
    name, replay = "WarmupCosineSchedule", _replay("check_warmup_cosine_schedule")
    schedule = target.get().WarmupCosineSchedule(
        max_lr, min_lr, w, total, start_factor=sf)
    lrs = _lrs(schedule, range(total + 3), name, sample, replay)
    tol, slack = _lr_tolerance(max_lr), _slack(max_lr)

    want = oracle.warmup_cosine_lrs(max_lr, min_lr, w, total, total + 1, start_factor=sf)
    assert_close(lrs[: total + 1], np.array(want), tol, op_name=name, check="torch",
                 sample=sample, replay_call=replay, what="lr differs from torch's "
                 "SequentialLR(LinearLR, CosineAnnealingLR) (index = epoch)")
    _check_flat_after(name, lrs, total, min_lr, tol, sample, replay)
    if w >= 1:
        assert_close(lrs[0], sf * max_lr, tol, op_name=name, check="warm-up start",
                     sample=sample, replay_call=replay,
                     what="lr at epoch 0 is not start_factor * max_lr")
    if w >= 2:
        assert_close(np.diff(lrs[: w + 1], 2), np.zeros(w - 1), tol, op_name=name,
                     check="warm-up linear", sample=sample, replay_call=replay,
                     what="warm-up is not linear: second difference lr(e+1) - 2 lr(e) + lr(e-1) "
                     "is not 0 (index 0 = epoch 1)")
        assert_close(2 * lrs[w - 1] - lrs[w - 2], lrs[w], tol, op_name=name, check="join",
                     sample=sample, replay_call=replay,
                     what="the warm-up line, extended to epoch warmup_epochs, misses the lr there")
    assert_close(lrs[w], max_lr, tol, op_name=name, check="join", sample=sample,
                 replay_call=replay, what="lr at epoch warmup_epochs (where warm-up meets the "
                 "cosine) is not max_lr")
    _check_order(name, "monotone warm-up", np.diff(lrs[: w + 1]), 0, -1, slack, sample, replay)
    _check_order(name, "monotone decay", np.diff(lrs[w:]), w, +1, slack, sample, replay)
    low = min(min_lr, sf * max_lr)
    if lrs.min() < low - slack or lrs.max() > max_lr + slack:
        _fail(name, "bounds", "lr leaves [min(min_lr, start_factor * max_lr), max_lr]", sample,
              f"  lr range: [{lrs.min()!r}, {lrs.max()!r}]", replay=replay)


def make_schedule(kind: str, hyper: dict[str, Any]) -> Any:
    return target.get().make(kind, **hyper)


def check_apply_sets_lr(kind: str, hyper: dict[str, Any], epochs: list[int]) -> None:
    """``apply(optimizer, e)`` writes ``get_lr(e)`` to ``optimizer.lr`` (a float) and returns
    it, whatever the order of the epochs."""
    schedule = make_schedule(kind, hyper)
    optimizer = SimpleNamespace(lr=-1.0)
    sample = Case((), {"kind": kind, **hyper, "epochs": tuple(epochs)})
    for e in epochs:
        returned = schedule.apply(optimizer, e)
        want = schedule.get_lr(e)
        if not (isinstance(optimizer.lr, float) and returned == want == optimizer.lr):
            _fail(kind, "apply", f"apply(optimizer, {e}) returned {returned!r} and set "
                  f"optimizer.lr = {optimizer.lr!r}; get_lr({e}) = {want!r}", sample)


def check_state_dict_round_trip(kind: str, hyper: dict[str, Any], other: dict[str, Any],
                                applied: int) -> None:
    """``state_dict()`` is a fresh, JSON-serialisable dict of plain floats and ints; loading it
    into a schedule built with other hyper-parameters reproduces the original exactly."""
    source = make_schedule(kind, hyper)
    source.apply(SimpleNamespace(lr=0.0), applied)
    state = source.state_dict()
    sample = Case((), {"kind": kind, **hyper, "other": other, "applied": applied})
    bad = {k: type(v).__name__ for k, v in state.items()
           if not isinstance(k, str) or type(v) not in (int, float)}
    if not isinstance(state, dict) or bad:
        _fail(kind, "state_dict", f"state_dict() is not a dict of plain ints and floats: {bad}",
              sample)
    json.dumps(state)
    copy = dict(state)
    state.clear()  # the schedule must not hold on to the dict it handed out
    if source.state_dict() != copy:
        _fail(kind, "state_dict", "clearing the returned dict changed the schedule's state",
              sample)
    restored = make_schedule(kind, other)
    restored.load_state_dict(dict(copy))
    if restored.state_dict() != copy:
        _fail(kind, "load_state_dict", "state_dict() after load_state_dict(s) is not s", sample,
              f"  loaded {copy}\n  got    {restored.state_dict()}")
    epochs = range(hyper["total_epochs"] + 3)
    got = np.array([restored.get_lr(e) for e in epochs])
    want = np.array([source.get_lr(e) for e in epochs])
    assert_close(got, want, EXACT, op_name=kind, check="load_state_dict",
                 sample=sample, what="restored schedule's lr differs from the original's "
                 "(index = epoch)")
