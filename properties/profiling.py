"""Profiler laws: counts equal closed forms and torch's FLOP counter, and profiling is
invisible (outputs, gradients and ``.grad`` are what they would have been without it).

FLOPs are compared at batch 1, where every convention agrees (upstream counts a Linear per
sample; torch counts the whole input), on the layers whose work is matrix products:
Linear, Conv2d (drawn stride and padding, which a count from the input size alone gets
wrong), MultiHeadAttention and a Sequential of Linears (the sum of its parts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import models as twins
from oracles import profiling as oprof
from properties import target
from properties.networks import build_mlp, mlp_weights, named_parameters
from properties.report import fail, replayable
from properties.strategies import Sample


@dataclass(frozen=True)
class FlopCase:
    kind: str  # "linear" | "conv2d" | "attention" | "sequential"
    config: dict[str, Any]
    input_shape: tuple[int, ...]

    def sample(self) -> Sample:
        return Sample((), {"kind": self.kind, **self.config, "input_shape": self.input_shape})


@st.composite
def flop_cases(draw: st.DrawFn) -> FlopCase:
    kind = draw(st.sampled_from(["linear", "conv2d", "attention", "sequential"]))
    if kind == "linear":
        n_in, n_out = draw(st.integers(1, 16)), draw(st.integers(1, 16))
        return FlopCase(kind, {"in_features": n_in, "out_features": n_out}, (1, n_in))
    if kind == "sequential":
        widths = draw(st.lists(st.integers(1, 12), min_size=2, max_size=4))
        return FlopCase(kind, {"widths": tuple(widths)}, (1, widths[0]))
    if kind == "conv2d":
        kernel = draw(st.integers(1, 3))
        padding = draw(st.integers(0, kernel - 1))
        side = draw(st.integers(max(kernel - 2 * padding, 1), 9))
        return FlopCase(kind, {"out_channels": draw(st.integers(1, 4)), "kernel_size": kernel,
                               "stride": draw(st.integers(1, 3)), "padding": padding},
                        (1, draw(st.integers(1, 3)), side, side))
    heads = draw(st.integers(1, 3))
    embed = heads * draw(st.integers(1, 4))
    return FlopCase(kind, {"num_heads": heads}, (1, draw(st.integers(1, 6)), embed))


def _layer(case: FlopCase) -> Any:
    tt = target.get()
    c = case.config
    if case.kind == "linear":
        return tt.make("Linear", c["in_features"], c["out_features"])
    if case.kind == "sequential":
        w = c["widths"]
        return tt.sequential(*(tt.make("Linear", a, b) for a, b in zip(w[:-1], w[1:])))
    if case.kind == "conv2d":
        return tt.shortest("Conv2d", case.input_shape[1], c["out_channels"], c["kernel_size"],
                           stride=c["stride"], padding=c["padding"])
    return tt.make("MultiHeadAttention", case.input_shape[-1], c["num_heads"])


def _torch_flops(case: FlopCase) -> int:
    c = case.config
    if case.kind == "linear":
        return oprof.linear_flops(case.input_shape, c["in_features"], c["out_features"])
    if case.kind == "sequential":
        w = c["widths"]
        return sum(oprof.linear_flops((1, a), a, b) for a, b in zip(w[:-1], w[1:]))
    if case.kind == "conv2d":
        return oprof.conv2d_flops(case.input_shape, c["out_channels"], c["kernel_size"],
                                  c["stride"], c["padding"])
    return oprof.multi_head_attention_flops(case.input_shape, c["num_heads"])


@replayable
def check_flops_match_torch(case: FlopCase) -> None:
    tt = target.get()
    got = tt.make("Profiler").count_flops(_layer(case), case.input_shape)
    want = _torch_flops(case)
    if int(got) != want:
        fail("Profiler", "FLOPs vs torch", f"count_flops gives {int(got)} for "
             f"{case.kind} on input {case.input_shape}; torch's FlopCounterMode counts {want}",
             case.sample(), f"  ratio target / torch: {int(got) / max(want, 1):.4g}")


@replayable
def check_parameter_count(case: FlopCase) -> None:
    """``count_parameters`` is the number of scalars in ``parameters()``."""
    tt = target.get()
    layer = _layer(case)
    want = sum(int(np.asarray(tt.array(p)).size) for p in layer.parameters())
    got = int(tt.make("Profiler").count_parameters(layer))
    if got != want:
        fail("Profiler", "parameter count", f"count_parameters gives {got}; the parameters "
             f"hold {want} scalars", case.sample())


@dataclass(frozen=True)
class InvisibleCase:
    widths: tuple[int, ...]
    weights: list[tuple[np.ndarray, np.ndarray]]
    x: np.ndarray

    def sample(self) -> Sample:
        return Sample((self.x, *(a for pair in self.weights for a in pair)),
                      {"widths": self.widths})


@st.composite
def invisible_cases(draw: st.DrawFn) -> InvisibleCase:
    widths = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=3)))
    x = draw(hnp.arrays(np.float64, (draw(st.integers(1, 3)), widths[0]),
                        elements=st.floats(-2, 2)))
    return InvisibleCase(widths, draw(mlp_weights(widths)), x)


@replayable
def check_profiling_changes_nothing(case: InvisibleCase) -> None:
    """Profiling a model leaves its outputs, its parameters' ``.grad`` and the gradients a
    later backward computes exactly as without profiling (no hook, mode or graph left)."""
    tt = target.get()
    dtype = tt.compute_dtype()
    weights = [(w.astype(dtype), b.astype(dtype)) for w, b in case.weights]
    profiled, plain = (build_mlp(case.widths, "tanh", weights) for _ in range(2))
    x = tt.tensor(case.x.astype(dtype))
    before = np.array(tt.array(profiled(x)))
    profiler = tt.make("Profiler")
    profiler.count_parameters(profiled)
    profiler.count_flops(profiled, case.x.shape)
    profiler.measure_latency(profiled, x, warmup=1, iterations=2)
    if hasattr(profiler, "measure_memory"):
        profiler.measure_memory(profiled, case.x.shape)
    if hasattr(profiler, "profile_backward_pass"):
        profiler.profile_backward_pass(profiled, x)
    problems = []
    if not np.array_equal(tt.array(profiled(x)), before):
        problems.append("the output after profiling differs from the output before")
    left = [name for name, p in named_parameters(profiled).items() if tt.grad(p) is not None]
    if left:
        problems.append(f"profiling left gradients in {left}")
    for model in (profiled, plain):
        model(tt.tensor(case.x.astype(dtype), requires_grad=True)).sum().backward()
    for (name, p), q in zip(named_parameters(profiled).items(),
                            named_parameters(plain).values()):
        if not np.array_equal(tt.grad(p), tt.grad(q)):
            problems.append(f"the gradient of {name} after profiling differs from an "
                            "unprofiled model's")
    if problems:
        fail("Profiler", "profiling changes nothing", "; ".join(problems), case.sample())


@dataclass(frozen=True)
class GPTShape:
    vocab: int
    embed: int
    layers: int
    heads: int
    seq: int

    def sample(self) -> Sample:
        return Sample((), vars(self))


@st.composite
def gpt_shapes(draw: st.DrawFn) -> GPTShape:
    heads = draw(st.integers(1, 2))
    return GPTShape(draw(st.integers(2, 12)), heads * draw(st.integers(1, 4)),
                    draw(st.integers(1, 2)), heads, draw(st.integers(1, 6)))


@replayable
def check_gpt_profile(shape: GPTShape) -> None:
    """A real model: a GPT's parameter count is its parameters' scalars (embeddings, blocks,
    final norm, head) and its FLOPs on (1, seq) ids are torch's count of the same parts."""
    tt = target.get()
    model = tt.make("GPT", shape.vocab, shape.embed, shape.layers, shape.heads,
                    max_seq_len=shape.seq)
    profiler = tt.make("Profiler")
    want_params = sum(int(np.prod(s)) for s in twins.gpt_parameter_shapes(
        shape.vocab, shape.embed, shape.layers, shape.seq).values())
    got_params = int(profiler.count_parameters(model))
    got_flops = int(profiler.count_flops(model, (1, shape.seq)))
    want_flops = oprof.gpt_flops(shape.vocab, shape.embed, shape.layers, shape.heads, shape.seq)
    if (got_params, got_flops) != (want_params, want_flops):
        fail("Profiler", "GPT profile", f"count_parameters {got_params} (want {want_params}), "
             f"count_flops {got_flops} (torch counts {want_flops})", shape.sample())


def check_profiled_activation_memory_linear_in_batch(batches: tuple[int, ...] = (32, 64, 128)
                                                     ) -> None:
    """``measure_memory``'s activation figure grows linearly with the batch (the profiler
    measures what the engine allocates, whatever its method)."""
    tt = target.get()
    dtype = tt.compute_dtype()
    rng = np.random.default_rng(0)
    widths = (64, 128, 10)
    model = build_mlp(widths, "tanh", [(rng.uniform(-0.1, 0.1, (a, b)).astype(dtype),
                                        np.zeros(b, dtype))
                                       for a, b in zip(widths[:-1], widths[1:])])
    profiler = tt.make("Profiler")
    mb = [float(profiler.measure_memory(model, (b, widths[0]))["activation_memory_mb"])
          for b in batches]
    first, second = mb[1] - mb[0], mb[2] - mb[1]
    ratio = second / first if first > 0 else float("inf")
    if not 1.8 <= ratio <= 2.2:
        fail("Profiler", "activation memory linear in batch", f"measure_memory reports "
             f"{dict(zip(batches, mb))} MB of activations (growth ratio {ratio:.2f}; linear "
             "is 2)", None)
