"""The differentiable tensor operations: one :class:`Function` per op, forward and backward.

Each class keeps only what its backward needs. Binary elementwise ops broadcast like NumPy and
reduce their gradients back to each input's shape with :func:`unbroadcast`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.autograd import Function, unbroadcast

# ----------------------------------------------------------------------------- elementwise


class Add(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


class Sub(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return unbroadcast(grad, self.shapes[0]), unbroadcast(-grad, self.shapes[1])


class Mul(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return a * b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return unbroadcast(grad * self.b, self.a.shape), unbroadcast(grad * self.a, self.b.shape)


class Div(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return a / b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.a, self.b
        return unbroadcast(grad / b, a.shape), unbroadcast(-grad * a / (b * b), b.shape)


class Neg(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return -a

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (-grad,)


class Pow(Function):
    """``a ** exponent`` for a constant (non-tensor) exponent."""

    def forward(self, a: np.ndarray) -> np.ndarray:
        self.a = a
        return a ** self.params["exponent"]

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        p = self.params["exponent"]
        if p == 0:  # constant 1: gradient 0 everywhere (0 * 0 ** -1 would be NaN at x = 0)
            return (np.zeros_like(grad),)
        return (grad * p * self.a ** (p - 1),)


class PowTensor(Function):
    """``a ** b`` with a tensor exponent. d/db = a ** b * log(a), taken as 0 where a == 0 and
    b >= 0 (the limit, and PyTorch's convention); NaN for negative bases, as in PyTorch.
    d/da = b * a ** (b - 1), taken as 0 where b == 0 (PyTorch's convention: a ** 0 is constant,
    also at a == 0 where the formula reads 0 * inf)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            to_a = np.where(b == 0, 0.0, grad * b * a ** (b - 1))  # not 0 * 0 ** -1 at a == 0
            log_a = np.where((a == 0) & (b >= 0), 0.0, np.log(a))
            to_b = grad * self.out * log_a.astype(self.out.dtype)
        return unbroadcast(to_a, a.shape), unbroadcast(to_b, b.shape)


class Exp(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        self.out = np.exp(a)
        return self.out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.out,)


class Log(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        self.a = a
        return np.log(a)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad / self.a,)


class Sqrt(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        self.out = np.sqrt(a)
        return self.out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad / (2 * self.out),)


class Abs(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        self.a = a
        return np.abs(a)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * np.sign(self.a),)


class Clip(Function):
    """Clamp to ``[low, high]`` (either may be ``None``); gradient passes where not clamped."""

    def forward(self, a: np.ndarray) -> np.ndarray:
        low, high = self.params["low"], self.params["high"]
        self.mask = np.ones(a.shape, dtype=bool)
        if low is not None:
            self.mask &= a >= low
        if high is not None:
            self.mask &= a <= high
        return np.clip(a, low, high)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.mask,)


class Maximum(Function):
    """Elementwise maximum; at a tie the gradient is split evenly, as in PyTorch."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes = a.shape, b.shape
        self.a_wins = (a > b) + 0.5 * (a == b)
        return np.maximum(a, b)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to_a = grad * self.a_wins
        return unbroadcast(to_a, self.shapes[0]), unbroadcast(grad - to_a, self.shapes[1])


class Where(Function):
    """``condition ? a : b`` with a fixed boolean condition (not differentiable)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes = a.shape, b.shape
        self.cond = self.params["condition"]
        return np.where(self.cond, a, b)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zero = np.zeros((), dtype=grad.dtype)
        to_a = np.where(self.cond, grad, zero)
        to_b = np.where(self.cond, zero, grad)
        return unbroadcast(to_a, self.shapes[0]), unbroadcast(to_b, self.shapes[1])


# ----------------------------------------------------------------------------- linear algebra


class MatMul(Function):
    """NumPy ``matmul`` semantics: 1-D operands are promoted then squeezed, batches broadcast."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return np.matmul(a, b)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
                         + (a2.shape[-2], b2.shape[-1]))
        grad_a = unbroadcast(np.matmul(g, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        grad_b = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g), b2.shape).reshape(b.shape)
        return grad_a, grad_b


# ----------------------------------------------------------------------------- reductions


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -max(ndim, 1) <= ax < max(ndim, 1):  # a 0-d tensor accepts 0 and -1, as in torch
            raise np.exceptions.AxisError(f"axis {ax} is out of bounds for a tensor of {ndim} dims")
        out.append(int(ax) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out)) if ndim else ()


def expand_reduced(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Re-insert the reduced axes (as size 1) so ``grad`` broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        self.shape = a.shape
        self.axes = normalize_axes(self.params["axis"], a.ndim)
        return a.sum(axis=self.axes, keepdims=self.params["keepdims"])

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        grad = expand_reduced(grad, self.axes, self.params["keepdims"])
        return (np.broadcast_to(grad, self.shape).copy(),)


class Mean(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        self.shape = a.shape
        self.axes = normalize_axes(self.params["axis"], a.ndim)
        self.count = int(np.prod([a.shape[i] for i in self.axes]))
        total = a.sum(axis=self.axes, keepdims=self.params["keepdims"])
        with np.errstate(invalid="ignore", divide="ignore"):  # a mean of nothing is NaN (torch)
            return total / total.dtype.type(self.count)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        if self.count == 0:  # the input is empty: so is its gradient
            return (np.zeros(self.shape, dtype=grad.dtype),)
        grad = expand_reduced(grad, self.axes, self.params["keepdims"]) / self.count
        return (np.broadcast_to(grad, self.shape).copy(),)


class Extremum(Function):
    """Max or min over axes; tied extremes share the gradient evenly (PyTorch's ``amax``)."""

    reduce = staticmethod(np.max)

    def forward(self, a: np.ndarray) -> np.ndarray:
        self.axes = normalize_axes(self.params["axis"], a.ndim)
        if any(a.shape[i] == 0 for i in self.axes):
            raise ValueError(
                f"{type(self).__name__.lower()}() over an empty axis of a tensor of shape {a.shape}"
            )
        kept = self.reduce(a, axis=self.axes, keepdims=True)
        hits = a == kept
        self.share = hits / hits.sum(axis=self.axes, keepdims=True)
        return kept if self.params["keepdims"] else np.squeeze(kept, axis=self.axes)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        grad = expand_reduced(grad, self.axes, self.params["keepdims"])
        return (grad * self.share,)


class Max(Extremum):
    reduce = staticmethod(np.max)


class Min(Extremum):
    reduce = staticmethod(np.min)


# ----------------------------------------------------------------------------- shape


class Reshape(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        self.shape = a.shape
        return a.reshape(self.params["shape"])

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad.reshape(self.shape),)


class Permute(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return np.transpose(a, self.params["axes"])

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (np.transpose(grad, np.argsort(self.params["axes"])),)


class GetItem(Function):
    """Indexing; repeated integer indices must add their gradients (``np.add.at``)."""

    def forward(self, a: np.ndarray) -> np.ndarray:
        self.shape = a.shape
        return a[self.params["index"]]

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        out = np.zeros(self.shape, dtype=grad.dtype)
        np.add.at(out, self.params["index"], grad)
        return (out,)


class Concatenate(Function):
    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        axis = self.params["axis"]
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.split(grad, self.splits, axis=self.params["axis"]))


class Stack(Function):
    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        return np.stack(arrays, axis=self.params["axis"])

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        axis = self.params["axis"]
        return tuple(np.take(grad, i, axis=axis) for i in range(grad.shape[axis]))
