"""The tensor-level catalog: op, activation, autograd-engine, layer and loss bugs.

Each is a bug a student (or a refactor) really writes. ``tests/test_ops.py`` and
``tests/test_autograd_laws.py`` must kill them; the edge-case ones (``mutants_edges``) only the
properties that draw inputs on kinks, domain edges and extremes can.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from properties.mutation import module as _m
from properties.mutation import mutant

# ----------------------------------------------------------------------------- broadcasting

mutant(
    "broadcast_grad_not_reduced", "op:add",
    "binary ops return the upstream gradient unreduced when an input was broadcast",
    functions__unbroadcast=lambda orig: lambda grad, shape: grad,
)


def _unbroadcast_leading_only(orig: Any) -> Any:
    def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        extra = grad.ndim - len(shape)
        return grad.sum(axis=tuple(range(extra))) if extra > 0 else grad

    return unbroadcast


mutant(
    "unbroadcast_forgets_size1_axes", "op:add",
    "gradient summed over new leading axes but not over stretched size-1 axes",
    functions__unbroadcast=_unbroadcast_leading_only,
)

# ----------------------------------------------------------------------------- reductions

mutant(
    "sum_backward_ignores_axis", "op:sum",
    "sum backward spreads the total gradient everywhere, as if every sum were a full sum",
    functions__Sum__backward=lambda orig: lambda self, grad: (np.full(self.shape, grad.sum()),),
)


def _mean_not_divided(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        grad = _m("functions").expand_reduced(grad, self.axes, self.params["keepdims"])
        return (np.broadcast_to(grad, self.shape).copy(),)

    return backward


mutant("mean_backward_not_divided", "op:mean", "mean backward forgets to divide by the count",
       functions__Mean__backward=_mean_not_divided)


def _max_to_all(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        grad = _m("functions").expand_reduced(grad, self.axes, self.params["keepdims"])
        return (np.broadcast_to(grad, self.share.shape).copy(),)

    return backward


mutant("max_backward_to_every_element", "op:(max or min) and not softmax and not maximum",
       "max/min backward sends the gradient to every element, not only the extreme",
       functions__Extremum__backward=_max_to_all)

# ----------------------------------------------------------------------------- indexing, shape


def _getitem_overwrites(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        out = np.zeros(self.shape, dtype=grad.dtype)
        out[self.params["index"]] = grad
        return (out,)

    return backward


mutant("getitem_overwrites_repeats", "op:getitem",
       "indexing backward assigns (out[idx] = g) so repeated indices keep only one gradient",
       functions__GetItem__backward=_getitem_overwrites)

mutant("permute_backward_same_axes", "op:permute",
       "permute backward applies the same permutation instead of its inverse",
       functions__Permute__backward=lambda orig: lambda self, grad: (
           np.transpose(grad, self.params["axes"]),))


def _even_split(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.array_split(grad, len(self.splits) + 1, axis=self.params["axis"]))

    return backward


mutant("concatenate_backward_even_split", "op:concatenate",
       "concatenate backward splits the gradient into equal parts, ignoring the input sizes",
       functions__Concatenate__backward=_even_split)


def _transpose_first_axes(orig: Any) -> Any:
    def transpose(self: Any, dim0: Any = None, dim1: Any = None) -> Any:
        if dim0 is None and self.ndim >= 2:
            dim0, dim1 = 0, 1
        return orig(self, dim0, dim1)

    return transpose


mutant("transpose_default_swaps_first_axes", "op:transpose",
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


mutant("matmul_batch_grad_not_reduced", "op:matmul",
       "batched matmul backward keeps the broadcast batch axes in the operands' gradients",
       functions__MatMul__backward=_matmul_batch_not_reduced)


def _matmul_wrong_transpose(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad_a, grad_b = orig(self, grad)
        return grad_a, np.ascontiguousarray(np.swapaxes(grad_b, -1, -2)).reshape(grad_b.shape) \
            if grad_b.ndim >= 2 else grad_b

    return backward


mutant("matmul_backward_transposed_wrong", "op:matmul",
       "dB computed as (dY^T A) and reshaped to B's shape: the transpose of the right answer",
       functions__MatMul__backward=_matmul_wrong_transpose)


# ----------------------------------------------------------------------------- elementwise

mutant("div_backward_sign", "op:div", "d(a/b)/db = +a/b^2 (the minus sign dropped)",
       functions__Div__backward=lambda orig: lambda self, grad: (
           _m("functions").unbroadcast(grad / self.b, self.a.shape),
           _m("functions").unbroadcast(grad * self.a / (self.b * self.b), self.b.shape)))

mutant("pow_backward_off_by_one", "op:pow", "d(x^p)/dx = p x^p instead of p x^(p-1)",
       functions__Pow__backward=lambda orig: lambda self, grad: (
           grad * self.params["exponent"] * self.a ** self.params["exponent"],))

mutant("abs_backward_positive_only", "op:abs", "abs backward passes the gradient only where x > 0",
       functions__Abs__backward=lambda orig: lambda self, grad: (grad * (self.a > 0),))

mutant("exp_backward_uses_input", "op:exp", "exp backward multiplies by x instead of exp(x)",
       functions__Exp__backward=lambda orig: lambda self, grad: (grad * np.log(self.out),))

mutant("sqrt_backward_missing_half", "op:sqrt", "sqrt backward is g / sqrt(x), not g / (2 sqrt(x))",
       functions__Sqrt__backward=lambda orig: lambda self, grad: (grad / self.out,))

mutant("clip_backward_passes_all", "op:clip",
       "clip backward lets the gradient through clamped elements",
       functions__Clip__backward=lambda orig: lambda self, grad: (grad,))


def _where_swapped(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to_a, to_b = orig(self, grad)
        if to_a.shape == to_b.shape:
            return to_b, to_a
        return to_a * 0, to_b

    return backward


mutant("where_backward_swapped", "op:where",
       "where backward sends each branch the other's gradient",
       functions__Where__backward=_where_swapped)

mutant("maximum_backward_to_both", "op:maximum",
       "maximum backward gives the full gradient to both operands",
       functions__Maximum__backward=lambda orig: lambda self, grad: (
           _m("functions").unbroadcast(grad, self.shapes[0]),
           _m("functions").unbroadcast(grad, self.shapes[1])))

# ----------------------------------------------------------------------------- activations

mutant("relu_backward_unmasked", "op:relu",
       "ReLU backward passes the gradient through negative inputs",
       activations__ReLUFunction__backward=lambda orig: lambda self, grad: (grad,))

mutant("leaky_relu_backward_zero_slope", "op:leaky_relu",
       "LeakyReLU backward uses slope 0 for negatives (ReLU's derivative)",
       activations__LeakyReLUFunction__backward=lambda orig: lambda self, grad: (
           grad * (self.slope == 1),))


def _sigmoid_input_forward(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        self.x = x
        return orig(self, x)

    return forward


mutant("sigmoid_backward_uses_input", "op:sigmoid",
       "Sigmoid backward computes x(1-x) from the input instead of s(1-s) from the output",
       activations__SigmoidFunction__forward=_sigmoid_input_forward,
       activations__SigmoidFunction__backward=lambda orig: lambda self, grad: (
           grad * self.x * (1 - self.x),))

mutant("sigmoid_naive_overflow", "op:sigmoid",
       "Sigmoid computes 1/(1+exp(-x)) directly: exp overflows",
       activations__stable_sigmoid=lambda orig: lambda x: 1 / (1 + np.exp(-x)))

mutant("tanh_module_off_the_graph", "op:tanh",
       "the Tanh module computes on a detached input: the chain of a network breaks there",
       activations__Tanh__forward=lambda orig: lambda self, x: orig(self, x.detach()))

mutant("tanh_backward_not_squared", "op:tanh",
       "tanh backward uses 1 - tanh(x) instead of 1 - tanh(x)^2",
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


mutant("gelu_backward_other_approximation", "op:gelu",
       "GELU backward differentiates the other formula (tanh form for exact, and vice versa)",
       activations__GELUFunction__forward=_gelu_other_slope)


def _naive_softmax(orig: Any) -> Any:
    def forward(self: Any, x: np.ndarray) -> np.ndarray:
        e = np.exp(x)
        self.out = e / e.sum(axis=self.params["dim"], keepdims=True)
        return self.out

    return forward


mutant("softmax_no_max_subtraction", "op:softmax",
       "softmax exponentiates without subtracting the max",
       activations__SoftmaxFunction__forward=_naive_softmax)

mutant("log_softmax_backward_drops_sum", "op:log_softmax",
       "log-softmax backward is g - softmax, forgetting the sum of g",
       activations__LogSoftmaxFunction__backward=lambda orig: lambda self, grad: (
           grad - self.softmax,))

# ----------------------------------------------------------------------------- autograd engine


def _overwrite(orig: Any) -> Any:
    def accumulate(leaf: Any, grad: np.ndarray) -> None:
        leaf.grad = type(leaf)._wrap(np.asarray(grad, dtype=leaf.data.dtype).copy())

    return accumulate


mutant("accumulation_overwrites", "autograd",
       "leaf gradients are assigned (grad = g), not added (grad += g)",
       autograd__accumulate_leaf_grad=_overwrite)


def _float64_grads(orig: Any) -> Any:
    def accumulate(leaf: Any, grad: np.ndarray) -> None:
        orig(leaf, grad)
        leaf.grad = type(leaf)._wrap(np.asarray(leaf.grad.data, dtype=np.float64))

    return accumulate


mutant("leaf_grad_in_float64", "op:add",
       "leaf gradients are stored as float64 whatever the leaf's dtype (np.asarray(g, float))",
       autograd__accumulate_leaf_grad=_float64_grads)


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


mutant("recursive_backward", "autograd",
       "backward recurses along every path instead of one reverse-topological pass",
       tensor__run_backward=_recursive_backward)

mutant("no_grad_ignored", "autograd", "no_grad() does not turn recording off",
       autograd__is_grad_enabled=lambda orig: lambda: True)


def _all_inputs(orig: Any) -> Any:
    func = orig.__func__

    def apply(cls: Any, *inputs: Any, **params: Any) -> Any:
        out = func(cls, *inputs, **params)
        if not all(t.requires_grad for t in inputs):
            out.requires_grad, out._ctx = False, None
        return out

    return classmethod(apply)


mutant("requires_grad_needs_all_inputs", "autograd",
       "an op's result requires grad only when every input does (all instead of any)",
       autograd__Function__apply=_all_inputs)

mutant("zero_grad_noop", "autograd", "Tensor.zero_grad() leaves the old gradient in place",
       tensor__Tensor__zero_grad=lambda orig: lambda self: None)

# ----------------------------------------------------------------------------- layers, losses


def _linear_no_bias(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        return x @ self.weight

    return forward


mutant("linear_forgets_bias", "op:linear", "Linear.forward computes x @ W and never adds the bias",
       layers__Linear__forward=_linear_no_bias)


def _dropout_unscaled(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        keep = (np.random.random(x.shape) >= self.p).astype(x.dtype)
        return x * keep

    return forward


mutant("dropout_not_rescaled", "layers",
       "Dropout zeroes elements but does not scale survivors by 1/(1-p)",
       layers__Dropout__forward=_dropout_unscaled)


def _dropout_always(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        was, self.training = self.training, True
        try:
            return orig(self, x)
        finally:
            self.training = was

    return forward


mutant("dropout_active_in_eval", "layers", "Dropout drops elements in eval mode too",
       layers__Dropout__forward=_dropout_always)


def _mean_is_sum(orig: Any) -> Any:
    def reduce(loss: Any, reduction: str) -> Any:
        return orig(loss, "sum" if reduction == "mean" else reduction)

    return reduce


mutant("loss_mean_is_sum", "op:loss", "reduction='mean' sums the per-element losses",
       losses___reduce=_mean_is_sum)


def _naive_log_softmax(orig: Any) -> Any:
    def log_softmax(x: Any, dim: int = -1) -> Any:
        e = x.exp()
        return (e / e.sum(axis=dim, keepdims=True)).log()

    return log_softmax


mutant("cross_entropy_without_logsumexp", "op:cross_entropy",
       "cross-entropy takes log(softmax) computed naively: large logits overflow",
       losses__log_softmax=_naive_log_softmax)


# ----------------------------------------------------------------------------- which tensors
# hold .grad, grad mode, custom Functions


def _every_tensor_keeps_grad(orig: Any) -> Any:
    def run_backward(root: Any, grad: np.ndarray) -> None:
        autograd = _m("autograd")
        pending = {id(root): grad}
        for tensor in reversed(autograd.topological_order(root)):
            g = pending.pop(id(tensor), None)
            if g is None:
                continue
            autograd.accumulate_leaf_grad(tensor, g)  # leaves and intermediates alike
            if tensor._ctx is None:
                continue
            for parent, pg in zip(tensor._ctx.inputs, tensor._ctx.backward(g)):
                if pg is not None and parent.requires_grad:
                    pending[id(parent)] = pending[id(parent)] + pg if id(parent) in pending \
                        else pg

    return run_backward


mutant("intermediates_keep_grad", "autograd",
       "backward stores a .grad on every tensor it passes, intermediates included",
       tensor__run_backward=_every_tensor_keeps_grad)


def _grad_to_constants(orig: Any) -> Any:
    def topological_order(root: Any) -> list[Any]:
        order, seen = [], set()

        def visit(t: Any) -> None:
            if id(t) in seen:
                return
            seen.add(id(t))
            for parent in (t._ctx.inputs if t._ctx is not None else ()):
                visit(parent)
            order.append(t)

        visit(root)
        return order

    return topological_order


mutant("grad_to_constants", "autograd",
       "backward walks into inputs that do not require grad and gives them a .grad too",
       autograd__topological_order=_grad_to_constants,
       tensor__run_backward=lambda orig: _ungated_backward)


def _ungated_backward(root: Any, grad: np.ndarray) -> None:
    autograd = _m("autograd")
    pending = {id(root): grad}
    for tensor in reversed(autograd.topological_order(root)):
        g = pending.pop(id(tensor), None)
        if g is None:
            continue
        if tensor._ctx is None:
            autograd.accumulate_leaf_grad(tensor, g)
            continue
        for parent, pg in zip(tensor._ctx.inputs, tensor._ctx.backward(g)):
            if pg is not None:
                pending[id(parent)] = pending[id(parent)] + pg if id(parent) in pending else pg


def _restores_enabled(orig: Any) -> Any:
    @contextlib.contextmanager
    def grad_mode(enabled: bool) -> Iterator[None]:
        autograd = _m("autograd")
        autograd._mode.enabled = enabled
        try:
            yield
        finally:
            autograd._mode.enabled = True  # not the mode that was in force before

    return grad_mode


mutant("no_grad_restores_enabled", "autograd",
       "leaving no_grad() always turns grad mode on, even inside an outer no_grad()",
       autograd___grad_mode=_restores_enabled)


def _not_exception_safe(orig: Any) -> Any:
    @contextlib.contextmanager
    def grad_mode(enabled: bool) -> Iterator[None]:
        autograd = _m("autograd")
        previous = autograd.is_grad_enabled()
        autograd._mode.enabled = enabled
        yield  # no try/finally: an exception inside leaves the mode changed
        autograd._mode.enabled = previous

    return grad_mode


mutant("no_grad_not_exception_safe", "autograd",
       "no_grad() restores the mode only on a normal exit: an exception leaves it off",
       autograd___grad_mode=_not_exception_safe)

mutant("backward_grads_unchecked", "autograd",
       "the engine zips a node's inputs with whatever its backward returned: too few gradients "
       "or a None silently leave an input without its gradient",
       autograd___checked=lambda orig: lambda node, grads: tuple(grads) + (None,) * max(
           0, len(node.inputs) - len(grads)))


def _children_only(orig: Any) -> Any:
    def modules(self: Any) -> Iterator[Any]:
        yield self
        for _, value in self._children():
            if isinstance(value, _m("layers").Module):
                yield value  # not value.modules(): grandchildren are missed

    return modules


def _load_aliases(orig: Any) -> Any:
    def load_state_dict(self: Any, state: Any) -> None:
        orig(self, state)
        for name, p in self.named_parameters():  # astype(copy=False): the caller's array
            if isinstance(state[name], np.ndarray) and state[name].dtype == p.data.dtype:
                p.data = state[name]

    return load_state_dict


mutant("load_state_dict_aliases", "layers",
       "load_state_dict keeps the caller's arrays as the parameters (no copy)",
       layers__Module__load_state_dict=_load_aliases)

mutant("module_call_drops_keywords", "layers",
       "module(x, k=v) calls forward(x): keyword arguments are dropped",
       **{"layers.Module.__call__": lambda orig: lambda self, *args, **kwargs: orig(self, *args)})

mutant("module_zero_grad_keeps_grads", "layers",
       "model.zero_grad() is a no-op: every parameter keeps its .grad",
       layers__Module__zero_grad=lambda orig: lambda self: None)

mutant("modes_reach_only_children", "layers",
       "train()/eval() reach the model's direct children but not their children",
       layers__Module__modules=_children_only)


def _axes_wrap(orig: Any) -> Any:
    def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
        if axis is None:
            return tuple(range(ndim))
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        return tuple(sorted({int(a) % max(ndim, 1) for a in axes})) if ndim else ()

    return normalize_axes


mutant("axis_wraps_around", "errors",
       "an axis out of range wraps around modulo ndim (sum(axis=3) of a 2-D tensor sums axis "
       "1) instead of raising",
       functions__normalize_axes=_axes_wrap)


mutant("softmax_dim_wraps_around", "errors",
       "softmax's dim out of range wraps around modulo ndim instead of raising",
       activations___check_dim=lambda orig: lambda x, dim, name: dim % max(x.ndim, 1))

# ----------------------------------------------------------------------------- call forms


def _default(orig: Any, **defaults: Any) -> Any:
    """``__init__`` with other defaults for the arguments a caller leaves out."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if not args:
            kwargs = {**defaults, **kwargs}
        orig(self, *args, **kwargs)

    return __init__


