"""Activation functions: a :class:`Function` each (forward and its exact derivative), plus the
upstream-style classes (``ReLU()(x)``) and functional forms (``relu(x)``).

Numerical care lives here: Sigmoid never evaluates ``exp`` of a large positive number, Softmax and
LogSoftmax subtract the maximum first, GELU's backward differentiates the very formula its
forward used.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.polynomial import Chebyshev, Polynomial

from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715

# ---------------------------------------------------------------------------- the error function
# erf, vectorised: ``np.vectorize(math.erf)`` costs ~85 ns an element. For |u| >= ``start``,
# erf(u) = sign(u) (1 - exp(-u^2) R(t)) with t = 1 / (1 + p |u|), where R is a polynomial in t
# fitted to the smooth, slowly varying exp(z^2) erfc(z) over z in [start, stop]; past ``stop``
# |u| is clamped (exp(-u^2) R there is below half an ulp of 1). The Gaussian factor is
# the one GELU's derivative needs, so a caller that has it passes it in. For |u| < ``small``,
# erf(u) = u S(u^2) with S fitted to erf(z) / z in z^2: accurate relative to erf(u) near 0.
# Every coefficient is fitted here, at import, to math.erf / math.erfc. float64 arrays get
# float64 precision: against math.erf on a dense grid of [-10, 10], max |error| 3.3e-16
# (max relative error 5e-16; 1.1e-16 past |u| = 2). float32 arrays are computed in float32
# with a shorter fit: max |error| 3.8e-7 (float32's own rounding near |u| = 0.1).


def _fit(func: Callable[[float], float], lo: float, hi: float,
         degree: int) -> tuple[float, ...]:
    """Power-series coefficients (highest first) of the polynomial of ``degree`` fitted by
    least squares to ``func`` at 10 (degree + 1) Chebyshev points of [lo, hi] (more points
    than an interpolant needs: they average out the last-ulp noise of the samples)."""
    k = np.arange(10 * (degree + 1))
    nodes = lo + (hi - lo) * (1 + np.cos(np.pi * (k + 0.5) / k.size)) / 2
    fit = Chebyshev.fit(nodes, [func(float(v)) for v in nodes], degree, domain=[lo, hi])
    return tuple(float(c) for c in fit.convert(kind=Polynomial).coef[::-1])


def _horner(coefficients: tuple[float, ...], t: np.ndarray) -> np.ndarray:
    out = coefficients[0] * t + coefficients[1]  # python floats keep t's dtype
    for c in coefficients[2:]:
        out *= t
        out += c
    return out


def _erfcx(z: float) -> float:
    return math.erfc(z) * math.exp(z * z)


def _erf_over_z(u: float) -> float:
    z = math.sqrt(u)
    return math.erf(z) / z if z else 2.0 / math.sqrt(math.pi)


class _ErfFit:
    """The coefficients erf uses for one dtype (see the comment above)."""

    def __init__(self, p: float, start: float, stop: float, degree: int, clamp: bool,
                 small: float = 0.0, small_degree: int = 0) -> None:
        self.p, self.stop, self.clamp, self.small = p, stop, clamp, small
        self.tail = _fit(lambda t: _erfcx((1.0 / t - 1.0) / p),
                         1.0 / (1.0 + p * stop), 1.0 / (1.0 + p * start), degree)
        self.near = _fit(_erf_over_z, 0.0, small * small, small_degree) if small else ()


_ERF_FITS = {np.dtype(np.float64): _ErfFit(0.5, 1.0, 6.0, 14, clamp=True, small=1.0,
                                           small_degree=11),
             np.dtype(np.float32): _ErfFit(0.5, 0.0, 10.0, 8, clamp=False)}


def erf(u: np.ndarray, gauss: np.ndarray | None = None) -> np.ndarray:
    """The error function of a float32 or float64 array, in its dtype (other dtypes are
    computed in float64). ``gauss``, if given, is ``exp(-u * u)``."""
    if u.dtype not in _ERF_FITS:
        return erf(u.astype(np.float64)).astype(u.dtype)
    if u.ndim == 0:  # NumPy turns 0-d results into scalars, which cannot be assigned into
        return erf(u.reshape(1), None if gauss is None else np.reshape(gauss, 1)).reshape(())
    fit = _ERF_FITS[u.dtype]
    z = np.abs(u)
    if gauss is None:
        gauss = np.exp(-(u * u))
    t = 1.0 / (1.0 + fit.p * (np.minimum(z, fit.stop) if fit.clamp else z))
    out = 1.0 - gauss * _horner(fit.tail, t)
    out *= np.sign(u)  # erf(0) = 0, NaN stays NaN
    if fit.small:
        near = z < fit.small
        if near.any():
            v = u[near]
            out[near] = v * _horner(fit.near, v * v)
    return out


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


def _working(x: np.ndarray) -> np.ndarray:
    """``x`` as float32 or float64 (float16 is computed in float64)."""
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def gelu_exact(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x Φ(x) and its derivative Φ(x) + x φ(x), with Φ(x) = (1 + erf(x / √2)) / 2; the
    Gaussian exp(-x² / 2) serves both erf and φ."""
    x = _working(x)
    u = x * _SQRT_HALF
    gauss = np.exp(-(u * u))
    cdf = erf(u, gauss)
    cdf += 1.0
    cdf *= 0.5
    slope = x * gauss
    slope *= _INV_SQRT_2PI
    slope += cdf
    return x * cdf, slope


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
        return value.astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return ((grad * self.slope).astype(grad.dtype, copy=False),)


def _last_axis(x: np.ndarray, dim: int) -> bool:
    return dim == -1 or dim == x.ndim - 1


class SoftmaxFunction(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        dim = self.params["dim"]
        e = x - x.max(axis=dim, keepdims=True)
        np.exp(e, out=e)
        if _last_axis(e, dim):  # row sums as one matrix-vector product: faster than .sum
            e /= (e.reshape(-1, e.shape[-1]) @ np.ones(e.shape[-1], e.dtype)).reshape(
                e.shape[:-1] + (1,))
        else:
            e /= e.sum(axis=dim, keepdims=True)
        self.out = e
        return self.out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        y, dim = self.out, self.params["dim"]
        if _last_axis(y, dim):
            total = np.einsum("...i,...i->...", grad, y)[..., None]
        else:
            total = (grad * y).sum(axis=dim, keepdims=True)
        out = grad - total
        if out.dtype == np.result_type(out, y):
            out *= y
        else:
            out = out * y
        return (out,)


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
