"""Optimizer laws: SGD, Adam and AdamW step for step against ``torch.optim``, zero_grad against
torch, and state dicts that resume a run exactly.

Inputs are sequences of raw gradients assigned to ``.grad`` (no model, no loss): 1-3 float64
parameters of small shapes (0-d included), 1-6 steps, and at every step each parameter's gradient
is one of: ordinary values, all zeros, tiny (1e-30..1e-10), huge (1e10..1e20), or ``None`` (the
parameter took no part in the backward pass, so the optimizer must skip it). Hyper-parameters
cover each optimizer's whole valid range, and the learning rate may change between steps (what a
schedule does).

Tolerance. Parameters and buffers are compared with ``tolerance_for(float64)`` (rtol = atol =
1e-7) against a per-element budget of ``atol + rtol * max(|reference|, M)``, where ``M`` is the
largest magnitude that element of the same quantity (parameter or buffer) held at any earlier
step. Why: torch's CPU kernels fuse multiply-adds (``add_(alpha=)``, ``lerp_``, ``addcmul_``), so
each of its results may differ from NumPy's by an ulp *of the terms*, not of the result. A running
quantity that climbed to 1e19 after a huge gradient and came back near 1 when an opposite one
arrived (``p - lr g1 - lr g2`` with ``g2 ~ -g1``) carries an honest error of ~1e-16 * 1e19; the
budget grants exactly that, and grants nothing extra to values that never shrank. Step counts
are compared exactly, and state dict round trips (the same arithmetic on both sides) bit for bit.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import optim as oracle
from properties import api, target
from properties import strategies as S
from properties.report import assert_close, fail, literal
from properties.strategies import Sample
from properties.tolerances import EXACT, tolerance_for

KINDS = ("SGD", "Adam", "AdamW")
F64 = np.dtype(np.float64)
GRAD_KINDS = ("normal", "zeros", "tiny", "huge", "none")
# Ordinary gradients are what moves an optimizer's state: drawn three times as often as each
# special class (and first, so a failure shrinks towards them).
_GRAD_DRAW = ("normal", "normal", "normal", "zeros", "tiny", "huge", "none")
MAX_STEPS = 6

Grad = np.ndarray | None


# ----------------------------------------------------------------------------- strategies


def learning_rates() -> st.SearchStrategy:
    return S.floats(F64, 1e-4, 1.0)


@st.composite
def hyperparameters(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """Every hyper-parameter, explicitly, over the optimizer's valid range; zero (the special
    case that switches a feature off) is drawn on purpose, not left to chance. Options the
    target does not take (upstream has no nesterov, dampening or amsgrad) stay at torch's
    default, so the case means the same call on both sides."""
    tt = target.get()
    # The declared defaults (upstream's signature, torch's) are drawn too: the optimizer is
    # built with them left out (make_target_optimizer), so the target's defaults are tested.
    default = api.declared(kind).optional
    lr = draw(st.one_of(st.just(default.get("lr", 1e-3)), learning_rates()), label="lr")
    # 1.0 too: an implementation may test "weight_decay != 1" where it means "!= 0"
    decay = draw(st.one_of(st.just(0.0), S.floats(F64, 0.0, 0.1), st.just(1.0),
                           st.just(default.get("weight_decay", 0.0))), label="weight_decay")
    if kind == "SGD":
        # SGD's regimes are drawn by name, so each comes up in a few examples: drawn as
        # independent values, momentum > 0 with dampening > 0 (what the buffer update's
        # dampening term needs) came up about once in 25 examples, and a bug there survived.
        def takes(argument: str) -> bool:
            return tt.has(kind) and tt.accepts(kind, argument)

        regimes = ["plain", "momentum", *(["dampened"] if takes("dampening") else []),
                   *(["nesterov"] if takes("nesterov") else [])]
        regime = draw(st.sampled_from(regimes), label="regime")
        momentum = 0.0 if regime == "plain" else draw(S.floats(F64, 0.01, 0.99),
                                                      label="momentum")
        dampening = 0.0  # Nesterov requires it; plain SGD draws it (it must have no effect)
        if regime == "dampened" or (regime == "plain" and takes("dampening")):
            dampening = draw(st.one_of(st.just(0.0), S.floats(F64, 0.01, 0.9))
                             if regime == "plain" else S.floats(F64, 0.01, 0.9),
                             label="dampening")
        nesterov = regime == "nesterov"
        return {"lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov,
                "weight_decay": decay}
    if kind not in ("Adam", "AdamW"):
        raise ValueError(f"unknown optimizer {kind!r}")
    betas = draw(st.one_of(st.just(list(default["betas"])), st.tuples(
        S.floats(F64, 0.0, 0.99), S.floats(F64, 0.5, 0.9999)).map(list)), label="betas")
    eps = draw(st.sampled_from([1e-8, 1e-10, 1e-6, 1e-3]), label="eps")
    amsgrad = draw(tt.optional(kind, "amsgrad", st.booleans(), False), label="amsgrad")
    return {"lr": lr, "betas": betas, "eps": eps, "weight_decay": decay, "amsgrad": amsgrad}


@functools.cache
def _values(shape: tuple[int, ...], low: float, high: float) -> st.SearchStrategy:
    """float64 arrays in [low, high]; cached, as building array strategies costs more than
    drawing from them."""
    return S.values(F64, shape, low, high)


@functools.cache
def _signed(shape: tuple[int, ...], low: float, high: float) -> st.SearchStrategy:
    magnitudes = _values(shape, low, high)
    signs = hnp.arrays(np.bool_, shape)
    return st.tuples(magnitudes, signs).map(lambda ms: np.where(ms[1], -ms[0], ms[0]))


# Extreme magnitudes, within each dtype's range: every order of operations an optimizer may use
# (g * g * (1 - beta2), or (1 - beta2) * g * g) stays finite and normal.
EXTREMES = {
    np.dtype(np.float64): {"tiny": (1e-30, 1e-10), "huge": (1e10, 1e20)},
    np.dtype(np.float32): {"tiny": (1e-18, 1e-10), "huge": (1e6, 1e15)},
}


def compute_dtype() -> np.dtype:
    """float64, or float32 for a float32-only target (oracle and tolerance follow it)."""
    return target.get().compute_dtype()


def in_dtype(initial: Sequence[np.ndarray], grads: Sequence[Sequence[Grad]] = ()
             ) -> tuple[list[np.ndarray], list[list[Grad]]]:
    """The case as the target holds it: every array in the dtype it computes in."""
    dtype = compute_dtype()
    return ([np.asarray(a, dtype=dtype) for a in initial],
            [[None if g is None else np.asarray(g, dtype=dtype) for g in row] for row in grads])


@functools.cache
def gradient(shape: tuple[int, ...], how: str,
             dtype: np.dtype = F64) -> st.SearchStrategy:
    """One parameter's gradient for one step, of the class ``how`` (see ``GRAD_KINDS``)."""
    if how == "none":
        return st.none()
    if how == "zeros":
        return st.just(np.zeros(shape))
    if how == "normal":
        return _values(shape, -3.0, 3.0)
    if how in ("tiny", "huge"):
        return _signed(shape, *EXTREMES[np.dtype(dtype)][how])
    raise ValueError(f"unknown gradient class {how!r}")


