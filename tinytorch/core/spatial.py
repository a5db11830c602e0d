"""Spatial layers on NCHW images: Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm2d (upstream's
``tinytorch.core.spatial``).

Vectorised, not nested loops: every layer views its (padded) input as windows with
``as_strided`` (shape ``(N, C, OH, OW, KH, KW)``, no copy), so a forward is one ``einsum`` or
one reduction, and a backward loops only over the kernel's KH x KW offsets. Conventions are
torch's: weight ``(out, in, kh, kw)``, zero padding on both sides, ``stride`` of a pool
defaulting to its kernel, average pools counting the padding (``count_include_pad=True``),
and a max-pool gradient going to the first maximum of each window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor


def _pair(value: Any, name: str, minimum: int) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                             for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """torch's formula: floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _windows(padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
             dilation: tuple[int, int], out: tuple[int, int]) -> np.ndarray:
    """A read-only (N, C, OH, OW, KH, KW) view of the windows of a padded NCHW array."""
    n, c, sh, sw = padded.strides[0], padded.strides[1], padded.strides[2], padded.strides[3]
    return np.lib.stride_tricks.as_strided(
        padded, shape=(*padded.shape[:2], *out, *kernel),
        strides=(n, c, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]),
        writeable=False)


def _geometry(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
              padding: tuple[int, int], dilation: tuple[int, int], layer: str) -> tuple[int, int]:
    if x.ndim != 4:
        raise ValueError(f"{layer} expects a 4-D input (batch, channels, height, width), "
                         f"got shape {x.shape}")
    out = tuple(output_size(x.shape[2 + i], kernel[i], stride[i], padding[i], dilation[i])
                for i in range(2))
    if min(out) < 1:
        raise ValueError(f"{layer}: kernel {kernel} (dilation {dilation}) is larger than the "
                         f"padded input {x.shape[2] + 2 * padding[0]}x"
                         f"{x.shape[3] + 2 * padding[1]}")
    return out  # type: ignore[return-value]


def _pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    if padding == (0, 0):
        return x
    width = ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1]))
    return np.pad(x, width, constant_values=value)


def _scatter_windows(grad_windows: np.ndarray, padded_shape: tuple[int, ...],
                     stride: tuple[int, int], dilation: tuple[int, int],
                     padding: tuple[int, int]) -> np.ndarray:
    """The adjoint of :func:`_windows`: add each window element's gradient back into the
    (padded) input position it was read from, then drop the padding."""
    out_h, out_w, kh, kw = grad_windows.shape[2:]
    grad = np.zeros(padded_shape, dtype=grad_windows.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (out_h - 1) + 1, stride[0])
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (out_w - 1) + 1, stride[1])
            grad[:, :, rows, cols] += grad_windows[..., i, j]
    return grad[:, :, padding[0]:padded_shape[2] - padding[0],
                padding[1]:padded_shape[3] - padding[1]]


# ----------------------------------------------------------------------------- functions


class Conv2dFunction(Function):
    def forward(self, x: np.ndarray, weight: np.ndarray, *bias: np.ndarray) -> np.ndarray:
        stride, padding, dilation = (self.params[k] for k in ("stride", "padding", "dilation"))
        kernel = weight.shape[2:]
        out = _geometry(x, kernel, stride, padding, dilation, "Conv2d")
        padded = _pad(x, padding)
        self.padded_shape = padded.shape
        self.windows = _windows(padded, kernel, stride, dilation, out)
        self.weight, self.has_bias = weight, bool(bias)
        y = np.einsum("ncpqij,ocij->nopq", self.windows, weight, optimize=True)
        if bias:
            y = y + bias[0].reshape(1, -1, 1, 1)
        return y.astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        stride, padding, dilation = (self.params[k] for k in ("stride", "padding", "dilation"))
        grad_weight = np.einsum("nopq,ncpqij->ocij", grad, self.windows, optimize=True)
        grad_windows = np.einsum("nopq,ocij->ncpqij", grad, self.weight, optimize=True)
        grad_x = _scatter_windows(grad_windows, self.padded_shape, stride, dilation, padding)
        grads: tuple[np.ndarray, ...] = (grad_x, grad_weight)
        if self.has_bias:
            grads += (grad.sum(axis=(0, 2, 3)),)
        return grads


