"""Optimizers (SGD, Adam, AdamW): step for step against torch.optim, zero_grad against torch,
state dicts that resume exactly and reject bad input, argument errors, and the seed's
"training reduces the loss" checks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import optimizers as O
from properties import target
from properties.report import expect_close

pytestmark = pytest.mark.plan(
    "06:core", "06:gradient_flow", "06:edge_cases", "06:api_consistency",
    "06:numerical_stability")

KINDS = list(O.KINDS)


def _optimizers():
    return target.get()


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_every_step_matches_torch(kind, data):
    case = data.draw(O.cases(kind), label="case")
    O.check_optimizer_matches_torch(case.kind, case.hyper, case.initial, case.grads, case.lrs)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_state_dict_round_trip_resumes_exactly(kind, data):
    case = data.draw(O.cases(kind, min_steps=2, schedule=False), label="case")
    split = data.draw(st.integers(1, len(case.grads) - 1), label="save after step")
    O.check_state_dict_round_trip(case.kind, case.hyper, case.initial, case.grads, split)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_bad_state_dict_is_rejected_and_changes_nothing(kind, data):
    case = data.draw(O.cases(kind, max_steps=3, schedule=False), label="case")
    corruption = data.draw(st.sampled_from(O.corruptions(kind)), label="corruption")
    O.check_bad_state_dict_changes_nothing(case.kind, case.hyper, case.initial, case.grads,
                                           corruption)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_zero_grad_and_accumulation_match_torch(kind, data):
    initial = data.draw(O.initial_params(), label="initial")
    ops = data.draw(O.grad_ops([a.shape for a in initial]), label="ops")
    O.check_zero_grad_matches_torch(kind, initial, ops)


# ----------------------------------------------------------------------------- argument errors

ARGUMENT_ERRORS = [
    ("SGD", {"lr": -0.1}, ValueError, "lr must be >= 0"),
    ("SGD", {"lr": float("nan")}, ValueError, "lr must be finite"),
    ("SGD", {"lr": True}, TypeError, "lr must be a real number"),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, ValueError, "momentum must be >= 0"),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-3}, ValueError, "weight_decay must be >= 0"),
    ("SGD", {"lr": 0.1, "nesterov": True}, ValueError, "Nesterov momentum requires momentum > 0"),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, ValueError,
     "Nesterov momentum requires momentum > 0 and dampening = 0"),
    ("SGD", {"lr": 0.1, "nesterov": "yes"}, TypeError, "nesterov must be True or False"),
    ("SGD", {"lr": 0.1, "dampening": "x"}, TypeError, "dampening must be a real number"),
    ("SGD", {"lr": 0.1, "momentum": float("inf")}, ValueError, "momentum must be finite"),
    ("Adam", {"lr": -1e-3}, ValueError, "lr must be >= 0"),
    ("Adam", {"betas": (1.0, 0.999)}, ValueError, r"betas\[0\] must be in \[0, 1\)"),
    ("Adam", {"betas": (0.9, -0.1)}, ValueError, r"betas\[1\] must be in \[0, 1\)"),
    ("Adam", {"betas": (0.9,)}, ValueError, "betas must be a pair"),
    ("Adam", {"eps": -1e-8}, ValueError, "eps must be >= 0"),
    ("AdamW", {"weight_decay": -0.01}, ValueError, "weight_decay must be >= 0"),
    ("AdamW", {"amsgrad": 1}, TypeError, "amsgrad must be True or False"),
]


@pytest.mark.bundled_only  # the bundled package's error wording
@pytest.mark.parametrize("kind, kwargs, error, match", ARGUMENT_ERRORS,
                         ids=[f"{k}-{'-'.join(kw)}-{m[:12]}" for k, kw, _, m in ARGUMENT_ERRORS])
def test_bad_arguments_are_clear_errors(kind, kwargs, error, match):
    p = target.get().tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(error, match=f"^{kind}: {match}"):  # named by the optimizer, then why
        getattr(_optimizers(), kind)([p], **kwargs)


@pytest.mark.parametrize("kind", KINDS)
def test_bad_parameter_lists_are_clear_errors(kind):
    tt = target.get()
    opt = getattr(_optimizers(), kind)
    p = tt.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        opt([], lr=0.1)
    with pytest.raises(TypeError, match="not a Tensor"):
        opt([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        opt([p, p], lr=0.1)


def _stepped_adam():
    tt = target.get()
    p = tt.tensor(np.zeros(3), requires_grad=True)
    opt = _optimizers().Adam([p], lr=0.1, amsgrad=True)
    tt.set_grad(p, np.ones(3))
    opt.step()
    return opt


@pytest.mark.bundled_only  # the bundled package's error wording
@pytest.mark.parametrize("corrupt, error, match", [
    (lambda sd: sd.update(type="SGD"), ValueError, "is for 'SGD', not 'Adam'"),
    (lambda sd: sd["state"].update({5: sd["state"][0]}), KeyError,
     r"state key 5 is not a parameter index \(0..0\)"),
    (lambda sd: sd["state"][0].update(exp_avg=np.zeros((3, 2))), ValueError,
     r"exp_avg of parameter 0 has shape \(3, 2\), the parameter has shape \(3,\)"),
    (lambda sd: sd["state"][0].pop("max_exp_avg_sq"), KeyError,
     r"missing buffers \['max_exp_avg_sq'\]"),
    (lambda sd: sd["hyper"].pop("eps"), KeyError, r"missing keys \['eps'\]"),
    (lambda sd: sd["hyper"].update(betas=[0.9, 1.5]), ValueError, r"betas\[1\] must be in"),
], ids=["type", "index", "shape", "buffer", "hyper key", "hyper value"])
def test_bad_state_dict_error_names_what_is_wrong(corrupt, error, match):
    opt = _stepped_adam()
    state = opt.state_dict()
    corrupt(state)
    with pytest.raises(error, match=match):
        opt.load_state_dict(state)


@pytest.mark.bundled_only  # torch's load_state_dict takes tensors only
def test_buffers_given_as_nested_lists_load_as_arrays():
    """A state dict whose buffers became lists (written as JSON, say) restores the same
    optimizer: the buffers come back as arrays of the parameter's dtype."""
    opt = _stepped_adam()
    state = opt.state_dict()
    as_lists = {**state, "state": {i: {k: v.tolist() if isinstance(v, np.ndarray) else v
                                       for k, v in entry.items()}
                                   for i, entry in state["state"].items()}}
    tt = target.get()
    fresh = _optimizers().Adam([tt.tensor(np.zeros(3), requires_grad=True)], amsgrad=True)
    fresh.load_state_dict(as_lists)
    expect_close(fresh.state_dict(), state, what="buffers loaded from lists differ")