def param_shapes() -> st.SearchStrategy:
    return st.lists(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
                    min_size=1, max_size=3)


@st.composite
def initial_params(draw: st.DrawFn) -> list[np.ndarray]:
    return [draw(_values(shape, -3.0, 3.0), label=f"param {i}")
            for i, shape in enumerate(draw(param_shapes(), label="shapes"))]


@dataclass
class OptimizerCase:
    kind: str
    hyper: dict[str, Any]
    initial: list[np.ndarray]
    grads: list[list[Grad]]
    lrs: list[float] | None = None


@st.composite
def cases(draw: st.DrawFn, kind: str, min_steps: int = 1, max_steps: int = MAX_STEPS,
          schedule: bool = True) -> OptimizerCase:
    """Hyper-parameters, initial parameters, a gradient per parameter per step, and (if
    ``schedule``) maybe a learning rate per step."""
    hyper = draw(hyperparameters(kind), label="hyper")
    initial = draw(initial_params(), label="initial")
    steps = draw(st.integers(min_steps, max_steps), label="steps")
    grads = []
    for k in range(steps):
        row = []
        for i, p in enumerate(initial):
            how = draw(st.sampled_from(_GRAD_DRAW), label=f"step {k + 1} grad {i} class")
            row.append(draw(gradient(p.shape, how, compute_dtype()),
                            label=f"step {k + 1} grad {i}"))
        grads.append(row)
    lrs = None
    if schedule and draw(st.booleans(), label="lr changes between steps"):
        lrs = draw(st.lists(learning_rates(), min_size=steps, max_size=steps), label="lrs")
    return OptimizerCase(kind, hyper, initial, grads, lrs)


