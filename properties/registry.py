"""The op registry, in the spirit of PyTorch's OpInfo: every op declared once.

An :class:`OpInfo` says how to call the op on the target (``call(tt, *tensors, **kwargs)``,
where ``tt`` is the :class:`~properties.target.Target`), which torch function is its oracle,
how to generate its inputs, and which inputs are differentiable. The generic properties in
:mod:`properties.checks` run over every entry; adding an op is adding one entry here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from oracles import attention as oatt
from oracles import nn as onn
from oracles import ops as oops
from oracles import spatial as ospatial
from properties import edges
from properties import samples as gen
from properties.strategies import DTYPES
from properties.target import MLP_PARAMS
from properties.tolerances import Tolerance, tolerance_for


@dataclass(frozen=True)
class OpInfo:
    name: str
    call: Callable[..., Any]
    oracle: Callable[..., Any]
    sample: gen.SampleFn
    differentiable: tuple[int, ...] | None = None  # indices into Sample.arrays; None = all
    dtypes: tuple[np.dtype, ...] = DTYPES
    tolerances: dict[np.dtype, Tolerance] | None = None  # per-dtype override, with a reason
    family: str = "tensor"
    # What torch does where the derivative is not unique (a kink, a tie): the gradient the
    # target must give there. Stated for every entry whose samples sit on such points.
    convention: str = ""
    # Generic properties that do not apply to this entry, with the reason (OpInfo's skips).
    skips: dict[str, str] = field(default_factory=dict)
    # Ill-conditioned in float32 (normalising a row by its spread): a float32 result is also
    # allowed SLACK_FACTOR x the error torch's own float32 run makes on the same sample, and
    # its gradients' rtol applies to the call's largest gradient (checks.check_vjp).
    float32_slack: bool = False

    def __post_init__(self) -> None:
        # one strategy object per dtype, built once: a fresh one per example is validated
        # again by Hypothesis on its first draw
        object.__setattr__(self, "sample", cache(self.sample))

    def applies(self, prop: str) -> bool:
        return prop not in self.skips

    def wrt(self, n_arrays: int) -> tuple[int, ...]:
        return tuple(range(n_arrays)) if self.differentiable is None else self.differentiable

    def tolerance(self, dtype: np.dtype) -> Tolerance:
        if self.tolerances and np.dtype(dtype) in self.tolerances:
            return self.tolerances[np.dtype(dtype)]
        return tolerance_for(dtype)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"op_named({self.name!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # what a falsifying example prints for the ``op`` argument: the entry by name, not its
        # dozen fields (Hypothesis's printer would spell out a dataclass field by field)
        printer.text(repr(self))


def _add_array(tt: Any, a: Any, b: Any) -> Any:
    """``a + ndarray``; the operands mix float32 with float64, so a float32-only target skips."""
    tt.require_dtype(np.float64)
    return a + tt.array(b)


def _conv2d(tt: Any, x: Any, w: Any, b: Any = None, **geometry: Any) -> Any:
    """``Conv2d(in, out, kernel, stride=, padding=, dilation=, bias=)`` holding ``w`` and ``b``;
    arguments equal to the declared defaults are left out (so upstream's signature, which has
    no ``dilation``, is called as it is written)."""
    out_channels, in_channels, *kernel = tt.array(w).shape
    layer = tt.shortest("Conv2d", in_channels, out_channels, tuple(kernel), bias=b is not None,
                        **geometry)
    return tt.with_params(layer, weight=w, bias=b)(x)


def _batch_norm2d(tt: Any, x: Any, w: Any, b: Any, *, training: bool, running_mean: Any,
                  running_var: Any, **config: Any) -> Any:
    """``BatchNorm2d(C, eps=, momentum=)`` holding ``w``, ``b`` and the running statistics,
    called in training or evaluation mode."""
    layer = tt.with_params(tt.shortest("BatchNorm2d", tt.array(w).shape[0], **config),
                           weight=w, bias=b)
    tt.set_running_stats(layer, running_mean, running_var)
    return tt.call_layer(layer, x, training=training)


def _layer_norm(tt: Any, x: Any, w: Any, b: Any, eps: float) -> Any:
    layer = tt.shortest("LayerNorm", tuple(tt.array(w).shape), eps=eps)
    return tt.with_params(layer, weight=w, bias=b)(x)


def _embedding(tt: Any, w: Any, ids: np.ndarray) -> Any:
    """``Embedding(vocab, dim)`` holding ``w``, called on a Tensor of the ids (upstream's
    Tensors are float32, so ids arrive as integral floats)."""
    layer = tt.make("Embedding", *tt.array(w).shape)
    return tt.with_params(layer, weight=w)(tt.tensor(ids))


def _attention(pick: int) -> Callable[..., Any]:
    """``scaled_dot_product_attention(Q, K, V, mask)``'s output (0) or weights (1), the mask
    in the target's convention."""

    def call(tt: Any, q: Any, k: Any, v: Any, allowed: np.ndarray | None = None) -> Any:
        return tt.attend(q, k, v, allowed)[pick]

    return call