mutant("leaky_relu_default_slope", "op:leaky_relu",
       "LeakyReLU() defaults to a slope of 0.1 (torch: 0.01)",
       **{"activations.LeakyReLU.__init__": lambda orig: _default(orig, negative_slope=0.1)})

mutant("gelu_default_tanh", "op:gelu",
       "GELU() defaults to the tanh approximation (torch: the exact erf form)",
       **{"activations.GELU.__init__": lambda orig: _default(orig, approximate="tanh")})

mutant("loss_default_reduction_sum", "op:loss or cross_entropy",
       "a loss built without reduction sums (torch: 'mean')",
       **{"losses.Loss.__init__": lambda orig: _default(orig, reduction="sum")})


def _tensor_targets_only(orig: Any) -> Any:
    def class_indices(targets: Any, num_classes: int, batch: int) -> np.ndarray:
        return orig(targets.data, num_classes, batch)  # AttributeError for a list

    return class_indices


mutant("cross_entropy_needs_tensor_targets", "op:cross_entropy",
       "cross-entropy reads targets.data: targets given as a list fail",
       losses__class_indices=_tensor_targets_only)


def _transpose_always_last_two(orig: Any) -> Any:
    def transpose(self: Any, dim0: Any = None, dim1: Any = None) -> Any:
        return orig(self, -2 if dim0 is None else dim0, -1 if dim1 is None else dim1)

    return transpose