@st.composite
def grad_ops(draw: st.DrawFn, shapes: Sequence[tuple[int, ...]]) -> list[tuple[str, Any]]:
    """1-8 of: a backward pass reaching a non-empty subset of the parameters (with upstream
    gradients), or ``zero_grad(set_to_none)``."""
    ops: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 8), label="ops")):
        if draw(st.booleans(), label="backward?"):
            reached = draw(st.lists(st.booleans(), min_size=len(shapes), max_size=len(shapes))
                           .filter(any), label="reached")
            ops.append(("backward", [draw(_values(s, -3.0, 3.0)) if r else None
                                     for s, r in zip(shapes, reached)]))
        else:
            ops.append(("zero_grad", draw(st.booleans(), label="set_to_none")))
    return ops


# ----------------------------------------------------------------------------- reporting


def _grad_class(g: Grad) -> str:
    if g is None:
        return "none"
    largest = float(np.max(np.abs(g))) if g.size else 0.0
    if largest == 0.0:
        return "zeros"
    return "tiny" if largest < 1e-9 else "huge" if largest > 1e9 else "normal"


def _sample(kind: str, hyper: dict[str, Any], initial: Sequence[np.ndarray],
            grads: Sequence[Sequence[Grad]], **extra: Any) -> Sample:
    """Inputs are the initial parameters; the gradients are summarised by class per step (the
    repro script holds them in full)."""
    summary = "; ".join(f"{k + 1}: [{', '.join(_grad_class(g) for g in row)}]"
                        for k, row in enumerate(grads))
    return Sample(tuple(np.asarray(a) for a in initial),
                  {"optimizer": kind, "hyper": hyper, **extra, "grads by step": summary})


def _replay(check: str, *args: Any) -> str:
    return ("from properties import optimizers\n"
            f"optimizers.{check}(\n    " + ",\n    ".join(literal(a) for a in args) + ",\n)")


# ----------------------------------------------------------------------------- target runs


def make_target_optimizer(kind: str, params: Sequence[Any], hyper: dict[str, Any]) -> Any:
    """The target's optimizer, with every hyper-parameter equal to its declared default left
    out of the call (:meth:`properties.target.Target.shortest`)."""
    return target.get().shortest(kind, list(params), **hyper)


def _target_params(initial: Sequence[np.ndarray]) -> list[Any]:
    tt = target.get()
    return [tt.tensor(np.array(a, dtype=compute_dtype()), requires_grad=True) for a in initial]


def _step(opt: Any, params: Sequence[Any], row: Sequence[Grad],
          lr: float | None) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Hand the gradients of ``row`` to the parameters and step. Returns, per parameter given a
    gradient, its index, the target's gradient array and a copy taken *before* the step."""
    tt = target.get()
    if lr is not None:
        opt.lr = lr
    for p, g in zip(params, row):
        tt.set_grad(p, g)
    handed = [(i, g, g.copy()) for i, p in enumerate(params) if (g := tt.grad(p)) is not None]
    opt.step()
    return handed


# ----------------------------------------------------------------------------- checks


