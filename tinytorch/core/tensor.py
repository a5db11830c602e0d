"""The Tensor: a NumPy array plus the autograd bookkeeping (``requires_grad``, ``grad``, node).

Arithmetic and the other ops are one-liners that hand NumPy arrays to a
:class:`~tinytorch.core.functions` node; see ``autograd`` for how backward runs.
Data is float32 by default, as upstream TinyTorch; a floating array given as data, or an explicit
``dtype``, keeps its precision (float64 lets the oracles compare tightly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinytorch.core import functions as F
from tinytorch.core.autograd import run_backward

_SUPPORTED = (np.float16, np.float32, np.float64)


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    array = np.array(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"cannot build a Tensor from data of dtype {array.dtype} "
            "(expected numbers: bool, int or float)"
        )
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.type not in _SUPPORTED:
            raise TypeError(f"Tensor dtype must be float16, float32 or float64, not {dtype}")
        return array.astype(dtype, copy=False)
    return array if array.dtype.kind == "f" else array.astype(np.float32)


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __array_priority__ = 1000  # so ``ndarray + Tensor`` calls Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data: np.ndarray = _as_array(data, dtype)
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self._ctx: Any = None

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A tensor around ``array`` as is: no copy, no dtype change (used by ops)."""
        t = cls.__new__(cls)
        t.data, t.requires_grad, t.grad, t._ctx = array, requires_grad, None, None
        return t

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4)}, dtype={self.dtype}{grad})"

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory, as in PyTorch)."""
        return Tensor._wrap(self.data)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad())"
            )
        if gradient is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() on a non-scalar tensor of shape {self.shape} needs a "
                    "gradient argument: grad can be implicitly created only for scalar outputs"
                )
            grad = np.ones(self.shape, dtype=self.dtype)
        else:
            grad = _as_array(gradient, self.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(gradient): gradient shape {grad.shape} does not match "
                    f"tensor shape {self.shape}"
                )
        run_backward(self, grad)

    def zero_grad(self) -> None:
        self.grad = None

    # ------------------------------------------------------------------ arithmetic
    def _lift(self, other: Any) -> Tensor:
        """Make ``other`` a tensor; a plain number takes this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, np.ndarray) and other.dtype.kind == "f":
            return Tensor(other)
        return Tensor(other, dtype=self.dtype)

    def __add__(self, other: Any) -> Tensor:
        return F.Add.apply(self, self._lift(other))

    def __radd__(self, other: Any) -> Tensor:
        return F.Add.apply(self._lift(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return F.Sub.apply(self, self._lift(other))

    def __rsub__(self, other: Any) -> Tensor:
        return F.Sub.apply(self._lift(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return F.Mul.apply(self, self._lift(other))

    def __rmul__(self, other: Any) -> Tensor:
        return F.Mul.apply(self._lift(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return F.Div.apply(self, self._lift(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.Div.apply(self._lift(other), self)

    def __neg__(self) -> Tensor:
        return F.Neg.apply(self)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, Tensor):
            return F.PowTensor.apply(self, exponent)
        return F.Pow.apply(self, exponent=exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._lift(other).matmul(self)

    def matmul(self, other: Any) -> Tensor:
        other = self._lift(other)
        _check_matmul(self.shape, other.shape)
        return F.MatMul.apply(self, other)

    # ------------------------------------------------------------------ reductions
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.Min.apply(self, axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        known = int(np.prod([n for n in shape if n != -1]))
        fits = self.size == known if -1 not in shape else (known and self.size % known == 0)
        if shape.count(-1) > 1 or not fits:
            raise ValueError(
                f"cannot reshape tensor of shape {self.shape} ({self.size} elements) "
                f"into shape {tuple(shape)}"
            )
        return F.Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        """Swap two axes; by default the last two (upstream TinyTorch's convention)."""
        if self.ndim < 2 and dim0 is None:
            return F.Permute.apply(self, axes=tuple(range(self.ndim)))
        dim0 = -2 if dim0 is None else dim0
        dim1 = -1 if dim1 is None else dim1
        for d in (dim0, dim1):
            if not -self.ndim <= d < self.ndim:
                raise IndexError(
                    f"transpose: dim {d} is out of range for a tensor of shape {self.shape}"
                )
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return F.Permute.apply(self, axes=tuple(axes))

    def permute(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if any(not -self.ndim <= a < self.ndim for a in axes):
            raise IndexError(f"permute{tuple(axes)}: axis out of range for shape {self.shape}")
        if sorted(a % self.ndim for a in axes) != list(range(self.ndim)):
            raise ValueError(f"permute{tuple(axes)} is not a permutation of {self.ndim} axes")
        return F.Permute.apply(self, axes=tuple(a % self.ndim for a in axes))

    @property
    def T(self) -> Tensor:
        return F.Permute.apply(self, axes=tuple(reversed(range(self.ndim))))

    def __getitem__(self, index: Any) -> Tensor:
        return F.GetItem.apply(self, index=_plain_index(index))

    # ------------------------------------------------------------------ elementwise
    def exp(self) -> Tensor:
        return F.Exp.apply(self)

    def log(self) -> Tensor:
        return F.Log.apply(self)

    def sqrt(self) -> Tensor:
        return F.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return F.Abs.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        if min is None and max is None:
            raise ValueError("clip() needs at least one of min and max")
        return F.Clip.apply(self, low=min, high=max)

    clamp = clip


def _plain_index(index: Any) -> Any:
    """Indices as NumPy understands them: tensors become integer or boolean arrays."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        if not np.all(index == np.round(index)):
            raise IndexError("tensor index has non-integer values")
        index = index.astype(np.int64)
    return index


def _check_matmul(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"matmul needs operands of at least 1 dim, got shapes {a} and {b}")
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul shape mismatch: {a} @ {b}: inner dimensions {inner_a} "
            f"(last of the left) and {inner_b} ({'only' if len(b) == 1 else 'second-to-last'}"
            " of the right) differ"
        )
    try:
        np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise ValueError(
            f"matmul shape mismatch: batch dimensions of {a} and {b} do not broadcast"
        ) from None


# ---------------------------------------------------------------------------- functional ops


def _tensors(name: str, items: Sequence[Any]) -> list[Tensor]:
    """``items`` as a list, each a Tensor (as torch.cat and torch.stack require)."""
    items = list(items)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}() takes Tensors, got {type(t).__name__} at position {i}")
    return items


def _operands(name: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """``where``'s and ``maximum``'s operands as Tensors (``where(mask, x, 0.0)``,
    ``maximum(0.0, x)``): a plain number takes the other operand's dtype, as in torch."""
    if isinstance(a, Tensor):
        return a, a._lift(b)
    if isinstance(b, Tensor):
        return b._lift(a), b
    raise TypeError(f"{name}() needs a Tensor operand, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    if len(tensors) == 0:
        raise ValueError("concatenate() needs at least one tensor")
    tensors = _tensors("concatenate", tensors)
    ndim = tensors[0].ndim
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"concatenate: axis {axis} is out of range for tensors of shape "
                         f"{tensors[0].shape}")
    rest = {t.shape[:axis % ndim] + t.shape[axis % ndim + 1:] for t in tensors}
    if len(rest) > 1 or any(t.ndim != ndim for t in tensors):
        raise ValueError(f"concatenate: shapes {[t.shape for t in tensors]} differ off axis {axis}")
    return F.Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    if len(tensors) == 0:
        raise ValueError("stack() needs at least one tensor")
    tensors = _tensors("stack", tensors)
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack() needs tensors of one shape, got {sorted(shapes)}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} is out of range for the {ndim}-d result")
    return F.Stack.apply(*tensors, axis=axis)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` holds, else ``b``; the condition takes no gradient."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    a, b = _operands("where", a, b)
    return F.Where.apply(a, b, condition=cond.astype(bool))


def maximum(a: Any, b: Any) -> Tensor:
    a, b = _operands("maximum", a, b)
    return F.Maximum.apply(a, b)


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()