def _multi_head_attention(tt: Any, x: Any, *params: Any, num_heads: int,
                          allowed: np.ndarray | None = None) -> Any:
    return tt.multi_head_attention(x, params, num_heads, allowed)


def _mlp(tt: Any, x: Any, *params: Any) -> Any:
    embed, hidden = tt.array(params[0]).shape
    return tt.load(tt.make("MLP", embed, hidden), dict(zip(MLP_PARAMS, params)))(x)


def _positional_encoding(tt: Any, x: Any, table: Any) -> Any:
    layer = tt.make("PositionalEncoding", *tt.array(table).shape)
    return tt.with_params(layer, position_embeddings=table)(x)


def _module(name: str) -> Callable[..., Any]:
    """A parameterless layer built from the sample's keyword arguments, then called."""

    def call(tt: Any, x: Any, **config: Any) -> Any:
        return tt.shortest(name, **config)(x)

    return call


def _transpose(tt: Any, x: Any, dims: tuple[int, int] | None) -> Any:
    return x.transpose() if dims is None else x.transpose(*dims)


def _linear(tt: Any, x: Any, w: Any, b: Any = None) -> Any:
    layer = tt.make("Linear", *w.shape, bias=b is not None)
    return tt.with_params(layer, weight=w, bias=b)(x)


def _kernel(name: str) -> Callable[..., Any]:
    """An acceleration kernel called as upstream declares it, on the target's tensors."""

    def call(tt: Any, *tensors: Any, **kwargs: Any) -> Any:
        return tt.need(name)(*tensors, **kwargs)

    return call


def _loss(cls_name: str, targets_as: Callable[[Any], Any] | None = None) -> Callable[..., Any]:
    """Call a loss the upstream way, ``Class(**config)(pred, targets)``. A sample without
    ``reduction`` leaves the class's default (torch's is 'mean'); ``targets_as`` hands the
    targets over in a plain form (a list, a NumPy array of another dtype), not as a Tensor."""

    def call(tt: Any, pred: Any, *rest: Any, targets: Any = None, **config: Any) -> Any:
        if targets_as is None:
            given = rest[0] if rest else tt.tensor(targets)
        else:
            given = targets_as(tt.array(rest[0]) if rest else np.asarray(targets))
        return tt.make(cls_name, **config)(pred, given)

    return call


# Why properties are skipped on the edge entries below. The engine's laws (accumulation,
# no_grad, requires_grad, which tensors hold .grad) do not depend on where the inputs sit: the
# smooth entry of the same op carries them, and examples are spent on the values instead.
ENGINE = {"autograd_laws": "the engine's laws do not depend on the values: the smooth entry "
                           "of this op carries them"}
AT_KINK = {"finite_differences": "central differences average the one-sided slopes at a kink",
           **ENGINE}
NEAR_EDGE = {"finite_differences": "the step (1e-6) is as large as the distance to the pole "
                                   "or domain edge", **ENGINE}
AT_EXTREME = {"finite_differences": "at logits of 1e4 a step of 1e-6 is below the rounding "
                                    "of the objective", **ENGINE}
CALL_FORM = {prop: "a call form: forward and backward against torch say whether it works; "
                   "the entry of the usual form carries the other laws"
             for prop in ("finite_differences", "autograd_laws")}
NAN_ANSWER = {"finite_differences": "the value is NaN (a mean of nothing), as torch's",
              "fp_exceptions": "torch's answer is 0 / 0 = NaN"}