def check_optimizer_matches_torch(kind: str, hyper: dict[str, Any],
                                  initial: Sequence[np.ndarray],
                                  grads: Sequence[Sequence[Grad]],
                                  lrs: Sequence[float] | None = None) -> None:
    """After EVERY step: each parameter, the set of parameters that have state, each buffer
    and each step count equal torch.optim's (``foreach=False``) on the same gradients."""
    tt = target.get()
    sample = _sample(kind, hyper, initial, grads, lrs=lrs)
    replay = _replay("check_optimizer_matches_torch", kind, hyper, list(initial),
                     [list(r) for r in grads], None if lrs is None else list(lrs))
    initial, grads = in_dtype(initial, grads)
    want = oracle.run_optimizer(kind, hyper, initial, grads, lrs)
    params = _target_params(initial)
    opt = make_target_optimizer(kind, params, hyper)
    seen: dict[Any, np.ndarray] = {("param", i): np.abs(a) for i, a in enumerate(initial)}
    # rtol applies to the largest magnitude each value held so far (see the module docstring)
    tol = tolerance_for(compute_dtype())

    handed: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # step, param, array, copy
    for k, (row, ref) in enumerate(zip(grads, want), start=1):
        handed += [(k, *given) for given in _step(opt, params, row,
                                                   None if lrs is None else lrs[k - 1])]
        check = f"step {k}"
        for j, i, kept, as_handed in handed:  # a caller may keep a gradient array: torch
            if not np.array_equal(kept, as_handed, equal_nan=True):  # never writes into .grad
                fail(kind, check, f"step {k} wrote into the gradient array of parameter {i} "
                     f"handed to step {j} (torch's step never changes .grad)", sample,
                     replay_call=replay)
        for i, p in enumerate(params):
            if tt.array(p).dtype != compute_dtype():
                fail(kind, check, f"parameter {i} changed dtype to {tt.array(p).dtype}",
                     sample, replay_call=replay)
            assert_close(tt.array(p), ref["params"][i], tol, scale=seen[("param", i)],
                         op_name=kind, check=check, sample=sample, replay_call=replay,
                         what=f"parameter {i} differs from torch's after step {k}")
            seen[("param", i)] = np.maximum(seen[("param", i)], np.abs(ref["params"][i]))

        got_state = opt.state_dict()["state"]
        want_state = {i: s for i, s in enumerate(ref["state"]) if s}
        if set(got_state) != set(want_state):
            fail(kind, check, f"after step {k} the optimizer has state for parameters "
                 f"{sorted(got_state)}, torch for {sorted(want_state)} (a parameter whose grad "
                 "is None must be skipped entirely: no update, no state)",
                 sample, replay_call=replay)
        for i, buffers in want_state.items():
            if set(got_state[i]) != set(buffers):
                fail(kind, check, f"after step {k} parameter {i} has buffers "
                     f"{sorted(got_state[i])}, torch has {sorted(buffers)}",
                     sample, replay_call=replay)
            for name, value in buffers.items():
                got = got_state[i][name]
                if name == "step":
                    if got != value:
                        fail(kind, check, f"after step {k} parameter {i} has step count {got!r},"
                             f" torch {value} (counts are per parameter: a step with grad None "
                             "does not count)", sample, replay_call=replay)
                    continue
                key = ("buffer", i, name)
                assert_close(got, value, tol, scale=seen.get(key, 0.0), op_name=kind,
                             check=check, sample=sample, replay_call=replay,
                             what=f"buffer {name!r} of parameter {i} differs from torch's after "
                             f"step {k}")
                seen[key] = np.maximum(seen.get(key, 0.0), np.abs(value))


def _plain(tree: Any, where: str = "state_dict()") -> Any:
    """Check the leaves (float/int/bool/str/numeric ndarray; lists of them) and return the tree
    with arrays replaced by None, which must then serialise to JSON: no pickle needed."""
    if isinstance(tree, dict):
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in tree.items()}
    if isinstance(tree, list):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(tree)]
    if isinstance(tree, np.ndarray):
        if tree.dtype.kind not in "biuf":
            raise AssertionError(f"{where} is an array of dtype {tree.dtype}")
        return None
    if not isinstance(tree, (bool, int, float, str)):
        raise AssertionError(f"{where} is a {type(tree).__name__}: leaves must be "
                             "float/int/bool/str/ndarray")
    return tree


