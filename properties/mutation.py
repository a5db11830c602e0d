"""Mutation machinery: declare a mutant, apply it, undo it.

A mutant is a named, documented bug: one or more patches ``"module.Attr.path" ->
factory(original) -> replacement``, where ``module`` is a ``<target>.core`` module of the
reference ``tinytorch`` (reached through the target adapter). Its ``component`` says which tests
guard that code (``op:div`` is the registry entries matching ``div``; see
:data:`properties.mutate.COMPONENT_TESTS`), so the runner tries those first. The catalogs
(``mutants_*.py``) declare mutants with :func:`mutant`; :mod:`properties.mutants` imports them
all. Patches are undone by :func:`applied`'s exit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from properties import target

MUTANT_ENV = "TINYTORCH_MUTANT"
EXAMPLES_LOG_ENV = "TINYTORCH_EXAMPLES_LOG"  # where plugins/examples_log.py writes
Factory = Callable[[Any], Any]


@dataclass(frozen=True)
class Mutant:
    name: str
    component: str
    bug: str
    patches: dict[str, Factory]


CATALOG: dict[str, Mutant] = {}
_ACTIVE: list[contextlib.AbstractContextManager[Mutant]] = []  # held so they are never undone


def mutant(name: str, component: str, bug: str, **patches: Factory) -> None:
    """Declare a mutant; keyword names are patch paths with ``__`` for dots (or dotted paths
    passed as ``**{"activations.GELU.__init__": ...}``, for dunder attributes)."""
    assert name not in CATALOG, f"duplicate mutant {name}"
    CATALOG[name] = Mutant(name, component, bug,  # a dotted key is a path as it is
                           {k if "." in k else k.replace("__", "."): f
                            for k, f in patches.items()})


def _resolve(path: str) -> tuple[Any, str]:
    module, *attrs = path.split(".")
    owner: Any = target.get().module(module)
    for attr in attrs[:-1]:
        owner = getattr(owner, attr)
    return owner, attrs[-1]


@contextlib.contextmanager
def applied(name: str) -> Iterator[Mutant]:
    """Apply a mutant for the duration of the block, then restore every original."""
    m = CATALOG[name]
    saved = []
    try:
        for path, factory in m.patches.items():
            owner, attr = _resolve(path)
            original = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)
            saved.append((owner, attr, original))
            setattr(owner, attr, factory(original))
        yield m
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


def activate(name: str) -> None:
    """Apply a mutant for the rest of the process (what conftest does under the runner)."""
    if name not in CATALOG:
        raise KeyError(f"{MUTANT_ENV}={name!r}: no such mutant (see properties/mutants_*.py)")
    if not target.is_reference():
        raise RuntimeError("mutants patch the reference tinytorch; the target is "
                           f"{target.get().name!r}")
    context = applied(name)
    context.__enter__()
    _ACTIVE.append(context)


def active() -> tuple[str, ...]:
    """The mutants this process runs under: ``TINYTORCH_MUTANT`` names one, or several
    separated by commas (bugs planted together, each found by its own tests)."""
    return tuple(n.strip() for n in os.environ.get(MUTANT_ENV, "").split(",") if n.strip())


def module(name: str) -> Any:
    """The target's ``core.<name>`` module, looked up when a patch runs."""
    return target.get().module(name)
