"""A plain torch training loop: the Trainer's twin.

Fed the same initial weights (a TinyTorch-style state dict), the same batches and the same
per-epoch learning rates, it does what a careful PyTorch user writes by hand: zero_grad, forward,
loss / k, backward, (every k micro-batches) clip, step. Its results are NumPy arrays in TinyTorch
naming and layout.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as tf

from oracles.autodiff import to_torch
from oracles.nn import sequential_twin, tinytorch_layout
from oracles.optim import buffers, make_optimizer

Batch = tuple[np.ndarray, np.ndarray]


def loss_value(name: str, out: torch.Tensor, y: np.ndarray) -> torch.Tensor:
    if name == "MSELoss":
        return tf.mse_loss(out, to_torch(y).to(out.dtype))
    if name == "CrossEntropyLoss":
        return tf.cross_entropy(out, torch.from_numpy(np.asarray(y, dtype=np.int64)))
    raise ValueError(f"no torch twin for loss {name!r}")


def tinytorch_state(model: torch.nn.Module, prefix: str = "layers") -> dict[str, np.ndarray]:
    """A torch Sequential's parameters named and laid out as TinyTorch's (weights transposed)."""
    out = {}
    for name, p in model.named_parameters():
        out[f"{prefix}.{name}"] = tinytorch_layout(name, p.detach().numpy().copy())
    return out


def train(layout: Sequence[str], state: Mapping[str, np.ndarray], optimizer: str,
          hyper: Mapping[str, Any], loss: str, epochs: Sequence[Sequence[Batch]],
          learning_rates: Sequence[float] | None = None, clip_norm: float | None = None,
          accumulation_steps: int = 1, dtype: str = "float64") -> dict[str, Any]:
    """Train for ``len(epochs)`` epochs; returns the per-epoch mean losses, the learning rate
    of each epoch and of each step, and the final parameters (TinyTorch naming). ``dtype``
    "float32" runs the same loop in float32 (how far it lands from float64 measures how much
    float32 rounding this trajectory amplifies)."""
    torch_dtype = getattr(torch, dtype)
    model = sequential_twin(layout, state).to(torch_dtype)
    opt = make_optimizer(optimizer, model.parameters(), hyper)
    history: dict[str, Any] = {"train_loss": [], "learning_rates": [], "step_lrs": []}

    def step() -> None:
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        history["step_lrs"].append(opt.param_groups[0]["lr"])
        opt.step()
        opt.zero_grad()

    for e, batches in enumerate(epochs):
        if learning_rates is not None:
            for group in opt.param_groups:
                group["lr"] = learning_rates[e]
        model.train()
        opt.zero_grad()
        losses, pending = [], 0
        for x, y in batches:
            value = loss_value(loss, model(to_torch(x).to(torch_dtype)), y)
            (value / accumulation_steps).backward()
            losses.append(value.item())
            pending += 1
            if pending == accumulation_steps:
                step()
                pending = 0
        if pending:
            step()
        history["train_loss"].append(float(np.mean(losses)))
        history["learning_rates"].append(opt.param_groups[0]["lr"])
    history["params"] = tinytorch_state(model)
    return history


class LockstepTwin:
    """A torch model + optimizer + cosine scheduler driven call by call (for stateful tests),
    reporting its state in TinyTorch's naming and layout."""

    def __init__(self, layout: Sequence[str], state: Mapping[str, np.ndarray], optimizer: str,
                 hyper: Mapping[str, Any], total_epochs: int, min_lr: float) -> None:
        self.model = sequential_twin(layout, state)
        self.params = list(self.model.parameters())
        self.names = list(tinytorch_state(self.model))
        self.optimizer = make_optimizer(optimizer, self.params, hyper)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=total_epochs, eta_min=min_lr)

    def forward_backward(self, x: np.ndarray, y: np.ndarray) -> None:
        tf.mse_loss(self.model(to_torch(x)), to_torch(y)).backward()

    def zero_grad(self, set_to_none: bool) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.optimizer.step()

    def clip(self, max_norm: float) -> float | None:
        if all(p.grad is None for p in self.params):
            return None
        return torch.nn.utils.clip_grad_norm_(self.params, max_norm).item()

    def scheduler_step(self) -> None:
        with warnings.catch_warnings():  # any call order is legal in a stateful interleaving
            warnings.simplefilter("ignore", UserWarning)
            self.scheduler.step()

    def drop_grads(self) -> None:
        for p in self.params:
            p.grad = None

    def train(self, mode: bool) -> None:
        self.model.train(mode)

    @property
    def training(self) -> bool:
        return self.model.training

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state(self) -> dict[str, np.ndarray]:
        return tinytorch_state(self.model)

    def grads(self) -> dict[str, np.ndarray | None]:
        return {name: None if p.grad is None else tinytorch_layout(name, p.grad.numpy().copy())
                for name, p in zip(self.names, self.params)}

    def buffers(self) -> dict[int, dict[str, Any]]:
        """Optimizer state as {param index: {buffer name: array or int step}}."""
        out: dict[int, dict[str, Any]] = {}
        for i, (param, p) in enumerate(zip(self.names, self.params)):
            state = buffers(self.optimizer, p)
            if state:
                out[i] = {k: tinytorch_layout(param, v) if isinstance(v, np.ndarray) else v
                          for k, v in state.items()}
        return out


def evaluate(layout: Sequence[str], state: Mapping[str, np.ndarray], loss: str,
             batches: Sequence[Batch]) -> tuple[float, float | None]:
    """The Trainer's evaluate() by hand: the mean of the per-batch losses, and for class targets
    (2-D outputs with several columns, 1-D targets) the fraction of argmax hits over all
    samples; None otherwise."""
    model = sequential_twin(layout, state).to(torch.float64).eval()
    losses, correct, seen = [], 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(to_torch(x).to(torch.float64))
            losses.append(loss_value(loss, out, y).item())
            y = np.asarray(y)
            if out.ndim == 2 and out.shape[1] > 1 and y.ndim == 1:
                correct += int((out.argmax(dim=1).numpy() == y).sum())
                seen += len(y)
    return float(np.mean(losses)), (correct / seen if seen else None)