mutant("transpose_below_2d_raises", "op:transpose",
       "transpose() of a 0-d or 1-d tensor swaps axes -2 and -1 and raises (torch's .T: itself)",
       tensor__Tensor__transpose=_transpose_always_last_two)


def _permute_splat_only(orig: Any) -> Any:
    def permute(self: Any, *axes: Any) -> Any:
        if any(a == -self.ndim for a in axes if isinstance(a, int)):
            raise IndexError(f"permute{axes}: axis out of range")  # the off-by-one bound
        return _m("functions").Permute.apply(self, axes=tuple(a % self.ndim for a in axes))

    return permute


mutant("permute_tuple_form_and_minus_ndim", "op:permute",
       "permute((1, 0)) is not accepted, and axis -ndim is rejected as out of range",
       tensor__Tensor__permute=_permute_splat_only)

mutant("stack_default_axis_last", "op:stack", "stack(tensors) stacks along the last axis",
       tensor__stack=lambda orig: lambda tensors, axis=-1: orig(tensors, axis))


def _where_reads_arrays_only(orig: Any) -> Any:
    def where(condition: Any, a: Any, b: Any) -> Any:
        cond = np.asarray(condition)  # a Tensor becomes a 0-d object array: always "true"
        return orig(cond if cond.dtype != object else np.ones((), bool), a, b)

    return where


