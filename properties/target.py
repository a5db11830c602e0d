"""The one door to the implementation under test.

Everything in ``properties`` and ``tests`` reaches TinyTorch through :func:`get`. The target is
the package named by the ``TINYTORCH_TARGET`` environment variable (or pytest's
``--tinytorch-target``), ``tinytorch`` by default. It must follow upstream TinyTorch's module
layout: ``<pkg>.core.tensor``, ``.core.autograd``, ``.core.activations``, ``.core.layers``,
``.core.losses``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

TARGET_ENV = "TINYTORCH_TARGET"
DEFAULT_TARGET = "tinytorch"
CORE_MODULES = ("tensor", "autograd", "activations", "layers", "losses")


@dataclass(frozen=True)
class Target:
    """A TinyTorch-API package and the few conversions the harness needs from it."""

    name: str
    package: ModuleType
    tensor_module: ModuleType
    autograd: ModuleType
    activations: ModuleType
    layers: ModuleType
    losses: ModuleType

    @property
    def Tensor(self) -> type:  # noqa: N802 - mirrors the API name
        return self.tensor_module.Tensor

    def tensor(self, array: Any, requires_grad: bool = False) -> Any:
        """A target tensor holding ``array``, its floating dtype kept (others: the default)."""
        array = np.asarray(array)
        if array.dtype.kind != "f":
            return self.Tensor(array, requires_grad=requires_grad)
        return self.Tensor(array, requires_grad=requires_grad, dtype=array.dtype)

    @staticmethod
    def array(t: Any) -> np.ndarray:
        """The NumPy array behind a target tensor (or a plain array)."""
        return np.asarray(getattr(t, "data", t))

    @staticmethod
    def grad(t: Any) -> np.ndarray | None:
        """``t.grad`` as an array (``None`` when no gradient has arrived)."""
        g = getattr(t, "grad", None)
        return None if g is None else np.asarray(getattr(g, "data", g))

    def module(self, name: str) -> ModuleType:
        """``<target>.core.<name>``, e.g. ``module("functions")`` (used by mutants)."""
        return importlib.import_module(f"{self.name}.core.{name}")

    def no_grad(self) -> contextlib.AbstractContextManager[Any]:
        return self.autograd.no_grad()

    def with_params(self, module: Any, **params: Any) -> Any:
        """Replace a module's parameters by the given target tensors (e.g. weight=, bias=)."""
        for name, value in params.items():
            setattr(module, name, value)
        return module


def load(name: str) -> Target:
    core = {m: importlib.import_module(f"{name}.core.{m}") for m in CORE_MODULES}
    return Target(
        name=name,
        package=importlib.import_module(name),
        tensor_module=core["tensor"],
        autograd=core["autograd"],
        activations=core["activations"],
        layers=core["layers"],
        losses=core["losses"],
    )


@functools.cache
def get() -> Target:
    """The target under test (imported once per process)."""
    return load(os.environ.get(TARGET_ENV, DEFAULT_TARGET))


def is_reference() -> bool:
    """Whether the target is this repository's own ``tinytorch`` (mutants patch only that)."""
    return get().name == DEFAULT_TARGET
