"""Learning-rate schedules (Module 07): strategies and checks.

Schedules are checked against torch's ``CosineAnnealingLR`` and the ``SequentialLR(LinearLR,
CosineAnnealingLR)`` composition at every epoch ``0..total_epochs``, plus their shape: cosine
starts at ``max_lr``, ends at ``min_lr``, never rises, is point-symmetric about its midpoint
(``lr(e) + lr(T - e) = max + min``) and stays in ``[min, max]``; warm-up is a straight line (zero
second differences) that meets the cosine at ``max_lr``. Past ``total_epochs`` TinyTorch's
schedules stay at ``min_lr`` while torch's cosine climbs back up (it is periodic), so epochs
``T + 1`` and ``T + 2`` are checked against ``min_lr``, not torch.

Tolerances are the float64 ones of :mod:`properties.tolerances`, with ``atol`` scaled by
``max_lr`` (learning rates of 1e-5 are nowhere near the harness's unit scale).
"""

from __future__ import annotations

import json
import numbers
from types import SimpleNamespace
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracles import schedules as oracle
from properties import api, target
from properties.report import assert_close, fail
from properties.strategies import Sample
from properties.tolerances import EXACT, ORDER_SLACK_ULPS, Tolerance, tolerance_for

F64 = np.dtype(np.float64)


class Case(Sample):
    """A schedule case: no arrays, only hyper-parameters (and the epochs asked for)."""

    def describe(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())


def _replay(check: str) -> str:
    return f"from properties import schedules as P\nP.{check}(sample)"



learning_rates = st.floats(-5.0, 1.0).map(lambda u: 10.0 ** u)  # max_lr in [1e-5, 10]
min_fractions = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))


@st.composite
def cosine_hyper(draw: st.DrawFn) -> dict[str, Any]:
    """``max_lr`` in [1e-5, 10], ``min_lr = max_lr * f`` (f = 0, 1 or in [0, 1]), 1-100 epochs;
    one draw in ten is upstream's defaults, which the checks then leave out of the call."""
    if draw(st.integers(0, 9), label="upstream's defaults") == 9:  # shrinks away from them
        return dict(api.declared("CosineSchedule").optional)
    max_lr = draw(learning_rates, label="max_lr")
    return {"max_lr": max_lr, "min_lr": max_lr * draw(min_fractions, label="min_lr / max_lr"),
            "total_epochs": draw(st.integers(1, 100), label="total_epochs")}


@st.composite
def warmup_hyper(draw: st.DrawFn) -> dict[str, Any]:
    """Cosine hyper-parameters (1-100 epochs), ``0 <= warmup_epochs < total_epochs`` and
    ``start_factor`` in (0, 1] (torch's default 1/3, 1, or any in [0.001, 1])."""
    max_lr = draw(learning_rates, label="max_lr")
    total = draw(st.integers(1, 100), label="total_epochs")
    return {"max_lr": max_lr, "min_lr": max_lr * draw(min_fractions, label="min_lr / max_lr"),
            "warmup_epochs": draw(st.integers(0, total - 1), label="warmup_epochs"),
            "total_epochs": total,
            "start_factor": draw(st.one_of(st.just(1.0 / 3.0), st.just(1.0),
                                           st.floats(0.001, 1.0)), label="start_factor")}


# ----------------------------------------------------------------------------- schedule checks


def _lr_tolerance(max_lr: float) -> Tolerance:
    return tolerance_for(F64).scaled(max_lr)


def _slack(max_lr: float) -> float:
    """Rounding slack for order laws (monotone, bounded): a few ulps of ``max_lr``."""
    return ORDER_SLACK_ULPS * np.finfo(np.float64).eps * max_lr


def _lrs(schedule: Any, epochs: range, name: str, sample: Sample, replay: str) -> np.ndarray:
    lrs = []
    for e in epochs:
        lr = schedule.get_lr(e)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            fail(name, "return type", f"get_lr({e}) returned a {type(lr).__name__}, "
                  "not a float", sample, replay_call=replay)
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
        fail(name, check, f"lr {'rises' if sign > 0 else 'falls'} from epoch {e} to {e + 1}",
              sample, f"  lr({e}) -> lr({e + 1}) changes by {diffs[bad[0]]!r}", replay_call=replay)