mutant("where_tensor_condition_always_true", "op:where",
       "where(mask_tensor, a, b) reads the Tensor as one truthy object: a everywhere",
       tensor__where=_where_reads_arrays_only)

def _number_in_float64(orig: Any) -> Any:
    def where(condition: Any, a: Any, b: Any) -> Any:
        lift = _m("tensor").Tensor
        return orig(condition, a, lift(np.float64(b)) if isinstance(b, float) else b)

    return where


mutant("where_number_in_float64", "op:where_number",
       "where(mask, x, 0.0) lifts the number to float64: a float32 x comes back float64",
       tensor__where=_number_in_float64)


def _array_takes_tensor_dtype(orig: Any) -> Any:
    def lift(self: Any, other: Any) -> Any:
        if isinstance(other, np.ndarray):
            return orig(self, other.astype(self.dtype))
        return orig(self, other)

    return lift


mutant("array_operand_takes_tensor_dtype", "op:add_array_other_dtype",
       "x + ndarray casts the array to x's dtype: float32 + float64 comes back float32",
       **{"tensor.Tensor._lift": _array_takes_tensor_dtype})

mutant("log_softmax_forward_ignores_dim", "op:log_softmax",
       "LogSoftmax().forward(x, dim=d) uses the constructor's dim, not d",
       activations__LogSoftmax__forward=lambda orig: lambda self, x, dim=None: orig(self, x))

