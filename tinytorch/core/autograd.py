"""Reverse-mode automatic differentiation: graph nodes, grad mode, and the backward engine.

Every differentiable operation is a :class:`Function`. Its ``forward`` works on NumPy arrays and
keeps what ``backward`` will need; ``backward`` maps the gradient of the output to one gradient
per input. :meth:`Function.apply` wires a node into the graph only when some input requires a
gradient and grad mode is on, so ``no_grad`` costs nothing and records nothing.

The engine (:func:`run_backward`) visits each node exactly once, in reverse topological order,
found iteratively: cost is linear in graph size and a 10 000-op chain does not touch Python's
recursion limit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

_mode = threading.local()


def enable_autograd(quiet: bool = False) -> None:
    """Upstream's switch that patches autograd into its Tensor after module 05. Here the
    Tensor records its graph from the start, so there is nothing to enable; the name exists
    so that code written against upstream's API runs unchanged."""
    return None


def is_grad_enabled() -> bool:
    """Whether new operations are recorded for backward (``True`` unless inside ``no_grad``)."""
    return getattr(_mode, "enabled", True)


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous = is_grad_enabled()
    _mode.enabled = enabled
    try:
        yield
    finally:
        _mode.enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager under which results never require grad and no graph is kept."""
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that turns recording back on (e.g. inside ``no_grad``)."""
    return _grad_mode(True)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along its size-1 axes, so the
    gradient must be summed over exactly those axes, or it has the wrong shape (or worse, the
    right shape by luck and the wrong values).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(extra + i for i, n in enumerate(shape) if n == 1)
    return grad.sum(axis=tuple(range(extra)) + stretched).reshape(shape)


class Function:
    """A node of the autograd graph: one operation, its saved context, and its derivative.

    Subclasses implement ``forward(*arrays) -> array`` and ``backward(grad) -> tuple`` with one
    entry per input (``None`` for inputs that take no gradient). Keyword arguments given to
    :meth:`apply` are the operation's non-differentiable parameters (an axis, an exponent, ...).
    """

    inputs: tuple[Any, ...]  # set by apply() when the node joins a graph, read by backward

    def __init__(self, **params: Any) -> None:
        self.params = params

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run ``forward`` on the inputs' arrays and return a tensor of the inputs' class.

        The output class is taken from the first input, so this module never imports
        ``tensor`` (which depends on it).
        """
        node = cls(**params)
        out = node.forward(*(t.data for t in inputs))
        tensor_cls = type(inputs[0])
        needs_grad = is_grad_enabled() and any(t.requires_grad for t in inputs)
        result = tensor_cls._wrap(np.asarray(out), requires_grad=needs_grad)
        if needs_grad:
            node.inputs = inputs
            result._ctx = node
        return result


def topological_order(root: Any) -> list[Any]:
    """Tensors reachable from ``root`` through recorded nodes, each after all its inputs.

    Iterative depth-first search with an explicit stack: deep graphs must not hit the
    interpreter's recursion limit.
    """
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor._ctx is not None:
            for parent in tensor._ctx.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def accumulate_leaf_grad(leaf: Any, grad: np.ndarray) -> None:
    """Add ``grad`` into ``leaf.grad`` (``grad +=``): gradients of several backward calls sum.

    A fresh array is built rather than updated in place, so a ``p.grad.data`` a caller kept
    from an earlier step does not change under their feet.
    """
    grad = np.asarray(grad, dtype=leaf.data.dtype)
    if leaf.grad is None:
        leaf.grad = type(leaf)._wrap(grad.copy())
    else:
        leaf.grad = type(leaf)._wrap(leaf.grad.data + grad)


def _checked(node: Function, grads: Any) -> tuple[Any, ...]:
    """A node's gradients, one per input, or an error that says which backward is wrong."""
    name = type(node).__name__
    if not isinstance(grads, (tuple, list)):
        raise RuntimeError(f"{name}.backward must return a tuple of gradients, one per input; "
                           f"it returned a {type(grads).__name__}")
    if len(grads) != len(node.inputs):
        raise RuntimeError(f"{name}.backward returned {len(grads)} gradient(s) for "
                           f"{len(node.inputs)} inputs: return one per input (None for an "
                           "input that takes no gradient)")
    for i, (parent, g) in enumerate(zip(node.inputs, grads)):
        if g is None and parent.requires_grad:
            raise RuntimeError(f"{name}.backward returned None for input {i}, which requires "
                               "grad: return its gradient (zeros if it has no influence)")
    return tuple(grads)


def run_backward(root: Any, grad: np.ndarray) -> None:
    """Propagate ``grad`` (d out / d root) to every leaf reachable from ``root``.

    Gradients arriving at a tensor from several consumers are summed before its own node runs,
    so each node's ``backward`` is called once per backward pass.
    """
    pending: dict[int, np.ndarray] = {id(root): grad}
    for tensor in reversed(topological_order(root)):
        # Every tensor in the order has its gradient by now: its consumers all came first, and
        # a consumer's backward gives each input that requires grad a gradient (_checked).
        g = pending.pop(id(tensor))
        node = tensor._ctx
        if node is None:
            accumulate_leaf_grad(tensor, g)
            continue
        input_grads = _checked(node, node.backward(g))
        for parent, parent_grad in zip(node.inputs, input_grads):
            if not parent.requires_grad:  # one that does has a gradient (_checked)
                continue
            key = id(parent)
            pending[key] = pending[key] + parent_grad if key in pending else parent_grad