def test_gradient_of_the_wrong_shape_is_a_clear_error():
    tt = target.get()
    p = tt.tensor(np.zeros(3), requires_grad=True)
    opt = _optimizers().SGD([p], lr=0.1)
    tt.set_grad(p, np.zeros(2))
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(3,\)"):
        opt.step()


def test_a_gradient_held_as_an_array_steps_as_a_tensor_gradient():
    """``p.grad`` as a plain ndarray (how some TinyTorch versions keep it) steps the same."""
    tt = target.get()
    steps = []
    for as_array in (False, True):
        p = tt.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
        opt = _optimizers().SGD([p], lr=0.5)
        p.grad = np.array([0.5, 1.0, -1.0]) if as_array else tt.tensor(np.array([0.5, 1.0, -1.0]))
        opt.step()
        steps.append(tt.array(p))
    expect_close(steps[1], steps[0], what="a step from an ndarray .grad differs")


# ----------------------------------------------------------------------------- training


def _regression(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 3))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3
    return x.astype(np.float32), y.astype(np.float32)


@pytest.mark.parametrize("kind, lr", [("SGD", 0.1), ("Adam", 0.05), ("AdamW", 0.05)])
def test_training_a_linear_layer_reduces_the_loss(kind, lr):
    """The seed check: weights change on the first step, the loss falls, dtypes stay float32."""
    tt = target.get()
    np.random.seed(0)
    model = tt.Linear(3, 1)
    opt = getattr(_optimizers(), kind)(model.parameters(), lr=lr)
    loss_fn = tt.MSELoss()
    x, y = _regression()
    x, y = tt.tensor(x), tt.tensor(y)
    losses = []
    for step in range(60):
        before = [tt.array(p).copy() for p in model.parameters()]
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
        if step == 0:
            assert all(not np.array_equal(b, tt.array(p))
                       for b, p in zip(before, model.parameters())), "step() changed no weight"
    assert losses[-1] < 0.05 * losses[0], f"{kind}: loss went {losses[0]:.4g} -> {losses[-1]:.4g}"
    assert all(tt.array(p).dtype == np.float32 for p in model.parameters())
    for buffers in opt.state_dict()["state"].values():
        assert all(v.dtype == np.float32 for v in buffers.values() if isinstance(v, np.ndarray))


def test_parameter_without_grad_is_left_alone():
    tt = target.get()
    used = tt.tensor(np.ones(2), requires_grad=True)
    unused = tt.tensor(np.ones(2), requires_grad=True)
    opt = _optimizers().Adam([used, unused], lr=0.1)
    (used * 2.0).sum().backward()
    opt.step()
    expect_close(tt.array(unused), np.ones(2),
                 what="a parameter without a gradient was changed by step()")
    assert unused.grad is None
    assert set(opt.state_dict()["state"]) == {0}