def check_state_dict_round_trip(kind: str, hyper: dict[str, Any],
                                initial: Sequence[np.ndarray],
                                grads: Sequence[Sequence[Grad]], split: int) -> None:
    """Save after ``split`` steps, load into a fresh optimizer (default hyper-parameters) over
    copies of the parameters, continue: parameters and state equal, bit for bit, those of an
    uninterrupted run. The saved dict is plain (JSON + arrays), holds the constructor's
    hyper-parameters, and is a copy: the run it came from keeps stepping after the save."""
    tt = target.get()
    sample = _sample(kind, hyper, initial, grads, split=split)
    replay = _replay("check_state_dict_round_trip", kind, hyper, list(initial),
                     [list(r) for r in grads], split)
    initial, grads = in_dtype(initial, grads)

    straight_params = _target_params(initial)
    straight = make_target_optimizer(kind, straight_params, hyper)
    for row in grads:
        _step(straight, straight_params, row, None)

    first_params = _target_params(initial)
    first = make_target_optimizer(kind, first_params, hyper)
    tt.need_attribute(first, "state_dict", f"core.optimizers.{kind}.state_dict")
    for row in grads[:split]:
        _step(first, first_params, row, None)
    saved = first.state_dict()
    try:
        json.dumps(_plain(saved))
    except (AssertionError, TypeError, ValueError) as error:
        fail(kind, "state_dict", f"state_dict() is not plain data: {error}",
        sample, replay_call=replay)
    if saved.get("type") != kind:
        fail(kind, "state_dict", f"state_dict()['type'] is {saved.get('type')!r}",
        sample, replay_call=replay)
    want_hyper = {k: (list(v) if k == "betas" else v) for k, v in hyper.items()}
    if saved.get("hyper") != want_hyper:
        fail(kind, "state_dict", f"state_dict()['hyper'] is {saved.get('hyper')!r}, the "
             f"optimizer was built with {want_hyper!r}", sample, replay_call=replay)
    snapshot = [tt.array(p).copy() for p in first_params]
    for row in grads[split:]:  # a state dict that aliases live buffers changes here
        _step(first, first_params, row, None)

    resumed_params = _target_params(snapshot)
    resumed = make_target_optimizer(kind, resumed_params, {"lr": 0.5})
    as_saved = copy.deepcopy(saved)
    resumed.load_state_dict(saved)
    for row in grads[split:]:
        _step(resumed, resumed_params, row, None)
    assert_close(saved, as_saved, EXACT, op_name=kind, check="load_state_dict",
                 sample=sample, replay_call=replay,
                 what="the resumed optimizer's steps wrote into the dict it was loaded from "
                 "(torch's load_state_dict copies)")
    for i, (p, q) in enumerate(zip(resumed_params, straight_params)):
        assert_close(tt.array(p), tt.array(q), EXACT, op_name=kind, check="state_dict resume",
                     what=f"parameter {i} after save at step {split}, load, continue differs "
                     "from the uninterrupted run", sample=sample, replay_call=replay)
    assert_close(resumed.state_dict(), straight.state_dict(), EXACT, check_dtype=True,
                 op_name=kind, check="state_dict resume", sample=sample, replay_call=replay,
                 what=f"after save at step {split}, load, continue, state_dict() differs from "
                 "the uninterrupted run's")


def corruptions(kind: str) -> tuple[str, ...]:
    """Ways to break a state dict, each of which ``load_state_dict`` must reject."""
    common = ("type", "index", "shape", "missing buffer", "extra buffer", "hyper key",
              "hyper value")
    return (*common, "step") if kind != "SGD" else common


def buffer_names(kind: str, hyper: dict[str, Any]) -> tuple[str, ...]:
    if kind == "SGD":
        return ("momentum_buffer",)
    return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if hyper["amsgrad"] else ())


