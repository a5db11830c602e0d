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
import torch

from properties import target
from properties.report import Mismatch
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
    twin_call: Callable[[Any, torch.Tensor], torch.Tensor] = lambda module, x: module(x)
    leaf: bool = True
    ids: bool = False  # the input is token ids: no input gradient
    layout: Callable[[str, np.ndarray], np.ndarray] = field(default=lambda name, a: a)


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


def resolve(model: Any, path: str) -> Any:
    """``model.blocks[1].ln1`` for ``blocks.1.ln1`` (attributes and list indices)."""
    for part in path.split("."):
        model = model[int(part)] if part.isdigit() else getattr(model, part)
    return model


def record(twin: torch.nn.Module, stages: Sequence[Stage], run: Callable[[], torch.Tensor],
           upstream: np.ndarray) -> tuple[list[str], dict[str, tuple[torch.Tensor, Any]]]:
    """Run the twin with hooks; returns the order in which the staged modules finished and,
    per module, (its input, its output gradient)."""
    order: list[str] = []
    seen: dict[str, Any] = {}
    handles = []
    for stage in stages:
        def hook(module: Any, args: Any, output: torch.Tensor, path: str = stage.path) -> None:
            order.append(path)
            if output.requires_grad:
                output.retain_grad()
            seen[path] = (args[0].detach().clone(), output)

        handles.append(twin.get_submodule(stage.path).register_forward_hook(hook))
    try:
        out = run()
        out.backward(torch.from_numpy(np.asarray(upstream, dtype=np.float64)))
    finally:
        for h in handles:
            h.remove()
    return order, {path: (inp, None if out.grad is None else out.grad.detach().clone())
                   for path, (inp, out) in seen.items()}


def _twin_alone(stage: Stage, twin: torch.nn.Module, x: torch.Tensor,
                grad_out: torch.Tensor | None) -> tuple[torch.Tensor, list[Any]]:
    module = twin.get_submodule(stage.path)
    x = x.clone().requires_grad_(not stage.ids)
    out = stage.twin_call(module, x)
    if grad_out is None:
        return out.detach(), []
    params = [getattr(module, name) for name in stage.params]
    leaves = ([x] if not stage.ids else []) + params
    grads = torch.autograd.grad(out, leaves, grad_out, allow_unused=True) if leaves else []
    return out.detach(), [None if g is None else g.numpy() for g in grads]


def first_divergence(model: Any, twin: torch.nn.Module, stages: Sequence[Stage],
                     run_twin: Callable[[], torch.Tensor], upstream: np.ndarray,
                     tol: Tolerance) -> Divergence | None:
    """The first module of ``model`` (the target's) that differs from its twin, forward
    first, then backward; None if every module agrees on its own."""
    tt = target.get()
    dtype = tt.compute_dtype()
    order, seen = record(twin, stages, run_twin, upstream)
    by_path = {s.path: s for s in stages}
    done = [by_path[p] for p in dict.fromkeys(order)]  # each module once, first finish
    forward_order = [s for s in done if s.leaf] + [s for s in done if not s.leaf]
    backward_order = [s for s in reversed(done) if s.leaf] + \
        [s for s in reversed(done) if not s.leaf]

    def target_input(stage: Stage, x: torch.Tensor, grad: bool) -> Any:
        array = x.numpy()
        if stage.ids:
            return tt.tensor(array.astype(np.float32))
        return tt.tensor(array.astype(dtype), requires_grad=grad)

    for stage in forward_order:
        x, _ = seen[stage.path]
        want, _ = _twin_alone(stage, twin, x, None)
        got = tt.array(stage.call(resolve(model, stage.path), target_input(stage, x, False)))
        m = Mismatch(got, want.numpy(), tol)
        if got.shape != tuple(want.shape) or m.bad.any():
            return Divergence(stage, "forward", "output", tuple(want.shape), tuple(x.shape), m)

    for stage in backward_order:
        x, grad_out = seen[stage.path]
        if grad_out is None:
            continue
        module = resolve(model, stage.path)
        params = [tt.param(module, name) for name in stage.params]
        for p in params:
            tt.set_grad(p, None)
        xt = target_input(stage, x, True)
        tt.backward(stage.call(module, xt), grad_out.numpy().astype(dtype))
        _, wants = _twin_alone(stage, twin, x, grad_out)
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
                return Divergence(stage, "backward", item, tuple(want.shape), tuple(x.shape), m)
    return None
