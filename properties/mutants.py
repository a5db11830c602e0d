"""The mutant catalog: named, documented bugs that the suite must catch.

A test that cannot fail is a defect. Each mutant below is a bug a student (or a refactor) really
writes, applied by patching the reference ``tinytorch`` through the target adapter. The mutation
runner (``python -m properties.mutate``) runs the suite once per mutant and demands a failure.

A mutant is one or more patches ``"module.Attr.path" -> factory(original) -> replacement``,
where ``module`` is a ``<target>.core`` module. Patches are undone by :func:`applied`'s exit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from properties import target

MUTANT_ENV = "TINYTORCH_MUTANT"
Factory = Callable[[Any], Any]


@dataclass(frozen=True)
class Mutant:
    name: str
    bug: str
    patches: dict[str, Factory]


CATALOG: dict[str, Mutant] = {}
_ACTIVE: list[contextlib.AbstractContextManager[Mutant]] = []  # held so they are never undone


def mutant(name: str, bug: str, **patches: Factory) -> None:
    """Declare a mutant; keyword names are patch paths with ``__`` for dots."""
    assert name not in CATALOG, f"duplicate mutant {name}"
    CATALOG[name] = Mutant(name, bug, {k.replace("__", "."): f for k, f in patches.items()})


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
        raise KeyError(f"{MUTANT_ENV}={name!r}: no such mutant (see properties/mutants.py)")
    if not target.is_reference():
        raise RuntimeError("mutants patch the reference tinytorch; the target is "
                           f"{target.get().name!r}")
    context = applied(name)
    context.__enter__()
    _ACTIVE.append(context)


def active() -> str | None:
    return os.environ.get(MUTANT_ENV) or None


def _m(name: str) -> Any:
    return target.get().module(name)


# ----------------------------------------------------------------------------- broadcasting

mutant(
    "broadcast_grad_not_reduced",
    "binary ops return the upstream gradient unreduced when an input was broadcast",
    functions__unbroadcast=lambda orig: lambda grad, shape: grad,
)


def _unbroadcast_leading_only(orig: Any) -> Any:
    def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        extra = grad.ndim - len(shape)
        return grad.sum(axis=tuple(range(extra))) if extra > 0 else grad

    return unbroadcast


mutant(
    "unbroadcast_forgets_size1_axes",
    "gradient summed over new leading axes but not over stretched size-1 axes",
    functions__unbroadcast=_unbroadcast_leading_only,
)

# ----------------------------------------------------------------------------- reductions

mutant(
    "sum_backward_ignores_axis",
    "sum backward spreads the total gradient everywhere, as if every sum were a full sum",
    functions__Sum__backward=lambda orig: lambda self, grad: (np.full(self.shape, grad.sum()),),
)


def _mean_not_divided(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        grad = _m("functions").expand_reduced(grad, self.axes, self.params["keepdims"])
        return (np.broadcast_to(grad, self.shape).copy(),)

    return backward


mutant("mean_backward_not_divided", "mean backward forgets to divide by the count",
       functions__Mean__backward=_mean_not_divided)


def _max_to_all(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        grad = _m("functions").expand_reduced(grad, self.axes, self.params["keepdims"])
        return (np.broadcast_to(grad, self.share.shape).copy(),)

    return backward


mutant("max_backward_to_every_element",
       "max/min backward sends the gradient to every element, not only the extreme",
       functions__Extremum__backward=_max_to_all)

# ----------------------------------------------------------------------------- indexing, shape


def _getitem_overwrites(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        out = np.zeros(self.shape, dtype=grad.dtype)
        out[self.params["index"]] = grad
        return (out,)

    return backward


mutant("getitem_overwrites_repeats",
       "indexing backward assigns (out[idx] = g) so repeated indices keep only one gradient",
       functions__GetItem__backward=_getitem_overwrites)

mutant("permute_backward_same_axes",
       "permute backward applies the same permutation instead of its inverse",
       functions__Permute__backward=lambda orig: lambda self, grad: (
           np.transpose(grad, self.params["axes"]),))


def _even_split(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.array_split(grad, len(self.splits) + 1, axis=self.params["axis"]))

    return backward


mutant("concatenate_backward_even_split",
       "concatenate backward splits the gradient into equal parts, ignoring the input sizes",
       functions__Concatenate__backward=_even_split)


def _transpose_first_axes(orig: Any) -> Any:
    def transpose(self: Any, dim0: Any = None, dim1: Any = None) -> Any:
        if dim0 is None and self.ndim >= 2:
            dim0, dim1 = 0, 1
        return orig(self, dim0, dim1)

    return transpose


mutant("transpose_default_swaps_first_axes",
       "transpose() with no dims swaps the first two axes instead of the last two",
       tensor__Tensor__transpose=_transpose_first_axes)

# ----------------------------------------------------------------------------- linear algebra


def _matmul_batch_not_reduced(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.a, self.b
        if a.ndim <= 2 and b.ndim <= 2:
            return orig(self, grad)
        return np.matmul(grad, np.swapaxes(b, -1, -2)), np.matmul(np.swapaxes(a, -1, -2), grad)

    return backward


mutant("matmul_batch_grad_not_reduced",
       "batched matmul backward keeps the broadcast batch axes in the operands' gradients",
       functions__MatMul__backward=_matmul_batch_not_reduced)


def _matmul_wrong_transpose(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad_a, grad_b = orig(self, grad)
        return grad_a, np.ascontiguousarray(np.swapaxes(grad_b, -1, -2)).reshape(grad_b.shape) \
            if grad_b.ndim >= 2 else grad_b

    return backward


mutant("matmul_backward_transposed_wrong",
       "dB computed as (dY^T A) and reshaped to B's shape: the transpose of the right answer",
       functions__MatMul__backward=_matmul_wrong_transpose)


# ----------------------------------------------------------------------------- elementwise

mutant("div_backward_sign", "d(a/b)/db = +a/b^2 (the minus sign dropped)",
       functions__Div__backward=lambda orig: lambda self, grad: (
           _m("functions").unbroadcast(grad / self.b, self.a.shape),
           _m("functions").unbroadcast(grad * self.a / (self.b * self.b), self.b.shape)))

mutant("pow_backward_off_by_one", "d(x^p)/dx = p x^p instead of p x^(p-1)",
       functions__Pow__backward=lambda orig: lambda self, grad: (
           grad * self.params["exponent"] * self.a ** self.params["exponent"],))

mutant("abs_backward_positive_only", "abs backward passes the gradient only where x > 0",
       functions__Abs__backward=lambda orig: lambda self, grad: (grad * (self.a > 0),))

mutant("exp_backward_uses_input", "exp backward multiplies by x instead of exp(x)",
       functions__Exp__backward=lambda orig: lambda self, grad: (grad * np.log(self.out),))

mutant("sqrt_backward_missing_half", "sqrt backward is g / sqrt(x), not g / (2 sqrt(x))",
       functions__Sqrt__backward=lambda orig: lambda self, grad: (grad / self.out,))

mutant("clip_backward_passes_all", "clip backward lets the gradient through clamped elements",
       functions__Clip__backward=lambda orig: lambda self, grad: (grad,))


def _where_swapped(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to_a, to_b = orig(self, grad)
        if to_a.shape == to_b.shape:
            return to_b, to_a
        return to_a * 0, to_b

    return backward


mutant("where_backward_swapped", "where backward sends each branch the other's gradient",
       functions__Where__backward=_where_swapped)

mutant("maximum_backward_to_both", "maximum backward gives the full gradient to both operands",
       functions__Maximum__backward=lambda orig: lambda self, grad: (
           _m("functions").unbroadcast(grad, self.shapes[0]),
           _m("functions").unbroadcast(grad, self.shapes[1])))

# ----------------------------------------------------------------------------- activations

mutant("relu_backward_unmasked", "ReLU backward passes the gradient through negative inputs",
       activations__ReLUFunction__backward=lambda orig: lambda self, grad: (grad,))

mutant("leaky_relu_backward_zero_slope",
       "LeakyReLU backward uses slope 0 for negatives (ReLU's derivative)",
       activations__LeakyReLUFunction__backward=lambda orig: lambda self, grad: (
           grad * (self.slope == 1),))


def _sigmoid_input_forward(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        self.x = x
        return orig(self, x)

    return forward


mutant("sigmoid_backward_uses_input",
       "Sigmoid backward computes x(1-x) from the input instead of s(1-s) from the output",
       activations__SigmoidFunction__forward=_sigmoid_input_forward,
       activations__SigmoidFunction__backward=lambda orig: lambda self, grad: (
           grad * self.x * (1 - self.x),))

mutant("sigmoid_naive_overflow", "Sigmoid computes 1/(1+exp(-x)) directly: exp overflows",
       activations__stable_sigmoid=lambda orig: lambda x: 1 / (1 + np.exp(-x)))

mutant("tanh_backward_not_squared", "tanh backward uses 1 - tanh(x) instead of 1 - tanh(x)^2",
       activations__TanhFunction__backward=lambda orig: lambda self, grad: (
           grad * (1 - self.out),))


def _gelu_other_slope(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        act = _m("activations")
        exact = self.params["approximate"] == "none"
        value, _ = (act.gelu_exact if exact else act.gelu_tanh)(x)
        _, self.slope = (act.gelu_tanh if exact else act.gelu_exact)(x)
        return value.astype(x.dtype)

    return forward


mutant("gelu_backward_other_approximation",
       "GELU backward differentiates the other formula (tanh form for exact, and vice versa)",
       activations__GELUFunction__forward=_gelu_other_slope)


def _naive_softmax(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        e = np.exp(x)
        self.out = e / e.sum(axis=self.params["dim"], keepdims=True)
        return self.out

    return forward


mutant("softmax_no_max_subtraction", "softmax exponentiates without subtracting the max",
       activations__SoftmaxFunction__forward=_naive_softmax)

mutant("log_softmax_backward_drops_sum",
       "log-softmax backward is g - softmax, forgetting the sum of g",
       activations__LogSoftmaxFunction__backward=lambda orig: lambda self, grad: (
           grad - self.softmax,))

# ----------------------------------------------------------------------------- autograd engine


def _overwrite(orig: Any) -> Any:
    def accumulate(leaf: Any, grad: np.ndarray) -> None:
        leaf.grad = type(leaf)._wrap(np.asarray(grad, dtype=leaf.data.dtype).copy())

    return accumulate


mutant("accumulation_overwrites", "leaf gradients are assigned (grad = g), not added (grad += g)",
       autograd__accumulate_leaf_grad=_overwrite)


def _recursive_backward(orig: Any) -> Any:
    accumulate = _m("autograd").accumulate_leaf_grad

    def run_backward(root: Any, grad: np.ndarray) -> None:
        def visit(t: Any, g: np.ndarray) -> None:
            if t._ctx is None:
                accumulate(t, g)
                return
            for parent, pg in zip(t._ctx.inputs, t._ctx.backward(g)):
                if pg is not None and parent.requires_grad:
                    visit(parent, pg)

        visit(root, grad)

    return run_backward


mutant("recursive_backward",
       "backward recurses along every path instead of one reverse-topological pass",
       tensor__run_backward=_recursive_backward)

mutant("no_grad_ignored", "no_grad() does not turn recording off",
       autograd__is_grad_enabled=lambda orig: lambda: True)


def _all_inputs(orig: Any) -> Any:
    func = orig.__func__

    def apply(cls: Any, *inputs: Any, **params: Any) -> Any:
        out = func(cls, *inputs, **params)
        if not all(t.requires_grad for t in inputs):
            out.requires_grad, out._ctx = False, None
        return out

    return classmethod(apply)


mutant("requires_grad_needs_all_inputs",
       "an op's result requires grad only when every input does (all instead of any)",
       autograd__Function__apply=_all_inputs)

mutant("zero_grad_noop", "Tensor.zero_grad() leaves the old gradient in place",
       tensor__Tensor__zero_grad=lambda orig: lambda self: None)

# ----------------------------------------------------------------------------- layers, losses


def _linear_no_bias(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        return x @ self.weight

    return forward


mutant("linear_forgets_bias", "Linear.forward computes x @ W and never adds the bias",
       layers__Linear__forward=_linear_no_bias)


def _dropout_unscaled(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        keep = (np.random.random(x.shape) >= self.p).astype(x.dtype)
        return x * keep

    return forward


mutant("dropout_not_rescaled", "Dropout zeroes elements but does not scale survivors by 1/(1-p)",
       layers__Dropout__forward=_dropout_unscaled)


def _dropout_always(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        was, self.training = self.training, True
        try:
            return orig(self, x)
        finally:
            self.training = was

    return forward


mutant("dropout_active_in_eval", "Dropout drops elements in eval mode too",
       layers__Dropout__forward=_dropout_always)


def _mean_is_sum(orig: Any) -> Any:
    def reduce(loss: Any, reduction: str) -> Any:
        return orig(loss, "sum" if reduction == "mean" else reduction)

    return reduce


mutant("loss_mean_is_sum", "reduction='mean' sums the per-element losses",
       losses___reduce=_mean_is_sum)


def _naive_log_softmax(orig: Any) -> Any:
    def log_softmax(x: Any, dim: int = -1) -> Any:
        e = x.exp()
        return (e / e.sum(axis=dim, keepdims=True)).log()

    return log_softmax


mutant("cross_entropy_without_logsumexp",
       "cross-entropy takes log(softmax) computed naively: large logits overflow",
       losses__log_softmax=_naive_log_softmax)

# The catalogs of the other areas register themselves on import (they use ``mutant`` above).
from properties import (  # noqa: E402, F401
    mutants_data,
    mutants_optimizers,
    mutants_schedules,
    mutants_training,
)