def check_bad_state_dict_changes_nothing(kind: str, hyper: dict[str, Any],
                                         initial: Sequence[np.ndarray],
                                         grads: Sequence[Sequence[Grad]],
                                         corruption: str) -> None:
    """``load_state_dict`` of a corrupted dict raises (KeyError/ValueError/TypeError) and leaves
    the optimizer exactly as it was. The bad dict first changes *valid* entries (a new lr, new
    values for parameter 0's buffers) and breaks the last one, so an implementation that assigns
    while it checks is caught half-way."""
    sample = _sample(kind, hyper, initial, grads, corruption=corruption)
    replay = _replay("check_bad_state_dict_changes_nothing", kind, hyper, list(initial),
                     [list(r) for r in grads], corruption)
    initial, grads = in_dtype(initial, grads)
    tt = target.get()
    params = _target_params(initial)
    opt = make_target_optimizer(kind, params, hyper)
    tt.need_attribute(opt, "state_dict", f"core.optimizers.{kind}.state_dict")
    for row in grads:
        _step(opt, params, row, None)
    before = opt.state_dict()
    values = [tt.array(p).copy() for p in params]

    bad = copy.deepcopy(before)
    bad["hyper"]["lr"] = before["hyper"]["lr"] * 0.5 + 0.25
    shape0 = values[0].shape
    names = buffer_names(kind, hyper)
    bad["state"][0] = {n: (7 if n == "step" else np.full(shape0, 0.5)) for n in names}
    last = len(params) - 1
    victim = bad["state"].setdefault(
        last, {n: (3 if n == "step" else np.ones(values[last].shape)) for n in names})
    array_name = names[-1]
    if corruption == "type":
        bad["type"] = "Adam" if kind != "Adam" else "SGD"
    elif corruption == "index":
        bad["state"][len(params)] = copy.deepcopy(victim)
    elif corruption == "shape":
        victim[array_name] = np.zeros((*values[last].shape, 2))
    elif corruption == "missing buffer":
        del victim[array_name]
    elif corruption == "extra buffer":
        victim["velocity"] = np.zeros(values[last].shape)
    elif corruption == "step":
        victim["step"] = 0
    elif corruption == "hyper key":
        del bad["hyper"]["weight_decay"]
    elif corruption == "hyper value":
        bad["hyper"]["lr"] = -1.0
    else:
        raise ValueError(f"unknown corruption {corruption!r}")

    try:
        opt.load_state_dict(bad)
    except (KeyError, ValueError, TypeError):
        pass
    else:
        fail(kind, "load_state_dict", f"a state dict with a bad {corruption} was accepted",
             sample, replay_call=replay)
    assert_close(opt.state_dict(), before, EXACT, check_dtype=True, op_name=kind,
                 check="load_state_dict", sample=sample, replay_call=replay,
                 what=f"a rejected load ({corruption}) still changed state_dict()")
    for i, (p, v) in enumerate(zip(params, values)):
        assert_close(tt.array(p), v, EXACT, op_name=kind, check="load_state_dict",
                     what=f"a rejected load ({corruption}) changed parameter {i}", sample=sample,
                     replay_call=replay)


def check_zero_grad_matches_torch(kind: str, initial: Sequence[np.ndarray],
                                  ops: Sequence[tuple[str, Any]]) -> None:
    """Backward passes and ``optimizer.zero_grad(set_to_none)`` in any order: after every op each
    ``.grad`` is what torch has, exactly. So gradients accumulate to the exact running sum over
    backward calls since the last reset; ``set_to_none=True`` leaves None; ``False`` leaves a
    zero tensor of the parameter's shape and dtype; a parameter without a gradient stays None."""
    tt = target.get()
    sample = Sample(tuple(np.asarray(a) for a in initial),
                    {"optimizer": kind, "ops": [op if op == "backward" else f"zero_grad({arg})"
                                                for op, arg in ops]})
    replay = _replay("check_zero_grad_matches_torch", kind, list(initial), list(ops))
    initial, _ = in_dtype(initial)
    want = oracle.run_grad_ops(initial, ops)
    params = _target_params(initial)
    opt = make_target_optimizer(kind, params, {"lr": 0.1})
    for k, ((op, arg), ref) in enumerate(zip(ops, want), start=1):
        if op == "backward":
            terms = [(p * tt.tensor(np.asarray(u, dtype=compute_dtype()))).sum()
                     for p, u in zip(params, arg) if u is not None]
            loss = terms[0]
            for term in terms[1:]:
                loss = loss + term
            tt.backward(loss)
            label = f"op {k} (backward)"
        else:
            tt.zero_grads(opt, set_to_none=arg)
            label = f"op {k} (zero_grad(set_to_none={arg}))"
        for i, (p, w) in enumerate(zip(params, ref)):
            got = tt.grad(p)
            if (got is None) != (w is None):
                fail(kind, "zero_grad", f"after {label} parameter {i}'s grad is "
                     f"{'None' if got is None else 'set'}, torch's is "
                     f"{'None' if w is None else 'set'}", sample, replay_call=replay)
            if got is None:
                continue
            if got.dtype != tt.array(p).dtype:
                fail(kind, "zero_grad", f"after {label} parameter {i}'s grad has dtype "
                     f"{got.dtype}, not the parameter's {tt.array(p).dtype}",
                     sample, replay_call=replay)
            assert_close(got, w, EXACT, op_name=kind, check="zero_grad", sample=sample,
                         what=f"after {label} parameter {i}'s grad differs from torch's",
                         replay_call=replay)