mutant("max_keepdims_by_default", "op:max and not softmax and not maximum",
       "x.max(axis) keeps the reduced axis unless told not to (torch: keepdim=False)",
       tensor__Tensor__max=lambda orig: lambda self, axis=None, keepdims=True: orig(
           self, axis, keepdims))

mutant("concatenate_default_axis_last", "op:concatenate",
       "concatenate(tensors) joins along the last axis (torch.cat: dim=0)",
       tensor__concatenate=lambda orig: lambda tensors, axis=-1: orig(tensors, axis))

# ----------------------------------------------------------------------------- Tensor protocol

mutant("len_of_scalar_is_one", "tensor", "len() of a 0-d tensor is 1 instead of a TypeError",
       **{"tensor.Tensor.__len__": lambda orig: lambda self: self.shape[0] if self.shape else 1})

mutant("detach_returns_self", "tensor",
       "x.detach() returns x itself: the gradient still flows into x",
       tensor__Tensor__detach=lambda orig: lambda self: self)

mutant("rmatmul_operands_swapped", "op:rmatmul",
       "ndarray @ Tensor computes Tensor @ ndarray (__rmatmul__ forgets the order)",
       **{"tensor.Tensor.__rmatmul__": lambda orig: lambda self, other: self.matmul(
           self._lift(other).transpose()).transpose()})

