"""Autograd semantics: laws about how gradients are recorded, accumulated and reset.

These hold for any correct reverse-mode framework, whatever the op: they run over registry
entries, or over small networks checked against their torch twins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from oracles import autodiff
from oracles import nn as onn
from oracles.twin_runs import WithMSE
from properties import target
from properties.checks import run
from properties.divergence import Stage, first_divergence
from properties.networks import (  # noqa: F401 (paired: for repro scripts)
    Weights,
    build_mlp,
    flat,
    mlp_layout,
    named_parameters,
    paired,
    state_of,
)
from properties.registry import OpInfo
from properties.report import Mismatch, assert_close, fail
from properties.strategies import Sample
from properties.target import resolve
from properties.tolerances import EXACT, tolerance_for


def _grads(inputs: Sequence[Any], wrt: Sequence[int]) -> list[np.ndarray | None]:
    tt = target.get()
    return [tt.grad(inputs[i]) for i in wrt]


def check_backward_twice_sums(op: OpInfo, sample: Sample, u1: np.ndarray, u2: np.ndarray) -> None:
    """Two backward passes without zero_grad leave exactly g(u1) + g(u2) in ``.grad``;
    after ``zero_grad`` the next pass starts from nothing."""
    tt = target.get()
    wrt = op.wrt(len(sample.arrays))
    separate = []
    for u in (u1, u2):
        out, inputs = run(op, sample)
        tt.backward(out, u)
        separate.append(_grads(inputs, wrt))
    out, inputs = run(op, sample)
    tt.backward(out, u1)
    tt.backward(op.call(tt, *inputs, **sample.kwargs), u2)
    for k, (i, got) in enumerate(zip(wrt, _grads(inputs, wrt))):
        want = separate[0][k] + separate[1][k]
        if got is None or not np.array_equal(got, want):
            assert_close(got if got is not None else np.full_like(want, np.nan), want,
                         EXACT, op_name=op.name,
                         check="accumulation", sample=sample, upstream=u2,
                         what=f"input {i}: grad after two backward calls is not exactly the "
                         "sum of the two separate gradients")
    for i in wrt:
        tt.zero_grad(inputs[i])
    tt.backward(op.call(tt, *inputs, **sample.kwargs), u2)
    for k, (i, got) in enumerate(zip(wrt, _grads(inputs, wrt))):
        if got is None or not np.array_equal(got, separate[1][k]):
            fail(op.name, "zero_grad", f"input {i}: after zero_grad() the next backward does "
                 "not start from zero (grad differs from a fresh backward)", sample, upstream=u2)


def check_no_grad(op: OpInfo, sample: Sample) -> None:
    """Under ``no_grad`` the result neither requires grad nor can reach the inputs."""
    tt = target.get()
    with tt.no_grad():
        out, inputs = run(op, sample)
    if any(out is t for t in inputs):
        return  # an identity (e.g. Dropout in eval mode) may return its input, as torch does
    if out.requires_grad:
        fail(op.name, "no_grad", "result of an op under no_grad() has requires_grad=True", sample)
    if tt.graph_node(out) is not None:
        fail(op.name, "no_grad", "result of an op under no_grad() still holds a graph node",
             sample)
    if not tt.is_grad_enabled():
        fail(op.name, "no_grad", "grad mode was not restored on leaving no_grad()", sample)


def check_requires_grad_propagates(op: OpInfo, sample: Sample, flags: Sequence[bool]) -> None:
    """The result requires grad exactly when some input does (``flags`` per input); after a
    backward from it, as in torch, the inputs that require grad hold a gradient of their shape,
    the others hold none, and the result (an intermediate, not a leaf) holds none either."""
    tt = target.get()
    inputs = [tt.tensor(a, requires_grad=f) for a, f in zip(sample.arrays, flags)]
    out = op.call(tt, *inputs, **sample.kwargs)
    if bool(out.requires_grad) != any(flags):
        fail(op.name, "requires_grad", f"inputs requires_grad={list(flags)} but result has "
             f"requires_grad={out.requires_grad}", sample)
    if not any(flags) or any(out is t for t in inputs):
        return
    tt.backward(out, np.ones(tt.array(out).shape, dtype=tt.array(out).dtype))
    if tt.grad(out) is not None:
        fail(op.name, "grad holders", "the result of an op (a non-leaf) holds a .grad after "
             "backward; torch keeps gradients only on leaves", sample)
    for i, (t, f) in enumerate(zip(inputs, flags)):
        g = tt.grad(t)
        if f and (g is None or g.shape != sample.arrays[i].shape):
            fail(op.name, "grad holders", f"input {i} requires grad but holds "
                 f"{'no gradient' if g is None else f'a gradient of shape {g.shape}'} "
                 "after backward", sample)
        if not f and g is not None:
            fail(op.name, "grad holders", f"input {i} does not require grad but holds a "
                 "gradient after backward", sample)


def check_shared_input(op: OpInfo, x: np.ndarray, upstream: np.ndarray) -> None:
    """``op(x, x)``: a tensor used twice gets the sum of both uses' gradients (torch agrees)."""
    tt = target.get()
    t = tt.tensor(x, requires_grad=True)
    tt.backward(op.call(tt, t, t), upstream)
    _, (want,) = autodiff.vjp(lambda a: op.oracle(a, a), [x], upstream, [0])
    tol = op.tolerance(tt.array(t).dtype)  # the dtype the target computed in
    assert_close(tt.grad(t), want, tol, op_name=op.name, check="shared input",
                 what="gradient of x in op(x, x) differs from torch", sample=Sample((x, x)),
                 upstream=upstream)


