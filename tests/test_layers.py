"""Module API and Dropout: the contracts optimizers, checkpoints and evaluation rely on.

Linear is checked against a torch twin; parameter listing, state dicts and train/eval against
their definitions; Dropout against its closed form (each element dropped or scaled by 1/(1-p)).
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from oracles import nn as onn
from properties import networks, target
from properties import strategies as S
from properties.report import expect_close
from properties.tolerances import rounding, tolerance_for

pytestmark = pytest.mark.plan(
    "03:core", "03:api_consistency", "03:edge_cases", "03:shapes", "03:gradient_flow")

F64 = np.dtype(np.float64)
sizes = st.integers(1, 5)
# the dtypes the target computes in (float32-only targets exist)
dtypes = st.deferred(lambda: st.sampled_from(target.get().dtypes))


def names(module):
    return [name for name, _ in module.named_parameters()]


def away_from_zero(dtype, shape):
    """Values at least 0.1 from 0, so a dropped element (exactly 0) is told from a kept one."""
    return S.values(dtype, shape, elements=S.avoiding(dtype, [0.0], -3.0, 3.0, margin=0.1))


# ----------------------------------------------------------------------------- Linear


@given(n_in=sizes, n_out=sizes)
def test_linear_parameters_have_upstream_layout_dtype_and_init(n_in, n_out):
    tt = target.get()
    layer = tt.Linear(n_in, n_out)
    assert names(layer) == ["weight", "bias"]
    params = dict(layer.named_parameters())
    assert params["weight"].shape == (n_in, n_out)
    assert params["bias"].shape == (n_out,)
    bound = np.float32(np.sqrt(1.0 / n_in))
    for p in params.values():
        assert p.requires_grad
        assert p.dtype == np.float32
        assert np.all(np.abs(tt.array(p)) <= bound)


def test_linear_init_fills_torchs_interval():
    """U(-1/sqrt(in), 1/sqrt(in)), torch's default bound: a wide layer's 1024 weights and 64
    biases take both signs and reach past half the bound (each fails with odds below 2**-60)."""
    tt = target.get()
    layer = tt.Linear(16, 64)
    bound = np.sqrt(1.0 / 16)
    for name, p in layer.named_parameters():
        values = tt.array(p)
        assert values.min() < 0 < values.max(), f"{name} has one sign only"
        assert np.abs(values).max() > bound / 2, f"{name} keeps to a fraction of the bound"


def test_linear_without_bias_has_only_a_weight():
    tt = target.get()
    layer = tt.Linear(3, 2, bias=False)
    assert names(layer) == ["weight"]
    assert list(layer.state_dict()) == ["weight"]


@given(n_in=sizes, n_out=sizes, bias=st.booleans(), lead=S.shapes(max_dims=2), data=st.data())
def test_linear_forward_matches_torch(n_in, n_out, bias, lead, data):
    tt = target.get()
    dtype = tt.compute_dtype()
    layer = tt.Linear(n_in, n_out, bias=bias)
    params = {"weight": tt.tensor(data.draw(S.values(dtype, (n_in, n_out)), label="weight"), True)}
    if bias:
        params["bias"] = tt.tensor(data.draw(S.values(dtype, (n_out,)), label="bias"), True)
    tt.with_params(layer, **params)
    x = data.draw(S.values(dtype, (*lead, n_in)), label="x")

    got = tt.array(layer(tt.tensor(x)))
    with torch.no_grad():
        # the float64 twin, on the very values the target holds
        state = {name: tt.array(p).astype(np.float64) for name, p in params.items()}
        want = onn.linear_twin(state)(torch.from_numpy(x.astype(np.float64))).numpy()
    tol = tolerance_for(dtype)
    assert got.dtype == dtype
    expect_close(got, want, tol, what="Linear forward differs from the torch float64 twin")


# ----------------------------------------------------------------------------- Module API


def test_parameters_are_listed_in_order_with_dotted_names():
    tt = target.get()
    L = A = tt
    first, inner, last = L.Linear(2, 3), L.Linear(3, 4), L.Linear(4, 1, bias=False)
    model = L.Sequential(first, A.ReLU(), L.Sequential(inner, A.Tanh()), last)
    assert names(model) == [
        "layers.0.weight", "layers.0.bias",
        "layers.2.layers.0.weight", "layers.2.layers.0.bias",
        "layers.3.weight",
    ]
    expected = [first.weight, first.bias, inner.weight, inner.bias, last.weight]
    for listed in (model.parameters(), [p for _, p in model.named_parameters()]):
        assert len(listed) == len(expected)
        assert all(got is want for got, want in zip(listed, expected))


def test_shared_parameter_is_listed_once():
    tt = target.get()
    a, b = tt.Linear(3, 3), tt.Linear(3, 3)
    tt.with_params(b, weight=a.weight)
    model = tt.Sequential(a, b)
    assert names(model) == ["layers.0.weight", "layers.0.bias", "layers.1.bias"]
    assert len(model.parameters()) == 3


def test_shared_module_is_listed_once():
    tt = target.get()
    layer = tt.Linear(2, 2)
    model = tt.Sequential(layer, tt.Tanh(), layer)
    assert names(model) == ["layers.0.weight", "layers.0.bias"]


def mlp(tt, widths):
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers += [tt.Linear(n_in, n_out), tt.Tanh()]
    return tt.Sequential(*layers[:-1])


def test_state_dict_returns_copies():
    tt = target.get()
    model = mlp(tt, [2, 3, 1])
    x = tt.tensor(np.ones((2, 2), dtype=np.float32))
    before_out = tt.array(model(x)).copy()
    before_params = [tt.array(p).copy() for p in model.parameters()]

    state = model.state_dict()
    assert list(state) == names(model)
    for value in state.values():
        value[...] = 0

    expect_close([tt.array(p) for p in model.parameters()], before_params,
                 what="writing into the state_dict's arrays changed the model's parameters")
    expect_close(tt.array(model(x)), before_out,
                 what="writing into the state_dict's arrays changed the model's output")


def test_calling_a_module_passes_keywords_to_forward():
    """``module(x, k=v)`` is ``module.forward(x, k=v)``, as torch's Module.__call__."""
    tt = target.get()

    class Scaled(tt.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    x = tt.tensor(np.array([1.0, -2.0]))
    expect_close(tt.array(Scaled()(x, scale=3.0)), np.array([3.0, -6.0]),
                 what="module(x, scale=3.0) did not pass scale to forward")


def test_load_state_dict_copies_what_it_loads():
    """torch copies into its parameters: the dict a caller loaded from stays theirs."""
    tt = target.get()
    model = mlp(tt, [2, 3, 1])
    state = {name: np.full(np.shape(value), 0.5, dtype=np.asarray(value).dtype)
             for name, value in model.state_dict().items()}
    model.load_state_dict(state)
    for value in state.values():
        value[...] = 7.0
    expect_close(model.state_dict(), {k: np.full(np.shape(v), 0.5) for k, v in state.items()},
                 what="writing into the loaded dict's arrays changed the model's parameters")


@given(widths=st.lists(sizes, min_size=2, max_size=4), batch=st.integers(1, 4), data=st.data())
def test_load_state_dict_reproduces_outputs_exactly(widths, batch, data):
    tt = target.get()
    source, fresh = mlp(tt, widths), mlp(tt, widths)
    fresh.load_state_dict(source.state_dict())
    x = tt.tensor(data.draw(S.values(np.float32, (batch, widths[0])), label="x"))
    expect_close(tt.array(fresh(x)), tt.array(source(x)),
                 what="a model after load_state_dict gives different outputs from the source")
    expect_close(fresh.state_dict(), source.state_dict(),
                 what="weights after load_state_dict differ from the saved ones")


@given(widths=st.lists(sizes, min_size=2, max_size=4), batch=st.integers(1, 4), data=st.data())
def test_module_zero_grad_leaves_every_parameter_without_grad_as_torch(widths, batch, data):
    """``model.zero_grad()`` after a backward: torch's default (set_to_none=True) leaves every
    parameter's ``.grad`` None, nested layers' included."""
    tt = target.get()
    model = mlp(tt, widths)
    zero_grad = tt.need_attribute(model, "zero_grad", "core.layers.Module.zero_grad")
    x = tt.tensor(data.draw(S.values(np.float32, (batch, widths[0])), label="x"))
    twin = onn.sequential_twin(networks.mlp_layout(len(widths) - 1, "tanh"),
                               networks.state_of(model))
    tt.backward(model(x).sum())
    twin(torch.from_numpy(tt.array(x).astype(np.float64))).sum().backward()
    zero_grad()
    twin.zero_grad()
    holding = [name for name, p in model.named_parameters() if tt.grad(p) is not None]
    in_torch = [f"layers.{name}" for name, p in twin.named_parameters() if p.grad is not None]
    assert holding == in_torch, (f"after model.zero_grad() these parameters still hold a .grad: "
                                 f"{holding} (torch's: {in_torch})")


@given(spec=networks.module_trees(),
       calls=st.lists(st.sampled_from(networks.MODE_CALLS), min_size=1, max_size=4))
def test_train_and_eval_reach_every_submodule(spec, calls):
    networks.check_modes_reach_every_submodule(spec, calls)


# ----------------------------------------------------------------------------- Dropout


@given(dtype=dtypes, shape=S.shapes(), p=st.floats(0.0, 1.0), data=st.data())
def test_dropout_in_eval_mode_is_the_identity(dtype, shape, p, data):
    tt = target.get()
    x = data.draw(S.values(dtype, shape), label="x")
    out = tt.call_layer(tt.Dropout(p), tt.tensor(x), training=False)
    expect_close(tt.array(out), x, what="Dropout in eval mode is not the identity")


@given(dtype=dtypes, shape=S.shapes(), data=st.data())
def test_dropout_with_p_zero_is_the_identity_in_training(dtype, shape, data):
    tt = target.get()
    x = data.draw(S.values(dtype, shape), label="x")
    expect_close(tt.array(tt.Dropout(0.0)(tt.tensor(x))), x,
                 what="Dropout(0) in training is not the identity")


@given(dtype=dtypes, shape=S.shapes(), data=st.data())
def test_dropout_with_p_one_gives_zeros_and_zero_gradient(dtype, shape, data):
    tt = target.get()
    x = data.draw(S.values(dtype, shape), label="x")
    u = data.draw(S.values(dtype, shape), label="upstream")
    xt = tt.tensor(x, requires_grad=True)
    out = tt.Dropout(1.0)(xt)
    expect_close(tt.array(out), np.zeros(shape, dtype), what="Dropout(1) output is not all zeros")
    assert tt.array(out).dtype == dtype, "Dropout(1) changed the dtype"
    tt.backward(out, u)
    expect_close(tt.grad(xt), np.zeros(shape, dtype), what="Dropout(1) gradient is not all zeros")


@given(dtype=dtypes, shape=S.shapes(), p=st.just(0.5) | st.floats(0.05, 0.95), data=st.data())
def test_dropout_in_training_zeroes_or_scales_each_element(dtype, shape, p, data):
    tt = target.get()
    x = data.draw(away_from_zero(dtype, shape), label="x")
    u = data.draw(S.values(dtype, shape), label="upstream")
    xt = tt.tensor(x, requires_grad=True)
    out = tt.shortest("Dropout", p=p)(xt)  # Dropout() when p is upstream's default, 0.5
    got = tt.array(out)
    kept = got != 0
    assert got.dtype == dtype
    expect_close(got[kept], x[kept].astype(F64) / (1 - p), rounding(dtype),
                 what="a kept element is not x / (1 - p)")

    tt.backward(out, u)
    want = u.astype(F64) * kept / (1 - p)
    expect_close(tt.grad(xt), want, rounding(dtype),
                 what="gradient is not u * mask / (1 - p)")


@given(p=st.floats(0.0, 1.0))
def test_dropout_drops_a_fraction_p_of_elements(p):
    tt = target.get()
    out = tt.Dropout(p)(tt.tensor(np.ones(20_000, dtype=np.float32)))
    dropped = np.mean(tt.array(out) == 0)
    assert abs(dropped - p) <= 0.03, f"dropped {dropped:.4f} of the elements with p={p}"


@given(data=st.data())
def test_model_in_eval_mode_is_deterministic_and_skips_dropout(data):
    tt = target.get()
    first, last = tt.Linear(4, 8), tt.Linear(8, 2)
    relu = tt.ReLU()
    model = tt.Sequential(first, relu, tt.Dropout(0.5), last)
    model.eval()
    x = tt.tensor(data.draw(S.values(np.float32, (3, 4)), label="x"))
    once = tt.array(model(x)).copy()
    expect_close(tt.array(model(x)), once,
                 what="a model in eval mode gives different outputs on the same input")
    expect_close(tt.array(last(relu(first(x)))), once,
                 what="a model in eval mode does not skip Dropout")
