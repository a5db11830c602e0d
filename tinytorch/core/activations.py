"""Activation functions: a :class:`Function` each (forward and its exact derivative), plus the
upstream-style classes (``ReLU()(x)``) and functional forms (``relu(x)``).

Numerical care lives here: Sigmoid never evaluates ``exp`` of a large positive number, Softmax and
LogSoftmax subtract the maximum first, GELU's backward differentiates the very formula its
forward used.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor

_erf = np.vectorize(math.erf, otypes=[np.float64])
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


class ReLUFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return np.where(self.mask, x, np.zeros((), dtype=x.dtype))

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.mask,)


class LeakyReLUFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.slope = np.where(x > 0, 1.0, self.params["negative_slope"]).astype(x.dtype)
        return x * self.slope

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.slope,)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: for x < 0 use e^x / (1 + e^x)."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype)


class SigmoidFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = stable_sigmoid(x)
        return self.out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.out * (1 - self.out),)


class TanhFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * (1 - self.out * self.out),)


def gelu_exact(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x Φ(x) and its derivative Φ(x) + x φ(x)."""
    cdf = 0.5 * (1 + _erf(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


def gelu_tanh(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tanh form 0.5 x (1 + tanh(u)), u = √(2/π)(x + 0.044715 x³), and its derivative."""
    u = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3)
    t = np.tanh(u)
    du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
    return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du


_GELU_FORMS = {"none": gelu_exact, "tanh": gelu_tanh}


class GELUFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        value, self.slope = _GELU_FORMS[self.params["approximate"]](x)
        return value.astype(x.dtype)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return ((grad * self.slope).astype(grad.dtype),)


class SoftmaxFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        dim = self.params["dim"]
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        self.out = e / e.sum(axis=dim, keepdims=True)
        return self.out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        y = self.out
        return (y * (grad - (grad * y).sum(axis=self.params["dim"], keepdims=True)),)


class LogSoftmaxFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        dim = self.params["dim"]
        shifted = x - x.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        self.softmax = np.exp(out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        total = grad.sum(axis=self.params["dim"], keepdims=True)
        return (grad - self.softmax * total,)


def _check_dim(x: Tensor, dim: int, name: str) -> int:
    if x.ndim == 0 or not -x.ndim <= dim < x.ndim:
        # AxisError is an IndexError (what torch raises) and a ValueError
        raise np.exceptions.AxisError(
            f"{name}: dim {dim} is out of range for a tensor of shape {x.shape}")
    return dim


# ---------------------------------------------------------------------------- functional forms


def relu(x: Tensor) -> Tensor:
    return ReLUFunction.apply(x)


def leaky_relu(x: Tensor, negative_slope: float) -> Tensor:
    return LeakyReLUFunction.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return SigmoidFunction.apply(x)


def tanh(x: Tensor) -> Tensor:
    return TanhFunction.apply(x)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in _GELU_FORMS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
    return GELUFunction.apply(x, approximate=approximate)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    return SoftmaxFunction.apply(x, dim=_check_dim(x, dim, "softmax"))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return LogSoftmaxFunction.apply(x, dim=_check_dim(x, dim, "log_softmax"))


# ---------------------------------------------------------------------------- upstream classes


class Activation:
    """Upstream's interface: ``forward(x)`` and calling the object are the same."""

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def parameters(self) -> list[Tensor]:
        return []


class ReLU(Activation):
    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class LeakyReLU(Activation):
    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)


class Sigmoid(Activation):
    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(Activation):
    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class GELU(Activation):
    def __init__(self, approximate: str = "none") -> None:
        if approximate not in _GELU_FORMS:
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', not {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return gelu(x, self.approximate)


class Softmax(Activation):
    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x: Tensor, dim: int | None = None) -> Tensor:
        return softmax(x, self.dim if dim is None else dim)


class LogSoftmax(Activation):
    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x: Tensor, dim: int | None = None) -> Tensor:
        return log_softmax(x, self.dim if dim is None else dim)
