"""Torch twins of the optimizers: ``torch.optim`` run on NumPy arrays, results as NumPy arrays.

Parameters are leaf tensors built from the given arrays, in their dtype (float64 unless the
target computes in float32); gradients are assigned to
``.grad`` directly (``None`` allowed), so no model or loss is involved: the optimizer alone is
under test. Every optimizer uses the single-tensor code path (``foreach=False``), the one
TinyTorch's arithmetic follows. Buffers are reported under torch's own names, the step count
(a float tensor in torch) as an int.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

KINDS = ("SGD", "Adam", "AdamW")

Grad = np.ndarray | None


def make_optimizer(kind: str, params: Sequence[torch.Tensor],
                   hyper: Mapping[str, Any]) -> torch.optim.Optimizer:
    """``torch.optim.<kind>(params, foreach=False, **hyper)``; ``betas`` may be a list."""
    if kind not in KINDS:
        raise ValueError(f"no torch twin for optimizer {kind!r} (known: {KINDS})")
    hyper = dict(hyper)
    if "betas" in hyper:
        hyper["betas"] = tuple(float(b) for b in hyper["betas"])
    return getattr(torch.optim, kind)(list(params), foreach=False, **hyper)


def _float(a: Any) -> np.ndarray:
    a = np.array(a)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def parameters(initial: Sequence[np.ndarray]) -> list[torch.Tensor]:
    """Leaf tensors holding copies of ``initial`` (float32 stays float32, else float64)."""
    return [torch.tensor(_float(a), requires_grad=True) for a in initial]


def buffers(opt: torch.optim.Optimizer, p: torch.Tensor) -> dict[str, Any]:
    """The optimizer state of ``p``: arrays (copies) by buffer name, ``step`` as an int.

    A parameter that never had a gradient has no state: an empty dict (torch's ``state`` is a
    defaultdict, read here without creating an entry).
    """
    out: dict[str, Any] = {}
    for name, value in opt.state.get(p, {}).items():
        if value is None:
            continue
        if name == "step":
            out[name] = int(value.item() if isinstance(value, torch.Tensor) else value)
        elif isinstance(value, torch.Tensor):
            out[name] = value.detach().numpy().copy()
        else:
            out[name] = value
    return out


def run_optimizer(kind: str, hyper: Mapping[str, Any], initial: Sequence[np.ndarray],
                  grads: Sequence[Sequence[Grad]],
                  lrs: Sequence[float] | None = None) -> list[dict[str, Any]]:
    """Step ``torch.optim.<kind>`` once per entry of ``grads``.

    ``grads[k][i]`` is parameter ``i``'s gradient at step ``k`` (``None``: no gradient, so torch
    skips that parameter). ``lrs[k]``, if given, is written to the learning rate before step
    ``k`` (what a schedule does). Returns, after every step,
    ``{"params": [array per parameter], "state": [buffers(...) per parameter]}``.
    """
    params = parameters(initial)
    opt = make_optimizer(kind, params, hyper)
    history = []
    for k, step_grads in enumerate(grads):
        if len(step_grads) != len(params):
            raise ValueError(f"step {k}: {len(step_grads)} gradients for {len(params)} params")
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = float(lrs[k])
        for p, g in zip(params, step_grads):
            dtype = p.detach().numpy().dtype
            p.grad = None if g is None else torch.tensor(np.array(g, dtype=dtype))
        opt.step()
        history.append({
            "params": [p.detach().numpy().copy() for p in params],
            "state": [buffers(opt, p) for p in params],
        })
    return history


def run_grad_ops(initial: Sequence[np.ndarray],
                 ops: Sequence[tuple[str, Any]]) -> list[list[Grad]]:
    """Backward passes and ``zero_grad`` calls on float64 parameters, as a training loop does.

    ``ops`` holds ``("backward", [u_i or None per parameter])``, a backward pass of
    ``sum_i sum(p_i * u_i)`` over the parameters whose ``u_i`` is given (so ``u_i`` arrives in
    ``p_i.grad`` and the other parameters receive nothing), and ``("zero_grad", set_to_none)``,
    ``torch.optim.SGD(...).zero_grad(set_to_none)``. Returns every parameter's ``.grad`` (a
    copy, or None) after each op.
    """
    params = parameters(initial)
    opt = torch.optim.SGD(params, lr=0.1, foreach=False)
    history = []
    for op, arg in ops:
        if op == "backward":
            terms = [(p * torch.from_numpy(np.array(u, dtype=p.detach().numpy().dtype))).sum()
                     for p, u in zip(params, arg) if u is not None]
            if not terms:
                raise ValueError("a backward op needs at least one upstream gradient")
            torch.stack(terms).sum().backward()
        elif op == "zero_grad":
            opt.zero_grad(set_to_none=bool(arg))
        else:
            raise ValueError(f"unknown op {op!r} (expected 'backward' or 'zero_grad')")
        history.append([None if p.grad is None else p.grad.detach().numpy().copy()
                        for p in params])
    return history
