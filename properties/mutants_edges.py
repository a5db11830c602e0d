"""Edge-case mutants: bugs that live only on kinks, near poles and domain edges, at extreme
scales, and at the clipping threshold.

Every one of them passes the smooth-region properties (inputs a margin away from kinks, moderate
values); each is killed only by the registry entries and cases of :mod:`properties.edges` and
:func:`properties.clipping.at_threshold_cases`. Their component selects the smooth entries too,
so the kill matrix shows that only the edge entry kills them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from properties.mutation import module as _m
from properties.mutation import mutant

# ----------------------------------------------------------------------------- kinks and ties


def _relu_mask_inclusive(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        out = orig(self, x)
        self.mask = x >= 0
        return out

    return forward


mutant("relu_grad_one_at_zero", "op:relu",
       "ReLU's mask is x >= 0: the gradient at exactly 0 is 1 (torch: 0)",
       activations__ReLUFunction__forward=_relu_mask_inclusive)


def _leaky_slope_inclusive(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        out = orig(self, x)
        self.slope = np.where(x >= 0, 1.0, self.params["negative_slope"]).astype(x.dtype)
        return out

    return forward


mutant("leaky_relu_grad_one_at_zero", "op:leaky_relu",
       "LeakyReLU's slope is chosen by x >= 0: the gradient at exactly 0 is 1 (torch: slope)",
       activations__LeakyReLUFunction__forward=_leaky_slope_inclusive)

mutant("abs_grad_one_at_zero", "op:abs",
       "abs backward uses where(x >= 0, 1, -1): the gradient at 0 is 1 (torch: sign(0) = 0)",
       functions__Abs__backward=lambda orig: lambda self, grad: (
           grad * np.where(self.a >= 0, 1, -1).astype(grad.dtype),))


def _clip_strict(orig: Any) -> Any:
    def forward(self: Any, a: np.ndarray) -> np.ndarray:
        out = orig(self, a)
        low, high = self.params["low"], self.params["high"]
        self.mask = np.ones(a.shape, dtype=bool)
        if low is not None:
            self.mask &= a > low
        if high is not None:
            self.mask &= a < high
        return out

    return forward


mutant("clip_blocks_grad_at_bounds", "op:clip",
       "clip backward masks with strict inequalities: no gradient at the bounds themselves",
       functions__Clip__forward=_clip_strict)


def _first_tie_only(orig: Any) -> Any:
    def forward(self: Any, a: np.ndarray) -> np.ndarray:
        out = orig(self, a)
        hits = self.share > 0
        moved = np.moveaxis(hits, self.axes, tuple(range(-len(self.axes), 0)))
        flat = moved.reshape(*moved.shape[:moved.ndim - len(self.axes)], -1)
        first = flat & (np.cumsum(flat, axis=-1) == 1)
        self.share = np.moveaxis(first.reshape(moved.shape), tuple(range(-len(self.axes), 0)),
                                 self.axes).astype(a.dtype)
        return out

    return forward


mutant("max_grad_to_first_tie", "op:(max or min) and not softmax and not maximum",
       "max/min backward sends the whole gradient to the first tied extreme (argmax), not "
       "evenly to every tie as torch.amax/amin and max() do",
       functions__Extremum__forward=_first_tie_only)


def _maximum_ties_to_a(orig: Any) -> Any:
    def forward(self: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = orig(self, a, b)
        self.a_wins = (a >= b).astype(np.result_type(a, b))
        return out

    return forward


mutant("maximum_tie_grad_to_first", "op:maximum",
       "maximum backward gives a tie's whole gradient to the first operand (torch: half each)",
       functions__Maximum__forward=_maximum_ties_to_a)

# ----------------------------------------------------------------------------- whole domains


def _pow_plain(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        p = self.params["exponent"]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad * p * self.a ** (p - 1),)

    return backward


mutant("pow_zero_exponent_nan_at_zero", "op:pow",
       "d(x^0)/dx computed as 0 * x^-1: NaN at x = 0 (torch: 0)",
       functions__Pow__backward=_pow_plain)

mutant("pow_backward_abs_base", "op:pow",
       "d(x^p)/dx = p |x|^(p-1): the sign is lost for negative bases with even p",
       functions__Pow__backward=lambda orig: lambda self, grad: (
           grad * self.params["exponent"] * np.abs(self.a) ** (self.params["exponent"] - 1),))


def _pow_tensor_no_log(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to_a, _ = orig(self, grad)
        unbroadcast = _m("functions").unbroadcast
        return to_a, unbroadcast(grad * self.out, self.b.shape)

    return backward


mutant("pow_tensor_exponent_grad_without_log", "op:pow",
       "d(a^b)/db = a^b, the log(a) factor forgotten",
       functions__PowTensor__backward=_pow_tensor_no_log)


def _pow_tensor_plain(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, to_b = orig(self, grad)
        unbroadcast = _m("functions").unbroadcast
        with np.errstate(divide="ignore", invalid="ignore"):
            return unbroadcast(grad * self.b * self.a ** (self.b - 1), self.a.shape), to_b

    return backward


def _pow_tensor_log_zero(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to_a, _ = orig(self, grad)
        unbroadcast = _m("functions").unbroadcast
        with np.errstate(divide="ignore", invalid="ignore"):
            return to_a, unbroadcast(grad * self.out * np.log(self.a), self.b.shape)

    return backward


mutant("pow_tensor_zero_exponent_nan_at_zero", "op:pow",
       "d(a^b)/da = b a^(b-1) taken literally: 0 * inf = NaN at a = 0, b = 0 (torch: 0)",
       functions__PowTensor__backward=_pow_tensor_plain)

mutant("pow_tensor_log_of_zero", "op:pow",
       "d(a^b)/db = a^b log(a) taken literally: 0 * -inf = NaN at a = 0 (torch: 0)",
       functions__PowTensor__backward=_pow_tensor_log_zero)


def _div_epsilon(orig: Any) -> Any:
    def forward(self: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = orig(self, a, b)
        return (a / (b + np.asarray(1e-10, b.dtype))).astype(out.dtype)

    return forward


mutant("div_adds_epsilon", "op:div",
       "a / (b + 1e-10), a 'safe' division: wrong for |b| near 0 (and past it for b < 0)",
       functions__Div__forward=_div_epsilon)

mutant("sqrt_backward_epsilon", "op:sqrt",
       "sqrt backward is g / (2 sqrt(x) + 1e-8): wrong near the domain edge",
       functions__Sqrt__backward=lambda orig: lambda self, grad: (
           grad / (2 * self.out + np.asarray(1e-8, self.out.dtype)),))


def _log_epsilon(orig: Any) -> Any:
    def forward(self: Any, a: np.ndarray) -> np.ndarray:
        orig(self, a)
        return np.log(a + np.asarray(1e-10, a.dtype))

    return forward


mutant("log_adds_epsilon", "op:log and not softmax", "log(x + 1e-10): wrong near the domain edge",
       functions__Log__forward=_log_epsilon)

# ----------------------------------------------------------------------------- extremes


def _global_max(orig: Any, log: bool) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        dim = self.params["dim"]
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.exp(x - x.max())
            total = e.sum(axis=dim, keepdims=True)
            self.out = e / total
            if log:
                self.softmax = self.out
                return (x - x.max()) - np.log(total)
            return self.out

    return forward


mutant("softmax_global_max", "op:softmax",
       "softmax subtracts the max of the whole tensor, not of each slice: a slice far below "
       "it underflows to 0 / 0",
       activations__SoftmaxFunction__forward=lambda orig: _global_max(orig, log=False))

mutant("log_softmax_global_max", "op:log_softmax",
       "log-softmax subtracts the max of the whole tensor, not of each slice: log(0) in a "
       "slice far below it",
       activations__LogSoftmaxFunction__forward=lambda orig: _global_max(orig, log=True))


def _log_of_softmax(orig: Any) -> Any:
    def log_softmax(x: Any, dim: int = -1) -> Any:
        return _m("activations").softmax(x, dim).log()

    return log_softmax


mutant("cross_entropy_log_of_softmax", "op:cross_entropy",
       "cross-entropy takes log(softmax(x)) (a stable softmax): a probability that underflows "
       "to 0 gives an infinite loss where torch's is finite",
       losses__log_softmax=_log_of_softmax)


def _bce_clamped(orig: Any) -> Any:
    def forward(self: Any, predictions: Any, targets: Any) -> Any:
        return orig(self, predictions.clip(1e-7, 1 - 1e-7), targets)

    return forward


mutant("bce_clamps_probabilities", "op:binary_cross_entropy or bce",
       "BCE clamps p into [1e-7, 1 - 1e-7] before the log (torch clamps the log at -100)",
       losses__BinaryCrossEntropyLoss__forward=_bce_clamped)


def _bce_log_then_clip(orig: Any) -> Any:
    def forward(self: Any, predictions: Any, targets: Any) -> Any:
        orig(self, predictions, targets)  # validates
        targets = _m("losses")._paired("BinaryCrossEntropyLoss", "predictions", predictions,
                                       targets)
        log_p = predictions.log().clip(min=-100.0)
        log_q = (1 - predictions).log().clip(min=-100.0)
        return _m("losses")._reduce(-(targets * log_p + (1 - targets) * log_q), self.reduction)

    return forward


mutant("bce_log_then_clip", "op:binary_cross_entropy or bce",
       "BCE composed of log() then clip(min=-100): at p = 0 or 1 exactly backward is 0 / 0 = NaN "
       "(torch divides by max(p (1 - p), 1e-12))",
       losses__BinaryCrossEntropyLoss__forward=_bce_log_then_clip)


def _tanh_by_exp(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        e = np.exp(2 * x)
        self.out = (e - 1) / (e + 1)
        return self.out

    return forward


mutant("tanh_by_exp", "op:tanh",
       "tanh computed as (e^2x - 1) / (e^2x + 1): overflows to NaN for large |x|",
       activations__TanhFunction__forward=_tanh_by_exp)

# ----------------------------------------------------------------------------- clipping threshold


def _threshold_compared_to_norm(orig: Any) -> Any:
    def clip_grad_norm(parameters: Any, max_norm: float = 1.0, norm_type: float = 2.0) -> float:
        clipping = _m("clipping")
        params = clipping._parameters(parameters)
        grads = [p.grad for p in params if getattr(p, "grad", None) is not None]
        total = clipping.total_norm((g.data for g in grads), norm_type)
        if total <= max_norm:  # torch compares the coefficient with 1, not the norm
            return total
        return orig(params, max_norm, norm_type)

    return clip_grad_norm


mutant("clip_skips_at_threshold", "clipping",
       "clip_grad_norm leaves the gradients alone when total <= max_norm; torch scales by "
       "max_norm / (total + 1e-6) whenever that is below 1, at the threshold too",
       clipping__clip_grad_norm=_threshold_compared_to_norm)

# ----------------------------------------------------------------------------- empty tensors


def _safe_mean(orig: Any) -> Any:
    def forward(self: Any, a: np.ndarray) -> np.ndarray:
        orig(self, a)
        total = a.sum(axis=self.axes, keepdims=self.params["keepdims"])
        return total / total.dtype.type(max(self.count, 1))  # a "safe" mean: 0 for nothing

    return forward


mutant("mean_of_nothing_is_zero", "op:mean",
       "mean over a size-0 axis divides by max(count, 1) and gives 0 (torch: NaN)",
       functions__Mean__forward=_safe_mean)


def _linear_rejects_empty(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        if x.shape[0] == 0:
            raise ValueError("Linear: empty batch")
        return orig(self, x)

    return forward


mutant("linear_rejects_empty_batch", "op:linear",
       "Linear raises on a batch of size 0 (torch returns an empty (0, out) result)",
       layers__Linear__forward=_linear_rejects_empty)
