"""When a whole model disagrees with its torch twin: name the first module that does.

"Parameter 37 differs" sends a person through the whole model. Instead the twin run is
recorded module by module (each module's input, output and output gradient, by torch
hooks), and each target module is then run *alone* on the twin's recorded input:

* forward, in the order modules finish: the first module whose output differs, given the
  very input torch's module received;
* backward, in reverse: the first module whose input gradient or parameter gradients differ,
  given the very output gradient torch's module received.

Leaves (Linear, LayerNorm, Embedding, ...) are tried before composites (an attention, a
block), so a LayerNorm backward bug in block 2 is reported as ``blocks.1.ln1``, not as the
block that contains it; a composite is reported only when all its parts agree (wiring: a
residual dropped, heads merged in the wrong order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oracles import twin_runs
from properties import target
from properties.report import Mismatch
from properties.target import resolve
from properties.tolerances import Tolerance


@dataclass(frozen=True)
class Stage:
    """One module of a model: where it is (``blocks.1.ln1``), what it is, how the model
    calls it on the target (``call(module, x)``, e.g. with the model's mask), and the torch
    names of its own parameters."""

    path: str
    kind: str
    params: tuple[str, ...] = ()
    call: Callable[[Any, Any], Any] = lambda module, x: module(x)
    twin_mask: Any = None  # how the twin's module is called: see oracles.twin_runs
    leaf: bool = True
    ids: bool = False  # the input is token ids: no input gradient
    layout: Callable[[str, np.ndarray], np.ndarray] = field(default=lambda name, a: a)
    twin_path: str | None = None  # where the twin keeps it, if not at ``path``

    @property
    def in_twin(self) -> str:
        return self.path if self.twin_path is None else self.twin_path


@dataclass
class Divergence:
    stage: Stage
    direction: str  # "forward" or "backward"
    item: str  # "output", "input gradient", "gradient of weight"
    shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    mismatch: Mismatch

    def __str__(self) -> str:
        m = self.mismatch
        index = np.unravel_index(int(np.argmax(m.abs_diff - m.allowed)), m.abs_diff.shape) \
            if m.abs_diff.size else ()
        given = "given torch's input" if self.direction == "forward" else \
            "given torch's output gradient"
        return (f"first differing module: {self.stage.path} ({self.stage.kind}), "
                f"{self.direction}: its {self.item} {self.shape} differs {given} "
                f"(input {self.input_shape}); worst |difference| "
                f"{float(np.max(m.abs_diff, initial=0.0)):.3g} at {tuple(int(i) for i in index)}:"
                f" target {float(np.asarray(m.actual)[index]):.6g}, torch "
                f"{float(np.asarray(m.expected)[index]):.6g}")


def first_divergence(model: Any, twin: Any, stages: Sequence[Stage], x: np.ndarray,
                     upstream: np.ndarray, tol: Tolerance, mask: Any = None
                     ) -> Divergence | None:
    """The first module of ``model`` (the target's) that differs from ``twin`` (run on ``x``
    with ``mask``, its output's gradient ``upstream``), forward first, then backward; None
    if every module agrees on its own."""
    tt = target.get()
    dtype = tt.compute_dtype()
    order, seen = twin_runs.record(twin, [s.in_twin for s in stages], x, upstream, mask)
    by_twin = {s.in_twin: s for s in stages}
    done = [by_twin[p] for p in dict.fromkeys(order)]  # each module once, first finish
    forward_order = [s for s in done if s.leaf] + [s for s in done if not s.leaf]
    backward_order = [s for s in reversed(done) if s.leaf] + \
        [s for s in reversed(done) if not s.leaf]

    def target_input(stage: Stage, array: np.ndarray, grad: bool) -> Any:
        if stage.ids:
            return tt.tensor(array.astype(np.float32))
        return tt.tensor(array.astype(dtype), requires_grad=grad)

    def alone(stage: Stage, inp: np.ndarray, grad_out: Any) -> tuple[np.ndarray, list]:
        return twin_runs.alone(twin, stage.in_twin, inp, stage.twin_mask, stage.ids,
                               stage.params, grad_out)

    for stage in forward_order:
        inp, _ = seen[stage.in_twin]
        want, _ = alone(stage, inp, None)
        got = tt.array(stage.call(resolve(model, stage.path), target_input(stage, inp, False)))
        m = Mismatch(got, want, tol)
        if got.shape != tuple(want.shape) or m.bad.any():
            return Divergence(stage, "forward", "output", want.shape, inp.shape, m)

    for stage in backward_order:
        inp, grad_out = seen[stage.in_twin]
        if grad_out is None:
            continue
        module = resolve(model, stage.path)
        params = [tt.param(module, name) for name in stage.params]
        for p in params:
            tt.set_grad(p, None)
        xt = target_input(stage, inp, True)
        tt.backward(stage.call(module, xt), grad_out.astype(dtype))
        _, wants = alone(stage, inp, grad_out)
        items = ([] if stage.ids else [("input gradient", tt.grad(xt))]) + \
            [(f"gradient of {name}", tt.grad(p)) for name, p in zip(stage.params, params)]
        for (item, got), want in zip(items, wants):
            if want is None:
                continue
            if item.startswith("gradient of "):
                want = stage.layout(item[len("gradient of "):], want)
            got = np.zeros(want.shape) if got is None else got
            m = Mismatch(got, want, tol)
            if got.shape != want.shape or m.bad.any():
                return Divergence(stage, "backward", item, want.shape, inp.shape, m)
    return None
