"""Loss functions with PyTorch's conventions: ``reduction`` is 'mean', 'sum' or 'none'.

Inputs are checked before any arithmetic: a shape mismatch, a class index out of range, a
probability outside [0, 1] or a NaN raises an error that names the problem, never a silently
wrong loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.activations import log_softmax
from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(x: Any, like: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x), dtype=like.dtype)


def _no_nan(name: str, **tensors: Tensor) -> None:
    for label, t in tensors.items():
        if not np.all(np.isfinite(t.data)):
            raise ValueError(f"{name}: {label} contains NaN or infinite values")


def _paired(loss: str, label: str, inputs: Tensor, targets: Any) -> Tensor:
    """Targets as a tensor of the inputs' dtype, after checking one shape and no NaN/inf."""
    targets = _as_tensor(targets, inputs)
    if inputs.shape != targets.shape:
        raise ValueError(
            f"{loss}: {label} {inputs.shape} and targets {targets.shape} must have the same shape"
        )
    _no_nan(loss, **{label: inputs, "targets": targets})
    return targets


class Loss:
    """Upstream's interface: ``forward(predictions, targets)``, also callable."""

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, not {reduction!r}")
        self.reduction = reduction

    def forward(self, predictions: Tensor, targets: Any) -> Tensor:
        raise NotImplementedError

    def __call__(self, predictions: Tensor, targets: Any) -> Tensor:
        return self.forward(predictions, targets)


class MSELoss(Loss):
    """Mean (or sum) of squared differences; predictions and targets must have one shape."""

    def forward(self, predictions: Tensor, targets: Any) -> Tensor:
        targets = _paired("MSELoss", "predictions", predictions, targets)
        diff = predictions - targets
        return _reduce(diff * diff, self.reduction)


def class_indices(targets: Any, num_classes: int, batch: int) -> np.ndarray:
    """Integer class targets as an int64 array, checked against the logits."""
    array = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError("CrossEntropyLoss: targets must be integer class indices")
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"CrossEntropyLoss: targets must be integers, got dtype {array.dtype}")
    if array.shape != (batch,):
        raise ValueError(f"CrossEntropyLoss: targets have shape {array.shape}, expected ({batch},)")
    bad = (array < 0) | (array >= num_classes)
    if np.any(bad):
        raise IndexError(
            f"CrossEntropyLoss: target {array[bad][0]} is out of range for {num_classes} classes"
        )
    return array.astype(np.int64)


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy of logits (batch, classes) against integer targets (batch,).

    Computed as -log_softmax(logits)[i, y_i], so large logits cannot overflow (log-sum-exp).
    """

    def forward(self, logits: Tensor, targets: Any) -> Tensor:
        if logits.ndim != 2:
            raise ValueError(
                f"CrossEntropyLoss: logits must be (batch, classes), got {logits.shape}"
            )
        if logits.shape[0] == 0:
            raise ValueError("CrossEntropyLoss: empty batch")
        _no_nan("CrossEntropyLoss", logits=logits)
        y = class_indices(targets, logits.shape[1], logits.shape[0])
        picked = log_softmax(logits, dim=1)[np.arange(len(y)), y]
        return _reduce(-picked, self.reduction)


class BCEFunction(Function):
    """Per-element -(t log p + (1-t) log(1-p)), with torch's rules at the edges: each log is
    clamped at -100 in forward, and backward divides by max(p (1-p), 1e-12), so p = 0 or 1
    exactly has a finite gradient (a log-then-clip composite gives 0 / 0 = NaN there)."""

    def forward(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        self.p, self.t = p, t
        with np.errstate(divide="ignore"):
            self.log_p, self.log_q = np.log(p), np.log(1 - p)
        return -(t * np.maximum(self.log_p, -100.0) + (1 - t) * np.maximum(self.log_q, -100.0))

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, t = self.p, self.t
        to_p = grad * (p - t) / np.maximum(p * (1 - p), np.asarray(1e-12, p.dtype))
        with np.errstate(invalid="ignore"):
            to_t = grad * (self.log_q - self.log_p)  # unclamped, as torch's: inf at p = 0 or 1
        return to_p, to_t


class BinaryCrossEntropyLoss(Loss):
    """-(t log p + (1-t) log(1-p)) for probabilities p in [0, 1]; logs clamped at -100 (torch)."""

    def forward(self, predictions: Tensor, targets: Any) -> Tensor:
        targets = _paired("BinaryCrossEntropyLoss", "predictions", predictions, targets)
        p = predictions.data
        if np.any((p < 0) | (p > 1)):
            raise ValueError("BinaryCrossEntropyLoss: predictions must be probabilities in [0, 1]")
        if np.any((targets.data < 0) | (targets.data > 1)):
            raise ValueError("BinaryCrossEntropyLoss: targets must be in [0, 1]")
        return _reduce(BCEFunction.apply(predictions, targets), self.reduction)


class BCEWithLogitsFunction(Function):
    """Per-element loss softplus(x) - t x, computed stably; gradient sigmoid(x) - t (and for t)."""

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        self.x, self.t = x, t
        return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.exp(-np.abs(self.x))
        sig = np.where(self.x >= 0, 1 / (1 + z), z / (1 + z))
        return grad * (sig - self.t), -grad * self.x


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits: the stable form of BCE(sigmoid(x), t)."""

    def forward(self, logits: Tensor, targets: Any) -> Tensor:
        targets = _paired("BCEWithLogitsLoss", "logits", logits, targets)
        return _reduce(BCEWithLogitsFunction.apply(logits, targets), self.reduction)


BinaryCrossEntropyWithLogitsLoss = BCEWithLogitsLoss
