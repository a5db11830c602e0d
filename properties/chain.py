"""A harness-side ``Sequential`` for targets that have none (upstream composes layers by hand).

Upstream TinyTorch has no ``Sequential``, yet its ``Trainer`` takes any model with ``forward``
and ``parameters``. Chaining the target's own layers here lets the Trainer, accumulation,
checkpoint and Dropout properties reach such targets: every number is still computed by the
target's layers; this class only calls them in order and passes the training flag on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


class Chain:
    """Layers applied in order; ``training`` (set by ``train()``/``eval()`` or by a Trainer
    that assigns the attribute) reaches layers that take ``forward(x, training=...)``."""

    def __init__(self, tt: Any, layers: Sequence[Any]) -> None:
        self._tt = tt
        self.layers = list(layers)
        self.training = True

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = self._tt.call_layer(layer, x, self.training)
        return x

    def __call__(self, x: Any) -> Any:
        return self.forward(x)

    def parameters(self) -> list[Any]:
        return [p for _, p in self.named_parameters()]

    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        for i, layer in enumerate(self.layers):
            for attr in ("weight", "bias"):
                p = getattr(layer, attr, None)
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield f"layers.{i}.{attr}", p

    def state_dict(self) -> dict[str, Any]:
        """Copies of the parameter arrays by name (what a Trainer's checkpoint saves)."""
        return {name: self._tt.array(p).copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Write saved arrays into the parameters, in place (shapes must match)."""
        params = dict(self.named_parameters())
        if set(state) != set(params):
            raise KeyError(f"state has {sorted(state)}, the chain {sorted(params)}")
        for name, p in params.items():
            self._tt.array(p)[...] = state[name]

    def zero_grad(self) -> None:
        for p in self.parameters():
            self._tt.zero_grad(p)

    def train(self, mode: bool = True) -> Chain:
        self.training = bool(mode)
        return self

    def eval(self) -> Chain:
        return self.train(False)

    def __repr__(self) -> str:
        return f"Chain({', '.join(type(layer).__name__ for layer in self.layers)})"
