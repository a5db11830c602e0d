"""Whole models against their torch twins: a GPT and a small CNN, built on the target from
drawn weights, compared end to end (outputs and every parameter's gradient); on a mismatch
the report names the first module that differs (:mod:`properties.divergence`).

Weights are drawn by Hypothesis, never seeded, so a failing model shrinks like any op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import models as twins
from oracles import twin_runs
from properties import strategies as S
from properties import target
from properties.chain import Chain
from properties.divergence import Stage, first_divergence
from properties.report import assert_close, fail
from properties.target import ATTENTION_PARAMS, MLP_PARAMS, resolve
from properties.tolerances import BLOCK_FLOAT32, tolerance_for

# ----------------------------------------------------------------------------- GPT


@dataclass(frozen=True)
class GPTCase:
    vocab: int
    embed: int
    layers: int
    heads: int
    max_seq_len: int
    params: dict[str, np.ndarray]
    ids: np.ndarray  # (batch, seq) token ids
    upstream: np.ndarray  # a gradient for the logits

    def describe(self) -> str:
        return (f"GPT(vocab={self.vocab}, embed={self.embed}, layers={self.layers}, "
                f"heads={self.heads}, max_seq_len={self.max_seq_len}) on ids "
                f"{self.ids.tolist()}")


@st.composite
def gpt_cases(draw: st.DrawFn, dtype: Any = np.float64, max_layers: int = 3,
              distinct_logits: bool = False) -> GPTCase:
    """``distinct_logits``: an embedding of at least 2 and a head of distinct weights, so the
    logits of a position have no ties (for arg-max laws; one dim normalises to a constant)."""
    vocab = draw(st.integers(2, 6), label="vocab")
    heads = draw(st.integers(1, 2), label="heads")
    head_dim = draw(st.integers(2 if distinct_logits else 1, 2), label="head_dim")
    embed, layers = heads * head_dim, draw(st.integers(1, max_layers), label="layers")
    batch, seq = draw(st.integers(1, 2), label="batch"), draw(st.integers(1, 4), label="seq")
    max_len = draw(st.integers(seq, 5), label="max_seq_len")
    params = {}
    for name, shape in twins.gpt_parameter_shapes(vocab, embed, layers, max_len).items():
        low, high = (0.5, 1.5) if name.endswith(("ln1.weight", "ln2.weight", "ln_f.weight")) \
            else (-1.0, 1.0)
        params[name] = draw(S.distinct(dtype, shape, 0.5) if distinct_logits and name ==
                            "lm_head.weight" else S.values(dtype, shape, low, high), label=name)
    ids = draw(hnp.arrays(np.int64, (batch, seq), elements=st.integers(0, vocab - 1)),
               label="ids")
    upstream = draw(S.values(dtype, (batch, seq, vocab)), label="upstream gradient")
    return GPTCase(vocab, embed, layers, heads, max_len, params, ids, upstream)


def gpt_stages(layers: int) -> list[Stage]:
    """GPT's modules: embeddings, then per block its parts and itself, then ln_f and the
    head; blocks and attentions are called with the causal mask, as GPT calls them."""
    tt = target.get()

    def masked(module: Any, x: Any) -> Any:
        seq = tt.array(x).shape[1]
        return module(x, tt.attention_mask(np.tril(np.ones((seq, seq), dtype=bool))))

    linear, norm = ("weight", "bias"), ("weight", "bias")
    stages = [Stage("token_embedding", "Embedding", ("weight",), ids=True),
              Stage("position_embedding", "Embedding", ("weight",), ids=True)]
    for i in range(layers):
        b = f"blocks.{i}"
        stages += [Stage(f"{b}.ln1", "LayerNorm", norm)]
        stages += [Stage(f"{b}.attention.{p}", "Linear", linear)
                   for p in ("q_proj", "k_proj", "v_proj", "out_proj")]
        stages += [Stage(f"{b}.attention", "MultiHeadAttention", (), masked, "causal",
                         leaf=False),
                   Stage(f"{b}.ln2", "LayerNorm", norm),
                   Stage(f"{b}.mlp.linear1", "Linear", linear),
                   Stage(f"{b}.mlp.gelu", "GELU"),
                   Stage(f"{b}.mlp.linear2", "Linear", linear),
                   Stage(f"{b}.mlp", "MLP", leaf=False),
                   Stage(b, "TransformerBlock", (), masked, "causal", leaf=False)]
    return stages + [Stage("ln_f", "LayerNorm", norm), Stage("lm_head", "Linear", ("weight",))]


def build_gpt(case: GPTCase, dtype: Any) -> Any:
    """A target GPT holding the case's weights (in ``dtype``)."""
    tt = target.get()
    model = tt.make("GPT", case.vocab, case.embed, case.layers, case.heads,
                    max_seq_len=case.max_seq_len)
    load(model, case.params, dtype)
    return model


