"""Layers: the ``Module`` base (parameters, train/eval, state dicts), Linear, Sequential, Dropout.

Parameters are found by walking attributes, in the order they were set: a tensor with
``requires_grad=True`` is a parameter, a ``Module`` (or a list/tuple of them) is a child.
``Linear.weight`` has upstream TinyTorch's layout, (in_features, out_features): ``y = x @ W + b``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor


class LinearFunction(Function):
    """``x @ weight (+ bias)`` as one node; an input that does not require grad gets no
    gradient computed. The products keep ``x``'s batch dims: NumPy runs one GEMM per leading
    index, each small enough that BLAS runs it on one thread (a multi-threaded GEMM is
    faster on an idle machine, but many times slower when another process holds a core);
    the weight's gradient sums the per-index products."""

    def forward(self, x: np.ndarray, weight: np.ndarray, *bias: np.ndarray) -> np.ndarray:
        self.x, self.weight = x, weight
        out = np.matmul(x, weight)
        if bias:
            if np.result_type(out, bias[0]) == out.dtype:
                out += bias[0]  # a fresh array: add in place
            else:
                out = out + bias[0]
        return out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        wants = [t.requires_grad for t in self.inputs]
        x = self.x
        grad_x = np.matmul(grad, self.weight.T) if wants[0] else None
        grad_w = None
        if wants[1]:
            if x.ndim == 1:
                grad_w = np.multiply.outer(x, grad)
            else:
                grad_w = np.matmul(np.swapaxes(x, -1, -2), grad)
                if grad_w.ndim > 2:
                    grad_w = grad_w.sum(axis=tuple(range(grad_w.ndim - 2)))
        if len(wants) == 2:
            return grad_x, grad_w
        grad_b = grad.reshape(-1, grad.shape[-1]).sum(axis=0) if wants[2] else None
        return grad_x, grad_w, grad_b


class Module:
    """Base class: subclasses set parameters/children as attributes and define ``forward``."""

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ traversal
    def _children(self) -> Iterator[tuple[str, Any]]:
        for name, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    yield f"{name}.{i}", item
            else:
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        for name, value in self._named_parameters(prefix):
            if id(value) not in seen:  # a shared parameter is listed once
                seen.add(id(value))
                yield name, value

    def _named_parameters(self, prefix: str) -> Iterator[tuple[str, Tensor]]:
        for name, value in self._children():
            if isinstance(value, Tensor) and value.requires_grad:
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value._named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Tensor]:
        return [p for _, p in self.named_parameters()]

    # Arrays that are state but not parameters (BatchNorm's running statistics): saved and
    # loaded with the parameters, never trained. A subclass lists their attribute names.
    buffer_names: tuple[str, ...] = ()

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Module, str]]:
        """(dotted name, owning module, attribute) of every buffer below this module."""
        for name in self.buffer_names:
            yield prefix + name, self, name
        for name, value in self._children():
            if isinstance(value, Module):
                yield from value.named_buffers(f"{prefix}{name}.")

    def modules(self) -> Iterator[Module]:
        yield self
        for _, value in self._children():
            if isinstance(value, Module):
                yield from value.modules()

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's and buffer's array, keyed by its dotted name (as
        torch's: ``bn.running_mean`` beside ``bn.weight``)."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update({name: np.array(getattr(owner, attr))
                      for name, owner, attr in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters and buffers, after checking every name and shape
        first (a failed load changes nothing)."""
        params = dict(self.named_parameters())
        buffers = {name: (owner, attr) for name, owner, attr in self.named_buffers()}
        current = {**{n: p.data for n, p in params.items()},
                   **{n: np.asarray(getattr(o, a)) for n, (o, a) in buffers.items()}}
        missing = sorted(set(current) - set(state))
        unexpected = sorted(set(state) - set(current))
        if missing or unexpected:
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        arrays = {}
        for name, now in current.items():
            value = state[name].data if isinstance(state[name], Tensor) else state[name]
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"load_state_dict: {name} holds dtype {array.dtype}, not numbers")
            if array.shape != now.shape:
                raise ValueError(
                    f"load_state_dict: {name} has shape {array.shape}, the model expects "
                    f"{now.shape}"
                )
            arrays[name] = array.astype(now.dtype, copy=True)
        for name, p in params.items():  # only now that every entry is known to fit
            p.data = arrays[name]
        for name, (owner, attr) in buffers.items():
            setattr(owner, attr, arrays[name])


class Linear(Module):
    """``y = x @ weight + bias`` with ``weight`` of shape (in_features, out_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        for size in (in_features, out_features):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                raise TypeError(
                    f"Linear({in_features!r}, {out_features!r}): sizes must be integers"
                )
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear({in_features}, {out_features}): sizes must be positive")
        self.in_features, self.out_features = in_features, out_features
        scale = np.sqrt(1.0 / in_features)
        self.weight = Tensor(
            np.random.uniform(-scale, scale, (in_features, out_features)).astype(np.float32),
            requires_grad=True,
        )
        self.bias = (
            Tensor(np.random.uniform(-scale, scale, out_features).astype(np.float32),
                   requires_grad=True)
            if bias
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}) expects input whose last "
                f"dimension is {self.in_features}, got shape {x.shape}"
            )
        if not isinstance(x, Tensor):  # an array, as ``array @ weight`` would take it
            x = self.weight._lift(x)
        if self.bias is None:
            return LinearFunction.apply(x, self.weight)
        return LinearFunction.apply(x, self.weight, self.bias)


class Sequential(Module):
    """Layers applied in order; a layer may be a Module or any callable (e.g. an activation)."""

    def __init__(self, *layers: Any) -> None:  # Sequential(a, b), as torch's (no list form)
        self.layers = list(layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Any:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


class Dropout(Module):
    """Zero each element with probability ``p`` while training, scaling survivors by 1/(1-p).

    In eval mode (or with ``p == 0``) it is the identity, so evaluation is deterministic.
    """

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * np.zeros(x.shape, dtype=x.dtype)
        keep = (np.random.random(x.shape) >= self.p).astype(x.dtype)
        return x * (keep / np.asarray(1.0 - self.p, dtype=x.dtype))


# Upstream's name for the base class of layers (module 03); the same class here.
Layer = Module