def check_cosine_schedule(sample: Sample) -> None:
    """CosineSchedule equals torch's CosineAnnealingLR at epochs 0..T, is min_lr after, starts at
    max_lr, ends at min_lr, never rises, is symmetric about T/2 and stays in [min, max]."""
    kw = sample.kwargs
    max_lr, min_lr, total = kw["max_lr"], kw["min_lr"], kw["total_epochs"]
    name, replay = "CosineSchedule", _replay("check_cosine_schedule")
    schedule = make_schedule(name, kw)
    lrs = _lrs(schedule, range(total + 3), name, sample, replay)
    tol, slack = _lr_tolerance(max_lr), _slack(max_lr)

    want = oracle.cosine_lrs(max_lr, min_lr, total, total + 1)
    assert_close(lrs[: total + 1], np.array(want), tol, op_name=name, check="torch",
                 sample=sample, replay_call=replay, curve="learning rate by epoch",
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
        fail(name, "bounds", "lr leaves [min_lr, max_lr]", sample,
              f"  lr range: [{lrs.min()!r}, {lrs.max()!r}]", replay_call=replay)


def check_warmup_cosine_schedule(sample: Sample) -> None:
    """WarmupCosineSchedule equals torch's SequentialLR(LinearLR, CosineAnnealingLR) at epochs
    0..T and is min_lr after; the warm-up is a straight line from start_factor * max_lr that
    meets the cosine at max_lr at epoch warmup_epochs; it rises, then never rises again."""
    kw = sample.kwargs
    max_lr, min_lr, w, total, sf = (kw["max_lr"], kw["min_lr"], kw["warmup_epochs"],
                                    kw["total_epochs"], kw["start_factor"])
    name, replay = "WarmupCosineSchedule", _replay("check_warmup_cosine_schedule")
    schedule = make_schedule(name, kw)
    lrs = _lrs(schedule, range(total + 3), name, sample, replay)
    tol, slack = _lr_tolerance(max_lr), _slack(max_lr)

    want = oracle.warmup_cosine_lrs(max_lr, min_lr, w, total, total + 1, start_factor=sf)
    assert_close(lrs[: total + 1], np.array(want), tol, op_name=name, check="torch",
                 sample=sample, replay_call=replay, curve="learning rate by epoch",
                 what="lr differs from torch's SequentialLR(LinearLR, CosineAnnealingLR) "
                 "(index = epoch)")
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
        fail(name, "bounds", "lr leaves [min(min_lr, start_factor * max_lr), max_lr]", sample,
              f"  lr range: [{lrs.min()!r}, {lrs.max()!r}]", replay_call=replay)


def make_schedule(kind: str, hyper: dict[str, Any]) -> Any:
    """The target's schedule, built with every default argument left out (upstream's and
    torch's: :meth:`properties.target.Target.shortest`), so the defaults are checked too."""
    return target.get().shortest(kind, **hyper)


def check_apply_sets_lr(kind: str, hyper: dict[str, Any], epochs: list[float]) -> None:
    """``apply(optimizer, e)`` writes ``get_lr(e)`` to ``optimizer.lr`` (a float) and returns
    it, whatever the order of the epochs, fractional ones included; a schedule with a state
    dict records ``e`` as its ``last_epoch``."""
    schedule = make_schedule(kind, hyper)
    optimizer = SimpleNamespace(lr=-1.0)
    sample = Case((), {"kind": kind, **hyper, "epochs": tuple(epochs)})
    for e in epochs:
        returned = schedule.apply(optimizer, e)
        want = schedule.get_lr(e)
        if not (isinstance(optimizer.lr, float) and returned == want == optimizer.lr):
            fail(kind, "apply", f"apply(optimizer, {e}) returned {returned!r} and set "
                  f"optimizer.lr = {optimizer.lr!r}; get_lr({e}) = {want!r}", sample)
        if not hasattr(schedule, "state_dict"):
            continue
        last = schedule.state_dict()["last_epoch"]
        if last != e or type(last) is not type(e):  # an int epoch stays an int, as in torch
            fail(kind, "apply", f"after apply(optimizer, {e!r}) state_dict()['last_epoch'] is "
                 f"{last!r}", sample)


def check_state_dict_round_trip(kind: str, hyper: dict[str, Any], other: dict[str, Any],
                                applied: int) -> None:
    """``state_dict()`` is a fresh, JSON-serialisable dict of plain floats and ints; loading it
    into a schedule built with other hyper-parameters reproduces the original exactly.
    ``applied`` is the epoch applied before saving, -1 for a schedule never applied."""
    source = make_schedule(kind, hyper)
    if applied != -1:
        source.apply(SimpleNamespace(lr=0.0), applied)
    state = source.state_dict()
    sample = Case((), {"kind": kind, **hyper, "other": other, "applied": applied})
    bad = {k: type(v).__name__ for k, v in state.items()
           if not isinstance(k, str) or type(v) not in (int, float)}
    if not isinstance(state, dict) or bad:
        fail(kind, "state_dict", f"state_dict() is not a dict of plain ints and floats: {bad}",
              sample)
    json.dumps(state)
    if applied == -1 and state.get("last_epoch") != -1:
        fail(kind, "state_dict", f"a schedule never applied has last_epoch "
             f"{state.get('last_epoch')!r} in its state_dict(), not -1 (never applied)", sample)
    copy = dict(state)
    state.clear()  # the schedule must not hold on to the dict it handed out
    if source.state_dict() != copy:
        fail(kind, "state_dict", "clearing the returned dict changed the schedule's state",
              sample)
    restored = make_schedule(kind, other)
    restored.load_state_dict(dict(copy))
    if restored.state_dict() != copy:
        fail(kind, "load_state_dict", "state_dict() after load_state_dict(s) is not s", sample,
              f"  loaded {copy}\n  got    {restored.state_dict()}")
    epochs = range(hyper["total_epochs"] + 3)
    got = np.array([restored.get_lr(e) for e in epochs])
    want = np.array([source.get_lr(e) for e in epochs])
    assert_close(got, want, EXACT, op_name=kind, check="load_state_dict",
                 sample=sample, what="restored schedule's lr differs from the original's "
                 "(index = epoch)")