def load(model: Any, params: dict[str, np.ndarray], dtype: Any) -> None:
    """Give each named parameter (torch's names; a norm may call them gamma and beta) its
    array, as a fresh target tensor that requires grad."""
    tt = target.get()
    tt.load(model, {name: tt.tensor(array.astype(dtype), requires_grad=True)
                    for name, array in params.items()})


def parameter_grads(model: Any, names: list[str]) -> dict[str, np.ndarray | None]:
    tt = target.get()
    grads = {}
    for name in names:
        path, _, leaf = name.rpartition(".")
        grads[name] = tt.grad(tt.param(resolve(model, path), leaf))
    return grads


def model_tolerance(dtype: Any) -> Any:
    return BLOCK_FLOAT32 if np.dtype(dtype) == np.float32 else tolerance_for(dtype)


def check_model_matches_twin(component: str, describe: str, model: Any, twin: Any,
                             stages: list[Stage], run_target: Callable[[], Any],
                             x: np.ndarray, upstream: np.ndarray, param_names: list[str],
                             dtype: Any, mask: Any = None) -> None:
    """Output and every parameter's gradient equal the twin's (run on ``x``, with ``mask``);
    otherwise fail naming the first differing module (or, if each module agrees alone, the
    model's own wiring)."""
    tt = target.get()
    tol = model_tolerance(dtype)
    out = run_target()
    tt.backward(out, upstream.astype(dtype))
    got = {"output": tt.array(out), **parameter_grads(model, param_names)}
    twin_out, twin_grads = twin_runs.output_and_grads(twin, x, upstream, param_names, mask)
    try:
        assert_close(got, {"output": twin_out, **twin_grads}, tol, op_name=component,
                     check="model vs torch twin", sample=None,
                     what="the model's output or a parameter's gradient differs from torch's")
    except AssertionError as whole:
        found = first_divergence(model, twin, stages, x, upstream, tol, mask)
        where = str(found) if found else ("every module agrees with torch on its own: the "
                                          "model's wiring differs (residuals, masks, order)")
        fail(op_name=component, check="model vs torch twin", sample=None,
             what=f"{describe}: {where}", detail=str(whole)[-1500:])


def check_gpt_matches_twin(case: GPTCase) -> None:
    tt = target.get()
    dtype = tt.compute_dtype()
    model = build_gpt(case, dtype)
    twin = twins.GPT(case.params, case.layers, case.heads)
    ids = case.ids
    check_model_matches_twin(
        "gpt", case.describe(), model, twin, gpt_stages(case.layers),
        lambda: model(tt.tensor(ids.astype(np.float32))), ids, case.upstream,
        list(case.params), dtype)


# ----------------------------------------------------------------------------- CNN

# Smooth activations and average pools: in a composed model no strategy can keep a ReLU's
# input off 0 or a max-pool's window off a tie (they are made by the layers before), and a
# float32 target lands on the other side of a kink from float64 torch. ReLU and MaxPool2d are
# checked alone, where their inputs are drawn off the kinks (the registry).
CNN_SPEC: list[tuple[str, dict[str, Any]]] = [
    ("Conv2d", {"stride": 1, "padding": 1}), ("BatchNorm2d", {}), ("Tanh", {}),
    ("AvgPool2d", {"kernel_size": 2}), ("Conv2d", {"stride": 1, "padding": 0}), ("Tanh", {}),
    ("AvgPool2d", {"kernel_size": 2}), ("Flatten", {}), ("Linear", {}),
]


@dataclass(frozen=True)
class CNNCase:
    channels: tuple[int, int, int]  # input, first conv, second conv
    kernel: int
    side: int
    classes: int
    params: dict[str, np.ndarray]
    x: np.ndarray
    upstream: np.ndarray

    def describe(self) -> str:
        return (f"CNN(channels={self.channels}, kernel={self.kernel}, classes={self.classes})"
                f" on input {self.x.shape}")


