"""Running a torch twin module by module, for the divergence report: hooks record what each
named module received (its input) and what came back to it (its output gradient); then one
module is run alone on those. NumPy in, NumPy out, so callers stay free of torch.

A module's call is ``module(x)``, or with a mask: ``"causal"`` (True where key <= query) or
a boolean array (True where a query may attend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from oracles.autodiff import to_torch
from oracles.models import causal

Mask = Any  # None, "causal", or a boolean ndarray


def _call(module: torch.nn.Module, x: torch.Tensor, mask: Mask) -> torch.Tensor:
    if mask is None:
        return module(x)
    allowed = causal(x.shape[1]) if isinstance(mask, str) else torch.from_numpy(
        np.asarray(mask, dtype=bool))
    return module(x, allowed)


def output_and_grads(twin: torch.nn.Module, x: np.ndarray, upstream: np.ndarray,
                     names: Sequence[str], mask: Mask = None) -> tuple[np.ndarray, dict]:
    """The twin's output for ``x`` and, after backward of ``upstream``, each named
    parameter's gradient (zeros where none arrived)."""
    twin.zero_grad()
    out = _call(twin, to_torch(x), mask)
    out.backward(to_torch(upstream))
    params = dict(twin.named_parameters())
    return out.detach().numpy(), {n: (np.zeros(tuple(params[n].shape)) if params[n].grad is None
                                      else params[n].grad.numpy().copy()) for n in names}


def record(twin: torch.nn.Module, paths: Sequence[str], x: np.ndarray, upstream: np.ndarray,
           mask: Mask = None) -> tuple[list[str], dict[str, tuple[np.ndarray, Any]]]:
    """Run the twin on ``x`` with hooks on the modules at ``paths``; returns the order in
    which they finished and, per path, (its input, its output gradient or None)."""
    order: list[str] = []
    seen: dict[str, Any] = {}
    handles = []
    for path in paths:
        def hook(module: Any, args: Any, output: torch.Tensor, path: str = path) -> None:
            order.append(path)
            if output.requires_grad:
                output.retain_grad()
            seen[path] = (args[0].detach().clone(), output)

        handles.append(twin.get_submodule(path).register_forward_hook(hook))
    try:
        twin.zero_grad()
        out = _call(twin, to_torch(x), mask)
        out.backward(to_torch(upstream))
    finally:
        for h in handles:
            h.remove()
    return order, {path: (inp.numpy(), None if out.grad is None else out.grad.numpy().copy())
                   for path, (inp, out) in seen.items()}


def alone(twin: torch.nn.Module, path: str, x: np.ndarray, mask: Mask, ids: bool,
          params: Sequence[str], grad_out: np.ndarray | None
          ) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """One module of the twin on ``x``: its output and, given ``grad_out``, the gradients of
    its input (unless ``ids``) and of its ``params``."""
    module = twin.get_submodule(path)
    inp = to_torch(x)
    if not ids:
        inp.requires_grad_(True)
    out = _call(module, inp, mask)
    if grad_out is None:
        return out.detach().numpy(), []
    leaves = ([] if ids else [inp]) + [getattr(module, name) for name in params]
    grads = torch.autograd.grad(out, leaves, to_torch(grad_out), allow_unused=True) \
        if leaves else []
    return out.detach().numpy(), [None if g is None else g.numpy() for g in grads]


class WithMSE(torch.nn.Module):
    """``mse_loss(net(x), targets)`` as a module (shape (1,)): the net's modules sit under
    ``net.``, so a twin MLP and its loss are recorded in one run."""

    def __init__(self, net: torch.nn.Module, targets: np.ndarray) -> None:
        super().__init__()
        self.net, self.targets = net, to_torch(targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(self.net(x), self.targets).reshape(1)


def float32_pass(twin: torch.nn.Module, x: np.ndarray, upstream: np.ndarray) -> Any:
    """A closure running the twin forward and backward in float32 (for benchmarks: torch's
    time on the same model, next to the target's)."""
    twin = twin.float()
    inp = torch.from_numpy(np.array(x))
    inp = inp.float() if inp.is_floating_point() else inp.long()
    grad = torch.from_numpy(np.asarray(upstream, dtype=np.float32))

    def run() -> None:
        twin(inp).backward(grad)

    return run