class _PoolFunction(Function):
    layer = ""
    fill = 0.0  # what the padding holds

    def pool_windows(self, x: np.ndarray) -> np.ndarray:
        """The (N, C, OH, OW, KH, KW) windows of ``x`` padded with :attr:`fill`."""
        kernel, stride, padding = (self.params[k] for k in ("kernel", "stride", "padding"))
        out = _geometry(x, kernel, stride, padding, (1, 1), self.layer)
        padded = _pad(x, padding, self.fill)
        self.padded_shape = padded.shape
        return _windows(padded, kernel, stride, (1, 1), out)


class MaxPool2dFunction(_PoolFunction):
    layer, fill = "MaxPool2d", -np.inf

    def forward(self, x: np.ndarray) -> np.ndarray:
        windows = self.pool_windows(x)
        flat = windows.reshape(*windows.shape[:4], -1)
        self.first_max = flat.argmax(axis=-1)  # the first maximum of each window, as torch
        self.window_shape = windows.shape
        return np.take_along_axis(flat, self.first_max[..., None], axis=-1)[..., 0]

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        kernel, stride, padding = (self.params[k] for k in ("kernel", "stride", "padding"))
        grad_windows = np.zeros((*self.window_shape[:4], kernel[0] * kernel[1]), grad.dtype)
        np.put_along_axis(grad_windows, self.first_max[..., None], grad[..., None], axis=-1)
        return (_scatter_windows(grad_windows.reshape(self.window_shape), self.padded_shape,
                                 stride, (1, 1), padding),)


class AvgPool2dFunction(_PoolFunction):
    layer = "AvgPool2d"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.pool_windows(x).mean(axis=(-2, -1)).astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        kernel, stride, padding = (self.params[k] for k in ("kernel", "stride", "padding"))
        share = grad / (kernel[0] * kernel[1])  # padding counts in the average, as in torch
        grad_windows = np.broadcast_to(share[..., None, None], (*share.shape, *kernel))
        return (_scatter_windows(grad_windows, self.padded_shape, stride, (1, 1), padding),)


class BatchNorm2dFunction(Function):
    """Per-channel normalisation over (N, H, W). In training the statistics are the batch's,
    so the backward goes through the mean and the variance (as LayerNorm's, over other axes);
    in evaluation they are constants and the backward is a per-channel scale."""

    axes = (0, 2, 3)

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        # the statistics in the input's dtype: float32 running statistics must not round a
        # float64 evaluation to float32 precision
        mean, variance = (self.params[k].astype(x.dtype, copy=False) for k in ("mean", "variance"))
        self.inv_std = 1.0 / np.sqrt(variance.reshape(1, -1, 1, 1) + self.params["eps"])
        self.normed = (x - mean.reshape(1, -1, 1, 1)) * self.inv_std
        self.weight = weight.reshape(1, -1, 1, 1)
        return (self.normed * self.weight + bias.reshape(1, -1, 1, 1)).astype(x.dtype,
                                                                              copy=False)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = grad * self.weight
        if self.params["batch_statistics"]:
            mean_g = g.mean(axis=self.axes, keepdims=True)
            mean_gy = (g * self.normed).mean(axis=self.axes, keepdims=True)
            grad_x = self.inv_std * (g - mean_g - self.normed * mean_gy)
        else:
            grad_x = self.inv_std * g
        return grad_x, (grad * self.normed).sum(axis=self.axes), grad.sum(axis=self.axes)


# ----------------------------------------------------------------------------- modules