def _cnn_shapes(channels: tuple[int, int, int], kernel: int, side: int,
                classes: int) -> dict[str, tuple[int, ...]]:
    c0, c1, c2 = channels
    after = ((side // 2) - kernel + 1) // 2  # conv (same), pool 2, conv (valid), pool 2
    return {"layers.0.weight": (c1, c0, 3, 3), "layers.0.bias": (c1,),
            "layers.1.weight": (c1,), "layers.1.bias": (c1,),
            "layers.4.weight": (c2, c1, kernel, kernel), "layers.4.bias": (c2,),
            "layers.8.weight": (c2 * after * after, classes), "layers.8.bias": (classes,)}


@st.composite
def cnn_cases(draw: st.DrawFn, dtype: Any = np.float64) -> CNNCase:
    channels = tuple(draw(st.integers(1, 3)) for _ in range(3))
    kernel = draw(st.integers(1, 3), label="kernel")
    side = draw(st.integers(2 * kernel + 2, 2 * kernel + 5), label="side")
    classes, batch = draw(st.integers(2, 4)), draw(st.integers(2, 3), label="batch")
    params = {name: draw(S.values(dtype, shape, -1.0, 1.0), label=name) for name, shape in
              _cnn_shapes(channels, kernel, side, classes).items()}
    x = draw(S.distinct(dtype, (batch, channels[0], side, side), 0.25), label="x")
    after = ((side // 2) - kernel + 1) // 2
    assert after >= 1
    upstream = draw(S.values(dtype, (batch, classes)), label="upstream gradient")
    return CNNCase(channels, kernel, side, classes, params, x, upstream)  # type: ignore[arg-type]


def build_cnn(case: CNNCase, dtype: Any) -> list[Any]:
    tt = target.get()
    c0, c1, c2 = case.channels
    layers = [tt.shortest("Conv2d", c0, c1, 3, padding=1), tt.make("BatchNorm2d", c1),
              tt.make("Tanh"), tt.make("AvgPool2d", 2),
              tt.shortest("Conv2d", c1, c2, case.kernel), tt.make("Tanh"),
              tt.make("AvgPool2d", 2), tt.make("Flatten"),
              tt.make("Linear", *case.params["layers.8.weight"].shape)]
    return layers


def check_cnn_matches_twin(case: CNNCase) -> None:
    tt = target.get()
    dtype = tt.compute_dtype()
    model = Chain(tt, build_cnn(case, dtype))  # layers.0, layers.1, ...: the twin's paths
    load(model, case.params, dtype)
    twin = twins.CNN(CNN_SPEC, case.params)
    stages = [Stage(f"layers.{i}", kind, ("weight", "bias") if f"layers.{i}.weight"
                    in case.params else ()) for i, (kind, _) in enumerate(CNN_SPEC)]
    check_model_matches_twin(
        "cnn", case.describe(), model, twin, stages, lambda: model(tt.tensor(case.x.astype(dtype))),
        case.x, case.upstream, list(case.params), dtype)


# ----------------------------------------------------------------------------- one block

BLOCK_PARAMS = (*(f"attention.{n}" for n in ATTENTION_PARAMS), "ln1.weight", "ln1.bias",
                "ln2.weight", "ln2.bias", *(f"mlp.{n}" for n in MLP_PARAMS))


def check_block_matches_twin(sample: Any) -> None:
    """A TransformerBlock (the registry's ``transformer_block`` sample: input, then its
    sixteen parameters) against its twin, causal mask or none; a mismatch names the part."""
    tt = target.get()
    dtype = tt.compute_dtype()
    x, *arrays = (a.astype(np.float64) for a in sample.arrays)
    params = dict(zip(BLOCK_PARAMS, arrays))
    heads, allowed = sample.kwargs["num_heads"], sample.kwargs["allowed"]
    block = tt.make("TransformerBlock", x.shape[-1], heads)
    load(block, params, dtype)
    twin = twins.TransformerBlock(params, "", heads)
    mask = tt.attention_mask(allowed)

    def call(module: Any, inp: Any) -> Any:
        return module(inp) if mask is None else module(inp, mask)

    stages = [Stage(s.path[len("blocks.0."):], s.kind, s.params,
                    s.call if s.leaf else call, None if s.leaf else allowed, s.leaf)
              for s in gpt_stages(1) if s.path.startswith("blocks.0.")]
    upstream = np.cos(np.arange(x.size)).reshape(x.shape)  # any generic output gradient
    check_model_matches_twin(
        "transformer_block", f"TransformerBlock(embed={x.shape[-1]}, heads={heads}, "
        f"mask={'none' if allowed is None else 'causal'}) on input {x.shape}", block, twin,
        stages, lambda: call(block, tt.tensor(x.astype(dtype))), x, upstream,
        list(BLOCK_PARAMS), dtype, mask=allowed)
