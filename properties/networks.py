"""The networks properties train and compare: an MLP built on the target from drawn weights,
its layout for the torch twin, and its parameters by name.

Weights are drawn by Hypothesis (:func:`mlp_weights`), never made from a seed, so a failing
network case shrinks to small, readable weights like any op failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import strategies as S
from properties import target

Weights = list[tuple[np.ndarray, np.ndarray]]  # (weight (in, out), bias (out,)) per Linear
ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU"}


@st.composite
def mlp_weights(draw: st.DrawFn, widths: Sequence[int], dtype: Any = np.float64) -> Weights:
    """Weights in ±2/sqrt(fan_in) and biases in ±0.5 for ``Linear(w0, w1), ..., Linear``."""
    layers = []
    for k, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        bound = 2.0 / np.sqrt(n_in)
        layers.append((draw(S.values(dtype, (n_in, n_out), -bound, bound), label=f"W{k}"),
                       draw(S.values(dtype, (n_out,), -0.5, 0.5), label=f"b{k}")))
    return layers


def other_weights(weights: Weights) -> Weights:
    """Different values of the same shapes: a fresh model that a restore must overwrite."""
    return [(0.25 - w, 0.125 - b) for w, b in weights]


def flat(weights: Weights) -> tuple[np.ndarray, ...]:
    return tuple(a for pair in weights for a in pair)


def paired(arrays: Sequence[np.ndarray]) -> Weights:
    """The inverse of :func:`flat` (repro scripts rebuild weights from a sample's arrays)."""
    return list(zip(arrays[::2], arrays[1::2]))


def build_mlp(widths: Sequence[int], activation: str, weights: Weights) -> Any:
    """A target Sequential (or, for a target without one, a harness Chain of its layers):
    Linear(w0, w1), act, Linear(w1, w2), act, ..., Linear (no final activation)."""
    tt = target.get()
    layers: list[Any] = []
    for k, ((n_in, n_out), (w, b)) in enumerate(zip(zip(widths[:-1], widths[1:]), weights)):
        lin = tt.Linear(n_in, n_out)
        tt.with_params(lin, weight=tt.tensor(w, True), bias=tt.tensor(b, True))
        layers.append(lin)
        if k < len(widths) - 2:
            layers.append(tt.make(ACTIVATIONS[activation]))
    return tt.sequential(*layers)


def named_parameters(model: Any) -> dict[str, Any]:
    """``{"layers.0.weight": tensor, ...}``: a model's parameters by TinyTorch's names."""
    return dict(model.named_parameters())


def state_of(model: Any) -> dict[str, np.ndarray]:
    """Copies of a model's parameter values by name (what the torch twins are built from)."""
    tt = target.get()
    return {name: tt.array(p).copy() for name, p in named_parameters(model).items()}


def mlp_layout(depth: int, activation: str) -> list[str]:
    layout = []
    for k in range(depth):
        layout.append("linear")
        if k < depth - 1:
            layout.append(activation)
    return layout


# ----------------------------------------------------------------------------- modes

LEAVES = ("Linear", "Dropout", "ReLU")
MODE_CALLS = ("train()", "eval()", "train(False)", "train(True)")


def module_trees(max_depth: int = 3) -> st.SearchStrategy:
    """Nested Sequential specs: lists of leaf names and nested lists, 1-3 items per level."""
    leaf = st.sampled_from(LEAVES)
    return st.recursive(st.lists(leaf, min_size=1, max_size=3),
                        lambda inner: st.lists(st.one_of(leaf, inner), min_size=1, max_size=3),
                        max_leaves=3 * max_depth)


def build_tree(spec: Any, modules: list[Any]) -> Any:
    """The target model for ``spec``; every object with a ``training`` flag goes to
    ``modules`` (in bundled and upstream TinyTorch, activations carry none)."""
    tt = target.get()
    layers = []
    for item in spec:
        if isinstance(item, list):
            layers.append(build_tree(item, modules))
        else:
            layer = tt.Linear(2, 2) if item == "Linear" else tt.make(item, *(
                [0.5] if item == "Dropout" else []))
            if hasattr(layer, "training"):
                modules.append(layer)
            layers.append(layer)
    model = tt.need("Sequential")(*layers)
    modules.append(model)
    return model


def check_modes_reach_every_submodule(spec: Any, calls: Sequence[str]) -> None:
    """After each of ``calls`` on the root (``train()``, ``eval()``, ``train(mode)``), every
    module of the tree, however deep, is in that mode, and the call returned the root."""
    from properties.report import fail
    from properties.strategies import Sample

    modules: list[Any] = []
    root = build_tree(spec, modules)
    sample = Sample((), {"tree": spec, "calls": tuple(calls)})
    for k, call in enumerate(calls):
        mode = call in ("train()", "train(True)")
        returned = root.eval() if call == "eval()" else root.train(mode) \
            if call != "train()" else root.train()
        if returned is not root:
            fail("Module", "modes", f"{call} returned {type(returned).__name__}, not the model",
                 sample)
        wrong = [type(m).__name__ for m in modules if m.training != mode]
        if wrong:
            fail("Module", "modes", f"after calls {list(calls[:k + 1])}, {len(wrong)} of "
                 f"{len(modules)} modules have training={not mode}: {wrong}", sample)
