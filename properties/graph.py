"""Laws of the autograd engine itself, beyond any one op's derivative.

* **Cost**: a backward pass runs each node's backward exactly once. Checked on a chain of
  diamonds (every intermediate used twice) by counting calls on every node of the graph, not by
  timing: a recursive backward that pushes each path separately revisits shared subgraphs 2**d
  times and fails at the first revisit, with the node named.
* **Grad mode**: ``no_grad`` and ``enable_grad``, nested in any order and left normally or by an
  exception, restore the mode that was in force, and recording follows the mode.
* **Custom Functions**: a backward that returns too few gradients, or None for an input that
  needs one, is an error that says so, never a silently missing gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from properties import target
from properties.report import assert_close, fail, replayable
from properties.strategies import Sample
from properties.tolerances import tolerance_for

AUTOGRAD = "autograd"  # the component name in failure reports


class Revisited(AssertionError):
    """A node's backward ran a second time in one backward pass."""


def diamond_chain(x: Any, weights: np.ndarray) -> Any:
    """``h <- h * a_k + h * b_k`` for each row (a_k, b_k): h is used twice at every level, so
    the graph is a chain of diamonds and the number of paths doubles per level."""
    h = x
    for a, b in weights:
        h = h * float(a) + h * float(b)
    return h


def _nodes(tt: Any, out: Any) -> list[Any]:
    """Every node reachable from ``out`` (each once), in discovery order."""
    seen: dict[int, Any] = {}
    stack = [out]
    visited: set[int] = set()
    while stack:
        t = stack.pop()
        if id(t) in visited:
            continue
        visited.add(id(t))
        node = tt.graph_node(t)
        if node is None:
            continue
        seen[id(node)] = node
        stack.extend(tt.node_inputs(node))
    return list(seen.values())


@replayable
def check_each_node_runs_once(x: np.ndarray, weights: np.ndarray) -> None:
    """Backward through a diamond chain calls each node's backward once, and ``x.grad`` is
    ``prod(a_k + b_k)`` times the upstream gradient (a closed form: no oracle needed)."""
    tt = target.get()
    sample = Sample((x, weights), {"depth": len(weights)})
    xt = tt.tensor(x, requires_grad=True)
    out = diamond_chain(xt, weights)
    nodes = _nodes(tt, out)
    if not nodes:
        raise target.lacks("graph introspection (_ctx, _grad_fn or grad_fn on results)")
    calls: dict[int, int] = {}
    for depth, node in enumerate(nodes):
        name = tt.node_backward_name(node)
        method = getattr(node, name)

        def counted(*args: Any, _m: Any = method, _n: Any = node, _d: int = depth,
                    **kwargs: Any) -> Any:
            calls[id(_n)] = calls.get(id(_n), 0) + 1
            if calls[id(_n)] > 1:
                raise Revisited(f"node {type(_n).__name__} (#{_d} of {len(nodes)}, counted "
                                "from the output) ran its backward a second time")
            return _m(*args, **kwargs)

        setattr(node, name, counted)
    try:
        tt.backward(out, np.ones_like(x))
    except Revisited as e:
        fail(AUTOGRAD,
             "graph cost", "backward revisits shared subgraphs: each node must run once per "
             "backward pass (sum the gradients arriving from all consumers first)", sample,
             f"  {e}\n  a recursive backward costs 2**depth node visits on this graph; "
             f"depth here is {len(weights)}")
    missing = [type(n).__name__ for n in nodes if calls.get(id(n), 0) == 0]
    if missing:
        fail(AUTOGRAD,
             "graph cost", f"{len(missing)} of {len(nodes)} nodes never ran their backward",
             sample, f"  e.g. {missing[:3]}")
    want = np.prod(weights.sum(axis=1)) * np.ones_like(x, dtype=np.float64)
    assert_close(tt.grad(xt), want, tolerance_for(x.dtype), op_name="autograd",
                 check="diamond chain", sample=sample,
                 what="gradient through the diamond chain differs from prod(a_k + b_k)")


# ----------------------------------------------------------------------------- grad mode

CONTEXTS = ("no_grad", "enable_grad")


@replayable
def check_grad_mode_nesting(contexts: Sequence[str], raise_at: int | None) -> None:
    """Enter ``contexts`` nested in order (raising inside the one at ``raise_at``, if given):
    inside each, the mode is the context's and an op records exactly then; on leaving each
    (normally or by the exception), the mode in force before it is back."""
    tt = target.get()
    sample = Sample((), {"contexts": tuple(contexts), "raise_at": raise_at})
    x = tt.tensor(np.ones(2, dtype=tt.compute_dtype()), requires_grad=True)

    class Planted(Exception):
        pass

    def enter(level: int, outer_mode: bool) -> None:
        if level == len(contexts):
            return
        name = contexts[level]
        mode = name == "enable_grad"
        try:
            with getattr(tt, name)():
                enabled = tt.is_grad_enabled()
                if enabled is not mode:  # a bool, as torch's: not None, not 0
                    fail(AUTOGRAD, "grad mode", f"inside {' > '.join(contexts[:level + 1])}: "
                         f"is_grad_enabled() is {enabled!r}, torch's is {mode}", sample)
                recorded = bool((x * 2.0).requires_grad)
                if recorded != mode:
                    fail(AUTOGRAD, "grad mode", f"inside {' > '.join(contexts[:level + 1])}: "
                         f"an op's result has requires_grad={recorded}", sample)
                if level == raise_at:
                    raise Planted
                enter(level + 1, mode)
        except Planted:
            if level != raise_at:
                raise
        finally:
            enabled = tt.is_grad_enabled()
            if enabled is not outer_mode:
                how = "by an exception" if raise_at is not None and level >= raise_at \
                    else "normally"
                fail(AUTOGRAD, "grad mode", f"leaving {' > '.join(contexts[:level + 1])} {how} "
                     f"left is_grad_enabled()={enabled!r}; it was {outer_mode} before",
                     sample)

    enter(0, bool(tt.is_grad_enabled()))


# ----------------------------------------------------------------------------- custom Functions


@replayable
def check_custom_function_errors(x: np.ndarray, defect: str) -> None:
    """A custom two-input Function whose backward returns one gradient (``too_few``) or None
    for an input that requires grad (``none``): backward must raise an error naming the
    problem, not leave a gradient silently missing."""
    tt = target.get()
    sample = Sample((x, x), {"defect": defect})

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        return (g * 2,) if defect == "too_few" else (g * 2, None)

    f = tt.custom_function(lambda a, b: a * 2 + b, backward)
    a, b = tt.tensor(x, requires_grad=True), tt.tensor(x, requires_grad=True)
    try:
        tt.backward(f(a, b), np.ones_like(x))
    except Exception as e:  # noqa: BLE001 - any exception type; the message is what counts
        text = str(e).lower()
        if "grad" in text and any(w in text for w in ("input", "return", "expected", "none")):
            return
        fail(AUTOGRAD, "custom Function", f"backward raised {type(e).__name__}: {e!s:.200}, "
             "a message that names neither the gradients nor the inputs", sample)
    returned = ("one gradient for two inputs" if defect == "too_few"
                else "None for an input that requires grad")
    fail(AUTOGRAD, "custom Function", f"a backward that returns {returned} raised nothing "
         f"(a.grad={tt.grad(a)!r}, b.grad={tt.grad(b)!r})", sample)