def check_bad_call_raises_as_torch(op: OpInfo, sample: Sample) -> None:
    """A call torch rejects (an axis out of range, say) raises the same kind of error on the
    target (a subclass counts: NumPy's AxisError is an IndexError), never a silent answer."""
    expected = autodiff.error_of(op.oracle, sample.arrays, **sample.kwargs)
    assert expected is not None, f"torch accepts {sample.describe()}: not a bad call"
    tt = target.get()
    try:
        out = op.call(tt, *(tt.tensor(a) for a in sample.arrays), **sample.kwargs)
    except expected:
        return
    except Exception as e:  # noqa: BLE001 - the wrong kind of error is the finding
        fail(op.name, "bad call", f"raised {type(e).__name__} ({e}) where torch raises "
             f"{expected.__name__}", sample)
    fail(op.name, "bad call", f"returned a result of shape {np.shape(tt.array(out))} where "
         f"torch raises {expected.__name__}", sample)


# ----------------------------------------------------------------------------- networks


def check_mlp_gradients_match_torch(widths: Sequence[int], activation: str, x: np.ndarray,
                                    y: np.ndarray, weights: Weights) -> None:
    """Every layer's weight and bias, and the input, get the gradient torch's twin gets for an
    MSE loss through the whole stack; a gradient that is all zero where torch's is not (beyond
    the tolerance) is reported as a broken chain, naming the first layer it fails to reach."""
    tt = target.get()
    model = build_mlp(widths, activation, weights)
    xt = tt.tensor(x, requires_grad=True)
    loss = tt.MSELoss()(model(xt), tt.tensor(y))
    loss.backward()

    twin = onn.sequential_twin(mlp_layout(len(widths) - 1, activation), state_of(model))
    inp, out = onn.apply_module(twin, x)
    ref = onn.mse_loss(out, autodiff.to_torch(y))
    ref.backward()
    want = onn.parameter_grads(twin)
    want["input"] = inp.grad.numpy()
    sample = Sample((x, y, *flat(weights)), {"widths": tuple(widths), "activation": activation})
    replay = ("laws.check_mlp_gradients_match_torch(kwargs['widths'], kwargs['activation'], "
              "arrays[0], arrays[1], laws.paired(arrays[2:]))")
    tol = tolerance_for(tt.array(xt).dtype)  # the dtype the target computed in
    assert_close(tt.array(loss), ref.detach().numpy(), tol, op_name="mlp", check="loss",
                 what="loss differs from the torch twin", sample=sample, replay_call=replay)
    got = {name: tt.grad(p) for name, p in named_parameters(model).items()}
    got["input"] = tt.grad(xt)
    from_loss_side = [*reversed([n for n in want if n != "input"]), "input"]
    for name in from_loss_side:  # walking back from the loss, the first gap is where it broke
        # torch's gradient must be non-zero beyond the tolerance: in float32 a correct target
        # honestly underflows to 0 where torch's float64 twin holds 1e-47
        if got.get(name) is None or (not np.any(got[name])
                                     and not Mismatch(np.zeros_like(want[name]), want[name],
                                                      tol).ok):
            fail("mlp", "gradient flow", f"{name} received no gradient (torch's is non-zero): "
                 "the chain is broken here", sample, replay_call=replay)
    try:
        for name, reference in want.items():
            assert_close(got[name], reference, tol, op_name="mlp", check="gradient flow",
                         sample=sample, what=f"gradient of {name} differs from the torch twin",
                         replay_call=replay)
    except AssertionError as mismatch:
        located = locate_in_mlp(model, twin, x, y, tol, len(mlp_layout(len(widths) - 1,
                                                                      activation)))
        if located is None:
            raise
        fail("mlp", "gradient flow", f"{located}", sample, replay_call=replay,
             detail=str(mismatch)[-1500:])


def locate_in_mlp(model: Any, twin: Any, x: np.ndarray, y: np.ndarray, tol: Any,
                  depth: int) -> Any:
    """The first layer of an MLP that differs from torch's alone (divergence report)."""
    names = [type(resolve(model, f"layers.{i}")).__name__ for i in range(depth)]
    stages = [Stage(f"layers.{i}", kind, ("weight", "bias") if kind == "Linear" else (),
                    layout=lambda name, a: a.T if name == "weight" else a,
                    twin_path=f"net.{i}") for i, kind in enumerate(names)]
    return first_divergence(model, WithMSE(twin, y), stages, x, np.ones(1), tol)


def check_batch_mean_is_mean_of_per_sample(widths: Sequence[int], loss_name: str,
                                           x: np.ndarray, y: np.ndarray,
                                           weights: Weights) -> None:
    """With a batch-mean loss, each parameter's gradient is the average of the gradients the
    samples give one at a time (a closed form: no torch needed)."""
    tt = target.get()
    model = build_mlp(widths, "tanh", weights)
    loss_fn = tt.make(loss_name)
    params = named_parameters(model)

    def grads_for(rows: slice) -> dict[str, np.ndarray]:
        for p in params.values():
            tt.zero_grad(p)
        loss_fn(model(tt.tensor(x[rows])), tt.tensor(y[rows])).backward()
        return {n: tt.grad(p) for n, p in params.items()}

    whole = grads_for(slice(None))
    per_sample = [grads_for(slice(i, i + 1)) for i in range(len(x))]
    sample = Sample((x, y, *flat(weights)), {"widths": tuple(widths), "loss": loss_name})
    for name in params:
        mean = np.mean([g[name] for g in per_sample], axis=0)
        assert_close(whole[name], mean, tolerance_for(whole[name].dtype), op_name=loss_name,
                     check="batch mean", sample=sample, replay_call=(
                         "laws.check_batch_mean_is_mean_of_per_sample(kwargs['widths'], "
                         "kwargs['loss'], arrays[0], arrays[1], laws.paired(arrays[2:]))"),
                     what=f"gradient of {name} over the batch is not the mean of per-sample ones")