class Conv2d(Module):
    """2-D convolution (cross-correlation, as torch) of NCHW input; weight (out, in, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any = 1, padding: Any = 0, dilation: Any = 1, bias: bool = True) -> None:
        for name, size in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {size!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "Conv2d kernel_size", 1)
        self.stride = _pair(stride, "Conv2d stride", 1)
        self.padding = _pair(padding, "Conv2d padding", 0)
        self.dilation = _pair(dilation, "Conv2d dilation", 1)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / np.sqrt(fan_in)  # torch's default: uniform(-1/sqrt(fan_in), +)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Tensor(np.random.uniform(-bound, bound, shape).astype(np.float32),
                             requires_grad=True)
        self.bias = (Tensor(np.random.uniform(-bound, bound, self.out_channels)
                            .astype(np.float32), requires_grad=True) if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels}, {self.out_channels}) expects input of "
                             f"shape (batch, {self.in_channels}, height, width), got {x.shape}")
        params = [self.weight] + ([self.bias] if self.bias is not None else [])
        return Conv2dFunction.apply(x, *params, stride=self.stride, padding=self.padding,
                                    dilation=self.dilation)


class _Pool2d(Module):
    function: type[Function]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, f"{name} kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, f"{name} stride", 1)
        self.padding = _pair(padding, f"{name} padding", 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel "
                             f"{self.kernel_size} (torch's rule)")

    def forward(self, x: Tensor) -> Tensor:
        return self.function.apply(x, kernel=self.kernel_size, stride=self.stride,
                                   padding=self.padding)


class MaxPool2d(_Pool2d):
    function = MaxPool2dFunction


class AvgPool2d(_Pool2d):
    function = AvgPool2dFunction


class Flatten(Module):
    """Collapse dims ``start_dim..end_dim`` into one (torch's defaults: 1 and -1)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        start, end = self.start_dim % max(x.ndim, 1), self.end_dim % max(x.ndim, 1)
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for a {x.ndim}-D input")
        shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
        return x.reshape(shape)


class BatchNorm2d(Module):
    """Batch normalisation of NCHW input per channel, with torch's conventions: training
    normalises by the batch's mean and biased variance and moves the running statistics by
    ``momentum`` (the running variance takes the *unbiased* batch variance); evaluation
    normalises by the running statistics. ``weight`` ones and ``bias`` zeros at first."""

    buffer_names = ("running_mean", "running_var")  # saved and loaded with the parameters

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) \
                or num_features < 1:
            raise ValueError(f"BatchNorm2d: num_features must be a positive int, got "
                             f"{num_features!r}")
        if not eps > 0:
            raise ValueError(f"BatchNorm2d: eps must be positive, got {eps!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm2d: momentum must be in [0, 1], got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.weight = Tensor(np.ones(self.num_features, np.float32), requires_grad=True)
        self.bias = Tensor(np.zeros(self.num_features, np.float32), requires_grad=True)
        self.running_mean = np.zeros(self.num_features, np.float32)
        self.running_var = np.ones(self.num_features, np.float32)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}) expects input of shape "
                             f"(batch, {self.num_features}, height, width), got {x.shape}")
        if not self.training:
            return BatchNorm2dFunction.apply(x, self.weight, self.bias, eps=self.eps,
                                             mean=self.running_mean,
                                             variance=self.running_var,
                                             batch_statistics=False)
        count = x.shape[0] * x.shape[2] * x.shape[3]
        if count < 2:
            raise ValueError(f"BatchNorm2d: training needs more than one value per channel, "
                             f"got input of shape {x.shape}")
        mean = x.data.mean(axis=(0, 2, 3))
        variance = x.data.var(axis=(0, 2, 3))
        m = self.momentum
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(
            self.running_mean.dtype)
        self.running_var = ((1 - m) * self.running_var + m * variance * count / (count - 1)
                            ).astype(self.running_var.dtype)
        return BatchNorm2dFunction.apply(x, self.weight, self.bias, eps=self.eps, mean=mean,
                                         variance=variance, batch_statistics=True)