mutant("bce_target_grad_sign", "op:bce_soft_targets",
       "BCE's gradient for the targets is log(1 - p) + log(p) (a sign lost)",
       losses__BCEFunction__backward=lambda orig: lambda self, grad: (
           orig(self, grad)[0], grad * (self.log_q + self.log_p)))

mutant("gelu_function_default_tanh", "op:gelu_function_default",
       "gelu(x) defaults to the tanh approximation (torch's default is the exact erf form)",
       activations__gelu=lambda orig: lambda x, approximate="tanh": orig(x, approximate))


def _index_tensor_as_mask(orig: Any) -> Any:
    def plain(index: Any) -> Any:
        if isinstance(index, _m("tensor").Tensor):
            return index.data != 0
        return orig(index)

    return plain


mutant("index_tensor_read_as_mask", "op:getitem_tensor_index",
       "x[index_tensor] reads the (float) index tensor as a boolean mask",
       tensor___plain_index=_index_tensor_as_mask)


def _list_index_per_axis(orig: Any) -> Any:
    def plain(index: Any) -> Any:
        return orig(tuple(index) if isinstance(index, list) else index)

    return plain


mutant("list_index_read_per_axis", "op:getitem_list_index",
       "x[[i, j, k]] is read as x[i, j, k] (a list taken for one index per axis)",
       tensor___plain_index=_list_index_per_axis)

mutant("repr_hides_requires_grad", "tensor",
       "repr(t) leaves out requires_grad=True",
       **{"tensor.Tensor.__repr__": lambda orig: lambda self: orig(self).replace(
           ", requires_grad=True", "")})