FORWARD_ONLY = {prop: "an inference kernel (acceleration): it returns a Tensor outside the "
                     "graph, as upstream's; its forward is what must equal torch"
                for prop in ("backward", "finite_differences", "autograd_laws")}
TIES_SHARE = "tied extremes share the gradient evenly (torch.amax/amin, and max() without dim)"


def _forward_dim(cls_name: str) -> Callable[..., Any]:
    """``Softmax().forward(x, dim=...)``: the dim given at the call, not the constructor."""

    def call(tt: Any, x: Any, dim: int) -> Any:
        module = tt.make(cls_name)
        if not tt.takes(module.forward, "dim"):
            raise tt.lacking(f"core.activations.{cls_name}.forward(x, dim=...)")
        return module.forward(x, dim=dim)

    return call


def _activation(cls_name: str) -> Callable[..., Any]:
    """Call an activation the upstream way: ``Class(**config)(x)``."""

    def call(tt: Any, x: Any, **kwargs: Any) -> Any:
        return tt.make(cls_name, **kwargs)(x)

    return call


OPS: tuple[OpInfo, ...] = (
    # --- arithmetic, broadcasting
    OpInfo("add", lambda tt, a, b: a + b, oops.add, gen.binary()),
    OpInfo("sub", lambda tt, a, b: a - b, oops.sub, gen.binary()),
    OpInfo("mul", lambda tt, a, b: a * b, oops.mul, gen.binary()),
    OpInfo("div", lambda tt, a, b: a / b, oops.div, gen.binary(-3, 3, b_kinks=[0.0])),
    OpInfo("radd", lambda tt, a, scalar: scalar + a, oops.radd, gen.scalar_left()),
    OpInfo("rsub", lambda tt, a, scalar: scalar - a, oops.rsub, gen.scalar_left()),
    OpInfo("rmul", lambda tt, a, scalar: scalar * a, oops.rmul, gen.scalar_left()),
    OpInfo("rdiv", lambda tt, a, scalar: scalar / a, oops.rdiv, gen.scalar_left(kinks=[0.0])),
    OpInfo("neg", lambda tt, a: -a, oops.neg, gen.unary()),
    OpInfo("pow", lambda tt, a, exponent: a**exponent, oops.pow, gen.power()),
    OpInfo("matmul", lambda tt, a, b: a @ b, oops.matmul, gen.matmul()),
    # --- reductions
    OpInfo("sum", lambda tt, x, **kw: x.sum(**kw), oops.sum, gen.reduction()),
    OpInfo("mean", lambda tt, x, **kw: x.mean(**kw), oops.mean, gen.reduction()),
    OpInfo("max", lambda tt, x, **kw: x.max(**kw), oops.max, gen.reduction(distinct=True)),
    OpInfo("min", lambda tt, x, **kw: x.min(**kw), oops.min, gen.reduction(distinct=True)),
    # --- shape and indexing
    OpInfo("reshape", lambda tt, x, shape: x.reshape(shape), oops.reshape, gen.reshape()),
    OpInfo("view", lambda tt, x, shape: x.view(*shape), oops.reshape, gen.reshape()),
    OpInfo("transpose", _transpose, oops.transpose, gen.transpose()),
    OpInfo("permute", lambda tt, x, axes: x.permute(*axes), oops.permute, gen.permute()),
    OpInfo("getitem", lambda tt, x, index: x[index], oops.getitem, gen.getitem()),
    OpInfo("getitem_repeats", lambda tt, x, index: x[index], oops.getitem,
           gen.getitem(repeats=True)),
    OpInfo("concatenate", lambda tt, *xs, axis: (tt.concatenate(list(xs)) if axis == 0
                                                 else tt.concatenate(list(xs), axis)),
           oops.concatenate, gen.joined(stack=False)),
    OpInfo("stack", lambda tt, *xs, axis: (tt.stack(list(xs)) if axis == 0  # the default
                                           else tt.stack(list(xs), axis)),
           oops.stack, gen.joined(stack=True)),
    # --- elementwise math
    OpInfo("exp", lambda tt, x: x.exp(), oops.exp, gen.unary()),
    OpInfo("log", lambda tt, x: x.log(), oops.log, gen.unary(0.1, 5.0)),
    OpInfo("sqrt", lambda tt, x: x.sqrt(), oops.sqrt, gen.unary(0.1, 5.0)),
    OpInfo("abs", lambda tt, x: x.abs(), oops.abs, gen.unary(kinks=[0.0])),
    OpInfo("clip", lambda tt, x, low, high: x.clip(low, high), oops.clip, gen.clip()),
    OpInfo("where", lambda tt, a, b, condition: tt.where(condition, a, b),
           oops.where, gen.where()),
    OpInfo("maximum", lambda tt, a, b: tt.maximum(a, b), oops.maximum,
           gen.maximum()),
    # --- activations
    OpInfo("relu", _activation("ReLU"), onn.relu, gen.unary(kinks=[0.0]), family="activation"),
    OpInfo("leaky_relu", _activation("LeakyReLU"), onn.leaky_relu,
           gen.unary(kinks=[0.0], negative_slope=gen.st.sampled_from([0.01, 0.2])),
           family="activation"),
    OpInfo("sigmoid", _activation("Sigmoid"), onn.sigmoid, gen.unary(-8, 8), family="activation"),
    OpInfo("sigmoid_extreme", _activation("Sigmoid"), onn.sigmoid, gen.unary(-200, 200),
           family="activation"),
    OpInfo("tanh", _activation("Tanh"), onn.tanh, gen.unary(-5, 5), family="activation"),
    OpInfo("gelu", _activation("GELU"), onn.gelu,
           gen.unary(-4, 4, approximate=gen.st.just("none")), family="activation"),
    OpInfo("gelu_tanh", _activation("GELU"), onn.gelu,
           gen.unary(-4, 4, approximate=gen.st.just("tanh")), family="activation"),
    OpInfo("softmax", lambda tt, x, dim: tt.softmax(x, dim), onn.softmax,
           gen.along_dim(), family="activation"),
    OpInfo("log_softmax", lambda tt, x, dim: tt.softmax(x, dim, log=True),
           onn.log_softmax, gen.along_dim(), family="activation"),
    # --- layers (parameters are inputs: their gradients are checked like any other)
    OpInfo("linear", _linear, onn.linear, gen.linear(), family="layer"),
    OpInfo("linear_no_bias", _linear, onn.linear, gen.linear(bias=False), family="layer"),
    OpInfo("dropout_eval", lambda tt, x, p: tt.call_layer(tt.Dropout(p), x, training=False),
           onn.dropout_eval,
           gen.unary(p=gen.st.sampled_from([0.0, 0.5, 0.9])), family="layer"),
    # --- spatial (NCHW): windows, strides, paddings, dilations
    OpInfo("conv2d", _conv2d, ospatial.conv2d, gen.conv2d(), family="layer"),
    OpInfo("conv2d_no_bias", _conv2d, ospatial.conv2d, gen.conv2d(bias=False), family="layer"),
    OpInfo("max_pool2d", _module("MaxPool2d"), ospatial.max_pool2d, gen.pool2d(distinct=True),
           family="layer"),
    OpInfo("avg_pool2d", _module("AvgPool2d"), ospatial.avg_pool2d, gen.pool2d(),
           family="layer"),
    OpInfo("flatten", _module("Flatten"), ospatial.flatten, gen.flatten(), family="layer"),
    OpInfo("batch_norm2d_train", _batch_norm2d, ospatial.batch_norm2d,
           gen.batch_norm2d(training=True), family="layer", float32_slack=True,
           convention="training normalises by the batch's biased variance"),
    OpInfo("batch_norm2d_eval", _batch_norm2d, ospatial.batch_norm2d,
           gen.batch_norm2d(training=False), family="layer", skips=ENGINE,
           convention="evaluation normalises by the running statistics"),
    # --- text stack: normalisation and lookup tables
    OpInfo("layer_norm", _layer_norm, onn.layer_norm, gen.layer_norm(), family="layer",
           float32_slack=True),
    OpInfo("positional_encoding", _positional_encoding, oatt.add_positions, gen.positions(),
           family="layer", convention="learned positions: table row t added at position t"),
    OpInfo("attention", _attention(0), oatt.attention, gen.attention(), family="attention",
           convention="a blocked score gets weight 0 (and no gradient)"),
    OpInfo("attention_weights", _attention(1), oatt.attention_weights, gen.attention(),
           differentiable=(0, 1), family="attention", skips=ENGINE),
    OpInfo("multi_head_attention", _multi_head_attention, oatt.multi_head_attention,
           gen.multi_head_attention(), family="attention", float32_slack=True, skips=ENGINE),
    OpInfo("mlp", _mlp, oatt.mlp, gen.mlp(), family="attention", skips=ENGINE),
    # --- acceleration kernels (module 18): forward-only, against torch
    OpInfo("vectorized_matmul", _kernel("vectorized_matmul"), oops.matmul, gen.kernel_matmul(),
           family="kernel", skips=FORWARD_ONLY),
    OpInfo("tiled_matmul", _kernel("tiled_matmul"), oops.tiled_matmul,
           gen.kernel_matmul(tiled=True), family="kernel", skips=FORWARD_ONLY),
    OpInfo("fused_gelu", _kernel("fused_gelu"), functools.partial(onn.gelu, approximate="tanh"),
           gen.unary(-5.0, 5.0), family="kernel", skips=FORWARD_ONLY),
    # a whole TransformerBlock is a model: tests/test_models.py compares it with its twin
    # module by module (properties.models.check_block_matches_twin)
    OpInfo("embedding", _embedding, onn.embedding, gen.embedding(), family="layer",
           convention="repeated ids add their gradients into one row, as torch's"),
    # --- losses
    OpInfo("mse_loss", _loss("MSELoss"), onn.mse_loss,
           gen.elementwise_loss((-3, 3), (-3, 3)), family="loss"),
    OpInfo("cross_entropy", _loss("CrossEntropyLoss"), onn.cross_entropy, gen.classification(),
           family="loss"),
    OpInfo("binary_cross_entropy", _loss("BinaryCrossEntropyLoss"), onn.binary_cross_entropy,
           gen.elementwise_loss((0.02, 0.98), (0.0, 1.0)), differentiable=(0,), family="loss"),
    OpInfo("bce_with_logits", _loss("BCEWithLogitsLoss"), onn.binary_cross_entropy_with_logits,
           gen.elementwise_loss((-6, 6), (0.0, 1.0)), family="loss"),
    # Soft targets inside (0, 1): their gradient, log(1 - p) - log(p), is checked too, finite
    # differences included (a step from a target of exactly 0 or 1 leaves BCE's domain).
    OpInfo("bce_soft_targets", _loss("BinaryCrossEntropyLoss"), onn.binary_cross_entropy,
           gen.elementwise_loss((0.02, 0.98), (0.05, 0.95)), family="loss", skips=ENGINE),
    # --- exactly on kinks and ties (the smooth entries above avoid them by construction)
    OpInfo("relu_at_kink", _activation("ReLU"), onn.relu, edges.on_kinks([0.0]),
           family="activation", convention="relu'(0) = 0", skips=AT_KINK),
    OpInfo("leaky_relu_at_kink", _activation("LeakyReLU"), onn.leaky_relu,
           edges.on_kinks([0.0], negative_slope=gen.st.sampled_from([0.01, 0.2])),
           family="activation", skips=AT_KINK,
           convention="the slope at 0 is negative_slope (torch: x > 0 ? 1 : slope)"),
    OpInfo("abs_at_kink", lambda tt, x: x.abs(), oops.abs, edges.on_kinks([0.0]),
           convention="abs'(0) = sign(0) = 0", skips=AT_KINK),
    OpInfo("clip_at_bounds", lambda tt, x, low, high: x.clip(low, high), oops.clip,
           edges.clip_at_bounds(), skips=AT_KINK,
           convention="the gradient passes at the bounds themselves (min <= x <= max)"),
    OpInfo("max_ties", lambda tt, x, **kw: x.max(**kw), oops.max, edges.reduction_ties(),
           convention=TIES_SHARE, skips=AT_KINK),
    OpInfo("min_ties", lambda tt, x, **kw: x.min(**kw), oops.min, edges.reduction_ties(),
           convention=TIES_SHARE, skips=AT_KINK),
    OpInfo("maximum_ties", lambda tt, a, b: tt.maximum(a, b), oops.maximum,
           edges.maximum_ties(), skips=AT_KINK,
           convention="where a == b each operand gets half the gradient (torch.maximum)"),
    # --- whole domains: negative bases, poles and domain edges
    OpInfo("pow_negative_base", lambda tt, a, exponent: a**exponent, oops.pow,
           edges.pow_negative_base(), convention="x ** 0 has gradient 0, at x = 0 too",
           skips=ENGINE),
    OpInfo("pow_tensor_exponent", lambda tt, a, b: a**b, oops.pow_tensor,
           edges.pow_tensor_exponent(), skips=ENGINE),
    OpInfo("pow_tensor_zero_base", lambda tt, a, b: a**b, oops.pow_tensor,
           edges.pow_tensor_zero_base(), skips=NEAR_EDGE,
           convention="at a == 0: d/da = 0 where b == 0, d/db = 0 where b >= 0"),
    OpInfo("div_near_zero", lambda tt, a, b: a / b, oops.div, edges.divide_near_zero(),
           skips=NEAR_EDGE),
    OpInfo("sqrt_near_edge", lambda tt, x: x.sqrt(), oops.sqrt,
           edges.near_zero(-8, -2, signed=False), skips=NEAR_EDGE),
    OpInfo("log_near_edge", lambda tt, x: x.log(), oops.log,
           edges.near_zero(-8, -2, signed=False), skips=NEAR_EDGE),
    # --- extremes: scales where a naive formula overflows or cancels
    OpInfo("softmax_wild_rows", lambda tt, x, dim: tt.softmax(x, dim), onn.softmax,
           edges.wild_rows(), family="activation", skips=AT_EXTREME),
    OpInfo("log_softmax_wild_rows", lambda tt, x, dim: tt.softmax(x, dim, log=True),
           onn.log_softmax, edges.wild_rows(), family="activation", skips=AT_EXTREME),
    OpInfo("cross_entropy_extreme", _loss("CrossEntropyLoss"), onn.cross_entropy,
           edges.classification_extreme(), family="loss", skips=AT_EXTREME),
    OpInfo("bce_at_edges", _loss("BinaryCrossEntropyLoss"), onn.binary_cross_entropy,
           edges.bce_at_edges(), differentiable=(0,), family="loss", skips=NEAR_EDGE),
    OpInfo("sigmoid_huge", _activation("Sigmoid"), onn.sigmoid, gen.unary(-1e3, 1e3),
           family="activation", skips=ENGINE),
    OpInfo("tanh_huge", _activation("Tanh"), onn.tanh, gen.unary(-1e3, 1e3),
           family="activation", skips=ENGINE),
    # --- every public call form: defaults, the forms of Softmax, plain targets
    OpInfo("leaky_relu_default", _activation("LeakyReLU"), onn.leaky_relu,
           gen.unary(kinks=[0.0]), family="activation",
           convention="LeakyReLU() has torch's default slope, 0.01", skips=CALL_FORM),
    OpInfo("gelu_default", _activation("GELU"), onn.gelu, gen.unary(-4, 4), family="activation",
           convention="GELU() is the exact (erf) form, torch's default", skips=CALL_FORM),
    OpInfo("gelu_function_default", lambda tt, x: tt.gelu(x), onn.gelu, gen.unary(-4, 4),
           family="activation", convention="gelu(x) is the exact (erf) form, torch's default",
           skips=CALL_FORM),
    OpInfo("softmax_forward_dim", _forward_dim("Softmax"), onn.softmax, gen.along_dim(),
           family="activation", skips=CALL_FORM),
    OpInfo("softmax_module_dim", lambda tt, x, dim: tt.make("Softmax", dim=dim)(x), onn.softmax,
           gen.along_dim(), family="activation", skips=CALL_FORM),
    OpInfo("log_softmax_forward_dim", _forward_dim("LogSoftmax"), onn.log_softmax,
           gen.along_dim(), family="activation", skips=CALL_FORM),
    OpInfo("log_softmax_module_dim", lambda tt, x, dim: tt.make("LogSoftmax", dim=dim)(x),
           onn.log_softmax, gen.along_dim(), family="activation", skips=CALL_FORM),
    OpInfo("permute_tuple", lambda tt, x, axes: x.permute(axes), oops.permute, gen.permute(),
           convention="permute((1, 0)) is permute(1, 0), as in torch", skips=CALL_FORM),
    OpInfo("where_mask_tensor", lambda tt, a, b, condition: tt.where(
           tt.tensor(condition.astype(tt.array(a).dtype)), a, b), oops.where, gen.where(),
           convention="a float 0/1 mask Tensor as the condition: nonzero selects a",
           skips=CALL_FORM),
    OpInfo("mse_loss_default", _loss("MSELoss"), onn.mse_loss,
           gen.without(gen.elementwise_loss((-3, 3), (-3, 3)), "reduction"), family="loss",
           convention="reduction defaults to 'mean', as in torch", skips=CALL_FORM),
    OpInfo("cross_entropy_default", _loss("CrossEntropyLoss"), onn.cross_entropy,
           gen.without(gen.classification(), "reduction"), family="loss", skips=CALL_FORM),
    OpInfo("cross_entropy_list_targets", _loss("CrossEntropyLoss", targets_as=list),
           onn.cross_entropy, gen.classification(), family="loss", skips=CALL_FORM),
    OpInfo("cross_entropy_int32_targets",
           _loss("CrossEntropyLoss", targets_as=lambda t: t.astype(np.int32)),
           onn.cross_entropy, gen.classification(), family="loss", skips=CALL_FORM),
    OpInfo("mse_loss_list_targets", _loss("MSELoss", targets_as=lambda t: t.tolist()),
           onn.mse_loss, gen.elementwise_loss((-3, 3), (-3, 3)), differentiable=(0,),
           family="loss", skips=CALL_FORM,
           convention="targets as a list of floats take the predictions' dtype (torch: the "
                      "default dtype, float32, so a float32 loss)"),
    OpInfo("mse_loss_int_array_targets",
           _loss("MSELoss", targets_as=lambda t: t.astype(np.int64)), onn.mse_loss,
           gen.integer_targets(), differentiable=(0,), family="loss", skips=CALL_FORM),
    OpInfo("getitem_list_index", lambda tt, x, index: x[index.tolist()], oops.getitem,
           gen.getitem(repeats=True), skips=CALL_FORM),
    OpInfo("getitem_tensor_index", lambda tt, x, index: x[tt.tensor(index.astype(np.float32))],
           oops.getitem, gen.getitem(repeats=True), skips=CALL_FORM,
           convention="an index Tensor holds floats (upstream's Tensors are float32): its "
                      "integral values index as integers"),
    OpInfo("add_array_other_dtype", _add_array, oops.add, gen.other_dtype_operand(),
           differentiable=(0,), skips=CALL_FORM,
           convention="x + ndarray: the array keeps its dtype, so float32 + float64 is float64"),
    OpInfo("where_number", lambda tt, a, condition, number, number_first: (
               tt.where(condition, number, a) if number_first else tt.where(condition, a, number)),
           oops.where_number, gen.where_number(), skips=CALL_FORM),
    OpInfo("maximum_number", lambda tt, x, number, number_first: (
               tt.maximum(number, x) if number_first else tt.maximum(x, number)),
           oops.maximum_number,
           gen.unary(kinks=[0.0], number=gen.st.just(0.0), number_first=gen.st.booleans()),
           skips=CALL_FORM,
           convention="maximum(x, 0.0) is ReLU written with maximum; x is drawn off 0"),
    OpInfo("rmatmul", lambda tt, a, b: tt.array(a) @ b, oops.matmul, gen.matmul(),
           differentiable=(1,), convention="ndarray @ Tensor is Tensor.__rmatmul__",
           skips=CALL_FORM),
    # --- empty tensors, where torch defines the result
    OpInfo("sum_empty", lambda tt, x, **kw: x.sum(**kw), oops.sum, edges.reduction_over_empty()),
    OpInfo("mean_empty", lambda tt, x, **kw: x.mean(**kw), oops.mean,
           edges.reduction_over_empty(), skips=NAN_ANSWER),
    OpInfo("matmul_empty_inner", lambda tt, a, b: a @ b, oops.matmul, edges.matmul_empty_inner()),
    OpInfo("linear_empty_batch", _linear, onn.linear, edges.linear_empty_batch(),
           family="layer"),
    OpInfo("mse_loss_empty_batch", _loss("MSELoss"), onn.mse_loss, edges.loss_empty_batch(),
           family="loss", skips=NAN_ANSWER),
)

BY_NAME: dict[str, OpInfo] = {op.name: op for op in OPS}
assert len(BY_NAME) == len(OPS), "duplicate op names in the registry"


def op_named(name: str) -> OpInfo:
    return BY_NAME[name]
